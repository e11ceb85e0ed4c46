//! The plugin over a fake object store: enforce, audit and warn per namespace labels, pod
//! templates, exemptions and defaults, namespace label validation and the dry run of a
//! tightened enforce level.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::*;
use crate::admission::AuditAnnotations;
use crate::authn::UserInfo;
use crate::meta::status::Reason;

/// Namespaces and pods by namespace.
#[derive(Debug, Default)]
struct Fake {
    namespaces: BTreeMap<String, Value>,
    pods: BTreeMap<String, Vec<Value>>,
}

#[async_trait]
impl Objects for Fake {
    async fn get(&self, _: &str, _: &str, _: &str, name: &str) -> Result<Option<Value>, ApiError> {
        Ok(self.namespaces.get(name).cloned())
    }
    async fn list(&self, _: &str, _: &str, namespace: &str) -> Result<Vec<Value>, ApiError> {
        Ok(self.pods.get(namespace).cloned().unwrap_or_default())
    }
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn plugin_with(config: PodSecurityConfig, fake: Fake) -> PodSecurity {
    PodSecurity::new(config, Arc::new(fake))
}

fn plugin(namespaces: &[(&str, Value)]) -> PodSecurity {
    let mut fake = Fake::default();
    for (name, labels) in namespaces {
        fake.namespaces.insert((*name).to_owned(), namespace(name, labels.clone()));
    }
    plugin_with(PodSecurityConfig::default(), fake)
}

fn pod(name: &str, security_context: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": security_context}]}})
}

fn compliant(name: &str) -> Value {
    let mut p =
        pod(name, json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}));
    p["spec"]["securityContext"] =
        json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
    p
}

/// What one validation produced.
struct Outcome {
    result: Result<(), ApiError>,
    warnings: Vec<String>,
    annotations: BTreeMap<String, String>,
}

struct Request<'a> {
    action: Action,
    user: &'a str,
    group: &'a str,
    resource: &'a str,
    subresource: &'a str,
    namespace: &'a str,
    old: Option<Value>,
}

impl Request<'_> {
    fn create(resource: &str) -> Request<'_> {
        Request {
            action: Action::Create,
            user: "alice",
            group: if resource == "deployments" { "apps" } else { "" },
            resource,
            subresource: "",
            namespace: "ns",
            old: None,
        }
    }
}

async fn validate(plugin: &PodSecurity, request: Request<'_>, object: &Value) -> Outcome {
    let user = UserInfo { name: request.user.to_owned(), ..UserInfo::anonymous() };
    let annotations = AuditAnnotations::default();
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let attributes = Attributes {
        action: request.action,
        user: &user,
        group: request.group,
        version: "v1",
        resource: request.resource,
        subresource: request.subresource,
        kind: "",
        namespace: if request.resource == "namespaces" { "" } else { request.namespace },
        name,
        dry_run: false,
        old_object: request.old.as_ref(),
        options: None,
        audit_annotations: &annotations,
    };
    let mut warnings = Vec::new();
    let result = plugin.validate(&attributes, Some(object), &mut warnings).await;
    let annotations = annotations.take().into_iter().map(|(key, a)| (key, a.value)).collect();
    Outcome { result, warnings, annotations }
}

const PRIVILEGED_RESTRICTED: &str = r#"pods "p" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#;

#[tokio::test]
async fn enforce_refuses_a_violating_pod_in_kube_s_words() {
    let plugin = plugin(&[("ns", json!({"pod-security.kubernetes.io/enforce": "restricted"}))]);
    let privileged = pod("p", json!({"privileged": true}));
    let out = validate(&plugin, Request::create("pods"), &privileged).await;
    let err = out.result.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(err.message, PRIVILEGED_RESTRICTED);
    assert!(out.warnings.is_empty(), "no warnings on a refusal: {:?}", out.warnings);
    assert_eq!(out.annotations["pod-security.kubernetes.io/enforce-policy"], "restricted:latest");

    let ok = validate(&plugin, Request::create("pods"), &compliant("q")).await;
    assert!(ok.result.is_ok());
    assert!(ok.warnings.is_empty());
    assert_eq!(ok.annotations["pod-security.kubernetes.io/enforce-policy"], "restricted:latest");
}

#[tokio::test]
async fn warn_and_audit_report_without_refusing() {
    let plugin = plugin(&[(
        "ns",
        json!({"pod-security.kubernetes.io/warn": "baseline", "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "v1.30"}),
    )]);
    let out =
        validate(&plugin, Request::create("pods"), &pod("p", json!({"privileged": true}))).await;
    assert!(out.result.is_ok());
    assert_eq!(
        out.warnings,
        [
            r#"would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#
        ]
    );
    let audit = &out.annotations["pod-security.kubernetes.io/audit-violations"];
    assert!(
        audit.starts_with(r#"would violate PodSecurity "restricted:v1.30": privileged ("#),
        "{audit}"
    );
    assert_eq!(out.annotations["pod-security.kubernetes.io/enforce-policy"], "privileged:latest");
}

#[tokio::test]
async fn pod_templates_get_warnings_and_audit_but_never_a_refusal() {
    let plugin = plugin(&[(
        "ns",
        json!({"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "baseline"}),
    )]);
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "nginx"}]}}}});
    let out = validate(&plugin, Request::create("deployments"), &deployment).await;
    assert!(out.result.is_ok());
    assert_eq!(
        out.warnings,
        [r#"would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#]
    );
    assert!(!out.annotations.contains_key("pod-security.kubernetes.io/enforce-policy"));

    // A privileged namespace for warn and audit: nothing to say.
    let quiet = plugin_with_enforce_only();
    let out = validate(&quiet, Request::create("deployments"), &deployment).await;
    assert!(out.result.is_ok() && out.warnings.is_empty() && out.annotations.is_empty());
}

fn plugin_with_enforce_only() -> PodSecurity {
    plugin(&[("ns", json!({"pod-security.kubernetes.io/enforce": "restricted"}))])
}

#[tokio::test]
async fn exemptions_and_defaults_come_from_the_configuration() {
    let config = PodSecurityConfig::from_value(&json!({
        "apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
        "defaults": {"enforce": "baseline"},
        "exemptions": {"usernames": ["ci-bot"], "namespaces": ["infra"], "runtimeClasses": ["kata"]},
    }))
    .unwrap();
    let mut fake = Fake::default();
    for name in ["ns", "infra"] {
        fake.namespaces.insert(name.to_owned(), namespace(name, json!({})));
    }
    let plugin = plugin_with(config, fake);
    let privileged = pod("p", json!({"privileged": true}));

    // The default enforce level applies to a namespace without labels.
    let out = validate(&plugin, Request::create("pods"), &privileged).await;
    assert!(out.result.unwrap_err().message.contains(r#"violates PodSecurity "baseline:latest""#));

    let by_user = Request { user: "ci-bot", ..Request::create("pods") };
    let out = validate(&plugin, by_user, &privileged).await;
    assert!(out.result.is_ok());
    assert_eq!(out.annotations["pod-security.kubernetes.io/exempt"], "user");

    let in_infra = Request { namespace: "infra", ..Request::create("pods") };
    let out = validate(&plugin, in_infra, &privileged).await;
    assert!(out.result.is_ok());
    assert_eq!(out.annotations["pod-security.kubernetes.io/exempt"], "namespace");

    let mut kata = privileged.clone();
    kata["spec"]["runtimeClassName"] = json!("kata");
    let out = validate(&plugin, Request::create("pods"), &kata).await;
    assert!(out.result.is_ok());
    assert_eq!(out.annotations["pod-security.kubernetes.io/exempt"], "runtimeClass");

    // Labelling an exempt namespace earns a warning that the policy is ignored.
    let labelled = namespace("infra", json!({"pod-security.kubernetes.io/enforce": "restricted"}));
    let out = validate(&plugin, Request::create("namespaces"), &labelled).await;
    assert!(out.result.is_ok());
    assert_eq!(
        out.warnings,
        [
            r#"namespace "infra" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"#
        ]
    );
}

#[tokio::test]
async fn ignored_subresources_and_insignificant_updates_are_not_checked() {
    let plugin = plugin_with_enforce_only();
    let privileged = pod("p", json!({"privileged": true}));
    let status =
        Request { subresource: "status", action: Action::Update, ..Request::create("pods") };
    assert!(validate(&plugin, status, &privileged).await.result.is_ok());
    let ephemeral = Request { subresource: "ephemeralcontainers", ..Request::create("pods") };
    assert!(validate(&plugin, ephemeral, &privileged).await.result.is_err());

    // Labels changed: allowed; the image changed: checked.
    let mut relabelled = privileged.clone();
    relabelled["metadata"]["labels"] = json!({"x": "y"});
    let update = |old: &Value| Request {
        action: Action::Update,
        old: Some(old.clone()),
        ..Request::create("pods")
    };
    assert!(validate(&plugin, update(&privileged), &relabelled).await.result.is_ok());
    let mut new_image = privileged.clone();
    new_image["spec"]["containers"][0]["image"] = json!("nginx:2");
    assert!(validate(&plugin, update(&privileged), &new_image).await.result.is_err());
    assert!(significant_update_of_ephemeral());
}

fn significant_update_of_ephemeral() -> bool {
    let old = json!({"spec": {"containers": [{"name": "c", "image": "a"}]}});
    let mut new = old.clone();
    new["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox"}]);
    pods::significant_update(&new, &old) && !pods::significant_update(&old, &old)
}

#[tokio::test]
async fn invalid_namespace_labels_are_refused_unless_unchanged() {
    let plugin = plugin(&[]);
    let bad = namespace("ns", json!({"pod-security.kubernetes.io/enforce": "strict"}));
    let err = validate(&plugin, Request::create("namespaces"), &bad).await.result.unwrap_err();
    assert_eq!(err.reason, Reason::Invalid);
    assert_eq!(
        err.message,
        r#"Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#
    );
    assert_eq!(err.causes[0].field, "metadata.labels[pod-security.kubernetes.io/enforce]");

    // An update that leaves the same bad labels alone passes; one that changes them does not.
    let mut relabelled = bad.clone();
    relabelled["metadata"]["labels"]["team"] = json!("a");
    let update =
        Request { action: Action::Update, old: Some(bad.clone()), ..Request::create("namespaces") };
    assert!(validate(&plugin, update, &relabelled).await.result.is_ok());
    let worse = namespace(
        "ns",
        json!({"pod-security.kubernetes.io/enforce": "strict",
        "pod-security.kubernetes.io/warn-version": "1.30"}),
    );
    let update =
        Request { action: Action::Update, old: Some(bad), ..Request::create("namespaces") };
    let err = validate(&plugin, update, &worse).await.result.unwrap_err();
    assert!(
        err.message.starts_with(r#"Namespace "ns" is invalid: [metadata.labels"#),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn tightening_enforce_warns_about_the_pods_that_would_violate_it() {
    let mut fake = Fake::default();
    let before = namespace("ns", json!({}));
    fake.namespaces.insert("ns".into(), before.clone());
    let mut owned = pod("web-2", json!({"privileged": true}));
    owned["metadata"]["ownerReferences"] = json!([{"controller": true, "uid": "rs-1"}]);
    let mut owned_too = pod("web-1", json!({"privileged": true}));
    owned_too["metadata"]["ownerReferences"] = json!([{"controller": true, "uid": "rs-1"}]);
    let host = json!({"metadata": {"name": "host"}, "spec": {"hostPID": true, "containers": [{"name": "c"}]}});
    fake.pods.insert("ns".into(), vec![owned, owned_too, host, compliant("fine")]);
    let plugin = plugin_with(PodSecurityConfig::default(), fake);

    let tightened = namespace("ns", json!({"pod-security.kubernetes.io/enforce": "baseline"}));
    let update = Request {
        action: Action::Update,
        old: Some(before.clone()),
        ..Request::create("namespaces")
    };
    let out = validate(&plugin, update, &tightened).await;
    assert!(out.result.is_ok());
    assert_eq!(
        out.warnings,
        [
            r#"existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest""#,
            "host: host namespaces",
            "web-1 (and 1 other pod): privileged",
        ]
    );

    // Relaxing, or leaving enforce alone, checks nothing.
    let update = Request {
        action: Action::Update,
        old: Some(tightened.clone()),
        ..Request::create("namespaces")
    };
    assert!(validate(&plugin, update, &before).await.warnings.is_empty());
}
