//! The probe task: asks etcd members for their status (`Maintenance.Status`: member id, leader,
//! raft term) and records the answers in the members' table, so that requests know which member
//! leads and which members are gone or back, without spending a request to find out.
//!
//! One round probes every member whose probe is due, all at once; the table says when the next
//! is due (every second while a leader is known, every 100 ms while none is, unreachable members
//! with a backoff). A request that sees a member fail wakes the task early. The task holds the
//! members weakly and stops once the storage is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::join_all;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::errors::{self, Failure};
use super::health::{LeaderReport, Probe};
use super::members::Members;

/// The longest a probe waits for a member's status; past it the member counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Probes until the members are dropped.
pub(super) async fn run(members: Weak<Members>, wake: Arc<Notify>) {
    loop {
        let next = match members.upgrade() {
            Some(members) => round(&members).await,
            None => return,
        };
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = wake.notified() => {}
        }
    }
}

/// Probes every member that is due, records the results, and returns when the next probe is due.
pub(super) async fn round(members: &Members) -> Instant {
    let due = members.table().due(Instant::now().into_std());
    let probes = join_all(due.iter().map(|&i| probe(members, i))).await;
    let now = Instant::now().into_std();
    let (changes, next) = {
        let mut table = members.table();
        let changes: Vec<_> =
            due.iter().zip(&probes).map(|(&i, p)| (i, table.probed(i, p.0, now))).collect();
        (changes, table.schedule(&due, now))
    };
    for ((i, change), (_, err)) in changes.into_iter().zip(&probes) {
        members.log(i, change, err.as_ref().map(|e| e as &dyn std::fmt::Display));
    }
    members.notify_changed();
    Instant::from_std(next)
}

/// One member's status, and the error that made it unreachable.
async fn probe(members: &Members, i: usize) -> (Probe, Option<etcd_client::Error>) {
    let mut maintenance = members.maintenance(i);
    let limit = PROBE_TIMEOUT.min(members.timeout());
    match tokio::time::timeout(limit, maintenance.status()).await {
        Ok(Ok(status)) => {
            let id = status.header().map_or(0, |h| h.member_id());
            let report = LeaderReport { term: status.raft_term(), leader: status.leader() };
            (Probe::Status { id, report }, None)
        }
        Ok(Err(err)) => match errors::classify(&err) {
            Failure::NotSent | Failure::Lost { broken: true } => (Probe::Unreachable, Some(err)),
            Failure::Refused | Failure::Lost { broken: false } | Failure::Answered => {
                (Probe::Refused, None)
            }
        },
        Err(_) => (Probe::Unreachable, None),
    }
}
