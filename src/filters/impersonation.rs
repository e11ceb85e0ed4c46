//! The impersonation filter (k8s.io/apiserver's `WithImpersonation`; `kubectl --as`,
//! `--as-group`, `--as-uid`): after authentication (and the audit filter, which records who
//! really asked), a request carrying `Impersonate-*` headers runs as the user they name — if the
//! authenticated user is allowed verb `impersonate` on every target (users or serviceaccounts,
//! groups, `userextras/<key>`, uids), asked of the authorizer in that order. The first denial is
//! a 403 Forbidden worded as kube's (`users "bob" is forbidden: User "alice" cannot impersonate
//! resource "users" in API group "" at the cluster scope`); malformed headers are a 400.
//!
//! Flow: [`UserInfo`] in the extensions (absent: anonymous) → [`impersonation::parse`] → one
//! [`Attributes`] per target → the authorizer → the impersonated [`UserInfo`] replaces the
//! authenticated one in the extensions, the `Impersonate-*` headers are removed, and the original
//! user stays available as [`Impersonator`].

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::status::ApiError;
use crate::authn::{UserInfo, impersonation};
use crate::authz::{Attributes, Authorizer, Forbidden};

/// The authenticated user of a request that runs as someone else (audit's `user`, while
/// [`UserInfo`] is the impersonated one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impersonator(pub UserInfo);

/// The filter: `middleware::from_fn_with_state(authorizer, impersonation::impersonate)`.
pub async fn impersonate(
    State(authorizer): State<Arc<dyn Authorizer>>,
    mut request: Request,
    next: Next,
) -> Response {
    let wanted = match impersonation::parse(request.headers()) {
        Ok(Some(wanted)) => wanted,
        Ok(None) => return next.run(request).await,
        Err(error) => return ApiError::bad_request(error.0).into_response(),
    };
    let actor = request.extensions().get::<UserInfo>().cloned().unwrap_or_else(UserInfo::anonymous);
    let subject = Arc::new(actor.clone());
    for target in &wanted.targets {
        let check = target.check();
        let attributes =
            Attributes::resource(subject.clone(), check.verb, check.api_group, "", check.resource)
                .namespace(&check.namespace)
                .subresource(&check.subresource)
                .name(&check.name);
        let decision = authorizer.authorize(&attributes);
        if !decision.is_allowed() {
            tracing::debug!(user = %actor.name, %target, "impersonation refused");
            return forbidden(&Forbidden::for_request(&attributes, decision.reason()));
        }
    }
    impersonation::strip_headers(request.headers_mut());
    // The audit event names both: `user` the authenticated one, `impersonatedUser` this one.
    if let Some(audit) = request.extensions().get::<crate::audit::AuditHandle>() {
        audit.set_impersonated_user(&wanted.user);
    }
    request.extensions_mut().insert(wanted.user);
    request.extensions_mut().insert(Impersonator(actor));
    next.run(request).await
}

fn forbidden(forbidden: &Forbidden) -> Response {
    let body = forbidden.to_status().to_string();
    let mut response = (http::StatusCode::FORBIDDEN, body).into_response();
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{AlwaysAllow, Decision};
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    /// Allows impersonating users and groups only, to `alice`.
    #[derive(Debug)]
    struct AliceMayImpersonateUsers;

    impl Authorizer for AliceMayImpersonateUsers {
        fn authorize(&self, a: &Attributes) -> Decision {
            let allowed = a.user.name == "alice"
                && a.verb == "impersonate"
                && (a.resource == "users" || a.resource == "groups");
            if allowed {
                Decision::Allow(String::new())
            } else {
                Decision::NoOpinion(String::new())
            }
        }
    }

    async fn whoami(request: Request) -> String {
        let user = request.extensions().get::<UserInfo>().cloned().unwrap_or_default();
        let by = request.extensions().get::<Impersonator>().map(|i| i.0.name.clone());
        let left = request.headers().keys().any(|k| k.as_str().starts_with("impersonate-"));
        format!("{}|{}|{}|{left}", user.name, user.groups.join(","), by.unwrap_or_default())
    }

    async fn call(
        authorizer: Arc<dyn Authorizer>,
        user: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let actor = UserInfo { name: user.to_owned(), ..UserInfo::default() };
        let router = Router::new()
            .route("/", get(whoami))
            .layer(axum::middleware::from_fn_with_state(authorizer, impersonate));
        let mut request = http::Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        request.extensions_mut().insert(actor);
        let response = router.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn an_allowed_impersonation_runs_as_the_named_user() {
        let headers = [("impersonate-user", "bob"), ("impersonate-group", "dev")];
        let got = call(Arc::new(AliceMayImpersonateUsers), "alice", &headers).await;
        assert_eq!(got, (200, "bob|dev,system:authenticated|alice|false".to_owned()));
        // No headers: untouched.
        let got = call(Arc::new(AlwaysAllow), "alice", &[]).await;
        assert_eq!(got, (200, "alice|||false".to_owned()));
    }

    #[tokio::test]
    async fn a_refused_impersonation_is_kube_s_403_and_bad_headers_a_400() {
        let (status, body) =
            call(Arc::new(AliceMayImpersonateUsers), "carol", &[("impersonate-user", "bob")]).await;
        assert_eq!(status, 403, "{body}");
        let status: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status["reason"], "Forbidden");
        assert_eq!(
            status["message"],
            "users \"bob\" is forbidden: User \"carol\" cannot impersonate resource \"users\" \
             in API group \"\" at the cluster scope"
        );
        // alice may impersonate users but not uids.
        let headers = [("impersonate-user", "bob"), ("impersonate-uid", "42")];
        let (status, body) = call(Arc::new(AliceMayImpersonateUsers), "alice", &headers).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("cannot impersonate resource \\\"uids\\\""), "{body}");

        let (status, body) =
            call(Arc::new(AlwaysAllow), "alice", &[("impersonate-group", "dev")]).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("without impersonating a user"), "{body}");
    }
}
