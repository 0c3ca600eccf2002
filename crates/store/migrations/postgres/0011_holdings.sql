-- Which records each agency holds (sent at least one of their events) and how many, kept as events
-- arrive (docs/operations.md): the dashboard's records by agency were counted from the events, a
-- million rows read for every count at a million people. The holdings replace the index
-- `events_by_agency`, which answered only this question, with one row per record and agency
-- instead of one per event. Written to run again over a database whose schema_version was set
-- back: every statement tolerates what it made before.
CREATE TABLE IF NOT EXISTS holdings (
    agency_code     TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    person_key      TEXT NOT NULL,
    PRIMARY KEY (agency_code, case_code, person_key)
);

INSERT INTO holdings (agency_code, case_code, person_key)
    SELECT DISTINCT agency_code, case_code, person_key FROM events WHERE true
    ON CONFLICT (agency_code, case_code, person_key) DO NOTHING;

CREATE TABLE IF NOT EXISTS agency_holdings (
    agency_code     TEXT PRIMARY KEY,
    records         BIGINT NOT NULL
);

DELETE FROM agency_holdings;
INSERT INTO agency_holdings (agency_code, records)
    SELECT agency_code, COUNT(*) FROM holdings GROUP BY agency_code;

DROP INDEX IF EXISTS events_by_agency;
