//! ServiceAccount tokens: bound, expiring JWTs as kube's TokenRequest issues them, and their
//! authenticator.
//!
//! Claims: `iss`, `sub` (`system:serviceaccount:<ns>:<name>`), `aud`, `exp`, `iat`, `nbf`,
//! `jti`, and `kubernetes.io: {namespace, serviceaccount: {name, uid}, pod|secret|node?}`.
//! Verification, in kube's order: a token whose `iss` is not ours is not applicable (another
//! authenticator may know it); then the signature (by `kid`), the issuer, the audiences (the
//! token's must meet the API audiences), the time (60 s leeway), and finally the objects it is
//! bound to: the ServiceAccount (and pod, secret or node) must still exist with the same uid and
//! not have been deleted more than 60 s ago — asked through [`BoundObjectGetter`], which the
//! registry implements. The user is the ServiceAccount, in `system:serviceaccounts` and
//! `system:serviceaccounts:<ns>`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use super::jwt::{self, KeyError, SigningKey, VerifyingKey};
use super::{AuthnError, CREDENTIAL_ID_KEY, Response, TokenAuthenticator, UserInfo};

/// TokenRequest's default `expirationSeconds`.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest `expirationSeconds` kube accepts (10 minutes).
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// Clock skew tolerated on `exp`, `nbf`, `iat`, and after a bound object's deletion (go-jose's
/// default leeway, which kube uses).
pub const LEEWAY_SECONDS: i64 = 60;

/// The prefix of a ServiceAccount's user name.
pub const USERNAME_PREFIX: &str = "system:serviceaccount:";
/// The group of every ServiceAccount.
pub const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// `extra` keys of a pod-bound token.
pub const POD_NAME_KEY: &str = "authentication.kubernetes.io/pod-name";
pub const POD_UID_KEY: &str = "authentication.kubernetes.io/pod-uid";
/// `extra` keys of a node-bound token.
pub const NODE_NAME_KEY: &str = "authentication.kubernetes.io/node-name";
pub const NODE_UID_KEY: &str = "authentication.kubernetes.io/node-uid";

/// `system:serviceaccount:<namespace>:<name>`.
pub fn username(namespace: &str, name: &str) -> String {
    format!("{USERNAME_PREFIX}{namespace}:{name}")
}

/// `(namespace, name)` of a ServiceAccount user name; `None` for any other user. As kube, both
/// parts must be valid names (DNS labels / subdomains).
pub fn split_username(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix(USERNAME_PREFIX)?;
    let (namespace, name) = rest.split_once(':')?;
    let valid_namespace = crate::meta::validation::is_dns1123_label(namespace).is_empty();
    let valid_name = crate::meta::validation::is_dns1123_subdomain(name).is_empty();
    (valid_namespace && valid_name && !name.contains(':')).then_some((namespace, name))
}

/// The groups of a ServiceAccount in `namespace`.
pub fn groups(namespace: &str) -> Vec<String> {
    vec![ALL_SERVICE_ACCOUNTS_GROUP.to_owned(), format!("{ALL_SERVICE_ACCOUNTS_GROUP}:{namespace}")]
}

/// The kinds of object a token is bound to (`kubernetes.io` claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoundKind {
    ServiceAccount,
    Pod,
    Secret,
    Node,
}

/// What the authenticator needs to know of a bound object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    pub uid: String,
    /// `metadata.deletionTimestamp` as Unix seconds, if set.
    pub deletion_timestamp: Option<i64>,
}

/// Looks up the objects a token is bound to. Implemented by the registry.
#[async_trait]
pub trait BoundObjectGetter: Send + Sync + std::fmt::Debug {
    /// The object, or `Ok(None)` when it does not exist. `namespace` is empty for nodes.
    async fn get(
        &self,
        kind: BoundKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BoundObject>, String>;
}

/// `{name, uid}` in the `kubernetes.io` claims.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uid: String,
}

/// The private `kubernetes.io` claims.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KubernetesClaims {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub serviceaccount: ObjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<ObjectRef>,
}

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default, deserialize_with = "string_or_list")]
    pub aud: Vec<String>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    #[serde(default)]
    pub jti: String,
    #[serde(rename = "kubernetes.io", default)]
    pub kubernetes: KubernetesClaims,
}

/// `aud` is a string or a list of strings (RFC 7519).
fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Audience>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Audience::One(one)) => vec![one],
        Some(Audience::Many(many)) => many,
    })
}

/// What a TokenRequest asks for (after defaulting: audiences are never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub namespace: String,
    pub service_account: ObjectRef,
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
    /// `spec.boundObjectRef`: a Pod, Secret or Node the token dies with.
    pub bound: Option<(BoundKind, ObjectRef)>,
}

/// A signed token and when it expires (Unix seconds; TokenRequest's
/// `status.expirationTimestamp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expiration: i64,
}

/// Signs ServiceAccount tokens with `--service-account-signing-key-file` for the first
/// `--service-account-issuer`.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    issuer: String,
    key: Arc<SigningKey>,
    /// `--service-account-max-token-expiration`, seconds.
    max_expiration: Option<i64>,
}

impl TokenIssuer {
    pub fn new(issuer: String, key: Arc<SigningKey>, max_expiration: Option<i64>) -> TokenIssuer {
        TokenIssuer { issuer, key, max_expiration }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs a token for `request` as of `now` (Unix seconds). The lifetime is capped at
    /// `--service-account-max-token-expiration`.
    pub fn issue(&self, request: &TokenRequest, now: i64) -> Result<IssuedToken, KeyError> {
        let mut lifetime = request.expiration_seconds;
        if let Some(max) = self.max_expiration {
            lifetime = lifetime.min(max);
        }
        let expiration = now + lifetime;
        let mut kubernetes = KubernetesClaims {
            namespace: request.namespace.clone(),
            serviceaccount: request.service_account.clone(),
            ..KubernetesClaims::default()
        };
        match &request.bound {
            Some((BoundKind::Pod, object)) => kubernetes.pod = Some(object.clone()),
            Some((BoundKind::Secret, object)) => kubernetes.secret = Some(object.clone()),
            Some((BoundKind::Node, object)) => kubernetes.node = Some(object.clone()),
            Some((BoundKind::ServiceAccount, _)) | None => {}
        }
        let claims = json!({
            "iss": self.issuer,
            "sub": username(&request.namespace, &request.service_account.name),
            "aud": request.audiences,
            "exp": expiration,
            "iat": now,
            "nbf": now,
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": kubernetes,
        });
        Ok(IssuedToken { token: self.key.sign(&claims)?, expiration })
    }
}

/// Checks TokenRequest's `expirationSeconds` as kube validates it; the message is the cause.
pub fn validate_expiration(seconds: i64) -> Result<(), String> {
    if seconds < MIN_EXPIRATION_SECONDS {
        return Err("may not specify a duration less than 10 minutes".to_owned());
    }
    if seconds > i64::from(u32::MAX) {
        return Err("may not specify a duration larger than 2^32 seconds".to_owned());
    }
    Ok(())
}

/// Authenticates ServiceAccount JWTs.
#[derive(Debug, Clone)]
pub struct ServiceAccountAuthenticator {
    /// Every `--service-account-issuer` (the first signs; the others are still accepted).
    issuers: Vec<String>,
    /// `--service-account-key-file` keys, and the signing key's public half.
    keys: Vec<VerifyingKey>,
    /// `--api-audiences`.
    api_audiences: Vec<String>,
    getter: Arc<dyn BoundObjectGetter>,
}

fn invalid(message: impl Into<String>) -> AuthnError {
    AuthnError::InvalidToken(message.into())
}

impl ServiceAccountAuthenticator {
    pub fn new(
        issuers: Vec<String>,
        keys: Vec<VerifyingKey>,
        api_audiences: Vec<String>,
        getter: Arc<dyn BoundObjectGetter>,
    ) -> Self {
        ServiceAccountAuthenticator { issuers, keys, api_audiences, getter }
    }

    /// [`TokenAuthenticator::authenticate_token`] as of `now` (Unix seconds).
    pub async fn authenticate_at(
        &self,
        token: &str,
        audiences: Option<&[String]>,
        now: i64,
    ) -> Result<Option<Response>, AuthnError> {
        let ours = jwt::peek_claims(token)
            .and_then(|c| c.get("iss").and_then(|i| i.as_str()).map(str::to_owned))
            .is_some_and(|iss| self.issuers.contains(&iss));
        if !ours {
            return Ok(None);
        }
        let payload = jwt::verify(token, &self.keys).map_err(|e| invalid(e.to_string()))?;
        let claims: Claims = serde_json::from_slice(&payload)
            .map_err(|_| invalid("service account token claims could not be parsed"))?;
        if !self.issuers.contains(&claims.iss) {
            return Err(invalid(format!("token issuer {:?} is invalid", claims.iss)));
        }

        let token_audiences = if claims.aud.is_empty() {
            self.api_audiences.clone() // legacy tokens carry none
        } else {
            claims.aud.clone()
        };
        let requested = audiences.unwrap_or(&self.api_audiences);
        let common: Vec<String> =
            token_audiences.iter().filter(|a| requested.contains(a)).cloned().collect();
        if common.is_empty() && !self.api_audiences.is_empty() {
            return Err(invalid(format!(
                "token audiences {token_audiences:?} is invalid for the target audiences {requested:?}"
            )));
        }

        if claims.exp.is_some_and(|exp| now - LEEWAY_SECONDS > exp) {
            return Err(invalid("service account token has expired"));
        }
        if claims.nbf.is_some_and(|nbf| now + LEEWAY_SECONDS < nbf) {
            return Err(invalid("service account token is not valid yet"));
        }
        if claims.iat.is_some_and(|iat| now + LEEWAY_SECONDS < iat) {
            return Err(invalid(
                "service account token claims could not be validated due to unexpected validation error",
            ));
        }

        let user = self.validate_bound_objects(&claims, now).await?;
        Ok(Some(Response { user, audiences: common }))
    }

    /// Checks the ServiceAccount (and the pod, secret or node) still exist as when the token
    /// was signed, and builds the user.
    async fn validate_bound_objects(
        &self,
        claims: &Claims,
        now: i64,
    ) -> Result<UserInfo, AuthnError> {
        let k8s = &claims.kubernetes;
        let (namespace, sa) = (&k8s.namespace, &k8s.serviceaccount);
        if namespace.is_empty() || sa.name.is_empty() || claims.sub != username(namespace, &sa.name)
        {
            return Err(invalid("service account token claims could not be validated"));
        }
        let deleted_before = now - LEEWAY_SECONDS;
        let deleted =
            |object: &BoundObject| object.deletion_timestamp.is_some_and(|at| at < deleted_before);
        let lookup = |kind: BoundKind, namespace: &str, name: &str| {
            let getter = self.getter.clone();
            let (namespace, name) = (namespace.to_owned(), name.to_owned());
            async move { getter.get(kind, &namespace, &name).await.map_err(invalid) }
        };

        let account = lookup(BoundKind::ServiceAccount, namespace, &sa.name)
            .await?
            .ok_or_else(|| invalid(format!("serviceaccounts {:?} not found", sa.name)))?;
        if deleted(&account) {
            return Err(invalid(format!(
                "service account {namespace}/{} has been deleted",
                sa.name
            )));
        }
        if account.uid != sa.uid {
            return Err(invalid(format!(
                "service account UID ({}) does not match claim ({})",
                account.uid, sa.uid
            )));
        }

        let mut user = UserInfo {
            name: username(namespace, &sa.name),
            uid: sa.uid.clone(),
            groups: groups(namespace),
            ..UserInfo::default()
        };
        let bound = [
            (BoundKind::Secret, &k8s.secret, "secret", namespace.as_str()),
            (BoundKind::Pod, &k8s.pod, "pod", namespace.as_str()),
            (BoundKind::Node, &k8s.node, "node", ""),
        ];
        for (kind, reference, noun, namespace) in bound {
            let Some(reference) = reference else { continue };
            let object = lookup(kind, namespace, &reference.name).await;
            let object = match object {
                Ok(Some(object)) if !deleted(&object) => object,
                _ => return Err(invalid("service account token has been invalidated")),
            };
            if object.uid != reference.uid {
                return Err(invalid(format!(
                    "{noun} UID ({}) does not match service account {noun} ref claim ({})",
                    object.uid, reference.uid
                )));
            }
            let keys = match kind {
                BoundKind::Pod => Some((POD_NAME_KEY, POD_UID_KEY)),
                BoundKind::Node => Some((NODE_NAME_KEY, NODE_UID_KEY)),
                _ => None,
            };
            if let Some((name_key, uid_key)) = keys {
                user.extra.insert(name_key.to_owned(), vec![reference.name.clone()]);
                user.extra.insert(uid_key.to_owned(), vec![reference.uid.clone()]);
            }
        }
        if !claims.jti.is_empty() {
            user.extra.insert(CREDENTIAL_ID_KEY.to_owned(), vec![format!("JTI={}", claims.jti)]);
        }
        Ok(user)
    }
}

#[async_trait]
impl TokenAuthenticator for ServiceAccountAuthenticator {
    async fn authenticate_token(
        &self,
        token: &str,
        audiences: Option<&[String]>,
    ) -> Result<Option<Response>, AuthnError> {
        self.authenticate_at(token, audiences, crate::pki::unix_now()).await
    }
}

#[cfg(test)]
mod tests;
