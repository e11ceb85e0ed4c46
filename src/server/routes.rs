//! The routes: health (`/healthz`, `/livez`, `/readyz`: [`super::health`]), `/version`, `/metrics`, the Kubernetes
//! API under `/api` and `/apis`, the OpenAPI documents, the history timeline page
//! (`/ledger/ui/`), and gzip for large bodies. Everything else is a 404 `Status`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;

use super::health::Health;
use super::{KUBERNETES_VERSION, Server};
use crate::api::{handlers, issuer_discovery, openapi};
use crate::authn::oidc;
use crate::filters;
use crate::metrics::Exporter;

impl Server {
    /// Every route, behind the filter chain (`crate::filters`) and gzip for large bodies.
    pub fn router(&self) -> Router {
        let health = Health {
            storage: self.storage.clone(),
            views: self.api.store.views.clone(),
            stopping: self.api.shutdown.clone(),
        };
        let health_routes = super::health::routes(health);
        let api_routes = Router::new()
            // With and without a trailing slash, as go-restful routes kube-apiserver's paths.
            .route("/api", any(handlers::serve))
            .route("/api/", any(handlers::serve))
            .route("/api/{*rest}", any(handlers::serve))
            .route("/apis", any(handlers::serve))
            .route("/apis/", any(handlers::serve))
            .route("/apis/{*rest}", any(handlers::serve))
            .route(oidc::OPENID_CONFIG_PATH, get(issuer_discovery::openid_configuration))
            .route(oidc::JWKS_PATH, get(issuer_discovery::jwks))
            .route("/openapi/v2", get(openapi::serve_v2))
            .route("/openapi/v3", get(openapi::serve_v3_index))
            .route("/openapi/v3/{*path}", get(openapi::serve_v3_document))
            .with_state(self.api.clone());
        let metrics_route =
            Router::new().route("/metrics", get(serve_metrics)).with_state(self.exporter.clone());
        let routes = Router::new()
            .route("/version", get(version))
            .route("/version/", get(version))
            .merge(health_routes)
            .merge(api_routes)
            .merge(metrics_route)
            .merge(crate::ui::routes())
            .fallback(not_found);
        filters::chain(routes, self.api.registry.clone(), self.inflight_limits, &self.security)
            .layer(CompressionLayer::new().gzip(true).compress_when(LargeBodies))
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
