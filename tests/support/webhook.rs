//! An HTTPS admission webhook server for tests, on 127.0.0.1: its certificate issued by a test
//! CA made with the repo's own PKI (`kube_ledger::pki`), the CA given as each webhook's
//! `caBundle`. It records every AdmissionReview it receives and answers by path (see
//! [`answer`]).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use kube_ledger::pki::{Pki, PkiConfig};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The test's webhook server: every review it received (with the request's path and query),
/// answering by path.
pub struct WebhookServer {
    pub base: String,
    pub ca_bundle: String,
    reviews: Arc<Mutex<Vec<(String, Value)>>>,
    _stop: watch::Sender<bool>,
    _pki: tempfile::TempDir,
}

impl WebhookServer {
    pub async fn start() -> WebhookServer {
        let pki_dir = tempfile::tempdir().unwrap();
        let config = PkiConfig { data_dir: pki_dir.path().to_owned(), ..PkiConfig::default() };
        let pki = Pki::load_or_generate(&config).unwrap();
        let tls = kube_ledger::pki::tls::server_config(&pki.serving, None).unwrap();
        let acceptor = kube_ledger::pki::tls::acceptor(tls);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = watch::channel(false);
        let reviews: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let recorded = reviews.clone();
        tokio::spawn(async move {
            let mut stop = stopped.clone();
            loop {
                let (tcp, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = stop.wait_for(|s| *s) => return,
                };
                let (acceptor, recorded, mut stop) =
                    (acceptor.clone(), recorded.clone(), stopped.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |request| {
                        let recorded = recorded.clone();
                        async move { answer(request, &recorded).await }
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
        WebhookServer {
            base: format!("https://127.0.0.1:{port}"),
            ca_bundle: base64::engine::general_purpose::STANDARD.encode(&pki.ca.cert_pem),
            reviews,
            _stop: stop,
            _pki: pki_dir,
        }
    }

    /// A webhook named `name` calling `path` on this server, for CREATE and UPDATE of
    /// configmaps.
    pub fn hook(&self, name: &str, path: &str) -> Value {
        json!({
            "name": name,
            "clientConfig": {"url": format!("{}{path}", self.base), "caBundle": self.ca_bundle},
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""],
                       "apiVersions": ["v1"], "resources": ["configmaps"]}],
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
        })
    }

    /// The reviews sent to `path`.
    pub fn reviews_to(&self, path: &str) -> Vec<Value> {
        let reviews = self.reviews.lock().unwrap();
        reviews.iter().filter(|(p, _)| p.starts_with(path)).map(|(_, r)| r.clone()).collect()
    }
}

/// One AdmissionReview, answered by path:
/// - `/label`: adds `admitted-by: webhook` with a JSON patch (each operation's keys in the order
///   `path`, `op`, `value`), a warning and the audit annotations `decided: labelled` and
///   `not a key: dropped`;
/// - `/deny`: refuses with 403 and a message, and the audit annotation `reason: deny-label`;
/// - `/slow`: answers after a minute;
/// - `/allow`: admits;
/// - `/add-b`: adds label `b` if missing; `/a-sees-b`: sets label `a` to whether `b` is there.
async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    recorded: &Mutex<Vec<(String, Value)>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let target = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let review: Value = serde_json::from_slice(&body).unwrap_or_default();
    recorded.lock().unwrap().push((target.clone(), review.clone()));
    let uid = review["request"]["uid"].clone();
    let object = &review["request"]["object"];
    let labels = object.pointer("/metadata/labels").filter(|l| l.is_object());
    let add_label = |key: &str, value: &str| match labels {
        None => json!([{"path": "/metadata/labels", "op": "add", "value": {key: value}}]),
        Some(_) => {
            json!([{"path": format!("/metadata/labels/{key}"), "op": "add", "value": value}])
        }
    };
    let path = target.split('?').next().unwrap_or("");
    let mut response = json!({"uid": uid, "allowed": true});
    let patch = match path {
        "/label" => {
            response["warnings"] = json!(["labelled by the test webhook"]);
            response["auditAnnotations"] = json!({"decided": "labelled", "not a key": "dropped"});
            Some(add_label("admitted-by", "webhook"))
        }
        "/deny" => {
            response["allowed"] = json!(false);
            response["status"] = json!({"code": 403, "reason": "Forbidden",
                "message": "the test webhook refuses objects labelled deny=yes"});
            response["auditAnnotations"] = json!({"reason": "deny-label"});
            None
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            None
        }
        "/add-b" if labels.and_then(|l| l.get("b")).is_none() => Some(add_label("b", "1")),
        "/a-sees-b" => {
            let seen = if labels.and_then(|l| l.get("b")).is_some() { "saw-b" } else { "no-b" };
            Some(add_label("a", seen))
        }
        _ => None,
    };
    if let Some(patch) = patch {
        response["patchType"] = json!("JSONPatch");
        response["patch"] =
            json!(base64::engine::general_purpose::STANDARD.encode(patch.to_string()));
    }
    let answer = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                        "response": response});
    let response = hyper::Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap();
    Ok(response)
}
