//! In-crate tests, driven by an in-memory [`fake::FakeLog`]: the real backends are tested against
//! the storage contract elsewhere; here the view's own logic is under test.

mod completeness;
mod fake;
mod index;
mod view;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::{View, ViewConfig, WatchEventType, Watcher, WatcherEvent};
use fake::FakeLog;

/// Stops the view it was started with when dropped.
struct Shutdown {
    _tx: oneshot::Sender<()>,
}

fn start(log: &Arc<FakeLog>, config: ViewConfig) -> (View, Shutdown) {
    let (tx, rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = rx.await;
    };
    (View::start(log.clone(), "/things/", config, shutdown), Shutdown { _tx: tx })
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// A view at the log's current revision.
async fn started(log: &Arc<FakeLog>, config: ViewConfig) -> (View, Shutdown) {
    let (view, shutdown) = start(log, config);
    view.wait_until(log.revision(), soon()).await.expect("the view loads");
    (view, shutdown)
}

/// The next item, failing the test instead of hanging (past several bookmark intervals: the
/// tests using it run on paused time, where waiting costs nothing).
async fn next(watcher: &mut Watcher) -> Option<WatcherEvent> {
    tokio::time::timeout(Duration::from_secs(600), watcher.next()).await.expect("a watch item")
}

/// The next `n` items as `(type, key, revision)`; bookmarks and errors as `("BOOKMARK", "", rev)`
/// and `("ERROR", message, 0)`.
async fn take(watcher: &mut Watcher, n: usize) -> Vec<(&'static str, String, i64)> {
    let mut items = Vec::new();
    for _ in 0..n {
        let item = next(watcher).await.expect("the stream continues");
        items.push(describe(&item));
    }
    items
}

fn describe(item: &WatcherEvent) -> (&'static str, String, i64) {
    match item {
        WatcherEvent::Bookmark { revision, .. } => ("BOOKMARK", String::new(), *revision),
        WatcherEvent::Error(err) => ("ERROR", err.to_string(), 0),
        _ => {
            let (event_type, change) = item.change().expect("a change");
            (event_type.as_str(), change.object().key.to_string(), change.revision())
        }
    }
}

/// `(type, key, revision)` of a change.
fn change(event_type: WatchEventType, key: &str, revision: i64) -> (&'static str, String, i64) {
    (event_type.as_str(), key.to_string(), revision)
}
