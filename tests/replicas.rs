//! Two kube-ledger replicas (the real binary) over one real etcd, as kube-apiserver and
//! kube-controller-manager run several times over one etcd cluster:
//!
//! - leader election: exactly one replica holds the `kube-system/kube-ledger-controllers` Lease
//!   (`kubectl get lease` shows its holder; `leader_election_master_status` says which); after
//!   a SIGKILL of the leader the other takes the Lease over (one more transition, a new holder)
//!   and runs the singletons: a namespace deleted there finishes terminating, a new namespace
//!   gets its `default` ServiceAccount, a deleted CRD is finalized, the compactor reports its
//!   retained span (and a CRD created through the candidate is served by both and established
//!   by the leader before);
//! - consistency: every write acknowledged by one replica is seen by a GET and a LIST without
//!   resourceVersion on the other right after, and by watches on the other from the revision
//!   before it; a restarted replica resumes a watch from a revision older than its restart;
//! - health: `/readyz` lists kube's checks and fails (`[-]etcd failed`) while etcd is stopped,
//!   then recovers; `/livez` answers 200 throughout; the leader, unable to renew, steps down and
//!   leads again once etcd is back.
//!
//! Nothing asserts a duration: waits poll the outcome, bounded only against a hang.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::etcd::TestEtcd;
use support::events::next_event;
use support::http::send;
use support::server::{TestServer, crd_established};

/// Short election times so that a takeover is quick: lease 4 s, deadline 3 s, retry 0.5 s.
const FAST_ELECTION: [&str; 3] = [
    "--leader-elect-lease-duration=4s",
    "--leader-elect-renew-deadline=3s",
    "--leader-elect-retry-period=500ms",
];

const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-ledger-controllers";

/// Hang protection only: how long a poll may wait for what it expects.
const PATIENCE: Duration = Duration::from_secs(40);

/// Polls `check` every 100 ms until it returns `Some`, failing the test after [`PATIENCE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    let response = server.http.get(format!("{}{path}", server.url)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn metrics(server: &TestServer) -> String {
    server.http.get(format!("{}/metrics", server.url)).send().await.unwrap().text().await.unwrap()
}

/// `leader_election_master_status{name="kube-ledger-controllers"}` as the replica reports it.
async fn master_status(server: &TestServer) -> Option<f64> {
    let text = metrics(server).await;
    let line = text.lines().find(|l| {
        l.starts_with("leader_election_master_status{name=\"kube-ledger-controllers\"}")
    })?;
    line.rsplit(' ').next()?.parse().ok()
}

/// A cluster-scoped CRD, `regions.geo.example.org`.
fn region_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "regions.geo.example.org"},
        "spec": {"group": "geo.example.org", "scope": "Cluster",
            "names": {"plural": "regions", "kind": "Region"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}})
}

async fn lease(server: &TestServer) -> Value {
    send(server.http.get(format!("{}{LEASE}", server.url)), 200).await
}

#[tokio::test]
async fn one_replica_leads_and_the_other_takes_over_when_it_dies() {
    let etcd = TestEtcd::start().await;
    let endpoints = vec![etcd.endpoint()];
    let mut a = TestServer::on_etcd_servers(&endpoints, &FAST_ELECTION).await;
    let b = TestServer::replica_of(&a, &endpoints, &FAST_ELECTION).await;

    // A started first and leads; B is a candidate. kubectl shows the Lease on either replica.
    assert_eq!(master_status(&a).await, Some(1.0));
    assert_eq!(master_status(&b).await, Some(0.0));
    let held = lease(&b).await;
    let first_holder = held["spec"]["holderIdentity"].as_str().unwrap().to_owned();
    assert!(!first_holder.is_empty(), "{held}");
    assert_eq!(held["spec"]["leaseDurationSeconds"], 4);
    let listed = b.ok(&["get", "lease", "-n", "kube-system", "kube-ledger-controllers"]);
    assert!(listed.contains(&first_holder), "{listed}");
    // Only the leader compacts: B has no retained span to report.
    assert!(!metrics(&b).await.contains("ledger_history_retained_revisions"));

    // The singletons run on A while requests go to B: a namespace deleted through B is
    // emptied and removed by A's namespace controller.
    b.ok(&["create", "namespace", "before"]);
    b.ok(&["create", "configmap", "x", "-n", "before"]);
    b.ok(&["delete", "namespace", "before", "--wait=false"]);
    eventually("the namespace deleted through B to go", || async {
        (get(&b, "/api/v1/namespaces/before").await.0 == 404).then_some(())
    })
    .await;

    // A CRD created through B is served by both replicas (each registers its routes) and
    // established by the leader's controller (its status written by A).
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    send(b.http.post(format!("{}{crds}", b.url)).json(&region_crd()), 201).await;
    let regions = "/apis/geo.example.org/v1/regions";
    eventually("the CRD to be established and served by both replicas", || async {
        let (_, crd) = get(&b, &format!("{crds}/regions.geo.example.org")).await;
        let established = crd_established(&crd);
        let served = get(&a, regions).await.0 == 200 && get(&b, regions).await.0 == 200;
        (established && served).then_some(())
    })
    .await;
    let region =
        json!({"apiVersion": "geo.example.org/v1", "kind": "Region", "metadata": {"name": "eu"}});
    send(a.http.post(format!("{}{regions}", a.url)).json(&region), 201).await;

    // SIGKILL: A cannot release the Lease; B takes it once it has seen it unrenewed for 4 s.
    let transitions = held["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
    a.kill().await;
    let taken = eventually("B to take the Lease", || async {
        let lease = lease(&b).await;
        let holder = lease["spec"]["holderIdentity"].as_str().unwrap_or_default();
        (!holder.is_empty() && holder != first_holder).then_some(lease)
    })
    .await;
    assert_eq!(taken["spec"]["leaseTransitions"], transitions + 1, "{taken}");
    assert_ne!(taken["spec"]["acquireTime"], held["spec"]["acquireTime"]);
    eventually("B to report leading", || async {
        (master_status(&b).await == Some(1.0)).then_some(())
    })
    .await;

    // B's singletons: the namespace controller, the serviceaccounts controller, the compactor.
    b.ok(&["create", "namespace", "after"]);
    eventually("the default ServiceAccount in a namespace made after the takeover", || async {
        (get(&b, "/api/v1/namespaces/after/serviceaccounts/default").await.0 == 200).then_some(())
    })
    .await;
    b.ok(&["create", "configmap", "y", "-n", "after"]);
    b.ok(&["delete", "namespace", "after", "--wait=false"]);
    eventually("the namespace deleted after the takeover to go", || async {
        (get(&b, "/api/v1/namespaces/after").await.0 == 404).then_some(())
    })
    .await;
    // B's CRD controller finalizes a deleted CRD: its objects deleted, then the CRD itself.
    let crd_path = format!("{}{crds}/regions.geo.example.org", b.url);
    send(b.http.delete(&crd_path), 200).await;
    eventually("the deleted CRD to be finalized by B", || async {
        (get(&b, &format!("{crds}/regions.geo.example.org")).await.0 == 404).then_some(())
    })
    .await;
    eventually("B's compactor to report", || async {
        metrics(&b).await.contains("ledger_history_retained_revisions").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_graceful_stop_releases_the_lease_for_the_other_replica() {
    let etcd = TestEtcd::start().await;
    let endpoints = vec![etcd.endpoint()];
    // Long durations: only a release lets B take over before this test gives up.
    let slow = ["--leader-elect-lease-duration=120s", "--leader-elect-renew-deadline=60s"];
    let mut a = TestServer::on_etcd_servers(&endpoints, &slow).await;
    let b = TestServer::replica_of(&a, &endpoints, &slow).await;
    let first_holder = lease(&b).await["spec"]["holderIdentity"].as_str().unwrap().to_owned();
    assert_eq!(master_status(&a).await, Some(1.0));
    assert!(a.stop().await.success());
    let taken = eventually("B to take the released Lease", || async {
        let lease = lease(&b).await;
        let holder = lease["spec"]["holderIdentity"].as_str().unwrap_or_default().to_owned();
        (!holder.is_empty() && holder != first_holder).then_some(lease)
    })
    .await;
    assert_eq!(taken["spec"]["leaseDurationSeconds"], 120);
}

/// Reads every event of a watch stream until `count` objects were added; returns their names.
async fn added_names(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut Vec<u8>,
    count: usize,
) -> Vec<(String, String)> {
    let mut names = Vec::new();
    while names.len() < count {
        let event = next_event(stream, buffer).await;
        assert_eq!(event["type"], "ADDED", "{event}");
        let object = &event["object"];
        names.push((
            object["metadata"]["name"].as_str().unwrap().to_owned(),
            object["metadata"]["resourceVersion"].as_str().unwrap().to_owned(),
        ));
    }
    names
}

#[tokio::test]
async fn writes_on_one_replica_are_read_on_the_other_at_once() {
    let etcd = TestEtcd::start().await;
    let endpoints = vec![etcd.endpoint()];
    let a = TestServer::on_etcd_servers(&endpoints, &[]).await;
    let mut b = TestServer::replica_of(&a, &endpoints, &[]).await;
    let path = "/api/v1/namespaces/default/configmaps";

    // Where B's long watch starts: before the first write.
    let start = send(a.http.get(format!("{}{path}", a.url)), 200).await;
    let start_rv = start["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let watch = b.http.get(format!("{}{path}?watch=1&resourceVersion={start_rv}", b.url));
    let mut long_watch = watch.send().await.unwrap().bytes_stream();
    let mut long_buffer = Vec::new();

    const WRITES: usize = 150;
    let mut written = Vec::new();
    let mut previous_rv = start_rv.clone();
    for i in 0..WRITES {
        let name = format!("cm-{i:03}");
        let body = json!({"metadata": {"name": name}, "data": {"i": i.to_string()}});
        let created = send(a.http.post(format!("{}{path}", a.url)).json(&body), 201).await;
        let rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_owned();

        // GET and LIST without resourceVersion on B: consistent reads see A's write.
        let (status, got) = get(&b, &format!("{path}/{name}")).await;
        assert_eq!(status, 200, "write {i} acknowledged at {rv} by A, not found on B: {got}");
        assert_eq!(got["metadata"]["resourceVersion"], rv);
        assert_eq!(got["data"]["i"], i.to_string());
        let (_, list) = get(&b, path).await;
        let items = list["items"].as_array().unwrap();
        let ours =
            items.iter().filter(|o| o["metadata"]["name"].as_str().unwrap().starts_with("cm-"));
        assert_eq!(ours.count(), i + 1, "LIST on B after write {i}");
        let list_rv: i64 = list["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        assert!(list_rv >= rv.parse::<i64>().unwrap());

        // A watch on B from the revision before A's write sees it first.
        if i % 15 == 0 {
            let url = format!("{}{path}?watch=1&resourceVersion={previous_rv}", b.url);
            let mut stream = b.http.get(url).send().await.unwrap().bytes_stream();
            let mut buffer = Vec::new();
            let first = added_names(&mut stream, &mut buffer, 1).await;
            assert_eq!(first, [(name.clone(), rv.clone())]);
        }
        written.push((name, rv.clone()));
        previous_rv = rv;
    }
    // The long watch on B saw every write once, in order.
    let seen = added_names(&mut long_watch, &mut long_buffer, WRITES).await;
    assert_eq!(seen, written);
    drop(long_watch);

    // B restarts while A keeps writing; a watch on B from before its restart resumes (no 410,
    // no relist) and sees exactly the writes made meanwhile.
    let before_restart = previous_rv.clone();
    b.stop().await;
    let mut meanwhile = Vec::new();
    for i in 0..10 {
        let name = format!("while-down-{i}");
        let body = json!({"metadata": {"name": name}});
        let created = send(a.http.post(format!("{}{path}", a.url)).json(&body), 201).await;
        meanwhile.push((name, created["metadata"]["resourceVersion"].as_str().unwrap().to_owned()));
    }
    b.restart_stopped().await;
    let url = format!("{}{path}?watch=1&resourceVersion={before_restart}", b.url);
    let response = b.http.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    assert_eq!(added_names(&mut stream, &mut buffer, meanwhile.len()).await, meanwhile);
}

#[tokio::test]
async fn readyz_fails_while_etcd_is_down_and_livez_stays_up() {
    let mut etcd = TestEtcd::start().await;
    let endpoints = vec![etcd.endpoint()];
    let server = TestServer::on_etcd_servers(&endpoints, &FAST_ELECTION).await;
    let health = |path: &'static str| {
        let request = server.http.get(format!("{}{path}", server.url));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    assert_eq!(health("/readyz").await, (200, "ok".to_owned()));
    let (status, verbose) = health("/readyz?verbose").await;
    assert_eq!(status, 200);
    assert_eq!(
        verbose,
        "[+]ping ok\n[+]etcd ok\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check passed\n"
    );
    assert_eq!(health("/readyz/etcd").await, (200, "ok".to_owned()));
    assert_eq!(health("/livez?verbose").await, (200, "[+]ping ok\nlivez check passed\n".into()));

    etcd.stop().await;
    let failed = eventually("/readyz to fail without etcd", || async {
        let (status, body) = health("/readyz").await;
        (status == 500).then_some(body)
    })
    .await;
    assert!(failed.contains("[-]etcd failed: reason withheld\n"), "{failed}");
    assert!(failed.contains("[+]ping ok\n"), "{failed}");
    assert!(failed.ends_with("readyz check failed\n"), "{failed}");
    let (status, excluded) = health("/readyz?exclude=etcd").await;
    assert_eq!(status, 200, "{excluded}");
    assert_eq!(health("/livez").await, (200, "ok".to_owned()));
    let (status, reason) = health("/readyz/etcd").await;
    assert_eq!(status, 500);
    assert!(reason.starts_with("internal server error: "), "{reason}");
    // Unable to renew its Lease, the leader steps down at the renew deadline.
    eventually("the leader to step down without etcd", || async {
        (master_status(&server).await == Some(0.0)).then_some(())
    })
    .await;

    etcd.restart().await;
    eventually("/readyz to recover with etcd", || async {
        (health("/readyz").await.0 == 200).then_some(())
    })
    .await;
    eventually("the replica to lead again", || async {
        (master_status(&server).await == Some(1.0)).then_some(())
    })
    .await;
    assert_eq!(health("/livez").await.0, 200);
}

#[tokio::test]
async fn two_replicas_started_at_once_both_come_up_with_one_leader() {
    let etcd = TestEtcd::start().await;
    let endpoints = vec![etcd.endpoint()];
    // Both make kube-apiserver's start-up writes (namespaces, priority classes, flow control,
    // the bootstrap RBAC policy) and race for the Lease at the same time.
    let (a, b) = tokio::join!(
        TestServer::on_etcd_servers(&endpoints, &[]),
        TestServer::on_etcd_servers(&endpoints, &[])
    );
    let statuses = [master_status(&a).await, master_status(&b).await];
    let mut sorted = statuses.map(|s| s.unwrap_or(-1.0));
    sorted.sort_by(f64::total_cmp);
    assert_eq!(sorted, [0.0, 1.0], "exactly one leads: {statuses:?}");
    for server in [&a, &b] {
        let (status, _) =
            get(server, "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin").await;
        assert_eq!(status, 200);
        assert_eq!(get(server, "/api/v1/namespaces/kube-system").await.0, 200);
    }
}
