//! The load generator (`loadtest/`) against the real binary, in small bounded runs: every
//! scenario completes and reports what it should (rates, percentiles, ratios, zero loss for
//! reading watchers, informer caches equal to the server's LIST), `--report` JSON parses, the
//! `--histogram` SVG is written, and a non-loopback target is refused before anything is sent.
//! Nothing here asserts how fast anything is.

mod support;

use std::path::Path;
use std::time::Duration;

use loadtest::config::{
    ApplyParams, Controller, ListParams, Reads, TlsFiles, WatchBurst, WatchFanout, Writes,
};
use loadtest::{Config, Error, Scenario, Target};
use serde_json::Value;
use support::etcd::TestEtcd;
use support::server::{ALICE_TOKEN, TestServer};
use tokio::sync::Mutex;

/// One run at a time: each keeps both cores busy.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A run against `server` with the credentials of its kubeconfig (its CA, the admin
/// certificate), as `--kubeconfig` gives them.
fn config(server: &TestServer, scenario: Scenario, seconds: u64) -> Config {
    let target = Target::Kubeconfig { path: server.kubeconfig.clone(), context: None };
    let mut config = Config::new(target, scenario);
    config.duration = Duration::from_secs(seconds);
    config
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The measurement `name` of a JSON report.
fn measurement<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no measurement {name:?} in {report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_against_the_server_and_etcd_in_one_run() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let etcd = TestEtcd::start().await;
    let out = tempfile::tempdir().unwrap();
    let scenario = Scenario::Writes(Writes {
        objects: 200,
        value_bytes: 512,
        etcd_baseline: Some(vec![etcd.endpoint()]),
        rounds: 2,
    });
    let mut config = config(&server, scenario, 60);
    config.report = Some(out.path().join("writes.json"));
    config.histogram = Some(out.path().join("writes.svg"));
    let report = loadtest::run(config).await.unwrap();
    println!("{}", report.table());

    let json = read_json(&out.path().join("writes.json"));
    assert_eq!(json["scenario"], "writes");
    assert_eq!(json["parameters"]["objects"], 200);
    for side in ["server", "etcd"] {
        for verb in ["create", "update", "delete"] {
            let m = measurement(&json, &format!("{side} {verb}"));
            assert_eq!((m["ok"].as_u64(), m["errors"].as_u64()), (Some(200), Some(0)), "{m:#}");
            assert!(m["rate_per_sec"].as_f64().unwrap() > 0.0, "{m:#}");
            assert!(m["latency"]["p99_ms"].as_f64().unwrap() > 0.0, "{m:#}");
        }
    }
    for ratio in
        ["create server/etcd", "update server/etcd", "delete server/etcd", "all writes server/etcd"]
    {
        assert!(json["ratios"][ratio].as_f64().unwrap() > 0.0, "{ratio}: {:#}", json["ratios"]);
    }
    assert_eq!(json["truncated"], false);
    // kube-ledger serves process metrics at /metrics: server CPU and RSS come from there.
    assert_eq!(json["server_usage"]["source"], "metrics", "{:#}", json["server_usage"]);
    assert!(json["server_usage"]["rss_after_bytes"].as_u64().unwrap() > 0);
    let svg = std::fs::read_to_string(out.path().join("writes.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("etcd create"), "{}", &svg[..200]);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_compare_a_get_with_version_through_the_kubeconfig() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let target = Target::Kubeconfig { path: server.kubeconfig.clone(), context: None };
    let mut config = Config::new(target, Scenario::Reads(Reads { value_bytes: 512 }));
    config.duration = Duration::from_secs(2);
    config.clients = 4;
    let report = loadtest::run(config).await.unwrap();
    println!("{}", report.table());
    let get = report.measurement("get object").unwrap();
    let version = report.measurement("get /version").unwrap();
    assert!(get.ok > 0 && version.ok > 0, "{}", report.table());
    assert_eq!((get.errors, version.errors), (0, 0), "{}", report.table());
    assert!(report.ratios["get/version"] > 0.0);
}

/// A two-second fan-out of 100 writes to `watchers` watchers plus one that stalls, over
/// `http2_connections` HTTP/2 connections or a connection each; asserts that every live watcher
/// got every write exactly once and returns the report.
async fn fanout_loses_nothing(
    server: &TestServer,
    watchers: usize,
    http2_connections: Option<usize>,
    report_file: Option<std::path::PathBuf>,
) -> loadtest::Report {
    let scenario = Scenario::WatchFanout(WatchFanout {
        watchers,
        stalled: 1,
        events_per_sec: 50.0,
        objects: 5,
        value_bytes: 256,
        idle: false,
        open_concurrency: 16,
        http2_connections,
    });
    let mut config = config(server, scenario, 2);
    config.report = report_file;
    let report = loadtest::run(config).await.unwrap();
    println!("{}", report.table());
    let watch = report.watch.as_ref().unwrap();
    assert_eq!(watch.writes_acknowledged, 100, "{}", report.table());
    assert_eq!(watch.per_watcher.len(), watchers);
    assert_eq!(
        (watch.lost_total, watch.duplicates_total, watch.unexpected_total),
        (0, 0, 0),
        "{}",
        report.table()
    );
    assert!(watch.per_watcher.iter().all(|w| w.delivered == 100), "{}", report.table());
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_fanout_loses_nothing_and_a_stalled_watcher_does_not_matter() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let out = tempfile::tempdir().unwrap();
    let report = fanout_loses_nothing(&server, 20, None, Some(out.path().join("watch.json"))).await;
    let watch = report.watch.as_ref().unwrap();
    assert_eq!((watch.streams_over_http2, watch.http2_connections), (0, 0));
    let delivery = report.measurement("watch delivery").unwrap();
    assert_eq!(delivery.ok, 20 * 100);
    let latency = delivery.latency.unwrap();
    assert!(
        latency.p50_ms > 0.0
            && latency.p99_ms >= latency.p50_ms
            && latency.max_ms >= latency.p99_ms
    );
    let json = read_json(&out.path().join("watch.json"));
    assert_eq!(json["watch"]["expected_per_watcher"], 100);
    assert!(json["measurements"][0]["latency"]["p90_ms"].is_number());
}

/// client-go's way: the watches multiplexed as streams of a few HTTP/2 connections (ALPN `h2`
/// over the server's TLS), each still receiving every write exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn watch_fanout_over_http2_connections_loses_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let report = fanout_loses_nothing(&server, 30, Some(2), None).await;
    let watch = report.watch.as_ref().unwrap();
    assert_eq!(watch.http2_connections, 2);
    assert!(watch.streams_opened >= 31, "{}", report.table());
    assert_eq!(watch.streams_over_http2, watch.streams_opened, "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_burst_reports_memory_around_each_burst() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let scenario = Scenario::WatchBurst(WatchBurst {
        watchers: 30,
        bursts: 2,
        writes: 10,
        objects: 3,
        value_bytes: 256,
        settle: Duration::from_secs(1),
        open_concurrency: 16,
    });
    let out = tempfile::tempdir().unwrap();
    let mut config = config(&server, scenario, 10);
    // RSS from the server's own process metrics (no --server-pid).
    config.report = Some(out.path().join("burst.json"));
    let report = loadtest::run(config).await.unwrap();
    println!("{}", report.table());
    let burst = report.burst.as_ref().unwrap();
    assert_eq!(burst.bursts.len(), 2);
    for b in &burst.bursts {
        // Every update reached every watcher, and the server let go of every watcher.
        assert_eq!(b.events_received, 30 * 10, "{}", report.table());
        assert!(b.unregistered_seconds.is_some(), "{}", report.table());
        assert!(b.peak_rss_bytes > 0 && b.after_rss_bytes > 0);
        assert_eq!(b.after_10s_rss_bytes, None, "a 1 s settle has no 10 s figure");
    }
    assert!(burst.idle_rss_bytes > 0);
    assert_eq!(report.measurement("watch open").unwrap().ok, 2 * 30);
    let json = read_json(&out.path().join("burst.json"));
    assert!(json["ratios"]["rss after/idle"].is_number(), "{json:#}");
    assert!(json["burst"]["retained"].is_number(), "{json:#}");
}

/// What lets RSS fall back after a burst (docs/performance.md, "Memory after a burst"): the
/// binary's allocator is jemalloc with background purging threads and freed pages given back
/// (not kept as lazily-freed "muzzy" pages). glibc's malloc, which kept ~95% of a burst, ignores
/// the variable and prints nothing.
#[test]
fn the_server_allocator_returns_freed_memory_by_itself() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kube-ledger"))
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .expect("run kube-ledger --version");
    assert!(out.status.success(), "{out:?}");
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(stats.contains("Begin jemalloc statistics"), "not jemalloc:\n{stats}");
    for option in ["opt.background_thread: true", "opt.muzzy_decay_ms: 0"] {
        assert!(stats.contains(option), "{option} missing:\n{stats}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_whole_and_paginated() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let scenario = Scenario::List(ListParams { objects: 200, page_size: 50, value_bytes: 256 });
    // The flags' way in: --server, --certificate-authority and a static token (--token), of a
    // user RBAC lets do what the scenario does.
    server.grant("alice", "cluster-admin", "create", "namespaces").await;
    let ca = server.dir.path().join("ca.crt");
    std::fs::write(&ca, server.credentials.ca_pem.as_deref().unwrap()).unwrap();
    let target = Target::Server {
        url: server.url.clone(),
        token: Some(ALICE_TOKEN.to_owned()),
        tls: TlsFiles { certificate_authority: Some(ca), ..TlsFiles::default() },
    };
    let mut config = Config::new(target, scenario);
    config.duration = Duration::from_secs(1);
    config.clients = 2;
    let report = loadtest::run(config).await.unwrap();
    println!("{}", report.table());
    let whole = report.measurement("list whole").unwrap();
    let paged = report.measurement("list paged (50/page)").unwrap();
    assert!(whole.ok > 0 && paged.ok > 0, "{}", report.table());
    assert_eq!((whole.errors, paged.errors), (0, 0), "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_apply_and_merge_patch_never_write() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let scenario = Scenario::Apply(ApplyParams { keys: 50, value_bytes: 16 });
    let mut config = config(&server, scenario, 1);
    config.clients = 2;
    // The scenario itself fails the run if the object's resourceVersion moved.
    let report = loadtest::run(config).await.unwrap();
    println!("{}", report.table());
    let applies = report.measurement("apply (unchanged)").unwrap();
    let merges = report.measurement("merge patch (unchanged)").unwrap();
    assert!(applies.ok > 0 && merges.ok > 0, "{}", report.table());
    assert_eq!((applies.errors, merges.errors), (0, 0), "{}", report.table());
    assert!(report.ratios.contains_key("apply/merge-patch"), "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn controller_caches_equal_the_servers_list() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = TestServer::embedded().await;
    let scenario = Scenario::Controller(Controller {
        informers: 4,
        writers: 2,
        objects: 20,
        writes_per_sec: 100.0,
        value_bytes: 128,
    });
    let report = loadtest::run(config(&server, scenario, 2)).await.unwrap();
    println!("{}", report.table());
    let summary = report.controller.as_ref().unwrap();
    assert!(summary.writes > 50, "{}", report.table());
    assert!(summary.all_equal, "{}", report.table());
    assert_eq!(summary.converged, 4);
    assert!(summary.convergence_ms.is_some());
}

#[tokio::test]
async fn a_remote_target_is_refused_without_allow_remote() {
    // Nothing listens there and nothing is sent: the refusal comes before any request.
    let target = Target::Server {
        url: "https://192.0.2.10:6443".to_owned(),
        token: None,
        tls: TlsFiles::default(),
    };
    let config = Config::new(target, Scenario::Reads(Reads { value_bytes: 1 }));
    let error = loadtest::run(config).await.unwrap_err();
    assert!(matches!(error, Error::NotLoopback { .. }), "{error}");
    assert!(error.to_string().contains("--allow-remote"), "{error}");

    // The same through a kubeconfig.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        "clusters:\n- name: c\n  cluster: {server: 'http://192.0.2.10:6443'}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
    )
    .unwrap();
    let target = Target::Kubeconfig { path, context: None };
    let config = Config::new(target, Scenario::Reads(Reads { value_bytes: 1 }));
    let error = loadtest::run(config).await.unwrap_err();
    assert!(matches!(error, Error::NotLoopback { .. }), "{error}");

    // An etcd baseline elsewhere is refused too (checked before any write).
    let server = TestServer::embedded().await;
    let scenario = Scenario::Writes(Writes {
        objects: 1,
        value_bytes: 1,
        etcd_baseline: Some(vec!["http://192.0.2.11:2379".to_owned()]),
        rounds: 1,
    });
    let error = loadtest::run(config_for(&server, scenario)).await.unwrap_err();
    assert!(matches!(error, Error::NotLoopback { .. }), "{error}");
}

fn config_for(server: &TestServer, scenario: Scenario) -> Config {
    config(server, scenario, 5)
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = Target::Server {
        url: format!("https://127.0.0.1:{port}"),
        token: None,
        tls: TlsFiles::default(),
    };
    let error = loadtest::run(Config::new(target, Scenario::Reads(Reads { value_bytes: 1 })))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error}");
}
