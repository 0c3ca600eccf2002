-- Person keys as bytes (issue 20, docs/storage.md "Person keys on disk"): `records` kept the person
-- key as 64 hex characters of text, in its row and again in each of its indexes. It now keeps the
-- 32 bytes that text spells, in the column `person`; the store reads them back as the same lowercase
-- hex (`sql::rows::person_hex`), so every reader, the record keys' context (`fengcun/record/<hex>/
-- <case>`) and the audit subject (`record:<hex>/<case>`) see the text they saw. A key that is not
-- lowercase hex (none the store makes) fails the conversion (NOT NULL) rather than being changed.
-- The table is kept in its primary key's order (WITHOUT ROWID): the separate index of the key
-- (person, case code) that a table with a rowid needs goes.
--
-- Run only over a database whose `records` has no `person` yet (crate::schema); the indexes are
-- in 0020_keys.sql, run every time.
CREATE TABLE records_v20 (
    person          BLOB NOT NULL,
    case_code       TEXT NOT NULL,
    state           TEXT NOT NULL,
    state_date      TEXT,
    state_trigger   TEXT,
    policy          TEXT,
    policy_version  TEXT,
    convicted       INTEGER NOT NULL DEFAULT 0,
    facts           BLOB,
    data_key        BLOB NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (person, case_code)
) WITHOUT ROWID;
INSERT INTO records_v20 (person, case_code, state, state_date, state_trigger, policy, policy_version, convicted,
                         facts, data_key, updated_at)
    SELECT CASE WHEN person_key = lower(person_key) THEN unhex(person_key) END, case_code, state, state_date,
           state_trigger, policy, policy_version, convicted, facts, data_key, updated_at
    FROM records ORDER BY person_key, case_code;
DROP TABLE records;
ALTER TABLE records_v20 RENAME TO records;
