//! `--runtime-config` through the real binary: a disabled group/version or resource disappears
//! from every discovery document (`/api`, `/apis`, `/apis/{group}`, resource lists, aggregated
//! v2 and v2beta1, the OpenAPI v3 index) and from kubectl, its paths answer 404, the other
//! versions of its resource keep working, and its stored objects come back untouched when a
//! restart re-enables it. A malformed value stops the binary at start-up with kube-apiserver's
//! message.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::server::TestServer;

const HPA_V1: &str = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
const HPA_V2: &str = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
const AGGREGATED: [&str; 2] = [
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
];

/// A request with an optional Accept header and JSON body: status and JSON answer.
async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    accept: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = server.http.request(method, format!("{}{path}", server.url));
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn get(server: &TestServer, path: &str) -> Value {
    let (status, body) = call(server, reqwest::Method::GET, path, None, None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// `path` answers like any unknown path: a 404 `Status` with reason NotFound.
async fn assert_not_found(server: &TestServer, method: reqwest::Method, path: &str) {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let (status, answer) = call(server, method.clone(), path, None, Some(&body)).await;
    assert_eq!(status, 404, "{method} {path}: {answer}");
    assert_eq!(answer["kind"], "Status", "{method} {path}: {answer}");
    assert_eq!(answer["reason"], "NotFound", "{method} {path}: {answer}");
    assert_eq!(answer["code"], 404, "{method} {path}: {answer}");
}

/// The served versions of a non-core group, preferred first, after checking that `/apis/{group}`,
/// `/apis`, the aggregated `/apis` (v2 and v2beta1), each `/apis/{group}/{version}` and the
/// OpenAPI v3 index all agree.
async fn versions_of(server: &TestServer, group: &str) -> Vec<String> {
    let names = |items: &Value, key: &str| -> Vec<String> {
        items.as_array().unwrap().iter().map(|v| v[key].as_str().unwrap().to_owned()).collect()
    };
    let (status, doc) =
        call(server, reqwest::Method::GET, &format!("/apis/{group}"), None, None).await;
    let versions = match status {
        200 => {
            let versions = names(&doc["versions"], "version");
            assert_eq!(doc["preferredVersion"]["version"], versions[0], "{doc}");
            versions
        }
        404 => Vec::new(),
        other => panic!("/apis/{group} answered {other}: {doc}"),
    };

    let list = get(server, "/apis").await;
    let entry = list["groups"].as_array().unwrap().iter().find(|g| g["name"] == group);
    match entry {
        Some(entry) => {
            assert_eq!(names(&entry["versions"], "version"), versions, "/apis: {entry}");
            assert_eq!(entry["preferredVersion"]["version"], versions[0], "/apis: {entry}");
        }
        None => assert!(versions.is_empty(), "/apis lacks {group}: {list}"),
    }

    for accept in AGGREGATED {
        let (status, doc) = call(server, reqwest::Method::GET, "/apis", Some(accept), None).await;
        assert_eq!(status, 200, "{doc}");
        let item = doc["items"].as_array().unwrap().iter().find(|i| i["metadata"]["name"] == group);
        let aggregated = item.map(|i| names(&i["versions"], "version")).unwrap_or_default();
        assert_eq!(aggregated, versions, "aggregated /apis ({accept})");
    }

    let index = get(server, "/openapi/v3").await;
    let mut openapi: Vec<String> = index["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|path| path.strip_prefix(&format!("apis/{group}/")).map(str::to_owned))
        .collect();
    let mut sorted = versions.clone();
    sorted.sort();
    openapi.sort();
    assert_eq!(openapi, sorted, "OpenAPI v3 index");

    for version in &versions {
        let list = get(server, &format!("/apis/{group}/{version}")).await;
        assert!(!list["resources"].as_array().unwrap().is_empty(), "{list}");
    }
    versions
}

/// The resources of a group/version in the legacy list and the aggregated document (which must
/// agree); empty when it is not served.
async fn resources_of(server: &TestServer, group: &str, version: &str) -> Vec<String> {
    let path = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let (status, doc) = call(server, reqwest::Method::GET, &path, None, None).await;
    let legacy: Vec<String> = match status {
        200 => doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .filter(|name| !name.contains('/'))
            .collect(),
        404 => Vec::new(),
        other => panic!("{path} answered {other}: {doc}"),
    };
    let root = if group.is_empty() { "/api" } else { "/apis" };
    let (_, doc) = call(server, reqwest::Method::GET, root, Some(AGGREGATED[0]), None).await;
    let aggregated: Vec<String> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["name"] == group)
        .flat_map(|i| i["versions"].as_array().unwrap().clone())
        .filter(|v| v["version"] == version)
        .flat_map(|v| v["resources"].as_array().unwrap().clone())
        .map(|r| r["resource"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(aggregated, legacy, "aggregated and legacy {path}");
    legacy
}

/// kubectl keeps discovery on disk; a restart with other APIs must not be read from it.
fn forget_discovery(server: &TestServer) {
    let _ = std::fs::remove_dir_all(server.dir.path().join("kube-cache"));
}

fn api_versions(server: &TestServer) -> Vec<String> {
    server.ok(&["api-versions"]).lines().map(str::to_owned).collect()
}

/// The plural names in `kubectl api-resources`.
fn api_resources(server: &TestServer) -> Vec<String> {
    server
        .ok(&["api-resources", "--no-headers", "-o", "name"])
        .lines()
        .map(|l| l.split('.').next().unwrap_or_default().to_owned())
        .collect()
}

fn hpa_v2(name: &str) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 6,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                     "target": {"type": "Utilization", "averageUtilization": 60}}}]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn autoscaling_v1_off_leaves_v2_serving_and_comes_back() {
    let mut server = TestServer::embedded_with(&["--runtime-config", "autoscaling/v1=false"]).await;
    let (status, created) =
        call(&server, reqwest::Method::POST, HPA_V2, None, Some(&hpa_v2("web"))).await;
    assert_eq!(status, 201, "{created}");
    let uid = created["metadata"]["uid"].as_str().unwrap().to_owned();

    // v1 is gone: every path 404s like an unknown one, and no discovery document names it.
    use reqwest::Method;
    for (method, path) in [
        (Method::GET, HPA_V1.to_owned()),
        (Method::GET, format!("{HPA_V1}/web")),
        (Method::GET, format!("{HPA_V1}?watch=1")),
        (Method::POST, HPA_V1.to_owned()),
        (Method::PUT, format!("{HPA_V1}/web")),
        (Method::DELETE, format!("{HPA_V1}/web")),
        (Method::GET, format!("{HPA_V1}/web/status")),
        (Method::GET, "/apis/autoscaling/v1/horizontalpodautoscalers".to_owned()),
        (Method::GET, "/apis/autoscaling/v1".to_owned()),
        (Method::GET, "/openapi/v3/apis/autoscaling/v1".to_owned()),
    ] {
        assert_not_found(&server, method, &path).await;
    }
    assert_eq!(versions_of(&server, "autoscaling").await, ["v2"]);
    let versions = api_versions(&server);
    assert!(!versions.contains(&"autoscaling/v1".to_owned()), "{versions:?}");
    assert!(versions.contains(&"autoscaling/v2".to_owned()), "{versions:?}");

    // v2 serves the object, to HTTP and to kubectl.
    let read = get(&server, &format!("{HPA_V2}/web")).await;
    assert_eq!(read["metadata"]["uid"], uid.as_str());
    assert_eq!(server.ok(&["get", "hpa", "web", "-o", "jsonpath={.metadata.uid}"]), uid);
    assert_eq!(get(&server, HPA_V2).await["items"][0]["metadata"]["uid"], uid.as_str());

    // Re-enabled: v1 is back, with the same object converted.
    server.restart_with(&[]).await;
    forget_discovery(&server);
    assert_eq!(versions_of(&server, "autoscaling").await, ["v2", "v1"]);
    assert!(api_versions(&server).contains(&"autoscaling/v1".to_owned()));
    let v1 = get(&server, &format!("{HPA_V1}/web")).await;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["metadata"]["uid"], uid.as_str());
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);

    // The preferred version off: v1 becomes preferred and serves (and writes) the object.
    server.restart_with(&["--runtime-config", "autoscaling/v2=false"]).await;
    forget_discovery(&server);
    assert_eq!(versions_of(&server, "autoscaling").await, ["v1"]);
    assert_not_found(&server, Method::GET, &format!("{HPA_V2}/web")).await;
    assert_not_found(&server, Method::GET, "/apis/autoscaling/v2").await;
    let versions = api_versions(&server);
    assert!(versions.contains(&"autoscaling/v1".to_owned()), "{versions:?}");
    assert!(!versions.contains(&"autoscaling/v2".to_owned()), "{versions:?}");
    let patch = json!({"spec": {"minReplicas": 3}});
    let patched = server
        .http
        .patch(format!("{}{HPA_V1}/web", server.url))
        .header("Content-Type", "application/merge-patch+json")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200);
    assert_eq!(
        server.ok(&["get", "hpa", "web", "-o", "jsonpath={.apiVersion} {.spec.minReplicas}"]),
        "autoscaling/v1 3"
    );

    // Both back: v2 reads what v1 wrote.
    server.restart_with(&[]).await;
    forget_discovery(&server);
    let v2 = get(&server, &format!("{HPA_V2}/web")).await;
    assert_eq!(v2["metadata"]["uid"], uid.as_str());
    assert_eq!(v2["spec"]["minReplicas"], 3);
    assert_eq!(v2["spec"]["metrics"], hpa_v2("web")["spec"]["metrics"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn apps_v1_off_hides_deployments_until_re_enabled() {
    let mut server = TestServer::embedded().await;
    server.ok(&["create", "deployment", "web", "--image=nginx:1.25", "--replicas=2"]);
    let before: Value =
        serde_json::from_str(&server.ok(&["get", "deployment", "web", "-o", "json"])).unwrap();
    assert!(api_resources(&server).contains(&"deployments".to_owned()));

    server.restart_with(&["--runtime-config", "apps/v1=false"]).await;
    forget_discovery(&server);
    let resources = api_resources(&server);
    assert!(!resources.contains(&"deployments".to_owned()), "{resources:?}");
    assert!(resources.contains(&"configmaps".to_owned()), "{resources:?}");
    assert!(!api_versions(&server).contains(&"apps/v1".to_owned()));
    assert!(versions_of(&server, "apps").await.is_empty());
    assert_eq!(resources_of(&server, "apps", "v1").await, Vec::<String>::new());
    for path in [
        "/apis/apps",
        "/apis/apps/v1",
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/namespaces/default/deployments/web",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        "/openapi/v3/apis/apps/v1",
    ] {
        assert_not_found(&server, reqwest::Method::GET, path).await;
    }
    let err = server.fails(&["get", "deployments"]);
    assert!(err.contains("the server doesn't have a resource type \"deployments\""), "{err}");
    // The rest is served as usual.
    server.ok(&["create", "configmap", "still-here"]);

    server.restart_with(&[]).await;
    forget_discovery(&server);
    assert!(api_resources(&server).contains(&"deployments".to_owned()));
    assert_eq!(versions_of(&server, "apps").await, ["v1"]);
    let after: Value =
        serde_json::from_str(&server.ok(&["get", "deployment", "web", "-o", "json"])).unwrap();
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
    assert_eq!(after["spec"], before["spec"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_resource_and_a_shared_storage_resource_off() {
    let mut server =
        TestServer::embedded_with(&["--runtime-config", "events.k8s.io/v1=false,v1/secrets=false"])
            .await;
    // Core v1 events, which share their storage with events.k8s.io/v1, work.
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Started", "message": "started", "type": "Normal"});
    let (status, created) = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/namespaces/default/events",
        None,
        Some(&event),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    get(&server, "/api/v1/namespaces/default/events/e1").await;
    assert!(versions_of(&server, "events.k8s.io").await.is_empty());
    assert_not_found(
        &server,
        reqwest::Method::GET,
        "/apis/events.k8s.io/v1/namespaces/default/events",
    )
    .await;

    // Only secrets left core v1.
    let core = resources_of(&server, "", "v1").await;
    assert!(!core.contains(&"secrets".to_owned()), "{core:?}");
    for kept in ["configmaps", "events", "namespaces", "pods"] {
        assert!(core.contains(&kept.to_owned()), "{kept} in {core:?}");
    }
    assert_eq!(get(&server, "/api").await["versions"], json!(["v1"]));
    assert_not_found(&server, reqwest::Method::GET, "/api/v1/namespaces/default/secrets").await;
    assert_not_found(&server, reqwest::Method::POST, "/api/v1/namespaces/default/secrets").await;
    assert!(!api_resources(&server).contains(&"secrets".to_owned()));

    // Re-enabled, events.k8s.io/v1 serves the event written through core v1.
    server.restart_with(&[]).await;
    forget_discovery(&server);
    assert_eq!(versions_of(&server, "events.k8s.io").await, ["v1"]);
    let events = get(&server, "/apis/events.k8s.io/v1/namespaces/default/events").await;
    assert_eq!(events["items"][0]["metadata"]["uid"], created["metadata"]["uid"]);
    assert!(resources_of(&server, "", "v1").await.contains(&"secrets".to_owned()));
}

/// Runs the binary with `args` and waits (20 s at most) for it to exit: status, stdout, stderr.
fn run_binary(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-ledger"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("kube-ledger {args:?} kept running: {}", String::from_utf8_lossy(&out.stdout));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_values_stop_the_binary_at_start_up() {
    for (args, message) in [
        (
            &["--runtime-config", "apps/v1=nope"][..],
            "invalid value of apps/v1: nope, err: strconv.ParseBool: parsing \"nope\": invalid syntax",
        ),
        (&["--runtime-config", "apps"], "runtime-config invalid key apps"),
        (&["--runtime-config=bar.io/v1=false,foo.io/v1"], "unknown api groups bar.io,foo.io"),
        (&["--runtime-config", "apps/v2"], "group version apps/v2 that has not been registered"),
        (
            &["--runtime-config", "apps/v1/Deployments=false"],
            "resource is always lowercase plural, not \"Deployments\"",
        ),
        (
            &["--runtime-config", "apps/v1/widgets=false"],
            "resource widgets that has not been registered in group version apps/v1",
        ),
        (&["--runtime-config", "api/all"], "invalid value api/all="),
        (&["--runtime-config", "api/all=false"], "invalid key with only api/all=false"),
        (
            &["--runtime-config", "api/legacy=false", "--runtime-config", "api/all=false"],
            "invalid key with only api/all=false",
        ),
    ] {
        let (code, stdout, stderr) = run_binary(args);
        assert!(code.is_some_and(|c| c != 0), "{args:?} exited with {code:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stdout.contains("KUBECONFIG"), "{args:?} served: {stdout}");
    }
}
