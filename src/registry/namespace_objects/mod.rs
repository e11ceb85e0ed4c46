//! Objects every namespace holds, kept in-process as kube-controller-manager's controllers keep
//! them: the `default` ServiceAccount ([`service_accounts`], kube's serviceaccounts-controller)
//! and the `kube-root-ca.crt` ConfigMap ([`root_ca`], kube's root-ca-cert-publisher).
//!
//! Flow: [`start`] lists the namespaces and brings every active one in line before it returns
//! (so a server is ready with the built-in namespaces' objects in place), then follows two
//! watches in a task until shutdown: the namespaces' (an added or changed active namespace is
//! synced) and the kept objects' (`metadata.name` selected; a deleted one, or a changed one when
//! the [`Kept`] repairs changes, has its namespace synced). Syncing a namespace reads it and the
//! object through the store and creates or repairs the object — as the controller's service
//! account, through admission like any other write. Namespaces being deleted are left alone (and
//! NamespaceLifecycle would refuse the create). A failed sync is tried again with backoff; a
//! watch that cannot resume (410) lists everything again.

pub mod root_ca;
pub mod service_accounts;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;
use tokio::sync::watch as signal;

use super::namespaces::phase_of;
use super::store::{ListParams, Operation, Store, WatchEvent, WatchParams};
use super::{Resource, object};
use crate::admission::namespace_lifecycle::Phase;
use crate::meta::fields::FieldSelector;
use crate::meta::status::{ApiError, Reason};
use crate::storage::Verb;

/// The first pause before a failed sync is tried again; it doubles up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// One object each active namespace holds.
pub trait Kept: fmt::Debug + Send + Sync + 'static {
    /// kube's name of the controller, for logs.
    fn controller(&self) -> &'static str;
    /// Who the writes are recorded as (`system:serviceaccount:kube-system:…`).
    fn user(&self) -> &'static str;
    /// The core (`v1`) resource of the object.
    fn plural(&self) -> &'static str;
    /// The object's name in every namespace.
    fn name(&self) -> &'static str;
    /// The object to create (no namespace: the write's).
    fn desired(&self) -> Value;
    /// `current` with what drifted put back, or `None` when it is as wanted (then changes to it
    /// are not followed either).
    fn repaired(&self, _current: &Value) -> Option<Value> {
        None
    }
    /// Whether changes to the object are followed (and repaired), not only its deletion.
    fn follows_changes(&self) -> bool {
        false
    }
}

/// Brings every active namespace in line with `kept`, then keeps them so in a task until
/// `shutdown` flips. Does nothing when the namespaces or the kept resource are not served.
pub async fn start(
    store: Store,
    kept: Arc<dyn Kept>,
    shutdown: signal::Receiver<bool>,
) -> Result<(), ApiError> {
    let registry = &store.registry;
    let (Some(namespaces), Some(objects)) =
        (registry.get("", "v1", "namespaces"), registry.get("", "v1", kept.plural()))
    else {
        return Ok(());
    };
    let keeper = Keeper { store, kept, namespaces, objects };
    let revision = keeper.sync_all().await?;
    tokio::spawn(keeper.run(revision, shutdown));
    Ok(())
}

#[derive(Debug)]
struct Keeper {
    store: Store,
    kept: Arc<dyn Kept>,
    namespaces: Arc<Resource>,
    objects: Arc<Resource>,
}

impl Keeper {
    /// Syncs every namespace; returns the revision of the namespace list.
    async fn sync_all(&self) -> Result<i64, ApiError> {
        let list = self.store.list(&self.namespaces, None, &ListParams::default()).await?;
        for namespace in &list.items {
            if phase_of(namespace) != Phase::Active {
                continue;
            }
            let name = object::name(namespace).unwrap_or_default();
            if let Err(err) = self.sync(name).await {
                tracing::warn!(controller = self.kept.controller(), namespace = name, %err, "sync failed");
            }
        }
        Ok(list.resource_version)
    }

    /// Creates the object in `namespace`, or repairs it, unless the namespace is gone or going.
    async fn sync(&self, namespace: &str) -> Result<(), ApiError> {
        let found = self.store.get(&self.namespaces, None, namespace, None).await;
        match found {
            Ok(ns) if phase_of(&ns) == Phase::Active => {}
            Ok(_) => return Ok(()),
            Err(err) if err.reason == Reason::NotFound => return Ok(()),
            Err(err) => return Err(err),
        }
        let name = self.kept.name();
        let write = |verb| {
            Operation::internal(self.kept.user(), verb, &self.objects)
                .in_namespace(Some(namespace))
                .named(name)
        };
        match self.store.get(&self.objects, Some(namespace), name, None).await {
            Ok(current) => match self.kept.repaired(&current) {
                // The repair carries the resourceVersion read: a conflict is tried again.
                Some(repaired) => {
                    self.store.update(&self.objects, &write(Verb::Update), repaired).await?;
                    tracing::info!(
                        controller = self.kept.controller(),
                        namespace,
                        name,
                        "repaired"
                    );
                    Ok(())
                }
                None => Ok(()),
            },
            Err(err) if err.reason == Reason::NotFound => {
                match self
                    .store
                    .create(&self.objects, &write(Verb::Create), self.kept.desired())
                    .await
                {
                    Ok(_) => {
                        tracing::debug!(
                            controller = self.kept.controller(),
                            namespace,
                            name,
                            "created"
                        );
                        Ok(())
                    }
                    // Made meanwhile, or the namespace went away or began terminating.
                    Err(err) if gone_or_made(&err) => Ok(()),
                    Err(err) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn run(self, revision: i64, mut shutdown: signal::Receiver<bool>) {
        let by_name = FieldSelector::from_set([("metadata.name", self.kept.name())]);
        let mut namespaces = Follow::new(self.namespaces.clone(), FieldSelector::everything());
        let mut objects = Follow::new(self.objects.clone(), by_name);
        namespaces.restart_at(revision);
        objects.restart_at(revision);
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut pause = RETRY_MIN;
        loop {
            let step = tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                next = namespaces.next(&self.store) => Step::Namespace(next),
                next = objects.next(&self.store) => Step::Object(next),
                _ = tokio::time::sleep(pause), if !failed.is_empty() => Step::Retry,
            };
            let due: Vec<String> = match step {
                Step::Namespace(Next::Changed(ns)) if phase_of(&ns) == Phase::Active => {
                    namespace_of(&ns, true)
                }
                Step::Object(Next::Deleted(o)) => namespace_of(&o, false),
                Step::Object(Next::Changed(o)) if self.kept.follows_changes() => {
                    namespace_of(&o, false)
                }
                Step::Namespace(Next::Relist) | Step::Object(Next::Relist) => {
                    let revision = self.resync(&mut shutdown).await;
                    namespaces.restart_at(revision);
                    objects.restart_at(revision);
                    Vec::new()
                }
                Step::Retry => {
                    pause = (pause * 2).min(RETRY_MAX);
                    std::mem::take(&mut failed).into_iter().collect()
                }
                Step::Namespace(_) | Step::Object(_) => Vec::new(),
            };
            for namespace in due {
                if let Err(err) = self.sync(&namespace).await {
                    let controller = self.kept.controller();
                    tracing::warn!(controller, %namespace, %err, "sync failed; will retry");
                    failed.insert(namespace);
                }
            }
            if failed.is_empty() {
                pause = RETRY_MIN;
            }
        }
    }

    /// Lists again until it works; returns the list's revision (0 at shutdown).
    async fn resync(&self, shutdown: &mut signal::Receiver<bool>) -> i64 {
        let mut pause = RETRY_MIN;
        loop {
            match self.sync_all().await {
                Ok(revision) => return revision,
                Err(err) => {
                    tracing::warn!(controller = self.kept.controller(), %err, "listing namespaces failed")
                }
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return 0,
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(RETRY_MAX);
        }
    }
}

/// The namespace to sync for an event's object: a namespace's own name, or an object's namespace.
fn namespace_of(object: &Value, is_namespace: bool) -> Vec<String> {
    let name = if is_namespace { object::name(object) } else { object::namespace(object) };
    name.filter(|n| !n.is_empty()).map(|n| vec![n.to_owned()]).unwrap_or_default()
}

/// A create that needs no retry: the object exists, or its namespace is missing or terminating.
fn gone_or_made(err: &ApiError) -> bool {
    matches!(err.reason, Reason::AlreadyExists | Reason::NotFound)
        || err.causes.iter().any(|c| c.reason == "NamespaceTerminating")
}

/// What woke the controller.
enum Step {
    Namespace(Next),
    Object(Next),
    Retry,
}

/// What a followed watch brings.
#[derive(Debug)]
pub(crate) enum Next {
    /// Added or modified (or listed): the object in the served version.
    Changed(Value),
    Deleted(Value),
    /// The watch cannot go on from its revision: list everything again.
    Relist,
}

/// One resource's watch across namespaces, reopened from the last revision seen when it ends
/// (also used by `builtin::system`'s allocators and `kubernetes` Service).
pub(crate) struct Follow {
    resource: Arc<Resource>,
    selector: FieldSelector,
    revision: i64,
    events: Option<BoxStream<'static, WatchEvent>>,
}

impl Follow {
    pub(crate) fn new(resource: Arc<Resource>, selector: FieldSelector) -> Follow {
        Follow { resource, selector, revision: 0, events: None }
    }

    /// From now on, events after `revision`.
    pub(crate) fn restart_at(&mut self, revision: i64) {
        self.revision = revision;
        self.events = None;
    }

    /// The next event with an object. Cancel-safe: state changes only once an event is had.
    pub(crate) async fn next(&mut self, store: &Store) -> Next {
        loop {
            let events = match &mut self.events {
                Some(events) => events,
                None => {
                    let list = ListParams {
                        field_selector: self.selector.clone(),
                        resource_version: Some(self.revision.to_string()),
                        ..ListParams::default()
                    };
                    let params =
                        WatchParams { list, allow_bookmarks: true, send_initial_events: false };
                    match store.watch(self.resource.clone(), None, params).await {
                        Ok(events) => self.events.insert(events),
                        Err(err) => {
                            tracing::info!(resource = %self.resource.plural, %err, "watch failed; listing again");
                            return Next::Relist;
                        }
                    }
                }
            };
            let Some(event) = events.next().await else {
                // A clean end (the watcher fell behind, or shutdown): resume after a breath, so
                // a watch that keeps ending never spins.
                self.events = None;
                tokio::time::sleep(RETRY_MIN).await;
                continue;
            };
            if let Some(at) = event.revision() {
                self.revision = self.revision.max(at);
            }
            let served = match event {
                WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                    o.served().await.map(Next::Changed)
                }
                WatchEvent::Deleted(o) => o.served().await.map(Next::Deleted),
                WatchEvent::Listed(o) => Ok(Next::Changed(o)),
                WatchEvent::Bookmark { .. } => continue,
                WatchEvent::Error(err) => {
                    tracing::info!(resource = %self.resource.plural, %err, "watch ended; listing again");
                    self.events = None;
                    return Next::Relist;
                }
            };
            match served {
                Ok(next) => return next,
                Err(err) => {
                    tracing::warn!(resource = %self.resource.plural, %err, "an event could not be read")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
