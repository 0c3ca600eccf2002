-- Indexes whose keys follow the order in which rows arrive, so that a batch's inserts touch few
-- pages (docs/benchmarks.md, ingest). A key that starts with the pseudonymous person key (a keyed
-- hash, random by design) puts every new row on a page of its own: each one is another page to
-- write to the log and to copy back at the checkpoint.

-- Records by state: the state alone (new rows sort by rowid within it), and the scheduler's
-- pending seals by date in an index of their own; (state, state_date) scattered every record.
DROP INDEX records_by_state;
CREATE INDEX records_by_state ON records (state);
CREATE INDEX records_pending ON records (state_date) WHERE state = 'pending_seal';

-- A record's transitions: by case code first, which is assigned in order of filing.
DROP INDEX transitions_by_record;
CREATE INDEX transitions_by_record ON transitions (case_code, person_key, seq);

-- Nothing looks audit entries up by subject (a record's transitions are found through
-- transitions_by_record), and every transition's subject, `record:<person key>/<case code>`, put a
-- random page in this index. A feature that lists entries by subject adds the index it needs.
DROP INDEX audit_by_subject;
