-- Migration 19's columns are added by its conversion (0019_audit_rows.sql), once. The entries'
-- times are searched by their seconds (`audit_search`: since, until): audit_by_time over the text,
-- empty in a converted row, gives way to audit_by_second. Run again, each statement tolerates its
-- own result.
DROP INDEX IF EXISTS audit_by_time;
CREATE INDEX IF NOT EXISTS audit_by_second ON audit_entries (at_s, seq);
