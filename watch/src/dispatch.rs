//! Fan-out: the registry of live watchers of one view, indexed by namespace and by index hint,
//! and the dispatch of each event into their channels.
//!
//! Without hints, an event costs one hand-over (and one wake-up of the watcher's task, which
//! then evaluates its selector) per watcher of its namespace. With 10,000 watchers that each
//! select their own value (a kubelet per node watching `spec.nodeName=<node>` pods), that is
//! 10,000 hand-overs per event for one or two deliveries. A watcher whose selector requires one
//! value of an indexed key says so in its [`crate::WatchRequest::index`]; the registry files it
//! under that (key, value), and an event reaches only the buckets of the values its object has
//! (before and after the event) — kube-apiserver's cacher indexers. See `index` for which keys
//! and values.
//!
//! Dispatch never waits. Each watcher has a bounded queue (`queue`), and an event is offered with
//! `try_send`: a watcher whose buffer is full is closed on the spot (its stream then ends with
//! [`crate::WatchError::FellBehind`], so its client resumes from its last revision) and counted.
//! kube-apiserver first spends a small time budget blocking on slow watchers; we skip it, because
//! while that budget lasts one slow client delays every other watcher of the resource, and a
//! client that resumes loses nothing (the window, or else the log, replays what it missed).
//!
//! The maps give memory back as watchers leave ([`shrink`]): a burst of 10,000 watchers would
//! otherwise leave the registry's tables sized for 10,000 for the life of the view.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::event::ViewEvent;
use crate::index::{self, IndexValue, IndexedField, Key};
use crate::metrics::ViewMetrics;
use crate::queue::{QueueTx, SendError};

/// Why the view closed a watcher's queue. Set before the queue's sending end is dropped, so the
/// watcher reads it once it has drained what was sent before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// Its buffer was full when an event arrived.
    FellBehind,
    /// The view re-listed, so the events between its old and new revision are unknown to it.
    Resync,
}

/// The view's end of one watcher.
pub(crate) struct Slot {
    pub(crate) tx: QueueTx,
}

/// The live watchers, by namespace scope: the watchers of every namespace (and of cluster-scoped
/// resources), and those of each namespace. Within a scope, watchers with an index hint sit in
/// the bucket of their (key, value), the others in `unindexed`.
///
/// An event of namespace `ns` is offered to the scopes "every namespace" and `ns`. In each, the
/// unindexed watchers all get it; of the indexed ones, only the buckets of the values the object
/// has for each key in use, after the event and before it (so a watcher whose selector the
/// object leaves still sees it, and sends `DELETED`; one it enters sends `ADDED`). A watcher has
/// one hint, so it sits in one bucket and gets an event at most once.
#[derive(Default)]
pub(crate) struct Registry {
    next_id: u64,
    /// The fields this view indexes ([`crate::ViewConfig::indexed_fields`]).
    fields: Vec<IndexedField>,
    /// Watchers of every namespace (and of cluster-scoped resources): they get every event.
    all: Scope,
    by_namespace: HashMap<Arc<str>, Scope>,
    /// Where each watcher is registered, so unregistering one is a lookup, not a search.
    places: HashMap<u64, Place>,
}

/// Where a watcher sits in the registry.
struct Place {
    namespace: Option<Arc<str>>,
    bucket: Option<(Key, Arc<str>)>,
}

/// The watchers of one namespace scope.
#[derive(Default)]
struct Scope {
    /// Watchers without a usable hint: they get every event of the scope.
    unindexed: HashMap<u64, Slot>,
    /// key → value → watchers whose filter requires that value. Only keys some watcher uses, and
    /// only non-empty buckets, are kept: the keys are what an event's object is read for.
    indexed: HashMap<Key, HashMap<Arc<str>, HashMap<u64, Slot>>>,
    /// How many watchers `indexed` holds, to count the hand-overs the index saves.
    indexed_len: usize,
}

impl Scope {
    fn is_empty(&self) -> bool {
        self.unindexed.is_empty() && self.indexed.is_empty()
    }

    fn insert(&mut self, id: u64, bucket: Option<&(Key, Arc<str>)>, slot: Slot) {
        match bucket {
            None => {
                self.unindexed.insert(id, slot);
            }
            Some((key, value)) => {
                let values = self.indexed.entry(key.clone()).or_default();
                values.entry(value.clone()).or_default().insert(id, slot);
                self.indexed_len += 1;
            }
        }
    }

    fn remove(&mut self, id: u64, bucket: Option<&(Key, Arc<str>)>) {
        let Some((key, value)) = bucket else {
            self.unindexed.remove(&id);
            shrink(&mut self.unindexed);
            return;
        };
        let Some(values) = self.indexed.get_mut(key) else { return };
        if let Some(watchers) = values.get_mut(value)
            && watchers.remove(&id).is_some()
        {
            self.indexed_len = self.indexed_len.saturating_sub(1);
            if watchers.is_empty() {
                values.remove(value);
            } else {
                shrink(watchers);
            }
            shrink(values);
        }
        if values.is_empty() {
            self.indexed.remove(key);
        }
    }

    /// Gives back the capacity of the maps a dispatch emptied out.
    fn shrink(&mut self) {
        shrink(&mut self.unindexed);
        for values in self.indexed.values_mut() {
            values.values_mut().for_each(shrink);
            shrink(values);
        }
    }

    /// Offers `event` to the watchers of this scope it may concern, pushing the ids of the ones
    /// closed or gone onto `dropped`. Returns how many indexed watchers it was not offered to.
    fn dispatch(
        &mut self,
        event: &Arc<ViewEvent>,
        terminated: &AtomicU64,
        dropped: &mut Vec<u64>,
    ) -> usize {
        let mut keep = |id: &u64, slot: &mut Slot| {
            let kept = offer(slot, event, terminated);
            if !kept {
                dropped.push(*id);
            }
            kept
        };
        self.unindexed.retain(|id, slot| keep(id, slot));
        let indexed = self.indexed_len;
        let mut reached = 0;
        for (key, values) in &mut self.indexed {
            // Read from the objects the view decoded once; no per-watcher work.
            let now = event.object.as_ref().and_then(|o| key.value_in(&o.json));
            let before = event.prev.as_ref().and_then(|o| key.value_in(&o.json));
            let before = before.filter(|before| Some(*before) != now);
            for value in [now, before].into_iter().flatten() {
                let Some(watchers) = values.get_mut(value) else { continue };
                let offered = watchers.len();
                watchers.retain(|id, slot| keep(id, slot));
                reached += offered;
                self.indexed_len = self.indexed_len.saturating_sub(offered - watchers.len());
                if watchers.is_empty() {
                    values.remove(value);
                }
            }
        }
        self.indexed.retain(|_, values| !values.is_empty());
        indexed.saturating_sub(reached)
    }

    fn drain(&mut self) -> impl Iterator<Item = Slot> + '_ {
        self.indexed_len = 0;
        let indexed = self.indexed.drain().flat_map(|(_, values)| values.into_values());
        self.unindexed.drain().chain(indexed.flatten()).map(|(_, slot)| slot)
    }
}

impl Registry {
    /// An empty registry of a view that indexes `fields` (besides every label).
    pub(crate) fn new(fields: Vec<IndexedField>) -> Registry {
        Registry { fields, ..Registry::default() }
    }

    /// Registers a watcher of `namespace` (every namespace for `None`) with its index hint.
    /// A hint naming a field this view does not index is ignored: the watcher then gets every
    /// event of its namespace, which its filter narrows as without a hint.
    pub(crate) fn add(
        &mut self,
        namespace: Option<&Arc<str>>,
        hint: Option<&IndexValue>,
        slot: Slot,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let bucket = hint.and_then(|hint| {
            let resolved = index::resolve(hint, &self.fields);
            if resolved.is_none() {
                tracing::debug!(?hint, "not an indexed field; dispatching without the hint");
            }
            resolved
        });
        let scope = match namespace {
            None => &mut self.all,
            Some(namespace) => self.by_namespace.entry(namespace.clone()).or_default(),
        };
        scope.insert(id, bucket.as_ref(), slot);
        self.places.insert(id, Place { namespace: namespace.cloned(), bucket });
        id
    }

    pub(crate) fn remove(&mut self, id: u64) {
        let Some(place) = self.places.remove(&id) else { return };
        shrink(&mut self.places);
        match &place.namespace {
            None => self.all.remove(id, place.bucket.as_ref()),
            Some(namespace) => {
                if let Some(scope) = self.by_namespace.get_mut(namespace) {
                    scope.remove(id, place.bucket.as_ref());
                    if scope.is_empty() {
                        self.by_namespace.remove(namespace);
                        shrink(&mut self.by_namespace);
                    }
                }
            }
        }
    }

    /// Offers `event` (of `namespace`) to every interested watcher, closing the ones that fell
    /// behind and forgetting the ones whose stream was dropped; counts the indexed watchers the
    /// index spared a hand-over in [`ViewMetrics::index_skipped`].
    pub(crate) fn dispatch(
        &mut self,
        event: &Arc<ViewEvent>,
        namespace: Option<&str>,
        metrics: &ViewMetrics,
    ) {
        let terminated = &metrics.terminated_watchers;
        let mut dropped = Vec::new();
        let mut skipped = self.all.dispatch(event, terminated, &mut dropped);
        if let Some(namespace) = namespace
            && let Some(scope) = self.by_namespace.get_mut(namespace)
        {
            skipped += scope.dispatch(event, terminated, &mut dropped);
            if scope.is_empty() {
                self.by_namespace.remove(namespace);
            }
        }
        if !dropped.is_empty() {
            for id in dropped {
                self.places.remove(&id);
            }
            shrink(&mut self.places);
            self.all.shrink();
            if let Some(scope) = namespace.and_then(|n| self.by_namespace.get_mut(n)) {
                scope.shrink();
            }
            shrink(&mut self.by_namespace);
        }
        if skipped > 0 {
            metrics.index_skipped.fetch_add(skipped as u64, Ordering::Relaxed);
        }
    }

    /// Closes every watcher: with a reason (their streams end with an error saying where to
    /// resume), or without one when the view stops (their streams just end).
    pub(crate) fn close_all(&mut self, reason: Option<CloseReason>) {
        self.places.clear();
        let namespaces = self.by_namespace.values_mut().flat_map(Scope::drain);
        for slot in self.all.drain().chain(namespaces) {
            if let Some(reason) = reason {
                slot.tx.close(reason);
            }
        }
        self.by_namespace.clear();
        self.places.shrink_to_fit();
        self.by_namespace.shrink_to_fit();
    }

    /// How many watchers are registered.
    pub(crate) fn len(&self) -> usize {
        self.places.len()
    }
}

/// Tables at most this large are never shrunk: shrinking them saves nothing worth a rehash.
const KEEP_CAPACITY: usize = 64;

/// Halves a map's table once it is at most a quarter full, so it follows its watchers down after
/// a burst (a `HashMap` never shrinks by itself) without rehashing on every removal: a table is
/// rebuilt only after it lost three quarters of its entries, an amortized O(1) per removal.
fn shrink<K: Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>) {
    let capacity = map.capacity();
    if capacity > KEEP_CAPACITY && map.len() <= capacity / 4 {
        map.shrink_to((map.len() * 2).max(KEEP_CAPACITY));
    }
}

/// Hands `event` to one watcher without waiting. Returns whether to keep the watcher.
fn offer(slot: &Slot, event: &Arc<ViewEvent>, terminated: &AtomicU64) -> bool {
    match slot.tx.try_send(event) {
        Ok(()) => true,
        Err(SendError::Full) => {
            // Before the slot (and with it the queue's sending end) is dropped.
            slot.tx.close(CloseReason::FellBehind);
            terminated.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(revision = event.revision, "closing a watcher that fell behind");
            false
        }
        Err(SendError::Closed) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Object;
    use crate::queue::QueueRx;
    use crate::source::EntryKind;

    const BURST: usize = 10_000;

    impl Registry {
        /// Entries the registry's tables have room for, summed over every table.
        fn table_capacity(&self) -> usize {
            let scope = |s: &Scope| {
                s.unindexed.capacity()
                    + s.indexed.capacity()
                    + s.indexed
                        .values()
                        .map(|v| v.capacity() + v.values().map(HashMap::capacity).sum::<usize>())
                        .sum::<usize>()
            };
            self.places.capacity()
                + self.by_namespace.capacity()
                + scope(&self.all)
                + self.by_namespace.values().map(scope).sum::<usize>()
        }
    }

    fn slot() -> (Slot, QueueRx) {
        let (tx, rx) = crate::queue::queue(4);
        (Slot { tx }, rx)
    }

    /// A burst of watchers of every kind the registry files: every namespace, one namespace,
    /// and one namespace with a label hint (all in one bucket).
    fn burst(registry: &mut Registry) -> Vec<(u64, QueueRx)> {
        let namespace: Arc<str> = "ns".into();
        let hint = IndexValue::label("app", "web");
        (0..BURST)
            .map(|i| {
                let (slot, rx) = slot();
                let id = match i % 3 {
                    0 => registry.add(None, None, slot),
                    1 => registry.add(Some(&namespace), None, slot),
                    _ => registry.add(Some(&namespace), Some(&hint), slot),
                };
                (id, rx)
            })
            .collect()
    }

    #[test]
    fn tables_shrink_when_watchers_unregister() {
        let mut registry = Registry::new(Vec::new());
        let watchers = burst(&mut registry);
        assert!(registry.table_capacity() >= 2 * BURST);
        // All but a few leave, as when a burst of clients disconnects.
        let (leaving, staying) = watchers.split_at(BURST - 5);
        for (id, _) in leaving {
            registry.remove(*id);
        }
        assert_eq!(registry.len(), 5);
        let capacity = registry.table_capacity();
        assert!(capacity <= 10 * KEEP_CAPACITY, "tables sized for {capacity} entries");
        for (id, _) in staying {
            registry.remove(*id);
        }
        assert_eq!(registry.len(), 0);
    }

    #[test]
    fn tables_shrink_when_dispatch_forgets_dropped_watchers() {
        let mut registry = Registry::new(Vec::new());
        let watchers = burst(&mut registry);
        drop(watchers);
        let json = serde_json::json!({"metadata": {"labels": {"app": "web"}}});
        let object = Arc::new(Object {
            key: "/things/ns/a".into(),
            value: bytes::Bytes::from(json.to_string()),
            json,
            create_revision: 1,
            mod_revision: 1,
            encodings: Default::default(),
        });
        let metrics = Arc::new(ViewMetrics::default());
        let event = Arc::new(ViewEvent::new(
            1,
            EntryKind::Created,
            "/things/ns/a".into(),
            Some(object),
            None,
            metrics.clone(),
        ));
        registry.dispatch(&event, Some("ns"), &metrics);
        assert_eq!(registry.len(), 0);
        let capacity = registry.table_capacity();
        assert!(capacity <= 10 * KEEP_CAPACITY, "tables sized for {capacity} entries");
    }
}
