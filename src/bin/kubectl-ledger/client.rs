//! The plugin's HTTPS client: requests to the API server of a [`Target`], answers back as JSON,
//! errors as the server's `Status`.
//!
//! Data flows: a path and query → hyper (HTTP/1.1) over rustls with ring, trusting the target's
//! CA and presenting its client certificate or bearer token → the body; a non-2xx answer becomes
//! an [`Error::Status`] carrying kube's `reason` and `message`, which `main` prints as kubectl
//! prints a server error.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube_ledger::pki::tls::AnyServerCertificate;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

use crate::kubeconfig::Target;

/// Where Debian (and most Linux distributions) keep the system's trusted CAs, used when the
/// kubeconfig names no CA.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error; its `Status` (or one made from the HTTP code).
    #[error("{message}")]
    Status { code: u16, reason: String, message: String },
    /// The TLS configuration could not be built from the kubeconfig's data.
    #[error("{0}")]
    Tls(String),
    /// The request did not reach the server or its answer did not come back.
    #[error("{0}")]
    Transport(String),
    /// The server's answer is not what the API promises.
    #[error("the server's answer is not valid JSON: {0}")]
    Decode(String),
}

impl Error {
    /// A `Status`-shaped error made on the client side (kube's `NewNotFound`).
    pub fn not_found(resource: &str, name: &str) -> Error {
        Error::Status {
            code: 404,
            reason: "NotFound".into(),
            message: format!("{resource} \"{name}\" not found"),
        }
    }
}

/// An API server connection: base URL, credentials, a pooled HTTP/1.1 client.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    pub fn new(target: &Target) -> Result<Client, Error> {
        let tls = tls_config(target)?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
        let builder = match &target.tls_server_name {
            Some(name) => {
                let name = rustls::pki_types::ServerName::try_from(name.clone())
                    .map_err(|e| Error::Tls(format!("tls-server-name {name:?}: {e}")))?;
                let resolver = hyper_rustls::FixedServerNameResolver::new(name);
                builder.https_or_http().with_server_name_resolver(resolver)
            }
            None => builder.https_or_http(),
        };
        let connector = builder.enable_http1().build();
        Ok(Client {
            base: target.server.clone(),
            token: target.token.clone(),
            http: HyperClient::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// GET `path` (with its query) as JSON.
    pub async fn get(&self, path: &str) -> Result<Value, Error> {
        self.json(Method::GET, path, "application/json", None).await.map(|(_, v)| v)
    }

    /// GET `path` asking for `accept` (a Table, say), decoded as JSON.
    pub async fn get_as(&self, path: &str, accept: &str) -> Result<Value, Error> {
        self.json(Method::GET, path, accept, None).await.map(|(_, v)| v)
    }

    /// POST `body` (JSON) to `path`; the answer's code and JSON.
    pub async fn post(&self, path: &str, body: Option<&Value>) -> Result<(u16, Value), Error> {
        self.json(Method::POST, path, "application/json", body).await
    }

    /// GET `path` and hand back the body as it arrives (replay's JSON lines), once the answer
    /// is known to be a success.
    pub async fn stream(&self, path: &str) -> Result<Incoming, Error> {
        let response =
            self.send(Method::GET, path, "application/jsonl, application/json", None).await?;
        if response.status().is_success() {
            return Ok(response.into_body());
        }
        let status = response.status();
        let body = collect(response.into_body()).await?;
        Err(status_error(status, &body))
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), Error> {
        let response = self.send(method, path, accept, body).await?;
        let status = response.status();
        let bytes = collect(response.into_body()).await?;
        if !status.is_success() {
            return Err(status_error(status, &bytes));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))?;
        Ok((status.as_u16(), value))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<&Value>,
    ) -> Result<hyper::Response<Incoming>, Error> {
        let url = format!("{}{path}", self.base);
        let mut request = Request::builder()
            .method(method)
            .uri(&url)
            .header(header::ACCEPT, accept)
            .header(header::USER_AGENT, user_agent());
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(value.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|e| Error::Transport(format!("{url}: {e}")))?;
        self.http.request(request).await.map_err(|e| Error::Transport(transport_text(&url, &e)))
    }
}

/// `kubectl-ledger/<version> (<os>/<arch>)`, as kubectl names itself.
fn user_agent() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("kubectl-ledger/v{} ({}/{arch})", env!("CARGO_PKG_VERSION"), std::env::consts::OS)
}

async fn collect(body: Incoming) -> Result<Bytes, Error> {
    body.collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| Error::Transport(format!("reading the answer: {e}")))
}

/// The error of a non-2xx answer: the body's `Status` when it is one, else one made from the
/// HTTP code as client-go does (`NewGenericServerResponse`).
pub fn status_error(status: StatusCode, body: &[u8]) -> Error {
    let code = status.as_u16();
    if let Ok(value) = serde_json::from_slice::<Value>(body)
        && value["kind"] == "Status"
    {
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        return Error::Status { code, reason: text("reason"), message: text("message") };
    }
    let (reason, default) = match code {
        400 => ("BadRequest", "the server rejected our request for an unknown reason"),
        401 => ("Unauthorized", "the server has asked for the client to provide credentials"),
        403 => ("Forbidden", "the server does not allow access to the requested resource"),
        404 => ("NotFound", "the server could not find the requested resource"),
        405 => {
            ("MethodNotAllowed", "the server does not allow this method on the requested resource")
        }
        409 => ("Conflict", "the server reported a conflict"),
        410 => ("Expired", "the server could not find the requested resource"),
        422 => ("Invalid", "the server rejected our request due to an error in our request"),
        429 => (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        500 => {
            ("InternalError", "an error on the server has prevented the request from succeeding")
        }
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request",
        ),
        _ => ("", "an error on the server has prevented the request from succeeding"),
    };
    let text = String::from_utf8_lossy(body).trim().to_owned();
    let message = if text.is_empty() { default.to_owned() } else { text };
    Error::Status { code, reason: reason.to_owned(), message }
}

/// A connection error with its causes, which hyper keeps in the source chain.
fn transport_text(url: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("Get \"{url}\": {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// rustls over ring: the kubeconfig's CA (or the system's roots), or no verification for
/// `insecure-skip-tls-verify`; its client certificate if any.
fn tls_config(target: &Target) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let builder = if target.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCertificate::new(provider)))
    } else {
        let pem = match &target.ca_pem {
            Some(pem) => pem.clone(),
            None => std::fs::read(SYSTEM_ROOTS).unwrap_or_default(),
        };
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| Error::Tls(format!("certificate-authority: {e}")))?;
            roots.add(cert).map_err(|e| Error::Tls(format!("certificate-authority: {e}")))?;
        }
        builder.with_root_certificates(roots)
    };
    // hyper-rustls sets ALPN (`http/1.1`) itself.
    let config = match (&target.client_cert_pem, &target.client_key_pem) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Tls(format!("client-certificate: {e}")))?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| Error::Tls(format!("client-key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Tls(format!("client certificate: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// `key=value&…` with each value percent-encoded (RFC 3986 unreserved kept); empty values left
/// out.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut text = String::new();
    for (key, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        text.push(if text.is_empty() { '?' } else { '&' });
        text.push_str(key);
        text.push('=');
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                text.push(byte as char);
            } else {
                text.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            query(&[
                ("time", "2026-12-07T14:03:05+01:00"),
                ("x", ""),
                ("fieldSelector", "metadata.name=a b")
            ]),
            "?time=2026-12-07T14%3A03%3A05%2B01%3A00&fieldSelector=metadata.name%3Da%20b"
        );
        assert_eq!(query(&[("a", "")]), "");
    }

    #[test]
    fn errors_come_from_status_or_code() {
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"cm\" is forbidden: nope","reason":"Forbidden","code":403}"#;
        match status_error(StatusCode::FORBIDDEN, status) {
            Error::Status { code, reason, message } => {
                assert_eq!((code, reason.as_str()), (403, "Forbidden"));
                assert_eq!(message, "configmaps \"cm\" is forbidden: nope");
            }
            other => panic!("{other:?}"),
        }
        match status_error(StatusCode::NOT_FOUND, b"") {
            Error::Status { reason, message, .. } => {
                assert_eq!(reason, "NotFound");
                assert_eq!(message, "the server could not find the requested resource");
            }
            other => panic!("{other:?}"),
        }
    }
}
