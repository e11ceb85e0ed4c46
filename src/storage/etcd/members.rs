//! The etcd members named by `--etcd-servers`: one client per member, and the loop that sends
//! each request to a member that can serve it.
//!
//! etcd-client's own channel balances requests round-robin over all its endpoints and never
//! stops sending to a member that is down, so a dead member failed every third request of a
//! three-member cluster. Here every member has a client of its own, and [`Members::call`] picks
//! the member of each attempt from the [`Table`](super::health::Table) of what is known about
//! them (see `health` for the rules: the leader first, reachable members next, wait out an
//! election):
//!
//! ```text
//! request ─▶ route ─▶ attempt on member i ─┬─ answer ───────────────────────────▶ caller
//!              ▲                           ├─ not sent: member unreachable ──┐
//!              │                           ├─ refused (no leader …) ─────────┤
//!              │                           ├─ lost: a read ──────────────────┤
//!              │                           └─ lost: a write ─▶ OutcomeUnknown│
//!              └──────────── next member; after a full round, a short pause ─┘
//! ```
//!
//! A request never outlives its deadline (`--storage-request-timeout`): every attempt, pause and
//! wait counts against it. It fails with [`StorageError::Unavailable`] when it was provably never
//! carried out — every member refused the connection or refused the request, or no leader came
//! within the deadline — and a write whose answer was lost fails at once with
//! [`StorageError::OutcomeUnknown`] instead of being retried, since it may have been applied.
//!
//! The probe task (`probe`) keeps the table current between requests: it asks every member for
//! its status, so it learns which member leads and notices members that went or came back.
//! Every request carries etcd's `hasleader` requirement: a member without a leader refuses at
//! once instead of holding the request until its deadline.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use etcd_client::{Client, ConnectOptions, KvClient, MaintenanceClient, WatchClient};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::errors::{self, EtcdResult, Failure, Kind};
use super::health::{Change, Route, Table};
use super::probe;
use crate::storage::{Result, StorageError};

/// The largest gRPC message accepted from etcd. tonic's default (4 MiB) is smaller than one list
/// page or watch batch of large objects; like kube-apiserver, accept what etcd may send.
const MAX_MESSAGE_BYTES: usize = i32::MAX as usize;

/// How often an idle connection is pinged, so that a watch on a silently dead connection fails
/// instead of waiting forever (kube-apiserver's keepalive time; etcd refuses pings more often
/// than every 5 s).
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// The longest a connection attempt may take: a member that does not accept within it counts as
/// down, and the request moves on to the next member with time left.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The pauses between rounds of attempts while members are reachable but cannot serve (an
/// election, an overloaded member): the first, then doubling up to the longest.
const PAUSE_FIRST: Duration = Duration::from_millis(50);
const PAUSE_LONGEST: Duration = Duration::from_millis(400);

/// How long a request waiting for a leader sleeps before looking again, if no probe result wakes
/// it first.
const AWAIT_LEADER_POLL: Duration = Duration::from_millis(100);

/// The clients of one member, as an attempt uses them. Cheap to clone.
#[derive(Clone)]
pub(super) struct Clients {
    pub kv: KvClient,
    pub watch: WatchClient,
    /// How to reach the same member on a connection of its own.
    pub dial: Arc<Dial>,
}

/// One member's endpoint and connection options: what opens a new connection to it.
pub(super) struct Dial {
    endpoint: String,
    options: ConnectOptions,
}

impl Dial {
    /// A watch client on a new connection to the member, which lives as long as the client (and
    /// any watch it opened). Every watch of a member shares the member's one HTTP/2 connection
    /// and its flow-control window: responses waiting unread on some watches hold back those of
    /// every other watch and read. A watch on a connection of its own holds back nothing else.
    pub async fn watch_client(&self) -> EtcdResult<WatchClient> {
        let client = Client::connect([&self.endpoint], Some(self.options.clone())).await?;
        Ok(client.watch_client().max_decoding_message_size(MAX_MESSAGE_BYTES))
    }
}

/// One member: where it is and its clients.
struct Member {
    endpoint: String,
    clients: Clients,
    maintenance: MaintenanceClient,
}

/// Every member of `--etcd-servers` and what is known about them. Shared by every clone of the
/// storage; the probe task holds it weakly and stops when the last clone is dropped.
pub(super) struct Members {
    members: Box<[Member]>,
    /// A std mutex: held for a few field updates, never across an await.
    table: Mutex<Table>,
    /// Bumped whenever a member becomes reachable or unreachable, or a probe round ends: wakes
    /// the requests waiting for a leader.
    changed: watch::Sender<u64>,
    /// Wakes the probe task before its next scheduled round.
    probe_now: Arc<Notify>,
    /// The deadline of one request.
    timeout: Duration,
}

impl std::fmt::Debug for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let endpoints: Vec<&str> = self.members.iter().map(|m| m.endpoint.as_str()).collect();
        f.debug_struct("Members").field("endpoints", &endpoints).finish_non_exhaustive()
    }
}

impl Drop for Members {
    fn drop(&mut self) {
        self.probe_now.notify_one(); // the probe task notices the members are gone and stops
    }
}

impl Members {
    /// Builds a client per endpoint (no connection is made yet), probes every member once so
    /// that the first requests already know the leader, and starts the probe task.
    pub(super) async fn connect(endpoints: &[String], timeout: Duration) -> Result<Arc<Members>> {
        if endpoints.is_empty() {
            return Err(StorageError::Internal("no etcd endpoints configured".to_owned()));
        }
        let options = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .with_keep_alive(KEEP_ALIVE_INTERVAL, timeout)
            .with_require_leader(true);
        let mut members = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let client = Client::connect([endpoint], Some(options.clone()))
                .await
                .map_err(|err| errors::map(err, Kind::Read))?;
            members.push(Member {
                endpoint: endpoint.clone(),
                clients: Clients {
                    kv: client.kv_client().max_decoding_message_size(MAX_MESSAGE_BYTES),
                    watch: client.watch_client().max_decoding_message_size(MAX_MESSAGE_BYTES),
                    dial: Arc::new(Dial { endpoint: endpoint.clone(), options: options.clone() }),
                },
                maintenance: client.maintenance_client(),
            });
        }
        let probe_now = Arc::new(Notify::new());
        let members = Arc::new(Members {
            table: Mutex::new(Table::new(members.len(), Instant::now().into_std())),
            members: members.into_boxed_slice(),
            changed: watch::Sender::new(0),
            probe_now: probe_now.clone(),
            timeout,
        });
        probe::round(&members).await;
        tokio::spawn(probe::run(Arc::downgrade(&members), probe_now));
        Ok(members)
    }

    pub(super) fn len(&self) -> usize {
        self.members.len()
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(super) fn endpoint(&self, i: usize) -> &str {
        &self.members[i].endpoint
    }

    pub(super) fn maintenance(&self, i: usize) -> MaintenanceClient {
        self.members[i].maintenance.clone()
    }

    pub(super) fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the requests waiting for a leader to look again.
    pub(super) fn notify_changed(&self) {
        self.changed.send_modify(|generation| *generation += 1);
    }

    /// Runs `attempt` on a member that can serve it, on the next one when a failure allows (see
    /// the module doc), until it is answered or the deadline passes. The outer error is the
    /// request's failure (unavailable, outcome unknown); the inner result is etcd's answer,
    /// errors included, left to the caller because some of them need context to map.
    pub(super) async fn call<T, F, Fut>(
        &self,
        what: &str,
        kind: Kind,
        mut attempt: F,
    ) -> Result<EtcdResult<T>>
    where
        F: FnMut(Clients) -> Fut,
        Fut: Future<Output = EtcdResult<T>>,
    {
        let deadline = Instant::now() + self.timeout;
        let mut changes = self.changed.subscribe();
        let mut round = Round::new(self.len());
        let mut pause = PAUSE_FIRST;
        loop {
            changes.borrow_and_update();
            let route = self.table().route(&round.tried, Instant::now().into_std());
            match route {
                Route::To(i) => {
                    round.tried[i] = true;
                    let clients = self.members[i].clients.clone();
                    let err = match tokio::time::timeout_at(deadline, attempt(clients)).await {
                        Ok(Ok(answer)) => {
                            self.answered(i);
                            return Ok(Ok(answer));
                        }
                        Ok(Err(err)) => err,
                        Err(_) => {
                            // No proof the member is gone (etcd may be slow): let a probe tell.
                            self.probe_now.notify_one();
                            return Err(errors::timed_out(what, kind, self.timeout));
                        }
                    };
                    match errors::classify(&err) {
                        Failure::Answered => {
                            self.answered(i);
                            return Ok(Err(err));
                        }
                        Failure::NotSent => self.connection_failed(i, &err),
                        Failure::Refused => {
                            self.probe_now.notify_one();
                            round.retry_later = true;
                        }
                        Failure::Lost { broken } => {
                            if broken {
                                self.connection_failed(i, &err);
                            }
                            if kind == Kind::Write {
                                return Err(errors::map(err, kind));
                            }
                            round.retry_later = true;
                        }
                    }
                    round.last = Some(err);
                }
                Route::AwaitLeader => {
                    let wake = deadline.min(Instant::now() + AWAIT_LEADER_POLL);
                    let _ = tokio::time::timeout_at(wake, changes.changed()).await;
                    if Instant::now() >= deadline {
                        return Err(StorageError::Unavailable(format!(
                            "etcd elected no leader within {:?} for {what}",
                            self.timeout
                        )));
                    }
                    round = Round::new(self.len());
                }
                Route::Exhausted => {
                    let detail = round.last.as_ref().map(ToString::to_string).unwrap_or_default();
                    // Every member refused the connection: nothing to wait for.
                    if !round.retry_later || Instant::now() + pause >= deadline {
                        return Err(StorageError::Unavailable(format!(
                            "no etcd member could serve {what}: {detail}"
                        )));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(PAUSE_LONGEST);
                    round = Round::new(self.len());
                }
            }
        }
    }

    fn answered(&self, i: usize) {
        let change = self.table().answered(i);
        self.log(i, change, None);
    }

    fn connection_failed(&self, i: usize, err: &etcd_client::Error) {
        let change = self.table().connection_failed(i, Instant::now().into_std());
        self.log(i, change, Some(err));
        self.probe_now.notify_one();
    }

    /// Logs a member's change of reachability (once per change, not once per request) and wakes
    /// the requests waiting on it.
    pub(super) fn log(&self, i: usize, change: Change, err: Option<&dyn std::fmt::Display>) {
        let endpoint = self.endpoint(i);
        match change {
            Change::None => return,
            Change::Reachable => tracing::info!(endpoint, "etcd member is reachable again"),
            Change::Unreachable => match err {
                Some(err) => tracing::warn!(endpoint, %err, "etcd member is unreachable"),
                None => tracing::warn!(endpoint, "etcd member is unreachable"),
            },
        }
        self.notify_changed();
    }
}

/// One pass over the members within a request.
struct Round {
    /// The members attempted in this round.
    tried: Vec<bool>,
    /// Some member was reached but could not serve (refused, or a read's answer was lost): worth
    /// another round after a pause.
    retry_later: bool,
    /// The last failure, for the error's detail.
    last: Option<etcd_client::Error>,
}

impl Round {
    fn new(members: usize) -> Round {
        Round { tried: vec![false; members], retry_later: false, last: None }
    }
}
