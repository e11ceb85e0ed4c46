//! Tests of the entries' mapping between a workload and its Scale.

use serde_json::json;

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
