//! History of one key: etcd's retained events of that key, oldest first, a page at a time.
//!
//! A page is read with ranges of the key at past revisions, many per transaction (`locate` finds
//! where the events are; this module makes the reads): a page of 500 of a key with 10,000
//! revisions takes a few round trips. A watch from a past revision would wait for etcd's sync
//! loop, which serves a watch at most 1,000 revisions every 100 ms and reads every revision of
//! the keyspace from the start to the head on each pass. The watch stays as the fallback for what
//! reads cannot place (a delete that left no tombstone) and for a history compacted while it was
//! read. Previous values come from the page's own earlier events ([`Previous`]): only the first
//! event's is read from etcd.
//!
//! The watch replays the key from the oldest retained revision (or from just after the previous
//! page).
//! A watch never ends by itself, so the replay needs to know when it has seen everything. The
//! last event of a key is either its current value's write or, for a deleted key, its delete,
//! whose tombstone holds that revision; both are read in one transaction (one snapshot) before the
//! replay, which then stops at that revision. A key deleted by something other than kube-ledger
//! leaves no tombstone, so events after its last kube-ledger write are not replayed.
//!
//! etcd drops a delete at exactly the compacted revision along with the history before it (a
//! put there is kept as the key's state), so a key whose last event is such a delete has no
//! retained events.

use bytes::Bytes;
use etcd_client::{GetOptions, KeyValue, Txn, TxnOp, TxnOpResponse, TxnResponse, WatchOptions};
use futures::future::try_join_all;

use super::errors::{self, Kind, RevisionError};
use super::locate::{Locator, Mark, Seen, chains};
use super::members::Clients;
use super::previous::Previous;
use super::{EtcdStorage, envelope};
use crate::storage::{Event, EventType, Result, Revision, StorageError, validate_key};

/// How often a replay restarts because etcd compacted the history it was reading.
const ATTEMPTS: usize = 3;
/// Reads of one round of locating a page, at most.
const ROUND_READS: usize = 2048;
/// Rounds of reads before a page is left to the watch (each round finds at least one event of
/// every open gap, and usually all of them).
const ROUNDS: usize = 24;
/// Operations per transaction: etcd's default `--max-txn-ops`.
const TXN_OPS: usize = 128;

/// How a replay ended.
enum Replay {
    Done(Vec<Event>),
    /// etcd has compacted through this revision: replay again from it.
    Compacted(Revision),
}

impl EtcdStorage {
    pub(super) async fn key_history(&self, key: &str) -> Result<Vec<Event>> {
        self.key_history_page(key, 0, usize::MAX).await
    }

    /// At most `limit` events of `key` after `after`: one watch on exactly that key from the
    /// later of `after + 1` and the compacted revision, closed once the page is full or the key's
    /// last event is in, so a page reads its own events and never the rest of the history.
    pub(super) async fn key_history_page(
        &self,
        key: &str,
        after: Revision,
        limit: usize,
    ) -> Result<Vec<Event>> {
        validate_key(key)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (last, deleted, tombstone) = self.last_event(key).await?;
        let mut compacted = self.recorded_compaction().await?.max(1);
        let from = compacted.max(after.saturating_add(1));
        if last < from || (deleted && last == compacted && from == compacted) {
            return Ok(Vec::new());
        }
        // No tombstone written since `from`: no kube-ledger delete to place.
        let tombstones = tombstone >= from;
        if let Some(page) =
            self.page_by_reads(key, from, last, limit.saturating_add(1), tombstones).await?
        {
            // etcd keeps no delete at exactly the compacted revision (see above): nor does a page.
            let skip = page.first().is_some_and(|e| {
                e.event_type == EventType::Deleted && e.revision == compacted && from == compacted
            });
            return Ok(page.into_iter().skip(usize::from(skip)).take(limit).collect());
        }
        for _ in 0..ATTEMPTS {
            let from = compacted.max(after.saturating_add(1));
            if last < from || (deleted && last == compacted && from == compacted) {
                // Nothing after `after`, every event compacted away, or only a delete at the
                // compacted revision, which etcd does not keep.
                return Ok(Vec::new());
            }
            match self.replay_key(key, from, last, limit).await? {
                Replay::Done(events) => return Ok(events),
                Replay::Compacted(revision) => compacted = revision,
            }
        }
        Err(StorageError::Unavailable(format!(
            "the history of {key:?} kept being compacted while it was read"
        )))
    }

    /// The revision of `key`'s latest event (0 when it has none), whether that was a delete (its
    /// current value's write, or the delete its tombstone records), and the tombstone's revision.
    async fn last_event(&self, key: &str) -> Result<(Revision, bool, Revision)> {
        let txn = Txn::new().and_then([
            TxnOp::get(self.layout.data_key(key), None),
            TxnOp::get(self.layout.tombstone_key(key), None),
        ]);
        let response = self.txn("history", Kind::Read, txn).await?;
        let revisions: Vec<Revision> = response
            .op_responses()
            .iter()
            .map(|op| match op {
                TxnOpResponse::Get(get) => get.kvs().first().map_or(0, KeyValue::mod_revision),
                _ => 0,
            })
            .collect();
        Ok(match revisions[..] {
            [written, deleted] => (written.max(deleted), deleted > written, deleted),
            _ => {
                return Err(StorageError::Internal(
                    "etcd answered a transaction of two reads with something else".to_owned(),
                ));
            }
        })
    }

    /// The first `limit` events of `key` in `from..=last`, located and read by ranges at past
    /// revisions (see `locate`); reads tombstones too when `tombstones`, that is when a delete
    /// may be in the range. `None` when reads cannot place the events (a delete without
    /// tombstone), or etcd compacted the range meanwhile: the caller replays the key with a
    /// watch.
    async fn page_by_reads(
        &self,
        key: &str,
        from: Revision,
        last: Revision,
        limit: usize,
        tombstones: bool,
    ) -> Result<Option<Vec<Event>>> {
        let mut locator = Locator::new(from, limit);
        let spread = i64::try_from(limit.min(ROUND_READS)).unwrap_or(0);
        let mut reads = locator.first_reads(last, spread);
        for _ in 0..ROUNDS {
            let Some(seen) = self.read_marks(key, &reads, tombstones).await? else {
                return Ok(None);
            };
            seen.into_iter().for_each(|s| locator.absorb(s));
            if locator.blind() {
                return Ok(None);
            }
            if let Some(page) = locator.page() {
                // A short page ends with the key's last event; events that do not chain hide a
                // delete reads cannot see.
                let complete = page.len() >= limit || page.last().is_some_and(|e| e.0 == last);
                if !complete || !chains(&page) {
                    return Ok(None);
                }
                return self.page_events(key, &page).await;
            }
            reads = locator.plan(ROUND_READS);
            if reads.is_empty() {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// What reads of `key` at each of `revisions` see (keys only); `None` if one was compacted.
    async fn read_marks(
        &self,
        key: &str,
        revisions: &[Revision],
        tombstones: bool,
    ) -> Result<Option<Vec<Seen>>> {
        let (data, tombstone) = (self.layout.data_key(key), self.layout.tombstone_key(key));
        let per_read = if tombstones { 2 } else { 1 };
        let txns = revisions.chunks(TXN_OPS / per_read).map(|chunk| {
            let ops = chunk.iter().flat_map(|&at| {
                let options = GetOptions::new().with_revision(at).with_keys_only();
                let grave =
                    tombstones.then(|| TxnOp::get(tombstone.as_str(), Some(options.clone())));
                std::iter::once(TxnOp::get(data.as_str(), Some(options))).chain(grave)
            });
            self.read_txn(Txn::new().and_then(ops.collect::<Vec<_>>()))
        });
        let mut seen = Vec::with_capacity(revisions.len());
        let mut answers = revisions.iter();
        for response in try_join_all(txns).await? {
            let Some(response) = response else { return Ok(None) };
            let found = response.op_responses().into_iter().map(|op| match op {
                TxnOpResponse::Get(get) => get
                    .kvs()
                    .first()
                    .map(|kv| (kv.mod_revision(), kv.version(), kv.create_revision())),
                _ => None,
            });
            let found: Vec<_> = found.collect();
            for pair in found.chunks(per_read) {
                let Some(&at) = answers.next() else { break };
                let write = pair[0];
                let delete = pair.get(1).copied().flatten().map(|(revision, _, _)| revision);
                seen.push(Seen { at, write, delete });
            }
        }
        Ok(Some(seen))
    }

    /// The events at the located revisions of `key`, values and provenance read in
    /// transactions of ranges at those revisions; `None` if etcd compacted one meanwhile or
    /// answered with something other than the located event.
    async fn page_events(
        &self,
        key: &str,
        page: &[(Revision, Mark)],
    ) -> Result<Option<Vec<Event>>> {
        let (data, tombstone) = (self.layout.data_key(key), self.layout.tombstone_key(key));
        let txns = page.chunks(TXN_OPS).map(|chunk| {
            let ops = chunk.iter().map(|&(at, mark)| {
                let options = Some(GetOptions::new().with_revision(at));
                match mark {
                    Mark::Put { .. } => TxnOp::get(data.as_str(), options),
                    Mark::Delete => TxnOp::get(tombstone.as_str(), options),
                }
            });
            self.read_txn(Txn::new().and_then(ops.collect::<Vec<_>>()))
        });
        let mut answers = Vec::with_capacity(page.len());
        for response in try_join_all(txns).await? {
            let Some(response) = response else { return Ok(None) };
            answers.extend(response.op_responses().into_iter().map(|op| match op {
                TxnOpResponse::Get(mut get) => get.take_kvs().into_iter().next(),
                _ => None,
            }));
        }
        let mut events = Vec::with_capacity(page.len());
        for (&(revision, mark), kv) in page.iter().zip(answers) {
            let kv = kv.filter(|kv| kv.mod_revision() == revision);
            let event = match (mark, kv) {
                (Mark::Put { .. }, Some(kv)) => {
                    let created = kv.create_revision() == revision;
                    let (object, provenance) = self.layout.object(kv)?;
                    Event {
                        revision,
                        event_type: if created { EventType::Created } else { EventType::Updated },
                        key: key.to_owned(),
                        object: Some(object),
                        prev_object: None,
                        provenance,
                    }
                }
                (Mark::Delete, Some(kv)) => {
                    let (_, stored) = kv.into_key_value();
                    Event {
                        revision,
                        event_type: EventType::Deleted,
                        key: key.to_owned(),
                        object: None,
                        prev_object: None,
                        provenance: envelope::decode(Bytes::from(stored))?.provenance,
                    }
                }
                (_, None) => return Ok(None),
            };
            events.push(event);
        }
        Previous::default().fill(self, &mut events).await?;
        Ok(Some(events))
    }

    /// A read-only transaction; `None` when etcd has compacted a revision it reads.
    async fn read_txn(&self, txn: Txn) -> Result<Option<TxnResponse>> {
        let attempt = |mut clients: Clients| {
            let txn = txn.clone();
            async move { clients.kv.txn(txn).await }
        };
        match self.call("history", Kind::Read, attempt).await? {
            Ok(response) => Ok(Some(response)),
            Err(err) if errors::revision_error(&err) == Some(RevisionError::Compacted) => Ok(None),
            Err(err) => Err(errors::map(err, Kind::Read)),
        }
    }

    /// The events of `key` from `from` through `last`, at most `limit` of them.
    async fn replay_key(
        &self,
        key: &str,
        from: Revision,
        last: Revision,
        limit: usize,
    ) -> Result<Replay> {
        let options = WatchOptions::new().with_start_revision(from);
        let mut stream = self.open_watch(self.layout.data_key(key), options).await?;
        let (mut events, mut previous) = (Vec::new(), Previous::default());
        loop {
            // etcd replays stored history without pause, so silence means trouble.
            let Some(response) = self.within("history", Kind::Read, stream.message()).await? else {
                return Err(StorageError::Unavailable("etcd closed the watch".to_owned()));
            };
            if response.compact_revision() > 0 {
                return Ok(Replay::Compacted(response.compact_revision()));
            }
            if response.canceled() {
                return Err(StorageError::Unavailable(format!(
                    "etcd canceled the watch: {}",
                    response.cancel_reason()
                )));
            }
            let mut batch = try_join_all(response.events().iter().map(|e| self.event(e))).await?;
            previous.fill(self, &mut batch).await?;
            for event in batch {
                if event.revision > last {
                    return Ok(Replay::Done(events));
                }
                let reached = event.revision == last;
                events.push(event);
                if reached || events.len() >= limit {
                    return Ok(Replay::Done(events));
                }
            }
        }
    }
}
