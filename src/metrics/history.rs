//! History metrics (issue 15): how much of the log is retained, measured by the compactor after
//! each of its ticks, and how many events replays have streamed, counted by
//! [`Instrumented`](super::storage::Instrumented) as each event goes out.
//!
//! The oldest retained revision itself is `ledger_log_compacted_revision` (read at each scrape).

use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use metrics::gauge;

use crate::storage::{Result, Revision, Storage};

/// Sets `ledger_history_retained_revisions` (revisions between the oldest readable one and the
/// head) and `ledger_history_retained_seconds` (the age of the oldest retained event: the first
/// one at or after the compacted revision; 0 for an empty log).
pub async fn record_retained(storage: &dyn Storage, head: Revision) -> Result<()> {
    // The compactor's first tick comes before the server installs the recorder.
    super::install();
    let oldest = storage.compacted_revision().await?;
    gauge!("ledger_history_retained_revisions").set(head.saturating_sub(oldest).max(0) as f64);
    let from = oldest.max(1);
    let first = if from <= head {
        // A replay reads lazily: only the first page is read, and dropped at once.
        storage.replay("/", from, head).await?.next().await.transpose()?
    } else {
        None
    };
    let seconds = match first.and_then(|event| event.provenance) {
        Some(who) => (now_micros() - who.timestamp_micros).max(0) as f64 / 1e6,
        None => 0.0,
    };
    gauge!("ledger_history_retained_seconds").set(seconds);
    Ok(())
}

fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}
