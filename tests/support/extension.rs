//! An extension API server for the aggregation tests: HTTPS on 127.0.0.1 with a serving
//! certificate for `api.wardle.svc` (issued by its own test CA, given to the APIService as
//! `caBundle`), serving `wardle.example.com/v1alpha1` `flunders` (namespaced): discovery,
//! list, get, create and watch, in memory. It requires a client certificate of the front-proxy
//! CA it is given (the aggregator's), as an extension server configured from
//! `extension-apiserver-authentication` does, and records every request with the `X-Remote-*`
//! headers it carried ([`Seen`]). It serves its OpenAPI as a generic apiserver does:
//! `/openapi/v2` (with an ETag, 304 on `If-None-Match`), the `/openapi/v3` index and
//! `/openapi/v3/apis/wardle.example.com/v1alpha1`, describing Flunder.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use kube_ledger::pki::{Pki, PkiConfig};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

pub const GROUP: &str = "wardle.example.com";
pub const VERSION: &str = "v1alpha1";
/// The Service (and its namespace) the APIService names: the certificate covers
/// `api.wardle.svc`.
pub const SERVICE: &str = "api";
pub const NAMESPACE: &str = "wardle";

/// One request as the extension received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// `X-Remote-Extra-*` headers: (suffix as received, value).
    pub extra: Vec<(String, String)>,
    /// Whether an `Authorization` header reached the extension (it never should).
    pub authorization: bool,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    /// TLS connections accepted so far (a pooled client makes few).
    connections: u64,
    /// Flunders by (namespace, name).
    objects: BTreeMap<(String, String), Value>,
    revision: u64,
    watchers: Vec<mpsc::UnboundedSender<Bytes>>,
}

type Shared = Arc<Mutex<State>>;
type Body = BoxBody<Bytes, Infallible>;

/// The running extension server.
pub struct ExtensionServer {
    pub port: u16,
    /// Base64 of its CA (PEM), for the APIService's `caBundle`.
    pub ca_bundle: String,
    state: Shared,
    stop: Option<watch::Sender<bool>>,
    _pki: tempfile::TempDir,
}

impl ExtensionServer {
    /// Serves on a free loopback port, trusting client certificates of `front_proxy_ca`
    /// (PEM) only.
    pub async fn start(front_proxy_ca: &str) -> ExtensionServer {
        let pki_dir = tempfile::tempdir().unwrap();
        let config = PkiConfig {
            data_dir: pki_dir.path().to_owned(),
            extra_sans: vec![format!("{SERVICE}.{NAMESPACE}.svc")],
            ..PkiConfig::default()
        };
        let pki = Pki::load_or_generate(&config).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(front_proxy_ca.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = kube_ledger::pki::tls::provider();
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
            .with_single_cert(pki.serving.chain.clone(), pki.serving.key.clone_key())
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = watch::channel(false);
        let state: Shared = Arc::default();
        let shared = state.clone();
        tokio::spawn(async move {
            let mut stop = stopped.clone();
            loop {
                let (tcp, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = stop.wait_for(|s| *s) => return,
                };
                // As a Go extension server's sockets (TCP_NODELAY by default).
                let _ = tcp.set_nodelay(true);
                let (acceptor, shared, mut stop) =
                    (acceptor.clone(), shared.clone(), stopped.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    shared.lock().unwrap().connections += 1;
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(answer(request, &shared).await) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .with_upgrades();
                    tokio::select! {
                        _ = connection => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
        });
        ExtensionServer {
            port,
            ca_bundle: base64::engine::general_purpose::STANDARD.encode(&pki.ca.cert_pem),
            state,
            stop: Some(stop),
            _pki: pki_dir,
        }
    }

    /// Stops serving: the port refuses connections from now on.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        self.state.lock().unwrap().watchers.clear();
    }

    /// How many TLS connections it has accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.lock().unwrap().connections
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The requests for OpenAPI documents.
    pub fn seen_openapi(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path.starts_with("/openapi/")).collect()
    }

    /// The requests for flunders (discovery left out).
    pub fn seen_flunders(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path.contains("/flunders")).collect()
    }

    /// The objects that register this server: Namespace, Service, Endpoints (127.0.0.1:port)
    /// and the APIService `v1alpha1.wardle.example.com`, as one JSON List for `kubectl apply`.
    pub fn registration(&self) -> String {
        json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": SERVICE, "namespace": NAMESPACE},
             "spec": {"ports": [{"name": "https", "port": 443, "targetPort": self.port}]}},
            {"apiVersion": "v1", "kind": "Endpoints",
             "metadata": {"name": SERVICE, "namespace": NAMESPACE},
             "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                          "ports": [{"name": "https", "port": self.port}]}]},
            {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
             "metadata": {"name": format!("{VERSION}.{GROUP}")},
             "spec": {"group": GROUP, "version": VERSION,
                      "service": {"namespace": NAMESPACE, "name": SERVICE, "port": 443},
                      "caBundle": self.ca_bundle,
                      "groupPriorityMinimum": 1000, "versionPriority": 15}},
        ]})
        .to_string()
    }
}

impl ExtensionServer {
    /// [`ExtensionServer::registration`]'s objects, for a test to change before applying them.
    pub fn registration_items(&self) -> Vec<Value> {
        let list: Value = serde_json::from_str(&self.registration()).unwrap();
        list["items"].as_array().unwrap().clone()
    }

    /// An EndpointSlice of the Service (`kubernetes.io/service-name: api`) with one endpoint,
    /// 127.0.0.1 on this server's port, ready or not.
    pub fn endpoint_slice(&self, ready: bool) -> Value {
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": format!("{SERVICE}-1"), "namespace": NAMESPACE,
                            "labels": {"kubernetes.io/service-name": SERVICE}},
               "addressType": "IPv4",
               "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": ready}}],
               "ports": [{"name": "https", "port": self.port}]})
    }
}

impl Drop for ExtensionServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn json_response(status: u16, body: &Value) -> http::Response<Body> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> http::Response<Body> {
    json_response(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}),
    )
}

/// The Flunder schema, as kube-openapi publishes a kind (v2 and v3 alike).
fn flunder_schema() -> Value {
    json!({
        "description": "Flunder is a test kind of the wardle extension API server.",
        "type": "object",
        "properties": {
            "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object.", "type": "string"},
            "kind": {"description": "Kind is a string value representing the REST resource this object represents.", "type": "string"},
            "metadata": {"description": "Standard object's metadata.", "type": "object"},
            "spec": {"description": "FlunderSpec is the specification of a Flunder.", "type": "object",
                "properties": {"reference": {"description": "A name of another flunder or fischer.", "type": "string"}}}},
        "x-kubernetes-group-version-kind": [{"group": GROUP, "kind": "Flunder", "version": VERSION}]
    })
}

/// `/openapi/v2`, `/openapi/v3` and its one group/version document; `None` for other paths.
fn openapi(
    request: &http::Request<hyper::body::Incoming>,
    path: &str,
) -> Option<http::Response<Body>> {
    let flunders = format!("/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/flunders");
    let gvk = json!({"group": GROUP, "kind": "Flunder", "version": VERSION});
    let list = json!({"get": {"operationId": "listWardleV1alpha1NamespacedFlunder",
        "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk}});
    // As a generic apiserver publishes it: the PATCH operation's `fieldValidation` parameter
    // tells kubectl the server checks fields itself (so it sends `fieldValidation=Strict`
    // instead of validating on the client, which would need to list CRDs).
    let field_validation = json!({"name": "fieldValidation", "in": "query", "type": "string",
        "schema": {"type": "string"}, "uniqueItems": true});
    let object = json!({"patch": {"operationId": "patchWardleV1alpha1NamespacedFlunder",
        "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
        "parameters": [field_validation]}});
    let flunder = format!("{flunders}/{{name}}");
    let document = match path {
        "/openapi/v2" => json!({"swagger": "2.0", "info": {"title": "Wardle", "version": "v0"},
            "paths": {flunders.clone(): list, flunder.clone(): object},
            "definitions": {"com.example.wardle.v1alpha1.Flunder": flunder_schema()}}),
        "/openapi/v3" => json!({"paths": {format!("apis/{GROUP}/{VERSION}"): {
            "serverRelativeURL": format!("/openapi/v3/apis/{GROUP}/{VERSION}?hash=F1")}}}),
        _ if path == format!("/openapi/v3/apis/{GROUP}/{VERSION}") => {
            json!({"openapi": "3.0.0", "info": {"title": "Wardle", "version": "v0"},
                "paths": {flunders: list, flunder: object},
                "components": {"schemas": {"com.example.wardle.v1alpha1.Flunder": flunder_schema()}}})
        }
        _ => return None,
    };
    let etag = "\"WARDLE-1\"";
    if path == "/openapi/v2" && header_values(request, "if-none-match").iter().any(|v| v == etag) {
        return Some(
            http::Response::builder()
                .status(304)
                .header("etag", etag)
                .body(Full::new(Bytes::new()).boxed())
                .unwrap(),
        );
    }
    let mut response = json_response(200, &document);
    response.headers_mut().insert("etag", http::HeaderValue::from_static("\"WARDLE-1\""));
    Some(response)
}

fn header_values(request: &http::Request<hyper::body::Incoming>, name: &str) -> Vec<String> {
    request
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

async fn answer(
    request: http::Request<hyper::body::Incoming>,
    state: &Shared,
) -> http::Response<Body> {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let method = request.method().as_str().to_owned();
    let extra = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            let suffix = name.as_str().strip_prefix("x-remote-extra-")?;
            Some((suffix.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    state.lock().unwrap().seen.push(Seen {
        method: method.clone(),
        path: path.clone(),
        user: header_values(&request, "x-remote-user").into_iter().next(),
        groups: header_values(&request, "x-remote-group"),
        extra,
        authorization: request.headers().contains_key("authorization"),
    });
    if let Some(response) = openapi(&request, &path) {
        return response;
    }
    let gv = format!("/apis/{GROUP}/{VERSION}");
    if path == gv {
        return json_response(
            200,
            &json!({
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{GROUP}/{VERSION}"),
            "resources": [{"name": "flunders", "singularName": "flunder", "namespaced": true,
                           "kind": "Flunder", "verbs": ["create", "get", "list", "watch"],
                           "shortNames": ["fl"]}]}),
        );
    }
    if path == format!("/apis/{GROUP}") {
        let version = json!({"groupVersion": format!("{GROUP}/{VERSION}"), "version": VERSION});
        return json_response(
            200,
            &json!({"kind": "APIGroup", "apiVersion": "v1", "name": GROUP,
            "versions": [version], "preferredVersion": version}),
        );
    }
    let Some(rest) = path.strip_prefix(&gv) else {
        return status(404, "NotFound", "the server could not find the requested resource");
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let (namespace, name) = match segments.as_slice() {
        ["flunders"] => (None, None),
        ["namespaces", ns, "flunders"] => (Some((*ns).to_owned()), None),
        ["namespaces", ns, "flunders", name] => (Some((*ns).to_owned()), Some((*name).to_owned())),
        _ => return status(404, "NotFound", "the server could not find the requested resource"),
    };
    match (method.as_str(), name) {
        ("GET", Some(name)) => {
            let key = (namespace.unwrap_or_default(), name.clone());
            match state.lock().unwrap().objects.get(&key) {
                Some(object) => json_response(200, object),
                None => status(404, "NotFound", &format!("flunders.{GROUP} \"{name}\" not found")),
            }
        }
        ("GET", None) if query.split('&').any(|p| p == "watch=true" || p == "watch=1") => {
            watch_stream(state, namespace)
        }
        ("GET", None) => {
            let state = state.lock().unwrap();
            let items: Vec<&Value> = state
                .objects
                .iter()
                .filter(|((ns, _), _)| namespace.as_ref().is_none_or(|want| want == ns))
                .map(|(_, object)| object)
                .collect();
            json_response(
                200,
                &json!({"kind": "FlunderList",
                "apiVersion": format!("{GROUP}/{VERSION}"),
                "metadata": {"resourceVersion": state.revision.to_string()}, "items": items}),
            )
        }
        ("POST", None) => {
            let Some(namespace) = namespace else {
                return status(405, "MethodNotAllowed", "create needs a namespace");
            };
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let Ok(mut object) = serde_json::from_slice::<Value>(&body) else {
                return status(400, "BadRequest", "not JSON");
            };
            let name =
                object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_owned();
            let mut state = state.lock().unwrap();
            let key = (namespace.clone(), name.clone());
            if state.objects.contains_key(&key) {
                return status(
                    409,
                    "AlreadyExists",
                    &format!("flunders.{GROUP} \"{name}\" already exists"),
                );
            }
            state.revision += 1;
            let revision = state.revision;
            object["metadata"]["namespace"] = json!(namespace);
            object["metadata"]["resourceVersion"] = json!(revision.to_string());
            object["metadata"]["uid"] = json!(format!("uid-{revision}"));
            object["metadata"]["creationTimestamp"] = json!("2026-12-07T00:00:00Z");
            state.objects.insert(key, object.clone());
            let event = Bytes::from(format!("{}\n", json!({"type": "ADDED", "object": object})));
            state.watchers.retain(|watcher| watcher.send(event.clone()).is_ok());
            json_response(201, &object)
        }
        _ => status(405, "MethodNotAllowed", "method not allowed"),
    }
}

/// A watch: ADDED for what exists (in `namespace`, or all), then every later create.
fn watch_stream(state: &Shared, namespace: Option<String>) -> http::Response<Body> {
    let (sender, receiver) = mpsc::unbounded_channel::<Bytes>();
    {
        let mut state = state.lock().unwrap();
        for ((ns, _), object) in &state.objects {
            if namespace.as_ref().is_none_or(|want| want == ns) {
                let event = json!({"type": "ADDED", "object": object});
                let _ = sender.send(Bytes::from(format!("{event}\n")));
            }
        }
        state.watchers.push(sender);
    }
    let namespace_filter = namespace.map(|ns| format!("\"namespace\":\"{ns}\""));
    let events = tokio_stream::wrappers::UnboundedReceiverStream::new(receiver)
        .filter(move |event| {
            let keep = namespace_filter
                .as_ref()
                .is_none_or(|want| String::from_utf8_lossy(event).contains(want.as_str()));
            async move { keep }
        })
        .map(|event| Ok::<_, Infallible>(Frame::data(event)));
    http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(BodyExt::boxed(StreamBody::new(events)))
        .unwrap()
}
