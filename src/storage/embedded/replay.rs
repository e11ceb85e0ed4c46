//! Replays: every event of a prefix between two revisions, read page by page as the consumer
//! pulls.
//!
//! Data flow: the stream holds the page being handed out (1000 events, or about 8 MiB of
//! values) and reads the next one meanwhile on the blocking pool, so the consumer's work on one
//! page and SQLite's on the next overlap; no further page is asked for until that one is handed
//! out. A replay of any length holds at most two pages, and costs nothing while its consumer
//! waits. Each page is its own read transaction: a replay never pins a snapshot, and a
//! compaction that overtakes it ends it with [`StorageError::Compacted`] instead of skipping
//! events. Dropping the stream stops it (a page in flight finishes on the blocking pool and is
//! discarded).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream;

use super::read::{self, ReadPool};
use crate::storage::{
    Event, EventStream, Result, Revision, StorageError, prefix_end, validate_prefix,
};

/// Events read per page: bounds a page's memory and its time holding a connection.
const PAGE: usize = 1000;

/// A page stops after the event that brings its values past this many bytes.
const PAGE_BYTES: usize = 8 << 20;

/// Starts a replay of `prefix` over `from..=to`. Fails right away when `from` is compacted or
/// `to` is past the head.
pub(super) async fn replay(
    reads: Arc<ReadPool>,
    prefix: &str,
    from: Revision,
    to: Revision,
) -> Result<EventStream> {
    validate_prefix(prefix)?;
    let meta = reads.run(read::meta).await?;
    if to > meta.head {
        return Err(StorageError::FutureRevision { requested: to, current: meta.head });
    }
    if from < meta.compacted {
        return Err(StorageError::Compacted { requested: from, compacted: meta.compacted });
    }
    let mut replay = Replay {
        reads,
        prefix: prefix.into(),
        end: prefix_end(prefix).into(),
        to,
        pending: VecDeque::new(),
        next: None,
    };
    if from <= to {
        replay.read_after(from.max(1) - 1);
    }
    // Fused: a consumer may poll again after the end (an unfold would panic).
    Ok(stream::unfold(replay, Replay::next).fuse().boxed())
}

/// A page being read: its events in revision order.
type Page = Pin<Box<dyn Future<Output = Result<Vec<Event>>> + Send>>;

struct Replay {
    reads: Arc<ReadPool>,
    prefix: Arc<str>,
    end: Arc<str>,
    to: Revision,
    /// The events of the page being handed out.
    pending: VecDeque<Event>,
    /// The next page, already being read; `None` after the last page (or a failure): only
    /// `pending` is left.
    next: Option<Page>,
}

impl Replay {
    /// Starts reading the page of the events after `after`.
    fn read_after(&mut self, after: Revision) {
        let (prefix, end) = (Arc::clone(&self.prefix), Arc::clone(&self.end));
        let to = self.to;
        let page = self.reads.start(move |conn| {
            read::replay_page(conn, (&prefix, &end), after, to, (PAGE, PAGE_BYTES))
        });
        self.next = Some(Box::pin(page));
    }

    async fn next(mut self) -> Option<(Result<Event>, Replay)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            let page = self.next.take()?.await;
            match page {
                Ok(events) => {
                    if let Some(last) = events.last().filter(|last| last.revision < self.to) {
                        self.read_after(last.revision);
                    }
                    self.pending.extend(events);
                }
                Err(err) => return Some((Err(err), self)),
            }
        }
    }
}
