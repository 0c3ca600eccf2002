-- Migration 19's columns are added by its conversion (0019_audit_rows.sql), once; nothing more.
SELECT 1;
