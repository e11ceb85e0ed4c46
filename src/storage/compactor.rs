//! Scheduled compaction: keeps `--history-retention` worth of revisions in the log, and at most
//! `--history-max-revisions` of them.
//!
//! kube-apiserver compacts etcd every 5 minutes, so a client can resume a watch only from the
//! last few minutes. kube-ledger keeps a time window (default one hour) instead: the compactor
//! samples the log's head revision on every tick and compacts up to the newest revision that is
//! older than the window, or further when more than the size bound of revisions lie behind the
//! head (a burst of writes must not grow the log without limit for a whole window). Compaction
//! drops superseded history only: the current state of every object stays, however old its
//! last write. It works through the [`Storage`] trait, so every backend gets the same schedule.
//! Data flows one way: samples in from `current_revision`, `compact` calls out, and the retained
//! span out to the `ledger_history_*` gauges.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Revision, Storage};

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Revisions newer than this stay (`--history-retention`).
    pub time: Duration,
    /// At most this many revisions behind the head stay (`--history-max-revisions`), whatever
    /// their age.
    pub max_revisions: u64,
}

/// The sampled (time, head revision) pairs of the last `retention`, and the decision of what may
/// be compacted. Pure, so it is tested without a clock or a backend.
#[derive(Debug)]
pub struct RetentionWindow {
    retention: Duration,
    max_revisions: u64,
    /// Oldest first. Holds samples up to `retention` old, plus the newest one older than that.
    samples: VecDeque<(Instant, Revision)>,
    /// The last revision handed out for compaction, so the same one is not compacted twice.
    compacted: Revision,
}

impl RetentionWindow {
    pub fn new(retention: Retention) -> Self {
        RetentionWindow {
            retention: retention.time,
            max_revisions: retention.max_revisions,
            samples: VecDeque::new(),
            compacted: 0,
        }
    }

    /// Records that the head was `revision` at `now`; returns the revision to compact to: the
    /// newer of the newest sample at least `retention` old and `max_revisions` behind the head,
    /// if that is newer than the last compaction.
    pub fn observe(&mut self, now: Instant, revision: Revision) -> Option<Revision> {
        self.samples.push_back((now, revision));
        let by_size =
            revision.saturating_sub(i64::try_from(self.max_revisions).unwrap_or(i64::MAX));
        let target = self.by_time(now).unwrap_or(0).max(by_size);
        if target > self.compacted {
            self.compacted = target;
            Some(target)
        } else {
            None
        }
    }

    /// The newest sampled head at least `retention` old, if any.
    fn by_time(&mut self, now: Instant) -> Option<Revision> {
        let cutoff = now.checked_sub(self.retention)?;
        // Drop samples while the next one is also old enough: the newest old sample is the target.
        while self.samples.len() > 1 && self.samples[1].0 <= cutoff {
            self.samples.pop_front();
        }
        let &(at, target) = self.samples.front()?;
        (at <= cutoff).then_some(target)
    }
}

/// How often the compactor samples the head: often enough that the window is accurate to a
/// quarter of its length, at most every five minutes (kube-apiserver's compaction interval).
pub fn tick_interval(retention: Duration) -> Duration {
    (retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(300))
}

/// Runs until `shutdown` completes. Failures are logged and retried on the next tick: a storage
/// outage delays compaction, it never stops the server.
pub async fn run(
    storage: Arc<dyn Storage>,
    retention: Retention,
    shutdown: impl Future<Output = ()>,
) {
    let mut window = RetentionWindow::new(retention);
    let mut ticker = tokio::time::interval(tick_interval(retention.time));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = ticker.tick() => {}
        }
        let head = match storage.current_revision().await {
            Ok(head) => head,
            Err(err) => {
                tracing::warn!(%err, "compactor: cannot read the current revision");
                continue;
            }
        };
        if let Some(target) = window.observe(Instant::now(), head) {
            match storage.compact(target).await {
                Ok(()) => tracing::info!(revision = target, "compacted history"),
                Err(err) => tracing::warn!(%err, revision = target, "compaction failed"),
            }
        }
        if let Err(err) = crate::metrics::history::record_retained(storage.as_ref(), head).await {
            tracing::debug!(%err, "compactor: cannot measure the retained history");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A time window with no size bound to speak of.
    fn only_time(time: Duration) -> Retention {
        Retention { time, max_revisions: u64::MAX }
    }

    #[tokio::test(start_paused = true)]
    async fn compacts_to_the_newest_revision_older_than_the_window() {
        let hour = Duration::from_secs(3600);
        let mut window = RetentionWindow::new(only_time(hour));
        let t0 = Instant::now();
        let minutes = |m: u64| t0 + Duration::from_secs(60 * m);
        // Nothing is old enough during the first hour.
        for m in 0..60u64 {
            assert_eq!(window.observe(minutes(m), 100 + m as Revision), None, "minute {m}");
        }
        // At 60 min the sample from minute 0 is exactly one hour old.
        assert_eq!(window.observe(minutes(60), 160), Some(100));
        // At 75 min, the newest sample at least an hour old is minute 15's.
        assert_eq!(window.observe(minutes(75), 175), Some(115));
        // Every tick moves the window on by one sample.
        assert_eq!(window.observe(minutes(76), 175), Some(116));
        let mut idle = RetentionWindow::new(only_time(hour));
        assert_eq!(idle.observe(minutes(0), 7), None);
        assert_eq!(idle.observe(minutes(61), 7), Some(7));
        assert_eq!(idle.observe(minutes(122), 7), None, "revision 7 was already compacted");
    }

    #[tokio::test(start_paused = true)]
    async fn the_size_bound_compacts_before_the_window_does() {
        let hour = Duration::from_secs(3600);
        let mut window = RetentionWindow::new(Retention { time: hour, max_revisions: 1000 });
        let t0 = Instant::now();
        let minutes = |m: u64| t0 + Duration::from_secs(60 * m);
        // Within the bound nothing is compacted, however young the revisions.
        assert_eq!(window.observe(minutes(0), 500), None);
        assert_eq!(window.observe(minutes(1), 1000), None);
        // A burst: everything more than 1000 revisions behind the head goes.
        assert_eq!(window.observe(minutes(2), 5000), Some(4000));
        assert_eq!(window.observe(minutes(3), 5000), None, "already compacted there");
        assert_eq!(window.observe(minutes(4), 5500), Some(4500));
        // Once the window passes the bound's point, time decides again.
        assert_eq!(window.observe(minutes(64), 5600), Some(5500), "minute 4's head, an hour old");
        // A bound of 0 keeps only the head.
        let mut nothing = RetentionWindow::new(Retention { time: hour, max_revisions: 0 });
        assert_eq!(nothing.observe(minutes(0), 42), Some(42));
    }

    #[test]
    fn ticks_are_a_quarter_of_the_window_within_bounds() {
        assert_eq!(tick_interval(Duration::from_secs(3600)), Duration::from_secs(300));
        assert_eq!(tick_interval(Duration::from_secs(60)), Duration::from_secs(15));
        assert_eq!(tick_interval(Duration::from_millis(100)), Duration::from_secs(1));
    }
}
