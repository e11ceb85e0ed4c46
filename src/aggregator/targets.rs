//! Where a remote APIService's requests go, resolved once per revision of what it is resolved
//! from.
//!
//! Resolving a request's target reads the APIService (its `Available` condition, `service`,
//! `caBundle` or `insecureSkipTLSVerify`), its Service and the Service's endpoints
//! ([`super::resolve`]: EndpointSlices, else Endpoints), and finds the APIService's pooled client
//! ([`super::transport`]). [`Targets::route`] does that once and keeps the outcome with the
//! resourceVersions of those objects; a later request only looks them up again in the views —
//! the `Arc`s the views hold, no copy, as kube-aggregator reads its informers' listers — and
//! resolves anew when one differs: any write to the APIService (its status included), its
//! Service, one of its EndpointSlices or its Endpoints. While a view is not loaded yet nothing
//! is kept and every request resolves.
//!
//! The lookups see the views as they are (a lister's freshness); resolving reads consistently,
//! so a kept outcome is never older than the revisions it is kept under, and a write the views
//! have not shown yet is seen at the next request after they do.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::resolve::{self, SERVICE_NAME_LABEL, ServiceRef};
use super::transport::{Transports, Trust, UpstreamClient};
use crate::registry::Resource;
use crate::registry::builtin::apiservices::{available_condition, name_of};
use crate::registry::store::Store;

/// Where one remote APIService's requests go.
#[derive(Debug)]
pub struct Target {
    /// The APIService's name, for messages.
    pub api_service: String,
    pub address: SocketAddr,
    pub client: UpstreamClient,
}

/// A remote APIService's requests: proxied to the target, or a 503 for the reason given (logged,
/// never shown).
pub type Route = Result<Arc<Target>, String>;

/// The resourceVersions a route was resolved from (0: the object did not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inputs {
    api_service: i64,
    service: i64,
    endpoints: i64,
    /// The Service's EndpointSlices: (key, resourceVersion), in key order.
    slices: Vec<(Arc<str>, i64)>,
}

/// A route and what it was resolved from.
struct Kept {
    inputs: Inputs,
    route: Route,
}

/// The kept routes, by APIService name (remote APIServices only).
#[derive(Default)]
pub struct Targets {
    kept: RwLock<HashMap<String, Arc<Kept>>>,
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Targets").field("kept", &kept.keys().collect::<Vec<_>>()).finish()
    }
}

/// What a lookup in the views found of the APIService.
enum Looked {
    /// No remote APIService of that name (none, or a local one).
    NotRemote,
    /// The revisions a kept route must match.
    Remote(Inputs),
    /// A view cannot answer yet.
    Unknown,
}

impl Targets {
    /// The route of `group`/`version`'s requests; `None` when no remote APIService names it
    /// (this server answers, or 404s, them).
    pub async fn route(
        &self,
        store: &Store,
        transports: &Transports,
        group: &str,
        version: &str,
    ) -> Option<Route> {
        let name = name_of(group, version);
        let inputs = match look_up(store, &name) {
            Looked::NotRemote => {
                self.kept.write().unwrap_or_else(|e| e.into_inner()).remove(&name);
                return None;
            }
            Looked::Remote(inputs) => Some(inputs),
            Looked::Unknown => None,
        };
        if let Some(inputs) = &inputs {
            let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = kept.get(&name)
                && found.inputs == *inputs
            {
                return Some(found.route.clone());
            }
        }
        let route = resolve_route(store, transports, &name).await?;
        if let Some(inputs) = inputs {
            let kept = Arc::new(Kept { inputs, route: route.clone() });
            self.kept.write().unwrap_or_else(|e| e.into_inner()).insert(name, kept);
        }
        Some(route)
    }

    /// Forgets the routes of APIServices not in `names` (deleted ones).
    pub fn retain(&self, names: &[String]) {
        let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
        kept.retain(|name, _| names.contains(name));
    }
}

/// The resource of `group`/v1 `plural`, when served.
fn served(store: &Store, group: &str, plural: &str) -> Option<Arc<Resource>> {
    store.registry.get(group, "v1", plural)
}

/// The revisions of the APIService `name` and of what it resolves through, from the views.
fn look_up(store: &Store, name: &str) -> Looked {
    let Some(api_services) = served(store, "apiregistration.k8s.io", "apiservices") else {
        return Looked::NotRemote;
    };
    match store.views.of(&api_services).get(&api_services.key(None, name)) {
        Ok(None) => Looked::NotRemote,
        Ok(Some(object)) => match ServiceRef::of(&object.json) {
            None => Looked::NotRemote,
            Some(service) => inputs_of(store, object.mod_revision, &service)
                .map_or(Looked::Unknown, Looked::Remote),
        },
        Err(_) => Looked::Unknown,
    }
}

/// The revisions of `service`, its Endpoints and its EndpointSlices; `None` when a view cannot
/// answer.
fn inputs_of(store: &Store, api_service: i64, service: &ServiceRef) -> Option<Inputs> {
    let namespace = Some(service.namespace.as_str());
    let revision = |resource: Arc<Resource>| {
        let found = store.views.of(&resource).get(&resource.key(namespace, &service.name)).ok()?;
        Some(found.map_or(0, |object| object.mod_revision))
    };
    let of_service = |json: &Value| {
        let label = json.pointer("/metadata/labels").and_then(|l| l.get(SERVICE_NAME_LABEL));
        label.and_then(Value::as_str) == Some(service.name.as_str())
    };
    let slices = served(store, "discovery.k8s.io", "endpointslices")?;
    let (slices, _) = store.views.of(&slices).list(namespace, &of_service).ok()?;
    Some(Inputs {
        api_service,
        service: revision(served(store, "", "services")?)?,
        endpoints: revision(served(store, "", "endpoints")?)?,
        slices: slices.iter().map(|s| (s.key.clone(), s.mod_revision)).collect(),
    })
}

/// Resolves the APIService `name`'s route from consistent reads; `None` when it is not remote.
async fn resolve_route(store: &Store, transports: &Transports, name: &str) -> Option<Route> {
    let resource = served(store, "apiregistration.k8s.io", "apiservices")?;
    let api_service = store.get(&resource, None, name, None).await.ok()?;
    let service = ServiceRef::of(&api_service)?;
    let target = async {
        let status = available_condition(&api_service).and_then(|c| c.get("status"));
        if status.and_then(Value::as_str) == Some("False") {
            return Err(format!("APIService {name} is not available"));
        }
        let trust = Trust::of(&api_service).map_err(|e| format!("APIService {name}: {e}"))?;
        let address = resolve::endpoint(store, &service)
            .await
            .map_err(|e| format!("APIService {name}: {e}"))?;
        let client = transports.client(name, &trust, &service.server_name())?;
        Ok(Arc::new(Target { api_service: name.to_owned(), address, client }))
    };
    Some(target.await)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::sync::watch as signal;

    use super::*;
    use crate::registry::store::{DeleteOptions, Operation};
    use crate::registry::views::Views;
    use crate::registry::{Registry, builtin, namespaces};
    use crate::storage::Verb;
    use crate::storage::embedded::EmbeddedStorage;

    struct Fixture {
        store: Store,
        transports: Transports,
        targets: Targets,
        _dir: tempfile::TempDir,
        _stop: signal::Sender<bool>,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn crate::storage::Storage> =
            Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let registry = Arc::new(Registry::new());
        builtin::register_all(&registry);
        let (stop, stopped) = signal::channel(false);
        let views = Views::new(storage.clone(), Default::default(), stopped);
        let store = Store::new(storage, registry, views);
        namespaces::ensure_built_in(&store).await.unwrap();
        let (transports, targets) = (Transports::new(None), Targets::default());
        Fixture { store, transports, targets, _dir: dir, _stop: stop }
    }

    impl Fixture {
        fn resource(&self, group: &str, plural: &str) -> Arc<Resource> {
            served(&self.store, group, plural).unwrap()
        }

        async fn create(&self, group: &str, plural: &str, body: Value) {
            let resource = self.resource(group, plural);
            let namespace = body.pointer("/metadata/namespace").and_then(Value::as_str);
            let op = Operation::internal("test", Verb::Create, &resource)
                .in_namespace(namespace)
                .named("");
            self.store.create(&resource, &op, body.clone()).await.unwrap();
        }

        async fn delete(&self, group: &str, plural: &str, namespace: Option<&str>, name: &str) {
            let resource = self.resource(group, plural);
            let op = Operation::internal("test", Verb::Delete, &resource)
                .in_namespace(namespace)
                .named(name);
            self.store.delete(&resource, &op, &DeleteOptions::default()).await.unwrap();
        }

        /// Waits until every view the lookups read has caught up with the log.
        async fn settle(&self) {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            for (group, plural) in [
                ("apiregistration.k8s.io", "apiservices"),
                ("", "services"),
                ("", "endpoints"),
                ("discovery.k8s.io", "endpointslices"),
            ] {
                let resource = self.resource(group, plural);
                self.store.views.of(&resource).catch_up(deadline).await.unwrap();
            }
        }

        async fn route(&self, group: &str) -> Option<Route> {
            self.targets.route(&self.store, &self.transports, group, "v1").await
        }

        fn kept(&self) -> Vec<String> {
            self.targets.kept.read().unwrap().keys().cloned().collect()
        }
    }

    fn address(route: Option<Route>) -> SocketAddr {
        route.expect("a remote APIService").expect("a target").address
    }

    #[tokio::test]
    async fn a_route_is_kept_until_what_it_was_resolved_from_changes() {
        let f = fixture().await;
        f.create(
            "",
            "services",
            json!({"metadata": {"name": "api", "namespace": "default"},
            "spec": {"ports": [{"name": "https", "port": 443}]}}),
        )
        .await;
        f.create(
            "",
            "endpoints",
            json!({"metadata": {"name": "api", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                         "ports": [{"name": "https", "port": 8443}]}]}),
        )
        .await;
        f.create(
            "apiregistration.k8s.io",
            "apiservices",
            json!({
            "metadata": {"name": "v1.example.com"},
            "spec": {"group": "example.com", "version": "v1", "insecureSkipTLSVerify": true,
                     "service": {"namespace": "default", "name": "api"},
                     "groupPriorityMinimum": 1000, "versionPriority": 15}}),
        )
        .await;
        f.settle().await;

        // Resolved once (the Endpoints: no slice yet), then the same target while nothing
        // changes.
        let first = f.route("example.com").await.unwrap().unwrap();
        assert_eq!(first.address, "127.0.0.1:8443".parse().unwrap());
        let again = f.route("example.com").await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(f.kept(), ["v1.example.com"]);

        // An EndpointSlice of the Service: resolved again, and the slice decides.
        f.create(
            "discovery.k8s.io",
            "endpointslices",
            json!({
            "metadata": {"name": "api-1", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "api"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.2"]}],
            "ports": [{"name": "https", "port": 9443}]}),
        )
        .await;
        f.settle().await;
        assert_eq!(address(f.route("example.com").await), "127.0.0.2:9443".parse().unwrap());

        // The Service gone: a 503 route, kept too.
        f.delete("", "services", Some("default"), "api").await;
        f.settle().await;
        let gone = f.route("example.com").await.unwrap().unwrap_err();
        assert!(gone.contains("service/api in \"default\" is not present"), "{gone}");

        // Not remote: nothing kept, the request is this server's.
        f.delete("apiregistration.k8s.io", "apiservices", None, "v1.example.com").await;
        f.settle().await;
        assert!(f.route("example.com").await.is_none());
        assert!(f.route("unknown.example.com").await.is_none());
        assert!(f.kept().is_empty());
    }
}
