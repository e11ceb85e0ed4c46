//! `GET /apis/ledger.kube-ledger.io/v1/replay`: the log's events as JSON lines
//! (`application/jsonl`), streamed as the client reads (`crate::history::replay` builds them).
//!
//! The caller needs `get` on `<resource>/history` (in `namespace=` when given); without
//! `resource=`, on `*/history` in every API group. It is asked once, before the first byte, so
//! a refusal is an ordinary 403 Status. The stream ends after the range's last event, when the
//! client goes away (the body is dropped, and the storage read with it), or at shutdown.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;

use super::super::ApiState;
use super::super::request::{Query, ResourcePath};
use super::super::status::ApiError;
use crate::history::replay::{Format, Replay, range};
use crate::history::scope::{Access, Resolver};

/// The media type of a replay: one JSON document per line.
pub const CONTENT_TYPE: &str = "application/jsonl";

pub async fn serve(
    state: &ApiState,
    access: Access,
    path: &ResourcePath,
    query: &Query,
) -> Result<Response, ApiError> {
    let format = Format::parse(query.value("format"))?;
    let mut resolver = Resolver::new(state.registry.clone());
    let resource = super::named_resource(&mut resolver, query)?;
    let namespace = query.value("namespace").or(path.namespace.as_deref()).map(str::to_owned);
    let namespace = namespace.filter(|ns| !ns.is_empty());
    let scope = namespace.as_deref().unwrap_or("");
    let attributes = match &resource {
        Some(r) => access.attributes(&r.gv.group, &r.gv.version, &r.plural, scope),
        None => access.attributes("*", "*", "*", scope),
    };
    if let Err(reason) = access.decide(&attributes) {
        // The filter's wording: `secrets is forbidden: User "bob" cannot get resource
        // "secrets/history" in API group "" in the namespace "ns"`.
        let forbidden = crate::authz::Forbidden::for_request(&attributes, &reason);
        let mut error = ApiError::forbidden(&forbidden.group, &forbidden.resource, "", "");
        error.message = forbidden.message;
        return Err(error);
    }
    let (from, to) = range(&state.store, query.value("from"), query.value("to")).await?;
    let prefix = match &resource {
        Some(r) => r.prefix(namespace.as_deref()),
        None => "/".to_owned(),
    };
    // A resource's prefix already holds one namespace; across resources each key is checked.
    let namespace = namespace.filter(|_| resource.as_ref().is_none_or(|r| !r.namespaced));
    let replay = Replay { store: state.store.clone(), resolver, format, namespace };
    let lines = replay.stream(&prefix, from, to).await?;
    let mut shutdown = state.shutdown.clone();
    let stopped = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let body = lines.take_until(Box::pin(stopped)).map(|chunk| {
        chunk.map_err(|err| {
            tracing::warn!(message = %err.message, "replay ended early");
            std::io::Error::other(err.message)
        })
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(response)
}
