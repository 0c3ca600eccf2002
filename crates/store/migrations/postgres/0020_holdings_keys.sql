-- Person keys as bytes in `holdings` (issue 20, docs/storage.md "Person keys on disk"): the column
-- `person` keeps the 32 bytes the person key's 64 lowercase hex characters spell; the store reads
-- them back as the same hex (`sql::rows::person_hex`). A key that is not lowercase hex (none the
-- store makes) fails the conversion (NOT NULL) rather than being changed. The table is rewritten
-- and its indexes rebuilt on the new column, under their names. Run only over a database whose
-- `holdings` has no `person` yet (crate::schema).
ALTER TABLE holdings RENAME COLUMN person_key TO person;
ALTER TABLE holdings ALTER COLUMN person TYPE BYTEA
    USING decode(CASE WHEN person = lower(person) THEN person END, 'hex');
