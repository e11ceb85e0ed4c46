//! The fault suite: kube-ledger as it is deployed — two replicas (the real binary, HTTPS, shared
//! certificates) over a three-member etcd cluster — under writers and watchers spread over both
//! replicas, through one fault per scenario:
//!
//! 1. SIGKILL of the etcd leader, then its restart;
//! 2. SIGKILL of an etcd follower;
//! 3. loss of quorum (two of three members down) for 10 s;
//! 4. SIGKILL of a replica with 500 watchers on it;
//! 5. a network partition between one replica and every etcd member;
//! 6. a rolling restart of both replicas.
//!
//! Every scenario ends with the same checks against the log's own record (the `history`
//! subresource): every acknowledged write is there with its content, and the object's current
//! state is its last revision; every watcher — raw HTTP and kube-rs, resuming from its last
//! resourceVersion on the other replica after an error, as a client behind a load balancer does —
//! received every revision of every object exactly once and in order, without a 410; both
//! replicas' LISTs equal the history's last states. Each prints its figures (docs/reliability.md
//! records them). No assertion is about time: waits are for events, bounded only against hangs.
//!
//! The HAProxy configuration of docs/deployment.md is exercised here too (`haproxy`): the same
//! deployment shape, reached by kubectl through the committed configuration.
//!
//! The scenarios run one at a time (each starts three etcd members and two servers; the machine
//! may have two cores).

mod support;

#[path = "faults/cluster.rs"]
mod cluster;
#[path = "faults/haproxy.rs"]
mod haproxy;
#[path = "faults/load.rs"]
mod load;
#[path = "faults/verify.rs"]
mod verify;
#[path = "faults/watchers.rs"]
mod watchers;

use std::time::Duration;

use cluster::{Deployment, configmaps};
use load::{Failure, Load};
use serde_json::Value;
use watchers::{Targets, Watchers};

/// One scenario at a time, whatever the test harness's thread count.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Hang protection for every request but watches.
const PATIENCE: Duration = Duration::from_secs(30);

/// Writers of every scenario.
const WRITERS: usize = 4;

/// A scenario under way: the deployment, its load and its watchers.
struct Run {
    name: &'static str,
    deployment: Deployment,
    http: reqwest::Client,
    load: Load,
    writers: Vec<tokio::task::JoinHandle<()>>,
    watchers: Watchers,
    targets: Targets,
    start_rv: i64,
    /// Objects written by the scenario itself besides the writers'.
    extra_names: Vec<String>,
}

impl Run {
    /// Starts `raw` raw-HTTP and `kube` kube-rs watchers on each replica from the current
    /// revision, then `writers` writers.
    async fn start(
        name: &'static str,
        deployment: Deployment,
        raw: usize,
        kube: usize,
        writers: usize,
    ) -> Run {
        let http = deployment.client(Some(PATIENCE));
        let urls = deployment.urls();
        let list = http.get(configmaps(&urls[0])).send().await.unwrap();
        let list: Value = list.json().await.unwrap();
        let start_rv = list["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        let mut kube_clients = Vec::new();
        for replica in &deployment.replicas {
            kube_clients.push(kube_client(&replica.kubeconfig).await);
        }
        let targets =
            Targets { urls: urls.clone(), http: deployment.client(None), kube: kube_clients };
        let mut watchers = Watchers::new();
        for replica in 0..urls.len() {
            watchers.raw(&targets, raw, replica, start_rv);
            watchers.kube(&targets, kube, replica, start_rv);
        }
        let load = Load::new(urls, http.clone());
        let writers = load.spawn(writers);
        Run {
            name,
            deployment,
            http,
            load,
            writers,
            watchers,
            targets,
            start_rv,
            extra_names: Vec::new(),
        }
    }

    /// Stops the load, checks everything against the history, prints the figures and returns
    /// the writers' failures for the scenario's own checks.
    async fn finish(self) -> (Deployment, Vec<Failure>, Vec<load::Ack>) {
        let Run { name, deployment, http, load, writers, watchers, start_rv, .. } = self;
        load.stop(writers).await;
        let mut names = Load::names(WRITERS);
        names.extend(self.extra_names);
        let urls = deployment.urls();
        let histories = verify::histories(&http, &urls[0], &names).await;

        let acks = load.acks.lock().unwrap().clone();
        let failures = load.failures.lock().unwrap().clone();
        let (found, missing_acks) = verify::found_acks(&acks, &histories);
        let conflicts = verify::unexplained_conflicts(&failures, &acks, &histories);

        let expected = verify::expected_events(&histories, start_rv);
        watchers.wait_until_seen(expected.last().map_or(start_rv, |e| e.rv)).await;
        let records = watchers.stop().await;
        let events = verify::event_figures(&records, &expected);

        let lists = verify::lists(&http, &urls).await;
        let last = verify::last_states(&histories);

        let mut codes = std::collections::BTreeMap::<String, usize>::new();
        for failure in &failures {
            *codes.entry(format!("{:?} {}", failure.op, failure.code)).or_default() += 1;
        }
        let kube_rs = records.iter().filter(|r| r.client == "kube-rs").count();
        println!(
            "{name}: writes attempted {} acknowledged {} found {found} (failed, by verb and code: {codes:?}); \
             events expected {} received {} duplicated {} out of order {} missing {} unexpected {}; \
             watchers {} ({kube_rs} kube-rs) resumed {} times (watches not opened, by cause: {:?}), 410s {}",
            load.attempted(),
            acks.len(),
            events.expected,
            events.received,
            events.duplicated,
            events.out_of_order,
            events.missing,
            events.unexpected,
            events.watchers,
            events.resumes,
            events.not_opened,
            events.expired,
        );
        assert!(missing_acks.is_empty(), "{name}: {missing_acks:#?}");
        assert!(conflicts.is_empty(), "{name}: conflicts on stale objects: {conflicts:#?}");
        assert!(!acks.is_empty(), "{name}: no write was acknowledged");
        assert_eq!(events.expired, 0, "{name}: a watcher was refused its resume with a 410");
        assert_eq!(
            (events.duplicated, events.out_of_order, events.missing, events.unexpected),
            (0, 0, 0, 0),
            "{name}: watchers' events (duplicated, out of order, missing, unexpected): {:#?}",
            events.examples
        );
        assert_eq!(events.received, events.expected, "{name}: events received");
        for (replica, list) in lists.iter().enumerate() {
            assert_eq!(list, &last, "{name}: replica {replica}'s LIST against the history");
        }
        (deployment, failures, acks)
    }
}

async fn kube_client(kubeconfig: &std::path::Path) -> kube::Client {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(config).expect("kube client")
}

/// Every failure is a retryable answer: a 503 with `Retry-After`, a 504 `Timeout`, or (when
/// `connection_loss`) no answer at all from a replica going away.
fn assert_retryable(name: &str, failures: &[Failure], connection_loss: bool) {
    for failure in failures {
        match failure.code {
            503 => assert!(
                failure.retry_after.is_some() && failure.reason == "ServiceUnavailable",
                "{name}: a 503 without Retry-After: {failure:?}"
            ),
            504 => assert_eq!(failure.reason, "Timeout", "{name}: {failure:?}"),
            // Checked against the history by `Run::finish`: a late commit of an earlier write.
            409 => {}
            0 if connection_loss => {}
            _ => panic!("{name}: {} is not a retryable failure: {failure:?}", failure.name),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_leader_killed_and_restarted() {
    let _serial = SERIAL.lock().await;
    let run =
        Run::start("1. etcd leader SIGKILL + restart", Deployment::start().await, 2, 2, WRITERS)
            .await;
    let mut run = run;
    run.load.wait_for_acks(100).await;
    let leader = run.deployment.etcd.leader().await;
    run.deployment.etcd.kill(leader).await;
    run.load.set_phase(1);
    let elected = run.deployment.etcd.leader().await;
    assert_ne!(elected, leader);
    run.load.wait_for_acks(150).await;
    run.deployment.etcd.members[leader].restart().await;
    run.load.set_phase(2);
    run.load.wait_for_acks(150).await;
    let (_, failures, _) = run.finish().await;
    assert_retryable("etcd leader", &failures, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_follower_killed() {
    let _serial = SERIAL.lock().await;
    let mut run =
        Run::start("2. etcd follower SIGKILL", Deployment::start().await, 2, 2, WRITERS).await;
    run.load.wait_for_acks(100).await;
    let leader = run.deployment.etcd.leader().await;
    run.deployment.etcd.kill((leader + 1) % 3).await;
    run.load.set_phase(1);
    run.load.wait_for_acks(300).await;
    let (_, failures, _) = run.finish().await;
    assert!(failures.is_empty(), "a follower's death cost writes: {failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_quorum_lost_for_ten_seconds() {
    let _serial = SERIAL.lock().await;
    let mut run =
        Run::start("3. etcd quorum lost 10 s", Deployment::start().await, 2, 2, WRITERS).await;
    run.load.wait_for_acks(100).await;
    let leader = run.deployment.etcd.leader().await;
    let down = [leader, (leader + 1) % 3];
    for member in down {
        run.deployment.etcd.kill(member).await;
    }
    run.load.set_phase(1);
    // Reads at resourceVersion=0 are served from the views all along, on both replicas.
    let mut served = 0;
    for _ in 0..20 {
        for url in run.deployment.urls() {
            let list = run.http.get(format!("{}?resourceVersion=0", configmaps(&url)));
            let code = list.send().await.expect("a LIST at resourceVersion=0 answers").status();
            assert_eq!(code.as_u16(), 200, "LIST at resourceVersion=0 on {url} without quorum");
            served += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    run.load.set_phase(2);
    for member in down {
        run.deployment.etcd.members[member].restart().await;
    }
    run.load.wait_for_acks(200).await;
    let (_, failures, acks) = run.finish().await;
    println!("3. quorum lost: {served} LISTs at resourceVersion=0 served without quorum");
    let during: Vec<&Failure> = failures.iter().filter(|f| f.phase == 1).collect();
    assert!(!during.is_empty(), "no write was attempted without quorum");
    let acknowledged: Vec<_> = acks.iter().filter(|a| a.phase == 1 && a.acked_phase == 1).collect();
    assert!(acknowledged.is_empty(), "writes acknowledged without quorum: {acknowledged:#?}");
    assert_retryable("quorum lost", &failures, false);
    for replica in 0..2 {
        assert!(
            acks.iter().any(|a| a.phase == 2 && a.replica == replica),
            "replica {replica} acknowledged nothing after the quorum came back"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_killed_under_500_watchers() {
    let _serial = SERIAL.lock().await;
    // 500 watchers on replica 0 (400 raw, 100 kube-rs), a few on replica 1.
    let mut run =
        Run::start("4. replica SIGKILL, 500 watchers", Deployment::start().await, 2, 2, 2).await;
    run.watchers.raw(&run.targets, 398, 0, run.start_rv);
    run.watchers.kube(&run.targets, 98, 0, run.start_rv);
    run.load.wait_for_acks(50).await;
    // Every watcher is connected once it has seen a write made after it started.
    let last = run.load.acks.lock().unwrap().iter().rev().find_map(|a| a.rv).unwrap();
    run.watchers.wait_until_seen(last).await;
    run.deployment.replicas[0].kill().await;
    run.load.set_phase(1);
    // The writers' load balancer takes the dead replica out (its health check fails); the
    // watchers find out for themselves.
    run.load.avoid.store(1, std::sync::atomic::Ordering::SeqCst);
    run.load.wait_for_acks(100).await;
    run.deployment.replicas[0].restart_stopped().await;
    run.load.avoid.store(0, std::sync::atomic::Ordering::SeqCst);
    run.load.set_phase(2);
    run.load.wait_for_acks(50).await;
    let (_, failures, _) = run.finish().await;
    // Replica 1 may answer a 504 too: 500 watchers resuming on it at once can slow a write past
    // --storage-request-timeout on a small machine.
    assert_retryable("replica killed", &failures, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_partitioned_from_etcd() {
    let _serial = SERIAL.lock().await;
    let deployment = Deployment::start_with(&[1]).await;
    let mut run = Run::start("5. replica 1 partitioned from etcd", deployment, 2, 2, WRITERS).await;
    run.extra_names.push("probe".to_owned());
    let urls = run.deployment.urls();
    let probe = |url: &str| format!("{}/probe", configmaps(url));
    let created = run.http.post(configmaps(&urls[0])).json(&load::object("probe", 0, None));
    let created: Value = created.send().await.unwrap().json().await.unwrap();
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let seen = run.http.get(format!("{}?resourceVersion={rv}", probe(&urls[1])));
    assert_eq!(seen.send().await.unwrap().status().as_u16(), 200);
    run.load.wait_for_acks(50).await;

    run.deployment.partition(1);
    run.load.set_phase(1);
    let updated =
        run.http.put(probe(&urls[0])).json(&load::object("probe", 1, Some(rv.parse().unwrap())));
    let updated = updated.send().await.unwrap();
    assert_eq!(updated.status().as_u16(), 200, "replica 0 acknowledges writes");
    let updated: Value = updated.json().await.unwrap();
    let fresh: i64 = updated["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    // A GET and a LIST without resourceVersion on the cut-off replica must not answer with
    // the old object as if it were current: they fail (or would wait for the new one).
    let get = run.http.get(probe(&urls[1])).send().await.unwrap();
    let get_code = get.status().as_u16();
    let get: Value = get.json().await.unwrap();
    if get_code == 200 {
        let rv: i64 = get["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        assert!(rv >= fresh, "a consistent GET on the cut-off replica served stale data: {get}");
    }
    let list = run.http.get(configmaps(&urls[1])).send().await.unwrap();
    let list_code = list.status().as_u16();
    assert_ne!(list_code, 200, "a consistent LIST on the cut-off replica answered");
    // A GET at resourceVersion=0 may be stale: kube's contract for "any".
    let any = run.http.get(format!("{}?resourceVersion=0", probe(&urls[1]))).send().await.unwrap();
    let any_code = any.status().as_u16();
    // Every write to the cut-off replica waits out --storage-request-timeout (2 s): the load
    // goes on at that pace.
    run.load.wait_for_acks(20).await;

    run.deployment.heal(1);
    run.load.set_phase(2);
    let mut healed = false;
    for _ in 0..3000 {
        if run.load.acks.lock().unwrap().iter().any(|a| a.phase == 2 && a.replica == 1) {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(healed, "replica 1 acknowledged no write in 30 s after the partition healed");
    run.load.wait_for_acks(50).await;
    let (_, failures, acks) = run.finish().await;
    println!(
        "5. partition: consistent GET on the cut-off replica answered {get_code}, consistent LIST \
         {list_code}, GET at resourceVersion=0 {any_code}"
    );
    // Writes started once the partition was in place (one already on its way may be answered).
    let cut_off: Vec<_> =
        acks.iter().filter(|a| a.phase == 1 && a.acked_phase == 1 && a.replica == 1).collect();
    assert!(cut_off.is_empty(), "the cut-off replica acknowledged writes: {cut_off:#?}");
    assert!(
        failures.iter().any(|f| f.phase == 1 && f.replica == 1),
        "no write was attempted on the cut-off replica"
    );
    assert_retryable("partition", &failures, false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restart_of_both_replicas() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("6. rolling restart", Deployment::start().await, 2, 2, WRITERS).await;
    run.load.wait_for_acks(100).await;
    for replica in 0..2 {
        run.deployment.replicas[replica].restart().await;
        run.load.set_phase(replica as u32 + 1);
        run.load.wait_for_acks(100).await;
    }
    let (_, failures, _) = run.finish().await;
    assert_retryable("rolling restart", &failures, true);
}
