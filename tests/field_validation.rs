//! `fieldValidation` for built-in kinds, the structural type check, strategic merge patch keys
//! and Go's field order — everything the write path takes from the built-in schema — through the
//! router in-process, with kube's own test bodies and messages
//! (kubernetes `test/integration/apiserver/field_validation_test.go`); then the real binary
//! driven by `kubectl apply --validate=strict|warn`.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use support::router::{Api, api};
use support::server::TestServer;
use tower::ServiceExt;

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// kube's invalid Deployment: unknown fields, repeated fields, and a field both unknown and
/// repeated (reported once, as unknown).
fn invalid_deployment(name: &str) -> String {
    format!(
        r#"{{
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {{"name": "{name}", "name": "{name}", "unknownMeta": "x", "labels": {{"app": "nginx"}}}},
    "spec": {{
        "unknown1": "val1",
        "unknownDupe": "valDupe",
        "unknownDupe": "valDupe2",
        "paused": true,
        "paused": false,
        "selector": {{"matchLabels": {{"app": "nginx"}}}},
        "template": {{
            "metadata": {{"labels": {{"app": "nginx"}}}},
            "spec": {{"containers": [{{
                "name": "nginx",
                "image": "nginx:latest",
                "unknownNested": "val1",
                "imagePullPolicy": "Always",
                "imagePullPolicy": "Never"
            }}]}}
        }}
    }}
}}"#
    )
}

const EXPECTED: [&str; 7] = [
    r#"duplicate field "metadata.name""#,
    r#"unknown field "metadata.unknownMeta""#,
    r#"unknown field "spec.unknown1""#,
    r#"unknown field "spec.unknownDupe""#,
    r#"duplicate field "spec.paused""#,
    r#"unknown field "spec.template.spec.containers[0].unknownNested""#,
    r#"duplicate field "spec.template.spec.containers[0].imagePullPolicy""#,
];

fn valid_deployment(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}}})
}

/// A response: status, `Warning` header texts (unquoted), body.
struct Answer {
    status: StatusCode,
    warnings: Vec<String>,
    body: Value,
}

async fn send(api: &Api, method: Method, uri: &str, content_type: &str, body: &str) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| {
            let text = v.to_str().unwrap();
            let quoted = text.strip_prefix("299 - ").expect("a 299 warning");
            serde_json::from_str::<String>(quoted).expect("a quoted text")
        })
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer { status, warnings, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

async fn post(api: &Api, query: &str, body: &str) -> Answer {
    send(api, Method::POST, &format!("{DEPLOYMENTS}{query}"), "application/json", body).await
}

#[tokio::test]
async fn unknown_and_duplicate_fields_of_a_built_in_by_mode() {
    let api = api().await;
    // Strict: a 400 naming everything, in document order, in kube's words; nothing stored.
    let strict = post(&api, "?fieldValidation=Strict", &invalid_deployment("strict")).await;
    assert_eq!(strict.status, 400, "{}", strict.body);
    assert_eq!(strict.body["reason"], "BadRequest");
    assert_eq!(
        strict.body["message"],
        format!(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: {}",
            EXPECTED.join(", ")
        )
    );
    let gone = send(&api, Method::GET, &format!("{DEPLOYMENTS}/strict"), "", "").await;
    assert_eq!(gone.status, 404);

    // Warn, and the default: one warning each; the unknown fields are dropped, the last of
    // repeated ones wins.
    for query in ["?fieldValidation=Warn", ""] {
        let name = if query.is_empty() { "default" } else { "warn" };
        let warn = post(&api, query, &invalid_deployment(name)).await;
        assert_eq!(warn.status, 201, "{}", warn.body);
        assert_eq!(warn.warnings, EXPECTED, "{query}");
        let spec = &warn.body["spec"];
        assert!(spec.get("unknown1").is_none() && spec.get("unknownDupe").is_none(), "{spec}");
        assert!(warn.body["metadata"].get("unknownMeta").is_none());
        assert_eq!(spec["paused"], false);
        let container = &spec["template"]["spec"]["containers"][0];
        assert!(container.get("unknownNested").is_none(), "{container}");
        assert_eq!(container["imagePullPolicy"], "Never");
    }

    // Ignore: nothing said, the same object stored.
    let ignore = post(&api, "?fieldValidation=Ignore", &invalid_deployment("ignore")).await;
    assert_eq!(ignore.status, 201, "{}", ignore.body);
    assert!(ignore.warnings.is_empty(), "{:?}", ignore.warnings);
    assert!(ignore.body["spec"].get("unknown1").is_none());

    // An update says the same.
    let uri = format!("{DEPLOYMENTS}/ignore?fieldValidation=Strict");
    let put =
        send(&api, Method::PUT, &uri, "application/json", &invalid_deployment("ignore")).await;
    assert_eq!(put.status, 400, "{}", put.body);
    assert!(put.body["message"].as_str().unwrap().ends_with(&EXPECTED.join(", ")));

    // YAML: read through Go maps, so the unknown fields come sorted.
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: yaml\nspec:\n  zeta: 1\n  \
                selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    \
                spec: {containers: [{name: a, image: a, bogus: 1}]}\n";
    let uri = format!("{DEPLOYMENTS}?fieldValidation=Warn");
    let answer = send(&api, Method::POST, &uri, "application/yaml", yaml).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.warnings,
        [
            r#"unknown field "spec.template.spec.containers[0].bogus""#,
            r#"unknown field "spec.zeta""#
        ]
    );
}

#[tokio::test]
async fn patches_report_repeated_keys_then_unknown_fields() {
    let api = api().await;
    let created = post(&api, "", &valid_deployment("p").to_string()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    // kube's merge patch body.
    let patch = r#"{"spec": {"unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
        "paused": true, "paused": false, "template": {"spec": {"containers": [{"name": "nginx",
        "image": "nginx:latest", "unknownNested": "val1", "imagePullPolicy": "Always",
        "imagePullPolicy": "Never"}]}}}}"#;
    let expected = [
        r#"duplicate field "spec.unknownDupe""#,
        r#"duplicate field "spec.paused""#,
        r#"duplicate field "spec.template.spec.containers[0].imagePullPolicy""#,
        r#"unknown field "spec.template.spec.containers[0].unknownNested""#,
        r#"unknown field "spec.unknown1""#,
        r#"unknown field "spec.unknownDupe""#,
    ];
    for content_type in ["application/merge-patch+json", "application/strategic-merge-patch+json"] {
        let uri = format!("{DEPLOYMENTS}/p?fieldValidation=Strict");
        let strict = send(&api, Method::PATCH, &uri, content_type, patch).await;
        assert_eq!(strict.status, 422, "{content_type}: {}", strict.body);
        assert_eq!(strict.body["reason"], "Invalid");
        let message = strict.body["message"].as_str().unwrap();
        assert!(message.starts_with(r#" "" is invalid: patch: Invalid value: "#), "{message}");
        assert!(
            message.ends_with(&format!("strict decoding error: {}", expected.join(", "))),
            "{message}"
        );
        assert_eq!(strict.body["details"]["causes"][0]["field"], "patch");

        let uri = format!("{DEPLOYMENTS}/p?fieldValidation=Warn");
        let warn = send(&api, Method::PATCH, &uri, content_type, patch).await;
        assert_eq!(warn.status, 200, "{content_type}: {}", warn.body);
        assert_eq!(warn.warnings, expected, "{content_type}");
        assert!(warn.body["spec"].get("unknown1").is_none(), "{}", warn.body);
        let container = &warn.body["spec"]["template"]["spec"]["containers"][0];
        assert!(container.get("unknownNested").is_none(), "{container}");
    }
    // A JSON patch: its operations' own fields.
    let ops = r#"[{"op": "add", "path": "/spec/paused", "value": true, "foo": "bar"},
                  {"op": "add", "path": "/spec/x", "path": "/spec/paused", "value": false}]"#;
    let uri = format!("{DEPLOYMENTS}/p?fieldValidation=Warn");
    let warn = send(&api, Method::PATCH, &uri, "application/json-patch+json", ops).await;
    assert_eq!(warn.status, 200, "{}", warn.body);
    assert_eq!(
        warn.warnings,
        [r#"json patch unknown field "[0].foo""#, r#"json patch duplicate field "[1].path""#]
    );
}

#[tokio::test]
async fn values_of_the_wrong_type_are_a_400_in_go_words() {
    let api = api().await;
    let cases = [
        (
            json!({"spec": {"replicas": "3"}}),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            json!({"spec": {"replicas": 3_000_000_000u64}}),
            "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            json!({"spec": {"template": {"spec": {"containers": {}}}}}),
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
        ),
        (
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": "80"}]}]}}}}),
            "json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32",
        ),
        (
            json!({"metadata": {"labels": ["a"]}}),
            "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string",
        ),
    ];
    for (i, (change, why)) in cases.into_iter().enumerate() {
        let mut body = valid_deployment(&format!("t{i}"));
        merge(&mut body, change);
        // Even under Ignore: a type error is not a strict-decoding finding.
        let answer = post(&api, "?fieldValidation=Ignore", &body.to_string()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert_eq!(answer.body["reason"], "BadRequest");
        assert_eq!(
            answer.body["message"],
            format!("Deployment in version \"v1\" cannot be handled as a Deployment: {why}")
        );
    }
    // `null` fits anything; `required` is not checked (kube's validation words that).
    let mut body = valid_deployment("nulls");
    merge(&mut body, json!({"spec": {"replicas": null, "strategy": null}}));
    assert_eq!(post(&api, "", &body.to_string()).await.status, 201);
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

#[tokio::test]
async fn built_in_objects_are_stored_in_go_field_order_at_every_depth() {
    let api = api().await;
    let body = r#"{"spec": {"template": {"spec": {"containers": [{"image": "a", "name": "a",
        "ports": [{"protocol": "TCP", "containerPort": 80}]}]}, "metadata": {"labels": {"b": "1", "a": "2"}}},
        "selector": {"matchLabels": {"a": "2"}}, "replicas": 1},
        "metadata": {"labels": {"z": "1", "a": "1"}, "name": "ordered"},
        "apiVersion": "apps/v1", "kind": "Deployment"}"#;
    let created = post(&api, "", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let got = send(&api, Method::GET, &format!("{DEPLOYMENTS}/ordered"), "", "").await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&got.body)[..3], ["kind", "apiVersion", "metadata"]);
    let spec = &got.body["spec"];
    let spec_keys = keys(spec);
    assert_eq!(spec_keys[..3], ["replicas", "selector", "template"], "{spec}");
    assert_eq!(keys(&spec["template"]), ["metadata", "spec"]);
    assert_eq!(keys(&spec["template"]["metadata"]["labels"]), ["a", "b"]);
    let container = &spec["template"]["spec"]["containers"][0];
    assert_eq!(keys(container)[..2], ["name", "image"], "{container}");
    assert_eq!(keys(&container["ports"][0]), ["containerPort", "protocol"]);
    assert_eq!(keys(&got.body["metadata"]["labels"]), ["a", "z"]);
}

const STRAY_FIELD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  bogus: true
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
";

/// kubectl (1.32) asks for server-side field validation, seeing `fieldValidation` among the
/// PATCH parameters of the server's OpenAPI: `--validate=strict` (its default) and
/// `--validate=warn`, on create (POST) and on an existing object (a strategic merge patch).
#[tokio::test(flavor = "multi_thread")]
async fn kubectl_apply_validates_on_the_server() {
    let server = TestServer::embedded().await;
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "--validate=strict", "-f", "-"],
        Some(STRAY_FIELD),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogus""#
        ),
        "{stderr}"
    );

    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "--validate=warn", "-f", "-"],
        Some(STRAY_FIELD),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(r#"Warning: unknown field "spec.bogus""#), "{stderr}");
    let stored: Value =
        serde_json::from_str(&server.ok(&["get", "deployment", "web", "-o", "json"])).unwrap();
    assert!(stored["spec"].get("bogus").is_none(), "{}", stored["spec"]);

    // The object exists: apply sends a strategic merge patch of what changed since the last
    // apply (`bogus` did not), validated the same way.
    let changed = STRAY_FIELD.replace("replicas: 1", "replicas: 2\n  other: 1");
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "--validate=strict", "-f", "-"],
        Some(&changed),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    // The patch sets `bogus` again (the live object lacks it) and the new `other`.
    assert!(
        stderr.contains(
            r#"strict decoding error: unknown field "spec.bogus", unknown field "spec.other""#
        ),
        "{stderr}"
    );
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["apply", "--validate=warn", "-f", "-"],
        Some(&changed),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(r#"Warning: unknown field "spec.other""#), "{stderr}");
    assert!(stderr.contains(r#"Warning: unknown field "spec.bogus""#), "{stderr}");
    let stored: Value =
        serde_json::from_str(&server.ok(&["get", "deployment", "web", "-o", "json"])).unwrap();
    assert_eq!(stored["spec"]["replicas"], 2);
    assert!(stored["spec"].get("other").is_none(), "{}", stored["spec"]);
}

/// A YAML body's repeated keys, as kube's strict YAML step reports them: one error for the
/// body, each repeat on its own line, before the unknown fields.
#[tokio::test]
async fn repeated_keys_of_a_yaml_body_by_mode() {
    let api = api().await;
    let yaml = |name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels: {{app: a}}\n  \
             labels: {{app: b}}\nspec:\n  paused: true\n  paused: false\n  bogus: 1\n  \
             selector: {{matchLabels: {{app: a}}}}\n  template:\n    metadata: {{labels: {{app: a}}}}\n    \
             spec: {{containers: [{{name: a, image: a}}]}}\n"
        )
    };
    let duplicates = "yaml: unmarshal errors:\n  line 6: key \"labels\" already set in map\n  \
                      line 9: key \"paused\" already set in map";
    let uri = |mode: &str| format!("{DEPLOYMENTS}?fieldValidation={mode}");

    let strict = send(&api, Method::POST, &uri("Strict"), "application/yaml", &yaml("s")).await;
    assert_eq!(strict.status, 400, "{}", strict.body);
    assert_eq!(strict.body["reason"], "BadRequest");
    assert_eq!(
        strict.body["message"],
        format!(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding \
             error: {duplicates}, unknown field \"spec.bogus\""
        )
    );
    assert_eq!(send(&api, Method::GET, &format!("{DEPLOYMENTS}/s"), "", "").await.status, 404);

    // Warn: the multi-line text is one warning; the last of the repeated keys wins.
    let warn = send(&api, Method::POST, &uri("Warn"), "application/yaml", &yaml("w")).await;
    assert_eq!(warn.status, 201, "{}", warn.body);
    assert_eq!(warn.warnings, [duplicates, "unknown field \"spec.bogus\""]);
    assert_eq!(warn.body["spec"]["paused"], false);
    assert_eq!(warn.body["metadata"]["labels"]["app"], "b");

    let ignore = send(&api, Method::POST, &uri("Ignore"), "application/yaml", &yaml("i")).await;
    assert_eq!(ignore.status, 201, "{}", ignore.body);
    assert!(ignore.warnings.is_empty(), "{:?}", ignore.warnings);

    // An update body is checked the same way.
    let put = send(
        &api,
        Method::PUT,
        &format!("{DEPLOYMENTS}/i?fieldValidation=Strict"),
        "application/yaml",
        &yaml("i"),
    )
    .await;
    assert_eq!(put.status, 400, "{}", put.body);
    assert!(put.body["message"].as_str().unwrap().contains(duplicates), "{}", put.body);
}

/// A JSON patch's result is decoded strictly, as kube decodes the patched object into its Go
/// struct: unknown fields it introduces (sorted, as the patched JSON has them) are a 422
/// showing the patched object under Strict, warnings under Warn (after the operations' own),
/// dropped either way.
#[tokio::test]
async fn patch_results_are_decoded_strictly() {
    let api = api().await;
    let created = post(&api, "", &valid_deployment("r").to_string()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let rv = created.body["metadata"]["resourceVersion"].clone();
    let json_patch = "application/json-patch+json";
    let ops = r#"[{"op": "add", "path": "/spec/foo", "value": 1},
                  {"op": "add", "path": "/metadata/bogus", "value": "x"},
                  {"op": "add", "path": "/spec/paused", "value": true}]"#;
    let uri = |mode: &str| format!("{DEPLOYMENTS}/r?fieldValidation={mode}");

    let strict = send(&api, Method::PATCH, &uri("Strict"), json_patch, ops).await;
    assert_eq!(strict.status, 422, "{}", strict.body);
    assert_eq!(strict.body["reason"], "Invalid");
    let message = strict.body["message"].as_str().unwrap();
    assert!(message.starts_with(r#" "" is invalid: patch: Invalid value: "{"#), "{message}");
    assert!(message.contains(r#"\"foo\":1"#), "the patched object is shown: {message}");
    assert!(
        message.ends_with(
            r#"strict decoding error: unknown field "metadata.bogus", unknown field "spec.foo""#
        ),
        "{message}"
    );
    assert_eq!(strict.body["details"]["causes"][0]["field"], "patch");
    let stored = send(&api, Method::GET, &format!("{DEPLOYMENTS}/r"), "", "").await.body;
    assert_eq!(stored["metadata"]["resourceVersion"], rv, "nothing written");

    // Warn: the operations' own findings, then the result's; the unknown fields dropped.
    let warn_ops = r#"[{"op": "add", "path": "/spec/foo", "value": 1, "extra": 0},
                       {"op": "add", "path": "/spec/paused", "value": true}]"#;
    let warn = send(&api, Method::PATCH, &uri("Warn"), json_patch, warn_ops).await;
    assert_eq!(warn.status, 200, "{}", warn.body);
    assert_eq!(
        warn.warnings,
        [r#"json patch unknown field "[0].extra""#, r#"unknown field "spec.foo""#]
    );
    assert!(warn.body["spec"].get("foo").is_none(), "{}", warn.body);
    assert_eq!(warn.body["spec"]["paused"], true);

    let ignore = send(&api, Method::PATCH, &uri("Ignore"), json_patch, ops).await;
    assert_eq!(ignore.status, 200, "{}", ignore.body);
    assert!(ignore.warnings.is_empty(), "{:?}", ignore.warnings);
    assert!(ignore.body["spec"].get("foo").is_none(), "{}", ignore.body);
    assert!(ignore.body["metadata"].get("bogus").is_none(), "{}", ignore.body);

    // A value of the wrong type fails the decode in any mode, in Go's words.
    let typed = r#"[{"op": "replace", "path": "/spec/replicas", "value": "3"}]"#;
    let wrong = send(&api, Method::PATCH, &uri("Ignore"), json_patch, typed).await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    let message = wrong.body["message"].as_str().unwrap();
    assert!(message.starts_with(r#" "" is invalid: patch: Invalid value: "{"#), "{message}");
    assert!(
        message.ends_with(
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of \
             type int32"
        ),
        "{message}"
    );

    // A merge patch says the same of what it introduces.
    let merge = send(
        &api,
        Method::PATCH,
        &uri("Strict"),
        "application/merge-patch+json",
        r#"{"spec": {"foo": 1}}"#,
    )
    .await;
    assert_eq!(merge.status, 422, "{}", merge.body);
    let message = merge.body["message"].as_str().unwrap();
    assert!(message.ends_with(r#"strict decoding error: unknown field "spec.foo""#), "{message}");
}
