-- The notices' indexes after migration 18 (0018_rows.sql), each for a query that reads it; run
-- every time migration 18 is applied, also over a database converted already, so every statement
-- tolerates what it made before. Checked with EXPLAIN QUERY PLAN (SQLite) and EXPLAIN (PostgreSQL).

-- Gone: notices_by_case (case_code) and notices_by_person (person_key, recipient). A record's
-- notices, a case's and a person's are found through their transitions: records' primary key
-- (person key first) or transitions_by_record (case code, person key), then notices_by_transition.
DROP INDEX IF EXISTS notices_by_case;
DROP INDEX IF EXISTS notices_by_person;
CREATE INDEX IF NOT EXISTS notices_by_transition ON notices (transition_seq);

-- Gone: notices_due (status, next_attempt_at) over every notice. The outbox claims notices
-- `status IN ('pending', 'retrying') AND next_attempt_at <= now`: an index of those alone, which
-- a delivered, acknowledged, failed or person's (available) notice leaves. The status stays first
-- in its key: SQLite's planner, without statistics, otherwise prefers notices_by_status (below) for
-- the status and sorts every pending notice.
DROP INDEX IF EXISTS notices_due;
CREATE INDEX IF NOT EXISTS notices_to_deliver ON notices (status, next_attempt_at)
    WHERE status IN ('pending', 'retrying');

-- Gone: notices_by_age (status, created_at, recipient): the recipient was read by no query. Its
-- place takes notices_by_status (status, created_at), which answers the stats' agency notices not
-- acknowledged by age (`status IN ('pending', 'retrying', 'delivered', 'failed') AND created_at <=
-- $1`), their failed deliveries (`status = 'failed'`) and the notices by status of the metrics
-- (`GROUP BY status`, a scan of this index rather than of the table).
DROP INDEX IF EXISTS notices_by_age;
CREATE INDEX IF NOT EXISTS notices_by_status ON notices (status, created_at);
