//! A live watcher's queue of events: the view's end ([`QueueTx`], held by the dispatcher) pushes
//! without ever waiting; the watcher's end ([`QueueRx`], in the watcher's task) takes everything
//! pending in one step and then hands it out one event at a time.
//!
//! Why not a Tokio `mpsc` channel, as before: with thousands of watchers, the queue is per-watcher
//! memory that every idle watch pays and per-event work that every delivery pays. A bounded
//! `mpsc` channel allocates its shared state (cache-padded, ~0.5 KiB) and a first block of 32
//! slots up front, about 1 KiB per watcher before any event; this queue is one small allocation
//! and holds no buffer while nothing is pending. And the receiving task takes its whole backlog
//! under one lock instead of synchronizing per event; the dispatcher wakes it only when it is
//! waiting (a task woken once and not yet run is not woken again for the next events).
//!
//! The capacity is the same contract as before: a watcher with `capacity` events pending (pushed
//! and not yet handed out by [`QueueRx::recv`]) is full, and the dispatcher then closes it.
//! Closing ([`QueueTx::close`], or dropping the `QueueTx`) lets the watcher drain what was pushed
//! before, then [`QueueRx::recv`] answers `None` and [`QueueRx::close_reason`] says why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::dispatch::CloseReason;
use crate::event::ViewEvent;

/// A taken buffer larger than this is not handed back to be refilled: a burst's buffer is freed
/// with the burst instead of staying allocated for the life of the watch.
const KEEP_CAPACITY: usize = 32;

/// A new queue of at most `capacity` pending events (at least one).
pub(crate) fn queue(capacity: usize) -> (QueueTx, QueueRx) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        pending: AtomicUsize::new(0),
        state: Mutex::new(State::default()),
    });
    (QueueTx { shared: shared.clone() }, QueueRx { shared, taken: VecDeque::new() })
}

struct Shared {
    capacity: usize,
    /// Events pushed and not yet handed out, counting those the receiver has taken.
    pending: AtomicUsize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Pushed, not yet taken by the receiver.
    events: VecDeque<Arc<ViewEvent>>,
    /// The receiver's task, while it waits for an event.
    waker: Option<Waker>,
    /// The sending side has closed: no event follows those in `events`.
    closed: bool,
    /// Why, when it closed the watcher on purpose.
    reason: Option<CloseReason>,
    /// The watcher's end was dropped: pushing is pointless.
    receiver_gone: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain data updated in single steps: a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why [`QueueTx::try_send`] did not queue an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// `capacity` events are pending.
    Full,
    /// The watcher's end is gone.
    Closed,
}

/// The view's end of one watcher's queue.
pub(crate) struct QueueTx {
    shared: Arc<Shared>,
}

impl QueueTx {
    /// Queues `event` without waiting, waking the watcher if it waits.
    pub(crate) fn try_send(&self, event: &Arc<ViewEvent>) -> Result<(), SendError> {
        let waker = {
            let mut state = self.shared.lock();
            if state.receiver_gone || state.closed {
                return Err(SendError::Closed);
            }
            if self.shared.pending.load(Ordering::Acquire) >= self.shared.capacity {
                return Err(SendError::Full);
            }
            self.shared.pending.fetch_add(1, Ordering::AcqRel);
            state.events.push_back(event.clone());
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Closes the queue with `reason`: the watcher receives what was queued before, then learns
    /// why it ends.
    pub(crate) fn close(&self, reason: CloseReason) {
        self.close_with(Some(reason));
    }

    fn close_with(&self, reason: Option<CloseReason>) {
        let waker = {
            let mut state = self.shared.lock();
            if !state.closed {
                state.closed = true;
                state.reason = reason;
            }
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for QueueTx {
    /// The view forgot this watcher (it unregistered, or the view stopped): its stream ends,
    /// without a reason unless one was given before.
    fn drop(&mut self) {
        self.close_with(None);
    }
}

/// The watcher's end of its queue.
pub(crate) struct QueueRx {
    shared: Arc<Shared>,
    /// Taken from the shared queue in one step, handed out one by one.
    taken: VecDeque<Arc<ViewEvent>>,
}

impl QueueRx {
    /// The next event; `None` once the queue is closed and every event queued before was
    /// received.
    #[cfg(test)]
    pub(crate) async fn recv(&mut self) -> Option<Arc<ViewEvent>> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`QueueRx::recv`] as a poll: the task of `cx` is woken by the next push or the close.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Arc<ViewEvent>>> {
        if let Some(event) = self.try_recv() {
            return Poll::Ready(Some(event));
        }
        let mut state = self.shared.lock();
        if !state.events.is_empty() {
            // Pushed since `try_recv` looked.
            drop(state);
            return Poll::Ready(self.try_recv());
        }
        if state.closed {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next event if one is pending, without waiting.
    pub(crate) fn try_recv(&mut self) -> Option<Arc<ViewEvent>> {
        if let Some(event) = self.take_one() {
            return Some(event);
        }
        let mut state = self.shared.lock();
        if state.events.is_empty() {
            return None;
        }
        std::mem::swap(&mut self.taken, &mut state.events);
        if state.events.capacity() > KEEP_CAPACITY {
            state.events = VecDeque::new();
        }
        drop(state);
        self.take_one()
    }

    fn take_one(&mut self) -> Option<Arc<ViewEvent>> {
        let event = self.taken.pop_front()?;
        self.shared.pending.fetch_sub(1, Ordering::AcqRel);
        if self.taken.is_empty() && self.taken.capacity() > KEEP_CAPACITY {
            self.taken = VecDeque::new();
        }
        Some(event)
    }

    /// Whether no event is pending (queued or taken and not yet received).
    pub(crate) fn is_empty(&self) -> bool {
        self.shared.pending.load(Ordering::Acquire) == 0
    }

    /// Why the view closed this queue, once it has; `None` while open or when the view simply
    /// forgot the watcher (it stopped).
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.shared.lock().reason
    }
}

impl Drop for QueueRx {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        state.waker = None;
        // The events go with the watcher, not with the view's end (which may live on in the
        // registry until the next dispatch notices).
        let events = std::mem::take(&mut state.events);
        drop(state);
        drop(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ViewMetrics;
    use crate::source::EntryKind;

    fn event(revision: i64) -> Arc<ViewEvent> {
        let metrics = Arc::new(ViewMetrics::default());
        Arc::new(ViewEvent::new(revision, EntryKind::Deleted, "/k".into(), None, None, metrics))
    }

    async fn revisions(rx: &mut QueueRx, n: usize) -> Vec<i64> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(rx.recv().await.unwrap().revision);
        }
        out
    }

    #[tokio::test]
    async fn events_arrive_in_order_and_count_against_the_capacity_until_received() {
        let (tx, mut rx) = queue(3);
        assert!(rx.is_empty());
        for revision in 1..=3 {
            tx.try_send(&event(revision)).unwrap();
        }
        assert_eq!(tx.try_send(&event(4)), Err(SendError::Full));
        // Taking the batch does not make room; receiving does, one event at a time.
        assert_eq!(revisions(&mut rx, 1).await, [1]);
        assert!(!rx.is_empty());
        tx.try_send(&event(4)).unwrap();
        assert_eq!(tx.try_send(&event(5)), Err(SendError::Full));
        assert_eq!(revisions(&mut rx, 3).await, [2, 3, 4]);
        assert!(rx.is_empty());
    }

    #[tokio::test]
    async fn a_closed_queue_drains_then_ends_with_its_reason() {
        let (tx, mut rx) = queue(8);
        tx.try_send(&event(1)).unwrap();
        tx.close(CloseReason::FellBehind);
        assert_eq!(tx.try_send(&event(2)), Err(SendError::Closed));
        drop(tx);
        assert_eq!(rx.close_reason(), Some(CloseReason::FellBehind));
        assert_eq!(revisions(&mut rx, 1).await, [1]);
        assert!(rx.recv().await.is_none());
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn dropping_the_views_end_ends_the_stream_without_a_reason() {
        let (tx, mut rx) = queue(8);
        drop(tx);
        assert!(rx.recv().await.is_none());
        assert_eq!(rx.close_reason(), None);
    }

    #[tokio::test]
    async fn a_waiting_watcher_is_woken_by_the_next_event() {
        let (tx, mut rx) = queue(8);
        let waiting = tokio::spawn(async move { rx.recv().await.map(|e| e.revision) });
        tokio::task::yield_now().await;
        tx.try_send(&event(7)).unwrap();
        assert_eq!(waiting.await.unwrap(), Some(7));
    }

    #[test]
    fn pushing_to_a_dropped_watcher_fails_and_frees_its_events() {
        let (tx, rx) = queue(8);
        let first = event(1);
        tx.try_send(&first).unwrap();
        drop(rx);
        assert_eq!(Arc::strong_count(&first), 1, "the queued copy went with the watcher");
        assert_eq!(tx.try_send(&event(2)), Err(SendError::Closed));
    }

    #[tokio::test]
    async fn a_burst_buffer_is_not_kept_once_drained() {
        let (tx, mut rx) = queue(1024);
        for revision in 0..500 {
            tx.try_send(&event(revision)).unwrap();
        }
        assert_eq!(revisions(&mut rx, 500).await.len(), 500);
        assert!(rx.taken.capacity() <= KEEP_CAPACITY);
        assert!(tx.shared.lock().events.capacity() <= KEEP_CAPACITY);
    }
}
