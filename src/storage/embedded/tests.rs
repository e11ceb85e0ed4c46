//! Tests of the embedded backend through the `Storage` trait, plus the few things only this
//! backend promises (group commit, reopen, schema refusal, lagged watches).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tempfile::TempDir;

use super::EmbeddedStorage;
use crate::storage::{
    EventType, ListOptions, Provenance, Revision, Storage, StorageError, Verb, WatchItem,
    WatchStream,
};

fn who(verb: Verb) -> Provenance {
    Provenance::now("alice", verb, "audit-1")
}

fn open() -> (TempDir, EmbeddedStorage) {
    let dir = TempDir::new().unwrap();
    let storage = EmbeddedStorage::open(dir.path()).unwrap();
    (dir, storage)
}

async fn create(s: &EmbeddedStorage, key: &str, value: &str) -> Revision {
    s.create(key, Bytes::from(value.to_owned()), who(Verb::Create)).await.unwrap().mod_revision
}

async fn update(s: &EmbeddedStorage, key: &str, expected: Revision, value: &str) -> Revision {
    s.update(key, expected, Bytes::from(value.to_owned()), who(Verb::Update))
        .await
        .unwrap()
        .mod_revision
}

/// Collects watch events until one at `until` or beyond arrives; fails on a timeout.
async fn collect_until(stream: &mut WatchStream, until: Revision) -> Vec<WatchItem> {
    let mut items = Vec::new();
    loop {
        let item = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("watch stalled")
            .expect("watch ended")
            .expect("watch failed");
        let revision = match &item {
            WatchItem::Event(event) => event.revision,
            WatchItem::Progress(revision) => *revision,
        };
        items.push(item);
        if revision >= until {
            return items;
        }
    }
}

fn event_revisions(items: &[WatchItem]) -> Vec<Revision> {
    items
        .iter()
        .filter_map(|item| match item {
            WatchItem::Event(event) => Some(event.revision),
            WatchItem::Progress(_) => None,
        })
        .collect()
}

fn assert_strictly_increasing(items: &[WatchItem]) {
    let revisions: Vec<Revision> = items
        .iter()
        .map(|item| match item {
            WatchItem::Event(event) => event.revision,
            WatchItem::Progress(revision) => *revision,
        })
        .collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "not strictly increasing: {revisions:?}");
}

#[tokio::test]
async fn create_update_delete_and_preconditions() {
    let (_dir, s) = open();
    assert_eq!(s.current_revision().await.unwrap(), 0);

    let created = s.create("/pods/a", Bytes::from_static(b"v1"), who(Verb::Create)).await.unwrap();
    assert_eq!((created.create_revision, created.mod_revision), (1, 1));

    let err = s.create("/pods/a", Bytes::from_static(b"x"), who(Verb::Create)).await.unwrap_err();
    match err {
        StorageError::AlreadyExists { key, current } => {
            assert_eq!(key, "/pods/a");
            assert_eq!(*current, created);
        }
        other => panic!("{other:?}"),
    }

    let err =
        s.update("/pods/a", 7, Bytes::from_static(b"x"), who(Verb::Update)).await.unwrap_err();
    assert!(
        matches!(&err, StorageError::Conflict { expected: 7, current, .. } if current.mod_revision == 1),
        "{err:?}"
    );
    let err =
        s.update("/pods/b", 1, Bytes::from_static(b"x"), who(Verb::Update)).await.unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    let err = s.delete("/pods/a", 5, who(Verb::Delete)).await.unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err:?}");

    // Failed preconditions took no revision.
    assert_eq!(s.current_revision().await.unwrap(), 1);

    let updated =
        s.update("/pods/a", 1, Bytes::from_static(b"v2"), who(Verb::Update)).await.unwrap();
    assert_eq!((updated.create_revision, updated.mod_revision), (1, 2));
    assert_eq!(s.get("/pods/a", None).await.unwrap(), Some(updated.clone()));

    let deleted = s.delete("/pods/a", 2, who(Verb::Delete)).await.unwrap();
    assert_eq!(deleted.revision, 3);
    assert_eq!(deleted.object, updated);
    assert_eq!(s.get("/pods/a", None).await.unwrap(), None);
    let err = s.delete("/pods/a", 3, who(Verb::Delete)).await.unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");

    // Re-create: a new incarnation.
    let again = s.create("/pods/a", Bytes::new(), who(Verb::Create)).await.unwrap();
    assert_eq!((again.create_revision, again.mod_revision), (4, 4));
    assert_eq!(again.value, Bytes::new(), "an empty value round-trips");
    assert_eq!(s.get("/pods/a", None).await.unwrap(), Some(again));
    assert_eq!(s.current_revision().await.unwrap(), 4);
}

#[tokio::test]
async fn invalid_input_is_refused_before_writing() {
    let (_dir, s) = open();
    for key in ["", "pods/a", "/pods/", "/pods//a", "/a/\u{1}"] {
        let err = s.create(key, Bytes::new(), who(Verb::Create)).await.unwrap_err();
        assert!(matches!(err, StorageError::InvalidKey { .. }), "{key:?}");
    }
    let big = Bytes::from(vec![0; crate::storage::MAX_VALUE_BYTES + 1]);
    let err = s.create("/pods/a", big, who(Verb::Create)).await.unwrap_err();
    assert!(matches!(err, StorageError::ValueTooLarge { .. }), "{err:?}");
    assert!(s.list("/pods", ListOptions::default()).await.is_err());
    assert!(s.watch("pods/", 0).await.is_err());
    assert_eq!(s.current_revision().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_get_gap_free_revisions() {
    let (_dir, s) = open();
    const WRITERS: usize = 64;
    const EACH: usize = 40;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut revisions = Vec::new();
                for i in 0..EACH {
                    let key = format!("/things/w{w}/k{i}");
                    let object =
                        s.create(&key, Bytes::from(key.clone()), who(Verb::Create)).await.unwrap();
                    revisions.push(object.mod_revision);
                    // Every other key is updated too, racing other writers' creates.
                    if i % 2 == 0 {
                        let updated = s
                            .update(&key, object.mod_revision, Bytes::new(), who(Verb::Update))
                            .await
                            .unwrap();
                        revisions.push(updated.mod_revision);
                    }
                }
                revisions
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let revisions = task.await.unwrap();
        assert!(revisions.windows(2).all(|w| w[0] < w[1]), "a writer saw revisions go back");
        all.extend(revisions);
    }
    all.sort_unstable();
    let total = WRITERS * (EACH + EACH / 2);
    assert_eq!(all, (1..=total as Revision).collect::<Vec<_>>());
    assert_eq!(s.current_revision().await.unwrap(), total as Revision);
    let page = s.list("/things/", ListOptions::default()).await.unwrap();
    assert_eq!(page.objects.len(), WRITERS * EACH);
    assert_eq!(page.revision, total as Revision);
}

#[tokio::test]
async fn get_and_list_at_old_revisions() {
    let (_dir, s) = open();
    let a1 = create(&s, "/pods/ns/a", "a1").await; // 1
    let b1 = create(&s, "/pods/ns/b", "b1").await; // 2
    create(&s, "/other/x", "x").await; // 3
    let a2 = update(&s, "/pods/ns/a", a1, "a2").await; // 4
    s.delete("/pods/ns/b", b1, who(Verb::Delete)).await.unwrap(); // 5
    create(&s, "/pods/ns/c", "c1").await; // 6

    let value = |o: Option<crate::storage::Object>| o.map(|o| o.value);
    assert_eq!(value(s.get("/pods/ns/a", Some(1)).await.unwrap()), Some("a1".into()));
    assert_eq!(value(s.get("/pods/ns/a", Some(3)).await.unwrap()), Some("a1".into()));
    assert_eq!(value(s.get("/pods/ns/a", Some(4)).await.unwrap()), Some("a2".into()));
    assert_eq!(value(s.get("/pods/ns/b", Some(4)).await.unwrap()), Some("b1".into()));
    assert_eq!(s.get("/pods/ns/b", Some(5)).await.unwrap(), None);
    assert_eq!(s.get("/pods/ns/c", Some(5)).await.unwrap(), None);
    assert_eq!(s.get("/pods/ns/a", Some(0)).await.unwrap(), None);
    let err = s.get("/pods/ns/a", Some(7)).await.unwrap_err();
    assert!(matches!(err, StorageError::FutureRevision { requested: 7, current: 6 }), "{err:?}");

    let keys = |page: &crate::storage::ListPage| {
        page.objects.iter().map(|o| (o.key.clone(), o.mod_revision)).collect::<Vec<_>>()
    };
    let at = |revision| ListOptions { revision: Some(revision), ..ListOptions::default() };
    let page = s.list("/pods/", at(4)).await.unwrap();
    assert_eq!(keys(&page), [("/pods/ns/a".to_owned(), a2), ("/pods/ns/b".to_owned(), b1)]);
    assert_eq!((page.revision, page.remaining), (4, 0));
    let page = s.list("/pods/", at(5)).await.unwrap();
    assert_eq!(keys(&page), [("/pods/ns/a".to_owned(), a2)]);
    let page = s.list("/pods/", ListOptions::default()).await.unwrap();
    assert_eq!(page.revision, 6);
    assert_eq!(page.objects.len(), 2);
    let page = s.list("/", at(2)).await.unwrap();
    assert_eq!(page.objects.len(), 2);
    let page = s.list("/pods/ns/a/", ListOptions::default()).await.unwrap();
    assert!(page.objects.is_empty(), "a prefix matches whole segments only");
    assert!(matches!(
        s.list("/pods/", at(9)).await.unwrap_err(),
        StorageError::FutureRevision { .. }
    ));
}

/// Pages a list at one revision while writers keep changing the same keys: the pages together
/// must be exactly the state at that revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_is_consistent_while_writing() {
    let (_dir, s) = open();
    for i in 0..100 {
        create(&s, &format!("/cm/ns/k{i:03}"), "v0").await;
    }
    let expected = s.list("/cm/", ListOptions::default()).await.unwrap();
    assert_eq!(expected.objects.len(), 100);

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop) = (s.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("/cm/ns/k{:03}", n % 100);
                let current = s.get(&key, None).await.unwrap();
                match current {
                    Some(object) if n % 3 == 0 => {
                        s.delete(&key, object.mod_revision, who(Verb::Delete)).await.unwrap();
                    }
                    Some(object) => {
                        update(&s, &key, object.mod_revision, &format!("v{n}")).await;
                    }
                    None => {
                        create(&s, &key, "again").await;
                    }
                }
                // Keys between existing ones shift later pages if reads were not snapshotted.
                create(&s, &format!("/cm/ns/k{:03}-{n}", n % 100), "new").await;
                n += 1;
            }
        })
    };

    // Every page reads `expected`'s revision: the writer may already have written before the
    // first page, so that page cannot be read "at the latest revision" and still match.
    let mut objects = Vec::new();
    let mut options =
        ListOptions { revision: Some(expected.revision), limit: Some(7), start_after: None };
    loop {
        let page = s.list("/cm/", options.clone()).await.unwrap();
        if let Some(revision) = options.revision {
            assert_eq!(page.revision, revision);
        } else {
            options.revision = Some(page.revision);
        }
        assert!(page.objects.len() <= 7);
        let expected_remaining = expected.objects.len() - objects.len() - page.objects.len();
        assert_eq!(page.remaining, expected_remaining as u64);
        objects.extend(page.objects.iter().cloned());
        match page.next_start() {
            Some(last) => options.start_after = Some(last.to_owned()),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert_eq!(objects, expected.objects);
    assert!(s.current_revision().await.unwrap() > expected.revision);
}

#[tokio::test]
async fn history_carries_previous_objects_and_provenance() {
    let (_dir, s) = open();
    let r1 = create(&s, "/pods/a", "v1").await;
    create(&s, "/pods/ab", "other").await;
    let r3 = update(&s, "/pods/a", r1, "v2").await;
    s.delete("/pods/a", r3, who(Verb::Delete)).await.unwrap();
    create(&s, "/pods/a", "v3").await;

    let history = s.history("/pods/a").await.unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|e| {
            (
                e.revision,
                e.event_type,
                e.object.as_ref().map(|o| (o.value.clone(), o.create_revision)),
                e.prev_object.as_ref().map(|o| (o.value.clone(), o.mod_revision)),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, EventType::Created, Some(("v1".into(), 1)), None),
            (3, EventType::Updated, Some(("v2".into(), 1)), Some(("v1".into(), 1))),
            (4, EventType::Deleted, None, Some(("v2".into(), 3))),
            (5, EventType::Created, Some(("v3".into(), 5)), None),
        ]
    );
    let provenance = history[2].provenance.as_ref().unwrap();
    assert_eq!(
        (provenance.user.as_str(), provenance.verb, provenance.audit_id.as_str()),
        ("alice", Verb::Delete, "audit-1")
    );
    assert!(provenance.timestamp_micros > 0);
    assert!(s.history("/pods/none").await.unwrap().is_empty());
}

#[tokio::test]
async fn compaction_keeps_the_state_at_its_revision() {
    let (_dir, s) = open();
    let a1 = create(&s, "/pods/a", "a1").await; // 1
    let b1 = create(&s, "/pods/b", "b1").await; // 2
    let a2 = update(&s, "/pods/a", a1, "a2").await; // 3
    s.delete("/pods/b", b1, who(Verb::Delete)).await.unwrap(); // 4
    let c1 = create(&s, "/pods/c", "c1").await; // 5
    let a3 = update(&s, "/pods/a", a2, "a3").await; // 6

    let err = s.compact(7).await.unwrap_err();
    assert!(matches!(err, StorageError::FutureRevision { .. }), "{err:?}");
    s.compact(5).await.unwrap();
    assert_eq!(s.compacted_revision().await.unwrap(), 5);
    s.compact(2).await.unwrap(); // never lowered
    assert_eq!(s.compacted_revision().await.unwrap(), 5);

    let err = s.get("/pods/a", Some(4)).await.unwrap_err();
    assert!(matches!(err, StorageError::Compacted { requested: 4, compacted: 5 }), "{err:?}");
    let err = s
        .list("/pods/", ListOptions { revision: Some(4), ..ListOptions::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Compacted { .. }), "{err:?}");
    assert!(matches!(s.watch("/pods/", 4).await.err(), Some(StorageError::Compacted { .. })));

    // The state at 5 is intact.
    assert_eq!(s.get("/pods/a", Some(5)).await.unwrap().unwrap().mod_revision, a2);
    assert_eq!(s.get("/pods/b", Some(5)).await.unwrap(), None);
    let page = s
        .list("/pods/", ListOptions { revision: Some(5), ..ListOptions::default() })
        .await
        .unwrap();
    let at5: Vec<_> = page.objects.iter().map(|o| o.mod_revision).collect();
    assert_eq!(at5, [a2, c1]);

    // Superseded events and tombstones are gone; what is left still has its previous values.
    let revisions =
        |h: Vec<crate::storage::Event>| h.iter().map(|e| e.revision).collect::<Vec<_>>();
    assert_eq!(revisions(s.history("/pods/a").await.unwrap()), [a2, a3]);
    assert!(s.history("/pods/b").await.unwrap().is_empty());
    let history = s.history("/pods/a").await.unwrap();
    assert_eq!(history[1].prev_object.as_ref().unwrap().mod_revision, a2);
    assert_eq!(history[0].prev_object, None, "its previous event was compacted");

    // A watch from the compacted revision sees everything after it, with previous values.
    let mut stream = s.watch("/pods/", 5).await.unwrap();
    let items = collect_until(&mut stream, a3).await;
    assert_eq!(event_revisions(&items), [a3]);

    // Compacting at the head keeps the latest state.
    s.compact(6).await.unwrap();
    let page = s.list("/pods/", ListOptions::default()).await.unwrap();
    assert_eq!(page.objects.len(), 2);
    assert_eq!(s.get("/pods/a", None).await.unwrap().unwrap().value, "a3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_replays_then_follows_without_gaps_or_duplicates() {
    let (_dir, s) = open();
    const WRITERS: usize = 8;
    const EACH: usize = 60;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    // Half the writes go to a prefix the watch does not see.
                    let prefix = if (w + i) % 2 == 0 { "/pods" } else { "/nodes" };
                    create(&s, &format!("{prefix}/w{w}/k{i}"), "v").await;
                }
            })
        })
        .collect();
    // Start watching while the writers are running, from a revision in the middle.
    while s.current_revision().await.unwrap() < 50 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut stream = s.watch("/pods/", 20).await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let head = s.current_revision().await.unwrap();
    assert_eq!(head, (WRITERS * EACH) as Revision);
    // Add a final /pods write so the stream has a known last event.
    let last = create(&s, "/pods/last/one", "v").await;
    let items = collect_until(&mut stream, last).await;
    assert_strictly_increasing(&items);

    let expected: Vec<Revision> = {
        let page = s.list("/pods/", ListOptions::default()).await.unwrap();
        let mut revisions: Vec<_> =
            page.objects.iter().map(|o| o.mod_revision).filter(|&r| r > 20).collect();
        revisions.sort_unstable();
        revisions
    };
    assert_eq!(event_revisions(&items), expected);
    for item in &items {
        if let WatchItem::Event(event) = item {
            assert!(event.key.starts_with("/pods/"));
            assert_eq!(event.event_type, EventType::Created);
            assert_eq!(event.object.as_ref().unwrap().mod_revision, event.revision);
        }
    }
}

#[tokio::test]
async fn watch_yields_progress_for_batches_outside_its_prefix_and_previous_values() {
    let (_dir, s) = open();
    let r1 = create(&s, "/pods/a", "v1").await;
    let mut stream = s.watch("/pods/", r1).await.unwrap();
    let r2 = create(&s, "/nodes/n", "x").await;
    assert_eq!(collect_until(&mut stream, r2).await, [WatchItem::Progress(r2)]);
    let r3 = update(&s, "/pods/a", r1, "v2").await;
    let r4 = s.delete("/pods/a", r3, who(Verb::Delete)).await.unwrap().revision;
    let items = collect_until(&mut stream, r4).await;
    let [WatchItem::Event(update), WatchItem::Event(delete)] = &items[..] else {
        panic!("{items:?}");
    };
    assert_eq!(update.prev_object.as_ref().unwrap().value, "v1");
    assert_eq!(delete.event_type, EventType::Deleted);
    assert_eq!(delete.object, None);
    assert_eq!(delete.prev_object.as_ref().unwrap().value, "v2");
    assert_eq!(delete.provenance.as_ref().unwrap().verb, Verb::Delete);
}

#[tokio::test]
async fn a_watch_from_the_future_waits_for_it() {
    let (_dir, s) = open();
    let mut stream = s.watch("/pods/", 2).await.unwrap();
    create(&s, "/pods/a", "1").await;
    create(&s, "/pods/b", "2").await;
    let r3 = create(&s, "/pods/c", "3").await;
    let items = collect_until(&mut stream, r3).await;
    assert_eq!(event_revisions(&items), [r3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_watch_recovers_from_the_database() {
    let dir = TempDir::new().unwrap();
    // A feed of 2 batches: any watch not polled for a few writes lags.
    let s = EmbeddedStorage::open_with(dir.path(), 2).unwrap();
    let mut stream = s.watch("/pods/", 0).await.unwrap();
    let mut expected = Vec::new();
    for i in 0..40 {
        expected.push(create(&s, &format!("/pods/k{i}"), "v").await);
        create(&s, &format!("/nodes/k{i}"), "v").await;
    }
    let mut items = collect_until(&mut stream, expected[39]).await;
    // Keep going live after the recovery.
    let mut more = Vec::new();
    for i in 40..45 {
        more.push(create(&s, &format!("/pods/k{i}"), "v").await);
    }
    items.extend(collect_until(&mut stream, more[4]).await);
    expected.extend(more);
    assert_strictly_increasing(&items);
    assert_eq!(event_revisions(&items), expected);
}

#[tokio::test]
async fn dropping_a_watch_stops_it_and_storage_closure_ends_it() {
    let (_dir, s) = open();
    let stream = s.watch("/pods/", 0).await.unwrap();
    drop(stream);
    assert_eq!(s.inner.feed.receiver_count(), 0, "a dropped watch unsubscribes");

    let mut stream = s.watch("/pods/", 0).await.unwrap();
    drop(s);
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap();
    assert!(matches!(item, Some(Err(StorageError::Unavailable(_)))), "{item:?}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn reopen_keeps_every_acknowledged_write() {
    let dir = TempDir::new().unwrap();
    let mut acknowledged = BTreeSet::new();
    {
        let s = EmbeddedStorage::open(dir.path().join("nested").as_path()).unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|w| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut keys = Vec::new();
                    for i in 0..10 {
                        let key = format!("/pods/w{w}/k{i}");
                        create(&s, &key, "v").await;
                        keys.push(key);
                    }
                    keys
                })
            })
            .collect();
        for task in tasks {
            acknowledged.extend(task.await.unwrap());
        }
        s.compact(100).await.unwrap();
    }
    let s = EmbeddedStorage::open(dir.path().join("nested").as_path()).unwrap();
    assert_eq!(s.current_revision().await.unwrap(), 160);
    assert_eq!(s.compacted_revision().await.unwrap(), 100);
    let page = s.list("/pods/", ListOptions::default()).await.unwrap();
    let keys: BTreeSet<_> = page.objects.into_iter().map(|o| o.key).collect();
    assert_eq!(keys, acknowledged);
    // The revision sequence continues where it stopped.
    assert_eq!(create(&s, "/pods/after", "v").await, 161);
}

#[tokio::test]
async fn a_database_from_a_newer_kube_ledger_is_refused() {
    let dir = TempDir::new().unwrap();
    drop(EmbeddedStorage::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(super::DB_FILE)).unwrap();
    let newer = super::schema::MIGRATIONS.len() as i64 + 1;
    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    let err = EmbeddedStorage::open(dir.path()).unwrap_err();
    assert!(matches!(err, StorageError::Internal(_)), "{err:?}");
    assert!(
        err.to_string().contains(&format!("database schema version {newer} is newer")),
        "{err}"
    );
}
