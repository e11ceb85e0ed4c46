//! Admission webhooks on the real binary, as their users meet them: kubectl writing through a
//! mutating webhook (its label in `kubectl get -o yaml`, its warning printed as `Warning: …`), a
//! validating webhook's denial printed in kube's words with exit code 1, `kubectl apply
//! --dry-run=server` through webhooks without side effects; and the audit annotations the
//! webhooks leave on each request's audit event (`--audit-policy-file`, `--audit-log-path`),
//! with kube-apiserver's keys and values, by audit level.
//!
//! The webhook server is the test's own (`support::webhook`, HTTPS on 127.0.0.1).

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use support::server::{KUBECTL, TestServer};
use support::webhook::WebhookServer;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A webhook configuration of `kind` as a manifest for `kubectl apply -f -`.
fn configuration(kind: &str, name: &str, webhooks: Vec<Value>) -> String {
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
           "metadata": {"name": name}, "webhooks": webhooks})
    .to_string()
}

fn configmap(name: &str, namespace: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": namespace, "labels": labels},
           "data": {"k": "v"}})
}

/// Waits (bounded) until the server's webhook plugins see the configurations just written
/// (they read them from their views, as kube's from informers): a dry-run create of an
/// unlabelled ConfigMap comes back labelled by the mutating webhook, and one labelled
/// `deny=yes` is refused by the validating one.
async fn until_webhooks_apply(server: &TestServer) {
    let url = format!("{}/api/v1/namespaces/default/configmaps?dryRun=All", server.url);
    for _ in 0..100 {
        let labelled = server.http.post(&url).json(&configmap("probe", "default", json!({})));
        let labelled: Value = labelled.send().await.unwrap().json().await.unwrap();
        let denied =
            server.http.post(&url).json(&configmap("probe", "default", json!({"deny": "yes"})));
        let denied = denied.send().await.unwrap().status();
        if labelled.pointer("/metadata/labels/admitted-by").is_some() && denied == 403 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the webhook configurations never took effect");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_meets_labels_denials_warnings_and_server_dry_runs_of_webhooks() {
    let server = TestServer::embedded().await;
    let hooks = WebhookServer::start().await;
    let label = hooks.hook("label.example.com", "/label");
    let mut deny = hooks.hook("deny.example.com", "/deny");
    deny["objectSelector"] = json!({"matchLabels": {"deny": "yes"}});
    let mutating = configuration("MutatingWebhookConfiguration", "labels", vec![label]);
    server.ok_stdin(&["apply", "-f", "-"], &mutating);
    let validating = configuration("ValidatingWebhookConfiguration", "deny", vec![deny]);
    server.ok_stdin(&["apply", "-f", "-"], &validating);
    until_webhooks_apply(&server).await;

    // Through the mutating webhook: the label is stored, the warning printed.
    let manifest = configmap("applied", "default", json!({})).to_string();
    let out = server.kubectl_with(KUBECTL, &["apply", "-f", "-"], Some(&manifest));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "configmap/applied created");
    assert!(
        stderr(&out).lines().any(|l| l == "Warning: labelled by the test webhook"),
        "{}",
        stderr(&out)
    );
    let yaml = server.ok(&["get", "configmap", "applied", "-o", "yaml"]);
    assert!(yaml.contains("\n    admitted-by: webhook\n"), "{yaml}");

    // The validating webhook's denial, in kube's words, exit code 1, nothing stored.
    let manifest = configmap("refused", "default", json!({"deny": "yes"})).to_string();
    let out = server.kubectl_with(KUBECTL, &["apply", "-f", "-"], Some(&manifest));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "Error from server (Forbidden): error when creating \"STDIN\": admission webhook \
             \"deny.example.com\" denied the request: the test webhook refuses objects labelled \
             deny=yes"
        ),
        "{}",
        stderr(&out)
    );
    let missing = server.fails(&["get", "configmap", "refused"]);
    assert!(missing.contains("configmaps \"refused\" not found"), "{missing}");
    let out = server.kubectl(&["create", "configmap", "refused-too", "--from-literal=k=v"]);
    assert!(out.status.success(), "not labelled deny=yes: {}", stderr(&out));
    let out = server.kubectl(&["label", "configmap", "refused-too", "deny=yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "admission webhook \"deny.example.com\" denied the request: the test webhook refuses"
        ),
        "{}",
        stderr(&out)
    );

    // A server-side dry run reaches the webhooks (sideEffects None), told it is one; the
    // answer shows the label, nothing is stored.
    let before = hooks.reviews_to("/label").len();
    let manifest = configmap("dry", "default", json!({})).to_string();
    let out = server.kubectl_with(
        KUBECTL,
        &["apply", "--dry-run=server", "-o", "yaml", "-f", "-"],
        Some(&manifest),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("admitted-by: webhook"), "{}", stdout(&out));
    assert!(stderr(&out).contains("Warning: labelled by the test webhook"), "{}", stderr(&out));
    let reviews = hooks.reviews_to("/label");
    assert_eq!(reviews.len(), before + 1);
    let review = &reviews[before]["request"];
    assert_eq!(review["dryRun"], true, "{review}");
    assert_eq!(review["name"], "dry", "{review}");
    let missing = server.fails(&["get", "configmap", "dry"]);
    assert!(missing.contains("configmaps \"dry\" not found"), "{missing}");
    // A dry run the validating webhook refuses is refused all the same.
    let manifest = configmap("dry-refused", "default", json!({"deny": "yes"})).to_string();
    let out =
        server.kubectl_with(KUBECTL, &["apply", "--dry-run=server", "-f", "-"], Some(&manifest));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("denied the request"), "{}", stderr(&out));
}

const POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  resources: [{group: "", resources: [configmaps]}]
  namespaces: [meta]
- level: Request
  resources: [{group: "", resources: [configmaps]}]
- level: None
"#;

/// The audit log's events, read until the event of each of `ids` is there (bounded).
async fn events_of(log: &Path, ids: &[&str]) -> Vec<Value> {
    for _ in 0..200 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        if ids.iter().all(|id| events.iter().any(|e| e["auditID"] == *id)) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the audit log never had the events of {ids:?}");
}

/// The annotations of the event `id`, but the authorizer's.
fn annotations(events: &[Value], id: &str) -> serde_json::Map<String, Value> {
    let event = events.iter().find(|e| e["auditID"] == id).unwrap();
    assert_eq!(event["stage"], "ResponseComplete", "{event}");
    let annotations = event["annotations"].as_object();
    let annotations = annotations.unwrap_or_else(|| panic!("no annotations: {event}"));
    annotations
        .iter()
        .filter(|(k, _)| !k.starts_with("authorization.k8s.io/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_audit_annotations_reach_the_audit_log_as_kube_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let log = dir.path().join("audit.log");
    let server = TestServer::embedded_with(&[
        "--audit-policy-file",
        policy.to_str().unwrap(),
        "--audit-log-path",
        log.to_str().unwrap(),
    ])
    .await;
    let hooks = WebhookServer::start().await;
    // Mutating: `labels` (patches), then `noop` (answers without a patch): indices 0 and 1.
    let label = hooks.hook("label.example.com", "/label");
    let noop = hooks.hook("noop.example.com", "/allow");
    // `noop` is written first: once `labels` takes effect, the view holding both has it too.
    let mutating = configuration("MutatingWebhookConfiguration", "noop", vec![noop]);
    server.ok_stdin(&["apply", "-f", "-"], &mutating);
    let mutating = configuration("MutatingWebhookConfiguration", "labels", vec![label]);
    server.ok_stdin(&["apply", "-f", "-"], &mutating);
    // Validating: `deny` for objects labelled deny=yes, then one that is down under Ignore for
    // every ConfigMap: for an unlabelled object it is the first (index 0) that matched.
    let mut deny = hooks.hook("deny.example.com", "/deny");
    deny["objectSelector"] = json!({"matchLabels": {"deny": "yes"}});
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut down = hooks.hook("down.example.com", "/");
    down["clientConfig"]["url"] = json!(format!("https://127.0.0.1:{closed}/down"));
    down["failurePolicy"] = json!("Ignore");
    let validating = configuration("ValidatingWebhookConfiguration", "checks", vec![deny, down]);
    server.ok_stdin(&["apply", "-f", "-"], &validating);
    server.ok(&["create", "namespace", "meta"]);
    until_webhooks_apply(&server).await;

    let create = |id: &'static str, namespace: &str, labels: Value| {
        let url = format!("{}/api/v1/namespaces/{namespace}/configmaps", server.url);
        let body = configmap(id, namespace, labels);
        server.http.post(url).header("Audit-ID", id).json(&body).send()
    };
    assert_eq!(create("at-request", "default", json!(null)).await.unwrap().status(), 201);
    assert_eq!(create("at-metadata", "meta", json!(null)).await.unwrap().status(), 201);
    assert_eq!(create("denied", "default", json!({"deny": "yes"})).await.unwrap().status(), 403);
    let events = events_of(&log, &["at-request", "at-metadata", "denied"]).await;

    let mutated = r#"{"configuration":"labels","webhook":"label.example.com","mutated":true}"#;
    let untouched = r#"{"configuration":"noop","webhook":"noop.example.com","mutated":false}"#;
    let patch = r#"{"configuration":"labels","webhook":"label.example.com","patch":[{"op":"add","path":"/metadata/labels","value":{"admitted-by":"webhook"}}],"patchType":"JSONPatch"}"#;
    let at_request = annotations(&events, "at-request");
    let wanted = json!({
        "failed-open.validating.webhook.admission.k8s.io/round_0_index_0": "down.example.com",
        "label.example.com/decided": "labelled",
        "mutation.webhook.admission.k8s.io/round_0_index_0": mutated,
        "mutation.webhook.admission.k8s.io/round_0_index_1": untouched,
        "patch.webhook.admission.k8s.io/round_0_index_0": patch,
    });
    assert_eq!(Value::Object(at_request), wanted, "at Request");

    // At Metadata, the patch (request content) is left out.
    let at_metadata = annotations(&events, "at-metadata");
    let mut wanted = wanted.as_object().unwrap().clone();
    wanted.shift_remove("patch.webhook.admission.k8s.io/round_0_index_0");
    assert_eq!(at_metadata, wanted, "at Metadata");

    // A refused write keeps what the webhooks said, the refusing one's annotation included.
    let denied = annotations(&events, "denied");
    assert_eq!(denied["deny.example.com/reason"], "deny-label", "{denied:?}");
    assert_eq!(denied["mutation.webhook.admission.k8s.io/round_0_index_0"], mutated);
    assert_eq!(
        denied["failed-open.validating.webhook.admission.k8s.io/round_0_index_1"],
        "down.example.com",
        "both validating webhooks matched: the one that is down is the second: {denied:?}"
    );
}
