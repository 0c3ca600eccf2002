-- Migration 20 (person keys as bytes) converts `records`, `transitions` and `holdings` in
-- 0020_records_keys.sql, 0020_transitions_keys.sql and 0020_holdings_keys.sql; their indexes keep
-- their names and follow the renamed column. Run every time migration 20 is applied: the indexes as
-- they are after the conversion, made again if missing.
CREATE INDEX IF NOT EXISTS records_by_state ON records (state);
CREATE INDEX IF NOT EXISTS records_pending ON records (state_date) WHERE state = 'pending_seal';
CREATE INDEX IF NOT EXISTS records_by_case ON records (case_code, person);
CREATE INDEX IF NOT EXISTS transitions_by_record ON transitions (case_code, person, seq);
