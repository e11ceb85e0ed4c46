//! A policy's status as kube's type-checking controller writes it: `observedGeneration` and
//! `typeChecking.expressionWarnings`, one warning per expression that does not type-check
//! against a kind the policy matches (`fieldRef` the expression's field, `warning` one line
//! per kind: `apps/v1, Kind=Deployment: ERROR: <input>:…`).
//!
//! The kinds are those `matchConstraints.resourceRules` name without wildcards (each group ×
//! version × resource, subresources skipped), resolved through the built-in schema; `params` is
//! typed by the `paramKind` when it is built in. What is checked is
//! [`crate::admission::policy::typecheck`]'s: fields of `object`, `oldObject` and `params`
//! (kube's checker also reports operand type mismatches, which this one does not).

use serde_json::{Value, json};

use crate::admission::policy::compile::env;
use crate::admission::policy::typecheck::{Declared, Roots, field_warnings};
use crate::schema::{self, DefId};

/// kube checks at most this many kinds per policy.
const MAX_KINDS: usize = 10;

/// Sets `status` of `policy` for `generation`.
pub fn fill(policy: &mut Value, generation: i64) {
    let warnings = type_check(policy);
    let mut status = policy.get("status").cloned().filter(Value::is_object).unwrap_or(json!({}));
    status["observedGeneration"] = generation.into();
    status["typeChecking"] =
        if warnings.is_empty() { json!({}) } else { json!({"expressionWarnings": warnings}) };
    if let Some(map) = policy.as_object_mut() {
        map.insert("status".into(), status);
    }
}

/// `(group/version, Kind, definition)` of every kind the policy's rules name exactly.
fn matched_kinds(spec: &Value) -> Vec<(String, &'static str, DefId)> {
    let strings = |rule: &Value, key: &str| -> Vec<String> {
        let items = rule.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    let rules = spec.pointer("/matchConstraints/resourceRules").and_then(Value::as_array);
    let mut kinds = Vec::new();
    for rule in rules.map(Vec::as_slice).unwrap_or(&[]) {
        for group in strings(rule, "apiGroups") {
            for version in strings(rule, "apiVersions") {
                for resource in strings(rule, "resources") {
                    if [&group, &version, &resource].iter().any(|s| s.contains('*'))
                        || resource.contains('/')
                    {
                        continue;
                    }
                    let Some(names) =
                        schema::builtin_resource_by_plural(&group, &version, &resource)
                    else {
                        continue;
                    };
                    let gvk = names.gvk;
                    let Some(id) = schema::builtin().by_gvk(gvk.group, gvk.version, gvk.kind)
                    else {
                        continue;
                    };
                    let gv = if gvk.group.is_empty() {
                        version.clone()
                    } else {
                        format!("{group}/{version}")
                    };
                    if !kinds.iter().any(|(g, k, _)| *g == gv && *k == gvk.kind) {
                        kinds.push((gv, gvk.kind, id));
                    }
                }
            }
        }
    }
    kinds.truncate(MAX_KINDS);
    kinds
}

/// The `expressionWarnings` of a policy.
pub fn type_check(policy: &Value) -> Vec<Value> {
    let spec = policy.get("spec").unwrap_or(&Value::Null);
    let kinds = matched_kinds(spec);
    let param_kind = spec.get("paramKind").filter(|p| p.is_object());
    let params = param_kind.and_then(|p| {
        let api_version = p.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = p.get("kind").and_then(Value::as_str).unwrap_or("");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        schema::builtin().by_gvk(group, version, kind)
    });
    if kinds.is_empty() && params.is_none() {
        return Vec::new();
    }
    let variables: Vec<String> = items(spec, "variables")
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let declared = Declared { params: param_kind.is_some(), variables: &variables };
    let mut expressions = Vec::new();
    for (key, field) in [
        ("validations", "expression"),
        ("validations", "messageExpression"),
        ("auditAnnotations", "valueExpression"),
        ("matchConditions", "expression"),
        ("variables", "expression"),
    ] {
        for (i, item) in items(spec, key).iter().enumerate() {
            if let Some(source) = item.get(field).and_then(Value::as_str).filter(|s| !s.is_empty())
            {
                expressions.push((format!("spec.{key}[{i}].{field}"), source));
            }
        }
    }
    let env = env();
    let mut warnings = Vec::new();
    for (field_ref, source) in expressions {
        let Ok(program) = env.compile(source) else { continue };
        let mut lines = Vec::new();
        let mut check = |prefix: String, roots: Roots| {
            for warning in field_warnings(program.expression(), source, &declared, roots) {
                lines.push(format!("{prefix}{warning}"));
            }
        };
        if kinds.is_empty() {
            check(String::new(), Roots { object: None, params });
        }
        for (gv, kind, id) in &kinds {
            check(format!("{gv}, Kind={kind}: "), Roots { object: Some(*id), params });
        }
        if !lines.is_empty() {
            warnings.push(json!({"fieldRef": field_ref, "warning": lines.join("\n")}));
        }
    }
    warnings
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(validations: Value) -> Value {
        json!({"spec": {
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["deployments", "replicasets", "*"]}]},
            "validations": validations}})
    }

    #[test]
    fn warnings_name_each_kind_and_the_expression() {
        let mut object = policy(json!([
            {"expression": "object.spec.replicas <= int(params.data.max)"},
            {"expression": "object.spec.replica > 1 && params.dta.x == 'y'"}]));
        fill(&mut object, 3);
        assert_eq!(object["status"]["observedGeneration"], 3);
        let warnings = object["status"]["typeChecking"]["expressionWarnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0]["fieldRef"], "spec.validations[1].expression");
        let text = warnings[0]["warning"].as_str().unwrap();
        let lines: Vec<_> = text.lines().filter(|l| !l.starts_with(" |")).collect();
        assert_eq!(
            lines,
            [
                "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replica'",
                "apps/v1, Kind=Deployment: ERROR: <input>:1:34: undefined field 'dta'",
                "apps/v1, Kind=ReplicaSet: ERROR: <input>:1:12: undefined field 'replica'",
                "apps/v1, Kind=ReplicaSet: ERROR: <input>:1:34: undefined field 'dta'",
            ]
        );
    }

    #[test]
    fn a_clean_policy_has_empty_type_checking() {
        let mut object = policy(json!([{"expression": "object.spec.replicas > 0"}]));
        fill(&mut object, 1);
        assert_eq!(object["status"], json!({"observedGeneration": 1, "typeChecking": {}}));
    }
}
