//! History of one key: etcd's retained events of that key, replayed by a watch on exactly that key
//! from the oldest retained revision (or from just after the previous page). Previous values come
//! from the page's own earlier events ([`Previous`]): only the first event's is read from etcd.
//!
//! A watch never ends by itself, so the replay needs to know when it has seen everything. The
//! last event of a key is either its current value's write or, for a deleted key, its delete,
//! whose tombstone holds that revision; both are read in one transaction (one snapshot) before the
//! replay, which then stops at that revision. A key deleted by something other than kube-ledger
//! leaves no tombstone, so events after its last kube-ledger write are not replayed.
//!
//! etcd drops a delete at exactly the compacted revision along with the history before it (a
//! put there is kept as the key's state), so a key whose last event is such a delete has no
//! retained events.

use etcd_client::{KeyValue, Txn, TxnOp, TxnOpResponse, WatchOptions};
use futures::future::try_join_all;

use super::EtcdStorage;
use super::errors::Kind;
use super::previous::Previous;
use crate::storage::{Event, Result, Revision, StorageError, validate_key};

/// How often a replay restarts because etcd compacted the history it was reading.
const ATTEMPTS: usize = 3;

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
        let (last, deleted) = self.last_event(key).await?;
        let mut compacted = self.recorded_compaction().await?.max(1);
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

    /// The revision of `key`'s latest event (0 when it has none), and whether that was a delete:
    /// its current value's write, or the delete its tombstone records.
    async fn last_event(&self, key: &str) -> Result<(Revision, bool)> {
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
            [written, deleted] => (written.max(deleted), deleted > written),
            _ => {
                return Err(StorageError::Internal(
                    "etcd answered a transaction of two reads with something else".to_owned(),
                ));
            }
        })
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
