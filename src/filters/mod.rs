//! The filter chain every request passes before a handler, in kube-apiserver's order (see
//! k8s.io/apiserver's `DefaultBuildHandlerChain`), each filter a layer with one job:
//!
//! ```text
//! request ─▶ recovery        panic → 500 Status                              recovery.rs
//!         ─▶ request info    classify once, into the request's extensions    request_info.rs
//!         ─▶ metrics         apiserver_request_* from that RequestInfo        metrics/http.rs
//!         ─▶ in-flight       --max-(mutating-)requests-inflight, 429          inflight.rs
//!         ─▶ routes          health, version, metrics, /api, /apis, OpenAPI
//! ```
//!
//! Authentication, audit and impersonation go between request info and the in-flight limit,
//! authorization between the in-flight limit and the routes (issue 12); each reads the same
//! [`request_info::RequestInfo`].

pub mod inflight;
pub mod recovery;
pub mod request_info;

use std::sync::Arc;

use axum::Router;
use axum::middleware;

pub use inflight::InflightLimits;
pub use request_info::{RequestInfo, Verb};

use crate::metrics::http as http_metrics;
use crate::registry::Registry;

/// The client's address, which the server puts in every request's extensions (audit
/// `sourceIPs`, the ledger's provenance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Wraps `routes` in the chain. Layers added last run first, so they are added innermost first.
pub fn chain(routes: Router, registry: Arc<Registry>, limits: InflightLimits) -> Router {
    routes
        .layer(middleware::from_fn_with_state(inflight::Inflight::new(limits), inflight::limit))
        .layer(middleware::from_fn_with_state(registry, http_metrics::track))
        .layer(middleware::from_fn(request_info::classify))
        .layer(recovery::layer())
}
