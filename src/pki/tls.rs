//! The rustls side of serving: a `ServerConfig` offering HTTP/2 and HTTP/1.1 through ALPN, and,
//! with client CAs, a verifier that *requests* a client certificate without requiring one.
//!
//! As kube-apiserver (`tls.RequestClientCert`), the handshake checks only that the client holds
//! the key of the certificate it presents; whether the chain is trusted is decided per request
//! by the x509 authenticator ([`crate::authn::x509`]), so an untrusted certificate is a 401
//! Status rather than a failed handshake, and a client without one goes on to token or
//! anonymous authentication. The presented chain reaches requests as a [`ClientCertChain`].

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConnection, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};

use super::{PkiError, ServingIdentity};

/// ALPN protocols offered, preferred first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The crypto provider of every TLS use in kube-ledger: rustls over ring.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses `key` with the provider and checks it is the key of `chain`'s first certificate.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, rustls::Error> {
    CertifiedKey::from_der(chain, key, &provider())
}

/// The server's TLS configuration: `serving`'s certificate, ALPN `h2` then `http/1.1`, TLS 1.2
/// and 1.3. With `client_ca` (non-empty), client certificates are requested (see the module doc).
pub fn server_config(
    serving: &ServingIdentity,
    client_ca: Option<&[CertificateDer<'static>]>,
) -> Result<Arc<ServerConfig>, PkiError> {
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        Some(roots) if !roots.is_empty() => {
            builder.with_client_cert_verifier(Arc::new(RequestClientCert::new(roots)?))
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(serving.chain.clone(), serving.key.clone_key())?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A tokio acceptor for `config`.
pub fn acceptor(config: Arc<ServerConfig>) -> tokio_rustls::TlsAcceptor {
    tokio_rustls::TlsAcceptor::from(config)
}

/// Requests a client certificate, hinting the client CAs; accepts none, and accepts any
/// certificate whose key the client proves it holds. Trust is the authenticator's decision.
#[derive(Debug)]
struct RequestClientCert {
    /// Supplies the CA hints and the handshake signature checks.
    inner: Arc<dyn ClientCertVerifier>,
}

impl RequestClientCert {
    fn new(roots: &[CertificateDer<'static>]) -> Result<Self, PkiError> {
        let mut store = RootCertStore::empty();
        for root in roots {
            store.add(root.clone())?;
        }
        let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider())
            .allow_unauthenticated()
            .build()
            .map_err(|e| PkiError::Config(format!("client CA: {e}")))?;
        Ok(RequestClientCert { inner })
    }
}

impl ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The chain is verified per request by the x509 authenticator (module doc).
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The certificate chain a client presented on its connection (leaf first), *not yet
/// verified*. The server puts it in each request's extensions; the x509 authenticator verifies
/// it against the client CAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertChain(pub Arc<[CertificateDer<'static>]>);

impl ClientCertChain {
    /// The chain of an established connection, if the client sent one.
    pub fn from_connection(connection: &ServerConnection) -> Option<ClientCertChain> {
        let certs = connection.peer_certificates()?;
        (!certs.is_empty())
            .then(|| ClientCertChain(certs.iter().map(|c| c.clone().into_owned()).collect()))
    }
}

/// Whether the connection negotiated HTTP/2 through ALPN.
pub fn negotiated_h2(connection: &ServerConnection) -> bool {
    connection.alpn_protocol() == Some(b"h2")
}

/// A client's verifier that accepts any server certificate for any name, as Go's
/// `InsecureSkipVerify` (an APIService's `insecureSkipTLSVerify`, a kubeconfig's
/// `insecure-skip-tls-verify`); the handshake's signatures are still checked with the provider's
/// algorithms, so the server must hold the key of the certificate it sent.
#[derive(Debug)]
pub struct AnyServerCertificate(Arc<CryptoProvider>);

impl AnyServerCertificate {
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        AnyServerCertificate(provider)
    }
}

impl ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
