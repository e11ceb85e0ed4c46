//! The storage conformance suite: written once against the `Storage` contract, run against every
//! backend (like k8s.io/apiserver's `storage/testing`). Each backend's test file expands
//! [`conformance_suite!`] with a [`Harness`] that starts that backend fresh for every test.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use kube_ledger::storage::{
    Event, EventType, ListOptions, MAX_VALUE_BYTES, Object, Provenance, Revision, Storage,
    StorageError, Verb, WatchItem, WatchStream,
};

/// Starts one backend instance for one test, and restarts it in place.
#[async_trait::async_trait]
pub trait Harness: Send + Sync + Sized {
    async fn start() -> Self;
    /// The current handle. After [`Harness::restart`] this is a new handle.
    fn storage(&self) -> Arc<dyn Storage>;
    /// Stops the backend (dropping every handle this harness holds) and opens it again on the
    /// same data.
    async fn restart(&mut self);
    /// Starts the backend on data that the release before the provenance identity fields wrote:
    /// `writes` applied in order, stored byte for byte as that release stored them (see
    /// [`PreviousWrite`]), then opened by this build.
    async fn start_on_previous_format(writes: &[PreviousWrite]) -> Self;
}

pub use super::suite_provenance::PreviousWrite;

/// Hang protection for waits in tests: never a performance assertion.
const PATIENCE: Duration = Duration::from_secs(60);

pub fn who(verb: Verb) -> Provenance {
    Provenance::now("alice", verb, format!("audit-{}", verb.as_str()))
}

fn value(text: impl Into<String>) -> Bytes {
    Bytes::from(text.into())
}

/// A small deterministic generator, so failures reproduce.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// One acknowledged write, as the writer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    pub revision: Revision,
    pub key: String,
    pub event_type: EventType,
    pub value: Option<Bytes>,
}

/// A writer that creates, updates and deletes keys `{prefix}w{id}-{0..keys}` at random, `ops`
/// times, and returns every write the backend acknowledged. Preconditions come from the writer's
/// own knowledge of its keys (no other writer touches them), so every op is expected to succeed.
pub async fn random_writer(
    storage: Arc<dyn Storage>,
    prefix: &str,
    id: u64,
    ops: usize,
    keys: u64,
) -> Vec<Acked> {
    let mut rng = Lcg::new(id);
    let mut live: HashMap<String, Revision> = HashMap::new();
    let mut acked = Vec::with_capacity(ops);
    for n in 0..ops {
        let key = format!("{prefix}w{id}-{}", rng.below(keys));
        let body = value(format!("{{\"writer\":{id},\"op\":{n}}}"));
        let ack = match live.get(&key).copied() {
            None => {
                let o = storage.create(&key, body.clone(), who(Verb::Create)).await.unwrap();
                (o.mod_revision, EventType::Created, Some(body))
            }
            Some(rev) if rng.below(4) == 0 => {
                let d = storage.delete(&key, rev, who(Verb::Delete)).await.unwrap();
                (d.revision, EventType::Deleted, None)
            }
            Some(rev) => {
                let o = storage.update(&key, rev, body.clone(), who(Verb::Update)).await.unwrap();
                (o.mod_revision, EventType::Updated, Some(body))
            }
        };
        match ack.1 {
            EventType::Deleted => live.remove(&key),
            _ => live.insert(key.clone(), ack.0),
        };
        acked.push(Acked { revision: ack.0, key, event_type: ack.1, value: ack.2 });
    }
    acked
}

/// Reads events from `stream` until one at or past `until`; fails on errors or a hang.
pub async fn collect_events(stream: &mut WatchStream, until: Revision) -> Vec<Event> {
    let mut events = Vec::new();
    let mut seen = 0;
    while seen < until {
        let item = tokio::time::timeout(PATIENCE, stream.next())
            .await
            .unwrap_or_else(|_| panic!("watch stalled at revision {seen}, waiting for {until}"))
            .expect("watch ended early")
            .expect("watch failed");
        match item {
            WatchItem::Event(e) => {
                assert!(e.revision > seen, "revision {} after {seen}", e.revision);
                seen = e.revision;
                events.push(e);
            }
            WatchItem::Progress(rev) => {
                assert!(rev >= seen, "progress went back from {seen} to {rev}");
                seen = rev;
            }
        }
    }
    events
}

pub async fn create_update_delete_preconditions(storage: Arc<dyn Storage>) {
    let key = "/configmaps/default/settings";
    let created = storage.create(key, value("v1"), who(Verb::Create)).await.unwrap();
    assert_eq!(created.create_revision, created.mod_revision);
    assert_eq!(created.value, "v1");

    match storage.create(key, value("again"), who(Verb::Create)).await {
        Err(StorageError::AlreadyExists { current, .. }) => assert_eq!(*current, created),
        other => panic!("second create: {other:?}"),
    }
    let updated =
        storage.update(key, created.mod_revision, value("v2"), who(Verb::Update)).await.unwrap();
    assert!(updated.mod_revision > created.mod_revision);
    assert_eq!(updated.create_revision, created.create_revision);

    // A stale precondition fails and hands back the current object, for both update and delete.
    match storage.update(key, created.mod_revision, value("stale"), who(Verb::Update)).await {
        Err(StorageError::Conflict { current, expected, .. }) => {
            assert_eq!(*current, updated);
            assert_eq!(expected, created.mod_revision);
        }
        other => panic!("stale update: {other:?}"),
    }
    match storage.delete(key, created.mod_revision, who(Verb::Delete)).await {
        Err(StorageError::Conflict { current, .. }) => assert_eq!(*current, updated),
        other => panic!("stale delete: {other:?}"),
    }
    let deleted = storage.delete(key, updated.mod_revision, who(Verb::Delete)).await.unwrap();
    assert_eq!(deleted.object, updated);
    assert!(deleted.revision > updated.mod_revision);
    assert_eq!(storage.get(key, None).await.unwrap(), None);
    assert_eq!(storage.current_revision().await.unwrap(), deleted.revision);

    for result in [
        storage.update(key, deleted.revision, value("x"), who(Verb::Update)).await.map(|_| ()),
        storage.delete(key, deleted.revision, who(Verb::Delete)).await.map(|_| ()),
        // A missing key's mod_revision is 0 on etcd: expecting 0 must not write it.
        storage.update(key, 0, value("x"), who(Verb::Update)).await.map(|_| ()),
        storage.delete(key, 0, who(Verb::Delete)).await.map(|_| ()),
    ] {
        assert!(matches!(result, Err(StorageError::NotFound { .. })), "{result:?}");
    }
    assert_eq!(storage.get(key, None).await.unwrap(), None);
    // Reads at older revisions see the old values.
    let at = |rev| storage.get(key, Some(rev));
    assert_eq!(at(created.mod_revision).await.unwrap().unwrap().value, "v1");
    assert_eq!(at(updated.mod_revision).await.unwrap().unwrap().value, "v2");
    assert_eq!(at(deleted.revision).await.unwrap(), None);
    // A re-create starts a new incarnation.
    let again = storage.create(key, value("v3"), who(Verb::Create)).await.unwrap();
    assert_eq!(again.create_revision, again.mod_revision);
    assert!(again.create_revision > deleted.revision);
}

pub async fn revisions_are_gap_free_under_concurrent_writers(storage: Arc<dyn Storage>) {
    let start = storage.current_revision().await.unwrap();
    let writers: Vec<_> = (0..8)
        .map(|w| tokio::spawn(random_writer(storage.clone(), "/leases/ns/", w, 100, 10)))
        .collect();
    let mut revisions = Vec::new();
    for w in writers {
        revisions.extend(w.await.unwrap().into_iter().map(|a| a.revision));
    }
    revisions.sort_unstable();
    let expected: Vec<Revision> = (start + 1..=start + 800).collect();
    assert_eq!(revisions, expected, "every write got its own revision, with no gap");
    assert_eq!(storage.current_revision().await.unwrap(), start + 800);
}

pub async fn concurrent_creates_of_one_key_exactly_one_wins(storage: Arc<dyn Storage>) {
    let key = "/namespaces/contested";
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                storage.create(key, value(format!("creator-{i}")), who(Verb::Create)).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(object) => winners.push(object),
            Err(StorageError::AlreadyExists { current, .. }) => losers.push(*current),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create wins");
    assert_eq!(losers.len(), 15);
    let stored = storage.get(key, None).await.unwrap().unwrap();
    assert_eq!(stored, winners[0]);
    for loser in losers {
        assert_eq!(loser, stored, "a loser sees the winner's object");
    }
}

pub async fn read_modify_write_loops_lose_no_update(storage: Arc<dyn Storage>) {
    let key = "/configmaps/default/counter";
    storage.create(key, value("0"), who(Verb::Create)).await.unwrap();
    let loops: Vec<_> = (0..8)
        .map(|_| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let mut successes = 0u64;
                let mut conflicts = 0u64;
                let mut current = storage.get(key, None).await.unwrap().unwrap();
                while successes < 50 {
                    let n: u64 = std::str::from_utf8(&current.value).unwrap().parse().unwrap();
                    let next = value((n + 1).to_string());
                    match storage.update(key, current.mod_revision, next, who(Verb::Update)).await {
                        Ok(object) => {
                            successes += 1;
                            current = object;
                        }
                        Err(StorageError::Conflict { current: latest, .. }) => {
                            conflicts += 1;
                            current = *latest;
                        }
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                }
                (successes, conflicts)
            })
        })
        .collect();
    let mut successes = 0;
    for l in loops {
        successes += l.await.unwrap().0;
    }
    let stored = storage.get(key, None).await.unwrap().unwrap();
    let counter: u64 = std::str::from_utf8(&stored.value).unwrap().parse().unwrap();
    assert_eq!(successes, 400);
    assert_eq!(counter, successes, "every successful update counted exactly once");
}

pub async fn list_pages_read_one_revision_while_writes_continue(storage: Arc<dyn Storage>) {
    let prefix = "/pods/";
    for i in 0..60 {
        let key = format!("{prefix}ns{}/pod-{i:03}", i % 3);
        storage.create(&key, value(format!("pod {i}")), who(Verb::Create)).await.unwrap();
    }
    // A key just outside the prefix must never show up.
    storage.create("/podsecurity/x", value("outside"), who(Verb::Create)).await.unwrap();

    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(random_writer(storage.clone(), "/pods/zz/", w, 150, 20)))
        .collect();

    let first =
        storage.list(prefix, ListOptions { limit: Some(7), ..Default::default() }).await.unwrap();
    let revision = first.revision;
    let whole = storage
        .list(prefix, ListOptions { revision: Some(revision), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(whole.revision, revision);
    assert_eq!(whole.remaining, 0);
    assert_eq!(first.remaining as usize, whole.objects.len() - first.objects.len());

    let mut paged = first.objects.clone();
    let mut page = first;
    while let Some(start) = page.next_start().map(str::to_owned) {
        tokio::task::yield_now().await;
        page = storage
            .list(
                prefix,
                ListOptions { revision: Some(revision), limit: Some(7), start_after: Some(start) },
            )
            .await
            .unwrap();
        assert_eq!(page.revision, revision, "later pages read the first page's revision");
        assert!(page.objects.len() <= 7);
        paged.extend(page.objects.iter().cloned());
    }
    assert_eq!(paged, whole.objects, "pages at one revision equal one unpaged list at it");
    for object in &paged {
        assert!(object.key.starts_with(prefix));
        assert!(object.mod_revision <= revision);
    }
    let keys: Vec<&str> = paged.iter().map(|o| o.key.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(keys, sorted, "keys in order, each once");

    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    // The list at `revision` holds exactly the writers' keys live at that revision.
    let mut live_at_revision = BTreeMap::new();
    acked.sort_by_key(|a| a.revision);
    for a in acked.iter().filter(|a| a.revision <= revision) {
        match &a.value {
            Some(v) => live_at_revision.insert(a.key.clone(), v.clone()),
            None => live_at_revision.remove(&a.key),
        };
    }
    let listed_writer_keys: BTreeMap<String, Bytes> = paged
        .iter()
        .filter(|o| o.key.starts_with("/pods/zz/"))
        .map(|o| (o.key.clone(), o.value.clone()))
        .collect();
    assert_eq!(listed_writer_keys, live_at_revision);
    assert_eq!(paged.len() - listed_writer_keys.len(), 60);
}

pub async fn watch_delivers_every_event_after_a_revision(storage: Arc<dyn Storage>) {
    let prefix = "/events/";
    storage.create("/events/ns/before", value("before"), who(Verb::Create)).await.unwrap();
    let from = storage.current_revision().await.unwrap();

    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(random_writer(storage.clone(), "/events/ns/", w, 250, 15)))
        .collect();
    // Writes outside the prefix interleave and must not be delivered.
    let outside = tokio::spawn(random_writer(storage.clone(), "/eventsx/", 9, 100, 5));
    // The watch starts while writes are under way: events before it come from history.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut stream = storage.watch(prefix, from).await.unwrap();

    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    outside.await.unwrap();
    acked.sort_by_key(|a| a.revision);
    let last = acked.last().unwrap().revision;
    let events = collect_events(&mut stream, last).await;

    let delivered: Vec<Acked> = events
        .iter()
        .map(|e| Acked {
            revision: e.revision,
            key: e.key.clone(),
            event_type: e.event_type,
            value: e.object.as_ref().map(|o| o.value.clone()),
        })
        .collect();
    assert_eq!(delivered, acked, "exactly the acknowledged writes, in revision order, once each");

    // Previous values: each event's prev_object is the key's previous state.
    let mut state: HashMap<&str, Revision> = HashMap::new();
    for e in &events {
        let prev = e.prev_object.as_ref().map(|o| o.mod_revision);
        match e.event_type {
            EventType::Created => assert_eq!(prev, None, "{e:?}"),
            _ => assert_eq!(prev, state.get(e.key.as_str()).copied(), "{e:?}"),
        }
        if let Some(object) = &e.object {
            assert_eq!(object.mod_revision, e.revision);
            state.insert(&e.key, e.revision);
        } else {
            state.remove(e.key.as_str());
        }
        let provenance = e.provenance.as_ref().expect("every event records who did it");
        assert_eq!(provenance.user, "alice");
        let verb = match e.event_type {
            EventType::Created => Verb::Create,
            EventType::Updated => Verb::Update,
            EventType::Deleted => Verb::Delete,
        };
        assert_eq!(provenance.verb, verb);
    }

    // The stream stays live: a later write arrives too, and nothing else came before it.
    let later =
        storage.create("/events/ns/later", value("later"), who(Verb::Create)).await.unwrap();
    let tail = collect_events(&mut stream, later.mod_revision).await;
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].key, "/events/ns/later");
}

/// A watch's previous values for keys written before it started — which the watch never saw —
/// and for keys it saw, interleaved in one stream: every update and delete carries the object its
/// key held just before, with that object's own revisions.
pub async fn watch_gives_previous_values_of_keys_written_before_it(storage: Arc<dyn Storage>) {
    let put = |key: &'static str, text: &'static str| {
        let storage = storage.clone();
        async move { storage.create(key, value(text), who(Verb::Create)).await.unwrap() }
    };
    let a1 = put("/prev/ns/a", "a1").await;
    let b1 = put("/prev/ns/b", "b1").await;
    let a2 = storage.update("/prev/ns/a", a1.mod_revision, value("a2"), who(Verb::Update));
    let a2 = a2.await.unwrap();
    let from = storage.current_revision().await.unwrap();
    let mut stream = storage.watch("/prev/", from).await.unwrap();
    let mut changes = storage.watch_changes("/prev/", from).await.unwrap();

    let a3 = storage.update("/prev/ns/a", a2.mod_revision, value("a3"), who(Verb::Update));
    let a3 = a3.await.unwrap();
    let b_gone = storage.delete("/prev/ns/b", b1.mod_revision, who(Verb::Delete)).await.unwrap();
    let c1 = put("/prev/ns/c", "c1").await;
    let a4 = storage.update("/prev/ns/a", a3.mod_revision, value("a4"), who(Verb::Update));
    let a4 = a4.await.unwrap();
    let c_gone = storage.delete("/prev/ns/c", c1.mod_revision, who(Verb::Delete)).await.unwrap();
    let a_gone = storage.delete("/prev/ns/a", a4.mod_revision, who(Verb::Delete)).await.unwrap();

    let events = collect_events(&mut stream, a_gone.revision).await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| {
            let prev = e.prev_object.as_ref();
            let prev = prev.map(|o| (o.value.clone(), o.create_revision, o.mod_revision));
            (e.revision, e.event_type, e.key.as_str(), prev)
        })
        .collect();
    // A watch without provenance delivers the same events, objects and previous objects.
    let without = |e: &Event| (e.revision, e.event_type, e.key.clone(), e.object.clone());
    let changed = collect_events(&mut changes, a_gone.revision).await;
    assert_eq!(
        changed.iter().map(|e| (without(e), e.prev_object.clone())).collect::<Vec<_>>(),
        events.iter().map(|e| (without(e), e.prev_object.clone())).collect::<Vec<_>>(),
    );
    assert!(events.iter().all(|e| e.provenance.is_some()), "watch keeps who did it");
    let was = |text: &'static str, object: &Object| {
        Some((value(text), object.create_revision, object.mod_revision))
    };
    assert_eq!(
        seen,
        vec![
            (a3.mod_revision, EventType::Updated, "/prev/ns/a", was("a2", &a2)),
            (b_gone.revision, EventType::Deleted, "/prev/ns/b", was("b1", &b1)),
            (c1.mod_revision, EventType::Created, "/prev/ns/c", None),
            (a4.mod_revision, EventType::Updated, "/prev/ns/a", was("a3", &a3)),
            (c_gone.revision, EventType::Deleted, "/prev/ns/c", was("c1", &c1)),
            (a_gone.revision, EventType::Deleted, "/prev/ns/a", was("a4", &a4)),
        ]
    );
}

pub async fn compacted_revisions_are_refused(storage: Arc<dyn Storage>) {
    let key = "/secrets/default/token";
    let mut revisions = vec![storage.create(key, value("0"), who(Verb::Create)).await.unwrap()];
    for i in 1..10 {
        let prev = revisions.last().unwrap().mod_revision;
        revisions.push(
            storage.update(key, prev, value(i.to_string()), who(Verb::Update)).await.unwrap(),
        );
    }
    let other =
        storage.create("/secrets/default/other", value("o"), who(Verb::Create)).await.unwrap();
    let compact_at = revisions[6].mod_revision;
    storage.compact(compact_at).await.unwrap();
    assert_eq!(storage.compacted_revision().await.unwrap(), compact_at);

    let old = revisions[2].mod_revision;
    let compacted = |r: Result<(), StorageError>| {
        assert!(
            matches!(r, Err(StorageError::Compacted { requested, .. }) if requested <= old),
            "{r:?}"
        )
    };
    compacted(storage.get(key, Some(old)).await.map(|_| ()));
    compacted(
        storage
            .list("/secrets/", ListOptions { revision: Some(old), ..Default::default() })
            .await
            .map(|_| ()),
    );
    match storage.watch("/secrets/", old).await {
        Err(err) => compacted(Err(err)),
        Ok(mut stream) => {
            let first = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap();
            compacted(first.expect("an error item").map(|_| ()));
        }
    }

    // The compacted revision itself and everything after stay readable and watchable.
    assert_eq!(storage.get(key, Some(compact_at)).await.unwrap().unwrap().value, "6");
    let listed = storage
        .list("/secrets/", ListOptions { revision: Some(compact_at), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(listed.objects.len(), 1);
    let mut stream = storage.watch("/secrets/", compact_at).await.unwrap();
    let events = collect_events(&mut stream, other.mod_revision).await;
    let got: Vec<Revision> = events.iter().map(|e| e.revision).collect();
    let mut want: Vec<Revision> = revisions[7..].iter().map(|o| o.mod_revision).collect();
    want.push(other.mod_revision);
    assert_eq!(got, want);

    let history = storage.history(key).await.unwrap();
    assert!(history.iter().all(|e| e.revision >= compact_at), "history starts at compaction");
    assert_eq!(history.last().unwrap().revision, revisions[9].mod_revision);

    // Compacting to a future revision is refused.
    let head = storage.current_revision().await.unwrap();
    assert!(matches!(storage.compact(head + 100).await, Err(StorageError::FutureRevision { .. })));
}

pub async fn future_revisions_are_refused(storage: Arc<dyn Storage>) {
    storage.create("/services/a/b", value("x"), who(Verb::Create)).await.unwrap();
    let head = storage.current_revision().await.unwrap();
    let future = head + 1000;
    let r = storage.get("/services/a/b", Some(future)).await;
    assert!(
        matches!(r, Err(StorageError::FutureRevision { requested, .. }) if requested == future),
        "{r:?}"
    );
    let r = storage
        .list("/services/", ListOptions { revision: Some(future), ..Default::default() })
        .await;
    assert!(matches!(r, Err(StorageError::FutureRevision { .. })), "{r:?}");
}

pub async fn history_replays_a_key_with_who_did_what(storage: Arc<dyn Storage>) {
    let key = "/deployments/default/web";
    let noise = |i: usize| format!("/deployments/default/noise-{i}");
    let by = |user: &str, verb, audit: &str| Provenance::now(user, verb, audit);
    let c = storage.create(key, value("a"), by("alice", Verb::Create, "a1")).await.unwrap();
    storage.create(&noise(1), value("n"), who(Verb::Create)).await.unwrap();
    let u = storage
        .update(key, c.mod_revision, value("b"), by("bob", Verb::Patch, "b1"))
        .await
        .unwrap();
    let d = storage.delete(key, u.mod_revision, by("carol", Verb::Delete, "c1")).await.unwrap();
    storage.create(&noise(2), value("n"), who(Verb::Create)).await.unwrap();
    let r = storage.create(key, value("c"), by("dave", Verb::Create, "d1")).await.unwrap();

    let history = storage.history(key).await.unwrap();
    type Row<'a> = (Revision, EventType, Option<&'a str>, &'a str, Verb, &'a str);
    let summary: Vec<Row> = history
        .iter()
        .map(|e| {
            let p = e.provenance.as_ref().expect("provenance recorded");
            let v = e.object.as_ref().map(|o| std::str::from_utf8(&o.value).unwrap());
            (e.revision, e.event_type, v, p.user.as_str(), p.verb, p.audit_id.as_str())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (c.mod_revision, EventType::Created, Some("a"), "alice", Verb::Create, "a1"),
            (u.mod_revision, EventType::Updated, Some("b"), "bob", Verb::Patch, "b1"),
            (d.revision, EventType::Deleted, None, "carol", Verb::Delete, "c1"),
            (r.mod_revision, EventType::Created, Some("c"), "dave", Verb::Create, "d1"),
        ]
    );
    assert_eq!(history[1].prev_object.as_ref().unwrap().value, "a");
    assert_eq!(history[2].prev_object.as_ref().unwrap().value, "b");
    assert!(history.windows(2).all(|w| w[0].provenance.as_ref().unwrap().timestamp_micros
        <= w[1].provenance.as_ref().unwrap().timestamp_micros));
    assert!(storage.history("/deployments/default/never").await.unwrap().is_empty());
}

pub async fn bad_keys_and_values_are_refused_without_writing(storage: Arc<dyn Storage>) {
    let before = storage.current_revision().await.unwrap();
    for key in ["", "relative/key", "/trailing/", "/double//slash", "/dot/../dot"] {
        let r = storage.create(key, value("x"), who(Verb::Create)).await;
        assert!(matches!(r, Err(StorageError::InvalidKey { .. })), "{key:?}: {r:?}");
    }
    let r = storage.list("no-slash", ListOptions::default()).await;
    assert!(matches!(r, Err(StorageError::InvalidKey { .. })), "{r:?}");
    let r = storage.watch("/no-trailing-slash", 0).await.map(|_| ());
    assert!(matches!(r, Err(StorageError::InvalidKey { .. })), "{r:?}");
    let huge = Bytes::from(vec![b'x'; MAX_VALUE_BYTES + 1]);
    let r = storage.create("/configmaps/default/huge", huge, who(Verb::Create)).await;
    assert!(matches!(r, Err(StorageError::ValueTooLarge { .. })), "{r:?}");
    assert_eq!(storage.current_revision().await.unwrap(), before, "nothing was written");
    // The largest allowed value is stored whole.
    let max = Bytes::from(vec![b'y'; MAX_VALUE_BYTES]);
    storage.create("/configmaps/default/max", max.clone(), who(Verb::Create)).await.unwrap();
    assert_eq!(storage.get("/configmaps/default/max", None).await.unwrap().unwrap().value, max);
}

pub async fn restart_keeps_every_acknowledged_write<H: Harness>(harness: &mut H) {
    let storage = harness.storage();
    let writers: Vec<_> = (0..8)
        .map(|w| tokio::spawn(random_writer(storage.clone(), "/serviceaccounts/ns/", w, 60, 8)))
        .collect();
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    let head = storage.current_revision().await.unwrap();
    let before = storage.list("/serviceaccounts/", ListOptions::default()).await.unwrap();
    drop(storage);

    harness.restart().await;
    let storage = harness.storage();
    assert_eq!(storage.current_revision().await.unwrap(), head);
    let after = storage.list("/serviceaccounts/", ListOptions::default()).await.unwrap();
    assert_eq!(after.objects, before.objects);
    // And every acknowledged write is in the history, as acknowledged.
    acked.sort_by_key(|a| a.revision);
    let keys: BTreeSet<&str> = acked.iter().map(|a| a.key.as_str()).collect();
    let mut replayed = Vec::new();
    for key in keys {
        replayed.extend(storage.history(key).await.unwrap().into_iter().map(|e| Acked {
            revision: e.revision,
            key: e.key,
            event_type: e.event_type,
            value: e.object.map(|o| o.value),
        }));
    }
    replayed.sort_by_key(|a| a.revision);
    assert_eq!(replayed, acked);
    // Writing goes on after the restart with the next revision.
    let next =
        storage.create("/serviceaccounts/ns/new", value("n"), who(Verb::Create)).await.unwrap();
    assert_eq!(next.mod_revision, head + 1);
}

/// Expands to one `#[tokio::test]` per suite case, each on a fresh backend from `$harness`.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:ty) => {
        $crate::conformance_suite!(@cases $harness;
            create_update_delete_preconditions,
            revisions_are_gap_free_under_concurrent_writers,
            concurrent_creates_of_one_key_exactly_one_wins,
            read_modify_write_loops_lose_no_update,
            list_pages_read_one_revision_while_writes_continue,
            watch_delivers_every_event_after_a_revision,
            watch_gives_previous_values_of_keys_written_before_it,
            compacted_revisions_are_refused,
            future_revisions_are_refused,
            history_replays_a_key_with_who_did_what,
            bad_keys_and_values_are_refused_without_writing,
        );
        $crate::conformance_suite!(@history $harness;
            history_pages_walk_a_key_oldest_first,
            replay_streams_a_range_in_order_with_prev_objects,
            replay_of_an_empty_range_ends_empty,
            replay_refuses_compacted_and_future_ranges,
            revision_at_finds_the_log_position_at_a_time,
            compaction_keeps_every_live_object,
            size_bound_compaction_keeps_every_live_object,
        );

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn restored_from_round_trips_durably() {
            let mut harness = <$harness as $crate::support::suite::Harness>::start().await;
            $crate::support::suite_history::restored_from_round_trips_durably(&mut harness).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn every_provenance_field_round_trips_durably() {
            let mut harness = <$harness as $crate::support::suite::Harness>::start().await;
            $crate::support::suite_provenance::every_field_round_trips_durably(&mut harness).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn entries_of_the_previous_format_read_with_empty_identity() {
            $crate::support::suite_provenance::previous_format_reads_with_empty_identity::<
                $harness,
            >()
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn restart_keeps_every_acknowledged_write() {
            let mut harness = <$harness as $crate::support::suite::Harness>::start().await;
            $crate::support::suite::restart_keeps_every_acknowledged_write(&mut harness).await;
        }
    };
    (@history $harness:ty; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let harness = <$harness as $crate::support::suite::Harness>::start().await;
                $crate::support::suite_history::$case(
                    $crate::support::suite::Harness::storage(&harness),
                ).await;
            }
        )*
    };
    (@cases $harness:ty; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let harness = <$harness as $crate::support::suite::Harness>::start().await;
                $crate::support::suite::$case(
                    $crate::support::suite::Harness::storage(&harness),
                ).await;
            }
        )*
    };
}
