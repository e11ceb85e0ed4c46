//! What kube-apiserver serves by itself, in-process: pod eviction against a
//! PodDisruptionBudget (`policy/v1`, read generically from the store), binding's refusals,
//! the kubelet's subresources, and discovery of these resources and subresources.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::router::{Api, api, assert_status};

const PODS: &str = "/api/v1/namespaces/default/pods";
const PDBS: &str = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";

async fn running_pod(api: &Api, name: &str) {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let (code, mut pod) = api.post(PODS, pod).await;
    assert_eq!(code, StatusCode::CREATED, "{pod}");
    pod["status"]["phase"] = "Running".into();
    let uri = format!("{PODS}/{name}/status");
    let (code, body) =
        api.call(Method::PUT, &uri, "application/json", pod.to_string().into_bytes()).await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

async fn pdb(api: &Api, allowed: i64) {
    let body = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web-pdb"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}});
    let (code, mut pdb) = api.post(PDBS, body).await;
    assert_eq!(code, StatusCode::CREATED, "{pdb}");
    pdb["status"] = json!({"observedGeneration": 1, "disruptionsAllowed": allowed,
        "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1});
    let uri = format!("{PDBS}/web-pdb/status");
    let (code, body) =
        api.call(Method::PUT, &uri, "application/json", pdb.to_string().into_bytes()).await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

fn eviction(name: &str) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}})
}

#[tokio::test]
async fn eviction_respects_the_disruption_budget() {
    let api = api().await;
    running_pod(&api, "web-1").await;
    pdb(&api, 0).await;
    let refused = api.post(&format!("{PODS}/web-1/eviction"), eviction("web-1")).await;
    assert_status(&refused, 429, "TooManyRequests");
    assert_eq!(
        refused.1["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        refused.1["details"]["causes"],
        json!([{"reason": "DisruptionBudget",
                "message": "The disruption budget web-pdb needs 1 healthy pods and has 1 currently"}])
    );
    assert_eq!(api.get(&format!("{PODS}/web-1")).await.0, StatusCode::OK, "the pod stays");

    // One disruption allowed: taken, recorded, and the pod deleted.
    let (_, mut current) = api.get(&format!("{PDBS}/web-pdb")).await;
    current["status"]["disruptionsAllowed"] = 1.into();
    let uri = format!("{PDBS}/web-pdb/status");
    api.call(Method::PUT, &uri, "application/json", current.to_string().into_bytes()).await;
    let (code, answer) = api.post(&format!("{PODS}/web-1/eviction"), eviction("web-1")).await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    assert_eq!(
        answer,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
    );
    assert_eq!(api.get(&format!("{PODS}/web-1")).await.0, StatusCode::NOT_FOUND);
    let (_, after) = api.get(&format!("{PDBS}/web-pdb")).await;
    assert_eq!(after["status"]["disruptionsAllowed"], 0);
    assert!(after["status"]["disruptedPods"]["web-1"].is_string(), "{after}");

    // A pending pod is evicted whatever the budget says; a missing one is a 404.
    let pod = json!({"metadata": {"name": "pending", "labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    api.post(PODS, pod).await;
    let (code, _) = api.post(&format!("{PODS}/pending/eviction"), eviction("pending")).await;
    assert_eq!(code, StatusCode::CREATED);
    let missing = api.post(&format!("{PODS}/gone/eviction"), eviction("gone")).await;
    assert_status(&missing, 404, "NotFound");
    let mismatch = api.post(&format!("{PODS}/a/eviction"), eviction("b")).await;
    assert_status(&mismatch, 400, "BadRequest");
}

#[tokio::test]
async fn binding_and_the_kubelet_subresources() {
    let api = api().await;
    running_pod(&api, "p").await;
    let bad = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
                     "target": {"kind": "Pod"}});
    let refused = api.post(&format!("{PODS}/p/binding"), bad).await;
    assert_status(&refused, 422, "Invalid");
    assert_eq!(
        refused.1["message"],
        "Binding \"p\" is invalid: [target.kind: Unsupported value: \"Pod\": supported values: \
         \"Node\", \"<empty>\", target.name: Required value]"
    );
    // GET or PUT of pods/binding is not served (POST only).
    assert_status(&api.get(&format!("{PODS}/p/binding")).await, 405, "MethodNotAllowed");

    for sub in ["log", "exec", "attach", "portforward"] {
        let answer = api.get(&format!("{PODS}/p/{sub}")).await;
        assert_status(&answer, 400, "BadRequest");
        assert_eq!(answer.1["message"], "pod p does not have a host assigned");
    }
    assert_status(&api.get(&format!("{PODS}/nope/log")).await, 404, "NotFound");
    let svc = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    api.post("/api/v1/namespaces/default/services", svc).await;
    let proxied = api.get("/api/v1/namespaces/default/services/s/proxy/healthz").await;
    assert_status(&proxied, 503, "ServiceUnavailable");
    assert_eq!(proxied.1["message"], "no endpoints available for service \"s\"");
    // Not a subresource kube serves: still the router's 404.
    assert_status(&api.get(&format!("{PODS}/p/nonsense")).await, 404, "NotFound");
}

#[tokio::test]
async fn discovery_lists_what_kube_apiserver_serves_by_itself() {
    let api = api().await;
    let (_, core) = api.get("/api/v1").await;
    let resources = core["resources"].as_array().unwrap();
    let find = |name: &str| -> Value {
        resources.iter().find(|r| r["name"] == name).cloned().unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(find("bindings")["verbs"], json!(["create"]));
    assert_eq!(find("endpoints")["shortNames"], json!(["ep"]));
    assert_eq!(
        find("namespaces")["verbs"],
        json!(["create", "delete", "get", "list", "patch", "update", "watch"])
    );
    assert_eq!(find("pods/binding")["kind"], "Binding");
    assert_eq!(find("pods/eviction")["group"], "policy");
    assert_eq!(find("pods/eviction")["kind"], "Eviction");
    assert_eq!(find("pods/ephemeralcontainers")["verbs"], json!(["get", "patch", "update"]));
    assert_eq!(find("pods/exec")["verbs"], json!(["create", "get"]));
    assert_eq!(find("pods/log")["verbs"], json!(["get"]));
    assert_eq!(find("services/proxy")["kind"], "ServiceProxyOptions");
    let (_, discovery) = api.get("/apis/discovery.k8s.io/v1").await;
    assert_eq!(discovery["resources"][0]["name"], "endpointslices");
    assert_eq!(discovery["resources"][0]["kind"], "EndpointSlice");
}
