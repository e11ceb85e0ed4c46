//! The `history` subresource of every stored resource (docs/history.md, "One object"): an
//! object's retained revisions, one revision, the diff of two, blame, and restore.
//!
//! Flow: the handler's dispatch hands over the request (path with its `history_route`, query,
//! and for a restore the write's [`Operation`]) → [`serve`] picks the route → the object's
//! events are read from storage by key ([`crate::storage::Storage::history_page`], so a deleted
//! object's history reads as well), converted to the path's version by the store, and shaped
//! by `crate::history` (items, diff, blame, restore plan) → JSON or YAML. A restore writes
//! through the store like any update or create. Every request is counted and timed
//! (`ledger_history_requests_total`, `…_duration_seconds`).

use std::time::Instant;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use serde_json::{Map, Value, json};

use super::ApiState;
use super::negotiate::{self, Offer};
use super::request::{Query, ResourcePath};
use super::status::{ApiError, Reason};
use crate::history::blame::{self, Step};
use crate::history::restore::{self, Plan};
use crate::history::{API_VERSION, diff, record};
use crate::registry::Resource;
use crate::registry::operation::{Operation, ResourceCheck};
use crate::storage::{Event, EventType, Revision, Verb};

/// Requests to the history subresource, by operation and HTTP code.
pub const REQUESTS: &str = "ledger_history_requests_total";
/// Their latency, by operation.
pub const DURATION: &str = "ledger_history_request_duration_seconds";

/// The most items a page holds, asked for or not (a client follows `continue`).
const MAX_PAGE: usize = 1000;

/// Events read per storage call when a route walks a history.
const WALK_PAGE: usize = 1000;

/// One request to the subresource.
#[derive(Debug)]
pub struct HistoryRequest<'a> {
    pub state: &'a ApiState,
    pub resource: &'a Resource,
    pub path: &'a ResourcePath,
    pub query: &'a Query,
    pub headers: &'a HeaderMap,
    pub method: &'a Method,
    pub body: &'a [u8],
    /// For `POST …/history/restore`: the write, as an update of the object.
    pub restore: Option<Operation>,
    /// The authorization of the write itself on the resource (the authorization filter's).
    pub resource_check: Option<ResourceCheck>,
}

/// The routes under `{object}/history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    List,
    Get,
    Diff,
    Blame,
    Restore,
}

impl Route {
    fn of(route: Option<&str>) -> Route {
        match route {
            None => Route::List,
            Some("diff") => Route::Diff,
            Some("blame") => Route::Blame,
            Some("restore") => Route::Restore,
            Some(_) => Route::Get,
        }
    }

    /// The `operation` label.
    fn label(self) -> &'static str {
        match self {
            Route::List => "list",
            Route::Get => "get",
            Route::Diff => "diff",
            Route::Blame => "blame",
            Route::Restore => "restore",
        }
    }
}

/// Answers one request to the subresource, counted and timed.
pub async fn serve(request: HistoryRequest<'_>) -> Result<Response, ApiError> {
    let route = Route::of(request.path.history_route.as_deref());
    let started = Instant::now();
    let result = answer(route, request).await;
    let code = match &result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.reason.code(),
    };
    let operation = route.label();
    metrics::counter!(REQUESTS, "operation" => operation, "code" => code.to_string()).increment(1);
    metrics::histogram!(DURATION, "operation" => operation).record(started.elapsed().as_secs_f64());
    result
}

async fn answer(route: Route, request: HistoryRequest<'_>) -> Result<Response, ApiError> {
    let post = *request.method == Method::POST;
    if post != (route == Route::Restore) || !matches!(*request.method, Method::GET | Method::POST) {
        return Err(ApiError::new(
            Reason::MethodNotAllowed,
            format!(
                "the server does not allow this method on the requested resource ({})",
                request.method
            ),
        ));
    }
    let object = ObjectHistory::of(&request)?;
    let (body, status) = match route {
        Route::List => (object.list(request.query).await?, StatusCode::OK),
        Route::Get => {
            let text = request.path.history_route.as_deref().unwrap_or_default();
            let revision = parse_revision("revision", text)?;
            let event = object.event(revision).await?;
            (object.revision_object(&event).await?, StatusCode::OK)
        }
        Route::Diff => (object.diff(request.query).await?, StatusCode::OK),
        Route::Blame => (object.blame(request.query).await?, StatusCode::OK),
        Route::Restore => return object.restore(request).await,
    };
    let output = negotiate::negotiate(request.headers, Offer::default())?;
    Ok(negotiate::respond(output, status, &body))
}

/// One object's history: the resource, the object's name and key.
struct ObjectHistory<'a> {
    state: &'a ApiState,
    resource: &'a Resource,
    namespace: Option<&'a str>,
    name: &'a str,
    key: String,
}

impl<'a> ObjectHistory<'a> {
    fn of(request: &HistoryRequest<'a>) -> Result<ObjectHistory<'a>, ApiError> {
        let path = request.path;
        let name = path.name.as_deref().ok_or_else(ApiError::no_such_path)?;
        let namespace = path.namespace.as_deref();
        if request.resource.namespaced && namespace.is_none() {
            return Err(ApiError::no_such_path());
        }
        let key = request.resource.key(namespace, name);
        Ok(ObjectHistory { state: request.state, resource: request.resource, namespace, name, key })
    }

    fn storage_err(&self) -> impl FnOnce(crate::storage::StorageError) -> ApiError {
        let (group, plural) = (self.resource.gv.group.clone(), self.resource.plural.clone());
        let name = self.name.to_owned();
        move |err| ApiError::from_storage(err, &group, &plural, &name)
    }

    /// 404: the object has no retained history (never existed, or compacted away).
    fn no_history(&self) -> ApiError {
        ApiError::not_found(&self.resource.gv.group, &self.resource.plural, self.name)
    }

    /// 404: `revision` is no event of this object.
    fn not_a_revision(&self, revision: Revision) -> ApiError {
        let mut error = self.no_history();
        error.message = format!("{} has no revision {revision}", self.what());
        error
    }

    /// `configmaps "cm"`, `deployments.apps "web"`, as kube names an object in messages.
    fn what(&self) -> String {
        let group = &self.resource.gv.group;
        let plural = &self.resource.plural;
        let qualified = if group.is_empty() { plural.clone() } else { format!("{plural}.{group}") };
        format!("{qualified} {:?}", self.name)
    }

    /// kube's answers for a revision out of the log's range: 504 for the future, 410 naming
    /// the oldest retained revision for the compacted past.
    async fn check_range(&self, revision: Revision) -> Result<(), ApiError> {
        let storage = &self.state.store.storage;
        let current = storage.current_revision().await.map_err(self.storage_err())?;
        if revision > current {
            return Err(ApiError::too_large_resource_version(revision, current));
        }
        let oldest = storage.compacted_revision().await.map_err(self.storage_err())?;
        if revision < oldest {
            return Err(ApiError::expired(revision, oldest));
        }
        Ok(())
    }

    /// The event of this object at `revision` (range-checked), or 404.
    async fn event(&self, revision: Revision) -> Result<Event, ApiError> {
        self.check_range(revision).await?;
        let storage = &self.state.store.storage;
        let page = storage.history_page(&self.key, revision - 1, 1).await;
        match page.map_err(self.storage_err())?.into_iter().next() {
            Some(event) if event.revision == revision => Ok(event),
            _ => Err(self.not_a_revision(revision)),
        }
    }

    /// Every retained event up to `through` (all when `None`), oldest first, read in pages.
    async fn events_through(&self, through: Option<Revision>) -> Result<Vec<Event>, ApiError> {
        let storage = &self.state.store.storage;
        let mut events: Vec<Event> = Vec::new();
        loop {
            let after = events.last().map_or(0, |e| e.revision);
            let page = storage.history_page(&self.key, after, WALK_PAGE).await;
            let page = page.map_err(self.storage_err())?;
            let full = page.len() == WALK_PAGE;
            let before = events.len();
            events.extend(page.into_iter().take_while(|e| through.is_none_or(|r| e.revision <= r)));
            let stopped = events.len() - before < WALK_PAGE;
            if !full || stopped {
                return Ok(events);
            }
        }
    }

    /// The object an event shows, in the path's version (the last state for a delete).
    async fn shown(&self, event: &Event) -> Result<Option<Value>, ApiError> {
        match record::stored_object(event) {
            Some(object) => Ok(Some(self.state.store.to_served(self.resource, object).await?)),
            None => Ok(None),
        }
    }

    /// The object after an event: `None` for a delete.
    async fn after(&self, event: &Event) -> Result<Option<Value>, ApiError> {
        match &event.object {
            Some(object) if event.event_type != EventType::Deleted => {
                Ok(Some(self.state.store.to_served(self.resource, object).await?))
            }
            _ => Ok(None),
        }
    }

    async fn revision_object(&self, event: &Event) -> Result<Value, ApiError> {
        Ok(record::revision_object(event, self.shown(event).await?))
    }

    /// `GET …/history?limit&continue`: a `RevisionList` page.
    async fn list(&self, query: &Query) -> Result<Value, ApiError> {
        let limit = match query.number("limit")? {
            Some(n) if n > 0 => (n as usize).min(MAX_PAGE),
            _ => MAX_PAGE,
        };
        let after = match query.value("continue") {
            Some(token) => decode_continue(token)?,
            None => 0,
        };
        let storage = &self.state.store.storage;
        let head = storage.current_revision().await.map_err(self.storage_err())?;
        let mut events =
            storage.history_page(&self.key, after, limit + 1).await.map_err(self.storage_err())?;
        if events.is_empty() && after == 0 {
            return Err(self.no_history());
        }
        let more = events.len() > limit;
        events.truncate(limit);
        let mut items = Vec::with_capacity(events.len());
        for event in &events {
            items.push(record::revision_item(event, self.shown(event).await?));
        }
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), head.to_string().into());
        if let (true, Some(last)) = (more, events.last()) {
            meta.insert("continue".into(), encode_continue(last.revision).into());
        }
        Ok(
            json!({"kind": "RevisionList", "apiVersion": API_VERSION, "metadata": meta, "items": items}),
        )
    }

    /// An explicit revision of this object's history for a diff's end: range-checked, then
    /// 400 when it is not one of `events`.
    async fn position(&self, events: &[Event], name: &str, text: &str) -> Result<usize, ApiError> {
        let revision = parse_revision(name, text)?;
        self.check_range(revision).await?;
        events.iter().position(|e| e.revision == revision).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name}: revision {revision} is not a revision of {}",
                self.what()
            ))
        })
    }

    /// `GET …/history/diff?from&to`: a `RevisionDiff`. A `DELETED` end compares as no object.
    async fn diff(&self, query: &Query) -> Result<Value, ApiError> {
        let events = self.events_through(None).await?;
        if events.is_empty() {
            return Err(self.no_history());
        }
        let to = match query.value("to") {
            Some(text) => self.position(&events, "to", text).await?,
            None => events.len() - 1,
        };
        let from = match query.value("from") {
            Some(text) => Some(self.position(&events, "from", text).await?),
            None => to.checked_sub(1),
        };
        let old = match from {
            Some(at) => self.after(&events[at]).await?,
            None => None,
        };
        let new = self.after(&events[to]).await?;
        let (old, new) = (old.unwrap_or(Value::Null), new.unwrap_or(Value::Null));
        let label = |at: Option<usize>| match at {
            Some(at) => format!("{}@{}", self.name, events[at].revision),
            None => format!("{}@0", self.name),
        };
        let text = |value: &Value| if value.is_null() { String::new() } else { diff::yaml(value) };
        let unified = diff::unified(&label(from), &label(Some(to)), &text(&old), &text(&new));
        let mut body = Map::new();
        body.insert("kind".into(), "RevisionDiff".into());
        body.insert("apiVersion".into(), API_VERSION.into());
        if let Some(at) = from {
            body.insert("from".into(), events[at].revision.to_string().into());
        }
        body.insert("to".into(), events[to].revision.to_string().into());
        body.insert("patch".into(), diff::json_patch(&old, &new));
        body.insert("unified".into(), unified.into());
        Ok(Value::Object(body))
    }

    /// `GET …/history/blame?revision=R`: a `Blame` of the object at R (the latest when
    /// omitted); at a delete, of the last state it shows.
    async fn blame(&self, query: &Query) -> Result<Value, ApiError> {
        let through = match query.value("revision") {
            Some(text) => {
                let revision = parse_revision("revision", text)?;
                self.event(revision).await?;
                Some(revision)
            }
            None => None,
        };
        let events = self.events_through(through).await?;
        let Some(last) = events.last() else { return Err(self.no_history()) };
        let revision = last.revision;
        // At a delete: the state it shows is the one the events before it built.
        let walked = match last.event_type {
            EventType::Deleted => &events[..events.len() - 1],
            _ => &events[..],
        };
        let mut items = Vec::with_capacity(walked.len());
        let mut objects = Vec::with_capacity(walked.len());
        for event in walked {
            items.push(record::revision_item(event, None));
            objects.push(self.after(event).await?);
        }
        let steps: Vec<Step<'_>> = walked
            .iter()
            .zip(items.iter().zip(&objects))
            .map(|(event, (item, object))| Step {
                item,
                object: object.as_ref(),
                created: event.event_type == EventType::Created,
            })
            .collect();
        let fields = blame::blame(&steps);
        let object = objects.last().cloned().flatten();
        let mut body = Map::new();
        body.insert("kind".into(), "Blame".into());
        body.insert("apiVersion".into(), API_VERSION.into());
        body.insert("revision".into(), revision.to_string().into());
        if let Some(object) = object {
            body.insert("object".into(), object);
        }
        body.insert("fields".into(), fields.into());
        Ok(Value::Object(body))
    }

    /// `POST …/history/restore?revision=R`: the object written back as it was at R, an update
    /// of the live object (200) or a create when it is gone (201).
    async fn restore(&self, request: HistoryRequest<'_>) -> Result<Response, ApiError> {
        let Some(mut op) = request.restore else {
            return Err(ApiError::internal("a restore without its operation"));
        };
        let options = RestoreOptions::parse(request.body, request.headers)?;
        let Some(text) = request.query.value("revision") else {
            return Err(ApiError::bad_request("revision: Required value: the revision to restore"));
        };
        let revision = parse_revision("revision", text)?;
        let event = self.event(revision).await?;
        let Some(past) = self.shown(&event).await? else {
            return Err(self.not_a_revision(revision));
        };
        let store = &self.state.store;
        let current = match store.get(self.resource, self.namespace, self.name, None).await {
            Ok(current) => Some(current),
            Err(error) if error.reason == Reason::NotFound => None,
            Err(error) => return Err(error),
        };
        if let Some(expected) = &options.resource_version {
            let live = current.as_ref().and_then(crate::registry::object::resource_version);
            if live != Some(expected.as_str()) {
                return Err(ApiError::conflict(
                    &self.resource.gv.group,
                    &self.resource.plural,
                    self.name,
                    "the object has been modified; please apply your changes to the latest \
                     version and try again",
                ));
            }
        }
        op.dry_run |= options.dry_run;
        op.subresource.clear();
        op.restored_from = Some(revision);
        let plan = restore::plan(&past, current.as_ref());
        let verb = match plan {
            Plan::Update(_) => Verb::Update,
            Plan::Create(_) => Verb::Create,
        };
        if let Some(check) = &request.resource_check {
            check.check(verb.as_str())?;
        }
        let (status, written) = match plan {
            Plan::Update(body) => (StatusCode::OK, store.update(self.resource, &op, body).await),
            Plan::Create(body) => {
                let mut op = op.with_verb(Verb::Create);
                if let Some(options) = op.options.as_mut() {
                    options["kind"] = "CreateOptions".into();
                }
                (StatusCode::CREATED, store.create(self.resource, &op, body).await)
            }
        };
        let output = negotiate::negotiate(request.headers, Offer::default())?;
        let response = negotiate::respond(output, status, &written?);
        Ok(super::handlers::with_warnings(response, &op.warnings()))
    }
}

/// The optional body of a restore.
#[derive(Debug, Default)]
struct RestoreOptions {
    /// A precondition: the live object's resourceVersion must be this.
    resource_version: Option<String>,
    /// `dryRun: ["All"]`.
    dry_run: bool,
}

impl RestoreOptions {
    fn parse(body: &[u8], headers: &HeaderMap) -> Result<RestoreOptions, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(RestoreOptions::default());
        }
        let kind = negotiate::body_type(headers)?;
        let value = negotiate::decode_object(body, kind, "RestoreOptions")?;
        if let Some(kind) = value.get("kind").and_then(Value::as_str)
            && kind != "RestoreOptions"
        {
            return Err(ApiError::bad_request(format!(
                "the body of a restore is a RestoreOptions, not a {kind}"
            )));
        }
        let dry_run = match value.get("dryRun") {
            None | Some(Value::Null) => false,
            Some(Value::Array(values)) if values.iter().all(|v| v == "All") => !values.is_empty(),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid dry run value: {other}: supported values are \"All\""
                )));
            }
        };
        let resource_version = match value.get("resourceVersion") {
            None | Some(Value::Null) => None,
            Some(Value::String(rv)) if !rv.is_empty() => Some(rv.clone()),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "resourceVersion: Invalid value: {other}: must be a resourceVersion"
                )));
            }
        };
        Ok(RestoreOptions { resource_version, dry_run })
    }
}

/// A revision in a path or query: a positive decimal number, else 400.
fn parse_revision(name: &str, text: &str) -> Result<Revision, ApiError> {
    text.parse::<Revision>().ok().filter(|r| *r > 0).ok_or_else(|| {
        ApiError::bad_request(format!("invalid {name} {text:?}: must be a positive revision"))
    })
}

/// `metadata.continue` of a page: the page's last revision, opaque.
fn encode_continue(after: Revision) -> String {
    URL_SAFE.encode(json!({"v": API_VERSION, "after": after}).to_string())
}

fn decode_continue(token: &str) -> Result<Revision, ApiError> {
    let invalid = || ApiError::bad_request("continue key is not valid");
    let bytes = URL_SAFE.decode(token).map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    match (value["v"].as_str(), value["after"].as_i64()) {
        (Some(API_VERSION), Some(after)) if after > 0 => Ok(after),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_refuse_garbage() {
        assert_eq!(decode_continue(&encode_continue(42)).unwrap(), 42);
        for bad in ["", "!!", "e30=", &URL_SAFE.encode(r#"{"v":"x","after":3}"#)] {
            assert_eq!(decode_continue(bad).unwrap_err().reason, Reason::BadRequest, "{bad}");
        }
    }

    #[test]
    fn revisions_are_positive_numbers() {
        assert_eq!(parse_revision("revision", "12").unwrap(), 12);
        for bad in ["0", "-1", "x", "1.5", ""] {
            assert_eq!(parse_revision("revision", bad).unwrap_err().reason, Reason::BadRequest);
        }
    }

    #[test]
    fn routes_by_segment() {
        assert_eq!(Route::of(None), Route::List);
        assert_eq!(Route::of(Some("7")), Route::Get);
        assert_eq!(Route::of(Some("diff")), Route::Diff);
        assert_eq!(Route::of(Some("restore")).label(), "restore");
    }
}
