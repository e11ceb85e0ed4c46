//! Compact JWS (RFC 7515) for ServiceAccount tokens, with ring: ES256 for ECDSA P-256 keys
//! (the generated `sa.key`) and RS256 for RSA keys, as kube-apiserver signs.
//!
//! A token is `base64url(header).base64url(claims).base64url(signature)`. Only the two
//! algorithms above are accepted, and only with a key of the matching type: a token's `alg`
//! never chooses how a key is used (no `none`, no HMAC with a public key). Key ids are kube's:
//! base64url(SHA-256(DER SubjectPublicKeyInfo)), so relying parties find the key in the JWKS.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls::pki_types::pem::{PemObject, SectionKind};
use serde::Deserialize;
use serde_json::json;

use crate::pki::der::{self, Reader, tag};

/// The JWS algorithms kube-ledger signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Es256,
    Rs256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Rs256 => "RS256",
        }
    }
}

/// A key file that cannot be used, or a token that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> KeyError {
    KeyError::Invalid(message.into())
}

/// The public half: verifies signatures, renders the JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    /// kube's key id: base64url(SHA-256(SubjectPublicKeyInfo DER)).
    pub kid: String,
    material: PublicMaterial,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicMaterial {
    /// The uncompressed point `04 || X || Y`.
    P256 { point: Vec<u8> },
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl VerifyingKey {
    fn new(material: PublicMaterial) -> VerifyingKey {
        let (algorithm, spki) = match &material {
            PublicMaterial::P256 { point } => (
                Algorithm::Es256,
                der::sequence(&[
                    &der::sequence(&[
                        &der::tlv(tag::OID, der::oid::EC_PUBLIC_KEY),
                        &der::tlv(tag::OID, der::oid::P256),
                    ]),
                    &der::tlv(tag::BIT_STRING, &[&[0u8][..], point].concat()),
                ]),
            ),
            PublicMaterial::Rsa { n, e } => {
                let rsa_public_key = der::sequence(&[&der_integer(n), &der_integer(e)]);
                (
                    Algorithm::Rs256,
                    der::sequence(&[
                        &der::sequence(&[
                            &der::tlv(tag::OID, der::oid::RSA_ENCRYPTION),
                            &der::tlv(tag::NULL, &[]),
                        ]),
                        &der::tlv(tag::BIT_STRING, &[&[0u8][..], &rsa_public_key].concat()),
                    ]),
                )
            }
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
        VerifyingKey { algorithm, kid: URL_SAFE_NO_PAD.encode(digest.as_ref()), material }
    }

    /// Parses a DER SubjectPublicKeyInfo holding a P-256 or RSA key.
    pub fn from_spki(spki: &[u8]) -> Result<VerifyingKey, KeyError> {
        let parse = || -> Result<PublicMaterial, der::DerError> {
            let mut outer = Reader::new(Reader::new(spki).expect(tag::SEQUENCE)?);
            let mut algorithm = Reader::new(outer.expect(tag::SEQUENCE)?);
            let oid = algorithm.expect(tag::OID)?;
            let bits = outer.expect(tag::BIT_STRING)?;
            let (&unused, key) = bits.split_first().ok_or(der::DerError)?;
            if unused != 0 {
                return Err(der::DerError);
            }
            if oid == der::oid::EC_PUBLIC_KEY {
                if algorithm.expect(tag::OID)? != der::oid::P256 || key.len() != 65 {
                    return Err(der::DerError);
                }
                return Ok(PublicMaterial::P256 { point: key.to_vec() });
            }
            if oid == der::oid::RSA_ENCRYPTION {
                let mut fields = Reader::new(Reader::new(key).expect(tag::SEQUENCE)?);
                let n = strip_zeros(fields.expect(tag::INTEGER)?);
                let e = strip_zeros(fields.expect(tag::INTEGER)?);
                return Ok(PublicMaterial::Rsa { n, e });
            }
            Err(der::DerError)
        };
        let material = parse().map_err(|_| invalid("not an ECDSA P-256 or RSA public key"))?;
        Ok(VerifyingKey::new(material))
    }

    /// Verifies `signature` over `message` with this key's algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            PublicMaterial::P256 { point } => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            PublicMaterial::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }

    /// The public JWK (RFC 7517), with `use: sig`, `alg` and `kid`, as kube serves it.
    pub fn jwk(&self) -> serde_json::Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match &self.material {
            PublicMaterial::P256 { point } => json!({
                "use": "sig", "kty": "EC", "kid": self.kid, "crv": "P-256",
                "alg": self.algorithm.name(), "x": b64(&point[1..33]), "y": b64(&point[33..]),
            }),
            PublicMaterial::Rsa { n, e } => json!({
                "use": "sig", "kty": "RSA", "kid": self.kid,
                "alg": self.algorithm.name(), "n": b64(n), "e": b64(e),
            }),
        }
    }
}

/// A DER INTEGER of a non-negative big-endian value.
fn der_integer(value: &[u8]) -> Vec<u8> {
    let value = strip_zeros(value);
    let needs_zero = value.first().is_none_or(|&b| b & 0x80 != 0);
    let content = if needs_zero { [&[0u8][..], &value].concat() } else { value };
    der::tlv(tag::INTEGER, &content)
}

fn strip_zeros(value: &[u8]) -> Vec<u8> {
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    value[start..].to_vec()
}

/// The private half: signs tokens.
pub struct SigningKey {
    private: PrivateMaterial,
    public: VerifyingKey,
}

enum PrivateMaterial {
    P256(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 (ECDSA P-256 or RSA), PKCS#1 RSA, or SEC1 P-256.
    pub fn from_pem_file(path: &Path) -> Result<SigningKey, KeyError> {
        let bytes = std::fs::read(path).map_err(|e| KeyError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_pem(&bytes).map_err(|e| KeyError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// [`SigningKey::from_pem_file`] from the file's bytes.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, KeyError> {
        for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
            let (kind, der) = item.map_err(|e| invalid(format!("invalid PEM: {e}")))?;
            let private = match kind {
                SectionKind::PrivateKey => private_from_pkcs8(&der)?,
                SectionKind::RsaPrivateKey => PrivateMaterial::Rsa(
                    RsaKeyPair::from_der(&der).map_err(|e| invalid(format!("RSA key: {e}")))?,
                ),
                SectionKind::EcPrivateKey => private_from_pkcs8(&sec1_to_pkcs8(&der))?,
                _ => continue,
            };
            let public = match &private {
                PrivateMaterial::P256(pair) => VerifyingKey::new(PublicMaterial::P256 {
                    point: pair.public_key().as_ref().to_vec(),
                }),
                PrivateMaterial::Rsa(pair) => {
                    let parts = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                    VerifyingKey::new(PublicMaterial::Rsa { n: parts.n, e: parts.e })
                }
            };
            return Ok(SigningKey { private, public });
        }
        Err(invalid(
            "no private key found (expected BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC \
             PRIVATE KEY)",
        ))
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Signs `claims` into a compact JWS with header `{"alg", "kid"}`.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, KeyError> {
        let header = json!({ "alg": self.public.algorithm.name(), "kid": self.public.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let signature = match &self.private {
            PrivateMaterial::P256(pair) => pair
                .sign(&rng, input.as_bytes())
                .map_err(|_| invalid("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
            PrivateMaterial::Rsa(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut out)
                    .map_err(|_| invalid("RSA signing failed"))?;
                out
            }
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

fn private_from_pkcs8(der: &[u8]) -> Result<PrivateMaterial, KeyError> {
    let rng = SystemRandom::new();
    if let Ok(pair) =
        EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
    {
        return Ok(PrivateMaterial::P256(pair));
    }
    RsaKeyPair::from_pkcs8(der)
        .map(PrivateMaterial::Rsa)
        .map_err(|_| invalid("not an ECDSA P-256 or RSA (2048 bits or more) private key"))
}

/// Wraps a SEC1 `ECPrivateKey` for P-256 in a PKCS#8 `PrivateKeyInfo`, which ring reads.
fn sec1_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    der::sequence(&[
        &der::tlv(tag::INTEGER, &[0]),
        &der::sequence(&[
            &der::tlv(tag::OID, der::oid::EC_PUBLIC_KEY),
            &der::tlv(tag::OID, der::oid::P256),
        ]),
        &der::tlv(tag::OCTET_STRING, sec1),
    ])
}

/// Reads verification keys from a PEM file (`--service-account-key-file`): public keys
/// (`PUBLIC KEY`), or private keys whose public half is used, as kube accepts.
pub fn verifying_keys_from_pem_file(path: &Path) -> Result<Vec<VerifyingKey>, KeyError> {
    let file_error = |message: String| KeyError::File { path: path.display().to_string(), message };
    let bytes = std::fs::read(path).map_err(|e| file_error(e.to_string()))?;
    let mut keys = Vec::new();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        let (kind, der) = item.map_err(|e| file_error(format!("invalid PEM: {e}")))?;
        match kind {
            SectionKind::PublicKey => {
                keys.push(VerifyingKey::from_spki(&der).map_err(|e| file_error(e.to_string()))?)
            }
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey => {
                let pem = crate::pki::load::pem(pem_label(kind), &der);
                let key =
                    SigningKey::from_pem(pem.as_bytes()).map_err(|e| file_error(e.to_string()))?;
                keys.push(key.public);
            }
            _ => {}
        }
    }
    if keys.is_empty() {
        return Err(file_error("no public or private key found".to_owned()));
    }
    Ok(keys)
}

fn pem_label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    }
}

/// Why a compact JWS was rejected. The messages are kube's where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("invalid signature, no keys found")]
    NoKeys,
    #[error("invalid signature")]
    BadSignature,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: String,
}

/// The claims of a token, *unverified*: only to route it (its `iss`) before verifying.
pub fn peek_claims(token: &str) -> Option<serde_json::Value> {
    if token.trim_start().starts_with('{') {
        return None;
    }
    let mut parts = token.split('.');
    let (_, claims, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

/// Verifies a compact JWS with the key of its `kid` (every key when it has none) whose
/// algorithm is the header's; returns the claims' JSON bytes.
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<Vec<u8>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed);
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    let signature = decode(sig)?;
    let payload = decode(claims)?;
    let candidates: Vec<&VerifyingKey> =
        keys.iter().filter(|k| header.kid.is_empty() || k.kid == header.kid).collect();
    if candidates.is_empty() {
        return Err(JwtError::NoKeys);
    }
    let message = &token.as_bytes()[..token.len() - sig.len() - 1];
    let verified = candidates
        .iter()
        .filter(|k| k.algorithm.name() == header.alg)
        .any(|k| k.verify(message, &signature));
    if verified { Ok(payload) } else { Err(JwtError::BadSignature) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pki/testdata").join(name)
    }

    fn generated_p256() -> SigningKey {
        SigningKey::from_pem(rcgen::KeyPair::generate().unwrap().serialize_pem().as_bytes())
            .unwrap()
    }

    #[test]
    fn es256_and_rs256_sign_and_verify() {
        let claims = json!({ "sub": "x" });
        for key in
            [generated_p256(), SigningKey::from_pem_file(&testdata("rsa-pkcs1.key")).unwrap()]
        {
            let token = key.sign(&claims).unwrap();
            let payload = verify(&token, &[key.verifying_key().clone()]).unwrap();
            assert_eq!(serde_json::from_slice::<serde_json::Value>(&payload).unwrap(), claims);
        }
        let rsa = SigningKey::from_pem_file(&testdata("rsa-pkcs8.key")).unwrap();
        assert_eq!(rsa.verifying_key().algorithm, Algorithm::Rs256);
    }

    #[test]
    fn every_key_format_loads_to_the_same_key() {
        let pkcs1 = SigningKey::from_pem_file(&testdata("rsa-pkcs1.key")).unwrap();
        let pkcs8 = SigningKey::from_pem_file(&testdata("rsa-pkcs8.key")).unwrap();
        assert_eq!(pkcs1.verifying_key(), pkcs8.verifying_key());
        let sec1 = SigningKey::from_pem_file(&testdata("ec-sec1.key")).unwrap();
        assert_eq!(sec1.verifying_key().algorithm, Algorithm::Es256);
        // A public key file and a private key file give the same verification key.
        let dir = tempfile::tempdir().unwrap();
        let public = dir.path().join("sa.pub");
        let key = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&public, key.public_key_pem()).unwrap();
        let signing = SigningKey::from_pem(key.serialize_pem().as_bytes()).unwrap();
        assert_eq!(verifying_keys_from_pem_file(&public).unwrap(), vec![signing.public.clone()]);
        let rsa_keys = verifying_keys_from_pem_file(&testdata("rsa-pkcs1.key")).unwrap();
        assert_eq!(rsa_keys, vec![pkcs1.public.clone()]);
    }

    #[test]
    fn key_ids_are_kubes_sha256_of_the_spki() {
        // kid = base64url(sha256(DER SPKI)), for the RSA fixture computed by OpenSSL:
        // openssl pkey -in rsa-pkcs1.key -pubout -outform DER | openssl dgst -sha256 -binary
        let rsa = SigningKey::from_pem_file(&testdata("rsa-pkcs1.key")).unwrap();
        assert_eq!(rsa.verifying_key().kid, "rFjLacYdDPtW3Pv11rJosFsIxMe-HScYZCOBcTUzeD8");
        let key =
            rcgen::KeyPair::from_pem(&std::fs::read_to_string(testdata("rsa-pkcs8.key")).unwrap())
                .unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
        assert_eq!(rsa.verifying_key().kid, URL_SAFE_NO_PAD.encode(digest));
        let ec = rcgen::KeyPair::generate().unwrap();
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            &rcgen::PublicKeyData::subject_public_key_info(&ec),
        );
        let signing = SigningKey::from_pem(ec.serialize_pem().as_bytes()).unwrap();
        assert_eq!(signing.verifying_key().kid, URL_SAFE_NO_PAD.encode(digest));
    }

    #[test]
    fn wrong_keys_algorithms_and_garbage_are_rejected() {
        let key = generated_p256();
        let other = generated_p256();
        let token = key.sign(&json!({})).unwrap();
        // Another key with the token's kid removed from the set: no key for the kid.
        assert_eq!(verify(&token, std::slice::from_ref(&other.public)), Err(JwtError::NoKeys));
        // The same kid but another key's material.
        let mut impostor = other.public.clone();
        impostor.kid = key.public.kid.clone();
        assert_eq!(verify(&token, &[impostor]), Err(JwtError::BadSignature));
        // A flipped signature byte.
        let mut bytes = token.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(
            verify(&tampered, std::slice::from_ref(&key.public)),
            Err(JwtError::BadSignature)
        );
        // alg none, and alg HS256 over the public key, never verify.
        let payload = token.split('.').nth(1).unwrap();
        for alg in ["none", "HS256", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({ "alg": alg }).to_string());
            let forged = format!("{header}.{payload}.");
            assert_eq!(
                verify(&forged, std::slice::from_ref(&key.public)),
                Err(JwtError::BadSignature)
            );
        }
        for garbage in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30"] {
            assert_eq!(
                verify(garbage, std::slice::from_ref(&key.public)),
                Err(JwtError::Malformed),
                "{garbage}"
            );
        }
        assert!(SigningKey::from_pem(b"nothing").is_err());
        assert!(SigningKey::from_pem_file(&testdata("ed25519.key")).is_err());
    }
}
