//! HorizontalPodAutoscalers through the real binary: one object served as `autoscaling/v1` and
//! `autoscaling/v2` (stored as v2), converted as kube-apiserver converts it — v1's cpu target is
//! v2's cpu metric, everything else crosses v1 in the `autoscaling.alpha.kubernetes.io/*`
//! annotations and never shows in v2 — over raw HTTP, a v2 watch of v1 writes, `/status` in both
//! versions, 422s with kube's causes, and kubectl (`get hpa`, `autoscale`).

mod support;

use serde_json::{Value, json};
use support::events::next_event;
use support::http::send;
use support::server::TestServer;

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";

fn v1_url(server: &TestServer) -> String {
    format!("{}/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", server.url)
}

fn v2_url(server: &TestServer) -> String {
    format!("{}/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", server.url)
}

fn v1_hpa(name: &str, cpu: i64) -> Value {
    json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": cpu}})
}

fn cpu_metric(utilization: i64) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": utilization}}})
}

fn memory_metric() -> Value {
    json!({"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "AverageValue", "averageValue": "500Mi"}}})
}

async fn get(server: &TestServer, url: &str) -> Value {
    send(server.http.get(url), 200).await
}

fn annotations(object: &Value) -> Value {
    object["metadata"].get("annotations").cloned().unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_object_in_two_versions() {
    let server = TestServer::embedded().await;
    let (v1, v2) = (v1_url(&server), v2_url(&server));
    let created = send(server.http.post(&v1).json(&v1_hpa("web", 60)), 201).await;
    assert_eq!(created["apiVersion"], "autoscaling/v1");
    assert_eq!(created["spec"]["targetCPUUtilizationPercentage"], 60);
    assert_eq!(created["status"], json!({"currentReplicas": 0, "desiredReplicas": 0}));

    // Read and list through v2: the cpu target is a metric, no annotation.
    let read = get(&server, &format!("{v2}/web")).await;
    assert_eq!(read["apiVersion"], "autoscaling/v2");
    assert_eq!(read["spec"]["metrics"], json!([cpu_metric(60)]));
    assert_eq!(read["spec"]["minReplicas"], 2);
    assert_eq!(read["metadata"]["generation"], 1);
    assert_eq!(annotations(&read), Value::Null);
    assert_eq!(read["status"], json!({"desiredReplicas": 0}));
    let list = get(&server, &v2).await;
    assert_eq!(list["kind"], "HorizontalPodAutoscalerList");
    assert_eq!(list["apiVersion"], "autoscaling/v2");
    assert_eq!(list["items"][0]["spec"]["metrics"], json!([cpu_metric(60)]));
    let all =
        get(&server, &format!("{}/apis/autoscaling/v1/horizontalpodautoscalers", server.url)).await;
    assert_eq!(all["items"][0]["spec"]["targetCPUUtilizationPercentage"], 60);

    // Update through v2, adding a memory metric: a spec change.
    let mut changed = read.clone();
    changed["spec"]["metrics"] = json!([cpu_metric(60), memory_metric()]);
    let updated = send(server.http.put(format!("{v2}/web")).json(&changed), 200).await;
    assert_eq!(updated["metadata"]["generation"], 2);

    // Through v1: the cpu target intact, memory kept in the annotation.
    let as_v1 = get(&server, &format!("{v1}/web")).await;
    assert_eq!(as_v1["spec"]["targetCPUUtilizationPercentage"], 60);
    assert!(as_v1["spec"].get("metrics").is_none());
    let kept: Value =
        serde_json::from_str(as_v1["metadata"]["annotations"][METRICS].as_str().unwrap()).unwrap();
    assert_eq!(
        kept,
        json!([{"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}}])
    );

    // Written back through v1 unchanged: memory comes back from the annotation (after cpu,
    // which v1 conversion appends last — here it already was first, so the order moves).
    let rewritten = send(server.http.put(format!("{v1}/web")).json(&as_v1), 200).await;
    assert_eq!(rewritten["spec"]["targetCPUUtilizationPercentage"], 60);
    let again = get(&server, &format!("{v2}/web")).await;
    assert_eq!(again["spec"]["metrics"], json!([memory_metric(), cpu_metric(60)]));
    assert_eq!(annotations(&again), Value::Null, "no round-trip annotation is stored");

    // A v1 client that drops the annotation drops the memory metric, as with kube-apiserver.
    let mut plain = as_v1.clone();
    plain["metadata"].as_object_mut().unwrap().shift_remove("annotations");
    plain["metadata"].as_object_mut().unwrap().shift_remove("resourceVersion");
    plain["spec"]["targetCPUUtilizationPercentage"] = json!(75);
    send(server.http.put(format!("{v1}/web")).json(&plain), 200).await;
    let last = get(&server, &format!("{v2}/web")).await;
    assert_eq!(last["spec"]["metrics"], json!([cpu_metric(75)]));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_through_both_versions() {
    let server = TestServer::embedded().await;
    let (v1, v2) = (v1_url(&server), v2_url(&server));
    send(server.http.post(&v1).json(&v1_hpa("web", 50)), 201).await;
    let mut object = get(&server, &format!("{v2}/web")).await;

    // v2 /status: only the status moves, the generation stays.
    object["spec"]["maxReplicas"] = json!(99);
    object["status"] = json!({"currentReplicas": 3, "desiredReplicas": 4, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": 40, "averageValue": "120m"}}}],
        "conditions": [{"type": "AbleToScale", "status": "True",
            "lastTransitionTime": "2024-01-01T00:00:00Z", "reason": "ReadyForNewScale"}]});
    let written = send(server.http.put(format!("{v2}/web/status")).json(&object), 200).await;
    assert_eq!(written["spec"]["maxReplicas"], 6);
    assert_eq!(written["status"]["currentReplicas"], 3);
    assert_eq!(written["metadata"]["generation"], 1);

    // The main resource ignores status changes.
    let mut main = written.clone();
    main["status"]["currentReplicas"] = json!(9);
    let kept = send(server.http.put(format!("{v2}/web")).json(&main), 200).await;
    assert_eq!(kept["status"]["currentReplicas"], 3);

    // v1 shows it as the cpu percentage, with the full status in annotations.
    let as_v1 = get(&server, &format!("{v1}/web/status")).await;
    assert_eq!(as_v1["status"]["currentCPUUtilizationPercentage"], 40);
    assert_eq!(as_v1["status"]["currentReplicas"], 3);
    assert_eq!(as_v1["status"]["desiredReplicas"], 4);
    assert!(as_v1["metadata"]["annotations"][CURRENT_METRICS].is_string());
    assert!(
        as_v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/conditions"].is_string()
    );

    // v1 /status from a client that knows only v1 fields.
    let mut status = as_v1.clone();
    status["metadata"].as_object_mut().unwrap().shift_remove("annotations");
    status["status"] = json!({"currentReplicas": 5, "desiredReplicas": 5,
        "currentCPUUtilizationPercentage": 90});
    status["spec"]["minReplicas"] = json!(4);
    send(server.http.put(format!("{v1}/web/status")).json(&status), 200).await;
    let after = get(&server, &format!("{v2}/web")).await;
    assert_eq!(after["spec"]["minReplicas"], 2, "/status writes only status");
    assert_eq!(
        after["status"]["currentMetrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 90}}}])
    );
    assert_eq!(after["status"]["currentReplicas"], 5);
    assert!(after["status"].get("conditions").is_none());
    assert_eq!(after["metadata"]["generation"], 1);

    // A merge patch of v1 status.
    let patch = json!({"status": {"desiredReplicas": 6}});
    let patched = send(
        server
            .http
            .patch(format!("{v1}/web/status"))
            .header("content-type", "application/merge-patch+json")
            .body(patch.to_string()),
        200,
    )
    .await;
    assert_eq!(patched["status"]["desiredReplicas"], 6);
    assert_eq!(patched["status"]["currentCPUUtilizationPercentage"], 90);
}

/// The `(field, message)` causes of a 422.
fn causes(status: &Value) -> Vec<(String, String)> {
    assert_eq!(status["reason"], "Invalid", "{status}");
    status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["field"].as_str().unwrap().to_owned(), c["message"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(f, m)| (f.to_string(), m.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_objects_are_422_with_kubes_causes() {
    let server = TestServer::embedded().await;
    let (v1, v2) = (v1_url(&server), v2_url(&server));
    let bad_v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "bad"},
        "spec": {"scaleTargetRef": {"name": "web"}, "minReplicas": 3, "maxReplicas": 2,
                 "targetCPUUtilizationPercentage": 0}});
    let status = send(server.http.post(&v1).json(&bad_v1), 422).await;
    assert_eq!(
        status["message"],
        "HorizontalPodAutoscaler.autoscaling \"bad\" is invalid: [spec.maxReplicas: Invalid \
         value: 2: must be greater than or equal to `minReplicas`, spec.scaleTargetRef.kind: \
         Required value, spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: \
         must be greater than 0]"
    );
    assert_eq!(
        causes(&status),
        pairs(&[
            (
                "spec.maxReplicas",
                "Invalid value: 2: must be greater than or equal to `minReplicas`"
            ),
            ("spec.scaleTargetRef.kind", "Required value"),
            (
                "spec.metrics[0].resource.target.averageUtilization",
                "Invalid value: 0: must be greater than 0"
            ),
        ])
    );

    let bad_v2 = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "bad"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 0,
                 "maxReplicas": 0, "metrics": [
                    {"type": "Pods", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50}}}]}});
    let status = send(server.http.post(&v2).json(&bad_v2), 422).await;
    assert_eq!(
        causes(&status),
        pairs(&[
            ("spec.minReplicas", "Invalid value: 0: must be greater than or equal to 1"),
            ("spec.maxReplicas", "Invalid value: 0: must be greater than 0"),
            (
                "spec.metrics[0].pods",
                "Required value: must populate information for the given metric source"
            ),
            (
                "spec.metrics",
                "Forbidden: must specify at least one Object or External metric to support scaling to zero replicas"
            ),
        ])
    );
    let typo = json!({"spec": {"targetCPUUtilizationPercentage": "80"}});
    let status = send(server.http.post(&v1).json(&typo), 400).await;
    assert_eq!(status["reason"], "BadRequest");
    let list = get(&server, &v2).await;
    assert_eq!(list["items"], json!([]), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn v2_watch_sees_v1_writes_converted() {
    let server = TestServer::embedded().await;
    let (v1, v2) = (v1_url(&server), v2_url(&server));
    let list = get(&server, &v2).await;
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let response =
        server.http.get(format!("{v2}?watch=1&resourceVersion={rv}")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();

    send(server.http.post(&v1).json(&v1_hpa("web", 60)), 201).await;
    let added = next_event(&mut stream, &mut buffer).await;
    assert_eq!(added["type"], "ADDED");
    assert_eq!(added["object"]["apiVersion"], "autoscaling/v2");
    assert_eq!(added["object"]["spec"]["metrics"], json!([cpu_metric(60)]));

    let mut object = get(&server, &format!("{v1}/web")).await;
    object["spec"]["targetCPUUtilizationPercentage"] = json!(85);
    let memory = json!([{"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}}]);
    object["metadata"]["annotations"] = json!({METRICS: memory.to_string(), "team": "a"});
    send(server.http.put(format!("{v1}/web")).json(&object), 200).await;
    let modified = next_event(&mut stream, &mut buffer).await;
    assert_eq!(modified["type"], "MODIFIED");
    assert_eq!(modified["object"]["spec"]["metrics"], json!([memory_metric(), cpu_metric(85)]));
    assert_eq!(modified["object"]["metadata"]["annotations"], json!({"team": "a"}));

    // The same write, watched through v1.
    let rv = modified["object"]["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let response =
        server.http.get(format!("{v1}?watch=1&resourceVersion={rv}")).send().await.unwrap();
    let mut v1_stream = response.bytes_stream();
    let mut v1_buffer = Vec::new();
    server.http.delete(format!("{v2}/web")).send().await.unwrap();
    let deleted = next_event(&mut v1_stream, &mut v1_buffer).await;
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(deleted["object"]["apiVersion"], "autoscaling/v1");
    assert_eq!(deleted["object"]["spec"]["targetCPUUtilizationPercentage"], 85);
    assert!(deleted["object"]["metadata"]["annotations"][METRICS].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_prefers_v2() {
    let server = TestServer::embedded().await;
    let group = get(&server, &format!("{}/apis/autoscaling", server.url)).await;
    assert_eq!(
        group["versions"],
        json!([{"groupVersion": "autoscaling/v2", "version": "v2"},
               {"groupVersion": "autoscaling/v1", "version": "v1"}])
    );
    assert_eq!(group["preferredVersion"]["version"], "v2");
    for version in ["v1", "v2"] {
        let list = get(&server, &format!("{}/apis/autoscaling/{version}", server.url)).await;
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/history",
                "horizontalpodautoscalers/status"
            ]
        );
        assert_eq!(list["resources"][0]["shortNames"], json!(["hpa"]));
        assert_eq!(list["resources"][0]["categories"], json!(["all"]));
        assert_eq!(list["resources"][0]["kind"], "HorizontalPodAutoscaler");
    }
}

/// Rows of `kubectl get` output as whitespace-separated columns, header first.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_and_autoscale() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "deployment", "web", "--image=nginx"]);
    server.ok(&["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=70"]);
    let table = rows(&server.ok(&["get", "hpa"]));
    assert_eq!(table[0], ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]);
    assert_eq!(&table[1][..7], ["web", "Deployment/web", "cpu:", "<unknown>/70%", "2", "5", "0"]);
    // kubectl's short-name expansion keeps only the group of `hpa.v1.autoscaling` (it reads the
    // preferred v2); the full name reads v1.
    for resource in [
        "hpa.v1.autoscaling",
        "hpa.v2.autoscaling",
        "horizontalpodautoscalers.v1.autoscaling",
        "horizontalpodautoscalers.v2.autoscaling",
    ] {
        let again = rows(&server.ok(&["get", resource]));
        assert_eq!(again[1][..7], table[1][..7], "{resource}");
    }

    let v1: Value = serde_json::from_str(&server.ok(&[
        "get",
        "horizontalpodautoscalers.v1.autoscaling",
        "web",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
    assert_eq!(v1["spec"]["minReplicas"], 2);
    assert_eq!(v1["spec"]["scaleTargetRef"]["kind"], "Deployment");
    let v2: Value =
        serde_json::from_str(&server.ok(&["get", "hpa.v2.autoscaling", "web", "-o", "json"]))
            .unwrap();
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(70)]));
    assert_eq!(v2["spec"]["maxReplicas"], 5);

    // `get all` lists it (category `all`).
    let all = server.ok(&["get", "all"]);
    assert!(all.contains("horizontalpodautoscaler.autoscaling/web"), "{all}");

    // More metrics than fit: the first two, then a count.
    let mut more = v2.clone();
    more["spec"]["metrics"] = json!([cpu_metric(70), memory_metric(),
        {"type": "Pods", "pods": {"metric": {"name": "rps"},
            "target": {"type": "AverageValue", "averageValue": "10"}}}]);
    let url = format!("{}/web", v2_url(&server));
    send(server.http.put(url).json(&more), 200).await;
    let out = server.ok(&["get", "hpa", "web"]);
    assert!(out.contains("cpu: <unknown>/70%, memory: <unknown>/500Mi + 1 more..."), "{out}");
    server.ok(&["delete", "hpa", "web"]);
    assert!(server.ok(&["get", "hpa"]).is_empty());
}
