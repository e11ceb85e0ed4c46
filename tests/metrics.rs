//! `/metrics` of the real binary: the counters and gauges move with the requests that should move
//! them, with kube-apiserver's labels, on both storage backends.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::server::TestServer;

/// One scrape: every sample by its full series (`name{labels}`) in the exposition's label order.
struct Scrape {
    samples: HashMap<String, f64>,
    text: String,
}

impl Scrape {
    async fn of(server: &TestServer) -> Scrape {
        let response = server.http.get(format!("{}/metrics", server.url)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
        let text = response.text().await.unwrap();
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                Some((series.to_owned(), value.parse().ok()?))
            })
            .collect();
        Scrape { samples, text }
    }

    /// The sum of the samples of `name` whose labels include every `label="value"` given.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(series, _)| {
                let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
                let pairs = label_pairs(rest);
                series_name == name
                    && labels.iter().all(|(k, v)| pairs.iter().any(|(pk, pv)| pk == k && pv == v))
            })
            .map(|(_, value)| value)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.samples.keys().any(|s| s == name || s.starts_with(&format!("{name}{{")))
    }
}

/// `a="1",b="2"}` → `[("a", "1"), ("b", "2")]` (our label values hold no quotes or commas).
fn label_pairs(labels: &str) -> Vec<(&str, &str)> {
    labels
        .trim_end_matches('}')
        .split("\",")
        .filter_map(|pair| {
            let (key, value) = pair.split_once("=\"")?;
            Some((key, value.trim_end_matches('"')))
        })
        .collect()
}

/// Scrapes until `done` holds (the gauges of a closed watch settle after its task ends).
async fn scrape_until(server: &TestServer, done: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..200 {
        let scrape = Scrape::of(server).await;
        if done(&scrape) {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the metrics never reached the expected state:\n{}", Scrape::of(server).await.text)
}

/// The `type` of the first watch event in a chunk of JSON lines.
fn event_type(chunk: &[u8]) -> String {
    let line = chunk.split(|b| *b == b'\n').next().unwrap();
    let event: Value = serde_json::from_slice(line).unwrap();
    event["type"].as_str().unwrap().to_owned()
}

fn configmap(name: &str, data: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"d": data}})
}

async fn requests_watches_and_storage_are_counted(server: TestServer) {
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let http = &server.http;
    let created = http.post(&cms).json(&configmap("m1", "x")).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let conflict = http.post(&cms).json(&configmap("m1", "x")).send().await.unwrap();
    assert_eq!(conflict.status(), 409);
    assert_eq!(http.get(format!("{cms}/m1")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(format!("{cms}/nope")).send().await.unwrap().status(), 404);
    assert_eq!(http.get(&cms).send().await.unwrap().status(), 200);
    let dry = http.post(format!("{cms}?dryRun=All")).json(&configmap("m2", "y")).send();
    assert_eq!(dry.await.unwrap().status(), 201);
    let unknown = http.get(format!("{}/apis/nope.example/v1/widgets", server.url)).send();
    assert_eq!(unknown.await.unwrap().status(), 404);

    let scrape = Scrape::of(&server).await;
    let total = |verb, code| {
        let labels = [("verb", verb), ("resource", "configmaps"), ("code", code)];
        scrape.sum("apiserver_request_total", &labels)
    };
    assert_eq!(total("POST", "201"), 2.0, "a create and a dry-run create");
    assert_eq!(total("POST", "409"), 1.0);
    assert_eq!(total("GET", "200"), 1.0);
    assert_eq!(total("GET", "404"), 1.0);
    assert_eq!(total("LIST", "200"), 1.0);
    let dry_run = [("verb", "POST"), ("dry_run", "All"), ("scope", "namespace"), ("code", "201")];
    assert_eq!(scrape.sum("apiserver_request_total", &dry_run), 1.0);
    // The unknown path is counted without a resource, so random paths add no series.
    let anonymous = [("verb", "LIST"), ("resource", ""), ("group", ""), ("code", "404")];
    assert_eq!(scrape.sum("apiserver_request_total", &anonymous), 1.0);
    assert!(!scrape.text.contains("nope.example"));
    let durations = [("verb", "GET"), ("resource", "configmaps"), ("component", "apiserver")];
    assert_eq!(scrape.sum("apiserver_request_duration_seconds_count", &durations), 2.0);
    assert_eq!(scrape.sum("apiserver_response_sizes_count", &durations), 2.0);
    // The scrape itself is the one read-only request in flight.
    let inflight =
        |kind| scrape.sum("apiserver_current_inflight_requests", &[("request_kind", kind)]);
    assert_eq!((inflight("readOnly"), inflight("mutating")), (1.0, 0.0));
    let storage_errors = [("operation", "create"), ("error", "already_exists")];
    assert_eq!(scrape.sum("ledger_storage_errors_total", &storage_errors), 1.0);
    // Ours (one of them refused by storage), and at start the kube-root-ca.crt of each of the
    // four built-in namespaces and kube-system/extension-apiserver-authentication.
    let creates = [("operation", "create"), ("type", "configmaps")];
    assert_eq!(scrape.sum("etcd_request_duration_seconds_count", &creates), 2.0 + 4.0 + 1.0);
    assert!(scrape.sum("ledger_append_batch_size_count", &[]) >= 1.0);
    assert!(scrape.sum("ledger_append_duration_seconds_count", &[]) >= 2.0);
    // CPU time is counted in 10 ms ticks: a fresh, idle server may not have used one yet.
    assert!(scrape.has("process_cpu_seconds_total"));
    for name in ["process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"]
    {
        assert!(scrape.sum(name, &[]) > 0.0, "{name} missing or zero");
    }

    // A watch is long-running and registered while it is open, and its events are counted.
    // (Not the namespace's kube-root-ca.crt: one initial event, one live.)
    let watch_url =
        format!("{cms}?watch=true&resourceVersion=0&fieldSelector=metadata.name!=kube-root-ca.crt");
    let mut events = http.get(&watch_url).send().await.unwrap().bytes_stream();
    assert_eq!(event_type(&events.next().await.unwrap().unwrap()), "ADDED");
    let kind = [("group", ""), ("version", "v1"), ("kind", "ConfigMap")];
    let open =
        scrape_until(&server, |s| s.sum("apiserver_registered_watchers", &kind) == 1.0).await;
    let watch = [("verb", "WATCH"), ("resource", "configmaps"), ("scope", "namespace")];
    assert_eq!(open.sum("apiserver_longrunning_requests", &watch), 1.0);
    assert_eq!(open.sum("apiserver_request_total", &[("verb", "WATCH"), ("code", "200")]), 1.0);
    // A live event goes through the view's encode-once cache.
    let live = http.post(&cms).json(&configmap("m3", "z")).send().await.unwrap();
    assert_eq!(live.status(), 201);
    assert_eq!(event_type(&events.next().await.unwrap().unwrap()), "ADDED");
    drop(events);
    let closed = scrape_until(&server, |s| {
        s.sum("apiserver_registered_watchers", &kind) == 0.0
            && s.sum("apiserver_longrunning_requests", &watch) == 0.0
    })
    .await;
    assert_eq!(closed.sum("apiserver_watch_events_total", &kind), 2.0);
    // Both events were encoded once each; the live one through the view's shared event cache.
    assert_eq!(closed.sum("apiserver_watch_events_sizes_count", &kind), 2.0);
    let encoded = [("resource", "configmaps"), ("result", "encoded")];
    assert_eq!(closed.sum("ledger_watch_encodings_total", &encoded), 1.0);

    // The views report where they are: caught up with the log head.
    let head: f64 = http.get(&cms).send().await.unwrap().json::<Value>().await.unwrap()["metadata"]
        ["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let caught_up = scrape_until(&server, |s| {
        s.sum("ledger_view_revision", &[("resource", "configmaps")]) >= head
    })
    .await;
    assert!(caught_up.sum("ledger_log_head_revision", &[]) >= head);
    assert_eq!(caught_up.sum("ledger_view_lag_revisions", &[("resource", "configmaps")]), 0.0);
    let objects = caught_up.sum("apiserver_storage_objects", &[("resource", "configmaps")]);
    let what =
        "m1, m3, the built-in namespaces' kube-root-ca.crt, extension-apiserver-authentication";
    assert_eq!(objects, 2.0 + 4.0 + 1.0, "{what}");
    assert!(caught_up.has("ledger_view_relists_total"));
    assert!(caught_up.has("ledger_log_compacted_revision"));
}

#[tokio::test]
async fn requests_watches_and_storage_are_counted_on_the_embedded_store() {
    requests_watches_and_storage_are_counted(TestServer::embedded().await).await;
}

#[tokio::test]
async fn requests_watches_and_storage_are_counted_on_etcd() {
    requests_watches_and_storage_are_counted(TestServer::on_etcd().await).await;
}

/// A watch from before the view's window is a log replay; a watcher that stops reading is
/// terminated and counted, as kube-apiserver counts its unresponsive watchers.
#[tokio::test]
async fn replays_and_terminated_watchers_are_counted() {
    let server = TestServer::embedded_with(&["--watch-window-events", "5"]).await;
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let http = &server.http;
    let created: Value =
        http.post(&cms).json(&configmap("big", "")).send().await.unwrap().json().await.unwrap();
    let first_rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    // A watcher that never reads: its socket and its buffer fill while 10 KB updates stream.
    let stalled = http.get(format!("{cms}?watch=true&resourceVersion={first_rv}")).send();
    let stalled = stalled.await.unwrap();
    let payload = "x".repeat(10_000);
    let mut current = created;
    for i in 0..2_500 {
        current["data"]["d"] = json!(format!("{i}{payload}"));
        let put = http.put(format!("{cms}/big")).json(&current).send().await.unwrap();
        assert_eq!(put.status(), 200);
        current = put.json().await.unwrap();
        if i % 250 == 0 {
            let s = Scrape::of(&server).await;
            if s.sum("apiserver_terminated_watchers_total", &[("resource", "configmaps")]) >= 1.0 {
                break;
            }
        }
    }
    let terminated = [("group", ""), ("resource", "configmaps")];
    let scrape =
        scrape_until(&server, |s| s.sum("apiserver_terminated_watchers_total", &terminated) >= 1.0)
            .await;
    assert_eq!(scrape.sum("apiserver_terminated_watchers_total", &terminated), 1.0);
    drop(stalled);

    // The window holds 5 events: resuming from the first revision replays from the log.
    let resume = http.get(format!("{cms}?watch=true&resourceVersion={first_rv}")).send();
    let mut events = resume.await.unwrap().bytes_stream();
    assert_eq!(event_type(&events.next().await.unwrap().unwrap()), "MODIFIED");
    let replays = [("resource", "configmaps")];
    scrape_until(&server, |s| s.sum("ledger_watch_log_replays_total", &replays) == 1.0).await;
}
