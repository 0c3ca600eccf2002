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
-- conversion (NOT NULL) instead of being dropped.
CREATE TABLE notices_v18 (
    notice_id       TEXT PRIMARY KEY,
    transition_seq  INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
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
    ORDER BY n.rowid;
DROP TABLE notices;
ALTER TABLE notices_v18 RENAME TO notices;

-- Transitions: nothing looks a transition up by its id any more (notices name its sequence
-- number), so its unique index goes; the id stays in the row (it names the sealed evidence and
-- notice facts, and the audit entry). SQLite cannot drop a column's UNIQUE constraint: the table
-- is rebuilt with its rows, sequence numbers, AUTOINCREMENT counter and index, as 0008 did events.
CREATE TABLE transitions_v18 (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    transition_id   TEXT NOT NULL,
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    state_date      TEXT,
    state_trigger   TEXT,
    rule            TEXT,
    policy          TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    actor           TEXT NOT NULL,
    at              TEXT NOT NULL,
    reasons         BLOB NOT NULL,
    notice_facts    BLOB
);
INSERT INTO transitions_v18 (seq, transition_id, person_key, case_code, from_state, to_state, state_date, state_trigger,
                             rule, policy, policy_version, actor, at, reasons, notice_facts)
    SELECT seq, transition_id, person_key, case_code, from_state, to_state, state_date, state_trigger,
           rule, policy, policy_version, actor, at, reasons, notice_facts
    FROM transitions ORDER BY seq;
UPDATE sqlite_sequence SET seq = max(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'transitions'), 0))
    WHERE name = 'transitions_v18';
DROP TABLE transitions;
ALTER TABLE transitions_v18 RENAME TO transitions;
CREATE INDEX transitions_by_record ON transitions (case_code, person_key, seq);

-- Case numbers: looked up by their primary key alone (agency, document number); as a table
-- without rowid the key is the table, instead of a table and an index holding the same columns.
-- (PostgreSQL has no such tables: its case_numbers stay a heap and its primary key.)
CREATE TABLE case_numbers_v18 (
    agency_code     TEXT NOT NULL,
    document_number TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    PRIMARY KEY (agency_code, document_number)
) WITHOUT ROWID;
INSERT INTO case_numbers_v18 (agency_code, document_number, case_code)
    SELECT agency_code, document_number, case_code FROM case_numbers;
DROP TABLE case_numbers;
ALTER TABLE case_numbers_v18 RENAME TO case_numbers;
