//! Starts the real `kube-ledger` binary for a test: on the embedded store in a temp data dir, or
//! on a test-started etcd; bound to 127.0.0.1 on a free port, serving HTTPS with the certificates
//! it generates; stopped (SIGTERM, then kill) when dropped. Gives the test its kubeconfig (CA and
//! admin certificate), a kubectl runner, an HTTPS client with the admin certificate, and clients
//! with other credentials: the static token users of [`TOKENS`], or none (anonymous).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use super::etcd::TestEtcd;
use super::tls::{Credentials, Identity};

/// The kubectl every machine of this kind has (v1.32).
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// The static token file every test server gets (`--token-auth-file`, kube's CSV), unless the
/// test passes its own: a user `alice` (group `dev`), and Prometheus's scraper in
/// `system:monitoring` (kube's bootstrap policy lets that group read `/metrics` and health).
pub const TOKENS: &str =
    "alice-token,alice,1001,dev\nprometheus-token,prometheus,1002,system:monitoring\n";
/// `alice`'s bearer token.
pub const ALICE_TOKEN: &str = "alice-token";
/// The monitoring user's bearer token (Prometheus scrapes `/metrics` with it).
pub const MONITORING_TOKEN: &str = "prometheus-token";

#[derive(Debug)]
pub struct TestServer {
    child: Option<Child>,
    /// `https://127.0.0.1:PORT` (`http://` with `--insecure-plain-http`).
    pub url: String,
    pub kubeconfig: PathBuf,
    pub dir: TempDir,
    pub etcd: Option<TestEtcd>,
    args: Vec<String>,
    /// The open-file limit (soft and hard) the binary starts with, when not inherited.
    open_files: Option<u64>,
    /// An HTTPS client trusting the server's CA, with the admin certificate (`system:masters`).
    pub http: reqwest::Client,
    /// What the written kubeconfig holds; builds clients with other credentials.
    pub credentials: Credentials,
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

    /// Another replica beside `first` over the same etcd `endpoints`: its own data directory and
    /// port, but `first`'s certificates (its `<data-dir>/pki` copied before the start: one CA,
    /// one ServiceAccount key), so one kubeconfig's credentials work on both.
    pub async fn replica_of(first: &TestServer, endpoints: &[String], args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (first.dir.path().join("data/pki"), dir.path().join("data/pki"));
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--etcd-servers".to_owned(), endpoints.join(",")]);
        Self::start(dir, None, args).await
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
            http: super::tls::plain_client(),
            credentials: Credentials { server: String::new(), ca_pem: None, admin: None },
        }
    }

    /// A client builder trusting the server's CA with the admin certificate, for tests that
    /// set their own client options.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        self.credentials.builder(self.credentials.admin.as_ref())
    }

    /// A client sending `token` as a bearer token (see [`TOKENS`]), without a certificate.
    pub fn token_client(&self, token: &str) -> reqwest::Client {
        self.credentials.token_client(token)
    }

    /// A client without credentials: the server sees `system:anonymous`.
    pub fn anonymous_client(&self) -> reqwest::Client {
        self.credentials.anonymous_client()
    }

    /// A client presenting another client certificate.
    pub fn identity_client(&self, identity: &Identity) -> reqwest::Client {
        self.credentials.identity_client(identity)
    }

    /// `host:port` the server listens on.
    pub fn address(&self) -> String {
        self.url.trim_start_matches("https://").trim_start_matches("http://").to_owned()
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
        command.args(["--listen", listen, "--data-dir"]).arg(self.dir.path().join("data"));
        if !self.args.iter().any(|a| a.starts_with("--token-auth-file")) {
            let tokens = self.dir.path().join("tokens.csv");
            std::fs::write(&tokens, TOKENS).unwrap();
            command.arg("--token-auth-file").arg(tokens);
        }
        let mut child = command
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
        self.credentials = Credentials::from_kubeconfig(&config);
        self.url = self.credentials.server.clone();
        self.http = self.credentials.admin_client();
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

    /// Kills the server with SIGKILL (no shutdown at all) and waits for it to exit.
    pub async fn kill(&mut self) {
        let mut child = self.child.take().expect("server running");
        child.kill().unwrap();
        tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
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
        let listen = self.address();
        self.launch(&listen).await;
    }

    /// Runs kubectl (the default v1.32 binary) against this server.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with(KUBECTL, args, None)
    }

    /// Writes a kubeconfig for this server (trusting its CA) whose user sends `token`, or no
    /// credentials at all; returns its path.
    pub fn kubeconfig_with_token(&self, name: &str, token: Option<&str>) -> PathBuf {
        use base64::Engine;
        let ca = self.credentials.ca_pem.as_deref().expect("an HTTPS server");
        let ca = base64::engine::general_purpose::STANDARD.encode(ca);
        let user = match token {
            Some(token) => format!("{{token: {token:?}}}"),
            None => "{}".to_owned(),
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    \
             certificate-authority-data: {ca}\nusers:\n- name: u\n  user: {user}\ncontexts:\n\
             - name: x\n  context: {{cluster: c, user: u, namespace: default}}\ncurrent-context: x\n",
            self.url
        );
        let path = self.dir.path().join(format!("kubeconfig-{name}"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs kubectl with another kubeconfig (say, one of [`Self::kubeconfig_with_token`]).
    pub fn kubectl_as(&self, kubeconfig: &std::path::Path, args: &[&str]) -> Output {
        Command::new(KUBECTL)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .env("KUBECACHEDIR", self.dir.path().join("kube-cache"))
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl")
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

    /// Polls the CRD `name` until `check` holds on it (10 s at most); `what` names the wait in
    /// the failure.
    pub async fn wait_for_crd(&self, name: &str, what: &str, check: impl Fn(&Value) -> bool) {
        let url =
            format!("{}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}", self.url);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found: Value = self.http.get(&url).send().await.unwrap().json().await.unwrap();
            if check(&found) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "CRD {name} never {what}: {found:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls until the CRD `name` is `Established` (10 s at most).
    pub async fn wait_established(&self, name: &str) {
        self.wait_for_crd(name, "established", crd_established).await;
    }

    /// `kubectl apply` of the CRD `manifest`, then waits until CRD `name` is established.
    pub async fn apply_crd(&self, manifest: &str, name: &str) {
        self.ok_stdin(&["apply", "-f", "-"], manifest);
        self.wait_established(name).await;
    }

    /// Binds `clusterrole` to `user` cluster-wide (as the admin), and waits (bounded) until
    /// RBAC, which follows its objects' views, lets the user `verb` `resource`.
    pub async fn grant(&self, user: &str, clusterrole: &str, verb: &str, resource: &str) {
        self.bind(&format!("--user={user}"), user, clusterrole, verb, resource).await;
    }

    /// [`Self::grant`] for the ServiceAccount `namespace/name`.
    pub async fn grant_service_account(
        &self,
        namespace: &str,
        name: &str,
        clusterrole: &str,
        verb: &str,
        resource: &str,
    ) {
        let user = format!("system:serviceaccount:{namespace}:{name}");
        let subject = format!("--serviceaccount={namespace}:{name}");
        self.bind(&subject, &user, clusterrole, verb, resource).await;
    }

    async fn bind(&self, subject: &str, user: &str, clusterrole: &str, verb: &str, resource: &str) {
        let binding = format!("{user}-{clusterrole}").replace(':', "-");
        self.ok(&[
            "create",
            "clusterrolebinding",
            &binding,
            &format!("--clusterrole={clusterrole}"),
            subject,
        ]);
        for _ in 0..100 {
            let out = self.kubectl(&["auth", "can-i", verb, resource, &format!("--as={user}")]);
            if String::from_utf8_lossy(&out.stdout).trim() == "yes" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{user} was never allowed to {verb} {resource} through {clusterrole}");
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

/// Whether a CRD's `Established` condition is `True`.
pub fn crd_established(crd: &Value) -> bool {
    crd["status"]["conditions"].as_array().is_some_and(|conditions| {
        conditions.iter().any(|c| c["type"] == "Established" && c["status"] == "True")
    })
}
