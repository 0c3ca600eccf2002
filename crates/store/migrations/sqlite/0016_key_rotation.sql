-- Key rotation (docs/operations.md, "Rotating keys"). Written to run again over a database whose
-- schema_version was set back: every statement tolerates what it made before.

-- The master keys a database has been rotated through; no row until the first rotation. Each row
-- holds no key in clear: the index key (the first master key, whose keyed hashes index persons,
-- event contents and notice tokens for good) wrapped under this generation's master; while a
-- rotation to the next generation runs, the next master wrapped under this one (next_key) and
-- this one under the next (previous, on the next row), so that a server holding either can read
-- every record; both are deleted when every record key is re-wrapped. cursor_* is how far the
-- re-wrapping of record keys into this generation has come.
CREATE TABLE IF NOT EXISTS master_keys (
    generation      INTEGER PRIMARY KEY,
    key_id          TEXT NOT NULL UNIQUE,
    index_key       BLOB NOT NULL,
    next_key        BLOB,
    previous        BLOB,
    cursor_person   TEXT,
    cursor_case     TEXT,
    started_at      TEXT NOT NULL,
    finished_at     TEXT
);

-- Every key that has signed tree heads, certificates and notices, published with the time it
-- signed from and, once another took over, until (GET /api/v1/keys).
CREATE TABLE IF NOT EXISTS signing_keys (
    key_id          TEXT PRIMARY KEY,
    algorithm       TEXT NOT NULL,
    public_key      TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_until     TEXT
);
