//! The one generic store (k8s.io/apiserver's `registry/generic/registry.Store`): every resource,
//! built-in or custom, is read and written through it.
//!
//! Data flow on a write: the endpoint hands over an [`Operation`] (who, what, how) and a decoded
//! object in the served version, and every create, update, patch and delete passes the same
//! stages, in this order:
//!
//! 1. **decode** — the body (a patch's result) defaulted in the served version by the
//!    resource's `Strategy::set_defaults`, as kube's decoder defaults it; then **field
//!    ownership**: the write's manager recorded in `metadata.managedFields` (owning what its body
//!    was defaulted to), or an apply's configuration merged by ownership into the live object
//!    and the result defaulted, a 409 on conflicts ([`manage`], [`apply`]); then the served
//!    version converted to the storage version, the namespace settled from the URL ([`write`]);
//! 2. **mutating admission** — `admission::Chain::admit` ([`admit`]);
//! 3. **strategy prepare** — the defaults once more (for what admission changed), ObjectMeta
//!    rules (names, uid, timestamps, generation, what a client may not change) and the
//!    resource's [`Strategy`](super::Strategy) `prepare_for_*` ([`write`]);
//! 4. **validation** — ObjectMeta and the strategy's validation, a 422 with causes ([`write`]);
//! 5. **validating admission** — `admission::Chain::validate` ([`admit`]);
//! 6. **storage write** — appended to the log with an optimistic precondition, retrying on
//!    conflicts it may resolve itself, with the operation's provenance ([`write`], [`delete`]).
//!
//! A dry run (`dryRun=All`) runs every stage and skips the last. The stored object is converted
//! back to the served version and returned; warnings raised on the way are collected in the
//! [`Operation`]. Reads and watches run the other way ([`read`], [`list`], [`watch`]).
//!
//! Stored values are the object's JSON in the storage version **without**
//! `metadata.resourceVersion`: the log revision is the resourceVersion, set on the way out.

mod admit;
mod apply;
pub mod delete;
mod list;
mod manage;
mod patch;
mod read;
mod recent;
mod served_json;
mod watch;
pub mod write;

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

pub use crate::patch::PatchType;
pub use apply::{Applied, check_config_type};
pub use delete::DeleteOptions;
pub use list::{ContinueToken, ListParams, ListResult};
pub use watch::{WatchEvent, WatchObject, WatchParams};
pub use write::Part;

use super::object;
pub use super::operation::Operation;
use super::views::Views;
use super::{Registry, Resource};
use crate::admission::Chain;
use crate::meta::status::{ApiError, Cause, Reason};
use crate::meta::validation::FieldCause;
use crate::storage::{Object, Revision, Storage};

/// The generic store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub storage: Arc<dyn Storage>,
    /// For cross-resource work: namespace deletion empties them.
    pub registry: Arc<Registry>,
    /// WATCH is served from these: one view per resource, shared by all its watchers.
    pub views: Views,
    /// The admission plugins every write passes (built at server start; may be empty).
    admission: Arc<Chain>,
    /// The objects this server's own writes stored lately (see [`recent`]).
    recent: Arc<recent::RecentWrites>,
    /// The field managers of the resources written so far (see [`manage`]).
    field_managers: Arc<manage::FieldManagers>,
}

/// How many times a write re-reads and retries after losing an optimistic-concurrency race it
/// may resolve itself (no resourceVersion from the client). kube-apiserver retries unboundedly;
/// a bound turns a livelock into a 409 the client retries.
const MAX_RETRIES: usize = 16;

impl Store {
    pub fn new(storage: Arc<dyn Storage>, registry: Arc<Registry>, views: Views) -> Self {
        let admission = Arc::default();
        let (recent, field_managers) = (Arc::default(), Arc::default());
        Store { storage, registry, views, admission, recent, field_managers }
    }

    /// The admission plugins every write passes.
    pub fn admission(&self) -> &Chain {
        &self.admission
    }

    /// This store with `chain` as its admission plugins (a store starts with none).
    pub fn with_admission(mut self, chain: Chain) -> Self {
        self.admission = Arc::new(chain);
        self
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
