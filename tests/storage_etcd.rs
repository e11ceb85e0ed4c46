//! The storage conformance suite on the etcd backend, against a real etcd that each test starts
//! on free loopback ports (see `support::etcd`), plus the failure tests: etcd stops, operations
//! fail as unavailable (nothing was written), etcd comes back, the same handle works again; and a
//! write etcd committed whose answer is lost fails as an unknown outcome, not as unavailable.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{Txn, TxnOp};
use kube_ledger::storage::etcd::{EtcdConfig, EtcdStorage};
use kube_ledger::storage::{EventType, Storage, StorageError, Verb};
use support::etcd::TestEtcd;
use support::proxy::TcpProxy;
use support::suite::{Harness, PreviousWrite, who};
use support::suite_provenance::event_types;

struct Etcd {
    etcd: TestEtcd,
    storage: Option<Arc<EtcdStorage>>,
}

async fn connect(etcd: &TestEtcd) -> EtcdStorage {
    connect_to(etcd.endpoint()).await
}

async fn connect_to(endpoint: String) -> EtcdStorage {
    EtcdStorage::connect(EtcdConfig::new(vec![endpoint], "/registry", Duration::from_secs(2)))
        .await
        .unwrap()
}

#[async_trait::async_trait]
impl Harness for Etcd {
    async fn start() -> Self {
        let etcd = TestEtcd::start().await;
        let storage = Some(Arc::new(connect(&etcd).await));
        Etcd { etcd, storage }
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone().unwrap()
    }

    async fn restart(&mut self) {
        self.storage = None;
        self.etcd.restart().await;
        self.storage = Some(Arc::new(connect(&self.etcd).await));
    }

    /// Values in the previous release's envelope (format 1 with its four provenance fields),
    /// written with the transactions that release sent, then read by this build.
    async fn start_on_previous_format(writes: &[PreviousWrite]) -> Self {
        let etcd = TestEtcd::start().await;
        let mut client = etcd_client::Client::connect([etcd.endpoint()], None).await.unwrap();
        for (w, event_type) in writes.iter().zip(event_types(writes)) {
            let data_key = format!("/registry{}", w.key);
            let txn = match event_type {
                EventType::Deleted => Txn::new().and_then([
                    TxnOp::delete(data_key, None),
                    TxnOp::put(
                        format!("/registry-ledger/deleted{}", w.key),
                        previous_envelope(w, b""),
                        None,
                    ),
                ]),
                _ => Txn::new().and_then([TxnOp::put(
                    data_key,
                    previous_envelope(w, w.value.as_bytes()),
                    None,
                )]),
            };
            assert!(client.txn(txn).await.unwrap().succeeded());
        }
        let storage = Some(Arc::new(connect(&etcd).await));
        Etcd { etcd, storage }
    }
}

/// The previous release's envelope: `kl\x01\x00`, the provenance JSON's length (big-endian
/// `u32`), the JSON, the value.
fn previous_envelope(w: &PreviousWrite, value: &[u8]) -> Vec<u8> {
    let json = w.previous_json();
    let mut stored = b"kl\x01\x00".to_vec();
    stored.extend_from_slice(&u32::try_from(json.len()).unwrap().to_be_bytes());
    stored.extend_from_slice(json.as_bytes());
    stored.extend_from_slice(value);
    stored
}

conformance_suite!(Etcd);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_fails_as_retryable_and_recovers_without_reconnecting() {
    let mut etcd = TestEtcd::start().await;
    let storage = connect(&etcd).await;
    let key = "/configmaps/default/survivor";
    let created = storage.create(key, Bytes::from("1"), who(Verb::Create)).await.unwrap();

    etcd.stop().await;
    // Hang protection only: the request timeout (2 s) is what makes these fail.
    let patience = Duration::from_secs(30);
    let r = tokio::time::timeout(patience, storage.get(key, None)).await.expect("get hung");
    assert!(matches!(r, Err(StorageError::Unavailable(_))), "{r:?}");
    assert!(r.unwrap_err().is_retryable());
    let r = tokio::time::timeout(
        patience,
        storage.update(key, created.mod_revision, Bytes::from("2"), who(Verb::Update)),
    )
    .await
    .expect("update hung");
    assert!(matches!(r, Err(StorageError::Unavailable(_))), "{r:?}");

    etcd.restart().await;
    // The same handle recovers once etcd answers again.
    let mut recovered = None;
    for _ in 0..60 {
        match storage.get(key, None).await {
            Ok(object) => {
                recovered = object;
                break;
            }
            Err(StorageError::Unavailable(_)) => {
                tokio::time::sleep(Duration::from_millis(500)).await
            }
            Err(other) => panic!("unexpected error after restart: {other}"),
        }
    }
    assert_eq!(recovered, Some(created.clone()), "nothing was written during the outage");
    let updated = storage.update(key, created.mod_revision, Bytes::from("2"), who(Verb::Update));
    assert_eq!(updated.await.unwrap().value, "2");
}

/// Issue 11 (6): an update etcd committed, whose answer was then lost (the connection broke
/// before the answer reached kube-ledger), fails as `OutcomeUnknown` (HTTP 504), never as
/// `Unavailable` (HTTP 503, "nothing was done"); retrying it meets its own write as a conflict,
/// which is why the client must be told. (A write that could not be sent at all is
/// `Unavailable` and writes nothing: the outage test above.) The proxy makes the order certain:
/// etcd has committed the update (read directly from etcd) before the connection is cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_write_whose_answer_is_lost_has_an_unknown_outcome() {
    let etcd = TestEtcd::start().await;
    let proxy = TcpProxy::start(etcd.client_address()).await;
    let storage = Arc::new(connect_to(proxy.endpoint()).await);
    let direct = connect(&etcd).await;
    let key = "/configmaps/default/ambiguous";
    let created = storage.create(key, Bytes::from("1"), who(Verb::Create)).await.unwrap();

    proxy.withhold_answers();
    let update = tokio::spawn({
        let storage = storage.clone();
        async move {
            storage.update(key, created.mod_revision, Bytes::from("2"), who(Verb::Update)).await
        }
    });
    // Hang protection only: etcd commits the update within milliseconds.
    let committed = async {
        while direct.get(key, None).await.unwrap().unwrap().value != "2" {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), committed).await.expect("never committed");
    proxy.cut_connections();
    let lost = update.await.unwrap();
    assert!(matches!(lost, Err(StorageError::OutcomeUnknown(_))), "{lost:?}");
    assert!(lost.unwrap_err().is_retryable());

    // The retry a client would make finds its own write.
    let retry = storage.update(key, created.mod_revision, Bytes::from("2"), who(Verb::Update));
    match retry.await {
        Err(StorageError::Conflict { current, .. }) => assert_eq!(current.value, "2"),
        other => panic!("expected a conflict with the committed update: {other:?}"),
    }
}

/// A history page is read with ranges at past revisions, which see a delete only through the
/// tombstone kube-ledger writes with it. A delete by another etcd client leaves none: the page
/// must notice (the events found do not chain) and read the key with a watch, which sees every
/// delete, so the foreign delete is in the history and pages still add up to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_by_another_client_is_in_the_history_pages() {
    let etcd = TestEtcd::start().await;
    let storage = connect(&etcd).await;
    let mut raw = etcd_client::Client::connect([etcd.endpoint()], None).await.unwrap();
    let key = "/configmaps/default/shared";
    let mut object = storage.create(key, Bytes::from("0"), who(Verb::Create)).await.unwrap();
    for n in 1..5 {
        let value = Bytes::from(n.to_string());
        object = storage.update(key, object.mod_revision, value, who(Verb::Update)).await.unwrap();
    }
    let foreign = raw.delete(format!("/registry{key}"), None).await.unwrap();
    let foreign = foreign.header().unwrap().revision();
    let mut object = storage.create(key, Bytes::from("again"), who(Verb::Create)).await.unwrap();
    for n in 1..3 {
        let value = Bytes::from(format!("again-{n}"));
        object = storage.update(key, object.mod_revision, value, who(Verb::Update)).await.unwrap();
    }
    let deleted = storage.delete(key, object.mod_revision, who(Verb::Delete)).await.unwrap();

    let history = storage.history(key).await.unwrap();
    let types: Vec<EventType> = history.iter().map(|e| e.event_type).collect();
    use EventType::{Created as C, Deleted as D, Updated as U};
    assert_eq!(types, [C, U, U, U, U, D, C, U, U, D]);
    assert_eq!(history[5].revision, foreign);
    assert!(history[5].provenance.is_none(), "no tombstone, no provenance");
    assert_eq!(history[9].revision, deleted.revision);
    assert_eq!(history[9].provenance.as_ref().unwrap().verb, Verb::Delete);

    let (mut paged, mut after) = (Vec::new(), 0);
    loop {
        let page = storage.history_page(key, after, 3).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.revision;
        paged.extend(page);
    }
    assert_eq!(paged, history);
}
