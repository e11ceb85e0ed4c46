//! `watch-fanout`: W watchers of the run's namespace, each its own HTTP/1.1 watch stream from
//! the resourceVersion of one LIST (or, with `--http2 N`, every watch a stream of one of N HTTP/2
//! connections, watcher `i` on connection `i % N`, as client-go multiplexes its watches), while one paced writer updates objects at E events/s for the
//! run's duration. Each update carries `sent-at` (unix nanos when sent) and `seq` (its number)
//! annotations; each watcher turns an event into a delivery latency (receive time − sent-at) and
//! marks its seq as seen, so at the end every acknowledged write can be checked off per watcher:
//! loss (acknowledged, never seen) and duplicates (seen twice). A stream the server ends is
//! counted and resumed from the last resourceVersion, as client-go would. `--stalled K` adds
//! watchers that never read; `--idle` writes nothing and reports server memory per watcher.
//!
//! Data flow: pacer → one lane per object (PUT) → server → W streams → shared latency shards and
//! per-watcher seen-sets → summary.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::api::{self, Api};
use crate::config::WatchFanout;
use crate::error::{Error, Result};
use crate::report::Report;
use crate::scenario::stream::{Kind, WatchStream};
use crate::scenario::{Ctx, create_objects, names, require_success, spawn_all, unix_nanos};
use crate::stats::{Latencies, Tally};

/// The annotation holding a write's send time, in unix nanoseconds.
pub const SENT_AT: &str = "loadtest.kube-ledger.io/sent-at";
/// The annotation holding a write's sequence number (0, 1, …) in the run.
pub const SEQ: &str = "loadtest.kube-ledger.io/seq";
/// Latencies are recorded into this many shared histograms (one per watcher would cost
/// ~180 KB each, too much for 10,000 watchers); a watcher uses shard `id % SHARDS`.
const SHARDS: usize = 16;
/// After the last write, how long watchers may take to deliver every acknowledged write.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// After the last expected event, watchers keep reading this long (to see duplicates).
const DRAIN_GRACE: Duration = Duration::from_millis(300);
/// How long stalled watchers are read at the end to learn whether the server closed them.
const STALLED_READ: Duration = Duration::from_secs(1);
/// Opening every watcher must finish within this (plus 10 ms per watcher).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause before re-opening a watch that failed.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// What the run saw, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct WatchSummary {
    pub watchers: usize,
    pub stalled: usize,
    pub idle: bool,
    /// Seconds from the first watch request until every watcher had its stream.
    pub open_seconds: f64,
    /// HTTP/2 connections the watches were multiplexed over (`--http2`); 0: one HTTP/1.1
    /// connection per watch.
    pub http2_connections: usize,
    /// Watch streams (counting re-opened ones) the server answered over HTTP/2.
    pub streams_over_http2: u64,
    /// Watch streams (counting re-opened ones) opened in all.
    pub streams_opened: u64,
    pub writes_acknowledged: u64,
    pub writes_failed: u64,
    /// Acknowledged writes per second the writer achieved.
    pub write_rate_per_sec: f64,
    /// Events each watcher should have seen (= writes acknowledged).
    pub expected_per_watcher: u64,
    pub delivered_min: u64,
    pub delivered_max: u64,
    /// Acknowledged writes some watcher never saw, summed over watchers.
    pub lost_total: u64,
    pub watchers_with_loss: usize,
    pub duplicates_total: u64,
    /// Events without this run's annotations, or with a sequence number never sent.
    pub unexpected_total: u64,
    /// Streams of (reading) watchers the server ended, summed over watchers.
    pub closed_by_server: u64,
    pub watchers_closed_by_server: usize,
    /// Watchers that received a 410 (their revision was gone) and stopped.
    pub watchers_gone: usize,
    pub stalled_closed_by_server: usize,
    /// (server RSS after opening − before) / (watchers + stalled), when RSS can be read.
    pub memory_per_watcher_bytes: Option<f64>,
    pub per_watcher: Vec<WatcherResult>,
}

/// One reading watcher's account.
#[derive(Debug, Clone, Serialize)]
pub struct WatcherResult {
    pub id: usize,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub unexpected: u64,
    pub closed_by_server: u64,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl WatchSummary {
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "watchers {} (+{} stalled) opened in {:.2} s, {} of {} streams over HTTP/2; writes acknowledged {} (failed {}) at {:.1}/s",
            self.watchers,
            self.stalled,
            self.open_seconds,
            self.streams_over_http2,
            self.streams_opened,
            self.writes_acknowledged,
            self.writes_failed,
            self.write_rate_per_sec
        );
        let _ = writeln!(
            out,
            "per watcher: expected {}, delivered min {} max {}; lost {} ({} watchers), duplicates {}, unexpected {}",
            self.expected_per_watcher,
            self.delivered_min,
            self.delivered_max,
            self.lost_total,
            self.watchers_with_loss,
            self.duplicates_total,
            self.unexpected_total
        );
        let _ = writeln!(
            out,
            "closed by server: {} streams of {} watchers; 410 gone: {}; stalled closed: {}",
            self.closed_by_server,
            self.watchers_closed_by_server,
            self.watchers_gone,
            self.stalled_closed_by_server
        );
        match self.memory_per_watcher_bytes {
            Some(bytes) => {
                let _ = writeln!(out, "server memory per watcher: {:.1} KiB", bytes / 1024.0);
            }
            None => out.push_str("server memory per watcher: n/a\n"),
        }
        out
    }
}

/// Sequence numbers seen by one watcher: one bit each.
#[derive(Debug, Default)]
struct Seen(Vec<u64>);

impl Seen {
    fn with_capacity(n: u64) -> Seen {
        Seen(vec![0; usize::try_from(n / 64 + 1).unwrap_or(1)])
    }

    /// Marks `seq`; `None` if it is out of range, else whether it was new.
    fn insert(&mut self, seq: u64) -> Option<bool> {
        let word = self.0.get_mut(usize::try_from(seq / 64).ok()?)?;
        let bit = 1u64 << (seq % 64);
        let new = *word & bit == 0;
        *word |= bit;
        Some(new)
    }

    fn contains(&self, seq: u64) -> bool {
        usize::try_from(seq / 64)
            .ok()
            .and_then(|w| self.0.get(w))
            .is_some_and(|word| word & (1u64 << (seq % 64)) != 0)
    }
}

/// Histograms shared by many tasks, sharded to keep lock contention low.
#[derive(Debug)]
struct Sharded(Vec<Mutex<Latencies>>);

impl Sharded {
    fn new() -> Sharded {
        Sharded((0..SHARDS).map(|_| Mutex::new(Latencies::new())).collect())
    }

    fn record(&self, id: usize, micros: u64) {
        if let Ok(mut shard) = self.0[id % SHARDS].lock() {
            shard.record_micros(micros);
        }
    }

    fn merged(&self) -> Latencies {
        let mut all = Latencies::new();
        for shard in &self.0 {
            if let Ok(shard) = shard.lock() {
                all.merge(&shard);
            }
        }
        all
    }
}

/// State the watchers share with the run.
#[derive(Debug)]
struct Shared {
    delivery: Sharded,
    opens: Sharded,
    open_errors: AtomicU64,
    /// Streams opened, and how many of them the server answered over HTTP/2.
    opened: AtomicU64,
    opened_over_http2: AtomicU64,
    /// Distinct sequence numbers each watcher has seen so far.
    delivered: Vec<AtomicU64>,
    established: AtomicUsize,
    /// Caps the watch requests in flight (opening 10,000 at once overflows accept queues).
    opening: Semaphore,
}

/// One watcher's final account.
#[derive(Debug, Default)]
struct Outcome {
    seen: Seen,
    duplicates: u64,
    unexpected: u64,
    closed_by_server: u64,
    errors: u64,
    gone: bool,
    first_error: Option<String>,
}

pub async fn run(ctx: &Ctx, params: &WatchFanout, report: &mut Report) -> Result<()> {
    let objects = create_objects(ctx, names("cm", params.objects), params.value_bytes).await?;
    let list = ctx.api.list_configmaps(&ctx.namespace, None, None).await?;
    let start_rv = list.metadata.resource_version;
    let planned = if params.idle {
        0
    } else {
        (params.events_per_sec * ctx.duration.as_secs_f64()).round().max(1.0) as u64
    };

    let shared = Arc::new(Shared {
        delivery: Sharded::new(),
        opens: Sharded::new(),
        open_errors: AtomicU64::new(0),
        opened: AtomicU64::new(0),
        opened_over_http2: AtomicU64::new(0),
        delivered: (0..params.watchers).map(|_| AtomicU64::new(0)).collect(),
        established: AtomicUsize::new(0),
        opening: Semaphore::new(params.open_concurrency),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    // The clients the watches go through: the run's (HTTP/1.1, a connection per watch), or N
    // HTTP/2 clients with a connection each.
    let clients = match params.http2_connections {
        None => vec![ctx.api.clone()],
        Some(n) => (0..n).map(|_| ctx.api.http2()).collect::<Result<Vec<_>>>()?,
    };
    let client = |i: usize| clients[i % clients.len()].clone();
    let rss_before = ctx.probe.sample().await;

    // Open every watcher (and the stalled ones), then wait until all have their streams.
    let open_started = Instant::now();
    ctx.progress.start("opening watches", (params.watchers + params.stalled) as u64);
    let watchers: Vec<_> = (0..params.watchers)
        .map(|id| {
            let (api, ns, rv) = (client(id), ctx.namespace.clone(), start_rv.clone());
            let (shared, stop, progress) = (shared.clone(), stop_rx.clone(), ctx.progress.clone());
            tokio::spawn(async move {
                watcher(id, api, ns, rv, planned, shared, stop, move || progress.inc(1)).await
            })
        })
        .collect();
    let stalled_clients = (0..params.stalled).map(|i| client(params.watchers + i)).collect();
    let stalled = open_stalled(ctx, stalled_clients, &start_rv, &shared).await?;
    let open_deadline = OPEN_TIMEOUT + Duration::from_millis(10) * params.watchers as u32;
    while shared.established.load(Ordering::Relaxed) < params.watchers {
        if open_started.elapsed() > open_deadline {
            let _ = stop_tx.send(true);
            return Err(Error::Run(format!(
                "only {} of {} watchers had a stream after {:.0} s",
                shared.established.load(Ordering::Relaxed),
                params.watchers,
                open_deadline.as_secs_f64()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open_seconds = open_started.elapsed().as_secs_f64();

    // Write (or, idle, just wait), then let the watchers catch up.
    let write_started = Instant::now();
    let (writes, acked) = if params.idle {
        tokio::time::sleep(ctx.duration).await;
        (Tally::default(), Vec::new())
    } else {
        write(
            ctx,
            params,
            planned,
            objects.into_iter().map(|m| (m.name, m.resource_version)).collect(),
        )
        .await?
    };
    let write_seconds = write_started.elapsed();
    let rss_after = ctx.probe.sample().await;
    let expected = acked.len() as u64;
    let drain_started = Instant::now();
    while drain_started.elapsed() < DRAIN_TIMEOUT
        && shared.delivered.iter().any(|d| d.load(Ordering::Relaxed) < expected)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(DRAIN_GRACE).await;
    let _ = stop_tx.send(true);
    let mut outcomes = Vec::with_capacity(watchers.len());
    for handle in watchers {
        outcomes.push(handle.await.map_err(|e| Error::Run(format!("a watcher failed: {e}")))?);
    }
    let stalled_closed = read_stalled(stalled).await?;

    // Account.
    let mut per_watcher = Vec::with_capacity(outcomes.len());
    for (id, outcome) in outcomes.iter().enumerate() {
        let lost = acked.iter().filter(|seq| !outcome.seen.contains(**seq)).count() as u64;
        per_watcher.push(WatcherResult {
            id,
            expected,
            delivered: expected - lost,
            lost,
            duplicates: outcome.duplicates,
            unexpected: outcome.unexpected,
            closed_by_server: outcome.closed_by_server,
            errors: outcome.errors,
            first_error: outcome.first_error.clone(),
        });
    }
    let delivered_total: u64 = per_watcher.iter().map(|w| w.delivered).sum();
    let mut delivery = Tally {
        latencies: shared.delivery.merged(),
        ok: delivered_total,
        elapsed: write_seconds,
        ..Tally::default()
    };
    delivery.errors = per_watcher.iter().map(|w| w.lost).sum();
    let mut opens = Tally {
        latencies: shared.opens.merged(),
        ok: (params.watchers + params.stalled) as u64,
        errors: shared.open_errors.load(Ordering::Relaxed),
        ..Tally::default()
    };
    opens.elapsed = Duration::from_secs_f64(open_seconds);
    if !params.idle {
        report.measure("watch delivery", &delivery);
        report.measure("watch writes", &writes);
        require_success("write", &writes)?;
    }
    report.measure("watch open", &opens);
    let achieved = crate::stats::rate(expected, write_seconds);
    if !params.idle && achieved < 0.9 * params.events_per_sec {
        report.notes.push(format!(
            "the writer reached {achieved:.1} of {} writes/s: the server (or this client; see its \
             cpu) did not keep up, so latencies include queueing",
            params.events_per_sec
        ));
    }
    let memory_per_watcher_bytes = match (rss_before, rss_after) {
        (Some(before), Some(after)) => Some(
            (after.rss_bytes as f64 - before.rss_bytes as f64)
                / (params.watchers + params.stalled) as f64,
        ),
        _ => None,
    };
    report.watch = Some(WatchSummary {
        watchers: params.watchers,
        stalled: params.stalled,
        idle: params.idle,
        open_seconds,
        http2_connections: params.http2_connections.unwrap_or(0),
        streams_over_http2: shared.opened_over_http2.load(Ordering::Relaxed),
        streams_opened: shared.opened.load(Ordering::Relaxed),
        writes_acknowledged: expected,
        writes_failed: writes.errors,
        write_rate_per_sec: achieved,
        expected_per_watcher: expected,
        delivered_min: per_watcher.iter().map(|w| w.delivered).min().unwrap_or(0),
        delivered_max: per_watcher.iter().map(|w| w.delivered).max().unwrap_or(0),
        lost_total: per_watcher.iter().map(|w| w.lost).sum(),
        watchers_with_loss: per_watcher.iter().filter(|w| w.lost > 0).count(),
        duplicates_total: per_watcher.iter().map(|w| w.duplicates).sum(),
        unexpected_total: per_watcher.iter().map(|w| w.unexpected).sum(),
        closed_by_server: per_watcher.iter().map(|w| w.closed_by_server).sum(),
        watchers_closed_by_server: per_watcher.iter().filter(|w| w.closed_by_server > 0).count(),
        watchers_gone: outcomes.iter().filter(|o| o.gone).count(),
        stalled_closed_by_server: stalled_closed,
        memory_per_watcher_bytes,
        per_watcher,
    });
    Ok(())
}

/// One reading watcher: opens its stream (under the shared open limit), reads events until
/// told to stop, resumes from its last resourceVersion whenever the stream ends.
#[allow(clippy::too_many_arguments)]
async fn watcher(
    id: usize,
    api: Api,
    namespace: String,
    mut resource_version: String,
    planned: u64,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    on_open: impl Fn(),
) -> Outcome {
    let mut outcome = Outcome { seen: Seen::with_capacity(planned), ..Outcome::default() };
    let mut first_open = true;
    let fail = |outcome: &mut Outcome, e: Error| {
        outcome.errors += 1;
        if outcome.first_error.is_none() {
            outcome.first_error = Some(e.to_string());
        }
    };
    while !*stop.borrow() && !outcome.gone {
        let opened = tokio::select! {
            _ = stop.changed() => break,
            opened = open(&api, &namespace, &resource_version, &shared, id) => opened,
        };
        let mut stream = match opened {
            Ok(stream) => stream,
            Err(e) => {
                fail(&mut outcome, e);
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        if first_open {
            first_open = false;
            shared.established.fetch_add(1, Ordering::Relaxed);
            on_open();
        }
        loop {
            let next = tokio::select! {
                _ = stop.changed() => return outcome,
                next = stream.next() => next,
            };
            let event = match next {
                Ok(Some(event)) => event,
                Ok(None) => {
                    outcome.closed_by_server += 1;
                    break;
                }
                Err(e) => {
                    fail(&mut outcome, e);
                    break;
                }
            };
            match event.kind {
                Kind::Bookmark => resource_version = event.resource_version,
                Kind::Error => {
                    outcome.gone = event.code == Some(410);
                    fail(&mut outcome, Error::Run(format!("ERROR event, code {:?}", event.code)));
                    break;
                }
                Kind::Added | Kind::Modified | Kind::Deleted => {
                    resource_version = event.resource_version;
                    let seq = event.annotations.get(SEQ).and_then(|s| s.parse::<u64>().ok());
                    match seq.and_then(|seq| outcome.seen.insert(seq)) {
                        Some(true) => {
                            shared.delivered[id].fetch_add(1, Ordering::Relaxed);
                            if let Some(sent) =
                                event.annotations.get(SENT_AT).and_then(|s| s.parse::<u64>().ok())
                            {
                                let micros = event.received_nanos.saturating_sub(sent) / 1000;
                                shared.delivery.record(id, micros);
                            }
                        }
                        Some(false) => outcome.duplicates += 1,
                        None => outcome.unexpected += 1,
                    }
                }
            }
        }
    }
    outcome
}

/// Opens one watch stream under the shared limit, recording how long the server took.
async fn open(
    api: &Api,
    namespace: &str,
    resource_version: &str,
    shared: &Shared,
    id: usize,
) -> Result<WatchStream> {
    let _permit = shared
        .opening
        .acquire()
        .await
        .map_err(|_| Error::Run("the open limit was closed".to_owned()))?;
    let sent = Instant::now();
    match api.watch_configmaps(namespace, resource_version).await {
        Ok(response) => {
            shared.opens.record(id, u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
            shared.opened.fetch_add(1, Ordering::Relaxed);
            if response.version() == reqwest::Version::HTTP_2 {
                shared.opened_over_http2.fetch_add(1, Ordering::Relaxed);
            }
            Ok(WatchStream::new(response))
        }
        Err(e) => {
            shared.open_errors.fetch_add(1, Ordering::Relaxed);
            Err(e)
        }
    }
}

/// Opens a watcher through each of `clients` that will not be read until the end.
async fn open_stalled(
    ctx: &Ctx,
    clients: Vec<Api>,
    resource_version: &str,
    shared: &Arc<Shared>,
) -> Result<Vec<WatchStream>> {
    let results = spawn_all(clients.len(), |i| {
        let (api, ns, rv, shared, progress) = (
            clients[i].clone(),
            ctx.namespace.clone(),
            resource_version.to_owned(),
            shared.clone(),
            ctx.progress.clone(),
        );
        async move {
            let stream = open(&api, &ns, &rv, &shared, usize::MAX - i).await;
            progress.inc(1);
            stream
        }
    })
    .await?;
    results.into_iter().collect()
}

/// Reads each stalled watcher briefly; returns how many the server had closed.
async fn read_stalled(stalled: Vec<WatchStream>) -> Result<usize> {
    let deadline = tokio::time::Instant::now() + STALLED_READ;
    let handles: Vec<_> = stalled
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                loop {
                    match tokio::time::timeout_at(deadline, stream.next()).await {
                        Ok(Ok(Some(_))) => continue,
                        Ok(Ok(None)) | Ok(Err(_)) => return true,
                        Err(_) => return false,
                    }
                }
            })
        })
        .collect();
    let mut closed = 0;
    for handle in handles {
        closed +=
            usize::from(handle.await.map_err(|e| Error::Run(format!("a stalled watcher: {e}")))?);
    }
    Ok(closed)
}

/// The paced writer: `planned` updates at `events_per_sec`, spread over one lane per object
/// (each lane updates its object in order, so no update conflicts with another). Returns the
/// write tally and the sequence numbers of the acknowledged writes.
async fn write(
    ctx: &Ctx,
    params: &WatchFanout,
    planned: u64,
    objects: Vec<(String, String)>,
) -> Result<(Tally, Vec<u64>)> {
    let value = Arc::new(api::value(params.value_bytes, 1));
    let mut senders = Vec::with_capacity(objects.len());
    let mut lanes = Vec::with_capacity(objects.len());
    for (name, resource_version) in objects {
        let (tx, rx) = mpsc::channel::<u64>(1024);
        senders.push(tx);
        let (api, ns, value) = (ctx.api.clone(), ctx.namespace.clone(), value.clone());
        lanes.push(tokio::spawn(lane(api, ns, name, resource_version, value, rx)));
    }
    let started = tokio::time::Instant::now();
    let millis = u64::try_from(ctx.duration.as_millis()).unwrap_or(u64::MAX);
    ctx.progress.start("writing", millis);
    for seq in 0..planned {
        let due = started + Duration::from_secs_f64(seq as f64 / params.events_per_sec);
        tokio::time::sleep_until(due).await;
        let lane = &senders[(seq % senders.len() as u64) as usize];
        if lane.send(seq).await.is_err() {
            return Err(Error::Run("a writer lane stopped".to_owned()));
        }
        ctx.progress.set(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    }
    drop(senders);
    let mut tally = Tally::default();
    let mut acked = Vec::new();
    for handle in lanes {
        let (t, a) = handle.await.map_err(|e| Error::Run(format!("a writer lane failed: {e}")))?;
        tally.merge(&t);
        acked.extend(a);
    }
    tally.elapsed = started.elapsed();
    acked.sort_unstable();
    Ok((tally, acked))
}

/// Updates one object for each sequence number received, stamping `sent-at` just before
/// sending; after a failure re-reads the object's resourceVersion.
async fn lane(
    api: Api,
    namespace: String,
    name: String,
    mut resource_version: String,
    value: Arc<String>,
    mut seqs: mpsc::Receiver<u64>,
) -> (Tally, Vec<u64>) {
    let mut tally = Tally::default();
    let mut acked = Vec::new();
    while let Some(seq) = seqs.recv().await {
        let annotations = [(SENT_AT, unix_nanos().to_string()), (SEQ, seq.to_string())];
        let body = api::configmap(&namespace, &name, &value, Some(&resource_version), &annotations);
        let sent = Instant::now();
        match api.update_configmap(&namespace, &name, &body).await {
            Ok(meta) => {
                tally.success(sent.elapsed());
                resource_version = meta.resource_version;
                acked.push(seq);
            }
            Err(e) => {
                tally.failure(e);
                if let Ok(meta) = api.get_configmap(&namespace, &name).await {
                    resource_version = meta.resource_version;
                }
            }
        }
    }
    (tally, acked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_marks_each_seq_once() {
        let mut seen = Seen::with_capacity(100);
        assert_eq!(seen.insert(0), Some(true));
        assert_eq!(seen.insert(0), Some(false));
        assert_eq!(seen.insert(99), Some(true));
        assert!(seen.contains(99) && !seen.contains(98));
        assert_eq!(seen.insert(10_000), None);
        assert!(!seen.contains(10_000));
    }
}
