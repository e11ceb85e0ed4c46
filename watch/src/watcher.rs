//! One watch of a view, as the root sees it: [`WatchRequest`] in, [`Watcher`] (a stream of
//! [`WatcherEvent`]s) out. The semantics are documented on [`Watcher`]; the state machine that
//! carries them out is in `cursor`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{BoxStream, Stream};
use serde_json::Value;

use crate::event::{EncodingKey, Object, ViewEvent, WatchEventType};
use crate::index::IndexValue;

/// A selector over an object's decoded JSON (labels, fields): `true` to see the object.
pub type Filter = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// The buffer of [`WatchRequest::new`]: events a watcher may have pending before it is closed.
pub const DEFAULT_BUFFER: usize = 100;

/// What to watch and from where.
#[derive(Clone)]
pub struct WatchRequest {
    /// `None`: the current state as `ADDED` first. `Some(r)`: every event after revision `r`.
    pub after: Option<i64>,
    /// Only this namespace's objects; `None` for every namespace (and for cluster-scoped
    /// resources).
    pub namespace: Option<String>,
    pub filter: Filter,
    /// The one value `filter` requires of an indexed key, if any: the dispatcher then hands this
    /// watcher only the events whose object has that value before or after the event, instead
    /// of every event of its namespace. It must be a necessary condition of `filter` (see
    /// [`IndexValue`]); `filter` is still applied to every event handed over, so what the watcher
    /// sends is the same with or without it. `None`: every event of the namespace.
    pub index: Option<IndexValue>,
    /// Live events this watcher may have pending before it is closed as fallen behind. Events
    /// from the window or the initial state do not count against it.
    pub buffer: usize,
    /// Send a [`WatcherEvent::Bookmark`] every [`crate::ViewConfig::bookmark_interval`] when the
    /// view's revision moved past the last one this watcher reported.
    pub bookmarks: bool,
    /// With `after: None`: end the initial state with a bookmark marked `initial_events_end`
    /// (the watch-list protocol's `k8s.io/initial-events-end`).
    pub initial_events_end: bool,
}

impl WatchRequest {
    /// Every object of every namespace, from `after`, with the default buffer.
    pub fn new(after: Option<i64>) -> WatchRequest {
        WatchRequest {
            after,
            namespace: None,
            filter: Arc::new(|_| true),
            index: None,
            buffer: DEFAULT_BUFFER,
            bookmarks: false,
            initial_events_end: false,
        }
    }

    pub fn namespace(mut self, namespace: impl Into<String>) -> WatchRequest {
        self.namespace = Some(namespace.into());
        self
    }

    pub fn filter(mut self, filter: impl Fn(&Value) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Sets the index hint; see [`WatchRequest::index`].
    pub fn index(mut self, index: IndexValue) -> WatchRequest {
        self.index = Some(index);
        self
    }

    pub fn buffer(mut self, buffer: usize) -> WatchRequest {
        self.buffer = buffer;
        self
    }

    pub fn bookmarks(mut self, bookmarks: bool) -> WatchRequest {
        self.bookmarks = bookmarks;
        self
    }

    pub fn initial_events_end(mut self, initial_events_end: bool) -> WatchRequest {
        self.initial_events_end = initial_events_end;
        self
    }
}

impl std::fmt::Debug for WatchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchRequest")
            .field("after", &self.after)
            .field("namespace", &self.namespace)
            .field("index", &self.index)
            .field("buffer", &self.buffer)
            .field("bookmarks", &self.bookmarks)
            .field("initial_events_end", &self.initial_events_end)
            .finish_non_exhaustive()
    }
}

/// Where a watch started; see [`Watcher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchStart {
    /// The state at `revision` is sent as `ADDED`, then every event after it.
    InitialState { revision: i64 },
    /// The window holds every event after `after`.
    Window { after: i64 },
    /// `after` is older than the window, which starts after `window_start`: the watcher replays
    /// the log from `after` until it reaches the window, then joins the live events.
    ReplayFromLog { after: i64, window_start: i64 },
}

/// An object as one watcher sees it, with what the root needs to encode it once.
#[derive(Debug, Clone)]
pub struct Change {
    pub(crate) revision: i64,
    pub(crate) object: Arc<Object>,
    pub(crate) event: Option<Arc<ViewEvent>>,
}

impl Change {
    /// The resourceVersion to serve: the event's revision (also for a `DELETED` object, whose
    /// stored revision is older), or the object's own for the initial state.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// The object to serve: after the event, or before it for `DELETED`.
    pub fn object(&self) -> &Arc<Object> {
        &self.object
    }

    /// The event this change comes from; `None` for the initial state.
    pub fn event(&self) -> Option<&Arc<ViewEvent>> {
        self.event.as_ref()
    }

    /// The encoding for `key` (which must name this change's event type), shared with every other
    /// watcher of the same event through [`ViewEvent::encoded`]. Initial-state objects are
    /// encoded afresh each time: caching on long-lived objects would pin an encoding per format
    /// for as long as the object lives.
    pub fn encoded(&self, key: EncodingKey, encode: impl FnOnce() -> Bytes) -> Bytes {
        match &self.event {
            Some(event) => event.encoded(key, encode),
            None => encode(),
        }
    }
}

/// One item of a watch.
#[derive(Debug, Clone)]
pub enum WatcherEvent {
    Added(Change),
    Modified(Change),
    Deleted(Change),
    /// Every event up to `revision` has been delivered.
    Bookmark {
        revision: i64,
        initial_events_end: bool,
    },
    /// The last item of the stream.
    Error(WatchError),
}

impl WatcherEvent {
    /// The event type and change of an `ADDED`, `MODIFIED` or `DELETED` item.
    pub fn change(&self) -> Option<(WatchEventType, &Change)> {
        match self {
            WatcherEvent::Added(change) => Some((WatchEventType::Added, change)),
            WatcherEvent::Modified(change) => Some((WatchEventType::Modified, change)),
            WatcherEvent::Deleted(change) => Some((WatchEventType::Deleted, change)),
            WatcherEvent::Bookmark { .. } | WatcherEvent::Error(_) => None,
        }
    }
}

/// Why a watch ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// Its buffer was full when an event arrived. Kubernetes clients re-watch from their last
    /// resourceVersion; `resume_after` is the newest revision this watcher had fully processed.
    #[error("the watcher fell behind; resume after revision {resume_after}")]
    FellBehind { resume_after: i64 },
    /// The view re-listed (its log watch could not continue).
    #[error("the view re-listed; resume after revision {resume_after}")]
    Resync { resume_after: i64 },
    /// The log no longer holds the revision to replay from: HTTP 410 Expired.
    #[error("revision {requested} has been compacted; the oldest retained revision is {oldest}")]
    Expired { requested: i64, oldest: i64 },
    /// Replaying from the log failed.
    #[error("the log is unavailable: {message}; resume after revision {resume_after}")]
    Unavailable { resume_after: i64, message: String },
}

impl WatchError {
    /// Where a new watch can resume without loss; `None` for [`WatchError::Expired`].
    pub fn resume_after(&self) -> Option<i64> {
        match self {
            WatchError::FellBehind { resume_after }
            | WatchError::Resync { resume_after }
            | WatchError::Unavailable { resume_after, .. } => Some(*resume_after),
            WatchError::Expired { .. } => None,
        }
    }
}

/// A running watch: a `Stream` of [`WatcherEvent`]s for one client. Dropping it unregisters it.
///
/// # Where a watch starts
/// - `after: None`: the current state of its namespace as `ADDED`, read at one revision under the
///   registry lock, then every event after that revision ([`WatchStart::InitialState`]).
/// - `after: Some(r)` with `r` inside the window: the window's events after `r`, then live events
///   ([`WatchStart::Window`]). An `r` ahead of the view works too: events up to `r` are skipped.
/// - `after: Some(r)` older than the window ([`WatchStart::ReplayFromLog`]): the watcher itself
///   reads the log from `r` (through the view's [`crate::LogSource`]) and, after each item, checks
///   whether its position has reached the window; once it has, it joins exactly like a watch from
///   the window at that position (under the registry lock, so with no gap and no duplicate) and
///   drops the log stream. A revision the log no longer holds ends the stream with
///   [`WatchError::Expired`] (410): only those.
///
///   Why the watcher joins by itself rather than handing the caller a bound `until` to replay to:
///   a log watch is open-ended, so replaying "up to `until`" needs an item past `until` to know it
///   is done, which may never come on a quiet prefix; and the moment of joining must be decided
///   under the view's lock to be gap-free, which only the view can do. Replaying watchers are not
///   registered, so they cost the dispatcher nothing and cannot fall behind while they catch up.
///
/// # Selectors
/// A watcher's filter is applied to both sides of each event, as kube-apiserver does: an object
/// that starts matching is `ADDED`, one that stops matching is `DELETED` (with its previous
/// state), one that matches before and after is `MODIFIED`. Filtering happens in the watcher's
/// own task, not in the dispatcher, so selector cost is spread over the watchers' tasks.
///
/// A watcher with an index hint ([`WatchRequest::index`]) is only handed the events whose object
/// has the hinted value before or after the event; the others are events its filter would have
/// dropped, so it sends exactly what it would send without the hint. Only its position moves
/// less on its own (an event never handed over does not move it; a bookmark does), so a watcher
/// closed as fallen behind may be told to resume from an earlier revision: it repeats nothing.
///
/// # How a stream ends
/// With one terminal [`WatcherEvent::Error`] saying where to resume ([`WatchError::resume_after`]),
/// or with no item at all when the view shut down. Every event before the error was delivered,
/// so resuming from that revision loses nothing and repeats nothing.
pub struct Watcher {
    start: WatchStart,
    events: BoxStream<'static, WatcherEvent>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").field("start", &self.start).finish_non_exhaustive()
    }
}

impl Stream for Watcher {
    type Item = WatcherEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatcherEvent>> {
        self.events.poll_next_unpin(cx)
    }
}

impl Watcher {
    /// Where this watch started.
    pub fn start_point(&self) -> WatchStart {
        self.start
    }

    pub(crate) fn new(start: WatchStart, events: BoxStream<'static, WatcherEvent>) -> Watcher {
        Watcher { start, events }
    }
}
