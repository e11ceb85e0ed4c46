//! Watches: where they start, what they send, fan-out, slow watchers, bookmarks, encode-once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;

use super::fake::FakeLog;
use super::{change, describe, next, soon, started, take};
use crate::{
    EncodingKey, ViewConfig, WatchError, WatchEventType, WatchRequest, WatchStart, WatcherEvent,
};

use WatchEventType::{Added, Deleted, Modified};

#[tokio::test(start_paused = true)]
async fn from_none_sends_the_state_then_live_events() {
    let log = FakeLog::new();
    let r1 = log.put("/things/a/one", json!({"n": 1}));
    let r2 = log.put("/things/a/two", json!({"n": 2}));
    log.put("/things/b/other", json!({"n": 0}));
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();

    let request = WatchRequest::new(None).namespace("a").initial_events_end(true);
    let mut watcher = view.watch(request).unwrap();
    assert_eq!(watcher.start_point(), WatchStart::InitialState { revision: at });
    let r4 = log.put("/things/a/three", json!({"n": 3}));
    let r5 = log.put("/things/a/one", json!({"n": 10}));
    let r6 = log.delete("/things/a/two").unwrap();
    log.put("/things/b/other", json!({"n": 1}));

    let expected = [
        change(Added, "/things/a/one", r1),
        change(Added, "/things/a/two", r2),
        ("BOOKMARK", String::new(), at),
        change(Added, "/things/a/three", r4),
        change(Modified, "/things/a/one", r5),
        change(Deleted, "/things/a/two", r6),
    ];
    assert_eq!(take(&mut watcher, 6).await, expected);
    // The end-of-initial-events bookmark is marked as such.
    let mut again = view.watch(WatchRequest::new(None).initial_events_end(true)).unwrap();
    let items: Vec<_> = (&mut again).take(4).collect().await;
    assert_eq!(items.iter().filter(|i| matches!(i, WatcherEvent::Added(_))).count(), 3);
    assert!(matches!(items[3], WatcherEvent::Bookmark { initial_events_end: true, .. }));
    // A DELETED change carries the object as it was, at the delete's revision.
    let mut from_r5 = view.watch(WatchRequest::new(Some(r5)).namespace("a")).unwrap();
    let Some(WatcherEvent::Deleted(deleted)) = next(&mut from_r5).await else { panic!() };
    assert_eq!((deleted.revision(), deleted.object().json.clone()), (r6, json!({"n": 2})));
}

#[tokio::test(start_paused = true)]
async fn from_a_revision_in_the_window_sends_exactly_the_events_after_it() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let revisions: Vec<i64> =
        (0..10).map(|i| log.put(&format!("/things/a/o{i}"), json!({"n": i}))).collect();
    view.wait_until(revisions[9], soon()).await.unwrap();

    let mut watcher = view.watch(WatchRequest::new(Some(revisions[4]))).unwrap();
    assert_eq!(watcher.start_point(), WatchStart::Window { after: revisions[4] });
    let later = log.put("/things/a/o0", json!({"n": 100}));
    let mut expected: Vec<_> =
        (5..10).map(|i| change(Added, &format!("/things/a/o{i}"), revisions[i])).collect();
    expected.push(change(Modified, "/things/a/o0", later));
    assert_eq!(take(&mut watcher, 6).await, expected);
    assert_eq!(view.watcher_count(), 1);
    drop(watcher);
    assert_eq!(view.watcher_count(), 0, "a dropped watcher unregisters");
}

#[tokio::test(start_paused = true)]
async fn from_a_revision_ahead_of_the_view_skips_to_it() {
    let log = FakeLog::new();
    let r1 = log.put("/things/a/o", json!({"n": 1}));
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;

    let mut watcher = view.watch(WatchRequest::new(Some(r1 + 2))).unwrap();
    let revisions: Vec<i64> = (2..6).map(|n| log.put("/things/a/o", json!({"n": n}))).collect();
    let expected = [
        change(Modified, "/things/a/o", revisions[2]),
        change(Modified, "/things/a/o", revisions[3]),
    ];
    assert_eq!(take(&mut watcher, 2).await, expected);
}

#[tokio::test(start_paused = true)]
async fn from_a_revision_older_than_the_window_replays_the_log_then_joins() {
    let log = FakeLog::new();
    let config = ViewConfig { window_events: 4, ..Default::default() };
    let (view, _shutdown) = started(&log, config).await;
    let mut revisions: Vec<i64> =
        (0..20).map(|i| log.put(&format!("/things/a/o{i}"), json!({"n": i}))).collect();
    view.wait_until(revisions[19], soon()).await.unwrap();

    let mut watcher = view.watch(WatchRequest::new(Some(revisions[1]))).unwrap();
    let window_start = revisions[15];
    assert_eq!(
        watcher.start_point(),
        WatchStart::ReplayFromLog { after: revisions[1], window_start }
    );
    assert_eq!(view.watcher_count(), 0, "a replaying watcher is not registered");
    // More writes while it replays: they reach it exactly once, from the log or from the view.
    revisions.extend((20..30).map(|i| log.put(&format!("/things/a/o{i}"), json!({"n": i}))));
    let expected: Vec<_> =
        (2..30).map(|i| change(Added, &format!("/things/a/o{i}"), revisions[i])).collect();
    assert_eq!(take(&mut watcher, 28).await, expected);
    assert_eq!(view.watcher_count(), 1, "it joined the live fan-out");
    let last = log.put("/things/a/o0", json!({"n": 0}));
    assert_eq!(take(&mut watcher, 1).await, [change(Modified, "/things/a/o0", last)]);
}

#[tokio::test(start_paused = true)]
async fn selector_transitions_are_added_and_deleted() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let web = |v: &serde_json::Value| v["labels"]["app"] == "web";
    let mut watcher = view.watch(WatchRequest::new(Some(0)).filter(web)).unwrap();

    let r1 = log.put("/things/a/x", json!({"labels": {"app": "web"}, "v": 1}));
    let r2 = log.put("/things/a/x", json!({"labels": {"app": "db"}, "v": 2}));
    log.put("/things/a/x", json!({"labels": {"app": "db"}, "v": 3}));
    let r4 = log.put("/things/a/x", json!({"labels": {"app": "web"}, "v": 4}));
    let r5 = log.put("/things/a/x", json!({"labels": {"app": "web"}, "v": 5}));
    log.put("/things/a/y", json!({"labels": {"app": "db"}}));
    let r7 = log.delete("/things/a/x").unwrap();

    let mut items = Vec::new();
    for _ in 0..5 {
        items.push(next(&mut watcher).await.expect("an item"));
    }
    let described: Vec<_> = items.iter().map(describe).collect();
    let expected = [
        change(Added, "/things/a/x", r1),
        change(Deleted, "/things/a/x", r2),
        change(Added, "/things/a/x", r4),
        change(Modified, "/things/a/x", r5),
        change(Deleted, "/things/a/x", r7),
    ];
    assert_eq!(described, expected);
    // Leaving the selection sends the object as it was when it last matched.
    let (_, left) = items[1].change().unwrap();
    assert_eq!(left.object().json["v"], 1);
}

#[tokio::test(start_paused = true)]
async fn dispatch_only_reaches_watchers_of_the_event_namespace() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    // A buffer of one: a single event of another namespace in its channel would close it.
    let mut in_a = view.watch(WatchRequest::new(Some(at)).namespace("a").buffer(1)).unwrap();
    let mut everything = view.watch(WatchRequest::new(Some(at)).buffer(100)).unwrap();

    let in_b: Vec<i64> = (0..50).map(|i| log.put(&format!("/things/b/o{i}"), json!({}))).collect();
    let r_a = log.put("/things/a/mine", json!({}));
    view.wait_until(r_a, soon()).await.unwrap();

    assert_eq!(view.metrics().terminated_watchers.load(Ordering::Relaxed), 0);
    assert_eq!(take(&mut in_a, 1).await, [change(Added, "/things/a/mine", r_a)]);
    let all = take(&mut everything, 51).await;
    assert_eq!(all[49], change(Added, "/things/b/o49", in_b[49]));
    assert_eq!(all[50], change(Added, "/things/a/mine", r_a));
}

#[tokio::test(start_paused = true)]
async fn a_slow_watcher_is_closed_and_counted_while_a_fast_one_gets_everything() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let mut slow = view.watch(WatchRequest::new(Some(at)).buffer(2)).unwrap();
    let fast = view.watch(WatchRequest::new(Some(at)).buffer(4)).unwrap();
    let fast =
        tokio::spawn(
            async move { fast.take(20).map(|item| describe(&item)).collect::<Vec<_>>().await },
        );

    let mut revisions = Vec::new();
    for i in 0..20 {
        revisions.push(log.put(&format!("/things/a/o{i}"), json!({})));
        // Give the view and the fast watcher a turn, as a real server's scheduler would.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }
    let expected: Vec<_> =
        (0..20).map(|i| change(Added, &format!("/things/a/o{i}"), revisions[i])).collect();
    assert_eq!(fast.await.unwrap(), expected, "the fast watcher was not held back");
    assert_eq!(view.metrics().terminated_watchers.load(Ordering::Relaxed), 1);

    // The slow one gets what fit in its buffer, then where to resume.
    let got = take(&mut slow, 3).await;
    assert_eq!(got[..2], expected[..2]);
    let error = WatchError::FellBehind { resume_after: revisions[1] };
    assert_eq!(got[2], ("ERROR", error.to_string(), 0));
    assert!(next(&mut slow).await.is_none());
    let mut resumed = view.watch(WatchRequest::new(Some(revisions[1]))).unwrap();
    assert_eq!(take(&mut resumed, 18).await, expected[2..]);
}

#[tokio::test(start_paused = true)]
async fn bookmarks_report_progress_without_events() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let mut watcher =
        view.watch(WatchRequest::new(Some(at)).namespace("a").bookmarks(true)).unwrap();

    // Other namespaces move the view's revision; this watcher gets none of their events.
    let r_b = log.put("/things/b/o", json!({}));
    let start = tokio::time::Instant::now();
    assert_eq!(take(&mut watcher, 1).await, [("BOOKMARK", String::new(), r_b)]);
    assert_eq!(start.elapsed(), Duration::from_secs(60), "one bookmark interval");

    // Nothing new: no bookmark at the next tick.
    let quiet = tokio::time::timeout(Duration::from_secs(90), watcher.next()).await;
    assert!(quiet.is_err(), "no repeated bookmark: {quiet:?}");

    // Progress from outside the prefix moves the revision too.
    let r_other = log.put("/elsewhere/a/o", json!({}));
    assert_eq!(take(&mut watcher, 1).await, [("BOOKMARK", String::new(), r_other)]);

    // Events are delivered as they come, with no bookmark in between.
    let r_a = log.put("/things/a/o", json!({}));
    assert_eq!(take(&mut watcher, 1).await, [change(Added, "/things/a/o", r_a)]);
}

#[tokio::test(start_paused = true)]
async fn an_event_is_encoded_once_for_all_watchers() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let mut first = view.watch(WatchRequest::new(Some(at))).unwrap();
    let mut second = view.watch(WatchRequest::new(Some(at))).unwrap();
    log.put("/things/a/o", json!({"n": 1}));

    let encodes = Arc::new(AtomicUsize::new(0));
    let key = |encoding| EncodingKey { version: "v1".into(), encoding, event_type: Added };
    let mut lines = Vec::new();
    for watcher in [&mut first, &mut second] {
        let Some(WatcherEvent::Added(change)) = next(watcher).await else { panic!("ADDED") };
        let encodes = encodes.clone();
        lines.push(change.encoded(key("json"), move || {
            encodes.fetch_add(1, Ordering::Relaxed);
            Bytes::from_static(b"{\"type\":\"ADDED\"}\n")
        }));
        // Another encoding is another entry.
        let table = change.encoded(key("table"), || Bytes::from_static(b"table\n"));
        assert_eq!(table, Bytes::from_static(b"table\n"));
    }
    assert_eq!(encodes.load(Ordering::Relaxed), 1, "one encode for two watchers");
    assert_eq!(lines[0], lines[1]);
    assert_eq!(lines[0].as_ptr(), lines[1].as_ptr(), "the same bytes, shared");
    let metrics = view.metrics();
    assert_eq!(metrics.encode_misses.load(Ordering::Relaxed), 2);
    assert_eq!(metrics.encode_hits.load(Ordering::Relaxed), 2);
}
