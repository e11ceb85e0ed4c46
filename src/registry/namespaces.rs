//! Namespace lifecycle: the built-in namespaces exist from the start, and a deleted namespace is
//! emptied before it goes away (kube-controller-manager's namespace controller, in-process).
//!
//! Flow: `DELETE /api/v1/namespaces/x` marks the namespace `Terminating` (the store's delete) and
//! starts [`finalize_in_background`]; it deletes every namespaced object in `x` — objects with
//! finalizers stay until their controllers remove them — and, once nothing is left, removes the
//! `kubernetes` finalizer and the namespace itself. Terminating namespaces found at start-up
//! (the server stopped half-way) are resumed by [`resume_terminating`].

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::store::{DeleteOptions, ListParams, RequestContext, Store, decode};
use crate::api::status::{ApiError, Reason};
use crate::registry::object;
use crate::storage::{StorageError, Verb};

/// The namespaces kube-apiserver creates at start-up.
pub const BUILT_IN: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// The namespaces that may not be deleted (kube-apiserver's NamespaceLifecycle admission).
pub const IMMORTAL: [&str; 3] = ["default", "kube-system", "kube-public"];

fn controller() -> RequestContext {
    RequestContext {
        user: "system:serviceaccount:kube-system:namespace-controller".to_owned(),
        audit_id: String::new(),
    }
}

/// Creates the built-in namespaces that do not exist yet.
pub async fn ensure_built_in(store: &Store) -> Result<(), ApiError> {
    let Some(namespaces) = store.registry.get("", "v1", "namespaces") else { return Ok(()) };
    let ctx = RequestContext { user: "system:apiserver".to_owned(), audit_id: String::new() };
    for name in BUILT_IN {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        match store.create(&namespaces, None, body, Default::default(), &ctx).await {
            Ok(_) => tracing::info!(namespace = name, "created built-in namespace"),
            Err(err) if err.reason == Reason::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Resumes the cleanup of namespaces that were terminating when the server stopped.
pub async fn resume_terminating(store: &Store) -> Result<(), ApiError> {
    let Some(namespaces) = store.registry.get("", "v1", "namespaces") else { return Ok(()) };
    let list = store.list(&namespaces, None, &ListParams::default()).await?;
    for ns in list.items {
        if object::deletion_timestamp(&ns).is_some() {
            finalize_in_background(store.clone(), object::name(&ns).unwrap_or_default().to_owned());
        }
    }
    Ok(())
}

/// Empties and removes a terminating namespace, in a task of its own.
pub fn finalize_in_background(store: Store, namespace: String) {
    tokio::spawn(async move {
        if let Err(err) = finalize(&store, &namespace).await {
            tracing::warn!(%namespace, %err, "namespace cleanup failed");
        }
    });
}

async fn finalize(store: &Store, namespace: &str) -> Result<(), ApiError> {
    let ctx = controller();
    let mut pause = Duration::from_millis(100);
    loop {
        if delete_contents(store, namespace, &ctx).await? == 0 {
            break;
        }
        // Objects held by finalizers wait for their controllers; look again later.
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    remove_namespace(store, namespace, &ctx).await
}

/// Deletes every namespaced object in `namespace`; returns how many were still there.
async fn delete_contents(
    store: &Store,
    namespace: &str,
    ctx: &RequestContext,
) -> Result<usize, ApiError> {
    let mut seen_prefixes = BTreeSet::new();
    let mut found = 0;
    for resource in store.registry.all() {
        // Several versions (and API groups) may serve one stored resource: visit it once.
        if !resource.namespaced || !seen_prefixes.insert(resource.storage_prefix.clone()) {
            continue;
        }
        let list = store.list(&resource, Some(namespace), &ListParams::default()).await?;
        for item in list.items {
            found += 1;
            let name = object::name(&item).unwrap_or_default();
            match store
                .delete(&resource, Some(namespace), name, &DeleteOptions::default(), ctx)
                .await
            {
                Ok(_) => {}
                Err(err) if err.reason == Reason::NotFound => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(found)
}

/// Drops the `kubernetes` finalizer and deletes the namespace object.
async fn remove_namespace(
    store: &Store,
    namespace: &str,
    ctx: &RequestContext,
) -> Result<(), ApiError> {
    let Some(namespaces) = store.registry.get("", "v1", "namespaces") else { return Ok(()) };
    let key = namespaces.key(None, namespace);
    loop {
        let Some(current) = store.storage.get(&key, None).await.map_err(internal)? else {
            return Ok(());
        };
        let mut ns = decode(&current)?;
        if let Some(spec) = ns.get_mut("spec").and_then(Value::as_object_mut) {
            spec.shift_remove("finalizers");
        }
        let result = if object::finalizers(&ns).is_empty() {
            store
                .storage
                .delete(&key, current.mod_revision, ctx.provenance(Verb::Delete))
                .await
                .map(|_| ())
        } else {
            // Someone else's metadata finalizer: leave the namespace to them, spec finalizer gone.
            let bytes = super::store::encode(&namespaces, ns);
            let who = ctx.provenance(Verb::Update);
            return store
                .storage
                .update(&key, current.mod_revision, bytes, who)
                .await
                .map(|_| ())
                .map_err(internal);
        };
        match result {
            Ok(()) => {
                tracing::info!(%namespace, "namespace deleted");
                return Ok(());
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(StorageError::NotFound { .. }) => return Ok(()),
            Err(err) => return Err(internal(err)),
        }
    }
}

fn internal(err: StorageError) -> ApiError {
    ApiError::from_storage(err, "", "namespaces", "")
}
