//! Index hints: an indexed watcher sends exactly what the same watcher without a hint sends, while
//! the dispatcher hands it only the events of its value.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use super::fake::{FakeLog, decode};
use super::{change, describe, soon, started, take};
use crate::{
    EntryKind, IndexValue, IndexedField, View, ViewConfig, WatchEventType, WatchRequest, Watcher,
};

use WatchEventType::{Added, Deleted, Modified};

/// An object of namespace-less shape with these labels (and a payload to tell versions apart).
fn labelled(labels: Value, v: i64) -> Value {
    json!({"metadata": {"labels": labels}, "v": v})
}

fn label_is(key: &'static str, value: &'static str) -> impl Fn(&Value) -> bool + Send + Sync {
    move |object| object["metadata"]["labels"][key].as_str() == Some(value)
}

/// A watcher of `app=<value>` from `after`, with or without the index hint.
fn app_watcher(view: &View, after: i64, value: &'static str, indexed: bool) -> Watcher {
    let mut request = WatchRequest::new(Some(after)).filter(label_is("app", value));
    if indexed {
        request = request.index(IndexValue::label("app", value));
    }
    view.watch(request).unwrap()
}

/// Asserts that nothing more arrives (paused time: the wait costs nothing).
async fn assert_quiet(watcher: &mut Watcher) {
    use futures::StreamExt;
    let more = tokio::time::timeout(Duration::from_secs(600), watcher.next()).await;
    assert!(more.is_err(), "unexpected item: {:?}", more.map(|i| i.as_ref().map(describe)));
}

#[tokio::test(start_paused = true)]
async fn label_indexed_watchers_send_what_unindexed_ones_send() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let mut a = app_watcher(&view, at, "a", true);
    let mut a_plain = app_watcher(&view, at, "a", false);
    let mut b = app_watcher(&view, at, "b", true);
    let mut b_plain = app_watcher(&view, at, "b", false);
    let mut everything = view.watch(WatchRequest::new(Some(at))).unwrap();

    let x1 = log.put("/things/n/x", labelled(json!({"app": "a"}), 1));
    let x2 = log.put("/things/n/x", labelled(json!({"app": "a", "tier": "web"}), 2));
    // Relabelled from `app=a` to `app=b`: DELETED for the first, ADDED for the second.
    let x3 = log.put("/things/n/x", labelled(json!({"app": "b"}), 3));
    let y1 = log.put("/things/n/y", labelled(json!({"app": "b"}), 1));
    let y2 = log.put("/things/n/y", labelled(json!({}), 2));
    let z1 = log.put("/things/n/z", labelled(json!({"app": "c"}), 1));
    let z2 = log.put("/things/n/z", json!({"v": "no metadata"}));
    let w1 = log.put("/things/n/w", labelled(json!({"app": 7}), 1));
    let x4 = log.delete("/things/n/x").unwrap();
    let y3 = log.delete("/things/n/y").unwrap();
    view.wait_until(y3, soon()).await.unwrap();

    let expected_a = [
        change(Added, "/things/n/x", x1),
        change(Modified, "/things/n/x", x2),
        change(Deleted, "/things/n/x", x3),
    ];
    let expected_b = [
        change(Added, "/things/n/x", x3),
        change(Added, "/things/n/y", y1),
        change(Deleted, "/things/n/y", y2),
        change(Deleted, "/things/n/x", x4),
    ];
    assert_eq!(take(&mut a, 3).await, expected_a);
    assert_eq!(take(&mut a_plain, 3).await, expected_a);
    assert_eq!(take(&mut b, 4).await, expected_b);
    assert_eq!(take(&mut b_plain, 4).await, expected_b);
    // A watcher without a hint is unaffected: every event.
    let all = take(&mut everything, 10).await;
    let revisions: Vec<i64> = all.iter().map(|(_, _, r)| *r).collect();
    assert_eq!(revisions, [x1, x2, x3, y1, y2, z1, z2, w1, x4, y3]);
    for watcher in [&mut a, &mut a_plain, &mut b, &mut b_plain] {
        assert_quiet(watcher).await;
    }
    // `a` was handed x1, x2 and x3 (3 of 10 events); `b` x3, y1, y2 and x4 (4 of 10).
    assert_eq!(view.metrics().index_skipped.load(Ordering::Relaxed), 7 + 6);
}

#[tokio::test(start_paused = true)]
async fn an_indexed_watcher_is_not_handed_other_values_events() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    // A buffer of one: a single event of another value in its channel would close it.
    let request = WatchRequest::new(Some(at))
        .filter(label_is("app", "mine"))
        .index(IndexValue::label("app", "mine"))
        .buffer(1);
    let mut mine = view.watch(request).unwrap();

    for i in 0..50 {
        log.put(&format!("/things/n/o{i}"), labelled(json!({"app": format!("other{i}")}), i));
    }
    let r = log.put("/things/n/mine", labelled(json!({"app": "mine"}), 0));
    view.wait_until(r, soon()).await.unwrap();

    assert_eq!(view.metrics().terminated_watchers.load(Ordering::Relaxed), 0);
    assert_eq!(view.metrics().index_skipped.load(Ordering::Relaxed), 50);
    assert_eq!(take(&mut mine, 1).await, [change(Added, "/things/n/mine", r)]);
    drop(mine);
    assert_eq!(view.watcher_count(), 0, "an indexed watcher unregisters too");
}

#[tokio::test(start_paused = true)]
async fn field_indexed_watchers_send_what_unindexed_ones_send() {
    let log = FakeLog::new();
    let config = ViewConfig {
        indexed_fields: vec![
            IndexedField::new("spec.nodeName", "/spec/nodeName"),
            IndexedField::new("spec.host", "/spec/nodeName"),
        ],
        ..Default::default()
    };
    let (view, _shutdown) = started(&log, config).await;
    let at = view.revision().unwrap();
    let on = |node: &'static str| {
        move |pod: &Value| {
            pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("") == node
        }
    };
    let watch = |field: &str, node: &'static str, indexed: bool| {
        let mut request = WatchRequest::new(Some(at)).filter(on(node));
        if indexed {
            request = request.index(IndexValue::field(field, node));
        }
        view.watch(request).unwrap()
    };
    let mut n1 = watch("spec.nodeName", "n1", true);
    let mut n1_alias = watch("spec.host", "n1", true);
    let mut n1_plain = watch("spec.nodeName", "n1", false);
    // `spec.nodeName=` selects unscheduled pods: a missing field is the empty value.
    let mut pending = watch("spec.nodeName", "", true);
    let mut pending_plain = watch("spec.nodeName", "", false);
    // A hint naming a field the view does not index is ignored, not trusted.
    let unknown = WatchRequest::new(Some(at))
        .filter(on("n1"))
        .index(IndexValue::field("status.phase", "Running"));
    let mut n1_unknown = view.watch(unknown).unwrap();

    let p1 = log.put("/things/n/p", json!({"spec": {}}));
    let p2 = log.put("/things/n/p", json!({"spec": {"nodeName": "n1"}}));
    log.put("/things/n/q", json!({"spec": {"nodeName": "n2"}}));
    let p3 = log.put("/things/n/p", json!({"spec": {"nodeName": "n1"}, "status": {}}));
    let q2 = log.put("/things/n/q", json!({"spec": {"nodeName": "n1"}}));
    let p4 = log.delete("/things/n/p").unwrap();
    let r1 = log.put("/things/n/r", json!({"spec": {"nodeName": 5}}));
    let r2 = log.delete("/things/n/r").unwrap();
    view.wait_until(r2, soon()).await.unwrap();

    let expected_n1 = [
        change(Added, "/things/n/p", p2),
        change(Modified, "/things/n/p", p3),
        change(Added, "/things/n/q", q2),
        change(Deleted, "/things/n/p", p4),
    ];
    let expected_pending = [
        change(Added, "/things/n/p", p1),
        change(Deleted, "/things/n/p", p2),
        // Not a string: what a typed object would call the zero value.
        change(Added, "/things/n/r", r1),
        change(Deleted, "/things/n/r", r2),
    ];
    for watcher in [&mut n1, &mut n1_alias, &mut n1_plain, &mut n1_unknown] {
        assert_eq!(take(watcher, 4).await, expected_n1);
        assert_quiet(watcher).await;
    }
    for watcher in [&mut pending, &mut pending_plain] {
        assert_eq!(take(watcher, 4).await, expected_pending);
        assert_quiet(watcher).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_namespaced_indexed_watcher_sees_only_its_namespace_and_value() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let watch = |namespace: &str, indexed: bool| {
        let mut request =
            WatchRequest::new(Some(at)).namespace(namespace).filter(label_is("app", "a"));
        if indexed {
            request = request.index(IndexValue::label("app", "a"));
        }
        view.watch(request).unwrap()
    };
    let (mut in_a, mut in_a_plain) = (watch("a", true), watch("a", false));
    let mut everywhere = app_watcher(&view, at, "a", true);

    let b1 = log.put("/things/b/o", labelled(json!({"app": "a"}), 1));
    let a1 = log.put("/things/a/o", labelled(json!({"app": "a"}), 1));
    log.put("/things/a/other", labelled(json!({"app": "b"}), 1));
    let a2 = log.put("/things/a/o", labelled(json!({"app": "b"}), 2));
    let b2 = log.delete("/things/b/o").unwrap();
    view.wait_until(b2, soon()).await.unwrap();

    let expected = [change(Added, "/things/a/o", a1), change(Deleted, "/things/a/o", a2)];
    for watcher in [&mut in_a, &mut in_a_plain] {
        assert_eq!(take(watcher, 2).await, expected);
        assert_quiet(watcher).await;
    }
    let expected = [
        change(Added, "/things/b/o", b1),
        change(Added, "/things/a/o", a1),
        change(Deleted, "/things/a/o", a2),
        change(Deleted, "/things/b/o", b2),
    ];
    assert_eq!(take(&mut everywhere, 4).await, expected);
    assert_quiet(&mut everywhere).await;
}

#[tokio::test(start_paused = true)]
async fn indexed_watchers_get_bookmarks_without_events() {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let request = WatchRequest::new(Some(at))
        .filter(label_is("app", "a"))
        .index(IndexValue::label("app", "a"))
        .bookmarks(true);
    let mut watcher = view.watch(request).unwrap();

    // Events it is never handed still move the view, and a bookmark reports it.
    let other = log.put("/things/n/o", labelled(json!({"app": "b"}), 1));
    assert_eq!(take(&mut watcher, 1).await, [("BOOKMARK", String::new(), other)]);
    let mine = log.put("/things/n/m", labelled(json!({"app": "a"}), 1));
    assert_eq!(take(&mut watcher, 1).await, [change(Added, "/things/n/m", mine)]);
}

/// A small deterministic generator (xorshift64*), so the test needs no dependency and a failing
/// seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

const KEYS: [&str; 2] = ["app", "tier"];
const VALUES: [&str; 4] = ["v0", "v1", "v2", "v3"];
const NAMESPACES: [&str; 2] = ["ns0", "ns1"];

/// One randomized watcher: a single-value selector (the hint), maybe another requirement the
/// hint does not cover, maybe a namespace.
#[derive(Debug, Clone)]
struct Selector {
    namespace: Option<&'static str>,
    key: &'static str,
    value: &'static str,
    /// `other != value` as well (a requirement the index knows nothing of).
    also_not: Option<(&'static str, &'static str)>,
}

impl Selector {
    fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        labels[self.key].as_str() == Some(self.value)
            && self.also_not.is_none_or(|(k, v)| labels[k].as_str() != Some(v))
    }
}

#[tokio::test(start_paused = true)]
async fn randomized_indexed_watchers_match_a_reference_of_every_selector_on_every_event() {
    for seed in [1_u64, 7, 42] {
        randomized(seed).await;
    }
}

async fn randomized(seed: u64) {
    let log = FakeLog::new();
    let (view, _shutdown) = started(&log, ViewConfig::default()).await;
    let at = view.revision().unwrap();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut watchers = Vec::new();
    for _ in 0..60 {
        let pick = |rng: &mut Rng, of: &[&'static str]| of[rng.below(of.len() as u64) as usize];
        let namespace = (rng.below(3) == 0).then(|| pick(&mut rng, &NAMESPACES));
        let key = pick(&mut rng, &KEYS);
        let value = pick(&mut rng, &VALUES);
        let also_not =
            (rng.below(4) == 0).then(|| (pick(&mut rng, &KEYS), pick(&mut rng, &VALUES)));
        let selector = Selector { namespace, key, value, also_not };
        let filter = selector.clone();
        let mut request = WatchRequest::new(Some(at))
            .buffer(100_000)
            .filter(move |object| filter.matches(object))
            .index(IndexValue::label(key, value));
        request.namespace = namespace.map(String::from);
        watchers.push((selector, view.watch(request).unwrap()));
    }
    // Random creates, relabels (a label set, changed, removed, or made a non-string) and deletes.
    let mut exists = [false; 24];
    for _ in 0..1_500 {
        let o = rng.below(exists.len() as u64) as usize;
        let key = format!("/things/{}/o{o}", NAMESPACES[o % 2]);
        if exists[o] && rng.below(5) == 0 {
            log.delete(&key).unwrap();
            exists[o] = false;
            continue;
        }
        let mut labels = serde_json::Map::new();
        for label in KEYS {
            match rng.below(6) {
                0 => {}
                1 => drop(labels.insert(label.into(), json!(3))),
                n => drop(labels.insert(label.into(), json!(VALUES[n as usize - 2]))),
            }
        }
        let object =
            if rng.below(20) == 0 { json!("not an object") } else { labelled(labels.into(), 0) };
        log.put(&key, object);
        exists[o] = true;
    }
    view.wait_until(log.revision(), soon()).await.unwrap();

    let entries = log.entries();
    for (selector, mut watcher) in watchers {
        let in_scope = |key: &str| {
            selector.namespace.is_none_or(|ns| key.starts_with(&format!("/things/{ns}/")))
        };
        let expected: Vec<_> = entries
            .iter()
            .filter(|e| e.revision > at && in_scope(&e.key))
            .filter_map(|e| {
                let now = e.value.as_deref().map(decode).filter(|v| selector.matches(v));
                let before = match e.kind {
                    EntryKind::Created => None,
                    _ => e.prev_value.as_deref().map(decode).filter(|v| selector.matches(v)),
                };
                let event_type = match (before, now) {
                    (None, Some(_)) => Added,
                    (Some(_), Some(_)) => Modified,
                    (Some(_), None) => Deleted,
                    (None, None) => return None,
                };
                Some(change(event_type, &e.key, e.revision))
            })
            .collect();
        assert_eq!(take(&mut watcher, expected.len()).await, expected, "seed {seed}: {selector:?}");
        assert_quiet(&mut watcher).await;
    }
    assert!(view.metrics().index_skipped.load(Ordering::Relaxed) > 0);
}
