-- Person keys as bytes in `transitions` (issue 20, docs/storage.md "Person keys on disk"): the column
-- `person` keeps the 32 bytes the person key's 64 lowercase hex characters spell; the store reads
-- them back as the same hex (`sql::rows::person_hex`). A key that is not lowercase hex (none the
-- store makes) fails the conversion (NOT NULL) rather than being changed. The table is rewritten
-- and its indexes rebuilt on the new column, under their names. Run only over a database whose
-- `transitions` has no `person` yet (crate::schema).
ALTER TABLE transitions RENAME COLUMN person_key TO person;
ALTER TABLE transitions ALTER COLUMN person TYPE BYTEA
    USING decode(CASE WHEN person = lower(person) THEN person END, 'hex');
-- The transition id likewise: the 18 bytes its 36 lowercase hex digits spell, read back as the
-- same text (it names the sealed evidence and notice facts, `transition/<id>`, and the audit entry).
ALTER TABLE transitions ALTER COLUMN transition_id TYPE BYTEA
    USING decode(CASE WHEN transition_id = lower(transition_id) THEN transition_id END, 'hex');
