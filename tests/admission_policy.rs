//! ValidatingAdmissionPolicy in-process: policies and bindings written through the API router
//! (validated, defaulted, their status type-checked), writes through the API denied (422 with
//! kube's message) or warned (`Warning` header), and the `ValidatingAdmissionPolicy` plugin driven
//! through an `admission::Chain` over the server's own registry and views for what needs other
//! users or a recorded audit event: `Audit` annotations, `matchConditions`, selectors, exclusions,
//! equivalent versions, params and the failure policy.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use kube_ledger::admission::policy::{VALIDATION_FAILURE_KEY, ValidatingAdmissionPolicy};
use kube_ledger::admission::{Action, Attributes, AuditAnnotations, Chain};
use kube_ledger::api::status::{ApiError, Reason};
use kube_ledger::authn::UserInfo;
use kube_ledger::authz::AlwaysAllow;
use serde_json::{Value, json};
use support::admission::{AdmissionApi, Answer};

const GROUP_PATH: &str = "/apis/admissionregistration.k8s.io/v1";
const POLICIES: &str = "validatingadmissionpolicies";
const BINDINGS: &str = "validatingadmissionpolicybindings";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

async fn api() -> AdmissionApi {
    AdmissionApi::start(|registry, views| {
        vec![Arc::new(ValidatingAdmissionPolicy::new(registry, views, Arc::new(AlwaysAllow)))]
    })
    .await
}

/// Policies and bindings written through the router.
trait Policies {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> Answer;
    async fn create(&self, plural: &str, object: Value) -> Value;
    async fn policy(&self, name: &str, spec: Value) -> Value;
    async fn binding(&self, name: &str, spec: Value) -> Value;
}

impl Policies for AdmissionApi {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> Answer {
        self.call_as(method, uri, "application/json", body).await
    }

    /// Creates an admission object and waits until the plugin's views have it.
    async fn create(&self, plural: &str, mut object: Value) -> Value {
        let kind = if plural == POLICIES {
            "ValidatingAdmissionPolicy"
        } else {
            "ValidatingAdmissionPolicyBinding"
        };
        object["apiVersion"] = json!("admissionregistration.k8s.io/v1");
        object["kind"] = json!(kind);
        let answer = self.call("POST", &format!("{GROUP_PATH}/{plural}"), Some(object)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        for plural in [POLICIES, BINDINGS] {
            self.synced("admissionregistration.k8s.io", plural).await;
        }
        for plural in ["configmaps", "namespaces"] {
            self.synced("", plural).await;
        }
        answer.body
    }

    async fn policy(&self, name: &str, spec: Value) -> Value {
        self.create(POLICIES, json!({"metadata": {"name": name}, "spec": spec})).await
    }

    async fn binding(&self, name: &str, spec: Value) -> Value {
        self.create(BINDINGS, json!({"metadata": {"name": name}, "spec": spec})).await
    }
}

fn deployment_rules() -> Value {
    json!({"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]})
}

fn deployment(name: &str, replicas: i64, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
}

fn user(name: &str) -> UserInfo {
    UserInfo {
        name: name.into(),
        uid: format!("{name}-uid"),
        groups: vec!["system:authenticated".into()],
        extra: Default::default(),
    }
}

fn create_deployment<'a>(
    user: &'a UserInfo,
    namespace: &'a str,
    name: &'a str,
    annotations: &'a AuditAnnotations,
) -> Attributes<'a> {
    Attributes {
        action: Action::Create,
        user,
        group: "apps",
        version: "v1",
        resource: "deployments",
        subresource: "",
        kind: "Deployment",
        namespace,
        name,
        dry_run: false,
        old_object: None,
        options: None,
        audit_annotations: annotations,
    }
}

async fn validate(
    chain: &Chain,
    attributes: &Attributes<'_>,
    object: &Value,
) -> Result<Vec<String>, ApiError> {
    let mut warnings = Vec::new();
    chain.validate(attributes, Some(object), &mut warnings).await?;
    Ok(warnings)
}

#[tokio::test]
async fn policies_are_validated_defaulted_and_type_checked() {
    let api = api().await;
    let bad = json!({"apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "bad"}, "spec": {"matchConstraints": deployment_rules(),
        "validations": [{"expression": "object.spec.replicas <="}, {"expression": "params.max > 1"}]}});
    let answer = api.call("POST", &format!("{GROUP_PATH}/{POLICIES}"), Some(bad)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    let causes = answer.body["details"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 2, "{}", answer.body);
    assert_eq!(causes[0]["field"], "spec.validations[0].expression");
    assert!(causes[1]["message"].as_str().unwrap().contains("undeclared reference to 'params'"));
    let missing = api.call("GET", &format!("{GROUP_PATH}/{POLICIES}/bad"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "nothing stored");

    let bad_binding = json!({"apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"}, "spec": {"policyName": "p",
        "validationActions": ["Deny", "Warn"]}});
    let answer = api.call("POST", &format!("{GROUP_PATH}/{BINDINGS}"), Some(bad_binding)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);

    let policy = api
        .policy(
            "typo",
            json!({"matchConstraints": deployment_rules(),
            "validations": [{"expression": "object.spec.replicas <= 5"},
                            {"expression": "object.spec.replica <= 5"}]}),
        )
        .await;
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    assert_eq!(policy["spec"]["matchConstraints"]["matchPolicy"], "Equivalent");
    assert_eq!(policy["status"]["observedGeneration"], 1);
    let warnings = policy["status"]["typeChecking"]["expressionWarnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{policy}");
    assert_eq!(warnings[0]["fieldRef"], "spec.validations[1].expression");
    assert!(
        warnings[0]["warning"].as_str().unwrap().starts_with(
            "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replica'"
        ),
        "{}",
        warnings[0]["warning"]
    );

    // Fixing the expression is a new generation, type-checked again.
    let mut fixed = policy.clone();
    fixed["spec"]["validations"][1]["expression"] = json!("object.spec.replicas >= 0");
    let answer = api.call("PUT", &format!("{GROUP_PATH}/{POLICIES}/typo"), Some(fixed)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["metadata"]["generation"], 2);
    assert_eq!(answer.body["status"], json!({"observedGeneration": 2, "typeChecking": {}}));
}

#[tokio::test]
async fn deny_and_warn_reach_the_client() {
    let api = api().await;
    api.policy(
        "replicas.example.com",
        json!({"matchConstraints": deployment_rules(),
        "validations": [{"expression": "object.spec.replicas <= 5"},
            {"expression": "object.spec.replicas <= 3", "messageExpression":
                "'replicas ' + string(object.spec.replicas) + ' over 3'", "reason": "Forbidden"}]}),
    )
    .await;
    api.binding(
        "replicas-deny.example.com",
        json!({"policyName": "replicas.example.com",
        "validationActions": ["Deny"],
        "matchResources": {"objectSelector": {"matchLabels": {"enforce": "deny"}}}}),
    )
    .await;
    api.binding(
        "replicas-warn.example.com",
        json!({"policyName": "replicas.example.com",
        "validationActions": ["Warn"],
        "matchResources": {"objectSelector": {"matchLabels": {"enforce": "warn"}}}}),
    )
    .await;

    let answer =
        api.call("POST", DEPLOYMENTS, Some(deployment("big", 6, json!({"enforce": "deny"})))).await;
    let message = "deployments.apps \"big\" is forbidden: ValidatingAdmissionPolicy \
                   'replicas.example.com' with binding 'replicas-deny.example.com' denied \
                   request: failed expression: object.spec.replicas <= 5";
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(answer.body["reason"], "Invalid");
    assert_eq!(answer.body["message"], message);
    let cause = &answer.body["details"]["causes"][0];
    assert_eq!(cause["message"], message.split_once(": ").unwrap().1);

    // The second validation's reason and message.
    let answer = api
        .call("POST", DEPLOYMENTS, Some(deployment("four", 4, json!({"enforce": "deny"}))))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(
        answer.body["message"].as_str().unwrap().ends_with("denied request: replicas 4 over 3")
    );

    let answer = api
        .call("POST", DEPLOYMENTS, Some(deployment("warned", 6, json!({"enforce": "warn"}))))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(
        answer.warnings,
        [
            "299 - \"Validation failed for ValidatingAdmissionPolicy 'replicas.example.com' with binding 'replicas-warn.example.com': failed expression: object.spec.replicas <= 5\"",
            "299 - \"Validation failed for ValidatingAdmissionPolicy 'replicas.example.com' with binding 'replicas-warn.example.com': replicas 6 over 3\"",
        ]
    );
    // Neither binding matches: admitted silently; admission objects are never checked.
    let answer = api.call("POST", DEPLOYMENTS, Some(deployment("free", 9, json!({})))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert!(answer.warnings.is_empty());
}

#[tokio::test]
async fn audit_records_the_failure_and_audit_annotations() {
    let api = api().await;
    api.policy("audited", json!({"matchConstraints": deployment_rules(),
        "validations": [{"expression": "object.spec.replicas <= 2", "message": "at most two"}],
        "auditAnnotations": [{"key": "replicas", "valueExpression": "string(object.spec.replicas)"}]}))
        .await;
    api.binding("audited", json!({"policyName": "audited", "validationActions": ["Audit"]})).await;
    let admin = user("admin");
    let annotations = AuditAnnotations::default();
    let attributes = create_deployment(&admin, "default", "web", &annotations);
    let warnings =
        validate(&api.chain, &attributes, &deployment("web", 3, json!({}))).await.unwrap();
    assert!(warnings.is_empty());
    let recorded = annotations.take();
    assert_eq!(recorded["audited/replicas"].value, "3");
    let failure: Value = serde_json::from_str(&recorded[VALIDATION_FAILURE_KEY].value).unwrap();
    assert_eq!(
        failure,
        json!([{"message": "at most two", "policy": "audited", "binding": "audited",
                "expressionIndex": 0, "validationActions": ["Audit"]}])
    );
}

#[tokio::test]
async fn matching_follows_constraints_conditions_and_selectors() {
    let api = api().await;
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "prod", "labels": {"env": "prod"}}});
    let answer = api.call("POST", "/api/v1/namespaces", Some(namespace)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let mut rules = deployment_rules();
    rules["excludeResourceRules"] = json!([{"apiGroups": ["apps"], "apiVersions": ["v1"],
        "operations": ["CREATE"], "resources": ["deployments"], "resourceNames": ["exempt"]}]);
    rules["namespaceSelector"] = json!({"matchLabels": {"env": "prod"}});
    api.policy(
        "no-deployments",
        json!({"matchConstraints": rules,
        "matchConditions": [{"name": "not-ci", "expression": "request.userInfo.username != 'ci'"}],
        "validations": [{"expression": "namespaceObject.metadata.name != 'prod'",
            "message": "no deployments in prod"}]}),
    )
    .await;
    api.binding(
        "no-deployments",
        json!({"policyName": "no-deployments",
        "validationActions": ["Deny"]}),
    )
    .await;
    let (alice, ci) = (user("alice"), user("ci"));
    let sink = AuditAnnotations::unrecorded();
    let object = deployment("web", 1, json!({}));
    let err = validate(&api.chain, &create_deployment(&alice, "prod", "web", sink), &object)
        .await
        .unwrap_err();
    assert_eq!(err.reason, Reason::Invalid);
    assert!(err.message.ends_with("denied request: no deployments in prod"), "{}", err.message);
    for (who, namespace, name) in
        [(&ci, "prod", "web"), (&alice, "default", "web"), (&alice, "prod", "exempt")]
    {
        validate(&api.chain, &create_deployment(who, namespace, name, sink), &object)
            .await
            .unwrap_or_else(|e| panic!("{} {namespace}/{name}: {}", who.name, e.message));
    }
}

#[tokio::test]
async fn params_and_the_failure_policy() {
    let api = api().await;
    let limits = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "limits", "namespace": "default"}, "data": {"max": "3"}});
    let answer = api.call("POST", "/api/v1/namespaces/default/configmaps", Some(limits)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    for (name, failure_policy) in [("strict", "Fail"), ("lenient", "Ignore")] {
        api.policy(
            name,
            json!({"failurePolicy": failure_policy,
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": deployment_rules(),
            "validations": [{"expression": "object.spec.replicas <= int(params.data.max)",
                "messageExpression": "'at most ' + params.data.max + ' replicas'"}]}),
        )
        .await;
    }
    api.binding(
        "strict-found",
        json!({"policyName": "strict", "validationActions": ["Deny"],
        "paramRef": {"name": "limits", "namespace": "default", "parameterNotFoundAction": "Deny"},
        "matchResources": {"objectSelector": {"matchLabels": {"case": "found"}}}}),
    )
    .await;
    for (policy, case) in [("strict", "missing"), ("lenient", "missing-lenient")] {
        api.binding(
            &format!("{policy}-{case}"),
            json!({"policyName": policy,
            "validationActions": ["Deny"],
            "paramRef": {"name": "absent", "parameterNotFoundAction": "Deny"},
            "matchResources": {"objectSelector": {"matchLabels": {"case": case}}}}),
        )
        .await;
    }
    api.binding(
        "strict-allowed",
        json!({"policyName": "strict", "validationActions": ["Deny"],
        "paramRef": {"name": "absent", "parameterNotFoundAction": "Allow"},
        "matchResources": {"objectSelector": {"matchLabels": {"case": "allowed"}}}}),
    )
    .await;

    let admin = user("admin");
    let sink = AuditAnnotations::unrecorded();
    let check = |case: &str, replicas: i64| {
        let object = deployment("web", replicas, json!({"case": case}));
        let chain = &api.chain;
        let admin = &admin;
        async move { validate(chain, &create_deployment(admin, "default", "web", sink), &object).await }
    };
    check("found", 3).await.unwrap();
    let err = check("found", 4).await.unwrap_err();
    assert!(
        err.message.ends_with("with binding 'strict-found' denied request: at most 3 replicas"),
        "{}",
        err.message
    );
    let err = check("missing", 1).await.unwrap_err();
    assert!(
        err.message.ends_with("ValidatingAdmissionPolicy 'strict' with binding 'strict-missing' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"),
        "{}",
        err.message
    );
    check("missing-lenient", 1).await.unwrap();
    check("allowed", 9).await.unwrap();
}

#[tokio::test]
async fn equivalent_versions_match_unless_exact() {
    let api = api().await;
    for (name, policy) in [("equivalent", "Equivalent"), ("exact", "Exact")] {
        api.policy(name, json!({"matchConstraints": {"matchPolicy": policy,
            "resourceRules": [{"apiGroups": ["autoscaling"], "apiVersions": ["v2"],
                "operations": ["CREATE"], "resources": ["horizontalpodautoscalers"]}]},
            "validations": [{"expression": "request.kind.version == 'v2' && request.requestKind.version == 'v1' && object.apiVersion == 'autoscaling/v2'",
                "message": name}]}))
            .await;
        api.binding(name, json!({"policyName": name, "validationActions": ["Warn"]})).await;
    }
    let admin = user("admin");
    let mut attributes =
        create_deployment(&admin, "default", "web", AuditAnnotations::unrecorded());
    (attributes.group, attributes.version) = ("autoscaling", "v1");
    (attributes.resource, attributes.kind) =
        ("horizontalpodautoscalers", "HorizontalPodAutoscaler");
    let hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                 "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}});
    // The equivalent policy sees the object in v2 (its expression holds: no warning); the
    // exact one does not match a v1 write at all.
    let warnings = validate(&api.chain, &attributes, &hpa).await.unwrap();
    assert_eq!(warnings, Vec::<String>::new());
    // A false expression shows the equivalent policy did run.
    let answer = api
        .call(
            "PUT",
            &format!("{GROUP_PATH}/{POLICIES}/equivalent"),
            Some(json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "equivalent"}, "spec": {"matchConstraints": {
                "resourceRules": [{"apiGroups": ["autoscaling"], "apiVersions": ["v2"],
                    "operations": ["CREATE"], "resources": ["horizontalpodautoscalers"]}]},
                "validations": [{"expression": "false", "message": "ran"}]}})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    api.create(
        BINDINGS,
        json!({"metadata": {"name": "sync"}, "spec": {"policyName": "none",
        "validationActions": ["Deny"]}}),
    )
    .await;
    let warnings = validate(&api.chain, &attributes, &hpa).await.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].ends_with("with binding 'equivalent': ran"), "{}", warnings[0]);
}

fn configmap_rules() -> Value {
    json!({"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
        "operations": ["CREATE"], "resources": ["configmaps"]}]})
}

/// A ConfigMap with `keys` entries.
fn configmap_of(name: &str, keys: usize) -> Value {
    let data: serde_json::Map<String, Value> =
        (0..keys).map(|i| (format!("k{i}"), json!("v"))).collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"}, "data": data})
}

#[tokio::test]
async fn expensive_expressions_meet_kubes_cost_limits() {
    let api = api().await;
    const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
    // Over the per-call limit on a large map (kube: 1,000,000 per expression), fine on a small one.
    let quadratic = "object.data.all(a, object.data.all(b, a <= b || a > b))";
    for (name, prefix, validations, failure_policy) in [
        ("quadratic", "one-", 1, "Fail"),
        ("budget", "ten-", 10, "Fail"),
        ("budget-ignored", "lenient-", 10, "Ignore"),
    ] {
        let validations: Vec<Value> =
            (0..validations).map(|_| json!({"expression": quadratic})).collect();
        api.policy(
            name,
            json!({"matchConstraints": configmap_rules(), "failurePolicy": failure_policy,
            "matchConditions": [{"name": "named",
                "expression": format!("object.metadata.name.startsWith('{prefix}')")}],
            "validations": validations}),
        )
        .await;
        api.binding(name, json!({"policyName": name, "validationActions": ["Deny"]})).await;
    }
    let answer = api.call("POST", CONFIGMAPS, Some(configmap_of("one-big", 1500))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(
        answer.body["message"],
        format!(
            "configmaps \"one-big\" is forbidden: ValidatingAdmissionPolicy 'quadratic' with \
             binding 'quadratic' denied request: expression '{quadratic}' resulted in error: \
             operation cancelled: actual cost limit exceeded"
        )
    );
    let answer = api.call("POST", CONFIGMAPS, Some(configmap_of("one-small", 20))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);

    // Ten such expressions run out of the evaluation's budget (kube: 10,000,000): one error,
    // which the failure policy decides.
    let answer = api.call("POST", CONFIGMAPS, Some(configmap_of("ten-big", 1500))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(
        answer.body["message"],
        "configmaps \"ten-big\" is forbidden: ValidatingAdmissionPolicy 'budget' with binding \
         'budget' denied request: validation failed due to running out of cost budget, no \
         further validation rules will be run"
    );
    let answer = api.call("POST", CONFIGMAPS, Some(configmap_of("lenient-big", 1500))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}
