//! `authorization.k8s.io/v1` SelfSubjectAccessReview: may I do this? (`kubectl auth can-i`.)
//! The subject is the requesting user, after impersonation.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::access;
use super::{AUTHORIZATION, CreateRequest, Creater, Reviewers, VERSION, answer, response_metadata};
use crate::meta::status::ApiError;

const KIND: &str = "SelfSubjectAccessReview";

#[derive(Debug, Clone, Copy)]
pub(super) struct SelfSubjectAccessReviews;

#[async_trait]
impl Creater for SelfSubjectAccessReviews {
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
        access::validate_attributes(&spec, &mut causes);
        access::validate_empty_metadata(&request.body, &[], &mut causes);
        if !causes.is_empty() {
            return Err(access::invalid(KIND, causes));
        }
        let user = Arc::new(request.user.clone());
        let decision = reviewers.authorizer.authorize(&access::attributes(user, &spec));
        Ok(answer(
            self.kind(),
            response_metadata(&request.body, Value::Null),
            request.body.get("spec").cloned().unwrap_or_default(),
            access::status(&decision),
        ))
    }
}
