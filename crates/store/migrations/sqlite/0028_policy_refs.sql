-- Migration 28 (docs/storage.md "Bytes per record"): a record's and a transition's policy as a
-- number naming (policy, version) in `policy_refs`, and their times (`records.updated_at`,
-- `transitions.at`) as seconds since the epoch. The columns are added by the conversions
-- (0028_records_columns.sql, 0028_transitions_columns.sql), once; rows written before keep their
-- text and are read as they are. A row written since keeps the text columns empty (NULL where
-- they may be) and is read through the number and the seconds; a row whose text is not empty is
-- read by its text, whatever its number says (an older build updating a record writes the text).
-- A writer reads or takes the number inside its own transaction and keeps it nowhere else
-- (`SqlStore::policy_refs`): rows naming a number a rolled-back transaction took are rolled back
-- with it, so a number always names the policy version it was given for. (SQLite may give such a
-- number again, AUTOINCREMENT's counter being rolled back too; a PostgreSQL sequence does not.)
-- Run again, it tolerates its own result.
CREATE TABLE IF NOT EXISTS policy_refs (
    ref             INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    UNIQUE (name, version)
);
-- The audit log's indexes by kind and by actor leave out what nearly every entry is: the
-- transitions the platform takes by itself (kind `transition`, actor `automatic`), one or more a
-- record — about 49 bytes a record for two indexes nobody searches for those values through (a
-- search for them reads the log newest first, where they are most entries). A search for any
-- other kind or actor says it is not those (`audit_search`), which lets both engines use these.
DROP INDEX IF EXISTS audit_by_kind;
CREATE INDEX audit_by_kind ON audit_entries (kind, seq) WHERE kind <> 'transition';
DROP INDEX IF EXISTS audit_by_actor;
CREATE INDEX audit_by_actor ON audit_entries (actor, seq) WHERE actor <> 'automatic';
-- A transition and a holding name their record by its case code and the person key's first 16
-- bytes, as a record's events do (the record's row keeps all 32): 16 bytes a transition and a
-- holding, and as many in `transitions_by_record`. Rows of before are cut here (run again, there
-- is nothing left to cut); two persons of one case sharing those 128 bits of a keyed hash would
-- fail the statement on the key of `holdings`, not merge.
UPDATE transitions SET person = substr(person, 1, 16) WHERE length(person) = 32;
UPDATE holdings SET person = substr(person, 1, 16) WHERE length(person) = 32;
-- A build from before this migration that is still running would go on writing the 32 bytes, which
-- the readers since do not find (a transition's notices never delivered, a holding counted twice):
-- refused, loudly.
CREATE TRIGGER IF NOT EXISTS transitions_person_of_16_bytes BEFORE INSERT ON transitions
    WHEN length(NEW.person) <> 16
    BEGIN
        SELECT RAISE(ABORT, 'a transition names its person by the first 16 bytes of the key since migration 28: this build is older than the database');
    END;
CREATE TRIGGER IF NOT EXISTS holdings_person_of_16_bytes BEFORE INSERT ON holdings
    WHEN length(NEW.person) <> 16
    BEGIN
        SELECT RAISE(ABORT, 'a holding names its person by the first 16 bytes of the key since migration 28: this build is older than the database');
    END;
