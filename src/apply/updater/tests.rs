//! Tests of the field manager's update and apply: the set algebra on hand-made comparisons, and
//! the object-level rules (which entries count, the checks of an apply).

use serde_json::{Value, json};

use super::*;
use crate::apply::{ApplyError, FieldManager, Now, Path, TypeRoot};

const NOW: &str = "2026-12-07T06:30:00Z";

fn now() -> Now {
    Now(NOW.to_owned())
}

fn set(paths: &[&[&str]]) -> Set {
    let mut set = Set::new();
    for path in paths {
        set.insert(&Path::fields(path).0);
    }
    set
}

fn owner(manager: &str, operation: Operation, fields: &[&[&str]], time: &str) -> Entry {
    Entry {
        fields: set(fields),
        time: Some(time.to_owned()),
        ..Entry::new(manager, operation, "v1", "")
    }
}

fn comparison(added: &[&[&str]], modified: &[&[&str]], removed: &[&[&str]]) -> Comparison {
    Comparison { added: set(added), modified: set(modified), removed: set(removed) }
}

fn fm() -> FieldManager {
    FieldManager::new(TypeRoot::Deduced, "v1", "", &[])
}

#[test]
fn an_update_gives_the_writer_what_it_added_or_modified() {
    let mut managed = Managed::default();
    let writer = Entry::new("kubectl-create", Operation::Update, "v1", "");
    let cmp = comparison(&[&["data"], &["data", "a"], &["metadata", "labels", "x"]], &[], &[]);
    take_over(&mut managed, writer, &cmp, &now());
    assert_eq!(managed.entries.len(), 1);
    let entry = &managed.entries[0];
    assert_eq!(entry.manager, "kubectl-create");
    assert_eq!(entry.time.as_deref(), Some(NOW));
    assert_eq!(entry.fields, set(&[&["data"], &["data", "a"], &["metadata", "labels", "x"]]));
}

#[test]
fn an_update_takes_changed_fields_from_every_other_owner() {
    let mut managed = Managed {
        entries: vec![
            owner(
                "applier",
                Operation::Apply,
                &[&["data", "a"], &["data", "b"]],
                "2026-01-01T00:00:00Z",
            ),
            owner("other", Operation::Update, &[&["data", "c"]], "2026-01-01T00:00:00Z"),
        ],
    };
    let writer = Entry::new("editor", Operation::Update, "v1", "");
    take_over(&mut managed, writer, &comparison(&[], &[&["data", "a"]], &[&["data", "c"]]), &now());
    let applier = managed.find(&Entry::new("applier", Operation::Apply, "v1", "")).unwrap();
    assert_eq!(applier.fields, set(&[&["data", "b"]]));
    assert_eq!(
        applier.time.as_deref(),
        Some("2026-01-01T00:00:00Z"),
        "losing a field keeps the time"
    );
    assert!(managed.find(&Entry::new("other", Operation::Update, "v1", "")).is_none(), "emptied");
    let editor = managed.find(&Entry::new("editor", Operation::Update, "v1", "")).unwrap();
    assert_eq!(editor.fields, set(&[&["data", "a"]]));
}

#[test]
fn an_update_adds_to_the_writers_earlier_entry() {
    let mut managed = Managed {
        entries: vec![owner("ctrl", Operation::Update, &[&["data", "a"]], "2026-01-01T00:00:00Z")],
    };
    take_over(
        &mut managed,
        Entry::new("ctrl", Operation::Update, "v1", ""),
        &comparison(&[&["data", "b"]], &[], &[]),
        &now(),
    );
    assert_eq!(managed.entries.len(), 1);
    assert_eq!(managed.entries[0].fields, set(&[&["data", "a"], &["data", "b"]]));
    assert_eq!(managed.entries[0].time.as_deref(), Some(NOW));
}

#[test]
fn an_update_changing_only_identity_fields_leaves_the_entries_alone() {
    let before = Managed {
        entries: vec![owner("ctrl", Operation::Update, &[&["data", "a"]], "2026-01-01T00:00:00Z")],
    };
    let mut managed = before.clone();
    let cmp =
        comparison(&[], &[&["metadata", "resourceVersion"], &["metadata", "generation"]], &[]);
    take_over(&mut managed, Entry::new("ctrl", Operation::Update, "v1", ""), &cmp, &now());
    assert_eq!(managed, before, "no new time either");
}

#[test]
fn an_updater_in_another_version_is_another_owner() {
    let mut managed = Managed {
        entries: vec![owner("ctrl", Operation::Update, &[&["data", "a"]], "2026-01-01T00:00:00Z")],
    };
    let writer = Entry::new("ctrl", Operation::Update, "v2", "");
    take_over(&mut managed, writer, &comparison(&[&["data", "b"]], &[], &[]), &now());
    assert_eq!(managed.entries.len(), 2);
}

#[test]
fn an_apply_changing_another_owners_field_conflicts() {
    let mut managed = Managed {
        entries: vec![
            owner("b-updater", Operation::Update, &[&["spec", "replicas"]], "2026-01-01T00:00:00Z"),
            owner(
                "a-applier",
                Operation::Apply,
                &[&["spec", "paused"], &["spec", "minReadySeconds"]],
                "2026-01-01T00:00:00Z",
            ),
            owner(
                "mine",
                Operation::Apply,
                &[&["spec", "replicas"], &["spec", "paused"], &["spec", "minReadySeconds"]],
                NOW,
            ),
        ],
    };
    let applier = Entry::new("mine", Operation::Apply, "v1", "");
    let cmp = comparison(
        &[],
        &[&["spec", "replicas"], &["spec", "paused"], &["spec", "minReadySeconds"]],
        &[],
    );
    let before = managed.clone();
    let Err(ApplyError::Conflicts(conflicts)) = apply_entries(&mut managed, &applier, &cmp, false)
    else {
        panic!("expected conflicts");
    };
    assert_eq!(managed, before, "a refused apply changes nothing");
    let listed: Vec<String> =
        conflicts.iter().map(|c| format!("{} {}", c.manager, c.path)).collect();
    assert_eq!(
        listed,
        [
            "\"a-applier\" .spec.minReadySeconds",
            "\"a-applier\" .spec.paused",
            "\"b-updater\" using v1 .spec.replicas",
        ]
    );
}

#[test]
fn a_forced_apply_takes_the_conflicting_fields() {
    let mut managed = Managed {
        entries: vec![
            owner(
                "updater",
                Operation::Update,
                &[&["spec", "replicas"], &["spec", "paused"]],
                "2026-01-01T00:00:00Z",
            ),
            owner("mine", Operation::Apply, &[&["spec", "replicas"]], NOW),
        ],
    };
    let applier = Entry::new("mine", Operation::Apply, "v1", "");
    apply_entries(&mut managed, &applier, &comparison(&[], &[&["spec", "replicas"]], &[]), true)
        .unwrap();
    let updater = managed.find(&Entry::new("updater", Operation::Update, "v1", "")).unwrap();
    assert_eq!(updater.fields, set(&[&["spec", "paused"]]));
    assert_eq!(updater.time.as_deref(), Some("2026-01-01T00:00:00Z"));
}

#[test]
fn applying_a_value_someone_else_set_the_same_way_is_shared_ownership() {
    let mut managed = Managed {
        entries: vec![
            owner("other", Operation::Apply, &[&["data", "a"]], "2026-01-01T00:00:00Z"),
            owner("mine", Operation::Apply, &[&["data", "a"]], NOW),
        ],
    };
    let applier = Entry::new("mine", Operation::Apply, "v1", "");
    apply_entries(&mut managed, &applier, &Comparison::default(), false).unwrap();
    assert_eq!(managed.entries.len(), 2, "both own data.a");
}

#[test]
fn fields_removed_by_an_apply_leave_every_owner() {
    let mut managed = Managed {
        entries: vec![
            owner(
                "updater",
                Operation::Update,
                &[&["data", "gone"], &["data", "kept"]],
                "2026-01-01T00:00:00Z",
            ),
            owner("mine", Operation::Apply, &[&["data", "new"]], NOW),
        ],
    };
    let applier = Entry::new("mine", Operation::Apply, "v1", "");
    let cmp = comparison(&[&["data", "new"]], &[], &[&["data", "gone"]]);
    apply_entries(&mut managed, &applier, &cmp, false).unwrap();
    let updater = managed.find(&Entry::new("updater", Operation::Update, "v1", "")).unwrap();
    assert_eq!(updater.fields, set(&[&["data", "kept"]]));
}

#[test]
fn conflicts_with_subresource_owners_name_the_subresource() {
    let mut scaler =
        owner("hpa", Operation::Update, &[&["spec", "replicas"]], "2026-01-01T00:00:00Z");
    scaler.subresource = "scale".into();
    scaler.api_version = "apps/v1".into();
    let mut managed = Managed { entries: vec![scaler] };
    let applier = Entry::new("mine", Operation::Apply, "apps/v1", "");
    let Err(ApplyError::Conflicts(conflicts)) = apply_entries(
        &mut managed,
        &applier,
        &comparison(&[], &[&["spec", "replicas"]], &[]),
        false,
    ) else {
        panic!("expected a conflict");
    };
    assert_eq!(conflicts[0].manager, "\"hpa\" with subresource \"scale\" using apps/v1");
}

#[test]
fn an_apply_in_another_version_is_refused() {
    let config =
        json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "d"}});
    let fm = FieldManager::new(TypeRoot::Deduced, "apps/v1", "", &[]);
    let error = fm.apply(&Value::Null, config, "m", false, &now()).unwrap_err();
    assert_eq!(
        error,
        ApplyError::BadRequest("invalid object type: apps/v1beta1, Kind=Deployment".into())
    );
    let core = json!({"apiVersion": "v2", "kind": "Pod"});
    let error = fm.apply(&Value::Null, core, "m", false, &now()).unwrap_err();
    assert_eq!(error, ApplyError::BadRequest("invalid object type: /v2, Kind=Pod".into()));
}

#[test]
fn an_apply_may_not_carry_managed_fields() {
    for entries in [json!([]), json!([{"manager": "m"}])] {
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "managedFields": entries}});
        let error = fm().apply(&Value::Null, config, "m", false, &now()).unwrap_err();
        assert_eq!(error, ApplyError::BadRequest("metadata.managedFields must be nil".into()));
    }
    let null = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "managedFields": null}});
    assert!(fm().apply(&Value::Null, null, "m", false, &now()).is_ok());
}

#[test]
fn an_object_without_metadata_is_left_as_it_is() {
    let mut new = json!({"data": {"a": "b"}});
    fm().update(&Value::Null, &mut new, "m", &now());
    assert_eq!(new, json!({"data": {"a": "b"}}));
}

#[test]
fn an_update_of_an_untracked_object_leaves_it_untracked() {
    let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "uid": "u-1"}, "data": {"a": "1"}});
    let mut new = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "uid": "u-1", "managedFields": [{}]}, "data": {"a": "2"}});
    fm().update(&live, &mut new, "editor", &now());
    assert_eq!(new["metadata"].get("managedFields"), None);
}

#[test]
fn unreadable_entries_in_a_write_fall_back_to_the_live_objects() {
    let live_entries = json!([{"manager": "m", "operation": "Update", "apiVersion": "v1",
        "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {}}]);
    let live = json!({"metadata": {"name": "c", "uid": "u", "managedFields": live_entries}});
    let mut new = json!({"metadata": {"name": "c", "uid": "u",
        "managedFields": [{"manager": "m", "operation": "Patch"}]}});
    let fm = fm();
    assert!(
        entries_for_update(&fm, &live, &new).entries.len()
            == managed::decode(&live).unwrap().entries.len()
    );
    fm.update(&live, &mut new, "editor", &now());
    assert!(
        new["metadata"]["managedFields"]
            .as_array()
            .is_none_or(|a| a.iter().all(|e| e["operation"] != "Patch"))
    );
}

#[test]
fn through_a_subresource_the_writes_own_entries_are_ignored() {
    let live = json!({"metadata": {"uid": "u"}});
    let new = json!({"metadata": {"uid": "u", "managedFields": [{"manager": "m", "operation": "Update",
        "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {}}]}});
    let status = FieldManager::new(TypeRoot::Deduced, "v1", "status", &[]);
    assert!(entries_for_update(&status, &live, &new).is_empty());
    assert!(
        entries_for_update(&fm(), &live, &json!({"metadata": {"managedFields": []}})).is_empty()
    );
}

#[test]
fn a_write_without_a_manager_is_by_unknown() {
    assert_eq!(manager_name(""), "unknown");
    assert_eq!(manager_name("m"), "m");
}
