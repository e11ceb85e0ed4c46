//! The aggregation layer through the real binary and kubectl: `kubectl get apiservices` lists
//! one local APIService per served group/version (kube-apiserver 1.33's list plus
//! kube-ledger's own group), each `Local` and available; a CRD's group gets one while it is
//! served; a bad APIService is refused with kube's validation messages.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::server::TestServer;

/// `kubectl get apiservices` of kube-apiserver 1.33 with its default `--runtime-config` (the
/// group/versions it serves), each `Local` and `True`.
const KUBE_1_33: &[&str] = &[
    "v1.",
    "v1.admissionregistration.k8s.io",
    "v1.apiextensions.k8s.io",
    "v1.apiregistration.k8s.io",
    "v1.apps",
    "v1.authentication.k8s.io",
    "v1.authorization.k8s.io",
    "v1.autoscaling",
    "v1.batch",
    "v1.certificates.k8s.io",
    "v1.coordination.k8s.io",
    "v1.discovery.k8s.io",
    "v1.events.k8s.io",
    "v1.flowcontrol.apiserver.k8s.io",
    "v1.networking.k8s.io",
    "v1.node.k8s.io",
    "v1.policy",
    "v1.rbac.authorization.k8s.io",
    "v1.scheduling.k8s.io",
    "v1.storage.k8s.io",
    "v2.autoscaling",
];

/// `(name, service, available)` of each row of `kubectl get apiservices`.
fn rows(server: &TestServer) -> Vec<(String, String, String)> {
    let text = server.ok(&["get", "apiservices", "--no-headers"]);
    text.lines()
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells[0].to_owned(), cells[1].to_owned(), cells[2].to_owned())
        })
        .collect()
}

fn names(server: &TestServer) -> Vec<String> {
    rows(server).into_iter().map(|(name, _, _)| name).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn local_api_services_match_kube_apiserver_and_follow_crds() {
    let server = TestServer::embedded().await;
    let rows = rows(&server);
    let mut expected: Vec<String> = KUBE_1_33.iter().map(|s| (*s).to_owned()).collect();
    expected.push("v1.ledger.kube-ledger.io".to_owned());
    expected.sort();
    let listed: Vec<String> = rows.iter().map(|(name, _, _)| name.clone()).collect();
    assert_eq!(listed, expected);
    for (name, service, available) in &rows {
        assert_eq!((service.as_str(), available.as_str()), ("Local", "True"), "{name}");
    }
    let apps: Value =
        serde_json::from_str(&server.ok(&["get", "apiservice", "v1.apps", "-o", "json"])).unwrap();
    assert_eq!(apps["spec"]["groupPriorityMinimum"], 17800);
    assert_eq!(apps["spec"]["versionPriority"], 15);
    assert!(apps["spec"].get("service").is_none_or(Value::is_null), "{apps}");
    let condition = &apps["status"]["conditions"][0];
    assert_eq!(condition["type"], "Available");
    assert_eq!(condition["reason"], "Local");

    // A CRD's group gets a local APIService while it is served, and loses it after.
    server.ok_stdin(
        &["apply", "-f", "-"],
        r#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
              "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
              "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object"}}}]}}"#,
    );
    let mut seen = false;
    for _ in 0..100 {
        if names(&server).contains(&"v1.example.com".to_owned()) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen, "v1.example.com never registered: {:?}", names(&server));
    let crd: Value =
        serde_json::from_str(&server.ok(&["get", "apiservice", "v1.example.com", "-o", "json"]))
            .unwrap();
    assert_eq!(crd["spec"]["groupPriorityMinimum"], 1000);
    assert_eq!(crd["spec"]["versionPriority"], 100);
    assert_eq!(crd["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"], "true");
    server.ok(&["delete", "crd", "widgets.example.com"]);
    let mut gone = false;
    for _ in 0..100 {
        if !names(&server).contains(&"v1.example.com".to_owned()) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(gone, "v1.example.com stayed after its CRD was deleted");

    // A local APIService deleted by hand is put back.
    server.ok(&["delete", "apiservice", "v1.batch"]);
    let mut back = false;
    for _ in 0..100 {
        if names(&server).contains(&"v1.batch".to_owned()) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "v1.batch was not put back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_api_service_is_refused_with_kubes_messages() {
    let server = TestServer::embedded().await;
    let out = server.kubectl_with(
        "/usr/bin/kubectl",
        &["create", "-f", "-"],
        Some(
            r#"{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": "v1alpha1.wardle.example.com"},
                "spec": {"group": "wardle.example.com", "version": "v1beta1",
                  "groupPriorityMinimum": 1000, "versionPriority": 15,
                  "service": {"namespace": "wardle", "name": "api", "port": 0}}}"#,
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "metadata.name: Invalid value: \"v1alpha1.wardle.example.com\": must be \
             `spec.version+\".\"+spec.group`: \"v1beta1.wardle.example.com\""
        ),
        "{stderr}"
    );
    assert!(stderr.contains("spec.service.port: Invalid value: 0: port is not valid"), "{stderr}");
    // A valid remote one is stored with the default port and no status yet.
    server.ok_stdin(
        &["create", "-f", "-"],
        r#"{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": "v1alpha1.wardle.example.com"},
            "spec": {"group": "wardle.example.com", "version": "v1alpha1",
              "groupPriorityMinimum": 1000, "versionPriority": 15, "insecureSkipTLSVerify": true,
              "service": {"namespace": "wardle", "name": "api"}}}"#,
    );
    let row = rows(&server).into_iter().find(|(name, _, _)| name == "v1alpha1.wardle.example.com");
    assert_eq!(
        row,
        Some(("v1alpha1.wardle.example.com".into(), "wardle/api".into(), "Unknown".into()))
    );
}
