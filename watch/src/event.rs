//! What a view holds and hands out: [`Object`]s (decoded once) and [`ViewEvent`]s (one per log
//! entry, shared by every watcher through an `Arc`, with a cache of their encodings).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use crate::metrics::ViewMetrics;
use crate::source::{EntryKind, StoredObject};

/// One object of a view: the stored bytes, and the JSON decoded from them once.
///
/// Decoding once per write, instead of once per watcher per event (as a per-client storage watch
/// does), is most of what a view saves: selectors and encoders all read [`Object::json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: Arc<str>,
    /// The stored value, exactly as the log holds it.
    pub value: Bytes,
    /// `value` decoded. [`Value::Null`] when the value is not JSON (counted in
    /// [`ViewMetrics::decode_errors`]); selectors then see no labels or fields.
    pub json: Value,
    /// The revision that created this incarnation of the key.
    pub create_revision: i64,
    /// The revision of the last write to the key: the object's resourceVersion. 0 when unknown:
    /// for a previous object that only a log entry's `prev_value` told of.
    pub mod_revision: i64,
    /// What readers encoded of this revision of the object (a LIST's protobuf items), kept for
    /// as long as the view holds it.
    pub encodings: ObjectEncodings,
}

/// The encodings of one object, by the caller's key (served version, encoding): a LIST's item,
/// encoded by the first lister that asks and copied by every later one (kube-apiserver's
/// `CachingObject`, for lists). Clones start empty; equality ignores the cache.
#[derive(Default)]
pub struct ObjectEncodings {
    slots: Mutex<Vec<EncodingSlot>>,
}

/// One cached encoding: (served version, encoding) and its bytes.
type EncodingSlot = ((Arc<str>, &'static str), Bytes);

impl ObjectEncodings {
    /// The bytes for `(version, encoding)`: cached, or `encode`'s (then cached). Two readers
    /// missing at once may both encode; the bytes are the same.
    pub fn get_or_encode<E>(
        &self,
        version: &str,
        encoding: &'static str,
        encode: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let find = |slots: &Vec<EncodingSlot>| {
            slots
                .iter()
                .find(|((v, e), _)| **v == *version && *e == encoding)
                .map(|(_, b)| b.clone())
        };
        if let Some(bytes) = find(&self.slots.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(bytes);
        }
        let bytes = encode()?;
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if find(&slots).is_none() {
            slots.push(((version.into(), encoding), bytes.clone()));
        }
        Ok(bytes)
    }
}

impl Clone for ObjectEncodings {
    fn clone(&self) -> Self {
        ObjectEncodings::default()
    }
}

impl PartialEq for ObjectEncodings {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ObjectEncodings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObjectEncodings")
    }
}

impl Object {
    /// Decodes `value`. Never fails: a value that is not JSON becomes [`Value::Null`], because one
    /// bad object must not stop a view that serves every other object of its resource.
    pub(crate) fn decode(
        key: Arc<str>,
        value: Bytes,
        create_revision: i64,
        mod_revision: i64,
        decode_errors: &AtomicU64,
    ) -> Object {
        let json = serde_json::from_slice(&value).unwrap_or_else(|err| {
            decode_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%key, mod_revision, %err, "stored value is not JSON");
            Value::Null
        });
        Object {
            key,
            value,
            json,
            create_revision,
            mod_revision,
            encodings: ObjectEncodings::default(),
        }
    }

    pub(crate) fn from_stored(stored: StoredObject, decode_errors: &AtomicU64) -> Object {
        let StoredObject { key, value, create_revision, mod_revision } = stored;
        Object::decode(key, value, create_revision, mod_revision, decode_errors)
    }
}

/// A Kubernetes watch event type, as one watcher sees an event (the same [`ViewEvent`] can be
/// `ADDED` for one watcher and `MODIFIED` for another, depending on their selectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
}

impl WatchEventType {
    /// `ADDED`, `MODIFIED` or `DELETED`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
        }
    }
}

/// Identifies one encoding of an event, chosen by the caller: the served API version, the
/// encoding (for example `"json"`, or `"table-metadata"` for a Table with `includeObject=Metadata`)
/// and the event type. Two watchers asking for equal keys share one encoding.
///
/// The event type is part of the key because it changes the bytes: `DELETED` carries the previous
/// object, and the `type` field differs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodingKey {
    pub version: Arc<str>,
    pub encoding: &'static str,
    pub event_type: WatchEventType,
}

/// A small cache of encodings, one slot per [`EncodingKey`].
///
/// The slot list is a `std::sync::Mutex` held only to find or add a slot (never across an encode
/// or an `.await`), and each slot is a `OnceLock`: watchers wanting the same key wait for the
/// first one's encode instead of repeating it, while watchers wanting different keys never wait
/// for each other. A handful of keys per event is the norm, so a `Vec` beats a map.
#[derive(Default)]
struct EncodeCache {
    slots: Mutex<Vec<(EncodingKey, Arc<OnceLock<Bytes>>)>>,
}

impl EncodeCache {
    fn get_or_encode(
        &self,
        key: EncodingKey,
        metrics: &ViewMetrics,
        encode: impl FnOnce() -> Bytes,
    ) -> Bytes {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            match slots.iter().find(|(k, _)| *k == key) {
                Some((_, slot)) => slot.clone(),
                None => {
                    let slot = Arc::new(OnceLock::new());
                    slots.push((key, slot.clone()));
                    slot
                }
            }
        };
        let mut encoded_here = false;
        let bytes = slot
            .get_or_init(|| {
                encoded_here = true;
                encode()
            })
            .clone();
        let counter = if encoded_here { &metrics.encode_misses } else { &metrics.encode_hits };
        counter.fetch_add(1, Ordering::Relaxed);
        bytes
    }
}

/// One entry of the log as a view applied it: shared by the window and by every watcher it is
/// dispatched to, so an event costs one allocation however many watchers see it.
pub struct ViewEvent {
    pub revision: i64,
    pub kind: EntryKind,
    pub key: Arc<str>,
    /// The object after the event; `None` for [`EntryKind::Deleted`].
    pub object: Option<Arc<Object>>,
    /// The object before the event; `None` for [`EntryKind::Created`]. Taken from the view's
    /// state, so it is never decoded a second time.
    pub prev: Option<Arc<Object>>,
    /// When the view applied the event: the window evicts by age as well as by count.
    pub(crate) applied_at: Instant,
    cache: EncodeCache,
    /// The view's counters, for the cache's hits and misses.
    metrics: Arc<ViewMetrics>,
}

impl ViewEvent {
    pub(crate) fn new(
        revision: i64,
        kind: EntryKind,
        key: Arc<str>,
        object: Option<Arc<Object>>,
        prev: Option<Arc<Object>>,
        metrics: Arc<ViewMetrics>,
    ) -> ViewEvent {
        ViewEvent {
            revision,
            kind,
            key,
            object,
            prev,
            applied_at: Instant::now(),
            cache: EncodeCache::default(),
            metrics,
        }
    }

    /// The encoding of this event for `key`: `encode`'s result, computed by the first watcher that
    /// asks and shared with every later one (kube-apiserver's `CachingObject`). Hits and misses
    /// are counted in [`ViewMetrics`].
    pub fn encoded(&self, key: EncodingKey, encode: impl FnOnce() -> Bytes) -> Bytes {
        self.cache.get_or_encode(key, &self.metrics, encode)
    }

    /// The namespace segment of the key, given the view's prefix (`/pods/` → `default` for
    /// `/pods/default/web-0`); `None` for cluster-scoped keys.
    pub(crate) fn namespace<'a>(&'a self, prefix: &str) -> Option<&'a str> {
        namespace_of(&self.key, prefix)
    }
}

impl std::fmt::Debug for ViewEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewEvent")
            .field("revision", &self.revision)
            .field("kind", &self.kind)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The namespace of `key` under `prefix`: the first segment, when another segment follows it.
pub(crate) fn namespace_of<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = key.strip_prefix(prefix)?;
    rest.split_once('/').map(|(namespace, _)| namespace)
}
