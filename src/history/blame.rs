//! Blame (`…/history/blame`): for every leaf field of an object at a revision, the write that
//! last set the value it has there.
//!
//! Pure: the object's events oldest first up to the revision, each as its `Revision` item and
//! the object after it, in; one entry per leaf out, in document order. Walking forward, a leaf
//! whose value is the same as the previous revision's keeps its writer; any other value, and
//! every leaf of a create (a re-created object starts anew), is the current event's.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The members of a `Revision` item a blame entry repeats.
const WHO: [&str; 5] = ["revision", "time", "user", "verb", "fieldManager"];

/// One event of the object's history, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Its `Revision` item (the revision and provenance members are read).
    pub item: &'a Value,
    /// The object after the event; `None` for a delete.
    pub object: Option<&'a Value>,
    /// The event created the key (an `ADDED`).
    pub created: bool,
}

/// The blame entries of the object after the last step: `{"path": "/spec/replicas",
/// "revision": …, "time": …, "user": …, "verb": …, "fieldManager": …}` for each leaf, in
/// document order. Empty when the last step is a delete.
pub fn blame(steps: &[Step<'_>]) -> Vec<Value> {
    // Per leaf path: its value and the step that set it.
    let mut owners: HashMap<String, (&Value, usize)> = HashMap::new();
    let mut last: Vec<String> = Vec::new();
    for (at, step) in steps.iter().enumerate() {
        let Some(object) = step.object else {
            owners.clear();
            last.clear();
            continue;
        };
        if step.created {
            owners.clear();
        }
        let mut next = HashMap::new();
        last.clear();
        for (path, value) in leaves(object) {
            let owner = match owners.get(&path) {
                Some((old, owner)) if *old == value => *owner,
                _ => at,
            };
            last.push(path.clone());
            next.insert(path, (value, owner));
        }
        owners = next;
    }
    last.into_iter()
        .filter_map(|path| {
            let (_, owner) = owners.get(&path)?;
            Some(entry(&path, steps[*owner].item))
        })
        .collect()
}

fn entry(path: &str, item: &Value) -> Value {
    let mut entry = Map::new();
    entry.insert("path".into(), path.into());
    for name in WHO {
        if let Some(value) = item.get(name) {
            entry.insert(name.into(), value.clone());
        }
    }
    Value::Object(entry)
}

/// The leaves of a JSON document as (RFC 6901 pointer, value), in document order: scalars, and
/// empty objects and arrays (a field set to `{}` is set).
pub fn leaves(value: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    walk(value, &mut String::new(), &mut out);
    out
}

fn walk<'a>(value: &'a Value, path: &mut String, out: &mut Vec<(String, &'a Value)>) {
    let at = path.len();
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push('/');
                path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(child, path, out);
                path.truncate(at);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, child) in items.iter().enumerate() {
                path.push('/');
                path.push_str(&index.to_string());
                walk(child, path, out);
                path.truncate(at);
            }
        }
        _ => out.push((path.clone(), value)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(revision: &str, user: &str) -> Value {
        json!({"revision": revision, "type": "MODIFIED", "time": "t", "user": {"username": user},
               "verb": "patch", "auditID": "x", "fieldManager": user})
    }

    fn owners(entries: &[Value]) -> Vec<(String, String)> {
        entries
            .iter()
            .map(|e| (e["path"].as_str().unwrap().into(), e["revision"].as_str().unwrap().into()))
            .collect()
    }

    #[test]
    fn leaves_are_pointers_in_document_order() {
        let doc = json!({"b": {"x/y": 1, "t~": [true, {}]}, "a": []});
        let paths: Vec<String> = leaves(&doc).into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/b/x~1y", "/b/t~0/0", "/b/t~0/1", "/a"]);
    }

    #[test]
    fn each_leaf_names_the_write_that_last_set_its_value() {
        let (i2, i3, i4) = (item("2", "alice"), item("3", "bob"), item("4", "alice"));
        let v2 = json!({"data": {"a": "1", "b": "1"}});
        let v3 = json!({"data": {"a": "2", "b": "1"}});
        let v4 = json!({"data": {"a": "2", "b": "1", "c": "1"}});
        let steps = [
            Step { item: &i2, object: Some(&v2), created: true },
            Step { item: &i3, object: Some(&v3), created: false },
            Step { item: &i4, object: Some(&v4), created: false },
        ];
        let entries = blame(&steps);
        assert_eq!(
            owners(&entries),
            [
                ("/data/a".into(), "3".into()),
                ("/data/b".into(), "2".into()),
                ("/data/c".into(), "4".into())
            ]
        );
        assert_eq!(entries[0]["user"]["username"], "bob");
        assert_eq!(entries[0]["fieldManager"], "bob");
        assert!(entries[0].get("auditID").is_none());
        // A value set back to an earlier one is the later write's.
        let i5 = item("5", "carol");
        let v5 = json!({"data": {"a": "1", "b": "1", "c": "1"}});
        let mut more = steps.to_vec();
        more.push(Step { item: &i5, object: Some(&v5), created: false });
        assert_eq!(owners(&blame(&more))[0], ("/data/a".into(), "5".into()));
    }

    #[test]
    fn a_recreated_object_starts_anew_and_a_deleted_one_has_no_fields() {
        let (i2, i3, i4) = (item("2", "alice"), item("3", "bob"), item("4", "carol"));
        let v = json!({"data": {"a": "1"}});
        let created = Step { item: &i2, object: Some(&v), created: true };
        let deleted = Step { item: &i3, object: None, created: false };
        let again = Step { item: &i4, object: Some(&v), created: true };
        assert!(blame(&[created, deleted]).is_empty());
        assert_eq!(owners(&blame(&[created, deleted, again])), [("/data/a".into(), "4".into())]);
    }
}
