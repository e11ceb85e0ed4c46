//! The Kubernetes API surface: HTTP requests in, objects or `metav1.Status` errors out.
//!
//! - [`request`]: path → group/version/namespace/resource/name/subresource; typed query values.
//! - [`negotiate`]: JSON, YAML and Table encodings; request body decoding.
//! - [`gojson`]: Go's `encoding/json` errors, which kube's decode errors quote.
//! - [`typemeta`]: a body's `apiVersion`/`kind` against the resource it is sent to.
//! - [`protobuf`]: Kubernetes protobuf request bodies → JSON.
//! - [`handlers`]: verbs → the registry's generic store.
//! - [`create_only`]: POSTs to the create-only resources (reviews, TokenRequest) → their
//!   creaters in the registry.
//! - [`computed`]: GET and LIST of the resources computed on each request (ComponentStatuses).
//! - [`ledger`]: the resources of `ledger.kube-ledger.io/v1` read across objects from the log
//!   (log positions, deleted objects, replay).
//! - [`watch`]: watch event streams.
//! - [`scale`]: the `scale` subresource.
//! - [`history`]: the `history` subresource of every stored resource (issue 15).
//! - [`kubelet`]: the kubelet's subresources (`pods/log`, `exec`, …), answered with a `Status`.
//! - [`issuer_discovery`]: the ServiceAccount issuer's OIDC discovery documents.
//! - [`discovery`]: `/api`, `/apis` and the aggregated discovery documents.
//! - [`openapi`]: the OpenAPI v3 documents kubectl reads before `apply`.
//! - [`status`]: errors as `Status`; storage errors mapped in one place.

pub mod computed;
pub mod create_only;
pub mod discovery;
pub mod gojson;
pub mod handlers;
pub mod history;
pub mod issuer_discovery;
pub mod kubelet;
pub mod ledger;
pub mod negotiate;
pub mod openapi;
pub mod protobuf;
pub mod request;
pub mod scale;
pub mod status;
pub mod typemeta;
pub mod watch;

use std::sync::Arc;

use tokio::sync::watch as signal;

use crate::registry::Registry;
use crate::registry::store::Store;

/// What every API handler can reach.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub store: Store,
    pub registry: Arc<Registry>,
    /// Flips to `true` on shutdown: long-running watches end cleanly.
    pub shutdown: signal::Receiver<bool>,
    /// `host:port` clients reach the server on, for `/api`'s address list.
    pub server_address: String,
    /// The OpenAPI documents, built when the registry changes.
    pub openapi: Arc<openapi::Cache>,
    /// Proxies remote APIServices' paths to their extension API servers.
    pub proxy: Arc<crate::aggregator::proxy::Proxy>,
    /// The remote APIServices' groups and resources, merged into discovery.
    pub remote_apis: Arc<crate::aggregator::discovery::RemoteDiscovery>,
}
