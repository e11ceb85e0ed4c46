//! `authorization.k8s.io/v1` LocalSubjectAccessReview: a SubjectAccessReview confined to one
//! namespace, so that namespace admins may be allowed to ask it. The body's namespace (and its
//! resource attributes' namespace) must be the path's; non-resource attributes are refused.

use async_trait::async_trait;
use serde_json::Value;

use super::subject_access_review::{subject, validate_spec};
use super::{AUTHORIZATION, CreateRequest, Creater, Reviewers, VERSION, access, answer};
use crate::meta::status::ApiError;
use crate::meta::validation::FieldCause;

const KIND: &str = "LocalSubjectAccessReview";

#[derive(Debug, Clone, Copy)]
pub(super) struct LocalSubjectAccessReviews;

#[async_trait]
impl Creater for LocalSubjectAccessReviews {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        (AUTHORIZATION, VERSION, KIND)
    }

    async fn create(
        &self,
        reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let namespace = request.namespace.clone().unwrap_or_default();
        if namespace.is_empty() {
            return Err(ApiError::bad_request("namespace is required on this type: "));
        }
        // The create handler's rule for every namespaced object: the path's namespace.
        let mut body = request.body;
        match body.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(given) if !given.is_empty() && given != namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on \
                     the request",
                ));
            }
            _ => {}
        }
        if let Some(map) = body.as_object_mut() {
            let meta = map.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
            if !meta.is_object() {
                *meta = Value::Object(Default::default());
            }
            meta["namespace"] = namespace.clone().into();
        }

        let spec = access::read_spec(KIND, &body)?;
        let mut causes = Vec::new();
        validate_spec(&spec, &mut causes);
        access::validate_empty_metadata(&body, &["namespace"], &mut causes);
        if let Some(resource) = &spec.resource {
            let asked = resource.get("namespace").and_then(Value::as_str).unwrap_or_default();
            if asked != namespace {
                causes.push(FieldCause::invalid(
                    "spec.resourceAttributes.namespace",
                    asked,
                    "must match metadata.namespace",
                ));
            }
        }
        if let Some(non_resource) = &spec.non_resource {
            causes.push(FieldCause::invalid(
                "spec.nonResourceAttributes",
                Value::Object(non_resource.clone()),
                "disallowed on this kind of request",
            ));
        }
        if !causes.is_empty() {
            return Err(access::invalid(KIND, causes));
        }
        let decision = reviewers.authorizer.authorize(&access::attributes(subject(&spec), &spec));
        Ok(answer(
            self.kind(),
            super::response_metadata(&body, Value::Null),
            body.get("spec").cloned().unwrap_or_default(),
            access::status(&decision),
        ))
    }
}
