//! What the benches share: the `--seconds` argument, the rate of concurrent loops, the router
//! of a server in-process as the admin, and the etcd backend over a bench's own etcd.
#![allow(dead_code)] // Each bench uses its own part.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The value of `--seconds` (`cargo bench --bench NAME -- --seconds 5`), else `default`.
pub fn seconds_from_args(default: f64) -> f64 {
    value_from_args("--seconds", default)
}

/// The value after `flag` on the bench's command line (`-- --events 50000`), else `default`.
pub fn value_from_args<T: std::str::FromStr>(flag: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Operations per second of `tasks` tasks each running `op(task, n)` for n = 0, 1, … until
/// `seconds` have passed.
pub async fn rate<F, Fut>(tasks: usize, seconds: f64, op: F) -> f64
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (stop, done, op) = (stop.clone(), done.clone(), op.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    op(task, n).await;
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.await.expect("a bench task panicked");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// The server's router over `storage`, every request as the admin (no TLS, no authentication:
/// the bench measures what is behind them). Keep the returned sender: dropping it stops the
/// server's background work.
pub async fn admin_router(
    storage: std::sync::Arc<dyn kube_ledger::storage::Storage>,
) -> (axum::Router, tokio::sync::watch::Sender<bool>) {
    use kube_ledger::filters::Security;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server =
        kube_ledger::server::Server::start(storage, "127.0.0.1:6443".parse().unwrap(), stopped)
            .await
            .expect("start the server in-process")
            .with_security(Security::fixed(Security::admin_user()));
    (server.router(), stop)
}

/// The etcd backend over the etcd at `endpoint`, with kube's key prefix and a deadline of
/// `timeout` per request.
pub async fn etcd_backend(
    endpoint: String,
    timeout: Duration,
) -> std::sync::Arc<dyn kube_ledger::storage::Storage> {
    use kube_ledger::storage::etcd::{EtcdConfig, EtcdStorage};
    let config = EtcdConfig::new(vec![endpoint], "/registry", timeout);
    Arc::new(EtcdStorage::connect(config).await.expect("connect the etcd backend"))
}

/// The provenance of a typical API write: a user in two groups, kubectl's User-Agent, an IPv4
/// client, a field manager and an audit ID, so every case stores what a real request stores.
pub fn api_write(verb: kube_ledger::storage::Verb) -> kube_ledger::storage::Provenance {
    kube_ledger::storage::Provenance::now(
        "kubernetes-admin",
        verb,
        "2c4f8a9e-0b1d-4d6f-9a3e-5b7c1d2e3f40",
    )
    .with_identity(
        "",
        ["kubeadm:cluster-admins", "system:authenticated"],
        "kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc",
        "10.0.12.34",
    )
    .with_field_manager("kubectl-client-side-apply")
}
