//! The store's admission chain: kube-apiserver's admission plugins that apply to a server without
//! nodes, in kube-apiserver's order (its `AllOrderedPlugins`), built in one place.
//!
//! Each plugin lives in `crate::admission::<name>`; the ones that read other objects get them
//! through [`StoreObjects`]. Order matters: mutating plugins see what the earlier ones set,
//! and the webhooks (and ResourceQuota, which charges only writes every other plugin accepted)
//! run last.

use std::sync::Arc;

use crate::admission::default_ingress_class::DefaultIngressClass;
use crate::admission::default_storage_class::DefaultStorageClass;
use crate::admission::namespace_lifecycle::NamespaceLifecycle;
use crate::admission::priority::Priority;
use crate::admission::{Chain, Objects, Plugin};
use crate::registry::admission_objects::StoreObjects;
use crate::registry::namespaces;
use crate::registry::rbac::escalation::RbacEscalation;
use crate::registry::store::Store;

/// The chain for `store` (which it does not hold: plugins read through their own handles).
/// `escalation` is RBAC's check of role and binding writes, present under RBAC.
// One push per slot, in kube's order, so that each plugin's line merges on its own.
#[allow(clippy::vec_init_then_push)]
pub fn chain(store: &Store, escalation: Option<Arc<RbacEscalation>>) -> Chain {
    let objects: Arc<dyn Objects> = Arc::new(StoreObjects::of(store));
    let mut plugins: Vec<Arc<dyn Plugin>> = Vec::new();
    // kube-apiserver's order; a plugin this server does not implement yet is named in its place.
    plugins.push(Arc::new(NamespaceLifecycle::new(Arc::new(namespaces::Lister::of(store)))));
    // LimitRanger
    // ServiceAccount
    // PodSecurity
    plugins.push(Arc::new(Priority::new(objects.clone())));
    // DefaultTolerationSeconds
    plugins.push(Arc::new(DefaultStorageClass::new(objects.clone())));
    // CertificateApproval, CertificateSigning, CertificateSubjectRestriction
    plugins.push(Arc::new(DefaultIngressClass::new(objects.clone())));
    if let Some(escalation) = escalation {
        // kube's RBAC checks run in its registry strategies; here, just before the webhooks.
        plugins.push(escalation);
    }
    plugins.extend(crate::admission::webhook::plugins(store.registry.clone(), store.views.clone()));
    // ResourceQuota
    Chain::new(plugins)
}
