//! LIST of 5,000 ConfigMaps in protobuf against the same LIST in JSON, in the same run: the
//! router in-process (no sockets) over a fresh embedded store, the list served from the view,
//! the whole body read. Issue 13 asks protobuf for at least twice the JSON rate.
//!
//! Run: `cargo bench --bench protobuf_list` (add `-- --seconds 3` for longer cases). One task,
//! the two encodings alternating, three rounds, the best of each kept.

mod support;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::json;
use tower::ServiceExt;

const OBJECTS: usize = 5_000;
const CMS: &str = "/api/v1/namespaces/default/configmaps";

async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    accept: &str,
    body: String,
) -> (u16, usize) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", accept)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, bytes.len())
}

async fn measure(router: &Router, accept: &'static str, seconds: f64) -> f64 {
    let router = router.clone();
    support::rate(1, seconds, move |_, _| {
        let router = router.clone();
        async move {
            let (status, _) = call(&router, Method::GET, CMS, accept, String::new()).await;
            assert_eq!(status, 200);
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
    // ConfigMaps like a cluster's: a few labels and annotations, a few small data keys. Created
    // 100 at a time (below --max-mutating-requests-inflight).
    for batch in (0..OBJECTS).collect::<Vec<_>>().chunks(100) {
        let creates: Vec<_> = batch
            .iter()
            .map(|&i| {
                let router = router.clone();
                tokio::spawn(async move {
                    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("settings-{i:05}"),
                            "labels": {"app": "web", "tier": "frontend",
                                       "release": format!("r{}", i % 7)},
                            "annotations": {"owner": "team-a@example.com"}},
                        "data": {"LOG_LEVEL": "info", "FEATURE_X": "true",
                                 "ENDPOINT": format!("https://svc-{i}.example.com:8443/api")}});
                    let body = cm.to_string();
                    let (status, _) =
                        call(&router, Method::POST, CMS, "application/json", body).await;
                    assert_eq!(status, 201);
                })
            })
            .collect();
        for create in creates {
            create.await.unwrap();
        }
    }
    let (_, json_size) = call(&router, Method::GET, CMS, "application/json", String::new()).await;
    let (_, pb_size) =
        call(&router, Method::GET, CMS, "application/vnd.kubernetes.protobuf", String::new()).await;
    let (mut best_json, mut best_pb) = (0f64, 0f64);
    for _ in 0..3 {
        best_json = best_json.max(measure(&router, "application/json", seconds).await);
        best_pb =
            best_pb.max(measure(&router, "application/vnd.kubernetes.protobuf", seconds).await);
    }
    println!(
        "LIST of {OBJECTS} ConfigMaps from the view, one task, {seconds} s per case, best of 3"
    );
    println!(
        "JSON      {best_json:>8.1}/s  {:>7.2} ms each  {json_size:>9} bytes",
        1e3 / best_json
    );
    println!("protobuf  {best_pb:>8.1}/s  {:>7.2} ms each  {pb_size:>9} bytes", 1e3 / best_pb);
    println!("ratio     {:>8.2}×", best_pb / best_json);
}
