-- SQLite. Controlled disclosure (docs/disclosure.md): console users, sessions, agency keys,
-- penetration requests, grants and issued certificates. Secrets (passwords, session tokens, keys)
-- are stored only as hashes.
CREATE TABLE users (
    username        TEXT PRIMARY KEY,
    password_hash   TEXT NOT NULL,          -- argon2id PHC string
    role            TEXT NOT NULL,
    requester_kind  TEXT,
    agency          TEXT,
    person_key      TEXT,                   -- for a person: the keyed hash of their identity
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    csrf_hash       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (username);

CREATE TABLE api_keys (
    key_id          TEXT PRIMARY KEY,
    key_hash        TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    requester_kind  TEXT,
    agency          TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_by      TEXT
);

CREATE TABLE penetration_requests (
    request_id      TEXT PRIMARY KEY,
    person_key      TEXT NOT NULL,
    requester       TEXT NOT NULL,
    requester_kind  TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    post            TEXT,
    basis           TEXT NOT NULL,          -- the legal basis: a document reference
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL,          -- pending / approved / refused
    decided_by      TEXT,
    decision_reason TEXT,
    grant_id        TEXT,
    created_at      TEXT NOT NULL,
    decided_at      TEXT
);
CREATE INDEX requests_by_status ON penetration_requests (status, created_at);

CREATE TABLE grants (
    grant_id        TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL,
    person_key      TEXT NOT NULL,
    requester       TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    post            TEXT,
    not_before      TEXT NOT NULL,
    expires         TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_by      TEXT
);
CREATE INDEX grants_by_requester ON grants (requester, person_key);

CREATE TABLE certificates (
    number          TEXT PRIMARY KEY,
    person_key      TEXT NOT NULL,
    result          TEXT NOT NULL,
    issued_by       TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    file            BLOB NOT NULL           -- the signed certificate file, as issued
);
CREATE INDEX certificates_by_person ON certificates (person_key);

-- Look-up by case code (一案一码) across the people of a case.
CREATE INDEX records_by_case ON records (case_code);
