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

    /// The backend cannot be reached or did not answer in time. Retryable: nothing was written,
    /// or the outcome is unknown and a retry re-checks the precondition.
    #[error("storage unavailable: {0}")]
    Unavailable(String),

    /// Anything else: corrupt data, a backend bug. Not retryable.
    #[error("storage internal error: {0}")]
    Internal(String),
}

impl StorageError {
    /// Whether retrying the same operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StorageError::Unavailable(_))
    }
}
