//! What the built-in and CRD schemas say of each position, as structured-merge-diff reads
//! kube's OpenAPI.

use serde_json::json;

use super::*;

fn root(group: &str, version: &str, kind: &str) -> TypeRoot {
    TypeRoot::builtin(group, version, kind).expect("a built-in kind")
}

fn at<'a>(root: &'a TypeRoot, path: &[&str]) -> TypeRef<'a> {
    path.iter()
        .fold(root.at_root(), |ty, step| if *step == "[]" { ty.item() } else { ty.field(step) })
}

fn keys(shape: Shape<'_>) -> Vec<String> {
    match shape {
        Shape::List(ListKind::Map(keys)) => keys.iter().map(str::to_owned).collect(),
        other => panic!("not a map list: {other:?}"),
    }
}

#[test]
fn object_meta_is_granular_with_keyed_owner_references_and_a_finalizer_set() {
    let cm = root("", "v1", "ConfigMap");
    assert_eq!(at(&cm, &[]).shape(), Shape::Struct { atomic: false });
    assert_eq!(at(&cm, &["metadata"]).shape(), Shape::Struct { atomic: false });
    assert_eq!(at(&cm, &["metadata", "labels"]).shape(), Shape::Map { atomic: false });
    assert_eq!(at(&cm, &["metadata", "annotations"]).shape(), Shape::Map { atomic: false });
    assert_eq!(at(&cm, &["metadata", "labels", "app"]).shape(), Shape::Leaf);
    assert_eq!(keys(at(&cm, &["metadata", "ownerReferences"]).shape()), ["uid"]);
    assert_eq!(at(&cm, &["metadata", "finalizers"]).shape(), Shape::List(ListKind::Set));
    assert_eq!(at(&cm, &["metadata", "managedFields"]).shape(), Shape::List(ListKind::Atomic));
    // Wire types are leaves, whatever their JSON.
    assert_eq!(at(&cm, &["metadata", "creationTimestamp"]).shape(), Shape::Leaf);
    assert_eq!(at(&cm, &["data"]).shape(), Shape::Map { atomic: false });
    assert_eq!(at(&cm, &["data", "key"]).shape(), Shape::Leaf);
}

#[test]
fn pod_spec_lists_are_keyed_as_in_kube() {
    let deploy = root("apps", "v1", "Deployment");
    let pod = ["spec", "template", "spec"];
    let containers = [&pod[..], &["containers"]].concat();
    assert_eq!(keys(at(&deploy, &containers).shape()), ["name"]);
    let container = [&containers[..], &["[]"]].concat();
    assert_eq!(at(&deploy, &container).shape(), Shape::Struct { atomic: false });
    assert_eq!(keys(at(&deploy, &[&container[..], &["env"]].concat()).shape()), ["name"]);
    assert_eq!(
        keys(at(&deploy, &[&container[..], &["volumeMounts"]].concat()).shape()),
        ["mountPath"]
    );
    assert_eq!(
        keys(at(&deploy, &[&container[..], &["ports"]].concat()).shape()),
        ["containerPort", "protocol"]
    );
    assert_eq!(
        at(&deploy, &[&container[..], &["args"]].concat()).shape(),
        Shape::List(ListKind::Atomic)
    );
    assert_eq!(
        at(&deploy, &[&container[..], &["resources", "limits", "cpu"]].concat()).shape(),
        Shape::Leaf,
        "a Quantity is a leaf"
    );
    // LabelSelector is `+structType=atomic`.
    assert_eq!(at(&deploy, &["spec", "selector"]).shape(), Shape::Struct { atomic: true });
    assert_eq!(at(&deploy, &["spec", "replicas"]).shape(), Shape::Leaf);
}

#[test]
fn service_ports_are_keyed_by_port_and_protocol() {
    let svc = root("", "v1", "Service");
    assert_eq!(keys(at(&svc, &["spec", "ports"]).shape()), ["port", "protocol"]);
    // IntOrString is a leaf.
    assert_eq!(at(&svc, &["spec", "ports", "[]", "targetPort"]).shape(), Shape::Leaf);
}

#[test]
fn unknown_fields_and_opaque_types_are_deduced() {
    let cm = root("", "v1", "ConfigMap");
    assert!(matches!(at(&cm, &["spec"]), TypeRef::Deduced));
    assert!(at(&cm, &[]).declares("data") && !at(&cm, &[]).declares("spec"));
    assert!(!at(&cm, &["data"]).declares("key"), "map keys are not declared fields");
    let deduced = TypeRef::Deduced;
    assert_eq!(deduced.shape_of(&json!({"a": 1})), Shape::Map { atomic: false });
    assert_eq!(deduced.shape_of(&json!([1])), Shape::List(ListKind::Atomic));
    assert_eq!(deduced.shape_of(&json!("x")), Shape::Leaf);
    assert!(matches!(TypeRoot::crd(None).at_root(), TypeRef::Deduced));
}

#[test]
fn go_inlined_fields_are_transparent() {
    // A PersistentVolume's sources are inlined from PersistentVolumeSource.
    let pv = root("", "v1", "PersistentVolume");
    assert_eq!(at(&pv, &["spec", "hostPath"]).shape(), Shape::Struct { atomic: false });
    assert!(at(&pv, &["spec"]).declares("hostPath"));
    assert_eq!(at(&pv, &["spec", "hostPath", "path"]).shape(), Shape::Leaf);
}

fn crd_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                    "args": {"type": "array", "items": {"type": "string"}},
                    "servers": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["host", "port"],
                        "items": {"type": "object", "properties": {
                            "host": {"type": "string"}, "port": {"type": "integer"}}}
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                                 "properties": {"app": {"type": "string"}}},
                    "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                 "properties": {"spec": {"type": "object"}}}
                }
            },
            "metadata": {"type": "object"}
        }
    })
}

#[test]
fn crd_schemas_compile_to_structs_maps_lists_and_leaves() {
    let root = TypeRoot::crd(Some(&crd_schema()));
    assert_eq!(at(&root, &[]).shape(), Shape::Struct { atomic: false });
    assert_eq!(at(&root, &["apiVersion"]).shape(), Shape::Leaf);
    assert_eq!(at(&root, &["spec", "replicas"]).shape(), Shape::Leaf);
    assert_eq!(at(&root, &["spec", "port"]).shape(), Shape::Leaf);
    assert_eq!(at(&root, &["spec", "tags"]).shape(), Shape::List(ListKind::Set));
    assert_eq!(at(&root, &["spec", "args"]).shape(), Shape::List(ListKind::Atomic));
    assert_eq!(keys(at(&root, &["spec", "servers"]).shape()), ["host", "port"]);
    assert_eq!(at(&root, &["spec", "servers", "[]", "host"]).shape(), Shape::Leaf);
    assert_eq!(at(&root, &["spec", "labels"]).shape(), Shape::Map { atomic: false });
    assert_eq!(at(&root, &["spec", "labels", "x"]).shape(), Shape::Leaf);
    assert_eq!(at(&root, &["spec", "selector"]).shape(), Shape::Struct { atomic: true });
    assert!(matches!(at(&root, &["spec", "config"]), TypeRef::Deduced));
    assert!(matches!(at(&root, &["spec", "config", "deep"]), TypeRef::Deduced));
    assert!(!at(&root, &["spec"]).declares("unknown"));
}

#[test]
fn crd_metadata_is_object_meta_at_the_root_and_in_embedded_resources() {
    let root = TypeRoot::crd(Some(&crd_schema()));
    for meta in [&["metadata"][..], &["spec", "template", "metadata"]] {
        let ty = at(&root, meta);
        assert!(matches!(ty, TypeRef::Builtin { .. }), "{meta:?} is ObjectMeta");
        assert_eq!(at(&root, &[meta, &["labels"]].concat()).shape(), Shape::Map { atomic: false });
        assert_eq!(
            at(&root, &[meta, &["finalizers"]].concat()).shape(),
            Shape::List(ListKind::Set)
        );
    }
    assert_eq!(at(&root, &["spec", "template", "kind"]).shape(), Shape::Leaf);
    assert_eq!(at(&root, &["spec", "template", "spec"]).shape(), Shape::Struct { atomic: false });
}
