//! A stored object's JSON in the served version, written without decoding the object when its
//! resource is served in the version it is stored in: what a replay or a history page streams
//! by the thousand.
//!
//! Data flows one way: the stored bytes (the storage version's JSON without
//! `metadata.resourceVersion`, written by [`super::encode`]) → their top-level members as raw
//! text, and `metadata`'s → the same members with `resourceVersion` put where
//! [`object::set_resource_version`] puts it → bytes. Only `metadata`'s member names are looked
//! at; `spec`, `status`, `data` and the rest are copied as they are. The result is byte for
//! byte what decoding, converting and encoding the object would give ([`Store::to_served`]
//! then `serde_json::to_vec`); anything this path is not sure of (another version, a member
//! name with escapes, a `resourceVersion` already there) takes that slow path instead.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Store, object};
use crate::meta::status::ApiError;
use crate::registry::Resource;
use crate::storage::{Object, Revision};

impl Store {
    /// [`Store::to_served`], encoded: the stored object in the served version with its
    /// resourceVersion, as compact JSON.
    pub async fn to_served_json(
        &self,
        resource: &Resource,
        object: &Object,
    ) -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::new();
        self.write_served_json(resource, object, &mut out).await?;
        Ok(out)
    }

    /// [`Store::to_served_json`] appended to `out`: what a replay writes straight into the
    /// chunk it is filling. On an error `out` is as it was.
    pub async fn write_served_json(
        &self,
        resource: &Resource,
        object: &Object,
        out: &mut Vec<u8>,
    ) -> Result<(), ApiError> {
        if let Some((api_version, kind)) = resource.conversion.stamps_only()
            && write_as_stored(out, &object.value, api_version, kind, object.mod_revision)
        {
            return Ok(());
        }
        let served = self.to_served(resource, object).await?;
        let start = out.len();
        serde_json::to_writer(&mut *out, &served).map_err(|err| {
            out.truncate(start);
            ApiError::internal(format!("an object could not be encoded: {err}"))
        })
    }
}

/// Appends the stored `value` served as it is, with `resourceVersion` set to `revision`;
/// `false` (and `out` as it was) when it is not an object stamped `api_version` and `kind`, or
/// its members are not plain.
fn write_as_stored(
    out: &mut Vec<u8>,
    value: &[u8],
    api_version: &str,
    kind: &str,
    revision: Revision,
) -> bool {
    let start = out.len();
    let written = try_write_as_stored(out, value, api_version, kind, revision).is_some();
    if !written {
        out.truncate(start);
    }
    written
}

fn try_write_as_stored(
    out: &mut Vec<u8>,
    value: &[u8],
    api_version: &str,
    kind: &str,
    revision: Revision,
) -> Option<()> {
    let Members(top) = serde_json::from_slice(value).ok()?;
    let stamped = |name: &str, want: &str| {
        top.iter().any(|(key, raw)| {
            *key == name && serde_json::from_str::<&str>(raw.get()).ok() == Some(want)
        })
    };
    if !stamped("apiVersion", api_version) || !stamped("kind", kind) {
        return None;
    }
    out.reserve(value.len() + 48);
    out.push(b'{');
    let mut has_metadata = false;
    for (n, (key, raw)) in top.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_name(out, key);
        if *key == "metadata" {
            has_metadata = true;
            let Members(meta) = serde_json::from_str(raw.get()).ok()?;
            write_metadata(out, &meta, revision)?;
        } else {
            out.extend_from_slice(raw.get().as_bytes());
        }
    }
    out.push(b'}');
    // `set_resource_version` adds a `metadata` member to an object without one; rare enough
    // for the slow path.
    has_metadata.then_some(())
}

/// `metadata`'s members with `resourceVersion` among them, where
/// [`object::set_resource_version`] puts it ([`object::order_with_resource_version`]).
fn write_metadata(out: &mut Vec<u8>, meta: &[(&str, &RawValue)], revision: Revision) -> Option<()> {
    let names: Vec<&str> = meta.iter().map(|(name, _)| *name).collect();
    let repeated = names.iter().enumerate().any(|(n, name)| names[..n].contains(name));
    if repeated || names.contains(&"resourceVersion") {
        return None;
    }
    out.push(b'{');
    for (n, slot) in object::order_with_resource_version(&names).into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match slot {
            Some(index) => {
                let (name, raw) = meta[index];
                write_name(out, name);
                out.extend_from_slice(raw.get().as_bytes());
            }
            None => {
                write_name(out, "resourceVersion");
                out.push(b'"');
                out.extend_from_slice(revision.to_string().as_bytes());
                out.push(b'"');
            }
        }
    }
    out.push(b'}');
    Some(())
}

/// A member name that had no escapes in the stored JSON (the only kind [`Members`] accepts),
/// so its text needs none.
fn write_name(out: &mut Vec<u8>, name: &str) {
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A JSON object's members in order, their values as raw text. A member name with an escape
/// fails (it cannot be borrowed), which sends the caller to the slow path.
struct Members<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<&'de str>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn as_stored(
        value: &[u8],
        api_version: &str,
        kind: &str,
        revision: Revision,
    ) -> Option<Vec<u8>> {
        let mut out = b"before".to_vec();
        let written = write_as_stored(&mut out, value, api_version, kind, revision);
        match written {
            true => Some(out.split_off(6)),
            false => {
                assert_eq!(out, b"before", "a refused object left nothing behind");
                None
            }
        }
    }

    /// The slow path: decode, stamp, set the resourceVersion, encode.
    fn slow(value: &[u8], api_version: &str, kind: &str, revision: Revision) -> Vec<u8> {
        let decoded: Value = serde_json::from_slice(value).unwrap();
        let mut served = crate::registry::resource::stamp(decoded, api_version, kind);
        object::set_resource_version(&mut served, revision);
        serde_json::to_vec(&served).unwrap()
    }

    fn stored(object: Value) -> Vec<u8> {
        serde_json::to_vec(&object).unwrap()
    }

    #[test]
    fn a_stored_object_is_served_byte_for_byte_as_the_slow_path_serves_it() {
        let objects = [
            // A built-in kind in ObjectMeta's order.
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "cm", "namespace": "ns", "uid": "u-1", "generation": 2,
                    "creationTimestamp": "2026-12-07T10:00:00Z", "labels": {"a": "b"},
                    "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:data": {}}}]},
                "data": {"k": "v \"quoted\" \u{e9}\n", "n": "1"}}),
            // No uid (the resourceVersion goes after the namespace), numbers and nulls.
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "cm", "namespace": "ns", "creationTimestamp": null},
                "data": {}, "x": [1, 2.5, -3e-7, null, true]}),
            // Keys out of ObjectMeta's order: reordered as the slow path reorders them.
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"labels": {"a": "b"}, "name": "cm", "zzz": 1}}),
            // Sorted metadata keys (a custom resource's order).
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"creationTimestamp": "t", "name": "a", "uid": "x"}}),
            // Unknown keys first, known ones after, and one known key alone.
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"zz": 1, "generation": 3, "name": "n", "aa": 2}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "n"}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"uid": "u", "zz": 1}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}}),
            // Escapes inside values, and inside a nested member's name.
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm",
                "annotations": {"we\"ird/key": "tab\there"}}, "data": {"a\\b": "c"}}),
        ];
        for object in objects {
            let value = stored(object.clone());
            let fast = as_stored(&value, "v1", "ConfigMap", 42).expect("served as stored");
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow(&value, "v1", "ConfigMap", 42)).unwrap(),
                "{object}"
            );
        }
    }

    #[test]
    fn anything_unusual_takes_the_slow_path() {
        let unusual = [
            // Another version or kind: converting would change the stamp.
            json!({"kind": "ConfigMap", "apiVersion": "v2", "metadata": {"name": "a"}}),
            json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "a"}}),
            json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
            // No metadata, or a resourceVersion already stored.
            json!({"kind": "ConfigMap", "apiVersion": "v1"}),
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "a", "resourceVersion": "7"}}),
            // A top-level or metadata member name with an escape.
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"na\"me": "a"}}),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}, "d\"ata": 1}),
        ];
        for object in unusual {
            assert_eq!(as_stored(&stored(object.clone()), "v1", "ConfigMap", 9), None, "{object}");
        }
        assert_eq!(as_stored(b"[1]", "v1", "ConfigMap", 9), None);
        assert_eq!(as_stored(b"{\"kind\":", "v1", "ConfigMap", 9), None);
    }
}
