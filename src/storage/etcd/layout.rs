//! Where things live in etcd: how a contract key maps to an etcd key and an etcd key-value back to
//! an [`Object`].
//!
//! ```text
//! {prefix}/pods/default/web-0                 the object (value in an envelope)
//! {prefix}-ledger/deleted/pods/default/web-0  who deleted it last (envelope, empty value)
//! {prefix}-ledger/compacted                   the last revision compacted through kube-ledger
//! ```
//!
//! The bookkeeping keys sit under `{prefix}-ledger/`, which sorts before `{prefix}/` (`-` < `/`),
//! so no list or watch of a data prefix ever sees them, yet they stay next to the data they
//! describe.

use bytes::Bytes;
use etcd_client::KeyValue;

use super::envelope::{self, Decoded};
use crate::storage::{Object, Provenance, Result, StorageError, prefix_end};

/// The etcd key layout of one kube-ledger installation.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// The data prefix without a trailing `/` (kube-apiserver's `--etcd-prefix`).
    prefix: String,
}

impl Layout {
    /// `prefix` is used without its trailing slashes, so `/registry` and `/registry/` agree.
    pub fn new(prefix: &str) -> Layout {
        Layout { prefix: prefix.trim_end_matches('/').to_owned() }
    }

    /// The etcd key of an object key (validated by the caller).
    pub fn data_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The etcd range `[start, end)` of a validated prefix.
    pub fn data_range(&self, prefix: &str) -> (String, String) {
        (self.data_key(prefix), self.data_key(&prefix_end(prefix)))
    }

    /// Where the provenance of `key`'s last delete is kept.
    pub fn tombstone_key(&self, key: &str) -> String {
        format!("{}-ledger/deleted{key}", self.prefix)
    }

    /// The range of the tombstones of the keys under a validated prefix.
    pub fn tombstone_prefix_range(&self, prefix: &str) -> (String, String) {
        (self.tombstone_key(prefix), self.tombstone_key(&prefix_end(prefix)))
    }

    /// The range of every tombstone.
    pub fn tombstone_range(&self) -> (String, String) {
        let start = format!("{}-ledger/deleted/", self.prefix);
        let end = prefix_end(&start);
        (start, end)
    }

    /// The key that records the last compaction made through kube-ledger.
    pub fn compacted_key(&self) -> String {
        format!("{}-ledger/compacted", self.prefix)
    }

    /// The object key of an etcd data key.
    pub fn object_key(&self, etcd_key: &[u8]) -> Result<String> {
        std::str::from_utf8(etcd_key)
            .ok()
            .and_then(|k| k.strip_prefix(self.prefix.as_str()))
            .filter(|k| k.starts_with('/'))
            .map(str::to_owned)
            .ok_or_else(|| {
                StorageError::Internal(format!(
                    "etcd key {:?} is outside prefix {:?}",
                    String::from_utf8_lossy(etcd_key),
                    self.prefix
                ))
            })
    }

    /// An etcd key-value of the data range as an object, with the provenance of its write.
    pub fn object(&self, kv: KeyValue) -> Result<(Object, Option<Provenance>)> {
        let create_revision = kv.create_revision();
        let mod_revision = kv.mod_revision();
        let (key, value) = kv.into_key_value();
        let key = self.object_key(&key)?;
        let Decoded { provenance, value } = envelope::decode(Bytes::from(value))?;
        let object = Object { key, value, create_revision, mod_revision };
        Ok((object, provenance))
    }

    /// Like [`Layout::object`] for a borrowed key-value (watch events, txn answers).
    pub fn object_ref(&self, kv: &KeyValue) -> Result<(Object, Option<Provenance>)> {
        self.object(kv.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_keys_sort_outside_every_data_range() {
        for layout in [Layout::new("/registry"), Layout::new("/registry/")] {
            let (start, end) = layout.data_range("/");
            assert_eq!((start.as_str(), end.as_str()), ("/registry/", "/registry0"));
            for key in [
                layout.tombstone_key("/pods/default/x"),
                layout.compacted_key(),
                layout.tombstone_range().0,
                layout.tombstone_range().1,
            ] {
                assert!(key < start || key >= end, "{key} is inside the data range");
            }
        }
        let layout = Layout::new("/registry");
        assert_eq!(
            layout.tombstone_key("/pods/default/x"),
            "/registry-ledger/deleted/pods/default/x"
        );
        assert_eq!(
            layout.data_range("/pods/"),
            ("/registry/pods/".to_owned(), "/registry/pods0".to_owned())
        );
        assert_eq!(
            layout.tombstone_prefix_range("/pods/"),
            (
                "/registry-ledger/deleted/pods/".to_owned(),
                "/registry-ledger/deleted/pods0".to_owned()
            )
        );
        assert_eq!(layout.object_key(b"/registry/pods/a").unwrap(), "/pods/a");
        assert!(layout.object_key(b"/registryx/pods/a").is_err());
        assert!(layout.object_key(b"/other/pods/a").is_err());
    }
}
