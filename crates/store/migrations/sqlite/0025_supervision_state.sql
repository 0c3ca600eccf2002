-- The supervision engine's state (docs/supervision.md, "After a restart"): the rules' windows,
-- indexes and flags not yet due over the audit entries read so far, as the server's rounds leave
-- it, so that a restarted server goes on from `next_seq` instead of reading the whole log again.
-- One row. A cache, not a record: it is taken up only under the rules it was taken under, the log
-- it was read from is the signed audit log itself, and `fengcun audit flags` recomputes any
-- period from that log. Written to run again over a database whose schema_version was set back.
CREATE TABLE IF NOT EXISTS supervision_state (
    id              INTEGER PRIMARY KEY,
    next_seq        INTEGER NOT NULL,
    state           BLOB NOT NULL,
    saved_at        TEXT NOT NULL
);
