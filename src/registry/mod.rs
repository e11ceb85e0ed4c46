//! The registry: which resources are served, and the one generic store that serves them all.
//!
//! Requests arrive from the endpoints (`crate::api`) already decoded and routed to a
//! [`Resource`], each write described by one [`Operation`]; the [`store::Store`] runs its stages
//! (admission among them) and applies the common object rules and the resource's
//! [`Strategy`], and reads or writes the log through `crate::storage`. Built-in kinds are
//! registered at start-up ([`builtin`]), those `--runtime-config` disables
//! ([`runtime_config`]) left out; CustomResourceDefinitions register theirs at runtime
//! through the same [`Registry::register`]. WATCH is served from [`views`]: one view of the log
//! per resource, shared by all its watchers.

pub mod admission_objects;
pub mod bound_objects;
pub mod builtin;
pub mod csr_signing;
pub mod namespace_objects;
pub mod namespaces;
pub mod object;
pub mod operation;
pub mod quota;
pub mod rbac;
pub mod resource;
pub mod reviews;
pub mod runtime_config;
pub mod store;
pub mod strategy;
pub mod system_flowcontrol;
pub mod system_priority_classes;
pub mod table;
pub mod views;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub use operation::Operation;
pub use resource::{GroupVersion, Resource};
pub use runtime_config::RuntimeConfig;
pub use strategy::Strategy;

/// Every served resource, by group, version and plural. Cheap to read from many requests at
/// once; written only when resources come and go (start-up, CRDs).
#[derive(Debug, Default)]
pub struct Registry {
    /// A std lock: held only to clone an `Arc` out, never across an await.
    resources: RwLock<BTreeMap<(String, String, String), Arc<Resource>>>,
    /// Create-only endpoints that store nothing ([`reviews`]): the review kinds and
    /// `serviceaccounts/{name}/token`, by group, version, plural and subresource (`""` for the
    /// resource itself).
    creaters: RwLock<BTreeMap<reviews::CreaterKey, Arc<dyn reviews::Creater>>>,
    /// What those endpoints need from the server's authentication and authorization, set at
    /// start ([`reviews::install`]).
    reviewers: RwLock<Option<Arc<reviews::Reviewers>>>,
    /// Bumped whenever the served resources change (register, replace, unregister): what is
    /// derived from the whole set (the OpenAPI documents) is rebuilt when it moves, not per
    /// request.
    generation: AtomicU64,
}

/// Registration failures.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("resource {plural} is already served at {gv}")]
    AlreadyRegistered { gv: String, plural: String },
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `resource` at its group/version from now on.
    pub fn register(&self, resource: Resource) -> Result<Arc<Resource>, RegistryError> {
        let key = (resource.gv.group.clone(), resource.gv.version.clone(), resource.plural.clone());
        let mut resources = self.resources.write().unwrap_or_else(|e| e.into_inner());
        if resources.contains_key(&key) {
            return Err(RegistryError::AlreadyRegistered {
                gv: resource.gv.to_string(),
                plural: resource.plural,
            });
        }
        let resource = Arc::new(resource);
        resources.insert(key, resource.clone());
        self.generation.fetch_add(1, Ordering::Release);
        Ok(resource)
    }

    /// Serves `resource` at its group/version, in place of whatever was served there (a CRD
    /// changed): requests never see the resource missing in between.
    pub fn replace(&self, resource: Resource) -> Arc<Resource> {
        let key = (resource.gv.group.clone(), resource.gv.version.clone(), resource.plural.clone());
        let resource = Arc::new(resource);
        let mut resources = self.resources.write().unwrap_or_else(|e| e.into_inner());
        resources.insert(key, resource.clone());
        self.generation.fetch_add(1, Ordering::Release);
        resource
    }

    /// Stops serving a resource (a CRD version removed). Stored objects are untouched.
    pub fn unregister(&self, gv: &GroupVersion, plural: &str) -> Option<Arc<Resource>> {
        let mut resources = self.resources.write().unwrap_or_else(|e| e.into_inner());
        let removed = resources.remove(&(gv.group.clone(), gv.version.clone(), plural.to_owned()));
        self.generation.fetch_add(1, Ordering::Release);
        removed
    }

    /// Moves whenever the set of served resources changes (a resource registered, replaced or
    /// unregistered). Bumped under the resources' write lock, so a reader that sees a value
    /// and then reads [`Registry::all`] sees at least that state.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        let resources = self.resources.read().unwrap_or_else(|e| e.into_inner());
        resources.get(&(group.to_owned(), version.to_owned(), plural.to_owned())).cloned()
    }

    /// Answers POSTs to `group/version/plural[/subresource]` with `creater` from now on, in
    /// place of whatever answered them before.
    pub fn register_creater(&self, key: reviews::CreaterKey, creater: Arc<dyn reviews::Creater>) {
        let mut creaters = self.creaters.write().unwrap_or_else(|e| e.into_inner());
        creaters.insert(key, creater);
    }

    /// The create-only endpoint of `group/version/plural` (`subresource` empty) or of one of its
    /// subresources.
    pub fn creater(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        subresource: &str,
    ) -> Option<Arc<dyn reviews::Creater>> {
        let creaters = self.creaters.read().unwrap_or_else(|e| e.into_inner());
        let key = reviews::CreaterKey::new(group, version, plural, subresource);
        creaters.get(&key).cloned()
    }

    /// The create-only subresources of `group/version/plural` (`token` of serviceaccounts),
    /// alphabetically, for discovery.
    pub fn create_only_subresources(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Vec<(String, Arc<dyn reviews::Creater>)> {
        let creaters = self.creaters.read().unwrap_or_else(|e| e.into_inner());
        creaters
            .iter()
            .filter(|(k, _)| {
                k.group == group
                    && k.version == version
                    && k.plural == plural
                    && !k.subresource.is_empty()
            })
            .map(|(k, c)| (k.subresource.clone(), c.clone()))
            .collect()
    }

    /// Sets what the create-only endpoints answer with (the server's authenticators, authorizer
    /// and token issuer).
    pub fn set_reviewers(&self, reviewers: Arc<reviews::Reviewers>) {
        *self.reviewers.write().unwrap_or_else(|e| e.into_inner()) = Some(reviewers);
    }

    /// What the create-only endpoints answer with; `None` before [`reviews::install`].
    pub fn reviewers(&self) -> Option<Arc<reviews::Reviewers>> {
        self.reviewers.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every served resource, ordered by group, version, plural.
    pub fn all(&self) -> Vec<Arc<Resource>> {
        let resources = self.resources.read().unwrap_or_else(|e| e.into_inner());
        resources.values().cloned().collect()
    }

    /// The served resource a storage key (or prefix without its trailing `/`) belongs to: the one
    /// with the longest storage prefix containing it. Resources sharing a prefix (core/v1 and
    /// events.k8s.io/v1 `events`) answer with the first in group order.
    pub fn resource_at(&self, key: &str) -> Option<Arc<Resource>> {
        let resources = self.resources.read().unwrap_or_else(|e| e.into_inner());
        let contains = |prefix: &str| {
            key.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        let mut best: Option<&Arc<Resource>> = None;
        for resource in resources.values() {
            let longer =
                best.is_none_or(|b| resource.storage_prefix.len() > b.storage_prefix.len());
            if longer && contains(&resource.storage_prefix) {
                best = Some(resource);
            }
        }
        best.cloned()
    }

    /// The resources served at one group/version.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<Resource>> {
        self.all().into_iter().filter(|r| r.gv.group == group && r.gv.version == version).collect()
    }

    /// The served group/versions of one group, preferred version first.
    pub fn versions_of(&self, group: &str) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for r in self.all().into_iter().filter(|r| r.gv.group == group) {
            if !versions.contains(&r.gv.version) {
                versions.push(r.gv.version.clone());
            }
        }
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        versions
    }

    /// Every served group, core (`""`) first, then alphabetically.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for r in self.all() {
            if !groups.contains(&r.gv.group) {
                groups.push(r.gv.group.clone());
            }
        }
        groups
    }
}

/// Kubernetes version priority: GA > beta > alpha, then by number (v2 > v1, v1beta2 > v1beta1).
pub fn version_priority(version: &str) -> (u8, u32, u32) {
    let Some(rest) = version.strip_prefix('v') else { return (0, 0, 0) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u32>() else { return (0, 0, 0) };
    let tail = &rest[digits.len()..];
    let (level, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        return (0, 0, 0);
    };
    (level, major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut v = vec!["v1alpha1", "v1", "v2beta1", "v2", "v1beta2", "v1beta1", "foo"];
        v.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(v, ["v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }
}
