//! CRD conversion webhooks (`spec.conversion.strategy: Webhook`), as apiextensions-apiserver's
//! webhook converter: objects that are not in the desired version are sent in one
//! `apiextensions.k8s.io/v1` `ConversionReview` (`request.uid`, `desiredAPIVersion`, `objects`)
//! as an HTTPS POST to `clientConfig.url`, trusting only the CRD's `caBundle`.
//!
//! The answer is checked before anything uses it: the same `uid`, `result.status: Success`, as
//! many objects as were sent, each in the desired `apiVersion` and the same `kind`, and no
//! metadata changed but `labels` and `annotations` (null and absent count as equal, so a webhook
//! that round-trips objects through typed structs may add `creationTimestamp: null`). Any other
//! outcome — connection refused, a TLS error, a status other than 200, a malformed review, a
//! `Failure` with its message, no answer within `--conversion-webhook-timeout` — is a 500
//! `InternalError` "conversion webhook for <group>/<version>, Kind=<kind> failed: …" naming the
//! URL. A write whose body cannot be converted to the storage version stores nothing.
//!
//! Data flow: the store calls a served version's [`WebhookConversion`] → [`Webhook::convert`]
//! (objects already in the desired version skip the call) → the converted objects are pruned and
//! defaulted with the target version's schema on reads. Watch events are converted once per event
//! and served version: [`WebhookConversion`] keeps the recent answers by key and `mod_revision`,
//! and watchers of the same event wait for the one call in flight.
//!
//! kube-apiserver restores metadata a webhook changed (but labels and annotations) without
//! telling anyone; this server refuses such an answer instead, so a faulty webhook is seen.
//! `service` references need cluster networking, which kube-ledger does not have: validation
//! refuses them (use `url`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use super::schema::Schema;
use crate::meta::status::ApiError;
use crate::registry::resource::{Conversion, Converted, stamp};

/// How long a webhook call may take, unless `--conversion-webhook-timeout` says otherwise
/// (kube-apiserver's conversion webhooks time out after 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest ConversionReview answer read (a LIST converts every object at once).
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// How many recent watch-event conversions one served version remembers, so every watcher of
/// an event shares one webhook call.
const SHARED_ANSWERS: usize = 4096;

/// Server-wide settings of conversion webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// How long one ConversionReview may take, from connecting to reading the answer.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig { timeout: DEFAULT_TIMEOUT }
    }
}

/// The `spec.conversion.webhook` of a CRD, as far as this server uses it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookSpec {
    pub url: String,
    /// PEM, already decoded from the base64 of the JSON.
    pub ca_bundle: Vec<u8>,
}

/// A pooled HTTPS client (also the admission webhooks').
pub(crate) type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// One CRD's webhook: where it is, how to reach it, and what it converts. Shared by the CRD's
/// served versions.
pub struct Webhook {
    url: String,
    /// The kind every answer must keep, and the subject of error messages.
    kind: String,
    timeout: Duration,
    /// The client, or why none could be made (a caBundle without certificates): every call
    /// then fails with that reason.
    client: Result<HttpsClient, String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).field("kind", &self.kind).finish()
    }
}

impl Webhook {
    pub fn new(spec: &WebhookSpec, kind: &str, config: WebhookConfig) -> Webhook {
        Webhook {
            url: spec.url.clone(),
            kind: kind.to_owned(),
            timeout: config.timeout,
            client: https_client(&spec.ca_bundle).map_err(|missing| {
                missing.unwrap_or_else(|| {
                    "no caBundle: this server trusts only the certificates of a CRD's \
                     spec.conversion.webhook.clientConfig.caBundle"
                        .to_owned()
                })
            }),
        }
    }

    /// `objects` → `desired` (an `apiVersion`), in order. Objects already in `desired` are not
    /// sent; when none is left, nothing is called.
    pub async fn convert(
        &self,
        objects: Vec<Value>,
        desired: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let pending: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.get("apiVersion").and_then(Value::as_str) != Some(desired))
            .map(|(i, _)| i)
            .collect();
        if pending.is_empty() {
            return Ok(objects);
        }
        // The subject of errors: the group/version/kind being converted from (kube names the
        // first object's).
        let from = objects[pending[0]].get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let subject = gvk(from, &self.kind);
        let sent: Vec<Value> = pending.iter().map(|i| objects[*i].clone()).collect();
        let converted = self.review(sent.clone(), desired).await.map_err(|detail| {
            tracing::warn!(url = %self.url, kind = %self.kind, %detail, "conversion webhook failed");
            ApiError::internal(format!("conversion webhook for {subject} failed: {detail}"))
        })?;
        let mut out = objects;
        for (index, (original, mut answer)) in
            pending.into_iter().zip(sent.into_iter().zip(converted))
        {
            self.check_converted(&original, &mut answer, desired).map_err(|detail| {
                ApiError::internal(format!(
                    "conversion webhook for {subject} failed: invalid converted object at \
                     index {index}: {detail}"
                ))
            })?;
            out[index] = answer;
        }
        Ok(out)
    }

    /// One ConversionReview round trip: the converted objects, or why there are none.
    async fn review(&self, objects: Vec<Value>, desired: &str) -> Result<Vec<Value>, String> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let uid = uuid::Uuid::new_v4().to_string();
        let count = objects.len();
        let review = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "request": {"uid": uid, "desiredAPIVersion": desired, "objects": objects},
        });
        let body = serde_json::to_vec(&review).map_err(|e| e.to_string())?;
        let post = |detail: String| format!("Post {:?}: {detail}", self.url);
        let request = hyper::Request::post(&self.url)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| post(e.to_string()))?;
        let exchange = async {
            let response = client.request(request).await.map_err(|e| post(error_chain(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| post(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        let (status, body) =
            tokio::time::timeout(self.timeout, exchange).await.map_err(|_| {
                post(format!("context deadline exceeded (no answer within {:?})", self.timeout))
            })??;
        if status != hyper::StatusCode::OK {
            return Err(post(format!("the webhook answered HTTP {status}")));
        }
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("the answer is not a ConversionReview: {e}"))?;
        parse_review(&answer, &uid, count)
    }

    /// An answer must be in `desired`, of the same kind, with metadata changed only in labels
    /// and annotations; it leaves with the original metadata and the answer's labels and
    /// annotations.
    fn check_converted(
        &self,
        original: &Value,
        answer: &mut Value,
        desired: &str,
    ) -> Result<(), String> {
        let api_version = answer.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api_version != desired {
            return Err(format!("invalid apiVersion {api_version:?}, expected {desired:?}"));
        }
        let kind = answer.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != self.kind {
            return Err(format!("invalid kind {kind:?}, expected {:?}", self.kind));
        }
        let empty = Map::new();
        let before = original.get("metadata").and_then(Value::as_object).unwrap_or(&empty);
        let after = match answer.get("metadata") {
            Some(Value::Object(after)) => after,
            None | Some(Value::Null) => return Err("missing metadata in converted object".into()),
            Some(_) => return Err("invalid metadata in converted object".into()),
        };
        let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
        fields.sort();
        fields.dedup();
        for field in fields {
            if field == "labels" || field == "annotations" {
                continue;
            }
            let was = before.get(field).filter(|v| !v.is_null());
            let is = after.get(field).filter(|v| !v.is_null());
            if was != is {
                return Err(format!(
                    "metadata.{field} was changed; a conversion webhook may change only \
                     metadata.labels and metadata.annotations"
                ));
            }
        }
        let mut metadata = before.clone();
        for field in ["labels", "annotations"] {
            match after.get(field) {
                None | Some(Value::Null) => {
                    metadata.shift_remove(field);
                }
                Some(Value::Object(map)) if map.values().all(Value::is_string) => {
                    metadata.insert(field.to_owned(), Value::Object(map.clone()));
                }
                Some(_) => return Err(format!("invalid metadata.{field} in converted object")),
            }
        }
        answer["metadata"] = Value::Object(metadata);
        Ok(())
    }
}

/// `<group>/<version>, Kind=<Kind>`, as Go prints a GroupVersionKind.
fn gvk(api_version: &str, kind: &str) -> String {
    format!("{api_version}, Kind={kind}")
}

/// The converted objects of a ConversionReview answer.
fn parse_review(answer: &Value, uid: &str, count: usize) -> Result<Vec<Value>, String> {
    if answer.get("kind").and_then(Value::as_str) != Some("ConversionReview") {
        return Err("the answer is not a ConversionReview".into());
    }
    let Some(response) = answer.get("response").filter(|r| r.is_object()) else {
        return Err("no response provided".into());
    };
    let got = response.get("uid").and_then(Value::as_str).unwrap_or("");
    if got != uid {
        return Err(format!("expected response.uid={uid:?}, got {got:?}"));
    }
    let status = response.pointer("/result/status").and_then(Value::as_str).unwrap_or("");
    if status != "Success" {
        let message = response.pointer("/result/message").and_then(Value::as_str);
        return Err(match message.filter(|m| !m.is_empty()) {
            Some(message) => message.to_owned(),
            None => format!("response.result.status was {status:?}, not \"Success\""),
        });
    }
    let objects = response.get("convertedObjects").and_then(Value::as_array);
    let objects = objects.cloned().unwrap_or_default();
    if objects.len() != count {
        return Err(format!("returned {} objects, expected {count}", objects.len()));
    }
    Ok(objects)
}

/// An error and its sources, as one line (hyper's own message is often just "client error").
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An HTTPS-only client trusting exactly the certificates of `ca_bundle` (PEM): the reason it
/// cannot be made, or `Err(None)` when the bundle holds no certificate at all.
pub(crate) fn https_client(ca_bundle: &[u8]) -> Result<HttpsClient, Option<String>> {
    let tls = tls_client_config(ca_bundle, None)?;
    Ok(https_client_with(tls, None))
}

/// A rustls client configuration trusting exactly the certificates of `ca_bundle` (PEM), and
/// presenting `identity` (a chain and its key) when the server asks for a client certificate.
/// `Err(None)`: the bundle holds no certificate at all.
pub(crate) fn tls_client_config(
    ca_bundle: &[u8],
    identity: Option<&crate::pki::ServingIdentity>,
) -> Result<rustls::ClientConfig, Option<String>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_bundle) {
        let cert = cert.map_err(|e| format!("caBundle is not PEM: {e}"))?;
        roots.add(cert).map_err(|e| format!("caBundle holds an unusable certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(|e| Some(format!("client certificate: {e}"))),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// A pooled HTTP/1.1 client over `tls`, HTTPS only, for request bodies of type `B`. With
/// `server_name`, every connection verifies (and sends as SNI) that name instead of the
/// URI's host: the aggregator dials an endpoint's IP for `<service>.<namespace>.svc`.
///
/// Its sockets set `TCP_NODELAY`, as Go's net package does for every TCP connection of
/// kube-apiserver: without it, a TLS record written after one the peer has not acknowledged yet
/// waits for that acknowledgement (Nagle), which the peer may delay.
pub(crate) fn https_client_with<B>(
    tls: rustls::ClientConfig,
    server_name: Option<rustls::pki_types::ServerName<'static>>,
) -> Client<HttpsConnector<HttpConnector>, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only();
    let connector = match server_name {
        Some(name) => builder
            .with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            .enable_http1()
            .wrap_connector(http),
        None => builder.enable_http1().wrap_connector(http),
    };
    Client::builder(TokioExecutor::new()).build(connector)
}

/// A served version of a CRD whose conversion strategy is `Webhook`.
pub struct WebhookConversion {
    webhook: Arc<Webhook>,
    served: String,
    storage: String,
    kind: String,
    /// The served version's schema: reads are pruned and defaulted with it after conversion.
    schema: Schema,
    /// Recent conversions of watch events (key, mod_revision) → the served object, shared by
    /// every watcher; oldest first.
    shared: Mutex<VecDeque<(SharedKey, SharedAnswer)>>,
}

type SharedKey = (String, i64);
type SharedAnswer = Arc<OnceCell<Result<Value, ApiError>>>;

impl std::fmt::Debug for WebhookConversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConversion")
            .field("webhook", &self.webhook)
            .field("served", &self.served)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl WebhookConversion {
    pub fn new(webhook: Arc<Webhook>, served: String, storage: String, schema: Schema) -> Self {
        let kind = webhook.kind.clone();
        WebhookConversion {
            webhook,
            served,
            storage,
            kind,
            schema,
            shared: Mutex::new(VecDeque::new()),
        }
    }

    async fn served_all(&self, objects: Vec<Value>) -> Result<Vec<Value>, ApiError> {
        let converted = self.webhook.convert(objects, &self.served).await?;
        Ok(converted.into_iter().map(|object| self.finish_read(object)).collect())
    }

    /// A converted object as a read serves it: stamped, pruned and defaulted.
    fn finish_read(&self, object: Value) -> Value {
        let mut object = stamp(object, &self.served, &self.kind);
        self.schema.prune(&mut object);
        self.schema.apply_defaults(&mut object);
        object
    }

    /// The slot of one shared conversion: the one in flight or done, or a new one.
    fn shared_slot(&self, key: &str, mod_revision: i64) -> SharedAnswer {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, slot)) = shared.iter().find(|((k, r), _)| *r == mod_revision && k == key) {
            return slot.clone();
        }
        let slot = SharedAnswer::default();
        shared.push_back(((key.to_owned(), mod_revision), slot.clone()));
        if shared.len() > SHARED_ANSWERS {
            shared.pop_front();
        }
        slot
    }
}

impl Conversion for WebhookConversion {
    fn to_storage_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Pending(Box::pin(async move {
            let mut converted = self.webhook.convert(vec![object], &self.storage).await?;
            let object = converted.pop().unwrap_or(Value::Null);
            Ok(stamp(object, &self.storage, &self.kind))
        }))
    }

    fn to_served_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Pending(Box::pin(async move {
            let mut converted = self.served_all(vec![object]).await?;
            Ok(converted.pop().unwrap_or(Value::Null))
        }))
    }

    fn to_served_versions(&self, objects: Vec<Value>) -> Converted<'_, Vec<Value>> {
        Converted::Pending(Box::pin(self.served_all(objects)))
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn to_served_version_shared(
        &self,
        key: &str,
        mod_revision: i64,
        object: Value,
    ) -> Converted<'_, Value> {
        // A previous object known only from a log entry has no revision to share it by.
        if mod_revision <= 0 {
            return self.to_served_version(object);
        }
        let slot = self.shared_slot(key, mod_revision);
        Converted::Pending(Box::pin(async move {
            slot.get_or_init(|| async move { self.to_served_version(object).await }).await.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook() -> Webhook {
        let spec = WebhookSpec { url: "https://127.0.0.1:1/convert".into(), ca_bundle: Vec::new() };
        Webhook::new(&spec, "Foo", WebhookConfig::default())
    }

    #[test]
    fn answers_are_checked_like_kube() {
        let uid = "u-1";
        let ok = json!({"kind": "ConversionReview", "response": {"uid": uid,
            "result": {"status": "Success"}, "convertedObjects": [{"a": 1}]}});
        assert_eq!(parse_review(&ok, uid, 1).unwrap(), [json!({"a": 1})]);
        assert_eq!(
            parse_review(&ok, "u-2", 1).unwrap_err(),
            "expected response.uid=\"u-2\", got \"u-1\""
        );
        assert_eq!(parse_review(&ok, uid, 2).unwrap_err(), "returned 1 objects, expected 2");
        let failed = json!({"kind": "ConversionReview", "response": {"uid": uid,
            "result": {"status": "Failure", "message": "size must be even"}}});
        assert_eq!(parse_review(&failed, uid, 1).unwrap_err(), "size must be even");
        assert!(parse_review(&json!({"kind": "ConversionReview"}), uid, 1).is_err());
    }

    #[test]
    fn only_labels_and_annotations_may_change() {
        let hook = webhook();
        let original = json!({"apiVersion": "example.com/v1beta1", "kind": "Foo",
            "metadata": {"name": "a", "uid": "x", "labels": {"l": "1"}}});
        let mut answer = json!({"apiVersion": "example.com/v1", "kind": "Foo",
            "metadata": {"name": "a", "uid": "x", "creationTimestamp": null,
                         "annotations": {"n": "2"}}});
        hook.check_converted(&original, &mut answer, "example.com/v1").unwrap();
        assert_eq!(answer["metadata"], json!({"name": "a", "uid": "x", "annotations": {"n": "2"}}));
        let mut renamed = answer.clone();
        renamed["metadata"]["name"] = json!("b");
        let err = hook.check_converted(&original, &mut renamed, "example.com/v1").unwrap_err();
        assert!(err.starts_with("metadata.name was changed"), "{err}");
        let mut wrong = answer.clone();
        wrong["apiVersion"] = json!("example.com/v1beta1");
        assert!(hook.check_converted(&original, &mut wrong, "example.com/v1").is_err());
        let mut wrong = answer;
        wrong["kind"] = json!("Bar");
        assert!(hook.check_converted(&original, &mut wrong, "example.com/v1").is_err());
    }

    #[tokio::test]
    async fn objects_in_the_desired_version_are_not_sent_and_failures_name_the_webhook() {
        let hook = webhook();
        let v1 = json!({"apiVersion": "example.com/v1", "kind": "Foo", "metadata": {}});
        let same = hook.convert(vec![v1.clone()], "example.com/v1").await.unwrap();
        assert_eq!(same, std::slice::from_ref(&v1));
        let err = hook.convert(vec![v1], "example.com/v1beta1").await.unwrap_err();
        assert_eq!(err.reason, crate::meta::status::Reason::InternalError);
        assert!(
            err.message.starts_with("conversion webhook for example.com/v1, Kind=Foo failed:"),
            "{}",
            err.message
        );
        assert!(err.message.contains("no caBundle"), "{}", err.message);
    }
}
