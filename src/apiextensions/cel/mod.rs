//! CEL validation rules of CRD schemas (`x-kubernetes-validations`), as apiextensions-apiserver's
//! `schema/cel` package runs them.
//!
//! When a CRD is written, [`Validator::compile`] compiles every rule of a version's schema into a
//! program once (refusing, with kube's 422 causes, rules that do not parse, name fields the
//! schema does not have, or whose estimated cost exceeds kube's limits); the served CRD keeps the
//! [`Validator`]. On every write of a custom resource, after pruning and defaulting, the store's
//! strategy calls [`Validator::validate`], which walks the object beside the schema, binds
//! `self` (and `oldSelf` on updates, correlated as kube does) at each node holding rules,
//! evaluates them against the request's cost budget, and reports failures as causes at the
//! node's path (or the rule's `fieldPath`).
//!
//! # Layout
//! - `library`: the environment: CEL's standard library, cel-rust's strings extension and
//!   kube's libraries (lists, regex, quantity, IP/CIDR, URLs, format).
//! - `value`: JSON → CEL values, typed by the schema.
//! - `cost`: estimated and actual cost of a rule.
//! - `compile`: schema → compiled rule tree, with the CRD's causes.
//! - `eval`: the walk over an object, `oldSelf` correlation and ratcheting.
//!
//! The crate is cel-rust's `cel` (parser, macros, interpreter, optional types); it has no type
//! checker, so compile-time checks here are the ones kube's users meet most (syntax, undeclared
//! variables, fields the schema lacks, cost) and the rest surface when a rule runs.

mod compile;
pub(crate) mod cost;
mod eval;
pub(crate) mod library;
pub(crate) mod value;

use std::sync::Arc;

pub use eval::Outcome;

/// kube's per-expression runtime limit (`PerCallLimit`).
pub const PER_CALL_LIMIT: u64 = 1_000_000;
/// kube's runtime budget for all rules of one request (`RuntimeCELCostBudget`).
pub const RUNTIME_BUDGET: i64 = 10_000_000;
/// kube's estimated cost limit of one rule, times the times it may run
/// (`StaticEstimatedCostLimit`).
pub const STATIC_RULE_LIMIT: u64 = 10_000_000;
/// kube's estimated cost limit of all rules of one schema (`StaticEstimatedCRDCostLimit`).
pub const STATIC_SCHEMA_LIMIT: u64 = 100_000_000;

/// The compiled rules of one schema. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Validator {
    root: Option<Arc<compile::Level>>,
    /// Evaluations are charged against [`RUNTIME_BUDGET`] (false when the rules' estimates
    /// show they cannot exceed it, nor any rule its [`PER_CALL_LIMIT`]).
    metered: bool,
}

impl PartialEq for Validator {
    /// Validators come from schemas, which are compared themselves.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Validator {
    /// Compiles the rules of the schema rooted at `root`, found at `path` in the CRD; errors are
    /// kube's causes for the CRD.
    pub fn compile(
        root: &crate::apiextensions::schema::Node,
        path: &str,
    ) -> Result<Validator, Vec<crate::meta::validation::FieldCause>> {
        compile::compile(root, path)
            .map(|(root, metered)| Validator { root: root.map(Arc::new), metered })
    }

    /// True when the schema has no rules.
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// Evaluates the rules on `object` (the whole custom resource); `old` is the stored object
    /// on an update.
    pub fn validate(&self, object: &serde_json::Value, old: Option<&serde_json::Value>) -> Outcome {
        match &self.root {
            Some(root) => eval::validate(root, object, old, self.metered),
            None => Outcome::default(),
        }
    }
}

/// A problem at byte `start` of `source`, in cel-go's form (position, the line, a caret under
/// the column), as compile errors and type-check warnings are reported.
pub(crate) fn problem(source: &str, start: usize, message: &str) -> String {
    let start = start.min(source.len());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_no = source[..line_start].matches('\n').count() + 1;
    let line_end = source[line_start..].find('\n').map_or(source.len(), |i| line_start + i);
    let column = start - line_start;
    format!(
        "ERROR: <input>:{line_no}:{}: {message}\n | {}\n | {}^",
        column + 1,
        &source[line_start..line_end],
        ".".repeat(column)
    )
}

/// Where identifier `word` is first written in `source` as a whole word (where cel-go points
/// at an undeclared reference).
pub(crate) fn offset_of_word(source: &str, word: &str) -> usize {
    let bytes = source.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    source
        .match_indices(word)
        .map(|(at, _)| at)
        .find(|&at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + word.len()).copied();
            !before.is_some_and(|b| is_ident(b) || b == b'.') && !after.is_some_and(is_ident)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::apiextensions::schema::Schema;
    use crate::meta::CauseType;

    const ROOT: &str = "spec.versions[0].schema.openAPIV3Schema";

    fn schema(spec: Value) -> Result<Schema, Vec<crate::meta::validation::FieldCause>> {
        Schema::parse(&json!({"type": "object", "properties": {"spec": spec}}), ROOT)
    }

    fn causes(schema: &Schema, object: Value, old: Option<Value>) -> Vec<String> {
        schema.validate_write(&object, old.as_ref()).0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn rules_report_at_their_node_with_kube_messages() {
        let schema = schema(json!({"type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.min <= self.max", "message": "min must not exceed max"},
                {"rule": "self.min >= 0"},
                {"rule": "self.max < 100", "fieldPath": ".max", "reason": "FieldValueForbidden"},
                {"rule": "self.min != 7", "messageExpression": "'min is ' + string(self.min)"}],
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}}))
        .expect("compiles");
        let object = |min: i64, max: i64| json!({"spec": {"min": min, "max": max}});
        assert_eq!(causes(&schema, object(1, 2), None), Vec::<String>::new());
        assert_eq!(
            causes(&schema, object(-3, -5), None),
            vec![
                "spec: Invalid value: \"object\": min must not exceed max",
                "spec: Invalid value: \"object\": failed rule: self.min >= 0",
            ]
        );
        assert_eq!(
            causes(&schema, object(1, 200), None),
            vec!["spec.max: Forbidden: failed rule: self.max < 100"]
        );
        assert_eq!(
            causes(&schema, object(7, 8), None),
            vec!["spec: Invalid value: \"object\": min is 7"]
        );
    }

    #[test]
    fn transition_rules_need_an_old_value_unless_optional() {
        let schema = schema(json!({"type": "object", "properties": {
            "name": {"type": "string", "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "name is immutable"}]},
            "count": {"type": "integer", "x-kubernetes-validations": [
                {"rule": "oldSelf.hasValue() ? self >= oldSelf.value() : self < 10",
                 "optionalOldSelf": true, "message": "count may only grow"}]}}}))
        .expect("compiles");
        let object = |name: &str, count: i64| json!({"spec": {"name": name, "count": count}});
        assert!(causes(&schema, object("a", 1), None).is_empty());
        assert_eq!(
            causes(&schema, object("a", 11), None),
            vec!["spec.count: Invalid value: \"integer\": count may only grow"]
        );
        assert_eq!(
            causes(&schema, object("b", 0), Some(object("a", 1))),
            vec![
                "spec.name: Invalid value: \"string\": name is immutable",
                "spec.count: Invalid value: \"integer\": count may only grow",
            ]
        );
    }

    #[test]
    fn unchanged_invalid_values_ratchet() {
        let schema = schema(json!({"type": "object", "properties": {
            "a": {"type": "string", "x-kubernetes-validations": [{"rule": "self.startsWith('x')"}]},
            "b": {"type": "string"}}}))
        .expect("compiles");
        let old = json!({"spec": {"a": "bad", "b": "1"}});
        let (causes, warnings) =
            schema.validate_write(&json!({"spec": {"a": "bad", "b": "2"}}), Some(&old));
        assert!(causes.is_empty(), "{causes:?}");
        assert_eq!(
            warnings,
            vec!["spec.a: Invalid value: \"string\": failed rule: self.startsWith('x')"]
        );
        let (causes, _) =
            schema.validate_write(&json!({"spec": {"a": "worse", "b": "1"}}), Some(&old));
        assert_eq!(causes.len(), 1);
    }

    #[test]
    fn map_lists_correlate_items_by_key() {
        let schema = schema(json!({"type": "object", "properties": {"ports": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "port": {"type": "integer"}},
                "x-kubernetes-validations": [{"rule": "self.port == oldSelf.port", "message": "port is immutable"}]}}}}))
        .expect("compiles");
        let old = json!({"spec": {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}});
        let new = json!({"spec": {"ports": [{"name": "b", "port": 2}, {"name": "a", "port": 5}, {"name": "c", "port": 9}]}});
        assert_eq!(
            causes(&schema, new, Some(old)),
            vec!["spec.ports[1]: Invalid value: \"object\": port is immutable"]
        );
    }

    #[test]
    fn blocking_schema_errors_skip_the_rules() {
        let schema = schema(json!({"type": "object", "required": ["x"],
            "x-kubernetes-validations": [{"rule": "false"}],
            "properties": {"x": {"type": "string"}}}))
        .expect("compiles");
        let (causes, _) = schema.validate_write(&json!({"spec": {}}), None);
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].reason, CauseType::FieldValueRequired);
        assert_eq!(
            causes[1].to_string(),
            "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
        );
    }

    #[test]
    fn crd_writes_refuse_bad_rules() {
        let err =
            schema(json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.x >"}],
            "properties": {"x": {"type": "integer"}}}))
            .unwrap_err();
        assert_eq!(
            err[0].field,
            format!("{ROOT}.properties[spec].x-kubernetes-validations[0].rule")
        );
        assert!(
            err[0].message.starts_with(
                "Invalid value: apiextensions.ValidationRule{Rule:\"self.x >\", Message:\"\""
            ),
            "{}",
            err[0].message
        );
        assert!(
            err[0].message.contains("compilation failed: ERROR: <input>:1:"),
            "{}",
            err[0].message
        );

        let err = schema(
            json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.nope == 1"}],
            "properties": {"x": {"type": "integer"}}}),
        )
        .unwrap_err();
        assert!(err[0].message.contains("undefined field 'nope'"), "{}", err[0].message);

        let err =
            schema(json!({"type": "object", "x-kubernetes-validations": [{"rule": "other == 1"}]}))
                .unwrap_err();
        assert!(err[0].message.contains("undeclared reference to 'other'"), "{}", err[0].message);

        let err = schema(json!({"type": "object", "x-kubernetes-validations": [{"rule": "true", "reason": "Nope"}]})).unwrap_err();
        assert_eq!(err[0].reason, CauseType::FieldValueNotSupported);

        let err = schema(json!({"type": "object", "x-kubernetes-validations": [{"rule": ""}]}))
            .unwrap_err();
        assert_eq!(
            err[0].to_string(),
            format!(
                "{ROOT}.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified"
            )
        );
    }

    #[test]
    fn estimated_cost_over_the_limit_is_forbidden() {
        // Quadratic over unbounded lists of unbounded strings.
        let err = schema(json!({"type": "object", "properties": {"names": {
            "type": "array", "items": {"type": "string"},
            "x-kubernetes-validations": [{"rule": "self.all(a, self.exists(b, a.contains(b)))"}]}}}))
        .unwrap_err();
        assert_eq!(err[0].reason, CauseType::FieldValueForbidden);
        assert!(
            err[0].message.contains("estimated rule cost exceeds budget by factor of"),
            "{}",
            err[0].message
        );
        // The same rule with maxItems and maxLength is fine.
        schema(json!({"type": "object", "properties": {"names": {
            "type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 63},
            "x-kubernetes-validations": [{"rule": "self.all(a, self.exists(b, a.contains(b)))"}]}}}))
        .expect("bounded rule compiles");
    }

    #[test]
    fn the_root_sees_only_name_and_generate_name_of_metadata() {
        let schema = Schema::parse(
            &json!({"type": "object",
            "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('ok-')"}],
            "properties": {"spec": {"type": "object"}}}),
            ROOT,
        )
        .expect("compiles");
        let object = |name: &str| json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": name, "namespace": "default"}});
        assert!(schema.validate_write(&object("ok-1"), None).0.is_empty());
        assert_eq!(schema.validate_write(&object("bad"), None).0.len(), 1);
        let err = Schema::parse(
            &json!({"type": "object",
            "x-kubernetes-validations": [{"rule": "has(self.metadata.namespace)"}]}),
            ROOT,
        )
        .unwrap_err();
        assert!(err[0].message.contains("undefined field 'namespace'"), "{}", err[0].message);
    }

    #[test]
    fn a_rule_whose_estimate_may_exceed_the_call_limit_is_metered() {
        // Allowed when the CRD is written (estimate between the per-call and the rule limit),
        // cancelled at runtime only when the actual list is large.
        let schema = schema(json!({"type": "object", "properties": {"names": {
            "type": "array", "maxItems": 400, "items": {"type": "string", "maxLength": 16},
            "x-kubernetes-validations": [{"rule": "self.all(a, self.exists(b, a.contains(b)))"}]}}}))
        .expect("compiles");
        let names = |n: usize| (0..n).map(|i| format!("name-{i:011}")).collect::<Vec<_>>();
        assert!(causes(&schema, json!({"spec": {"names": names(10)}}), None).is_empty());
        assert_eq!(
            causes(&schema, json!({"spec": {"names": names(400)}}), None),
            vec![
                "spec.names: Invalid value: \"array\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.all(a, self.exists(b, a.contains(b)))"
            ]
        );
    }

    #[test]
    fn values_converted_once_are_seen_the_same_below() {
        // Rules at the root, at `spec`, at list items and at map values: each sees its own
        // value, taken out of its parent's conversion.
        let schema = Schema::parse(
            &json!({"type": "object",
            "x-kubernetes-validations": [{"rule": "self.spec.items.size() == 2"}],
            "properties": {"spec": {"type": "object",
                "x-kubernetes-validations": [{"rule": "self.items.all(i, i.n > 0)"}],
                "properties": {
                    "items": {"type": "array", "items": {"type": "object",
                        "x-kubernetes-validations": [{"rule": "self.n < 10", "message": "small"}],
                        "properties": {"n": {"type": "integer"}}}},
                    "tags": {"type": "object", "x-kubernetes-validations": [{"rule": "size(self) < 3"}],
                        "additionalProperties": {"type": "string",
                            "x-kubernetes-validations": [{"rule": "self != 'bad'"}]}}}}}}),
            ROOT,
        )
        .expect("compiles");
        let object = |n: i64, tag: &str| {
            json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "x"},
                "spec": {"items": [{"n": 1}, {"n": n}], "tags": {"a-b": tag}}})
        };
        assert!(schema.validate_write(&object(2, "ok"), None).0.is_empty());
        let found: Vec<String> = schema
            .validate_write(&object(12, "bad"), None)
            .0
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "spec.items[1]: Invalid value: \"object\": small",
                "spec.tags[a-b]: Invalid value: \"string\": failed rule: self != 'bad'",
            ]
        );
    }
}
