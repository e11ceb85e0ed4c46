//! The subresources kube-apiserver serves by reaching a kubelet (or a pod or Service through
//! the node network): `pods/{log,exec,attach,portforward,proxy}`, `nodes/proxy` and
//! `services/proxy`. kube-ledger runs no nodes, so each answers at once with a `Status` that
//! says so, after the checks kube makes before it would dial:
//!
//! - the parent object must exist (kube's 404 of the pod, node or Service);
//! - a pod with no node (`spec.nodeName` empty) is kube's 400 `pod X does not have a host
//!   assigned` — for `log` too, where kube streams nothing instead: a clear error is what a
//!   client of a server without kubelets needs;
//! - otherwise 503 `ServiceUnavailable`: what kube answers when the backend of a proxy is not
//!   there (`no endpoints available for service "x"`, word for word for `services/proxy`). kube
//!   answers a kubelet it cannot dial with a 500 carrying the dial error; a 503 says the same
//!   ("the backend is unavailable, the request was fine") in the code clients treat as
//!   retryable-later rather than as a server fault.

use axum::response::Response;
use serde_json::Value;

use super::ApiState;
use super::request::ResourcePath;
use super::status::{ApiError, Reason};
use crate::registry::Resource;

/// The verbs kube's discovery lists for a proxy subresource.
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];
const CONNECT_VERBS: &[&str] = &["create", "get"];

/// The kubelet's subresources of a core resource, as discovery lists them: name, the kind its
/// endpoint takes, verbs.
pub fn subresources(
    resource: &Resource,
) -> &'static [(&'static str, &'static str, &'static [&'static str])] {
    if !resource.gv.group.is_empty() || resource.gv.version != "v1" {
        return &[];
    }
    match resource.plural.as_str() {
        "pods" => &[
            ("attach", "PodAttachOptions", CONNECT_VERBS),
            ("exec", "PodExecOptions", CONNECT_VERBS),
            ("log", "Pod", &["get"]),
            ("portforward", "PodPortForwardOptions", CONNECT_VERBS),
            ("proxy", "PodProxyOptions", PROXY_VERBS),
        ],
        "nodes" => &[("proxy", "NodeProxyOptions", PROXY_VERBS)],
        "services" => &[("proxy", "ServiceProxyOptions", PROXY_VERBS)],
        _ => &[],
    }
}

/// Whether `plural/subresource` of the core group is one of the kubelet's.
pub fn serves(resource: &Resource, subresource: &str) -> bool {
    subresources(resource).iter().any(|(name, _, _)| *name == subresource)
}

/// The answer to a request for a kubelet subresource: always an error `Status`.
pub async fn answer(
    state: &ApiState,
    resource: &Resource,
    path: &ResourcePath,
) -> Result<Response, ApiError> {
    let name = path.name.clone().unwrap_or_default();
    let sub = path.subresource.as_deref().unwrap_or_default();
    let object = state.store.get(resource, path.namespace.as_deref(), &name, None).await?;
    let unavailable = |message: String| Err(ApiError::new(Reason::ServiceUnavailable, message));
    match resource.plural.as_str() {
        "services" => unavailable(format!("no endpoints available for service {name:?}")),
        "nodes" => unavailable(format!(
            "no kubelet serves node {name:?}: kube-ledger runs no nodes, so nodes/proxy cannot \
             be served"
        )),
        _ => match object.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("") {
            "" => Err(ApiError::bad_request(format!("pod {name} does not have a host assigned"))),
            node => unavailable(format!(
                "no kubelet serves node {node:?}: kube-ledger runs no nodes, so pods/{sub} cannot \
                 be served"
            )),
        },
    }
}
