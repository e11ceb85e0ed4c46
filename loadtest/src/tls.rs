//! HTTPS to the API server: whom to trust (a CA, PEM) and what to present (a client certificate
//! and key, PEM), read from kubectl's flags' files ([`TlsFiles`]) or a kubeconfig's `*-data`
//! fields, turned into the rustls (ring) configuration the HTTP client uses ([`client_config`]).
//! Without a CA, the system's roots are trusted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

use crate::error::{Error, Result};

/// The TLS flags, named as kubectl's: files, read when the run starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsFiles {
    /// `--certificate-authority`: PEM CA certificates to trust for the server.
    pub certificate_authority: Option<PathBuf>,
    /// `--client-certificate`: a PEM client certificate (with `--client-key`).
    pub client_certificate: Option<PathBuf>,
    /// `--client-key`: the PEM key of `--client-certificate`.
    pub client_key: Option<PathBuf>,
}

/// What the client trusts and presents, PEM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    pub ca_pem: Option<String>,
    pub client_cert_pem: Option<String>,
    pub client_key_pem: Option<String>,
}

impl TlsFiles {
    /// Reads the files given.
    pub fn load(&self) -> Result<Tls> {
        let read = |path: &Option<PathBuf>| -> Result<Option<String>> {
            path.as_deref().map(read_pem).transpose()
        };
        Ok(Tls {
            ca_pem: read(&self.certificate_authority)?,
            client_cert_pem: read(&self.client_certificate)?,
            client_key_pem: read(&self.client_key)?,
        })
    }
}

/// A configuration for clients of plain-HTTP servers, which never use it: reqwest's rustls is
/// built without a crypto provider of its own and needs one to build any client.
pub fn unused_config() -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// `config` offering HTTP/2 alone in ALPN: a server without it fails the handshake rather than
/// silently serving HTTP/1.1.
pub fn only_h2(mut config: rustls::ClientConfig) -> rustls::ClientConfig {
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

fn read_pem(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))
}

/// The rustls configuration for `tls`: its CA (else the system's roots), its client certificate
/// if any, ALPN `http/1.1`.
pub fn client_config(tls: &Tls) -> Result<rustls::ClientConfig> {
    let bad = |what: &str, e: &dyn std::fmt::Display| Error::Config(format!("{what}: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca_pem {
        Some(ca) => {
            for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                let cert = cert.map_err(|e| bad("certificate authority", &e))?;
                roots.add(cert).map_err(|e| bad("certificate authority", &e))?;
            }
            if roots.is_empty() {
                return Err(Error::Config("certificate authority: no certificate".to_owned()));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS", &e))?
        .with_root_certificates(roots);
    let mut config = match (&tls.client_cert_pem, &tls.client_key_pem) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| bad("client certificate", &e))?;
            let key =
                PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| bad("client key", &e))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| bad("client certificate", &e))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(Error::Config(
                "a client certificate needs its key, and a key its certificate".to_owned(),
            ));
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
