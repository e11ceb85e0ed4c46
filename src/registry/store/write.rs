//! Create, update (PUT) and patch: the write paths of the generic store.
//!
//! Every path runs the stages of [`super`] — decode, mutating admission, strategy prepare,
//! validation, validating admission — and ends in a storage create or
//! [`Store::commit_update`]'s optimistic write. Updates without a client-supplied
//! resourceVersion (and every patch) retry on a lost race by re-reading, as kube-apiserver's
//! `GuaranteedUpdate` does; with one, a stale version is a 409.

use std::future::Future;

use serde_json::Value;

use super::{
    MAX_RETRIES, Operation, Store, bad_request, decode, encode, encode_in_place, invalid,
    not_found, storage_err,
};
use crate::admission::Action;
use crate::authn::UserInfo;
use crate::meta::status::ApiError;
use crate::meta::validation::{validate_object_meta, validate_object_meta_update};
use crate::patch::PatchType;
use crate::registry::Resource;
use crate::registry::object::{self, metadata_mut};
use crate::storage::{Object, StorageError};

/// The object a write attempt starts from.
#[derive(Debug)]
pub(super) struct Current {
    /// As stored (its `mod_revision` is the write's precondition).
    pub object: Object,
    /// Its decoded value.
    pub old: Value,
    /// The copy is the view's ([`Store::read_for_write`]), not yet confirmed by the log: an
    /// outcome that writes nothing (a no-op, a dry run, a refusal) must not rest on it.
    pub from_view: bool,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object: status changes are ignored when a status subresource exists.
    Main,
    /// `/status`: only status changes are kept.
    Status,
    /// A namespace's `/finalize` (the namespace controller's): only `spec.finalizers` moves.
    Finalize,
    /// The server's own write of a whole object (marking a deletion) inside an operation that
    /// was admitted already: nothing is carried over from the stored object but identity, and
    /// admission does not run again.
    Whole,
}

impl Store {
    /// POST: creates an object in the served version; returns it as stored (201). The stages
    /// of [`super`] in order; a dry run stops before the storage write.
    pub async fn create(
        &self,
        resource: &Resource,
        op: &Operation,
        mut body: Value,
    ) -> Result<Value, ApiError> {
        check_type(resource, &body)?;
        // Scheme defaulting, as kube's decoder does, then field ownership: the creator owns what
        // it set and what its body was defaulted to.
        resource.strategy.set_defaults(&mut body);
        self.manage_update(resource, op, &Value::Null, &mut body);
        self.create_managed(resource, op, body).await
    }

    /// [`Store::create`] of a body whose `managedFields` are settled (a create, or an apply
    /// that creates), from its conversion to the storage version on.
    pub(super) async fn create_managed(
        &self,
        resource: &Resource,
        op: &Operation,
        body: Value,
    ) -> Result<Value, ApiError> {
        let namespace = op.namespace.as_deref();
        // Decode.
        let mut object = resource.conversion.to_storage_version(body).await?;
        settle_namespace(resource, namespace, &mut object)?;
        // Mutating admission (before the object is named, as in kube-apiserver).
        self.admit(resource, op, Action::Create, None, Some(&mut object)).await?;
        settle_namespace(resource, namespace, &mut object)?;
        // Strategy prepare and validation.
        let prepared = prepare_new(resource, &op.user, &mut object);
        // What the strategy claimed for an object that is not stored goes back.
        let abandon = |object: &Value| resource.strategy.create_abandoned(object);
        if let Err(err) = prepared {
            abandon(&object);
            return Err(err);
        }
        // Validating admission.
        let admitted = self.validate_admission(resource, op, Action::Create, None, Some(&object));
        if let Err(err) = admitted.await {
            abandon(&object);
            return Err(err);
        }
        if op.dry_run {
            abandon(&object);
            object::arrange(&mut object, resource.strategy.field_order());
            return resource.conversion.to_served_version(object).await;
        }
        // Storage write.
        let name = object::name(&object).unwrap_or_default().to_owned();
        let key = resource.key(namespace, &name);
        object::metadata_mut(&mut object).shift_remove("resourceVersion");
        // Only the identity is kept for a failed write (no copy of every object created).
        let claimed = serde_json::json!({"metadata": {"uid": object::uid(&object)}});
        let stored =
            match self.storage.create(&key, encode(resource, object), op.provenance(op.verb)).await
            {
                Ok(stored) => stored,
                Err(err) => {
                    abandon(&claimed);
                    return Err(storage_err(resource, &name)(err));
                }
            };
        self.recent.stored(&stored);
        self.to_served(resource, &stored).await
    }

    /// PUT of the object or its `/status` (the operation's subresource says which).
    pub async fn update(
        &self,
        resource: &Resource,
        op: &Operation,
        body: Value,
    ) -> Result<Value, ApiError> {
        check_type(resource, &body)?;
        check_name(&op.name, &body)?;
        let precondition = object::resource_version(&body).map(str::to_owned);
        // With a client-supplied resourceVersion a lost race is the client's 409.
        let retry_conflicts = precondition.is_none();
        let precondition = precondition.as_deref();
        let body = &body;
        self.guaranteed_update(resource, op, retry_conflicts, |current| {
            let mut desired = body.clone();
            async move {
                if precondition.is_some_and(|rv| rv != current.object.mod_revision.to_string()) {
                    return Err(Retry::Fail(conflict(resource, &op.name)));
                }
                // Scheme defaulting, then field ownership, in the served version, against the
                // object it replaces.
                resource.strategy.set_defaults(&mut desired);
                let live = self.live_served(resource, &current).await?;
                self.manage_update(resource, op, &live, &mut desired);
                let mut desired = resource.conversion.to_storage_version(desired).await?;
                settle_namespace(resource, op.namespace.as_deref(), &mut desired)?;
                self.commit_update(resource, op, &current, desired, op.part()).await
            }
        })
        .await
    }

    /// kube-apiserver's `GuaranteedUpdate`: start from the current object
    /// ([`Store::read_for_write`]), try `attempt`, and on a lost race — or any failure of an
    /// attempt that rested on an unconfirmed copy — read the log and try again.
    async fn guaranteed_update<F>(
        &self,
        resource: &Resource,
        op: &Operation,
        retry_conflicts: bool,
        mut attempt: impl FnMut(Current) -> F,
    ) -> Result<Value, ApiError>
    where
        F: Future<Output = Result<Value, Retry>>,
    {
        let (namespace, name) = (op.namespace.as_deref(), op.name.as_str());
        // A dry run writes nothing, so it could not rest on the view's copy: it reads the log
        // at once rather than running admission twice.
        let mut attempts = usize::from(op.dry_run);
        loop {
            let (object, from_view) =
                self.read_for_write(resource, namespace, name, attempts).await?;
            let old = decode(&object)?;
            match attempt(Current { object, old, from_view }).await {
                Ok(value) => return Ok(value),
                Err(Retry::Storage(err)) => return Err(err),
                // Only a conditioned write may rest on an unconfirmed copy: anything else is
                // decided again on the log's.
                Err(_) if from_view => attempts += 1,
                Err(Retry::Conflict) if retry_conflicts && attempts < MAX_RETRIES => attempts += 1,
                Err(Retry::Conflict) => return Err(conflict(resource, name)),
                Err(Retry::Fail(err)) => return Err(err),
            }
        }
    }

    /// PATCH of the object or its `/status`: the patch applies to the current object in the
    /// served version, then the result is written like an update. Retried on a lost race
    /// unless the patch itself pins a resourceVersion.
    pub async fn patch(
        &self,
        resource: &Resource,
        op: &Operation,
        patch_type: PatchType,
        patch: &[u8],
    ) -> Result<Value, ApiError> {
        let name = op.name.as_str();
        self.guaranteed_update(resource, op, true, |current| async move {
            let served = self.to_served(resource, &current.object).await?;
            let patched = super::patch::apply(resource, name, patch_type, &served, patch)?;
            check_type(resource, &patched)?;
            check_name(name, &patched)?;
            let mut patched = crate::patch::strict::check_result(resource, op, patched)?;
            let pinned = object::resource_version(&patched).map(str::to_owned);
            if pinned.as_deref().is_some_and(|rv| rv != current.object.mod_revision.to_string()) {
                return Err(Retry::Fail(conflict(resource, name)));
            }
            // The patched object is defaulted as kube decodes it, then owned.
            resource.strategy.set_defaults(&mut patched);
            self.manage_update(resource, op, &served, &mut patched);
            let mut desired = resource.conversion.to_storage_version(patched).await?;
            settle_namespace(resource, op.namespace.as_deref(), &mut desired)?;
            self.commit_update(resource, op, &current, desired, op.part()).await
        })
        .await
    }

    /// The update stages after decoding: mutating admission, the update rules applied to
    /// `desired` (storage version) against `current` with the strategy's prepare, validation,
    /// validating admission, then the write if `current` is still current. A write that changes
    /// nothing is not written. [`Part::Whole`] writes (the store's own, inside an admitted
    /// delete) skip admission.
    pub(super) async fn commit_update(
        &self,
        resource: &Resource,
        op: &Operation,
        current: &Current,
        mut desired: Value,
        part: Part,
    ) -> Result<Value, Retry> {
        let old = &current.old;
        let admitted = part != Part::Whole;
        if admitted {
            self.admit(resource, op, Action::Update, Some(old), Some(&mut desired)).await?;
        }
        let name = object::name(old).unwrap_or_default().to_owned();
        // A subresource the strategy declares (`approval`): its prepare says what moves.
        let declared = resource.strategy.update_subresources().contains(&op.subresource.as_str());
        match part {
            Part::Main if declared => {}
            Part::Status => {
                // Only the status moves (and the entries recording who moved it); everything
                // else stays as stored.
                let status = desired.get("status").cloned();
                let managed = object::metadata_mut(&mut desired).shift_remove("managedFields");
                desired = old.clone();
                set_or_remove(&mut desired, "status", status);
                set_managed_fields(&mut desired, managed);
            }
            Part::Finalize => {
                let finalizers = desired.pointer("/spec/finalizers").cloned();
                let managed = object::metadata_mut(&mut desired).shift_remove("managedFields");
                desired = old.clone();
                if let Some(spec) = desired.get_mut("spec") {
                    set_or_remove(spec, "finalizers", finalizers);
                }
                set_managed_fields(&mut desired, managed);
            }
            Part::Main if resource.status_subresource => {
                set_or_remove(&mut desired, "status", old.get("status").cloned());
            }
            Part::Main | Part::Whole => {}
        }
        keep_server_owned_metadata(old, &mut desired, part == Part::Whole);
        // A finalize write is the strategy's update minus its own rules: only the finalizers
        // move, as kube's namespace finalize strategy does.
        if part != Part::Finalize {
            default_admitted(resource, &mut desired);
            resource.strategy.prepare_for_subresource_update(&op.subresource, &mut desired, old);
        }
        let generation = old
            .get("metadata")
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let bumped = if object::spec_part(&desired) != object::spec_part(old) {
            generation + 1
        } else {
            generation
        };
        metadata_mut(&mut desired).insert("generation".into(), bumped.into());

        let mut old_meta = old.get("metadata").cloned().unwrap_or(Value::Null);
        if part == Part::Whole {
            // The server itself is marking a deletion: those fields may change here.
            for field in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
                if let (Some(map), Some(value)) =
                    (old_meta.as_object_mut(), desired.pointer(&format!("/metadata/{field}")))
                {
                    map.insert(field.into(), value.clone());
                }
            }
        }
        let mut causes =
            validate_object_meta_update(desired.get("metadata").unwrap_or(&Value::Null), &old_meta);
        causes.extend(validate_object_meta(
            desired.get("metadata").unwrap_or(&Value::Null),
            resource.namespaced,
            resource.strategy.name_validator(),
        ));
        causes.extend(resource.strategy.validate_subresource_update(
            &op.subresource,
            &desired,
            old,
        ));
        if !causes.is_empty() {
            return Err(invalid(resource, &name, causes).into());
        }
        if admitted {
            self.validate_admission(resource, op, Action::Update, Some(old), Some(&desired))
                .await?;
        }
        self.write_update(resource, op, current, desired, &name).await
    }

    /// The storage write of an update: the delete an object being deleted was waiting for once
    /// its last finalizer is gone, nothing for a no-op or a dry run, else the conditioned
    /// update.
    async fn write_update(
        &self,
        resource: &Resource,
        op: &Operation,
        current: &Current,
        mut desired: Value,
        name: &str,
    ) -> Result<Value, Retry> {
        let (stored, from_view, dry_run) = (&current.object, current.from_view, op.dry_run);
        if object::deletion_timestamp(&current.old).is_some()
            && resource.strategy.finalized(&desired)
        {
            if dry_run && from_view {
                return Err(Retry::Conflict);
            }
            if dry_run {
                return Ok(self.served(resource, desired, stored.mod_revision).await?);
            }
            return match self
                .storage
                .delete(&stored.key, stored.mod_revision, op.provenance(op.verb))
                .await
            {
                Ok(deleted) => {
                    self.recent.deleted(&stored.key);
                    Ok(self.served(resource, desired, deleted.revision).await?)
                }
                Err(StorageError::Conflict { .. }) => Err(Retry::Conflict),
                Err(err) => Err(Retry::Storage(storage_err(resource, name)(err))),
            };
        }
        // As kube-apiserver: a write whose encoding equals the stored bytes changes nothing.
        // Objects keep their fields' order, so the same fields in another order (a typed
        // client's write after kubectl's) are the same object too.
        let encoded = encode_in_place(resource, &mut desired);
        let unchanged = encoded == stored.value || desired == current.old;
        if (unchanged || dry_run) && from_view {
            // Nothing would be written: a copy from the view must first be confirmed.
            return Err(Retry::Conflict);
        }
        if unchanged || dry_run {
            return Ok(self.served(resource, desired, stored.mod_revision).await?);
        }
        match self
            .storage
            .update(&stored.key, stored.mod_revision, encoded, op.provenance(op.verb))
            .await
        {
            Ok(stored) => {
                self.recent.stored(&stored);
                Ok(self.to_served(resource, &stored).await?)
            }
            Err(StorageError::Conflict { .. }) => Err(Retry::Conflict),
            Err(StorageError::NotFound { .. }) => Err(not_found(resource, name).into()),
            Err(err) => Err(Retry::Storage(storage_err(resource, name)(err))),
        }
    }

    /// The object a write starts from, in the served version: the decoded stored value itself
    /// when the resource is served in its storage version.
    pub(super) async fn live_served<'a>(
        &self,
        resource: &Resource,
        current: &'a Current,
    ) -> Result<std::borrow::Cow<'a, Value>, ApiError> {
        if resource.gv == resource.storage_gv {
            return Ok(std::borrow::Cow::Borrowed(&current.old));
        }
        Ok(std::borrow::Cow::Owned(self.to_served(resource, &current.object).await?))
    }

    /// A storage-version object → served, with `revision` as its resourceVersion.
    async fn served(
        &self,
        resource: &Resource,
        value: Value,
        revision: i64,
    ) -> Result<Value, ApiError> {
        let mut served = resource.conversion.to_served_version(value).await?;
        object::set_resource_version(&mut served, revision);
        Ok(served)
    }
}

/// Turns a create body (storage version, namespace settled, admitted) into the object to
/// store: named (`generateName`), the server-owned metadata set, the strategy's defaults
/// applied, and validated.
fn prepare_new(resource: &Resource, user: &UserInfo, object: &mut Value) -> Result<(), ApiError> {
    let meta = metadata_mut(object);
    let generate_name = meta.get("generateName").and_then(Value::as_str).unwrap_or("");
    let has_name = meta.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    if !has_name && !generate_name.is_empty() {
        let name = format!("{generate_name}{}", object::generated_name_suffix());
        meta.insert("name".into(), name.into());
    }
    meta.insert("uid".into(), object::new_uid().into());
    meta.insert("creationTimestamp".into(), object::now_rfc3339().into());
    meta.insert("generation".into(), 1.into());
    for server_owned in
        ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]
    {
        meta.shift_remove(server_owned);
    }
    if resource.status_subresource
        && !resource.strategy.keeps_status_on_create()
        && let Some(map) = object.as_object_mut()
    {
        map.shift_remove("status");
    }
    default_admitted(resource, object);
    resource.strategy.prepare_for_create_by(object, user);
    let name = object::name(object).unwrap_or_default().to_owned();
    let mut causes = validate_object_meta(
        object.get("metadata").unwrap_or(&Value::Null),
        resource.namespaced,
        resource.strategy.name_validator(),
    );
    causes.extend(resource.strategy.validate(object));
    if !causes.is_empty() {
        return Err(invalid(resource, &name, causes));
    }
    Ok(())
}

/// The scheme's defaults once more, on an object mutating admission has seen (kube defaults
/// what a mutating webhook returns): what admission added gets its defaults, what it removed
/// comes back. Only when the served version is the storage version, the one admission sees, as
/// [`Strategy::set_defaults`](crate::registry::Strategy::set_defaults) takes a served object; a resource
/// served in another version defaults its storage version in its prepare.
fn default_admitted(resource: &Resource, object: &mut Value) {
    if resource.gv == resource.storage_gv {
        resource.strategy.set_defaults(object);
    }
}

/// Sets an object's `metadata.managedFields`, or removes them when `None`.
fn set_managed_fields(object: &mut Value, managed: Option<Value>) {
    let meta = metadata_mut(object);
    match managed {
        Some(managed) => meta.insert("managedFields".into(), managed),
        None => meta.shift_remove("managedFields"),
    };
}

/// Sets `field` of an object to `value`, or removes it when `None`.
fn set_or_remove(object: &mut Value, field: &str, value: Option<Value>) {
    if let Some(map) = object.as_object_mut() {
        match value {
            Some(value) => map.insert(field.into(), value),
            None => map.shift_remove(field),
        };
    }
}

/// Why a write attempt did not finish: a lost race the caller may retry, a final error, or a
/// failure of the storage write itself.
#[derive(Debug)]
pub(super) enum Retry {
    Conflict,
    Fail(ApiError),
    /// The write went to storage and failed there (503, or 504: it may have been applied). Final
    /// even when the attempt rested on the view's copy: trying again on the log's copy could
    /// meet the write itself, and a conditioned write would then be answered 409 although it
    /// was applied.
    Storage(ApiError),
}

impl From<ApiError> for Retry {
    fn from(err: ApiError) -> Self {
        Retry::Fail(err)
    }
}

pub(super) fn conflict(resource: &Resource, name: &str) -> ApiError {
    ApiError::conflict(
        &resource.gv.group,
        &resource.plural,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )
}

/// The fields a client cannot change after creation, copied from the stored object. The server
/// itself (`by_server`) may set the deletion fields.
fn keep_server_owned_metadata(old: &Value, desired: &mut Value, by_server: bool) {
    let Some(old_meta) = object::metadata(old) else { return };
    let meta = metadata_mut(desired);
    let identity = ["uid", "creationTimestamp", "name", "namespace"];
    let deletion = ["deletionTimestamp", "deletionGracePeriodSeconds"];
    let kept = identity.iter().chain(if by_server { &[][..] } else { &deletion[..] });
    for field in kept {
        let field = *field;
        match old_meta.get(field) {
            Some(value) => meta.insert(field.into(), value.clone()),
            None => meta.shift_remove(field),
        };
    }
    meta.shift_remove("resourceVersion");
    meta.shift_remove("selfLink");
}

/// A body's `apiVersion`/`kind`, when present, must be what the URL addresses.
pub(super) fn check_type(resource: &Resource, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(bad_request("the request body must be a JSON or YAML object"));
    }
    let expected = resource.gv.api_version();
    if let Some(api_version) = body.get("apiVersion")
        && api_version.as_str() != Some(expected.as_str())
    {
        return Err(bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({expected})",
            api_version.as_str().unwrap_or_default()
        )));
    }
    if let Some(kind) = body.get("kind")
        && kind.as_str() != Some(resource.kind.as_str())
    {
        return Err(bad_request(format!(
            "the kind in the data ({}) does not match the expected kind ({})",
            kind.as_str().unwrap_or_default(),
            resource.kind
        )));
    }
    Ok(())
}

/// The body's name, when present, must be the URL's.
pub(super) fn check_name(name: &str, body: &Value) -> Result<(), ApiError> {
    match object::meta_str(body, "name") {
        Some(body_name) if !body_name.is_empty() && body_name != name => Err(bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        ))),
        _ => Ok(()),
    }
}

/// Sets the object's namespace from the URL (400 when the body names another one); clears it
/// for cluster-scoped resources.
pub(super) fn settle_namespace(
    resource: &Resource,
    namespace: Option<&str>,
    object: &mut Value,
) -> Result<(), ApiError> {
    let body_ns = object::namespace(object).map(str::to_owned);
    let meta = metadata_mut(object);
    match (resource.namespaced, namespace) {
        (true, Some(ns)) => {
            if body_ns.as_deref().is_some_and(|b| b != ns) {
                return Err(bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta.insert("namespace".into(), ns.into());
        }
        (true, None) => {
            return Err(bad_request("a namespaced object must be written to a namespace path"));
        }
        (false, _) => {
            meta.shift_remove("namespace");
        }
    }
    Ok(())
}
