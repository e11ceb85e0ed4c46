//! History metrics (issue 15): how much of the log is retained, recorded by the compactor after
//! each of its ticks, and how many events replays have streamed, counted by
//! [`Instrumented`](super::storage::Instrumented) as each event goes out.
//!
//! The oldest retained revision itself is `ledger_log_compacted_revision` (read at each scrape).

use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use metrics::gauge;

use crate::storage::{Result, Revision, Storage};

/// The compactor's record of the oldest retained event, so the log is read for it only when
/// nothing else tells its time.
#[derive(Debug, Default)]
pub struct RetainedSpan {
    /// The compacted revision last seen, and the time (µs) of the first event at or after it
    /// (`None`: the log holds no event there).
    oldest: Option<(Revision, Option<i64>)>,
}

impl RetainedSpan {
    /// Sets `ledger_history_retained_revisions` (revisions from the compacted revision to the
    /// head) and `ledger_history_retained_seconds` (the age of the oldest retained event).
    ///
    /// `sampled` is the compactor's own compaction point and when it saw that revision as the
    /// head: the event's time to within a tick. Without it (a compaction point from before this
    /// process, or one no sample reaches) the time is read from the log once per compaction
    /// point: the first event of a replay from it. On etcd that read makes etcd load every
    /// revision from there to the head (it catches a new watch up in one pass), which is why it
    /// is not repeated every tick.
    pub async fn record(
        &mut self,
        storage: &dyn Storage,
        head: Revision,
        sampled: Option<(Revision, SystemTime)>,
    ) -> Result<()> {
        // The compactor's first tick comes before the server installs the recorder.
        super::install();
        let compacted = storage.compacted_revision().await?;
        gauge!("ledger_history_retained_revisions").set(head.saturating_sub(compacted) as f64);
        let oldest = match (self.oldest, sampled) {
            (Some((revision, micros)), _) if revision == compacted => micros,
            (_, Some((revision, at))) if revision == compacted => Some(micros_of(at)),
            _ => first_event_micros(storage, compacted, head).await?,
        };
        self.oldest = Some((compacted, oldest));
        let micros = oldest.map_or(0, |micros| (micros_of(SystemTime::now()) - micros).max(0));
        gauge!("ledger_history_retained_seconds").set(micros as f64 / 1e6);
        Ok(())
    }
}

/// The time of the first event at or after `from` (up to `head`), from a replay's first page.
async fn first_event_micros(
    storage: &dyn Storage,
    from: Revision,
    head: Revision,
) -> Result<Option<i64>> {
    let from = from.max(1);
    if from > head {
        return Ok(None);
    }
    // A replay reads lazily: only its first page is read, and dropped at once.
    let first = storage.replay("/", from, head).await?.next().await.transpose()?;
    Ok(first.and_then(|event| event.provenance).map(|who| who.timestamp_micros))
}

fn micros_of(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}
