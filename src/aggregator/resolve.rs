//! Where a remote APIService's requests go: its Service → the Service port the APIService
//! names → an address of the Service's Endpoints on that port, as kube-aggregator's endpoint
//! service resolver does (nothing runs pods here, so the address is whatever the Endpoints say:
//! in tests, an extension server on 127.0.0.1). Each failure is one [`ResolveError`] whose
//! reason and message are the availability controller's (`ServiceNotFound`,
//! `EndpointsNotFound`, `MissingEndpoints`, …).
//!
//! Reads go through the store, so they come from the in-memory views.

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use crate::meta::status::Reason;
use crate::registry::store::Store;

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
    #[error("cannot find endpoints for service/{name} in {namespace:?}")]
    EndpointsNotFound { namespace: String, name: String },
    #[error(
        "endpoints for service/{name} in {namespace:?} have no addresses with port name {port_name:?}"
    )]
    MissingEndpoints { namespace: String, name: String, port_name: String },
    #[error("service/{name} in {namespace:?} cannot be checked due to: {message}")]
    Access { namespace: String, name: String, message: String },
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
    let get = |plural: &'static str| async move {
        let Some(resource) = store.registry.get("", "v1", plural) else {
            return Err(access(format!("{plural} are not served")));
        };
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
    let Some(endpoints) = get("endpoints").await? else {
        return Err(ResolveError::EndpointsNotFound { namespace, name });
    };
    first_address(&endpoints, &port_name).ok_or(ResolveError::MissingEndpoints {
        namespace,
        name,
        port_name,
    })
}

/// The first ready address of `endpoints` with a port named `port_name` (kube matches the
/// Service port's name, empty for a single unnamed port).
fn first_address(endpoints: &Value, port_name: &str) -> Option<SocketAddr> {
    let subsets = endpoints.get("subsets").and_then(Value::as_array)?;
    subsets.iter().find_map(|subset| {
        let port = subset
            .get("ports")
            .and_then(Value::as_array)?
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str).unwrap_or("") == port_name)?;
        let port = u16::try_from(port.get("port").and_then(Value::as_u64)?).ok()?;
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
}
