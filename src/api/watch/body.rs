//! The body of a watch response, written as one state machine: the store's events, each encoded
//! once (shared bytes), joined into frames of every event ready at once — at most one frame per
//! [`LINGER`] per watcher — until `timeoutSeconds`, shutdown, the end of the events or an `ERROR`
//! event, then a closing bookmark when the watch timed out.
//!
//! Why one hand-written `http_body::Body` rather than stream combinators (`take_until`, `scan`,
//! `chain`, `then`, `map`, `Body::from_stream`): with a thousand watchers of every write, the
//! per-event layers were a tenth of the server's CPU in profiles (a future built per event for
//! `then`, a poll through each layer), and each layer's state is memory every idle watch holds.
//!
//! Why frames are joined, and why at most one per [`LINGER`]: each frame is an HTTP/1.1 chunk or
//! HTTP/2 DATA frame, a TLS record, and usually a `writev` of its own. A watcher whose events come
//! one at a time at a high rate would pay all of that per event; instead, a frame goes out at once
//! when the previous one left more than [`LINGER`] ago (a quiet watch sees no added latency), and
//! otherwise the events wait — without the watcher's task being woken for each — and go out
//! together when the linger ends. Under load each watcher then costs one wakeup, one record and
//! one write per [`LINGER`], however many events that is.
//!
//! Data flow: the store's events → [`WatchBody::drain`] (resume point, encode or await a
//! conversion webhook, join) → a frame when the linger allows → hyper.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use http_body::Frame;
use tokio::time::{Instant, Sleep};

use super::{Encoder, SentEvents};
use crate::registry::store::WatchEvent;

/// The shortest time between two frames of one watch: events that arrive sooner after a frame
/// wait for the next one. It is the most a frame adds to an event's latency.
pub(super) const LINGER: Duration = Duration::from_millis(10);

/// At most this many bytes are joined into one frame (more are left for the next): a frame is
/// then at most four TLS records, and a watcher far behind still yields the connection to its
/// other work between frames. A full frame goes out without waiting for the linger.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// What the watch knows about where its client could resume.
pub(super) struct Resume {
    /// The client asked for bookmarks (so it gets a closing one at the deadline).
    pub(super) bookmarks: bool,
    /// Whether object events are resume points (they are not in an initial state sent without a
    /// watch-list bookmark: their revisions are older than the state they belong to).
    pub(super) objects_are_resume_points: bool,
    /// The revision the client has been brought up to: its last resume point's.
    pub(super) last: i64,
}

impl Resume {
    fn saw(&mut self, event: &WatchEvent) {
        let resume_point =
            self.objects_are_resume_points || matches!(event, WatchEvent::Bookmark { .. });
        if let Some(revision) = event.revision().filter(|_| resume_point) {
            self.last = self.last.max(revision);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Streaming,
    /// The events ended, or the watch was stopped: what is joined goes out, after it the
    /// closing bookmark if the watch timed out, then the body ends.
    Ending {
        timed_out: bool,
    },
    Done,
}

/// A watch response body; see the module docs.
pub(super) struct WatchBody {
    events: BoxStream<'static, WatchEvent>,
    encoder: Encoder,
    /// An event whose object a conversion webhook converts: awaited before any later event.
    converting: Option<Pin<Box<dyn Future<Output = Bytes> + Send>>>,
    /// Completes when the server shuts down.
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// `timeoutSeconds` (or the default).
    deadline: Pin<Box<Sleep>>,
    /// Set while events wait for the next frame; created at the first linger.
    linger: Option<Pin<Box<Sleep>>>,
    lingering: bool,
    /// No frame before this: the previous frame's time plus [`LINGER`].
    next_frame: Instant,
    joined: Joined,
    max_bytes: usize,
    resume: Resume,
    phase: Phase,
    sent: SentEvents,
}

impl WatchBody {
    pub(super) fn new(
        events: BoxStream<'static, WatchEvent>,
        encoder: Encoder,
        timeout: Duration,
        shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
        resume: Resume,
        sent: SentEvents,
    ) -> WatchBody {
        let now = Instant::now();
        WatchBody {
            events,
            encoder,
            converting: None,
            shutdown,
            deadline: Box::pin(tokio::time::sleep_until(now + timeout)),
            linger: None,
            lingering: false,
            next_frame: now,
            joined: Joined::Empty,
            max_bytes: MAX_FRAME_BYTES,
            resume,
            phase: Phase::Streaming,
            sent,
        }
    }

    #[cfg(test)]
    fn with_max_bytes(mut self, max_bytes: usize) -> WatchBody {
        self.max_bytes = max_bytes;
        self
    }

    fn push(&mut self, bytes: Bytes) {
        self.sent.one();
        self.joined.push(bytes);
    }

    /// Joins every event ready now (up to the frame's byte budget); `true` when the events have
    /// ended: the stream ended, or its `ERROR` event (always the last) was joined.
    fn drain(&mut self, cx: &mut Context<'_>) -> bool {
        while self.joined.len() < self.max_bytes {
            if let Some(converting) = &mut self.converting {
                match converting.as_mut().poll(cx) {
                    Poll::Ready(bytes) => {
                        self.converting = None;
                        self.push(bytes);
                        continue;
                    }
                    Poll::Pending => return false,
                }
            }
            match self.events.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => {
                    let last = matches!(event, WatchEvent::Error(_));
                    self.resume.saw(&event);
                    match self.encoder.now(event) {
                        Ok(bytes) => self.push(bytes),
                        Err(event) => self.converting = Some(Box::pin(self.encoder.later(event))),
                    }
                    if last {
                        return true;
                    }
                }
                Poll::Ready(None) => return true,
                // The events hold the waker: the next one wakes the connection.
                Poll::Pending => return false,
            }
        }
        false
    }

    /// The frame of what is joined, and no other before [`LINGER`] has passed.
    fn frame(&mut self, now: Instant) -> Option<Frame<Bytes>> {
        self.next_frame = now + LINGER;
        std::mem::replace(&mut self.joined, Joined::Empty).into_bytes().map(Frame::data)
    }
}

impl http_body::Body for WatchBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        loop {
            match this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Ending { timed_out } => {
                    this.phase = Phase::Done;
                    // kube-apiserver ends a watch at its deadline with a bookmark, so the client
                    // resumes from the freshest revision instead of its last event's.
                    let revision = this.resume.last;
                    if timed_out && this.resume.bookmarks && revision > 0 {
                        let bookmark = WatchEvent::Bookmark { revision, initial_events_end: false };
                        if let Ok(bytes) = this.encoder.now(bookmark) {
                            this.push(bytes);
                        }
                    }
                    match this.frame(Instant::now()) {
                        Some(frame) => return Poll::Ready(Some(Ok(frame))),
                        None => continue,
                    }
                }
                Phase::Streaming => {}
            }
            // Like `take_until`: once stopped, no further event is taken.
            if this.deadline.as_mut().poll(cx).is_ready() {
                this.phase = Phase::Ending { timed_out: true };
                continue;
            }
            if this.shutdown.as_mut().poll(cx).is_ready() {
                this.phase = Phase::Ending { timed_out: false };
                continue;
            }
            if this.lingering {
                match this.linger.as_mut().map(|linger| linger.as_mut().poll(cx)) {
                    Some(Poll::Pending) => return Poll::Pending,
                    _ => this.lingering = false,
                }
            }
            if this.drain(cx) {
                this.phase = Phase::Ending { timed_out: false };
                continue;
            }
            if this.joined.len() == 0 {
                return Poll::Pending;
            }
            let now = Instant::now();
            if now >= this.next_frame || this.joined.len() >= this.max_bytes {
                let frame = this.frame(now);
                return Poll::Ready(frame.map(Ok));
            }
            // Too soon after the previous frame: these events wait for more to join them. The
            // events are not polled meanwhile, so their arrival does not wake the connection.
            this.lingering = true;
            match &mut this.linger {
                Some(linger) => linger.as_mut().reset(this.next_frame),
                None => this.linger = Some(Box::pin(tokio::time::sleep_until(this.next_frame))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.phase == Phase::Done
    }
}

/// The bytes joined for one frame: none, one event's (shared, not copied), or several.
enum Joined {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Joined {
    fn push(&mut self, bytes: Bytes) {
        *self = match std::mem::replace(self, Joined::Empty) {
            Joined::Empty => Joined::One(bytes),
            Joined::One(first) => {
                // Room for a few more at once: growing one event at a time reallocates and
                // copies the frame again and again (it showed in profiles).
                let joined = first.len() + bytes.len();
                let mut many =
                    BytesMut::with_capacity((4 * joined).min(MAX_FRAME_BYTES).max(joined));
                many.extend_from_slice(&first);
                many.extend_from_slice(&bytes);
                Joined::Many(many)
            }
            Joined::Many(mut many) => {
                many.extend_from_slice(&bytes);
                Joined::Many(many)
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Joined::Empty => 0,
            Joined::One(bytes) => bytes.len(),
            Joined::Many(many) => many.len(),
        }
    }

    fn into_bytes(self) -> Option<Bytes> {
        match self {
            Joined::Empty => None,
            Joined::One(bytes) => Some(bytes),
            Joined::Many(many) => Some(many.freeze()),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::channel::mpsc;
    use http_body::Body as _;
    use serde_json::Value;

    use super::*;
    use crate::api::negotiate::Output;
    use crate::meta::status::ApiError;
    use crate::registry::table::IncludeObject;
    use crate::registry::{Registry, builtin};

    struct Watch {
        events: mpsc::UnboundedSender<WatchEvent>,
        body: WatchBody,
        stop: tokio::sync::oneshot::Sender<()>,
    }

    fn watch(timeout: Duration, bookmarks: bool) -> Watch {
        let registry = Registry::new();
        builtin::register_all(&registry);
        let resource = registry.get("", "v1", "configmaps").unwrap();
        let (events, rx) = mpsc::unbounded();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = Box::pin(async move {
            let _ = stopped.await;
        });
        let encoder = Encoder {
            resource: resource.clone(),
            output: Output::Json,
            include: IncludeObject::default(),
        };
        let resume = Resume { bookmarks, objects_are_resume_points: true, last: 0 };
        let sent = SentEvents::new(&resource);
        let body = WatchBody::new(rx.boxed(), encoder, timeout, shutdown, resume, sent);
        Watch { events, body, stop }
    }

    fn bookmark(revision: i64) -> WatchEvent {
        WatchEvent::Bookmark { revision, initial_events_end: false }
    }

    /// The next frame if one is ready now: `Some(None)` when the body ended.
    fn poll(body: &mut WatchBody) -> Option<Option<Bytes>> {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        match Pin::new(body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => Some(Some(frame.into_data().unwrap())),
            Poll::Ready(None) => Some(None),
            Poll::Pending => None,
        }
    }

    /// Each line's event type and resourceVersion.
    fn lines(frame: &Bytes) -> Vec<(String, String)> {
        let text = std::str::from_utf8(frame).unwrap();
        assert!(text.ends_with('\n'), "whole lines: {text:?}");
        text.lines()
            .map(|line| {
                let event: Value = serde_json::from_str(line).unwrap();
                let rv = event["object"]["metadata"]["resourceVersion"].as_str().unwrap_or("");
                (event["type"].as_str().unwrap().to_owned(), rv.to_owned())
            })
            .collect()
    }

    fn bookmarks(revisions: &[i64]) -> Vec<(String, String)> {
        revisions.iter().map(|r| ("BOOKMARK".to_owned(), r.to_string())).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_watch_sends_at_once_and_a_busy_one_joins_events_within_the_linger() {
        let mut w = watch(Duration::from_secs(60), false);
        assert_eq!(poll(&mut w.body), None, "nothing to send");
        w.events.unbounded_send(bookmark(1)).unwrap();
        let first = poll(&mut w.body).unwrap().unwrap();
        assert_eq!(lines(&first), bookmarks(&[1]), "the first event goes out at once");
        // Events arriving within the linger after a frame wait for the next one, together.
        for revision in 2..=4 {
            w.events.unbounded_send(bookmark(revision)).unwrap();
            assert_eq!(poll(&mut w.body), None, "too soon after the last frame");
        }
        tokio::time::advance(LINGER).await;
        let joined = poll(&mut w.body).unwrap().unwrap();
        assert_eq!(lines(&joined), bookmarks(&[2, 3, 4]), "one frame, in order");
        // A watch quiet for longer than the linger sends its next event at once again.
        tokio::time::advance(LINGER * 3).await;
        assert_eq!(poll(&mut w.body), None);
        w.events.unbounded_send(bookmark(5)).unwrap();
        assert_eq!(lines(&poll(&mut w.body).unwrap().unwrap()), bookmarks(&[5]));
        // The events' end ends the body after what was ready.
        w.events.unbounded_send(bookmark(6)).unwrap();
        w.events.close_channel();
        tokio::time::advance(LINGER).await;
        assert_eq!(lines(&poll(&mut w.body).unwrap().unwrap()), bookmarks(&[6]));
        assert_eq!(poll(&mut w.body), Some(None));
        assert!(w.body.is_end_stream());
    }

    #[tokio::test(start_paused = true)]
    async fn a_timed_out_watch_ends_with_a_bookmark_at_its_last_revision_if_asked() {
        for asked in [true, false] {
            let mut w = watch(Duration::from_secs(5), asked);
            w.events.unbounded_send(bookmark(7)).unwrap();
            assert_eq!(lines(&poll(&mut w.body).unwrap().unwrap()), bookmarks(&[7]));
            tokio::time::advance(Duration::from_secs(5)).await;
            // An event that arrives after the deadline is not sent.
            w.events.unbounded_send(bookmark(8)).unwrap();
            if asked {
                assert_eq!(lines(&poll(&mut w.body).unwrap().unwrap()), bookmarks(&[7]));
            }
            assert_eq!(poll(&mut w.body), Some(None), "bookmarks asked: {asked}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_watch_without_a_closing_bookmark() {
        let mut w = watch(Duration::from_secs(60), true);
        w.events.unbounded_send(bookmark(3)).unwrap();
        assert_eq!(lines(&poll(&mut w.body).unwrap().unwrap()), bookmarks(&[3]));
        drop(w.stop);
        assert_eq!(poll(&mut w.body), Some(None));
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_event_is_the_last_one_sent() {
        let mut w = watch(Duration::from_secs(60), true);
        w.events.unbounded_send(bookmark(1)).unwrap();
        w.events.unbounded_send(WatchEvent::Error(ApiError::expired(1, 9))).unwrap();
        w.events.unbounded_send(bookmark(2)).unwrap();
        let frame = poll(&mut w.body).unwrap().unwrap();
        let types: Vec<String> = lines(&frame).into_iter().map(|(kind, _)| kind).collect();
        assert_eq!(types, ["BOOKMARK", "ERROR"]);
        assert_eq!(poll(&mut w.body), Some(None));
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_stops_growing_at_its_byte_budget() {
        let w = watch(Duration::from_secs(60), false);
        // Each bookmark line is ~100 bytes: three reach the budget.
        let mut body = w.body.with_max_bytes(250);
        for revision in 1..=7 {
            w.events.unbounded_send(bookmark(revision)).unwrap();
        }
        assert_eq!(lines(&poll(&mut body).unwrap().unwrap()), bookmarks(&[1, 2, 3]));
        // A full frame goes out without waiting for the linger; the rest waits for it.
        assert_eq!(lines(&poll(&mut body).unwrap().unwrap()), bookmarks(&[4, 5, 6]));
        assert_eq!(poll(&mut body), None);
        tokio::time::advance(LINGER).await;
        assert_eq!(lines(&poll(&mut body).unwrap().unwrap()), bookmarks(&[7]));
    }

    #[test]
    fn a_single_event_is_passed_on_without_a_copy() {
        let shared = Bytes::from(vec![b'x'; 100]);
        let mut joined = Joined::Empty;
        joined.push(shared.clone());
        let frame = joined.into_bytes().unwrap();
        assert_eq!(frame.as_ptr(), shared.as_ptr(), "the shared encoding, not a copy");
        let mut joined = Joined::Empty;
        joined.push(Bytes::from_static(b"a\n"));
        joined.push(Bytes::from_static(b"b\n"));
        assert_eq!(joined.into_bytes().unwrap(), "a\nb\n");
    }
}
