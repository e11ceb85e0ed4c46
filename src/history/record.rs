//! One event of the log as the API shows it: a `Revision` item (docs/history.md), shared by an
//! object's history, a diff's ends, blame, deleted objects and replay.
//!
//! Data flows one way: a storage [`Event`] and the object it carries, already converted to the
//! served version by the caller ([`stored_object`] says which object that is), in; JSON out.

use serde::Serialize;
use serde_json::{Map, Value, json, to_value};

use crate::storage::{Event, EventType, Object, Provenance, Revision};

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
    MicroTime(timestamp_micros).to_string()
}

/// µs since the epoch shown as `metav1.MicroTime` text, what `humantime::format_rfc3339_micros`
/// writes, but written on the stack from the calendar arithmetic alone (a replay writes two per
/// line) and never failing: a time before the epoch is the epoch, one past year 9999 (where
/// humantime fails) its last µs.
#[derive(Debug, Clone, Copy)]
pub struct MicroTime(pub i64);

impl MicroTime {
    /// The last µs that RFC 3339's four-digit years can write.
    const LAST: i64 = 253_402_300_800_000_000 - 1;

    fn text(self, buf: &mut [u8; 27]) -> &str {
        let micros = self.0.clamp(0, Self::LAST);
        let (seconds, micros) = (micros / 1_000_000, micros % 1_000_000);
        let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
        // Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (never negative here).
        let z = days + 719_468;
        let (era, day_of_era) = (z / 146_097, z % 146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
        let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let mut put = |at: usize, width: usize, mut value: i64| {
            for slot in buf[at..at + width].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, second_of_day / 3600);
        put(14, 2, second_of_day / 60 % 60);
        put(17, 2, second_of_day % 60);
        put(20, 6, micros);
        for (at, byte) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')] {
            buf[at] = byte;
        }
        buf[26] = b'Z';
        // Only ASCII digits and separators were written.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

impl std::fmt::Display for MicroTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text(&mut [0; 27]))
    }
}

impl Serialize for MicroTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text(&mut [0; 27]))
    }
}

/// A revision as a JSON string (`"42"`), written without an intermediate `String`.
#[derive(Debug, Clone, Copy)]
pub struct Quoted(pub Revision);

impl Serialize for Quoted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
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
    time: MicroTime,
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
    restored_from: Option<Quoted>,
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
            time: MicroTime(who.timestamp_micros),
            user: User { username: &who.user, uid: &who.uid, groups: &who.groups },
            user_agent: &who.user_agent,
            source_ip: &who.source_ip,
            verb: who.verb.as_str(),
            audit_id: &who.audit_id,
            field_manager: &who.field_manager,
            restored_from: who.restored_from.map(Quoted),
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
    revision: Quoted,
    #[serde(rename = "type")]
    event_type: &'static str,
    #[serde(flatten)]
    who: Option<Who<'a>>,
}

impl<'a> ItemHead<'a> {
    pub fn of(event: &'a Event) -> ItemHead<'a> {
        ItemHead {
            revision: Quoted(event.revision),
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
    use std::time::{Duration, UNIX_EPOCH};

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
    fn micro_times_are_humantimes_text() {
        let mut at = 0i64;
        for step in [1, 999_999, 86_399_999_999, 31_556_952_000_000, 1_234_567_891_011] {
            for _ in 0..400 {
                let time = UNIX_EPOCH + Duration::from_micros(at as u64);
                let want = humantime::format_rfc3339_micros(time).to_string();
                assert_eq!(micro_time(at), want, "{at}");
                let json = serde_json::to_string(&MicroTime(at)).unwrap();
                assert_eq!(json, format!("\"{want}\""));
                at = at.saturating_add(step);
            }
        }
        // Before the epoch: the epoch. Past year 9999, where humantime fails: its last µs.
        assert_eq!(micro_time(-5), "1970-01-01T00:00:00.000000Z");
        let last = "9999-12-31T23:59:59.999999Z";
        assert_eq!(micro_time(253_402_300_800_000_000 - 1), last);
        assert_eq!(micro_time(i64::MAX), last);
        assert_eq!(serde_json::to_string(&Quoted(-3)).unwrap(), "\"-3\"");
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
