//! The input side: what a view needs from the event log, in this crate's own types.
//!
//! This crate must not depend on kube-ledger's root package (the root depends on it), so it cannot
//! name `storage::Storage`. Instead the root implements [`LogSource`] for its storage by mapping
//! `storage::Event` to [`LogEntry`], `WatchItem::Progress` to [`SourceItem::Progress`] and
//! `StorageError` to [`SourceError`]. The contract is the storage contract's: one global, strictly
//! increasing revision; a watch yields every entry of its prefix after its start revision, in
//! order, each once.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

/// What an entry did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// The key did not exist before this entry.
    Created,
    /// The key existed and got a new value.
    Updated,
    /// The key was removed.
    Deleted,
}

/// One entry of the log, as a view consumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The entry's position in the log: the resourceVersion of the change.
    pub revision: i64,
    /// The full key, such as `/pods/default/web-0`.
    pub key: Arc<str>,
    pub kind: EntryKind,
    /// The value after the entry; `None` for [`EntryKind::Deleted`].
    pub value: Option<Bytes>,
    /// The value before the entry; `None` for [`EntryKind::Created`] or when the log no longer
    /// holds it. A view only reads it for keys it does not hold itself, so the hot path never
    /// decodes it; a watcher replaying from the log needs it to send `DELETED` objects and to
    /// evaluate selector transitions.
    pub prev_value: Option<Bytes>,
    /// The revision that created this incarnation of the key.
    pub create_revision: i64,
}

/// What a log watch yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    /// An entry under the watched prefix.
    Entry(LogEntry),
    /// Every entry under the watched prefix up to and including this revision has been
    /// delivered: lets a view advance its revision while its prefix is quiet.
    Progress(i64),
}

/// One object as stored, returned by [`LogSource::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: Arc<str>,
    pub value: Bytes,
    pub create_revision: i64,
    /// The revision of the last write to the key: the object's resourceVersion.
    pub mod_revision: i64,
}

/// Why the log could not answer. A closed set, like the storage errors it is mapped from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The requested revision is older than the retained history: HTTP 410 Expired above.
    #[error("revision {requested} has been compacted; the oldest retained revision is {oldest}")]
    Compacted { requested: i64, oldest: i64 },
    /// The log cannot be reached right now; retrying later may succeed.
    #[error("log unavailable: {0}")]
    Unavailable(String),
    /// Anything else (corrupt data, a backend bug); not expected to heal by retrying.
    #[error("log error: {0}")]
    Other(String),
}

/// A stream of log items; it ends with an `Err` when it cannot continue.
pub type SourceStream = BoxStream<'static, Result<SourceItem, SourceError>>;

/// The event log as a view reads it.
///
/// Object-safe (futures and streams are boxed) so a view can hold an `Arc<dyn LogSource>` and the
/// root can hand it any backend without making the view generic.
pub trait LogSource: Send + Sync + 'static {
    /// The revision of the latest entry in the whole log.
    fn current_revision(&self) -> BoxFuture<'_, Result<i64, SourceError>>;

    /// Every object under `prefix` (which ends with `/`) in key order, read at one revision: the
    /// current one, or `at`. Returns the objects and the revision they were read at. An adapter
    /// over a paginated backend reads all pages at the first page's revision.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        at: Option<i64>,
    ) -> BoxFuture<'a, Result<(Vec<StoredObject>, i64), SourceError>>;

    /// Every entry under `prefix` with a revision greater than `after`, in revision order, then
    /// new entries as they are written. A failure to start (such as `after` being compacted) is
    /// the stream's first and only item.
    fn watch(&self, prefix: &str, after: i64) -> SourceStream;
}
