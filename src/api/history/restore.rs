//! `POST {object}/history/restore?revision=R`: the object written back as it was at R, through
//! the store (admission, validation, managedFields, audit), recorded with `restored_from = R`.
//!
//! Flow: the revision's event ([`ObjectHistory::event`]) and the live object → the write's plan
//! (`crate::history::restore`) → the authorization of the write itself on the resource → an
//! update of the live object (200) or a create when it is gone (201).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::{HistoryRequest, ObjectHistory, parse_revision};
use crate::api::negotiate::{self, Offer};
use crate::api::status::{ApiError, Reason};
use crate::history::restore::{self, Plan};
use crate::storage::Verb;

impl ObjectHistory<'_> {
    /// `POST …/history/restore?revision=R`: the object written back as it was at R, an update
    /// of the live object (200) or a create when it is gone (201).
    pub(super) async fn restore(&self, request: HistoryRequest<'_>) -> Result<Response, ApiError> {
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
        Ok(crate::api::handlers::with_warnings(response, &op.warnings()))
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
