//! What the store takes and returns.

use std::sync::Arc;

use fengcun_domain::{Date, Record, RecordKind};
use fengcun_lifecycle::{Actor, Issuing, StateCode};
use fengcun_policy::Policy;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The policies in force, the clock and who acts: passed in, never read from the environment.
#[derive(Debug, Clone)]
pub struct Context {
    /// The policy deciding criminal records (the one an operator changes).
    pub policy: Arc<Policy>,
    /// The policy deciding public-security violation records (治安管理处罚法 art. 136): by
    /// default the shipped `cn-public-security-violation`. Each record is decided by the policy
    /// of its kind ([`Context::policy_for`]).
    pub violation_policy: Arc<Policy>,
    /// The juvenile statute in force beside `policy` (CPL art. 286: by default the shipped
    /// `cn-juvenile`): a criminal record it seals is decided by it ([`Context::policy_for`]).
    pub juvenile_policy: Option<Arc<Policy>>,
    pub now: jiff::Timestamp,
    pub actor: Actor,
    /// Who issues the notices and where an unsealing is objected to (configured), sealed into
    /// each transition's notice facts.
    pub issuing: Arc<Issuing>,
}

impl Context {
    pub fn new(policy: Arc<Policy>, now: jiff::Timestamp) -> Self {
        Self {
            policy,
            violation_policy: default_violation_policy(),
            juvenile_policy: Some(default_juvenile_policy()),
            now,
            actor: Actor::Automatic,
            issuing: Arc::default(),
        }
    }

    /// The same, with violation records decided by `policy`.
    pub fn with_violation_policy(self, violation_policy: Arc<Policy>) -> Self {
        Self {
            violation_policy,
            ..self
        }
    }

    /// The policy that decides `record` today: its kind's, or for a criminal record the juvenile
    /// statute where it seals it (`fengcun_lifecycle::deciding_policy`).
    pub fn policy_for(&self, record: &Record) -> &Policy {
        fengcun_lifecycle::deciding_policy(
            &self.policy,
            self.juvenile_policy.as_deref(),
            &self.violation_policy,
            record,
            self.today(),
        )
    }

    /// The policy a decided record was decided by (`DecidedRecord::by_juvenile_statute`).
    pub fn decided_by(&self, record: &fengcun_lifecycle::DecidedRecord) -> &Policy {
        match (&self.juvenile_policy, record.by_juvenile_statute) {
            (Some(statute), true) => statute,
            _ => self.policy_of_kind(record.derived.record.kind),
        }
    }

    /// The policy in force for records of this kind (the juvenile statute aside).
    pub fn policy_of_kind(&self, kind: RecordKind) -> &Policy {
        match kind {
            RecordKind::Criminal => &self.policy,
            RecordKind::PublicSecurityViolation => &self.violation_policy,
        }
    }

    /// The same, with the notices issued as `issuing` says.
    pub fn issued_by(self, issuing: Arc<Issuing>) -> Self {
        Self { issuing, ..self }
    }

    /// Today's date in China (UTC+8), the date legal effects are dated with.
    pub fn today(&self) -> Date {
        fengcun_domain::date::china_date(self.now)
    }
}

/// The shipped policy for violation records, `cn-public-security-violation`.
pub fn default_violation_policy() -> Arc<Policy> {
    static DEFAULT: std::sync::LazyLock<Arc<Policy>> = std::sync::LazyLock::new(|| {
        Arc::new(
            fengcun_policy::presets::get(VIOLATION_PRESET)
                .unwrap_or_else(|| panic!("the shipped preset {VIOLATION_PRESET} is missing"))
                .clone(),
        )
    });
    DEFAULT.clone()
}

/// The juvenile statute in force beside every criminal policy: the shipped `cn-juvenile`.
pub fn default_juvenile_policy() -> Arc<Policy> {
    static DEFAULT: std::sync::LazyLock<Arc<Policy>> = std::sync::LazyLock::new(|| {
        Arc::new(
            fengcun_policy::presets::get(JUVENILE_PRESET)
                .unwrap_or_else(|| panic!("the shipped preset {JUVENILE_PRESET} is missing"))
                .clone(),
        )
    });
    DEFAULT.clone()
}

/// The name of the shipped juvenile statute (CPL art. 286).
pub const JUVENILE_PRESET: &str = "cn-juvenile";

/// The name of the shipped policy for violation records.
pub const VIOLATION_PRESET: &str = "cn-public-security-violation";

/// What happened to one input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineOutcome {
    Stored,
    /// The same event was stored before under this idempotency key.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateRow {
    pub person_key: String,
    pub case_code: String,
    pub state: StateCode,
    pub state_date: Option<String>,
    pub trigger: Option<String>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordView {
    pub case_code: String,
    pub state: StateCode,
    pub state_date: Option<String>,
    pub trigger: Option<String>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
    /// The derived record facts (FORMATS.md shape), decrypted.
    pub facts: Option<serde_json::Value>,
    /// The transition that made the current state, with its evidence: the decision with its
    /// explained reasons is derived from it by `fengcun_policy::explain_recorded`.
    pub transition: Option<TransitionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionView {
    pub case_code: String,
    pub from: Option<StateCode>,
    pub to: StateCode,
    pub date: Option<String>,
    pub trigger: Option<String>,
    /// The unsealing rule of the policy that lifted a seal, if one did.
    pub rule: Option<String>,
    pub policy: String,
    pub policy_version: String,
    /// `automatic` or the operator's name.
    pub actor: String,
    pub at: String,
    /// What the decision was taken on: `{"as_of": "YYYY-MM-DD", "facts": {…}}` (the record's
    /// facts as FORMATS.md writes them).
    pub evidence: serde_json::Value,
    /// The text of the policy version that took it, as recorded: with the evidence, what
    /// `fengcun_policy::explain_recorded` explains the transition from.
    #[serde(skip)]
    pub policy_text: Arc<str>,
}

/// The result of re-evaluating every record under another policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyChange {
    pub policy: String,
    pub version: String,
    pub applied: bool,
    pub records: usize,
    /// Records that would be (or were) newly sealed now.
    pub sealed: Vec<String>,
    /// Records that would become pending seal.
    pub pending: Vec<String>,
    /// Pending seals that would be cancelled (no longer eligible).
    pub cancelled: Vec<String>,
    /// Sealed records the new policy would not seal. A policy change does not lift a seal: they
    /// stay sealed, and are listed so that a person can decide.
    pub sealed_no_longer_eligible: Vec<String>,
    /// Records that could not be decided under the new policy. Applied, the policy is in force
    /// all the same and the scheduler decides them again at each round until it can.
    pub failures: Vec<RecordFailure>,
}

/// What a scheduler round did: the transitions it made, and the records it could not decide.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TickReport {
    pub transitions: Vec<TransitionView>,
    pub failures: Vec<RecordFailure>,
}

/// A record the scheduler or a policy change could not decide (an unreadable row, a failed
/// transaction). It stays as it was, the failure is logged and audited (`refresh_failed`), and the
/// other records go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordFailure {
    pub case_code: String,
    /// The record's pseudonymous person key.
    pub person_key: String,
    /// What went wrong, as [`crate::StoreError::kind`] names it (`crypto`, `corrupt`,
    /// `database`, …): never the message, which can name stored content.
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub events: i64,
    pub records_by_state: Vec<(StateCode, i64)>,
    pub notices_by_status: Vec<(crate::NoticeStatus, i64)>,
}
