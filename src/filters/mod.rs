//! The filter chain every request passes before a handler, in kube-apiserver's order (see
//! k8s.io/apiserver's `DefaultBuildHandlerChain`), each filter a layer with one job:
//!
//! ```text
//! request ─▶ recovery        panic → 500 Status                              recovery.rs
//!         ─▶ request info    classify once, into the request's extensions    request_info.rs
//!         ─▶ audit init      Audit-ID: extensions and response header         audit.rs
//!         ─▶ metrics         apiserver_request_* from that RequestInfo        metrics/http.rs
//!         ─▶ authentication  who: UserInfo into the extensions, or 401        authentication.rs
//!         ─▶ audit           audit events by --audit-policy-file              audit.rs
//!         ─▶ impersonation   Impersonate-* headers, if the authorizer allows  impersonation.rs
//!         ─▶ in-flight       --max-(mutating-)requests-inflight, 429          inflight.rs
//!         ─▶ authorization   --authorization-mode; 403 Forbidden Status       authorization.rs
//!         ─▶ routes          health, version, metrics, /api, /apis, OpenAPI
//! ```
//!
//! Each filter reads the same [`request_info::RequestInfo`] and the [`crate::authn::UserInfo`]
//! authentication (then impersonation) put in the extensions.

pub mod audit;
pub mod authentication;
pub mod authorization;
pub mod impersonation;
pub mod inflight;
pub mod recovery;
pub mod request_info;

use std::sync::Arc;

use axum::Router;
use axum::middleware;

pub use inflight::InflightLimits;
pub use request_info::{RequestInfo, Verb};

use crate::authn::{Authenticator, UserInfo};
use crate::authz::{AlwaysAllow, Authorizer};
use crate::metrics::http as http_metrics;
use crate::registry::Registry;

/// The client's address, which the server puts in every request's extensions (audit
/// `sourceIPs`, the ledger's provenance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Who requests are, what they may do, and what is recorded: what the authentication, audit,
/// impersonation and authorization filters ask.
#[derive(Debug, Clone)]
pub struct Security {
    /// Names each request's user (or refuses it: 401).
    pub authenticator: Arc<dyn Authenticator>,
    /// The chain of `--authorization-mode`: decides impersonation and every request.
    pub authorizer: Arc<dyn Authorizer>,
    /// The auditor of the `--audit-*` flags; none: nothing recorded, `Audit-ID` still set.
    pub auditor: Option<Arc<crate::audit::Auditor>>,
}

impl Security {
    /// Every request is `user`, and may do anything: the in-process router tests' chain.
    pub fn fixed(user: UserInfo) -> Security {
        Security {
            authenticator: Arc::new(authentication::Fixed(user)),
            authorizer: Arc::new(AlwaysAllow),
            auditor: None,
        }
    }

    /// The admin user of the generated client certificate (`kubernetes-admin` in
    /// `system:masters` and `system:authenticated`).
    pub fn admin_user() -> UserInfo {
        UserInfo {
            name: crate::pki::ADMIN_USER.to_owned(),
            groups: vec![
                crate::pki::ADMIN_GROUP.to_owned(),
                crate::authn::ALL_AUTHENTICATED.to_owned(),
            ],
            ..UserInfo::default()
        }
    }
}

impl Default for Security {
    /// Every request anonymous, and allowed: the library's default. The binary always sets its
    /// chain ([`crate::authn::Authentication`], the authorizer of `--authorization-mode`).
    fn default() -> Self {
        Security {
            authenticator: Arc::new(crate::authn::union::Union::new(Vec::new(), true)),
            authorizer: Arc::new(AlwaysAllow),
            auditor: None,
        }
    }
}

/// Wraps `routes` in the chain. Layers added last run first, so they are added innermost first.
pub fn chain(
    routes: Router,
    registry: Arc<Registry>,
    limits: InflightLimits,
    security: &Security,
) -> Router {
    let authorization = authorization::Authorization { authorizer: security.authorizer.clone() };
    let audit = audit::Audit { auditor: security.auditor.clone() };
    routes
        .layer(middleware::from_fn_with_state(authorization, authorization::authorize))
        .layer(middleware::from_fn_with_state(inflight::Inflight::new(limits), inflight::limit))
        .layer(middleware::from_fn_with_state(
            security.authorizer.clone(),
            impersonation::impersonate,
        ))
        .layer(middleware::from_fn_with_state(audit, audit::audit))
        .layer(middleware::from_fn_with_state(
            security.authenticator.clone(),
            authentication::authenticate,
        ))
        .layer(middleware::from_fn_with_state(registry, http_metrics::track))
        .layer(middleware::from_fn(audit::init))
        .layer(middleware::from_fn(request_info::classify))
        .layer(recovery::layer())
}
