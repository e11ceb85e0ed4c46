//! The endpoints: one handler for every path under `/api` and `/apis`. It parses the path and
//! query, negotiates encodings, and calls the generic store; it holds no per-kind logic.
//!
//! Flow: request → [`parse_path`] → discovery, or a [`Resource`] from the registry → verb by
//! method and path shape → store → response in the negotiated encoding, or a `Status` error.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::negotiate::{self, BodyType, Output};
use super::request::{Query, ResourcePath, Target, parse_path};
use super::status::{ApiError, Reason};
use super::{ApiState, discovery, scale, typemeta, watch};
use crate::filters::RequestInfo;
use crate::meta::fields::FieldSelector;
use crate::meta::labels::LabelSelector;
use crate::registry::Resource;
use crate::registry::store::delete::Deletion;
use crate::registry::store::write::Part;
use crate::registry::store::{
    DeleteOptions, ListParams, RequestContext, WatchParams, WriteOptions,
};
use crate::registry::table::{IncludeObject, render_table};

/// kube-apiserver's request body limit.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Everything under `/api` and `/apis`.
pub async fn serve(State(state): State<ApiState>, request: Request) -> Response {
    match handle(state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(state: ApiState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query())?;
    // Classified once by the request-info filter (crate::filters); a path it did not take for
    // an API path (or a handler served without the chain) is parsed here for its 404 or 400.
    let target = match parts.extensions.get::<RequestInfo>() {
        Some(RequestInfo { target: Some(target), .. }) => target.clone(),
        _ => parse_path(parts.uri.path())?,
    };
    match target {
        Target::Resource(path) => {
            let resource = state
                .registry
                .get(&path.group, &path.version, &path.resource)
                .ok_or_else(ApiError::no_such_path)?;
            let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
                ApiError::new(
                    Reason::RequestEntityTooLarge,
                    "the request body is too large (limit 3 MiB)",
                )
            })?;
            // A deprecated (custom resource) version warns on every request, errors included.
            let warning = resource.strategy.request_warning().map(str::to_owned);
            let call = Call {
                state,
                resource,
                path,
                query,
                headers: parts.headers,
                method: parts.method,
                body,
            };
            let response = call.dispatch().await;
            match warning {
                Some(text) => {
                    let response = response.unwrap_or_else(IntoResponse::into_response);
                    Ok(with_warnings(response, &[text]))
                }
                None => response,
            }
        }
        other => {
            if parts.method != Method::GET {
                return Err(method_not_allowed(&parts.method));
            }
            discovery_response(&state, other, &parts.headers)
        }
    }
}

/// Adds `Warning: 299 - "<text>"` headers (RFC 7234 warn-code 299, as kube-apiserver sends
/// them; kubectl prints each as `Warning: <text>`).
fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for text in warnings {
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = format!("299 - \"{escaped}\"").parse() {
            response.headers_mut().append(axum::http::header::WARNING, value);
        }
    }
    response
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        Reason::MethodNotAllowed,
        format!("the server does not allow this method on the requested resource ({method})"),
    )
}

fn discovery_response(
    state: &ApiState,
    target: Target,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let registry = &state.registry;
    let accept =
        headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (document, content_type) = match target {
        Target::Root { core } => match discovery::negotiate_aggregated(accept) {
            Some(version) => {
                let content_type = version.content_type();
                (discovery::aggregated(registry, core, version), Some(content_type))
            }
            None if core => (discovery::api_versions(registry, &state.server_address), None),
            None => (discovery::api_group_list(registry), None),
        },
        Target::Group { group } => {
            (discovery::api_group(registry, &group).ok_or_else(ApiError::no_such_path)?, None)
        }
        Target::GroupVersion { group, version } => (
            discovery::api_resource_list(registry, &group, &version)
                .ok_or_else(ApiError::no_such_path)?,
            None,
        ),
        Target::Resource(_) => return Err(ApiError::no_such_path()),
    };
    let output = negotiate::output(headers, false).unwrap_or(Output::Json);
    let mut response = negotiate::respond(output, StatusCode::OK, &document);
    if let Some(Ok(value)) = content_type.map(str::parse) {
        response.headers_mut().insert(axum::http::header::CONTENT_TYPE, value);
    }
    Ok(response)
}

/// One resource request, parsed.
struct Call {
    state: ApiState,
    resource: Arc<Resource>,
    path: ResourcePath,
    query: Query,
    headers: HeaderMap,
    method: Method,
    body: bytes::Bytes,
}

impl Call {
    async fn dispatch(self) -> Result<Response, ApiError> {
        if self.path.namespace.is_some() && !self.resource.namespaced {
            return Err(ApiError::no_such_path());
        }
        // `None`: the scale subresource, served by its own handler.
        let part = match self.path.subresource.as_deref() {
            None => Some(Part::Main),
            Some("status") if self.resource.status_subresource => Some(Part::Status),
            Some("scale") if self.resource.scale_subresource.is_some() => None,
            Some(_) => return Err(ApiError::no_such_path()),
        };
        // A route that exists (404s first, as kube-apiserver's router), then the names in it.
        self.path.check_segments()?;
        let Some(part) = part else {
            return scale::handle(
                self.state,
                self.resource,
                self.path,
                self.query,
                self.headers,
                self.method,
                self.body,
            )
            .await;
        };
        let name = self.path.name.clone();
        match (&self.method, name, part) {
            (&Method::GET, None, Part::Main) => {
                if self.query.flag("watch")? {
                    self.watch().await
                } else {
                    self.list().await
                }
            }
            (&Method::GET, Some(name), _) => {
                if self.query.flag("watch")? {
                    return self.watch_one(&name).await;
                }
                self.get(&name).await
            }
            (&Method::POST, None, Part::Main) => self.create().await,
            (&Method::PUT, Some(name), part) => self.update(&name, part).await,
            (&Method::PATCH, Some(name), part) => self.patch(&name, part).await,
            (&Method::DELETE, Some(name), Part::Main) => self.delete(&name).await,
            (&Method::DELETE, None, Part::Main) => self.delete_collection().await,
            (method, _, _) => Err(method_not_allowed(method)),
        }
    }

    fn namespace(&self) -> Option<&str> {
        self.path.namespace.as_deref()
    }

    /// Writes to a namespaced resource need a namespace in the path.
    fn require_namespace(&self) -> Result<(), ApiError> {
        if self.resource.namespaced && self.namespace().is_none() {
            return Err(method_not_allowed(&self.method));
        }
        Ok(())
    }

    fn ctx(&self) -> RequestContext {
        let audit_id = self
            .headers
            .get("audit-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 128)
            .map(str::to_owned)
            .unwrap_or_else(crate::registry::object::new_uid);
        RequestContext { user: "system:anonymous".to_owned(), audit_id }
    }

    fn write_options(&self) -> Result<WriteOptions, ApiError> {
        // Field validation is the server's (the objects are schemaless JSON for now, so unknown
        // fields are kept under every mode); an unknown mode is a 400 as in kube-apiserver.
        match self.query.value("fieldValidation") {
            None | Some("Ignore" | "Warn" | "Strict") => {}
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
                )));
            }
        }
        Ok(WriteOptions { dry_run: self.query.dry_run()?, ..Default::default() })
    }

    /// `fieldValidation` for the fields a write would drop as unknown (the resource's schema
    /// says which): a 400 under `Strict`, warnings under `Warn` (the default), nothing under
    /// `Ignore`. `body` is a request object, or a merge patch (a partial object).
    fn unknown_field_warnings(&self, body: &Value) -> Result<Vec<String>, ApiError> {
        let mut unknown = self.resource.strategy.unknown_fields(body);
        // Strategic merge patch directives (`$patch`, `$setElementOrder/…`) are not fields.
        unknown.retain(|path| !path.contains('$'));
        let messages: Vec<String> =
            unknown.iter().map(|f| format!("unknown field {f:?}")).collect();
        match self.query.value("fieldValidation") {
            _ if messages.is_empty() => Ok(messages),
            Some("Strict") => Err(ApiError::bad_request(format!(
                "strict decoding error: {}",
                messages.join(", ")
            ))),
            Some("Ignore") => Ok(Vec::new()),
            _ => Ok(messages),
        }
    }

    fn list_params(&self) -> Result<ListParams, ApiError> {
        let label_selector = match self.query.value("labelSelector") {
            Some(text) => {
                LabelSelector::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            None => LabelSelector::everything(),
        };
        let field_selector = match self.query.value("fieldSelector") {
            Some(text) => {
                let selector =
                    FieldSelector::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))?;
                let mut supported = vec!["metadata.name"];
                if self.resource.namespaced {
                    supported.push("metadata.namespace");
                }
                supported.extend(self.resource.strategy.selectable_field_names());
                selector
                    .check_supported(&supported)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                selector
            }
            None => FieldSelector::everything(),
        };
        Ok(ListParams {
            label_selector,
            field_selector,
            limit: self.query.number("limit")?.map(|n| n as usize),
            continue_token: self.query.value("continue").map(str::to_owned),
            resource_version: self.query.value("resourceVersion").map(str::to_owned),
            resource_version_match: self.query.value("resourceVersionMatch").map(str::to_owned),
        })
    }

    fn decode_body(&self) -> Result<Value, ApiError> {
        match negotiate::body_type(&self.headers)? {
            kind @ (BodyType::Json | BodyType::Yaml | BodyType::Protobuf) => {
                let body = negotiate::decode_object(&self.body, kind, &self.resource.kind)?;
                typemeta::check(&self.state.registry, &self.resource, &body)?;
                Ok(body)
            }
            _ => Err(ApiError::new(
                Reason::UnsupportedMediaType,
                "a patch content type is only accepted with PATCH",
            )),
        }
    }

    fn respond(&self, status: StatusCode, value: &Value) -> Result<Response, ApiError> {
        let output = negotiate::output(&self.headers, true)?;
        match output {
            Output::Table(version) => {
                let include = IncludeObject::parse(self.query.value("includeObject"));
                let mut meta = Map::new();
                if let Some(rv) = value.pointer("/metadata/resourceVersion") {
                    meta.insert("resourceVersion".into(), rv.clone());
                }
                let mut table =
                    render_table(&self.resource.table, std::slice::from_ref(value), include, meta);
                table["apiVersion"] = version.api_version().into();
                Ok(negotiate::respond(Output::Json, status, &table))
            }
            output => Ok(negotiate::respond(output, status, value)),
        }
    }

    async fn get(&self, name: &str) -> Result<Response, ApiError> {
        let rv = match self.query.value("resourceVersion") {
            Some(text) => Some(text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_request(format!("invalid resource version: {text:?}"))
            })?),
            None => None,
        };
        let object = self.state.store.get(&self.resource, self.namespace(), name, rv).await?;
        self.respond(StatusCode::OK, &object)
    }

    async fn list(&self) -> Result<Response, ApiError> {
        let params = self.list_params()?;
        let output = negotiate::output(&self.headers, true)?;
        let list = self.state.store.list(&self.resource, self.namespace(), &params).await?;
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), list.resource_version.to_string().into());
        if let Some(token) = &list.continue_token {
            meta.insert("continue".into(), token.clone().into());
        }
        if let Some(remaining) = list.remaining_item_count {
            meta.insert("remainingItemCount".into(), remaining.into());
        }
        if let Output::Table(version) = output {
            let include = IncludeObject::parse(self.query.value("includeObject"));
            let mut table = render_table(&self.resource.table, &list.items, include, meta);
            table["apiVersion"] = version.api_version().into();
            return Ok(negotiate::respond(Output::Json, StatusCode::OK, &table));
        }
        let document = json!({
            "kind": self.resource.list_kind(),
            "apiVersion": self.resource.gv.api_version(),
            "metadata": meta,
            "items": list.items,
        });
        Ok(negotiate::respond(output, StatusCode::OK, &document))
    }

    async fn watch(&self) -> Result<Response, ApiError> {
        self.watch_selected(self.list_params()?).await
    }

    /// `GET …/name?watch=1`: the legacy single-object watch, a watch with a name selector.
    async fn watch_one(&self, name: &str) -> Result<Response, ApiError> {
        let mut list = self.list_params()?;
        list.field_selector = FieldSelector::from_set([("metadata.name", name)]);
        self.watch_selected(list).await
    }

    async fn watch_selected(&self, list: ListParams) -> Result<Response, ApiError> {
        let params = WatchParams {
            list,
            allow_bookmarks: self.query.flag("allowWatchBookmarks")?,
            send_initial_events: self.query.flag("sendInitialEvents")?,
        };
        watch::respond(
            &self.state,
            self.resource.clone(),
            self.path.namespace.clone(),
            params,
            &self.query,
            &self.headers,
        )
        .await
    }

    async fn create(&self) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let body = self.decode_body()?;
        let options = self.write_options()?;
        let warnings = self.unknown_field_warnings(&body)?;
        let created = self
            .state
            .store
            .create(&self.resource, self.namespace(), body, options, &self.ctx())
            .await?;
        Ok(with_warnings(self.respond(StatusCode::CREATED, &created)?, &warnings))
    }

    async fn update(&self, name: &str, part: Part) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let body = self.decode_body()?;
        let options = self.write_options()?;
        let warnings = self.unknown_field_warnings(&body)?;
        let updated = self
            .state
            .store
            .update(&self.resource, self.namespace(), name, part, body, options, &self.ctx())
            .await?;
        Ok(with_warnings(self.respond(StatusCode::OK, &updated)?, &warnings))
    }

    async fn patch(&self, name: &str, part: Part) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let patch_type = negotiate::patch_type(&self.headers)?;
        let options = self.write_options()?;
        let warnings = match serde_json::from_slice::<Value>(&self.body) {
            Ok(partial) if partial.is_object() => self.unknown_field_warnings(&partial)?,
            _ => Vec::new(),
        };
        let patched = self
            .state
            .store
            .patch(
                &self.resource,
                self.namespace(),
                name,
                part,
                patch_type,
                &self.body,
                options,
                &self.ctx(),
            )
            .await?;
        Ok(with_warnings(self.respond(StatusCode::OK, &patched)?, &warnings))
    }

    fn delete_options(&self) -> Result<DeleteOptions, ApiError> {
        let mut options = DeleteOptions { dry_run: self.query.dry_run()?, ..Default::default() };
        options.grace_period_seconds = self.query.number("gracePeriodSeconds")?;
        options.propagation_policy = self.query.value("propagationPolicy").map(str::to_owned);
        if self.query.value("orphanDependents").is_some() {
            options.orphan_dependents = Some(self.query.flag("orphanDependents")?);
        }
        if !self.body.is_empty() {
            let body_type = negotiate::body_type(&self.headers)?;
            let body = negotiate::decode_object(&self.body, body_type, "DeleteOptions")?;
            let text = |ptr: &str| body.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
            options.uid = text("/preconditions/uid");
            options.resource_version = text("/preconditions/resourceVersion");
            if let Some(policy) = text("/propagationPolicy") {
                options.propagation_policy = Some(policy);
            }
            if let Some(grace) = body.get("gracePeriodSeconds").and_then(Value::as_i64) {
                options.grace_period_seconds = Some(grace);
            }
            if let Some(orphan) = body.get("orphanDependents").and_then(Value::as_bool) {
                options.orphan_dependents = Some(orphan);
            }
            if body
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"))
            {
                options.dry_run = true;
            }
        }
        if let Some(policy) = &options.propagation_policy
            && !["Orphan", "Background", "Foreground"].contains(&policy.as_str())
        {
            {
                let cause = crate::meta::validation::FieldCause::not_supported(
                    "propagationPolicy",
                    policy.clone(),
                    &["Foreground", "Background", "Orphan"],
                );
                return Err(ApiError::invalid(
                    "",
                    "DeleteOptions",
                    "",
                    vec![super::status::Cause {
                        reason: cause.reason.as_str().to_owned(),
                        message: cause.message,
                        field: cause.field,
                    }],
                ));
            }
        }
        Ok(options)
    }

    /// kube-apiserver's answers: the object when it stays waiting for finalizers (202 rather
    /// than 200 only if the client said `orphanDependents: false`), and once it is gone the
    /// object for resources that return deleted objects, else a `Status` of kind `Success`.
    async fn delete(&self, name: &str) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let options = self.delete_options()?;
        match self
            .state
            .store
            .delete(&self.resource, self.namespace(), name, &options, &self.ctx())
            .await?
        {
            Deletion::Pending(object) => {
                let status = match options.orphan_dependents {
                    Some(false) => StatusCode::ACCEPTED,
                    _ => StatusCode::OK,
                };
                self.respond(status, &object)
            }
            Deletion::Deleted(object) if self.resource.strategy.return_deleted_object() => {
                self.respond(StatusCode::OK, &object)
            }
            Deletion::Deleted(object) => {
                let status = self.success_status(&object);
                Ok(negotiate::respond(
                    negotiate::output(&self.headers, false)?,
                    StatusCode::OK,
                    &status,
                ))
            }
        }
    }

    /// kube-apiserver's answer to a completed delete: a `Status` naming what was deleted, its
    /// details in `metav1.StatusDetails`' order.
    fn success_status(&self, object: &Value) -> Value {
        let mut details = Map::new();
        details.insert(
            "name".into(),
            crate::registry::object::name(object).unwrap_or_default().into(),
        );
        if !self.resource.gv.group.is_empty() {
            details.insert("group".into(), self.resource.gv.group.clone().into());
        }
        details.insert("kind".into(), self.resource.plural.clone().into());
        details
            .insert("uid".into(), crate::registry::object::uid(object).unwrap_or_default().into());
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
    }

    async fn delete_collection(&self) -> Result<Response, ApiError> {
        let params = self.list_params()?;
        let options = self.delete_options()?;
        let list = self
            .state
            .store
            .delete_collection(&self.resource, self.namespace(), &params, &options, &self.ctx())
            .await?;
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), list.resource_version.to_string().into());
        if let Some(token) = &list.continue_token {
            meta.insert("continue".into(), token.clone().into());
        }
        let document = json!({
            "kind": self.resource.list_kind(),
            "apiVersion": self.resource.gv.api_version(),
            "metadata": meta,
            "items": list.items,
        });
        Ok(negotiate::respond(negotiate::output(&self.headers, false)?, StatusCode::OK, &document))
    }
}
