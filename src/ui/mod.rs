//! The history timeline page (issue 15): one HTML document, compiled into the binary, served at
//! [`PATH`]`/` behind the same filter chain as the API (authentication, then RBAC's
//! non-resource rule for the path, which the bootstrap role `kube-ledger:timeline-viewer` grants
//! every authenticated user).
//!
//! The page holds no data: its script reads the history API (docs/history.md) with the
//! browser's credentials — in practice through `kubectl proxy`, which adds the kubeconfig's — so
//! it shows exactly what the viewer may read. Data flows browser → API, never through here.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;

/// Where the page lives.
pub const PATH: &str = "/ledger/ui";

const TIMELINE: &str = include_str!("timeline.html");

/// What the page may do: its own inline script and style, requests to this server only, no
/// framing by other sites.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'";

/// `/ledger/ui` redirects to `/ledger/ui/`, which serves the page; anything below is the page
/// too, so a bookmarked deep link still loads it (the route itself is in the URL's fragment).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(PATH, get(|| async { Redirect::permanent("/ledger/ui/") }))
        .route(&format!("{PATH}/"), get(page))
        .route(&format!("{PATH}/{{*rest}}"), get(page))
}

async fn page() -> impl IntoResponse {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        TIMELINE,
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn call(path: &str) -> axum::response::Response {
        let router: Router = routes();
        router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn the_page_is_served_under_its_path_with_a_strict_policy() {
        for path in ["/ledger/ui/", "/ledger/ui/anything"] {
            let response = call(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert!(
                headers[header::CONTENT_SECURITY_POLICY]
                    .to_str()
                    .unwrap()
                    .contains("connect-src 'self'")
            );
        }
        let response = call("/ledger/ui").await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers()[header::LOCATION], "/ledger/ui/");
    }

    #[test]
    fn the_page_reads_the_history_api_it_documents() {
        for used in ["/history?limit=", "/history/diff?from=", "/apis/ledger.kube-ledger.io/v1"] {
            assert!(TIMELINE.contains(used), "{used}");
        }
    }
}
