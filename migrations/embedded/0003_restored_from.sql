-- Schema version 3 of the embedded backend: the provenance of a restore (issue 15) records the
-- revision whose object the write brought back.
--
-- Applied once, inside a transaction, by src/storage/embedded/schema.rs, which then sets
-- PRAGMA user_version = 3. Never edit this file once released.
--
-- A nullable column without a default: SQLite rewrites no row, so the upgrade is instant on
-- any size of log, and every event written before it reads back as "not a restore" (NULL).
--
-- No index on `ts_micros` for the log's position at a time (`revision_at`): the backend finds it
-- by bisecting revisions, a dozen or so rowid look-ups (src/storage/position.rs). An index
-- would cost every write another b-tree insert and this upgrade a pass over the whole log.

-- the revision a restore brought back; NULL for every other write
ALTER TABLE events ADD COLUMN restored_from INTEGER;
