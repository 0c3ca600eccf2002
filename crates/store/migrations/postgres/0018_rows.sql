-- Fewer bytes per record (issue 20, docs/storage.md "Bytes per record"): the rows a decision writes
-- beside the events, as measured by `fengcun-bench storage`. Nothing is lost: every column that is
-- dropped here is read from the row that already held the same value.
--
-- This file converts a database from the shape before migration 18; the store runs it only when
-- `notices` has no `transition_seq` yet (crate::schema), so that a database whose version rows
-- were set back (as tests of older databases do) is not converted twice. The indexes are in
-- 0018_rows_indexes.sql, run every time.

-- Notices: one row per (transition, recipient). The person key and case code were the transition's
-- (every notice is made with its transition, `decisions.rs`), and the transition was named by its
-- 36-hex-digit id: a notice now names its transition by the transition's sequence number, and its
-- record through it. A notice whose transition is missing or about another record fails the
-- conversion (NOT NULL) instead of being dropped. Rebuilt rather than altered, so that the
-- dropped columns leave no dead space behind.
CREATE TABLE notices_v18 (
    notice_id       TEXT PRIMARY KEY,
    transition_seq  BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    acknowledged_at TEXT
);
INSERT INTO notices_v18 (notice_id, transition_seq, kind, recipient, status, attempts, next_attempt_at, last_error,
                         created_at, delivered_at, acknowledged_at)
    SELECT n.notice_id,
           CASE WHEN t.person_key = n.person_key AND t.case_code = n.case_code THEN t.seq END,
           n.kind, n.recipient, n.status, n.attempts, n.next_attempt_at, n.last_error,
           n.created_at, n.delivered_at, n.acknowledged_at
    FROM notices n LEFT JOIN transitions t ON t.transition_id = n.transition_id
    ORDER BY n.created_at, n.notice_id;
DROP TABLE notices;
ALTER TABLE notices_v18 RENAME TO notices;
ALTER INDEX notices_v18_pkey RENAME TO notices_pkey;

-- Transitions: nothing looks a transition up by its id any more (notices name its sequence
-- number), so its unique index goes; the id stays in the row (it names the sealed evidence and
-- notice facts, and the audit entry).
ALTER TABLE transitions DROP CONSTRAINT IF EXISTS transitions_transition_id_key;

-- Case numbers: unchanged here (SQLite makes them a table without rowid; PostgreSQL's heap and
-- primary key are what it has).
