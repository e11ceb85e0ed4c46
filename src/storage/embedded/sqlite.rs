//! SQLite plumbing shared by the writer, the readers and the watches: opening and configuring
//! connections, mapping rusqlite errors into [`StorageError`], the `meta` counters, and decoding
//! rows into the contract's types. Nothing here decides *what* to read or write.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row};

use crate::storage::{Event, EventType, Object, Provenance, Result, Revision, StorageError, Verb};

/// How long a connection waits for a lock held by another connection before giving up with
/// `SQLITE_BUSY` (reported as [`StorageError::Unavailable`]). In WAL mode readers and the single
/// writer do not block each other, so this only matters for checkpoints, recovery, or a second
/// process opening the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection. Each connection runs a handful of distinct queries.
const STATEMENT_CACHE: usize = 32;

/// Opens the one connection that writes, and puts the file in WAL mode.
///
/// `synchronous=FULL` makes every commit fsync the WAL before returning, so a write that was
/// acknowledged survives a crash or power loss; group commit in the writer amortizes that fsync.
pub(super) fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Internal(format!(
            "{} cannot use write-ahead logging (journal_mode is {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Opens a read connection on an existing database. `query_only` turns a stray write into an
/// error instead of a second writer competing for the lock.
pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Maps a rusqlite error without consuming it (the writer reports one commit failure to every
/// request of the batch). Lock contention is retryable, anything else is not.
pub(super) fn storage_error(err: &rusqlite::Error) -> StorageError {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StorageError::Unavailable(format!("sqlite: {err}"))
        }
        _ => StorageError::Internal(format!("sqlite: {err}")),
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(err: rusqlite::Error) -> Self {
        storage_error(&err)
    }
}

/// The `meta` counters, read together so they come from one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Meta {
    /// The latest revision.
    pub head: Revision,
    /// The oldest readable revision.
    pub compacted: Revision,
}

impl Meta {
    /// Whether the state at `revision` can be read: not compacted away, not in the future.
    pub fn check_readable(&self, revision: Revision) -> Result<()> {
        if revision < self.compacted {
            return Err(StorageError::Compacted { requested: revision, compacted: self.compacted });
        }
        if revision > self.head {
            return Err(StorageError::FutureRevision { requested: revision, current: self.head });
        }
        Ok(())
    }
}

/// Reads both counters. Call it inside the transaction whose data it must agree with.
pub(super) fn read_meta(conn: &Connection) -> rusqlite::Result<Meta> {
    conn.prepare_cached(
        "SELECT (SELECT value FROM meta WHERE name = 'head'), \
                (SELECT value FROM meta WHERE name = 'compacted')",
    )?
    .query_row([], |row| Ok(Meta { head: row.get(0)?, compacted: row.get(1)? }))
}

/// The live object at `key`, from `current`.
pub(super) fn current_object(conn: &Connection, key: &str) -> rusqlite::Result<Option<Object>> {
    conn.prepare_cached(
        "SELECT e.value, e.create_revision, e.revision \
         FROM current AS c JOIN events AS e ON e.revision = c.revision \
         WHERE c.key = ?1",
    )?
    .query_row([key], |row| object_at(row, key.to_owned(), 0))
    .optional()
}

/// The `events.type` code of an event type.
pub(super) fn type_code(event_type: EventType) -> i64 {
    match event_type {
        EventType::Created => 0,
        EventType::Updated => 1,
        EventType::Deleted => 2,
    }
}

fn event_type(code: i64, revision: Revision) -> Result<EventType> {
    Ok(match code {
        0 => EventType::Created,
        1 => EventType::Updated,
        2 => EventType::Deleted,
        _ => {
            return Err(StorageError::Internal(format!(
                "event {revision} has unknown type {code}"
            )));
        }
    })
}

/// Builds an object from three consecutive columns `value, create_revision, revision` starting
/// at `first`. A NULL value reads as empty: only deletes store NULL, and they never get here.
pub(super) fn object_at(row: &Row<'_>, key: String, first: usize) -> rusqlite::Result<Object> {
    let value: Option<Vec<u8>> = row.get(first)?;
    Ok(Object {
        key,
        value: Bytes::from(value.unwrap_or_default()),
        create_revision: row.get(first + 1)?,
        mod_revision: row.get(first + 2)?,
    })
}

/// The `events.groups` text of a provenance's groups: a JSON array of strings, or `''` for
/// none (what events written before the column existed hold too). JSON keeps every group name
/// intact, whatever characters it contains, in order.
pub(super) fn encode_groups(groups: &[String]) -> String {
    if groups.is_empty() {
        return String::new();
    }
    // Serializing strings cannot fail.
    serde_json::to_string(groups).unwrap_or_default()
}

fn decode_groups(text: &str, revision: Revision) -> Result<Vec<String>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|err| {
        StorageError::Internal(format!("event {revision} has unreadable groups {text:?}: {err}"))
    })
}

/// `SELECT … FROM` of a full event with its previous value, for [`decode_event`]. A macro so
/// queries can `concat!` their `WHERE` onto it and stay `&'static str` for the statement cache.
macro_rules! select_events {
    () => {
        "SELECT e.revision, e.key, e.type, e.user, e.verb, e.audit_id, e.ts_micros, \
                e.value, e.create_revision, e.revision, \
                p.value, p.create_revision, p.revision, \
                e.uid, e.groups, e.user_agent, e.source_ip, e.field_manager, e.restored_from \
         FROM events AS e LEFT JOIN events AS p ON p.revision = e.prev_revision"
    };
}
pub(super) use select_events;

/// Decodes a row of [`select_events!`]. The previous object is `None` for a create, or when
/// compaction has dropped the event holding it.
pub(super) fn decode_event(row: &Row<'_>) -> Result<Event> {
    let revision: Revision = row.get(0)?;
    let key: String = row.get(1)?;
    let event_type = event_type(row.get(2)?, revision)?;
    let verb: String = row.get(4)?;
    let verb = Verb::parse(&verb).ok_or_else(|| {
        StorageError::Internal(format!("event {revision} has unknown verb {verb:?}"))
    })?;
    let groups: String = row.get(14)?;
    let provenance = Provenance {
        user: row.get(3)?,
        uid: row.get(13)?,
        groups: decode_groups(&groups, revision)?,
        user_agent: row.get(15)?,
        source_ip: row.get(16)?,
        field_manager: row.get(17)?,
        restored_from: row.get(18)?,
        verb,
        audit_id: row.get(5)?,
        timestamp_micros: row.get(6)?,
    };
    let object = match event_type {
        EventType::Deleted => None,
        EventType::Created | EventType::Updated => Some(object_at(row, key.clone(), 7)?),
    };
    let prev_revision: Option<Revision> = row.get(12)?;
    let prev_object = match prev_revision {
        Some(_) => Some(object_at(row, key.clone(), 10)?),
        None => None,
    };
    Ok(Event { revision, event_type, key, object, prev_object, provenance: Some(provenance) })
}
