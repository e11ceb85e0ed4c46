//! The command line: clap flags in, a [`Config`] out; [`main`] is the whole binary (run, print
//! the table, exit non-zero with the error's message on failure).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, Config, Scenario, Target};
use crate::error::{Error, Result};

/// Drives a Kubernetes API server (kube-ledger or any other) with a bounded workload and
/// reports rates and latency percentiles.
#[derive(Debug, Parser)]
#[command(name = "kube-ledger-loadtest", version)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub scenario: Command,
}

/// Flags every scenario takes.
#[derive(Debug, Args)]
pub struct Common {
    /// Kubeconfig whose current context names the server (default: $KUBECONFIG).
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of its current one.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The server URL (https, or http), instead of a kubeconfig.
    #[arg(long, global = true)]
    pub server: Option<String>,
    /// Spread the clients over these API servers (replicas sharing the credentials of
    /// --kubeconfig or --server's flags, whose own URL they replace), comma-separated: client `i`
    /// uses server `i % n`. `reads` then also compares them with the first server alone.
    #[arg(long, global = true, value_delimiter = ',', value_name = "URL,URL")]
    pub servers: Vec<String>,
    /// A bearer token to send with --server.
    #[arg(long, global = true, env = "LOADTEST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM CA certificates to trust for an https --server (default: the system's).
    #[arg(long, global = true, value_name = "FILE")]
    pub certificate_authority: Option<PathBuf>,
    /// A PEM client certificate to present to --server (with --client-key).
    #[arg(long, global = true, value_name = "FILE", requires = "client_key")]
    pub client_certificate: Option<PathBuf>,
    /// The PEM key of --client-certificate.
    #[arg(long, global = true, value_name = "FILE", requires = "client_certificate")]
    pub client_key: Option<PathBuf>,
    /// Allow targets outside 127.0.0.0/8 and ::1.
    #[arg(long, global = true)]
    pub allow_remote: bool,
    /// Length of timed scenarios, upper bound of counted ones (e.g. 10s, 2m; at most 600s).
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Concurrent clients.
    #[arg(long, global = true, default_value_t = 8)]
    pub clients: usize,
    /// Write a JSON report here.
    #[arg(long, global = true)]
    pub report: Option<PathBuf>,
    /// Draw the latency histogram here (SVG).
    #[arg(long, global = true)]
    pub histogram: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The server's process id on this machine: CPU and RSS from /proc.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, update, delete N ConfigMaps; optionally the same against etcd.
    Writes {
        #[arg(long, default_value_t = 1000)]
        objects: usize,
        #[arg(long, default_value_t = 512)]
        value_bytes: usize,
        /// Also run the same writes straight against this system.
        #[arg(long)]
        baseline: Option<Baseline>,
        /// etcd endpoints of the baseline, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:2379")]
        etcd_endpoints: Vec<String>,
        /// Rounds the objects are split into (the side going first alternates).
        #[arg(long, default_value_t = 2)]
        rounds: usize,
    },
    /// GET of one object against GET /version.
    Reads {
        #[arg(long, default_value_t = 512)]
        value_bytes: usize,
    },
    /// GET /openapi/v2 with a current If-None-Match (a 304) against GET /version.
    Openapi,
    /// An unchanged server-side apply of a ConfigMap against a merge patch of the same keys.
    Apply {
        #[arg(long, default_value_t = 50)]
        keys: usize,
        #[arg(long, default_value_t = 32)]
        value_bytes: usize,
    },
    /// W watchers while a writer updates objects at E events/s.
    WatchFanout {
        #[arg(long, default_value_t = 100)]
        watchers: usize,
        /// Extra watchers that never read their stream.
        #[arg(long, default_value_t = 0)]
        stalled: usize,
        #[arg(long, default_value_t = 100.0)]
        events_per_sec: f64,
        /// Objects the writer updates in turn (one in-flight update per object: the write rate
        /// is at most objects / write latency).
        #[arg(long, default_value_t = 50)]
        objects: usize,
        #[arg(long, default_value_t = 512)]
        value_bytes: usize,
        /// Open the watchers, write nothing, report server memory per watcher.
        #[arg(long)]
        idle: bool,
        /// Watch requests in flight at once while opening.
        #[arg(long, default_value_t = 256)]
        open_concurrency: usize,
        /// Multiplex the watches over N HTTP/2 connections (as client-go does) instead of one
        /// HTTP/1.1 connection each; at most 250 watches per connection (kube-apiserver's cap).
        #[arg(long, value_name = "N")]
        http2: Option<usize>,
    },
    /// Bursts of W watchers opened then closed: server RSS idle, at peak and after each burst.
    WatchBurst {
        #[arg(long, default_value_t = 10_000)]
        watchers: usize,
        /// How many times the watchers are opened and closed.
        #[arg(long, default_value_t = 1)]
        bursts: usize,
        /// Updates written while the watchers are open (each delivered to every watcher).
        #[arg(long, default_value_t = 0)]
        writes: u64,
        /// Objects the updates go to, in turn.
        #[arg(long, default_value_t = 10)]
        objects: usize,
        #[arg(long, default_value_t = 512)]
        value_bytes: usize,
        /// How long RSS is followed after each burst closed (e.g. 30s).
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        settle: Duration,
        /// Watch requests in flight at once while opening.
        #[arg(long, default_value_t = 256)]
        open_concurrency: usize,
    },
    /// LIST of N objects, whole and paginated.
    List {
        #[arg(long, default_value_t = 1000)]
        objects: usize,
        #[arg(long, default_value_t = 100)]
        page_size: usize,
        #[arg(long, default_value_t = 512)]
        value_bytes: usize,
    },
    /// Informers (LIST + WATCH + cache) and writers; caches must converge to the server.
    Controller {
        #[arg(long, default_value_t = 10)]
        informers: usize,
        #[arg(long, default_value_t = 4)]
        writers: usize,
        #[arg(long, default_value_t = 100)]
        objects: usize,
        /// Total writes per second of all writers.
        #[arg(long, default_value_t = 200.0)]
        writes_per_sec: f64,
        #[arg(long, default_value_t = 512)]
        value_bytes: usize,
    },
}

/// Systems a baseline can run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Baseline {
    Etcd,
}

/// `10s`, `1m30s`, `500ms`, or a number of seconds.
fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|e| e.to_string());
    }
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

impl Cli {
    /// The run these flags describe.
    pub fn into_config(self) -> Result<Config> {
        let c = self.common;
        // --servers alone names the target too (its first URL, with --server's flags).
        let server = c
            .server
            .or_else(|| c.kubeconfig.is_none().then(|| c.servers.first().cloned()).flatten());
        let target = match (server, c.kubeconfig) {
            (Some(url), _) => Target::Server {
                url,
                token: c.token,
                tls: config::TlsFiles {
                    certificate_authority: c.certificate_authority,
                    client_certificate: c.client_certificate,
                    client_key: c.client_key,
                },
            },
            (None, Some(path)) => {
                // $KUBECONFIG may list several files; the first names the cluster here.
                let first = std::env::split_paths(&path).next().unwrap_or(path);
                Target::Kubeconfig { path: first, context: c.context }
            }
            (None, None) => {
                return Err(Error::Config("pass --server URL or --kubeconfig FILE".to_owned()));
            }
        };
        let scenario = match self.scenario {
            Command::Writes { objects, value_bytes, baseline, etcd_endpoints, rounds } => {
                Scenario::Writes(config::Writes {
                    objects,
                    value_bytes,
                    etcd_baseline: baseline.map(|Baseline::Etcd| etcd_endpoints),
                    rounds,
                })
            }
            Command::Reads { value_bytes } => Scenario::Reads(config::Reads { value_bytes }),
            Command::Openapi => Scenario::Openapi,
            Command::Apply { keys, value_bytes } => {
                Scenario::Apply(config::ApplyParams { keys, value_bytes })
            }
            Command::WatchFanout {
                watchers,
                stalled,
                events_per_sec,
                objects,
                value_bytes,
                idle,
                open_concurrency,
                http2,
            } => Scenario::WatchFanout(config::WatchFanout {
                watchers,
                stalled,
                events_per_sec: if idle { 0.0 } else { events_per_sec },
                objects,
                value_bytes,
                idle,
                open_concurrency,
                http2_connections: http2,
            }),
            Command::WatchBurst {
                watchers,
                bursts,
                writes,
                objects,
                value_bytes,
                settle,
                open_concurrency,
            } => Scenario::WatchBurst(config::WatchBurst {
                watchers,
                bursts,
                writes,
                objects,
                value_bytes,
                settle,
                open_concurrency,
            }),
            Command::List { objects, page_size, value_bytes } => {
                Scenario::List(config::ListParams { objects, page_size, value_bytes })
            }
            Command::Controller { informers, writers, objects, writes_per_sec, value_bytes } => {
                Scenario::Controller(config::Controller {
                    informers,
                    writers,
                    objects,
                    writes_per_sec,
                    value_bytes,
                })
            }
        };
        let mut config = Config::new(target, scenario);
        config.allow_remote = c.allow_remote;
        config.duration = c.duration;
        config.clients = c.clients;
        config.report = c.report;
        config.histogram = c.histogram;
        config.progress = !c.quiet;
        config.server_pid = c.server_pid;
        config.servers = c.servers;
        config.validate()?;
        Ok(config)
    }
}

/// The binary: parse, run, print; exit code 1 with the error on failure.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.into_config() {
        Ok(config) => crate::run(config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => {
            print!("{}", report.table());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kube-ledger-loadtest: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config> {
        let cli = Cli::try_parse_from(
            std::iter::once("kube-ledger-loadtest").chain(args.iter().copied()),
        )
        .map_err(|e| Error::Config(e.to_string()))?;
        cli.into_config()
    }

    #[test]
    fn writes_with_an_etcd_baseline() {
        let config = parse(&[
            "writes",
            "--server",
            "http://127.0.0.1:6443",
            "--objects",
            "200",
            "--clients",
            "8",
            "--baseline",
            "etcd",
            "--etcd-endpoints",
            "http://127.0.0.1:2379,127.0.0.1:2380",
            "--duration",
            "30s",
        ])
        .unwrap();
        assert_eq!(config.clients, 8);
        assert_eq!(config.duration, Duration::from_secs(30));
        let Scenario::Writes(writes) = config.scenario else { panic!("not writes") };
        assert_eq!(writes.objects, 200);
        assert_eq!(writes.value_bytes, 512);
        assert_eq!(writes.etcd_baseline.unwrap(), ["http://127.0.0.1:2379", "127.0.0.1:2380"]);
    }

    #[test]
    fn reads_spread_over_several_servers() {
        let servers = "https://127.0.0.1:17001,https://127.0.0.1:17002";
        let config = parse(&["reads", "--servers", servers, "--clients", "16"]).unwrap();
        assert_eq!(config.servers, ["https://127.0.0.1:17001", "https://127.0.0.1:17002"]);
        let Target::Server { url, .. } = &config.target else { panic!("not --server") };
        assert_eq!(url, "https://127.0.0.1:17001");
        let with_kubeconfig =
            parse(&["reads", "--kubeconfig", "/k", "--servers", servers]).unwrap();
        assert!(matches!(with_kubeconfig.target, Target::Kubeconfig { .. }));
        assert_eq!(with_kubeconfig.servers.len(), 2);
        let writes = parse(&["writes", "--servers", servers]);
        assert!(writes.unwrap_err().to_string().contains("reads scenario only"));
    }

    #[test]
    fn durations_and_bounds() {
        assert_eq!(parse_duration("2.5").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("soon").is_err());
        let too_long = parse(&["reads", "--server", "http://127.0.0.1:1", "--duration", "1h"]);
        assert!(too_long.unwrap_err().to_string().contains("--duration"));
    }

    #[test]
    fn idle_watch_fanout_writes_nothing() {
        let config = parse(&[
            "watch-fanout",
            "--server",
            "http://127.0.0.1:1",
            "--idle",
            "--watchers",
            "10000",
        ])
        .unwrap();
        let Scenario::WatchFanout(w) = config.scenario else { panic!("not watch-fanout") };
        assert!(w.idle);
        assert_eq!((w.watchers, w.events_per_sec), (10_000, 0.0));
        assert_eq!(w.http2_connections, None);
    }

    #[test]
    fn watch_fanout_multiplexes_over_http2_connections() {
        let args = ["watch-fanout", "--server", "http://127.0.0.1:1", "--watchers", "1000"];
        let config = parse(&[&args[..], &["--http2", "4"]].concat()).unwrap();
        let Scenario::WatchFanout(w) = config.scenario else { panic!("not watch-fanout") };
        assert_eq!(w.http2_connections, Some(4));
        let too_few = parse(&[&args[..], &["--http2", "3"]].concat()).unwrap_err();
        assert!(too_few.to_string().contains("at least 4 connections"), "{too_few}");
    }
}
