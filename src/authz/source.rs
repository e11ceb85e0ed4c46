//! Where the RBAC authorizer reads roles and bindings: the [`RuleSource`] trait (kube's
//! `RoleGetter`, `RoleBindingLister`, `ClusterRoleGetter`, `ClusterRoleBindingLister`, plus a
//! generation that changes whenever any of those objects does), and [`InMemoryRules`], an
//! informer-like index fed with the objects' writes, used by the tests and usable as the
//! server's source when fed from the four resources' watches.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::rule::{Binding, Role};

/// A source that could not answer (a view still loading, say). Unlike a missing role, this
/// says nothing about the policy, so decisions reached despite it are not cached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Read access to the RBAC objects. Answers come from memory; the authorizer calls these on
/// every cache miss.
pub trait RuleSource: Send + Sync + fmt::Debug {
    /// The Role `namespace/name`.
    fn role(&self, namespace: &str, name: &str) -> Result<Option<Arc<Role>>, SourceError>;
    /// The ClusterRole `name`.
    fn cluster_role(&self, name: &str) -> Result<Option<Arc<Role>>, SourceError>;
    /// Every RoleBinding of a namespace.
    fn role_bindings(&self, namespace: &str) -> Result<Vec<Arc<Binding>>, SourceError>;
    /// Every ClusterRoleBinding.
    fn cluster_role_bindings(&self) -> Result<Vec<Arc<Binding>>, SourceError>;
    /// Changes whenever any Role, ClusterRole, RoleBinding or ClusterRoleBinding is created,
    /// changed or deleted; cached decisions are dropped when it does.
    fn generation(&self) -> u64;
}

/// The kinds [`InMemoryRules`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbacKind {
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
}

impl RbacKind {
    /// The kind of an object's `kind` field.
    pub fn of(kind: &str) -> Option<RbacKind> {
        match kind {
            "Role" => Some(RbacKind::Role),
            "ClusterRole" => Some(RbacKind::ClusterRole),
            "RoleBinding" => Some(RbacKind::RoleBinding),
            "ClusterRoleBinding" => Some(RbacKind::ClusterRoleBinding),
            _ => None,
        }
    }

    /// The kind of a resource (`roles`, …).
    pub fn of_resource(resource: &str) -> Option<RbacKind> {
        match resource {
            "roles" => Some(RbacKind::Role),
            "clusterroles" => Some(RbacKind::ClusterRole),
            "rolebindings" => Some(RbacKind::RoleBinding),
            "clusterrolebindings" => Some(RbacKind::ClusterRoleBinding),
            _ => None,
        }
    }
}

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
type Key = (String, String);

#[derive(Debug, Default)]
struct Objects {
    roles: BTreeMap<Key, Arc<Role>>,
    cluster_roles: BTreeMap<String, Arc<Role>>,
    /// By namespace, then name.
    role_bindings: BTreeMap<String, BTreeMap<String, Arc<Binding>>>,
    cluster_role_bindings: BTreeMap<String, Arc<Binding>>,
}

/// RBAC objects in memory, parsed once per write. Each change bumps the generation.
#[derive(Debug, Default)]
pub struct InMemoryRules {
    objects: RwLock<Objects>,
    generation: AtomicU64,
}

impl InMemoryRules {
    pub fn new() -> InMemoryRules {
        InMemoryRules::default()
    }

    /// Adds or replaces an object (its `kind` says which), as a watch's ADDED or MODIFIED event
    /// would. Objects of other kinds are ignored.
    pub fn apply(&self, object: &Value) {
        let Some(kind) = object.get("kind").and_then(Value::as_str).and_then(RbacKind::of) else {
            return;
        };
        {
            let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
            match kind {
                RbacKind::Role => {
                    let role = Role::from_json(object);
                    objects
                        .roles
                        .insert((role.namespace.clone(), role.name.clone()), Arc::new(role));
                }
                RbacKind::ClusterRole => {
                    let role = Role::from_json(object);
                    objects.cluster_roles.insert(role.name.clone(), Arc::new(role));
                }
                RbacKind::RoleBinding => {
                    let binding = Binding::from_json(object);
                    objects
                        .role_bindings
                        .entry(binding.namespace.clone())
                        .or_default()
                        .insert(binding.name.clone(), Arc::new(binding));
                }
                RbacKind::ClusterRoleBinding => {
                    let binding = Binding::from_json(object);
                    objects.cluster_role_bindings.insert(binding.name.clone(), Arc::new(binding));
                }
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes an object, as a watch's DELETED event would.
    pub fn remove(&self, kind: RbacKind, namespace: &str, name: &str) {
        {
            let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
            match kind {
                RbacKind::Role => {
                    objects.roles.remove(&(namespace.to_owned(), name.to_owned()));
                }
                RbacKind::ClusterRole => {
                    objects.cluster_roles.remove(name);
                }
                RbacKind::RoleBinding => {
                    if let Some(bindings) = objects.role_bindings.get_mut(namespace) {
                        bindings.remove(name);
                    }
                }
                RbacKind::ClusterRoleBinding => {
                    objects.cluster_role_bindings.remove(name);
                }
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Objects> {
        self.objects.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl RuleSource for InMemoryRules {
    fn role(&self, namespace: &str, name: &str) -> Result<Option<Arc<Role>>, SourceError> {
        Ok(self.read().roles.get(&(namespace.to_owned(), name.to_owned())).cloned())
    }

    fn cluster_role(&self, name: &str) -> Result<Option<Arc<Role>>, SourceError> {
        Ok(self.read().cluster_roles.get(name).cloned())
    }

    fn role_bindings(&self, namespace: &str) -> Result<Vec<Arc<Binding>>, SourceError> {
        Ok(self
            .read()
            .role_bindings
            .get(namespace)
            .map(|b| b.values().cloned().collect())
            .unwrap_or_default())
    }

    fn cluster_role_bindings(&self) -> Result<Vec<Arc<Binding>>, SourceError> {
        Ok(self.read().cluster_role_bindings.values().cloned().collect())
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_indexed_and_each_change_bumps_the_generation() {
        let rules = InMemoryRules::new();
        assert_eq!(rules.generation(), 0);
        rules.apply(&json!({"kind": "Role", "metadata": {"name": "r", "namespace": "ns"},
                            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}));
        rules.apply(&json!({"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "ns"},
                            "roleRef": {"kind": "Role", "name": "r"}}));
        rules.apply(&json!({"kind": "ClusterRole", "metadata": {"name": "c"}}));
        rules.apply(&json!({"kind": "ClusterRoleBinding", "metadata": {"name": "cb"}}));
        rules.apply(&json!({"kind": "ConfigMap", "metadata": {"name": "x"}}));
        assert_eq!(rules.generation(), 4);
        assert_eq!(rules.role("ns", "r").unwrap().unwrap().rules.len(), 1);
        assert!(rules.role("other", "r").unwrap().is_none());
        assert_eq!(rules.role_bindings("ns").unwrap().len(), 1);
        assert!(rules.role_bindings("other").unwrap().is_empty());
        assert!(rules.cluster_role("c").unwrap().is_some());
        assert_eq!(rules.cluster_role_bindings().unwrap()[0].name, "cb");
        rules.remove(RbacKind::Role, "ns", "r");
        rules.remove(RbacKind::RoleBinding, "ns", "b");
        assert!(rules.role("ns", "r").unwrap().is_none());
        assert!(rules.role_bindings("ns").unwrap().is_empty());
        assert_eq!(rules.generation(), 6);
        assert_eq!(RbacKind::of_resource("clusterroles"), Some(RbacKind::ClusterRole));
    }
}
