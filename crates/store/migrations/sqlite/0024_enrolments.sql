-- Enrolment at a counter by two clerks (docs/person.md, "Two clerks"): one clerk opens an
-- enrolment from the identity card in front of them, a second clerk of the same agency checks the
-- card again — typing its number and name — and only then is an activation code made, shown to the
-- second clerk. Neither clerk alone can open a person's account, and with it the person's sealed
-- records. Written to run again over a database whose schema_version was set back.
CREATE TABLE IF NOT EXISTS enrolments (
    enrolment_id    TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    person_key      TEXT NOT NULL,
    -- A keyed digest of the name the first clerk typed (never the name): the second clerk's must
    -- be the same.
    name_digest     TEXT NOT NULL,
    agency          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    confirmed_by    TEXT,
    confirmed_at    TEXT,
    -- Confirmations refused for another number or name: at the third the enrolment is closed.
    refusals        INTEGER NOT NULL DEFAULT 0,
    -- Closed before it was confirmed: three refusals, or the person's account confirmed through
    -- another enrolment. A closed enrolment is never confirmed.
    closed_at       TEXT
);
-- The counter's list of enrolments waiting for the second clerk.
CREATE INDEX IF NOT EXISTS enrolments_waiting ON enrolments (agency, created_at)
    WHERE confirmed_at IS NULL AND closed_at IS NULL;
