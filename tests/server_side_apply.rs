//! Server-side apply and `metadata.managedFields` through the API router in-process: the
//! PATCH options and bodies kube refuses (with kube's codes and texts, and nothing stored),
//! create by apply, no-op and dry-run applies that write nothing, and the apply to /status and
//! /scale.

mod support;

use axum::http::{Method, StatusCode};
use kube_ledger::authn::UserInfo;
use serde_json::{Value, json};
use support::router::{Api, CMS, api, api_with, assert_status};

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

/// Two appliers, a conflict in kube's exact Status, `force=true` taking the field over, and a
/// field one manager stops applying removed (kept while another manager still owns it).
#[tokio::test]
async fn two_managers_conflict_and_force() {
    let api = api().await;
    let alice = format!("{CMS}/shared?fieldManager=alice");
    let bob = format!("{CMS}/shared?fieldManager=bob");
    let (code, _) = apply(&api, &alice, &cm_config("shared", json!({"a": "1", "s": "x"}))).await;
    assert_eq!(code, StatusCode::CREATED);
    // Bob applies the same value of `s` (shared ownership) and a key of his own.
    let (code, got) = apply(&api, &bob, &cm_config("shared", json!({"b": "1", "s": "x"}))).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    let managers: Vec<&str> = got["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["alice", "bob"]);

    // Bob changes `a`, which alice owns: 409, nothing written.
    let before = revision(&api).await;
    let got = apply(&api, &bob, &cm_config("shared", json!({"a": "2", "b": "1", "s": "x"}))).await;
    assert_eq!(
        got.1,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Apply failed with 1 conflict: conflict with \"alice\": .data.a",
            "reason": "Conflict",
            "details": {"causes": [{"reason": "FieldManagerConflict",
                                    "message": "conflict with \"alice\"", "field": ".data.a"}]},
            "code": 409
        })
    );
    assert_eq!(revision(&api).await, before);

    // Forced, bob takes `a` over.
    let uri = format!("{bob}&force=true");
    let (code, got) =
        apply(&api, &uri, &cm_config("shared", json!({"a": "2", "b": "1", "s": "x"}))).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(got["data"], json!({"a": "2", "b": "1", "s": "x"}));
    let entries = got["metadata"]["managedFields"].as_array().unwrap();
    let alice_fields = &entries.iter().find(|e| e["manager"] == "alice").unwrap()["fieldsV1"];
    assert_eq!(alice_fields, &json!({"f:data": {"f:s": {}}}));

    // Alice stops applying `s`: bob still owns it, so it stays; bob stops applying `b`: gone.
    apply(&api, &alice, &cm_config("shared", json!({}))).await;
    let (_, got) = apply(&api, &bob, &cm_config("shared", json!({"a": "2", "s": "x"}))).await;
    assert_eq!(got["data"], json!({"a": "2", "s": "x"}));
}

/// `managedFields` of a create, an update and each patch type, in kube's shape: one Update
/// entry per manager (the `fieldManager` or the User-Agent's name), `time`, FieldsV1.
#[tokio::test]
async fn managed_fields_on_every_write() {
    let api = api().await;
    let (code, created) = api.post(&format!("{CMS}?fieldManager=creator"), configmap_kv()).await;
    assert_eq!(code, StatusCode::CREATED);
    let entry = &created["metadata"]["managedFields"][0];
    let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]);
    assert_eq!(entry["manager"], "creator");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["apiVersion"], "v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(entry["fieldsV1"], json!({"f:data": {".": {}, "f:k": {}}}));

    let merge = json!({"data": {"m": "1"}}).to_string().into_bytes();
    let uri = format!("{CMS}/kv?fieldManager=merger");
    let (_, got) = api.call(Method::PATCH, &uri, "application/merge-patch+json", merge).await;
    let json_patch = json!([{"op": "add", "path": "/data/j", "value": "1"}]).to_string();
    let uri = format!("{CMS}/kv?fieldManager=jsonpatcher");
    api.call(Method::PATCH, &uri, "application/json-patch+json", json_patch.into_bytes()).await;
    let strategic = json!({"data": {"s": "1"}}).to_string().into_bytes();
    let uri = format!("{CMS}/kv?fieldManager=strategic");
    api.call(Method::PATCH, &uri, "application/strategic-merge-patch+json", strategic).await;
    let merger = got["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "merger");
    assert_eq!(merger.unwrap()["fieldsV1"], json!({"f:data": {"f:m": {}}}));
    let (_, mut current) = api.get(&format!("{CMS}/kv")).await;
    current["data"]["u"] = "1".into();
    let uri = format!("{CMS}/kv?fieldManager=updater");
    let (_, got) =
        api.call(Method::PUT, &uri, "application/json", current.to_string().into()).await;
    // kube's order: by time, then by manager (all of these fall in a second or two).
    let mut owners: Vec<(&str, &Value)> = got["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["manager"].as_str().unwrap(), &e["fieldsV1"]))
        .collect();
    owners.sort_by_key(|(manager, _)| *manager);
    assert_eq!(
        owners,
        [
            ("creator", &json!({"f:data": {".": {}, "f:k": {}}})),
            ("jsonpatcher", &json!({"f:data": {"f:j": {}}})),
            ("merger", &json!({"f:data": {"f:m": {}}})),
            ("strategic", &json!({"f:data": {"f:s": {}}})),
            ("updater", &json!({"f:data": {"f:u": {}}})),
        ]
    );
}

fn configmap_kv() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kv"}, "data": {"k": "v"}})
}

fn gadget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.lab.example.com"},
        "spec": {
            "group": "lab.example.com", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "ports": {"type": "array", "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["name"],
                            "items": {"type": "object", "required": ["name"], "properties": {
                                "name": {"type": "string"}, "port": {"type": "integer"}}}}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]
        }
    })
}

/// A CRD's list-map merges by key across managers; /status is owned apart.
#[tokio::test]
async fn custom_resource_list_map_merged_by_key() {
    let api = api().await;
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(api.post(crds, gadget_crd()).await.0, StatusCode::CREATED);
    let gadgets = "/apis/lab.example.com/v1/namespaces/default/gadgets";
    let config = |ports: Value| {
        json!({"apiVersion": "lab.example.com/v1", "kind": "Gadget", "metadata": {"name": "g"},
               "spec": {"ports": ports}})
    };
    let first = config(json!([{"name": "http", "port": 80}]));
    let created = loop {
        let got = apply(&api, &format!("{gadgets}/g?fieldManager=one"), &first).await;
        if got.0 != StatusCode::NOT_FOUND {
            break got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let second = config(json!([{"name": "metrics", "port": 9090}]));
    let (code, got) = apply(&api, &format!("{gadgets}/g?fieldManager=two"), &second).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(
        got["spec"]["ports"],
        json!([{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}])
    );
    let entry = |object: &Value, manager: &str| -> Value {
        let entries = object["metadata"]["managedFields"].as_array().unwrap().clone();
        entries.into_iter().find(|e| e["manager"] == manager).unwrap()
    };
    let two = entry(&got, "two");
    assert_eq!(
        two["fieldsV1"],
        json!({"f:spec": {"f:ports": {"k:{\"name\":\"metrics\"}": {".": {}, "f:name": {}, "f:port": {}}}}})
    );
    let status = json!({"apiVersion": "lab.example.com/v1", "kind": "Gadget",
        "metadata": {"name": "g"}, "status": {"ready": true}});
    let uri = format!("{gadgets}/g/status?fieldManager=ctrl");
    let (code, got) = apply(&api, &uri, &status).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    let ctrl = entry(&got, "ctrl");
    assert_eq!((&ctrl["manager"], &ctrl["subresource"]), (&json!("ctrl"), &json!("status")));
    assert_eq!(ctrl["fieldsV1"], json!({"f:status": {"f:ready": {}}}));
    assert_eq!(got["spec"]["ports"].as_array().unwrap().len(), 2);
}

/// `managedFields` in a request body: entries that cannot be read are replaced by the
/// server's (as kube's field manager does), and an apply configuration may carry none (400,
/// nothing stored).
#[tokio::test]
async fn managed_fields_in_bodies() {
    let api = api().await;
    let mut unreadable = configmap_kv();
    unreadable["metadata"]["managedFields"] = json!([{"manager": "m", "operation": "Bogus"}]);
    let (code, created) = api.post(&format!("{CMS}?fieldManager=creator"), unreadable).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let entries = created["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{created}");
    assert_eq!(entries[0]["manager"], "creator");

    let before = revision(&api).await;
    let mut config = cm_config("kv", json!({"k": "v"}));
    config["metadata"]["managedFields"] = json!([]);
    let got = apply(&api, &format!("{CMS}/kv?fieldManager=m"), &config).await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "metadata.managedFields must be nil");
    assert_eq!(revision(&api).await, before);

    // Entries that can be read but are invalid are kept, so the object's validation refuses
    // them: a manager over 128 bytes is a 422 naming the entry, and nothing is stored.
    let (_, live) = api.get(&format!("{CMS}/kv")).await;
    let mut update = live.clone();
    update["metadata"]["managedFields"][0]["manager"] = json!("m".repeat(129));
    update["data"] = json!({"k": "changed"});
    let body = update.to_string().into_bytes();
    let got = api.call(Method::PUT, &format!("{CMS}/kv"), "application/json", body).await;
    assert_status(&got, 422, "Invalid");
    assert_eq!(got.1["details"]["causes"][0]["field"], "metadata.managedFields[0].manager");
    assert_eq!(
        got.1["details"]["causes"][0]["message"],
        "Too long: may not be more than 128 bytes"
    );
    assert_eq!(revision(&api).await, before);
    assert_eq!(api.get(&format!("{CMS}/kv")).await.1["data"], json!({"k": "v"}));
}

/// An apply as `user` (in the request's extensions, where authentication leaves it).
async fn apply_as(api: &Api, user: &UserInfo, uri: &str, body: &Value) -> (StatusCode, Value) {
    let mut request = axum::http::Request::builder()
        .method(Method::PATCH)
        .uri(uri)
        .header("content-type", APPLY)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    request.extensions_mut().insert(user.clone());
    let response = tower::ServiceExt::oneshot(api.router.clone(), request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Create by apply needs `create` as well as `patch` (kube authorizes it when the apply finds
/// no object); an apply to an existing object needs only `patch`.
#[tokio::test]
async fn create_by_apply_needs_create_permission() {
    let api = api_with(Some("RBAC")).await;
    let admin = UserInfo::new("kubernetes-admin", &["system:masters", "system:authenticated"]);
    let patcher = UserInfo::new("patcher", &["system:authenticated"]);
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "patch-cms", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "patcher", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "patch-cms"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "patcher"}]});
    let rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default";
    for (uri, body) in [(format!("{rbac}/roles"), role), (format!("{rbac}/rolebindings"), binding)]
    {
        let got = api.call_as(Some(&admin), Method::POST, &uri, Some(body)).await;
        assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    }
    let existing = format!("{CMS}/existing?fieldManager=p");
    let config = cm_config("existing", json!({"k": "v"}));
    assert_eq!(apply_as(&api, &admin, &existing, &config).await.0, StatusCode::CREATED);

    // RBAC follows its objects' views: wait (bounded) until the binding counts.
    let changed = cm_config("existing", json!({"k": "w"}));
    let mut got = apply_as(&api, &patcher, &existing, &changed).await;
    for _ in 0..200 {
        if got.0 != StatusCode::FORBIDDEN {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        got = apply_as(&api, &patcher, &existing, &changed).await;
    }
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);

    let before = revision(&api).await;
    let uri = format!("{CMS}/fresh?fieldManager=p");
    let got = apply_as(&api, &patcher, &uri, &cm_config("fresh", json!({}))).await;
    assert_status(&got, 403, "Forbidden");
    assert!(
        got.1["message"].as_str().unwrap().starts_with("configmaps \"fresh\" is forbidden"),
        "{}",
        got.1
    );
    assert_eq!(revision(&api).await, before);
}
