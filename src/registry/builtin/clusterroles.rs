//! `rbac.authorization.k8s.io/v1` ClusterRoles (`pkg/registry/rbac/clusterrole`): cluster-wide
//! policy rules, which may also cover non-resource URLs, and an optional `aggregationRule` whose
//! label selectors gather the rules of other ClusterRoles (the aggregation itself is
//! [`crate::authz::aggregate`]; a controller writes its result into `rules`).
//!
//! Like Roles, ClusterRoles have no printer in kube-apiserver: `NAME`, `CREATED AT`.

use std::sync::Arc;

use serde_json::Value;

use super::roles::{GROUP, normalize_rules, rbac_name, validate_rules};
use super::{Kind, generic_table, object_items, opt_array, opt_object};
use crate::meta::labels::{LabelSelector, validate_label_selector};
use crate::meta::validation::{FieldCause, NameValidator};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/clusterroles",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(ClusterRoleStrategy), generic_table())
}

/// ClusterRole rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterRoleStrategy;

impl Strategy for ClusterRoleStrategy {
    fn prepare_for_create(&self, role: &mut Value) {
        normalize_rules(role);
    }

    fn prepare_for_update(&self, role: &mut Value, _old: &Value) {
        normalize_rules(role);
    }

    fn validate(&self, role: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_rules(role, false, &mut causes);
        validate_aggregation_rule(role, &mut causes);
        causes
    }

    fn name_validator(&self) -> NameValidator {
        rbac_name
    }
}

/// An `aggregationRule`, when set, needs at least one selector, each a valid label selector.
fn validate_aggregation_rule(role: &Value, causes: &mut Vec<FieldCause>) {
    let Some(rule) = opt_object(role, "aggregationRule", "aggregationRule", causes) else {
        return;
    };
    let path = "aggregationRule.clusterRoleSelectors";
    let selectors = match rule.get("clusterRoleSelectors") {
        None | Some(Value::Null) => &[][..],
        Some(_) => opt_array(&role["aggregationRule"], "clusterRoleSelectors", path, causes),
    };
    if selectors.is_empty() {
        causes.push(FieldCause::required(
            path,
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ));
    }
    for (i, selector) in object_items(selectors, path, causes) {
        let item = format!("{path}[{i}]");
        let found = validate_label_selector(selector, &item);
        let clean = found.is_empty();
        causes.extend(found);
        if clean && LabelSelector::from_structured(selector).is_err() {
            causes.push(FieldCause::invalid(item, selector.clone(), "invalid label selector."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use serde_json::json;

    fn causes(role: Value) -> Vec<String> {
        cause_texts(&ClusterRoleStrategy.validate(&role))
    }

    #[test]
    fn cluster_roles_may_cover_non_resource_urls() {
        let role = json!({"metadata": {"name": "system:monitoring"}, "rules": [
            {"nonResourceURLs": ["/healthz", "/readyz/*"], "verbs": ["get"]},
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
        assert!(causes(role).is_empty());
        assert_eq!(
            causes(
                json!({"rules": [{"nonResourceURLs": ["/x"], "apiGroups": [""], "verbs": ["get"]}]})
            ),
            ["rules[0].nonResourceURLs: Invalid value: []string{\"/x\"}: rules cannot apply to \
              both regular resources and non-resource URLs"]
        );
    }

    #[test]
    fn aggregation_rules_need_valid_selectors() {
        let aggregated = json!({"aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}});
        assert!(causes(aggregated).is_empty());
        assert_eq!(
            causes(json!({"aggregationRule": {}})),
            ["aggregationRule.clusterRoleSelectors: Required value: at least one \
              clusterRoleSelector required if aggregationRule is non-nil"]
        );
        assert_eq!(causes(json!({"aggregationRule": {"clusterRoleSelectors": []}})).len(), 1);
        let bad = ClusterRoleStrategy
            .validate(&json!({"aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"bad key!": "v"}}]}}));
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].field, "aggregationRule.clusterRoleSelectors[0].matchLabels");
        let bad = ClusterRoleStrategy
            .validate(&json!({"aggregationRule": {"clusterRoleSelectors": [
            {"matchExpressions": [{"key": "a", "operator": "In"}]}]}}));
        assert_eq!(
            bad[0].field,
            "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values"
        );
        assert!(causes(json!({"aggregationRule": null})).is_empty());
    }

    #[test]
    fn served_cluster_wide() {
        let r = resource();
        assert!(!r.namespaced);
        assert_eq!(r.key(None, "view"), "/clusterroles/view");
        let mut aggregated = json!({"aggregationRule": {"clusterRoleSelectors": [{}]}});
        ClusterRoleStrategy.decoded_create(&mut aggregated);
        assert_eq!(aggregated["rules"], Value::Null);
    }
}
