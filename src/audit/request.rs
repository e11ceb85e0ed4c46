//! One request's audit record, as k8s.io/apiserver's audit context keeps it: the event the
//! request path fills as it goes, and the policy's answer for the request.
//!
//! Data flow: the audit filter evaluates the [`Policy`](super::Policy), and if the level is not
//! `None` makes a [`RequestAudit`] from the request's first [`Event`] (user, verb, URI, source
//! IPs, user agent, object reference). It emits [`RequestAudit::stage`]`(RequestReceived)`;
//! the handler adds the bodies ([`RequestAudit::log_request_object`],
//! [`RequestAudit::log_response_object`]) and the response code; the filter emits
//! `ResponseStarted` (watches), then [`RequestAudit::complete`] (or `Panic`). A stage the policy
//! omits yields no event. Each event goes to the [`Auditor`](super::Auditor).

use std::time::SystemTime;

use serde_json::Value;

use super::policy::RequestAuditConfig;
use super::types::{Event, Level, ObjectRef, ResponseStatus, Stage, StatusDetails};

/// One request's audit state.
#[derive(Debug, Clone)]
pub struct RequestAudit {
    config: RequestAuditConfig,
    /// The event so far; each stage's event is a snapshot of it.
    event: Event,
}

impl RequestAudit {
    /// `None` when the policy's level for the request is `None`: nothing is audited. The
    /// event's level becomes the policy's.
    pub fn new(config: RequestAuditConfig, mut event: Event) -> Option<RequestAudit> {
        if config.level == Level::None {
            return None;
        }
        event.level = config.level;
        Some(RequestAudit { config, event })
    }

    pub fn level(&self) -> Level {
        self.config.level
    }

    pub fn audit_id(&self) -> &str {
        &self.event.audit_id
    }

    /// The event being filled (user, impersonated user, object reference, annotations).
    pub fn event_mut(&mut self) -> &mut Event {
        &mut self.event
    }

    /// Annotations such as `authorization.k8s.io/decision`; a key set twice keeps the first
    /// value, as kube's `AddAuditAnnotation` does.
    pub fn add_annotation(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.event.annotations.entry(key.into()).or_insert_with(|| value.into());
    }

    /// The HTTP status the response is written with.
    pub fn set_response_code(&mut self, code: u16) {
        self.event.response_status.get_or_insert_with(ResponseStatus::default).code =
            i32::from(code);
    }

    /// The decoded request body of a resource request: completes the object reference from
    /// its metadata (namespace, name, uid, resourceVersion — where not already known), and
    /// from level `Request` on keeps the body (once; without `metadata.managedFields` when the
    /// policy omits them).
    pub fn log_request_object(&mut self, object: &Value) {
        let reference = self.event.object_ref.get_or_insert_with(ObjectRef::default);
        let metadata = object.get("metadata");
        let field = |name: &str| {
            metadata.and_then(|m| m.get(name)).and_then(Value::as_str).unwrap_or("").to_owned()
        };
        for (slot, name) in [
            (&mut reference.namespace, "namespace"),
            (&mut reference.name, "name"),
            (&mut reference.uid, "uid"),
            (&mut reference.resource_version, "resourceVersion"),
        ] {
            if slot.is_empty() {
                *slot = field(name);
            }
        }
        if self.config.level < Level::Request || self.event.request_object.is_some() {
            return;
        }
        self.event.request_object = Some(self.body(object));
    }

    /// The response body: a `metav1.Status` body's bounded fields become the response status;
    /// at level `RequestResponse` the body itself is kept (without `metadata.managedFields`
    /// when the policy omits them).
    pub fn log_response_object(&mut self, object: &Value) {
        if object.get("kind").and_then(Value::as_str) == Some("Status")
            && object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        {
            let text =
                |name: &str| object.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
            let code = object.get("code").and_then(Value::as_i64).unwrap_or(0);
            self.event.response_status = Some(ResponseStatus {
                status: text("status"),
                message: text("message"),
                reason: text("reason"),
                details: object
                    .get("details")
                    .and_then(|d| serde_json::from_value::<StatusDetails>(d.clone()).ok()),
                code: i32::try_from(code).unwrap_or(0),
                ..ResponseStatus::default()
            });
        }
        if self.config.level < Level::RequestResponse {
            return;
        }
        self.event.response_object = Some(self.body(object));
    }

    fn body(&self, object: &Value) -> Value {
        let mut body = object.clone();
        if self.config.omit_managed_fields {
            remove_managed_fields(&mut body);
        }
        body
    }

    /// The event of `stage` as of now, or `None` if the policy omits that stage.
    /// `RequestReceived` is stamped with the time the request was received, as kube does.
    pub fn stage(&self, stage: Stage, at: SystemTime) -> Option<Event> {
        if self.config.omit_stages.contains(stage) {
            return None;
        }
        let mut event = self.event.clone();
        stamp(&mut event, stage, at);
        Some(event)
    }

    /// The last event, `ResponseComplete`, without copying the bodies.
    pub fn complete(self, at: SystemTime) -> Option<Event> {
        if self.config.omit_stages.contains(Stage::ResponseComplete) {
            return None;
        }
        let mut event = self.event;
        stamp(&mut event, Stage::ResponseComplete, at);
        Some(event)
    }
}

fn stamp(event: &mut Event, stage: Stage, at: SystemTime) {
    event.stage = stage;
    event.stage_timestamp =
        if stage == Stage::RequestReceived { event.request_received_timestamp } else { at };
}

/// Drops `metadata.managedFields` from an object, or from each item of a list.
fn remove_managed_fields(body: &mut Value) {
    if let Some(items) = body.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            remove_managed_fields(item);
        }
    }
    if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.shift_remove("managedFields");
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;
    use crate::audit::types::StageSet;

    fn audit(level: Level, omit: &[Stage], omit_managed_fields: bool) -> Option<RequestAudit> {
        let config = RequestAuditConfig {
            level,
            omit_stages: omit.iter().copied().collect::<StageSet>(),
            omit_managed_fields,
        };
        let mut event = Event::new(Level::None, "id-1", Stage::RequestReceived, UNIX_EPOCH);
        event.verb = "create".into();
        event.object_ref = Some(ObjectRef {
            resource: "configmaps".into(),
            namespace: "default".into(),
            api_version: "v1".into(),
            ..ObjectRef::default()
        });
        RequestAudit::new(config, event)
    }

    fn object() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "x", "namespace": "default", "uid": "u-1", "resourceVersion": "7",
            "managedFields": [{"manager": "kubectl"}]}})
    }

    #[test]
    fn level_none_audits_nothing() {
        assert!(audit(Level::None, &[], false).is_none());
    }

    #[test]
    fn bodies_follow_the_level() {
        let later = UNIX_EPOCH + Duration::from_secs(1);
        for (level, request, response) in [
            (Level::Metadata, false, false),
            (Level::Request, true, false),
            (Level::RequestResponse, true, true),
        ] {
            let mut audit = audit(level, &[], false).unwrap();
            audit.log_request_object(&object());
            audit.log_response_object(&object());
            audit.set_response_code(201);
            let event = audit.complete(later).unwrap();
            assert_eq!(event.level, level);
            assert_eq!(event.request_object.is_some(), request, "{level:?}");
            assert_eq!(event.response_object.is_some(), response, "{level:?}");
            let reference = event.object_ref.unwrap();
            assert_eq!((reference.name.as_str(), reference.uid.as_str()), ("x", "u-1"));
            assert_eq!(reference.resource_version, "7");
            assert_eq!(event.response_status.unwrap().code, 201);
            assert_eq!(event.stage, Stage::ResponseComplete);
            assert_eq!(event.stage_timestamp, later);
        }
    }

    #[test]
    fn managed_fields_are_left_out_when_the_policy_says_so() {
        let mut audit = audit(Level::RequestResponse, &[], true).unwrap();
        audit.log_request_object(&object());
        audit.log_response_object(&json!({"kind": "ConfigMapList", "items": [object()]}));
        let event = audit.complete(UNIX_EPOCH).unwrap();
        assert!(event.request_object.unwrap()["metadata"].get("managedFields").is_none());
        let items = &event.response_object.unwrap()["items"];
        assert!(items[0]["metadata"].get("managedFields").is_none());
        assert_eq!(items[0]["metadata"]["name"], "x");

        let mut keep = self::audit(Level::Request, &[], false).unwrap();
        keep.log_request_object(&object());
        let event = keep.complete(UNIX_EPOCH).unwrap();
        assert!(event.request_object.unwrap()["metadata"]["managedFields"].is_array());
    }

    #[test]
    fn a_status_body_becomes_the_response_status_even_at_metadata() {
        let mut audit = audit(Level::Metadata, &[], false).unwrap();
        audit.set_response_code(404);
        audit.log_response_object(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": "configmaps \"x\" not found", "reason": "NotFound",
            "details": {"name": "x", "kind": "configmaps"}, "code": 404}));
        let status = audit.complete(UNIX_EPOCH).unwrap().response_status.unwrap();
        assert_eq!((status.reason.as_str(), status.code), ("NotFound", 404));
        assert_eq!(status.details.unwrap().name, "x");
    }

    #[test]
    fn omitted_stages_make_no_event_and_request_received_keeps_the_received_time() {
        let later = UNIX_EPOCH + Duration::from_secs(5);
        let audit = audit(Level::Metadata, &[Stage::ResponseStarted], false).unwrap();
        let received = audit.stage(Stage::RequestReceived, later).unwrap();
        assert_eq!(received.stage_timestamp, UNIX_EPOCH);
        assert!(audit.stage(Stage::ResponseStarted, later).is_none());
        assert_eq!(audit.stage(Stage::Panic, later).unwrap().stage_timestamp, later);
        let quiet = self::audit(Level::Metadata, &[Stage::ResponseComplete], false).unwrap();
        assert!(quiet.complete(later).is_none());
    }

    #[test]
    fn the_first_annotation_wins() {
        let mut audit = audit(Level::Metadata, &[], false).unwrap();
        audit.add_annotation("authorization.k8s.io/decision", "allow");
        audit.add_annotation("authorization.k8s.io/decision", "forbid");
        let event = audit.complete(UNIX_EPOCH).unwrap();
        assert_eq!(event.annotations["authorization.k8s.io/decision"], "allow");
    }
}
