//! The health endpoints, as k8s.io/apiserver's `healthz` package serves them: named checks,
//! `[+]name ok` / `[-]name failed: reason withheld` lines, `?verbose`, `?exclude=name`, and
//! one path per check (`/readyz/etcd`).
//!
//! - `/livez`: is this process alive — `ping` only. It does not ask etcd: an etcd outage is
//!   no reason to restart a replica (it would come back to the same outage), so it stays 200.
//! - `/readyz`: should this replica get traffic — `ping`, `etcd` (the log's current revision
//!   read within 2 s, kube's `--etcd-healthcheck-timeout`), `informer-sync` (every started
//!   watch view has loaded: until then reads would fall back to the log one by one), and
//!   `shutdown` (fails as soon as a graceful shutdown begins, so load balancers drain first).
//! - `/healthz` (deprecated in kube): `ping` and `etcd`.
//!
//! A check's error is logged, never shown (kube's `reason withheld`), except on a single
//! check's own path.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::watch;

use crate::registry::views::Views;
use crate::storage::Storage;

/// How long the etcd check waits for the log's current revision (kube's
/// `--etcd-healthcheck-timeout` default).
const ETCD_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What the checks look at.
#[derive(Debug, Clone)]
pub(super) struct Health {
    pub storage: Arc<dyn Storage>,
    pub views: Views,
    /// Set on shutdown: readiness fails first, so load balancers drain.
    pub stopping: watch::Receiver<bool>,
}

/// One named check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Ping,
    Etcd,
    InformerSync,
    Shutdown,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Ping => "ping",
            Check::Etcd => "etcd",
            Check::InformerSync => "informer-sync",
            Check::Shutdown => "shutdown",
        }
    }
}

const LIVEZ: &[Check] = &[Check::Ping];
const READYZ: &[Check] = &[Check::Ping, Check::Etcd, Check::InformerSync, Check::Shutdown];
const HEALTHZ: &[Check] = &[Check::Ping, Check::Etcd];

/// `?verbose` and `?exclude=a&exclude=b` (as a list of pairs: `exclude` repeats).
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
struct Params(Vec<(String, String)>);

impl Params {
    fn verbose(&self) -> bool {
        self.0.iter().any(|(k, _)| k == "verbose")
    }

    fn excluded(&self, check: Check) -> bool {
        self.0.iter().any(|(k, v)| k == "exclude" && v == check.name())
    }
}

/// The health routes: `/livez`, `/readyz`, `/healthz` and each check under them.
pub(super) fn routes(health: Health) -> Router {
    Router::new()
        .route("/livez", get(|s, q| endpoint(s, q, "livez", LIVEZ)))
        .route("/livez/{check}", get(|s, p| single(s, p, LIVEZ)))
        .route("/readyz", get(|s, q| endpoint(s, q, "readyz", READYZ)))
        .route("/readyz/{check}", get(|s, p| single(s, p, READYZ)))
        .route("/healthz", get(|s, q| endpoint(s, q, "healthz", HEALTHZ)))
        .route("/healthz/{check}", get(|s, p| single(s, p, HEALTHZ)))
        .with_state(health)
}

async fn endpoint(
    State(health): State<Health>,
    Query(params): Query<Params>,
    endpoint: &'static str,
    checks: &'static [Check],
) -> (StatusCode, String) {
    let mut lines = String::new();
    let mut failed = false;
    for &check in checks {
        if params.excluded(check) {
            lines.push_str(&format!("[+]{} excluded: ok\n", check.name()));
            continue;
        }
        match health.run(check).await {
            Ok(()) => lines.push_str(&format!("[+]{} ok\n", check.name())),
            Err(reason) => {
                tracing::warn!(check = check.name(), %reason, "{endpoint} check failed");
                lines.push_str(&format!("[-]{} failed: reason withheld\n", check.name()));
                failed = true;
            }
        }
    }
    if failed {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("{lines}{endpoint} check failed\n"))
    } else if params.verbose() {
        (StatusCode::OK, format!("{lines}{endpoint} check passed\n"))
    } else {
        (StatusCode::OK, "ok".to_owned())
    }
}

async fn single(
    State(health): State<Health>,
    Path(name): Path<String>,
    checks: &'static [Check],
) -> (StatusCode, String) {
    let Some(&check) = checks.iter().find(|c| c.name() == name) else {
        return (StatusCode::NOT_FOUND, "404 page not found\n".to_owned());
    };
    match health.run(check).await {
        Ok(()) => (StatusCode::OK, "ok".to_owned()),
        Err(reason) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("internal server error: {reason}\n"))
        }
    }
}

impl Health {
    async fn run(&self, check: Check) -> Result<(), String> {
        match check {
            Check::Ping => Ok(()),
            Check::Etcd => {
                let read =
                    tokio::time::timeout(ETCD_CHECK_TIMEOUT, self.storage.current_revision());
                match read.await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) => Err(format!("error getting data from etcd: {err}")),
                    Err(_) => Err("etcd did not answer within 2s".to_owned()),
                }
            }
            Check::InformerSync => {
                let loading: Vec<String> = self
                    .views
                    .all()
                    .into_iter()
                    .filter(|(_, view)| view.revision().is_none())
                    .map(|(prefix, _)| prefix)
                    .collect();
                if loading.is_empty() {
                    Ok(())
                } else {
                    Err(format!("views still loading: {}", loading.join(", ")))
                }
            }
            Check::Shutdown => {
                if *self.stopping.borrow() {
                    Err("server is shutting down".to_owned())
                } else {
                    Ok(())
                }
            }
        }
    }
}
