//! The walk of one custom resource beside its compiled rules, as kube's `Validator.Validate`:
//! rules run at every node that has a value (nulls are skipped), with `self` the node's value
//! and `oldSelf` the correlated old value (object properties and map entries by key, items of
//! `x-kubernetes-list-type: map` lists by their keys; nothing else correlates).
//!
//! Transition rules (naming `oldSelf`) run only when an old value exists, unless
//! `optionalOldSelf: true`, when `oldSelf` is an optional. **Ratcheting**: a failed rule that is
//! not a transition rule is dropped (and reported as a warning) when its value is unchanged from
//! the correlated old value, or, where there is none, when its nearest correlated ancestor is.
//! Every rule's actual cost is charged against the request's [`RUNTIME_BUDGET`], unless the
//! schema's estimates show it cannot run out (see `compile`); a rule whose estimate may exceed
//! [`PER_CALL_LIMIT`] has its actual cost computed either way.
//!
//! Each value is converted to CEL once: a node with rules converts its value, and the nodes
//! below it take their values out of that conversion rather than converting them again.

use std::sync::Arc;

use cel::objects::{Key, OptionalValue};
use cel::{Context, ExecutionError, Program, Value};
use serde_json::Value as Json;

use super::compile::{Compiled, FieldStep, Level};
use super::cost::{self, ValueSizes};
use super::value::{escape, to_cel};
use super::{PER_CALL_LIMIT, RUNTIME_BUDGET, library};
use crate::apiextensions::schema::path::{child, index, key};
use crate::meta::CauseType;
use crate::meta::validation::FieldCause;

/// What evaluating the rules found: causes for a 422, and the ratcheted failures as warnings.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub causes: Vec<FieldCause>,
    pub warnings: Vec<String>,
}

struct Walk {
    budget: i64,
    /// Actual costs are charged against `budget` (see `compile`).
    metered: bool,
    out: Outcome,
}

pub fn validate(root: &Level, object: &Json, old: Option<&Json>, metered: bool) -> Outcome {
    let mut walk = Walk { budget: RUNTIME_BUDGET, metered, out: Outcome::default() };
    walk.level(root, "", object, old, false, None);
    walk.out
}

/// The CEL value of property `name` inside `parent`, the CEL value of an object converted under
/// `level`'s schema: what converting the property under its own schema would give. `None` for
/// what the parent's conversion left out or changed (an unescapable name; the trimmed
/// `metadata` of a resource root).
fn property_value(parent: &Value, name: &str, level: &Level) -> Option<Value> {
    if level.resource && name == "metadata" {
        return None;
    }
    map_value(parent, &escape(name)?)
}

fn map_value(parent: &Value, key: &str) -> Option<Value> {
    match parent {
        Value::Map(map) => map.map.get(&Key::String(Arc::new(key.to_owned()))).cloned(),
        _ => None,
    }
}

impl Walk {
    /// Returns false once the budget is spent (no further rules run). `this` is `new` as a
    /// CEL value when the parent has converted it already.
    fn level(
        &mut self,
        level: &Level,
        path: &str,
        new: &Json,
        old: Option<&Json>,
        parent_unchanged: bool,
        this: Option<Value>,
    ) -> bool {
        if new.is_null() {
            return true;
        }
        let unchanged = match old {
            Some(old) => old == new,
            None => parent_unchanged,
        };
        let this = if level.rules.is_empty() {
            this
        } else {
            let this = this.unwrap_or_else(|| to_cel(Some(&level.schema), new, level.resource));
            if !self.rules(level, path, &this, old, unchanged) {
                return false;
            }
            Some(this)
        };
        match new {
            Json::Object(object) => {
                let correlates = level.schema.map_type.as_deref() != Some("atomic");
                let old_object = old.and_then(Json::as_object).filter(|_| correlates);
                // In the object's order, as kube walks the object's map.
                for (name, value) in object {
                    if let Some((_, sub)) = level.properties.iter().find(|(k, _)| k == name) {
                        let old = old_object.and_then(|o| o.get(name));
                        let converted = this.as_ref().and_then(|t| property_value(t, name, level));
                        let at = child(path, name);
                        if !self.level(sub, &at, value, old, unchanged, converted) {
                            return false;
                        }
                    }
                }
                if let Some(values) = &level.additional {
                    for (k, value) in object {
                        let old = old_object.and_then(|o| o.get(k));
                        let converted = this.as_ref().and_then(|t| map_value(t, k));
                        if !self.level(values, &key(path, k), value, old, unchanged, converted) {
                            return false;
                        }
                    }
                }
            }
            Json::Array(list) => {
                if let Some(items) = &level.items {
                    let keys = &level.schema.list_map_keys;
                    let map_list =
                        level.schema.list_type.as_deref() == Some("map") && !keys.is_empty();
                    let old_list = old.and_then(Json::as_array).filter(|_| map_list);
                    let converted = match &this {
                        Some(Value::List(converted)) if converted.len() == list.len() => {
                            Some(converted)
                        }
                        _ => None,
                    };
                    for (i, value) in list.iter().enumerate() {
                        let old = old_list.and_then(|l| {
                            l.iter().find(|o| keys.iter().all(|k| o.get(k) == value.get(k)))
                        });
                        let item = converted.map(|c| c[i].clone());
                        if !self.level(items, &index(path, i), value, old, unchanged, item) {
                            return false;
                        }
                    }
                }
            }
            _ => {}
        }
        true
    }

    fn rules(
        &mut self,
        level: &Level,
        path: &str,
        this: &Value,
        old: Option<&Json>,
        unchanged: bool,
    ) -> bool {
        let schema = &level.schema;
        let type_name = schema.ty.map_or("", |t| t.name());
        let old_value = old.map(|o| to_cel(Some(schema), o, level.resource));
        let env = library::env();
        let mut plain = Context::with_env(env.clone());
        plain.add_variable_from_value("self", this.clone());
        if let Some(old) = &old_value {
            plain.add_variable_from_value("oldSelf", old.clone());
        }
        let mut optional: Option<Context> = None;
        for compiled in &level.rules {
            let rule = &compiled.rule;
            let optional_old_self = rule.optional_old_self == Some(true);
            if compiled.uses_old_self && old.is_none() && !optional_old_self {
                continue;
            }
            let context = if optional_old_self {
                optional.get_or_insert_with(|| {
                    let mut context = Context::with_env(env.clone());
                    context.add_variable_from_value("self", this.clone());
                    let old = match &old_value {
                        Some(v) => OptionalValue::of(v.clone()),
                        None => OptionalValue::none(),
                    };
                    context.add_variable_from_value("oldSelf", Value::Opaque(Arc::new(old)));
                    context
                })
            } else {
                &plain
            };
            let cost = if self.metered || compiled.estimate > PER_CALL_LIMIT {
                cost::estimate(compiled.program.expression(), &ValueSizes(this))
            } else {
                0
            };
            if cost > PER_CALL_LIMIT {
                self.invalid(path, type_name, &format!(
                    "'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: {}",
                    rule_error_string(compiled)
                ));
                return false;
            }
            if self.metered && cost as i64 > self.budget {
                self.invalid(path, type_name, "validation failed due to running out of cost budget, no further validation rules will be run");
                return false;
            }
            self.budget -= cost as i64;
            match compiled.program.execute(context) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let at = field_path(path, &compiled.field_path);
                    let detail = self.message(compiled, context);
                    let cause = cause_for_reason(&at, type_name, &detail, rule.reason.as_deref());
                    if !compiled.uses_old_self && unchanged {
                        self.out.warnings.push(cause.to_string());
                    } else {
                        self.out.causes.push(cause);
                    }
                }
                Ok(other) => self.invalid(
                    path,
                    type_name,
                    &format!(
                        "rule did not evaluate to a bool (got {}) evaluating rule: {}",
                        other.type_of(),
                        rule_error_string(compiled)
                    ),
                ),
                Err(err) => self.invalid(
                    path,
                    type_name,
                    &format!(
                        "{} evaluating rule: {}",
                        error_text(&err),
                        rule_error_string(compiled)
                    ),
                ),
            }
        }
        true
    }

    fn invalid(&mut self, path: &str, type_name: &str, detail: &str) {
        self.out.causes.push(FieldCause::invalid(path, type_name, detail));
    }

    /// The failure's message: `messageExpression`'s string when it evaluates to one (within the
    /// budget, non-empty, one line, at most 5 KiB), else `message`, else `failed rule: <rule>`.
    fn message(&mut self, compiled: &Compiled, context: &Context) -> String {
        if let Some(program) = &compiled.message {
            let cost = if self.metered {
                cost::estimate(program.expression(), &ValueSizes(&Value::Null)) as i64
            } else {
                0
            };
            if cost <= self.budget {
                self.budget -= cost;
                if let Ok(Value::String(s)) = program.execute(context) {
                    let trimmed = s.trim();
                    if !trimmed.is_empty() && !trimmed.contains('\n') && trimmed.len() <= 5 * 1024 {
                        return trimmed.to_owned();
                    }
                }
            }
        }
        message_or_default(compiled)
    }
}

fn message_or_default(compiled: &Compiled) -> String {
    match compiled.rule.message.trim() {
        "" => format!("failed rule: {}", compiled.rule.rule.trim()),
        message => message.to_owned(),
    }
}

fn rule_error_string(compiled: &Compiled) -> String {
    match compiled.rule.message.trim() {
        "" => compiled.rule.rule.trim().to_owned(),
        message => message.to_owned(),
    }
}

/// cel-go's wording of the errors CRD authors meet.
fn error_text(err: &ExecutionError) -> String {
    match err {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::NoSuchOverload(_) => format!(
            "'no such overload': call arguments did not match a supported operator, function or macro signature ({err})"
        ),
        ExecutionError::DivisionByZero(_) => "division by zero".to_owned(),
        ExecutionError::IndexOutOfBounds(i) => format!("index out of bounds: {i:?}"),
        other => other.to_string(),
    }
}

fn field_path(base: &str, steps: &[FieldStep]) -> String {
    steps.iter().fold(base.to_owned(), |path, step| match step {
        FieldStep::Property(name) => child(&path, name),
        FieldStep::Key(k) => key(&path, k),
    })
}

/// kube's `fieldErrorForReason`.
fn cause_for_reason(path: &str, type_name: &str, detail: &str, reason: Option<&str>) -> FieldCause {
    match reason {
        Some("FieldValueForbidden") => FieldCause::forbidden(path, detail),
        Some("FieldValueRequired") => FieldCause::required(path, detail),
        Some("FieldValueDuplicate") => FieldCause::duplicate(path, type_name),
        _ => FieldCause {
            field: path.to_owned(),
            reason: CauseType::FieldValueInvalid,
            message: FieldCause::invalid(path, type_name, detail).message,
        },
    }
}

#[allow(dead_code)]
fn _program_is_send_sync(p: &Program) -> &(dyn Send + Sync) {
    p
}
