//! The availability of remote APIServices, as kube-aggregator's availability controller checks
//! it, and the discovery it brings back.
//!
//! Every [`INTERVAL`], each remote APIService is checked: its Service and an endpoint
//! ([`super::resolve`]; failures give `ServiceNotFound`, `ServicePortError`,
//! `EndpointsNotFound`, `MissingEndpoints` or `ServiceAccessError`), then
//! `GET /apis/<group>/<version>` on that endpoint over the proxy's own TLS client (the
//! `caBundle` or `insecureSkipTLSVerify`, the front-proxy certificate, as
//! `system:kube-aggregator` in `system:masters`),
//! within [`PROBE_TIMEOUT`]: a 2xx is `Available: True`, reason `Passed`; anything else is
//! `False`, reason `FailedDiscoveryCheck`, "failing or missing response from <url>: …".
//!
//! Data flow: the check runs on every replica, because each serves discovery: the answer's
//! `APIResourceList` goes into [`RemoteDiscovery`] (stale when the check failed). Only the leader
//! writes the `Available` condition (through the `status` subresource, as `system:apiserver`,
//! only when it changed; `lastTransitionTime` moves only when the status does); the proxy
//! refuses a group/version whose condition is `False` with a 503. A check that passes also
//! fetches the extension's OpenAPI documents (`/openapi/v2` with its ETag, the
//! `apis/<group>/<version>` document of `/openapi/v3` when its hash moved) into
//! [`super::openapi::RemoteOpenApi`]; one that fails leaves the APIService out of the merged
//! OpenAPI.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::{BodyExt, Limited};
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use super::discovery::{RemoteDiscovery, RemoteVersion};
use super::openapi::{Fetched, RemoteSpec};
use super::proxy::Proxy;
use super::resolve::{self, ServiceRef};
use super::transport::{Trust, UpstreamClient};
use crate::apiextensions::webhook::error_chain;
use crate::leader::Leadership;
use crate::meta::status::{ApiError, Reason};
use crate::registry::Resource;
use crate::registry::builtin::apiservices::available_condition;
use crate::registry::store::{ListParams, Operation, Store};
use crate::storage::Verb;

/// How often every remote APIService is checked.
pub const INTERVAL: Duration = Duration::from_secs(3);
/// How long a discovery check may take (kube's availability controller: 5 s).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest discovery document read from an extension.
const MAX_DISCOVERY_BYTES: usize = 16 << 20;
/// The largest OpenAPI document read from an extension.
const MAX_OPENAPI_BYTES: usize = 64 << 20;
/// Who writes the conditions.
const USER: &str = "system:apiserver";
/// Who the checks are made as (kube's availability controller's user).
const PROBE_USER: &str = "system:kube-aggregator";

/// The outcome of one check: the `Available` condition's status, reason and message, and the
/// extension's resources when it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub available: bool,
    pub reason: String,
    pub message: String,
    pub resources: Option<Vec<Value>>,
}

impl Check {
    fn failed(reason: &str, message: String) -> Check {
        Check { available: false, reason: reason.to_owned(), message, resources: None }
    }
}

/// Everything the loop needs.
#[derive(Debug, Clone)]
pub struct Availability {
    pub store: Store,
    pub proxy: Arc<Proxy>,
    pub discovery: Arc<RemoteDiscovery>,
    /// Whether this replica writes the conditions.
    pub leadership: Leadership,
}

impl Availability {
    /// Checks every remote APIService now, then every [`INTERVAL`] until `shutdown`.
    pub fn start(self, shutdown: signal::Receiver<bool>) {
        let this = Arc::new(self);
        let what = "checking remote APIServices".to_owned();
        super::every(INTERVAL, shutdown, what, move || {
            let this = this.clone();
            async move { this.sync().await }
        });
    }

    /// Checks each remote APIService once.
    pub async fn sync(&self) -> Result<(), ApiError> {
        let Some(resource) = self.store.registry.get("apiregistration.k8s.io", "v1", "apiservices")
        else {
            return Ok(());
        };
        let listed = self.store.list(&resource, None, &ListParams::default()).await?;
        let mut remote_names = Vec::new();
        for api_service in listed.items {
            let Some(service) = ServiceRef::of(&api_service) else { continue };
            let name = text(&api_service, "/metadata/name");
            remote_names.push(name.clone());
            let check = self.check(&api_service, &service).await;
            self.discovery.record(
                &name,
                RemoteVersion {
                    group: text(&api_service, "/spec/group"),
                    version: text(&api_service, "/spec/version"),
                    group_priority: number(&api_service, "/spec/groupPriorityMinimum"),
                    version_priority: number(&api_service, "/spec/versionPriority"),
                    fresh: check.available,
                    resources: check.resources.clone(),
                },
            );
            if !check.available {
                let (group, version) =
                    (text(&api_service, "/spec/group"), text(&api_service, "/spec/version"));
                self.discovery.openapi.unavailable(&name, &group, &version);
            }
            if self.leadership.is_leading() {
                self.write_condition(&resource, api_service, &check).await?;
            }
        }
        self.discovery.retain(&remote_names);
        self.discovery.openapi.retain(&remote_names);
        self.proxy.retain(&remote_names);
        Ok(())
    }

    /// kube's availability checks for one remote APIService.
    pub async fn check(&self, api_service: &Value, service: &ServiceRef) -> Check {
        let address = match resolve::endpoint(&self.store, service).await {
            Ok(address) => address,
            Err(err) => return Check::failed(err.reason(), err.to_string()),
        };
        let group = text(api_service, "/spec/group");
        let version = text(api_service, "/spec/version");
        let url = format!("https://{address}/apis/{group}/{version}");
        let failed = |detail: String| {
            Check::failed(
                "FailedDiscoveryCheck",
                format!("failing or missing response from {url}: {detail}"),
            )
        };
        let trust = match Trust::of(api_service) {
            Ok(trust) => trust,
            Err(err) => return failed(err),
        };
        let name = text(api_service, "/metadata/name");
        let client = match self.proxy.transports().client(&name, &trust, &service.server_name()) {
            Ok(client) => client,
            Err(err) => return failed(err),
        };
        let request = http::Request::get(&url)
            .header("accept", "application/json")
            .header("x-remote-user", PROBE_USER)
            .header("x-remote-group", crate::pki::ADMIN_GROUP)
            .body(Body::empty());
        let request = match request {
            Ok(request) => request,
            Err(err) => return failed(err.to_string()),
        };
        let answer = tokio::time::timeout(PROBE_TIMEOUT, async {
            let response = client.request(request).await.map_err(|e| error_chain(&e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("bad status from {url}: {}", status.as_u16()));
            }
            let body = Limited::new(response.into_body(), MAX_DISCOVERY_BYTES)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok(serde_json::from_slice::<Value>(&body).ok())
        })
        .await;
        match answer {
            Ok(Ok(document)) => {
                self.fetch_openapi(&client, &address.to_string(), &name, &group, &version).await;
                Check {
                    available: true,
                    reason: "Passed".to_owned(),
                    message: "all checks passed".to_owned(),
                    resources: document
                        .and_then(|d| d.get("resources").and_then(Value::as_array).cloned()),
                }
            }
            Ok(Err(detail)) => failed(detail),
            Err(_) => failed(format!("timed out after {}s", PROBE_TIMEOUT.as_secs())),
        }
    }

    /// Fetches the extension's OpenAPI documents into the remote specs, keeping a document it
    /// had when a fetch fails (the extension answered its discovery check: a passing blip).
    async fn fetch_openapi(
        &self,
        client: &UpstreamClient,
        address: &str,
        name: &str,
        group: &str,
        version: &str,
    ) {
        let known = self.discovery.openapi.get(name).unwrap_or_default();
        let base = format!("https://{address}");
        let etag = known.v2.as_ref().map(|f| f.tag.as_str());
        let v2 = match get(client, &format!("{base}/openapi/v2"), etag).await {
            Ok(Fetch::Document(tag, document)) => {
                Some(Fetched { tag, document: Arc::new(document) })
            }
            Ok(Fetch::NotModified) => known.v2.clone(),
            Ok(Fetch::Missing) => None,
            Err(detail) => {
                tracing::debug!(apiservice = %name, %detail, "fetching /openapi/v2 failed");
                known.v2.clone()
            }
        };
        let v3 = fetch_v3(client, &base, group, version, known.v3.as_ref()).await;
        let spec = RemoteSpec {
            group: group.to_owned(),
            version: version.to_owned(),
            available: true,
            v2,
            v3,
        };
        self.discovery.openapi.record(name, spec);
    }

    /// Writes `check` as the APIService's `Available` condition when it differs.
    async fn write_condition(
        &self,
        resource: &Resource,
        mut api_service: Value,
        check: &Check,
    ) -> Result<(), ApiError> {
        let status = if check.available { "True" } else { "False" };
        let current = available_condition(&api_service).cloned();
        let same = |field: &str, want: &str| {
            current.as_ref().and_then(|c| c.get(field)).and_then(Value::as_str) == Some(want)
        };
        if same("status", status)
            && same("reason", &check.reason)
            && same("message", &check.message)
        {
            return Ok(());
        }
        let transition = match &current {
            Some(c) if same("status", status) => c.get("lastTransitionTime").cloned(),
            _ => None,
        }
        .unwrap_or_else(|| json!(crate::registry::object::now_rfc3339()));
        let condition = json!({
            "type": "Available",
            "status": status,
            "lastTransitionTime": transition,
            "reason": check.reason,
            "message": check.message,
        });
        let mut conditions: Vec<Value> = api_service
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some("Available"));
        conditions.push(condition);
        api_service["status"] = json!({"conditions": conditions});
        let name = text(&api_service, "/metadata/name");
        let op = Operation::internal(USER, Verb::Update, resource)
            .named(&name)
            .with_subresource("status");
        match self.store.update(resource, &op, api_service).await {
            Ok(_) => {
                tracing::info!(apiservice = %name, status, reason = %check.reason, "APIService availability changed");
                Ok(())
            }
            // Changed meanwhile (a conflict) or deleted: the next check tries again.
            Err(err) if matches!(err.reason, Reason::Conflict | Reason::NotFound) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// The `apis/<group>/<version>` document of the extension's `/openapi/v3`: fetched again only
/// when the index's `serverRelativeURL` (which carries the extension's hash) moved.
async fn fetch_v3(
    client: &UpstreamClient,
    base: &str,
    group: &str,
    version: &str,
    known: Option<&Fetched>,
) -> Option<Fetched> {
    let index = match get(client, &format!("{base}/openapi/v3"), None).await {
        Ok(Fetch::Document(_, index)) => index,
        Ok(Fetch::Missing) => return None,
        Ok(Fetch::NotModified) | Err(_) => return known.cloned(),
    };
    let path = format!("apis/{group}/{version}");
    let url = index
        .get("paths")
        .and_then(|paths| paths.get(&path))
        .and_then(|entry| entry.get("serverRelativeURL"))
        .and_then(Value::as_str)?;
    if let Some(known) = known.filter(|k| k.tag == url) {
        return Some(known.clone());
    }
    let absolute = if url.starts_with('/') { format!("{base}{url}") } else { url.to_owned() };
    match get(client, &absolute, None).await {
        Ok(Fetch::Document(_, document)) => {
            Some(Fetched { tag: url.to_owned(), document: Arc::new(document) })
        }
        Ok(Fetch::Missing) => None,
        Ok(Fetch::NotModified) | Err(_) => known.cloned(),
    }
}

/// What a conditional GET of a document brought.
enum Fetch {
    /// 200: the document and its ETag (empty without one).
    Document(String, Value),
    /// 304: the ETag sent is still current.
    NotModified,
    /// 404: the extension serves no such document.
    Missing,
}

/// GET `url` from an extension as the availability checks do (front-proxy identity, as
/// `system:kube-aggregator`), with `If-None-Match: etag` when given, within [`PROBE_TIMEOUT`].
async fn get(client: &UpstreamClient, url: &str, etag: Option<&str>) -> Result<Fetch, String> {
    let mut request = http::Request::get(url)
        .header("accept", "application/json")
        .header("x-remote-user", PROBE_USER)
        .header("x-remote-group", crate::pki::ADMIN_GROUP);
    if let Some(etag) = etag.filter(|e| !e.is_empty()) {
        request = request.header("if-none-match", etag);
    }
    let request = request.body(Body::empty()).map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(PROBE_TIMEOUT, async {
        let response = client.request(request).await.map_err(|e| error_chain(&e))?;
        let status = response.status();
        match status.as_u16() {
            304 => return Ok(Fetch::NotModified),
            404 => return Ok(Fetch::Missing),
            _ if !status.is_success() => return Err(format!("bad status: {}", status.as_u16())),
            _ => {}
        }
        let etag = response
            .headers()
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = Limited::new(response.into_body(), MAX_OPENAPI_BYTES)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let document = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok(Fetch::Document(etag, document))
    })
    .await;
    answer.unwrap_or_else(|_| Err(format!("timed out after {}s", PROBE_TIMEOUT.as_secs())))
}

fn text(value: &Value, pointer: &str) -> String {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn number(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}
