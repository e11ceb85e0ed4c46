//! The `history` subresource through the router, in-process (docs/history.md, "One object"):
//! every route — list with pagination, one revision, diff, blame, restore — on a ConfigMap
//! changed by two users and deleted, and on a Deployment; bad input answered with kube's
//! Status and nothing stored.

mod support;

use axum::http::{Method, StatusCode};
use kube_ledger::authn::UserInfo;
use serde_json::{Value, json};
use support::router::{Api, CMS, api, assert_status, configmap};

const MERGE: &str = "application/merge-patch+json";

fn alice() -> UserInfo {
    UserInfo::new("alice", &["devs", "system:authenticated"])
}

fn bob() -> UserInfo {
    UserInfo::new("bob", &["system:authenticated"])
}

/// A ConfigMap `cm` created by alice, updated by bob then alice (PUT, `verb: update`),
/// deleted by bob. Returns the four revisions.
async fn changed_and_deleted(api: &Api) -> [String; 4] {
    let (code, created) =
        api.call_as(Some(&alice()), Method::POST, CMS, Some(configmap("cm"))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let uri = format!("{CMS}/cm");
    let mut revisions = vec![rv(&created)];
    for (user, value) in [(bob(), "b"), (alice(), "c")] {
        let mut object = get_ok(api, &uri).await;
        object["data"]["k"] = value.into();
        let (code, updated) = api.call_as(Some(&user), Method::PUT, &uri, Some(object)).await;
        assert_eq!(code, StatusCode::OK, "{updated}");
        revisions.push(rv(&updated));
    }
    let (code, _) = api.call_as(Some(&bob()), Method::DELETE, &uri, None).await;
    assert_eq!(code, StatusCode::OK);
    revisions.push(head(api).await.to_string());
    revisions.try_into().unwrap()
}

fn rv(object: &Value) -> String {
    object["metadata"]["resourceVersion"].as_str().unwrap().to_owned()
}

async fn get_ok(api: &Api, uri: &str) -> Value {
    let (code, body) = api.get(uri).await;
    assert_eq!(code, StatusCode::OK, "{uri}: {body}");
    body
}

async fn head(api: &Api) -> i64 {
    api.storage.current_revision().await.unwrap()
}

#[tokio::test]
async fn a_deleted_objects_history_lists_who_did_what_oldest_first_in_pages() {
    let api = api().await;
    let revisions = changed_and_deleted(&api).await;
    let all = get_ok(&api, &format!("{CMS}/cm/history")).await;
    assert_eq!(
        (all["kind"].as_str(), all["apiVersion"].as_str()),
        (Some("RevisionList"), Some("ledger.kube-ledger.io/v1"))
    );
    let items = all["items"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["revision"].as_str().unwrap(),
                i["type"].as_str().unwrap(),
                i["user"]["username"].as_str().unwrap(),
                i["verb"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (revisions[0].as_str(), "ADDED", "alice", "create"),
            (revisions[1].as_str(), "MODIFIED", "bob", "update"),
            (revisions[2].as_str(), "MODIFIED", "alice", "update"),
            (revisions[3].as_str(), "DELETED", "bob", "delete"),
        ]
    );
    assert_eq!(items[0]["user"]["groups"], json!(["devs", "system:authenticated"]));
    assert_eq!(items[1]["object"]["data"]["k"], "b");
    assert_eq!(items[1]["object"]["metadata"]["resourceVersion"], revisions[1].as_str());
    // A delete shows the last state.
    assert_eq!(items[3]["object"]["data"]["k"], "c");
    assert!(all["metadata"].get("continue").is_none());
    assert_eq!(all["metadata"]["resourceVersion"], head(&api).await.to_string());

    // Pages of 3 then 1, by the opaque continue token.
    let first = get_ok(&api, &format!("{CMS}/cm/history?limit=3")).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let token = first["metadata"]["continue"].as_str().unwrap();
    let rest = get_ok(&api, &format!("{CMS}/cm/history?limit=3&continue={token}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["revision"], revisions[3].as_str());
    assert!(rest["metadata"].get("continue").is_none());

    let bad = api.get(&format!("{CMS}/cm/history?continue=nonsense")).await;
    assert_status(&bad, 400, "BadRequest");
    let none = api.get(&format!("{CMS}/never/history")).await;
    assert_status(&none, 404, "NotFound");
    assert_eq!(none.1["message"], "configmaps \"never\" not found");
}

#[tokio::test]
async fn one_revision_and_its_out_of_range_answers() {
    let api = api().await;
    let revisions = changed_and_deleted(&api).await;
    let one = get_ok(&api, &format!("{CMS}/cm/history/{}", revisions[1])).await;
    assert_eq!(
        (one["kind"].as_str(), one["revision"].as_str()),
        (Some("Revision"), Some(revisions[1].as_str()))
    );
    assert_eq!(one["user"]["username"], "bob");
    assert_eq!(one["object"]["data"]["k"], "b");

    let (code, other) = api.post(CMS, configmap("other")).await;
    assert_eq!(code, StatusCode::CREATED);
    let before = head(&api).await;
    let not_ours = api.get(&format!("{CMS}/cm/history/{}", rv(&other))).await;
    assert_status(&not_ours, 404, "NotFound");
    assert_eq!(not_ours.1["message"], format!("configmaps \"cm\" has no revision {}", rv(&other)));
    assert_status(&api.get(&format!("{CMS}/cm/history/abc")).await, 400, "BadRequest");
    assert_status(&api.get(&format!("{CMS}/cm/history/0")).await, 400, "BadRequest");
    let future = api.get(&format!("{CMS}/cm/history/{}", before + 100)).await;
    assert_status(&future, 504, "Timeout");
    assert_eq!(future.1["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");

    api.storage.compact(before).await.unwrap();
    let oldest = api.storage.compacted_revision().await.unwrap();
    let gone = api.get(&format!("{CMS}/cm/history/{}", revisions[0])).await;
    assert_status(&gone, 410, "Expired");
    assert!(gone.1["message"].as_str().unwrap().contains(&format!("({oldest})")), "{}", gone.1);
    assert_eq!(head(&api).await, before, "reads store nothing");
}

#[tokio::test]
async fn diff_between_revisions_as_json_patch_and_unified_yaml() {
    let api = api().await;
    let revisions = changed_and_deleted(&api).await;
    let uri = format!("{CMS}/cm/history/diff?from={}&to={}", revisions[0], revisions[2]);
    let diff = get_ok(&api, &uri).await;
    assert_eq!(diff["kind"], "RevisionDiff");
    assert_eq!(
        (diff["from"].as_str(), diff["to"].as_str()),
        (Some(revisions[0].as_str()), Some(revisions[2].as_str()))
    );
    let patch = diff["patch"].as_array().unwrap();
    assert!(
        patch.contains(&json!({"op": "replace", "path": "/data/k", "value": "c"})),
        "{patch:?}"
    );
    let unified = diff["unified"].as_str().unwrap();
    assert!(
        unified.starts_with(&format!("--- cm@{}\n+++ cm@{}\n@@ ", revisions[0], revisions[2])),
        "{unified}"
    );
    assert!(unified.contains("\n-  k: v\n+  k: c\n"), "{unified}");

    // Defaults: to the latest (the delete, compared as no object) from the one before.
    let last = get_ok(&api, &format!("{CMS}/cm/history/diff")).await;
    assert_eq!(
        (last["from"].as_str(), last["to"].as_str()),
        (Some(revisions[2].as_str()), Some(revisions[3].as_str()))
    );
    assert_eq!(last["patch"], json!([{"op": "replace", "path": "", "value": null}]));
    // `to` alone: from the revision before it.
    let step = get_ok(&api, &format!("{CMS}/cm/history/diff?to={}", revisions[1])).await;
    assert_eq!(step["from"], revisions[0].as_str());

    let (_, other) = api.post(CMS, configmap("other")).await;
    let across =
        api.get(&format!("{CMS}/cm/history/diff?from={}&to={}", revisions[0], rv(&other))).await;
    assert_status(&across, 400, "BadRequest");
    assert!(
        across.1["message"].as_str().unwrap().contains("is not a revision of configmaps \"cm\"")
    );
    assert_status(&api.get(&format!("{CMS}/cm/history/diff?from=x")).await, 400, "BadRequest");
}

#[tokio::test]
async fn blame_names_the_write_that_last_set_each_field() {
    let api = api().await;
    let (code, _) = api
        .call_as(
            Some(&alice()),
            Method::POST,
            CMS,
            Some(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"team": "a"}}, "data": {"k": "v", "keep": "1"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let uri = format!("{CMS}/cm");
    let mut object = get_ok(&api, &uri).await;
    object["data"]["k"] = "w".into();
    let (code, updated) = api.call_as(Some(&bob()), Method::PUT, &uri, Some(object)).await;
    assert_eq!(code, StatusCode::OK, "{updated}");

    let blame = get_ok(&api, &format!("{uri}/history/blame")).await;
    assert_eq!(
        (blame["kind"].as_str(), blame["revision"].as_str()),
        (Some("Blame"), Some(rv(&updated).as_str()))
    );
    assert_eq!(blame["object"]["data"]["k"], "w");
    let by_path = |path: &str| {
        blame["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_path("/data/k")["user"]["username"], "bob");
    assert_eq!(by_path("/data/k")["verb"], "update");
    assert_eq!(by_path("/data/keep")["user"]["username"], "alice");
    assert_eq!(by_path("/metadata/labels/team")["user"]["username"], "alice");
    let paths: Vec<&str> =
        blame["fields"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    let data = paths.iter().position(|p| *p == "/data/k").unwrap();
    assert_eq!(paths[data + 1], "/data/keep", "document order: {paths:?}");

    // At the first revision, everything is alice's create.
    let first = blame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/data/keep")
        .unwrap()["revision"]
        .clone();
    let at =
        get_ok(&api, &format!("{uri}/history/blame?revision={}", first.as_str().unwrap())).await;
    assert!(at["fields"].as_array().unwrap().iter().all(|f| f["user"]["username"] == "alice"));
    assert_status(&api.get(&format!("{uri}/history/blame?revision=nope")).await, 400, "BadRequest");
}

#[tokio::test]
async fn restore_recreates_a_deleted_object_and_updates_a_live_one() {
    let api = api().await;
    let revisions = changed_and_deleted(&api).await;
    let restore = |revision: &str| format!("{CMS}/cm/history/restore?revision={revision}");

    // A dry run stores nothing.
    let before = head(&api).await;
    let (code, dry) =
        api.post(&format!("{}&dryRun=All", restore(&revisions[1])), json!(null)).await;
    assert_eq!(code, StatusCode::CREATED, "{dry}");
    assert_eq!(head(&api).await, before);

    let (code, created) =
        api.call_as(Some(&alice()), Method::POST, &restore(&revisions[1]), None).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["k"], "b");
    let history = get_ok(&api, &format!("{CMS}/cm/history")).await;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["type"].as_str(), last["verb"].as_str()), (Some("ADDED"), Some("create")));
    assert_eq!(last["user"]["username"], "alice");
    assert_ne!(
        created["metadata"]["uid"], history["items"][0]["object"]["metadata"]["uid"],
        "a create gets a new uid"
    );

    // A live object: an update back to R, 200.
    let (code, updated) = api.post(&restore(&revisions[2]), json!({})).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"]["k"], "c");
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    let one = get_ok(&api, &format!("{CMS}/cm/history/{}", rv(&updated))).await;
    assert_eq!(one["verb"], "update");

    // Bad input: nothing stored.
    let before = head(&api).await;
    let stale = json!({"kind": "RestoreOptions", "apiVersion": "ledger.kube-ledger.io/v1", "resourceVersion": rv(&created)});
    assert_status(&api.post(&restore(&revisions[1]), stale).await, 409, "Conflict");
    let (_, other) = api.post(CMS, configmap("other")).await;
    let before = before.max(head(&api).await);
    assert_status(&api.post(&restore(&rv(&other)), json!(null)).await, 404, "NotFound");
    assert_status(
        &api.post(&format!("{CMS}/cm/history/restore"), json!(null)).await,
        400,
        "BadRequest",
    );
    assert_status(&api.post(&restore("x"), json!(null)).await, 400, "BadRequest");
    assert_status(
        &api.post(&restore(&(before + 50).to_string()), json!(null)).await,
        504,
        "Timeout",
    );
    assert_status(&api.get(&format!("{CMS}/cm/history/restore")).await, 405, "MethodNotAllowed");
    assert_status(
        &api.post(&format!("{CMS}/cm/history"), json!(null)).await,
        405,
        "MethodNotAllowed",
    );
    assert_eq!(head(&api).await, before);
}

#[tokio::test]
async fn restore_into_a_namespace_that_is_gone_is_a_404_and_stores_nothing() {
    let api = api().await;
    let (code, _) = api
        .post(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let cms = "/api/v1/namespaces/gone/configmaps";
    let (code, created) = api.post(cms, configmap("cm")).await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, _) = api.delete("/api/v1/namespaces/gone").await;
    assert_eq!(code, StatusCode::OK);
    // The namespace controller empties and finalizes it.
    let mut polls = 0;
    while api.get("/api/v1/namespaces/gone").await.0 != StatusCode::NOT_FOUND {
        polls += 1;
        assert!(polls < 600, "the namespace was never finalized");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let before = head(&api).await;
    let answer =
        api.post(&format!("{cms}/cm/history/restore?revision={}", rv(&created)), json!(null)).await;
    assert_status(&answer, 404, "NotFound");
    assert_eq!(answer.1["message"], "namespaces \"gone\" not found");
    assert_eq!(head(&api).await, before);
}

#[tokio::test]
async fn a_deployments_history_is_in_the_paths_version() {
    let api = api().await;
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}});
    let (code, created) = api.post(deployments, deployment).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let uri = format!("{deployments}/web");
    let (code, scaled) = api
        .call(Method::PATCH, &uri, MERGE, json!({"spec": {"replicas": 3}}).to_string().into_bytes())
        .await;
    assert_eq!(code, StatusCode::OK, "{scaled}");
    let history = get_ok(&api, &format!("{uri}/history")).await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["verb"], "patch");
    assert_eq!(items[1]["object"]["apiVersion"], "apps/v1");
    assert_eq!(items[1]["object"]["spec"]["replicas"], 3);
    let blame = get_ok(&api, &format!("{uri}/history/blame")).await;
    let replicas = blame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/spec/replicas")
        .unwrap()
        .clone();
    assert_eq!(replicas["revision"], rv(&scaled).as_str());
    let image = blame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/spec/template/spec/containers/0/image")
        .unwrap()
        .clone();
    assert_eq!(image["revision"], rv(&created).as_str());
}

/// The ledger records a restore as one: `restoredFrom` on the write's revision. (Needs the
/// embedded backend to store `Provenance.restored_from`: the storage part of issue 15.)
#[tokio::test]
async fn a_restore_is_recorded_with_the_revision_it_restored() {
    let api = api().await;
    let revisions = changed_and_deleted(&api).await;
    let restore = |revision: &str| format!("{CMS}/cm/history/restore?revision={revision}");
    let (code, created) = api.post(&restore(&revisions[1]), json!(null)).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let (code, updated) = api.post(&restore(&revisions[2]), json!(null)).await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    let history = get_ok(&api, &format!("{CMS}/cm/history")).await;
    let restored: Vec<(&str, Option<&str>)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["verb"].as_str().unwrap(), i["restoredFrom"].as_str()))
        .collect();
    assert_eq!(
        restored[4..],
        [("create", Some(revisions[1].as_str())), ("update", Some(revisions[2].as_str()))]
    );
    assert!(restored[..4].iter().all(|(_, from)| from.is_none()), "{restored:?}");
}
