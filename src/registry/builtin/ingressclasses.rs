//! `networking.k8s.io/v1` IngressClasses (`pkg/registry/networking/ingressclass`,
//! `ValidateIngressClass*` in `pkg/apis/networking/validation`): which controller implements an
//! Ingress. Cluster-scoped; `spec.controller` is fixed at creation. The class annotated
//! `ingressclass.kubernetes.io/is-default-class: "true"` is what the DefaultIngressClass
//! admission plugin (`crate::admission::default_ingress_class`) gives an Ingress that names none.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Kind, age_column, child_object, column, default_value, name_column, opt_object, opt_str,
};
use crate::meta::validation::{
    FieldCause, is_dns1123_subdomain, is_valid_path_segment_name, regex_error,
    validate_namespace_name,
};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "networking.k8s.io";
pub const PLURAL: &str = "ingressclasses";

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "IngressClass",
    plural: PLURAL,
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/ingressclasses",
};

const MAX_CONTROLLER_LEN: usize = 250;
const SCOPES: &[&str] = &["Cluster", "Namespace"];
/// apimachinery's `httpPathFmt`.
const HTTP_PATH_FMT: &str = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+";

pub fn resource() -> Resource {
    KIND.resource(Arc::new(IngressClassStrategy), table())
}

/// IngressClass rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngressClassStrategy;

/// `SetDefaults_IngressClass`: parameters are cluster-scoped unless said otherwise.
fn default_class(class: &mut Value) {
    let Some(spec) = class.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if spec.get("parameters").is_some_and(Value::is_object)
        && let Some(parameters) = child_object(spec, "parameters")
    {
        default_value(parameters, "scope", json!("Cluster"));
    }
}

/// apimachinery's `IsDomainPrefixedPath`.
fn validate_domain_prefixed_path(path: &str, value: &str, causes: &mut Vec<FieldCause>) {
    if value.is_empty() {
        causes.push(FieldCause::required(path, ""));
        return;
    }
    let Some((host, rest)) = value.split_once('/').filter(|(h, r)| !h.is_empty() && !r.is_empty())
    else {
        causes.push(FieldCause::invalid(
            path,
            value,
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        ));
        return;
    };
    for msg in is_dns1123_subdomain(host) {
        causes.push(FieldCause::invalid(path, host, &msg));
    }
    let path_char = |c: char| c.is_ascii_alphanumeric() || "/-._~%!$&'()*+,;=:".contains(c);
    if !rest.chars().all(path_char) {
        causes.push(FieldCause::invalid(
            path,
            rest,
            &regex_error("Invalid path", HTTP_PATH_FMT, &[]),
        ));
    }
}

/// kube's `validateIngressTypedLocalObjectReference`: `apiGroup`, `kind` and `name` of a
/// reference (IngressClass parameters, Ingress resource backends).
pub(crate) fn validate_typed_reference(
    reference: &Value,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    let group_path = format!("{path}.apiGroup");
    if let Some(group) = opt_str(reference, "apiGroup", &group_path, causes) {
        for msg in is_dns1123_subdomain(group) {
            causes.push(FieldCause::invalid(&group_path, group, &msg));
        }
    }
    for key in ["kind", "name"] {
        let field = format!("{path}.{key}");
        match opt_str(reference, key, &field, causes).unwrap_or("") {
            "" => causes.push(FieldCause::required(&field, &format!("{key} is required"))),
            value => {
                for msg in is_valid_path_segment_name(value) {
                    causes.push(FieldCause::invalid(&field, value, &msg));
                }
            }
        }
    }
}

fn validate_parameters(spec: &Value, causes: &mut Vec<FieldCause>) {
    let path = "spec.parameters";
    let Some(parameters) = opt_object(spec, "parameters", path, causes) else { return };
    let parameters = Value::Object(parameters.clone());
    validate_typed_reference(&parameters, path, causes);
    let scope = match opt_str(&parameters, "scope", "spec.parameters.scope", causes) {
        Some(scope) => scope,
        None => {
            causes.push(FieldCause::required("spec.parameters.scope", ""));
            return;
        }
    };
    let namespace = parameters.get("namespace").filter(|n| !n.is_null());
    match scope {
        "Namespace" => match namespace.map(|n| n.as_str().unwrap_or_default()) {
            None => causes.push(FieldCause::required(
                "spec.parameters.namespace",
                "`parameters.scope` is set to 'Namespace'",
            )),
            Some(name) => {
                for msg in validate_namespace_name(name, false) {
                    causes.push(FieldCause::invalid("spec.parameters.namespace", name, &msg));
                }
            }
        },
        "Cluster" if namespace.is_some() => causes.push(FieldCause::forbidden(
            "spec.parameters.namespace",
            "`parameters.scope` is set to 'Cluster'",
        )),
        "Cluster" => {}
        other => causes.push(FieldCause::not_supported("spec.parameters.scope", other, SCOPES)),
    }
}

impl Strategy for IngressClassStrategy {
    fn set_defaults(&self, class: &mut Value) {
        default_class(class);
    }

    fn validate(&self, class: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let null = Value::Null;
        let spec = match opt_object(class, "spec", "spec", &mut causes) {
            Some(_) => &class["spec"],
            None => &null,
        };
        let controller = opt_str(spec, "controller", "spec.controller", &mut causes).unwrap_or("");
        if controller.len() > MAX_CONTROLLER_LEN {
            causes.push(FieldCause::too_long("spec.controller", MAX_CONTROLLER_LEN));
        }
        validate_domain_prefixed_path("spec.controller", controller, &mut causes);
        validate_parameters(spec, &mut causes);
        causes
    }

    fn validate_update(&self, class: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let controller = class.pointer("/spec/controller").unwrap_or(&Value::Null);
        if controller != old.pointer("/spec/controller").unwrap_or(&Value::Null) {
            causes.push(super::immutable("spec.controller", controller));
        }
        causes.extend(self.validate(class));
        causes
    }
}

/// The Parameters cell: `Kind.group/name`, `<none>` without parameters.
fn parameters_text(class: &Value) -> Value {
    let Some(parameters) = class.pointer("/spec/parameters").filter(|p| p.is_object()) else {
        return "<none>".into();
    };
    let text = |key: &str| parameters.get(key).and_then(Value::as_str);
    let mut out = text("kind").unwrap_or_default().to_owned();
    if let Some(group) = text("apiGroup") {
        out.push('.');
        out.push_str(group);
    }
    out.push('/');
    out.push_str(text("name").unwrap_or_default());
    out.into()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Controller",
                "string",
                0,
                "Controller that is responsible for handling this class",
                Cell::Computed(|class| super::str_at(class, "/spec/controller").into()),
            ),
            column(
                "Parameters",
                "string",
                0,
                "A reference to a resource with additional parameters",
                Cell::Computed(parameters_text),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn class(spec: Value) -> Value {
        let mut c = json!({"metadata": {"name": "nginx"}, "spec": spec});
        IngressClassStrategy.decoded_create(&mut c);
        c
    }

    #[test]
    fn a_valid_class_and_its_defaults() {
        let c = class(json!({"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}));
        assert_eq!(c["spec"]["parameters"]["scope"], "Cluster");
        assert!(IngressClassStrategy.validate(&c).is_empty());
    }

    #[test]
    fn controller_and_parameters_are_checked() {
        assert_eq!(
            cause_texts(&IngressClassStrategy.validate(&class(json!({})))),
            ["spec.controller: Required value"]
        );
        assert_eq!(
            cause_texts(&IngressClassStrategy.validate(&class(json!({"controller": "nginx"})))),
            ["spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such \
                 as \"acme.io/foo\")"]
        );
        let c = class(json!({"controller": "example.com/x",
            "parameters": {"kind": "", "name": "a/b", "scope": "Namespace"}}));
        assert_eq!(
            cause_texts(&IngressClassStrategy.validate(&c)),
            [
                "spec.parameters.kind: Required value: kind is required",
                "spec.parameters.name: Invalid value: \"a/b\": may not contain '/'",
                "spec.parameters.namespace: Required value: `parameters.scope` is set to \
                 'Namespace'",
            ]
        );
        let c = class(json!({"controller": "example.com/x",
            "parameters": {"kind": "K", "name": "n", "scope": "Cluster", "namespace": "ns"}}));
        assert_eq!(
            cause_texts(&IngressClassStrategy.validate(&c)),
            ["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"]
        );
    }

    #[test]
    fn the_controller_is_fixed() {
        let old = class(json!({"controller": "example.com/a"}));
        let new = class(json!({"controller": "example.com/b"}));
        assert_eq!(
            cause_texts(&IngressClassStrategy.validate_update(&new, &old)),
            ["spec.controller: Invalid value: \"example.com/b\": field is immutable"]
        );
    }

    #[test]
    fn table_columns() {
        let with = class(json!({"controller": "example.com/a",
            "parameters": {"apiGroup": "example.com", "kind": "P", "name": "p"}}));
        let without = class(json!({"controller": "example.com/a"}));
        let table =
            render_table(&table(), &[with, without], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"][2], "P.example.com/p");
        assert_eq!(table["rows"][1]["cells"][2], "<none>");
    }
}
