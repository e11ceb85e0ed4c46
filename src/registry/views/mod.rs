//! The watch views of the served resources: one [`View`] (from the `watch` crate) per storage
//! prefix, from which every GET, LIST and WATCH of that resource is served — and ONE storage
//! watch of the whole log, shared by every view.
//!
//! # Layout
//! - `source`: [`StorageSource`], the adapter the `watch` crate asks for — the [`Storage`] trait
//!   in the crate's own types (`LogEntry`, `SourceItem`, `SourceError`).
//! - `feed`: the `LogFeed`, the [`LogSource`] every view reads: one storage watch of `/`,
//!   demultiplexed by prefix, so every view advances with every revision of the log (a resource
//!   idle while others are written is still caught up, and its consistent reads come from
//!   memory). `pump` is the feed's task, `subscription` one view's stream of it.
//! - [`Views`] (here): starts a resource's view the first time it is used and shares it by storage
//!   prefix, so every served version of a resource (core/v1 and events.k8s.io/v1 `events` both
//!   live under `/events/`) reads one view. Every view, and the feed, stop when the server shuts
//!   down.
//!
//! # Data flow
//! ```text
//! Storage::watch("/") ─▶ pump ─▶ feed: ring + per-prefix channels + published position
//!   └▶ subscription (one per view) ─▶ View follower (watch crate) ─▶ GET / LIST / WATCH
//! ```

mod feed;
mod pump;
mod source;
mod subscription;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ::watch::{IndexedField, LogSource, View, ViewConfig};
use tokio::sync::watch as signal;

use super::Resource;
use crate::storage::Storage;
use feed::{FeedConfig, LogFeed};
pub use source::StorageSource;

/// The views of every watched resource, by storage prefix. Cheap to clone; clones share views.
#[derive(Clone)]
pub struct Views {
    inner: Arc<Inner>,
}

struct Inner {
    source: Arc<dyn LogSource>,
    config: ViewConfig,
    /// Flips to `true` on shutdown: every view stops, which ends its watchers' streams.
    shutdown: signal::Receiver<bool>,
    /// A std lock: held only to look up or start a view (which spawns and returns at once),
    /// never across an await.
    views: Mutex<HashMap<String, View>>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let views = self.inner.views.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Views")
            .field("config", &self.inner.config)
            .field("prefixes", &views.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Views {
    /// Views over `storage`, none started yet; all stop when `shutdown` flips to `true` (or its
    /// sender is dropped).
    pub fn new(
        storage: Arc<dyn Storage>,
        config: ViewConfig,
        shutdown: signal::Receiver<bool>,
    ) -> Views {
        let source = StorageSource::new(storage);
        let feed = LogFeed::new(source, FeedConfig::for_views(&config), shutdown.clone());
        let source: Arc<dyn LogSource> = Arc::new(feed);
        Views { inner: Arc::new(Inner { source, config, shutdown, views: Mutex::default() }) }
    }

    /// The view of `resource`'s storage prefix, started on first use, indexing watchers by every
    /// label and by the fields `resource`'s strategy declares indexable (the first served version
    /// used starts the view; versions sharing a prefix name their fields alike). Must be called on
    /// a Tokio runtime (a view runs one task).
    pub fn of(&self, resource: &Resource) -> View {
        let prefix = format!("{}/", resource.storage_prefix);
        let mut views = self.inner.views.lock().unwrap_or_else(PoisonError::into_inner);
        views
            .entry(prefix)
            .or_insert_with_key(|prefix| {
                let mut shutdown = self.inner.shutdown.clone();
                let stopped = async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                };
                let (source, mut config) = (self.inner.source.clone(), self.inner.config.clone());
                let fields = resource.strategy.indexed_fields().iter();
                config.indexed_fields = fields.map(|(n, p)| IndexedField::new(*n, *p)).collect();
                View::start(source, prefix.clone(), config, stopped)
            })
            .clone()
    }

    /// Every started view with its storage prefix, in prefix order (what `/metrics` reports).
    pub fn all(&self) -> Vec<(String, View)> {
        let views = self.inner.views.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<(String, View)> =
            views.iter().map(|(prefix, view)| (prefix.clone(), view.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The storage prefixes whose view has started.
    pub fn started(&self) -> Vec<String> {
        let views = self.inner.views.lock().unwrap_or_else(PoisonError::into_inner);
        let mut prefixes: Vec<String> = views.keys().cloned().collect();
        prefixes.sort();
        prefixes
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use tokio::time::Instant;

    use super::*;
    use crate::registry::{Registry, builtin};
    use crate::storage::embedded::EmbeddedStorage;
    use crate::storage::{Provenance, Verb};

    fn who() -> Provenance {
        Provenance::now("test", Verb::Create, "")
    }

    #[tokio::test]
    async fn versions_of_one_resource_share_a_view_and_shutdown_stops_it() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let registry = Registry::new();
        builtin::register_all(&registry);
        let (stop, stopped) = signal::channel(false);
        let views = Views::new(storage, ViewConfig::default(), stopped);
        let core = registry.get("", "v1", "events").unwrap();
        let events = registry.get("events.k8s.io", "v1", "events").unwrap();
        let view = views.of(&core);
        views.of(&events);
        assert_eq!(views.started(), ["/events/"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        view.wait_until(0, deadline).await.unwrap();
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), view.stopped()).await.unwrap();
    }

    /// The heart of the feed: a view whose prefix is idle still advances with the log.
    #[tokio::test]
    async fn the_view_of_an_idle_resource_reaches_the_head_of_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let registry = Registry::new();
        builtin::register_all(&registry);
        let (_stop, stopped) = signal::channel(false);
        let views = Views::new(storage.clone(), ViewConfig::default(), stopped);
        let leases = views.of(&registry.get("coordination.k8s.io", "v1", "leases").unwrap());
        let configmaps = views.of(&registry.get("", "v1", "configmaps").unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        leases.wait_until(0, deadline).await.unwrap();
        configmaps.wait_until(0, deadline).await.unwrap();
        for i in 0..5 {
            let key = format!("/configmaps/default/c{i}");
            storage.create(&key, Bytes::from_static(b"{}"), who()).await.unwrap();
        }
        let head = storage.current_revision().await.unwrap();
        leases.wait_until(head, deadline).await.unwrap();
        assert_eq!(leases.revision(), Some(head));
        assert_eq!(configmaps.catch_up(deadline).await.unwrap(), head);
        assert_eq!(configmaps.object_count(), Some(5));
    }
}
