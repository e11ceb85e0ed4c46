//! Watches: replay from the database, then follow the writer's live feed.
//!
//! Data flow: the writer publishes each committed batch of events on a broadcast channel (the
//! live feed). A watch subscribes to that feed FIRST, then replays every matching event after its
//! start revision from the database, page by page, then switches to the feed, skipping what the
//! replay already delivered. Subscribing before replaying is what closes the gap: any batch
//! committed after the subscription is in the feed, and any batch committed before it is in the
//! database by the time the replay reads it (the writer commits before publishing), so every
//! event is seen at least once, and skipping revisions at or below the last one delivered makes
//! it exactly once.
//!
//! A watch that falls behind the feed's buffer (`Lagged`) is not allowed to slow the writer; it
//! goes back to replaying from the database after its last delivered revision, then rejoins the
//! feed (its receiver stays subscribed meanwhile). Replays check the compacted revision, so a
//! watch that fell behind a compaction ends with [`StorageError::Compacted`] instead of skipping
//! events.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::read::{self, ReadPool};
use super::writer::Batch;
use crate::storage::{
    Result, Revision, StorageError, WatchItem, WatchStream, prefix_end, validate_prefix,
};

/// Events fetched per replay query: bounds a replay read's memory and its time holding a
/// connection and a snapshot.
const REPLAY_PAGE: usize = 1000;

/// Starts a watch of `prefix` after `after`. Fails right away, rather than in the stream, when
/// `after` is already compacted.
pub(super) async fn watch(
    reads: Arc<ReadPool>,
    feed: &broadcast::Sender<Batch>,
    prefix: &str,
    after: Revision,
) -> Result<WatchStream> {
    validate_prefix(prefix)?;
    let mut watch = Watch {
        reads,
        prefix: prefix.into(),
        end: prefix_end(prefix).into(),
        // Subscribe before the first replay read: see the module docs.
        live: feed.subscribe(),
        last: after,
        pending: VecDeque::new(),
        state: State::Replaying,
    };
    watch.replay_page().await?;
    Ok(stream::unfold(watch, Watch::next).boxed())
}

/// Where a watch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading events after `last` from the database, one page per step.
    Replaying,
    /// Receiving batches from the live feed.
    Live,
    /// Ended after yielding an error.
    Finished,
}

#[derive(Debug)]
struct Watch {
    reads: Arc<ReadPool>,
    prefix: Arc<str>,
    end: Arc<str>,
    /// Subscribed for the whole life of the watch, including while replaying, so nothing
    /// published meanwhile is missed.
    live: broadcast::Receiver<Batch>,
    /// The highest revision accounted for: delivered as an event or covered by a progress item.
    /// Everything yielded next is above it.
    last: Revision,
    /// Items ready to yield, in order.
    pending: VecDeque<WatchItem>,
    state: State,
}

impl Watch {
    /// One step of the state machine: the next item, or `None` when the watch has ended.
    /// Dropping the stream drops the watch and its subscription; a replay query in flight
    /// finishes on the blocking pool and its result is discarded.
    async fn next(mut self) -> Option<(Result<WatchItem>, Watch)> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some((Ok(item), self));
            }
            let step = match self.state {
                State::Replaying => self.replay_page().await,
                State::Live => self.receive().await,
                State::Finished => return None,
            };
            if let Err(err) = step {
                self.state = State::Finished;
                return Some((Err(err), self));
            }
        }
    }

    /// Queues the next page of events from the database; a short page ends the replay.
    async fn replay_page(&mut self) -> Result<()> {
        let (prefix, end, after) = (Arc::clone(&self.prefix), Arc::clone(&self.end), self.last);
        let events = self
            .reads
            .run(move |conn| read::events_after(conn, &prefix, &end, after, REPLAY_PAGE))
            .await?;
        if events.len() < REPLAY_PAGE {
            self.state = State::Live;
        }
        for event in events {
            self.last = event.revision;
            self.pending.push_back(WatchItem::Event(event));
        }
        Ok(())
    }

    /// Waits for the next live batch and queues what it holds for this watch.
    async fn receive(&mut self) -> Result<()> {
        match self.live.recv().await {
            Ok(batch) => {
                self.accept(&batch);
                Ok(())
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(
                    prefix = %self.prefix,
                    last = self.last,
                    missed,
                    "watch fell behind the live feed; replaying from the database"
                );
                self.state = State::Replaying;
                Ok(())
            }
            Err(RecvError::Closed) => {
                Err(StorageError::Unavailable("the embedded storage was closed".into()))
            }
        }
    }

    /// Queues the batch's events under the prefix that were not delivered yet. A batch that
    /// moved the head without touching the prefix becomes a progress item, unless another batch
    /// is already waiting: then the progress is left to that one, so a quiet prefix on a busy
    /// server sees one progress item per wake-up rather than one per batch.
    fn accept(&mut self, batch: &Batch) {
        let Some(batch_last) = batch.last().map(|event| event.revision) else {
            return;
        };
        if batch_last <= self.last {
            return; // already replayed
        }
        let before = self.pending.len();
        for event in batch.iter() {
            if event.revision > self.last && event.key.starts_with(&*self.prefix) {
                self.pending.push_back(WatchItem::Event(event.clone()));
            }
        }
        self.last = batch_last;
        if self.pending.len() == before && self.live.is_empty() {
            self.pending.push_back(WatchItem::Progress(batch_last));
        }
    }
}
