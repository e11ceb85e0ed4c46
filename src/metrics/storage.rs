//! Storage metrics: [`Instrumented`] wraps any [`Storage`] and times every call into
//! `etcd_request_duration_seconds{operation,type}` (kube-apiserver's name, kept for both backends
//! so its dashboards work), counts failures in `ledger_storage_errors_total`, times writes from
//! submission to acknowledgement in `ledger_append_duration_seconds`, keeps
//! `ledger_log_head_revision` at the newest revision it has seen, and counts the events replays
//! stream in `ledger_replay_events_total`.
//!
//! Calls flow through unchanged: the registry calls `Instrumented`, which calls the backend.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use metrics::{counter, gauge, histogram};

use super::group_resource;
use crate::registry::Registry;
use crate::storage::{
    Deleted, Event, EventStream, ListOptions, ListPage, Object, Provenance, Result, Revision,
    Storage, StorageError, WatchStream,
};

/// A [`Storage`] that records metrics of every call to the one it wraps.
#[derive(Debug)]
pub struct Instrumented {
    inner: Arc<dyn Storage>,
    /// Names the resource of a key, for the `type` label.
    registry: Arc<Registry>,
    /// The newest revision seen, for `ledger_log_head_revision`.
    head: AtomicI64,
}

impl Instrumented {
    pub fn wrap(inner: Arc<dyn Storage>, registry: Arc<Registry>) -> Arc<dyn Storage> {
        // Served from the start, at 0 until a replay streams (dashboards rate() it).
        super::install();
        counter!("ledger_replay_events_total", "backend" => inner.backend_name()).increment(0);
        Arc::new(Instrumented { inner, registry, head: AtomicI64::new(0) })
    }

    /// kube-apiserver's `type` label: the resource of `key`, in `resource.group` form.
    fn type_of(&self, key: &str) -> String {
        let key = key.trim_end_matches('/');
        match self.registry.resource_at(key) {
            Some(resource) => group_resource(&resource.gv.group, &resource.plural),
            None => String::new(),
        }
    }

    fn saw_revision(&self, revision: Revision) {
        let newest = self.head.fetch_max(revision, Ordering::Relaxed).max(revision);
        gauge!("ledger_log_head_revision").set(newest as f64);
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        key: &str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        let result = call.await;
        let seconds = start.elapsed().as_secs_f64();
        histogram!("etcd_request_duration_seconds", "operation" => operation, "type" => self.type_of(key))
            .record(seconds);
        if matches!(operation, "create" | "update" | "delete") {
            let backend = self.inner.backend_name();
            histogram!("ledger_append_duration_seconds", "backend" => backend).record(seconds);
        }
        if let Err(err) = &result {
            counter!("ledger_storage_errors_total", "operation" => operation, "error" => error_kind(err))
                .increment(1);
        }
        result
    }
}

/// A short, bounded name for an error: the `error` label.
fn error_kind(err: &StorageError) -> &'static str {
    match err {
        StorageError::AlreadyExists { .. } => "already_exists",
        StorageError::NotFound { .. } => "not_found",
        StorageError::Conflict { .. } => "conflict",
        StorageError::Compacted { .. } => "compacted",
        StorageError::FutureRevision { .. } => "future_revision",
        StorageError::InvalidKey { .. } => "invalid_key",
        StorageError::ValueTooLarge { .. } => "value_too_large",
        StorageError::Unavailable(_) => "unavailable",
        StorageError::OutcomeUnknown(_) => "outcome_unknown",
        StorageError::Internal(_) => "internal",
    }
}

#[async_trait]
impl Storage for Instrumented {
    async fn create(&self, key: &str, value: Bytes, who: Provenance) -> Result<Object> {
        let object = self.timed("create", key, self.inner.create(key, value, who)).await?;
        self.saw_revision(object.mod_revision);
        Ok(object)
    }

    async fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        who: Provenance,
    ) -> Result<Object> {
        let call = self.inner.update(key, expected, value, who);
        let object = self.timed("update", key, call).await?;
        self.saw_revision(object.mod_revision);
        Ok(object)
    }

    async fn delete(&self, key: &str, expected: Revision, who: Provenance) -> Result<Deleted> {
        let deleted = self.timed("delete", key, self.inner.delete(key, expected, who)).await?;
        self.saw_revision(deleted.revision);
        Ok(deleted)
    }

    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<Object>> {
        self.timed("get", key, self.inner.get(key, revision)).await
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListPage> {
        self.timed("list", prefix, self.inner.list(prefix, options)).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        self.timed("watch", prefix, self.inner.watch(prefix, after)).await
    }

    async fn watch_changes(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        self.timed("watch", prefix, self.inner.watch_changes(prefix, after)).await
    }

    async fn current_revision(&self) -> Result<Revision> {
        let revision = self.timed("current_revision", "", self.inner.current_revision()).await?;
        self.saw_revision(revision);
        Ok(revision)
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        self.timed("compacted_revision", "", self.inner.compacted_revision()).await
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.timed("compact", "", self.inner.compact(revision)).await
    }

    async fn history(&self, key: &str) -> Result<Vec<Event>> {
        self.timed("history", key, self.inner.history(key)).await
    }

    async fn history_page(&self, key: &str, after: Revision, limit: usize) -> Result<Vec<Event>> {
        self.timed("history", key, self.inner.history_page(key, after, limit)).await
    }

    /// Times opening the replay; counts its events in `ledger_replay_events_total` as they go
    /// out, so the counter's rate is the replay throughput.
    async fn replay(&self, prefix: &str, from: Revision, to: Revision) -> Result<EventStream> {
        let stream = self.timed("replay", prefix, self.inner.replay(prefix, from, to)).await?;
        let streamed =
            counter!("ledger_replay_events_total", "backend" => self.inner.backend_name());
        Ok(stream
            .inspect(move |item| {
                if item.is_ok() {
                    streamed.increment(1)
                }
            })
            .boxed())
    }

    async fn revision_at(&self, timestamp_micros: i64) -> Result<Option<Revision>> {
        self.timed("revision_at", "", self.inner.revision_at(timestamp_micros)).await
    }

    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
}
