//! Command-line options. Flag names follow kube-apiserver's where the concept is the same
//! (`--etcd-servers`, `--etcd-prefix`), so operators can carry their habits over.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ::watch::ViewConfig;
use clap::Parser;

use crate::apiextensions::webhook::WebhookConfig;
use crate::filters::InflightLimits;
use crate::registry::builtin;
use crate::registry::runtime_config::{RuntimeConfig, RuntimeConfigError};
use crate::server::ConnectionConfig;
use crate::server::limits::DEFAULT_MAX_CONNECTIONS;
use crate::storage::embedded::EmbeddedStorage;
use crate::storage::etcd::{EtcdConfig, EtcdStorage};
use crate::storage::{Result, Storage};

#[derive(Debug, Clone, Parser)]
#[command(name = "kube-ledger", version, about)]
pub struct Options {
    /// Address to serve the API on. Plain HTTP, so loopback by default.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,

    /// Directory of the embedded store's database (and, later, the written kubeconfig).
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,

    /// etcd endpoints, comma separated (`http://127.0.0.1:2379,…`). When set, the log lives in
    /// etcd instead of the embedded store.
    #[arg(long, value_delimiter = ',')]
    pub etcd_servers: Vec<String>,

    /// Prefix of every key kube-ledger writes to etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,

    /// How long a storage request may take before it fails as unavailable.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub storage_request_timeout: Duration,

    /// How much history the log keeps: watches can resume, and history can be read, this far
    /// back. Older revisions are compacted.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub history_retention: Duration,

    /// How many recent events each resource's watch view keeps for watchers that resume; older
    /// resumes replay from the log. For tests and tuning.
    #[arg(long, default_value_t = ViewConfig::default().window_events, hide = true)]
    pub watch_window_events: usize,

    /// How often a watch that asked for bookmarks gets one (when its resource's revision moved).
    /// For tests.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, hide = true)]
    pub watch_bookmark_interval: Duration,

    /// Built-in APIs to turn on or off, as kube-apiserver's flag: comma-separated `key=value`
    /// (`key` alone means true). `<group>/<version>` (`v1` or `api/v1` for the core group) for a
    /// version, `<group>/<version>/<resource>` for one resource, `api/all`, `api/ga`, `api/beta`,
    /// `api/alpha` for many. Repeatable; a later value of a key wins. Stored objects are kept.
    #[arg(long, value_name = "KEY[=VALUE],...", value_parser = parse_runtime_config)]
    pub runtime_config: Vec<RuntimeConfig>,

    /// How long a CRD conversion webhook may take to answer one ConversionReview; the request
    /// that needed it then fails with a 500 Status (kube-apiserver waits 30 s).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub conversion_webhook_timeout: Duration,

    /// How many read requests (GET, LIST) may be served at once; one more is answered 429 with
    /// `Retry-After: 1`. Watches are not counted. 0 is unlimited.
    #[arg(long, default_value_t = InflightLimits::default().read_only)]
    pub max_requests_inflight: usize,

    /// How many mutating requests (create, update, patch, delete) may be served at once; one
    /// more is answered 429 with `Retry-After: 1`. 0 is unlimited.
    #[arg(long, default_value_t = InflightLimits::default().mutating)]
    pub max_mutating_requests_inflight: usize,

    /// Most client connections open at once. At the cap a new connection is let in by closing
    /// the one that has waited longest for a request, so health checks and API calls are still
    /// answered; it is refused only when every open connection is serving a request. Kept below
    /// the open-file limit (raised to the hard limit at start) minus 256 descriptors.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = positive_count)]
    pub max_connections: usize,

    /// How long a connection may wait for a request head — from connecting, or from its previous
    /// response — before it is closed (kube-apiserver's HTTP server: 32 s). For tests.
    #[arg(long, default_value = "32s", value_parser = positive_duration, hide = true)]
    pub request_header_timeout: Duration,
}

fn positive_count(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

fn positive_duration(text: &str) -> std::result::Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(Duration::ZERO) => Err("must be longer than zero".to_owned()),
        Ok(duration) => Ok(duration),
        Err(err) => Err(err.to_string()),
    }
}

/// One `--runtime-config` value, checked against the built-in resources.
fn parse_runtime_config(text: &str) -> std::result::Result<RuntimeConfig, RuntimeConfigError> {
    RuntimeConfig::parse(text, &builtin::known())
}

impl Options {
    /// Opens the backend the options select: etcd when `--etcd-servers` is given, else embedded.
    pub async fn open_storage(&self) -> Result<Arc<dyn Storage>> {
        if self.etcd_servers.is_empty() {
            let dir = self.data_dir.clone();
            let storage = tokio::task::spawn_blocking(move || EmbeddedStorage::open(&dir))
                .await
                .map_err(|e| crate::storage::StorageError::Internal(e.to_string()))??;
            Ok(Arc::new(storage))
        } else {
            let config = EtcdConfig {
                endpoints: self.etcd_servers.clone(),
                prefix: self.etcd_prefix.trim_end_matches('/').to_owned(),
                request_timeout: self.storage_request_timeout,
            };
            Ok(Arc::new(EtcdStorage::connect(config).await?))
        }
    }

    /// The configuration of the watch views.
    pub fn view_config(&self) -> ViewConfig {
        ViewConfig {
            window_events: self.watch_window_events,
            bookmark_interval: self.watch_bookmark_interval,
            ..ViewConfig::default()
        }
    }

    /// The settings of CRD conversion webhooks.
    /// `--max-requests-inflight` and `--max-mutating-requests-inflight`.
    pub fn inflight_limits(&self) -> InflightLimits {
        InflightLimits {
            read_only: self.max_requests_inflight,
            mutating: self.max_mutating_requests_inflight,
        }
    }

    pub fn webhook_config(&self) -> WebhookConfig {
        WebhookConfig { timeout: self.conversion_webhook_timeout }
    }

    /// How connections are treated: the header timeout and the connection cap.
    pub fn connection_config(&self) -> ConnectionConfig {
        ConnectionConfig {
            request_header_timeout: self.request_header_timeout,
            max_connections: self.max_connections,
        }
    }

    /// Every `--runtime-config` merged in the order given, and checked as a whole.
    pub fn runtime_config(&self) -> std::result::Result<RuntimeConfig, RuntimeConfigError> {
        let mut merged = RuntimeConfig::default();
        for value in &self.runtime_config {
            merged.merge(value.clone());
        }
        merged.validate()?;
        Ok(merged)
    }

    /// A one-word name of the selected backend, for logs.
    pub fn backend_name(&self) -> &'static str {
        if self.etcd_servers.is_empty() { "embedded" } else { "etcd" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::GroupVersion;

    fn options(args: &[&str]) -> std::result::Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("kube-ledger").chain(args.iter().copied()))
    }

    fn enabled(config: &RuntimeConfig, group: &str, version: &str, plural: &str) -> bool {
        config.enabled(&GroupVersion::new(group, version), plural)
    }

    #[test]
    fn runtime_config_defaults_to_serving_everything() {
        let config = options(&[]).unwrap().runtime_config().unwrap();
        assert!(config.is_empty());
        for (gv, plural) in builtin::known() {
            assert!(config.enabled(&gv, &plural), "{gv}/{plural}");
        }
    }

    #[test]
    fn runtime_config_values_merge_in_order() {
        let opts = options(&[
            "--runtime-config",
            "autoscaling/v1=false,apps/v1=false",
            "--runtime-config=apps/v1,v1/secrets=false",
        ])
        .unwrap();
        let config = opts.runtime_config().unwrap();
        assert!(!enabled(&config, "autoscaling", "v1", "horizontalpodautoscalers"));
        assert!(enabled(&config, "autoscaling", "v2", "horizontalpodautoscalers"));
        assert!(enabled(&config, "apps", "v1", "deployments"));
        assert!(!enabled(&config, "", "v1", "secrets"));
        assert!(enabled(&config, "", "v1", "configmaps"));
    }

    #[test]
    fn runtime_config_knows_every_built_in() {
        let opts = options(&[
            "--runtime-config",
            "api/all=false,v1,apps/v1/deployments,coordination.k8s.io/v1,events.k8s.io/v1=true",
        ])
        .unwrap();
        let config = opts.runtime_config().unwrap();
        assert!(enabled(&config, "", "v1", "pods"));
        assert!(enabled(&config, "apps", "v1", "deployments"));
        assert!(!enabled(&config, "autoscaling", "v2", "horizontalpodautoscalers"));
    }

    #[test]
    fn malformed_runtime_config_is_a_usage_error() {
        for (value, message) in [
            ("apps/v1=nope", "invalid value of apps/v1: nope"),
            ("apps", "runtime-config invalid key apps"),
            ("batch/v1=false", "unknown api groups batch"),
            ("apps/v1beta1=false", "group version apps/v1beta1 that has not been registered"),
            ("apps/v1/Deployments=false", "resource is always lowercase plural"),
            ("api/all=0", "invalid value api/all=0"),
        ] {
            let err = options(&["--runtime-config", value]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{value}");
            let text = err.to_string();
            assert!(text.contains("--runtime-config"), "{text}");
            assert!(text.contains(message), "{value}: {text}");
        }
    }

    #[test]
    fn connection_settings_default_to_kube_apiserver_s_and_refuse_zero() {
        let config = options(&[]).unwrap().connection_config();
        assert_eq!(config, ConnectionConfig::default());
        assert_eq!(config.request_header_timeout, Duration::from_secs(32));
        let set = options(&["--max-connections", "100", "--request-header-timeout", "1500ms"])
            .unwrap()
            .connection_config();
        assert_eq!((set.max_connections, set.request_header_timeout.as_millis()), (100, 1500));
        for bad in [["--max-connections", "0"], ["--request-header-timeout", "0s"]] {
            let err = options(&bad).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{bad:?}");
        }
    }

    #[test]
    fn api_all_false_alone_is_refused_after_merging() {
        let opts = options(&["--runtime-config", "api/all=false"]).unwrap();
        assert_eq!(opts.runtime_config(), Err(RuntimeConfigError::OnlyAllFalse));
        let opts =
            options(&["--runtime-config", "api/all=false", "--runtime-config", "v1"]).unwrap();
        assert!(opts.runtime_config().is_ok());
    }
}
