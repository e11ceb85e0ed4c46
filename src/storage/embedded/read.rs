//! Reads: a small pool of read connections and the queries run on them.
//!
//! Data flow: an async caller hands a closure to [`ReadPool::run`], which runs it on tokio's
//! blocking pool with a pooled connection. Every query that combines the `meta` counters with
//! data runs both inside one read transaction, so the revision it reports and the data it returns
//! come from the same snapshot. In WAL mode such a snapshot is stable while the writer keeps
//! committing, and readers never block the writer.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use rusqlite::{CachedStatement, Connection, OptionalExtension, ToSql, params};

use super::sqlite::{
    Meta, decode_event, object_at, open_reader, read_meta, select_events, type_code,
};
use crate::storage::{
    Event, EventType, ListOptions, ListPage, Object, Result, Revision, StorageError, position,
    prefix_end,
};

/// Idle connections kept for reuse; more may be open at once under load, the extra ones are
/// closed when returned.
const MAX_IDLE: usize = 8;

/// Read connections, opened on demand and reused.
#[derive(Debug)]
pub(super) struct ReadPool {
    path: PathBuf,
    /// A std mutex: it is only held to push or pop, never across a query or an await.
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    /// A pool over the database at `path`, opening one connection now so that a database that
    /// cannot be read fails at open rather than at the first request.
    pub fn new(path: PathBuf) -> Result<Arc<ReadPool>> {
        let first = open_reader(&path)?;
        Ok(Arc::new(ReadPool { path, idle: Mutex::new(vec![first]) }))
    }

    /// Runs `query` on a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(self: &Arc<Self>, query: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.start(query).await
    }

    /// Starts `query` on the blocking thread pool now, not when the returned future is first
    /// polled: a replay reads its next page while the caller is still busy with the current
    /// one. Dropping the future discards the answer; the query still runs to its end.
    pub fn start<T, F>(self: &Arc<Self>, query: F) -> impl Future<Output = Result<T>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let pool = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = pool.take()?;
            let result = query(&mut conn);
            pool.give_back(conn);
            result
        });
        async move {
            task.await
                .map_err(|err| StorageError::Internal(format!("storage read task failed: {err}")))?
        }
    }

    fn take(&self) -> Result<Connection> {
        let idle = self
            .idle
            .lock()
            .map_err(|_| StorageError::Internal("read pool lock poisoned".into()))?
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_reader(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
    }
}

/// Both counters, in their own snapshot.
pub(super) fn meta(conn: &mut Connection) -> Result<Meta> {
    Ok(read_meta(conn)?)
}

/// `key` at the latest revision, or at `revision`.
pub(super) fn get(
    conn: &mut Connection,
    key: &str,
    revision: Option<Revision>,
) -> Result<Option<Object>> {
    let tx = conn.transaction()?;
    let meta = read_meta(&tx)?;
    let revision = match revision {
        Some(revision) if revision != meta.head => revision,
        _ => return Ok(super::sqlite::current_object(&tx, key)?),
    };
    meta.check_readable(revision)?;
    let mut stmt = tx.prepare_cached(
        "SELECT type, value, create_revision, revision FROM events \
         WHERE key = ?1 AND revision <= ?2 ORDER BY revision DESC LIMIT 1",
    )?;
    let mut rows = stmt.query(params![key, revision])?;
    match rows.next()? {
        Some(row) if row.get::<_, i64>(0)? != type_code(EventType::Deleted) => {
            Ok(Some(object_at(row, key.to_owned(), 1)?))
        }
        _ => Ok(None),
    }
}

/// One page of the objects under `prefix`, at the latest revision or at `options.revision`.
///
/// A `limit` of 0 means no limit, as in Kubernetes and etcd.
pub(super) fn list(conn: &mut Connection, prefix: &str, options: &ListOptions) -> Result<ListPage> {
    let tx = conn.transaction()?;
    let meta = read_meta(&tx)?;
    let revision = options.revision.unwrap_or(meta.head);
    meta.check_readable(revision)?;
    let latest = revision == meta.head;

    let end = prefix_end(prefix);
    // Keys never contain NUL (control characters are refused), so `>= after + "\0"` is exactly
    // `> after`, and one inclusive lower bound serves both cases.
    let start = match &options.start_after {
        Some(after) if after.as_str() >= prefix => format!("{after}\0"),
        _ => prefix.to_owned(),
    };
    let limit = options.limit.filter(|&limit| limit > 0);
    let sql_limit = limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));

    let objects = if latest {
        objects(
            tx.prepare_cached(
                "SELECT c.key, e.value, e.create_revision, e.revision \
                 FROM current AS c JOIN events AS e ON e.revision = c.revision \
                 WHERE c.key >= ?1 AND c.key < ?2 \
                 ORDER BY c.key LIMIT ?3",
            )?,
            params![start, end, sql_limit],
        )?
    } else {
        // Per key, the latest event at `revision`, unless it is a delete (type 2).
        objects(
            tx.prepare_cached(
                "SELECT e.key, e.value, e.create_revision, e.revision FROM events AS e \
                 WHERE e.key >= ?1 AND e.key < ?2 AND e.revision <= ?3 AND e.type != 2 \
                   AND NOT EXISTS (SELECT 1 FROM events AS x WHERE x.key = e.key \
                                   AND x.revision > e.revision AND x.revision <= ?3) \
                 ORDER BY e.key LIMIT ?4",
            )?,
            params![start, end, revision, sql_limit],
        )?
    };

    let remaining = match (limit, objects.last()) {
        (Some(limit), Some(last)) if objects.len() >= limit => {
            count_after(&tx, latest, &last.key, &end, revision)?
        }
        _ => 0,
    };
    Ok(ListPage { objects, revision, remaining })
}

/// Runs a query whose rows are `key, value, create_revision, revision`.
fn objects(mut stmt: CachedStatement<'_>, params: &[&dyn ToSql]) -> Result<Vec<Object>> {
    let mut rows = stmt.query(params)?;
    let mut objects = Vec::new();
    while let Some(row) = rows.next()? {
        objects.push(object_at(row, row.get(0)?, 1)?);
    }
    Ok(objects)
}

/// How many objects lie strictly between `after` and `end` at `revision`.
fn count_after(
    conn: &Connection,
    latest: bool,
    after: &str,
    end: &str,
    revision: Revision,
) -> Result<u64> {
    let count: i64 = if latest {
        conn.prepare_cached("SELECT count(*) FROM current WHERE key > ?1 AND key < ?2")?
            .query_row(params![after, end], |row| row.get(0))?
    } else {
        conn.prepare_cached(
            "SELECT count(*) FROM events AS e \
             WHERE e.key > ?1 AND e.key < ?2 AND e.revision <= ?3 AND e.type != 2 \
               AND NOT EXISTS (SELECT 1 FROM events AS x WHERE x.key = e.key \
                               AND x.revision > e.revision AND x.revision <= ?3)",
        )?
        .query_row(params![after, end, revision], |row| row.get(0))?
    };
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Every retained event of `key`, oldest first.
pub(super) fn history(conn: &mut Connection, key: &str) -> Result<Vec<Event>> {
    let mut stmt =
        conn.prepare_cached(concat!(select_events!(), " WHERE e.key = ?1 ORDER BY e.revision"))?;
    let mut rows = stmt.query([key])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(decode_event(row)?);
    }
    Ok(events)
}

/// At most `limit` events of `key` with a revision greater than `after`, oldest first: a seek in
/// the `(key, revision)` index, so a page costs its own size whatever the key's history.
pub(super) fn history_page(
    conn: &mut Connection,
    key: &str,
    after: Revision,
    limit: usize,
) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(concat!(
        select_events!(),
        " WHERE e.key = ?1 AND e.revision > ?2 ORDER BY e.revision LIMIT ?3"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![key, after, limit])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(decode_event(row)?);
    }
    Ok(events)
}

/// One page of a replay: events in `[prefix, end)` with `after < revision <= to`, in revision
/// order, at most `limit` of them and no more than about `max_bytes` of values (the event that
/// crosses it is the page's last). Fails with [`StorageError::Compacted`] when compaction has
/// dropped revisions after `after` since the replay started.
pub(super) fn replay_page(
    conn: &mut Connection,
    range: (&str, &str),
    after: Revision,
    to: Revision,
    (limit, max_bytes): (usize, usize),
) -> Result<Vec<Event>> {
    let tx = conn.transaction()?;
    let meta = read_meta(&tx)?;
    if after + 1 < meta.compacted {
        return Err(StorageError::Compacted { requested: after + 1, compacted: meta.compacted });
    }
    // As in `events_after`: walk the revision range, filter keys.
    let mut stmt = tx.prepare_cached(concat!(
        select_events!(),
        " WHERE e.revision > ?1 AND e.revision <= ?2 AND +e.key >= ?3 AND +e.key < ?4 \
          ORDER BY e.revision LIMIT ?5"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![after, to, range.0, range.1, limit])?;
    let (mut events, mut bytes) = (Vec::new(), 0);
    while let Some(row) = rows.next()? {
        let event = decode_event(row)?;
        bytes += event.object.as_ref().map_or(0, |o| o.value.len())
            + event.prev_object.as_ref().map_or(0, |o| o.value.len());
        events.push(event);
        if bytes >= max_bytes {
            break;
        }
    }
    Ok(events)
}

/// The first event in `[from, to]` and its time: a probe of the position search.
pub(super) fn first_stamp(
    conn: &Connection,
    from: Revision,
    to: Revision,
) -> Result<Option<(Revision, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT revision, ts_micros FROM events WHERE revision >= ?1 AND revision <= ?2 \
             ORDER BY revision LIMIT 1",
        )?
        .query_row(params![from, to], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// The log's position at `timestamp_micros`: the shared bisection over the retained revisions,
/// each probe one rowid seek, all in one snapshot.
pub(super) fn revision_at(
    conn: &mut Connection,
    timestamp_micros: i64,
) -> Result<Option<Revision>> {
    let tx = conn.transaction()?;
    let meta = read_meta(&tx)?;
    let probe = |from, to| std::future::ready(first_stamp(&tx, from, to));
    let search =
        position::newest_at_or_before(meta.compacted.max(1), meta.head, timestamp_micros, probe);
    // Every probe is ready at once: the search completes on its first poll.
    let found = search.now_or_never().ok_or_else(|| {
        StorageError::Internal("the position search waited on a synchronous probe".to_owned())
    })??;
    match found {
        Some(revision) => Ok(Some(revision)),
        // The log's position then is below the oldest retained revision.
        None if meta.compacted > 1 => Err(StorageError::Compacted {
            requested: meta.compacted - 1,
            compacted: meta.compacted,
        }),
        None => Ok(None),
    }
}

/// Up to `limit` events in `[prefix, end)` with a revision greater than `after`, in revision
/// order, plus the counters of the same snapshot. Fails with [`StorageError::Compacted`] when
/// events after `after` may already have been dropped.
pub(super) fn events_after(
    conn: &mut Connection,
    prefix: &str,
    end: &str,
    after: Revision,
    limit: usize,
) -> Result<Vec<Event>> {
    let tx = conn.transaction()?;
    let meta = read_meta(&tx)?;
    if after < meta.compacted {
        return Err(StorageError::Compacted { requested: after, compacted: meta.compacted });
    }
    // Walk the revision range (the rowid b-tree) and filter keys: the `+` keeps SQLite from
    // using the key index instead, which would read and sort the prefix's whole history per
    // page. This way a replay costs what the watch is behind, whatever the prefix.
    let mut stmt = tx.prepare_cached(concat!(
        select_events!(),
        " WHERE e.revision > ?1 AND +e.key >= ?2 AND +e.key < ?3 ORDER BY e.revision LIMIT ?4"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![after, prefix, end, limit])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(decode_event(row)?);
    }
    Ok(events)
}
