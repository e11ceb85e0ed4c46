//! Validating a value against a schema node, as kube-apiserver's kube-openapi validator does.
//!
//! Per node, in kube-openapi's order: the type (with `nullable`, int-or-string and the numeric
//! formats' wording), then the junctors (`allOf`, `anyOf`, `oneOf`, `not`, each applied to the
//! same value), then the keywords of the value's kind — string length, `pattern` and `format`;
//! number bounds and `multipleOf`; array items and item counts; `enum`; object property counts,
//! `additionalProperties`, properties and `required`. A value of the wrong type gets only the
//! type cause. Messages and reasons are described in `messages.rs`.

use serde_json::{Map, Number, Value};

use super::format;
use super::messages::{At, bound, go_float};
use super::node::{Additional, Node, Type};
use super::path::{dotted, index};
use crate::meta::validation::FieldCause;

/// Validates `value` against `node`. `prefix` is prepended to every field (empty for a custom
/// resource); `name` is the kube-openapi path of `value` (empty at the root).
pub fn validate(
    node: &Node,
    value: &Value,
    prefix: &str,
    name: &str,
    causes: &mut Vec<FieldCause>,
) {
    let at = At { prefix, name };
    if value.is_null() && (node.nullable || node.ty.is_none() && !node.int_or_string) {
        return;
    }
    if !type_matches(node, value, &at, causes) {
        return;
    }
    junctors(node, value, &at, causes);
    match value {
        Value::String(s) => string(node, s, &at, causes),
        Value::Number(n) => number(node, n, &at, causes),
        Value::Array(items) => array(node, items, &at, causes),
        Value::Object(map) => {
            enumeration(node, value, &at, causes);
            object(node, map, &at, causes);
            return;
        }
        _ => {}
    }
    enumeration(node, value, &at, causes);
}

/// The JSON type name kube-openapi gives a value, and the format it infers for numbers.
fn type_of(value: &Value) -> (&'static str, &'static str) {
    match value {
        Value::Null => ("null", ""),
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(n) if n.is_i64() || n.is_u64() => ("integer", "int64"),
        Value::Number(_) => ("number", "double"),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    }
}

/// Whether a number is an integer the way kube-openapi sees it: an int, or a float holding an
/// exact integer that JSON can carry.
fn is_integral(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0)
}

/// The type check. Returns false (after adding the cause) when the value has the wrong type.
fn type_matches(node: &Node, value: &Value, at: &At, causes: &mut Vec<FieldCause>) -> bool {
    let expected: &str = match (node.int_or_string, node.ty) {
        (true, _) => "integer,string",
        (false, Some(ty)) => ty.name(),
        (false, None) => return true,
    };
    let (actual, inferred_format) = type_of(value);
    let ok = match value {
        Value::Null => false,
        Value::Number(n) => {
            let integral = is_integral(n);
            if node.int_or_string {
                integral
            } else {
                match node.ty {
                    Some(Type::Number) => true,
                    Some(Type::Integer) => integral,
                    _ => false,
                }
            }
        }
        Value::String(_) => node.int_or_string || node.ty == Some(Type::String),
        Value::Bool(_) => node.ty == Some(Type::Boolean) && !node.int_or_string,
        Value::Array(_) => node.ty == Some(Type::Array) && !node.int_or_string,
        Value::Object(_) => node.ty == Some(Type::Object) && !node.int_or_string,
    };
    if ok {
        return true;
    }
    // A number or boolean under a format is reported against the format, as kube-openapi does.
    let format =
        node.format.as_deref().filter(|_| matches!(value, Value::Number(_) | Value::Bool(_)));
    causes.push(match format {
        Some(format) => at.type_invalid(format, inferred_format),
        None => at.type_invalid(expected, actual),
    });
    false
}

fn junctors(node: &Node, value: &Value, at: &At, causes: &mut Vec<FieldCause>) {
    let run = |sub: &Node| {
        let mut found = Vec::new();
        validate(sub, value, at.prefix, at.name, &mut found);
        found
    };
    if !node.any_of.is_empty() {
        let results: Vec<Vec<FieldCause>> = node.any_of.iter().map(run).collect();
        if !results.iter().any(Vec::is_empty) {
            causes.push(at.junctor("must validate at least one schema (anyOf)"));
            causes.extend(closest(results));
        }
    }
    if !node.one_of.is_empty() {
        let results: Vec<Vec<FieldCause>> = node.one_of.iter().map(run).collect();
        let valid = results.iter().filter(|r| r.is_empty()).count();
        match valid {
            1 => {}
            0 => {
                causes.push(
                    at.junctor("must validate one and only one schema (oneOf). Found none valid"),
                );
                causes.extend(closest(results));
            }
            n => causes.push(at.junctor(&format!(
                "must validate one and only one schema (oneOf). Found {n} valid alternatives"
            ))),
        }
    }
    if !node.all_of.is_empty() {
        let mut valid = 0;
        let mut found = Vec::new();
        for sub in &node.all_of {
            let result = run(sub);
            valid += usize::from(result.is_empty());
            found.extend(result);
        }
        causes.extend(found);
        if valid != node.all_of.len() {
            let none = if valid == 0 { ". None validated" } else { "" };
            causes.push(at.junctor(&format!("must validate all the schemas (allOf){none}")));
        }
    }
    if let Some(not) = &node.not
        && run(not).is_empty()
    {
        causes.push(at.junctor("must not validate the schema (not)"));
    }
}

/// The failures of the alternative that came closest (fewest causes, first on ties): kube
/// reports the best failing alternative's errors beside the junctor's own.
fn closest(results: Vec<Vec<FieldCause>>) -> Vec<FieldCause> {
    results.into_iter().min_by_key(Vec::len).unwrap_or_default()
}

fn string(node: &Node, s: &str, at: &At, causes: &mut Vec<FieldCause>) {
    let length = s.chars().count() as u64;
    if let Some(max) = node.max_length
        && length > max
    {
        causes.push(at.too_long(max));
    }
    if let Some(min) = node.min_length
        && length < min
    {
        causes.push(at.invalid(s, &format!("should be at least {min} chars long")));
    }
    if let Some(pattern) = &node.pattern
        && !pattern.regex.is_match(s)
    {
        causes.push(at.invalid(s, &format!("should match '{}'", pattern.source)));
    }
    if let Some(name) = &node.format
        && !format::NUMERIC.contains(&name.as_str())
        && !format::matches(name, s)
    {
        causes.push(at.format_invalid(name, s));
    }
}

fn number(node: &Node, n: &Number, at: &At, causes: &mut Vec<FieldCause>) {
    let Some(f) = n.as_f64() else {
        return;
    };
    let integral = n.is_i64() || n.is_u64();
    if let Some(max) = node.maximum {
        let over = if node.exclusive_maximum { f >= max } else { f > max };
        if over {
            let than = if node.exclusive_maximum { "less than" } else { "less than or equal to" };
            causes
                .push(at.invalid(n.clone(), &format!("should be {than} {}", bound(max, integral))));
        }
    }
    if let Some(min) = node.minimum {
        let under = if node.exclusive_minimum { f <= min } else { f < min };
        if under {
            let than =
                if node.exclusive_minimum { "greater than" } else { "greater than or equal to" };
            causes
                .push(at.invalid(n.clone(), &format!("should be {than} {}", bound(min, integral))));
        }
    }
    if let Some(factor) = node.multiple_of {
        if factor <= 0.0 {
            causes.push(FieldCause::invalid(
                at.field(),
                n.clone(),
                &format!(
                    "factor MultipleOf declared for {} must be positive: {}",
                    at.name,
                    go_float(factor)
                ),
            ));
        } else if !is_multiple(n, factor) {
            causes.push(at.invalid(
                n.clone(),
                &format!("should be a multiple of {}", bound(factor, integral)),
            ));
        }
    }
}

/// `multipleOf`: exact for integers, within a relative 1e-9 for anything else (kube-openapi
/// accepts a quotient that is an integer up to float noise).
fn is_multiple(n: &Number, factor: f64) -> bool {
    if let (Some(value), true) = (n.as_i64(), factor.fract() == 0.0 && factor.abs() < 9.2e18) {
        let factor = factor as i64;
        return factor != 0 && value % factor == 0;
    }
    let Some(value) = n.as_f64() else {
        return true;
    };
    let quotient = value / factor;
    if !quotient.is_finite() {
        return false;
    }
    let nearest = quotient.round();
    quotient == nearest || (quotient - nearest).abs() / quotient.abs().max(1.0) < 1e-9
}

fn array(node: &Node, items: &[Value], at: &At, causes: &mut Vec<FieldCause>) {
    if let Some(schema) = &node.items {
        for (i, item) in items.iter().enumerate() {
            validate(schema, item, at.prefix, &index(at.name, i), causes);
        }
    }
    let size = items.len();
    if let Some(min) = node.min_items
        && (size as u64) < min
    {
        causes.push(at.invalid(size, &format!("should have at least {min} items")));
    }
    if let Some(max) = node.max_items
        && size as u64 > max
    {
        causes.push(at.too_many(size, max));
    }
}

fn enumeration(node: &Node, value: &Value, at: &At, causes: &mut Vec<FieldCause>) {
    if let Some(allowed) = &node.enumeration
        && !allowed.iter().any(|candidate| json_equal(candidate, value))
    {
        causes.push(at.not_supported(value, allowed));
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn object(node: &Node, map: &Map<String, Value>, at: &At, causes: &mut Vec<FieldCause>) {
    let size = map.len();
    // kube-openapi stops at a property-count failure.
    if let Some(min) = node.min_properties
        && (size as u64) < min
    {
        causes.push(at.invalid(size, &format!("should have at least {min} properties")));
        return;
    }
    if let Some(max) = node.max_properties
        && size as u64 > max
    {
        causes.push(at.too_many(size, max));
        return;
    }
    match &node.additional {
        Some(Additional::Allows(false)) => {
            for key in map.keys().filter(|k| !node.properties.contains_key(*k)) {
                let rest = format!("{key} in body is a forbidden property");
                let detail = if at.name.is_empty() { rest } else { format!("{}.{rest}", at.name) };
                causes.push(FieldCause::invalid(at.field(), key.as_str(), &detail));
            }
        }
        Some(Additional::Schema(schema)) => {
            for (key, v) in map.iter().filter(|(k, _)| !node.properties.contains_key(*k)) {
                validate(schema, v, at.prefix, &dotted(at.name, key), causes);
            }
        }
        Some(Additional::Allows(true)) | None => {}
    }
    for (key, property) in &node.properties {
        if let Some(v) = map.get(key) {
            validate(property, v, at.prefix, &dotted(at.name, key), causes);
        }
    }
    for key in &node.required {
        if !map.contains_key(key) {
            causes.push(at.required(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apiextensions::schema::parse::parse_root;
    use crate::meta::CauseType;

    /// Validates `value` as `spec` of an object whose `spec` has schema `spec_schema`.
    fn causes_of(spec_schema: Value, value: Value) -> Vec<FieldCause> {
        let mut parse_causes = Vec::new();
        let root = parse_root(
            &json!({"type": "object", "properties": {"spec": spec_schema}}),
            "",
            &mut parse_causes,
        );
        assert!(parse_causes.is_empty(), "{parse_causes:?}");
        let mut causes = Vec::new();
        validate(&root, &json!({"spec": value}), "", "", &mut causes);
        causes
    }

    fn ok(schema: Value, value: Value) {
        let causes = causes_of(schema.clone(), value.clone());
        assert!(causes.is_empty(), "{schema} with {value}: {causes:?}");
    }

    fn fails(schema: Value, value: Value, field: &str, reason: CauseType, message: &str) {
        let causes = causes_of(schema.clone(), value.clone());
        assert_eq!(causes.len(), 1, "{schema} with {value}: {causes:?}");
        assert_eq!(causes[0].field, field);
        assert_eq!(causes[0].reason, reason);
        assert_eq!(causes[0].message, message);
    }

    #[test]
    fn types() {
        let s = |t: &str| json!({"type": "object", "properties": {"v": {"type": t}}});
        for (ty, good, bad, actual) in [
            ("object", json!({}), json!([]), "array"),
            ("array", json!([]), json!({}), "object"),
            ("string", json!("a"), json!(1), "integer"),
            ("integer", json!(3), json!(1.5), "number"),
            ("number", json!(1.5), json!("1"), "string"),
            ("boolean", json!(true), json!("true"), "string"),
        ] {
            ok(s(ty), json!({"v": good}));
            fails(
                s(ty),
                json!({"v": bad}),
                "spec.v",
                CauseType::FieldValueTypeInvalid,
                &format!(
                    "Invalid value: \"{actual}\": spec.v in body must be of type {ty}: \"{actual}\""
                ),
            );
        }
        // Integers are numbers, and integral floats are integers.
        ok(s("number"), json!({"v": 3}));
        ok(s("integer"), json!({"v": 3.0}));
    }

    #[test]
    fn the_kube_example() {
        fails(
            json!({"type": "object", "properties": {"replicas": {"type": "integer"}}}),
            json!({"replicas": "string"}),
            "spec.replicas",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"",
        );
    }

    #[test]
    fn nullable() {
        let s = |nullable: bool| json!({"type": "object", "properties": {"v": {"type": "string", "nullable": nullable, "minLength": 2}}});
        ok(s(true), json!({"v": null}));
        fails(
            s(false),
            json!({"v": null}),
            "spec.v",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"null\": spec.v in body must be of type string: \"null\"",
        );
    }

    #[test]
    fn required() {
        let s = json!({"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "string"}, "b": {"type": "string"}}});
        ok(s.clone(), json!({"a": "x", "b": "y"}));
        fails(s, json!({"a": "x"}), "spec.b", CauseType::FieldValueRequired, "Required value");
    }

    #[test]
    fn enumeration() {
        let s = json!({"type": "string", "enum": ["a", "b"]});
        ok(s.clone(), json!("a"));
        fails(
            s,
            json!("c"),
            "spec",
            CauseType::FieldValueNotSupported,
            "Unsupported value: \"c\": supported values: \"a\", \"b\"",
        );
        let s = json!({"type": "integer", "enum": [1, 2]});
        ok(s.clone(), json!(2.0));
        fails(
            s,
            json!(3),
            "spec",
            CauseType::FieldValueNotSupported,
            "Unsupported value: 3: supported values: \"1\", \"2\"",
        );
    }

    #[test]
    fn bounds() {
        let s = json!({"type": "integer", "minimum": 1, "maximum": 10});
        ok(s.clone(), json!(1));
        ok(s.clone(), json!(10));
        fails(
            s.clone(),
            json!(0),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 0: spec in body should be greater than or equal to 1",
        );
        fails(
            s,
            json!(11),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 11: spec in body should be less than or equal to 10",
        );
        let s = json!({"type": "number", "minimum": 1, "exclusiveMinimum": true, "maximum": 2.5, "exclusiveMaximum": true});
        ok(s.clone(), json!(1.5));
        fails(
            s.clone(),
            json!(1),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 1: spec in body should be greater than 1",
        );
        fails(
            s,
            json!(2.5),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 2.5: spec in body should be less than 2.5",
        );
    }

    #[test]
    fn multiple_of() {
        let s = json!({"type": "number", "multipleOf": 5});
        ok(s.clone(), json!(15));
        fails(
            s,
            json!(7),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 7: spec in body should be a multiple of 5",
        );
        let s = json!({"type": "number", "multipleOf": 0.1});
        ok(s.clone(), json!(0.3));
        fails(
            s,
            json!(0.35),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 0.35: spec in body should be a multiple of 0.1",
        );
        fails(
            json!({"type": "integer", "multipleOf": 0}),
            json!(3),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 3: factor MultipleOf declared for spec must be positive: 0",
        );
    }

    #[test]
    fn string_lengths_count_characters() {
        let s = json!({"type": "string", "minLength": 2, "maxLength": 3});
        ok(s.clone(), json!("äöü"));
        fails(
            s.clone(),
            json!("äöüß"),
            "spec",
            CauseType::FieldValueTooLong,
            "Too long: may not be more than 3 bytes",
        );
        fails(
            s,
            json!("a"),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: \"a\": spec in body should be at least 2 chars long",
        );
    }

    #[test]
    fn pattern() {
        let s = json!({"type": "string", "pattern": "^[a-z]+$"});
        ok(s.clone(), json!("abc"));
        fails(
            s,
            json!("ABC"),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: \"ABC\": spec in body should match '^[a-z]+$'",
        );
        // Unanchored patterns match anywhere, as in ECMA and Go.
        ok(json!({"type": "string", "pattern": "b"}), json!("abc"));
    }

    #[test]
    fn formats() {
        let cases = [
            ("byte", "aGk=", "aGk"),
            ("date", "2024-02-29", "2023-02-29"),
            ("date-time", "2024-01-02T03:04:05Z", "2024-01-02"),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123"),
            ("email", "a@b.c", "a"),
            ("hostname", "example.com", "-x"),
            ("ipv4", "10.0.0.1", "10.0.0"),
            ("ipv6", "::1", "1.2.3.4"),
            ("cidr", "10.0.0.0/8", "10.0.0.0"),
            ("uri", "https://x.io/a", "x y"),
        ];
        for (format, good, bad) in cases {
            let s = json!({"type": "string", "format": format});
            ok(s.clone(), json!(good));
            fails(
                s,
                json!(bad),
                "spec",
                CauseType::FieldValueTypeInvalid,
                &format!(
                    "Invalid value: \"{bad}\": spec in body must be of type {format}: \"{bad}\""
                ),
            );
        }
        ok(json!({"type": "string", "format": "something-new"}), json!("anything"));
    }

    #[test]
    fn numeric_formats_only_reword_type_errors() {
        for format in ["int32", "int64"] {
            let s = json!({"type": "integer", "format": format});
            // kube does not range-check int32.
            ok(s.clone(), json!(5_000_000_000_i64));
            fails(
                s,
                json!(1.5),
                "spec",
                CauseType::FieldValueTypeInvalid,
                &format!(
                    "Invalid value: \"double\": spec in body must be of type {format}: \"double\""
                ),
            );
        }
        for format in ["float", "double"] {
            let s = json!({"type": "number", "format": format});
            ok(s.clone(), json!(1.5));
            ok(s.clone(), json!(2));
            fails(
                s,
                json!("1.5"),
                "spec",
                CauseType::FieldValueTypeInvalid,
                "Invalid value: \"string\": spec in body must be of type number: \"string\"",
            );
        }
    }

    #[test]
    fn item_counts_and_items() {
        let s = json!({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "object",
            "properties": {"name": {"type": "string", "maxLength": 2}}}});
        ok(s.clone(), json!([{"name": "ab"}]));
        fails(
            s.clone(),
            json!([]),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 0: spec in body should have at least 1 items",
        );
        fails(
            s.clone(),
            json!([{}, {}, {}]),
            "spec",
            CauseType::FieldValueTooMany,
            "Too many: 3: must have at most 2 items",
        );
        fails(
            s,
            json!([{"name": "ab"}, {"name": "abc"}]),
            "spec[1].name",
            CauseType::FieldValueTooLong,
            "Too long: may not be more than 2 bytes",
        );
    }

    #[test]
    fn property_counts() {
        let s = json!({"type": "object", "minProperties": 1, "maxProperties": 2,
            "additionalProperties": {"type": "string"}});
        ok(s.clone(), json!({"a": "x"}));
        fails(
            s.clone(),
            json!({}),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: 0: spec in body should have at least 1 properties",
        );
        fails(
            s,
            json!({"a": "x", "b": "y", "c": "z"}),
            "spec",
            CauseType::FieldValueTooMany,
            "Too many: 3: must have at most 2 items",
        );
    }

    #[test]
    fn additional_properties() {
        let s = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        ok(s.clone(), json!({"a": 1}));
        fails(
            s,
            json!({"a": 1, "b": "x"}),
            "spec.b",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"string\": spec.b in body must be of type integer: \"string\"",
        );
        let s = json!({"type": "object", "additionalProperties": false});
        ok(s.clone(), json!({}));
        fails(
            s,
            json!({"x": 1}),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: \"x\": spec.x in body is a forbidden property",
        );
        ok(json!({"type": "object", "additionalProperties": true}), json!({"x": {"y": 1}}));
    }

    #[test]
    fn any_of() {
        let s = json!({"type": "string", "anyOf": [{"maxLength": 2}, {"pattern": "^x"}]});
        ok(s.clone(), json!("ab"));
        ok(s.clone(), json!("xyz"));
        let causes = causes_of(s, json!("abc"));
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0].field, "spec");
        assert_eq!(
            causes[0].message,
            "Invalid value: \"\": \"spec\" must validate at least one schema (anyOf)"
        );
        assert_eq!(causes[1].reason, CauseType::FieldValueTooLong);
    }

    #[test]
    fn one_of() {
        let s = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}]});
        ok(s.clone(), json!({"a": "x"}));
        let causes = causes_of(s.clone(), json!({"a": "x", "b": "y"}));
        assert_eq!(causes.len(), 1);
        assert_eq!(
            causes[0].message,
            "Invalid value: \"\": \"spec\" must validate one and only one schema (oneOf). Found 2 valid alternatives"
        );
        let causes = causes_of(s, json!({}));
        assert_eq!(
            causes[0].message,
            "Invalid value: \"\": \"spec\" must validate one and only one schema (oneOf). Found none valid"
        );
        assert_eq!(
            (causes[1].field.as_str(), causes[1].reason),
            ("spec.a", CauseType::FieldValueRequired)
        );
    }

    #[test]
    fn all_of() {
        let s = json!({"type": "integer", "allOf": [{"minimum": 1}, {"maximum": 5}]});
        ok(s.clone(), json!(3));
        let causes = causes_of(s, json!(7));
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(
            causes[0].message,
            "Invalid value: 7: spec in body should be less than or equal to 5"
        );
        assert_eq!(
            causes[1].message,
            "Invalid value: \"\": \"spec\" must validate all the schemas (allOf)"
        );
    }

    #[test]
    fn not() {
        let s = json!({"type": "string", "not": {"enum": ["forbidden"]}});
        ok(s.clone(), json!("fine"));
        fails(
            s,
            json!("forbidden"),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: \"\": \"spec\" must not validate the schema (not)",
        );
    }

    #[test]
    fn int_or_string() {
        let s =
            json!({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true}}});
        ok(s.clone(), json!({"port": 80}));
        ok(s.clone(), json!({"port": "http"}));
        fails(
            s.clone(),
            json!({"port": 1.5}),
            "spec.port",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"number\": spec.port in body must be of type integer,string: \"number\"",
        );
        fails(
            s,
            json!({"port": true}),
            "spec.port",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"",
        );
        let s = json!({"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": "^[0-9]+%?$"});
        ok(s.clone(), json!("50%"));
        ok(s.clone(), json!(50));
        fails(
            s,
            json!("half"),
            "spec",
            CauseType::FieldValueInvalid,
            "Invalid value: \"half\": spec in body should match '^[0-9]+%?$'",
        );
    }

    #[test]
    fn preserve_unknown_fields_accepts_anything_untyped() {
        let s = json!({"type": "object", "properties": {"raw": {"x-kubernetes-preserve-unknown-fields": true}}});
        for v in [json!(1), json!("x"), json!(null), json!([1, {}]), json!({"a": {"b": 1}})] {
            ok(s.clone(), json!({"raw": v}));
        }
        // Known fields under preserved ones are still validated.
        let s = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"a": {"type": "integer"}}});
        fails(
            s,
            json!({"a": "x", "b": "anything"}),
            "spec.a",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"string\": spec.a in body must be of type integer: \"string\"",
        );
    }

    #[test]
    fn paths_of_nested_maps_and_lists() {
        let s = json!({"type": "object", "properties": {"map": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}}}}});
        fails(
            s,
            json!({"map": {"key": [{"n": 1}, {"n": 2}, {"n": "x"}]}}),
            "spec.map.key[2].n",
            CauseType::FieldValueTypeInvalid,
            "Invalid value: \"string\": spec.map.key[2].n in body must be of type integer: \"string\"",
        );
    }

    #[test]
    fn a_prefix_moves_fields_not_messages() {
        let mut parse_causes = Vec::new();
        let node = parse_root(
            &json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
            "",
            &mut parse_causes,
        );
        let mut causes = Vec::new();
        validate(&node, &json!({"a": "x"}), "x.default", "", &mut causes);
        assert_eq!(causes[0].field, "x.default.a");
        assert_eq!(
            causes[0].message,
            "Invalid value: \"string\": a in body must be of type integer: \"string\""
        );
    }
}
