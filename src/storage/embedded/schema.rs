//! The database schema and its migrations.
//!
//! The schema only changes through numbered SQL files under `migrations/embedded/` at the
//! repository root, compiled into the binary. The database records the last one applied in
//! `PRAGMA user_version`. At open, [`migrate`] applies the missing ones in order, each in its own
//! transaction together with the version bump, so a crash mid-upgrade leaves the database at the
//! previous version rather than half-migrated. A database written by a newer kube-ledger (a
//! version this binary does not know) is refused rather than misread.

use rusqlite::{Connection, TransactionBehavior};

use crate::storage::{Result, StorageError};

/// One schema step: the SQL that takes the database from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order, numbered from 1 without gaps. Append only: a released migration
/// is never edited, since databases in the field already ran it.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "event_log",
        sql: include_str!("../../../migrations/embedded/0001_event_log.sql"),
    },
    Migration {
        version: 2,
        name: "provenance_identity",
        sql: include_str!("../../../migrations/embedded/0002_provenance_identity.sql"),
    },
    Migration {
        version: 3,
        name: "restored_from",
        sql: include_str!("../../../migrations/embedded/0003_restored_from.sql"),
    },
];

/// Brings the database up to the last of `migrations` and returns that version.
///
/// Each step reads the version and applies the next migration inside one `IMMEDIATE`
/// transaction, so two processes opening the same file at once cannot both apply a step.
pub(super) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<i64> {
    let latest = migrations.last().map_or(0, |m| m.version);
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > latest {
            return Err(StorageError::Internal(format!(
                "database schema version {version} is newer than this kube-ledger supports \
                 ({latest}); upgrade kube-ledger"
            )));
        }
        if version == latest {
            return Ok(version);
        }
        let Some(next) = migrations.iter().find(|m| m.version == version + 1) else {
            return Err(StorageError::Internal(format!(
                "no migration from database schema version {version} to {}",
                version + 1
            )));
        };
        tx.execute_batch(next.sql).map_err(|err| {
            StorageError::Internal(format!(
                "migration {:04}_{} failed: {err}",
                next.version, next.name
            ))
        })?;
        tx.pragma_update(None, "user_version", next.version)?;
        tx.commit()?;
        tracing::info!(
            version = next.version,
            name = next.name,
            "applied embedded storage migration"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap()
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }

    #[test]
    fn fresh_database_then_idempotent_reopen() {
        let latest = MIGRATIONS.len() as i64;
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), latest);
        assert_eq!(tables(&conn), ["current", "events", "meta"]);
        conn.execute("UPDATE meta SET value = 7 WHERE name = 'head'", []).unwrap();

        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), latest);
        let head: i64 =
            conn.query_row("SELECT value FROM meta WHERE name = 'head'", [], |r| r.get(0)).unwrap();
        assert_eq!(head, 7, "a second run must not re-apply migrations");
    }

    #[test]
    fn older_database_is_upgraded_in_place() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &MIGRATIONS[..1]).unwrap();
        conn.execute("INSERT INTO current (key, revision) VALUES ('/a/b', 1)", []).unwrap();

        let v2 = Migration {
            version: 2,
            name: "test_column",
            sql: "ALTER TABLE current ADD COLUMN note TEXT NOT NULL DEFAULT 'kept';",
        };
        let upgraded = [MIGRATIONS[0], v2];
        assert_eq!(migrate(&mut conn, &upgraded).unwrap(), 2);
        let note: String = conn
            .query_row("SELECT note FROM current WHERE key = '/a/b'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(note, "kept");
        assert_eq!(version(&conn), 2);
    }

    #[test]
    fn failed_migration_leaves_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &MIGRATIONS[..1]).unwrap();
        let broken = Migration {
            version: 2,
            name: "broken",
            sql: "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;",
        };
        let err = migrate(&mut conn, &[MIGRATIONS[0], broken]).unwrap_err();
        assert!(err.to_string().contains("0002_broken"), "{err}");
        assert_eq!(version(&conn), 1);
        assert!(!tables(&conn).contains(&"half".to_owned()));
    }

    #[test]
    fn newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, MIGRATIONS).unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
        let err = migrate(&mut conn, MIGRATIONS).unwrap_err();
        assert!(matches!(err, StorageError::Internal(_)), "{err:?}");
        let expected = format!(
            "database schema version 9 is newer than this kube-ledger supports ({}); \
             upgrade kube-ledger",
            MIGRATIONS.len()
        );
        assert!(err.to_string().contains(&expected), "{err}");
        assert_eq!(version(&conn), 9, "a refused database is left untouched");
    }

    /// Version 2 adds the provenance identity columns: an event written at version 1 keeps
    /// every value it had and reads the new columns as empty.
    #[test]
    fn version_2_keeps_version_1_events_with_empty_identity() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &MIGRATIONS[..1]).unwrap();
        conn.execute(
            "INSERT INTO events (revision, key, type, value, create_revision, prev_revision, \
                                 user, verb, audit_id, ts_micros) \
             VALUES (1, '/pods/a', 0, x'7b7d', 1, NULL, 'alice', 'create', 'a1', 42)",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn, &MIGRATIONS[..2]).unwrap(), 2);
        let row: (String, String, String, i64, String, String, String, String, String) = conn
            .query_row(
                "SELECT user, verb, audit_id, ts_micros, \
                        uid, groups, user_agent, source_ip, field_manager \
                 FROM events WHERE revision = 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                },
            )
            .unwrap();
        let empty = String::new;
        assert_eq!(
            row,
            (
                "alice".to_owned(),
                "create".to_owned(),
                "a1".to_owned(),
                42,
                empty(),
                empty(),
                empty(),
                empty(),
                empty()
            )
        );
    }

    /// Version 3 adds `restored_from`: an event written at version 2 reads back as no restore,
    /// and the column holds a revision once written.
    #[test]
    fn version_3_reads_earlier_events_as_no_restore() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, &MIGRATIONS[..2]).unwrap();
        conn.execute(
            "INSERT INTO events (revision, key, type, value, create_revision, prev_revision, \
                                 user, verb, audit_id, ts_micros) \
             VALUES (1, '/pods/a', 0, x'7b7d', 1, NULL, 'alice', 'create', 'a1', 42)",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), 3);
        let restored: Option<i64> = conn
            .query_row("SELECT restored_from FROM events WHERE revision = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(restored, None);
        conn.execute("UPDATE events SET restored_from = 7 WHERE revision = 1", []).unwrap();
        let restored: Option<i64> = conn
            .query_row("SELECT restored_from FROM events WHERE revision = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(restored, Some(7));
    }
}
