-- Migration 23 (run when `certificates` has no column `sealed`): whether the kept file is sealed.
ALTER TABLE certificates ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
