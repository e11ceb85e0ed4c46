//! The store's admission chain: kube-apiserver's admission plugins that apply to a server without
//! nodes, in kube-apiserver's order (its `AllOrderedPlugins`), built in one place.
//!
//! Each plugin lives in `crate::admission::<name>`; the ones that read other objects get them
//! through [`StoreObjects`]. Order matters: mutating plugins see what the earlier ones set,
//! and the webhooks (and ResourceQuota, which charges only writes every other plugin accepted)
//! run last.

use std::sync::Arc;

use crate::admission::certificate_approval::CertificateApproval;
use crate::admission::certificate_signing::CertificateSigning;
use crate::admission::certificate_subject_restriction::CertificateSubjectRestriction;
use crate::admission::config::AdmissionConfig;
use crate::admission::default_ingress_class::DefaultIngressClass;
use crate::admission::default_storage_class::DefaultStorageClass;
use crate::admission::default_toleration_seconds::DefaultTolerationSeconds;
use crate::admission::limit_ranger::LimitRanger;
use crate::admission::namespace_lifecycle::NamespaceLifecycle;
use crate::admission::pod_security::{PodSecurity, PodSecurityConfig};
use crate::admission::policy::ValidatingAdmissionPolicy;
use crate::admission::priority::Priority;
use crate::admission::resource_quota::ResourceQuota;
use crate::admission::service_account::ServiceAccount;
use crate::admission::{Chain, Objects, Plugin};
use crate::authz::{AlwaysAllow, Authorizer};
use crate::registry::admission_objects::StoreObjects;
use crate::registry::quota::StoreQuotas;
use crate::registry::rbac::escalation::RbacEscalation;
use crate::registry::store::Store;
use crate::registry::{namespaces, object};

/// How the plugins are configured: their kube-apiserver flags and the AdmissionConfiguration
/// file (`--admission-control-config-file`), decoded and validated at start (kube's defaults).
#[derive(Debug, Clone, Default)]
pub struct AdmissionOptions {
    /// `--default-not-ready-toleration-seconds`, `--default-unreachable-toleration-seconds`.
    pub default_toleration_seconds: DefaultTolerationSeconds,
    /// PodSecurity's defaults and exemptions (its `PodSecurityConfiguration`).
    pub pod_security: PodSecurityConfig,
}

impl AdmissionOptions {
    /// These options with each plugin's entry of the AdmissionConfiguration `config`; an
    /// invalid entry is an error naming its plugin.
    pub fn with_config(mut self, config: &AdmissionConfig) -> Result<AdmissionOptions, String> {
        if let Some(value) = config.plugin("PodSecurity") {
            self.pod_security = PodSecurityConfig::from_value(value)
                .map_err(|err| format!("couldn't init admission plugin \"PodSecurity\": {err}"))?;
        }
        Ok(self)
    }
}

/// The chain for `store` (which it does not hold: plugins read through their own handles).
/// `escalation` is RBAC's check of role and binding writes, present under RBAC.
pub fn chain(
    store: &Store,
    escalation: Option<Arc<RbacEscalation>>,
    options: &AdmissionOptions,
) -> Chain {
    let objects: Arc<dyn Objects> = Arc::new(StoreObjects::of(store));
    // The authorizer RBAC's escalation checks hold (the server's chain); AlwaysAllow without
    // RBAC, as the authorization filter then allows every request too.
    let authorizer: Arc<dyn Authorizer> = match &escalation {
        Some(escalation) => escalation.authorizer.clone(),
        None => Arc::new(AlwaysAllow),
    };
    // kube-apiserver's order (NodeRestriction, TaintNodesByCondition, RuntimeClass,
    // StorageObjectInUseProtection and MutatingAdmissionPolicy are not implemented).
    let mut plugins: Vec<Arc<dyn Plugin>> = vec![
        Arc::new(NamespaceLifecycle::new(Arc::new(namespaces::Lister::of(store)))),
        Arc::new(LimitRanger::new(objects.clone())),
        Arc::new(ServiceAccount::new(objects.clone(), object::generated_name_suffix)),
        Arc::new(PodSecurity::new(options.pod_security.clone(), objects.clone())),
        Arc::new(Priority::new(objects.clone())),
        Arc::new(options.default_toleration_seconds),
        Arc::new(DefaultStorageClass::new(objects.clone())),
        Arc::new(CertificateApproval::new(authorizer.clone())),
        Arc::new(CertificateSigning::new(authorizer.clone())),
        Arc::new(CertificateSubjectRestriction),
        Arc::new(DefaultIngressClass::new(objects.clone())),
    ];
    if let Some(escalation) = escalation {
        // kube's RBAC checks run in its registry strategies; here, just before the webhooks.
        plugins.push(escalation);
    }
    // kube's order ends with MutatingAdmissionWebhook, ValidatingAdmissionPolicy,
    // ValidatingAdmissionWebhook (then ResourceQuota).
    let [mutating, validating] = <[_; 2]>::try_from(crate::admission::webhook::plugins(
        store.registry.clone(),
        store.views.clone(),
        authorizer.clone(),
    ))
    .expect("the webhook plugins are a mutating and a validating one");
    plugins.push(mutating);
    plugins.push(Arc::new(ValidatingAdmissionPolicy::new(
        store.registry.clone(),
        store.views.clone(),
        authorizer,
    )));
    plugins.push(validating);
    plugins.push(Arc::new(ResourceQuota::new(Arc::new(StoreQuotas::of(store)))));
    Chain::new(plugins)
}
