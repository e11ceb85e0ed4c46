//! The cost of `fieldValidation`'s strict decoding on the write path: creates of a 50-key
//! ConfigMap with `fieldValidation=Warn` (kube's default: every key of the raw body checked for
//! repeats and unknown fields) against `fieldValidation=Ignore` (no check), in the same run; and
//! the check alone (the body read with every key kept, then walked against the schema).
//!
//! Run: `cargo bench --bench field_validation` (add `-- --seconds 3` for longer cases). The
//! router in-process over a fresh embedded store, one task, the two modes alternating, three
//! rounds, the best of each kept. Issue 13 asks for Warn within 1.2× of Ignore.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use kube_ledger::schema::unknown::{Raw, object_issues};
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const KEYS: usize = 50;

/// A ConfigMap of [`KEYS`] data keys, each value a line of a settings file.
fn config_map(name: &str) -> String {
    let data: Map<String, Value> = (0..KEYS)
        .map(|k| (format!("SETTING_{k:02}"), json!(format!("value-{k}-of-{name}-0123456789"))))
        .collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "web", "tier": "frontend"}},
        "data": data})
    .to_string()
}

async fn create(router: &Router, mode: &str, name: &str) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{CMS}?fieldValidation={mode}"))
        .header("content-type", "application/json")
        .body(Body::from(config_map(name)))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert!(response.headers().get("warning").is_none(), "a clean body warns of nothing");
}

async fn measure(router: &Router, mode: &'static str, seconds: f64, next: Arc<AtomicU64>) -> f64 {
    let router = router.clone();
    support::rate(1, seconds, move |_, _| {
        let (router, next) = (router.clone(), next.clone());
        async move {
            let n = next.fetch_add(1, Ordering::Relaxed);
            create(&router, mode, &format!("cm-{n:07}")).await;
        }
    })
    .await
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(1.0);
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let (router, _stop) = support::admin_router(storage).await;
    let next = Arc::new(AtomicU64::new(0));
    // Warm up the store and the schema.
    measure(&router, "Ignore", seconds / 4.0, next.clone()).await;
    let (mut ignore, mut warn) = (0f64, 0f64);
    for _ in 0..3 {
        ignore = ignore.max(measure(&router, "Ignore", seconds, next.clone()).await);
        warn = warn.max(measure(&router, "Warn", seconds, next.clone()).await);
    }

    // The check alone, as the create handler makes it.
    let schemas = kube_ledger::schema::builtin();
    let root = schemas.by_gvk("", "v1", "ConfigMap").unwrap();
    let body = config_map("check");
    let rounds = 20_000;
    let started = Instant::now();
    for _ in 0..rounds {
        let raw = Raw::parse(body.as_bytes()).unwrap();
        assert!(object_issues(schemas, root, &raw).is_empty());
    }
    let check = started.elapsed().as_secs_f64() / f64::from(rounds);

    println!("create of a {KEYS}-key ConfigMap, one task, {seconds} s per case, best of 3");
    println!("fieldValidation=Ignore  {ignore:>8.1}/s  {:>7.3} ms each", 1e3 / ignore);
    println!("fieldValidation=Warn    {warn:>8.1}/s  {:>7.3} ms each", 1e3 / warn);
    println!("Warn/Ignore time ratio  {:>8.3}×", ignore / warn);
    println!("the check alone         {:>8.1} µs per body", check * 1e6);
}
