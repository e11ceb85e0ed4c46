//! The materialized state of one view: the current objects and the window of recent events.
//!
//! Plain data with no locking and no I/O: [`crate::View`] owns one [`Store`] behind a lock and the
//! follower task is its only writer. Keeping it synchronous makes every invariant checkable in
//! one place:
//! - `objects` is the state of the prefix at `revision`;
//! - `window` holds every event with a revision in `(window_start, revision]`, oldest first.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::event::{Object, ViewEvent};
use crate::metrics::ViewMetrics;
use crate::source::{EntryKind, LogEntry};

/// How much recent history a view keeps for watchers that resume.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowLimits {
    pub(crate) max_events: usize,
    pub(crate) max_age: Duration,
}

pub(crate) struct Store {
    /// The objects, keyed by full key. Keys are `/prefix/namespace/name`, so the objects of one
    /// namespace are one contiguous range of this ordered map: it is its own namespace index,
    /// and a namespaced list is a range scan rather than a filter over every object.
    pub(crate) objects: BTreeMap<Arc<str>, Arc<Object>>,
    /// Recent events, oldest first.
    pub(crate) window: VecDeque<Arc<ViewEvent>>,
    /// Every event after this revision (up to `revision`) is in `window`: the list revision after
    /// a (re)list, then the revision of the last event evicted.
    pub(crate) window_start: i64,
    /// The revision `objects` is at.
    pub(crate) revision: i64,
    /// Whether a first list has been applied: before it, the view has nothing to serve.
    pub(crate) loaded: bool,
    limits: WindowLimits,
}

impl Store {
    pub(crate) fn new(limits: WindowLimits) -> Store {
        Store {
            objects: BTreeMap::new(),
            window: VecDeque::new(),
            window_start: 0,
            revision: 0,
            loaded: false,
            limits,
        }
    }

    /// Replaces everything with a list read at `revision`. The window restarts empty: events
    /// before the list are not known to this view any more.
    pub(crate) fn replace(&mut self, objects: Vec<Object>, revision: i64) {
        self.objects = objects.into_iter().map(|o| (o.key.clone(), Arc::new(o))).collect();
        self.window.clear();
        self.window_start = revision;
        self.revision = revision;
        self.loaded = true;
    }

    /// Applies one entry whose new value the caller decoded (outside the lock). Returns the event
    /// to dispatch, or `None` for an entry at or below the current revision (already applied).
    pub(crate) fn apply(
        &mut self,
        entry: LogEntry,
        object: Option<Object>,
        metrics: &Arc<ViewMetrics>,
    ) -> Option<Arc<ViewEvent>> {
        if entry.revision <= self.revision {
            tracing::debug!(revision = entry.revision, at = self.revision, "entry already applied");
            return None;
        }
        self.revision = entry.revision;
        let LogEntry { revision, key, kind, prev_value, create_revision, .. } = entry;
        let prev = match kind {
            EntryKind::Created => None,
            // The view's own copy, decoded when it was written; the entry's previous value is
            // only decoded when the view does not hold the key (it should).
            EntryKind::Updated | EntryKind::Deleted => {
                self.objects.get(&key).cloned().or_else(|| {
                    let value = prev_value?;
                    let decode_errors = &metrics.decode_errors;
                    let prev =
                        Object::decode(key.clone(), value, create_revision, 0, decode_errors);
                    Some(Arc::new(prev))
                })
            }
        };
        let object = object.map(Arc::new);
        match &object {
            Some(object) => {
                self.objects.insert(key.clone(), object.clone());
            }
            None => {
                self.objects.remove(&key);
            }
        }
        let event = Arc::new(ViewEvent::new(revision, kind, key, object, prev, metrics.clone()));
        self.window.push_back(event.clone());
        self.evict(Instant::now());
        Some(event)
    }

    /// Moves the revision forward without an event (a progress item). Returns whether it moved.
    pub(crate) fn advance(&mut self, revision: i64) -> bool {
        if revision <= self.revision {
            return false;
        }
        self.revision = revision;
        true
    }

    /// Drops events beyond the window's count or age, moving `window_start` past them.
    fn evict(&mut self, now: Instant) {
        while let Some(oldest) = self.window.front() {
            let too_many = self.window.len() > self.limits.max_events;
            let too_old = now.saturating_duration_since(oldest.applied_at) > self.limits.max_age;
            if !too_many && !too_old {
                break;
            }
            self.window_start = oldest.revision;
            self.window.pop_front();
        }
        // A burst fills the window to `max_events`; once age has emptied most of it, give the
        // ring back (a `VecDeque` never shrinks by itself).
        let capacity = self.window.capacity();
        if capacity > 64 && self.window.len() <= capacity / 4 {
            self.window.shrink_to(self.window.len() * 2);
        }
    }

    /// The events after `after`, or `None` when the window no longer holds all of them.
    pub(crate) fn since(&self, after: i64) -> Option<Vec<Arc<ViewEvent>>> {
        if after < self.window_start {
            return None;
        }
        let first = self.window.partition_point(|event| event.revision <= after);
        Some(self.window.range(first..).cloned().collect())
    }

    /// The objects of `namespace` (all of them for `None`), in key order.
    pub(crate) fn scope(&self, prefix: &str, namespace: Option<&str>) -> Vec<Arc<Object>> {
        match namespace {
            None => self.objects.values().cloned().collect(),
            Some(namespace) => {
                // `0` is the character after `/`: the range is every key under `…/namespace/`.
                let start = format!("{prefix}{namespace}/");
                let end = format!("{prefix}{namespace}0");
                let range = (Bound::Included(start.as_str()), Bound::Excluded(end.as_str()));
                self.objects.range::<str, _>(range).map(|(_, o)| o.clone()).collect()
            }
        }
    }
}
