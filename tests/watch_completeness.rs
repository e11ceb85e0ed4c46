//! Watch completeness over real HTTP: writers create, update (relabel) and delete ConfigMaps in
//! three namespaces while 50 watchers read — all-namespace or one namespace, with or without a
//! label selector; fast, slow (the server closes them as fallen behind and they resume) or flaky
//! (they disconnect at random and resume from their last resourceVersion or BOOKMARK). Every
//! watcher starts from a revision taken before the first write, so what it saw across all its
//! resumes must be exactly the acknowledged writes of its selection, in revision order, each
//! once, with the object of each write (a selector watcher sees `ADDED` when an object gets the
//! label and `DELETED`, with the last matching state, when it loses it).
//!
//! A DELETE's answer is a `Status` without a resourceVersion (as kube-apiserver's is for
//! ConfigMaps), so deletes are serialized across writers and their revisions are the revisions
//! of the run that no create or update was acknowledged at, in the order the deletes were made.
//! That needs every revision of the run to be one of these writes, which is checked.
//!
//! Deadlines only protect against hangs; nothing here asserts how fast anything is.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use support::server::TestServer;
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

/// The size: 4 writers × 5,000 writes each.
const WRITERS: usize = 4;
const WRITES_PER_WRITER: usize = 5_000;
const WATCHERS: usize = 50;
const NAMESPACES: [&str; 3] = ["wc-a", "wc-b", "wc-c"];
/// Each writer cycles through its own names (re-creating deleted ones), so no write conflicts.
const NAMES_PER_WRITER: usize = 40;
/// The label a selector watcher selects on: `app=web` (the other value is `db`).
const APP: &str = "app";
/// Padding in every ConfigMap, so that a slow watcher's unread events outgrow the socket buffers
/// (several MiB on loopback) as well as its server-side buffer.
const PAD_BYTES: usize = 256;
/// A slow watcher's pause after each event while the writers run: far slower than the writes,
/// so its server-side buffer (1,024 events) overflows and the server ends its stream.
const SLOW_PAUSE: Duration = Duration::from_millis(20);
/// A flaky watcher disconnects after a random 1..=this many events, then resumes.
const FLAKY_MAX_EVENTS: u64 = 2_000;
/// How often an idle watcher checks whether it has reached its end.
const POLL: Duration = Duration::from_millis(250);
/// After its last expected event, a watcher reads this long more: anything else is an extra.
const DRAIN: Duration = Duration::from_millis(300);
/// Hang protection only.
const WRITE_DEADLINE: Duration = Duration::from_secs(600);
const WATCH_DEADLINE: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The two backends' runs take turns: each keeps both cores busy.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn every_watcher_sees_every_acknowledged_write_once_in_order() {
    let _turn = ONE_AT_A_TIME.lock().await;
    completeness("embedded", TestServer::embedded().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_watcher_sees_every_acknowledged_write_once_in_order_on_etcd() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // One replica, so no leader election: a leader's Lease renewals would be writes to the log
    // that the revision accounting below cannot tell from lost deletes.
    completeness("etcd", TestServer::on_etcd_with(&["--leader-elect=false"]).await).await;
}

/// A small deterministic generator (splitmix64), seeded per run so a failure can be replayed.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    match std::env::var("WATCH_COMPLETENESS_SEED") {
        Ok(seed) => seed.parse().expect("WATCH_COMPLETENESS_SEED is a number"),
        Err(_) => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
                as u64
        }
    }
}

/// The HTTP side of the server, cheap to clone into tasks.
#[derive(Debug, Clone)]
struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    fn configmaps(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("{}/api/v1/namespaces/{ns}/configmaps", self.url),
            None => format!("{}/api/v1/configmaps", self.url),
        }
    }

    /// Sends a request that must succeed; returns its JSON answer.
    async fn ok(&self, request: reqwest::RequestBuilder, what: &str) -> Value {
        let response = tokio::time::timeout(REQUEST_TIMEOUT, request.send())
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer in {REQUEST_TIMEOUT:?}"))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(status.is_success(), "{what}: {status} {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"))
    }

    /// The log's current revision, as a list reports it.
    async fn revision(&self) -> i64 {
        let list =
            self.ok(self.http.get(format!("{}?limit=1", self.configmaps(None))), "list").await;
        revision_of(&list)
    }
}

fn revision_of(object: &Value) -> i64 {
    let rv = object["metadata"]["resourceVersion"].as_str();
    rv.and_then(|rv| rv.parse().ok()).unwrap_or_else(|| panic!("no resourceVersion: {object}"))
}

/// What a watcher can tell of an object's version: its label and the writer's stamp in its data.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    app: &'static str,
    stamp: String,
}

/// One acknowledged write.
#[derive(Debug, Clone)]
struct Write {
    /// Its revision: from the answer for creates and updates; inferred for deletes.
    rv: i64,
    namespace: &'static str,
    name: String,
    before: Option<State>,
    after: Option<State>,
    /// The order of the deletes (they are serialized across writers).
    delete_seq: Option<u64>,
}

/// What a watcher saw, or should see: one event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    rv: i64,
    kind: String,
    namespace: String,
    name: String,
    app: String,
    stamp: String,
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Seen { rv, kind, namespace, name, app, stamp } = self;
        write!(f, "{rv} {kind} {namespace}/{name} app={app} stamp={stamp}")
    }
}

/// The parts of a watch event this test reads (the rest of the line is skipped unparsed).
#[derive(Debug, Deserialize)]
struct WireEvent {
    #[serde(rename = "type")]
    kind: String,
    object: WireObject,
}

#[derive(Debug, Deserialize)]
struct WireObject {
    #[serde(default)]
    metadata: WireMeta,
    #[serde(default)]
    data: WireData,
}

#[derive(Debug, Default, Deserialize)]
struct WireData {
    #[serde(default)]
    stamp: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    resource_version: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Where a watcher looks.
#[derive(Debug, Clone, Copy)]
struct Selection {
    namespace: Option<&'static str>,
    /// `app=web` when set.
    web_only: bool,
}

impl Selection {
    fn selects(&self, state: &State) -> bool {
        !self.web_only || state.app == "web"
    }

    /// The event this watcher gets for `write`, if any (kube-apiserver's rules for selector
    /// transitions: matching before and after is MODIFIED, only after ADDED, only before
    /// DELETED with the last matching state).
    fn event(&self, write: &Write) -> Option<Seen> {
        if self.namespace.is_some_and(|ns| ns != write.namespace) {
            return None;
        }
        let before = write.before.as_ref().filter(|s| self.selects(s));
        let after = write.after.as_ref().filter(|s| self.selects(s));
        let (kind, state) = match (before, after) {
            (None, Some(after)) => ("ADDED", after),
            (Some(_), Some(after)) => ("MODIFIED", after),
            (Some(before), None) => ("DELETED", before),
            (None, None) => return None,
        };
        Some(Seen {
            rv: write.rv,
            kind: kind.to_owned(),
            namespace: write.namespace.to_owned(),
            name: write.name.clone(),
            app: state.app.to_owned(),
            stamp: state.stamp.clone(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// Reads as fast as it can.
    Fast,
    /// Pauses after each event while the writers run, so the server closes it.
    Slow,
    /// Disconnects after a random number of events and resumes.
    Flaky,
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    id: usize,
    selection: Selection,
    pace: Pace,
    bookmarks: bool,
}

/// Watcher `id`'s kind: in each row of ten, every pace × selector combination; rows cycle
/// through all namespaces and each namespace.
fn spec(id: usize) -> Spec {
    let (row, slot) = (id / 10, id % 10);
    let namespace = match row % 4 {
        0 => None,
        n => Some(NAMESPACES[n - 1]),
    };
    let (pace, bookmarks) = match slot % 5 {
        0 => (Pace::Fast, false),
        1 => (Pace::Fast, true),
        2 | 3 => (Pace::Flaky, true),
        _ => (Pace::Slow, row % 2 == 0),
    };
    Spec { id, selection: Selection { namespace, web_only: slot % 2 == 1 }, pace, bookmarks }
}

/// What one watcher did.
#[derive(Debug)]
struct Outcome {
    spec: Spec,
    seen: Vec<Seen>,
    /// Streams the server ended before this watcher was done (it fell behind).
    server_closes: usize,
    /// Streams this watcher dropped (flaky).
    client_drops: usize,
    /// BOOKMARKs taken as resume points.
    bookmarks: usize,
    /// Watch requests answered 429/503/504 and retried.
    retries: usize,
    /// Anything that should not happen (ERROR events, transport errors, partial lines, …).
    problems: Vec<String>,
}

/// Shared by every watcher: whether the writers still run, and each watcher's last expected
/// revision once they are done.
#[derive(Debug, Clone)]
struct Progress {
    writing: Arc<AtomicBool>,
    ends: watch::Receiver<Option<Arc<Vec<i64>>>>,
    /// Hang protection: a watcher gives up here.
    deadline: Instant,
}

impl Progress {
    fn done(&self, id: usize, at: i64) -> bool {
        self.ends.borrow().as_ref().is_some_and(|ends| at >= ends[id])
    }
}

fn problem(out: &mut Outcome, text: String) {
    out.problems.push(text);
}

async fn watcher(api: Api, spec: Spec, from: i64, progress: Progress, seed: u64) -> Outcome {
    let mut rng = Rng(seed);
    let mut out = Outcome {
        spec,
        seen: Vec::new(),
        server_closes: 0,
        client_drops: 0,
        bookmarks: 0,
        retries: 0,
        problems: Vec::new(),
    };
    let mut query = String::from("watch=true");
    if spec.bookmarks {
        query.push_str("&allowWatchBookmarks=true");
    }
    if spec.selection.web_only {
        query.push_str("&labelSelector=app%3Dweb");
    }
    let base = format!("{}?{query}", api.configmaps(spec.selection.namespace));
    // The newest revision this watcher has fully seen: where it resumes.
    let mut last = from;
    let mut draining: Option<Instant> = None;
    'watch: loop {
        if Instant::now() >= progress.deadline {
            problem(&mut out, format!("gave up at {last}"));
            break;
        }
        let url = format!("{base}&resourceVersion={last}");
        let response = match tokio::time::timeout(REQUEST_TIMEOUT, api.http.get(&url).send()).await
        {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                problem(&mut out, format!("watch request failed: {e}"));
                break;
            }
            Err(_) => {
                problem(&mut out, "watch request unanswered".into());
                break;
            }
        };
        let status = response.status().as_u16();
        if matches!(status, 429 | 503 | 504) && out.retries < 100 {
            out.retries += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            problem(&mut out, format!("watch from {last}: {status} {body}"));
            break;
        }
        let mut body = response.bytes_stream();
        let mut buffer: Vec<u8> = Vec::new();
        let mut drop_after = match spec.pace {
            Pace::Flaky => Some(1 + rng.below(FLAKY_MAX_EVENTS)),
            _ => None,
        };
        loop {
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let event: WireEvent = match serde_json::from_slice(&line) {
                    Ok(event) => event,
                    Err(e) => {
                        let text = String::from_utf8_lossy(&line);
                        problem(&mut out, format!("bad line ({e}): {text}"));
                        break 'watch;
                    }
                };
                let meta = &event.object.metadata;
                let rv: i64 = match meta.resource_version.parse() {
                    Ok(rv) if event.kind != "ERROR" => rv,
                    _ => {
                        let text = String::from_utf8_lossy(&line);
                        problem(&mut out, format!("unexpected event after {last}: {text}"));
                        break 'watch;
                    }
                };
                if rv < last || (rv == last && event.kind != "BOOKMARK") {
                    let kind = &event.kind;
                    problem(&mut out, format!("{kind} at {rv} after {last}: not in order"));
                }
                if event.kind == "BOOKMARK" {
                    // Only a resume point.
                    out.bookmarks += 1;
                } else {
                    out.seen.push(Seen {
                        rv,
                        kind: event.kind,
                        namespace: meta.namespace.clone(),
                        name: meta.name.clone(),
                        app: meta.labels.get(APP).cloned().unwrap_or_default(),
                        stamp: event.object.data.stamp,
                    });
                }
                last = last.max(rv);
                if spec.pace == Pace::Slow && progress.writing.load(Ordering::Relaxed) {
                    tokio::time::sleep(SLOW_PAUSE).await;
                }
                if let Some(left) = drop_after.as_mut() {
                    *left -= 1;
                    if *left == 0 && draining.is_none() {
                        // Disconnect, dropping whatever else was received but not processed.
                        out.client_drops += 1;
                        continue 'watch;
                    }
                }
            }
            if draining.is_none() && progress.done(spec.id, last) {
                draining = Some(Instant::now() + DRAIN);
            }
            if let Some(until) = draining
                && Instant::now() >= until
            {
                break 'watch;
            }
            if Instant::now() >= progress.deadline {
                continue 'watch;
            }
            match tokio::time::timeout(POLL, body.next()).await {
                Err(_) => {}
                Ok(Some(Ok(chunk))) => buffer.extend_from_slice(&chunk),
                Ok(Some(Err(e))) => {
                    problem(&mut out, format!("the stream from {last} failed: {e}"));
                    continue 'watch;
                }
                Ok(None) => {
                    if !buffer.is_empty() {
                        let text = String::from_utf8_lossy(&buffer);
                        problem(&mut out, format!("a partial line at the end: {text}"));
                    }
                    if draining.is_some() {
                        problem(&mut out, format!("the stream ended at {last}, while draining"));
                        break 'watch;
                    }
                    // The server ended the stream (fell behind): resume from `last`.
                    out.server_closes += 1;
                    continue 'watch;
                }
            }
        }
    }
    out
}

/// One writer: creates, updates (a fifth of them relabel) and deletes its own ConfigMaps.
async fn writer(api: Api, id: usize, seed: u64, deletes: Arc<Mutex<u64>>) -> Vec<Write> {
    let mut rng = Rng(seed);
    // name -> (namespace, state) of this writer's live objects.
    let mut live: BTreeMap<String, (&'static str, State)> = BTreeMap::new();
    let mut writes = Vec::with_capacity(WRITES_PER_WRITER);
    for i in 0..WRITES_PER_WRITER {
        let name = format!("w{id}-{}", rng.below(NAMES_PER_WRITER as u64));
        let stamp = format!("w{id}-{i}");
        let app = if rng.below(2) == 0 { "web" } else { "db" };
        let write = match live.get(&name).cloned() {
            None => {
                let namespace = NAMESPACES[rng.below(NAMESPACES.len() as u64) as usize];
                let body = json!({
                    "metadata": {"name": name, "labels": {APP: app}},
                    "data": {"stamp": stamp, "pad": "p".repeat(PAD_BYTES)},
                });
                let request = api.http.post(api.configmaps(Some(namespace))).json(&body);
                let created = api.ok(request, &format!("create {namespace}/{name}")).await;
                let after = State { app, stamp };
                live.insert(name.clone(), (namespace, after.clone()));
                let rv = revision_of(&created);
                Write { rv, namespace, name, before: None, after: Some(after), delete_seq: None }
            }
            Some((namespace, before)) if rng.below(8) != 0 => {
                let app = if rng.below(5) == 0 { app } else { before.app };
                let patch = json!({"metadata": {"labels": {APP: app}}, "data": {"stamp": stamp}});
                let request = api
                    .http
                    .patch(format!("{}/{name}", api.configmaps(Some(namespace))))
                    .header("content-type", "application/merge-patch+json")
                    .body(patch.to_string());
                let updated = api.ok(request, &format!("update {namespace}/{name}")).await;
                let after = State { app, stamp };
                live.insert(name.clone(), (namespace, after.clone()));
                let rv = revision_of(&updated);
                Write {
                    rv,
                    namespace,
                    name,
                    before: Some(before),
                    after: Some(after),
                    delete_seq: None,
                }
            }
            Some((namespace, before)) => {
                let request =
                    api.http.delete(format!("{}/{name}", api.configmaps(Some(namespace))));
                let mut seq = deletes.lock().await;
                let status = api.ok(request, &format!("delete {namespace}/{name}")).await;
                assert_eq!(status["status"], "Success", "{status}");
                *seq += 1;
                let delete_seq = Some(*seq);
                drop(seq);
                live.remove(&name);
                Write { rv: 0, namespace, name, before: Some(before), after: None, delete_seq }
            }
        };
        writes.push(write);
    }
    writes
}

/// Gives each delete its revision: the revisions in `(from, to]` that no create or update was
/// acknowledged at, in the order the (serialized) deletes were made. Checks that this accounts
/// for every revision and keeps each writer's writes in the order it made them.
fn assign_delete_revisions(per_writer: &mut [Vec<Write>], from: i64, to: i64) {
    let acknowledged: BTreeSet<i64> =
        per_writer.iter().flatten().filter(|w| w.delete_seq.is_none()).map(|w| w.rv).collect();
    let updates_and_creates = per_writer.iter().flatten().filter(|w| w.delete_seq.is_none());
    assert_eq!(acknowledged.len(), updates_and_creates.count(), "two writes at one revision");
    assert!(acknowledged.iter().all(|rv| (from + 1..=to).contains(rv)), "a write outside the run");
    let unaccounted: Vec<i64> = (from + 1..=to).filter(|rv| !acknowledged.contains(rv)).collect();
    let mut deletes: Vec<&mut Write> =
        per_writer.iter_mut().flatten().filter(|w| w.delete_seq.is_some()).collect();
    assert_eq!(
        unaccounted.len(),
        deletes.len(),
        "revisions {from}..={to} hold {} acknowledged creates and updates and {} deletes: \
         something else wrote to the log, so the deletes' revisions cannot be inferred",
        acknowledged.len(),
        deletes.len()
    );
    deletes.sort_by_key(|w| w.delete_seq);
    for (write, rv) in deletes.into_iter().zip(unaccounted) {
        write.rv = rv;
    }
    for (id, writes) in per_writer.iter().enumerate() {
        for pair in writes.windows(2) {
            assert!(
                pair[0].rv < pair[1].rv,
                "writer {id}: {} {}/{} at {} then {} {}/{} at {}: the deletes' revisions are not \
                 where they were made",
                if pair[0].after.is_none() { "delete" } else { "write" },
                pair[0].namespace,
                pair[0].name,
                pair[0].rv,
                if pair[1].after.is_none() { "delete" } else { "write" },
                pair[1].namespace,
                pair[1].name,
                pair[1].rv,
            );
        }
    }
}

/// Where `seen` and `expected` part, with some context, or `None` when they are equal.
fn divergence(seen: &[Seen], expected: &[Seen]) -> Option<String> {
    if seen == expected {
        return None;
    }
    let at = seen.iter().zip(expected).take_while(|(a, b)| a == b).count();
    let mut text = format!(
        "saw {} events, expected {}; first difference at #{at}\n",
        seen.len(),
        expected.len()
    );
    let show = |text: &mut String, label: &str, events: &[Seen]| {
        let _ = writeln!(text, "  {label}:");
        for event in events.iter().skip(at.saturating_sub(2)).take(6) {
            let _ = writeln!(text, "    {event}");
        }
    };
    show(&mut text, "saw", seen);
    show(&mut text, "expected", expected);
    let seen_rvs: BTreeSet<i64> = seen.iter().map(|s| s.rv).collect();
    let expected_rvs: BTreeSet<i64> = expected.iter().map(|s| s.rv).collect();
    let missing: Vec<_> = expected_rvs.difference(&seen_rvs).take(10).collect();
    let extra: Vec<_> = seen_rvs.difference(&expected_rvs).take(10).collect();
    let duplicates = seen.len() - seen_rvs.len();
    let _ = writeln!(
        text,
        "  missing revisions (first 10): {missing:?}; extra: {extra:?}; duplicates: {duplicates}"
    );
    Some(text)
}

async fn completeness(backend: &str, server: TestServer) {
    let started = Instant::now();
    let seed = seed();
    let api = Api { http: server.http.clone(), url: server.url.clone() };
    for namespace in NAMESPACES {
        let request = api.http.post(format!("{}/api/v1/namespaces", api.url)).json(&json!({
            "metadata": {"name": namespace}
        }));
        api.ok(request, &format!("create namespace {namespace}")).await;
    }
    // The controllers give each namespace its kube-root-ca.crt and default ServiceAccount: once
    // they are there, nothing but this test writes.
    for namespace in NAMESPACES {
        for object in ["configmaps/kube-root-ca.crt", "serviceaccounts/default"] {
            let url = format!("{}/api/v1/namespaces/{namespace}/{object}", api.url);
            let mut found = false;
            for _ in 0..400 {
                if api.http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                    found = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(found, "{url} never appeared");
        }
    }
    // Every watcher starts here, before the first write.
    let from = api.revision().await;

    let writing = Arc::new(AtomicBool::new(true));
    let (publish_ends, ends) = watch::channel(None);
    let deadline = Instant::now() + WRITE_DEADLINE + WATCH_DEADLINE;
    let progress = Progress { writing: writing.clone(), ends, deadline };
    let mut seeds = Rng(seed);
    let watchers: Vec<_> = (0..WATCHERS)
        .map(|id| {
            let task = watcher(api.clone(), spec(id), from, progress.clone(), seeds.next());
            tokio::spawn(task)
        })
        .collect();

    let deletes = Arc::new(Mutex::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| tokio::spawn(writer(api.clone(), id, seeds.next(), deletes.clone())))
        .collect();
    let mut per_writer = Vec::new();
    let writes_deadline = Instant::now() + WRITE_DEADLINE;
    for task in writers {
        let writes = tokio::time::timeout_at(writes_deadline, task)
            .await
            .unwrap_or_else(|_| panic!("the writers did not finish in {WRITE_DEADLINE:?}"))
            .expect("a writer failed");
        per_writer.push(writes);
    }
    writing.store(false, Ordering::Relaxed);
    let writes_done = started.elapsed();
    let to = api.revision().await;
    assign_delete_revisions(&mut per_writer, from, to);
    let mut writes: Vec<Write> = per_writer.into_iter().flatten().collect();
    writes.sort_by_key(|w| w.rv);

    let expected: Vec<Vec<Seen>> = (0..WATCHERS)
        .map(|id| writes.iter().filter_map(|w| spec(id).selection.event(w)).collect())
        .collect();
    let last = expected.iter().map(|e| e.last().map_or(from, |s| s.rv)).collect();
    publish_ends.send_replace(Some(Arc::new(last)));

    let watch_deadline = Instant::now() + WATCH_DEADLINE;
    let mut outcomes = Vec::new();
    for task in watchers {
        let outcome = tokio::time::timeout_at(watch_deadline, task)
            .await
            .unwrap_or_else(|_| panic!("the watchers did not finish in {WATCH_DEADLINE:?}"))
            .expect("a watcher failed");
        outcomes.push(outcome);
    }

    let mut failures = String::new();
    for (outcome, expected) in outcomes.iter().zip(&expected) {
        let mut trouble = outcome.problems.iter().take(5).cloned().collect::<Vec<_>>().join("\n  ");
        if let Some(diff) = divergence(&outcome.seen, expected) {
            trouble.push_str(&diff);
        }
        if !trouble.is_empty() {
            let _ = writeln!(failures, "watcher {:?}:\n  {trouble}", outcome.spec);
        }
    }
    let slow_closed =
        outcomes.iter().filter(|o| o.spec.pace == Pace::Slow && o.server_closes > 0).count();
    let total = |f: fn(&Outcome) -> usize| outcomes.iter().map(f).sum::<usize>();
    let deleted = writes.iter().filter(|w| w.after.is_none()).count();
    let relabelled = writes
        .iter()
        .filter(|w| matches!((&w.before, &w.after), (Some(b), Some(a)) if a.app != b.app))
        .count();
    eprintln!(
        "{backend}: seed {seed}; {} writes ({deleted} deletes, {relabelled} relabels) at \
         revisions {from}..={to} in {writes_done:.1?}; {WATCHERS} watchers saw {} events; \
         server closed {} streams ({slow_closed} slow watchers closed), clients dropped {}, \
         {} bookmarks, {} retries; total {:.1?}",
        writes.len(),
        total(|o| o.seen.len()),
        total(|o| o.server_closes),
        total(|o| o.client_drops),
        total(|o| o.bookmarks),
        total(|o| o.retries),
        started.elapsed(),
    );
    for o in &outcomes {
        eprintln!(
            "  watcher {:2} {:?} ns={:?} web_only={} bookmarks={}: {} events, {} server \
             closes, {} drops, {} bookmarks",
            o.spec.id,
            o.spec.pace,
            o.spec.selection.namespace,
            o.spec.selection.web_only,
            o.spec.bookmarks,
            o.seen.len(),
            o.server_closes,
            o.client_drops,
            o.bookmarks
        );
    }
    assert!(failures.is_empty(), "{backend} (seed {seed}):\n{failures}");
    assert!(slow_closed > 0, "no slow watcher was closed by the server (seed {seed})");
}
