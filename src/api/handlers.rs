//! The endpoints: one handler for every path under `/api` and `/apis`. It parses the path and
//! query, negotiates encodings, and calls the generic store; it holds no per-kind logic.
//!
//! Flow: request → [`parse_path`] → discovery, or a [`Resource`] from the registry → verb by
//! method and path shape → for a write, one [`Operation`] (the user, audit ID and client address
//! the filters left in the request's extensions, the path, the query's options) → store →
//! response in the negotiated encoding with the operation's warnings, or a `Status` error.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::negotiate::{self, BodyType, Offer, Output};
use super::request::{Query, ResourcePath, Target, parse_path};
use super::status::{ApiError, Reason};
use super::{ApiState, discovery, scale, typemeta, watch};
use crate::audit::{AuditHandle, AuditId};
use crate::authn::UserInfo;
use crate::filters::{PeerAddr, RequestInfo};
use crate::meta::fields::FieldSelector;
use crate::meta::labels::LabelSelector;
use crate::meta::validation::FieldCause;
use crate::patch::PatchType;
use crate::registry::operation::{CreateCheck, FieldValidation, ResourceCheck};
use crate::registry::store::delete::Deletion;
use crate::registry::store::write::Part;
use crate::registry::store::{DeleteOptions, ListParams, WatchParams};
use crate::registry::table::{IncludeObject, render_table};
use crate::registry::{Operation, Resource};
use crate::schema::unknown::{self, Node};
use crate::storage::Verb;

pub use crate::audit::FIELD_MANAGER_ANNOTATION;

/// kube-apiserver's request body limit.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Everything under `/api` and `/apis`.
pub async fn serve(State(state): State<ApiState>, request: Request) -> Response {
    // A group/version a remote APIService names goes to its extension API server.
    let request = match crate::aggregator::proxy::route(&state, request).await {
        Ok(proxied) => return proxied,
        Err(request) => request,
    };
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
            // Create-only resources (reviews, TokenRequest) store nothing: their own endpoint.
            if let Some(creater) = super::create_only::creater_for(&state, &path) {
                return super::create_only::serve(state, creater, parts, path, query, body).await;
            }
            let resource = state
                .registry
                .get(&path.group, &path.version, &path.resource)
                .ok_or_else(ApiError::no_such_path)?;
            // The ledger's resources read the log: their own endpoint.
            if resource.strategy.own_endpoint().is_some() {
                return super::ledger::serve(state, resource, parts, path, query).await;
            }
            let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
                ApiError::new(
                    Reason::RequestEntityTooLarge,
                    "the request body is too large (limit 3 MiB)",
                )
            })?;
            // A deprecated (custom resource) version warns on every request, errors included.
            let warning = resource.strategy.request_warning().map(str::to_owned);
            let requester = Requester::of(&parts);
            // Errors in the negotiated encoding: protobuf for a built-in kind's client that
            // prefers it, as kube's `ErrorNegotiated`.
            let accept = negotiate::accept_of(&parts.headers).to_owned();
            let protobuf = has_protobuf(&resource);
            let call = Call {
                state,
                resource,
                path,
                query,
                requester,
                headers: parts.headers,
                method: parts.method,
                body,
            };
            let response = call
                .dispatch()
                .await
                .unwrap_or_else(|error| negotiate::error_response(&accept, protobuf, error));
            match warning {
                Some(text) => Ok(with_warnings(response, &[text])),
                None => Ok(response),
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

/// Whether a resource's objects have a protobuf encoding: built-in kinds do, custom resources
/// do not (kube serves them as JSON, YAML or CBOR).
fn has_protobuf(resource: &Resource) -> bool {
    crate::api::protobuf::has_encoding(&resource.gv.api_version(), &resource.kind)
}

/// The Go type kube names in a `PartialObjectMetadata` 406: its internal type for a built-in
/// (`*core.ConfigMapList`), `*unstructured.Unstructured(List)` for a custom resource.
fn go_type(resource: &Resource, list: bool) -> String {
    let suffix = if list { "List" } else { "" };
    if !has_protobuf(resource) {
        return format!("*unstructured.Unstructured{suffix}");
    }
    let group = resource.gv.group.split('.').next().filter(|g| !g.is_empty()).unwrap_or("core");
    format!("*{group}.{}{suffix}", resource.kind)
}

/// Adds `Warning: 299 - "<text>"` headers (RFC 7234 warn-code 299, as kube-apiserver sends
/// them; kubectl prints each as `Warning: <text>`).
pub(super) fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for text in warnings {
        // Quoted as Go's strconv.Quote (kube's NewWarningHeader): a multi-line text (a YAML
        // body's repeated keys) stays one header.
        let escaped = text
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t");
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
                let mut document = discovery::aggregated(registry, core, version);
                if !core {
                    state.remote_apis.merge_aggregated(&mut document);
                }
                (document, Some(content_type))
            }
            None if core => (discovery::api_versions(registry, &state.server_address), None),
            None => {
                let mut document = discovery::api_group_list(registry);
                state.remote_apis.merge_group_list(&mut document);
                (document, None)
            }
        },
        Target::Group { group } => (
            discovery::api_group(registry, &group)
                .or_else(|| state.remote_apis.api_group(&group))
                .ok_or_else(ApiError::no_such_path)?,
            None,
        ),
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

/// The strict decoding findings of a JSON patch's operations, each decoded into kube's
/// `{op, path, from, value}`: keys repeated or unknown, in document order.
fn json_patch_issues(raw: Option<&unknown::Raw>) -> Vec<String> {
    let Some(unknown::Raw::Array(ops)) = raw else { return Vec::new() };
    let mut issues = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let unknown::Raw::Object(entries) = op else { continue };
        let mut seen = std::collections::HashSet::new();
        for (key, _) in entries {
            let first = seen.insert(key.as_str());
            let known = ["op", "path", "from", "value"].contains(&key.as_str());
            if !known && first {
                issues.push(format!("json patch unknown field \"[{i}].{key}\""));
            } else if known && !first {
                issues.push(format!("json patch duplicate field \"[{i}].{key}\""));
            }
        }
    }
    issues
}

/// [`Call::patch_options`]: sets `op.force` and the PatchOptions' `force`, or the 422.
pub(crate) fn patch_options(
    query: &Query,
    op: &mut Operation,
    patch_type: PatchType,
) -> Result<(), ApiError> {
    let force = query.get("force").map(|_| query.flag("force")).transpose()?;
    let mut causes = Vec::new();
    if patch_type != PatchType::Apply {
        if force.is_some() {
            causes.push(FieldCause::forbidden("force", "may not be specified for non-apply patch"));
        }
    } else if op.field_manager.as_deref().is_none_or(str::is_empty) {
        causes.push(FieldCause::required("fieldManager", "is required for apply patch"));
    }
    if !causes.is_empty() {
        return Err(crate::registry::operation::options_invalid("PatchOptions", causes));
    }
    op.force = force.unwrap_or(false);
    if let (Some(force), Some(options)) = (force, op.options.as_mut()) {
        options["force"] = force.into();
    }
    Ok(())
}

/// What a write sends, for [`Call::field_validation`].
enum Written<'a> {
    /// A create or update body, decoded.
    Object(&'a mut Value),
    /// A patch of this type (its body is the request's).
    Patch(PatchType),
}

/// Who sent a request, from what the filters put in its extensions.
struct Requester {
    user: UserInfo,
    audit_id: String,
    user_agent: String,
    source: Option<std::net::SocketAddr>,
    audit: Option<AuditHandle>,
    /// For an apply: whether the user may also create (the authorization filter's).
    create_check: Option<CreateCheck>,
    /// For a history restore: whether the user may write the object itself (the filter's).
    resource_check: Option<ResourceCheck>,
}

impl Requester {
    fn of(parts: &Parts) -> Requester {
        let extensions = &parts.extensions;
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        // The audit filter sets the ID; without the chain (in-process tests), the client's
        // `Audit-ID` header when sensible, else a new one.
        let audit_id = match extensions.get::<AuditId>() {
            Some(AuditId(id)) => id.clone(),
            None => header("audit-id")
                .filter(|v| !v.is_empty() && v.len() <= 128)
                .map(str::to_owned)
                .unwrap_or_else(crate::registry::object::new_uid),
        };
        Requester {
            user: extensions.get::<UserInfo>().cloned().unwrap_or_else(UserInfo::anonymous),
            audit_id,
            user_agent: header("user-agent").unwrap_or_default().to_owned(),
            source: extensions.get::<PeerAddr>().map(|PeerAddr(addr)| *addr),
            audit: extensions.get::<AuditHandle>().cloned(),
            create_check: extensions.get::<CreateCheck>().cloned(),
            resource_check: extensions.get::<ResourceCheck>().cloned(),
        }
    }
}

/// One resource request, parsed.
struct Call {
    state: ApiState,
    resource: Arc<Resource>,
    path: ResourcePath,
    query: Query,
    requester: Requester,
    headers: HeaderMap,
    method: Method,
    body: bytes::Bytes,
}

impl Call {
    async fn dispatch(self) -> Result<Response, ApiError> {
        if self.path.namespace.is_some() && !self.resource.namespaced {
            return Err(ApiError::no_such_path());
        }
        if let Some(computed) = self.resource.strategy.computed() {
            self.path.check_segments()?;
            let (state, resource, path) = (&self.state, &self.resource, &self.path);
            let (query, method, headers) = (&self.query, &self.method, &self.headers);
            return super::computed::serve(state, resource, computed, path, query, method, headers)
                .await;
        }
        if self.path.subresource.as_deref() == Some("history") && self.resource.stored() {
            return self.history().await;
        }
        // `None`: the scale subresource, served by its own handler.
        let part = match self.path.subresource.as_deref() {
            None => Some(Part::Main),
            Some("status") if self.resource.status_subresource => Some(Part::Status),
            Some("scale") if self.resource.scale_subresource.is_some() => None,
            Some(sub) if self.resource.strategy.update_subresources().contains(&sub) => {
                Some(Part::Main)
            }
            Some(sub) if super::kubelet::serves(&self.resource, sub) => {
                self.path.check_segments()?;
                return super::kubelet::answer(&self.state, &self.resource, &self.path).await;
            }
            Some(_) => return Err(ApiError::no_such_path()),
        };
        // A route that exists (404s first, as kube-apiserver's router), then the names in it.
        self.path.check_segments()?;
        let Some(part) = part else {
            let name = self.path.name.clone().unwrap_or_default();
            let op = match self.method {
                Method::PUT => self.operation(Verb::Update, &name, "UpdateOptions")?,
                Method::PATCH => {
                    let mut op = self.operation(Verb::Patch, &name, "PatchOptions")?;
                    let patch_type = negotiate::patch_type(&self.headers, true)?;
                    self.patch_options(&mut op, patch_type)?;
                    op
                }
                _ => self.base_operation(Verb::Update, &name),
            };
            return scale::handle(
                self.state,
                self.resource,
                op,
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
            (&Method::PUT, Some(name), _) => self.update(&name).await,
            (&Method::PATCH, Some(name), _) => self.patch(&name).await,
            (&Method::DELETE, Some(name), Part::Main) if self.path.subresource.is_none() => {
                self.delete(&name).await
            }
            (&Method::DELETE, None, Part::Main) if self.resource.strategy.delete_collection() => {
                self.delete_collection().await
            }
            (method, _, _) => Err(method_not_allowed(method)),
        }
    }

    fn namespace(&self) -> Option<&str> {
        self.path.namespace.as_deref()
    }

    /// The `history` subresource ([`super::history`]); a restore is an update of the object
    /// with the query's write options (a create when the object is gone).
    async fn history(&self) -> Result<Response, ApiError> {
        self.path.check_segments()?;
        let name = self.path.name.clone().unwrap_or_default();
        let restore = match self.method {
            Method::POST => Some(self.operation(Verb::Update, &name, "UpdateOptions")?),
            _ => None,
        };
        super::history::serve(super::history::HistoryRequest {
            state: &self.state,
            resource: &self.resource,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            method: &self.method,
            body: &self.body,
            restore,
            resource_check: self.requester.resource_check.clone(),
        })
        .await
    }

    /// Writes to a namespaced resource need a namespace in the path.
    fn require_namespace(&self) -> Result<(), ApiError> {
        if self.resource.namespaced && self.namespace().is_none() {
            return Err(method_not_allowed(&self.method));
        }
        Ok(())
    }

    /// The operation a write of `name` (`""` for a create) is, without the query's options.
    fn base_operation(&self, verb: Verb, name: &str) -> Operation {
        let requester = &self.requester;
        let mut op = Operation::new(requester.user.clone(), verb, &self.resource)
            .in_namespace(self.namespace())
            .named(name)
            .with_subresource(self.path.subresource.as_deref().unwrap_or_default());
        op.audit_id.clone_from(&requester.audit_id);
        op.user_agent.clone_from(&requester.user_agent);
        op.source = requester.source;
        op.audit.clone_from(&requester.audit);
        op
    }

    /// The operation a write is, with the query's `dryRun`, and for all but deletes
    /// `fieldValidation` and `fieldManager` (`options_kind`: `CreateOptions`, `UpdateOptions`,
    /// `PatchOptions` or `DeleteOptions`); 400 or 422 for values kube-apiserver refuses.
    fn operation(&self, verb: Verb, name: &str, options_kind: &str) -> Result<Operation, ApiError> {
        let mut op = self.base_operation(verb, name).with_dry_run(self.query.dry_run()?);
        let mut options = json!({"kind": options_kind, "apiVersion": "meta.k8s.io/v1"});
        if op.dry_run {
            options["dryRun"] = json!(["All"]);
        }
        if options_kind != "DeleteOptions" {
            op.field_validation = FieldValidation::parse(self.query.value("fieldValidation"))?;
            op = op.with_field_manager(self.query.value("fieldManager"), options_kind)?;
            if let Some(manager) = &op.field_manager {
                options["fieldManager"] = manager.clone().into();
            }
            // Who wrote, for the audit log (kube's events have no field of their own for it).
            let manager = op.manager();
            if !manager.is_empty() {
                op.annotate(FIELD_MANAGER_ANNOTATION, &manager);
            }
            if let Some(mode) = self.query.value("fieldValidation") {
                options["fieldValidation"] = mode.into();
            }
        }
        op.options = Some(options);
        Ok(op)
    }

    /// `fieldValidation`, kube's strict decoding of a write's body (`docs/field-validation.md`).
    ///
    /// For an object (a create or update body, already decoded into `written`): a built-in's
    /// values of the wrong JSON type are a 400 in Go's words whatever the mode; then the
    /// unknown fields (from the kind's built-in schema, or the custom resource's structural
    /// schema) and the repeated keys of the raw JSON body, in document order, are a 400 under
    /// `Strict`, `Warning`s under `Warn` (the default), nothing under `Ignore`; a built-in's
    /// unknown fields are dropped, as decoding into its Go struct does.
    ///
    /// For a patch: the repeated keys of the body, then the unknown fields it sets (sorted, as
    /// kube finds them in the patched object), are a 422 `patch: Invalid value` under `Strict`.
    /// Returned: the body a built-in's merge or strategic merge patch is to be applied with,
    /// when dropping its unknown fields changed it.
    fn field_validation(
        &self,
        op: &Operation,
        written: Written<'_>,
    ) -> Result<Option<bytes::Bytes>, ApiError> {
        let schemas = crate::schema::builtin();
        let root = self.builtin_definition();
        let mode = op.field_validation;
        let (issues, replaced, patch) = match written {
            Written::Object(body) => {
                if let Some(root) = root
                    && let Some(why) = crate::schema::check::type_error(schemas, root, body)
                {
                    return Err(ApiError::bad_request(self.cannot_be_handled(&why)));
                }
                let issues = match mode {
                    FieldValidation::Ignore => Vec::new(),
                    _ => self.object_issues(root, body),
                };
                if let Some(root) = root {
                    unknown::prune(schemas, Node::Struct(root), body);
                }
                (issues, None, None)
            }
            Written::Patch(patch_type) => {
                let Ok(value) = serde_json::from_slice::<Value>(&self.body) else {
                    return Ok(None); // the patch's own decoder answers
                };
                let mut replaced = None;
                if let (Some(root), PatchType::Merge | PatchType::StrategicMerge, true) =
                    (root, patch_type, value.is_object())
                {
                    let mut pruned = value.clone();
                    unknown::prune_patch(schemas, Node::Struct(root), &mut pruned);
                    if pruned != value {
                        replaced = Some(serde_json::to_vec(&pruned).unwrap_or_default().into());
                    }
                }
                let issues = match mode {
                    FieldValidation::Ignore => Vec::new(),
                    _ => self.patch_issues(root, patch_type, &value),
                };
                (issues, replaced, Some((patch_type, value)))
            }
        };
        if issues.is_empty() {
            return Ok(replaced);
        }
        if mode == FieldValidation::Warn {
            issues.into_iter().for_each(|issue| op.warn(issue));
            return Ok(replaced);
        }
        let detail = format!("strict decoding error: {}", issues.join(", "));
        let Some((patch_type, value)) = patch else {
            return Err(ApiError::bad_request(self.cannot_be_handled(&detail)));
        };
        // kube shows the patched object (a JSON or merge patch) or the patch as a Go map (a
        // strategic merge patch); this shows the patch.
        let shown = match patch_type {
            PatchType::StrategicMerge => crate::patch::strategic::go_fmt(&value),
            _ => value.to_string(),
        };
        let cause = super::status::Cause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: {shown:?}: {detail}"),
            field: "patch".into(),
        };
        Err(ApiError::invalid("", "", "", vec![cause]))
    }

    /// kube's decode error: `Deployment in version "v1" cannot be handled as a Deployment: …`.
    fn cannot_be_handled(&self, why: &str) -> String {
        let kind = &self.resource.kind;
        let version = &self.resource.gv.version;
        format!("{kind} in version {version:?} cannot be handled as a {kind}: {why}")
    }

    /// The built-in definition of the resource's kind; `None` for custom resources (which keep
    /// their own schema, and whose strategy orders fields as Go maps).
    fn builtin_definition(&self) -> Option<crate::schema::DefId> {
        let resource = &self.resource;
        if resource.strategy.field_order() != crate::registry::object::FieldOrder::Typed {
            return None;
        }
        crate::schema::builtin().by_gvk(&resource.gv.group, &resource.gv.version, &resource.kind)
    }

    /// The unknown and repeated fields of a create or update body.
    fn object_issues(&self, root: Option<crate::schema::DefId>, body: &Value) -> Vec<String> {
        let schemas = crate::schema::builtin();
        let body_type = negotiate::body_type(&self.headers).ok();
        let raw = match body_type {
            Some(BodyType::Json) => unknown::Raw::parse(&self.body),
            _ => None,
        };
        // A YAML body's repeated keys first, as kube's strict YAML step finds them.
        let yaml_duplicates = match body_type {
            Some(BodyType::Yaml) => unknown::yaml_duplicates(&self.body),
            _ => None,
        };
        let issues: Vec<String> = match (root, raw) {
            // JSON: both kinds in document order, as kube's strict JSON decoder finds them.
            (Some(root), Some(raw)) => unknown::object_issues(schemas, root, &raw)
                .iter()
                .map(ToString::to_string)
                .collect(),
            // YAML (read through Go maps: sorted) or protobuf (no repeated keys).
            (Some(root), None) => {
                let raw = unknown::Raw::from_value(body, true);
                unknown::issues(schemas, Node::Struct(root), &raw, unknown::Check::PatchUnknowns)
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            }
            // A custom resource: repeated keys, then what pruning drops.
            (None, raw) => {
                let duplicates = raw.map(|raw| {
                    unknown::issues(schemas, Node::Untyped, &raw, unknown::Check::DuplicatesOnly)
                });
                let pruned = self.resource.strategy.unknown_fields(body);
                duplicates
                    .into_iter()
                    .flatten()
                    .map(|issue| issue.to_string())
                    .chain(pruned.iter().map(|path| format!("unknown field {path:?}")))
                    .collect()
            }
        };
        yaml_duplicates.into_iter().chain(issues).collect()
    }

    /// The repeated keys of a patch body, then the unknown fields it sets; for a JSON patch,
    /// its operations' repeated and unknown keys, in document order.
    fn patch_issues(
        &self,
        root: Option<crate::schema::DefId>,
        patch_type: PatchType,
        patch: &Value,
    ) -> Vec<String> {
        let schemas = crate::schema::builtin();
        let raw = unknown::Raw::parse(&self.body);
        if patch_type == PatchType::Json {
            return json_patch_issues(raw.as_ref());
        }
        let check = unknown::Check::DuplicatesOnly;
        let mut issues: Vec<String> = raw
            .iter()
            .flat_map(|raw| unknown::issues(schemas, Node::Untyped, raw, check))
            .map(|issue| issue.to_string())
            .collect();
        if !patch.is_object() {
            return issues;
        }
        match root {
            Some(root) => {
                let raw = unknown::Raw::from_value(patch, true);
                let check = unknown::Check::PatchUnknowns;
                let found = unknown::issues(schemas, Node::Struct(root), &raw, check);
                issues.extend(found.iter().map(ToString::to_string));
            }
            None => {
                let mut unknown = self.resource.strategy.unknown_fields(patch);
                // Strategic merge patch directives (`$patch`, …) are not fields.
                unknown.retain(|path| !path.contains('$'));
                issues.extend(unknown.iter().map(|f| format!("unknown field {f:?}")));
            }
        }
        issues
    }

    /// The response to a write: `status` with the object, or the error; either way with the
    /// warnings the operation gathered.
    fn respond_to_write(
        &self,
        op: &Operation,
        status: StatusCode,
        result: Result<Value, ApiError>,
    ) -> Result<Response, ApiError> {
        let response = match result.and_then(|value| self.respond(status, &value)) {
            Ok(response) => response,
            Err(error) => self.error_response(error),
        };
        Ok(with_warnings(response, &op.warnings()))
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
            wants_view_objects: false,
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

    /// An error as a `Status` in the negotiated encoding.
    fn error_response(&self, error: ApiError) -> Response {
        let accept = negotiate::accept_of(&self.headers);
        negotiate::error_response(accept, has_protobuf(&self.resource), error)
    }

    /// What this resource's endpoints can answer with.
    fn offer(&self, table: bool) -> Offer {
        Offer { table, protobuf: has_protobuf(&self.resource), partial: true }
    }

    fn respond(&self, status: StatusCode, value: &Value) -> Result<Response, ApiError> {
        let output = negotiate::negotiate(&self.headers, self.offer(true))?;
        match output {
            Output::Partial(partial) if partial.list => {
                Err(partial.mismatch(&go_type(&self.resource, false)))
            }
            Output::Partial(partial) => Ok(negotiate::respond(output, status, &partial.of(value))),
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
        let mut params = self.list_params()?;
        let output = negotiate::negotiate(&self.headers, self.offer(true))?;
        // Protobuf items come from the encodings the view's objects cache.
        params.wants_view_objects = output == Output::Protobuf;
        if let Output::Partial(partial) = output
            && !partial.list
        {
            return Err(partial.mismatch(&go_type(&self.resource, true)));
        }
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
        if let Some(objects) = &list.view_objects {
            return self.cached_protobuf_list(&meta, objects);
        }
        Ok(self.list_response(output, meta, list.items))
    }

    /// A protobuf LIST from the view: each item's message encoded once per revision of the
    /// object and served version, cached on the view's object, and copied into every later
    /// list — the route to a LIST well faster than JSON's, which encodes every item every time.
    fn cached_protobuf_list(
        &self,
        meta: &Map<String, Value>,
        objects: &[Arc<::watch::Object>],
    ) -> Result<Response, ApiError> {
        let resource = &self.resource;
        let version = resource.gv.api_version();
        let items = objects
            .iter()
            .map(|object| {
                object.encodings.get_or_encode(&version, "protobuf", || {
                    if object.json.is_null() {
                        return Err(ApiError::internal("a stored object could not be decoded"));
                    }
                    let converted = resource.conversion.to_served_version(object.json.clone());
                    let mut served = converted.now().unwrap_or_else(|| {
                        Err(ApiError::internal("the conversion of a list item did not answer"))
                    })?;
                    crate::registry::object::set_resource_version(&mut served, object.mod_revision);
                    let message =
                        crate::api::protobuf::encode_message(&version, &resource.kind, &served)
                            .map_err(|err| ApiError::internal(err.to_string()))?;
                    Ok(bytes::Bytes::from(message))
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let list_meta = crate::api::protobuf::list_meta(meta);
        let body = crate::api::protobuf::list(
            &version,
            &resource.list_kind(),
            &list_meta,
            items.iter().map(|item| &item[..]),
        );
        Ok(negotiate::bytes_response(StatusCode::OK, negotiate::PROTOBUF, body.into()))
    }

    /// A list in the negotiated form: the resource's `…List`, or a
    /// `PartialObjectMetadataList`; protobuf concatenates the items' messages.
    fn list_response(
        &self,
        output: Output,
        meta: Map<String, Value>,
        items: Vec<Value>,
    ) -> Response {
        let (kind, api_version, items) = match output {
            Output::Partial(partial) => {
                let items = items.iter().map(|item| partial.of(item)).collect();
                (partial.kind().to_owned(), partial.version.api_version().to_owned(), items)
            }
            _ => (self.resource.list_kind(), self.resource.gv.api_version(), items),
        };
        let document = json!({
            "kind": kind,
            "apiVersion": api_version,
            "metadata": meta,
            "items": items,
        });
        negotiate::respond(output, StatusCode::OK, &document)
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
        let mut body = self.decode_body()?;
        let op = self.operation(Verb::Create, "", "CreateOptions")?;
        self.field_validation(&op, Written::Object(&mut body))?;
        let created = self.state.store.create(&self.resource, &op, body).await;
        self.respond_to_write(&op, StatusCode::CREATED, created)
    }

    async fn update(&self, name: &str) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let mut body = self.decode_body()?;
        let op = self.operation(Verb::Update, name, "UpdateOptions")?;
        self.field_validation(&op, Written::Object(&mut body))?;
        let updated = self.state.store.update(&self.resource, &op, body).await;
        self.respond_to_write(&op, StatusCode::OK, updated)
    }

    async fn patch(&self, name: &str) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let patch_type = negotiate::patch_type(&self.headers, self.takes_strategic())?;
        let mut op = self.operation(Verb::Patch, name, "PatchOptions")?;
        self.patch_options(&mut op, patch_type)?;
        if patch_type == PatchType::Apply {
            return self.apply(op).await;
        }
        let pruned = self.field_validation(&op, Written::Patch(patch_type))?;
        let body = pruned.as_ref().unwrap_or(&self.body);
        let store = &self.state.store;
        let patched = store.patch(&self.resource, &op, patch_type, body).await;
        self.respond_to_write(&op, StatusCode::OK, patched)
    }

    /// Server-side apply: the body is a configuration (YAML or JSON) merged by field
    /// ownership; 201 when it created the object.
    async fn apply(&self, mut op: Operation) -> Result<Response, ApiError> {
        let config = negotiate::decode_apply_config(&self.body)?;
        op.create_check = self.requester.create_check.clone();
        let applied = self.state.store.apply(&self.resource, &op, config).await;
        let (status, result) = match applied {
            Ok(applied) if applied.created => (StatusCode::CREATED, Ok(applied.object)),
            Ok(applied) => (StatusCode::OK, Ok(applied.object)),
            Err(err) => (StatusCode::OK, Err(err)),
        };
        self.respond_to_write(&op, status, result)
    }

    /// Whether the resource takes strategic merge patch (built-in kinds).
    fn takes_strategic(&self) -> bool {
        let (gv, kind) = (&self.resource.gv, &self.resource.kind);
        crate::patch::StrategicSchema::for_kind(&gv.group, &gv.version, kind).is_some()
    }

    /// kube's `ValidatePatchOptions` for what PATCH adds to the other writes' options: `force`
    /// only with an apply patch, and an apply patch only with a `fieldManager` (422).
    fn patch_options(&self, op: &mut Operation, patch_type: PatchType) -> Result<(), ApiError> {
        patch_options(&self.query, op, patch_type)
    }

    /// The DeleteOptions of the query and body, and the operation with the body's `dryRun`.
    fn delete_options(&self, name: &str) -> Result<(DeleteOptions, Operation), ApiError> {
        let mut op = self.operation(Verb::Delete, name, "DeleteOptions")?;
        let mut options = DeleteOptions {
            grace_period_seconds: self.query.number("gracePeriodSeconds")?,
            propagation_policy: self.query.value("propagationPolicy").map(str::to_owned),
            ..DeleteOptions::default()
        };
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
                op.dry_run = true;
                if let Some(options) = op.options.as_mut() {
                    options["dryRun"] = json!(["All"]);
                }
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
        Ok((options, op))
    }

    /// kube-apiserver's answers: the object when it stays waiting for finalizers (202 rather
    /// than 200 only if the client said `orphanDependents: false`), and once it is gone the
    /// object for resources that return deleted objects, else a `Status` of kind `Success`.
    async fn delete(&self, name: &str) -> Result<Response, ApiError> {
        self.require_namespace()?;
        let (options, op) = self.delete_options(name)?;
        let deleted = self.state.store.delete(&self.resource, &op, &options).await;
        let response = self.respond_to_delete(&options, deleted);
        let response = response.unwrap_or_else(|error| self.error_response(error));
        Ok(with_warnings(response, &op.warnings()))
    }

    fn respond_to_delete(
        &self,
        options: &DeleteOptions,
        deleted: Result<Deletion, ApiError>,
    ) -> Result<Response, ApiError> {
        match deleted? {
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
                let offer = Offer { protobuf: has_protobuf(&self.resource), ..Offer::default() };
                Ok(negotiate::respond(
                    negotiate::negotiate(&self.headers, offer)?,
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
        let (options, op) = self.delete_options("")?;
        let store = &self.state.store;
        let list = match store.delete_collection(&self.resource, &op, &params, &options).await {
            Ok(list) => list,
            Err(error) => return Ok(with_warnings(self.error_response(error), &op.warnings())),
        };
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), list.resource_version.to_string().into());
        if let Some(token) = &list.continue_token {
            meta.insert("continue".into(), token.clone().into());
        }
        let output = negotiate::negotiate(&self.headers, self.offer(false))?;
        if let Output::Partial(partial) = output
            && !partial.list
        {
            return Err(partial.mismatch(&go_type(&self.resource, true)));
        }
        Ok(with_warnings(self.list_response(output, meta, list.items), &op.warnings()))
    }
}
