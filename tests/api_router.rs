//! The API router in-process (no sockets): Status errors for bad input, nothing stored, and a
//! fuzz-style barrage of malformed requests that must never produce a 5xx or change the log.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use kube_ledger::registry::builtin;
use kube_ledger::registry::resource::{GroupVersion, Resource, SameVersion};
use kube_ledger::registry::strategy::NoRules;
use serde_json::{Value, json};
use support::router::{CMS, api, assert_status, configmap};
use support::suite::Lcg;
use tower::ServiceExt;

#[tokio::test]
async fn crud_round_trip_with_metadata_maintained_by_the_server() {
    let api = api().await;
    let (code, created) = api.post(CMS, configmap("a")).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["generation"], 1);
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_owned();

    // A stale resourceVersion in an update is a 409 Conflict.
    let mut stale = created.clone();
    stale["data"]["k"] = "w".into();
    let (code, updated) = api
        .call(Method::PUT, &format!("{CMS}/a"), "application/json", stale.to_string().into())
        .await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_ne!(updated["metadata"]["resourceVersion"], rv.as_str());
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    let again = api
        .call(Method::PUT, &format!("{CMS}/a"), "application/json", stale.to_string().into())
        .await;
    assert_status(&again, 409, "Conflict");

    // generateName.
    let (code, generated) = api.post(CMS, json!({"metadata": {"generateName": "gen-"}})).await;
    assert_eq!(code, StatusCode::CREATED);
    let name = generated["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    // dryRun writes nothing.
    let before = api.storage.current_revision().await.unwrap();
    let (code, _) = api.post(&format!("{CMS}?dryRun=All"), configmap("dry")).await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(api.storage.current_revision().await.unwrap(), before);
    assert_status(&api.call(Method::GET, &format!("{CMS}/dry"), "", vec![]).await, 404, "NotFound");

    // Delete with a failing precondition, then for real.
    let wrong = json!({"preconditions": {"uid": "not-the-uid"}}).to_string().into_bytes();
    assert_status(
        &api.call(Method::DELETE, &format!("{CMS}/a"), "application/json", wrong).await,
        409,
        "Conflict",
    );
    let (code, status) = api.call(Method::DELETE, &format!("{CMS}/a"), "", vec![]).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["status"], "Success");
    assert_status(&api.call(Method::GET, &format!("{CMS}/a"), "", vec![]).await, 404, "NotFound");
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_until_removed() {
    let api = api().await;
    let mut cm = configmap("held");
    cm["metadata"]["finalizers"] = json!(["example.com/hold"]);
    api.post(CMS, cm).await;
    let (code, pending) = api.call(Method::DELETE, &format!("{CMS}/held"), "", vec![]).await;
    assert_eq!(code, StatusCode::OK);
    assert!(pending["metadata"]["deletionTimestamp"].is_string(), "{pending}");
    let (_, still) = api.call(Method::GET, &format!("{CMS}/held"), "", vec![]).await;
    assert!(still["metadata"]["deletionTimestamp"].is_string());
    let patch = json!({"metadata": {"finalizers": null}}).to_string().into_bytes();
    let (code, _) = api
        .call(Method::PATCH, &format!("{CMS}/held"), "application/merge-patch+json", patch)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_status(
        &api.call(Method::GET, &format!("{CMS}/held"), "", vec![]).await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_stores_nothing() {
    let api = api().await;
    api.post(CMS, configmap("exists")).await;
    let before = api.storage.current_revision().await.unwrap();
    let json_body = |v: Value| v.to_string().into_bytes();
    // method, URI, content type, body, expected code and reason
    type Case = (Method, String, &'static str, Vec<u8>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (Method::POST, CMS.into(), "application/json", b"{not json".to_vec(), 400, "BadRequest"),
        (Method::POST, CMS.into(), "application/yaml", b"a: [1, 2".to_vec(), 400, "BadRequest"),
        (Method::POST, CMS.into(), "application/json", b"[1,2,3]".to_vec(), 400, "BadRequest"),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(
                json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            ),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(json!({"metadata": {"name": "x", "namespace": "other"}})),
            400,
            "BadRequest",
        ),
        (
            Method::PUT,
            format!("{CMS}/exists"),
            "application/json",
            json_body(configmap("different")),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(configmap("Not_Valid")),
            422,
            "Invalid",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(json!({"metadata": {"name": "x", "labels": {"bad key!": "v"}}})),
            422,
            "Invalid",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(json!({"metadata": {"name": "x"}, "data": {"bad/key": "v"}})),
            422,
            "Invalid",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json_body(configmap("exists")),
            409,
            "AlreadyExists",
        ),
        (Method::POST, CMS.into(), "text/plain", b"data: x".to_vec(), 415, "UnsupportedMediaType"),
        (
            Method::POST,
            CMS.into(),
            "application/vnd.kubernetes.protobuf",
            vec![1, 2, 3],
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/vnd.kubernetes.protobuf",
            b"k8s\0\x0a\x0a\x0a\x02v1\x12\x04Nope".to_vec(), // an envelope of a kind without protobuf
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            vec![b' '; 10 * 1024 * 1024],
            413,
            "RequestEntityTooLarge",
        ),
        (Method::GET, format!("{CMS}?labelSelector=a%3D%3D%3Db"), "", vec![], 400, "BadRequest"),
        (Method::GET, format!("{CMS}?fieldSelector=spec.nope%3Dx"), "", vec![], 400, "BadRequest"),
        (Method::GET, format!("{CMS}?limit=abc"), "", vec![], 400, "BadRequest"),
        (Method::GET, format!("{CMS}?watch=perhaps"), "", vec![], 400, "BadRequest"),
        (Method::GET, format!("{CMS}?continue=garbage"), "", vec![], 400, "BadRequest"),
        (
            Method::GET,
            format!("{CMS}?resourceVersion=5&resourceVersionMatch=Sometimes"),
            "",
            vec![],
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            format!("{CMS}?dryRun=Partly"),
            "application/json",
            json_body(configmap("x")),
            400,
            "BadRequest",
        ),
        (Method::GET, "/api/v1/namespaces/default/widgets".into(), "", vec![], 404, "NotFound"),
        (Method::GET, "/apis/nope.example.com/v1/things".into(), "", vec![], 404, "NotFound"),
        (
            Method::POST,
            "/api/v1/namespaces/nowhere/configmaps".into(),
            "application/json",
            json_body(configmap("x")),
            404,
            "NotFound",
        ),
        (
            Method::PATCH,
            format!("{CMS}/exists"),
            "application/json-patch+json",
            json_body(json!([{"op": "test", "path": "/data/k", "value": "nope"}])),
            422,
            "Invalid",
        ),
        (
            Method::PATCH,
            format!("{CMS}/exists"),
            "application/json",
            json_body(json!({})),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::PATCH,
            format!("{CMS}/missing"),
            "application/merge-patch+json",
            json_body(json!({})),
            404,
            "NotFound",
        ),
        (
            Method::DELETE,
            format!("{CMS}/exists?propagationPolicy=Sideways"),
            "",
            vec![],
            422,
            "Invalid",
        ),
        (
            Method::POST,
            format!("{CMS}/exists"),
            "application/json",
            json_body(configmap("exists")),
            405,
            "MethodNotAllowed",
        ),
    ];
    for (method, uri, content_type, body, code, reason) in cases {
        let got = api.call(method.clone(), &uri, content_type, body).await;
        assert_eq!(got.0.as_u16(), code, "{method} {uri}: {}", got.1);
        assert_status(&got, code, reason);
    }
    assert_eq!(api.storage.current_revision().await.unwrap(), before, "nothing was stored");
}

#[tokio::test]
async fn invalid_objects_name_each_field_in_causes() {
    let api = api().await;
    let (code, status) = api
        .post(
            CMS,
            json!({"metadata": {"name": "Bad_Name", "labels": {"-x": "y"}}, "data": {"a b": "c"}}),
        )
        .await;
    assert_eq!(code.as_u16(), 422);
    let fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"metadata.name"), "{status}");
    assert!(fields.iter().any(|f| f.starts_with("metadata.labels")), "{status}");
    assert!(fields.iter().any(|f| f.starts_with("data")), "{status}");
    assert_eq!(status["details"]["kind"], "ConfigMap");
}

#[tokio::test]
async fn thousands_of_malformed_requests_never_5xx_and_rejected_ones_write_nothing() {
    let api = api().await;
    api.post(CMS, configmap("target")).await;
    let mut before = api.storage.current_revision().await.unwrap();
    let mut rejected = 0;
    let mut rng = Lcg::new(7);
    let paths = [
        CMS.to_owned(),
        format!("{CMS}/target"),
        format!("{CMS}/target/status"),
        "/api/v1/namespaces".into(),
        "/api/v1/namespaces/default".into(),
        "/apis/apps/v1/namespaces/default/deployments".into(),
        "/apis/apps/v1/namespaces/default/deployments/x/scale".into(),
        "/api/v1/pods".into(),
        "/api/v1/namespaces/default/pods/p".into(),
        "/apis/coordination.k8s.io/v1/namespaces/default/leases".into(),
        "/apis/events.k8s.io/v1/namespaces/default/events".into(),
        "/api/v1/namespaces/default/unknown".into(),
        "/apis".into(),
        "/api/v1/namespaces/%00/configmaps".into(),
    ];
    let queries = [
        "",
        "?watch=maybe",
        "?limit=-1",
        "?labelSelector=in%20(",
        "?fieldSelector=%3D%3D",
        "?continue=%%%",
        "?resourceVersion=abc",
        "?resourceVersionMatch=Exact",
        "?dryRun=Nope",
        "?timeoutSeconds=x",
        "?propagationPolicy=Up",
        "?gracePeriodSeconds=-5",
    ];
    let types = [
        "application/json",
        "application/yaml",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "text/plain",
        "",
    ];
    let fragments: [&[u8]; 12] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"metadata\":",
        b"{\"name\":\"Bad Name\"}",
        b"null",
        b"\xff\xfe",
        b"{\"op\":\"remove\",\"path\":\"/metadata\"}",
        b"- a\n- : b",
        b"\"kind\":\"Pod\"",
        b"12345678901234567890",
    ];
    let methods = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    for i in 0..3000 {
        let path = &paths[rng.below(paths.len() as u64) as usize];
        let query = queries[rng.below(queries.len() as u64) as usize];
        let content_type = types[rng.below(types.len() as u64) as usize];
        let method = methods[rng.below(methods.len() as u64) as usize].clone();
        let mut body = Vec::new();
        for _ in 0..rng.below(6) {
            body.extend_from_slice(fragments[rng.below(fragments.len() as u64) as usize]);
        }
        let (code, status) =
            api.call(method.clone(), &format!("{path}{query}"), content_type, body.clone()).await;
        assert!(
            code.as_u16() < 500,
            "request {i}: {method} {path}{query} {content_type} {:?} → {code} {status}",
            String::from_utf8_lossy(&body)
        );
        let after = api.storage.current_revision().await.unwrap();
        if code.is_client_error() {
            rejected += 1;
            assert_eq!(status["kind"], "Status", "request {i}: {status}");
            assert_eq!(after, before, "request {i} was rejected ({code}) but wrote to the log");
        }
        before = after;
    }
    // Mostly garbage: the barrage exercised the error paths, not the happy ones.
    assert!(rejected > 2500, "only {rejected} of 3000 requests were rejected");
}

#[tokio::test]
async fn a_resource_registered_at_runtime_is_served_like_a_built_in() {
    let api = api().await;
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";
    assert_status(&api.call(Method::GET, widgets, "", vec![]).await, 404, "NotFound");
    api.registry
        .register(Resource {
            gv: GroupVersion::new("example.com", "v1"),
            kind: "Widget".into(),
            plural: "widgets".into(),
            singular: "widget".into(),
            short_names: vec!["wd".into()],
            categories: vec![],
            namespaced: true,
            status_subresource: false,
            scale_subresource: None,
            storage_prefix: "/example.com/widgets".into(),
            storage_gv: GroupVersion::new("example.com", "v1"),
            conversion: Arc::new(SameVersion {
                api_version: "example.com/v1".into(),
                kind: "Widget".into(),
            }),
            strategy: Arc::new(NoRules),
            table: builtin::default_table(),
        })
        .unwrap();
    for (name, color) in [("a", "red"), ("b", "blue"), ("c", "red")] {
        let body =
            json!({"metadata": {"name": name, "labels": {"color": color}}, "spec": {"size": 3}});
        let (code, created) = api.post(widgets, body).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        assert_eq!(created["apiVersion"], "example.com/v1");
    }
    let (_, reds) = api
        .call(Method::GET, &format!("{widgets}?labelSelector=color%3Dred&limit=1"), "", vec![])
        .await;
    assert_eq!(reds["kind"], "WidgetList");
    assert_eq!(reds["items"][0]["metadata"]["name"], "a");
    let token = reds["metadata"]["continue"].as_str().unwrap();
    let (_, rest) = api
        .call(
            Method::GET,
            &format!("{widgets}?labelSelector=color%3Dred&limit=1&continue={token}"),
            "",
            vec![],
        )
        .await;
    assert_eq!(rest["items"][0]["metadata"]["name"], "c");
    let (_, discovery) = api.call(Method::GET, "/apis/example.com/v1", "", vec![]).await;
    assert_eq!(discovery["resources"][0]["name"], "widgets");

    // deletecollection with a selector deletes exactly the selection.
    let (code, deleted) =
        api.call(Method::DELETE, &format!("{widgets}?labelSelector=color%3Dred"), "", vec![]).await;
    assert_eq!(code, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["items"].as_array().unwrap().len(), 2);
    let (_, left) = api.call(Method::GET, widgets, "", vec![]).await;
    let names: Vec<&str> = left["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b"]);
}

#[tokio::test]
async fn a_terminating_namespace_refuses_new_content_until_it_is_gone() {
    let api = api().await;
    api.post("/api/v1/namespaces", json!({"metadata": {"name": "closing"}})).await;
    let cms = "/api/v1/namespaces/closing/configmaps";
    let mut held = configmap("held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    api.post(cms, held).await;
    let (code, ns) = api.call(Method::DELETE, "/api/v1/namespaces/closing", "", vec![]).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(ns["status"]["phase"], "Terminating");
    // The held configmap keeps the namespace terminating; new content is refused with a 403.
    let refused = api.post(cms, configmap("new")).await;
    assert_status(&refused, 403, "Forbidden");
    assert!(refused.1["message"].as_str().unwrap().contains("because it is being terminated"));
    // Releasing the finalizer lets the namespace controller finish.
    let release = json!({"metadata": {"finalizers": null}}).to_string().into_bytes();
    api.call(Method::PATCH, &format!("{cms}/held"), "application/merge-patch+json", release).await;
    let mut gone = false;
    for _ in 0..100 {
        if api.call(Method::GET, "/api/v1/namespaces/closing", "", vec![]).await.0
            == StatusCode::NOT_FOUND
        {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the namespace was not removed after its content went");
}

#[tokio::test]
async fn reads_are_consistent_and_a_future_resource_version_is_a_504() {
    let api = api().await;
    // Each write is visible to the very next read (consistent reads from the view).
    for i in 0..20 {
        let name = format!("c{i}");
        let (code, created) = api.post(CMS, configmap(&name)).await;
        assert_eq!(code, StatusCode::CREATED);
        let (code, got) = api.call(Method::GET, &format!("{CMS}/{name}"), "", vec![]).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(got["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"]);
        let (_, list) = api.call(Method::GET, CMS, "", vec![]).await;
        assert_eq!(list["items"].as_array().unwrap().len(), i + 1);
        assert!(
            list["metadata"]["resourceVersion"].as_str().unwrap().parse::<i64>().unwrap()
                >= created["metadata"]["resourceVersion"].as_str().unwrap().parse::<i64>().unwrap()
        );
    }
    // A resourceVersion the log has not reached: waited for, then 504 with Retry-After.
    for uri in [format!("{CMS}/c0?resourceVersion=999999"), format!("{CMS}?resourceVersion=999999")]
    {
        let request = Request::builder().uri(&uri).body(Body::empty()).unwrap();
        let response = api.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT, "{uri}");
        assert_eq!(response.headers()["retry-after"], "1");
    }
}

#[tokio::test]
async fn pages_and_exact_lists_are_consistent_whether_the_view_or_the_log_answers() {
    let api = api().await;
    for i in 0..5 {
        api.post(CMS, configmap(&format!("p{i}"))).await;
    }
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, first) = api.call(Method::GET, &format!("{CMS}?limit=2"), "", vec![]).await;
    assert_eq!(names(&first), ["p0", "p1"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let rv = first["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    // Nothing written since: the view is still at the page's revision and answers.
    let (_, second) =
        api.call(Method::GET, &format!("{CMS}?limit=2&continue={token}"), "", vec![]).await;
    assert_eq!(names(&second), ["p2", "p3"]);
    assert_eq!(second["metadata"]["resourceVersion"], rv.as_str());
    let exact = format!("{CMS}?resourceVersion={rv}&resourceVersionMatch=Exact");
    let (_, at_rv) = api.call(Method::GET, &exact, "", vec![]).await;
    assert_eq!(names(&at_rv), ["p0", "p1", "p2", "p3", "p4"]);
    // After more writes the view has moved on: the log answers, at the same revision.
    api.post(CMS, configmap("p25")).await;
    api.call(Method::DELETE, &format!("{CMS}/p4"), "", vec![]).await;
    let token = second["metadata"]["continue"].as_str().unwrap();
    let (_, third) =
        api.call(Method::GET, &format!("{CMS}?limit=2&continue={token}"), "", vec![]).await;
    assert_eq!(names(&third), ["p4"], "the page reads the first page's revision");
    assert_eq!(third["metadata"]["resourceVersion"], rv.as_str());
    assert!(third["metadata"].get("continue").is_none());
    let (_, at_rv) = api.call(Method::GET, &exact, "", vec![]).await;
    assert_eq!(names(&at_rv), ["p0", "p1", "p2", "p3", "p4"]);
}
