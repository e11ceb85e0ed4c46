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
//! - `watch`: the watch stream; `history`: one key's events, replayed by a watch.
//! - `errors`: the one place etcd client errors are translated.
//!
//! Data flows down from [`Storage`] calls through `write`, `read` and `compaction` to etcd
//! transactions and ranges, and up from etcd watches through `watch` and `history` as
//! [`Event`](crate::storage::Event)s.
//!
//! Every request carries the configured deadline; when etcd is unreachable, operations fail with
//! [`StorageError::Unavailable`] within it and the same handle works again once etcd answers (the
//! gRPC channel reconnects by itself).
//!
//! [`MAX_VALUE_BYTES`](crate::storage::MAX_VALUE_BYTES) leaves room for the key and the envelope
//! within etcd's default `--max-request-bytes` (1.5 MiB), so a stock etcd accepts every value
//! the contract accepts (the conformance suite runs against a stock etcd).

mod compaction;
mod envelope;
mod errors;
mod head;
mod history;
mod layout;
mod read;
mod watch;
mod write;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{Client, ConnectOptions, GetOptions, KvClient, WatchClient};

use self::errors::EtcdResult;
use self::layout::Layout;
use super::{
    Deleted, Event, ListOptions, ListPage, Object, Provenance, Result, Revision, Storage,
    StorageError, WatchStream,
};

/// How to reach etcd.
#[derive(Debug, Clone)]
pub struct EtcdConfig {
    /// `http://host:port` endpoints (kube-apiserver's `--etcd-servers`).
    pub endpoints: Vec<String>,
    /// Prefix of every key (kube-apiserver's `--etcd-prefix`, default `/registry`).
    pub prefix: String,
    /// Deadline of one request; past it an operation fails with `Unavailable`.
    pub request_timeout: Duration,
}

/// The largest gRPC message accepted from etcd. tonic's default (4 MiB) is smaller than one list
/// page or watch batch of large objects; like kube-apiserver, accept what etcd may send.
const MAX_MESSAGE_BYTES: usize = i32::MAX as usize;

/// How often an idle connection is pinged, so that a watch on a silently dead connection fails
/// instead of waiting forever (kube-apiserver's keepalive time; etcd refuses pings more often
/// than every 5 s).
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// The etcd backend. Cheap to clone: clones share one gRPC channel.
#[derive(Clone)]
pub struct EtcdStorage {
    kv: KvClient,
    watch: WatchClient,
    layout: Layout,
    /// The deadline of every request (and of every wait for the next watch message in history).
    timeout: Duration,
    /// Kept only to describe the handle in `Debug` output.
    endpoints: Vec<String>,
    /// Concurrent `current_revision` calls share one request (see `head`).
    head: head::HeadReads,
}

impl fmt::Debug for EtcdStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdStorage")
            .field("endpoints", &self.endpoints)
            .field("layout", &self.layout)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EtcdStorage {
    /// Connects to etcd and checks that it answers within the request timeout: a backend that is
    /// down at startup fails with `Unavailable` rather than at the first request.
    pub async fn connect(config: EtcdConfig) -> Result<EtcdStorage> {
        if config.endpoints.is_empty() {
            return Err(StorageError::Internal("no etcd endpoints configured".to_owned()));
        }
        let timeout = config.request_timeout;
        let options = ConnectOptions::new()
            .with_connect_timeout(timeout)
            .with_timeout(timeout)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, timeout);
        let connecting = Client::connect(&config.endpoints, Some(options));
        let client = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| errors::timed_out("connect", timeout))?
            .map_err(errors::map)?;
        let kv = client.kv_client().max_decoding_message_size(MAX_MESSAGE_BYTES);
        let layout = Layout::new(&config.prefix);
        let head = head::HeadReads::new(head_fetch(kv.clone(), layout.compacted_key(), timeout));
        let storage = EtcdStorage {
            kv,
            watch: client.watch_client().max_decoding_message_size(MAX_MESSAGE_BYTES),
            layout,
            timeout,
            endpoints: config.endpoints,
            head,
        };
        storage.current_revision().await?;
        Ok(storage)
    }

    /// Runs one etcd request under the request deadline. The outer error is the deadline; the
    /// inner result is etcd's, left to the caller because some errors need context to map.
    async fn call<T>(
        &self,
        what: &str,
        request: impl Future<Output = EtcdResult<T>>,
    ) -> Result<EtcdResult<T>> {
        tokio::time::timeout(self.timeout, request)
            .await
            .map_err(|_| errors::timed_out(what, self.timeout))
    }

    /// [`EtcdStorage::call`] for requests whose errors all map without context.
    async fn request<T>(
        &self,
        what: &str,
        request: impl Future<Output = EtcdResult<T>>,
    ) -> Result<T> {
        self.call(what, request).await?.map_err(errors::map)
    }
}

/// One head request: the cheapest read there is (a count of one key), for its header's revision.
fn head_fetch(kv: KvClient, key: String, timeout: Duration) -> head::Fetch {
    Arc::new(move || {
        let (mut kv, key) = (kv.clone(), key.clone());
        Box::pin(async move {
            let options = GetOptions::new().with_count_only();
            let response = tokio::time::timeout(timeout, kv.get(key, Some(options)))
                .await
                .map_err(|_| errors::timed_out("current revision", timeout))?
                .map_err(errors::map)?;
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
        self.watch_prefix(prefix, after).await
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

    fn backend_name(&self) -> &'static str {
        "etcd"
    }
}
