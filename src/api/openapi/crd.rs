//! Custom resources as OpenAPI schemas: a served version's `openAPIV3Schema`, as its
//! CustomResourceDefinition writes it, → the definition kube-apiserver publishes, named after
//! the reversed group (`com.example.stable.v1.CronTab`), with `apiVersion`, `kind` and a
//! reference to ObjectMeta at the root and the kind's `x-kubernetes-group-version-kind`.
//!
//! v3 keeps the schema as written. v2 applies apiextensions-apiserver's conversion to what
//! OpenAPI v2 (and kubectl) can read: no `nullable` (a nullable schema loses its type and
//! children, and leaves its parent's `required`), no junctors (`allOf`, `anyOf`, `oneOf`,
//! `not`), no children under `x-kubernetes-preserve-unknown-fields`, and no `type: array`
//! without `items`.

use serde_json::{Value, json};

use super::definitions::{Flavor, sorted};
use crate::registry::Resource;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

pub const API_VERSION_DESCRIPTION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
pub const KIND_DESCRIPTION: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESCRIPTION: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DESCRIPTION: &str = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#lists-and-slices";

/// `stable.example.com`, `v1`, `CronTab` → `com.example.stable.v1.CronTab`.
pub fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// The definition of a custom resource's served version and of its list.
pub fn definitions(resource: &Resource, raw: &Value, flavor: Flavor) -> [(String, Value); 2] {
    let (group, version, kind) = (&resource.gv.group, &resource.gv.version, &resource.kind);
    let name = definition_name(group, version, kind);
    let mut schema = raw.clone();
    if flavor == Flavor::V2 {
        to_v2(&mut schema);
    }
    let mut root = schema.as_object().cloned().unwrap_or_default();
    let mut properties =
        root.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    properties.insert(
        "apiVersion".into(),
        json!({"description": API_VERSION_DESCRIPTION, "type": "string"}),
    );
    properties.insert("kind".into(), json!({"description": KIND_DESCRIPTION, "type": "string"}));
    properties.insert("metadata".into(), flavor.described_ref(OBJECT_META, METADATA_DESCRIPTION));
    let mut entries: Vec<(String, Value)> = properties.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    root.insert("properties".into(), Value::Object(entries.into_iter().collect()));
    root.insert("type".into(), "object".into());
    root.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([{"group": group, "kind": kind, "version": version}]),
    );
    let list = json!({
        "description": format!("{kind}List is a list of {kind}"),
        "properties": {
            "apiVersion": {"description": API_VERSION_DESCRIPTION, "type": "string"},
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", resource.plural),
                "items": {"$ref": flavor.reference(&name)},
                "type": "array",
            },
            "kind": {"description": KIND_DESCRIPTION, "type": "string"},
            "metadata": flavor.described_ref(LIST_META, LIST_METADATA_DESCRIPTION),
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": group, "kind": format!("{kind}List"), "version": version}],
    });
    [(name.clone(), sorted(root)), (format!("{name}List"), list)]
}

/// apiextensions-apiserver's v3 → v2 conversion, in place, at every depth.
pub fn to_v2(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    for junctor in ["allOf", "anyOf", "oneOf", "not"] {
        map.shift_remove(junctor);
    }
    if map.shift_remove("nullable") == Some(Value::Bool(true)) {
        for key in ["type", "items", "properties"] {
            map.shift_remove(key);
        }
    }
    if map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        map.shift_remove("items");
        map.shift_remove("properties");
    }
    if map.get("type").and_then(Value::as_str) == Some("array") && !map.contains_key("items") {
        map.shift_remove("type");
    }
    let nullable: Vec<String> = map
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .filter(|(_, s)| s.get("nullable") == Some(&Value::Bool(true)))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    if !nullable.is_empty()
        && let Some(Value::Array(required)) = map.get_mut("required")
    {
        required.retain(|r| r.as_str().is_none_or(|r| !nullable.iter().any(|n| n == r)));
        if required.is_empty() {
            map.shift_remove("required");
        }
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(to_v2);
    }
    if let Some(items) = map.get_mut("items") {
        to_v2(items);
    }
    if let Some(additional @ Value::Object(_)) = map.get_mut("additionalProperties") {
        to_v2(additional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reverse_the_group() {
        assert_eq!(
            definition_name("stable.example.com", "v1", "CronTab"),
            "com.example.stable.v1.CronTab"
        );
    }

    #[test]
    fn v2_drops_what_kubectl_cannot_read() {
        let mut schema = json!({"type": "object", "required": ["a", "b"], "properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"type": "integer", "oneOf": [{"minimum": 1}]},
            "c": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                  "properties": {"x": {"type": "string"}}},
            "d": {"type": "array", "nullable": true, "items": {"type": "string"}},
            "e": {"type": "array", "items": {"type": "object", "anyOf": [{"required": ["x"]}],
                  "properties": {"x": {"type": "string", "nullable": false}}}},
        }});
        to_v2(&mut schema);
        assert_eq!(schema["required"], json!(["b"]));
        assert_eq!(schema["properties"]["a"], json!({}));
        assert_eq!(schema["properties"]["b"], json!({"type": "integer"}));
        assert_eq!(
            schema["properties"]["c"],
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
        );
        assert_eq!(schema["properties"]["d"], json!({}));
        assert_eq!(
            schema["properties"]["e"]["items"],
            json!({"type": "object", "properties": {"x": {"type": "string"}}})
        );
    }
}
