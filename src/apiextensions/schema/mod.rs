//! The structural-schema engine of CustomResourceDefinitions: everything kube-apiserver does
//! with a CRD version's `openAPIV3Schema`, without I/O.
//!
//! [`Schema::parse`] reads the schema and rejects what a v1 CRD may not contain — non-structural
//! schemas, forbidden constructs, defaults that do not validate or are not pruned — with
//! kube's causes at kube's field paths (`spec.versions[0].schema.openAPIV3Schema.properties[spec].type`).
//! A parsed [`Schema`] then serves every write of a custom resource, in kube's order:
//! [`Schema::prune`] drops unknown fields (reporting them for `fieldValidation`),
//! [`Schema::apply_defaults`] fills in defaults, [`Schema::validate`] checks the result.
//!
//! # Layout
//! - `node`: the typed tree ([`Node`]) one `JSONSchemaProps` becomes.
//! - `parse`: JSON → tree, and the per-node CRD rules.
//! - `structural`: the structural-schema check.
//! - `validate`, `format`, `messages`: value validation with kube-openapi's wording.
//! - `defaults`: applying defaults, and checking a schema's defaults.
//! - `prune`: dropping unspecified fields.
//! - `embedded`: TypeMeta and ObjectMeta of `x-kubernetes-embedded-resource` objects.
//! - `path`: field-path spelling.
//!
//! Errors are [`FieldCause`]s throughout, ready for a 422 `Invalid` status.

mod defaults;
mod embedded;
mod format;
mod messages;
mod node;
mod parse;
pub(crate) mod path;
mod prune;
mod structural;
mod validate;

use serde_json::Value;

use crate::meta::validation::FieldCause;
pub use node::{Additional, Node, Type, ValidationRule};

/// A checked, structural `openAPIV3Schema` of one CRD version.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    root: Node,
    /// The compiled `x-kubernetes-validations` rules, kept with the served CRD.
    rules: crate::apiextensions::cel::Validator,
}

impl Schema {
    /// Parses and checks `schema`, found at `path` in the CRD
    /// (`spec.versions[0].schema.openAPIV3Schema`). Errors come in three rounds, each only if
    /// the previous one passed, as in kube-apiserver: the per-node rules, then the structural
    /// check (sorted), then the defaults.
    pub fn parse(schema: &Value, path: &str) -> Result<Schema, Vec<FieldCause>> {
        let mut causes = Vec::new();
        let root = parse::parse_root(schema, path, &mut causes);
        if !causes.is_empty() {
            return Err(causes);
        }
        let causes = structural::check(&root, path);
        if !causes.is_empty() {
            return Err(causes);
        }
        let mut causes = Vec::new();
        defaults::check(&root, path, &mut causes);
        if !causes.is_empty() {
            return Err(causes);
        }
        let rules = crate::apiextensions::cel::Validator::compile(&root, path)?;
        Ok(Schema { root, rules })
    }

    /// The schema's compiled CEL rules (`x-kubernetes-validations`).
    pub fn rules(&self) -> &crate::apiextensions::cel::Validator {
        &self.rules
    }

    /// Validates a write of a custom resource: [`Schema::validate`], then the CEL rules, as
    /// apiextensions-apiserver's strategy does. The rules do not run when the schema found
    /// errors that make them meaningless (missing, unsupported, too long, too many, wrong type):
    /// kube says so in one more cause. `old` is the stored object on an update. Returns the
    /// causes and the ratcheted rule failures (warnings).
    pub fn validate_write(
        &self,
        object: &Value,
        old: Option<&Value>,
    ) -> (Vec<FieldCause>, Vec<String>) {
        let mut causes = self.validate(object);
        if self.rules.is_empty() {
            return (causes, Vec::new());
        }
        use crate::meta::CauseType::*;
        let blocking = causes.iter().any(|c| {
            matches!(
                c.reason,
                FieldValueNotSupported
                    | FieldValueRequired
                    | FieldValueTooLong
                    | FieldValueTooMany
                    | FieldValueTypeInvalid
            )
        });
        if blocking {
            causes.push(FieldCause::invalid(
                "<nil>",
                Value::Null,
                "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
            ));
            return (causes, Vec::new());
        }
        let outcome = self.rules.validate(object, old);
        causes.extend(outcome.causes);
        (causes, outcome.warnings)
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Validates a whole custom resource: the schema's value validations with kube-openapi's
    /// paths and words, then every embedded resource's TypeMeta and metadata. The root's own
    /// `metadata` is left to the store's object-meta validation, as in kube.
    pub fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate::validate(&self.root, object, "", "", &mut causes);
        embedded::validate(&self.root, object, "", &mut causes);
        causes
    }

    /// Applies the schema's defaults in place (after dropping non-nullable nulls without one).
    pub fn apply_defaults(&self, object: &mut Value) {
        defaults::apply(&self.root, object);
    }

    /// Drops the fields the schema does not specify; returns their paths, sorted
    /// (`spec.foo`, `spec.items[0].bar`), for `unknown field "…"` warnings or errors.
    pub fn prune(&self, object: &mut Value) -> Vec<String> {
        prune::prune_root(&self.root, object)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::meta::CauseType;

    const ROOT: &str = "spec.versions[0].schema.openAPIV3Schema";

    fn crontab() -> Value {
        json!({"type": "object", "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 30}}},
            "spec": {"type": "object", "required": ["cronSpec"], "properties": {
                "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                "ports": {"type": "array", "items": {"type": "object", "required": ["port"], "properties": {
                    "port": {"x-kubernetes-int-or-string": true},
                    "protocol": {"type": "string", "enum": ["TCP", "UDP"], "default": "TCP"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 5}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "x-kubernetes-preserve-unknown-fields": true},
            }},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        }})
    }

    #[test]
    fn the_write_path_in_kube_order() {
        let schema = Schema::parse(&crontab(), ROOT).expect("structural");
        let mut object = json!({
            "apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"cronSpec": "* * * * */5", "image": "img", "unknown": 1,
                "ports": [{"port": 80}, {"port": "http", "protocol": "UDP", "x": 1}],
                "labels": {"a": "b"},
                "template": {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": []}}},
            "status": {"anything": {"goes": true}},
        });
        let pruned = schema.prune(&mut object);
        assert_eq!(pruned, vec!["spec.ports[1].x", "spec.unknown"]);
        schema.apply_defaults(&mut object);
        assert_eq!(object["spec"]["replicas"], 1);
        assert_eq!(object["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(schema.validate(&object), Vec::new());
    }

    #[test]
    fn validation_failures_carry_kube_paths() {
        let schema = Schema::parse(&crontab(), ROOT).expect("structural");
        let object = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "a-name-that-is-far-too-long-for-this-crd"},
            "spec": {"replicas": "string", "ports": [{"protocol": "SCTP"}],
                "labels": {"k": "toolong"}, "template": {"kind": "Pod"}}});
        let causes = schema.validate(&object);
        let got: Vec<(&str, CauseType)> =
            causes.iter().map(|c| (c.field.as_str(), c.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("metadata.name", CauseType::FieldValueTooLong),
                ("spec.labels.k", CauseType::FieldValueTooLong),
                ("spec.ports[0].protocol", CauseType::FieldValueNotSupported),
                ("spec.ports[0].port", CauseType::FieldValueRequired),
                ("spec.replicas", CauseType::FieldValueTypeInvalid),
                ("spec.cronSpec", CauseType::FieldValueRequired),
                ("spec.template.apiVersion", CauseType::FieldValueRequired),
            ]
        );
        assert_eq!(
            causes[4].to_string(),
            "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
        );
    }

    #[test]
    fn parse_reports_each_round() {
        let err =
            Schema::parse(&json!({"type": "object", "properties": {"a": {"$ref": "#/x"}}}), ROOT)
                .unwrap_err();
        assert_eq!(err[0].field, format!("{ROOT}.properties[a].$ref"));
        let err = Schema::parse(
            &json!({"type": "object", "properties": {"spec": {"properties": {}}}}),
            ROOT,
        )
        .unwrap_err();
        assert_eq!(err[0].field, format!("{ROOT}.properties[spec].type"));
        assert_eq!(err[0].reason, CauseType::FieldValueRequired);
        let err = Schema::parse(
            &json!({"type": "object", "properties": {"n": {"type": "integer", "default": "x"}}}),
            ROOT,
        )
        .unwrap_err();
        assert_eq!(err[0].field, format!("{ROOT}.properties[n].default"));
        assert_eq!(err[0].reason, CauseType::FieldValueTypeInvalid);
    }

    /// A small deterministic generator of odd JSON for the no-panic sweep.
    struct Odd(u64);

    impl Odd {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn value(&mut self, depth: u32) -> Value {
            const KEYS: [&str; 24] = [
                "type",
                "properties",
                "items",
                "additionalProperties",
                "default",
                "enum",
                "required",
                "nullable",
                "minimum",
                "maxLength",
                "pattern",
                "format",
                "allOf",
                "anyOf",
                "oneOf",
                "not",
                "x-kubernetes-int-or-string",
                "x-kubernetes-preserve-unknown-fields",
                "x-kubernetes-embedded-resource",
                "metadata",
                "apiVersion",
                "kind",
                "multipleOf",
                "spec",
            ];
            const STRINGS: [&str; 10] =
                ["object", "array", "string", "integer", "number", "boolean", "(", "uuid", "", "ß"];
            match (self.next() % if depth == 0 { 5 } else { 8 }) as u32 {
                0 => Value::Null,
                1 => Value::Bool(self.next().is_multiple_of(2)),
                2 => json!((self.next() % 7) as i64 - 3),
                3 => json!(((self.next() % 100) as f64) / 8.0 - 4.0),
                4 => json!(STRINGS[(self.next() % 10) as usize]),
                5 => Value::Array((0..self.next() % 3).map(|_| self.value(depth - 1)).collect()),
                _ => Value::Object(
                    (0..self.next() % 5)
                        .map(|_| {
                            (KEYS[(self.next() % 24) as usize].to_owned(), self.value(depth - 1))
                        })
                        .collect(),
                ),
            }
        }
    }

    #[test]
    fn odd_json_never_panics() {
        let mut odd = Odd(0x9e37_79b9_7f4a_7c15);
        let mut parsed = 0;
        for _ in 0..3000 {
            let schema = odd.value(4);
            let mut object = odd.value(4);
            if let Ok(schema) = Schema::parse(&schema, ROOT) {
                parsed += 1;
                let _ = schema.prune(&mut object);
                schema.apply_defaults(&mut object);
                let _ = schema.validate(&object);
            }
        }
        // Also run a fixed structural schema over odd objects.
        let schema = Schema::parse(&crontab(), ROOT).expect("structural");
        for _ in 0..3000 {
            let mut object = odd.value(5);
            let _ = schema.validate(&object);
            let _ = schema.prune(&mut object);
            schema.apply_defaults(&mut object);
            let _ = schema.validate(&object);
        }
        assert!(parsed > 0, "the generator should produce some valid schemas");
    }
}
