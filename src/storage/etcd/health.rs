//! What kube-ledger knows about each etcd member, and which member a request goes to next.
//!
//! Pure bookkeeping, no I/O: [`Table`] records what requests and probes found out (a member
//! answered, a connection to it failed, the leader it reports), and [`Table::route`] turns it into
//! the next member to try. `members` calls both around every attempt; `probe` records its status
//! probes and asks when to probe next.
//!
//! The rules:
//! - The leader first, when a reachable member reports one that is reachable itself: a write ends
//!   up at the leader anyway, and a request sent there is not lost when a follower dies.
//! - While the leader is unreachable and no reachable member reports a newer one, for at most
//!   [`ELECTION_GRACE`], requests wait ([`Route::AwaitLeader`]): a follower would forward a write
//!   to the dead leader until it notices, and raft drops what it forwarded, so the write would
//!   wait out its deadline with an unknown outcome. Past the grace, the leader may simply be out
//!   of kube-ledger's reach while the followers still reach it, so requests go to them.
//! - Otherwise the reachable members in order, then (every one unreachable) each of the others
//!   once: a connection refused costs nothing, and a member may be back before its probe says so.

use std::time::{Duration, Instant};

/// How long requests wait for a new leader after the leader became unreachable. etcd's default
/// election timeout is 1 s and a new leader is usually elected within two; a cluster configured
/// with a longer `--election-timeout` makes the requests of the first seconds wait out their own
/// deadline instead.
pub(super) const ELECTION_GRACE: Duration = Duration::from_secs(3);

/// How often a member is probed while all is well.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How often members are probed while no reachable leader is known: the election's end is
/// noticed within this.
const PROBE_INTERVAL_ELECTING: Duration = Duration::from_millis(100);
/// The backoff of an unreachable member's probes: from the first to the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_LONGEST: Duration = Duration::from_secs(2);

/// The leader a member reported, with the raft term it reported it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LeaderReport {
    pub term: u64,
    /// The leader's member id; etcd reports 0 for "none".
    pub leader: u64,
}

/// What is known of one member.
#[derive(Debug, Clone)]
struct State {
    /// False once a connection to it failed, until it answers again.
    reachable: bool,
    /// When it last became unreachable.
    unreachable_since: Option<Instant>,
    /// Consecutive failed probes: the backoff of the next one.
    failures: u32,
    /// When the probe task asks it next.
    next_probe: Instant,
    /// Its etcd member id, once a probe has told.
    id: Option<u64>,
    /// The leader its last successful probe reported.
    report: Option<LeaderReport>,
}

/// Which member a request goes to next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    To(usize),
    /// The leader is gone and no new one is known yet: wait for the probes to find it.
    AwaitLeader,
    /// Every member has been tried in this round.
    Exhausted,
}

/// What a probe of a member found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probe {
    /// It answered with its member id and the leader it follows.
    Status { id: u64, report: LeaderReport },
    /// It answered but could not say (it refused: no leader, overloaded).
    Refused,
    /// No connection, or no answer within the probe's deadline.
    Unreachable,
}

/// What a recording changed, for the caller to log outside the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    None,
    Reachable,
    Unreachable,
}

/// The leader as the table sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leader {
    At(usize),
    Electing,
    Unknown,
}

/// What is known of every member, in `--etcd-servers` order.
#[derive(Debug, Clone)]
pub(super) struct Table {
    members: Vec<State>,
}

impl Table {
    /// `count` members, each presumed reachable and due for a probe at `now`.
    pub(super) fn new(count: usize, now: Instant) -> Table {
        let fresh = State {
            reachable: true,
            unreachable_since: None,
            failures: 0,
            next_probe: now,
            id: None,
            report: None,
        };
        Table { members: vec![fresh; count] }
    }

    /// The next member for a request that has already tried the members marked in `tried`.
    pub(super) fn route(&self, tried: &[bool], now: Instant) -> Route {
        match self.leader(now) {
            Leader::At(i) if !tried[i] => return Route::To(i),
            Leader::Electing => return Route::AwaitLeader,
            Leader::At(_) | Leader::Unknown => {}
        }
        let untried = |reachable: bool| {
            (0..self.members.len()).find(|&i| !tried[i] && self.members[i].reachable == reachable)
        };
        untried(true).or_else(|| untried(false)).map_or(Route::Exhausted, Route::To)
    }

    /// The leader reported in the newest term by a reachable member.
    fn leader(&self, now: Instant) -> Leader {
        let newest = self
            .members
            .iter()
            .filter(|m| m.reachable)
            .filter_map(|m| m.report)
            .max_by_key(|r| (r.term, r.leader != 0));
        let Some(report) = newest else {
            return Leader::Unknown;
        };
        if report.leader == 0 {
            return Leader::Electing;
        }
        let Some(at) = self.members.iter().position(|m| m.id == Some(report.leader)) else {
            return Leader::Unknown; // a leader outside --etcd-servers: any member forwards to it
        };
        let leader = &self.members[at];
        match leader.unreachable_since {
            _ if leader.reachable => Leader::At(at),
            Some(since) if now.saturating_duration_since(since) < ELECTION_GRACE => {
                Leader::Electing
            }
            _ => Leader::Unknown,
        }
    }

    /// Member `i` answered a request.
    pub(super) fn answered(&mut self, i: usize) -> Change {
        let member = &mut self.members[i];
        if member.reachable {
            return Change::None;
        }
        member.reachable = true;
        member.unreachable_since = None;
        member.failures = 0;
        Change::Reachable
    }

    /// A connection to member `i` failed under a request: no more requests until it answers a
    /// probe, the first one soon.
    pub(super) fn connection_failed(&mut self, i: usize, now: Instant) -> Change {
        let member = &mut self.members[i];
        if !member.reachable {
            return Change::None;
        }
        member.reachable = false;
        member.unreachable_since = Some(now);
        member.failures = 1;
        member.next_probe = now + BACKOFF_FIRST;
        Change::Unreachable
    }

    /// The members whose probe is due at `now`.
    pub(super) fn due(&self, now: Instant) -> Vec<usize> {
        (0..self.members.len()).filter(|&i| self.members[i].next_probe <= now).collect()
    }

    /// Records what probing member `i` at `now` found and schedules its next probe.
    pub(super) fn probed(&mut self, i: usize, probe: Probe, now: Instant) -> Change {
        let member = &mut self.members[i];
        let was_reachable = member.reachable;
        match probe {
            Probe::Status { id, report } => {
                member.id = Some(id);
                member.report = Some(report);
            }
            Probe::Refused => member.report = None,
            Probe::Unreachable => {
                member.report = None;
                member.reachable = false;
                if was_reachable {
                    member.unreachable_since = Some(now);
                }
                member.failures = member.failures.saturating_add(1);
                member.next_probe = now + backoff(member.failures);
                return if was_reachable { Change::Unreachable } else { Change::None };
            }
        }
        member.reachable = true;
        member.unreachable_since = None;
        member.failures = 0;
        if was_reachable { Change::None } else { Change::Reachable }
    }

    /// Schedules the next probe of every reachable member probed at `now`, and returns when the
    /// next probe of any member is due.
    pub(super) fn schedule(&mut self, probed: &[usize], now: Instant) -> Instant {
        let interval = match self.leader(now) {
            Leader::At(_) => PROBE_INTERVAL,
            Leader::Electing | Leader::Unknown => PROBE_INTERVAL_ELECTING,
        };
        for &i in probed {
            if self.members[i].reachable {
                self.members[i].next_probe = now + interval;
            }
        }
        let next = self.members.iter().map(|m| m.next_probe).min();
        next.unwrap_or(now + PROBE_INTERVAL)
    }
}

/// The delay before the probe after `failures` consecutive failed ones.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_FIRST.saturating_mul(1 << doublings).min(BACKOFF_LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [u64; 3] = [11, 22, 33];

    /// Three members that all answered a probe at `now` naming member `leader` in `term`.
    fn cluster(leader: usize, term: u64, now: Instant) -> Table {
        let mut table = Table::new(3, now);
        for (i, id) in IDS.into_iter().enumerate() {
            let report = LeaderReport { term, leader: IDS[leader] };
            table.probed(i, Probe::Status { id, report }, now);
        }
        table.schedule(&[0, 1, 2], now);
        table
    }

    #[test]
    fn requests_go_to_the_leader_then_to_the_others_in_order() {
        let now = Instant::now();
        let table = cluster(1, 2, now);
        assert_eq!(table.route(&[false; 3], now), Route::To(1));
        assert_eq!(table.route(&[false, true, false], now), Route::To(0));
        assert_eq!(table.route(&[true, true, false], now), Route::To(2));
        assert_eq!(table.route(&[true; 3], now), Route::Exhausted);
    }

    #[test]
    fn a_dead_follower_gets_no_requests_until_it_answers_again() {
        let now = Instant::now();
        let mut table = cluster(0, 2, now);
        assert_eq!(table.connection_failed(1, now), Change::Unreachable);
        assert_eq!(table.connection_failed(1, now), Change::None);
        assert_eq!(table.route(&[false; 3], now), Route::To(0));
        assert_eq!(table.route(&[true, false, false], now), Route::To(2));
        // Only when every reachable member was tried is the unreachable one tried, once.
        assert_eq!(table.route(&[true, false, true], now), Route::To(1));
        // Probed with a backoff; back in use once it answers.
        assert_eq!(table.due(now), Vec::<usize>::new());
        assert_eq!(table.due(now + BACKOFF_FIRST), vec![1]);
        let later = now + BACKOFF_FIRST;
        assert_eq!(table.probed(1, Probe::Unreachable, later), Change::None);
        assert_eq!(table.due(later + BACKOFF_FIRST), Vec::<usize>::new());
        assert_eq!(table.due(later + 2 * BACKOFF_FIRST), vec![1]);
        let report = LeaderReport { term: 2, leader: IDS[0] };
        let back = table.probed(1, Probe::Status { id: IDS[1], report }, later);
        assert_eq!(back, Change::Reachable);
        assert_eq!(table.route(&[true, false, false], later), Route::To(1));
    }

    #[test]
    fn requests_wait_for_a_new_leader_while_the_old_one_is_gone() {
        let now = Instant::now();
        let mut table = cluster(0, 2, now);
        table.connection_failed(0, now);
        // The followers still name the dead leader: wait rather than have them forward to it.
        assert_eq!(table.route(&[false; 3], now), Route::AwaitLeader);
        // One follower noticed and is campaigning (refuses: no leader); the other still names
        // the old leader: still waiting, and probing often.
        table.probed(1, Probe::Refused, now);
        assert_eq!(table.route(&[false; 3], now), Route::AwaitLeader);
        assert_eq!(table.schedule(&[1, 2], now), now + PROBE_INTERVAL_ELECTING);
        // A newer term names member 2: requests go there.
        let elected = LeaderReport { term: 3, leader: IDS[2] };
        table.probed(1, Probe::Status { id: IDS[1], report: elected }, now);
        assert_eq!(table.route(&[false; 3], now), Route::To(2));
    }

    #[test]
    fn an_election_reported_as_no_leader_is_waited_for() {
        let now = Instant::now();
        let mut table = Table::new(2, now);
        let none = LeaderReport { term: 4, leader: 0 };
        table.probed(0, Probe::Status { id: 1, report: none }, now);
        assert_eq!(table.route(&[false; 2], now), Route::AwaitLeader);
    }

    #[test]
    fn a_leader_out_of_reach_past_the_grace_is_reached_through_its_followers() {
        let now = Instant::now();
        let mut table = cluster(0, 2, now);
        table.connection_failed(0, now);
        let later = now + ELECTION_GRACE;
        assert_eq!(table.route(&[false; 3], later), Route::To(1));
    }

    #[test]
    fn without_probes_requests_go_in_order_and_every_member_is_tried() {
        let now = Instant::now();
        let mut table = Table::new(2, now);
        assert_eq!(table.route(&[false, false], now), Route::To(0));
        table.connection_failed(0, now);
        table.connection_failed(1, now);
        assert_eq!(table.route(&[false, false], now), Route::To(0));
        assert_eq!(table.route(&[true, false], now), Route::To(1));
        assert_eq!(table.route(&[true, true], now), Route::Exhausted);
        assert_eq!(table.answered(1), Change::Reachable);
        assert_eq!(table.route(&[false, false], now), Route::To(1));
    }

    #[test]
    fn probe_backoff_doubles_up_to_its_longest() {
        assert_eq!(backoff(1), BACKOFF_FIRST);
        assert_eq!(backoff(2), 2 * BACKOFF_FIRST);
        assert_eq!(backoff(3), 4 * BACKOFF_FIRST);
        assert_eq!(backoff(40), BACKOFF_LONGEST);
    }
}
