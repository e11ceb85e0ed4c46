//! Watch responses: the store's [`WatchEvent`]s encoded as a chunked stream of JSON lines
//! (`{"type":"ADDED","object":{…}}`), the encoding kubectl, client-go, kube-rs and the Python
//! client read, or for a built-in kind's client that prefers protobuf as kube's protobuf stream
//! (`application/vnd.kubernetes.protobuf;stream=watch`): frames of a 4-byte big-endian length and
//! a `k8s\0` `WatchEvent` whose object is the object's own `k8s\0` encoding. With
//! `as=PartialObjectMetadata` every object is its metadata alone. The stream ends at `timeoutSeconds` (default: a random 30–60 minutes, like
//! kube-apiserver), when the server shuts down, or after an `ERROR` event. Each object line is
//! encoded once per (served version, format, event type) and its bytes shared by every watcher
//! of the same write ([`crate::registry::store::WatchObject::encoded`]); the events ready at
//! once go out joined in one body frame, at most one frame per [`body::LINGER`] per watch.
//!
//! Data flow: the store's events → [`body::WatchBody`] (until `timeoutSeconds`, shutdown or the
//! end; each event encoded by [`Encoder`] into shared bytes; joined into frames; a closing
//! bookmark at the deadline) → the response body.

mod body;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use metrics::{Counter, Gauge};
use serde_json::{Map, Value, json};

use super::ApiState;
use super::negotiate::{self, Encoding, Offer, Output, TableVersion};
use super::request::Query;
use super::status::ApiError;
use crate::registry::Resource;
use crate::registry::store::{WatchEvent, WatchParams};
use crate::registry::table::{IncludeObject, render_table};

/// kube-apiserver's `--min-request-timeout`: watches without `timeoutSeconds` last between this
/// and twice this.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);

pub async fn respond(
    state: &ApiState,
    resource: Arc<Resource>,
    namespace: Option<String>,
    params: WatchParams,
    query: &Query,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let protobuf = super::protobuf::has_encoding(&resource.gv.api_version(), &resource.kind);
    let output = negotiate::negotiate(headers, Offer { table: true, protobuf, partial: true })?;
    match output {
        Output::Yaml | Output::Partial(negotiate::Partial { encoding: Encoding::Yaml, .. }) => {
            return Err(ApiError::new(
                super::status::Reason::NotAcceptable,
                "watch streams are served as application/json",
            ));
        }
        // Every event's object is one object, never a list.
        Output::Partial(partial) if partial.list => {
            return Err(partial.mismatch("*metav1.WatchEvent"));
        }
        _ => {}
    }
    let timeout = match query.number("timeoutSeconds")? {
        Some(seconds) => Duration::from_secs(seconds as u64),
        None => {
            let jitter = uuid::Uuid::new_v4().as_u128() as u64 % MIN_REQUEST_TIMEOUT.as_secs();
            MIN_REQUEST_TIMEOUT + Duration::from_secs(jitter)
        }
    };
    let include = IncludeObject::parse(query.value("includeObject"));
    let bookmarks = params.allow_bookmarks;
    // Initial-state ADDED events carry their objects' own revisions, older than the snapshot
    // they belong to: resuming from one of those would replay what the state already showed.
    // Without a watch-list bookmark to mark the snapshot, only bookmarks are resume points.
    let rv = params.list.resource_version.as_deref().filter(|rv| !rv.is_empty());
    let objects_are_resume_points = params.send_initial_events || !matches!(rv, None | Some("0"));
    let events = state.store.watch(resource.clone(), namespace, params).await?;
    let mut shutdown = state.shutdown.clone();
    let shutdown = Box::pin(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    });
    let sent = SentEvents::new(&resource);
    let encoder = Encoder { resource, output, include };
    let resume = body::Resume { bookmarks, objects_are_resume_points, last: 0 };
    let body = body::WatchBody::new(events, encoder, timeout, shutdown, resume, sent);
    let mut response = Response::new(Body::new(body));
    *response.status_mut() = StatusCode::OK;
    let content_type = match protobuf_stream(output) {
        true => "application/vnd.kubernetes.protobuf;stream=watch",
        false => "application/json",
    };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    Ok(response)
}

/// One watch's share of the watch metrics: registered while it lives, and its events counted
/// locally and added to the shared counter in batches, so thousands of watchers do not contend
/// on one atomic per event.
struct SentEvents {
    registered: Gauge,
    total: Counter,
    unflushed: u64,
}

impl SentEvents {
    /// Events counted locally before they are added to the shared counter.
    const FLUSH_EVERY: u64 = 64;

    fn new(resource: &Resource) -> SentEvents {
        let labels = watch_labels(resource);
        let registered = metrics::gauge!("apiserver_registered_watchers", &labels);
        registered.increment(1.0);
        let total = metrics::counter!("apiserver_watch_events_total", &labels);
        SentEvents { registered, total, unflushed: 0 }
    }

    fn one(&mut self) {
        self.unflushed += 1;
        if self.unflushed == Self::FLUSH_EVERY {
            self.total.increment(std::mem::take(&mut self.unflushed));
        }
    }
}

impl Drop for SentEvents {
    fn drop(&mut self) {
        self.total.increment(self.unflushed);
        self.registered.decrement(1.0);
    }
}

/// The name of an output format in an event's encoding cache: every input to the bytes besides
/// the served version and the event type, which the cache key holds already.
fn encoding_name(output: Output, include: IncludeObject) -> &'static str {
    match (output, include) {
        (Output::Table(TableVersion::V1), IncludeObject::None) => "table-v1-none",
        (Output::Table(TableVersion::V1), IncludeObject::Metadata) => "table-v1-metadata",
        (Output::Table(TableVersion::V1), IncludeObject::Object) => "table-v1-object",
        (Output::Table(TableVersion::V1Beta1), IncludeObject::None) => "table-v1beta1-none",
        (Output::Table(TableVersion::V1Beta1), IncludeObject::Metadata) => "table-v1beta1-metadata",
        (Output::Table(TableVersion::V1Beta1), IncludeObject::Object) => "table-v1beta1-object",
        (Output::Protobuf, _) => "protobuf",
        (Output::Partial(partial), _) => match (partial.version, protobuf_stream(output)) {
            (TableVersion::V1, false) => "partial-v1-json",
            (TableVersion::V1, true) => "partial-v1-protobuf",
            (TableVersion::V1Beta1, false) => "partial-v1beta1-json",
            (TableVersion::V1Beta1, true) => "partial-v1beta1-protobuf",
        },
        (Output::Json | Output::Yaml, _) => "json",
    }
}

/// Whether the stream is protobuf frames rather than JSON lines.
fn protobuf_stream(output: Output) -> bool {
    matches!(
        output,
        Output::Protobuf | Output::Partial(negotiate::Partial { encoding: Encoding::Protobuf, .. })
    )
}

/// How one watch encodes its events: the resource, the negotiated output and `includeObject`.
#[derive(Clone)]
struct Encoder {
    resource: Arc<Resource>,
    output: Output,
    include: IncludeObject,
}

impl Encoder {
    /// One event as a JSON line (or protobuf frame), or the event back when its object's
    /// conversion is a webhook to be awaited first ([`Encoder::later`]). An object's line is
    /// encoded once per served version and format and shared by every watcher of the same write
    /// (a Table's AGE cell is the first encoder's, too).
    fn now(&self, event: WatchEvent) -> Result<Bytes, WatchEvent> {
        match &event {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o)
                if o.converts_remotely() =>
            {
                Err(event)
            }
            _ => Ok(self.encode(event, None)),
        }
    }

    /// [`Encoder::now`] for an event whose conversion is a webhook: awaited before the
    /// encode-once cache (which cannot await). The converter makes one call per event and served
    /// version, whose answer every watcher shares.
    fn later(&self, event: WatchEvent) -> impl Future<Output = Bytes> + Send + 'static {
        let encoder = self.clone();
        async move {
            let remote = match &event {
                WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                    Some(o.served().await)
                }
                _ => None,
            };
            encoder.encode(event, remote)
        }
    }

    fn encode(&self, event: WatchEvent, remote: Option<Result<Value, ApiError>>) -> Bytes {
        let Encoder { resource, output, include } = self;
        let (output, include) = (*output, *include);
        let kind = event.type_name();
        let object = match event {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                return o.encoded(encoding_name(output, include), || {
                    let encoded = match remote.unwrap_or_else(|| o.served_now()) {
                        Ok(served) => frame(
                            resource,
                            kind,
                            &served_object(resource, served, output, include),
                            output,
                        ),
                        // Shared like any encoding: the conversion fails the same way for
                        // everyone.
                        Err(error) => frame(resource, "ERROR", &error.to_status(), output),
                    };
                    event_size(resource, encoded.len());
                    encoded
                });
            }
            WatchEvent::Listed(o) => served_object(resource, o, output, include),
            WatchEvent::Bookmark { revision, initial_events_end } => {
                let mut metadata = json!({"resourceVersion": revision.to_string()});
                if initial_events_end {
                    metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
                }
                let bookmark = json!({"kind": resource.kind, "apiVersion": resource.gv.api_version(), "metadata": metadata});
                match output {
                    Output::Partial(partial) => partial.of(&bookmark),
                    _ => bookmark,
                }
            }
            WatchEvent::Error(error) => error.to_status(),
        };
        frame(resource, kind, &object, output)
    }
}

/// One event in the stream's encoding: a JSON line, or a protobuf frame (an object that cannot
/// be encoded becomes an `ERROR` event with a 500 Status, which ends the client's watch).
fn frame(resource: &Resource, kind: &str, object: &Value, output: Output) -> Bytes {
    if !protobuf_stream(output) {
        return line(kind, object);
    }
    let api_version = resource.gv.api_version();
    let encoded = super::protobuf::encode_object(object).map(|raw| (kind, raw)).or_else(|err| {
        let status = ApiError::internal(err.to_string()).to_status();
        super::protobuf::encode_object(&status).map(|raw| ("ERROR", raw))
    });
    match encoded {
        Ok((kind, raw)) => Bytes::from(super::protobuf::watch_frame(&api_version, kind, &raw)),
        Err(_) => Bytes::new(),
    }
}

/// `apiserver_watch_events_sizes`, recorded once per encoding: every watcher of that encoding is
/// sent the same bytes.
fn event_size(resource: &Resource, bytes: usize) {
    let labels = watch_labels(resource);
    metrics::histogram!("apiserver_watch_events_sizes", &labels).record(bytes as f64);
}

/// kube-apiserver's labels of the per-version watch metrics.
fn watch_labels(resource: &Resource) -> [(&'static str, String); 3] {
    [
        ("group", resource.gv.group.clone()),
        ("version", resource.gv.version.clone()),
        ("kind", resource.kind.clone()),
    ]
}

/// An event's object in the requested output: itself, or a one-row Table.
fn served_object(resource: &Resource, o: Value, output: Output, include: IncludeObject) -> Value {
    match output {
        Output::Table(version) => {
            let mut meta = Map::new();
            if let Some(rv) = o.pointer("/metadata/resourceVersion") {
                meta.insert("resourceVersion".into(), rv.clone());
            }
            let mut table = render_table(&resource.table, std::slice::from_ref(&o), include, meta);
            table["apiVersion"] = version.api_version().into();
            table
        }
        Output::Partial(partial) => partial.of(&o),
        Output::Json | Output::Yaml | Output::Protobuf => o,
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}
