//! Create-only resources that store nothing, as kube-apiserver serves them: the reviews
//! (`authentication.k8s.io/v1` TokenReview and SelfSubjectReview; `authorization.k8s.io/v1`
//! SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview and
//! SelfSubjectRulesReview) and TokenRequest (`serviceaccounts/{name}/token`).
//!
//! Each is a [`Creater`]: a POST body in, the same object with its `status` filled in out
//! (201), nothing written. The review kinds are also registered as [`Resource`]s whose strategy
//! says [`Strategy::create_only`], so discovery, OpenAPI and `--runtime-config` know them as
//! they know every resource; their POSTs, and the `token` subresource's, reach the registry's
//! creater instead of the store:
//!
//! ```text
//! POST ─▶ api/create_only.rs: decode the body, the user from the request's extensions
//!      ─▶ Registry::creater(group, version, plural, subresource)
//!      ─▶ Creater::create(&Reviewers, CreateRequest) ─▶ authenticator / authorizer / issuer
//!      ◀─ the object with its status
//! ```
//!
//! [`Reviewers`] is what they need from the server's security setup (the token authenticators,
//! the authorizer and its rule resolver, the ServiceAccount token issuer): built once at start
//! and set on the registry with [`install`]. [`Reviewers::standalone`] is the default when the
//! server has nothing better: AlwaysAllow and a token key generated for this process.

mod access;
mod local_subject_access_review;
mod rules;
mod self_subject_access_review;
mod self_subject_review;
mod self_subject_rules_review;
mod subject_access_review;
mod token_request;
mod token_review;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub use crate::registry::bound_objects::StoreBoundObjects;
pub use rules::RulesResolver;

use super::Registry;
use super::builtin::{Kind, generic_table};
use super::object::{self, FieldOrder};
use super::resource::{GroupVersion, Resource};
use super::runtime_config::RuntimeConfig;
use super::store::Store;
use super::strategy::Strategy;
use crate::authn::bearer::{BearerToken, TokenUnion};
use crate::authn::jwt::SigningKey;
use crate::authn::serviceaccount::{ServiceAccountAuthenticator, TokenIssuer};
use crate::authn::union::Union;
use crate::authn::{Authentication, DEFAULT_SERVICE_ACCOUNT_ISSUER, UserInfo, oidc};
use crate::authz::{AlwaysAllow, Authorizer};
use crate::meta::status::ApiError;

/// Where a create-only endpoint is served: `group/version/plural[/subresource]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CreaterKey {
    pub group: String,
    pub version: String,
    pub plural: String,
    /// `""` for the resource itself.
    pub subresource: String,
}

impl CreaterKey {
    pub fn new(group: &str, version: &str, plural: &str, subresource: &str) -> CreaterKey {
        CreaterKey {
            group: group.to_owned(),
            version: version.to_owned(),
            plural: plural.to_owned(),
            subresource: subresource.to_owned(),
        }
    }
}

/// One POST to a create-only endpoint, decoded.
#[derive(Debug)]
pub struct CreateRequest<'a> {
    /// Reads the objects a TokenRequest names (its ServiceAccount, a bound Pod or Secret).
    pub store: &'a Store,
    /// Who asks (after impersonation): the subject of the self reviews.
    pub user: UserInfo,
    /// The namespace of the path, if any.
    pub namespace: Option<String>,
    /// The parent object's name, for a subresource (`serviceaccounts/{name}/token`).
    pub name: Option<String>,
    /// The body, an object of [`Creater::kind`].
    pub body: Value,
    /// Warnings for the client (`Warning` headers), such as a shortened token lifetime.
    pub warnings: &'a mut Vec<String>,
}

/// A create-only endpoint: answers a POST with an object, stores nothing.
#[async_trait]
pub trait Creater: Send + Sync + fmt::Debug {
    /// The group, version and kind of the body and of the answer.
    fn kind(&self) -> (&'static str, &'static str, &'static str);

    /// The answer to one request (the status code is 201).
    async fn create(
        &self,
        reviewers: &Reviewers,
        request: CreateRequest<'_>,
    ) -> Result<Value, ApiError>;
}

/// What the create-only endpoints need from the server's security setup.
#[derive(Debug, Clone)]
pub struct Reviewers {
    /// TokenReview's token authenticators and API audiences, TokenRequest's issuer, the OIDC
    /// discovery documents.
    pub authentication: Arc<Authentication>,
    /// The access reviews' authorizer: the chain `--authorization-mode` builds.
    pub authorizer: Arc<dyn Authorizer>,
    /// SelfSubjectRulesReview's rule resolver, for the same modes.
    pub rules: RulesResolver,
}

impl Reviewers {
    pub fn new(
        authentication: Arc<Authentication>,
        authorizer: Arc<dyn Authorizer>,
        rules: RulesResolver,
    ) -> Reviewers {
        Reviewers { authentication, authorizer, rules }
    }

    /// The default of a server with no authentication or authorization configured: everything
    /// allowed (AlwaysAllow, whose rules are `*`), ServiceAccount tokens signed with an ES256 key
    /// generated for this process under kube's default issuer, and issuer discovery naming
    /// `external_address` (`host:port`). Bound objects are read through `registry`'s store,
    /// which holds the registry weakly (the registry holds these reviewers).
    pub fn standalone(store: &Store, external_address: &str) -> Result<Reviewers, String> {
        let pem = rcgen::KeyPair::generate().map_err(|e| e.to_string())?.serialize_pem();
        let signing = Arc::new(SigningKey::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?);
        let keys = vec![signing.verifying_key().clone()];
        let issuer = DEFAULT_SERVICE_ACCOUNT_ISSUER.to_owned();
        let api_audiences = vec![issuer.clone()];
        let getter = Arc::new(StoreBoundObjects::new(store));
        let tokens = Arc::new(TokenUnion(vec![Arc::new(ServiceAccountAuthenticator::new(
            vec![issuer.clone()],
            keys.clone(),
            api_audiences.clone(),
            getter,
        ))]));
        let request = Arc::new(Union::new(vec![Arc::new(BearerToken(tokens.clone()))], true));
        let openid_configuration =
            oidc::discovery_document(&issuer, None, Some(external_address), &keys).ok();
        let authentication = Authentication {
            request,
            tokens,
            issuer: TokenIssuer::new(issuer, signing, None),
            api_audiences,
            openid_configuration,
            jwks: oidc::jwks(&keys),
        };
        Ok(Reviewers {
            authentication: Arc::new(authentication),
            authorizer: Arc::new(AlwaysAllow),
            rules: RulesResolver::always_allow(),
        })
    }
}

/// A review kind's names.
#[derive(Debug, Clone, Copy)]
struct ReviewKind {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
}

const VERSION: &str = "v1";
const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";

/// The review kinds and their creaters, in discovery's order.
fn reviews() -> Vec<(ReviewKind, Arc<dyn Creater>)> {
    let kind = |group, kind, plural, namespaced| ReviewKind { group, kind, plural, namespaced };
    vec![
        (
            kind(AUTHENTICATION, "SelfSubjectReview", "selfsubjectreviews", false),
            Arc::new(self_subject_review::SelfSubjectReviews),
        ),
        (
            kind(AUTHENTICATION, "TokenReview", "tokenreviews", false),
            Arc::new(token_review::TokenReviews),
        ),
        (
            kind(AUTHORIZATION, "LocalSubjectAccessReview", "localsubjectaccessreviews", true),
            Arc::new(local_subject_access_review::LocalSubjectAccessReviews),
        ),
        (
            kind(AUTHORIZATION, "SelfSubjectAccessReview", "selfsubjectaccessreviews", false),
            Arc::new(self_subject_access_review::SelfSubjectAccessReviews),
        ),
        (
            kind(AUTHORIZATION, "SelfSubjectRulesReview", "selfsubjectrulesreviews", false),
            Arc::new(self_subject_rules_review::SelfSubjectRulesReviews),
        ),
        (
            kind(AUTHORIZATION, "SubjectAccessReview", "subjectaccessreviews", false),
            Arc::new(subject_access_review::SubjectAccessReviews),
        ),
    ]
}

/// The strategy of the review kinds: nothing to store, only created.
#[derive(Debug, Clone, Copy, Default)]
struct CreateOnly;

impl Strategy for CreateOnly {
    fn create_only(&self) -> bool {
        true
    }
}

fn review_resource(review: &ReviewKind) -> Resource {
    let kind = Kind {
        group: review.group,
        version: VERSION,
        kind: review.kind,
        plural: review.plural,
        short_names: &[],
        categories: &[],
        namespaced: review.namespaced,
        storage_prefix: "",
    };
    Resource {
        // A prefix of its own that nothing is ever written under: the store is never asked.
        storage_prefix: format!("/{}.{}", review.plural, review.group),
        ..kind.resource(Arc::new(CreateOnly), generic_table())
    }
}

/// The review kinds' group/versions and plurals: what `--runtime-config` can name.
pub fn known() -> Vec<(GroupVersion, String)> {
    reviews()
        .into_iter()
        .map(|(r, _)| (GroupVersion::new(r.group, VERSION), r.plural.to_owned()))
        .collect()
}

/// Serves the create-only endpoints `config` enables (the review kinds, and TokenRequest when
/// ServiceAccounts are served) answering with `reviewers`. Called again, it swaps the
/// reviewers (the server's real authenticators and authorizer replacing the defaults).
pub fn install(registry: &Registry, config: &RuntimeConfig, reviewers: Arc<Reviewers>) {
    registry.set_reviewers(reviewers);
    for (review, creater) in reviews() {
        let gv = GroupVersion::new(review.group, VERSION);
        if !config.enabled(&gv, review.plural) {
            continue;
        }
        if registry.get(review.group, VERSION, review.plural).is_none() {
            // Registered once; only this function registers these names.
            let _ = registry.register(review_resource(&review));
        }
        registry
            .register_creater(CreaterKey::new(review.group, VERSION, review.plural, ""), creater);
    }
    if registry.get("", "v1", "serviceaccounts").is_some() {
        registry.register_creater(
            CreaterKey::new("", "v1", "serviceaccounts", "token"),
            Arc::new(token_request::TokenRequests),
        );
    }
}

/// The answer's `metadata`: the request's, without the fields the server owns (kube's create
/// handler wipes them), and `creationTimestamp` (`null` unless the kind sets it).
pub(crate) fn response_metadata(body: &Value, creation_timestamp: Value) -> Value {
    const WIPED: [&str; 5] =
        ["creationTimestamp", "uid", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"];
    let mut meta = Map::new();
    for (key, value) in body.get("metadata").and_then(Value::as_object).into_iter().flatten() {
        if !WIPED.contains(&key.as_str()) {
            meta.insert(key.clone(), value.clone());
        }
    }
    meta.insert("creationTimestamp".into(), creation_timestamp);
    let mut wrapper = serde_json::json!({ "metadata": meta });
    object::arrange(&mut wrapper, FieldOrder::Typed);
    wrapper["metadata"].take()
}

/// `{kind, apiVersion, metadata, spec, status}` of a review answer.
pub(crate) fn answer(
    (group, version, kind): (&str, &str, &str),
    metadata: Value,
    spec: Value,
    status: Value,
) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    out.insert("apiVersion".into(), GroupVersion::new(group, version).api_version().into());
    out.insert("metadata".into(), metadata);
    out.insert("spec".into(), spec);
    out.insert("status".into(), status);
    Value::Object(out)
}
