//! The Service ClusterIP and NodePort allocators (kube-apiserver's `ipallocator` and
//! `portallocator`): which addresses of `--service-cluster-ip-range` and which ports of
//! `--service-node-port-range` are held, and by which Service (uid).
//!
//! Data flow: the Services strategy claims what a write needs in `prepare_for_create` /
//! `prepare_for_update` (a requested value if free, else a free one of the range) under one
//! mutex, so concurrent creates on this server never get the same value; its validation then
//! reports a requested value held by another Service with kube's messages. A claim is
//! *pending* until the Services' view shows the Service holding it ([`Allocators::observe`],
//! fed by [`super::follow`]): what the stored Services hold is the truth, so a delete, a type
//! change that drops a port, or a restart (the follower lists every Service before the server
//! serves) releases or rebuilds the allocations with no bitmap of its own in storage. This
//! server's own delete of a Service frees its values at once ([`Allocators::forget`], from the
//! strategy's `deleted`), so a client may take them back right after. A pending claim of a
//! write that failed is dropped at once ([`Allocators::abandon`]) or, if nothing says so, after
//! [`PENDING_GRACE`] (kube's repair controller frees leaks likewise).
//!
//! Across replicas: each replica sees the others' Services only once they are stored, so two
//! replicas creating at the same moment could pick the same address; kube avoids it with a
//! RangeAllocation object written by compare-and-swap. One replica is race-free.
//!
//! The range's first address is the `default/kubernetes` Service's ([`IpRange::first`]): it is
//! never handed out, whether or not that Service is stored at the moment (it is recreated
//! after a delete, and a restart lists it again), and the Services strategy refuses it to any
//! other Service that asks for it ([`Allocators::reserved_for_kubernetes`]).
//!
//! As in kube, the bottom of each range (min(max(16, size/16), 256) addresses; min(max(16,
//! size/32), 128) ports) is kept for values clients ask for: dynamic allocation takes from the
//! rest first.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a claim waits to be seen in a stored Service before it is freed.
pub const PENDING_GRACE: Duration = Duration::from_secs(60);

/// `--service-cluster-ip-range`'s default.
pub const DEFAULT_CLUSTER_IP_RANGE: &str = "10.96.0.0/12";
/// `--service-node-port-range`'s default.
pub const DEFAULT_NODE_PORT_RANGE: &str = "30000-32767";

/// An IPv4 CIDR (`10.96.0.0/12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    base: u32,
    prefix: u32,
}

impl IpRange {
    /// Parses `a.b.c.d/n` (IPv4; kube-ledger serves single-stack IPv4 Services).
    pub fn parse(text: &str) -> Result<IpRange, String> {
        let (ip, bits) =
            text.split_once('/').ok_or_else(|| format!("invalid CIDR address: {text}"))?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| format!("invalid CIDR address: {text}"))?;
        let prefix: u32 = bits.parse().map_err(|_| format!("invalid CIDR address: {text}"))?;
        if !(1..=30).contains(&prefix) {
            return Err(format!(
                "specified --service-cluster-ip-range {text} is not an IPv4 CIDR with room for \
                 services (a prefix length from 1 to 30)"
            ));
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(IpRange { base: u32::from(ip) & mask, prefix })
    }

    fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) ^ self.base) >> (32 - self.prefix) == 0
    }

    /// The first address services may use (the `kubernetes` Service's).
    pub fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base + 1)
    }

    /// Usable offsets: every address but the network and broadcast ones.
    fn usable(&self) -> (u64, u64) {
        (1, self.size() - 2)
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

/// A port range (`30000-32767`, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub min: i64,
    pub max: i64,
}

impl PortRange {
    /// Parses `min-max` (or a single port), as `--service-node-port-range`.
    pub fn parse(text: &str) -> Result<PortRange, String> {
        let bad = || format!("invalid port range {text:?}: must be like 30000-32767");
        let (min, max) = match text.split_once('-') {
            Some((a, b)) => {
                (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?)
            }
            None => {
                let port = text.trim().parse().map_err(|_| bad())?;
                (port, port)
            }
        };
        if !(1..=65535).contains(&min) || !(min..=65535).contains(&max) {
            return Err(bad());
        }
        Ok(PortRange { min, max })
    }

    pub fn contains(&self, port: i64) -> bool {
        (self.min..=self.max).contains(&port)
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// What a Service holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alloc {
    Ip(IpAddr),
    Port(i64),
}

#[derive(Debug, Default)]
struct Holder {
    /// Held by the stored Service (as the view last showed it).
    observed: BTreeSet<Alloc>,
    /// Claimed by a write not yet seen stored, with when.
    pending: BTreeMap<Alloc, Instant>,
}

#[derive(Debug, Default)]
struct State {
    owners: HashMap<Alloc, String>,
    holders: HashMap<String, Holder>,
    /// Services this server deleted whose deletion the view has not shown yet: a late event
    /// of theirs must not claim their values back.
    deleted: HashSet<String>,
}

impl State {
    /// The uid holding `alloc`, after dropping an expired pending claim on it.
    fn owner(&mut self, alloc: Alloc, now: Instant) -> Option<&str> {
        let uid = self.owners.get(&alloc)?.clone();
        let expired = match self.holders.get(&uid) {
            Some(h) => {
                !h.observed.contains(&alloc)
                    && h.pending
                        .get(&alloc)
                        .is_none_or(|at| now.duration_since(*at) > PENDING_GRACE)
            }
            None => true,
        };
        if expired {
            self.owners.remove(&alloc);
            if let Some(h) = self.holders.get_mut(&uid) {
                h.pending.remove(&alloc);
            }
            return None;
        }
        self.owners.get(&alloc).map(String::as_str)
    }

    fn is_free_for(&mut self, alloc: Alloc, uid: &str, now: Instant) -> bool {
        self.owner(alloc, now).is_none_or(|owner| owner == uid)
    }

    fn claim(&mut self, alloc: Alloc, uid: &str, now: Instant) -> bool {
        if !self.is_free_for(alloc, uid, now) {
            return false;
        }
        self.owners.insert(alloc, uid.to_owned());
        let holder = self.holders.entry(uid.to_owned()).or_default();
        if !holder.observed.contains(&alloc) {
            holder.pending.insert(alloc, now);
        }
        true
    }
}

/// The allocators of one server: the ranges (set at start) and who holds what.
#[derive(Debug)]
pub struct Allocators {
    ranges: RwLock<(IpRange, PortRange)>,
    state: Mutex<State>,
}

impl Default for Allocators {
    fn default() -> Self {
        let ips = IpRange::parse(DEFAULT_CLUSTER_IP_RANGE).expect("the default range parses");
        let ports = PortRange::parse(DEFAULT_NODE_PORT_RANGE).expect("the default range parses");
        Allocators { ranges: RwLock::new((ips, ports)), state: Mutex::default() }
    }
}

impl Allocators {
    pub fn ip_range(&self) -> IpRange {
        self.ranges.read().unwrap_or_else(|e| e.into_inner()).0
    }

    pub fn port_range(&self) -> PortRange {
        self.ranges.read().unwrap_or_else(|e| e.into_inner()).1
    }

    /// Serves these ranges from now on (held values outside them stay held).
    pub fn configure(&self, ips: IpRange, ports: PortRange) {
        *self.ranges.write().unwrap_or_else(|e| e.into_inner()) = (ips, ports);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `alloc` for `uid` if no other Service holds it; whether it is `uid`'s now.
    pub fn claim(&self, uid: &str, alloc: Alloc) -> bool {
        self.state().claim(alloc, uid, Instant::now())
    }

    /// Whether `ip` is the `default/kubernetes` Service's: the range's first address, which no
    /// other Service gets.
    pub fn reserved_for_kubernetes(&self, ip: Ipv4Addr) -> bool {
        ip == self.ip_range().first()
    }

    /// Whether `uid` holds `alloc` (stored or claimed).
    pub fn holds(&self, uid: &str, alloc: Alloc) -> bool {
        self.state().owner(alloc, Instant::now()) == Some(uid)
    }

    /// The Service holding `alloc`, if it is not `uid`.
    pub fn held_by_other(&self, uid: &str, alloc: Alloc) -> bool {
        !self.state().is_free_for(alloc, uid, Instant::now())
    }

    /// A free cluster IP of the range, claimed for `uid`; `None` when the range is full.
    pub fn allocate_ip(&self, uid: &str) -> Option<Ipv4Addr> {
        let range = self.ip_range();
        let (low, high) = range.usable();
        let band = (range.size() / 16).clamp(16, 256).min(high);
        let seed = super::super::fnv1a(uid.as_bytes());
        let now = Instant::now();
        let mut state = self.state();
        // The dynamic band first, then the static one.
        for (from, to) in [(band.max(low), high), (low, band.max(low).min(high + 1) - 1)] {
            if from > to {
                continue;
            }
            let span = to - from + 1;
            let start = seed % span;
            for step in 0..span {
                let offset = from + (start + step) % span;
                let ip = Ipv4Addr::from(range.base + offset as u32);
                if ip == range.first() {
                    continue; // the `kubernetes` Service's, always
                }
                if state.claim(Alloc::Ip(IpAddr::V4(ip)), uid, now) {
                    return Some(ip);
                }
            }
        }
        None
    }

    /// A free node port of the range, claimed for `uid`, none of `avoid`.
    pub fn allocate_port(&self, uid: &str, avoid: &BTreeSet<i64>) -> Option<i64> {
        let range = self.port_range();
        let size = (range.max - range.min + 1) as u64;
        let band = (size / 32).clamp(16, 128).min(size);
        let seed = super::super::fnv1a(format!("{uid}/{}", avoid.len()).as_bytes());
        let now = Instant::now();
        let mut state = self.state();
        for (from, to) in [(band, size - 1), (0, band.saturating_sub(1))] {
            if from > to || from >= size {
                continue;
            }
            let span = to - from + 1;
            let start = seed % span;
            for step in 0..span {
                let port = range.min + (from + (start + step) % span) as i64;
                if !avoid.contains(&port) && state.claim(Alloc::Port(port), uid, now) {
                    return Some(port);
                }
            }
        }
        None
    }

    /// The stored Service `uid` holds exactly `held` now (the view's add or change).
    pub fn observe(&self, uid: &str, held: BTreeSet<Alloc>) {
        let mut state = self.state();
        if state.deleted.contains(uid) {
            return;
        }
        let holder = state.holders.entry(uid.to_owned()).or_default();
        let released: Vec<Alloc> = holder
            .observed
            .iter()
            .filter(|a| !held.contains(a) && !holder.pending.contains_key(a))
            .copied()
            .collect();
        for alloc in &held {
            holder.pending.remove(alloc);
        }
        holder.observed = held.clone();
        for alloc in released {
            if state.owners.get(&alloc).is_some_and(|o| o == uid) {
                state.owners.remove(&alloc);
            }
        }
        for alloc in held {
            state.owners.insert(alloc, uid.to_owned());
        }
    }

    /// The view shows the Service `uid` deleted: everything it held is free.
    pub fn forget(&self, uid: &str) {
        let mut state = self.state();
        state.deleted.remove(uid);
        State::release_all(&mut state, uid);
    }

    /// This server deleted the Service `uid`: everything it held is free now, and the view's
    /// later events of it are ignored until its deletion shows.
    pub fn forget_deleted(&self, uid: &str) {
        let mut state = self.state();
        state.deleted.insert(uid.to_owned());
        State::release_all(&mut state, uid);
    }

    /// A relist: `present` are the Services stored; deletions not among them are done.
    pub fn retain_deleted(&self, present: &BTreeSet<String>) {
        self.state().deleted.retain(|uid| present.contains(uid));
    }
}

impl State {
    fn release_all(state: &mut State, uid: &str) {
        let Some(holder) = state.holders.remove(uid) else { return };
        for alloc in holder.observed.iter().chain(holder.pending.keys()) {
            if state.owners.get(alloc).is_some_and(|o| o == uid) {
                state.owners.remove(alloc);
            }
        }
    }
}

impl Allocators {
    /// A write by `uid` was not stored (refused, failed, or a dry run): its pending claims go.
    pub fn abandon(&self, uid: &str) {
        let mut state = self.state();
        let Some(holder) = state.holders.get_mut(uid) else { return };
        let pending: Vec<Alloc> = std::mem::take(&mut holder.pending).into_keys().collect();
        let empty = holder.observed.is_empty();
        for alloc in pending {
            if state.owners.get(&alloc).is_some_and(|o| o == uid) {
                state.owners.remove(&alloc);
            }
        }
        if empty {
            state.holders.remove(uid);
        }
    }

    /// A relist no longer shows the Service `uid`: what it held stored is free, its pending
    /// claims (a create in flight) stay.
    pub fn forget_stored(&self, uid: &str) {
        let mut state = self.state();
        let Some(holder) = state.holders.get_mut(uid) else { return };
        let observed = std::mem::take(&mut holder.observed);
        let empty = holder.pending.is_empty();
        for alloc in observed {
            let pending = state.holders.get(uid).is_some_and(|h| h.pending.contains_key(&alloc));
            if !pending && state.owners.get(&alloc).is_some_and(|o| o == uid) {
                state.owners.remove(&alloc);
            }
        }
        if empty {
            state.holders.remove(uid);
        }
    }

    /// The Services seen stored: for a relist, which must forget the ones gone.
    pub fn known(&self) -> Vec<String> {
        let state = self.state();
        state
            .holders
            .iter()
            .filter(|(_, h)| !h.observed.is_empty())
            .map(|(uid, _)| uid.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Alloc {
        Alloc::Ip(text.parse().unwrap())
    }

    #[test]
    fn ranges_parse() {
        let range = IpRange::parse("10.96.0.0/12").unwrap();
        assert_eq!(range.first(), Ipv4Addr::new(10, 96, 0, 1));
        assert!(range.contains(Ipv4Addr::new(10, 111, 255, 255)));
        assert!(!range.contains(Ipv4Addr::new(10, 112, 0, 0)));
        assert_eq!(range.to_string(), "10.96.0.0/12");
        assert_eq!(IpRange::parse("10.0.0.7/24").unwrap().to_string(), "10.0.0.0/24");
        assert!(IpRange::parse("fd00::/108").is_err());
        assert_eq!(PortRange::parse("30000-32767").unwrap(), PortRange { min: 30000, max: 32767 });
        assert!(PortRange::parse("5-2").is_err());
    }

    #[test]
    fn claims_are_exclusive_until_released() {
        let a = Allocators::default();
        assert!(a.claim("u1", ip("10.96.0.10")));
        assert!(a.claim("u1", ip("10.96.0.10")), "again by its holder");
        assert!(!a.claim("u2", ip("10.96.0.10")));
        assert!(a.held_by_other("u2", ip("10.96.0.10")));
        // Seen stored, then deleted: free again.
        a.observe("u1", BTreeSet::from([ip("10.96.0.10")]));
        assert!(!a.claim("u2", ip("10.96.0.10")));
        a.forget("u1");
        assert!(a.claim("u2", ip("10.96.0.10")));
        // A refused write's claim goes at once.
        a.abandon("u2");
        assert!(a.claim("u3", ip("10.96.0.10")));
        // A stored change that drops a port frees it.
        a.observe("u4", BTreeSet::from([Alloc::Port(30001), ip("10.96.0.11")]));
        a.observe("u4", BTreeSet::from([ip("10.96.0.11")]));
        assert!(a.claim("u5", Alloc::Port(30001)));
        // Deleted here: free at once, and a late event of the deleted Service claims nothing.
        a.observe("u6", BTreeSet::from([ip("10.96.0.12")]));
        a.forget_deleted("u6");
        a.observe("u6", BTreeSet::from([ip("10.96.0.12")]));
        assert!(a.claim("u7", ip("10.96.0.12")));
        a.forget("u6");
        assert!(a.held_by_other("u8", ip("10.96.0.12")));
    }

    #[test]
    fn the_first_address_is_never_handed_out() {
        let allocators = Allocators::default();
        // A /29: six usable addresses, the first reserved, so five Services fit.
        let ports = PortRange::parse(DEFAULT_NODE_PORT_RANGE).unwrap();
        allocators.configure(IpRange::parse("10.0.0.0/29").unwrap(), ports);
        let first = allocators.ip_range().first();
        assert!(allocators.reserved_for_kubernetes(first));
        let mut got = BTreeSet::new();
        for n in 0..5 {
            let uid = format!("uid-{n}");
            let ip = allocators.allocate_ip(&uid).expect("an address");
            assert_ne!(ip, first);
            assert!(allocators.holds(&uid, Alloc::Ip(IpAddr::V4(ip))));
            got.insert(ip);
        }
        assert_eq!(got.len(), 5);
        assert_eq!(allocators.allocate_ip("uid-5"), None, "full: the first stays reserved");
        assert!(!allocators.holds("uid-5", Alloc::Ip(IpAddr::V4(first))));
    }

    #[test]
    fn dynamic_allocation_is_distinct_and_skips_the_static_band() {
        let small = Allocators::default();
        small.configure(
            IpRange::parse("10.0.0.0/27").unwrap(),
            PortRange::parse("30000-30019").unwrap(),
        );
        let mut seen = BTreeSet::new();
        // 30 usable addresses, the first the `kubernetes` Service's: the static band comes last.
        for n in 0..29 {
            let got = small.allocate_ip(&format!("u{n}")).expect("room left");
            let offset = u32::from(got) - u32::from(Ipv4Addr::new(10, 0, 0, 0));
            assert!((2..=30).contains(&offset), "{got}");
            if n < 14 {
                assert!(offset >= 16, "dynamic band first: {got}");
            }
            assert!(seen.insert(got));
        }
        assert_eq!(small.allocate_ip("full"), None);
        let mut ports = BTreeSet::new();
        for n in 0..20 {
            ports.insert(small.allocate_port(&format!("p{n}"), &BTreeSet::new()).unwrap());
        }
        assert_eq!(ports.len(), 20);
        assert_eq!(small.allocate_port("full", &BTreeSet::new()), None);
    }
}
