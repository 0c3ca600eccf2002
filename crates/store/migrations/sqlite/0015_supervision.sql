-- Supervision of queries (docs/supervision.md): the flags the server's round found in the audit
-- log, and each one's review. A flag is kept once (its id is derived from what it is about);
-- the review is written with its audit entry in one transaction. Idempotent, as 0009 and 0010:
-- a database whose version rows were reset applies it again.
CREATE TABLE IF NOT EXISTS supervision_flags (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    pattern TEXT NOT NULL,
    subject TEXT NOT NULL,
    other TEXT,
    period_from TEXT NOT NULL,
    period_until TEXT NOT NULL,
    score REAL NOT NULL,
    -- JSON arrays: the audit entries' sequence numbers, the persons' keys.
    entries TEXT NOT NULL,
    persons TEXT NOT NULL,
    found_at TEXT NOT NULL,
    -- NULL while open; 'no_issue' or 'referred' once reviewed.
    conclusion TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS supervision_flags_open ON supervision_flags (conclusion, rule);
