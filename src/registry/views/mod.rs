//! The watch views of the served resources: one [`View`] (from the `watch` crate) per storage
//! prefix, fed by ONE storage watch, from which every WATCH of that resource is served.
//!
//! [`StorageSource`] is the adapter the `watch` crate asks for: it reads the log through the
//! [`Storage`] trait and speaks the crate's own types ([`LogEntry`], [`SourceItem`],
//! [`SourceError`]). [`Views`] starts a resource's view the first time it is watched and shares it
//! by storage prefix, so every served version of a resource (core/v1 and events.k8s.io/v1 `events`
//! both live under `/events/`) reads one view. Every view stops when the server shuts down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ::watch::{
    EntryKind, LogEntry, LogSource, SourceError, SourceItem, SourceStream, StoredObject, View,
    ViewConfig,
};
use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use tokio::sync::watch as signal;

use super::Resource;
use crate::storage::{Event, EventType, ListOptions, Object, Storage, StorageError, WatchItem};

/// Objects per storage page when a view lists its prefix.
const LIST_PAGE: usize = 500;

/// The log as the `watch` crate reads it: the [`Storage`] trait, mapped to the crate's types.
#[derive(Debug, Clone)]
pub struct StorageSource {
    storage: Arc<dyn Storage>,
}

impl StorageSource {
    pub fn new(storage: Arc<dyn Storage>) -> StorageSource {
        StorageSource { storage }
    }
}

impl LogSource for StorageSource {
    fn current_revision(&self) -> BoxFuture<'_, Result<i64, SourceError>> {
        Box::pin(async move { self.storage.current_revision().await.map_err(source_error) })
    }

    /// Reads page after page, every page at the first page's revision, so the result is one
    /// consistent snapshot however large the prefix.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        at: Option<i64>,
    ) -> BoxFuture<'a, Result<(Vec<StoredObject>, i64), SourceError>> {
        Box::pin(async move {
            let mut objects = Vec::new();
            let mut revision = at;
            let mut start_after = None;
            loop {
                let options = ListOptions { revision, limit: Some(LIST_PAGE), start_after };
                let page = self.storage.list(prefix, options).await.map_err(source_error)?;
                revision = Some(page.revision);
                start_after = page.next_start().map(str::to_owned);
                objects.extend(page.objects.into_iter().map(stored_object));
                if start_after.is_none() {
                    return Ok((objects, page.revision));
                }
            }
        })
    }

    fn watch(&self, prefix: &str, after: i64) -> SourceStream {
        let (storage, prefix) = (self.storage.clone(), prefix.to_owned());
        stream::once(async move { storage.watch(&prefix, after).await })
            .flat_map(|started| match started {
                Ok(items) => items.map(|item| item.map(source_item).map_err(source_error)).boxed(),
                // A failure to start is the stream's first and only item.
                Err(err) => stream::iter([Err(source_error(err))]).boxed(),
            })
            .boxed()
    }
}

fn source_error(err: StorageError) -> SourceError {
    match err {
        StorageError::Compacted { requested, compacted } => {
            SourceError::Compacted { requested, oldest: compacted }
        }
        StorageError::Unavailable(detail) => SourceError::Unavailable(detail),
        other => SourceError::Other(other.to_string()),
    }
}

fn source_item(item: WatchItem) -> SourceItem {
    match item {
        WatchItem::Event(event) => SourceItem::Entry(log_entry(event)),
        WatchItem::Progress(revision) => SourceItem::Progress(revision),
    }
}

fn log_entry(event: Event) -> LogEntry {
    let Event { revision, event_type, key, object, prev_object, provenance: _ } = event;
    let create_revision =
        object.as_ref().or(prev_object.as_ref()).map_or(0, |o: &Object| o.create_revision);
    LogEntry {
        revision,
        key: key.into(),
        kind: match event_type {
            EventType::Created => EntryKind::Created,
            EventType::Updated => EntryKind::Updated,
            EventType::Deleted => EntryKind::Deleted,
        },
        value: object.map(|o| o.value),
        prev_value: prev_object.map(|o| o.value),
        create_revision,
    }
}

fn stored_object(object: Object) -> StoredObject {
    let Object { key, value, create_revision, mod_revision } = object;
    StoredObject { key: key.into(), value, create_revision, mod_revision }
}

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
        let source: Arc<dyn LogSource> = Arc::new(StorageSource::new(storage));
        Views { inner: Arc::new(Inner { source, config, shutdown, views: Mutex::default() }) }
    }

    /// The view of `resource`'s storage prefix, started on first use. Must be called on a Tokio
    /// runtime (a view runs one task).
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
                let (source, config) = (self.inner.source.clone(), self.inner.config.clone());
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
    async fn list_reads_every_page_at_one_revision_and_watch_maps_events() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        for i in 0..(LIST_PAGE + 3) {
            let key = format!("/things/ns/t{i:04}");
            storage.create(&key, Bytes::from_static(b"{}"), who()).await.unwrap();
        }
        let source = StorageSource::new(storage.clone());
        let head = source.current_revision().await.unwrap();
        let (objects, revision) = source.list("/things/", None).await.unwrap();
        assert_eq!((objects.len(), revision), (LIST_PAGE + 3, head));
        assert!(objects.windows(2).all(|w| w[0].key < w[1].key));

        let mut log = source.watch("/things/", head - 1);
        let Some(Ok(SourceItem::Entry(entry))) = log.next().await else { panic!("an entry") };
        assert_eq!((entry.revision, entry.kind), (head, EntryKind::Created));
        assert_eq!(&*entry.key, "/things/ns/t0502");

        storage.compact(head).await.unwrap();
        let mut expired = source.watch("/things/", 1);
        assert!(matches!(expired.next().await, Some(Err(SourceError::Compacted { .. }))));
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
}
