//! The storage contract: a revisioned, append-only event log over a key space of objects.
//!
//! Everything above this module (registry, views, watch fan-out) talks to storage only through
//! [`Storage`]; everything below it is a backend ([`embedded`] on SQLite, [`etcd`] on an etcd
//! cluster). This module never names a backend's client types, so a backend can be swapped or
//! added without touching the layers above.
//!
//! # Model
//! - Every successful write appends exactly one [`Event`] and is assigned the next [`Revision`] of
//!   one global, strictly increasing sequence. That revision is the Kubernetes `resourceVersion`:
//!   an object's resourceVersion is the revision of the event that last modified it, a list's is
//!   the revision it was read at.
//! - Writes are optimistic: create-if-absent, update/delete-if-`mod_revision`-matches. A failed
//!   precondition hands back the current object so the caller can retry (the registry's
//!   "guaranteed update" loop).
//! - Every event records who did what ([`Provenance`]) so an object's history can be replayed.
//! - Old revisions are kept until [`Storage::compact`] drops them; reading or watching below the
//!   compacted revision fails with [`StorageError::Compacted`] (HTTP 410 Expired above).
//!
//! Data flows one way: a write goes down to a backend, the backend appends it to its log and
//! publishes the event to every watch of a matching prefix.

pub mod compactor;
pub mod embedded;
pub mod error;
pub mod etcd;
mod key;
pub mod position;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

pub use error::{Result, StorageError};
pub use key::{MAX_VALUE_BYTES, prefix_end, validate_key, validate_prefix, validate_value};

/// A position in the log: the Kubernetes `resourceVersion`. Revision 0 means "before anything".
pub type Revision = i64;

/// The verb a write was made with, as the API layer names it (kube-apiserver audit verbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "create" => Verb::Create,
            "update" => Verb::Update,
            "patch" => Verb::Patch,
            "delete" => Verb::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did what: recorded with every event so that history can be audited and replayed.
///
/// Built with [`Provenance::now`] (user, verb, audit ID, time), then, where the request knows
/// them, [`Provenance::with_identity`] and [`Provenance::with_field_manager`]. The fields after
/// `user` were added later (issue 12): entries written before them read back with those fields
/// empty, which is also what "unknown" means for a new entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The authenticated user name (after impersonation): `UserInfo.username`.
    pub user: String,
    /// The authenticated user's UID (`UserInfo.uid`), empty when the authenticator gives none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// The authenticated user's groups, in the authenticator's order (`UserInfo.groups`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The request's `User-Agent` header, empty when it had none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    /// The client's IP address as text (`10.0.0.7`, `::1`), the first of audit's `sourceIPs`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_ip: String,
    /// The field manager of the write (`?fieldManager=`, or the one derived from the user
    /// agent), empty until server-side apply and managed fields record one (issue 14).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field_manager: String,
    /// For a restore (issue 15): the revision whose object this write brought back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<Revision>,
    /// The API verb that caused the write.
    pub verb: Verb,
    /// The request's audit ID (kube-apiserver's `Audit-ID` header), empty when unknown.
    pub audit_id: String,
    /// When the write was accepted, in microseconds since the Unix epoch.
    pub timestamp_micros: i64,
}

impl Provenance {
    /// A provenance stamped with the current wall-clock time. The identity beyond the user name
    /// and the field manager stay empty until set with the builders below.
    pub fn now(user: impl Into<String>, verb: Verb, audit_id: impl Into<String>) -> Self {
        let timestamp_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or_default();
        Provenance {
            user: user.into(),
            uid: String::new(),
            groups: Vec::new(),
            user_agent: String::new(),
            source_ip: String::new(),
            field_manager: String::new(),
            restored_from: None,
            verb,
            audit_id: audit_id.into(),
            timestamp_micros,
        }
    }

    /// Adds who the request authenticated as, beyond the name given to [`Provenance::now`], and
    /// where it came from.
    pub fn with_identity(
        mut self,
        uid: impl Into<String>,
        groups: impl IntoIterator<Item = impl Into<String>>,
        user_agent: impl Into<String>,
        source_ip: impl Into<String>,
    ) -> Self {
        self.uid = uid.into();
        self.groups = groups.into_iter().map(Into::into).collect();
        self.user_agent = user_agent.into();
        self.source_ip = source_ip.into();
        self
    }

    /// Adds the field manager of the write.
    pub fn with_field_manager(mut self, field_manager: impl Into<String>) -> Self {
        self.field_manager = field_manager.into();
        self
    }

    /// Marks the write as a restore of the object as it was at `revision`.
    pub fn with_restored_from(mut self, revision: Revision) -> Self {
        self.restored_from = Some(revision);
        self
    }
}

/// One object as stored: its key, its serialized value and the revisions that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub value: Bytes,
    /// The revision that created this incarnation of the key.
    pub create_revision: Revision,
    /// The revision of the last write to this key: the object's resourceVersion.
    pub mod_revision: Revision,
}

/// What an event did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The key did not exist before this event.
    Created,
    /// The key existed and got a new value.
    Updated,
    /// The key was removed.
    Deleted,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub revision: Revision,
    pub event_type: EventType,
    pub key: String,
    /// The value after the event; `None` for [`EventType::Deleted`].
    pub object: Option<Object>,
    /// The value before the event; `None` for [`EventType::Created`], or when the backend no
    /// longer holds it.
    pub prev_object: Option<Object>,
    /// Who did it. `None` only for events written by something other than kube-ledger.
    pub provenance: Option<Provenance>,
}

/// What a watch stream yields.
// Events are the common item and progress the rare one: boxing events would cost an allocation
// per event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchItem {
    /// An event of the watched prefix.
    Event(Event),
    /// Every event of the watched prefix up to and including this revision has been delivered.
    /// Lets a consumer advance its revision even when nothing under its prefix changes.
    Progress(Revision),
}

/// A watch: items in strictly increasing revision order, each exactly once. A stream ends with an
/// `Err` when it can no longer continue (for example [`StorageError::Compacted`]); the consumer
/// may resume from the last revision it saw.
pub type WatchStream = BoxStream<'static, Result<WatchItem>>;

/// A bounded stream of events ([`Storage::replay`]): it ends by itself after its last event.
pub type EventStream = BoxStream<'static, Result<Event>>;

/// Options of [`Storage::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Read at this revision; `None` reads at the current revision.
    pub revision: Option<Revision>,
    /// At most this many objects; `None` means all.
    pub limit: Option<usize>,
    /// Start strictly after this key (the last key of the previous page).
    pub start_after: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// Objects in key order.
    pub objects: Vec<Object>,
    /// The revision the page was read at; later pages must be read at the same revision.
    pub revision: Revision,
    /// How many objects under the prefix follow this page at `revision` (0 when complete).
    pub remaining: u64,
}

impl ListPage {
    /// The `start_after` for the next page, when there is one.
    pub fn next_start(&self) -> Option<&str> {
        if self.remaining > 0 { self.objects.last().map(|o| o.key.as_str()) } else { None }
    }
}

/// The result of a successful delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The revision of the delete event.
    pub revision: Revision,
    /// The object as it was just before the delete.
    pub object: Object,
}

/// The revisioned event log. Keys are absolute paths such as `/pods/default/web-0`; see
/// [`validate_key`]. Values are opaque bytes of at most [`MAX_VALUE_BYTES`].
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Creates `key` if it does not exist. Fails with [`StorageError::AlreadyExists`] carrying the
    /// current object otherwise.
    async fn create(&self, key: &str, value: Bytes, who: Provenance) -> Result<Object>;

    /// Replaces `key`'s value if its `mod_revision` still equals `expected`. Fails with
    /// [`StorageError::Conflict`] carrying the current object, or [`StorageError::NotFound`].
    async fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        who: Provenance,
    ) -> Result<Object>;

    /// Deletes `key` if its `mod_revision` still equals `expected`. Fails like [`Storage::update`].
    async fn delete(&self, key: &str, expected: Revision, who: Provenance) -> Result<Deleted>;

    /// Reads `key` at the current revision, or at `revision` if given.
    /// `Ok(None)` when it does not exist there.
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<Object>>;

    /// Lists the keys under `prefix` (which ends with `/`) in key order.
    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListPage>;

    /// Streams every event under `prefix` with a revision greater than `after`, in revision
    /// order, then follows new events as they are written.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream>;

    /// [`Storage::watch`] for a consumer that reads no [`Event::provenance`] (the views): events
    /// may come without it, which spares a backend that keeps a delete's provenance apart from
    /// the delete (etcd's tombstones) a read per delete. Everything else is as `watch` has it.
    async fn watch_changes(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        self.watch(prefix, after).await
    }

    /// The revision of the latest event in the log.
    async fn current_revision(&self) -> Result<Revision>;

    /// The oldest revision that can still be read: everything before it has been compacted.
    async fn compacted_revision(&self) -> Result<Revision>;

    /// Drops history older than `revision`: reads and watches at revisions before it fail with
    /// [`StorageError::Compacted`]; the state at `revision` itself stays readable.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// Every retained event of `key`, oldest first, across deletes and re-creates, each with
    /// its whole [`Provenance`] (an event written before a field existed has it empty).
    async fn history(&self, key: &str) -> Result<Vec<Event>>;

    /// At most `limit` retained events of `key` with a revision greater than `after`, oldest
    /// first: one page of [`Storage::history`]. The first page of a key with many revisions must
    /// not read them all.
    async fn history_page(&self, key: &str, after: Revision, limit: usize) -> Result<Vec<Event>> {
        // Interim: backends override this with a bounded read (issue 15).
        let all = self.history(key).await?;
        Ok(all.into_iter().filter(|e| e.revision > after).take(limit).collect())
    }

    /// Every event under `prefix` with `from <= revision <= to`, in revision order, each with its
    /// previous object and provenance; the stream ends after the last such event. Memory stays
    /// bounded whatever the range: events are read in batches as the consumer pulls.
    /// Fails with [`StorageError::Compacted`] when `from` is older than the retained history and
    /// [`StorageError::FutureRevision`] when `to` is newer than the head.
    async fn replay(&self, prefix: &str, from: Revision, to: Revision) -> Result<EventStream> {
        let _ = (prefix, from, to);
        Err(StorageError::Internal("replay: not implemented by this backend".to_owned()))
    }

    /// The newest revision whose event was accepted at or before `timestamp_micros` (µs since
    /// the epoch): the log's position at that time. `Ok(None)` when the log had no event yet
    /// then; [`StorageError::Compacted`] when that position is older than the retained history.
    async fn revision_at(&self, timestamp_micros: i64) -> Result<Option<Revision>> {
        let _ = timestamp_micros;
        Err(StorageError::Internal("revision_at: not implemented by this backend".to_owned()))
    }

    /// The backend's name, as metrics label it: `embedded` or `etcd`.
    fn backend_name(&self) -> &'static str;
}
