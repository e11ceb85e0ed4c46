//! The webhook backend (`--audit-webhook-config-file`): each batch of events is POSTed as one
//! `audit.k8s.io/v1` `EventList` (JSON) to the kubeconfig's server, over HTTPS trusting only the
//! kubeconfig's certificate authority and presenting its client certificate or credentials.
//!
//! As kube-apiserver's audit webhook: a request may take 30 s; any failure — no connection, a
//! TLS error, a timeout, a status other than 2xx — is retried, 5 attempts in all, waiting
//! `--audit-webhook-initial-backoff` (10 s) then ×1.5 each time, each wait up to 20 % longer at
//! random. A batch that fails every attempt is counted in
//! `apiserver_audit_error_total{plugin="webhook"}`.
//!
//! Data flow: [`Sink`](super::sink::Sink) → [`WebhookBackend::deliver`] (one batch, several
//! batches at once) → the receiver.

pub mod kubeconfig;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use self::kubeconfig::{KubeconfigError, WebhookTarget};
use super::metrics::PLUGIN_WEBHOOK;
use super::sink::{Backend, Failure};
use super::types::{Event, EventList};

/// kube's `--audit-webhook-initial-backoff` default.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(10);

/// kube's timeout of one webhook request, reading the answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts per batch (kube's `wait.Backoff.Steps`).
const ATTEMPTS: u32 = 5;

/// How much longer than the backoff a wait may be, at random (kube's jitter).
const JITTER: f64 = 0.2;

/// How much each wait grows (kube's backoff factor).
const FACTOR: f64 = 1.5;

/// The most of an answer's body read (it is discarded; reading it keeps the connection usable).
const MAX_ANSWER_BYTES: usize = 1 << 20;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Retries and timeouts of the webhook client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub initial_backoff: Duration,
    pub request_timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { initial_backoff: DEFAULT_INITIAL_BACKOFF, request_timeout: REQUEST_TIMEOUT }
    }
}

/// The webhook backend.
#[derive(Clone)]
pub struct WebhookBackend {
    target: Arc<WebhookTarget>,
    client: HttpsClient,
    retry: Retry,
}

impl std::fmt::Debug for WebhookBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookBackend")
            .field("server", &self.target.server)
            .field("retry", &self.retry)
            .finish()
    }
}

impl WebhookBackend {
    /// Reads the kubeconfig and builds the client: every problem is reported at start-up.
    pub fn from_kubeconfig(path: &Path, retry: Retry) -> Result<WebhookBackend, KubeconfigError> {
        let target = kubeconfig::load(path)?;
        WebhookBackend::new(target, retry)
            .map_err(|reason| KubeconfigError { path: path.to_owned(), reason })
    }

    pub fn new(target: WebhookTarget, retry: Retry) -> Result<WebhookBackend, String> {
        let client = https_client(&target)?;
        Ok(WebhookBackend { target: Arc::new(target), client, retry })
    }

    /// One POST of `body`; `Err` says why it was not accepted.
    async fn post(&self, body: &Bytes) -> Result<(), String> {
        let mut request = hyper::Request::post(&self.target.server)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::ACCEPT, "application/json, */*")
            .header(hyper::header::USER_AGENT, concat!("kube-ledger/", env!("CARGO_PKG_VERSION")));
        if let Some(authorization) = &self.target.authorization {
            request = request.header(hyper::header::AUTHORIZATION, authorization);
        }
        let request = request.body(Full::new(body.clone())).map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| error_chain(&e))?;
            let status = response.status();
            // Read (a bounded part of) the answer so the connection can be reused.
            let _ = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the webhook answered HTTP {status}"))
            }
        };
        tokio::time::timeout(self.retry.request_timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.retry.request_timeout))?
    }
}

impl Backend for WebhookBackend {
    fn plugin(&self) -> &'static str {
        PLUGIN_WEBHOOK
    }

    async fn deliver(&self, events: Vec<Arc<Event>>) -> Result<(), Failure> {
        let body = match serde_json::to_vec(&EventList::new(&events)) {
            Ok(body) => Bytes::from(body),
            Err(err) => return Err(Failure { events: events.len(), reason: err.to_string() }),
        };
        let mut wait = self.retry.initial_backoff.as_secs_f64();
        let mut attempt = 1;
        loop {
            let reason = match self.post(&body).await {
                Ok(()) => return Ok(()),
                Err(reason) => reason,
            };
            if attempt == ATTEMPTS {
                let reason =
                    format!("POST {}: {reason} (after {ATTEMPTS} attempts)", self.target.server);
                return Err(Failure { events: events.len(), reason });
            }
            tracing::debug!(server = %self.target.server, attempt, %reason, "audit webhook failed; retrying");
            tokio::time::sleep(Duration::from_secs_f64(wait * (1.0 + JITTER * random_fraction())))
                .await;
            wait *= FACTOR;
            attempt += 1;
        }
    }
}

/// A number in [0, 1) from the OS's randomness (uuid's v4 source), for the jitter.
fn random_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// HTTPS (or plain HTTP, if the server says so) trusting only the kubeconfig's authority,
/// presenting its client certificate.
fn https_client(target: &WebhookTarget) -> Result<HttpsClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&target.certificate_authority) {
        let cert = cert.map_err(|e| format!("certificate-authority is not PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("certificate-authority holds an unusable certificate: {e}"))?;
    }
    if roots.is_empty() && target.server.starts_with("https://") {
        return Err("certificate-authority holds no certificate".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let tls = match &target.client_certificate {
        Some((chain, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("client-certificate is not PEM: {e}"))?;
            if chain.is_empty() {
                return Err("client-certificate holds no certificate".into());
            }
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| format!("client-key is not a PEM private key: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client-certificate and client-key do not work: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

#[cfg(test)]
mod tests;
