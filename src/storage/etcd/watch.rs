//! Watches: one etcd watch per contract watch, turned into [`WatchItem`]s.
//!
//! etcd delivers events of the prefix range from `after + 1` on, in revision order, each once.
//! The watch does not ask etcd for previous values (`prev_kv`): etcd would read each one with a
//! range of its own, one after another in the watch's send loop, for every update and delete of
//! the whole keyspace the views' feed follows — etcd CPU taken from the writes. The watch fills
//! them itself ([`Previous`]): from the key's last event this stream handed out, or, for the first
//! event of a key, with a read at `revision - 1` (concurrent within one response). Deletes leave
//! no value, so their provenance is read from the delete's tombstone at the delete's revision —
//! unless the consumer reads no provenance (`Storage::watch_changes`, the views' feed), which
//! spares etcd that read per delete too.
//! Periodic progress notifications (`progress_notify`, sent by etcd only once the watcher has
//! caught up) become [`WatchItem::Progress`].
//!
//! When etcd compacts history the watch still needs, the stream ends with `Compacted`; when the
//! connection breaks or etcd cancels the watch, with `Unavailable`. The consumer resumes from the
//! last revision it saw.
//!
//! The stream is a small state machine driven by `stream::unfold`: it owns the etcd watch, so
//! dropping the stream drops the gRPC stream, and etcd cancels the watch.

use std::collections::VecDeque;

use bytes::Bytes;
use etcd_client::{
    EventType as EtcdEventType, GetOptions, WatchClient, WatchOptions, WatchResponse,
};
use futures::StreamExt;
use futures::future::try_join_all;

use super::errors::{self, Kind, RevisionError};
use super::members::Clients;
use super::previous::Previous;
use super::{EtcdStorage, envelope};
use crate::storage::{
    Event, EventType, Provenance, Result, Revision, StorageError, WatchItem, WatchStream,
    validate_prefix,
};

impl EtcdStorage {
    pub(super) async fn watch_prefix(
        &self,
        prefix: &str,
        after: Revision,
        deletes: Deletes,
    ) -> Result<WatchStream> {
        validate_prefix(prefix)?;
        let after = after.max(0);
        self.check_watchable(after).await?;
        let (start, end) = self.layout.data_range(prefix);
        let options = WatchOptions::new()
            .with_range(end)
            .with_start_revision(after + 1)
            .with_progress_notify();
        let stream = self.open_watch(start, options).await?;
        let watcher = Watcher {
            storage: self.clone(),
            stream,
            previous: Previous::default(),
            deletes,
            pending: VecDeque::new(),
            last: after,
            done: false,
        };
        Ok(futures::stream::unfold(
            watcher,
            |mut w| async move { w.next().await.map(|item| (item, w)) },
        )
        .boxed())
    }

    /// Fails with `Compacted` unless the state at `after` is still readable. etcd itself would
    /// accept `after` one below its compacted revision, but it drops a delete at exactly the
    /// compacted revision, which such a watch would then silently miss. etcd would also only say
    /// so in the watch's second message, some time after creating it; a read fails at once.
    async fn check_watchable(&self, after: Revision) -> Result<()> {
        // Revision 0 is "before anything": watching after it needs revision 1 on.
        let at = after.max(1);
        let options = GetOptions::new().with_count_only().with_revision(at);
        match self.range("watch", &self.layout.compacted_key(), options).await? {
            Ok(_) => Ok(()),
            Err(err) => match errors::revision_error(&err) {
                Some(RevisionError::Compacted) => Err(self.compacted_error(after, at).await),
                // Nothing was written at `after` yet, so nothing after it is compacted.
                Some(RevisionError::Future) => Ok(()),
                None => Err(errors::map(err, Kind::Read)),
            },
        }
    }

    /// Opens an etcd watch and waits for etcd to confirm it, so that a watch that cannot be
    /// established fails here rather than in the stream.
    pub(super) async fn open_watch(
        &self,
        key: String,
        options: WatchOptions,
    ) -> Result<etcd_client::WatchStream> {
        Ok(self.open_watch_shared(key, options).await?.1)
    }

    /// [`EtcdStorage::open_watch`] on a connection of the watch's own (see
    /// [`Dial::watch_client`](super::members::Dial::watch_client) for why), kept open by the
    /// client returned with the watch.
    pub(super) async fn open_watch_alone(
        &self,
        key: String,
        options: WatchOptions,
    ) -> Result<(WatchClient, etcd_client::WatchStream)> {
        self.open_watch_on(key, options, Connection::Own).await
    }

    /// [`EtcdStorage::open_watch`], with the client it was opened on.
    pub(super) async fn open_watch_shared(
        &self,
        key: String,
        options: WatchOptions,
    ) -> Result<(WatchClient, etcd_client::WatchStream)> {
        self.open_watch_on(key, options, Connection::Shared).await
    }

    async fn open_watch_on(
        &self,
        key: String,
        options: WatchOptions,
        connection: Connection,
    ) -> Result<(WatchClient, etcd_client::WatchStream)> {
        let open = |clients: Clients| {
            let (key, options) = (key.clone(), options.clone());
            async move {
                let mut client = match connection {
                    Connection::Shared => clients.watch,
                    Connection::Own => clients.dial.watch_client().await?,
                };
                let mut stream = client.watch(key, Some(options)).await?;
                let created = stream.message().await?;
                Ok((client, stream, created))
            }
        };
        match self.request("watch", Kind::Read, open).await? {
            (client, stream, Some(created)) if created.created() && !created.canceled() => {
                Ok((client, stream))
            }
            (_, _, Some(refused)) => Err(StorageError::Internal(format!(
                "etcd refused the watch: {}",
                refused.cancel_reason()
            ))),
            (_, _, None) => Err(StorageError::Unavailable(
                "etcd closed the watch before confirming it".to_owned(),
            )),
        }
    }

    /// An etcd event of the data range as a contract event.
    pub(super) async fn event(&self, etcd_event: &etcd_client::Event) -> Result<Event> {
        self.event_as(etcd_event, Deletes::WithProvenance).await
    }

    /// An etcd event as a contract event, a delete's provenance read only if `deletes` says so.
    async fn event_as(&self, etcd_event: &etcd_client::Event, deletes: Deletes) -> Result<Event> {
        let kv = etcd_event
            .kv()
            .ok_or_else(|| StorageError::Internal("etcd sent an event without a key".to_owned()))?;
        let revision = kv.mod_revision();
        let key = self.layout.object_key(kv.key())?;
        let prev_object = match etcd_event.prev_kv() {
            Some(prev) => Some(self.layout.object_ref(prev)?.0),
            None => None,
        };
        Ok(match etcd_event.event_type() {
            EtcdEventType::Put => {
                let (object, provenance) = self.layout.object_ref(kv)?;
                let created = kv.create_revision() == kv.mod_revision();
                Event {
                    revision,
                    event_type: if created { EventType::Created } else { EventType::Updated },
                    key,
                    object: Some(object),
                    prev_object: if created { None } else { prev_object },
                    provenance,
                }
            }
            EtcdEventType::Delete => Event {
                revision,
                event_type: EventType::Deleted,
                provenance: match deletes {
                    Deletes::WithProvenance => self.delete_provenance(&key, revision).await?,
                    Deletes::WithoutProvenance => None,
                },
                key,
                object: None,
                prev_object,
            },
        })
    }

    /// Who deleted `key` at `revision`: the tombstone written by that very delete (same
    /// revision). `None` when the delete was not made by kube-ledger, or when compaction has
    /// dropped the tombstone's history since.
    async fn delete_provenance(&self, key: &str, revision: Revision) -> Result<Option<Provenance>> {
        let options = GetOptions::new().with_revision(revision);
        let tombstone = self.layout.tombstone_key(key);
        let mut response = match self.range("read tombstone", &tombstone, options).await? {
            Ok(response) => response,
            Err(err) if errors::revision_error(&err) == Some(RevisionError::Compacted) => {
                return Ok(None);
            }
            Err(err) => return Err(errors::map(err, Kind::Read)),
        };
        match response.take_kvs().into_iter().next() {
            Some(tombstone) if tombstone.mod_revision() == revision => {
                let (_, stored) = tombstone.into_key_value();
                Ok(envelope::decode(Bytes::from(stored))?.provenance)
            }
            _ => Ok(None),
        }
    }
}

/// Which connection a watch is opened on.
#[derive(Debug, Clone, Copy)]
enum Connection {
    /// The member's connection, shared with every request to it.
    Shared,
    /// A new one, for this watch alone.
    Own,
}

/// Whether a watch reads who made each delete: from the delete's tombstone, one read per delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deletes {
    WithProvenance,
    WithoutProvenance,
}

/// The state of one watch stream.
struct Watcher {
    storage: EtcdStorage,
    stream: etcd_client::WatchStream,
    /// The objects handed out so far, the previous values of later events.
    previous: Previous,
    /// Whether deletes carry their provenance.
    deletes: Deletes,
    /// Items decoded from etcd's last response and not handed out yet.
    pending: VecDeque<Result<WatchItem>>,
    /// The revision through which items were handed out: where a consumer would resume, and the
    /// floor below which a progress notification is not worth handing out.
    last: Revision,
    /// Set once the stream has failed: the error is the last item.
    done: bool,
}

impl Watcher {
    async fn next(&mut self) -> Option<Result<WatchItem>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                if let Ok(item) = &item {
                    self.last = match item {
                        WatchItem::Event(event) => event.revision,
                        WatchItem::Progress(revision) => *revision,
                    };
                }
                return Some(item);
            }
            if self.done {
                return None;
            }
            // No deadline here: a watch may legitimately stay silent for hours. A dead
            // connection is caught by the channel's keep-alive pings.
            match self.stream.message().await {
                Ok(Some(response)) => self.absorb(response).await,
                Ok(None) => {
                    self.fail(StorageError::Unavailable("etcd closed the watch".to_owned()))
                }
                Err(err) => self.fail(errors::map(err, Kind::Read)),
            }
        }
    }

    /// Turns one etcd response into pending items.
    async fn absorb(&mut self, response: WatchResponse) {
        if response.compact_revision() > 0 {
            return self.fail(StorageError::Compacted {
                requested: self.last,
                compacted: response.compact_revision(),
            });
        }
        if response.canceled() {
            return self.fail(StorageError::Unavailable(format!(
                "etcd canceled the watch: {}",
                response.cancel_reason()
            )));
        }
        if response.events().is_empty() {
            // A progress notification: the header revision is delivered in full.
            let revision = response.header().map_or(0, |h| h.revision());
            if !response.created() && revision > self.last {
                self.pending.push_back(Ok(WatchItem::Progress(revision)));
            }
            return;
        }
        match self.decode(&response).await {
            Ok(events) => self.pending.extend(events.into_iter().map(|e| Ok(WatchItem::Event(e)))),
            Err(err) => self.fail(err),
        }
    }

    /// A response's events with their previous values.
    async fn decode(&mut self, response: &WatchResponse) -> Result<Vec<Event>> {
        let storage = &self.storage;
        let decode = response.events().iter().map(|e| storage.event_as(e, self.deletes));
        let mut events = try_join_all(decode).await?;
        self.previous.fill(storage, &mut events).await?;
        Ok(events)
    }

    /// Ends the stream with `err` after whatever is already pending.
    fn fail(&mut self, err: StorageError) {
        self.pending.push_back(Err(err));
        self.done = true;
    }
}
