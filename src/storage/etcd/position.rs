//! The log's position at a time on etcd: the shared bisection of `storage::position`, probing
//! with watches.
//!
//! A probe at `r` is a watch of every key from revision `r`: etcd creates a revision only for a
//! transaction that changed some key, so the watch's first event is at `r` itself whenever `r`
//! is retained, and the search never waits on an idle range. An event's time is in the envelope
//! of its value: a put of an object, or for a delete the tombstone put by the same transaction.
//! Events without one (the compaction record, values written by something else) are stepped
//! over up to the probe's upper bound. Each probe closes its watch on return.

use bytes::Bytes;
use etcd_client::{EventType, WatchOptions};

use super::errors::Kind;
use super::{EtcdStorage, envelope};
use crate::storage::{Result, Revision, StorageError, position};

impl EtcdStorage {
    pub(super) async fn position_at(&self, timestamp_micros: i64) -> Result<Option<Revision>> {
        let head = self.head_revision().await?;
        let compacted = self.recorded_compaction().await?;
        // etcd starts at revision 1 with nothing in it: the first write is revision 2.
        let lo = compacted.max(2);
        let probe = |from, to| self.first_stamp(from, to);
        match position::newest_at_or_before(lo, head, timestamp_micros, probe).await? {
            Some(revision) => Ok(Some(revision)),
            // The log's position then is below the oldest retained revision.
            None if compacted > 1 => {
                Err(StorageError::Compacted { requested: compacted - 1, compacted })
            }
            None => Ok(None),
        }
    }

    /// The revision and time of the first event in `[from, to]` that records its time.
    async fn first_stamp(&self, from: Revision, to: Revision) -> Result<Option<(Revision, i64)>> {
        let options = WatchOptions::new().with_from_key().with_start_revision(from);
        let mut stream = self.open_watch("\0".to_owned(), options).await?;
        loop {
            let Some(response) = self.within("position", Kind::Read, stream.message()).await?
            else {
                return Err(StorageError::Unavailable("etcd closed the watch".to_owned()));
            };
            if response.compact_revision() > 0 {
                let compacted = response.compact_revision();
                return Err(StorageError::Compacted { requested: from, compacted });
            }
            if response.canceled() {
                return Err(StorageError::Unavailable(format!(
                    "etcd canceled the watch: {}",
                    response.cancel_reason()
                )));
            }
            for event in response.events() {
                let Some(kv) = event.kv() else { continue };
                let revision = kv.mod_revision();
                if revision > to {
                    return Ok(None);
                }
                if event.event_type() == EventType::Put
                    && let Ok(decoded) = envelope::decode(Bytes::copy_from_slice(kv.value()))
                    && let Some(who) = decoded.provenance
                {
                    return Ok(Some((revision, who.timestamp_micros)));
                }
            }
            // etcd keeps a revision's events in one response.
            let reached = response.events().last().and_then(|e| e.kv()).map(|kv| kv.mod_revision());
            if reached.is_some_and(|revision| revision >= to) {
                return Ok(None);
            }
        }
    }
}
