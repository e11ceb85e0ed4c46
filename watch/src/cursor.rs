//! The state machine behind a [`Watcher`]: one [`Cursor`] (what the watch knows) stepped through
//! its [`Phase`]s (`Initial` → `Live`, or `Replaying` → `Live`, then `Done`) by
//! [`Steps::poll_next`], a hand-written `Stream` (not `stream::unfold` over an async step: that
//! built and moved a future holding the whole cursor for every event of every watcher, which
//! showed in fan-out profiles). The semantics are documented on [`Watcher`]; this module is how
//! they are carried out.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::Stream;
use futures::{FutureExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::dispatch::CloseReason;
use crate::event::{Object, ViewEvent};
use crate::index::IndexValue;
use crate::queue::QueueRx;
use crate::source::{EntryKind, SourceError, SourceItem, SourceStream};
use crate::view::{Head, Shared, ViewError};
use crate::watcher::{Change, Filter, WatchError, WatchRequest, WatchStart, Watcher, WatcherEvent};

/// Starts a watch: registers it (or not, when it must replay first) and builds its stream.
pub(crate) fn start(shared: Arc<Shared>, request: WatchRequest) -> Result<Watcher, ViewError> {
    let namespace: Option<Arc<str>> = request.namespace.as_deref().map(Arc::from);
    let bookmarks = request.bookmarks.then(|| {
        let interval = shared.config.bookmark_interval;
        let tick = Box::pin(tokio::time::sleep(interval));
        Bookmarks { interval, tick }
    });
    let key_prefix = namespace.as_ref().map(|ns| format!("{}{ns}/", shared.prefix));
    let mut cursor = Cursor {
        shared: shared.clone(),
        namespace: namespace.clone(),
        key_prefix,
        filter: request.filter,
        index: request.index,
        buffer: request.buffer,
        last: 0,
        reported: 0,
        head: shared.head.subscribe(),
        bookmarks,
        initial_events_end: request.initial_events_end,
    };
    let (start, phase) = match request.after {
        None => {
            let (objects, revision, live) = shared.subscribe_from_state(
                namespace.as_ref(),
                cursor.index.as_ref(),
                cursor.buffer,
            )?;
            cursor.last = revision;
            let objects = objects.into_iter();
            (WatchStart::InitialState { revision }, Phase::Initial { objects, revision, live })
        }
        Some(after) => {
            cursor.last = after;
            match shared.join(after, namespace.as_ref(), cursor.index.as_ref(), cursor.buffer)? {
                Some(live) => (WatchStart::Window { after }, Phase::Live(live)),
                None => {
                    let window_start = shared.window_start.load(Ordering::Acquire);
                    let prefix = cursor.key_prefix.as_deref().unwrap_or(&shared.prefix);
                    let stream = shared.source.watch(prefix, after);
                    // A replaying watcher is not registered, so the view's shutdown cannot close
                    // its queue: it watches the view's head instead.
                    let mut head = shared.head.subscribe();
                    let stopped = async move {
                        let _ = head.wait_for(|head| head.stopped).await;
                    };
                    let stopped = stopped.boxed();
                    let start = WatchStart::ReplayFromLog { after, window_start };
                    (start, Phase::Replaying { stream, stopped })
                }
            }
        }
    };
    cursor.reported = cursor.last;
    Ok(Watcher::new(start, Steps { cursor, phase }.boxed()))
}

/// A live watcher's end of the fan-out.
pub(crate) struct Live {
    /// Window events to deliver before the channel's.
    pub(crate) backlog: VecDeque<Arc<ViewEvent>>,
    /// The live events, and why the view closed the queue when it did.
    pub(crate) rx: QueueRx,
    /// Held for its `Drop`.
    pub(crate) _registration: Registration,
}

/// Unregisters a watcher when its stream is dropped, so the registry never fills with dead
/// senders between events.
pub(crate) struct Registration {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

struct Bookmarks {
    interval: Duration,
    tick: Pin<Box<Sleep>>,
}

/// The phase of a watch: a state machine stepped by [`Steps::poll_next`].
enum Phase {
    /// Sending the initial state, then live.
    Initial {
        objects: std::vec::IntoIter<Arc<Object>>,
        revision: i64,
        live: Live,
    },
    /// Reading the log until the position reaches the view's window; `stopped` completes when
    /// the view stops.
    Replaying {
        stream: SourceStream,
        stopped: Pin<Box<dyn Future<Output = ()> + Send>>,
    },
    /// Sending the window's backlog, then the channel's events.
    Live(Live),
    Done,
}

/// What a watch knows besides its phase.
struct Cursor {
    shared: Arc<Shared>,
    namespace: Option<Arc<str>>,
    /// `prefix + namespace + "/"`, for namespaced watchers.
    key_prefix: Option<String>,
    filter: Filter,
    /// The hint the watcher registers with; `filter` is still applied to every event.
    index: Option<IndexValue>,
    buffer: usize,
    /// Every event up to this revision has been processed (delivered or filtered out).
    last: i64,
    /// The newest revision the client was told about (by an event or a bookmark).
    reported: i64,
    /// The view's published revision (for bookmarks) and whether it stopped (for replays).
    head: watch::Receiver<Head>,
    bookmarks: Option<Bookmarks>,
    initial_events_end: bool,
}

/// Where a step leaves the phase.
enum Step {
    Stay,
    /// The initial state was sent: live from here.
    InitialSent,
    /// A replay joined the live events.
    Joined(Live),
    Done,
}

/// A watch: its cursor stepped through its phases. Once `Done`, it answers `None` for good (a
/// fused stream).
struct Steps {
    cursor: Cursor,
    phase: Phase,
}

impl Stream for Steps {
    type Item = WatcherEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatcherEvent>> {
        let Steps { cursor, phase } = self.get_mut();
        loop {
            let (item, step) = match phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Initial { objects, revision, .. } => match objects.next() {
                    Some(object) => {
                        let change = Change { revision: object.mod_revision, object, event: None };
                        let item = (cursor.filter)(&change.object.json)
                            .then_some(WatcherEvent::Added(change));
                        (item, Step::Stay)
                    }
                    None => {
                        let end = WatcherEvent::Bookmark {
                            revision: *revision,
                            initial_events_end: true,
                        };
                        (cursor.initial_events_end.then_some(end), Step::InitialSent)
                    }
                },
                Phase::Replaying { stream, stopped } => {
                    match cursor.poll_replay(stream, stopped.as_mut(), cx) {
                        Poll::Ready(step) => step,
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Phase::Live(live) => match cursor.poll_live(live, cx) {
                    Poll::Ready(step) => step,
                    Poll::Pending => return Poll::Pending,
                },
            };
            match step {
                Step::Stay => {}
                Step::InitialSent => {
                    if let Phase::Initial { live, .. } = std::mem::replace(phase, Phase::Done) {
                        *phase = Phase::Live(live);
                    }
                }
                Step::Joined(live) => *phase = Phase::Live(live),
                Step::Done => *phase = Phase::Done,
            }
            if let Some(item) = item {
                return Poll::Ready(Some(item));
            }
        }
    }
}

impl Cursor {
    fn poll_live(
        &mut self,
        live: &mut Live,
        cx: &mut Context<'_>,
    ) -> Poll<(Option<WatcherEvent>, Step)> {
        // Whatever is ready is taken before anything else (a bookmark only goes to an idle
        // watcher).
        if let Some(event) = live.backlog.pop_front() {
            return Poll::Ready((self.accept(&event), Step::Stay));
        }
        match live.rx.poll_recv(cx) {
            Poll::Ready(Some(event)) => return Poll::Ready((self.accept(&event), Step::Stay)),
            Poll::Ready(None) => return Poll::Ready((self.closed(live), Step::Done)),
            Poll::Pending => {}
        }
        let tick = self.bookmarks.as_mut().map(|bookmarks| bookmarks.tick.as_mut().poll(cx));
        match tick {
            Some(Poll::Ready(())) => Poll::Ready((self.bookmark(live), Step::Stay)),
            Some(Poll::Pending) | None => Poll::Pending,
        }
    }

    fn poll_replay(
        &mut self,
        stream: &mut SourceStream,
        stopped: Pin<&mut (dyn Future<Output = ()> + Send)>,
        cx: &mut Context<'_>,
    ) -> Poll<(Option<WatcherEvent>, Step)> {
        if stopped.poll(cx).is_ready() {
            return Poll::Ready((None, Step::Done));
        }
        let next = match stream.poll_next_unpin(cx) {
            Poll::Ready(next) => next,
            Poll::Pending => return Poll::Pending,
        };
        let item = match next {
            Some(Ok(SourceItem::Entry(entry))) => {
                if entry.revision <= self.last {
                    None
                } else {
                    let event = self.shared.replayed_event(entry);
                    self.accept(&event)
                }
            }
            Some(Ok(SourceItem::Progress(revision))) => {
                self.last = self.last.max(revision);
                None
            }
            Some(Err(SourceError::Compacted { requested, oldest })) => {
                let expired = WatcherEvent::Error(WatchError::Expired { requested, oldest });
                return Poll::Ready((Some(expired), Step::Done));
            }
            Some(Err(err)) => {
                return Poll::Ready((Some(self.unavailable(err.to_string())), Step::Done));
            }
            None => {
                let ended = self.unavailable("the log watch ended".into());
                return Poll::Ready((Some(ended), Step::Done));
            }
        };
        Poll::Ready((item, self.try_join()))
    }

    /// Joins the live events if the window now reaches back to `last`; keeps replaying if not.
    fn try_join(&mut self) -> Step {
        // The lock-free pre-check keeps a long replay from taking the registry lock per item.
        if self.last < self.shared.window_start.load(Ordering::Acquire) {
            return Step::Stay;
        }
        let hint = self.index.as_ref();
        match self.shared.join(self.last, self.namespace.as_ref(), hint, self.buffer) {
            Ok(Some(live)) => Step::Joined(live),
            Ok(None) => Step::Stay,
            Err(_) => Step::Done, // the view stopped
        }
    }

    /// What `event` means to this watcher, if anything.
    fn accept(&mut self, event: &Arc<ViewEvent>) -> Option<WatcherEvent> {
        if event.revision <= self.last {
            return None;
        }
        self.last = event.revision;
        if let Some(prefix) = &self.key_prefix
            && !event.key.starts_with(prefix.as_str())
        {
            return None;
        }
        let matches = |object: &&Arc<Object>| (self.filter)(&object.json);
        let now = event.object.as_ref().filter(matches);
        let before = match event.kind {
            EntryKind::Created => None,
            EntryKind::Updated | EntryKind::Deleted => event.prev.as_ref().filter(matches),
        };
        let change = |object: &Arc<Object>| Change {
            revision: event.revision,
            object: object.clone(),
            event: Some(event.clone()),
        };
        let item = match (before, now) {
            (None, Some(now)) => WatcherEvent::Added(change(now)),
            (Some(_), Some(now)) => WatcherEvent::Modified(change(now)),
            (Some(before), None) => WatcherEvent::Deleted(change(before)),
            (None, None) => return None,
        };
        self.reported = event.revision;
        Some(item)
    }

    /// A bookmark at the view's revision, if this watcher has nothing pending and has not
    /// reported that revision yet.
    fn bookmark(&mut self, live: &Live) -> Option<WatcherEvent> {
        let bookmarks = self.bookmarks.as_mut()?;
        bookmarks.tick.as_mut().reset(Instant::now() + bookmarks.interval);
        // Read the revision BEFORE looking at the channel: the view publishes a revision only
        // after dispatching its events, so an empty channel now means every event up to it
        // has been received.
        let revision = self.head.borrow().revision;
        let drained = live.backlog.is_empty() && live.rx.is_empty();
        if !drained || revision <= self.reported || revision < self.last {
            return None;
        }
        self.last = revision;
        self.reported = revision;
        Some(WatcherEvent::Bookmark { revision, initial_events_end: false })
    }

    /// The terminal item after the view closed this watcher's channel (none on shutdown).
    fn closed(&self, live: &Live) -> Option<WatcherEvent> {
        let resume_after = self.last;
        let error = match live.rx.close_reason()? {
            CloseReason::FellBehind => WatchError::FellBehind { resume_after },
            CloseReason::Resync => WatchError::Resync { resume_after },
        };
        Some(WatcherEvent::Error(error))
    }

    fn unavailable(&self, message: String) -> WatcherEvent {
        WatcherEvent::Error(WatchError::Unavailable { resume_after: self.last, message })
    }
}
