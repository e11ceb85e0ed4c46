//! The log's position at a time (`logpositions?time=T`): the revision a point-in-time LIST
//! (`resourceVersion=R&resourceVersionMatch=Exact`) reads the cluster as it was at T, and the
//! bounds of what the log retains.
//!
//! Data flows one way: a time → [`crate::storage::Storage::revision_at`] and the log's bounds →
//! a `LogPosition` object.

use serde_json::{Value, json};

use super::record::micro_time;
use crate::meta::status::{ApiError, Reason};
use crate::storage::{Revision, Storage, StorageError};

/// The bounds of the retained log: the oldest revision that can still be read and the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub oldest: Revision,
    pub current: Revision,
}

impl Bounds {
    /// Read from the storage, the head last so that it is at least any revision read before.
    pub async fn of(storage: &dyn Storage) -> Result<Bounds, ApiError> {
        let oldest = storage.compacted_revision().await.map_err(from_storage)?;
        let current = storage.current_revision().await.map_err(from_storage)?;
        // Before any compaction the oldest readable state is the first revision.
        Ok(Bounds { oldest: oldest.max(1).min(current.max(1)), current })
    }
}

/// The newest revision accepted at or before `at` (µs since the epoch): the head for a time in
/// the future; a 410 naming the oldest retained revision when the log retains nothing that old.
pub async fn revision_at(storage: &dyn Storage, at: i64) -> Result<Revision, ApiError> {
    match storage.revision_at(at).await {
        Ok(Some(revision)) => Ok(revision),
        Ok(None) => {
            let bounds = Bounds::of(storage).await?;
            Err(too_old(at, bounds.oldest))
        }
        Err(StorageError::Compacted { compacted, .. }) => Err(too_old(at, compacted)),
        Err(err) => Err(from_storage(err)),
    }
}

/// A `LogPosition` for `at`: the revision at or before it and the log's bounds then.
pub async fn log_position(storage: &dyn Storage, at: i64) -> Result<Value, ApiError> {
    let revision = revision_at(storage, at).await?;
    let bounds = Bounds::of(storage).await?;
    Ok(json!({
        "kind": "LogPosition",
        "apiVersion": super::API_VERSION,
        "time": micro_time(at),
        "revision": revision.to_string(),
        "oldestRevision": bounds.oldest.to_string(),
        "currentRevision": bounds.current.max(revision).to_string(),
    }))
}

/// 410 `Expired` for a time before the retained log.
pub fn too_old(at: i64, oldest: Revision) -> ApiError {
    ApiError::new(
        Reason::Expired,
        format!(
            "the log retains nothing at or before {}: the oldest retained revision is {oldest}",
            micro_time(at)
        ),
    )
}

/// Storage errors of the ledger's reads, through the one mapping.
pub fn from_storage(err: StorageError) -> ApiError {
    ApiError::from_storage(err, super::GROUP, "", "")
}
