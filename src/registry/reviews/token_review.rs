//! `authentication.k8s.io/v1` TokenReview: who is this bearer token? Asked by webhooks and
//! proxies that accept our tokens. The token goes through the server's token authenticators
//! (static tokens, ServiceAccount JWTs) for the spec's audiences (the API audiences when none
//! are given); the answer says whether it authenticated, as whom, for which audiences, or why
//! not (`status.error`, for a token that is unknown, expired, or whose objects are gone).

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{
    AUTHENTICATION, CreateRequest, Creater, Reviewers, VERSION, answer, response_metadata,
};
use crate::authn::{
    ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS_USER, AuthnError, TokenAuthenticator,
    UserInfo,
};
use crate::meta::status::ApiError;

const KIND: &str = "TokenReview";

#[derive(Debug, Clone, Copy)]
pub(super) struct TokenReviews;

fn decode_error(field: &str, value: &Value, want: &str) -> ApiError {
    let got = if value.is_number() { "number" } else { "value" };
    ApiError::bad_request(format!(
        "{KIND} in version \"v1\" cannot be handled as a {KIND}: json: cannot unmarshal {got} \
         into Go struct field TokenReviewSpec.spec.{field} of type {want}"
    ))
}

/// kube's `AuthenticatedGroupAdder`, which every authenticated request passes.
fn add_authenticated_group(user: &mut UserInfo) {
    if user.name == ANONYMOUS_USER {
        return;
    }
    if !user.groups.iter().any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED) {
        user.groups.push(ALL_AUTHENTICATED.to_owned());
    }
}

#[async_trait]
impl Creater for TokenReviews {
    fn kind(&self) -> (&'static str, &'static str, &'static str) {
        (AUTHENTICATION, VERSION, KIND)
    }

    async fn create(
        &self,
        reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError> {
        let token = match request.body.pointer("/spec/token") {
            None | Some(Value::Null) => "",
            Some(Value::String(token)) => token.as_str(),
            Some(other) => return Err(decode_error("token", other, "string")),
        };
        if token.is_empty() {
            return Err(ApiError::bad_request(
                "token is required for TokenReview in authentication",
            ));
        }
        let audiences: Vec<String> = match request.body.pointer("/spec/audiences") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|a| {
                    a.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| decode_error("audiences", a, "string"))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(decode_error("audiences", other, "[]string")),
        };
        let authentication = &reviewers.authentication;
        let wanted = if audiences.is_empty() { &authentication.api_audiences } else { &audiences };
        let asked = (!audiences.is_empty()).then_some(audiences.as_slice());
        let outcome = authentication.tokens.authenticate_token(token, asked).await;

        let mut status = Map::new();
        match outcome {
            Ok(Some(mut response)) => {
                if !wanted.is_empty() && !response.audiences.iter().any(|a| wanted.contains(a)) {
                    tracing::error!(?wanted, got = ?response.audiences, "error validating audience");
                    return Err(ApiError::internal("error validating audiences"));
                }
                add_authenticated_group(&mut response.user);
                status.insert("authenticated".into(), true.into());
                let user = serde_json::to_value(&response.user)
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                status.insert("user".into(), user);
                if !response.audiences.is_empty() {
                    status.insert("audiences".into(), response.audiences.into());
                }
            }
            Ok(None) => {
                status.insert("user".into(), Value::Object(Map::new()));
                status.insert("error".into(), AuthnError::InvalidBearerToken.to_string().into());
            }
            Err(error) => {
                status.insert("user".into(), Value::Object(Map::new()));
                status.insert("error".into(), error.to_string().into());
            }
        }
        Ok(answer(
            self.kind(),
            response_metadata(&request.body, Value::Null),
            request.body.get("spec").cloned().unwrap_or_default(),
            Value::Object(status),
        ))
    }
}
