//! Restore planning (`POST …/history/restore`): the write that brings an object back as it was
//! at a revision.
//!
//! Pure: the object at R (served version) and the current object, if any, in; the body of an
//! update against the current revision, or of a create when the object is gone, out. The
//! endpoint sends that body through the registry's store like any write, so admission,
//! validation and managedFields apply; here only what the server owns is taken out of it, as a
//! client's body would be without it.

use serde_json::{Map, Value};

/// Metadata the server sets on every write: never carried over from the past.
const SERVER_OWNED: [&str; 6] = [
    "resourceVersion",
    "managedFields",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// The write a restore makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The object exists: an update of it, conditioned on its current resourceVersion (a write
    /// in between is a 409), keeping its identity (uid, creationTimestamp).
    Update(Value),
    /// The object is gone: a create, which gets a new uid and creationTimestamp as any create.
    Create(Value),
}

/// The write that makes the object `past` (as it was at the revision) again; `current` is the
/// live object, if any.
pub fn plan(past: &Value, current: Option<&Value>) -> Plan {
    let mut body = past.clone();
    let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
        return match current {
            Some(_) => Plan::Update(body),
            None => Plan::Create(body),
        };
    };
    for field in SERVER_OWNED {
        meta.shift_remove(field);
    }
    match current {
        Some(current) => {
            let live = current.get("metadata").and_then(Value::as_object);
            for field in ["uid", "creationTimestamp", "resourceVersion"] {
                copy(live, meta, field);
            }
            Plan::Update(body)
        }
        None => {
            meta.shift_remove("uid");
            meta.shift_remove("creationTimestamp");
            Plan::Create(body)
        }
    }
}

/// Sets `field` of `into` to the live object's (or removes it when the live object has none).
fn copy(live: Option<&Map<String, Value>>, into: &mut Map<String, Value>, field: &str) {
    match live.and_then(|live| live.get(field)) {
        Some(value) => {
            into.insert(field.into(), value.clone());
        }
        None => {
            into.shift_remove(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn past() -> Value {
        json!({"kind": "ConfigMap", "apiVersion": "v1",
               "metadata": {"name": "cm", "namespace": "ns", "uid": "old", "resourceVersion": "4",
                            "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"a": "1"},
                            "managedFields": [{"manager": "kubectl"}], "generation": 2},
               "data": {"k": "v4"}})
    }

    #[test]
    fn an_update_keeps_the_live_identity_and_revision() {
        let live = json!({"metadata": {"name": "cm", "uid": "new", "resourceVersion": "9",
                                       "creationTimestamp": "2026-02-02T00:00:00Z"}});
        let Plan::Update(body) = plan(&past(), Some(&live)) else { panic!("an update") };
        assert_eq!(
            body["metadata"],
            json!({"name": "cm", "namespace": "ns", "uid": "new", "resourceVersion": "9",
                   "creationTimestamp": "2026-02-02T00:00:00Z", "labels": {"a": "1"}})
        );
        assert_eq!(body["data"], json!({"k": "v4"}));
    }

    #[test]
    fn a_create_drops_what_the_server_owns() {
        let Plan::Create(body) = plan(&past(), None) else { panic!("a create") };
        assert_eq!(
            body["metadata"],
            json!({"name": "cm", "namespace": "ns", "labels": {"a": "1"}})
        );
        assert_eq!(body["kind"], "ConfigMap");
    }
}
