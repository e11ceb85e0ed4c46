//! The local APIServices: one `<version>.<group>` APIService with `service: null` for every
//! group/version this server serves itself, built-in or from a CRD, with the `Available`
//! condition `True`, reason `Local` (kube-apiserver's autoregister and crdRegistration
//! controllers, and its availability controller's answer for local APIServices).
//!
//! Flow: [`start`] writes what is missing or drifted before it returns, then re-syncs whenever
//! the registry's generation moves (a CRD version served or dropped, checked every second) and
//! every [`RESYNC`] (an APIService deleted or edited by hand is put back). Writes go through the
//! store as `system:apiserver`. Objects this keeper made carry kube's
//! `kube-aggregator.kubernetes.io/automanaged` label (`onstart` for built-ins, `true` for CRD
//! groups); it deletes those whose group/version is no longer served (`onstart` ones only at
//! start, as kube). APIServices without the label are the user's and are never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch as signal;

use super::priority::{self, Priority};
use crate::meta::status::{ApiError, Reason};
use crate::registry::builtin::apiservices::{self, GROUP, available_condition, name_of};
use crate::registry::object::now_rfc3339;
use crate::registry::resource::Resource;
use crate::registry::store::{DeleteOptions, ListParams, Store};
use crate::storage::Verb;

/// Who writes the local APIServices (kube-apiserver's loopback client).
const USER: &str = "system:apiserver";
/// kube's label on the APIServices its autoregister controller manages.
pub const AUTOMANAGED: &str = "kube-aggregator.kubernetes.io/automanaged";
/// How often the registry's generation is compared.
const POLL: Duration = Duration::from_secs(1);
/// How often everything is compared, hand edits included.
const RESYNC: Duration = Duration::from_secs(10);

/// One local APIService this server should have.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Local {
    group: String,
    version: String,
    priority: Priority,
    /// `onstart` (built-in) or `true` (a CRD's group).
    automanaged: &'static str,
}

impl Local {
    fn name(&self) -> String {
        name_of(&self.group, &self.version)
    }

    fn spec(&self) -> Value {
        json!({
            "group": self.group,
            "version": self.version,
            "groupPriorityMinimum": self.priority.0,
            "versionPriority": self.priority.1,
        })
    }

    fn object(&self) -> Value {
        json!({
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": self.name(), "labels": {AUTOMANAGED: self.automanaged}},
            "spec": self.spec(),
        })
    }
}

/// The local APIServices of what `store`'s registry serves, by name.
fn desired(store: &Store) -> BTreeMap<String, Local> {
    let mut locals = BTreeMap::new();
    for resource in store.registry.all() {
        let (group, version) = (&resource.gv.group, &resource.gv.version);
        let (priority, automanaged) = match priority::built_in(group, version) {
            Some(priority) => (priority, "onstart"),
            None => (priority::CRD, "true"),
        };
        let local = Local { group: group.clone(), version: version.clone(), priority, automanaged };
        locals.entry(local.name()).or_insert(local);
    }
    locals
}

/// `Available: True`, reason `Local`, as kube's availability controller sets it.
fn local_status() -> Value {
    json!({"conditions": [{
        "type": "Available",
        "status": "True",
        "lastTransitionTime": now_rfc3339(),
        "reason": "Local",
        "message": "Local APIServices are always available",
    }]})
}

#[derive(Debug)]
struct Keeper {
    store: Store,
    resource: Arc<Resource>,
}

impl Keeper {
    fn op(&self, verb: Verb, name: &str) -> crate::registry::store::Operation {
        crate::registry::store::Operation::internal(USER, verb, &self.resource).named(name)
    }

    /// Creates, repairs and (for what is no longer served) deletes local APIServices.
    /// `at_start` also deletes the `onstart` ones of group/versions no longer served.
    async fn sync(&self, at_start: bool) -> Result<(), ApiError> {
        let want = desired(&self.store);
        let listed = self.store.list(&self.resource, None, &ListParams::default()).await?;
        let mut seen = BTreeSet::new();
        for current in listed.items {
            let name = current.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            let label =
                current.pointer(&format!("/metadata/labels/{}", AUTOMANAGED.replace('/', "~1")));
            let managed = label.and_then(Value::as_str);
            seen.insert(name.to_owned());
            match (want.get(name), managed) {
                (Some(local), Some(_)) => self.repair(local, current).await?,
                // The user's own APIService for a group/version served here: theirs.
                (Some(_), None) | (None, None) => {}
                (None, Some(kind)) if kind == "true" || at_start => {
                    self.delete(name).await?;
                }
                (None, Some(_)) => {}
            }
        }
        for (name, local) in &want {
            if !seen.contains(name) {
                self.create(local).await?;
            }
        }
        Ok(())
    }

    async fn create(&self, local: &Local) -> Result<(), ApiError> {
        let name = local.name();
        let created = match self
            .store
            .create(&self.resource, &self.op(Verb::Create, &name), local.object())
            .await
        {
            Ok(created) => created,
            Err(err) if err.reason == Reason::AlreadyExists => return Ok(()),
            Err(err) => return Err(err),
        };
        tracing::info!(apiservice = %name, "local APIService registered");
        self.repair(local, created).await
    }

    /// Puts back the spec and the `Local` condition of a managed APIService.
    async fn repair(&self, local: &Local, mut current: Value) -> Result<(), ApiError> {
        let name = local.name();
        if current.get("spec") != Some(&local.spec()) {
            current["spec"] = local.spec();
            current =
                self.store.update(&self.resource, &self.op(Verb::Update, &name), current).await?;
        }
        let is_local = available_condition(&current).is_some_and(|c| {
            c.get("status") == Some(&json!("True")) && c.get("reason") == Some(&json!("Local"))
        });
        if !is_local {
            current["status"] = local_status();
            let op = self.op(Verb::Update, &name).with_subresource("status");
            self.store.update(&self.resource, &op, current).await?;
        }
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), ApiError> {
        match self
            .store
            .delete(&self.resource, &self.op(Verb::Delete, name), &DeleteOptions::default())
            .await
        {
            Ok(_) => {
                tracing::info!(apiservice = %name, "local APIService removed");
                Ok(())
            }
            Err(err) if err.reason == Reason::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn run(self, mut shutdown: signal::Receiver<bool>) {
        let mut generation = self.store.registry.generation();
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut since_resync = Duration::ZERO;
        loop {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                _ = poll.tick() => {}
            }
            since_resync += POLL;
            let now = self.store.registry.generation();
            if now == generation && since_resync < RESYNC {
                continue;
            }
            since_resync = Duration::ZERO;
            match self.sync(false).await {
                Ok(()) => generation = now,
                Err(err) => tracing::warn!(%err, "local APIServices: sync failed; will retry"),
            }
        }
    }
}

/// Registers the local APIServices, then keeps them until `shutdown`. Nothing when
/// `apiregistration.k8s.io/v1` is not served.
pub async fn start(store: Store, shutdown: signal::Receiver<bool>) -> Result<(), ApiError> {
    let Some(resource) = store.registry.get(GROUP, "v1", apiservices::KIND.plural) else {
        return Ok(());
    };
    let keeper = Keeper { store, resource };
    keeper.sync(true).await?;
    tokio::spawn(keeper.run(shutdown));
    Ok(())
}
