-- The person's own portal (docs/person.md). Written to run again over a database whose
-- schema_version was set back: every statement tolerates what it made before.

-- A person's account has the role `person` (it was a requester of kind `person`): the portal's
-- pages and endpoints answer that role alone, with the account's person key.
UPDATE users SET role = 'person' WHERE role = 'requester' AND requester_kind = 'person';

-- One-time activation codes, made by a clerk at a counter after checking the identity card: stored
-- as a digest of the code, for one account (username, person key); valid until expires_at, used
-- once (used_at). A newer code for the same account ends the older ones (used_at set too).
CREATE TABLE IF NOT EXISTS activation_codes (
    code_hash       TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    person_key      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);
CREATE INDEX IF NOT EXISTS activation_codes_by_user ON activation_codes (username);
CREATE INDEX IF NOT EXISTS users_by_person ON users (person_key);
-- (This migration also made notices_by_person (person_key, recipient) for the portal's notices;
-- migration 18 took the person key out of notices and finds a person's notices through their
-- records and transitions, and dropped that index. It is no longer made here, so that this file
-- still applies again over a database converted by migration 18.)
