//! The log's position at a time ([`Storage::revision_at`](super::Storage::revision_at)), found
//! the same way on every backend: by bisecting revisions.
//!
//! A backend supplies one probe, "the first event at or after revision `r`, up to `hi`, that
//! records its time", and [`newest_at_or_before`] bisects the retained revisions with it. Each
//! probe is cheap on both backends (embedded: one rowid seek; etcd: the first message of a watch
//! from `r`), and a search costs about log2(head − oldest retained) of them, whatever the size of
//! the objects, with no index to maintain on every write.
//!
//! Bisection assumes the recorded times grow with revisions, which holds while the servers'
//! clocks do. When a clock steps back, the answer is still a revision whose event was stamped at
//! or before the time asked for, with every probed event after it stamped later: a position the
//! log held around that time, and the same one on every backend (the search and its probes are
//! the same). An index on the timestamp would not do better: "the newest revision stamped at or
//! before T" is then not a prefix of the log either.

use std::future::Future;

use super::{Result, Revision};

/// The newest revision in `[lo, hi]` whose event was stamped at or before `at` (µs since the
/// epoch), bisecting with `probe(r, hi)`: the revision and time of the first stamped event in
/// `[r, hi]`, `None` when there is none. `None` when no event in the range qualifies (the
/// position at `at` is before `lo`, or the range is empty).
pub async fn newest_at_or_before<F, Fut>(
    lo: Revision,
    hi: Revision,
    at: i64,
    mut probe: F,
) -> Result<Option<Revision>>
where
    F: FnMut(Revision, Revision) -> Fut,
    Fut: Future<Output = Result<Option<(Revision, i64)>>>,
{
    let (mut lo, mut hi) = (lo, hi);
    let mut found = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        match probe(mid, hi).await? {
            // Every event from `mid` up to this one is at or before `at`: look above it.
            Some((revision, stamped)) if stamped <= at && revision >= mid && revision <= hi => {
                found = Some(revision);
                lo = revision + 1;
            }
            // The first stamped event from `mid` on is later than `at` (or there is none): so
            // is every event after it.
            _ => hi = mid - 1,
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A log of `(revision, stamp)`, `None` for an event without a time; probes it as a backend
    /// would, counting the probes.
    struct Log {
        events: Vec<(Revision, Option<i64>)>,
        probes: Cell<usize>,
    }

    impl Log {
        fn new(events: Vec<(Revision, Option<i64>)>) -> Log {
            Log { events, probes: Cell::new(0) }
        }

        async fn at(&self, time: i64) -> Option<Revision> {
            let (lo, hi) = match (self.events.first(), self.events.last()) {
                (Some(first), Some(last)) => (first.0, last.0),
                _ => (1, 0),
            };
            self.at_within(lo, hi, time).await
        }

        async fn at_within(&self, lo: Revision, hi: Revision, time: i64) -> Option<Revision> {
            self.probes.set(0);
            let probe = |r: Revision, hi: Revision| {
                self.probes.set(self.probes.get() + 1);
                let from = self.events.partition_point(|(rev, _)| *rev < r);
                let found = self.events[from..]
                    .iter()
                    .take_while(|(rev, _)| *rev <= hi)
                    .find_map(|&(rev, stamp)| stamp.map(|s| (rev, s)));
                async move { Ok(found) }
            };
            newest_at_or_before(lo, hi, time, probe).await.unwrap()
        }
    }

    #[tokio::test]
    async fn exact_between_before_first_and_after_last() {
        let log = Log::new((1..=100).map(|r| (r, Some(r * 10))).collect());
        assert_eq!(log.at(500).await, Some(50), "exactly an event's time");
        assert_eq!(log.at(505).await, Some(50), "between two events");
        assert_eq!(log.at(9).await, None, "before the first event");
        assert_eq!(log.at(10).await, Some(1));
        assert_eq!(log.at(1_000_000).await, Some(100), "after the last event");
        assert_eq!(log.at_within(1, 0, 500).await, None, "an empty log");
    }

    #[tokio::test]
    async fn equal_stamps_give_the_newest_revision() {
        let log =
            Log::new(vec![(1, Some(5)), (2, Some(7)), (3, Some(7)), (4, Some(7)), (5, Some(9))]);
        assert_eq!(log.at(7).await, Some(4));
        assert_eq!(log.at(8).await, Some(4));
        assert_eq!(log.at(6).await, Some(1));
    }

    /// Gaps (compacted revisions, etcd revisions of other keys) and events without a time
    /// (writes by something other than kube-ledger) are stepped over.
    #[tokio::test]
    async fn gaps_and_unstamped_events_are_stepped_over() {
        let log = Log::new(vec![
            (3, Some(30)),
            (4, None),
            (9, Some(90)),
            (10, None),
            (11, None),
            (12, Some(120)),
            (20, None),
        ]);
        assert_eq!(log.at(29).await, None);
        assert_eq!(log.at(30).await, Some(3));
        assert_eq!(log.at(100).await, Some(9));
        assert_eq!(log.at(120).await, Some(12));
        assert_eq!(log.at(500).await, Some(12), "the last stamped event");
    }

    /// A clock that stepped back: the answer was stamped at or before the time asked for, and
    /// the search still ends.
    #[tokio::test]
    async fn a_clock_stepping_back_still_gives_an_event_at_or_before_the_time() {
        let stamps = [10, 20, 30, 40, 25, 26, 27, 50, 60];
        let log = Log::new(stamps.iter().zip(1..).map(|(&s, r)| (r, Some(s))).collect());
        for time in 0..70 {
            if let Some(revision) = log.at(time).await {
                let stamped = stamps[(revision - 1) as usize];
                assert!(stamped <= time, "{time}: revision {revision} stamped {stamped}");
            } else {
                assert!(time < 10, "{time}");
            }
        }
    }

    #[tokio::test]
    async fn probes_grow_with_the_logarithm_of_the_range() {
        let log = Log::new((1..=1_000_000).map(|r| (r, Some(r))).collect());
        for time in [1, 777_777, 1_000_000] {
            assert_eq!(log.at(time).await, Some(time));
            assert!(log.probes.get() <= 21, "{} probes", log.probes.get());
        }
    }
}
