//! `authentication.k8s.io/v1` SelfSubjectReview: who am I? (`kubectl auth whoami`.) The answer
//! is the requesting user as authentication (and impersonation) left it.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{AUTHENTICATION, CreateRequest, Creater, Reviewers, VERSION};
use crate::meta::status::ApiError;

#[derive(Debug, Clone, Copy)]
pub(super) struct SelfSubjectReviews;

#[async_trait]
impl Creater for SelfSubjectReviews {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        (AUTHENTICATION, VERSION, "SelfSubjectReview")
    }

    async fn create(
        &self,
        _reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let user =
            serde_json::to_value(&request.user).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": crate::registry::object::now_rfc3339()},
            "status": {"userInfo": user},
        }))
    }
}
