//! Persistence behind one trait, with two real backends: an embedded SQLite file (the default,
//! nothing to install) and PostgreSQL. Both run the same SQL implementation (`SqlStore`, over
//! sqlx's `Any` driver) with a schema and migrations per backend (`migrations/`).
//!
//! The store orchestrates; the decisions are the pure lifecycle's. Details of records — events,
//! facts, decisions, reasons, notices — are encrypted at rest with a key per record, wrapped by the
//! master key; the person's identity is stored only as a keyed hash.

mod access;
mod audit;
mod code;
mod compress;
mod corrections;
mod decisions;
mod error;
mod ingest;
mod keys;
mod notices;
mod pipeline;
mod record_events;
mod records;
mod schema;
mod services;
mod sql;
#[cfg(test)]
mod testing;
mod types;

pub use access::{
    AccessStore, Activation, ActivationRow, CertificateOutcome, CertificateRow, Confirmation,
    Decision, EnrolmentRow, EnrolmentState, GrantRow, KeyRow, OpenFacts, PersonRecord, Purpose,
    RequestPerson, RequestRow, RequestStatus, RequesterKind, Role, SessionRow, StateCode, UserRow,
};
pub use audit::{
    AuditEntry, AuditEvent, AuditFilter, AuditKind, AuditProblem, AuditReport, AuditStore, FlagRow,
    SigningKeyRow,
};
pub use code::UnknownCode;
pub use corrections::{CorrectionAnswer, CorrectionRow, CorrectionStatus, CorrectionStore};
pub use error::StoreError;
pub use keys::Keys;
pub use notices::*;
pub use pipeline::{BatchReport, Pipeline, Tally};
pub use records::RecordStore;
pub use sql::keyring::{RING_REFRESH, RotationStatus};
pub use sql::reads::{
    EventEntry, NoticeEntry, PersonShown, RecordFilter, RecordKey, RecordPage, RecordSummary,
    RecordTimeline, Stats, TransitionEntry,
};
pub use sql::{SqlStore, check_sqlite_backup, create_private};
pub use types::*;

/// The traits of every part of the store, for callers of their methods on a `dyn Store`:
/// `use fengcun_store::prelude::*;`.
pub mod prelude {
    pub use crate::{AccessStore, AuditStore, CorrectionStore, NoticeStore, RecordStore, Store};
}

/// The maps and sets a batch is decided with, keyed by MACs, person keys and case codes:
/// hashed with foldhash rather than the standard library's SipHash. A million records imported
/// in batches of 100,000 took 150–156 s instead of 179–190 s (docs/benchmarks.md). foldhash is
/// seeded at random per process, so keys cannot be prepared in advance to collide; it resists
/// that less than SipHash does, and what a collision could cost is a slower batch, never a
/// wrong one.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use async_trait::async_trait;
use fengcun_domain::ValidEvent;
use fengcun_policy::Policy;

/// Everything the platform keeps: the services over records (ingestion, the scheduler's round,
/// policy changes), with each kind of data behind a trait of its own ([`RecordStore`],
/// [`NoticeStore`], [`AccessStore`], [`AuditStore`]). One contract test suite
/// (`tests/contract.rs`) runs against every implementation. Callers import [`prelude`] to call
/// the methods of every part on a `dyn Store`.
#[async_trait]
pub trait Store:
    RecordStore + NoticeStore + AccessStore + AuditStore + CorrectionStore + Send + Sync
{
    /// Which backend, for logs and reports.
    fn backend(&self) -> Backend;

    /// Stores a batch of events atomically and brings every affected record up to date: all lines
    /// are stored (or found to be duplicates), or none is and the error names the line.
    async fn ingest(
        &self,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError>;

    /// What `ingest` would do, without storing anything (`fengcun import --dry-run`).
    async fn check(
        &self,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError>;

    /// Seals every pending record whose date has come, and decides again, under the policy in
    /// `ctx`, the records a change to that policy could not decide. Each record commits on its
    /// own: one that cannot be decided is logged, audited (`refresh_failed`) and reported in
    /// `failures`, and the others go on.
    async fn tick(&self, ctx: &Context) -> Result<TickReport, StoreError>;

    /// Re-evaluates every record under `policy`; with `apply`, puts it in force and makes the
    /// transitions, each record in a transaction of its own. Returns the difference either way.
    /// A record that cannot be decided is reported in `failures`; applied, it is also logged,
    /// audited (`refresh_failed`) and left for the scheduler to decide again under the policy
    /// now in force, at every round until it can.
    async fn change_policy(
        &self,
        policy: &Policy,
        ctx: &Context,
        apply: bool,
    ) -> Result<PolicyChange, StoreError>;

    /// Whether the database answers (a health check: one round trip, no table read).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the store a URL names: `sqlite://path` (created if absent) or `postgres://…`, and brings
/// its schema up to date.
pub async fn open(url: &str, keys: Keys) -> Result<SqlStore, StoreError> {
    SqlStore::connect(url, keys, true).await
}

/// Whether the PostgreSQL database at `url` holds tables already (a restore goes into an empty
/// one). Reads the catalogue only: nothing is created or migrated.
pub async fn postgres_holds_tables(url: &str) -> Result<bool, StoreError> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(tables > 0)
}

/// Opens a store for work that reads no sealed detail (verifying or signing the audit log, which
/// an auditor does without the master key): the key check is skipped and a throwaway key of
/// `suite` stands in, so anything that would decrypt fails.
pub async fn open_without_master_key(
    url: &str,
    suite: fengcun_crypto::Suite,
) -> Result<SqlStore, StoreError> {
    let keys = Keys::new(fengcun_crypto::MasterKey::generate().with_suite(suite));
    SqlStore::connect(url, keys, false).await
}
