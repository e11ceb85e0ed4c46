//! Embedded resources (`x-kubernetes-embedded-resource: true`): objects inside a custom
//! resource that are whole Kubernetes objects themselves (a Pod template, a RawExtension).
//!
//! Like kube-apiserver's `objectmeta.Validate`, every embedded object found while walking the
//! value needs a non-empty string `apiVersion` that parses as a group/version and a `kind` that
//! is a DNS-1035 label once lower-cased; its `metadata`, if any, is validated as object metadata
//! with names that only have to be valid path segments, a namespace only checked when present,
//! and no name required. Paths are `field.Path`s: `spec.template.kind`, `spec.list[0].kind`,
//! `spec.map[key].kind`. The root's own metadata is not checked here; the store checks it as
//! for every object.

use serde_json::Value;

use super::node::Node;
use super::path::{child, index, key};
use crate::meta::validation::{
    FieldCause, is_dns1035_label, is_valid_path_segment_name, validate_object_meta,
};

/// The `metadata` fields of `metav1.ObjectMeta`: what survives pruning an embedded object's
/// metadata.
pub const OBJECT_META_FIELDS: [&str; 15] = [
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
];

/// Walks `value` along `node` and validates every embedded resource below the root.
pub fn validate(node: &Node, value: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    match value {
        Value::Object(map) => {
            if node.embedded_resource && !path.is_empty() {
                validate_resource(map, path, causes);
            }
            for (name, v) in map {
                if let Some(property) = node.properties.get(name) {
                    validate(property, v, &child(path, name), causes);
                } else if let Some(schema) = node.schema_for_key(name) {
                    validate(schema, v, &key(path, name), causes);
                }
            }
        }
        Value::Array(list) => {
            if let Some(items) = &node.items {
                for (i, v) in list.iter().enumerate() {
                    validate(items, v, &index(path, i), causes);
                }
            }
        }
        _ => {}
    }
}

/// The TypeMeta and ObjectMeta checks of one embedded object at `path`.
pub fn validate_resource(
    map: &serde_json::Map<String, Value>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    let api_version_path = child(path, "apiVersion");
    match map.get("apiVersion") {
        None => causes.push(FieldCause::required(api_version_path, "")),
        Some(Value::String(v)) if v.is_empty() => {
            causes.push(FieldCause::required(api_version_path, ""))
        }
        Some(Value::String(v)) if v.matches('/').count() > 1 => causes.push(FieldCause::invalid(
            api_version_path,
            v.as_str(),
            &format!("unexpected GroupVersion string: {v}"),
        )),
        Some(Value::String(_)) => {}
        Some(other) => {
            causes.push(FieldCause::invalid(api_version_path, other.clone(), "must be a string"))
        }
    }
    let kind_path = child(path, "kind");
    match map.get("kind") {
        None => causes.push(FieldCause::required(kind_path, "")),
        Some(Value::String(k)) if k.is_empty() => causes.push(FieldCause::required(kind_path, "")),
        Some(Value::String(k)) => {
            let errs = is_dns1035_label(&k.to_lowercase());
            if !errs.is_empty() {
                causes.push(FieldCause::invalid(
                    kind_path,
                    k.as_str(),
                    &format!("may have mixed case, but should otherwise match: {}", errs.join(",")),
                ));
            }
        }
        Some(other) => {
            causes.push(FieldCause::invalid(kind_path, other.clone(), "must be a string"))
        }
    }
    if let Some(metadata) = map.get("metadata") {
        validate_metadata(metadata, path, causes);
    }
}

/// Embedded metadata: a name is not required, names are path segments, the namespace is
/// checked only when set. The meta validator's `metadata.…` paths are re-rooted at `path`.
fn validate_metadata(metadata: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    if metadata.is_null() {
        return;
    }
    if !metadata.is_object() {
        causes.push(FieldCause::invalid(
            child(path, "metadata"),
            metadata.clone(),
            "must be an object",
        ));
        return;
    }
    let mut meta = metadata.clone();
    let named = meta.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    if !named {
        // kube fills in a placeholder: an embedded object may leave its name to its owner.
        meta["name"] = Value::String("fakename".to_owned());
    }
    let namespaced = meta.get("namespace").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    for mut cause in validate_object_meta(&meta, namespaced, path_segment_name) {
        cause.field = child(path, &cause.field);
        causes.push(cause);
    }
}

/// Names of embedded objects only have to fit in a URL path.
fn path_segment_name(name: &str, _prefix: bool) -> Vec<String> {
    is_valid_path_segment_name(name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apiextensions::schema::parse::parse_root;
    use crate::meta::CauseType;

    fn node() -> Node {
        let mut causes = Vec::new();
        let node = parse_root(
            &json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "x-kubernetes-preserve-unknown-fields": true},
                "list": {"type": "array", "items": {"type": "object",
                    "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}},
                "map": {"type": "object", "additionalProperties": {"type": "object",
                    "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}},
            }}}}),
            "",
            &mut causes,
        );
        assert!(causes.is_empty());
        node
    }

    fn causes_of(value: Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate(&node(), &value, "", &mut causes);
        causes
    }

    #[test]
    fn a_valid_embedded_object_passes() {
        let value = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"labels": {"app": "web"}}, "spec": {}}}});
        assert_eq!(causes_of(value), Vec::new());
    }

    #[test]
    fn api_version_and_kind_are_required() {
        let causes = causes_of(json!({"spec": {"template": {}}}));
        let got: Vec<(&str, CauseType)> =
            causes.iter().map(|c| (c.field.as_str(), c.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("spec.template.apiVersion", CauseType::FieldValueRequired),
                ("spec.template.kind", CauseType::FieldValueRequired),
            ]
        );
        let causes = causes_of(json!({"spec": {"list": [{"apiVersion": "", "kind": "Pod"}]}}));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.list[0].apiVersion");
        assert_eq!(causes[0].reason, CauseType::FieldValueRequired);
    }

    #[test]
    fn api_version_and_kind_must_be_well_formed() {
        let causes =
            causes_of(json!({"spec": {"map": {"a": {"apiVersion": "a/b/c", "kind": "No_Kind"}}}}));
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0].field, "spec.map[a].apiVersion");
        assert_eq!(
            causes[0].message,
            "Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c"
        );
        assert_eq!(causes[1].field, "spec.map[a].kind");
        assert!(causes[1].message.starts_with("Invalid value: \"No_Kind\": may have mixed case, but should otherwise match: a DNS-1035 label"));
        let causes = causes_of(json!({"spec": {"template": {"apiVersion": 1, "kind": true}}}));
        assert_eq!(causes[0].message, "Invalid value: 1: must be a string");
        assert_eq!(causes[1].message, "Invalid value: true: must be a string");
    }

    #[test]
    fn embedded_metadata_is_object_metadata() {
        let causes = causes_of(json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a/b", "labels": {"bad key!": "v"}, "namespace": "Bad_NS"}}}}));
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "spec.template.metadata.name",
                "spec.template.metadata.namespace",
                "spec.template.metadata.labels",
            ]
        );
        assert_eq!(causes[0].message, "Invalid value: \"a/b\": may not contain '/'");
        // Upper case is fine for an embedded name: only path segments are checked.
        let ok = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Web"}}}});
        assert_eq!(causes_of(ok), Vec::new());
        let causes = causes_of(
            json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": 5}}}),
        );
        assert_eq!(causes[0].field, "spec.template.metadata");
    }
}
