//! Create, update (PUT) and patch: the write paths of the generic store.
//!
//! Every path ends in [`Store::commit_update`] or a storage create, after the same sequence:
//! served version → storage version, ObjectMeta rules (server-owned fields), the strategy's
//! prepare and validate hooks, then an optimistic write. Updates without a client-supplied
//! resourceVersion (and every patch) retry on a lost race by re-reading, as kube-apiserver's
//! `GuaranteedUpdate` does; with one, a stale version is a 409.

use std::future::Future;

use serde_json::Value;

use super::{
    MAX_RETRIES, RequestContext, Store, bad_request, decode, encode, encode_in_place, invalid,
    not_found, storage_err,
};
use crate::api::status::ApiError;
use crate::meta::validation::{validate_object_meta, validate_object_meta_update};
use crate::patch::PatchType;
use crate::registry::Resource;
use crate::registry::object::{self, metadata_mut};
use crate::storage::{Object, StorageError, Verb};

/// Query options common to writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: run every check, write nothing.
    pub dry_run: bool,
    /// The current object is the view's copy ([`Store::read_for_write`]), not yet confirmed by
    /// the log: an outcome that writes nothing (a no-op, a dry run) must not rest on it. Set by
    /// the write paths themselves.
    pub from_view: bool,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object: status changes are ignored when a status subresource exists.
    Main,
    /// `/status`: only status changes are kept.
    Status,
    /// The server's own write of a whole object (marking a deletion): nothing is carried over
    /// from the stored object but identity.
    Whole,
}

impl Store {
    /// POST: creates an object in the served version; returns it as stored (201).
    pub async fn create(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        body: Value,
        options: WriteOptions,
        ctx: &RequestContext,
    ) -> Result<Value, ApiError> {
        let mut object = self.prepare_new(resource, namespace, body).await?;
        let name = object::name(&object).unwrap_or_default().to_owned();
        if resource.namespaced {
            self.check_namespace_accepts(resource, namespace.unwrap_or_default(), &name).await?;
        }
        if options.dry_run {
            let mut object = object;
            object::arrange(&mut object, resource.strategy.field_order());
            return resource.conversion.to_served_version(object).await;
        }
        let key = resource.key(namespace, &name);
        object::metadata_mut(&mut object).shift_remove("resourceVersion");
        let stored = self
            .storage
            .create(&key, encode(resource, object), ctx.provenance(Verb::Create))
            .await
            .map_err(storage_err(resource, &name))?;
        self.recent.stored(&stored);
        self.to_served(resource, &stored).await
    }

    /// Turns a create body into the storage-version object to store: names, namespace and the
    /// server-owned metadata settled, defaulted and validated.
    async fn prepare_new(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        body: Value,
    ) -> Result<Value, ApiError> {
        check_type(resource, &body)?;
        let mut object = resource.conversion.to_storage_version(body).await?;
        settle_namespace(resource, namespace, &mut object)?;
        let meta = metadata_mut(&mut object);
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
            && let Some(map) = object.as_object_mut()
        {
            map.shift_remove("status");
        }
        resource.strategy.prepare_for_create(&mut object);
        let name = object::name(&object).unwrap_or_default().to_owned();
        let mut causes = validate_object_meta(
            object.get("metadata").unwrap_or(&Value::Null),
            resource.namespaced,
            resource.strategy.name_validator(),
        );
        causes.extend(resource.strategy.validate(&object));
        if !causes.is_empty() {
            return Err(invalid(resource, &name, causes));
        }
        Ok(object)
    }

    /// PUT of the object or its `/status`.
    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        part: Part,
        body: Value,
        options: WriteOptions,
        ctx: &RequestContext,
    ) -> Result<Value, ApiError> {
        check_type(resource, &body)?;
        check_name(name, &body)?;
        let precondition = object::resource_version(&body).map(str::to_owned);
        let desired = resource.conversion.to_storage_version(body).await?;
        // With a client-supplied resourceVersion a lost race is the client's 409.
        let retry_conflicts = precondition.is_none();
        let precondition = precondition.as_deref();
        self.guaranteed_update(resource, namespace, name, retry_conflicts, |current, from_view| {
            let mut desired = desired.clone();
            async move {
                if precondition.is_some_and(|rv| rv != current.mod_revision.to_string()) {
                    return Err(Retry::Fail(conflict(resource, name)));
                }
                settle_namespace(resource, namespace, &mut desired)?;
                let options = WriteOptions { from_view, ..options };
                let verb = Verb::Update;
                self.commit_update(resource, &current, desired, part, options, ctx, verb).await
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
        namespace: Option<&str>,
        name: &str,
        retry_conflicts: bool,
        mut attempt: impl FnMut(Object, bool) -> F,
    ) -> Result<Value, ApiError>
    where
        F: Future<Output = Result<Value, Retry>>,
    {
        let mut attempts = 0;
        loop {
            let (current, from_view) =
                self.read_for_write(resource, namespace, name, attempts).await?;
            match attempt(current, from_view).await {
                Ok(value) => return Ok(value),
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
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
        part: Part,
        patch_type: PatchType,
        patch: &[u8],
        options: WriteOptions,
        ctx: &RequestContext,
    ) -> Result<Value, ApiError> {
        self.guaranteed_update(resource, namespace, name, true, |current, from_view| async move {
            let served = self.to_served(resource, &current).await?;
            let patched = super::patch::apply(resource, name, patch_type, &served, patch)?;
            check_type(resource, &patched)?;
            check_name(name, &patched)?;
            let pinned = object::resource_version(&patched).map(str::to_owned);
            if pinned.as_deref().is_some_and(|rv| rv != current.mod_revision.to_string()) {
                return Err(Retry::Fail(conflict(resource, name)));
            }
            let mut desired = resource.conversion.to_storage_version(patched).await?;
            settle_namespace(resource, namespace, &mut desired)?;
            let options = WriteOptions { from_view, ..options };
            self.commit_update(resource, &current, desired, part, options, ctx, Verb::Patch).await
        })
        .await
    }

    /// Applies the update rules to `desired` (storage version) against `current` and writes it
    /// if `current` is still current. A write that changes nothing is not written.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn commit_update(
        &self,
        resource: &Resource,
        current: &Object,
        mut desired: Value,
        part: Part,
        options: WriteOptions,
        ctx: &RequestContext,
        verb: Verb,
    ) -> Result<Value, Retry> {
        let old = decode(current)?;
        let name = object::name(&old).unwrap_or_default().to_owned();
        if part == Part::Status {
            // Only the status moves; everything else stays as stored.
            let status = desired.get("status").cloned();
            desired = old.clone();
            match (desired.as_object_mut(), status) {
                (Some(map), Some(status)) => map.insert("status".into(), status),
                (Some(map), None) => map.shift_remove("status"),
                _ => None,
            };
        } else if resource.status_subresource && part == Part::Main {
            let status = old.get("status").cloned();
            if let Some(map) = desired.as_object_mut() {
                match status {
                    Some(status) => map.insert("status".into(), status),
                    None => map.shift_remove("status"),
                };
            }
        }
        keep_server_owned_metadata(&old, &mut desired, part == Part::Whole);
        resource.strategy.prepare_for_update(&mut desired, &old);
        let generation = old
            .get("metadata")
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let bumped = if object::spec_part(&desired) != object::spec_part(&old) {
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
        causes.extend(resource.strategy.validate_update(&desired, &old));
        if !causes.is_empty() {
            return Err(invalid(resource, &name, causes).into());
        }

        // The last finalizer of an object being deleted is gone: the delete completes now.
        if object::deletion_timestamp(&old).is_some() && object::finalizers(&desired).is_empty() {
            if options.dry_run && options.from_view {
                return Err(Retry::Conflict);
            }
            if options.dry_run {
                return Ok(self.served(resource, desired, current.mod_revision).await?);
            }
            return match self
                .storage
                .delete(&current.key, current.mod_revision, ctx.provenance(verb))
                .await
            {
                Ok(deleted) => {
                    self.recent.deleted(&current.key);
                    Ok(self.served(resource, desired, deleted.revision).await?)
                }
                Err(StorageError::Conflict { .. }) => Err(Retry::Conflict),
                Err(err) => Err(storage_err(resource, &name)(err).into()),
            };
        }
        // As kube-apiserver: a write whose encoding equals the stored bytes changes nothing.
        // Objects keep their fields' order, so the same fields in another order (a typed
        // client's write after kubectl's) are the same object too.
        let encoded = encode_in_place(resource, &mut desired);
        let unchanged = encoded == current.value || desired == old;
        if (unchanged || options.dry_run) && options.from_view {
            // Nothing would be written: a copy from the view must first be confirmed.
            return Err(Retry::Conflict);
        }
        if unchanged || options.dry_run {
            return Ok(self.served(resource, desired, current.mod_revision).await?);
        }
        match self
            .storage
            .update(&current.key, current.mod_revision, encoded, ctx.provenance(verb))
            .await
        {
            Ok(stored) => {
                self.recent.stored(&stored);
                Ok(self.to_served(resource, &stored).await?)
            }
            Err(StorageError::Conflict { .. }) => Err(Retry::Conflict),
            Err(StorageError::NotFound { .. }) => Err(not_found(resource, &name).into()),
            Err(err) => Err(storage_err(resource, &name)(err).into()),
        }
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

    /// Namespaced objects may only be created in a namespace that exists and is not being
    /// deleted (404 and 403, as kube-apiserver's NamespaceLifecycle admission).
    async fn check_namespace_accepts(
        &self,
        resource: &Resource,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let Some(namespaces) = self.registry.get("", "v1", "namespaces") else { return Ok(()) };
        let key = namespaces.key(None, namespace);
        let terminating = |ns: &Value| {
            ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
                || object::deletion_timestamp(ns).is_some()
        };
        // Like kube-apiserver's NamespaceLifecycle admission: an active namespace in the cache
        // (the view) admits at once; a miss, a terminating one, or one this server began
        // deleting moments ago is checked against the log.
        if !self.needs_live_lookup(namespace)
            && let Ok(Some(cached)) = self.views.of(&namespaces).get(&key)
            && !terminating(&cached.json)
        {
            return Ok(());
        }
        let stored =
            self.storage.get(&key, None).await.map_err(storage_err(&namespaces, namespace))?;
        let Some(stored) = stored else {
            return Err(not_found(&namespaces, namespace));
        };
        if terminating(&decode(&stored)?) {
            return Err(ApiError::forbidden(
                &resource.gv.group,
                &resource.plural,
                name,
                &format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                ),
            ));
        }
        Ok(())
    }
}

/// Why a write attempt did not finish: a lost race the caller may retry, or a final error.
#[derive(Debug)]
pub(super) enum Retry {
    Conflict,
    Fail(ApiError),
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
fn check_type(resource: &Resource, body: &Value) -> Result<(), ApiError> {
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
fn check_name(name: &str, body: &Value) -> Result<(), ApiError> {
    match object::meta_str(body, "name") {
        Some(body_name) if !body_name.is_empty() && body_name != name => Err(bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        ))),
        _ => Ok(()),
    }
}

/// Sets the object's namespace from the URL (400 when the body names another one); clears it
/// for cluster-scoped resources.
fn settle_namespace(
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
