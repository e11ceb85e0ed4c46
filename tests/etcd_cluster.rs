//! The real binary on a real three-member etcd cluster (`--etcd-servers` names all three), with
//! members SIGKILLed under a client that creates ConfigMaps one after another:
//!
//! - a follower killed: no create fails, and `/readyz` answers 200 after every create (the
//!   cluster keeps its quorum);
//! - the leader killed: every create that starts once the survivors have elected a new leader
//!   succeeds; at most one create fails — the one in flight at the kill (the others wait for the
//!   election) — and only with a retryable Status: 503 `ServiceUnavailable`, after which the
//!   ConfigMap does not exist (nothing was written), or 504 `Timeout`, after which it may (the
//!   write may have been committed before the answer was lost).
//!
//! Neither asserts a duration: "after the election" is when the test itself has seen every
//! surviving member name the same new leader.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::etcd::TestEtcdCluster;
use support::server::TestServer;

/// Creates made before and after a kill.
const BEFORE_KILL: usize = 30;
const AFTER_KILL: usize = 250;

/// Hang protection only: a request that never answers fails the test here.
const PATIENCE: Duration = Duration::from_secs(60);

/// One create of the sequential client.
#[derive(Debug)]
struct Outcome {
    name: String,
    code: u16,
    body: String,
    /// Whether the create started after the test had seen a new leader elected.
    after_election: bool,
    /// `/readyz`'s code right after the create, when the client checks it.
    readyz: Option<u16>,
}

/// A client creating ConfigMaps one after another until told to stop.
#[derive(Clone)]
struct Creator {
    url: String,
    http: reqwest::Client,
    check_readyz: bool,
    /// Creates answered so far.
    done: Arc<AtomicUsize>,
    /// Set by the test once it has seen the new leader.
    elected: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
}

impl Creator {
    fn new(server: &TestServer, check_readyz: bool) -> Creator {
        Creator {
            url: server.url.clone(),
            http: server.http.clone(),
            check_readyz,
            done: Arc::default(),
            elected: Arc::default(),
            stop: Arc::default(),
            outcomes: Arc::default(),
        }
    }

    async fn run(self) {
        let configmaps = format!("{}/api/v1/namespaces/default/configmaps", self.url);
        for n in 0.. {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let name = format!("cm-{n}");
            let after_election = self.elected.load(Ordering::SeqCst);
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": name}, "data": {"n": n.to_string()}});
            let create = self.http.post(&configmaps).json(&body).send();
            let response = tokio::time::timeout(PATIENCE, create).await.expect("create hung");
            let response = response.expect("the server answers");
            let code = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let readyz = if self.check_readyz {
                let ready = self.http.get(format!("{}/readyz", self.url)).send();
                let ready = tokio::time::timeout(PATIENCE, ready).await.expect("/readyz hung");
                Some(ready.expect("the server answers").status().as_u16())
            } else {
                None
            };
            self.outcomes.lock().unwrap().push(Outcome {
                name,
                code,
                body,
                after_election,
                readyz,
            });
            self.done.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits until `count` creates have been answered.
    async fn wait_for(&self, count: usize) {
        while self.done.load(Ordering::SeqCst) < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn finish(self, task: tokio::task::JoinHandle<()>) -> Vec<Outcome> {
        self.stop.store(true, Ordering::SeqCst);
        task.await.unwrap();
        std::mem::take(&mut *self.outcomes.lock().unwrap())
    }

    /// Whether ConfigMap `name` exists (a GET answers 200 or 404, nothing else).
    async fn exists(&self, name: &str) -> bool {
        let url = format!("{}/api/v1/namespaces/default/configmaps/{name}", self.url);
        let code = self.http.get(url).send().await.unwrap().status().as_u16();
        assert!(code == 200 || code == 404, "GET {name}: {code}");
        code == 200
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_follower_costs_no_request_and_the_server_stays_ready() {
    let mut cluster = TestEtcdCluster::start(3).await;
    let server = TestServer::on_etcd_servers(&cluster.endpoints(), &[]).await;
    let leader = cluster.leader().await;
    let follower = (leader + 1) % 3;

    let creator = Creator::new(&server, true);
    let task = tokio::spawn(creator.clone().run());
    creator.wait_for(BEFORE_KILL).await;
    cluster.kill(follower).await;
    creator.wait_for(BEFORE_KILL + AFTER_KILL).await;
    let outcomes = creator.clone().finish(task).await;

    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.code != 201).collect();
    assert!(
        failed.is_empty(),
        "{} of {} creates failed: {failed:#?}",
        failed.len(),
        outcomes.len()
    );
    let unready: Vec<&Outcome> = outcomes.iter().filter(|o| o.readyz != Some(200)).collect();
    assert!(unready.is_empty(), "/readyz failed after {} creates: {unready:#?}", unready.len());
    for outcome in [outcomes.first().unwrap(), outcomes.last().unwrap()] {
        assert!(creator.exists(&outcome.name).await, "{} was acknowledged", outcome.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_leader_costs_at_most_the_request_in_flight() {
    let mut cluster = TestEtcdCluster::start(3).await;
    let server = TestServer::on_etcd_servers(&cluster.endpoints(), &[]).await;
    let leader = cluster.leader().await;

    let creator = Creator::new(&server, false);
    let task = tokio::spawn(creator.clone().run());
    creator.wait_for(BEFORE_KILL).await;
    cluster.kill(leader).await;
    let new_leader = cluster.leader().await;
    assert_ne!(new_leader, leader);
    creator.elected.store(true, Ordering::SeqCst);
    let elected_at = creator.done.load(Ordering::SeqCst);
    creator.wait_for(elected_at + AFTER_KILL).await;
    let outcomes = creator.clone().finish(task).await;

    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.code != 201).collect();
    let after: Vec<&&Outcome> = failed.iter().filter(|o| o.after_election).collect();
    assert!(after.is_empty(), "creates failed after the election: {after:#?}");
    assert!(failed.len() <= 1, "more than the create in flight failed: {failed:#?}");
    for outcome in failed {
        let status: serde_json::Value = serde_json::from_str(&outcome.body).unwrap();
        match (outcome.code, status["reason"].as_str()) {
            (503, Some("ServiceUnavailable")) => {
                assert!(!creator.exists(&outcome.name).await, "503 but written: {outcome:?}")
            }
            (504, Some("Timeout")) => {} // may or may not have been committed
            _ => panic!("not a retryable Status: {outcome:?}"),
        }
    }
    let last = outcomes.last().unwrap();
    assert!(creator.exists(&last.name).await, "{} was acknowledged", last.name);
    let ready = server.http.get(format!("{}/readyz", server.url)).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}
