-- Migration 19 (docs/storage.md "The audit log's rows"): an audit entry's detail is kept
-- compressed (zstd with the audit dictionary, compress.rs; not sealed: the log is not secret) and a
-- record's subject (`record:<64 hex person key>/<case code>`) as its 32 key bytes and case code,
-- and its time as seconds since the epoch when they read back as the same text.
-- Run only over a table without them (schema.rs `Conversion`); the rows of before are rewritten in
-- Rust when the store opens (sql/audit.rs `convert_audit_rows`), each read back as it was until
-- then. A converted row keeps `detail` empty, `subject` NULL and `at` empty; the leaf hash is unchanged.
ALTER TABLE audit_entries ADD COLUMN detail_packed BYTEA;
ALTER TABLE audit_entries ADD COLUMN subject_packed BYTEA;
ALTER TABLE audit_entries ADD COLUMN at_s BIGINT;
