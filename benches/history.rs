//! History reads of both storage backends (issue 15), each against a raw read of the same data
//! from the same store in the same run. Run: `cargo bench --bench history` (add
//! `-- --events 1000000` for a longer replay).
//!
//! - Replay: `Storage::replay` of N events (default 200,000: 2,000 keys of 512-byte values,
//!   each created, updated 98 times and deleted, by 64 writers) against the raw read of the same
//!   revisions: on the embedded store, one SQLite select of the same rows (the event, its
//!   previous value) over a connection of its own, touching every value without copying it; on
//!   etcd, a raw etcd-client watch of the same range from the same revision with previous
//!   values, ended at the last revision. Events per second, best of 3, and the ratio.
//! - History: the first page (500 events) of `Storage::history_page` of one key with 10,000
//!   revisions, written while the other keys were: median of 20 reads, in milliseconds.

mod support;

#[path = "../tests/support/etcd.rs"]
mod etcd;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use etcd_client::WatchOptions;
use futures::StreamExt;
use kube_ledger::storage::embedded::EmbeddedStorage;
use kube_ledger::storage::{Revision, Storage, Verb};

const VALUE_BYTES: usize = 512;
const WRITERS: usize = 64;
/// Events per key: a create, 98 updates, a delete.
const EVENTS_PER_KEY: usize = 100;
const HOT_REVISIONS: usize = 10_000;
const PAGE: usize = 500;
const PREFIX: &str = "/bench/";
const HOT_KEY: &str = "/hot/default/config";

fn value(n: usize) -> Bytes {
    let mut v = format!("{{\"n\":{n}}}").into_bytes();
    v.resize(VALUE_BYTES, b' ');
    Bytes::from(v)
}

/// Writes `events` events under [`PREFIX`] with [`WRITERS`] writers, and meanwhile
/// [`HOT_REVISIONS`] revisions of [`HOT_KEY`]; returns the revisions of the first and the last
/// event under the prefix.
async fn fill(storage: &Arc<dyn Storage>, events: usize) -> (Revision, Revision) {
    let hot = {
        let storage = storage.clone();
        tokio::spawn(async move {
            let mut current =
                storage.create(HOT_KEY, value(0), support::api_write(Verb::Create)).await.unwrap();
            for n in 1..HOT_REVISIONS {
                let update = storage.update(
                    HOT_KEY,
                    current.mod_revision,
                    value(n),
                    support::api_write(Verb::Update),
                );
                current = update.await.unwrap();
            }
        })
    };
    let keys = events.div_ceil(EVENTS_PER_KEY);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let (mut first, mut last) = (Revision::MAX, 0);
                for k in (w..keys).step_by(WRITERS) {
                    let key = format!("{PREFIX}ns/object-{k}");
                    let mut object = storage
                        .create(&key, value(0), support::api_write(Verb::Create))
                        .await
                        .unwrap();
                    first = first.min(object.mod_revision);
                    for n in 1..EVENTS_PER_KEY - 1 {
                        let update = storage.update(
                            &key,
                            object.mod_revision,
                            value(n),
                            support::api_write(Verb::Update),
                        );
                        object = update.await.unwrap();
                    }
                    let deleted =
                        storage.delete(&key, object.mod_revision, support::api_write(Verb::Delete));
                    last = last.max(deleted.await.unwrap().revision);
                }
                (first, last)
            })
        })
        .collect();
    let (mut first, mut last) = (Revision::MAX, 0);
    for writer in writers {
        let (f, l) = writer.await.unwrap();
        (first, last) = (first.min(f), last.max(l));
    }
    hot.await.unwrap();
    (first, last)
}

/// Events per second of one `Storage::replay` of the range, and how many events it streamed.
async fn replay(storage: &Arc<dyn Storage>, (from, to): (Revision, Revision)) -> (f64, usize) {
    let start = Instant::now();
    let mut stream = storage.replay(PREFIX, from, to).await.unwrap();
    let mut count = 0;
    while let Some(event) = stream.next().await {
        event.unwrap();
        count += 1;
    }
    (count as f64 / start.elapsed().as_secs_f64(), count)
}

/// The raw read of the same rows from the embedded store's file, on a connection of its own.
fn raw_sqlite(path: &std::path::Path, (from, to): (Revision, Revision)) -> (f64, usize) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let start = Instant::now();
    let mut stmt = conn
        .prepare(
            "SELECT e.revision, e.key, e.type, e.value, e.user, e.ts_micros, p.value \
             FROM events AS e LEFT JOIN events AS p ON p.revision = e.prev_revision \
             WHERE e.revision >= ?1 AND e.revision <= ?2 AND e.key >= ?3 AND e.key < ?4 \
             ORDER BY e.revision",
        )
        .unwrap();
    let mut rows = stmt.query(rusqlite::params![from, to, PREFIX, "/bench0"]).unwrap();
    let (mut count, mut bytes) = (0, 0);
    while let Some(row) = rows.next().unwrap() {
        let blob = |i| row.get_ref(i).unwrap().as_blob_or_null().unwrap().map_or(0, <[u8]>::len);
        bytes += blob(3) + blob(6) + row.get_ref(1).unwrap().as_str().unwrap().len();
        count += 1;
    }
    assert!(bytes > 0);
    (count as f64 / start.elapsed().as_secs_f64(), count)
}

/// The raw read of the same revisions from etcd: a watch of the range with previous values,
/// ended at the last revision.
async fn raw_etcd(client: &etcd_client::Client, (from, to): (Revision, Revision)) -> (f64, usize) {
    let start = Instant::now();
    let options = WatchOptions::new()
        .with_range("/registry/bench0")
        .with_start_revision(from)
        .with_prev_key();
    let mut stream = client.watch_client().watch("/registry/bench/", Some(options)).await.unwrap();
    let mut count = 0;
    'watch: while let Some(response) = stream.message().await.unwrap() {
        for event in response.events() {
            let kv = event.kv().unwrap();
            assert!(
                kv.key().len() + kv.value().len() + event.prev_kv().map_or(0, |p| p.value().len())
                    > 0
            );
            count += 1;
            if kv.mod_revision() >= to {
                break 'watch;
            }
        }
    }
    (count as f64 / start.elapsed().as_secs_f64(), count)
}

/// Median milliseconds of 20 reads of the first page of the hot key's history.
async fn first_page(storage: &Arc<dyn Storage>) -> f64 {
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let page = storage.history_page(HOT_KEY, 0, PAGE).await.unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page.len(), PAGE);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let events: usize = support::value_from_args("--events", 200_000);
    let etcd = etcd::TestEtcd::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let embedded: Arc<dyn Storage> =
        Arc::new(EmbeddedStorage::open(dir.path()).expect("open embedded store"));
    let etcd_backend = support::etcd_backend(etcd.endpoint(), Duration::from_secs(30)).await;
    let raw = etcd_client::Client::connect([etcd.endpoint()], None).await.expect("connect etcd");

    println!(
        "{events} events ({} keys x {EVENTS_PER_KEY}: create, updates, delete; {VALUE_BYTES}-byte \
         values, {WRITERS} writers), best of 3",
        events.div_ceil(EVENTS_PER_KEY)
    );
    println!(
        "{:>9} | {:>12} | {:>12} | {:>8} | {:>22}",
        "backend", "replay ev/s", "raw ev/s", "ratio", "history page 500 (ms)"
    );
    let db = dir.path().join("kube-ledger.db");
    for (name, storage) in [("embedded", &embedded), ("etcd", &etcd_backend)] {
        let written = Instant::now();
        let range = fill(storage, events).await;
        eprintln!("{name}: wrote {events} events in {:.1} s", written.elapsed().as_secs_f64());
        let (mut best, mut best_raw) = (0f64, 0f64);
        for _ in 0..3 {
            let (rate, count) = replay(storage, range).await;
            let (raw_rate, raw_count) = match name {
                "embedded" => raw_sqlite(&db, range),
                _ => raw_etcd(&raw, range).await,
            };
            assert_eq!(count, raw_count, "the replay and the raw read saw the same events");
            (best, best_raw) = (best.max(rate), best_raw.max(raw_rate));
        }
        let page = first_page(storage).await;
        println!(
            "{name:>9} | {best:>12.0} | {best_raw:>12.0} | {:>7.2}x | {page:>22.1}",
            best / best_raw
        );
    }
}
