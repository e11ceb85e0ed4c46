//! Starts the real `kube-ledger` binary for a test: on the embedded store in a temp data dir, or
//! on a test-started etcd; bound to 127.0.0.1 on a free port; stopped (SIGTERM, then kill) when
//! dropped. Gives the test its kubeconfig, a kubectl runner and a raw HTTP client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::etcd::TestEtcd;

/// The kubectl every machine of this kind has (v1.32).
pub const KUBECTL: &str = "/usr/bin/kubectl";

#[derive(Debug)]
pub struct TestServer {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub kubeconfig: PathBuf,
    pub dir: TempDir,
    pub etcd: Option<TestEtcd>,
    args: Vec<String>,
    /// The open-file limit (soft and hard) the binary starts with, when not inherited.
    open_files: Option<u64>,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn embedded() -> TestServer {
        Self::start(tempfile::tempdir().unwrap(), None, Vec::new()).await
    }

    /// On the embedded store, with extra command-line flags.
    pub async fn embedded_with(args: &[&str]) -> TestServer {
        let args = args.iter().map(|a| a.to_string()).collect();
        Self::start(tempfile::tempdir().unwrap(), None, args).await
    }

    /// On the embedded store, started with both open-file limits lowered to `limit` (through the
    /// shell's `ulimit -n`), with extra command-line flags.
    pub async fn embedded_with_open_files(limit: u64, args: &[&str]) -> TestServer {
        let args = args.iter().map(|a| a.to_string()).collect();
        let mut server = Self::unstarted(tempfile::tempdir().unwrap(), None, args);
        server.open_files = Some(limit);
        server.launch("127.0.0.1:0").await;
        server
    }

    pub async fn on_etcd() -> TestServer {
        Self::on_etcd_with(&[]).await
    }

    /// On a test-started etcd, with extra command-line flags.
    pub async fn on_etcd_with(args: &[&str]) -> TestServer {
        let etcd = TestEtcd::start().await;
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--etcd-servers".to_owned(), etcd.endpoint()]);
        Self::start(tempfile::tempdir().unwrap(), Some(etcd), args).await
    }

    /// On etcd servers the test started and owns (a [`TestEtcdCluster`](super::etcd::TestEtcdCluster)),
    /// all given in `--etcd-servers`, with extra command-line flags.
    pub async fn on_etcd_servers(endpoints: &[String], args: &[&str]) -> TestServer {
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--etcd-servers".to_owned(), endpoints.join(",")]);
        Self::start(tempfile::tempdir().unwrap(), None, args).await
    }

    async fn start(dir: TempDir, etcd: Option<TestEtcd>, args: Vec<String>) -> TestServer {
        let mut server = Self::unstarted(dir, etcd, args);
        server.launch("127.0.0.1:0").await;
        server
    }

    fn unstarted(dir: TempDir, etcd: Option<TestEtcd>, args: Vec<String>) -> TestServer {
        TestServer {
            child: None,
            url: String::new(),
            kubeconfig: PathBuf::new(),
            dir,
            etcd,
            args,
            open_files: None,
            http: reqwest::Client::new(),
        }
    }

    /// Starts the binary and waits until `/readyz` answers.
    async fn launch(&mut self, listen: &str) {
        let binary = env!("CARGO_BIN_EXE_kube-ledger");
        let mut command = match self.open_files {
            None => Command::new(binary),
            // `exec` keeps the pid, so `stop` signals the server itself.
            Some(limit) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {limit} && exec \"$0\" \"$@\""), binary]);
                sh
            }
        };
        let mut child = command
            .args(["--listen", listen, "--data-dir"])
            .arg(self.dir.path().join("data"))
            .args(&self.args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kube-ledger");
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            lines.next().map(|l| l.unwrap_or_default())
        })
        .await
        .unwrap()
        .expect("kube-ledger exited before printing its kubeconfig line");
        let path = line
            .strip_prefix("export KUBECONFIG=")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        self.kubeconfig = PathBuf::from(path);
        let config = std::fs::read_to_string(&self.kubeconfig).unwrap();
        self.url = config
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .expect("server in kubeconfig")
            .to_owned();
        self.child = Some(child);
        for _ in 0..100 {
            if let Ok(r) = self.http.get(format!("{}/readyz", self.url)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("kube-ledger did not become ready at {}", self.url);
    }

    /// Stops the server with SIGTERM (a graceful shutdown) and waits for it to exit.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap()
    }

    /// Stops and starts the server again on the same port and data.
    pub async fn restart(&mut self) {
        let status = self.stop().await;
        assert!(status.success(), "graceful shutdown failed: {status}");
        self.restart_stopped().await;
    }

    /// Stops the server and starts it again on the same port and data with other extra flags:
    /// `args` replace those given at start (an etcd server keeps its etcd).
    pub async fn restart_with(&mut self, args: &[&str]) {
        let status = self.stop().await;
        assert!(status.success(), "graceful shutdown failed: {status}");
        self.args = args.iter().map(|a| a.to_string()).collect();
        if let Some(etcd) = &self.etcd {
            self.args.extend(["--etcd-servers".to_owned(), etcd.endpoint()]);
        }
        self.restart_stopped().await;
    }

    /// Starts a stopped server again on the same port and data.
    pub async fn restart_stopped(&mut self) {
        let listen = self.url.trim_start_matches("http://").to_owned();
        self.launch(&listen).await;
    }

    /// Runs kubectl (the default v1.32 binary) against this server.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with(KUBECTL, args, None)
    }

    /// Runs a given kubectl binary, with optional standard input.
    pub fn kubectl_with(&self, binary: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(binary)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("KUBECACHEDIR", self.dir.path().join("kube-cache"))
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// kubectl that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// kubectl with a manifest on standard input (`-f -`); must succeed.
    pub fn ok_stdin(&self, args: &[&str], manifest: &str) -> String {
        let out = self.kubectl_with(KUBECTL, args, Some(manifest));
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// kubectl that must fail; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(!out.status.success(), "kubectl {args:?} unexpectedly succeeded");
        String::from_utf8(out.stderr).unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
