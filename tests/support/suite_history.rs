//! The history part of the storage conformance suite (issue 15): pages of one key's history,
//! replay of a prefix between two revisions, the log's position at a time, a restore's
//! provenance, and compaction keeping every live object. Expanded for every backend by
//! `conformance_suite!` (see `suite.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use kube_ledger::storage::{
    Event, EventType, ListOptions, Provenance, Revision, Storage, StorageError, Verb,
};

use super::suite::{Acked, Harness, collect_events, random_writer, who};

/// Hang protection for streams in tests: never a performance assertion.
const PATIENCE: Duration = Duration::from_secs(60);

/// A time in the log's range: 2023-11-14, plus `n` seconds.
fn at(n: i64) -> i64 {
    1_700_000_000_000_000 + n * 1_000_000
}

fn stamped(verb: Verb, n: i64) -> Provenance {
    Provenance { timestamp_micros: at(n), ..who(verb) }
}

/// Every event of a replay, failing on an error or a hang.
async fn replayed(
    storage: &Arc<dyn Storage>,
    prefix: &str,
    from: Revision,
    to: Revision,
) -> Vec<Event> {
    let mut stream = storage.replay(prefix, from, to).await.unwrap();
    let mut events = Vec::new();
    loop {
        let item = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap_or_else(|_| {
            panic!("replay of {prefix} {from}..={to} stalled after {events:?}")
        });
        match item {
            Some(event) => events.push(event.unwrap()),
            None => return events,
        }
    }
}

fn as_acked(events: &[Event]) -> Vec<Acked> {
    events
        .iter()
        .map(|e| Acked {
            revision: e.revision,
            key: e.key.clone(),
            event_type: e.event_type,
            value: e.object.as_ref().map(|o| o.value.clone()),
        })
        .collect()
}

pub async fn history_pages_walk_a_key_oldest_first(storage: Arc<dyn Storage>) {
    let key = "/configmaps/default/paged";
    let mut current = storage.create(key, Bytes::from("0"), who(Verb::Create)).await.unwrap();
    for i in 1..24 {
        // Other keys' writes interleave, so the key's revisions are not contiguous.
        let noise = format!("/configmaps/default/noise-{i}");
        storage.create(&noise, Bytes::from("n"), who(Verb::Create)).await.unwrap();
        let value = Bytes::from(i.to_string());
        current =
            storage.update(key, current.mod_revision, value, who(Verb::Update)).await.unwrap();
    }
    let deleted = storage.delete(key, current.mod_revision, who(Verb::Delete)).await.unwrap();
    let again = storage.create(key, Bytes::from("again"), who(Verb::Create)).await.unwrap();
    let whole = storage.history(key).await.unwrap();
    assert_eq!(whole.len(), 26);
    assert_eq!(whole[24].revision, deleted.revision);
    assert_eq!(whole.last().unwrap().revision, again.mod_revision);

    // Pages of 7 after the previous page's last revision add up to the whole history.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = storage.history_page(key, after, 7).await.unwrap();
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        after = last.revision;
        paged.extend(page);
    }
    assert_eq!(paged, whole, "pages are the history, in order, each event once");

    // `after` between two of the key's revisions; a limit past the end; nothing after the last.
    let between = whole[3].revision + 1;
    assert!(between < whole[4].revision, "a noise write sits between");
    let page = storage.history_page(key, between, 2).await.unwrap();
    assert_eq!(page, whole[4..6]);
    assert_eq!(storage.history_page(key, whole[20].revision, 100).await.unwrap(), whole[21..]);
    assert!(storage.history_page(key, again.mod_revision, 10).await.unwrap().is_empty());
    assert!(storage.history_page("/configmaps/default/never", 0, 10).await.unwrap().is_empty());
    // The page's events carry what history's do: previous objects and provenance.
    let page = storage.history_page(key, whole[0].revision, 1).await.unwrap();
    assert_eq!(page[0].prev_object.as_ref().unwrap().value, "0");
    assert_eq!(page[0].provenance.as_ref().unwrap().verb, Verb::Update);
}

pub async fn replay_streams_a_range_in_order_with_prev_objects(storage: Arc<dyn Storage>) {
    let prefix = "/pods/";
    let writers: Vec<_> = (0..3)
        .map(|w| tokio::spawn(random_writer(storage.clone(), "/pods/ns/", w, 120, 10)))
        .collect();
    // Writes just outside the prefix interleave and must not be replayed.
    let outside = tokio::spawn(random_writer(storage.clone(), "/podsx/", 7, 60, 5));
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    outside.await.unwrap();
    // Nothing under the prefix follows the last of these: a replay to the head must still end.
    random_writer(storage.clone(), "/services/ns/", 8, 20, 5).await;
    acked.sort_by_key(|a| a.revision);
    let head = storage.current_revision().await.unwrap();

    // The whole range, then one cut at both ends through the middle.
    let all = replayed(&storage, prefix, 0, head).await;
    assert_eq!(as_acked(&all), acked, "every acknowledged write under the prefix, in order");
    let (from, to) = (acked[40].revision, acked[300].revision);
    let part = replayed(&storage, prefix, from, to).await;
    assert_eq!(as_acked(&part), acked[40..=300]);
    // Bounds between two of the prefix's events.
    let inner = replayed(&storage, prefix, acked[10].revision + 1, acked[20].revision - 1).await;
    let expected: Vec<_> = acked
        .iter()
        .filter(|a| a.revision > acked[10].revision && a.revision < acked[20].revision)
        .cloned()
        .collect();
    assert_eq!(as_acked(&inner), expected);

    // Each event's previous object is the key's state before it, and who did it is recorded.
    let mut state: HashMap<&str, Revision> = HashMap::new();
    for e in &all {
        let prev = e.prev_object.as_ref().map(|o| o.mod_revision);
        match e.event_type {
            EventType::Created => assert_eq!(prev, None, "{e:?}"),
            _ => assert_eq!(prev, state.get(e.key.as_str()).copied(), "{e:?}"),
        }
        match &e.object {
            Some(object) => state.insert(&e.key, object.mod_revision),
            None => state.remove(e.key.as_str()),
        };
        let provenance = e.provenance.as_ref().expect("every event records who did it");
        assert_eq!(provenance.user, "alice");
    }
    // A replay matches a watch of the same range.
    let mut watch = storage.watch(prefix, from - 1).await.unwrap();
    let watched: Vec<Event> =
        collect_events(&mut watch, to).await.into_iter().filter(|e| e.revision <= to).collect();
    assert_eq!(watched, part);
}

pub async fn replay_of_an_empty_range_ends_empty(storage: Arc<dyn Storage>) {
    let a = storage.create("/secrets/ns/a", Bytes::from("a"), who(Verb::Create)).await.unwrap();
    for i in 0..5 {
        let key = format!("/configmaps/ns/{i}");
        storage.create(&key, Bytes::from("c"), who(Verb::Create)).await.unwrap();
    }
    let head = storage.current_revision().await.unwrap();
    // Nothing under the prefix in the range, or nothing under it at all.
    assert!(replayed(&storage, "/secrets/", a.mod_revision + 1, head).await.is_empty());
    assert!(replayed(&storage, "/leases/", 0, head).await.is_empty());
    // `from` after `to`.
    assert!(replayed(&storage, "/configmaps/", head, head - 1).await.is_empty());
    // A range of exactly one event.
    let one = replayed(&storage, "/secrets/", a.mod_revision, a.mod_revision).await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].object.as_ref().unwrap().value, "a");
}

pub async fn replay_refuses_compacted_and_future_ranges(storage: Arc<dyn Storage>) {
    let key = "/secrets/default/rotated";
    let mut current = storage.create(key, Bytes::from("0"), who(Verb::Create)).await.unwrap();
    let mut revisions = vec![current.mod_revision];
    for i in 1..8 {
        let value = Bytes::from(i.to_string());
        current =
            storage.update(key, current.mod_revision, value, who(Verb::Update)).await.unwrap();
        revisions.push(current.mod_revision);
    }
    storage.compact(revisions[4]).await.unwrap();
    let head = storage.current_revision().await.unwrap();

    let r = storage.replay("/secrets/", revisions[2], head).await.map(|_| ());
    assert!(
        matches!(r, Err(StorageError::Compacted { requested, compacted })
            if requested == revisions[2] && compacted == revisions[4]),
        "{r:?}"
    );
    let r = storage.replay("/secrets/", revisions[5], head + 10).await.map(|_| ());
    assert!(
        matches!(r, Err(StorageError::FutureRevision { requested, current })
            if requested == head + 10 && current == head),
        "{r:?}"
    );
    let r = storage.replay("no-slash", 0, head).await.map(|_| ());
    assert!(matches!(r, Err(StorageError::InvalidKey { .. })), "{r:?}");
    // From the compacted revision on, the range replays.
    let events = replayed(&storage, "/secrets/", revisions[4], head).await;
    let got: Vec<Revision> = events.iter().map(|e| e.revision).collect();
    assert_eq!(got, revisions[4..]);
}

pub async fn revision_at_finds_the_log_position_at_a_time(storage: Arc<dyn Storage>) {
    assert_eq!(storage.revision_at(at(0)).await.unwrap(), None, "an empty log");
    let key = "/configmaps/default/timed";
    let c = storage.create(key, Bytes::from("0"), stamped(Verb::Create, 10)).await.unwrap();
    let u = storage.update(key, c.mod_revision, Bytes::from("1"), stamped(Verb::Update, 20));
    let u = u.await.unwrap();
    let other = "/secrets/default/timed";
    let o = storage.create(other, Bytes::from("s"), stamped(Verb::Create, 20)).await.unwrap();
    let d = storage.delete(key, u.mod_revision, stamped(Verb::Delete, 30)).await.unwrap();
    let last = "/secrets/default/last";
    let l = storage.create(last, Bytes::from("l"), stamped(Verb::Create, 40)).await.unwrap();

    assert_eq!(storage.revision_at(at(9)).await.unwrap(), None, "before the first event");
    assert_eq!(storage.revision_at(at(10)).await.unwrap(), Some(c.mod_revision), "exactly");
    assert_eq!(storage.revision_at(at(15)).await.unwrap(), Some(c.mod_revision), "between");
    // Two events at one time: the newer one.
    assert_eq!(storage.revision_at(at(20)).await.unwrap(), Some(o.mod_revision));
    // A delete's time counts like any other write's.
    assert_eq!(storage.revision_at(at(30)).await.unwrap(), Some(d.revision));
    assert_eq!(storage.revision_at(at(39)).await.unwrap(), Some(d.revision));
    assert_eq!(storage.revision_at(at(40)).await.unwrap(), Some(l.mod_revision));
    assert_eq!(storage.revision_at(at(10_000)).await.unwrap(), Some(l.mod_revision), "after");
    // The position read back: the state at it is the state at that time.
    let at_25 = storage.revision_at(at(25)).await.unwrap().unwrap();
    assert_eq!(storage.get(key, Some(at_25)).await.unwrap().unwrap().value, "1");

    // Compacted past a time: the position then is no longer retained.
    storage.compact(d.revision).await.unwrap();
    let r = storage.revision_at(at(25)).await;
    assert!(
        matches!(r, Err(StorageError::Compacted { compacted, .. }) if compacted == d.revision),
        "{r:?}"
    );
    assert_eq!(storage.revision_at(at(35)).await.unwrap(), Some(d.revision));
    assert_eq!(storage.revision_at(at(45)).await.unwrap(), Some(l.mod_revision));
}

/// Compaction drops superseded history but never an object's current state, however long ago
/// it was written.
pub async fn compaction_keeps_every_live_object(storage: Arc<dyn Storage>) {
    let quiet = "/configmaps/default/quiet";
    let q = storage.create(quiet, Bytes::from("written once"), who(Verb::Create)).await.unwrap();
    let busy = "/configmaps/default/busy";
    let mut b = storage.create(busy, Bytes::from("0"), who(Verb::Create)).await.unwrap();
    for i in 1..20 {
        let value = Bytes::from(i.to_string());
        b = storage.update(busy, b.mod_revision, value, who(Verb::Update)).await.unwrap();
    }
    let gone = "/configmaps/default/gone";
    let g = storage.create(gone, Bytes::from("g"), who(Verb::Create)).await.unwrap();
    storage.delete(gone, g.mod_revision, who(Verb::Delete)).await.unwrap();
    let after = storage.create("/configmaps/default/after", Bytes::from("a"), who(Verb::Create));
    let after = after.await.unwrap();

    storage.compact(after.mod_revision).await.unwrap();
    assert_eq!(storage.get(quiet, None).await.unwrap(), Some(q.clone()));
    assert_eq!(storage.get(busy, None).await.unwrap(), Some(b.clone()));
    assert_eq!(storage.get(gone, None).await.unwrap(), None);
    let at_compaction = ListOptions { revision: Some(after.mod_revision), ..Default::default() };
    for options in [ListOptions::default(), at_compaction] {
        let listed = storage.list("/configmaps/", options).await.unwrap();
        assert_eq!(listed.objects, vec![after.clone(), b.clone(), q.clone()]);
    }
    // The quiet object can still be written on, from its old revision.
    let updated = storage.update(quiet, q.mod_revision, Bytes::from("again"), who(Verb::Update));
    assert_eq!(updated.await.unwrap().create_revision, q.create_revision);
}

/// A restore's provenance (`restored_from`) comes back from history, a page, replay and watch,
/// and after a restart; other writes have none.
pub async fn restored_from_round_trips_durably<H: Harness>(harness: &mut H) {
    let storage = harness.storage();
    let key = "/deployments/default/restored";
    let c = storage.create(key, Bytes::from("v1"), who(Verb::Create)).await.unwrap();
    let u = storage.update(key, c.mod_revision, Bytes::from("v2"), who(Verb::Update));
    let u = u.await.unwrap();
    let d = storage.delete(key, u.mod_revision, who(Verb::Delete)).await.unwrap();
    // Re-created as it was at `c`, then restored again to `c` by an update.
    let r1 = storage.create(
        key,
        Bytes::from("v1"),
        who(Verb::Create).with_restored_from(c.mod_revision),
    );
    let r1 = r1.await.unwrap();
    let r2 = storage.update(
        key,
        r1.mod_revision,
        Bytes::from("v1"),
        who(Verb::Update).with_restored_from(u.mod_revision),
    );
    let r2 = r2.await.unwrap();
    let expected = vec![
        (c.mod_revision, None),
        (u.mod_revision, None),
        (d.revision, None),
        (r1.mod_revision, Some(c.mod_revision)),
        (r2.mod_revision, Some(u.mod_revision)),
    ];
    let restored = |events: &[Event]| -> Vec<(Revision, Option<Revision>)> {
        events.iter().map(|e| (e.revision, e.provenance.as_ref().unwrap().restored_from)).collect()
    };
    let head = r2.mod_revision;

    assert_eq!(restored(&storage.history(key).await.unwrap()), expected);
    assert_eq!(restored(&storage.history_page(key, d.revision, 10).await.unwrap()), expected[3..]);
    assert_eq!(restored(&replayed(&storage, "/deployments/", 0, head).await), expected);
    let mut watch = storage.watch("/deployments/", 0).await.unwrap();
    assert_eq!(restored(&collect_events(&mut watch, head).await), expected);
    drop((watch, storage));

    harness.restart().await;
    let storage = harness.storage();
    assert_eq!(restored(&storage.history(key).await.unwrap()), expected);
    assert_eq!(restored(&replayed(&storage, "/deployments/", 0, head).await), expected);
}
