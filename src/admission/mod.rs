//! Admission: the plugins every write passes between decoding and storage, as
//! k8s.io/apiserver's admission chain runs them.
//!
//! Data flow inside the generic store (see `docs/architecture.md`):
//!
//! ```text
//! decoded object ─▶ Chain::admit     (mutating plugins, in order; may change the object)
//!                ─▶ strategy prepare ─▶ strategy validate
//!                ─▶ Chain::validate  (validating plugins, in order; may only refuse)
//!                ─▶ storage write
//! ```
//!
//! A plugin sees one write's [`Attributes`] (who, which action, which resource and object) and
//! answers `Ok` or the `Status` error the client gets (403 Forbidden for a policy refusal, 422
//! for an invalid object, whatever a webhook returned). Warnings a plugin adds reach the client
//! in `Warning` headers. Deletes are admitted with the object being deleted as `old_object` and
//! no new object.

pub mod certificate_approval;
pub mod certificate_signing;
pub mod certificate_subject_restriction;
pub mod config;
pub mod default_ingress_class;
pub mod default_storage_class;
pub mod default_toleration_seconds;
pub mod limit_ranger;
pub mod namespace_lifecycle;
mod objects;
pub mod pod_resources;
pub mod pod_security;
pub mod policy;
pub mod priority;
pub mod resource_quota;
pub mod service_account;
pub mod webhook;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde_json::Value;

use crate::audit::Level;
use crate::authn::UserInfo;
use crate::meta::status::ApiError;
pub use objects::Objects;

/// The kind of write being admitted; serialized as AdmissionReview's `operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Update,
    Delete,
    Connect,
}

impl Action {
    /// AdmissionReview's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "CREATE",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
            Action::Connect => "CONNECT",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One write, as every admission plugin sees it (kube's `admission.Attributes`).
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub action: Action,
    pub user: &'a UserInfo,
    /// The resource addressed, in the version the request used.
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    /// `""`, `status`, `scale`, …
    pub subresource: &'a str,
    pub kind: &'a str,
    /// `""` for cluster-scoped resources.
    pub namespace: &'a str,
    /// May be empty on a create with `generateName` (mutating plugins run before naming).
    pub name: &'a str,
    /// `dryRun=All`: plugins with side effects must not act.
    pub dry_run: bool,
    /// The stored object an update or delete replaces.
    pub old_object: Option<&'a Value>,
    /// CreateOptions / UpdateOptions / DeleteOptions as sent in AdmissionReview.
    pub options: Option<&'a Value>,
    /// Where [`Attributes::annotate`] puts the request's audit annotations.
    pub audit_annotations: &'a AuditAnnotations,
}

impl Attributes<'_> {
    /// An annotation on the request's audit event (kube's `Attributes.AddAnnotation`), such as
    /// `pod-security.kubernetes.io/enforce-policy` or a webhook's `{webhook name}/{key}`,
    /// recorded at every audit level from `Metadata` on. A key that is not
    /// `<DNS subdomain>/<name>`, or a second different value for a key, is dropped with a
    /// warning in the server's log, as kube's plugins log the error and go on.
    pub fn annotate(&self, key: impl Into<String>, value: impl Into<String>) {
        self.annotate_at(key, value, Level::Metadata);
    }

    /// [`Attributes::annotate`] recorded only from audit level `level` on (kube's
    /// `AddAnnotationWithLevel`, `Metadata` or `Request`: a mutating webhook's patch is
    /// request content, kept from `Request` on).
    pub fn annotate_at(&self, key: impl Into<String>, value: impl Into<String>, level: Level) {
        let key = key.into();
        if let Err(reason) = self.audit_annotations.add(key.clone(), value.into(), level) {
            tracing::warn!(%key, %reason, "admission audit annotation dropped");
        }
    }
}

/// One audit annotation of admission: its value and the lowest audit level that records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnnotation {
    pub value: String,
    pub level: Level,
}

/// The audit annotations admission adds to one write (shared by both phases, collected by the
/// store into the request's audit event, which keeps those its level covers).
#[derive(Debug)]
pub struct AuditAnnotations {
    /// False for [`AuditAnnotations::unrecorded`]: keys are checked, nothing is kept.
    recorded: bool,
    annotations: Mutex<BTreeMap<String, AuditAnnotation>>,
}

impl Default for AuditAnnotations {
    fn default() -> AuditAnnotations {
        AuditAnnotations { recorded: true, annotations: Mutex::default() }
    }
}

impl AuditAnnotations {
    /// Adds `key`, as kube's admission attributes do: the key must be a qualified name with a
    /// DNS-subdomain prefix (`example.com/name`), the level `Metadata` or `Request`, and a key
    /// keeps its first value (the same value again is no error).
    pub fn add(&self, key: String, value: String, level: Level) -> Result<(), String> {
        check_key(&key)?;
        if !matches!(level, Level::Metadata | Level::Request) {
            return Err(format!(
                "admission annotations are not allowed to be set at level other than Metadata \
                 and Request, key: {key:?}, level: {level:?}"
            ));
        }
        if !self.recorded {
            return Ok(());
        }
        let mut annotations = self.annotations.lock().unwrap_or_else(PoisonError::into_inner);
        let annotation = AuditAnnotation { value, level };
        match annotations.get(&key) {
            Some(old) if *old != annotation => Err(format!(
                "admission annotations are not allowed to be overwritten, key: {key:?}, old \
                 value: {:?}, new value: {:?}",
                old.value, annotation.value
            )),
            Some(_) => Ok(()),
            None => {
                annotations.insert(key, annotation);
                Ok(())
            }
        }
    }

    /// A sink nobody reads, for callers without a request to audit (unit tests).
    pub fn unrecorded() -> &'static AuditAnnotations {
        static SINK: AuditAnnotations =
            AuditAnnotations { recorded: false, annotations: Mutex::new(BTreeMap::new()) };
        &SINK
    }

    /// The annotations added so far, leaving none.
    pub fn take(&self) -> BTreeMap<String, AuditAnnotation> {
        std::mem::take(&mut *self.annotations.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// kube's `checkKeyFormat`: exactly one `/`, and a qualified name as a whole.
fn check_key(key: &str) -> Result<(), String> {
    if key.split('/').count() != 2 {
        return Err("annotation key has invalid format, the right format is a DNS subdomain \
                    prefix and '/' and key name. (e.g. 'podsecuritypolicy.admission.k8s.io/admit-policy')"
            .to_owned());
    }
    let errors = crate::meta::validation::is_qualified_name(key);
    if !errors.is_empty() {
        return Err(format!(
            "annotation key has invalid format {}. A qualified name like \
             'podsecuritypolicy.admission.k8s.io/admit-policy' is required.",
            errors.join(",")
        ));
    }
    Ok(())
}

/// One admission plugin. Both phases default to admitting: a plugin implements the ones it
/// takes part in.
#[async_trait]
pub trait Plugin: Send + Sync + fmt::Debug {
    /// kube-apiserver's name for the plugin (`NamespaceLifecycle`, `MutatingAdmissionWebhook`).
    fn name(&self) -> &'static str;

    /// Mutating phase. `object` is the new object (`None` for deletes and connects).
    async fn admit(
        &self,
        _attributes: &Attributes<'_>,
        _object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Validating phase, after the strategy's own validation. Must not change anything.
    async fn validate(
        &self,
        _attributes: &Attributes<'_>,
        _object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}

/// The plugins of a server, in the order they run.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    plugins: Vec<Arc<dyn Plugin>>,
}

impl Chain {
    pub fn new(plugins: Vec<Arc<dyn Plugin>>) -> Chain {
        Chain { plugins }
    }

    pub fn plugins(&self) -> &[Arc<dyn Plugin>] {
        &self.plugins
    }

    /// Every plugin's mutating phase, in order; the first refusal ends it.
    pub async fn admit(
        &self,
        attributes: &Attributes<'_>,
        mut object: Option<&mut Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        for plugin in &self.plugins {
            plugin.admit(attributes, object.as_deref_mut(), warnings).await?;
        }
        Ok(())
    }

    /// Every plugin's validating phase, in order; the first refusal ends it.
    pub async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        for plugin in &self.plugins {
            plugin.validate(attributes, object, warnings).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::meta::status::Reason;

    #[derive(Debug)]
    struct AddLabel;

    #[async_trait]
    impl Plugin for AddLabel {
        fn name(&self) -> &'static str {
            "AddLabel"
        }
        async fn admit(
            &self,
            _: &Attributes<'_>,
            object: Option<&mut Value>,
            warnings: &mut Vec<String>,
        ) -> Result<(), ApiError> {
            if let Some(object) = object {
                object["metadata"]["labels"]["admitted"] = json!("true");
                warnings.push("labelled".to_owned());
            }
            Ok(())
        }
    }

    #[derive(Debug)]
    struct DenyUnlabelled;

    #[async_trait]
    impl Plugin for DenyUnlabelled {
        fn name(&self) -> &'static str {
            "DenyUnlabelled"
        }
        async fn validate(
            &self,
            _: &Attributes<'_>,
            object: Option<&Value>,
            _: &mut Vec<String>,
        ) -> Result<(), ApiError> {
            match object.and_then(|o| o.pointer("/metadata/labels/admitted")) {
                Some(_) => Ok(()),
                None => Err(ApiError::new(Reason::Forbidden, "not admitted")),
            }
        }
    }

    fn attributes(user: &UserInfo) -> Attributes<'_> {
        Attributes {
            action: Action::Create,
            user,
            group: "",
            version: "v1",
            resource: "configmaps",
            subresource: "",
            kind: "ConfigMap",
            namespace: "default",
            name: "a",
            dry_run: false,
            old_object: None,
            options: None,
            audit_annotations: AuditAnnotations::unrecorded(),
        }
    }

    #[tokio::test]
    async fn mutations_run_before_validations_see_them() {
        let user = UserInfo::anonymous();
        let attributes = attributes(&user);
        let mut warnings = Vec::new();
        let mut object = json!({"metadata": {"name": "a"}});

        let deny_only = Chain::new(vec![Arc::new(DenyUnlabelled)]);
        let err = deny_only.validate(&attributes, Some(&object), &mut warnings).await;
        assert_eq!(err.unwrap_err().reason, Reason::Forbidden);

        let chain = Chain::new(vec![Arc::new(AddLabel), Arc::new(DenyUnlabelled)]);
        chain.admit(&attributes, Some(&mut object), &mut warnings).await.unwrap();
        chain.validate(&attributes, Some(&object), &mut warnings).await.unwrap();
        assert_eq!(object["metadata"]["labels"]["admitted"], "true");
        assert_eq!(warnings, ["labelled"]);
    }

    #[test]
    fn audit_annotations_are_checked_as_kube_checks_them() {
        let annotations = AuditAnnotations::default();
        let add = |key: &str, value: &str, level| {
            annotations.add(key.to_owned(), value.to_owned(), level)
        };
        add("label.example.com/seen", "1", Level::Metadata).unwrap();
        add("label.example.com/seen", "1", Level::Metadata).unwrap();
        let err = add("label.example.com/seen", "2", Level::Metadata).unwrap_err();
        assert!(err.contains("not allowed to be overwritten"), "{err}");
        for key in ["seen", "a.example.com/b/c", "example.com/has space", "/x", "Example.com/x"] {
            let err = add(key, "v", Level::Metadata).unwrap_err();
            assert!(err.starts_with("annotation key has invalid format"), "{key}: {err}");
        }
        let long = format!("example.com/{}", "k".repeat(64));
        assert!(add(&long, "v", Level::Metadata).is_err(), "name part over 63 characters");
        let err = add("example.com/x", "v", Level::RequestResponse).unwrap_err();
        assert!(err.contains("level other than Metadata and Request"), "{err}");
        add("example.com/patch", "[]", Level::Request).unwrap();
        let taken = annotations.take();
        assert_eq!(
            taken.keys().collect::<Vec<_>>(),
            ["example.com/patch", "label.example.com/seen"]
        );
        assert_eq!(taken["example.com/patch"].level, Level::Request);
        assert!(annotations.take().is_empty());

        // The sink of unit tests checks keys and keeps nothing.
        let sink = AuditAnnotations::unrecorded();
        sink.add("example.com/x".into(), "1".into(), Level::Metadata).unwrap();
        sink.add("example.com/x".into(), "2".into(), Level::Metadata).unwrap();
        assert!(sink.take().is_empty());
    }
}
