//! Merging configurations into live objects, and cutting sets out of them.

use serde_json::{Value, json};

use super::*;
use crate::apply::path::Path;
use crate::apply::types::TypeRoot;

fn kind(group: &str, version: &str, kind: &str) -> TypeRoot {
    TypeRoot::builtin(group, version, kind).expect("a built-in kind")
}

fn pod(containers: Value) -> Value {
    json!({"spec": {"template": {"spec": {"containers": containers}}}})
}

fn names(object: &Value) -> Vec<&str> {
    object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().expect("a name"))
        .collect()
}

#[test]
fn maps_merge_key_by_key_keeping_the_live_order() {
    let cm = kind("", "v1", "ConfigMap");
    let live =
        json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"z": "1", "b": "2"}});
    let config = json!({"data": {"c": "3", "b": "two"}, "metadata": {"labels": {"d": "4"}}});
    let merged = merge(&live, &config, cm.at_root()).unwrap();
    assert_eq!(
        serde_json::to_string(&merged).unwrap(),
        r#"{"metadata":{"name":"x","labels":{"a":"1","d":"4"}},"data":{"z":"1","b":"two","c":"3"}}"#
    );
}

#[test]
fn nothing_live_gives_the_configuration() {
    let cm = kind("", "v1", "ConfigMap");
    let config = json!({"data": {"a": "1"}});
    assert_eq!(merge(&Value::Null, &config, cm.at_root()).unwrap(), config);
}

#[test]
fn keyed_items_merge_by_key_and_new_items_follow_their_predecessor() {
    let deploy = kind("apps", "v1", "Deployment");
    let live =
        pod(json!([{"name": "a", "image": "1", "args": ["x"]}, {"name": "b", "image": "1"}]));
    let config =
        pod(json!([{"name": "a", "image": "2"}, {"name": "n", "image": "1"}, {"name": "b"}]));
    let merged = merge(&live, &config, deploy.at_root()).unwrap();
    assert_eq!(names(&merged), ["a", "n", "b"]);
    let a = &merged["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(a, &json!({"name": "a", "image": "2", "args": ["x"]}));
    assert_eq!(merged["spec"]["template"]["spec"]["containers"][2]["image"], "1");
}

#[test]
fn live_only_items_stay_where_they_are_and_the_configuration_orders_its_own() {
    let deploy = kind("apps", "v1", "Deployment");
    let item = |n: &str| json!({"name": n});
    let live = pod(json!([item("a"), item("b"), item("c")]));
    let merged = merge(&live, &pod(json!([item("c"), item("d")])), deploy.at_root()).unwrap();
    assert_eq!(names(&merged), ["a", "b", "c", "d"]);
    let merged = merge(&live, &pod(json!([item("c"), item("a")])), deploy.at_root()).unwrap();
    assert_eq!(names(&merged), ["b", "c", "a"]);
    let merged = merge(&live, &pod(json!([item("x")])), deploy.at_root()).unwrap();
    assert_eq!(names(&merged), ["a", "b", "c", "x"]);
}

#[test]
fn sets_merge_by_value_and_atomic_values_are_replaced() {
    let deploy = kind("apps", "v1", "Deployment");
    let live = json!({"metadata": {"finalizers": ["a", "b"]},
                      "spec": {"selector": {"matchLabels": {"x": "1", "y": "2"}},
                               "template": {"spec": {"containers": [{"name": "c", "args": ["1", "2"]}]}}}});
    let config = json!({"metadata": {"finalizers": ["c", "a"]},
                        "spec": {"selector": {"matchLabels": {"x": "1"}},
                                 "template": {"spec": {"containers": [{"name": "c", "args": ["3"]}]}}}});
    let merged = merge(&live, &config, deploy.at_root()).unwrap();
    // c precedes a in the configuration, so it comes before a; b stays after a.
    assert_eq!(merged["metadata"]["finalizers"], json!(["c", "a", "b"]));
    assert_eq!(merged["spec"]["selector"], json!({"matchLabels": {"x": "1"}}));
    assert_eq!(merged["spec"]["template"]["spec"]["containers"][0]["args"], json!(["3"]));
}

#[test]
fn duplicate_keys_in_the_configuration_are_refused() {
    let deploy = kind("apps", "v1", "Deployment");
    let live = pod(json!([{"name": "a"}]));
    let config = pod(json!([{"name": "b"}, {"name": "b"}]));
    assert_eq!(
        merge(&live, &config, deploy.at_root()),
        Err(ApplyError::BadRequest(
            r#".spec.template.spec.containers: duplicate entries for key [name="b"]"#.into()
        ))
    );
}

#[test]
fn untyped_values_merge_as_maps_and_take_the_configuration_s_kind() {
    let live = json!({"spec": {"a": 1, "b": {"c": 1}, "l": [1, 2]}});
    let config = json!({"spec": {"b": "flat", "l": [3]}});
    let merged = merge(&live, &config, TypeRef::Deduced).unwrap();
    assert_eq!(merged, json!({"spec": {"a": 1, "b": "flat", "l": [3]}}));
}

#[test]
fn null_and_empty_configurations_keep_live_content() {
    let cm = kind("", "v1", "ConfigMap");
    let live = json!({"data": {"a": "1"}, "metadata": {"labels": {}}});
    let config = json!({"data": null, "metadata": {"labels": null}});
    let merged = merge(&live, &config, cm.at_root()).unwrap();
    assert_eq!(merged, json!({"data": {"a": "1"}, "metadata": {"labels": null}}));
}

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

fn container(name: &str) -> PathElement {
    PathElement::key(vec![("name".into(), json!(name))])
}

#[test]
fn remove_items_cuts_paths_and_drops_what_it_empties() {
    let cm = kind("", "v1", "ConfigMap");
    let live =
        json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v"}});
    let set = set_of(&[f(&["metadata", "labels", "a"]), f(&["data", "k"])]);
    assert_eq!(
        remove_items(&live, &set, cm.at_root()),
        json!({"metadata": {"name": "x", "labels": {"b": "2"}}})
    );
    let whole = set_of(&[f(&["metadata", "labels"])]);
    assert_eq!(
        remove_items(&live, &whole, cm.at_root()),
        json!({"metadata": {"name": "x"}, "data": {"k": "v"}})
    );
    assert_eq!(
        remove_items(&live, &set_of(&[f(&["metadata"]), f(&["data"])]), cm.at_root()),
        json!({})
    );
}

#[test]
fn remove_items_removes_list_items_by_key_and_fields_inside_them() {
    let deploy = kind("apps", "v1", "Deployment");
    let live = pod(json!([{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]));
    let containers = f(&["spec", "template", "spec", "containers"]);
    let set = set_of(&[
        [&containers[..], &[container("b")]].concat(),
        [&containers[..], &[container("a"), PathElement::field("image")]].concat(),
    ]);
    assert_eq!(remove_items(&live, &set, deploy.at_root()), pod(json!([{"name": "a"}])));
}

#[test]
fn extract_items_keeps_only_the_set() {
    let cm = kind("", "v1", "ConfigMap");
    let live = json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v", "j": "w"}});
    let set = set_of(&[f(&["metadata", "labels", "a"]), f(&["data", "j"])]);
    assert_eq!(
        extract_items(&live, &set, cm.at_root()),
        json!({"metadata": {"labels": {"a": "1"}}, "data": {"j": "w"}})
    );
    assert_eq!(extract_items(&live, &Set::new(), cm.at_root()), json!({}));
}

#[test]
fn extract_items_keeps_the_keys_of_owned_items_and_empties_owned_structs() {
    let deploy = kind("apps", "v1", "Deployment");
    let live = json!({"spec": {"replicas": 3, "strategy": {"type": "Recreate"},
        "template": {"spec": {"containers": [{"name": "a", "image": "1", "args": ["x"]}, {"name": "b"}]}}}});
    let containers = f(&["spec", "template", "spec", "containers"]);
    let a = [&containers[..], &[container("a")]].concat();
    let set = set_of(&[
        a.clone(),
        [&a[..], &f(&["args"])].concat(),
        f(&["spec", "strategy"]),
        f(&["spec", "replicas"]),
    ]);
    assert_eq!(
        extract_items(&live, &set, deploy.at_root()),
        json!({"spec": {"replicas": 3, "strategy": {},
            "template": {"spec": {"containers": [{"args": ["x"], "name": "a"}]}}}})
    );
}

#[test]
fn live_duplicates_survive_unless_the_configuration_names_them() {
    let deploy = kind("apps", "v1", "Deployment");
    let env = |items: Value| pod(json!([{"name": "c", "env": items}]));
    let env_of =
        |object: &Value| object["spec"]["template"]["spec"]["containers"][0]["env"].clone();
    let live =
        env(json!([{"name": "a", "value": "1"}, {"name": "b"}, {"name": "a", "value": "2"}]));
    let merged =
        merge(&live, &env(json!([{"name": "b", "value": "x"}])), deploy.at_root()).unwrap();
    assert_eq!(
        env_of(&merged),
        json!([{"name": "a", "value": "1"}, {"name": "b", "value": "x"}, {"name": "a", "value": "2"}])
    );
    let merged =
        merge(&live, &env(json!([{"name": "a", "value": "3"}])), deploy.at_root()).unwrap();
    assert_eq!(env_of(&merged), json!([{"name": "a", "value": "3"}, {"name": "b"}]));
}

#[test]
fn applying_what_is_live_changes_nothing() {
    let deploy = kind("apps", "v1", "Deployment");
    let live = json!({"metadata": {"name": "d", "labels": {"a": "1"}, "finalizers": ["x"]},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "a", "image": "1", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "b", "image": "2"}]}}}});
    let config = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "b", "image": "2"}, {"name": "a", "ports": [{"containerPort": 80}]}]}}}});
    let merged = merge(&live, &config, deploy.at_root()).unwrap();
    // The configuration names b before a, so they swap; nothing else changes.
    assert_eq!(names(&merged), ["b", "a"]);
    let same = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 2}});
    assert_eq!(merge(&live, &same, deploy.at_root()).unwrap(), live);
    let config_set = crate::apply::walk::fieldset(&config, deploy.at_root()).unwrap();
    let merged_set = crate::apply::walk::fieldset(&merged, deploy.at_root()).unwrap();
    assert!(config_set.difference(&merged_set).is_empty(), "the merge keeps all the config sets");
}
