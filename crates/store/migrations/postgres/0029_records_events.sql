-- Migration 29 (docs/storage.md "Events on disk"; issue 20): a record's list of events kept in
-- its own row (`records.events`) instead of a table of its own (`record_events`, migration 27).
-- Both were keyed by the record — (person, case code) — so each batch wrote two rows at two random
-- places for every record it touched, and read two. The list moves by the conversion before this
-- file (0029_records_events_column.sql, run once, over a `records` without the column); this file
-- itself changes nothing, so that it tolerates running again over a database whose
-- schema_version was set back.
SELECT 1;
