-- Who is behind a key and whom a person's account or a request is about (docs/disclosure.md).
-- A stored key names the user who owns it: approval compares owners, not principals.
ALTER TABLE api_keys ADD COLUMN owner TEXT;
-- A person's account keeps the name they were enrolled with (as on the identity card), sealed
-- under the master key: certificates are issued in that name.
ALTER TABLE users ADD COLUMN name_sealed BLOB;
CREATE INDEX users_by_person ON users (person_key);
-- The person a request is about (identity number and the name the requester gave), sealed under
-- the master key: shown masked to the requester, in full to the approver who must judge.
ALTER TABLE penetration_requests ADD COLUMN person_sealed BLOB;
