//! Persistence behind one trait, with two real backends: an embedded SQLite file (the default,
//! nothing to install) and PostgreSQL. Both run the same SQL implementation (`SqlStore`, over
//! sqlx's `Any` driver) with a schema and migrations per backend (`migrations/`).
//!
//! The store orchestrates; the decisions are the pure lifecycle's. Details of records — events,
//! facts, decisions, reasons, notices — are encrypted at rest with a key per record, wrapped by the
//! master key; the person's identity is stored only as a keyed hash.

mod access;
mod apply;
mod audit;
mod error;
mod keys;
mod pipeline;
mod schema;
mod sql;
mod types;

pub use access::{
    CertificateRow, Decision, GrantRow, KeyRow, OpenFacts, PersonRecord, RequestPerson, RequestRow,
    SessionRow, UserRow,
};
pub use audit::{AuditEntry, AuditEvent, AuditKind, AuditProblem, AuditReport};
pub use error::StoreError;
pub use keys::Keys;
pub use pipeline::{BatchReport, Pipeline, Tally};
pub use sql::SqlStore;
pub use sql::reads::{
    EventEntry, NoticeEntry, PersonShown, RecordFilter, RecordKey, RecordPage, RecordSummary,
    RecordTimeline, Stats, TransitionEntry,
};
pub use types::*;

use async_trait::async_trait;
use fengcun_domain::ValidEvent;
use fengcun_policy::Policy;

/// Everything the platform keeps. One contract test suite (`tests/contract.rs`) runs against every
/// implementation.
#[async_trait]
pub trait Store: Send + Sync {
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

    /// The policy recorded as in force, if any: (name, version, document).
    async fn policy_in_force(&self) -> Result<Option<(String, String, String)>, StoreError>;

    /// One record, by case code and person identity (`id:<number>`).
    async fn record(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Option<RecordView>, StoreError>;

    /// Every record's state, in key order: what a rebuild must reproduce.
    async fn states(&self) -> Result<Vec<StateRow>, StoreError>;

    /// Every stored event in arrival order, decrypted, with its arrival time (for rebuilds).
    async fn events(&self) -> Result<Vec<(ValidEvent, jiff::Timestamp)>, StoreError>;

    async fn transitions(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Vec<TransitionView>, StoreError>;

    async fn notices(&self, filter: NoticeFilter) -> Result<Vec<NoticeView>, StoreError>;

    /// Agency notices due for (re)delivery, with the endpoint to deliver to, claimed until
    /// `lease_until`: no other outbox run, in this process or in another server on the same
    /// database, is handed them before then. A run that dies mid-delivery leaves its claims to
    /// expire; a run that finishes records each outcome with [`Store::record_delivery`].
    async fn claim_due_notices(
        &self,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    async fn record_delivery(
        &self,
        notice_id: &str,
        result: Delivery,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Puts a notice that ran out of attempts (`failed`) back in the outbox, due at `now`, for one
    /// more attempt; `actor` (an operator) is named in the log. False if it is not an agency
    /// notice in `failed`.
    async fn retry_failed_notice(
        &self,
        notice_id: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// The receiver confirms a notice with the token it was delivered with: only the agency the
    /// notice is addressed to (`agency`, its code), acting as `actor` (named in the log). False for
    /// an unknown notice, a wrong token or another agency's notice alike.
    async fn acknowledge(
        &self,
        notice_id: &str,
        agency: &str,
        token: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Configures an agency: its kind, name and endpoint, whatever was registered before.
    async fn set_agency(&self, agency: &AgencyEndpoint) -> Result<(), StoreError>;

    /// The kind an agency is registered with (configured, or by its first event), if it is.
    async fn agency_kind(&self, agency_code: &str) -> Result<Option<String>, StoreError>;

    /// Whether the database answers (a health check: one round trip, no table read).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Counts for metrics: records by state, events, notices by status.
    async fn counts(&self) -> Result<Counts, StoreError>;

    /// Appends audit events in a transaction of their own (actions that write nothing else, such
    /// as a look-up, still leave their trace before they answer).
    async fn audit(&self, events: &[AuditEvent], now: jiff::Timestamp) -> Result<(), StoreError>;

    /// Audit entries from `from` (in log order), at most `limit`.
    async fn audit_entries(&self, from: u64, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;

    /// Signs a tree head of the log as it stands and keeps it; without `force`, only if entries
    /// were appended since the last head.
    async fn sign_tree_head(
        &self,
        key: &fengcun_crypto::SigningKey,
        now: jiff::Timestamp,
        force: bool,
    ) -> Result<Option<fengcun_ledger::SignedTreeHead>, StoreError>;

    /// Every signed tree head kept, oldest first, as export lines.
    async fn tree_heads(&self) -> Result<Vec<String>, StoreError>;

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<fengcun_ledger::Hash>, StoreError>;

    /// The consistency proof from the tree of `old` entries to the tree of `new` entries.
    async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<fengcun_ledger::Hash>, StoreError>;

    /// Recomputes the audit log's tree from its rows and checks it against the stored heads and
    /// the `outside` head lines (signatures checked when `key` is given).
    async fn verify_audit(
        &self,
        outside: &[String],
        key: Option<&fengcun_crypto::VerifyingKey>,
    ) -> Result<AuditReport, StoreError>;

    // Controlled disclosure (docs/disclosure.md). Every change is written with its audit events
    // (`audit`) in one transaction.

    /// The pseudonymous key of an identity (`id:<number>`), as records are stored under.
    fn person_key(&self, identity: &str) -> String;

    /// The records of a person (by person key) or of a case. Facts are decrypted only where
    /// `open(person_key, state)` says so: a look-up never decrypts what it may not show, so a
    /// hidden sealed record costs no more than a record that does not exist.
    async fn records_of(
        &self,
        person_key: Option<&str>,
        case_code: Option<&str>,
        open: &OpenFacts,
    ) -> Result<Vec<PersonRecord>, StoreError>;

    /// Creates or replaces a user. Any change ends the user's sessions, revokes their grants and
    /// withdraws their pending requests (a reused username inherits nothing), each revocation and
    /// withdrawal audited with the actor of the first of `audit` (the change's entry).
    async fn put_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Creates a user that does not exist yet; false, with nothing written, if the username is
    /// taken (a check before it could race another creation).
    async fn add_user(
        &self,
        user: &UserRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError>;

    async fn users(&self) -> Result<Vec<UserRow>, StoreError>;

    /// The name a person's account was enrolled with (by person key), if any.
    async fn person_name(&self, person_key: &str) -> Result<Option<String>, StoreError>;

    async fn put_session(
        &self,
        token_hash: &str,
        session: &SessionRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError>;

    async fn end_session(
        &self,
        token_hash: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Stores a new API key by its digest.
    async fn put_key(
        &self,
        key_hash: &str,
        key: &KeyRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRow>, StoreError>;

    async fn keys(&self) -> Result<Vec<KeyRow>, StoreError>;

    /// False when there is no such live key.
    async fn revoke_key(
        &self,
        key_id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    async fn put_request(
        &self,
        request: &RequestRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    async fn request(&self, request_id: &str) -> Result<Option<RequestRow>, StoreError>;

    async fn requests(
        &self,
        status: Option<&str>,
        requester: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError>;

    /// Approves (making the grant) or refuses a pending request; false when it is not pending.
    async fn decide_request(
        &self,
        request_id: &str,
        decided_by: &str,
        reason: &str,
        decision: &Decision,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Grants, of one requester or all.
    async fn grants(&self, requester: Option<&str>) -> Result<Vec<GrantRow>, StoreError>;

    async fn grant(&self, grant_id: &str) -> Result<Option<GrantRow>, StoreError>;

    /// False when there is no such live grant.
    async fn revoke_grant(
        &self,
        grant_id: &str,
        by: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    async fn put_certificate(
        &self,
        certificate: &CertificateRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    async fn certificate(&self, number: &str) -> Result<Option<CertificateRow>, StoreError>;

    // The read side of a record's life (sql/reads.rs). Data only: who may read, masking and the
    // explanation of transitions are the server's and the policy's.

    /// A page of records in case-code order (then person key), filtered; `next` names where the
    /// following page starts.
    async fn record_page(&self, filter: &RecordFilter) -> Result<RecordPage, StoreError>;

    /// The records of a case — with `held_by`, only those that agency sent an event of — each
    /// with its events, transitions (with their evidence) and notices, in order.
    async fn timelines(
        &self,
        case_code: &str,
        held_by: Option<&str>,
    ) -> Result<Vec<RecordTimeline>, StoreError>;

    /// The text of a policy version that decided a transition (table `policies`), if recorded.
    async fn recorded_policy(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError>;

    /// The supervisor's numbers on `today` / at `now`, each an indexed count.
    async fn stats(
        &self,
        today: fengcun_domain::Date,
        now: jiff::Timestamp,
    ) -> Result<Stats, StoreError>;
}

/// Opens the store a URL names: `sqlite://path` (created if absent) or `postgres://…`, and brings
/// its schema up to date.
pub async fn open(url: &str, keys: Keys) -> Result<SqlStore, StoreError> {
    SqlStore::connect(url, keys, true).await
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
