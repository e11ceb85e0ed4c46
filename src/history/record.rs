//! One event of the log as the API shows it: a `Revision` item (docs/history.md), shared by an
//! object's history, a diff's ends, blame, deleted objects and replay.
//!
//! Data flows one way: a storage [`Event`] and the object it carries, already converted to the
//! served version by the caller ([`stored_object`] says which object that is), in; JSON out.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::storage::{Event, EventType, Object, Provenance};

/// The watch event type kube uses for what an event did to its key.
pub fn event_type(event_type: EventType) -> &'static str {
    match event_type {
        EventType::Created => "ADDED",
        EventType::Updated => "MODIFIED",
        EventType::Deleted => "DELETED",
    }
}

/// µs since the epoch as `metav1.MicroTime` text: `2026-12-07T14:03:05.123456Z`.
pub fn micro_time(timestamp_micros: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_micros(timestamp_micros.max(0) as u64);
    humantime::format_rfc3339_micros(time).to_string()
}

/// The stored object an event shows: the value it wrote, or for a delete the last state before
/// it. `None` only when the backend no longer holds a deleted object's previous value.
pub fn stored_object(event: &Event) -> Option<&Object> {
    match event.event_type {
        EventType::Deleted => event.prev_object.as_ref(),
        EventType::Created | EventType::Updated => event.object.as_ref(),
    }
}

/// The who-did-what members of an item, in the API's order, empty ones omitted. Events written
/// by something other than kube-ledger have none.
pub fn provenance_fields(provenance: Option<&Provenance>, into: &mut Map<String, Value>) {
    let Some(who) = provenance else { return };
    into.insert("time".into(), micro_time(who.timestamp_micros).into());
    let mut user = Map::new();
    user.insert("username".into(), who.user.clone().into());
    if !who.uid.is_empty() {
        user.insert("uid".into(), who.uid.clone().into());
    }
    if !who.groups.is_empty() {
        user.insert("groups".into(), who.groups.clone().into());
    }
    into.insert("user".into(), Value::Object(user));
    let mut text = |name: &str, value: &str| {
        if !value.is_empty() {
            into.insert(name.into(), value.into());
        }
    };
    text("userAgent", &who.user_agent);
    text("sourceIP", &who.source_ip);
    text("verb", who.verb.as_str());
    text("auditID", &who.audit_id);
    text("fieldManager", &who.field_manager);
    if let Some(revision) = who.restored_from {
        into.insert("restoredFrom".into(), revision.to_string().into());
    }
}

/// A `Revision` item: the event's revision, type and provenance, and `object` (the
/// [`stored_object`] in the served version) when there is one.
pub fn revision_item(event: &Event, object: Option<Value>) -> Value {
    let mut item = Map::new();
    item.insert("revision".into(), event.revision.to_string().into());
    item.insert("type".into(), event_type(event.event_type).into());
    provenance_fields(event.provenance.as_ref(), &mut item);
    if let Some(object) = object {
        item.insert("object".into(), object);
    }
    Value::Object(item)
}

/// A whole `Revision` object (`GET …/history/{revision}`): the item with its kind.
pub fn revision_object(event: &Event, object: Option<Value>) -> Value {
    let mut whole = json!({"kind": "Revision", "apiVersion": super::API_VERSION});
    if let (Value::Object(whole), Value::Object(item)) = (&mut whole, revision_item(event, object))
    {
        whole.extend(item);
    }
    whole
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::storage::Verb;

    fn object(revision: i64) -> Object {
        Object {
            key: "/configmaps/ns/cm".into(),
            value: Bytes::from_static(b"{}"),
            create_revision: 3,
            mod_revision: revision,
        }
    }

    fn who() -> Provenance {
        Provenance {
            timestamp_micros: 1_765_116_185_123_456,
            ..Provenance::now("alice", Verb::Patch, "audit-7")
        }
        .with_identity("", ["system:authenticated"], "kubectl/v1.32.0", "127.0.0.1")
        .with_field_manager("kubectl-patch")
    }

    #[test]
    fn an_item_has_the_provenance_in_api_order_and_omits_empty_fields() {
        let event = Event {
            revision: 9,
            event_type: EventType::Updated,
            key: "/configmaps/ns/cm".into(),
            object: Some(object(9)),
            prev_object: Some(object(5)),
            provenance: Some(who()),
        };
        let item = revision_item(&event, Some(json!({"kind": "ConfigMap"})));
        assert_eq!(
            serde_json::to_string(&item).unwrap(),
            r#"{"revision":"9","type":"MODIFIED","time":"2025-12-07T14:03:05.123456Z","user":{"username":"alice","groups":["system:authenticated"]},"userAgent":"kubectl/v1.32.0","sourceIP":"127.0.0.1","verb":"patch","auditID":"audit-7","fieldManager":"kubectl-patch","object":{"kind":"ConfigMap"}}"#
        );
    }

    #[test]
    fn a_delete_shows_the_last_state_and_a_restore_its_source() {
        let delete = Event {
            revision: 12,
            event_type: EventType::Deleted,
            key: "/configmaps/ns/cm".into(),
            object: None,
            prev_object: Some(object(9)),
            provenance: Some(who().with_restored_from(4)),
        };
        assert_eq!(stored_object(&delete).map(|o| o.mod_revision), Some(9));
        let whole = revision_object(&delete, None);
        assert_eq!(whole["kind"], "Revision");
        assert_eq!(whole["type"], "DELETED");
        assert_eq!(whole["restoredFrom"], "4");
        assert!(whole.get("object").is_none());
    }

    #[test]
    fn an_event_without_provenance_has_only_revision_and_type() {
        let foreign = Event {
            revision: 2,
            event_type: EventType::Created,
            key: "/configmaps/ns/cm".into(),
            object: Some(object(2)),
            prev_object: None,
            provenance: None,
        };
        assert_eq!(revision_item(&foreign, None), json!({"revision": "2", "type": "ADDED"}));
    }
}
