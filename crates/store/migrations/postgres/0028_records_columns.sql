-- Migration 28 (0028_policy_refs.sql): a record's policy as a number in `policy_refs` and the
-- time it was last written as seconds. Run only over a table without them (schema.rs
-- `Conversion`); nothing is rewritten.
ALTER TABLE records ADD COLUMN policy_ref BIGINT;
ALTER TABLE records ADD COLUMN updated_s BIGINT;
