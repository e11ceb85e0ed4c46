//! Tests of `managedFields` decoding, encoding, order and bookkeeping.

use serde_json::json;

use super::*;
use crate::apply::Path;

fn set(paths: &[&[&str]]) -> Set {
    let mut set = Set::new();
    for path in paths {
        set.insert(&Path::fields(path).0);
    }
    set
}

fn entry(manager: &str, operation: Operation, time: Option<&str>, fields: &[&[&str]]) -> Entry {
    Entry {
        time: time.map(str::to_owned),
        fields: set(fields),
        ..Entry::new(manager, operation, "v1", "")
    }
}

fn names(managed: &Managed) -> Vec<String> {
    managed.entries.iter().map(|e| format!("{}@{}", e.manager, e.api_version)).collect()
}

#[test]
fn an_entry_is_written_with_kubes_keys_in_kubes_order() {
    let mut e =
        entry("kubectl", Operation::Update, Some("2026-12-07T06:30:00Z"), &[&["data", "x"]]);
    e.subresource = "status".into();
    let keys: Vec<String> = e.to_json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource"]
    );
    assert_eq!(e.to_json()["fieldsType"], "FieldsV1");
    assert_eq!(e.to_json()["operation"], "Update");
}

#[test]
fn time_and_subresource_are_left_out_when_empty() {
    let e = entry("ctrl", Operation::Apply, None, &[&["data"]]);
    let keys: Vec<String> = e.to_json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["manager", "operation", "apiVersion", "fieldsType", "fieldsV1"]);
}

#[test]
fn entries_sort_apply_first_then_oldest_then_by_manager_version_and_subresource() {
    let mut managed = Managed {
        entries: vec![
            entry("b", Operation::Update, Some("2026-12-07T06:00:00Z"), &[&["a"]]),
            entry("a", Operation::Update, Some("2026-12-07T07:00:00Z"), &[&["a"]]),
            entry("z", Operation::Apply, Some("2026-12-07T08:00:00Z"), &[&["a"]]),
            entry("c", Operation::Update, Some("2026-12-07T06:00:00Z"), &[&["a"]]),
            entry("y", Operation::Apply, None, &[&["a"]]),
            Entry {
                api_version: "apps/v1".into(),
                ..entry("c", Operation::Update, Some("2026-12-07T06:00:00Z"), &[&["a"]])
            },
        ],
    };
    managed.sort();
    assert_eq!(names(&managed), ["y@v1", "z@v1", "b@v1", "c@apps/v1", "c@v1", "a@v1"]);
}

#[test]
fn owners_are_told_apart_as_kube_tells_them_apart() {
    let apply_v1 = Entry::new("m", Operation::Apply, "v1", "");
    let apply_v2 = Entry::new("m", Operation::Apply, "v2", "");
    let update_v1 = Entry::new("m", Operation::Update, "v1", "");
    let update_v2 = Entry::new("m", Operation::Update, "v2", "");
    let status = Entry::new("m", Operation::Apply, "v1", "status");
    assert!(apply_v1.same_owner(&apply_v2), "an applier is one owner in every version");
    assert!(!update_v1.same_owner(&update_v2), "an updater is one owner per version");
    assert!(!apply_v1.same_owner(&update_v1));
    assert!(!apply_v1.same_owner(&status));
}

#[test]
fn identifiers_are_gos_json_of_the_owner() {
    assert_eq!(
        Entry::new("m", Operation::Update, "apps/v1", "scale").identifier(),
        r#"{"manager":"m","operation":"Update","apiVersion":"apps/v1","subresource":"scale"}"#
    );
    assert_eq!(
        Entry::new("a<b", Operation::Apply, "apps/v1", "").identifier(),
        r#"{"manager":"a\u003cb","operation":"Apply"}"#
    );
}

#[test]
fn encoding_sorts_drops_empty_entries_and_keeps_the_keys_place() {
    let mut object = json!({"metadata": {"name": "n", "managedFields": [], "labels": {"a": "b"}}});
    let managed = Managed {
        entries: vec![
            entry("late", Operation::Update, Some("2026-12-07T07:00:00Z"), &[&["data", "x"]]),
            entry("empty", Operation::Update, Some("2026-12-07T06:00:00Z"), &[]),
            entry("early", Operation::Update, Some("2026-12-07T06:00:00Z"), &[&["data", "y"]]),
        ],
    };
    encode_into(&mut object, &managed);
    let metadata = object["metadata"].as_object().unwrap();
    assert_eq!(metadata.keys().collect::<Vec<_>>(), ["name", "managedFields", "labels"]);
    let managers: Vec<&str> = object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["early", "late"]);
}

#[test]
fn no_entries_remove_the_key() {
    let mut object = json!({"metadata": {"name": "n", "managedFields": [{"manager": "x"}]}});
    encode_into(&mut object, &Managed::default());
    assert_eq!(object, json!({"metadata": {"name": "n"}}));
}

#[test]
fn an_object_without_entries_has_none() {
    assert!(decode(&json!({"metadata": {"name": "n"}})).unwrap().is_empty());
    assert!(decode(&json!({"metadata": {"managedFields": null}})).unwrap().is_empty());
    assert!(decode(&json!({})).unwrap().is_empty());
}

#[test]
fn entries_are_read_with_their_owner_and_time() {
    let object = json!({"metadata": {"managedFields": [
        {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
         "time": "2026-12-07T06:30:00Z", "fieldsType": "FieldsV1", "fieldsV1": {},
         "subresource": "scale"},
        {"manager": "ctrl", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1"},
    ]}});
    let managed = decode(&object).unwrap();
    assert_eq!(managed.entries.len(), 2);
    let first = &managed.entries[0];
    assert_eq!(
        (
            first.manager.as_str(),
            first.operation,
            first.api_version.as_str(),
            first.subresource.as_str()
        ),
        ("kubectl", Operation::Apply, "apps/v1", "scale")
    );
    assert_eq!(first.time.as_deref(), Some("2026-12-07T06:30:00Z"));
    assert_eq!(first.seconds(), 1_796_625_000);
    assert_eq!(managed.entries[1].time, None);
    assert_eq!(managed.entries[1].seconds(), 0);
}

#[test]
fn unreadable_entries_fail_with_kubes_messages() {
    let cases = [
        (
            json!({"operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"}),
            "operation must be `Apply` or `Update`",
        ),
        (json!({"operation": "Update", "fieldsType": "FieldsV1"}), "apiVersion must not be empty"),
        (
            json!({"operation": "Update", "apiVersion": "v1"}),
            "missing fieldsType in managed fields entry 0",
        ),
        (
            json!({"operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV2"}),
            "invalid fieldsType \"FieldsV2\" in managed fields entry 0",
        ),
    ];
    for (item, message) in cases {
        let object = json!({"metadata": {"managedFields": [item]}});
        assert_eq!(decode(&object).unwrap_err().0, message);
    }
    let not_a_list = json!({"metadata": {"managedFields": {}}});
    assert!(decode(&not_a_list).is_err());
    let bad_fields = json!({"metadata": {"managedFields": [
        {"operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": "x"}]}});
    assert!(decode(&bad_fields).is_err(), "a fieldsV1 that is not an object");
}

#[test]
fn a_later_entry_of_the_same_owner_replaces_an_earlier_one() {
    let object = json!({"metadata": {"managedFields": [
        {"manager": "m", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "time": "2026-01-01T00:00:00Z"},
        {"manager": "m", "operation": "Apply", "apiVersion": "v2", "fieldsType": "FieldsV1", "time": "2026-02-01T00:00:00Z"},
    ]}});
    let managed = decode(&object).unwrap();
    assert_eq!(managed.entries.len(), 1);
    assert_eq!(managed.entries[0].api_version, "v2");
}

#[test]
fn clearing_is_an_empty_list_or_one_empty_entry() {
    assert!(is_reset(&json!({"metadata": {"managedFields": []}})));
    assert!(is_reset(&json!({"metadata": {"managedFields": [{}]}})));
    assert!(is_reset(&json!({"metadata": {"managedFields": [{"manager": "", "fieldsV1": null}]}})));
    assert!(!is_reset(&json!({"metadata": {}})));
    assert!(!is_reset(&json!({"metadata": {"managedFields": null}})));
    assert!(!is_reset(&json!({"metadata": {"managedFields": [{"manager": "m"}]}})));
    assert!(!is_reset(&json!({"metadata": {"managedFields": [{"fieldsV1": {}}]}})));
    assert!(!is_reset(&json!({"metadata": {"managedFields": [{}, {}]}})));
}

#[test]
fn identity_fields_are_exactly_stripmetas() {
    let strip = identity_fields();
    assert!(strip.has(&Path::fields(&["metadata"]).0));
    assert!(strip.has(&Path::fields(&["metadata", "resourceVersion"]).0));
    assert!(strip.has(&Path::fields(&["kind"]).0));
    assert!(!strip.has(&Path::fields(&["metadata", "labels"]).0));
    let owned = set(&[&["metadata"], &["metadata", "labels", "a"], &["metadata", "name"]]);
    assert_eq!(owned.difference(&strip), set(&[&["metadata", "labels", "a"]]));
}

fn updater(manager: &str, version: &str, minute: u32, fields: &[&[&str]]) -> Entry {
    Entry {
        api_version: version.into(),
        ..entry(manager, Operation::Update, Some(&format!("2026-12-07T06:{minute:02}:00Z")), fields)
    }
}

#[test]
fn at_most_ten_updaters_are_kept_and_the_oldest_fold_into_ancient_changes() {
    let mut managed = Managed::default();
    for i in 0..12u32 {
        managed.entries.push(updater(&format!("m{i:02}"), "v1", i, &[&["data", &format!("k{i}")]]));
    }
    managed.entries.push(entry("applier", Operation::Apply, None, &[&["spec"]]));
    managed.cap_updates(10);
    let updaters: Vec<&Entry> =
        managed.entries.iter().filter(|e| e.operation == Operation::Update).collect();
    assert_eq!(updaters.len(), 10);
    let bucket = managed.find(&Entry::new(ANCIENT_CHANGES, Operation::Update, "v1", "")).unwrap();
    // m00 (moved into the bucket), m01 and m02 folded: the bucket has the newest one's time.
    assert_eq!(bucket.fields, set(&[&["data", "k0"], &["data", "k1"], &["data", "k2"]]));
    assert_eq!(bucket.time.as_deref(), Some("2026-12-07T06:02:00Z"));
    assert!(managed.find(&updater("m00", "v1", 0, &[])).is_none());
    assert!(managed.find(&updater("m03", "v1", 0, &[])).is_some());
    assert!(managed.find(&Entry::new("applier", Operation::Apply, "v1", "")).is_some());
}

#[test]
fn folding_keeps_versions_apart() {
    let mut managed = Managed::default();
    for i in 0..11u32 {
        let version = if i % 2 == 0 { "v1" } else { "v2" };
        managed.entries.push(updater(&format!("m{i:02}"), version, i, &[&[&format!("k{i}")]]));
    }
    managed.cap_updates(10);
    // m00 (v1) and m01 (v2) are each the first of their version; m02 (v1) folds with m00.
    assert_eq!(managed.entries.len(), 10);
    let bucket = managed.find(&Entry::new(ANCIENT_CHANGES, Operation::Update, "v1", "")).unwrap();
    assert_eq!(bucket.fields, set(&[&["k0"], &["k2"]]));
    assert!(managed.find(&updater("m01", "v2", 0, &[])).is_some());
}

#[test]
fn ten_updaters_are_left_alone() {
    let mut managed = Managed::default();
    for i in 0..10u32 {
        managed.entries.push(updater(&format!("m{i}"), "v1", i, &[&["a"]]));
    }
    let before = managed.clone();
    managed.cap_updates(10);
    assert_eq!(managed, before);
}
