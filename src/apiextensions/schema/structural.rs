//! The structural-schema check: what makes a CRD schema "structural" in kube's sense, so that
//! pruning, defaulting and server-side apply can know the shape of every field.
//!
//! Following kube-apiserver's `ValidateStructural`:
//!
//! - every node of the structural part names a non-empty `type`, unless it has
//!   `x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields`; the root is an
//!   `object`; arrays have `items`; `additionalProperties` is not used at the root or beside
//!   `x-kubernetes-embedded-resource`, which needs `type: object` and some `properties` (or
//!   preserved unknown fields);
//! - inside `allOf`/`anyOf`/`oneOf`/`not` (value validations only) there is no `type`,
//!   `additionalProperties`, `default`, `title`, `description`, `nullable`, `externalDocs`,
//!   `x-kubernetes-*` extension, nor `metadata` — except kube's two int-or-string spellings
//!   (`anyOf: [{type: integer}, {type: string}]`, directly or as the first `allOf`);
//! - every property and `items` a value validation of the root mentions is also specified
//!   outside it ("completeness"; kube follows only the root's junctors, and so does this);
//! - `metadata` at the root restricts at most `name` and `generateName`; `kind` and
//!   `apiVersion` of a resource are strings, `metadata` an object.
//!
//! Causes are sorted by their text, as kube sorts them.

use super::node::{Additional, Node, Type};
use super::path::{child, index, key};
use crate::meta::validation::FieldCause;

/// Where a node of the structural part sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// Checks the parsed root schema at `path`.
pub fn check(root: &Node, path: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    invariants(root, Level::Root, path, &mut causes);
    completeness_of_root(root, path, &mut causes);
    causes.sort_by_cached_key(|c| c.to_string());
    causes
}

fn invariants(s: &Node, level: Level, path: &str, causes: &mut Vec<FieldCause>) {
    if s.ty == Some(Type::Array) && s.items.is_none() {
        causes.push(FieldCause::required(child(path, "items"), "must be specified"));
    }
    if let Some(items) = &s.items {
        invariants(items, Level::Item, &child(path, "items"), causes);
    }
    let properties = child(path, "properties");
    for (name, property) in &s.properties {
        invariants(property, Level::Field, &key(&properties, name), causes);
    }
    if let Some(additional) = &s.additional {
        if level == Level::Root {
            causes.push(FieldCause::forbidden(
                child(path, "additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let Additional::Schema(schema) = additional {
            invariants(schema, Level::Field, &child(path, "additionalProperties"), causes);
        }
    }
    extensions(s, path, causes);
    let skip_any_of = s.is_int_or_string_any_of();
    let skip_first_all_of_any_of = s.is_int_or_string_all_of();
    junctors(s, skip_any_of, skip_first_all_of_any_of, path, causes);

    let ty_name = s.ty.map(Type::name).unwrap_or("");
    if s.embedded_resource && s.ty != Some(Type::Object) {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        causes.push(match s.ty {
            None => FieldCause::required(child(path, "type"), detail),
            Some(_) => FieldCause::invalid(child(path, "type"), ty_name, detail),
        });
    } else if s.ty.is_none() && !s.int_or_string && !s.preserve_unknown_fields {
        let detail = match level {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        causes.push(FieldCause::required(child(path, "type"), detail));
    }
    if s.embedded_resource && s.additional.is_some() {
        causes.push(FieldCause::forbidden(
            child(path, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if level == Level::Root && s.ty.is_some_and(|t| t != Type::Object) {
        causes.push(FieldCause::invalid(
            child(path, "type"),
            ty_name,
            "must be object at the root",
        ));
    }
    let resource = level == Level::Root || s.embedded_resource;
    if resource {
        for name in ["kind", "apiVersion"] {
            if let Some(field) = s.properties.get(name)
                && field.ty != Some(Type::String)
            {
                causes.push(FieldCause::invalid(
                    child(&key(&properties, name), "type"),
                    field.ty.map(Type::name).unwrap_or(""),
                    "must be string",
                ));
            }
        }
    }
    if let Some(metadata) = s.properties.get("metadata") {
        metadata_invariants(metadata, resource, level, &key(&properties, "metadata"), causes);
    }
    if s.embedded_resource && !s.preserve_unknown_fields && s.properties.is_empty() {
        causes.push(FieldCause::required(
            child(path, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without \
             x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// `metadata` of a resource is an object; at the root it may only restrict `name` and
/// `generateName` (their own schemas are free).
fn metadata_invariants(
    metadata: &Node,
    resource: bool,
    level: Level,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    if resource && metadata.ty != Some(Type::Object) {
        causes.push(FieldCause::invalid(
            child(path, "type"),
            metadata.ty.map(Type::name).unwrap_or(""),
            "must be object",
        ));
    }
    if level != Level::Root {
        return;
    }
    let mut rest = metadata.clone();
    let only_names = rest.properties.keys().all(|k| k == "name" || k == "generateName");
    if only_names {
        rest.properties.clear();
    }
    rest.ty = None;
    rest.default = None;
    if rest != Node::default() {
        causes.push(FieldCause::forbidden(
            path,
            "must not specify anything other than name and generateName, but metadata is \
             implicitly specified",
        ));
    }
}

fn extensions(s: &Node, path: &str, causes: &mut Vec<FieldCause>) {
    let detail = "must be false if x-kubernetes-int-or-string is true";
    if s.int_or_string && s.preserve_unknown_fields {
        causes.push(FieldCause::invalid(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            true,
            detail,
        ));
    }
    if s.int_or_string && s.embedded_resource {
        causes.push(FieldCause::invalid(
            child(path, "x-kubernetes-embedded-resource"),
            true,
            detail,
        ));
    }
}

/// The junctors of a node: each entry is a value validation and may not carry structure.
fn junctors(
    v: &Node,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    if !skip_any_of {
        for (i, nested) in v.any_of.iter().enumerate() {
            nested_value_validation(nested, false, &index(&child(path, "anyOf"), i), causes);
        }
    }
    for (i, nested) in v.all_of.iter().enumerate() {
        let skip = skip_first_all_of_any_of && i == 0;
        nested_value_validation(nested, skip, &index(&child(path, "allOf"), i), causes);
    }
    for (i, nested) in v.one_of.iter().enumerate() {
        nested_value_validation(nested, false, &index(&child(path, "oneOf"), i), causes);
    }
    if let Some(nested) = &v.not {
        nested_value_validation(nested, false, &child(path, "not"), causes);
    }
}

fn nested_value_validation(v: &Node, skip_any_of: bool, path: &str, causes: &mut Vec<FieldCause>) {
    junctors(v, skip_any_of, false, path, causes);
    if let Some(items) = &v.items {
        nested_value_validation(items, false, &child(path, "items"), causes);
    }
    let properties = child(path, "properties");
    for (name, property) in &v.properties {
        nested_value_validation(property, false, &key(&properties, name), causes);
    }
    let forbid = |causes: &mut Vec<FieldCause>, keyword: &str, detail: &str| {
        causes.push(FieldCause::forbidden(child(path, keyword), detail));
    };
    const EMPTY: &str = "must be empty to be structural";
    const UNDEFINED: &str = "must be undefined to be structural";
    const FALSE: &str = "must be false to be structural";
    if v.ty.is_some() {
        forbid(causes, "type", EMPTY);
    }
    if v.additional.is_some() {
        forbid(causes, "additionalProperties", UNDEFINED);
    }
    if v.default.is_some() {
        forbid(causes, "default", UNDEFINED);
    }
    if v.has_title {
        forbid(causes, "title", EMPTY);
    }
    if v.has_description {
        forbid(causes, "description", EMPTY);
    }
    if v.nullable {
        forbid(causes, "nullable", FALSE);
    }
    if v.has_external_docs {
        forbid(causes, "externalDocs", UNDEFINED);
    }
    if v.preserve_unknown_fields {
        forbid(causes, "x-kubernetes-preserve-unknown-fields", FALSE);
    }
    if v.embedded_resource {
        forbid(causes, "x-kubernetes-embedded-resource", FALSE);
    }
    if v.int_or_string {
        forbid(causes, "x-kubernetes-int-or-string", FALSE);
    }
    if v.has_list_map_keys {
        forbid(causes, "x-kubernetes-list-map-keys", EMPTY);
    }
    if v.has_list_type {
        forbid(causes, "x-kubernetes-list-type", UNDEFINED);
    }
    if v.has_map_type {
        forbid(causes, "x-kubernetes-map-type", UNDEFINED);
    }
    if v.has_validations {
        forbid(causes, "x-kubernetes-validations", EMPTY);
    }
    if v.properties.contains_key("metadata") {
        causes.push(FieldCause::forbidden(
            key(&properties, "metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Completeness: what the junctors of the root mention must exist in its structural part.
/// Like kube-apiserver, only the root's junctors are followed (with everything nested in them);
/// junctors further down are not compared against their structural node.
fn completeness_of_root(root: &Node, path: &str, causes: &mut Vec<FieldCause>) {
    junctor_completeness(root, root, path, path, causes);
}

/// The junctors of the value validation `v` against the structural node `s`.
fn junctor_completeness(
    v: &Node,
    s: &Node,
    s_path: &str,
    v_path: &str,
    causes: &mut Vec<FieldCause>,
) {
    if let Some(not) = &v.not {
        completeness(not, Some(s), s_path, &child(v_path, "not"), causes);
    }
    for (keyword, list) in [("allOf", &v.all_of), ("anyOf", &v.any_of), ("oneOf", &v.one_of)] {
        for (i, nested) in list.iter().enumerate() {
            completeness(nested, Some(s), s_path, &index(&child(v_path, keyword), i), causes);
        }
    }
}

fn completeness(
    v: &Node,
    s: Option<&Node>,
    s_path: &str,
    v_path: &str,
    causes: &mut Vec<FieldCause>,
) {
    let Some(s) = s else {
        causes.push(FieldCause::required(s_path, &format!("because it is defined in {v_path}")));
        return;
    };
    // The nested node's own junctors apply to the same structural node.
    junctor_completeness(v, s, s_path, v_path, causes);
    if let Some(items) = &v.items {
        completeness(
            items,
            s.items.as_deref(),
            &child(s_path, "items"),
            &child(v_path, "items"),
            causes,
        );
    }
    for (name, property) in &v.properties {
        let s_field = key(&child(s_path, "properties"), name);
        let v_field = key(&child(v_path, "properties"), name);
        match s.properties.get(name) {
            Some(structural) => {
                completeness(property, Some(structural), &s_field, &v_field, causes)
            }
            None => causes.push(FieldCause::required(
                s_field,
                &format!("because it is defined in {v_field}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::apiextensions::schema::parse::parse_root;
    use crate::meta::CauseType;

    const ROOT: &str = "spec.versions[0].schema.openAPIV3Schema";

    fn causes_of(schema: Value) -> Vec<FieldCause> {
        let mut parse_causes = Vec::new();
        let node = parse_root(&schema, ROOT, &mut parse_causes);
        assert!(parse_causes.is_empty(), "{parse_causes:?}");
        check(&node, ROOT)
    }

    fn only(schema: Value, field: &str, reason: CauseType, message: &str) {
        let causes = causes_of(schema);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, format!("{ROOT}.{field}").trim_end_matches('.'));
        assert_eq!(causes[0].reason, reason);
        assert_eq!(causes[0].message, message);
    }

    fn spec(inner: Value) -> Value {
        json!({"type": "object", "properties": {"spec": inner}})
    }

    #[test]
    fn a_structural_schema_passes() {
        let schema = json!({"type": "object", "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}},
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer", "minimum": 0},
                "port": {"x-kubernetes-int-or-string": true},
                "port2": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "port3": {"x-kubernetes-int-or-string": true, "allOf": [
                    {"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"pattern": "^[0-9a-z]+$"}]},
                "raw": {"x-kubernetes-preserve-unknown-fields": true},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "list": {"type": "array", "items": {"type": "string"}},
                "choice": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                    "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
            }},
        }});
        assert_eq!(causes_of(schema), Vec::new());
    }

    #[test]
    fn type_is_required_everywhere() {
        only(
            json!({"properties": {}}),
            "type",
            CauseType::FieldValueRequired,
            "Required value: must not be empty at the root",
        );
        only(
            spec(json!({})),
            "properties[spec].type",
            CauseType::FieldValueRequired,
            "Required value: must not be empty for specified object fields",
        );
        only(
            spec(json!({"type": "array", "items": {}})),
            "properties[spec].items.type",
            CauseType::FieldValueRequired,
            "Required value: must not be empty for specified array items",
        );
        only(
            spec(json!({"type": "object", "additionalProperties": {}})),
            "properties[spec].additionalProperties.type",
            CauseType::FieldValueRequired,
            "Required value: must not be empty for specified object fields",
        );
    }

    #[test]
    fn root_must_be_an_object() {
        only(
            json!({"type": "string"}),
            "type",
            CauseType::FieldValueInvalid,
            "Invalid value: \"string\": must be object at the root",
        );
        only(
            json!({"type": "object", "additionalProperties": {"type": "string"}}),
            "additionalProperties",
            CauseType::FieldValueForbidden,
            "Forbidden: must not be used at the root",
        );
    }

    #[test]
    fn arrays_need_items() {
        only(
            spec(json!({"type": "array"})),
            "properties[spec].items",
            CauseType::FieldValueRequired,
            "Required value: must be specified",
        );
    }

    #[test]
    fn embedded_resources_are_objects_with_properties() {
        only(
            spec(
                json!({"x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}),
            ),
            "properties[spec].type",
            CauseType::FieldValueRequired,
            "Required value: must be object if x-kubernetes-embedded-resource is true",
        );
        only(
            spec(
                json!({"type": "string", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}),
            ),
            "properties[spec].type",
            CauseType::FieldValueInvalid,
            "Invalid value: \"string\": must be object if x-kubernetes-embedded-resource is true",
        );
        only(
            spec(json!({"type": "object", "x-kubernetes-embedded-resource": true})),
            "properties[spec].properties",
            CauseType::FieldValueRequired,
            "Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        );
        only(
            spec(json!({"type": "object", "x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true, "additionalProperties": {"type": "string"}})),
            "properties[spec].additionalProperties",
            CauseType::FieldValueForbidden,
            "Forbidden: must not be used if x-kubernetes-embedded-resource is set",
        );
        only(
            spec(json!({"type": "object", "x-kubernetes-embedded-resource": true, "properties": {
                "kind": {"type": "integer"}, "apiVersion": {"type": "string"}}})),
            "properties[spec].properties[kind].type",
            CauseType::FieldValueInvalid,
            "Invalid value: \"integer\": must be string",
        );
        only(
            spec(json!({"type": "object", "x-kubernetes-embedded-resource": true, "properties": {
                "metadata": {"type": "string"}}})),
            "properties[spec].properties[metadata].type",
            CauseType::FieldValueInvalid,
            "Invalid value: \"string\": must be object",
        );
    }

    #[test]
    fn int_or_string_excludes_other_extensions() {
        only(
            spec(
                json!({"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true}),
            ),
            "properties[spec].x-kubernetes-preserve-unknown-fields",
            CauseType::FieldValueInvalid,
            "Invalid value: true: must be false if x-kubernetes-int-or-string is true",
        );
        let causes = causes_of(spec(json!({"type": "object", "x-kubernetes-int-or-string": true,
            "x-kubernetes-embedded-resource": true, "properties": {"a": {"type": "string"}}})));
        assert!(
            causes.iter().any(|c| c
                .field
                .ends_with("properties[spec].x-kubernetes-embedded-resource")
                && c.message
                    == "Invalid value: true: must be false if x-kubernetes-int-or-string is true"),
            "{causes:?}"
        );
    }

    #[test]
    fn int_or_string_any_of_must_be_exact() {
        // Reversed order is not kube's pattern: the types under anyOf are then forbidden.
        let causes = causes_of(spec(json!({"x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "string"}, {"type": "integer"}]})));
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                format!("{ROOT}.properties[spec].anyOf[0].type"),
                format!("{ROOT}.properties[spec].anyOf[1].type"),
            ]
        );
        assert_eq!(causes[0].message, "Forbidden: must be empty to be structural");
    }

    #[test]
    fn junctors_may_not_carry_structure() {
        let nested = |extra: Value| spec(json!({"type": "string", "allOf": [extra]}));
        let cases = [
            (json!({"type": "string"}), "type", "Forbidden: must be empty to be structural"),
            (
                json!({"additionalProperties": {"type": "string"}}),
                "additionalProperties",
                "Forbidden: must be undefined to be structural",
            ),
            (json!({"default": "x"}), "default", "Forbidden: must be undefined to be structural"),
            (json!({"title": "t"}), "title", "Forbidden: must be empty to be structural"),
            (
                json!({"description": "d"}),
                "description",
                "Forbidden: must be empty to be structural",
            ),
            (json!({"nullable": true}), "nullable", "Forbidden: must be false to be structural"),
            (
                json!({"externalDocs": {"url": "x"}}),
                "externalDocs",
                "Forbidden: must be undefined to be structural",
            ),
            (
                json!({"x-kubernetes-preserve-unknown-fields": true}),
                "x-kubernetes-preserve-unknown-fields",
                "Forbidden: must be false to be structural",
            ),
            (
                json!({"x-kubernetes-int-or-string": true}),
                "x-kubernetes-int-or-string",
                "Forbidden: must be false to be structural",
            ),
            (
                json!({"x-kubernetes-list-type": "atomic"}),
                "x-kubernetes-list-type",
                "Forbidden: must be undefined to be structural",
            ),
            (
                json!({"x-kubernetes-list-map-keys": ["a"]}),
                "x-kubernetes-list-map-keys",
                "Forbidden: must be empty to be structural",
            ),
            (
                json!({"x-kubernetes-map-type": "atomic"}),
                "x-kubernetes-map-type",
                "Forbidden: must be undefined to be structural",
            ),
            (
                json!({"x-kubernetes-validations": [{"rule": "true"}]}),
                "x-kubernetes-validations",
                "Forbidden: must be empty to be structural",
            ),
        ];
        for (extra, keyword, message) in cases {
            only(
                nested(extra),
                &format!("properties[spec].allOf[0].{keyword}"),
                CauseType::FieldValueForbidden,
                message,
            );
        }
        // The embedded-resource flag under a junctor, in `not`.
        only(
            spec(json!({"type": "object", "properties": {"a": {"type": "string"}},
                "not": {"x-kubernetes-embedded-resource": true}})),
            "properties[spec].not.x-kubernetes-embedded-resource",
            CauseType::FieldValueForbidden,
            "Forbidden: must be false to be structural",
        );
    }

    #[test]
    fn metadata_under_a_junctor_is_forbidden() {
        let causes =
            causes_of(json!({"type": "object", "properties": {"metadata": {"type": "object"}},
            "anyOf": [{"properties": {"metadata": {}}}]}));
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, format!("{ROOT}.anyOf[0].properties[metadata]"));
        assert_eq!(causes[0].message, "Forbidden: must not be specified in a nested context");
    }

    #[test]
    fn junctor_fields_must_be_specified() {
        only(
            json!({"type": "object", "properties": {"a": {"type": "string"}},
                "anyOf": [{"properties": {"b": {"minLength": 1}}}]}),
            "properties[b]",
            CauseType::FieldValueRequired,
            &format!("Required value: because it is defined in {ROOT}.anyOf[0].properties[b]"),
        );
        only(
            json!({"type": "object", "properties": {"a": {"type": "string"}},
                "oneOf": [{"properties": {"a": {"items": {"minLength": 1}}}}]}),
            "properties[a].items",
            CauseType::FieldValueRequired,
            &format!(
                "Required value: because it is defined in {ROOT}.oneOf[0].properties[a].items"
            ),
        );
        // Nested junctors inside a junctor are followed too.
        only(
            json!({"type": "object", "properties": {"a": {"type": "string"}},
                "allOf": [{"not": {"properties": {"c": {}}}}]}),
            "properties[c]",
            CauseType::FieldValueRequired,
            &format!("Required value: because it is defined in {ROOT}.allOf[0].not.properties[c]"),
        );
        // As in kube, junctors below the root are not compared with their structural node.
        assert!(
            causes_of(spec(json!({"type": "object", "properties": {"a": {"type": "string"}},
                "anyOf": [{"properties": {"b": {"minLength": 1}}}]})))
            .is_empty()
        );
    }

    #[test]
    fn root_metadata_restricts_only_names() {
        assert!(causes_of(json!({"type": "object", "properties": {"metadata": {"type": "object",
            "properties": {"name": {"type": "string", "pattern": "^a"}, "generateName": {"type": "string"}}}}})).is_empty());
        let message = "Forbidden: must not specify anything other than name and generateName, but \
                       metadata is implicitly specified";
        only(
            json!({"type": "object", "properties": {"metadata": {"type": "object",
                "properties": {"labels": {"type": "object"}}}}}),
            "properties[metadata]",
            CauseType::FieldValueForbidden,
            message,
        );
        only(
            json!({"type": "object", "properties": {"metadata": {"type": "object", "maxProperties": 3}}}),
            "properties[metadata]",
            CauseType::FieldValueForbidden,
            message,
        );
        only(
            json!({"type": "object", "properties": {"metadata": {"type": "string"}}}),
            "properties[metadata].type",
            CauseType::FieldValueInvalid,
            "Invalid value: \"string\": must be object",
        );
    }

    #[test]
    fn causes_are_sorted() {
        let causes = causes_of(json!({"type": "object", "properties": {
            "b": {}, "a": {"type": "array"}}}));
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![format!("{ROOT}.properties[a].items"), format!("{ROOT}.properties[b].type")]
        );
    }
}
