-- A record's events kept together (docs/storage.md, "Events on disk"; issue 20). Each event had a
-- row of its own: the first 16 bytes of its person key, its case code, its arrival time and its
-- body sealed alone (nonce, tag, and a compression that could not use what the record's other
-- events say already), with an index by person: about 265 bytes an event. Now:
--   record_events  one row per record: the record's events in arrival order, as one list
--                  (`crate::record_events`: arrival time and canonical JSON of each),
--                  compressed once and sealed once with the record's key, bound to the record;
--                  keyed by (person, case code), which the prefetch of a batch's persons reads
--                  as a range of the key (no other index);
--   event_ids      one row per event, keyed by its id (`Keys::event_id`, unique: idempotency):
--                  its content MAC (a duplicate or a conflicting re-send, docs/events.md), as
--                  `events` kept them, and its sequence number (the arrival order across
--                  records, for rebuilds), given from `event_seq`.
-- Nothing is converted: the events stored before stay in `events` as they are and are read with
-- the new ones (a record's stored events first: they arrived before any in its list), so a store
-- upgrades without a pass over its events and no event is sealed again. New events go to the new
-- tables only; `event_ids` numbers them after every number `events` has used.
-- Written to run again over a database whose schema_version was set back.
CREATE TABLE IF NOT EXISTS event_ids (
    event_id        BLOB PRIMARY KEY,
    content_hash    BLOB NOT NULL,
    seq             INTEGER NOT NULL
) WITHOUT ROWID;
-- The last sequence number given (one row): a table keyed by the id has no rowid to number its
-- rows, and a batch takes its numbers with one `UPDATE … RETURNING` (SQLite has one writer).
CREATE TABLE IF NOT EXISTS event_seq (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last            INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS record_events (
    person          BLOB NOT NULL,
    case_code       TEXT NOT NULL,
    body            BLOB NOT NULL,
    PRIMARY KEY (person, case_code)
) WITHOUT ROWID;
-- After every number `events` used or will be given by the conversion of `events_v16` (its
-- AUTOINCREMENT counter, which migration 17 set after the numbers of `events_v16`, moved later
-- with their numbers). `events_closed` keeps the highest of them: a row of `events` numbered above
-- it can only come from a build older than this migration, which does not know the lists, and is
-- refused (`events_closed_to_older_builds`).
INSERT INTO event_seq (id, last) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM event_seq);
CREATE TABLE IF NOT EXISTS events_closed (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    above           INTEGER NOT NULL
);
INSERT INTO events_closed (id, above) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM events_closed);
UPDATE events_closed
    SET above = max(above,
                    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
                    COALESCE((SELECT MAX(seq) FROM events), 0));
UPDATE event_seq
    SET last = max(last,
                   (SELECT above FROM events_closed),
                   COALESCE((SELECT MAX(seq) FROM event_ids), 0));
CREATE TRIGGER IF NOT EXISTS events_closed_to_older_builds AFTER INSERT ON events
    WHEN NEW.seq > (SELECT above FROM events_closed)
    BEGIN
        SELECT RAISE(ABORT, 'events are kept in record_events and event_ids since migration 27: this build is older than the database');
    END;
-- The count of events (migration 21) is of both tables: made again here, so that it holds also
-- when migration 21 ran again over a database whose schema_version was set back (it counts
-- `events` alone). A store upgrading has no row in `event_ids` yet: the count is the one it had.
DELETE FROM tallies WHERE name = 'events';
INSERT INTO tallies (name, n) SELECT 'events', (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM event_ids);
