//! The envelopes kube wraps every protobuf response in: the object (`k8s\0` + `runtime.Unknown`),
//! a list (`{metadata = 1 ListMeta, items = 2}`), a watch event frame (a 4-byte big-endian length,
//! then a `k8s\0` `WatchEvent` whose `object.raw` is the object's own `k8s\0` encoding), and the
//! `meta.k8s.io` `PartialObjectMetadata` forms. Field by field as gogo writes them: value fields
//! always (an empty string too), pointers only when set, in field-number order.

use serde_json::{Map, Value};

use super::MAGIC;
use super::wire::{begin, end, put_bytes_field, put_key, put_varint, put_varint_field, varint_len};

/// `k8s\0` + `runtime.Unknown{typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2,
/// contentEncoding = 3, contentType = 4}` around an object's message.
pub fn object(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(raw.len() + api_version.len() + kind.len() + 24);
    buf.extend_from_slice(MAGIC);
    unknown_head(&mut buf, api_version, kind, raw.len());
    buf.extend_from_slice(raw);
    unknown_tail(&mut buf);
    buf
}

/// Everything of a `runtime.Unknown` before its raw bytes, which are `raw_len` long.
fn unknown_head(buf: &mut Vec<u8>, api_version: &str, kind: &str, raw_len: usize) {
    let start = begin(buf, 1);
    put_bytes_field(buf, 1, api_version.as_bytes());
    put_bytes_field(buf, 2, kind.as_bytes());
    end(buf, start);
    put_key(buf, 2, 2);
    put_varint(buf, raw_len as u64);
}

/// `contentEncoding` and `contentType`, both empty: plain protobuf.
fn unknown_tail(buf: &mut Vec<u8>) {
    put_bytes_field(buf, 3, b"");
    put_bytes_field(buf, 4, b"");
}

/// `metav1.ListMeta{selfLink = 1, resourceVersion = 2, continue = 3, remainingItemCount = 4}`
/// from a list's JSON `metadata`.
pub fn list_meta(meta: &Map<String, Value>) -> Vec<u8> {
    let text = |name: &str| meta.get(name).and_then(Value::as_str).unwrap_or_default();
    let mut buf = Vec::new();
    put_bytes_field(&mut buf, 1, text("selfLink").as_bytes());
    put_bytes_field(&mut buf, 2, text("resourceVersion").as_bytes());
    put_bytes_field(&mut buf, 3, text("continue").as_bytes());
    if let Some(count) = meta.get("remainingItemCount").and_then(Value::as_i64) {
        put_varint_field(&mut buf, 4, count as u64);
    }
    buf
}

/// A list: `k8s\0` + Unknown around `{metadata = 1, items = 2…}`, the items' messages (already
/// encoded, so a cached item costs a copy) concatenated.
pub fn list<'a>(
    api_version: &str,
    list_kind: &str,
    list_meta: &[u8],
    items: impl Iterator<Item = &'a [u8]> + Clone,
) -> Vec<u8> {
    let field_len = |len: usize| 1 + varint_len(len as u64) + len;
    let raw_len =
        field_len(list_meta.len()) + items.clone().map(|item| field_len(item.len())).sum::<usize>();
    let mut buf = Vec::with_capacity(raw_len + api_version.len() + list_kind.len() + 24);
    buf.extend_from_slice(MAGIC);
    unknown_head(&mut buf, api_version, list_kind, raw_len);
    put_bytes_field(&mut buf, 1, list_meta);
    for item in items {
        put_bytes_field(&mut buf, 2, item);
    }
    unknown_tail(&mut buf);
    buf
}

/// One frame of a protobuf watch stream: the 4-byte big-endian length of what follows, then
/// `k8s\0` + Unknown{`<apiVersion>`, `WatchEvent`} around `{type = 1, object = 2 {raw = 1}}`, the
/// raw being the object's own `k8s\0` encoding. `WatchEvent` is registered in every group
/// version, so its envelope names the watched resource's.
pub fn watch_frame(api_version: &str, event_type: &str, object: &[u8]) -> Vec<u8> {
    let mut event = Vec::with_capacity(object.len() + event_type.len() + 16);
    put_bytes_field(&mut event, 1, event_type.as_bytes());
    let start = begin(&mut event, 2);
    put_bytes_field(&mut event, 1, object);
    end(&mut event, start);
    let mut frame = vec![0; 4];
    frame.extend_from_slice(MAGIC);
    unknown_head(&mut frame, api_version, "WatchEvent", event.len());
    frame.extend_from_slice(&event);
    unknown_tail(&mut frame);
    let len = (frame.len() - 4) as u32;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_pb::apimachinery::pkg::runtime::Unknown;
    use prost::Message as _;

    use super::*;

    fn unwrap(body: &[u8]) -> Unknown {
        Unknown::decode(body.strip_prefix(MAGIC).expect("k8s\\0")).unwrap()
    }

    #[test]
    fn an_object_envelope_is_what_kube_writes() {
        let body = object("v1", "ConfigMap", b"\x0a\x00");
        // Byte for byte: typeMeta, raw, and the two empty strings gogo always writes.
        assert_eq!(
            body,
            b"k8s\0\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x02\x0a\x00\x1a\x00\x22\x00".to_vec()
        );
        let unknown = unwrap(&body);
        assert_eq!(unknown.type_meta.unwrap().kind.as_deref(), Some("ConfigMap"));
        assert_eq!(unknown.raw.as_deref(), Some(&b"\x0a\x00"[..]));
    }

    #[test]
    fn a_list_concatenates_its_items() {
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), "42".into());
        meta.insert("continue".into(), "abc".into());
        meta.insert("remainingItemCount".into(), 7.into());
        let items: [&[u8]; 2] = [b"\x0a\x03\x0a\x01a", &[b'x'; 200]];
        let body = list("v1", "ConfigMapList", &list_meta(&meta), items.iter().copied());
        let unknown = unwrap(&body);
        assert_eq!(unknown.type_meta.unwrap().kind.as_deref(), Some("ConfigMapList"));
        #[derive(Clone, PartialEq, prost::Message)]
        struct List {
            #[prost(message, optional, tag = "1")]
            metadata: Option<meta::ListMeta>,
            #[prost(bytes = "vec", repeated, tag = "2")]
            items: Vec<Vec<u8>>,
        }
        let list = List::decode(unknown.raw.unwrap().as_slice()).unwrap();
        let meta = list.metadata.unwrap();
        assert_eq!(meta.resource_version.as_deref(), Some("42"));
        assert_eq!(meta.r#continue.as_deref(), Some("abc"));
        assert_eq!(meta.remaining_item_count, Some(7));
        assert_eq!(list.items, items.map(<[u8]>::to_vec));
    }

    #[test]
    fn a_watch_frame_is_length_prefixed() {
        let inner = object("v1", "ConfigMap", b"");
        let frame = watch_frame("v1", "ADDED", &inner);
        let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len, frame.len() - 4);
        let unknown = unwrap(&frame[4..]);
        let type_meta = unknown.type_meta.unwrap();
        assert_eq!(type_meta.api_version.as_deref(), Some("v1"));
        assert_eq!(type_meta.kind.as_deref(), Some("WatchEvent"));
        let event = meta::WatchEvent::decode(unknown.raw.unwrap().as_slice()).unwrap();
        assert_eq!(event.r#type.as_deref(), Some("ADDED"));
        assert_eq!(event.object.unwrap().raw.unwrap(), inner);
    }
}
