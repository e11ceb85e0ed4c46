//! kube-apiserver's audit metrics (k8s.io/apiserver `audit/metrics.go`), recorded through the
//! `metrics` facade into the process-wide recorder of [`crate::metrics`]:
//! - `apiserver_audit_event_total`: events generated and handed to the backends (one per
//!   event, whichever backends take it — counted by [`super::Auditor::process`]);
//! - `apiserver_audit_error_total{plugin}`: events that failed to be audited: `buffered` when a
//!   sink's queue was full and the event was dropped, `log` when a line could not be written,
//!   `webhook` when a batch was not accepted after its retries;
//! - `apiserver_audit_level_total{level}`: the policy level of each request (one per request,
//!   [`observe_policy_level`]).
//!
//! `apiserver_audit_requests_rejected_total` is not exported: it counts requests refused
//! because a `blocking-strict` backend failed, and no backend here ever blocks a request.

use super::types::Level;

pub const EVENT_TOTAL: &str = "apiserver_audit_event_total";
pub const ERROR_TOTAL: &str = "apiserver_audit_error_total";
pub const LEVEL_TOTAL: &str = "apiserver_audit_level_total";

/// The `plugin` label of events a full sink dropped (kube's buffered backend).
pub const PLUGIN_BUFFERED: &str = "buffered";
pub const PLUGIN_LOG: &str = "log";
pub const PLUGIN_WEBHOOK: &str = "webhook";

/// One event generated and sent to the backends.
pub fn observe_event() {
    metrics::counter!(EVENT_TOTAL).increment(1);
}

/// The level the policy gave one request (call once per request, `None` included).
pub fn observe_policy_level(level: Level) {
    metrics::counter!(LEVEL_TOTAL, "level" => level.as_str()).increment(1);
}

/// `events` events that `plugin` failed to audit.
pub fn observe_errors(plugin: &'static str, events: usize) {
    metrics::counter!(ERROR_TOTAL, "plugin" => plugin).increment(events as u64);
}

/// Help texts, kube-apiserver's.
pub fn describe() {
    metrics::describe_counter!(
        EVENT_TOTAL,
        "Counter of audit events generated and sent to the audit backend."
    );
    metrics::describe_counter!(
        ERROR_TOTAL,
        "Counter of audit events that failed to be audited properly. Plugin identifies the \
         plugin affected by the error."
    );
    metrics::describe_counter!(
        LEVEL_TOTAL,
        "Counter of policy levels for audit events (1 per request)."
    );
}
