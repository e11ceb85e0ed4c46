//! Watch fan-out throughput with and without index hints.
//!
//! ```text
//! cargo bench -p kube-ledger-watch --bench fanout [-- WATCHERS [EVENTS]]
//! ```
//!
//! One view over an in-memory log of 10,000 objects, each labelled `app=v<k>` (k random below
//! WATCHERS) and `tier=all`. Two scenarios, each run with the index hint off and then on (the same
//! watchers, filters and events; only the hint differs):
//! - **selective**: WATCHERS watchers, watcher k selecting `app=v<k>`; every event relabels a
//!   random object to a random `app` value, so it concerns at most two watchers.
//! - **unselective**: WATCHERS watchers all selecting `tier=all`, which every object has; every
//!   event concerns every watcher, so the index cannot help and only its overhead shows.
//!
//! Each watcher is drained by its own task. The clock starts when the events are fed to the view
//! and stops when every consumer has drained its stream (the view is shut down once it has applied
//! the last event, so each stream ends after its last item). "dispatch" is the time until the view
//! has applied and handed over every event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use futures::future::{self, BoxFuture};
use futures::stream;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use watch::{
    EntryKind, IndexValue, LogEntry, LogSource, SourceError, SourceItem, SourceStream,
    StoredObject, View, ViewConfig, WatchRequest,
};

const OBJECTS: usize = 10_000;
const PREFIX: &str = "/pods/";

/// A log that lists a fixed state and then streams what the bench feeds it.
struct BenchLog {
    objects: Vec<StoredObject>,
    revision: i64,
    feed: Mutex<Option<mpsc::UnboundedReceiver<LogEntry>>>,
}

impl LogSource for BenchLog {
    fn current_revision(&self) -> BoxFuture<'_, Result<i64, SourceError>> {
        Box::pin(future::ready(Ok(self.revision)))
    }

    fn list<'a>(
        &'a self,
        _prefix: &'a str,
        _at: Option<i64>,
    ) -> BoxFuture<'a, Result<(Vec<StoredObject>, i64), SourceError>> {
        Box::pin(future::ready(Ok((self.objects.clone(), self.revision))))
    }

    fn watch(&self, _prefix: &str, _after: i64) -> SourceStream {
        let feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(feed) = feed else {
            let error = SourceError::Other("the bench log is watched once".into());
            return stream::iter([Err(error)]).boxed();
        };
        stream::unfold(feed, |mut feed| async move {
            let entry = feed.recv().await?;
            Some((Ok(SourceItem::Entry(entry)), feed))
        })
        .boxed()
    }
}

/// xorshift64*: deterministic, and no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

fn key(object: usize) -> Arc<str> {
    format!("{PREFIX}default/pod-{object}").into()
}

fn value(object: usize, app: usize, generation: usize) -> Bytes {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("pod-{object}"),
            "namespace": "default",
            "labels": {"app": format!("v{app}"), "tier": "all"},
        },
        "spec": {"nodeName": format!("node-{app}"), "containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": "Running", "generation": generation},
    });
    Bytes::from(pod.to_string())
}

/// The initial objects and `events` relabelling writes after them, generated before any clock
/// starts.
fn workload(watchers: usize, events: usize) -> (Vec<StoredObject>, i64, Vec<LogEntry>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let objects: Vec<StoredObject> = (0..OBJECTS)
        .map(|o| StoredObject {
            key: key(o),
            value: value(o, rng.below(watchers), 0),
            create_revision: o as i64 + 1,
            mod_revision: o as i64 + 1,
        })
        .collect();
    let listed = OBJECTS as i64;
    let entries = (0..events)
        .map(|i| {
            let o = rng.below(OBJECTS);
            LogEntry {
                revision: listed + 1 + i as i64,
                key: key(o),
                kind: EntryKind::Updated,
                value: Some(value(o, rng.below(watchers), i + 1)),
                prev_value: None,
                create_revision: o as i64 + 1,
            }
        })
        .collect();
    (objects, listed, entries)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Selective,
    Unselective,
}

struct Outcome {
    dispatch: Duration,
    total: Duration,
    delivered: u64,
    skipped: u64,
    terminated: u64,
}

async fn run(scenario: Scenario, hint: bool, watchers: usize, events: usize) -> Outcome {
    let (objects, listed, entries) = workload(watchers, events);
    let last = entries.last().map_or(listed, |e| e.revision);
    let (feed, rx) = mpsc::unbounded_channel();
    let log = Arc::new(BenchLog { objects, revision: listed, feed: Mutex::new(Some(rx)) });
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let view = View::start(log, PREFIX, ViewConfig::default(), shutdown);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    view.wait_until(listed, deadline).await.expect("the view loads");

    let delivered = Arc::new(AtomicU64::new(0));
    let mut consumers = Vec::with_capacity(watchers);
    for k in 0..watchers {
        let (label, wanted) = match scenario {
            Scenario::Selective => ("app", format!("v{k}")),
            Scenario::Unselective => ("tier", "all".to_owned()),
        };
        let selected = wanted.clone();
        let mut request = WatchRequest::new(Some(listed))
            // Never closed as fallen behind: the bench measures hand-overs, not evictions.
            .buffer(events + 1)
            .filter(move |pod| pod["metadata"]["labels"][label].as_str() == Some(&selected));
        if hint {
            request = request.index(IndexValue::label(label, wanted));
        }
        let mut watcher = view.watch(request).expect("the view is running");
        let delivered = delivered.clone();
        consumers.push(tokio::spawn(async move {
            let mut seen = 0;
            while watcher.next().await.is_some() {
                seen += 1;
            }
            delivered.fetch_add(seen, Ordering::Relaxed);
        }));
    }

    let start = Instant::now();
    for entry in entries {
        let _ = feed.send(entry);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    view.wait_until(last, deadline).await.expect("the view applies every event");
    let dispatch = start.elapsed();
    let _ = stop.send(());
    for consumer in consumers {
        let _ = consumer.await;
    }
    let total = start.elapsed();
    let metrics = view.metrics();
    Outcome {
        dispatch,
        total,
        delivered: delivered.load(Ordering::Relaxed),
        skipped: metrics.index_skipped.load(Ordering::Relaxed),
        terminated: metrics.terminated_watchers.load(Ordering::Relaxed),
    }
}

fn report(scenario: Scenario, hint: bool, events: usize, outcome: &Outcome) {
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!(
        "{scenario:?} hint={}: {events} events in {:.3} s = {:.0} events/s end to end \
         (dispatch {:.3} s = {:.0} events/s); {} items delivered, {} hand-overs skipped, {} closed",
        if hint { "on " } else { "off" },
        outcome.total.as_secs_f64(),
        rate(outcome.total),
        outcome.dispatch.as_secs_f64(),
        rate(outcome.dispatch),
        outcome.delivered,
        outcome.skipped,
        outcome.terminated,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; the numbers are positional.
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let watchers = numbers.first().copied().unwrap_or(10_000).max(1);
    let events = numbers.get(1).copied().unwrap_or(2_000);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start a runtime: {err}");
            std::process::exit(1);
        }
    };
    println!("{watchers} watchers, {OBJECTS} objects");
    runtime.block_on(async {
        // Every watcher gets every event here: fewer events keep the run short.
        let cases = [(Scenario::Selective, events), (Scenario::Unselective, (events / 10).max(1))];
        for (scenario, events) in cases {
            let off = run(scenario, false, watchers, events).await;
            report(scenario, false, events, &off);
            let on = run(scenario, true, watchers, events).await;
            report(scenario, true, events, &on);
            assert_eq!(on.delivered, off.delivered, "the hint changed what watchers sent");
            println!(
                "{scenario:?}: index on / off = {:.2}x end to end, {:.2}x dispatch",
                off.total.as_secs_f64() / on.total.as_secs_f64(),
                off.dispatch.as_secs_f64() / on.dispatch.as_secs_f64(),
            );
        }
    });
}
