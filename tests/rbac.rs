//! `rbac.authorization.k8s.io/v1` served to real kubectl: the typed `create role`,
//! `create clusterrole` (with an aggregation rule), `create rolebinding` and
//! `create clusterrolebinding` commands (protobuf bodies), kube's defaulting and validation, the
//! columns `kubectl get` shows, and discovery.

mod support;

use serde_json::{Value, json};
use support::server::TestServer;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_creates_and_shows_roles_and_bindings() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "ns", "team"]);
    server.ok(&[
        "create",
        "role",
        "pod-reader",
        "--verb=get,list,watch",
        "--resource=pods,deployments.apps",
        "-n",
        "team",
    ]);
    server.ok(&[
        "create",
        "role",
        "one-cm",
        "--verb=get",
        "--resource=configmaps",
        "--resource-name=cfg",
        "-n",
        "team",
    ]);
    server.ok(&[
        "create",
        "clusterrole",
        "metrics-reader",
        "--verb=get",
        "--non-resource-url=/metrics",
    ]);
    server.ok(&["create", "clusterrole", "monitoring", "--aggregation-rule=team=monitoring"]);
    server.ok(&[
        "create",
        "rolebinding",
        "readers",
        "--role=pod-reader",
        "--user=alice",
        "--user=bob",
        "--group=devs",
        "--serviceaccount=team:ci",
        "-n",
        "team",
    ]);
    server.ok(&[
        "create",
        "clusterrolebinding",
        "scrapers",
        "--clusterrole=metrics-reader",
        "--group=system:monitoring",
    ]);

    let role = json(&server.ok(&["get", "role", "pod-reader", "-n", "team", "-o", "json"]));
    assert_eq!(role["apiVersion"], "rbac.authorization.k8s.io/v1");
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]},
        ])
    );
    let one = json(&server.ok(&["get", "role", "one-cm", "-n", "team", "-o", "json"]));
    assert_eq!(one["rules"][0]["resourceNames"], json!(["cfg"]));
    let aggregated = json(&server.ok(&["get", "clusterrole", "monitoring", "-o", "json"]));
    assert_eq!(
        aggregated["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"team": "monitoring"}}]})
    );
    assert_eq!(aggregated["rules"], Value::Null, "rules is not omitempty");

    // Defaulted API groups: the RBAC group for users and groups, none for service accounts.
    let binding = json(&server.ok(&["get", "rolebinding", "readers", "-n", "team", "-o", "json"]));
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"})
    );
    assert_eq!(binding["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(
        binding["subjects"][3],
        json!({"kind": "ServiceAccount", "name": "ci", "namespace": "team"})
    );

    // Columns: roles have kube's generic NAME / CREATED AT, bindings ROLE and AGE, and with
    // -o wide their subjects.
    let table = rows(&server.ok(&["get", "clusterrole", "metrics-reader"]));
    assert_eq!(table[0], ["NAME", "CREATED", "AT"]);
    assert!(table[1][1].ends_with('Z') && table[1][1].contains('T'), "a timestamp: {table:?}");
    let table = rows(&server.ok(&["get", "rolebindings", "-n", "team", "-o", "wide"]));
    assert_eq!(table[0], ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]);
    assert_eq!(table[1][..2], ["readers", "Role/pod-reader"]);
    assert_eq!(table[1][3..], ["alice,", "bob", "devs", "team/ci"]);
    let table = rows(&server.ok(&["get", "clusterrolebinding", "scrapers"]));
    assert_eq!(table[0], ["NAME", "ROLE", "AGE"]);
    assert_eq!(table[1][1], "ClusterRole/metrics-reader");

    // Discovery, as kube serves the group: no short names, namespaced or not.
    let resources = rows(&server.ok(&["api-resources", "--api-group=rbac.authorization.k8s.io"]));
    let names: Vec<Vec<String>> = resources[1..].to_vec();
    assert_eq!(
        names,
        [
            ["clusterrolebindings", "rbac.authorization.k8s.io/v1", "false", "ClusterRoleBinding"],
            ["clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"],
            ["rolebindings", "rbac.authorization.k8s.io/v1", "true", "RoleBinding"],
            ["roles", "rbac.authorization.k8s.io/v1", "true", "Role"],
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_rbac_objects_are_refused_as_kube_refuses_them() {
    let server = TestServer::embedded().await;
    // A namespaced role cannot cover non-resource URLs; a rule needs verbs.
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "-f", "-"],
        Some(
            r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "bad", "namespace": "default"},
                "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
                          {"apiGroups": [""], "resources": ["pods"]}]}"#,
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules \
             cannot apply to non-resource URLs"
        ) && stderr
            .contains("rules[1].verbs: Required value: verbs must contain at least one value"),
        "{stderr}"
    );
    // A ClusterRoleBinding may only refer to a ClusterRole, and needs service accounts'
    // namespaces.
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "-f", "-"],
        Some(
            r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "bad"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa"}]}"#,
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\""
        ) && stderr.contains("subjects[0].namespace: Required value"),
        "{stderr}"
    );
    // The role a binding refers to cannot change.
    server.ok(&["create", "rolebinding", "rb", "--clusterrole=view", "--user=alice"]);
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "-f", "-"],
        Some(
            r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "rb", "namespace": "default"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                "subjects": [{"kind": "User", "name": "alice"}]}"#,
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", \
             Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"
        ),
        "{stderr}"
    );
    // Subjects may change.
    server.ok(&["set", "subject", "rolebinding", "rb", "--user=bob"]);
    let binding = json(&server.ok(&["get", "rolebinding", "rb", "-o", "json"]));
    assert_eq!(binding["subjects"][1]["name"], "bob");
}

/// Runs kubectl as `kubeconfig`'s user until it succeeds (bounded): RBAC follows its objects'
/// views, so a grant takes effect moments after it is acknowledged.
async fn until_ok(server: &TestServer, kubeconfig: &std::path::Path, args: &[&str]) {
    let mut last = String::new();
    for _ in 0..50 {
        let out = server.kubectl_as(kubeconfig, args);
        if out.status.success() {
            return;
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("kubectl {args:?} never succeeded: {last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rbac_writes_that_would_escalate_are_403_and_store_nothing() {
    let server = TestServer::embedded().await;
    let alice = server.kubeconfig_with_token("alice", Some(support::server::ALICE_TOKEN));
    // alice may write roles and bindings in default, and read configmaps: not `escalate` or
    // `bind`.
    server.ok(&[
        "create",
        "role",
        "rbac-manager",
        "--verb=create,get,list",
        "--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,configmaps",
    ]);
    server.ok(&["create", "rolebinding", "alice-rbac", "--role=rbac-manager", "--user=alice"]);
    until_ok(
        &server,
        &alice,
        &["create", "role", "cm-reader", "--verb=get", "--resource=configmaps"],
    )
    .await;

    let held_by_alice = "user \"alice\" (groups=[\"dev\" \"system:authenticated\"]) is attempting \
                         to grant RBAC permissions not currently held:";
    // A Role granting what alice does not hold.
    let out =
        server.kubectl_as(&alice, &["create", "role", "peek", "--verb=get", "--resource=secrets"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "roles.rbac.authorization.k8s.io \"peek\" is forbidden: {held_by_alice}\n\
             {{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}}"
        )),
        "{stderr}"
    );
    // A RoleBinding to a role that grants more than alice holds.
    let out = server.kubectl_as(
        &alice,
        &["create", "rolebinding", "bob-admin", "--clusterrole=admin", "--user=bob"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "rolebindings.rbac.authorization.k8s.io \"bob-admin\" is forbidden: {held_by_alice}"
        )),
        "{stderr}"
    );
    for (kind, name) in [("role", "peek"), ("rolebinding", "bob-admin")] {
        let missing = server.fails(&["get", kind, name]);
        assert!(missing.contains("not found"), "{kind} {name} was stored: {missing}");
    }
    // What alice holds she may grant and bind.
    server.ok(&["get", "role", "cm-reader"]);
    let out = server
        .kubectl_as(&alice, &["create", "rolebinding", "bob-cm", "--role=cm-reader", "--user=bob"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // `bind` on the ClusterRole and `escalate` on roles lift the checks, as in kube.
    server.ok(&[
        "create",
        "role",
        "binder",
        "--verb=bind",
        "--resource=clusterroles.rbac.authorization.k8s.io",
        "--resource-name=admin",
    ]);
    server.ok(&[
        "create",
        "role",
        "escalator",
        "--verb=escalate",
        "--resource=roles.rbac.authorization.k8s.io",
    ]);
    server.ok(&["create", "rolebinding", "alice-binder", "--role=binder", "--user=alice"]);
    server.ok(&["create", "rolebinding", "alice-escalator", "--role=escalator", "--user=alice"]);
    until_ok(
        &server,
        &alice,
        &["create", "rolebinding", "bob-admin", "--clusterrole=admin", "--user=bob"],
    )
    .await;
    until_ok(&server, &alice, &["create", "role", "peek", "--verb=get", "--resource=secrets"])
        .await;
}
