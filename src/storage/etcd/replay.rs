//! Replay of a prefix between two revisions: one etcd watch of the prefix's range from `from`,
//! closed after the last event at or before `to`; previous values come from the replay's own
//! earlier events where it has them ([`Previous`]), not from etcd per event.
//!
//! A watch never ends by itself, and etcd 3.4 sends a requested progress notification before
//! the history a new watch still has to catch up on, so "nothing more before `to`" is learned
//! up front instead: the last event under the prefix at or before `to` is the newest
//! `mod_revision` among the prefix's keys as they were at `to` (every put since is in one of
//! them) and among their delete tombstones at `to` (every delete by kube-ledger is). Two range
//! reads, sorted by etcd, then the watch stops at that revision. A delete made by something
//! other than kube-ledger leaves no tombstone, so one after the prefix's last other event is not
//! replayed; a delete at exactly the compacted revision is not either (etcd drops it, see
//! `history`).
//!
//! Data flows up from the etcd watch, one response (at most 1000 revisions) at a time as the
//! consumer pulls: gRPC flow control holds etcd back meanwhile, so memory stays bounded however
//! long the range. Dropping the stream drops the watch, and etcd cancels it.

use std::collections::VecDeque;

use etcd_client::{GetOptions, SortOrder, SortTarget, WatchOptions};
use futures::StreamExt;
use futures::future::try_join_all;

use super::EtcdStorage;
use super::errors::Kind;
use super::previous::Previous;
use crate::storage::{Event, EventStream, Result, Revision, StorageError, validate_prefix};

impl EtcdStorage {
    pub(super) async fn replay_prefix(
        &self,
        prefix: &str,
        from: Revision,
        to: Revision,
    ) -> Result<EventStream> {
        validate_prefix(prefix)?;
        let head = self.head_revision().await?;
        if to > head {
            return Err(StorageError::FutureRevision { requested: to, current: head });
        }
        let from = from.max(1);
        let recorded = self.recorded_compaction().await?;
        if from < recorded {
            return Err(StorageError::Compacted { requested: from, compacted: recorded });
        }
        if from > to {
            return Ok(futures::stream::empty().boxed());
        }
        // Also refuses a range that etcd compacted without kube-ledger recording it.
        self.check_readable(from).await?;
        let last = self.last_event_under(prefix, to).await?;
        if last < from {
            return Ok(futures::stream::empty().boxed());
        }
        let (start, end) = self.layout.data_range(prefix);
        let options = WatchOptions::new().with_range(end).with_start_revision(from);
        let stream = self.open_watch(start, options).await?;
        let replay = Replay {
            storage: self.clone(),
            stream,
            last,
            previous: Previous::default(),
            pending: VecDeque::new(),
            done: false,
        };
        // Fused: a consumer may poll again after the end (an unfold would panic).
        Ok(futures::stream::unfold(replay, |mut r| async move { r.next().await.map(|i| (i, r)) })
            .fuse()
            .boxed())
    }

    /// Fails with `Compacted` unless the state at `revision` is still readable.
    async fn check_readable(&self, revision: Revision) -> Result<()> {
        let options = GetOptions::new().with_count_only().with_revision(revision);
        match self.range("replay", &self.layout.compacted_key(), options).await? {
            Ok(_) => Ok(()),
            Err(err) => Err(self.read_error(err, revision).await),
        }
    }

    /// The revision of the last event under `prefix` at or before `to` (0 when there is none):
    /// the newest `mod_revision` among the prefix's keys and its tombstones as they were at `to`.
    async fn last_event_under(&self, prefix: &str, to: Revision) -> Result<Revision> {
        let (data, data_end) = self.layout.data_range(prefix);
        let (tombstones, tombstones_end) = self.layout.tombstone_prefix_range(prefix);
        let newest = |end: String| {
            GetOptions::new()
                .with_range(end)
                .with_revision(to)
                .with_keys_only()
                .with_sort(SortTarget::Mod, SortOrder::Descend)
                .with_limit(1)
        };
        let (data, tombstones) = futures::try_join!(
            self.read("replay", to, &data, newest(data_end)),
            self.read("replay", to, &tombstones, newest(tombstones_end)),
        )?;
        let newest = |response: &etcd_client::GetResponse| {
            response.kvs().first().map_or(0, etcd_client::KeyValue::mod_revision)
        };
        Ok(newest(&data).max(newest(&tombstones)))
    }
}

/// The state of one replay stream.
struct Replay {
    storage: EtcdStorage,
    stream: etcd_client::WatchStream,
    /// The revision of the last event to hand out.
    last: Revision,
    /// The objects handed out so far, the previous values of later events.
    previous: Previous,
    /// Events decoded from etcd's last response and not handed out yet.
    pending: VecDeque<Result<Event>>,
    /// Set once `last` is pending, or the stream failed: what is pending is all that is left.
    done: bool,
}

impl Replay {
    async fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            // etcd sends stored history without pause, so silence means trouble.
            let message = self.storage.within("replay", Kind::Read, self.stream.message()).await;
            match message {
                Ok(Some(response)) if response.compact_revision() > 0 => {
                    self.fail(StorageError::Compacted {
                        requested: self.last,
                        compacted: response.compact_revision(),
                    });
                }
                Ok(Some(response)) if response.canceled() => {
                    self.fail(StorageError::Unavailable(format!(
                        "etcd canceled the watch: {}",
                        response.cancel_reason()
                    )));
                }
                Ok(Some(response)) => match self.decode(&response).await {
                    Ok(events) => {
                        for event in events {
                            if event.revision > self.last {
                                self.done = true;
                                break;
                            }
                            self.done = event.revision == self.last;
                            self.pending.push_back(Ok(event));
                        }
                    }
                    Err(err) => self.fail(err),
                },
                Ok(None) => {
                    self.fail(StorageError::Unavailable("etcd closed the watch".to_owned()))
                }
                Err(err) => self.fail(err),
            }
        }
    }

    /// A response's events with their previous values.
    async fn decode(&mut self, response: &etcd_client::WatchResponse) -> Result<Vec<Event>> {
        let storage = &self.storage;
        let mut events = try_join_all(response.events().iter().map(|e| storage.event(e))).await?;
        self.previous.fill(storage, &mut events).await?;
        Ok(events)
    }

    fn fail(&mut self, err: StorageError) {
        self.pending.push_back(Err(err));
        self.done = true;
    }
}
