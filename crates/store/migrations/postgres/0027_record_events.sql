-- A record's events kept together (docs/storage.md, "Events on disk"; issue 20). Each event had a
-- row of its own: the first 16 bytes of its person key, its case code, its arrival time and its
-- body sealed alone (nonce, tag, and a compression that could not use what the record's other
-- events say already), with an index by person. Now:
--   record_events  one row per record: the record's events in arrival order, as one list
--                  (`crate::record_events`: arrival time and canonical JSON of each),
--                  compressed once and sealed once with the record's key, bound to the record;
--                  keyed by (person, case code), which the prefetch of a batch's persons reads;
--   event_ids      one row per event, keyed by its id (`Keys::event_id`, unique: idempotency):
--                  its content MAC (a duplicate or a conflicting re-send, docs/events.md), as
--                  `events` kept them, and its sequence number (the arrival order across
--                  records, for rebuilds), from the sequence `event_seq`.
-- Nothing is converted: the events stored before stay in `events` as they are and are read with
-- the new ones (a record's stored events first), so a store upgrades without a pass over its
-- events and no event is sealed again. New events go to the new tables only; `event_ids` numbers
-- them after every number `events` has used.
-- Written to run again over a database whose schema_version was set back.
CREATE TABLE IF NOT EXISTS event_ids (
    event_id        BYTEA PRIMARY KEY,
    content_hash    BYTEA NOT NULL,
    seq             BIGINT NOT NULL
);
-- The sequence numbers: `nextval` in each inserted row, outside any transaction's locks.
CREATE SEQUENCE IF NOT EXISTS event_seq;
CREATE TABLE IF NOT EXISTS record_events (
    person          BYTEA NOT NULL,
    case_code       TEXT NOT NULL,
    body            BYTEA NOT NULL,
    PRIMARY KEY (person, case_code)
);
-- After every number `events` used or will be given by the conversion of `events_v16` (migration
-- 17's rows, moved with their numbers when the store is first opened with its key: before that,
-- `events` may be empty and its sequence set but never called). `events_closed` keeps the highest
-- of them: a row of `events` numbered above it can only come from a build older than this
-- migration, which does not know the lists, and is refused (`events_closed_to_older_builds`).
CREATE TABLE IF NOT EXISTS events_closed (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    above           BIGINT NOT NULL
);
DO $$
DECLARE
    used BIGINT := 0;
    old BIGINT := 0;
BEGIN
    IF to_regclass('events_v16') IS NOT NULL THEN
        EXECUTE 'SELECT COALESCE(MAX(seq), 0) FROM events_v16' INTO old;
    END IF;
    used := GREATEST(old, COALESCE((SELECT MAX(seq) FROM events), 0));
    INSERT INTO events_closed (id, above) VALUES (1, used)
        ON CONFLICT (id) DO UPDATE SET above = GREATEST(events_closed.above, excluded.above);
    PERFORM setval('event_seq',
                   GREATEST(used,
                            COALESCE((SELECT MAX(seq) FROM event_ids), 0),
                            COALESCE(pg_sequence_last_value('event_seq'), 0)) + 1,
                   false);
END $$;
CREATE OR REPLACE FUNCTION events_closed_to_older_builds() RETURNS trigger AS $$
BEGIN
    IF NEW.seq > (SELECT above FROM events_closed WHERE id = 1) THEN
        RAISE EXCEPTION 'events are kept in record_events and event_ids since migration 27: this build is older than the database';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS events_closed_to_older_builds ON events;
CREATE TRIGGER events_closed_to_older_builds BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_closed_to_older_builds();
-- The count of events (migration 21) is of both tables: made again here, so that it holds also
-- when migration 21 ran again over a database whose schema_version was set back (it counts
-- `events` alone). A store upgrading has no row in `event_ids` yet: the count is the one it had.
DELETE FROM tallies WHERE name = 'events';
INSERT INTO tallies (name, n) SELECT 'events', (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM event_ids);
