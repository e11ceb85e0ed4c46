//! The ClusterRole aggregation controller (kube-controller-manager's
//! `clusterrole-aggregation`): whenever a ClusterRole changes, every ClusterRole with an
//! `aggregationRule` gets as `rules` the rules of the roles its selectors match
//! ([`crate::authz::aggregate`]), written through the store as `system:apiserver` when they
//! differ. Writes carry the resourceVersion they were computed from; a lost race is simply
//! computed again on the next change.

use std::time::Duration;

use ::watch::{WatchRequest, WatcherEvent};
use futures::{FutureExt, StreamExt};
use tokio::sync::watch as signal;

use super::{GROUP, apiserver};
use crate::authz::aggregate::aggregate_all;
use crate::meta::status::{ApiError, Reason};
use crate::registry::object;
use crate::registry::store::{ListParams, Store};
use crate::storage::Verb;

/// Recomputes every aggregated ClusterRole from the stored ones and writes those that changed;
/// returns how many were written.
pub async fn settle(store: &Store) -> Result<usize, ApiError> {
    let Some(roles) = store.registry.get(GROUP, "v1", "clusterroles") else { return Ok(0) };
    let listed = store.list(&roles, None, &ListParams::default()).await?;
    let mut written = 0;
    for role in aggregate_all(&listed.items) {
        let name = object::name(&role).unwrap_or_default().to_owned();
        let op = apiserver(Verb::Update, &roles, &name);
        let update = store.update(&roles, &op, role);
        match update.await {
            Ok(_) => written += 1,
            // Changed or deleted meanwhile: its own event brings the next round.
            Err(err) if matches!(err.reason, Reason::Conflict | Reason::NotFound) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(written)
}

/// Follows the ClusterRoles' view until `shutdown` flips, settling aggregation after every
/// burst of changes.
pub fn start(store: Store, mut shutdown: signal::Receiver<bool>) {
    let Some(roles) = store.registry.get(GROUP, "v1", "clusterroles") else { return };
    let view = store.views.of(&roles);
    tokio::spawn(async move {
        while !*shutdown.borrow() {
            let watcher = view.watch(WatchRequest::new(view.revision()));
            let Ok(mut watcher) = watcher else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            };
            loop {
                let event = tokio::select! {
                    event = watcher.next() => event,
                    _ = shutdown.changed() => return,
                };
                match event {
                    Some(WatcherEvent::Bookmark { .. }) => {}
                    Some(WatcherEvent::Error(_)) | None => break,
                    Some(_) => {
                        // Let the rest of a burst (a manifest of many roles) arrive first.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        let mut ended = false;
                        while let Some(next) = watcher.next().now_or_never() {
                            if matches!(next, None | Some(WatcherEvent::Error(_))) {
                                ended = true;
                                break;
                            }
                        }
                        if let Err(err) = settle(&store).await {
                            tracing::warn!(%err, "ClusterRole aggregation failed");
                        }
                        if ended {
                            break;
                        }
                    }
                }
            }
        }
    });
}
