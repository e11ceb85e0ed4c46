//! Counters of one view, as plain atomics: the root exports them as `ledger_…` metrics, so this
//! crate needs no metrics library.

use std::sync::atomic::AtomicU64;

/// Monotonic counters of one [`crate::View`]. Read them with `load(Ordering::Relaxed)`.
#[derive(Debug, Default)]
pub struct ViewMetrics {
    /// Watchers closed because their buffer was full when an event arrived (kube-apiserver's
    /// `apiserver_terminated_watchers_total`).
    pub terminated_watchers: AtomicU64,
    /// Encodings served from an event's cache ([`crate::ViewEvent::encoded`]).
    pub encode_hits: AtomicU64,
    /// Encodings computed, at most one per event and [`crate::EncodingKey`].
    pub encode_misses: AtomicU64,
    /// Times the view re-listed because the log could not continue its watch (history compacted
    /// past the view, or a non-retryable error).
    pub relists: AtomicU64,
    /// Times the view re-opened its log watch after the stream failed or ended.
    pub log_resumes: AtomicU64,
    /// Stored values that were not JSON (served with a `null` decoded form).
    pub decode_errors: AtomicU64,
    /// Hand-overs the index saved: per event, the watchers with an index hint in the event's
    /// namespace scopes whose (key, value) the object had neither before nor after the event,
    /// so the event was not put in their channel (their filter would have dropped it).
    pub index_skipped: AtomicU64,
}
