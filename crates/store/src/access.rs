//! Controlled disclosure's data: console users, sessions, stored agency keys, penetration
//! requests and their grants, issued certificates, and the records a look-up reads — the rows and
//! the trait that keeps them (written in SQL by `sql/access.rs`).
//!
//! Secrets are stored only as hashes made by the caller (argon2id for passwords, a digest for
//! random tokens and keys): the store never sees a password or a key.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use fengcun_access::{Purpose, RequesterKind};
pub use fengcun_lifecycle::StateCode;

use crate::audit::AuditEvent;
use crate::code::stored_enum;
use crate::error::StoreError;

stored_enum! {
    /// What a user or a key may do (the server's role checks).
    pub enum Role ("role") {
        /// An agency system: sends events for its own agency code, lists and acknowledges its
        /// notices.
        Agency => "agency",
        /// A platform operator: notices (the person masked), policy, scheduler, metrics; not the
        /// audit log (it may sign a tree head now).
        Operator => "operator",
        /// A supervisor or auditor (监督/审计): reads the audit log, its heads and proofs.
        Auditor => "auditor",
        /// A case-handling official (办案人员) of a court, procuratorate, public or state security
        /// organ: looks records up, asks to see sealed ones, issues certificates at the counter
        /// (public security).
        Clerk => "clerk",
        /// An official who approves or refuses requests to see sealed records (审批人); may also
        /// ask.
        Approver => "approver",
        /// Manages users and keys (系统管理员); sees no record.
        Administrator => "administrator",
        /// Someone outside the justice organs who asks: an employer or unit, a lawyer, the person.
        Requester => "requester",
        /// A policy maker (e.g. a court's research office, 政策研究): compares candidate policies
        /// by simulation on synthetic or uploaded record facts; sees no record and changes nothing.
        PolicyMaker => "policy_maker",
        /// The person a record is about, in their own portal (docs/person.md): enrolled at a
        /// counter, their user row carries their person key; sees their own data only, who
        /// looked at their record, and their requests for a correction.
        Person => "person",
        /// A supervisor of queries (廉政监督, docs/supervision.md): sees the flags the supervision
        /// rules raise and reviews them; never a flag about themself.
        Supervisor => "supervisor",
    }
}

impl Role {
    /// The same as [`Self::as_str`].
    pub fn code(self) -> &'static str {
        self.as_str()
    }
}

stored_enum! {
    /// Where a request to see sealed records stands: `pending` until an approver decides it
    /// (`approved`, with its grant, or `refused`), or `withdrawn` when its requester's account was
    /// changed or disabled first.
    pub enum RequestStatus ("request status") {
        Pending => "pending",
        Approved => "approved",
        Refused => "refused",
        Withdrawn => "withdrawn",
    }
}

/// Controlled disclosure's data (docs/disclosure.md): users, sessions, keys, requests, grants,
/// certificates, and the records a look-up reads. Every change is written with its audit events
/// (`audit`) in one transaction.
#[async_trait]
pub trait AccessStore: Send + Sync {
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

    /// Sets the console language a user chose (`zh` or `en`), kept across logins.
    async fn set_user_language(&self, username: &str, language: &str) -> Result<(), StoreError>;

    /// The console language a user chose, if any.
    async fn user_language(&self, username: &str) -> Result<Option<String>, StoreError>;

    /// The name a person's account was enrolled with (by person key), if any.
    async fn person_name(&self, person_key: &str) -> Result<Option<String>, StoreError>;

    /// Stores a one-time activation code (by its digest) for a person's account, with its audit;
    /// the account's earlier unused codes end with it (a newer code replaces them).
    async fn put_activation(
        &self,
        code: &ActivationRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Opens an enrolment at a counter (docs/person.md, "Two clerks"), with its audit: it waits
    /// for a second clerk of the same agency, and no activation code exists until then. False,
    /// writing nothing, when its clerk has `max_waiting` enrolments waiting already (counted and
    /// inserted as one: requests sent at once cannot pass the bound together).
    async fn put_enrolment(
        &self,
        enrolment: &EnrolmentRow,
        max_waiting: usize,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Counts a confirmation of a waiting enrolment refused for another number or name, with its
    /// audit; at `closing_at` refusals the enrolment is closed (it expires now). The count.
    async fn refuse_enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
        closing_at: u32,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<u32, StoreError>;

    /// The enrolment `enrolment_id` of `agency`, whatever its state, and that state; `None` for
    /// one never opened or of another agency.
    async fn enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
    ) -> Result<Option<(EnrolmentRow, EnrolmentState)>, StoreError>;

    /// The enrolments of `agency` still waiting for their second clerk and not expired at
    /// `now`, oldest first.
    async fn waiting_enrolments(
        &self,
        agency: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<EnrolmentRow>, StoreError>;

    /// The second clerk confirms the enrolment `enrolment_id` of `agency` for the person
    /// `person_key`: if it is waiting, not expired at `now`, of that person and opened by another
    /// clerk than `confirmer`, marks it confirmed, stores `code` (ending the account's earlier
    /// codes, as [`AccessStore::put_activation`], and closing the person's other enrolments still
    /// waiting) and writes `audit`, in one transaction.
    /// Otherwise nothing is written and the answer says why (an enrolment of another agency is
    /// [`Confirmation::Unknown`], as one never opened).
    async fn confirm_enrolment(
        &self,
        enrolment_id: &str,
        agency: &str,
        confirmer: &str,
        code: &ActivationRow,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<Confirmation, StoreError>;

    /// Uses the activation code with digest `code_hash` for the person `person_key`: if it is
    /// theirs, unused and not expired at `now`, marks it used, sets the account's password (and
    /// enables it, ending any session) and writes `audit`, in one transaction. Otherwise nothing is
    /// written and the answer says why: a code of another person is [`Activation::Unknown`], as
    /// a code never made.
    async fn activate(
        &self,
        code_hash: &str,
        person_key: &str,
        password_hash: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<Activation, StoreError>;

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
        status: Option<RequestStatus>,
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

    /// The certificates issued about a person (by person key), oldest first.
    async fn person_certificates(
        &self,
        person_key: &str,
    ) -> Result<Vec<CertificateRow>, StoreError>;
}

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub username: String,
    /// The argon2id PHC string; never serialised out.
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub requester_kind: Option<RequesterKind>,
    pub agency: Option<String>,
    /// For a person (requester kind `person`): the keyed hash of their identity.
    #[serde(skip)]
    pub person_key: Option<String>,
    /// For a person: the name they were enrolled with, as on the identity card (stored sealed).
    #[serde(skip)]
    pub name: Option<String>,
    pub disabled: bool,
}

/// A one-time activation code for a person's account (docs/person.md), stored as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRow {
    pub code_hash: String,
    pub username: String,
    pub person_key: String,
    /// Who made it: the clerk at the counter (`user:NAME`).
    pub created_by: String,
    pub expires_at: jiff::Timestamp,
}

/// An enrolment opened at a counter, waiting for a second clerk (docs/person.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRow {
    /// Its number, printed on the counter's list (`EN-` and ten characters).
    pub enrolment_id: String,
    pub username: String,
    pub person_key: String,
    /// A keyed digest of the name the first clerk typed: the second clerk's must be the same.
    pub name_digest: String,
    /// The counter (agency and kind): only its clerks see and confirm it.
    pub agency: String,
    /// The clerk who opened it (`user:NAME`), who may not confirm it.
    pub created_by: String,
    pub created_at: jiff::Timestamp,
    pub expires_at: jiff::Timestamp,
}

/// Where an enrolment stands (its expiry apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentState {
    Waiting,
    Confirmed,
    /// Closed before it was confirmed: three refusals, or the person's account confirmed
    /// through another enrolment.
    Closed,
}

/// What a second clerk's confirmation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Confirmed: the activation code is stored.
    Confirmed,
    /// No such enrolment at this agency.
    Unknown,
    /// Confirmed already.
    Done,
    /// Closed: three confirmations that did not match, or the person's account confirmed
    /// through another enrolment.
    Closed,
    /// Its time ran out before a second clerk confirmed it.
    Expired,
    /// The clerk who opened it may not confirm it.
    SameClerk,
    /// The identity number typed by the second clerk is another person's.
    OtherPerson,
}

/// What using an activation code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// The account `username` has its new password.
    Activated { username: String },
    /// No such code for this person.
    Unknown,
    /// Used already (or replaced by a newer code).
    Used,
    /// Its time ran out.
    Expired,
}

/// A login session; the token and the CSRF token are stored as digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub csrf_hash: String,
    pub expires_at: jiff::Timestamp,
}

/// A stored API key (the key itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRow {
    pub key_id: String,
    pub name: String,
    pub role: Role,
    pub requester_kind: Option<RequesterKind>,
    pub agency: Option<String>,
    /// The user who owns the key (the person behind the system that uses it); `None` only for keys
    /// stored before owners were recorded.
    pub owner: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Whom a request (and the grant made of it) is about: the identity number asked for and the name
/// the requester gave. Stored sealed; never serialised as it is (the server shows it masked to the
/// requester and in full to the approver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPerson {
    pub id_number: String,
    pub name: Option<String>,
}

/// A request to see a person's sealed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    pub request_id: String,
    #[serde(skip)]
    pub person_key: String,
    pub requester: String,
    pub requester_kind: RequesterKind,
    pub purpose: Purpose,
    pub post: Option<String>,
    pub basis: String,
    pub reason: String,
    pub status: RequestStatus,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub grant_id: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
    /// Whom the request is about (`None` for requests stored before this was kept).
    #[serde(skip)]
    pub person: Option<RequestPerson>,
}

/// An approved request: one requester, purpose (and post), person, window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRow {
    pub grant_id: String,
    pub request_id: String,
    #[serde(skip)]
    pub person_key: String,
    pub requester: String,
    pub purpose: Purpose,
    pub post: Option<String>,
    pub not_before: String,
    pub expires: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    /// Whom the grant is about: its request's person (read with the grant, never written with it).
    #[serde(skip)]
    pub person: Option<RequestPerson>,
}

/// Whether to decrypt a record's facts, given its person key, state and the state's date (to
/// decide whether it is sealed on a day: `fengcun_lifecycle::sealed_on`).
pub type OpenFacts = dyn for<'a, 'b, 'c> Fn(&'a str, &'b str, Option<&'c str>) -> bool + Sync;

/// A record as a look-up reads it: its state now and its decrypted facts.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub person_key: String,
    pub case_code: String,
    pub state: StateCode,
    pub state_date: Option<String>,
    pub facts: Option<serde_json::Value>,
}

impl PersonRecord {
    /// Whether the record is behind the seal on `today` (`fengcun_lifecycle::sealed_on`): sealed,
    /// or a pending seal whose date has come, whether or not the scheduler has run since.
    pub fn sealed_on(&self, today: jiff::civil::Date) -> bool {
        fengcun_lifecycle::sealed_on(self.state.code(), self.state_date.as_deref(), today)
    }
}

stored_enum! {
    /// What a certificate says (`fengcun_certificate::CertificateResult`, without its listed
    /// convictions): 未发现有犯罪记录, or 有犯罪记录.
    pub enum CertificateOutcome ("certificate result") {
        NoCriminalRecord => "no_criminal_record",
        HasCriminalRecord => "has_criminal_record",
    }
}

/// A certificate as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    pub number: String,
    pub person_key: String,
    pub result: CertificateOutcome,
    pub issued_by: String,
    pub issued_at: String,
    pub file: Vec<u8>,
}

/// How a decision on a request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve(Box<GrantRow>),
    Refuse,
}
