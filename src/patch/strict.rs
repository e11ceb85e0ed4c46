//! Strict decoding of a patch's result, as kube-apiserver decodes the patched object of a JSON,
//! merge or strategic merge patch into the kind's Go struct: a value of the wrong JSON type is
//! a 422 in Go's words in every mode (`json: cannot unmarshal string into Go struct field …`),
//! and the fields the struct does not have are `strict decoding error`s under `fieldValidation=Strict` (a 422 `Invalid` on the
//! field `patch`, showing the patched object), warnings under `Warn`, and are dropped in every
//! mode, so an unknown field never reaches storage through a patch.
//!
//! Data flows: the store's patch path ([`crate::registry::store`]) hands each patched object to
//! [`check_result`] before the update stages. The patch body's own findings (repeated keys, a
//! JSON patch's unknown operation fields, a merge patch's unknown fields) are the request
//! handler's and come first; the patched JSON is written from Go maps, so these come sorted.
//! Custom resources are left to their structural schema's pruning.

use serde_json::Value;

use crate::meta::status::{ApiError, Cause};
use crate::registry::object::FieldOrder;
use crate::registry::operation::FieldValidation;
use crate::registry::{Operation, Resource};
use crate::schema::unknown::{self, Check, Node, Raw};

/// `patched` (an object of `resource` in its served version) without the fields its built-in
/// type does not have; their names warned of or refused as `op`'s `fieldValidation` says.
pub fn check_result(
    resource: &Resource,
    op: &Operation,
    mut patched: Value,
) -> Result<Value, ApiError> {
    if resource.strategy.field_order() != FieldOrder::Typed {
        return Ok(patched);
    }
    let schemas = crate::schema::builtin();
    let gv = &resource.gv;
    let Some(root) = schemas.by_gvk(&gv.group, &gv.version, &resource.kind) else {
        return Ok(patched);
    };
    // A value of the wrong JSON type fails the decode itself, whatever the mode.
    if let Some(why) = crate::schema::check::type_error(schemas, root, &patched) {
        return Err(invalid_patch(&patched, &why));
    }
    if op.field_validation != FieldValidation::Ignore {
        let raw = Raw::from_value(&patched, true);
        let found = unknown::issues(schemas, Node::Struct(root), &raw, Check::Object);
        if op.field_validation == FieldValidation::Strict && !found.is_empty() {
            let detail = found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            return Err(invalid_patch(&patched, &format!("strict decoding error: {detail}")));
        }
        found.iter().for_each(|issue| op.warn(issue.to_string()));
    }
    unknown::prune(schemas, Node::Struct(root), &mut patched);
    Ok(patched)
}

/// kube's refusal of a patched object it cannot decode: ` "" is invalid: patch: Invalid
/// value: "<the patched object>": <why>`.
fn invalid_patch(patched: &Value, why: &str) -> ApiError {
    let cause = Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {:?}: {why}", sorted(patched).to_string()),
        field: "patch".into(),
    };
    ApiError::invalid("", "", "", vec![cause])
}

/// `value` with every object's keys sorted, as Go writes a map.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut map: serde_json::Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
            map.sort_keys();
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sorted_keys_at_every_depth() {
        let value = json!({"b": 1, "a": [{"z": 0, "y": null}]});
        assert_eq!(sorted(&value).to_string(), r#"{"a":[{"y":null,"z":0}],"b":1}"#);
    }
}
