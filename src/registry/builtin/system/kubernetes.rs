//! The `default/kubernetes` Service, Endpoints and EndpointSlice, as kube-apiserver's
//! "kubernetes service" controller and endpoint reconciler keep them: the Service has the first
//! IP of the cluster IP range, port 443 (`https`) to the server's secure port, and the labels
//! `component: apiserver` and `provider: kubernetes`; the Endpoints and EndpointSlice name the
//! server's advertised address and port.
//!
//! Flow: [`start`] writes what is missing or drifted before it returns, then follows the three
//! objects' watches (by name) and a 10-second tick (kube's endpoint reconciler interval) and
//! puts back what was deleted or changed. Writes go through the store as `system:apiserver`,
//! admission included. As kube does, only the Service's type and ports are repaired (its other
//! fields are the user's to change), while the Endpoints' subsets and the EndpointSlice's
//! endpoints and ports are put back whole.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch as signal;

use super::ServiceNetwork;
use super::endpointslices::ready_endpoint;
use crate::meta::fields::FieldSelector;
use crate::meta::status::{ApiError, Reason};
use crate::registry::namespace_objects::{Follow, Next};
use crate::registry::resource::Resource;
use crate::registry::store::{Operation, Store};
use crate::storage::Verb;

/// The name of the three objects.
pub const NAME: &str = "kubernetes";
/// Their namespace.
pub const NAMESPACE: &str = "default";
/// Who writes them (kube-apiserver's loopback client).
const USER: &str = "system:apiserver";
/// kube's `--endpoint-reconciler` interval.
const INTERVAL: Duration = Duration::from_secs(10);

/// One of the three kept objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Service,
    Endpoints,
    EndpointSlice,
}

const OBJECTS: [Object; 3] = [Object::Service, Object::Endpoints, Object::EndpointSlice];

#[derive(Debug)]
struct Keeper {
    store: Store,
    network: ServiceNetwork,
    resources: Vec<(Object, Arc<Resource>)>,
}

/// Creates or repairs the three objects, then keeps them until `shutdown`. The objects of
/// resources not served are left out.
pub async fn start(
    store: Store,
    network: ServiceNetwork,
    shutdown: signal::Receiver<bool>,
) -> Result<(), ApiError> {
    let registry = &store.registry;
    let resources: Vec<(Object, Arc<Resource>)> = OBJECTS
        .iter()
        .filter_map(|object| {
            let (group, plural) = match object {
                Object::Service => ("", "services"),
                Object::Endpoints => ("", "endpoints"),
                Object::EndpointSlice => ("discovery.k8s.io", "endpointslices"),
            };
            Some((*object, registry.get(group, "v1", plural)?))
        })
        .collect();
    let keeper = Keeper { store, network, resources };
    for (object, _) in &keeper.resources {
        keeper.sync(*object).await?;
    }
    tokio::spawn(keeper.run(shutdown));
    Ok(())
}

impl Keeper {
    fn resource(&self, object: Object) -> Option<&Arc<Resource>> {
        self.resources.iter().find(|(o, _)| *o == object).map(|(_, r)| r)
    }

    fn desired(&self, object: Object) -> Value {
        let network = &self.network;
        let port = network.port;
        let address = network.advertise_address.to_string();
        match object {
            Object::Service => json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": NAME, "namespace": NAMESPACE,
                             "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {
                    "ports": [service_port(port)],
                    "clusterIP": network.cluster_ip_range.first().to_string(),
                    "type": "ClusterIP",
                    "sessionAffinity": "None",
                },
            }),
            Object::Endpoints => json!({
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": NAME, "namespace": NAMESPACE,
                             "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                "subsets": subsets(&address, port),
            }),
            Object::EndpointSlice => json!({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": NAME, "namespace": NAMESPACE,
                             "labels": {"kubernetes.io/service-name": NAME}},
                "addressType": address_type(network.advertise_address),
                "endpoints": [ready_endpoint(&address)],
                "ports": slice_ports(port),
            }),
        }
    }

    /// `current` with what drifted put back, or `None` when it is as wanted.
    fn repaired(&self, object: Object, current: &Value) -> Option<Value> {
        let desired = self.desired(object);
        let fields: &[&str] = match object {
            Object::Service => &["/spec/type", "/spec/ports"],
            Object::Endpoints => &["/subsets"],
            Object::EndpointSlice => &["/endpoints", "/ports"],
        };
        let mut repaired = current.clone();
        for pointer in fields {
            let want = desired.pointer(pointer);
            let (parent, field) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            if current.pointer(pointer) == want {
                continue;
            }
            let target =
                if parent.is_empty() { Some(&mut repaired) } else { repaired.pointer_mut(parent) };
            if let (Some(Value::Object(map)), Some(want)) = (target, want) {
                map.insert(field.to_owned(), want.clone());
            }
        }
        (repaired != *current).then_some(repaired)
    }

    /// Creates the object, or repairs it.
    async fn sync(&self, object: Object) -> Result<(), ApiError> {
        let Some(resource) = self.resource(object) else { return Ok(()) };
        let op = |verb| {
            Operation::internal(USER, verb, resource).in_namespace(Some(NAMESPACE)).named(NAME)
        };
        match self.store.get(resource, Some(NAMESPACE), NAME, None).await {
            Ok(current) => match self.repaired(object, &current) {
                Some(repaired) => {
                    self.store.update(resource, &op(Verb::Update), repaired).await?;
                    tracing::info!(object = ?object, "default/kubernetes repaired");
                    Ok(())
                }
                None => Ok(()),
            },
            Err(err) if err.reason == Reason::NotFound => {
                match self.store.create(resource, &op(Verb::Create), self.desired(object)).await {
                    Ok(_) => Ok(()),
                    Err(err) if err.reason == Reason::AlreadyExists => Ok(()),
                    Err(err) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn sync_logged(&self, object: Object) {
        if let Err(err) = self.sync(object).await {
            tracing::warn!(object = ?object, %err, "default/kubernetes: sync failed; will retry");
        }
    }

    async fn run(self, mut shutdown: signal::Receiver<bool>) {
        let by_name = FieldSelector::from_set([("metadata.name", NAME)]);
        let mut watches: Vec<(Object, Follow)> = self
            .resources
            .iter()
            .map(|(object, resource)| (*object, Follow::new(resource.clone(), by_name.clone())))
            .collect();
        let revision = self.store.storage.current_revision().await.unwrap_or(0);
        for (_, watch) in &mut watches {
            watch.restart_at(revision);
        }
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next = {
                let events = futures::future::select_all(watches.iter_mut().map(|(o, w)| {
                    let store = &self.store;
                    Box::pin(async move { (*o, w.next(store).await) })
                }));
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => return,
                    _ = tick.tick() => None,
                    ((object, next), _, _) = events => Some((object, next)),
                }
            };
            match next {
                None => {
                    for object in OBJECTS {
                        self.sync_logged(object).await;
                    }
                }
                Some((object, Next::Changed(o) | Next::Deleted(o))) => {
                    if o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(NAMESPACE) {
                        self.sync_logged(object).await;
                    }
                }
                Some((object, Next::Relist)) => {
                    let revision = self.store.storage.current_revision().await.unwrap_or(0);
                    if let Some((_, watch)) = watches.iter_mut().find(|(o, _)| *o == object) {
                        watch.restart_at(revision);
                    }
                    self.sync_logged(object).await;
                }
            }
        }
    }
}

fn service_port(port: u16) -> Value {
    json!({"name": "https", "protocol": "TCP", "port": 443, "targetPort": port})
}

fn subsets(address: &str, port: u16) -> Value {
    json!([{"addresses": [{"ip": address}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}])
}

fn slice_ports(port: u16) -> Value {
    json!([{"name": "https", "protocol": "TCP", "port": port}])
}

fn address_type(address: IpAddr) -> &'static str {
    if address.is_ipv4() { "IPv4" } else { "IPv6" }
}
