//! A real etcd for tests and benches: one private single-member etcd per [`TestEtcd`], or a
//! private cluster of several members per [`TestEtcdCluster`], on free loopback ports with
//! temporary data directories, killed when dropped.
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
use futures::future::join_all;
use tempfile::TempDir;

/// How long etcd gets to answer after being started.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// Where Debian's `etcd-server` installs etcd.
const DEBIAN_ETCD: &str = "/usr/bin/etcd";

/// A running (or stopped) private etcd: a single-member cluster, or one member of a
/// [`TestEtcdCluster`].
pub struct TestEtcd {
    binary: PathBuf,
    /// Holds the data directory (`data/`) and etcd's log (`etcd.log`); removed on drop.
    dir: TempDir,
    /// The member's name (`--name`).
    name: String,
    client_port: u16,
    peer_port: u16,
    /// Every member's `name=peer URL` (`--initial-cluster`); just this one for a single member.
    initial_cluster: String,
    /// Tells this cluster's members from those of other tests that may reuse its ports.
    cluster_token: String,
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
        let binary = installed_etcd();
        let extra_args: Vec<String> = extra_args.iter().map(|a| a.to_string()).collect();
        // Another process may grab a port between choosing it and etcd binding it: try again
        // with new ports when etcd exits during startup.
        let mut last_log = String::new();
        for _ in 0..3 {
            let ports = free_ports(2);
            let mut etcd = TestEtcd::member(&binary, "default", ports[0], ports[1]);
            etcd.extra_args = extra_args.clone();
            etcd.initial_cluster = etcd.peer_member();
            match etcd.launch().await {
                Ok(()) => return etcd,
                Err(log) => last_log = log,
            }
        }
        panic!("etcd did not start; its log:\n{last_log}");
    }

    /// A member to be launched, with a fresh data directory.
    fn member(binary: &Path, name: &str, client_port: u16, peer_port: u16) -> TestEtcd {
        let dir = tempfile::tempdir().expect("create etcd temp dir");
        let cluster_token = dir.path().file_name().unwrap().to_string_lossy().into_owned();
        TestEtcd {
            binary: binary.to_owned(),
            dir,
            name: name.to_owned(),
            client_port,
            peer_port,
            initial_cluster: String::new(),
            cluster_token,
            extra_args: Vec::new(),
            child: None,
        }
    }

    /// `http://127.0.0.1:PORT`, for `--etcd-servers` and etcd clients.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The client address, for a proxy in front of etcd.
    pub fn client_address(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.client_port))
    }

    fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }

    /// This member's entry of `--initial-cluster`.
    fn peer_member(&self) -> String {
        format!("{}={}", self.name, self.peer_url())
    }

    /// Whether the process runs (it has not been stopped or killed).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
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
        self.spawn();
        if self.wait_ready().await {
            Ok(())
        } else {
            self.stop().await;
            Err(self.log())
        }
    }

    /// etcd's log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default()
    }

    /// Spawns etcd (a member of `initial_cluster`) without waiting for it.
    fn spawn(&mut self) {
        let log_path = self.dir.path().join("etcd.log");
        let log =
            File::options().create(true).append(true).open(&log_path).expect("create etcd log");
        let log_err = log.try_clone().expect("clone etcd log handle");
        let client_url = self.endpoint();
        let peer_url = self.peer_url();
        let child = Command::new(&self.binary)
            .args(["--name", &self.name])
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen-client-urls", &client_url])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &self.initial_cluster])
            .args(["--initial-cluster-token", &self.cluster_token])
            .args(["--logger", "zap", "--log-level", "warn", "--log-outputs", "stderr"])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        self.child = Some(child);
    }

    /// Polls with a real etcd request (linearizable: the member's cluster has a leader) until one
    /// succeeds; false when etcd exits or stays silent.
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

/// The etcd binary, or a panic saying how to install it.
fn installed_etcd() -> PathBuf {
    etcd_binary().unwrap_or_else(|| {
        panic!(
            "etcd is not installed: run `apt-get install etcd-server` (Debian's etcd 3.4) \
             or scripts/install-deps test, which installs it"
        )
    })
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

/// `count` distinct free loopback ports: all are bound at once so they differ, then released.
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    listeners.iter().map(|l| l.local_addr().expect("local address").port()).collect()
}

/// A private etcd cluster of several members, each a [`TestEtcd`] on its own ports and data
/// directory, all killed when dropped. Members are killed one by one to test failures.
pub struct TestEtcdCluster {
    pub members: Vec<TestEtcd>,
}

impl TestEtcdCluster {
    /// Starts `size` members at once (a member is ready only once a quorum runs) and waits until
    /// each serves a linearizable read.
    pub async fn start(size: usize) -> TestEtcdCluster {
        let binary = installed_etcd();
        let mut last_logs = String::new();
        // As for one member: a port taken meanwhile makes a member exit; start over on new ports.
        for _ in 0..3 {
            let ports = free_ports(2 * size);
            let mut members: Vec<TestEtcd> = (0..size)
                .map(|i| {
                    TestEtcd::member(&binary, &format!("m{i}"), ports[2 * i], ports[2 * i + 1])
                })
                .collect();
            let initial_cluster: Vec<String> = members.iter().map(TestEtcd::peer_member).collect();
            let token = members[0].cluster_token.clone();
            for member in &mut members {
                member.initial_cluster = initial_cluster.join(",");
                member.cluster_token = token.clone();
                member.spawn();
            }
            let ready = join_all(members.iter_mut().map(TestEtcd::wait_ready)).await;
            if ready.iter().all(|&ready| ready) {
                return TestEtcdCluster { members };
            }
            last_logs = members.iter().map(|m| format!("{}:\n{}", m.name, m.log())).collect();
        }
        panic!("the etcd cluster did not start; its logs:\n{last_logs}");
    }

    /// Every member's client URL, in member order (`--etcd-servers`).
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(TestEtcd::endpoint).collect()
    }

    /// SIGKILLs member `i` and reaps it.
    pub async fn kill(&mut self, i: usize) {
        self.members[i].stop().await;
    }

    /// The index of the leader, once every running member answers its status naming the same
    /// running member as leader (an election is over). Panics after 30 s.
    pub async fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = Vec::new();
        while Instant::now() < deadline {
            let running: Vec<&TestEtcd> = self.members.iter().filter(|m| m.is_running()).collect();
            let statuses = join_all(running.iter().map(|m| member_status(m.endpoint()))).await;
            let ids: Vec<Option<u64>> = statuses.iter().map(|s| s.map(|(id, _)| id)).collect();
            let leaders: Vec<Option<u64>> = statuses.iter().map(|s| s.map(|(_, l)| l)).collect();
            if let Some(Some(leader)) = leaders.first()
                && leaders.iter().all(|l| *l == Some(*leader))
                && let Some(at) = ids.iter().position(|id| *id == Some(*leader))
            {
                let endpoint = running[at].endpoint();
                return self.members.iter().position(|m| m.endpoint() == endpoint).unwrap();
            }
            last = statuses;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the etcd members never agreed on a running leader: (id, leader) {last:?}");
    }
}

/// A member's (member id, leader id) from `Maintenance.Status`, None when it does not answer.
async fn member_status(endpoint: String) -> Option<(u64, u64)> {
    let options = ConnectOptions::new().with_connect_timeout(Duration::from_millis(500));
    let status = async {
        let mut client = Client::connect([endpoint], Some(options)).await?;
        client.status().await
    };
    match tokio::time::timeout(Duration::from_secs(1), status).await {
        Ok(Ok(status)) => Some((status.header()?.member_id(), status.leader())),
        _ => None,
    }
}

impl std::fmt::Debug for TestEtcdCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.members).finish()
    }
}
