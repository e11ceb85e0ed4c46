//! The real binary's life: health and version endpoints, the kubeconfig it writes, encodings
//! (YAML in and out, gzip for large responses), and a graceful shutdown that ends open watches
//! cleanly and keeps every acknowledged write across a restart.

mod support;

use futures::StreamExt;
use serde_json::{Value, json};
use support::server::{ALICE_TOKEN, TestServer};

#[tokio::test(flavor = "multi_thread")]
async fn health_version_and_kubeconfig() {
    let server = TestServer::embedded().await;
    for path in ["/healthz", "/livez", "/readyz"] {
        let r = server.http.get(format!("{}{path}", server.url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), "ok");
    }
    let version: Value = server
        .http
        .get(format!("{}/version", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["major"], "1");
    assert!(version["gitVersion"].as_str().unwrap().starts_with("v1.33.0-ledger"), "{version}");
    let config = std::fs::read_to_string(&server.kubeconfig).unwrap();
    assert!(config.contains(&format!("server: {}", server.url)), "{config}");
    assert!(server.url.starts_with("https://127.0.0.1:"));
    let unknown = server.http.get(format!("{}/nope", server.url)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.unwrap()["kind"], "Status");
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_in_and_out_and_gzip_for_large_lists() {
    let server = TestServer::embedded().await;
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  key: value\n";
    let created = server
        .http
        .post(&cms)
        .header("content-type", "application/yaml")
        .header("accept", "application/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["content-type"], "application/yaml");
    let text = created.text().await.unwrap();
    assert!(text.contains("name: from-yaml") && text.contains("key: value"), "{text}");

    // ~200 KiB of objects: over the 128 KiB threshold, so gzip is used when asked for.
    let big = "x".repeat(2000);
    for i in 0..100 {
        let body = json!({"metadata": {"name": format!("big-{i}")}, "data": {"blob": big}});
        let r = server.http.post(&cms).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    let zipped = server.http.get(&cms).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let plain = server.http.get(&cms).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let list: Value = plain.json().await.unwrap();
    // Ours and the namespace's kube-root-ca.crt.
    assert_eq!(list["items"].as_array().unwrap().len(), 101 + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_watches_cleanly_and_a_restart_keeps_everything() {
    let mut server = TestServer::embedded().await;
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let first =
        server.http.post(&cms).json(&json!({"metadata": {"name": "kept"}})).send().await.unwrap();
    assert_eq!(first.status(), 201);

    // (Not the namespace's kube-root-ca.crt: one initial event.)
    let watch = server.http.get(format!("{cms}?watch=1&fieldSelector=metadata.name%3Dkept"));
    let watch = watch.send().await.unwrap();
    assert_eq!(watch.status(), 200);
    let mut body = watch.bytes_stream();
    let initial = body.next().await.expect("initial event").unwrap();
    let event: Value = serde_json::from_slice(&initial).unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "kept");

    let status = server.stop().await;
    assert!(status.success(), "graceful shutdown exits 0: {status}");
    // The watch ends: a clean end of stream, no transport error.
    let rest = tokio::time::timeout(std::time::Duration::from_secs(30), body.next())
        .await
        .expect("the watch did not end on shutdown");
    assert!(rest.is_none(), "expected a clean end of the stream, got {rest:?}");

    server.restart_stopped().await;
    let got = server.http.get(format!("{cms}/kept")).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let names: Vec<String> = server
        .http
        .get(format!("{}/api/v1/namespaces", server.url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);
}

/// `--max-requests-inflight=1`: while one LIST waits for a resourceVersion the log has not
/// reached (kube-ledger waits up to 3 s, then 504), another read by alice is refused with kube's
/// 429 and `Retry-After`, while the admin (`system:masters`, never refused, as in kube), writes
/// (their own limit) and watches (not counted) go on.
#[tokio::test(flavor = "multi_thread")]
async fn the_in_flight_limit_answers_429_with_retry_after() {
    let server = TestServer::embedded_with(&["--max-requests-inflight=1"]).await;
    server.grant("alice", "edit", "list", "configmaps").await;
    let alice = server.token_client(ALICE_TOKEN);
    let list = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let head: Value = server.http.get(&list).send().await.unwrap().json().await.unwrap();
    let head: u64 = head["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    let waiting = alice
        .get(format!("{list}?resourceVersion={}&resourceVersionMatch=NotOlderThan", head + 1000))
        .send();
    let waiting = tokio::spawn(waiting);
    let mut refused = None;
    for _ in 0..200 {
        let response = alice.get(&list).send().await.unwrap();
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let refused = refused.expect("a second read while the first waits is refused with 429");
    assert_eq!(refused.headers()["retry-after"], "1");
    let status: Value = refused.json().await.unwrap();
    assert_eq!(
        (status["reason"].as_str(), status["code"].as_u64()),
        (Some("TooManyRequests"), Some(429))
    );
    assert_eq!(
        server.http.get(&list).send().await.unwrap().status(),
        200,
        "a member of system:masters is served without a free slot"
    );
    let create = alice
        .post(&list)
        .json(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 201, "writes have their own limit");
    let watch = alice.get(format!("{list}?watch=1&timeoutSeconds=1")).send().await.unwrap();
    assert_eq!(watch.status(), 200, "watches are long-running, not counted");
    assert_eq!(waiting.await.unwrap().unwrap().status(), 504);
    assert_eq!(alice.get(&list).send().await.unwrap().status(), 200, "the slot is free again");
}
