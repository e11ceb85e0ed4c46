//! The embedded backend: the event log in one SQLite file, `kube-ledger.db` under the data
//! directory. The default backend: nothing to run besides kube-ledger itself.
//!
//! # Layout
//! - `writer`: the single writer thread. Every write and compaction is a request on its queue;
//!   it commits requests in batches (group commit) and publishes each batch's events.
//! - `read`: a pool of read connections and the queries behind get, list, history and replay.
//! - `watch`: watch streams, replaying from the database and then following the writer's feed.
//! - `replay`: bounded replays of a prefix between two revisions, page by page.
//! - `schema`: the versioned migrations applied at open (SQL under `migrations/embedded/`).
//! - `sqlite`: connection setup, error mapping and row decoding shared by the above.
//!
//! Data flows down from [`EmbeddedStorage`] to the writer (writes) or the read pool (reads);
//! committed events flow back up from the writer to callers and to every watch.
//!
//! # Durability
//! The database runs in WAL mode with `synchronous=FULL`: a write is acknowledged only after its
//! batch's transaction is committed and fsynced, so it survives a crash or power loss. An I/O
//! error at COMMIT fails the batch's writes with
//! [`StorageError::OutcomeUnknown`](crate::storage::StorageError::OutcomeUnknown): the commit
//! record may be on disk although the fsync after it failed.

mod read;
mod replay;
mod schema;
mod sqlite;
mod watch;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::broadcast;

use self::read::ReadPool;
use self::writer::{Applied, Batch, Op, Writer};
use super::{
    Deleted, Event, EventStream, ListOptions, ListPage, Object, Provenance, Result, Revision,
    Storage, StorageError, WatchStream, validate_key, validate_prefix, validate_value,
};

/// The database file's name inside the data directory.
const DB_FILE: &str = "kube-ledger.db";

/// Committed batches buffered for watches. A watch further behind than this does not hold the
/// writer back; it falls back to replaying from the database.
const FEED_CAPACITY: usize = 1024;

/// The embedded backend. Cheap to clone: clones share one writer, one read pool and one feed.
/// The writer thread stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct EmbeddedStorage {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    reads: Arc<ReadPool>,
    /// Kept to subscribe new watches; the writer thread holds the sending clone that publishes.
    feed: broadcast::Sender<Batch>,
    /// The log's head revision, kept by the writer: it is the only writer of the database, and
    /// it stores the new head after each commit and before answering any caller, so reading it
    /// here is as current as reading the database (a consistent read's fence costs no query).
    head: Arc<AtomicI64>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStorage").field("path", &self.path).finish_non_exhaustive()
    }
}

impl EmbeddedStorage {
    /// Opens (creating if needed) the database `kube-ledger.db` under `data_dir`, creating the
    /// directory too, and brings its schema up to date. Refuses a database written by a newer
    /// kube-ledger.
    pub fn open(data_dir: &Path) -> Result<EmbeddedStorage> {
        Self::open_with(data_dir, FEED_CAPACITY)
    }

    fn open_with(data_dir: &Path, feed_capacity: usize) -> Result<EmbeddedStorage> {
        std::fs::create_dir_all(data_dir).map_err(|err| {
            StorageError::Internal(format!("cannot create {}: {err}", data_dir.display()))
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = sqlite::open_writer(&path)?;
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        let reads = ReadPool::new(path.clone())?;
        let head = sqlite::read_meta(&conn).map_err(|err| sqlite::storage_error(&err))?.head;
        let head = Arc::new(AtomicI64::new(head));
        let (feed, _) = broadcast::channel(feed_capacity);
        let writer = Writer::spawn(conn, feed.clone(), head.clone())?;
        tracing::info!(path = %path.display(), "opened embedded storage");
        Ok(EmbeddedStorage { inner: Arc::new(Inner { path, writer, reads, feed, head }) })
    }

    async fn write(&self, op: Op) -> Result<Event> {
        match self.inner.writer.submit(op).await? {
            Applied::Event(event) => Ok(*event),
            Applied::Compacted => Err(unexpected("a compaction")),
        }
    }
}

fn unexpected(what: &str) -> StorageError {
    StorageError::Internal(format!("the storage writer answered a write with {what}"))
}

#[async_trait]
impl Storage for EmbeddedStorage {
    async fn create(&self, key: &str, value: Bytes, who: Provenance) -> Result<Object> {
        validate_key(key)?;
        validate_value(&value)?;
        let op = Op::Create { key: key.to_owned(), value, who };
        self.write(op).await?.object.ok_or_else(|| unexpected("an event without an object"))
    }

    async fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        who: Provenance,
    ) -> Result<Object> {
        validate_key(key)?;
        validate_value(&value)?;
        let op = Op::Update { key: key.to_owned(), expected, value, who };
        self.write(op).await?.object.ok_or_else(|| unexpected("an event without an object"))
    }

    async fn delete(&self, key: &str, expected: Revision, who: Provenance) -> Result<Deleted> {
        validate_key(key)?;
        let op = Op::Delete { key: key.to_owned(), expected, who };
        let event = self.write(op).await?;
        let object = event
            .prev_object
            .ok_or_else(|| unexpected("a delete event without the deleted object"))?;
        Ok(Deleted { revision: event.revision, object })
    }

    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<Object>> {
        validate_key(key)?;
        let key = key.to_owned();
        self.inner.reads.run(move |conn| read::get(conn, &key, revision)).await
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let prefix = prefix.to_owned();
        self.inner.reads.run(move |conn| read::list(conn, &prefix, &options)).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream> {
        watch::watch(Arc::clone(&self.inner.reads), &self.inner.feed, prefix, after).await
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.inner.head.load(Ordering::Acquire))
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(self.inner.reads.run(read::meta).await?.compacted)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        match self.inner.writer.submit(Op::Compact { revision }).await? {
            Applied::Compacted => Ok(()),
            Applied::Event(_) => Err(StorageError::Internal(
                "the storage writer answered a compaction with an event".into(),
            )),
        }
    }

    async fn history(&self, key: &str) -> Result<Vec<Event>> {
        validate_key(key)?;
        let key = key.to_owned();
        self.inner.reads.run(move |conn| read::history(conn, &key)).await
    }

    async fn history_page(&self, key: &str, after: Revision, limit: usize) -> Result<Vec<Event>> {
        validate_key(key)?;
        let key = key.to_owned();
        self.inner.reads.run(move |conn| read::history_page(conn, &key, after, limit)).await
    }

    async fn replay(&self, prefix: &str, from: Revision, to: Revision) -> Result<EventStream> {
        replay::replay(Arc::clone(&self.inner.reads), prefix, from, to).await
    }

    async fn revision_at(&self, timestamp_micros: i64) -> Result<Option<Revision>> {
        self.inner.reads.run(move |conn| read::revision_at(conn, timestamp_micros)).await
    }

    fn backend_name(&self) -> &'static str {
        "embedded"
    }
}
