//! The audit filter (k8s.io/apiserver's `WithAuditInit` + `WithAudit`): after authentication,
//! before impersonation.
//!
//! [`init`] runs first of all (right after request info): every request gets an [`AuditId`] in
//! its extensions — the client's `Audit-ID` header when it is a sensible value, else a new uid —
//! and every response an `Audit-ID` header with it, audited or not. When an [`Auditor`] runs (`--audit-policy-file` and a backend), the policy decides the
//! request's level from its [`RequestInfo`] and authenticated user; above `None` the filter
//! emits, as kube does:
//!
//! - `RequestReceived` at once;
//! - `ResponseStarted` when a long-running request (a watch) sends its response head;
//! - `ResponseComplete` when the response is done (for a watch: when its stream ends);
//! - `Panic` instead, with a 500, when the handler panics (the panic then goes on to the
//!   recovery filter).
//!
//! Bodies: from level `Request` the request object, from `RequestResponse` the response object.
//! A handler may hand them over decoded through the request's [`AuditHandle`]; otherwise the
//! filter reads JSON (and YAML) request bodies and JSON responses itself (watch streams' events
//! are never logged, as in kube). A `metav1.Status` response fills the event's
//! `responseStatus` at every level. Events go to the auditor's sinks, which never wait.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use http_body::Frame;
use serde_json::Value;

use super::PeerAddr;
use super::request_info::RequestInfo;
use crate::api::request::Target;
use crate::audit::handle::event_user;
use crate::audit::types::ObjectRef;
use crate::audit::{self, AuditHandle, AuditId, Auditor, Event, Level, RequestAudit, Stage};
use crate::authn::UserInfo;

/// The response header carrying the request's audit ID.
pub const AUDIT_ID_HEADER: &str = "audit-id";

/// Bodies larger than this are not copied into events (the handler refuses them anyway).
const MAX_LOGGED_BODY: usize = 3 * 1024 * 1024;

/// The filter's state: the auditor, when auditing is on.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub auditor: Option<Arc<Auditor>>,
}

/// `WithAuditInit`, right after request info: the request's [`AuditId`] into its extensions and
/// the `Audit-ID` header onto its response, whatever answers it (a 401, a 429, a 403, the
/// handler).
pub async fn init(mut request: Request, next: Next) -> Response {
    let audit_id = AuditId::from_header(request.headers().get(AUDIT_ID_HEADER));
    let header = HeaderValue::from_str(&audit_id.0).ok();
    request.extensions_mut().insert(audit_id);
    let mut response = next.run(request).await;
    if let Some(value) = header {
        response.headers_mut().insert(AUDIT_ID_HEADER, value);
    }
    response
}

/// The filter: `axum::middleware::from_fn_with_state(Audit { … }, audit::audit)`, after
/// authentication.
pub async fn audit(State(state): State<Audit>, request: Request, next: Next) -> Response {
    let Some(auditor) = state.auditor else { return next.run(request).await };
    let id = match request.extensions().get::<AuditId>() {
        Some(id) => id.clone(),
        None => AuditId::from_header(request.headers().get(AUDIT_ID_HEADER)),
    };
    audited(auditor, id, request, next).await
}

async fn audited(auditor: Arc<Auditor>, id: AuditId, mut request: Request, next: Next) -> Response {
    let received = SystemTime::now();
    let user = request.extensions().get::<UserInfo>().cloned().unwrap_or_else(UserInfo::anonymous);
    let info = match request.extensions().get::<RequestInfo>() {
        Some(info) => info.clone(),
        None => {
            let uri = request.uri();
            RequestInfo::classify(request.method(), uri.path(), uri.query(), "")
        }
    };
    let path = request.uri().path().to_owned();
    let resource = match &info.target {
        Some(Target::Resource(resource)) if !matches!(info.verb, super::Verb::NonResource(_)) => {
            Some(resource)
        }
        _ => None,
    };
    let namespace = resource.and_then(|r| r.namespace.clone()).unwrap_or_default();
    let name = resource.and_then(|r| r.name.clone()).unwrap_or_default();
    let config = auditor.evaluate(&audit::Attributes {
        user: Some(audit::User { name: &user.name, groups: &user.groups }),
        verb: info.verb.as_str(),
        resource_request: resource.is_some(),
        path: &path,
        api_group: resource.map_or("", |r| r.group.as_str()),
        resource: resource.map_or("", |r| r.resource.as_str()),
        subresource: resource.and_then(|r| r.subresource.as_deref()).unwrap_or(""),
        namespace: &namespace,
        name: &name,
    });
    let mut event = Event::new(Level::None, id.0, Stage::RequestReceived, received);
    event.request_uri = request.uri().path_and_query().map_or(path.clone(), |p| p.to_string());
    event.verb = info.verb.as_str().to_owned();
    event.user = event_user(&user);
    event.source_ips = source_ips(request.headers(), request.extensions().get::<PeerAddr>());
    event.user_agent = header_text(request.headers(), header::USER_AGENT.as_str());
    event.object_ref = resource.map(|r| ObjectRef {
        resource: r.resource.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
        api_group: r.group.clone(),
        api_version: r.version.clone(),
        subresource: r.subresource.clone().unwrap_or_default(),
        ..ObjectRef::default()
    });
    let Some(record) = RequestAudit::new(config, event) else {
        return next.run(request).await;
    };
    if let Some(event) = record.stage(Stage::RequestReceived, SystemTime::now()) {
        auditor.process(event);
    }
    let handle = AuditHandle::new(record);
    if handle.level() >= Level::Request && !info.is_long_running() {
        request = with_logged_body(request, &handle).await;
    }
    request.extensions_mut().insert(handle.clone());

    let served = AssertUnwindSafe(next.run(request)).catch_unwind().await;
    let response = match served {
        Ok(response) => response,
        Err(panic) => {
            let event = handle.with(|r| {
                r.audit.set_response_code(500);
                r.audit.stage(Stage::Panic, SystemTime::now())
            });
            if let Some(mut event) = event {
                let status = event.response_status.get_or_insert_with(Default::default);
                status.message = "APIServer panic'd".to_owned();
                auditor.process(event);
            }
            std::panic::resume_unwind(panic);
        }
    };
    handle.with(|r| r.audit.set_response_code(response.status().as_u16()));
    if info.is_long_running() {
        if let Some(event) =
            handle.with(|r| r.audit.stage(Stage::ResponseStarted, SystemTime::now()))
        {
            auditor.process(event);
        }
        let (parts, body) = response.into_parts();
        let body = Body::new(CompleteOnEnd { body, done: Some((handle, auditor)) });
        return Response::from_parts(parts, body);
    }
    let response = with_logged_response(response, &handle).await;
    complete(&handle, &auditor);
    response
}

/// Emits `ResponseComplete`.
fn complete(handle: &AuditHandle, auditor: &Auditor) {
    if let Some(event) = handle.with(|r| r.audit.stage(Stage::ResponseComplete, SystemTime::now()))
    {
        auditor.process(event);
    }
}

/// Reads the request body for the event (JSON or YAML; others are not decoded) and puts it
/// back for the handler.
async fn with_logged_body(request: Request, handle: &AuditHandle) -> Request {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGGED_BODY).await else {
        // Too large: the handler answers 413; nothing to log.
        return Request::from_parts(parts, Body::empty());
    };
    if !bytes.is_empty() && !handle.with(|r| r.request_logged) {
        let content_type = header_text(&parts.headers, header::CONTENT_TYPE.as_str());
        if let Some(object) = decode(&bytes, &content_type) {
            handle.with(|r| r.audit.log_request_object(&object));
        }
    }
    Request::from_parts(parts, Body::from(bytes))
}

/// Copies a JSON response into the event when the level keeps it, or when it may be a Status
/// (an error), whose fields become `responseStatus`.
async fn with_logged_response(response: Response, handle: &AuditHandle) -> Response {
    let wanted = handle.level() >= Level::RequestResponse || !response.status().is_success();
    let json = header_text(response.headers(), header::CONTENT_TYPE.as_str()).contains("json");
    if !wanted || !json || handle.with(|r| r.response_logged) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::debug!(%err, "response body could not be read for the audit log");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let Ok(object) = serde_json::from_slice::<Value>(&bytes) {
        handle.with(|r| r.audit.log_response_object(&object));
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn decode(bytes: &[u8], content_type: &str) -> Option<Value> {
    if content_type.contains("yaml") {
        serde_norway::from_slice(bytes).ok()
    } else if content_type.contains("protobuf") {
        None
    } else {
        serde_json::from_slice(bytes).ok()
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// kube's `SourceIPs`: `X-Forwarded-For`'s addresses, then `X-Real-Ip`, then the peer, each
/// once.
fn source_ips(headers: &HeaderMap, peer: Option<&PeerAddr>) -> Vec<String> {
    let mut ips: Vec<String> = Vec::new();
    let forwarded = header_text(headers, "x-forwarded-for");
    for ip in forwarded.split(',').map(str::trim) {
        if ip.parse::<std::net::IpAddr>().is_ok() {
            ips.push(ip.to_owned());
        }
    }
    let real = header_text(headers, "x-real-ip");
    if real.trim().parse::<std::net::IpAddr>().is_ok() && !ips.iter().any(|i| i == real.trim()) {
        ips.push(real.trim().to_owned());
    }
    if let Some(PeerAddr(addr)) = peer {
        let ip = addr.ip().to_string();
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    ips
}

/// A long-running response's body: emits `ResponseComplete` when the stream ends or is dropped
/// (the client went away).
struct CompleteOnEnd {
    body: Body,
    done: Option<(AuditHandle, Arc<Auditor>)>,
}

impl http_body::Body for CompleteOnEnd {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = polled
            && let Some((handle, auditor)) = self.done.take()
        {
            complete(&handle, &auditor);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for CompleteOnEnd {
    fn drop(&mut self) {
        if let Some((handle, auditor)) = self.done.take() {
            complete(&handle, &auditor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ips_follow_kube() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1, bogus, 10.0.0.2"));
        headers.insert("x-real-ip", HeaderValue::from_static("10.0.0.2"));
        let peer = PeerAddr("127.0.0.1:5000".parse().unwrap());
        assert_eq!(source_ips(&headers, Some(&peer)), ["10.0.0.1", "10.0.0.2", "127.0.0.1"]);
        assert!(source_ips(&HeaderMap::new(), None).is_empty());
    }
}
