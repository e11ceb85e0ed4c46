//! Defaulting: filling in `default` values, and checking the defaults of a schema.
//!
//! Applying defaults follows kube-apiserver: first non-nullable `null`s that have no default are
//! dropped (`PruneNonNullableNullsWithoutDefaults`), then every absent field with a default, and
//! every non-nullable `null` that has one, takes a copy of the default — in properties,
//! `additionalProperties` values and array items, recursively, including inside defaults just
//! applied.
//!
//! Checking defaults (at CRD registration) follows kube's `ValidateDefaults`: a default must
//! survive pruning unchanged (`must not have unknown fields`), an embedded resource's default
//! must carry valid TypeMeta and metadata, and the default must validate against its own node;
//! causes sit under `<node path>.default`. Like kube, defaults inside `additionalProperties`
//! are not checked.

use serde_json::Value;

use super::embedded;
use super::node::{Additional, Node};
use super::path::{child, key};
use super::{prune, validate};
use crate::meta::validation::FieldCause;

/// Applies the defaults of `node` to `value` in place.
pub fn apply(node: &Node, value: &mut Value) {
    drop_nulls_without_defaults(Some(node), value);
    default(node, value);
}

/// A `null` that may not be null and has no default to replace it.
fn is_droppable_null(value: &Value, node: Option<&Node>) -> bool {
    value.is_null() && node.is_some_and(|n| !n.nullable && n.default.is_none())
}

/// A `null` that may not be null: the default (if any) takes its place.
fn is_non_nullable_null(value: &Value, node: &Node) -> bool {
    value.is_null() && !node.nullable
}

fn drop_nulls_without_defaults(node: Option<&Node>, value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, v| !is_droppable_null(v, node.and_then(|n| n.schema_for_key(k))));
            for (k, v) in map.iter_mut() {
                drop_nulls_without_defaults(node.and_then(|n| n.schema_for_key(k)), v);
            }
        }
        Value::Array(items) => {
            let schema = node.and_then(|n| n.items.as_deref());
            for item in items {
                drop_nulls_without_defaults(schema, item);
            }
        }
        _ => {}
    }
}

fn default(node: &Node, value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, property) in &node.properties {
                let Some(fallback) = &property.default else {
                    continue;
                };
                let absent_or_null =
                    map.get(name).is_none_or(|v| is_non_nullable_null(v, property));
                if absent_or_null {
                    map.insert(name.clone(), fallback.clone());
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(property) = node.properties.get(k) {
                    default(property, v);
                } else if let Some(Additional::Schema(schema)) = &node.additional {
                    if let (true, Some(fallback)) =
                        (is_non_nullable_null(v, schema), &schema.default)
                    {
                        *v = fallback.clone();
                    }
                    default(schema, v);
                }
            }
        }
        Value::Array(items) => {
            let Some(schema) = &node.items else {
                return;
            };
            for item in items {
                if let (true, Some(fallback)) =
                    (is_non_nullable_null(item, schema), &schema.default)
                {
                    *item = fallback.clone();
                }
                default(schema, item);
            }
        }
        _ => {}
    }
}

/// Checks every default of the structural tree under `node` at `path`.
pub fn check(node: &Node, path: &str, causes: &mut Vec<FieldCause>) {
    if let Some(value) = &node.default {
        check_one(node, value, &child(path, "default"), causes);
    }
    if let Some(items) = &node.items {
        check(items, &child(path, "items"), causes);
    }
    let properties = child(path, "properties");
    for (name, property) in &node.properties {
        check(property, &key(&properties, name), causes);
    }
}

fn check_one(node: &Node, value: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let mut pruned = value.clone();
    prune::prune_node(node, &mut pruned, node.embedded_resource);
    if pruned != *value {
        causes.push(FieldCause::invalid(path, value.clone(), "must not have unknown fields"));
        return;
    }
    if node.embedded_resource
        && let Value::Object(map) = value
    {
        let before = causes.len();
        embedded::validate_resource(map, path, causes);
        if causes.len() > before {
            return;
        }
    }
    validate::validate(node, value, path, "", causes);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apiextensions::schema::parse::parse_root;
    use crate::meta::CauseType;

    fn node(schema: Value) -> Node {
        let mut causes = Vec::new();
        let node = parse_root(&schema, "", &mut causes);
        assert!(causes.is_empty(), "{causes:?}");
        node
    }

    fn defaulted(schema: Value, mut value: Value) -> Value {
        apply(&node(schema), &mut value);
        value
    }

    #[test]
    fn absent_fields_take_their_default() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer", "default": 1},
            "mode": {"type": "string", "default": "auto"},
        }}}});
        assert_eq!(
            defaulted(schema.clone(), json!({"spec": {}})),
            json!({"spec": {"replicas": 1, "mode": "auto"}})
        );
        assert_eq!(
            defaulted(schema.clone(), json!({"spec": {"replicas": 3}})),
            json!({"spec": {"replicas": 3, "mode": "auto"}})
        );
        // No spec, no defaults inside it.
        assert_eq!(defaulted(schema, json!({})), json!({}));
    }

    #[test]
    fn defaults_nest_and_recurse_into_applied_defaults() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "default": {},
            "properties": {"inner": {"type": "object", "default": {}, "properties": {
                "x": {"type": "integer", "default": 7}}}}}}});
        assert_eq!(defaulted(schema, json!({})), json!({"spec": {"inner": {"x": 7}}}));
    }

    #[test]
    fn defaults_in_arrays_and_maps() {
        let schema = json!({"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": "object", "properties": {
                "port": {"type": "integer", "default": 80}}}},
            "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "weight": {"type": "integer", "default": 1}}}},
            "names": {"type": "array", "items": {"type": "string", "default": "unnamed"}},
        }});
        let value = json!({"list": [{}, {"port": 8080}], "map": {"a": {}, "b": {"weight": 5}}, "names": ["x", null]});
        assert_eq!(
            defaulted(schema, value),
            json!({
                "list": [{"port": 80}, {"port": 8080}],
                "map": {"a": {"weight": 1}, "b": {"weight": 5}},
                "names": ["x", "unnamed"],
            })
        );
    }

    #[test]
    fn nulls_are_defaulted_or_dropped_unless_nullable() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "string", "default": "d"},
            "b": {"type": "string"},
            "c": {"type": "string", "nullable": true, "default": "d"},
            "raw": {"x-kubernetes-preserve-unknown-fields": true},
        }});
        let value = json!({"a": null, "b": null, "c": null, "raw": {"keep": null}});
        assert_eq!(defaulted(schema, value), json!({"a": "d", "c": null, "raw": {"keep": null}}));
    }

    #[test]
    fn unknown_fields_are_left_alone() {
        let schema = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"a": {"type": "integer", "default": 1}}});
        assert_eq!(
            defaulted(schema, json!({"other": {"x": null}})),
            json!({"a": 1, "other": {"x": null}})
        );
    }

    #[test]
    fn int_or_string_defaults() {
        let schema = json!({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true, "default": "http"}}});
        assert_eq!(defaulted(schema, json!({})), json!({"port": "http"}));
    }

    #[test]
    fn odd_values_do_not_panic() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "integer", "default": 1}}}, "list": {"type": "array", "items": {"type": "string", "default": "x"}}}});
        for value in
            [json!(null), json!(1), json!("x"), json!([1, 2]), json!({"spec": 5, "list": {"a": 1}})]
        {
            let before = value.clone();
            let after = defaulted(schema.clone(), value);
            if !before.is_object() {
                assert_eq!(after, before);
            }
        }
    }

    fn check_causes(schema: Value) -> Vec<FieldCause> {
        let root = node(schema);
        let mut causes = Vec::new();
        check(&root, "s", &mut causes);
        causes
    }

    #[test]
    fn defaults_must_validate() {
        let causes = check_causes(json!({"type": "object", "properties": {
            "replicas": {"type": "integer", "minimum": 1, "default": 0}}}));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "s.properties[replicas].default");
        assert_eq!(causes[0].reason, CauseType::FieldValueInvalid);
        assert_eq!(
            causes[0].message,
            "Invalid value: 0:  in body should be greater than or equal to 1"
        );
        let causes =
            check_causes(json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"n": {"type": "integer"}}, "default": {"n": "x"}}}}));
        assert_eq!(causes[0].field, "s.properties[spec].default.n");
        assert_eq!(causes[0].reason, CauseType::FieldValueTypeInvalid);
        assert!(
            check_causes(
                json!({"type": "object", "properties": {"a": {"type": "string", "default": "ok"}}})
            )
            .is_empty()
        );
    }

    #[test]
    fn defaults_must_be_pruned() {
        let causes =
            check_causes(json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"n": {"type": "integer"}}, "default": {"n": 1, "extra": true}}}}));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "s.properties[spec].default");
        assert_eq!(
            causes[0].message,
            "Invalid value: {\"extra\":true,\"n\":1}: must not have unknown fields"
        );
    }

    #[test]
    fn embedded_defaults_need_type_meta() {
        let causes = check_causes(json!({"type": "object", "properties": {"t": {"type": "object",
            "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true,
            "default": {"kind": "Pod"}}}}));
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, "s.properties[t].default.apiVersion");
        assert_eq!(causes[0].reason, CauseType::FieldValueRequired);
    }
}
