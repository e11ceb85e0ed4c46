//! The certificate authority under `<data-dir>/pki/ca.{crt,key}`: generated once, then reused
//! for every later start. It is never replaced behind the user's back: a missing half, a key
//! that does not match, or an expired CA stops the server with a message saying what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, DnValue, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::csr::{CertificateRequest, Usages};
use super::der::tag;
use super::x509::CertInfo;
use super::{CA_VALIDITY_SECS, PkiError, RENEW_BEFORE_SECS, files};

/// The CA: its certificate, and its key for signing the generated leaves.
pub struct CertificateAuthority {
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
    pub cert_path: PathBuf,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// The CA's subject and key usages, reproduced for rcgen so the leaves name it as their
    /// issuer.
    issuer_params: CertificateParams,
    key: KeyPair,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("cert_path", &self.cert_path)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Loads `ca.crt`/`ca.key` from `dir`, or generates both when neither exists.
    pub fn load_or_generate(dir: &Path, now: i64) -> Result<Self, PkiError> {
        Self::load_or_generate_named(dir, "ca", "kube-ledger-ca", now)
    }

    /// Loads `<stem>.crt`/`<stem>.key` from `dir`, or generates both when neither exists (a
    /// generated CA's common name is `<common_name>@<now>`). The front-proxy CA is another
    /// such pair (`front-proxy-ca`).
    pub fn load_or_generate_named(
        dir: &Path,
        stem: &str,
        common_name: &str,
        now: i64,
    ) -> Result<Self, PkiError> {
        let cert_path = dir.join(format!("{stem}.crt"));
        let key_path = dir.join(format!("{stem}.key"));
        let never_replaced = "a CA is never replaced silently, since every client trusts it";
        match (files::read_optional(&cert_path)?, files::read_optional(&key_path)?) {
            (None, None) => Self::generate(cert_path, &key_path, common_name, now),
            (Some(cert), Some(key)) => Self::load(cert_path, &cert, &key_path, &key, now),
            (Some(_), None) => Err(PkiError::Ca {
                path: key_path,
                message: format!(
                    "missing while {stem}.crt exists; {never_replaced}: restore the key, or \
                     remove {stem}.crt to generate a new CA"
                ),
            }),
            (None, Some(_)) => Err(PkiError::Ca {
                path: cert_path,
                message: format!(
                    "missing while {stem}.key exists; {never_replaced}: restore the \
                     certificate, or remove {stem}.key to generate a new CA"
                ),
            }),
        }
    }

    fn generate(
        cert_path: PathBuf,
        key_path: &Path,
        common_name: &str,
        now: i64,
    ) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, format!("{common_name}@{now}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = ca_key_usages();
        let not_after = now + CA_VALIDITY_SECS;
        set_validity(&mut params, now, not_after)?;
        params.serial_number = Some(random_serial()?);
        let cert = params.self_signed(&key)?;
        files::write_private(key_path, key.serialize_pem().as_bytes())?;
        files::write_public(&cert_path, cert.pem().as_bytes())?;
        tracing::info!(path = %cert_path.display(), "generated a certificate authority");
        Ok(CertificateAuthority {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            cert_path,
            not_after,
            issuer_params: params,
            key,
        })
    }

    fn load(
        cert_path: PathBuf,
        cert_pem: &[u8],
        key_path: &Path,
        key_pem: &[u8],
        now: i64,
    ) -> Result<Self, PkiError> {
        let ca_error =
            |path: &Path, message: String| PkiError::Ca { path: path.to_owned(), message };
        let cert_der = CertificateDer::from_pem_slice(cert_pem)
            .map_err(|e| ca_error(&cert_path, format!("no PEM certificate: {e}")))?;
        let info = CertInfo::parse(&cert_der)
            .map_err(|_| ca_error(&cert_path, "not a valid X.509 certificate".to_owned()))?;
        let key = match PrivateKeyDer::from_pem_slice(key_pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => KeyPair::try_from(der.secret_pkcs8_der()).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            ca_error(key_path, "not a PKCS#8 ECDSA, Ed25519 or RSA key (BEGIN PRIVATE KEY)".into())
        })?;
        let cert_spki = rustls::server::ParsedCertificate::try_from(&cert_der)
            .map_err(|e| ca_error(&cert_path, format!("unreadable certificate: {e}")))?
            .subject_public_key_info();
        if cert_spki.as_ref() != key.subject_public_key_info().as_slice() {
            let name = cert_path.file_name().unwrap_or_default().to_string_lossy();
            return Err(ca_error(key_path, format!("does not match {name}")));
        }
        if now >= info.not_after {
            return Err(ca_error(
                &cert_path,
                "has expired; a CA is never replaced silently: remove the certificate and its \
                 key to generate a new one (every client must then trust it)"
                    .to_owned(),
            ));
        }
        if info.not_after - now < RENEW_BEFORE_SECS {
            let days = (info.not_after - now) / 86_400;
            tracing::warn!(path = %cert_path.display(), days, "the certificate authority expires soon");
        }
        let name = distinguished_name(&info)
            .ok_or_else(|| ca_error(&cert_path, "its subject cannot be reproduced to sign with it (multi-valued or unsupported attributes)".to_owned()))?;
        let mut issuer_params = CertificateParams::default();
        issuer_params.distinguished_name = name;
        issuer_params.key_usages = ca_key_usages();
        Ok(CertificateAuthority {
            cert_pem: String::from_utf8_lossy(cert_pem).into_owned(),
            cert_der: cert_der.into_owned(),
            cert_path,
            not_after: info.not_after,
            issuer_params,
            key,
        })
    }

    /// Signs a leaf for `public_key` and checks it chains to this CA's certificate.
    pub fn sign(
        &self,
        params: &CertificateParams,
        public_key: &KeyPair,
    ) -> Result<Certificate, PkiError> {
        let issuer = Issuer::from_params(&self.issuer_params, &self.key);
        let cert = params.signed_by(public_key, &issuer)?;
        let info = CertInfo::parse(cert.der()).map_err(|_| PkiError::Ca {
            path: self.cert_path.clone(),
            message: "issued an unreadable certificate".to_owned(),
        })?;
        let ca_info = CertInfo::parse(&self.cert_der).ok();
        if ca_info.map(|ca| ca.subject) != Some(info.issuer) {
            return Err(PkiError::Ca {
                path: self.cert_path.clone(),
                message: "its subject could not be reproduced as the issuer of new certificates"
                    .to_owned(),
            });
        }
        Ok(cert)
    }

    /// Signs `request` into a certificate for `usages`, valid for `ttl_secs` from `now` (Unix
    /// seconds) as kube's `PermissiveSigningPolicy` has it: backdated five minutes, the end
    /// backdated too unless the lifetime is short (under eight hours), and never past this CA's
    /// own end. Returns the DER certificate, or the reason it cannot be signed (kube's words).
    pub fn sign_request(
        &self,
        request: &CertificateRequest,
        usages: &Usages,
        ttl_secs: i64,
        now: i64,
    ) -> Result<Vec<u8>, String> {
        const BACKDATE: i64 = 5 * 60;
        const SHORT: i64 = 8 * 3600;
        let not_before = now - BACKDATE;
        let mut not_after =
            if ttl_secs < SHORT { now + ttl_secs } else { now + ttl_secs - BACKDATE };
        not_after = not_after.min(self.not_after);
        if not_before >= self.not_after {
            return Err(format!("the signer has expired: NotAfter={}", self.not_after));
        }
        if now >= self.not_after {
            return Err(format!(
                "refusing to sign a certificate that expired in the past: NotAfter={}",
                self.not_after
            ));
        }
        let algorithm = signature_algorithm(self.key.algorithm())
            .ok_or_else(|| "the CA's key algorithm cannot sign certificates".to_owned())?;
        let issuer =
            subject_of(&self.cert_der).map_err(|_| "unreadable CA certificate".to_owned())?;
        let serial = random_serial_bytes().map_err(|e| e.to_string())?;
        let tbs = super::csr::tbs_certificate(
            request, usages, &serial, &algorithm, issuer, not_before, not_after,
        )?;
        let signature = rcgen::SigningKey::sign(&self.key, &tbs).map_err(|e| e.to_string())?;
        let mut bits = vec![0u8];
        bits.extend_from_slice(&signature);
        Ok(super::der::sequence(&[&tbs, &algorithm, &super::der::tlv(tag::BIT_STRING, &bits)]))
    }

    /// This CA as the only trust anchor.
    pub fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        // Parsed before (`load`) or made here (`generate`): adding cannot fail.
        let _ = roots.add(self.cert_der.clone());
        Arc::new(roots)
    }
}

fn ca_key_usages() -> Vec<KeyUsagePurpose> {
    vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]
}

/// Sets notBefore five minutes back (clock skew between hosts) and notAfter, both Unix seconds.
pub(super) fn set_validity(
    params: &mut CertificateParams,
    now: i64,
    not_after: i64,
) -> Result<(), PkiError> {
    let time = |secs: i64| {
        time::OffsetDateTime::from_unix_timestamp(secs)
            .map_err(|_| PkiError::Config(format!("time {secs} out of range")))
    };
    params.not_before = time(now - 300)?;
    params.not_after = time(not_after)?;
    Ok(())
}

/// A random positive 128-bit serial number.
pub(super) fn random_serial() -> Result<rcgen::SerialNumber, PkiError> {
    Ok(rcgen::SerialNumber::from(random_serial_bytes()?.to_vec()))
}

/// A random positive 128-bit serial number's DER content octets.
fn random_serial_bytes() -> Result<[u8; 16], PkiError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| PkiError::Config("the system random generator failed".to_owned()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // no leading zero byte: the DER INTEGER stays 16 bytes, positive
    Ok(bytes)
}

/// The `AlgorithmIdentifier` (whole) of signatures made with a key of `algorithm`.
fn signature_algorithm(algorithm: &rcgen::SignatureAlgorithm) -> Option<Vec<u8>> {
    use super::der::{sequence, tlv};
    const RSA: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    let rsa = |last: u8| {
        let mut oid = RSA.to_vec();
        oid.push(last);
        sequence(&[&tlv(tag::OID, &oid), &tlv(tag::NULL, &[])])
    };
    let ecdsa =
        |last: u8| sequence(&[&tlv(tag::OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, last])]);
    Some(if algorithm == &rcgen::PKCS_ECDSA_P256_SHA256 {
        ecdsa(2)
    } else if algorithm == &rcgen::PKCS_ECDSA_P384_SHA384 {
        ecdsa(3)
    } else if algorithm == &rcgen::PKCS_ED25519 {
        sequence(&[&tlv(tag::OID, &[0x2b, 0x65, 0x70])])
    } else if algorithm == &rcgen::PKCS_RSA_SHA256 {
        rsa(0x0b)
    } else if algorithm == &rcgen::PKCS_RSA_SHA384 {
        rsa(0x0c)
    } else if algorithm == &rcgen::PKCS_RSA_SHA512 {
        rsa(0x0d)
    } else {
        return None;
    })
}

/// A certificate's subject `Name`, whole.
fn subject_of(cert_der: &[u8]) -> Result<&[u8], super::der::DerError> {
    use super::der::Reader;
    let cert = Reader::new(cert_der).expect(tag::SEQUENCE)?;
    let mut tbs = Reader::new(Reader::new(cert).expect(tag::SEQUENCE)?);
    if tbs.peek_tag() == Some(tag::CONTEXT_0) {
        tbs.read()?; // version
    }
    tbs.expect(tag::INTEGER)?; // serialNumber
    tbs.expect(tag::SEQUENCE)?; // signature
    tbs.expect(tag::SEQUENCE)?; // issuer
    tbs.expect(tag::SEQUENCE)?; // validity
    tbs.read_raw()
}

/// The rcgen form of a certificate's subject, when every attribute can be encoded as it was.
fn distinguished_name(info: &CertInfo) -> Option<DistinguishedName> {
    if info.multi_valued_rdn {
        return None;
    }
    let mut name = DistinguishedName::new();
    for attribute in &info.subject {
        let text = attribute.value.clone()?;
        let value = match attribute.string_tag {
            tag::UTF8_STRING => DnValue::Utf8String(text),
            tag::PRINTABLE_STRING => DnValue::PrintableString(text.try_into().ok()?),
            tag::IA5_STRING => DnValue::Ia5String(text.try_into().ok()?),
            tag::T61_STRING => DnValue::TeletexString(text.try_into().ok()?),
            tag::BMP_STRING => DnValue::BmpString(text.try_into().ok()?),
            tag::UNIVERSAL_STRING => DnValue::UniversalString(text.try_into().ok()?),
            _ => return None,
        };
        let kind = DnType::from_oid(&attribute.oid);
        if name.get(&kind).is_some() {
            return None; // rcgen keeps one value per type
        }
        name.push(kind, value);
    }
    Some(name)
}
