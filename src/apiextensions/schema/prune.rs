//! Pruning: dropping the fields a structural schema does not specify, as kube-apiserver does to
//! every custom resource it decodes.
//!
//! A field survives when it is a property of its object's schema, or when the object has
//! `additionalProperties`; everything else in an object is removed and its path reported
//! (`spec.foo`, `spec.items[0].bar`, `spec.map.key.baz` — kube's spelling, which kube-apiserver
//! turns into `unknown field "spec.foo"` warnings under `fieldValidation=Warn`, or an error under
//! `Strict`). Under `x-kubernetes-preserve-unknown-fields: true` unknown fields stay, while the
//! known ones are still pruned inside. Values whose schema is unknown (under a bare
//! `additionalProperties: true`, or a schema-less array) keep their scalars and lose every
//! object field, as in kube.
//!
//! The root and every embedded resource keep `apiVersion`, `kind` and `metadata` whatever the
//! schema says. The root's `metadata` is not touched — the store owns it, as kube's ObjectMeta
//! decoding does. An embedded resource's `metadata` is cut down to the fields of
//! `metav1.ObjectMeta`, which is what kube's round trip through ObjectMeta leaves of it; those
//! cuts are reported too.

use serde_json::Value;

use super::embedded::OBJECT_META_FIELDS;
use super::node::{Additional, Node};
use super::path::{dotted, index};

const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Prunes `value` (a whole object) against the root `node`; returns the pruned paths, sorted.
pub fn prune_root(node: &Node, value: &mut Value) -> Vec<String> {
    let mut pruned = Vec::new();
    walk(Some(node), value, true, false, "", &mut pruned);
    pruned.sort();
    pruned
}

/// Prunes `value` against `node`; `resource` treats it as a resource (root or embedded).
/// Used to check that defaults are pruned.
pub fn prune_node(node: &Node, value: &mut Value, resource: bool) {
    let mut pruned = Vec::new();
    walk(Some(node), value, resource, false, "", &mut pruned);
}

/// One step. `resource` is true for the root; embedded resources are known by their node.
/// `preserving` is true for the elements of an array whose schema preserves unknown fields:
/// kube keeps their unknown fields too.
fn walk(
    node: Option<&Node>,
    value: &mut Value,
    resource: bool,
    preserving: bool,
    path: &str,
    pruned: &mut Vec<String>,
) {
    let resource = resource || node.is_some_and(|n| n.embedded_resource);
    let preserve = preserving || node.is_some_and(|n| n.preserve_unknown_fields);
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let here = dotted(path, &key);
                if resource && META_FIELDS.contains(&key.as_str()) {
                    // The root's metadata is the store's; an embedded one is cut to ObjectMeta.
                    if key == "metadata"
                        && !path.is_empty()
                        && let Some(Value::Object(meta)) = map.get_mut(&key)
                    {
                        meta.retain(|k, _| {
                            let known = OBJECT_META_FIELDS.contains(&k.as_str());
                            if !known {
                                pruned.push(dotted(&here, k));
                            }
                            known
                        });
                    }
                    continue;
                }
                let schema = match node {
                    Some(n) => match (n.properties.get(&key), &n.additional) {
                        (Some(property), _) => Some(Some(property)),
                        (None, Some(Additional::Schema(s))) => Some(Some(s.as_ref())),
                        // Kept under `false` too: validation then rejects the key, as in kube.
                        (None, Some(Additional::Allows(_))) => Some(None),
                        (None, None) => None,
                    },
                    None => None,
                };
                match schema {
                    Some(child) => {
                        if let Some(v) = map.get_mut(&key) {
                            walk(child, v, false, false, &here, pruned);
                        }
                    }
                    None if preserve => {}
                    None => {
                        map.shift_remove(&key);
                        pruned.push(here);
                    }
                }
            }
        }
        Value::Array(items) => {
            let schema = node.and_then(|n| n.items.as_deref());
            if preserve && schema.is_none() {
                return;
            }
            for (i, item) in items.iter_mut().enumerate() {
                walk(schema, item, false, preserve, &index(path, i), pruned);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apiextensions::schema::parse::parse_root;

    fn pruned(schema: Value, mut value: Value) -> (Value, Vec<String>) {
        let mut causes = Vec::new();
        let node = parse_root(&schema, "", &mut causes);
        assert!(causes.is_empty(), "{causes:?}");
        let paths = prune_root(&node, &mut value);
        (value, paths)
    }

    #[test]
    fn unknown_fields_are_dropped_and_reported() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "string"}}}}});
        let (value, paths) = pruned(
            schema,
            json!({"apiVersion": "x/v1", "kind": "K",
            "metadata": {"name": "n", "whatever": 1}, "spec": {"a": "x", "foo": 1}, "status": {}}),
        );
        assert_eq!(
            value,
            json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "whatever": 1},
            "spec": {"a": "x"}})
        );
        assert_eq!(paths, vec!["spec.foo", "status"]);
    }

    #[test]
    fn nested_objects_and_arrays() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "object"}}},
        }}}});
        let (value, paths) = pruned(
            schema,
            json!({"spec": {
                "items": [{"name": "a", "x": 1}, {"name": "b"}, {"y": {"z": 1}}],
                "matrix": [[{"gone": 1}]],
            }}),
        );
        assert_eq!(
            value,
            json!({"spec": {"items": [{"name": "a"}, {"name": "b"}, {}], "matrix": [[{}]]}})
        );
        assert_eq!(paths, vec!["spec.items[0].x", "spec.items[2].y", "spec.matrix[0][0].gone"]);
    }

    #[test]
    fn maps_keep_their_keys_and_prune_their_values() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "keep": {"type": "string"}}}},
            "loose": {"type": "object", "additionalProperties": true},
        }}}});
        let (value, paths) = pruned(
            schema,
            json!({"spec": {
                "map": {"k": {"keep": "x", "drop": "y"}},
                "loose": {"n": 1, "obj": {"inner": 1}},
            }}),
        );
        assert_eq!(
            value,
            json!({"spec": {"map": {"k": {"keep": "x"}}, "loose": {"n": 1, "obj": {}}}})
        );
        assert_eq!(paths, vec!["spec.loose.obj.inner", "spec.map.k.drop"]);
    }

    #[test]
    fn preserve_unknown_fields_at_several_levels() {
        let schema = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
        "spec": {"type": "object", "properties": {
            "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
                "typed": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            "list": {"type": "array", "items": {"x-kubernetes-preserve-unknown-fields": true}},
        }}}});
        let (value, paths) = pruned(
            schema,
            json!({
                "extra": {"kept": true},
                "spec": {"gone": 1,
                    "raw": {"free": {"deep": 1}, "typed": {"a": "x", "b": "pruned"}},
                    "list": [{"anything": [1, {"x": 1}]}, 3]},
            }),
        );
        assert_eq!(
            value,
            json!({
                "extra": {"kept": true},
                "spec": {"raw": {"free": {"deep": 1}, "typed": {"a": "x"}},
                    "list": [{"anything": [1, {"x": 1}]}, 3]},
            })
        );
        assert_eq!(paths, vec!["spec.gone", "spec.raw.typed.b"]);
    }

    #[test]
    fn embedded_resources_keep_type_meta_and_object_meta() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {
                "spec": {"type": "object", "properties": {"image": {"type": "string"}}}}},
        }}}});
        let (value, paths) = pruned(
            schema,
            json!({"spec": {"template": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "x", "labels": {"a": "b"}, "bogus": 1},
                "spec": {"image": "nginx", "other": 1},
                "status": {},
            }}}),
        );
        assert_eq!(
            value,
            json!({"spec": {"template": {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": {"a": "b"}},
                "spec": {"image": "nginx"},
            }}})
        );
        assert_eq!(
            paths,
            vec![
                "spec.template.metadata.bogus",
                "spec.template.spec.other",
                "spec.template.status"
            ]
        );
    }

    #[test]
    fn embedded_preserved_resources_keep_everything_but_bad_metadata() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "object": {"type": "object", "x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true}}}}});
        let (value, paths) = pruned(
            schema,
            json!({"spec": {"object": {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "nope": true}, "data": {"a": "b"}}}}),
        );
        assert_eq!(
            value,
            json!({"spec": {"object": {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x"}, "data": {"a": "b"}}}})
        );
        assert_eq!(paths, vec!["spec.object.metadata.nope"]);
    }

    #[test]
    fn items_of_a_preserving_array_keep_unknown_fields() {
        let schema = json!({"type": "object", "properties": {"list": {"type": "array",
            "x-kubernetes-preserve-unknown-fields": true, "items": {"type": "object", "properties": {
                "typed": {"type": "object", "properties": {"a": {"type": "string"}}}}}}}});
        let (value, paths) =
            pruned(schema, json!({"list": [{"free": 1, "typed": {"a": "x", "b": 2}}]}));
        assert_eq!(value, json!({"list": [{"free": 1, "typed": {"a": "x"}}]}));
        assert_eq!(paths, vec!["list[0].typed.b"]);
    }

    #[test]
    fn additional_properties_false_keeps_keys_for_validation_to_reject() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "additionalProperties": false}}});
        let (value, paths) = pruned(schema, json!({"spec": {"x": 1, "y": {"z": 1}}}));
        assert_eq!(value, json!({"spec": {"x": 1, "y": {}}}));
        assert_eq!(paths, vec!["spec.y.z"]);
    }

    #[test]
    fn int_or_string_and_scalars_survive() {
        let schema =
            json!({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true}}});
        let (value, paths) = pruned(schema, json!({"port": "http"}));
        assert_eq!(value, json!({"port": "http"}));
        assert!(paths.is_empty());
    }

    #[test]
    fn odd_values_do_not_panic() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "array", "items": {"type": "string"}}}});
        for v in [
            json!(null),
            json!(1),
            json!([{"a": 1}]),
            json!({"spec": {"x": 1}}),
            json!({"spec": [[{"x": 1}]]}),
        ] {
            let _ = pruned(schema.clone(), v);
        }
        let (value, paths) = pruned(schema, json!({"spec": {"x": 1}}));
        assert_eq!(value, json!({"spec": {}}));
        assert_eq!(paths, vec!["spec.x"]);
    }
}
