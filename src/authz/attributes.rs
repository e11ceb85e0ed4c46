//! k8s.io/apiserver's authorizer contract: the [`Attributes`] of a request (who, which verb, on
//! what), the [`Decision`] an [`Authorizer`] reaches, and the simple authorizers kube-apiserver
//! chains with RBAC — `AlwaysAllow`, `AlwaysDeny`, the `system:masters` superuser group — and the
//! [`Union`] that asks each in turn.

use std::fmt;
use std::sync::Arc;

use super::user::UserInfo;

/// What a request asks to do, as the authorization filter derives it from the request info.
///
/// A resource request names a verb (`get`, `list`, `watch`, `create`, `update`, `patch`,
/// `delete`, `deletecollection`, or a special one such as `bind`, `escalate`, `impersonate`), an
/// API group, a resource and optionally a subresource, a namespace (empty when cluster-scoped or
/// across all namespaces) and a name (empty for lists and creates). A non-resource request names
/// a verb (the lower-case HTTP method) and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub user: Arc<UserInfo>,
    pub verb: String,
    pub namespace: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// True for API resources, false for paths such as `/healthz` or `/metrics`.
    pub resource_request: bool,
    /// The request path (only non-resource requests are matched against it).
    pub path: String,
}

impl Attributes {
    /// A resource request; add the scope with [`Attributes::namespace`] and friends.
    pub fn resource(
        user: Arc<UserInfo>,
        verb: &str,
        api_group: &str,
        api_version: &str,
        resource: &str,
    ) -> Attributes {
        Attributes {
            user,
            verb: verb.to_owned(),
            namespace: String::new(),
            api_group: api_group.to_owned(),
            api_version: api_version.to_owned(),
            resource: resource.to_owned(),
            subresource: String::new(),
            name: String::new(),
            resource_request: true,
            path: String::new(),
        }
    }

    /// A non-resource request: `get` of `/healthz`, say.
    pub fn non_resource(user: Arc<UserInfo>, verb: &str, path: &str) -> Attributes {
        Attributes {
            resource_request: false,
            path: path.to_owned(),
            ..Attributes::resource(user, verb, "", "", "")
        }
    }

    pub fn namespace(mut self, namespace: &str) -> Attributes {
        namespace.clone_into(&mut self.namespace);
        self
    }

    pub fn subresource(mut self, subresource: &str) -> Attributes {
        subresource.clone_into(&mut self.subresource);
        self
    }

    pub fn name(mut self, name: &str) -> Attributes {
        name.clone_into(&mut self.name);
        self
    }

    pub fn path(mut self, path: &str) -> Attributes {
        path.clone_into(&mut self.path);
        self
    }
}

/// An authorizer's answer, with the reason it gives (shown after a 403's message, and in audit
/// annotations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The request may proceed; no later authorizer is asked.
    Allow(String),
    /// The request is refused; no later authorizer is asked.
    Deny(String),
    /// This authorizer has nothing to say; the next one is asked. When every authorizer says
    /// this, the request is refused.
    NoOpinion(String),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// The reason, possibly empty.
    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow(r) | Decision::Deny(r) | Decision::NoOpinion(r) => r,
        }
    }
}

/// Decides whether a request may proceed. Implementations answer from memory (RBAC reads its
/// objects through a [`super::source::RuleSource`]), so the call is synchronous and cheap
/// enough for every request.
pub trait Authorizer: Send + Sync + fmt::Debug {
    fn authorize(&self, attributes: &Attributes) -> Decision;
}

/// `--authorization-mode=AlwaysAllow`: every request may proceed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysAllow;

impl Authorizer for AlwaysAllow {
    fn authorize(&self, _attributes: &Attributes) -> Decision {
        Decision::Allow(String::new())
    }
}

/// `--authorization-mode=AlwaysDeny`: no opinion on anything, so the chain refuses everything
/// (kube's `alwaysDenyAuthorizer`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysDeny;

impl Authorizer for AlwaysDeny {
    fn authorize(&self, _attributes: &Attributes) -> Decision {
        Decision::NoOpinion("Everything is forbidden.".to_owned())
    }
}

/// Allows members of any of `groups` everything: kube-apiserver puts one for `system:masters`
/// in front of every chain, so the admin credentials work whatever the policy says.
#[derive(Debug, Clone)]
pub struct PrivilegedGroups {
    pub groups: Vec<String>,
}

impl Authorizer for PrivilegedGroups {
    fn authorize(&self, attributes: &Attributes) -> Decision {
        if self.groups.iter().any(|g| attributes.user.in_group(g)) {
            Decision::Allow(String::new())
        } else {
            Decision::NoOpinion(String::new())
        }
    }
}

/// Asks each authorizer in order: the first `Allow` or `Deny` is the answer; when all have no
/// opinion, so has the union, with their non-empty reasons joined by newlines.
#[derive(Debug, Clone, Default)]
pub struct Union {
    pub authorizers: Vec<Arc<dyn Authorizer>>,
}

impl Authorizer for Union {
    fn authorize(&self, attributes: &Attributes) -> Decision {
        let mut reasons = Vec::new();
        for authorizer in &self.authorizers {
            match authorizer.authorize(attributes) {
                Decision::NoOpinion(reason) => {
                    if !reason.is_empty() {
                        reasons.push(reason);
                    }
                }
                decided => return decided,
            }
        }
        Decision::NoOpinion(reasons.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(user: UserInfo) -> Attributes {
        Attributes::resource(Arc::new(user), "get", "", "v1", "pods").namespace("ns").name("p")
    }

    #[derive(Debug)]
    struct Says(Decision);

    impl Authorizer for Says {
        fn authorize(&self, _attributes: &Attributes) -> Decision {
            self.0.clone()
        }
    }

    #[test]
    fn the_union_stops_at_the_first_opinion() {
        let admin = attributes(UserInfo::new("root", &["system:masters"]));
        let alice = attributes(UserInfo::new("alice", &["system:authenticated"]));
        let chain = Union {
            authorizers: vec![
                Arc::new(PrivilegedGroups { groups: vec!["system:masters".into()] }),
                Arc::new(Says(Decision::NoOpinion("first".into()))),
                Arc::new(Says(Decision::NoOpinion(String::new()))),
                Arc::new(AlwaysDeny),
            ],
        };
        assert!(chain.authorize(&admin).is_allowed());
        assert_eq!(
            chain.authorize(&alice),
            Decision::NoOpinion("first\nEverything is forbidden.".into())
        );
        let deny_first = Union {
            authorizers: vec![Arc::new(Says(Decision::Deny("no".into()))), Arc::new(AlwaysAllow)],
        };
        assert_eq!(deny_first.authorize(&alice), Decision::Deny("no".into()));
        assert!(Union::default().authorize(&alice) == Decision::NoOpinion(String::new()));
    }

    #[test]
    fn builders() {
        let user = Arc::new(UserInfo::anonymous());
        let a = Attributes::non_resource(user.clone(), "get", "/healthz");
        assert!(!a.resource_request && a.path == "/healthz" && a.resource.is_empty());
        let b = Attributes::resource(user, "get", "", "v1", "pods").subresource("log").path("/api");
        assert!(b.resource_request && b.subresource == "log");
    }
}
