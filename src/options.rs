//! Command-line options. Flag names follow kube-apiserver's where the concept is the same
//! (`--etcd-servers`, `--etcd-prefix`), so operators can carry their habits over.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ::watch::ViewConfig;
use clap::Parser;

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

    /// A one-word name of the selected backend, for logs.
    pub fn backend_name(&self) -> &'static str {
        if self.etcd_servers.is_empty() { "embedded" } else { "etcd" }
    }
}
