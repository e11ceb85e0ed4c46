//! Client libraries against CEL, on the real binary: the Python `kubernetes` client (the checks
//! live in `tests/python/cel_policies.py`) and kube-rs, each with a CRD whose
//! `x-kubernetes-validations` rule refuses a custom resource and a ValidatingAdmissionPolicy that
//! denies one write (the client's error carries the policy's message) and warns about another
//! (the response's `Warning` header).

mod support;

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;
use support::server::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn python_client_meets_crd_rules_and_policies() {
    let server = TestServer::embedded().await;
    support::python::run_checks("cel_policies.py", server.kubeconfig.clone()).await;
}

async fn client_for(kubeconfig: &std::path::Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    Client::try_from(config).expect("kube client")
}

/// The API error of `result`, which must be one.
fn api_error<T: std::fmt::Debug>(result: kube::Result<T>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_meets_crd_rules_and_policies() {
    let server = TestServer::embedded().await;
    let client = client_for(&server.kubeconfig).await;

    // A CRD rule.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "ranges.rs.example.com"},
        "spec": {"group": "rs.example.com", "scope": "Namespaced",
            "names": {"plural": "ranges", "singular": "range", "kind": "Range"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object",
                    "x-kubernetes-validations": [{"rule": "self.min <= self.max",
                        "message": "min must not exceed max"}],
                    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}}}}}}]}}))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("rs.example.com", "v1", "Range"));
    let ranges: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let range = |name: &str, low: i64, high: i64| -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "rs.example.com/v1", "kind": "Range",
            "metadata": {"name": name}, "spec": {"min": low, "max": high}}))
        .unwrap()
    };
    let mut served = false;
    for _ in 0..100 {
        match ranges.create(&PostParams::default(), &range("ok", 1, 2)).await {
            Ok(_) => {
                served = true;
                break;
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(served, "the CRD was never served");
    let status = api_error(ranges.create(&PostParams::default(), &range("bad", 3, 2)).await);
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"), "{status:?}");
    assert!(status.message.contains("min must not exceed max"), "{}", status.message);

    // A policy with a Deny and a Warn binding.
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(client.clone());
    let policy = serde_json::from_value(json!({"metadata": {"name": "team-label.rs.example.com"},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
            "operations": ["CREATE"], "resources": ["configmaps"]}]},
            "validations": [{"expression": "has(object.metadata.labels) && 'team' in object.metadata.labels",
                "message": "configmaps need a team label"}]}}))
    .unwrap();
    let created = policies.create(&PostParams::default(), &policy).await.unwrap();
    assert_eq!(created.status.and_then(|s| s.observed_generation), Some(1));
    let bindings: Api<ValidatingAdmissionPolicyBinding> = Api::all(client.clone());
    for action in ["Deny", "Warn"] {
        let lower = action.to_lowercase();
        let binding = serde_json::from_value(json!({
            "metadata": {"name": format!("team-label-{lower}.rs.example.com")},
            "spec": {"policyName": "team-label.rs.example.com", "validationActions": [action],
                "matchResources": {"objectSelector": {"matchLabels": {"enforce": lower}}}}}))
        .unwrap();
        bindings.create(&PostParams::default(), &binding).await.unwrap();
    }
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let configmap = |name: String, enforce: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": {"enforce": enforce}},
            "data": {"a": "b"}}))
        .unwrap()
    };
    let mut denied = None;
    for i in 0..100 {
        match configmaps
            .create(&PostParams::default(), &configmap(format!("deny-{i}"), "deny"))
            .await
        {
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(kube::Error::Api(status)) => {
                denied = Some(*status);
                break;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let status = denied.expect("the Deny binding never applied");
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"), "{status:?}");
    assert!(
        status.message.ends_with(
            "ValidatingAdmissionPolicy 'team-label.rs.example.com' with binding \
             'team-label-deny.rs.example.com' denied request: configmaps need a team label"
        ),
        "{}",
        status.message
    );

    // kube-rs's typed calls do not surface warnings; its raw `send` shows the header.
    let mut warning = String::new();
    for i in 0..100 {
        let body = serde_json::to_vec(&configmap(format!("warn-{i}"), "warn")).unwrap();
        let request = http::Request::post("/api/v1/namespaces/default/configmaps")
            .header("content-type", "application/json")
            .body(body.into())
            .unwrap();
        let response = client.send(request).await.unwrap();
        assert_eq!(response.status(), 201);
        if let Some(value) = response.headers().get("warning") {
            warning = value.to_str().unwrap().to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        warning.contains(
            "Validation failed for ValidatingAdmissionPolicy 'team-label.rs.example.com' with \
             binding 'team-label-warn.rs.example.com': configmaps need a team label"
        ),
        "{warning:?}"
    );
}
