//! Authentication: who is making a request, as kube-apiserver decides it.
//!
//! A request's parts (headers, and the TLS client chain the server put in its extensions) go
//! through one [`Authenticator`] built by [`Authentication::new`] in kube's order: a front
//! proxy's certificate with the user in `X-Remote-*` headers ([`requestheader`]) → x509 client
//! certificate ([`x509`]) → bearer token ([`bearer`]: the static token file
//! [`token_file`], then ServiceAccount JWTs [`serviceaccount`]) → `system:authenticated` added →
//! anonymous ([`union`]). The answer is a [`UserInfo`] (kube's `user.Info`) or an error, which
//! the server turns into a 401 Status saying only "Unauthorized". After authentication,
//! [`impersonation`] reads the `Impersonate-*` headers into a request the authorizer checks.
//!
//! Also here, for the endpoints that come with TokenRequest: signing bound ServiceAccount
//! tokens ([`serviceaccount::TokenIssuer`] over [`jwt`]) and the OIDC discovery documents
//! ([`oidc`]). Nothing in this module reads storage: whether a token's ServiceAccount (and pod
//! or secret) still exists is asked through [`serviceaccount::BoundObjectGetter`], which the
//! registry implements.

pub mod bearer;
pub mod impersonation;
pub mod jwt;
pub mod oidc;
pub mod requestheader;
pub mod serviceaccount;
mod setup;
pub mod token_file;
pub mod union;
pub mod x509;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use setup::{Authentication, AuthnConfig, DEFAULT_SERVICE_ACCOUNT_ISSUER, SetupError};

/// The user of unauthenticated requests.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// The group of every authenticated user.
pub const ALL_AUTHENTICATED: &str = "system:authenticated";
/// The group of anonymous requests.
pub const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
/// The `extra` key naming the credential a user authenticated with (`X509SHA256=…`, `JTI=…`).
pub const CREDENTIAL_ID_KEY: &str = "authentication.kubernetes.io/credential-id";

/// An authenticated user, as kube's `user.Info`; serializes as `authentication.k8s.io/v1`
/// `UserInfo` (TokenReview, SelfSubjectReview, audit events).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(rename = "username", default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// The anonymous user: `system:anonymous` in `system:unauthenticated`.
    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: ANONYMOUS_USER.to_owned(),
            groups: vec![ALL_UNAUTHENTICATED.to_owned()],
            ..UserInfo::default()
        }
    }
}

/// A successful authentication: the user, and the audiences the credential is valid for
/// (the API audiences it matched; TokenReview reports them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub user: UserInfo,
    pub audiences: Vec<String>,
}

/// Why authentication failed. The server logs it and answers 401 "Unauthorized" whatever it
/// says; TokenReview puts it in `status.error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnError {
    /// A bearer token no token authenticator recognised.
    #[error("invalid bearer token")]
    InvalidBearerToken,
    /// A token that was recognised but is not valid (expired, bad signature, deleted owner…).
    #[error("{0}")]
    InvalidToken(String),
    /// A client certificate that does not verify against the client CAs.
    #[error("{0}")]
    ClientCertificate(String),
    /// Nothing authenticated the request and anonymous requests are off.
    #[error("no credentials and anonymous requests are disabled")]
    NoCredentials,
    /// Several authenticators failed (kube's aggregate: `[a, b]`).
    #[error("[{}]", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Aggregate(Vec<AuthnError>),
}

/// The request parts an authenticator reads: headers, and extensions (the TLS client chain).
pub type RequestParts = http::request::Parts;

/// Authenticates a request. `Ok(None)`: this authenticator does not apply (no credential of
/// its kind); `Err`: a credential of its kind that is not valid.
#[async_trait]
pub trait Authenticator: Send + Sync + fmt::Debug {
    async fn authenticate(&self, request: &RequestParts) -> Result<Option<Response>, AuthnError>;
}

/// Authenticates a bearer token (the request path, and TokenReview).
#[async_trait]
pub trait TokenAuthenticator: Send + Sync + fmt::Debug {
    /// `audiences`: those the caller requires (TokenReview's `spec.audiences`); `None` means
    /// the server's API audiences, as for every request.
    async fn authenticate_token(
        &self,
        token: &str,
        audiences: Option<&[String]>,
    ) -> Result<Option<Response>, AuthnError>;
}

/// kube's handling of credentials that carry no audience (client certificates, static
/// tokens): valid for the API audiences the caller asks for, if any. `None`: none in common.
pub fn audience_agnostic(
    api_audiences: &[String],
    requested: Option<&[String]>,
) -> Option<Vec<String>> {
    let Some(requested) = requested else {
        return Some(api_audiences.to_vec());
    };
    let common: Vec<String> =
        api_audiences.iter().filter(|a| requested.contains(a)).cloned().collect();
    (!common.is_empty()).then_some(common)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_serializes_as_authentication_k8s_io() {
        let mut user = UserInfo {
            name: "alice".to_owned(),
            uid: "42".to_owned(),
            groups: vec!["dev".to_owned()],
            ..UserInfo::default()
        };
        user.extra.insert("k".to_owned(), vec!["v".to_owned()]);
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            serde_json::json!({"username": "alice", "uid": "42", "groups": ["dev"], "extra": {"k": ["v"]}})
        );
        assert_eq!(
            serde_json::to_value(UserInfo::anonymous()).unwrap(),
            serde_json::json!({"username": "system:anonymous", "groups": ["system:unauthenticated"]})
        );
    }

    #[test]
    fn audience_agnostic_credentials_take_the_requested_api_audiences() {
        let api = vec!["https://kube".to_owned(), "other".to_owned()];
        assert_eq!(audience_agnostic(&api, None), Some(api.clone()));
        let asked = vec!["other".to_owned(), "x".to_owned()];
        assert_eq!(audience_agnostic(&api, Some(&asked)), Some(vec!["other".to_owned()]));
        assert_eq!(audience_agnostic(&api, Some(&["x".to_owned()])), None);
        let errors = AuthnError::Aggregate(vec![
            AuthnError::InvalidBearerToken,
            AuthnError::InvalidToken("expired".to_owned()),
        ]);
        assert_eq!(errors.to_string(), "[invalid bearer token, expired]");
    }
}
