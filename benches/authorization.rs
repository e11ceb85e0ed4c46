//! What authorization costs on the request path: the same requests through the in-process
//! router of two servers in the same run — `--authorization-mode=AlwaysAllow` and `RBAC` (the
//! bootstrap policy, plus a Role and RoleBinding letting the user get and create ConfigMaps in
//! `default`; the user is not in `system:masters`, so every request is decided by RBAC, from the
//! decision cache after the first) — and the ratio RBAC / AlwaysAllow.
//!
//! Run: `cargo bench --bench authorization` (add `-- --seconds 5` for longer cases). Cases
//! alternate between the two servers, three rounds, the best of each kept.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use kube_ledger::authn::UserInfo;
use kube_ledger::authz::AuthorizationConfig;
use kube_ledger::filters::Security;
use kube_ledger::server::Server;
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Value, json};
use tower::ServiceExt;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const CONCURRENCY: usize = 16;

struct Target {
    router: Router,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn call(
    router: &Router,
    user: &UserInfo,
    method: Method,
    uri: &str,
    body: Option<&Value>,
) -> StatusCode {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.map(Value::to_string).unwrap_or_default()))
        .unwrap();
    request.extensions_mut().insert(user.clone());
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    status
}

async fn target(mode: &str, user: &UserInfo) -> Target {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped)
        .await
        .unwrap()
        // Each request's user comes from its extensions (see `call`).
        .with_security(Security::fixed(Security::admin_user()))
        .with_authorization(&AuthorizationConfig::parse(mode).unwrap())
        .await
        .unwrap();
    let router = server.router();
    let admin = UserInfo::new("admin", &["system:masters"]);
    let rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default";
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "cm"}, "rules": [{"apiGroups": [""], "resources": ["configmaps"],
        "verbs": ["get", "create"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "cm"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role", "name": "cm"}, "subjects": [{"kind": "User", "name": &user.name}]});
    call(&router, &admin, Method::POST, &format!("{rbac}/roles"), Some(&role)).await;
    call(&router, &admin, Method::POST, &format!("{rbac}/rolebindings"), Some(&binding)).await;
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}, "data": {"k": "v"}});
    call(&router, &admin, Method::POST, CMS, Some(&cm)).await;
    // Wait until the binding is in effect.
    for _ in 0..400 {
        if call(&router, user, Method::GET, &format!("{CMS}/one"), None).await == StatusCode::OK {
            return Target { router, _dir: dir, _stop: stop };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{mode}: the user never got access");
}

/// Requests per second of `CONCURRENCY` tasks getting one ConfigMap, or creating ConfigMaps.
async fn measure(
    router: &Router,
    user: &UserInfo,
    seconds: f64,
    create: bool,
    round: usize,
) -> f64 {
    let (router, user) = (router.clone(), user.clone());
    support::rate(CONCURRENCY, seconds, move |task, n| {
        let (router, user) = (router.clone(), user.clone());
        async move {
            let status = if create {
                let name = format!("c-{round}-{task}-{n}");
                let cm =
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
                call(&router, &user, Method::POST, CMS, Some(&cm)).await
            } else {
                call(&router, &user, Method::GET, &format!("{CMS}/one"), None).await
            };
            assert!(status.is_success(), "{status}");
        }
    })
    .await
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(3.0);
    let user = UserInfo::new("alice", &["system:authenticated"]);
    let open = target("AlwaysAllow", &user).await;
    let rbac = target("RBAC", &user).await;
    println!("requests/s, in-process router, {CONCURRENCY} tasks, {seconds} s per case, best of 3");
    for (name, create) in [("GET one ConfigMap", false), ("create ConfigMap", true)] {
        let (mut best_open, mut best_rbac) = (0f64, 0f64);
        for round in 0..3 {
            best_open = best_open.max(measure(&open.router, &user, seconds, create, round).await);
            best_rbac = best_rbac.max(measure(&rbac.router, &user, seconds, create, round).await);
        }
        println!(
            "{name:<20} AlwaysAllow {best_open:>9.0}   RBAC {best_rbac:>9.0}   ratio {:.3}",
            best_rbac / best_open
        );
    }
}
