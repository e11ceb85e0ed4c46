//! Where a remote APIService's requests go: its Service → the Service port the APIService
//! names → a ready address of the Service's endpoints on that port, as kube-aggregator's endpoint
//! service resolver does (nothing runs pods here, so the address is whatever the endpoints say:
//! in tests, an extension server on 127.0.0.1). Each failure is one [`ResolveError`] whose
//! reason and message are the availability controller's (`ServiceNotFound`,
//! `EndpointsNotFound`, `MissingEndpoints`, …).
//!
//! The endpoints are kube 1.33's: the Service's `discovery.k8s.io/v1` EndpointSlices (those
//! labelled `kubernetes.io/service-name: <service>`), a slice's port matched by the Service
//! port's name, its first endpoint whose `conditions.ready` is not `false`. A Service with no
//! slice at all falls back to its `v1` Endpoints (the first address of a subset with a port of
//! that name): in a cluster, kube-controller-manager's EndpointSlice mirroring controller makes
//! slices of hand-written Endpoints; here nothing does, so the Endpoints are read directly.
//!
//! Reads go through the store, so they come from the in-memory views.

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use crate::meta::labels::LabelSelector;
use crate::meta::status::Reason;
use crate::registry::store::{ListParams, Store};

/// The label naming an EndpointSlice's Service (`discovery.k8s.io/v1`'s `LabelServiceName`).
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The Service an APIService names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
    pub port: u16,
}

impl ServiceRef {
    /// `spec.service` of a remote APIService; `None` for a local one.
    pub fn of(api_service: &Value) -> Option<ServiceRef> {
        let service = api_service.pointer("/spec/service").filter(|s| s.is_object())?;
        let text = |field: &str| service.get(field).and_then(Value::as_str).unwrap_or("");
        let port = service.get("port").and_then(Value::as_u64).unwrap_or(443);
        Some(ServiceRef {
            namespace: text("namespace").to_owned(),
            name: text("name").to_owned(),
            port: u16::try_from(port).unwrap_or(443),
        })
    }

    /// The DNS name the extension's serving certificate must cover: `<name>.<namespace>.svc`.
    pub fn server_name(&self) -> String {
        format!("{}.{}.svc", self.name, self.namespace)
    }
}

/// Why no endpoint was found, with kube's availability reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("service/{name} in {namespace:?} is not present")]
    ServiceNotFound { namespace: String, name: String },
    #[error("service/{name} in {namespace:?} is not listening on port {port}")]
    ServicePort { namespace: String, name: String, port: u16 },
    #[error("cannot find endpointslices for service/{name} in {namespace:?}")]
    EndpointsNotFound { namespace: String, name: String },
    #[error(
        "{read_from} for service/{name} in {namespace:?} have no addresses with port name \
         {port_name:?}"
    )]
    MissingEndpoints { read_from: Source, namespace: String, name: String, port_name: String },
    #[error("service/{name} in {namespace:?} cannot be checked due to: {message}")]
    Access { namespace: String, name: String, message: String },
}

/// Where a Service's endpoints were read from (named as in kube's messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    EndpointSlices,
    Endpoints,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::EndpointSlices => "endpointslices",
            Source::Endpoints => "endpoints",
        })
    }
}

impl ResolveError {
    /// The `Available` condition's reason, as kube's availability controller gives it.
    pub fn reason(&self) -> &'static str {
        match self {
            ResolveError::ServiceNotFound { .. } => "ServiceNotFound",
            ResolveError::ServicePort { .. } => "ServicePortError",
            ResolveError::EndpointsNotFound { .. } => "EndpointsNotFound",
            ResolveError::MissingEndpoints { .. } => "MissingEndpoints",
            ResolveError::Access { .. } => "ServiceAccessError",
        }
    }
}

/// An address of `service` on the APIService's port (the first ready one).
pub async fn endpoint(store: &Store, service: &ServiceRef) -> Result<SocketAddr, ResolveError> {
    let (namespace, name) = (service.namespace.clone(), service.name.clone());
    let access = |message: String| ResolveError::Access {
        namespace: namespace.clone(),
        name: name.clone(),
        message,
    };
    let served = |group: &str, plural: &str| {
        store
            .registry
            .get(group, "v1", plural)
            .ok_or_else(|| access(format!("{plural} are not served")))
    };
    let get = |plural: &'static str| async move {
        let resource = served("", plural)?;
        match store.get(&resource, Some(&service.namespace), &service.name, None).await {
            Ok(object) => Ok(Some(object)),
            Err(err) if err.reason == Reason::NotFound => Ok(None),
            Err(err) => Err(access(err.message)),
        }
    };
    let Some(svc) = get("services").await? else {
        return Err(ResolveError::ServiceNotFound { namespace, name });
    };
    let ports = svc.pointer("/spec/ports").and_then(Value::as_array);
    let Some(port) = ports
        .into_iter()
        .flatten()
        .find(|p| p.get("port").and_then(Value::as_u64) == Some(u64::from(service.port)))
    else {
        return Err(ResolveError::ServicePort { namespace, name, port: service.port });
    };
    let port_name = port.get("name").and_then(Value::as_str).unwrap_or("").to_owned();

    let slices = served("discovery.k8s.io", "endpointslices")?;
    let selector = LabelSelector::from_set([(SERVICE_NAME_LABEL, service.name.as_str())])
        .map_err(|e| access(e.to_string()))?;
    let params = ListParams { label_selector: selector, ..ListParams::default() };
    let slices = store
        .list(&slices, Some(&service.namespace), &params)
        .await
        .map_err(|e| access(e.message))?
        .items;
    let (found, read_from) = if slices.is_empty() {
        let Some(endpoints) = get("endpoints").await? else {
            return Err(ResolveError::EndpointsNotFound { namespace, name });
        };
        (first_address(&endpoints, &port_name), Source::Endpoints)
    } else {
        (slices.iter().find_map(|slice| first_ready(slice, &port_name)), Source::EndpointSlices)
    };
    found.ok_or(ResolveError::MissingEndpoints { read_from, namespace, name, port_name })
}

/// The first ready endpoint of an EndpointSlice with a port named `port_name`: its first
/// address (kube uses `addresses[0]` only); a `ready` condition that is absent counts as ready.
fn first_ready(slice: &Value, port_name: &str) -> Option<SocketAddr> {
    let port = named_port(slice, port_name)?;
    let ip = slice.get("endpoints").and_then(Value::as_array)?.iter().find_map(|endpoint| {
        let ready = endpoint.pointer("/conditions/ready").and_then(Value::as_bool);
        if ready == Some(false) {
            return None;
        }
        endpoint.pointer("/addresses/0").and_then(Value::as_str)?.parse::<IpAddr>().ok()
    })?;
    Some(SocketAddr::new(ip, port))
}

/// The number of the port named `port_name` in `ports` of an EndpointSlice or an Endpoints
/// subset (kube matches the Service port's name, empty for a single unnamed port).
fn named_port(owner: &Value, port_name: &str) -> Option<u16> {
    let port = owner
        .get("ports")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str).unwrap_or("") == port_name)?;
    u16::try_from(port.get("port").and_then(Value::as_u64)?).ok()
}

/// The first ready address of `endpoints` with a port named `port_name` (kube matches the
/// Service port's name, empty for a single unnamed port).
fn first_address(endpoints: &Value, port_name: &str) -> Option<SocketAddr> {
    let subsets = endpoints.get("subsets").and_then(Value::as_array)?;
    subsets.iter().find_map(|subset| {
        let port = named_port(subset, port_name)?;
        let ip = subset
            .get("addresses")
            .and_then(Value::as_array)?
            .iter()
            .find_map(|a| a.get("ip").and_then(Value::as_str)?.parse::<IpAddr>().ok())?;
        Some(SocketAddr::new(ip, port))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_service_reference_and_its_server_name() {
        let api_service = json!({"spec": {"service": {"namespace": "wardle", "name": "api"}}});
        let service = ServiceRef::of(&api_service).unwrap();
        assert_eq!(service.port, 443);
        assert_eq!(service.server_name(), "api.wardle.svc");
        assert_eq!(ServiceRef::of(&json!({"spec": {"service": null}})), None);
    }

    #[test]
    fn endpoints_are_matched_by_the_service_port_name() {
        let endpoints = json!({"subsets": [
            {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"name": "metrics", "port": 9090}]},
            {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": 8443}]},
        ]});
        assert_eq!(first_address(&endpoints, "https"), Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(first_address(&endpoints, "grpc"), None);
        let unnamed =
            json!({"subsets": [{"addresses": [{"ip": "::1"}], "ports": [{"port": 443}]}]});
        assert_eq!(first_address(&unnamed, ""), Some("[::1]:443".parse().unwrap()));
        assert_eq!(first_address(&json!({"subsets": []}), ""), None);
        assert_eq!(first_address(&json!({}), ""), None);
    }

    #[test]
    fn endpoint_slices_give_a_ready_endpoint_of_the_named_port() {
        let slice = json!({
        "ports": [{"name": "metrics", "port": 9090}, {"name": "https", "port": 8443}],
        "endpoints": [
            {"addresses": ["10.0.0.1"], "conditions": {"ready": false}},
            {"addresses": ["10.0.0.2", "10.0.0.3"], "conditions": {}},
        ]});
        assert_eq!(first_ready(&slice, "https"), Some("10.0.0.2:8443".parse().unwrap()));
        assert_eq!(first_ready(&slice, ""), None);
        let unready = json!({"ports": [{"name": "", "port": 443}],
                             "endpoints": [{"addresses": ["::1"], "conditions": {"ready": false}}]});
        assert_eq!(first_ready(&unready, ""), None);
        let fqdn = json!({"ports": [{"name": "", "port": 443}],
                          "endpoints": [{"addresses": ["api.example.com"]}]});
        assert_eq!(first_ready(&fqdn, ""), None);
        assert_eq!(first_ready(&json!({}), ""), None);
    }
}
