//! `authorization.k8s.io/v1` SubjectAccessReview: may this user (or these groups) do this? The
//! subject is the spec's, not the requester's; asking needs `create` on the resource, which
//! kube's policy grants only to admins and the API server's own users.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::access::{self, Spec};
use super::{AUTHORIZATION, CreateRequest, Creater, Reviewers, VERSION, answer, response_metadata};
use crate::meta::status::ApiError;
use crate::meta::validation::FieldCause;

const KIND: &str = "SubjectAccessReview";

#[derive(Debug, Clone, Copy)]
pub(super) struct SubjectAccessReviews;

/// The subject of a (Local)SubjectAccessReview.
pub(super) fn subject(spec: &Spec) -> Arc<crate::authz::UserInfo> {
    Arc::new(crate::authz::UserInfo {
        name: spec.user.clone(),
        uid: spec.uid.clone(),
        groups: spec.groups.clone(),
        extra: spec.extra.clone(),
    })
}

/// `ValidateSubjectAccessReviewSpec`: the attributes, and someone to ask about.
pub(super) fn validate_spec(spec: &Spec, causes: &mut Vec<FieldCause>) {
    access::validate_attributes(spec, causes);
    if spec.user.is_empty() && spec.groups.is_empty() {
        causes.push(FieldCause::invalid(
            "spec.user",
            "",
            "at least one of user or group must be specified",
        ));
    }
}

#[async_trait]
impl Creater for SubjectAccessReviews {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        (AUTHORIZATION, VERSION, KIND)
    }

    async fn create(
        &self,
        reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let spec = access::read_spec(KIND, &request.body)?;
        let mut causes = Vec::new();
        validate_spec(&spec, &mut causes);
        access::validate_empty_metadata(&request.body, &[], &mut causes);
        if !causes.is_empty() {
            return Err(access::invalid(KIND, causes));
        }
        let decision = reviewers.authorizer.authorize(&access::attributes(subject(&spec), &spec));
        Ok(answer(
            self.kind(),
            response_metadata(&request.body, Value::Null),
            request.body.get("spec").cloned().unwrap_or_default(),
            access::status(&decision),
        ))
    }
}
