//! The filter chain every request passes before a handler, in kube-apiserver's order (see
//! k8s.io/apiserver's `DefaultBuildHandlerChain`), each filter a layer with one job:
//!
//! ```text
//! request ─▶ recovery        panic → 500 Status                              recovery.rs
//!         ─▶ request info    classify once, into the request's extensions    request_info.rs
//!         ─▶ audit init      Audit-ID: extensions and response header         audit.rs
//!         ─▶ metrics         apiserver_request_* from that RequestInfo        metrics/http.rs
//!         ─▶ audit           Audit-ID, audit events by --audit-policy-file    audit.rs
//!         ─▶ in-flight       --max-(mutating-)requests-inflight, 429          inflight.rs
//!         ─▶ authorization   --authorization-mode; 403 Forbidden Status       authorization.rs
//!         ─▶ routes          health, version, metrics, /api, /apis, OpenAPI
//! ```
//!
//! Authentication goes before audit and impersonation after it (issue 12); each filter reads
//! the same [`request_info::RequestInfo`], and the effective `crate::authn::UserInfo` from the
//! extensions.

pub mod audit;
pub mod authorization;
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

/// What authorization and audit decide with: the authorizer chain of `--authorization-mode`
/// and the auditor of the `--audit-*` flags (none: nothing recorded, `Audit-ID` still set).
#[derive(Debug, Clone)]
pub struct Policy {
    pub authorizer: Arc<dyn crate::authz::Authorizer>,
    pub auditor: Option<Arc<crate::audit::Auditor>>,
}

impl Default for Policy {
    /// Everything allowed, nothing audited (in-process servers of tests).
    fn default() -> Self {
        Policy { authorizer: Arc::new(crate::authz::AlwaysAllow), auditor: None }
    }
}

/// Wraps `routes` in the chain. Layers added last run first, so they are added innermost first.
pub fn chain(
    routes: Router,
    registry: Arc<Registry>,
    limits: InflightLimits,
    policy: &Policy,
) -> Router {
    let authorization = authorization::Authorization { authorizer: policy.authorizer.clone() };
    let audit = audit::Audit { auditor: policy.auditor.clone() };
    routes
        .layer(middleware::from_fn_with_state(authorization, authorization::authorize))
        .layer(middleware::from_fn_with_state(inflight::Inflight::new(limits), inflight::limit))
        .layer(middleware::from_fn_with_state(audit, audit::audit))
        .layer(middleware::from_fn_with_state(registry, http_metrics::track))
        .layer(middleware::from_fn(audit::init))
        .layer(middleware::from_fn(request_info::classify))
        .layer(recovery::layer())
}
