//! One policy evaluated for one binding and one param object, as kube's policy `validator`
//! does: the activation (`object`, `oldObject`, `request`, `params`, `namespaceObject`,
//! `authorizer`, `variables`), the `matchConditions` (any false: the policy does not apply),
//! then every validation and audit annotation.
//!
//! Results are [`Evaluation`]s: failed validations become [`Failure`]s with kube's messages
//! (`message`, else a valid `messageExpression` result, else `failed expression: <expr>`), and
//! an expression that fails to run is a failure too when the policy's `failurePolicy` is `Fail`
//! (`expression '<expr>' resulted in error: <error>`), dropped when it is `Ignore`. The caller
//! routes failures through the binding's `validationActions`.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Value};
use serde_json::Value as Json;

use super::compile::{Expression, Policy};
use crate::apiextensions::cel::value::to_cel;

/// kube's limit on a `messageExpression`'s result.
const MAX_MESSAGE_BYTES: usize = 5 * 1024;
/// kube's limit on an audit annotation's value.
const MAX_ANNOTATION_BYTES: usize = 10 * 1024;

/// The variables every expression of one write sees, converted once per write.
pub struct Inputs {
    pub object: Value,
    pub old_object: Value,
    pub request: Value,
    pub namespace_object: Value,
    pub authorizer: Value,
}

impl Inputs {
    pub fn new(
        object: Option<&Json>,
        old_object: Option<&Json>,
        request: &Json,
        namespace_object: Option<&Json>,
        authorizer: Value,
    ) -> Inputs {
        let convert = |value: Option<&Json>| value.map_or(Value::Null, |v| to_cel(None, v, false));
        Inputs {
            object: convert(object),
            old_object: convert(old_object),
            request: to_cel(None, request, false),
            namespace_object: convert(namespace_object),
            authorizer,
        }
    }
}

/// One validation (or audit annotation, or match condition) that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The validation's index (kube's `expressionIndex`).
    pub index: usize,
    pub message: String,
    /// `Invalid` when `None`.
    pub reason: Option<String>,
}

/// What one (policy, binding, param) evaluation found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub failures: Vec<Failure>,
    /// `(key, value)` of the audit annotations that produced a value.
    pub annotations: Vec<(String, String)>,
}

/// Evaluates `policy` with `params` (`Null` without params).
pub fn evaluate(policy: &Policy, inputs: &Inputs, params: &Value) -> Evaluation {
    let env = super::compile::env();
    let mut context = Context::with_env(env);
    context.add_variable_from_value("object", inputs.object.clone());
    context.add_variable_from_value("oldObject", inputs.old_object.clone());
    context.add_variable_from_value("request", inputs.request.clone());
    context.add_variable_from_value("namespaceObject", inputs.namespace_object.clone());
    context.add_variable_from_value("authorizer", inputs.authorizer.clone());
    if policy.param_kind.is_some() {
        context.add_variable_from_value("params", params.clone());
    }
    // Variables in order, each seeing the ones before it.
    let mut variables: HashMap<Key, Value> = HashMap::new();
    let mut failed_variables: Vec<(String, String)> = Vec::new();
    for variable in &policy.variables {
        context.add_variable_from_value("variables", map(&variables));
        match variable.expression.program.execute(&context) {
            Ok(value) => {
                variables.insert(Key::String(Arc::new(variable.name.clone())), value);
            }
            Err(err) => failed_variables.push((variable.name.clone(), error_text(&err))),
        }
    }
    context.add_variable_from_value("variables", map(&variables));
    let run = |expression: &Expression| -> Result<Value, String> {
        expression.program.execute(&context).map_err(|err| {
            let referenced = failed_variables
                .iter()
                .find(|(name, _)| expression.source.contains(&format!("variables.{name}")));
            let detail = match referenced {
                Some((name, why)) => {
                    format!("composited variable \"{name}\" fails to evaluate: {why}")
                }
                None => error_text(&err),
            };
            format!("expression '{}' resulted in error: {detail}", expression.source)
        })
    };

    let mut out = Evaluation::default();
    // matchConditions: any false skips the policy; otherwise an error is a failure.
    let mut condition_error = None;
    for condition in &policy.match_conditions {
        match run(&condition.expression) {
            Ok(Value::Bool(false)) => return out,
            Ok(Value::Bool(true)) => {}
            Ok(other) => {
                condition_error.get_or_insert(format!(
                    "matchConditions[{}] {:?} must evaluate to bool, got {}",
                    condition.name,
                    condition.expression.source,
                    other.type_of()
                ));
            }
            Err(err) => {
                condition_error.get_or_insert(err);
            }
        }
    }
    if let Some(message) = condition_error {
        if policy.fail {
            out.failures.push(Failure { index: 0, message, reason: None });
        }
        return out;
    }

    for (index, validation) in policy.validations.iter().enumerate() {
        match run(&validation.expression) {
            Ok(Value::Bool(true)) => {}
            Ok(_) => {
                let message = validation
                    .message_expression
                    .as_ref()
                    .and_then(|e| run(e).ok())
                    .and_then(|v| match v {
                        Value::String(s) => Some(s.trim().to_owned()),
                        _ => None,
                    })
                    .filter(|m| !m.is_empty() && m.len() <= MAX_MESSAGE_BYTES && !m.contains('\n'))
                    .or_else(|| {
                        let message = validation.message.trim();
                        (!message.is_empty()).then(|| message.to_owned())
                    })
                    .unwrap_or_else(|| {
                        format!("failed expression: {}", validation.expression.source.trim())
                    });
                out.failures.push(Failure { index, message, reason: validation.reason.clone() });
            }
            Err(message) => {
                if policy.fail {
                    out.failures.push(Failure { index, message, reason: None });
                }
            }
        }
    }
    for annotation in &policy.audit_annotations {
        match run(&annotation.expression) {
            Ok(Value::Null) => {}
            Ok(Value::String(s)) => {
                let mut value = s.to_string();
                if value.len() > MAX_ANNOTATION_BYTES {
                    let mut end = MAX_ANNOTATION_BYTES;
                    while !value.is_char_boundary(end) {
                        end -= 1;
                    }
                    value.truncate(end);
                }
                out.annotations.push((annotation.name.clone(), value));
            }
            Ok(other) => {
                if policy.fail {
                    let message = format!(
                        "valueExpression '{}' resulted in unsupported return type: {}. Return type must be either string or null.",
                        annotation.expression.source,
                        other.type_of()
                    );
                    out.failures.push(Failure { index: 0, message, reason: None });
                }
            }
            Err(message) => {
                if policy.fail {
                    out.failures.push(Failure { index: 0, message, reason: None });
                }
            }
        }
    }
    out
}

fn map(entries: &HashMap<Key, Value>) -> Value {
    Value::Map(Map { map: Arc::new(entries.clone()) })
}

/// cel-go's wording of the errors policy authors meet most.
fn error_text(err: &ExecutionError) -> String {
    match err {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::DivisionByZero(_) => "division by zero".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy(spec: Json) -> Policy {
        let policy = Policy::compile(&json!({"metadata": {"name": "p"}, "spec": spec}));
        assert_eq!(policy.configuration_error, None);
        policy
    }

    fn inputs(object: Json) -> Inputs {
        Inputs::new(Some(&object), None, &json!({"operation": "CREATE"}), None, Value::Null)
    }

    #[test]
    fn failures_carry_kube_messages() {
        let policy = policy(json!({"validations": [
            {"expression": "object.spec.replicas <= 5"},
            {"expression": "object.spec.replicas <= 4", "message": " at most four "},
            {"expression": "object.spec.replicas <= 3", "message": "m",
             "messageExpression": "'replicas: ' + string(object.spec.replicas)", "reason": "Forbidden"},
            {"expression": "object.spec.nope > 1"}]}));
        let out = evaluate(&policy, &inputs(json!({"spec": {"replicas": 6}})), &Value::Null);
        let messages: Vec<_> = out.failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "failed expression: object.spec.replicas <= 5",
                "at most four",
                "replicas: 6",
                "expression 'object.spec.nope > 1' resulted in error: no such key: nope",
            ]
        );
        assert_eq!(out.failures[2].reason.as_deref(), Some("Forbidden"));
        assert_eq!(out.failures[3].index, 3);
        let fine =
            evaluate(&policy, &inputs(json!({"spec": {"replicas": 1, "nope": 2}})), &Value::Null);
        assert_eq!(fine, Evaluation::default());
    }

    #[test]
    fn errors_are_dropped_under_ignore() {
        let policy = policy(json!({"failurePolicy": "Ignore",
            "validations": [{"expression": "object.spec.nope > 1"}, {"expression": "false"}]}));
        let out = evaluate(&policy, &inputs(json!({"spec": {}})), &Value::Null);
        assert_eq!(out.failures.len(), 1);
        assert_eq!(out.failures[0].message, "failed expression: false");
    }

    #[test]
    fn match_conditions_variables_params_and_annotations() {
        let policy = policy(json!({
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConditions": [{"name": "not-admin", "expression": "request.userInfo.username != 'admin'"}],
            "variables": [{"name": "replicas", "expression": "object.spec.replicas"},
                          {"name": "over", "expression": "variables.replicas > int(params.data.max)"}],
            "validations": [{"expression": "!variables.over"}],
            "auditAnnotations": [{"key": "replicas", "valueExpression": "string(variables.replicas)"},
                                 {"key": "none", "valueExpression": "null"}]}));
        let params = to_cel(None, &json!({"data": {"max": "3"}}), false);
        let request = |user: &str| json!({"userInfo": {"username": user}});
        let object = json!({"spec": {"replicas": 5}});
        let run = |user: &str| {
            let inputs = Inputs::new(Some(&object), None, &request(user), None, Value::Null);
            evaluate(&policy, &inputs, &params)
        };
        assert_eq!(run("admin"), Evaluation::default());
        let out = run("alice");
        assert_eq!(out.failures[0].message, "failed expression: !variables.over");
        assert_eq!(out.annotations, [("replicas".to_owned(), "5".to_owned())]);
    }
}
