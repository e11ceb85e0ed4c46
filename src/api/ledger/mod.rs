//! The endpoints of `ledger.kube-ledger.io/v1` that read across objects (docs/history.md,
//! "Across objects"): `logpositions`, `deletedobjects` and [`replay`]. The handler routes here
//! every resource whose strategy names it served by its own endpoint; the logic is in
//! `crate::history`, this module only reads the request and writes the answer.
//!
//! Flow: the path and query (already authorized by the filter chain as a `get`/`list` of the
//! ledger resource) → the caller and the chain's authorizer from the request's extensions →
//! `crate::history` → JSON (or YAML), or JSON lines for a replay.
//!
//! What the caller may see is decided per resource: `get` on `<resource>/history`, asked of the
//! same authorizer that allowed the request (for replay once, up front; for deleted objects
//! once per resource and namespace met), so the log shows nobody more than the objects' own
//! `history` subresource would.

pub mod replay;

use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::ApiState;
use super::negotiate::{self, Output};
use super::request::{Query, ResourcePath};
use super::status::{ApiError, Reason};
use crate::authn::UserInfo;
use crate::filters::authorization::RequestAuthorizer;
use crate::history::deleted::{DeletedQuery, deleted_objects};
use crate::history::position::log_position;
use crate::history::scope::{Access, Resolver};
use crate::history::time::{now_micros, parse_time};
use crate::registry::Resource;

/// A request to one of the ledger's resources.
pub async fn serve(
    state: ApiState,
    resource: Arc<Resource>,
    parts: Parts,
    path: ResourcePath,
    query: Query,
) -> Result<Response, ApiError> {
    if path.namespace.is_some() && !resource.namespaced {
        return Err(ApiError::no_such_path());
    }
    if parts.method != Method::GET {
        return Err(ApiError::new(
            Reason::MethodNotAllowed,
            format!(
                "the server does not allow this method on the requested resource ({})",
                parts.method
            ),
        ));
    }
    // Collections only: nothing here has objects to name.
    if path.name.is_some() || path.subresource.is_some() {
        return Err(ApiError::no_such_path());
    }
    path.check_segments()?;
    let access = caller(&parts);
    let output = negotiate::output(&parts.headers, false).unwrap_or(Output::Json);
    let document = match resource.plural.as_str() {
        "logpositions" => {
            let at = match query.value("time") {
                Some(text) => parse_time("time", text)?,
                None => now_micros(),
            };
            log_position(state.store.storage.as_ref(), at).await?
        }
        "deletedobjects" => {
            let mut resolver = Resolver::new(state.registry.clone());
            let request = deleted_query(&mut resolver, &path, &query)?;
            deleted_objects(&state.store, &mut resolver, &mut { access }, &request).await?
        }
        "replay" => return replay::serve(&state, access, &path, &query).await,
        _ => return Err(ApiError::no_such_path()),
    };
    Ok(negotiate::respond(output, StatusCode::OK, &document))
}

/// The caller's access to histories: the effective user and the authorizer of the request's
/// filter chain.
fn caller(parts: &Parts) -> Access {
    let extensions = &parts.extensions;
    let user = extensions.get::<UserInfo>().cloned().unwrap_or_else(UserInfo::anonymous);
    let authorizer = extensions.get::<RequestAuthorizer>().map(|RequestAuthorizer(a)| a.clone());
    Access::new(Arc::new(user), authorizer)
}

/// `deletedobjects`' query: `since`, `until`, `resource` (with `group`), `limit`, `continue`.
fn deleted_query(
    resolver: &mut Resolver,
    path: &ResourcePath,
    query: &Query,
) -> Result<DeletedQuery, ApiError> {
    let time = |name: &str| query.value(name).map(|text| parse_time(name, text)).transpose();
    let limit = match query.number("limit")? {
        Some(limit) if limit < 0 => {
            return Err(ApiError::bad_request(format!(
                "invalid limit {limit}: must not be negative"
            )));
        }
        limit => limit.map(|l| l as usize),
    };
    Ok(DeletedQuery {
        namespace: path.namespace.clone(),
        since: time("since")?,
        until: time("until")?,
        resource: named_resource(resolver, query)?,
        limit,
        continue_token: query.value("continue").map(str::to_owned),
    })
}

/// The resource `resource=` (in `group=`, the core group by default) names, in its preferred
/// served version; a 400 when nothing stored is served by that name.
pub(super) fn named_resource(
    resolver: &mut Resolver,
    query: &Query,
) -> Result<Option<Arc<Resource>>, ApiError> {
    let Some(plural) = query.value("resource") else { return Ok(None) };
    let group = query.value("group").unwrap_or("");
    resolver.resource(group, plural).map(Some).ok_or_else(|| {
        let what = if group.is_empty() { plural.to_owned() } else { format!("{plural}.{group}") };
        ApiError::bad_request(format!(
            "invalid resource {what:?}: no such stored resource is served"
        ))
    })
}
