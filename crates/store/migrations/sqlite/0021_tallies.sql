-- Migration 21: counts kept as the rows are written, instead of counted over the tables on every
-- read. At ten million records `/api/v1/stats` and `/metrics` counted `records` by state (2.2 s
-- each) and `events` in full on every request (docs/operations.md, "Counts at national scale").
-- A row is a change to a count: the writing transaction inserts it beside the rows it counts (so
-- writers never wait for one another on a shared counter), a read sums them by name, and the
-- writer now and then folds them into one row a name (`SqlStore::compact_tallies`). Names:
-- `events`, `records:<state>` for each state code of `records.state` (`new` included), and
-- `notices:<status>` for each status of `notices.status`.
-- Run every time migration 21 is applied: the counts made again from the tables.
CREATE TABLE IF NOT EXISTS tallies (
    name            TEXT NOT NULL,
    n               INTEGER NOT NULL
);
DELETE FROM tallies;
INSERT INTO tallies (name, n) SELECT 'records:' || state, COUNT(*) FROM records GROUP BY state;
INSERT INTO tallies (name, n) SELECT 'events', COUNT(*) FROM events;
INSERT INTO tallies (name, n) SELECT 'notices:' || status, COUNT(*) FROM notices GROUP BY status;
-- Nothing reads records by state but these counts (the pending seals have `records_pending`):
-- 75 bytes a record, and a random leaf written at every change of state.
DROP INDEX IF EXISTS records_by_state;
-- What the conversions run at every opening look for (`convert_audit_rows`: audit entries of
-- before migration 19; `rewrite_legacy_content_hashes`: events with a plain 32-byte hash of
-- before the keyed MAC), indexed by itself: both read every row of their table to find none on
-- a converted database, 43 s at every start at ten million records, holding the write lock.
-- Empty once converted, so they cost nothing on disk.
CREATE INDEX IF NOT EXISTS audit_unpacked ON audit_entries (seq) WHERE detail_packed IS NULL;
CREATE INDEX IF NOT EXISTS events_plain_hash ON events (seq) WHERE length(content_hash) = 32;
