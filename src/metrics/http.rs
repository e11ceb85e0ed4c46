//! Request metrics: a middleware around every route that labels each request from its
//! `RequestInfo` (verb, group, version, resource, subresource, scope), as kube-apiserver does, and
//! records `apiserver_request_total`, `apiserver_request_duration_seconds`,
//! `apiserver_response_sizes`, `apiserver_current_inflight_requests` and
//! `apiserver_longrunning_requests`.
//!
//! Flow: request → the request-info filter's [`RequestInfo`] → [`RequestLabels::of`] → inner
//! router → status and body size recorded;
//! a watch's response body carries a guard that keeps it counted as long-running until the
//! stream ends.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use http_body::Body as _;
use metrics::{Gauge, Label, counter, gauge, histogram};

use crate::filters::request_info::{NonResourceMethod, RequestInfo, Verb};
use crate::registry::Registry;

/// What kube-apiserver's request metrics are labelled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLabels {
    pub verb: &'static str,
    pub dry_run: &'static str,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub scope: &'static str,
}

impl RequestLabels {
    /// Labels a request the request-info filter classified. A path that names no served
    /// resource gets empty group, version and resource, so random paths cannot grow the label
    /// set.
    pub fn of(info: &RequestInfo, registry: &Registry) -> RequestLabels {
        let mut labels = RequestLabels {
            verb: metrics_verb(info),
            dry_run: if info.dry_run { "All" } else { "" },
            group: String::new(),
            version: String::new(),
            resource: String::new(),
            subresource: String::new(),
            scope: "",
        };
        let Some(path) = info.resource() else { return labels };
        labels.scope = match (path.name.is_some(), path.namespace.is_some()) {
            (true, _) => "resource",
            (false, true) => "namespace",
            (false, false) => "cluster",
        };
        if registry.get(&path.group, &path.version, &path.resource).is_some() {
            labels.subresource = path.subresource.clone().unwrap_or_default();
            (labels.group, labels.version, labels.resource) =
                (path.group.clone(), path.version.clone(), path.resource.clone());
        }
        labels
    }

    /// Watches hold their connection open: they are long-running, not in flight.
    pub fn long_running(&self) -> bool {
        self.verb == "WATCH"
    }

    /// kube-apiserver's `request_kind`: everything but reads is mutating.
    pub fn request_kind(&self) -> &'static str {
        match self.verb {
            "GET" | "LIST" | "WATCH" | "HEAD" | "OPTIONS" => "readOnly",
            _ => "mutating",
        }
    }

    /// The labels of the duration, size and long-running metrics (no `code`).
    fn labels(&self, with_dry_run: bool) -> Vec<Label> {
        let mut labels = vec![Label::new("verb", self.verb)];
        if with_dry_run {
            labels.push(Label::new("dry_run", self.dry_run));
        }
        labels.extend([
            Label::new("group", self.group.clone()),
            Label::new("version", self.version.clone()),
            Label::new("resource", self.resource.clone()),
            Label::new("subresource", self.subresource.clone()),
            Label::new("scope", self.scope),
            Label::new("component", "apiserver"),
        ]);
        labels
    }
}

/// kube's metrics verb (`CleanVerb`): the upper-case HTTP method for non-resource requests,
/// `LIST`, `WATCH`, `APPLY` and `DELETECOLLECTION` where the request is one.
fn metrics_verb(info: &RequestInfo) -> &'static str {
    match info.verb {
        Verb::Get => "GET",
        Verb::List => "LIST",
        Verb::Watch => "WATCH",
        Verb::Create => "POST",
        Verb::Update => "PUT",
        Verb::Patch if info.apply => "APPLY",
        Verb::Patch => "PATCH",
        Verb::Delete => "DELETE",
        Verb::DeleteCollection => "DELETECOLLECTION",
        Verb::NonResource(method) => match method {
            NonResourceMethod::Get => "GET",
            NonResourceMethod::Head => "HEAD",
            NonResourceMethod::Post => "POST",
            NonResourceMethod::Put => "PUT",
            NonResourceMethod::Patch => "PATCH",
            NonResourceMethod::Delete => "DELETE",
            NonResourceMethod::Options => "OPTIONS",
            NonResourceMethod::Other => "other",
        },
    }
}

/// Decrements a gauge when dropped: an in-flight or long-running request ended.
struct Active(Gauge);

impl Active {
    fn start(gauge: Gauge) -> Active {
        gauge.increment(1.0);
        Active(gauge)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The middleware: `axum::middleware::from_fn_with_state(registry, track)`, after the
/// request-info filter (see `crate::filters`).
pub async fn track(
    State(registry): State<Arc<Registry>>,
    request: Request,
    next: Next,
) -> Response {
    let labels = match request.extensions().get::<RequestInfo>() {
        Some(info) => RequestLabels::of(info, &registry),
        None => {
            let uri = request.uri();
            let info = RequestInfo::classify(request.method(), uri.path(), uri.query(), "");
            RequestLabels::of(&info, &registry)
        }
    };
    let start = Instant::now();
    let active = if labels.long_running() {
        Active::start(gauge!("apiserver_longrunning_requests", labels.labels(false)))
    } else {
        let kind = labels.request_kind();
        Active::start(gauge!("apiserver_current_inflight_requests", "request_kind" => kind))
    };
    let response = next.run(request).await;
    let mut total = labels.labels(true);
    total.push(Label::new("code", response.status().as_str().to_owned()));
    counter!("apiserver_request_total", total).increment(1);
    histogram!("apiserver_request_duration_seconds", labels.labels(true))
        .record(start.elapsed().as_secs_f64());
    if !labels.long_running() {
        if let Some(size) = response.body().size_hint().exact() {
            histogram!("apiserver_response_sizes", labels.labels(false)).record(size as f64);
        }
        return response;
    }
    // The watch stays counted until its body (the event stream) is dropped.
    let (parts, body) = response.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        let _still_open = &active;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;
    use crate::registry::builtin;

    fn classify(method: Method, path: &str, query: Option<&str>) -> RequestLabels {
        let registry = Registry::new();
        builtin::register_all(&registry);
        RequestLabels::of(
            &RequestInfo::classify(&method, path, query, "application/json"),
            &registry,
        )
    }

    #[test]
    fn verbs_and_scopes_follow_kube_apiserver() {
        let cases = [
            (Method::GET, "/api/v1/namespaces/a/configmaps/x", None, "GET", "resource"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", None, "LIST", "namespace"),
            (Method::GET, "/api/v1/configmaps", Some("watch=true"), "WATCH", "cluster"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", Some("watch=1"), "WATCH", "namespace"),
            (Method::POST, "/api/v1/namespaces/a/configmaps", None, "POST", "namespace"),
            (
                Method::DELETE,
                "/api/v1/namespaces/a/configmaps",
                None,
                "DELETECOLLECTION",
                "namespace",
            ),
            (Method::DELETE, "/api/v1/namespaces/a/configmaps/x", None, "DELETE", "resource"),
            (Method::PUT, "/api/v1/namespaces/x", None, "PUT", "resource"),
        ];
        for (method, path, query, verb, scope) in cases {
            let labels = classify(method, path, query);
            assert_eq!((labels.verb, labels.scope), (verb, scope), "{path} {query:?}");
        }
        let status = classify(Method::PUT, "/apis/apps/v1/namespaces/a/deployments/d/status", None);
        assert_eq!(
            (status.group.as_str(), status.version.as_str(), status.resource.as_str()),
            ("apps", "v1", "deployments")
        );
        assert_eq!(status.subresource, "status");
        assert_eq!(status.request_kind(), "mutating");
        let dry = classify(Method::POST, "/api/v1/namespaces/a/configmaps", Some("dryRun=All"));
        assert_eq!(dry.dry_run, "All");
    }

    #[test]
    fn apply_patches_are_their_own_verb() {
        let registry = Registry::new();
        builtin::register_all(&registry);
        let path = "/api/v1/namespaces/a/configmaps/x";
        let ct = "application/apply-patch+yaml";
        let info = RequestInfo::classify(&Method::PATCH, path, None, ct);
        let labels = RequestLabels::of(&info, &registry);
        assert_eq!(labels.verb, "APPLY");
    }

    #[test]
    fn unknown_paths_do_not_grow_the_label_set() {
        let labels = classify(Method::GET, "/apis/nope.example/v9/widgets-123", None);
        assert_eq!(
            (labels.verb, labels.resource.as_str(), labels.group.as_str()),
            ("LIST", "", "")
        );
        let version = classify(Method::GET, "/version", None);
        assert_eq!((version.verb, version.scope, version.request_kind()), ("GET", "", "readOnly"));
    }
}
