//! FieldsV1 text as kube writes it: the shapes below are those kube-apiserver shows in
//! `metadata.managedFields` (a Deployment's container keyed by name, a port keyed by port and
//! protocol, `"."` for an element that is owned and has owned children).

use serde_json::json;

use super::*;
use crate::apply::path::Path;

fn set_of(paths: &[Vec<PathElement>]) -> Set {
    let mut set = Set::new();
    for path in paths {
        set.insert(path);
    }
    set
}

fn f(names: &[&str]) -> Vec<PathElement> {
    Path::fields(names).0
}

fn key(fields: &[(&str, serde_json::Value)]) -> PathElement {
    PathElement::key(fields.iter().map(|(n, v)| (Arc::from(*n), v.clone())).collect())
}

#[test]
fn members_with_children_get_a_dot_first() {
    let set = set_of(&[f(&["metadata", "labels"]), f(&["metadata", "labels", "app"])]);
    assert_eq!(to_json(&set), r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#);
    assert_eq!(to_json(&Set::new()), "{}");
}

#[test]
fn keyed_items_are_json_objects_with_sorted_fields() {
    let containers = f(&["spec", "template", "spec", "containers"]);
    let nginx = [&containers[..], &[key(&[("name", json!("nginx"))])]].concat();
    let port = [
        &nginx[..],
        &[
            PathElement::field("ports"),
            key(&[("protocol", json!("TCP")), ("containerPort", json!(80))]),
        ],
    ]
    .concat();
    let set = set_of(&[
        nginx.clone(),
        [&nginx[..], &f(&["image"])].concat(),
        [&nginx[..], &f(&["name"])].concat(),
        port.clone(),
        [&port[..], &f(&["containerPort"])].concat(),
    ]);
    assert_eq!(
        to_json(&set),
        concat!(
            r#"{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{"#,
            r#"".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":"#,
            r#"{".":{},"f:containerPort":{}}}}}}}}}"#
        )
    );
}

#[test]
fn set_items_values_and_indices() {
    let set = set_of(&[
        [&f(&["metadata", "finalizers"])[..], &[PathElement::Value(json!("example.com/x"))]]
            .concat(),
        [&f(&["spec", "list"])[..], &[PathElement::Index(3)]].concat(),
        [&f(&["spec", "list"])[..], &[PathElement::Index(10)]].concat(),
    ]);
    assert_eq!(
        to_json(&set),
        r#"{"f:metadata":{"f:finalizers":{"v:\"example.com/x\"":{}}},"f:spec":{"f:list":{"i:3":{},"i:10":{}}}}"#
    );
}

#[test]
fn keys_follow_path_element_order() {
    // Fields by bytes (upper case first), before keys, values and indices.
    let set = set_of(&[
        f(&["b"]),
        f(&["Z"]),
        f(&["a"]),
        vec![PathElement::Index(0)],
        vec![PathElement::Value(json!(1))],
        vec![key(&[("k", json!("v"))])],
    ]);
    assert_eq!(
        to_json(&set),
        r#"{"f:Z":{},"f:a":{},"f:b":{},"k:{\"k\":\"v\"}":{},"v:1":{},"i:0":{}}"#
    );
}

#[test]
fn html_characters_are_escaped_as_go_does() {
    let set = set_of(&[f(&["data", "a<b>&c"])]);
    assert_eq!(to_json(&set), r#"{"f:data":{"f:a\u003cb\u003e\u0026c":{}}}"#);
    assert_eq!(from_value(&to_value(&set)).unwrap(), set);
}

#[test]
fn round_trips_through_text() {
    let text = concat!(
        r#"{"f:metadata":{"f:annotations":{".":{},"f:note":{}},"f:finalizers":{".":{},"v:\"a\"":{}}},"#,
        r#""f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:targetPort":{}}},"#,
        r#""f:selector":{}}}"#
    );
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    let set = from_value(&value).unwrap();
    assert!(set.has(&f(&["metadata", "annotations"])));
    assert!(set.has(&f(&["metadata", "annotations", "note"])));
    assert!(set.has(&f(&["spec", "selector"])));
    assert!(!set.has(&f(&["spec"])), "an element with children only is no member");
    assert_eq!(to_json(&set), text);
}

#[test]
fn reading_skips_unknown_prefixes_and_rejects_malformed_keys() {
    let set = from_value(&json!({"f:a": {}, "x:whatever": {}, "f:b": {"z:c": {}}})).unwrap();
    assert_eq!(to_json(&set), r#"{"f:a":{}}"#);
    assert!(from_value(&json!({"k:not json": {}})).is_err());
    assert!(from_value(&json!({"k:[1]": {}})).is_err(), "a key is an object");
    assert!(from_value(&json!({"i:x": {}})).is_err());
    assert!(from_value(&json!({"nocolon": {}})).is_err());
    assert!(from_value(&json!({"f:a": 1})).is_err());
    assert!(from_value(&json!([])).is_err());
}

#[test]
fn element_keys_parse_back() {
    for element in [
        PathElement::field("a.b/c"),
        key(&[("name", json!("x")), ("port", json!(8080))]),
        PathElement::Value(json!(true)),
        PathElement::Index(7),
    ] {
        assert_eq!(parse_element(&element_key(&element)).unwrap(), Some(element));
    }
}
