//! The ledger's cross-object reads through the real binary and real clients, on both backends:
//! a point-in-time LIST through kubectl (`get --raw … resourceVersionMatch=Exact`), client-go
//! style pagination at that revision (limit + continue), kube-rs (`ListParams::at(R)` with
//! `VersionMatch::Exact`); the log position at a time; deleted objects with who deleted them;
//! replay over raw HTTPS in both formats, including a client that goes away mid-stream; and
//! RBAC: a user who may not read Secrets gets a 403 replaying them and sees none deleted.

mod support;

use std::time::{Duration, SystemTime};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, VersionMatch};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};
use support::http::send;
use support::server::{ALICE_TOKEN, TestServer};

const NS: &str = "ledger";
const LEDGER: &str = "/apis/ledger.kube-ledger.io/v1";

#[tokio::test]
async fn ledger_reads_across_objects_embedded() {
    scenario(TestServer::embedded().await).await;
}

#[tokio::test]
async fn ledger_reads_across_objects_on_etcd() {
    scenario(TestServer::on_etcd().await).await;
}

async fn scenario(server: TestServer) {
    server.ok(&["create", "namespace", NS]);
    let since = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
    tokio::time::sleep(Duration::from_millis(2)).await;
    // Alice may change and delete ConfigMaps and read their history; nothing about Secrets.
    server.ok_stdin(&["apply", "-f", "-"], CM_EDITOR);
    server.grant("alice", "cm-editor", "delete", "configmaps").await;

    let (at, names) = point_in_time(&server).await;
    kube_rs_reads_the_past(&server, &at, &names).await;
    custom_resources_at_a_revision(&server).await;
    log_position(&server).await;
    deleted_objects(&server, &since).await;
    replay(&server).await;
    a_client_that_goes_away(&server).await;
    rbac(&server, &since).await;
}

const CM_EDITOR: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cm-editor}
rules:
- apiGroups: [""]
  resources: [configmaps, configmaps/history]
  verbs: [get, list, watch, create, update, patch, delete]
"#;

fn raw(server: &TestServer, path: &str) -> Value {
    serde_json::from_str(&server.ok(&["get", "--raw", path])).unwrap()
}

fn item_names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Five ConfigMaps, the revision that holds them, then all changed or deleted: kubectl reads
/// them at that revision, whole and page by page. Returns the revision and the names.
async fn point_in_time(server: &TestServer) -> (String, Vec<String>) {
    let names: Vec<String> = (0..5).map(|i| format!("cm-{i}")).collect();
    for name in &names {
        server.ok(&["-n", NS, "create", "configmap", name, "--from-literal=k=old"]);
    }
    let list = raw(server, &format!("/api/v1/namespaces/{NS}/configmaps"));
    let at = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    for name in &names[..3] {
        server.ok(&["-n", NS, "patch", "configmap", name, "-p", r#"{"data":{"k":"new"}}"#]);
    }
    for name in &names[3..] {
        server.ok(&["-n", NS, "delete", "configmap", name]);
    }
    server.ok(&["-n", NS, "create", "configmap", "later"]);

    let exact = format!("resourceVersion={at}&resourceVersionMatch=Exact");
    let then = raw(server, &format!("/api/v1/namespaces/{NS}/configmaps?{exact}"));
    let mine: Vec<String> =
        item_names(&then).into_iter().filter(|n| n.starts_with("cm-")).collect();
    assert_eq!(mine, names);
    assert!(
        then["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["metadata"]["name"] == "kube-root-ca.crt" || i["data"]["k"] == "old"),
        "{then}"
    );
    assert_eq!(then["metadata"]["resourceVersion"], at.as_str());
    let selected = raw(
        server,
        &format!("/api/v1/namespaces/{NS}/configmaps?{exact}&fieldSelector=metadata.name%3Dcm-4"),
    );
    assert_eq!(item_names(&selected), ["cm-4"]);

    // client-go's pager: limit, then continue until none, every page at the first's revision.
    let mut paged = Vec::new();
    let mut path = format!("/api/v1/namespaces/{NS}/configmaps?{exact}&limit=2");
    loop {
        let page = raw(server, &path);
        assert_eq!(page["metadata"]["resourceVersion"], at.as_str());
        paged.extend(item_names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                path = format!("/api/v1/namespaces/{NS}/configmaps?limit=2&continue={token}")
            }
            None => break,
        }
    }
    assert_eq!(paged, item_names(&then));

    // A revision past the head: kube's 504.
    let err = server.fails(&["get", "--raw", &format!("/api/v1/namespaces/{NS}/configmaps?resourceVersion=999999999&resourceVersionMatch=Exact")]);
    assert!(err.contains("Too large resource version"), "{err}");
    (at, names)
}

async fn kube_rs_reads_the_past(server: &TestServer, at: &str, names: &[String]) {
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig).unwrap();
    let config =
        Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    let client = Client::try_from(config).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, NS);
    let past = ListParams::default().at(at).matching(VersionMatch::Exact);
    let list = cms.list(&past).await.unwrap();
    assert_eq!(list.metadata.resource_version.as_deref(), Some(at));
    let got: Vec<String> =
        list.items.iter().map(|cm| cm.name_any()).filter(|n| n.starts_with("cm-")).collect();
    assert_eq!(got, names);
    assert!(list.items.iter().filter(|cm| cm.name_any().starts_with("cm-")).all(|cm| {
        cm.data.as_ref().and_then(|d| d.get("k")).map(String::as_str) == Some("old")
    }));
    // Paged at the revision.
    let mut paged = Vec::new();
    let mut params = past.clone().limit(2);
    loop {
        let page = cms.list(&params).await.unwrap();
        paged.extend(page.items.iter().map(|cm| cm.name_any()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = ListParams::default().limit(2).continue_token(&token),
            None => break,
        }
    }
    let all: Vec<String> = list.items.iter().map(|cm| cm.name_any()).collect();
    assert_eq!(paged, all);
}

const WIDGETS: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
"#;

/// Custom resources read at a revision as built-ins are: labels selected, pages continued.
async fn custom_resources_at_a_revision(server: &TestServer) {
    server.apply_crd(WIDGETS, "widgets.example.com").await;
    let widget = |name: &str, size: u32, color: &str| {
        format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: {name}, namespace: {NS}, labels: {{color: {color}}}}}\nspec: {{size: {size}}}\n"
        )
    };
    for (name, color) in [("w1", "red"), ("w2", "blue"), ("w3", "red")] {
        server.ok_stdin(&["apply", "-f", "-"], &widget(name, 1, color));
    }
    let path = format!("/apis/example.com/v1/namespaces/{NS}/widgets");
    let at = raw(server, &path)["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    server.ok_stdin(&["apply", "-f", "-"], &widget("w1", 9, "red"));
    server.ok(&["-n", NS, "delete", "widget", "w3"]);

    let exact = format!("resourceVersion={at}&resourceVersionMatch=Exact");
    let then = raw(server, &format!("{path}?{exact}"));
    assert_eq!(item_names(&then), ["w1", "w2", "w3"]);
    assert_eq!(then["items"][0]["spec"]["size"], 1);
    let red = raw(server, &format!("{path}?{exact}&labelSelector=color%3Dred"));
    assert_eq!(item_names(&red), ["w1", "w3"]);
    let first = raw(server, &format!("{path}?{exact}&limit=2"));
    assert_eq!(item_names(&first), ["w1", "w2"]);
    let token = first["metadata"]["continue"].as_str().expect("a continue token");
    let rest = raw(server, &format!("{path}?limit=2&continue={token}"));
    assert_eq!(item_names(&rest), ["w3"]);
    assert_eq!(rest["metadata"]["resourceVersion"], at.as_str());
}

async fn log_position(server: &TestServer) {
    let now = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
    let position = raw(server, &format!("{LEDGER}/logpositions?time={now}"));
    assert_eq!(position["kind"], "LogPosition");
    let revision: i64 = position["revision"].as_str().unwrap().parse().unwrap();
    let oldest: i64 = position["oldestRevision"].as_str().unwrap().parse().unwrap();
    assert!(oldest <= revision, "{position}");
    let err = server.fails(&["get", "--raw", &format!("{LEDGER}/logpositions?time=not-a-time")]);
    assert!(err.contains("invalid time"), "{err}");
    // kubectl api-resources lists the group's resources.
    let listed = server.ok(&["api-resources", "--api-group=ledger.kube-ledger.io", "-o", "name"]);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [
            "deletedobjects.ledger.kube-ledger.io",
            "logpositions.ledger.kube-ledger.io",
            "replay.ledger.kube-ledger.io"
        ]
    );
}

/// Alice deletes a ConfigMap with her token: the list says she did, and what it held.
async fn deleted_objects(server: &TestServer, since: &str) {
    server.ok(&["-n", NS, "create", "configmap", "doomed", "--from-literal=last=state"]);
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));
    let out = server.kubectl_as(&alice, &["-n", NS, "delete", "configmap", "doomed"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = raw(
        server,
        &format!("{LEDGER}/namespaces/{NS}/deletedobjects?since={since}&resource=configmaps"),
    );
    let items = list["items"].as_array().unwrap();
    let doomed = items.iter().find(|i| i["name"] == "doomed").expect("doomed in the list");
    assert_eq!(doomed["user"]["username"], "alice");
    assert_eq!(doomed["verb"], "delete");
    assert!(doomed["userAgent"].as_str().unwrap().starts_with("kubectl/"), "{doomed}");
    assert_eq!(doomed["object"]["data"], json!({"last": "state"}));
    let deleted: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(deleted, ["cm-3", "cm-4", "doomed"]);
}

/// A client with the admin certificate and no pooled connection: the server closes a
/// connection idle past its header timeout, and the shared client's may have been idle since
/// start.
fn fresh_client(server: &TestServer) -> reqwest::Client {
    server.client_builder().build().unwrap()
}

/// Every event of the namespace's ConfigMaps over raw HTTPS, as JSON lines and as audit events.
async fn replay(server: &TestServer) {
    let http = fresh_client(server);
    let url = format!("{}{LEDGER}/replay?resource=configmaps&namespace={NS}", server.url);
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jsonl");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of = |name: &str| {
        lines
            .iter()
            .filter(|l| l["name"] == name)
            .map(|l| l["type"].as_str().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("cm-0"), ["ADDED", "MODIFIED"]);
    assert_eq!(of("doomed"), ["ADDED", "DELETED"]);
    let revisions: Vec<i64> =
        lines.iter().map(|l| l["revision"].as_str().unwrap().parse().unwrap()).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]));

    let audit = http.get(format!("{url}&format=audit")).send().await.unwrap().text().await.unwrap();
    let events: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), lines.len());
    let delete = events
        .iter()
        .find(|e| e["objectRef"]["name"] == "doomed" && e["verb"] == "delete")
        .unwrap();
    assert_eq!(delete["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(delete["level"], "RequestResponse");
    assert_eq!(delete["user"]["username"], "alice");
    assert_eq!(delete["sourceIPs"], json!(["127.0.0.1"]));
    assert_eq!(delete["responseObject"]["data"], json!({"last": "state"}));
    assert_eq!(delete["requestURI"], format!("/api/v1/namespaces/{NS}/configmaps/doomed"));

    // Bad ranges.
    let bad = send(http.get(format!("{url}&from=9&to=3")), 400).await;
    assert_eq!(bad["reason"], "BadRequest");
    let future = send(http.get(format!("{url}&to=999999999")), 504).await;
    assert_eq!(future["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
}

/// A replay of many events, of which the client reads one chunk and hangs up: the server goes
/// on serving (and a later replay of the same range is whole).
async fn a_client_that_goes_away(server: &TestServer) {
    let http = fresh_client(server);
    let big = "x".repeat(2000);
    let manifest: String = (0..100)
        .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bulk-{i}, namespace: {NS}}}\ndata: {{v: {big}}}\n---\n"))
        .collect();
    server.ok_stdin(&["apply", "-f", "-"], &manifest);
    let url = format!("{}{LEDGER}/replay?resource=configmaps&namespace={NS}", server.url);
    let response = http.get(&url).send().await.unwrap();
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(body);
    let whole = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(whole.lines().filter(|l| l.contains("\"bulk-")).count() >= 100);
    server.ok(&["get", "--raw", "/readyz"]);
}

/// Alice may read ConfigMaps' history, not Secrets': replaying Secrets is a 403, and a deleted
/// Secret is not in her list while it is in the admin's.
async fn rbac(server: &TestServer, since: &str) {
    server.ok(&["-n", NS, "create", "secret", "generic", "hidden", "--from-literal=p=w"]);
    server.ok(&["-n", NS, "delete", "secret", "hidden"]);
    let alice = server.token_client(ALICE_TOKEN);
    let refused = send(
        alice.get(format!("{}{LEDGER}/replay?resource=secrets&namespace={NS}", server.url)),
        403,
    )
    .await;
    assert_eq!(
        refused["message"],
        format!(
            "secrets is forbidden: User \"alice\" cannot get resource \"secrets/history\" in API group \"\" in the namespace \"{NS}\""
        )
    );
    send(alice.get(format!("{}{LEDGER}/replay", server.url)), 403).await;
    let mine = send(
        alice.get(format!("{}{LEDGER}/namespaces/{NS}/deletedobjects?since={since}", server.url)),
        200,
    )
    .await;
    let kinds: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["resource"]["resource"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == "configmaps"), "{mine}");
    let admin = raw(server, &format!("{LEDGER}/namespaces/{NS}/deletedobjects?since={since}"));
    assert!(admin["items"].as_array().unwrap().iter().any(|i| i["name"] == "hidden"), "{admin}");
}
