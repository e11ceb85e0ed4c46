//! `rbac.authorization.k8s.io/v1` Roles (`pkg/registry/rbac/role`): a namespace's set of
//! policy rules. Also the policy-rule checks ClusterRoles share (`ValidatePolicyRule`) and the
//! names every RBAC kind takes (`ValidateRBACName`: any valid path segment).
//!
//! kube-apiserver serves Roles without a printer of its own, so `kubectl get roles` shows the
//! generic `NAME`, `CREATED AT` table. Escalation prevention (a writer may only grant what it
//! holds) is not a strategy rule: it needs the requesting user, see [`crate::authz::escalation`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Kind, generic_table, go_string_slice, invalid_rendered, object_items, opt_array};
use crate::meta::validation::{FieldCause, NameValidator, is_valid_path_segment_name};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;

/// The RBAC API group.
pub const GROUP: &str = "rbac.authorization.k8s.io";

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "Role",
    plural: "roles",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/roles",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(RoleStrategy), generic_table())
}

/// Role rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleStrategy;

impl Strategy for RoleStrategy {
    fn prepare_for_create(&self, role: &mut Value) {
        normalize_rules(role);
    }

    fn prepare_for_update(&self, role: &mut Value, _old: &Value) {
        normalize_rules(role);
    }

    fn validate(&self, role: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_rules(role, true, &mut causes);
        causes
    }

    fn name_validator(&self) -> NameValidator {
        rbac_name
    }
}

/// `ValidateRBACName`: RBAC objects (and the names bindings refer to) need only be usable as a
/// path segment, so `system:masters` and `a.b@c` are fine.
pub(crate) fn rbac_name(name: &str, _prefix: bool) -> Vec<String> {
    is_valid_path_segment_name(name)
}

/// What a decode and re-encode through kube's types leaves of `rules`: `rules` is not
/// `omitempty`, so an absent or empty list reads back as `null`; inside a rule the lists other
/// than `verbs` are `omitempty` and an empty one disappears.
pub(crate) fn normalize_rules(object: &mut Value) {
    let Some(map) = object.as_object_mut() else { return };
    let empty = match map.get("rules") {
        None | Some(Value::Null) => true,
        Some(Value::Array(rules)) => rules.is_empty(),
        Some(_) => false,
    };
    if empty {
        map.insert("rules".into(), Value::Null);
        return;
    }
    if let Some(rules) = map.get_mut("rules").and_then(Value::as_array_mut) {
        for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
            drop_empty_lists(rule, &["apiGroups", "resources", "resourceNames", "nonResourceURLs"]);
        }
    }
}

/// Removes the `omitempty` lists of `keys` that are empty or `null`.
pub(crate) fn drop_empty_lists(map: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        let empty = match map.get(*key) {
            Some(Value::Null) => true,
            Some(Value::Array(items)) => items.is_empty(),
            _ => false,
        };
        if empty {
            map.shift_remove(*key);
        }
    }
}

/// `rules[i]` of a Role (`namespaced`) or ClusterRole, each checked as `ValidatePolicyRule`
/// checks it.
pub(crate) fn validate_rules(object: &Value, namespaced: bool, causes: &mut Vec<FieldCause>) {
    let rules = opt_array(object, "rules", "rules", causes);
    for (i, rule) in object_items(rules, "rules", causes) {
        validate_policy_rule(rule, namespaced, &format!("rules[{i}]"), causes);
    }
}

/// `ValidatePolicyRule`: verbs are required; a rule is either about non-resource URLs (cluster
/// roles only, nothing else set) or about resources (at least one API group and one resource).
fn validate_policy_rule(rule: &Value, namespaced: bool, path: &str, causes: &mut Vec<FieldCause>) {
    let list = |key: &str, causes: &mut Vec<FieldCause>| {
        string_list(rule, key, &format!("{path}.{key}"), causes)
    };
    let verbs = list("verbs", causes);
    let api_groups = list("apiGroups", causes);
    let resources = list("resources", causes);
    let resource_names = list("resourceNames", causes);
    let urls = list("nonResourceURLs", causes);
    if verbs == 0 {
        causes.push(FieldCause::required(
            format!("{path}.verbs"),
            "verbs must contain at least one value",
        ));
    }
    if urls > 0 {
        let field = format!("{path}.nonResourceURLs");
        let rendered = go_string_slice(rule.get("nonResourceURLs"));
        if namespaced {
            causes.push(invalid_rendered(
                field.clone(),
                &rendered,
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if api_groups > 0 || resources > 0 || resource_names > 0 {
            causes.push(invalid_rendered(
                field,
                &rendered,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if api_groups == 0 {
        causes.push(FieldCause::required(
            format!("{path}.apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if resources == 0 {
        causes.push(FieldCause::required(
            format!("{path}.resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

/// How many strings the list `object[key]` holds; entries of another type add a cause.
pub(crate) fn string_list(
    object: &Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> usize {
    let items = opt_array(object, key, path, causes);
    for (i, item) in items.iter().enumerate() {
        if !item.is_string() {
            causes.push(FieldCause::type_invalid(
                format!("{path}[{i}]"),
                item.clone(),
                "must be a string",
            ));
        }
    }
    items.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use serde_json::json;

    fn causes(role: Value) -> Vec<String> {
        cause_texts(&RoleStrategy.validate(&role))
    }

    #[test]
    fn a_role_as_kubectl_creates_it_is_valid() {
        let role = json!({"metadata": {"name": "r1", "namespace": "default"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "resourceNames": ["x"], "verbs": ["get", "list"]},
            {"apiGroups": ["apps"], "resources": ["deployments/scale", "*/status"], "verbs": ["*"]}]});
        assert!(causes(role).is_empty());
        assert!(causes(json!({"metadata": {"name": "empty"}})).is_empty());
    }

    #[test]
    fn policy_rules_are_checked_as_kube_checks_them() {
        assert_eq!(
            causes(json!({"rules": [{"apiGroups": [""], "resources": ["pods"]}]})),
            ["rules[0].verbs: Required value: verbs must contain at least one value"]
        );
        assert_eq!(
            causes(json!({"rules": [{"verbs": ["get"]}]})),
            [
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
            ]
        );
        assert_eq!(
            causes(json!({"rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"],
                                      "resources": ["pods"]}]})),
            [
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules \
                 cannot apply to non-resource URLs",
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: rules cannot \
                 apply to both regular resources and non-resource URLs",
            ]
        );
        let wrong = RoleStrategy.validate(&json!({"rules": [{"verbs": "get"}, 3]}));
        let fields: Vec<_> = wrong.iter().map(|c| (c.field.as_str(), c.reason.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("rules[1]", "FieldValueTypeInvalid"),
                ("rules[0].verbs", "FieldValueTypeInvalid"),
                ("rules[0].verbs", "FieldValueRequired"),
                ("rules[0].apiGroups", "FieldValueRequired"),
                ("rules[0].resources", "FieldValueRequired"),
            ]
        );
    }

    #[test]
    fn names_need_only_be_path_segments() {
        assert!(rbac_name("system:controller:a@b", false).is_empty());
        assert_eq!(rbac_name("a/b", false), ["may not contain '/'"]);
        assert_eq!(rbac_name("..", false), ["may not be '..'"]);
    }

    #[test]
    fn empty_lists_read_back_as_kube_encodes_them() {
        let mut role = json!({"rules": []});
        RoleStrategy.decoded_create(&mut role);
        assert_eq!(role, json!({"rules": null}));
        let mut role = json!({});
        RoleStrategy.decoded_create(&mut role);
        assert_eq!(role, json!({"rules": null}));
        let mut role = json!({"rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"],
                                         "resourceNames": [], "nonResourceURLs": null}]});
        RoleStrategy.decoded_update(&mut role, &json!({}));
        assert_eq!(
            role,
            json!({"rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})
        );
    }

    #[test]
    fn served_as_kube_serves_it() {
        let r = resource();
        assert_eq!(r.gv.api_version(), "rbac.authorization.k8s.io/v1");
        assert!(r.namespaced && r.short_names.is_empty() && r.categories.is_empty());
        assert_eq!(r.singular, "role");
        assert_eq!(r.key(Some("ns"), "r"), "/roles/ns/r");
        let role = json!({"metadata": {"name": "r", "creationTimestamp": "2024-01-01T00:00:00Z"}});
        let table = render_table(&r.table, &[role], Default::default(), Default::default());
        let names: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Name", "Created At"]);
    }
}
