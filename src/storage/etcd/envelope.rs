//! The stored value format: who wrote a value travels with it, inside the etcd value.
//!
//! etcd keeps only bytes per key and revision, so the [`Provenance`] of a write is stored in front
//! of the caller's value. Writes always use the newest format; reads accept every format ever
//! written, picked by a 4-byte magic, plus foreign values (written by anything but kube-ledger),
//! which have no magic and come back whole with no provenance.
//!
//! Data flows: [`encode`] on the way down (create, update, delete tombstones), [`decode`] on the
//! way up (get, list, watch, history).

use bytes::Bytes;

use crate::storage::{Provenance, Result, StorageError};

/// A decoded etcd value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Decoded {
    /// `None` for a foreign value.
    pub provenance: Option<Provenance>,
    /// The caller's value, exactly as it was written.
    pub value: Bytes,
}

/// Wraps `value` in the current format.
pub(super) fn encode(who: &Provenance, value: &[u8]) -> Result<Vec<u8>> {
    v1::encode(who, value)
}

/// Unwraps a stored value of any known format; a value without a known magic is foreign.
pub(super) fn decode(stored: Bytes) -> Result<Decoded> {
    if stored.starts_with(&v1::MAGIC) {
        return v1::decode(stored);
    }
    Ok(Decoded { provenance: None, value: stored })
}

/// Format 1: `kl\x01\x00`, the length of the provenance JSON as a big-endian `u32`, the JSON,
/// then the raw value. JSON keeps the header readable with `etcdctl get` and lets fields be added
/// with serde defaults without a new format.
mod v1 {
    use super::*;

    pub(super) const MAGIC: [u8; 4] = *b"kl\x01\x00";
    const HEADER: usize = MAGIC.len() + 4;

    pub(super) fn encode(who: &Provenance, value: &[u8]) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(who)
            .map_err(|e| StorageError::Internal(format!("cannot encode provenance: {e}")))?;
        let len = u32::try_from(json.len())
            .map_err(|_| StorageError::Internal("provenance too large".to_owned()))?;
        let mut out = Vec::with_capacity(HEADER + json.len() + value.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(value);
        Ok(out)
    }

    pub(super) fn decode(stored: Bytes) -> Result<Decoded> {
        let corrupt = |why: &str| StorageError::Internal(format!("corrupt value envelope: {why}"));
        let len_bytes: [u8; 4] = stored
            .get(MAGIC.len()..HEADER)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt("truncated header"))?;
        let json_end = usize::try_from(u32::from_be_bytes(len_bytes))
            .ok()
            .and_then(|len| HEADER.checked_add(len))
            .filter(|&end| end <= stored.len())
            .ok_or_else(|| corrupt("provenance longer than the value"))?;
        let provenance: Provenance = serde_json::from_slice(&stored[HEADER..json_end])
            .map_err(|e| corrupt(&format!("provenance: {e}")))?;
        Ok(Decoded { provenance: Some(provenance), value: stored.slice(json_end..) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Verb;

    fn who() -> Provenance {
        Provenance {
            user: "alice".to_owned(),
            verb: Verb::Update,
            audit_id: "audit-1".to_owned(),
            timestamp_micros: 1_700_000_000_000_000,
        }
    }

    #[test]
    fn round_trip() {
        for value in [&b""[..], b"{\"kind\":\"Pod\"}", &[0, 1, 2, 255]] {
            let stored = encode(&who(), value).unwrap();
            assert!(stored.starts_with(b"kl\x01\x00"));
            let decoded = decode(Bytes::from(stored)).unwrap();
            assert_eq!(decoded.provenance, Some(who()));
            assert_eq!(decoded.value, value);
        }
    }

    #[test]
    fn foreign_values_come_back_whole() {
        for value in [&b""[..], b"k8s\x00proto", b"kl", b"{}"] {
            let decoded = decode(Bytes::copy_from_slice(value)).unwrap();
            assert_eq!(decoded.provenance, None);
            assert_eq!(decoded.value, value);
        }
    }

    #[test]
    fn corrupt_envelopes_are_internal_errors() {
        let good = encode(&who(), b"value").unwrap();
        let truncated_header = Bytes::from(good[..6].to_vec());
        let truncated_json = Bytes::from(good[..12].to_vec());
        let mut bad_json = good.clone();
        bad_json[8] = b'!';
        for stored in [truncated_header, truncated_json, Bytes::from(bad_json)] {
            assert!(matches!(decode(stored), Err(StorageError::Internal(_))));
        }
    }
}
