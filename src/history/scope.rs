//! What an event of the log is about, and whether the caller may see it.
//!
//! - [`Resolver`]: a storage key (`/configmaps/ns/cm`) → the served resource in its preferred
//!   version, the namespace and the name, as the API shows them.
//! - [`Access`]: whether the caller may `get` a resource's `history` subresource (in a
//!   namespace, or across all of them), asked of the request's authorizer once per resource and
//!   namespace and remembered for the request.
//!
//! Both live for one request; what they remember grows with the distinct resources (and
//! namespaces) met, never with the events.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::authn::UserInfo;
use crate::authz::{Attributes, Authorizer};
use crate::registry::{Registry, Resource};

/// The subresource whose `get` lets a caller read a resource's history.
pub const HISTORY_SUBRESOURCE: &str = "history";

/// Where one event's key sits in the API.
#[derive(Debug, Clone)]
pub struct Located {
    /// The served resource in its group's preferred version.
    pub resource: Arc<Resource>,
    /// Empty for a cluster-scoped resource.
    pub namespace: String,
    pub name: String,
}

impl Located {
    /// `{"group", "version", "resource"}` of the served resource.
    pub fn resource_ref(&self) -> Value {
        let gv = &self.resource.gv;
        json!({"group": gv.group, "version": gv.version, "resource": self.resource.plural})
    }
}

/// Storage keys → served resources, remembering the preferred version of each resource met.
#[derive(Debug)]
pub struct Resolver {
    registry: Arc<Registry>,
    /// (group, plural) → the served resource of the group's preferred version.
    preferred: HashMap<(String, String), Arc<Resource>>,
    /// A key's directory (`/configmaps/ns`, `/minions`) → its served resource in the preferred
    /// version and its namespace, or `None` when nothing served stores it. A replay meets the
    /// same few directories again and again: one lookup each, not one per event.
    directories: HashMap<String, Option<(Arc<Resource>, String)>>,
}

impl Resolver {
    pub fn new(registry: Arc<Registry>) -> Self {
        Resolver { registry, preferred: HashMap::new(), directories: HashMap::new() }
    }

    /// The served resource, namespace and name of `key`; `None` when no served resource stores
    /// it (a custom resource whose definition is gone, the server's own bookkeeping).
    pub fn locate(&mut self, key: &str) -> Option<Located> {
        // A key is `<storage prefix>[/<namespace>]/<name>`, and names hold no `/`: everything
        // but the name says which resource and namespace it is.
        let (directory, name) = key.rsplit_once('/')?;
        let (resource, namespace) = match self.directories.get(directory) {
            Some(known) => known.clone()?,
            None => {
                let found = self.locate_directory(key);
                self.directories.insert(directory.to_owned(), found.clone());
                found?
            }
        };
        Some(Located { resource, namespace, name: name.to_owned() })
    }

    fn locate_directory(&mut self, key: &str) -> Option<(Arc<Resource>, String)> {
        let found = self.registry.resource_at(key)?;
        if !found.stored() {
            return None;
        }
        let rest = key.get(found.storage_prefix.len() + 1..)?;
        let namespace = match found.namespaced {
            true => rest.split_once('/')?.0,
            false if rest.contains('/') => return None,
            false => "",
        };
        Some((self.preferred(&found), namespace.to_owned()))
    }

    /// The served version a client of `found`'s group gets by default: the group's preferred
    /// version that serves the resource (`autoscaling/v2` horizontalpodautoscalers), else
    /// `found`.
    fn preferred(&mut self, found: &Arc<Resource>) -> Arc<Resource> {
        let id = (found.gv.group.clone(), found.plural.clone());
        if let Some(known) = self.preferred.get(&id) {
            return known.clone();
        }
        let registry = &self.registry;
        let preferred = registry
            .versions_of(&found.gv.group)
            .iter()
            .find_map(|version| registry.get(&found.gv.group, version, &found.plural))
            .unwrap_or_else(|| found.clone());
        self.preferred.insert(id, preferred.clone());
        preferred
    }

    /// The served resource `group`/`plural` in its preferred version, if it is stored.
    pub fn resource(&mut self, group: &str, plural: &str) -> Option<Arc<Resource>> {
        let registry = &self.registry;
        let found = registry
            .versions_of(group)
            .iter()
            .find_map(|version| registry.get(group, version, plural))
            .filter(|r| r.stored())?;
        Some(self.preferred(&found))
    }
}

/// The caller's `get` on `<resource>/history`, asked once per resource and namespace.
#[derive(Debug)]
pub struct Access {
    user: Arc<UserInfo>,
    /// `None`: the request came without the filter chain's authorizer; nothing is allowed.
    authorizer: Option<Arc<dyn Authorizer>>,
    /// (group, plural, namespace) → allowed.
    decided: HashMap<(String, String, String), bool>,
}

impl Access {
    pub fn new(user: Arc<UserInfo>, authorizer: Option<Arc<dyn Authorizer>>) -> Self {
        Access { user, authorizer, decided: HashMap::new() }
    }

    /// The attributes of `get` on `<plural>/history` of `group`, in `namespace` (empty: all
    /// namespaces, or cluster-scoped). `*` as group and plural asks for every resource.
    pub fn attributes(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        namespace: &str,
    ) -> Attributes {
        Attributes::resource(self.user.clone(), "get", group, version, plural)
            .subresource(HISTORY_SUBRESOURCE)
            .namespace(namespace)
    }

    /// Whether the caller may read `resource`'s history in `namespace`, and the authorizer's
    /// reason when it may not.
    pub fn decide(&self, attributes: &Attributes) -> Result<(), String> {
        let Some(authorizer) = &self.authorizer else {
            return Err("no authorizer decided this request".to_owned());
        };
        let decision = authorizer.authorize(attributes);
        if decision.is_allowed() { Ok(()) } else { Err(decision.reason().to_owned()) }
    }

    /// Whether the caller may read `resource`'s history in `namespace`: a namespaced object's
    /// history is readable with `get` in its namespace or across all of them.
    pub fn allows(&mut self, resource: &Resource, namespace: &str) -> bool {
        let id = (resource.gv.group.clone(), resource.plural.clone(), namespace.to_owned());
        if let Some(allowed) = self.decided.get(&id) {
            return *allowed;
        }
        let gv = &resource.gv;
        let attributes =
            |namespace: &str| self.attributes(&gv.group, &gv.version, &resource.plural, namespace);
        let allowed = self.decide(&attributes(namespace)).is_ok()
            || !namespace.is_empty() && self.decide(&attributes("")).is_ok();
        self.decided.insert(id, allowed);
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{AlwaysAllow, Decision};

    fn registry() -> Arc<Registry> {
        let registry = Registry::new();
        crate::registry::builtin::register_all(&registry);
        Arc::new(registry)
    }

    #[test]
    fn keys_locate_their_preferred_served_resource() {
        let mut resolver = Resolver::new(registry());
        let cm = resolver.locate("/configmaps/ns/cm").unwrap();
        assert_eq!(
            (cm.resource.plural.as_str(), cm.namespace.as_str(), cm.name.as_str()),
            ("configmaps", "ns", "cm")
        );
        assert_eq!(
            cm.resource_ref(),
            json!({"group": "", "version": "v1", "resource": "configmaps"})
        );
        let node = resolver.locate("/minions/n1").unwrap();
        assert_eq!((node.namespace.as_str(), node.name.as_str()), ("", "n1"));
        let hpa = resolver.resource("autoscaling", "horizontalpodautoscalers").unwrap();
        assert_eq!(hpa.gv.version, "v2");
        assert!(resolver.locate("/no-such-prefix/x").is_none());
        assert!(resolver.resource("ledger.kube-ledger.io", "replay").is_none());
    }

    /// Allows `get` of configmaps/history in `ns` only.
    #[derive(Debug)]
    struct ConfigMapsInNs;

    impl Authorizer for ConfigMapsInNs {
        fn authorize(&self, a: &Attributes) -> Decision {
            let fits = a.verb == "get"
                && a.resource == "configmaps"
                && a.subresource == "history"
                && a.namespace == "ns";
            if fits { Decision::Allow(String::new()) } else { Decision::NoOpinion(String::new()) }
        }
    }

    #[test]
    fn access_is_per_resource_and_namespace_and_refused_without_an_authorizer() {
        let registry = registry();
        let cm = registry.get("", "v1", "configmaps").unwrap();
        let secrets = registry.get("", "v1", "secrets").unwrap();
        let user = Arc::new(UserInfo::new("alice", &["system:authenticated"]));
        let mut access = Access::new(user.clone(), Some(Arc::new(ConfigMapsInNs)));
        assert!(access.allows(&cm, "ns"));
        assert!(!access.allows(&cm, "other"));
        assert!(!access.allows(&secrets, "ns"));
        let mut everything = Access::new(user.clone(), Some(Arc::new(AlwaysAllow)));
        assert!(everything.allows(&secrets, "ns"));
        let mut nobody = Access::new(user, None);
        assert!(!nobody.allows(&cm, "ns"));
    }
}
