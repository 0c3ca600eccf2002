//! The audit log over HTTP: entries, signed tree heads (periodic and on demand), proofs, and the
//! public key that verifies heads and certificates.

use fengcun_ledger::Hash;
use fengcun_store::{AuditEntry, AuditEvent, AuditFilter, AuditKind, AuditReport};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{Caller, Result, ServiceError};
use crate::AppState;
use crate::config::Role;

/// Who reads the log (entries, heads, proofs): auditors only. Its entries name whose records were
/// looked up and why, national-security reviews included.
const READERS: &[Role] = &[Role::Auditor];
/// Who signs a head now: auditors, and operators who run the platform (a head signs hashes only).
const SIGNERS: &[Role] = &[Role::Auditor, Role::Operator];
/// The most entries one read answers (the OpenAPI document's `maximum`).
pub const MAX_LIMIT: i64 = 1000;

/// Signs a head every `tree_head_interval_seconds` when the log grew, so that an outside party
/// fetching heads regularly holds one recent enough to catch a truncation. (One is signed at start,
/// before the server answers: a server restarted more often than the interval still signs.)
pub async fn sign_periodically(state: AppState) {
    let mut interval = crate::rounds(state.config.tree_head_interval_seconds);
    loop {
        interval.tick().await;
        sign_if_grown(&state).await;
    }
}

/// Signs a head if the log grew since the last one.
pub async fn sign_if_grown(state: &AppState) {
    match state
        .store
        .sign_tree_head(&state.signing, state.clock.now(), false)
        .await
    {
        Ok(Some(head)) => {
            tracing::info!(size = head.unverified_head().size(), "tree head signed")
        }
        Ok(None) => {}
        Err(error) => tracing::error!(%error, "signing a tree head failed"),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// The first entry's sequence number.
    #[serde(default)]
    pub from: u64,
    /// How many entries at most (1 to 1000; out of range: 422).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// An audit entry as the log keeps it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Entry {
    pub actor: String,
    pub at: String,
    /// JSON text, exactly as hashed.
    pub detail: String,
    pub kind: String,
    /// The leaf hash recorded when the entry was appended (hex).
    pub leaf_hash: String,
    pub outcome: String,
    pub purpose: Option<String>,
    pub seq: u64,
    pub subject: Option<String>,
}

impl From<AuditEntry> for Entry {
    fn from(e: AuditEntry) -> Self {
        Entry {
            seq: e.seq,
            at: e.at,
            kind: e.kind.to_string(),
            actor: e.actor,
            purpose: e.purpose,
            outcome: e.outcome,
            subject: e.subject,
            detail: e.detail,
            leaf_hash: e.leaf_hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Entries {
    pub entries: Vec<Entry>,
}

/// Audit entries in log order (auditors); the read is itself an entry.
pub async fn entries(state: &AppState, caller: &Caller, query: &EntriesQuery) -> Result<Entries> {
    caller.require(state, "read the audit log", READERS).await?;
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(ServiceError::Invalid(format!(
            "limit: must be 1 to {MAX_LIMIT}, is {}",
            query.limit
        )));
    }
    let entries = state.store.audit_entries(query.from, query.limit).await?;
    // Reading the log is itself in the log (after the entries read, so never among them).
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "audit_entries")
        .detail(json!({"from": query.from, "limit": query.limit, "rows": entries.len()}));
    state.store.audit(&[read], state.clock.now()).await?;
    Ok(Entries {
        entries: entries.into_iter().map(Entry::from).collect(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Heads {
    /// Each signed head, parsed.
    pub heads: Vec<TreeHeadLine>,
    /// Each signed head's line, as `fengcun audit verify --against` reads them.
    pub lines: Vec<String>,
}

/// A signed tree head's export line (`fengcun_ledger::SignedTreeHead::to_json`), parsed. Fields
/// in the order of their names: the order the answer has always had them in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreeHeadLine {
    /// `fengcun-tree-head/v1`
    pub format: String,
    /// The tree's hash: `sm3` or `sha256`.
    pub hash: String,
    /// The tree's root hash (hex).
    pub root: String,
    /// The signature (base64url).
    pub signature: String,
    /// `sm2` or `ed25519`.
    pub signature_algorithm: String,
    /// The number of entries the tree holds.
    pub size: u64,
    /// When it was signed (RFC 3339, milliseconds).
    pub time: String,
    /// When it was signed, in milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// Every signed tree head (auditors).
pub async fn heads(state: &AppState, caller: &Caller) -> Result<Heads> {
    caller.require(state, "read the audit log", READERS).await?;
    let lines = state.store.tree_heads().await?;
    let heads: Vec<TreeHeadLine> = lines
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Ok(Heads { heads, lines })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedHead {
    /// The new head's line.
    pub line: String,
}

/// Signs a head now (an auditor about to take one away).
pub async fn sign_now(state: &AppState, caller: &Caller) -> Result<SignedHead> {
    caller.require(state, "sign a tree head", SIGNERS).await?;
    let head = state
        .store
        .sign_tree_head(&state.signing, state.clock.now(), true)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(SignedHead {
        line: head.to_json(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry.
    pub index: u64,
    /// The tree size (a signed head's).
    pub size: u64,
}

fn hex(path: &[Hash]) -> Vec<String> {
    path.iter().map(Hash::to_hex).collect()
}

/// An inclusion proof in the shape `fengcun audit check` reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub leaf_hash: String,
    pub path: Vec<String>,
    /// `inclusion`
    pub proof: &'static str,
    pub size: u64,
}

/// The inclusion proof of an entry in the tree of a head's size (auditors).
pub async fn inclusion(
    state: &AppState,
    caller: &Caller,
    query: &InclusionQuery,
) -> Result<InclusionProof> {
    caller.require(state, "read the audit log", READERS).await?;
    let entry = state
        .store
        .audit_entries(query.index, 1)
        .await?
        .into_iter()
        .find(|e| e.seq == query.index)
        .ok_or(ServiceError::NotFound)?;
    let path = state
        .store
        .inclusion_proof(query.index, query.size)
        .await
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    Ok(InclusionProof {
        index: query.index,
        leaf_hash: entry.leaf_hash,
        path: hex(&path),
        proof: "inclusion",
        size: query.size,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier size.
    pub from: u64,
    /// The later size.
    pub to: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub new_size: u64,
    pub old_size: u64,
    pub path: Vec<String>,
    /// `consistency`
    pub proof: &'static str,
}

/// The consistency proof between two tree sizes (auditors).
pub async fn consistency(
    state: &AppState,
    caller: &Caller,
    query: &ConsistencyQuery,
) -> Result<ConsistencyProof> {
    caller.require(state, "read the audit log", READERS).await?;
    let path = state
        .store
        .consistency_proof(query.from, query.to)
        .await
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    Ok(ConsistencyProof {
        new_size: query.to,
        old_size: query.from,
        path: hex(&path),
        proof: "consistency",
    })
}

/// The public key of the platform's signatures (tree heads, certificates): public, like
/// certificate verification, so that anyone can check what the platform signed.
pub fn public_key(state: &AppState) -> String {
    state.signing.verifying_key().to_text()
}

/// A signing key as published.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedKey {
    /// The key's id, as certificates and notices name it (`issuer.key_id`).
    pub key_id: String,
    /// `sm2` or `ed25519`.
    pub algorithm: String,
    /// PEM (SubjectPublicKeyInfo).
    pub public_key: String,
    /// From when it signed (RFC 3339).
    pub valid_from: String,
    /// Until when: absent for the key signing now.
    pub valid_until: Option<String>,
    /// Whether it is the key signing now.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedKeys {
    /// Oldest first.
    pub keys: Vec<PublishedKey>,
}

/// Every key the platform has signed tree heads, certificates and notices with, and when
/// (public): a head or certificate from before a rotation verifies with the key its time or id
/// names.
pub async fn keys(state: &AppState) -> Result<PublishedKeys> {
    let current = fengcun_certificate::key_id(&state.signing.verifying_key());
    let keys = state
        .store
        .signing_keys()
        .await?
        .into_iter()
        .map(|k| PublishedKey {
            current: k.key_id == current,
            key_id: k.key_id,
            algorithm: k.algorithm,
            public_key: k.public_key,
            valid_from: k.valid_from,
            valid_until: k.valid_until,
        })
        .collect();
    Ok(PublishedKeys { keys })
}

/// The most entries one search answers (the console's audit page).
pub const SEARCH_LIMIT: i64 = 200;

/// The audit page's filters: each one given narrows the entries. Days are days in China
/// (UTC+8), `since` to `until` both included.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub actor: Option<String>,
    /// An audit kind's code.
    pub kind: Option<String>,
    pub subject: Option<String>,
    /// `2026-06-01`
    pub since: Option<String>,
    /// `2026-06-30`
    pub until: Option<String>,
    /// Entries before this sequence number (the next page).
    pub before: Option<u64>,
}

/// A filter's value, trimmed; `None` when left empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The start of a day in China.
fn china_day(field: &str, text: &str) -> Result<jiff::Timestamp> {
    let date: jiff::civil::Date = text.trim().parse().map_err(|_| {
        ServiceError::Invalid(format!("{field}: a date as 2026-06-01, not `{text}`"))
    })?;
    let china = jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8));
    date.to_zoned(china)
        .map(|z| z.timestamp())
        .map_err(|e| ServiceError::Invalid(format!("{field}: {e}")))
}

/// Audit entries by actor, kind, subject and day, newest first, [`SEARCH_LIMIT`] at most
/// (auditors); each filter is answered from an index. The search is itself an entry.
pub async fn search(state: &AppState, caller: &Caller, query: &SearchQuery) -> Result<Entries> {
    caller.require(state, "read the audit log", READERS).await?;
    let kind = given(&query.kind)
        .map(|code| {
            code.parse::<AuditKind>()
                .map_err(|_| ServiceError::Invalid(format!("kind: no audit kind `{code}`")))
        })
        .transpose()?;
    let since = given(&query.since)
        .map(|d| china_day("since", d))
        .transpose()?;
    let until = given(&query.until)
        .map(|d| {
            china_day("until", d).map(|t| {
                t.checked_add(jiff::SignedDuration::from_hours(24))
                    .unwrap_or(t)
            })
        })
        .transpose()?;
    let filter = AuditFilter {
        actor: given(&query.actor).map(str::to_owned),
        kind,
        subject: given(&query.subject).map(str::to_owned),
        since,
        until,
        before: query.before,
        limit: SEARCH_LIMIT,
    };
    let entries = state.store.audit_search(&filter).await?;
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "audit_entries").detail(json!({
        "actor": filter.actor, "kind": query.kind, "subject": filter.subject,
        "since": query.since, "until": query.until, "before": query.before, "rows": entries.len(),
    }));
    state.store.audit(&[read], state.clock.now()).await?;
    Ok(Entries {
        entries: entries.into_iter().map(Entry::from).collect(),
    })
}

/// Recomputes the log's tree from its rows and checks it against every stored head (their
/// signatures with the platform's public key) and the head lines kept outside, if given — what
/// `fengcun audit verify` does (auditors). The verification is itself an entry, with its outcome.
pub async fn verify(state: &AppState, caller: &Caller, outside: &str) -> Result<AuditReport> {
    caller
        .require(state, "verify the audit log", READERS)
        .await?;
    let outside: Vec<String> = outside
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if !outside.is_empty() {
        fengcun_ledger::SignedTreeHead::parse_lines(&outside.join("\n"))
            .map_err(|e| ServiceError::Invalid(format!("heads: {e}")))?;
    }
    // Every key the log was signed with: heads from before a rotation verify with the old key.
    let report = state
        .store
        .verify_audit_with_keys(&outside, &state.verifying_keys)
        .await?;
    let outcome = if report.problem.is_none() {
        "intact"
    } else {
        "problem"
    };
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "audit_verified").detail(json!({
        "outcome": outcome, "entries": report.entries, "root": report.root,
        "outside_heads": report.outside_heads,
        "problem": report.problem.as_ref().map(ToString::to_string),
    }));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(report)
}
