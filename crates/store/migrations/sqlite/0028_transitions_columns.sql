-- Migration 28 (0028_policy_refs.sql): a transition's policy as a number in `policy_refs` and its
-- time as seconds. Run only over a table without them (schema.rs `Conversion`); nothing is
-- rewritten.
ALTER TABLE transitions ADD COLUMN policy_ref INTEGER;
ALTER TABLE transitions ADD COLUMN at_s INTEGER;
