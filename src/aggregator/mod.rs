//! The aggregation layer (kube-aggregator): `apiregistration.k8s.io/v1` APIServices say which
//! server answers each group/version.
//!
//! # Layout
//! - [`priority`]: kube's group and version priorities of the built-in group/versions, and the
//!   ones kube-ledger gives its own and CRD groups.
//! - [`autoregister`]: the *local* APIServices (`service: null`, `Available` with reason
//!   `Local`) for every group/version this server serves itself, built-in or from a CRD, kept
//!   in step with the registry (kube's autoregister and crdRegistration controllers).
//! - [`proxy`], [`targets`], [`resolve`], [`transport`]: proxying a remote APIService's
//!   requests to its extension server (which endpoint, kept per revision of what it was
//!   resolved from; over which TLS client).
//! - [`availability`], [`discovery`], [`openapi`]: the `Available` checks, and the extensions'
//!   discovery and OpenAPI documents they bring back.
//! - [`authentication_info`]: the `kube-system/extension-apiserver-authentication` ConfigMap
//!   telling extension API servers which front-proxy CA and headers to trust.
//!
//! The APIService kind itself (strategy, validation, table) is a built-in resource in
//! `crate::registry::builtin::apiservices`.
//!
//! Data flow: the registry (what `--runtime-config` enabled plus the established CRDs) →
//! [`autoregister`] → APIService objects written through the store as `system:apiserver`
//! (admission and the ledger see them as any write) → `kubectl get apiservices`.
//!
//! Remote APIServices (`spec.service` set): [`proxy`] forwards their group/versions' requests
//! to the extension API server [`resolve`] finds (Service → EndpointSlices, else Endpoints),
//! over [`transport`]'s pooled client, after the filter chain (authentication, audit, RBAC) and
//! as the authenticated user in `X-Remote-*` headers;
//! [`availability`] checks each every few seconds (every replica: the answers feed
//! [`discovery`], merged into `/apis` and aggregated discovery; the leader writes the
//! `Available` condition) and [`openapi`], merged into `/openapi/v2` and `/openapi/v3`.

pub mod authentication_info;
pub mod autoregister;
pub mod availability;
pub mod discovery;
pub mod openapi;
pub mod priority;
pub mod proxy;
pub mod resolve;
pub mod targets;
pub mod transport;

/// Runs `sync` every `interval` (a late tick is delayed, not bunched) until `shutdown` flips,
/// logging a failed round as `what` and trying again at the next tick.
pub(crate) fn every<F, Fut>(
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    what: String,
    mut sync: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), crate::meta::status::ApiError>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                _ = tick.tick() => {}
            }
            if let Err(err) = sync().await {
                tracing::warn!(%err, "{what} failed; will retry");
            }
        }
    });
}
