-- Which master key this database was made with: a keyed hash of a fixed label, never the key.
-- Opening the store with another key is refused, so that a missing or mistyped key file cannot
-- start a second, unreadable set of records beside the first.
CREATE TABLE key_check (
    name TEXT PRIMARY KEY,
    check_value TEXT NOT NULL
);
