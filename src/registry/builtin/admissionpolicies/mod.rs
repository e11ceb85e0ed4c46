//! `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicies and
//! ValidatingAdmissionPolicyBindings (`pkg/registry/admissionregistration`): cluster-scoped CEL
//! policies and the bindings that put them in force. The `ValidatingAdmissionPolicy` admission
//! plugin ([`crate::admission::policy`]) reads both from their views.
//!
//! Defaulting is kube's v1 `SetDefaults_*`: a policy's `failurePolicy: Fail`; in
//! `matchConstraints` (and a binding's `matchResources`) `matchPolicy: Equivalent`, empty
//! selectors and each rule's `scope: "*"`. Validation is in [`validation`]; its CEL checks use
//! the policy environment of the plugin, so an expression that does not compile is refused here.
//!
//! A policy has a `status` subresource. kube fills `status.typeChecking` from a controller some
//! time after a write; here the strategy fills it on every write of the policy ([`status`]),
//! with `status.observedGeneration` the generation it checked, so the status a client reads
//! back is never stale. Printers are kube's: `NAME`, `VALIDATIONS`, `PARAMKIND`, `AGE` and
//! `NAME`, `POLICYNAME`, `PARAMREF`, `AGE`.

pub mod status;
pub mod validation;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{
    Kind, age_column, column, default_string, default_value, name_column, object_items_mut,
};
use crate::meta::labels::LabelSelector;
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "admissionregistration.k8s.io";
/// The plurals the plugin reads.
pub const POLICIES: &str = "validatingadmissionpolicies";
pub const BINDINGS: &str = "validatingadmissionpolicybindings";

const POLICY: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "ValidatingAdmissionPolicy",
    plural: POLICIES,
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    storage_prefix: "/validatingadmissionpolicies",
};

const BINDING: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "ValidatingAdmissionPolicyBinding",
    plural: BINDINGS,
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    storage_prefix: "/validatingadmissionpolicybindings",
};

pub fn policy_resource() -> Resource {
    Resource {
        status_subresource: true,
        ..POLICY.resource(Arc::new(PolicyStrategy), policy_table())
    }
}

pub fn binding_resource() -> Resource {
    BINDING.resource(Arc::new(BindingStrategy), binding_table())
}

/// `NAME`, `VALIDATIONS`, `PARAMKIND`, `AGE`.
fn policy_table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Validations",
                "integer",
                0,
                "Validations indicates the number of validation rules defined in this configuration",
                Cell::Computed(|p| super::array_at(p, "/spec/validations").len().into()),
            ),
            column(
                "ParamKind",
                "string",
                0,
                "ParamKind specifies the kind of resources used to parameterize this policy",
                Cell::Computed(param_kind_cell),
            ),
            age_column(),
        ],
    }
}

fn param_kind_cell(policy: &Value) -> Value {
    match policy.pointer("/spec/paramKind") {
        Some(kind) if kind.is_object() => {
            let api_version = super::str_at(kind, "/apiVersion");
            let kind = super::str_at(kind, "/kind");
            format!("{api_version}/{kind}").into()
        }
        _ => "<unset>".into(),
    }
}

/// `NAME`, `POLICYNAME`, `PARAMREF`, `AGE`.
fn binding_table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "PolicyName",
                "string",
                0,
                "PolicyName indicates the policy definition which the policy binding binded to",
                Cell::Computed(|b| super::str_at(b, "/spec/policyName").into()),
            ),
            column(
                "ParamRef",
                "string",
                0,
                "ParamRef indicates the param resource which sets the configration param",
                Cell::Computed(param_ref_cell),
            ),
            age_column(),
        ],
    }
}

/// kube's rendering: `namespace/name`, `*/name` without a namespace (the param may be
/// cluster-scoped), the selector, or `<unset>`.
fn param_ref_cell(binding: &Value) -> Value {
    let Some(param_ref) = binding.pointer("/spec/paramRef").filter(|p| p.is_object()) else {
        return "<unset>".into();
    };
    let name = super::str_at(param_ref, "/name");
    let namespace = super::str_at(param_ref, "/namespace");
    if !name.is_empty() {
        let shown =
            if namespace.is_empty() { format!("*/{name}") } else { format!("{namespace}/{name}") };
        return shown.into();
    }
    match param_ref.get("selector").map(LabelSelector::from_structured) {
        Some(Ok(selector)) => selector.to_string().into(),
        _ => "<unset>".into(),
    }
}

/// kube's defaults of a `MatchResources`.
fn default_match_resources(resources: &mut Map<String, Value>) {
    default_string(resources, "matchPolicy", "Equivalent");
    default_value(resources, "namespaceSelector", json!({}));
    default_value(resources, "objectSelector", json!({}));
    for key in ["resourceRules", "excludeResourceRules"] {
        for rule in object_items_mut(resources, key) {
            default_string(rule, "scope", "*");
        }
    }
}

fn spec_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    object.get_mut("spec").and_then(Value::as_object_mut)
}

/// ValidatingAdmissionPolicy rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyStrategy;

impl Strategy for PolicyStrategy {
    fn set_defaults(&self, object: &mut Value) {
        let Some(spec) = spec_mut(object) else { return };
        default_string(spec, "failurePolicy", "Fail");
        if let Some(constraints) = spec.get_mut("matchConstraints").and_then(Value::as_object_mut) {
            default_match_resources(constraints);
        }
    }

    fn prepare_for_create(&self, object: &mut Value) {
        status::fill(object, 1);
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        validation::validate_policy(object)
    }

    fn prepare_for_subresource_update(&self, subresource: &str, new: &mut Value, old: &Value) {
        if !subresource.is_empty() {
            return;
        }
        let generation = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
        let generation =
            if new.get("spec") != old.get("spec") { generation + 1 } else { generation };
        status::fill(new, generation);
    }
}

/// ValidatingAdmissionPolicyBinding rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct BindingStrategy;

impl Strategy for BindingStrategy {
    fn set_defaults(&self, object: &mut Value) {
        let Some(spec) = spec_mut(object) else { return };
        if let Some(resources) = spec.get_mut("matchResources").and_then(Value::as_object_mut) {
            default_match_resources(resources);
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        validation::validate_binding(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    #[test]
    fn defaults_as_kube_v1() {
        let mut policy = json!({"spec": {"matchConstraints": {"resourceRules": [
            {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"],
             "resources": ["deployments"]}]},
            "validations": [{"expression": "true"}]}});
        PolicyStrategy.decoded_create(&mut policy);
        assert_eq!(policy["spec"]["failurePolicy"], "Fail");
        let constraints = &policy["spec"]["matchConstraints"];
        assert_eq!(constraints["matchPolicy"], "Equivalent");
        assert_eq!(constraints["namespaceSelector"], json!({}));
        assert_eq!(constraints["objectSelector"], json!({}));
        assert_eq!(constraints["resourceRules"][0]["scope"], "*");
        let mut binding = json!({"spec": {"policyName": "p", "matchResources": {}}});
        BindingStrategy.decoded_create(&mut binding);
        assert_eq!(binding["spec"]["matchResources"]["matchPolicy"], "Equivalent");
    }

    #[test]
    fn served_cluster_wide_with_kube_columns() {
        let policy = policy_resource();
        assert!(!policy.namespaced && policy.status_subresource);
        let names: Vec<_> = policy.table.columns.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, ["Name", "Validations", "ParamKind", "Age"]);
        let objects = [
            json!({"metadata": {"name": "a"}, "spec": {"validations": [{}, {}],
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}}}),
            json!({"metadata": {"name": "b"}, "spec": {"validations": [{}]}}),
        ];
        let table = render_table(&policy.table, &objects, Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"][1], 2);
        assert_eq!(table["rows"][0]["cells"][2], "v1/ConfigMap");
        assert_eq!(table["rows"][1]["cells"][2], "<unset>");

        let binding = binding_resource();
        let names: Vec<_> = binding.table.columns.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, ["Name", "PolicyName", "ParamRef", "Age"]);
        let objects = [
            json!({"metadata": {"name": "a"}, "spec": {"policyName": "p",
                "paramRef": {"name": "limits", "namespace": "ns"}}}),
            json!({"metadata": {"name": "b"}, "spec": {"policyName": "p",
                "paramRef": {"name": "limits"}}}),
            json!({"metadata": {"name": "c"}, "spec": {"policyName": "p"}}),
        ];
        let table = render_table(&binding.table, &objects, Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"][1], "p");
        assert_eq!(table["rows"][0]["cells"][2], "ns/limits");
        assert_eq!(table["rows"][1]["cells"][2], "*/limits");
        assert_eq!(table["rows"][2]["cells"][2], "<unset>");
    }
}
