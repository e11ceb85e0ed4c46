//! The endpoint of the create-only resources (`crate::registry::reviews`: the reviews and
//! `serviceaccounts/{name}/token`), as kube-apiserver routes them: POST to the collection (or
//! the subresource) only — another method is a 405, a name on a review's path a 404. The body
//! is decoded as the creater's kind, the requesting user comes from the request's extensions
//! (`crate::authn::UserInfo`, set by the authentication and impersonation filters; anonymous
//! without one), and the creater's answer is a 201 in the negotiated encoding: JSON, YAML or
//! protobuf (each creater's kind is a built-in one), errors included, as kube's
//! `ErrorNegotiated` writes them.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, StatusCode, request::Parts};
use axum::response::Response;
use serde_json::Value;

use super::ApiState;
use super::handlers::MAX_BODY_BYTES;
use super::negotiate::{self, BodyType};
use super::request::{Query, ResourcePath};
use super::status::{ApiError, Reason};
use crate::authn::UserInfo;
use crate::registry::GroupVersion;
use crate::registry::reviews::{CreateRequest, Creater};

/// The create-only endpoint a path names, if any.
pub fn creater_for(state: &ApiState, path: &ResourcePath) -> Option<Arc<dyn Creater>> {
    let subresource = path.subresource.as_deref().unwrap_or("");
    state.registry.creater(&path.group, &path.version, &path.resource, subresource)
}

/// Serves one request to `creater`; an error is a `Status` in the encoding the client prefers.
pub async fn serve(
    state: ApiState,
    creater: Arc<dyn Creater>,
    parts: Parts,
    path: ResourcePath,
    query: Query,
    body: Body,
) -> Result<Response, ApiError> {
    let accept = negotiate::accept_of(&parts.headers).to_owned();
    let protobuf = has_protobuf(creater.as_ref());
    Ok(create(state, creater, parts, path, query, body)
        .await
        .unwrap_or_else(|error| negotiate::error_response(&accept, protobuf, error)))
}

/// Whether the creater's kind has a protobuf encoding (every built-in kind does).
fn has_protobuf(creater: &dyn Creater) -> bool {
    let (group, version, kind) = creater.kind();
    super::protobuf::has_encoding(&GroupVersion::new(group, version).api_version(), kind)
}

async fn create(
    state: ApiState,
    creater: Arc<dyn Creater>,
    parts: Parts,
    path: ResourcePath,
    query: Query,
    body: Body,
) -> Result<Response, ApiError> {
    let resource = state
        .registry
        .get(&path.group, &path.version, &path.resource)
        .ok_or_else(ApiError::no_such_path)?;
    let is_review = path.subresource.is_none();
    if resource.namespaced != path.namespace.is_some() || (is_review && path.name.is_some()) {
        return Err(ApiError::no_such_path());
    }
    if parts.method != Method::POST {
        return Err(ApiError::new(
            Reason::MethodNotAllowed,
            format!(
                "the server does not allow this method on the requested resource ({})",
                parts.method
            ),
        ));
    }
    // Negotiated before anything happens: a 406 never follows an eviction or a new token.
    let offer = negotiate::Offer { protobuf: has_protobuf(creater.as_ref()), ..Default::default() };
    let output = negotiate::negotiate(&parts.headers, offer)?;
    query.dry_run()?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(Reason::RequestEntityTooLarge, "the request body is too large (limit 3 MiB)")
    })?;
    let (group, version, kind) = creater.kind();
    let body = match negotiate::body_type(&parts.headers)? {
        body_type @ (BodyType::Json | BodyType::Yaml | BodyType::Protobuf) => {
            negotiate::decode_object(&bytes, body_type, kind)?
        }
        _ => {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                "a patch content type is only accepted with PATCH",
            ));
        }
    };
    check_type(&body, &GroupVersion::new(group, version), kind)?;
    let reviewers = state
        .registry
        .reviewers()
        .ok_or_else(|| ApiError::internal("the review endpoints are not configured"))?;
    let user = parts.extensions.get::<UserInfo>().cloned().unwrap_or_else(UserInfo::anonymous);
    let mut warnings = Vec::new();
    let request = CreateRequest {
        store: &state.store,
        user,
        namespace: path.namespace.clone(),
        name: if is_review { None } else { path.name.clone() },
        body,
        warnings: &mut warnings,
    };
    let answer = creater.create(&reviewers, request).await?;
    let response = negotiate::respond(output, StatusCode::CREATED, &answer);
    Ok(super::handlers::with_warnings(response, &warnings))
}

/// A body of another kind or version is refused as kube's decoder refuses it; a missing
/// `apiVersion` or `kind` is the endpoint's.
fn check_type(body: &Value, gv: &GroupVersion, kind: &str) -> Result<(), ApiError> {
    let text = |field: &str| body.get(field).and_then(Value::as_str).unwrap_or("");
    let data_version = text("apiVersion");
    let data_kind = match text("kind") {
        "" => kind,
        given => given,
    };
    if data_kind != kind {
        let version =
            if data_version.is_empty() { gv.api_version() } else { data_version.to_owned() };
        return Err(ApiError::bad_request(format!(
            "{data_kind} in version {version:?} cannot be handled as a {kind}: no kind \
             {data_kind:?} is registered for version {version:?}"
        )));
    }
    if !data_version.is_empty() && data_version != gv.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({data_version}) does not match the expected API \
             version ({})",
            gv.api_version()
        )));
    }
    Ok(())
}
