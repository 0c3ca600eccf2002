-- fengcun core schema, PostgreSQL. Every per-person table carries person_key (a keyed hash of the
-- person's identity, never the identity itself) so that a distributed PostgreSQL could shard on it.
CREATE TABLE records (
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    state           TEXT NOT NULL,
    state_date      TEXT,
    state_trigger   TEXT,
    policy          TEXT,
    policy_version  TEXT,
    convicted       BIGINT NOT NULL DEFAULT 0,
    facts           BYTEA,
    data_key        BYTEA NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (person_key, case_code)
);
CREATE INDEX records_by_state ON records (state, state_date);

CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    content_hash    BYTEA NOT NULL,
    kind            TEXT NOT NULL,
    event_date      TEXT NOT NULL,
    agency_code     TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    body            BYTEA NOT NULL
);
CREATE INDEX events_by_record ON events (person_key, case_code, seq);

CREATE TABLE case_numbers (
    agency_code     TEXT NOT NULL,
    document_number TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    PRIMARY KEY (agency_code, document_number)
);

CREATE TABLE transitions (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transition_id   TEXT NOT NULL UNIQUE,
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    state_date      TEXT,
    state_trigger   TEXT,
    rule            TEXT,
    policy          TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    actor           TEXT NOT NULL,
    at              TEXT NOT NULL,
    -- The evidence of the decision: the facts it was taken on and the date, sealed; with the policy
    -- version (table policies) the explained decision is derived from it again, identically.
    reasons         BYTEA NOT NULL,
    -- What the notices of this transition say, sealed once; each notice is rendered from it.
    notice_facts    BYTEA
);
CREATE INDEX transitions_by_record ON transitions (person_key, case_code, seq);

CREATE TABLE notices (
    notice_id       TEXT PRIMARY KEY,
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    transition_id   TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    acknowledged_at TEXT
);
CREATE INDEX notices_due ON notices (status, next_attempt_at);
-- Notices are listed by case (GET /api/v1/notices?case_code=); nothing looks them up by person.
CREATE INDEX notices_by_case ON notices (case_code);

CREATE TABLE agencies (
    agency_code     TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    name            TEXT,
    endpoint        TEXT
);

-- Every policy version that ever decided a transition, so that its explanation can be derived again.
CREATE TABLE policies (
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    source_text     TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE policy_in_force (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    source_text     TEXT NOT NULL,
    since           TEXT NOT NULL
);
