//! etcd client failures as [`StorageError`]s: the only place that looks inside an
//! `etcd_client::Error`.
//!
//! The split that matters to callers is retryable or not: anything that says "etcd could not be
//! reached or did not answer" becomes [`StorageError::Unavailable`], everything else
//! [`StorageError::Internal`]. Revision errors (compacted, future) are recognised separately by
//! [`revision_error`] because turning them into their variants needs more context (the requested
//! revision, the current or compacted one) than the error carries.

use std::time::Duration;

use crate::storage::StorageError;

/// What an etcd client call returns (`etcd_client` does not export its alias).
pub(super) type EtcdResult<T> = Result<T, etcd_client::Error>;

/// gRPC status codes (`tonic::Code` discriminants), named here so that this crate does not need a
/// direct dependency on `tonic` just to read them.
mod code {
    pub const CANCELLED: i32 = 1;
    pub const UNKNOWN: i32 = 2;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const ABORTED: i32 = 10;
    pub const UNAVAILABLE: i32 = 14;
}

/// What etcd says when a read or watch asks for history that compaction dropped.
const COMPACTED: &str = "required revision has been compacted";
/// What etcd says when a read or compaction names a revision that does not exist yet.
const FUTURE: &str = "required revision is a future revision";

/// An etcd revision error, before it gets its context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RevisionError {
    Compacted,
    Future,
}

/// Recognises etcd's revision errors (gRPC `OutOfRange` with a fixed message).
pub(super) fn revision_error(err: &etcd_client::Error) -> Option<RevisionError> {
    let etcd_client::Error::GRpcStatus(status) = err else {
        return None;
    };
    if status.message().contains(COMPACTED) {
        Some(RevisionError::Compacted)
    } else if status.message().contains(FUTURE) {
        Some(RevisionError::Future)
    } else {
        None
    }
}

/// Maps a client error that is not a revision error.
///
/// `Unknown` and `Cancelled` count as unavailable because that is how tonic reports a connection
/// that broke under a request or stream (etcd itself uses specific codes for its own errors);
/// etcd's "no leader", "leader changed" and "request timed out" arrive as `Unavailable`.
pub(super) fn map(err: etcd_client::Error) -> StorageError {
    use etcd_client::Error as E;
    match &err {
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) => unavailable(&err),
        E::GRpcStatus(status) => match status.code() as i32 {
            code::CANCELLED
            | code::UNKNOWN
            | code::DEADLINE_EXCEEDED
            | code::ABORTED
            | code::UNAVAILABLE => unavailable(&err),
            _ => StorageError::Internal(format!("etcd: {err}")),
        },
        _ => StorageError::Internal(format!("etcd client: {err}")),
    }
}

fn unavailable(err: &etcd_client::Error) -> StorageError {
    StorageError::Unavailable(format!("etcd: {err}"))
}

/// The error of a request that outlived its deadline.
pub(super) fn timed_out(what: &str, timeout: Duration) -> StorageError {
    StorageError::Unavailable(format!("etcd did not answer {what} within {timeout:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gRPC statuses (etcd's revision errors among them) need `tonic` to build, so they are
    /// covered by the integration tests against a real etcd.
    #[test]
    fn client_side_errors_map_by_kind() {
        let closed = etcd_client::Error::WatchError("channel closed".to_owned());
        assert_eq!(revision_error(&closed), None);
        assert!(matches!(map(closed), StorageError::Unavailable(_)));
        let args = etcd_client::Error::InvalidArgs("empty endpoints".to_owned());
        assert!(matches!(map(args), StorageError::Internal(_)));
        assert!(timed_out("get", Duration::from_secs(1)).is_retryable());
    }
}
