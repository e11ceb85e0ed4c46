//! The bootstrap policy, its reconciliation, and aggregation.

use serde_json::json;

use super::*;
use crate::authz::aggregate::{aggregate, aggregate_all, aggregated_rules};
use crate::authz::attributes::{Authorizer, Decision};
use crate::authz::bootstrap::{cluster_role_bindings, cluster_roles};
use crate::authz::mode::AuthorizationConfig;
use crate::authz::reconcile::{Reconciled, reconcile_binding, reconcile_role};
use crate::authz::rule::PolicyRule;
use crate::registry::builtin::{clusterrolebindings, clusterroles};

fn named<'a>(objects: &'a [Value], name: &str) -> &'a Value {
    objects.iter().find(|o| o["metadata"]["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn the_bootstrap_objects_are_valid_and_labelled_as_kube_labels_them() {
    let roles = cluster_roles();
    let bindings = cluster_role_bindings();
    for role in &roles {
        let causes = clusterroles::resource().strategy.validate(role);
        assert!(causes.is_empty(), "{}: {causes:?}", role["metadata"]["name"]);
        assert_eq!(role["metadata"]["labels"]["kubernetes.io/bootstrapping"], "rbac-defaults");
        assert_eq!(
            role["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"],
            "true"
        );
    }
    for binding in &bindings {
        assert!(clusterrolebindings::resource().strategy.validate(binding).is_empty(), "{binding}");
        let role = binding["roleRef"]["name"].as_str().unwrap();
        named(&roles, role);
    }
    assert_eq!(
        named(&roles, "edit")["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"],
        "true"
    );
    assert_eq!(
        named(&roles, "view")["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]})
    );
    assert_eq!(named(&roles, "admin")["rules"], Value::Null);
    assert_eq!(
        named(&bindings, "system:public-info-viewer")["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
               {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}])
    );
}

/// The bootstrap policy, aggregated, in a source.
fn bootstrapped() -> Arc<crate::authz::source::InMemoryRules> {
    let mut roles = cluster_roles();
    for updated in aggregate_all(&roles) {
        let i = roles
            .iter()
            .position(|r| r["metadata"]["name"] == updated["metadata"]["name"])
            .unwrap();
        roles[i] = updated;
    }
    let mut objects = roles;
    objects.extend(cluster_role_bindings());
    source(&objects)
}

#[test]
fn the_bootstrap_policy_grants_what_kube_grants() {
    let chain = AuthorizationConfig::default().build(bootstrapped());
    let allowed = |a: &Attributes| chain.authorizer.authorize(a).is_allowed();
    let anonymous = Arc::new(UserInfo::anonymous());
    let alice = user("alice", &["system:authenticated"]);
    let path = |who: &Arc<UserInfo>, p: &str| Attributes::non_resource(who.clone(), "get", p);
    // Anonymous: health and version only.
    for p in ["/healthz", "/livez", "/readyz", "/version"] {
        assert!(allowed(&path(&anonymous, p)), "{p}");
    }
    for p in ["/api", "/apis/apps/v1", "/openapi/v2", "/metrics"] {
        assert!(!allowed(&path(&anonymous, p)), "{p}");
    }
    // Authenticated: discovery, self reviews; no objects.
    for p in ["/api", "/api/v1", "/apis", "/apis/apps/v1", "/openapi/v3", "/version/"] {
        assert!(allowed(&path(&alice, p)), "{p}");
    }
    assert!(!allowed(&path(&alice, "/metrics")));
    let create = |who: &Arc<UserInfo>, group: &str, resource: &str| {
        request(who, "create", group, resource, "")
    };
    assert!(allowed(&create(&alice, "authorization.k8s.io", "selfsubjectaccessreviews")));
    assert!(allowed(&create(&alice, "authentication.k8s.io", "selfsubjectreviews")));
    assert!(!allowed(&create(&anonymous, "authorization.k8s.io", "selfsubjectaccessreviews")));
    assert!(!allowed(&request(&alice, "list", "", "configmaps", "default")));
    // Monitoring and service accounts.
    assert!(allowed(&path(&user("prometheus", &["system:monitoring"]), "/metrics")));
    let sa = user(
        "system:serviceaccount:ns:sa",
        &["system:serviceaccounts", "system:serviceaccounts:ns"],
    );
    assert!(allowed(&path(&sa, "/openid/v1/jwks")));
    // system:masters: everything, through the chain and through cluster-admin alike.
    let root = user("root", &["system:masters"]);
    assert!(allowed(&request(&root, "delete", "apps", "deployments", "x")));
    let rbac = chain.rbac.unwrap();
    assert_eq!(
        rbac.authorize(&path(&root, "/metrics")),
        Decision::Allow(
            "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" \
             to Group \"system:masters\""
                .into()
        )
    );
}

#[test]
fn admin_edit_and_view_aggregate_as_in_kube() {
    let rules = bootstrapped();
    let rbac = crate::authz::rbac::RbacAuthorizer::new(rules.clone());
    for (who, role) in [("viewer", "view"), ("editor", "edit"), ("admin", "admin")] {
        rules.apply(&role_binding("team", who, "ClusterRole", role, &[&format!("User:{who}")]));
    }
    let can = |who: &str, verb: &str, group: &str, resource: &str| {
        rbac.authorize(&request(&user(who, &[]), verb, group, resource, "team")).is_allowed()
    };
    assert!(
        can("viewer", "list", "", "configmaps") && can("viewer", "watch", "apps", "deployments")
    );
    assert!(!can("viewer", "get", "", "secrets"), "view does not read secrets");
    assert!(!can("viewer", "update", "", "configmaps"));
    assert!(can("editor", "get", "", "secrets") && can("editor", "update", "", "configmaps"));
    assert!(can("editor", "list", "", "pods"), "edit includes view");
    assert!(can("editor", "update", "apps", "deployments/scale"));
    assert!(!can("editor", "create", "rbac.authorization.k8s.io", "rolebindings"));
    assert!(can("admin", "create", "rbac.authorization.k8s.io", "rolebindings"));
    assert!(can("admin", "delete", "", "secrets") && can("admin", "list", "", "pods"));
    // Nothing in another namespace.
    assert!(
        !rbac.authorize(&request(&user("admin", &[]), "list", "", "pods", "other")).is_allowed()
    );
}

#[test]
fn aggregation_follows_the_selectors() {
    let agg = json!({"metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": [
        {"matchLabels": {"team": "a"}}, {"matchExpressions": [{"key": "extra", "operator": "Exists"}]}]},
        "rules": null});
    let piece = |name: &str, labels: Value, rules: Value| json!({"metadata": {"name": name, "labels": labels}, "rules": rules});
    let get_pods = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]});
    let list_cms = json!({"verbs": ["list"], "apiGroups": [""], "resources": ["configmaps"]});
    let all = vec![
        agg.clone(),
        piece("b-second", json!({"team": "a"}), json!([list_cms, get_pods])),
        piece("a-first", json!({"team": "a", "extra": "1"}), json!([get_pods])),
        piece(
            "other",
            json!({"team": "b"}),
            json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
        ),
        piece(
            "c-extra",
            json!({"extra": ""}),
            json!([{"verbs": ["get"], "nonResourceURLs": ["/x"]}]),
        ),
    ];
    // Per selector, by name; each rule once.
    assert_eq!(
        aggregated_rules(&agg, &all).unwrap(),
        [
            PolicyRule::resource(&["get"], &[""], &["pods"]),
            PolicyRule::resource(&["list"], &[""], &["configmaps"]),
            PolicyRule::urls(&["get"], &["/x"]),
        ]
    );
    let updated = aggregate(&agg, &all).unwrap();
    assert_eq!(
        updated["rules"],
        json!([get_pods, list_cms, {"verbs": ["get"], "nonResourceURLs": ["/x"]}])
    );
    assert_eq!(aggregate(&updated, &all), None, "already aggregated");
    assert_eq!(aggregated_rules(&all[1], &all), None, "not an aggregated role");
    // A role matching its own selector does not aggregate itself.
    let selfish = json!({"metadata": {"name": "s", "labels": {"team": "a"}},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"team": "a"}}]}, "rules": [list_cms]});
    assert_eq!(aggregated_rules(&selfish, std::slice::from_ref(&selfish)).unwrap(), []);
}

#[test]
fn nested_aggregation_settles_in_one_call() {
    let updated = aggregate_all(&cluster_roles());
    let names: Vec<_> = updated.iter().map(|r| r["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "edit", "view"]);
    let rules = |name: &str| PolicyRule::list_from_json(named(&updated, name).get("rules"));
    let view = PolicyRule::list_from_json(
        named(&cluster_roles(), "system:aggregate-to-view").get("rules"),
    );
    // kube's view rules, and kube-ledger's history rules (crate::authz::history_roles).
    let history = PolicyRule::list_from_json(
        named(&cluster_roles(), "kube-ledger:aggregate-to-view-history").get("rules"),
    );
    let expected: Vec<PolicyRule> = history.into_iter().chain(view.iter().cloned()).collect();
    assert_eq!(rules("view"), expected);
    assert!(view.iter().all(|r| rules("edit").contains(r)), "edit has view's rules");
    assert!(rules("edit").iter().all(|r| rules("admin").contains(r)), "admin has edit's rules");
    assert!(rules("admin").len() > rules("edit").len());
    let mut settled = cluster_roles();
    for u in &updated {
        let i =
            settled.iter().position(|r| r["metadata"]["name"] == u["metadata"]["name"]).unwrap();
        settled[i] = u.clone();
    }
    assert!(aggregate_all(&settled).is_empty());
}

fn stored(mut object: Value) -> Value {
    object["metadata"]["resourceVersion"] = json!("7");
    object["metadata"]["uid"] = json!("u-1");
    object
}

#[test]
fn reconciling_roles_adds_what_is_missing_and_keeps_the_rest() {
    let expected = named(&cluster_roles(), "system:basic-user").clone();
    assert_eq!(reconcile_role(None, &expected, false), Reconciled::Create(expected.clone()));
    assert_eq!(
        reconcile_role(Some(&stored(expected.clone())), &expected, false),
        Reconciled::Unchanged
    );

    // A user added a rule and a label, and lost one of the expected rules.
    let mut existing = stored(expected.clone());
    existing["metadata"]["labels"] = json!({"mine": "yes"});
    existing["rules"] = json!([
        {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"]},
        {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]);
    let Reconciled::Update(updated) = reconcile_role(Some(&existing), &expected, false) else {
        panic!("expected an update");
    };
    assert_eq!(
        updated["metadata"]["resourceVersion"], "7",
        "a compare-and-swap on the stored object"
    );
    assert_eq!(
        updated["metadata"]["labels"],
        json!({"mine": "yes", "kubernetes.io/bootstrapping": "rbac-defaults"})
    );
    assert_eq!(
        updated["rules"],
        json!([
            {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"]},
            {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
            {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"]},
            {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]},
        ])
    );
    // An expected label value the user changed is theirs.
    let mut relabelled = stored(expected.clone());
    relabelled["metadata"]["labels"]["kubernetes.io/bootstrapping"] = json!("custom");
    assert_eq!(reconcile_role(Some(&relabelled), &expected, false), Reconciled::Unchanged);
    // Removing extras on request.
    let Reconciled::Update(exact) = reconcile_role(Some(&existing), &expected, true) else {
        panic!()
    };
    assert_eq!(exact["rules"], expected["rules"]);
    // autoupdate=false: left alone.
    let mut protected = existing.clone();
    protected["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] =
        json!("false");
    assert!(matches!(reconcile_role(Some(&protected), &expected, false), Reconciled::Protected(_)));
}

#[test]
fn reconciling_aggregated_roles_keeps_their_rules_and_adds_selectors() {
    let expected = named(&cluster_roles(), "view").clone();
    // The controller filled in the rules; reconciliation leaves them.
    let mut existing = stored(expected.clone());
    existing["rules"] = json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]);
    assert_eq!(reconcile_role(Some(&existing), &expected, false), Reconciled::Unchanged);
    // A selector added by a user stays; a lost one comes back.
    existing["aggregationRule"] =
        json!({"clusterRoleSelectors": [{"matchLabels": {"mine": "true"}}]});
    let Reconciled::Update(updated) = reconcile_role(Some(&existing), &expected, false) else {
        panic!()
    };
    assert_eq!(
        updated["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"mine": "true"}},
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]})
    );
    // A role not expected to aggregate loses its aggregation rule.
    let basic = named(&cluster_roles(), "system:basic-user").clone();
    let mut aggregated = stored(basic.clone());
    aggregated["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]});
    let Reconciled::Update(plain) = reconcile_role(Some(&aggregated), &basic, false) else {
        panic!()
    };
    assert!(plain.get("aggregationRule").is_none());
}

#[test]
fn reconciling_bindings_adds_subjects_and_recreates_on_a_new_role() {
    let expected = named(&cluster_role_bindings(), "system:public-info-viewer").clone();
    assert!(matches!(reconcile_binding(None, &expected, false), Reconciled::Create(_)));
    assert_eq!(
        reconcile_binding(Some(&stored(expected.clone())), &expected, false),
        Reconciled::Unchanged
    );
    let mut existing = stored(expected.clone());
    existing["subjects"] = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "me"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]);
    let Reconciled::Update(updated) = reconcile_binding(Some(&existing), &expected, false) else {
        panic!()
    };
    assert_eq!(
        updated["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "me"},
               {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
               {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}])
    );
    let Reconciled::Update(exact) = reconcile_binding(Some(&existing), &expected, true) else {
        panic!()
    };
    assert_eq!(exact["subjects"], expected["subjects"]);
    let mut moved = stored(expected.clone());
    moved["roleRef"]["name"] = json!("something-else");
    assert_eq!(
        reconcile_binding(Some(&moved), &expected, false),
        Reconciled::Recreate(expected.clone())
    );
    moved["metadata"]["annotations"] =
        json!({"rbac.authorization.kubernetes.io/autoupdate": "false"});
    assert!(matches!(reconcile_binding(Some(&moved), &expected, false), Reconciled::Protected(_)));
}
