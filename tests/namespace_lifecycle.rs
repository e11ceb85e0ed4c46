//! The NamespaceLifecycle admission plugin through the router, in-process: kube-apiserver's
//! answers for writes in missing and terminating namespaces and for deleting the namespaces
//! the server cannot run without; and the write options every write's operation carries.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::json;
use support::router::{api, assert_status, configmap};

const MERGE: &str = "application/merge-patch+json";

#[tokio::test]
async fn writes_in_a_missing_namespace_are_404s_naming_the_namespace() {
    let api = api().await;
    let created = api.post("/api/v1/namespaces/nowhere/configmaps", configmap("a")).await;
    assert_status(&created, 404, "NotFound");
    assert_eq!(created.1["message"], "namespaces \"nowhere\" not found");
    assert_eq!(created.1["details"], json!({"name": "nowhere", "kind": "namespaces"}));

    // A dry run is admitted the same way.
    let dry = api.post("/api/v1/namespaces/nowhere/configmaps?dryRun=All", configmap("a")).await;
    assert_status(&dry, 404, "NotFound");
    assert_eq!(dry.1["message"], "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn the_immortal_namespaces_cannot_be_deleted() {
    let api = api().await;
    for name in ["default", "kube-system", "kube-public"] {
        let refused = api.delete(&format!("/api/v1/namespaces/{name}")).await;
        assert_status(&refused, 403, "Forbidden");
        assert_eq!(
            refused.1["message"],
            format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted")
        );
        let dry = api.delete(&format!("/api/v1/namespaces/{name}?dryRun=All")).await;
        assert_status(&dry, 403, "Forbidden");
        let (code, ns) = api.get(&format!("/api/v1/namespaces/{name}")).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(ns["status"]["phase"], "Active");
    }
}

#[tokio::test]
async fn a_terminating_namespace_refuses_creates_with_kubes_cause_but_takes_updates() {
    let api = api().await;
    api.post("/api/v1/namespaces", json!({"metadata": {"name": "closing"}})).await;
    let cms = "/api/v1/namespaces/closing/configmaps";
    let mut held = configmap("held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    assert_eq!(api.post(cms, held).await.0, StatusCode::CREATED);
    let (code, _) = api.delete("/api/v1/namespaces/closing").await;
    assert_eq!(code, StatusCode::OK);

    let refused = api.post(cms, configmap("new")).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "configmaps \"new\" is forbidden: unable to create new content in namespace closing \
         because it is being terminated"
    );
    assert_eq!(
        refused.1["details"]["causes"],
        json!([{"reason": "NamespaceTerminating", "message": "namespace closing is being terminated",
                "field": "metadata.namespace"}])
    );
    // A name the server would generate: no name in the message.
    let generated = json!({"metadata": {"generateName": "gen-"}, "data": {"k": "v"}});
    let refused = api.post(cms, generated).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "configmaps is forbidden: unable to create new content in namespace closing because \
         it is being terminated"
    );

    // Objects already there may still change (their controllers remove finalizers so).
    let label = json!({"metadata": {"labels": {"a": "b"}}}).to_string().into_bytes();
    let (code, body) = api.call(Method::PATCH, &format!("{cms}/held"), MERGE, label).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    // An update of the terminating namespace itself does not delete it while its spec
    // finalizer stands (kube's ShouldDeleteNamespaceDuringUpdate).
    let label = json!({"metadata": {"labels": {"x": "y"}}}).to_string().into_bytes();
    let (code, ns) = api.call(Method::PATCH, "/api/v1/namespaces/closing", MERGE, label).await;
    assert_eq!(code, StatusCode::OK, "{ns}");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    let (code, ns) = api.get("/api/v1/namespaces/closing").await;
    assert_eq!(code, StatusCode::OK, "an update deleted the terminating namespace: {ns}");
    assert_eq!(ns["status"]["phase"], "Terminating");
}

#[tokio::test]
async fn field_manager_is_validated_as_kube_does() {
    let api = api().await;
    let cms = "/api/v1/namespaces/default/configmaps";
    let long = "m".repeat(129);
    let refused = api.post(&format!("{cms}?fieldManager={long}"), configmap("a")).await;
    assert_status(&refused, 422, "Invalid");
    assert_eq!(
        refused.1["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than \
         128 bytes"
    );
    assert_eq!(refused.1["details"]["causes"][0]["field"], "fieldManager");
    assert_eq!(api.get(&format!("{cms}/a")).await.0, StatusCode::NOT_FOUND);

    let fine = "m".repeat(128);
    let created = api.post(&format!("{cms}?fieldManager={fine}"), configmap("a")).await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);

    let patch = json!({"data": {"k": "w"}}).to_string().into_bytes();
    let uri = format!("{cms}/a?fieldManager=%07bell");
    let refused = api.call(Method::PATCH, &uri, MERGE, patch).await;
    assert_status(&refused, 422, "Invalid");
    assert!(refused.1["message"].as_str().unwrap().starts_with("PatchOptions.meta.k8s.io"));
}

/// A plugin's warnings reach the client as `Warning` headers, on a refusal too; the plugin sees
/// the user the filters left in the request (anonymous without them) and the query's options.
#[tokio::test]
async fn admission_warnings_are_warning_headers() {
    use std::sync::Arc;

    use async_trait::async_trait;
    use axum::body::Body;
    use axum::http::Request;
    use kube_ledger::admission::{Attributes, Chain, Plugin};
    use kube_ledger::api::status::ApiError;
    use kube_ledger::server::Server;
    use kube_ledger::storage::Storage;
    use kube_ledger::storage::embedded::EmbeddedStorage;
    use serde_json::Value;
    use tower::ServiceExt;

    #[derive(Debug)]
    struct Warner;

    #[async_trait]
    impl Plugin for Warner {
        fn name(&self) -> &'static str {
            "Warner"
        }
        async fn admit(
            &self,
            attributes: &Attributes<'_>,
            _: Option<&mut Value>,
            warnings: &mut Vec<String>,
        ) -> Result<(), ApiError> {
            let manager = attributes.options.and_then(|o| o["fieldManager"].as_str());
            warnings.push(format!("seen \"{}\" as {manager:?}", attributes.user.name));
            Ok(())
        }
        async fn validate(
            &self,
            attributes: &Attributes<'_>,
            _: Option<&Value>,
            _: &mut Vec<String>,
        ) -> Result<(), ApiError> {
            if attributes.name == "refused" {
                return Err(ApiError::forbidden("", "configmaps", "refused", "no"));
            }
            Ok(())
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let mut server =
        Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped).await.unwrap();
    server.api.store = server.api.store.clone().with_admission(Chain::new(vec![Arc::new(Warner)]));
    let router = server.router();
    let post = |name: &str| {
        Request::post("/api/v1/namespaces/default/configmaps?fieldManager=me")
            .header("content-type", "application/json")
            .body(Body::from(configmap(name).to_string()))
            .unwrap()
    };
    let expected = "299 - \"seen \\\"system:anonymous\\\" as Some(\\\"me\\\")\"";
    let created = router.clone().oneshot(post("fine")).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["warning"], expected);
    let refused = router.oneshot(post("refused")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.headers()["warning"], expected);
}
