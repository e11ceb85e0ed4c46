//! kube-apiserver's admission webhook metrics (k8s.io/apiserver `admission/metrics`), recorded
//! through the `metrics` facade into the process-wide recorder of [`crate::metrics`]:
//! - `apiserver_admission_webhook_admission_duration_seconds{name, type, operation, rejected}`:
//!   how long each call took (`type` is `admit` for mutating webhooks, `validating` for the
//!   others);
//! - `apiserver_admission_webhook_request_total{name, type, operation, code, rejected}`: calls,
//!   by the HTTP status of the answer (0 when there was none);
//! - `apiserver_admission_webhook_rejection_count{name, type, operation, error_type,
//!   rejection_code}`: writes a webhook refused (`no_error`) or that failed closed because it
//!   could not be called (`calling_webhook_error`);
//! - `apiserver_admission_webhook_fail_open_count{name, type}`: calls that failed under
//!   `failurePolicy: Ignore`.

use std::time::Duration;

pub const DURATION: &str = "apiserver_admission_webhook_admission_duration_seconds";
pub const REQUESTS: &str = "apiserver_admission_webhook_request_total";
pub const REJECTIONS: &str = "apiserver_admission_webhook_rejection_count";
pub const FAIL_OPEN: &str = "apiserver_admission_webhook_fail_open_count";

/// kube-apiserver's buckets for webhook latencies.
pub const DURATION_BUCKETS: [f64; 8] = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10.0, 25.0];

/// One call and how it ended.
pub fn observe(
    name: &str,
    step: &'static str,
    operation: &'static str,
    rejected: bool,
    code: u16,
    elapsed: Duration,
) {
    let rejected = if rejected { "true" } else { "false" };
    let labels = [
        ("name", name.to_owned()),
        ("type", step.to_owned()),
        ("operation", operation.to_owned()),
        ("rejected", rejected.to_owned()),
    ];
    metrics::histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
    let labels = [
        ("name", name.to_owned()),
        ("type", step.to_owned()),
        ("operation", operation.to_owned()),
        ("code", code.to_string()),
        ("rejected", rejected.to_owned()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
}

/// A write refused by a webhook (`no_error`) or by its failure (`calling_webhook_error`).
pub fn rejected(
    name: &str,
    step: &'static str,
    operation: &'static str,
    error_type: &'static str,
    code: u16,
) {
    let labels = [
        ("name", name.to_owned()),
        ("type", step.to_owned()),
        ("operation", operation.to_owned()),
        ("error_type", error_type.to_owned()),
        ("rejection_code", code.to_string()),
    ];
    metrics::counter!(REJECTIONS, &labels).increment(1);
}

/// A failed call admitted under `failurePolicy: Ignore`.
pub fn failed_open(name: &str, step: &'static str) {
    let labels = [("name", name.to_owned()), ("type", step.to_owned())];
    metrics::counter!(FAIL_OPEN, &labels).increment(1);
}
