//! CRD conversion webhooks through the real binary: a webhook served over HTTPS by this test
//! (a self-signed certificate made here, passed as the CRD's `caBundle`) renames `spec.size`
//! (`v1beta1`) to `spec.replicas` (`v1`, the storage version) and back. Objects written through
//! v1beta1 are stored as v1; GET, LIST and WATCH through v1beta1 show `spec.size`, a LIST with
//! one ConversionReview for all its objects; a webhook that fails, answers with a changed
//! `metadata.name`, hangs past `--conversion-webhook-timeout` or is down is a 500 Status and
//! nothing is stored; CRDs with a `service` reference, an `http` URL or without `v1` among
//! `conversionReviewVersions` are refused with 422.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use support::events::next_event;
use support::http::send;
use support::server::TestServer;
use tokio::net::TcpListener;
use tokio::sync::watch;

const GROUP: &str = "example.com";
const CRD_NAME: &str = "widgets.example.com";

/// How the test webhook answers.
const CONVERT: u8 = 0;
const FAIL: u8 = 1;
const HANG: u8 = 2;
const RENAME: u8 = 3;

/// The test's conversion webhook: what it was asked, and how it answers next.
struct Webhook {
    url: String,
    ca_bundle: String,
    mode: Arc<AtomicU8>,
    reviews: Arc<AtomicUsize>,
    /// The number of objects of each review, in order.
    sizes: Arc<Mutex<Vec<usize>>>,
    /// Flipped to stop the listener and every open connection.
    stop: watch::Sender<bool>,
}

impl Webhook {
    async fn start() -> Webhook {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let pem = certified.cert.pem();
        let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = watch::channel(false);
        let hook = Webhook {
            url: format!("https://127.0.0.1:{port}/convert"),
            ca_bundle: base64::engine::general_purpose::STANDARD.encode(pem),
            mode: Arc::default(),
            reviews: Arc::default(),
            sizes: Arc::default(),
            stop,
        };
        let (mode, reviews, sizes) = (hook.mode.clone(), hook.reviews.clone(), hook.sizes.clone());
        tokio::spawn(async move {
            let mut stop = stopped.clone();
            loop {
                let (tcp, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = stop.wait_for(|s| *s) => return,
                };
                let (acceptor, mode, reviews, sizes) =
                    (acceptor.clone(), mode.clone(), reviews.clone(), sizes.clone());
                let mut stop = stopped.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |request| {
                        let (mode, reviews, sizes) = (mode.clone(), reviews.clone(), sizes.clone());
                        async move { answer(request, &mode, &reviews, &sizes).await }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service);
                    tokio::select! {
                        _ = connection => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
        });
        hook
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

/// One ConversionReview: `v1beta1` `spec.size` ⇄ `v1` `spec.replicas`.
async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    mode: &AtomicU8,
    reviews: &AtomicUsize,
    sizes: &Mutex<Vec<usize>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let review: Value = serde_json::from_slice(&body).unwrap_or_default();
    let request = &review["request"];
    let desired = request["desiredAPIVersion"].as_str().unwrap_or("").to_owned();
    let objects = request["objects"].as_array().cloned().unwrap_or_default();
    reviews.fetch_add(1, Ordering::SeqCst);
    sizes.lock().unwrap().push(objects.len());
    let mode = mode.load(Ordering::SeqCst);
    if mode == HANG {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let mut result = json!({"status": "Success"});
    let converted: Vec<Value> = objects
        .into_iter()
        .map(|mut object| {
            let spec = object["spec"].as_object_mut().cloned().unwrap_or_default();
            let mut spec = spec;
            if desired.ends_with("/v1") {
                if let Some(size) = spec.shift_remove("size") {
                    spec.insert("replicas".into(), size);
                }
            } else if let Some(replicas) = spec.shift_remove("replicas") {
                spec.insert("size".into(), replicas);
            }
            object["spec"] = Value::Object(spec);
            object["apiVersion"] = json!(desired);
            if mode == RENAME {
                object["metadata"]["name"] = json!("renamed");
            }
            object
        })
        .collect();
    if mode == FAIL {
        result =
            json!({"status": "Failure", "message": "widgets of odd sizes cannot be converted"});
    }
    let answer = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
        "response": {"uid": request["uid"], "result": result, "convertedObjects": converted}});
    let bytes = Bytes::from(serde_json::to_vec(&answer).unwrap());
    Ok(hyper::Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(bytes))
        .unwrap())
}

fn crd(client_config: Value, review_versions: Value) -> Value {
    let version = |name: &str, field: &str, storage: bool| {
        json!({"name": name, "served": true, "storage": storage, "schema": {"openAPIV3Schema": {
            "type": "object", "properties": {"spec": {"type": "object", "properties": {
                field: {"type": "integer"}}}}}}})
    };
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {"group": GROUP, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [version("v1beta1", "size", false), version("v1", "replicas", true)],
            "conversion": {"strategy": "Webhook", "webhook": {
                "clientConfig": client_config, "conversionReviewVersions": review_versions}}}})
}

fn crd_url(server: &TestServer) -> String {
    format!("{}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", server.url)
}

fn widgets(server: &TestServer, version: &str) -> String {
    format!("{}/apis/{GROUP}/{version}/namespaces/default/widgets", server.url)
}

fn widget(version: &str, name: &str, field: &str, value: i64) -> Value {
    json!({"apiVersion": format!("{GROUP}/{version}"), "kind": "Widget",
        "metadata": {"name": name}, "spec": {field: value}})
}

async fn wait_served(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = server.http.get(widgets(server, "v1beta1")).send().await.unwrap();
        if response.status().as_u16() == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "the CRD was never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A 500 InternalError Status from the webhook, whose message contains `detail`.
fn webhook_failure(status: &Value, detail: &str) {
    assert_eq!(status["kind"], "Status", "{status}");
    assert_eq!(status["reason"], "InternalError", "{status}");
    let message = status["message"].as_str().unwrap_or("");
    assert!(message.starts_with("conversion webhook for example.com/"), "{message}");
    assert!(message.contains(detail), "{detail:?} not in {message:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn crds_refuse_webhooks_this_server_cannot_call() {
    let server = TestServer::embedded().await;
    let cases = [
        (
            json!({"service": {"namespace": "default", "name": "conv", "path": "/convert"}}),
            json!(["v1"]),
            "spec.conversion.webhookClientConfig.service",
        ),
        (
            json!({"url": "http://127.0.0.1:8443/convert"}),
            json!(["v1"]),
            "spec.conversion.webhookClientConfig.url",
        ),
        (
            json!({"url": "https://127.0.0.1:8443/convert"}),
            json!(["v1beta1"]),
            "spec.conversion.conversionReviewVersions",
        ),
    ];
    for (client_config, versions, field) in cases {
        let body = crd(client_config, versions);
        let status = send(server.http.post(crd_url(&server)).json(&body), 422).await;
        let fields: Vec<&str> = status["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{status}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_converts_between_served_and_stored_versions() {
    let hook = Webhook::start().await;
    let server = TestServer::embedded_with(&["--conversion-webhook-timeout", "2s"]).await;
    let config = json!({"url": hook.url, "caBundle": hook.ca_bundle});
    send(server.http.post(crd_url(&server)).json(&crd(config, json!(["v1"]))), 201).await;
    wait_served(&server).await;

    // Written through v1beta1, stored as v1 (the storage version, read without a webhook call).
    let beta = widgets(&server, "v1beta1");
    let v1 = widgets(&server, "v1");
    let created = send(server.http.post(&beta).json(&widget("v1beta1", "a", "size", 3)), 201).await;
    assert_eq!(created["apiVersion"], "example.com/v1beta1");
    assert_eq!(created["spec"], json!({"size": 3}));
    let reviews = hook.reviews.load(Ordering::SeqCst);
    let stored = send(server.http.get(format!("{v1}/a")), 200).await;
    assert_eq!(stored["apiVersion"], "example.com/v1");
    assert_eq!(stored["spec"], json!({"replicas": 3}));
    assert_eq!(hook.reviews.load(Ordering::SeqCst), reviews, "v1 reads call no webhook");

    // GET and LIST through v1beta1: one review for the whole list.
    for (name, replicas) in [("b", 4), ("c", 5), ("d", 6)] {
        send(server.http.post(&v1).json(&widget("v1", name, "replicas", replicas)), 201).await;
    }
    let got = send(server.http.get(format!("{beta}/c")), 200).await;
    assert_eq!(got["spec"], json!({"size": 5}));
    let before = hook.reviews.load(Ordering::SeqCst);
    let list = send(server.http.get(&beta), 200).await;
    let sizes: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|i| &i["spec"]).collect();
    assert_eq!(
        sizes,
        [&json!({"size": 3}), &json!({"size": 4}), &json!({"size": 5}), &json!({"size": 6})]
    );
    assert_eq!(hook.reviews.load(Ordering::SeqCst), before + 1, "one review for the LIST");
    assert_eq!(hook.sizes.lock().unwrap().last(), Some(&4));

    // WATCH through v1beta1: the initial state and a later write, converted.
    let response = server.http.get(format!("{beta}?watch=1")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    for _ in 0..4 {
        let event = next_event(&mut stream, &mut buffer).await;
        assert_eq!(event["type"], "ADDED", "{event}");
        assert!(event["object"]["spec"]["size"].is_i64(), "{event}");
    }
    send(server.http.post(&v1).json(&widget("v1", "e", "replicas", 7)), 201).await;
    let event = next_event(&mut stream, &mut buffer).await;
    assert_eq!(event["type"], "ADDED", "{event}");
    assert_eq!(event["object"]["apiVersion"], "example.com/v1beta1");
    assert_eq!(event["object"]["spec"], json!({"size": 7}));
    drop(stream);

    // A Failure answer: its message in a 500, nothing stored.
    hook.set(FAIL);
    let status = send(server.http.post(&beta).json(&widget("v1beta1", "f", "size", 1)), 500).await;
    webhook_failure(&status, "widgets of odd sizes cannot be converted");
    send(server.http.get(format!("{v1}/f")), 404).await;

    // An answer that changes metadata.name is refused.
    hook.set(RENAME);
    let status = send(server.http.post(&beta).json(&widget("v1beta1", "g", "size", 2)), 500).await;
    webhook_failure(&status, "metadata.name");
    send(server.http.get(format!("{v1}/g")), 404).await;

    // A webhook that does not answer within --conversion-webhook-timeout.
    hook.set(HANG);
    let status = send(server.http.post(&beta).json(&widget("v1beta1", "h", "size", 2)), 500).await;
    webhook_failure(&status, &hook.url);
    send(server.http.get(format!("{v1}/h")), 404).await;

    // The webhook down: writes and reads through v1beta1 fail naming it; v1 still works.
    hook.set(CONVERT);
    hook.stop.send(true).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = send(server.http.post(&beta).json(&widget("v1beta1", "i", "size", 2)), 500).await;
    webhook_failure(&status, &format!("Post {:?}", hook.url));
    send(server.http.get(format!("{v1}/i")), 404).await;
    let status = send(server.http.get(format!("{beta}/a")), 500).await;
    webhook_failure(&status, &hook.url);
    let list = send(server.http.get(&v1), 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
}
