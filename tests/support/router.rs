//! The API router in-process (no sockets) over a fresh embedded store: what the router tests
//! send requests to. The whole filter chain runs, with every request authenticated as the admin
//! user (`kubernetes-admin` in `system:masters`) and authorized by AlwaysAllow, so router tests
//! keep testing the API rather than the security policy.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use kube_ledger::filters::Security;
use kube_ledger::registry::Registry;
use kube_ledger::server::Server;
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Api {
    pub router: Router,
    pub storage: Arc<dyn Storage>,
    pub registry: Arc<Registry>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::watch::Sender<bool>,
}

pub async fn api() -> Api {
    api_with(None).await
}

/// The router authorizing with `--authorization-mode=<mode>` (`None`: everything allowed).
pub async fn api_with(authorization_mode: Option<&str>) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut server = Server::start(storage.clone(), "127.0.0.1:6443".parse().unwrap(), stopped)
        .await
        .unwrap()
        .with_security(Security::fixed(Security::admin_user()));
    if let Some(mode) = authorization_mode {
        let config = kube_ledger::authz::AuthorizationConfig::parse(mode).unwrap();
        server = server.with_authorization(&config).await.unwrap();
    }
    Api {
        router: server.router(),
        storage,
        registry: server.api.registry.clone(),
        _dir: dir,
        _stop: stop,
    }
}

impl Api {
    /// Sends a request; the status and the body as bytes, exactly as written.
    pub async fn call_raw(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, bytes.to_vec())
    }

    /// Sends a request as `user`; see [`call_as`].
    pub async fn call_as(
        &self,
        user: Option<&kube_ledger::authn::UserInfo>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call_as(&self.router, user, method, uri, body).await
    }

    /// Sends a request; the status and the body as JSON (`null` if it is not JSON).
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let (status, bytes) = self.call_raw(method, uri, content_type, body).await;
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn post(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, uri, "application/json", body.to_string().into_bytes()).await
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.call(Method::GET, uri, "", vec![]).await
    }

    pub async fn delete(&self, uri: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, uri, "", vec![]).await
    }
}

pub const CMS: &str = "/api/v1/namespaces/default/configmaps";

pub fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

/// Asserts a Status error with this code and reason.
pub fn assert_status(got: &(StatusCode, Value), code: u16, reason: &str) {
    assert_eq!(got.0.as_u16(), code, "{}", got.1);
    assert_eq!(got.1["kind"], "Status", "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert_eq!(got.1["reason"], reason, "{}", got.1);
}

/// Sends a JSON request to `router` as `user` (put in the request's extensions, where the
/// authentication filter puts the effective user; `None`: no user, i.e. anonymous); the status
/// and the body as JSON (`null` if it is not JSON).
pub async fn call_as(
    router: &Router,
    user: Option<&kube_ledger::authn::UserInfo>,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    // The in-process chain authenticates as the user already in the extensions: `None` is an
    // anonymous request.
    let user = user.cloned().unwrap_or_else(kube_ledger::authn::UserInfo::anonymous);
    request.extensions_mut().insert(user);
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The answer to one request: status, body as JSON (`Null` when not JSON), `Warning` headers.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub warnings: Vec<String>,
}

/// Sends `body` (JSON, or nothing) with `content_type` through `router`.
pub async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    content_type: &str,
    body: Option<Value>,
) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), warnings }
}
