//! The `audit.k8s.io/v1` wire types: [`Event`] (one line of the log, one item of a webhook's
//! [`EventList`]) and the values it is made of, serialized with kube-apiserver's field names, in
//! its field order, with its omissions (`omitempty`) and its timestamps (`MicroTime`: RFC 3339,
//! UTC, exactly six fractional digits).
//!
//! Data flows one way: the request path fills an [`Event`] (see [`super::request`]), a sink
//! serializes it — [`TypedEvent`] adds `kind`/`apiVersion` for a log line, [`EventList`] wraps a
//! webhook batch whose items carry no type fields, as kube's encoder writes them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The group/version of every type here.
pub const API_VERSION: &str = "audit.k8s.io/v1";

/// How much of a request is recorded. Ordered: `None < Metadata < Request < RequestResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Nothing is recorded.
    None,
    /// Who, what, when, the outcome — no bodies.
    Metadata,
    /// Metadata and the request body.
    Request,
    /// Metadata, the request body and the response body.
    RequestResponse,
}

impl Level {
    pub const ALL: [Level; 4] =
        [Level::None, Level::Metadata, Level::Request, Level::RequestResponse];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// Where in its handling a request was when an event was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// As soon as the request is received, before anything else handles it.
    RequestReceived,
    /// When the response headers are sent, before the body (long-running requests: watches).
    ResponseStarted,
    /// When the response is complete.
    ResponseComplete,
    /// When handling the request panicked.
    Panic,
}

impl Stage {
    pub const ALL: [Stage; 4] =
        [Stage::RequestReceived, Stage::ResponseStarted, Stage::ResponseComplete, Stage::Panic];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of stages (a policy's `omitStages`), as a bit set: checked on every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageSet(u8);

impl StageSet {
    pub const EMPTY: StageSet = StageSet(0);

    pub fn contains(self, stage: Stage) -> bool {
        self.0 & stage.bit() != 0
    }

    pub fn insert(&mut self, stage: Stage) {
        self.0 |= stage.bit();
    }

    pub fn union(self, other: StageSet) -> StageSet {
        StageSet(self.0 | other.0)
    }
}

impl FromIterator<Stage> for StageSet {
    fn from_iter<I: IntoIterator<Item = Stage>>(iter: I) -> StageSet {
        let mut set = StageSet::EMPTY;
        for stage in iter {
            set.insert(stage);
        }
        set
    }
}

/// `authentication.k8s.io/v1` UserInfo: who made (or was impersonated by) the request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Kube writes `"extra":{}` when the authenticator set an empty map, and nothing when none:
    /// `None` is absent, `Some(empty)` is `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, Vec<String>>>,
}

/// What a request is about, as far as known when the event is made.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Empty for the core group.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

/// The bounded fields of the response's `metav1.Status`: the code always, and for a Status
/// body its status, message, reason and details. Kube writes `"metadata":{}` first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponseStatus {
    #[serde(default)]
    pub metadata: EmptyMeta,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: i32,
}

/// `metav1.StatusDetails`, in kube's field order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_after_seconds: i32,
}

/// `metav1.StatusCause`, in kube's field order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusCause {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

/// The `{}` kube writes for an unset `ListMeta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmptyMeta {}

/// One audit event. Fields in kube's order; the type fields are added by [`TypedEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub level: Level,
    #[serde(rename = "auditID")]
    pub audit_id: String,
    pub stage: Stage,
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    /// The authorization verb (`get`, `list`, `watch`, `create`, …), or the lower-cased HTTP
    /// method of a non-resource request.
    pub verb: String,
    pub user: UserInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<UserInfo>,
    /// The client first, then every proxy on the way (`X-Forwarded-For`, `X-Real-Ip`), then the
    /// connection's peer.
    #[serde(default, rename = "sourceIPs", skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
    /// The request body as decoded (level `Request` and above, resource requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object: Option<Value>,
    /// The response body (level `RequestResponse`, resource requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_object: Option<Value>,
    #[serde(with = "micro_time")]
    pub request_received_timestamp: SystemTime,
    #[serde(with = "micro_time")]
    pub stage_timestamp: SystemTime,
    /// Keys in order, as Go writes a map.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Event {
    /// An event at `level` and `stage` with only the required fields; the request path fills
    /// the rest.
    pub fn new(level: Level, audit_id: impl Into<String>, stage: Stage, at: SystemTime) -> Event {
        Event {
            level,
            audit_id: audit_id.into(),
            stage,
            request_uri: String::new(),
            verb: String::new(),
            user: UserInfo::default(),
            impersonated_user: None,
            source_ips: Vec::new(),
            user_agent: String::new(),
            object_ref: None,
            response_status: None,
            request_object: None,
            response_object: None,
            request_received_timestamp: at,
            stage_timestamp: at,
            annotations: BTreeMap::new(),
        }
    }

    /// One line of the log backend: the event with its type fields, then `\n`.
    pub fn to_json_line(&self) -> serde_json::Result<Vec<u8>> {
        let mut line = serde_json::to_vec(&TypedEvent::new(self))?;
        line.push(b'\n');
        Ok(line)
    }
}

/// An event with `kind: Event` and `apiVersion: audit.k8s.io/v1` first, as kube's log backend
/// writes each line.
#[derive(Debug, Serialize)]
pub struct TypedEvent<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    #[serde(flatten)]
    event: &'a Event,
}

impl<'a> TypedEvent<'a> {
    pub fn new(event: &'a Event) -> TypedEvent<'a> {
        TypedEvent { kind: "Event", api_version: API_VERSION, event }
    }
}

/// A batch for the webhook backend: `{"kind":"EventList","apiVersion":"audit.k8s.io/v1",
/// "metadata":{},"items":[…]}`, the items without type fields (kube converts the list, not
/// each item).
#[derive(Debug, Serialize)]
pub struct EventList<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: EmptyMeta,
    #[serde(serialize_with = "shared_items")]
    items: &'a [std::sync::Arc<Event>],
}

fn shared_items<S: serde::Serializer>(
    items: &&[std::sync::Arc<Event>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(items.iter().map(|item| &**item))
}

impl<'a> EventList<'a> {
    pub fn new(items: &'a [std::sync::Arc<Event>]) -> EventList<'a> {
        EventList { kind: "EventList", api_version: API_VERSION, metadata: EmptyMeta {}, items }
    }
}

/// `metav1.MicroTime` as JSON: `2024-12-13T05:28:39.999903Z`.
pub mod micro_time {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(time: SystemTime) -> String {
        humantime::format_rfc3339_micros(time).to_string()
    }

    pub fn serialize<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_rfc3339_micros(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_rfc3339_weak(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    /// 2024-12-13T05:28:39.999903Z
    fn received() -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(1_734_067_719_999_903)
    }

    /// A ResponseComplete event as kube-apiserver 1.24 wrote it for `kubectl get secrets`
    /// (one line of its log, reformatted only by splitting the string).
    const KUBE_LINE: &str = concat!(
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","#,
        r#""auditID":"da5d1997-b4c5-44a4-b015-5eacc25d6432","stage":"ResponseComplete","#,
        r#""requestURI":"/api/v1/namespaces/default/secrets?limit=500","verb":"list","#,
        r#""user":{"username":"bob","groups":["system:masters","system:authenticated"]},"#,
        r#""sourceIPs":["127.0.0.1"],"userAgent":"kubectl/v1.24.2 (linux/amd64) kubernetes/f66044f","#,
        r#""objectRef":{"resource":"secrets","namespace":"default","apiVersion":"v1"},"#,
        r#""responseStatus":{"metadata":{},"code":200},"#,
        r#""requestReceivedTimestamp":"2024-12-13T05:28:39.999903Z","#,
        r#""stageTimestamp":"2024-12-13T05:28:40.005508Z","#,
        r#""annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}"#,
        "\n"
    );

    fn kube_event() -> Event {
        let mut event = Event::new(
            Level::Metadata,
            "da5d1997-b4c5-44a4-b015-5eacc25d6432",
            Stage::ResponseComplete,
            received(),
        );
        event.request_uri = "/api/v1/namespaces/default/secrets?limit=500".into();
        event.verb = "list".into();
        event.user = UserInfo {
            username: "bob".into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
            ..UserInfo::default()
        };
        event.source_ips = vec!["127.0.0.1".into()];
        event.user_agent = "kubectl/v1.24.2 (linux/amd64) kubernetes/f66044f".into();
        event.object_ref = Some(ObjectRef {
            resource: "secrets".into(),
            namespace: "default".into(),
            api_version: "v1".into(),
            ..ObjectRef::default()
        });
        event.response_status = Some(ResponseStatus { code: 200, ..ResponseStatus::default() });
        event.stage_timestamp = received() + Duration::from_micros(5_605);
        event.annotations.insert("authorization.k8s.io/reason".into(), String::new());
        event.annotations.insert("authorization.k8s.io/decision".into(), "allow".into());
        event
    }

    #[test]
    fn a_log_line_is_byte_for_byte_what_kube_writes() {
        let line = kube_event().to_json_line().unwrap();
        assert_eq!(String::from_utf8(line).unwrap(), KUBE_LINE);
    }

    #[test]
    fn a_kube_line_reads_back_into_the_same_event() {
        let event: Event = serde_json::from_str(KUBE_LINE).unwrap();
        assert_eq!(event, kube_event());
    }

    #[test]
    fn timestamps_keep_six_fractional_digits_even_when_they_are_zero() {
        let at = UNIX_EPOCH + Duration::from_secs(1_672_531_200);
        let event = Event::new(Level::Metadata, "x", Stage::RequestReceived, at);
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["requestReceivedTimestamp"], "2023-01-01T00:00:00.000000Z");
        assert_eq!(value["stageTimestamp"], "2023-01-01T00:00:00.000000Z");
    }

    #[test]
    fn an_error_status_keeps_kube_field_order_and_bodies_are_embedded() {
        let mut event =
            Event::new(Level::RequestResponse, "id", Stage::ResponseComplete, received());
        event.response_status = Some(ResponseStatus {
            status: "Failure".into(),
            message: "configmaps \"x\" not found".into(),
            reason: "NotFound".into(),
            details: Some(StatusDetails {
                name: "x".into(),
                kind: "configmaps".into(),
                ..StatusDetails::default()
            }),
            code: 404,
            ..ResponseStatus::default()
        });
        event.request_object = Some(json!({"kind": "ConfigMap"}));
        event.impersonated_user =
            Some(UserInfo { username: "alice".into(), ..UserInfo::default() });
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains(concat!(
            r#""responseStatus":{"metadata":{},"status":"Failure","#,
            r#""message":"configmaps \"x\" not found","reason":"NotFound","#,
            r#""details":{"name":"x","kind":"configmaps"},"code":404}"#,
            r#","requestObject":{"kind":"ConfigMap"}"#
        )));
        assert!(text.contains(r#""user":{},"impersonatedUser":{"username":"alice"}"#), "{text}");
    }

    #[test]
    fn an_event_list_has_type_fields_only_at_the_top() {
        let items = vec![Arc::new(kube_event())];
        let value = serde_json::to_value(EventList::new(&items)).unwrap();
        assert_eq!(value["kind"], "EventList");
        assert_eq!(value["apiVersion"], "audit.k8s.io/v1");
        assert_eq!(value["metadata"], json!({}));
        assert_eq!(value["items"][0]["auditID"], "da5d1997-b4c5-44a4-b015-5eacc25d6432");
        assert!(value["items"][0].get("kind").is_none());
        let text = serde_json::to_string(&EventList::new(&items)).unwrap();
        assert!(text.starts_with(r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[{"level":"Metadata","#));
    }

    #[test]
    fn levels_are_ordered_and_stage_sets_hold_what_was_put_in() {
        assert!(Level::None < Level::Metadata && Level::Request < Level::RequestResponse);
        let set: StageSet = [Stage::RequestReceived, Stage::Panic].into_iter().collect();
        assert!(set.contains(Stage::Panic) && !set.contains(Stage::ResponseComplete));
        let both = set.union([Stage::ResponseStarted].into_iter().collect());
        assert!(both.contains(Stage::ResponseStarted) && both.contains(Stage::RequestReceived));
    }
}
