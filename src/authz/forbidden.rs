//! The 403 a refused request gets, worded as kube-apiserver words it
//! (`responsewriters.Forbidden` over `apierrors.NewForbidden`):
//!
//! - `configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group ""
//!   in the namespace "default"`
//! - `deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments/scale"
//!   in API group "apps" in the namespace "default"` (a name, a subresource)
//! - `nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the
//!   cluster scope`
//! - `forbidden: User "system:anonymous" cannot get path "/metrics"` (non-resource)
//!
//! followed by `: <reason>` when the authorizers gave one. The error is plain data plus its
//! `metav1.Status` JSON, so it carries no HTTP framework with it.

use serde_json::{Map, Value, json};

use super::attributes::Attributes;
use crate::meta::validation::go_quote;

/// A Forbidden status: what `apierrors.NewForbidden(groupResource, name, err)` builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub message: String,
    /// `details.group`.
    pub group: String,
    /// `details.kind` (kube puts the resource there).
    pub resource: String,
    /// `details.name`.
    pub name: String,
}

impl Forbidden {
    /// `NewForbidden`: `<resource>[.<group>] ["<name>"] is forbidden: <cause>`, or
    /// `forbidden: <cause>` without a resource.
    pub fn new(group: &str, resource: &str, name: &str, cause: &str) -> Forbidden {
        let qualified =
            if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") };
        let message = match (resource.is_empty() && group.is_empty(), name.is_empty()) {
            (true, _) => format!("forbidden: {cause}"),
            (false, true) => format!("{qualified} is forbidden: {cause}"),
            (false, false) => format!("{qualified} {} is forbidden: {cause}", go_quote(name)),
        };
        Forbidden {
            message,
            group: group.to_owned(),
            resource: resource.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The 403 of the authorization filter for a refused request; `reason` is the chain's
    /// (appended after `: ` when not empty).
    pub fn for_request(attributes: &Attributes, reason: &str) -> Forbidden {
        let cause = Forbidden::cause(attributes, reason);
        Forbidden::new(&attributes.api_group, &attributes.resource, &attributes.name, &cause)
    }

    /// What follows `is forbidden: ` in [`Forbidden::for_request`]'s message: `User "bob"
    /// cannot update resource "configmaps" in API group "" in the namespace "ns"[: reason]`.
    pub fn cause(attributes: &Attributes, reason: &str) -> String {
        let mut cause = sanitize(&forbidden_message(attributes));
        if !reason.is_empty() {
            cause.push_str(": ");
            cause.push_str(reason);
        }
        cause
    }

    /// The `metav1.Status` body (code 403, reason `Forbidden`; `details` holds only what is
    /// set, and is `{}` for a path).
    pub fn to_status(&self) -> Value {
        let mut details = Map::new();
        for (key, value) in [("name", &self.name), ("group", &self.group), ("kind", &self.resource)]
        {
            if !value.is_empty() {
                details.insert(key.into(), value.clone().into());
            }
        }
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": "Forbidden",
            "details": details,
            "code": 403,
        })
    }
}

/// `forbiddenMessage`: who cannot do what, where.
pub fn forbidden_message(a: &Attributes) -> String {
    let user = go_quote(&a.user.name);
    if !a.resource_request {
        return format!("User {user} cannot {} path {}", a.verb, go_quote(&a.path));
    }
    let mut resource = a.resource.clone();
    if !a.subresource.is_empty() {
        resource.push('/');
        resource.push_str(&a.subresource);
    }
    let (resource, group) = (go_quote(&resource), go_quote(&a.api_group));
    if a.namespace.is_empty() {
        format!(
            "User {user} cannot {} resource {resource} in API group {group} at the cluster scope",
            a.verb
        )
    } else {
        format!(
            "User {user} cannot {} resource {resource} in API group {group} in the namespace {}",
            a.verb,
            go_quote(&a.namespace)
        )
    }
}

/// kube escapes `&`, `<` and `>` in the message so it never reads as HTML.
fn sanitize(message: &str) -> String {
    message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::user::UserInfo;
    use std::sync::Arc;

    fn alice() -> Arc<UserInfo> {
        Arc::new(UserInfo::new("alice", &["system:authenticated"]))
    }

    #[test]
    fn messages_as_kube_writes_them() {
        let list =
            Attributes::resource(alice(), "list", "", "v1", "configmaps").namespace("default");
        assert_eq!(
            Forbidden::for_request(&list, "").message,
            "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API \
             group \"\" in the namespace \"default\""
        );
        let scale = Attributes::resource(alice(), "get", "apps", "v1", "deployments")
            .namespace("default")
            .subresource("scale")
            .name("web");
        assert_eq!(
            Forbidden::for_request(&scale, "").message,
            "deployments.apps \"web\" is forbidden: User \"alice\" cannot get resource \
             \"deployments/scale\" in API group \"apps\" in the namespace \"default\""
        );
        let nodes = Attributes::resource(alice(), "list", "", "v1", "nodes");
        assert_eq!(
            Forbidden::for_request(
                &nodes,
                "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found"
            )
            .message,
            "nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group \"\" \
             at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found"
        );
        let anonymous = Arc::new(UserInfo::anonymous());
        let metrics = Attributes::non_resource(anonymous, "get", "/metrics");
        assert_eq!(
            Forbidden::for_request(&metrics, "").message,
            "forbidden: User \"system:anonymous\" cannot get path \"/metrics\""
        );
        let html = Attributes::non_resource(alice(), "get", "/<script>&");
        assert!(
            Forbidden::for_request(&html, "").message.ends_with("path \"/&lt;script&gt;&amp;\"")
        );
    }

    #[test]
    fn statuses_carry_the_details_kube_sets() {
        let get =
            Attributes::resource(alice(), "get", "", "v1", "secrets").namespace("ns").name("s");
        assert_eq!(
            Forbidden::for_request(&get, "").to_status(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "secrets \"s\" is forbidden: User \"alice\" cannot get resource \
                               \"secrets\" in API group \"\" in the namespace \"ns\"",
                   "reason": "Forbidden", "details": {"name": "s", "kind": "secrets"}, "code": 403})
        );
        let path = Attributes::non_resource(alice(), "get", "/metrics");
        assert_eq!(Forbidden::for_request(&path, "").to_status()["details"], json!({}));
        let grant = Forbidden::new("rbac.authorization.k8s.io", "roles", "r", "user \"alice\" …");
        assert_eq!(
            grant.message,
            "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"alice\" …"
        );
        assert_eq!(grant.to_status()["details"]["group"], "rbac.authorization.k8s.io");
    }
}
