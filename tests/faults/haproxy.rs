//! The HAProxy configuration of docs/deployment.md (`docs/deploy/haproxy.cfg`), run as committed
//! in front of two replicas on free loopback ports (its addresses come from the environment),
//! with kubectl going through it: get, create and watch, then one replica SIGKILLed and kubectl
//! still served by the other.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cluster::{Deployment, NAMESPACE};
use crate::support::server::KUBECTL;

/// The committed configuration.
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deploy/haproxy.cfg");

/// Where Debian's `haproxy` package installs it.
const DEBIAN_HAPROXY: &str = "/usr/sbin/haproxy";

/// HAProxy, run in the foreground; killed when dropped.
struct Haproxy {
    child: Child,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn haproxy_binary() -> PathBuf {
    if Path::new(DEBIAN_HAPROXY).is_file() {
        return PathBuf::from(DEBIAN_HAPROXY);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("haproxy"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "haproxy is not installed: run `apt-get install haproxy` (Debian's HAProxy 2.6) \
                 or scripts/install-deps test, which installs it"
            )
        })
}

/// The environment the configuration reads, for a load balancer on `bind`.
fn environment(deployment: &Deployment, bind: &str, ca: &Path) -> Vec<(String, String)> {
    let mut env = vec![
        ("KUBE_LEDGER_BIND".to_owned(), bind.to_owned()),
        ("KUBE_LEDGER_CA".to_owned(), ca.display().to_string()),
    ];
    for (i, replica) in deployment.replicas.iter().enumerate() {
        env.push((format!("KUBE_LEDGER_REPLICA_{}", i + 1), replica.address()));
    }
    env
}

/// A kubeconfig like replica 1's, but for the load balancer's address.
fn kubeconfig_through(deployment: &Deployment, lb: &str) -> PathBuf {
    let replica = &deployment.replicas[0];
    let text = std::fs::read_to_string(&replica.kubeconfig).unwrap();
    let text = text.replace(&replica.url, &format!("https://{lb}"));
    let path = replica.dir.path().join("kubeconfig-haproxy");
    std::fs::write(&path, text).unwrap();
    path
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let out = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--namespace", NAMESPACE])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?} through HAProxy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `kubectl get configmaps --watch --output name` through the load balancer; the next line it
/// prints that names `name` (at most 30 s: hang protection).
async fn watch_for(kubeconfig: &Path, start: impl FnOnce(), name: &str) {
    let mut child = tokio::process::Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--namespace", NAMESPACE, "get", "configmaps", "--watch", "--output", "name"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run kubectl --watch");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The initial list comes first: once a line arrives the watch is open behind it.
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    assert!(matches!(first, Ok(Ok(Some(_)))), "kubectl --watch printed nothing: {first:?}");
    start();
    let wanted = format!("configmap/{name}");
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.trim() == wanted {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "kubectl --watch through HAProxy never printed {wanted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_in_front_of_two_replicas() {
    let _serial = crate::SERIAL.lock().await;
    let haproxy = haproxy_binary();
    let mut deployment = Deployment::start().await;
    let bind = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let mut ca = tempfile::NamedTempFile::new().unwrap();
    let ca_pem = deployment.replicas[0].credentials.ca_pem.clone().unwrap();
    ca.write_all(ca_pem.as_bytes()).unwrap();
    let env = environment(&deployment, &bind, ca.path());

    let check = Command::new(&haproxy).args(["-c", "-f", CONFIG]).envs(env.clone()).output();
    let check = check.expect("run haproxy -c");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    // -db: in the foreground, server state changes logged to standard error.
    let log_path = deployment.replicas[1].dir.path().join("haproxy.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(&haproxy)
        .args(["-db", "-f", CONFIG])
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("run haproxy");
    let mut haproxy = Haproxy { child };

    let kubeconfig = kubeconfig_through(&deployment, &bind);
    // Until HAProxy listens and has checked its servers (bounded: hang protection).
    let mut up = false;
    for _ in 0..100 {
        let exited = haproxy.child.try_wait().unwrap();
        assert!(exited.is_none(), "haproxy exited: {exited:?} (its log is above)");
        let ready = Command::new(KUBECTL)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["get", "--raw", "/readyz"])
            .output()
            .unwrap();
        if ready.status.success() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "kubectl never reached the replicas through HAProxy");

    kubectl(&kubeconfig, &["create", "configmap", "before", "--from-literal=k=v"]);
    let got = kubectl(&kubeconfig, &["get", "configmap", "before", "-o", "jsonpath={.data.k}"]);
    assert_eq!(got, "v");
    let config = kubeconfig.clone();
    watch_for(
        &kubeconfig,
        move || {
            kubectl(&config, &["create", "configmap", "watched"]);
        },
        "watched",
    )
    .await;

    deployment.replicas[0].kill().await;
    // Every command right after the kill: a connection HAProxy sends to the dead replica
    // before its health check fails is refused and redispatched to the live one.
    for n in 0..10 {
        let name = format!("after-{n}");
        kubectl(&kubeconfig, &["create", "configmap", &name]);
        let got = kubectl(&kubeconfig, &["get", "configmap", &name, "-o", "name"]);
        assert_eq!(got.trim(), format!("configmap/{name}"));
    }
    let listed = kubectl(&kubeconfig, &["get", "configmaps", "-o", "name"]);
    for name in ["before", "watched", "after-9"] {
        assert!(listed.contains(&format!("configmap/{name}")), "{name} missing: {listed}");
    }
    let config = kubeconfig.clone();
    watch_for(
        &kubeconfig,
        move || {
            kubectl(&config, &["create", "configmap", "watched-after"]);
        },
        "watched-after",
    )
    .await;

    // The /readyz check (TLS, verified against the CA) took the dead replica out, and never the
    // live one.
    let mut down = false;
    for _ in 0..300 {
        if std::fs::read_to_string(&log_path).unwrap().contains("replica-1 is DOWN") {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(down, "HAProxy's health check never took the dead replica out; its log:\n{log}");
    assert!(!log.contains("replica-2 is DOWN"), "the live replica failed its checks:\n{log}");
}
