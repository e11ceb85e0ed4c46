//! The webhook backend against a real HTTPS server started here: a CA made with rcgen signs
//! the server's certificate and the client certificate the server requires.

use std::convert::Infallible;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::Value;
use tokio::net::TcpListener;

use super::*;
use crate::audit::sink::{BatchConfig, Sink};
use crate::audit::types::{Level, Stage};

/// What the test server was sent.
#[derive(Debug, Clone)]
struct Received {
    authorization: Option<String>,
    content_type: Option<String>,
    path: String,
    body: Value,
}

struct Pki {
    ca_pem: String,
    server: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    client_pem: (String, String),
    ca_der: CertificateDer<'static>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "audit-test-ca");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params.distinguished_name.push(DnType::CommonName, "kube-apiserver");
    let client_cert = client_params.signed_by(&client_key, &ca).unwrap();

    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        server: (
            vec![server_cert.der().clone()],
            PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
        ),
        client_pem: (client_cert.pem(), client_key.serialize_pem()),
    }
}

/// An HTTPS server requiring a client certificate from the CA: answers 500 to the first
/// `failures` requests, 200 to the rest, and keeps what it was sent.
async fn serve(pki: &Pki, failures: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.server.0.clone(), pki.server.1.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}/audit/events", listener.local_addr().unwrap().port());
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let record = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, record, seen) = (acceptor.clone(), record.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let (record, seen) = (record.clone(), seen.clone());
                        async move {
                            let header = |name: hyper::header::HeaderName| {
                                request
                                    .headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_owned)
                            };
                            let authorization = header(hyper::header::AUTHORIZATION);
                            let content_type = header(hyper::header::CONTENT_TYPE);
                            let path = request.uri().path().to_owned();
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                            record.lock().unwrap().push(Received {
                                authorization,
                                content_type,
                                path,
                                body,
                            });
                            let status = if seen.fetch_add(1, Ordering::SeqCst) < failures {
                                500
                            } else {
                                200
                            };
                            let response = hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"{}")))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (url, received)
}

/// A kubeconfig in `dir` naming `server`, the CA by file and the client certificate by data.
fn kubeconfig(dir: &Path, server: &str, pki: &Pki, client_certificate: bool) -> std::path::PathBuf {
    use base64::Engine;
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    std::fs::write(dir.join("ca.crt"), &pki.ca_pem).unwrap();
    let credentials = if client_certificate {
        format!(
            "client-certificate-data: {}\n    client-key-data: {}\n    token: t0ken",
            b64(&pki.client_pem.0),
            b64(&pki.client_pem.1)
        )
    } else {
        "token: t0ken".to_owned()
    };
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: audit-sink\n  cluster:\n    server: {server}\n    certificate-authority: ca.crt\n\
         users:\n- name: kube-ledger\n  user:\n    {credentials}\n\
         contexts:\n- name: default\n  context:\n    cluster: audit-sink\n    user: kube-ledger\n\
         current-context: default\n"
    );
    let path = dir.join("audit-webhook.kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

/// Short waits: the test asserts what is retried, not how long it waits.
fn quick() -> Retry {
    Retry { initial_backoff: Duration::from_millis(5), request_timeout: Duration::from_secs(30) }
}

fn event(id: &str) -> Arc<Event> {
    let mut event = Event::new(Level::Metadata, id, Stage::ResponseComplete, UNIX_EPOCH);
    event.verb = "create".into();
    Arc::new(event)
}

#[tokio::test]
async fn a_batch_arrives_as_one_event_list_over_mutual_tls_after_a_retry() {
    let pki = pki();
    let (url, received) = serve(&pki, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let backend =
        WebhookBackend::from_kubeconfig(&kubeconfig(dir.path(), &url, &pki, true), quick())
            .unwrap();
    let config = BatchConfig {
        buffer_size: 100,
        max_batch_size: 3,
        max_batch_wait: Duration::from_secs(3600),
        throttle: None,
        max_in_flight: 4,
    };
    let sink = Sink::spawn(backend, config);
    for id in ["a", "b", "c"] {
        assert!(sink.process(event(id)));
    }
    sink.shutdown().await;

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "a 500, then the same batch again: {received:?}");
    assert_eq!(received[0].body, received[1].body);
    let sent = &received[1];
    assert_eq!(sent.path, "/audit/events");
    assert_eq!(sent.authorization.as_deref(), Some("Bearer t0ken"));
    assert_eq!(sent.content_type.as_deref(), Some("application/json"));
    assert_eq!(sent.body["kind"], "EventList");
    assert_eq!(sent.body["apiVersion"], "audit.k8s.io/v1");
    let ids: Vec<&str> = sent.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["auditID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(sent.body["items"][0]["stage"], "ResponseComplete");
}

#[tokio::test]
async fn a_server_that_keeps_failing_loses_the_batch_after_five_attempts() {
    let pki = pki();
    let (url, received) = serve(&pki, usize::MAX).await;
    let dir = tempfile::tempdir().unwrap();
    let backend =
        WebhookBackend::from_kubeconfig(&kubeconfig(dir.path(), &url, &pki, true), quick())
            .unwrap();
    let failure = backend.deliver(vec![event("a"), event("b")]).await.unwrap_err();
    assert_eq!(failure.events, 2);
    assert!(
        failure.reason.contains("HTTP 500") && failure.reason.contains("after 5 attempts"),
        "{}",
        failure.reason
    );
    assert_eq!(received.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn no_server_and_no_client_certificate_are_failures_not_hangs() {
    let pki = pki();
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let down = format!("https://127.0.0.1:{port}/");
    let backend =
        WebhookBackend::from_kubeconfig(&kubeconfig(dir.path(), &down, &pki, true), quick())
            .unwrap();
    let failure = backend.deliver(vec![event("a")]).await.unwrap_err();
    assert!(failure.reason.contains("after 5 attempts"), "{}", failure.reason);

    let (url, received) = serve(&pki, 0).await;
    let anonymous =
        WebhookBackend::from_kubeconfig(&kubeconfig(dir.path(), &url, &pki, false), quick())
            .unwrap();
    let failure = anonymous.deliver(vec![event("a")]).await.unwrap_err();
    assert_eq!(failure.events, 1);
    assert!(received.lock().unwrap().is_empty(), "the server refused the TLS handshake");
}

#[test]
fn a_kubeconfig_with_a_bad_authority_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let path = kubeconfig(dir.path(), "https://127.0.0.1:1/", &pki, true);
    std::fs::write(dir.path().join("ca.crt"), "not a certificate").unwrap();
    let err = WebhookBackend::from_kubeconfig(&path, quick()).unwrap_err().to_string();
    assert!(err.contains("certificate-authority holds no certificate"), "{err}");
}
