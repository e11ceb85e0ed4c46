//! What this server wrote lately: a bounded memory of the objects its own writes stored, by key.
//!
//! A write starts from the resource's view when it can ([`super::Store::read_for_write`]); while
//! the view lags behind the log — etcd's watch falls seconds behind under write bursts — the
//! view's copy of an object this server just wrote is stale, and the write would pay a failed
//! compare plus a log read. This memory holds the stored copy the write itself got back, so a
//! read-modify-write of one's own recent write (a controller updating what it just created, a
//! delete after an update) starts from the current object.
//!
//! It is only a hint, under the same rule as the view's copy: only a storage write conditioned on
//! the copy's `mod_revision` may rest on it, so a stale entry (another replica wrote since) costs
//! one failed compare, never a wrong answer. Bounded in bytes (64 MiB) and by object size.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::storage::Object;

/// Bytes of keys and values kept; past it, the memory starts over (old entries are the least
/// useful ones, and the view has caught up with most of them by then).
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Larger objects are not kept.
const MAX_VALUE: usize = 64 * 1024;

#[derive(Debug, Default)]
pub(super) struct RecentWrites {
    objects: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    by_key: HashMap<String, Object>,
    bytes: usize,
}

fn size(object: &Object) -> usize {
    object.key.len() + object.value.len()
}

impl RecentWrites {
    /// Remembers `object` as just stored (or forgets its key when it is too large to keep).
    pub(super) fn stored(&self, object: &Object) {
        let mut memory = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        if memory.by_key.get(&object.key).is_some_and(|k| k.mod_revision > object.mod_revision) {
            return; // an older answer arriving late
        }
        memory.forget(&object.key);
        if object.value.len() > MAX_VALUE {
            return;
        }
        if memory.bytes + size(object) > MAX_BYTES {
            *memory = Memory::default();
        }
        memory.bytes += size(object);
        memory.by_key.insert(object.key.clone(), object.clone());
    }

    /// Forgets `key`: it was deleted.
    pub(super) fn deleted(&self, key: &str) {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner).forget(key);
    }

    /// The remembered copy of `key`, if newer than `than` (the view's copy's revision, or 0).
    pub(super) fn newer(&self, key: &str, than: i64) -> Option<Object> {
        let memory = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        memory.by_key.get(key).filter(|o| o.mod_revision > than).cloned()
    }
}

impl Memory {
    fn forget(&mut self, key: &str) {
        if let Some(old) = self.by_key.remove(key) {
            self.bytes -= size(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn object(key: &str, revision: i64, size: usize) -> Object {
        Object {
            key: key.to_owned(),
            value: Bytes::from(vec![b'x'; size]),
            create_revision: 1,
            mod_revision: revision,
        }
    }

    #[test]
    fn keeps_the_newest_copy_and_forgets_deletes() {
        let recent = RecentWrites::default();
        recent.stored(&object("/a", 5, 10));
        recent.stored(&object("/a", 3, 10)); // an older answer arriving late
        assert_eq!(recent.newer("/a", 0).unwrap().mod_revision, 5);
        assert!(recent.newer("/a", 5).is_none(), "not newer than a view at 5");
        recent.deleted("/a");
        assert!(recent.newer("/a", 0).is_none());
    }

    #[test]
    fn is_bounded_by_bytes_and_object_size() {
        let recent = RecentWrites::default();
        recent.stored(&object("/big", 2, 10));
        recent.stored(&object("/big", 3, MAX_VALUE + 1));
        assert!(recent.newer("/big", 0).is_none(), "a too-large newer copy replaces none");
        let each = MAX_VALUE;
        for i in 0..(MAX_BYTES / each + 10) {
            recent.stored(&object(&format!("/k{i}"), 10, each));
        }
        let memory = recent.objects.lock().unwrap();
        let counted: usize = memory.by_key.values().map(size).sum();
        assert_eq!(memory.bytes, counted);
        assert!(memory.bytes <= MAX_BYTES, "{} bytes", memory.bytes);
    }
}
