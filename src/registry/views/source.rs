//! [`StorageSource`]: the [`Storage`] trait as the `watch` crate's [`LogSource`] — storage events
//! become [`LogEntry`]s, progress items [`SourceItem::Progress`], storage errors [`SourceError`]s.
//! Data flows up: from the log to the feed ([`super::feed`]), which hands it to the views.

use std::sync::Arc;

use ::watch::{
    EntryKind, LogEntry, LogSource, SourceError, SourceItem, SourceStream, StoredObject,
};
use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};

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

    /// The oldest revision the log can still be read or watched from.
    pub async fn compacted_revision(&self) -> Result<i64, SourceError> {
        self.storage.compacted_revision().await.map_err(source_error)
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
        stream::once(async move { storage.watch_changes(&prefix, after).await })
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
        // A watch is a read, so its backend reports Unavailable; either way the view resumes.
        StorageError::Unavailable(detail) | StorageError::OutcomeUnknown(detail) => {
            SourceError::Unavailable(detail)
        }
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
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
}
