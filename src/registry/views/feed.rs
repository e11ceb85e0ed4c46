//! [`LogFeed`]: ONE subscription to the whole log, demultiplexed to every view.
//!
//! Each view follows its storage prefix through [`LogSource::watch`]. If every view opened its
//! own storage watch, a view whose prefix is idle would learn that the log moved on only from a
//! progress notification (every 10 minutes on etcd), and a consistent read of it could not be
//! served from memory. The feed instead watches `/` — every key — once, and hands each entry to
//! the views whose prefix holds it and the entry's revision, as progress, to every other view:
//! every view advances with every revision of the log.
//!
//! # Data flow
//! ```text
//! Storage::watch("/", P) ─▶ pump task (pump.rs) ─▶ Shared::fan_out, under the state lock:
//!     entry ─▶ ring of recent entries
//!           ─▶ try_send into the channel of every subscriber whose prefix holds the key
//! then, once per batch of entries:
//!     position P ─▶ published (tokio watch) ─▶ each subscription with an empty channel turns it
//!                   into one SourceItem::Progress(P) (subscription.rs): progress coalesces by
//!                   construction and never takes a channel slot
//! ```
//!
//! # Joining
//! The feed keeps its position P (the last revision it has fanned out) and a bounded ring of the
//! entries before it. `watch(prefix, after)` with `after` at or past the ring's floor registers
//! under the state lock and copies the ring's entries after `after` under the same lock, so an
//! entry is either copied or sent to the new channel, never both or neither. An `after` older
//! than the ring reads a dedicated storage watch of the prefix until it reaches the ring, then
//! joins. A view's first `list(prefix, None)` reads at P, so the watch that follows joins
//! exactly (P is always a revision storage has answered with, so it can be listed).
//!
//! # Back-pressure and failures
//! Sends never block: a subscriber whose channel cannot take an entry is closed with
//! [`SourceError::Unavailable`] and resumes (the view's follower re-watches from its own
//! revision, usually from the ring). A broken storage watch is resumed from P with a backoff;
//! when it cannot continue from P (compacted, or a non-retryable error) every subscriber is
//! closed with that error — the views re-list — and the feed restarts at the log's head. The
//! feed starts with the first view and stops on server shutdown.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use ::watch::{LogEntry, LogSource, SourceError, SourceStream, StoredObject, ViewConfig};
use futures::future::BoxFuture;
use tokio::sync::{mpsc, watch};

use super::pump;
use super::source::StorageSource;
use super::subscription::{self, Subscription};

/// How the feed remembers and buffers.
#[derive(Debug, Clone)]
pub(crate) struct FeedConfig {
    /// At most this many recent entries are kept for subscribers that join from the past.
    pub(crate) ring_entries: usize,
    /// … and at most this many bytes of keys and values (the oldest entries leave first).
    pub(crate) ring_bytes: usize,
    /// Entries a subscriber may have pending before it is closed to resume.
    pub(crate) subscriber_buffer: usize,
    /// How long a subscriber or a list waits for the feed to know its position (when it starts
    /// or restarts) before reading storage directly instead.
    pub(crate) start_wait: Duration,
    /// The first delay before retrying the storage watch; doubled per failure.
    pub(crate) retry_backoff: Duration,
    /// The longest delay between retries.
    pub(crate) max_retry_backoff: Duration,
}

impl FeedConfig {
    /// The feed's defaults, retrying as the views do.
    pub(crate) fn for_views(views: &ViewConfig) -> FeedConfig {
        FeedConfig {
            ring_entries: 4096,
            ring_bytes: 64 << 20,
            subscriber_buffer: 4096,
            start_wait: Duration::from_secs(5),
            retry_backoff: views.retry_backoff,
            max_retry_backoff: views.max_retry_backoff,
        }
    }
}

/// The log as every view reads it: one storage watch of `/`, shared. Cheap to clone.
#[derive(Clone)]
pub(crate) struct LogFeed {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LogFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("LogFeed")
            .field("phase", &state.phase)
            .field("position", &state.position)
            .field("floor", &state.floor)
            .field("subscribers", &state.subscribers.len())
            .finish_non_exhaustive()
    }
}

impl LogFeed {
    /// A feed over `source`, not started until first used; it stops when `shutdown` flips to
    /// `true` (or its sender is dropped).
    pub(crate) fn new(
        source: StorageSource,
        config: FeedConfig,
        shutdown: watch::Receiver<bool>,
    ) -> LogFeed {
        let (head, _) = watch::channel(Head { position: None, stopped: false });
        let state = State {
            phase: Phase::Idle,
            position: 0,
            floor: 0,
            ring: VecDeque::new(),
            ring_bytes: 0,
            subscribers: HashMap::new(),
            next_id: 0,
        };
        let shared = Shared { source, config, shutdown, state: Mutex::new(state), head };
        LogFeed { shared: Arc::new(shared) }
    }
}

impl LogSource for LogFeed {
    fn current_revision(&self) -> BoxFuture<'_, Result<i64, SourceError>> {
        self.shared.source.current_revision()
    }

    /// `at = None` (a view loading) reads at the feed's position, so the view's next watch joins
    /// the feed exactly; at the log's head while the feed does not know its position.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        at: Option<i64>,
    ) -> BoxFuture<'a, Result<(Vec<StoredObject>, i64), SourceError>> {
        Box::pin(async move {
            let source = &self.shared.source;
            if at.is_some() {
                return source.list(prefix, at).await;
            }
            let Some(position) = self.shared.running().await? else {
                return source.list(prefix, None).await;
            };
            match source.list(prefix, Some(position)).await {
                // The feed lags behind a compaction: it is about to restart; the head will do.
                Err(SourceError::Compacted { .. }) => source.list(prefix, None).await,
                listed => listed,
            }
        })
    }

    fn watch(&self, prefix: &str, after: i64) -> SourceStream {
        subscription::stream(self.shared.clone(), prefix.into(), after)
    }
}

/// What subscriptions read without the lock: where the feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Head {
    /// Every entry up to this revision has been sent to its subscribers; `None` while the feed
    /// does not know its position (not started, or restarting).
    pub(super) position: Option<i64>,
    pub(super) stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No view has asked yet: no task, no storage watch.
    Idle,
    /// The pump is reading the log's head (first start, or after a reset).
    Positioning,
    /// The position is known; the pump is following (or re-opening) the storage watch.
    Running,
    /// Shut down.
    Stopped,
}

/// One subscriber's end, as the fan-out sees it.
struct Subscriber {
    prefix: Arc<str>,
    /// Entries at or before this revision are not the subscriber's (it joined after them).
    after: i64,
    tx: mpsc::Sender<LogEntry>,
    /// Why the feed closed the channel: the subscription's last item.
    close: Arc<OnceLock<SourceError>>,
}

struct State {
    phase: Phase,
    /// P: the last revision fanned out (an entry's or a storage progress item's).
    position: i64,
    /// The ring holds every entry with a revision in `(floor, position]`.
    floor: i64,
    ring: VecDeque<LogEntry>,
    ring_bytes: usize,
    subscribers: HashMap<u64, Subscriber>,
    next_id: u64,
}

/// Where [`Shared::join`] put a subscription.
pub(super) enum Join {
    /// Registered, primed with the ring's entries after `after`.
    Joined(Subscription),
    /// `after` is older than the ring: read the log directly first.
    BeforeRing,
    /// The feed does not know its position (restarting) or has stopped.
    NotRunning,
}

/// Everything the feed's handles, subscriptions and pump share.
pub(super) struct Shared {
    pub(super) source: StorageSource,
    pub(super) config: FeedConfig,
    pub(super) shutdown: watch::Receiver<bool>,
    /// A std lock: held for one entry's fan-out or one join, never across an `.await`.
    state: Mutex<State>,
    /// The published [`Head`]: subscriptions derive progress from it.
    head: watch::Sender<Head>,
}

// A poisoned lock means a panic while it was held; the state is updated one entry at a time and
// stays coherent, so serving it beats turning every later call into a panic.
impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

// The subscribers' side.
impl Shared {
    /// Starts the pump if nothing has yet, then waits (up to `start_wait`) until the feed knows
    /// its position: `Ok(None)` if it did not in time, an error once the feed has stopped.
    pub(super) async fn running(self: &Arc<Self>) -> Result<Option<i64>, SourceError> {
        {
            let mut state = self.lock();
            if state.phase == Phase::Idle {
                state.phase = Phase::Positioning;
                tokio::spawn(pump::run(self.clone()));
            }
        }
        let mut head = self.head.subscribe();
        let ready = |h: &Head| h.stopped || h.position.is_some();
        // The head's read guard ends with this statement: it is never held while the state lock
        // is taken, so the two locks need no order.
        let stopped = match tokio::time::timeout(self.config.start_wait, head.wait_for(ready)).await
        {
            Ok(Ok(head)) => head.stopped,
            Ok(Err(_)) => true,
            Err(_) => return Ok(None),
        };
        let state = self.lock();
        match state.phase {
            _ if stopped => Err(stopped_error()),
            Phase::Running => Ok(Some(state.position)),
            Phase::Stopped => Err(stopped_error()),
            Phase::Idle | Phase::Positioning => Ok(None),
        }
    }

    /// Registers a subscriber of `prefix` that has seen everything up to `after`, if the ring
    /// still holds every entry after it.
    pub(super) fn join(self: &Arc<Self>, prefix: &Arc<str>, after: i64) -> Join {
        let mut state = self.lock();
        if state.phase != Phase::Running {
            return Join::NotRunning;
        }
        if after < state.floor {
            return Join::BeforeRing;
        }
        let first = state.ring.partition_point(|entry| entry.revision <= after);
        let backlog: VecDeque<LogEntry> = state
            .ring
            .range(first..)
            .filter(|entry| entry.key.starts_with(&**prefix))
            .cloned()
            .collect();
        // A zero-sized channel is a panic in Tokio; one slot is the smallest buffer.
        let (tx, rx) = mpsc::channel(self.config.subscriber_buffer.max(1));
        let close = Arc::new(OnceLock::new());
        let id = state.next_id;
        state.next_id += 1;
        let subscriber = Subscriber { prefix: prefix.clone(), after, tx, close: close.clone() };
        state.subscribers.insert(id, subscriber);
        let head = self.head.subscribe();
        Join::Joined(Subscription::new(self.clone(), id, backlog, rx, head, close))
    }

    /// Whether the feed has fanned out entries after `after` already.
    pub(super) fn is_past(&self, after: i64) -> bool {
        after < self.lock().position
    }

    /// Forgets a subscriber whose stream was dropped.
    pub(super) fn unregister(&self, id: u64) {
        self.lock().subscribers.remove(&id);
    }
}

// The pump's side.
impl Shared {
    /// The revision the storage watch resumes after.
    pub(super) fn position(&self) -> i64 {
        self.lock().position
    }

    /// The feed (re)starts at `head`, the log's current revision, with an empty ring.
    pub(super) fn positioned(&self, head: i64) {
        let mut state = self.lock();
        if state.phase == Phase::Stopped {
            return;
        }
        state.phase = Phase::Running;
        state.position = head;
        state.floor = head;
        state.ring.clear();
        state.ring_bytes = 0;
        drop(state);
        self.head.send_modify(|h| h.position = Some(head));
    }

    /// Sends `entry` to every subscriber of its prefix and remembers it. Does not publish the
    /// new position: [`Shared::publish`] does, once per batch of entries.
    pub(super) fn fan_out(&self, entry: LogEntry) {
        let mut state = self.lock();
        let revision = entry.revision;
        let mut overflowed = Vec::new();
        for (id, subscriber) in &state.subscribers {
            if revision <= subscriber.after || !entry.key.starts_with(&*subscriber.prefix) {
                continue;
            }
            match subscriber.tx.try_send(entry.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => overflowed.push(*id),
                // Dropped without unregistering yet: its `Drop` is on its way.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        for id in overflowed {
            let reason = SourceError::Unavailable(format!(
                "fell behind the log feed at revision {revision}; resume from the last revision seen"
            ));
            close(&mut state, id, reason);
        }
        state.position = state.position.max(revision);
        remember(&mut state, entry, &self.config);
    }

    /// Moves the position to `revision` (a storage progress item): nothing else up to it.
    pub(super) fn advance(&self, revision: i64) {
        let mut state = self.lock();
        state.position = state.position.max(revision);
    }

    /// Publishes the position: every entry up to it is in its subscribers' channels.
    /// Only the pump changes the state's position and phase, so nothing moves between the read
    /// and the send; sending outside the state lock keeps the two locks unordered.
    pub(super) fn publish(&self) {
        let position = {
            let state = self.lock();
            if state.phase != Phase::Running {
                return;
            }
            Some(state.position)
        };
        self.head.send_if_modified(|h| std::mem::replace(&mut h.position, position) != position);
    }

    /// The storage watch cannot continue from the position: every subscriber ends with `reason`
    /// (views re-list) and the feed forgets its position until the pump reads the head again.
    pub(super) fn reset(&self, reason: &SourceError) {
        let mut state = self.lock();
        if state.phase == Phase::Stopped {
            return;
        }
        tracing::warn!(position = state.position, %reason, "the log feed restarts at the head");
        close_all(&mut state, reason);
        state.phase = Phase::Positioning;
        state.ring.clear();
        state.ring_bytes = 0;
        drop(state);
        self.head.send_modify(|h| h.position = None);
    }

    /// Shutdown: every subscriber's stream ends; later subscriptions fail.
    pub(super) fn stop(&self) {
        let mut state = self.lock();
        close_all(&mut state, &stopped_error());
        state.phase = Phase::Stopped;
        state.ring.clear();
        state.ring_bytes = 0;
        drop(state);
        self.head.send_modify(|h| h.stopped = true);
    }
}

pub(super) fn stopped_error() -> SourceError {
    SourceError::Unavailable("the server is shutting down".into())
}

/// Closes one subscriber: its stream yields `reason` once its channel is drained.
fn close(state: &mut State, id: u64, reason: SourceError) {
    if let Some(subscriber) = state.subscribers.remove(&id) {
        let _ = subscriber.close.set(reason);
        // Dropping the only sender closes the channel.
    }
}

fn close_all(state: &mut State, reason: &SourceError) {
    for (_, subscriber) in state.subscribers.drain() {
        let _ = subscriber.close.set(reason.clone());
    }
}

/// Appends `entry` to the ring and drops the oldest entries beyond its bounds.
fn remember(state: &mut State, entry: LogEntry, config: &FeedConfig) {
    state.ring_bytes += entry_bytes(&entry);
    state.ring.push_back(entry);
    while state.ring.len() > config.ring_entries.max(1)
        || (state.ring_bytes > config.ring_bytes && state.ring.len() > 1)
    {
        let Some(oldest) = state.ring.pop_front() else { break };
        state.ring_bytes -= entry_bytes(&oldest);
        state.floor = oldest.revision;
    }
}

fn entry_bytes(entry: &LogEntry) -> usize {
    let value = |v: &Option<bytes::Bytes>| v.as_ref().map_or(0, bytes::Bytes::len);
    entry.key.len() + value(&entry.value) + value(&entry.prev_value)
}

#[cfg(test)]
mod tests {
    use ::watch::SourceItem;
    use bytes::Bytes;
    use futures::StreamExt;

    use super::pump::{Pump, failed, step};
    use super::*;
    use crate::storage::embedded::EmbeddedStorage;
    use crate::storage::{Provenance, Storage, Verb};

    struct Fixture {
        storage: Arc<dyn Storage>,
        feed: LogFeed,
        stop: watch::Sender<bool>,
        _dir: tempfile::TempDir,
    }

    /// A small ring (8 entries) and small channels (4 entries).
    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let config = FeedConfig {
            ring_entries: 8,
            ring_bytes: 1 << 20,
            subscriber_buffer: 4,
            start_wait: Duration::from_secs(10),
            retry_backoff: Duration::from_millis(10),
            max_retry_backoff: Duration::from_millis(100),
        };
        let (stop, stopped) = watch::channel(false);
        let feed = LogFeed::new(StorageSource::new(storage.clone()), config, stopped);
        Fixture { storage, feed, stop, _dir: dir }
    }

    impl Fixture {
        async fn write(&self, key: &str) -> i64 {
            let who = Provenance::now("test", Verb::Create, "");
            let created = self.storage.create(key, Bytes::from_static(b"{}"), who).await;
            created.unwrap().mod_revision
        }

        /// Starts the feed the way a view does: its first list, at the feed's position.
        async fn start(&self) -> i64 {
            let (_, revision) = self.feed.list("/a/", None).await.unwrap();
            revision
        }

        fn subscribers(&self) -> usize {
            self.feed.shared.lock().subscribers.len()
        }
    }

    /// Reads `stream` until its position reaches `until`; returns the entries' revisions and
    /// keys, and checks that positions only grow.
    async fn read_until(stream: &mut SourceStream, until: i64) -> Vec<(i64, String)> {
        let (mut entries, mut at) = (Vec::new(), 0);
        while at < until {
            let next = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
            match next.expect("an item within 10 s") {
                Some(Ok(SourceItem::Entry(entry))) => {
                    assert!(entry.revision > at, "{} after {at}", entry.revision);
                    at = entry.revision;
                    entries.push((entry.revision, entry.key.to_string()));
                }
                Some(Ok(SourceItem::Progress(revision))) => {
                    assert!(revision > at, "progress {revision} after {at}");
                    at = revision;
                }
                other => panic!("expected an item, got {other:?}"),
            }
        }
        assert_eq!(at, until, "read past {until}");
        entries
    }

    #[tokio::test]
    async fn an_idle_prefix_advances_with_every_revision_of_the_log() {
        let f = fixture();
        let position = f.start().await;
        let mut a = f.feed.watch("/a/", position);
        let mut b = f.feed.watch("/b/", position);
        let mut written = Vec::new();
        for i in 0..3 {
            let key = format!("/a/ns/x{i}");
            written.push((f.write(&key).await, key));
        }
        let head = f.storage.current_revision().await.unwrap();
        assert_eq!(read_until(&mut a, head).await, written);
        assert_eq!(read_until(&mut b, head).await, []);
        assert_eq!(f.subscribers(), 2);
    }

    #[tokio::test]
    async fn joining_inside_the_ring_delivers_each_later_entry_once_in_order() {
        let f = fixture();
        let position = f.start().await;
        let mut revisions = Vec::new();
        for i in 0..6 {
            let key = format!("/{}/ns/x{i}", if i % 2 == 0 { "a" } else { "b" });
            revisions.push((f.write(&key).await, key));
        }
        let mut warm = f.feed.watch("/b/", position);
        read_until(&mut warm, revisions[5].0).await;
        // The ring holds all six; join after the second.
        let after = revisions[1].0;
        assert!(matches!(f.feed.shared.join(&"/a/".into(), after), Join::Joined(_)));
        let mut a = f.feed.watch("/a/", after);
        // Entries written while the subscription opens arrive live, after the ring's.
        let late = f.write("/a/ns/late").await;
        let head = f.storage.current_revision().await.unwrap();
        let expected: Vec<(i64, String)> = revisions
            .iter()
            .filter(|(revision, key)| *revision > after && key.starts_with("/a/"))
            .cloned()
            .chain([(late, "/a/ns/late".to_owned())])
            .collect();
        assert_eq!(read_until(&mut a, head).await, expected);
    }

    #[tokio::test]
    async fn joining_from_before_the_ring_reads_the_log_then_joins_the_feed() {
        let f = fixture();
        let position = f.start().await;
        let mut revisions = Vec::new();
        for i in 0..12 {
            let key = format!("/{}/ns/x{i}", if i % 3 == 0 { "a" } else { "b" });
            revisions.push((f.write(&key).await, key));
        }
        let mut warm = f.feed.watch("/b/", position);
        read_until(&mut warm, revisions[11].0).await;
        // Twelve entries, a ring of eight: the first four are only in the log.
        let after = revisions[0].0;
        assert!(matches!(f.feed.shared.join(&"/a/".into(), after), Join::BeforeRing));
        let mut a = f.feed.watch("/a/", after);
        let head = f.storage.current_revision().await.unwrap();
        let expected: Vec<(i64, String)> = revisions
            .iter()
            .filter(|(revision, key)| *revision > after && key.starts_with("/a/"))
            .cloned()
            .collect();
        assert_eq!(read_until(&mut a, head).await, expected);
        // Caught up, it joined the feed (beside `warm`) and follows it.
        assert_eq!(f.subscribers(), 2);
        let later = f.write("/a/ns/later").await;
        assert_eq!(read_until(&mut a, later).await, [(later, "/a/ns/later".to_owned())]);
    }

    #[tokio::test]
    async fn a_join_from_before_the_compacted_revision_is_compacted_though_the_ring_holds_it() {
        let f = fixture();
        let position = f.start().await;
        let first = f.write("/a/ns/first").await;
        let second = f.write("/a/ns/second").await;
        let mut warm = f.feed.watch("/a/", position);
        read_until(&mut warm, second).await;
        f.storage.compact(second).await.unwrap();
        assert!(matches!(f.feed.shared.join(&"/a/".into(), first), Join::Joined(_)));
        let mut expired = f.feed.watch("/a/", first);
        let compacted = SourceError::Compacted { requested: first, oldest: second };
        assert_eq!(expired.next().await, Some(Err(compacted)));
        // From the compacted revision itself, the ring serves.
        let mut fine = f.feed.watch("/a/", second);
        let third = f.write("/a/ns/third").await;
        assert_eq!(read_until(&mut fine, third).await, [(third, "/a/ns/third".to_owned())]);
    }

    #[tokio::test]
    async fn a_subscriber_that_never_reads_is_cut_off_without_stalling_another() {
        let f = fixture();
        let position = f.start().await;
        let mut stalled = f.feed.watch("/a/", position);
        let mut reader = f.feed.watch("/a/", position);
        // Both register on their first poll.
        let _ = tokio::time::timeout(Duration::from_millis(100), stalled.next()).await;
        let _ = tokio::time::timeout(Duration::from_millis(100), reader.next()).await;
        assert_eq!(f.subscribers(), 2);
        let mut written = Vec::new();
        for i in 0..10 {
            let key = format!("/a/ns/x{i}");
            written.push((f.write(&key).await, key));
            // The reader keeps up; the stalled one does not read at all.
            assert_eq!(read_until(&mut reader, written[i].0).await, [written[i].clone()]);
        }
        assert_eq!(f.subscribers(), 1, "the stalled subscriber was closed");
        // Its channel's four entries, then the end.
        let mut delivered = Vec::new();
        loop {
            match stalled.next().await {
                Some(Ok(SourceItem::Entry(entry))) => delivered.push(entry.revision),
                Some(Ok(SourceItem::Progress(_))) => {}
                Some(Err(SourceError::Unavailable(_))) => break,
                other => panic!("expected entries then Unavailable, got {other:?}"),
            }
        }
        let first_four: Vec<i64> = written.iter().take(4).map(|(revision, _)| *revision).collect();
        assert_eq!(delivered, first_four);
        assert!(stalled.next().await.is_none());
    }

    #[tokio::test]
    async fn shutdown_ends_every_subscription_and_refuses_new_ones() {
        let f = fixture();
        let position = f.start().await;
        let mut a = f.feed.watch("/a/", position);
        let _ = tokio::time::timeout(Duration::from_millis(100), a.next()).await;
        f.stop.send(true).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(10), a.next()).await.unwrap();
        assert!(matches!(ended, Some(Err(SourceError::Unavailable(_)))), "{ended:?}");
        assert!(a.next().await.is_none());
        let mut late = f.feed.watch("/a/", position);
        assert!(matches!(late.next().await, Some(Err(SourceError::Unavailable(_)))));
        assert_eq!(f.subscribers(), 0);
    }

    /// The pump stepped by hand: a watch that cannot continue from the feed's position ends
    /// every subscription with its error, and the feed restarts at the head.
    #[tokio::test]
    async fn a_compacted_position_ends_every_subscription_and_restarts_at_the_head() {
        let f = fixture();
        let shared = f.feed.shared.clone();
        let first = f.write("/a/ns/first").await;
        let pump = step(&shared, Pump::Positioning { failures: 0 }).await;
        assert!(matches!(pump, Pump::Opening { .. }));
        assert_eq!(shared.position(), first);
        let mut a = f.feed.watch("/a/", first);
        let _ = tokio::time::timeout(Duration::from_millis(100), a.next()).await;
        assert_eq!(f.subscribers(), 1);

        let second = f.write("/b/ns/second").await;
        let compacted = SourceError::Compacted { requested: first, oldest: second };
        let pump = failed(&shared, compacted.clone(), 0);
        assert!(matches!(pump, Pump::Positioning { .. }));
        assert_eq!(a.next().await, Some(Err(compacted)));
        assert_eq!(f.subscribers(), 0);

        assert!(matches!(step(&shared, pump).await, Pump::Opening { .. }));
        assert_eq!(shared.position(), second);
        assert_eq!(f.feed.list("/a/", None).await.unwrap().1, second);
        assert!(matches!(shared.join(&"/a/".into(), second), Join::Joined(_)));
    }
}
