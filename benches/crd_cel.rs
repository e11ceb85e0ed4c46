//! The cost of CEL validation rules on custom resource writes: creates of a custom resource
//! whose CRD carries 20 `x-kubernetes-validations` rules (string, list, map, number and
//! transition-free object rules, the kinds operators write) against creates of the same custom
//! resource under the same CRD without its rules, in the same run.
//!
//! Run: `cargo bench --bench crd_cel` (add `-- --seconds 3` for longer cases). The router
//! in-process over a fresh embedded store, one task, the two CRDs alternating, three rounds, the
//! best of each kept. Issue 17 asks for the ruled create at ≥ 0.7× the plain one.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Twenty rules spread over the schema's nodes.
fn rules() -> [(&'static str, &'static str); 20] {
    [
        ("", "self.metadata.name.startsWith('w-')"),
        ("", "has(self.spec)"),
        ("spec", "self.replicas <= self.maxReplicas"),
        ("spec", "self.minReplicas <= self.replicas"),
        ("spec", "self.image.contains(':')"),
        ("spec", "!self.image.endsWith(':latest')"),
        ("spec", "self.ports.all(p, p.port > 0 && p.port < 65536)"),
        ("spec", "self.ports.exists(p, p.name == 'http')"),
        ("spec", "self.ports.filter(p, p.protocol == 'UDP').size() <= 2"),
        ("spec", "self.labels.all(k, k.size() <= 63)"),
        ("spec", "size(self.labels) <= 16"),
        ("spec", "self.tier in ['frontend', 'backend', 'batch']"),
        ("spec", "self.owner.matches('^[a-z]+@example[.]com$')"),
        ("spec", "self.ports.map(p, p.port).isSorted()"),
        ("spec", "quantity(self.memory).isLessThan(quantity('64Gi'))"),
        ("spec", "isCIDR(self.network)"),
        ("spec", "cidr(self.network).containsIP(self.address)"),
        ("spec", "isURL(self.endpoint) && url(self.endpoint).getScheme() == 'https'"),
        ("spec", "self.weights.sum() == 100"),
        ("spec", "!format.dns1123Label().validate(self.tier).hasValue()"),
    ]
}

fn crd(plural: &str, with_rules: bool) -> Value {
    let mut spec = json!({"type": "object", "properties": {
        "replicas": {"type": "integer"}, "minReplicas": {"type": "integer"},
        "maxReplicas": {"type": "integer"},
        "image": {"type": "string", "maxLength": 256},
        "tier": {"type": "string", "maxLength": 63},
        "owner": {"type": "string", "maxLength": 128},
        "memory": {"type": "string", "maxLength": 32},
        "network": {"type": "string", "maxLength": 64},
        "address": {"type": "string", "maxLength": 64},
        "endpoint": {"type": "string", "maxLength": 256},
        "weights": {"type": "array", "maxItems": 16, "items": {"type": "integer"}},
        "labels": {"type": "object", "maxProperties": 32,
            "additionalProperties": {"type": "string", "maxLength": 63}},
        "ports": {"type": "array", "maxItems": 16, "items": {"type": "object", "properties": {
            "name": {"type": "string", "maxLength": 15}, "port": {"type": "integer"},
            "protocol": {"type": "string", "maxLength": 8}}}}}});
    let mut root = json!({"type": "object", "properties": {"spec": Value::Null}});
    if with_rules {
        let mut at_root = Vec::new();
        let mut at_spec = Vec::new();
        for (node, rule) in rules() {
            let entry = json!({"rule": rule});
            if node.is_empty() { at_root.push(entry) } else { at_spec.push(entry) }
        }
        root["x-kubernetes-validations"] = Value::Array(at_root);
        spec["x-kubernetes-validations"] = Value::Array(at_spec);
    }
    root["properties"]["spec"] = spec;
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.bench.example.com")},
        "spec": {"group": "bench.example.com", "scope": "Namespaced",
            "names": {"plural": plural, "kind": if with_rules { "Ruled" } else { "Plain" }},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": root}}]}})
}

fn object(kind: &str, name: &str) -> String {
    json!({"apiVersion": "bench.example.com/v1", "kind": kind, "metadata": {"name": name},
        "spec": {"replicas": 3, "minReplicas": 1, "maxReplicas": 10, "image": "registry.example.com/web:1.2.3",
            "tier": "frontend", "owner": "team@example.com", "memory": "512Mi",
            "network": "10.0.0.0/16", "address": "10.0.3.4", "endpoint": "https://api.example.com/v1",
            "weights": [50, 30, 20],
            "labels": {"app": "web", "team": "payments", "env": "prod"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "https", "port": 443, "protocol": "TCP"},
                {"name": "dns", "port": 5353, "protocol": "UDP"}]}})
    .to_string()
}

async fn post(router: &Router, uri: &str, body: String) -> u16 {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    router.clone().oneshot(request).await.unwrap().status().as_u16()
}

async fn measure(
    router: &Router,
    plural: &'static str,
    kind: &'static str,
    seconds: f64,
    next: Arc<AtomicU64>,
) -> f64 {
    let router = router.clone();
    support::rate(1, seconds, move |_, _| {
        let (router, next) = (router.clone(), next.clone());
        async move {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let uri = format!("/apis/bench.example.com/v1/namespaces/default/{plural}");
            let status = post(&router, &uri, object(kind, &format!("w-{n:07}"))).await;
            assert_eq!(status, 201, "create {kind}");
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
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    for (plural, with_rules) in [("plains", false), ("ruleds", true)] {
        assert_eq!(post(&router, crds, crd(plural, with_rules).to_string()).await, 201);
    }
    // Served once the controller has seen them.
    for (plural, kind) in [("plains", "Plain"), ("ruleds", "Ruled")] {
        let uri = format!("/apis/bench.example.com/v1/namespaces/default/{plural}");
        let mut tries = 0;
        while post(&router, &uri, object(kind, &format!("w-ready-{plural}"))).await != 201 {
            tries += 1;
            assert!(tries < 200, "{plural} never served");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let next = Arc::new(AtomicU64::new(0));
    measure(&router, "plains", "Plain", seconds / 4.0, next.clone()).await;
    measure(&router, "ruleds", "Ruled", seconds / 4.0, next.clone()).await;
    let (mut plain, mut ruled) = (0f64, 0f64);
    for _ in 0..3 {
        plain = plain.max(measure(&router, "plains", "Plain", seconds, next.clone()).await);
        ruled = ruled.max(measure(&router, "ruleds", "Ruled", seconds, next.clone()).await);
    }
    println!("custom resource create, no rules:   {plain:>8.0} /s");
    println!("custom resource create, 20 rules:   {ruled:>8.0} /s");
    println!("ratio (20 rules / none):            {:>8.2}x  (target >= 0.70x)", ruled / plain);
}
