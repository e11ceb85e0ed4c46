//! Protobuf responses and the metadata-only forms, through the in-process router, decoded by a
//! real protobuf client: kube-rs' `k8s-pb` messages with `prost`. GET, LIST, writes, DELETE's
//! Status, errors, WATCH frames; client-go's Accept lists with quality values; custom resources
//! (JSON when acceptable, 406 otherwise); `PartialObjectMetadata(List)` in JSON and protobuf.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Value, json};
use support::router::{Api, CMS, api, configmap};
use tower::ServiceExt;

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
/// What client-go's typed clients send when protobuf is enabled (kubectl's `create`, `scale`).
const CLIENT_GO: &str = "application/vnd.kubernetes.protobuf, */*";
/// What client-go's metadata client sends.
const METADATA_CLIENT: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {:?}", self.body))
    }

    /// The `runtime.Unknown` after `k8s\0`: its apiVersion, kind and raw message.
    fn unknown(&self) -> (String, String, Vec<u8>) {
        assert_eq!(self.content_type, PROTOBUF, "{}", String::from_utf8_lossy(&self.body));
        unwrap(&self.body)
    }
}

fn unwrap(body: &[u8]) -> (String, String, Vec<u8>) {
    let raw = body.strip_prefix(b"k8s\0").expect("the k8s\\0 magic");
    let unknown = Unknown::decode(raw).unwrap();
    let type_meta = unknown.type_meta.unwrap();
    assert_eq!(unknown.content_encoding.as_deref(), Some(""));
    assert_eq!(unknown.content_type.as_deref(), Some(""));
    (type_meta.api_version.unwrap(), type_meta.kind.unwrap(), unknown.raw.unwrap())
}

async fn send(api: &Api, method: Method, uri: &str, accept: &str, body: Option<Value>) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if !accept.is_empty() {
        request = request.header("accept", accept);
    }
    let request = request
        .header("content-type", "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    Answer { status, content_type, body }
}

async fn get(api: &Api, uri: &str, accept: &str) -> Answer {
    send(api, Method::GET, uri, accept, None).await
}

fn labelled(name: &str) -> Value {
    let mut cm = configmap(name);
    cm["metadata"]["labels"] = json!({"app": "web", "tier": "a"});
    cm["binaryData"] = json!({"bin": "AAEC/w=="});
    cm
}

#[tokio::test]
async fn get_and_writes_answer_in_protobuf() {
    let api = api().await;
    let created = send(&api, Method::POST, CMS, CLIENT_GO, Some(labelled("web"))).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let (api_version, kind, raw) = created.unknown();
    assert_eq!((api_version.as_str(), kind.as_str()), ("v1", "ConfigMap"));
    let cm = core::ConfigMap::decode(raw.as_slice()).unwrap();
    let metadata = cm.metadata.unwrap();
    assert_eq!(metadata.name.as_deref(), Some("web"));
    assert_eq!(metadata.namespace.as_deref(), Some("default"));
    assert!(metadata.uid.is_some_and(|uid| uid.len() == 36));
    assert_eq!(metadata.labels.len(), 2);
    assert_eq!(cm.data.get("k").map(String::as_str), Some("v"));
    assert_eq!(cm.binary_data.get("bin"), Some(&vec![0u8, 1, 2, 255]));

    // The same object read back, by a client that ranks protobuf above JSON by quality.
    let read = get(
        &api,
        &format!("{CMS}/web"),
        "application/json;q=0.9, application/vnd.kubernetes.protobuf",
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    let (_, _, raw) = read.unknown();
    let cm = core::ConfigMap::decode(raw.as_slice()).unwrap();
    let json = get(&api, &format!("{CMS}/web"), "application/json").await.json();
    let metadata = cm.metadata.unwrap();
    assert_eq!(metadata.resource_version.as_deref(), json["metadata"]["resourceVersion"].as_str());
    let created_at = metadata.creation_timestamp.unwrap().seconds.unwrap();
    assert!(created_at > 1_700_000_000, "{created_at}");

    // A PUT answers in protobuf too.
    let mut update = json.clone();
    update["data"]["k"] = "w".into();
    let updated = send(&api, Method::PUT, &format!("{CMS}/web"), PROTOBUF, Some(update)).await;
    assert_eq!(updated.status, StatusCode::OK);
    let cm = core::ConfigMap::decode(updated.unknown().2.as_slice()).unwrap();
    assert_eq!(cm.data.get("k").map(String::as_str), Some("w"));

    // DELETE of a ConfigMap answers a Status of kind Success.
    let deleted = send(&api, Method::DELETE, &format!("{CMS}/web"), CLIENT_GO, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let (api_version, kind, raw) = deleted.unknown();
    assert_eq!((api_version.as_str(), kind.as_str()), ("v1", "Status"));
    let status = meta::Status::decode(raw.as_slice()).unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
    assert_eq!(status.details.unwrap().name.as_deref(), Some("web"));
}

#[tokio::test]
async fn errors_are_protobuf_statuses_for_protobuf_clients() {
    let api = api().await;
    let missing = get(&api, &format!("{CMS}/nope"), CLIENT_GO).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let (api_version, kind, raw) = missing.unknown();
    assert_eq!((api_version.as_str(), kind.as_str()), ("v1", "Status"));
    let status = meta::Status::decode(raw.as_slice()).unwrap();
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(status.reason.as_deref(), Some("NotFound"));
    assert_eq!(status.code, Some(404));
    assert_eq!(status.message.as_deref(), Some("configmaps \"nope\" not found"));
    // A JSON client gets JSON; an Accept nothing matches still gets the error, as JSON.
    assert_eq!(get(&api, &format!("{CMS}/nope"), "application/json").await.json()["code"], 404);
    let odd = get(&api, &format!("{CMS}/nope"), "text/html").await;
    assert_eq!(odd.status, StatusCode::NOT_FOUND);
    assert_eq!(odd.json()["reason"], "NotFound");
}

#[tokio::test]
async fn a_list_is_the_list_message_with_every_item() {
    let api = api().await;
    for name in ["a", "b", "c"] {
        assert_eq!(api.post(CMS, labelled(name)).await.0, StatusCode::CREATED);
    }
    let list = get(&api, CMS, CLIENT_GO).await;
    assert_eq!(list.status, StatusCode::OK);
    let (api_version, kind, raw) = list.unknown();
    assert_eq!((api_version.as_str(), kind.as_str()), ("v1", "ConfigMapList"));
    let list = core::ConfigMapList::decode(raw.as_slice()).unwrap();
    let names: Vec<_> =
        list.items.iter().map(|cm| cm.metadata.clone().unwrap().name.unwrap()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(list.metadata.unwrap().resource_version.is_some_and(|rv| !rv.is_empty()));

    // A page: the continue token and the remaining count.
    let page = get(&api, &format!("{CMS}?limit=2"), PROTOBUF).await;
    let page = core::ConfigMapList::decode(page.unknown().2.as_slice()).unwrap();
    assert_eq!(page.items.len(), 2);
    let meta = page.metadata.unwrap();
    assert!(meta.r#continue.is_some_and(|token| !token.is_empty()));
    assert_eq!(meta.remaining_item_count, Some(1));

    // Tables stay JSON: kube serves them as JSON or YAML only.
    let table = get(&api, CMS, "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io").await;
    assert_eq!(table.json()["kind"], "Table");
}

/// The frames of a watch body: a 4-byte big-endian length, then a `k8s\0` WatchEvent.
fn frames(mut body: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let len = u32::from_be_bytes(body[..4].try_into().unwrap()) as usize;
        let (api_version, kind, raw) = unwrap(&body[4..4 + len]);
        assert_eq!((api_version.as_str(), kind.as_str()), ("v1", "WatchEvent"));
        let event = meta::WatchEvent::decode(raw.as_slice()).unwrap();
        let object = event.object.unwrap().raw.unwrap();
        let (_, kind, raw) = unwrap(&object);
        out.push((event.r#type.unwrap(), kind, raw));
        body = &body[4 + len..];
    }
    out
}

#[tokio::test]
async fn a_watch_is_a_stream_of_length_prefixed_events() {
    let api = api().await;
    assert_eq!(api.post(CMS, labelled("first")).await.0, StatusCode::CREATED);
    let list = get(&api, CMS, "application/json").await.json();
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let watch = {
        let uri =
            format!("{CMS}?watch=1&timeoutSeconds=2&allowWatchBookmarks=true&resourceVersion={rv}");
        let api_router = api.router.clone();
        tokio::spawn(async move {
            let request = Request::builder()
                .uri(uri)
                .header("accept", CLIENT_GO)
                .body(Body::empty())
                .unwrap();
            let response = api_router.oneshot(request).await.unwrap();
            let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (content_type, body)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.post(CMS, labelled("second")).await.0, StatusCode::CREATED);
    assert_eq!(api.delete(&format!("{CMS}/first")).await.0, StatusCode::OK);
    let (content_type, body) = watch.await.unwrap();
    assert_eq!(content_type, "application/vnd.kubernetes.protobuf;stream=watch");
    let mut seen = Vec::new();
    for (event_type, kind, raw) in frames(&body) {
        assert_eq!(kind, "ConfigMap");
        let cm = core::ConfigMap::decode(raw.as_slice()).unwrap();
        let metadata = cm.metadata.unwrap();
        let name = metadata.name.unwrap_or_default();
        seen.push((event_type, name, metadata.resource_version.unwrap_or_default()));
    }
    let types: Vec<(&str, &str)> = seen.iter().map(|(t, n, _)| (t.as_str(), n.as_str())).collect();
    // At the watch's deadline, a bookmark: an object with only its resourceVersion.
    assert_eq!(types, [("ADDED", "second"), ("DELETED", "first"), ("BOOKMARK", "")], "after {rv}");
    assert!(seen.iter().all(|(_, _, rv)| !rv.is_empty()), "{seen:?}");
}

#[tokio::test]
async fn metadata_only_forms_in_json_and_protobuf() {
    let api = api().await;
    assert_eq!(api.post(CMS, labelled("m")).await.0, StatusCode::CREATED);
    let partial = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
    let list_form = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

    let one = get(&api, &format!("{CMS}/m"), partial).await.json();
    assert_eq!(one["kind"], "PartialObjectMetadata");
    assert_eq!(one["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(one["metadata"]["labels"]["app"], "web");
    assert_eq!(one.as_object().unwrap().len(), 3, "only the metadata: {one}");

    let list = get(&api, CMS, list_form).await.json();
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1");
    assert!(list["metadata"]["resourceVersion"].is_string());
    let item = &list["items"].as_array().unwrap()[0];
    assert_eq!(item["kind"], "PartialObjectMetadata");
    assert_eq!(item["metadata"]["name"], "m");
    assert!(item.get("data").is_none());

    // The wrong form for the request: kube's 406s.
    let wrong = get(&api, CMS, partial).await;
    assert_eq!(wrong.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        wrong.json()["message"],
        "you requested PartialObjectMetadata, but the requested object is a list (*core.ConfigMapList)"
    );
    let wrong = get(&api, &format!("{CMS}/m"), list_form).await;
    assert_eq!(wrong.status, StatusCode::NOT_ACCEPTABLE);

    // client-go's metadata client: protobuf.
    let one = get(&api, &format!("{CMS}/m"), METADATA_CLIENT).await;
    let (api_version, kind, raw) = one.unknown();
    assert_eq!((api_version.as_str(), kind.as_str()), ("meta.k8s.io/v1", "PartialObjectMetadata"));
    let one = meta::PartialObjectMetadata::decode(raw.as_slice()).unwrap();
    assert_eq!(one.metadata.unwrap().name.as_deref(), Some("m"));
    let list = get(
        &api,
        CMS,
        &METADATA_CLIENT.replace("PartialObjectMetadata;", "PartialObjectMetadataList;"),
    )
    .await;
    let (_, kind, raw) = list.unknown();
    assert_eq!(kind, "PartialObjectMetadataList");
    let list = meta::PartialObjectMetadataList::decode(raw.as_slice()).unwrap();
    let names: Vec<_> =
        list.items.iter().map(|i| i.metadata.clone().unwrap().name.unwrap()).collect();
    assert!(names.contains(&"m".to_owned()), "{names:?}");

    // A metadata watch: every event's object is a PartialObjectMetadata.
    let watch = get(&api, &format!("{CMS}?watch=1&timeoutSeconds=1"), METADATA_CLIENT).await;
    let events = frames(&watch.body);
    assert!(!events.is_empty());
    for (_, kind, raw) in events {
        assert_eq!(kind, "PartialObjectMetadata");
        assert!(meta::PartialObjectMetadata::decode(raw.as_slice()).unwrap().metadata.is_some());
    }
    let watch = get(&api, &format!("{CMS}?watch=1&timeoutSeconds=1"), partial).await;
    let line: Value =
        serde_json::from_slice(watch.body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["object"]["kind"], "PartialObjectMetadata");
}

#[tokio::test]
async fn custom_resources_answer_json_or_406() {
    let api = api().await;
    let crd = json!({"metadata": {"name": "gadgets.shop.example.com"},
        "spec": {"group": "shop.example.com", "scope": "Namespaced",
            "names": {"plural": "gadgets", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object",
                    "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    // The CRD itself is a built-in kind: protobuf.
    let created = send(&api, Method::POST, crds, CLIENT_GO, Some(crd)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.unknown().1, "CustomResourceDefinition");
    let gadgets = "/apis/shop.example.com/v1/namespaces/default/gadgets";
    let gadget = json!({"apiVersion": "shop.example.com/v1", "kind": "Gadget",
                        "metadata": {"name": "g"}, "spec": {"size": 1}});
    loop {
        let created = send(&api, Method::POST, gadgets, CLIENT_GO, Some(gadget.clone())).await;
        if created.status == StatusCode::CREATED {
            assert_eq!(created.content_type, "application/json");
            break;
        }
        assert_eq!(created.status, StatusCode::NOT_FOUND);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(get(&api, &format!("{gadgets}/g"), CLIENT_GO).await.json()["spec"]["size"], 1);
    let only = get(&api, &format!("{gadgets}/g"), PROTOBUF).await;
    assert_eq!(only.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        only.json()["message"],
        "only the following media types are accepted: application/json, application/yaml"
    );
    // Their metadata is served in protobuf all the same (metadata informers on custom resources).
    let partial = get(
        &api,
        gadgets,
        &METADATA_CLIENT.replace("PartialObjectMetadata;", "PartialObjectMetadataList;"),
    )
    .await;
    let list = meta::PartialObjectMetadataList::decode(partial.unknown().2.as_slice()).unwrap();
    assert_eq!(list.items[0].metadata.clone().unwrap().name.as_deref(), Some("g"));
    let wrong =
        get(&api, gadgets, "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1").await;
    assert_eq!(
        wrong.json()["message"],
        "you requested PartialObjectMetadata, but the requested object is a list (*unstructured.UnstructuredList)"
    );
}

/// A `k8s\0` request body: `message` in its `runtime.Unknown`, as client-go writes it.
fn envelope(api_version: &str, kind: &str, message: &impl Message) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(message.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

/// A request with raw bytes for a body.
async fn send_raw(
    api: &Api,
    method: Method,
    uri: &str,
    accept: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", accept)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    Answer { status, content_type, body }
}

fn failure(answer: &Answer) -> meta::Status {
    let (api_version, kind, raw) = answer.unknown();
    assert_eq!((api_version.as_str(), kind.as_str()), ("v1", "Status"));
    meta::Status::decode(raw.as_slice()).unwrap()
}

#[tokio::test]
async fn the_scale_subresource_speaks_protobuf() {
    use k8s_pb::api::autoscaling::v1 as autoscaling;
    let api = api().await;
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    assert_eq!(api.post(deployments, deployment).await.0, StatusCode::CREATED);
    let scale_uri = format!("{deployments}/web/scale");
    let decode = |answer: &Answer| {
        let (api_version, kind, raw) = answer.unknown();
        assert_eq!((api_version.as_str(), kind.as_str()), ("autoscaling/v1", "Scale"));
        autoscaling::Scale::decode(raw.as_slice()).unwrap()
    };

    // GET, as kubectl scale's typed client asks for it.
    let read = get(&api, &scale_uri, CLIENT_GO).await;
    assert_eq!(read.status, StatusCode::OK);
    let scale = decode(&read);
    assert_eq!(scale.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(scale.status.as_ref().unwrap().selector.as_deref(), Some("app=web"));
    let metadata = scale.metadata.clone().unwrap();
    assert_eq!(metadata.name.as_deref(), Some("web"));
    assert!(metadata.resource_version.as_deref().is_some_and(|rv| !rv.is_empty()));

    // PUT of a protobuf body, answered in protobuf.
    let mut desired = scale.clone();
    desired.spec = Some(autoscaling::ScaleSpec { replicas: Some(5) });
    desired.status = None;
    let body = envelope("autoscaling/v1", "Scale", &desired);
    let put = send_raw(&api, Method::PUT, &scale_uri, CLIENT_GO, PROTOBUF, body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", String::from_utf8_lossy(&put.body));
    assert_eq!(decode(&put).spec.unwrap().replicas, Some(5));
    let stored = api.get(&format!("{deployments}/web")).await.1;
    assert_eq!(stored["spec"]["replicas"], 5);

    // PATCH answers in protobuf.
    let patch = br#"{"spec":{"replicas":7}}"#.to_vec();
    let merge = "application/merge-patch+json";
    let patched = send_raw(&api, Method::PATCH, &scale_uri, PROTOBUF, merge, patch).await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(decode(&patched).spec.unwrap().replicas, Some(7));

    // A stale resourceVersion in the PUT body: the 409 as a protobuf Status.
    let stale = send_raw(
        &api,
        Method::PUT,
        &scale_uri,
        CLIENT_GO,
        PROTOBUF,
        envelope("autoscaling/v1", "Scale", &desired),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let status = failure(&stale);
    assert_eq!((status.code, status.reason.as_deref()), (Some(409), Some("Conflict")));
    // JSON for a JSON client, as before.
    let json = get(&api, &scale_uri, "application/json").await;
    assert_eq!(json.json()["spec"]["replicas"], 7);
}

#[tokio::test]
async fn create_only_kinds_answer_in_protobuf() {
    use k8s_pb::api::authentication::v1 as authentication;
    use k8s_pb::api::authorization::v1 as authorization;
    let api = api().await;

    // SelfSubjectReview: a JSON body, a protobuf answer.
    let reviews = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let answer = send(&api, Method::POST, reviews, CLIENT_GO, Some(review)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let (api_version, kind, raw) = answer.unknown();
    assert_eq!(
        (api_version.as_str(), kind.as_str()),
        ("authentication.k8s.io/v1", "SelfSubjectReview")
    );
    let review = authentication::SelfSubjectReview::decode(raw.as_slice()).unwrap();
    let user = review.status.unwrap().user_info.unwrap();
    assert_eq!(user.username.as_deref(), Some("kubernetes-admin"));
    assert!(user.groups.contains(&"system:masters".to_owned()), "{:?}", user.groups);

    // SubjectAccessReview: a protobuf body and a protobuf answer.
    let request = authorization::SubjectAccessReview {
        spec: Some(authorization::SubjectAccessReviewSpec {
            resource_attributes: Some(authorization::ResourceAttributes {
                namespace: Some("default".into()),
                verb: Some("get".into()),
                resource: Some("configmaps".into()),
                ..Default::default()
            }),
            user: Some("alice".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let body = envelope("authorization.k8s.io/v1", "SubjectAccessReview", &request);
    let sars = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    let answer = send_raw(&api, Method::POST, sars, PROTOBUF, PROTOBUF, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&answer.body));
    let (_, kind, raw) = answer.unknown();
    assert_eq!(kind, "SubjectAccessReview");
    let review = authorization::SubjectAccessReview::decode(raw.as_slice()).unwrap();
    assert_eq!(review.spec.unwrap().user.as_deref(), Some("alice"));
    assert!(review.status.unwrap().allowed.is_some());

    // Eviction and Binding answer a Status.
    let pods = "/api/v1/namespaces/default/pods";
    for name in ["evicted", "bound"] {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        assert_eq!(api.post(pods, pod).await.0, StatusCode::CREATED);
    }
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": "evicted"}});
    let uri = format!("{pods}/evicted/eviction");
    let evicted = send(&api, Method::POST, &uri, CLIENT_GO, Some(eviction)).await;
    assert_eq!(evicted.status, StatusCode::CREATED);
    let status = failure(&evicted);
    assert_eq!((status.status.as_deref(), status.code), (Some("Success"), Some(201)));
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"},
        "target": {"kind": "Node", "name": "node-1"}});
    let bound =
        send(&api, Method::POST, &format!("{pods}/bound/binding"), PROTOBUF, Some(binding)).await;
    assert_eq!(bound.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&bound.body));
    assert_eq!(failure(&bound).status.as_deref(), Some("Success"));

    // TokenRequest for a missing service account: the 404 as a protobuf Status; another
    // method, the 405 likewise.
    let uri = "/api/v1/namespaces/default/serviceaccounts/nobody/token";
    let token = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"audiences": ["x"]}});
    let missing = send(&api, Method::POST, uri, CLIENT_GO, Some(token)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(failure(&missing).reason.as_deref(), Some("NotFound"));
    let wrong = send(&api, Method::GET, reviews, CLIENT_GO, None).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(failure(&wrong).code, Some(405));
    // JSON clients still get JSON.
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let json = send(&api, Method::POST, reviews, "application/json", Some(review)).await;
    assert_eq!(json.json()["status"]["userInfo"]["username"], "kubernetes-admin");
}
