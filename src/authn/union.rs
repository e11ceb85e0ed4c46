//! The request authenticator the server calls: kube-apiserver's chain.
//!
//! The authenticators are tried in order (x509, then bearer tokens); the first that
//! authenticates wins, even if an earlier one failed (a valid token beside an untrusted client
//! certificate authenticates). Its user gets `system:authenticated` unless it is
//! `system:anonymous` or already names `system:authenticated`/`system:unauthenticated`. If none
//! authenticated: any failure is the answer (a bad token is never anonymous); otherwise, with
//! `--anonymous-auth`, the request is `system:anonymous` in `system:unauthenticated`.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS_USER, Authenticator, AuthnError,
    RequestParts, Response, UserInfo,
};

/// The chain; see the module doc.
#[derive(Debug, Clone)]
pub struct Union {
    authenticators: Vec<Arc<dyn Authenticator>>,
    /// `--anonymous-auth`.
    anonymous: bool,
}

impl Union {
    pub fn new(authenticators: Vec<Arc<dyn Authenticator>>, anonymous: bool) -> Union {
        Union { authenticators, anonymous }
    }

    /// Authenticates a request: the user, or why it is a 401.
    pub async fn authenticate_request(
        &self,
        request: &RequestParts,
    ) -> Result<Response, AuthnError> {
        let mut errors = Vec::new();
        for authenticator in &self.authenticators {
            match authenticator.authenticate(request).await {
                Ok(Some(mut response)) => {
                    add_authenticated_group(&mut response.user);
                    return Ok(response);
                }
                Ok(None) => {}
                Err(error) => errors.push(error),
            }
        }
        match errors.len() {
            0 if self.anonymous => {
                Ok(Response { user: UserInfo::anonymous(), audiences: Vec::new() })
            }
            0 => Err(AuthnError::NoCredentials),
            1 => Err(errors.remove(0)),
            _ => Err(AuthnError::Aggregate(errors)),
        }
    }
}

#[async_trait]
impl Authenticator for Union {
    /// `Ok(None)` only when nothing authenticated and anonymous requests are off.
    async fn authenticate(&self, request: &RequestParts) -> Result<Option<Response>, AuthnError> {
        match self.authenticate_request(request).await {
            Ok(response) => Ok(Some(response)),
            Err(AuthnError::NoCredentials) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// kube's AuthenticatedGroupAdder.
fn add_authenticated_group(user: &mut UserInfo) {
    if user.name == ANONYMOUS_USER {
        return;
    }
    let marked = user.groups.iter().any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED);
    if !marked {
        user.groups.push(ALL_AUTHENTICATED.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::bearer::{BearerToken, TokenUnion};
    use crate::authn::token_file::TokenFile;

    /// Answers the same thing to every request.
    #[derive(Debug)]
    struct Fixed(Result<Option<Response>, AuthnError>);

    #[async_trait]
    impl Authenticator for Fixed {
        async fn authenticate(&self, _: &RequestParts) -> Result<Option<Response>, AuthnError> {
            self.0.clone()
        }
    }

    fn user(name: &str, groups: &[&str]) -> Response {
        Response {
            user: UserInfo {
                name: name.to_owned(),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                ..UserInfo::default()
            },
            audiences: vec![],
        }
    }

    fn fixed(answer: Result<Option<Response>, AuthnError>) -> Arc<dyn Authenticator> {
        Arc::new(Fixed(answer))
    }

    fn request(authorization: Option<&str>) -> RequestParts {
        let mut builder = http::Request::builder();
        if let Some(value) = authorization {
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[tokio::test]
    async fn the_first_success_wins_and_is_marked_authenticated() {
        let bad_cert = fixed(Err(AuthnError::ClientCertificate("untrusted".into())));
        let union = Union::new(vec![bad_cert, fixed(Ok(Some(user("alice", &["dev"]))))], true);
        let response = union.authenticate_request(&request(None)).await.unwrap();
        assert_eq!(response.user.name, "alice");
        assert_eq!(response.user.groups, vec!["dev", "system:authenticated"]);

        // Already marked: left alone.
        let marked = user("bob", &["system:unauthenticated"]);
        let union = Union::new(vec![fixed(Ok(Some(marked.clone())))], true);
        assert_eq!(union.authenticate_request(&request(None)).await.unwrap(), marked);
    }

    #[tokio::test]
    async fn no_credentials_is_anonymous_only_when_allowed() {
        let union = Union::new(vec![fixed(Ok(None))], true);
        let response = union.authenticate_request(&request(None)).await.unwrap();
        assert_eq!(response.user, UserInfo::anonymous());

        let union = Union::new(vec![fixed(Ok(None))], false);
        assert_eq!(
            union.authenticate_request(&request(None)).await,
            Err(AuthnError::NoCredentials)
        );
        assert_eq!(union.authenticate(&request(None)).await, Ok(None));
    }

    #[tokio::test]
    async fn a_bad_token_is_never_anonymous() {
        let file = TokenFile::parse("t.csv", "good,alice,1\n", vec![]).unwrap();
        let bearer: Arc<dyn Authenticator> =
            Arc::new(BearerToken(Arc::new(TokenUnion(vec![Arc::new(file)]))));
        let union = Union::new(vec![fixed(Ok(None)), bearer], true);
        assert_eq!(
            union.authenticate_request(&request(Some("Bearer bad"))).await,
            Err(AuthnError::InvalidBearerToken)
        );
        let alice = union.authenticate_request(&request(Some("Bearer good"))).await.unwrap();
        assert_eq!(alice.user.groups, vec!["system:authenticated"]);

        let two = Union::new(
            vec![
                fixed(Err(AuthnError::ClientCertificate("a".into()))),
                fixed(Err(AuthnError::InvalidBearerToken)),
            ],
            true,
        );
        let error = two.authenticate_request(&request(None)).await.unwrap_err();
        assert_eq!(error.to_string(), "[a, invalid bearer token]");
    }
}
