//! A replay's `format=audit` line written from borrowed data: what encoding
//! [`audit_event`](super::replay::audit_event) as a typed log line gives, byte for byte, without
//! building that owned event (a dozen strings copied out of the provenance and the resource per
//! event, a map serialized through `flatten`) and without searching the encoded line for where
//! the response object goes.
//!
//! Data flows one way: the storage event, where it is ([`Located`]) and its object's uid →
//! [`write_head`] (everything up to `responseStatus`), then the caller's object as
//! `responseObject` (its served JSON, written straight into the chunk), then [`write_tail`]
//! (the timestamps and annotations) → the line, appended to the caller's chunk.

use std::borrow::Cow;
use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::record::{MicroTime, Quoted};
use super::replay::RESTORED_FROM_ANNOTATION;
use super::scope::Located;
use crate::audit::FIELD_MANAGER_ANNOTATION;
use crate::audit::types::{API_VERSION, EmptyMeta, Level, Stage};
use crate::storage::{Event, EventType, Provenance, Revision};

/// Appends the audit line of `event` up to where its `responseObject` goes: `uid` is the
/// object's `metadata.uid` ([`object_uid`] of its stored or served JSON, empty without one).
/// After it come [`RESPONSE_OBJECT`] and the object's served JSON when there is an object, then
/// [`write_tail`].
pub fn write_head(
    chunk: &mut Vec<u8>,
    event: &Event,
    located: &Located,
    uid: &str,
) -> serde_json::Result<()> {
    let head = AuditHead::of(event, located, event.provenance.as_ref(), uid);
    serde_json::to_writer(&mut *chunk, &head)?;
    // `…}` is continued: `…,"responseObject":{…}` and then `,…tail members…}`.
    chunk.pop();
    Ok(())
}

/// What comes between [`write_head`] and the object's served JSON.
pub const RESPONSE_OBJECT: &[u8] = b",\"responseObject\":";

/// Ends the line [`write_head`] began: the timestamps and annotations.
pub fn write_tail(chunk: &mut Vec<u8>, event: &Event) -> serde_json::Result<()> {
    let who = event.provenance.as_ref();
    let at = MicroTime(who.map_or(0, |w| w.timestamp_micros));
    let tail = AuditTail { at, at_again: at, annotations: Annotations(who) };
    let tail_start = chunk.len();
    serde_json::to_writer(&mut *chunk, &tail)?;
    chunk[tail_start] = b',';
    Ok(())
}

/// The whole line of `event`, `object` its served JSON: [`write_head`], the object,
/// [`write_tail`].
#[cfg(test)]
pub fn write(
    chunk: &mut Vec<u8>,
    event: &Event,
    located: &Located,
    object: Option<&[u8]>,
) -> serde_json::Result<()> {
    let uid = match object {
        Some(object) => object_uid(object)?,
        None => Cow::Borrowed(""),
    };
    write_head(chunk, event, located, &uid)?;
    if let Some(object) = object {
        chunk.extend_from_slice(RESPONSE_OBJECT);
        chunk.extend_from_slice(object);
    }
    write_tail(chunk, event)
}

/// `metadata.uid` of an object's JSON (stored or served: the same uid): found by [`scan_uid`],
/// or, when that is not sure, read with serde.
pub fn object_uid(object: &[u8]) -> serde_json::Result<Cow<'_, str>> {
    if let Some(uid) = scan_uid(object) {
        return Ok(Cow::Borrowed(uid));
    }
    #[derive(serde::Deserialize)]
    struct Uid<'a> {
        #[serde(borrow, default)]
        metadata: Option<UidOnly<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct UidOnly<'a> {
        #[serde(borrow, default)]
        uid: Option<Cow<'a, str>>,
    }
    let read: Uid<'_> = serde_json::from_slice(object)?;
    Ok(read.metadata.and_then(|m| m.uid).unwrap_or_default())
}

/// `metadata.uid` of a JSON object by walking only its top level and its `metadata`'s members
/// (`""` when either is missing): the rest of the object is skipped by its brackets and quotes,
/// not parsed, which is most of what finding the uid cost. `None` when anything is not plain
/// (a name or the uid with an escape, a `metadata` or `uid` of another type, bytes that do not
/// look like JSON): the caller parses then.
fn scan_uid(json: &[u8]) -> Option<&str> {
    let mut at = Cursor { json, at: 0 };
    at.open(b'{')?;
    while let Some(name) = at.member()? {
        if name != b"metadata" {
            at.skip_value()?;
            continue;
        }
        at.open(b'{')?;
        while let Some(name) = at.member()? {
            if name == b"uid" {
                return std::str::from_utf8(at.string()?).ok();
            }
            at.skip_value()?;
        }
        return Some("");
    }
    Some("")
}

/// A position in a JSON text, for [`scan_uid`].
struct Cursor<'a> {
    json: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.json.get(self.at) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    /// Steps past `byte`, the next thing in the text.
    fn open(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The next member's name, the cursor on its value; `None` after the object's last member.
    fn member(&mut self) -> Option<Option<&'a [u8]>> {
        if self.peek()? == b',' {
            self.at += 1;
        }
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(None);
        }
        let name = self.string()?;
        self.open(b':')?;
        Some(Some(name))
    }

    /// A string without escapes, the cursor after it.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.open(b'"')?;
        let start = self.at;
        let len = self.json[start..].iter().position(|&b| b == b'"' || b == b'\\')?;
        if self.json[start + len] == b'\\' {
            return None;
        }
        self.at = start + len + 1;
        Some(&self.json[start..start + len])
    }

    /// Steps past the next value, whatever it holds.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            let byte = self.peek()?;
            match byte {
                b'"' => {
                    self.at += 1;
                    loop {
                        match self.json.get(self.at)? {
                            b'\\' => self.at += 2,
                            b'"' => break,
                            _ => self.at += 1,
                        }
                    }
                    self.at += 1;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' | b':' if depth > 0 => self.at += 1,
                b',' => return Some(()),
                _ => {
                    let end = self.json[self.at..].iter().position(|b| {
                        matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\t' | b'\r')
                    })?;
                    self.at += end.max(1);
                }
            }
            if depth == 0 && matches!(self.peek()?, b',' | b'}') {
                return Some(());
            }
        }
    }
}

/// The typed event's members up to `responseStatus`, in kube's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditHead<'a> {
    kind: &'static str,
    api_version: &'static str,
    level: Level,
    #[serde(rename = "auditID")]
    audit_id: AuditId<'a>,
    stage: Stage,
    #[serde(rename = "requestURI")]
    request_uri: RequestUri<'a>,
    verb: &'a str,
    user: User<'a>,
    #[serde(rename = "sourceIPs", skip_serializing_if = "Option::is_none")]
    source_ips: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "str::is_empty")]
    user_agent: &'a str,
    object_ref: ObjectRef<'a>,
    response_status: ResponseStatus,
}

impl<'a> AuditHead<'a> {
    fn of(
        event: &'a Event,
        located: &'a Located,
        who: Option<&'a Provenance>,
        uid: &'a str,
    ) -> AuditHead<'a> {
        let verb = who.map(|w| w.verb.as_str()).unwrap_or(match event.event_type {
            EventType::Created => "create",
            EventType::Updated => "update",
            EventType::Deleted => "delete",
        });
        let resource = &located.resource;
        AuditHead {
            kind: "Event",
            api_version: API_VERSION,
            level: Level::RequestResponse,
            audit_id: AuditId { who, revision: event.revision },
            stage: Stage::ResponseComplete,
            request_uri: RequestUri { located, create: verb == "create" },
            verb,
            user: match who {
                Some(who) => User { username: &who.user, uid: &who.uid, groups: &who.groups },
                None => User { username: "", uid: "", groups: &[] },
            },
            source_ips: who.map(|w| [w.source_ip.as_str()]).filter(|[ip]| !ip.is_empty()),
            user_agent: who.map_or("", |w| &w.user_agent),
            object_ref: ObjectRef {
                resource: &resource.plural,
                namespace: &located.namespace,
                name: &located.name,
                uid,
                api_group: &resource.gv.group,
                api_version: &resource.gv.version,
                resource_version: Quoted(event.revision),
            },
            response_status: ResponseStatus {
                metadata: EmptyMeta {},
                code: if event.event_type == EventType::Created { 201 } else { 200 },
            },
        }
    }
}

/// The write's audit ID, or `kube-ledger-revision-N` for an event without one.
struct AuditId<'a> {
    who: Option<&'a Provenance>,
    revision: Revision,
}

impl Serialize for AuditId<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.who.map(|w| w.audit_id.as_str()) {
            Some(id) if !id.is_empty() => serializer.serialize_str(id),
            _ => serializer.collect_str(&format_args!("kube-ledger-revision-{}", self.revision)),
        }
    }
}

/// The path the write was sent to: the collection for a create, the object otherwise.
struct RequestUri<'a> {
    located: &'a Located,
    create: bool,
}

impl fmt::Display for RequestUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (located, gv) = (self.located, &self.located.resource.gv);
        match gv.group.is_empty() {
            true => write!(f, "/api/{}", gv.version)?,
            false => write!(f, "/apis/{}/{}", gv.group, gv.version)?,
        }
        if !located.namespace.is_empty() {
            write!(f, "/namespaces/{}", located.namespace)?;
        }
        write!(f, "/{}", located.resource.plural)?;
        if !self.create {
            write!(f, "/{}", located.name)?;
        }
        Ok(())
    }
}

impl Serialize for RequestUri<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Serialize)]
struct User<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    username: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    uid: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    groups: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectRef<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    resource: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    uid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    api_group: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    api_version: &'a str,
    resource_version: Quoted,
}

#[derive(Serialize)]
struct ResponseStatus {
    metadata: EmptyMeta,
    code: i32,
}

/// The members after `responseObject`.
#[derive(Serialize)]
struct AuditTail<'a> {
    #[serde(rename = "requestReceivedTimestamp")]
    at: MicroTime,
    #[serde(rename = "stageTimestamp")]
    at_again: MicroTime,
    #[serde(skip_serializing_if = "Annotations::is_empty")]
    annotations: Annotations<'a>,
}

/// The field manager and the restore's source, in key order as Go writes a map.
struct Annotations<'a>(Option<&'a Provenance>);

impl Annotations<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_none_or(|who| who.field_manager.is_empty() && who.restored_from.is_none())
    }
}

impl Serialize for Annotations<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(who) = self.0 {
            // Sorted: `kube-ledger.io/field-manager` < `kube-ledger.io/restored-from`.
            if !who.field_manager.is_empty() {
                map.serialize_entry(FIELD_MANAGER_ANNOTATION, &who.field_manager)?;
            }
            if let Some(revision) = who.restored_from {
                map.serialize_entry(RESTORED_FROM_ANNOTATION, &Quoted(revision))?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scanned_uid_is_the_parsed_one_or_none() {
        let cases = [
            r#"{"kind":"ConfigMap","metadata":{"name":"a","uid":"u-1"},"data":{"uid":"no"}}"#,
            r#"{"data":{"metadata":{"uid":"no"}},"metadata":{"ownerReferences":[{"uid":"o"}],"uid":"u-2"}}"#,
            r#"{"spec":{"s":"a \"}, [ { quoted","n":[1,2.5e3,true,null,{}]},"metadata":{"uid":"u-3"}}"#,
            r#" { "metadata" : { "labels" : { "a" : "b" } , "uid" : "u-4" } } "#,
            r#"{"metadata":{"name":"a"},"spec":{}}"#,
            r#"{"kind":"X"}"#,
            r#"{}"#,
            r#"{"metadata":{"uid":"esc\u0041ped"}}"#,
            r#"{"metadata":null}"#,
            r#"{"metadata":{"uid":null}}"#,
            r#"{"n":-1,"b":false,"metadata":{"generation":3,"uid":"u-5"}}"#,
        ];
        for case in cases {
            let parsed = object_uid(case.as_bytes()).unwrap();
            match scan_uid(case.as_bytes()) {
                Some(scanned) => assert_eq!(scanned, parsed, "{case}"),
                None => assert!(
                    case.contains("\\u0041") || case.contains("null"),
                    "{case}: not scanned"
                ),
            }
        }
        assert_eq!(scan_uid(br#"{"metadata":{"uid":"u-3"}}"#), Some("u-3"));
        // Not JSON objects: no answer, never a wrong one.
        for bad in [&b""[..], b"[]", b"{\"metadata\":{\"uid\":", b"{\"a\":\"unterminated"] {
            assert_eq!(scan_uid(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
