//! Assembles the authenticators from their configuration ([`AuthnConfig`], one field per
//! kube-apiserver flag) into [`Authentication`]: the request chain in kube's order, the token
//! authenticators alone (TokenReview), the ServiceAccount token issuer (TokenRequest) and the
//! OIDC discovery documents.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use super::bearer::{BearerToken, TokenUnion};
use super::jwt::{self, KeyError, SigningKey, VerifyingKey};
use super::requestheader::{RequestHeaderAuthenticator, RequestHeaderConfig};
use super::serviceaccount::{BoundObjectGetter, ServiceAccountAuthenticator, TokenIssuer};
use super::token_file::{TokenFile, TokenFileError};
use super::union::Union;
use super::x509::X509Authenticator;
use super::{Authenticator, TokenAuthenticator, oidc};
use crate::pki::Pki;

/// The issuer when `--service-account-issuer` is not given (kubeadm's and k3s's).
pub const DEFAULT_SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// What authentication is built from. Each field names the flag that fills it.
#[derive(Debug, Clone)]
pub struct AuthnConfig {
    /// `--anonymous-auth` (default true): requests without credentials are `system:anonymous`.
    pub anonymous_auth: bool,
    /// Trust anchors for client certificates: [`Pki::client_ca`] (the generated CA, plus
    /// `--client-ca-file`). Empty: no x509 authentication.
    pub client_ca: Vec<CertificateDer<'static>>,
    /// `--token-auth-file`: kube's static token CSV.
    pub token_auth_file: Option<PathBuf>,
    /// `--service-account-issuer` (repeatable): the first signs new tokens, all are accepted.
    /// Empty: [`DEFAULT_SERVICE_ACCOUNT_ISSUER`].
    pub service_account_issuers: Vec<String>,
    /// `--api-audiences`. Empty: the first issuer, as kube defaults it.
    pub api_audiences: Vec<String>,
    /// `--service-account-signing-key-file` (default: the generated `pki/sa.key`).
    pub service_account_signing_key_file: PathBuf,
    /// `--service-account-key-file` (repeatable): further verification keys, public or private
    /// PEM (keys rotated out of signing). The signing key always verifies.
    pub service_account_key_files: Vec<PathBuf>,
    /// `--service-account-max-token-expiration`: longest lifetime of an issued token.
    pub service_account_max_token_expiration: Option<Duration>,
    /// `--service-account-jwks-uri`: the `jwks_uri` the discovery document names.
    pub service_account_jwks_uri: Option<String>,
    /// `host:port` clients reach the server at (from `--advertise-address` and the listen
    /// port), for the default `jwks_uri`.
    pub external_address: Option<String>,
    /// The `--requestheader-*` flags over the front-proxy CA; `None`: no requestheader
    /// authentication.
    pub requestheader: Option<RequestHeaderConfig>,
}

impl AuthnConfig {
    /// The defaults over a loaded [`Pki`]: anonymous on, its client CAs, its SA key.
    pub fn new(pki: &Pki) -> AuthnConfig {
        AuthnConfig {
            anonymous_auth: true,
            client_ca: pki.client_ca.clone(),
            token_auth_file: None,
            service_account_issuers: Vec::new(),
            api_audiences: Vec::new(),
            service_account_signing_key_file: pki.service_account_key_file.clone(),
            service_account_key_files: Vec::new(),
            service_account_max_token_expiration: None,
            service_account_jwks_uri: None,
            external_address: None,
            requestheader: Some(RequestHeaderConfig::new(
                pki.front_proxy.client_ca.clone(),
                // kubeadm's flag, for the front-proxy CA it generates.
                if pki.front_proxy.generated {
                    vec![crate::pki::FRONT_PROXY_CLIENT.to_owned()]
                } else {
                    Vec::new()
                },
            )),
        }
    }

    /// The issuers, defaulted.
    pub fn issuers(&self) -> Vec<String> {
        if self.service_account_issuers.is_empty() {
            vec![DEFAULT_SERVICE_ACCOUNT_ISSUER.to_owned()]
        } else {
            self.service_account_issuers.clone()
        }
    }

    /// The API audiences, defaulted to the first issuer.
    pub fn audiences(&self) -> Vec<String> {
        if self.api_audiences.is_empty() {
            self.issuers().into_iter().take(1).collect()
        } else {
            self.api_audiences.clone()
        }
    }
}

/// Configuration that cannot be used; the server does not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("service account key: {0}")]
    Key(#[from] KeyError),
    #[error(transparent)]
    TokenFile(#[from] TokenFileError),
    #[error("{0}")]
    Config(String),
}

/// Everything authentication gives the server.
#[derive(Debug)]
pub struct Authentication {
    /// The request chain (x509, bearer tokens, anonymous): the authentication filter calls
    /// [`Union::authenticate_request`].
    pub request: Arc<Union>,
    /// The token authenticators alone, for TokenReview.
    pub tokens: Arc<TokenUnion>,
    /// Signs TokenRequest's tokens.
    pub issuer: TokenIssuer,
    /// `--api-audiences`, defaulted: TokenRequest's default audiences.
    pub api_audiences: Vec<String>,
    /// `/.well-known/openid-configuration`; `None` when the issuer is not an https URL or no
    /// `jwks_uri` can be named (kube then serves neither document).
    pub openid_configuration: Option<serde_json::Value>,
    /// `/openid/v1/jwks`.
    pub jwks: serde_json::Value,
}

impl Authentication {
    /// Builds the authenticators; `getter` looks up the objects tokens are bound to.
    pub fn new(
        config: &AuthnConfig,
        getter: Arc<dyn BoundObjectGetter>,
    ) -> Result<Authentication, SetupError> {
        let issuers = config.issuers();
        let api_audiences = config.audiences();
        let signing =
            Arc::new(SigningKey::from_pem_file(&config.service_account_signing_key_file)?);
        let mut keys = vec![signing.verifying_key().clone()];
        for path in &config.service_account_key_files {
            for key in jwt::verifying_keys_from_pem_file(path)? {
                if !keys.iter().any(|k: &VerifyingKey| k.kid == key.kid) {
                    keys.push(key);
                }
            }
        }

        let mut token_authenticators: Vec<Arc<dyn TokenAuthenticator>> = Vec::new();
        if let Some(path) = &config.token_auth_file {
            token_authenticators.push(Arc::new(TokenFile::from_file(path, api_audiences.clone())?));
        }
        token_authenticators.push(Arc::new(ServiceAccountAuthenticator::new(
            issuers.clone(),
            keys.clone(),
            api_audiences.clone(),
            getter,
        )));
        let tokens = Arc::new(TokenUnion(token_authenticators));

        // kube's order: the front proxy's headers first, then the client's own certificate.
        let mut chain: Vec<Arc<dyn Authenticator>> = Vec::new();
        if let Some(requestheader) =
            config.requestheader.clone().filter(|r| !r.client_ca.is_empty())
        {
            let authenticator =
                RequestHeaderAuthenticator::new(requestheader).map_err(SetupError::Config)?;
            chain.push(Arc::new(authenticator));
        }
        if !config.client_ca.is_empty() {
            let x509 = X509Authenticator::new(&config.client_ca, api_audiences.clone())
                .map_err(SetupError::Config)?;
            chain.push(Arc::new(x509));
        }
        chain.push(Arc::new(BearerToken(tokens.clone())));
        let request = Arc::new(Union::new(chain, config.anonymous_auth));

        let max_expiration = config
            .service_account_max_token_expiration
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let issuer = TokenIssuer::new(issuers[0].clone(), signing, max_expiration);
        let openid_configuration = match oidc::discovery_document(
            &issuers[0],
            config.service_account_jwks_uri.as_deref(),
            config.external_address.as_deref(),
            &keys,
        ) {
            Ok(document) => Some(document),
            Err(reason) => {
                tracing::warn!(%reason, "ServiceAccount issuer discovery is not served");
                None
            }
        };
        Ok(Authentication {
            request,
            tokens,
            issuer,
            api_audiences,
            openid_configuration,
            jwks: oidc::jwks(&keys),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::serviceaccount::{BoundKind, BoundObject, ObjectRef, TokenRequest};
    use crate::pki::PkiConfig;
    use crate::pki::tls::ClientCertChain;
    use async_trait::async_trait;
    use rustls::pki_types::pem::PemObject;

    #[derive(Debug)]
    struct Everything;

    #[async_trait]
    impl BoundObjectGetter for Everything {
        async fn get(&self, _: BoundKind, _: &str, _: &str) -> Result<Option<BoundObject>, String> {
            Ok(Some(BoundObject { uid: "uid".to_owned(), deletion_timestamp: None }))
        }
    }

    fn request(bearer: Option<&str>, chain: Option<ClientCertChain>) -> http::request::Parts {
        let mut builder = http::Request::builder();
        if let Some(token) = bearer {
            builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let mut parts = builder.body(()).unwrap().into_parts().0;
        if let Some(chain) = chain {
            parts.extensions.insert(chain);
        }
        parts
    }

    #[tokio::test]
    async fn the_secure_default_authenticates_admin_tokens_and_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_generate(&PkiConfig {
            data_dir: dir.path().to_owned(),
            ..PkiConfig::default()
        })
        .unwrap();
        let tokens = dir.path().join("tokens.csv");
        std::fs::write(&tokens, "s3cret,alice,1,dev\n").unwrap();
        let mut config = AuthnConfig::new(&pki);
        config.token_auth_file = Some(tokens);
        config.external_address = Some("127.0.0.1:6443".to_owned());
        let auth = Authentication::new(&config, Arc::new(Everything)).unwrap();
        assert_eq!(auth.api_audiences, vec![DEFAULT_SERVICE_ACCOUNT_ISSUER]);

        let admin = CertificateDer::from_pem_slice(pki.admin.cert_pem.as_bytes()).unwrap();
        let chain = ClientCertChain(vec![admin].into());
        let user =
            auth.request.authenticate_request(&request(None, Some(chain))).await.unwrap().user;
        assert_eq!(user.name, "kubernetes-admin");
        assert_eq!(user.groups, vec!["system:masters", "system:authenticated"]);

        let user =
            auth.request.authenticate_request(&request(Some("s3cret"), None)).await.unwrap().user;
        assert_eq!((user.name.as_str(), user.groups.len()), ("alice", 2));

        let issued = auth
            .issuer
            .issue(
                &TokenRequest {
                    namespace: "default".to_owned(),
                    service_account: ObjectRef {
                        name: "default".to_owned(),
                        uid: "uid".to_owned(),
                    },
                    audiences: auth.api_audiences.clone(),
                    expiration_seconds: 3600,
                    bound: None,
                },
                crate::pki::unix_now(),
            )
            .unwrap();
        let user = auth
            .request
            .authenticate_request(&request(Some(&issued.token), None))
            .await
            .unwrap()
            .user;
        assert_eq!(user.name, "system:serviceaccount:default:default");
        assert!(user.groups.contains(&"system:authenticated".to_owned()));

        assert!(auth.request.authenticate_request(&request(Some("nope"), None)).await.is_err());
        let anonymous = auth.request.authenticate_request(&request(None, None)).await.unwrap();
        assert_eq!(anonymous.user.name, "system:anonymous");

        let discovery = auth.openid_configuration.unwrap();
        assert_eq!(discovery["jwks_uri"], "https://127.0.0.1:6443/openid/v1/jwks");
        assert_eq!(auth.jwks["keys"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn bad_files_are_setup_errors() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_generate(&PkiConfig {
            data_dir: dir.path().to_owned(),
            ..PkiConfig::default()
        })
        .unwrap();
        let mut config = AuthnConfig::new(&pki);
        config.service_account_signing_key_file = dir.path().join("missing.key");
        assert!(matches!(
            Authentication::new(&config, Arc::new(Everything)),
            Err(SetupError::Key(_))
        ));

        let mut config = AuthnConfig::new(&pki);
        let tokens = dir.path().join("tokens.csv");
        std::fs::write(&tokens, "a,b\n").unwrap();
        config.token_auth_file = Some(tokens);
        let error = Authentication::new(&config, Arc::new(Everything)).unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
