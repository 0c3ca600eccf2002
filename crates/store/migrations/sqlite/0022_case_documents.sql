-- Migration 22: an agency's document number (案号) is kept as a keyed MAC, not in plaintext.
-- `case_numbers` held every judgment's and penalty decision's number beside the case code; a
-- judgment's number is public (it heads the published judgment, which names the defendant), so
-- a copy of the database could join a pseudonymous person to a published judgment by it, and from
-- there to every other (sealed) record of theirs. The number's only use is to find a case code by
-- (agency, number) (一案一码), which a MAC under the index key answers as well
-- (`Keys::document_mac`, the same for ever: rotations keep the index key).
-- The rows of `case_numbers` move here at the next opening with the key
-- (`SqlStore::convert_case_numbers`), which empties that table; nothing writes to it any more.
CREATE TABLE IF NOT EXISTS case_documents (
    agency_code     TEXT NOT NULL,
    document_mac    BLOB NOT NULL,
    case_code       TEXT NOT NULL,
    PRIMARY KEY (agency_code, document_mac)
) WITHOUT ROWID;
