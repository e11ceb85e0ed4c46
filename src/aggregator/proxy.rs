//! Proxying a remote APIService's paths to its extension API server, as kube-aggregator's
//! proxy handler does.
//!
//! Flow (after the whole filter chain: the caller is authenticated, authorized by RBAC and
//! audited here, before anything leaves this server): `/apis/<group>/<version>[/...]` that this
//! server does not serve itself → the route of the APIService `<version>.<group>`
//! ([`super::targets`], kept until the APIService, its Service or its endpoints change): 503
//! `service unavailable` when its `Available` condition is `False` or no endpoint is found,
//! else its Service's endpoint ([`super::resolve`]) and pooled client → the request, streamed,
//! over HTTPS to that address, verifying the extension's certificate with the APIService's
//! `caBundle` for `<service>.<namespace>.svc` (SNI and name check), or not at all with
//! `insecureSkipTLSVerify`, and presenting the front-proxy client certificate
//! ([`super::transport`]). The caller's credentials never travel: `Authorization` was removed
//! by the authentication filter, and whatever `X-Remote-*` headers the caller sent are replaced
//! by the authenticated (or impersonated) user's: `X-Remote-User`, one `X-Remote-Group` per
//! group, and `X-Remote-Extra-<key>` per extra value, the key percent-encoded as client-go does.
//!
//! The response streams back as it arrives (a watch stays a watch; it ends at shutdown), and
//! `Upgrade` requests (SPDY, WebSocket) are joined to the extension's connection once it answers
//! `101 Switching Protocols`. Each APIService has a pooled client ([`Transports::client`]),
//! made again when its trust or Service changes. An extension that cannot be reached is a 503
//! `service unavailable` Status; the detail is logged.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;

use super::targets::{Target, Targets};
use super::transport::Transports;
use crate::api::ApiState;
use crate::api::request::Target as RequestTarget;
use crate::apiextensions::webhook::error_chain;
use crate::authn::UserInfo;
use crate::authn::requestheader::{
    DEFAULT_EXTRA_HEADERS_PREFIX, DEFAULT_GROUP_HEADER, DEFAULT_USERNAME_HEADER, escape_extra_key,
};
use crate::filters::RequestInfo;
use crate::meta::status::{ApiError, Reason};
use crate::pki::ServingIdentity;

/// The message of every 503 for an extension that cannot serve (kube-aggregator's).
pub const SERVICE_UNAVAILABLE: &str = "service unavailable";

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), besides those the
/// `Connection` header names.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

/// The aggregator's proxy: one pooled client per APIService ([`Transports`]) and where each
/// remote APIService's requests go ([`Targets`]).
#[derive(Debug)]
pub struct Proxy {
    transports: Transports,
    targets: Targets,
}

impl Proxy {
    /// A proxy presenting `identity` (the front-proxy client certificate) to extension servers;
    /// `None`: no client certificate.
    pub fn new(identity: Option<ServingIdentity>) -> Proxy {
        Proxy { transports: Transports::new(identity), targets: Targets::default() }
    }

    /// The clients of the APIServices (shared with the availability checks, so their probes
    /// reuse the proxy's connections).
    pub fn transports(&self) -> &Transports {
        &self.transports
    }

    /// Forgets what it keeps of APIServices that are not in `names` (deleted ones).
    pub fn retain(&self, names: &[String]) {
        self.transports.retain(names);
        self.targets.retain(names);
    }
}

/// The group/version of an API request for one this server does not serve itself.
fn unserved_group_version(state: &ApiState, request: &Request) -> Option<(String, String)> {
    let info = request.extensions().get::<RequestInfo>()?;
    let (group, version) = match info.target.as_ref()? {
        RequestTarget::GroupVersion { group, version } => (group, version),
        RequestTarget::Resource(path) => (&path.group, &path.version),
        _ => return None,
    };
    if group.is_empty() || state.registry.versions_of(group).iter().any(|v| v == version) {
        return None;
    }
    Some((group.clone(), version.clone()))
}

/// Serves `request` by proxying it when a remote APIService names its group/version; gives it
/// back otherwise (the local handlers answer it).
pub async fn route(state: &ApiState, request: Request) -> Result<Response, Request> {
    let Some((group, version)) = unserved_group_version(state, &request) else {
        return Err(request);
    };
    let proxy = &state.proxy;
    let Some(route) = proxy.targets.route(&state.store, &proxy.transports, &group, &version).await
    else {
        return Err(request);
    };
    let forwarded = match route {
        Ok(target) => forward(state, &target, request).await,
        Err(detail) => Err(detail),
    };
    Ok(forwarded.unwrap_or_else(|detail| {
        tracing::warn!(%detail, "proxying to an extension API server failed");
        ApiError::new(Reason::ServiceUnavailable, SERVICE_UNAVAILABLE).into_response()
    }))
}

async fn forward(
    state: &ApiState,
    target: &Target,
    mut request: Request,
) -> Result<Response, String> {
    let (name, address) = (&target.api_service, target.address);
    let upgrade = is_upgrade(request.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
    let user = request.extensions().get::<UserInfo>().cloned().unwrap_or_default();
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = format!("https://{address}{path_and_query}")
        .parse()
        .map_err(|e| format!("upstream URI: {e}"))?;
    let mut headers = parts.headers;
    remove_hop_by_hop(&mut headers, upgrade);
    headers.remove(header::HOST);
    headers.remove(header::AUTHORIZATION);
    set_user_headers(&mut headers, &user);
    let mut upstream = http::Request::new(body);
    *upstream.method_mut() = parts.method;
    *upstream.uri_mut() = uri;
    *upstream.version_mut() = Version::HTTP_11;
    *upstream.headers_mut() = headers;

    let mut response = target.client.request(upstream).await.map_err(|e| {
        format!("APIService {name}: error trying to reach {address}: {}", error_chain(&e))
    })?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_upgrade) = client_upgrade {
            let server_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                if let (Ok(client), Ok(server)) = tokio::join!(client_upgrade, server_upgrade) {
                    let (mut client, mut server) = (TokioIo::new(client), TokioIo::new(server));
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
        return Ok(response.map(|_| Body::empty()));
    }
    remove_hop_by_hop(response.headers_mut(), false);
    let shutdown = state.shutdown.clone();
    Ok(response.map(|incoming| Body::new(UntilShutdown::new(incoming, shutdown))))
}

/// Whether the request asks to switch protocols (`Connection: Upgrade` and an `Upgrade`).
fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers.get_all(header::CONNECTION).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
        })
}

/// Removes the hop-by-hop headers (and those `Connection` names); an upgrade keeps
/// `Connection: Upgrade` and `Upgrade`, which the extension must see.
fn remove_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        if !(upgrade && name == header::UPGRADE) {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// Replaces any `X-Remote-*` headers with `user`'s, as client-go's auth proxy round tripper.
fn set_user_headers(headers: &mut HeaderMap, user: &UserInfo) {
    let extra_prefix = DEFAULT_EXTRA_HEADERS_PREFIX.to_ascii_lowercase();
    let stale: Vec<HeaderName> =
        headers.keys().filter(|name| name.as_str().starts_with(&extra_prefix)).cloned().collect();
    for name in stale {
        headers.remove(name);
    }
    headers.remove(DEFAULT_USERNAME_HEADER);
    headers.remove(DEFAULT_GROUP_HEADER);
    if let Ok(value) = HeaderValue::from_str(&user.name) {
        headers.insert(DEFAULT_USERNAME_HEADER, value);
    }
    for group in &user.groups {
        if let Ok(value) = HeaderValue::from_str(group) {
            headers.append(DEFAULT_GROUP_HEADER, value);
        }
    }
    for (key, values) in &user.extra {
        let name = format!("{DEFAULT_EXTRA_HEADERS_PREFIX}{}", escape_extra_key(key));
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else { continue };
        for value in values {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(name.clone(), value);
            }
        }
    }
}

/// A proxied response body that ends when the server shuts down, so a proxied watch does not
/// hold the graceful shutdown open.
struct UntilShutdown {
    inner: hyper::body::Incoming,
    stopped: BoxFuture<'static, ()>,
}

impl UntilShutdown {
    fn new(inner: hyper::body::Incoming, mut shutdown: tokio::sync::watch::Receiver<bool>) -> Self {
        let stopped = Box::pin(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        });
        UntilShutdown { inner, stopped }
    }
}

impl http_body::Body for UntilShutdown {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, hyper::Error>>> {
        if self.stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_replaces_whatever_remote_headers_the_caller_sent() {
        let mut headers = HeaderMap::new();
        headers.insert("x-remote-user", HeaderValue::from_static("mallory"));
        headers.insert("x-remote-group", HeaderValue::from_static("system:masters"));
        headers.insert("x-remote-extra-forged", HeaderValue::from_static("yes"));
        headers.insert("accept", HeaderValue::from_static("application/json"));
        let mut user = UserInfo {
            name: "alice".to_owned(),
            groups: vec!["dev".to_owned(), "system:authenticated".to_owned()],
            ..UserInfo::default()
        };
        user.extra.insert("example.com/team".to_owned(), vec!["a".to_owned(), "b".to_owned()]);
        set_user_headers(&mut headers, &user);
        assert_eq!(headers["x-remote-user"], "alice");
        let groups: Vec<_> = headers.get_all("x-remote-group").iter().collect();
        assert_eq!(groups, ["dev", "system:authenticated"]);
        assert!(!headers.contains_key("x-remote-extra-forged"));
        let team: Vec<_> = headers.get_all("x-remote-extra-example.com%2fteam").iter().collect();
        assert_eq!(team, ["a", "b"]);
        assert_eq!(headers["accept"], "application/json");
    }

    #[test]
    fn hop_by_hop_headers_stay_behind_except_an_upgrade() {
        let mut headers = HeaderMap::new();
        headers.insert("connection", HeaderValue::from_static("keep-alive, x-private"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        remove_hop_by_hop(&mut headers, false);
        assert_eq!(headers.len(), 1, "{headers:?}");

        let mut headers = HeaderMap::new();
        headers.insert("connection", HeaderValue::from_static("Upgrade"));
        headers.insert("upgrade", HeaderValue::from_static("websocket"));
        assert!(is_upgrade(&headers));
        remove_hop_by_hop(&mut headers, true);
        assert_eq!(headers["upgrade"], "websocket");
        assert_eq!(headers["connection"], "Upgrade");
        assert!(!is_upgrade(&HeaderMap::new()));
    }
}
