//! Leader election among kube-ledger replicas over one etcd, as kube-controller-manager does it
//! with client-go's `leaderelection` over a `coordination.k8s.io/v1` Lease
//! (`kube-system/kube-ledger-controllers`, `kubectl get lease -n kube-system`).
//!
//! Every replica serves every read, write and watch. What must run once per cluster — the loops
//! that *write* on the cluster's behalf — runs only in the replica holding the lease
//! ([`Leadership::singleton`]); what each replica keeps for itself (caches, views, routes)
//! runs everywhere. Data flows: [`start`] → the elector task ([`elector`]) reads and writes the
//! Lease through the registry's store every retry period, steps the pure state machine
//! ([`election`]) and publishes leading / not leading on a [`Leadership`] → each singleton's
//! supervisor starts the loop when leading begins and flips its stop signal when it ends.
//!
//! A leader that cannot renew within the renew deadline (10 s) steps down and signals its
//! singletons to stop; another replica takes the lease only after seeing it unchanged for the
//! whole lease duration (15 s), counted from after the leader's last write began
//! (see [`election`]). On a graceful shutdown the leader releases the lease, so another replica
//! takes over within a retry period. With `--leader-elect=false` (the default on the embedded
//! store, which is one process by construction) [`Leadership::always`] leads and the
//! singletons simply run.
//!
//! Which loop is which:
//!
//! | loop | where | runs |
//! |---|---|---|
//! | watch views and the log feed (`registry/views`) | `Views` | every replica (reads) |
//! | Service IP/port allocators following the Services (`builtin/system/sync.rs`) | start | every replica: each allocates for its own creates and must know every Service |
//! | RBAC rules from the views (`rbac::ViewRules`), the authorizer's cache | `with_authorization` | every replica (reads) |
//! | serving stored CRDs: registering their routes (`apiextensions::controller`) | start | every replica |
//! | built-in namespaces, system PriorityClasses, mandatory flow-control objects, bootstrap RBAC policy | start | every replica, once, as kube-apiserver's post-start hooks: idempotent creates and reconciles; an `AlreadyExists` or a lost update from another replica is fine |
//! | CRD status (`NamesAccepted`, `Established`) and CRD finalization (deleting the objects) | `apiextensions::controller` | leader |
//! | namespace controller: emptying and finalizing terminating namespaces (`registry/namespaces.rs`) | start | leader |
//! | resource quota status (`registry/quota.rs`) | start | leader |
//! | default ServiceAccount and `kube-root-ca.crt` in every namespace (`namespace_objects`) | start, `with_root_ca` | leader |
//! | ClusterRole aggregation (`rbac::aggregation`) | `with_authorization` | leader |
//! | CSR signing (`csr_signing`) | `with_csr_signer` | leader |
//! | the `default/kubernetes` Service, Endpoints and EndpointSlice (`builtin/system/kubernetes.rs`) | `with_service_network` | leader: they name the leader's address (kube's lease endpoint reconciler, listing every replica, is not reproduced) |
//! | compaction (`storage/compactor.rs`) | `main.rs` | leader |
//! | the elector itself, audit backends, the connection loop | | every replica |

mod config;
mod election;
mod elector;
mod record;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::config::{ConfigError, LeaderElectionConfig};
pub use self::election::{Election, Plan};
pub use self::record::LeaseRecord;
use crate::meta::status::ApiError;
use crate::registry::store::Store;

/// The lease kube-ledger's singleton loops share by default (`--leader-elect-resource-name`).
pub const DEFAULT_LEASE: &str = "kube-ledger-controllers";

/// kube's gauge: 1 while this replica holds the lease `name`, else 0.
pub const MASTER_STATUS: &str = "leader_election_master_status";

/// How long a singleton whose start failed waits before starting again (while still leading).
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Why leader election could not start.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    #[error("invalid leader election settings: {0}")]
    Config(#[from] ConfigError),
    #[error("coordination.k8s.io/v1 leases are not served (--runtime-config)")]
    LeasesNotServed,
}

impl From<ElectionError> for ApiError {
    fn from(err: ElectionError) -> ApiError {
        ApiError::internal(err.to_string())
    }
}

/// Whether this replica leads. Cheap to clone; one per server, shared by every singleton.
#[derive(Debug, Clone)]
pub struct Leadership {
    /// Held by every clone, so the channel never closes while a singleton waits on it.
    state: Arc<watch::Sender<bool>>,
    /// The lease's name, for the metric; `None` without election.
    lease: Option<String>,
}

impl Leadership {
    /// Leads for good: one process alone (`--leader-elect=false`).
    pub fn always() -> Leadership {
        Leadership { state: Arc::new(watch::Sender::new(true)), lease: None }
    }

    /// A candidate for `lease`, not leading yet.
    fn candidate(lease: &str) -> Leadership {
        let leadership =
            Leadership { state: Arc::new(watch::Sender::new(false)), lease: Some(lease.into()) };
        leadership.report(false);
        leadership
    }

    /// Whether this replica leads now.
    pub fn is_leading(&self) -> bool {
        *self.state.borrow()
    }

    /// Whether leadership is decided by an election (else [`Leadership::always`]).
    pub fn is_elected(&self) -> bool {
        self.lease.is_some()
    }

    /// Leading (true) or not, as it changes.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.state.subscribe()
    }

    /// Publishes `leading`; whether it changed.
    fn set(&self, leading: bool) -> bool {
        let changed = self.state.send_replace(leading) != leading;
        if changed {
            self.report(leading);
        }
        changed
    }

    fn report(&self, leading: bool) {
        if let Some(name) = &self.lease {
            metrics::gauge!(MASTER_STATUS, "name" => name.clone())
                .set(f64::from(u8::from(leading)));
        }
    }

    /// A stop signal for one run of a singleton: flips to true when this replica stops leading
    /// or `shutdown` flips, whichever comes first.
    pub fn stop_signal(&self, mut shutdown: watch::Receiver<bool>) -> watch::Receiver<bool> {
        let (stop, stopped) = watch::channel(*shutdown.borrow() || !self.is_leading());
        let mut leading = self.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => {}
                _ = leading.wait_for(|leading| !*leading) => {}
                _ = stop.closed() => return,
            }
            let _ = stop.send(true);
        });
        stopped
    }

    /// Runs the singleton `run` whenever this replica leads, until `shutdown`: `run` gets a stop
    /// signal (the `shutdown` the loop would otherwise take) that flips when leading ends, and
    /// is called again the next time leading begins. It may return once its loop is spawned.
    ///
    /// When this replica leads already, the first run is awaited here, so what it sets up
    /// before returning (an initial sync) is in place when this returns, and its error is
    /// returned. A later run that fails is retried while leading.
    pub async fn singleton<F, Fut>(
        &self,
        name: &'static str,
        shutdown: watch::Receiver<bool>,
        mut run: F,
    ) -> Result<JoinHandle<()>, ApiError>
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), ApiError>> + Send + 'static,
    {
        let mut running = false;
        if self.is_leading() && !*shutdown.borrow() {
            run(self.stop_signal(shutdown.clone())).await?;
            running = true;
        }
        Ok(self.supervise(name, shutdown, run, running))
    }

    /// [`Leadership::singleton`] without awaiting a first run: the singleton starts in the
    /// background (at once when leading).
    pub fn spawn_singleton<F, Fut>(
        &self,
        name: &'static str,
        shutdown: watch::Receiver<bool>,
        run: F,
    ) -> JoinHandle<()>
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), ApiError>> + Send + 'static,
    {
        self.supervise(name, shutdown, run, false)
    }

    /// The task that starts `run` whenever leading begins (`running`: a run is under way).
    fn supervise<F, Fut>(
        &self,
        name: &'static str,
        mut shutdown: watch::Receiver<bool>,
        mut run: F,
        mut running: bool,
    ) -> JoinHandle<()>
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), ApiError>> + Send + 'static,
    {
        let leadership = self.clone();
        tokio::spawn(async move {
            let mut leading = leadership.subscribe();
            loop {
                if running {
                    tokio::select! {
                        _ = shutdown.wait_for(|stop| *stop) => return,
                        _ = leading.wait_for(|leading| !*leading) => {}
                    }
                    tracing::info!(singleton = name, "stopped: this replica no longer leads");
                }
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => return,
                    _ = leading.wait_for(|leading| *leading) => {}
                }
                tracing::info!(singleton = name, "starting: this replica leads");
                running = match run(leadership.stop_signal(shutdown.clone())).await {
                    Ok(()) => true,
                    Err(err) => {
                        tracing::warn!(singleton = name, %err, "singleton failed to start");
                        tokio::select! {
                            _ = shutdown.wait_for(|stop| *stop) => return,
                            _ = tokio::time::sleep(RESTART_PAUSE) => {}
                        }
                        false
                    }
                };
            }
        })
    }
}

/// A running election: whether this replica leads, and the elector's task, which ends once
/// shutdown has released the lease.
#[derive(Debug)]
pub struct Elected {
    pub leadership: Leadership,
    pub elector: JoinHandle<()>,
}

/// Competes for `config`'s Lease through `store` until `shutdown`. The first attempt is made
/// before this returns, so a replica alone (or the first of several) leads at once.
pub async fn start(
    store: Store,
    config: LeaderElectionConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Elected, ElectionError> {
    let leadership = Leadership::candidate(&config.name);
    let mut elector = elector::Elector::new(store, config, leadership.clone())?;
    elector.attempt().await;
    let elector = tokio::spawn(elector.run(shutdown));
    Ok(Elected { leadership, elector })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn always_runs_the_singleton_at_once_and_stops_it_at_shutdown() {
        let leadership = Leadership::always();
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (seen_tx, mut seen) = watch::channel(None::<watch::Receiver<bool>>);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let supervisor = leadership
            .singleton("test", shutdown, move |stop| {
                counted.fetch_add(1, Ordering::SeqCst);
                seen_tx.send_replace(Some(stop));
                async { Ok(()) }
            })
            .await
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the first run is awaited");
        let mut stop = seen.borrow_and_update().clone().unwrap();
        assert!(!*stop.borrow());
        shutdown_tx.send_replace(true);
        stop.wait_for(|stop| *stop).await.unwrap();
        supervisor.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_candidate_runs_the_singleton_only_while_leading_and_again_after_regaining() {
        let leadership = Leadership::candidate("test-lease");
        let (_shutdown_tx, shutdown) = watch::channel(false);
        let (stops_tx, mut stops) = tokio::sync::mpsc::unbounded_channel();
        let _supervisor = leadership
            .singleton("test", shutdown, move |stop| {
                stops_tx.send(stop).unwrap();
                async { Ok(()) }
            })
            .await
            .unwrap();
        assert!(stops.try_recv().is_err(), "not leading: not started");
        leadership.set(true);
        let mut first = stops.recv().await.unwrap();
        assert!(!*first.borrow());
        leadership.set(false);
        first.wait_for(|stop| *stop).await.unwrap();
        leadership.set(true);
        let second = stops.recv().await.unwrap();
        assert!(!*second.borrow(), "a new run gets a fresh stop signal");
    }

    /// Two candidates over one store (the embedded log): the first leads, the second takes over
    /// once the first's elector is gone (as after a SIGKILL), with one more transition.
    #[tokio::test]
    async fn a_candidate_takes_over_from_a_leader_that_stopped_renewing() {
        use crate::registry::{Registry, builtin, views::Views};
        use crate::storage::{Storage, embedded::EmbeddedStorage};
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let registry = Arc::new(Registry::new());
        builtin::register_all(&registry);
        let (_stop, stopped) = watch::channel(false);
        let views = Views::new(storage.clone(), Default::default(), stopped.clone());
        let store = Store::new(storage, registry.clone(), views);
        let config = |name: &str| LeaderElectionConfig {
            identity: name.to_owned(),
            lease_duration: Duration::from_secs(1),
            renew_deadline: Duration::from_millis(600),
            retry_period: Duration::from_millis(100),
            ..LeaderElectionConfig::new("test-controllers")
        };
        let a = start(store.clone(), config("a"), stopped.clone()).await.unwrap();
        let b = start(store.clone(), config("b"), stopped.clone()).await.unwrap();
        assert!(a.leadership.is_leading());
        assert!(!b.leadership.is_leading());
        a.elector.abort();
        let mut leading = b.leadership.subscribe();
        tokio::time::timeout(Duration::from_secs(20), leading.wait_for(|l| *l))
            .await
            .expect("b leads in time")
            .unwrap();
        let leases = registry.get("coordination.k8s.io", "v1", "leases").unwrap();
        let lease =
            store.get(&leases, Some("kube-system"), "test-controllers", None).await.unwrap();
        let record = LeaseRecord::of_lease(&lease);
        assert_eq!(record.holder_identity, "b");
        assert_eq!(record.lease_transitions, 1);
        assert_eq!(record.lease_duration_seconds, 1);
    }

    #[tokio::test]
    async fn a_failed_start_while_leading_is_retried() {
        tokio::time::pause();
        let leadership = Leadership::candidate("retry-lease");
        let (_shutdown_tx, shutdown) = watch::channel(false);
        let (runs_tx, mut runs) = tokio::sync::mpsc::unbounded_channel();
        let _supervisor = leadership
            .singleton("test", shutdown, move |_stop| {
                let attempt = runs_tx.send(()).map(|_| ());
                async move {
                    attempt.ok();
                    Err(ApiError::internal("not yet"))
                }
            })
            .await
            .unwrap();
        leadership.set(true);
        runs.recv().await.unwrap();
        runs.recv().await.unwrap();
    }
}
