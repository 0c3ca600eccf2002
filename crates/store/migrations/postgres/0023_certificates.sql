-- Migration 23: a kept certificate's file is sealed at rest (`Keys::seal_detail`, context
-- `certificate/<number>`). It held in clear the person's name, the masked identity number and
-- the identity hash — an unkeyed hash that about 36,500 guesses of the hidden birth date invert —
-- beside the person key: a copy of the database named the person behind a pseudonymous key, and
-- through it every sealed record of theirs. Files kept before are sealed at the next opening with
-- the key (`SqlStore::seal_kept_certificates`), found by this index, empty once they are.
CREATE INDEX IF NOT EXISTS certificates_unsealed ON certificates (number) WHERE sealed = 0;
