//! Reading the past through the standard API: a LIST of 5,000 ConfigMaps at a past revision
//! (`resourceVersion=R&resourceVersionMatch=Exact`, answered from the log) against the current
//! LIST of the same objects (answered from the watch view), in the same run, on each backend.
//! Issue 15 asks for the past LIST at ≥ 0.5× the current one's rate.
//!
//! Run: `cargo bench --bench point_in_time` (add `-- --seconds 3` for longer cases). The router
//! in-process, over a fresh embedded store and over the etcd backend on an etcd the bench starts
//! on loopback (Debian's `etcd`); 5,000 objects created, then 500 of them updated so that the
//! past LIST must pick older values; one task; the two cases alternate, three rounds, the best
//! of each kept.

mod support;

#[path = "../tests/support/etcd.rs"]
mod etcd;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Value, json};
use tower::ServiceExt;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const OBJECTS: usize = 5_000;
const UPDATED: usize = 500;

async fn call(router: &Router, method: Method, uri: &str, body: Option<Value>) -> Value {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/merge-patch+json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert!(status.is_success(), "{uri}: {status} {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

/// Creates the objects, returns the revision after the last create, then updates some.
async fn populate(router: &Router) -> String {
    let create = |n: usize| {
        let router = router.clone();
        async move {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{n:05}"), "labels": {"app": "web"}},
                "data": {"a": "one", "b": format!("value of {n}")}});
            let request = Request::post(CMS)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status().as_u16(), 201);
        }
    };
    for chunk in (0..OBJECTS).collect::<Vec<_>>().chunks(64) {
        futures::future::join_all(chunk.iter().map(|&n| create(n))).await;
    }
    let past = call(router, Method::GET, &format!("{CMS}?limit=1"), None).await;
    let revision = past["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    for n in 0..UPDATED {
        let uri = format!("{CMS}/cm-{:05}", n * (OBJECTS / UPDATED));
        call(router, Method::PATCH, &uri, Some(json!({"data": {"a": "two"}}))).await;
    }
    revision
}

/// LISTs per second of `uri`, each checked to hold every object.
async fn measure(router: &Router, uri: String, seconds: f64) -> f64 {
    let router = router.clone();
    support::rate(1, seconds, move |_, _| {
        let (router, uri) = (router.clone(), uri.clone());
        async move {
            let list = call(&router, Method::GET, &uri, None).await;
            assert_eq!(list["items"].as_array().map(Vec::len), Some(OBJECTS));
        }
    })
    .await
}

async fn bench(name: &str, storage: Arc<dyn Storage>, seconds: f64) {
    let (router, _stop) = support::admin_router(storage).await;
    let past = populate(&router).await;
    // The past really differs from the present: the updated objects had their old value at R.
    let at_past = format!("{CMS}?resourceVersion={past}&resourceVersionMatch=Exact");
    let old = call(&router, Method::GET, &at_past, None).await;
    assert_eq!(old["items"][0]["data"]["a"], "one", "the past LIST shows the past");
    // Warm both paths (the view loaded, the log's pages cached).
    tokio::time::sleep(Duration::from_millis(200)).await;
    measure(&router, CMS.to_owned(), seconds / 4.0).await;
    measure(&router, at_past.clone(), seconds / 4.0).await;
    let (mut current, mut past_rate) = (0f64, 0f64);
    for _ in 0..3 {
        current = current.max(measure(&router, CMS.to_owned(), seconds).await);
        past_rate = past_rate.max(measure(&router, at_past.clone(), seconds).await);
    }
    println!("{name:>9} | {current:>12.1} | {past_rate:>12.1} | {:>6.2}x", past_rate / current);
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(2.0);
    println!("LIST of {OBJECTS} ConfigMaps, one task, {seconds} s per case, best of 3 rounds");
    println!("{:>9} | {:>12} | {:>12} | {:>7}", "backend", "current/s", "at past R/s", "ratio");
    let dir = tempfile::tempdir().unwrap();
    let embedded: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    bench("embedded", embedded, seconds).await;

    let etcd = etcd::TestEtcd::start().await;
    let backend = support::etcd_backend(etcd.endpoint(), Duration::from_secs(10)).await;
    bench("etcd", backend, seconds).await;
}
