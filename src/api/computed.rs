//! GET and LIST of a computed resource (`Strategy::computed`: ComponentStatuses): the objects
//! are asked for on each request and never stored, so there is no resourceVersion, watch, or
//! write; another method is kube's 405.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, json};

use super::ApiState;
use super::negotiate::{self, Output};
use super::request::{Query, ResourcePath};
use super::status::{ApiError, Reason};
use crate::registry::Resource;
use crate::registry::object;
use crate::registry::strategy::Computed;
use crate::registry::table::{IncludeObject, render_table};

pub async fn serve(
    state: &ApiState,
    resource: &Resource,
    computed: &dyn Computed,
    path: &ResourcePath,
    query: &Query,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if *method != Method::GET || path.subresource.is_some() || query.flag("watch")? {
        return Err(ApiError::new(
            Reason::MethodNotAllowed,
            format!("the server does not allow this method on the requested resource ({method})"),
        ));
    }
    let objects = computed.objects(&state.store).await?;
    let output = negotiate::output(headers, true)?;
    let items = match &path.name {
        Some(name) => {
            let found = objects.into_iter().find(|o| object::name(o) == Some(name.as_str()));
            let found = found
                .ok_or_else(|| ApiError::not_found(&resource.gv.group, &resource.plural, name))?;
            if !matches!(output, Output::Table(_)) {
                return Ok(negotiate::respond(output, StatusCode::OK, &found));
            }
            vec![found]
        }
        None => objects,
    };
    if let Output::Table(version) = output {
        let include = IncludeObject::parse(query.value("includeObject"));
        let mut table = render_table(&resource.table, &items, include, Map::new());
        table["apiVersion"] = version.api_version().into();
        return Ok(negotiate::respond(Output::Json, StatusCode::OK, &table));
    }
    let list = json!({
        "kind": resource.list_kind(),
        "apiVersion": resource.gv.api_version(),
        "metadata": {},
        "items": items,
    });
    Ok(negotiate::respond(output, StatusCode::OK, &list))
}
