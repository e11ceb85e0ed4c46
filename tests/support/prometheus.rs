//! A real Prometheus for tests: one private server per [`TestPrometheus`], on a free loopback
//! port with a temporary directory for its configuration and TSDB, scraping one HTTPS target
//! every second (trusting the target's CA, with a bearer token, as Prometheus scrapes
//! kube-apiserver), killed when dropped. Also finds `promtool` for the tests that lint with it.
//!
//! Both binaries come from Debian's `prometheus` package (`scripts/install-deps` installs it); a
//! missing one fails the test with that hint rather than skipping it.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// How long Prometheus gets to report ready after being started.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// The job name of the one scrape configuration: the `job` label of every scraped series.
pub const JOB: &str = "kube-ledger";

/// How Prometheus reaches the target: over HTTPS trusting `ca_pem`, sending `bearer_token`.
#[derive(Debug, Clone)]
pub struct ScrapeAuth {
    pub ca_pem: String,
    pub bearer_token: String,
}

/// A running private Prometheus scraping one target.
pub struct TestPrometheus {
    /// Holds `prometheus.yml`, the TSDB (`data/`) and the log (`prometheus.log`); removed on
    /// drop.
    dir: TempDir,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Option<Child>,
    http: reqwest::Client,
}

impl TestPrometheus {
    /// Starts Prometheus scraping `target` (`host:port`, path `/metrics`, over HTTPS with
    /// `auth`) every second, with `rule_files` loaded (evaluated every second), and waits until
    /// `/-/ready` answers.
    pub async fn scraping(target: &str, auth: &ScrapeAuth, rule_files: &[&Path]) -> TestPrometheus {
        let binary = installed("prometheus");
        let rules: Vec<String> = rule_files
            .iter()
            .map(|p| {
                let p = p.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                format!("  - {:?}\n", p.display().to_string())
            })
            .collect();
        // The CA and token files live beside the configuration (written per attempt below).
        let config = |dir: &Path| {
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n{}\
                 scrape_configs:\n  - job_name: {JOB}\n    metrics_path: /metrics\n    \
                 scheme: https\n    tls_config:\n      ca_file: {:?}\n    \
                 authorization:\n      credentials_file: {:?}\n    \
                 static_configs:\n      - targets: [{target:?}]\n",
                if rules.is_empty() { "  []\n".to_owned() } else { rules.concat() },
                dir.join("ca.crt").display().to_string(),
                dir.join("token").display().to_string(),
            )
        };
        // Another process may take the port between choosing it and Prometheus binding it: try
        // again on a new port when Prometheus exits during startup.
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("create prometheus temp dir");
            std::fs::write(dir.path().join("ca.crt"), &auth.ca_pem).unwrap();
            std::fs::write(dir.path().join("token"), &auth.bearer_token).unwrap();
            std::fs::write(dir.path().join("prometheus.yml"), config(dir.path())).unwrap();
            let port = free_port();
            let mut prometheus = TestPrometheus {
                dir,
                url: format!("http://127.0.0.1:{port}"),
                child: None,
                http: super::tls::plain_client(),
            };
            match prometheus.launch(&binary, port).await {
                Ok(()) => return prometheus,
                Err(log) => last_log = log,
            }
        }
        let config = config(Path::new("<dir>"));
        panic!("prometheus did not start; its configuration:\n{config}\nits log:\n{last_log}");
    }

    /// Spawns Prometheus and waits until it is ready; on failure returns its log.
    async fn launch(&mut self, binary: &Path, port: u16) -> Result<(), String> {
        let log_path = self.dir.path().join("prometheus.log");
        let log = File::create(&log_path).expect("create prometheus log");
        let log_err = log.try_clone().expect("clone prometheus log handle");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", self.dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", self.dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            let running = matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)));
            if !running {
                break;
            }
            let ready = self.http.get(format!("{}/-/ready", self.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
        Err(std::fs::read_to_string(&log_path).unwrap_or_default())
    }

    /// Evaluates `promql` at the current time through `/api/v1/query`: the `data` of a
    /// `success` answer, or the error Prometheus gave (type and message).
    pub async fn query(&self, promql: &str) -> Result<Value, String> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query", self.url),
            [("query", promql)],
        )
        .map_err(|e| format!("bad URL: {e}"))?;
        let response =
            self.http.get(url).send().await.map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body: Value =
            response.json().await.map_err(|e| format!("HTTP {status}, body not JSON: {e}"))?;
        match body["status"].as_str() {
            Some("success") => Ok(body["data"].clone()),
            _ => Err(format!("HTTP {status}: {} {}", body["errorType"], body["error"])),
        }
    }

    /// `GET /api/v1/<path>` (e.g. `targets`, `rules`); the `data` of the answer.
    pub async fn api(&self, path: &str) -> Value {
        let body: Value = self
            .http
            .get(format!("{}/api/v1/{path}", self.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /api/v1/{path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET /api/v1/{path}: not JSON: {e}"));
        assert_eq!(body["status"], "success", "GET /api/v1/{path}: {body}");
        body["data"].clone()
    }

    /// Waits until Prometheus holds at least `samples` samples of `series` (an instant vector
    /// selector) within the last minute; panics with the scrape target's state after `within`.
    pub async fn wait_for_samples(&self, series: &str, samples: usize, within: Duration) {
        let query = format!("count_over_time({series}[1m])");
        let deadline = Instant::now() + within;
        loop {
            let count = self.query(&query).await.ok().and_then(|data| {
                data["result"]
                    .as_array()?
                    .iter()
                    .filter_map(|r| r["value"][1].as_str()?.parse::<f64>().ok())
                    .reduce(f64::max)
            });
            if count.is_some_and(|c| c >= samples as f64) {
                return;
            }
            if Instant::now() > deadline {
                let targets = self.api("targets").await;
                panic!(
                    "prometheus holds fewer than {samples} samples of {series} after {within:?} \
                     (last count {count:?}); its targets: {targets}\nits log:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// What Prometheus has logged so far (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for TestPrometheus {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
    }
}

impl std::fmt::Debug for TestPrometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPrometheus")
            .field("url", &self.url)
            .field("dir", &self.dir.path())
            .field("running", &self.child.is_some())
            .finish()
    }
}

/// `/usr/bin/promtool`, or `promtool` on `PATH`; a missing one fails the test.
pub fn promtool() -> PathBuf {
    installed("promtool")
}

/// `/usr/bin/<name>` (where Debian's `prometheus` package puts it) or `<name>` on `PATH`; panics
/// with the install command when it is neither.
fn installed(name: &str) -> PathBuf {
    let debian = Path::new("/usr/bin").join(name);
    if debian.is_file() {
        return debian;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: run `sudo apt-get install prometheus` (Debian's \
                 package has prometheus and promtool) or scripts/install-deps, which installs it"
            )
        })
}

/// SIGKILL, then reap: the TSDB is a throwaway.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A free loopback port: bound, read, released.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}
