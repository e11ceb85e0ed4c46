//! The audit log of the real binary: `--audit-policy-file` choosing each request's level
//! (Metadata, Request, RequestResponse, None) and `omitStages`, `--audit-log-path` writing kube's
//! JSON lines, and the `Audit-ID` response header naming the log's events.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::server::TestServer;

const POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/readyz", "/healthz*", "/livez"]
- level: RequestResponse
  resources: [{group: "", resources: [configmaps]}]
- level: Request
  resources: [{group: coordination.k8s.io, resources: [leases]}]
  omitStages: [ResponseStarted]
- level: Metadata
"#;

/// The log's events, read until `done` says they are all there (the log backend writes each
/// batch as it comes; the bound only keeps a broken build from hanging).
async fn events(log: &Path, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut events = Vec::new();
    for _ in 0..200 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        events = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        if done(&events) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the audit log never had what was expected: {events:#?}");
}

fn of<'a>(events: &'a [Value], audit_id: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["auditID"] == audit_id).collect()
}

fn audit_id(response: &reqwest::Response) -> String {
    response.headers().get("audit-id").expect("Audit-ID header").to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policy_decides_what_the_log_records_and_audit_ids_match() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let log = dir.path().join("audit/audit.log");
    let server = TestServer::embedded_with(&[
        "--authorization-mode=AlwaysAllow",
        "--audit-policy-file",
        policy.to_str().unwrap(),
        "--audit-log-path",
        log.to_str().unwrap(),
    ])
    .await;
    let http = &server.http;
    let url = &server.url;

    // RequestResponse, with the client's own Audit-ID.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "audited"}, "data": {"k": "v"}});
    let created = http
        .post(format!("{url}/api/v1/namespaces/default/configmaps"))
        .header("Audit-ID", "client-chosen-id-1")
        .header("User-Agent", "audit-test/1.0")
        .json(&cm)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(audit_id(&created), "client-chosen-id-1");

    // Request: the request body, not the response's.
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}});
    let leased = http
        .post(format!("{url}/apis/coordination.k8s.io/v1/namespaces/default/leases"))
        .json(&lease)
        .send()
        .await
        .unwrap();
    assert_eq!(leased.status(), 201);
    let lease_id = audit_id(&leased);
    assert_eq!(lease_id.len(), 36, "a generated uid: {lease_id}");

    // Metadata: no bodies; an error's Status still fills responseStatus.
    let missing =
        http.get(format!("{url}/api/v1/namespaces/default/secrets/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let missing_id = audit_id(&missing);
    let listed = http.get(format!("{url}/api/v1/namespaces")).send().await.unwrap();
    let listed_id = audit_id(&listed);

    // A watch: ResponseStarted, then ResponseComplete when it ends.
    let watch = http
        .get(format!("{url}/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1"))
        .send()
        .await
        .unwrap();
    let watch_id = audit_id(&watch);
    let _ = watch.bytes().await.unwrap();

    // Impersonation: the event names the authenticated admin and the impersonated user.
    let impersonated = http
        .get(format!("{url}/api/v1/namespaces/default/configmaps/audited"))
        .header("Impersonate-User", "alice")
        .header("Impersonate-Group", "dev")
        .send()
        .await
        .unwrap();
    assert_eq!(impersonated.status(), 200);
    let impersonated_id = audit_id(&impersonated);

    // None: not recorded, but the header is there all the same.
    let ready = http.get(format!("{url}/readyz")).send().await.unwrap();
    let ready_id = audit_id(&ready);
    // An invalid client Audit-ID is replaced.
    let bad =
        http.get(format!("{url}/version")).header("Audit-ID", "has space").send().await.unwrap();
    assert_ne!(audit_id(&bad), "has space");

    let ids =
        [&"client-chosen-id-1".to_owned(), &lease_id, &missing_id, &listed_id, &impersonated_id];
    let events = events(&log, |events| {
        ids.iter().all(|id| !of(events, id).is_empty()) && of(events, &watch_id).len() == 2
    })
    .await;
    assert!(events.iter().all(|e| e["kind"] == "Event" && e["apiVersion"] == "audit.k8s.io/v1"));
    assert!(events.iter().all(|e| e["stage"] != "RequestReceived"), "omitStages: {events:#?}");
    assert!(of(&events, &ready_id).is_empty(), "level None is not recorded");

    let [cm_event] = of(&events, "client-chosen-id-1")[..] else { panic!("{events:#?}") };
    assert_eq!(cm_event["level"], "RequestResponse");
    assert_eq!(cm_event["stage"], "ResponseComplete");
    assert_eq!(cm_event["verb"], "create");
    assert_eq!(cm_event["requestURI"], "/api/v1/namespaces/default/configmaps");
    assert_eq!(cm_event["objectRef"]["resource"], "configmaps");
    assert_eq!(cm_event["objectRef"]["namespace"], "default");
    assert_eq!(cm_event["objectRef"]["name"], "audited");
    assert_eq!(cm_event["responseStatus"]["code"], 201);
    assert_eq!(cm_event["requestObject"]["data"], json!({"k": "v"}));
    assert_eq!(cm_event["responseObject"]["metadata"]["name"], "audited");
    assert!(cm_event["responseObject"]["metadata"]["uid"].is_string());
    // The peer address comes from the connection (PeerAddr).
    assert_eq!(cm_event["sourceIPs"], json!(["127.0.0.1"]), "{cm_event}");
    assert_eq!(cm_event["user"]["username"], "kubernetes-admin", "{cm_event}");
    assert!(cm_event.get("impersonatedUser").is_none(), "{cm_event}");
    assert_eq!(cm_event["userAgent"], "audit-test/1.0");
    assert_eq!(cm_event["annotations"]["authorization.k8s.io/decision"], "allow");
    // The write's field manager: no fieldManager, so the User-Agent's name.
    assert_eq!(cm_event["annotations"]["kube-ledger.io/field-manager"], "audit-test");

    let [as_alice] = of(&events, &impersonated_id)[..] else { panic!("{events:#?}") };
    assert_eq!(as_alice["user"]["username"], "kubernetes-admin", "{as_alice}");
    assert_eq!(as_alice["impersonatedUser"]["username"], "alice", "{as_alice}");
    let groups = json!(["dev", "system:authenticated"]);
    assert_eq!(as_alice["impersonatedUser"]["groups"], groups, "{as_alice}");

    let [lease_event] = of(&events, &lease_id)[..] else { panic!("{events:#?}") };
    assert_eq!(lease_event["level"], "Request");
    assert_eq!(lease_event["requestObject"]["spec"]["holderIdentity"], "me");
    assert!(lease_event.get("responseObject").is_none(), "{lease_event}");
    assert_eq!(lease_event["objectRef"]["apiGroup"], "coordination.k8s.io");

    let [missing_event] = of(&events, &missing_id)[..] else { panic!("{events:#?}") };
    assert_eq!(missing_event["level"], "Metadata");
    assert!(
        missing_event.get("requestObject").is_none()
            && missing_event.get("responseObject").is_none()
    );
    assert_eq!(missing_event["responseStatus"]["code"], 404);
    assert_eq!(missing_event["responseStatus"]["reason"], "NotFound");
    assert_eq!(missing_event["responseStatus"]["message"], "secrets \"nope\" not found");
    let [listed_event] = of(&events, &listed_id)[..] else { panic!("{events:#?}") };
    assert_eq!(
        (listed_event["verb"].as_str(), listed_event["responseStatus"]["code"].as_i64()),
        (Some("list"), Some(200))
    );
    assert!(listed_event.get("responseObject").is_none());

    let watch_events = of(&events, &watch_id);
    let stages: Vec<&Value> = watch_events.iter().map(|e| &e["stage"]).collect();
    assert_eq!(stages, [&json!("ResponseStarted"), &json!("ResponseComplete")]);
    assert_eq!(watch_events[0]["verb"], "watch");
}
