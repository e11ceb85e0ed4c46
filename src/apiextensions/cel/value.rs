//! JSON → CEL values, typed by the schema as kube's `UnstructuredToVal` does: `integer` as
//! int, `number` as double, objects with `properties` as records whose field names are
//! escaped (`foo-bar` → `foo__dash__bar`), `additionalProperties` objects as maps with their keys
//! as written, and at a resource root (or an `x-kubernetes-embedded-resource`) only
//! `apiVersion`, `kind`, `metadata.name` and `metadata.generateName` of the object's meta.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value;
use cel::objects::{Key, Map};
use serde_json::Value as Json;

use crate::apiextensions::schema::{Additional, Node, Type};

/// CEL's reserved words, which kube escapes as `__{word}__` when they name a property.
const RESERVED: [&str; 21] = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// The name property `name` has in CEL, or `None` when kube cannot escape it (characters
/// other than letters, digits, `_`, `.`, `-`, `/`): such a property is not visible to rules.
pub fn escape(name: &str) -> Option<String> {
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_' || matches!(first, '.' | '-' | '/')) {
        return None;
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')) {
        return None;
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("__") {
            out.push_str("__underscores__");
            rest = &rest[2..];
            continue;
        }
        match c {
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn string(s: &str) -> Value {
    Value::String(Arc::new(s.to_owned()))
}

fn map(entries: HashMap<Key, Value>) -> Value {
    Value::Map(Map { map: Arc::new(entries) })
}

/// `value` as CEL sees it under `node` (`None`: no schema, as below
/// `x-kubernetes-preserve-unknown-fields`). `resource` marks a resource root.
pub fn to_cel(node: Option<&Node>, value: &Json, resource: bool) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (node.and_then(|n| n.ty), n.as_i64()) {
            (Some(Type::Number), _) | (_, None) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            (_, Some(i)) => Value::Int(i),
        },
        Json::String(s) => string(s),
        Json::Array(items) => {
            let item = node.and_then(|n| n.items.as_deref());
            Value::List(Arc::new(items.iter().map(|v| to_cel(item, v, false)).collect()))
        }
        Json::Object(object) => {
            let mut entries = HashMap::with_capacity(object.len());
            let structured = node.is_some_and(|n| !n.properties.is_empty());
            for (k, v) in object {
                if resource && k == "metadata" {
                    entries.insert(Key::String(Arc::new("metadata".into())), object_meta(v));
                    continue;
                }
                let child = node.and_then(|n| n.properties.get(k));
                let additional = node.and_then(|n| match &n.additional {
                    Some(Additional::Schema(s)) => Some(s.as_ref()),
                    _ => None,
                });
                let (name, schema) = match (child, structured) {
                    (Some(schema), _) => match escape(k) {
                        Some(name) => (name, Some(schema)),
                        None => continue,
                    },
                    // Unknown fields of a structured object are invisible (kept only with
                    // x-kubernetes-preserve-unknown-fields, and then not typed).
                    (None, true) if !(resource && (k == "apiVersion" || k == "kind")) => continue,
                    (None, _) => (k.clone(), additional),
                };
                let embedded = schema.is_some_and(|s| s.embedded_resource);
                entries.insert(Key::String(Arc::new(name)), to_cel(schema, v, embedded));
            }
            map(entries)
        }
    }
}

/// The part of an object's metadata rules see: `name` and `generateName`.
fn object_meta(value: &Json) -> Value {
    let mut entries = HashMap::new();
    if let Some(meta) = value.as_object() {
        for k in ["name", "generateName"] {
            if let Some(Json::String(s)) = meta.get(k) {
                entries.insert(Key::String(Arc::new(k.into())), string(s));
            }
        }
    }
    map(entries)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn escaping_as_kube() {
        assert_eq!(escape("foo-bar").as_deref(), Some("foo__dash__bar"));
        assert_eq!(escape("a.b/c").as_deref(), Some("a__dot__b__slash__c"));
        assert_eq!(escape("x__y").as_deref(), Some("x__underscores__y"));
        assert_eq!(escape("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(escape("plain").as_deref(), Some("plain"));
        assert_eq!(escape("a b"), None);
    }

    #[test]
    fn numbers_follow_the_schema() {
        let number = Node { ty: Some(Type::Number), ..Node::default() };
        assert_eq!(to_cel(Some(&number), &json!(2), false), Value::Float(2.0));
        let integer = Node { ty: Some(Type::Integer), ..Node::default() };
        assert_eq!(to_cel(Some(&integer), &json!(2), false), Value::Int(2));
    }
}
