//! Object history on the real binary, over HTTPS, on both backends: two users (static tokens)
//! change a ConfigMap and a Deployment several times, one deletes the ConfigMap; history (who,
//! verb, fieldManager), diff, blame and restore (recorded as a restore from R) read through
//! `kubectl get --raw` (kubectl 1.32) and raw HTTPS; RBAC: a user bound to `view` reads a
//! ConfigMap's history but not a Secret's, and cannot restore.

mod support;

use serde_json::{Value, json};
use support::server::TestServer;

const TOKENS: &str = "alice-token,alice,1001,dev\nbob-token,bob,1002,ops\nvera-token,vera,1003,\n";
const CMS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const MERGE: &str = "application/merge-patch+json";

async fn start(etcd: bool) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(&tokens, TOKENS).unwrap();
    let flag = format!("--token-auth-file={}", tokens.display());
    let server = if etcd {
        TestServer::on_etcd_with(&[&flag]).await
    } else {
        TestServer::embedded_with(&[&flag]).await
    };
    (server, dir)
}

/// Sends `body` (JSON, or a merge patch for PATCH) as the client; the status and JSON answer.
async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method.clone(), url);
    if let Some(body) = body {
        let content_type =
            if method == reqwest::Method::PATCH { MERGE } else { "application/json" };
        request = request.header("content-type", content_type).body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn raw(server: &TestServer, path: &str) -> Value {
    let out = server.ok(&["get", "--raw", path]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{path}: {e}: {out}"))
}

fn rv(object: &Value) -> String {
    object["metadata"]["resourceVersion"].as_str().unwrap().to_owned()
}

async fn scenario(etcd: bool) {
    let (server, _tokens) = start(etcd).await;
    server.grant("alice", "edit", "update", "configmaps").await;
    server.grant("bob", "edit", "update", "deployments.apps").await;
    server.grant("vera", "view", "get", "configmaps").await;
    let alice = server.token_client("alice-token");
    let bob = server.token_client("bob-token");
    let url = |path: &str| format!("{}{path}", server.url);
    use reqwest::Method;

    // The ConfigMap: alice creates, bob patches (his own field manager), alice updates, bob
    // deletes.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                    "data": {"mode": "a", "size": "1"}});
    let (code, created) =
        send(&alice, Method::POST, url(&format!("{CMS}?fieldManager=alice-tool")), Some(cm)).await;
    assert_eq!(code, 201, "{created}");
    let (code, patched) = send(
        &bob,
        Method::PATCH,
        url(&format!("{CMS}/settings?fieldManager=bob-tool")),
        Some(json!({"data": {"mode": "b"}})),
    )
    .await;
    assert_eq!(code, 200, "{patched}");
    let mut object = patched.clone();
    object["data"]["size"] = "2".into();
    let (code, updated) =
        send(&alice, Method::PUT, url(&format!("{CMS}/settings")), Some(object)).await;
    assert_eq!(code, 200, "{updated}");
    let (code, deleted) = send(&bob, Method::DELETE, url(&format!("{CMS}/settings")), None).await;
    assert_eq!(code, 200, "{deleted}");

    // History through kubectl: who, verb, field manager, oldest first; the deleted object too.
    let history = raw(&server, &format!("{CMS}/settings/history"));
    assert_eq!(history["kind"], "RevisionList");
    let who: Vec<(String, String, String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&i["type"]),
                text(&i["user"]["username"]),
                text(&i["verb"]),
                text(&i["fieldManager"]),
            )
        })
        .collect();
    let row = |t: &str, u: &str, v: &str, m: &str| (t.into(), u.into(), v.into(), m.into());
    assert_eq!(who[0], row("ADDED", "alice", "create", "alice-tool"));
    assert_eq!(who[1], row("MODIFIED", "bob", "patch", "bob-tool"));
    assert_eq!(
        (who[2].0.as_str(), who[2].1.as_str(), who[2].2.as_str()),
        ("MODIFIED", "alice", "update")
    );
    assert_eq!(
        (who[3].0.as_str(), who[3].1.as_str(), who[3].2.as_str()),
        ("DELETED", "bob", "delete")
    );
    assert_eq!(who.len(), 4);
    let item = &history["items"][0];
    assert!(item["user"]["groups"].as_array().unwrap().contains(&json!("dev")), "{item}");
    assert_eq!(item["sourceIP"], "127.0.0.1");
    assert!(!item["auditID"].as_str().unwrap().is_empty());
    let first = raw(&server, &format!("{CMS}/settings/history?limit=1"));
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert!(first["metadata"]["continue"].is_string());

    // Diff and one revision.
    let (r1, r2) = (rv(&created), rv(&patched));
    let diff = raw(&server, &format!("{CMS}/settings/history/diff?from={r1}&to={r2}"));
    assert!(
        diff["patch"]
            .as_array()
            .unwrap()
            .contains(&json!({"op": "replace", "path": "/data/mode", "value": "b"})),
        "{diff}"
    );
    assert!(diff["unified"].as_str().unwrap().contains("\n-  mode: a\n+  mode: b\n"), "{diff}");
    let one = raw(&server, &format!("{CMS}/settings/history/{r2}"));
    assert_eq!(
        (one["kind"].as_str(), one["object"]["data"]["mode"].as_str()),
        (Some("Revision"), Some("b"))
    );

    // Restore the deleted ConfigMap as it was at r2, over raw HTTPS: a create, recorded as a
    // restore from r2.
    let restore = url(&format!("{CMS}/settings/history/restore?revision={r2}"));
    let (code, restored) = send(&alice, Method::POST, restore.clone(), None).await;
    assert_eq!(code, 201, "{restored}");
    assert_eq!(restored["data"], json!({"mode": "b", "size": "1"}));
    let live = raw(&server, &format!("{CMS}/settings"));
    assert_eq!(live["data"]["mode"], "b");
    let last = raw(&server, &format!("{CMS}/settings/history/{}", rv(&restored)));
    assert_eq!(
        (last["verb"].as_str(), last["user"]["username"].as_str()),
        (Some("create"), Some("alice"))
    );

    // The Deployment: alice creates, bob scales, alice changes the image; blame names them.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
    let (code, body) = send(&alice, Method::POST, url(DEPLOYMENTS), Some(deployment)).await;
    assert_eq!(code, 201, "{body}");
    let web = url(&format!("{DEPLOYMENTS}/web"));
    let (code, scaled) =
        send(&bob, Method::PATCH, web.clone(), Some(json!({"spec": {"replicas": 3}}))).await;
    assert_eq!(code, 200, "{scaled}");
    let image = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}});
    let (code, body) = send(&alice, Method::PATCH, web.clone(), Some(image)).await;
    assert_eq!(code, 200, "{body}");
    let blame = raw(&server, &format!("{DEPLOYMENTS}/web/history/blame"));
    let field = |path: &str| -> Value {
        blame["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .cloned()
            .unwrap_or_else(|| panic!("{path}: {blame}"))
    };
    assert_eq!(field("/spec/replicas")["user"]["username"], "bob");
    assert_eq!(field("/spec/replicas")["revision"], rv(&scaled).as_str());
    assert_eq!(field("/spec/template/spec/containers/0/image")["user"]["username"], "alice");
    let history = raw(&server, &format!("{DEPLOYMENTS}/web/history"));
    assert_eq!(history["items"].as_array().unwrap().len(), 3);

    // RBAC: vera (view) reads a ConfigMap's history, not a Secret's, and may not restore.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "key"}, "stringData": {"k": "v"}});
    let (code, body) =
        send(&server.http, Method::POST, url("/api/v1/namespaces/default/secrets"), Some(secret))
            .await;
    assert_eq!(code, 201, "{body}");
    let vera_config = server.kubeconfig_with_token("vera", Some("vera-token"));
    let out =
        server.kubectl_as(&vera_config, &["get", "--raw", &format!("{CMS}/settings/history")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = server.kubectl_as(
        &vera_config,
        &["get", "--raw", "/api/v1/namespaces/default/secrets/key/history"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Forbidden") || stderr.contains("forbidden"), "{stderr}");
    let vera = server.token_client("vera-token");
    let (code, body) = send(&vera, Method::POST, restore.clone(), None).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["reason"], "Forbidden");
    // Direct: the Secret's history over HTTPS is kube's 403 naming the subresource.
    let (code, body) =
        send(&vera, Method::GET, url("/api/v1/namespaces/default/secrets/key/history"), None).await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("cannot get resource \"secrets/history\""),
        "{body}"
    );

    // Last, as it needs each backend to store `Provenance.restored_from` (on the embedded
    // store: the storage part of issue 15).
    assert_eq!(last["restoredFrom"], r2.as_str(), "{last}");
}

#[tokio::test]
async fn history_diff_blame_restore_and_rbac_on_the_embedded_store() {
    scenario(false).await;
}

#[tokio::test]
async fn history_diff_blame_restore_and_rbac_on_etcd() {
    scenario(true).await;
}
