//! Whole sequences of writes to one object, their `managedFields` compared with what
//! kube-apiserver writes. The facts, as the kubernetes.io "Server-Side Apply" page and kube's
//! field manager state them:
//! - a create by `kubectl create` is an Update entry owning every field it set, maps it created
//!   marked with `.`;
//! - an apply owns exactly the fields of its configuration (no `.` for the maps holding them);
//! - re-applying the same configuration writes nothing;
//! - changing a field another manager owns is a conflict naming it, unless forced, which moves
//!   the field to the applier; an update simply takes the field;
//! - a field an applier stops applying is removed, unless another applier still applies it;
//! - an object nobody tracked is owned by `before-first-apply` from its first apply;
//! - an entry's time changes only when its manager changes the object.

use serde_json::{Value, json};

use crate::apply::{ApplyError, FieldManager, Now, TypeRoot, conflict};

const T0: &str = "2026-12-07T06:00:00Z";
const T1: &str = "2026-12-07T06:01:00Z";
const T2: &str = "2026-12-07T06:02:00Z";

fn at(time: &str) -> Now {
    Now(time.to_owned())
}

fn configmaps() -> FieldManager {
    let root = TypeRoot::builtin("", "v1", "ConfigMap").expect("ConfigMap is a built-in kind");
    FieldManager::new(root, "v1", "", &[])
}

fn config(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default"}, "data": data})
}

/// What the store adds to a created object (the field manager runs before it).
fn stored(mut object: Value) -> Value {
    object["metadata"]["uid"] = json!("0b0b0b0b-0000-4000-8000-000000000000");
    object["metadata"]["resourceVersion"] = json!("7");
    object["metadata"]["creationTimestamp"] = json!(T0);
    object
}

fn entries(object: &Value) -> Value {
    object["metadata"].get("managedFields").cloned().unwrap_or(Value::Null)
}

fn managers(object: &Value) -> Vec<String> {
    let entries = entries(object);
    entries.as_array().unwrap().iter().map(|e| e["manager"].as_str().unwrap().to_owned()).collect()
}

fn conflict_message(error: ApplyError) -> String {
    match error {
        ApplyError::Conflicts(conflicts) => conflict::conflict_error(&conflicts).message,
        other => panic!("expected conflicts, got {other:?}"),
    }
}

#[test]
fn kubectl_create_owns_what_it_set_with_its_maps() {
    let mut new = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default", "labels": {"app": "web"}},
        "data": {"key": "some value"}});
    configmaps().update(&Value::Null, &mut new, "kubectl-create", &at(T0));
    assert_eq!(
        entries(&new),
        json!([{
            "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:key": {}},
                         "f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
        }])
    );
}

#[test]
fn an_apply_owns_exactly_its_configuration_and_a_reapply_writes_nothing() {
    let fm = configmaps();
    let mut applied = config(json!({"key": "some value"}));
    applied["metadata"]["labels"] = json!({"test-label": "test"});
    let created =
        fm.apply(&Value::Null, applied.clone(), "kubectl", false, &at(T0)).unwrap().unwrap();
    assert_eq!(
        entries(&created),
        json!([{
            "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}},
        }])
    );
    assert_eq!(created["data"], json!({"key": "some value"}));
    let live = stored(created);
    assert_eq!(fm.apply(&live, applied, "kubectl", false, &at(T1)).unwrap(), None);
}

#[test]
fn changing_another_appliers_field_conflicts_unless_forced() {
    let fm = configmaps();
    let live = stored(
        fm.apply(&Value::Null, config(json!({"key": "a"})), "kubectl", false, &at(T0))
            .unwrap()
            .unwrap(),
    );
    let error = fm.apply(&live, config(json!({"key": "b"})), "ctrl", false, &at(T1)).unwrap_err();
    assert_eq!(
        conflict_message(error),
        "Apply failed with 1 conflict: conflict with \"kubectl\": .data.key"
    );

    let forced =
        fm.apply(&live, config(json!({"key": "b"})), "ctrl", true, &at(T1)).unwrap().unwrap();
    assert_eq!(forced["data"], json!({"key": "b"}));
    assert_eq!(
        entries(&forced),
        json!([{
            "manager": "ctrl", "operation": "Apply", "apiVersion": "v1", "time": T1,
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:key": {}}},
        }]),
        "kubectl owned nothing else, so its entry is gone"
    );
}

#[test]
fn applying_the_same_value_shares_the_field() {
    let fm = configmaps();
    let live = stored(
        fm.apply(&Value::Null, config(json!({"key": "a"})), "one", false, &at(T0))
            .unwrap()
            .unwrap(),
    );
    let shared =
        fm.apply(&live, config(json!({"key": "a"})), "two", false, &at(T1)).unwrap().unwrap();
    let managers = managers(&shared);
    assert_eq!(
        managers,
        ["two", "one"],
        "no time for two (the object did not change): it sorts first"
    );
    assert_eq!(entries(&shared)[0].get("time"), None);
}

#[test]
fn an_update_takes_the_field_and_the_applier_then_conflicts_with_it() {
    let fm = configmaps();
    let live = stored(
        fm.apply(
            &Value::Null,
            config(json!({"key": "a", "other": "x"})),
            "kubectl",
            false,
            &at(T0),
        )
        .unwrap()
        .unwrap(),
    );
    let mut edited = live.clone();
    edited["data"]["key"] = json!("edited");
    fm.update(&live, &mut edited, "kube-controller-manager", &at(T1));
    assert_eq!(
        entries(&edited),
        json!([
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T0,
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:other": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
             "time": T1, "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:key": {}}}},
        ])
    );
    let error = fm
        .apply(&edited, config(json!({"key": "a", "other": "x"})), "kubectl", false, &at(T2))
        .unwrap_err();
    assert_eq!(
        conflict_message(error),
        "Apply failed with 1 conflict: conflict with \"kube-controller-manager\" using v1: .data.key"
    );
}

#[test]
fn a_field_the_applier_stops_applying_is_removed_unless_another_applier_has_it() {
    let fm = configmaps();
    let live = stored(
        fm.apply(&Value::Null, config(json!({"a": "1", "b": "2"})), "one", false, &at(T0))
            .unwrap()
            .unwrap(),
    );
    let live =
        stored(fm.apply(&live, config(json!({"b": "2"})), "two", false, &at(T1)).unwrap().unwrap());
    let after = fm.apply(&live, config(json!({})), "one", false, &at(T2)).unwrap().unwrap();
    assert_eq!(after["data"], json!({"b": "2"}), "a dropped, b kept for two");
    assert_eq!(
        entries(&after),
        json!([
            // two's apply changed nothing (b held its value): no time.
            {"manager": "two", "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:b": {}}}},
            // An empty map applied is itself a field its applier owns.
            {"manager": "one", "operation": "Apply", "apiVersion": "v1", "time": T2,
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}},
        ])
    );
}

#[test]
fn an_untracked_object_is_owned_by_before_first_apply_from_its_first_apply() {
    let fm = configmaps();
    let live = stored(config(json!({"key": "old", "mine": "x"})));
    let error = fm.apply(&live, config(json!({"key": "new"})), "ctrl", false, &at(T1)).unwrap_err();
    assert_eq!(
        conflict_message(error),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.key"
    );
    let same =
        fm.apply(&live, config(json!({"key": "old"})), "ctrl", false, &at(T1)).unwrap().unwrap();
    assert_eq!(
        entries(&same),
        json!([
            {"manager": "ctrl", "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:key": {}}}},
            {"manager": "before-first-apply", "operation": "Update", "apiVersion": "v1", "time": T1,
             "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {".": {}, "f:key": {}, "f:mine": {}}}},
        ])
    );
}

#[test]
fn kubectl_takes_over_what_its_client_side_apply_set() {
    let fm = configmaps();
    let mut live = config(json!({"key": "old"}));
    live["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            "{\"apiVersion\":\"v1\",\"data\":{\"key\":\"old\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"test-cm\",\"namespace\":\"default\"}}\n"
    });
    let live = stored(live);
    let applied =
        fm.apply(&live, config(json!({"key": "new"})), "kubectl", false, &at(T1)).unwrap().unwrap();
    assert_eq!(applied["data"], json!({"key": "new"}));
    assert_eq!(
        applied["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"apiVersion\":\"v1\",\"data\":{\"key\":\"new\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"test-cm\",\"namespace\":\"default\"}}\n"
    );
    // Another manager gets no such pass.
    let error = fm.apply(&live, config(json!({"key": "new"})), "helm", false, &at(T1)).unwrap_err();
    assert!(conflict_message(error).contains("before-first-apply"));
}

#[test]
fn only_the_entries_that_change_get_a_new_time() {
    let fm = configmaps();
    let live = stored(
        fm.apply(&Value::Null, config(json!({"a": "1"})), "one", false, &at(T0)).unwrap().unwrap(),
    );
    let live =
        stored(fm.apply(&live, config(json!({"b": "2"})), "two", false, &at(T1)).unwrap().unwrap());
    let entries = entries(&live);
    let times: Vec<(&str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["manager"].as_str().unwrap(), e["time"].as_str().unwrap()))
        .collect();
    assert_eq!(times, [("one", T0), ("two", T1)]);
}

#[test]
fn clearing_the_entries_leaves_the_object_untracked() {
    let fm = configmaps();
    let live = stored(
        fm.apply(&Value::Null, config(json!({"a": "1"})), "one", false, &at(T0)).unwrap().unwrap(),
    );
    let mut cleared = live.clone();
    cleared["metadata"]["managedFields"] = json!([{}]);
    fm.update(&live, &mut cleared, "kubectl-edit", &at(T1));
    assert_eq!(cleared["metadata"].get("managedFields"), None);
}

#[test]
fn entries_sent_with_an_update_replace_the_live_ones() {
    let fm = configmaps();
    let live = stored(
        fm.apply(&Value::Null, config(json!({"a": "1"})), "one", false, &at(T0)).unwrap().unwrap(),
    );
    let mut new = live.clone();
    new["metadata"]["managedFields"] = json!([{"manager": "someone", "operation": "Update",
        "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]);
    fm.update(&live, &mut new, "kubectl-replace", &at(T1));
    assert_eq!(entries(&new)[0]["manager"], "someone");
    assert_eq!(entries(&new).as_array().unwrap().len(), 1, "nothing changed, so nobody else");
}

#[test]
fn a_status_write_does_not_own_spec_and_the_main_resource_not_status() {
    let root = TypeRoot::builtin("apps", "v1", "Deployment").expect("Deployment");
    let main = FieldManager::new(root.clone(), "apps/v1", "", &[&["status"]]);
    let status = FieldManager::new(root, "apps/v1", "status", &[&["spec"], &["metadata"]]);
    let deployment = |replicas: i64, ready: i64| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": replicas}, "status": {"readyReplicas": ready}})
    };
    let mut created = deployment(1, 0);
    main.update(&Value::Null, &mut created, "kubectl-create", &at(T0));
    let live = stored(created);
    assert_eq!(entries(&live)[0]["fieldsV1"], json!({"f:spec": {".": {}, "f:replicas": {}}}));
    let mut reported = deployment(2, 1);
    reported["metadata"] = live["metadata"].clone();
    status.update(&live, &mut reported, "controller", &at(T1));
    let controller = entries(&reported)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "controller")
        .cloned()
        .unwrap();
    assert_eq!(controller["subresource"], "status");
    assert_eq!(controller["fieldsV1"], json!({"f:status": {"f:readyReplicas": {}}}));
}

fn deployments() -> FieldManager {
    let root = TypeRoot::builtin("apps", "v1", "Deployment").expect("Deployment");
    FieldManager::new(root, "apps/v1", "", &[&["status"]])
}

fn with_containers(names: &[&str]) -> Value {
    let containers: Vec<Value> =
        names.iter().map(|n| json!({"name": n, "image": format!("{n}:1")})).collect();
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": containers}}}})
}

#[test]
fn appliers_of_different_list_items_each_own_theirs() {
    let fm = deployments();
    let live = stored(
        fm.apply(&Value::Null, with_containers(&["a"]), "one", false, &at(T0)).unwrap().unwrap(),
    );
    let live =
        stored(fm.apply(&live, with_containers(&["b"]), "two", false, &at(T1)).unwrap().unwrap());
    let names = |object: &Value| -> Vec<String> {
        object["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&live), ["a", "b"]);
    assert_eq!(
        entries(&live)[1]["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"b\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    // one stops applying its container: it goes, two's stays.
    let mut empty = with_containers(&[]);
    empty["spec"]["template"]["spec"].as_object_mut().unwrap().shift_remove("containers");
    let after = fm.apply(&live, empty, "one", false, &at(T2)).unwrap().unwrap();
    assert_eq!(names(&after), ["b"]);
}

#[test]
fn the_main_resource_never_owns_status() {
    let fm = deployments();
    let mut config = with_containers(&["a"]);
    config["status"] = json!({"replicas": 3});
    let created = fm.apply(&Value::Null, config, "one", false, &at(T0)).unwrap().unwrap();
    assert!(entries(&created)[0]["fieldsV1"].get("f:status").is_none());
}

#[test]
fn an_eleventh_updater_folds_the_oldest_into_ancient_changes() {
    let fm = configmaps();
    let mut live = Value::Null;
    for i in 0..11 {
        let mut new = if live.is_null() { config(json!({})) } else { live.clone() };
        new["data"][format!("k{i}")] = json!("v");
        fm.update(
            &live,
            &mut new,
            &format!("writer-{i:02}"),
            &at(&format!("2026-12-07T06:{i:02}:00Z")),
        );
        live = stored(new);
    }
    let managers = managers(&live);
    assert_eq!(managers.len(), 10);
    assert_eq!(managers[0], "ancient-changes");
    assert_eq!(entries(&live)[0]["time"], "2026-12-07T06:01:00Z");
    assert_eq!(entries(&live)[0]["fieldsV1"], json!({"f:data": {".": {}, "f:k0": {}, "f:k1": {}}}));
    assert_eq!(managers[9], "writer-10");
}

#[test]
fn kubectl_is_forgiven_only_what_its_last_client_side_apply_still_holds() {
    let fm = configmaps();
    let mut live = config(json!({"key": "changed-since", "other": "x"}));
    live["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            "{\"apiVersion\":\"v1\",\"data\":{\"key\":\"old\",\"other\":\"x\"},\"kind\":\"ConfigMap\"}\n"
    });
    let live = stored(live);
    let error = fm
        .apply(&live, config(json!({"key": "new", "other": "y"})), "kubectl", false, &at(T1))
        .unwrap_err();
    assert_eq!(
        conflict_message(error),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.key",
        "data.other is forgiven (still as last applied), data.key is not (changed since)"
    );
}
