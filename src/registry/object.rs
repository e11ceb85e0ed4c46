//! Reading and writing the common parts of an object (`metadata.*`) on a `serde_json::Value`,
//! plus the values the server mints: uids, generated names and timestamps.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::schema::unknown::Node;
use crate::schema::{self, DefId, Schemas};
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

/// Sets `metadata.resourceVersion` in its place: among the sorted keys of a custom resource's
/// metadata ([`FieldOrder::Sorted`]), else in ObjectMeta's order.
pub fn set_resource_version(object: &mut Value, revision: Revision) {
    let meta = metadata_mut(object);
    let sorted = meta.keys().zip(meta.keys().skip(1)).all(|(a, b)| a < b);
    meta.insert("resourceVersion".into(), revision.to_string().into());
    if sorted {
        meta.sort_keys();
    } else {
        order_first(meta, OBJECT_META_ORDER);
    }
}

/// Where [`set_resource_version`] puts `resourceVersion` among metadata members named `names`
/// (none of them `resourceVersion`), without building the map: the members in their new order,
/// each the index of a name, `None` for `resourceVersion`.
pub fn order_with_resource_version(names: &[&str]) -> Vec<Option<usize>> {
    const RESOURCE_VERSION: &str = "resourceVersion";
    if names.windows(2).all(|pair| pair[0] < pair[1]) {
        let at = names.partition_point(|name| *name < RESOURCE_VERSION);
        let mut order: Vec<Option<usize>> = (0..names.len()).map(Some).collect();
        order.insert(at, None);
        return order;
    }
    let name_of = |slot: &Option<usize>| slot.map_or(RESOURCE_VERSION, |n| names[n]);
    let appended: Vec<Option<usize>> = (0..names.len()).map(Some).chain([None]).collect();
    let known: Vec<Option<usize>> = OBJECT_META_ORDER
        .iter()
        .filter_map(|field| appended.iter().find(|slot| name_of(slot) == *field).copied())
        .collect();
    if known.iter().zip(&appended).all(|(want, have)| want == have) {
        return appended;
    }
    let rest = appended.iter().filter(|slot| !OBJECT_META_ORDER.contains(&name_of(slot)));
    known.iter().chain(rest).copied().collect()
}

/// How kube-apiserver orders an object's fields when it writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOrder {
    /// A built-in kind, a Go struct: at every depth, a struct's fields in Go's order (from the
    /// kind's definition in the built-in schema, found by the object's `apiVersion` and
    /// `kind`: `kind`, `apiVersion`, `metadata`, `spec`, `status`), a Go map's keys sorted (as
    /// `encoding/json` writes them), list items in place. Fields the schema does not know keep
    /// their order after the known ones. An object of no known definition gets the top level
    /// only: `kind`, `apiVersion`, `metadata` in ObjectMeta's order, labels and annotations by
    /// key, then the other fields as they came.
    Typed,
    /// A custom resource, a Go map: every object's keys sorted, at every depth.
    Sorted,
}

/// ObjectMeta's fields in the order of the Go struct, which kube-apiserver writes them in.
const OBJECT_META_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Puts `object`'s keys in the order kube-apiserver writes them ([`FieldOrder`]). Only keys
/// move: nothing is added or dropped.
pub fn arrange(object: &mut Value, order: FieldOrder) {
    match order {
        FieldOrder::Sorted => sort_keys_deep(object),
        FieldOrder::Typed => {
            if let Some(root) = builtin_definition(object) {
                let schemas = schema::builtin();
                go_order(schemas, Node::Struct(root), object);
                return;
            }
            let Some(map) = object.as_object_mut() else { return };
            order_first(map, &["kind", "apiVersion", "metadata"]);
            let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) else {
                return;
            };
            order_first(meta, OBJECT_META_ORDER);
            // Go maps: written with their keys sorted.
            for field in ["labels", "annotations"] {
                if let Some(map) = meta.get_mut(field).and_then(Value::as_object_mut) {
                    map.sort_keys();
                }
            }
        }
    }
}

/// The built-in definition an object is, by its `apiVersion` and `kind`.
fn builtin_definition(object: &Value) -> Option<DefId> {
    let kind = object.get("kind")?.as_str()?;
    let api_version = object.get("apiVersion")?.as_str()?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    schema::builtin().by_gvk(group, version, kind)
}

/// Puts `value`, at the place `node` of the schema, in the order Go writes it.
fn go_order(schemas: &Schemas, node: Node, value: &mut Value) {
    match (node, value) {
        (Node::Struct(id), Value::Object(map)) => {
            let mut order = Vec::with_capacity(map.len());
            go_field_names(schemas, id, &mut order);
            let rank = |key: &str| order.iter().position(|name| *name == key).unwrap_or(usize::MAX);
            let ranks: Vec<usize> = map.keys().map(|key| rank(key)).collect();
            if !ranks.is_sorted() {
                let mut entries: Vec<(usize, String, Value)> = std::mem::take(map)
                    .into_iter()
                    .zip(ranks)
                    .map(|((key, value), rank)| (rank, key, value))
                    .collect();
                // Stable: fields the schema does not know keep their order, at the end.
                entries.sort_by_key(|(rank, _, _)| *rank);
                map.extend(entries.into_iter().map(|(_, key, value)| (key, value)));
            }
            for (key, child) in map.iter_mut() {
                if let Some(field) = schemas.field(id, key) {
                    go_order(schemas, Node::of_field(schemas, field), child);
                }
            }
        }
        (Node::Map(inner), Value::Object(map)) => {
            map.sort_keys();
            let inner = Node::of(schemas, inner);
            map.values_mut().for_each(|child| go_order(schemas, inner, child));
        }
        (Node::List(inner), Value::Array(items)) => {
            let inner = Node::of(schemas, inner);
            items.iter_mut().for_each(|child| go_order(schemas, inner, child));
        }
        _ => {}
    }
}

/// A struct's JSON field names in Go's order, a Go-inlined struct's fields in its place.
fn go_field_names(schemas: &Schemas, id: DefId, out: &mut Vec<&'static str>) {
    for field in schemas.get(id).fields() {
        if !field.json.is_empty() {
            out.push(field.json);
        } else if let Some(inner) = schema::element(&field.ty) {
            go_field_names(schemas, inner, out);
        }
    }
}

fn sort_keys_deep(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys_deep);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys_deep),
        _ => {}
    }
}

/// Moves `first`'s keys that `map` has to its front, in `first`'s order; the others follow in
/// the order they were in.
fn order_first(map: &mut Map<String, Value>, first: &[&str]) {
    let in_place = first
        .iter()
        .filter(|key| map.contains_key(**key))
        .zip(map.keys())
        .all(|(want, have)| *want == have);
    if in_place {
        return;
    }
    let mut rest = std::mem::take(map);
    for key in first {
        if let Some((key, value)) = rest.shift_remove_entry(*key) {
            map.insert(key, value);
        }
    }
    map.extend(rest);
}

/// Everything but `metadata` and `status`: what `metadata.generation` tracks.
pub fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        map.shift_remove("metadata");
        map.shift_remove("status");
        map.shift_remove("apiVersion");
        map.shift_remove("kind");
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

    /// Go's order at every depth, from the built-in schema: structs in field order (a
    /// Go-inlined struct's fields in its place), Go maps sorted, unknown fields last.
    #[test]
    fn built_ins_are_arranged_at_every_depth() {
        let mut pod = serde_json::json!({"status": {"phase": "Running"},
            "spec": {"volumes": [{"emptyDir": {}, "name": "v"}],
                     "containers": [{"resources": {"limits": {"memory": "1", "cpu": "1"}},
                                     "image": "i", "name": "c"}]},
            "metadata": {"name": "p"}, "apiVersion": "v1", "kind": "Pod"});
        arrange(&mut pod, FieldOrder::Typed);
        assert_eq!(
            pod.to_string(),
            r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"},"spec":{"volumes":[{"name":"v","emptyDir":{}}],"containers":[{"name":"c","image":"i","resources":{"limits":{"cpu":"1","memory":"1"}}}]},"status":{"phase":"Running"}}"#
        );
    }

    #[test]
    fn objects_are_arranged_as_kube_writes_them() {
        let mut typed = serde_json::json!({"data": {"z": 1, "a": 2}, "x-extra": true,
            "metadata": {"labels": {"b": "2", "a": "1"}, "zz": 0, "uid": "u", "name": "n"},
            "apiVersion": "v1", "kind": "ConfigMap"});
        arrange(&mut typed, FieldOrder::Typed);
        assert_eq!(
            typed.to_string(),
            r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"n","uid":"u","labels":{"a":"1","b":"2"},"zz":0},"data":{"a":2,"z":1},"x-extra":true}"#
        );
        set_resource_version(&mut typed, 9);
        assert_eq!(
            typed["metadata"].to_string(),
            r#"{"name":"n","uid":"u","resourceVersion":"9","labels":{"a":"1","b":"2"},"zz":0}"#
        );
        let mut custom = serde_json::json!({"spec": {"b": [{"y": 1, "x": 2}], "a": 1},
            "metadata": {"uid": "u", "name": "n"}, "kind": "W", "apiVersion": "x/v1"});
        arrange(&mut custom, FieldOrder::Sorted);
        set_resource_version(&mut custom, 9);
        assert_eq!(
            custom.to_string(),
            r#"{"apiVersion":"x/v1","kind":"W","metadata":{"name":"n","resourceVersion":"9","uid":"u"},"spec":{"a":1,"b":[{"x":2,"y":1}]}}"#
        );
    }
}
