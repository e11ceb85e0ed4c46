//! Server-side apply with the real kubectl (v1.32) against the real binary: two managers
//! sharing a ConfigMap, a conflict and `--force-conflicts`, a field one manager drops from its
//! configuration, a Deployment's containers merged by name and a Service's ports by
//! port+protocol across two managers, kubectl's client-side → server-side migration without
//! conflicts, `kubectl diff --server-side` and `kubectl get --show-managed-fields`.

mod support;

use serde_json::Value;
use support::server::{KUBECTL, TestServer};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `kubectl apply --server-side` of `manifest` as `manager` (with `extra` flags): its output,
/// or its standard error when it failed.
fn ssa(
    server: &TestServer,
    manager: &str,
    manifest: &str,
    extra: &[&str],
) -> Result<String, String> {
    let manager = format!("--field-manager={manager}");
    let mut args = vec!["apply", "--server-side", &manager, "-f", "-"];
    args.extend_from_slice(extra);
    let out = server.kubectl_with(KUBECTL, &args, Some(manifest));
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

fn get(server: &TestServer, what: &str) -> Value {
    json(&server.ok(&["get", what, "-o", "json", "--show-managed-fields"]))
}

/// The managers of an object's entries, sorted.
fn managers(object: &Value) -> Vec<String> {
    let entries = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<String> =
        entries.iter().map(|e| e["manager"].as_str().unwrap_or_default().to_owned()).collect();
    names.sort();
    names
}

fn configmap(data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n{data}")
}

#[tokio::test]
async fn kubectl_server_side_apply() {
    let server = TestServer::embedded().await;

    // Two managers: alice creates, bob adds a key of his own and shares `s` (same value).
    ssa(&server, "alice", &configmap("  a: \"1\"\n  s: x\n"), &[]).expect("alice's apply");
    ssa(&server, "bob", &configmap("  b: \"1\"\n  s: x\n"), &[]).expect("bob's apply");
    let cm = get(&server, "configmap/shared");
    assert_eq!(cm["data"], serde_json::json!({"a": "1", "b": "1", "s": "x"}));
    assert_eq!(managers(&cm), ["alice", "bob"]);

    // A conflict: bob changes alice's `a`; nothing changes.
    let err = ssa(&server, "bob", &configmap("  a: \"2\"\n  b: \"1\"\n  s: x\n"), &[]).unwrap_err();
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"alice\": .data.a"),
        "{err}"
    );
    assert_eq!(get(&server, "configmap/shared")["data"]["a"], "1");
    // Forced, bob takes it over.
    ssa(&server, "bob", &configmap("  a: \"2\"\n  b: \"1\"\n  s: x\n"), &["--force-conflicts"])
        .expect("forced apply");
    assert_eq!(get(&server, "configmap/shared")["data"]["a"], "2");

    // Bob drops `b` (his alone: removed) and `s` (alice's too: kept).
    ssa(&server, "bob", &configmap("  a: \"2\"\n"), &[]).expect("bob's smaller apply");
    let cm = get(&server, "configmap/shared");
    assert_eq!(cm["data"], serde_json::json!({"a": "2", "s": "x"}));

    // --show-managed-fields prints the entries kube's way.
    let yaml = server.ok(&["get", "configmap/shared", "-o", "yaml", "--show-managed-fields"]);
    for expected in
        ["managedFields:", "manager: alice", "manager: bob", "operation: Apply", "f:data:"]
    {
        assert!(yaml.contains(expected), "{expected} missing from:\n{yaml}");
    }
    let plain = server.ok(&["get", "configmap/shared", "-o", "yaml"]);
    assert!(!plain.contains("managedFields"), "{plain}");

    // diff --server-side: exit 1 with the change shown, 0 when there is none.
    let out = server.kubectl_with(
        KUBECTL,
        &["diff", "--server-side", "--field-manager=bob", "-f", "-"],
        Some(&configmap("  a: \"3\"\n")),
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}{}", String::from_utf8_lossy(&out.stderr));
    assert!(shown.contains("+  a: \"3\""), "{shown}");
    let out = server.kubectl_with(
        KUBECTL,
        &["diff", "--server-side", "--field-manager=bob", "-f", "-"],
        Some(&configmap("  a: \"2\"\n")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(get(&server, "configmap/shared")["data"]["a"], "2", "diff wrote nothing");

    // A Deployment's containers merged by name across two managers.
    let deployment = |containers: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    \
             matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    \
             spec:\n      containers:\n{containers}"
        )
    };
    ssa(&server, "platform", &deployment("      - {name: app, image: nginx}\n"), &[])
        .expect("the app's apply");
    let sidecar = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    \
                   spec:\n      containers:\n      - {name: proxy, image: envoy}\n";
    ssa(&server, "mesh", sidecar, &[]).expect("the sidecar's apply");
    let web = get(&server, "deployment/web");
    let names: Vec<&str> = web["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "proxy"]);
    assert_eq!(web["spec"]["template"]["spec"]["containers"][0]["image"], "nginx");

    // A Service's ports merged by port and protocol.
    let service = |ports: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: dns\nspec:\n  selector: {{app: dns}}\n  \
             ports:\n{ports}"
        )
    };
    ssa(&server, "tcp", &service("  - {name: tcp, port: 53, protocol: TCP}\n"), &[])
        .expect("the TCP port's apply");
    ssa(&server, "udp", &service("  - {name: udp, port: 53, protocol: UDP}\n"), &[])
        .expect("the UDP port's apply");
    let dns = get(&server, "service/dns");
    let ports: Vec<(i64, &str)> = dns["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["port"].as_i64().unwrap(), p["protocol"].as_str().unwrap()))
        .collect();
    assert_eq!(ports, [(53, "TCP"), (53, "UDP")]);
}

/// An object last written by client-side `kubectl apply` (with its last-applied annotation),
/// then applied server-side by kubectl: no conflicts, the change lands, and kubectl's
/// server-side entry takes the fields over.
#[tokio::test]
async fn client_side_to_server_side_migration() {
    let server = TestServer::embedded().await;
    let manifest = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  labels: {{tier: web}}\n\
             spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: app}}\n  template:\n    \
             metadata:\n      labels: {{app: app}}\n    spec:\n      containers:\n      \
             - {{name: app, image: nginx}}\n"
        )
    };
    server.ok_stdin(&["apply", "-f", "-"], &manifest(1));
    let before = get(&server, "deployment/app");
    assert_eq!(managers(&before), ["kubectl-client-side-apply"]);
    let annotations = &before["metadata"]["annotations"];
    assert!(annotations["kubectl.kubernetes.io/last-applied-configuration"].is_string());

    server.ok_stdin(&["apply", "--server-side", "-f", "-"], &manifest(3));
    let after = get(&server, "deployment/app");
    assert_eq!(after["spec"]["replicas"], 3);
    assert!(managers(&after).contains(&"kubectl".to_owned()), "{:?}", managers(&after));
    // Client-side apply still works afterwards, from the kept annotation.
    server.ok_stdin(&["apply", "-f", "-"], &manifest(2));
    assert_eq!(get(&server, "deployment/app")["spec"]["replicas"], 2);
}
