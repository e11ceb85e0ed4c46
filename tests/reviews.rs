//! The create-only review and token APIs, as kube-apiserver serves them: TokenReview and
//! SelfSubjectReview (`authentication.k8s.io/v1`), SubjectAccessReview, SelfSubjectAccessReview,
//! LocalSubjectAccessReview and SelfSubjectRulesReview (`authorization.k8s.io/v1`), TokenRequest
//! (`serviceaccounts/{name}/token`) and the ServiceAccount issuer's OIDC discovery documents.
//!
//! In-process: the router with the server's default reviewers (AlwaysAllow), or with an RBAC
//! authorizer over `InMemoryRules` installed in their place. The requesting user is set both
//! as the `UserInfo` request extension (what the handler reads) and as impersonation headers
//! (what the authentication and impersonation filters turn into that extension once they are on
//! the request path), so the tests hold with and without the filter chain.
//! With the real binary: `kubectl create token`, `kubectl auth whoami`, `kubectl auth can-i`.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use kube_ledger::authn::UserInfo;
use kube_ledger::authn::serviceaccount::{ObjectRef, TokenRequest};
use kube_ledger::authz::source::RuleSource;
use kube_ledger::authz::{
    AuthorizationMode, Authorizer, InMemoryRules, PrivilegedGroups, RbacAuthorizer,
};
use kube_ledger::registry::RuntimeConfig;
use kube_ledger::registry::reviews::{self, Reviewers, RulesResolver};
use serde_json::{Value, json};
use support::router::{Api, api, assert_status};
use support::server::TestServer;
use tower::ServiceExt;

const SAR: &str = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
const SSAR: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const SSRR: &str = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
const TOKEN_REVIEWS: &str = "/apis/authentication.k8s.io/v1/tokenreviews";
const WHOAMI: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo {
        name: name.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        ..UserInfo::default()
    }
}

/// Sends a request as `who` (anonymous when `None`).
async fn send(
    api: &Api,
    method: Method,
    uri: &str,
    who: Option<&UserInfo>,
    body: &[u8],
) -> (StatusCode, Value) {
    let mut request =
        Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(who) = who {
        request = request.header("Impersonate-User", &who.name);
        for group in &who.groups {
            request = request.header("Impersonate-Group", group);
        }
    }
    let mut request = request.body(Body::from(body.to_vec())).unwrap();
    if let Some(who) = who {
        request.extensions_mut().insert(who.clone());
    }
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn post_as(api: &Api, uri: &str, who: Option<&UserInfo>, body: Value) -> (StatusCode, Value) {
    send(api, Method::POST, uri, who, body.to_string().as_bytes()).await
}

fn created(got: (StatusCode, Value)) -> Value {
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    got.1
}

/// Swaps the server's reviewers for an RBAC authorizer over `rules` (behind `system:masters`,
/// as kube-apiserver chains them), keeping its authentication.
fn install_rbac(api: &Api, rules: Arc<InMemoryRules>) {
    let current = api.registry.reviewers().expect("reviewers installed at start");
    let source: Arc<dyn RuleSource> = rules;
    let authorizer: Arc<dyn Authorizer> = Arc::new(kube_ledger::authz::Union {
        authorizers: vec![
            Arc::new(PrivilegedGroups { groups: vec!["system:masters".to_owned()] }),
            Arc::new(RbacAuthorizer::new(source.clone())),
        ],
    });
    let resolver = RulesResolver::for_modes(&[AuthorizationMode::Rbac], &source);
    let reviewers = Reviewers::new(current.authentication.clone(), authorizer, resolver);
    reviews::install(&api.registry, &RuntimeConfig::default(), Arc::new(reviewers));
}

/// alice may get and list pods in `team`, through a Role and a RoleBinding.
fn team_rules() -> Arc<InMemoryRules> {
    let rules = Arc::new(InMemoryRules::new());
    rules.apply(&json!({
        "kind": "Role", "metadata": {"name": "pod-reader", "namespace": "team"},
        "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
    }));
    rules.apply(&json!({
        "kind": "RoleBinding", "metadata": {"name": "alice-reads", "namespace": "team"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "User", "name": "alice"}],
    }));
    rules.apply(&json!({
        "kind": "ClusterRole", "metadata": {"name": "health"},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
    }));
    rules.apply(&json!({
        "kind": "ClusterRoleBinding", "metadata": {"name": "health"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "health"},
        "subjects": [{"kind": "Group", "name": "devs"}],
    }));
    rules
}

fn sar(user: &str, verb: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "resourceAttributes": {"namespace": namespace, "verb": verb, "resource": "pods"}},
    })
}

#[tokio::test]
async fn discovery_lists_the_reviews_and_the_token_subresource_with_create_only() {
    let api = api().await;
    let (status, authz) = api.get("/apis/authorization.k8s.io/v1").await;
    assert_eq!(status, StatusCode::OK, "{authz}");
    let names: Vec<&str> = authz["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "localsubjectaccessreviews",
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
            "subjectaccessreviews"
        ]
    );
    let local = &authz["resources"][0];
    assert_eq!(
        *local,
        json!({"name": "localsubjectaccessreviews", "singularName": "localsubjectaccessreview",
               "namespaced": true, "kind": "LocalSubjectAccessReview", "verbs": ["create"]})
    );
    let (_, authn) = api.get("/apis/authentication.k8s.io/v1").await;
    let kinds: Vec<&str> = authn["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["SelfSubjectReview", "TokenReview"]);

    let (_, core) = api.get("/api/v1").await;
    let token = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "serviceaccounts/token")
        .expect("serviceaccounts/token in discovery");
    assert_eq!(
        *token,
        json!({"name": "serviceaccounts/token", "singularName": "", "namespaced": true,
               "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest",
               "verbs": ["create"]})
    );

    // OpenAPI lists the kinds (kubectl's `create -f` finds `fieldValidation` there).
    let (status, openapi) = api.get("/openapi/v3/apis/authorization.k8s.io/v1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(openapi["paths"][SAR]["post"].is_object(), "{}", openapi["paths"]);
}

#[tokio::test]
async fn subject_access_reviews_answer_from_rbac() {
    let api = api().await;
    install_rbac(&api, team_rules());
    let admin = user("root", &["system:masters"]);

    let allowed = created(post_as(&api, SAR, Some(&admin), sar("alice", "list", "team")).await);
    assert_eq!(allowed["kind"], "SubjectAccessReview");
    assert_eq!(allowed["metadata"], json!({"creationTimestamp": null}));
    assert_eq!(allowed["spec"]["user"], "alice");
    assert_eq!(allowed["status"]["allowed"], true, "{allowed}");
    let reason = allowed["status"]["reason"].as_str().unwrap();
    assert!(reason.contains("RoleBinding \"alice-reads/team\""), "{reason}");

    for (who, verb, namespace) in
        [("alice", "delete", "team"), ("alice", "get", "other"), ("bob", "get", "team")]
    {
        let denied = created(post_as(&api, SAR, Some(&admin), sar(who, verb, namespace)).await);
        assert_eq!(denied["status"], json!({"allowed": false}), "{who} {verb} {namespace}");
    }

    // Groups alone, and non-resource URLs.
    let health = json!({"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "spec": {"groups": ["devs"], "nonResourceAttributes": {"path": "/healthz", "verb": "get"}}});
    let answer = created(post_as(&api, SAR, Some(&admin), health).await);
    assert_eq!(answer["status"]["allowed"], true, "{answer}");

    // Local: confined to the path's namespace.
    let local_uri = "/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews";
    let mut local = sar("alice", "get", "team");
    local["kind"] = "LocalSubjectAccessReview".into();
    let answer = created(post_as(&api, local_uri, Some(&admin), local.clone()).await);
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    assert_eq!(answer["metadata"], json!({"namespace": "team", "creationTimestamp": null}));
    local["spec"]["resourceAttributes"]["namespace"] = "other".into();
    let got = post_as(&api, local_uri, Some(&admin), local.clone()).await;
    assert_status(&got, 422, "Invalid");
    assert_eq!(got.1["details"]["causes"][0]["field"], "spec.resourceAttributes.namespace");
    local["metadata"] = json!({"namespace": "other"});
    assert_status(&post_as(&api, local_uri, Some(&admin), local).await, 400, "BadRequest");
}

#[tokio::test]
async fn self_subject_access_reviews_ask_about_the_requesting_user() {
    let api = api().await;
    install_rbac(&api, team_rules());
    let alice = user("alice", &["system:authenticated"]);
    let ask = |verb: &str| {
        json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "spec": {"resourceAttributes": {"namespace": "team", "verb": verb, "resource": "pods"}}})
    };
    let yes = created(post_as(&api, SSAR, Some(&alice), ask("get")).await);
    assert_eq!(yes["status"]["allowed"], true, "{yes}");
    let no = created(post_as(&api, SSAR, Some(&alice), ask("create")).await);
    assert_eq!(no["status"]["allowed"], false, "{no}");
    let bob = user("bob", &["system:authenticated"]);
    let no = created(post_as(&api, SSAR, Some(&bob), ask("get")).await);
    assert_eq!(no["status"]["allowed"], false, "{no}");
}

#[tokio::test]
async fn self_subject_rules_reviews_list_the_rules_of_the_user() {
    let api = api().await;
    let anyone = user("carol", &["system:authenticated"]);
    let body = json!({"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                      "spec": {"namespace": "team"}});
    // AlwaysAllow lists everything.
    let current = api.registry.reviewers().unwrap();
    let open = Reviewers::new(
        current.authentication.clone(),
        Arc::new(kube_ledger::authz::AlwaysAllow),
        RulesResolver::always_allow(),
    );
    reviews::install(&api.registry, &RuntimeConfig::default(), Arc::new(open));
    let open = created(post_as(&api, SSRR, Some(&anyone), body.clone()).await);
    assert_eq!(
        open["status"],
        json!({"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
               "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
               "incomplete": false})
    );

    install_rbac(&api, team_rules());
    let alice = user("alice", &["system:authenticated", "devs"]);
    let answer = created(post_as(&api, SSRR, Some(&alice), body.clone()).await);
    assert_eq!(answer["spec"], json!({}));
    assert_eq!(
        answer["status"],
        json!({"resourceRules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
               "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
               "incomplete": false}),
        "{answer}"
    );
    let elsewhere = json!({"kind": "SelfSubjectRulesReview", "spec": {"namespace": "other"}});
    let answer = created(post_as(&api, SSRR, Some(&alice), elsewhere).await);
    assert_eq!(answer["status"]["resourceRules"], json!([]));

    let got = post_as(&api, SSRR, Some(&alice), json!({"kind": "SelfSubjectRulesReview"})).await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "no namespace on request");
}

#[tokio::test]
async fn self_subject_review_is_the_requesting_user() {
    let api = api().await;
    let alice = user("alice", &["devs", "system:authenticated"]);
    let body = json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1"});
    let answer = created(post_as(&api, WHOAMI, Some(&alice), body).await);
    assert_eq!(answer["kind"], "SelfSubjectReview");
    assert!(answer["metadata"]["creationTimestamp"].is_string(), "{answer}");
    let info = &answer["status"]["userInfo"];
    assert_eq!(info["username"], "alice");
    let groups: Vec<&str> =
        info["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert!(groups.contains(&"devs") && groups.contains(&"system:authenticated"), "{groups:?}");
}

/// Creates ServiceAccount `name` in `default`; its uid.
async fn service_account(api: &Api, name: &str) -> String {
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}});
    let (status, sa) = api.post("/api/v1/namespaces/default/serviceaccounts", sa).await;
    assert_eq!(status, StatusCode::CREATED, "{sa}");
    sa["metadata"]["uid"].as_str().unwrap().to_owned()
}

fn token_uri(name: &str) -> String {
    format!("/api/v1/namespaces/default/serviceaccounts/{name}/token")
}

fn token_request(spec: Value) -> Value {
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
}

async fn review(api: &Api, token: &str, audiences: Option<&[&str]>) -> Value {
    let mut spec = json!({"token": token});
    if let Some(audiences) = audiences {
        spec["audiences"] = json!(audiences);
    }
    let body =
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec});
    let admin = user("root", &["system:masters"]);
    created(post_as(api, TOKEN_REVIEWS, Some(&admin), body).await)
}

#[tokio::test]
async fn a_requested_token_reviews_as_its_service_account_until_the_account_goes() {
    let api = api().await;
    let uid = service_account(&api, "builder").await;
    let admin = user("root", &["system:masters"]);
    let issued =
        created(post_as(&api, &token_uri("builder"), Some(&admin), token_request(json!({}))).await);
    assert_eq!(issued["kind"], "TokenRequest");
    assert_eq!(issued["metadata"]["name"], "builder");
    assert_eq!(issued["metadata"]["namespace"], "default");
    assert_eq!(issued["metadata"]["uid"], uid);
    assert_eq!(issued["spec"], json!({"audiences": [ISSUER], "expirationSeconds": 3600}));
    let token = issued["status"]["token"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let expires = issued["status"]["expirationTimestamp"].as_str().unwrap();
    let created_at = issued["metadata"]["creationTimestamp"].as_str().unwrap();
    let seconds = |t: &str| humantime::parse_rfc3339(t).unwrap();
    assert_eq!(seconds(expires).duration_since(seconds(created_at)).unwrap().as_secs(), 3600);

    let answer = review(&api, &token, None).await;
    let status = &answer["status"];
    assert_eq!(status["authenticated"], true, "{answer}");
    assert_eq!(status["user"]["username"], "system:serviceaccount:default:builder");
    assert_eq!(status["user"]["uid"], uid);
    assert_eq!(
        status["user"]["groups"],
        json!(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])
    );
    assert_eq!(status["audiences"], json!([ISSUER]));
    assert_eq!(answer["spec"]["token"], token.as_str());

    // Another audience than the token's: not authenticated.
    let answer = review(&api, &token, Some(&["https://elsewhere"])).await;
    assert!(answer["status"].get("authenticated").is_none(), "{answer}");
    assert!(answer["status"]["error"].as_str().unwrap().contains("audiences"), "{answer}");

    // A token for audiences the caller names.
    let custom = token_request(json!({"audiences": ["vault"], "expirationSeconds": 600}));
    let issued = created(post_as(&api, &token_uri("builder"), Some(&admin), custom).await);
    let vault_token = issued["status"]["token"].as_str().unwrap().to_owned();
    assert_eq!(review(&api, &vault_token, Some(&["vault"])).await["status"]["authenticated"], true);

    let (status, _) = api.delete("/api/v1/namespaces/default/serviceaccounts/builder").await;
    assert_eq!(status, StatusCode::OK);
    let answer = review(&api, &token, None).await;
    assert_eq!(answer["status"]["user"], json!({}), "{answer}");
    assert!(answer["status"].get("authenticated").is_none(), "{answer}");
    assert!(answer["status"]["error"].as_str().unwrap().contains("not found"), "{answer}");
}

#[tokio::test]
async fn expired_forged_and_garbage_tokens_are_not_authenticated() {
    let api = api().await;
    let uid = service_account(&api, "old").await;
    let reviewers = api.registry.reviewers().unwrap();
    let two_hours_ago = kube_ledger::pki::unix_now() - 7200;
    let request = TokenRequest {
        namespace: "default".to_owned(),
        service_account: ObjectRef { name: "old".to_owned(), uid },
        audiences: vec![ISSUER.to_owned()],
        expiration_seconds: 600,
        bound: None,
    };
    let expired = reviewers.authentication.issuer.issue(&request, two_hours_ago).unwrap().token;
    let answer = review(&api, &expired, None).await;
    assert_eq!(answer["status"], json!({"user": {}, "error": "service account token has expired"}));

    // The claims of a valid token, re-signed by nobody: the signature fails.
    let fresh = reviewers
        .authentication
        .issuer
        .issue(&request, kube_ledger::pki::unix_now())
        .unwrap()
        .token;
    let parts: Vec<&str> = fresh.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 64])
    );
    let answer = review(&api, &forged, None).await;
    assert!(answer["status"].get("authenticated").is_none(), "{answer}");
    assert!(answer["status"]["error"].is_string(), "{answer}");

    let answer = review(&api, "not-a-token", None).await;
    assert_eq!(answer["status"], json!({"user": {}, "error": "invalid bearer token"}));
}

#[tokio::test]
async fn token_requests_check_what_they_name() {
    let api = api().await;
    service_account(&api, "runner").await;
    let admin = user("root", &["system:masters"]);
    let post = |name: &str, spec: Value| {
        let (uri, body) = (token_uri(name), token_request(spec));
        let admin = admin.clone();
        let api = &api;
        async move { post_as(api, &uri, Some(&admin), body).await }
    };

    let got = post("nobody", json!({})).await;
    assert_status(&got, 404, "NotFound");
    assert_eq!(got.1["message"], "serviceaccounts \"nobody\" not found");

    let got = post("runner", json!({"expirationSeconds": 60})).await;
    assert_status(&got, 422, "Invalid");
    assert_eq!(got.1["details"]["causes"][0]["field"], "spec.expirationSeconds");
    assert!(
        got.1["message"]
            .as_str()
            .unwrap()
            .contains("may not specify a duration less than 10 minutes")
    );

    let got = post("runner", json!({"expirationSeconds": "long"})).await;
    assert_status(&got, 400, "BadRequest");

    // Bound to a Secret: it must exist, and the token dies with it.
    let pod_ref = json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "missing"}});
    assert_status(&post("runner", pod_ref).await, 404, "NotFound");
    let deployment =
        json!({"boundObjectRef": {"kind": "Deployment", "apiVersion": "apps/v1", "name": "d"}});
    let got = post("runner", deployment).await;
    assert_status(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "cannot bind token to object of type apps/v1, Kind=Deployment");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "key"}});
    let (status, _) = api.post("/api/v1/namespaces/default/secrets", secret).await;
    assert_eq!(status, StatusCode::CREATED);
    let wrong_uid = json!({"boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "key", "uid": "nope"}});
    assert_status(&post("runner", wrong_uid).await, 409, "Conflict");
    let bound = json!({"boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "key"}});
    let issued = created(post("runner", bound).await);
    let token = issued["status"]["token"].as_str().unwrap().to_owned();
    assert_eq!(review(&api, &token, None).await["status"]["authenticated"], true);
    let (status, _) = api.delete("/api/v1/namespaces/default/secrets/key").await;
    assert_eq!(status, StatusCode::OK);
    let answer = review(&api, &token, None).await;
    assert_eq!(answer["status"]["error"], "service account token has been invalidated", "{answer}");

    // Only POST; the body must be a TokenRequest.
    let got = send(&api, Method::GET, &token_uri("runner"), Some(&admin), b"").await;
    assert_status(&got, 405, "MethodNotAllowed");
    let wrong = json!({"apiVersion": "v1", "kind": "ConfigMap"});
    assert_status(
        &post_as(&api, &token_uri("runner"), Some(&admin), wrong).await,
        400,
        "BadRequest",
    );
    let name_mismatch = json!({"kind": "TokenRequest", "metadata": {"name": "other"}});
    assert_status(
        &post_as(&api, &token_uri("runner"), Some(&admin), name_mismatch).await,
        422,
        "Invalid",
    );
}

#[tokio::test]
async fn bad_review_requests_are_refused_and_nothing_is_stored() {
    let api = api().await;
    let admin = user("root", &["system:masters"]);
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (SAR, json!({"kind": "SubjectAccessReview", "spec": {"user": "a"}}), 422, "Invalid"),
        (
            SAR,
            json!({"kind": "SubjectAccessReview", "spec": {"resourceAttributes": {"verb": "get"}}}),
            422,
            "Invalid",
        ),
        (
            SAR,
            json!({"kind": "SubjectAccessReview", "metadata": {"name": "x"},
                     "spec": {"user": "a", "resourceAttributes": {"verb": "get"}}}),
            422,
            "Invalid",
        ),
        (
            SSAR,
            json!({"kind": "SelfSubjectAccessReview", "spec": {
            "resourceAttributes": {"verb": "get"}, "nonResourceAttributes": {"path": "/", "verb": "get"}}}),
            422,
            "Invalid",
        ),
        (
            SSAR,
            json!({"kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": {"verb": 5}}}),
            400,
            "BadRequest",
        ),
        (SAR, json!({"kind": "ConfigMap", "apiVersion": "v1"}), 400, "BadRequest"),
        (
            SAR,
            json!({"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1beta1"}),
            400,
            "BadRequest",
        ),
        (TOKEN_REVIEWS, json!({"kind": "TokenReview", "spec": {}}), 400, "BadRequest"),
        (TOKEN_REVIEWS, json!({"kind": "TokenReview", "spec": {"token": 7}}), 400, "BadRequest"),
    ];
    for (uri, body, code, reason) in cases {
        let got = post_as(&api, uri, Some(&admin), body.clone()).await;
        assert_status(&got, code, reason);
        assert!(!got.1["message"].as_str().unwrap().is_empty(), "{body}");
    }
    let got = send(&api, Method::POST, SAR, Some(&admin), b"{not json").await;
    assert_status(&got, 400, "BadRequest");
    let got = send(&api, Method::GET, SAR, Some(&admin), b"").await;
    assert_status(&got, 405, "MethodNotAllowed");
    let got = post_as(&api, &format!("{SAR}/named"), Some(&admin), sar("a", "get", "x")).await;
    assert_status(&got, 404, "NotFound");
    let got = post_as(
        &api,
        "/apis/authorization.k8s.io/v1/localsubjectaccessreviews",
        Some(&admin),
        sar("a", "get", "x"),
    )
    .await;
    assert_status(&got, 404, "NotFound");
    let got = post_as(
        &api,
        "/apis/authorization.k8s.io/v1/namespaces/x/subjectaccessreviews",
        Some(&admin),
        sar("a", "get", "x"),
    )
    .await;
    assert_status(&got, 404, "NotFound");

    // Nothing reached the log.
    let revision = api.storage.current_revision().await.unwrap();
    created(post_as(&api, SAR, Some(&admin), sar("a", "get", "x")).await);
    assert_eq!(api.storage.current_revision().await.unwrap(), revision);
}

#[tokio::test]
async fn issuer_discovery_serves_the_keys_that_verify_requested_tokens() {
    let api = api().await;
    let (status, config) = api.get("/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert_eq!(config["issuer"], ISSUER);
    assert_eq!(config["jwks_uri"], "https://127.0.0.1:6443/openid/v1/jwks");
    assert_eq!(config["id_token_signing_alg_values_supported"], json!(["ES256"]));

    let request = Request::get("/openid/v1/jwks").body(Body::empty()).unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/jwk-set+json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let jwks: Value = serde_json::from_slice(&bytes).unwrap();

    service_account(&api, "web").await;
    let admin = user("root", &["system:masters"]);
    let issued =
        created(post_as(&api, &token_uri("web"), Some(&admin), token_request(json!({}))).await);
    let token = issued["status"]["token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
}

/// Real kubectl against the real binary. `kubectl create token` and the reviews work as they
/// are; which user whoami names and what can-i answers follow the authentication and
/// authorization configured (the admin certificate and RBAC once those are on the request
/// path), so only what holds for the admin either way is asserted.
#[tokio::test(flavor = "multi_thread")]
async fn kubectl_create_token_whoami_and_can_i() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "serviceaccount", "robot"]);
    let token = server.ok(&["create", "token", "robot", "--duration=20m"]);
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");

    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                        "spec": {"token": token}});
    let answer = server.ok_stdin(&["create", "-f", "-", "-o", "json"], &review.to_string());
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["status"]["authenticated"], true, "{answer}");
    assert_eq!(answer["status"]["user"]["username"], "system:serviceaccount:default:robot");

    let whoami = server.ok(&["auth", "whoami", "-o", "json"]);
    let whoami: Value = serde_json::from_str(&whoami).unwrap();
    assert_eq!(whoami["kind"], "SelfSubjectReview");
    assert!(!whoami["status"]["userInfo"]["username"].as_str().unwrap().is_empty(), "{whoami}");
    let table = server.ok(&["auth", "whoami"]);
    assert!(table.contains("Username"), "{table}");

    assert_eq!(server.ok(&["auth", "can-i", "create", "configmaps"]).trim(), "yes");
    let list = server.ok(&["auth", "can-i", "--list", "-n", "default"]);
    assert!(list.lines().any(|l| l.starts_with("*.*")), "{list}");

    let missing = server.fails(&["create", "token", "nobody"]);
    assert!(missing.contains("serviceaccounts \"nobody\" not found"), "{missing}");
    let short = server.fails(&["create", "token", "robot", "--duration=1m"]);
    assert!(short.contains("may not specify a duration less than 10 minutes"), "{short}");
}

/// A token from `kubectl create token` used as kubectl's credential: `auth whoami` names the
/// ServiceAccount, until the ServiceAccount is deleted.
#[tokio::test(flavor = "multi_thread")]
async fn kubectl_uses_a_requested_token_as_its_service_account() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "serviceaccount", "robot"]);
    let token = server.ok(&["create", "token", "robot"]);
    let kubeconfig = server.kubeconfig_with_token("robot", Some(token.trim()));
    let whoami = server.kubectl_as(&kubeconfig, &["auth", "whoami", "-o", "json"]);
    assert!(whoami.status.success(), "{}", String::from_utf8_lossy(&whoami.stderr));
    let whoami: Value = serde_json::from_slice(&whoami.stdout).unwrap();
    let info = &whoami["status"]["userInfo"];
    assert_eq!(info["username"], "system:serviceaccount:default:robot", "{whoami}");
    assert_eq!(
        info["groups"],
        json!(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])
    );
    server.ok(&["delete", "serviceaccount", "robot"]);
    let refused = server.kubectl_as(&kubeconfig, &["auth", "whoami"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("Unauthorized"), "{stderr}");
}

/// Answers that nothing exists: for an authentication that only issues tokens here.
#[derive(Debug)]
struct Nothing;

#[async_trait::async_trait]
impl kube_ledger::authn::serviceaccount::BoundObjectGetter for Nothing {
    async fn get(
        &self,
        _: kube_ledger::authn::serviceaccount::BoundKind,
        _: &str,
        _: &str,
    ) -> Result<Option<kube_ledger::authn::serviceaccount::BoundObject>, String> {
        Ok(None)
    }
}

#[tokio::test]
async fn token_lifetimes_are_capped_at_the_maximum_with_a_warning() {
    let api = api().await;
    service_account(&api, "capped").await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("sa.key");
    std::fs::write(&key, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let config = kube_ledger::authn::AuthnConfig {
        anonymous_auth: true,
        client_ca: Vec::new(),
        token_auth_file: None,
        service_account_issuers: Vec::new(),
        api_audiences: Vec::new(),
        service_account_signing_key_file: key,
        service_account_key_files: Vec::new(),
        service_account_max_token_expiration: Some(std::time::Duration::from_secs(1200)),
        service_account_jwks_uri: None,
        external_address: Some("127.0.0.1:6443".to_owned()),
        requestheader: None,
    };
    let authentication =
        kube_ledger::authn::Authentication::new(&config, Arc::new(Nothing)).unwrap();
    let reviewers = Reviewers::new(
        Arc::new(authentication),
        Arc::new(kube_ledger::authz::AlwaysAllow),
        RulesResolver::always_allow(),
    );
    reviews::install(&api.registry, &RuntimeConfig::default(), Arc::new(reviewers));

    let body = token_request(json!({"expirationSeconds": 7200})).to_string();
    let request = Request::post(token_uri("capped"))
        .header("content-type", "application/json")
        .extension(user("root", &["system:masters"]))
        .body(Body::from(body))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let warning = response.headers()["warning"].to_str().unwrap().to_owned();
    assert_eq!(warning, "299 - \"requested expiration of 7200 seconds shortened to 1200 seconds\"");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let issued: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(issued["spec"]["expirationSeconds"], 1200);
    let expires =
        humantime::parse_rfc3339(issued["status"]["expirationTimestamp"].as_str().unwrap());
    let created_at =
        humantime::parse_rfc3339(issued["metadata"]["creationTimestamp"].as_str().unwrap());
    assert_eq!(expires.unwrap().duration_since(created_at.unwrap()).unwrap().as_secs(), 1200);
}
