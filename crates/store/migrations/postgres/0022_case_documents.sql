-- Migration 22: an agency's document number (案号) is kept as a keyed MAC, not in plaintext
-- (crates/store/migrations/sqlite/0022_case_documents.sql says why).
CREATE TABLE IF NOT EXISTS case_documents (
    agency_code     TEXT NOT NULL,
    document_mac    BYTEA NOT NULL,
    case_code       TEXT NOT NULL,
    PRIMARY KEY (agency_code, document_mac)
);
