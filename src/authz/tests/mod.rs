//! Behaviour tables for the authorizer, the escalation checks and the policy, against what
//! kube's RBAC does (its `rbac_test.go`, `rule_test.go`, `policy_comparator_test.go`,
//! `reconcile_*_test.go` cases, and messages seen from real clusters).

mod escalation;
mod matching;
mod policy;

use std::sync::Arc;

use serde_json::{Value, json};

use super::attributes::Attributes;
use super::source::InMemoryRules;
use super::user::UserInfo;

/// A user with groups.
fn user(name: &str, groups: &[&str]) -> Arc<UserInfo> {
    Arc::new(UserInfo::new(name, groups))
}

/// A resource request `verb group/resource[/subresource]` in `namespace` on `name`.
fn request(
    who: &Arc<UserInfo>,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: &str,
) -> Attributes {
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    Attributes::resource(who.clone(), verb, group, "v1", resource)
        .subresource(subresource)
        .namespace(namespace)
}

fn cluster_role(name: &str, rules: Value) -> Value {
    json!({"kind": "ClusterRole", "metadata": {"name": name}, "rules": rules})
}

fn role(namespace: &str, name: &str, rules: Value) -> Value {
    json!({"kind": "Role", "metadata": {"name": name, "namespace": namespace}, "rules": rules})
}

/// `Kind:name` subjects, as kube's tests write them (`User:alice`, `Group:g`,
/// `ServiceAccount:ns/sa` or `ServiceAccount:sa`).
fn subjects(subjects: &[&str]) -> Value {
    subjects
        .iter()
        .map(|s| {
            let (kind, name) = s.split_once(':').unwrap();
            match (kind, name.split_once('/')) {
                ("ServiceAccount", Some((ns, name))) => {
                    json!({"kind": kind, "name": name, "namespace": ns})
                }
                ("ServiceAccount", None) => json!({"kind": kind, "name": name}),
                _ => json!({"kind": kind, "name": name, "apiGroup": "rbac.authorization.k8s.io"}),
            }
        })
        .collect()
}

fn cluster_role_binding(name: &str, role: &str, who: &[&str]) -> Value {
    json!({"kind": "ClusterRoleBinding", "metadata": {"name": name},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": subjects(who)})
}

fn role_binding(namespace: &str, name: &str, kind: &str, role: &str, who: &[&str]) -> Value {
    json!({"kind": "RoleBinding", "metadata": {"name": name, "namespace": namespace},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
           "subjects": subjects(who)})
}

/// A source holding `objects`.
fn source(objects: &[Value]) -> Arc<InMemoryRules> {
    let rules = Arc::new(InMemoryRules::new());
    for object in objects {
        rules.apply(object);
    }
    rules
}
