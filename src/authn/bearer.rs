//! Bearer tokens: `Authorization: Bearer <token>` handed to the token authenticators in turn
//! ([`TokenUnion`]: the first that recognises the token wins). As in kube, a request with no
//! (or an empty) bearer token is not applicable, and a token nobody recognises is an error
//! ("invalid bearer token"), never anonymous. On success the server should remove the
//! `Authorization` header before the request goes further, as kube does.

use std::sync::Arc;

use async_trait::async_trait;
use http::header::AUTHORIZATION;

use super::{Authenticator, AuthnError, RequestParts, Response, TokenAuthenticator};

/// The token of an `Authorization: Bearer <token>` header, if there is a non-empty one.
pub fn bearer_token(request: &RequestParts) -> Option<&str> {
    let value = request.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let mut parts = value.split(' ');
    let scheme = parts.next()?;
    let token = parts.next()?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Several token authenticators tried in order (kube: token file, then ServiceAccounts).
#[derive(Debug, Clone, Default)]
pub struct TokenUnion(pub Vec<Arc<dyn TokenAuthenticator>>);

#[async_trait]
impl TokenAuthenticator for TokenUnion {
    async fn authenticate_token(
        &self,
        token: &str,
        audiences: Option<&[String]>,
    ) -> Result<Option<Response>, AuthnError> {
        let mut errors = Vec::new();
        for authenticator in &self.0 {
            match authenticator.authenticate_token(token, audiences).await {
                Ok(Some(response)) => return Ok(Some(response)),
                Ok(None) => {}
                Err(error) => errors.push(error),
            }
        }
        match errors.len() {
            0 => Ok(None),
            1 => Err(errors.remove(0)),
            _ => Err(AuthnError::Aggregate(errors)),
        }
    }
}

/// Authenticates a request by its bearer token.
#[derive(Debug, Clone)]
pub struct BearerToken(pub Arc<dyn TokenAuthenticator>);

#[async_trait]
impl Authenticator for BearerToken {
    async fn authenticate(&self, request: &RequestParts) -> Result<Option<Response>, AuthnError> {
        let Some(token) = bearer_token(request) else {
            return Ok(None);
        };
        match self.0.authenticate_token(token, None).await? {
            Some(response) => Ok(Some(response)),
            None => Err(AuthnError::InvalidBearerToken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::token_file::TokenFile;

    fn request(authorization: Option<&str>) -> RequestParts {
        let mut builder = http::Request::builder();
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_token_is_the_second_word_of_a_bearer_header() {
        assert_eq!(bearer_token(&request(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("  bearer abc  "))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("BEARER abc def"))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("Bearer "))), None);
        assert_eq!(bearer_token(&request(Some("Bearer  abc"))), None);
        assert_eq!(bearer_token(&request(Some("Basic dXNlcjpwYXNz"))), None);
        assert_eq!(bearer_token(&request(Some("Bearer"))), None);
        assert_eq!(bearer_token(&request(None)), None);
    }

    #[tokio::test]
    async fn an_unknown_token_is_an_error_and_no_token_is_not_applicable() {
        let file = TokenFile::parse("t.csv", "good,alice,1\n", vec![]).unwrap();
        let auth = BearerToken(Arc::new(TokenUnion(vec![Arc::new(file)])));
        let alice = auth.authenticate(&request(Some("Bearer good"))).await.unwrap().unwrap();
        assert_eq!(alice.user.name, "alice");
        assert_eq!(
            auth.authenticate(&request(Some("Bearer bad"))).await,
            Err(AuthnError::InvalidBearerToken)
        );
        assert_eq!(auth.authenticate(&request(None)).await, Ok(None));
        assert_eq!(auth.authenticate(&request(Some("Basic x"))).await, Ok(None));
    }
}
