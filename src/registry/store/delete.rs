//! Delete and deletecollection, with preconditions and finalizers.
//!
//! An object without finalizers is removed from the log at once (nothing here runs pods, so
//! there is no kubelet to wait for). An object with finalizers gets `deletionTimestamp` and
//! stays until an update removes the last finalizer ([`Store::commit_update`] then completes the
//! delete). A strategy may name finalizers every delete adds first
//! ([`crate::registry::Strategy::finalizers_on_delete`]: a CRD's objects are removed before the
//! CRD). Namespaces are special: deleting one marks it `Terminating` and the namespace
//! controller ([`crate::registry::namespaces`]) empties and then removes it, through this store.
//!
//! Stages: the current object is read, the preconditions checked, then both admission phases
//! run with the object as `old_object` and no new object, then the storage write (the delete,
//! or the deletion mark). A dry run runs all of it and writes nothing.
//!
//! What the client is answered with is the endpoint's choice, from the [`Deletion`] and the
//! strategy's [`crate::registry::Strategy::return_deleted_object`]; a collection delete answers
//! with the list it deleted.

use serde_json::{Value, json};

use super::write::{Current, Part, Retry, conflict};
use super::{MAX_RETRIES, Operation, Store, decode, not_found, storage_err};
use crate::admission::Action;
use crate::meta::status::ApiError;
use crate::registry::Resource;
use crate::registry::object::{self, metadata_mut};
use crate::storage::{StorageError, Verb};

/// `metav1.DeleteOptions`, as far as they change what happens.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `preconditions.uid`: delete only this incarnation.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`: delete only this version.
    pub resource_version: Option<String>,
    /// Accepted for compatibility; deletion is immediate (no kubelet to wait for).
    pub grace_period_seconds: Option<i64>,
    /// The deprecated `orphanDependents`: as in kube-apiserver, `false` makes a delete that
    /// leaves the object waiting for finalizers answer 202 Accepted instead of 200.
    pub orphan_dependents: Option<bool>,
    /// `Orphan`, `Background` or `Foreground`: accepted (validated by the endpoint); there is no
    /// garbage collector yet, so dependents are left alone as with `Orphan`.
    pub propagation_policy: Option<String>,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion {
    /// Gone; the object as it was last.
    Deleted(Value),
    /// Still there with `deletionTimestamp` set, waiting for finalizers (or namespace cleanup).
    Pending(Value),
}

impl Store {
    /// DELETE of the operation's object.
    pub async fn delete(
        &self,
        resource: &Resource,
        op: &Operation,
        options: &DeleteOptions,
    ) -> Result<Deletion, ApiError> {
        let (namespace, name) = (op.namespace.as_deref(), op.name.as_str());
        // Objects the kind's REST layer never deletes (kube's system PriorityClasses).
        if let Some(why) = resource.strategy.forbid_delete(name) {
            return Err(ApiError::forbidden(&resource.gv.group, &resource.plural, name, &why));
        }
        let is_namespace = resource.gv.group.is_empty() && resource.plural == "namespaces";
        // A dry run reads the log at once (see `guaranteed_update`).
        let mut attempts = usize::from(op.dry_run);
        loop {
            let (current, from_view) =
                self.read_for_write(resource, namespace, name, attempts).await?;
            let old = decode(&current)?;
            let checked = check_preconditions(resource, name, &old, current.mod_revision, options);
            // Only the conditioned delete below may rest on the view's copy; preconditions,
            // finalizers and dry runs are decided on the log's (see `read_for_write`).
            let held_back = !object::finalizers(&old).is_empty()
                || !resource.strategy.finalizers_on_delete().is_empty();
            if from_view && (checked.is_err() || is_namespace || held_back || op.dry_run) {
                attempts += 1;
                continue;
            }
            checked?;
            // Admission: both phases, with the object as it is.
            let admitted = match self.admit(resource, op, Action::Delete, Some(&old), None).await {
                Ok(()) => {
                    self.validate_admission(resource, op, Action::Delete, Some(&old), None).await
                }
                Err(err) => Err(err),
            };
            match admitted {
                Ok(()) => {}
                // A refusal is decided on the log's copy, too.
                Err(_) if from_view => {
                    attempts += 1;
                    continue;
                }
                Err(err) => return Err(err),
            }
            let finalizers = object::finalizers(&old);
            let added: Vec<&str> = resource
                .strategy
                .finalizers_on_delete()
                .iter()
                .copied()
                .filter(|f| !finalizers.iter().any(|have| have == f))
                .collect();
            let held =
                !finalizers.is_empty() || !resource.strategy.finalizers_on_delete().is_empty();
            if is_namespace || held {
                if object::deletion_timestamp(&old).is_some() {
                    // Already being deleted: nothing more to do until finalizers go.
                    return Ok(Deletion::Pending(self.to_served(resource, &current).await?));
                }
                let current = Current { object: current, old, from_view };
                if !added.is_empty() && !op.dry_run {
                    // The strategy's finalizers first (an object being deleted may not gain
                    // any), then, read again, the mark.
                    let mut held_object = current.old.clone();
                    let mut all: Vec<Value> =
                        finalizers.iter().map(|f| f.as_str().into()).collect();
                    all.extend(added.iter().map(|f| Value::from(*f)));
                    metadata_mut(&mut held_object).insert("finalizers".into(), Value::Array(all));
                    let update = op.with_verb(Verb::Update);
                    match self
                        .commit_update(resource, &update, &current, held_object, Part::Whole)
                        .await
                    {
                        Ok(_) => {}
                        Err(Retry::Conflict) if attempts < MAX_RETRIES => {}
                        Err(Retry::Conflict) => return Err(conflict(resource, name)),
                        Err(Retry::Fail(err) | Retry::Storage(err)) => return Err(err),
                    }
                    attempts += 1;
                    continue;
                }
                let mut marked = current.old.clone();
                let meta = metadata_mut(&mut marked);
                meta.insert("deletionTimestamp".into(), object::now_rfc3339().into());
                meta.insert("deletionGracePeriodSeconds".into(), 0.into());
                if is_namespace {
                    marked["status"] = json!({"phase": "Terminating"});
                }
                match self.commit_update(resource, op, &current, marked, Part::Whole).await {
                    // A namespace is emptied by the namespace controller, which sees the
                    // mark on its watch (`registry::namespaces`).
                    Ok(value) => return Ok(Deletion::Pending(value)),
                    Err(Retry::Conflict) if attempts < MAX_RETRIES => {
                        attempts += 1;
                        continue;
                    }
                    Err(Retry::Conflict) => return Err(conflict(resource, name)),
                    Err(Retry::Fail(err) | Retry::Storage(err)) => return Err(err),
                }
            }
            let last = self.to_served(resource, &current).await?;
            if op.dry_run {
                return Ok(Deletion::Deleted(last));
            }
            match self
                .storage
                .delete(&current.key, current.mod_revision, op.provenance(Verb::Delete))
                .await
            {
                Ok(_) => {
                    self.recent.deleted(&current.key);
                    resource.strategy.deleted(&last);
                    return Ok(Deletion::Deleted(last));
                }
                Err(StorageError::Conflict { .. }) if from_view || attempts < MAX_RETRIES => {
                    attempts += 1
                }
                Err(StorageError::Conflict { .. }) => return Err(conflict(resource, name)),
                Err(StorageError::NotFound { .. }) => return Err(not_found(resource, name)),
                Err(err) => return Err(storage_err(resource, name)(err)),
            }
        }
    }

    /// Deletes every object of a list selection (DELETE on a collection), as kube-apiserver
    /// does: the selection is listed (one page when the request has a `limit`, else all of it),
    /// each object listed is deleted, and the list as it was listed is the answer.
    pub async fn delete_collection(
        &self,
        resource: &Resource,
        op: &Operation,
        params: &super::ListParams,
        options: &DeleteOptions,
    ) -> Result<super::ListResult, ApiError> {
        let list = self.list(resource, op.namespace.as_deref(), params).await?;
        for item in &list.items {
            let name = object::name(item).unwrap_or_default();
            let item_op = op.for_object(object::namespace(item), name);
            match self.delete(resource, &item_op, options).await {
                Ok(_) => {}
                // Deleted meanwhile by someone else: that is what was asked.
                Err(err) if err.reason == crate::meta::status::Reason::NotFound => {}
                Err(err) => return Err(err),
            }
        }
        Ok(list)
    }
}

fn check_preconditions(
    resource: &Resource,
    name: &str,
    old: &Value,
    revision: i64,
    options: &DeleteOptions,
) -> Result<(), ApiError> {
    let failed = |what: &str, want: &str, have: &str| {
        ApiError::conflict(
            &resource.gv.group,
            &resource.plural,
            name,
            &format!(
                "Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}"
            ),
        )
    };
    if let Some(uid) = &options.uid {
        let have = object::uid(old).unwrap_or_default();
        if uid != have {
            return Err(failed("UID", uid, have));
        }
    }
    if let Some(rv) = &options.resource_version
        && *rv != revision.to_string()
    {
        return Err(failed("ResourceVersion", rv, &revision.to_string()));
    }
    Ok(())
}
