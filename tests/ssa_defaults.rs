//! Defaulting before field ownership, through the API router in-process: the scheme's defaults
//! (a Deployment's `SetDefaults_*`, a Namespace's name label, a CRD's schema `default`s) are
//! applied to a body as kube-apiserver's decoder applies them, before the field manager runs.
//! So the creator of an object by a create (an `Update` entry) owns what its body was
//! defaulted to, and another manager that applies a different value gets kube's 409 naming it;
//! an applier owns only what it applied, never the defaults of the merged object.
//!
//! The expected `fieldsV1` are what kube-apiserver 1.33 records for the same requests (for
//! example `kubectl create deployment web --image=nginx:1.27` and `kubectl create namespace`).

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::router::{Api, api};

const APPLY: &str = "application/apply-patch+yaml";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const NAMESPACES: &str = "/api/v1/namespaces";

async fn apply(api: &Api, uri: &str, body: &Value) -> (StatusCode, Value) {
    api.call(Method::PATCH, uri, APPLY, body.to_string().into_bytes()).await
}

/// The `fieldsV1` of `manager`'s entry of `object`.
fn fields_of<'a>(object: &'a Value, manager: &str) -> &'a Value {
    let entries = object["metadata"]["managedFields"].as_array().expect("managedFields");
    let entry = entries.iter().find(|e| e["manager"] == manager);
    &entry.unwrap_or_else(|| panic!("no entry of {manager} in {object}"))["fieldsV1"]
}

/// The body `kubectl create deployment web --image=nginx:1.27` posts.
fn kubectl_create_deployment() -> Value {
    json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "resources": {}}]}
            },
            "strategy": {}
        },
        "status": {}
    })
}

/// An apply configuration for the `nginx` container of Deployment `web`.
fn container_config(container: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [container]}}}
    })
}

#[tokio::test]
async fn the_creator_owns_the_defaults_of_its_deployment() {
    let api = api().await;
    let uri = format!("{DEPLOYS}?fieldManager=kubectl-create");
    let (code, created) = api.post(&uri, kubectl_create_deployment()).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let entries = created["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{created}");
    assert_eq!(entries[0]["operation"], "Update");
    // What kube 1.33 records for `kubectl create deployment web --image=nginx:1.27`: the fields
    // sent, and those SetDefaults_Deployment / _PodSpec / _Container filled in.
    assert_eq!(
        entries[0]["fieldsV1"],
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:progressDeadlineSeconds": {},
                "f:replicas": {},
                "f:revisionHistoryLimit": {},
                "f:selector": {},
                "f:strategy": {
                    "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                    "f:type": {}
                },
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:containers": {
                            "k:{\"name\":\"nginx\"}": {
                                ".": {},
                                "f:image": {},
                                "f:imagePullPolicy": {},
                                "f:name": {},
                                "f:resources": {},
                                "f:terminationMessagePath": {},
                                "f:terminationMessagePolicy": {}
                            }
                        },
                        "f:dnsPolicy": {},
                        "f:restartPolicy": {},
                        "f:schedulerName": {},
                        "f:securityContext": {},
                        "f:terminationGracePeriodSeconds": {}
                    }
                }
            }
        })
    );

    // Another manager applying a different pull policy conflicts with the creator, in kube's
    // words (an Update entry is named with the version it wrote in); nothing is written.
    let before = api.storage.current_revision().await.unwrap();
    let uri = format!("{DEPLOYS}/web?fieldManager=puller");
    let always = container_config(json!({"name": "nginx", "imagePullPolicy": "Always"}));
    let got = apply(&api, &uri, &always).await;
    let field = ".spec.template.spec.containers[name=\"nginx\"].imagePullPolicy";
    assert_eq!(
        got.1,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!(
                "Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: {field}"
            ),
            "reason": "Conflict",
            "details": {"causes": [{
                "reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl-create\" using apps/v1",
                "field": field
            }]},
            "code": 409
        })
    );
    assert_eq!(api.storage.current_revision().await.unwrap(), before);

    // The defaulted value itself is no conflict: ownership is shared.
    let same = container_config(json!({"name": "nginx", "imagePullPolicy": "IfNotPresent"}));
    let (code, got) = apply(&api, &uri, &same).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(
        fields_of(&got, "puller"),
        &json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"nginx\"}": {".": {}, "f:imagePullPolicy": {}, "f:name": {}}}}}}})
    );
    let creator = fields_of(&got, "kubectl-create");
    let container = &creator["f:spec"]["f:template"]["f:spec"]["f:containers"];
    assert!(container["k:{\"name\":\"nginx\"}"]["f:imagePullPolicy"].is_object(), "{creator}");
}

#[tokio::test]
async fn an_applier_owns_what_it_applied_not_the_defaults() {
    let api = api().await;
    let config = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}
        }
    });
    let (code, created) =
        apply(&api, &format!("{DEPLOYS}/web?fieldManager=platform"), &config).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    // The merged object is defaulted, but the entry holds only the configuration.
    let nginx = &created["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(nginx["imagePullPolicy"], "IfNotPresent", "{created}");
    assert_eq!(created["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(
        fields_of(&created, "platform"),
        &json!({"f:spec": {
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                    ".": {}, "f:image": {}, "f:name": {}}}}
            }
        }})
    );
    // So nobody owns the pull policy: another applier changes it without a conflict.
    let always = container_config(json!({"name": "nginx", "imagePullPolicy": "Always"}));
    let (code, got) = apply(&api, &format!("{DEPLOYS}/web?fieldManager=puller"), &always).await;
    assert_eq!(code, StatusCode::OK, "{got}");
    assert_eq!(got["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
}

#[tokio::test]
async fn the_creator_of_a_namespace_owns_its_name_label() {
    let api = api().await;
    let body = json!({"kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": "team-a", "creationTimestamp": null}, "spec": {}, "status": {}});
    let (code, created) =
        api.post(&format!("{NAMESPACES}?fieldManager=kubectl-create"), body).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "team-a"}));
    // What kube 1.33 records for `kubectl create namespace team-a`.
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{
            "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
            "time": created["metadata"]["managedFields"][0]["time"],
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}}
        }])
    );
    let config = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a",
        "labels": {"kubernetes.io/metadata.name": "other"}}});
    let got = apply(&api, &format!("{NAMESPACES}/team-a?fieldManager=labeler"), &config).await;
    assert_eq!(got.0, StatusCode::CONFLICT, "{}", got.1);
    assert_eq!(
        got.1["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using v1: \
         .metadata.labels.kubernetes.io/metadata.name"
    );
}

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.lab.example.com"},
        "spec": {
            "group": "lab.example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                      "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "size": {"type": "string"},
                        "replicas": {"type": "integer", "default": 1}}}}}}}]
        }
    })
}

#[tokio::test]
async fn the_creator_of_a_custom_resource_owns_its_schema_defaults() {
    let api = api().await;
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(api.post(crds, widget_crd()).await.0, StatusCode::CREATED);
    let widgets = "/apis/lab.example.com/v1/namespaces/default/widgets";
    let body = json!({"apiVersion": "lab.example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"size": "s"}});
    // The CRD's resource is served once its controller has established it.
    let (code, created) = loop {
        let got = api.post(&format!("{widgets}?fieldManager=creator"), body.clone()).await;
        if got.0 != StatusCode::NOT_FOUND {
            break got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["spec"], json!({"replicas": 1, "size": "s"}));
    assert_eq!(
        fields_of(&created, "creator"),
        &json!({"f:spec": {".": {}, "f:replicas": {}, "f:size": {}}})
    );
    let config = json!({"apiVersion": "lab.example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"replicas": 3}});
    let got = apply(&api, &format!("{widgets}/w?fieldManager=scaler"), &config).await;
    assert_eq!(got.0, StatusCode::CONFLICT, "{}", got.1);
    assert_eq!(
        got.1["message"],
        "Apply failed with 1 conflict: conflict with \"creator\" using lab.example.com/v1: \
         .spec.replicas"
    );
}
