//! Scrape-time metrics of the materialized views and the log: each view's revision, its lag
//! behind the log head, its object count, and its counters (`watch::ViewMetrics`, plain atomics
//! the `watch` crate keeps without a metrics library), published as `ledger_view_…`,
//! `apiserver_storage_objects` and `apiserver_terminated_watchers_total`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use metrics::{counter, gauge};

use super::group_resource;
use crate::registry::Registry;
use crate::registry::views::Views;
use crate::storage::Storage;

#[derive(Debug)]
pub(super) struct ViewGauges {
    storage: Arc<dyn Storage>,
    registry: Arc<Registry>,
    views: Views,
    /// When each view (by prefix) was last seen at the log head.
    caught_up: Mutex<HashMap<String, Instant>>,
}

impl ViewGauges {
    pub(super) fn new(storage: Arc<dyn Storage>, registry: Arc<Registry>, views: Views) -> Self {
        ViewGauges { storage, registry, views, caught_up: Mutex::default() }
    }

    pub(super) async fn refresh(&self) {
        let head = self.storage.current_revision().await.ok();
        if let Some(head) = head {
            gauge!("ledger_log_head_revision").set(head as f64);
        }
        if let Ok(compacted) = self.storage.compacted_revision().await {
            gauge!("ledger_log_compacted_revision").set(compacted as f64);
        }
        let now = Instant::now();
        let mut caught_up = self.caught_up.lock().unwrap_or_else(PoisonError::into_inner);
        for (prefix, view) in self.views.all() {
            let (group, plural) = self.resource_of(&prefix);
            let resource = group_resource(&group, &plural);
            let metrics = view.metrics();
            let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
            counter!("ledger_view_relists_total", "resource" => resource.clone())
                .absolute(load(&metrics.relists));
            counter!("ledger_view_log_resumes_total", "resource" => resource.clone())
                .absolute(load(&metrics.log_resumes));
            counter!("ledger_watch_encodings_total", "resource" => resource.clone(), "result" => "encoded")
                .absolute(load(&metrics.encode_misses));
            counter!("ledger_watch_encodings_total", "resource" => resource.clone(), "result" => "reused")
                .absolute(load(&metrics.encode_hits));
            counter!("ledger_watch_index_skips_total", "resource" => resource.clone())
                .absolute(load(&metrics.index_skipped));
            counter!("apiserver_terminated_watchers_total", "group" => group, "resource" => plural)
                .absolute(load(&metrics.terminated_watchers));
            if let Some(count) = view.object_count() {
                gauge!("apiserver_storage_objects", "resource" => resource.clone())
                    .set(count as f64);
            }
            let Some(revision) = view.revision() else { continue };
            gauge!("ledger_view_revision", "resource" => resource.clone()).set(revision as f64);
            let Some(head) = head else { continue };
            let behind = (head - revision).max(0);
            gauge!("ledger_view_lag_revisions", "resource" => resource.clone()).set(behind as f64);
            let seconds = if behind == 0 {
                caught_up.insert(prefix, now);
                0.0
            } else {
                let since = *caught_up.entry(prefix).or_insert(now);
                now.duration_since(since).as_secs_f64()
            };
            gauge!("ledger_view_lag_seconds", "resource" => resource).set(seconds);
        }
    }

    /// The group and plural served from a storage prefix (`/deployments/` → `apps`,
    /// `deployments`); the prefix itself when no served resource uses it.
    fn resource_of(&self, prefix: &str) -> (String, String) {
        let key = prefix.trim_end_matches('/');
        match self.registry.resource_at(key) {
            Some(resource) => (resource.gv.group.clone(), resource.plural.clone()),
            None => (String::new(), key.trim_start_matches('/').to_owned()),
        }
    }
}
