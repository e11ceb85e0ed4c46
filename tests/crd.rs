//! CustomResourceDefinitions through the real binary: a CRD applied with kubectl, established,
//! its objects written through one version and read, listed, watched and printed through the
//! other; `/status` and `/scale`; schema validation, pruning and defaulting; the storage version
//! flipped; a deprecated version's warning; the CRD deleted with its objects; CRDs served again
//! after a restart; CRDs the server refuses; and kube-rs' `#[derive(CustomResource)]` end to end.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::events::next_event;
use support::http::send;
use support::server::TestServer;

const GROUP: &str = "stable.example.com";
const CRD_NAME: &str = "crontabs.stable.example.com";

fn crd_url(server: &TestServer) -> String {
    format!("{}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", server.url)
}

fn objects(server: &TestServer, version: &str) -> String {
    format!("{}/apis/{GROUP}/{version}/namespaces/default/crontabs", server.url)
}

fn schema() -> &'static str {
    r#"
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec: {type: string}
                image: {type: string}
                replicas: {type: integer, minimum: 0, default: 1}
            status:
              type: object
              properties:
                replicas: {type: integer}
                selector: {type: string}"#
}

/// The CronTab CRD: v1beta1 served, v1 served and stored (or the other way round), v1beta1
/// deprecated if asked.
fn crd_manifest(storage_v1: bool, deprecated: bool) -> String {
    let schema = schema();
    format!(
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {CRD_NAME}
spec:
  group: {GROUP}
  scope: Namespaced
  names: {{plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}}
  versions:
    - name: v1beta1
      served: true
      storage: {beta_storage}
      deprecated: {deprecated}
      schema:{schema}
      subresources:
        status: {{}}
    - name: v1
      served: true
      storage: {storage_v1}
      schema:{schema}
      subresources:
        status: {{}}
        scale: {{specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}}
      additionalPrinterColumns:
        - {{name: Spec, type: string, jsonPath: .spec.cronSpec}}
        - {{name: Replicas, type: integer, jsonPath: .spec.replicas}}
        - {{name: Age, type: date, jsonPath: .metadata.creationTimestamp}}
"#,
        beta_storage = !storage_v1,
    )
}

async fn status_of(server: &TestServer, url: &str) -> u16 {
    server.http.get(url).send().await.unwrap().status().as_u16()
}

const CRONTAB: &str = r#"apiVersion: stable.example.com/v1beta1
kind: CronTab
metadata:
  name: nightly
spec:
  cronSpec: "0 3 * * *"
  image: backup:1
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_crd_served_in_two_versions_with_kubectl() {
    let mut server = TestServer::embedded().await;
    server.ok_stdin(&["apply", "-f", "-"], &crd_manifest(true, false));
    server.wait_established(CRD_NAME).await;
    let crd = send(server.http.get(format!("{}/{CRD_NAME}", crd_url(&server))), 200).await;
    assert_eq!(crd["status"]["acceptedNames"]["kind"], "CronTab");
    assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
    let names_accepted = crd["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "NamesAccepted")
        .cloned()
        .unwrap();
    assert_eq!(names_accepted["reason"], "NoConflicts");
    let crds = server.ok(&["get", "crd"]);
    assert!(crds.starts_with("NAME") && crds.contains("CREATED AT"), "{crds}");
    assert!(crds.contains(CRD_NAME), "{crds}");

    // Created through v1beta1 (defaults applied), printed with v1's columns.
    server.ok_stdin(&["create", "-f", "-"], CRONTAB);
    let table = server.ok(&["get", "crontabs"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SPEC", "REPLICAS", "AGE"], "{table}");
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], ["nightly", "0", "3", "*"], "{table}");
    assert_eq!(row[row.len() - 2], "1", "defaulted replicas: {table}");
    assert!(server.ok(&["get", "ct"]).contains("nightly"));
    let yaml = server.ok(&["get", "crontabs.v1.stable.example.com", "nightly", "-o", "yaml"]);
    assert!(yaml.contains("apiVersion: stable.example.com/v1\n"), "{yaml}");
    assert!(yaml.contains("replicas: 1"), "{yaml}");
    let beta = send(server.http.get(format!("{}/nightly", objects(&server, "v1beta1"))), 200).await;
    assert_eq!(beta["apiVersion"], "stable.example.com/v1beta1");
    assert_eq!(beta["metadata"]["generation"], 1);

    // A watch through v1beta1 sees a write made through v1.
    let rv = beta["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let watch_url = format!("{}?watch=1&resourceVersion={rv}", objects(&server, "v1beta1"));
    let response = server.http.get(watch_url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    let mut v1 = send(server.http.get(format!("{}/nightly", objects(&server, "v1"))), 200).await;
    v1["spec"]["image"] = json!("backup:2");
    let updated =
        send(server.http.put(format!("{}/nightly", objects(&server, "v1"))).json(&v1), 200).await;
    assert_eq!(updated["metadata"]["generation"], 2);
    let event = next_event(&mut stream, &mut buffer).await;
    assert_eq!(event["type"], "MODIFIED");
    assert_eq!(event["object"]["apiVersion"], "stable.example.com/v1beta1");
    assert_eq!(event["object"]["spec"]["image"], "backup:2");

    // `/status` moves only the status, and not the generation; the main resource ignores status.
    let mut with_status = updated.clone();
    with_status["status"] = json!({"replicas": 1, "selector": "app=nightly"});
    with_status["spec"]["image"] = json!("ignored");
    let status_url = format!("{}/nightly/status", objects(&server, "v1"));
    let written = send(server.http.put(&status_url).json(&with_status), 200).await;
    assert_eq!(written["status"]["replicas"], 1);
    assert_eq!(written["spec"]["image"], "backup:2");
    assert_eq!(written["metadata"]["generation"], 2);

    // kubectl scale through `/scale`.
    server.ok(&["scale", "crontab", "nightly", "--replicas=3"]);
    let scale =
        send(server.http.get(format!("{}/nightly/scale", objects(&server, "v1"))), 200).await;
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=nightly");

    // A schema violation: 422 at the field, nothing stored.
    let bad = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "bad"}, "spec": {"replicas": -1, "image": 7}});
    let status = send(server.http.post(objects(&server, "v1")).json(&bad), 422).await;
    let fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"spec.replicas") && fields.contains(&"spec.image"), "{status}");
    assert_eq!(status_of(&server, &format!("{}/bad", objects(&server, "v1"))).await, 404);

    // Unknown fields: pruned with a warning by default, a 400 under Strict.
    let extra = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "extra"}, "spec": {"cronSpec": "* * * * *", "bogus": true}, "top": 1});
    let response = server.http.post(objects(&server, "v1")).json(&extra).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let warnings: Vec<String> = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        warnings,
        ["299 - \"unknown field \\\"spec.bogus\\\"\"", "299 - \"unknown field \\\"top\\\"\""]
    );
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["spec"], json!({"cronSpec": "* * * * *", "replicas": 1}));
    assert!(created.get("top").is_none());
    let strict = format!("{}?fieldValidation=Strict", objects(&server, "v1"));
    let mut again = extra.clone();
    again["metadata"]["name"] = json!("strict");
    let status = send(server.http.post(strict).json(&again), 400).await;
    // kube's create handler words every decode error `<Kind> in version … cannot be handled`.
    assert_eq!(
        status["message"],
        "CronTab in version \"v1\" cannot be handled as a CronTab: strict decoding error: \
         unknown field \"spec.bogus\", unknown field \"top\""
    );

    // Discovery and OpenAPI know the new resources.
    let resources = server.ok(&["api-resources", "--api-group", GROUP]);
    assert!(resources.contains("crontabs") && resources.contains("ct"), "{resources}");
    let doc =
        send(server.http.get(format!("{}/openapi/v3/apis/{GROUP}/v1", server.url)), 200).await;
    assert!(doc["paths"].as_object().unwrap().keys().any(|p| p.ends_with("/crontabs/{name}")));
    let applied = CRONTAB.replace("backup:1", "backup:3");
    server.ok_stdin(&["apply", "-f", "-"], &applied);

    // Flip the storage version to v1beta1 and deprecate it: old objects read in both versions.
    server.ok_stdin(&["apply", "-f", "-"], &crd_manifest(false, true));
    server
        .wait_for_crd(CRD_NAME, "stored both versions", |crd| {
            crd["status"]["storedVersions"] == json!(["v1", "v1beta1"])
        })
        .await;
    let out =
        server.kubectl(&["get", "crontabs.v1beta1.stable.example.com", "nightly", "-o", "yaml"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Warning: stable.example.com/v1beta1 CronTab is deprecated; use stable.example.com/v1 CronTab"
        ),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("apiVersion: stable.example.com/v1beta1")
    );
    let v1 = send(server.http.get(format!("{}/nightly", objects(&server, "v1"))), 200).await;
    assert_eq!(v1["spec"]["image"], "backup:3");
    // A write now stores v1beta1; both versions read it.
    let mut fresh = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "fresh"}, "spec": {"cronSpec": "1 * * * *"}});
    send(server.http.post(objects(&server, "v1")).json(&fresh), 201).await;
    fresh = send(server.http.get(format!("{}/fresh", objects(&server, "v1beta1"))), 200).await;
    assert_eq!(fresh["apiVersion"], "stable.example.com/v1beta1");

    // A restart serves the CRD again before the server is ready.
    server.restart().await;
    let read = send(server.http.get(format!("{}/nightly", objects(&server, "v1"))), 200).await;
    assert_eq!(read["spec"]["replicas"], 3);
    let table = server.ok(&["get", "crontabs"]);
    assert_eq!(table.lines().count(), 4, "{table}");

    // Deleting the CRD deletes its objects, then the CRD; the paths are gone.
    server.ok(&["delete", "crd", CRD_NAME, "--wait=false"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&server, &format!("{}/{CRD_NAME}", crd_url(&server))).await != 404 {
        assert!(Instant::now() < deadline, "the CRD was never deleted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while status_of(&server, &objects(&server, "v1")).await != 404 {
        assert!(Instant::now() < deadline, "the custom resources are still served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&server, &format!("{}/apis/{GROUP}/v1", server.url)).await, 404);
    // Created again, the CRD starts empty.
    server.ok_stdin(&["apply", "-f", "-"], &crd_manifest(true, false));
    server.wait_established(CRD_NAME).await;
    let list = send(server.http.get(objects(&server, "v1")), 200).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_scoped_crd() {
    let server = TestServer::embedded().await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "regions.geo.example.org"},
        "spec": {"group": "geo.example.org", "scope": "Cluster",
            "names": {"plural": "regions", "kind": "Region"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}});
    let created = send(server.http.post(crd_url(&server)).json(&crd), 201).await;
    assert_eq!(created["spec"]["names"]["singular"], "region");
    assert_eq!(created["spec"]["names"]["listKind"], "RegionList");
    server.wait_established("regions.geo.example.org").await;
    let url = format!("{}/apis/geo.example.org/v1/regions", server.url);
    let region = json!({"apiVersion": "geo.example.org/v1", "kind": "Region",
        "metadata": {"name": "eu", "labels": {"tier": "one"}}, "spec": {"anything": {"goes": 1}}});
    let stored = send(server.http.post(&url).json(&region), 201).await;
    assert!(stored["metadata"].get("namespace").is_none());
    assert_eq!(stored["spec"]["anything"]["goes"], 1);
    let list = send(server.http.get(format!("{url}?labelSelector=tier%3Done")), 200).await;
    assert_eq!(list["kind"], "RegionList");
    assert_eq!(list["items"][0]["metadata"]["name"], "eu");
    let namespaced = format!("{}/apis/geo.example.org/v1/namespaces/default/regions", server.url);
    assert_eq!(status_of(&server, &namespaced).await, 404);
    let table = server.ok(&["get", "regions"]);
    assert!(table.starts_with("NAME") && table.contains("AGE") && table.contains("eu"), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_crds_are_refused_and_nothing_is_served() {
    let server = TestServer::embedded().await;
    let good = || {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.shop.example.com"},
            "spec": {"group": "shop.example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object"}}}]}})
    };
    let mut non_structural = good();
    non_structural["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = json!({"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}});
    let mut bad_names = good();
    bad_names["spec"]["names"] = json!({"plural": "Widgets", "kind": "Wid get"});
    let mut built_in = good();
    built_in["spec"]["group"] = json!("events.k8s.io");
    built_in["metadata"]["name"] = json!("widgets.events.k8s.io");
    let mut two_storage = good();
    two_storage["spec"]["versions"] = json!([
        {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}},
        {"name": "v2", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}]);
    let mut webhook = good();
    webhook["spec"]["conversion"] = json!({"strategy": "Webhook", "webhook": {
        "clientConfig": {"service": {"namespace": "default", "name": "convert"}},
        "conversionReviewVersions": ["v1"]}});
    for (crd, field) in [
        (non_structural, "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"),
        (bad_names, "spec.names.plural"),
        (built_in, "spec.group"),
        (two_storage, "spec.versions"),
        (webhook, "spec.conversion.webhookClientConfig.service"),
    ] {
        let status = send(server.http.post(crd_url(&server)).json(&crd), 422).await;
        assert_eq!(status["reason"], "Invalid");
        let causes = status["details"]["causes"].as_array().unwrap();
        assert!(causes.iter().any(|c| c["field"] == field), "{field}: {status:#}");
    }
    let list = send(server.http.get(crd_url(&server)), 200).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(status_of(&server, &format!("{}/apis/shop.example.com/v1", server.url)).await, 404);
}

mod kube_rs {
    //! kube-rs' `#[derive(CustomResource)]`: the CRD it generates is applied as is, then typed
    //! objects are created, listed and watched.

    use std::time::Duration;

    use futures::StreamExt;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
    use kube::config::{KubeConfigOptions, Kubeconfig};
    use kube::{Client, Config, CustomResource, CustomResourceExt, ResourceExt};
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    use super::support::server::TestServer;

    #[derive(CustomResource, Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
    #[kube(group = "kube.rs.example.com", version = "v1", kind = "Foo", namespaced)]
    #[kube(status = "FooStatus", shortname = "fo")]
    pub struct FooSpec {
        name: String,
        info: Option<String>,
        replicas: i32,
    }

    #[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq, Default)]
    pub struct FooStatus {
        ready: bool,
    }

    async fn client_for(server: &TestServer) -> Client {
        let kubeconfig = Kubeconfig::read_from(&server.kubeconfig).expect("read kubeconfig");
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config from kubeconfig");
        Client::try_from(config).expect("kube client")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn derived_crd_and_typed_objects() {
        let server = TestServer::embedded().await;
        let client = client_for(&server).await;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &Foo::crd()).await.expect("create the derived CRD");
        server.wait_established("foos.kube.rs.example.com").await;

        let foos: Api<Foo> = Api::namespaced(client, "default");
        let list = foos.list(&ListParams::default()).await.unwrap();
        let rv = list.metadata.resource_version.clone().unwrap();
        let mut watch = foos.watch(&WatchParams::default().timeout(30), &rv).await.unwrap().boxed();

        let foo = Foo::new("first", FooSpec { name: "one".into(), info: None, replicas: 2 });
        let created = foos.create(&PostParams::default(), &foo).await.unwrap();
        assert_eq!(created.spec, foo.spec);
        assert_eq!(created.status, None);
        let event = tokio::time::timeout(Duration::from_secs(30), watch.next())
            .await
            .expect("an event")
            .expect("the stream continues")
            .unwrap();
        match event {
            WatchEvent::Added(added) => assert_eq!(added.name_any(), "first"),
            other => panic!("unexpected {other:?}"),
        }
        let mut with_status = created.clone();
        with_status.status = Some(FooStatus { ready: true });
        let written =
            foos.replace_status("first", &PostParams::default(), &with_status).await.unwrap();
        assert_eq!(written.status, Some(FooStatus { ready: true }));
        let list = foos.list(&ListParams::default()).await.unwrap();
        assert_eq!(list.items.len(), 1);
        assert_eq!(list.items[0].spec.replicas, 2);
    }
}
