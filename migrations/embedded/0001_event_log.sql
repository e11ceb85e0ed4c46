-- Schema version 1 of the embedded backend: the revisioned event log.
--
-- Applied once, inside a transaction, by src/storage/embedded/schema.rs, which then sets
-- PRAGMA user_version = 1. Never edit this file once released: change the schema by adding
-- 0002_*.sql and registering it in schema.rs.

-- Every write, in revision order. `revision` aliases the rowid, so revision-ordered scans (watch
-- replay) walk the table's own b-tree.
CREATE TABLE events (
    revision        INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL,
    -- 0 created, 1 updated, 2 deleted
    type            INTEGER NOT NULL CHECK (type IN (0, 1, 2)),
    -- the value after the event; NULL for a delete
    value           BLOB,
    -- the revision that created this incarnation of the key
    create_revision INTEGER NOT NULL,
    -- the event holding the value before this one; NULL for a create
    prev_revision   INTEGER,
    -- provenance: who did what, when
    user            TEXT    NOT NULL,
    verb            TEXT    NOT NULL,
    audit_id        TEXT    NOT NULL,
    ts_micros       INTEGER NOT NULL
);

-- Per-key lookups: get/list at an old revision, history, compaction's "superseded" test.
CREATE INDEX events_key_revision ON events (key, revision);

-- The live keys and the revision of their latest event: the current state, in key order.
CREATE TABLE current (
    key      TEXT    PRIMARY KEY,
    revision INTEGER NOT NULL
) WITHOUT ROWID;

-- Counters: `head` is the latest revision, `compacted` the oldest readable one.
CREATE TABLE meta (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (name, value) VALUES ('head', 0), ('compacted', 0);
