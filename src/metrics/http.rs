//! Request metrics: a middleware around every route that classifies the request the way
//! kube-apiserver's `RequestInfo` does (verb, group, version, resource, subresource, scope) and
//! records `apiserver_request_total`, `apiserver_request_duration_seconds`,
//! `apiserver_response_sizes`, `apiserver_current_inflight_requests` and
//! `apiserver_longrunning_requests`.
//!
//! Flow: request → [`RequestLabels::classify`] → inner router → status and body size recorded;
//! a watch's response body carries a guard that keeps it counted as long-running until the
//! stream ends.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use http_body::Body as _;
use metrics::{Gauge, Label, counter, gauge, histogram};

use crate::api::request::{Target, parse_path};
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
    /// Classifies a request. A path that names no served resource gets empty group, version and
    /// resource, so random paths cannot grow the label set.
    pub fn classify(
        method: &Method,
        path: &str,
        query: Option<&str>,
        content_type: &str,
        registry: &Registry,
    ) -> RequestLabels {
        let pairs: Vec<(String, String)> =
            query.and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let mut labels = RequestLabels {
            verb: method_verb(method),
            dry_run: if param("dryRun") == Some("All") { "All" } else { "" },
            group: String::new(),
            version: String::new(),
            resource: String::new(),
            subresource: String::new(),
            scope: "",
        };
        let Some(Target::Resource(path)) = parse_path(path) else { return labels };
        let named = path.name.is_some();
        labels.verb = match *method {
            Method::GET | Method::HEAD if matches!(param("watch"), Some("true" | "1")) => "WATCH",
            Method::GET | Method::HEAD if named => "GET",
            Method::GET | Method::HEAD => "LIST",
            Method::PATCH if content_type.starts_with("application/apply-patch") => "APPLY",
            Method::DELETE if !named => "DELETECOLLECTION",
            _ => labels.verb,
        };
        labels.scope = match (named, path.namespace.is_some()) {
            (true, _) => "resource",
            (false, true) => "namespace",
            (false, false) => "cluster",
        };
        if registry.get(&path.group, &path.version, &path.resource).is_some() {
            labels.subresource = path.subresource.unwrap_or_default();
            (labels.group, labels.version, labels.resource) =
                (path.group, path.version, path.resource);
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

fn method_verb(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
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

/// The middleware: `axum::middleware::from_fn_with_state(registry, track)`.
pub async fn track(
    State(registry): State<Arc<Registry>>,
    request: Request,
    next: Next,
) -> Response {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let uri = request.uri();
    let labels =
        RequestLabels::classify(request.method(), uri.path(), uri.query(), content_type, &registry);
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
    use super::*;
    use crate::registry::builtin;

    fn classify(method: Method, path: &str, query: Option<&str>) -> RequestLabels {
        let registry = Registry::new();
        builtin::register_all(&registry);
        RequestLabels::classify(&method, path, query, "application/json", &registry)
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
        let labels = RequestLabels::classify(&Method::PATCH, path, None, ct, &registry);
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
