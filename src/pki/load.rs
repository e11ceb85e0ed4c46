//! The user's own PEM files: `--tls-cert-file` (a leaf and its intermediates),
//! `--tls-private-key-file` (RSA, ECDSA or Ed25519 in PKCS#8, PKCS#1 or SEC1 form) and
//! `--client-ca-file` (a bundle of CA certificates). Every failure names the file and says what
//! was expected; nothing is generated in their place.

use std::path::Path;

use base64::Engine;
use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::x509::CertInfo;
use super::{PkiError, ServingIdentity, tls, unix_now};

/// Loads a serving certificate chain and its key, checking that they belong together.
pub fn serving_identity(cert_file: &Path, key_file: &Path) -> Result<ServingIdentity, PkiError> {
    let chain = certificates(cert_file)?;
    let key = private_key(key_file)?;
    tls::certified_key(chain.clone(), key.clone_key()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => PkiError::file(
            key_file,
            format!("does not match the certificate in {}", cert_file.display()),
        ),
        other => PkiError::file(key_file, format!("unusable key: {other}")),
    })?;
    if let Ok(info) = CertInfo::parse(&chain[0])
        && info.not_after <= unix_now()
    {
        tracing::warn!(path = %cert_file.display(), "the serving certificate has expired");
    }
    Ok(ServingIdentity { chain, key, cert_path: cert_file.to_owned() })
}

/// Loads a bundle of CA certificates (`--client-ca-file`): at least one, each a usable trust
/// anchor.
pub fn ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs = certificates(path)?;
    for (i, cert) in certs.iter().enumerate() {
        RootCertStore::empty().add(cert.clone()).map_err(|e| {
            PkiError::file(path, format!("certificate #{} is not a usable CA: {e}", i + 1))
        })?;
    }
    Ok(certs)
}

/// Every `CERTIFICATE` block of a PEM file, each checked to be X.509.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let bytes = std::fs::read(path).map_err(|e| PkiError::io(path, e))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| PkiError::file(path, format!("invalid PEM: {}", pem_message(&e))))?;
    if certs.is_empty() {
        return Err(PkiError::file(
            path,
            "no certificate found (expected a PEM block BEGIN CERTIFICATE)",
        ));
    }
    for (i, cert) in certs.iter().enumerate() {
        CertInfo::parse(cert).map_err(|_| {
            PkiError::file(path, format!("certificate #{} is not a valid X.509 certificate", i + 1))
        })?;
    }
    Ok(certs)
}

/// The first private key of a PEM file: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or
/// SEC1 (`EC PRIVATE KEY`).
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    let bytes = std::fs::read(path).map_err(|e| PkiError::io(path, e))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let message = match e {
            pem::Error::NoItemsFound if contains(&bytes, b"ENCRYPTED PRIVATE KEY") => {
                "the key is encrypted; give an unencrypted key".to_owned()
            }
            pem::Error::NoItemsFound => "no private key found (expected a PEM block BEGIN \
                 PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)"
                .to_owned(),
            other => format!("invalid PEM: {}", pem_message(&other)),
        };
        PkiError::file(path, message)
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pem_message(error: &pem::Error) -> String {
    match error {
        pem::Error::MissingSectionEnd { end_marker } => {
            format!("missing the END line of {}", String::from_utf8_lossy(end_marker))
        }
        pem::Error::IllegalSectionStart { .. } => "malformed BEGIN line".to_owned(),
        pem::Error::Base64Decode(_) => "the base64 body does not decode".to_owned(),
        other => other.to_string(),
    }
}

/// PEM-encodes DER under `label` (64-character lines).
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
