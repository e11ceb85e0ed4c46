//! The HTTP server: the routes ([`routes`]), the connections they are served on ([`accept`],
//! [`connections`], [`limits`]), a graceful shutdown that ends watches cleanly, and what clients
//! need to reach it ([`kubeconfig`]).
//!
//! Start-up order ([`Server::start`]): register built-in resources over the open storage →
//! create the built-in namespaces → resume namespace cleanups → serve the stored CRDs (and
//! follow them); only then does the caller bind
//! and serve, so `/readyz` can only answer once storage is open and the namespaces exist. It
//! fails again as soon as shutdown begins.
//!
//! Serving ([`Server::serve_with`]): the accept loop admits each connection into the table of
//! open connections (at the cap, closing the one that has waited longest for a request), runs
//! its handshake and HTTP/1.1 or HTTP/2 on it, and marks it busy while a request is served; a
//! connection that waits for a request longer than the header timeout is closed.

mod accept;
pub mod connections;
mod kubeconfig;
pub mod limits;
mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use ::watch::ViewConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use self::connections::ConnectionConfig;
pub use self::kubeconfig::{client_url, write_kubeconfig};
use crate::api::ApiState;
use crate::apiextensions::webhook::WebhookConfig;
use crate::filters::InflightLimits;
use crate::metrics::Exporter;
use crate::metrics::storage::Instrumented;
use crate::registry::store::Store;
use crate::registry::views::Views;
use crate::registry::{Registry, RuntimeConfig, builtin, namespaces};
use crate::storage::Storage;

/// The Kubernetes version kube-ledger's API corresponds to (what `/version` reports).
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "33");

/// A running API server's parts, before it serves.
#[derive(Debug)]
pub struct Server {
    pub api: ApiState,
    storage: Arc<dyn Storage>,
    exporter: Arc<Exporter>,
    inflight_limits: InflightLimits,
}

impl Server {
    /// Registers the built-in resources over `storage` and makes the server ready, with the
    /// default watch views.
    pub async fn start(
        storage: Arc<dyn Storage>,
        server_address: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Server, crate::api::status::ApiError> {
        Self::start_with_views(storage, server_address, shutdown, ViewConfig::default()).await
    }

    /// [`Server::start`] with the given configuration of the watch views, which start lazily
    /// (one per watched resource) and stop when `shutdown` flips.
    pub async fn start_with_views(
        storage: Arc<dyn Storage>,
        server_address: SocketAddr,
        shutdown: watch::Receiver<bool>,
        views: ViewConfig,
    ) -> Result<Server, crate::api::status::ApiError> {
        let all = RuntimeConfig::default();
        let webhooks = WebhookConfig::default();
        Self::start_with_config(storage, server_address, shutdown, views, &all, webhooks).await
    }

    /// [`Server::start_with_views`] serving only the built-in resources `runtime_config`
    /// (`--runtime-config`) enables, calling CRD conversion webhooks with `webhooks`
    /// (`--conversion-webhook-timeout`).
    pub async fn start_with_config(
        storage: Arc<dyn Storage>,
        server_address: SocketAddr,
        shutdown: watch::Receiver<bool>,
        views: ViewConfig,
        runtime_config: &RuntimeConfig,
        webhooks: WebhookConfig,
    ) -> Result<Server, crate::api::status::ApiError> {
        let registry = Arc::new(Registry::new());
        builtin::register_enabled(&registry, runtime_config);
        crate::apiextensions::register(&registry);
        let storage = Instrumented::wrap(storage, registry.clone());
        let views = Views::new(storage.clone(), views, shutdown.clone());
        let exporter = Arc::new(Exporter::new(storage.clone(), registry.clone(), views.clone()));
        let store = Store::new(storage.clone(), registry.clone(), views);
        namespaces::ensure_built_in(&store).await?;
        namespaces::resume_terminating(&store).await?;
        // Stored CRDs are served again before the caller binds (and `/readyz` answers).
        crate::apiextensions::controller::start(store.clone(), shutdown.clone(), webhooks).await?;
        let api =
            ApiState { store, registry, shutdown, server_address: server_address.to_string() };
        let inflight_limits = InflightLimits::default();
        Ok(Server { api, storage, exporter, inflight_limits })
    }

    /// Serves with these in-flight limits (`--max-requests-inflight`,
    /// `--max-mutating-requests-inflight`) instead of kube-apiserver's defaults.
    pub fn with_inflight_limits(mut self, limits: InflightLimits) -> Server {
        self.inflight_limits = limits;
        self
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish, with the default
    /// connection settings.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_with(listener, ConnectionConfig::default(), shutdown).await
    }

    /// Serves until `shutdown` completes: stops accepting, closes the connections that wait for
    /// a request, lets in-flight requests finish (watches end on the same signal, through
    /// [`ApiState::shutdown`]) and returns when the last connection has closed.
    pub async fn serve_with(
        self,
        listener: TcpListener,
        config: ConnectionConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        accept::serve(listener, self.router(), config, shutdown).await
    }
}
