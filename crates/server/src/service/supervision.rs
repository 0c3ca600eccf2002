//! Supervision flags for supervisors (docs/supervision.md): the list, one flag with the audit
//! entries behind it, and its review. Every step is audited; a supervisor never reviews a flag
//! about themself. Flags carry person keys and entries (which hold keys and case codes), never a
//! record's facts.

use fengcun_store::{AuditEvent, AuditKind, FlagRow, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{Caller, Result, ServiceError, refuse};
use crate::AppState;
use crate::limits;

const SUPERVISORS: &[Role] = &[Role::Supervisor];

/// A flag: what a rule found, and its review.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagView {
    pub id: String,
    /// The rule's id (data/supervision/<rule>.toml).
    pub rule: String,
    /// The rule's title (Chinese).
    pub title: String,
    pub pattern: String,
    /// The user or key the flag is about.
    pub subject: String,
    /// The other party (a pair's requester, a refused colleague, a grant, a purpose).
    pub other: Option<String>,
    pub from: String,
    pub until: String,
    pub score: f64,
    /// The audit entries behind the flag (sequence numbers; each has an inclusion proof).
    pub entries: Vec<u64>,
    /// The persons concerned, by person key only.
    pub persons: Vec<String>,
    pub found_at: String,
    /// `null` while open; `no_issue` or `referred`.
    pub conclusion: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub note: Option<String>,
}

fn view(state: &AppState, row: FlagRow) -> FlagView {
    let title = state
        .supervision
        .rules
        .rule(&row.rule)
        .map(|r| r.title.clone())
        .unwrap_or_default();
    FlagView {
        title,
        entries: serde_json::from_str(&row.entries).unwrap_or_default(),
        persons: serde_json::from_str(&row.persons).unwrap_or_default(),
        id: row.id,
        rule: row.rule,
        pattern: row.pattern,
        subject: row.subject,
        other: row.other,
        from: row.period_from,
        until: row.period_until,
        score: row.score,
        found_at: row.found_at,
        conclusion: row.conclusion,
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at,
        note: row.note,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlagFilter {
    /// Only flags not reviewed yet.
    #[serde(default)]
    pub open: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Flags {
    pub flags: Vec<FlagView>,
}

/// The flags (supervisor); the read is a `read` entry.
pub async fn list(state: &AppState, caller: &Caller, filter: FlagFilter) -> Result<Flags> {
    caller
        .require(state, "read supervision flags", SUPERVISORS)
        .await?;
    let rows = state.store.flags(filter.open.unwrap_or(false)).await?;
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "flags")
        .detail(json!({"open": filter.open, "rows": rows.len(), "role": caller.role.code(), "agency": caller.agency}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(Flags {
        flags: rows.into_iter().map(|r| view(state, r)).collect(),
    })
}

/// An audit entry behind a flag, as the log holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagEntry {
    pub seq: u64,
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub purpose: Option<String>,
    pub outcome: String,
    pub subject: Option<String>,
    /// The detail as stored (JSON text).
    pub detail: String,
    /// The leaf hash recorded when it was appended (hex).
    pub leaf_hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlagDetail {
    pub flag: FlagView,
    pub entries: Vec<FlagEntry>,
}

/// One flag with the entries behind it (supervisor). Reading it is a `lookup` entry (subject
/// `flag:<id>`), so that supervisors' own look-ups are supervised like anyone's.
pub async fn show(state: &AppState, caller: &Caller, id: &str) -> Result<FlagDetail> {
    caller
        .require(state, "read a supervision flag", SUPERVISORS)
        .await?;
    let row = state.store.flag(id).await?.ok_or(ServiceError::NotFound)?;
    let flag = view(state, row);
    let mut entries = Vec::with_capacity(flag.entries.len());
    for seq in &flag.entries {
        if let Some(e) = state.store.audit_entries(*seq, 1).await?.pop() {
            entries.push(FlagEntry {
                seq: e.seq,
                at: e.at,
                kind: e.kind.code().to_owned(),
                actor: e.actor,
                purpose: e.purpose,
                outcome: e.outcome,
                subject: e.subject,
                detail: e.detail,
                leaf_hash: e.leaf_hash,
            });
        }
    }
    let entry = AuditEvent::new(AuditKind::Lookup, &caller.name, "flag")
        .purpose("supervision")
        .subject(format!("flag:{}", flag.id))
        .detail(json!({"by": "flag", "shown": entries.len(), "role": caller.role.code(), "agency": caller.agency}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(FlagDetail { flag, entries })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `no_issue` (无问题) or `referred` (移送处理).
    pub conclusion: String,
    /// Why (4 to 1000 characters).
    pub note: String,
}

/// Marks an open flag reviewed (supervisor, never one about themself), audited as a
/// `flag_reviewed` entry in the same transaction.
pub async fn review(state: &AppState, caller: &Caller, id: &str, body: Review) -> Result<FlagView> {
    caller
        .require(state, "review a supervision flag", SUPERVISORS)
        .await?;
    let row = state.store.flag(id).await?.ok_or(ServiceError::NotFound)?;
    let about = |name: &str| name == caller.name || name == caller.owner;
    if about(&row.subject) || row.other.as_deref().is_some_and(about) {
        return Err(refuse(
            state,
            caller,
            "review flag",
            "a supervisor never reviews a flag about themself".into(),
        )
        .await?);
    }
    if !matches!(body.conclusion.as_str(), "no_issue" | "referred") {
        return Err(ServiceError::Invalid(format!(
            "conclusion: `{}` is neither no_issue nor referred",
            body.conclusion
        )));
    }
    let note = limits::check(limits::DECISION_REASON, &body.note)
        .map_err(|_| ServiceError::Invalid("note: must be 4 to 1000 characters".into()))?;
    let now = state.clock.now();
    let event = AuditEvent::new(AuditKind::FlagReviewed, &caller.name, body.conclusion.as_str())
        .purpose("supervision")
        .subject(format!("flag:{id}"))
        .detail(json!({"rule": row.rule, "about": row.subject, "note": note, "role": caller.role.code(), "agency": caller.agency}));
    if !state
        .store
        .review_flag(id, &caller.name, &body.conclusion, note, &[event], now)
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "flag {id} was reviewed already"
        )));
    }
    let row = state.store.flag(id).await?.ok_or(ServiceError::NotFound)?;
    Ok(view(state, row))
}
