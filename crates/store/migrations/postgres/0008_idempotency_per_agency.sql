-- Idempotency keys are the sending agency's own (docs/events.md): unique per (agency, key), no
-- longer across the platform, so that one agency's key neither collides with another's nor tells it
-- that the other's event exists.
ALTER TABLE events DROP CONSTRAINT events_idempotency_key_key;
ALTER TABLE events ADD CONSTRAINT events_agency_idempotency_key UNIQUE (agency_code, idempotency_key);
