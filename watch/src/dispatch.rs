//! Fan-out: the registry of live watchers of one view, indexed by namespace, and the dispatch of
//! each event into their channels.
//!
//! Dispatch never waits. Each watcher has a bounded channel, and an event is offered with
//! `try_send`: a watcher whose buffer is full is closed on the spot (its stream then ends with
//! [`crate::WatchError::FellBehind`], so its client resumes from its last revision) and counted.
//! kube-apiserver first spends a small time budget blocking on slow watchers; we skip it, because
//! while that budget lasts one slow client delays every other watcher of the resource, and a
//! client that resumes loses nothing (the window, or else the log, replays what it missed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc::{self, error::TrySendError};

use crate::event::ViewEvent;

/// Why the view closed a watcher's channel. Set before the channel's sender is dropped, so the
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
    pub(crate) tx: mpsc::Sender<Arc<ViewEvent>>,
    pub(crate) close: Arc<OnceLock<CloseReason>>,
}

/// The live watchers. Namespaced watchers are indexed by namespace, so an event costs one
/// `try_send` per interested watcher, not one per watcher of the resource.
#[derive(Default)]
pub(crate) struct Registry {
    next_id: u64,
    /// Watchers of every namespace (and of cluster-scoped resources): they get every event.
    all: HashMap<u64, Slot>,
    by_namespace: HashMap<Arc<str>, HashMap<u64, Slot>>,
}

impl Registry {
    pub(crate) fn add(&mut self, namespace: Option<&Arc<str>>, slot: Slot) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        match namespace {
            None => self.all.insert(id, slot),
            Some(namespace) => {
                self.by_namespace.entry(namespace.clone()).or_default().insert(id, slot)
            }
        };
        id
    }

    pub(crate) fn remove(&mut self, id: u64, namespace: Option<&str>) {
        match namespace {
            None => {
                self.all.remove(&id);
            }
            Some(namespace) => {
                if let Some(group) = self.by_namespace.get_mut(namespace) {
                    group.remove(&id);
                    if group.is_empty() {
                        self.by_namespace.remove(namespace);
                    }
                }
            }
        }
    }

    /// Offers `event` (of `namespace`) to every interested watcher, closing the ones that fell
    /// behind and forgetting the ones whose stream was dropped.
    pub(crate) fn dispatch(
        &mut self,
        event: &Arc<ViewEvent>,
        namespace: Option<&str>,
        terminated: &AtomicU64,
    ) {
        self.all.retain(|_, slot| offer(slot, event, terminated));
        if let Some(namespace) = namespace
            && let Some(group) = self.by_namespace.get_mut(namespace)
        {
            group.retain(|_, slot| offer(slot, event, terminated));
            if group.is_empty() {
                self.by_namespace.remove(namespace);
            }
        }
    }

    /// Closes every watcher: with a reason (their streams end with an error saying where to
    /// resume), or without one when the view stops (their streams just end).
    pub(crate) fn close_all(&mut self, reason: Option<CloseReason>) {
        let slots = self.all.drain().chain(self.by_namespace.drain().flat_map(|(_, g)| g));
        for (_, slot) in slots {
            if let Some(reason) = reason {
                let _ = slot.close.set(reason);
            }
        }
    }

    /// How many watchers are registered.
    pub(crate) fn len(&self) -> usize {
        self.all.len() + self.by_namespace.values().map(HashMap::len).sum::<usize>()
    }
}

/// Hands `event` to one watcher without waiting. Returns whether to keep the watcher.
fn offer(slot: &Slot, event: &Arc<ViewEvent>, terminated: &AtomicU64) -> bool {
    match slot.tx.try_send(event.clone()) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            // Set before the sender is dropped (when the slot is), so the watcher sees why.
            let _ = slot.close.set(CloseReason::FellBehind);
            terminated.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(revision = event.revision, "closing a watcher that fell behind");
            false
        }
        Err(TrySendError::Closed(_)) => false,
    }
}
