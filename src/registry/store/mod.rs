//! The one generic store (k8s.io/apiserver's `registry/generic/registry.Store`): every resource,
//! built-in or custom, is read and written through it.
//!
//! Data flow on a write: the endpoint hands over a decoded object in the served version → the
//! store converts it to the storage version, applies ObjectMeta rules and the resource's
//! [`Strategy`](super::Strategy), validates, and appends it to the log with an optimistic
//! precondition (retrying on conflicts it may resolve itself) → the stored object is converted
//! back to the served version and returned. Reads and watches run the other way.
//!
//! Stored values are the object's JSON in the storage version **without**
//! `metadata.resourceVersion`: the log revision is the resourceVersion, set on the way out.

pub mod delete;
mod list;
mod patch;
mod read;
mod recent;
mod watch;
pub mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

pub use crate::patch::PatchType;
pub use delete::DeleteOptions;
pub use list::{ContinueToken, ListParams, ListResult};
pub use watch::{WatchEvent, WatchObject, WatchParams};
pub use write::{Part, WriteOptions};

use super::object;
use super::views::Views;
use super::{Registry, Resource};
use crate::api::status::{ApiError, Cause, Reason};
use crate::meta::validation::FieldCause;
use crate::storage::{Object, Provenance, Revision, Storage, Verb};

/// Who is asking: recorded with every write in the log.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub user: String,
    pub audit_id: String,
}

impl RequestContext {
    pub fn provenance(&self, verb: Verb) -> Provenance {
        Provenance::now(&self.user, verb, &self.audit_id)
    }
}

/// The generic store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub storage: Arc<dyn Storage>,
    /// For cross-resource rules: namespaces must exist, namespace deletion empties them.
    pub registry: Arc<Registry>,
    /// WATCH is served from these: one view per resource, shared by all its watchers.
    pub views: Views,
    /// Namespaces this server recently began deleting, with when: creates in them are admitted
    /// only after a live read of the log, even if the namespaces view still shows them active
    /// (kube-apiserver's NamespaceLifecycle keeps the same "force live lookup" list).
    live_lookups: Arc<Mutex<HashMap<String, Instant>>>,
    /// The objects this server's own writes stored lately (see [`recent`]).
    recent: Arc<recent::RecentWrites>,
}

/// How long a namespace this server began deleting is looked up live on create: far longer
/// than a view takes to see the write.
const LIVE_LOOKUP_TTL: Duration = Duration::from_secs(30);

/// How many times a write re-reads and retries after losing an optimistic-concurrency race it
/// may resolve itself (no resourceVersion from the client). kube-apiserver retries unboundedly;
/// a bound turns a livelock into a 409 the client retries.
const MAX_RETRIES: usize = 16;

impl Store {
    pub fn new(storage: Arc<dyn Storage>, registry: Arc<Registry>, views: Views) -> Self {
        Store { storage, registry, views, live_lookups: Arc::default(), recent: Arc::default() }
    }

    /// From now on (for [`LIVE_LOOKUP_TTL`]) creates in `namespace` read it from the log.
    pub(super) fn force_live_lookup(&self, namespace: &str) {
        let mut lookups = self.live_lookups.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        lookups.retain(|_, since| now.duration_since(*since) < LIVE_LOOKUP_TTL);
        lookups.insert(namespace.to_owned(), now);
    }

    /// Whether `namespace` must be read from the log rather than trusted from its view.
    pub(super) fn needs_live_lookup(&self, namespace: &str) -> bool {
        let lookups = self.live_lookups.lock().unwrap_or_else(PoisonError::into_inner);
        lookups.get(namespace).is_some_and(|since| since.elapsed() < LIVE_LOOKUP_TTL)
    }

    /// GET of one object, from the resource's view ([`read`]): `resource_version` `None` is a
    /// consistent read, `0` any, `N` not older than N (504 when N does not arrive in time).
    /// Falls back to the log when the view cannot answer.
    pub async fn get(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        resource_version: Option<Revision>,
    ) -> Result<Value, ApiError> {
        let key = resource.key(namespace, name);
        if let Some(found) = self.get_from_view(resource, &key, resource_version).await? {
            return found.ok_or_else(|| not_found(resource, name));
        }
        if let Some(rv) = resource_version.filter(|rv| *rv > 0) {
            let current =
                self.storage.current_revision().await.map_err(storage_err(resource, name))?;
            if rv > current {
                return Err(ApiError::too_large_resource_version(rv, current));
            }
        }
        let object = self.read(resource, namespace, name).await?;
        self.to_served(resource, &object).await
    }

    /// The stored object, or 404.
    async fn read(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Object, ApiError> {
        let key = resource.key(namespace, name);
        match self.storage.get(&key, None).await.map_err(storage_err(resource, name))? {
            Some(object) => Ok(object),
            None => Err(not_found(resource, name)),
        }
    }

    /// The object a write starts from, and whether it is an unconfirmed copy (view or memory).
    ///
    /// The first attempt (`attempt == 0`) takes the view's copy when the view holds the object,
    /// as kube-apiserver's `GuaranteedUpdate` starts from the watch cache's copy — or this
    /// server's own newer write of it ([`recent`]), while the view lags: it saves a storage read
    /// per write. A stale copy is harmless because the only outcome a caller may
    /// accept from it is a storage write conditioned on its `mod_revision` (which fails on a
    /// stale copy); every other outcome — a precondition mismatch, a no-op, a dry run, a
    /// validation error — must be re-checked against the log by retrying with `attempt > 0`.
    /// A miss or a later attempt reads the log.
    pub(super) async fn read_for_write(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        attempt: usize,
    ) -> Result<(Object, bool), ApiError> {
        if attempt == 0 {
            let key = resource.key(namespace, name);
            let cached = match self.views.of(resource).get(&key) {
                Ok(Some(found)) => Some(Object {
                    key: found.key.to_string(),
                    value: found.value.clone(),
                    create_revision: found.create_revision,
                    mod_revision: found.mod_revision,
                }),
                _ => None,
            };
            // This server's own write may be newer than a lagging view's copy.
            let than = cached.as_ref().map_or(0, |o| o.mod_revision);
            if let Some(object) = self.recent.newer(&key, than).or(cached) {
                return Ok((object, true));
            }
        }
        Ok((self.read(resource, namespace, name).await?, false))
    }

    /// A stored object → the served version with its resourceVersion.
    pub async fn to_served(&self, resource: &Resource, object: &Object) -> Result<Value, ApiError> {
        let value = decode(object)?;
        let mut served = resource.conversion.to_served_version(value).await?;
        object::set_resource_version(&mut served, object.mod_revision);
        Ok(served)
    }
}

/// Decodes a stored value; a value that is not JSON is an internal fault, never shown.
pub(crate) fn decode(object: &Object) -> Result<Value, ApiError> {
    serde_json::from_slice(&object.value).map_err(|err| {
        tracing::error!(key = %object.key, %err, "stored object is not valid JSON");
        ApiError::internal("a stored object could not be decoded")
    })
}

/// Encodes an object of `resource` for the log, without its resourceVersion.
pub(crate) fn encode(resource: &Resource, mut value: Value) -> Bytes {
    encode_in_place(resource, &mut value)
}

/// [`encode`] without a copy: drops `value`'s resourceVersion (never stored: the revision is),
/// puts its fields in the order kube-apiserver writes them (so that every read shares it) and
/// serializes it.
pub(crate) fn encode_in_place(resource: &Resource, value: &mut Value) -> Bytes {
    object::metadata_mut(value).shift_remove("resourceVersion");
    object::arrange(value, resource.strategy.field_order());
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

pub(crate) fn not_found(resource: &Resource, name: &str) -> ApiError {
    ApiError::not_found(&resource.gv.group, &resource.plural, name)
}

/// Maps a storage error about `name` of `resource`: the one call site of
/// [`ApiError::from_storage`] in the registry.
pub(crate) fn storage_err(
    resource: &Resource,
    name: &str,
) -> impl FnOnce(crate::storage::StorageError) -> ApiError {
    let (group, plural, name) =
        (resource.gv.group.clone(), resource.plural.clone(), name.to_owned());
    move |err| ApiError::from_storage(err, &group, &plural, &name)
}

/// 422 Invalid from field causes.
pub(crate) fn invalid(resource: &Resource, name: &str, causes: Vec<FieldCause>) -> ApiError {
    let causes = causes
        .into_iter()
        .map(|c| Cause { reason: c.reason.as_str().to_owned(), message: c.message, field: c.field })
        .collect();
    ApiError::invalid(&resource.gv.group, &resource.kind, name, causes)
}

/// 400 for a body whose name or namespace disagrees with the URL.
pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(Reason::BadRequest, message)
}

pub(crate) use patch::apply_to_kind as apply_patch_to_kind;
