-- Compact events (docs/storage.md, "Events on disk"). Each event row kept, besides its sealed
-- body, the person key as 64 hex characters, the case code, the idempotency key in plain text (an
-- agency's key often holds the person's identity number), the kind, the date and the agency code
-- (all inside the sealed body as well) and the arrival time as text; with two indexes of text keys
-- it came to about 800 bytes an event. Now a row holds:
--   person       the person key's first 16 bytes (`records.person_key` is the hex of 32): with
--                the case code, which record the event is of (two persons sharing 128 bits of
--                their keyed hashes is as unlikely as two events sharing an id);
--   case_code    as before;
--   event_id     a 16-byte keyed MAC of (agency code, idempotency key) under the index key
--                (`Keys::event_id`): the event's identity for idempotency, unique; the plain key,
--                kind, date and agency code are read from the sealed body where they are shown;
--   content_hash as before (a duplicate or a conflicting re-send is told by it, docs/events.md);
--   received_at  whole seconds since the Unix epoch (times were stored rounded to the second);
--   body         sealed with the record's key, now bound to `event/<hex of event_id>`.
-- Queries and the indexes that serve them:
--   by event_id (a batch's known events: `known_hashes`)             events_by_id (unique);
--   by person (a batch's prefetch, `person IN (…)`), by person and
--   case (`load_events`, the timeline), each ordered by seq            events_by_person: the
--     index's entries are (person, rowid = seq), so a person's events come in seq order, and a
--     person has few records: filtering the case on the rows read replaces the case code that
--     `events_by_record (person_key, case_code, seq)` carried (EXPLAIN QUERY PLAN: SEARCH events
--     USING INDEX events_by_person (person=?); for one person no temporary B-tree for ORDER BY
--     seq, for the prefetch's list of persons one, as with the old index).
--   every event in seq order (rebuilds)                                the table itself.
-- The old index on (agency_code, idempotency_key) and `events_by_record` have no query left.
--
-- The rows already stored cannot be converted here: the MAC needs the master key, and each body is
-- opened and sealed again under its new context. So the old table is kept as `events_v16` and the
-- store moves its rows over in Rust when it is opened with its key (`convert_v16_events`), 500 to
-- a transaction, keeping their sequence numbers, and drops it when it is empty; an interrupted run
-- resumes where it stopped. The sequence continues after the old rows' numbers.
ALTER TABLE events RENAME TO events_v16;
DROP INDEX IF EXISTS events_by_record;

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    person          BLOB NOT NULL,
    case_code       TEXT NOT NULL,
    event_id        BLOB NOT NULL,
    content_hash    BLOB NOT NULL,
    received_at     INTEGER NOT NULL,
    body            BLOB NOT NULL
);
CREATE UNIQUE INDEX events_by_id ON events (event_id);
CREATE INDEX events_by_person ON events (person);

INSERT INTO sqlite_sequence (name, seq) SELECT 'events', COALESCE(MAX(seq), 0) FROM events_v16;
