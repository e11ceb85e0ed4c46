//! Materialized views of kube-ledger's event log: GET and LIST served from memory, and WATCH
//! fanned out to thousands of watchers from ONE log subscription per resource view.
//!
//! Without it each watch would open its own storage watch, decode every event and encode it for
//! itself. A [`View`] does that work once per resource: it follows the log with a single
//! subscription, decodes each object once, keeps the current objects and a window of recent
//! events, and hands every event to the interested watchers as a shared `Arc`, whose encodings
//! are cached so each (version, encoding, event type) is serialized once for all watchers. This
//! is the role of k8s.io/apiserver's `cacher`.
//!
//! This crate knows nothing of HTTP, etcd or SQLite, and does not depend on kube-ledger's root
//! package (the root depends on it): it reads the log through its own [`LogSource`] trait, which
//! the root implements over its storage. A view only needs [`LogSource::watch`] of its prefix to
//! say, by entries and [`SourceItem::Progress`], how far the log has gone; the root serves every
//! view's watch from one storage watch of the whole log, so a view whose prefix is idle still
//! advances with each revision.
//!
//! # Layout
//! - [`source`]: the inputs — [`LogSource`], [`LogEntry`], [`SourceItem`], [`SourceError`].
//! - `view`: the [`View`] handle — start, consistent reads ([`View::wait_until`],
//!   [`View::get`], [`View::list`], [`View::events_since`]) and [`View::watch`] — and the
//!   shared state and its two locks.
//! - `follow`: the view's one task, a state machine (`Loading`, `Following`, `Resuming`,
//!   `Relisting`) that keeps the state in step with the log.
//! - `state`: the materialized state — objects by key (which doubles as the namespace index) and
//!   the window of recent events — as plain synchronous data.
//! - `dispatch`: the registry of live watchers, indexed by namespace and by index hint, and the
//!   non-blocking fan-out that closes a watcher whose buffer is full.
//! - `queue`: one live watcher's bounded queue of events, pushed without waiting by the
//!   dispatcher and taken all at once by the watcher's task.
//! - `index`: index hints — [`IndexValue`] (a watcher's "my selector requires `key=value`"),
//!   [`IndexKey`], [`IndexedField`] (a field a view indexes) — and how a key's value is read from
//!   an object.
//! - `watcher`: the public side of one watch — [`WatchRequest`], [`Watcher`] (a stream of
//!   [`WatcherEvent`]s), [`WatchStart`], [`WatchError`] — and its semantics.
//! - `cursor`: the state machine behind a [`Watcher`] — initial state, window, replay from the
//!   log and the join, selector transitions, bookmarks, terminal errors.
//! - `event`: [`Object`] (decoded once), [`ViewEvent`] (shared by all watchers, with its
//!   encode-once cache) and [`EncodingKey`].
//! - `metrics`: [`ViewMetrics`], plain atomic counters the root exports.
//!
//! # Data flow
//! ```text
//! LogSource::list + LogSource::watch (one per view; the root demultiplexes one log watch)
//!   └▶ follower task: decode once ─▶ state (objects + window) ─▶ dispatch ─▶ publish revision
//!        dispatch: try_send(Arc<ViewEvent>) into each interested watcher's queue
//!          └▶ Watcher (the client's task): selector transitions, bookmarks ─▶ WatcherEvent
//!               └▶ root: Change::encoded(key, encode) ─▶ shared Bytes ─▶ HTTP body
//! ```
//! "Interested" is, per event: the watchers of every namespace and of the event's namespace that
//! have no index hint, plus those whose hint `(key, value)` the object has after the event or had
//! before it — the key's value read once per event from the object decoded once, never per
//! watcher. The hint only narrows who is handed the event: each watcher still applies its full
//! filter, so its stream is the same with or without a hint (a hint must be a necessary
//! condition of the filter; the root derives one from `k=v`, `k==v` or `k in (v)` label
//! requirements and `f=v` field requirements on indexed fields). Bookmarks do not go through
//! dispatch: each watcher's own timer reads the view's published revision.
//! A watcher resuming from a revision older than the window reads the log itself until it meets
//! the window, then joins the fan-out; see [`WatchStart::ReplayFromLog`].
//!
//! Shutdown is a parameter of [`View::start`]: when that future completes, the follower stops and
//! every watcher's stream ends.

mod cursor;
mod dispatch;
mod event;
mod follow;
mod index;
mod metrics;
mod queue;
pub mod source;
mod state;
mod view;
mod watcher;

pub use event::{EncodingKey, Object, ObjectEncodings, ViewEvent, WatchEventType};
pub use index::{IndexKey, IndexValue, IndexedField};
pub use metrics::ViewMetrics;
pub use source::{
    EntryKind, LogEntry, LogSource, SourceError, SourceItem, SourceStream, StoredObject,
};
pub use view::{NotInWindow, View, ViewConfig, ViewError};
pub use watcher::{
    Change, DEFAULT_BUFFER, Filter, WatchError, WatchRequest, WatchStart, Watcher, WatcherEvent,
};

#[cfg(test)]
mod tests;
