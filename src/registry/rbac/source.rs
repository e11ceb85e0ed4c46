//! [`ViewRules`]: the RBAC authorizer's [`RuleSource`] over the server's views. One task per
//! RBAC resource watches its view from its initial state and applies every change to an
//! [`InMemoryRules`] index (parsed once per write); each change bumps the index's generation,
//! which drops the authorizer's cached decisions. A watch that ends (fallen behind, view
//! restarted) is started again from a fresh initial state, which replaces the kind's objects.
//!
//! Like kube's informers, the index follows the log: a binding is in effect once its event has
//! reached the view, moments after the write is acknowledged.

use std::sync::Arc;
use std::time::Duration;

use ::watch::{WatchRequest, WatcherEvent};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::watch as signal;

use crate::authz::rule::{Binding, Role};
use crate::authz::source::{InMemoryRules, RbacKind, RuleSource, SourceError};
use crate::registry::store::Store;

/// The four resources, as `(kind, plural)`.
const KINDS: [(RbacKind, &str); 4] = [
    (RbacKind::Role, "roles"),
    (RbacKind::ClusterRole, "clusterroles"),
    (RbacKind::RoleBinding, "rolebindings"),
    (RbacKind::ClusterRoleBinding, "clusterrolebindings"),
];

/// How long [`ViewRules::start`] waits for each view's initial state.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The RBAC objects as the views hold them. Cheap to share.
#[derive(Debug, Default)]
pub struct ViewRules {
    rules: InMemoryRules,
}

impl ViewRules {
    /// Starts following the four resources (those served: a disabled one holds nothing) and
    /// returns once each one's current objects are loaded. The tasks stop when `shutdown` flips.
    pub async fn start(
        store: &Store,
        shutdown: signal::Receiver<bool>,
    ) -> Result<Arc<ViewRules>, SourceError> {
        let rules = Arc::new(ViewRules::default());
        let mut loaded = Vec::new();
        for (kind, plural) in KINDS {
            let Some(resource) = store.registry.get(super::GROUP, "v1", plural) else { continue };
            let view = store.views.of(&resource);
            let (ready, is_ready) = tokio::sync::oneshot::channel();
            tokio::spawn(follow(view, kind, rules.clone(), Some(ready), shutdown.clone()));
            loaded.push((plural, is_ready));
        }
        for (plural, is_ready) in loaded {
            match tokio::time::timeout(LOAD_TIMEOUT, is_ready).await {
                Ok(Ok(())) => {}
                _ => return Err(SourceError(format!("the {plural} view did not load"))),
            }
        }
        Ok(rules)
    }

    /// The index (for tests and rules reviews).
    pub fn rules(&self) -> &InMemoryRules {
        &self.rules
    }
}

/// Follows one view until shutdown: initial state, then changes; starts over when the watch
/// ends. `ready` is told once the first initial state is applied.
async fn follow(
    view: ::watch::View,
    kind: RbacKind,
    rules: Arc<ViewRules>,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
    mut shutdown: signal::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(50);
    while !*shutdown.borrow() {
        let deadline = tokio::time::Instant::now() + LOAD_TIMEOUT;
        let watcher = match view.catch_up(deadline).await {
            Ok(_) => view.watch(WatchRequest::new(None).initial_events_end(true)),
            Err(err) => Err(err),
        };
        let mut watcher = match watcher {
            Ok(watcher) => watcher,
            Err(err) => {
                tracing::debug!(?kind, %err, "RBAC view not ready; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        let mut initial: Option<Vec<Value>> = Some(Vec::new());
        loop {
            let event = tokio::select! {
                event = watcher.next() => event,
                _ = shutdown.changed() => return,
            };
            let Some(event) = event else { break };
            match event {
                WatcherEvent::Added(change) | WatcherEvent::Modified(change) => {
                    let object = &change.object().json;
                    match initial.as_mut() {
                        Some(objects) => objects.push(object.clone()),
                        None => rules.rules.apply_as(kind, object),
                    }
                }
                WatcherEvent::Deleted(change) => {
                    let object = &change.object().json;
                    let field = |name: &str| {
                        object.pointer(&format!("/metadata/{name}")).and_then(Value::as_str)
                    };
                    let (namespace, name) = (field("namespace").unwrap_or(""), field("name"));
                    if let Some(name) = name {
                        rules.rules.remove(kind, namespace, name);
                    }
                }
                WatcherEvent::Bookmark { initial_events_end: true, .. } => {
                    if let Some(objects) = initial.take() {
                        rules.rules.replace(kind, &objects);
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(());
                        }
                    }
                }
                WatcherEvent::Bookmark { .. } => {}
                WatcherEvent::Error(err) => {
                    tracing::debug!(?kind, ?err, "RBAC watch ended; starting over");
                    break;
                }
            }
        }
    }
}

impl RuleSource for ViewRules {
    fn role(&self, namespace: &str, name: &str) -> Result<Option<Arc<Role>>, SourceError> {
        self.rules.role(namespace, name)
    }

    fn cluster_role(&self, name: &str) -> Result<Option<Arc<Role>>, SourceError> {
        self.rules.cluster_role(name)
    }

    fn role_bindings(&self, namespace: &str) -> Result<Vec<Arc<Binding>>, SourceError> {
        self.rules.role_bindings(namespace)
    }

    fn cluster_role_bindings(&self) -> Result<Vec<Arc<Binding>>, SourceError> {
        self.rules.cluster_role_bindings()
    }

    fn generation(&self) -> u64 {
        self.rules.generation()
    }
}
