//! The follower: the one task per view that keeps it in step with the log.
//!
//! An explicit state machine, stepped one item at a time by [`step`]:
//!
//! ```text
//! Loading ──list──▶ Following ──entry / progress──▶ Following
//!                     │
//!                     ├─ Unavailable, or the stream ended ─▶ Resuming ──watch(rev)──▶ Following
//!                     └─ Compacted or Other ─▶ Relisting ──list──▶ Following
//! ```
//!
//! A broken stream is resumed from the view's revision, which keeps the window and every watcher
//! intact: the log still holds that revision, so nothing is missed. Only when the log cannot
//! continue from there (its history was compacted past the view, or it reports a non-retryable
//! error) does the view re-list, restart its window and close its watchers with a resync.
//! Failed lists and watches are retried with a doubling backoff; shutdown interrupts any step.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;

use crate::source::{SourceError, SourceItem, SourceStream};
use crate::view::{Shared, ViewConfig};

enum State {
    /// Listing the prefix for the first time.
    Loading { failures: u32 },
    /// Applying the log watch's items.
    Following { stream: SourceStream, failures: u32 },
    /// Re-opening the log watch after the view's revision.
    Resuming { reason: SourceError, failures: u32 },
    /// Listing again because the log cannot continue from the view's revision.
    Relisting { reason: SourceError, failures: u32 },
}

/// Runs the follower until `shutdown` completes, then stops the view (ending every watcher).
pub(crate) async fn run(shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut state = State::Loading { failures: 0 };
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            next = step(&shared, state) => state = next,
        }
    }
    tracing::debug!(prefix = %shared.prefix, "view stopped");
    shared.stop();
}

/// Advances the follower by one list or one item.
async fn step(shared: &Shared, state: State) -> State {
    match state {
        State::Loading { failures } => match list(shared, failures, false).await {
            Ok(stream) => State::Following { stream, failures: 0 },
            Err(err) => {
                tracing::warn!(prefix = %shared.prefix, %err, "listing the log failed; retrying");
                State::Loading { failures: failures + 1 }
            }
        },
        State::Relisting { reason, failures } => {
            if failures == 0 {
                tracing::warn!(prefix = %shared.prefix, %reason, "re-listing the view");
            }
            match list(shared, failures, true).await {
                Ok(stream) => State::Following { stream, failures: 0 },
                Err(reason) => State::Relisting { reason, failures: failures + 1 },
            }
        }
        State::Following { mut stream, failures } => match stream.next().await {
            Some(Ok(SourceItem::Entry(entry))) => {
                shared.apply(entry);
                State::Following { stream, failures: 0 }
            }
            Some(Ok(SourceItem::Progress(revision))) => {
                shared.progress(revision);
                State::Following { stream, failures: 0 }
            }
            Some(Err(reason @ SourceError::Unavailable(_))) => {
                State::Resuming { reason, failures: failures + 1 }
            }
            Some(Err(reason)) => State::Relisting { reason, failures: 0 },
            None => {
                let reason = SourceError::Unavailable("the log watch ended".into());
                State::Resuming { reason, failures: failures + 1 }
            }
        },
        State::Resuming { reason, failures } => {
            tracing::debug!(prefix = %shared.prefix, %reason, "resuming the log watch");
            tokio::time::sleep(backoff(&shared.config, failures.saturating_sub(1))).await;
            shared.metrics.log_resumes.fetch_add(1, Ordering::Relaxed);
            let stream = shared.source.watch(&shared.prefix, shared.revision());
            State::Following { stream, failures }
        }
    }
}

/// Lists the prefix (after the backoff `failures` calls for), loads it, and opens the log watch
/// from the list's revision.
async fn list(shared: &Shared, failures: u32, relist: bool) -> Result<SourceStream, SourceError> {
    tokio::time::sleep(backoff(&shared.config, failures)).await;
    let (objects, revision) = shared.source.list(&shared.prefix, None).await?;
    tracing::debug!(prefix = %shared.prefix, revision, objects = objects.len(), "listed");
    shared.load(objects, revision, relist);
    Ok(shared.source.watch(&shared.prefix, revision))
}

/// No delay for a first try; then `retry_backoff`, doubling up to `max_retry_backoff`.
fn backoff(config: &ViewConfig, failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32 << (failures - 1).min(16);
    config.retry_backoff.saturating_mul(factor).min(config.max_retry_backoff)
}
