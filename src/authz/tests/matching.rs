//! Rule matching and the RBAC authorizer's decisions and reasons.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::authz::attributes::{Authorizer, Decision};
use crate::authz::rbac::RbacAuthorizer;
use crate::authz::rule::{Binding, PolicyRule, Role};
use crate::authz::source::{RbacKind, RuleSource, SourceError};

fn anyone() -> Arc<UserInfo> {
    user("u", &[])
}

/// `(verb, group, resource[/subresource], name)` → allowed?
fn check(rule: &PolicyRule, cases: &[(&str, &str, &str, &str, bool)]) {
    for (verb, group, resource, name, expected) in cases {
        let a = request(&anyone(), verb, group, resource, "ns").name(name);
        assert_eq!(rule.allows(&a), *expected, "{rule:?} on {verb} {group}/{resource} {name:?}");
    }
}

#[test]
fn verbs_groups_and_resources_match_exactly_or_by_star() {
    check(
        &PolicyRule::resource(&["*"], &["group1"], &["resource1"]),
        &[
            ("verb1", "group1", "resource1", "", true),
            ("verb2", "group1", "resource1", "", true),
            ("verb1", "group2", "resource1", "", false),
            ("verb1", "group1", "resource2", "", false),
        ],
    );
    check(
        &PolicyRule::resource(&["verb1"], &["*"], &["resource1"]),
        &[
            ("verb1", "group1", "resource1", "", true),
            ("verb1", "group2", "resource1", "", true),
            ("verb2", "group1", "resource1", "", false),
            ("verb1", "group1", "resource2", "", false),
        ],
    );
    check(
        &PolicyRule::resource(&["verb1"], &["group1"], &["*"]),
        &[
            ("verb1", "group1", "resource1", "", true),
            ("verb1", "group1", "resource2", "", true),
            ("verb1", "group1", "resource2/sub", "", true),
            ("verb1", "group2", "resource1", "", false),
        ],
    );
    // Every combination of a rule's lists.
    let tuples = PolicyRule::resource(&["verb1", "verb2"], &["group1", "group2"], &["r1", "r2"]);
    for verb in ["verb1", "verb2"] {
        for group in ["group1", "group2"] {
            for resource in ["r1", "r2"] {
                check(&tuples, &[(verb, group, resource, "", true)]);
            }
        }
    }
    // Verbs and resources are case sensitive.
    check(&PolicyRule::resource(&["get"], &[""], &["pods"]), &[("GET", "", "pods", "", false)]);
    check(&PolicyRule::resource(&["get"], &[""], &["pods"]), &[("get", "", "Pods", "", false)]);
}

#[test]
fn subresources_match_whole_or_by_star_slash() {
    check(
        &PolicyRule::resource(&["*"], &["*"], &["pods"]),
        &[("get", "", "pods", "", true), ("get", "", "pods/status", "", false)],
    );
    check(
        &PolicyRule::resource(&["*"], &["*"], &["pods/status"]),
        &[
            ("get", "", "pods/status", "", true),
            ("get", "", "pods", "", false),
            ("get", "", "pods/log", "", false),
            ("get", "", "nodes/status", "", false),
        ],
    );
    check(
        &PolicyRule::resource(&["*"], &["*"], &["*/scale"]),
        &[
            ("get", "apps", "deployments/scale", "", true),
            ("update", "", "replicationcontrollers/scale", "", true),
            ("get", "apps", "deployments", "", false),
            ("get", "apps", "deployments/status", "", false),
            ("get", "apps", "deployments/scales", "", false),
        ],
    );
}

#[test]
fn resource_names_restrict_to_named_requests() {
    let rule =
        PolicyRule::resource(&["get", "list", "update"], &[""], &["configmaps"]).names(&["a", "b"]);
    check(
        &rule,
        &[
            ("get", "", "configmaps", "a", true),
            ("update", "", "configmaps", "b", true),
            ("get", "", "configmaps", "c", false),
            // A list or a create has no name: a rule with names never allows it.
            ("list", "", "configmaps", "", false),
        ],
    );
}

#[test]
fn non_resource_urls_match_exactly_or_by_prefix() {
    let cases = |rule: PolicyRule, paths: &[(&str, &str, bool)]| {
        for (verb, path, expected) in paths {
            let a = Attributes::non_resource(anyone(), verb, path);
            assert_eq!(rule.allows(&a), *expected, "{rule:?} on {verb} {path}");
        }
    };
    cases(
        PolicyRule::urls(&["verb1"], &["*"]),
        &[("verb1", "/foo", true), ("verb1", "/foo/bar/one", true), ("verb2", "/foo", false)],
    );
    cases(
        PolicyRule::urls(&["verb1"], &["/foo/*"]),
        &[
            ("verb1", "/foo", false),
            ("verb1", "/foo/", true),
            ("verb1", "/foo/bar", true),
            ("verb1", "/foo/bar/one", true),
            ("verb1", "/foobar", false),
        ],
    );
    cases(
        PolicyRule::urls(&["get"], &["/healthz", "/hea*"]),
        &[("get", "/healthz", true), ("get", "/heal", true), ("get", "/he", false)],
    );
    cases(
        PolicyRule::urls(&["get"], &["/apis"]),
        &[("get", "/apis", true), ("get", "/apis/v1", false)],
    );
    // A resource rule never matches a path, nor a URL rule a resource.
    let resource_rule = PolicyRule::resource(&["*"], &["*"], &["*"]);
    assert!(!resource_rule.allows(&Attributes::non_resource(anyone(), "get", "/healthz")));
    assert!(!PolicyRule::urls(&["*"], &["*"]).allows(&request(&anyone(), "get", "", "pods", "")));
}

fn admin_in_ns1() -> Vec<serde_json::Value> {
    vec![
        cluster_role("admin", json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}])),
        role_binding("ns1", "admins", "ClusterRole", "admin", &["User:admin", "Group:admins"]),
        role(
            "ns1",
            "reader",
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]),
        ),
        role_binding(
            "ns1",
            "readers",
            "Role",
            "reader",
            &["ServiceAccount:robot", "ServiceAccount:other/bot"],
        ),
        cluster_role(
            "nodes",
            json!([{"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]},
                                     {"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]),
        ),
        cluster_role_binding("all-sas", "nodes", &["Group:system:serviceaccounts:ns1"]),
    ]
}

#[test]
fn role_bindings_grant_in_their_namespace_only() {
    let rbac = RbacAuthorizer::new(source(&admin_in_ns1()));
    let allowed = |who: &Arc<UserInfo>, verb: &str, resource: &str, ns: &str| {
        rbac.authorize(&request(who, verb, "", resource, ns)).is_allowed()
    };
    let admin = user("admin", &[]);
    let joe = user("joe", &["group1", "admins"]);
    assert!(allowed(&admin, "get", "pods", "ns1"));
    assert!(allowed(&admin, "watch", "foobar", "ns1"));
    assert!(allowed(&joe, "delete", "secrets", "ns1"));
    assert!(!allowed(&admin, "get", "pods", "ns2"));
    assert!(!allowed(&admin, "list", "nodes", ""), "a RoleBinding grants nothing cluster-wide");
    assert!(!allowed(&admin, "list", "pods", ""), "nor across all namespaces");
    assert!(!allowed(&user("joe", &["group1"]), "get", "pods", "ns1"));
}

#[test]
fn service_accounts_match_by_user_name_and_group() {
    let rbac = RbacAuthorizer::new(source(&admin_in_ns1()));
    let sa = |ns: &str, name: &str| {
        user(
            &format!("system:serviceaccount:{ns}:{name}"),
            &[
                "system:serviceaccounts",
                &format!("system:serviceaccounts:{ns}"),
                "system:authenticated",
            ],
        )
    };
    let get_pods = |who: &Arc<UserInfo>| rbac.authorize(&request(who, "get", "", "pods", "ns1"));
    // No namespace on the subject: the binding's namespace.
    assert_eq!(
        get_pods(&sa("ns1", "robot")),
        Decision::Allow(
            "RBAC: allowed by RoleBinding \"readers/ns1\" of Role \"reader\" to ServiceAccount \
             \"robot/ns1\""
                .into()
        )
    );
    assert!(get_pods(&sa("other", "bot")).is_allowed(), "a service account of another namespace");
    assert!(!get_pods(&sa("ns2", "robot")).is_allowed());
    assert!(!get_pods(&user("robot", &[])).is_allowed());
    // The namespace's service-account group, through a ClusterRoleBinding.
    let list_nodes = request(&sa("ns1", "anything"), "list", "", "nodes", "");
    assert_eq!(
        rbac.authorize(&list_nodes),
        Decision::Allow(
            "RBAC: allowed by ClusterRoleBinding \"all-sas\" of ClusterRole \"nodes\" to Group \
             \"system:serviceaccounts:ns1\""
                .into()
        )
    );
    let metrics = Attributes::non_resource(sa("ns1", "x"), "get", "/metrics");
    assert!(rbac.authorize(&metrics).is_allowed());
    assert!(
        !rbac.authorize(&Attributes::non_resource(sa("ns2", "x"), "get", "/metrics")).is_allowed()
    );
}

#[test]
fn non_resource_urls_come_only_from_cluster_role_bindings() {
    let rbac = RbacAuthorizer::new(source(&[
        cluster_role("urls", json!([{"verbs": ["get"], "nonResourceURLs": ["/apis", "/apis/*"]}])),
        role_binding("ns1", "local", "ClusterRole", "urls", &["User:local"]),
        cluster_role_binding("global", "urls", &["User:global"]),
    ]));
    let get = |who: &str, path: &str| {
        rbac.authorize(&Attributes::non_resource(user(who, &[]), "get", path)).is_allowed()
    };
    assert!(get("global", "/apis") && get("global", "/apis/v1/foo"));
    assert!(!get("global", "/api/v1"));
    assert!(!get("local", "/apis"), "non-resource requests have no namespace");
}

#[test]
fn unresolvable_bindings_are_reasons_not_errors() {
    let rbac = RbacAuthorizer::new(source(&[
        cluster_role_binding("gone", "missing", &["Group:system:authenticated"]),
        role_binding("ns", "local", "Role", "absent", &["User:alice"]),
        role_binding("ns", "weird", "Pod", "x", &["User:alice"]),
        role_binding("ns", "not-mine", "Role", "also-absent", &["User:bob"]),
    ]));
    let alice = user("alice", &["system:authenticated"]);
    assert_eq!(
        rbac.authorize(&request(&alice, "get", "", "pods", "")),
        Decision::NoOpinion(
            "RBAC: clusterrole.rbac.authorization.k8s.io \"missing\" not found".into()
        )
    );
    assert_eq!(
        rbac.authorize(&request(&alice, "get", "", "pods", "ns")),
        Decision::NoOpinion(
            "RBAC: [clusterrole.rbac.authorization.k8s.io \"missing\" not found, \
             role.rbac.authorization.k8s.io \"absent\" not found, unsupported role reference \
             kind: \"Pod\"]"
                .into()
        )
    );
    assert_eq!(
        rbac.authorize(&request(&user("carol", &[]), "get", "", "pods", "ns")),
        Decision::NoOpinion(String::new()),
        "bindings of other subjects are not resolved"
    );
}

#[test]
fn decisions_are_cached_until_rbac_objects_change() {
    let rules = source(&[cluster_role(
        "view",
        json!([
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]}]),
    )]);
    let rbac = RbacAuthorizer::new(rules.clone());
    let alice = user("alice", &["system:authenticated"]);
    let list = request(&alice, "list", "", "configmaps", "default");
    assert!(!rbac.authorize(&list).is_allowed());
    assert!(!rbac.authorize(&list).is_allowed());
    assert_eq!(rbac.cache_stats().hits, 1);
    rules.apply(&role_binding("default", "alice-view", "ClusterRole", "view", &["User:alice"]));
    assert!(rbac.authorize(&list).is_allowed(), "a new binding is seen at once");
    assert!(rbac.authorize(&list).is_allowed());
    rules.remove(RbacKind::RoleBinding, "default", "alice-view");
    assert!(!rbac.authorize(&list).is_allowed(), "and so is its removal");
    let stats = rbac.cache_stats();
    assert_eq!((stats.hits, stats.misses), (2, 3));
}

/// A source whose bindings cannot be listed (a view still loading).
#[derive(Debug)]
struct Failing;

impl RuleSource for Failing {
    fn role(&self, _: &str, _: &str) -> Result<Option<Arc<Role>>, SourceError> {
        Ok(None)
    }
    fn cluster_role(&self, _: &str) -> Result<Option<Arc<Role>>, SourceError> {
        Ok(None)
    }
    fn role_bindings(&self, _: &str) -> Result<Vec<Arc<Binding>>, SourceError> {
        Ok(Vec::new())
    }
    fn cluster_role_bindings(&self) -> Result<Vec<Arc<Binding>>, SourceError> {
        Err(SourceError("clusterrolebindings are not loaded yet".into()))
    }
    fn generation(&self) -> u64 {
        0
    }
}

#[test]
fn source_failures_are_reported_and_not_cached() {
    let rbac = RbacAuthorizer::new(Arc::new(Failing));
    let get = request(&user("alice", &[]), "get", "", "pods", "ns");
    assert_eq!(
        rbac.authorize(&get),
        Decision::NoOpinion("RBAC: clusterrolebindings are not loaded yet".into())
    );
    rbac.authorize(&get);
    assert_eq!(rbac.cache_stats().hits, 0);
}
