//! ServiceAccounts as kube runs them: every namespace's `default` account and `kube-root-ca.crt`
//! ConfigMap (kube-controller-manager's controllers, in-process), and the ServiceAccount and
//! DefaultTolerationSeconds admission plugins on pods — through the router in-process, and
//! through the real binary with kubectl.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use kube_ledger::admission::default_toleration_seconds::DefaultTolerationSeconds;
use kube_ledger::filters::Security;
use kube_ledger::server::{AdmissionOptions, Server};
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use serde_json::{Value, json};
use support::router::{Api, api, assert_status, call_as};
use support::server::TestServer;

const TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "app", "image": "nginx"}]);
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

/// GETs `uri` until it answers 200 (a bounded number of times); the object.
async fn eventually(api: &Api, uri: &str) -> Value {
    for _ in 0..400 {
        let (status, body) = api.get(uri).await;
        if status == StatusCode::OK {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{uri} never appeared");
}

#[tokio::test]
async fn pods_run_as_the_default_account_of_a_new_namespace_with_its_token_volume() {
    let api = api().await;
    // The built-in namespaces have theirs as soon as the server is up.
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let (status, sa) =
            api.get(&format!("/api/v1/namespaces/{ns}/serviceaccounts/default")).await;
        assert_eq!(status, StatusCode::OK, "{ns}: {sa}");
    }
    let (status, _) = api.post("/api/v1/namespaces", json!({"metadata": {"name": "team"}})).await;
    assert_eq!(status, StatusCode::CREATED);
    eventually(&api, "/api/v1/namespaces/team/serviceaccounts/default").await;

    let (status, created) = api.post("/api/v1/namespaces/team/pods", pod("web", json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let spec = &created["spec"];
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    let volume = &spec["volumes"][0];
    let volume_name = volume["name"].as_str().unwrap();
    let suffix = volume_name.strip_prefix("kube-api-access-").unwrap();
    assert_eq!(suffix.len(), 5, "{volume_name}");
    assert!(suffix.bytes().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)), "{suffix}");
    assert_eq!(volume["projected"]["defaultMode"], 420);
    let sources = &volume["projected"]["sources"];
    assert_eq!(
        sources[0]["serviceAccountToken"],
        json!({"expirationSeconds": 3607, "path": "token"})
    );
    assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
    assert_eq!(
        sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(
        spec["containers"][0]["volumeMounts"],
        json!([{"name": volume_name, "readOnly": true, "mountPath": TOKEN_PATH}])
    );
    let keys: Vec<&str> = spec["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]);
    assert!(spec["tolerations"].as_array().unwrap().iter().all(|t| t["tolerationSeconds"] == 300));

    // Deleted, the account comes back; a pod created meanwhile waits for it rather than failing.
    let (status, _) = api.delete("/api/v1/namespaces/team/serviceaccounts/default").await;
    assert_eq!(status, StatusCode::OK);
    let (status, created) = api.post("/api/v1/namespaces/team/pods", pod("again", json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test]
async fn a_pod_naming_a_missing_account_is_refused_and_nothing_is_stored() {
    let api = api().await;
    let body = pod("orphan", json!({"serviceAccountName": "ghost"}));
    let refused = api.post("/api/v1/namespaces/default/pods", body).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "pods \"orphan\" is forbidden: error looking up service account default/ghost: \
         serviceaccount \"ghost\" not found"
    );
    let (status, _) = api.get("/api/v1/namespaces/default/pods/orphan").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // generateName: the message has no name yet, as kube's.
    let mut unnamed = pod("", json!({"serviceAccountName": "ghost"}));
    unnamed["metadata"] = json!({"generateName": "web-"});
    let refused = api.post("/api/v1/namespaces/default/pods", unnamed).await;
    assert_eq!(
        refused.1["message"],
        "pods is forbidden: error looking up service account default/ghost: serviceaccount \
         \"ghost\" not found"
    );

    // Once the account exists, the pod is admitted; automount off on the account: no volume.
    let account = json!({"metadata": {"name": "ghost"}, "automountServiceAccountToken": false});
    let (status, _) = api.post("/api/v1/namespaces/default/serviceaccounts", account).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = pod("orphan", json!({"serviceAccountName": "ghost"}));
    let (status, created) = api.post("/api/v1/namespaces/default/pods", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["spec"].get("volumes").is_none(), "{created}");
}

#[tokio::test]
async fn mountable_secrets_are_enforced_for_an_annotated_account() {
    let api = api().await;
    let account = json!({
        "metadata": {"name": "strict",
                     "annotations": {"kubernetes.io/enforce-mountable-secrets": "true"}},
        "secrets": [{"name": "allowed"}],
    });
    let (status, _) = api.post("/api/v1/namespaces/default/serviceaccounts", account).await;
    assert_eq!(status, StatusCode::CREATED);
    let volumes = |secret: &str| {
        json!({"serviceAccountName": "strict",
               "volumes": [{"name": "s", "secret": {"secretName": secret}}]})
    };
    let refused = api.post("/api/v1/namespaces/default/pods", pod("p", volumes("other"))).await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "pods \"p\" is forbidden: volume with secret.secretName=\"other\" is not allowed because \
         service account strict does not reference that secret"
    );
    let (status, _) =
        api.post("/api/v1/namespaces/default/pods", pod("p", volumes("allowed"))).await;
    assert_eq!(status, StatusCode::CREATED);
}

/// A server like `support::router::api` with a root CA and toleration seconds of its own.
async fn configured_router(
    ca: &str,
) -> (axum::Router, tempfile::TempDir, tokio::sync::watch::Sender<bool>) {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let options = AdmissionOptions {
        default_toleration_seconds: DefaultTolerationSeconds {
            not_ready_seconds: 30,
            unreachable_seconds: 60,
        },
        ..AdmissionOptions::default()
    };
    let server = Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped)
        .await
        .unwrap()
        .with_security(Security::fixed(Security::admin_user()))
        .with_admission_options(options)
        .with_root_ca(ca.to_owned())
        .await
        .unwrap();
    (server.router(), dir, stop)
}

#[tokio::test]
async fn the_root_ca_is_published_everywhere_and_tolerations_follow_the_options() {
    let ca = "-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n";
    let (router, _dir, _stop) = configured_router(ca).await;
    let cm_uri = "/api/v1/namespaces/kube-public/configmaps/kube-root-ca.crt";
    let (status, cm) = call_as(&router, None, Method::GET, cm_uri, None).await;
    assert_eq!(status, StatusCode::OK, "{cm}");
    assert_eq!(cm["data"], json!({"ca.crt": ca}));
    assert_eq!(
        cm["metadata"]["annotations"]["kubernetes.io/description"],
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal \
         endpoints such as the internal service IP or kubernetes.default.svc. No other usage is \
         guaranteed across distributions of Kubernetes clusters."
    );

    let pods = "/api/v1/namespaces/default/pods";
    let (status, created) =
        call_as(&router, None, Method::POST, pods, Some(pod("p", json!({})))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let seconds: Vec<&Value> = created["spec"]["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["tolerationSeconds"])
        .collect();
    assert_eq!(seconds, [&json!(30), &json!(60)]);
}

/// Polls kubectl until it succeeds (a bounded number of times); its output.
async fn kubectl_until_ok(server: &TestServer, args: &[&str]) -> String {
    for _ in 0..200 {
        let out = server.kubectl(args);
        if out.status.success() {
            return String::from_utf8(out.stdout).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("kubectl {args:?} never succeeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_sees_the_namespace_objects_and_admitted_pods() {
    let server = TestServer::embedded_with(&["--default-unreachable-toleration-seconds=200"]).await;
    server.ok(&["create", "namespace", "x"]);
    let sa = kubectl_until_ok(&server, &["get", "sa", "default", "-n", "x"]).await;
    assert!(sa.lines().nth(1).is_some_and(|l| l.starts_with("default ")), "{sa}");
    let cm = kubectl_until_ok(&server, &["get", "cm", "kube-root-ca.crt", "-n", "x", "-o", "json"])
        .await;
    let cm: Value = serde_json::from_str(&cm).unwrap();
    // The CA the kubeconfig trusts, which signed the serving certificate.
    assert_eq!(cm["data"]["ca.crt"].as_str(), server.credentials.ca_pem.as_deref());

    server.ok(&["run", "web", "--image=nginx", "-n", "x"]);
    let pod: Value =
        serde_json::from_str(&server.ok(&["get", "pod", "web", "-n", "x", "-o", "json"])).unwrap();
    let spec = &pod["spec"];
    assert_eq!(spec["serviceAccountName"], "default");
    assert!(spec["volumes"][0]["name"].as_str().unwrap().starts_with("kube-api-access-"), "{spec}");
    assert_eq!(spec["containers"][0]["volumeMounts"][0]["mountPath"], TOKEN_PATH);
    assert_eq!(spec["containers"][0]["volumeMounts"][0]["readOnly"], true);
    let tolerations = spec["tolerations"].as_array().unwrap();
    assert_eq!(tolerations[0]["key"], "node.kubernetes.io/not-ready");
    assert_eq!(tolerations[0]["tolerationSeconds"], 300);
    assert_eq!(tolerations[1]["key"], "node.kubernetes.io/unreachable");
    assert_eq!(tolerations[1]["tolerationSeconds"], 200);

    let overrides = r#"--overrides={"apiVersion":"v1","spec":{"serviceAccountName":"ghost"}}"#;
    let err = server.fails(&["run", "bad", "--image=nginx", "-n", "x", overrides]);
    assert!(
        err.contains(
            "Error from server (Forbidden): pods \"bad\" is forbidden: error looking up service \
             account x/ghost: serviceaccount \"ghost\" not found"
        ),
        "{err}"
    );

    // Deleted, both come back.
    server.ok(&["delete", "sa", "default", "-n", "x"]);
    server.ok(&["delete", "cm", "kube-root-ca.crt", "-n", "x"]);
    kubectl_until_ok(&server, &["get", "sa", "default", "-n", "x"]).await;
    kubectl_until_ok(&server, &["get", "cm", "kube-root-ca.crt", "-n", "x"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn root_ca_file_is_what_the_config_map_publishes() {
    let (_, ca) = support::tls::foreign_identity("nobody", &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("root-ca.crt");
    std::fs::write(&file, &ca).unwrap();
    let flag = format!("--root-ca-file={}", file.display());
    let server = TestServer::embedded_with(&[&flag]).await;
    let cm = server.ok(&["get", "cm", "kube-root-ca.crt", "-n", "default", "-o", "json"]);
    let cm: Value = serde_json::from_str(&cm).unwrap();
    assert_eq!(cm["data"]["ca.crt"], ca);
}
