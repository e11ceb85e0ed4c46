//! The resources of `ledger.kube-ledger.io/v1` read across objects, in-process over the embedded
//! store: discovery, `logpositions`, `deletedobjects`, `replay` (both formats), each bad input
//! as kube's Status, RBAC through `get` on `<resource>/history`, and the point-in-time LIST
//! (`resourceVersionMatch=Exact`) they lead to.

mod support;

use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};
use kube_ledger::authn::UserInfo;
use serde_json::{Value, json};
use support::router::{Api, CMS, api, api_with, assert_status, configmap};

const LEDGER: &str = "/apis/ledger.kube-ledger.io/v1";

fn admin() -> UserInfo {
    UserInfo::new("kubernetes-admin", &["system:masters", "system:authenticated"])
}

fn alice() -> UserInfo {
    UserInfo::new("alice", &["system:authenticated"])
}

/// `SystemTime` as RFC 3339 with microseconds.
fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_micros(at).to_string()
}

/// The time now, then a millisecond later so that the next write is stamped after it.
async fn a_moment() -> String {
    let at = rfc3339(SystemTime::now());
    tokio::time::sleep(Duration::from_millis(2)).await;
    at
}

async fn created(api: &Api, uri: &str, body: Value) -> Value {
    let (code, object) = api.post(uri, body).await;
    assert_eq!(code, StatusCode::CREATED, "{object}");
    object
}

async fn put(api: &Api, uri: &str, body: &Value) -> Value {
    let (code, object) =
        api.call(Method::PUT, uri, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(code, StatusCode::OK, "{object}");
    object
}

fn rv(object: &Value) -> i64 {
    object["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()
}

/// A replay's lines, parsed.
async fn replay(api: &Api, query: &str) -> Vec<Value> {
    let (code, bytes) =
        api.call_raw(Method::GET, &format!("{LEDGER}/replay?{query}"), "", vec![]).await;
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(code, StatusCode::OK, "{text}");
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[tokio::test]
async fn the_group_is_discoverable_with_its_three_resources() {
    let api = api().await;
    let (code, groups) = api.get("/apis").await;
    assert_eq!(code, StatusCode::OK);
    let ledger =
        groups["groups"].as_array().unwrap().iter().find(|g| g["name"] == "ledger.kube-ledger.io");
    assert_eq!(
        ledger.unwrap()["preferredVersion"],
        json!({"groupVersion": "ledger.kube-ledger.io/v1", "version": "v1"})
    );
    let (code, group) = api.get("/apis/ledger.kube-ledger.io").await;
    assert_eq!((code, group["kind"].as_str()), (StatusCode::OK, Some("APIGroup")));
    let (code, list) = api.get(LEDGER).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        list["resources"],
        json!([
            {"name": "deletedobjects", "singularName": "deletedobject", "namespaced": true,
             "kind": "DeletedObject", "verbs": ["list"]},
            {"name": "logpositions", "singularName": "logposition", "namespaced": false,
             "kind": "LogPosition", "verbs": ["get", "list"]},
            {"name": "replay", "singularName": "replay", "namespaced": false,
             "kind": "Replay", "verbs": ["get"]},
        ])
    );
    let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let request = axum::http::Request::builder()
        .uri("/apis")
        .header("accept", accept)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(api.router.clone(), request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let aggregated: Value = serde_json::from_slice(&bytes).unwrap();
    let item = aggregated["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == "ledger.kube-ledger.io")
        .expect("the ledger group in aggregated discovery");
    let names: Vec<&str> = item["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deletedobjects", "logpositions", "replay"]);
}

#[tokio::test]
async fn the_ledger_resources_answer_only_get_of_their_collection() {
    let api = api().await;
    assert_status(
        &api.post(&format!("{LEDGER}/logpositions"), json!({})).await,
        405,
        "MethodNotAllowed",
    );
    assert_status(&api.get(&format!("{LEDGER}/logpositions/x")).await, 404, "NotFound");
    assert_status(&api.get(&format!("{LEDGER}/namespaces/default/replay")).await, 404, "NotFound");
}

#[tokio::test]
async fn a_log_position_is_the_revision_at_a_time_and_lists_read_the_cluster_then() {
    let api = api().await;
    let first = created(&api, CMS, configmap("before")).await;
    let between = a_moment().await;
    let mut changed = configmap("before");
    changed["data"]["k"] = "changed".into();
    put(&api, &format!("{CMS}/before"), &changed).await;
    created(&api, CMS, configmap("after")).await;

    let (code, position) = api.get(&format!("{LEDGER}/logpositions?time={between}")).await;
    assert_eq!(code, StatusCode::OK, "{position}");
    assert_eq!(position["kind"], "LogPosition");
    assert_eq!(position["apiVersion"], "ledger.kube-ledger.io/v1");
    assert_eq!(position["time"], between.as_str());
    let revision: i64 = position["revision"].as_str().unwrap().parse().unwrap();
    assert!(revision >= rv(&first), "{position}");
    let current: i64 = position["currentRevision"].as_str().unwrap().parse().unwrap();
    assert!(current > revision, "{position}");

    // The standard LIST at that revision shows the cluster as it was then.
    let (code, then) =
        api.get(&format!("{CMS}?resourceVersion={revision}&resourceVersionMatch=Exact")).await;
    assert_eq!(code, StatusCode::OK, "{then}");
    let names: Vec<&str> = then["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"before") && !names.contains(&"after"), "{then}");
    let before =
        then["items"].as_array().unwrap().iter().find(|i| i["metadata"]["name"] == "before");
    assert_eq!(before.unwrap()["data"]["k"], "v");

    // A time in the future is the head; no time is now.
    let future = rfc3339(SystemTime::now() + Duration::from_secs(3600));
    let (_, later) = api.get(&format!("{LEDGER}/logpositions?time={future}")).await;
    assert_eq!(later["revision"], later["currentRevision"], "{later}");
    let (code, now) = api.get(&format!("{LEDGER}/logpositions")).await;
    assert_eq!(code, StatusCode::OK, "{now}");
    assert_eq!(now["revision"], now["currentRevision"]);
}

#[tokio::test]
async fn bad_log_positions_are_kube_statuses() {
    let api = api().await;
    created(&api, CMS, configmap("x")).await;
    let malformed = api.get(&format!("{LEDGER}/logpositions?time=yesterday")).await;
    assert_status(&malformed, 400, "BadRequest");
    assert!(malformed.1["message"].as_str().unwrap().contains("invalid time \"yesterday\""));
    let ancient = api.get(&format!("{LEDGER}/logpositions?time=1970-01-01T00:00:00Z")).await;
    assert_status(&ancient, 410, "Expired");
    assert!(
        ancient.1["message"].as_str().unwrap().contains("the oldest retained revision is"),
        "{}",
        ancient.1
    );
}

#[tokio::test]
async fn deleted_objects_say_who_deleted_what_with_its_last_state() {
    let api = api().await;
    let since = a_moment().await;
    for name in ["a", "b", "c"] {
        created(&api, CMS, configmap(name)).await;
    }
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    created(&api, "/api/v1/namespaces/default/secrets", secret).await;
    for uri in
        [format!("{CMS}/a"), format!("{CMS}/b"), "/api/v1/namespaces/default/secrets/s".to_owned()]
    {
        let (code, body) = api.delete(&uri).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }

    let (code, list) =
        api.get(&format!("{LEDGER}/namespaces/default/deletedobjects?since={since}")).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["kind"], "DeletedObjectList");
    let items = list["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "s"]);
    let a = &items[0];
    assert_eq!(a["resource"], json!({"group": "", "version": "v1", "resource": "configmaps"}));
    assert_eq!(a["namespace"], "default");
    assert_eq!(a["verb"], "delete");
    assert_eq!(a["user"]["username"], "kubernetes-admin");
    assert_eq!(a["object"]["data"], json!({"k": "v"}));
    assert_eq!(a["object"]["kind"], "ConfigMap");
    assert_eq!(a["uid"], a["object"]["metadata"]["uid"]);
    assert!(a["time"].as_str().unwrap().ends_with('Z'));

    // One resource; cluster-wide; pages.
    let (_, only) =
        api.get(&format!("{LEDGER}/namespaces/default/deletedobjects?resource=secrets")).await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1, "{only}");
    let (_, everywhere) = api.get(&format!("{LEDGER}/deletedobjects?since={since}")).await;
    assert_eq!(everywhere["items"].as_array().unwrap().len(), 3, "{everywhere}");
    let (_, other) =
        api.get(&format!("{LEDGER}/namespaces/kube-system/deletedobjects?since={since}")).await;
    assert_eq!(other["items"], json!([]));
    let mut seen = Vec::new();
    let mut uri = format!("{LEDGER}/namespaces/default/deletedobjects?since={since}&limit=2");
    loop {
        let (code, page) = api.get(&uri).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["name"].clone()));
        match page["metadata"]["continue"].as_str() {
            Some(next) => {
                uri = format!("{LEDGER}/namespaces/default/deletedobjects?limit=2&continue={next}")
            }
            None => break,
        }
    }
    assert_eq!(seen, [json!("a"), json!("b"), json!("s")]);
    // An until before the deletes lists none of them.
    let (_, before) =
        api.get(&format!("{LEDGER}/namespaces/default/deletedobjects?until={since}")).await;
    assert_eq!(before["items"], json!([]), "{before}");
}

#[tokio::test]
async fn bad_deleted_object_queries_are_400s() {
    let api = api().await;
    let base = format!("{LEDGER}/namespaces/default/deletedobjects");
    for query in [
        "since=soon",
        "until=2026-13-01T00:00:00Z",
        "resource=widgets",
        "continue=garbage",
        "limit=-1",
        "since=2026-12-07T14:00:00Z&until=2026-12-07T13:00:00Z",
    ] {
        assert_status(&api.get(&format!("{base}?{query}")).await, 400, "BadRequest");
    }
}

#[tokio::test]
async fn replay_streams_every_event_of_the_range_as_json_lines() {
    let api = api().await;
    let cm = created(&api, CMS, configmap("cm")).await;
    let mut changed = cm.clone();
    changed["data"]["k"] = "w".into();
    put(&api, &format!("{CMS}/cm"), &changed).await;
    let (code, _) = api.delete(&format!("{CMS}/cm")).await;
    assert_eq!(code, StatusCode::OK);
    let from = rv(&cm);

    let lines = replay(&api, &format!("from={from}&resource=configmaps&namespace=default")).await;
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "DELETED"]);
    assert_eq!(
        lines[0]["resource"],
        json!({"group": "", "version": "v1", "resource": "configmaps"})
    );
    assert_eq!(
        (lines[0]["namespace"].as_str(), lines[0]["name"].as_str()),
        (Some("default"), Some("cm"))
    );
    assert_eq!(lines[0]["revision"], from.to_string());
    assert_eq!(lines[1]["object"]["data"]["k"], "w");
    assert_eq!(lines[2]["object"]["data"]["k"], "w", "a delete shows the last state");
    assert_eq!(lines[1]["verb"], "update");
    // Everything from the start holds these three too, in revision order.
    let all = replay(&api, "").await;
    let revisions: Vec<i64> =
        all.iter().map(|l| l["revision"].as_str().unwrap().parse().unwrap()).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]));
    assert!(all.iter().filter(|l| l["name"] == "cm").count() == 3);
    // `to` bounds it.
    let first = replay(&api, &format!("from={from}&to={from}")).await;
    assert_eq!(first.len(), 1);

    let audit = replay(&api, &format!("from={from}&resource=configmaps&format=audit")).await;
    assert_eq!(audit.len(), 3);
    let update = &audit[1];
    assert_eq!(update["kind"], "Event");
    assert_eq!(update["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(update["level"], "RequestResponse");
    assert_eq!(update["stage"], "ResponseComplete");
    assert_eq!(update["verb"], "update");
    assert_eq!(update["requestURI"], "/api/v1/namespaces/default/configmaps/cm");
    assert_eq!(update["user"]["username"], "kubernetes-admin");
    assert_eq!(update["objectRef"]["resource"], "configmaps");
    assert_eq!(update["objectRef"]["resourceVersion"], (from + 1).to_string());
    assert_eq!(update["responseObject"]["data"]["k"], "w");
    assert_eq!(update["requestReceivedTimestamp"], update["stageTimestamp"]);
    assert!(!update["auditID"].as_str().unwrap().is_empty());
    assert_eq!(audit[0]["requestURI"], "/api/v1/namespaces/default/configmaps");
}

#[tokio::test]
async fn bad_replays_are_kube_statuses() {
    let api = api().await;
    let cm = created(&api, CMS, configmap("cm")).await;
    let head = rv(&cm);
    let get = |query: String| {
        let api = &api;
        async move { api.get(&format!("{LEDGER}/replay?{query}")).await }
    };
    assert_status(&get(format!("from={head}&to={}", head - 1)).await, 400, "BadRequest");
    assert_status(&get("from=x".into()).await, 400, "BadRequest");
    assert_status(&get("format=yaml".into()).await, 400, "BadRequest");
    assert_status(&get("resource=widgets".into()).await, 400, "BadRequest");
    let future = get(format!("to={}", head + 1000)).await;
    assert_status(&future, 504, "Timeout");
    assert_eq!(
        future.1["message"],
        format!("Too large resource version: {}, current: {head}", head + 1000)
    );
    assert_eq!(future.1["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");

    // After a compaction, a range starting before it is gone.
    for i in 0..3 {
        created(&api, CMS, configmap(&format!("more-{i}"))).await;
    }
    api.storage.compact(head + 2).await.unwrap();
    let gone = get(format!("from={head}")).await;
    assert_status(&gone, 410, "Expired");
    assert!(gone.1["message"].as_str().unwrap().contains(&(head + 2).to_string()), "{}", gone.1);
    let list = api.get(&format!("{CMS}?resourceVersion={head}&resourceVersionMatch=Exact")).await;
    assert_status(&list, 410, "Expired");
    assert!(
        list.1["message"]
            .as_str()
            .unwrap()
            .starts_with("The resourceVersion for the provided list is too old"),
        "{}",
        list.1
    );
}

#[tokio::test]
async fn rbac_limits_replay_and_deleted_objects_to_the_histories_a_user_may_get() {
    let api = api_with(Some("RBAC")).await;
    let (admin, alice) = (admin(), alice());
    let as_admin = |method: Method, uri: String, body: Option<Value>| {
        let (api, admin) = (&api, &admin);
        async move { api.call_as(Some(admin), method, &uri, body).await }
    };
    let since = a_moment().await;
    let secrets = "/api/v1/namespaces/default/secrets";
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    for (uri, body) in [(CMS, configmap("cm")), (secrets, secret)] {
        let (code, body) = as_admin(Method::POST, uri.to_owned(), Some(body)).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    for uri in [format!("{CMS}/cm"), format!("{secrets}/s")] {
        let (code, body) = as_admin(Method::DELETE, uri, None).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "cm-history"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "configmaps/history"], "verbs": ["get", "list"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "alice-cm-history"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cm-history"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]});
    let rbac = "/apis/rbac.authorization.k8s.io/v1";
    for (path, body) in [("clusterroles", role), ("clusterrolebindings", binding)] {
        let (code, body) = as_admin(Method::POST, format!("{rbac}/{path}"), Some(body)).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let replay_cms = format!("{LEDGER}/replay?resource=configmaps&namespace=default");
    let mut allowed = false;
    for _ in 0..200 {
        if api.call_as(Some(&alice), Method::GET, &replay_cms, None).await.0 == StatusCode::OK {
            allowed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(allowed, "alice never got configmaps' history");

    let refused = api
        .call_as(
            Some(&alice),
            Method::GET,
            &format!("{LEDGER}/replay?resource=secrets&namespace=default"),
            None,
        )
        .await;
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.1["message"],
        "secrets is forbidden: User \"alice\" cannot get resource \"secrets/history\" in API group \"\" in the namespace \"default\""
    );
    let everything =
        api.call_as(Some(&alice), Method::GET, &format!("{LEDGER}/replay"), None).await;
    assert_status(&everything, 403, "Forbidden");

    let (code, deleted) = api
        .call_as(
            Some(&alice),
            Method::GET,
            &format!("{LEDGER}/namespaces/default/deletedobjects?since={since}"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{deleted}");
    let names: Vec<&str> =
        deleted["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cm"], "no secret for alice");
    let (_, for_admin) = api
        .call_as(
            Some(&admin),
            Method::GET,
            &format!("{LEDGER}/namespaces/default/deletedobjects?since={since}"),
            None,
        )
        .await;
    assert_eq!(for_admin["items"].as_array().unwrap().len(), 2, "{for_admin}");
}

#[tokio::test]
async fn point_in_time_lists_page_and_select_at_the_revision() {
    let api = api().await;
    for i in 0..5 {
        let mut cm = configmap(&format!("cm-{i}"));
        cm["metadata"]["labels"] = json!({"parity": if i % 2 == 0 { "even" } else { "odd" }});
        created(&api, CMS, cm).await;
    }
    let (_, at) = api.get(CMS).await;
    let revision = at["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    // Later changes the past does not show.
    for i in 0..5 {
        let (code, _) = api.delete(&format!("{CMS}/cm-{i}")).await;
        assert_eq!(code, StatusCode::OK);
    }
    created(&api, CMS, configmap("later")).await;

    let exact = format!("resourceVersion={revision}&resourceVersionMatch=Exact");
    let mut names = Vec::new();
    let mut uri = format!("{CMS}?{exact}&limit=2");
    loop {
        let (code, page) = api.get(&uri).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        assert_eq!(page["metadata"]["resourceVersion"], revision.as_str());
        names.extend(
            page["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].clone()),
        );
        match page["metadata"]["continue"].as_str() {
            Some(next) => uri = format!("{CMS}?limit=2&continue={next}"),
            None => break,
        }
    }
    let want: Vec<Value> = (0..5).map(|i| json!(format!("cm-{i}"))).collect();
    let names: Vec<Value> =
        names.into_iter().filter(|n| n.as_str().unwrap().starts_with("cm-")).collect();
    assert_eq!(names, want);
    let (_, odd) = api.get(&format!("{CMS}?{exact}&labelSelector=parity%3Dodd")).await;
    let odd: Vec<&str> = odd["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(odd, ["cm-1", "cm-3"]);
    let (_, one) = api.get(&format!("{CMS}?{exact}&fieldSelector=metadata.name%3Dcm-2")).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1, "{one}");

    let head: i64 =
        api.get(CMS).await.1["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    let future =
        api.get(&format!("{CMS}?resourceVersion={}&resourceVersionMatch=Exact", head + 50)).await;
    assert_status(&future, 504, "Timeout");
    assert_eq!(future.1["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
}

#[tokio::test]
async fn every_stored_resource_lists_at_an_exact_revision() {
    let api = api().await;
    let cm = created(&api, CMS, configmap("x")).await;
    let revision = rv(&cm);
    created(&api, CMS, configmap("y")).await;
    let exact = format!("resourceVersion={revision}&resourceVersionMatch=Exact");
    let mut listed = 0;
    for resource in api.registry.all().into_iter().filter(|r| r.stored()) {
        let base = match resource.gv.group.is_empty() {
            true => format!("/api/{}", resource.gv.version),
            false => format!("/apis/{}/{}", resource.gv.group, resource.gv.version),
        };
        let (code, list) = api.get(&format!("{base}/{}?{exact}", resource.plural)).await;
        assert_eq!(code, StatusCode::OK, "{} {list}", resource.plural);
        assert_eq!(
            list["metadata"]["resourceVersion"],
            revision.to_string(),
            "{}",
            resource.plural
        );
        listed += 1;
    }
    assert!(listed > 40, "only {listed} resources listed");
}
