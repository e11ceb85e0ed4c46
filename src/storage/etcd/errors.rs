//! etcd client failures: what a failed request proves about its effect, and the
//! [`StorageError`] it becomes. The only place that looks inside an `etcd_client::Error`.
//!
//! Every failure is one of four [`Failure`]s, told apart by where the error came from:
//! - a `tonic::ConnectError` anywhere in the error's sources: the connection to the member could
//!   not be made, so the request never left this process ([`Failure::NotSent`]);
//! - any other error raised on this side (a broken connection, a reset stream, an I/O error): the
//!   request may have reached etcd and its answer was lost ([`Failure::Lost`], `broken`);
//! - a status etcd sent: etcd's refusals before acting ("no leader", "too many requests", a
//!   dropped proposal) are [`Failure::Refused`]; its timeouts and the gRPC codes of a request
//!   cut short ("request timed out", "leader changed", "server stopped") are [`Failure::Lost`],
//!   since a proposal may commit after etcd stopped waiting for it; anything else is an answer
//!   about the request itself ([`Failure::Answered`]: compacted, invalid, …).
//!
//! [`map`] turns a failure into the contract's errors: a read that got no answer is
//! [`StorageError::Unavailable`] (it changed nothing either way); a write is
//! [`StorageError::OutcomeUnknown`] when it was lost and `Unavailable` only when it provably never
//! took effect. Revision errors (compacted, future) are recognised separately by
//! [`revision_error`] because turning them into their variants needs more context (the requested
//! revision, the current or compacted one) than the error carries.

use std::error::Error as _;
use std::time::Duration;

use tonic::Code;

use crate::storage::StorageError;

/// What an etcd client call returns (`etcd_client` does not export its alias).
pub(super) type EtcdResult<T> = Result<T, etcd_client::Error>;

/// Whether a request may have changed anything, which decides whether it may be retried and how
/// its failure is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Changes nothing (range reads, read-only transactions, opening a watch): retried on any
    /// member after any failure that is not an answer.
    Read,
    /// May change something (a write transaction, a compaction): retried only when the failure
    /// proves it never took effect.
    Write,
}

/// What a failed request proves about its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// The connection to the member could not be made: nothing was sent.
    NotSent,
    /// The member refused the request before acting on it: nothing was done.
    Refused,
    /// The request may have reached etcd and no answer came back: a write may have been applied.
    /// `broken` when the connection failed on this side, rather than etcd answering so: the
    /// member is probably gone.
    Lost { broken: bool },
    /// etcd answered with an error about the request itself.
    Answered,
}

/// etcd's refusals made before it acts on a request (etcd's `rpctypes` and raft's messages):
/// a member without a leader (the `hasleader` requirement every request carries), an overloaded
/// member, and a proposal raft dropped because the member knows no leader.
const REFUSALS: [&str; 4] = [
    "etcdserver: no leader",
    "etcdserver: too many requests",
    "etcdserver: not capable",
    "proposal dropped",
];

/// What etcd says when a read or watch asks for history that compaction dropped.
const COMPACTED: &str = "required revision has been compacted";
/// What etcd says when a read or compaction names a revision that does not exist yet.
const FUTURE: &str = "required revision is a future revision";

/// Classifies a failed request.
pub(super) fn classify(err: &etcd_client::Error) -> Failure {
    use etcd_client::Error as E;
    match err {
        E::GRpcStatus(status) => classify_status(status),
        E::TransportError(transport) if has_connect_error(transport) => Failure::NotSent,
        // Failures of this side's connection or of the client's own watch channel.
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) => Failure::Lost { broken: true },
        _ => Failure::Answered,
    }
}

fn classify_status(status: &tonic::Status) -> Failure {
    if has_connect_error(status) {
        return Failure::NotSent;
    }
    // tonic keeps the local error a status was made from as its source; a status etcd sent has
    // none.
    if status.source().is_some() {
        return Failure::Lost { broken: true };
    }
    match status.code() {
        Code::Unavailable | Code::ResourceExhausted | Code::Unknown
            if REFUSALS.iter().any(|refusal| status.message().contains(refusal)) =>
        {
            Failure::Refused
        }
        Code::Unavailable
        | Code::Unknown
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted => Failure::Lost { broken: false },
        _ => Failure::Answered,
    }
}

/// Whether connecting failed: tonic raises a `ConnectError` before anything is written.
fn has_connect_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(err) = source {
        if err.is::<tonic::ConnectError>() {
            return true;
        }
        source = err.source();
    }
    false
}

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

/// Maps a failure of a request of `kind` that is not a revision error.
pub(super) fn map(err: etcd_client::Error, kind: Kind) -> StorageError {
    match (classify(&err), kind) {
        (Failure::NotSent | Failure::Refused, _) | (Failure::Lost { .. }, Kind::Read) => {
            StorageError::Unavailable(format!("etcd: {err}"))
        }
        (Failure::Lost { .. }, Kind::Write) => StorageError::OutcomeUnknown(format!("etcd: {err}")),
        (Failure::Answered, _) => StorageError::Internal(format!("etcd: {err}")),
    }
}

/// The error of a request of `kind` that was sent and outlived its deadline.
pub(super) fn timed_out(what: &str, kind: Kind, timeout: Duration) -> StorageError {
    let detail = format!("etcd did not answer {what} within {timeout:?}");
    match kind {
        Kind::Read => StorageError::Unavailable(detail),
        Kind::Write => StorageError::OutcomeUnknown(detail),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn status(code: Code, message: &str) -> etcd_client::Error {
        etcd_client::Error::GRpcStatus(tonic::Status::new(code, message))
    }

    /// A status raised on this side, as tonic builds it: the local error is its source.
    fn local(code: Code, source: impl std::error::Error + Send + Sync + 'static) -> tonic::Status {
        let mut status = tonic::Status::new(code, source.to_string());
        status.set_source(Arc::new(source));
        status
    }

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, format!("{kind:?}"))
    }

    #[test]
    fn a_connection_that_could_not_be_made_sent_nothing() {
        // How tonic reports a refused connection: Unavailable, the ConnectError as source.
        let refused = tonic::ConnectError(Box::new(io(std::io::ErrorKind::ConnectionRefused)));
        let err = etcd_client::Error::GRpcStatus(local(Code::Unavailable, refused));
        assert_eq!(classify(&err), Failure::NotSent);
        assert!(matches!(map(err, Kind::Write), StorageError::Unavailable(_)));
    }

    #[test]
    fn a_connection_broken_under_a_request_loses_its_answer() {
        let reset = local(Code::Unknown, io(std::io::ErrorKind::ConnectionReset));
        let err = etcd_client::Error::GRpcStatus(reset);
        assert_eq!(classify(&err), Failure::Lost { broken: true });
        assert!(matches!(map(err, Kind::Write), StorageError::OutcomeUnknown(_)));
        let reset = local(Code::Unknown, io(std::io::ErrorKind::ConnectionReset));
        let err = etcd_client::Error::GRpcStatus(reset);
        assert!(matches!(map(err, Kind::Read), StorageError::Unavailable(_)));

        let closed = etcd_client::Error::WatchError("channel closed".to_owned());
        assert_eq!(classify(&closed), Failure::Lost { broken: true });
        let io = etcd_client::Error::IoError(io(std::io::ErrorKind::BrokenPipe));
        assert_eq!(classify(&io), Failure::Lost { broken: true });
    }

    /// etcd's own statuses carry no source: their message says whether etcd acted.
    #[test]
    fn etcd_refusals_did_nothing_and_its_timeouts_may_have() {
        let refusals = [
            status(Code::Unavailable, "etcdserver: no leader"),
            status(Code::ResourceExhausted, "etcdserver: too many requests"),
            status(Code::Unknown, "raft proposal dropped"),
        ];
        for err in refusals {
            assert_eq!(classify(&err), Failure::Refused, "{err}");
            assert!(matches!(map(err, Kind::Write), StorageError::Unavailable(_)));
        }
        let lost = [
            status(Code::Unavailable, "etcdserver: request timed out"),
            status(
                Code::Unavailable,
                "etcdserver: request timed out, possibly due to previous leader failure",
            ),
            status(Code::Unavailable, "etcdserver: leader changed"),
            status(Code::Unavailable, "etcdserver: server stopped"),
            status(Code::DeadlineExceeded, "context deadline exceeded"),
            status(Code::Cancelled, "context canceled"),
        ];
        for err in lost {
            assert_eq!(classify(&err), Failure::Lost { broken: false }, "{err}");
            assert!(matches!(map(err, Kind::Write), StorageError::OutcomeUnknown(_)));
        }
        let read = status(Code::Unavailable, "etcdserver: request timed out");
        assert!(matches!(map(read, Kind::Read), StorageError::Unavailable(_)));
    }

    #[test]
    fn answers_about_the_request_are_not_retried() {
        let answers = [
            status(Code::InvalidArgument, "etcdserver: request is too large"),
            status(Code::OutOfRange, COMPACTED),
            status(Code::PermissionDenied, "etcdserver: permission denied"),
            etcd_client::Error::InvalidArgs("empty endpoints".to_owned()),
        ];
        for err in answers {
            assert_eq!(classify(&err), Failure::Answered, "{err}");
            assert!(matches!(map(err, Kind::Read), StorageError::Internal(_)));
        }
        assert_eq!(
            revision_error(&status(
                Code::OutOfRange,
                "etcdserver: mvcc: required revision is a future revision"
            )),
            Some(RevisionError::Future)
        );
    }

    #[test]
    fn a_deadline_leaves_a_write_unknown_and_a_read_unavailable() {
        let timeout = Duration::from_secs(1);
        assert!(matches!(timed_out("get", Kind::Read, timeout), StorageError::Unavailable(_)));
        assert!(matches!(
            timed_out("update", Kind::Write, timeout),
            StorageError::OutcomeUnknown(_)
        ));
    }
}
