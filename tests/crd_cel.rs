//! CEL validation rules (`x-kubernetes-validations`) of CRDs through the real binary.
//!
//! The data is an excerpt of Gateway API's published `HTTPRoute` v1 schema (the
//! `spec.rules[].filters` and `spec.rules[].matches[].path` rules and messages, verbatim from
//! `apis/v1/httproute_types.go`): valid routes are accepted, invalid ones refused with the
//! project's messages, through kubectl and kube-rs. A small CRD of our own adds a transition rule
//! (`self == oldSelf`), ratcheting of a rule added after objects were stored, and a rule that does
//! not compile.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::http::send;
use support::server::TestServer;

/// The HTTPRoute excerpt: parentRefs and hostnames dropped, every rule of `rules[].filters` and
/// `rules[].matches[].path` kept as Gateway API publishes it.
const HTTPROUTE_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
spec:
  group: gateway.networking.k8s.io
  scope: Namespaced
  names: {plural: httproutes, singular: httproute, kind: HTTPRoute, listKind: HTTPRouteList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              rules:
                type: array
                maxItems: 16
                items:
                  type: object
                  properties:
                    matches:
                      type: array
                      maxItems: 64
                      items:
                        type: object
                        properties:
                          path:
                            type: object
                            default: {type: PathPrefix, value: /}
                            properties:
                              type:
                                type: string
                                default: PathPrefix
                                enum: [Exact, PathPrefix, RegularExpression]
                              value:
                                type: string
                                default: /
                                maxLength: 1024
                            x-kubernetes-validations:
                            - message: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']
                              rule: "(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true"
                            - message: must not contain '//' when type one of ['Exact', 'PathPrefix']
                              rule: "(self.type in ['Exact','PathPrefix']) ? !self.value.contains('//') : true"
                    filters:
                      type: array
                      maxItems: 16
                      items:
                        type: object
                        required: [type]
                        properties:
                          type:
                            type: string
                            enum: [RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef]
                          requestHeaderModifier:
                            type: object
                            x-kubernetes-preserve-unknown-fields: true
                          requestRedirect:
                            type: object
                            x-kubernetes-preserve-unknown-fields: true
                          urlRewrite:
                            type: object
                            x-kubernetes-preserve-unknown-fields: true
                      x-kubernetes-validations:
                      - message: May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both
                        rule: "!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))"
                      - message: RequestHeaderModifier filter cannot be repeated
                        rule: "self.filter(f, f.type == 'RequestHeaderModifier').size() <= 1"
                      - message: ResponseHeaderModifier filter cannot be repeated
                        rule: "self.filter(f, f.type == 'ResponseHeaderModifier').size() <= 1"
                      - message: RequestRedirect filter cannot be repeated
                        rule: "self.filter(f, f.type == 'RequestRedirect').size() <= 1"
                      - message: URLRewrite filter cannot be repeated
                        rule: "self.filter(f, f.type == 'URLRewrite').size() <= 1"
"#;

const VALID_ROUTE: &str = r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: store
spec:
  rules:
  - matches:
    - path: {type: PathPrefix, value: /store}
    - path: {type: RegularExpression, value: "v[0-9]+//x"}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {add: [{name: x-route, value: store}]}
    - type: RequestRedirect
      requestRedirect: {scheme: https}
"#;

/// kubectl apply of `manifest` that must fail; returns its standard error.
fn apply_fails(server: &TestServer, manifest: &str) -> String {
    let out = server.kubectl_with("/usr/bin/kubectl", &["apply", "-f", "-"], Some(manifest));
    assert!(!out.status.success(), "kubectl apply unexpectedly succeeded:\n{manifest}");
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_api_httproute_rules_through_kubectl_and_kube_rs() {
    let server = TestServer::embedded().await;
    server.ok_stdin(&["apply", "-f", "-"], HTTPROUTE_CRD);
    server.wait_established("httproutes.gateway.networking.k8s.io").await;

    // Valid: one filter of each kind, a regular expression may hold `//`.
    server.ok_stdin(&["apply", "-f", "-"], VALID_ROUTE);

    // Two RequestHeaderModifier filters.
    let repeated = VALID_ROUTE
        .replace(
            "type: RequestRedirect\n      requestRedirect: {scheme: https}",
            "type: RequestHeaderModifier\n      requestHeaderModifier: {}",
        )
        .replace("name: store", "name: repeated");
    let stderr = apply_fails(&server, &repeated);
    assert!(
        stderr.contains(r#"The HTTPRoute "repeated" is invalid: spec.rules[0].filters: Invalid value: "array": RequestHeaderModifier filter cannot be repeated"#),
        "{stderr}"
    );

    // A redirect and a rewrite together.
    let both = VALID_ROUTE
        .replace("type: RequestHeaderModifier\n      requestHeaderModifier: {add: [{name: x-route, value: store}]}", "type: URLRewrite\n      urlRewrite: {hostname: x}")
        .replace("name: store", "name: both");
    let stderr = apply_fails(&server, &both);
    assert!(stderr.contains("spec.rules[0].filters: Invalid value: \"array\": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both"), "{stderr}");

    // Paths: relative, and `//` in a prefix; both causes, each at its match.
    let paths = VALID_ROUTE
        .replace("{type: PathPrefix, value: /store}", "{type: Exact, value: store}")
        .replace(
            "{type: RegularExpression, value: \"v[0-9]+//x\"}",
            "{type: PathPrefix, value: \"/a//b\"}",
        )
        .replace("name: store", "name: paths");
    let stderr = apply_fails(&server, &paths);
    assert!(stderr.contains("spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"), "{stderr}");
    assert!(stderr.contains("spec.rules[0].matches[1].path: Invalid value: \"object\": must not contain '//' when type one of ['Exact', 'PathPrefix']"), "{stderr}");

    // The same refusal through kube-rs, as a 422 with the cause at the path.
    let client = kube_client(&server).await;
    let resource = kube::api::ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: "HTTPRoute".into(),
        plural: "httproutes".into(),
    };
    let routes: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(client, "default", &resource);
    let object: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "from-kube-rs"},
        "spec": {"rules": [{"filters": [{"type": "URLRewrite"}, {"type": "URLRewrite"}]}]}}))
    .unwrap();
    let err = routes.create(&Default::default(), &object).await.expect_err("refused");
    let kube::Error::Api(status) = err else { panic!("not an API error: {err}") };
    assert_eq!(status.code, 422);
    assert_eq!(status.reason, "Invalid");
    assert_eq!(
        status.message,
        r#"HTTPRoute.gateway.networking.k8s.io "from-kube-rs" is invalid: spec.rules[0].filters: Invalid value: "array": URLRewrite filter cannot be repeated"#
    );
    // A valid one is created, with the path defaults applied before the rules ran.
    let object: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "from-kube-rs"},
        "spec": {"rules": [{"matches": [{"path": {}}], "filters": [{"type": "URLRewrite"}]}]}}))
    .unwrap();
    let created = routes.create(&Default::default(), &object).await.expect("created");
    assert_eq!(
        created.data["spec"]["rules"][0]["matches"][0]["path"],
        json!({"type": "PathPrefix", "value": "/"})
    );
}

async fn kube_client(server: &TestServer) -> kube::Client {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    kube::Client::try_from(config).expect("kube client")
}

fn widget_crd(rules_on_size: bool) -> Value {
    let mut size = json!({"type": "string"});
    if rules_on_size {
        size["x-kubernetes-validations"] =
            json!([{"rule": "self in ['S', 'M', 'L']", "message": "size must be S, M or L"}]);
    }
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.shop.example.com"},
        "spec": {"group": "shop.example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string", "x-kubernetes-validations": [
                            {"rule": "self == oldSelf", "message": "sku is immutable"}]},
                        "size": size,
                        "note": {"type": "string"}}}}}}}]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn transition_rules_ratcheting_and_rules_that_do_not_compile() {
    let server = TestServer::embedded().await;
    let crds = format!("{}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", server.url);

    // A rule that does not compile: the CRD is refused with the cause at the rule.
    let mut broken = widget_crd(false);
    broken["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["sku"]["x-kubernetes-validations"] = json!([{"rule": "self ==", "message": "broken"}]);
    let status = send(server.http.post(&crds).json(&broken), 422).await;
    let cause = &status["details"]["causes"][0];
    assert_eq!(
        cause["field"],
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[sku].x-kubernetes-validations[0].rule"
    );
    assert_eq!(cause["reason"], "FieldValueInvalid");
    assert!(
        cause["message"].as_str().unwrap().contains("compilation failed: ERROR: <input>:1:"),
        "{status:#}"
    );

    send(server.http.post(&crds).json(&widget_crd(false)), 201).await;
    server.wait_established("widgets.shop.example.com").await;
    let widget = |sku: &str, size: &str, note: &str| {
        format!(
            "apiVersion: shop.example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {{sku: {sku}, size: {size}, note: {note}}}\n"
        )
    };
    // Stored before the size rule exists: XL.
    server.ok_stdin(&["apply", "-f", "-"], &widget("a-1", "XL", "first"));

    // Transition rule: the sku cannot change.
    let stderr = apply_fails(&server, &widget("a-2", "XL", "first"));
    assert!(
        stderr.contains(
            r#"The Widget "w" is invalid: spec.sku: Invalid value: "string": sku is immutable"#
        ),
        "{stderr}"
    );

    // The size rule arrives; the stored XL is now invalid.
    let url = format!("{crds}/widgets.shop.example.com");
    let mut current = send(server.http.get(&url), 200).await;
    current["spec"] = widget_crd(true)["spec"].clone();
    send(server.http.put(&url).json(&current), 200).await;
    // The controller serves the new schema shortly after: a create (never ratcheted) tells.
    let objects = format!("{}/apis/shop.example.com/v1/namespaces/default/widgets", server.url);
    let probe = json!({"apiVersion": "shop.example.com/v1", "kind": "Widget",
        "metadata": {"name": "probe"}, "spec": {"sku": "p", "size": "XXL"}});
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = server.http.post(&objects).json(&probe).send().await.unwrap();
        if response.status().as_u16() == 422 {
            let status: Value = response.json().await.unwrap();
            assert_eq!(status["details"]["causes"][0]["field"], "spec.size", "{status:#}");
            break;
        }
        assert!(Instant::now() < deadline, "the new rule was never served");
        server.http.delete(format!("{objects}/probe")).send().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Ratcheting: an update that leaves the invalid size as it was is accepted...
    server.ok_stdin(&["apply", "-f", "-"], &widget("a-1", "XL", "second"));
    // ...one that changes it to another invalid value is not.
    let stderr = apply_fails(&server, &widget("a-1", "XXL", "third"));
    assert!(stderr.contains(r#"The Widget "w" is invalid: spec.size: Invalid value: "string": size must be S, M or L"#), "{stderr}");
    // And a valid value is.
    server.ok_stdin(&["apply", "-f", "-"], &widget("a-1", "M", "fourth"));
}
