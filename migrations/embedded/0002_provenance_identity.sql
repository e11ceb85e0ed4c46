-- Schema version 2 of the embedded backend: the provenance of every event also records the
-- authenticated identity beyond the user name, where the request came from, and the field
-- manager (issues 12 and 14).
--
-- Applied once, inside a transaction, by src/storage/embedded/schema.rs, which then sets
-- PRAGMA user_version = 2. Never edit this file once released.
--
-- Columns added with a constant default: SQLite records the default in the schema and rewrites
-- no row, so the upgrade takes the same time on any size of log, and every event written before
-- it reads back with these fields empty ('' is "not recorded", as for a new event that does not
-- know them).

-- `UserInfo.uid`
ALTER TABLE events ADD COLUMN uid           TEXT NOT NULL DEFAULT '';
-- `UserInfo.groups` as a JSON array of strings, in order; '' when there are none
ALTER TABLE events ADD COLUMN groups        TEXT NOT NULL DEFAULT '';
-- the request's User-Agent header
ALTER TABLE events ADD COLUMN user_agent    TEXT NOT NULL DEFAULT '';
-- the client's IP address, as text
ALTER TABLE events ADD COLUMN source_ip     TEXT NOT NULL DEFAULT '';
-- the write's field manager
ALTER TABLE events ADD COLUMN field_manager TEXT NOT NULL DEFAULT '';
