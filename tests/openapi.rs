//! The OpenAPI documents against real clients: `kubectl explain` (v3, and v2 in gnostic
//! protobuf with `--output=plaintext-openapiv2`) for built-in and custom resources,
//! `kubectl apply --validate=strict`, and `/openapi/v2`'s four negotiations (JSON by default and
//! for `*/*`, protobuf in both spellings, decoded here with gnostic's messages), gzip, ETag and
//! 304, a CRD changing the document; `/openapi/v3`'s `?hash=` URLs and their redirect.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::server::TestServer;

/// gnostic's `openapi.v2` messages (`openapiv2/OpenAPIv2.proto`), the fields these tests read.
mod gnostic {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Document {
        #[prost(string, tag = "1")]
        pub swagger: String,
        #[prost(message, optional, tag = "2")]
        pub info: Option<Info>,
        #[prost(message, optional, tag = "8")]
        pub paths: Option<Paths>,
        #[prost(message, optional, tag = "9")]
        pub definitions: Option<Definitions>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Info {
        #[prost(string, tag = "1")]
        pub title: String,
        #[prost(string, tag = "2")]
        pub version: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Paths {
        #[prost(message, repeated, tag = "2")]
        pub path: Vec<NamedPathItem>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedPathItem {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<PathItem>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PathItem {
        #[prost(message, optional, tag = "2")]
        pub get: Option<Operation>,
        #[prost(message, optional, tag = "8")]
        pub patch: Option<Operation>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Operation {
        #[prost(string, tag = "5")]
        pub operation_id: String,
        #[prost(message, repeated, tag = "8")]
        pub parameters: Vec<ParametersItem>,
        #[prost(message, repeated, tag = "13")]
        pub vendor_extension: Vec<NamedAny>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ParametersItem {
        #[prost(message, optional, tag = "1")]
        pub parameter: Option<Parameter>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Parameter {
        #[prost(message, optional, tag = "1")]
        pub body_parameter: Option<BodyParameter>,
        #[prost(message, optional, tag = "2")]
        pub non_body_parameter: Option<NonBodyParameter>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BodyParameter {
        #[prost(string, tag = "2")]
        pub name: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NonBodyParameter {
        #[prost(message, optional, tag = "3")]
        pub query_parameter_sub_schema: Option<QueryParameterSubSchema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryParameterSubSchema {
        #[prost(string, tag = "2")]
        pub r#in: String,
        #[prost(string, tag = "4")]
        pub name: String,
        #[prost(string, tag = "6")]
        pub r#type: String,
        #[prost(bool, tag = "20")]
        pub unique_items: bool,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Definitions {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSchema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedSchema {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<Schema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Schema {
        #[prost(string, tag = "1")]
        pub r#ref: String,
        #[prost(string, tag = "2")]
        pub format: String,
        #[prost(string, tag = "4")]
        pub description: String,
        #[prost(string, repeated, tag = "19")]
        pub required: Vec<String>,
        #[prost(message, optional, tag = "21")]
        pub additional_properties: Option<Box<AdditionalPropertiesItem>>,
        #[prost(message, optional, tag = "22")]
        pub r#type: Option<TypeItem>,
        #[prost(message, optional, tag = "23")]
        pub items: Option<ItemsItem>,
        #[prost(message, optional, tag = "25")]
        pub properties: Option<Properties>,
        #[prost(message, repeated, tag = "31")]
        pub vendor_extension: Vec<NamedAny>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AdditionalPropertiesItem {
        #[prost(message, optional, tag = "1")]
        pub schema: Option<Schema>,
        #[prost(bool, optional, tag = "2")]
        pub boolean: Option<bool>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeItem {
        #[prost(string, repeated, tag = "1")]
        pub value: Vec<String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ItemsItem {
        #[prost(message, repeated, tag = "1")]
        pub schema: Vec<Schema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Properties {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSchema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedAny {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<Any>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Any {
        #[prost(string, tag = "2")]
        pub yaml: String,
    }

    impl Document {
        pub fn definition(&self, name: &str) -> Option<&Schema> {
            let defs = &self.definitions.as_ref()?.additional_properties;
            defs.iter().find(|d| d.name == name)?.value.as_ref()
        }
    }

    impl Schema {
        pub fn property(&self, name: &str) -> Option<&Schema> {
            let props = &self.properties.as_ref()?.additional_properties;
            props.iter().find(|p| p.name == name)?.value.as_ref()
        }

        /// An extension's value, parsed (its YAML is JSON's flow style here).
        pub fn extension(&self, name: &str) -> Option<serde_json::Value> {
            let any = self.vendor_extension.iter().find(|e| e.name == name)?.value.as_ref()?;
            Some(serde_json::from_str(&any.yaml).expect("JSON-compatible YAML"))
        }

        pub fn ty(&self) -> Vec<String> {
            self.r#type.as_ref().map(|t| t.value.clone()).unwrap_or_default()
        }
    }
}

const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
const PROTOBUF_DOTTED: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: A CronTab runs an image on a schedule.
          properties:
            spec:
              type: object
              description: What to run and when.
              required: [cronSpec]
              properties:
                cronSpec: {type: string, description: The schedule in cron format.}
                image: {type: string, nullable: true}
                replicas: {type: integer, minimum: 1, default: 1}
"#;

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = server.http.get(format!("{}{path}", server.url));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

fn vary(response: &reqwest::Response) -> Vec<&str> {
    response.headers().get_all("vary").iter().map(|v| v.to_str().unwrap()).collect()
}

fn kubectl_ok(server: &TestServer, args: &[&str]) -> String {
    server.ok(args)
}

/// Polls `/openapi/v2` until its ETag differs from `old` (the CRD's resources are registered
/// by its controller, just after it is established).
async fn etag_after(server: &TestServer, old: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = get(server, "/openapi/v2", &[]).await;
        let etag = header(&response, "etag").to_owned();
        if etag != old {
            return etag;
        }
        assert!(Instant::now() < deadline, "/openapi/v2 never changed after the CRD");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn v2_negotiation_gzip_etag_and_a_crd() {
    let server = TestServer::embedded().await;

    // JSON: no Accept, */*, application/json.
    let plain = get(&server, "/openapi/v2", &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(header(&plain, "content-type"), "application/json");
    assert_eq!(vary(&plain), ["Accept", "Accept-Encoding"]);
    let etag = header(&plain, "etag").to_owned();
    assert_eq!(etag.len(), 130, "a quoted SHA-512 in hex: {etag}");
    assert!(etag[1..129].chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()), "{etag}");
    let body = plain.bytes().await.unwrap();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["swagger"], "2.0");
    let cm = &doc["definitions"]["io.k8s.api.core.v1.ConfigMap"];
    assert_eq!(
        cm["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "ConfigMap", "version": "v1"}])
    );
    assert_eq!(cm["properties"]["data"]["additionalProperties"]["type"], "string");
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
    assert_eq!(patch["x-kubernetes-action"], "patch");
    assert_eq!(patch["operationId"], "patchCoreV1NamespacedConfigMap");
    for accept in ["*/*", "application/json", "text/html, application/*;q=0.5"] {
        let response = get(&server, "/openapi/v2", &[("accept", accept)]).await;
        assert_eq!(header(&response, "content-type"), "application/json", "{accept}");
        assert_eq!(response.bytes().await.unwrap(), body, "{accept}");
    }

    // Protobuf, in both spellings: gnostic's Document, answered with the dotted type.
    for accept in [PROTOBUF, PROTOBUF_DOTTED] {
        let response = get(&server, "/openapi/v2", &[("accept", accept)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "content-type"), PROTOBUF_DOTTED);
        assert_eq!(header(&response, "etag"), etag, "the JSON's ETag, told apart by Vary");
        let pb = gnostic::Document::decode(response.bytes().await.unwrap()).unwrap();
        assert_eq!(pb.swagger, "2.0");
        assert_eq!(pb.info.as_ref().unwrap().title, "Kubernetes");
        let cm = pb.definition("io.k8s.api.core.v1.ConfigMap").expect("ConfigMap");
        assert_eq!(cm.ty(), ["object"]);
        assert_eq!(
            cm.extension("x-kubernetes-group-version-kind").unwrap()[0]["kind"],
            "ConfigMap"
        );
        let data = cm.property("data").unwrap();
        let values = data.additional_properties.as_ref().unwrap().schema.as_ref().unwrap();
        assert_eq!(values.ty(), ["string"]);
        let meta = cm.property("metadata").unwrap();
        assert_eq!(meta.r#ref, "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
        let meta = pb.definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").unwrap();
        let owners = meta.property("ownerReferences").unwrap();
        assert_eq!(owners.extension("x-kubernetes-list-map-keys"), Some(json!(["uid"])));
        assert_eq!(owners.extension("x-kubernetes-patch-merge-key"), Some(json!("uid")));
        let path = pb.paths.as_ref().unwrap().path.iter();
        let item =
            path.clone().find(|p| p.name == "/api/v1/namespaces/{namespace}/configmaps/{name}");
        let patch = item.unwrap().value.as_ref().unwrap().patch.as_ref().unwrap();
        assert_eq!(patch.operation_id, "patchCoreV1NamespacedConfigMap");
        let names: Vec<&str> = patch
            .parameters
            .iter()
            .filter_map(|p| {
                p.parameter
                    .as_ref()?
                    .non_body_parameter
                    .as_ref()?
                    .query_parameter_sub_schema
                    .as_ref()
            })
            .map(|q| q.name.as_str())
            .collect();
        assert!(names.contains(&"fieldValidation"), "{names:?}");
        let action =
            patch.vendor_extension.iter().find(|e| e.name == "x-kubernetes-action").unwrap();
        assert_eq!(action.value.as_ref().unwrap().yaml.trim(), "\"patch\"");
    }

    // Nothing acceptable: 406.
    let refused = get(&server, "/openapi/v2", &[("accept", "text/html")]).await;
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);

    // gzip, for both forms; the same ETag.
    for accept in ["application/json", PROTOBUF] {
        let response =
            get(&server, "/openapi/v2", &[("accept", accept), ("accept-encoding", "gzip")]).await;
        assert_eq!(header(&response, "content-encoding"), "gzip", "{accept}");
        assert_eq!(header(&response, "etag"), etag);
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&response.bytes().await.unwrap()[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        if accept == "application/json" {
            assert_eq!(unzipped, body);
        } else {
            gnostic::Document::decode(&unzipped[..]).unwrap();
        }
    }

    // If-None-Match: 304 without a body, for either form.
    for accept in ["application/json", PROTOBUF] {
        let response =
            get(&server, "/openapi/v2", &[("accept", accept), ("if-none-match", &etag)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{accept}");
        assert_eq!(header(&response, "etag"), etag);
        assert!(response.bytes().await.unwrap().is_empty());
    }
    let stale = get(&server, "/openapi/v2", &[("if-none-match", "\"0123\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);

    // A CRD: a new document, a new ETag, the custom resource's definition converted to v2.
    server.apply_crd(CRD, "crontabs.stable.example.com").await;
    let new_etag = etag_after(&server, &etag).await;
    let after = get(&server, "/openapi/v2", &[("if-none-match", &etag)]).await;
    assert_eq!(after.status(), StatusCode::OK, "the old ETag no longer matches");
    assert_eq!(header(&after, "etag"), new_etag);
    let doc: Value = after.json().await.unwrap();
    let crontab = &doc["definitions"]["com.example.stable.v1.CronTab"];
    assert_eq!(
        crontab["x-kubernetes-group-version-kind"],
        json!([{"group": "stable.example.com", "kind": "CronTab", "version": "v1"}])
    );
    assert_eq!(crontab["properties"]["spec"]["required"], json!(["cronSpec"]));
    assert_eq!(
        crontab["properties"]["spec"]["properties"]["image"],
        json!({}),
        "nullable: no type in v2"
    );
    assert_eq!(
        crontab["properties"]["metadata"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    let item = "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}";
    let consumes = doc["paths"][item]["patch"]["consumes"].as_array().unwrap();
    let smp = json!("application/strategic-merge-patch+json");
    assert!(!consumes.contains(&smp), "no strategic merge patch for a CRD: {consumes:?}");
    let v3 = get(&server, "/openapi/v3/apis/stable.example.com/v1", &[]).await;
    let v3: Value = v3.json().await.unwrap();
    let image = &v3["components"]["schemas"]["com.example.stable.v1.CronTab"]["properties"]["spec"]
        ["properties"]["image"];
    assert_eq!(
        image,
        &json!({"type": "string", "nullable": true}),
        "v3 keeps the schema as written"
    );
    let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    assert!(v3["components"]["schemas"][meta].is_object(), "the CRD's document defines ObjectMeta");
}

#[tokio::test(flavor = "multi_thread")]
async fn v3_hash_urls_are_immutable_and_stale_hashes_redirect() {
    let server = TestServer::embedded().await;
    let index = get(&server, "/openapi/v3", &[]).await;
    assert_eq!(index.status(), StatusCode::OK);
    let index_etag = header(&index, "etag").to_owned();
    let index: Value = index.json().await.unwrap();
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap().to_owned();
    let hash = url.split("?hash=").nth(1).unwrap().to_owned();
    assert_eq!(hash.len(), 128, "{url}");
    let not_modified = get(&server, "/openapi/v3", &[("if-none-match", &index_etag)]).await;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    let document = get(&server, &url, &[]).await;
    assert_eq!(document.status(), StatusCode::OK);
    assert_eq!(header(&document, "cache-control"), "public, immutable");
    assert!(header(&document, "expires").ends_with(" UTC"), "{}", header(&document, "expires"));
    assert_eq!(header(&document, "etag"), format!("\"{hash}\""));
    let doc: Value = document.json().await.unwrap();
    let deployment = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(deployment["x-kubernetes-group-version-kind"][0]["kind"], "Deployment");
    let metadata = &deployment["properties"]["metadata"];
    assert_eq!(
        metadata["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );

    // Without a hash: no immutable caching.
    let plain = get(&server, "/openapi/v3/apis/apps/v1", &[]).await;
    assert_ne!(header(&plain, "cache-control"), "public, immutable");

    // A stale hash redirects to the current one.
    let client =
        server.client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let stale = client
        .get(format!("{}/openapi/v3/apis/apps/v1?hash=0123", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&stale, "location"), url);
    assert_eq!(
        get(&server, "/openapi/v3/apis/no.such/v1", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_explain_built_in_and_custom_fields() {
    let server = TestServer::embedded().await;
    let data = kubectl_ok(&server, &["explain", "configmap.data"]);
    assert!(data.contains("KIND:       ConfigMap"), "{data}");
    assert!(data.contains("FIELD: data <map[string]string>"), "{data}");
    assert!(data.contains("Data contains the configuration data."), "{data}");
    let ports = kubectl_ok(&server, &["explain", "deployment.spec.template.spec.containers.ports"]);
    assert!(ports.contains("GROUP:      apps"), "{ports}");
    assert!(ports.contains("FIELD: ports <[]ContainerPort>"), "{ports}");
    assert!(ports.contains("containerPort\t<integer> -required-"), "{ports}");
    let recursive = kubectl_ok(&server, &["explain", "configmap", "--recursive"]);
    for field in [
        "apiVersion\t<string>",
        "binaryData\t<map[string]string>",
        "metadata\t<ObjectMeta>",
        "    ownerReferences\t<[]OwnerReference>",
    ] {
        assert!(recursive.contains(field), "{field} missing:\n{recursive}");
    }

    // The same through OpenAPI v2, which kubectl fetches as gnostic protobuf.
    let v2 = kubectl_ok(&server, &["explain", "configmap.data", "--output=plaintext-openapiv2"]);
    assert!(v2.contains("FIELD:    data <map[string]string>"), "{v2}");
    assert!(v2.contains("Data contains the configuration data."), "{v2}");
    let v2 = kubectl_ok(
        &server,
        &[
            "explain",
            "deployment.spec.template.spec.containers.ports",
            "--output=plaintext-openapiv2",
        ],
    );
    assert!(v2.contains("containerPort\t<integer> -required-"), "{v2}");

    server.apply_crd(CRD, "crontabs.stable.example.com").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let cron = loop {
        let out = server.kubectl(&["explain", "crontab.spec.cronSpec"]);
        if out.status.success() {
            break String::from_utf8(out.stdout).unwrap();
        }
        assert!(Instant::now() < deadline, "{}", String::from_utf8_lossy(&out.stderr));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(cron.contains("GROUP:      stable.example.com"), "{cron}");
    assert!(cron.contains("FIELD: cronSpec <string>"), "{cron}");
    assert!(cron.contains("The schedule in cron format."), "{cron}");
    let spec = kubectl_ok(&server, &["explain", "crontab.spec", "--output=plaintext-openapiv2"]);
    assert!(spec.contains("What to run and when."), "{spec}");
    assert!(spec.contains("cronSpec\t<string> -required-"), "{spec}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_apply_validate_strict_refuses_an_unknown_field() {
    let server = TestServer::embedded().await;
    server.apply_crd(CRD, "crontabs.stable.example.com").await;
    let manifest = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly, namespace: default}\nspec: {cronSpec: '* * * * */5', bogus: 1}\n";
    let deadline = Instant::now() + Duration::from_secs(10);
    let stderr = loop {
        let out = server.kubectl_with(
            support::server::KUBECTL,
            &["apply", "--validate=strict", "-f", "-"],
            Some(manifest),
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "applied with an unknown field");
        if !stderr.contains("the server could not find the requested resource")
            && !stderr.contains("no matches for kind")
        {
            break stderr;
        }
        assert!(Instant::now() < deadline, "{stderr}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(stderr.contains("strict decoding error: unknown field \"spec.bogus\""), "{stderr}");
    let out = server.kubectl(&["get", "crontab", "nightly"]);
    assert!(!out.status.success(), "nothing was created");
}
