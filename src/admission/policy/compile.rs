//! Stored policies and bindings → what the plugin runs: every CEL expression of a policy parsed
//! once (per stored revision, see [`super::source`]) in the policy environment, with the
//! declaration checks of [`super::typecheck`]. The registry's validation of a policy calls
//! [`compile_expression`] too, so a policy whose expressions do not compile is refused when it
//! is written, with kube's `compilation failed: …` detail.

use std::sync::{Arc, LazyLock};

use cel::{Env, Program};
use serde_json::Value;

use super::authorizer;
use super::matching::MatchResources;
use super::typecheck::{Declared, declaration_errors};
use crate::apiextensions::cel::library;
use crate::meta::labels::LabelSelector;

/// The environment of admission policy expressions: the CRD rules' libraries and kube's
/// authorizer library.
pub fn env() -> Arc<Env> {
    static ENV: LazyLock<Arc<Env>> =
        LazyLock::new(|| Arc::new(library::build(authorizer::register)));
    ENV.clone()
}

/// `source` compiled, or kube's detail for a field error (`compilation failed: ERROR: …`).
pub fn compile_expression(source: &str, declared: &Declared<'_>) -> Result<Program, String> {
    let program =
        env().compile(source).map_err(|errors| format!("compilation failed: {errors}"))?;
    let errors = declaration_errors(program.expression(), source, declared);
    if !errors.is_empty() {
        return Err(format!("compilation failed: {}", errors.join("\n")));
    }
    Ok(program)
}

/// One compiled expression and its source (for messages).
#[derive(Debug)]
pub struct Expression {
    pub source: String,
    pub program: Program,
}

#[derive(Debug)]
pub struct Validation {
    pub expression: Expression,
    pub message: String,
    pub message_expression: Option<Expression>,
    /// `Invalid` when unset.
    pub reason: Option<String>,
}

/// A named expression: a match condition, a variable, or an audit annotation (by its key).
#[derive(Debug)]
pub struct Named {
    pub name: String,
    pub expression: Expression,
}

/// `spec.paramKind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamKind {
    pub api_version: String,
    pub kind: String,
}

impl ParamKind {
    /// `(group, version)` of `apiVersion`.
    pub fn group_version(&self) -> (&str, &str) {
        self.api_version.split_once('/').unwrap_or(("", &self.api_version))
    }
}

/// A ValidatingAdmissionPolicy, compiled.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    /// `failurePolicy: Fail` (the default): errors refuse the write.
    pub fail: bool,
    pub param_kind: Option<ParamKind>,
    pub match_constraints: MatchResources,
    pub match_conditions: Vec<Named>,
    pub variables: Vec<Named>,
    pub validations: Vec<Validation>,
    pub audit_annotations: Vec<Named>,
    /// Why the stored policy cannot be used (an expression that no longer compiles): every
    /// write it matches meets its failure policy, as kube's `ConfigurationError`.
    pub configuration_error: Option<String>,
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

impl Policy {
    /// Compiles a stored policy.
    pub fn compile(object: &Value) -> Policy {
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let param_kind = spec.get("paramKind").filter(|p| p.is_object()).map(|p| ParamKind {
            api_version: text(p, "apiVersion").to_owned(),
            kind: text(p, "kind").to_owned(),
        });
        let variable_names: Vec<String> =
            items(spec, "variables").iter().map(|v| text(v, "name").to_owned()).collect();
        let declared = Declared { params: param_kind.is_some(), variables: &variable_names };
        let mut errors = Vec::new();
        let mut compile = |source: &str, field: String| match compile_expression(source, &declared)
        {
            Ok(program) => Some(Expression { source: source.to_owned(), program }),
            Err(detail) => {
                errors.push(format!("{field}: {detail}"));
                None
            }
        };
        let mut named = |key: &str, name_key: &str, expression_key: &str| -> Vec<Named> {
            items(spec, key)
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let field = format!("spec.{key}[{i}].{expression_key}");
                    let expression = compile(text(item, expression_key), field)?;
                    Some(Named { name: text(item, name_key).to_owned(), expression })
                })
                .collect()
        };
        let match_conditions = named("matchConditions", "name", "expression");
        let variables = named("variables", "name", "expression");
        let audit_annotations = named("auditAnnotations", "key", "valueExpression");
        let mut validations = Vec::new();
        for (i, item) in items(spec, "validations").iter().enumerate() {
            let Some(expression) =
                compile(text(item, "expression"), format!("spec.validations[{i}].expression"))
            else {
                continue;
            };
            let message_expression = match text(item, "messageExpression") {
                "" => None,
                source => compile(source, format!("spec.validations[{i}].messageExpression")),
            };
            validations.push(Validation {
                expression,
                message: text(item, "message").to_owned(),
                message_expression,
                reason: item.get("reason").and_then(Value::as_str).map(str::to_owned),
            });
        }
        Policy {
            name: object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_owned(),
            fail: text(spec, "failurePolicy") != "Ignore",
            param_kind,
            match_constraints: MatchResources::parse(
                spec.get("matchConstraints").unwrap_or(&Value::Null),
            ),
            match_conditions,
            variables,
            validations,
            audit_annotations,
            configuration_error: (!errors.is_empty()).then(|| errors.join("; ")),
        }
    }
}

/// `spec.paramRef` of a binding.
#[derive(Debug)]
pub struct ParamRef {
    pub name: String,
    pub namespace: String,
    /// Set when the binding selects its params by labels instead of by name.
    pub selector: Option<LabelSelector>,
    /// `parameterNotFoundAction: Deny`: no params is an error (else the binding is skipped).
    pub deny_not_found: bool,
}

/// A ValidatingAdmissionPolicyBinding, read.
#[derive(Debug)]
pub struct Binding {
    pub name: String,
    pub policy_name: String,
    pub param_ref: Option<ParamRef>,
    pub match_resources: Option<MatchResources>,
    /// `validationActions` as stored (`Deny`, `Warn`, `Audit`).
    pub actions: Vec<String>,
}

impl Binding {
    pub fn parse(object: &Value) -> Binding {
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let param_ref = spec.get("paramRef").filter(|p| p.is_object()).map(|p| ParamRef {
            name: text(p, "name").to_owned(),
            namespace: text(p, "namespace").to_owned(),
            selector: p.get("selector").filter(|s| !s.is_null()).map(|s| {
                LabelSelector::from_structured(s).unwrap_or_else(|_| LabelSelector::nothing())
            }),
            deny_not_found: text(p, "parameterNotFoundAction") != "Allow",
        });
        Binding {
            name: object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_owned(),
            policy_name: text(spec, "policyName").to_owned(),
            param_ref,
            match_resources: spec
                .get("matchResources")
                .filter(|m| m.is_object())
                .map(MatchResources::parse),
            actions: items(spec, "validationActions")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn policies_compile_every_expression_once() {
        let policy = Policy::compile(&json!({"metadata": {"name": "p"}, "spec": {
            "failurePolicy": "Ignore",
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["deployments"]}]},
            "variables": [{"name": "replicas", "expression": "object.spec.replicas"}],
            "validations": [{"expression": "variables.replicas <= int(params.data.max)",
                             "messageExpression": "'too many: ' + string(variables.replicas)"}],
            "auditAnnotations": [{"key": "replicas", "valueExpression": "string(variables.replicas)"}]}}));
        assert_eq!(policy.configuration_error, None);
        assert!(!policy.fail);
        assert_eq!(policy.param_kind.as_ref().unwrap().group_version(), ("", "v1"));
        assert_eq!(policy.validations.len(), 1);
        assert!(policy.validations[0].message_expression.is_some());
        assert_eq!(policy.audit_annotations[0].name, "replicas");

        let broken = Policy::compile(&json!({"metadata": {"name": "p"}, "spec": {
            "validations": [{"expression": "params.x == 1"}]}}));
        let error = broken.configuration_error.unwrap();
        assert!(error.starts_with("spec.validations[0].expression: compilation failed: ERROR: <input>:1:1: undeclared reference to 'params'"), "{error}");
    }

    #[test]
    fn bindings_default_to_deny_when_params_are_missing() {
        let binding = Binding::parse(&json!({"metadata": {"name": "b"}, "spec": {
            "policyName": "p", "validationActions": ["Warn", "Audit"],
            "paramRef": {"name": "limits", "namespace": "ns"}}}));
        assert!(binding.param_ref.as_ref().unwrap().deny_not_found);
        assert_eq!(binding.actions, ["Warn", "Audit"]);
        assert!(binding.match_resources.is_none());
    }
}
