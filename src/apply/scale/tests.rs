//! Tests of the entries' mapping between a workload and its Scale.

use serde_json::{Value, json};

use super::*;

const REPLICAS: &[&str] = &["spec", "replicas"];

#[test]
fn a_parent_without_entries_gives_a_scale_without_entries() {
    let parent = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
    assert_eq!(to_subresource(&parent, REPLICAS), json!([]));
}

#[test]
fn unreadable_entries_leave_the_parents_as_they_are() {
    let entries = json!([{"manager": "m", "operation": "Patch"}]);
    let parent = json!({"metadata": {"managedFields": entries}});
    let scale = json!({"metadata": {}});
    assert_eq!(to_parent(&parent, &scale, "apps/v1", REPLICAS), entries);
}

fn deployment_entries() -> Value {
    json!([
        {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
         "time": "2026-12-07T06:00:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}},
        {"manager": "ctrl", "operation": "Update", "apiVersion": "apps/v1",
         "time": "2026-12-07T06:01:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:status": {"f:replicas": {}}}, "subresource": "status"},
    ])
}

#[test]
fn the_scale_shows_the_owners_of_the_replicas() {
    let parent = json!({"metadata": {"managedFields": deployment_entries()}});
    assert_eq!(
        to_subresource(&parent, REPLICAS),
        json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": "autoscaling/v1",
            "time": "2026-12-07T06:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}}}])
    );
}

#[test]
fn a_scale_write_takes_the_replicas_in_the_parent() {
    let parent = json!({"metadata": {"managedFields": deployment_entries()}});
    // The Scale's field manager gave the replicas to `hpa` (an Update through `scale`).
    let scale = json!({"metadata": {"managedFields": [
        {"manager": "hpa", "operation": "Update", "apiVersion": "autoscaling/v1",
         "time": "2026-12-07T06:05:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"}]}});
    assert_eq!(
        to_parent(&parent, &scale, "apps/v1", REPLICAS),
        json!([
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
             "time": "2026-12-07T06:00:00Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:paused": {}}}},
            // kube looks the time up among the parent's entries under the Scale's owner: none.
            {"manager": "hpa", "operation": "Update", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
             "subresource": "scale"},
            {"manager": "ctrl", "operation": "Update", "apiVersion": "apps/v1",
             "time": "2026-12-07T06:01:00Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:status": {"f:replicas": {}}}, "subresource": "status"},
        ])
    );
}

#[test]
fn an_owner_still_owning_the_scales_replicas_keeps_its_entry() {
    let parent = json!({"metadata": {"managedFields": deployment_entries()}});
    let scale = json!({"metadata": {"managedFields": to_subresource(&parent, REPLICAS)}});
    assert_eq!(to_parent(&parent, &scale, "apps/v1", REPLICAS), deployment_entries());
}

#[test]
fn a_scale_write_through_the_scales_field_manager_moves_the_replicas() {
    use crate::apply::{FieldManager, Now, TypeRoot};
    let deployments = FieldManager::new(
        TypeRoot::builtin("apps", "v1", "Deployment").unwrap(),
        "apps/v1",
        "",
        &[&["status"]],
    );
    let scales = FieldManager::new(
        TypeRoot::builtin("autoscaling", "v1", "Scale").unwrap(),
        SCALE_API_VERSION,
        "scale",
        &[],
    );
    let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "paused": false}});
    let now = Now("2026-12-07T06:00:00Z".into());
    let mut parent =
        deployments.apply(&Value::Null, config, "kubectl", false, &now).unwrap().unwrap();
    parent["metadata"]["uid"] = json!("u-1");

    let old_scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "d", "uid": "u-1", "managedFields": to_subresource(&parent, REPLICAS)},
        "spec": {"replicas": 1}});
    let mut new_scale = old_scale.clone();
    new_scale["spec"]["replicas"] = json!(5);
    scales.update(&old_scale, &mut new_scale, "hpa", &Now("2026-12-07T06:05:00Z".into()));

    assert_eq!(
        to_parent(&parent, &new_scale, "apps/v1", REPLICAS),
        json!([
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
             "time": "2026-12-07T06:00:00Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:paused": {}}}},
            {"manager": "hpa", "operation": "Update", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
             "subresource": "scale"},
        ])
    );
}
