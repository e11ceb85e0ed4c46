//! ResourceQuota on the registry's side: [`StoreQuotas`], through which the admission plugin
//! (`crate::admission::resource_quota`) reads a namespace's quotas and charges their
//! `status.used`, and the quota controller (kube-controller-manager's `resourcequota`, in
//! process), which keeps every quota's status true.
//!
//! The controller follows views, it does not poll: the quotas' view (a quota created, or its
//! `spec.hard` changed), and the view of every resource some quota counts (an object deleted, a
//! pod finished, a service or claim changed: usage may have gone down). Each such event queues
//! its namespace; a worker recalculates every quota of a queued namespace — `status.hard` from
//! the spec, `status.used` summed over the namespace's objects the quota applies to — and writes
//! the status if it changed, conditioned on the quota's resourceVersion (a charge racing it wins
//! and the namespace is recalculated again). Like kube's, it also recalculates everything every
//! [`FULL_RESYNC`], which gives back charges for writes that failed after admission. Its writes
//! go through the store as `system:serviceaccount:kube-system:resourcequota-controller`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use ::watch::{WatchRequest, WatcherEvent};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::sync::watch as signal;

use super::Resource;
use super::operation::APISERVER;
use super::store::{ListParams, Operation, Store};
use crate::admission::resource_quota::{Quotas, Read, usage};
use crate::meta::quantity::{self, ResourceList};
use crate::meta::status::{ApiError, Reason};
use crate::storage::Verb;

/// Who the controller's writes are recorded as.
pub const CONTROLLER: &str = "system:serviceaccount:kube-system:resourcequota-controller";

/// kube-controller-manager's `--resource-quota-sync-period`.
pub const FULL_RESYNC: Duration = Duration::from_secs(300);

/// The served resource `group`/`plural` in its storage version (else any served version).
fn served(store: &Store, group: &str, plural: &str) -> Option<Arc<Resource>> {
    let all: Vec<Arc<Resource>> = store
        .registry
        .all()
        .into_iter()
        .filter(|r| r.gv.group == group && r.plural == plural && r.stored())
        .collect();
    all.iter().find(|r| r.gv == r.storage_gv).cloned().or_else(|| all.into_iter().next())
}

fn quotas_resource(store: &Store) -> Option<Arc<Resource>> {
    store.registry.get("", "v1", "resourcequotas")
}

/// Writes `quota`'s status as `user`, if its resourceVersion is still current; the quota as
/// written, `None` when it was not current (or is gone).
async fn write_status(store: &Store, user: &str, quota: &Value) -> Result<Option<Value>, ApiError> {
    let Some(resource) = quotas_resource(store) else { return Ok(None) };
    let name = quota.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let namespace = quota.pointer("/metadata/namespace").and_then(Value::as_str);
    let op = Operation::internal(user, Verb::Update, &resource)
        .in_namespace(namespace)
        .named(name)
        .with_subresource("status");
    match store.update(&resource, &op, quota.clone()).await {
        Ok(written) => Ok(Some(written)),
        Err(err) if matches!(err.reason, Reason::Conflict | Reason::NotFound) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The quotas for the ResourceQuota admission plugin: read and charged through a store without
/// admission (the plugin sits in the chain of the store it would otherwise call), as
/// `system:apiserver`, as kube-apiserver's loopback client charges them.
#[derive(Debug, Clone)]
pub struct StoreQuotas {
    store: Store,
}

impl StoreQuotas {
    pub fn of(store: &Store) -> StoreQuotas {
        StoreQuotas { store: store.clone().with_admission(Default::default()) }
    }
}

#[async_trait]
impl Quotas for StoreQuotas {
    async fn list(&self, namespace: &str, read: Read) -> Result<Vec<Value>, ApiError> {
        let Some(resource) = quotas_resource(&self.store) else { return Ok(Vec::new()) };
        // `resourceVersion=0`: the quotas' view as it is (the log while it is not loaded).
        let resource_version = (read == Read::Cached).then(|| "0".to_owned());
        let params = ListParams { resource_version, ..ListParams::default() };
        Ok(self.store.list(&resource, Some(namespace), &params).await?.items)
    }

    async fn update_status(&self, quota: &Value) -> Result<Option<Value>, ApiError> {
        write_status(&self.store, APISERVER, quota).await
    }
}

/// The usage of the objects in `namespace` a quota limiting `hard` applies to.
async fn namespace_usage(
    store: &Store,
    quota: &Value,
    hard: &[String],
    namespace: &str,
) -> Result<ResourceList, ApiError> {
    let counted: BTreeSet<(String, String)> =
        hard.iter().filter_map(|name| usage::counted_resource(name)).collect();
    let mut used: ResourceList =
        hard.iter().map(|name| (name.clone(), quantity::Quantity::default())).collect();
    for (group, plural) in counted {
        let Some(resource) = served(store, &group, &plural) else { continue };
        if !resource.namespaced {
            continue;
        }
        let list = store.list(&resource, Some(namespace), &ListParams::default()).await?;
        for object in &list.items {
            if !usage::applies(hard, quota, &group, &plural, object) {
                continue;
            }
            let charged = usage::usage(&group, &plural, object);
            let names = usage::matching_resources(&group, &plural, hard);
            used = quantity::add(&used, &quantity::mask(&charged, &names));
        }
    }
    Ok(used)
}

/// Recalculates every quota of `namespace` and writes those whose status changed; `false` when
/// a write lost a race (the namespace must be recalculated again).
async fn sync_namespace(store: &Store, namespace: &str) -> Result<bool, ApiError> {
    let Some(resource) = quotas_resource(store) else { return Ok(true) };
    let quotas = store.list(&resource, Some(namespace), &ListParams::default()).await?;
    let mut settled = true;
    for quota in quotas.items {
        let spec_hard = quantity::list_from_json(quota.pointer("/spec/hard"));
        let hard: Vec<String> = spec_hard.keys().cloned().collect();
        let used = namespace_usage(store, &quota, &hard, namespace).await?;
        let hard_json = quota
            .pointer("/spec/hard")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        let used_json = quantity::list_to_json(&used);
        let same = quota.pointer("/status/hard").map(normalized) == Some(normalized(&hard_json))
            && quota.pointer("/status/used").map(normalized) == Some(normalized(&used_json));
        if same {
            continue;
        }
        let mut updated = quota.clone();
        updated["status"] = serde_json::json!({"hard": hard_json, "used": used_json});
        if write_status(store, CONTROLLER, &updated).await?.is_none() {
            settled = false;
        }
    }
    Ok(settled)
}

/// A quantity map with its quantities parsed, for comparing without caring about spelling.
fn normalized(map: &Value) -> BTreeMap<String, i128> {
    quantity::list_from_json(Some(map)).into_iter().map(|(k, q)| (k, q.nanos())).collect()
}

/// Whether a quota's status is behind its spec (new, or `spec.hard` changed).
fn needs_sync(quota: &Value) -> bool {
    let spec = quota.pointer("/spec/hard").map(normalized).unwrap_or_default();
    let status = quota.pointer("/status/hard").map(normalized).unwrap_or_default();
    let used = quota.pointer("/status/used").and_then(Value::as_object);
    spec != status || spec.keys().any(|k| !used.is_some_and(|u| u.contains_key(k)))
}

/// The running controller: the queue of namespaces to recalculate and the resources followed.
#[derive(Debug, Clone)]
struct Controller {
    store: Store,
    queue: mpsc::UnboundedSender<String>,
    followed: Arc<Mutex<HashSet<(String, String)>>>,
    shutdown: signal::Receiver<bool>,
}

/// Starts the controller; it stops when `shutdown` flips.
pub fn start(store: Store, shutdown: signal::Receiver<bool>) {
    let Some(quotas) = quotas_resource(&store) else { return };
    let (queue, pending) = mpsc::unbounded_channel();
    let controller =
        Controller { store, queue, followed: Arc::default(), shutdown: shutdown.clone() };
    tokio::spawn(worker(controller.store.clone(), pending, controller.queue.clone(), shutdown));
    let quota_events = controller.clone();
    tokio::spawn(async move { quota_events.follow(quotas, true).await });
}

/// Recalculates the namespaces queued (`""`: every namespace with a quota), each once per burst.
async fn worker(
    store: Store,
    mut pending: mpsc::UnboundedReceiver<String>,
    requeue: mpsc::UnboundedSender<String>,
    mut shutdown: signal::Receiver<bool>,
) {
    let mut resync = tokio::time::interval(FULL_RESYNC);
    resync.tick().await;
    loop {
        let first = tokio::select! {
            next = pending.recv() => match next { Some(ns) => ns, None => return },
            _ = resync.tick() => String::new(),
            _ = shutdown.changed() => return,
        };
        let mut namespaces = BTreeSet::from([first]);
        while let Ok(more) = pending.try_recv() {
            namespaces.insert(more);
        }
        if namespaces.remove("") {
            namespaces.extend(all_quota_namespaces(&store).await);
        }
        for namespace in namespaces {
            match sync_namespace(&store, &namespace).await {
                Ok(true) => {}
                Ok(false) => {
                    let _ = requeue.send(namespace);
                }
                Err(err) => {
                    tracing::warn!(%namespace, %err, "resource quota recalculation failed");
                    let retry = requeue.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let _ = retry.send(namespace);
                    });
                }
            }
        }
    }
}

async fn all_quota_namespaces(store: &Store) -> BTreeSet<String> {
    let Some(resource) = quotas_resource(store) else { return BTreeSet::new() };
    let Ok(list) = store.list(&resource, None, &ListParams::default()).await else {
        return BTreeSet::new();
    };
    list.items
        .iter()
        .filter_map(|q| q.pointer("/metadata/namespace").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

impl Controller {
    /// Follows one resource's view until shutdown: the quotas' (`quotas`: a quota whose status is
    /// behind queues its namespace, and the resources it counts are followed from then on) or a
    /// counted resource's (a delete or change queues the namespace).
    async fn follow(self, resource: Arc<Resource>, quotas: bool) {
        let mut shutdown = self.shutdown.clone();
        let view = self.store.views.of(&resource);
        // The quotas' watch starts with every stored quota (as ADDED); the others with what
        // happens from now on.
        let mut after = if quotas { None } else { view.revision() };
        while !*shutdown.borrow() {
            let Ok(mut watcher) = view.watch(WatchRequest::new(after)) else {
                // Not loaded yet: wait for it (bounded), then try again.
                let loaded = view.wait_until(0, Instant::now() + Duration::from_secs(1));
                tokio::select! {
                    _ = loaded => {}
                    _ = shutdown.changed() => {}
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            if !quotas && after.is_none() {
                // Whatever this resource's objects did before the watch began (since the quota
                // that made it counted was seen) is caught by recalculating every namespace.
                let _ = self.queue.send(String::new());
            }
            loop {
                let event = tokio::select! {
                    event = watcher.next() => event,
                    _ = shutdown.changed() => return,
                };
                let Some(event) = event else { break };
                if let WatcherEvent::Error(_) = event {
                    break;
                }
                let Some((kind, change)) = event.change() else { continue };
                after = Some(change.revision());
                let object = &change.object().json;
                let namespace =
                    object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
                if quotas {
                    if !matches!(event, WatcherEvent::Deleted(_)) {
                        self.follow_counted(object);
                        if needs_sync(object) {
                            let _ = self.queue.send(namespace.to_owned());
                        }
                    }
                } else if !matches!(kind, ::watch::WatchEventType::Added) && !namespace.is_empty() {
                    let _ = self.queue.send(namespace.to_owned());
                }
            }
            // Resumes after the last event seen (a full resync covers a gap).
            after = after.or_else(|| view.revision());
        }
    }

    /// Starts following the resources `quota` counts that are not followed yet.
    fn follow_counted(&self, quota: &Value) {
        let hard = quota.pointer("/spec/hard").and_then(Value::as_object);
        for name in hard.into_iter().flat_map(|h| h.keys()) {
            let Some((group, plural)) = usage::counted_resource(name) else { continue };
            let Some(resource) = served(&self.store, &group, &plural) else { continue };
            let mut followed = self.followed.lock().unwrap_or_else(PoisonError::into_inner);
            if followed.insert((group, plural)) {
                tokio::spawn(self.clone().follow(resource, false));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_quota_needs_syncing_until_its_status_matches_its_spec() {
        let new = json!({"spec": {"hard": {"pods": "2"}}});
        assert!(needs_sync(&new));
        let synced = json!({"spec": {"hard": {"pods": "2"}},
                            "status": {"hard": {"pods": "2"}, "used": {"pods": "0"}}});
        assert!(!needs_sync(&synced));
        let changed = json!({"spec": {"hard": {"pods": "3"}},
                             "status": {"hard": {"pods": "2"}, "used": {"pods": "0"}}});
        assert!(needs_sync(&changed));
        let respelled = json!({"spec": {"hard": {"cpu": "1000m"}},
                               "status": {"hard": {"cpu": "1"}, "used": {"cpu": "0"}}});
        assert!(!needs_sync(&respelled));
    }
}
