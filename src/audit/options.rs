//! kube-apiserver's audit flags, with its names and defaults, and what they start.
//!
//! Not here, on purpose: `--audit-log-mode`/`--audit-webhook-mode` (requests never wait for a
//! backend, so every backend runs as kube's `batch` mode does), `--audit-log-format=legacy`
//! (JSON only), `--audit-log-compress`, the `--audit-*-truncate-*` flags and
//! `--audit-*-version` (only `audit.k8s.io/v1` exists).

use std::path::PathBuf;
use std::time::Duration;

use super::log::rotate::{DEFAULT_MAX_SIZE, MEGABYTE, Rotation};
use super::sink::{BatchConfig, Throttle};
use super::webhook::{DEFAULT_INITIAL_BACKOFF, REQUEST_TIMEOUT, Retry};

/// Every audit flag. `#[command(flatten)]` it into the server's options.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct AuditOptions {
    /// `--audit-policy-file`: the audit.k8s.io/v1 Policy (YAML or JSON). Without it nothing is
    /// audited.
    #[arg(long = "audit-policy-file")]
    pub policy_file: Option<PathBuf>,

    /// `--audit-log-path`: the file audit events are written to as JSON lines; `-` for
    /// standard output. Without it there is no log backend.
    #[arg(long = "audit-log-path")]
    pub log_path: Option<String>,

    /// `--audit-log-maxage`: days to keep rotated audit logs (by the time in their names);
    /// 0 keeps them.
    #[arg(long = "audit-log-maxage", default_value_t = 0)]
    pub log_max_age: u32,

    /// `--audit-log-maxbackup`: rotated audit logs to keep; 0 keeps all.
    #[arg(long = "audit-log-maxbackup", default_value_t = 0)]
    pub log_max_backup: u32,

    /// `--audit-log-maxsize`: megabytes an audit log grows to before it is rotated; 0 means
    /// 100.
    #[arg(long = "audit-log-maxsize", default_value_t = 0)]
    pub log_max_size: u32,

    /// `--audit-log-batch-buffer-size`: events queued for the log before new ones are dropped
    /// (and counted).
    #[arg(long = "audit-log-batch-buffer-size", default_value_t = 10_000)]
    pub log_batch_buffer_size: usize,

    /// `--audit-webhook-config-file`: a kubeconfig naming the audit webhook. Without it there
    /// is no webhook backend.
    #[arg(long = "audit-webhook-config-file")]
    pub webhook_config_file: Option<PathBuf>,

    /// `--audit-webhook-initial-backoff`: the wait before a failed batch's first retry.
    #[arg(long = "audit-webhook-initial-backoff", default_value = "10s",
          value_parser = humantime::parse_duration)]
    pub webhook_initial_backoff: Duration,

    /// `--audit-webhook-batch-buffer-size`: events queued for the webhook before new ones are
    /// dropped (and counted).
    #[arg(long = "audit-webhook-batch-buffer-size", default_value_t = 10_000)]
    pub webhook_batch_buffer_size: usize,

    /// `--audit-webhook-batch-max-size`: events per webhook request at most.
    #[arg(long = "audit-webhook-batch-max-size", default_value_t = 400)]
    pub webhook_batch_max_size: usize,

    /// `--audit-webhook-batch-max-wait`: how long a partial batch waits before it is sent.
    #[arg(long = "audit-webhook-batch-max-wait", default_value = "30s",
          value_parser = humantime::parse_duration)]
    pub webhook_batch_max_wait: Duration,

    /// `--audit-webhook-batch-throttle-enable`: limit the rate of webhook requests.
    #[arg(long = "audit-webhook-batch-throttle-enable", default_value_t = true,
          action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub webhook_batch_throttle_enable: bool,

    /// `--audit-webhook-batch-throttle-qps`: webhook requests per second at most.
    #[arg(long = "audit-webhook-batch-throttle-qps", default_value_t = 10.0)]
    pub webhook_batch_throttle_qps: f64,

    /// `--audit-webhook-batch-throttle-burst`: webhook requests at once when the rate allows.
    #[arg(long = "audit-webhook-batch-throttle-burst", default_value_t = 15)]
    pub webhook_batch_throttle_burst: u32,
}

/// How many lines the log backend writes per flush at most (kube's blocking log mode writes
/// one per request; a queue drained in batches writes what has accumulated).
const LOG_BATCH_MAX_SIZE: usize = 1024;

/// Webhook batches being delivered (and retried) at once at most.
const WEBHOOK_MAX_IN_FLIGHT: usize = 16;

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            policy_file: None,
            log_path: None,
            log_max_age: 0,
            log_max_backup: 0,
            log_max_size: 0,
            log_batch_buffer_size: 10_000,
            webhook_config_file: None,
            webhook_initial_backoff: DEFAULT_INITIAL_BACKOFF,
            webhook_batch_buffer_size: 10_000,
            webhook_batch_max_size: 400,
            webhook_batch_max_wait: Duration::from_secs(30),
            webhook_batch_throttle_enable: true,
            webhook_batch_throttle_qps: 10.0,
            webhook_batch_throttle_burst: 15,
        }
    }
}

impl AuditOptions {
    /// kube-apiserver's checks of the batch flags, one message per problem.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.log_batch_buffer_size == 0 {
            problems.push("--audit-log-batch-buffer-size must be a positive number".into());
        }
        if self.webhook_config_file.is_some() {
            if self.webhook_batch_buffer_size == 0 {
                problems.push("--audit-webhook-batch-buffer-size must be a positive number".into());
            }
            if self.webhook_batch_max_size == 0 {
                problems.push("--audit-webhook-batch-max-size must be a positive number".into());
            }
            if self.webhook_batch_throttle_enable {
                if self.webhook_batch_throttle_qps.is_nan()
                    || self.webhook_batch_throttle_qps <= 0.0
                {
                    problems.push(
                        "--audit-webhook-batch-throttle-qps must be a positive number".into(),
                    );
                }
                if self.webhook_batch_throttle_burst == 0 {
                    problems.push(
                        "--audit-webhook-batch-throttle-burst must be a positive number".into(),
                    );
                }
            }
        }
        problems
    }

    /// The log file's rotation.
    pub fn rotation(&self) -> Rotation {
        Rotation {
            max_size: match self.log_max_size {
                0 => DEFAULT_MAX_SIZE,
                megabytes => u64::from(megabytes) * MEGABYTE,
            },
            max_backups: self.log_max_backup as usize,
            max_age: match self.log_max_age {
                0 => None,
                days => Some(Duration::from_secs(u64::from(days) * 86_400)),
            },
        }
    }

    /// The log backend's queue: in order, no waiting.
    pub fn log_batch(&self) -> BatchConfig {
        BatchConfig {
            buffer_size: self.log_batch_buffer_size,
            max_batch_size: LOG_BATCH_MAX_SIZE,
            max_batch_wait: Duration::ZERO,
            throttle: None,
            max_in_flight: 1,
        }
    }

    /// The webhook backend's queue (kube's batch defaults).
    pub fn webhook_batch(&self) -> BatchConfig {
        BatchConfig {
            buffer_size: self.webhook_batch_buffer_size,
            max_batch_size: self.webhook_batch_max_size,
            max_batch_wait: self.webhook_batch_max_wait,
            throttle: self.webhook_batch_throttle_enable.then_some(Throttle {
                qps: self.webhook_batch_throttle_qps,
                burst: self.webhook_batch_throttle_burst,
            }),
            max_in_flight: WEBHOOK_MAX_IN_FLIGHT,
        }
    }

    pub fn webhook_retry(&self) -> Retry {
        Retry { initial_backoff: self.webhook_initial_backoff, request_timeout: REQUEST_TIMEOUT }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        audit: AuditOptions,
    }

    #[test]
    fn the_defaults_are_kube_apiservers() {
        let parsed = Flags::try_parse_from(["kube-ledger"]).unwrap().audit;
        assert_eq!(parsed, AuditOptions::default());
        assert!(parsed.validate().is_empty());
        assert_eq!(
            parsed.rotation(),
            Rotation { max_size: 100 << 20, max_backups: 0, max_age: None }
        );
    }

    #[test]
    fn flags_take_kube_apiservers_names_and_forms() {
        let parsed = Flags::try_parse_from([
            "kube-ledger",
            "--audit-policy-file=/etc/policy.yaml",
            "--audit-log-path=-",
            "--audit-log-maxage=7",
            "--audit-log-maxbackup=3",
            "--audit-log-maxsize=5",
            "--audit-webhook-config-file=/etc/webhook.kubeconfig",
            "--audit-webhook-batch-max-wait=5s",
            "--audit-webhook-batch-throttle-enable=false",
            "--audit-webhook-initial-backoff=1m",
        ])
        .unwrap()
        .audit;
        assert_eq!(parsed.log_path.as_deref(), Some("-"));
        assert_eq!(
            parsed.rotation(),
            Rotation {
                max_size: 5 << 20,
                max_backups: 3,
                max_age: Some(Duration::from_secs(7 * 86_400))
            }
        );
        let batch = parsed.webhook_batch();
        assert_eq!((batch.max_batch_size, batch.max_batch_wait), (400, Duration::from_secs(5)));
        assert!(batch.throttle.is_none());
        assert_eq!(parsed.webhook_retry().initial_backoff, Duration::from_secs(60));
    }

    #[test]
    fn bad_batch_flags_are_named() {
        let parsed = Flags::try_parse_from([
            "kube-ledger",
            "--audit-webhook-config-file=/x",
            "--audit-webhook-batch-max-size=0",
            "--audit-webhook-batch-throttle-qps=0",
        ])
        .unwrap()
        .audit;
        let problems = parsed.validate();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("--audit-webhook-batch-max-size"));
        assert!(problems[1].contains("--audit-webhook-batch-throttle-qps"));
    }
}
