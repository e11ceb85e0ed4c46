//! The feed's one task: it reads the storage watch of the whole log and hands every item to the
//! feed's fan-out ([`super::feed`]).
//!
//! An explicit state machine, stepped by [`step`]:
//!
//! ```text
//! Positioning ──head read──▶ Opening ──watch("/", P)──▶ Following ──items──▶ Following
//!      ▲                        ▲                          │
//!      │                        └── Unavailable, ended ────┤
//!      └──── Compacted or Other: every subscriber ends ────┘
//! ```
//!
//! A broken watch is re-opened after the feed's position P, so no subscriber notices. Only when
//! the log cannot continue from P (its history was compacted past P, or it reports an error that
//! retrying will not heal) does the feed close every subscriber with that error — their views
//! re-list — and restart at the log's head. Failures are retried with a doubling backoff;
//! shutdown interrupts any step.

use std::sync::Arc;
use std::time::Duration;

use ::watch::{LogSource, SourceError, SourceItem, SourceStream};
use futures::{FutureExt, StreamExt};

use super::feed::{FeedConfig, Shared};

/// Items applied before the position is published: one wake-up of every idle subscriber per
/// batch, not per entry, when the log is busy.
const PUBLISH_BATCH: usize = 256;

pub(super) enum Pump {
    /// Reading the log's head, where the feed starts: first, and after a reset.
    Positioning { failures: u32 },
    /// Opening the storage watch after the feed's position.
    Opening { failures: u32 },
    /// Fanning out the storage watch's items.
    Following { stream: SourceStream, failures: u32 },
}

/// Runs the feed until shutdown, then stops it (ending every subscriber's stream).
pub(super) async fn run(feed: Arc<Shared>) {
    let mut shutdown = feed.shutdown.clone();
    // A dropped sender counts as shutdown too.
    let stopped = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopped);
    let mut pump = Pump::Positioning { failures: 0 };
    loop {
        tokio::select! {
            biased;
            () = &mut stopped => break,
            next = step(&feed, pump) => pump = next,
        }
    }
    tracing::debug!("log feed stopped");
    feed.stop();
}

pub(super) async fn step(feed: &Shared, pump: Pump) -> Pump {
    match pump {
        Pump::Positioning { failures } => {
            tokio::time::sleep(backoff(&feed.config, failures)).await;
            match feed.source.current_revision().await {
                Ok(head) => {
                    tracing::debug!(head, "log feed positioned");
                    feed.positioned(head);
                    Pump::Opening { failures: 0 }
                }
                Err(err) => {
                    tracing::warn!(%err, "reading the log's head failed; retrying");
                    Pump::Positioning { failures: failures + 1 }
                }
            }
        }
        Pump::Opening { failures } => {
            tokio::time::sleep(backoff(&feed.config, failures)).await;
            // A failure to start is the stream's first item.
            let stream = feed.source.watch("/", feed.position());
            Pump::Following { stream, failures }
        }
        Pump::Following { mut stream, failures } => {
            let mut next = stream.next().await;
            let mut budget = PUBLISH_BATCH;
            loop {
                match next {
                    Some(Ok(SourceItem::Entry(entry))) => feed.fan_out(entry),
                    Some(Ok(SourceItem::Progress(revision))) => feed.advance(revision),
                    Some(Err(err)) => {
                        feed.publish();
                        return failed(feed, err, failures);
                    }
                    None => {
                        feed.publish();
                        let ended = SourceError::Unavailable("the log watch ended".into());
                        return failed(feed, ended, failures);
                    }
                }
                budget -= 1;
                if budget == 0 {
                    break;
                }
                match stream.next().now_or_never() {
                    Some(ready) => next = ready,
                    None => break,
                }
            }
            feed.publish();
            Pump::Following { stream, failures: 0 }
        }
    }
}

/// Where the pump goes after the storage watch failed with `err`.
pub(super) fn failed(feed: &Shared, err: SourceError, failures: u32) -> Pump {
    match err {
        SourceError::Unavailable(_) => {
            tracing::debug!(%err, position = feed.position(), "resuming the log feed's watch");
            Pump::Opening { failures: failures + 1 }
        }
        SourceError::Compacted { .. } | SourceError::Other(_) => {
            feed.reset(&err);
            Pump::Positioning { failures: failures + 1 }
        }
    }
}

/// No delay for a first try; then `retry_backoff`, doubling up to `max_retry_backoff`.
fn backoff(config: &FeedConfig, failures: u32) -> Duration {
    match failures {
        0 => Duration::ZERO,
        n => {
            let doubled = config.retry_backoff.saturating_mul(1 << (n - 1).min(16));
            doubled.min(config.max_retry_backoff)
        }
    }
}
