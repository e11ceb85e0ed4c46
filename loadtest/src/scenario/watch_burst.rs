//! `watch-burst`: does the server give memory back after a burst of watchers? Each burst opens
//! W watches of the run's namespace, optionally writes N updates that every watcher receives,
//! closes every watch, waits until the server counts no registered watcher, then follows the
//! server's RSS for `--settle`. The report holds RSS at idle (before the first burst), at the
//! peak of each burst (sampled every 100 ms from opening to the end of the settle time), 10 s
//! after it closed and at the end of the settle time, with the ratios after/idle and retained =
//! (after − idle) / (peak − idle): 0 when everything the burst took was returned,
//! 1 when none of it was.
//!
//! Data flow: sampler task (RSS every 100 ms) ∥ W watcher tasks (open under a limit, read until
//! told to stop) ∥ the writer; then close → `/metrics` until no watcher is registered → RSS
//! samples for the settle time → [`BurstSummary`].

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Semaphore, watch};

use crate::api::{self, Api};
use crate::config::WatchBurst;
use crate::error::{Error, Result};
use crate::report::Report;
use crate::scenario::stream::WatchStream;
use crate::scenario::watch_fanout::SEQ;
use crate::scenario::{Ctx, create_objects, names};
use crate::stats::Tally;
use crate::usage::Probe;

/// How often RSS is sampled while a burst is open and while it settles.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// The point after closing that the report names "after 10 s" (kube-ledger's allocator purges
/// freed pages after a 10 s decay; glibc never does).
const AFTER: Duration = Duration::from_secs(10);
/// Opening every watcher must finish within this (plus 10 ms per watcher).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long writes may take to reach every watcher, and the server to unregister them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's memory around the bursts.
#[derive(Debug, Clone, Serialize)]
pub struct BurstSummary {
    pub watchers: usize,
    /// RSS before the first burst, with the run's objects created.
    pub idle_rss_bytes: u64,
    pub bursts: Vec<Burst>,
    /// Last burst's RSS at the end of the settle time ÷ idle RSS.
    pub after_over_idle: f64,
    /// Last burst's (after − idle) ÷ (peak − idle): the share of the burst's memory kept.
    pub retained: f64,
}

/// One burst's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Burst {
    /// The highest RSS sampled from opening the watchers to the end of the settle time.
    pub peak_rss_bytes: u64,
    /// RSS 10 s after the watchers were closed (`None` with a shorter settle time).
    pub after_10s_rss_bytes: Option<u64>,
    /// RSS at the end of the settle time.
    pub after_rss_bytes: u64,
    /// Seconds from closing the watchers until the server had unregistered every one of them
    /// (`None` when its `/metrics` has no `apiserver_registered_watchers`).
    pub unregistered_seconds: Option<f64>,
    /// Watch events received, summed over the watchers.
    pub events_received: u64,
}

impl BurstSummary {
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "server rss idle {} MiB; {} watchers per burst",
            mib(self.idle_rss_bytes),
            self.watchers
        );
        for (i, burst) in self.bursts.iter().enumerate() {
            let after_10s = burst
                .after_10s_rss_bytes
                .map_or_else(|| "n/a".to_owned(), |bytes| format!("{} MiB", mib(bytes)));
            let unregistered = burst
                .unregistered_seconds
                .map_or_else(|| "n/a".to_owned(), |s| format!("{s:.1} s"));
            let _ = writeln!(
                out,
                "burst {}: peak {} MiB, after 10 s {after_10s}, after settle {} MiB; \
                 watchers unregistered after {unregistered}; {} events received",
                i + 1,
                mib(burst.peak_rss_bytes),
                mib(burst.after_rss_bytes),
                burst.events_received
            );
        }
        let _ = writeln!(
            out,
            "rss after/idle {:.2}; retained of the burst {:.2}",
            self.after_over_idle, self.retained
        );
        out
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// What the watchers share with the run.
#[derive(Debug)]
struct Shared {
    established: AtomicUsize,
    events: AtomicU64,
    /// Caps the watch requests in flight (opening 10,000 at once overflows accept queues).
    opening: Semaphore,
}

pub async fn run(ctx: &Ctx, params: &WatchBurst, report: &mut Report) -> Result<()> {
    if matches!(ctx.probe, Probe::None) {
        return Err(Error::Run(
            "watch-burst measures the server's memory: give --server-pid, or a server whose \
             /metrics has process_resident_memory_bytes"
                .to_owned(),
        ));
    }
    let objects = create_objects(ctx, names("cm", params.objects), params.value_bytes).await?;
    let mut versions: Vec<(String, String)> =
        objects.into_iter().map(|m| (m.name, m.resource_version)).collect();
    let idle = rss(&ctx.probe).await?;
    let mut opens = Tally::default();
    let mut writes = Tally::default();
    let mut bursts = Vec::with_capacity(params.bursts);
    for _ in 0..params.bursts {
        bursts.push(burst(ctx, params, &mut versions, &mut opens, &mut writes).await?);
    }
    report.measure("watch open", &opens);
    if params.writes > 0 {
        report.measure("watch writes", &writes);
    }
    let last = bursts.last().ok_or_else(|| Error::Run("no burst ran".to_owned()))?;
    let after_over_idle = last.after_rss_bytes as f64 / idle as f64;
    let grown = last.peak_rss_bytes.saturating_sub(idle) as f64;
    let kept = last.after_rss_bytes.saturating_sub(idle) as f64;
    let retained = if grown > 0.0 { kept / grown } else { 0.0 };
    report.ratios.insert("rss after/idle".to_owned(), after_over_idle);
    report.ratios.insert("rss peak/idle".to_owned(), last.peak_rss_bytes as f64 / idle as f64);
    report.ratios.insert("rss retained of burst".to_owned(), retained);
    report.burst = Some(BurstSummary {
        watchers: params.watchers,
        idle_rss_bytes: idle,
        bursts,
        after_over_idle,
        retained,
    });
    Ok(())
}

async fn rss(probe: &Probe) -> Result<u64> {
    probe
        .sample()
        .await
        .map(|s| s.rss_bytes)
        .ok_or_else(|| Error::Run("the server's RSS could not be read".to_owned()))
}

/// One burst: open, write, close, settle.
async fn burst(
    ctx: &Ctx,
    params: &WatchBurst,
    versions: &mut [(String, String)],
    opens: &mut Tally,
    writes: &mut Tally,
) -> Result<Burst> {
    let list = ctx.api.list_configmaps(&ctx.namespace, None, None).await?;
    let start_rv = list.metadata.resource_version;
    let shared = Arc::new(Shared {
        established: AtomicUsize::new(0),
        events: AtomicU64::new(0),
        opening: Semaphore::new(params.open_concurrency),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let sampler = {
        let (probe, mut stop) = (ctx.probe.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut peak = 0;
            loop {
                if let Some(sample) = probe.sample().await {
                    peak = peak.max(sample.rss_bytes);
                }
                tokio::select! {
                    _ = tokio::time::sleep(SAMPLE_EVERY) => {}
                    _ = stop.wait_for(|stop| *stop) => return peak,
                }
            }
        })
    };

    ctx.progress.start("opening watches", params.watchers as u64);
    let open_started = Instant::now();
    let watchers: Vec<_> = (0..params.watchers)
        .map(|_| {
            let (api, ns, rv) = (ctx.api.clone(), ctx.namespace.clone(), start_rv.clone());
            let (shared, stop, progress) = (shared.clone(), stop_rx.clone(), ctx.progress.clone());
            tokio::spawn(async move {
                watcher(api, ns, rv, shared, stop, move || progress.inc(1)).await
            })
        })
        .collect();
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
    let open_elapsed = open_started.elapsed();

    if params.writes > 0 {
        ctx.progress.start("writing", params.writes);
        let started = Instant::now();
        writes.merge(&write(ctx, params, versions).await);
        writes.elapsed += started.elapsed();
        let expected = params.writes * params.watchers as u64;
        let drain = Instant::now();
        while shared.events.load(Ordering::Relaxed) < expected && drain.elapsed() < DRAIN_TIMEOUT {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // Close every watch (each task drops its stream), then wait for the server to notice.
    let _ = stop_tx.send(true);
    let mut tally = Tally::default();
    for handle in watchers {
        let outcome = handle.await.map_err(|e| Error::Run(format!("a watcher failed: {e}")))?;
        match outcome {
            Ok(latency) => tally.success(latency),
            Err(e) => tally.failure(e),
        }
    }
    let peak = sampler.await.map_err(|e| Error::Run(format!("the RSS sampler failed: {e}")))?;
    let closed = Instant::now();
    opens.merge(&tally);
    opens.elapsed += open_elapsed;
    let unregistered_seconds = unregistered(&ctx.api, closed).await?;

    ctx.progress.start("settling", u64::try_from(params.settle.as_millis()).unwrap_or(u64::MAX));
    let mut after_10s = None;
    let mut after = rss(&ctx.probe).await?;
    // Memory may still grow after the close (buffers freed while others are written out).
    let mut peak = peak.max(after);
    while closed.elapsed() < params.settle {
        tokio::time::sleep(SAMPLE_EVERY).await;
        after = rss(&ctx.probe).await?;
        peak = peak.max(after);
        if after_10s.is_none() && closed.elapsed() >= AFTER {
            after_10s = Some(after);
        }
        ctx.progress.set(u64::try_from(closed.elapsed().as_millis()).unwrap_or(u64::MAX));
    }
    Ok(Burst {
        peak_rss_bytes: peak,
        after_10s_rss_bytes: after_10s,
        after_rss_bytes: after,
        unregistered_seconds,
        events_received: shared.events.load(Ordering::Relaxed),
    })
}

/// One watcher: opens its stream under the shared limit, then reads (counting events) until
/// told to stop, and drops the stream. Returns how long the server took to answer the watch.
async fn watcher(
    api: Api,
    namespace: String,
    resource_version: String,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    on_open: impl Fn(),
) -> Result<Duration> {
    let opened = {
        let _permit = shared
            .opening
            .acquire()
            .await
            .map_err(|_| Error::Run("the open limit was closed".to_owned()))?;
        let sent = Instant::now();
        let response = api.watch_configmaps(&namespace, &resource_version).await;
        (response, sent.elapsed())
    };
    // Counted as established even when it failed, so the run does not wait out the timeout.
    shared.established.fetch_add(1, Ordering::Relaxed);
    on_open();
    let (response, latency) = opened;
    let mut stream = WatchStream::new(response?);
    let read = async {
        // Until the server ends the stream (or it breaks).
        while let Ok(Some(_)) = stream.next().await {
            shared.events.fetch_add(1, Ordering::Relaxed);
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = read => {}
        _ = stop.wait_for(|stop| *stop) => {}
    }
    Ok(latency)
}

/// `params.writes` updates, one lane per object (each lane updates its object in order, so no
/// update conflicts with another), with the run's resourceVersions kept across bursts.
async fn write(ctx: &Ctx, params: &WatchBurst, versions: &mut [(String, String)]) -> Tally {
    let value = Arc::new(api::value(params.value_bytes, 1));
    let lanes = versions.len() as u64;
    let handles: Vec<_> = versions
        .iter()
        .enumerate()
        .map(|(lane, (name, rv))| {
            let count = params.writes / lanes + u64::from((lane as u64) < params.writes % lanes);
            let (api, ns, name, mut rv) =
                (ctx.api.clone(), ctx.namespace.clone(), name.clone(), rv.clone());
            let (value, progress) = (value.clone(), ctx.progress.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                for seq in 0..count {
                    // A distinct annotation per update: an update that changes nothing is no
                    // event at all.
                    let annotations = [(SEQ, seq.to_string())];
                    let body = api::configmap(&ns, &name, &value, Some(&rv), &annotations);
                    let sent = Instant::now();
                    match api.update_configmap(&ns, &name, &body).await {
                        Ok(meta) => {
                            tally.success(sent.elapsed());
                            rv = meta.resource_version;
                        }
                        Err(e) => {
                            tally.failure(e);
                            if let Ok(meta) = api.get_configmap(&ns, &name).await {
                                rv = meta.resource_version;
                            }
                        }
                    }
                    progress.inc(1);
                }
                (tally, rv)
            })
        })
        .collect();
    let mut total = Tally::default();
    for (handle, (_, version)) in handles.into_iter().zip(versions.iter_mut()) {
        match handle.await {
            Ok((tally, rv)) => {
                total.merge(&tally);
                *version = rv;
            }
            Err(e) => total.failure(format!("a writer lane failed: {e}")),
        }
    }
    total
}

/// Waits until the server's `apiserver_registered_watchers` add up to 0; returns how long after
/// `since` that was, or `None` when the server does not export the metric.
async fn unregistered(api: &Api, since: Instant) -> Result<Option<f64>> {
    loop {
        let Some(registered) = api.metrics().await.and_then(|text| registered_watchers(&text))
        else {
            return Ok(None);
        };
        if registered == 0.0 {
            return Ok(Some(since.elapsed().as_secs_f64()));
        }
        if since.elapsed() > DRAIN_TIMEOUT {
            return Err(Error::Run(format!(
                "the server still counts {registered} registered watchers {} s after they closed",
                DRAIN_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

/// The sum of `apiserver_registered_watchers` over its series, from Prometheus text.
fn registered_watchers(text: &str) -> Option<f64> {
    let mut values = text
        .lines()
        .filter(|l| l.starts_with("apiserver_registered_watchers"))
        .filter(|l| matches!(l.as_bytes().get(29), Some(b'{' | b' ')))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .peekable();
    values.peek()?;
    Some(values.sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_watchers_add_up_over_series() {
        let text = "# TYPE apiserver_registered_watchers gauge\n\
            apiserver_registered_watchers{group=\"\",version=\"v1\",kind=\"ConfigMap\"} 3\n\
            apiserver_registered_watchers{group=\"apps\",version=\"v1\",kind=\"Deployment\"} 2\n\
            apiserver_registered_watchers_other 7\n";
        assert_eq!(registered_watchers(text), Some(5.0));
        assert_eq!(registered_watchers("process_open_fds 9\n"), None);
    }

    #[test]
    fn the_table_names_every_figure() {
        let summary = BurstSummary {
            watchers: 10,
            idle_rss_bytes: 10 << 20,
            bursts: vec![Burst {
                peak_rss_bytes: 110 << 20,
                after_10s_rss_bytes: None,
                after_rss_bytes: 20 << 20,
                unregistered_seconds: Some(0.25),
                events_received: 0,
            }],
            after_over_idle: 2.0,
            retained: 0.1,
        };
        let table = summary.table();
        assert!(table.contains("idle 10.0 MiB"), "{table}");
        assert!(table.contains("peak 110.0 MiB, after 10 s n/a, after settle 20.0 MiB"), "{table}");
        assert!(table.contains("after settle 20.0 MiB"), "{table}");
        assert!(table.contains("rss after/idle 2.00; retained of the burst 0.10"), "{table}");
    }
}
