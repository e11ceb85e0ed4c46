//! A load generator for any Kubernetes API server (kube-ledger, kube-apiserver, …) over
//! HTTP/1.1 (and watches over HTTP/2 on request), with an optional etcd baseline for writes.
//!
//! # Layout
//!
//! A run flows top to bottom:
//!
//! - [`cli`] turns command-line flags into a [`Config`] (the binary is only `cli::main`);
//!   [`config`] holds the bounds every run must respect.
//! - [`run`] resolves the target ([`kubeconfig`], then [`target`]: loopback only unless
//!   `--allow-remote`; `--servers` gives several replicas' URLs with the target's credentials),
//!   checks every server answers ([`api`]), creates the run's namespace (on the first),
//!   samples the server's CPU and memory ([`usage`]), runs one scenario, deletes the namespace.
//! - [`scenario`] has one module per workload: `writes` (with the [`etcd`] baseline), `reads`,
//!   `watch_fanout`, `watch_burst` (server memory around bursts of
//!   watchers), `list`, `controller`; the watch scenarios and the last two read watch streams through
//!   `scenario::stream`. Each task records latencies in its own [`stats::Tally`]; the scenario
//!   merges them into a [`Report`].
//! - [`report`] renders the table and the JSON; [`svg`] draws the latency histogram;
//!   [`progress`] shows a bar on a terminal.

pub mod api;
pub mod cli;
pub mod config;
pub mod error;
pub mod etcd;
pub mod fds;
pub mod kubeconfig;
pub mod progress;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod svg;
pub mod target;
pub mod tls;
pub mod usage;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use config::{Config, Scenario, Target};
pub use error::{Error, Result};
pub use report::Report;

use crate::api::Api;
use crate::scenario::Ctx;
use crate::usage::Probe;

/// Runs one scenario against the configured server and returns its report; writes the JSON
/// report and the SVG histogram when the configuration asks for them.
pub async fn run(config: Config) -> Result<Report> {
    config.validate()?;
    let started = Instant::now();
    let endpoint = match &config.target {
        Target::Server { url, token, tls } => {
            kubeconfig::Endpoint { server: url.clone(), token: token.clone(), tls: tls.load()? }
        }
        Target::Kubeconfig { path, context } => kubeconfig::load(path, context.as_deref())?,
    };
    let urls = if config.servers.is_empty() {
        std::slice::from_ref(&endpoint.server)
    } else {
        &config.servers[..]
    };
    let mut apis = Vec::with_capacity(urls.len());
    for url in urls {
        let url = target::api_server(url, config.allow_remote).await?;
        let api = Api::new(&url, endpoint.token.as_deref(), &endpoint.tls)?;
        api.check_reachable().await?;
        apis.push(api);
    }
    let api = apis[0].clone();
    let mut report = Report::new(config.scenario.name(), api.base(), config.parameters());
    let needed_files = scenario::connections_needed(&config) as u64 + 256;
    let limit = fds::raise_nofile(needed_files)?;
    tracing::debug!(limit, needed_files, "open-file limit");

    let run_id = run_id();
    let namespace = format!("loadtest-{}-{run_id}", config.scenario.name());
    api.create_namespace(&namespace).await?;
    let probe = Probe::choose(config.server_pid, &api).await;
    let ctx = Ctx::new(&config, apis, namespace.clone(), run_id, probe.clone());

    let client = Probe::Proc(std::process::id());
    let (before, client_before) = (probe.sample().await, client.sample().await);
    let measured = Instant::now();
    let outcome = scenario::run(&ctx, &config, &mut report).await;
    let (after, client_after) = (probe.sample().await, client.sample().await);
    report.server_usage = probe.usage(before, after, measured.elapsed());
    report.client_usage = client.usage(client_before, client_after, measured.elapsed());
    if matches!(probe, Probe::None) {
        report.notes.push(
            "server cpu/rss n/a: no --server-pid and no process metrics at /metrics".to_owned(),
        );
    }
    ctx.progress.finish();
    let cleanup = api.delete_namespace(&namespace).await;
    outcome?;
    if let Err(e) = cleanup {
        report.notes.push(format!("the run's namespace {namespace} was not deleted: {e}"));
    }
    report.wall_seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &config.report {
        report.write_json(path)?;
    }
    if let Some(path) = &config.histogram {
        svg::draw(path, &report)?;
    }
    Ok(report)
}

/// A short id, unique enough to keep concurrent runs' namespaces and etcd keys apart.
fn run_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{:08x}", mixed & 0xffff_ffff)
}
