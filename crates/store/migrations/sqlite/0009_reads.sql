-- The read side of a record's life (docs/api.md: GET /api/v1/records, /records/{case_code}, /stats):
-- every count and page is answered from an index, never by reading every row.

-- Records in case-code order, the list's keyset (case code, then person key); it also finds the
-- records of a case, as the index on the case code alone did.
DROP INDEX records_by_case;
CREATE INDEX records_by_case ON records (case_code, person_key);

-- The records an agency holds (sent one of their events): the list's `agency` filter, who may read
-- a timeline, and records by agency in the stats. The key follows arrival order within an agency
-- (case codes are assigned in order of filing), so a batch's inserts touch few pages.
CREATE INDEX events_by_agency ON events (agency_code, case_code, person_key);

-- Agency notices not acknowledged, by age (the stats' 3 and 7 days); covering, with the recipient.
CREATE INDEX notices_by_age ON notices (status, created_at, recipient);

-- Live grants: those not revoked, by expiry.
CREATE INDEX grants_live ON grants (expires, not_before) WHERE revoked_at IS NULL;
