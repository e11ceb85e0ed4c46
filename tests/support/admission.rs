//! A server in-process for admission tests: its API router (configurations and policies are
//! written through it), and an `admission::Chain` of the plugins under test built over the
//! server's own registry and views, so what the plugins read is what the API stored. Tests drive
//! the chain directly when they need other users, dry runs or a recorded audit event.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use kube_ledger::admission::{Chain, Plugin};
use kube_ledger::registry::Registry;
use kube_ledger::registry::views::Views;
use kube_ledger::server::Server;
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::Value;
use tokio::sync::watch;

pub use super::router::Answer;

pub struct AdmissionApi {
    pub router: axum::Router,
    pub registry: Arc<Registry>,
    pub views: Views,
    pub chain: Chain,
    _dir: tempfile::TempDir,
    _stop: watch::Sender<bool>,
}

impl AdmissionApi {
    /// A fresh embedded server; `plugins` makes the chain's plugins from its registry and views.
    pub async fn start(plugins: impl FnOnce(Arc<Registry>, Views) -> Vec<Arc<dyn Plugin>>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let (stop, stopped) = watch::channel(false);
        let server =
            Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped).await.unwrap();
        let registry = server.api.registry.clone();
        let views = server.api.store.views.clone();
        let chain = Chain::new(plugins(registry.clone(), views.clone()));
        AdmissionApi { router: server.router(), registry, views, chain, _dir: dir, _stop: stop }
    }

    /// Sends `body` (JSON) with `content_type` through the router.
    pub async fn call_as(
        &self,
        method: &str,
        uri: &str,
        content_type: &str,
        body: Option<Value>,
    ) -> Answer {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        super::router::send(&self.router, method, uri, content_type, body).await
    }

    /// Waits until the view of `group`/v1 `plural` has every write made so far.
    pub async fn synced(&self, group: &str, plural: &str) {
        let resource = self.registry.get(group, "v1", plural).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        self.views.of(&resource).catch_up(deadline).await.unwrap();
    }
}
