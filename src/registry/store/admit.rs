//! The admission stages of the generic store: every write's [`Operation`] becomes the
//! `admission::Attributes` the plugins see, the mutating phase runs before the strategy's
//! prepare, the validating phase after its validation (see the stage list in [`super`]).
//!
//! Objects reach the plugins in the storage version, as kube-apiserver's plugins see its
//! internal version; `Attributes::version` is the version the request used. Warnings the
//! plugins add go to the operation, and from there to the client's `Warning` headers; their audit
//! annotations to the request's audit event.

use serde_json::Value;

use super::{Operation, Store};
use crate::admission::{Action, Attributes, AuditAnnotations};
use crate::meta::status::ApiError;
use crate::registry::Resource;

impl Store {
    /// Mutating admission: `object` is the new object (`None` for a delete); `old` the stored
    /// one an update or delete replaces.
    pub(super) async fn admit(
        &self,
        resource: &Resource,
        op: &Operation,
        action: Action,
        old: Option<&Value>,
        object: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        if self.admission.plugins().is_empty() {
            return Ok(());
        }
        let name = object_name(op, old, object.as_deref());
        let annotations = AuditAnnotations::default();
        let attributes = attributes(resource, op, action, &name, old, &annotations);
        let mut warnings = Vec::new();
        let result = self.admission.admit(&attributes, object, &mut warnings).await;
        report(op, warnings, &annotations);
        result
    }

    /// Validating admission: the plugins may refuse, never change.
    pub(super) async fn validate_admission(
        &self,
        resource: &Resource,
        op: &Operation,
        action: Action,
        old: Option<&Value>,
        object: Option<&Value>,
    ) -> Result<(), ApiError> {
        if self.admission.plugins().is_empty() {
            return Ok(());
        }
        let name = object_name(op, old, object);
        let annotations = AuditAnnotations::default();
        let attributes = attributes(resource, op, action, &name, old, &annotations);
        let mut warnings = Vec::new();
        let result = self.admission.validate(&attributes, object, &mut warnings).await;
        report(op, warnings, &annotations);
        result
    }
}

/// What the plugins said besides their decision: warnings for the client, annotations for
/// the audit event — those its level covers (kept whether the write was admitted or refused,
/// as kube's admission audit handler keeps them).
fn report(op: &Operation, warnings: Vec<String>, annotations: &AuditAnnotations) {
    warnings.into_iter().for_each(|w| op.warn(w));
    for (key, annotation) in annotations.take() {
        op.annotate_at(&key, &annotation.value, annotation.level);
    }
}

/// The name admission is told: the object's (a create names it late), else the URL's.
fn object_name(op: &Operation, old: Option<&Value>, object: Option<&Value>) -> String {
    object
        .or(old)
        .and_then(crate::registry::object::name)
        .filter(|name| !name.is_empty())
        .unwrap_or(&op.name)
        .to_owned()
}

fn attributes<'a>(
    resource: &'a Resource,
    op: &'a Operation,
    action: Action,
    name: &'a str,
    old: Option<&'a Value>,
    audit_annotations: &'a AuditAnnotations,
) -> Attributes<'a> {
    Attributes {
        action,
        user: &op.user,
        group: &op.group,
        version: &op.version,
        resource: &op.resource,
        subresource: &op.subresource,
        kind: &resource.kind,
        namespace: op.namespace(),
        name,
        dry_run: op.dry_run,
        old_object: old,
        options: op.options.as_ref(),
        audit_annotations,
    }
}

#[cfg(test)]
mod tests;
