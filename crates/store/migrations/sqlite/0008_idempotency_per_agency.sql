-- Idempotency keys are the sending agency's own (docs/events.md): unique per (agency, key), no
-- longer across the platform, so that one agency's key neither collides with another's nor tells it
-- that the other's event exists. SQLite cannot drop a column's UNIQUE constraint, so the table is
-- rebuilt with its rows, sequence numbers and index.
CREATE TABLE events_per_agency (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    content_hash    BLOB NOT NULL,
    kind            TEXT NOT NULL,
    event_date      TEXT NOT NULL,
    agency_code     TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    body            BLOB NOT NULL,
    UNIQUE (agency_code, idempotency_key)
);
INSERT INTO events_per_agency (seq, person_key, case_code, idempotency_key, content_hash, kind, event_date, agency_code, received_at, body)
    SELECT seq, person_key, case_code, idempotency_key, content_hash, kind, event_date, agency_code, received_at, body FROM events;
DROP TABLE events;
ALTER TABLE events_per_agency RENAME TO events;
CREATE INDEX events_by_record ON events (person_key, case_code, seq);
