//! What kube-apiserver creates or serves by itself, beside the kinds users write:
//!
//! - the kinds of its own controllers' output: `v1` Endpoints ([`endpoints`]) and
//!   `discovery.k8s.io/v1` EndpointSlices ([`endpointslices`]);
//! - `v1` ComponentStatuses ([`componentstatuses`]), computed on each request;
//! - the Service ClusterIP and NodePort allocators ([`allocator`]), shared with the Services
//!   strategy and kept in step with the stored Services by [`sync`];
//! - the pods' create-only subresources `binding` ([`binding`], also as `bindings`) and
//!   `eviction` ([`eviction`]), answered by `crate::registry::reviews::Creater`s ([`install`]);
//! - the `default/kubernetes` Service, Endpoints and EndpointSlice naming the server itself
//!   ([`kubernetes`], kube's "master" controller and endpoint reconciler).
//!
//! Flow at start (`Server::start_with`): [`sync::start`] lists the Services into the
//! allocators before the server serves and follows their watch; `Server::with_service_network`
//! sets the ranges from the flags and starts [`kubernetes::start`], whose writes go through the
//! store as `system:apiserver`.

pub mod allocator;
pub mod binding;
pub mod componentstatuses;
pub mod endpoints;
pub mod endpointslices;
pub mod ephemeral;
pub mod eviction;
pub mod kubernetes;
pub mod sync;

use std::net::IpAddr;
use std::sync::Arc;

use crate::registry::builtin::services::ServiceStrategy;
use crate::registry::builtin::{Kind, generic_table};
use crate::registry::reviews::CreaterKey;
use crate::registry::strategy::Strategy;
use crate::registry::{Registry, Resource};
use allocator::{Allocators, IpRange, PortRange};

/// Serves `pods/{name}/binding`, `pods/{name}/eviction` and the `bindings` resource, when
/// pods are served.
pub fn install(registry: &Registry) {
    if registry.get("", "v1", "pods").is_none() {
        return;
    }
    let bindings = Arc::new(binding::Bindings);
    registry.register_creater(CreaterKey::new("", "v1", "pods", "binding"), bindings.clone());
    registry.register_creater(
        CreaterKey::new("", "v1", "pods", "eviction"),
        Arc::new(eviction::Evictions),
    );
    if registry.get("", "v1", "bindings").is_none() {
        let _ = registry.register(bindings_resource());
    }
    registry.register_creater(CreaterKey::new("", "v1", "bindings", ""), bindings);
}

/// `v1` bindings: created, never stored.
#[derive(Debug, Clone, Copy, Default)]
struct CreateOnly;

impl Strategy for CreateOnly {
    fn create_only(&self) -> bool {
        true
    }
}

fn bindings_resource() -> Resource {
    let kind = Kind {
        group: "",
        version: "v1",
        kind: "Binding",
        plural: "bindings",
        short_names: &[],
        categories: &[],
        namespaced: true,
        storage_prefix: "/bindings",
    };
    kind.resource(Arc::new(CreateOnly), generic_table())
}

/// The allocators of the Services `registry` serves, if it serves them.
pub fn allocators(registry: &Registry) -> Option<Arc<Allocators>> {
    let services = registry.get("", "v1", "services")?;
    let strategy = services.strategy.as_any()?.downcast_ref::<ServiceStrategy>()?;
    Some(strategy.allocators.clone())
}

/// The server's Service network: kube-apiserver's `--service-cluster-ip-range`,
/// `--service-node-port-range`, and where the `kubernetes` Service's endpoints point.
#[derive(Debug, Clone)]
pub struct ServiceNetwork {
    pub cluster_ip_range: IpRange,
    pub node_port_range: PortRange,
    /// `--advertise-address`, else `127.0.0.1`.
    pub advertise_address: IpAddr,
    /// The secure port the server listens on.
    pub port: u16,
}

impl ServiceNetwork {
    /// The defaults (`10.96.0.0/12`, `30000-32767`) for a server at `127.0.0.1:port`.
    pub fn with_port(port: u16) -> ServiceNetwork {
        ServiceNetwork {
            cluster_ip_range: IpRange::parse(allocator::DEFAULT_CLUSTER_IP_RANGE)
                .expect("the default range parses"),
            node_port_range: PortRange::parse(allocator::DEFAULT_NODE_PORT_RANGE)
                .expect("the default range parses"),
            advertise_address: IpAddr::from([127, 0, 0, 1]),
            port,
        }
    }
}
