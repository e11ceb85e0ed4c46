//! The election's state machine, without I/O or clocks of its own: what to write given the
//! Lease as read, and whether this replica still leads. client-go's `tryAcquireOrRenew` and its
//! renew deadline, stepped by `elector` with the times it reads.
//!
//! The safety argument: another replica takes the lease only after it has seen the same record
//! for a whole `leaseDurationSeconds` by its own clock ([`Election::plan`] with `observed.at`).
//! The leader counts its deadline from the *start* of its last successful write, which is
//! before any other replica could have seen that write, and steps down `renew_deadline` after
//! it — shorter than the lease duration — so its singletons stop before the lease can expire in
//! anybody's eyes.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::record::{LeaseRecord, micro_time};

/// What to do with the Lease as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// There is no Lease: create it holding this record.
    Create(LeaseRecord),
    /// Update the Lease (conditional on the resourceVersion read) to this record: an
    /// acquisition or a renewal.
    Update(LeaseRecord),
    /// Someone else holds it and it has not expired: wait.
    Wait { holder: String },
}

/// The last record seen, and when (by this replica's monotonic clock).
#[derive(Debug, Clone)]
struct Observed {
    record: LeaseRecord,
    at: Instant,
}

/// One replica's view of the election.
#[derive(Debug, Clone)]
pub struct Election {
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    observed: Option<Observed>,
    /// When the last successful acquisition or renewal *started*, while leading.
    renewed: Option<Instant>,
}

impl Election {
    pub fn new(identity: &str, lease_duration: Duration, renew_deadline: Duration) -> Election {
        Election {
            identity: identity.to_owned(),
            lease_duration,
            renew_deadline,
            observed: None,
            renewed: None,
        }
    }

    /// What to write, given the Lease's record as read at `now` (`None`: no Lease). A record
    /// that differs from the last one seen restarts its expiry clock.
    pub fn plan(&mut self, current: Option<&LeaseRecord>, now: Instant, wall: SystemTime) -> Plan {
        let stamp = micro_time(wall);
        let duration_seconds = self.lease_duration.as_secs().max(1) as i64;
        let Some(current) = current else {
            return Plan::Create(LeaseRecord {
                holder_identity: self.identity.clone(),
                lease_duration_seconds: duration_seconds,
                acquire_time: Some(stamp.clone()),
                renew_time: Some(stamp),
                lease_transitions: 0,
            });
        };
        if self.observed.as_ref().is_none_or(|seen| &seen.record != current) {
            self.observed = Some(Observed { record: current.clone(), at: now });
        }
        let seen_at = self.observed.as_ref().map_or(now, |seen| seen.at);
        let holder = &current.holder_identity;
        let expires = seen_at + Duration::from_secs(current.lease_duration_seconds.max(0) as u64);
        if !holder.is_empty() && holder != &self.identity && expires > now {
            return Plan::Wait { holder: holder.clone() };
        }
        let ours = holder == &self.identity;
        Plan::Update(LeaseRecord {
            holder_identity: self.identity.clone(),
            lease_duration_seconds: duration_seconds,
            acquire_time: if ours { current.acquire_time.clone() } else { Some(stamp.clone()) },
            renew_time: Some(stamp),
            lease_transitions: current.lease_transitions + if ours { 0 } else { 1 },
        })
    }

    /// The planned `written` record was stored by a write that started at `started`.
    pub fn succeeded(&mut self, written: LeaseRecord, started: Instant) {
        self.observed = Some(Observed { record: written, at: started });
        self.renewed = Some(started);
    }

    /// Whether this replica leads at `now`: it renewed less than the renew deadline ago.
    pub fn is_leading(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|deadline| now < deadline)
    }

    /// When this replica must have stepped down unless it renews first.
    pub fn deadline(&self) -> Option<Instant> {
        self.renewed.map(|renewed| renewed + self.renew_deadline)
    }

    /// Stops leading (the deadline passed, or another replica holds the lease).
    pub fn step_down(&mut self) {
        self.renewed = None;
    }

    /// The record that gives the lease up, if `current` is still this replica's: no holder, a
    /// one-second duration, the transitions kept (client-go's `ReleaseOnCancel`).
    pub fn release(&self, current: &LeaseRecord, wall: SystemTime) -> Option<LeaseRecord> {
        if current.holder_identity != self.identity {
            return None;
        }
        let stamp = micro_time(wall);
        Some(LeaseRecord {
            holder_identity: String::new(),
            lease_duration_seconds: 1,
            acquire_time: Some(stamp.clone()),
            renew_time: Some(stamp),
            lease_transitions: current.lease_transitions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(15);
    const DEADLINE: Duration = Duration::from_secs(10);

    fn election(identity: &str) -> Election {
        Election::new(identity, LEASE, DEADLINE)
    }

    fn held_by(holder: &str, transitions: i64) -> LeaseRecord {
        LeaseRecord {
            holder_identity: holder.into(),
            lease_duration_seconds: 15,
            acquire_time: Some("2026-12-07T17:00:00.000000Z".into()),
            renew_time: Some("2026-12-07T17:00:00.000000Z".into()),
            lease_transitions: transitions,
        }
    }

    fn update(plan: Plan) -> LeaseRecord {
        match plan {
            Plan::Update(record) => record,
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn no_lease_is_created_held_by_us_with_no_transitions() {
        let mut a = election("a");
        let Plan::Create(record) = a.plan(None, Instant::now(), SystemTime::now()) else {
            panic!("expected a create")
        };
        assert_eq!(record.holder_identity, "a");
        assert_eq!(record.lease_duration_seconds, 15);
        assert_eq!(record.lease_transitions, 0);
        assert_eq!(record.acquire_time, record.renew_time);
        assert!(!a.is_leading(Instant::now()), "leading only once the write succeeded");
    }

    #[test]
    fn another_holders_lease_is_taken_only_after_a_whole_duration_unchanged() {
        let mut b = election("b");
        let t0 = Instant::now();
        let held = held_by("a", 2);
        assert_eq!(b.plan(Some(&held), t0, SystemTime::now()), Plan::Wait { holder: "a".into() });
        let almost = t0 + LEASE - Duration::from_millis(1);
        assert!(matches!(b.plan(Some(&held), almost, SystemTime::now()), Plan::Wait { .. }));
        let taken = update(b.plan(Some(&held), t0 + LEASE, SystemTime::now()));
        assert_eq!(taken.holder_identity, "b");
        assert_eq!(taken.lease_transitions, 3, "a change of hands counts");
        assert_ne!(taken.acquire_time, held.acquire_time);
    }

    #[test]
    fn a_renewal_seen_restarts_the_expiry_clock() {
        let mut b = election("b");
        let t0 = Instant::now();
        b.plan(Some(&held_by("a", 0)), t0, SystemTime::now());
        let mut renewed = held_by("a", 0);
        renewed.renew_time = Some("2026-12-07T17:00:02.000000Z".into());
        let t1 = t0 + Duration::from_secs(10);
        assert!(matches!(b.plan(Some(&renewed), t1, SystemTime::now()), Plan::Wait { .. }));
        // Fifteen seconds after the first sight, but only five after the renewal: still held.
        assert!(matches!(b.plan(Some(&renewed), t0 + LEASE, SystemTime::now()), Plan::Wait { .. }));
        assert!(matches!(b.plan(Some(&renewed), t1 + LEASE, SystemTime::now()), Plan::Update(_)));
    }

    #[test]
    fn a_released_lease_is_taken_at_once() {
        let mut b = election("b");
        let a = election("a");
        let released = a.release(&held_by("a", 4), SystemTime::now()).unwrap();
        assert_eq!(released.holder_identity, "");
        assert_eq!(released.lease_duration_seconds, 1);
        assert_eq!(released.lease_transitions, 4);
        let taken = update(b.plan(Some(&released), Instant::now(), SystemTime::now()));
        assert_eq!(taken.holder_identity, "b");
        assert_eq!(taken.lease_transitions, 5);
    }

    #[test]
    fn only_the_holder_releases() {
        assert_eq!(election("b").release(&held_by("a", 0), SystemTime::now()), None);
    }

    #[test]
    fn renewing_keeps_the_acquire_time_and_the_transitions() {
        let mut a = election("a");
        let held = held_by("a", 7);
        let renewed = update(a.plan(Some(&held), Instant::now(), SystemTime::now()));
        assert_eq!(renewed.acquire_time, held.acquire_time);
        assert_eq!(renewed.lease_transitions, 7);
        assert_ne!(renewed.renew_time, held.renew_time);
    }

    #[test]
    fn the_leader_steps_down_at_the_renew_deadline_before_others_may_take_over() {
        let mut a = election("a");
        let mut b = election("b");
        let t0 = Instant::now();
        let Plan::Create(record) = a.plan(None, t0, SystemTime::now()) else { panic!() };
        a.succeeded(record.clone(), t0);
        assert!(a.is_leading(t0));
        // b sees a's record only after a's write started; a fails every renewal from now on.
        let seen = t0 + Duration::from_millis(5);
        assert!(matches!(b.plan(Some(&record), seen, SystemTime::now()), Plan::Wait { .. }));
        let deadline = a.deadline().unwrap();
        assert!(a.is_leading(deadline - Duration::from_millis(1)));
        assert!(!a.is_leading(deadline));
        // The first instant b may take the lease, a no longer leads.
        let mut first_take = seen;
        while matches!(b.plan(Some(&record), first_take, SystemTime::now()), Plan::Wait { .. }) {
            first_take += Duration::from_millis(100);
        }
        assert!(!a.is_leading(first_take));
        assert!(first_take - deadline >= LEASE - DEADLINE);
    }

    #[test]
    fn a_renewal_moves_the_deadline_and_stepping_down_ends_leading() {
        let mut a = election("a");
        let t0 = Instant::now();
        a.succeeded(held_by("a", 0), t0);
        let t1 = t0 + Duration::from_secs(8);
        a.succeeded(held_by("a", 0), t1);
        assert!(a.is_leading(t0 + Duration::from_secs(12)));
        a.step_down();
        assert!(!a.is_leading(t1));
        assert_eq!(a.deadline(), None);
    }
}
