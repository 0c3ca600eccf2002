-- Migration 29 (0029_records_events.sql): each record's list of events moves from `record_events`
-- into its record's row. Run only over a `records` without the column (schema.rs `Conversion`).
-- A list is keyed by the first 16 bytes of the person key, a record by all 32 (migration 28).
-- A list that finds no record row would be lost by the drop below: the migration is refused
-- instead, and nothing is changed (it runs in the transaction of every pending migration).
ALTER TABLE records ADD COLUMN events BLOB;
UPDATE records SET events = (
    SELECT re.body FROM record_events re
    WHERE re.person = substr(records.person, 1, 16) AND re.case_code = records.case_code
);
CREATE TEMP TABLE migration_29 (lists_left INTEGER NOT NULL);
CREATE TEMP TRIGGER migration_29_every_list_moved BEFORE INSERT ON migration_29
    WHEN NEW.lists_left <> 0
    BEGIN
        SELECT RAISE(ABORT, 'migration 29: a list of events in record_events has no record row to move to; nothing was changed');
    END;
INSERT INTO migration_29
    SELECT (SELECT COUNT(*) FROM record_events) - (SELECT COUNT(*) FROM records WHERE events IS NOT NULL);
DROP TABLE migration_29;
DROP TABLE record_events;
