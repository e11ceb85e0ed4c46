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
///
/// Fields added so far, each omitted when empty and read as empty when absent: `uid`, `groups`,
/// `user_agent`, `source_ip`, `field_manager` (issue 12), `restored_from` (issue 15). So a value written before them reads
/// with those fields empty, a provenance without them encodes byte for byte as before, and an
/// older kube-ledger reading a newer value ignores the fields it does not know.
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

    /// A provenance with only the fields the first release recorded.
    fn who() -> Provenance {
        Provenance {
            timestamp_micros: 1_700_000_000_000_000,
            ..Provenance::now("alice", Verb::Update, "audit-1")
        }
    }

    /// A provenance with every field set, group names with JSON's special characters included.
    fn everyone() -> Provenance {
        who()
            .with_identity(
                "uid-1",
                ["system:authenticated", "qu\"ote\\d", "line\nbreak", "ünï"],
                "kubectl/v1.31.0 (linux/amd64) kubernetes/abc",
                "2001:db8::7",
            )
            .with_field_manager("kubectl-client-side-apply")
            .with_restored_from(41)
    }

    /// How the first release wrote the provenance of [`who`], byte for byte.
    const FIRST_RELEASE_JSON: &str = r#"{"user":"alice","verb":"update","audit_id":"audit-1","timestamp_micros":1700000000000000}"#;

    fn first_release_value(value: &[u8]) -> Bytes {
        let mut stored = b"kl\x01\x00".to_vec();
        stored.extend_from_slice(&(FIRST_RELEASE_JSON.len() as u32).to_be_bytes());
        stored.extend_from_slice(FIRST_RELEASE_JSON.as_bytes());
        stored.extend_from_slice(value);
        Bytes::from(stored)
    }

    #[test]
    fn round_trip() {
        for who in [who(), everyone()] {
            for value in [&b""[..], b"{\"kind\":\"Pod\"}", &[0, 1, 2, 255]] {
                let stored = encode(&who, value).unwrap();
                assert!(stored.starts_with(b"kl\x01\x00"));
                let decoded = decode(Bytes::from(stored)).unwrap();
                assert_eq!(decoded.provenance.as_ref(), Some(&who));
                assert_eq!(decoded.value, value);
            }
        }
    }

    #[test]
    fn first_release_values_read_with_empty_identity() {
        let decoded = decode(first_release_value(b"{\"kind\":\"Pod\"}")).unwrap();
        assert_eq!(decoded.provenance, Some(who()));
        let p = decoded.provenance.unwrap();
        assert!(p.uid.is_empty() && p.groups.is_empty() && p.user_agent.is_empty());
        assert!(p.source_ip.is_empty() && p.field_manager.is_empty());
        assert_eq!(p.restored_from, None);
        assert_eq!(decoded.value, &b"{\"kind\":\"Pod\"}"[..]);
    }

    /// Without the new fields a value encodes exactly as the first release wrote it; with them,
    /// the first release's reader (its struct had four fields, no `deny_unknown_fields`) still
    /// reads the fields it knows.
    #[test]
    fn the_format_stays_readable_both_ways() {
        assert_eq!(encode(&who(), b"v").unwrap(), first_release_value(b"v"));

        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct FirstRelease {
            user: String,
            verb: Verb,
            audit_id: String,
            timestamp_micros: i64,
        }
        let stored = encode(&everyone(), b"v").unwrap();
        let len = u32::from_be_bytes(stored[4..8].try_into().unwrap()) as usize;
        let old: FirstRelease = serde_json::from_slice(&stored[8..8 + len]).unwrap();
        assert_eq!(
            old,
            FirstRelease {
                user: "alice".to_owned(),
                verb: Verb::Update,
                audit_id: "audit-1".to_owned(),
                timestamp_micros: 1_700_000_000_000_000,
            }
        );
    }

    /// A restore's revision is a JSON number beside the other fields, and only a restore has it.
    #[test]
    fn restored_from_is_stored_only_for_restores() {
        let header = |who: &Provenance| {
            let stored = encode(who, b"v").unwrap();
            let len = u32::from_be_bytes(stored[4..8].try_into().unwrap()) as usize;
            String::from_utf8(stored[8..8 + len].to_vec()).unwrap()
        };
        assert!(header(&everyone()).contains(r#""restored_from":41"#), "{}", header(&everyone()));
        assert!(!header(&who()).contains("restored_from"));
        let decoded = decode(Bytes::from(encode(&everyone(), b"v").unwrap())).unwrap();
        assert_eq!(decoded.provenance.unwrap().restored_from, Some(41));
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
