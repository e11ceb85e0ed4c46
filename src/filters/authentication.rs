//! The authentication filter (k8s.io/apiserver's `WithAuthentication`): who is asking. The
//! request's parts — headers, and the TLS client chain the server put in its extensions — go
//! through the server's [`Authenticator`] (in the binary, [`crate::authn::Authentication`]'s
//! chain: client certificate → bearer token → anonymous). The user it names goes into the
//! request's extensions as a [`UserInfo`] for every later filter and the handler, and the
//! `Authorization` header is removed (as kube does: it never reaches a handler or a log). A
//! credential that does not authenticate, or none with `--anonymous-auth=false`, is a 401
//! Status saying only "Unauthorized"; why is logged at debug level.
//!
//! Also here, two small authenticators the server is built with outside the real chain:
//! [`Fixed`] (one user for every request: in-process tests) and [`Unsecured`] (plain-HTTP
//! development mode: requests without credentials are `system:unsecured` in `system:masters`).

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::status::{ApiError, Reason};
use crate::authn::{
    ALL_AUTHENTICATED, Authenticator, AuthnError, RequestParts, Response as AuthnResponse, UserInfo,
};

/// The user of plain-HTTP development mode, as kube-apiserver's insecure port named it.
pub const UNSECURED_USER: &str = "system:unsecured";

/// The filter: `middleware::from_fn_with_state(authenticator, authentication::authenticate)`.
pub async fn authenticate(
    State(authenticator): State<Arc<dyn Authenticator>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match authenticator.authenticate(&parts).await {
        Ok(Some(response)) => {
            parts.headers.remove(http::header::AUTHORIZATION);
            parts.extensions.insert(response.user);
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => unauthorized(&AuthnError::NoCredentials),
        Err(error) => unauthorized(&error),
    }
}

/// kube's 401: nothing about why beyond "Unauthorized".
fn unauthorized(error: &AuthnError) -> Response {
    tracing::debug!(%error, "unable to authenticate the request");
    ApiError::new(Reason::Unauthorized, "Unauthorized").into_response()
}

/// Authenticates every request as one user, unless in-process code already put a
/// [`UserInfo`] in the request's extensions (router tests acting as another user; nothing a
/// client sends can set an extension).
#[derive(Debug, Clone)]
pub struct Fixed(pub UserInfo);

#[async_trait]
impl Authenticator for Fixed {
    async fn authenticate(
        &self,
        request: &RequestParts,
    ) -> Result<Option<AuthnResponse>, AuthnError> {
        let user = request.extensions.get::<UserInfo>().unwrap_or(&self.0).clone();
        Ok(Some(AuthnResponse { user, audiences: Vec::new() }))
    }
}

/// The chain without anonymous requests, then `system:unsecured` in `system:masters` for
/// requests it does not apply to. Only for plain HTTP on loopback.
#[derive(Debug, Clone)]
pub struct Unsecured(pub Arc<dyn Authenticator>);

impl Unsecured {
    /// The superuser requests without credentials run as.
    pub fn user() -> UserInfo {
        UserInfo {
            name: UNSECURED_USER.to_owned(),
            groups: vec![crate::pki::ADMIN_GROUP.to_owned(), ALL_AUTHENTICATED.to_owned()],
            ..UserInfo::default()
        }
    }
}

#[async_trait]
impl Authenticator for Unsecured {
    async fn authenticate(
        &self,
        request: &RequestParts,
    ) -> Result<Option<AuthnResponse>, AuthnError> {
        match self.0.authenticate(request).await? {
            Some(response) => Ok(Some(response)),
            None => Ok(Some(AuthnResponse { user: Unsecured::user(), audiences: Vec::new() })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::union::Union;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    /// Answers with the user name the filter put in the extensions, and whether the
    /// `Authorization` header got through.
    async fn whoami(request: Request) -> String {
        let user = request.extensions().get::<UserInfo>().map(|u| u.name.clone());
        let header = request.headers().contains_key(http::header::AUTHORIZATION);
        format!("{}:{header}", user.unwrap_or_default())
    }

    #[derive(Debug)]
    struct Refuses;

    #[async_trait]
    impl Authenticator for Refuses {
        async fn authenticate(
            &self,
            _request: &RequestParts,
        ) -> Result<Option<AuthnResponse>, AuthnError> {
            Err(AuthnError::InvalidBearerToken)
        }
    }

    async fn call(authenticator: Arc<dyn Authenticator>, bearer: bool) -> (u16, String) {
        let router = Router::new()
            .route("/", get(whoami))
            .layer(axum::middleware::from_fn_with_state(authenticator, authenticate));
        let mut request = http::Request::builder().uri("/");
        if bearer {
            request = request.header("authorization", "Bearer x");
        }
        let response = router.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_user_goes_into_the_extensions_and_the_credential_is_removed() {
        let admin = UserInfo { name: "admin".to_owned(), ..UserInfo::default() };
        assert_eq!(call(Arc::new(Fixed(admin)), true).await, (200, "admin:false".to_owned()));
    }

    #[tokio::test]
    async fn bad_credentials_and_none_without_anonymous_are_401_unauthorized() {
        let (status, body) = call(Arc::new(Refuses), true).await;
        assert_eq!(status, 401);
        let status: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["message"], "Unauthorized");
        assert_eq!(status["reason"], "Unauthorized");
        assert_eq!(status["code"], 401);

        let closed = Arc::new(Union::new(Vec::new(), false));
        assert_eq!(call(closed.clone(), false).await.0, 401);
        let open = Arc::new(Union::new(Vec::new(), true));
        assert_eq!(call(open, false).await, (200, "system:anonymous:false".to_owned()));
        // Plain-HTTP mode: no credentials is the unsecured superuser; bad ones are still 401.
        assert_eq!(
            call(Arc::new(Unsecured(closed)), false).await,
            (200, "system:unsecured:false".to_owned())
        );
        assert_eq!(call(Arc::new(Unsecured(Arc::new(Refuses))), true).await.0, 401);
    }
}
