//! Keeps the Service allocators ([`super::allocator`]) in step with the stored Services: every
//! Service is listed into them before the server serves (a restart rebuilds them from storage),
//! then the Services' watch tells them what each Service holds now and which are gone.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch as signal;

use super::allocator::Allocators;
use crate::meta::fields::FieldSelector;
use crate::meta::status::ApiError;
use crate::registry::builtin::services::held;
use crate::registry::namespace_objects::{Follow, Next};
use crate::registry::object;
use crate::registry::resource::Resource;
use crate::registry::store::{ListParams, Store};

/// Lists the Services into their allocators, then follows them in a task until `shutdown`.
/// Does nothing when Services are not served.
pub async fn start(store: Store, shutdown: signal::Receiver<bool>) -> Result<(), ApiError> {
    let Some(allocators) = super::allocators(&store.registry) else { return Ok(()) };
    let Some(services) = store.registry.get("", "v1", "services") else { return Ok(()) };
    let revision = relist(&store, &services, &allocators).await?;
    tokio::spawn(follow(store, services, allocators, revision, shutdown));
    Ok(())
}

/// Every stored Service into the allocators; those no longer stored are forgotten. Returns the
/// list's revision.
async fn relist(
    store: &Store,
    services: &Resource,
    allocators: &Allocators,
) -> Result<i64, ApiError> {
    let list = store.list(services, None, &ListParams::default()).await?;
    let mut present = BTreeSet::new();
    for svc in &list.items {
        observe(allocators, svc);
        present.insert(object::uid(svc).unwrap_or_default().to_owned());
    }
    allocators.retain_deleted(&present);
    for uid in allocators.known() {
        if !present.contains(&uid) {
            allocators.forget_stored(&uid);
        }
    }
    Ok(list.resource_version)
}

fn observe(allocators: &Allocators, svc: &Value) {
    if let Some(uid) = object::uid(svc) {
        allocators.observe(uid, held(svc));
    }
}

async fn follow(
    store: Store,
    services: Arc<Resource>,
    allocators: Arc<Allocators>,
    revision: i64,
    mut shutdown: signal::Receiver<bool>,
) {
    let mut watch = Follow::new(services.clone(), FieldSelector::everything());
    watch.restart_at(revision);
    loop {
        let next = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            next = watch.next(&store) => next,
        };
        match next {
            Next::Changed(svc) => observe(&allocators, &svc),
            Next::Deleted(svc) => {
                if let Some(uid) = object::uid(&svc) {
                    allocators.forget(uid);
                }
            }
            Next::Relist => loop {
                match relist(&store, &services, &allocators).await {
                    Ok(revision) => {
                        watch.restart_at(revision);
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "listing Services for the allocators failed");
                        tokio::select! {
                            _ = shutdown.wait_for(|stop| *stop) => return,
                            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        }
                    }
                }
            },
        }
    }
}
