//! Append throughput of every storage backend, with raw etcd measured in the same run as the
//! baseline. Run: `cargo bench --bench storage_append` (add `-- --seconds 10` for longer runs).
//!
//! Each case runs W concurrent writers for a fixed time; every writer creates fresh keys with a
//! 512-byte value, the shape of a small Kubernetes object. The raw-etcd case sends the same
//! create as one etcd Txn (`If(create_revision == 0) Then(Put)`), which is what the etcd backend
//! sends too, so the ratio shows what the backend adds on top of etcd. Backend writes carry the
//! provenance of a typical kubectl request (user, groups, user agent, source IP, audit ID).

#[path = "../tests/support/etcd.rs"]
mod etcd;
mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{Compare, CompareOp, Txn, TxnOp};
use futures::future::BoxFuture;
use kube_ledger::storage::embedded::EmbeddedStorage;
use kube_ledger::storage::{Storage, Verb};

const VALUE_BYTES: usize = 512;

/// One way of appending: `append(writer, n)` creates one new key.
type Append = Arc<dyn Fn(usize, u64) -> BoxFuture<'static, ()> + Send + Sync>;

/// Runs `writers` tasks appending for `seconds`; returns appends per second.
async fn measure(writers: usize, seconds: f64, append: Append) -> f64 {
    support::rate(writers, seconds, move |w, n| append(w, n)).await
}

fn value() -> Bytes {
    Bytes::from(vec![b'x'; VALUE_BYTES])
}

fn through_storage(storage: Arc<dyn Storage>, run: usize) -> Append {
    Arc::new(move |w, n| {
        let storage = storage.clone();
        Box::pin(async move {
            let key = format!("/bench/r{run}/w{w}/k{n}");
            storage
                .create(&key, value(), support::api_write(Verb::Create))
                .await
                .expect("append failed");
        })
    })
}

fn raw_etcd(client: etcd_client::Client, run: usize) -> Append {
    Arc::new(move |w, n| {
        let mut kv = client.kv_client();
        Box::pin(async move {
            let key = format!("/raw/r{run}/w{w}/k{n}");
            let txn = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key, value(), None)]);
            let response = kv.txn(txn).await.expect("raw etcd txn failed");
            assert!(response.succeeded());
        })
    })
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(5.0);
    let etcd = etcd::TestEtcd::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let embedded: Arc<dyn Storage> =
        Arc::new(EmbeddedStorage::open(dir.path()).expect("open embedded store"));
    let etcd_backend = support::etcd_backend(etcd.endpoint(), Duration::from_secs(10)).await;
    let raw = etcd_client::Client::connect([etcd.endpoint()], None).await.expect("connect etcd");

    println!("appends/s, {seconds} s per case, {VALUE_BYTES}-byte values, 3 runs each (best kept)");
    println!(
        "{:>8} | {:>12} | {:>12} | {:>12} | {:>14} | {:>14}",
        "writers", "raw etcd Txn", "etcd backend", "embedded", "etcd/raw", "embedded/raw"
    );
    let mut run = 0;
    for writers in [1, 64] {
        let mut best = [0f64; 3];
        // Interleave the cases so that a disturbance on the machine hits all of them alike, and
        // alternate which of the two etcd cases goes first: etcd slows down as its database
        // grows, so a fixed order would favour the first.
        for round in 0..3 {
            let mut cases = vec![
                (0, raw_etcd(raw.clone(), run)),
                (1, through_storage(etcd_backend.clone(), run)),
                (2, through_storage(embedded.clone(), run)),
            ];
            if round % 2 == 1 {
                cases.swap(0, 1);
            }
            for (i, case) in cases {
                best[i] = best[i].max(measure(writers, seconds, case).await);
            }
            run += 1;
        }
        let [raw_rate, etcd_rate, embedded_rate] = best;
        println!(
            "{writers:>8} | {raw_rate:>12.0} | {etcd_rate:>12.0} | {embedded_rate:>12.0} | {:>13.2}x | {:>13.2}x",
            etcd_rate / raw_rate,
            embedded_rate / raw_rate
        );
    }
}
