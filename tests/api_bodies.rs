//! Request and response bodies as kube-apiserver reads and writes them, through the router
//! in-process: bounded JSON patches, what DELETE answers with per resource, the order of JSON
//! fields, and how undecodable bodies are refused.

mod support;

use axum::http::Method;
use serde_json::{Value, json};
use support::router::{CMS, api, assert_status, configmap};

/// Issue 11's amplifying JSON patch: an `add` of a 1 KiB value, then 20 copies of the growing
/// object into itself. kube-apiserver refuses it (its json-patch library's accumulated copy
/// limit, 3 MiB) with a 422 at the 12th copy, before any of it is stored.
#[tokio::test]
async fn an_amplifying_json_patch_is_refused_and_stores_nothing() {
    let api = api().await;
    let (_, created) = api.post(CMS, configmap("cb")).await;
    let before = api.storage.current_revision().await.unwrap();
    let mut ops = vec![json!({"op": "add", "path": "/x", "value": {"s": "A".repeat(1024)}})];
    ops.extend((0..20).map(|i| json!({"op": "copy", "from": "/x", "path": format!("/x/c{i}")})));
    let body = serde_json::to_vec(&ops).unwrap();
    assert!(body.len() < 2_000, "{}", body.len());
    let got =
        api.call(Method::PATCH, &format!("{CMS}/cb"), "application/json-patch+json", body).await;
    assert_status(&got, 422, "Invalid");
    let detail = "Unable to complete the copy, the accumulated size increase of copy is \
                  4250539, exceeding the limit 3145728";
    assert_eq!(
        got.1["message"],
        format!("the server rejected our request due to an error in our request: {detail}")
    );
    assert_eq!(got.1["details"]["causes"][0]["message"], detail, "{}", got.1);
    assert_eq!(api.storage.current_revision().await.unwrap(), before, "nothing was stored");
    assert_eq!(api.get(&format!("{CMS}/cb")).await.1, created);
}

/// One served resource: where its collection is and an object the server accepts.
struct Sample {
    collection: &'static str,
    object: Value,
    /// What DELETE answers with, as kube-apiserver: the object's kind (its storage sets
    /// `ReturnDeletedObject`, or the object stays waiting for finalizers) or `Status`.
    answer: &'static str,
}

fn samples() -> Vec<Sample> {
    let meta = |name: &str| json!({"name": name});
    let pod_spec = json!({"containers": [{"name": "c", "image": "nginx"}]});
    vec![
        Sample {
            collection: "/api/v1/namespaces",
            object: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta("gone")}),
            // Namespaces are never deleted at once: the answer is the Terminating namespace.
            answer: "Namespace",
        },
        Sample { collection: CMS, object: configmap("cm"), answer: "Status" },
        Sample {
            collection: "/api/v1/namespaces/default/secrets",
            object: json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta("s")}),
            answer: "Status",
        },
        Sample {
            collection: "/api/v1/namespaces/default/pods",
            object: json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("p"),
                           "spec": pod_spec.clone()}),
            answer: "Pod",
        },
        Sample {
            collection: "/api/v1/namespaces/default/services",
            object: json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("svc"),
                           "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}}),
            answer: "Service",
        },
        Sample {
            collection: "/api/v1/namespaces/default/serviceaccounts",
            object: json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("sa")}),
            answer: "ServiceAccount",
        },
        Sample {
            collection: "/api/v1/namespaces/default/events",
            object: json!({"apiVersion": "v1", "kind": "Event", "metadata": meta("e1"),
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
                "reason": "Started", "message": "started", "type": "Normal"}),
            answer: "Status",
        },
        Sample {
            collection: "/apis/events.k8s.io/v1/namespaces/default/events",
            object: json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": meta("e2"),
                "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "x.io/c",
                "reportingInstance": "i", "action": "Start", "reason": "Started",
                "type": "Normal", "regarding": {"kind": "Pod", "name": "p"}}),
            answer: "Status",
        },
        Sample {
            collection: "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            object: json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                           "metadata": meta("l"), "spec": {}}),
            answer: "Status",
        },
        Sample {
            collection: "/apis/apps/v1/namespaces/default/deployments",
            object: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("d"),
                "spec": {"selector": {"matchLabels": {"app": "a"}},
                         "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod_spec}}}),
            answer: "Status",
        },
        Sample {
            collection: "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
            object: json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": meta("h2"),
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                            "name": "d"}, "maxReplicas": 3}}),
            answer: "Status",
        },
        Sample {
            collection: "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
            object: json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                "metadata": meta("h1"),
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                            "name": "d"}, "maxReplicas": 3}}),
            answer: "Status",
        },
        Sample {
            collection: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            object: widget_crd(),
            // A CRD's delete adds the cleanup finalizer: the answer is the CRD, terminating.
            answer: "CustomResourceDefinition",
        },
    ]
}

fn widget_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.shop.example.com"},
        "spec": {"group": "shop.example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}})
}

/// Asserts that DELETE answered as kube-apiserver does for `sample`: the object itself, or a
/// `Status` of kind `Success` naming it by resource (plural) with its uid.
fn assert_delete_answer(sample: &Sample, created: &Value, answer: &Value) {
    let name = &created["metadata"]["name"];
    if sample.answer == "Status" {
        let segments: Vec<&str> = sample.collection.split('/').collect();
        let plural = segments.last().unwrap();
        let group = if segments[1] == "apis" { segments[2] } else { "" };
        let mut details = json!({"name": name, "kind": plural, "uid": created["metadata"]["uid"]});
        if !group.is_empty() {
            details["group"] = group.into();
        }
        assert_eq!(
            *answer,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                   "details": details}),
            "{}",
            sample.collection
        );
    } else {
        assert_eq!(answer["kind"], sample.answer, "{}: {answer}", sample.collection);
        assert_eq!(answer["apiVersion"], created["apiVersion"], "{answer}");
        assert_eq!(answer["metadata"]["name"], *name, "{answer}");
        assert_eq!(answer["metadata"]["uid"], created["metadata"]["uid"], "{answer}");
    }
}

#[tokio::test]
async fn delete_answers_with_the_object_or_a_status_per_resource_as_kube_does() {
    let api = api().await;
    for sample in samples() {
        let (code, created) = api.post(sample.collection, sample.object.clone()).await;
        assert_eq!(code.as_u16(), 201, "{}: {created}", sample.collection);
        let name = created["metadata"]["name"].as_str().unwrap();
        let (code, answer) = api.delete(&format!("{}/{name}", sample.collection)).await;
        assert_eq!(code.as_u16(), 200, "{}: {answer}", sample.collection);
        assert_delete_answer(&sample, &created, &answer);
    }

    // A custom resource: a Status, as for every kind whose storage does not return objects.
    let crd = json!({"metadata": {"name": "gadgets.shop.example.com"},
        "spec": {"group": "shop.example.com", "scope": "Namespaced",
            "names": {"plural": "gadgets", "kind": "Gadget"},
            "versions": widget_crd()["spec"]["versions"].clone()}});
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(api.post(crds, crd).await.0.as_u16(), 201);
    let gadgets = "/apis/shop.example.com/v1/namespaces/default/gadgets";
    let gadget = json!({"apiVersion": "shop.example.com/v1", "kind": "Gadget",
                        "metadata": {"name": "g"}, "spec": {"size": 1}});
    let created = loop {
        // The CRD is served once the controller has established it.
        let (code, created) = api.post(gadgets, gadget.clone()).await;
        if code.as_u16() == 201 {
            break created;
        }
        assert_eq!(code.as_u16(), 404, "{created}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let (code, answer) = api.delete(&format!("{gadgets}/g")).await;
    assert_eq!(code.as_u16(), 200);
    let sample = Sample { collection: gadgets, object: gadget, answer: "Status" };
    assert_delete_answer(&sample, &created, &answer);
}

/// An object that stays waiting for finalizers is the answer whatever the resource, with 202
/// instead of 200 when the client asked for `orphanDependents: false` (kube-apiserver's rule).
#[tokio::test]
async fn a_delete_pending_finalizers_answers_with_the_object_and_202_when_not_orphaning() {
    let api = api().await;
    for (name, options, code) in [
        ("held", json!({}), 200),
        ("held-orphan", json!({"orphanDependents": true}), 200),
        ("held-cascade", json!({"orphanDependents": false}), 202),
    ] {
        let mut cm = configmap(name);
        cm["metadata"]["finalizers"] = json!(["example.com/hold"]);
        api.post(CMS, cm).await;
        let body = options.to_string().into_bytes();
        let (got, answer) =
            api.call(Method::DELETE, &format!("{CMS}/{name}"), "application/json", body).await;
        assert_eq!(got.as_u16(), code, "{name}: {answer}");
        assert_eq!(answer["kind"], "ConfigMap", "{answer}");
        assert!(answer["metadata"]["deletionTimestamp"].is_string(), "{answer}");
    }
    let (got, answer) = api.delete(&format!("{CMS}/held?orphanDependents=false")).await;
    assert_eq!(got.as_u16(), 202, "{answer}");
}

/// DELETE on a collection answers with the list of what it deleted, as it was listed.
#[tokio::test]
async fn delete_collection_answers_with_the_list_it_deleted() {
    let api = api().await;
    for name in ["a", "b", "c"] {
        let mut cm = configmap(name);
        cm["metadata"]["labels"] = json!({"doomed": (name != "c").to_string()});
        api.post(CMS, cm).await;
    }
    let (code, list) = api.delete(&format!("{CMS}?labelSelector=doomed%3Dtrue")).await;
    assert_eq!(code.as_u16(), 200, "{list}");
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["apiVersion"], "v1");
    assert!(list["metadata"]["resourceVersion"].is_string(), "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(list["items"][0]["metadata"].get("deletionTimestamp").is_none(), "{list}");
    let (_, left) = api.get(CMS).await;
    assert_eq!(left["items"].as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left["items"][0]["metadata"]["name"], "c");
}

/// Bodies kube-apiserver's decoder cannot read, or reads as another type, are 400s worded as
/// kube words them (kubectl's own tests match `the object provided is unrecognized`), and
/// nothing is stored.
#[tokio::test]
async fn undecodable_and_mistyped_bodies_are_refused_in_kubes_words() {
    let api = api().await;
    api.post(CMS, configmap("exists")).await;
    let before = api.storage.current_revision().await.unwrap();
    let namespaces = "/api/v1/namespaces";
    let hpas = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
    let unrecognized =
        |kind: &str| format!("the object provided is unrecognized (must be of type {kind})");
    let probe = "couldn't get version/kind; json parse error";
    let json = |v: Value| v.to_string().into_bytes();
    // method, URI, content type, body, message
    let cases: Vec<(Method, String, &str, Vec<u8>, String)> = vec![
        (
            Method::POST,
            namespaces.into(),
            "application/json",
            b"{not json".to_vec(),
            format!(
                "{}: {probe}: invalid character 'n' looking for beginning of object key string \
                 ({{not json)",
                unrecognized("Namespace")
            ),
        ),
        // kubectl's test/cmd: a YAML pod posted raw (as JSON) to namespaces.
        (
            Method::POST,
            namespaces.into(),
            "application/json",
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: valid-pod\n".to_vec(),
            format!(
                "{}: {probe}: invalid character 'a' looking for beginning of value \
                 (61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 ...)",
                unrecognized("Namespace")
            ),
        ),
        (
            Method::PUT,
            format!("{CMS}/exists"),
            "application/json",
            b"[1, 2]".to_vec(),
            format!(
                "{}: {probe}: json: cannot unmarshal array into Go value of type struct {{ \
                 APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \
                 \"json:\\\"kind,omitempty\\\"\" }} (5b312c20325d)",
                unrecognized("ConfigMap")
            ),
        ),
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json(json!({"kind": 5})),
            format!(
                "{}: {probe}: json: cannot unmarshal number into Go struct field .kind of type \
                 string ({{\"kind\":5}})",
                unrecognized("ConfigMap")
            ),
        ),
        (
            Method::POST,
            CMS.into(),
            "application/yaml",
            b"metadata:\n  name: a\n  bad: key: here\n".to_vec(),
            format!(
                "{}: yaml: line 3: mapping values are not allowed in this context \
                 (6d657461646174613a0a20206e616d653a20610a20206261643a206b6579 ...)",
                unrecognized("ConfigMap")
            ),
        ),
        // Another kind of kube's scheme: decoded as itself, then not convertible.
        (
            Method::POST,
            namespaces.into(),
            "application/json",
            json(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})),
            "Pod in version \"v1\" cannot be handled as a Namespace: converting (v1.Pod) to \
             (core.Namespace): unknown conversion"
                .into(),
        ),
        (
            Method::PUT,
            format!("{CMS}/exists"),
            "application/yaml",
            b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: exists\n".to_vec(),
            "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) \
             to (core.ConfigMap): unknown conversion"
                .into(),
        ),
        // A kind the scheme does not hold in that version.
        (
            Method::POST,
            CMS.into(),
            "application/json",
            json(json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: no kind \"ConfigMap\" \
             is registered for version \"apps/v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
                .into(),
        ),
        // Another version of the same type converts, and is then not the URL's version.
        (
            Method::POST,
            hpas.into(),
            "application/json",
            json(json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "h"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 2}})),
            "the API version in the data (autoscaling/v1) does not match the expected API version \
             (autoscaling/v2)"
                .into(),
        ),
        (
            Method::POST,
            "/apis/events.k8s.io/v1/namespaces/default/events".into(),
            "application/json",
            json(json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}})),
            "the API version in the data (v1) does not match the expected API version \
             (events.k8s.io/v1)"
                .into(),
        ),
    ];
    for (method, uri, content_type, body, message) in cases {
        let got = api.call(method.clone(), &uri, content_type, body).await;
        assert_status(&got, 400, "BadRequest");
        assert_eq!(got.1["message"], message, "{method} {uri}");
    }
    assert_eq!(api.storage.current_revision().await.unwrap(), before, "nothing was stored");

    // A body without apiVersion and kind is the URL's type, as in kube.
    let (code, created) = api.post(namespaces, json!({"metadata": {"name": "kindless"}})).await;
    assert_eq!(code.as_u16(), 201, "{created}");
    assert_eq!(created["kind"], "Namespace");
}

/// kube-apiserver writes JSON in its types' field order, not alphabetically, and some clients
/// compare bodies byte for byte.
#[tokio::test]
async fn bodies_are_written_in_kubes_field_order() {
    let api = api().await;
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();

    // A Status: metav1.Status's order, `details` before `code`.
    let (_, body) = api.call_raw(Method::GET, &format!("{CMS}/nope"), "", vec![]).await;
    assert_eq!(
        text(body),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"configmaps"},"code":404}"#
    );

    // Discovery documents: APIVersions and APIResourceList (APIResource's field order; a
    // subresource of another group's kind, as kube lists deployments/scale, names that group).
    let (_, body) = api.call_raw(Method::GET, "/api", "", vec![]).await;
    assert_eq!(
        text(body),
        r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]}"#
    );
    let (_, body) = api.call_raw(Method::GET, "/apis/coordination.k8s.io/v1", "", vec![]).await;
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    let lease = &parsed["resources"][0];
    assert_eq!(
        text(body),
        format!(
            r#"{{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"coordination.k8s.io/v1","resources":[{{"name":"leases","singularName":"lease","namespaced":true,"kind":"Lease","verbs":{},"storageVersionHash":{}}},{{"name":"leases/history","singularName":"","namespaced":true,"group":"ledger.kube-ledger.io","version":"v1","kind":"RevisionList","verbs":["create","get"]}}]}}"#,
            lease["verbs"], lease["storageVersionHash"]
        )
    );

    // A created object in Go's order at every depth (the built-in schema's): kind, apiVersion,
    // metadata in ObjectMeta's order with labels by key (a Go map) and the creator's
    // `managedFields` entry (ManagedFieldsEntry's order; a client without a User-Agent is
    // `unknown`), then ConfigMap's `immutable` before `data`, whose keys are sorted (a Go map);
    // GET and LIST say the same.
    let sent = br#"{"data":{"z":"1","a":"2"},"metadata":{"labels":{"b":"2","a":"1"},"name":"ordered"},"apiVersion":"v1","kind":"ConfigMap","immutable":false}"#;
    let (code, body) = api.call_raw(Method::POST, CMS, "application/json", sent.to_vec()).await;
    assert_eq!(code.as_u16(), 201);
    let created: Value = serde_json::from_slice(&body).unwrap();
    let meta = &created["metadata"];
    let expected = format!(
        r#"{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"ordered","namespace":"default","uid":{},"resourceVersion":{},"generation":1,"creationTimestamp":{},"labels":{{"a":"1","b":"2"}},"managedFields":[{{"manager":"unknown","operation":"Update","apiVersion":"v1","time":{},"fieldsType":"FieldsV1","fieldsV1":{{"f:data":{{".":{{}},"f:a":{{}},"f:z":{{}}}},"f:immutable":{{}},"f:metadata":{{"f:labels":{{".":{{}},"f:a":{{}},"f:b":{{}}}}}}}}}}]}},"immutable":false,"data":{{"a":"2","z":"1"}}}}"#,
        meta["uid"],
        meta["resourceVersion"],
        meta["creationTimestamp"],
        meta["managedFields"][0]["time"]
    );
    assert_eq!(text(body), expected);
    let (_, body) = api.call_raw(Method::GET, &format!("{CMS}/ordered"), "", vec![]).await;
    assert_eq!(text(body), expected);
    let (_, body) =
        api.call_raw(Method::GET, &format!("{CMS}?labelSelector=a%3D1"), "", vec![]).await;
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        text(body),
        format!(
            r#"{{"kind":"ConfigMapList","apiVersion":"v1","metadata":{{"resourceVersion":{}}},"items":[{expected}]}}"#,
            list["metadata"]["resourceVersion"]
        )
    );

    // The same object with its keys in another order (kubectl sends them sorted) is no change:
    // nothing is written, as kube-apiserver compares objects, not key orders.
    let before = api.storage.current_revision().await.unwrap();
    let mut sorted = created.clone();
    sort_keys(&mut sorted);
    let resent = serde_json::to_vec(&sorted).unwrap();
    assert!(resent.starts_with(br#"{"apiVersion":"v1","data":{"a":"2","z":"1"}"#));
    let (code, same) =
        api.call(Method::PUT, &format!("{CMS}/ordered"), "application/json", resent).await;
    assert_eq!(code.as_u16(), 200, "{same}");
    assert_eq!(same["metadata"]["resourceVersion"], meta["resourceVersion"]);
    assert_eq!(api.storage.current_revision().await.unwrap(), before, "nothing was written");
    let (_, body) = api.call_raw(Method::GET, &format!("{CMS}/ordered"), "", vec![]).await;
    assert_eq!(text(body), expected);
}

fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// Custom resources are Go maps in kube-apiserver, written with every object's keys sorted.
#[tokio::test]
async fn custom_resources_are_written_with_sorted_keys() {
    let api = api().await;
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(api.post(crds, widget_crd()).await.0.as_u16(), 201);
    let widgets = "/apis/shop.example.com/v1/namespaces/default/widgets";
    let sent = br#"{"kind":"Widget","apiVersion":"shop.example.com/v1","metadata":{"name":"w"},"spec":{"size":1,"color":"red"}}"#;
    let body = loop {
        let (code, body) =
            api.call_raw(Method::POST, widgets, "application/json", sent.to_vec()).await;
        if code.as_u16() == 201 {
            break body;
        }
        assert_eq!(code.as_u16(), 404, "{}", String::from_utf8_lossy(&body));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let created: Value = serde_json::from_slice(&body).unwrap();
    let meta = &created["metadata"];
    assert_eq!(
        String::from_utf8(body).unwrap(),
        format!(
            r#"{{"apiVersion":"shop.example.com/v1","kind":"Widget","metadata":{{"creationTimestamp":{},"generation":1,"managedFields":[{{"apiVersion":"shop.example.com/v1","fieldsType":"FieldsV1","fieldsV1":{{"f:spec":{{".":{{}},"f:color":{{}},"f:size":{{}}}}}},"manager":"unknown","operation":"Update","time":{}}}],"name":"w","namespace":"default","resourceVersion":{},"uid":{}}},"spec":{{"color":"red","size":1}}}}"#,
            meta["creationTimestamp"],
            meta["managedFields"][0]["time"],
            meta["resourceVersion"],
            meta["uid"]
        )
    );
}
