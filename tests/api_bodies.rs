//! Request and response bodies as kube-apiserver reads and writes them, through the router
//! in-process: bounded JSON patches, what DELETE answers with per resource, the order of JSON
//! fields, and how undecodable bodies are refused.

mod support;

use axum::http::Method;
use serde_json::{Value, json};
use support::router::{CMS, api, assert_status, configmap};

/// Issue 11's amplifying JSON patch: an `add` of a 1 KiB value, then 20 copies of the growing
/// object into itself. kube-apiserver refuses it (its json-patch library's accumulated copy
/// limit, 3 MiB) with a 422 at the 12th copy, before any of it is stored.
#[tokio::test]
async fn an_amplifying_json_patch_is_refused_and_stores_nothing() {
    let api = api().await;
    let (_, created) = api.post(CMS, configmap("cb")).await;
    let before = api.storage.current_revision().await.unwrap();
    let mut ops = vec![json!({"op": "add", "path": "/x", "value": {"s": "A".repeat(1024)}})];
    ops.extend((0..20).map(|i| json!({"op": "copy", "from": "/x", "path": format!("/x/c{i}")})));
    let body = serde_json::to_vec(&ops).unwrap();
    assert!(body.len() < 2_000, "{}", body.len());
    let got =
        api.call(Method::PATCH, &format!("{CMS}/cb"), "application/json-patch+json", body).await;
    assert_status(&got, 422, "Invalid");
    let detail = "Unable to complete the copy, the accumulated size increase of copy is \
                  4250539, exceeding the limit 3145728";
    assert_eq!(
        got.1["message"],
        format!("the server rejected our request due to an error in our request: {detail}")
    );
    assert_eq!(got.1["details"]["causes"][0]["message"], detail, "{}", got.1);
    assert_eq!(api.storage.current_revision().await.unwrap(), before, "nothing was stored");
    assert_eq!(api.get(&format!("{CMS}/cb")).await.1, created);
}
