//! One event of the log as the API shows it: a `Revision` item (docs/history.md), shared by an
//! object's history, a diff's ends, blame, deleted objects and replay.
//!
//! Data flows one way: a storage [`Event`] and the object it carries, already converted to the
//! served version by the caller ([`stored_object`] says which object that is), in; JSON out.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value, json, to_value};

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

/// The who-did-what members of an item, in the API's order, empty ones omitted, borrowed from
/// the event's provenance: what every item with provenance serializes.
#[derive(Debug, Serialize)]
pub struct Who<'a> {
    time: String,
    user: User<'a>,
    #[serde(rename = "userAgent", skip_serializing_if = "str::is_empty")]
    user_agent: &'a str,
    #[serde(rename = "sourceIP", skip_serializing_if = "str::is_empty")]
    source_ip: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    verb: &'a str,
    #[serde(rename = "auditID", skip_serializing_if = "str::is_empty")]
    audit_id: &'a str,
    #[serde(rename = "fieldManager", skip_serializing_if = "str::is_empty")]
    field_manager: &'a str,
    #[serde(rename = "restoredFrom", skip_serializing_if = "Option::is_none")]
    restored_from: Option<String>,
}

#[derive(Debug, Serialize)]
struct User<'a> {
    username: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    uid: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    groups: &'a [String],
}

impl<'a> Who<'a> {
    pub fn of(who: &'a Provenance) -> Who<'a> {
        Who {
            time: micro_time(who.timestamp_micros),
            user: User { username: &who.user, uid: &who.uid, groups: &who.groups },
            user_agent: &who.user_agent,
            source_ip: &who.source_ip,
            verb: who.verb.as_str(),
            audit_id: &who.audit_id,
            field_manager: &who.field_manager,
            restored_from: who.restored_from.map(|revision| revision.to_string()),
        }
    }
}

/// [`Who`]'s members inserted into `into`. Events written by something other than kube-ledger
/// have none.
pub fn provenance_fields(provenance: Option<&Provenance>, into: &mut Map<String, Value>) {
    if let Some(Value::Object(who)) = provenance.map(Who::of).and_then(|w| to_value(w).ok()) {
        into.extend(who);
    }
}

/// A `Revision` item but for its `object`, borrowed from the event: `revision`, `type` and the
/// provenance. Its encoding ends where the object would follow.
#[derive(Debug, Serialize)]
pub struct ItemHead<'a> {
    revision: String,
    #[serde(rename = "type")]
    event_type: &'static str,
    #[serde(flatten)]
    who: Option<Who<'a>>,
}

impl<'a> ItemHead<'a> {
    pub fn of(event: &'a Event) -> ItemHead<'a> {
        ItemHead {
            revision: event.revision.to_string(),
            event_type: event_type(event.event_type),
            who: event.provenance.as_ref().map(Who::of),
        }
    }
}

/// A `Revision` item: the event's revision, type and provenance, and `object` (the
/// [`stored_object`] in the served version) when there is one.
pub fn revision_item(event: &Event, object: Option<Value>) -> Value {
    let mut item = to_value(ItemHead::of(event)).unwrap_or_else(|_| Value::Object(Map::new()));
    if let (Value::Object(item), Some(object)) = (&mut item, object) {
        item.insert("object".into(), object);
    }
    item
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
