//! `covers`, rule compaction, and the escalation checks on RBAC writes.

use serde_json::json;

use super::*;
use crate::authz::escalation::{
    EscalationError, RbacWrite, RoleKind, check_binding_write, check_role_write, compact_rules,
    covers,
};
use crate::authz::rbac::RbacAuthorizer;
use crate::authz::rule::PolicyRule;

fn r(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule::resource(verbs, groups, resources)
}

#[test]
fn covers_as_kube_compares_policies() {
    // Exact, star verb, star group, star resource.
    assert!(covers(&[r(&["get", "list"], &[""], &["pods"])], &[r(&["get"], &[""], &["pods"])]).0);
    assert!(covers(&[r(&["*"], &[""], &["pods"])], &[r(&["delete", "get"], &[""], &["pods"])]).0);
    assert!(
        covers(&[r(&["get"], &["*"], &["*"])], &[r(&["get"], &["apps"], &["deployments/scale"])]).0
    );
    // Split across several owner rules.
    assert!(
        covers(
            &[r(&["get"], &[""], &["pods"]), r(&["list"], &[""], &["pods"])],
            &[r(&["get", "list"], &[""], &["pods"])]
        )
        .0
    );
    // `*` in the servant is only covered by `*`.
    let (ok, missing) =
        covers(&[r(&["get", "list"], &[""], &["pods"])], &[r(&["*"], &[""], &["pods"])]);
    assert!(!ok);
    assert_eq!(missing, [r(&["*"], &[""], &["pods"])]);
    // What is missing, broken down to one verb, group, resource (and name) each.
    let (ok, missing) =
        covers(&[r(&["get"], &[""], &["pods"])], &[r(&["get", "list"], &["", "apps"], &["pods"])]);
    assert!(!ok);
    assert_eq!(
        missing,
        [
            r(&["list"], &[""], &["pods"]),
            r(&["get"], &["apps"], &["pods"]),
            r(&["list"], &["apps"], &["pods"])
        ]
    );
    // Names: an owner without names covers any; an owner with names covers only those, and
    // never a servant without names.
    let named = r(&["get"], &[""], &["secrets"]).names(&["a", "b"]);
    assert!(covers(&[r(&["get"], &[""], &["secrets"])], std::slice::from_ref(&named)).0);
    assert!(
        covers(std::slice::from_ref(&named), &[r(&["get"], &[""], &["secrets"]).names(&["b"])]).0
    );
    assert!(
        !covers(std::slice::from_ref(&named), &[r(&["get"], &[""], &["secrets"]).names(&["c"])]).0
    );
    assert!(!covers(&[named], &[r(&["get"], &[""], &["secrets"])]).0);
    // Subresources are distinct resources; `*/status` is a literal here, not a pattern.
    assert!(!covers(&[r(&["get"], &[""], &["pods"])], &[r(&["get"], &[""], &["pods/log"])]).0);
    assert!(
        !covers(&[r(&["get"], &[""], &["*/status"])], &[r(&["get"], &[""], &["pods/status"])]).0
    );
    // URLs: exact or by a `*` prefix; resources never cover URLs.
    let url = |urls: &[&str]| PolicyRule::urls(&["get"], urls);
    assert!(covers(&[url(&["/healthz/*"])], &[url(&["/healthz/etcd"])]).0);
    assert!(covers(&[url(&["*"])], &[url(&["/metrics", "/healthz"])]).0);
    assert!(!covers(&[url(&["/healthz"])], &[url(&["/healthz/*"])]).0);
    assert!(!covers(&[r(&["*"], &["*"], &["*"])], &[url(&["/metrics"])]).0);
    assert!(covers(&[], &[]).0);
}

#[test]
fn missing_rules_are_compacted_by_verb() {
    let compacted = compact_rules(&[
        r(&["get"], &[""], &["pods"]),
        PolicyRule::urls(&["get"], &["/x"]),
        r(&["list"], &[""], &["pods"]),
        r(&["get"], &[""], &["secrets"]).names(&["s"]),
        r(&["watch"], &[""], &["secrets"]).names(&["s"]),
        r(&["get"], &["", "apps"], &["pods"]),
    ]);
    assert_eq!(
        compacted,
        [
            PolicyRule::urls(&["get"], &["/x"]),
            r(&["get"], &["", "apps"], &["pods"]),
            r(&["get", "list"], &[""], &["pods"]),
            r(&["get", "watch"], &[""], &["secrets"]).names(&["s"]),
        ]
    );
}

/// A policy where `alice` may read pods and configmaps in `ns`, `binder` may `bind` the
/// ClusterRole `edit` in `ns`, `escalator` may `escalate` roles in `ns`.
fn policy() -> Vec<serde_json::Value> {
    vec![
        cluster_role(
            "reader",
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "configmaps"]}]),
        ),
        cluster_role("edit", json!([{"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]}])),
        cluster_role(
            "binder",
            json!([
            {"verbs": ["bind"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "resourceNames": ["edit"]},
            {"verbs": ["create"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"]}]),
        ),
        cluster_role(
            "escalator",
            json!([
            {"verbs": ["escalate", "create", "update"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"]}]),
        ),
        role_binding("ns", "alice-reads", "ClusterRole", "reader", &["User:alice", "User:binder"]),
        role_binding("ns", "binder", "ClusterRole", "binder", &["User:binder"]),
        role_binding("ns", "escalator", "ClusterRole", "escalator", &["User:escalator"]),
    ]
}

fn write<'a>(who: &'a Arc<UserInfo>, namespace: &'a str, object: &'a Value) -> RbacWrite<'a> {
    RbacWrite { user: who, namespace, request_name: "", object, old: None }
}

#[test]
fn roles_may_grant_only_what_the_writer_holds() {
    let rbac = RbacAuthorizer::new(source(&policy()));
    let alice = user("alice", &["system:authenticated"]);
    let check = |who: &Arc<UserInfo>, object: &Value| {
        check_role_write(&rbac, rbac.resolver(), RoleKind::Role, write(who, "ns", object))
    };
    let reads =
        role("ns", "r", json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]));
    assert_eq!(check(&alice, &reads), Ok(()));
    let more = role(
        "ns",
        "r",
        json!([
        {"verbs": ["get", "list", "delete", "create"], "apiGroups": [""], "resources": ["pods", "secrets"]}]),
    );
    let err = check(&alice, &more).unwrap_err();
    assert_eq!(err.code(), 403);
    assert_eq!(
        err.to_string(),
        "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"alice\" \
         (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently \
         held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\" \"create\"]}\n\
         {APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\" \"delete\" \"create\"]}"
    );
    // Not in another namespace, where alice holds nothing.
    let elsewhere =
        role("other", "r", json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]));
    assert!(
        check_role_write(
            &rbac,
            rbac.resolver(),
            RoleKind::Role,
            write(&alice, "other", &elsewhere)
        )
        .is_err()
    );
    // system:masters and `escalate` skip the check.
    assert_eq!(check(&user("root", &["system:masters"]), &more), Ok(()));
    assert_eq!(check(&user("escalator", &[]), &more), Ok(()));
}

#[test]
fn an_aggregation_rule_needs_everything() {
    let rbac = RbacAuthorizer::new(source(&[
        cluster_role(
            "admin",
            json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                                     {"verbs": ["*"], "nonResourceURLs": ["*"]}]),
        ),
        // Everything but RBAC (which would include `escalate`) and non-resource URLs.
        cluster_role(
            "most",
            json!([{"verbs": ["*"], "apiGroups": ["", "apps"], "resources": ["*"]}]),
        ),
        cluster_role_binding("admin", "admin", &["User:admin"]),
        cluster_role_binding("most", "most", &["User:most"]),
    ]));
    let aggregated = json!({"kind": "ClusterRole", "metadata": {"name": "agg"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}, "rules": null});
    let check = |who: &str, old: Option<&Value>, object: &Value| {
        let who = user(who, &[]);
        let write = RbacWrite { old, ..write(&who, "", object) };
        check_role_write(&rbac, rbac.resolver(), RoleKind::ClusterRole, write)
    };
    assert_eq!(check("admin", None, &aggregated), Ok(()));
    let err = check("most", None, &aggregated).unwrap_err();
    assert_eq!(
        err.to_string(),
        "clusterroles.rbac.authorization.k8s.io \"agg\" is forbidden: must have cluster-admin \
         privileges to use the aggregationRule"
    );
    // Removing the rule is changing it too.
    let plain = json!({"kind": "ClusterRole", "metadata": {"name": "agg"}, "rules": null});
    assert!(check("most", Some(&aggregated), &plain).is_err());
    assert_eq!(check("most", None, &plain), Ok(()));
}

#[test]
fn bindings_need_bind_or_every_permission_of_the_role() {
    let rbac = RbacAuthorizer::new(source(&policy()));
    let check = |who: &str, binding: &Value| {
        let who = user(who, &[]);
        check_binding_write(&rbac, rbac.resolver(), write(&who, "ns", binding))
    };
    let reader = role_binding("ns", "b", "ClusterRole", "reader", &["User:carol"]);
    let edit = role_binding("ns", "b", "ClusterRole", "edit", &["User:carol"]);
    assert_eq!(check("alice", &reader), Ok(()), "alice holds everything reader grants");
    let err = check("alice", &edit).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"alice\" (groups=[]) is \
         attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], \
         Resources:[\"pods\"], Verbs:[\"*\"]}"
    );
    assert_eq!(check("binder", &edit), Ok(()), "binder may bind edit");
    let missing = role_binding("ns", "b", "Role", "nope", &["User:carol"]);
    assert_eq!(
        check("alice", &missing),
        Err(EscalationError::RoleNotFound { resource: "roles".into(), name: "nope".into() })
    );
    assert_eq!(
        check("alice", &missing).unwrap_err().to_string(),
        "roles.rbac.authorization.k8s.io \"nope\" not found"
    );
    // A ClusterRoleBinding is checked cluster-wide, where alice holds nothing.
    let crb = cluster_role_binding("b", "reader", &["User:carol"]);
    let alice = user("alice", &[]);
    let err = check_binding_write(&rbac, rbac.resolver(), write(&alice, "", &crb)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("clusterrolebindings.rbac.authorization.k8s.io \"b\" is forbidden")
    );
    // Only owner references and finalizers changing: not checked.
    let mut owned = edit.clone();
    owned["metadata"]["ownerReferences"] = json!([{"uid": "1"}]);
    let update = RbacWrite { old: Some(&edit), ..write(&alice, "ns", &owned) };
    assert_eq!(check_binding_write(&rbac, rbac.resolver(), update), Ok(()));
}
