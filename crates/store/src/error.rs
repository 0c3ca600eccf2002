//! The storage layer's one error enum.

use fengcun_domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("line {line}: {error}")]
    Invalid { line: usize, error: FieldError },
    #[error("line {line}: idempotency key `{key}` was already used for a different event")]
    Conflict { line: usize, key: String },
    #[error(
        "line {line}: document number `{document}` of agency `{agency}` belongs to case {existing}, not {given}"
    )]
    CaseNumberConflict {
        line: usize,
        agency: String,
        document: String,
        existing: String,
        given: String,
    },
    #[error(
        "line {line}: no case code given, and document number `{document}` of agency `{agency}` is not mapped to one"
    )]
    UnknownDocument {
        line: usize,
        agency: String,
        document: String,
    },
    #[error(
        "policy {name} version {version} is recorded with a different document: give the changed policy a new version"
    )]
    PolicyVersion { name: String, version: String },
    #[error(
        "{records} record(s) of this batch were stored meanwhile under another data key: nothing of the batch is written; send it again"
    )]
    DataKeyChanged { records: u64 },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("stored data cannot be decrypted or read: {0}")]
    Corrupt(String),
    /// Two transitions of one case drew the same digits for their notices' numbers: the batch is
    /// refused whole, and sent again draws new ones (`decisions.rs`, `refuse_a_number_in_use`).
    #[error(
        "a transition of case {case_code} drew the notice number of another one of its transitions: nothing of this batch was written; send it again"
    )]
    NoticeNumberTaken { case_code: String },
    /// A stored code (a state, a status, a kind, a role) that names none of its enum's values:
    /// a row written by another version, or altered.
    #[error("stored {column} `{value}` is none this version knows")]
    UnknownValue { column: &'static str, value: String },
    #[error("encryption: {0}")]
    Crypto(String),
    #[error(
        "the master key given is not the one this database was made with: give the database's own key (master_key_file, FENGCUN_MASTER_KEY_FILE or FENGCUN_MASTER_KEY); a new key would start a second, unreadable set of records"
    )]
    WrongMasterKey,
    /// The database was migrated by a newer build: this one does not know how its data is kept
    /// (e.g. since migration 27 a build before it would store events the newer build cannot see).
    #[error(
        "the database has schema version {found}, written by a newer build of fengcun; this build knows versions up to {known}: run the newer build, or restore a backup from before the upgrade"
    )]
    NewerSchema { found: i64, known: i64 },
    /// A master key rotation cannot go on as asked (another one unfinished, a retired key).
    #[error("master key rotation: {0}")]
    KeyRotation(String),
    /// A backup that cannot be made as asked.
    #[error("backup: {0}")]
    Backup(String),
    #[error(
        "the audit log is built with {log_name}, not {given_name}: no tree head was signed",
        log_name = hash_name(*log),
        given_name = hash_name(*given)
    )]
    AuditHash {
        log: fengcun_crypto::Suite,
        given: fengcun_crypto::Suite,
    },
}

fn hash_name(suite: fengcun_crypto::Suite) -> &'static str {
    match suite {
        fengcun_crypto::Suite::Sm => "SM3",
        fengcun_crypto::Suite::International => "SHA-256",
    }
}

impl StoreError {
    /// What kind of error this is, for logs, audit entries and reports that must not carry the
    /// message (it can name stored content): the variant's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Database(_) => "database",
            Self::UnsupportedUrl(_) => "unsupported_url",
            Self::Invalid { .. } => "invalid",
            Self::Conflict { .. } => "conflict",
            Self::CaseNumberConflict { .. } => "case_number_conflict",
            Self::UnknownDocument { .. } => "unknown_document",
            Self::PolicyVersion { .. } => "policy_version",
            Self::NotFound(_) => "not_found",
            Self::Corrupt(_) => "corrupt",
            Self::NoticeNumberTaken { .. } => "notice_number_taken",
            Self::UnknownValue { .. } => "unknown_value",
            Self::Crypto(_) => "crypto",
            Self::WrongMasterKey => "wrong_master_key",
            Self::NewerSchema { .. } => "newer_schema",
            Self::KeyRotation(_) => "key_rotation",
            Self::Backup(_) => "backup",
            Self::DataKeyChanged { .. } => "data_key_changed",
            Self::AuditHash { .. } => "audit_hash",
        }
    }

    /// The input line an error is about, for callers that report per line.
    /// Whether the database could not be reached or dropped the connection (it is stopped,
    /// restarting or unreachable), rather than refusing what was asked: a caller may try again
    /// once it answers, and nothing half-done was kept (each transaction commits whole or not).
    /// Connection errors, a pool that could not connect in time, and PostgreSQL's connection
    /// exceptions (SQLSTATE class 08), shutdowns (57P01–57P03) and too many connections (53300).
    pub fn is_unavailable(&self) -> bool {
        let Self::Database(error) = self else {
            return false;
        };
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Protocol(message) => {
                // A connection cut in the middle of a message.
                message.contains("unexpected end of file") || message.contains("EOF")
            }
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
            }),
            _ => false,
        }
    }

    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Invalid { line, .. }
            | Self::Conflict { line, .. }
            | Self::CaseNumberConflict { line, .. }
            | Self::UnknownDocument { line, .. } => Some(*line),
            _ => None,
        }
    }
}
