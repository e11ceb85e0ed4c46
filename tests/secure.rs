//! The secure default, on the real binary with real clients: HTTPS with the certificates it
//! generates (HTTP/2 through ALPN, HTTP/1.1, plain HTTP refused), reused across restarts; and
//! authentication as kube-apiserver's — the admin client certificate of the written kubeconfig,
//! static tokens (`--token-auth-file`), ServiceAccount tokens signed with the server's key (dead
//! with their ServiceAccount), anonymous requests (`--anonymous-auth`), `--client-ca-file`, and
//! a 401 `Unauthorized` Status for every credential that does not authenticate.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kube_ledger::authn::DEFAULT_SERVICE_ACCOUNT_ISSUER;
use kube_ledger::authn::jwt::SigningKey;
use kube_ledger::authn::serviceaccount::{ObjectRef, TokenIssuer, TokenRequest};
use serde_json::Value;
use support::server::{ALICE_TOKEN, TestServer};
use support::tls::{Identity, foreign_identity, plain_client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Asserts a 401 Status as kube-apiserver writes it, saying nothing but "Unauthorized".
async fn assert_unauthorized(response: reqwest::Response) {
    assert_eq!(response.status(), 401);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["kind"], "Status", "{status}");
    assert_eq!(status["status"], "Failure", "{status}");
    assert_eq!(status["reason"], "Unauthorized", "{status}");
    assert_eq!(status["message"], "Unauthorized", "{status}");
    assert_eq!(status["code"], 401, "{status}");
}

/// Asserts that the request authenticated as `user`, whom RBAC grants nothing: a 403 naming
/// the user (a 401 would mean the credential was refused).
async fn assert_forbidden_to(response: reqwest::Response, user: &str) {
    assert_eq!(response.status(), 403);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["reason"], "Forbidden", "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("User \"{user}\" cannot")), "{status}");
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_with_the_admin_certificate_or_a_static_token_and_curl_without_credentials() {
    let server = TestServer::embedded().await;
    let config = std::fs::read_to_string(&server.kubeconfig).unwrap();
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    for field in ["certificate-authority-data", "client-certificate-data", "client-key-data"] {
        assert!(config.contains(field), "{field} missing from the kubeconfig:\n{config}");
    }
    // The written kubeconfig: the admin certificate.
    server.ok(&["create", "configmap", "by-admin", "--from-literal=k=v"]);

    // A static token of --token-auth-file, for a user RBAC lets read configmaps.
    server.grant("alice", "view", "get", "configmaps").await;
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));
    let out = server.kubectl_as(&alice, &["get", "configmap", "by-admin", "-o", "name"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "configmap/by-admin");

    // A token nobody issued.
    let forged = server.kubeconfig_with_token("forged", Some("not-a-token"));
    let out = server.kubectl_as(&forged, &["get", "configmaps"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Unauthorized"), "{}", stderr(&out));

    // No credentials: anonymous, which reaches /version and the health checks. (kubectl asks
    // for a user name and password when its kubeconfig names no credentials: curl it is.)
    for path in ["/version", "/healthz", "/livez", "/readyz"] {
        let (code, body) = curl_anonymously(&server, path);
        assert_eq!(code, "200", "{path}: {body}");
    }
    let anonymous = server.anonymous_client();
    let version = anonymous.get(format!("{}/version", server.url)).send().await.unwrap();
    assert_eq!(version.status(), 200);
}

/// `curl --cacert <the server's CA> <path>` without credentials: the status code and the body.
fn curl_anonymously(server: &TestServer, path: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", "--cacert"])
        .arg(server.dir.path().join("data/pki/ca.crt"))
        .arg(format!("{}{path}", server.url))
        .output()
        .expect("curl runs (apt-get install curl)");
    assert!(out.status.success(), "curl {path}: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_and_untrusted_or_garbage_certificates_are_401() {
    let (foreign, foreign_ca) = foreign_identity("mallory", &["system:masters"]);
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), &foreign_ca).unwrap();
    let server = TestServer::embedded().await;
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url);

    for token in ["nope", "alice-token-but-longer", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"] {
        let response = server.token_client(token).get(&url).send().await.unwrap();
        assert_unauthorized(response).await;
    }
    // A client certificate of a CA the server does not trust: 401, even in system:masters.
    assert_unauthorized(server.identity_client(&foreign).get(&url).send().await.unwrap()).await;
    // A self-signed certificate that is no CA's at all.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["garbage".to_owned()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "garbage");
    let garbage = Identity {
        cert_pem: params.self_signed(&key).unwrap().pem(),
        key_pem: key.serialize_pem(),
    };
    assert_unauthorized(server.identity_client(&garbage).get(&url).send().await.unwrap()).await;
    // The admin certificate works; the static token authenticates (alice, whom RBAC refuses).
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);
    assert_forbidden_to(server.token_client(ALICE_TOKEN).get(&url).send().await.unwrap(), "alice")
        .await;

    // --client-ca-file: that CA's certificates now authenticate.
    let mut server = server;
    let ca_flag = ca_file.path().to_str().unwrap().to_owned();
    server.restart_with(&["--client-ca-file", &ca_flag]).await;
    assert_eq!(server.identity_client(&foreign).get(&url).send().await.unwrap().status(), 200);
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_anonymous_auth_requests_without_credentials_are_401() {
    let server = TestServer::embedded_with(&["--anonymous-auth=false"]).await;
    for path in ["/version", "/api/v1/namespaces"] {
        let response = server.anonymous_client().get(format!("{}{path}", server.url)).send();
        assert_unauthorized(response.await.unwrap()).await;
    }
    let (code, body) = curl_anonymously(&server, "/healthz");
    assert_eq!(code, "401", "{body}");
    assert!(body.contains("\"reason\":\"Unauthorized\""), "{body}");
    let alice = server.token_client(ALICE_TOKEN);
    assert_eq!(alice.get(format!("{}/version", server.url)).send().await.unwrap().status(), 200);
}

/// Signs a token for `default/<name>` with the server's generated key, as TokenRequest would.
fn service_account_token(server: &TestServer, name: &str, uid: &str, now: i64) -> String {
    let key = SigningKey::from_pem_file(&server.dir.path().join("data/pki/sa.key")).unwrap();
    let issuer = TokenIssuer::new(DEFAULT_SERVICE_ACCOUNT_ISSUER.to_owned(), key.into(), None);
    let request = TokenRequest {
        namespace: "default".to_owned(),
        service_account: ObjectRef { name: name.to_owned(), uid: uid.to_owned() },
        audiences: vec![DEFAULT_SERVICE_ACCOUNT_ISSUER.to_owned()],
        expiration_seconds: 3600,
        bound: None,
    };
    issuer.issue(&request, now).unwrap().token
}

#[tokio::test(flavor = "multi_thread")]
async fn service_account_tokens_die_with_their_service_account() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "serviceaccount", "robot"]);
    let uid = server.ok(&["get", "serviceaccount", "robot", "-o", "jsonpath={.metadata.uid}"]);
    let now = kube_ledger::pki::unix_now();
    let token = service_account_token(&server, "robot", &uid, now);
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let robot = server.token_client(&token);
    let user = "system:serviceaccount:default:robot";
    assert_forbidden_to(robot.get(&url).send().await.unwrap(), user).await;

    // Expired, or naming another uid (a ServiceAccount recreated under the same name): 401.
    let expired = service_account_token(&server, "robot", &uid, now - 7200);
    assert_unauthorized(server.token_client(&expired).get(&url).send().await.unwrap()).await;
    let other = service_account_token(&server, "robot", "not-its-uid", now);
    assert_unauthorized(server.token_client(&other).get(&url).send().await.unwrap()).await;

    server.ok(&["delete", "serviceaccount", "robot"]);
    // The view serving the lookup follows the delete within moments.
    let mut last = 0;
    for _ in 0..50 {
        last = robot.get(&url).send().await.unwrap().status().as_u16();
        if last == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, 401, "the deleted ServiceAccount's token still authenticates");
}

#[tokio::test(flavor = "multi_thread")]
async fn http2_is_negotiated_http1_works_and_plain_http_is_refused() {
    let server = TestServer::embedded().await;
    let ca = server.dir.path().join("data/pki/ca.crt");
    let curl = |version: &str| {
        let out = Command::new("curl")
            .args(["-sS", "-v", version, "--cacert"])
            .arg(&ca)
            .arg(format!("{}/version", server.url))
            .output()
            .expect("curl runs (apt-get install curl)");
        assert!(out.status.success(), "curl {version}: {}", stderr(&out));
        (stderr(&out), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (log, body) = curl("--http2");
    assert!(log.contains("ALPN: server accepted h2"), "{log}");
    assert!(log.contains("< HTTP/2 200"), "{log}");
    assert!(body.contains("\"major\""), "{body}");
    let (log, body) = curl("--http1.1");
    assert!(log.contains("ALPN: server accepted http/1.1"), "{log}");
    assert!(log.contains("< HTTP/1.1 200"), "{log}");
    assert!(body.contains("\"major\""), "{body}");

    // Plain HTTP to the TLS port: Go's 400, then the connection is closed.
    let mut stream = tokio::net::TcpStream::connect(server.address()).await.unwrap();
    stream.write_all(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut answer));
    read.await.expect("the server kept the connection open").unwrap();
    assert!(answer.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{answer:?}");
    assert!(answer.contains("Client sent an HTTP request to an HTTPS server."), "{answer:?}");
    let plain = plain_client()
        .get(format!("http://{}/api/v1/namespaces", server.address()))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_and_kubeconfig_are_reused_across_restarts() {
    let mut server = TestServer::embedded().await;
    let pki = server.dir.path().join("data/pki");
    let read = |name: &str| std::fs::read(pki.join(name)).unwrap();
    let names = ["ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "sa.key"];
    let before: Vec<Vec<u8>> = names.iter().map(|n| read(n)).collect();
    let kubeconfig = std::fs::read_to_string(&server.kubeconfig).unwrap();
    let client = server.http.clone();
    server.ok(&["create", "configmap", "kept"]);

    server.restart().await;
    let after: Vec<Vec<u8>> = names.iter().map(|n| read(n)).collect();
    for ((name, a), b) in names.iter().zip(&before).zip(&after) {
        assert!(a == b, "{name} was regenerated");
    }
    assert_eq!(std::fs::read_to_string(&server.kubeconfig).unwrap(), kubeconfig);
    // A client made before the restart still trusts the server and is still admin.
    let url = format!("{}/api/v1/namespaces/default/configmaps/kept", server.url);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    server.ok(&["get", "configmap", "kept"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_is_for_loopback_development_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube-ledger"))
        .args(["--insecure-plain-http", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--insecure-plain-http serves only loopback"),
        "{}",
        stderr(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("KUBECONFIG"));

    let server = TestServer::embedded_with(&["--insecure-plain-http"]).await;
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
    let out = server.kubectl(&["get", "ns", "-o", "name"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Static tokens still authenticate; a bad one is still a 401.
    let url = format!("{}/api/v1/namespaces", server.url);
    let alice = plain_client().get(&url).bearer_auth(ALICE_TOKEN).send().await.unwrap();
    assert_forbidden_to(alice, "alice").await;
    let bad = plain_client().get(&url).bearer_auth("nope").send().await.unwrap();
    assert_unauthorized(bad).await;
}

/// A client certificate for `user` in `groups`, signed by the server's own CA (read from its
/// data directory), valid from the first of January of `not_before` to that of `not_after`.
fn server_signed_identity(
    server: &TestServer,
    user: &str,
    groups: &[&str],
    (not_before, not_after): (i32, i32),
) -> Identity {
    let pki = server.dir.path().join("data/pki");
    let now = kube_ledger::pki::unix_now();
    let ca = kube_ledger::pki::CertificateAuthority::load_or_generate(&pki, now).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, user);
    for group in groups {
        params.distinguished_name.push(rcgen::DnType::OrganizationName, *group);
    }
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = rcgen::date_time_ymd(not_before, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after, 1, 1);
    let cert = ca.sign(&params, &key).unwrap();
    Identity { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}

/// Presents `chain` as its client certificate whatever the server asks (rustls's own
/// configuration would refuse to load a certificate it cannot parse).
#[derive(Debug)]
struct AlwaysPresent(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for AlwaysPresent {
    fn resolve(
        &self,
        _: &[&[u8]],
        _: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A client trusting the server that presents `bytes` as its certificate (with a real key).
fn client_presenting(server: &TestServer, bytes: &[u8]) -> reqwest::Client {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = rustls::crypto::ring::default_provider();
    let key = rcgen::KeyPair::generate().unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap();
    let signer = provider.key_provider.load_private_key(key).unwrap();
    let chain = vec![CertificateDer::from(bytes.to_vec())];
    let certified = Arc::new(rustls::sign::CertifiedKey::new(chain, signer));
    let mut roots = rustls::RootCertStore::empty();
    let ca = server.credentials.ca_pem.as_deref().unwrap();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(AlwaysPresent(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder().tls_backend_preconfigured(config).build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_future_and_unparsable_client_certificates_are_refused_and_write_nothing() {
    let server = TestServer::embedded().await;
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "by-mallory"}});
    // Signed by the server's own CA, in system:masters, but out of its validity: 401.
    for (what, validity) in [("expired", (2000, 2001)), ("not yet valid", (2090, 2091))] {
        let identity = server_signed_identity(&server, "mallory", &["system:masters"], validity);
        let response = server.identity_client(&identity).post(&url).json(&cm).send().await;
        assert_unauthorized(response.unwrap_or_else(|e| panic!("{what}: {e}"))).await;
    }
    // The same certificate within its validity is system:masters: the CA was the right one.
    let valid = server_signed_identity(&server, "mallory", &["system:masters"], (2020, 2089));
    let listed = server.identity_client(&valid).get(&url).send().await.unwrap();
    assert_eq!(listed.status(), 200);

    // Bytes that are no certificate at all: the TLS handshake is refused (as Go's TLS refuses a
    // client certificate it cannot parse), no HTTP answer; the server serves on.
    for garbage in [&b"not a certificate"[..], b"-----BEGIN CERTIFICATE-----\nAAAA\n"] {
        let sent = client_presenting(&server, garbage).post(&url).json(&cm).send().await;
        assert!(sent.is_err(), "a garbage certificate got an HTTP answer: {sent:?}");
    }
    let missing = server.http.get(format!("{url}/by-mallory")).send().await.unwrap();
    assert_eq!(missing.status(), 404, "nothing stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_and_invalidated_bearer_tokens_are_401() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "serviceaccount", "robot"]);
    let uid = server.ok(&["get", "serviceaccount", "robot", "-o", "jsonpath={.metadata.uid}"]);
    let url = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let user = "system:serviceaccount:default:robot";

    // Claims the server would sign, signed with another key.
    let other =
        SigningKey::from_pem(rcgen::KeyPair::generate().unwrap().serialize_pem().as_bytes());
    let issuer =
        TokenIssuer::new(DEFAULT_SERVICE_ACCOUNT_ISSUER.to_owned(), other.unwrap().into(), None);
    let request = TokenRequest {
        namespace: "default".to_owned(),
        service_account: ObjectRef { name: "robot".to_owned(), uid: uid.clone() },
        audiences: vec![DEFAULT_SERVICE_ACCOUNT_ISSUER.to_owned()],
        expiration_seconds: 3600,
        bound: None,
    };
    let forged = issuer.issue(&request, kube_ledger::pki::unix_now()).unwrap().token;
    assert_unauthorized(server.token_client(&forged).get(&url).send().await.unwrap()).await;
    // The same claims signed by the server: the key was all that was wrong.
    let genuine = service_account_token(&server, "robot", &uid, kube_ledger::pki::unix_now());
    assert_forbidden_to(server.token_client(&genuine).get(&url).send().await.unwrap(), user).await;

    // A token bound to a Secret (`kubectl create token --bound-object-kind`) dies with it.
    server.ok(&["create", "secret", "generic", "key", "--from-literal=k=v"]);
    let bound = server.ok(&[
        "create",
        "token",
        "robot",
        "--bound-object-kind=Secret",
        "--bound-object-name=key",
    ]);
    let bound = server.token_client(bound.trim());
    assert_forbidden_to(bound.get(&url).send().await.unwrap(), user).await;
    server.ok(&["delete", "secret", "key"]);
    let mut last = 0;
    for _ in 0..50 {
        last = bound.get(&url).send().await.unwrap().status().as_u16();
        if last == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, 401, "the token bound to a deleted Secret still authenticates");
    assert_unauthorized(bound.get(&url).send().await.unwrap()).await;
}
