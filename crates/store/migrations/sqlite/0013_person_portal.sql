-- The person's portal (docs/person.md): who looked at a person's record, and their requests for a
-- correction. Written to run again over a database whose schema_version was set back.

-- The audit entries that concern a person (a look-up that asked for them or answered with one of
-- their records, a read under a grant for them), by person key. An index, written in the
-- transaction of the entry it points to; the entry itself (its subject, purpose and detail) is
-- the log's, hashed as before, and `fengcun audit verify` checks it as before.
CREATE TABLE IF NOT EXISTS audit_concerns (
    person_key      TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (person_key, seq)
);

-- A person's request that the agency holding a record correct it (PIPL art. 46).
CREATE TABLE IF NOT EXISTS correction_requests (
    request_id      TEXT PRIMARY KEY,
    person_key      TEXT NOT NULL,
    requested_by    TEXT NOT NULL,          -- the person's user (`user:<name>`)
    case_code       TEXT NOT NULL,
    field           TEXT NOT NULL,          -- which fact is wrong (a code)
    agency          TEXT NOT NULL,          -- the holding agency the request is addressed to
    text_sealed     BLOB NOT NULL,          -- the person's words, sealed
    status          TEXT NOT NULL,          -- open / accepted / refused
    answered_by     TEXT,
    answer_sealed   BLOB,                   -- the agency's reason, sealed
    correction_key  TEXT,                   -- accepted: the agency's correction event's key
    created_at      TEXT NOT NULL,
    answered_at     TEXT,
    seen_at         TEXT                    -- when the person first saw the answer
);
CREATE INDEX IF NOT EXISTS corrections_by_person ON correction_requests (person_key, created_at);
CREATE INDEX IF NOT EXISTS corrections_by_agency ON correction_requests (agency, status, created_at);
