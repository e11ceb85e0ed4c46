//! The in-flight limit filter (kube-apiserver's `--max-requests-inflight` and
//! `--max-mutating-requests-inflight`): at most so many reads and so many writes are served at
//! once; one more is answered at once with a 429 `TooManyRequests` Status and `Retry-After: 1`,
//! which client-go, kube-rs and kubectl retry. Watches are long-running and not counted. As in
//! kube-apiserver, a member of `system:masters` (the super-admin, and loopback clients) is served
//! even when no slot is free: it always gets an answer.
//!
//! Flow: [`RequestInfo`] (from the request-info filter) → read or mutating slot → next filter;
//! the slot is released when the response (head and whole body, for these short requests) has
//! been produced.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::request_info::RequestInfo;
use crate::api::status::{ApiError, Reason};
use crate::authn::UserInfo;

/// The group whose members are never refused for lack of a slot (k8s.io/apiserver's
/// `user.SystemPrivilegedGroup`).
const SYSTEM_PRIVILEGED_GROUP: &str = "system:masters";

/// The two limits; `0` is unlimited, as in kube-apiserver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InflightLimits {
    /// `--max-requests-inflight` (kube's default: 400).
    pub read_only: usize,
    /// `--max-mutating-requests-inflight` (kube's default: 200).
    pub mutating: usize,
}

impl Default for InflightLimits {
    fn default() -> Self {
        InflightLimits { read_only: 400, mutating: 200 }
    }
}

/// The filter's state: one semaphore per kind of request.
#[derive(Debug, Clone)]
pub struct Inflight {
    read_only: Option<Arc<Semaphore>>,
    mutating: Option<Arc<Semaphore>>,
}

impl Inflight {
    pub fn new(limits: InflightLimits) -> Self {
        let slots = |limit: usize| (limit > 0).then(|| Arc::new(Semaphore::new(limit)));
        Inflight { read_only: slots(limits.read_only), mutating: slots(limits.mutating) }
    }
}

/// The filter: `axum::middleware::from_fn_with_state(Inflight::new(limits), inflight::limit)`.
/// Runs after the request-info filter; a request without a [`RequestInfo`] counts as mutating.
pub async fn limit(State(inflight): State<Inflight>, request: Request, next: Next) -> Response {
    let info = request.extensions().get::<RequestInfo>();
    if info.is_some_and(RequestInfo::is_long_running) {
        return next.run(request).await;
    }
    let read_only = info.is_some_and(|info| info.verb.is_read_only());
    let slots = if read_only { &inflight.read_only } else { &inflight.mutating };
    let Some(slots) = slots else { return next.run(request).await };
    let Ok(_slot) = slots.clone().try_acquire_owned() else {
        let privileged = request
            .extensions()
            .get::<UserInfo>()
            .is_some_and(|user| user.groups.iter().any(|group| group == SYSTEM_PRIVILEGED_GROUP));
        if privileged {
            return next.run(request).await;
        }
        return too_many_requests().into_response();
    };
    next.run(request).await
}

/// kube-apiserver's answer when the limit is reached.
fn too_many_requests() -> ApiError {
    let mut error =
        ApiError::new(Reason::TooManyRequests, "Too many requests, please try again later.");
    error.retry_after_seconds = Some(1);
    error
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Method, StatusCode, header};
    use axum::routing::any;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    /// A router whose handler waits for `release` on `/slow…` paths: requests that stay in
    /// flight as long as the test wants.
    fn router(limits: InflightLimits, release: Arc<Notify>) -> Router {
        let handler = move |request: Request| {
            let release = release.clone();
            async move {
                if request.uri().path().contains("slow") {
                    release.notified().await;
                }
                StatusCode::OK
            }
        };
        Router::new()
            .fallback(any(handler))
            .layer(axum::middleware::from_fn_with_state(Inflight::new(limits), limit))
            .layer(axum::middleware::from_fn(super::super::request_info::classify))
    }

    fn request(method: Method, uri: &str) -> Request {
        Request::builder().method(method).uri(uri).body(Body::empty()).unwrap()
    }

    /// `request` as a user of `groups` (what authentication puts in the extensions).
    fn request_as(method: Method, uri: &str, groups: &[&str]) -> Request {
        let mut request = request(method, uri);
        let user = UserInfo {
            name: "someone".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            ..UserInfo::default()
        };
        request.extensions_mut().insert(user);
        request
    }

    /// Sends `make()` until one is refused (the slow request holds its slot once its handler
    /// runs; until then another may still get through): the refusal, or `None` after 1,000.
    async fn first_refused(app: &Router, make: impl Fn() -> Request) -> Option<Response> {
        for _ in 0..1000 {
            let response = app.clone().oneshot(make()).await.unwrap();
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                return Some(response);
            }
            tokio::task::yield_now().await;
        }
        None
    }

    #[tokio::test]
    async fn a_read_over_the_limit_is_429_while_writes_and_watches_go_on() {
        let release = Arc::new(Notify::new());
        let limits = InflightLimits { read_only: 1, mutating: 1 };
        let app = router(limits, release.clone());
        let slow = tokio::spawn(app.clone().oneshot(request(Method::GET, "/api/v1/slow")));
        let refused = first_refused(&app, || request(Method::GET, "/api/v1/configmaps")).await;
        let refused = refused.expect("a second read while the first is in flight is refused");
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(refused.into_body(), 4096).await.unwrap();
        let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status["reason"], "TooManyRequests");
        assert_eq!(status["code"], 429);
        assert_eq!(status["message"], "Too many requests, please try again later.");
        assert_eq!(status["details"]["retryAfterSeconds"], 1);

        let write = app.clone().oneshot(request(Method::POST, "/api/v1/namespaces/a/configmaps"));
        assert_eq!(write.await.unwrap().status(), StatusCode::OK, "writes have their own slots");
        let watch = app.clone().oneshot(request(Method::GET, "/api/v1/configmaps?watch=1"));
        assert_eq!(watch.await.unwrap().status(), StatusCode::OK, "watches are not counted");

        release.notify_one();
        assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::OK);
        let again = app.oneshot(request(Method::GET, "/api/v1/configmaps")).await.unwrap();
        assert_eq!(again.status(), StatusCode::OK, "the slot is released with the response");
    }

    #[tokio::test]
    async fn a_write_over_the_limit_is_429_and_zero_is_unlimited() {
        let release = Arc::new(Notify::new());
        let app = router(InflightLimits { read_only: 0, mutating: 1 }, release.clone());
        let slow = tokio::spawn(app.clone().oneshot(request(Method::PUT, "/api/v1/slow/x")));
        let refused = first_refused(&app, || request(Method::DELETE, "/api/v1/x")).await;
        assert!(refused.is_some(), "a second write while the first is in flight is refused");
        let reads = (0..50).map(|_| app.clone().oneshot(request(Method::GET, "/api/v1/pods")));
        for read in futures::future::join_all(reads).await {
            assert_eq!(read.unwrap().status(), StatusCode::OK, "0 means no read limit");
        }
        release.notify_one();
        assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn system_masters_are_served_when_no_slot_is_free() {
        let release = Arc::new(Notify::new());
        let app = router(InflightLimits { read_only: 1, mutating: 1 }, release.clone());
        let slow = tokio::spawn(app.clone().oneshot(request(Method::PUT, "/api/v1/slow/x")));
        let other = || request_as(Method::DELETE, "/api/v1/x", &["system:authenticated"]);
        let refused = first_refused(&app, other).await;
        assert!(refused.is_some(), "another user's write while the only slot is held is refused");
        let admin = request_as(Method::DELETE, "/api/v1/x", &["system:masters"]);
        assert_eq!(app.clone().oneshot(admin).await.unwrap().status(), StatusCode::OK);
        release.notify_one();
        assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}
