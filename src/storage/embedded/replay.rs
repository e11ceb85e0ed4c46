//! Replays: every event of a prefix between two revisions, read page by page as the consumer
//! pulls.
//!
//! Data flow: the stream holds at most one page (1000 events, or about 8 MiB of values) and
//! asks the read pool for the next one only when that page is handed out, so a replay of any
//! length holds bounded memory and costs nothing while its consumer waits. Each page is its own
//! read transaction: a replay never pins a snapshot, and a compaction that overtakes it ends it
//! with [`StorageError::Compacted`] instead of skipping events. Dropping the stream stops it
//! (a page in flight finishes on the blocking pool and is discarded).

use std::collections::VecDeque;
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
    let replay = Replay {
        reads,
        prefix: prefix.into(),
        end: prefix_end(prefix).into(),
        after: from.max(1) - 1,
        to,
        pending: VecDeque::new(),
        done: from > to,
    };
    Ok(stream::unfold(replay, Replay::next).boxed())
}

#[derive(Debug)]
struct Replay {
    reads: Arc<ReadPool>,
    prefix: Arc<str>,
    end: Arc<str>,
    /// Every event up to this revision has been read.
    after: Revision,
    to: Revision,
    pending: VecDeque<Event>,
    /// The last page was read (or the stream failed): only `pending` is left.
    done: bool,
}

impl Replay {
    async fn next(mut self) -> Option<(Result<Event>, Replay)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.done {
                return None;
            }
            let (prefix, end) = (Arc::clone(&self.prefix), Arc::clone(&self.end));
            let (after, to) = (self.after, self.to);
            let page = self
                .reads
                .run(move |conn| {
                    read::replay_page(conn, (&prefix, &end), after, to, (PAGE, PAGE_BYTES))
                })
                .await;
            match page {
                Ok(events) => {
                    match events.last() {
                        Some(last) if last.revision < self.to => self.after = last.revision,
                        _ => self.done = true,
                    }
                    self.pending.extend(events);
                }
                Err(err) => {
                    self.done = true;
                    return Some((Err(err), self));
                }
            }
        }
    }
}
