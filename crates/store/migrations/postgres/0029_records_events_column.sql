-- Migration 29 (0029_records_events.sql): each record's list of events moves from `record_events`
-- into its record's row. Run only over a `records` without the column (schema.rs `Conversion`).
-- A list is keyed by the first 16 bytes of the person key, a record by all 32 (migration 28).
-- A list that finds no record row would be lost by the drop below: the migration is refused
-- instead, and nothing is changed (it runs in the transaction of every pending migration).
ALTER TABLE records ADD COLUMN events BYTEA;
UPDATE records r SET events = re.body FROM record_events re
    WHERE re.person = substring(r.person FROM 1 FOR 16) AND re.case_code = r.case_code;
DO $$
DECLARE
    lists_left BIGINT;
BEGIN
    SELECT (SELECT COUNT(*) FROM record_events) - (SELECT COUNT(*) FROM records WHERE events IS NOT NULL)
        INTO lists_left;
    IF lists_left <> 0 THEN
        RAISE EXCEPTION 'migration 29: % lists of events in record_events have no record row to move to; nothing was changed', lists_left;
    END IF;
END
$$;
DROP TABLE record_events;
