//! kube's bootstrap RBAC policy ([`crate::authz::bootstrap`]) made real at start: every expected
//! ClusterRole and ClusterRoleBinding is read from the store, reconciled with what kube expects
//! ([`crate::authz::reconcile`]: missing objects created, missing rules, subjects, labels and
//! annotations added, nothing taken away, `autoupdate: "false"` respected, a binding whose
//! `roleRef` changed deleted and created again), and written through the store as
//! `system:apiserver`; then the aggregated roles are settled once.
//!
//! Runs before the server binds, so the first request already meets the policy.

use serde_json::Value;

use super::{GROUP, aggregation, apiserver};
use crate::authz::bootstrap;
use crate::authz::reconcile::{Reconciled, reconcile_binding, reconcile_role};
use crate::meta::status::{ApiError, Reason};
use crate::registry::Resource;
use crate::registry::object;
use crate::registry::store::{DeleteOptions, Store};
use crate::storage::Verb;

/// Creates or reconciles the bootstrap policy; returns how many objects were written. A no-op
/// when the RBAC kinds are not served (`--runtime-config`).
pub async fn ensure_policy(store: &Store) -> Result<usize, ApiError> {
    let (Some(roles), Some(bindings)) = (
        store.registry.get(GROUP, "v1", "clusterroles"),
        store.registry.get(GROUP, "v1", "clusterrolebindings"),
    ) else {
        return Ok(0);
    };
    let mut written = 0;
    for expected in bootstrap::cluster_roles() {
        let existing = read(store, &roles, &expected).await?;
        let outcome = reconcile_role(existing.as_ref(), &expected, false);
        written += apply(store, &roles, outcome).await?;
    }
    for expected in bootstrap::cluster_role_bindings() {
        let existing = read(store, &bindings, &expected).await?;
        let outcome = reconcile_binding(existing.as_ref(), &expected, false);
        written += apply(store, &bindings, outcome).await?;
    }
    written += aggregation::settle(store).await?;
    if written > 0 {
        tracing::info!(written, "bootstrap RBAC policy reconciled");
    }
    Ok(written)
}

async fn read(
    store: &Store,
    resource: &Resource,
    expected: &Value,
) -> Result<Option<Value>, ApiError> {
    let name = object::name(expected).unwrap_or_default();
    match store.get(resource, None, name, None).await {
        Ok(found) => Ok(Some(found)),
        Err(err) if err.reason == Reason::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// Writes what reconciliation asked for; 1 if something was written.
async fn apply(store: &Store, resource: &Resource, outcome: Reconciled) -> Result<usize, ApiError> {
    match outcome {
        Reconciled::Unchanged => Ok(0),
        Reconciled::Protected(_) => Ok(0),
        Reconciled::Create(object) => create(store, resource, object).await,
        Reconciled::Update(object) => {
            let name = object::name(&object).unwrap_or_default().to_owned();
            let op = apiserver(Verb::Update, resource, &name);
            match store.update(resource, &op, object).await {
                Ok(_) => Ok(1),
                // Another replica starting at the same time reconciled it first, to the same
                // bootstrap policy (the update carries the resourceVersion read).
                Err(err) if err.reason == Reason::Conflict => Ok(0),
                Err(err) => Err(err),
            }
        }
        Reconciled::Recreate(object) => {
            let name = object::name(&object).unwrap_or_default().to_owned();
            let op = apiserver(Verb::Delete, resource, &name);
            match store.delete(resource, &op, &DeleteOptions::default()).await {
                Ok(_) => {}
                Err(err) if err.reason == Reason::NotFound => {}
                Err(err) => return Err(err),
            }
            create(store, resource, object).await
        }
    }
}

async fn create(store: &Store, resource: &Resource, object: Value) -> Result<usize, ApiError> {
    let name = object::name(&object).unwrap_or_default().to_owned();
    match store.create(resource, &apiserver(Verb::Create, resource, &name), object).await {
        Ok(_) => Ok(1),
        // Another server of the same log got there first.
        Err(err) if err.reason == Reason::AlreadyExists => Ok(0),
        Err(err) => Err(err),
    }
}
