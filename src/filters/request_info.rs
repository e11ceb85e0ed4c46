//! The request-info filter: classifies every request once, as k8s.io/apiserver's `RequestInfo`
//! does, and stores the result in the request's extensions. Metrics, the handler (and, as they
//! land, authorization and audit) read it from there instead of parsing the path again.
//!
//! Flow: method + path + query → [`RequestInfo::classify`] → `request.extensions_mut()` → next
//! filter.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::api::request::{ResourcePath, Target, parse_path};

/// What a request is about (k8s.io/apiserver's `RequestInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The API path, when it is one (`/api…`, `/apis…`); `None` for `/healthz`, `/metrics`, ….
    pub target: Option<Target>,
    /// kube's lower-case verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection` for resources; the lower-case HTTP method otherwise.
    pub verb: Verb,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `PATCH` with an `application/apply-patch…` body (server-side apply).
    pub apply: bool,
}

/// The verbs authorization, metrics and audit speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
    /// A request that names no resource: authorized by path and this HTTP method.
    NonResource(NonResourceMethod),
}

/// The HTTP methods of non-resource requests, as kube lower-cases them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonResourceMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl Verb {
    /// The verb as RBAC rules and audit events name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::NonResource(method) => match method {
                NonResourceMethod::Get => "get",
                NonResourceMethod::Head => "head",
                NonResourceMethod::Post => "post",
                NonResourceMethod::Put => "put",
                NonResourceMethod::Patch => "patch",
                NonResourceMethod::Delete => "delete",
                NonResourceMethod::Options => "options",
                NonResourceMethod::Other => "other",
            },
        }
    }

    /// Reads never change state; everything else is mutating (kube's in-flight limits and
    /// `request_kind` split on this).
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Verb::Get
                | Verb::List
                | Verb::Watch
                | Verb::NonResource(
                    NonResourceMethod::Get | NonResourceMethod::Head | NonResourceMethod::Options
                )
        )
    }
}

impl RequestInfo {
    /// Classifies a request as kube-apiserver's `RequestInfoFactory` does.
    pub fn classify(method: &Method, path: &str, query: Option<&str>, content_type: &str) -> Self {
        let pairs: Vec<(String, String)> =
            query.and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let param = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
        let dry_run = param("dryRun").is_some_and(|v| v == "All");
        let apply = *method == Method::PATCH && content_type.starts_with("application/apply-patch");
        // A malformed escape is no API path here; the handler answers it with its 400.
        let target = parse_path(path).ok();
        let verb = match &target {
            Some(Target::Resource(resource)) => {
                // The same reading of `watch` as the handler's (Go's strconv.ParseBool); a
                // malformed value is the handler's 400, classified here as a plain read.
                let watch = param("watch").is_some_and(|v| parse_bool(v) == Some(true));
                resource_verb(method, resource, watch)
            }
            _ => Verb::NonResource(non_resource_method(method)),
        };
        RequestInfo { target, verb, dry_run, apply }
    }

    /// The resource the request is about, when it names one.
    pub fn resource(&self) -> Option<&ResourcePath> {
        match &self.target {
            Some(Target::Resource(resource)) => Some(resource),
            _ => None,
        }
    }

    /// Watches hold their connection open: long-running, outside the in-flight limits.
    pub fn is_long_running(&self) -> bool {
        self.verb == Verb::Watch
    }
}

fn resource_verb(method: &Method, resource: &ResourcePath, watch: bool) -> Verb {
    let named = resource.name.is_some();
    match *method {
        Method::GET | Method::HEAD if watch => Verb::Watch,
        Method::GET | Method::HEAD if named => Verb::Get,
        Method::GET | Method::HEAD => Verb::List,
        Method::POST => Verb::Create,
        Method::PUT => Verb::Update,
        Method::PATCH => Verb::Patch,
        Method::DELETE if named => Verb::Delete,
        Method::DELETE => Verb::DeleteCollection,
        _ => Verb::NonResource(non_resource_method(method)),
    }
}

fn non_resource_method(method: &Method) -> NonResourceMethod {
    match *method {
        Method::GET => NonResourceMethod::Get,
        Method::HEAD => NonResourceMethod::Head,
        Method::POST => NonResourceMethod::Post,
        Method::PUT => NonResourceMethod::Put,
        Method::PATCH => NonResourceMethod::Patch,
        Method::DELETE => NonResourceMethod::Delete,
        Method::OPTIONS => NonResourceMethod::Options,
        _ => NonResourceMethod::Other,
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// The filter: `axum::middleware::from_fn(request_info::classify)`.
pub async fn classify(mut request: Request, next: Next) -> Response {
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let uri = request.uri();
    let info = RequestInfo::classify(request.method(), uri.path(), uri.query(), content_type);
    request.extensions_mut().insert(info);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verb(method: Method, path: &str, query: Option<&str>) -> &'static str {
        RequestInfo::classify(&method, path, query, "application/json").verb.as_str()
    }

    #[test]
    fn verbs_follow_kube_request_info() {
        let cases = [
            (Method::GET, "/api/v1/namespaces/a/configmaps/x", None, "get"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", None, "list"),
            (Method::GET, "/api/v1/configmaps", Some("watch=true"), "watch"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", Some("watch=1"), "watch"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", Some("watch=T"), "watch"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", Some("watch=false"), "list"),
            (Method::GET, "/api/v1/namespaces/a/configmaps", Some("watch=maybe"), "list"),
            (Method::POST, "/api/v1/namespaces/a/configmaps", None, "create"),
            (Method::PUT, "/api/v1/namespaces/x", None, "update"),
            (Method::PATCH, "/apis/apps/v1/namespaces/a/deployments/d/scale", None, "patch"),
            (Method::DELETE, "/api/v1/namespaces/a/configmaps/x", None, "delete"),
            (Method::DELETE, "/api/v1/namespaces/a/configmaps", None, "deletecollection"),
            (Method::GET, "/healthz", None, "get"),
            (Method::POST, "/metrics", None, "post"),
            (Method::GET, "/apis/apps/v1", None, "get"),
            // The history subresource and its routes: `get`, and `create` for a restore.
            (Method::GET, "/api/v1/namespaces/a/configmaps/x/history", None, "get"),
            (Method::GET, "/apis/apps/v1/namespaces/a/deployments/d/history/12", None, "get"),
            (Method::GET, "/api/v1/namespaces/a/configmaps/x/history/diff", None, "get"),
            (Method::POST, "/api/v1/namespaces/a/configmaps/x/history/restore", None, "create"),
        ];
        for (method, path, query, expected) in cases {
            assert_eq!(verb(method, path, query), expected, "{path} {query:?}");
        }
    }

    #[test]
    fn the_last_value_of_a_parameter_wins_and_flags_are_read() {
        let info = RequestInfo::classify(
            &Method::PATCH,
            "/api/v1/namespaces/a/configmaps/x",
            Some("dryRun=x&dryRun=All"),
            "application/apply-patch+yaml",
        );
        assert!(info.dry_run && info.apply);
        assert!(!info.verb.is_read_only());
        assert_eq!(info.resource().map(|r| r.resource.as_str()), Some("configmaps"));
    }

    #[test]
    fn a_history_route_is_the_history_subresource_of_the_object() {
        let info = RequestInfo::classify(
            &Method::GET,
            "/api/v1/namespaces/a/configmaps/x/history/blame",
            None,
            "",
        );
        let resource = info.resource().unwrap();
        assert_eq!(
            (resource.resource.as_str(), resource.name.as_deref(), resource.subresource.as_deref()),
            ("configmaps", Some("x"), Some("history"))
        );
    }

    #[test]
    fn only_watches_are_long_running() {
        let watch = RequestInfo::classify(&Method::GET, "/api/v1/pods", Some("watch=1"), "");
        let list = RequestInfo::classify(&Method::GET, "/api/v1/pods", None, "");
        assert!(watch.is_long_running() && !list.is_long_running());
        assert!(list.verb.is_read_only());
    }
}
