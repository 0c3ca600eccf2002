-- A notice's number is made from its transition (issue 20, docs/storage.md "Notices on disk"):
-- `FC-<KIND>-<case code>-<eight hex digits of the transition id's random part>-<position>`, the
-- position being the notice's place among its transition's recipients, from 1 (`decisions.rs`).
-- Each row kept that number in full (about 42 bytes) and a second tree of it (its primary key):
-- about 250 bytes a record with `notices_by_transition`, which the new primary key replaces. Now a
-- notice is keyed by (transition_seq, position), its primary key, and the number is made again as
-- it is read and resolved through the transition as it is looked up (`sql/notices.rs`).
--
-- Nothing is lost: a stored number that is not the one its row makes (a notice issued in another
-- form, or whose transition is missing) is kept as it was issued in `number`, found through
-- `notices_by_number`; `number` is NULL for every other row. A number its transition makes keeps
-- its last part as its position; one kept as issued takes the places after its transition's
-- highest, in the order of the numbers.
--
-- The notice's times (made, next attempt, delivered, acknowledged) are kept as whole seconds
-- since the Unix epoch instead of their 20 characters of text, here and in the indexes
-- `notices_by_status` and `notices_to_deliver`.
--
-- This file converts a database from the shape before migration 26; the store runs it only when
-- `notices` has no `position` yet (crate::schema). The indexes are in 0026_notice_indexes.sql.
-- Times are kept as whole seconds since the Unix epoch: every time the store wrote here is its
-- text form of a time rounded to the second (`rows::ts`, since the first release), which the
-- seconds give back exactly (`rows::time_text`). A time in any other form would not come back as
-- it was: the conversion stops on it and changes nothing, with an error naming the notice (the
-- cast below of its number and these words to a number, made only for such a row; no temporary
-- table, which a hardened database may not allow).
SELECT CAST(notice_id || ': a time not in the stored form (notice_time_not_in_the_stored_form)' AS BIGINT)
    FROM notices
    WHERE (next_attempt_at IS NOT NULL AND to_char(CAST(next_attempt_at AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') IS DISTINCT FROM next_attempt_at)
       OR (created_at IS NOT NULL AND to_char(CAST(created_at AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') IS DISTINCT FROM created_at)
       OR (delivered_at IS NOT NULL AND to_char(CAST(delivered_at AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') IS DISTINCT FROM delivered_at)
       OR (acknowledged_at IS NOT NULL AND to_char(CAST(acknowledged_at AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') IS DISTINCT FROM acknowledged_at)
    LIMIT 1;

CREATE TABLE notices_v26 (
    transition_seq  BIGINT NOT NULL,
    position        BIGINT NOT NULL,
    number          TEXT,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    acknowledged_at BIGINT,
    PRIMARY KEY (transition_seq, position)
);
INSERT INTO notices_v26 (transition_seq, position, number, kind, recipient, status, attempts, next_attempt_at,
                         last_error, created_at, delivered_at, acknowledged_at)
    SELECT transition_seq,
           COALESCE(made, COALESCE(MAX(made) OVER (PARTITION BY transition_seq), 0)
                          + ROW_NUMBER() OVER (PARTITION BY transition_seq, made IS NULL ORDER BY notice_id)),
           CASE WHEN made IS NULL THEN notice_id END,
           kind, recipient, status, attempts, CAST(extract(epoch FROM CAST(next_attempt_at AS timestamptz)) AS BIGINT), last_error, CAST(extract(epoch FROM CAST(created_at AS timestamptz)) AS BIGINT),
           CAST(extract(epoch FROM CAST(delivered_at AS timestamptz)) AS BIGINT), CAST(extract(epoch FROM CAST(acknowledged_at AS timestamptz)) AS BIGINT)
    FROM (SELECT n.*,
                 CASE WHEN length(n.last_digits) BETWEEN 1 AND 9 THEN
                     CASE WHEN n.notice_id = 'FC-' || upper(n.kind) || '-' || t.case_code || '-' || upper(substr(encode(t.transition_id, 'hex'), 21, 8))
                                             || '-' || CAST(n.last_digits AS BIGINT)
                          THEN CAST(n.last_digits AS BIGINT) END
                 END AS made
          FROM (SELECT notices.*, substring(notice_id from '[0-9]*$') AS last_digits FROM notices) n
               LEFT JOIN transitions t ON t.seq = n.transition_seq) AS old
    ORDER BY transition_seq, 2;
DROP TABLE notices;
ALTER TABLE notices_v26 RENAME TO notices;
ALTER INDEX notices_v26_pkey RENAME TO notices_pkey;
