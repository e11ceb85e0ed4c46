//! `v1` ResourceQuotas (`pkg/registry/core/resourcequota`): per-namespace limits on object
//! counts and compute/storage sums. The spec is the user's, the status (`hard`, `used`) the quota
//! controller's and the ResourceQuota admission plugin's (`/status`). Validation as kube's
//! `ValidateResourceQuota`: resource names kube's quota system knows (or fully qualified ones),
//! non-negative quantities (integers for object counts), scopes and scope selectors that fit the
//! resources limited.

use std::sync::Arc;

use serde_json::Value;

use super::{Kind, age_column, column, name_column, object_items, opt_array, opt_object, opt_str};
use crate::meta::quantity::{QUANTITY_REGEX_MESSAGE, Quantity};
use crate::meta::validation::{FieldCause, go_quote, is_qualified_name};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "ResourceQuota",
    plural: "resourcequotas",
    short_names: &["quota"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/resourcequotas",
};

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(ResourceQuotaStrategy), table()) }
}

/// `standardResources`: resource names a container or quota may name without a domain.
const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

/// `standardQuotaResources`: what a quota may limit without a domain.
const STANDARD_QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
];

/// Object counts: their quantities must be whole numbers.
const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// The scopes kube-apiserver 1.33 knows.
pub const SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
];

const POD_COMPUTE: &[&str] =
    &["cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"];

fn is_huge_pages(name: &str) -> bool {
    name.starts_with("hugepages-") || name.starts_with("requests.hugepages-")
}

fn is_standard_resource(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name) || is_huge_pages(name)
}

/// `IsStandardQuotaResourceName`.
pub fn is_standard_quota_resource(name: &str) -> bool {
    STANDARD_QUOTA_RESOURCES.contains(&name) || is_huge_pages(name)
}

/// `IsExtendedResourceName`: outside `kubernetes.io`, not `requests.`-prefixed.
fn is_extended_resource(name: &str) -> bool {
    let native = !name.contains('/') || name.contains("kubernetes.io/");
    !native
        && !name.starts_with("requests.")
        && is_qualified_name(&format!("requests.{name}")).is_empty()
}

fn is_integer_resource(name: &str) -> bool {
    INTEGER_RESOURCES.contains(&name) || is_extended_resource(name)
}

/// `IsResourceQuotaScopeValidForResource`.
fn scope_fits(scope: &str, resource: &str) -> bool {
    match scope {
        "Terminating"
        | "NotTerminating"
        | "NotBestEffort"
        | "PriorityClass"
        | "CrossNamespacePodAffinity" => resource == "pods" || POD_COMPUTE.contains(&resource),
        "BestEffort" => resource == "pods",
        _ => true,
    }
}

/// `validateResourceName`: a qualified name, standard unless it has a domain.
pub(crate) fn validate_resource_name(name: &str, path: &str, causes: &mut Vec<FieldCause>) {
    let errors = is_qualified_name(name);
    if !errors.is_empty() {
        causes.extend(errors.iter().map(|msg| FieldCause::invalid(path, name, msg)));
        return;
    }
    if !name.contains('/') && !is_standard_resource(name) {
        causes.push(FieldCause::invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        ));
    }
}

/// A quantity's text, or a cause when it is not one.
pub(crate) fn quantity_at(
    value: &Value,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<Quantity> {
    let parsed = Quantity::from_json(value);
    if parsed.is_none() {
        match value {
            Value::String(text) => {
                causes.push(FieldCause::invalid(path, text.as_str(), QUANTITY_REGEX_MESSAGE))
            }
            other => {
                causes.push(FieldCause::type_invalid(path, other.clone(), "must be a quantity"))
            }
        }
    }
    parsed
}

/// A `hard`/`used` map: names kube's quota system knows, non-negative quantities.
fn validate_quota_list(quota: &Value, key: &str, path: &str, causes: &mut Vec<FieldCause>) {
    let Some(map) = opt_object(quota, key, path, causes) else { return };
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(name, _)| *name);
    for (name, value) in entries {
        let path = format!("{path}[{name}]");
        validate_resource_name(name, &path, causes);
        if !name.contains('/') && !is_standard_quota_resource(name) {
            causes.push(FieldCause::invalid(
                &path,
                name.as_str(),
                "must be a standard resource for quota",
            ));
        }
        let Some(quantity) = quantity_at(value, &path, causes) else { continue };
        if quantity.nanos() < 0 {
            causes.push(FieldCause::invalid(
                &path,
                quantity.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        if is_integer_resource(name) && quantity.milli_value() % 1000 != 0 {
            causes.push(FieldCause::invalid(&path, quantity.to_string(), "must be an integer"));
        }
    }
}

/// Go's `%#v` of the scopes slice, as kube prints it in scope errors.
fn render_scopes(scopes: &[Value]) -> String {
    let items: Vec<String> = scopes.iter().map(|s| go_quote(s.as_str().unwrap_or(""))).collect();
    format!("[]core.ResourceQuotaScope{{{}}}", items.join(", "))
}

fn validate_spec(quota: &Value, causes: &mut Vec<FieldCause>) {
    let Some(_) = opt_object(quota, "spec", "spec", causes) else { return };
    let spec = &quota["spec"];
    validate_quota_list(spec, "hard", "spec.hard", causes);
    let hard: Vec<String> = spec
        .get("hard")
        .and_then(Value::as_object)
        .map(|m| {
            let mut keys: Vec<String> = m.keys().cloned().collect();
            keys.sort();
            keys
        })
        .unwrap_or_default();
    let scopes = opt_array(spec, "scopes", "spec.scopes", causes);
    let mut seen = Vec::new();
    for scope in scopes {
        let name = scope.as_str().unwrap_or("");
        if !SCOPES.contains(&name) {
            causes.push(super::invalid_rendered(
                "spec.scopes",
                &render_scopes(scopes),
                "unsupported scope",
            ));
        }
        for resource in &hard {
            if is_standard_quota_resource(resource) && !scope_fits(name, resource) {
                causes.push(super::invalid_rendered(
                    "spec.scopes",
                    &render_scopes(scopes),
                    "unsupported scope applied to resource",
                ));
            }
        }
        seen.push(name.to_owned());
    }
    if conflicting(&seen) {
        causes.push(super::invalid_rendered(
            "spec.scopes",
            &render_scopes(scopes),
            "conflicting scopes",
        ));
    }
    validate_scope_selector(spec, &hard, causes);
}

fn conflicting(scopes: &[String]) -> bool {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    (has("BestEffort") && has("NotBestEffort")) || (has("Terminating") && has("NotTerminating"))
}

fn validate_scope_selector(spec: &Value, hard: &[String], causes: &mut Vec<FieldCause>) {
    let Some(_) = opt_object(spec, "scopeSelector", "spec.scopeSelector", causes) else { return };
    let selector = &spec["scopeSelector"];
    let path = "spec.scopeSelector.matchExpressions";
    let expressions = opt_array(selector, "matchExpressions", path, causes);
    let mut seen = Vec::new();
    for (i, expression) in object_items(expressions, path, causes) {
        let at = format!("{path}[{i}]");
        let name =
            opt_str(expression, "scopeName", &format!("{at}.scopeName"), causes).unwrap_or("");
        let operator =
            opt_str(expression, "operator", &format!("{at}.operator"), causes).unwrap_or("");
        let values = opt_array(expression, "values", &format!("{at}.values"), causes);
        if !SCOPES.contains(&name) {
            causes.push(FieldCause::invalid(format!("{at}.scopeName"), name, "unsupported scope"));
        }
        for resource in hard {
            if is_standard_quota_resource(resource) && !scope_fits(name, resource) {
                causes.push(FieldCause::invalid(
                    path,
                    selector.clone(),
                    "unsupported scope applied to resource",
                ));
            }
        }
        if matches!(name, "BestEffort" | "NotBestEffort" | "Terminating" | "NotTerminating")
            && operator != "Exists"
        {
            causes.push(FieldCause::invalid(
                format!("{at}.operator"),
                operator,
                "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, \
                 ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort and \
                 ResourceQuotaScopeNotBestEffort",
            ));
        }
        match operator {
            "In" | "NotIn" if values.is_empty() => causes.push(FieldCause::required(
                format!("{at}.values"),
                "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => causes.push(FieldCause::invalid(
                format!("{at}.values"),
                Value::Array(values.to_vec()),
                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => causes.push(FieldCause::invalid(
                format!("{at}.operator"),
                other,
                "not a valid selector operator",
            )),
        }
        seen.push(name.to_owned());
    }
    if conflicting(&seen) {
        causes.push(FieldCause::invalid(path, Value::Null, "conflicting scopes"));
    }
}

/// ResourceQuota rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceQuotaStrategy;

impl Strategy for ResourceQuotaStrategy {
    fn validate(&self, quota: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_spec(quota, &mut causes);
        if let Some(_status) = opt_object(quota, "status", "status", &mut causes) {
            validate_quota_list(&quota["status"], "hard", "status.hard", &mut causes);
            validate_quota_list(&quota["status"], "used", "status.used", &mut causes);
        }
        causes
    }

    fn validate_update(&self, quota: &Value, _old: &Value) -> Vec<FieldCause> {
        self.validate(quota)
    }
}

/// kubectl's columns: `Request` and `Limit` list each limited resource as `name: used/hard`,
/// the `limits.*` ones under Limit.
fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            age_column(),
            column(
                "Request",
                "string",
                0,
                "Request represents a minimum amount of cpu/memory that a container may consume.",
                Cell::Computed(|quota| usage_column(quota, false).into()),
            ),
            column(
                "Limit",
                "string",
                0,
                "Limits control the maximum amount of cpu/memory that a container may use \
                 independent of contention on the node.",
                Cell::Computed(|quota| usage_column(quota, true).into()),
            ),
        ],
    }
}

/// One column of kube's `printResourceQuota`: `pods: 1/2, requests.cpu: 0/1`.
fn usage_column(quota: &Value, limits: bool) -> String {
    let Some(hard) = quota.pointer("/spec/hard").and_then(Value::as_object) else {
        return String::new();
    };
    let mut names: Vec<&String> = hard.keys().collect();
    names.sort();
    let shown = |path: &str, name: &str| {
        quota
            .pointer(path)
            .and_then(|m| m.get(name))
            .and_then(Quantity::from_json)
            .unwrap_or_default()
            .to_string()
    };
    names
        .into_iter()
        .filter(|name| {
            let limit = name.split_once('.').is_some_and(|(first, _)| first == "limits");
            limit == limits
        })
        .map(|name| {
            format!("{name}: {}/{}", shown("/status/used", name), shown("/status/hard", name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::builtin::cause_texts as text;

    fn causes(quota: Value) -> Vec<String> {
        text(&ResourceQuotaStrategy.validate(&quota))
    }

    #[test]
    fn valid_quotas_pass() {
        let quota = json!({"spec": {
            "hard": {"pods": "2", "requests.cpu": "1", "limits.memory": "1Gi",
                     "count/deployments.apps": "3", "requests.nvidia.com/gpu": "1"},
            "scopes": ["NotTerminating"]}});
        assert!(causes(quota).is_empty());
        let selector = json!({"spec": {"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}});
        assert!(causes(selector).is_empty());
    }

    #[test]
    fn names_quantities_and_scopes_are_checked() {
        let quota = json!({"spec": {"hard": {"limit.cpu": "1", "pods": "1500m", "cpu": "-1",
                                             "secrets": "lots"}}});
        assert_eq!(
            causes(quota),
            [
                "spec.hard[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.hard[limit.cpu]: Invalid value: \"limit.cpu\": must be a standard resource type or fully qualified",
                "spec.hard[limit.cpu]: Invalid value: \"limit.cpu\": must be a standard resource for quota",
                "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
                "spec.hard[secrets]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ]
        );
        let scopes = json!({"spec": {"hard": {"configmaps": "1"}, "scopes": ["BestEffort", "NotBestEffort"]}});
        assert_eq!(
            causes(scopes),
            [
                "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"BestEffort\", \"NotBestEffort\"}: unsupported scope applied to resource",
                "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"BestEffort\", \"NotBestEffort\"}: unsupported scope applied to resource",
                "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"BestEffort\", \"NotBestEffort\"}: conflicting scopes",
            ]
        );
        let selector = json!({"spec": {"scopeSelector": {"matchExpressions": [
            {"scopeName": "BestEffort", "operator": "In", "values": []}]}}});
        assert_eq!(causes(selector).len(), 2);
    }

    #[test]
    fn columns_show_used_over_hard() {
        let quota = json!({"spec": {"hard": {"pods": "2", "limits.cpu": "1", "requests.cpu": "1"}},
                           "status": {"hard": {"pods": "2", "limits.cpu": "1", "requests.cpu": "1"},
                                      "used": {"pods": "1", "requests.cpu": "500m"}}});
        assert_eq!(usage_column(&quota, false), "pods: 1/2, requests.cpu: 500m/1");
        assert_eq!(usage_column(&quota, true), "limits.cpu: 0/1");
    }
}
