//! A watch response read as events: the body's chunks are split into JSON lines, each decoded
//! into the few fields the scenarios use, stamped with the time its chunk arrived (so decoding
//! time is not counted as delivery latency).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::api::{Meta, describe};
use crate::error::{Error, Result};
use crate::scenario::unix_nanos;

/// The type of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

/// One event of a watch stream.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    pub name: String,
    pub resource_version: String,
    pub annotations: BTreeMap<String, String>,
    /// The Status code of an ERROR event (410 when the revision is gone).
    pub code: Option<u16>,
    /// Unix nanoseconds when the chunk holding the event was read.
    pub received_nanos: u64,
}

#[derive(Debug, Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    object: RawObject,
}

#[derive(Debug, Deserialize)]
struct RawObject {
    metadata: Option<Meta>,
    code: Option<u16>,
}

/// An open watch.
#[derive(Debug)]
pub struct WatchStream {
    response: reqwest::Response,
    /// Bytes read; those before `start` were lines already returned.
    buffer: Vec<u8>,
    /// Where the first line not yet returned starts in `buffer`: lines are handed out by moving
    /// it, and the consumed prefix is dropped only when the next chunk is read (removing each
    /// line from the front would move the rest of a many-event chunk once per event).
    start: usize,
    /// When the bytes at the front of `buffer` arrived.
    received_nanos: u64,
}

impl WatchStream {
    pub fn new(response: reqwest::Response) -> WatchStream {
        WatchStream { response, buffer: Vec::new(), start: 0, received_nanos: 0 }
    }

    /// The next event; `None` when the server ended the stream.
    pub async fn next(&mut self) -> Result<Option<Event>> {
        loop {
            let pending = &self.buffer[self.start..];
            if let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line = &pending[..end];
                self.start += end + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return decode(line, self.received_nanos).map(Some);
            }
            self.buffer.drain(..self.start);
            self.start = 0;
            let chunk = self.response.chunk().await.map_err(|e| Error::Request {
                what: "reading a watch stream".to_owned(),
                reason: describe(&e),
            })?;
            match chunk {
                Some(bytes) => {
                    if self.buffer.is_empty() {
                        self.received_nanos = unix_nanos();
                    }
                    self.buffer.extend_from_slice(&bytes);
                }
                None => return Ok(None),
            }
        }
    }
}

/// Decodes one JSON line of a watch stream.
pub fn decode(line: &[u8], received_nanos: u64) -> Result<Event> {
    let raw: RawEvent = serde_json::from_slice(line)
        .map_err(|e| Error::Decode { what: "a watch event".to_owned(), reason: e.to_string() })?;
    let kind = match raw.kind.as_str() {
        "ADDED" => Kind::Added,
        "MODIFIED" => Kind::Modified,
        "DELETED" => Kind::Deleted,
        "BOOKMARK" => Kind::Bookmark,
        "ERROR" => Kind::Error,
        other => {
            return Err(Error::Decode {
                what: "a watch event".to_owned(),
                reason: format!("unknown type {other:?}"),
            });
        }
    };
    let (name, resource_version, annotations) = match raw.object.metadata {
        Some(meta) => (meta.name, meta.resource_version, meta.annotations),
        None => Default::default(),
    };
    Ok(Event { kind, name, resource_version, annotations, code: raw.object.code, received_nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_events_bookmarks_and_errors() {
        let line = br#"{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"12","annotations":{"k":"v"}},"data":{"value":"x"}}}"#;
        let event = decode(line, 5).unwrap();
        assert_eq!(event.kind, Kind::Modified);
        assert_eq!((event.name.as_str(), event.resource_version.as_str()), ("a", "12"));
        assert_eq!(event.annotations["k"], "v");
        assert_eq!(event.received_nanos, 5);
        let bookmark =
            decode(br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"20"}}}"#, 0)
                .unwrap();
        assert_eq!((bookmark.kind, bookmark.resource_version.as_str()), (Kind::Bookmark, "20"));
        let gone =
            decode(br#"{"type":"ERROR","object":{"kind":"Status","code":410,"metadata":{}}}"#, 0)
                .unwrap();
        assert_eq!((gone.kind, gone.code), (Kind::Error, Some(410)));
        assert!(decode(b"not json", 0).is_err());
        assert!(decode(br#"{"type":"WEIRD","object":{}}"#, 0).is_err());
    }
}
