//! The HTTP server: health and version endpoints, the Kubernetes API under `/api` and `/apis`,
//! gzip for large responses, and a graceful shutdown that ends watches cleanly.
//!
//! Start-up order ([`Server::start`]): register built-in resources over the open storage →
//! create the built-in namespaces → resume namespace cleanups → serve the stored CRDs (and
//! follow them); only then does the caller bind
//! and serve, so `/readyz` can only answer once storage is open and the namespaces exist. It
//! fails again as soon as shutdown begins.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::watch::ViewConfig;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;

use crate::api::{ApiState, handlers, openapi};
use crate::apiextensions::webhook::WebhookConfig;
use crate::filters::{self, InflightLimits};
use crate::metrics::Exporter;
use crate::metrics::storage::Instrumented;
use crate::registry::store::Store;
use crate::registry::views::Views;
use crate::registry::{Registry, RuntimeConfig, builtin, namespaces};
use crate::storage::Storage;

/// The Kubernetes version kube-ledger's API corresponds to (what `/version` reports).
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "33");

/// Shared by the health endpoints.
#[derive(Debug, Clone)]
struct Health {
    storage: Arc<dyn Storage>,
    /// Set on shutdown: readiness fails first, so load balancers drain.
    stopping: watch::Receiver<bool>,
}

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

    pub fn router(&self) -> Router {
        let health = Health { storage: self.storage.clone(), stopping: self.api.shutdown.clone() };
        let health_routes = Router::new()
            .route("/healthz", get(livez))
            .route("/livez", get(livez))
            .route("/readyz", get(readyz))
            .with_state(health);
        let api_routes = Router::new()
            .route("/api", any(handlers::serve))
            .route("/api/{*rest}", any(handlers::serve))
            .route("/apis", any(handlers::serve))
            .route("/apis/{*rest}", any(handlers::serve))
            .route("/openapi/v3", get(openapi::serve_index))
            .route("/openapi/v3/{*path}", get(openapi::serve_document))
            .with_state(self.api.clone());
        let metrics_route =
            Router::new().route("/metrics", get(serve_metrics)).with_state(self.exporter.clone());
        let routes = Router::new()
            .route("/version", get(version))
            .merge(health_routes)
            .merge(api_routes)
            .merge(metrics_route)
            .fallback(not_found);
        filters::chain(routes, self.api.registry.clone(), self.inflight_limits)
            .layer(CompressionLayer::new().gzip(true).compress_when(LargeBodies))
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // `into_make_service` resolves the routes once; serving the `Router` itself would rebuild
        // its route table for every connection (~5 KiB each: thousands of watch connections).
        axum::serve(listener, self.router().into_make_service())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Compress only bodies of known size over 128 KiB (kube-apiserver's threshold): never a watch
/// stream, whose events must not wait in a compressor's buffer.
#[derive(Debug, Clone, Copy)]
struct LargeBodies;

impl Predicate for LargeBodies {
    fn should_compress<B: http_body::Body>(&self, response: &Response<B>) -> bool {
        response.body().size_hint().exact().is_some_and(|size| size >= 128 * 1024)
    }
}

async fn livez(State(health): State<Health>) -> (StatusCode, &'static str) {
    match health.storage.current_revision().await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(err) => {
            tracing::warn!(%err, "health check: storage unavailable");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "[-]etcd failed: storage unavailable\nhealthz check failed\n",
            )
        }
    }
}

async fn readyz(State(health): State<Health>) -> (StatusCode, &'static str) {
    if *health.stopping.borrow() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "[-]shutdown failed: server is shutting down\nreadyz check failed\n",
        );
    }
    livez(State(health)).await
}

async fn version() -> impl IntoResponse {
    let (major, minor) = KUBERNETES_VERSION;
    axum::Json(json!({
        "major": major,
        "minor": minor,
        "gitVersion": format!("v{major}.{minor}.0-ledger+{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a (Rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
    }))
}

/// Prometheus text format 0.0.4, as kube-apiserver serves it.
async fn serve_metrics(State(exporter): State<Arc<Exporter>>) -> impl IntoResponse {
    let text = exporter.render().await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

async fn not_found() -> Response<Body> {
    crate::api::status::ApiError::no_such_path().into_response()
}

/// Writes a kubeconfig for `server` (an `http://` URL) to `<data_dir>/kubeconfig`; returns its
/// absolute path.
pub fn write_kubeconfig(data_dir: &Path, server: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(data_dir)?;
    let path = std::path::absolute(data_dir.join("kubeconfig"))?;
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-ledger\n  cluster:\n    server: {server}\n\
         contexts:\n- name: kube-ledger\n  context:\n    cluster: kube-ledger\n    user: kube-ledger\n    namespace: default\n\
         current-context: kube-ledger\nusers:\n- name: kube-ledger\n  user: {{}}\n"
    );
    std::fs::write(&path, config)?;
    Ok(path)
}

/// The URL clients use for a listening address: loopback when bound to all interfaces.
pub fn client_url(address: SocketAddr) -> String {
    let ip = if address.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        address.ip()
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}
