//! An in-memory [`LogSource`]: a `Vec` of entries and a broadcast feed of new ones.
//!
//! Its watches are gap-free the same way the embedded backend's are: subscribe to the feed and
//! copy the backlog under one lock, then follow the feed, skipping what the backlog covered; a
//! watch that lags behind the feed re-reads the log. Entries outside a watch's prefix become
//! progress items, as a busy server's other resources would.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use futures::future::{self, BoxFuture};
use futures::stream::{self, StreamExt};
use serde_json::Value;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{EntryKind, LogEntry, LogSource, SourceError, SourceItem, SourceStream, StoredObject};

#[derive(Debug, Clone)]
enum Msg {
    Entry(LogEntry),
    /// Ends every open watch with this error.
    Fail(SourceError),
}

#[derive(Debug, Default)]
struct Inner {
    log: Vec<LogEntry>,
    state: BTreeMap<Arc<str>, StoredObject>,
    revision: i64,
    compacted: i64,
}

#[derive(Debug)]
pub(crate) struct FakeLog {
    inner: Arc<Mutex<Inner>>,
    feed: broadcast::Sender<Msg>,
}

impl FakeLog {
    pub(crate) fn new() -> Arc<FakeLog> {
        let (feed, _) = broadcast::channel(256);
        Arc::new(FakeLog { inner: Arc::default(), feed })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates or updates `key`; returns the entry's revision.
    pub(crate) fn put(&self, key: &str, value: Value) -> i64 {
        self.put_bytes(key, Bytes::from(value.to_string()))
    }

    pub(crate) fn put_bytes(&self, key: &str, value: Bytes) -> i64 {
        let mut inner = self.lock();
        inner.revision += 1;
        let revision = inner.revision;
        let key: Arc<str> = key.into();
        let prev = inner.state.get(&key).cloned();
        let create_revision = prev.as_ref().map_or(revision, |p| p.create_revision);
        let stored = StoredObject {
            key: key.clone(),
            value: value.clone(),
            create_revision,
            mod_revision: revision,
        };
        inner.state.insert(key.clone(), stored);
        let kind = if prev.is_some() { EntryKind::Updated } else { EntryKind::Created };
        let entry = LogEntry {
            revision,
            key,
            kind,
            value: Some(value),
            prev_value: prev.map(|p| p.value),
            create_revision,
        };
        self.append(&mut inner, entry);
        revision
    }

    /// Deletes `key`; returns the entry's revision, or `None` if it did not exist.
    pub(crate) fn delete(&self, key: &str) -> Option<i64> {
        let mut inner = self.lock();
        let prev = inner.state.remove(key)?;
        inner.revision += 1;
        let revision = inner.revision;
        let entry = LogEntry {
            revision,
            key: prev.key,
            kind: EntryKind::Deleted,
            value: None,
            prev_value: Some(prev.value),
            create_revision: prev.create_revision,
        };
        self.append(&mut inner, entry);
        Some(revision)
    }

    fn append(&self, inner: &mut Inner, entry: LogEntry) {
        inner.log.push(entry.clone());
        let _ = self.feed.send(Msg::Entry(entry));
    }

    /// Ends every open watch with `error`.
    pub(crate) fn fail_watches(&self, error: SourceError) {
        let _inner = self.lock();
        let _ = self.feed.send(Msg::Fail(error));
    }

    /// Drops history before `revision`: watches and lists from before it fail with `Compacted`.
    pub(crate) fn compact(&self, revision: i64) {
        self.lock().compacted = revision;
    }

    pub(crate) fn revision(&self) -> i64 {
        self.lock().revision
    }

    pub(crate) fn entries(&self) -> Vec<LogEntry> {
        self.lock().log.clone()
    }

    /// The decoded objects under `prefix` at `revision`, rebuilt from the log.
    pub(crate) fn state_at(&self, prefix: &str, revision: i64) -> BTreeMap<String, Value> {
        let inner = self.lock();
        state_at(&inner.log, prefix, revision)
            .into_iter()
            .map(|(k, o)| (k.to_string(), decode(&o.value)))
            .collect()
    }
}

fn state_at(log: &[LogEntry], prefix: &str, revision: i64) -> BTreeMap<Arc<str>, StoredObject> {
    let mut state = BTreeMap::new();
    for entry in log.iter().take_while(|e| e.revision <= revision) {
        if !entry.key.starts_with(prefix) {
            continue;
        }
        match &entry.value {
            Some(value) => {
                let stored = StoredObject {
                    key: entry.key.clone(),
                    value: value.clone(),
                    create_revision: entry.create_revision,
                    mod_revision: entry.revision,
                };
                state.insert(entry.key.clone(), stored);
            }
            None => {
                state.remove(&entry.key);
            }
        }
    }
    state
}

pub(crate) fn decode(value: &[u8]) -> Value {
    serde_json::from_slice(value).unwrap_or(Value::Null)
}

impl LogSource for FakeLog {
    fn current_revision(&self) -> BoxFuture<'_, Result<i64, SourceError>> {
        Box::pin(future::ready(Ok(self.revision())))
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        at: Option<i64>,
    ) -> BoxFuture<'a, Result<(Vec<StoredObject>, i64), SourceError>> {
        let inner = self.lock();
        let revision = at.unwrap_or(inner.revision);
        let result = if revision < inner.compacted {
            Err(SourceError::Compacted { requested: revision, oldest: inner.compacted })
        } else {
            let objects = state_at(&inner.log, prefix, revision).into_values().collect();
            Ok((objects, revision))
        };
        Box::pin(future::ready(result))
    }

    fn watch(&self, prefix: &str, after: i64) -> SourceStream {
        let inner = self.lock();
        if after < inner.compacted {
            let error = SourceError::Compacted { requested: after, oldest: inner.compacted };
            return stream::iter([Err(error)]).boxed();
        }
        let mut watch = FakeWatch {
            log: self.inner.clone(),
            feed: self.feed.subscribe(),
            prefix: prefix.into(),
            last: after,
            pending: VecDeque::new(),
            done: false,
        };
        watch.backfill(&inner.log);
        drop(inner);
        stream::unfold(watch, FakeWatch::next).boxed()
    }
}

struct FakeWatch {
    log: Arc<Mutex<Inner>>,
    feed: broadcast::Receiver<Msg>,
    prefix: String,
    last: i64,
    pending: VecDeque<Result<SourceItem, SourceError>>,
    done: bool,
}

impl FakeWatch {
    /// Queues the log's entries after `last`.
    fn backfill(&mut self, log: &[LogEntry]) {
        let first = log.partition_point(|e| e.revision <= self.last);
        for entry in &log[first..] {
            self.accept(entry.clone());
        }
    }

    fn accept(&mut self, entry: LogEntry) {
        if entry.revision <= self.last {
            return;
        }
        self.last = entry.revision;
        let item = if entry.key.starts_with(&self.prefix) {
            SourceItem::Entry(entry)
        } else {
            SourceItem::Progress(entry.revision)
        };
        self.pending.push_back(Ok(item));
    }

    async fn next(mut self) -> Option<(Result<SourceItem, SourceError>, FakeWatch)> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some((item, self));
            }
            if self.done {
                return None;
            }
            match self.feed.recv().await {
                Ok(Msg::Entry(entry)) => self.accept(entry),
                Ok(Msg::Fail(error)) => {
                    self.done = true;
                    self.pending.push_back(Err(error));
                }
                Err(RecvError::Lagged(_)) => {
                    let log = self.log.clone();
                    let inner = log.lock().unwrap_or_else(PoisonError::into_inner);
                    self.backfill(&inner.log);
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
