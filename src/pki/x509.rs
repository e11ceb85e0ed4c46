//! Reads the fields of an X.509 certificate kube-ledger decides on: the subject (the x509
//! authenticator's user and groups, and the issuer name of leaves signed by a CA loaded from
//! disk) and the validity period (renewal of generated certificates).
//!
//! Chain, signature and name checks are *not* done here: rustls/webpki do those. This only
//! walks `Certificate → TBSCertificate → validity, subject`.

use super::der::{self, DerError, Reader, tag};

/// One attribute of a distinguished name, in certificate order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAttribute {
    /// The attribute type's arcs (`[2, 5, 4, 3]` for commonName).
    pub oid: Vec<u64>,
    /// The ASN.1 string type the value was encoded with (`der::tag::UTF8_STRING`, …).
    pub string_tag: u8,
    /// The decoded value; `None` for a value that is not a supported string type.
    pub value: Option<String>,
}

/// What kube-ledger reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The issuer's attributes, as `subject`.
    pub issuer: Vec<NameAttribute>,
    /// The subject's attributes, RDN by RDN (multi-valued RDNs flattened).
    pub subject: Vec<NameAttribute>,
    /// Whether some RDN of the subject holds more than one attribute.
    pub multi_valued_rdn: bool,
    /// notBefore and notAfter as Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

impl CertInfo {
    /// Parses a DER certificate.
    pub fn parse(cert_der: &[u8]) -> Result<CertInfo, DerError> {
        let cert = Reader::new(cert_der).expect(tag::SEQUENCE)?;
        let mut tbs = Reader::new(Reader::new(cert).expect(tag::SEQUENCE)?);
        if tbs.peek_tag() == Some(tag::CONTEXT_0) {
            tbs.read()?; // version
        }
        tbs.expect(tag::INTEGER)?; // serialNumber
        tbs.expect(tag::SEQUENCE)?; // signature algorithm
        let (issuer, _) = parse_name(tbs.expect(tag::SEQUENCE)?)?;
        let mut validity = Reader::new(tbs.expect(tag::SEQUENCE)?);
        let not_before = parse_time(validity.read()?)?;
        let not_after = parse_time(validity.read()?)?;
        let (subject, multi_valued_rdn) = parse_name(tbs.expect(tag::SEQUENCE)?)?;
        Ok(CertInfo { issuer, subject, multi_valued_rdn, not_before, not_after })
    }

    /// Whether the certificate names itself as its issuer (a root).
    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// The subject's commonName; the last one when there are several, as Go's `pkix.Name`.
    pub fn common_name(&self) -> Option<&str> {
        self.strings(der::oid::COMMON_NAME).last()
    }

    /// The subject's organization values, in order (kube's groups for a client certificate).
    pub fn organizations(&self) -> Vec<&str> {
        self.strings(der::oid::ORGANIZATION).collect()
    }

    fn strings<'a>(&'a self, oid: &[u8]) -> impl Iterator<Item = &'a str> + 'a {
        let arcs = der::oid_arcs(oid).unwrap_or_default();
        self.subject.iter().filter(move |a| a.oid == arcs).filter_map(|a| a.value.as_deref())
    }
}

/// Parses the content of a `Name` (a SEQUENCE OF RelativeDistinguishedName).
pub(super) fn parse_name(content: &[u8]) -> Result<(Vec<NameAttribute>, bool), DerError> {
    let mut rdns = Reader::new(content);
    let mut attributes = Vec::new();
    let mut multi_valued = false;
    while !rdns.is_empty() {
        let mut set = Reader::new(rdns.expect(tag::SET)?);
        let mut count = 0;
        while !set.is_empty() {
            let mut pair = Reader::new(set.expect(tag::SEQUENCE)?);
            let oid = der::oid_arcs(pair.expect(tag::OID)?)?;
            let (string_tag, bytes) = pair.read()?;
            attributes.push(NameAttribute {
                oid,
                string_tag,
                value: decode_string(string_tag, bytes),
            });
            count += 1;
        }
        multi_valued |= count > 1;
    }
    Ok((attributes, multi_valued))
}

/// Decodes the ASN.1 string types a distinguished name may use.
fn decode_string(string_tag: u8, bytes: &[u8]) -> Option<String> {
    match string_tag {
        tag::UTF8_STRING | tag::PRINTABLE_STRING | tag::IA5_STRING => {
            String::from_utf8(bytes.to_vec()).ok()
        }
        // Teletex is treated as Latin-1, as Go does.
        tag::T61_STRING => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        tag::BMP_STRING => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        tag::UNIVERSAL_STRING => {
            if !bytes.len().is_multiple_of(4) {
                return None;
            }
            bytes
                .chunks(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) to Unix seconds.
fn parse_time((time_tag, bytes): (u8, &[u8])) -> Result<i64, DerError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DerError)?;
    let digits = text.strip_suffix('Z').ok_or(DerError)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DerError);
    }
    let (year, rest) = match (time_tag, digits.len()) {
        (tag::UTC_TIME, 12) => {
            let yy: i64 = digits[..2].parse().map_err(|_| DerError)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &digits[2..])
        }
        (tag::GENERALIZED_TIME, 14) => (digits[..4].parse().map_err(|_| DerError)?, &digits[4..]),
        _ => return Err(DerError),
    };
    let field = |i: usize| -> i64 { rest[i..i + 2].parse().unwrap_or(-1) };
    let (month, day, hour, minute, second) = (field(0), field(2), field(4), field(6), field(8));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..61).contains(&second)
    {
        return Err(DerError);
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, DnValue, KeyPair};

    #[test]
    fn reads_subject_and_validity_of_a_generated_certificate() {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, "alice");
        params
            .distinguished_name
            .push(DnType::OrganizationName, DnValue::PrintableString("devs".try_into().unwrap()));
        params.not_before = rcgen::date_time_ymd(2024, 2, 29);
        params.not_after = rcgen::date_time_ymd(2061, 1, 1); // GeneralizedTime from 2050 on
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();

        let info = CertInfo::parse(cert.der()).unwrap();
        assert_eq!(info.common_name(), Some("alice"));
        assert_eq!(info.organizations(), vec!["devs"]);
        assert!(!info.multi_valued_rdn);
        assert_eq!(info.not_before, 1_709_164_800); // 2024-02-29T00:00:00Z
        assert_eq!(info.not_after, 2_871_763_200); // 2061-01-01T00:00:00Z
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertInfo::parse(b"").is_err());
        assert!(CertInfo::parse(b"-----BEGIN CERTIFICATE-----").is_err());
        assert!(CertInfo::parse(&[0x30, 0x03, 0x30, 0x01, 0x00]).is_err());
    }

    #[test]
    fn string_types_decode_as_go_does() {
        assert_eq!(decode_string(tag::BMP_STRING, &[0, b'h', 0, b'i']).as_deref(), Some("hi"));
        assert_eq!(decode_string(tag::T61_STRING, &[0xe9]).as_deref(), Some("é"));
        assert_eq!(decode_string(tag::UNIVERSAL_STRING, &[0, 0, 0, b'x']).as_deref(), Some("x"));
        assert_eq!(decode_string(tag::INTEGER, &[1]), None);
    }
}
