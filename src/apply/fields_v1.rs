//! A [`Set`] as `managedFields[].fieldsV1` writes it, and back: nested JSON objects keyed
//! `f:<field>`, `k:<key fields as JSON>`, `v:<value as JSON>`, `i:<index>`, with `".": {}`
//! marking an element that is a member and has children — byte for byte as kube writes them.
//!
//! Keys come in [`PathElement`] order (fields, then keys, values, indices; each sorted), the
//! set's own order, with `"."` first; `k:` keys are JSON objects with their fields sorted by
//! name. Text is compact JSON escaped as Go's `encoding/json` escapes it (`<`, `>`, `&`,
//! U+2028 and U+2029 as `\u` escapes), so a set written here reads back the same in kube.

use std::sync::Arc;

use serde_json::Value;

use crate::meta::gojson;

use super::path::PathElement;
use super::set::Set;

/// A FieldsV1 value that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldsV1Error(pub String);

/// The set as FieldsV1 JSON text, exactly as kube writes it.
pub fn to_json(set: &Set) -> String {
    let mut out = String::new();
    write_set(set, false, &mut out);
    out
}

/// The set as a FieldsV1 JSON value (keys in kube's order).
pub fn to_value(set: &Set) -> Value {
    serde_json::from_str(&to_json(set)).unwrap_or_else(|_| Value::Object(Default::default()))
}

/// Reads a FieldsV1 value. Keys with an unknown prefix are skipped, as kube does; a malformed
/// key is an error.
pub fn from_value(value: &Value) -> Result<Set, FieldsV1Error> {
    let Value::Object(_) = value else {
        return Err(FieldsV1Error("FieldsV1 must be a JSON object".into()));
    };
    let mut set = Set::new();
    read_into(value, &mut Vec::new(), &mut set)?;
    Ok(set)
}

/// The text of one path element as a FieldsV1 key (`f:name`, `k:{"name":"a"}`, `v:"x"`,
/// `i:3`), before JSON string escaping.
pub fn element_key(element: &PathElement) -> String {
    match element {
        PathElement::Field(name) => format!("f:{name}"),
        PathElement::Key(fields) => {
            let object: serde_json::Map<String, Value> =
                fields.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
            format!("k:{}", gojson::sorted(&Value::Object(object)))
        }
        PathElement::Value(value) => format!("v:{}", gojson::sorted(value)),
        PathElement::Index(i) => format!("i:{i}"),
    }
}

/// Reads one FieldsV1 key; `Ok(None)` for a prefix kube does not know.
pub fn parse_element(key: &str) -> Result<Option<PathElement>, FieldsV1Error> {
    let Some((prefix, rest)) = key.split_once(':') else {
        return Err(FieldsV1Error(format!("unable to parse path element {key:?}: no ':'")));
    };
    let bad = |why: &dyn std::fmt::Display| {
        FieldsV1Error(format!("unable to parse path element {key:?}: {why}"))
    };
    Ok(Some(match prefix {
        "f" => PathElement::field(rest),
        "k" => {
            let value: Value = serde_json::from_str(rest).map_err(|e| bad(&e))?;
            let Value::Object(fields) = value else {
                return Err(bad(&"a key must be a JSON object"));
            };
            let fields: Vec<(Arc<str>, Value)> =
                fields.into_iter().map(|(n, v)| (Arc::from(n.as_str()), v)).collect();
            PathElement::key(fields)
        }
        "v" => PathElement::Value(serde_json::from_str(rest).map_err(|e| bad(&e))?),
        "i" => PathElement::Index(rest.parse().map_err(|e| bad(&e))?),
        _ => return Ok(None),
    }))
}

/// One level: `{`, `".":{}` when the element holding it is a member, then members and
/// children merged in order (an element in both is written once, as a child).
fn write_set(set: &Set, member: bool, out: &mut String) {
    out.push('{');
    let mut first = true;
    let mut entry = |out: &mut String, key: &str| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        gojson::write_string(key, out);
        out.push(':');
    };
    if member {
        entry(out, ".");
        out.push_str("{}");
    }
    let (members, children) = (set.members(), set.children());
    let (mut m, mut c) = (0, 0);
    while m < members.len() || c < children.len() {
        let order = match (members.get(m), children.get(c)) {
            (Some(a), Some((b, _))) => a.cmp(b),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                entry(out, &element_key(&members[m]));
                out.push_str("{}");
                m += 1;
            }
            std::cmp::Ordering::Greater => {
                entry(out, &element_key(&children[c].0));
                write_set(&children[c].1, false, out);
                c += 1;
            }
            std::cmp::Ordering::Equal => {
                entry(out, &element_key(&children[c].0));
                write_set(&children[c].1, true, out);
                m += 1;
                c += 1;
            }
        }
    }
    out.push('}');
}

fn read_into(
    value: &Value,
    prefix: &mut Vec<PathElement>,
    set: &mut Set,
) -> Result<(), FieldsV1Error> {
    let Value::Object(map) = value else {
        return Err(FieldsV1Error(format!("expected an object, got {value}")));
    };
    for (key, child) in map {
        if key == "." {
            continue;
        }
        let Some(element) = parse_element(key)? else { continue };
        let Value::Object(inner) = child else {
            return Err(FieldsV1Error(format!("{key:?}: expected an object, got {child}")));
        };
        prefix.push(element);
        if inner.is_empty() || inner.contains_key(".") {
            set.insert(prefix);
        }
        read_into(child, prefix, set)?;
        prefix.pop();
    }
    Ok(())
}

#[cfg(test)]
#[path = "fields_v1_tests.rs"]
mod tests;
