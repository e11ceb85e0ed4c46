//! Authorization on the request path, through the in-process router with the user the
//! authentication filter would have put in the request's extensions: kube's 403 messages, RBAC
//! allowing and refusing before and after a RoleBinding, what anonymous requests reach, the
//! bootstrap policy created and reconciled at start, and ClusterRole aggregation kept up to date.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use kube_ledger::authn::UserInfo;
use kube_ledger::authz::AuthorizationConfig;
use kube_ledger::filters::Security;
use kube_ledger::server::Server;
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Value, json};
use support::router::{Api, CMS, api_with, call_as, configmap};

fn admin() -> UserInfo {
    UserInfo::new("kubernetes-admin", &["system:masters", "system:authenticated"])
}

fn alice() -> UserInfo {
    UserInfo::new("alice", &["developers", "system:authenticated"])
}

/// Asserts kube's 403 Status with exactly this message.
fn assert_forbidden(got: &(StatusCode, Value), message: &str) {
    assert_eq!(got.0, StatusCode::FORBIDDEN, "{}", got.1);
    assert_eq!(got.1["kind"], "Status", "{}", got.1);
    assert_eq!(got.1["reason"], "Forbidden", "{}", got.1);
    assert_eq!(got.1["code"], 403, "{}", got.1);
    assert_eq!(got.1["message"], message, "{}", got.1);
}

/// Retries `check` until it holds: RBAC follows its objects' views as kube's informers do, so a
/// new binding takes effect moments after its write is acknowledged. Not a timing assertion:
/// the bound only keeps a broken build from hanging.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never: {what}");
}

async fn can(api: &Api, user: &UserInfo, method: Method, uri: &str, body: Option<Value>) -> bool {
    let (status, body) = api.call_as(Some(user), method, uri, body).await;
    assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    status != StatusCode::FORBIDDEN
}

#[tokio::test]
async fn refusals_carry_kube_apiserver_s_messages() {
    let api = api_with(Some("RBAC")).await;
    let alice = alice();
    assert_forbidden(
        &api.call_as(Some(&alice), Method::GET, CMS, None).await,
        "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"",
    );
    assert_forbidden(
        &api.call_as(Some(&alice), Method::GET, &format!("{CMS}?watch=true"), None).await,
        "configmaps is forbidden: User \"alice\" cannot watch resource \"configmaps\" in API group \"\" in the namespace \"default\"",
    );
    assert_forbidden(
        &api.call_as(
            Some(&alice),
            Method::GET,
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            None,
        )
        .await,
        "deployments.apps \"web\" is forbidden: User \"alice\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"default\"",
    );
    assert_forbidden(
        &api.call_as(Some(&alice), Method::GET, "/api/v1/namespaces", None).await,
        "namespaces is forbidden: User \"alice\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope",
    );
    assert_forbidden(
        &api.call_as(Some(&alice), Method::POST, CMS, Some(configmap("x"))).await,
        "configmaps is forbidden: User \"alice\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\"",
    );
    let status = api.call_as(None, Method::GET, "/metrics", None).await;
    assert_forbidden(&status, "forbidden: User \"system:anonymous\" cannot get path \"/metrics\"");
    assert_eq!(status.1["details"], json!({}));
    let named = api.call_as(Some(&alice), Method::DELETE, &format!("{CMS}/x"), None).await;
    assert_eq!(
        named.1["details"],
        json!({"name": "x", "kind": "configmaps"}),
        "details as kube's NewForbidden fills them"
    );
}

#[tokio::test]
async fn a_role_binding_grants_exactly_what_its_role_allows() {
    let api = api_with(Some("RBAC")).await;
    let (admin, alice) = (admin(), alice());
    let created = api.call_as(Some(&admin), Method::POST, CMS, Some(configmap("settings"))).await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);

    let other_ns = "/api/v1/namespaces/kube-system/configmaps";
    let matrix = [
        (Method::GET, CMS.to_owned(), None, true),
        (Method::GET, format!("{CMS}?watch=1&timeoutSeconds=1"), None, true),
        (Method::GET, format!("{CMS}/settings"), None, true),
        (Method::POST, CMS.to_owned(), Some(configmap("new")), false),
        (Method::DELETE, format!("{CMS}/settings"), None, false),
        (Method::GET, other_ns.to_owned(), None, false),
        (Method::GET, "/api/v1/namespaces/default/secrets".to_owned(), None, false),
    ];
    for (method, uri, body, _) in &matrix {
        assert!(!can(&api, &alice, method.clone(), uri, body.clone()).await, "{method} {uri}");
    }

    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "cm-reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "alice-reads", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]});
    let rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default";
    for (path, body) in [("roles", role), ("rolebindings", binding)] {
        let got =
            api.call_as(Some(&admin), Method::POST, &format!("{rbac}/{path}"), Some(body)).await;
        assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    }
    eventually("alice can list configmaps", async || {
        can(&api, &alice, Method::GET, CMS, None).await
    })
    .await;
    for (method, uri, body, allowed) in matrix {
        let got = can(&api, &alice, method.clone(), &uri, body).await;
        assert_eq!(got, allowed, "{method} {uri}");
    }
    // A group subject: bob is a developer.
    let bob = UserInfo::new("bob", &["developers", "system:authenticated"]);
    assert!(!can(&api, &bob, Method::GET, CMS, None).await);

    // Deleting the binding takes the permission away again.
    let gone = api
        .call_as(Some(&admin), Method::DELETE, &format!("{rbac}/rolebindings/alice-reads"), None)
        .await;
    assert_eq!(gone.0, StatusCode::OK, "{}", gone.1);
    eventually("alice can no longer list", async || {
        !can(&api, &alice, Method::GET, CMS, None).await
    })
    .await;
}

#[tokio::test]
async fn anonymous_requests_reach_only_health_and_version() {
    let api = api_with(Some("RBAC")).await;
    for path in ["/version", "/healthz", "/livez", "/readyz"] {
        let (status, body) = api.call_as(None, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    for path in [
        "/api",
        "/apis",
        "/api/v1",
        "/openapi/v3",
        "/metrics",
        "/api/v1/namespaces/default/configmaps",
    ] {
        let (status, body) = api.call_as(None, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    // Any authenticated user may read discovery (system:discovery, system:basic-user).
    let alice = alice();
    for path in ["/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3", "/version"] {
        let (status, body) = api.call_as(Some(&alice), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    assert!(!can(&api, &alice, Method::GET, "/metrics", None).await);
    let monitor = UserInfo::new("prometheus", &["system:monitoring", "system:authenticated"]);
    assert!(can(&api, &monitor, Method::GET, "/metrics", None).await);
    // AlwaysAllow: the same anonymous request goes through.
    let open = api_with(Some("AlwaysAllow")).await;
    assert!(can(&open, &UserInfo::anonymous(), Method::GET, CMS, None).await);
}

#[tokio::test]
async fn the_bootstrap_policy_is_created_then_reconciled_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let admin = admin();
    let start = async |storage: Arc<dyn Storage>| {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let server = Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped)
            .await
            .unwrap()
            .with_security(Security::fixed(Security::admin_user()))
            .with_authorization(&AuthorizationConfig::parse("RBAC").unwrap())
            .await
            .unwrap();
        (server.router(), stop)
    };
    let (router, stop) = start(storage.clone()).await;
    let get = async |uri: &str| call_as(&router, Some(&admin), Method::GET, uri, None).await;
    let put = async |uri: &str, body: Value| {
        call_as(&router, Some(&admin), Method::PUT, uri, Some(body)).await
    };
    let crb = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    let cr = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    let (_, binding) = get(&format!("{crb}/cluster-admin")).await;
    assert_eq!(binding["roleRef"]["name"], "cluster-admin", "{binding}");
    assert_eq!(
        binding["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}])
    );
    for name in [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:discovery",
        "system:basic-user",
        "system:public-info-viewer",
        "system:monitoring",
    ] {
        let (status, role) = get(&format!("{cr}/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{name}: {role}");
        assert_eq!(role["metadata"]["labels"]["kubernetes.io/bootstrapping"], "rbac-defaults");
    }
    // admin ⊇ edit ⊇ view, by aggregation.
    let (_, view) = get(&format!("{cr}/view")).await;
    let (_, admin_role) = get(&format!("{cr}/admin")).await;
    let view_rules = view["rules"].as_array().expect("view is aggregated").clone();
    assert!(!view_rules.is_empty());
    for rule in &view_rules {
        assert!(admin_role["rules"].as_array().unwrap().contains(rule), "admin lacks {rule}");
    }

    // Someone strips a rule and a label of system:discovery, and opts system:basic-user out.
    let (_, mut discovery) = get(&format!("{cr}/system:discovery")).await;
    discovery["rules"] = json!([]);
    discovery["metadata"]["labels"] = json!({});
    let got = put(&format!("{cr}/system:discovery"), discovery).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let (_, mut basic) = get(&format!("{cr}/system:basic-user")).await;
    basic["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] =
        json!("false");
    basic["rules"] = json!([]);
    let got = put(&format!("{cr}/system:basic-user"), basic).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    stop.send(true).unwrap();

    let (router, _stop) = start(storage).await;
    let get = async |uri: &str| call_as(&router, Some(&admin), Method::GET, uri, None).await;
    let (_, discovery) = get(&format!("{cr}/system:discovery")).await;
    assert!(!discovery["rules"].as_array().unwrap().is_empty(), "{discovery}");
    assert_eq!(discovery["metadata"]["labels"]["kubernetes.io/bootstrapping"], "rbac-defaults");
    let (_, basic) = get(&format!("{cr}/system:basic-user")).await;
    let rules = basic["rules"].as_array();
    assert!(rules.is_none_or(Vec::is_empty), "an opted-out role is left alone: {basic}");
}

#[tokio::test]
async fn aggregated_roles_follow_labelled_cluster_roles() {
    let api = api_with(Some("RBAC")).await;
    let admin = admin();
    let cr = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    let widgets = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "widget-viewer", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]}]});
    let got = api.call_as(Some(&admin), Method::POST, cr, Some(widgets)).await;
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    let has_widgets = async |name: &str| {
        let (_, role) = api.call_as(Some(&admin), Method::GET, &format!("{cr}/{name}"), None).await;
        role["rules"]
            .as_array()
            .is_some_and(|rules| rules.iter().any(|r| r["resources"] == json!(["widgets"])))
    };
    for name in ["view", "edit", "admin"] {
        eventually(&format!("{name} aggregates widgets"), async || has_widgets(name).await).await;
    }
    let deleted =
        api.call_as(Some(&admin), Method::DELETE, &format!("{cr}/widget-viewer"), None).await;
    assert_eq!(deleted.0, StatusCode::OK, "{}", deleted.1);
    eventually("view drops widgets", async || !has_widgets("view").await).await;
}
