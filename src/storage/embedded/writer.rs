//! The single writer: every write and every compaction goes through here.
//!
//! Data flow: a caller sends a [`Request`] down a bounded channel and awaits its oneshot reply.
//! The writer thread takes one request, drains whatever else is already queued (up to
//! [`MAX_BATCH`]), applies the whole batch in ONE transaction, commits (one fsync for the batch:
//! group commit), then publishes the batch's events on the live feed and answers each caller.
//!
//! One writer makes revisions gap-free and ordered by construction: it alone reads `head`, hands
//! out `head + 1, head + 2, …` to the successful operations of a batch, and stores the new head in
//! the same transaction. A failed precondition writes nothing and takes no revision. If the
//! commit fails, every request of the batch fails, nothing is published, and the next batch
//! re-reads `head` from the database, so no revision is skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::sqlite::{current_object, encode_groups, read_meta, storage_error, type_code};
use crate::storage::{Event, EventType, Object, Provenance, Result, Revision, StorageError};

/// The most requests committed in one transaction. Large enough that 64+ concurrent writers
/// share one fsync, small enough that one batch's transaction stays short.
const MAX_BATCH: usize = 256;

/// Requests waiting for the writer. Callers beyond this wait in `send`, which is backpressure.
const QUEUE: usize = 1024;

/// The events of one committed batch, in revision order, as published to watches.
pub(super) type Batch = Arc<[Event]>;

/// What a caller asks the writer to do.
#[derive(Debug)]
pub(super) enum Op {
    Create {
        key: String,
        value: Bytes,
        who: Provenance,
    },
    Update {
        key: String,
        expected: Revision,
        value: Bytes,
        who: Provenance,
    },
    Delete {
        key: String,
        expected: Revision,
        who: Provenance,
    },
    /// Compaction runs on the writer so it serializes with writes.
    Compact {
        revision: Revision,
    },
}

/// What the writer did.
#[derive(Debug)]
pub(super) enum Applied {
    /// A write, with its event as published to watches (boxed: an event is large, and most
    /// replies travel through a oneshot).
    Event(Box<Event>),
    Compacted,
}

#[derive(Debug)]
struct Request {
    op: Op,
    reply: oneshot::Sender<Result<Applied>>,
}

/// The callers' end of the writer. Dropping it (with the last `EmbeddedStorage` clone) closes the
/// queue; the thread finishes the requests already queued and exits, and the drop waits for it
/// so the database is closed cleanly before, say, a reopen in the same process.
#[derive(Debug)]
pub(super) struct Writer {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread, which owns `conn` from now on.
    ///
    /// A dedicated std thread rather than tokio tasks: the connection is blocking and `!Sync`,
    /// it lives as long as the storage, and keeping it on one thread keeps its prepared
    /// statements warm without a `spawn_blocking` hop per batch.
    pub fn spawn(
        conn: Connection,
        feed: broadcast::Sender<Batch>,
        head: Arc<AtomicI64>,
    ) -> Result<Writer> {
        let (requests, queue) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("kube-ledger-sqlite-writer".to_owned())
            .spawn(move || run(conn, queue, feed, head))
            .map_err(|err| {
                StorageError::Internal(format!("cannot start the storage writer: {err}"))
            })?;
        Ok(Writer { requests: Some(requests), thread: Some(thread) })
    }

    /// Queues `op` and waits until its batch is committed (or failed).
    pub async fn submit(&self, op: Op) -> Result<Applied> {
        let stopped = || StorageError::Internal("the embedded storage writer has stopped".into());
        let requests = self.requests.as_ref().ok_or_else(stopped)?;
        let (reply, answer) = oneshot::channel();
        requests.send(Request { op, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the embedded storage writer thread panicked");
        }
    }
}

/// The writer thread's loop: batch, apply, commit, publish, reply; until the queue closes.
fn run(
    mut conn: Connection,
    mut queue: mpsc::Receiver<Request>,
    feed: broadcast::Sender<Batch>,
    head: Arc<AtomicI64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        metrics::histogram!("ledger_append_batch_size", "backend" => "embedded")
            .record(batch.len() as f64);
        match apply(&mut conn, &batch) {
            Ok(outcomes) => {
                let events: Vec<Event> = outcomes
                    .iter()
                    .filter_map(|outcome| match outcome {
                        Ok(Applied::Event(event)) => Some(Event::clone(event)),
                        _ => None,
                    })
                    .collect();
                // The new head is visible before anyone hears of the batch.
                if let Some(last) = events.last() {
                    head.store(last.revision, Ordering::Release);
                }
                // Publish before answering: a caller that hears success can rely on every watch
                // seeing the event. No receiver (no watch) is not an error.
                if !events.is_empty() {
                    let _ = feed.send(Batch::from(events));
                }
                for (request, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = request.reply.send(outcome);
                }
            }
            Err(failure) => {
                tracing::warn!(error = %failure.0, requests = batch.len(), "storage batch failed");
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(failure.storage_error()));
                }
            }
        }
    }
    tracing::debug!("embedded storage writer stopped");
}

/// Why a whole batch failed, and whether that happened at COMMIT.
#[derive(Debug)]
struct BatchFailure(rusqlite::Error, Step);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Before COMMIT: the transaction is rolled back and nothing of the batch is stored.
    Apply,
    /// COMMIT itself.
    Commit,
}

impl From<rusqlite::Error> for BatchFailure {
    fn from(err: rusqlite::Error) -> Self {
        BatchFailure(err, Step::Apply)
    }
}

impl BatchFailure {
    /// What every request of the failed batch is told. An I/O error at COMMIT leaves the outcome
    /// unknown: the WAL frames, commit record included, may already be written when the fsync
    /// after them fails, and SQLite's recovery after a crash would then find the batch
    /// committed although this process rolled it back. Any other failure stored nothing.
    fn storage_error(&self) -> StorageError {
        let BatchFailure(err, step) = self;
        match (step, err.sqlite_error_code()) {
            (Step::Commit, Some(rusqlite::ErrorCode::SystemIoFailure)) => {
                StorageError::OutcomeUnknown(format!("sqlite commit: {err}"))
            }
            _ => storage_error(err),
        }
    }
}

/// Applies `batch` in one transaction and commits it. The outer error fails the whole batch (a
/// SQL or I/O error); the inner results are each request's own outcome (a failed precondition
/// affects only that request).
fn apply(
    conn: &mut Connection,
    batch: &[Request],
) -> std::result::Result<Vec<Result<Applied>>, BatchFailure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let start = read_meta(&tx)?.head;
    let mut head = start;
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        let outcome = match &request.op {
            Op::Create { key, value, who } => create(&tx, head + 1, key, value, who)?,
            Op::Update { key, expected, value, who } => {
                update(&tx, head + 1, key, *expected, value, who)?
            }
            Op::Delete { key, expected, who } => delete(&tx, head + 1, key, *expected, who)?,
            Op::Compact { revision } => compact(&tx, *revision, head)?.map(|()| Applied::Compacted),
        };
        if let Ok(Applied::Event(event)) = &outcome {
            head = event.revision;
        }
        outcomes.push(outcome);
    }
    if head != start {
        tx.prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'head'")?.execute([head])?;
    }
    tx.commit().map_err(|err| BatchFailure(err, Step::Commit))?;
    Ok(outcomes)
}

fn create(
    tx: &Transaction<'_>,
    revision: Revision,
    key: &str,
    value: &Bytes,
    who: &Provenance,
) -> rusqlite::Result<Result<Applied>> {
    if let Some(current) = current_object(tx, key)? {
        return Ok(Err(StorageError::AlreadyExists {
            key: key.to_owned(),
            current: Box::new(current),
        }));
    }
    let object = Object {
        key: key.to_owned(),
        value: value.clone(),
        create_revision: revision,
        mod_revision: revision,
    };
    append(tx, EventType::Created, &object, None, who)?;
    tx.prepare_cached("INSERT INTO current (key, revision) VALUES (?1, ?2)")?
        .execute(params![key, revision])?;
    Ok(Ok(event(revision, EventType::Created, key, Some(object), None, who)))
}

fn update(
    tx: &Transaction<'_>,
    revision: Revision,
    key: &str,
    expected: Revision,
    value: &Bytes,
    who: &Provenance,
) -> rusqlite::Result<Result<Applied>> {
    let current = match expect(tx, key, expected)? {
        Ok(current) => current,
        Err(err) => return Ok(Err(err)),
    };
    let object = Object {
        key: key.to_owned(),
        value: value.clone(),
        create_revision: current.create_revision,
        mod_revision: revision,
    };
    append(tx, EventType::Updated, &object, Some(&current), who)?;
    tx.prepare_cached("UPDATE current SET revision = ?2 WHERE key = ?1")?
        .execute(params![key, revision])?;
    Ok(Ok(event(revision, EventType::Updated, key, Some(object), Some(current), who)))
}

fn delete(
    tx: &Transaction<'_>,
    revision: Revision,
    key: &str,
    expected: Revision,
    who: &Provenance,
) -> rusqlite::Result<Result<Applied>> {
    let current = match expect(tx, key, expected)? {
        Ok(current) => current,
        Err(err) => return Ok(Err(err)),
    };
    // The tombstone row has no value but keeps the incarnation's create_revision, so history
    // shows which incarnation the delete ended.
    let tombstone = Object {
        key: key.to_owned(),
        value: Bytes::new(),
        create_revision: current.create_revision,
        mod_revision: revision,
    };
    append(tx, EventType::Deleted, &tombstone, Some(&current), who)?;
    tx.prepare_cached("DELETE FROM current WHERE key = ?1")?.execute([key])?;
    Ok(Ok(event(revision, EventType::Deleted, key, None, Some(current), who)))
}

/// The precondition of update and delete: the key exists and was last modified at `expected`.
fn expect(tx: &Transaction<'_>, key: &str, expected: Revision) -> rusqlite::Result<Result<Object>> {
    Ok(match current_object(tx, key)? {
        None => Err(StorageError::NotFound { key: key.to_owned() }),
        Some(current) if current.mod_revision != expected => Err(StorageError::Conflict {
            key: key.to_owned(),
            expected,
            current: Box::new(current),
        }),
        Some(current) => Ok(current),
    })
}

/// Appends one event row. `object` carries the key, the event's revision, the incarnation's
/// create_revision and (except for a delete) the new value; `previous` is the object replaced.
fn append(
    tx: &Transaction<'_>,
    event_type: EventType,
    object: &Object,
    previous: Option<&Object>,
    who: &Provenance,
) -> rusqlite::Result<()> {
    let value = match event_type {
        EventType::Deleted => None,
        EventType::Created | EventType::Updated => Some(object.value.as_ref()),
    };
    tx.prepare_cached(
        "INSERT INTO events (revision, key, type, value, create_revision, prev_revision, \
                             user, verb, audit_id, ts_micros, \
                             uid, groups, user_agent, source_ip, field_manager, restored_from) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        object.mod_revision,
        object.key,
        type_code(event_type),
        value,
        object.create_revision,
        previous.map(|p| p.mod_revision),
        who.user,
        who.verb.as_str(),
        who.audit_id,
        who.timestamp_micros,
        who.uid,
        encode_groups(&who.groups),
        who.user_agent,
        who.source_ip,
        who.field_manager,
        who.restored_from,
    ])?;
    Ok(())
}

/// The event as returned to the caller and published to watches.
fn event(
    revision: Revision,
    event_type: EventType,
    key: &str,
    object: Option<Object>,
    prev_object: Option<Object>,
    who: &Provenance,
) -> Applied {
    Applied::Event(Box::new(Event {
        revision,
        event_type,
        key: key.to_owned(),
        object,
        prev_object,
        provenance: Some(who.clone()),
    }))
}

/// Drops history before `revision` while keeping the state at `revision` readable: for every
/// key, the latest event at or before `revision` stays unless it is a delete.
fn compact(
    tx: &Transaction<'_>,
    revision: Revision,
    head: Revision,
) -> rusqlite::Result<Result<()>> {
    if revision > head {
        return Ok(Err(StorageError::FutureRevision { requested: revision, current: head }));
    }
    if revision <= read_meta(tx)?.compacted {
        return Ok(Ok(())); // never lower the compacted revision
    }
    // Superseded: a later event of the same key exists at or before `revision`.
    tx.execute(
        "DELETE FROM events \
         WHERE revision < ?1 AND EXISTS ( \
             SELECT 1 FROM events AS later \
             WHERE later.key = events.key \
               AND later.revision > events.revision AND later.revision <= ?1)",
        [revision],
    )?;
    // What remains below `revision` is each key's latest event at `revision`; a delete there
    // means the key does not exist at `revision`, so its tombstone can go too.
    tx.execute(
        "DELETE FROM events WHERE revision < ?1 AND type = ?2",
        params![revision, type_code(EventType::Deleted)],
    )?;
    tx.execute("UPDATE meta SET value = ?1 WHERE name = 'compacted'", [revision])?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    /// Only an I/O error at COMMIT may have stored the batch; at any earlier step, or any other
    /// error at COMMIT, the batch was rolled back.
    #[test]
    fn only_an_io_error_at_commit_leaves_the_outcome_unknown() {
        let at = |code, step| BatchFailure(sqlite(code), step).storage_error();
        assert!(matches!(
            at(ffi::SQLITE_IOERR_FSYNC, Step::Commit),
            StorageError::OutcomeUnknown(_)
        ));
        assert!(matches!(
            at(ffi::SQLITE_IOERR_WRITE, Step::Commit),
            StorageError::OutcomeUnknown(_)
        ));
        assert!(matches!(at(ffi::SQLITE_IOERR_WRITE, Step::Apply), StorageError::Internal(_)));
        assert!(matches!(at(ffi::SQLITE_FULL, Step::Commit), StorageError::Internal(_)));
        assert!(matches!(at(ffi::SQLITE_BUSY, Step::Commit), StorageError::Unavailable(_)));
        assert!(matches!(at(ffi::SQLITE_BUSY, Step::Apply), StorageError::Unavailable(_)));
    }
}
