-- Migration 26's indexes (the table is converted by 0026_notice_numbers.sql). The primary key
-- (transition_seq, position) finds a transition's notices: `notices_by_transition` goes. The
-- lists' and the outbox's indexes are made again over the new table; a number kept as issued is
-- found by its own small index.
DROP INDEX IF EXISTS notices_by_transition;
CREATE INDEX IF NOT EXISTS notices_to_deliver ON notices (status, next_attempt_at)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX IF NOT EXISTS notices_by_status ON notices (status, created_at);
CREATE INDEX IF NOT EXISTS notices_by_number ON notices (number) WHERE number IS NOT NULL;
