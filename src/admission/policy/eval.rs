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
//!
//! **Cost**, as kube's `filter.ForInput`: each expression's actual cost is computed from the
//! sizes of the values it reads (the CRD rules' model, `apiextensions::cel::cost`) before it
//! runs. Over [`PER_CALL_LIMIT`] it is cancelled (`operation cancelled: actual cost limit
//! exceeded`, an expression error). Every cost is charged to its stage's budget — the match
//! conditions' [`MATCH_CONDITIONS_BUDGET`], then [`RUNTIME_BUDGET`] for the validations with
//! their message expressions and another for the audit annotations — and a stage whose budget
//! runs out ends the evaluation with the one error [`OUT_OF_BUDGET`], which the failure policy
//! decides. A variable's cost is charged to the first expression of a stage that names it, as
//! kube's lazily evaluated variables are.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Value};
use serde_json::Value as Json;

use super::compile::{Expression, Named, Policy};
use super::cost::{Activation, CALL_LIMIT, Error, Meter, names_variable};
pub use super::cost::{MATCH_CONDITIONS_BUDGET, OUT_OF_BUDGET};
use crate::apiextensions::cel::cost;
use crate::apiextensions::cel::value::to_cel;
use crate::apiextensions::cel::{PER_CALL_LIMIT, RUNTIME_BUDGET};

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
    /// `authorizer.requestResource`: a resource check of the write's own resource.
    pub request_resource: Value,
}

impl Inputs {
    pub fn new(
        object: Option<&Json>,
        old_object: Option<&Json>,
        request: &Json,
        namespace_object: Option<&Json>,
        authorizer: Value,
        request_resource: Value,
    ) -> Inputs {
        let convert = |value: Option<&Json>| value.map_or(Value::Null, |v| to_cel(None, v, false));
        Inputs {
            object: convert(object),
            old_object: convert(old_object),
            request: to_cel(None, request, false),
            namespace_object: convert(namespace_object),
            authorizer,
            request_resource,
        }
    }

    /// A context with every input bound (`params` only when the policy declares a
    /// `paramKind`; `Null` without params).
    pub fn context(&self, params: Option<&Value>) -> Context<'static, 'static> {
        let mut context = Context::with_env(super::compile::env());
        context.add_variable_from_value("object", self.object.clone());
        context.add_variable_from_value("oldObject", self.old_object.clone());
        context.add_variable_from_value("request", self.request.clone());
        context.add_variable_from_value("namespaceObject", self.namespace_object.clone());
        context.add_variable_from_value("authorizer", self.authorizer.clone());
        context
            .add_variable_from_value("authorizer.requestResource", self.request_resource.clone());
        if let Some(params) = params {
            context.add_variable_from_value("params", params.clone());
        }
        context
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

/// The variables of one activation, evaluated eagerly in order (each seeing the ones before it),
/// with what each cost and why each that failed did.
struct Variables {
    value: Value,
    costs: Vec<(String, u64)>,
    failed: Vec<(String, String)>,
}

impl Variables {
    fn evaluate(
        variables: &[Named],
        context: &mut Context,
        inputs: &Inputs,
        params: &Value,
    ) -> Variables {
        let mut values: HashMap<Key, Value> = HashMap::new();
        let mut costs: Vec<(String, u64)> = Vec::with_capacity(variables.len());
        let mut failed = Vec::new();
        for variable in variables {
            let current = map(&values);
            context.add_variable_from_value("variables", current.clone());
            let sizes = Activation::new(inputs, params, &current);
            let mut cost = cost::estimate(variable.expression.program.expression(), &sizes);
            // A variable naming an earlier one pays for it too, as kube's lazy evaluation does.
            for (name, earlier) in &costs {
                if names_variable(&variable.expression.source, name) {
                    cost = cost.saturating_add(*earlier);
                }
            }
            costs.push((variable.name.clone(), cost));
            if cost > PER_CALL_LIMIT {
                failed.push((variable.name.clone(), CALL_LIMIT.to_owned()));
                continue;
            }
            match variable.expression.program.execute(context) {
                Ok(value) => {
                    values.insert(Key::String(Arc::new(variable.name.clone())), value);
                }
                Err(err) => failed.push((variable.name.clone(), error_text(&err))),
            }
        }
        let value = map(&values);
        context.add_variable_from_value("variables", value.clone());
        Variables { value, costs, failed }
    }
}

/// Runs one expression against a meter.
struct Runner<'a> {
    context: &'a Context<'static, 'static>,
    sizes: Activation<'a>,
    failed_variables: &'a [(String, String)],
}

impl Runner<'_> {
    fn run(&self, expression: &Expression, meter: &mut Meter<'_>) -> Result<Value, Error> {
        meter.charge(expression, &self.sizes)?;
        expression.program.execute(self.context).map_err(|err| {
            let referenced = self
                .failed_variables
                .iter()
                .find(|(name, _)| names_variable(&expression.source, name));
            let detail = match referenced {
                Some((name, why)) => {
                    format!("composited variable \"{name}\" fails to evaluate: {why}")
                }
                None => error_text(&err),
            };
            Error::Expression(format!(
                "expression '{}' resulted in error: {detail}",
                expression.source
            ))
        })
    }
}

/// What a set of `matchConditions` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditions {
    /// None is false and none failed: the policy (or webhook) applies.
    Match,
    /// One is false: it does not apply, whatever the others say.
    NoMatch,
    /// None is false but some failed (or the budget ran out): the failure policy decides. The
    /// message is kube's aggregate of the errors.
    Error(String),
}

fn match_conditions(
    conditions: &[Named],
    runner: &Runner<'_>,
    meter: &mut Meter<'_>,
) -> Conditions {
    let mut errors = Vec::new();
    for condition in conditions {
        match runner.run(&condition.expression, meter) {
            Ok(Value::Bool(false)) => return Conditions::NoMatch,
            Ok(Value::Bool(true)) => {}
            Ok(other) => errors.push(format!(
                "matchConditions[{}] {:?} must evaluate to bool, got {}",
                condition.name,
                condition.expression.source,
                other.type_of()
            )),
            Err(Error::Expression(message)) => errors.push(message),
            Err(Error::OutOfBudget) => return Conditions::Error(OUT_OF_BUDGET.to_owned()),
        }
    }
    match errors.len() {
        0 => Conditions::Match,
        1 => Conditions::Error(errors.remove(0)),
        _ => Conditions::Error(format!("[{}]", errors.join(", "))),
    }
}

/// Evaluates a webhook's `matchConditions` (`object`, `oldObject`, `request`, `authorizer`,
/// `authorizer.requestResource`; no params, no variables) within kube's budget for them.
pub fn webhook_conditions(conditions: &[Named], inputs: &Inputs) -> Conditions {
    let context = inputs.context(None);
    let none = Value::Null;
    let sizes = Activation::new(inputs, &none, &none);
    let runner = Runner { context: &context, sizes, failed_variables: &[] };
    match_conditions(conditions, &runner, &mut Meter::new(MATCH_CONDITIONS_BUDGET, &[]))
}

/// Evaluates `policy` with `params` (`Null` without params), each stage within kube's budget:
/// the match conditions within [`MATCH_CONDITIONS_BUDGET`], the validations and their message
/// expressions within [`RUNTIME_BUDGET`], the audit annotations within another.
pub fn evaluate(policy: &Policy, inputs: &Inputs, params: &Value) -> Evaluation {
    let mut context = inputs.context(policy.param_kind.is_some().then_some(params));
    let variables = Variables::evaluate(&policy.variables, &mut context, inputs, params);
    let runner = Runner {
        context: &context,
        sizes: Activation::new(inputs, params, &variables.value),
        failed_variables: &variables.failed,
    };
    let meter = |budget| Meter::new(budget, &variables.costs);

    let mut out = Evaluation::default();
    // matchConditions: any false skips the policy; otherwise an error is a failure.
    match match_conditions(&policy.match_conditions, &runner, &mut meter(MATCH_CONDITIONS_BUDGET)) {
        Conditions::Match => {}
        Conditions::NoMatch => return out,
        Conditions::Error(message) => {
            if policy.fail {
                out.failures.push(Failure { index: 0, message, reason: None });
            }
            return out;
        }
    }

    let mut budget = meter(RUNTIME_BUDGET);
    let mut failures = Vec::new();
    for (index, validation) in policy.validations.iter().enumerate() {
        match runner.run(&validation.expression, &mut budget) {
            Ok(Value::Bool(true)) => {}
            Ok(_) => failures.push((index, validation)),
            Err(Error::Expression(message)) => {
                if policy.fail {
                    out.failures.push(Failure { index, message, reason: None });
                }
            }
            Err(Error::OutOfBudget) => {
                // kube: the whole evaluation is one error, by the failure policy; the audit
                // annotations are not evaluated.
                out.failures.clear();
                if policy.fail {
                    let message = OUT_OF_BUDGET.to_owned();
                    out.failures.push(Failure { index: 0, message, reason: None });
                }
                return out;
            }
        }
    }
    // The failures' messages, from what the validations left of the budget.
    for (index, validation) in failures {
        let message = validation
            .message_expression
            .as_ref()
            .and_then(|e| runner.run(e, &mut budget).ok())
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
    out.failures.sort_by_key(|f| f.index);

    let mut budget = meter(RUNTIME_BUDGET);
    for annotation in &policy.audit_annotations {
        match runner.run(&annotation.expression, &mut budget) {
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
            Err(Error::Expression(message)) => {
                if policy.fail {
                    out.failures.push(Failure { index: 0, message, reason: None });
                }
            }
            Err(Error::OutOfBudget) => {
                if policy.fail {
                    let message = OUT_OF_BUDGET.to_owned();
                    out.failures.push(Failure { index: 0, message, reason: None });
                }
                break;
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
        Inputs::new(
            Some(&object),
            None,
            &json!({"operation": "CREATE"}),
            None,
            Value::Null,
            Value::Null,
        )
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
            let inputs =
                Inputs::new(Some(&object), None, &request(user), None, Value::Null, Value::Null);
            evaluate(&policy, &inputs, &params)
        };
        assert_eq!(run("admin"), Evaluation::default());
        let out = run("alice");
        assert_eq!(out.failures[0].message, "failed expression: !variables.over");
        assert_eq!(out.annotations, [("replicas".to_owned(), "5".to_owned())]);
    }

    /// A list whose quadratic walk costs far over the per-call limit.
    fn big() -> Json {
        json!({"items": (0..1500).collect::<Vec<i64>>()})
    }

    const QUADRATIC: &str = "object.items.all(a, object.items.all(b, a <= b || a > b))";

    #[test]
    fn an_expression_over_the_per_call_limit_is_cancelled() {
        let policy = policy(json!({"validations": [
            {"expression": QUADRATIC},
            {"expression": "size(object.items) < 10"},
            {"expression": "object.items.all(a, a >= 0)"}]}));
        let out = evaluate(&policy, &inputs(big()), &Value::Null);
        let messages: Vec<_> = out.failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                format!(
                    "expression '{QUADRATIC}' resulted in error: operation cancelled: actual cost limit exceeded"
                )
                .as_str(),
                "failed expression: size(object.items) < 10",
            ]
        );
        // The same expression over a small list runs.
        let small = evaluate(&policy, &inputs(json!({"items": [1, 2]})), &Value::Null);
        assert_eq!(small, Evaluation::default());
    }

    #[test]
    fn running_out_of_budget_ends_the_evaluation_by_the_failure_policy() {
        let validations: Vec<Json> = (0..10).map(|_| json!({"expression": QUADRATIC})).collect();
        let annotations = json!([{"key": "k", "valueExpression": "'v'"}]);
        let fail = policy(json!({"validations": validations, "auditAnnotations": annotations}));
        let out = evaluate(&fail, &inputs(big()), &Value::Null);
        assert_eq!(
            out,
            Evaluation {
                failures: vec![Failure { index: 0, message: OUT_OF_BUDGET.into(), reason: None }],
                annotations: vec![],
            }
        );
        let ignore = policy(json!({"failurePolicy": "Ignore", "validations": validations}));
        assert_eq!(evaluate(&ignore, &inputs(big()), &Value::Null), Evaluation::default());
        // Nine cancelled expressions fit in the budget: nine errors.
        let nine = policy(json!({"validations": &validations[..9]}));
        assert_eq!(evaluate(&nine, &inputs(big()), &Value::Null).failures.len(), 9);
    }

    #[test]
    fn match_conditions_have_their_own_smaller_budget() {
        let conditions: Vec<Json> =
            (0..3).map(|i| json!({"name": format!("c{i}"), "expression": QUADRATIC})).collect();
        let three = policy(json!({"matchConditions": conditions,
            "validations": [{"expression": "false"}]}));
        let out = evaluate(&three, &inputs(big()), &Value::Null);
        assert_eq!(out.failures.len(), 1);
        assert_eq!(out.failures[0].message, OUT_OF_BUDGET);
        // Two cancelled conditions fit: their errors, aggregated as kube does.
        let two = policy(
            json!({"matchConditions": &conditions[..2], "validations": [{"expression": "false"}]}),
        );
        let out = evaluate(&two, &inputs(big()), &Value::Null);
        let cancelled = format!(
            "expression '{QUADRATIC}' resulted in error: operation cancelled: actual cost limit exceeded"
        );
        assert_eq!(out.failures[0].message, format!("[{cancelled}, {cancelled}]"));
    }

    #[test]
    fn a_variable_is_charged_where_it_is_first_named() {
        // Each use alone is cheap; the variable's cost (well under the limit) is paid once.
        let policy = policy(json!({
            "variables": [{"name": "sorted", "expression": "object.items.all(a, a >= 0)"}],
            "validations": [{"expression": "variables.sorted"}, {"expression": "variables.sorted"}]}));
        assert_eq!(evaluate(&policy, &inputs(big()), &Value::Null), Evaluation::default());
        let heavy = policy_with_variable(QUADRATIC);
        let out = evaluate(&heavy, &inputs(big()), &Value::Null);
        assert_eq!(
            out.failures[0].message,
            "expression 'variables.v' resulted in error: operation cancelled: actual cost limit exceeded"
        );
    }

    fn policy_with_variable(expression: &str) -> Policy {
        policy(json!({"variables": [{"name": "v", "expression": expression}],
            "validations": [{"expression": "variables.v"}]}))
    }
}
