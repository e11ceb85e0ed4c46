//! `authorization.k8s.io/v1` SelfSubjectRulesReview: what may I do in this namespace?
//! (`kubectl auth can-i --list`.) The answer is a new object: an empty spec, and the rules each
//! authorizer lists for the requesting user ([`super::RulesResolver`]).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{AUTHORIZATION, CreateRequest, Creater, Reviewers, VERSION, answer};
use crate::meta::status::ApiError;

const KIND: &str = "SelfSubjectRulesReview";

#[derive(Debug, Clone, Copy)]
pub(super) struct SelfSubjectRulesReviews;

#[async_trait]
impl Creater for SelfSubjectRulesReviews {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        (AUTHORIZATION, VERSION, KIND)
    }

    async fn create(
        &self,
        reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let namespace = match request.body.pointer("/spec/namespace") {
            None | Some(Value::Null) => "",
            Some(Value::String(namespace)) => namespace.as_str(),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "{KIND} in version \"v1\" cannot be handled as a {KIND}: json: cannot \
                     unmarshal {} into Go struct field SelfSubjectRulesReviewSpec.spec.namespace \
                     of type string",
                    if other.is_number() { "number" } else { "value" }
                )));
            }
        };
        if namespace.is_empty() {
            return Err(ApiError::bad_request("no namespace on request"));
        }
        let rules = reviewers.rules.rules_for(&request.user, namespace);
        let mut status = json!({
            "resourceRules": rules.resource.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "nonResourceRules": rules.non_resource.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "incomplete": rules.incomplete,
        });
        if let Some(error) = rules.evaluation_error {
            status["evaluationError"] = error.into();
        }
        Ok(answer(self.kind(), json!({"creationTimestamp": null}), json!({}), status))
    }
}
