//! The audit log in the store: typed audit events, appended in the transaction of the action they
//! record as leaves of the ledger's Merkle tree (RFC 6962 / 9162), signed tree heads, proofs, and
//! the audit that recomputes the tree from the rows (`fengcun audit verify`). The rows are read
//! and written in SQL by `sql/audit.rs`.
//!
//! A leaf's bytes are rebuilt from the row's columns ([`AuditEntry::leaf_bytes`]), the sequence
//! number included: a changed column, a moved row or a removed row changes the tree.

use std::fmt;

use async_trait::async_trait;
use fengcun_crypto::{Suite, VerifyingKey};
use fengcun_ledger::{Auditor, Frontier, Hash, Mismatch, SignedTreeHead, TreeHead};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// The audit log: appending entries (each part of the store also appends in the transaction of
/// the action it records), reading them, signed tree heads, proofs, and the audit of the log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends audit events in a transaction of their own (actions that write nothing else, such
    /// as a look-up, still leave their trace before they answer).
    async fn audit(&self, events: &[AuditEvent], now: jiff::Timestamp) -> Result<(), StoreError>;

    /// Audit entries from `from` (in log order), at most `limit`.
    async fn audit_entries(&self, from: u64, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;

    /// Audit entries that match `filter`, newest first, at most `filter.limit`; each condition
    /// given is answered from an index (actor, kind, subject, time).
    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;

    /// The entries that concern the person of `person_key` (appended with
    /// [`AuditEvent::concerning`]), newest first, at most `limit`, before `before` if given.
    async fn audit_concerning(
        &self,
        person_key: &str,
        before: Option<u64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError>;

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

    /// Keeps flags not kept yet (by id); returns how many were new.
    async fn put_flags(&self, flags: &[FlagRow]) -> Result<usize, StoreError>;

    /// The supervision engine's saved state and how far into the log it had read, if saved.
    async fn supervision_state(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Saves the supervision engine's state, read up to `next_seq` (replacing the last saved).
    async fn put_supervision_state(
        &self,
        next_seq: u64,
        state: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Kept flags, oldest period first: all, or only the open ones.
    async fn flags(&self, open_only: bool) -> Result<Vec<FlagRow>, StoreError>;

    async fn flag(&self, id: &str) -> Result<Option<FlagRow>, StoreError>;

    /// Records an open flag's review with its audit entries, in one transaction; false when the
    /// flag is not open (reviewed already, or none).
    async fn review_flag(
        &self,
        id: &str,
        by: &str,
        conclusion: &str,
        note: &str,
        audit: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Open flags by rule.
    async fn open_flags_by_rule(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// Recomputes the audit log's tree from its rows and checks it against the stored heads and
    /// the `outside` head lines (signatures checked when `key` is given).
    async fn verify_audit(
        &self,
        outside: &[String],
        key: Option<&fengcun_crypto::VerifyingKey>,
    ) -> Result<AuditReport, StoreError>;

    /// [`Self::verify_audit`] with every key the log was ever signed with (a signing key rotated):
    /// each head's signature must verify under one of `keys` (none given: not checked).
    async fn verify_audit_with_keys(
        &self,
        outside: &[String],
        keys: &[fengcun_crypto::VerifyingKey],
    ) -> Result<AuditReport, StoreError>;

    /// Registers the key that signs from now on (at every start): a key not seen before is
    /// published from `now`, and the one it replaces valid until `now`; audited
    /// (`key_changed`, `signing_key_registered`). Whether it was new.
    async fn register_signing_key(
        &self,
        key: &fengcun_crypto::VerifyingKey,
        key_id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError>;

    /// Every signing key registered, oldest first, with its validity.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError>;
}

/// A signing key as published: its id, algorithm, public key (PEM) and when it signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningKeyRow {
    pub key_id: String,
    /// `sm2` or `ed25519`.
    pub algorithm: String,
    pub public_key: String,
    pub valid_from: String,
    /// When another key took over; absent for the key in use.
    pub valid_until: Option<String>,
}

/// A supervision flag as kept (docs/supervision.md): what the rules found, and its review.
/// `entries` and `persons` are JSON arrays (sequence numbers, person keys); a flag holds no
/// record's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagRow {
    pub id: String,
    pub rule: String,
    pub pattern: String,
    pub subject: String,
    pub other: Option<String>,
    pub period_from: String,
    pub period_until: String,
    pub score: f64,
    pub entries: String,
    pub persons: String,
    pub found_at: String,
    /// `None` while open; `no_issue` or `referred` once reviewed.
    pub conclusion: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub note: Option<String>,
}

/// The audit page's filters: each one given narrows the entries (all of them must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub kind: Option<AuditKind>,
    pub subject: Option<String>,
    /// Entries at or after this time.
    pub since: Option<jiff::Timestamp>,
    /// Entries before this time.
    pub until: Option<jiff::Timestamp>,
    /// Entries before this sequence number (the next page, newest first).
    pub before: Option<u64>,
    pub limit: i64,
}

/// What an audit entry records. Every look-up, request, approval, refusal, grant use,
/// certificate, key or user change, transition and notice is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A record's state changed (with the notices it created).
    Transition,
    /// A notice was delivered to, or refused by, an agency's endpoint.
    NoticeDelivery,
    /// A receiver acknowledged a notice.
    NoticeAcknowledged,
    /// The policy in force changed.
    PolicyChanged,
    /// The scheduler or a policy change could not decide a record (an unreadable row, a failed
    /// transaction): the record stays as it was, and the others went on.
    RefreshFailed,
    /// A look-up of records (search, by case code, by identity number), with its purpose.
    Lookup,
    /// A penetration request was made.
    Request,
    /// A request was approved: a grant was made.
    Approval,
    /// A request was refused (by an approver, or because the approver was the requester).
    Refusal,
    /// A sealed record was read under a grant.
    GrantUse,
    /// A grant was revoked.
    GrantRevoked,
    /// A certificate was issued.
    Certificate,
    /// A user was created, changed or disabled.
    UserChanged,
    /// An API key was created or revoked.
    KeyChanged,
    /// A console user logged in.
    Login,
    /// A log-in or an API call was refused (bad password, unknown or revoked key).
    AuthenticationRefused,
    /// A request was refused for lack of a role.
    Forbidden,
    /// A list that shows identities, sealed facts or audit entries was read (notices, the audit
    /// log): who, with what filter, how many rows.
    Read,
    /// A person's request for a correction was made or answered (docs/person.md).
    Correction,
    /// A supervisor reviewed a supervision flag (docs/supervision.md): its conclusion.
    FlagReviewed,
}

impl AuditKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Transition => "transition",
            Self::NoticeDelivery => "notice_delivery",
            Self::NoticeAcknowledged => "notice_acknowledged",
            Self::PolicyChanged => "policy_changed",
            Self::RefreshFailed => "refresh_failed",
            Self::Lookup => "lookup",
            Self::Request => "request",
            Self::Approval => "approval",
            Self::Refusal => "refusal",
            Self::GrantUse => "grant_use",
            Self::GrantRevoked => "grant_revoked",
            Self::Certificate => "certificate",
            Self::UserChanged => "user_changed",
            Self::KeyChanged => "key_changed",
            Self::Login => "login",
            Self::AuthenticationRefused => "authentication_refused",
            Self::Forbidden => "forbidden",
            Self::Read => "read",
            Self::Correction => "correction",
            Self::FlagReviewed => "flag_reviewed",
        }
    }
}

impl AuditKind {
    pub const ALL: [AuditKind; 20] = [
        Self::Transition,
        Self::NoticeDelivery,
        Self::NoticeAcknowledged,
        Self::PolicyChanged,
        Self::RefreshFailed,
        Self::Lookup,
        Self::Request,
        Self::Approval,
        Self::Refusal,
        Self::GrantUse,
        Self::GrantRevoked,
        Self::Certificate,
        Self::UserChanged,
        Self::KeyChanged,
        Self::Login,
        Self::AuthenticationRefused,
        Self::Forbidden,
        Self::Read,
        Self::Correction,
        Self::FlagReviewed,
    ];

    /// The same as [`Self::code`].
    pub fn as_str(self) -> &'static str {
        self.code()
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl std::str::FromStr for AuditKind {
    type Err = crate::UnknownCode;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code).ok_or_else(|| crate::UnknownCode {
            kind: "kind of audit entry",
            value: code.to_owned(),
        })
    }
}

/// Compares with a code, as stored: `state == "sealed"`.
impl PartialEq<str> for AuditKind {
    fn eq(&self, code: &str) -> bool {
        self.code() == code
    }
}

impl PartialEq<&str> for AuditKind {
    fn eq(&self, code: &&str) -> bool {
        self.code() == *code
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An audit event before it is appended: who did what, for which purpose, with what outcome.
/// `detail` holds what an auditor needs to follow the action, never a sealed record's content
/// (records appear by their pseudonymous person key and case code).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub kind: AuditKind,
    pub actor: String,
    pub purpose: Option<String>,
    pub outcome: String,
    pub subject: Option<String>,
    pub detail: serde_json::Value,
    /// The persons (by person key) the entry concerns, as "who looked at my record" finds them
    /// (table `audit_concerns`, written with the entry; not part of the leaf).
    pub concerns: Vec<String>,
}

impl AuditEvent {
    pub fn new(kind: AuditKind, actor: impl Into<String>, outcome: impl Into<String>) -> Self {
        Self {
            kind,
            actor: actor.into(),
            purpose: None,
            outcome: outcome.into(),
            subject: None,
            detail: serde_json::Value::Object(serde_json::Map::new()),
            concerns: Vec::new(),
        }
    }

    /// Marks the entry as concerning the person of `person_key` (who looked at my record).
    pub fn concerning(mut self, person_key: impl Into<String>) -> Self {
        let key = person_key.into();
        if !self.concerns.contains(&key) {
            self.concerns.push(key);
        }
        self
    }

    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A stored audit entry, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    pub kind: AuditKind,
    pub actor: String,
    pub purpose: Option<String>,
    pub outcome: String,
    pub subject: Option<String>,
    /// JSON text, exactly as hashed.
    pub detail: String,
    /// The leaf hash recorded when the entry was appended (hex).
    pub leaf_hash: String,
}

/// The fields of a leaf, in the order they are hashed.
#[derive(Serialize)]
struct Leaf<'a> {
    seq: u64,
    at: &'a str,
    kind: &'a str,
    actor: &'a str,
    purpose: Option<&'a str>,
    outcome: &'a str,
    subject: Option<&'a str>,
    detail: &'a str,
}

/// The bytes a leaf hashes: one line of JSON with the fields in a fixed order (docs/audit.md).
#[allow(clippy::too_many_arguments, reason = "the columns of one row, named")]
pub(crate) fn leaf_bytes(
    seq: u64,
    at: &str,
    kind: &str,
    actor: &str,
    purpose: Option<&str>,
    outcome: &str,
    subject: Option<&str>,
    detail: &str,
) -> Vec<u8> {
    let leaf = Leaf {
        seq,
        at,
        kind,
        actor,
        purpose,
        outcome,
        subject,
        detail,
    };
    // Serialising a struct of strings and an integer cannot fail.
    serde_json::to_vec(&leaf).unwrap_or_default()
}

impl AuditEntry {
    pub fn leaf_bytes(&self) -> Vec<u8> {
        leaf_bytes(
            self.seq,
            &self.at,
            self.kind.code(),
            &self.actor,
            self.purpose.as_deref(),
            &self.outcome,
            self.subject.as_deref(),
            &self.detail,
        )
    }
}

/// The frontier stored in `audit_tip`: the subtree roots, 32 bytes each.
pub(crate) fn frontier_from_row(
    suite: Suite,
    size: i64,
    nodes: &[u8],
) -> Result<Frontier, StoreError> {
    let size = u64::try_from(size).map_err(|_| StoreError::Corrupt("audit tip size".into()))?;
    let nodes = nodes
        .chunks(32)
        .map(|chunk| {
            <[u8; 32]>::try_from(chunk)
                .map(Hash)
                .map_err(|_| StoreError::Corrupt("audit tip nodes".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Frontier::from_parts(suite, size, nodes)
        .map_err(|e| StoreError::Corrupt(format!("audit tip: {e}")))
}

pub(crate) fn frontier_bytes(frontier: &Frontier) -> Vec<u8> {
    frontier
        .nodes()
        .iter()
        .flat_map(|node| node.0.iter().copied())
        .collect()
}

/// What `fengcun audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries read.
    pub entries: u64,
    /// The root recomputed from them (hex).
    pub root: String,
    /// Heads checked: stored in the database, and given from outside.
    pub stored_heads: usize,
    pub outside_heads: usize,
    /// Stored heads whose signature could be checked (a public key was given).
    pub signatures_checked: usize,
    /// The first problem, if any.
    pub problem: Option<AuditProblem>,
}

/// The first thing wrong with the log, naming the entry where one can be named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The entry's columns no longer give the leaf the tree was built with.
    Altered { entry: u64, detail: String },
    /// Sequence numbers jump: entries were deleted (or renumbered).
    Missing { entry: u64, found: u64 },
    /// A head is larger than the log.
    Truncated { entries: u64, head_size: u64 },
    /// The entries do not give a head's root and no single entry can be named.
    Root {
        head_size: u64,
        first_suspect: u64,
        detail: String,
    },
    /// A stored head's signature does not verify with the public key given.
    /// A head's signature does not verify: one of the log's own (`given` false) or one an
    /// auditor brought (`--against`).
    BadHeadSignature {
        head_size: u64,
        given: bool,
        detail: String,
    },
    /// A head line cannot be read or uses another hash than the log.
    BadHead { detail: String },
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered { entry, detail } => write!(f, "entry {entry} was altered: {detail}"),
            Self::Missing { entry, found } => write!(
                f,
                "entry {entry} is missing: the next entry found is {found} (entries were deleted or renumbered)"
            ),
            Self::Truncated { entries, head_size } => write!(
                f,
                "the log was truncated: it has {entries} entries but a signed tree head has {head_size}"
            ),
            Self::Root {
                head_size,
                first_suspect,
                detail,
            } => write!(
                f,
                "the entries do not match the signed tree head of size {head_size}, yet every entry \
                 matches its recorded leaf hash: leaf hashes were rewritten too, and the altered \
                 entry is among entries {first_suspect}..{head_size} ({detail})"
            ),
            Self::BadHeadSignature {
                head_size,
                given: false,
                detail,
            } => write!(
                f,
                "the stored tree head of size {head_size} is not validly signed: {detail}"
            ),
            // Not the log's: the head brought to check it against is another deployment's, or
            // signed by a key not given — the stored log is not blamed for it.
            Self::BadHeadSignature {
                head_size,
                given: true,
                detail,
            } => write!(
                f,
                "the tree head of size {head_size} given to check against (--against) is not validly signed by any key given: {detail}"
            ),
            Self::BadHead { detail } => write!(f, "a tree head cannot be used: {detail}"),
        }
    }
}

/// The audit over rows streamed in `seq` order. Wraps the ledger's [`Auditor`] with what only the
/// store knows: sequence numbers must run without gaps, and where the ledger can only give a
/// range, the first row whose columns differ from its recorded leaf hash is the one to name.
pub(crate) struct RowAudit {
    auditor: Auditor,
    expected_seq: u64,
    first_leaf_mismatch: Option<u64>,
    problem: Option<AuditProblem>,
}

impl RowAudit {
    pub(crate) fn new(suite: Suite, heads: Vec<TreeHead>) -> Result<Self, AuditProblem> {
        let auditor = Auditor::new(suite, heads).map_err(|m| AuditProblem::BadHead {
            detail: m.to_string(),
        })?;
        Ok(Self {
            auditor,
            expected_seq: 0,
            first_leaf_mismatch: None,
            problem: None,
        })
    }

    /// Feeds the next row; returns false once a problem was found (stop reading).
    pub(crate) fn push(&mut self, entry: &AuditEntry, suite: Suite) -> bool {
        if self.problem.is_some() {
            return false;
        }
        if entry.seq != self.expected_seq {
            self.problem = Some(AuditProblem::Missing {
                entry: self.expected_seq,
                found: entry.seq,
            });
            return false;
        }
        self.expected_seq += 1;
        let bytes = entry.leaf_bytes();
        let recorded = Hash::from_hex(&entry.leaf_hash).ok();
        if recorded != Some(fengcun_ledger::Hasher::new(suite).leaf_hash(&bytes)) {
            self.first_leaf_mismatch.get_or_insert(entry.seq);
        }
        match self.auditor.push(&bytes, recorded.as_ref()) {
            Ok(()) => true,
            Err(mismatch) => {
                self.problem = Some(self.explain(mismatch));
                false
            }
        }
    }

    pub(crate) fn finish(self) -> (u64, Option<Hash>, Option<AuditProblem>) {
        let entries = self.expected_seq;
        if let Some(problem) = self.problem {
            return (entries, None, Some(problem));
        }
        let first_leaf_mismatch = self.first_leaf_mismatch;
        match self.auditor.finish() {
            Ok(summary) => (entries, Some(summary.root), None),
            Err(mismatch) => {
                let problem = explain(first_leaf_mismatch, mismatch);
                (entries, None, Some(problem))
            }
        }
    }

    fn explain(&self, mismatch: Mismatch) -> AuditProblem {
        explain(self.first_leaf_mismatch, mismatch)
    }
}

fn explain(first_leaf_mismatch: Option<u64>, mismatch: Mismatch) -> AuditProblem {
    match mismatch {
        Mismatch::AlteredEntry { index, .. } | Mismatch::LeafHash { index } => {
            AuditProblem::Altered {
                entry: index,
                detail: mismatch.to_string(),
            }
        }
        Mismatch::Truncated { entries, head_size } => {
            AuditProblem::Truncated { entries, head_size }
        }
        Mismatch::Root {
            head_size,
            verified_size,
            ..
        } => match first_leaf_mismatch.filter(|&i| i >= verified_size && i < head_size) {
            // The row whose columns no longer give its recorded hash: altered, or moved here.
            Some(entry) => AuditProblem::Altered {
                entry,
                detail: format!(
                    "its columns no longer give the leaf recorded for it, and the entries do not \
                     match the tree head of size {head_size} (altered, or moved from another place)"
                ),
            },
            None => AuditProblem::Root {
                head_size,
                first_suspect: verified_size,
                detail: mismatch.to_string(),
            },
        },
        Mismatch::WrongSuite { .. } => AuditProblem::BadHead {
            detail: mismatch.to_string(),
        },
    }
}

/// Reads head lines and checks their signatures where a key is given.
pub(crate) fn read_heads(
    lines: &[String],
    keys: &[VerifyingKey],
    given: bool,
) -> Result<(Vec<TreeHead>, usize), AuditProblem> {
    let mut heads = Vec::with_capacity(lines.len());
    let mut checked = 0;
    for line in lines {
        let signed = SignedTreeHead::from_json(line).map_err(|e| AuditProblem::BadHead {
            detail: e.to_string(),
        })?;
        let head = match keys {
            [] => *signed.unverified_head(),
            keys => {
                checked += 1;
                // Any key of the ring: a head signed before a rotation verifies with the old key.
                let mut verified = Err(AuditProblem::BadHeadSignature {
                    head_size: signed.unverified_head().size(),
                    given,
                    detail: "no key given".to_owned(),
                });
                for key in keys {
                    match signed.verify(key) {
                        Ok(head) => {
                            verified = Ok(*head);
                            break;
                        }
                        Err(e) => {
                            verified = Err(AuditProblem::BadHeadSignature {
                                head_size: signed.unverified_head().size(),
                                given,
                                detail: e.to_string(),
                            })
                        }
                    }
                }
                verified?
            }
        };
        heads.push(head);
    }
    Ok((heads, checked))
}
