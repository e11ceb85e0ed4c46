//! The authorization filter (k8s.io/apiserver's `WithAuthorization`): after the in-flight
//! limit, before the routes. The request's [`RequestInfo`] and its effective user (the
//! [`UserInfo`] the authentication and impersonation filters put in the extensions; none means
//! `system:anonymous`) become authorizer [`Attributes`]; an allowed request goes on, any other
//! is answered with kube's 403 `Forbidden` Status ([`Forbidden::for_request`]).
//!
//! Resource requests are authorized by verb (`get`, `list`, `watch`, `create`, …), API group,
//! resource, subresource, namespace and name, as kube's `RequestInfo` has them: a LIST or WATCH
//! of a single object by `fieldSelector=metadata.name=x` names it, `/api/v1/namespaces/x` is in
//! the namespace `x`. Everything else (`/healthz`, `/metrics`, `/version`, discovery, OpenAPI)
//! is a non-resource request: the lower-case HTTP method on the path.
//!
//! The decision goes into the request's audit event as kube's `authorization.k8s.io/decision`
//! and `authorization.k8s.io/reason` annotations.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::request_info::{RequestInfo, Verb};
use crate::api::request::Target;
use crate::audit::AuditHandle;
use crate::authn::UserInfo;
use crate::authz::{Attributes, Authorizer, Forbidden};
use crate::meta::status::ApiError;
use crate::registry::operation::{CreateCheck, ResourceCheck};

/// The filter's state: the chain `--authorization-mode` built.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub authorizer: Arc<dyn Authorizer>,
}

/// The authorizer that allowed the request, in its extensions: for the handlers that authorize
/// more than the request itself (the ledger's endpoints ask, for each resource whose events they
/// show, whether the user may `get` its `history`). A handler that finds none refuses.
#[derive(Debug, Clone)]
pub struct RequestAuthorizer(pub Arc<dyn Authorizer>);

/// The filter: `axum::middleware::from_fn_with_state(Authorization { … }, authorize)`.
pub async fn authorize(
    State(state): State<Authorization>,
    request: Request,
    next: Next,
) -> Response {
    let user = request.extensions().get::<UserInfo>().cloned().unwrap_or_else(UserInfo::anonymous);
    let attributes = attributes(&request, Arc::new(user));
    let decision = state.authorizer.authorize(&attributes);
    if let Some(audit) = request.extensions().get::<AuditHandle>() {
        let verdict = if decision.is_allowed() { "allow" } else { "forbid" };
        audit.add_annotation("authorization.k8s.io/decision", verdict);
        audit.add_annotation("authorization.k8s.io/reason", decision.reason());
    }
    if decision.is_allowed() {
        let mut request = request;
        request.extensions_mut().insert(RequestAuthorizer(state.authorizer.clone()));
        if request.extensions().get::<RequestInfo>().is_some_and(|info| info.apply) {
            // An apply may create its object: kube authorizes `create` too, then.
            let check = create_check(state.authorizer.clone(), attributes.clone());
            request.extensions_mut().insert(check);
        }
        if attributes.subresource == "history" && attributes.verb == "create" {
            // A restore writes the object itself: its handler asks for that verb too.
            let check = resource_check(state.authorizer.clone(), attributes);
            request.extensions_mut().insert(check);
        }
        return next.run(request).await;
    }
    tracing::debug!(user = %attributes.user.name, verb = %attributes.verb, path = %attributes.path,
        reason = decision.reason(), "forbidden");
    forbidden(&Forbidden::for_request(&attributes, decision.reason()))
}

/// The `create` authorization of an apply that finds no object (kube's `withAuthorization`
/// of a patch's create): the request's attributes with the verb `create`; a refusal is
/// `<resource> "<name>" is forbidden: <reason>`.
fn create_check(authorizer: Arc<dyn Authorizer>, request: Attributes) -> CreateCheck {
    CreateCheck(Arc::new(move || {
        let attributes = Attributes { verb: "create".to_owned(), ..request.clone() };
        let decision = authorizer.authorize(&attributes);
        if decision.is_allowed() {
            return Ok(());
        }
        let (group, resource) = (&attributes.api_group, &attributes.resource);
        Err(ApiError::forbidden(group, resource, &attributes.name, decision.reason()))
    }))
}

/// The authorization of a verb on the request's resource itself (the request's attributes
/// without their subresource); a refusal is the filter's 403 for such a request.
fn resource_check(authorizer: Arc<dyn Authorizer>, request: Attributes) -> ResourceCheck {
    ResourceCheck(Arc::new(move |verb| {
        let attributes =
            Attributes { verb: verb.to_owned(), subresource: String::new(), ..request.clone() };
        let decision = authorizer.authorize(&attributes);
        if decision.is_allowed() {
            return Ok(());
        }
        let cause = Forbidden::cause(&attributes, decision.reason());
        Err(ApiError::forbidden(
            &attributes.api_group,
            &attributes.resource,
            &attributes.name,
            &cause,
        ))
    }))
}

/// The 403 response.
pub fn forbidden(forbidden: &Forbidden) -> Response {
    let mut response = Response::new(Body::from(forbidden.to_status().to_string()));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// kube's authorizer attributes of a request (`GetAuthorizerAttributes`).
pub fn attributes(request: &Request, user: Arc<UserInfo>) -> Attributes {
    let path = request.uri().path();
    let classified;
    let info = match request.extensions().get::<RequestInfo>() {
        Some(info) => info,
        None => {
            classified = RequestInfo::classify(request.method(), path, request.uri().query(), "");
            &classified
        }
    };
    let resource = match (&info.target, info.verb) {
        (_, Verb::NonResource(_)) | (None, _) => None,
        (Some(Target::Resource(resource)), _) => Some(resource),
        (Some(_), _) => None,
    };
    let Some(resource) = resource else {
        return Attributes::non_resource(user, info.verb.as_str(), path);
    };
    let mut name = resource.name.clone().unwrap_or_default();
    if name.is_empty() && matches!(info.verb, Verb::List | Verb::Watch) {
        name = selected_name(request.uri().query()).unwrap_or_default();
    }
    let mut namespace = resource.namespace.clone().unwrap_or_default();
    if namespace.is_empty() && resource.group.is_empty() && resource.resource == "namespaces" {
        // `/api/v1/namespaces/x` is in the namespace x, as kube's RequestInfo reads it.
        namespace.clone_from(&name);
    }
    Attributes::resource(
        user,
        info.verb.as_str(),
        &resource.group,
        &resource.version,
        &resource.resource,
    )
    .subresource(resource.subresource.as_deref().unwrap_or(""))
    .namespace(&namespace)
    .name(&name)
    .path(path)
}

/// The name a LIST or WATCH selects with `fieldSelector=metadata.name=x` (or `==`), as kube's
/// RequestInfo takes it for authorization — the way `kubectl get cm x -w` is allowed by a rule
/// naming `x`.
fn selected_name(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    let selector = pairs.iter().rev().find(|(k, _)| k == "fieldSelector").map(|(_, v)| v)?;
    let requirements: Vec<&str> = selector.split(',').collect();
    let [only] = requirements.as_slice() else { return None };
    let value =
        only.strip_prefix("metadata.name==").or_else(|| only.strip_prefix("metadata.name="))?;
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;

    fn of(method: Method, uri: &str) -> Attributes {
        let mut request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let (path, query) =
            (request.uri().path().to_owned(), request.uri().query().map(str::to_owned));
        let info = RequestInfo::classify(request.method(), &path, query.as_deref(), "");
        request.extensions_mut().insert(info);
        attributes(&request, Arc::new(UserInfo::new("alice", &[])))
    }

    #[test]
    fn requests_become_kube_attributes() {
        let a = of(Method::GET, "/api/v1/namespaces/default/configmaps?watch=true");
        assert!(a.resource_request);
        assert_eq!(
            (a.verb.as_str(), a.resource.as_str(), a.namespace.as_str()),
            ("watch", "configmaps", "default")
        );
        let a = of(Method::GET, "/apis/apps/v1/namespaces/a/deployments/web/scale");
        assert_eq!(
            (a.api_group.as_str(), a.subresource.as_str(), a.name.as_str()),
            ("apps", "scale", "web")
        );
        let a = of(Method::GET, "/api/v1/namespaces/x");
        assert_eq!((a.namespace.as_str(), a.name.as_str()), ("x", "x"));
        let a = of(
            Method::GET,
            "/api/v1/namespaces/a/configmaps?fieldSelector=metadata.name%3Dc&watch=1",
        );
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("watch", "c"));
        let a = of(
            Method::GET,
            "/api/v1/namespaces/a/configmaps?fieldSelector=metadata.name%3Dc,x%3Dy",
        );
        assert_eq!(a.name, "");
        let a = of(Method::POST, "/api/v1/namespaces/a/configmaps");
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("create", ""));
        for (method, path, verb) in [
            (Method::GET, "/healthz", "get"),
            (Method::GET, "/apis/apps", "get"),
            (Method::POST, "/metrics", "post"),
        ] {
            let a = of(method, path);
            assert!(!a.resource_request);
            assert_eq!((a.verb.as_str(), a.path.as_str()), (verb, path));
        }
    }
}
