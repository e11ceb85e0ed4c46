//! History reads of both storage backends (issue 15), each against a raw read of the same data
//! from the same store in the same run. Run: `cargo bench --bench history` (add
//! `-- --events 1000000` for a longer replay).
//!
//! - Replay: `Storage::replay` of N events (default 200,000: 2,000 keys of 512-byte values,
//!   each created, updated 98 times and deleted, by 64 writers) against the raw read of the same
//!   revisions: on the embedded store, one SQLite select of the same rows (the event, its
//!   previous value) over a connection of its own, touching every value without copying it; on
//!   etcd, a raw etcd-client watch of the same range from the same revision with previous
//!   values, ended at the last revision, and — because etcd serves one watch at most 1,000
//!   revisions per 100 ms sync pass, and the replay uses up to 32 watches over disjoint key
//!   ranges — the same 32-way split done raw: 32 etcd-client watches (no previous values, no
//!   decoding), each ended at its range's last revision, found with the same two reads the
//!   replay makes. Events per second, best of 3, and the ratios.
//! - History: the first page (500 events) of `Storage::history_page` of one key with 10,000
//!   revisions, written while the other keys were: median of 20 reads, in milliseconds; on etcd
//!   beside the raw read of the same 500 values when their revisions are already known (ranges
//!   at those revisions, 128 per transaction, all at once).

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

/// Watches of the raw split read: the replay's `MAX_WATCHES`.
const SPLIT: usize = 32;

/// The raw read of the same revisions split like the replay splits them: the bench's keys (and
/// tombstones) at `to` cut into [`SPLIT`] ranges of as many keys, one raw watch each from `from`,
/// each ended at the last revision of its range (a data key's or tombstone's newest
/// `mod_revision` at `to`).
async fn raw_etcd_split(
    client: &etcd_client::Client,
    (from, to): (Revision, Revision),
) -> (f64, usize) {
    use etcd_client::{GetOptions, SortOrder, SortTarget};
    let start = Instant::now();
    let kv = client.kv_client();
    let listed = |prefix: &'static str, end: &'static str| {
        let mut kv = kv.clone();
        async move {
            let options = GetOptions::new().with_range(end).with_revision(to).with_keys_only();
            let response = kv.get(prefix, Some(options)).await.unwrap();
            response
                .kvs()
                .iter()
                .map(|kv| kv.key()[prefix.len() - "/bench/".len()..].to_vec())
                .collect::<Vec<_>>()
        }
    };
    let (mut keys, tombstones) = futures::join!(
        listed("/registry/bench/", "/registry/bench0"),
        listed("/registry-ledger/deleted/bench/", "/registry-ledger/deleted/bench0"),
    );
    keys.extend(tombstones);
    keys.sort_unstable();
    keys.dedup();
    let mut bounds: Vec<Vec<u8>> = vec![b"/bench/".to_vec()];
    for i in 1..SPLIT {
        bounds.push(keys[keys.len() * i / SPLIT].clone());
    }
    bounds.push(b"/bench0".to_vec());
    bounds.dedup();
    let newest = |prefix: &str, start: &[u8], end: &[u8]| {
        let mut kv = kv.clone();
        let (start, end) = ([prefix.as_bytes(), start].concat(), [prefix.as_bytes(), end].concat());
        async move {
            let options = GetOptions::new()
                .with_range(end)
                .with_revision(to)
                .with_keys_only()
                .with_sort(SortTarget::Mod, SortOrder::Descend)
                .with_limit(1);
            let response = kv.get(start, Some(options)).await.unwrap();
            response.kvs().first().map_or(0, |kv| kv.mod_revision())
        }
    };
    let watches = bounds.windows(2).map(|pair| {
        let (newest, client) = (&newest, client.clone());
        async move {
            let (data, tombstone) = futures::join!(
                newest("/registry", &pair[0], &pair[1]),
                newest("/registry-ledger/deleted", &pair[0], &pair[1]),
            );
            let last = data.max(tombstone);
            if last < from {
                return 0;
            }
            let options = WatchOptions::new()
                .with_range([b"/registry".as_slice(), &pair[1]].concat())
                .with_start_revision(from);
            let key = [b"/registry".as_slice(), &pair[0]].concat();
            let mut stream = client.watch_client().watch(key, Some(options)).await.unwrap();
            let mut count = 0;
            'watch: while let Some(response) = stream.message().await.unwrap() {
                for event in response.events() {
                    let kv = event.kv().unwrap();
                    if kv.mod_revision() > last {
                        break 'watch;
                    }
                    assert!(kv.key().len() + kv.value().len() > 0);
                    count += 1;
                    if kv.mod_revision() == last {
                        break 'watch;
                    }
                }
            }
            count
        }
    });
    let count: usize = futures::future::join_all(watches).await.into_iter().sum();
    (count as f64 / start.elapsed().as_secs_f64(), count)
}

/// Median milliseconds of 20 reads of the first page of the hot key's history, and the
/// page's revisions.
async fn first_page(storage: &Arc<dyn Storage>) -> (f64, Vec<Revision>) {
    let mut times = Vec::new();
    let mut revisions = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let page = storage.history_page(HOT_KEY, 0, PAGE).await.unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page.len(), PAGE);
        revisions = page.iter().map(|e| e.revision).collect();
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], revisions)
}

/// Median milliseconds of 20 raw reads of the same page's values from etcd when its revisions
/// are already known: one range of the key at each revision, 128 per transaction (etcd's
/// default `--max-txn-ops`), the transactions at once. The least any page read can cost.
async fn raw_page(client: &etcd_client::Client, revisions: &[Revision]) -> f64 {
    use etcd_client::{GetOptions, Txn, TxnOp};
    let key = format!("/registry{HOT_KEY}");
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let txns = revisions.chunks(128).map(|chunk| {
            let mut kv = client.kv_client();
            let ops: Vec<_> = chunk
                .iter()
                .map(|&r| TxnOp::get(key.as_str(), Some(GetOptions::new().with_revision(r))))
                .collect();
            async move { kv.txn(Txn::new().and_then(ops)).await.unwrap() }
        });
        let responses = futures::future::join_all(txns).await;
        assert_eq!(responses.iter().map(|r| r.op_responses().len()).sum::<usize>(), PAGE);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
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
        "{:>9} | {:>12} | {:>12} | {:>8} | {:>14} | {:>8} | {:>22} | {:>13}",
        "backend",
        "replay ev/s",
        "raw ev/s",
        "ratio",
        "raw split ev/s",
        "ratio",
        "history page 500 (ms)",
        "raw page (ms)"
    );
    let db = dir.path().join("kube-ledger.db");
    for (name, storage) in [("embedded", &embedded), ("etcd", &etcd_backend)] {
        let written = Instant::now();
        let range = fill(storage, events).await;
        eprintln!("{name}: wrote {events} events in {:.1} s", written.elapsed().as_secs_f64());
        let (mut best, mut best_raw, mut best_split) = (0f64, 0f64, 0f64);
        for _ in 0..3 {
            let (rate, count) = replay(storage, range).await;
            let (raw_rate, raw_count) = match name {
                "embedded" => raw_sqlite(&db, range),
                _ => raw_etcd(&raw, range).await,
            };
            assert_eq!(count, raw_count, "the replay and the raw read saw the same events");
            if name == "etcd" {
                let (split_rate, split_count) = raw_etcd_split(&raw, range).await;
                assert_eq!(count, split_count, "the split raw read saw the same events");
                best_split = best_split.max(split_rate);
            }
            (best, best_raw) = (best.max(rate), best_raw.max(raw_rate));
        }
        let (page, revisions) = first_page(storage).await;
        let raw_page = match name {
            "etcd" => format!("{:.1}", raw_page(&raw, &revisions).await),
            _ => "-".to_owned(),
        };
        let split = match best_split {
            0.0 => ("-".to_owned(), "-".to_owned()),
            split => (format!("{split:.0}"), format!("{:.2}x", best / split)),
        };
        println!(
            "{name:>9} | {best:>12.0} | {best_raw:>12.0} | {:>7.2}x | {:>14} | {:>8} | {page:>22.1} \
             | {raw_page:>13}",
            best / best_raw,
            split.0,
            split.1
        );
    }
}
