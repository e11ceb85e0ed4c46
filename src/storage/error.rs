//! The closed set of storage failures. The API layer maps each variant to a Kubernetes `Status`
//! in exactly one place; backends map their client errors into these and nothing else.

use super::{Object, Revision};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Create of a key that exists. Carries the current object.
    #[error("key {key:?} already exists")]
    AlreadyExists { key: String, current: Box<Object> },

    /// The key does not exist (update, delete).
    #[error("key {key:?} not found")]
    NotFound { key: String },

    /// An update or delete whose expected `mod_revision` is stale. Carries the current object.
    #[error("key {key:?} was modified: expected revision {expected}, found {}", current.mod_revision)]
    Conflict { key: String, expected: Revision, current: Box<Object> },

    /// The requested revision is older than the retained history (HTTP 410 Expired).
    #[error("revision {requested} has been compacted; the oldest retained revision is {compacted}")]
    Compacted { requested: Revision, compacted: Revision },

    /// The requested revision is newer than the log's current revision.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision { requested: Revision, current: Revision },

    /// A key the contract refuses (empty, not absolute, control characters, …).
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },

    /// A value larger than [`super::MAX_VALUE_BYTES`].
    #[error("value of {size} bytes exceeds the limit of {limit} bytes")]
    ValueTooLarge { size: usize, limit: usize },

    /// The request was not carried out, and is known not to have been: the backend could not be
    /// reached, or refused the request before acting on it (etcd without a leader, a read with no
    /// member answering). Retrying is safe, for writes too (HTTP 503 with `Retry-After`).
    #[error("storage unavailable: {0}")]
    Unavailable(String),

    /// A write was sent and no answer came back in time (the connection broke under it, or the
    /// backend gave up waiting for its commit): it may or may not have been applied. Retrying is
    /// safe only through its precondition: a retried create may find its own object, a retried
    /// update a conflict with itself (HTTP 504 `Timeout`, kube-apiserver's "may still be
    /// processing the request"). Reads never fail this way: a read without an answer is simply
    /// [`StorageError::Unavailable`].
    #[error("storage outcome unknown: {0}")]
    OutcomeUnknown(String),

    /// Anything else: corrupt data, a backend bug. Not retryable.
    #[error("storage internal error: {0}")]
    Internal(String),
}

impl StorageError {
    /// Whether retrying the same operation later may succeed. True for
    /// [`StorageError::OutcomeUnknown`] too, where the retry may find the first attempt's effect.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StorageError::Unavailable(_) | StorageError::OutcomeUnknown(_))
    }
}
