//! The workloads. [`run`] dispatches a [`Config`]'s scenario to its module; each module drives
//! the server through the shared [`Ctx`] and fills the [`Report`]. The helpers here are the
//! patterns several scenarios share: creating objects with the run's clients, and alternating
//! timed slices of two kinds of request so neither gets the warmer half of the run.

pub mod apply;
pub mod controller;
pub mod list;
pub mod openapi;
pub mod reads;
pub mod stream;
pub mod watch_burst;
pub mod watch_fanout;
pub mod writes;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::api::{self, Api, Meta};
use crate::config::{Config, Scenario};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::report::Report;
use crate::stats::Tally;
use crate::usage::Probe;

/// What every scenario works with.
#[derive(Debug)]
pub struct Ctx {
    /// The first server's client: setup, and every request of a one-server run.
    pub api: Api,
    /// One client per server of `--servers` (just `api` without it).
    pub apis: Vec<Api>,
    /// The namespace the run created; everything the run writes is in it.
    pub namespace: String,
    /// Unique per run; also names the etcd baseline's key prefix.
    pub run_id: String,
    pub clients: usize,
    pub duration: Duration,
    pub allow_remote: bool,
    pub probe: Probe,
    pub progress: Arc<Progress>,
}

impl Ctx {
    /// `apis`: one client per server, at least one.
    pub fn new(
        config: &Config,
        apis: Vec<Api>,
        namespace: String,
        run_id: String,
        probe: Probe,
    ) -> Ctx {
        Ctx {
            api: apis[0].clone(),
            apis,
            namespace,
            run_id,
            clients: config.clients,
            duration: config.duration,
            allow_remote: config.allow_remote,
            probe,
            progress: Arc::new(Progress::new(config.progress)),
        }
    }
}

/// Runs the configured scenario.
pub async fn run(ctx: &Ctx, config: &Config, report: &mut Report) -> Result<()> {
    match &config.scenario {
        Scenario::Writes(params) => writes::run(ctx, params, report).await,
        Scenario::Reads(params) => reads::run(ctx, params, report).await,
        Scenario::Openapi => openapi::run(ctx, report).await,
        Scenario::Apply(params) => apply::run(ctx, params, report).await,
        Scenario::WatchFanout(params) => watch_fanout::run(ctx, params, report).await,
        Scenario::WatchBurst(params) => watch_burst::run(ctx, params, report).await,
        Scenario::List(params) => list::run(ctx, params, report).await,
        Scenario::Controller(params) => controller::run(ctx, params, report).await,
    }
}

/// Connections (so file descriptors) the run may hold at once.
pub fn connections_needed(config: &Config) -> usize {
    let extra = config.clients + 16;
    match &config.scenario {
        Scenario::WatchFanout(w) => w.watchers + w.stalled + w.objects + extra,
        Scenario::WatchBurst(w) => w.watchers + w.objects + extra,
        Scenario::Controller(c) => c.informers + c.writers + extra,
        _ => extra,
    }
}

/// Runs `n` copies of a task (given its index) and waits for all of them.
pub async fn spawn_all<T, F, Fut>(n: usize, task: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(task(i))).collect();
    let mut results = Vec::with_capacity(n);
    for handle in handles {
        results.push(handle.await.map_err(|e| Error::Run(format!("a client task failed: {e}")))?);
    }
    Ok(results)
}

/// Creates ConfigMaps `names` with the run's clients; returns their metadata in order.
pub async fn create_objects(
    ctx: &Ctx,
    names: Vec<String>,
    value_bytes: usize,
) -> Result<Vec<Meta>> {
    let names = Arc::new(names);
    let next = Arc::new(AtomicUsize::new(0));
    let body_value = Arc::new(api::value(value_bytes, 0));
    ctx.progress.start("creating", names.len() as u64);
    let workers = ctx.clients.min(names.len()).max(1);
    let results = spawn_all(workers, |_| {
        let (api, ns, names, next, value, progress) = (
            ctx.api.clone(),
            ctx.namespace.clone(),
            names.clone(),
            next.clone(),
            body_value.clone(),
            ctx.progress.clone(),
        );
        async move {
            let mut created = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = names.get(i) else { return Ok(created) };
                let body = api::configmap(&ns, name, &value, None, &[]);
                created.push((i, api.create_configmap(&ns, &body).await?));
                progress.inc(1);
            }
        }
    })
    .await?;
    let mut all: Vec<(usize, Meta)> = Vec::with_capacity(names.len());
    for created in results {
        all.extend(created?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, meta)| meta).collect())
}

/// Object names `prefix-000000` … for `n` objects.
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:06}")).collect()
}

/// Splits `duration` into slices alternating between two kinds of request in the pattern
/// A B B A A B B A …, each slice run by `clients` clients calling `request(kind, client)` back to
/// back. Returns one [`Tally`] per kind, with the wall time of its slices as elapsed.
pub async fn alternate<F, Fut>(ctx: &Ctx, labels: [&str; 2], request: F) -> Result<[Tally; 2]>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let slices = slice_count(ctx.duration);
    let slice = ctx.duration / slices;
    let mut tallies = [Tally::default(), Tally::default()];
    let millis = u64::try_from(ctx.duration.as_millis()).unwrap_or(u64::MAX);
    ctx.progress.start(&format!("{} | {}", labels[0], labels[1]), millis);
    let started = Instant::now();
    for index in 0..slices {
        let kind = [0, 1, 1, 0][(index % 4) as usize];
        let slice_start = Instant::now();
        let end = slice_start + slice;
        let results = spawn_all(ctx.clients, |client| {
            let request = request.clone();
            async move {
                let mut tally = Tally::default();
                while Instant::now() < end {
                    let sent = Instant::now();
                    match request(kind, client).await {
                        Ok(()) => tally.success(sent.elapsed()),
                        Err(e) => {
                            tally.failure(e);
                            // A server that fails fast must not turn the slice into a spin.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                tally
            }
        })
        .await?;
        for tally in &results {
            tallies[kind].merge(tally);
        }
        tallies[kind].elapsed += slice_start.elapsed();
        ctx.progress.set(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    }
    Ok(tallies)
}

/// An even number of slices of 250 ms to 1 s (at least 2).
fn slice_count(duration: Duration) -> u32 {
    let target = (duration.as_secs_f64() / 0.5).round() as u32;
    let even = (target.clamp(2, 1200) / 2) * 2;
    even.max(2)
}

/// Fails the run when a measurement had no success at all (the server is down, or refuses).
pub fn require_success(what: &str, tally: &Tally) -> Result<()> {
    if tally.ok == 0 {
        let why = tally.first_error.as_deref().unwrap_or("nothing was sent");
        return Err(Error::Run(format!("every {what} failed: {why}")));
    }
    Ok(())
}

/// Now as unix nanoseconds (what `sent-at` annotations hold).
pub fn unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_even_and_about_half_a_second() {
        assert_eq!(slice_count(Duration::from_millis(100)), 2);
        assert_eq!(slice_count(Duration::from_secs(2)), 4);
        assert_eq!(slice_count(Duration::from_secs(10)), 20);
        assert_eq!(slice_count(Duration::from_millis(2600)), 4);
    }

    #[test]
    fn names_sort_in_creation_order() {
        let names = names("cm", 3);
        assert_eq!(names, ["cm-000000", "cm-000001", "cm-000002"]);
    }
}
