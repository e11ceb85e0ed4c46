//! A real etcd for tests and benches: one private single-member etcd per [`TestEtcd`], on free
//! loopback ports with a temporary data directory, killed when dropped.
//!
//! Included by the integration tests (`support::etcd`) and by `benches/storage_append.rs`
//! (`#[path]`), each of which uses a different part of it.
#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etcd_client::{Client, ConnectOptions, GetOptions};
use tempfile::TempDir;

/// How long etcd gets to answer after being started.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// Where Debian's `etcd-server` installs etcd.
const DEBIAN_ETCD: &str = "/usr/bin/etcd";

/// A running (or stopped) private etcd.
pub struct TestEtcd {
    binary: PathBuf,
    /// Holds the data directory (`data/`) and etcd's log (`etcd.log`); removed on drop.
    dir: TempDir,
    client_port: u16,
    peer_port: u16,
    /// Extra command-line flags, kept so that a restart runs etcd the same way.
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl TestEtcd {
    /// Starts etcd on two free 127.0.0.1 ports with a fresh data directory and waits until it
    /// answers.
    pub async fn start() -> TestEtcd {
        TestEtcd::start_with_args(&[]).await
    }

    /// Like [`TestEtcd::start`] with extra etcd flags, e.g.
    /// `--experimental-watch-progress-notify-interval=1s`.
    pub async fn start_with_args(extra_args: &[&str]) -> TestEtcd {
        let binary = etcd_binary().unwrap_or_else(|| {
            panic!(
                "etcd is not installed: run `apt-get install etcd-server` (Debian's etcd 3.4) \
                 or scripts/test, which installs it"
            )
        });
        let extra_args: Vec<String> = extra_args.iter().map(|a| a.to_string()).collect();
        // Another process may grab a port between choosing it and etcd binding it: try again
        // with new ports when etcd exits during startup.
        let mut last_log = String::new();
        for _ in 0..3 {
            let (client_port, peer_port) = free_ports();
            let mut etcd = TestEtcd {
                binary: binary.clone(),
                dir: tempfile::tempdir().expect("create etcd temp dir"),
                client_port,
                peer_port,
                extra_args: extra_args.clone(),
                child: None,
            };
            match etcd.launch().await {
                Ok(()) => return etcd,
                Err(log) => last_log = log,
            }
        }
        panic!("etcd did not start; its log:\n{last_log}");
    }

    /// `http://127.0.0.1:PORT`, for `--etcd-servers` and etcd clients.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// Kills etcd and waits until the process is gone (its ports are then free).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
    }

    /// Starts etcd again on the same ports and data directory and waits until it answers.
    pub async fn restart(&mut self) {
        self.stop().await;
        if let Err(log) = self.launch().await {
            panic!("etcd did not restart; its log:\n{log}");
        }
    }

    /// Spawns etcd and waits until it serves a read; on failure returns its log.
    async fn launch(&mut self) -> Result<(), String> {
        let log_path = self.dir.path().join("etcd.log");
        let log =
            File::options().create(true).append(true).open(&log_path).expect("create etcd log");
        let log_err = log.try_clone().expect("clone etcd log handle");
        let client_url = self.endpoint();
        let peer_url = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new(&self.binary)
            .args(["--name", "default"])
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen-client-urls", &client_url])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("default={peer_url}")])
            .args(["--logger", "zap", "--log-level", "warn", "--log-outputs", "stderr"])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        self.child = Some(child);
        if self.wait_ready().await {
            Ok(())
        } else {
            self.stop().await;
            Err(std::fs::read_to_string(&log_path).unwrap_or_default())
        }
    }

    /// Polls with a real etcd request until one succeeds; false when etcd exits or stays silent.
    async fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_WITHIN;
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_millis(500))
            .with_timeout(Duration::from_secs(1));
        while Instant::now() < deadline {
            let running = matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)));
            if !running {
                return false;
            }
            let probe = async {
                let mut client = Client::connect([self.endpoint()], Some(options.clone())).await?;
                client.get("health", Some(GetOptions::new().with_count_only())).await
            };
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), probe).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
    }
}

impl std::fmt::Debug for TestEtcd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEtcd")
            .field("endpoint", &self.endpoint())
            .field("dir", &self.dir.path())
            .field("running", &self.child.is_some())
            .finish()
    }
}

/// SIGKILL, then reap: an acknowledged write is on disk (etcd syncs before answering), so a
/// kill loses nothing a client was told about.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `/usr/bin/etcd`, or `etcd` on `PATH`.
fn etcd_binary() -> Option<PathBuf> {
    if Path::new(DEBIAN_ETCD).is_file() {
        return Some(PathBuf::from(DEBIAN_ETCD));
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("etcd"))
        .find(|candidate| candidate.is_file())
}

/// Two distinct free loopback ports: both are bound at once so they differ, then released.
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("local address").port();
    (port(&a), port(&b))
}
