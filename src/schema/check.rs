//! The structural check kube-apiserver's JSON decoder makes of a built-in object: a value of the
//! wrong JSON type for its Go field (a string where an `int32` goes, an object where a list goes)
//! fails the decode, which kube answers with a 400 before any strategy runs.
//!
//! Go's `encoding/json` words it `json: cannot unmarshal string into Go struct field
//! DeploymentSpec.spec.replicas of type int32`: the JSON value's kind (`number 1.5` for a number
//! that does not fit), the Go struct holding the field and the path of JSON field names from the
//! top (list items and map keys add nothing), and the Go type. It decodes everything and reports
//! the first error in document order. `null` fits every field. Types with their own JSON form
//! ([`super::Wire`]: Time, IntOrString, Quantity, RawExtension …) are not looked into: their
//! decoders word their own errors. `required` is not checked: kube does not check it here either
//! (its kinds' validation says `Required value` where it matters).

use serde_json::Value;

use super::unknown::Node;
use super::{DefId, Scalar, Schemas, Ty};

/// Go's message for the first value of `object` whose JSON type does not fit the definition
/// `root`, or `None` when everything fits.
pub fn type_error(schemas: &Schemas, root: DefId, object: &Value) -> Option<String> {
    let mut path = Vec::new();
    walk(schemas, Node::Struct(root), object, root, &mut path)
}

fn walk<'v>(
    schemas: &Schemas,
    node: Node,
    value: &'v Value,
    holder: DefId,
    path: &mut Vec<&'v str>,
) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let fits = match node {
        Node::Struct(_) | Node::Map(_) => value.is_object(),
        Node::List(_) => value.is_array(),
        Node::Scalar(scalar) => return scalar_error(schemas, scalar, value, holder, path),
        Node::Any | Node::Untyped => return None,
    };
    if !fits {
        return Some(message(schemas, json_kind(value), node, holder, path));
    }
    match (node, value) {
        (Node::Struct(id), Value::Object(map)) => map.iter().find_map(|(key, child)| {
            let field = schemas.field(id, key)?;
            path.push(key);
            let found = walk(schemas, Node::of_field(schemas, field), child, id, path);
            path.pop();
            found
        }),
        (Node::Map(inner), Value::Object(map)) => {
            let inner = Node::of(schemas, inner);
            map.values().find_map(|child| walk(schemas, inner, child, holder, path))
        }
        (Node::List(inner), Value::Array(items)) => {
            let inner = Node::of(schemas, inner);
            items.iter().find_map(|child| walk(schemas, inner, child, holder, path))
        }
        _ => None,
    }
}

fn scalar_error(
    schemas: &Schemas,
    scalar: Scalar,
    value: &Value,
    holder: DefId,
    path: &[&str],
) -> Option<String> {
    let got = match (scalar, value) {
        (Scalar::String | Scalar::Bytes, Value::String(_)) | (Scalar::Bool, Value::Bool(_)) => {
            return None;
        }
        (Scalar::Double, Value::Number(_)) => return None,
        (Scalar::Int32 | Scalar::Int64, Value::Number(n)) => {
            let fits = match (n.as_i64(), scalar) {
                (Some(i), Scalar::Int32) => i32::try_from(i).is_ok(),
                (Some(_), _) => true,
                (None, _) => false,
            };
            if fits {
                return None;
            }
            format!("number {n}")
        }
        (_, other) => json_kind(other).to_owned(),
    };
    Some(message(schemas, &got, Node::Scalar(scalar), holder, path))
}

fn message(schemas: &Schemas, got: &str, node: Node, holder: DefId, path: &[&str]) -> String {
    format!(
        "json: cannot unmarshal {got} into Go struct field {}.{} of type {}",
        short_name(schemas.get(holder).name),
        path.join("."),
        go_type(schemas, node)
    )
}

/// How Go's decoder names a JSON value's kind in an `UnmarshalTypeError`.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`.
fn short_name(definition: &str) -> &str {
    definition.rsplit('.').next().unwrap_or(definition)
}

/// `io.k8s.api.core.v1.Container` → `v1.Container`, as Go's `reflect.Type.String()`.
fn qualified_name(definition: &str) -> &str {
    let mut dots = definition.rmatch_indices('.').map(|(i, _)| i);
    let _ = dots.next();
    match dots.next() {
        Some(start) => &definition[start + 1..],
        None => definition,
    }
}

fn go_type(schemas: &Schemas, node: Node) -> String {
    match node {
        Node::Struct(id) => qualified_name(schemas.get(id).name).to_owned(),
        Node::Map(inner) => format!("map[string]{}", go_type(schemas, Node::of(schemas, inner))),
        Node::List(inner) => format!("[]{}", go_type_of(schemas, inner)),
        Node::Scalar(scalar) => scalar_type(scalar).to_owned(),
        Node::Any | Node::Untyped => "interface {}".to_owned(),
    }
}

fn go_type_of(schemas: &Schemas, ty: Ty) -> String {
    match ty {
        Ty::Ref(id) => qualified_name(schemas.get(id).name).to_owned(),
        other => go_type(schemas, Node::of(schemas, other)),
    }
}

fn scalar_type(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "string",
        Scalar::Bytes => "[]uint8",
        Scalar::Int32 => "int32",
        Scalar::Int64 => "int64",
        Scalar::Double => "float64",
        Scalar::Bool => "bool",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::builtin;

    fn check(object: Value) -> Option<String> {
        let schemas = builtin();
        type_error(schemas, schemas.by_gvk("", "v1", "ConfigMap").unwrap(), &object)
    }

    #[test]
    fn values_of_the_wrong_type_are_named_as_go_names_them() {
        assert_eq!(check(json!({"data": {"a": "b"}, "immutable": null, "metadata": {}})), None);
        assert_eq!(
            check(json!({"immutable": "yes"})).unwrap(),
            "json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool"
        );
        assert_eq!(
            check(json!({"data": ["a"]})).unwrap(),
            "json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string"
        );
        assert_eq!(
            check(json!({"data": {"a": 1}})).unwrap(),
            "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
        );
        assert_eq!(
            check(json!({"metadata": {"ownerReferences": [{"controller": 1}]}})).unwrap(),
            "json: cannot unmarshal number into Go struct field OwnerReference.metadata.ownerReferences.controller of type bool"
        );
        assert_eq!(
            check(json!({"metadata": {"ownerReferences": {}}})).unwrap(),
            "json: cannot unmarshal object into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference"
        );
        assert_eq!(
            check(json!({"metadata": "x"})).unwrap(),
            "json: cannot unmarshal string into Go struct field ConfigMap.metadata of type v1.ObjectMeta"
        );
        // The first in document order; unknown fields are not looked at.
        assert_eq!(
            check(json!({"bogus": 1, "immutable": 2, "data": 3})).unwrap(),
            "json: cannot unmarshal number into Go struct field ConfigMap.immutable of type bool"
        );
    }
}
