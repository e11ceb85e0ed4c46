//! Events, served twice over one store: core `v1` Events (`pkg/registry/core/event`) and
//! `events.k8s.io/v1` Events, which are stored as core `v1` Events under the same `/events`
//! prefix and converted field by field as kube converts them (`pkg/apis/events/v1`).
//!
//! Validation is kube's `ValidateEventCreate`/`ValidateEventUpdate`: core requests get the legacy
//! rules only (namespaces must agree; the reporting fields are checked for events that carry an
//! `eventTime`), `events.k8s.io` requests the strict ones too (an `eventTime`, a `Normal` or
//! `Warning` type, none of the deprecated fields, and no changes but the series on update).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{Kind, column, int_at, name_column, str_at};
use crate::meta::status::ApiError;
use crate::meta::validation::{FieldCause, is_dns1123_subdomain, is_qualified_name};
use crate::registry::object;
use crate::registry::resource::{Conversion, Converted, GroupVersion, Resource, stamp};
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, Column, TableSpec, age_since};

/// `events.k8s.io/v1` field ⇄ core `v1` field, for the fields whose names differ; every other
/// field has the same name in both.
pub const FIELD_MAPPING: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

const REPORTING_INSTANCE_LIMIT: usize = 128;
const ACTION_LIMIT: usize = 128;
const REASON_LIMIT: usize = 128;
const NOTE_LIMIT: usize = 1024;

const CORE: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    short_names: &["ev"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/events",
};

const EVENTS_V1: Kind = Kind { group: "events.k8s.io", ..CORE };

const CORE_SELECTABLE: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

const EVENTS_V1_SELECTABLE: &[&str] = &[
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "type",
];

/// Core `v1` Events.
pub fn resource() -> Resource {
    CORE.resource(Arc::new(EventStrategy::CORE), core_table())
}

/// `events.k8s.io/v1` Events, stored as core `v1` Events.
pub fn events_v1_resource() -> Resource {
    Resource {
        storage_gv: GroupVersion::new("", "v1"),
        conversion: Arc::new(EventsV1Conversion),
        ..EVENTS_V1.resource(Arc::new(EventStrategy::EVENTS_V1), events_v1_table())
    }
}

// ---------------------------------------------------------------------------------------------
// Conversion.

/// `events.k8s.io/v1` Event ⇄ core `v1` Event.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventsV1Conversion;

/// Renames the top-level fields of an object by `(from, to)` pairs (in either direction).
fn rename(mut object: Value, pairs: &[(&str, &str)], forward: bool) -> Value {
    if let Some(map) = object.as_object_mut() {
        let mut moved = Map::new();
        for (a, b) in pairs {
            let (from, to) = if forward { (*a, *b) } else { (*b, *a) };
            if let Some(value) = map.shift_remove(from) {
                moved.insert(to.to_owned(), value);
            }
        }
        map.extend(moved);
    }
    object
}

/// An `events.k8s.io/v1` Event as the core `v1` Event it is stored as.
pub fn to_core(event: Value) -> Value {
    stamp(rename(event, FIELD_MAPPING, true), "v1", "Event")
}

/// A stored core `v1` Event as an `events.k8s.io/v1` Event.
pub fn from_core(event: Value) -> Value {
    stamp(rename(event, FIELD_MAPPING, false), "events.k8s.io/v1", "Event")
}

impl Conversion for EventsV1Conversion {
    fn to_storage_version(&self, object: Value) -> Converted<'_, Value> {
        if !object.is_object() {
            let err = ApiError::bad_request("the request body must be a JSON or YAML object");
            return Converted::Ready(Err(err));
        }
        Converted::Ready(Ok(to_core(object)))
    }

    fn to_served_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Ready(Ok(from_core(object)))
    }
}

// ---------------------------------------------------------------------------------------------
// Strategy.

/// Event rules, for the API version a request came through.
#[derive(Debug, Clone, Copy)]
pub struct EventStrategy {
    /// `events.k8s.io/v1` requests get the strict validation.
    strict: bool,
}

impl EventStrategy {
    pub const CORE: EventStrategy = EventStrategy { strict: false };
    pub const EVENTS_V1: EventStrategy = EventStrategy { strict: true };

    /// The field kube names the reporting controller after, per request version.
    fn reporting_field(&self) -> &'static str {
        if self.strict { "reportingController" } else { "reportingComponent" }
    }
}

/// Whether a (Micro)Time field is unset: absent, `null` or empty.
fn is_zero_time(event: &Value, field: &str) -> bool {
    event.get(field).is_none_or(|v| v.is_null() || v.as_str() == Some(""))
}

/// kube's `legacyValidateEvent`, on a core `v1` Event.
fn legacy_validate(event: &Value, reporting_field: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let namespace = object::namespace(event).unwrap_or("");
    let involved_namespace = str_at(event, "/involvedObject/namespace");
    let mismatch = || {
        FieldCause::invalid(
            "involvedObject.namespace",
            involved_namespace,
            "does not match event.namespace",
        )
    };
    if is_zero_time(event, "eventTime") {
        if involved_namespace.is_empty() {
            if !namespace.is_empty() && namespace != "default" {
                causes.push(mismatch());
            }
        } else if namespace != involved_namespace {
            causes.push(mismatch());
        }
    } else {
        if involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            causes.push(mismatch());
        }
        let controller = str_at(event, "/reportingComponent");
        if controller.is_empty() {
            causes.push(FieldCause::required(reporting_field, ""));
        }
        for msg in is_qualified_name(controller) {
            causes.push(FieldCause::invalid(reporting_field, controller, &msg));
        }
        let instance = str_at(event, "/reportingInstance");
        if instance.is_empty() {
            causes.push(FieldCause::required("reportingInstance", ""));
        }
        if instance.len() > REPORTING_INSTANCE_LIMIT {
            causes.push(at_most("reportingInstance", REPORTING_INSTANCE_LIMIT));
        }
        let action = str_at(event, "/action");
        if action.is_empty() {
            causes.push(FieldCause::required("action", ""));
        }
        if action.len() > ACTION_LIMIT {
            causes.push(at_most("action", ACTION_LIMIT));
        }
        let reason = str_at(event, "/reason");
        if reason.is_empty() {
            causes.push(FieldCause::required("reason", ""));
        }
        if reason.len() > REASON_LIMIT {
            causes.push(at_most("reason", REASON_LIMIT));
        }
        if str_at(event, "/message").len() > NOTE_LIMIT {
            causes.push(at_most("message", NOTE_LIMIT));
        }
    }
    for msg in is_dns1123_subdomain(namespace) {
        causes.push(FieldCause::invalid("namespace", namespace, &msg));
    }
    causes
}

fn at_most(field: &str, limit: usize) -> FieldCause {
    FieldCause::invalid(field, "", &format!("can have at most {limit} characters"))
}

/// kube's `validateV1EventSeries`.
fn validate_series(event: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    if let Some(series) = event.get("series").filter(|s| !s.is_null()) {
        if int_at(series, "/count").unwrap_or(0) < 2 {
            causes.push(FieldCause::invalid("series.count", "", "should be at least 2"));
        }
        if is_zero_time(series, "lastObservedTime") {
            causes.push(FieldCause::required("series.lastObservedTime", ""));
        }
    }
    causes
}

impl Strategy for EventStrategy {
    fn validate(&self, event: &Value) -> Vec<FieldCause> {
        let mut causes = legacy_validate(event, self.reporting_field());
        if !self.strict {
            return causes;
        }
        causes.extend(validate_series(event));
        if is_zero_time(event, "eventTime") {
            causes.push(FieldCause::required("eventTime", ""));
        }
        let kind = str_at(event, "/type");
        if kind != "Normal" && kind != "Warning" {
            causes.push(FieldCause::invalid("type", "", &format!("has invalid value: {kind}")));
        }
        for field in ["firstTimestamp", "lastTimestamp"] {
            if !is_zero_time(event, field) {
                causes.push(FieldCause::invalid(field, "", "needs to be unset"));
            }
        }
        if int_at(event, "/count").unwrap_or(0) != 0 {
            causes.push(FieldCause::invalid("count", "", "needs to be unset"));
        }
        if !str_at(event, "/source/component").is_empty()
            || !str_at(event, "/source/host").is_empty()
        {
            causes.push(FieldCause::invalid("source", "", "needs to be unset"));
        }
        causes
    }

    fn validate_update(&self, event: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = legacy_validate(event, self.reporting_field());
        if !self.strict {
            return causes;
        }
        if event.get("series") != old.get("series") {
            causes.extend(validate_series(event));
        }
        let immutable = [
            ("involvedObject", "involvedObject"),
            ("reason", "reason"),
            ("message", "message"),
            ("source", "source"),
            ("firstTimestamp", "firstTimestamp"),
            ("lastTimestamp", "lastTimestamp"),
            ("count", "count"),
            ("type", "type"),
            ("eventTime", "eventTime"),
            ("action", "action"),
            ("related", "related"),
            ("reportingComponent", "reportingController"),
            ("reportingInstance", "reportingInstance"),
        ];
        for (field, path) in immutable {
            let new_value = event.get(field).filter(|v| !v.is_null());
            if new_value != old.get(field).filter(|v| !v.is_null()) {
                causes.push(super::immutable(path, new_value.unwrap_or(&Value::Null)));
            }
        }
        causes
    }

    fn selectable_fields(&self, event: &Value) -> BTreeMap<String, String> {
        let text = |pointer: &str| str_at(event, pointer).to_owned();
        let source = match str_at(event, "/source/component") {
            "" => text("/reportingComponent"),
            component => component.to_owned(),
        };
        let involved =
            ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];
        let prefix = if self.strict { "regarding" } else { "involvedObject" };
        let mut fields: BTreeMap<String, String> = involved
            .iter()
            .map(|f| (format!("{prefix}.{f}"), text(&format!("/involvedObject/{f}"))))
            .collect();
        fields.insert("reason".into(), text("/reason"));
        fields.insert("type".into(), text("/type"));
        if self.strict {
            fields.insert("reportingController".into(), text("/reportingComponent"));
        } else {
            fields.insert("reportingComponent".into(), text("/reportingComponent"));
            fields.insert("source".into(), source);
        }
        fields
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        if self.strict { EVENTS_V1_SELECTABLE } else { CORE_SELECTABLE }
    }
}

// ---------------------------------------------------------------------------------------------
// Printing (kube's `printEvent`, on the core shape).

/// The age of a (Micro)Time field, `None` when the field is unset.
fn age_of(event: &Value, pointer: &str, now: SystemTime) -> Option<String> {
    let text = event.pointer(pointer).and_then(Value::as_str).filter(|t| !t.is_empty())?;
    Some(age_since(Some(text), now))
}

fn first_seen_at(event: &Value, now: SystemTime) -> String {
    age_of(event, "/firstTimestamp", now)
        .unwrap_or_else(|| age_since(event.pointer("/eventTime").and_then(Value::as_str), now))
}

fn last_seen_at(event: &Value, now: SystemTime) -> String {
    if event.get("series").is_some_and(Value::is_object) {
        return age_since(event.pointer("/series/lastObservedTime").and_then(Value::as_str), now);
    }
    age_of(event, "/lastTimestamp", now).unwrap_or_else(|| first_seen_at(event, now))
}

fn last_seen(event: &Value) -> Value {
    last_seen_at(event, SystemTime::now()).into()
}

fn first_seen(event: &Value) -> Value {
    first_seen_at(event, SystemTime::now()).into()
}

fn event_type(event: &Value) -> Value {
    str_at(event, "/type").into()
}

fn reason(event: &Value) -> Value {
    str_at(event, "/reason").into()
}

fn target(event: &Value) -> Value {
    let kind = str_at(event, "/involvedObject/kind").to_lowercase();
    match str_at(event, "/involvedObject/name") {
        "" => kind.into(),
        name => format!("{kind}/{name}").into(),
    }
}

fn subobject(event: &Value) -> Value {
    str_at(event, "/involvedObject/fieldPath").into()
}

/// kube's `formatEventSource`.
fn source(event: &Value) -> Value {
    let first = |a: &str, b: &str| if a.is_empty() { b.to_owned() } else { a.to_owned() };
    let component = first(str_at(event, "/source/component"), str_at(event, "/reportingComponent"));
    let instance = first(str_at(event, "/source/host"), str_at(event, "/reportingInstance"));
    if instance.is_empty() { component.into() } else { format!("{component}, {instance}").into() }
}

fn message(event: &Value) -> Value {
    str_at(event, "/message").trim().into()
}

fn count(event: &Value) -> Value {
    if event.get("series").is_some_and(Value::is_object) {
        return int_at(event, "/series/count").unwrap_or(0).into();
    }
    match int_at(event, "/count").unwrap_or(0) {
        // Singleton events of the new API carry no count.
        0 => 1.into(),
        n => n.into(),
    }
}

type CellFn = fn(&Value) -> Value;

/// The event columns with the given cell functions, in kube's order. kube prints both APIs'
/// events with the core printer, so core/v1 Event's fields describe the columns of both.
fn event_table(cells: [CellFn; 9]) -> TableSpec {
    let [last, kind, why, object, sub, src, msg, first, times] = cells;
    let col = |name: &str, priority: i32, field: &str, cell: CellFn| -> Column {
        column(name, "string", priority, &CORE.doc(field), Cell::Computed(cell))
    };
    TableSpec {
        columns: vec![
            col("Last Seen", 0, "/lastTimestamp", last),
            col("Type", 0, "/type", kind),
            col("Reason", 0, "/reason", why),
            col("Object", 0, "/involvedObject", object),
            col("Subobject", 1, "/involvedObject/fieldPath", sub),
            col("Source", 1, "/source", src),
            col("Message", 0, "/message", msg),
            col("First Seen", 1, "/firstTimestamp", first),
            col("Count", 1, "/count", times),
            Column { priority: 1, ..name_column() },
        ],
    }
}

fn core_table() -> TableSpec {
    event_table([
        last_seen, event_type, reason, target, subobject, source, message, first_seen, count,
    ])
}

/// The events.k8s.io cells: the same functions, on the event converted to the core shape.
macro_rules! on_core_shape {
    ($($wrapper:ident => $cell:ident),* $(,)?) => {
        $(fn $wrapper(event: &Value) -> Value {
            $cell(&to_core(event.clone()))
        })*
    };
}

on_core_shape! {
    v1_last_seen => last_seen,
    v1_type => event_type,
    v1_reason => reason,
    v1_target => target,
    v1_subobject => subobject,
    v1_source => source,
    v1_message => message,
    v1_first_seen => first_seen,
    v1_count => count,
}

fn events_v1_table() -> TableSpec {
    event_table([
        v1_last_seen,
        v1_type,
        v1_reason,
        v1_target,
        v1_subobject,
        v1_source,
        v1_message,
        v1_first_seen,
        v1_count,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::table::render_table;
    use serde_json::json;
    use std::time::Duration;

    fn ago(secs: u64) -> String {
        humantime::format_rfc3339_seconds(SystemTime::now() - Duration::from_secs(secs)).to_string()
    }

    fn new_api_event() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default", "uid": "u"},
            "eventTime": "2024-01-01T00:00:00.000000Z",
            "series": {"count": 3, "lastObservedTime": "2024-01-01T00:05:00.000000Z"},
            "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
            "action": "Scale", "reason": "Scaled", "type": "Normal",
            "regarding": {"kind": "Deployment", "name": "web", "namespace": "default", "apiVersion": "apps/v1"},
            "related": {"kind": "ReplicaSet", "name": "web-1"},
            "note": "scaled up",
            "deprecatedSource": {"component": "old"},
            "deprecatedFirstTimestamp": "2024-01-01T00:00:00Z",
            "deprecatedLastTimestamp": "2024-01-01T00:05:00Z",
            "deprecatedCount": 3
        })
    }

    #[test]
    fn conversion_maps_fields_both_ways() {
        let core = to_core(new_api_event());
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["kind"], "Event");
        assert_eq!(core["involvedObject"]["kind"], "Deployment");
        assert_eq!(core["message"], "scaled up");
        assert_eq!(core["reportingComponent"], "example.com/ctl");
        assert_eq!(core["reportingInstance"], "ctl-1");
        assert_eq!(core["source"], json!({"component": "old"}));
        assert_eq!(core["firstTimestamp"], "2024-01-01T00:00:00Z");
        assert_eq!(core["lastTimestamp"], "2024-01-01T00:05:00Z");
        assert_eq!(core["count"], 3);
        assert_eq!(core["related"]["name"], "web-1");
        assert_eq!(core["series"]["count"], 3);
        for (v1_name, _) in FIELD_MAPPING {
            assert!(core.get(*v1_name).is_none(), "{v1_name} left behind");
        }
        assert_eq!(from_core(core), new_api_event(), "round trip");

        let legacy = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "p.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default", "fieldPath": "spec.containers{a}"},
            "reason": "Pulled", "message": "pulled", "source": {"component": "kubelet", "host": "n1"},
            "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:00:00Z",
            "count": 1, "type": "Normal", "eventTime": null, "reportingComponent": "", "reportingInstance": ""});
        let served = EventsV1Conversion.to_served_version(legacy.clone()).now().unwrap().unwrap();
        assert_eq!(served["apiVersion"], "events.k8s.io/v1");
        assert_eq!(served["regarding"]["fieldPath"], "spec.containers{a}");
        assert_eq!(served["note"], "pulled");
        assert_eq!(served["deprecatedCount"], 1);
        assert_eq!(
            EventsV1Conversion.to_storage_version(served).now().unwrap().unwrap(),
            legacy,
            "round trip"
        );
        assert!(EventsV1Conversion.to_storage_version(json!([1])).now().unwrap().is_err());
    }

    #[test]
    fn core_events_get_legacy_validation() {
        let ok = json!({"metadata": {"name": "e", "namespace": "team"},
                        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "team"},
                        "reason": "x".repeat(300), "type": "Whatever"});
        assert!(EventStrategy::CORE.validate(&ok).is_empty());
        let mismatch = json!({"metadata": {"name": "e", "namespace": "team"},
                              "involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}});
        assert_eq!(
            text(&EventStrategy::CORE.validate(&mismatch)),
            ["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"]
        );
        let cluster_scoped = json!({"metadata": {"name": "e", "namespace": "team"},
                                    "involvedObject": {"kind": "Node", "name": "n"}});
        assert_eq!(EventStrategy::CORE.validate(&cluster_scoped).len(), 1);
        let in_default = json!({"metadata": {"name": "e", "namespace": "default"},
                                "involvedObject": {"kind": "Node", "name": "n"}});
        assert!(EventStrategy::CORE.validate(&in_default).is_empty());
        let timed = json!({"metadata": {"name": "e", "namespace": "default"},
                           "eventTime": "2024-01-01T00:00:00.000000Z", "reason": "r".repeat(129),
                           "message": "m".repeat(1025), "involvedObject": {"namespace": "default"}});
        assert_eq!(
            text(&EventStrategy::CORE.validate(&timed)),
            [
                "reportingComponent: Required value",
                "reportingComponent: Invalid value: \"\": name part must be non-empty",
                "reportingComponent: Invalid value: \"\": name part must consist of alphanumeric \
                 characters, '-', '_' or '.', and must start and end with an alphanumeric \
                 character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for \
                 validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "reportingInstance: Required value",
                "action: Required value",
                "reason: Invalid value: \"\": can have at most 128 characters",
                "message: Invalid value: \"\": can have at most 1024 characters",
            ]
        );
    }

    #[test]
    fn events_v1_get_strict_validation() {
        let event = to_core(new_api_event());
        assert_eq!(
            text(&EventStrategy::EVENTS_V1.validate(&event)),
            [
                "firstTimestamp: Invalid value: \"\": needs to be unset",
                "lastTimestamp: Invalid value: \"\": needs to be unset",
                "count: Invalid value: \"\": needs to be unset",
                "source: Invalid value: \"\": needs to be unset",
            ]
        );
        let mut clean = new_api_event();
        for (v1_name, _) in &FIELD_MAPPING[3..] {
            clean.as_object_mut().unwrap().shift_remove(*v1_name);
        }
        let clean = to_core(clean);
        assert!(EventStrategy::EVENTS_V1.validate(&clean).is_empty());
        let mut bad = clean.clone();
        bad["type"] = "Fatal".into();
        bad["series"] = json!({"count": 1});
        bad.as_object_mut().unwrap().shift_remove("eventTime");
        let causes = text(&EventStrategy::EVENTS_V1.validate(&bad));
        assert!(
            causes.contains(&"series.count: Invalid value: \"\": should be at least 2".to_owned())
        );
        assert!(causes.contains(&"series.lastObservedTime: Required value".to_owned()));
        assert!(causes.contains(&"eventTime: Required value".to_owned()));
        assert!(causes.contains(&"type: Invalid value: \"\": has invalid value: Fatal".to_owned()));

        let mut changed = clean.clone();
        changed["series"]["count"] = 4.into();
        assert!(EventStrategy::EVENTS_V1.validate_update(&changed, &clean).is_empty());
        changed["message"] = "other".into();
        assert_eq!(
            text(&EventStrategy::EVENTS_V1.validate_update(&changed, &clean)),
            ["message: Invalid value: \"other\": field is immutable"]
        );
        assert!(EventStrategy::CORE.validate_update(&changed, &clean).is_empty());
    }

    #[test]
    fn field_selectors() {
        let core = to_core(new_api_event());
        let fields = EventStrategy::CORE.selectable_fields(&core);
        assert_eq!(fields["involvedObject.kind"], "Deployment");
        assert_eq!(fields["involvedObject.name"], "web");
        assert_eq!(fields["reason"], "Scaled");
        assert_eq!(fields["reportingComponent"], "example.com/ctl");
        assert_eq!(fields["source"], "old");
        assert_eq!(fields["type"], "Normal");
        for name in fields.keys() {
            assert!(CORE_SELECTABLE.contains(&name.as_str()), "{name}");
        }
        let fields = EventStrategy::EVENTS_V1.selectable_fields(&core);
        assert_eq!(fields["regarding.kind"], "Deployment");
        assert_eq!(fields["reportingController"], "example.com/ctl");
        for name in fields.keys() {
            assert!(EVENTS_V1_SELECTABLE.contains(&name.as_str()), "{name}");
        }
        let mut sourceless = core.clone();
        sourceless.as_object_mut().unwrap().shift_remove("source");
        assert_eq!(EventStrategy::CORE.selectable_fields(&sourceless)["source"], "example.com/ctl");
    }

    #[test]
    fn resources_share_storage() {
        let core = resource();
        let v1 = events_v1_resource();
        assert_eq!(core.storage_prefix, "/events");
        assert_eq!(v1.storage_prefix, "/events");
        assert_eq!(v1.gv.api_version(), "events.k8s.io/v1");
        assert_eq!(v1.storage_gv.api_version(), "v1");
        assert_eq!(v1.short_names, ["ev"]);
        assert_eq!(v1.kind, "Event");
    }

    #[test]
    fn tables() {
        let legacy = json!({"metadata": {"name": "p.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{a}"},
            "reason": "BackOff", "message": " Back-off restarting \n", "type": "Warning",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": ago(3600), "lastTimestamp": ago(120), "count": 7});
        let table = render_table(
            &core_table(),
            std::slice::from_ref(&legacy),
            Default::default(),
            Default::default(),
        );
        assert_eq!(
            table["rows"][0]["cells"],
            json!([
                "2m",
                "Warning",
                "BackOff",
                "pod/p",
                "spec.containers{a}",
                "kubelet, node-1",
                "Back-off restarting",
                "60m",
                7,
                "p.1"
            ])
        );
        let names: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        assert_eq!(table["columnDefinitions"][9]["format"], "name");

        let mut event = new_api_event();
        event["series"]["lastObservedTime"] = ago(30).into();
        for (v1_name, _) in &FIELD_MAPPING[3..] {
            event.as_object_mut().unwrap().shift_remove(*v1_name);
        }
        event["eventTime"] = ago(600).into();
        let table =
            render_table(&events_v1_table(), &[event], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!([
                "30s",
                "Normal",
                "Scaled",
                "deployment/web",
                "",
                "example.com/ctl, ctl-1",
                "scaled up",
                "10m",
                3,
                "web.1"
            ])
        );
    }
}
