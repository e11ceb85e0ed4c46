//! One subscriber's stream of the [`super::feed`]: what `LogFeed::watch(prefix, after)` returns.
//!
//! An explicit state machine, stepped one item at a time by [`Cursor::next`]:
//!
//! ```text
//! Opening ──feed knows its position, after in the ring──▶ Joined ──▶ Done
//!    └─ after older than the ring (or the feed restarting) ─▶ CatchingUp ──reached the ring──▶ Joined
//! ```
//!
//! `Joined` yields the ring's entries after `after`, then the entries the feed sends to the
//! channel, and — whenever the channel is empty — the feed's published position as one
//! [`SourceItem::Progress`]: the feed publishes a position only after sending every entry up to
//! it, so an empty channel then means nothing of this prefix is pending up to there. Positions
//! published while entries are queued are simply read later, coalesced into one.
//!
//! `CatchingUp` reads a dedicated storage watch of the prefix (as a view did before the feed)
//! and tries to join the feed after every item; a dedicated watch on an idle etcd prefix only
//! moves on a progress notification, so the join is attempted whenever it does.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use ::watch::{LogEntry, LogSource, SourceError, SourceItem, SourceStream};
use futures::StreamExt;
use futures::stream;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, watch};

use super::feed::{Head, Join, Shared, stopped_error};

/// The stream `LogFeed::watch(prefix, after)` returns.
pub(super) fn stream(feed: Arc<Shared>, prefix: Arc<str>, after: i64) -> SourceStream {
    let cursor = Cursor { feed, prefix, last: after };
    stream::unfold((cursor, Phase::Opening), |(cursor, phase)| cursor.next(phase))
        // Fused: polled again after its end, it returns `None` rather than panicking.
        .fuse()
        .boxed()
}

/// A subscriber registered with the feed: its ring backlog, its channel and the feed's head.
pub(super) struct Subscription {
    /// Ring entries after `after`, delivered before the channel's.
    backlog: VecDeque<LogEntry>,
    rx: mpsc::Receiver<LogEntry>,
    head: watch::Receiver<Head>,
    /// Why the feed closed `rx`, when it did.
    close: Arc<OnceLock<SourceError>>,
    /// Held for its `Drop`.
    _registration: Registration,
}

impl Subscription {
    pub(super) fn new(
        feed: Arc<Shared>,
        id: u64,
        backlog: VecDeque<LogEntry>,
        rx: mpsc::Receiver<LogEntry>,
        head: watch::Receiver<Head>,
        close: Arc<OnceLock<SourceError>>,
    ) -> Subscription {
        let _registration = Registration { feed, id };
        Subscription { backlog, rx, head, close, _registration }
    }

    /// The item the subscription ends with once the feed closed its channel.
    fn closed(&self) -> SourceError {
        self.close.get().cloned().unwrap_or_else(stopped_error)
    }
}

/// Unregisters the subscriber when its stream is dropped, so the feed never fills with dead
/// senders between entries.
struct Registration {
    feed: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.feed.unregister(self.id);
    }
}

/// The phase of a subscription: a state machine stepped by [`Cursor::next`].
enum Phase {
    /// Waiting for the feed's position, then joining it or catching up first.
    Opening,
    /// Reading a dedicated storage watch of the prefix until the feed's ring reaches back to it.
    CatchingUp(SourceStream),
    /// Registered with the feed.
    Joined(Subscription),
    Done,
}

/// What a subscription knows besides its phase.
struct Cursor {
    feed: Arc<Shared>,
    prefix: Arc<str>,
    /// Every entry of the prefix up to this revision has been yielded.
    last: i64,
}

type Item = Result<SourceItem, SourceError>;

/// What a joined subscription waking up found.
enum Woken {
    Entry(Option<LogEntry>),
    /// The feed published a new head (`false`: the feed is gone).
    Head(bool),
}

impl Cursor {
    /// The next item and the state after it.
    async fn next(mut self, mut phase: Phase) -> Option<(Item, (Cursor, Phase))> {
        loop {
            let (item, next) = match phase {
                Phase::Done => return None,
                Phase::Opening => self.open().await,
                Phase::CatchingUp(stream) => self.catch_up(stream).await,
                Phase::Joined(subscription) => self.joined(subscription).await,
            };
            phase = next;
            if let Some(item) = item {
                return Some((item, (self, phase)));
            }
        }
    }

    async fn open(&mut self) -> (Option<Item>, Phase) {
        if let Err(err) = self.feed.running().await {
            return (Some(Err(err)), Phase::Done);
        }
        // The ring may still hold entries the log has compacted away; a subscriber from before
        // the compacted revision gets what a storage watch would give it: `Compacted`.
        if self.feed.is_past(self.last)
            && let Ok(oldest) = self.feed.source.compacted_revision().await
            && self.last < oldest
        {
            let compacted = SourceError::Compacted { requested: self.last, oldest };
            return (Some(Err(compacted)), Phase::Done);
        }
        match self.feed.join(&self.prefix, self.last) {
            Join::Joined(subscription) => (None, Phase::Joined(subscription)),
            Join::BeforeRing | Join::NotRunning => {
                tracing::debug!(prefix = %self.prefix, after = self.last, "reading the log until the feed's ring");
                let stream = self.feed.source.watch(&self.prefix, self.last);
                (None, Phase::CatchingUp(stream))
            }
        }
    }

    async fn catch_up(&mut self, mut stream: SourceStream) -> (Option<Item>, Phase) {
        let item = match stream.next().await {
            Some(Ok(SourceItem::Entry(entry))) => self.entry(entry),
            Some(Ok(SourceItem::Progress(revision))) => self.progress(Some(revision)),
            Some(Err(err)) => return (Some(Err(err)), Phase::Done),
            None => {
                let ended = SourceError::Unavailable("the log watch ended".into());
                return (Some(Err(ended)), Phase::Done);
            }
        };
        match self.feed.join(&self.prefix, self.last) {
            Join::Joined(subscription) => (item, Phase::Joined(subscription)),
            Join::BeforeRing | Join::NotRunning => (item, Phase::CatchingUp(stream)),
        }
    }

    async fn joined(&mut self, mut sub: Subscription) -> (Option<Item>, Phase) {
        if let Some(entry) = sub.backlog.pop_front() {
            return (self.entry(entry), Phase::Joined(sub));
        }
        // Read the position BEFORE looking at the channel: see the module docs.
        let position = sub.head.borrow_and_update().position;
        match sub.rx.try_recv() {
            Ok(entry) => return (self.entry(entry), Phase::Joined(sub)),
            Err(TryRecvError::Disconnected) => return (Some(Err(sub.closed())), Phase::Done),
            Err(TryRecvError::Empty) => {}
        }
        if let Some(progress) = self.progress(position) {
            return (Some(progress), Phase::Joined(sub));
        }
        let woken = tokio::select! {
            biased;
            received = sub.rx.recv() => Woken::Entry(received),
            changed = sub.head.changed() => Woken::Head(changed.is_ok()),
        };
        match woken {
            Woken::Entry(Some(entry)) => (self.entry(entry), Phase::Joined(sub)),
            Woken::Entry(None) => (Some(Err(sub.closed())), Phase::Done),
            Woken::Head(true) => (None, Phase::Joined(sub)),
            // The feed itself is gone: nothing more will come.
            Woken::Head(false) => (Some(Err(stopped_error())), Phase::Done),
        }
    }

    /// An entry, unless it was already yielded.
    fn entry(&mut self, entry: LogEntry) -> Option<Item> {
        if entry.revision <= self.last {
            return None;
        }
        self.last = entry.revision;
        Some(Ok(SourceItem::Entry(entry)))
    }

    /// Progress to `revision`, if that moves the subscriber.
    fn progress(&mut self, revision: Option<i64>) -> Option<Item> {
        let revision = revision.filter(|r| *r > self.last)?;
        self.last = revision;
        Some(Ok(SourceItem::Progress(revision)))
    }
}
