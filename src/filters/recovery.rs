//! The panic-recovery filter, outermost of the chain: a handler that panics answers 500 with an
//! `InternalError` Status (and a log line with the panic), the connection and the server go on,
//! as kube-apiserver's `WithPanicRecovery`. Nothing half-written is acknowledged: a panic before
//! the storage write stores nothing, and one after it answers 500 for a write the log holds, as
//! any lost response would.

use std::any::Any;

use axum::body::Body;
use axum::http::Response;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;

use crate::api::status::ApiError;

/// What a panic becomes.
type Answer = fn(Box<dyn Any + Send>) -> Response<Body>;

/// The filter's layer.
pub fn layer() -> CatchPanicLayer<Answer> {
    CatchPanicLayer::custom(answer as Answer)
}

fn answer(panic: Box<dyn Any + Send>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    metrics::counter!("ledger_http_panics_total").increment(1);
    ApiError::internal("This request caused apiserver to panic. Look in the logs for details.")
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_an_internal_error_status() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let app = Router::new().route("/boom", get(boom)).route("/ok", get(|| async { "ok" }));
        let app = app.layer(layer());
        let request = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request("/boom")).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status["kind"].as_str(), status["reason"].as_str()),
            (Some("Status"), Some("InternalError"))
        );
        let after = app.oneshot(request("/ok")).await.unwrap();
        assert_eq!(after.status(), StatusCode::OK, "the service goes on after a panic");
    }
}
