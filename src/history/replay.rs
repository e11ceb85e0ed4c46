//! Replay (`replay?from&to&resource&group&namespace&format`): every retained event of a prefix,
//! in revision order, as JSON lines — `Revision` items with what they are about, or
//! `audit.k8s.io/v1` Events that audit tooling reads as it reads kube-apiserver's log.
//!
//! Data flows one way: [`Storage::replay`]'s events, pulled as the client reads → [`Resolver`]
//! (resource, namespace, name) → the stored object in the served version → one line each,
//! gathered into chunks of about [`CHUNK_BYTES`]. Memory holds one chunk and the storage's
//! batch whatever the range; dropping the stream (the client went away) stops the read.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use futures::stream::Fuse;
use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::position::{Bounds, from_storage};
use serde::Serialize;

use super::audit_line;
use super::record::{ItemHead, revision_item, stored_object};
use super::scope::{Located, Resolver};
use crate::audit::FIELD_MANAGER_ANNOTATION;
use crate::audit::types::{Event as AuditEvent, Level, ObjectRef, ResponseStatus, Stage, UserInfo};
use crate::meta::status::ApiError;
use crate::registry::store::Store;
use crate::storage::{Event, EventStream, EventType, Revision};

/// A chunk of the response is sent once it holds this much: large enough that writing it costs
/// little per event, small enough that a slow client holds little in memory.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The audit annotation naming the revision a restore brought back.
pub const RESTORED_FROM_ANNOTATION: &str = "kube-ledger.io/restored-from";

/// What each line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A `Revision` item with `resource`, `namespace` and `name`.
    Json,
    /// An `audit.k8s.io/v1` Event at level `RequestResponse`.
    Audit,
}

impl Format {
    /// `format=`: `json` (the default) or `audit`.
    pub fn parse(text: Option<&str>) -> Result<Format, ApiError> {
        match text {
            None | Some("json") => Ok(Format::Json),
            Some("audit") => Ok(Format::Audit),
            Some(other) => Err(ApiError::bad_request(format!(
                "invalid format {other:?}: supported values are \"json\", \"audit\""
            ))),
        }
    }
}

/// A revision of the query (`from=`, `to=`): a decimal, not negative.
pub fn parse_revision(name: &str, text: &str) -> Result<Revision, ApiError> {
    text.parse::<Revision>().ok().filter(|r| *r >= 0).ok_or_else(|| {
        ApiError::bad_request(format!("invalid {name} {text:?}: expected a revision (a decimal)"))
    })
}

/// The range `from..=to` of a replay, checked against the log: `from` defaults to the oldest
/// retained revision and `to` to the head. `from > to` is a 400, a compacted `from` a 410
/// naming the oldest retained revision, a `to` past the head kube's 504 `Timeout`.
pub async fn range(
    store: &Store,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Revision, Revision), ApiError> {
    let from = from.map(|text| parse_revision("from", text)).transpose()?;
    let to = to.map(|text| parse_revision("to", text)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::bad_request(format!(
            "invalid range: from ({from}) is after to ({to})"
        )));
    }
    let bounds = Bounds::of(store.storage.as_ref()).await?;
    let (from, to) = (from.unwrap_or(bounds.oldest), to.unwrap_or(bounds.current));
    if from < bounds.oldest {
        return Err(ApiError::expired(from, bounds.oldest));
    }
    if to > bounds.current {
        return Err(ApiError::too_large_resource_version(to, bounds.current));
    }
    Ok((from, to.max(from.min(bounds.current))))
}

/// The events a replay shows: under a storage prefix, and in one namespace when the prefix
/// does not say it (a namespace across every resource).
#[derive(Debug)]
pub struct Replay {
    pub store: Store,
    pub resolver: Resolver,
    pub format: Format,
    /// Only events of this namespace (already implied by a resource's prefix, or checked here).
    pub namespace: Option<String>,
}

impl Replay {
    /// The response body: the events of `prefix` in `from..=to` as JSON lines, in chunks. An
    /// error after the first chunk ends the stream with that error: the client sees a body
    /// cut short, never a quietly incomplete one.
    pub async fn stream(
        self,
        prefix: &str,
        from: Revision,
        to: Revision,
    ) -> Result<impl Stream<Item = Result<Bytes, ApiError>> + Send + 'static, ApiError> {
        let events = self.store.storage.replay(prefix, from, to).await.map_err(from_storage)?;
        // Fused: a chunk ends at the last event, and the next pull must not poll past it.
        let events = events.fuse();
        Ok(futures::stream::unfold(Some((self, events)), |state| async move {
            let (mut replay, mut events) = state?;
            match replay.next_chunk(&mut events).await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some((replay, events)))),
                Ok(None) => None,
                Err(err) => Some((Err(err), None)),
            }
        }))
    }

    /// The next chunk of lines; `None` after the last event.
    async fn next_chunk(
        &mut self,
        events: &mut Fuse<EventStream>,
    ) -> Result<Option<Bytes>, ApiError> {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES + 4096);
        while chunk.len() < CHUNK_BYTES {
            let Some(event) = events.next().await else { break };
            let event = event.map_err(from_storage)?;
            let Some(located) = self.resolver.locate(&event.key) else { continue };
            if self.namespace.as_ref().is_some_and(|ns| *ns != located.namespace) {
                continue;
            }
            self.write_line(&mut chunk, &event, &located).await?;
            chunk.push(b'\n');
        }
        Ok((!chunk.is_empty()).then(|| Bytes::from(chunk)))
    }

    /// One line for `event`: the item (or audit event) without its object, encoded, and the
    /// object's served JSON ([`Store::write_served_json`], which copies a stored object as it
    /// is when it is served in its storage version) written after it into the chunk: what
    /// encoding the whole line would give, without decoding the object or copying it twice.
    async fn write_line(
        &self,
        chunk: &mut Vec<u8>,
        event: &Event,
        located: &Located,
    ) -> Result<(), ApiError> {
        let stored = stored_object(event);
        let encoded = |err: serde_json::Error| {
            ApiError::internal(format!("a replay line could not be written: {err}"))
        };
        match self.format {
            Format::Json => {
                let head = LineHead { about: About::of(located), item: ItemHead::of(event) };
                serde_json::to_writer(&mut *chunk, &head).map_err(encoded)?;
                if let Some(stored) = stored {
                    // The item ends with its object: `…}` becomes `…,"object":{…}}`.
                    chunk.pop();
                    chunk.extend_from_slice(b",\"object\":");
                    self.store.write_served_json(&located.resource, stored, chunk).await?;
                    chunk.push(b'}');
                }
            }
            Format::Audit => {
                // The stored object has the served one's uid: read before the object is written.
                let uid = match stored {
                    Some(stored) => audit_line::object_uid(&stored.value).map_err(encoded)?,
                    None => Cow::Borrowed(""),
                };
                audit_line::write_head(chunk, event, located, &uid).map_err(encoded)?;
                if let Some(stored) = stored {
                    chunk.extend_from_slice(audit_line::RESPONSE_OBJECT);
                    self.store.write_served_json(&located.resource, stored, chunk).await?;
                }
                audit_line::write_tail(chunk, event).map_err(encoded)?;
            }
        }
        Ok(())
    }
}

/// What a cross-object item is about: `resource`, `namespace` (when namespaced) and `name`, the
/// members every such item starts with.
#[derive(Debug, Serialize)]
pub struct About<'a> {
    resource: ResourceRef<'a>,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    name: &'a str,
}

#[derive(Debug, Serialize)]
struct ResourceRef<'a> {
    group: &'a str,
    version: &'a str,
    resource: &'a str,
}

impl<'a> About<'a> {
    pub fn of(located: &'a Located) -> About<'a> {
        let resource = &located.resource;
        About {
            resource: ResourceRef {
                group: &resource.gv.group,
                version: &resource.gv.version,
                resource: &resource.plural,
            },
            namespace: &located.namespace,
            name: &located.name,
        }
    }
}

/// A `format=json` line but for its object: [`About`], then the [`ItemHead`].
#[derive(Debug, Serialize)]
struct LineHead<'a> {
    #[serde(flatten)]
    about: About<'a>,
    #[serde(flatten)]
    item: ItemHead<'a>,
}

/// A `format=json` line: `resource`, `namespace` (when namespaced), `name`, then the `Revision`
/// item.
pub fn json_line(event: &Event, located: &Located, object: Option<Value>) -> Value {
    let mut line = Value::Object(about(located));
    if let (Value::Object(line), Value::Object(item)) = (&mut line, revision_item(event, object)) {
        line.extend(item);
    }
    line
}

/// [`About`] as a map, for items that add members of their own.
pub fn about(located: &Located) -> Map<String, Value> {
    match serde_json::to_value(About::of(located)) {
        Ok(Value::Object(about)) => about,
        _ => Map::new(),
    }
}

/// A `format=audit` line: the write as kube-apiserver's audit log would have recorded it at
/// level `RequestResponse`, stage `ResponseComplete`, the stored object as the response. An
/// event written without provenance has no user and the epoch as its time.
pub fn audit_event(event: &Event, located: &Located, object: Option<Value>) -> AuditEvent {
    let who = event.provenance.as_ref();
    let at =
        UNIX_EPOCH + Duration::from_micros(who.map_or(0, |w| w.timestamp_micros).max(0) as u64);
    let audit_id = match who.map(|w| w.audit_id.as_str()) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("kube-ledger-revision-{}", event.revision),
    };
    let verb = who.map(|w| w.verb.as_str()).unwrap_or(match event.event_type {
        EventType::Created => "create",
        EventType::Updated => "update",
        EventType::Deleted => "delete",
    });
    let resource = &located.resource;
    let uid = object.as_ref().and_then(crate::registry::object::uid).unwrap_or_default().to_owned();
    let mut audit = AuditEvent::new(Level::RequestResponse, audit_id, Stage::ResponseComplete, at);
    audit.request_uri = request_uri(located, verb == "create");
    audit.verb = verb.to_owned();
    if let Some(who) = who {
        audit.user = UserInfo {
            username: who.user.clone(),
            uid: who.uid.clone(),
            groups: who.groups.clone(),
            extra: None,
        };
        if !who.source_ip.is_empty() {
            audit.source_ips = vec![who.source_ip.clone()];
        }
        audit.user_agent = who.user_agent.clone();
        let mut annotations = BTreeMap::new();
        if !who.field_manager.is_empty() {
            annotations.insert(FIELD_MANAGER_ANNOTATION.to_owned(), who.field_manager.clone());
        }
        if let Some(revision) = who.restored_from {
            annotations.insert(RESTORED_FROM_ANNOTATION.to_owned(), revision.to_string());
        }
        audit.annotations = annotations;
    }
    audit.object_ref = Some(ObjectRef {
        resource: resource.plural.clone(),
        namespace: located.namespace.clone(),
        name: located.name.clone(),
        uid,
        api_group: resource.gv.group.clone(),
        api_version: resource.gv.version.clone(),
        resource_version: event.revision.to_string(),
        subresource: String::new(),
    });
    audit.response_status = Some(ResponseStatus {
        code: if event.event_type == EventType::Created { 201 } else { 200 },
        ..ResponseStatus::default()
    });
    audit.response_object = object;
    audit
}

/// The path the write was sent to: the collection for a create, the object otherwise.
fn request_uri(located: &Located, create: bool) -> String {
    let gv = &located.resource.gv;
    let mut path = match gv.group.is_empty() {
        true => format!("/api/{}", gv.version),
        false => format!("/apis/{}/{}", gv.group, gv.version),
    };
    if !located.namespace.is_empty() {
        path.push_str(&format!("/namespaces/{}", located.namespace));
    }
    path.push('/');
    path.push_str(&located.resource.plural);
    if !create {
        path.push('/');
        path.push_str(&located.name);
    }
    path
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::registry::Registry;
    use crate::storage::{Object, Provenance, Verb};

    fn located(key: &str) -> Located {
        let registry = Registry::new();
        crate::registry::builtin::register_all(&registry);
        Resolver::new(Arc::new(registry)).locate(key).unwrap()
    }

    fn event(revision: i64, event_type: EventType, verb: Verb) -> Event {
        let stored = Object {
            key: "/deployments/ns/web".into(),
            value: Bytes::from_static(b"{}"),
            create_revision: 3,
            mod_revision: revision,
        };
        let who = Provenance {
            timestamp_micros: 1_765_116_185_123_456,
            ..Provenance::now("alice", verb, "audit-7")
        }
        .with_identity("u-1", ["system:authenticated"], "kubectl/v1.32.0", "10.0.0.7")
        .with_field_manager("kubectl-client-side-apply");
        Event {
            revision,
            event_type,
            key: stored.key.clone(),
            object: (event_type != EventType::Deleted).then(|| stored.clone()),
            prev_object: Some(stored),
            provenance: Some(who),
        }
    }

    #[test]
    fn formats_and_revisions_parse_or_are_400s() {
        assert_eq!(Format::parse(None).unwrap(), Format::Json);
        assert_eq!(Format::parse(Some("audit")).unwrap(), Format::Audit);
        assert_eq!(Format::parse(Some("yaml")).unwrap_err().reason.code(), 400);
        assert_eq!(parse_revision("from", "42").unwrap(), 42);
        for bad in ["", "-1", "4x", "1.5"] {
            assert_eq!(parse_revision("from", bad).unwrap_err().reason.code(), 400, "{bad:?}");
        }
    }

    #[test]
    fn a_json_line_says_what_the_revision_is_about() {
        let line = json_line(
            &event(9, EventType::Updated, Verb::Patch),
            &located("/deployments/ns/web"),
            Some(json!({"kind": "Deployment"})),
        );
        let text = serde_json::to_string(&line).unwrap();
        assert!(
            text.starts_with(
                r#"{"resource":{"group":"apps","version":"v1","resource":"deployments"},"namespace":"ns","name":"web","revision":"9","type":"MODIFIED","time":"2025-12-07T14:03:05.123456Z","user":{"username":"alice","uid":"u-1""#
            ),
            "{text}"
        );
        assert_eq!(line["object"], json!({"kind": "Deployment"}));
    }

    #[test]
    fn an_audit_line_is_a_request_response_event_of_the_write() {
        let object = json!({"kind": "Deployment", "metadata": {"name": "web", "uid": "d-1"}});
        let audit = audit_event(
            &event(9, EventType::Updated, Verb::Patch),
            &located("/deployments/ns/web"),
            Some(object.clone()),
        );
        let line = serde_json::to_value(crate::audit::types::TypedEvent::new(&audit)).unwrap();
        assert_eq!(
            line,
            json!({
                "kind": "Event", "apiVersion": "audit.k8s.io/v1",
                "level": "RequestResponse", "auditID": "audit-7", "stage": "ResponseComplete",
                "requestURI": "/apis/apps/v1/namespaces/ns/deployments/web", "verb": "patch",
                "user": {"username": "alice", "uid": "u-1", "groups": ["system:authenticated"]},
                "sourceIPs": ["10.0.0.7"], "userAgent": "kubectl/v1.32.0",
                "objectRef": {"resource": "deployments", "namespace": "ns", "name": "web",
                    "uid": "d-1", "apiGroup": "apps", "apiVersion": "v1", "resourceVersion": "9"},
                "responseStatus": {"metadata": {}, "code": 200},
                "responseObject": object,
                "requestReceivedTimestamp": "2025-12-07T14:03:05.123456Z",
                "stageTimestamp": "2025-12-07T14:03:05.123456Z",
                "annotations": {"kube-ledger.io/field-manager": "kubectl-client-side-apply"},
            })
        );
        // A create was sent to the collection and answered 201; a cluster-scoped key has no
        // namespace.
        let created =
            audit_event(&event(3, EventType::Created, Verb::Create), &located("/minions/n1"), None);
        assert_eq!(created.request_uri, "/api/v1/nodes");
        assert_eq!(created.response_status.unwrap().code, 201);
        assert_eq!(created.object_ref.unwrap().namespace, "");
    }

    #[test]
    fn lines_with_their_object_spliced_in_are_the_encoded_lines() {
        let object = json!({"kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": "web", "uid": "d-1", "resourceVersion": "9"},
            "spec": {"note": "\"requestReceivedTimestamp\":"}});
        let bytes = serde_json::to_vec(&object).unwrap();
        let at = located("/deployments/ns/web");
        let mut foreign = event(5, EventType::Deleted, Verb::Delete);
        foreign.provenance = None;
        let mut restore = event(11, EventType::Updated, Verb::Update);
        if let Some(who) = restore.provenance.take() {
            restore.provenance = Some(who.with_restored_from(4));
        }
        let mut bare = event(12, EventType::Updated, Verb::Update);
        if let Some(who) = bare.provenance.as_mut() {
            who.field_manager.clear();
            who.source_ip.clear();
            who.uid.clear();
        }
        let created = (event(3, EventType::Created, Verb::Create), located("/minions/n1"));
        let cases = [
            (event(9, EventType::Updated, Verb::Patch), at.clone(), Some(object.clone())),
            (foreign, at.clone(), None),
            (restore, at.clone(), Some(object.clone())),
            (bare, at.clone(), Some(json!({"kind": "Deployment"}))),
            (created.0, created.1, Some(json!({"metadata": {"uid": "n\"1"}}))),
        ];
        for (event, at, object) in cases {
            let whole = serde_json::to_vec(&crate::audit::types::TypedEvent::new(&audit_event(
                &event,
                &at,
                object.clone(),
            )))
            .unwrap();
            let mut chunk = b"{\"previous\":\"line\"}\n".to_vec();
            let start = chunk.len();
            let served = object.map(|o| serde_json::to_vec(&o).unwrap());
            audit_line::write(&mut chunk, &event, &at, served.as_deref()).unwrap();
            assert_eq!(String::from_utf8_lossy(&chunk[start..]), String::from_utf8_lossy(&whole));
        }

        let event = event(9, EventType::Updated, Verb::Patch);
        let whole = serde_json::to_vec(&json_line(&event, &at, Some(object))).unwrap();
        let head = LineHead { about: About::of(&at), item: ItemHead::of(&event) };
        let mut line = serde_json::to_vec(&head).unwrap();
        line.pop();
        line.extend_from_slice(b",\"object\":");
        line.extend_from_slice(&bytes);
        line.push(b'}');
        assert_eq!(String::from_utf8_lossy(&line), String::from_utf8_lossy(&whole));
    }

    #[test]
    fn an_event_without_provenance_still_has_an_audit_id_and_verb() {
        let mut foreign = event(5, EventType::Deleted, Verb::Delete);
        foreign.provenance = None;
        let audit = audit_event(&foreign, &located("/deployments/ns/web"), None);
        assert_eq!(audit.audit_id, "kube-ledger-revision-5");
        assert_eq!(audit.verb, "delete");
        assert_eq!(audit.user, UserInfo::default());
    }
}
