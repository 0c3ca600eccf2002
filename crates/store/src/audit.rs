//! The audit log in the store: typed audit events, appended in the transaction of the action they
//! record as leaves of the ledger's Merkle tree (RFC 6962 / 9162), signed tree heads, proofs, and
//! the audit that recomputes the tree from the rows (`fengcun audit verify`).
//!
//! A leaf's bytes are rebuilt from the row's columns ([`AuditEntry::leaf_bytes`]), the sequence
//! number included: a changed column, a moved row or a removed row changes the tree.

use std::fmt;

use fengcun_crypto::{Suite, VerifyingKey};
use fengcun_ledger::{Auditor, Frontier, Hash, Mismatch, SignedTreeHead, TreeHead};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

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
        }
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
        }
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
    pub kind: String,
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
            &self.kind,
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
    BadHeadSignature { head_size: u64, detail: String },
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
            Self::BadHeadSignature { head_size, detail } => {
                write!(
                    f,
                    "the stored tree head of size {head_size} is not validly signed: {detail}"
                )
            }
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
    key: Option<&VerifyingKey>,
) -> Result<(Vec<TreeHead>, usize), AuditProblem> {
    let mut heads = Vec::with_capacity(lines.len());
    let mut checked = 0;
    for line in lines {
        let signed = SignedTreeHead::from_json(line).map_err(|e| AuditProblem::BadHead {
            detail: e.to_string(),
        })?;
        let head = match key {
            Some(key) => {
                checked += 1;
                *signed
                    .verify(key)
                    .map_err(|e| AuditProblem::BadHeadSignature {
                        head_size: signed.unverified_head().size(),
                        detail: e.to_string(),
                    })?
            }
            None => *signed.unverified_head(),
        };
        heads.push(head);
    }
    Ok((heads, checked))
}

/// The hash of the log read on `conn`: see [`crate::SqlStore::audit_hash`].
async fn log_hash(conn: &mut sqlx::AnyConnection) -> Result<Option<Suite>, StoreError> {
    let newest: Option<(String,)> =
        sqlx::query_as("SELECT line FROM tree_heads ORDER BY size DESC, at DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(head) = newest.and_then(|(line,)| SignedTreeHead::from_json(&line).ok()) {
        return Ok(Some(head.unverified_head().suite()));
    }
    // No head: the entries' recorded leaf hashes say it. A few are read, so that an altered first
    // entry does not hide the hash of the others.
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash FROM audit_entries \
         ORDER BY seq LIMIT 16",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let entry = entry_from_row(row)?;
        let bytes = entry.leaf_bytes();
        for suite in [Suite::Sm, Suite::International] {
            if fengcun_ledger::Hasher::new(suite)
                .leaf_hash(&bytes)
                .to_hex()
                == entry.leaf_hash
            {
                return Ok(Some(suite));
            }
        }
    }
    Ok(None)
}

/// Rows read per statement when the log is streamed.
const PAGE: i64 = 10_000;

type EntryRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Vec<u8>,
);

fn entry_from_row(row: EntryRow) -> Result<AuditEntry, StoreError> {
    let (seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash) = row;
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt("audit seq".into()))?,
        at,
        kind,
        actor,
        purpose,
        outcome,
        subject,
        detail,
        leaf_hash: leaf_hash.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

impl crate::SqlStore {
    /// Appends audit events in the caller's transaction, so that they commit with the action they
    /// record or not at all. Updating the tip first takes its row lock: appenders queue on it.
    pub(crate) async fn append_audit(
        &self,
        tx: &mut sqlx::AnyConnection,
        events: &[AuditEvent],
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        sqlx::query("UPDATE audit_tip SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let (size, nodes): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, nodes FROM audit_tip WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let suite = self.keys().suite();
        let mut frontier = frontier_from_row(suite, size, &nodes)?;
        let hasher = frontier.hasher();
        let at = crate::sql::ts(now);
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let seq = frontier.size();
            let detail = event.detail.to_string();
            let bytes = leaf_bytes(
                seq,
                &at,
                event.kind.code(),
                &event.actor,
                event.purpose.as_deref(),
                &event.outcome,
                event.subject.as_deref(),
                &detail,
            );
            let leaf = hasher.leaf_hash(&bytes);
            frontier.push_leaf_hash(leaf);
            rows.push([
                crate::apply::Param::Int(seq as i64),
                crate::apply::Param::text(at.clone()),
                crate::apply::Param::text(event.kind.code()),
                crate::apply::Param::text(event.actor.clone()),
                crate::apply::Param::Text(event.purpose.clone()),
                crate::apply::Param::text(event.outcome.clone()),
                crate::apply::Param::Text(event.subject.clone()),
                crate::apply::Param::text(detail),
                crate::apply::Param::Blob(leaf.0.to_vec()),
            ]);
        }
        self.insert_rows(
            tx,
            "INSERT INTO audit_entries (seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash) VALUES",
            rows,
        )
        .await?;
        sqlx::query("UPDATE audit_tip SET size = $1, nodes = $2 WHERE id = 1")
            .bind(frontier.size() as i64)
            .bind(frontier_bytes(&frontier))
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    pub(crate) async fn audit_page(
        &self,
        from: u64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT seq, at, kind, actor, purpose, outcome, subject, detail, leaf_hash FROM audit_entries \
             WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(from as i64)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    /// The hash the stored log is built with, as the log itself says: the hash its newest stored
    /// head names, else the hash under which its first entries' columns give their recorded leaf
    /// hashes. `None` for a log with neither (empty, or every entry read altered).
    pub async fn audit_hash(&self) -> Result<Option<Suite>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        log_hash(&mut conn).await
    }

    /// Signs the tree as it stands. Without `force`, nothing is signed when no entry was appended
    /// since the last head (the periodic signer's case). The head is of the store's suite, which
    /// must be the log's own hash: a store opened for another hash signs nothing.
    pub(crate) async fn sign_head(
        &self,
        key: &fengcun_crypto::SigningKey,
        now: jiff::Timestamp,
        force: bool,
    ) -> Result<Option<SignedTreeHead>, StoreError> {
        let mut tx = self.begin_write().await?;
        let suite = self.keys().suite();
        if let Some(found) = log_hash(&mut tx).await?
            && found != suite
        {
            return Err(StoreError::AuditHash {
                log: found,
                given: suite,
            });
        }
        let (size, nodes): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, nodes FROM audit_tip WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(size) FROM tree_heads")
            .fetch_one(&mut *tx)
            .await?;
        if !force && last == Some(size) {
            return Ok(None);
        }
        let frontier = frontier_from_row(suite, size, &nodes)?;
        // A head's time is whole milliseconds; stored times are whole seconds.
        let now = now.round(jiff::Unit::Second).unwrap_or(now);
        // The tree's hash is the log's; the signature is the key's own algorithm (SM2 or Ed25519,
        // either over either hash: the head names both).
        let head = TreeHead::new(frontier.size(), frontier.root(), now, suite).sign(key);
        sqlx::query("INSERT INTO tree_heads (size, at, line) VALUES ($1, $2, $3) ON CONFLICT (size, at) DO NOTHING")
            .bind(size)
            .bind(crate::sql::ts(now))
            .bind(head.to_json())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(head))
    }

    pub(crate) async fn head_lines(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT line FROM tree_heads ORDER BY size, at")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }

    /// The tree of recorded leaf hashes up to `size`, for proofs.
    async fn proof_tree(&self, size: u64) -> Result<fengcun_ledger::Tree, StoreError> {
        let mut tree = fengcun_ledger::Tree::with_capacity(self.keys().suite(), size);
        let mut from = 0u64;
        while tree.len() < size {
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT seq, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3",
            )
            .bind(from as i64)
            .bind(size as i64)
            .bind(PAGE * 10)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Err(StoreError::NotFound(format!(
                    "the audit log has fewer than {size} entries"
                )));
            }
            for (seq, leaf) in rows {
                let leaf = <[u8; 32]>::try_from(leaf.as_slice())
                    .map_err(|_| StoreError::Corrupt(format!("leaf hash of entry {seq}")))?;
                tree.push_leaf_hash(Hash(leaf));
                from = seq as u64 + 1;
            }
        }
        Ok(tree)
    }

    pub(crate) async fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        let tree = self.proof_tree(size).await?;
        tree.inclusion_proof(index, size)
            .map_err(|e| StoreError::NotFound(e.to_string()))
    }

    pub(crate) async fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        let tree = self.proof_tree(new).await?;
        tree.consistency_proof(old, new)
            .map_err(|e| StoreError::NotFound(e.to_string()))
    }

    /// Recomputes the tree from every row and checks it against the stored heads (signatures
    /// checked when `key` is given) and the heads given from outside.
    pub(crate) async fn verify_log(
        &self,
        outside: &[String],
        key: Option<&VerifyingKey>,
    ) -> Result<AuditReport, StoreError> {
        let stored = self.head_lines().await?;
        let suite = self.keys().suite();
        let mut report = AuditReport {
            entries: 0,
            root: String::new(),
            stored_heads: stored.len(),
            outside_heads: outside.len(),
            signatures_checked: 0,
            problem: None,
        };
        let heads = read_heads(&stored, key).and_then(|(mut heads, checked)| {
            report.signatures_checked = checked;
            // Heads kept outside are checked with the key when there is one, like the stored.
            let (more, checked) = read_heads(outside, key)?;
            report.signatures_checked += checked;
            heads.extend(more);
            Ok(heads)
        });
        let mut audit = match heads.and_then(|heads| RowAudit::new(suite, heads)) {
            Ok(audit) => audit,
            Err(problem) => {
                report.problem = Some(problem);
                return Ok(report);
            }
        };
        let mut from = 0u64;
        'pages: loop {
            let page = self.audit_page(from, PAGE).await?;
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            for entry in &page {
                if !audit.push(entry, suite) {
                    break 'pages;
                }
            }
        }
        let (entries, root, problem) = audit.finish();
        report.entries = entries;
        report.root = root.map(|r| r.to_hex()).unwrap_or_default();
        report.problem = problem;
        Ok(report)
    }
}
