//! The store's admission chain: kube-apiserver's admission plugins that apply to a server without
//! nodes, in kube-apiserver's order (its `AllOrderedPlugins`), built in one place.
//!
//! Each plugin lives in `crate::admission::<name>`; the ones that read other objects get them
//! through [`StoreObjects`]. Order matters: mutating plugins see what the earlier ones set,
//! and the webhooks (and ResourceQuota, which charges only writes every other plugin accepted)
//! run last.

use std::sync::Arc;

use crate::admission::default_toleration_seconds::DefaultTolerationSeconds;
use crate::admission::namespace_lifecycle::NamespaceLifecycle;
use crate::admission::service_account::ServiceAccount;
use crate::admission::{Chain, Plugin};
use crate::registry::admission_objects::StoreObjects;
use crate::registry::rbac::escalation::RbacEscalation;
use crate::registry::store::Store;
use crate::registry::{namespaces, object};

/// How the plugins are configured: kube-apiserver's flags of the plugins (kube's defaults).
#[derive(Debug, Clone, Copy, Default)]
pub struct AdmissionOptions {
    /// `--default-not-ready-toleration-seconds`, `--default-unreachable-toleration-seconds`.
    pub default_toleration_seconds: DefaultTolerationSeconds,
}

/// The chain for `store` (which it does not hold: plugins read through their own handles).
/// `escalation` is RBAC's check of role and binding writes, present under RBAC.
pub fn chain(
    store: &Store,
    escalation: Option<Arc<RbacEscalation>>,
    options: &AdmissionOptions,
) -> Chain {
    let objects = Arc::new(StoreObjects::of(store));
    let mut plugins: Vec<Arc<dyn Plugin>> = Vec::new();
    // kube-apiserver's order; a plugin this server does not implement yet is named in its place.
    plugins.push(Arc::new(NamespaceLifecycle::new(Arc::new(namespaces::Lister::of(store)))));
    // LimitRanger
    plugins.push(Arc::new(ServiceAccount::new(objects.clone(), object::generated_name_suffix)));
    // PodSecurity
    // Priority
    plugins.push(Arc::new(options.default_toleration_seconds));
    // DefaultStorageClass
    // CertificateApproval, CertificateSigning, CertificateSubjectRestriction
    // DefaultIngressClass
    if let Some(escalation) = escalation {
        // kube's RBAC checks run in its registry strategies; here, just before the webhooks.
        plugins.push(escalation);
    }
    plugins.extend(crate::admission::webhook::plugins(store.registry.clone(), store.views.clone()));
    // ResourceQuota
    Chain::new(plugins)
}
