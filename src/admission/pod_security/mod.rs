//! PodSecurity, kube-apiserver's Pod Security Admission (validating phase): pods are checked
//! against the Pod Security Standards their namespace's labels choose
//! (`pod-security.kubernetes.io/{enforce,audit,warn}` = `privileged`/`baseline`/`restricted`,
//! with `…-version` = `latest` or `v1.X`), over the configured defaults.
//!
//! ```text
//! pod create/update ─▶ exempt (namespace, user, runtimeClass)? ─▶ allowed, `exempt` annotation
//!                   ─▶ namespace labels ─▶ Policy (enforce, audit, warn)
//!                   ─▶ enforce: violations → 403 `violates PodSecurity "restricted:latest": …`
//!                      audit:   violations → audit annotation `…/audit-violations`
//!                      warn:    violations → `Warning: would violate PodSecurity …`
//! pod-template create/update (deployments, …) ─▶ audit and warn only
//! namespace create/update ─▶ labels valid (else 422); enforce tightened → the namespace's pods
//!                            dry-run against it, their violations as warnings
//! ```
//!
//! The checks are in [`checks`], the labels' vocabulary in [`api`], the configuration
//! (`--admission-control-config-file`) in [`config`], the namespace side in [`namespace`].

pub mod api;
pub mod checks;
pub mod config;
mod namespace;
mod pods;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub use self::config::PodSecurityConfig;
use super::{Action, Attributes, Objects, Plugin};
use crate::meta::status::ApiError;

/// Where each workload kind keeps its pod template: a new kind is one line. Their writes get
/// audit annotations and warnings, never a refusal (the pods they create are refused).
pub const POD_TEMPLATES: &[(&str, &str, &str)] = &[
    ("", "podtemplates", "/template"),
    ("", "replicationcontrollers", "/spec/template"),
    ("apps", "deployments", "/spec/template"),
    ("apps", "replicasets", "/spec/template"),
    ("apps", "statefulsets", "/spec/template"),
    ("apps", "daemonsets", "/spec/template"),
    ("batch", "jobs", "/spec/template"),
    ("batch", "cronjobs", "/spec/jobTemplate/spec/template"),
];

/// The plugin.
#[derive(Debug)]
pub struct PodSecurity {
    config: PodSecurityConfig,
    /// Namespaces (their labels) and, for a namespace's dry run, its pods.
    objects: Arc<dyn Objects>,
}

impl PodSecurity {
    pub fn new(config: PodSecurityConfig, objects: Arc<dyn Objects>) -> PodSecurity {
        PodSecurity { config, objects }
    }

    fn exempt_namespace(&self, namespace: &str) -> bool {
        !namespace.is_empty() && self.config.exempt_namespaces.iter().any(|n| n == namespace)
    }

    fn exempt_user(&self, user: &str) -> bool {
        !user.is_empty() && self.config.exempt_usernames.iter().any(|u| u == user)
    }

    fn exempt_runtime_class(&self, spec: &Value) -> bool {
        let class = spec.get("runtimeClassName").and_then(Value::as_str).unwrap_or_default();
        !class.is_empty() && self.config.exempt_runtime_classes.iter().any(|c| c == class)
    }
}

#[async_trait]
impl Plugin for PodSecurity {
    fn name(&self) -> &'static str {
        "PodSecurity"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if !matches!(attributes.action, Action::Create | Action::Update) {
            return Ok(());
        }
        let Some(object) = object else { return Ok(()) };
        match (attributes.group, attributes.resource) {
            ("", "namespaces") => self.validate_namespace(attributes, object, warnings).await,
            ("", "pods") => self.validate_pod(attributes, object, warnings).await,
            (group, resource) => {
                let template = POD_TEMPLATES
                    .iter()
                    .find(|(g, r, _)| *g == group && *r == resource)
                    .map(|(_, _, pointer)| *pointer);
                match template {
                    Some(pointer) => {
                        self.validate_template(attributes, object, pointer, warnings).await;
                        Ok(())
                    }
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
