//! How the aggregator reaches an extension API server: the TLS an APIService asks for and one
//! pooled HTTPS client per APIService, as kube-aggregator's proxy handler keeps one transport
//! per APIService (`updateAPIService`).
//!
//! Flow: an APIService's spec → [`Trust`] (its `caBundle`, or `insecureSkipTLSVerify: true`) →
//! a rustls client configuration presenting the front-proxy client certificate → a pooled
//! HTTP/1.1 client whose connections verify (and send as SNI) `<service>.<namespace>.svc`
//! ([`Transports::client`]); the client is kept while neither the trust nor the Service name
//! changes, so requests reuse its kept-alive connections.
//!
//! `insecureSkipTLSVerify: true` is kube's: the extension's certificate is not verified (any
//! certificate, any name); the handshake's signatures still are, and the front-proxy client
//! certificate is still presented. Validation refuses it together with a `caBundle`
//! (`crate::registry::builtin::apiservices`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use base64::Engine;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::pki_types::ServerName;
use serde_json::Value;

use crate::apiextensions::webhook::{https_client_with, tls_client_config};
use crate::pki::ServingIdentity;
use crate::pki::tls::AnyServerCertificate;

/// The HTTPS client of one APIService.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

/// How an APIService's extension server is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// `caBundle`, decoded (PEM): the certificate must chain to one of its certificates and
    /// cover `<service>.<namespace>.svc`. Empty when the APIService has none (no client then).
    CaBundle(Vec<u8>),
    /// `insecureSkipTLSVerify: true`.
    InsecureSkipTlsVerify,
}

impl Trust {
    /// What `api_service`'s spec asks for; a `caBundle` that is not base64 is an error.
    pub fn of(api_service: &Value) -> Result<Trust, String> {
        if api_service.pointer("/spec/insecureSkipTLSVerify") == Some(&Value::Bool(true)) {
            return Ok(Trust::InsecureSkipTlsVerify);
        }
        let encoded = api_service.pointer("/spec/caBundle").and_then(Value::as_str);
        let decoded = encoded
            .map(|b64| base64::engine::general_purpose::STANDARD.decode(b64))
            .transpose()
            .map_err(|e| format!("caBundle is not base64: {e}"))?;
        Ok(Trust::CaBundle(decoded.unwrap_or_default()))
    }
}

/// One APIService's client and what it was made from.
struct Transport {
    trust: Trust,
    server_name: String,
    client: Result<UpstreamClient, String>,
}

/// The aggregator's clients: its identity and one pooled client per APIService.
pub struct Transports {
    /// What is presented to extension servers (the front-proxy client certificate); `None`:
    /// no client certificate.
    identity: Option<ServingIdentity>,
    by_api_service: RwLock<HashMap<String, Arc<Transport>>>,
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports")
            .field("identity", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

impl Transports {
    pub fn new(identity: Option<ServingIdentity>) -> Transports {
        Transports { identity, by_api_service: RwLock::default() }
    }

    /// The client of the APIService `name` verifying `server_name` with `trust`: the kept one
    /// while neither changed (its pooled connections are reused), otherwise a new one.
    pub fn client(
        &self,
        name: &str,
        trust: &Trust,
        server_name: &str,
    ) -> Result<UpstreamClient, String> {
        {
            let kept = self.by_api_service.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = kept.get(name)
                && found.trust == *trust
                && found.server_name == server_name
            {
                return found.client.clone();
            }
        }
        let client = self.make(trust, server_name);
        let transport = Arc::new(Transport {
            trust: trust.clone(),
            server_name: server_name.to_owned(),
            client: client.clone(),
        });
        let mut kept = self.by_api_service.write().unwrap_or_else(|e| e.into_inner());
        kept.insert(name.to_owned(), transport);
        client
    }

    /// Forgets the clients of APIServices not in `names` (deleted ones).
    pub fn retain(&self, names: &[String]) {
        let mut kept = self.by_api_service.write().unwrap_or_else(|e| e.into_inner());
        kept.retain(|name, _| names.contains(name));
    }

    fn make(&self, trust: &Trust, server_name: &str) -> Result<UpstreamClient, String> {
        let tls = match trust {
            Trust::CaBundle(ca_bundle) => tls_client_config(ca_bundle, self.identity.as_ref())
                .map_err(|missing| {
                    missing.unwrap_or_else(|| {
                        "no caBundle: this server verifies extension servers with the \
                         APIService's spec.caBundle, unless spec.insecureSkipTLSVerify is true"
                            .to_owned()
                    })
                })?,
            Trust::InsecureSkipTlsVerify => insecure_tls_config(self.identity.as_ref())?,
        };
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| format!("{server_name}: {e}"))?;
        Ok(https_client_with(tls, Some(name)))
    }
}

/// A client configuration that accepts any server certificate, presenting `identity`.
fn insecure_tls_config(identity: Option<&ServingIdentity>) -> Result<rustls::ClientConfig, String> {
    let provider = crate::pki::tls::provider();
    let verifier = Arc::new(AnyServerCertificate::new(provider.clone()));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(|e| format!("client certificate: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_trust_an_api_service_asks_for() {
        let bundle = json!({"spec": {"caBundle": "QUJD"}});
        assert_eq!(Trust::of(&bundle), Ok(Trust::CaBundle(b"ABC".to_vec())));
        let insecure = json!({"spec": {"insecureSkipTLSVerify": true}});
        assert_eq!(Trust::of(&insecure), Ok(Trust::InsecureSkipTlsVerify));
        let neither = json!({"spec": {"insecureSkipTLSVerify": false}});
        assert_eq!(Trust::of(&neither), Ok(Trust::CaBundle(Vec::new())));
        let broken = json!({"spec": {"caBundle": "not base64!"}});
        assert!(Trust::of(&broken).unwrap_err().starts_with("caBundle is not base64"));
    }

    #[tokio::test]
    async fn a_client_is_kept_until_its_trust_or_name_changes() {
        let transports = Transports::new(None);
        let insecure = Trust::InsecureSkipTlsVerify;
        assert!(transports.client("v1.a", &insecure, "api.a.svc").is_ok());
        let kept = |name: &str| transports.by_api_service.read().unwrap().get(name).cloned();
        let first = kept("v1.a").unwrap();
        transports.client("v1.a", &insecure, "api.a.svc").unwrap();
        assert!(Arc::ptr_eq(&first, &kept("v1.a").unwrap()));
        transports.client("v1.a", &insecure, "other.a.svc").unwrap();
        assert!(!Arc::ptr_eq(&first, &kept("v1.a").unwrap()));

        let missing = transports.client("v1.b", &Trust::CaBundle(Vec::new()), "api.b.svc");
        assert!(missing.unwrap_err().starts_with("no caBundle"));
        transports.retain(&["v1.b".to_owned()]);
        assert!(kept("v1.a").is_none() && kept("v1.b").is_some());
    }
}
