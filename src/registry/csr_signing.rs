//! kube-controller-manager's csrsigning controller, in process, for the signer
//! `kubernetes.io/kube-apiserver-client`: every approved CertificateSigningRequest for it that
//! has no certificate yet gets one, signed by the server's CA (the generated CA, which the x509
//! authenticator always trusts), so that an approved request's key authenticates as the
//! request's CN (user) and O (groups).
//!
//! ```text
//! store writes ─▶ log ─▶ CSR view ─▶ follow (initial state, then every change)
//!   approved ∧ ¬denied ∧ ¬failed ∧ no certificate ∧ our signer
//!     ─▶ usages valid? ── no ─▶ /status: condition Failed (SignerValidationFailure)
//!     ─▶ CA::sign_request (TTL: expirationSeconds, 10 min – 1 year) ─▶ /status: certificate
//! ```
//!
//! Writes go through the store as `system:serviceaccount:kube-system:certificate-controller`,
//! so CertificateSigning admission checks its `sign` permission (kube's bootstrap policy gives
//! it) and the ledger records who issued. Each write carries the resourceVersion it was decided
//! on: a lost race is decided again on the next event.

use std::sync::Arc;
use std::time::Duration;

use ::watch::{WatchRequest, WatcherEvent};
use base64::Engine;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use crate::meta::status::{ApiError, Reason};
use crate::pki::CertificateAuthority;
use crate::pki::csr::{CertificateRequest, Usages};
use crate::registry::builtin::certificatesigningrequests::{
    APPROVED, DENIED, FAILED, GROUP, KUBE_APISERVER_CLIENT_SIGNER, PLURAL, has_condition,
};
use crate::registry::object;
use crate::registry::store::Store;
use crate::registry::{Operation, Resource};
use crate::storage::Verb;

/// Who the signer writes as (kube-controller-manager's controller service account).
pub const SIGNER_USER: &str = "system:serviceaccount:kube-system:certificate-controller";

/// `--cluster-signing-duration`'s default: the longest certificate issued (one year).
pub const MAX_TTL_SECS: i64 = 365 * 86_400;
/// The shortest (kube's signer raises shorter requests to ten minutes).
const MIN_TTL_SECS: i64 = 600;

/// The signer: the CA it signs with and the longest lifetime it gives.
#[derive(Debug, Clone)]
pub struct CsrSigner {
    pub ca: Arc<CertificateAuthority>,
    pub max_ttl_secs: i64,
}

impl CsrSigner {
    pub fn new(ca: Arc<CertificateAuthority>) -> CsrSigner {
        CsrSigner { ca, max_ttl_secs: MAX_TTL_SECS }
    }

    /// Follows the CertificateSigningRequests' view until `shutdown` flips (nothing when the
    /// resource is not served).
    pub fn start(self, store: Store, shutdown: signal::Receiver<bool>) {
        let Some(resource) = store.registry.get(GROUP, "v1", PLURAL) else { return };
        tokio::spawn(follow(self, store, resource, shutdown));
    }

    /// Handles one request as stored at `revision`: issues it, fails it, or leaves it.
    pub async fn handle(
        &self,
        store: &Store,
        resource: &Resource,
        csr: &Value,
        revision: i64,
    ) -> Result<(), ApiError> {
        let Some(status) = self.decide(csr, crate::pki::unix_now()) else { return Ok(()) };
        let mut desired = csr.clone();
        object::set_resource_version(&mut desired, revision);
        match status {
            Outcome::Issued(certificate) => {
                desired["status"]["certificate"] = certificate.into();
            }
            Outcome::Failed(message) => {
                let now = object::now_rfc3339();
                let failed = json!({"type": FAILED, "status": "True",
                    "reason": "SignerValidationFailure", "message": message,
                    "lastUpdateTime": now, "lastTransitionTime": now});
                match desired.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
                    Some(conditions) => conditions.push(failed),
                    None => desired["status"]["conditions"] = json!([failed]),
                }
            }
        }
        let name = object::name(csr).unwrap_or_default().to_owned();
        let op = Operation::internal(SIGNER_USER, Verb::Update, resource)
            .named(&name)
            .with_subresource("status");
        match store.update(resource, &op, desired).await {
            Ok(_) => Ok(()),
            // Changed or deleted meanwhile: its own event brings the next decision.
            Err(err) if matches!(err.reason, Reason::Conflict | Reason::NotFound) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// What to write for `csr` at `now`, if anything (kube's `signer.handle`).
    fn decide(&self, csr: &Value, now: i64) -> Option<Outcome> {
        let text = |pointer: &str| csr.pointer(pointer).and_then(Value::as_str).unwrap_or("");
        let approved = has_condition(csr, APPROVED) && !has_condition(csr, DENIED);
        if !approved
            || has_condition(csr, FAILED)
            || !text("/status/certificate").is_empty()
            || text("/spec/signerName") != KUBE_APISERVER_CLIENT_SIGNER
        {
            return None;
        }
        let usages: Vec<&str> = crate::registry::builtin::array_at(csr, "/spec/usages")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if let Err(message) = client_usages(&usages) {
            return Some(Outcome::Failed(message));
        }
        let pem = base64::engine::general_purpose::STANDARD.decode(text("/spec/request")).ok()?;
        let request = match CertificateRequest::parse_pem(&pem) {
            Ok(request) => request,
            Err(err) => {
                tracing::warn!(csr = %text("/metadata/name"), %err, "unable to parse csr");
                return None;
            }
        };
        let usages = Usages::from_names(usages).ok()?;
        let requested = csr.pointer("/spec/expirationSeconds").and_then(Value::as_i64);
        let ttl =
            requested.map_or(self.max_ttl_secs, |secs| secs.clamp(MIN_TTL_SECS, self.max_ttl_secs));
        match self.ca.sign_request(&request, &usages, ttl, now) {
            Ok(der) => {
                let pem = crate::pki::load::pem("CERTIFICATE", &der);
                Some(Outcome::Issued(base64::engine::general_purpose::STANDARD.encode(pem)))
            }
            Err(err) => {
                tracing::warn!(csr = %text("/metadata/name"), %err, "unable to sign csr");
                None
            }
        }
    }
}

/// A decision on one request.
#[derive(Debug)]
enum Outcome {
    /// The certificate, PEM, base64 as `status.certificate` holds it.
    Issued(String),
    /// Why the request cannot be signed (a Failed condition's message).
    Failed(String),
}

/// kube's `validAPIServerClientUsages`: client auth required; digital signature and key
/// encipherment allowed; nothing else.
fn client_usages(usages: &[&str]) -> Result<(), String> {
    let mut client_auth = false;
    for usage in usages {
        match *usage {
            "digital signature" | "key encipherment" => {}
            "client auth" => client_auth = true,
            other => return Err(format!("invalid usage for client certificate: {other}")),
        }
    }
    if !client_auth {
        return Err("missing required usage for client certificate: client auth".to_owned());
    }
    Ok(())
}

/// Follows the view: its initial state, then every change; starts over when the watch ends.
async fn follow(
    signer: CsrSigner,
    store: Store,
    resource: Arc<Resource>,
    mut shutdown: signal::Receiver<bool>,
) {
    let view = store.views.of(&resource);
    let mut backoff = Duration::from_millis(50);
    while !*shutdown.borrow() {
        let mut watcher = match view.watch(WatchRequest::new(None)) {
            Ok(watcher) => watcher,
            Err(err) => {
                tracing::debug!(%err, "CertificateSigningRequest view not ready; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        loop {
            let event = tokio::select! {
                event = watcher.next() => event,
                _ = shutdown.changed() => return,
            };
            match event {
                Some(WatcherEvent::Added(change) | WatcherEvent::Modified(change)) => {
                    let object = change.object();
                    let result =
                        signer.handle(&store, &resource, &object.json, object.mod_revision).await;
                    if let Err(err) = result {
                        tracing::warn!(%err, "signing a CertificateSigningRequest failed");
                    }
                }
                Some(WatcherEvent::Deleted(_) | WatcherEvent::Bookmark { .. }) => {}
                Some(WatcherEvent::Error(_)) | None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests;
