//! Replay through the API against a raw read of the same range from the store, in the same run,
//! on each backend: `GET /apis/ledger.kube-ledger.io/v1/replay` (JSON lines, and audit events)
//! of one namespace's ConfigMaps against `Storage::replay` of the same prefix and range, every
//! event pulled. Issue 15 asks for ≥ 100,000 events/s and the API at ≥ 0.5× the raw read.
//!
//! Run: `cargo bench --bench replay` (add `-- --seconds 3` for longer cases). The router
//! in-process, over a fresh embedded store and over the etcd backend on an etcd the bench starts
//! on loopback (Debian's `etcd`); 5,000 ConfigMaps created and 5,000 patches, so 10,000 events;
//! one task; the cases alternate, three rounds, the best of each kept.

mod support;

#[path = "../tests/support/etcd.rs"]
mod etcd;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use futures::StreamExt;
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::json;
use tower::ServiceExt;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const OBJECTS: usize = 5_000;
const PREFIX: &str = "/configmaps/default/";

async fn send(router: &Router, request: Request<Body>) -> bytes::Bytes {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert!(status.is_success(), "{status} {}", String::from_utf8_lossy(&bytes));
    bytes
}

/// Creates and patches the objects; returns the range of their events.
async fn populate(router: &Router, storage: &dyn Storage) -> (i64, i64) {
    let from = storage.current_revision().await.unwrap() + 1;
    let write = |n: usize, patch: bool| {
        let router = router.clone();
        async move {
            let name = format!("cm-{n:05}");
            let request = match patch {
                false => {
                    Request::post(CMS).header("content-type", "application/json").body(Body::from(
                        json!({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": name, "labels": {"app": "web"}},
                            "data": {"a": "one", "b": format!("value of {n}")}})
                        .to_string(),
                    ))
                }
                true => Request::patch(format!("{CMS}/{name}"))
                    .header("content-type", "application/merge-patch+json")
                    .body(Body::from(json!({"data": {"a": "two"}}).to_string())),
            };
            send(&router, request.unwrap()).await;
        }
    };
    for patch in [false, true] {
        for chunk in (0..OBJECTS).collect::<Vec<_>>().chunks(64) {
            futures::future::join_all(chunk.iter().map(|&n| write(n, patch))).await;
        }
    }
    (from, storage.current_revision().await.unwrap())
}

/// Events per second of the raw read: every event of the range pulled from the store.
async fn raw(storage: Arc<dyn Storage>, range: (i64, i64), seconds: f64) -> f64 {
    let events = (range.1 - range.0 + 1) as f64;
    let rate = support::rate(1, seconds, move |_, _| {
        let storage = storage.clone();
        async move {
            let mut stream = storage.replay(PREFIX, range.0, range.1).await.unwrap();
            let mut n = 0;
            while let Some(event) = stream.next().await {
                event.unwrap();
                n += 1;
            }
            assert!(n >= OBJECTS * 2, "{n} events");
        }
    })
    .await;
    rate * events
}

/// Events per second of the API's replay in `format`, every line read.
async fn api(router: &Router, range: (i64, i64), format: &'static str, seconds: f64) -> f64 {
    let events = (range.1 - range.0 + 1) as f64;
    let uri = format!(
        "/apis/ledger.kube-ledger.io/v1/replay?resource=configmaps&namespace=default&from={}&to={}&format={format}",
        range.0, range.1
    );
    let router = router.clone();
    let rate = support::rate(1, seconds, move |_, _| {
        let (router, uri) = (router.clone(), uri.clone());
        async move {
            let body = send(&router, Request::get(&uri).body(Body::empty()).unwrap()).await;
            let lines = body.iter().filter(|b| **b == b'\n').count();
            assert!(lines >= OBJECTS * 2, "{lines} lines");
        }
    })
    .await;
    rate * events
}

async fn bench(name: &str, storage: Arc<dyn Storage>, seconds: f64) {
    let (router, _stop) = support::admin_router(storage.clone()).await;
    let range = populate(&router, storage.as_ref()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Warm every path.
    raw(storage.clone(), range, seconds / 4.0).await;
    api(&router, range, "json", seconds / 4.0).await;
    let (mut base, mut json, mut audit) = (0f64, 0f64, 0f64);
    for _ in 0..3 {
        base = base.max(raw(storage.clone(), range, seconds).await);
        json = json.max(api(&router, range, "json", seconds).await);
        audit = audit.max(api(&router, range, "audit", seconds).await);
    }
    println!(
        "{name:>9} | {base:>12.0} | {json:>12.0} | {:>6.2}x | {audit:>12.0} | {:>6.2}x",
        json / base,
        audit / base
    );
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(2.0);
    println!("replay of {} events, one task, {seconds} s per case, best of 3 rounds", OBJECTS * 2);
    println!(
        "{:>9} | {:>12} | {:>12} | {:>7} | {:>12} | {:>7}",
        "backend", "raw ev/s", "json ev/s", "ratio", "audit ev/s", "ratio"
    );
    let dir = tempfile::tempdir().unwrap();
    let embedded: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    bench("embedded", embedded, seconds).await;

    let etcd = etcd::TestEtcd::start().await;
    let backend = support::etcd_backend(etcd.endpoint(), Duration::from_secs(10)).await;
    bench("etcd", backend, seconds).await;
}
