//! Reading an `openAPIV3Schema` (`JSONSchemaProps` as JSON) into a [`Node`] tree, with the
//! checks kube-apiserver makes on every schema node of a v1 CRD before the structural check
//! (`ValidateCustomResourceDefinitionOpenAPISchema`): constructs it does not support (`$ref`,
//! `id`, `definitions`, `dependencies`, `patternProperties`, `additionalItems`, `type: null`,
//! array-form `items`, `uniqueItems: true`), `properties` beside a non-`true`
//! `additionalProperties`, `x-kubernetes-preserve-unknown-fields: false`, patterns that do not
//! compile, and defaults where none may be (top-level `metadata`, `apiVersion`, `kind`, and
//! `additionalProperties` inside object metadata).
//!
//! JSON of the wrong shape (a `properties` that is not a map, say) is reported as
//! `FieldValueTypeInvalid` where kube-apiserver would fail to decode the CRD. Unknown keywords
//! are ignored, as kube's non-strict decoding drops them.

use serde_json::{Map, Value};

use super::node::{Additional, Node, Pattern, Type, ValidationRule};
use super::path::{child, index, key};
use crate::meta::validation::FieldCause;

/// Where a node sits, for the rules that depend on it.
#[derive(Debug, Clone, Default)]
struct Context {
    /// The node is the schema's root.
    root: bool,
    /// The node describes (part of) `metadata`, `apiVersion` or `kind` of a resource.
    inside_meta: bool,
    /// Why a `default` is not allowed here, if it is not.
    no_default: Option<String>,
}

/// Parses the root schema at `path` (e.g. `spec.versions[0].schema.openAPIV3Schema`).
pub fn parse_root(value: &Value, path: &str, causes: &mut Vec<FieldCause>) -> Node {
    let context = Context { root: true, ..Context::default() };
    let node = parse_node(value, path, &context, causes);
    if node.nullable {
        causes.push(FieldCause::forbidden(
            child(path, "nullable"),
            "nullable cannot be true at the root",
        ));
    }
    node
}

fn parse_node(value: &Value, path: &str, context: &Context, causes: &mut Vec<FieldCause>) -> Node {
    let Some(map) = value.as_object() else {
        causes.push(FieldCause::type_invalid(path, value.clone(), "must be an object"));
        return Node::default();
    };
    let mut node = Node::default();
    read_generic(map, path, context, &mut node, causes);
    read_numbers(map, path, &mut node, causes);
    read_children(map, path, context, &mut node, causes);
    read_extensions(map, path, context, &mut node, causes);
    for (keyword, what) in [
        ("$ref", "$ref is not supported"),
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
    ] {
        if map.get(keyword).is_some_and(is_set) {
            causes.push(FieldCause::forbidden(child(path, keyword), what));
        }
    }
    node
}

/// Whether a keyword counts as given: Go's zero values (`""`, `{}`, `null`) do not.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

fn read_generic(
    map: &Map<String, Value>,
    path: &str,
    context: &Context,
    node: &mut Node,
    causes: &mut Vec<FieldCause>,
) {
    match map.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) if name.is_empty() => {}
        Some(Value::String(name)) if name == "null" => causes.push(FieldCause::forbidden(
            child(path, "type"),
            "type cannot be set to null, use nullable as an alternative",
        )),
        Some(Value::String(name)) => match Type::from_name(name) {
            Some(ty) => node.ty = Some(ty),
            None => causes.push(FieldCause::not_supported(
                child(path, "type"),
                name.as_str(),
                &Type::NAMES,
            )),
        },
        Some(other) => causes.push(type_error(path, "type", other, "must be a string")),
    }
    node.nullable = read_bool(map, path, "nullable", causes).unwrap_or(false);
    node.format = read_string(map, path, "format", causes).filter(|f| !f.is_empty());
    node.has_title = read_string(map, path, "title", causes).is_some_and(|t| !t.is_empty());
    node.has_description =
        read_string(map, path, "description", causes).is_some_and(|t| !t.is_empty());
    node.has_external_docs = map.get("externalDocs").is_some_and(|v| !v.is_null());
    if let Some(default) = map.get("default").filter(|v| !v.is_null()) {
        match &context.no_default {
            Some(why) => causes.push(FieldCause::forbidden(
                child(path, "default"),
                &format!("must not be set {why}"),
            )),
            None => node.default = Some(default.clone()),
        }
    }
    match map.get("enum") {
        None | Some(Value::Null) => {}
        Some(Value::Array(values)) => node.enumeration = Some(values.clone()),
        Some(other) => causes.push(type_error(path, "enum", other, "must be a list")),
    }
    match map.get("required") {
        None | Some(Value::Null) => {}
        Some(Value::Array(names)) => {
            for (i, name) in names.iter().enumerate() {
                match name {
                    Value::String(s) => node.required.push(s.clone()),
                    other => causes.push(FieldCause::type_invalid(
                        index(&child(path, "required"), i),
                        other.clone(),
                        "must be a string",
                    )),
                }
            }
        }
        Some(other) => causes.push(type_error(path, "required", other, "must be a list")),
    }
    if let Some(source) = read_string(map, path, "pattern", causes).filter(|p| !p.is_empty()) {
        match compile_pattern(&source) {
            Ok(regex) => node.pattern = Some(Pattern { source, regex }),
            Err(err) => causes.push(FieldCause::invalid(
                child(path, "pattern"),
                source.as_str(),
                &format!("must be a valid regular expression, but isn't: {err}"),
            )),
        }
    }
    if read_bool(map, path, "uniqueItems", causes) == Some(true) {
        causes.push(FieldCause::forbidden(
            child(path, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
}

fn read_numbers(
    map: &Map<String, Value>,
    path: &str,
    node: &mut Node,
    causes: &mut Vec<FieldCause>,
) {
    node.maximum = read_f64(map, path, "maximum", causes);
    node.minimum = read_f64(map, path, "minimum", causes);
    node.multiple_of = read_f64(map, path, "multipleOf", causes);
    node.exclusive_maximum = read_bool(map, path, "exclusiveMaximum", causes).unwrap_or(false);
    node.exclusive_minimum = read_bool(map, path, "exclusiveMinimum", causes).unwrap_or(false);
    node.max_length = read_count(map, path, "maxLength", causes);
    node.min_length = read_count(map, path, "minLength", causes);
    node.max_items = read_count(map, path, "maxItems", causes);
    node.min_items = read_count(map, path, "minItems", causes);
    node.max_properties = read_count(map, path, "maxProperties", causes);
    node.min_properties = read_count(map, path, "minProperties", causes);
}

fn read_children(
    map: &Map<String, Value>,
    path: &str,
    context: &Context,
    node: &mut Node,
    causes: &mut Vec<FieldCause>,
) {
    // Properties first: whether a resource's own fields are "meta" depends on this node.
    let embedded = map.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
    match map.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(properties)) => {
            let base = child(path, "properties");
            // By name, so that causes come in a stable order.
            let mut properties: Vec<_> = properties.iter().collect();
            properties.sort_by_key(|(name, _)| *name);
            for (name, schema) in properties {
                let mut sub = Context {
                    inside_meta: context.inside_meta,
                    no_default: context.no_default.clone(),
                    root: false,
                };
                if (context.root || embedded)
                    && matches!(name.as_str(), "metadata" | "apiVersion" | "kind")
                {
                    sub.inside_meta = true;
                    if context.root {
                        sub.no_default = Some(format!("in top-level {name}"));
                    }
                }
                let parsed = parse_node(schema, &key(&base, name), &sub, causes);
                node.properties.insert(name.clone(), parsed);
            }
        }
        Some(other) => causes.push(type_error(path, "properties", other, "must be an object")),
    }
    let inner = Context { root: false, ..context.clone() };
    match map.get("additionalProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(allows)) => node.additional = Some(Additional::Allows(*allows)),
        Some(schema @ Value::Object(_)) => {
            let mut sub = inner.clone();
            if context.inside_meta {
                sub.no_default =
                    Some("inside additionalProperties applying to object metadata".to_owned());
            }
            let parsed = parse_node(schema, &child(path, "additionalProperties"), &sub, causes);
            node.additional = Some(Additional::Schema(Box::new(parsed)));
        }
        Some(other) => causes.push(type_error(
            path,
            "additionalProperties",
            other,
            "must be a boolean or an object",
        )),
    }
    let exclusive = match &node.additional {
        Some(Additional::Allows(false) | Additional::Schema(_)) => true,
        Some(Additional::Allows(true)) | None => false,
    };
    if exclusive && !node.properties.is_empty() {
        causes.push(FieldCause::forbidden(
            child(path, "additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    match map.get("items") {
        None | Some(Value::Null) => {}
        Some(Value::Array(_)) => causes.push(FieldCause::forbidden(
            child(path, "items"),
            "items must be a schema object and not an array",
        )),
        Some(schema) => {
            node.items = Some(Box::new(parse_node(schema, &child(path, "items"), &inner, causes)))
        }
    }
    for (keyword, list) in
        [("allOf", &mut node.all_of), ("anyOf", &mut node.any_of), ("oneOf", &mut node.one_of)]
    {
        match map.get(keyword) {
            None | Some(Value::Null) => {}
            Some(Value::Array(schemas)) => {
                let base = child(path, keyword);
                for (i, schema) in schemas.iter().enumerate() {
                    list.push(parse_node(schema, &index(&base, i), &inner, causes));
                }
            }
            Some(other) => causes.push(type_error(path, keyword, other, "must be a list")),
        }
    }
    if let Some(schema) = map.get("not").filter(|v| !v.is_null()) {
        node.not = Some(Box::new(parse_node(schema, &child(path, "not"), &inner, causes)));
    }
}

fn read_extensions(
    map: &Map<String, Value>,
    path: &str,
    context: &Context,
    node: &mut Node,
    causes: &mut Vec<FieldCause>,
) {
    node.int_or_string =
        read_bool(map, path, "x-kubernetes-int-or-string", causes).unwrap_or(false);
    node.embedded_resource =
        read_bool(map, path, "x-kubernetes-embedded-resource", causes).unwrap_or(false);
    match read_bool(map, path, "x-kubernetes-preserve-unknown-fields", causes) {
        Some(true) => node.preserve_unknown_fields = true,
        Some(false) => causes.push(FieldCause::invalid(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        )),
        None => {}
    }
    if context.inside_meta && node.embedded_resource {
        causes.push(FieldCause::forbidden(
            child(path, "x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
    let present = |k: &str| map.get(k).is_some_and(|v| !v.is_null());
    node.has_list_type = present("x-kubernetes-list-type");
    node.has_list_map_keys = map
        .get("x-kubernetes-list-map-keys")
        .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    node.has_map_type = present("x-kubernetes-map-type");
    node.has_validations = map
        .get("x-kubernetes-validations")
        .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    node.list_type = map.get("x-kubernetes-list-type").and_then(Value::as_str).map(str::to_owned);
    node.list_map_keys = map
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|keys| keys.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    node.map_type = map.get("x-kubernetes-map-type").and_then(Value::as_str).map(str::to_owned);
    node.validations = read_validations(map, path, causes);
}

/// `x-kubernetes-validations` as written: a list of `{rule, message, messageExpression, reason,
/// fieldPath, optionalOldSelf}`. Compiling them is `apiextensions::cel`'s job.
fn read_validations(
    map: &Map<String, Value>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<ValidationRule> {
    let keyword = "x-kubernetes-validations";
    let Some(value) = map.get(keyword).filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        causes.push(type_error(path, keyword, value, "must be an array"));
        return Vec::new();
    };
    let base = child(path, keyword);
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(entry) = item.as_object() else {
            causes.push(FieldCause::type_invalid(
                index(&base, i),
                item.clone(),
                "must be an object",
            ));
            continue;
        };
        let at = index(&base, i);
        let text = |k: &str, causes: &mut Vec<FieldCause>| match entry.get(k) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                causes.push(type_error(&at, k, other, "must be a string"));
                String::new()
            }
        };
        let rule = ValidationRule {
            rule: text("rule", causes),
            message: text("message", causes),
            message_expression: text("messageExpression", causes),
            reason: Some(text("reason", causes)).filter(|r| !r.is_empty()),
            field_path: text("fieldPath", causes),
            optional_old_self: read_bool(entry, &at, "optionalOldSelf", causes),
        };
        rules.push(rule);
    }
    rules
}

fn type_error(path: &str, keyword: &str, value: &Value, detail: &str) -> FieldCause {
    FieldCause::type_invalid(child(path, keyword), value.clone(), detail)
}

fn read_bool(
    map: &Map<String, Value>,
    path: &str,
    keyword: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<bool> {
    match map.get(keyword) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            causes.push(type_error(path, keyword, other, "must be a boolean"));
            None
        }
    }
}

fn read_string(
    map: &Map<String, Value>,
    path: &str,
    keyword: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<String> {
    match map.get(keyword) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            causes.push(type_error(path, keyword, other, "must be a string"));
            None
        }
    }
}

fn read_f64(
    map: &Map<String, Value>,
    path: &str,
    keyword: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<f64> {
    match map.get(keyword) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(other) => {
            causes.push(type_error(path, keyword, other, "must be a number"));
            None
        }
    }
}

/// A count keyword (`maxLength`, `minItems`, …): a non-negative integer.
fn read_count(
    map: &Map<String, Value>,
    path: &str,
    keyword: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<u64> {
    match map.get(keyword) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_u64() => n.as_u64(),
        Some(Value::Number(n)) if n.is_i64() => {
            causes.push(FieldCause::invalid(
                child(path, keyword),
                n.clone(),
                "must be greater than or equal to 0",
            ));
            None
        }
        Some(other) => {
            causes.push(type_error(path, keyword, other, "must be an integer"));
            None
        }
    }
}

/// Compiles a schema `pattern`. kube compiles it with Go's RE2 `regexp`, whose syntax the
/// `regex` crate shares, with one difference worth bridging: Go's `\d`, `\w` and `\s` are ASCII
/// classes, the crate's Unicode ones — so they are spelled out before compiling. The compiled
/// program is capped so that no schema can make the server build a huge automaton.
pub fn compile_pattern(source: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&ascii_classes(source))
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
}

/// Rewrites `\d \D \w \W \s \S` as the ASCII classes Go means by them; nested classes
/// (`[[0-9]_]`) are valid for the `regex` crate, so this works inside brackets too.
fn ascii_classes(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::meta::CauseType;

    const ROOT: &str = "spec.versions[0].schema.openAPIV3Schema";

    fn causes_of(schema: Value) -> Vec<(String, CauseType, String)> {
        let mut causes = Vec::new();
        parse_root(&schema, ROOT, &mut causes);
        causes.into_iter().map(|c| (c.field, c.reason, c.message)).collect()
    }

    fn one(schema: Value, field: &str, reason: CauseType) -> String {
        let causes = causes_of(schema);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].0, format!("{ROOT}.{field}"));
        assert_eq!(causes[0].1, reason);
        causes[0].2.clone()
    }

    fn spec(inner: Value) -> Value {
        json!({"type": "object", "properties": {"spec": inner}})
    }

    #[test]
    fn reads_a_full_node() {
        let mut causes = Vec::new();
        let node = parse_root(
            &json!({"type": "object", "properties": {"spec": {
                "type": "string", "format": "uuid", "nullable": true, "default": "x",
                "enum": ["x", "y"], "maxLength": 5, "minLength": 1, "pattern": "^[a-z]$",
                "description": "d", "title": "t"
            }}, "required": ["spec"], "minProperties": 1, "maxProperties": 3}),
            ROOT,
            &mut causes,
        );
        assert!(causes.is_empty(), "{causes:?}");
        let spec = &node.properties["spec"];
        assert_eq!(spec.ty, Some(Type::String));
        assert_eq!(spec.format.as_deref(), Some("uuid"));
        assert!(spec.nullable && spec.has_description && spec.has_title);
        assert_eq!(spec.default, Some(json!("x")));
        assert_eq!(spec.enumeration, Some(vec![json!("x"), json!("y")]));
        assert_eq!((spec.min_length, spec.max_length), (Some(1), Some(5)));
        assert_eq!(spec.pattern.as_ref().map(|p| p.source.as_str()), Some("^[a-z]$"));
        assert_eq!(node.required, vec!["spec".to_owned()]);
        assert_eq!((node.min_properties, node.max_properties), (Some(1), Some(3)));
    }

    #[test]
    fn forbidden_constructs() {
        let cases = [
            (json!({"$ref": "#/definitions/x"}), "$ref", "$ref is not supported"),
            (json!({"id": "x"}), "id", "id is not supported"),
            (
                json!({"additionalItems": false}),
                "additionalItems",
                "additionalItems is not supported",
            ),
            (
                json!({"patternProperties": {"a": {}}}),
                "patternProperties",
                "patternProperties is not supported",
            ),
            (json!({"definitions": {"a": {}}}), "definitions", "definitions is not supported"),
            (
                json!({"dependencies": {"a": ["b"]}}),
                "dependencies",
                "dependencies is not supported",
            ),
        ];
        for (mut schema, keyword, detail) in cases {
            schema["type"] = json!("string");
            let message = one(
                spec(schema),
                &format!("properties[spec].{keyword}"),
                CauseType::FieldValueForbidden,
            );
            assert_eq!(message, format!("Forbidden: {detail}"));
        }
    }

    #[test]
    fn unique_items_is_forbidden() {
        let message = one(
            spec(json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true})),
            "properties[spec].uniqueItems",
            CauseType::FieldValueForbidden,
        );
        assert!(message.contains("uniqueItems cannot be set to true"));
        assert!(
            causes_of(spec(
                json!({"type": "array", "items": {"type": "string"}, "uniqueItems": false})
            ))
            .is_empty()
        );
    }

    #[test]
    fn type_null_and_unknown_types() {
        let message = one(
            spec(json!({"type": "null"})),
            "properties[spec].type",
            CauseType::FieldValueForbidden,
        );
        assert!(message.contains("use nullable as an alternative"));
        let message = one(
            spec(json!({"type": "int"})),
            "properties[spec].type",
            CauseType::FieldValueNotSupported,
        );
        assert!(message.starts_with("Unsupported value: \"int\": supported values: \"array\""));
        one(spec(json!({"type": 5})), "properties[spec].type", CauseType::FieldValueTypeInvalid);
    }

    #[test]
    fn items_must_be_one_schema() {
        let message = one(
            spec(json!({"type": "array", "items": [{"type": "string"}]})),
            "properties[spec].items",
            CauseType::FieldValueForbidden,
        );
        assert_eq!(message, "Forbidden: items must be a schema object and not an array");
    }

    #[test]
    fn properties_and_additional_properties_exclude_each_other() {
        let schema = spec(json!({"type": "object", "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "string"}}));
        let message =
            one(schema, "properties[spec].additionalProperties", CauseType::FieldValueForbidden);
        assert_eq!(message, "Forbidden: additionalProperties and properties are mutual exclusive");
        let schema = spec(json!({"type": "object", "properties": {"a": {"type": "string"}},
            "additionalProperties": true}));
        assert!(causes_of(schema).is_empty());
    }

    #[test]
    fn preserve_unknown_fields_false_is_invalid() {
        let message = one(
            spec(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": false})),
            "properties[spec].x-kubernetes-preserve-unknown-fields",
            CauseType::FieldValueInvalid,
        );
        assert_eq!(message, "Invalid value: false: must be true or undefined");
    }

    #[test]
    fn bad_patterns_are_invalid() {
        let message = one(
            spec(json!({"type": "string", "pattern": "(a"})),
            "properties[spec].pattern",
            CauseType::FieldValueInvalid,
        );
        assert!(
            message.starts_with(
                "Invalid value: \"(a\": must be a valid regular expression, but isn't:"
            )
        );
        // Lookarounds are not RE2 either.
        one(
            spec(json!({"type": "string", "pattern": "(?=a)"})),
            "properties[spec].pattern",
            CauseType::FieldValueInvalid,
        );
    }

    #[test]
    fn go_classes_are_ascii() {
        let regex = compile_pattern(r"^\d+\s\w$").expect("compiles");
        assert!(regex.is_match("12 a"));
        assert!(!regex.is_match("١٢ a"), "Arabic-Indic digits are not Go's \\d");
        let regex = compile_pattern(r"^[\d.]+$").expect("compiles");
        assert!(regex.is_match("1.2"));
        assert!(compile_pattern(r"a\").is_err());
    }

    #[test]
    fn defaults_in_top_level_meta_are_forbidden() {
        let schema = json!({"type": "object", "properties": {
            "metadata": {"type": "object", "default": {"name": "x"}},
            "kind": {"type": "string", "default": "K"},
        }});
        let causes = causes_of(schema);
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0].0, format!("{ROOT}.properties[kind].default"));
        assert_eq!(causes[0].2, "Forbidden: must not be set in top-level kind");
        assert_eq!(causes[1].0, format!("{ROOT}.properties[metadata].default"));
        assert_eq!(causes[1].2, "Forbidden: must not be set in top-level metadata");
    }

    #[test]
    fn defaults_under_metadata_maps_are_forbidden() {
        let schema =
            spec(json!({"type": "object", "x-kubernetes-embedded-resource": true, "properties": {
                "metadata": {"type": "object", "properties": {"labels": {"type": "object",
                    "additionalProperties": {"type": "string", "default": "v"}}}},
            }}));
        let message = one(
            schema,
            "properties[spec].properties[metadata].properties[labels].additionalProperties.default",
            CauseType::FieldValueForbidden,
        );
        assert_eq!(
            message,
            "Forbidden: must not be set inside additionalProperties applying to object metadata"
        );
    }

    #[test]
    fn embedded_resource_inside_meta_is_forbidden() {
        let schema = json!({"type": "object", "properties": {"metadata": {"type": "object",
            "x-kubernetes-embedded-resource": true}}});
        let causes = causes_of(schema);
        assert!(
            causes.iter().any(|c| c.0
                == format!("{ROOT}.properties[metadata].x-kubernetes-embedded-resource")
                && c.2 == "Forbidden: must not be used inside of resource meta"),
            "{causes:?}"
        );
    }

    #[test]
    fn nullable_root_is_forbidden() {
        let message = one(
            json!({"type": "object", "nullable": true}),
            "nullable",
            CauseType::FieldValueForbidden,
        );
        assert_eq!(message, "Forbidden: nullable cannot be true at the root");
    }

    #[test]
    fn wrong_json_shapes_are_type_errors() {
        one(
            json!({"type": "object", "properties": 5}),
            "properties",
            CauseType::FieldValueTypeInvalid,
        );
        one(
            spec(json!({"type": "string", "maxLength": "5"})),
            "properties[spec].maxLength",
            CauseType::FieldValueTypeInvalid,
        );
        one(
            spec(json!({"type": "string", "maxLength": -1})),
            "properties[spec].maxLength",
            CauseType::FieldValueInvalid,
        );
        one(
            spec(json!({"type": "string", "minimum": true})),
            "properties[spec].minimum",
            CauseType::FieldValueTypeInvalid,
        );
        one(
            spec(json!({"type": "object", "required": [1]})),
            "properties[spec].required[0]",
            CauseType::FieldValueTypeInvalid,
        );
        one(spec(json!([1])), "properties[spec]", CauseType::FieldValueTypeInvalid);
    }
}
