//! Server-side apply and `metadata.managedFields` through the API router in-process: the
//! PATCH options and bodies kube refuses (with kube's codes and texts, and nothing stored),
//! create by apply, no-op and dry-run applies that write nothing, and the apply to /status and
//! /scale.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::router::{Api, CMS, api, assert_status};

const APPLY: &str = "application/apply-patch+yaml";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// Sends an apply of `body` (any text: YAML or JSON) to `uri` (query included).
async fn apply_raw(api: &Api, uri: &str, body: &str) -> (StatusCode, Value) {
    api.call(Method::PATCH, uri, APPLY, body.as_bytes().to_vec()).await
}

async fn apply(api: &Api, uri: &str, body: &Value) -> (StatusCode, Value) {
    apply_raw(api, uri, &body.to_string()).await
}

fn cm_config(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

async fn revision(api: &Api) -> i64 {
    api.storage.current_revision().await.unwrap()
}

#[tokio::test]
async fn create_by_apply_then_update_then_no_op() {
    let api = api().await;
    let uri = format!("{CMS}/a?fieldManager=alice");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"1\"\n";
    let (code, created) = apply_raw(&api, &uri, yaml).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"], json!({"x": "1"}));
    assert_eq!(created["metadata"]["name"], "a");
    assert!(created["metadata"]["uid"].is_string(), "{created}");

    let (code, updated) = apply(&api, &uri, &cm_config("a", json!({"x": "2"}))).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"]["x"], "2");
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    // The same configuration again writes nothing: same resourceVersion, no new revision.
    let before = revision(&api).await;
    let (code, same) = apply(&api, &uri, &cm_config("a", json!({"x": "2"}))).await;
    assert_eq!(code, StatusCode::OK, "{same}");
    assert_eq!(same["metadata"]["resourceVersion"], updated["metadata"]["resourceVersion"]);
    assert_eq!(revision(&api).await, before);
}

#[tokio::test]
async fn dry_run_applies_store_nothing() {
    let api = api().await;
    let before = revision(&api).await;
    let (code, created) =
        apply(&api, &format!("{CMS}/d?fieldManager=m&dryRun=All"), &cm_config("d", json!({})))
            .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(revision(&api).await, before);
    assert_status(&api.get(&format!("{CMS}/d")).await, 404, "NotFound");

    apply(&api, &format!("{CMS}/d?fieldManager=m"), &cm_config("d", json!({"k": "1"}))).await;
    let before = revision(&api).await;
    let uri = format!("{CMS}/d?fieldManager=m&dryRun=All");
    let (code, changed) = apply(&api, &uri, &cm_config("d", json!({"k": "2"}))).await;
    assert_eq!(code, StatusCode::OK, "{changed}");
    assert_eq!(changed["data"]["k"], "2");
    assert_eq!(revision(&api).await, before);
    assert_eq!(api.get(&format!("{CMS}/d")).await.1["data"]["k"], "1");
}

/// Each bad request is refused as kube refuses it, and the log does not move.
#[tokio::test]
async fn bad_input_is_refused_with_kube_codes_and_nothing_stored() {
    let api = api().await;
    apply(&api, &format!("{CMS}/live?fieldManager=m"), &cm_config("live", json!({"k": "v"}))).await;
    let before = revision(&api).await;

    // No fieldManager.
    let got = apply(&api, &format!("{CMS}/x"), &cm_config("x", json!({}))).await;
    assert_status(&got, 422, "Invalid");
    assert_eq!(
        got.1["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(got.1["details"]["causes"][0]["field"], "fieldManager");

    // `force` with a patch that is not an apply.
    let merge = json!({"data": {"k": "w"}}).to_string().into_bytes();
    let uri = format!("{CMS}/live?force=true");
    let got = api.call(Method::PATCH, &uri, "application/merge-patch+json", merge).await;
    assert_status(&got, 422, "Invalid");
    assert_eq!(
        got.1["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );

    // A fieldManager over 128 characters.
    let long = "m".repeat(129);
    let got =
        apply(&api, &format!("{CMS}/x?fieldManager={long}"), &cm_config("x", json!({}))).await;
    assert_status(&got, 422, "Invalid");
    assert_eq!(
        got.1["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes"
    );

    // CBOR, as kube 1.33 without its CBOR gate.
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap"}"#.to_vec();
    let uri = format!("{CMS}/x?fieldManager=m");
    let got = api.call(Method::PATCH, &uri, "application/apply-patch+cbor", body).await;
    assert_status(&got, 415, "UnsupportedMediaType");
    assert_eq!(
        got.1["message"],
        "the body of the request was in an unknown format - accepted media types include: \
         application/json-patch+json, application/merge-patch+json, \
         application/strategic-merge-patch+json, application/apply-patch+yaml"
    );

    // Not YAML; YAML that is not a map.
    let got = apply_raw(&api, &uri, "kind: [ConfigMap\n").await;
    assert_status(&got, 400, "BadRequest");
    assert!(got.1["message"].as_str().unwrap().starts_with("error decoding YAML: "), "{}", got.1);
    let got = apply_raw(&api, &uri, "- a\n- b\n").await;
    assert_status(&got, 400, "BadRequest");
    assert!(got.1["message"].as_str().unwrap().contains("cannot unmarshal array"), "{}", got.1);

    // kind or apiVersion missing, or not the path's.
    let got = apply(&api, &uri, &json!({"apiVersion": "v1", "metadata": {"name": "x"}})).await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "invalid object type: /v1, Kind=");
    let got = apply(&api, &uri, &json!({"kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_eq!(got.1["message"], "invalid object type: /, Kind=ConfigMap");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}});
    assert_eq!(
        apply(&api, &uri, &secret).await.1["message"],
        "invalid object type: /v1, Kind=Secret"
    );
    let apps = json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    assert_eq!(
        apply(&api, &uri, &apps).await.1["message"],
        "invalid object type: apps/v1, Kind=ConfigMap"
    );
    assert_status(&apply_raw(&api, &uri, "").await, 400, "BadRequest");

    // A name that is not the URL's.
    let got = apply(&api, &uri, &cm_config("other", json!({}))).await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(
        got.1["message"],
        "the name of the object (other) does not match the name on the URL (x)"
    );

    // A subresource ConfigMaps do not have; /status of an object that does not exist.
    let got =
        apply(&api, &format!("{CMS}/live/status?fieldManager=m"), &cm_config("live", json!({})))
            .await;
    assert_status(&got, 404, "NotFound");
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "none"},
        "status": {"replicas": 1}});
    let got = apply(&api, &format!("{DEPLOYS}/none/status?fieldManager=m"), &deployment).await;
    assert_status(&got, 404, "NotFound");

    assert_eq!(revision(&api).await, before);
    assert_eq!(api.get(&format!("{CMS}/live")).await.1["data"], json!({"k": "v"}));
    assert_status(&api.get(&format!("{CMS}/x")).await, 404, "NotFound");
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        }
    })
}

#[tokio::test]
async fn apply_to_status_and_scale() {
    let api = api().await;
    let (code, created) =
        apply(&api, &format!("{DEPLOYS}/web?fieldManager=deployer"), &deployment("web", 2)).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    // The main resource ignores status; /status keeps only it.
    let mut with_status = deployment("web", 2);
    with_status["status"] = json!({"replicas": 5});
    let (_, main) =
        apply(&api, &format!("{DEPLOYS}/web?fieldManager=deployer"), &with_status).await;
    assert!(main.get("status").is_none_or(|s| s.get("replicas").is_none()), "{main}");
    let status = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "status": {"replicas": 1, "readyReplicas": 1}});
    let (code, got) =
        apply(&api, &format!("{DEPLOYS}/web/status?fieldManager=controller"), &status).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(got["status"]["replicas"], 1);
    assert_eq!(got["spec"]["replicas"], 2);
    // /scale takes a Scale; its replicas go to the Deployment.
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"},
        "spec": {"replicas": 4}});
    let uri = format!("{DEPLOYS}/web/scale?fieldManager=autoscaler&force=true");
    let (code, got) = apply(&api, &uri, &scale).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(got["kind"], "Scale");
    assert_eq!(got["spec"]["replicas"], 4);
    assert_eq!(api.get(&format!("{DEPLOYS}/web")).await.1["spec"]["replicas"], 4);
    let wrong = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
    let got = apply(&api, &format!("{DEPLOYS}/web/scale?fieldManager=m"), &wrong).await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "invalid object type: apps/v1, Kind=Deployment");
}
