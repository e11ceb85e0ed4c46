//! Reading and writing the common parts of an object (`metadata.*`) on a `serde_json::Value`,
//! plus the values the server mints: uids, generated names and timestamps.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::storage::Revision;

pub fn metadata(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata")?.as_object()
}

/// `metadata`, created if missing (or replaced if it is not an object).
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    let map = match object {
        Value::Object(map) => map,
        other => {
            *other = Value::Object(Map::new());
            other.as_object_mut().expect("just made an object")
        }
    };
    let meta = map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut().expect("just made an object")
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    metadata(object)?.get(field)?.as_str()
}

pub fn name(object: &Value) -> Option<&str> {
    meta_str(object, "name").filter(|s| !s.is_empty())
}

pub fn namespace(object: &Value) -> Option<&str> {
    meta_str(object, "namespace").filter(|s| !s.is_empty())
}

pub fn uid(object: &Value) -> Option<&str> {
    meta_str(object, "uid").filter(|s| !s.is_empty())
}

pub fn resource_version(object: &Value) -> Option<&str> {
    meta_str(object, "resourceVersion").filter(|s| !s.is_empty())
}

pub fn deletion_timestamp(object: &Value) -> Option<&str> {
    meta_str(object, "deletionTimestamp").filter(|s| !s.is_empty())
}

/// `metadata.labels` as a map; non-string values are skipped (validation reports them).
pub fn labels(object: &Value) -> BTreeMap<String, String> {
    string_map(object, "labels")
}

pub fn string_map(object: &Value, field: &str) -> BTreeMap<String, String> {
    metadata(object)
        .and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

pub fn finalizers(object: &Value) -> Vec<String> {
    metadata(object)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| Some(v.as_str()?.to_owned())).collect())
        .unwrap_or_default()
}

pub fn set_resource_version(object: &mut Value, revision: Revision) {
    metadata_mut(object).insert("resourceVersion".into(), revision.to_string().into());
}

/// Everything but `metadata` and `status`: what `metadata.generation` tracks.
pub fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
        map.remove("apiVersion");
        map.remove("kind");
    }
    copy
}

/// An RFC 3339 timestamp with second precision, as ObjectMeta's timestamps are.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Parses an ObjectMeta timestamp.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// A random (version 4) UUID for `metadata.uid`.
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The five random characters kube-apiserver appends to `generateName`, from its alphabet
/// without vowels and look-alike characters.
pub fn generated_name_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let random = uuid::Uuid::new_v4();
    random.as_bytes()[..5].iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_metadata_fields() {
        let o = json!({"metadata": {"name": "a", "namespace": "", "labels": {"x": "1", "y": 2},
                        "finalizers": ["f"]}});
        assert_eq!(name(&o), Some("a"));
        assert_eq!(namespace(&o), None);
        assert_eq!(labels(&o), BTreeMap::from([("x".to_owned(), "1".to_owned())]));
        assert_eq!(finalizers(&o), ["f"]);
        let mut bare = json!("not an object");
        set_resource_version(&mut bare, 7);
        assert_eq!(resource_version(&bare), Some("7"));
    }

    #[test]
    fn minted_values_have_kubernetes_shapes() {
        let suffix = generated_name_suffix();
        assert_eq!(suffix.len(), 5);
        assert!(suffix.bytes().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)));
        assert_eq!(new_uid().len(), 36);
        let now = now_rfc3339();
        assert!(now.ends_with('Z') && now.len() == 20, "{now}");
        assert!(parse_timestamp(&now).is_some());
    }
}
