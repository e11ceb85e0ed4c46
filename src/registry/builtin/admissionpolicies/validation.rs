//! Validation of ValidatingAdmissionPolicies and their bindings with kube's field paths and
//! messages (`pkg/apis/admissionregistration/validation`): `matchConstraints` required with
//! `resourceRules` (the webhooks' rule checks, plus `resourceNames`), `failurePolicy`,
//! `matchPolicy`, selectors, `paramKind`, at least one validation or audit annotation, every
//! CEL expression compiled in the policy environment (`compilation failed: …`), reasons,
//! messages without line breaks, audit annotation keys, unique match condition and variable
//! names; a binding's `policyName`, `paramRef` (a name or a selector, and
//! `parameterNotFoundAction`) and `validationActions` (`Deny`, `Warn`, `Audit`, not both `Deny`
//! and `Warn`, no duplicates).

use std::collections::HashSet;

use serde_json::Value;

use super::super::webhookconfigurations::validation::{
    strings, validate_match_condition_name, validate_rule, validate_selectors,
};
use super::super::{object_items, opt_array, opt_object, opt_str, str_at};
use crate::admission::policy::compile::compile_expression;
use crate::admission::policy::typecheck::Declared;
use crate::meta::labels::validate_label_selector;
use crate::meta::validation::{FieldCause, is_c_identifier, is_dns1035_label, is_qualified_name};

const FAILURE_POLICIES: [&str; 2] = ["Fail", "Ignore"];
const MATCH_POLICIES: [&str; 2] = ["Equivalent", "Exact"];
const REASONS: [&str; 4] = ["Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge"];
const ACTIONS: [&str; 3] = ["Audit", "Deny", "Warn"];
const NOT_FOUND_ACTIONS: [&str; 2] = ["Allow", "Deny"];

/// Every cause of a policy; ObjectMeta is the store's.
pub fn validate_policy(policy: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let Some(_) = opt_object(policy, "spec", "spec", &mut causes) else {
        causes.push(FieldCause::required("spec.matchConstraints", ""));
        return causes;
    };
    let spec = &policy["spec"];
    if let Some(value) = opt_str(spec, "failurePolicy", "spec.failurePolicy", &mut causes)
        && !FAILURE_POLICIES.contains(&value)
    {
        causes.push(FieldCause::not_supported("spec.failurePolicy", value, &FAILURE_POLICIES));
    }
    let has_params = match spec.get("paramKind").filter(|p| !p.is_null()) {
        Some(kind) => {
            validate_param_kind(kind, &mut causes);
            true
        }
        None => false,
    };
    match spec.get("matchConstraints").filter(|m| !m.is_null()) {
        None => causes.push(FieldCause::required("spec.matchConstraints", "")),
        Some(constraints) => {
            validate_match_resources(constraints, "spec.matchConstraints", &mut causes);
            let rules = constraints.get("resourceRules").and_then(Value::as_array);
            if rules.is_none_or(Vec::is_empty) {
                causes.push(FieldCause::required("spec.matchConstraints.resourceRules", ""));
            }
        }
    }

    // Variables first: the other expressions may name them.
    let mut variable_names = Vec::new();
    let variables = opt_array(spec, "variables", "spec.variables", &mut causes);
    for (i, variable) in object_items(variables, "spec.variables", &mut causes) {
        let path = format!("spec.variables[{i}]");
        let name = str_at(variable, "/name");
        if name.is_empty() {
            causes.push(FieldCause::required(format!("{path}.name"), "name is not specified"));
        } else if !is_c_identifier(name).is_empty() {
            causes.push(FieldCause::invalid(
                format!("{path}.name"),
                name,
                "name is not a valid CEL identifier",
            ));
        } else if variable_names.iter().any(|n| n == name) {
            causes.push(FieldCause::duplicate(format!("{path}.name"), name));
        }
        variable_names.push(name.to_owned());
    }
    let declared = Declared { params: has_params, variables: &variable_names };
    for (i, variable) in object_items(variables, "spec.variables", &mut Vec::new()) {
        let path = format!("spec.variables[{i}].expression");
        check_expression(str_at(variable, "/expression"), &path, &declared, &mut causes);
    }

    let validations = opt_array(spec, "validations", "spec.validations", &mut causes);
    let annotations = opt_array(spec, "auditAnnotations", "spec.auditAnnotations", &mut causes);
    if validations.is_empty() && annotations.is_empty() {
        causes.push(FieldCause::required(
            "spec.validations",
            "validations or auditAnnotations must contain at least one item",
        ));
    }
    for (i, validation) in object_items(validations, "spec.validations", &mut causes) {
        let path = format!("spec.validations[{i}]");
        check_expression(
            str_at(validation, "/expression"),
            &format!("{path}.expression"),
            &declared,
            &mut causes,
        );
        let message = str_at(validation, "/message");
        if message.contains('\n') {
            causes.push(FieldCause::invalid(
                format!("{path}.message"),
                message,
                "message must not contain line breaks",
            ));
        } else if !message.is_empty() && message.trim().is_empty() {
            causes.push(FieldCause::required(
                format!("{path}.message"),
                "message must be non-empty if specified",
            ));
        }
        let message_expression = str_at(validation, "/messageExpression");
        if !message_expression.trim().is_empty()
            && let Err(detail) = compile_expression(message_expression, &declared)
        {
            causes.push(FieldCause::invalid(
                format!("{path}.messageExpression"),
                message_expression,
                &detail,
            ));
        }
        if let Some(reason) = opt_str(validation, "reason", &format!("{path}.reason"), &mut causes)
            && !REASONS.contains(&reason)
        {
            causes.push(FieldCause::not_supported(format!("{path}.reason"), reason, &REASONS));
        }
    }

    let policy_name = str_at(policy, "/metadata/name");
    let mut keys = HashSet::new();
    for (i, annotation) in object_items(annotations, "spec.auditAnnotations", &mut causes) {
        let path = format!("spec.auditAnnotations[{i}]");
        let key = str_at(annotation, "/key");
        if key.is_empty() {
            causes.push(FieldCause::required(format!("{path}.key"), ""));
        } else {
            let qualified = format!("{policy_name}/{key}");
            for message in is_qualified_name(&qualified) {
                causes.push(FieldCause::invalid(format!("{path}.key"), key, &message));
            }
            if !keys.insert(key) {
                causes.push(FieldCause::duplicate(format!("{path}.key"), key));
            }
        }
        check_expression(
            str_at(annotation, "/valueExpression"),
            &format!("{path}.valueExpression"),
            &declared,
            &mut causes,
        );
    }

    let conditions = opt_array(spec, "matchConditions", "spec.matchConditions", &mut causes);
    let mut names = HashSet::new();
    for (i, condition) in object_items(conditions, "spec.matchConditions", &mut causes) {
        let path = format!("spec.matchConditions[{i}]");
        let name = str_at(condition, "/name");
        validate_match_condition_name(name, &format!("{path}.name"), &mut names, &mut causes);
        check_expression(
            str_at(condition, "/expression"),
            &format!("{path}.expression"),
            &declared,
            &mut causes,
        );
    }
    causes
}

/// An expression: required, and compiled in the policy environment.
fn check_expression(
    source: &str,
    path: &str,
    declared: &Declared<'_>,
    causes: &mut Vec<FieldCause>,
) {
    if source.trim().is_empty() {
        causes.push(FieldCause::required(path, "expression is not specified"));
        return;
    }
    if let Err(detail) = compile_expression(source, declared) {
        causes.push(FieldCause::invalid(path, source, &detail));
    }
}

fn validate_param_kind(kind: &Value, causes: &mut Vec<FieldCause>) {
    let api_version = str_at(kind, "/apiVersion");
    if api_version.is_empty() {
        causes.push(FieldCause::required("spec.paramKind.apiVersion", ""));
    } else if api_version.split('/').count() > 2 || api_version.ends_with('/') {
        causes.push(FieldCause::invalid(
            "spec.paramKind.apiVersion",
            api_version,
            &format!("unexpected GroupVersion string: {api_version}"),
        ));
    }
    let kind = str_at(kind, "/kind");
    if kind.is_empty() {
        causes.push(FieldCause::required("spec.paramKind.kind", ""));
    } else {
        for message in is_dns1035_label(&kind.to_lowercase()) {
            causes.push(FieldCause::invalid("spec.paramKind.kind", kind, &message));
        }
    }
}

/// A `MatchResources`: selectors, `matchPolicy`, rules with their `resourceNames`.
fn validate_match_resources(resources: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    if let Some(value) = opt_str(resources, "matchPolicy", &format!("{path}.matchPolicy"), causes)
        && !MATCH_POLICIES.contains(&value)
    {
        causes.push(FieldCause::not_supported(
            format!("{path}.matchPolicy"),
            value,
            &MATCH_POLICIES,
        ));
    }
    validate_selectors(resources, path, causes);
    for key in ["resourceRules", "excludeResourceRules"] {
        let rules_path = format!("{path}.{key}");
        let rules = opt_array(resources, key, &rules_path, causes);
        for (i, rule) in object_items(rules, &rules_path, causes) {
            let rule_path = format!("{rules_path}[{i}]");
            validate_rule(rule, &rule_path, causes);
            let names_path = format!("{rule_path}.resourceNames");
            let mut seen = HashSet::new();
            for (j, name) in strings(rule, "resourceNames", &names_path, causes).iter().enumerate()
            {
                if !seen.insert(*name) {
                    causes.push(FieldCause::duplicate(format!("{names_path}[{j}]"), *name));
                }
            }
        }
    }
}

/// Every cause of a binding; ObjectMeta is the store's.
pub fn validate_binding(binding: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let spec = match opt_object(binding, "spec", "spec", &mut causes) {
        Some(_) => &binding["spec"],
        None => &Value::Null,
    };
    if str_at(spec, "/policyName").is_empty() {
        causes.push(FieldCause::required("spec.policyName", ""));
    }
    if let Some(param_ref) = spec.get("paramRef").filter(|p| !p.is_null()) {
        let name = str_at(param_ref, "/name");
        let selector = param_ref.get("selector").filter(|s| !s.is_null());
        match (name.is_empty(), selector) {
            (false, Some(_)) => causes.push(FieldCause::forbidden(
                "spec.paramRef.name",
                "name and selector are mutually exclusive",
            )),
            (true, None) => causes.push(FieldCause::required(
                "spec.paramRef",
                "one of name or selector must be specified",
            )),
            (_, Some(selector)) => {
                causes.extend(validate_label_selector(selector, "spec.paramRef.selector"));
            }
            (false, None) => {}
        }
        let field = "spec.paramRef.parameterNotFoundAction";
        match str_at(param_ref, "/parameterNotFoundAction") {
            "" => causes.push(FieldCause::required(field, "")),
            action if !NOT_FOUND_ACTIONS.contains(&action) => {
                causes.push(FieldCause::not_supported(field, action, &NOT_FOUND_ACTIONS));
            }
            _ => {}
        }
    }
    if let Some(resources) = spec.get("matchResources").filter(|m| !m.is_null()) {
        validate_match_resources(resources, "spec.matchResources", &mut causes);
    }
    let field = "spec.validationActions";
    let actions = strings(spec, "validationActions", field, &mut causes);
    if actions.is_empty() {
        causes.push(FieldCause::required(field, "at least one validation action is required"));
    }
    let mut seen = HashSet::new();
    for (i, action) in actions.iter().enumerate() {
        if !ACTIONS.contains(action) {
            causes.push(FieldCause::not_supported(format!("{field}[{i}]"), *action, &ACTIONS));
        } else if !seen.insert(*action) {
            causes.push(FieldCause::duplicate(format!("{field}[{i}]"), *action));
        }
    }
    if seen.contains("Deny") && seen.contains("Warn") {
        causes.push(FieldCause::invalid(
            field,
            Value::from(actions.iter().map(|a| Value::from(*a)).collect::<Vec<_>>()),
            "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::builtin::cause_texts;

    fn policy(spec: Value) -> Value {
        json!({"metadata": {"name": "demo.example.com"}, "spec": spec})
    }

    fn rules() -> Value {
        json!({"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]})
    }

    #[test]
    fn a_valid_policy_passes() {
        let ok = policy(json!({"matchConstraints": rules(),
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "variables": [{"name": "replicas", "expression": "object.spec.replicas"}],
            "validations": [{"expression": "variables.replicas <= int(params.data.max)",
                "reason": "Forbidden", "messageExpression": "'too many'"}],
            "auditAnnotations": [{"key": "high", "valueExpression": "'x'"}],
            "matchConditions": [{"name": "not-system", "expression": "request.userInfo.username != 'system:admin'"}]}));
        assert_eq!(cause_texts(&validate_policy(&ok)), Vec::<String>::new());
    }

    #[test]
    fn policies_are_refused_with_kube_causes() {
        let causes = cause_texts(&validate_policy(&policy(json!({}))));
        assert_eq!(
            causes,
            [
                "spec.matchConstraints: Required value",
                "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
            ]
        );
        let bad = policy(json!({"matchConstraints": rules(), "failurePolicy": "Maybe",
            "validations": [{"expression": "object.spec.replicas >"}, {"expression": ""},
                {"expression": "params.x", "reason": "Nope", "message": "a\nb"}]}));
        let causes = cause_texts(&validate_policy(&bad));
        assert_eq!(causes.len(), 6, "{causes:#?}");
        assert!(causes[0].starts_with("spec.failurePolicy: Unsupported value: \"Maybe\""));
        assert!(
            causes[1].starts_with("spec.validations[0].expression: Invalid value: \"object.spec.replicas >\": compilation failed: ERROR: <input>:1:"),
            "{}",
            causes[1]
        );
        assert_eq!(
            causes[2],
            "spec.validations[1].expression: Required value: expression is not specified"
        );
        assert!(causes[3].contains("undeclared reference to 'params'"), "{}", causes[3]);
        assert_eq!(
            causes[4],
            "spec.validations[2].message: Invalid value: \"a\\nb\": message must not contain line breaks"
        );
        assert!(causes[5].starts_with("spec.validations[2].reason: Unsupported value: \"Nope\""));
    }

    #[test]
    fn bindings_are_refused_with_kube_causes() {
        let causes = cause_texts(&validate_binding(&json!({"spec": {}})));
        assert_eq!(
            causes,
            [
                "spec.policyName: Required value",
                "spec.validationActions: Required value: at least one validation action is required",
            ]
        );
        let bad = json!({"spec": {"policyName": "p", "validationActions": ["Deny", "Warn", "Deny", "Log"],
            "paramRef": {"namespace": "ns"}}});
        let causes = cause_texts(&validate_binding(&bad));
        assert_eq!(causes.len(), 5, "{causes:#?}");
        assert_eq!(
            causes[0],
            "spec.paramRef: Required value: one of name or selector must be specified"
        );
        assert_eq!(causes[1], "spec.paramRef.parameterNotFoundAction: Required value");
        assert_eq!(causes[2], "spec.validationActions[2]: Duplicate value: \"Deny\"");
        assert!(causes[3].starts_with("spec.validationActions[3]: Unsupported value: \"Log\""));
        assert!(causes[4].contains("must not contain both Deny and Warn"));
        let ok = json!({"spec": {"policyName": "p", "validationActions": ["Warn", "Audit"],
            "paramRef": {"name": "limits", "parameterNotFoundAction": "Allow"},
            "matchResources": {"namespaceSelector": {"matchLabels": {"env": "test"}}}}});
        assert_eq!(cause_texts(&validate_binding(&ok)), Vec::<String>::new());
    }
}
