//! The elector task: reads the Lease, asks the [`Election`] what to write, writes it through the
//! registry's store like any client (admission, audit and the ledger see every renewal), and
//! publishes whether this replica leads to its [`Leadership`].
//!
//! ```text
//!  every retry period ──▶ GET lease (consistent) ──▶ Election::plan ─┬─ Create / Update ─▶ leading
//!  (jittered while a candidate)                                     └─ Wait (held) ─────▶ not leading
//!  renew deadline passed without a successful write ─────────────────────────────────▶ not leading
//!  shutdown ──▶ not leading ──▶ release the lease (holder "", 1 s) if it is still ours
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::config::{JITTER, LeaderElectionConfig};
use super::election::{Election, Plan};
use super::record::LeaseRecord;
use super::{ElectionError, Leadership};
use crate::meta::status::{ApiError, Reason};
use crate::registry::store::Store;
use crate::registry::{Operation, Resource};
use crate::storage::Verb;

/// Who the elector's Lease writes are recorded as: kube-controller-manager's own user, whose
/// leases these are.
const ELECTOR_USER: &str = "system:kube-controller-manager";

/// How long the release of the lease at shutdown may take.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// What one attempt found.
#[derive(Debug)]
enum Outcome {
    /// The lease was created, taken or renewed: this replica leads.
    Leading,
    /// Another replica holds it.
    HeldBy(String),
}

/// One replica's candidacy for one Lease.
pub(super) struct Elector {
    store: Store,
    leases: Arc<Resource>,
    config: LeaderElectionConfig,
    election: Election,
    leadership: Leadership,
}

impl Elector {
    pub(super) fn new(
        store: Store,
        config: LeaderElectionConfig,
        leadership: Leadership,
    ) -> Result<Elector, ElectionError> {
        config.validate()?;
        let leases = store
            .registry
            .get("coordination.k8s.io", "v1", "leases")
            .ok_or(ElectionError::LeasesNotServed)?;
        let election =
            Election::new(&config.identity, config.lease_duration, config.renew_deadline);
        Ok(Elector { store, leases, config, election, leadership })
    }

    /// Competes until `shutdown` flips, then steps down and releases the lease.
    pub(super) async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let pause = if self.leadership.is_leading() {
                self.config.retry_period
            } else {
                jittered(self.config.retry_period)
            };
            let mut wake = Instant::now() + pause;
            if let Some(deadline) = self.election.deadline() {
                wake = wake.min(deadline);
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => break,
                _ = tokio::time::sleep_until(wake) => {}
            }
            self.check_deadline();
            self.attempt().await;
        }
        let was_leading = self.leadership.is_leading();
        self.election.step_down();
        self.publish(false);
        if was_leading {
            match tokio::time::timeout(RELEASE_TIMEOUT, self.release()).await {
                Ok(Ok(())) => tracing::info!(lease = %self.config.name, "released the lease"),
                Ok(Err(err)) => tracing::warn!(%err, "could not release the lease"),
                Err(_) => tracing::warn!("releasing the lease timed out"),
            }
        }
    }

    /// One attempt to acquire or renew, bounded by the renew deadline while leading.
    pub(super) async fn attempt(&mut self) {
        let started = Instant::now();
        let budget = match self.election.deadline() {
            Some(deadline) => deadline.saturating_duration_since(started),
            None => self.config.renew_deadline,
        };
        match tokio::time::timeout(budget, self.try_acquire_or_renew(started)).await {
            Ok(Ok(Outcome::Leading)) => self.publish(true),
            Ok(Ok(Outcome::HeldBy(holder))) => {
                if self.leadership.is_leading() {
                    tracing::warn!(%holder, "the lease is held by another replica");
                }
                self.election.step_down();
                self.publish(false);
            }
            Ok(Err(err))
                if err.reason == Reason::Conflict || err.reason == Reason::AlreadyExists =>
            {
                tracing::debug!(%err, "another replica wrote the lease first");
            }
            Ok(Err(err)) => tracing::warn!(%err, lease = %self.config.name, "lease attempt failed"),
            Err(_) => tracing::warn!(lease = %self.config.name, "lease attempt timed out"),
        }
        self.check_deadline();
    }

    /// Steps down once the renew deadline has passed without a renewal.
    fn check_deadline(&mut self) {
        if self.leadership.is_leading() && !self.election.is_leading(Instant::now()) {
            tracing::warn!(lease = %self.config.name, "failed to renew the lease in time");
            self.election.step_down();
            self.publish(false);
        }
    }

    fn publish(&self, leading: bool) {
        if self.leadership.set(leading) {
            let identity = &self.config.identity;
            if leading {
                tracing::info!(lease = %self.config.name, %identity, "leading: singletons start");
            } else {
                tracing::info!(lease = %self.config.name, %identity, "stopped leading");
            }
        }
    }

    async fn try_acquire_or_renew(&mut self, started: Instant) -> Result<Outcome, ApiError> {
        let current = self.read().await?;
        let record = current.as_ref().map(LeaseRecord::of_lease);
        match self.election.plan(record.as_ref(), Instant::now(), SystemTime::now()) {
            Plan::Wait { holder } => Ok(Outcome::HeldBy(holder)),
            Plan::Create(record) => {
                let body = record.to_lease(&self.config.namespace, &self.config.name);
                let op = self.operation(Verb::Create);
                self.store.create(&self.leases, &op, body).await?;
                self.election.succeeded(record, started);
                Ok(Outcome::Leading)
            }
            Plan::Update(record) => {
                // `current` carries the resourceVersion read: the update is conditional on it.
                let body = record.into_lease(current.unwrap_or_default());
                self.store.update(&self.leases, &self.operation(Verb::Update), body).await?;
                self.election.succeeded(record, started);
                Ok(Outcome::Leading)
            }
        }
    }

    /// The Lease, read consistently (as client-go's GET without a resourceVersion).
    async fn read(&self) -> Result<Option<Value>, ApiError> {
        let (namespace, name) = (Some(self.config.namespace.as_str()), &self.config.name);
        match self.store.get(&self.leases, namespace, name, None).await {
            Ok(lease) => Ok(Some(lease)),
            Err(err) if err.reason == Reason::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Gives the lease up if it is still ours, so another replica takes it at once.
    async fn release(&self) -> Result<(), ApiError> {
        let Some(lease) = self.read().await? else { return Ok(()) };
        let Some(record) = self.election.release(&LeaseRecord::of_lease(&lease), SystemTime::now())
        else {
            return Ok(());
        };
        let body = record.into_lease(lease);
        self.store.update(&self.leases, &self.operation(Verb::Update), body).await?;
        Ok(())
    }

    fn operation(&self, verb: Verb) -> Operation {
        Operation::internal(ELECTOR_USER, verb, &self.leases)
            .in_namespace(Some(&self.config.namespace))
            .named(&self.config.name)
    }
}

/// `period` times a random factor in `[1, 1 + JITTER)` (client-go's `wait.Jitter`).
fn jittered(period: Duration) -> Duration {
    let random = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    period.mul_f64(1.0 + random * JITTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_client_gos_factor() {
        let period = Duration::from_secs(2);
        for _ in 0..100 {
            let pause = jittered(period);
            assert!(pause >= period && pause < period.mul_f64(1.0 + JITTER), "{pause:?}");
        }
    }
}
