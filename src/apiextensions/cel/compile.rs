//! Schema → compiled rule tree, with kube's causes for the CRD: each rule parsed once with the
//! library environment, checked for undeclared variables and fields the schema does not have,
//! and costed (its estimate times the times it may run, against [`STATIC_RULE_LIMIT`]; the sum
//! over the schema against [`STATIC_SCHEMA_LIMIT`]).
//!
//! The same estimates bound what the rules can cost at runtime (an actual value is never larger
//! than its schema allows, and the cost model grows with sizes): a rule whose estimate is within
//! [`PER_CALL_LIMIT`] can never be cancelled, and a schema whose rules and message expressions
//! together stay within [`RUNTIME_BUDGET`] can never run out of budget. For those, the runtime
//! walk skips computing actual costs.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Program;
use cel::common::ast::{EntryExpr, Expr, IdedExpr};

use super::cost::{self, SchemaSizes};
use super::value::escape;
use super::{PER_CALL_LIMIT, RUNTIME_BUDGET, STATIC_RULE_LIMIT, STATIC_SCHEMA_LIMIT, library};
use crate::apiextensions::schema::path::{child, index};
use crate::apiextensions::schema::{Additional, Node, ValidationRule};
use crate::meta::CauseType;
use crate::meta::validation::{FieldCause, go_quote};

/// The compiled rules at one schema node, and the nodes below it that hold rules.
#[derive(Debug)]
pub struct Level {
    /// The node's schema: how values are typed for CEL, and the type name messages show.
    pub schema: Arc<Node>,
    /// The node is a resource root (the object, or an embedded resource).
    pub resource: bool,
    pub rules: Vec<Compiled>,
    pub properties: Vec<(String, Level)>,
    pub additional: Option<Box<Level>>,
    pub items: Option<Box<Level>>,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Compiled {
    pub rule: ValidationRule,
    pub program: Program,
    pub message: Option<Program>,
    /// The rule's estimated cost over the largest values its schema allows: when it is within
    /// [`PER_CALL_LIMIT`], the rule cannot go over that limit at runtime.
    pub estimate: u64,
    /// The rule names `oldSelf`: a transition rule.
    pub uses_old_self: bool,
    /// `fieldPath` as path steps below the node: property names and map keys.
    pub field_path: Vec<FieldStep>,
}

/// One step of a rule's `fieldPath`.
#[derive(Debug, Clone)]
pub enum FieldStep {
    Property(String),
    Key(String),
}

const REASONS: [&str; 4] =
    ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];

/// What the estimates add up to over a schema.
#[derive(Debug, Default)]
struct Totals {
    /// kube's total: every rule's estimate times the times it may run.
    rules: u64,
    /// The most one object's evaluation can charge: the rules' total plus their message
    /// expressions', each times the times it may run.
    runtime: u64,
}

/// The compiled rule tree of a schema, and whether its evaluations must be metered against
/// [`RUNTIME_BUDGET`] (`false` when the estimates show the budget cannot run out).
pub fn compile(root: &Node, path: &str) -> Result<(Option<Level>, bool), Vec<FieldCause>> {
    let mut causes = Vec::new();
    let mut totals = Totals::default();
    let level = walk(root, path, &[], true, true, &mut causes, &mut totals);
    if totals.rules > STATIC_SCHEMA_LIMIT {
        causes.push(FieldCause::forbidden(
            path,
            &cost_message(
                "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema",
                totals.rules,
                STATIC_SCHEMA_LIMIT,
            ),
        ));
    }
    let metered = totals.runtime > RUNTIME_BUDGET as u64;
    if causes.is_empty() { Ok((level, metered)) } else { Err(causes) }
}

fn walk(
    node: &Node,
    path: &str,
    parents: &[&Node],
    resource: bool,
    correlatable: bool,
    causes: &mut Vec<FieldCause>,
    total: &mut Totals,
) -> Option<Level> {
    let cardinality = cost::cardinality(parents);
    let mut rules = Vec::new();
    for (i, rule) in node.validations.iter().enumerate() {
        let at = index(&child(path, "x-kubernetes-validations"), i);
        let typed = if resource { with_type_and_object_meta(node) } else { node.clone() };
        if let Some(compiled) =
            compile_rule(rule, &typed, &at, cardinality, correlatable, causes, total)
        {
            rules.push(compiled);
        }
    }
    let mut properties = Vec::new();
    for (name, property) in &node.properties {
        let at = format!("{}[{name}]", child(path, "properties"));
        let correlatable = correlatable && node.map_type.as_deref() != Some("atomic");
        if let Some(level) =
            walk(property, &at, parents, property.embedded_resource, correlatable, causes, total)
        {
            properties.push((name.clone(), level));
        }
    }
    let mut below = parents.to_vec();
    below.push(node);
    let additional = match &node.additional {
        Some(Additional::Schema(values)) => {
            let correlatable = correlatable && node.map_type.as_deref() != Some("atomic");
            let at = child(path, "additionalProperties");
            walk(values, &at, &below, values.embedded_resource, correlatable, causes, total)
                .map(Box::new)
        }
        _ => None,
    };
    let items = node.items.as_deref().and_then(|items| {
        let correlatable = correlatable && node.list_type.as_deref() == Some("map");
        walk(
            items,
            &child(path, "items"),
            &below,
            items.embedded_resource,
            correlatable,
            causes,
            total,
        )
        .map(Box::new)
    });
    if rules.is_empty() && properties.is_empty() && additional.is_none() && items.is_none() {
        return None;
    }
    Some(Level { schema: Arc::new(node.clone()), resource, rules, properties, additional, items })
}

/// A resource root as rules see it (kube's `WithTypeAndObjectMeta`): `apiVersion`, `kind` and
/// `metadata` with `name` and `generateName`.
fn with_type_and_object_meta(node: &Node) -> Node {
    use crate::apiextensions::schema::Type;
    let string = || Node { ty: Some(Type::String), ..Node::default() };
    let mut typed = node.clone();
    typed.properties.insert("apiVersion".into(), string());
    typed.properties.insert("kind".into(), string());
    let mut meta = Node { ty: Some(Type::Object), ..Node::default() };
    meta.properties.insert("name".into(), string());
    meta.properties.insert("generateName".into(), string());
    typed.properties.insert("metadata".into(), meta);
    typed
}

/// How kube prints a `ValidationRule` in a cause (Go's `%#v`).
fn rule_value(rule: &ValidationRule) -> String {
    let pointer = |set: bool, ty: &str| {
        if set { format!("(*{ty})(0xc000000000)") } else { format!("(*{ty})(nil)") }
    };
    format!(
        "apiextensions.ValidationRule{{Rule:{}, Message:{}, MessageExpression:{}, Reason:{}, FieldPath:{}, OptionalOldSelf:{}}}",
        go_quote(&rule.rule),
        go_quote(&rule.message),
        go_quote(&rule.message_expression),
        pointer(rule.reason.is_some(), "apiextensions.FieldValueErrorReason"),
        go_quote(&rule.field_path),
        pointer(rule.optional_old_self.is_some(), "bool"),
    )
}

fn invalid_rule(field: String, rule: &ValidationRule, detail: &str) -> FieldCause {
    FieldCause {
        field,
        reason: CauseType::FieldValueInvalid,
        message: format!("Invalid value: {}: {detail}", rule_value(rule)),
    }
}

/// kube's wording of an estimate over a limit.
pub fn cost_message(what: &str, cost: u64, limit: u64) -> String {
    let factor = cost as f64 / limit as f64;
    let factor = if factor > 100.0 {
        "more than 100x".to_owned()
    } else if factor < 1.5 {
        format!("{factor:.6}x")
    } else {
        format!("{factor:.1}x")
    };
    format!(
        "{what} exceeds budget by factor of {factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )
}

fn compile_rule(
    rule: &ValidationRule,
    node: &Node,
    at: &str,
    cardinality: u64,
    correlatable: bool,
    causes: &mut Vec<FieldCause>,
    total: &mut Totals,
) -> Option<Compiled> {
    let before = causes.len();
    if let Some(reason) = &rule.reason
        && !REASONS.contains(&reason.as_str())
    {
        causes.push(FieldCause::not_supported(child(at, "reason"), reason.as_str(), &REASONS));
    }
    if rule.message.contains('\n') {
        causes.push(FieldCause::invalid(
            child(at, "message"),
            rule.message.as_str(),
            "message must not contain line breaks",
        ));
    } else if !rule.message.is_empty() && rule.message.trim().is_empty() {
        causes.push(FieldCause::invalid(
            child(at, "message"),
            rule.message.as_str(),
            "message must be non-empty if specified",
        ));
    }
    let field_path = match parse_field_path(&rule.field_path, node) {
        Ok(steps) => steps,
        Err(detail) => {
            causes.push(FieldCause::invalid(
                child(at, "fieldPath"),
                rule.field_path.as_str(),
                &format!("fieldPath must be a valid path: {detail}"),
            ));
            Vec::new()
        }
    };
    if rule.rule.trim().is_empty() {
        causes.push(FieldCause::required(child(at, "rule"), "rule is not specified"));
        return None;
    }
    let env = library::env();
    let program = match env.compile(&rule.rule) {
        Ok(program) => program,
        Err(errors) => {
            causes.push(invalid_rule(
                child(at, "rule"),
                rule,
                &format!("compilation failed: {errors}"),
            ));
            return None;
        }
    };
    let mut checker = Checker { source: &rule.rule, problems: Vec::new(), scope: HashMap::new() };
    checker.check(program.expression(), Some(node));
    if let Some(problem) = checker.problems.first() {
        causes.push(invalid_rule(
            child(at, "rule"),
            rule,
            &format!("compilation failed: {problem}"),
        ));
        return None;
    }
    if let Expr::Literal(literal) = &program.expression().expr
        && !matches!(literal, cel::common::ast::LiteralValue::Boolean(_))
    {
        causes.push(invalid_rule(
            child(at, "rule"),
            rule,
            "cel expression must evaluate to a bool",
        ));
        return None;
    }
    let uses_old_self = program.references().has_variable("oldSelf");
    if uses_old_self && !correlatable {
        causes.push(invalid_rule(
            child(at, "rule"),
            rule,
            "oldSelf cannot be used on the uncorrelatable portion of the schema",
        ));
    }
    let estimate = cost::estimate(program.expression(), &SchemaSizes(node));
    let expression_cost = estimate.saturating_mul(cardinality);
    total.rules = total.rules.saturating_add(expression_cost);
    total.runtime = total.runtime.saturating_add(expression_cost);
    if expression_cost > STATIC_RULE_LIMIT {
        causes.push(FieldCause::forbidden(
            child(at, "rule"),
            &cost_message("estimated rule cost", expression_cost, STATIC_RULE_LIMIT),
        ));
    }
    let message = if rule.message_expression.trim().is_empty() {
        None
    } else {
        match env.compile(&rule.message_expression) {
            Ok(program) => Some(program),
            Err(errors) => {
                causes.push(invalid_rule(
                    child(at, "messageExpression"),
                    rule,
                    &format!("messageExpression compilation failed: {errors}"),
                ));
                None
            }
        }
    };
    if causes.len() > before {
        return None;
    }
    if let Some(message) = &message {
        // Charged at runtime with the sizes kube gives a message expression (see `eval`).
        let cost = cost::estimate(message.expression(), &SchemaSizes(node));
        total.runtime = total.runtime.saturating_add(cost.saturating_mul(cardinality));
    }
    if estimate > PER_CALL_LIMIT {
        // May be cancelled at runtime: every evaluation is metered.
        total.runtime = u64::MAX;
    }
    Some(Compiled { rule: rule.clone(), program, message, estimate, uses_old_self, field_path })
}

/// `fieldPath` (`.spec.x`, `.labels['a.b']`) as steps through `node`'s properties and maps.
fn parse_field_path(text: &str, node: &Node) -> Result<Vec<FieldStep>, String> {
    let mut steps = Vec::new();
    let mut node = node;
    let mut rest = text;
    while !rest.is_empty() {
        let name = if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            rest = &after[end..];
            after[..end].to_owned()
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']").ok_or("unexpected end of JSON path")?;
            rest = &after[end + 2..];
            after[..end].replace("\\'", "'")
        } else {
            return Err(format!("expected [ or . but got: {rest}"));
        };
        if name.is_empty() {
            return Err("unexpected end of JSON path".into());
        }
        if let Some(property) = node.properties.get(&name) {
            steps.push(FieldStep::Property(name));
            node = property;
        } else if let Some(Additional::Schema(values)) = &node.additional {
            steps.push(FieldStep::Key(name));
            node = values;
        } else {
            return Err("does not refer to a valid field".into());
        }
    }
    Ok(steps)
}

/// The checks cel-go's type checker would make that matter most for CRD rules: variables
/// other than `self`, `oldSelf` and comprehension variables, and fields of `self` the schema
/// does not declare.
struct Checker<'a> {
    source: &'a str,
    problems: Vec<String>,
    /// Comprehension variables and the schema of what they range over, when known.
    scope: HashMap<String, Option<Node>>,
}

/// Namespaces of the library's functions: identifiers that are not variables.
const NAMESPACES: [&str; 5] = ["format", "ip", "optional", "strings", "math"];

impl Checker<'_> {
    /// Records a problem at byte `start` of the source, in cel-go's form (position, the line,
    /// a caret under the column).
    fn problem(&mut self, start: usize, message: String) {
        self.problems.push(super::problem(self.source, start, &message));
    }

    /// Visits `expr`; returns the schema of its value when it is known (a path from `self`).
    fn check(&mut self, expr: &IdedExpr, root: Option<&Node>) -> Option<Node> {
        match &expr.expr {
            Expr::Ident(name) => match name.as_str() {
                "self" | "oldSelf" => root.cloned(),
                other => match self.scope.get(other) {
                    Some(schema) => schema.clone(),
                    None if NAMESPACES.contains(&other) || other.starts_with('@') => None,
                    None => {
                        let start = self.offset_of_word(other);
                        self.problem(
                            start,
                            format!("undeclared reference to '{other}' (in container '')"),
                        );
                        None
                    }
                },
            },
            Expr::Select(select) => {
                let operand = self.check(&select.operand, root)?;
                if operand.properties.is_empty() {
                    return match &operand.additional {
                        Some(Additional::Schema(values)) if !select.test => {
                            Some((**values).clone())
                        }
                        _ => None,
                    };
                }
                let found = operand
                    .properties
                    .iter()
                    .find(|(k, _)| escape(k).as_deref() == Some(select.field.as_str()))
                    .map(|(_, v)| v.clone());
                if found.is_none() {
                    let start = self.offset_of(&format!(".{}", select.field));
                    self.problem(start, format!("undefined field '{}'", select.field));
                }
                if select.test { None } else { found }
            }
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.check(target, root);
                }
                let mut args = Vec::new();
                for arg in &call.args {
                    args.push(self.check(arg, root));
                }
                if call.func_name == "_[_]" {
                    let list = args.first().cloned().flatten();
                    return list.and_then(|l| match (&l.items, &l.additional) {
                        (Some(items), _) => Some((**items).clone()),
                        (None, Some(Additional::Schema(values))) => Some((**values).clone()),
                        _ => None,
                    });
                }
                None
            }
            Expr::List(list) => {
                for e in &list.elements {
                    self.check(e, root);
                }
                None
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        self.check(&e.key, root);
                        self.check(&e.value, root);
                    }
                }
                None
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.check(&f.value, root);
                    }
                }
                None
            }
            Expr::Comprehension(c) => {
                let range = self.check(&c.iter_range, root);
                let element = range.and_then(|r| match (&r.items, &r.additional) {
                    (Some(items), _) => Some((**items).clone()),
                    // Iterating a map yields its keys.
                    _ => None,
                });
                let mut saved = Vec::new();
                saved.push((c.iter_var.clone(), self.scope.insert(c.iter_var.clone(), element)));
                if let Some(var2) = &c.iter_var2 {
                    saved.push((var2.clone(), self.scope.insert(var2.clone(), None)));
                }
                saved.push((c.accu_var.clone(), self.scope.insert(c.accu_var.clone(), None)));
                self.check(&c.accu_init, root);
                self.check(&c.loop_cond, root);
                self.check(&c.loop_step, root);
                self.check(&c.result, root);
                for (var, previous) in saved.into_iter().rev() {
                    match previous {
                        Some(p) => self.scope.insert(var, p),
                        None => self.scope.remove(&var),
                    };
                }
                None
            }
            Expr::Literal(_) | Expr::Unspecified => None,
        }
    }

    /// Where `needle` is first written in the source (cel-go points at a selection's dot).
    fn offset_of(&self, needle: &str) -> usize {
        self.source.find(needle).unwrap_or(0)
    }

    /// Where identifier `word` is first written as a whole word.
    fn offset_of_word(&self, word: &str) -> usize {
        super::offset_of_word(self.source, word)
    }
}
