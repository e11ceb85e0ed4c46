//! ValidatingAdmissionPolicy against the real binary with kubectl (RBAC on, as the binary starts
//! by default): kube's documented replica-limit example with a ConfigMap as its params (written
//! here in our own words), a `Warn` binding whose warning kubectl prints, an `Audit` binding
//! whose annotation the audit log line carries, `matchConditions` excluding a user, the
//! `authorizer` variable asking RBAC (and `authorizer.requestResource`, the write's own
//! resource), a policy whose expression does not type-check (its status
//! says so), the failure policy with a missing param, and kubectl's columns.
//!
//! A policy applies once the server's view of policies and bindings has it, a moment after it is
//! written (kube's informers behave the same): each check is retried, boundedly, until the
//! expected refusal appears.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::server::{ALICE_TOKEN, TestServer};

const LIMIT_POLICY: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit.example.com
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  validations:
  - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
    messageExpression: "'object.spec.replicas must be no greater than ' + params.data.maxReplicas"
    reason: Invalid
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: replica-limit-test
  namespace: default
data:
  maxReplicas: "3"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-test.example.com
spec:
  policyName: replica-limit.example.com
  validationActions: [Deny]
  paramRef:
    name: replica-limit-test
    namespace: default
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
"#;

/// A Deployment manifest in `namespace` with `replicas`.
fn deployment(namespace: &str, name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\n\
         spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    \
         metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"
    )
}

/// `kubectl create --dry-run=server -f -` of `manifest` with `extra` arguments, retried until its
/// standard error contains `wanted` (bounded): the policy's views catch up a moment after a write.
async fn refused_with(server: &TestServer, manifest: &str, extra: &[&str], wanted: &str) -> String {
    let mut args = vec!["create", "--dry-run=server", "-f", "-"];
    args.extend_from_slice(extra);
    let mut last = String::new();
    for _ in 0..100 {
        let out = server.kubectl_with(support::server::KUBECTL, &args, Some(manifest));
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() && last.contains(wanted) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never refused with {wanted:?}; last stderr: {last}");
}

fn created(server: &TestServer, manifest: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["create", "--dry-run=server", "-f", "-"];
    args.extend_from_slice(extra);
    let out = server.kubectl_with(support::server::KUBECTL, &args, Some(manifest));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn kubes_replica_limit_example_with_a_configmap_param() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "namespace", "test-ns"]);
    server.ok(&["label", "namespace", "test-ns", "environment=test"]);
    server.ok(&["create", "namespace", "other"]);
    server.ok_stdin(&["apply", "-f", "-"], LIMIT_POLICY);

    let err = refused_with(&server, &deployment("test-ns", "web", 5), &[], "denied request").await;
    assert!(
        err.contains(
            "ValidatingAdmissionPolicy 'replica-limit.example.com' with binding \
             'replica-limit-test.example.com' denied request: object.spec.replicas must be no \
             greater than 3"
        ),
        "{err}"
    );
    assert!(err.contains("The deployments \"web\" is invalid"), "kubectl reads a 422: {err}");
    created(&server, &deployment("test-ns", "web", 3), &[]);
    // Outside the selected namespaces the binding does not apply.
    created(&server, &deployment("other", "web", 5), &[]);

    // kubectl's columns, as kube-apiserver prints them.
    let policies = server.ok(&["get", "validatingadmissionpolicies"]);
    let header: Vec<_> = policies.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]);
    let row: Vec<_> = policies.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..3], ["replica-limit.example.com", "1", "v1/ConfigMap"], "{policies}");
    let bindings = server.ok(&["get", "validatingadmissionpolicybindings"]);
    let header: Vec<_> = bindings.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "POLICYNAME", "PARAMREF", "AGE"]);
    let row: Vec<_> = bindings.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row[..3],
        [
            "replica-limit-test.example.com",
            "replica-limit.example.com",
            "default/replica-limit-test"
        ],
        "{bindings}"
    );

    // The param gone: parameterNotFoundAction Deny under failurePolicy Fail refuses …
    server.ok(&["delete", "configmap", "replica-limit-test"]);
    let err = refused_with(
        &server,
        &deployment("test-ns", "web", 1),
        &[],
        "failed to configure binding: no params found for policy binding with `Deny` \
         parameterNotFoundAction",
    )
    .await;
    assert!(err.contains("replica-limit-test.example.com"), "{err}");
    // … and under Ignore admits.
    server.ok(&[
        "patch",
        "validatingadmissionpolicy",
        "replica-limit.example.com",
        "--type=merge",
        "-p",
        r#"{"spec":{"failurePolicy":"Ignore"}}"#,
    ]);
    let mut admitted = false;
    for _ in 0..100 {
        let out = server.kubectl_with(
            support::server::KUBECTL,
            &["create", "--dry-run=server", "-f", "-"],
            Some(&deployment("test-ns", "web", 1)),
        );
        if out.status.success() {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "failurePolicy Ignore never admitted the write");
}

const WARN_AND_AUDIT: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: labelled.example.com
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [configmaps]
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    message: configmaps need a team label
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: labelled-warn-audit.example.com
spec:
  policyName: labelled.example.com
  validationActions: [Warn, Audit]
"#;

const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n";

#[tokio::test(flavor = "multi_thread")]
async fn warn_prints_a_warning_and_audit_annotates_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let audit_policy = dir.path().join("audit.yaml");
    std::fs::write(&audit_policy, AUDIT_POLICY).unwrap();
    let log = dir.path().join("audit.log");
    let server = TestServer::embedded_with(&[
        "--audit-policy-file",
        audit_policy.to_str().unwrap(),
        "--audit-log-path",
        log.to_str().unwrap(),
    ])
    .await;
    server.ok_stdin(&["apply", "-f", "-"], WARN_AND_AUDIT);
    let warning = "Warning: Validation failed for ValidatingAdmissionPolicy \
                   'labelled.example.com' with binding 'labelled-warn-audit.example.com': \
                   configmaps need a team label";
    let mut stderr = String::new();
    for i in 0..100 {
        let name = format!("cm-{i}");
        let out = server.kubectl(&["create", "configmap", &name, "--from-literal=a=b"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if stderr.contains(warning) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stderr.contains(warning), "kubectl printed no warning: {stderr}");
    let labelled = server.kubectl(&["create", "configmap", "ok", "--from-literal=a=b"]);
    assert!(labelled.status.success());

    // The audit event of a warned create carries the failure.
    let mut found = None;
    for _ in 0..200 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        found = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| {
            e["verb"] == "create"
                && e["objectRef"]["resource"] == "configmaps"
                && e["annotations"]["validation.policy.admission.k8s.io/validation_failure"]
                    .is_string()
        });
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let event = found.expect("an audit event with the validation failure");
    let failure: Value = serde_json::from_str(
        event["annotations"]["validation.policy.admission.k8s.io/validation_failure"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        failure,
        serde_json::json!([{"message": "configmaps need a team label",
            "policy": "labelled.example.com", "binding": "labelled-warn-audit.example.com",
            "expressionIndex": 0, "validationActions": ["Warn", "Audit"]}])
    );
}

const PRIVILEGED_ONLY: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: escalators-only.example.com
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [configmaps]
  matchConditions:
  - name: only-restricted-names
    expression: "object.metadata.name.startsWith('restricted-')"
  validations:
  - expression: "authorizer.group('rbac.authorization.k8s.io').resource('clusterroles').check('escalate').allowed()"
    message: only users who may escalate cluster roles may create restricted configmaps
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: escalators-only.example.com
spec:
  policyName: escalators-only.example.com
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-alice.example.com
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [configmaps]
  matchConditions:
  - name: not-the-admin
    expression: "request.userInfo.username != 'kubernetes-admin'"
  validations:
  - expression: "!object.metadata.name.startsWith('admin-')"
    message: admin- configmaps are the admin's
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: no-alice.example.com
spec:
  policyName: no-alice.example.com
  validationActions: [Deny]
"#;

fn configmap(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn match_conditions_and_the_authorizer_variable() {
    let server = TestServer::embedded().await;
    server.grant("alice", "edit", "create", "configmaps").await;
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));
    server.ok_stdin(&["apply", "-f", "-"], PRIVILEGED_ONLY);

    // Alice may not escalate cluster roles: RBAC, asked from the expression, says no.
    let manifest = configmap("restricted-a");
    let kubeconfig = alice.to_str().unwrap();
    let err =
        refused_with(&server, &manifest, &["--kubeconfig", kubeconfig], "denied request").await;
    assert!(
        err.contains(
            "configmaps \"restricted-a\" is forbidden: ValidatingAdmissionPolicy \
                      'escalators-only.example.com' with binding 'escalators-only.example.com' \
                      denied request: only users who may escalate cluster roles may create \
                      restricted configmaps"
        ),
        "{err}"
    );
    // The admin may; the match condition leaves other names alone.
    created(&server, &manifest, &[]);
    created(&server, &configmap("plain"), &["--kubeconfig", kubeconfig]);

    // The second policy's match condition excludes the admin.
    let manifest = configmap("admin-x");
    let err =
        refused_with(&server, &manifest, &["--kubeconfig", kubeconfig], "denied request").await;
    assert!(err.contains("admin- configmaps are the admin's"), "{err}");
    created(&server, &manifest, &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_that_does_not_type_check_says_so_in_its_status() {
    let server = TestServer::embedded().await;
    let policy = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: typo.example.com
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [deployments]
  validations:
  - expression: "object.spec.replicsa <= 5"
"#;
    server.ok_stdin(&["apply", "-f", "-"], policy);
    let stored: Value = serde_json::from_str(&server.ok(&[
        "get",
        "validatingadmissionpolicy",
        "typo.example.com",
        "-o",
        "json",
    ]))
    .unwrap();
    let status = &stored["status"];
    assert_eq!(status["observedGeneration"], 1);
    let warning = &status["typeChecking"]["expressionWarnings"][0];
    assert_eq!(warning["fieldRef"], "spec.validations[0].expression");
    assert_eq!(
        warning["warning"],
        "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replicsa'\n \
         | object.spec.replicsa <= 5\n | ...........^"
    );

    // An expression that does not compile is refused outright.
    let broken = policy.replace("object.spec.replicsa <= 5", "object.spec.replicas <=");
    let out = server.kubectl_with(support::server::KUBECTL, &["apply", "-f", "-"], Some(&broken));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spec.validations[0].expression: Invalid value"), "{err}");
    assert!(err.contains("compilation failed"), "{err}");
}

const DELETERS_ONLY: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: deleters-only.example.com
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [configmaps]
  validations:
  - expression: "authorizer.requestResource.check('delete').allowed()"
    message: only users who may delete a configmap may create it
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: deleters-only.example.com
spec:
  policyName: deleters-only.example.com
  validationActions: [Deny]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn authorizer_request_resource_checks_the_write_itself() {
    let server = TestServer::embedded().await;
    // Alice may create configmaps in default, and delete only the one named `mine`.
    let default = ["-n", "default"];
    let role = ["create", "role", "creator", "--verb=create", "--resource=configmaps"];
    server.ok(&[&role[..], &default].concat());
    server.ok(&[
        &["create", "rolebinding", "creator", "--role=creator", "--user=alice"][..],
        &default,
    ]
    .concat());
    let role = [
        "create",
        "role",
        "deleter",
        "--verb=delete",
        "--resource=configmaps",
        "--resource-name=mine",
    ];
    server.ok(&[&role[..], &default].concat());
    server.ok(&[
        &["create", "rolebinding", "deleter", "--role=deleter", "--user=alice"][..],
        &default,
    ]
    .concat());
    server.ok_stdin(&["apply", "-f", "-"], DELETERS_ONLY);
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));
    let kubeconfig = alice.to_str().unwrap();

    // `authorizer.requestResource` is configmaps/other in default: RBAC says alice may not delete it.
    let err =
        refused_with(&server, &configmap("other"), &["--kubeconfig", kubeconfig], "denied request")
            .await;
    assert!(
        err.contains(
            "configmaps \"other\" is forbidden: ValidatingAdmissionPolicy \
             'deleters-only.example.com' with binding 'deleters-only.example.com' denied \
             request: only users who may delete a configmap may create it"
        ),
        "{err}"
    );
    // The name is the request's: `mine` she may delete, so she may create it; the admin may
    // create any.
    created(&server, &configmap("mine"), &["--kubeconfig", kubeconfig]);
    created(&server, &configmap("other"), &[]);
}
