//! ResourceQuota and LimitRange: the kinds, the LimitRanger and ResourceQuota admission plugins
//! and the in-process quota controller — through the router in-process, then the real binary
//! with kubectl (`kubectl create quota`, `describe quota`, a refused pod, a freed slot, a
//! LimitRange defaulting a pod) and concurrent creates over HTTPS that never exceed a quota.

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::router::{Api, api, assert_status, configmap};
use support::server::TestServer;

const QUOTAS: &str = "/api/v1/namespaces/default/resourcequotas";
const CMS: &str = "/api/v1/namespaces/default/configmaps";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn quota(name: &str, hard: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
           "spec": {"hard": hard}})
}

fn pod(name: &str, resources: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "app", "image": "nginx", "resources": resources}]}})
}

/// Waits (bounded) until the quota's `status.used` satisfies `done`; returns the quota.
async fn until_used(api: &Api, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (_, quota) = api.get(&format!("{QUOTAS}/{name}")).await;
        if quota["status"]["used"].is_object() && done(&quota["status"]["used"]) {
            return quota;
        }
        last = quota;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the quota controller never settled {name}: {last}");
}

#[tokio::test]
async fn counts_are_enforced_in_kubes_words_and_deletes_free_slots() {
    let api = api().await;
    let (code, _) = api.post(QUOTAS, quota("q", json!({"configmaps": "2", "pods": "5"}))).await;
    assert_eq!(code, StatusCode::CREATED);
    let settled = until_used(&api, "q", |used| used.get("configmaps").is_some()).await;
    assert_eq!(settled["status"]["hard"], json!({"configmaps": "2", "pods": "5"}));
    let before: u64 = settled["status"]["used"]["configmaps"].as_str().unwrap().parse().unwrap();
    let free = 2 - before;
    for i in 0..free {
        assert_eq!(api.post(CMS, configmap(&format!("c{i}"))).await.0, StatusCode::CREATED);
    }
    let refused = api.post(CMS, configmap("over")).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "configmaps \"over\" is forbidden: exceeded quota: q, requested: configmaps=1, \
         used: configmaps=2, limited: configmaps=2"
    );
    // A dry run is judged the same way and charges nothing.
    let dry = api.post(&format!("{CMS}?dryRun=All"), configmap("over")).await;
    assert_status(&dry, 403, "Forbidden");

    // Deleting a counted object gives its slot back (the controller follows the deletes).
    assert_eq!(api.delete(&format!("{CMS}/c0")).await.0, StatusCode::OK);
    until_used(&api, "q", |used| used["configmaps"] == json!("1")).await;
    assert_eq!(api.post(CMS, configmap("again")).await.0, StatusCode::CREATED);
    let (_, quota) = api.get(&format!("{QUOTAS}/q")).await;
    assert_eq!(quota["status"]["used"]["configmaps"], "2");
}

#[tokio::test]
async fn compute_quotas_need_requests_and_sum_them() {
    let api = api().await;
    let hard = json!({"requests.cpu": "1", "limits.memory": "1Gi"});
    api.post(QUOTAS, quota("compute", hard)).await;
    until_used(&api, "compute", |used| used.get("requests.cpu").is_some()).await;
    let bare = api.post(PODS, pod("bare", json!({}))).await;
    assert_status(&bare, 403, "Forbidden");
    assert_eq!(
        bare.1["message"],
        "pods \"bare\" is forbidden: failed quota: compute: must specify limits.memory for: app; \
         requests.cpu for: app"
    );
    let sized = json!({"requests": {"cpu": "600m"}, "limits": {"memory": "512Mi"}});
    assert_eq!(api.post(PODS, pod("a", sized.clone())).await.0, StatusCode::CREATED);
    let over = api.post(PODS, pod("b", sized)).await;
    assert_status(&over, 403, "Forbidden");
    assert_eq!(
        over.1["message"],
        "pods \"b\" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, \
         used: requests.cpu=600m, limited: requests.cpu=1"
    );
    let (_, quota) = api.get(&format!("{QUOTAS}/compute")).await;
    assert_eq!(quota["status"]["used"], json!({"limits.memory": "512Mi", "requests.cpu": "600m"}));
}

#[tokio::test]
async fn concurrent_creates_never_exceed_the_quota() {
    let api = api().await;
    api.post(QUOTAS, quota("q", json!({"count/secrets": "5"}))).await;
    until_used(&api, "q", |used| used.get("count/secrets").is_some()).await;
    let secrets = "/api/v1/namespaces/default/secrets";
    let creates = (0..24).map(|i| {
        let body = json!({"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": format!("s{i}")}, "stringData": {"k": "v"}});
        api.post(secrets, body)
    });
    let results = futures::future::join_all(creates).await;
    let created = results.iter().filter(|r| r.0 == StatusCode::CREATED).count();
    let refused = results.iter().filter(|r| r.0 == StatusCode::FORBIDDEN).count();
    assert_eq!((created, refused), (5, 19), "{results:?}");
    let (_, list) = api.get(secrets).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
    let (_, quota) = api.get(&format!("{QUOTAS}/q")).await;
    assert_eq!(quota["status"]["used"]["count/secrets"], "5");
}

#[tokio::test]
async fn limit_ranges_default_and_bound_pods() {
    let api = api().await;
    let range = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"},
                             "defaultRequest": {"cpu": "100m", "memory": "64Mi"}}]}});
    let (code, stored) = api.post("/api/v1/namespaces/default/limitranges", range).await;
    assert_eq!(code, StatusCode::CREATED, "{stored}");
    // kube's defaulting: the default limit from max.
    assert_eq!(stored["spec"]["limits"][0]["default"], json!({"cpu": "1"}));

    let (code, created) = api.post(PODS, pod("p", json!({}))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "1"}, "requests": {"cpu": "100m", "memory": "64Mi"}})
    );
    assert_eq!(
        created["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container app; cpu limit for container app"
    );
    let big = api.post(PODS, pod("big", json!({"limits": {"cpu": "2"}}))).await;
    assert_status(&big, 403, "Forbidden");
    assert_eq!(
        big.1["message"],
        "pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
    );
}

#[tokio::test]
async fn invalid_quotas_and_ranges_are_422s() {
    let api = api().await;
    let bad = api.post(QUOTAS, quota("bad", json!({"pods": "1.5", "nonsense": "1"}))).await;
    assert_status(&bad, 422, "Invalid");
    assert_eq!(
        bad.1["message"],
        "ResourceQuota \"bad\" is invalid: [spec.hard[nonsense]: Invalid value: \"nonsense\": \
         must be a standard resource type or fully qualified, spec.hard[nonsense]: Invalid \
         value: \"nonsense\": must be a standard resource for quota, spec.hard[pods]: Invalid \
         value: \"1500m\": must be an integer]"
    );
    let range = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
        "spec": {"limits": [{"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}}]}});
    let bad = api.post("/api/v1/namespaces/default/limitranges", range).await;
    assert_status(&bad, 422, "Invalid");
    assert!(
        bad.1["message"].as_str().unwrap().contains(
            "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1"
        ),
        "{}",
        bad.1
    );
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

/// Waits (bounded) until kubectl's jsonpath of the quota reads `want`.
async fn until_kubectl(server: &TestServer, quota: &str, path: &str, want: &str) {
    let mut got = String::new();
    for _ in 0..100 {
        let out = server.kubectl(&["get", "quota", quota, "-o", &format!("jsonpath={path}")]);
        got = String::from_utf8_lossy(&out.stdout).into_owned();
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("quota {quota} {path} stayed {got:?}, not {want:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_creates_describes_and_hits_a_quota() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "quota", "q", "--hard=pods=1,configmaps=3"]);
    until_kubectl(&server, "q", "{.status.used.pods}", "0").await;
    let listed = server.ok(&["get", "quota"]);
    assert_eq!(rows(&listed)[0], ["NAME", "AGE", "REQUEST", "LIMIT"]);
    assert!(listed.lines().nth(1).unwrap().starts_with("q "), "{listed}");
    assert!(listed.contains(", pods: 0/1"), "{listed}");

    server.ok(&["run", "first", "--image=nginx"]);
    let refused = server.fails(&["run", "second", "--image=nginx"]);
    assert!(
        refused.contains(
            "Error from server (Forbidden): pods \"second\" is forbidden: exceeded quota: q, \
             requested: pods=1, used: pods=1, limited: pods=1"
        ),
        "{refused}"
    );
    let described = server.ok(&["describe", "quota", "q"]);
    let described = rows(&described);
    assert!(described.iter().any(|r| r == &["Resource", "Used", "Hard"]), "{described:?}");
    assert!(described.iter().any(|r| r == &["pods", "1", "1"]), "{described:?}");

    server.ok(&["delete", "pod", "first"]);
    until_kubectl(&server, "q", "{.status.used.pods}", "0").await;
    server.ok(&["run", "second", "--image=nginx"]);

    // A LimitRange gives the next pod its requests and limits.
    let range = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\nspec:\n  limits:\n  \
                 - type: Container\n    default: {cpu: 500m, memory: 256Mi}\n    \
                 defaultRequest: {cpu: 250m, memory: 128Mi}\n";
    server.ok_stdin(&["apply", "-f", "-"], range);
    server.ok(&["delete", "quota", "q"]);
    server.ok(&["run", "ranged", "--image=nginx"]);
    let pod: Value =
        serde_json::from_str(&server.ok(&["get", "pod", "ranged", "-o", "json"])).unwrap();
    assert_eq!(
        pod["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "256Mi"},
               "requests": {"cpu": "250m", "memory": "128Mi"}})
    );
    assert_eq!(
        pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container ranged; cpu, memory limit \
         for container ranged"
    );
    let limits = rows(&server.ok(&["get", "limits"]));
    assert_eq!(limits[0], ["NAME", "CREATED", "AT"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_creates_over_https_never_exceed_the_quota() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "quota", "cm", "--hard=count/configmaps=10"]);
    until_kubectl(&server, "cm", "{.status.hard.count/configmaps}", "10").await;
    // The namespace may hold configmaps already (kube-root-ca.crt).
    let out = server.ok(&["get", "quota", "cm", "-o", "jsonpath={.status.used.count/configmaps}"]);
    let before: usize = out.trim().parse().unwrap_or(0);
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let creates = (0..40).map(|i| {
        let request = server.http.post(&url).json(&configmap(&format!("c{i}")));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let codes = futures::future::join_all(creates).await;
    let created = codes.iter().filter(|c| **c == 201).count();
    assert_eq!(created, 10 - before, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 201 || *c == 403), "{codes:?}");
    let names = server.ok(&["get", "configmaps", "-o", "name"]);
    assert_eq!(names.lines().count(), 10, "{names}");
    until_kubectl(&server, "cm", "{.status.used.count/configmaps}", "10").await;
}
