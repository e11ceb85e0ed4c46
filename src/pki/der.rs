//! The few DER (ASN.1) primitives kube-ledger needs beyond rcgen and webpki: walking a
//! certificate to its subject and validity ([`super::x509`]), and writing the small structures
//! a JWT key id and a PKCS#8 wrapper are made of ([`crate::authn::jwt`]).
//!
//! Only definite-length, single-byte-tag DER is read; anything else is an error, never a panic.

/// Universal tags used by the callers.
pub mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const T61_STRING: u8 = 0x14;
    pub const IA5_STRING: u8 = 0x16;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const UNIVERSAL_STRING: u8 = 0x1c;
    pub const BMP_STRING: u8 = 0x1e;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[0]` constructed, as the version of a `TBSCertificate`.
    pub const CONTEXT_0: u8 = 0xa0;
}

/// A DER input that is malformed or not what the caller expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER")]
pub struct DerError;

/// Reads consecutive TLVs from a byte slice.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input }
    }

    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The tag of the next element, without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// The next element: its tag and content.
    pub fn read(&mut self) -> Result<(u8, &'a [u8]), DerError> {
        let (&tag, rest) = self.input.split_first().ok_or(DerError)?;
        if tag & 0x1f == 0x1f {
            return Err(DerError); // multi-byte tags appear nowhere we read
        }
        let (&first, rest) = rest.split_first().ok_or(DerError)?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return Err(DerError);
            }
            let len = rest[..count].iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
            (len, &rest[count..])
        };
        if rest.len() < len {
            return Err(DerError);
        }
        let (content, rest) = rest.split_at(len);
        self.input = rest;
        Ok((tag, content))
    }

    /// The next element whole — tag, length and content — for copying it verbatim.
    pub fn read_raw(&mut self) -> Result<&'a [u8], DerError> {
        let before = self.input;
        self.read()?;
        Ok(&before[..before.len() - self.input.len()])
    }

    /// The next element, which must carry `expected`.
    pub fn expect(&mut self, expected: u8) -> Result<&'a [u8], DerError> {
        match self.read()? {
            (tag, content) if tag == expected => Ok(content),
            _ => Err(DerError),
        }
    }
}

/// One TLV: `tag`, the DER length of `content`, `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &parts.concat())
}

/// Object identifiers the callers write or compare, in DER content form.
pub mod oid {
    /// rsaEncryption, 1.2.840.113549.1.1.1
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// id-ecPublicKey, 1.2.840.10045.2.1
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// prime256v1 / secp256r1, 1.2.840.10045.3.1.7
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// id-at-commonName, 2.5.4.3
    pub const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    /// id-at-organizationName, 2.5.4.10
    pub const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
}

/// Decodes an OID's content octets into its arcs (`2.5.4.3` → `[2, 5, 4, 3]`).
pub fn oid_arcs(content: &[u8]) -> Result<Vec<u64>, DerError> {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    for (i, &byte) in content.iter().enumerate() {
        if value > (u64::MAX >> 7) {
            return Err(DerError);
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        } else if i == content.len() - 1 {
            return Err(DerError);
        }
    }
    if arcs.is_empty() {
        return Err(DerError);
    }
    Ok(arcs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_short_and_long_forms() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let content = vec![7u8; len];
            let encoded = tlv(tag::OCTET_STRING, &content);
            let mut reader = Reader::new(&encoded);
            assert_eq!(reader.expect(tag::OCTET_STRING).unwrap(), &content[..]);
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn truncated_or_indefinite_input_is_an_error() {
        assert_eq!(Reader::new(&[0x30]).read(), Err(DerError));
        assert_eq!(Reader::new(&[0x30, 0x05, 1, 2]).read(), Err(DerError));
        assert_eq!(Reader::new(&[0x30, 0x80, 0, 0]).read(), Err(DerError));
        assert_eq!(Reader::new(&[0x1f, 0x01, 0]).read(), Err(DerError));
    }

    #[test]
    fn oids_decode_to_arcs() {
        assert_eq!(oid_arcs(oid::COMMON_NAME).unwrap(), vec![2, 5, 4, 3]);
        assert_eq!(oid_arcs(oid::P256).unwrap(), vec![1, 2, 840, 10045, 3, 1, 7]);
        assert!(oid_arcs(&[0x86]).is_err());
    }
}
