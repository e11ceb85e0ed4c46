//! The end-to-end property: under concurrent writes, every watcher — fast, slow, stalled, resumed
//! from the window or from the log, with or without an index hint — sees exactly the events of
//! its selection, in order, once.
//!
//! Every object carries the label `mod3` = its `n` modulo three, so most writes relabel it; the
//! filtered watchers select `mod3=0`, half of them through the index.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use super::fake::{FakeLog, decode};
use super::soon;
use crate::{
    EntryKind, IndexValue, LogEntry, View, ViewConfig, WatchEventType, WatchRequest, WatchStart,
    WatcherEvent,
};

const WRITERS: usize = 4;
const WRITES: usize = 2_000;
const PRELOADED: i64 = 100;

#[derive(Debug, Clone, Copy)]
enum Pace {
    /// Takes every item at once.
    Fast,
    /// Yields to the scheduler between items: with a tiny buffer it falls behind now and then.
    Slow,
    /// Stops reading for 600 revisions once, so its resume point leaves the window.
    Stall,
}

#[derive(Debug, Clone)]
struct Spec {
    namespace: Option<&'static str>,
    /// Only objects whose `n` is a multiple of three (by the label `mod3=0`).
    filtered: bool,
    /// With the hint `mod3=0`, so the dispatcher only hands it the events of that label value.
    indexed: bool,
    after: Option<i64>,
    buffer: usize,
    pace: Pace,
}

/// What one watcher saw across all its resumes.
#[derive(Debug, Default)]
struct Record {
    /// For a watch from `None`: the state's revision and its objects.
    initial: Option<(i64, BTreeMap<String, Value>)>,
    events: Vec<(i64, WatchEventType)>,
    resumes: usize,
    replays: usize,
}

fn selected(spec: &Spec, value: &Value) -> bool {
    !spec.filtered || value["n"].as_i64().is_some_and(|n| n % 3 == 0)
}

fn in_namespace(spec: &Spec, key: &str) -> bool {
    spec.namespace.is_none_or(|ns| key.starts_with(&format!("/things/{ns}/")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_watcher_sees_exactly_its_selection_across_resumes() {
    let log = FakeLog::new();
    for i in 0..PRELOADED {
        log.put(&format!("/things/ns{}/pre{}", i % 3, i % 10), object(i, None));
    }
    let config = ViewConfig {
        window_events: 64,
        bookmark_interval: Duration::from_millis(5),
        ..Default::default()
    };
    let (view, _shutdown) = super::start(&log, config);
    view.wait_until(PRELOADED, soon()).await.unwrap();
    let total = PRELOADED + (WRITERS * WRITES) as i64;

    let namespaces = [None, Some("ns0"), Some("ns1"), Some("ns2")];
    let afters = [Some(0), Some(PRELOADED), None, Some(PRELOADED / 2)];
    let paces = [Pace::Fast, Pace::Slow, Pace::Fast, Pace::Stall, Pace::Slow];
    let specs: Vec<Spec> = (0..24)
        .map(|i| {
            let pace = paces[i % paces.len()];
            let filtered = i % 3 == 2 && !matches!(pace, Pace::Stall);
            Spec {
                namespace: namespaces[i % namespaces.len()],
                filtered,
                indexed: filtered && i % 2 == 1,
                after: afters[(i / 4) % afters.len()],
                buffer: match pace {
                    Pace::Fast => 1_000,
                    Pace::Slow => 2,
                    Pace::Stall => 4,
                },
                pace,
            }
        })
        .collect();
    let watchers: Vec<_> = specs
        .iter()
        .map(|spec| tokio::spawn(run_watcher(view.clone(), log.clone(), spec.clone(), total)))
        .collect();

    let writers: Vec<_> = (0..WRITERS).map(|w| tokio::spawn(write(log.clone(), w))).collect();
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(log.revision(), total);

    let entries = log.entries();
    let (mut resumes, mut replays) = (0, 0);
    for (spec, watcher) in specs.iter().zip(watchers) {
        let record = tokio::time::timeout(Duration::from_secs(120), watcher)
            .await
            .unwrap_or_else(|_| panic!("{spec:?} finished"))
            .unwrap();
        let after = match (&record.initial, spec.after) {
            (Some((revision, objects)), None) => {
                let expected: BTreeMap<_, _> = log
                    .state_at("/things/", *revision)
                    .into_iter()
                    .filter(|(k, v)| in_namespace(spec, k) && selected(spec, v))
                    .collect();
                assert_eq!(objects, &expected, "{spec:?}: the initial state");
                *revision
            }
            (None, Some(after)) => after,
            _ => panic!("{spec:?}: {:?}", record.initial),
        };
        let expected = expected_events(&entries, spec, after);
        assert!(
            record.events == expected,
            "{spec:?}: {} events seen, {} expected; first difference at {:?}",
            record.events.len(),
            expected.len(),
            record.events.iter().zip(&expected).position(|(a, b)| a != b),
        );
        resumes += record.resumes;
        replays += record.replays;
    }
    let terminated = view.metrics().terminated_watchers.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        terminated > 0 && resumes as u64 >= terminated,
        "{terminated} closed, {resumes} resumed"
    );
    assert!(replays >= 4, "stalled watchers resumed from the log: {replays}");
    assert!(specs.iter().filter(|s| s.indexed).count() >= 3);
    assert!(view.metrics().index_skipped.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

/// Object number `n` (of writer `w`), labelled with `n` modulo three.
fn object(n: i64, w: Option<usize>) -> Value {
    json!({"n": n, "w": w, "metadata": {"labels": {"mod3": (n % 3).to_string()}}})
}

/// Writer `w` creates, updates and deletes its own 25 keys in namespace `ns{w % 3}`: exactly one
/// log entry per write.
async fn write(log: Arc<FakeLog>, w: usize) {
    let mut exists = [false; 25];
    for i in 0..WRITES {
        let k = i % 25;
        let key = format!("/things/ns{}/w{w}-{k}", w % 3);
        if exists[k] && i % 4 == 3 {
            log.delete(&key).expect("the key exists");
            exists[k] = false;
        } else {
            log.put(&key, object(i as i64, Some(w)));
            exists[k] = true;
        }
        tokio::task::yield_now().await;
    }
}

/// Watches until it has seen revision `total`, resuming whenever its stream ends with an error.
async fn run_watcher(view: View, log: Arc<FakeLog>, spec: Spec, total: i64) -> Record {
    let mut record = Record::default();
    let mut after = spec.after;
    let mut stalled = false;
    loop {
        let filtered = spec.filtered;
        let mut request = WatchRequest::new(after)
            .buffer(spec.buffer)
            .bookmarks(true)
            .initial_events_end(true)
            .filter(move |v| !filtered || v["metadata"]["labels"]["mod3"] == "0");
        request.namespace = spec.namespace.map(String::from);
        if spec.indexed {
            request = request.index(IndexValue::label("mod3", "0"));
        }
        let mut watcher = view.watch(request).expect("the view is running");
        if let WatchStart::ReplayFromLog { .. } = watcher.start_point() {
            record.replays += 1;
        }
        let mut initial = BTreeMap::new();
        let mut resumed = false;
        while let Some(item) = watcher.next().await {
            let position = match &item {
                WatcherEvent::Bookmark { revision, initial_events_end: true } => {
                    record.initial = Some((*revision, std::mem::take(&mut initial)));
                    *revision
                }
                WatcherEvent::Added(change) if record.initial.is_none() && after.is_none() => {
                    let object = change.object();
                    initial.insert(object.key.to_string(), object.json.clone());
                    continue;
                }
                WatcherEvent::Bookmark { revision, .. } => *revision,
                WatcherEvent::Error(error) => {
                    after = Some(error.resume_after().expect("resumable"));
                    record.resumes += 1;
                    resumed = true;
                    break;
                }
                item => {
                    let (event_type, change) = item.change().expect("a change");
                    record.events.push((change.revision(), event_type));
                    change.revision()
                }
            };
            if position >= total {
                return record;
            }
            match spec.pace {
                Pace::Fast => {}
                Pace::Slow => {
                    for _ in 0..8 {
                        tokio::task::yield_now().await;
                    }
                }
                Pace::Stall if !stalled && position > 1_000 => {
                    stalled = true;
                    while log.revision() < (position + 600).min(total) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                Pace::Stall => {}
            }
        }
        assert!(resumed, "{spec:?}: the stream ended without an error");
    }
}

/// What a watcher of `spec` from `after` must see, computed from the log alone.
fn expected_events(entries: &[LogEntry], spec: &Spec, after: i64) -> Vec<(i64, WatchEventType)> {
    entries
        .iter()
        .filter(|e| e.revision > after && in_namespace(spec, &e.key))
        .filter_map(|e| {
            let now = e.value.as_deref().map(decode).filter(|v| selected(spec, v));
            let before = match e.kind {
                EntryKind::Created => None,
                _ => e.prev_value.as_deref().map(decode).filter(|v| selected(spec, v)),
            };
            let event_type = match (before, now) {
                (None, Some(_)) => WatchEventType::Added,
                (Some(_), Some(_)) => WatchEventType::Modified,
                (Some(_), None) => WatchEventType::Deleted,
                (None, None) => return None,
            };
            Some((e.revision, event_type))
        })
        .collect()
}
