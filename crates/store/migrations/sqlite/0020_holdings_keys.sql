-- Person keys as bytes in `holdings` (see 0020_records_keys.sql): the column `person` keeps the 32
-- bytes of the person key instead of its 64 hex characters. Still a table without rowid, in the
-- order of its key (agency, case code, person). Run only over a database whose `holdings` has no
-- `person` yet (crate::schema).
CREATE TABLE holdings_v20 (
    agency_code     TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    person          BLOB NOT NULL,
    PRIMARY KEY (agency_code, case_code, person)
) WITHOUT ROWID;
INSERT INTO holdings_v20 (agency_code, case_code, person)
    SELECT agency_code, case_code, CASE WHEN person_key = lower(person_key) THEN unhex(person_key) END
    FROM holdings ORDER BY agency_code, case_code, person_key;
DROP TABLE holdings;
ALTER TABLE holdings_v20 RENAME TO holdings;
