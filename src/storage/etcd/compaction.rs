//! Compaction: etcd's own, plus the bookkeeping etcd does not offer.
//!
//! etcd cannot be asked up to where it has compacted, so every compaction made through
//! kube-ledger is recorded in `{prefix}-ledger/compacted`, which only ever moves forward.
//! Compactions made by something else (etcd's auto-compaction, a kube-apiserver on the same etcd)
//! are not seen there; reads and watches still fail correctly with `Compacted`, only the reported
//! compacted revision may lag.
//!
//! Compaction also drops delete tombstones older than the compacted revision: the deletes they
//! describe are no longer in etcd's history, so nothing can ask for them.

use etcd_client::{Compare, CompareOp, GetOptions, KeyValue, Txn, TxnOp};

use super::EtcdStorage;
use super::errors::{self, Kind, RevisionError};
use super::members::Clients;
use crate::storage::{Result, Revision, StorageError};

/// How often recording a compaction is retried when another compactor records at the same time.
const RECORD_ATTEMPTS: usize = 5;

/// Tombstones deleted per transaction, below etcd's default `--max-txn-ops` (128).
const TOMBSTONES_PER_TXN: usize = 64;

impl EtcdStorage {
    /// The last compaction recorded through kube-ledger; 0 when there was none.
    pub(super) async fn recorded_compaction(&self) -> Result<Revision> {
        let key = self.layout.compacted_key();
        let response = self.fetch("compacted revision", &key, GetOptions::new()).await?;
        response.kvs().first().map_or(Ok(0), parse_marker)
    }

    pub(super) async fn compact_history(&self, revision: Revision) -> Result<()> {
        if revision <= 0 {
            return Ok(()); // Nothing precedes the first revision.
        }
        let compact =
            |mut clients: Clients| async move { clients.kv.compact(revision, None).await };
        if let Err(err) = self.call("compact", Kind::Write, compact).await? {
            match errors::revision_error(&err) {
                // Already compacted at or past `revision`: nothing older is left to drop, but the
                // record may lag a compaction made elsewhere, so it is still brought forward.
                Some(RevisionError::Compacted) => {}
                Some(RevisionError::Future) => {
                    let current = self.head_revision().await?;
                    return Err(StorageError::FutureRevision { requested: revision, current });
                }
                None => return Err(errors::map(err, Kind::Write)),
            }
        }
        self.record_compaction(revision).await?;
        self.drop_tombstones_before(revision).await;
        Ok(())
    }

    /// Moves the record forward to `revision` unless it already is past it: a compare-and-swap
    /// on the record's `mod_revision`, so concurrent compactors never move it back.
    async fn record_compaction(&self, revision: Revision) -> Result<()> {
        let key = self.layout.compacted_key();
        for _ in 0..RECORD_ATTEMPTS {
            let response = self.fetch("compacted revision", &key, GetOptions::new()).await?;
            let (recorded, version) = match response.kvs().first() {
                Some(record) => (parse_marker(record)?, record.mod_revision()),
                None => (0, 0),
            };
            if recorded >= revision {
                return Ok(());
            }
            let txn = Txn::new()
                .when([Compare::mod_revision(key.as_str(), CompareOp::Equal, version)])
                .and_then([TxnOp::put(key.as_str(), revision.to_string(), None)]);
            if self.txn("record compaction", Kind::Write, txn).await?.succeeded() {
                return Ok(());
            }
        }
        Err(StorageError::Unavailable(
            "compaction record kept changing under concurrent compactions".to_owned(),
        ))
    }

    /// Deletes the tombstones last written before `revision`. Best effort: a failure is logged
    /// and the next compaction tries again; each delete is conditional on the tombstone being
    /// unchanged, so a delete racing with this never loses its fresh tombstone.
    async fn drop_tombstones_before(&self, revision: Revision) {
        if let Err(err) = self.try_drop_tombstones_before(revision).await {
            tracing::warn!(%err, revision, "dropping old delete tombstones failed");
        }
    }

    async fn try_drop_tombstones_before(&self, revision: Revision) -> Result<()> {
        let (start, end) = self.layout.tombstone_range();
        let options =
            GetOptions::new().with_range(end).with_keys_only().with_max_mod_revision(revision - 1);
        let response = self.fetch("list tombstones", &start, options).await?;
        for batch in response.kvs().chunks(TOMBSTONES_PER_TXN) {
            let txn = Txn::new()
                .when(
                    batch
                        .iter()
                        .map(|t| Compare::mod_revision(t.key(), CompareOp::Equal, t.mod_revision()))
                        .collect::<Vec<_>>(),
                )
                .and_then(batch.iter().map(|t| TxnOp::delete(t.key(), None)).collect::<Vec<_>>());
            // A batch that lost a race keeps its tombstones until the next compaction.
            self.txn("drop tombstones", Kind::Write, txn).await?;
        }
        Ok(())
    }
}

/// The compaction record's value: a decimal revision.
fn parse_marker(record: &KeyValue) -> Result<Revision> {
    let text = String::from_utf8_lossy(record.value());
    text.trim().parse().map_err(|_| {
        StorageError::Internal(format!("compaction record holds {text:?}, not a revision"))
    })
}
