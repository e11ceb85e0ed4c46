//! The view's state: loading, following, consistent reads, the window, relists and shutdown.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::fake::FakeLog;
use super::{change, next, soon, start, started, take};
use crate::{
    NotInWindow, SourceError, ViewConfig, ViewError, WatchError, WatchEventType, WatchRequest,
    WatchStart, WatcherEvent,
};

fn all(_: &Value) -> bool {
    true
}

#[tokio::test(start_paused = true)]
async fn loads_then_follows() {
    let log = FakeLog::new();
    log.put("/things/a/one", json!({"n": 1}));
    log.put("/things/a/two", json!({"n": 2}));
    let r3 = log.put("/things/b/three", json!({"n": 3}));
    log.put("/other/a/x", json!({"n": 0}));

    let (view, _shutdown) = start(&log, ViewConfig::default());
    assert_eq!(view.get("/things/a/one"), Err(ViewError::NotReady), "not loaded before listing");
    view.wait_until(r3, soon()).await.unwrap();
    let one = view.get("/things/a/one").unwrap().expect("loaded");
    assert_eq!(one.json, json!({"n": 1}));
    assert_eq!((one.create_revision, one.mod_revision), (1, 1));
    assert!(view.get("/other/a/x").unwrap().is_none(), "other prefixes are not in the view");

    // Follows: create, update, delete.
    log.put("/things/b/four", json!({"n": 4}));
    log.put("/things/a/one", json!({"n": 10}));
    let last = log.delete("/things/a/two").unwrap();
    view.wait_until(last, soon()).await.unwrap();
    assert_eq!(view.revision(), Some(last));
    let one = view.get("/things/a/one").unwrap().unwrap();
    assert_eq!((one.json.clone(), one.create_revision, one.mod_revision), (json!({"n": 10}), 1, 6));
    assert!(view.get("/things/a/two").unwrap().is_none());

    let (objects, revision) = view.list(None, &all).unwrap();
    let keys: Vec<_> = objects.iter().map(|o| o.key.to_string()).collect();
    assert_eq!(keys, ["/things/a/one", "/things/b/four", "/things/b/three"]);
    assert_eq!(revision, last);
    let (objects, _) = view.list(Some("b"), &|v: &Value| v["n"] == 4).unwrap();
    let keys: Vec<_> = objects.iter().map(|o| o.key.to_string()).collect();
    assert_eq!(keys, ["/things/b/four"], "namespace range and filter");
}

#[tokio::test(start_paused = true)]
async fn wait_until_is_a_consistent_read_fence() {
    let log = FakeLog::new();
    let r1 = log.put("/things/a/one", json!({"n": 1}));
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;

    // Nothing writes revision r1 + 1 in time.
    let deadline = Instant::now() + Duration::from_secs(1);
    let timeout = view.wait_until(r1 + 1, deadline).await;
    assert_eq!(timeout, Err(ViewError::Timeout { wanted: r1 + 1, current: r1 }));

    // A write acknowledged by the log is visible once the view reaches the log's revision.
    let writer = {
        let log = log.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            log.put("/things/a/one", json!({"n": 2}))
        })
    };
    let r2 = writer.await.unwrap();
    assert_eq!(view.catch_up(soon()).await, Ok(r2));
    assert_eq!(view.get("/things/a/one").unwrap().unwrap().json, json!({"n": 2}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_is_a_snapshot_at_one_revision() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let writer = {
        let log = log.clone();
        tokio::spawn(async move {
            for i in 0..2_000 {
                let key = format!("/things/ns{}/obj{}", i % 3, i % 17);
                if i % 5 == 4 {
                    log.delete(&key);
                } else {
                    log.put(&key, json!({"n": i}));
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut lists = 0;
    let mut revisions = std::collections::BTreeSet::new();
    while !writer.is_finished() || lists == 0 {
        let namespace = ["ns1", "ns2"][lists % 2];
        for scope in [None, Some(namespace)] {
            let (objects, revision) = view.list(scope, &all).unwrap();
            let prefix = match scope {
                Some(ns) => format!("/things/{ns}/"),
                None => "/things/".to_string(),
            };
            let listed: std::collections::BTreeMap<_, _> =
                objects.iter().map(|o| (o.key.to_string(), o.json.clone())).collect();
            assert_eq!(listed, log.state_at(&prefix, revision), "list at revision {revision}");
            revisions.insert(revision);
        }
        lists += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    assert!(revisions.len() > 1, "lists ran while events arrived: {revisions:?}");
}

#[tokio::test(start_paused = true)]
async fn events_since_serves_the_window() {
    let log = FakeLog::new();
    let (view, _shutdown) =
        started(&log, ViewConfig { window_events: 3, ..Default::default() }).await;
    let revisions: Vec<i64> =
        (0..5).map(|i| log.put(&format!("/things/a/o{i}"), json!({"n": i}))).collect();
    view.wait_until(revisions[4], soon()).await.unwrap();

    let since: Vec<i64> =
        view.events_since(revisions[2]).unwrap().iter().map(|e| e.revision).collect();
    assert_eq!(since, [revisions[3], revisions[4]]);
    assert_eq!(view.events_since(revisions[4]).unwrap().len(), 0);
    assert_eq!(
        view.events_since(revisions[0]).unwrap_err(),
        NotInWindow { requested: revisions[0], window_start: revisions[1] }
    );

    // Old events also leave the window by age.
    tokio::time::advance(Duration::from_secs(76)).await;
    let r = log.put("/things/a/late", json!({}));
    view.wait_until(r, soon()).await.unwrap();
    let since: Vec<i64> = view.events_since(r - 1).unwrap().iter().map(|e| e.revision).collect();
    assert_eq!(since, [r]);
    assert!(view.events_since(r - 2).is_err());
}

#[tokio::test(start_paused = true)]
async fn resumes_the_log_watch_without_disturbing_watchers() {
    let log = FakeLog::new();
    let r1 = log.put("/things/a/one", json!({"n": 1}));
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let mut watcher = view.watch(WatchRequest::new(Some(r1))).unwrap();

    log.fail_watches(SourceError::Unavailable("connection reset".into()));
    let r2 = log.put("/things/a/two", json!({"n": 2}));
    let r3 = log.put("/things/a/one", json!({"n": 3}));
    view.wait_until(r3, soon()).await.unwrap();

    let expected = [
        change(WatchEventType::Added, "/things/a/two", r2),
        change(WatchEventType::Modified, "/things/a/one", r3),
    ];
    assert_eq!(take(&mut watcher, 2).await, expected);
    assert_eq!(view.metrics().log_resumes.load(Ordering::Relaxed), 1);
    assert_eq!(view.metrics().relists.load(Ordering::Relaxed), 0);
    assert_eq!(view.watcher_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn relists_when_the_log_cannot_continue() {
    let log = FakeLog::new();
    let r1 = log.put("/things/a/one", json!({"n": 1}));
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let mut watcher = view.watch(WatchRequest::new(Some(r1))).unwrap();

    // The log compacted past the view: it re-lists, and its watchers must resync.
    let r2 = log.put("/things/a/two", json!({"n": 2}));
    log.fail_watches(SourceError::Compacted { requested: r1, oldest: r2 });
    let r3 = log.put("/things/a/three", json!({"n": 3}));
    view.wait_until(r3, soon()).await.unwrap();
    assert_eq!(view.metrics().relists.load(Ordering::Relaxed), 1);
    let (objects, revision) = view.list(None, &all).unwrap();
    assert_eq!((objects.len(), revision), (3, r3));

    // The watcher got r2 (dispatched before the failure) or not; either way it ends with a resync
    // saying where to resume, and resuming replays exactly what it missed from the log.
    let mut seen = Vec::new();
    let resume_after = loop {
        match next(&mut watcher).await.expect("a terminal item") {
            WatcherEvent::Error(WatchError::Resync { resume_after }) => break resume_after,
            item => seen.push(super::describe(&item)),
        }
    };
    let mut resumed = view.watch(WatchRequest::new(Some(resume_after))).unwrap();
    assert_eq!(
        resumed.start_point(),
        WatchStart::ReplayFromLog { after: resume_after, window_start: r3 }
    );
    seen.extend(take(&mut resumed, (r3 - resume_after) as usize).await);
    let expected = [
        change(WatchEventType::Added, "/things/a/two", r2),
        change(WatchEventType::Added, "/things/a/three", r3),
    ];
    assert_eq!(seen, expected);

    // A revision the log no longer holds is 410 Expired.
    log.compact(r3);
    let mut expired = view.watch(WatchRequest::new(Some(r1))).unwrap();
    let error = take(&mut expired, 1).await;
    let expected = WatchError::Expired { requested: r1, oldest: r3 };
    assert_eq!(error, [("ERROR", expected.to_string(), 0)]);
    assert!(next(&mut expired).await.is_none(), "the error is the last item");
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_watchers_and_reads() {
    let log = FakeLog::new();
    let r1 = log.put("/things/a/one", json!({"n": 1}));
    let (view, shutdown) = started(&log, ViewConfig::default()).await;
    let mut watcher = view.watch(WatchRequest::new(Some(r1))).unwrap();

    drop(shutdown);
    view.stopped().await;
    assert!(next(&mut watcher).await.is_none(), "a clean end, no error");
    assert_eq!(view.wait_until(r1 + 1, soon()).await, Err(ViewError::Stopped));
    assert_eq!(view.watch(WatchRequest::new(Some(r1))).unwrap_err(), ViewError::Stopped);
}

#[tokio::test(start_paused = true)]
async fn a_value_that_is_not_json_is_served_as_null() {
    let log = FakeLog::new();
    let r = log.put_bytes("/things/a/bad", bytes::Bytes::from_static(b"\x00not json"));
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    view.wait_until(r, soon()).await.unwrap();
    assert_eq!(view.get("/things/a/bad").unwrap().unwrap().json, Value::Null);
    assert_eq!(view.metrics().decode_errors.load(Ordering::Relaxed), 1);
}
