//! PodSecurity (Pod Security Admission): through the router in-process — kube's 403 for a pod
//! its namespace's enforce level forbids, `Warning` headers for warn, a pod template warned
//! about and never refused, namespace labels validated and a tightened enforce level's dry run —
//! and with the real binary and kubectl: `--admission-control-config-file` defaults and
//! exemptions, kubectl's `Warning:` lines, and the audit log's annotations.

mod support;

use std::path::Path;
use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};
use support::router::{Api, api, assert_status};
use support::server::TestServer;

/// Sends a JSON request; the status code, the body and the `Warning` headers.
async fn send(api: &Api, method: Method, uri: &str, body: Value) -> (u16, Value, Vec<String>) {
    let content_type = if method == Method::PATCH {
        "application/strategic-merge-patch+json"
    } else {
        "application/json"
    };
    let answer = support::router::send(&api.router, method, uri, content_type, Some(body)).await;
    (answer.status.as_u16(), answer.body, answer.warnings)
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn pod(name: &str, security_context: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": security_context}]}})
}

fn compliant(name: &str) -> Value {
    let mut p =
        pod(name, json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}));
    p["spec"]["securityContext"] =
        json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
    p
}

const PRIVILEGED_RESTRICTED: &str = r#"pods "p" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#;

#[tokio::test]
async fn enforce_refuses_pods_with_kube_s_status_and_admits_compliant_ones() {
    let api = api().await;
    let labels = json!({"pod-security.kubernetes.io/enforce": "restricted"});
    let (code, _, _) =
        send(&api, Method::POST, "/api/v1/namespaces", namespace("secure", labels)).await;
    assert_eq!(code, 201);
    let pods = "/api/v1/namespaces/secure/pods";
    let (code, status, warnings) =
        send(&api, Method::POST, pods, pod("p", json!({"privileged": true}))).await;
    assert_status(&(code.try_into().unwrap(), status.clone()), 403, "Forbidden");
    assert_eq!(status["message"], PRIVILEGED_RESTRICTED);
    assert_eq!(status["details"], json!({"name": "p", "kind": "pods"}));
    assert!(warnings.is_empty(), "{warnings:?}");
    let (code, _) = api.get("/api/v1/namespaces/secure/pods/p").await;
    assert_eq!(code, 404, "nothing stored");

    let (code, created, _) = send(&api, Method::POST, pods, compliant("ok")).await;
    assert_eq!(code, 201, "{created}");
}

#[tokio::test]
async fn pod_updates_are_checked_only_when_they_change_what_the_checks_see() {
    let api = api().await;
    send(&api, Method::POST, "/api/v1/namespaces", namespace("later", json!({}))).await;
    let pods = "/api/v1/namespaces/later/pods";
    let (code, body, _) =
        send(&api, Method::POST, pods, pod("p", json!({"privileged": true}))).await;
    assert_eq!(code, 201, "{body}");
    let enforce =
        json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
    let (code, _, _) = send(&api, Method::PATCH, "/api/v1/namespaces/later", enforce).await;
    assert_eq!(code, 200);
    // New labels cannot change the verdict: allowed.
    let relabel = json!({"metadata": {"labels": {"tier": "web"}}});
    let (code, body, _) = send(&api, Method::PATCH, &format!("{pods}/p"), relabel).await;
    assert_eq!(code, 200, "{body}");
    // A new image can: the pod is checked again, and refused.
    let image = json!({"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}});
    let (code, status, _) = send(&api, Method::PATCH, &format!("{pods}/p"), image).await;
    assert_eq!(code, 403, "{status}");
    assert_eq!(
        status["message"],
        r#"pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#
    );
}

#[tokio::test]
async fn warn_sends_warning_headers_and_templates_are_never_refused() {
    let api = api().await;
    let labels = json!({"pod-security.kubernetes.io/warn": "baseline",
        "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.33"});
    send(&api, Method::POST, "/api/v1/namespaces", namespace("loose", labels)).await;
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "nginx"}]}}}});
    let (code, body, warnings) =
        send(&api, Method::POST, "/apis/apps/v1/namespaces/loose/deployments", deployment).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        warnings,
        [
            r#"299 - "would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)""#
        ]
    );
}

#[tokio::test]
async fn namespace_labels_are_validated_and_tightening_warns_about_existing_pods() {
    let api = api().await;
    let bad = namespace("typo", json!({"pod-security.kubernetes.io/enforce": "restriced"}));
    let (code, status, _) = send(&api, Method::POST, "/api/v1/namespaces", bad).await;
    assert_status(&(code.try_into().unwrap(), status.clone()), 422, "Invalid");
    assert_eq!(
        status["message"],
        r#"Namespace "typo" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "restriced": must be one of privileged, baseline, restricted"#
    );

    send(&api, Method::POST, "/api/v1/namespaces", namespace("apps", json!({}))).await;
    for name in ["b", "a"] {
        let (code, body, _) = send(
            &api,
            Method::POST,
            "/api/v1/namespaces/apps/pods",
            pod(name, json!({"privileged": true})),
        )
        .await;
        assert_eq!(code, 201, "{body}");
    }
    let tighten =
        json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
    let (code, body, warnings) =
        send(&api, Method::PATCH, "/api/v1/namespaces/apps", tighten).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        warnings,
        [
            r#"299 - "existing pods in namespace \"apps\" violate the new PodSecurity enforce level \"baseline:latest\"""#,
            r#"299 - "a (and 1 other pod): privileged""#,
        ]
    );
}

// The real binary, kubectl, the configuration file and the audit log.

const POLICY: &str = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n\
- level: Metadata\n  resources: [{group: \"\", resources: [pods]}]\n- level: None\n";

const ADMISSION: &str = r#"apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      audit: restricted
      audit-version: latest
    exemptions:
      namespaces: [tools]
"#;

fn manifest(name: &str, privileged: bool) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  securityContext:\n    runAsNonRoot: true\n    \
         seccompProfile: {{type: RuntimeDefault}}\n  containers:\n  - name: c\n    image: nginx\n    securityContext:\n      \
         privileged: {privileged}\n      allowPrivilegeEscalation: false\n      capabilities: {{drop: [ALL]}}\n"
    )
}

/// The audit events, once `done` holds (bounded: a broken build fails, never hangs).
async fn audit_events(log: &Path, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut events = Vec::new();
    for _ in 0..200 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        events = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        if done(&events) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the audit log never had what was expected: {events:#?}");
}

/// The completed pod creates in `namespace`, in the log's order (creates name no object in
/// `objectRef`).
fn pod_creates<'a>(events: &'a [Value], namespace: &str) -> Vec<&'a Value> {
    let path = format!("/api/v1/namespaces/{namespace}/pods?");
    events
        .iter()
        .filter(|e| {
            e["verb"] == "create"
                && e["stage"] == "ResponseComplete"
                && e["requestURI"].as_str().is_some_and(|uri| uri.starts_with(&path))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_sees_refusals_and_warnings_and_the_audit_log_the_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, admission) = (dir.path().join("policy.yaml"), dir.path().join("admission.yaml"));
    std::fs::write(&policy, POLICY).unwrap();
    std::fs::write(&admission, ADMISSION).unwrap();
    let log = dir.path().join("audit.log");
    let server = TestServer::embedded_with(&[
        "--audit-policy-file",
        policy.to_str().unwrap(),
        "--audit-log-path",
        log.to_str().unwrap(),
        "--admission-control-config-file",
        admission.to_str().unwrap(),
    ])
    .await;

    // enforce=restricted: a privileged pod refused with kube's message, a compliant one created.
    server.ok(&["create", "namespace", "secure"]);
    server.ok(&["label", "namespace", "secure", "pod-security.kubernetes.io/enforce=restricted"]);
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["create", "-n", "secure", "-f", "-"],
        Some(&manifest("priv", true)),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)"#),
        "{stderr}"
    );
    server.ok_stdin(&["create", "-n", "secure", "-f", "-"], &manifest("good", false));

    // warn=baseline: created, and kubectl prints the warning.
    server.ok(&["create", "namespace", "loose"]);
    server.ok(&["label", "namespace", "loose", "pod-security.kubernetes.io/warn=baseline"]);
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["create", "-n", "loose", "-f", "-"],
        Some(&manifest("priv", true)),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"Warning: would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#),
        "{stderr}"
    );

    // Tightening enforce warns about the pod that would now be refused.
    let out = server.kubectl(&[
        "label",
        "namespace",
        "loose",
        "pod-security.kubernetes.io/enforce=baseline",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(r#"Warning: existing pods in namespace "loose" violate the new PodSecurity enforce level "baseline:latest""#), "{stderr}");
    assert!(stderr.contains("Warning: priv: privileged"), "{stderr}");

    // A namespace the configuration exempts: not checked, whatever its labels.
    server.ok(&["create", "namespace", "tools"]);
    let out = server.kubectl(&[
        "label",
        "namespace",
        "tools",
        "pod-security.kubernetes.io/enforce=restricted",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(r#"Warning: namespace "tools" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"#), "{stderr}");
    server.ok_stdin(&["create", "-n", "tools", "-f", "-"], &manifest("priv", true));

    // The audit log: the enforce policy, the default audit level's violations, the exemption.
    let events = audit_events(&log, |events| {
        [("secure", 2), ("loose", 1), ("tools", 1)]
            .iter()
            .all(|(ns, count)| pod_creates(events, ns).len() == *count)
    })
    .await;
    let secure = pod_creates(&events, "secure");
    let (refused, good) = (&secure[0]["annotations"], &secure[1]["annotations"]);
    assert_eq!(secure[0]["responseStatus"]["code"], 403);
    assert_eq!(refused["pod-security.kubernetes.io/enforce-policy"], "restricted:latest");
    assert_eq!(good["pod-security.kubernetes.io/enforce-policy"], "restricted:latest");
    assert!(good.get("pod-security.kubernetes.io/audit-violations").is_none(), "{good}");
    let loose = &pod_creates(&events, "loose")[0]["annotations"];
    assert_eq!(loose["pod-security.kubernetes.io/enforce-policy"], "privileged:latest");
    assert_eq!(
        loose["pod-security.kubernetes.io/audit-violations"],
        r#"would violate PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)"#
    );
    let exempt = &pod_creates(&events, "tools")[0]["annotations"];
    assert_eq!(exempt["pod-security.kubernetes.io/exempt"], "namespace");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_configuration_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let admission = dir.path().join("admission.yaml");
    std::fs::write(&admission, ADMISSION.replace("audit: restricted", "audit: strict")).unwrap();
    let binary = env!("CARGO_BIN_EXE_kube-ledger");
    let out = std::process::Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--admission-control-config-file")
        .arg(&admission)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"couldn't init admission plugin \"PodSecurity\": defaults.audit: Invalid value: \"strict\""#)
            || stderr.contains(r#"couldn't init admission plugin "PodSecurity": defaults.audit: Invalid value: "strict""#),
        "{stderr}"
    );
}
