//! The etcd backend: the [`Storage`] contract on an etcd v3 cluster, laid out the way
//! kube-apiserver lays out its data (`{prefix}/<resource>/<namespace>/<name>`).
//!
//! etcd already is a revisioned event log, so most of the contract maps one to one: a write is one
//! etcd transaction and its revision is etcd's revision; reads at a revision are etcd range reads
//! at that revision; a watch is an etcd watch. What etcd lacks is provenance, which rides inside
//! each value and, for deletes (which leave no value behind), in a tombstone key outside the data
//! range.
//!
//! # Layout
//! - `layout`: where contract keys and bookkeeping keys live in etcd.
//! - `envelope`: the stored value format (provenance + value), versioned.
//! - `write`: create, update, delete, one conditional transaction each.
//! - `read`: get and list pages, and etcd's revision errors in contract terms.
//! - `compaction`: etcd compaction plus the compacted-revision record and tombstone clean-up.
//! - `watch`: the watch stream; `history`: one key's events, read by ranges at past revisions
//!   (`locate` works out where they are), a watch as the fallback; `replay`: a prefix's events
//!   between two revisions, by watches over disjoint key ranges merged by revision, each
//!   stopping at its range's last event; `position`: the log's position at a time, probing with
//!   watches.
//! - `errors`: the one place etcd client errors are translated, and what each failure proves.
//! - `members`, `health`, `probe`: which etcd member each request goes to (below).
//!
//! Data flows down from [`Storage`] calls through `write`, `read` and `compaction` to etcd
//! transactions and ranges, and up from etcd watches through `watch` and `history` as
//! [`Event`](crate::storage::Event)s. Every request passes through `members` on its way down.
//!
//! # Members and failures
//! Each endpoint of `--etcd-servers` (one per member) gets a client of its own: etcd-client's
//! balanced channel round-robins over all endpoints and keeps sending to a dead member, which
//! failed a third of the requests of a three-member cluster with one member down. Instead
//! (`members`, rules in `health`): requests go to the leader, or to a reachable member; a probe
//! task asks each member for its status every second (which member leads, which are gone) and
//! retries unreachable members with a backoff; a request whose connection could not be made, or
//! that a member refused before acting on it ("no leader"), moves on to the next member; a read
//! whose answer was lost does too; while the leader is gone, requests wait for the election
//! rather than reach a follower that would forward them to the dead leader. So a member failure
//! costs at most the requests in flight to it, and only writes among them: those fail with
//! [`StorageError::OutcomeUnknown`](crate::storage::StorageError::OutcomeUnknown) (HTTP 504), because they may have been committed.
//! [`StorageError::Unavailable`](crate::storage::StorageError::Unavailable) (HTTP 503) always means nothing was done: every member refused
//! the connection or the request, or no leader was elected within the deadline.
//!
//! Every request carries the configured deadline, retries and waits included. The same handle
//! works again once etcd answers (each member's channel reconnects by itself). Consistent reads
//! are linearizable, so they, and `/readyz` which makes one, succeed exactly when some member
//! reaches a quorum.
//!
//! [`MAX_VALUE_BYTES`](crate::storage::MAX_VALUE_BYTES) leaves room for the key and the envelope
//! within etcd's default `--max-request-bytes` (1.5 MiB), so a stock etcd accepts every value
//! the contract accepts (the conformance suite runs against a stock etcd).

mod compaction;
mod envelope;
mod errors;
mod head;
mod health;
mod history;
mod layout;
mod locate;
mod members;
mod position;
mod previous;
mod probe;
mod read;
mod replay;
mod watch;
mod write;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{GetOptions, GetResponse, Txn, TxnResponse};

use self::errors::{EtcdResult, Kind};
use self::layout::Layout;
use self::members::{Clients, Members};
use self::watch::Deletes;
use super::{
    Deleted, Event, EventStream, ListOptions, ListPage, Object, Provenance, Result, Revision,
    Storage, WatchStream,
};

/// How to reach etcd.
#[derive(Debug, Clone)]
pub struct EtcdConfig {
    /// `http://host:port` endpoints (kube-apiserver's `--etcd-servers`), one per member.
    pub endpoints: Vec<String>,
    /// Prefix of every key (kube-apiserver's `--etcd-prefix`, default `/registry`).
    pub prefix: String,
    /// Deadline of one request, its retries and waits included.
    pub request_timeout: Duration,
    /// Head-revision requests (the fence of every consistent read) outstanding at once; see
    /// `head`. 1 sends the next only when the last returned.
    pub head_reads_in_flight: usize,
}

impl EtcdConfig {
    /// A configuration with the defaults for everything but where etcd is.
    pub fn new(endpoints: Vec<String>, prefix: &str, request_timeout: Duration) -> EtcdConfig {
        EtcdConfig {
            endpoints,
            prefix: prefix.to_owned(),
            request_timeout,
            head_reads_in_flight: usize::from(DEFAULT_HEAD_READS_IN_FLIGHT),
        }
    }
}

/// The default of [`EtcdConfig::head_reads_in_flight`].
pub const DEFAULT_HEAD_READS_IN_FLIGHT: u16 = head::DEFAULT_IN_FLIGHT;

/// The etcd backend. Cheap to clone: clones share the members' clients and their table.
#[derive(Clone)]
pub struct EtcdStorage {
    members: Arc<Members>,
    layout: Layout,
    /// The deadline of every request (and of every wait for the next watch message in history).
    timeout: Duration,
    /// Concurrent `current_revision` calls share one request (see `head`).
    head: head::HeadReads,
}

impl fmt::Debug for EtcdStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdStorage")
            .field("members", &self.members)
            .field("layout", &self.layout)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EtcdStorage {
    /// Connects to etcd and checks that it answers within the request timeout: a backend that is
    /// down at startup fails with `Unavailable` rather than at the first request.
    pub async fn connect(config: EtcdConfig) -> Result<EtcdStorage> {
        let timeout = config.request_timeout;
        let members = Members::connect(&config.endpoints, timeout).await?;
        let layout = Layout::new(&config.prefix);
        let fetch = head_fetch(members.clone(), layout.compacted_key());
        let head = head::HeadReads::new(fetch, config.head_reads_in_flight);
        let storage = EtcdStorage { members, layout, timeout, head };
        storage.current_revision().await?;
        Ok(storage)
    }

    /// Runs one etcd request on whichever member can serve it (see `members`). The outer error
    /// is the request's failure; the inner result is etcd's answer, left to the caller because
    /// some errors need context to map.
    async fn call<T, F, Fut>(&self, what: &str, kind: Kind, attempt: F) -> Result<EtcdResult<T>>
    where
        F: FnMut(Clients) -> Fut,
        Fut: Future<Output = EtcdResult<T>>,
    {
        self.members.call(what, kind, attempt).await
    }

    /// [`EtcdStorage::call`] for requests whose errors all map without context.
    async fn request<T, F, Fut>(&self, what: &str, kind: Kind, attempt: F) -> Result<T>
    where
        F: FnMut(Clients) -> Fut,
        Fut: Future<Output = EtcdResult<T>>,
    {
        self.call(what, kind, attempt).await?.map_err(|err| errors::map(err, kind))
    }

    /// A range read of `key` (a single key, or a range through `options`), at any member.
    async fn range(
        &self,
        what: &str,
        key: &str,
        options: GetOptions,
    ) -> Result<EtcdResult<GetResponse>> {
        range(&self.members, what, key, options).await
    }

    /// [`EtcdStorage::range`] for reads whose errors all map without context.
    async fn fetch(&self, what: &str, key: &str, options: GetOptions) -> Result<GetResponse> {
        self.range(what, key, options).await?.map_err(|err| errors::map(err, Kind::Read))
    }

    /// A transaction of `kind`: [`Kind::Read`] when it only reads.
    async fn txn(&self, what: &str, kind: Kind, txn: Txn) -> Result<TxnResponse> {
        let attempt = |mut clients: Clients| {
            let txn = txn.clone();
            async move { clients.kv.txn(txn).await }
        };
        self.request(what, kind, attempt).await
    }

    /// Awaits the next message of a stream already open on one member, under the request
    /// deadline: a stream cannot move to another member, so its failure is the caller's.
    async fn within<T>(
        &self,
        what: &str,
        kind: Kind,
        next: impl Future<Output = EtcdResult<T>>,
    ) -> Result<T> {
        tokio::time::timeout(self.timeout, next)
            .await
            .map_err(|_| errors::timed_out(what, kind, self.timeout))?
            .map_err(|err| errors::map(err, kind))
    }
}

/// A range read on `members` (shared by [`EtcdStorage::range`] and the head reads).
async fn range(
    members: &Members,
    what: &str,
    key: &str,
    options: GetOptions,
) -> Result<EtcdResult<GetResponse>> {
    let attempt = |mut clients: Clients| {
        let (key, options) = (key.to_owned(), options.clone());
        async move { clients.kv.get(key, Some(options)).await }
    };
    members.call(what, Kind::Read, attempt).await
}

/// One head request: the cheapest read there is (a count of one key), for its header's revision.
/// Linearizable, so it succeeds only through a member that reaches a quorum: `/readyz` asks it.
fn head_fetch(members: Arc<Members>, key: String) -> head::Fetch {
    Arc::new(move || {
        let (members, key) = (members.clone(), key.clone());
        Box::pin(async move {
            let options = GetOptions::new().with_count_only();
            let response = range(&members, "current revision", &key, options)
                .await?
                .map_err(|err| errors::map(err, Kind::Read))?;
            write::header_revision(response.header())
        })
    })
}

#[async_trait]
impl Storage for EtcdStorage {
    async fn create(&self, key: &str, value: Bytes, who: Provenance) -> Result<Object> {
        self.create_object(key, value, who).await
    }

    async fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        who: Provenance,
    ) -> Result<Object> {
        self.update_object(key, expected, value, who).await
    }

    async fn delete(&self, key: &str, expected: Revision, who: Provenance) -> Result<Deleted> {
        self.delete_object(key, expected, who).await
    }

    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<Object>> {
        self.get_object(key, revision).await
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListPage> {
        self.list_objects(prefix, options).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        self.watch_prefix(prefix, after, Deletes::WithProvenance).await
    }

    async fn watch_changes(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        self.watch_prefix(prefix, after, Deletes::WithoutProvenance).await
    }

    async fn current_revision(&self) -> Result<Revision> {
        self.head.current().await
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        self.recorded_compaction().await
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.compact_history(revision).await
    }

    async fn history(&self, key: &str) -> Result<Vec<Event>> {
        self.key_history(key).await
    }

    async fn history_page(&self, key: &str, after: Revision, limit: usize) -> Result<Vec<Event>> {
        self.key_history_page(key, after, limit).await
    }

    async fn replay(&self, prefix: &str, from: Revision, to: Revision) -> Result<EventStream> {
        self.replay_prefix(prefix, from, to).await
    }

    async fn revision_at(&self, timestamp_micros: i64) -> Result<Option<Revision>> {
        self.position_at(timestamp_micros).await
    }

    fn backend_name(&self) -> &'static str {
        "etcd"
    }
}
