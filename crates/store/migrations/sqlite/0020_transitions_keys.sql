-- Person keys as bytes in `transitions` (see 0020_records_keys.sql): the column `person` keeps the
-- 32 bytes of the person key instead of its 64 hex characters, and `transition_id` the 18 bytes its
-- 36 lowercase hex digits spell (read back as the same text, `sql::rows::person_hex`: it names the
-- sealed evidence and notice facts, `transition/<id>`, and the audit entry); an id that is not
-- lowercase hex of even length fails the conversion (NOT NULL) rather than being changed. Rebuilt with its rows, sequence
-- numbers and AUTOINCREMENT counter (also when the table is empty); the indexes are in 0020_keys.sql.
-- Run only over a database whose `transitions` has no `person` yet (crate::schema).
CREATE TABLE transitions_v20 (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    transition_id   BLOB NOT NULL,
    person          BLOB NOT NULL,
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
INSERT INTO transitions_v20 (seq, transition_id, person, case_code, from_state, to_state, state_date, state_trigger,
                             rule, policy, policy_version, actor, at, reasons, notice_facts)
    SELECT seq, CASE WHEN transition_id = lower(transition_id) THEN unhex(transition_id) END,
           CASE WHEN person_key = lower(person_key) THEN unhex(person_key) END, case_code,
           from_state, to_state, state_date, state_trigger, rule, policy, policy_version, actor, at, reasons,
           notice_facts
    FROM transitions ORDER BY seq;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'transitions_v20', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'transitions_v20');
UPDATE sqlite_sequence SET seq = max(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'transitions'), 0))
    WHERE name = 'transitions_v20';
DROP TABLE transitions;
ALTER TABLE transitions_v20 RENAME TO transitions;
