-- The read side of a record's life (docs/operations.md: GET /api/v1/records, /records/{case_code},
-- /stats): every count and page is answered from an index, never by reading every row. Written to
-- run again over a database whose schema_version was set back (as a test of an older database
-- does): every statement tolerates what it made before.

-- Records in case-code order, the list's keyset (case code, then person key); it also finds the
-- records of a case, as the index on the case code alone did.
DROP INDEX IF EXISTS records_by_case;
CREATE INDEX IF NOT EXISTS records_by_case ON records (case_code, person_key);

-- The records an agency holds (sent one of their events): the list's `agency` filter, who may read
-- a timeline, and records by agency in the stats. The key follows arrival order within an agency
-- (case codes are assigned in order of filing), so a batch's inserts touch few pages.
CREATE INDEX IF NOT EXISTS events_by_agency ON events (agency_code, case_code, person_key);

-- Agency notices not acknowledged, by age (the stats' 3 and 7 days); covering, with the recipient.
CREATE INDEX IF NOT EXISTS notices_by_age ON notices (status, created_at, recipient);

-- Live grants: those not revoked, by expiry.
CREATE INDEX IF NOT EXISTS grants_live ON grants (expires, not_before) WHERE revoked_at IS NULL;
