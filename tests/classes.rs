//! PriorityClasses, StorageClasses, PersistentVolumeClaims, IngressClasses and Ingresses through
//! the router, in-process, with the admission plugins that read them: Priority (a pod's class
//! resolved to its priority; one global default), DefaultStorageClass and DefaultIngressClass
//! (the default class given to a claim or an Ingress that names none); kube's system priority
//! classes, created at start and never deleted; and invalid objects refused with 422 at kube's
//! field paths.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::router::{Api, api, assert_status};

const CLASSES: &str = "/apis/scheduling.k8s.io/v1/priorityclasses";
const STORAGE_CLASSES: &str = "/apis/storage.k8s.io/v1/storageclasses";
const CLAIMS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";
const INGRESS_CLASSES: &str = "/apis/networking.k8s.io/v1/ingressclasses";
const INGRESSES: &str = "/apis/networking.k8s.io/v1/namespaces/default/ingresses";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, spec: Value) -> Value {
    let mut pod = json!({"metadata": {"name": name}, "spec": {"containers": [
        {"name": "c", "image": "nginx"}]}});
    if let (Some(pod_spec), Some(extra)) = (pod["spec"].as_object_mut(), spec.as_object()) {
        pod_spec.extend(extra.clone());
    }
    pod
}

fn claim(name: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}}}})
}

fn ingress(name: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"defaultBackend": {
        "service": {"name": "web", "port": {"number": 80}}}}})
}

async fn patch(api: &Api, uri: &str, body: Value) -> (StatusCode, Value) {
    api.call(Method::PATCH, uri, "application/merge-patch+json", body.to_string().into_bytes())
        .await
}

fn fields(status: &Value) -> Vec<String> {
    status["details"]["causes"]
        .as_array()
        .map(|causes| causes.iter().map(|c| c["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_system_priority_classes_exist_and_cannot_be_deleted() {
    let api = api().await;
    let (code, list) = api.get(CLASSES).await;
    assert_eq!(code, StatusCode::OK);
    let classes: Vec<(String, i64)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["metadata"]["name"].as_str().unwrap().to_owned(), c["value"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        classes,
        [
            ("system-cluster-critical".to_owned(), 2_000_000_000),
            ("system-node-critical".to_owned(), 2_000_001_000)
        ]
    );
    assert_eq!(list["items"][0]["preemptionPolicy"], "PreemptLowerPriority");
    let refused = api.delete(&format!("{CLASSES}/system-node-critical")).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "priorityclasses.scheduling.k8s.io \"system-node-critical\" is forbidden: this is a \
         system priority class and cannot be deleted"
    );
    assert_eq!(api.get(&format!("{CLASSES}/system-node-critical")).await.0, StatusCode::OK);

    // Their names are reserved, their values fixed.
    let taken = api.post(CLASSES, json!({"metadata": {"name": "system-mine"}, "value": 1})).await;
    assert_status(&taken, 422, "Invalid");
    assert_eq!(fields(&taken.1), ["metadata.name"]);
}

#[tokio::test]
async fn pods_get_the_priority_of_their_class() {
    let api = api().await;
    let high = json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"});
    assert_eq!(api.post(CLASSES, high).await.0, StatusCode::CREATED);

    let (code, created) = api.post(PODS, pod("a", json!({"priorityClassName": "high"}))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["spec"]["priority"], 1000);
    assert_eq!(created["spec"]["preemptionPolicy"], "Never");

    // A system class, in any namespace (kube 1.33 restricts none).
    let critical = pod("b", json!({"priorityClassName": "system-cluster-critical"}));
    let (code, created) = api.post(PODS, critical).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["spec"]["priority"], 2_000_000_000);

    // No class and no default: 0.
    let (_, plain) = api.post(PODS, pod("c", json!({}))).await;
    assert_eq!(plain["spec"]["priority"], 0);
    assert!(plain["spec"].get("priorityClassName").is_none());

    let unknown = api.post(PODS, pod("d", json!({"priorityClassName": "nope"}))).await;
    assert_status(&unknown, 403, "Forbidden");
    assert_eq!(
        unknown.1["message"],
        "pods \"d\" is forbidden: no PriorityClass with name nope was found"
    );
    let disagreeing =
        api.post(PODS, pod("e", json!({"priorityClassName": "high", "priority": 5}))).await;
    assert_status(&disagreeing, 403, "Forbidden");
    assert_eq!(api.get(&format!("{PODS}/e")).await.0, StatusCode::NOT_FOUND);

    // One global default, which pods without a class then get.
    let default = json!({"metadata": {"name": "normal"}, "value": 10, "globalDefault": true});
    assert_eq!(api.post(CLASSES, default).await.0, StatusCode::CREATED);
    let second = json!({"metadata": {"name": "other"}, "value": 20, "globalDefault": true});
    let refused = api.post(CLASSES, second).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass normal is \
         already marked as default. Only one default can exist"
    );
    let (_, defaulted) = api.post(PODS, pod("f", json!({}))).await;
    assert_eq!(defaulted["spec"]["priorityClassName"], "normal");
    assert_eq!(defaulted["spec"]["priority"], 10);

    // The value is fixed.
    let changed = patch(&api, &format!("{CLASSES}/high"), json!({"value": 2000})).await;
    assert_status(&changed, 422, "Invalid");
    assert_eq!(fields(&changed.1), ["value"]);
}

#[tokio::test]
async fn claims_get_the_newest_default_storage_class() {
    let api = api().await;
    // No default class yet: the claim keeps none.
    let (code, plain) = api.post(CLAIMS, claim("plain")).await;
    assert_eq!(code, StatusCode::CREATED, "{plain}");
    assert!(plain["spec"].get("storageClassName").is_none());
    assert_eq!(plain["status"]["phase"], "Pending");
    assert_eq!(plain["spec"]["volumeMode"], "Filesystem");

    for name in ["standard", "fast"] {
        let class = json!({"metadata": {"name": name, "annotations": {
            "storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "example.com/disk"});
        let (code, created) = api.post(STORAGE_CLASSES, class).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        assert_eq!(created["reclaimPolicy"], "Delete");
        assert_eq!(created["volumeBindingMode"], "Immediate");
    }
    // Created in the same second: the first by name.
    let (_, defaulted) = api.post(CLAIMS, claim("data")).await;
    assert_eq!(defaulted["spec"]["storageClassName"], "fast");
    let mut none = claim("none");
    none["spec"]["storageClassName"] = json!("");
    let (_, kept) = api.post(CLAIMS, none).await;
    assert_eq!(kept["spec"]["storageClassName"], "");

    // The spec is fixed once created; the provisioner too.
    let grown = patch(
        &api,
        &format!("{CLAIMS}/data"),
        json!({"spec": {"resources": {"requests": {"storage": "2Gi"}}}}),
    )
    .await;
    assert_status(&grown, 422, "Invalid");
    assert_eq!(fields(&grown.1), ["spec"]);
    let moved = patch(
        &api,
        &format!("{STORAGE_CLASSES}/fast"),
        json!({"provisioner": "example.com/other"}),
    )
    .await;
    assert_status(&moved, 422, "Invalid");
    assert_eq!(fields(&moved.1), ["provisioner"]);

    // Invalid claims.
    let invalid = json!({"metadata": {"name": "bad"}, "spec": {"accessModes": ["Sometimes"]}});
    let refused = api.post(CLAIMS, invalid).await;
    assert_status(&refused, 422, "Invalid");
    assert_eq!(fields(&refused.1), ["spec.accessModes", "spec.resources[storage]"]);

    // The status moves only through /status.
    let status = json!({"status": {"phase": "Bound"}});
    let (code, _) = patch(&api, &format!("{CLAIMS}/data/status"), status).await;
    assert_eq!(code, StatusCode::OK);
    let (_, bound) = api.get(&format!("{CLAIMS}/data")).await;
    assert_eq!(bound["status"]["phase"], "Bound");
}

#[tokio::test]
async fn ingresses_get_the_default_ingress_class() {
    let api = api().await;
    let class = json!({"metadata": {"name": "nginx", "annotations": {
        "ingressclass.kubernetes.io/is-default-class": "true"}},
        "spec": {"controller": "k8s.io/ingress-nginx"}});
    assert_eq!(api.post(INGRESS_CLASSES, class).await.0, StatusCode::CREATED);
    let (code, created) = api.post(INGRESSES, ingress("web")).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["spec"]["ingressClassName"], "nginx");

    let mut annotated = ingress("annotated");
    annotated["metadata"]["annotations"] = json!({"kubernetes.io/ingress.class": "traefik"});
    let (_, kept) = api.post(INGRESSES, annotated).await;
    assert!(kept["spec"].get("ingressClassName").is_none());

    // pathType is required; a backend is one of two kinds; hosts are DNS names.
    let invalid = json!({"metadata": {"name": "bad"}, "spec": {"rules": [
        {"host": "10.0.0.1", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"path": "/x", "pathType": "Prefix", "backend": {
                "service": {"name": "web", "port": {"number": 80}},
                "resource": {"kind": "Bucket", "name": "b"}}}]}}]}});
    let refused = api.post(INGRESSES, invalid).await;
    assert_status(&refused, 422, "Invalid");
    assert_eq!(
        fields(&refused.1),
        [
            "spec.rules[0].host",
            "spec.rules[0].http.paths[0].pathType",
            "spec.rules[0].http.paths[1].backend",
        ]
    );
    let empty = api.post(INGRESSES, json!({"metadata": {"name": "empty"}, "spec": {}})).await;
    assert_status(&empty, 422, "Invalid");
    assert_eq!(fields(&empty.1), ["spec"]);

    // The controller is fixed.
    let changed = patch(
        &api,
        &format!("{INGRESS_CLASSES}/nginx"),
        json!({"spec": {"controller": "example.com/other"}}),
    )
    .await;
    assert_status(&changed, 422, "Invalid");
    assert_eq!(fields(&changed.1), ["spec.controller"]);

    // Status through /status only.
    let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}});
    let ignored = patch(&api, &format!("{INGRESSES}/web"), status.clone()).await;
    assert_eq!(ignored.0, StatusCode::OK);
    assert!(
        ignored
            .1
            .get("status")
            .is_none_or(|s| s.get("loadBalancer").is_none_or(|l| l.get("ingress").is_none()))
    );
    let (code, written) = patch(&api, &format!("{INGRESSES}/web/status"), status).await;
    assert_eq!(code, StatusCode::OK, "{written}");
    assert_eq!(written["status"]["loadBalancer"]["ingress"][0]["ip"], "10.0.0.9");
}
