//! One body frame per wakeup: a watch's encoded events, every one that is ready when the
//! connection asks for more, joined into one chunk.
//!
//! Without it, each event is its own body frame: an HTTP/1.1 chunk (size line, data, CRLF) or an
//! HTTP/2 DATA frame, a TLS record, and — when the connection flushes after each frame — a
//! write system call per event and watcher. A watcher that fell a few events behind (the server
//! was busy serving the other watchers of the same write) would then pay per event exactly when
//! the server can least afford it. Joined, it pays once per wakeup for whatever accumulated, so
//! the cost per delivered event falls as the load rises. A single ready event is passed on as
//! is (its bytes shared with every other watcher of the same write, not copied).
//!
//! Data flow: the encoded events (`Bytes`, one per event) → [`Batched`] → the response body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;

/// At most this many bytes are joined into one frame (more are left for the next): a frame is
/// then at most four TLS records, and a watcher that fell far behind still yields the connection
/// to its other work between frames.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The events of `inner`, joined into one item per poll; see the module docs.
pub struct Batched<S> {
    inner: S,
    /// `inner` has ended: yield what is joined, then end.
    ended: bool,
    max_bytes: usize,
}

impl<S> Batched<S> {
    pub fn new(inner: S) -> Batched<S> {
        Batched::with_max_bytes(inner, MAX_FRAME_BYTES)
    }

    pub fn with_max_bytes(inner: S, max_bytes: usize) -> Batched<S> {
        Batched { inner, ended: false, max_bytes }
    }
}

/// The bytes joined so far in one poll: none, one event's (shared, not copied), or several.
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

impl<S: Stream<Item = Bytes> + Unpin> Stream for Batched<S> {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self.get_mut();
        let mut joined = Joined::Empty;
        while !this.ended && joined.len() < this.max_bytes {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(bytes)) => joined.push(bytes),
                Poll::Ready(None) => this.ended = true,
                // `inner` holds the waker: the next event wakes the connection again.
                Poll::Pending => break,
            }
        }
        match joined.into_bytes() {
            Some(bytes) => Poll::Ready(Some(bytes)),
            None if this.ended => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use futures::channel::mpsc;

    use super::*;

    fn line(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    #[tokio::test]
    async fn every_ready_event_goes_out_in_one_frame_in_order() {
        let (tx, rx) = mpsc::unbounded();
        let mut frames = Batched::new(rx);
        for text in ["a\n", "b\n", "c\n"] {
            tx.unbounded_send(line(text)).unwrap();
        }
        assert_eq!(frames.next().await.unwrap(), "a\nb\nc\n");
        // Nothing ready: the stream waits instead of sending an empty frame.
        assert!(futures::poll!(frames.next()).is_pending());
        tx.unbounded_send(line("d\n")).unwrap();
        assert_eq!(frames.next().await.unwrap(), "d\n");
        tx.unbounded_send(line("e\n")).unwrap();
        drop(tx);
        // What was ready when the events ended is sent, then the stream ends.
        assert_eq!(frames.next().await.unwrap(), "e\n");
        assert!(frames.next().await.is_none());
        assert!(frames.next().await.is_none());
    }

    #[tokio::test]
    async fn a_single_event_is_passed_on_without_a_copy() {
        let shared = Bytes::from(vec![b'x'; 100]);
        let mut frames = Batched::new(futures::stream::iter([shared.clone()]));
        let frame = frames.next().await.unwrap();
        assert_eq!(frame.as_ptr(), shared.as_ptr(), "the shared encoding, not a copy");
    }

    #[tokio::test]
    async fn a_frame_stops_growing_at_its_byte_budget() {
        let events = futures::stream::iter(["aaaa", "bbbb", "cccc", "dd"].map(line));
        let frames: Vec<Bytes> = Batched::with_max_bytes(events, 8).collect().await;
        assert_eq!(frames, ["aaaabbbb", "ccccdd"]);
    }
}
