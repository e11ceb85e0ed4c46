//! [`View`]: the handle to one resource's materialized view, and the shared state behind it.
//!
//! # Locks
//! Two `std::sync` locks, always taken in this order, never held across an `.await`:
//! 1. `watchers` (a `Mutex` over the [`Registry`]): held by the follower for the whole of one
//!    entry — apply, dispatch, publish — and by a watcher while it joins. Joining under it is
//!    what makes a join gap-free and duplicate-free: an event is either already in the window the
//!    joiner copies, or dispatched to the joiner after it registered, never both or neither.
//! 2. `store` (an `RwLock` over the [`Store`]): written only while an entry is applied (not
//!    while it is dispatched), so GET and LIST, which only read it, run beside the fan-out.
//!
//! Tokio's async locks would buy nothing here (no critical section awaits) and would make every
//! read `async`. The revision is published last, after dispatch, through a `tokio::sync::watch`:
//! a reader that sees revision R knows every event up to R is in the store and in the channel of
//! every watcher it was dispatched to (bookmarks depend on that).

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::sync::{RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cursor::{self, Live, Registration};
use crate::dispatch::{CloseReason, Registry, Slot};
use crate::event::{Object, ViewEvent};
use crate::follow;
use crate::index::{IndexValue, IndexedField};
use crate::metrics::ViewMetrics;
use crate::queue;
use crate::source::{EntryKind, LogEntry, LogSource, SourceError, StoredObject};
use crate::state::{Store, WindowLimits};
use crate::watcher::{WatchRequest, Watcher};

/// How a view keeps history and talks to watchers.
#[derive(Debug, Clone)]
pub struct ViewConfig {
    /// At most this many recent events are kept for watchers that resume.
    pub window_events: usize,
    /// Events older than this leave the window (when the next event is applied) even when it is
    /// not full. A watcher that resumes from before the window replays from the log instead, so
    /// a smaller window costs log reads, never events.
    pub window_age: Duration,
    /// How often a watcher that asked for bookmarks gets one (when the revision moved).
    pub bookmark_interval: Duration,
    /// The first delay before retrying a failed list or log watch; doubled per failure.
    pub retry_backoff: Duration,
    /// The longest delay between retries.
    pub max_retry_backoff: Duration,
    /// The fields watchers can be indexed by (besides every label), for
    /// [`crate::WatchRequest::index`] hints naming a field; empty by default.
    pub indexed_fields: Vec<IndexedField>,
}

impl Default for ViewConfig {
    fn default() -> Self {
        ViewConfig {
            window_events: 10_000,
            // kube-apiserver's watch cache aims to keep 75 s of events.
            window_age: Duration::from_secs(75),
            bookmark_interval: Duration::from_secs(60),
            retry_backoff: Duration::from_millis(100),
            max_retry_backoff: Duration::from_secs(5),
            indexed_fields: Vec::new(),
        }
    }
}

/// Why a view could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The first list has not completed.
    #[error("the view is not loaded yet")]
    NotReady,
    /// The view did not reach `wanted` before the deadline.
    #[error("timed out waiting for revision {wanted}; the view is at revision {current}")]
    Timeout { wanted: i64, current: i64 },
    /// The view's task has stopped (shutdown).
    #[error("the view has stopped")]
    Stopped,
    /// Reading the log's current revision failed.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// [`View::events_since`] was asked for events the window no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("revision {requested} is older than the view's window, which starts after {window_start}")]
pub struct NotInWindow {
    pub requested: i64,
    pub window_start: i64,
}

/// The published position of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) revision: i64,
    pub(crate) loaded: bool,
    pub(crate) stopped: bool,
}

/// Everything a view's handles, watchers and follower task share.
pub(crate) struct Shared {
    /// The resource prefix, ending with `/` (`/pods/`).
    pub(crate) prefix: Arc<str>,
    pub(crate) config: ViewConfig,
    pub(crate) source: Arc<dyn LogSource>,
    store: RwLock<Store>,
    watchers: Mutex<Registry>,
    /// The published [`Head`]: readers wait on it; watchers read it for bookmarks.
    pub(crate) head: watch::Sender<Head>,
    /// A copy of the store's `window_start`, so a watcher replaying from the log can check
    /// whether it reached the window on every item without taking a lock.
    pub(crate) window_start: AtomicI64,
    pub(crate) metrics: Arc<ViewMetrics>,
}

/// One resource's materialized view of the log: its current objects, a window of recent events,
/// and the fan-out of those events to watchers. Cheap to clone; every clone is the same view.
///
/// The view runs one task (the follower) that lists the prefix, then follows the log from the
/// list's revision; it stops when the `shutdown` future given to [`View::start`] completes.
#[derive(Clone)]
pub struct View {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("prefix", &self.shared.prefix)
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

impl View {
    /// Starts the view of `prefix` (a `/` is appended when missing) on the current Tokio runtime.
    /// Returns at once; reads fail with [`ViewError::NotReady`] until the first list is loaded,
    /// and [`View::wait_until`] waits for it.
    pub fn start(
        source: Arc<dyn LogSource>,
        prefix: impl Into<String>,
        config: ViewConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> View {
        let mut prefix = prefix.into();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        let limits = WindowLimits { max_events: config.window_events, max_age: config.window_age };
        let watchers = Registry::new(config.indexed_fields.clone());
        let (head, _) = watch::channel(Head { revision: 0, loaded: false, stopped: false });
        let shared = Arc::new(Shared {
            prefix: prefix.into(),
            config,
            source,
            store: RwLock::new(Store::new(limits)),
            watchers: Mutex::new(watchers),
            head,
            window_start: AtomicI64::new(0),
            metrics: Arc::default(),
        });
        tokio::spawn(follow::run(shared.clone(), shutdown));
        View { shared }
    }

    /// The resource prefix this view serves.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// The revision the view is at, once loaded.
    pub fn revision(&self) -> Option<i64> {
        let head = *self.shared.head.borrow();
        head.loaded.then_some(head.revision)
    }

    /// Waits until the view is loaded and at `revision` or later. For a consistent read, pass the
    /// log's current revision (or use [`View::catch_up`]): the view then reflects every write
    /// acknowledged before the read began.
    pub async fn wait_until(&self, revision: i64, deadline: Instant) -> Result<(), ViewError> {
        let mut head = self.shared.head.subscribe();
        let reached = |h: &Head| h.stopped || (h.loaded && h.revision >= revision);
        // Most consistent reads find the view there already: no timer for them.
        let now = *head.borrow_and_update();
        if reached(&now) {
            return if now.stopped { Err(ViewError::Stopped) } else { Ok(()) };
        }
        let outcome = match tokio::time::timeout_at(deadline, head.wait_for(reached)).await {
            Ok(Ok(h)) => Ok(h.stopped),
            Ok(Err(_)) => Ok(true),
            Err(_) => Err(()),
        };
        match outcome {
            Ok(false) => Ok(()),
            Ok(true) => Err(ViewError::Stopped),
            Err(()) => {
                Err(ViewError::Timeout { wanted: revision, current: head.borrow().revision })
            }
        }
    }

    /// Reads the log's current revision and waits until the view reaches it: the fence before a
    /// consistent GET or LIST. Returns that revision.
    pub async fn catch_up(&self, deadline: Instant) -> Result<i64, ViewError> {
        let read = tokio::time::timeout_at(deadline, self.shared.source.current_revision());
        let revision = read.await.map_err(|_| {
            SourceError::Unavailable("timed out reading the log's current revision".into())
        })??;
        self.wait_until(revision, deadline).await?;
        Ok(revision)
    }

    /// Completes once the view's task has stopped.
    pub async fn stopped(&self) {
        let mut head = self.shared.head.subscribe();
        let _ = head.wait_for(|h| h.stopped).await;
    }

    /// The object at `key` (a full key such as `/pods/default/web-0`), as of [`View::revision`].
    pub fn get(&self, key: &str) -> Result<Option<Arc<Object>>, ViewError> {
        let store = self.shared.read_store();
        if !store.loaded {
            return Err(ViewError::NotReady);
        }
        Ok(store.objects.get(key).cloned())
    }

    /// The objects of `namespace` (every object for `None`) that `filter` accepts, in key order,
    /// and the one revision they were all read at. The objects are snapshotted under the lock
    /// (a copy of `Arc`s) and filtered after it is released, so a slow filter never delays the
    /// follower.
    pub fn list(
        &self,
        namespace: Option<&str>,
        filter: &dyn Fn(&Value) -> bool,
    ) -> Result<(Vec<Arc<Object>>, i64), ViewError> {
        let (mut objects, revision) = {
            let store = self.shared.read_store();
            if !store.loaded {
                return Err(ViewError::NotReady);
            }
            (store.scope(&self.shared.prefix, namespace), store.revision)
        };
        objects.retain(|o| filter(&o.json));
        Ok((objects, revision))
    }

    /// The window's events after `after`, oldest first: every event of the resource with a
    /// revision in `(after, revision]`.
    pub fn events_since(&self, after: i64) -> Result<Vec<Arc<ViewEvent>>, NotInWindow> {
        let store = self.shared.read_store();
        store.since(after).ok_or(NotInWindow { requested: after, window_start: store.window_start })
    }

    /// Starts a watch; see [`WatchRequest`] and [`crate::WatchStart`] for where it starts.
    /// Fails only with [`ViewError::NotReady`] (before the first list) or
    /// [`ViewError::Stopped`].
    pub fn watch(&self, request: WatchRequest) -> Result<Watcher, ViewError> {
        cursor::start(self.shared.clone(), request)
    }

    /// How many objects the view holds, once loaded.
    pub fn object_count(&self) -> Option<usize> {
        let store = self.shared.read_store();
        store.loaded.then(|| store.objects.len())
    }

    /// The view's counters.
    pub fn metrics(&self) -> &ViewMetrics {
        &self.shared.metrics
    }

    /// How many watchers are registered for live events (watchers still replaying from the log
    /// are not).
    pub fn watcher_count(&self) -> usize {
        self.shared.lock_watchers().len()
    }
}

// Locking. A poisoned lock means a panic while it was held; the data are plain maps updated one
// entry at a time, so serving them is better than turning every later read into a panic.
impl Shared {
    fn lock_watchers(&self) -> MutexGuard<'_, Registry> {
        self.watchers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_store(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }
}

// The follower's side.
impl Shared {
    /// The revision the log watch resumes after.
    pub(crate) fn revision(&self) -> i64 {
        self.read_store().revision
    }

    /// Loads a list read at `revision`. On a relist, every watcher is closed with
    /// [`CloseReason::Resync`]: the events between the old and the new revision never reached
    /// the view, so their watchers resume from their own revision (from the log, if it still
    /// holds it; with 410 Expired if not).
    pub(crate) fn load(&self, objects: Vec<StoredObject>, revision: i64, relist: bool) {
        let errors = &self.metrics.decode_errors;
        let objects = objects.into_iter().map(|o| Object::from_stored(o, errors)).collect();
        let mut watchers = self.lock_watchers();
        self.write_store().replace(objects, revision);
        self.window_start.store(revision, Ordering::Release);
        if relist {
            watchers.close_all(Some(CloseReason::Resync));
            self.metrics.relists.fetch_add(1, Ordering::Relaxed);
        }
        self.publish(revision);
    }

    /// Applies one entry and dispatches its event.
    pub(crate) fn apply(&self, entry: LogEntry) {
        if !entry.key.starts_with(&*self.prefix) {
            tracing::warn!(key = %entry.key, prefix = %self.prefix, "entry outside the prefix");
            return self.progress(entry.revision);
        }
        if entry.kind != EntryKind::Deleted && entry.value.is_none() {
            tracing::warn!(key = %entry.key, revision = entry.revision, "entry without a value");
            return self.progress(entry.revision);
        }
        // Decode before taking any lock.
        let object = entry.value.clone().map(|value| {
            let (key, errors) = (entry.key.clone(), &self.metrics.decode_errors);
            Object::decode(key, value, entry.create_revision, entry.revision, errors)
        });
        let mut watchers = self.lock_watchers();
        let (event, revision, window_start) = {
            let mut store = self.write_store();
            let event = store.apply(entry, object, &self.metrics);
            (event, store.revision, store.window_start)
        };
        self.window_start.store(window_start, Ordering::Release);
        if let Some(event) = &event {
            let namespace = event.namespace(&self.prefix);
            watchers.dispatch(event, namespace, &self.metrics);
        }
        self.publish(revision);
    }

    /// Moves the revision forward without an event.
    pub(crate) fn progress(&self, revision: i64) {
        let _watchers = self.lock_watchers();
        if self.write_store().advance(revision) {
            self.publish(revision);
        }
    }

    /// Ends every watcher's stream and marks the view stopped.
    pub(crate) fn stop(&self) {
        let mut watchers = self.lock_watchers();
        watchers.close_all(None);
        self.head.send_modify(|head| head.stopped = true);
    }

    fn publish(&self, revision: i64) {
        self.head.send_if_modified(|head| {
            let changed = head.revision != revision || !head.loaded;
            head.revision = revision;
            head.loaded = true;
            changed
        });
    }
}

// The watchers' side.
impl Shared {
    /// Registers a watcher that starts with the current state: returns the objects of
    /// `namespace`, the revision they are at, and the watcher's live end, which receives every
    /// event after that revision.
    pub(crate) fn subscribe_from_state(
        self: &Arc<Self>,
        namespace: Option<&Arc<str>>,
        hint: Option<&IndexValue>,
        buffer: usize,
    ) -> Result<(Vec<Arc<Object>>, i64, Live), ViewError> {
        let mut watchers = self.lock_watchers();
        self.check_open()?;
        let store = self.read_store();
        if !store.loaded {
            return Err(ViewError::NotReady);
        }
        let objects = store.scope(&self.prefix, namespace.map(|n| &**n));
        let live = self.register(&mut watchers, namespace, hint, buffer, Vec::new());
        Ok((objects, store.revision, live))
    }

    /// Registers a watcher that has seen everything up to `after`, if the window still holds
    /// every event after it: returns its live end, primed with those events. `Ok(None)` when the
    /// window starts after `after` (the watcher must replay from the log first).
    pub(crate) fn join(
        self: &Arc<Self>,
        after: i64,
        namespace: Option<&Arc<str>>,
        hint: Option<&IndexValue>,
        buffer: usize,
    ) -> Result<Option<Live>, ViewError> {
        let mut watchers = self.lock_watchers();
        self.check_open()?;
        let store = self.read_store();
        if !store.loaded {
            return Err(ViewError::NotReady);
        }
        let Some(backlog) = store.since(after) else { return Ok(None) };
        Ok(Some(self.register(&mut watchers, namespace, hint, buffer, backlog)))
    }

    fn check_open(&self) -> Result<(), ViewError> {
        if self.head.borrow().stopped { Err(ViewError::Stopped) } else { Ok(()) }
    }

    fn register(
        self: &Arc<Self>,
        watchers: &mut Registry,
        namespace: Option<&Arc<str>>,
        hint: Option<&IndexValue>,
        buffer: usize,
        backlog: Vec<Arc<ViewEvent>>,
    ) -> Live {
        let (tx, rx) = queue::queue(buffer);
        let id = watchers.add(namespace, hint, Slot { tx });
        let registration = Registration { shared: self.clone(), id };
        Live { backlog: backlog.into(), rx, _registration: registration }
    }

    /// Forgets a watcher whose stream was dropped.
    pub(crate) fn unregister(&self, id: u64) {
        self.lock_watchers().remove(id);
    }

    /// An event read from the log by a watcher that is replaying: decoded for that watcher only,
    /// with the previous object from the entry (the view's state is past it).
    pub(crate) fn replayed_event(&self, entry: LogEntry) -> Arc<ViewEvent> {
        let errors = &self.metrics.decode_errors;
        let LogEntry { revision, key, kind, value, prev_value, create_revision } = entry;
        let object = value
            .map(|v| Arc::new(Object::decode(key.clone(), v, create_revision, revision, errors)));
        let prev = match kind {
            EntryKind::Created => None,
            // The log does not say when the previous value was written.
            _ => prev_value.map(|v| Arc::new(Object::decode(key.clone(), v, 0, 0, errors))),
        };
        Arc::new(ViewEvent::new(revision, kind, key, object, prev, self.metrics.clone()))
    }
}
