//! Where one key's events are, found with reads of the key at past revisions instead of a watch:
//! the bookkeeping of a history page read by ranges (the reads themselves are in `history`).
//!
//! A read of a key at revision X answers with the key's last write at or before X: its
//! `mod_revision`, its `version` (how many writes since the key was created) and its
//! `create_revision`. So every read names one or two of the key's events exactly, wherever it
//! lands, and proves that nothing happened to the key between that write and X. Within one life
//! of the key (one `create_revision`) versions count the writes, so between two known writes the
//! locator knows how many are still missing and spreads that many reads over the gap; a read
//! just below a known event always finds the event before it, so every round closes or narrows
//! every gap. A key absent at X was deleted last: by kube-ledger, then its tombstone read at X
//! names that delete.
//!
//! Data flows in rounds: [`Locator::plan`] names the revisions to read, the caller reads them
//! (many per etcd transaction), [`Locator::absorb`] takes each answer, until
//! [`Locator::page`] has the first `limit` events from `from` with no gap left before them.
//!
//! It rests on one assumption the watch does not need: every delete of the key wrote its
//! tombstone (kube-ledger's deletes do). A delete by anything else is invisible to reads; when
//! the events found do not chain ([`chains`]: a create after a write of the key's previous life),
//! the caller replays the key with a watch instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::storage::Revision;

/// Reads spread over a gap whose number of missing events is unknown.
const GUESS: i64 = 4;

/// What is known of one event of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// A write: the key's `version` after it, in the life that began at `create`.
    Put { version: i64, create: Revision },
    /// A delete (kube-ledger's: its tombstone carries this revision).
    Delete,
}

/// The answer of one read at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    pub at: Revision,
    /// The key's last write at or before `at`: `(mod_revision, version, create_revision)`;
    /// `None` when the key did not exist at `at`.
    pub write: Option<(Revision, i64, Revision)>,
    /// The revision of the key's last kube-ledger delete at or before `at` (its tombstone's
    /// `mod_revision`), when tombstones were read.
    pub delete: Option<Revision>,
}

/// The events of one key in `from..` found so far, and the stretches known to hold no others.
#[derive(Debug)]
pub(super) struct Locator {
    from: Revision,
    limit: usize,
    known: BTreeMap<Revision, Mark>,
    /// For a known event, or `from - 1` standing for the start of the range: the latest revision
    /// through which nothing else happened to the key after it.
    quiet: HashMap<Revision, Revision>,
    /// The key's last write before `from` (its version and life), once a read has seen it.
    before: Option<(i64, Revision)>,
    /// The revisions at which a read found the key absent.
    absent: Vec<Revision>,
}

impl Locator {
    pub fn new(from: Revision, limit: usize) -> Locator {
        Locator {
            from,
            limit,
            known: BTreeMap::new(),
            quiet: HashMap::new(),
            before: None,
            absent: Vec::new(),
        }
    }

    /// The first reads of a range `from..=last`: its two ends and `spread` revisions between.
    pub fn first_reads(&self, last: Revision, spread: i64) -> Vec<Revision> {
        let mut reads = BTreeSet::from([self.from, last]);
        reads.extend(between(self.from, last, spread));
        reads.into_iter().filter(|&r| r >= self.from && r <= last).collect()
    }

    /// Takes the answer of one read.
    pub fn absorb(&mut self, seen: Seen) {
        let from = self.from;
        if let Some(deleted) = seen.delete.filter(|&d| d >= from) {
            self.known.insert(deleted, Mark::Delete);
        }
        let latest = match seen.write {
            Some((written, version, create)) => {
                if written >= from {
                    self.known.insert(written, Mark::Put { version, create });
                    if create >= from && create < written {
                        self.known.insert(create, Mark::Put { version: 1, create });
                    }
                } else {
                    self.before = Some((version, create));
                }
                written
            }
            // Absent: its last event was a delete, the tombstone's (or one before the range).
            None => {
                self.absent.push(seen.at);
                seen.delete.unwrap_or(0)
            }
        };
        let anchor = if latest >= from { latest } else { from - 1 };
        let through = self.quiet.entry(anchor).or_insert(anchor);
        *through = (*through).max(seen.at);
    }

    /// Whether nothing unknown lies between the known events (or range start) `a` and `b`.
    fn closed(&self, a: (Revision, Option<Mark>), b: (Revision, Mark)) -> bool {
        if b.0 == a.0 + 1 || self.quiet.get(&a.0).is_some_and(|&q| q >= b.0 - 1) {
            return true;
        }
        matches!(
            (a.1, b.1),
            (Some(Mark::Put { version: va, create: ca }), Mark::Put { version: vb, create: cb })
                if ca == cb && vb == va + 1
        )
    }

    /// How many events are missing between `a` and `b`, when the versions say.
    fn missing(&self, a: Option<Mark>, b: Mark) -> Option<i64> {
        let before = a.or(self.before.map(|(version, create)| Mark::Put { version, create }));
        match (before, b) {
            (
                Some(Mark::Put { version: va, create: ca }),
                Mark::Put { version: vb, create: cb },
            ) if ca == cb => Some(vb - va - 1),
            _ => None,
        }
    }

    /// The revisions to read next (at most `budget`), or none once the page is known.
    pub fn plan(&self, budget: usize) -> Vec<Revision> {
        let mut reads = BTreeSet::new();
        let (mut a, mut a_mark) = (self.from - 1, None);
        for (count, (&b, &mark)) in self.known.iter().enumerate() {
            if count >= self.limit || reads.len() >= budget {
                break;
            }
            if !self.closed((a, a_mark), (b, mark)) {
                // Always finds the event just before `b`.
                reads.insert(b - 1);
                let spread = self.missing(a_mark, mark).unwrap_or(GUESS);
                reads.extend(between(a, b, spread).filter(|r| !self.known.contains_key(r)));
            }
            (a, a_mark) = (b, Some(mark));
        }
        reads.into_iter().take(budget).collect()
    }

    /// Whether reads saw a delete that left no tombstone: the key absent at a revision whose
    /// latest known event is a write. Such a delete cannot be placed by reads.
    pub fn blind(&self) -> bool {
        self.absent
            .iter()
            .any(|&at| matches!(self.known.range(..=at).next_back(), Some((_, Mark::Put { .. }))))
    }

    /// The first `limit` events from `from`, once no gap is left before them: `None` while
    /// [`Locator::plan`] still has reads to make.
    pub fn page(&self) -> Option<Vec<(Revision, Mark)>> {
        let mut page = Vec::new();
        let (mut a, mut a_mark) = (self.from - 1, None);
        for (&b, &mark) in &self.known {
            if page.len() >= self.limit {
                break;
            }
            if !self.closed((a, a_mark), (b, mark)) {
                return None;
            }
            page.push((b, mark));
            (a, a_mark) = (b, Some(mark));
        }
        Some(page)
    }
}

/// `count` revisions spread evenly strictly between `a` and `b`.
fn between(a: Revision, b: Revision, count: i64) -> impl Iterator<Item = Revision> {
    let count = count.clamp(0, (b - a - 1).max(0));
    (1..=count).map(move |i| a + (b - a) * i / (count + 1))
}

/// Whether a page's events follow each other as one key's can: a write of version `v > 1` after
/// the write `v - 1` of the same life, a create after a delete (or first), a delete after a write.
/// A delete that left no tombstone breaks this.
pub(super) fn chains(page: &[(Revision, Mark)]) -> bool {
    page.windows(2).all(|pair| match (pair[0].1, pair[1].1) {
        (Mark::Put { version: va, create: ca }, Mark::Put { version: vb, create: cb }) => {
            ca == cb && vb == va + 1
        }
        (Mark::Delete, Mark::Put { version, .. }) => version == 1,
        (Mark::Put { .. }, Mark::Delete) => true,
        (Mark::Delete, Mark::Delete) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's life as a list of `(revision, event)`: `true` a write, `false` a delete.
    struct Key {
        events: Vec<(Revision, bool)>,
        /// Deletes that left a tombstone.
        tombstoned: bool,
    }

    impl Key {
        /// Each event with its mark, as etcd would report it.
        fn marks(&self) -> Vec<(Revision, Mark)> {
            let (mut version, mut create) = (0, 0);
            self.events
                .iter()
                .map(|&(revision, write)| {
                    if !write {
                        version = 0;
                        return (revision, Mark::Delete);
                    }
                    if version == 0 {
                        create = revision;
                    }
                    version += 1;
                    (revision, Mark::Put { version, create })
                })
                .collect()
        }

        fn read(&self, at: Revision) -> Seen {
            let marks = self.marks();
            let latest = marks.iter().rev().find(|(r, _)| *r <= at);
            let write = match latest {
                Some(&(r, Mark::Put { version, create })) => Some((r, version, create)),
                _ => None,
            };
            let delete = self
                .tombstoned
                .then(|| marks.iter().rev().find(|(r, m)| *r <= at && *m == Mark::Delete))
                .flatten()
                .map(|(r, _)| *r);
            Seen { at, write, delete }
        }

        /// The page by reads, and how many rounds it took.
        fn locate(&self, from: Revision, last: Revision, limit: usize) -> (Vec<Revision>, usize) {
            let mut locator = Locator::new(from, limit);
            let mut reads = locator.first_reads(last, 16);
            let mut rounds = 1;
            loop {
                for at in reads {
                    locator.absorb(self.read(at));
                }
                assert!(!locator.blind(), "every delete here left a tombstone");
                if let Some(page) = locator.page() {
                    assert!(chains(&page), "{page:?}");
                    return (page.into_iter().map(|(r, _)| r).collect(), rounds);
                }
                reads = locator.plan(1000);
                assert!(!reads.is_empty(), "no page and nothing to read");
                rounds += 1;
                assert!(rounds < 200, "does not converge");
            }
        }

        fn expected(&self, from: Revision, limit: usize) -> Vec<Revision> {
            self.events.iter().map(|e| e.0).filter(|&r| r >= from).take(limit).collect()
        }
    }

    /// Writes every `step` revisions from `start`, with deletes at the given indexes.
    fn key(start: Revision, step: Revision, count: usize, deletes: &[usize]) -> Key {
        let events = (0..count)
            .map(|i| {
                (start + step * i as i64 + (i as i64 * 7) % step.max(1), !deletes.contains(&i))
            })
            .collect();
        Key { events, tombstoned: true }
    }

    #[test]
    fn pages_match_the_key_events() {
        let keys = [
            key(1, 1, 50, &[]),
            key(5, 13, 400, &[]),
            key(3, 6, 300, &[20, 150, 151 - 1, 299]),
            key(100, 40, 60, &[10, 30]),
        ];
        for k in &keys {
            let last = k.events.last().unwrap().0;
            let first = k.events[0].0;
            for from in [1, first, first + 1, k.events[17].0, k.events[17].0 + 1, last] {
                for limit in [1, 7, 50, 500] {
                    let (page, _) = k.locate(from, last, limit);
                    assert_eq!(page, k.expected(from, limit), "from {from} limit {limit}");
                }
            }
        }
    }

    #[test]
    fn a_long_single_life_takes_few_rounds() {
        let k = key(1, 6, 10_000, &[]);
        let (page, rounds) = k.locate(1, k.events.last().unwrap().0, 500);
        assert_eq!(page, k.expected(1, 500));
        assert!(rounds <= 8, "{rounds} rounds");
    }

    /// A delete that left no tombstone is noticed within a few rounds and never yields a page
    /// that passes for the key's events: the reads go blind, or the page does not chain.
    #[test]
    fn a_delete_without_tombstone_is_never_taken_for_a_page() {
        // Writes, a delete that left no tombstone, a new life.
        let k =
            Key { events: vec![(2, true), (5, true), (9, false), (12, true)], tombstoned: false };
        for spread in [0, 1, 4, 10] {
            let mut locator = Locator::new(1, 10);
            let mut reads = locator.first_reads(12, spread);
            let mut noticed = false;
            for _ in 0..4 {
                for at in reads {
                    locator.absorb(k.read(at));
                }
                if locator.blind() {
                    noticed = true;
                    break;
                }
                if let Some(page) = locator.page() {
                    assert!(!chains(&page), "{page:?}");
                    noticed = true;
                    break;
                }
                reads = locator.plan(100);
            }
            assert!(noticed, "spread {spread}");
        }
    }

    #[test]
    fn chains_requires_consecutive_versions_and_deletes_between_lives() {
        let put = |version, create| Mark::Put { version, create };
        assert!(chains(&[(3, put(1, 3)), (5, put(2, 3)), (8, Mark::Delete), (9, put(1, 9))]));
        assert!(!chains(&[(3, put(1, 3)), (5, put(3, 3))]));
        assert!(!chains(&[(3, put(1, 3)), (5, put(1, 5))]));
        assert!(!chains(&[(3, Mark::Delete), (5, Mark::Delete)]));
        assert!(chains(&[(5, put(4, 1))]));
    }
}
