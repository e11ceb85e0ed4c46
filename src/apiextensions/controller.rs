//! The CRD controller, in-process: apiextensions-apiserver's naming, establishing and finalizing
//! controllers in one task.
//!
//! Flow: [`start`] lists every CRD and serves it before it returns (so a restarted server is
//! ready only once its CRDs are served again), then follows the CRD resource's watch. For each
//! CRD it sees:
//! - names are accepted against the other CRDs of the group ([`super::names`]), its served
//!   versions become registry resources ([`super::custom`]) — replaced in place when the CRD
//!   changes, unregistered when a version stops being served — and its status gets
//!   `acceptedNames`, `NamesAccepted` and `Established`;
//! - a CRD being deleted (the delete added the cleanup finalizer) has every object deleted, in
//!   a task of its own, then loses the finalizer, and the store completes its deletion; the
//!   `DELETED` event unregisters its resources.
//!
//! Serving is per replica: every replica registers every stored CRD's routes. Writing is the
//! leader's ([`crate::leader`]): only the replica holding the controllers' lease writes CRD
//! status and runs the cleanups; when it begins leading it reconciles every CRD again, and a
//! cleanup stops (the finalizer stays) when it stops leading, for the next leader to resume.

use super::webhook::WebhookConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use super::crd::{self, CLEANUP_FINALIZER};
use super::custom;
use super::definition::{Definition, Names, Spec};
use super::names;
use crate::leader::Leadership;
use crate::meta::status::{ApiError, Reason};
use crate::patch::PatchType;
use crate::registry::store::{DeleteOptions, ListParams, Store, WatchEvent, WatchParams};
use crate::registry::{GroupVersion, Operation, Resource, object};
use crate::storage::Verb;

/// Who the controller's writes are recorded as (they go through the store, admission included).
const CONTROLLER: &str = "system:serviceaccount:kube-system:crd-controller";

/// What the controller serves for one CRD.
#[derive(Debug, Clone, PartialEq)]
struct Served {
    /// The spec (with the accepted names) the resources were built from: rebuilt when it moves.
    basis: Spec,
    versions: Vec<GroupVersion>,
    plural: String,
}

/// The controller's state, shared with its cleanup tasks.
#[derive(Debug, Clone)]
pub struct Controller {
    store: Store,
    crds: Arc<Resource>,
    /// A std lock, never held across an await.
    served: Arc<Mutex<BTreeMap<String, Served>>>,
    /// CRDs whose objects are being deleted, so one cleanup runs per CRD.
    cleaning: Arc<Mutex<BTreeSet<String>>>,
    /// Settings of conversion webhooks (`--conversion-webhook-timeout`).
    webhooks: WebhookConfig,
    /// Whether this replica writes (status, cleanups) or only serves.
    leadership: Leadership,
}

/// Serves every stored CRD, then follows CRD changes in a task until `shutdown` flips; writes
/// their status and finalizes them while `leadership` leads.
pub async fn start(
    store: Store,
    shutdown: signal::Receiver<bool>,
    webhooks: WebhookConfig,
    leadership: Leadership,
) -> Result<(), ApiError> {
    let Some(crds) = store.registry.get(crd::GROUP, crd::VERSION, crd::PLURAL) else {
        return Ok(());
    };
    let (served, cleaning) = (Arc::default(), Arc::default());
    let controller = Controller { store, crds, served, cleaning, webhooks, leadership };
    let revision = controller.sync_all().await?;
    tokio::spawn(controller.run(revision, shutdown));
    Ok(())
}

impl Controller {
    /// Reconciles every CRD and forgets those no longer stored; returns the list's revision.
    async fn sync_all(&self) -> Result<i64, ApiError> {
        let list = self.store.list(&self.crds, None, &ListParams::default()).await?;
        let names: BTreeSet<String> =
            list.items.iter().filter_map(|c| object::name(c).map(str::to_owned)).collect();
        let known: Vec<String> = self.lock_served().keys().cloned().collect();
        for gone in known.into_iter().filter(|n| !names.contains(n)) {
            self.forget(&gone);
        }
        for item in &list.items {
            self.reconcile(item).await;
        }
        Ok(list.resource_version)
    }

    async fn run(self, mut revision: i64, mut shutdown: signal::Receiver<bool>) {
        let mut leading = self.leadership.subscribe();
        leading.borrow_and_update();
        loop {
            if *shutdown.borrow() {
                return;
            }
            let params = WatchParams {
                list: ListParams {
                    resource_version: Some(revision.to_string()),
                    ..Default::default()
                },
                allow_bookmarks: true,
                send_initial_events: false,
            };
            let mut events = match self.store.watch(self.crds.clone(), None, params).await {
                Ok(events) => events,
                Err(err) => {
                    tracing::warn!(%err, "CRD watch failed; listing again");
                    revision = self.resync(&mut shutdown).await;
                    continue;
                }
            };
            loop {
                let event = tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => return,
                    event = events.next() => Some(event),
                    Ok(()) = leading.changed() => None,
                };
                let Some(event) = event else {
                    if *leading.borrow_and_update() {
                        // Newly leading: write what the former leader may have left.
                        revision = revision.max(self.resync(&mut shutdown).await);
                    }
                    continue;
                };
                let Some(event) = event else { break };
                if let Some(at) = event.revision() {
                    revision = revision.max(at);
                }
                match event {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => match o.served().await {
                        Ok(crd) => self.reconcile(&crd).await,
                        Err(err) => tracing::warn!(%err, "a CRD event could not be read"),
                    },
                    WatchEvent::Listed(crd) => self.reconcile(&crd).await,
                    WatchEvent::Deleted(o) => {
                        if let Ok(crd) = o.served().await {
                            self.forget(object::name(&crd).unwrap_or_default());
                        }
                    }
                    WatchEvent::Bookmark { .. } => {}
                    WatchEvent::Error(err) => {
                        tracing::info!(%err, "CRD watch ended with an error; listing again");
                        revision = self.resync(&mut shutdown).await;
                        break;
                    }
                }
            }
        }
    }

    /// Lists again until it works (pausing between attempts); returns the list's revision.
    async fn resync(&self, shutdown: &mut signal::Receiver<bool>) -> i64 {
        let mut pause = Duration::from_millis(100);
        loop {
            match self.sync_all().await {
                Ok(revision) => return revision,
                Err(err) => tracing::warn!(%err, "listing CRDs failed"),
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return 0,
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    fn lock_served(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Served>> {
        self.served.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops serving a CRD's resources.
    fn forget(&self, name: &str) {
        let Some(served) = self.lock_served().remove(name) else { return };
        for gv in &served.versions {
            self.store.registry.unregister(gv, &served.plural);
        }
        tracing::info!(crd = name, "custom resources no longer served");
    }

    /// Brings the registry and the CRD's status in line with the CRD.
    async fn reconcile(&self, crd: &Value) {
        let name = object::name(crd).unwrap_or_default().to_owned();
        let definition = match Definition::from_value(crd) {
            Ok(definition) => definition,
            Err(err) => {
                tracing::warn!(crd = %name, %err, "skipping a CRD");
                return;
            }
        };
        if definition.metadata.deletion_timestamp.is_some() {
            if self.leadership.is_leading() {
                self.begin_cleanup(crd, &definition).await;
            }
            return;
        }
        let others = match self.store.list(&self.crds, None, &ListParams::default()).await {
            Ok(list) => {
                list.items.iter().filter_map(|c| Definition::from_value(c).ok()).collect::<Vec<_>>()
            }
            Err(err) => {
                tracing::warn!(crd = %name, %err, "listing CRDs failed");
                return;
            }
        };
        let acceptance = names::accept(&definition, &others);
        let established = self.serve(&name, &definition, &acceptance.names);
        let status = status_of(crd, &acceptance, established);
        self.write_status(crd, status).await;
    }

    /// Registers the CRD's served versions under its accepted names; returns whether they are
    /// served.
    fn serve(&self, name: &str, definition: &Definition, accepted: &Names) -> bool {
        if accepted.plural.is_empty() || accepted.kind.is_empty() {
            return false;
        }
        let mut effective = definition.clone();
        effective.spec.names = accepted.clone();
        if effective.spec.names.singular.is_empty() {
            effective.spec.names.singular = accepted.kind.to_lowercase();
        }
        let basis = effective.spec.clone();
        if self.lock_served().get(name).is_some_and(|s| s.basis == basis) {
            return true;
        }
        let resources = match custom::resources(&effective, self.webhooks) {
            Ok(resources) => resources,
            Err(err) => {
                tracing::warn!(crd = %name, %err, "cannot serve a CRD");
                return false;
            }
        };
        let versions: Vec<GroupVersion> = resources.iter().map(|r| r.gv.clone()).collect();
        let plural = effective.spec.names.plural.clone();
        for resource in resources {
            self.store.registry.replace(resource);
        }
        let previous = self.lock_served().insert(
            name.to_owned(),
            Served { basis, versions: versions.clone(), plural: plural.clone() },
        );
        if let Some(previous) = previous {
            for gv in previous
                .versions
                .iter()
                .filter(|gv| !versions.contains(gv) || previous.plural != plural)
            {
                self.store.registry.unregister(gv, &previous.plural);
            }
        }
        tracing::info!(crd = %name, ?versions, "custom resources served");
        true
    }

    /// Writes `status` through `/status` if it differs; a lost race is left to the next event.
    async fn write_status(&self, crd: &Value, status: Value) {
        if crd.get("status") == Some(&status) || !self.leadership.is_leading() {
            return;
        }
        let mut body = crd.clone();
        body["status"] = status;
        let name = object::name(crd).unwrap_or_default().to_owned();
        let op = Operation::internal(CONTROLLER, Verb::Update, &self.crds)
            .named(&name)
            .with_subresource("status");
        let result = self.store.update(&self.crds, &op, body).await;
        match result {
            Ok(_) => {}
            Err(err) if matches!(err.reason, Reason::Conflict | Reason::NotFound) => {}
            Err(err) => tracing::warn!(crd = %name, %err, "writing CRD status failed"),
        }
    }

    /// Marks a deleting CRD `Terminating` and starts deleting its objects (once per CRD).
    async fn begin_cleanup(&self, crd: &Value, definition: &Definition) {
        if !object::finalizers(crd).iter().any(|f| f == CLEANUP_FINALIZER) {
            return;
        }
        let name = definition.metadata.name.clone();
        if !self.cleaning.lock().unwrap_or_else(PoisonError::into_inner).insert(name.clone()) {
            return;
        }
        let mut status = crd.get("status").cloned().unwrap_or_else(|| json!({}));
        set_condition(
            &mut status,
            "Terminating",
            true,
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        );
        self.write_status(crd, status).await;
        let controller = self.clone();
        let definition = definition.clone();
        tokio::spawn(async move {
            if let Err(err) = controller.clean_up(&definition).await {
                tracing::warn!(crd = %definition.metadata.name, %err, "CRD cleanup failed");
            }
            controller.cleaning.lock().unwrap_or_else(PoisonError::into_inner).remove(&name);
        });
    }

    /// Deletes every object of the CRD, waiting for their finalizers, then drops the CRD's
    /// finalizer so its deletion completes.
    async fn clean_up(&self, definition: &Definition) -> Result<(), ApiError> {
        let resource = self.storage_resource(definition);
        if let Some(resource) = resource {
            let op = Operation::internal(CONTROLLER, Verb::Delete, &resource);
            let mut pause = Duration::from_millis(50);
            loop {
                if !self.leadership.is_leading() {
                    return Ok(()); // the next leader resumes it
                }
                let list = self.store.list(&resource, None, &ListParams::default()).await?;
                if list.items.is_empty() {
                    break;
                }
                for item in &list.items {
                    let name = object::name(item).unwrap_or_default();
                    let namespace = object::namespace(item);
                    let op = op.for_object(namespace, name);
                    match self.store.delete(&resource, &op, &DeleteOptions::default()).await {
                        Ok(_) => {}
                        Err(err) if err.reason == Reason::NotFound => {}
                        Err(err) => return Err(err),
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
        if !self.leadership.is_leading() {
            return Ok(());
        }
        self.remove_finalizer(&definition.metadata.name).await
    }

    /// A resource over the CRD's storage prefix: a served one, or one built for the cleanup.
    fn storage_resource(&self, definition: &Definition) -> Option<Arc<Resource>> {
        let prefix = custom::storage_prefix(&definition.spec.group, &definition.spec.names.plural);
        if let Some(served) = self.store.registry.resource_at(&prefix)
            && served.storage_prefix == prefix
        {
            return Some(served);
        }
        let mut any = definition.clone();
        for version in &mut any.spec.versions {
            version.served = version.storage;
        }
        custom::resources(&any, self.webhooks).ok()?.into_iter().next().map(Arc::new)
    }

    async fn remove_finalizer(&self, name: &str) -> Result<(), ApiError> {
        let current = self.store.get(&self.crds, None, name, None).await?;
        let remaining: Vec<String> =
            object::finalizers(&current).into_iter().filter(|f| f != CLEANUP_FINALIZER).collect();
        let patch = json!({"metadata": {"finalizers": remaining}}).to_string();
        let op = Operation::internal(CONTROLLER, Verb::Patch, &self.crds).named(name);
        let result = self.store.patch(&self.crds, &op, PatchType::Merge, patch.as_bytes()).await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.reason == Reason::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// The CRD's status with the names and conditions of `acceptance`.
fn status_of(crd: &Value, acceptance: &names::Acceptance, established: bool) -> Value {
    let mut status =
        crd.get("status").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
    status["acceptedNames"] = serde_json::to_value(&acceptance.names).unwrap_or_default();
    set_condition(
        &mut status,
        "NamesAccepted",
        acceptance.accepted,
        acceptance.reason,
        &acceptance.message,
    );
    if established {
        set_condition(
            &mut status,
            "Established",
            true,
            "InitialNamesAccepted",
            "the initial names have been accepted",
        );
    } else {
        set_condition(
            &mut status,
            "Established",
            false,
            "NotAccepted",
            "not all names are accepted",
        );
    }
    status
}

/// Sets a condition, keeping its `lastTransitionTime` when its status does not change.
fn set_condition(status: &mut Value, kind: &str, value: bool, reason: &str, message: &str) {
    let Some(map) = status.as_object_mut() else { return };
    let conditions = map.entry("conditions").or_insert_with(|| json!([]));
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let Some(list) = conditions.as_array_mut() else { return };
    let wanted = if value { "True" } else { "False" };
    let existing = list.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some(kind));
    let since = match &existing {
        Some(c) if c.get("status").and_then(Value::as_str) == Some(wanted) => {
            c.get("lastTransitionTime").cloned().unwrap_or_else(|| object::now_rfc3339().into())
        }
        _ => object::now_rfc3339().into(),
    };
    let condition = json!({"type": kind, "status": wanted, "lastTransitionTime": since,
        "reason": reason, "message": message});
    match existing {
        Some(c) => *c = condition,
        None => list.push(condition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_their_transition_time() {
        let mut status = json!({"conditions": [{"type": "Established", "status": "True",
            "lastTransitionTime": "2020-01-01T00:00:00Z", "reason": "x", "message": "y"}]});
        set_condition(&mut status, "Established", true, "InitialNamesAccepted", "m");
        assert_eq!(status["conditions"][0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
        assert_eq!(status["conditions"][0]["reason"], "InitialNamesAccepted");
        set_condition(&mut status, "Established", false, "NotAccepted", "m");
        assert_ne!(status["conditions"][0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
        set_condition(&mut status, "NamesAccepted", true, "NoConflicts", "no conflicts found");
        assert_eq!(status["conditions"].as_array().unwrap().len(), 2);
    }
}
