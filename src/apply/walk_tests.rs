//! Field sets and comparisons of real kinds, checked as FieldsV1 text.

use serde_json::json;

use super::*;
use crate::apply::fields_v1::to_json;
use crate::apply::types::TypeRoot;

fn kind(group: &str, version: &str, kind: &str) -> TypeRoot {
    TypeRoot::builtin(group, version, kind).expect("a built-in kind")
}

fn fields_of(root: &TypeRoot, value: serde_json::Value) -> String {
    to_json(&fieldset(&value, root.at_root()).expect("a valid object"))
}

fn bad_request(result: Result<Set, ApplyError>) -> String {
    match result {
        Err(ApplyError::BadRequest(message)) => message,
        other => panic!("expected a bad request, got {other:?}"),
    }
}

#[test]
fn fieldset_of_a_config_map() {
    let cm = kind("", "v1", "ConfigMap");
    let got = fields_of(
        &cm,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "x", "labels": {"app": "a"}}, "data": {"k": "v"}}),
    );
    assert_eq!(
        got,
        r#"{"f:apiVersion":{},"f:data":{"f:k":{}},"f:kind":{},"f:metadata":{"f:labels":{"f:app":{}},"f:name":{}}}"#
    );
}

#[test]
fn fieldset_keys_list_items_and_owns_their_key_fields() {
    let deploy = kind("apps", "v1", "Deployment");
    let got = fields_of(
        &deploy,
        json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}},
               "template": {"spec": {"containers": [
                   {"name": "nginx", "image": "nginx", "args": ["-x"],
                    "ports": [{"containerPort": 80}], "resources": {}}]}}}}),
    );
    assert_eq!(
        got,
        concat!(
            r#"{"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{"#,
            r#""k:{\"name\":\"nginx\"}":{".":{},"f:args":{},"f:image":{},"f:name":{},"f:ports":{"#,
            r#""k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},"#,
            r#""f:resources":{}}}}}}}"#
        ),
        "the port's protocol defaults to TCP in its key; an empty struct is owned"
    );
}

#[test]
fn fieldset_of_sets_nulls_and_owner_references() {
    let cm = kind("", "v1", "ConfigMap");
    let got = fields_of(
        &cm,
        json!({"metadata": {"finalizers": ["b", "a"], "annotations": null,
               "ownerReferences": [{"uid": "u1", "name": "o", "kind": "K", "apiVersion": "v1"}]}}),
    );
    assert_eq!(
        got,
        concat!(
            r#"{"f:metadata":{"f:annotations":{},"f:finalizers":{"v:\"a\"":{},"v:\"b\"":{}},"#,
            r#""f:ownerReferences":{"k:{\"uid\":\"u1\"}":{}}}}"#
        ),
        "OwnerReference is `+structType=atomic`: its items are owned whole"
    );
}

#[test]
fn fieldset_of_untyped_objects_owns_every_key() {
    let got = fields_of(&TypeRoot::Deduced, json!({"spec": {"a": {"b": 1}, "l": [1, 2]}}));
    assert_eq!(got, r#"{"f:spec":{".":{},"f:a":{".":{},"f:b":{}},"f:l":{}}}"#);
}

#[test]
fn duplicate_keys_are_bad_requests_in_kube_words() {
    let deploy = kind("apps", "v1", "Deployment");
    let value = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}}}});
    assert_eq!(
        bad_request(fieldset(&value, deploy.at_root())),
        r#".spec.template.spec.containers: duplicate entries for key [name="a"]"#
    );
    let cm = kind("", "v1", "ConfigMap");
    let value = json!({"metadata": {"finalizers": ["a", "a"]}});
    assert_eq!(
        bad_request(fieldset(&value, cm.at_root())),
        r#".metadata.finalizers: duplicate entries for key [="a"]"#
    );
}

#[test]
fn items_without_keys_and_values_of_the_wrong_kind_are_bad_requests() {
    let deploy = kind("apps", "v1", "Deployment");
    let value = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
    assert_eq!(
        bad_request(fieldset(&value, deploy.at_root())),
        concat!(
            ".spec.template.spec.containers: element 0: associative list with keys has an ",
            r#"element that omits key field "name" (and doesn't have default value)"#
        )
    );
    let message = bad_request(fieldset(&json!({"spec": "x"}), deploy.at_root()));
    assert_eq!(message, r#".spec: expected map, got "x""#);
    let message = bad_request(fieldset(
        &json!({"spec": {"template": {"spec": {"containers": {}}}}}),
        deploy.at_root(),
    ));
    assert_eq!(message, ".spec.template.spec.containers: expected list, got {}");
}

fn compared(root: &TypeRoot, old: serde_json::Value, new: serde_json::Value) -> [String; 3] {
    let c = compare(&old, &new, root.at_root()).expect("comparable");
    [to_json(&c.added), to_json(&c.modified), to_json(&c.removed)]
}

#[test]
fn compare_from_nothing_adds_structs_with_their_contents() {
    let cm = kind("", "v1", "ConfigMap");
    let [added, modified, removed] = compared(
        &cm,
        serde_json::Value::Null,
        json!({"metadata": {"name": "x", "labels": {"app": "a"}}, "data": {"k": "v"}}),
    );
    assert_eq!(
        added,
        r#"{"f:data":{".":{},"f:k":{}},"f:metadata":{".":{},"f:labels":{".":{},"f:app":{}},"f:name":{}}}"#
    );
    assert_eq!((modified.as_str(), removed.as_str()), ("{}", "{}"));
}

#[test]
fn compare_finds_modified_and_removed_fields() {
    let cm = kind("", "v1", "ConfigMap");
    let [added, modified, removed] = compared(
        &cm,
        json!({"metadata": {"labels": {"app": "a", "tier": "t"}}, "data": {"k": "v", "n": 1}}),
        json!({"metadata": {"labels": {"app": "b"}}, "data": {"k": "v", "n": 1.0, "new": "x"}}),
    );
    assert_eq!(added, r#"{"f:data":{"f:new":{}}}"#);
    assert_eq!(modified, r#"{"f:metadata":{"f:labels":{"f:app":{}}}}"#, "1 equals 1.0");
    assert_eq!(removed, r#"{"f:metadata":{"f:labels":{"f:tier":{}}}}"#);
    let same = compare(&json!({"data": {"a": "1"}}), &json!({"data": {"a": "1"}}), cm.at_root());
    assert!(same.unwrap().is_same());
}

#[test]
fn compare_matches_list_items_by_key() {
    let deploy = kind("apps", "v1", "Deployment");
    let pod = |containers: serde_json::Value| json!({"spec": {"template": {"spec": {"containers": containers}}}});
    let [added, modified, removed] = compared(
        &deploy,
        pod(json!([{"name": "a", "image": "1"}, {"name": "b", "image": "1"}])),
        pod(json!([{"name": "c", "image": "1"}, {"name": "a", "image": "2"}])),
    );
    let prefix = r#"{"f:spec":{"f:template":{"f:spec":{"f:containers":{"#;
    assert_eq!(
        added,
        format!(
            r#"{prefix}"k:{{\"name\":\"c\"}}":{{".":{{}},"f:image":{{}},"f:name":{{}}}}}}}}}}}}}}"#
        )
    );
    assert_eq!(modified, format!(r#"{prefix}"k:{{\"name\":\"a\"}}":{{"f:image":{{}}}}}}}}}}}}}}"#));
    assert_eq!(
        removed,
        format!(
            r#"{prefix}"k:{{\"name\":\"b\"}}":{{".":{{}},"f:image":{{}},"f:name":{{}}}}}}}}}}}}}}"#
        )
    );
}

#[test]
fn compare_keeps_empty_and_null_apart_and_atomic_values_whole() {
    let deploy = kind("apps", "v1", "Deployment");
    let [added, modified, _] = compared(
        &deploy,
        json!({"spec": {"selector": {"matchLabels": {"a": "1"}}, "strategy": null}}),
        json!({"spec": {"selector": {"matchLabels": {"a": "2"}}, "strategy": {}, "template": {}}}),
    );
    assert_eq!(added, r#"{"f:spec":{"f:template":{}}}"#);
    assert_eq!(modified, r#"{"f:spec":{"f:selector":{},"f:strategy":{}}}"#);
}

#[test]
fn compare_of_untyped_values_that_change_kind() {
    let [added, modified, removed] = compared(
        &TypeRoot::Deduced,
        json!({"spec": {"a": {"b": 1}}}),
        json!({"spec": {"a": "flat"}}),
    );
    assert_eq!(added, "{}");
    assert_eq!(modified, r#"{"f:spec":{"f:a":{}}}"#);
    assert_eq!(removed, r#"{"f:spec":{"f:a":{"f:b":{}}}}"#);
}

#[test]
fn values_compare_by_value() {
    assert!(values_equal(&json!({"a": [1, {"b": 2.0}]}), &json!({"a": [1.0, {"b": 2}]})));
    assert!(!values_equal(&json!([1, 2]), &json!([2, 1])));
    assert!(!values_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
}

#[test]
fn undeclared_fields_are_refused_where_the_schema_is_closed() {
    let deploy = kind("apps", "v1", "Deployment");
    let value = json!({"spec": {"replicaz": 1, "template": {"spec": {"containers": [
        {"name": "a", "imagee": "x"}]}}}, "metadata": {"labels": {"any": "key"}}});
    match check_declared(&value, deploy.at_root()) {
        Err(ApplyError::BadRequest(message)) => assert_eq!(
            message,
            concat!(
                ".spec.replicaz: field not declared in schema\n",
                r#".spec.template.spec.containers[name="a"].imagee: field not declared in schema"#
            )
        ),
        other => panic!("expected a bad request, got {other:?}"),
    }
    let fine =
        json!({"apiVersion": "apps/v1", "spec": {"replicas": 1, "selector": {"whatever": 1}}});
    assert_eq!(
        check_declared(&fine, deploy.at_root()),
        Ok(()),
        "atomic values are not looked into"
    );
    assert_eq!(check_declared(&json!({"x": {"y": 1}}), TypeRef::Deduced), Ok(()));
}

#[test]
fn crd_key_fields_take_their_schema_defaults() {
    let root = TypeRoot::crd(Some(&json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {
            "servers": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["host", "port"],
                        "items": {"type": "object", "properties": {
                            "host": {"type": "string"},
                            "port": {"type": "integer", "default": 443}}}},
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                     "properties": {"known": {"type": "string"}}}}}}
    })));
    let value = json!({"spec": {"servers": [{"host": "a"}, {"host": "a", "port": 80}],
                                "open": {"known": "k", "other": {"x": 1}}}});
    assert_eq!(
        to_json(&fieldset(&value, root.at_root()).unwrap()),
        concat!(
            r#"{"f:spec":{"f:open":{"f:known":{},"f:other":{".":{},"f:x":{}}},"f:servers":{"#,
            r#""k:{\"host\":\"a\",\"port\":80}":{".":{},"f:host":{},"f:port":{}},"#,
            r#""k:{\"host\":\"a\",\"port\":443}":{".":{},"f:host":{}}}}}"#
        )
    );
    assert_eq!(check_declared(&value, root.at_root()), Ok(()));
    let closed = json!({"spec": {"servers": [{"host": "a", "extra": 1}]}, "status": {}});
    assert!(check_declared(&closed, root.at_root()).is_err());
}

#[test]
fn large_maps_build_sets_in_order() {
    // Keys out of byte order (k10 < k2): the walk sorts them, so sets grow by appending.
    let cm = kind("", "v1", "ConfigMap");
    let data: serde_json::Map<String, serde_json::Value> =
        (0..10_000).map(|i| (format!("k{i}"), json!("v"))).collect();
    let object = json!({"data": data});
    let set = fieldset(&object, cm.at_root()).unwrap();
    assert_eq!(set.leaves().len(), 10_000);
    let c = compare(&serde_json::Value::Null, &object, cm.at_root()).unwrap();
    assert_eq!(c.added.paths().len(), 10_001, "data and each key");
    assert!(compare(&object, &object, cm.at_root()).unwrap().is_same());
}
