//! Prometheus metrics: what `/metrics` serves, under kube-apiserver's names where the concept is
//! the same (see `docs/metrics.md` for the catalogue).
//!
//! Metrics are recorded through the `metrics` facade where they happen — requests in [`http`],
//! storage calls in [`storage`], watch streams in `crate::api::watch`, group commits in the
//! embedded writer — into ONE process-wide recorder ([`install`]). Values that are state rather
//! than events (view revisions and lag, object counts, process CPU and memory) are read when
//! `/metrics` is scraped, by [`Exporter::render`], which then renders everything as Prometheus
//! text.

pub mod history;
pub mod http;
mod process;
pub mod storage;
mod views;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::admission::webhook::metrics as webhook;
use crate::registry::Registry;
use crate::registry::views::Views;
use crate::storage::Storage;

/// kube-apiserver's buckets for request and etcd latencies, in seconds.
const LATENCY_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

/// kube-apiserver's `apiserver_response_sizes` buckets: 1 kB to 1 GB by ×10.
const RESPONSE_SIZE_BUCKETS: [f64; 7] = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// kube-apiserver's `apiserver_watch_events_sizes` buckets: 1 KiB to 128 KiB by ×2.
const WATCH_EVENT_SIZE_BUCKETS: [f64; 8] =
    [1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0, 65536.0, 131072.0];

/// Writes per committed transaction.
const BATCH_SIZE_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Append latencies: finer than the request buckets at the low end, where fsyncs live.
const APPEND_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use. Several servers in one process (tests)
/// share it; if another recorder was installed first, nothing is recorded and `/metrics` serves
/// only what [`Exporter::render`] reads itself.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let histograms: [(&str, &[f64]); 8] = [
            ("apiserver_request_duration_seconds", &LATENCY_BUCKETS),
            (crate::api::history::DURATION, &LATENCY_BUCKETS),
            ("etcd_request_duration_seconds", &LATENCY_BUCKETS),
            ("apiserver_response_sizes", &RESPONSE_SIZE_BUCKETS),
            ("apiserver_watch_events_sizes", &WATCH_EVENT_SIZE_BUCKETS),
            ("ledger_append_batch_size", &BATCH_SIZE_BUCKETS),
            ("ledger_append_duration_seconds", &APPEND_BUCKETS),
            (webhook::DURATION, &webhook::DURATION_BUCKETS),
        ];
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in histograms {
            // Fails only for an empty bucket list; these are non-empty constants.
            builder = builder
                .set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
                .unwrap_or_else(|_| PrometheusBuilder::new());
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be sparse");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
        if let Err(err) = spawned {
            tracing::warn!(%err, "no metrics upkeep thread; histograms are folded at scrapes only");
        }
        handle
    })
}

/// Help texts, shown as `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "apiserver_request_total",
        "Counter of apiserver requests broken out for each verb, dry run value, group, version, \
         resource, scope, component, and HTTP response code."
    );
    describe_histogram!(
        "apiserver_request_duration_seconds",
        metrics::Unit::Seconds,
        "Response latency distribution in seconds for each verb, dry run value, group, version, \
         resource, subresource, scope and component."
    );
    describe_histogram!(
        "apiserver_response_sizes",
        metrics::Unit::Bytes,
        "Response size distribution in bytes for each group, version, verb, resource, \
         subresource, scope and component."
    );
    describe_gauge!(
        "apiserver_current_inflight_requests",
        "Maximal number of currently used inflight request limit of this apiserver per request \
         kind in last second."
    );
    describe_gauge!(
        "apiserver_longrunning_requests",
        "Gauge of all active long-running apiserver requests broken out by verb, group, version, \
         resource, scope and component."
    );
    describe_gauge!(
        "apiserver_registered_watchers",
        "Number of currently registered watchers for a given resources"
    );
    describe_counter!("apiserver_watch_events_total", "Number of events sent in watch clients");
    describe_histogram!(
        "apiserver_watch_events_sizes",
        metrics::Unit::Bytes,
        "Watch event size distribution in bytes (one sample per encoding, which all watchers of \
         that encoding share)"
    );
    describe_counter!(
        "apiserver_terminated_watchers_total",
        "Counter of watchers closed due to unresponsiveness broken by resource type."
    );
    describe_gauge!(
        "apiserver_storage_objects",
        "Number of stored objects at the time of last check split by kind."
    );
    describe_histogram!(
        "etcd_request_duration_seconds",
        metrics::Unit::Seconds,
        "Storage request latency in seconds for each operation and object type (either backend)."
    );
    describe_counter!("ledger_storage_errors_total", "Storage calls that failed, by error kind.");
    describe_gauge!("ledger_log_head_revision", "The newest revision of the event log.");
    describe_gauge!(
        "ledger_log_compacted_revision",
        "History at or below this revision has been compacted away."
    );
    describe_gauge!(
        "ledger_history_retained_revisions",
        "Revisions between the oldest readable revision and the head (history kept)."
    );
    describe_gauge!(
        "ledger_history_retained_seconds",
        metrics::Unit::Seconds,
        "Age of the oldest retained event: how far back history can be read."
    );
    describe_counter!(
        "ledger_replay_events_total",
        "Events streamed by history replays (the replay endpoint), by backend."
    );
    describe_histogram!("ledger_append_batch_size", "Writes committed by one transaction.");
    describe_histogram!(
        "ledger_append_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a write's submission to its acknowledgement by the log."
    );
    describe_counter!(
        "ledger_watch_log_replays_total",
        "Watches resumed from before the view's window, served by replaying the log."
    );
    describe_counter!(
        "ledger_watch_encodings_total",
        "Watch event encodings computed (encoded) or served from the shared cache (reused)."
    );
    describe_counter!(
        "ledger_watch_index_skips_total",
        "Event hand-overs the watch index saved (watchers whose selector requires another value)."
    );
    describe_gauge!("ledger_http_open_connections", "Client connections open now.");
    describe_counter!(
        "ledger_http_connections_closed_total",
        "Client connections closed, by reason (done, error, request_header_timeout, evicted, \
         refused, shutdown)."
    );
    describe_counter!(
        "apiserver_tls_handshake_errors_total",
        "Number of requests dropped with 'TLS handshake error from' error"
    );
    describe_counter!(
        "ledger_http_accept_errors_total",
        "Accepting a connection failed for want of descriptors or memory (the server backed off)."
    );
    describe_gauge!("ledger_view_revision", "The revision a materialized view has applied.");
    describe_gauge!(
        "ledger_view_lag_revisions",
        "Log head revision minus the view's revision, at scrape time."
    );
    describe_gauge!(
        "ledger_view_lag_seconds",
        "Seconds since the view was last seen caught up with the log head (0 when caught up)."
    );
    describe_counter!("ledger_view_relists_total", "Times a view re-read its whole prefix.");
    describe_counter!(
        "ledger_view_log_resumes_total",
        "Times a view re-opened its log subscription after it failed."
    );
    describe_counter!(
        crate::api::history::REQUESTS,
        "Requests to the history subresource, by operation (list, get, diff, blame, restore) and \
         HTTP code."
    );
    describe_histogram!(
        crate::api::history::DURATION,
        metrics::Unit::Seconds,
        "Time to answer a request to the history subresource, by operation."
    );
    crate::audit::metrics::describe();
}

/// What `/metrics` serves: the recorded metrics plus the state read at scrape time and the
/// process metrics.
#[derive(Debug)]
pub struct Exporter {
    handle: &'static PrometheusHandle,
    views: views::ViewGauges,
}

impl Exporter {
    pub fn new(storage: Arc<dyn Storage>, registry: Arc<Registry>, views: Views) -> Exporter {
        Exporter { handle: install(), views: views::ViewGauges::new(storage, registry, views) }
    }

    /// Refreshes the scrape-time gauges and renders every metric as Prometheus text (0.0.4).
    pub async fn render(&self) -> String {
        self.views.refresh().await;
        let mut text = self.handle.render();
        text.push_str(&process::render());
        text
    }
}

/// kube-apiserver's `resource.group` form of a resource name: `configmaps`, `deployments.apps`.
pub fn group_resource(group: &str, plural: &str) -> String {
    if group.is_empty() { plural.to_owned() } else { format!("{plural}.{group}") }
}
