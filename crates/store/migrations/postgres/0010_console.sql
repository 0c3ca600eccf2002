-- The console (docs/console.md). Written to run again over a database whose schema_version was set
-- back: every statement tolerates what it made before.

-- A user's console language (`zh` or `en`), kept across logins and browsers. A table of its own, so
-- that a user without a choice has no row and the users table is left as it is.
CREATE TABLE IF NOT EXISTS user_settings (
    username        TEXT PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    language        TEXT NOT NULL
);

-- The audit page's filters (docs/audit.md): by actor and by kind, newest first; by time. The
-- subject has its index already (audit_by_subject).
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit_entries (actor, seq);
CREATE INDEX IF NOT EXISTS audit_by_kind ON audit_entries (kind, seq);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_entries (at, seq);
