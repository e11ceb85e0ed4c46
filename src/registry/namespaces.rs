//! Namespace lifecycle: the built-in namespaces exist from the start, and a deleted namespace is
//! emptied before it goes away (kube-controller-manager's namespace controller, in-process), and
//! [`Lister`], through which the NamespaceLifecycle admission plugin
//! (`crate::admission::namespace_lifecycle`) reads namespaces.
//!
//! Flow: `DELETE /api/v1/namespaces/x` marks the namespace `Terminating` (the store's delete);
//! the namespace controller ([`start_controller`], on the replica holding the controllers' lease)
//! sees it on the namespaces' watch and deletes every namespaced object in `x` — objects with
//! finalizers stay until their controllers remove them — and, once nothing is left, finalizes
//! the namespace (its spec finalizers removed, as kube's `/finalize`), which deletes it unless
//! a metadata finalizer still holds it. Every one of these writes goes through the store, as
//! `system:serviceaccount:kube-system:namespace-controller`: admitted and recorded like any
//! other. Terminating namespaces found when the controller starts (a server stopped half-way, or
//! a leader that lost its lease) are resumed from the list it starts with.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::operation::APISERVER;
use super::store::{DeleteOptions, ListParams, Operation, Store, decode};
use super::{Registry, Resource};
use crate::admission::namespace_lifecycle::{Namespaces, Phase};
use crate::meta::fields::FieldSelector;
use crate::meta::status::{ApiError, Reason};
use crate::patch::PatchType;
use crate::registry::namespace_objects::{Follow, Next};
use crate::registry::object;
use crate::registry::views::Views;
use crate::storage::{Storage, Verb};

/// The namespaces kube-apiserver creates at start-up.
pub const BUILT_IN: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Who the namespace controller's writes are recorded as.
pub const CONTROLLER: &str = "system:serviceaccount:kube-system:namespace-controller";

/// Namespaces for the NamespaceLifecycle plugin: the namespaces view, else the log.
#[derive(Debug, Clone)]
pub struct Lister {
    storage: Arc<dyn Storage>,
    registry: Arc<Registry>,
    views: Views,
}

impl Lister {
    /// Reads what `store` reads (its storage, registry and views).
    pub fn of(store: &Store) -> Lister {
        Lister {
            storage: store.storage.clone(),
            registry: store.registry.clone(),
            views: store.views.clone(),
        }
    }

    fn namespaces(&self) -> Option<Arc<Resource>> {
        self.registry.get("", "v1", "namespaces")
    }
}

pub(crate) fn phase_of(ns: &Value) -> Phase {
    let terminating = ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        || object::deletion_timestamp(ns).is_some();
    if terminating { Phase::Terminating } else { Phase::Active }
}

#[async_trait]
impl Namespaces for Lister {
    fn cached(&self, name: &str) -> Option<Phase> {
        // Without the namespaces resource every namespace is taken as active.
        let Some(namespaces) = self.namespaces() else { return Some(Phase::Active) };
        match self.views.of(&namespaces).get(&namespaces.key(None, name)) {
            Ok(Some(found)) => Some(phase_of(&found.json)),
            _ => None,
        }
    }

    async fn live(&self, name: &str) -> Result<Phase, ApiError> {
        let Some(namespaces) = self.namespaces() else { return Ok(Phase::Active) };
        let key = namespaces.key(None, name);
        let stored = self
            .storage
            .get(&key, None)
            .await
            .map_err(super::store::storage_err(&namespaces, name))?;
        match stored {
            Some(stored) => Ok(phase_of(&decode(&stored)?)),
            None => Ok(Phase::Missing),
        }
    }
}

/// Creates the built-in namespaces that do not exist yet.
pub async fn ensure_built_in(store: &Store) -> Result<(), ApiError> {
    let Some(namespaces) = store.registry.get("", "v1", "namespaces") else { return Ok(()) };
    for name in BUILT_IN {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let op = Operation::internal(APISERVER, Verb::Create, &namespaces).named(name);
        match store.create(&namespaces, &op, body).await {
            Ok(_) => tracing::info!(namespace = name, "created built-in namespace"),
            Err(err) if err.reason == Reason::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// kube-controller-manager's namespace controller, run while this replica leads (a
/// singleton, `crate::leader`): lists the namespaces and resumes the cleanup of every
/// terminating one (a stopped server's or a former leader's), then follows the namespaces'
/// watch in a task and empties and finalizes each namespace that begins terminating, until
/// `stop` flips. Cleanups stop with it; the next leader resumes them from the log.
pub async fn start_controller(store: Store, stop: watch::Receiver<bool>) -> Result<(), ApiError> {
    let Some(namespaces) = store.registry.get("", "v1", "namespaces") else { return Ok(()) };
    let controller = Controller { store, cleaning: Arc::default(), stop };
    let revision = controller.resume().await?;
    tokio::spawn(controller.follow(namespaces, revision));
    Ok(())
}

/// The namespace controller's state, shared with its cleanup tasks.
#[derive(Debug, Clone)]
struct Controller {
    store: Store,
    /// Namespaces being emptied, so one cleanup runs per namespace. A std lock, never held
    /// across an await.
    cleaning: Arc<Mutex<BTreeSet<String>>>,
    /// Flips when this replica stops leading or shuts down.
    stop: watch::Receiver<bool>,
}

impl Controller {
    /// Starts the cleanup of every terminating namespace; returns the list's revision.
    async fn resume(&self) -> Result<i64, ApiError> {
        let Some(namespaces) = self.store.registry.get("", "v1", "namespaces") else {
            return Ok(0);
        };
        let list = self.store.list(&namespaces, None, &ListParams::default()).await?;
        for ns in &list.items {
            self.observe(ns);
        }
        Ok(list.resource_version)
    }

    /// Starts a cleanup of `ns` if it is terminating and none runs yet.
    fn observe(&self, ns: &Value) {
        if object::deletion_timestamp(ns).is_none() {
            return;
        }
        let name = object::name(ns).unwrap_or_default().to_owned();
        if !self.cleaning.lock().unwrap_or_else(PoisonError::into_inner).insert(name.clone()) {
            return;
        }
        let controller = self.clone();
        tokio::spawn(async move {
            if let Err(err) = finalize(&controller.store, &name, controller.stop.clone()).await {
                tracing::warn!(namespace = %name, %err, "namespace cleanup failed");
            }
            controller.cleaning.lock().unwrap_or_else(PoisonError::into_inner).remove(&name);
        });
    }

    async fn follow(self, namespaces: Arc<Resource>, revision: i64) {
        let mut watch = Follow::new(namespaces, FieldSelector::everything());
        watch.restart_at(revision);
        let mut stop = self.stop.clone();
        let mut pause = Duration::from_millis(100);
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                next = watch.next(&self.store) => next,
            };
            match next {
                Next::Changed(ns) => self.observe(&ns),
                Next::Deleted(_) => {}
                Next::Relist => match self.resume().await {
                    Ok(revision) => {
                        watch.restart_at(revision);
                        pause = Duration::from_millis(100);
                    }
                    Err(err) => {
                        tracing::warn!(%err, "listing namespaces failed");
                        tokio::select! {
                            _ = stop.wait_for(|stop| *stop) => return,
                            _ = tokio::time::sleep(pause) => {}
                        }
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                },
            }
        }
    }
}

/// Empties `namespace`, then removes it; gives up (leaving the rest to the next leader) when
/// `stop` flips.
async fn finalize(
    store: &Store,
    namespace: &str,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ApiError> {
    let mut pause = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if delete_contents(store, namespace).await? == 0 {
            break;
        }
        // Objects held by finalizers wait for their controllers; look again later.
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    if *stop.borrow() {
        return Ok(());
    }
    remove_namespace(store, namespace).await
}

/// Deletes every namespaced object in `namespace`; returns how many were still there.
async fn delete_contents(store: &Store, namespace: &str) -> Result<usize, ApiError> {
    let mut seen_prefixes = BTreeSet::new();
    let mut found = 0;
    for resource in store.registry.all() {
        // Several versions (and API groups) may serve one stored resource: visit it once.
        // Create-only resources (LocalSubjectAccessReview) and the ledger's (deletedobjects)
        // hold nothing to delete.
        let stored = resource.namespaced && resource.stored();
        if !stored || !seen_prefixes.insert(resource.storage_prefix.clone()) {
            continue;
        }
        let list = store.list(&resource, Some(namespace), &ListParams::default()).await?;
        let op = Operation::internal(CONTROLLER, Verb::Delete, &resource);
        for item in list.items {
            found += 1;
            let name = object::name(&item).unwrap_or_default();
            let op = op.for_object(Some(namespace), name);
            match store.delete(&resource, &op, &DeleteOptions::default()).await {
                Ok(_) => {}
                Err(err) if err.reason == Reason::NotFound => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(found)
}

/// Finalizes the namespace: its spec finalizers (`kubernetes`) removed through the store's
/// `/finalize` part, which deletes it unless someone else's metadata finalizer holds it.
async fn remove_namespace(store: &Store, namespace: &str) -> Result<(), ApiError> {
    let Some(namespaces) = store.registry.get("", "v1", "namespaces") else { return Ok(()) };
    let op = Operation::internal(CONTROLLER, Verb::Update, &namespaces)
        .named(namespace)
        .with_subresource("finalize");
    let patch = br#"{"spec":{"finalizers":null}}"#;
    match store.patch(&namespaces, &op, PatchType::Merge, patch).await {
        Ok(ns) => {
            if object::finalizers(&ns).is_empty() {
                tracing::info!(%namespace, "namespace deleted");
            }
            Ok(())
        }
        Err(err) if err.reason == Reason::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}
