//! What a run is asked to do: the target, the bounds and one [`Scenario`] with its parameters.
//! The CLI (`cli.rs`) and tests build a [`Config`]; [`Config::validate`] enforces the bounds
//! before anything is sent.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
pub use crate::tls::TlsFiles;

/// The longest run allowed: every run stops by itself.
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// Upper bounds of the counts, so a typo cannot start an unbounded run.
pub const MAX_OBJECTS: usize = 1_000_000;
pub const MAX_CLIENTS: usize = 4_096;
pub const MAX_WATCHERS: usize = 50_000;
pub const MAX_EVENTS_PER_SEC: f64 = 100_000.0;

/// Which API server to drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Target {
    /// A server URL, e.g. `https://127.0.0.1:6443`, with an optional bearer token and, for
    /// https, the CA to trust and a client certificate.
    Server {
        url: String,
        #[serde(skip)]
        token: Option<String>,
        tls: TlsFiles,
    },
    /// The current (or named) context of a kubeconfig file.
    Kubeconfig { path: PathBuf, context: Option<String> },
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    /// Without it, every target must resolve to 127.0.0.0/8 or ::1.
    pub allow_remote: bool,
    /// Upper bound of the run's measured part (and its length, for time-based scenarios).
    pub duration: Duration,
    /// Concurrent clients for writes, reads, lists and setup.
    pub clients: usize,
    /// Where to write the JSON report.
    pub report: Option<PathBuf>,
    /// Where to draw the latency histogram (SVG).
    pub histogram: Option<PathBuf>,
    /// Show a progress bar on stderr (only if it is a terminal and the run is long enough).
    pub progress: bool,
    /// The server's process id on this machine, for CPU and memory from /proc.
    pub server_pid: Option<u32>,
    /// Several replicas of one API server (`--servers`), reached with the target's credentials
    /// instead of its one URL; the first is "one server" in the comparisons. Empty: the target's
    /// URL alone.
    pub servers: Vec<String>,
    pub scenario: Scenario,
}

/// The workload.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "scenario", rename_all = "kebab-case")]
pub enum Scenario {
    Writes(Writes),
    Reads(Reads),
    /// `/openapi/v2` answered 304 against `/version`.
    Openapi,
    /// An unchanged server-side apply against a merge patch of the same object.
    Apply(ApplyParams),
    WatchFanout(WatchFanout),
    WatchBurst(WatchBurst),
    List(ListParams),
    Controller(Controller),
}

/// Create, update, then delete `objects` ConfigMaps with `clients` clients.
#[derive(Debug, Clone, Serialize)]
pub struct Writes {
    pub objects: usize,
    pub value_bytes: usize,
    /// Also run the same pattern straight against etcd at these endpoints.
    pub etcd_baseline: Option<Vec<String>>,
    /// The run is split into this many rounds; the side that goes first alternates.
    pub rounds: usize,
}

/// GET of one object against GET of `/version`.
#[derive(Debug, Clone, Serialize)]
pub struct Reads {
    pub value_bytes: usize,
}

/// `apply`: one ConfigMap of `keys` data keys of `value_bytes` each.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyParams {
    pub keys: usize,
    pub value_bytes: usize,
}

/// Watchers of one namespace while a writer updates its objects.
#[derive(Debug, Clone, Serialize)]
pub struct WatchFanout {
    pub watchers: usize,
    /// Extra watchers that never read their stream.
    pub stalled: usize,
    /// Updates per second (0 with `idle`).
    pub events_per_sec: f64,
    /// Objects the writer updates in turn.
    pub objects: usize,
    pub value_bytes: usize,
    /// Open the watchers, write nothing, report memory per watcher.
    pub idle: bool,
    /// Watch requests in flight at once while opening.
    pub open_concurrency: usize,
    /// Multiplex the watches (and the stalled ones) over this many HTTP/2 connections, watcher
    /// `i` on connection `i % n`, as client-go does; `None`: each watch its own HTTP/1.1
    /// connection.
    pub http2_connections: Option<usize>,
}

/// Watch streams one HTTP/2 connection of the load generator may carry: kube-apiserver's cap
/// (`--http2-max-streams-per-connection` 0, so Go's default of 250), so a run that fits it works
/// against either server (kube-ledger allows 1,000, as kube's aggregated API servers).
pub const MAX_STREAMS_PER_CONNECTION: usize = 250;

/// Bursts of watchers opened and closed; the server's memory before, during and after.
#[derive(Debug, Clone, Serialize)]
pub struct WatchBurst {
    pub watchers: usize,
    /// How many times the watchers are opened and closed.
    pub bursts: usize,
    /// Updates written while each burst's watchers are open (each delivered to every watcher).
    pub writes: u64,
    /// Objects the updates go to, in turn.
    pub objects: usize,
    pub value_bytes: usize,
    /// How long memory is followed after each burst closed (seconds, in the JSON).
    #[serde(serialize_with = "seconds")]
    pub settle: Duration,
    /// Watch requests in flight at once while opening.
    pub open_concurrency: usize,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// LIST of `objects` objects, whole and in pages.
#[derive(Debug, Clone, Serialize)]
pub struct ListParams {
    pub objects: usize,
    pub page_size: usize,
    pub value_bytes: usize,
}

/// Informers (LIST + WATCH + local cache) and writers.
#[derive(Debug, Clone, Serialize)]
pub struct Controller {
    pub informers: usize,
    pub writers: usize,
    /// Names the writers create, update and delete in turn.
    pub objects: usize,
    /// Total writes per second of all writers.
    pub writes_per_sec: f64,
    pub value_bytes: usize,
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Writes(_) => "writes",
            Scenario::Reads(_) => "reads",
            Scenario::Openapi => "openapi",
            Scenario::Apply(_) => "apply",
            Scenario::WatchFanout(_) => "watch-fanout",
            Scenario::WatchBurst(_) => "watch-burst",
            Scenario::List(_) => "list",
            Scenario::Controller(_) => "controller",
        }
    }
}

impl Config {
    /// A configuration with the CLI's defaults for everything but the target and scenario.
    pub fn new(target: Target, scenario: Scenario) -> Config {
        Config {
            target,
            allow_remote: false,
            duration: Duration::from_secs(10),
            clients: 8,
            report: None,
            histogram: None,
            progress: false,
            server_pid: None,
            servers: Vec::new(),
            scenario,
        }
    }

    /// Checks every bound; an error names the offending parameter.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            return bad(format!(
                "--duration must be between 1 ms and {} s",
                MAX_DURATION.as_secs()
            ));
        }
        if self.clients == 0 || self.clients > MAX_CLIENTS {
            return bad(format!("--clients must be between 1 and {MAX_CLIENTS}"));
        }
        if !self.servers.is_empty() {
            if !matches!(self.scenario, Scenario::Reads(_)) {
                return bad("--servers is supported by the reads scenario only".to_owned());
            }
            if self.servers.len() > self.clients {
                return bad("--servers: at least one client per server (--clients)".to_owned());
            }
        }
        let objects = |n: usize, flag: &str| {
            if n == 0 || n > MAX_OBJECTS {
                Err(Error::Config(format!("{flag} must be between 1 and {MAX_OBJECTS}")))
            } else {
                Ok(())
            }
        };
        let value_bytes = |n: usize| {
            if n > 1 << 20 {
                Err(Error::Config("--value-bytes must be at most 1 MiB".to_owned()))
            } else {
                Ok(())
            }
        };
        match &self.scenario {
            Scenario::Writes(w) => {
                objects(w.objects, "--objects")?;
                value_bytes(w.value_bytes)?;
                if w.rounds == 0 || w.rounds > w.objects {
                    return bad("--rounds must be between 1 and --objects".to_owned());
                }
                if w.etcd_baseline.as_ref().is_some_and(Vec::is_empty) {
                    return bad("--baseline etcd needs --etcd-endpoints".to_owned());
                }
            }
            Scenario::Reads(r) => value_bytes(r.value_bytes)?,
            Scenario::Openapi => {}
            Scenario::Apply(a) => {
                value_bytes(a.value_bytes)?;
                if a.keys == 0 || a.keys > 10_000 {
                    return bad("--keys must be between 1 and 10000".to_owned());
                }
            }
            Scenario::WatchFanout(w) => {
                value_bytes(w.value_bytes)?;
                objects(w.objects, "--objects")?;
                if w.watchers == 0 || w.watchers + w.stalled > MAX_WATCHERS {
                    return bad(format!(
                        "--watchers (+ --stalled) must be between 1 and {MAX_WATCHERS}"
                    ));
                }
                if w.open_concurrency == 0 {
                    return bad("--open-concurrency must be at least 1".to_owned());
                }
                let rate_ok = w.events_per_sec.is_finite()
                    && w.events_per_sec >= 0.0
                    && w.events_per_sec <= MAX_EVENTS_PER_SEC;
                if !rate_ok {
                    return bad(format!(
                        "--events-per-sec must be between 0 and {MAX_EVENTS_PER_SEC}"
                    ));
                }
                if !w.idle && w.events_per_sec == 0.0 {
                    return bad("--events-per-sec 0 is --idle".to_owned());
                }
                if let Some(connections) = w.http2_connections {
                    let streams = w.watchers + w.stalled;
                    let needed = streams.div_ceil(MAX_STREAMS_PER_CONNECTION);
                    if connections == 0 || connections > streams {
                        return bad("--http2 must be between 1 and the watchers".to_owned());
                    }
                    if connections < needed {
                        return bad(format!(
                            "--http2 {connections}: {streams} watches need at least {needed} \
                             connections of {MAX_STREAMS_PER_CONNECTION} streams each"
                        ));
                    }
                }
            }
            Scenario::WatchBurst(w) => {
                value_bytes(w.value_bytes)?;
                objects(w.objects, "--objects")?;
                if w.watchers == 0 || w.watchers > MAX_WATCHERS {
                    return bad(format!("--watchers must be between 1 and {MAX_WATCHERS}"));
                }
                if w.bursts == 0 || w.bursts > 100 {
                    return bad("--bursts must be between 1 and 100".to_owned());
                }
                if w.writes > MAX_OBJECTS as u64 {
                    return bad(format!("--writes must be at most {MAX_OBJECTS}"));
                }
                if w.settle.is_zero() || w.settle > MAX_DURATION {
                    return bad(format!(
                        "--settle must be between 1 ms and {} s",
                        MAX_DURATION.as_secs()
                    ));
                }
                if w.open_concurrency == 0 {
                    return bad("--open-concurrency must be at least 1".to_owned());
                }
            }
            Scenario::List(l) => {
                objects(l.objects, "--objects")?;
                value_bytes(l.value_bytes)?;
                if l.page_size == 0 {
                    return bad("--page-size must be at least 1".to_owned());
                }
            }
            Scenario::Controller(c) => {
                objects(c.objects, "--objects")?;
                value_bytes(c.value_bytes)?;
                if c.informers == 0 || c.informers > MAX_WATCHERS {
                    return bad(format!("--informers must be between 1 and {MAX_WATCHERS}"));
                }
                if c.writers == 0 || c.writers > MAX_CLIENTS {
                    return bad(format!("--writers must be between 1 and {MAX_CLIENTS}"));
                }
                let rate_ok = c.writes_per_sec.is_finite()
                    && c.writes_per_sec > 0.0
                    && c.writes_per_sec <= MAX_EVENTS_PER_SEC;
                if !rate_ok {
                    return bad(format!(
                        "--writes-per-sec must be above 0 and at most {MAX_EVENTS_PER_SEC}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The parameters as the report shows them.
    pub fn parameters(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.scenario).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("duration_seconds".to_owned(), self.duration.as_secs_f64().into());
            map.insert("clients".to_owned(), self.clients.into());
            if !self.servers.is_empty() {
                map.insert("servers".to_owned(), self.servers.clone().into());
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads() -> Config {
        Config::new(
            Target::Server {
                url: "http://127.0.0.1:1".to_owned(),
                token: None,
                tls: TlsFiles::default(),
            },
            Scenario::Reads(Reads { value_bytes: 10 }),
        )
    }

    #[test]
    fn bounds_are_enforced() {
        reads().validate().unwrap();
        let mut long = reads();
        long.duration = Duration::from_secs(601);
        assert!(long.validate().unwrap_err().to_string().contains("--duration"));
        let mut none = reads();
        none.clients = 0;
        assert!(none.validate().is_err());
        let mut watch = reads();
        watch.scenario = Scenario::WatchFanout(WatchFanout {
            watchers: 10,
            stalled: 0,
            events_per_sec: f64::NAN,
            objects: 1,
            value_bytes: 1,
            idle: false,
            open_concurrency: 1,
            http2_connections: None,
        });
        assert!(watch.validate().unwrap_err().to_string().contains("--events-per-sec"));
    }

    #[test]
    fn several_servers_are_for_reads_with_a_client_each() {
        let mut spread = reads();
        spread.servers = vec!["https://127.0.0.1:1".to_owned(), "https://127.0.0.2:1".to_owned()];
        spread.validate().unwrap();
        assert_eq!(spread.parameters()["servers"][1], "https://127.0.0.2:1");
        spread.clients = 1;
        assert!(spread.validate().unwrap_err().to_string().contains("one client per server"));
        let mut openapi = reads();
        openapi.servers = vec!["https://127.0.0.1:1".to_owned()];
        openapi.scenario = Scenario::Openapi;
        assert!(openapi.validate().unwrap_err().to_string().contains("reads scenario only"));
    }

    #[test]
    fn http2_watches_fit_kube_apiservers_streams_per_connection() {
        let fanout = |watchers, stalled, http2_connections| {
            let mut config = reads();
            config.scenario = Scenario::WatchFanout(WatchFanout {
                watchers,
                stalled,
                events_per_sec: 0.0,
                objects: 1,
                value_bytes: 1,
                idle: true,
                open_concurrency: 1,
                http2_connections,
            });
            config.validate().map_err(|e| e.to_string())
        };
        assert!(fanout(10_000, 0, None).is_ok());
        assert!(fanout(10_000, 0, Some(40)).is_ok());
        assert!(fanout(1, 0, Some(1)).is_ok());
        let too_few = fanout(10_000, 1, Some(40)).unwrap_err();
        assert!(too_few.contains("at least 41 connections"), "{too_few}");
        assert!(fanout(10, 0, Some(0)).unwrap_err().contains("--http2"));
        assert!(fanout(10, 0, Some(11)).unwrap_err().contains("--http2"));
    }

    #[test]
    fn parameters_name_the_scenario() {
        let parameters = reads().parameters();
        assert_eq!(parameters["scenario"], "reads");
        assert_eq!(parameters["value_bytes"], 10);
        assert_eq!(parameters["duration_seconds"], 10.0);
    }
}
