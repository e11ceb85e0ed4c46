//! Clients of the HTTPS server under test: the credentials the written kubeconfig holds (the CA
//! to trust, the admin client certificate), read back as kubectl would, and reqwest clients
//! trusting that CA with the admin certificate, a bearer token, another certificate, or nothing.

use std::sync::Arc;

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

/// What a kubeconfig written by the server says: where it is, whom to trust, who we are.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `https://127.0.0.1:PORT` (or `http://` for `--insecure-plain-http`).
    pub server: String,
    /// `certificate-authority-data`, PEM; `None` for plain HTTP.
    pub ca_pem: Option<String>,
    /// `client-certificate-data` and `client-key-data`, PEM.
    pub admin: Option<Identity>,
}

/// A client certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Credentials {
    /// Reads the current context's cluster and user of a kubeconfig.
    pub fn from_kubeconfig(text: &str) -> Credentials {
        let config: Value = serde_norway::from_str(text).expect("kubeconfig is YAML");
        let decode = |value: &Value| {
            value.as_str().map(|data| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
                String::from_utf8(bytes).unwrap()
            })
        };
        let cluster = &config["clusters"][0]["cluster"];
        let user = &config["users"][0]["user"];
        let admin =
            match (decode(&user["client-certificate-data"]), decode(&user["client-key-data"])) {
                (Some(cert_pem), Some(key_pem)) => Some(Identity { cert_pem, key_pem }),
                _ => None,
            };
        Credentials {
            server: cluster["server"].as_str().expect("server in kubeconfig").to_owned(),
            ca_pem: decode(&cluster["certificate-authority-data"]),
            admin,
        }
    }

    /// A client builder trusting the server's CA only, presenting `identity` if given.
    pub fn builder(&self, identity: Option<&Identity>) -> reqwest::ClientBuilder {
        match &self.ca_pem {
            Some(ca) => reqwest::Client::builder().tls_backend_preconfigured(client_config(
                ca,
                identity,
                &[b"http/1.1"],
            )),
            None => plain_builder(),
        }
    }

    /// A client with the admin certificate.
    pub fn admin_client(&self) -> reqwest::Client {
        self.builder(self.admin.as_ref()).build().unwrap()
    }

    /// A client that sends `Authorization: Bearer <token>` and no certificate.
    pub fn token_client(&self, token: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = format!("Bearer {token}").parse().unwrap();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        self.builder(None).default_headers(headers).build().unwrap()
    }

    /// A client without credentials (anonymous).
    pub fn anonymous_client(&self) -> reqwest::Client {
        self.builder(None).build().unwrap()
    }

    /// A client presenting another certificate.
    pub fn identity_client(&self, identity: &Identity) -> reqwest::Client {
        self.builder(Some(identity)).build().unwrap()
    }
}

/// A builder for plain-HTTP clients (Prometheus's API, `--insecure-plain-http`). reqwest's rustls
/// is built without a crypto provider of its own, so even a client that never speaks TLS is
/// handed a (ring, trust-nothing) configuration.
pub fn plain_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(client_config("", None, &[]))
}

/// A plain-HTTP client (see [`plain_builder`]).
pub fn plain_client() -> reqwest::Client {
    plain_builder().build().unwrap()
}

/// A rustls client configuration (ring) trusting `ca_pem`, with `identity` as client
/// certificate, offering `alpn`.
pub fn client_config(
    ca_pem: &str,
    identity: Option<&Identity>,
    alpn: &[&[u8]],
) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(identity) => {
            let chain = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes())
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// A client certificate for `user` in `groups`, signed by a CA of its own (which the server
/// does not trust unless told to): the identity and that CA's PEM.
pub fn foreign_identity(user: &str, groups: &[&str]) -> (Identity, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::default();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "foreign-ca");
    ca.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::default();
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(rcgen::DnType::CommonName, user);
    for group in groups {
        leaf.distinguished_name.push(rcgen::DnType::OrganizationName, *group);
    }
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = leaf.signed_by(&key, &ca).unwrap();
    let identity = Identity { cert_pem: leaf.pem(), key_pem: key.serialize_pem() };
    (identity, ca.pem())
}
