//! kube-rs, the Rust client and controller runtime (crates `kube` 5 and `k8s-openapi` 0.29),
//! against the real binary, across a server restart: on the embedded store as a ServiceAccount
//! with a requested token and RBAC, on etcd as the admin.
//!
//! A `Controller` keeps `data.reconciled` of every ConfigMap labelled `app=demo` in `default`
//! equal to [`expected`]`(data.input)`, writing it with a merge patch that carries the object's
//! resourceVersion (so a stale write is refused with 409 and retried). Meanwhile a writer makes
//! a bounded series of creates, updates of `data.input`, label flips and deletes, and the server
//! is restarted (same port, same data) half-way through; the clients reconnect by themselves.
//! Two more reflectors watch the same selection, one with list-then-watch and one with a
//! streaming list (watch-list, `sendInitialEvents=true`).
//!
//! Checked, each with a deadline rather than a timing: the controller converges (every live
//! labelled ConfigMap has the right `reconciled`, including one created after the restart), no
//! ConfigMap that was never labelled got a `reconciled`, and the controller's store and both
//! reflectors' stores hold exactly the names and resourceVersions of the server's LIST.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{Future, StreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config, ResourceExt};
use serde_json::json;
use support::server::TestServer;

const SELECTOR: &str = "app=demo";
/// Writer operations before the final create; the restart comes after half of them.
const OPS: usize = 200;
/// Names the writer picks from, so that creates, updates and deletes hit the same objects.
const NAMES: u64 = 24;
/// How long the controller and the reflectors get to settle once the writer is done.
const SETTLE_WITHIN: Duration = Duration::from_secs(60);
/// How long one writer operation may keep failing (while the server restarts) before the test
/// gives up.
const RETRY_WITHIN: Duration = Duration::from_secs(60);

/// What the controller writes to `data.reconciled` for a given `data.input`.
fn expected(input: &str) -> String {
    format!("{}:{}", input.len(), input.chars().rev().collect::<String>())
}

/// The controller runs as a ServiceAccount bound to `edit`, with a token from `kubectl create
/// token` (signed with the server's persisted key, so it outlives the restart).
#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_controller_converges_across_restart_embedded() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "serviceaccount", "controller"]);
    server.grant_service_account("default", "controller", "edit", "update", "configmaps").await;
    let token = server.ok(&["create", "token", "controller"]);
    let kubeconfig = server.kubeconfig_with_token("controller", Some(token.trim()));
    run(server, kubeconfig).await;
}

/// The controller runs as the admin (client certificate of the written kubeconfig).
#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_controller_converges_across_restart_on_etcd() {
    let server = TestServer::on_etcd().await;
    let kubeconfig = server.kubeconfig.clone();
    run(server, kubeconfig).await;
}

async fn client_for(kubeconfig: &std::path::Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    Client::try_from(config).expect("kube client")
}

/// Counters the reconciler and the error policy share with the test.
#[derive(Debug, Default)]
struct Counters {
    reconciles: AtomicUsize,
    patches: AtomicUsize,
    conflicts: AtomicUsize,
    not_found: AtomicUsize,
    other_errors: AtomicUsize,
}

#[derive(Debug)]
struct Ctx {
    api: Api<ConfigMap>,
    counters: Counters,
}

async fn reconcile(cm: Arc<ConfigMap>, ctx: Arc<Ctx>) -> Result<Action, kube::Error> {
    ctx.counters.reconciles.fetch_add(1, Ordering::Relaxed);
    let data = cm.data.clone().unwrap_or_default();
    let want = expected(data.get("input").map(String::as_str).unwrap_or(""));
    if data.get("reconciled") == Some(&want) {
        return Ok(Action::await_change());
    }
    // The resourceVersion makes this an optimistic-concurrency write: if the writer changed
    // `input` (or deleted and re-created the object) since this copy, the server refuses it.
    let patch = json!({
        "metadata": {"resourceVersion": cm.resource_version()},
        "data": {"reconciled": want},
    });
    ctx.api.patch(&cm.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await?;
    ctx.counters.patches.fetch_add(1, Ordering::Relaxed);
    Ok(Action::await_change())
}

fn error_policy(_cm: Arc<ConfigMap>, err: &kube::Error, ctx: Arc<Ctx>) -> Action {
    let counter = match err {
        kube::Error::Api(status) if status.is_conflict() => &ctx.counters.conflicts,
        kube::Error::Api(status) if status.is_not_found() => &ctx.counters.not_found,
        _ => &ctx.counters.other_errors,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    Action::requeue(Duration::from_millis(100))
}

/// A small deterministic generator (xorshift64*), so that a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// What the writer did, for the final checks and the summary.
#[derive(Debug, Default)]
struct WriterLog {
    creates: usize,
    updates: usize,
    flips: usize,
    deletes: usize,
    /// Retried creates and deletes that found their work already done.
    no_ops: usize,
    /// Attempts that failed with a transport error or a 5xx and were retried.
    retries: usize,
    /// Names whose current incarnation has carried `app=demo` at some point.
    ever_labelled: BTreeSet<String>,
}

/// Runs `op` until it gives an answer from the server: a transport error or a 5xx/429 (the
/// server is restarting) is retried; any other answer, success or a 4xx, is returned.
async fn retrying<T, F, Fut>(
    log: &mut WriterLog,
    what: &str,
    mut op: F,
) -> Result<T, Box<kube::core::Status>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let deadline = Instant::now() + RETRY_WITHIN;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(kube::Error::Api(status)) if status.code < 500 && status.code != 429 => {
                return Err(status);
            }
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "{what}: still failing after {RETRY_WITHIN:?}: {e}"
                );
                log.retries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn config_map(name: &str, labelled: bool, input: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": if labelled { "demo" } else { "other" }}},
        "data": {"input": input},
    }))
    .unwrap()
}

/// The writer: `OPS` random operations (a create for a missing name; for an existing one an
/// update of `data.input`, a label flip or a delete), then one labelled create that surely comes after the
/// restart. `progress` counts finished operations.
async fn write(api: Api<ConfigMap>, progress: Arc<AtomicUsize>) -> WriterLog {
    let mut log = WriterLog::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // The writer is the only one to create and delete, so it knows which names exist.
    let mut live = BTreeSet::new();
    for i in 0..OPS {
        let name = format!("cm-{}", rng.next() % NAMES);
        let roll = rng.next() % 100;
        let input = format!("in-{i}-{}", rng.next() % 1000);
        let what = format!("op {i} on {name}");
        if !live.contains(&name) {
            let labelled = rng.next() % 100 < 85;
            let cm = config_map(&name, labelled, &input);
            let pp = PostParams::default();
            match retrying(&mut log, &what, || api.create(&pp, &cm)).await {
                Ok(_) => log.creates += 1,
                // Only after a retry of a create the server had already made.
                Err(s) if s.is_already_exists() => log.no_ops += 1,
                Err(s) => panic!("{what}: create failed: {s:?}"),
            }
            live.insert(name.clone());
            if labelled {
                log.ever_labelled.insert(name);
            } else {
                log.ever_labelled.remove(&name);
            }
        } else if roll < 60 {
            // A merge patch without a resourceVersion: the server must apply it whatever the
            // controller wrote in between, never answer 409.
            let patch = Patch::Merge(json!({"data": {"input": input}}));
            let pp = PatchParams::default();
            match retrying(&mut log, &what, || api.patch(&name, &pp, &patch)).await {
                Ok(_) => log.updates += 1,
                Err(s) => panic!("{what}: update failed: {s:?}"),
            }
        } else if roll < 75 {
            let current = match retrying(&mut log, &what, || api.get(&name)).await {
                Ok(cm) => cm,
                Err(s) => panic!("{what}: get failed: {s:?}"),
            };
            let labelled = current.labels().get("app").map(String::as_str) == Some("demo");
            let patch = Patch::Merge(
                json!({"metadata": {"labels": {"app": if labelled { "other" } else { "demo" }}}}),
            );
            let pp = PatchParams::default();
            match retrying(&mut log, &what, || api.patch(&name, &pp, &patch)).await {
                Ok(_) => log.flips += 1,
                Err(s) => panic!("{what}: label flip failed: {s:?}"),
            }
            if !labelled {
                log.ever_labelled.insert(name);
            }
        } else {
            let dp = DeleteParams::default();
            match retrying(&mut log, &what, || api.delete(&name, &dp)).await {
                Ok(_) => log.deletes += 1,
                // Only after a retry of a delete the server had already done.
                Err(s) if s.is_not_found() => log.no_ops += 1,
                Err(s) => panic!("{what}: delete failed: {s:?}"),
            }
            live.remove(&name);
        }
        progress.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cm = config_map("cm-final", true, "written-after-the-restart");
    let pp = PostParams::default();
    retrying(&mut log, "final create", || api.create(&pp, &cm)).await.expect("final create");
    log.creates += 1;
    log.ever_labelled.insert("cm-final".to_owned());
    log
}

/// Drives a reflector on its own watcher; counts how often the watcher (re)listed.
fn spawn_reflector(
    api: Api<ConfigMap>,
    config: watcher::Config,
) -> (Store<ConfigMap>, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let (reader, writer) = reflector::store();
    let lists = Arc::new(AtomicUsize::new(0));
    let counted = lists.clone();
    let task = tokio::spawn(watcher(api, config).default_backoff().reflect(writer).for_each(
        move |event| {
            if let Ok(watcher::Event::Init) = event {
                counted.fetch_add(1, Ordering::Relaxed);
            }
            futures::future::ready(())
        },
    ));
    (reader, lists, task)
}

fn by_name(
    objects: impl IntoIterator<Item = impl std::ops::Deref<Target = ConfigMap>>,
) -> BTreeMap<String, String> {
    objects
        .into_iter()
        .map(|cm| {
            let cm = &*cm;
            (cm.name_any(), cm.resource_version().unwrap_or_default())
        })
        .collect()
}

/// Labelled ConfigMaps whose `reconciled` is not (yet) right, as `name: input -> reconciled`.
fn unconverged(items: &[ConfigMap]) -> Vec<String> {
    items
        .iter()
        .filter_map(|cm| {
            let data = cm.data.clone().unwrap_or_default();
            let input = data.get("input").cloned().unwrap_or_default();
            let got = data.get("reconciled");
            (got != Some(&expected(&input)))
                .then(|| format!("{}: {input} -> {got:?}", cm.name_any()))
        })
        .collect()
}

async fn run(mut server: TestServer, kubeconfig: std::path::PathBuf) {
    let started = Instant::now();
    let client = client_for(&kubeconfig).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let ctx = Arc::new(Ctx { api: api.clone(), counters: Counters::default() });
    let controller = Controller::new(api.clone(), watcher::Config::default().labels(SELECTOR));
    let controller_store = controller.store();
    let controller_task = tokio::spawn(
        controller
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|_| futures::future::ready(())),
    );
    let (list_watch_store, list_watch_lists, list_watch_task) =
        spawn_reflector(api.clone(), watcher::Config::default().labels(SELECTOR));
    let (streaming_store, streaming_lists, streaming_task) =
        spawn_reflector(api.clone(), watcher::Config::default().labels(SELECTOR).streaming_lists());

    let progress = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(write(api.clone(), progress.clone()));
    while progress.load(Ordering::Relaxed) < OPS / 2 {
        assert!(!writer.is_finished(), "the writer stopped early");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let restart_at = progress.load(Ordering::Relaxed);
    let restart_began = Instant::now();
    server.restart().await;
    let restart_took = restart_began.elapsed();
    let log = writer.await.expect("writer");
    assert!(restart_at < OPS, "the restart came after the writer was done");

    // Settle: the controller has written every `reconciled`, and every store matches the LIST.
    let lp = ListParams::default().labels(SELECTOR);
    let deadline = Instant::now() + SETTLE_WITHIN;
    let listed = loop {
        let list = api.list(&lp).await.expect("list labelled ConfigMaps");
        let behind = unconverged(&list.items);
        let listed = by_name(&list.items);
        let stores = [
            ("controller", by_name(controller_store.state())),
            ("list-watch reflector", by_name(list_watch_store.state())),
            ("streaming-list reflector", by_name(streaming_store.state())),
        ];
        let differing: Vec<_> = stores.iter().filter(|(_, s)| *s != listed).collect();
        if behind.is_empty() && differing.is_empty() {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "not settled within {SETTLE_WITHIN:?}:\nunconverged: {behind:#?}\nLIST: {listed:#?}\n\
             stores that differ: {differing:#?}\ncounters: {:?}",
            ctx.counters
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        listed.items.iter().any(|cm| cm.name_any() == "cm-final"),
        "the ConfigMap created after the restart is missing from the LIST"
    );

    // Nothing outside the selection was touched: every ConfigMap whose current incarnation never
    // carried the label has no `reconciled`.
    let all = api.list(&ListParams::default()).await.expect("list all ConfigMaps");
    let mut never_labelled = 0;
    for cm in &all.items {
        let name = cm.name_any();
        if name.starts_with("cm-") && !log.ever_labelled.contains(&name) {
            never_labelled += 1;
            let data = cm.data.clone().unwrap_or_default();
            assert!(
                !data.contains_key("reconciled"),
                "{name} was never labelled app=demo but has reconciled: {data:?}"
            );
        }
    }
    // The writer's choices depend only on its seed, so this is not left to chance.
    assert!(never_labelled > 0, "no never-labelled ConfigMap left to check");

    let c = &ctx.counters;
    eprintln!(
        "kube-rs controller: {} labelled ConfigMaps ({never_labelled} never labelled) settled in {:?} (restart after op {restart_at} \
         took {restart_took:?}); writer: {} creates {} updates {} flips {} deletes {} no-ops {} \
         retries; controller reconciles {} patches {} \
         conflicts {} not-found {} other errors {}; (re)lists: list-watch {} streaming {}",
        listed.items.len(),
        started.elapsed(),
        log.creates,
        log.updates,
        log.flips,
        log.deletes,
        log.no_ops,
        log.retries,
        c.reconciles.load(Ordering::Relaxed),
        c.patches.load(Ordering::Relaxed),
        c.conflicts.load(Ordering::Relaxed),
        c.not_found.load(Ordering::Relaxed),
        c.other_errors.load(Ordering::Relaxed),
        list_watch_lists.load(Ordering::Relaxed),
        streaming_lists.load(Ordering::Relaxed),
    );
    controller_task.abort();
    list_watch_task.abort();
    streaming_task.abort();
}
