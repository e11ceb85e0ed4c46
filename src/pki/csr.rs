//! PKCS#10 certificate signing requests (CertificateSigningRequest's `spec.request`): read and
//! their signature checked as kube's `certificates.ParseCSR` and Go's `CheckSignature` do, and
//! turned into a client certificate by a CA as kube-controller-manager's csrsigning controller
//! does (`authority.PermissiveSigningPolicy`).
//!
//! ```text
//! PEM "CERTIFICATE REQUEST" ─▶ CertificateRequest::parse_pem (structure, signature with ring)
//!     ─▶ subject, SANs, public key ─▶ CertificateAuthority::sign_request ─▶ PEM "CERTIFICATE"
//! ```
//!
//! The request is walked with [`super::der`] and verified with ring (already the TLS and JWT
//! stack); the certificate is written here too, because rcgen keeps one value per name
//! attribute while a client certificate names every group as an `O`. The subject and public key
//! are copied from the request byte for byte, the request's extensions are dropped but for its
//! subject alternative names, and the usages come from the API object, as kube's signer does.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use super::der::{self, DerError, Reader, tag};
use super::x509::{self, NameAttribute};

/// Why a request is refused, in the words kube's validation prints (Go's x509 errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    #[error("PEM block type must be CERTIFICATE REQUEST")]
    NotPem,
    #[error("x509: malformed certificate request")]
    Malformed,
    #[error("x509: cannot verify signature: algorithm unimplemented")]
    UnsupportedAlgorithm,
    #[error("x509: ECDSA verification failure")]
    EcdsaSignature,
    #[error("crypto/rsa: verification error")]
    RsaSignature,
    #[error("x509: Ed25519 verification failure")]
    Ed25519Signature,
}

impl From<DerError> for CsrError {
    fn from(_: DerError) -> Self {
        CsrError::Malformed
    }
}

/// A parsed request whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// The subject `Name`, whole (tag and length included), copied into the certificate.
    pub raw_subject: Vec<u8>,
    /// The subject's attributes, in order.
    pub subject: Vec<NameAttribute>,
    /// The `SubjectPublicKeyInfo`, whole.
    pub raw_public_key: Vec<u8>,
    /// The `GeneralNames` of a requested subjectAltName extension (its value, whole).
    pub subject_alt_names: Option<Vec<u8>>,
}

/// Object identifiers, as DER content octets.
mod oid {
    pub const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    pub const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    pub const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// PKCS#9 extensionRequest, 1.2.840.113549.1.9.14.
    pub const EXTENSION_REQUEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e];
    pub const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
    pub const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    pub const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    pub const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
}

impl CertificateRequest {
    /// The first PEM block of `pem`, which must be a `CERTIFICATE REQUEST`, parsed and its
    /// signature verified.
    pub fn parse_pem(pem: &[u8]) -> Result<CertificateRequest, CsrError> {
        match super::pem::decode(pem) {
            Some((block, _)) if block.label == "CERTIFICATE REQUEST" => Self::parse_der(&block.der),
            _ => Err(CsrError::NotPem),
        }
    }

    /// A DER request, parsed and its signature verified.
    pub fn parse_der(request: &[u8]) -> Result<CertificateRequest, CsrError> {
        let mut outer = Reader::new(request);
        let mut csr = Reader::new(outer.expect(tag::SEQUENCE)?);
        if !outer.is_empty() {
            return Err(CsrError::Malformed);
        }
        let raw_info = csr.read_raw()?;
        let mut algorithm = Reader::new(csr.expect(tag::SEQUENCE)?);
        let signature_oid = algorithm.expect(tag::OID)?;
        let signature = bit_string(csr.expect(tag::BIT_STRING)?)?;

        let mut info = Reader::new(Reader::new(raw_info).expect(tag::SEQUENCE)?);
        info.expect(tag::INTEGER)?; // version
        let raw_subject = info.read_raw()?;
        let (subject, _) = x509::parse_name(Reader::new(raw_subject).expect(tag::SEQUENCE)?)?;
        let raw_public_key = info.read_raw()?;
        let mut spki = Reader::new(Reader::new(raw_public_key).expect(tag::SEQUENCE)?);
        let mut key_algorithm = Reader::new(spki.expect(tag::SEQUENCE)?);
        let key_oid = key_algorithm.expect(tag::OID)?;
        let curve = match key_algorithm.read() {
            Ok((tag::OID, curve)) => Some(curve),
            _ => None,
        };
        let key = bit_string(spki.expect(tag::BIT_STRING)?)?;
        let mut subject_alt_names = None;
        if info.peek_tag() == Some(tag::CONTEXT_0) {
            subject_alt_names = requested_alt_names(info.expect(tag::CONTEXT_0)?)?;
        }

        let (verifier, failure) = verification(signature_oid, key_oid, curve)?;
        UnparsedPublicKey::new(verifier, key).verify(raw_info, signature).map_err(|_| failure)?;
        Ok(CertificateRequest {
            raw_subject: raw_subject.to_vec(),
            subject,
            raw_public_key: raw_public_key.to_vec(),
            subject_alt_names,
        })
    }

    /// The subject's commonName (the last, as Go's `pkix.Name`): the user of a client
    /// certificate.
    pub fn common_name(&self) -> Option<&str> {
        self.strings(der::oid::COMMON_NAME).last()
    }

    /// The subject's organizations, in order: the groups of a client certificate.
    pub fn organizations(&self) -> Vec<&str> {
        self.strings(der::oid::ORGANIZATION).collect()
    }

    fn strings<'a>(&'a self, oid: &[u8]) -> impl Iterator<Item = &'a str> + 'a {
        let arcs = der::oid_arcs(oid).unwrap_or_default();
        self.subject.iter().filter(move |a| a.oid == arcs).filter_map(|a| a.value.as_deref())
    }
}

/// kube's check of an issued `status.certificate`: nothing, or one or more `CERTIFICATE` blocks
/// without headers, each an X.509 certificate. The error is kube's text.
pub fn check_certificates(mut pem: &[u8]) -> Result<(), String> {
    if pem.is_empty() {
        return Ok(());
    }
    let mut blocks = 0;
    while let Some((block, rest)) = super::pem::decode(pem) {
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "only CERTIFICATE PEM blocks are allowed, found {}",
                crate::meta::validation::go_quote(&block.label)
            ));
        }
        if block.has_headers {
            return Err("no PEM block headers are permitted".to_owned());
        }
        super::x509::CertInfo::parse(&block.der)
            .map_err(|_| "x509: malformed certificate".to_owned())?;
        blocks += 1;
        pem = rest;
    }
    if blocks == 0 {
        return Err("must contain at least one CERTIFICATE PEM block".to_owned());
    }
    Ok(())
}

/// A BIT STRING's bytes; only whole bytes (no unused bits) carry keys and signatures.
fn bit_string(content: &[u8]) -> Result<&[u8], CsrError> {
    match content.split_first() {
        Some((0, bytes)) => Ok(bytes),
        _ => Err(CsrError::Malformed),
    }
}

/// The subjectAltName the request's extensionRequest attribute asks for, if any.
fn requested_alt_names(attributes: &[u8]) -> Result<Option<Vec<u8>>, CsrError> {
    let mut attributes = Reader::new(attributes);
    while !attributes.is_empty() {
        let mut attribute = Reader::new(attributes.expect(tag::SEQUENCE)?);
        if attribute.expect(tag::OID)? != oid::EXTENSION_REQUEST {
            continue;
        }
        let mut values = Reader::new(attribute.expect(tag::SET)?);
        while !values.is_empty() {
            let mut extensions = Reader::new(values.expect(tag::SEQUENCE)?);
            while !extensions.is_empty() {
                let mut extension = Reader::new(extensions.expect(tag::SEQUENCE)?);
                let id = extension.expect(tag::OID)?;
                if extension.peek_tag() == Some(BOOLEAN) {
                    extension.read()?; // critical
                }
                let value = extension.expect(tag::OCTET_STRING)?;
                if id == oid::SUBJECT_ALT_NAME {
                    Reader::new(value).expect(tag::SEQUENCE)?;
                    return Ok(Some(value.to_vec()));
                }
            }
        }
    }
    Ok(None)
}

const BOOLEAN: u8 = 0x01;

/// ring's algorithm for a signature algorithm and key, and the error a bad signature is.
fn verification(
    signature_oid: &[u8],
    key_oid: &[u8],
    curve: Option<&[u8]>,
) -> Result<(&'static dyn VerificationAlgorithm, CsrError), CsrError> {
    let unsupported = Err(CsrError::UnsupportedAlgorithm);
    let rsa = key_oid == der::oid::RSA_ENCRYPTION;
    let ec = key_oid == der::oid::EC_PUBLIC_KEY;
    let p256 = ec && curve == Some(der::oid::P256);
    let p384 = ec && curve == Some(oid::P384);
    let algorithm: &'static dyn VerificationAlgorithm = match signature_oid {
        oid::SHA1_WITH_RSA if rsa => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        oid::SHA256_WITH_RSA if rsa => &signature::RSA_PKCS1_2048_8192_SHA256,
        oid::SHA384_WITH_RSA if rsa => &signature::RSA_PKCS1_2048_8192_SHA384,
        oid::SHA512_WITH_RSA if rsa => &signature::RSA_PKCS1_2048_8192_SHA512,
        oid::ECDSA_SHA256 if p256 => &signature::ECDSA_P256_SHA256_ASN1,
        oid::ECDSA_SHA256 if p384 => &signature::ECDSA_P384_SHA256_ASN1,
        oid::ECDSA_SHA384 if p256 => &signature::ECDSA_P256_SHA384_ASN1,
        oid::ECDSA_SHA384 if p384 => &signature::ECDSA_P384_SHA384_ASN1,
        oid::ED25519 if key_oid == oid::ED25519 => &signature::ED25519,
        _ => return unsupported,
    };
    let failure = if rsa {
        CsrError::RsaSignature
    } else if ec {
        CsrError::EcdsaSignature
    } else {
        CsrError::Ed25519Signature
    };
    Ok((algorithm, failure))
}

/// What a signed certificate may be used for: kube's `spec.usages`, mapped as its signer's
/// `keyUsagesFromStrings` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usages {
    /// keyUsage bits, bit 0 (digitalSignature) first.
    pub key_usage: u16,
    /// extKeyUsage OIDs (content octets).
    pub extended: Vec<&'static [u8]>,
}

impl Usages {
    /// The usages named by `names`; `Err` with the first unknown one.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Usages, String> {
        let mut usages = Usages::default();
        for name in names {
            if let Some(bit) = key_usage_bit(name) {
                usages.key_usage |= 1 << bit;
            } else if let Some(oid) = extended_key_usage(name) {
                if !usages.extended.contains(&oid) {
                    usages.extended.push(oid);
                }
            } else {
                return Err(format!("unrecognized usage: {name}"));
            }
        }
        Ok(usages)
    }
}

/// The keyUsage bit of a kube usage name.
fn key_usage_bit(name: &str) -> Option<u16> {
    Some(match name {
        "signing" | "digital signature" => 0,
        "content commitment" => 1,
        "key encipherment" => 2,
        "data encipherment" => 3,
        "key agreement" => 4,
        "cert sign" => 5,
        "crl sign" => 6,
        "encipher only" => 7,
        "decipher only" => 8,
        _ => return None,
    })
}

/// The extKeyUsage OID of a kube usage name.
fn extended_key_usage(name: &str) -> Option<&'static [u8]> {
    const KP: [u8; 7] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03];
    const fn kp(last: u8) -> [u8; 8] {
        [KP[0], KP[1], KP[2], KP[3], KP[4], KP[5], KP[6], last]
    }
    const SERVER_AUTH: [u8; 8] = kp(1);
    const CLIENT_AUTH: [u8; 8] = kp(2);
    const CODE_SIGNING: [u8; 8] = kp(3);
    const EMAIL_PROTECTION: [u8; 8] = kp(4);
    const IPSEC_END_SYSTEM: [u8; 8] = kp(5);
    const IPSEC_TUNNEL: [u8; 8] = kp(6);
    const IPSEC_USER: [u8; 8] = kp(7);
    const TIMESTAMPING: [u8; 8] = kp(8);
    const OCSP_SIGNING: [u8; 8] = kp(9);
    Some(match name {
        "any" => &[0x55, 0x1d, 0x25, 0x00],
        "server auth" => &SERVER_AUTH,
        "client auth" => &CLIENT_AUTH,
        "code signing" => &CODE_SIGNING,
        "email protection" | "s/mime" => &EMAIL_PROTECTION,
        "ipsec end system" => &IPSEC_END_SYSTEM,
        "ipsec tunnel" => &IPSEC_TUNNEL,
        "ipsec user" => &IPSEC_USER,
        "timestamping" => &TIMESTAMPING,
        "ocsp signing" => &OCSP_SIGNING,
        "microsoft sgc" => &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0a, 0x03, 0x03],
        "netscape sgc" => &[0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x04, 0x01],
        _ => return None,
    })
}

/// The `TBSCertificate` of a client certificate for `request`: version 3, `serial`,
/// `signature_algorithm` (the issuer's, whole), `issuer` (the CA's subject, whole), the
/// validity, the request's subject and key, and the extensions kube's signer writes (keyUsage,
/// extKeyUsage, basicConstraints CA:false, the requested subjectAltName).
pub(super) fn tbs_certificate(
    request: &CertificateRequest,
    usages: &Usages,
    serial: &[u8],
    signature_algorithm: &[u8],
    issuer: &[u8],
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, String> {
    let version = der::tlv(tag::CONTEXT_0, &der::tlv(tag::INTEGER, &[2]));
    let validity = der::sequence(&[&time(not_before)?, &time(not_after)?]);
    let mut extensions = Vec::new();
    if usages.key_usage != 0 {
        extensions.push(extension(oid::KEY_USAGE, true, &key_usage_bits(usages.key_usage)));
    }
    if !usages.extended.is_empty() {
        let oids: Vec<Vec<u8>> = usages.extended.iter().map(|o| der::tlv(tag::OID, o)).collect();
        extensions.push(extension(
            oid::EXT_KEY_USAGE,
            false,
            &der::tlv(tag::SEQUENCE, &oids.concat()),
        ));
    }
    extensions.push(extension(oid::BASIC_CONSTRAINTS, true, &der::sequence(&[])));
    if let Some(names) = &request.subject_alt_names {
        // Go marks the names critical when the subject is empty (RFC 5280, 4.2.1.6).
        extensions.push(extension(oid::SUBJECT_ALT_NAME, request.subject.is_empty(), names));
    }
    let extensions = der::tlv(0xa3, &der::tlv(tag::SEQUENCE, &extensions.concat()));
    Ok(der::sequence(&[
        &version,
        &der::tlv(tag::INTEGER, serial),
        signature_algorithm,
        issuer,
        &validity,
        &request.raw_subject,
        &request.raw_public_key,
        &extensions,
    ]))
}

/// One `Extension`.
fn extension(id: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let id = der::tlv(tag::OID, id);
    let value = der::tlv(tag::OCTET_STRING, value);
    if critical {
        der::sequence(&[&id, &der::tlv(BOOLEAN, &[0xff]), &value])
    } else {
        der::sequence(&[&id, &value])
    }
}

/// keyUsage as Go writes it: the bits of the first byte (and a second one for decipherOnly),
/// trailing zero bits counted as unused.
fn key_usage_bits(bits: u16) -> Vec<u8> {
    let first = (bits as u8).reverse_bits();
    let second = ((bits >> 8) as u8).reverse_bits();
    let bytes = if second != 0 { vec![first, second] } else { vec![first] };
    let last = bytes[bytes.len() - 1];
    let unused = if last == 0 { 0 } else { last.trailing_zeros() as u8 };
    let mut content = vec![unused];
    content.extend_from_slice(&bytes);
    der::tlv(tag::BIT_STRING, &content)
}

/// A validity time: UTCTime through 2049, GeneralizedTime after (RFC 5280, 4.1.2.5).
fn time(unix: i64) -> Result<Vec<u8>, String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|_| format!("time {unix} out of range"))?;
    let (year, month, day) = (t.year(), u8::from(t.month()), t.day());
    let rest = format!("{month:02}{day:02}{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
    Ok(if (1950..2050).contains(&year) {
        der::tlv(tag::UTC_TIME, format!("{:02}{rest}", year % 100).as_bytes())
    } else {
        der::tlv(tag::GENERALIZED_TIME, format!("{year:04}{rest}").as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DnType, KeyPair, PublicKeyData, SanType};

    use super::*;

    fn request(key: &KeyPair, cn: &str, groups: &[&str]) -> String {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, cn);
        if let Some(group) = groups.first() {
            params.distinguished_name.push(DnType::OrganizationName, *group);
        }
        params.subject_alt_names.push(SanType::DnsName("alice.example".try_into().unwrap()));
        params.serialize_request(key).unwrap().pem().unwrap()
    }

    #[test]
    fn requests_parse_and_their_signatures_verify() {
        for key in [
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
            KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
        ] {
            let pem = request(&key, "alice", &["dev"]);
            let parsed = CertificateRequest::parse_pem(pem.as_bytes()).unwrap();
            assert_eq!(parsed.common_name(), Some("alice"));
            assert_eq!(parsed.organizations(), ["dev"]);
            assert_eq!(parsed.raw_public_key, key.subject_public_key_info());
            assert!(parsed.subject_alt_names.is_some());
        }
    }

    #[test]
    fn tampered_or_foreign_input_is_refused_in_gos_words() {
        let key = KeyPair::generate().unwrap();
        let pem = request(&key, "alice", &[]);
        let der = super::super::pem::decode(pem.as_bytes()).unwrap().0.der;
        // Flip a byte of the subject: the signature no longer verifies.
        let mut tampered = der.clone();
        let at = tampered.windows(5).position(|w| w == b"alice").unwrap();
        tampered[at] = b'A';
        assert_eq!(CertificateRequest::parse_der(&tampered), Err(CsrError::EcdsaSignature));
        assert_eq!(CertificateRequest::parse_der(&der[..der.len() - 3]), Err(CsrError::Malformed));
        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert_eq!(CertificateRequest::parse_pem(cert.as_bytes()), Err(CsrError::NotPem));
        assert_eq!(CertificateRequest::parse_pem(b"not pem"), Err(CsrError::NotPem));
        assert_eq!(CsrError::NotPem.to_string(), "PEM block type must be CERTIFICATE REQUEST");
    }

    #[test]
    fn usages_map_to_key_usage_bits_and_oids() {
        let usages =
            Usages::from_names(["digital signature", "key encipherment", "client auth"]).unwrap();
        assert_eq!(usages.key_usage, 0b101);
        // digitalSignature | keyEncipherment: 0xa0 with 5 unused bits, as Go writes it.
        assert_eq!(key_usage_bits(usages.key_usage), [0x03, 0x02, 0x05, 0xa0]);
        assert_eq!(key_usage_bits(1 << 8), [0x03, 0x03, 0x07, 0x00, 0x80]);
        assert_eq!(usages.extended.len(), 1);
        assert!(Usages::from_names(["bogus"]).is_err());
        assert_eq!(time(0).unwrap(), der::tlv(tag::UTC_TIME, b"700101000000Z"));
        assert_eq!(time(2_556_057_600).unwrap()[0], tag::GENERALIZED_TIME);
    }
}
