//! ServiceAccount issuer discovery, served so that others can verify our tokens:
//! `/.well-known/openid-configuration` and `/openid/v1/jwks` (`crate::authn::oidc` builds the
//! documents; they come with the registry's reviewers, built at start). As kube: an hour of
//! public caching, `application/jwk-set+json` for the key set, and a 404 for both when the
//! issuer is not one discovery can describe (not an https URL, no `jwks_uri`).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::ApiState;
use super::status::ApiError;
use crate::authn::oidc::{CACHE_MAX_AGE_SECONDS, CONFIG_CONTENT_TYPE, JWKS_CONTENT_TYPE};

fn document(value: Option<&Value>, content_type: &'static str) -> Response {
    let Some(value) = value else { return ApiError::no_such_path().into_response() };
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(cache) = format!("public, max-age={CACHE_MAX_AGE_SECONDS}").parse() {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    response
}

/// `GET /.well-known/openid-configuration`.
pub async fn openid_configuration(State(state): State<ApiState>) -> Response {
    let reviewers = state.registry.reviewers();
    let config = reviewers.as_ref().and_then(|r| r.authentication.openid_configuration.as_ref());
    document(config, CONFIG_CONTENT_TYPE)
}

/// `GET /openid/v1/jwks`.
pub async fn jwks(State(state): State<ApiState>) -> Response {
    let reviewers = state.registry.reviewers();
    let discoverable =
        reviewers.as_ref().filter(|r| r.authentication.openid_configuration.is_some());
    document(discoverable.map(|r| &r.authentication.jwks), JWKS_CONTENT_TYPE)
}
