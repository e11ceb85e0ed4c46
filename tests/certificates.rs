//! CertificateSigningRequests end to end: through the in-process router under RBAC with the
//! in-process signer (who may request, approve and sign; kube's 403 and 422 answers; the
//! certificate issued for the approved request's subject), and against the real binary with
//! kubectl — a new user added with `kubectl certificate approve` authenticates with the issued
//! certificate (`kubectl auth whoami`).

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use base64::Engine;
use kube_ledger::authn::UserInfo;
use kube_ledger::authz::AuthorizationConfig;
use kube_ledger::filters::Security;
use kube_ledger::pki::CertificateAuthority;
use kube_ledger::pki::x509::CertInfo;
use kube_ledger::server::Server;
use kube_ledger::storage::Storage;
use kube_ledger::storage::embedded::EmbeddedStorage;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use support::router::call_as;
use support::server::TestServer;

const CSRS: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
const CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";

/// A fresh key and a PEM request for `cn` in `groups` (at most two: rcgen keeps one value per
/// attribute type, so the second `O` goes in under its OID as a custom type).
fn key_and_request(cn: &str, groups: &[&str]) -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let types = [rcgen::DnType::OrganizationName, rcgen::DnType::CustomDnType(vec![2, 5, 4, 10])];
    for (group, kind) in groups.iter().zip(types) {
        params.distinguished_name.push(kind, *group);
    }
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    (key, pem)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn csr(name: &str, request_pem: &str) -> Value {
    json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {"request": b64(request_pem), "signerName": CLIENT_SIGNER,
                 "usages": ["digital signature", "client auth"], "expirationSeconds": 3600,
                 "username": "forged", "groups": ["system:masters"]},
    })
}

fn admin() -> UserInfo {
    UserInfo::new("kubernetes-admin", &["system:masters", "system:authenticated"])
}

fn alice() -> UserInfo {
    UserInfo::new("alice", &["developers", "system:authenticated"])
}

/// The router under RBAC, with the signer issuing from a CA of its own.
async fn signing_api() -> (Router, tempfile::TempDir, tokio::sync::watch::Sender<bool>) {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let ca =
        CertificateAuthority::load_or_generate(dir.path(), kube_ledger::pki::unix_now()).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped)
        .await
        .unwrap()
        .with_security(Security::fixed(Security::admin_user()))
        .with_authorization(&AuthorizationConfig::parse("RBAC").unwrap())
        .await
        .unwrap()
        .with_csr_signer(Arc::new(ca));
    (server.router(), dir, stop)
}

/// Retries `check` until it holds (RBAC and the signer follow views); the bound only keeps a
/// broken build from hanging.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never: {what}");
}

fn assert_forbidden(got: &(StatusCode, Value), message: &str) {
    assert_eq!(got.0, StatusCode::FORBIDDEN, "{}", got.1);
    assert_eq!((&got.1["reason"], &got.1["message"]), (&json!("Forbidden"), &json!(message)));
}

#[tokio::test]
async fn a_request_approved_by_an_admin_is_issued_and_only_signers_may_approve_or_sign() {
    let (router, _dir, _stop) = signing_api().await;
    let (admin, alice) = (admin(), alice());
    let as_admin = async |method: Method, uri: &str, body: Option<Value>| {
        call_as(&router, Some(&admin), method, uri, body).await
    };
    // alice may request certificates and write approvals and status, but holds neither
    // `approve` nor `sign` on any signer.
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "csr-writer"},
        "rules": [{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"],
                   "verbs": ["create", "get", "list", "watch"]},
                  {"apiGroups": ["certificates.k8s.io"],
                   "resources": ["certificatesigningrequests/approval", "certificatesigningrequests/status"],
                   "verbs": ["update"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "alice-csr-writer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "csr-writer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]});
    let rbac = "/apis/rbac.authorization.k8s.io/v1";
    assert_eq!(as_admin(Method::POST, &format!("{rbac}/clusterroles"), Some(role)).await.0, 201);
    let bound = as_admin(Method::POST, &format!("{rbac}/clusterrolebindings"), Some(binding)).await;
    assert_eq!(bound.0, StatusCode::CREATED, "{}", bound.1);

    let (_key, request) = key_and_request("bob", &["dev", "ops"]);
    let created = eventually("alice may create CSRs", async || {
        let got =
            call_as(&router, Some(&alice), Method::POST, CSRS, Some(csr("bob", &request))).await;
        (got.0 != StatusCode::FORBIDDEN).then_some(got)
    })
    .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    // The requester is who created it, whatever the body said.
    assert_eq!(created.1["spec"]["username"], "alice");
    assert_eq!(created.1["spec"]["groups"], json!(["developers", "system:authenticated"]));
    assert_eq!(created.1["status"], json!({}));

    let mut approving = created.1.clone();
    approving["status"]["conditions"] =
        json!([{"type": "Approved", "status": "True", "reason": "ByTest", "message": "ok"}]);
    let approval = format!("{CSRS}/bob/approval");
    assert_forbidden(
        &call_as(&router, Some(&alice), Method::PUT, &approval, Some(approving.clone())).await,
        "certificatesigningrequests.certificates.k8s.io \"bob\" is forbidden: user not permitted \
         to approve requests with signerName \"kubernetes.io/kube-apiserver-client\"",
    );
    // A well-formed certificate (validation passes), issued by nobody the server knows.
    let mut forged = created.1.clone();
    let key = rcgen::KeyPair::generate().unwrap();
    let self_signed = rcgen::CertificateParams::default().self_signed(&key).unwrap();
    forged["status"]["certificate"] = json!(b64(self_signed.pem()));
    assert_forbidden(
        &call_as(&router, Some(&alice), Method::PUT, &format!("{CSRS}/bob/status"), Some(forged))
            .await,
        "certificatesigningrequests.certificates.k8s.io \"bob\" is forbidden: user not permitted \
         to sign requests with signerName \"kubernetes.io/kube-apiserver-client\"",
    );

    let approved = as_admin(Method::PUT, &approval, Some(approving)).await;
    assert_eq!(approved.0, StatusCode::OK, "{}", approved.1);
    let condition = &approved.1["status"]["conditions"][0];
    assert_eq!((&condition["type"], &condition["reason"]), (&json!("Approved"), &json!("ByTest")));
    assert!(condition["lastUpdateTime"].is_string(), "{condition}");

    // The signer issues it: a client certificate for the request's subject, for its hour.
    let certificate = eventually("the certificate is issued", async || {
        let (_, got) =
            call_as(&router, Some(&alice), Method::GET, &format!("{CSRS}/bob"), None).await;
        got["status"]["certificate"].as_str().map(str::to_owned)
    })
    .await;
    let pem = base64::engine::general_purpose::STANDARD.decode(certificate).unwrap();
    let der = rustls::pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
    let info = CertInfo::parse(&der).unwrap();
    assert_eq!(info.common_name(), Some("bob"));
    assert_eq!(info.organizations(), ["dev", "ops"]);
    assert_eq!(info.not_after - info.not_before, 3600 + 300);

    // Issued once: nobody rewrites it, not even the admin.
    let (_, mut stored) = as_admin(Method::GET, &format!("{CSRS}/bob"), None).await;
    stored["status"]["certificate"] = json!(b64(&pem[..pem.len() / 2]));
    let again = as_admin(Method::PUT, &format!("{CSRS}/bob/status"), Some(stored)).await;
    assert_eq!(again.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.1);
}

#[tokio::test]
async fn bad_requests_are_refused_with_kubes_codes_and_field_paths() {
    let api = support::router::api().await;
    let admin = admin();
    let post = async |body: Value| {
        call_as(&api.router, Some(&admin), Method::POST, CSRS, Some(body)).await
    };

    let mut bad = csr("bad", "not a request");
    bad["spec"]["usages"] = json!(["client auth", "flying"]);
    bad["spec"]["signerName"] = json!("nodomain");
    bad["spec"]["expirationSeconds"] = json!(60);
    let got = post(bad).await;
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", got.1);
    assert_eq!(got.1["reason"], "Invalid");
    let fields: Vec<&str> = got.1["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["spec.request", "spec.usages[1]", "spec.signerName", "spec.expirationSeconds"]
    );
    assert!(
        got.1["message"].as_str().unwrap().starts_with(
            "CertificateSigningRequest.certificates.k8s.io \"bad\" is invalid: [spec.request: Invalid value: []byte{"
        ),
        "{}",
        got.1
    );
    let mut no_usages = csr("bad", &key_and_request("x", &[]).1);
    no_usages["spec"]["usages"] = json!([]);
    let got = post(no_usages).await;
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", got.1);
    assert_eq!(
        got.1["details"]["causes"],
        json!([{"reason": "FieldValueRequired",
        "message": "Required value", "field": "spec.usages"}])
    );

    // CertificateSubjectRestriction: no system:masters from the apiserver-client signer.
    let got = post(csr("root", &key_and_request("root", &["system:masters"]).1)).await;
    assert_forbidden(
        &got,
        "certificatesigningrequests.certificates.k8s.io \"root\" is forbidden: use of \
         kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed",
    );
    assert_eq!(api.get(&format!("{CSRS}/root")).await.0, StatusCode::NOT_FOUND);

    // Approved and Denied at once; then an approval taken back.
    let created = post(csr("carol", &key_and_request("carol", &[]).1)).await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let approval = format!("{CSRS}/carol/approval");
    let put = async |conditions: Value| {
        let (_, mut current) = api.get(&format!("{CSRS}/carol")).await;
        current["status"]["conditions"] = conditions;
        call_as(&api.router, Some(&admin), Method::PUT, &approval, Some(current)).await
    };
    let both =
        put(json!([{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]))
            .await;
    assert_eq!(both.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", both.1);
    assert_eq!(both.1["details"]["causes"][0]["field"], "status.conditions[1].type");
    assert_eq!(put(json!([{"type": "Approved", "status": "True"}])).await.0, StatusCode::OK);
    let withdrawn = put(json!([])).await;
    assert_eq!(withdrawn.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", withdrawn.1);
    assert_eq!(
        withdrawn.1["details"]["causes"][0]["message"],
        "Forbidden: updates may not remove a condition of type \"Approved\""
    );
    // The spec never changes: a PUT keeps the stored one.
    let (_, mut current) = api.get(&format!("{CSRS}/carol")).await;
    current["spec"]["usages"] = json!(["server auth"]);
    let put =
        call_as(&api.router, Some(&admin), Method::PUT, &format!("{CSRS}/carol"), Some(current))
            .await;
    assert_eq!(put.0, StatusCode::OK, "{}", put.1);
    assert_eq!(put.1["spec"]["usages"], json!(["digital signature", "client auth"]));
    // No DELETE of a subresource.
    let deleted = call_as(&api.router, Some(&admin), Method::DELETE, &approval, None).await;
    assert_eq!(deleted.0, StatusCode::METHOD_NOT_ALLOWED, "{}", deleted.1);

    // Discovery: `csr`, cluster-scoped, with its approval, history and status subresources.
    let (_, list) = api.get("/apis/certificates.k8s.io/v1").await;
    let names: Vec<&str> =
        list["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "certificatesigningrequests",
            "certificatesigningrequests/approval",
            "certificatesigningrequests/history",
            "certificatesigningrequests/status"
        ]
    );
    assert_eq!(list["resources"][0]["shortNames"], json!(["csr"]));
    assert_eq!(list["resources"][0]["namespaced"], false);
}

/// A kubeconfig for `server` whose user presents `cert_pem` and `key_pem`.
fn client_kubeconfig(
    server: &TestServer,
    name: &str,
    cert_pem: &[u8],
    key_pem: &str,
) -> std::path::PathBuf {
    let ca = b64(server.credentials.ca_pem.as_deref().expect("an HTTPS server"));
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    \
         certificate-authority-data: {ca}\nusers:\n- name: u\n  user:\n    \
         client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: x\n  \
         context: {{cluster: c, user: u}}\ncurrent-context: x\n",
        server.url,
        b64(cert_pem),
        b64(key_pem),
    );
    let path = server.dir.path().join(format!("kubeconfig-{name}"));
    std::fs::write(&path, text).unwrap();
    path
}

fn manifest(name: &str, request_pem: &str) -> String {
    format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: {name}\n\
         spec:\n  request: {}\n  signerName: {CLIENT_SIGNER}\n  expirationSeconds: 86400\n  \
         usages: [client auth]\n",
        b64(request_pem)
    )
}

#[tokio::test]
async fn kubectl_adds_a_user_by_approving_a_csr() {
    let server = TestServer::embedded().await;
    let (key, request) = key_and_request("carol", &["qa"]);
    server.ok_stdin(&["create", "-f", "-"], &manifest("carol", &request));
    let table = server.ok(&["get", "csr"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        (row[0], row[2], row[3], row[4], row[5]),
        ("carol", CLIENT_SIGNER, "kubernetes-admin", "24h", "Pending")
    );

    let approved = server.ok(&["certificate", "approve", "carol"]);
    assert_eq!(approved.trim(), "certificatesigningrequest.certificates.k8s.io/carol approved");
    let mut certificate = String::new();
    for _ in 0..200 {
        certificate = server.ok(&["get", "csr", "carol", "-o", "jsonpath={.status.certificate}"]);
        if !certificate.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!certificate.is_empty(), "the approved request was never issued");
    let row = server.ok(&["get", "csr", "carol", "--no-headers"]);
    assert!(row.trim_end().ends_with("Approved,Issued"), "{row}");

    // The issued certificate is a credential: carol in qa.
    let cert_pem = base64::engine::general_purpose::STANDARD.decode(certificate.trim()).unwrap();
    let kubeconfig = client_kubeconfig(&server, "carol", &cert_pem, &key.serialize_pem());
    let out = server.kubectl_as(&kubeconfig, &["auth", "whoami", "-o", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let review: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(review["status"]["userInfo"]["username"], "carol", "{review}");
    assert_eq!(review["status"]["userInfo"]["groups"], json!(["qa", "system:authenticated"]));

    // A request for system:masters is refused at once.
    let (_, masters) = key_and_request("mallory", &["system:masters"]);
    let out = server.kubectl_with(
        support::server::KUBECTL,
        &["create", "-f", "-"],
        Some(&manifest("mallory", &masters)),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"),
        "{stderr}"
    );

    // A user who may update approvals but holds no `approve` on the signer is refused.
    let (_, dave) = key_and_request("dave", &[]);
    server.ok_stdin(&["create", "-f", "-"], &manifest("dave", &dave));
    server.ok(&[
        "create",
        "clusterrole",
        "csr-approval-writer",
        "--verb=get,list,update",
        "--resource=certificatesigningrequests,certificatesigningrequests/approval",
    ]);
    server
        .grant("alice", "csr-approval-writer", "update", "certificatesigningrequests/approval")
        .await;
    let stderr = server.fails(&["certificate", "approve", "dave", "--as=alice"]);
    assert!(
        stderr.contains("user not permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client\""),
        "{stderr}"
    );
    let row = server.ok(&["get", "csr", "dave", "--no-headers"]);
    assert!(row.trim_end().ends_with("Pending"), "{row}");

    // An invalid request: kube's 422 with its field path.
    let mut bad = manifest("bad", "garbage");
    bad = bad.replace("expirationSeconds: 86400", "expirationSeconds: 60");
    let out = server.kubectl_with(support::server::KUBECTL, &["create", "-f", "-"], Some(&bad));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is invalid"), "{stderr}");
    assert!(stderr.contains("spec.expirationSeconds: Invalid value: 60"), "{stderr}");
}
