//! Dynamic admission webhooks against an HTTPS webhook server started by this test on 127.0.0.1,
//! its certificate issued by a test CA made with the repo's own PKI (`kube_ledger::pki`), the CA
//! passed as each configuration's `caBundle`.
//!
//! Configurations are written through the API router (in-process) and refused with 422 when they
//! are bad; the plugins (`MutatingAdmissionWebhook`, `ValidatingAdmissionWebhook`) are driven
//! through an `admission::Chain` built here over the server's own registry and views, so the
//! configurations they read are the stored ones: a mutating webhook that adds a label (and
//! warns), a validating one that denies with a message, one that is down under `Fail` and under
//! `Ignore`, a slow one past its `timeoutSeconds`, namespace/object selectors, `matchConditions`,
//! equivalent versions, dry runs and reinvocation.
//!
//! `writes_through_the_api_are_admitted_by_webhooks` drives the same webhooks through the API
//! itself: it needs the admission chain wired into the store with these plugins (issue 12; done
//! when the branches are merged) and fails before that.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use kube_ledger::admission::{Action, Attributes, AuditAnnotations, Chain};
use kube_ledger::api::status::{ApiError, Reason};
use kube_ledger::authn::UserInfo;
use kube_ledger::authz::AlwaysAllow;
use serde_json::{Value, json};
use support::admission::AdmissionApi;
use support::webhook::WebhookServer;
use tokio::net::TcpListener;
use tower::ServiceExt;

const GROUP_PATH: &str = "/apis/admissionregistration.k8s.io/v1";
const MUTATING: &str = "mutatingwebhookconfigurations";
const VALIDATING: &str = "validatingwebhookconfigurations";

async fn api() -> AdmissionApi {
    AdmissionApi::start(|registry, views| {
        kube_ledger::admission::webhook::plugins(registry, views, Arc::new(AlwaysAllow))
    })
    .await
}

/// Webhook configurations written through the router.
trait Configurations {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value);
    async fn configure(&self, plural: &str, name: &str, webhooks: Vec<Value>);
}

impl Configurations for AdmissionApi {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let answer = self.call_as(method, uri, "application/json", body).await;
        (answer.status, answer.body)
    }

    /// Creates a configuration and waits until the plugins' view of its kind has it.
    async fn configure(&self, plural: &str, name: &str, webhooks: Vec<Value>) {
        let kind = if plural == MUTATING {
            "MutatingWebhookConfiguration"
        } else {
            "ValidatingWebhookConfiguration"
        };
        let body = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                          "metadata": {"name": name}, "webhooks": webhooks});
        let created = self.call("POST", &format!("{GROUP_PATH}/{plural}"), Some(body)).await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        self.synced("admissionregistration.k8s.io", plural).await;
    }
}

fn configmap(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "default", "labels": labels},
           "data": {"k": "v"}})
}

fn alice() -> UserInfo {
    UserInfo {
        name: "alice".into(),
        uid: "alice-uid".into(),
        groups: vec!["developers".into(), "system:authenticated".into()],
        extra: Default::default(),
    }
}

fn create<'a>(user: &'a UserInfo, namespace: &'a str, name: &'a str) -> Attributes<'a> {
    Attributes {
        action: Action::Create,
        user,
        group: "",
        version: "v1",
        resource: "configmaps",
        subresource: "",
        kind: "ConfigMap",
        namespace,
        name,
        dry_run: false,
        old_object: None,
        options: None,
        audit_annotations: AuditAnnotations::unrecorded(),
    }
}

/// Both phases of the chain for one write: the object as admitted, and the warnings.
async fn admit(
    chain: &Chain,
    attributes: &Attributes<'_>,
    mut object: Value,
) -> Result<(Value, Vec<String>), ApiError> {
    let mut warnings = Vec::new();
    // A hang here (a timeout not honoured) fails the test instead of stalling it.
    let both = async {
        chain.admit(attributes, Some(&mut object), &mut warnings).await?;
        chain.validate(attributes, Some(&object), &mut warnings).await
    };
    tokio::time::timeout(Duration::from_secs(45), both).await.expect("admission hung")?;
    Ok((object, warnings))
}

#[tokio::test]
async fn bad_configurations_are_refused_with_422_and_nothing_stored() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let good = hooks.hook("label.example.com", "/label");
    let garbage_certificate = base64::engine::general_purpose::STANDARD
        .encode("-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("http", json!({"clientConfig": {"url": "http://127.0.0.1:1/x"}}), "clientConfig.url"),
        (
            "query",
            json!({"clientConfig": {"url": "https://127.0.0.1:1/x?a=b"}}),
            "clientConfig.url",
        ),
        ("user", json!({"clientConfig": {"url": "https://me@127.0.0.1:1/x"}}), "clientConfig.url"),
        (
            "fragment",
            json!({"clientConfig": {"url": "https://127.0.0.1:1/x#part"}}),
            "clientConfig.url",
        ),
        (
            "not-base64",
            json!({"clientConfig": {"url": "https://127.0.0.1:1/x", "caBundle": "not base64!"}}),
            "clientConfig.caBundle",
        ),
        (
            // A CERTIFICATE block holding no certificate.
            "garbage-certificate",
            json!({"clientConfig": {"url": "https://127.0.0.1:1/x",
                                    "caBundle": garbage_certificate}}),
            "clientConfig.caBundle",
        ),
        (
            "service",
            json!({"clientConfig": {"service": {"namespace": "ns", "name": "svc"}}}),
            "clientConfig.service",
        ),
        (
            "both",
            json!({"clientConfig": {"url": "https://127.0.0.1:1/x",
                                    "service": {"namespace": "ns", "name": "svc"}}}),
            "clientConfig",
        ),
        (
            "ca",
            json!({"clientConfig": {"url": "https://127.0.0.1:1/x", "caBundle": "bm90IHBlbQ=="}}),
            "clientConfig.caBundle",
        ),
        ("side-effects", json!({"sideEffects": "Some"}), "sideEffects"),
        ("versions", json!({"admissionReviewVersions": ["v2"]}), "admissionReviewVersions"),
        ("timeout", json!({"timeoutSeconds": 31}), "timeoutSeconds"),
        ("name", json!({"name": "label"}), "name"),
        ("policy", json!({"failurePolicy": "Sometimes"}), "failurePolicy"),
        (
            "scope",
            json!({"rules": [{"operations": ["CREATE"], "apiGroups": [""],
            "apiVersions": ["v1"], "resources": ["pods"], "scope": "Region"}]}),
            "rules[0].scope",
        ),
    ];
    for plural in [MUTATING, VALIDATING] {
        for (name, change, field) in &cases {
            let mut hook = good.clone();
            for (k, v) in change.as_object().unwrap() {
                if k == "clientConfig" {
                    let mut config = v.clone();
                    if let Some(ca) = good["clientConfig"]["caBundle"].as_str()
                        && config.get("caBundle").is_none()
                    {
                        config["caBundle"] = json!(ca);
                    }
                    hook[k] = config;
                } else {
                    hook[k] = v.clone();
                }
            }
            let body = json!({"apiVersion": "admissionregistration.k8s.io/v1",
                "kind": if plural == MUTATING { "MutatingWebhookConfiguration" }
                        else { "ValidatingWebhookConfiguration" },
                "metadata": {"name": name}, "webhooks": [hook]});
            let (code, status) =
                api.call("POST", &format!("{GROUP_PATH}/{plural}"), Some(body)).await;
            assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{plural} {name}: {status}");
            assert_eq!(status["reason"], "Invalid", "{status}");
            let fields: Vec<&str> = status["details"]["causes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["field"].as_str())
                .collect();
            let wanted = format!("webhooks[0].{field}");
            assert!(fields.contains(&wanted.as_str()), "{plural} {name}: {status}");
        }
        let (code, list) = api.call("GET", &format!("{GROUP_PATH}/{plural}"), None).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(list["items"], json!([]), "nothing stored: {list}");
    }
    // Duplicate webhook names.
    let body = json!({"apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "twice"},
        "webhooks": [good.clone(), good.clone()]});
    let (code, status) = api.call("POST", &format!("{GROUP_PATH}/{VALIDATING}"), Some(body)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "webhooks[1].name");
}

#[tokio::test]
async fn configurations_are_served_as_kube_serves_them() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let two = vec![hooks.hook("label.example.com", "/label"), hooks.hook("b.example.com", "/b")];
    api.configure(MUTATING, "labels", two).await;
    // kubectl apply's strategic merge patch merges `webhooks` by name, as kube does.
    let patch = json!({"webhooks": [{"name": "b.example.com", "timeoutSeconds": 5}]});
    let uri = format!("{GROUP_PATH}/{MUTATING}/labels");
    let strategic = "application/strategic-merge-patch+json";
    let answer = api.call_as("PATCH", &uri, strategic, Some(patch)).await;
    let (code, patched) = (answer.status, answer.body);
    assert_eq!(code, StatusCode::OK, "{patched}");
    assert_eq!(patched["webhooks"][1]["timeoutSeconds"], 5, "{patched}");
    assert_eq!(patched["webhooks"][0]["name"], "label.example.com", "{patched}");
    let (code, stored) = api.call("GET", &uri, None).await;
    assert_eq!(code, StatusCode::OK, "{stored}");
    let hook = &stored["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(hook["matchPolicy"], "Equivalent");
    assert_eq!(hook["timeoutSeconds"], 10);
    assert_eq!(hook["reinvocationPolicy"], "Never");
    assert_eq!(hook["rules"][0]["scope"], "*");
    assert!(stored["metadata"].get("namespace").is_none(), "cluster-scoped");

    let (code, discovery) = api.call("GET", GROUP_PATH, None).await;
    assert_eq!(code, StatusCode::OK);
    let names: Vec<&str> = discovery["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&MUTATING) && names.contains(&VALIDATING), "{discovery}");

    let request = axum::http::Request::builder()
        .uri(format!("{GROUP_PATH}/{MUTATING}"))
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let table: Value = serde_json::from_slice(&bytes).unwrap();
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(columns, ["Name", "Webhooks", "Age"]);
    assert_eq!(table["rows"][0]["cells"][1], 2);
}

#[tokio::test]
async fn a_mutating_webhook_adds_a_label_and_its_warning_is_passed_on() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    api.configure(MUTATING, "labels", vec![hooks.hook("label.example.com", "/label")]).await;
    let user = alice();
    let attributes = create(&user, "default", "a");
    let (object, warnings) =
        admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap();
    assert_eq!(object["metadata"]["labels"]["admitted-by"], "webhook", "{object}");
    assert_eq!(warnings, ["labelled by the test webhook"]);

    let reviews = hooks.reviews_to("/label?timeout=10s");
    assert_eq!(reviews.len(), 1);
    let review = &reviews[0];
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    let request = &review["request"];
    assert!(!request["uid"].as_str().unwrap().is_empty());
    assert_eq!(request["kind"], json!({"group": "", "version": "v1", "kind": "ConfigMap"}));
    assert_eq!(
        request["resource"],
        json!({"group": "", "version": "v1", "resource": "configmaps"})
    );
    assert_eq!(request["requestKind"], request["kind"]);
    assert_eq!(request["operation"], "CREATE");
    assert_eq!(request["namespace"], "default");
    assert_eq!(request["name"], "a");
    assert_eq!(request["userInfo"]["username"], "alice");
    assert_eq!(request["userInfo"]["groups"], json!(["developers", "system:authenticated"]));
    assert_eq!(request["object"]["data"], json!({"k": "v"}));
    assert_eq!(request["oldObject"], Value::Null);
    assert_eq!(request["dryRun"], false);

    // Not called for what its rules leave out: a DELETE, a secret.
    let mut delete = create(&user, "default", "a");
    delete.action = Action::Delete;
    let stored = configmap("a", json!({}));
    delete.old_object = Some(&stored);
    let mut warnings = Vec::new();
    api.chain.admit(&delete, None, &mut warnings).await.unwrap();
    let mut secret = create(&user, "default", "s");
    secret.resource = "secrets";
    secret.kind = "Secret";
    admit(&api.chain, &secret, json!({"metadata": {"name": "s"}})).await.unwrap();
    assert_eq!(hooks.reviews_to("/label").len(), 1);
}

#[tokio::test]
async fn a_validating_webhook_denies_with_its_message() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let mut deny = hooks.hook("deny.example.com", "/deny");
    deny["objectSelector"] = json!({"matchLabels": {"deny": "yes"}});
    api.configure(VALIDATING, "deny", vec![deny]).await;
    let user = alice();
    let attributes = create(&user, "default", "a");

    let err =
        admit(&api.chain, &attributes, configmap("a", json!({"deny": "yes"}))).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(
        err.message,
        "admission webhook \"deny.example.com\" denied the request: the test webhook refuses \
         objects labelled deny=yes"
    );
    let status = err.to_status();
    assert_eq!(status["code"], 403);

    // The objectSelector leaves other objects alone: the webhook is not even called.
    admit(&api.chain, &attributes, configmap("a", json!({"deny": "no"}))).await.unwrap();
    assert_eq!(hooks.reviews_to("/deny").len(), 1);
}

#[tokio::test]
async fn a_webhook_that_is_down_follows_its_failure_policy() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let down = |name: &str, policy: &str| {
        let mut hook = hooks.hook(name, "/");
        hook["clientConfig"]["url"] = json!(format!("https://127.0.0.1:{closed}/down"));
        hook["failurePolicy"] = json!(policy);
        hook
    };
    api.configure(VALIDATING, "down-ignore", vec![down("ignore.example.com", "Ignore")]).await;
    let user = alice();
    let attributes = create(&user, "default", "a");
    admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap();

    api.configure(MUTATING, "down-fail", vec![down("fail.example.com", "Fail")]).await;
    let err = admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap_err();
    assert_eq!(err.reason, Reason::InternalError);
    let prefix = format!(
        "Internal error occurred: failed calling webhook \"fail.example.com\": failed to call \
         webhook: Post \"https://127.0.0.1:{closed}/down?timeout=10s\": "
    );
    assert!(err.message.starts_with(&prefix), "{}", err.message);

    // Even a webhook for everything that is down never blocks the configurations themselves.
    let mut everything = down("everything.example.com", "Fail");
    everything["rules"] = json!([{"operations": ["*"], "apiGroups": ["*"],
        "apiVersions": ["*"], "resources": ["*/*"]}]);
    api.configure(VALIDATING, "everything", vec![everything]).await;
    let mut delete = create(&user, "", "everything");
    (delete.group, delete.resource) = ("admissionregistration.k8s.io", VALIDATING);
    (delete.kind, delete.action) = ("ValidatingWebhookConfiguration", Action::Delete);
    let mut warnings = Vec::new();
    api.chain.validate(&delete, None, &mut warnings).await.unwrap();
    let mut secret = create(&user, "default", "s");
    (secret.resource, secret.kind) = ("secrets", "Secret");
    let err = api.chain.validate(&secret, None, &mut warnings).await.unwrap_err();
    assert!(err.message.contains("everything.example.com"), "{}", err.message);
}

#[tokio::test]
async fn a_slow_webhook_is_given_up_on_at_its_timeout() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let mut slow = hooks.hook("slow.example.com", "/slow");
    slow["timeoutSeconds"] = json!(1);
    api.configure(VALIDATING, "slow", vec![slow.clone()]).await;
    let user = alice();
    let attributes = create(&user, "default", "a");
    let err = admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap_err();
    assert_eq!(err.reason, Reason::InternalError);
    assert!(err.message.contains("failed calling webhook \"slow.example.com\""), "{}", err.message);
    assert!(err.message.ends_with("context deadline exceeded"), "{}", err.message);
    assert_eq!(hooks.reviews_to("/slow?timeout=1s").len(), 1);

    // Under Ignore, the same webhook admits the write once its time is up.
    let (code, _) = api.call("DELETE", &format!("{GROUP_PATH}/{VALIDATING}/slow"), None).await;
    assert_eq!(code, StatusCode::OK);
    slow["failurePolicy"] = json!("Ignore");
    api.configure(VALIDATING, "slow-ignored", vec![slow]).await;
    admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap();
}

#[tokio::test]
async fn namespace_selectors_read_the_namespace_labels() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "watched", "labels": {"webhooks": "on"}}});
    let (code, body) = api.call("POST", "/api/v1/namespaces", Some(namespace)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let mut label = hooks.hook("label.example.com", "/label");
    label["namespaceSelector"] = json!({"matchLabels": {"webhooks": "on"}});
    api.configure(MUTATING, "labels", vec![label]).await;
    let user = alice();

    let (object, _) =
        admit(&api.chain, &create(&user, "watched", "a"), configmap("a", json!({}))).await.unwrap();
    assert_eq!(object["metadata"]["labels"]["admitted-by"], "webhook");
    let (object, _) =
        admit(&api.chain, &create(&user, "default", "a"), configmap("a", json!({}))).await.unwrap();
    assert_eq!(object["metadata"]["labels"].get("admitted-by"), None, "{object}");
    assert_eq!(hooks.reviews_to("/label").len(), 1);

    let err = admit(&api.chain, &create(&user, "missing", "a"), configmap("a", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::NotFound, "{}", err.message);
}

#[tokio::test]
async fn dry_runs_reach_webhooks_without_side_effects() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let mut label = hooks.hook("label.example.com", "/label");
    label["sideEffects"] = json!("NoneOnDryRun");
    api.configure(MUTATING, "labels", vec![label]).await;
    let user = alice();
    let mut attributes = create(&user, "default", "a");
    attributes.dry_run = true;
    let options = json!({"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1",
                         "dryRun": ["All"]});
    attributes.options = Some(&options);
    let (object, _) = admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap();
    assert_eq!(object["metadata"]["labels"]["admitted-by"], "webhook");
    let review = &hooks.reviews_to("/label")[0];
    assert_eq!(review["request"]["dryRun"], true);
    assert_eq!(review["request"]["options"], options);
}

#[tokio::test]
async fn webhooks_that_asked_are_reinvoked_after_a_later_change() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let mut a = hooks.hook("a.example.com", "/a-sees-b");
    a["reinvocationPolicy"] = json!("IfNeeded");
    let b = hooks.hook("b.example.com", "/add-b");
    api.configure(MUTATING, "order", vec![a, b]).await;
    let user = alice();
    let attributes = create(&user, "default", "a");
    let (object, _) = admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap();
    assert_eq!(object["metadata"]["labels"], json!({"a": "saw-b", "b": "1"}));
    assert_eq!(hooks.reviews_to("/a-sees-b").len(), 2);
    assert_eq!(hooks.reviews_to("/add-b").len(), 1, "b is never reinvoked");

    // Without IfNeeded, each webhook is called once and `a` never sees `b`.
    let (code, _) = api.call("DELETE", &format!("{GROUP_PATH}/{MUTATING}/order"), None).await;
    assert_eq!(code, StatusCode::OK);
    let a = hooks.hook("a.example.com", "/a-sees-b");
    let b = hooks.hook("b.example.com", "/add-b");
    api.configure(MUTATING, "once", vec![a, b]).await;
    let (object, _) = admit(&api.chain, &attributes, configmap("a", json!({}))).await.unwrap();
    assert_eq!(object["metadata"]["labels"], json!({"a": "no-b", "b": "1"}));
}

#[tokio::test]
async fn equivalent_versions_see_the_object_in_the_version_their_rule_names() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let mut label = hooks.hook("label.example.com", "/label");
    label["rules"] = json!([{"operations": ["CREATE"], "apiGroups": ["autoscaling"],
        "apiVersions": ["v2"], "resources": ["horizontalpodautoscalers"]}]);
    api.configure(MUTATING, "hpa", vec![label]).await;
    let user = alice();
    let mut attributes = create(&user, "default", "web");
    (attributes.group, attributes.version) = ("autoscaling", "v1");
    (attributes.resource, attributes.kind) =
        ("horizontalpodautoscalers", "HorizontalPodAutoscaler");
    let hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                 "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}});
    let (object, _) = admit(&api.chain, &attributes, hpa).await.unwrap();
    assert_eq!(object["apiVersion"], "autoscaling/v1", "back in the requested version");
    assert_eq!(object["spec"]["targetCPUUtilizationPercentage"], 50, "{object}");
    assert_eq!(object["metadata"]["labels"]["admitted-by"], "webhook");
    let request = &hooks.reviews_to("/label")[0]["request"];
    assert_eq!(request["kind"]["version"], "v2");
    assert_eq!(request["requestKind"]["version"], "v1");
    assert_eq!(request["object"]["apiVersion"], "autoscaling/v2");
}

/// Through the API: needs the admission chain wired into the store with
/// `admission::webhook::plugins` (issue 12, at merge). Fails before that.
#[tokio::test]
async fn writes_through_the_api_are_admitted_by_webhooks() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    api.configure(MUTATING, "labels", vec![hooks.hook("label.example.com", "/label")]).await;
    let mut deny = hooks.hook("deny.example.com", "/deny");
    deny["objectSelector"] = json!({"matchLabels": {"deny": "yes"}});
    api.configure(VALIDATING, "deny", vec![deny]).await;
    let uri = "/api/v1/namespaces/default/configmaps";
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(configmap("a", json!({})).to_string()))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let warnings: Vec<String> = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(warnings, ["299 - \"labelled by the test webhook\""]);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let created: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(created["metadata"]["labels"]["admitted-by"], "webhook", "{created}");
    let (_, stored) = api.call("GET", &format!("{uri}/a"), None).await;
    assert_eq!(stored["metadata"]["labels"]["admitted-by"], "webhook", "{stored}");
    let (code, status) = api.call("POST", uri, Some(configmap("b", json!({"deny": "yes"})))).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{status}");
    assert_eq!(
        status["message"],
        "admission webhook \"deny.example.com\" denied the request: the test webhook refuses \
         objects labelled deny=yes"
    );
    let (code, _) = api.call("GET", &format!("{uri}/b"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing stored");
}

#[tokio::test]
async fn match_conditions_decide_whether_a_webhook_is_called() {
    let api = api().await;
    let hooks = WebhookServer::start().await;
    let mut deny = hooks.hook("deny.example.com", "/deny");
    deny["matchConditions"] = json!([
        {"name": "not-alice", "expression": "request.userInfo.username != 'alice'"},
        {"name": "labelled",
         "expression": "'deny' in object.metadata.labels && object.metadata.labels.deny == 'yes'"},
        {"name": "may-create", "expression": "authorizer.requestResource.check('create').allowed()"}]);
    api.configure(VALIDATING, "deny", vec![deny]).await;
    let (alice, bob) = (alice(), UserInfo { name: "bob".into(), ..alice() });

    // Alice is excluded, and so are objects without the label: the webhook is not called.
    admit(&api.chain, &create(&alice, "default", "a"), configmap("a", json!({"deny": "yes"})))
        .await
        .unwrap();
    admit(&api.chain, &create(&bob, "default", "a"), configmap("a", json!({}))).await.unwrap();
    assert!(hooks.reviews_to("/deny").is_empty());
    // Every condition true: called, and it denies.
    let err =
        admit(&api.chain, &create(&bob, "default", "a"), configmap("a", json!({"deny": "yes"})))
            .await
            .unwrap_err();
    assert!(err.message.starts_with("admission webhook \"deny.example.com\" denied"), "{err:?}");
    assert_eq!(hooks.reviews_to("/deny").len(), 1);

    // A condition that fails to evaluate follows the failure policy: Ignore skips the webhook,
    // Fail refuses the write with kube's 403.
    let broken = |name: &str, policy: &str| {
        let mut hook = hooks.hook(name, "/deny");
        hook["failurePolicy"] = json!(policy);
        hook["matchConditions"] =
            json!([{"name": "broken", "expression": "object.data.missing == 'x'"}]);
        hook
    };
    api.configure(VALIDATING, "lenient", vec![broken("lenient.example.com", "Ignore")]).await;
    admit(&api.chain, &create(&alice, "default", "b"), configmap("b", json!({}))).await.unwrap();
    api.configure(VALIDATING, "strict", vec![broken("strict.example.com", "Fail")]).await;
    let err = admit(&api.chain, &create(&alice, "default", "b"), configmap("b", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(
        err.message,
        "configmaps \"b\" is forbidden: expression 'object.data.missing == 'x'' resulted in \
         error: no such key: missing"
    );
    assert_eq!(hooks.reviews_to("/deny").len(), 1, "neither broken webhook was called");
}
