-- The tamper-evident audit log (docs/audit.md). Every entry is a leaf of an RFC 6962 / 9162
-- Merkle tree; the leaf's bytes are rebuilt from the columns, so no column can change unseen.
CREATE TABLE audit_entries (
    seq             INTEGER PRIMARY KEY,   -- the leaf index, from 0, without gaps
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL,
    actor           TEXT NOT NULL,
    purpose         TEXT,
    outcome         TEXT NOT NULL,
    subject         TEXT,                  -- a record (person key / case code), a request, a grant…
    detail          TEXT NOT NULL,         -- JSON, as hashed
    leaf_hash       BLOB NOT NULL          -- as computed when appended
);
CREATE INDEX audit_by_subject ON audit_entries (subject, seq);

-- The roots of the complete subtrees at the log's current size: appending reads one row, not the log.
-- Every append updates this row first, which also serialises appenders on PostgreSQL.
CREATE TABLE audit_tip (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    size            INTEGER NOT NULL,
    nodes           BLOB NOT NULL
);
INSERT INTO audit_tip (id, size, nodes) VALUES (1, 0, X'');

-- Signed tree heads, each as the one-line JSON an outside party keeps (fengcun-ledger's format).
CREATE TABLE tree_heads (
    size            INTEGER NOT NULL,
    at              TEXT NOT NULL,
    line            TEXT NOT NULL,
    PRIMARY KEY (size, at)
);
