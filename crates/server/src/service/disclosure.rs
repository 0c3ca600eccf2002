//! Look-ups (docs/disclosure.md). The decision is the pure `fengcun_access::answer`; this module
//! reads the records and grants, writes the audit entries, and answers with the bytes the
//! decision made — so a sealed record without a covering grant is answered exactly as a record
//! that does not exist. Also the reading of stored records that look-ups and certificates share.

use fengcun_access::{Answer, Candidate, Grant, Purpose};
use fengcun_domain::{
    Catalogue, Culpability, IdNumber, PrincipalKind, Record, TagSet, parse_record,
};
use fengcun_store::{AuditEvent, AuditKind, GrantRow, PersonRecord, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{Caller, Result, ServiceError, refuse};
use crate::AppState;
use crate::config::Role;
use crate::limits;

/// Roles that ask on behalf of a requester kind.
/// A person asks as themself (`self_inspection`, `certificate`).
pub(super) const ASKERS: &[Role] = &[
    Role::Clerk,
    Role::Approver,
    Role::Requester,
    Role::Agency,
    Role::Person,
];

pub(super) fn purpose(code: &str) -> Result<Purpose> {
    Purpose::parse(code).ok_or_else(|| {
        ServiceError::Invalid(format!(
            "purpose: `{code}` is none of {}",
            Purpose::ALL.map(Purpose::code).join(", ")
        ))
    })
}

fn identity(id_number: &str) -> Result<String> {
    let id =
        IdNumber::parse(id_number).map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))?;
    Ok(format!("id:{id}"))
}

/// Who asks, as what, for what: a look-up's or a request's query. A role that does not ask is
/// refused, and the refusal audited, as `action`.
pub(super) async fn asking(
    state: &AppState,
    caller: &Caller,
    action: &str,
    purpose_code: &str,
    post: &Option<String>,
) -> Result<fengcun_access::Query> {
    if !caller.holds(ASKERS) {
        let reason = format!("this role does not ask ({action})");
        return Err(refuse(state, caller, action, reason).await?);
    }
    let Some(kind) = caller.kind else {
        let reason = "this caller has no requester kind and may not ask".to_owned();
        return Err(refuse(state, caller, action, reason).await?);
    };
    Ok(fengcun_access::Query {
        requester: caller.name.clone(),
        kind,
        purpose: purpose(purpose_code)?,
        post: post.clone(),
        own_person_key: caller.person_key.clone(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// The purpose asked under (docs/disclosure.md).
    pub purpose: String,
    /// For vetting: the post vetted for (1 to 64 characters).
    #[serde(default)]
    pub post: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub case_code: Option<String>,
    /// The document the look-up is made under (案号, 函号), kept in the audit entry.
    #[serde(default)]
    pub basis: Option<String>,
}

/// Records of a person or a case, as the caller may see them: the JSON body the decision made
/// (`fengcun_access::Answer::to_json`), whose bytes depend only on what is shown.
pub async fn lookup(
    state: &AppState,
    caller: &Caller,
    mut request: LookupRequest,
) -> Result<String> {
    limits::check_optional(limits::POST, request.post.as_deref())?;
    request.basis =
        limits::check_optional(limits::LOOKUP_BASIS, request.basis.as_deref())?.map(str::to_owned);
    let query = asking(state, caller, "lookup", &request.purpose, &request.post).await?;
    let person_key = request
        .id_number
        .as_deref()
        .map(identity)
        .transpose()?
        .map(|id| state.store.person_key(&id));
    let case_code = request
        .case_code
        .as_deref()
        .map(|c| {
            fengcun_domain::CaseCode::parse(c)
                .map(|c| c.to_string())
                .map_err(|e| ServiceError::Invalid(format!("case_code: {e}")))
        })
        .transpose()?;
    if person_key.is_none() && case_code.is_none() {
        return Err(ServiceError::Invalid(
            "give id_number or case_code (or both)".into(),
        ));
    }
    let now = state.clock.now();
    let grants = grants_of(state, &caller.name).await?;
    // A sealed record is decrypted only if it might be shown: the caller's own, or one of a
    // person a live grant of the caller's is for. Any other is hidden whatever its content.
    let granted: std::collections::BTreeSet<String> = grants
        .iter()
        .filter(|g| !g.revoked && g.not_before <= now && now < g.expires)
        .map(|g| g.person_key.clone())
        .collect();
    let own = caller.person_key.clone();
    let today = fengcun_domain::date::china_date(now);
    let open = move |person: &str, record_state: &str, state_date: Option<&str>| {
        !fengcun_lifecycle::sealed_on(record_state, state_date, today)
            || own.as_deref() == Some(person)
            || granted.contains(person)
    };
    let records = state
        .store
        .records_of(person_key.as_deref(), case_code.as_deref(), &open)
        .await?;
    let candidates = records
        .iter()
        .map(|record| candidate(record, today))
        .collect::<Result<Vec<Candidate>>>()?;
    let answer = fengcun_access::answer(&state.disclosure, &query, &candidates, &grants, now);
    let subject = person_key
        .clone()
        .or_else(|| case_code.as_ref().map(|c| format!("case:{c}")));
    // Whom the look-up concerns (who looked at my record): the person asked for, and every
    // person whose record the query found, shown or not.
    let mut concerned: Vec<String> = person_key.iter().cloned().collect();
    for record in &records {
        if !concerned.contains(&record.person_key) {
            concerned.push(record.person_key.clone());
        }
    }
    let mut events = lookup_audit(
        caller,
        &query,
        &request,
        subject,
        &answer,
        candidates.len(),
        &grants,
    );
    for event in &mut events {
        match event.kind {
            AuditKind::Lookup => event.concerns = concerned.clone(),
            _ => {
                // A grant read concerns the grant's person.
                let grant_id = event
                    .subject
                    .as_deref()
                    .and_then(|s| s.strip_prefix("grant:"));
                if let Some(grant) = grants.iter().find(|g| Some(g.id.as_str()) == grant_id) {
                    event.concerns = vec![grant.person_key.clone()];
                }
            }
        }
    }
    state.store.audit(&events, now).await?;
    Ok(answer.to_json())
}

/// The answer to a look-up, as `fengcun_access::Answer::to_json` writes it (its bytes depend only
/// on what is shown). Describes the body; the tests read real answers into it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupAnswer {
    /// `records`, `no_record` (查无记录) or `no_right` (无权查询).
    pub answer: LookupOutcome,
    /// 查询结果, 查无记录 or 无权查询.
    pub message: String,
    /// `no_right`: the legal basis of the refusal.
    #[serde(default)]
    pub basis: Option<String>,
    /// The records shown (none for `no_record` and `no_right`).
    pub records: Vec<ShownRecord>,
}

#[derive(Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookupOutcome {
    Records,
    NoRecord,
    NoRight,
}

/// One record shown.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShownRecord {
    pub case_code: String,
    /// The grant a sealed record was read under.
    #[serde(default)]
    pub grant: Option<String>,
    /// The duty of confidentiality of a sealed record read under a grant, where the rule that
    /// shows it carries one (a violation record: 治安管理处罚法 art. 136), in Chinese.
    #[serde(default)]
    pub confidentiality: Option<String>,
    /// The summary or the full view, as the disclosure table allows.
    pub record: RecordView,
}

/// What a look-up shows of a record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RecordView {
    Summary(SummaryView),
    Full(FullView),
}

/// Charges, disposition, sentence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryView {
    pub case_code: String,
    /// The charges' names.
    pub charges: Vec<String>,
    /// How the case ended (`convicted`, …), if it has.
    pub disposition: Option<String>,
    /// The date the judgment took effect (YYYY-MM-DD).
    pub judgment_effective_date: Option<String>,
    /// The sentence, in Chinese.
    pub sentence: Option<String>,
}

/// The record: its state and its facts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FullView {
    pub case_code: String,
    /// The record's state (`sealed`, `pending_seal`, …).
    pub state: String,
    /// The date of the state (YYYY-MM-DD), if it has one.
    pub state_date: Option<String>,
    /// The record's facts (docs/events.md).
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

/// The look-up's entry, and one `grant_use` entry per grant a sealed record was read under.
fn lookup_audit(
    caller: &Caller,
    query: &fengcun_access::Query,
    request: &LookupRequest,
    subject: Option<String>,
    answer: &Answer,
    found: usize,
    grants: &[Grant],
) -> Vec<AuditEvent> {
    let person_of = |id: &str| {
        grants
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.person_key.clone())
    };
    let (outcome, shown) = match answer {
        Answer::NoRight { .. } => ("no_right", 0),
        Answer::Records(records) if records.is_empty() => ("no_record", 0),
        Answer::Records(records) => ("records", records.len()),
    };
    let mut lookup = AuditEvent::new(AuditKind::Lookup, &caller.name, outcome)
        .purpose(query.purpose.code())
        .detail(json!({
            "requester_kind": query.kind.code(),
            "agency": caller.agency,
            "post": query.post,
            "basis": request.basis,
            "by": if request.id_number.is_some() { "id_number" } else { "case_code" },
            "shown": shown,
            // Records found but not shown (sealed, no grant covering them): the supervision
            // rules read it (docs/supervision.md); the answer itself says nothing of them.
            "withheld": found.saturating_sub(shown),
            "role": caller.role.code(),
            "agency": caller.agency,
        }));
    if let Some(subject) = subject.clone() {
        lookup = lookup.subject(subject);
    }
    let mut events = vec![lookup];
    if let Answer::Records(records) = answer {
        for grant in answer.grants_used() {
            let cases: Vec<&str> = records
                .iter()
                .filter(|r| r.grant.as_deref() == Some(grant.as_str()))
                .map(|r| r.case_code.as_str())
                .collect();
            events.push(
                AuditEvent::new(AuditKind::GrantUse, &caller.name, "read")
                    .purpose(query.purpose.code())
                    .subject(format!("grant:{grant}"))
                    .detail(json!({"cases": cases, "person": person_of(&grant), "role": caller.role.code(), "agency": caller.agency})),
            );
        }
    }
    events
}

async fn grants_of(state: &AppState, requester: &str) -> Result<Vec<Grant>> {
    state
        .store
        .grants(Some(requester))
        .await?
        .into_iter()
        .map(|g| grant(&g))
        .collect()
}

pub(super) fn grant(row: &GrantRow) -> Result<Grant> {
    let time = |text: &str| {
        text.parse::<jiff::Timestamp>()
            .map_err(|e| ServiceError::Store(StoreError::Corrupt(e.to_string())))
    };
    Ok(Grant {
        id: row.grant_id.clone(),
        requester: row.requester.clone(),
        person_key: row.person_key.clone(),
        purpose: row.purpose,
        post: row.post.clone(),
        not_before: time(&row.not_before)?,
        expires: time(&row.expires)?,
        revoked: row.revoked_at.is_some(),
    })
}

/// The domain record of stored facts — read back with the same parser as every record-facts
/// line — or `None` where the facts were not opened (a sealed record the caller may not see).
pub fn stored_record(record: &PersonRecord) -> Result<Option<Record>> {
    record
        .facts
        .as_ref()
        .map(|facts| {
            let bytes = serde_json::to_vec(facts)
                .map_err(|e| ServiceError::Store(StoreError::Corrupt(e.to_string())))?;
            parse_record(&bytes)
                .map_err(|e| ServiceError::Store(StoreError::Corrupt(format!("record facts: {e}"))))
        })
        .transpose()
}

/// The charges' official names.
pub fn charge_names(record: &Record) -> Vec<String> {
    let catalogue = Catalogue::builtin();
    record
        .charges
        .iter()
        .map(|c| catalogue.get(c.id).name.clone())
        .collect()
}

/// What the person did, by its official names: a criminal record's charges (罪名), a violation
/// record's behaviours (违法行为, which it has instead).
pub fn offence_names(record: &Record) -> Vec<String> {
    if record.is_violation() {
        let catalogue = fengcun_domain::ViolationCatalogue::builtin();
        record
            .violations
            .iter()
            .map(|id| catalogue.get(*id).name.clone())
            .collect()
    } else {
        charge_names(record)
    }
}

/// What a record's disposition establishes against the person (a post's vetting sees only that).
/// A judgment of guilt establishes it once it has taken effect: a first-instance judgment under
/// appeal is no criminal record (CPL art. 12; 2021 MPS rules art. 2: 生效判决).
fn established(facts: &Record) -> Option<fengcun_access::Established> {
    use fengcun_access::Established;
    use fengcun_domain::{Disposition, NonProsecutionGround};
    match (facts.disposition, facts.non_prosecution_ground) {
        (Disposition::Convicted, _) if facts.judgment_effective_date.is_some() => {
            Some(Established::Conviction)
        }
        (Disposition::NotProsecuted, Some(NonProsecutionGround::Discretionary)) => {
            Some(Established::DiscretionaryNonProsecution)
        }
        // Likewise a penalty decision, once it has taken effect (not while reconsidered).
        (Disposition::Penalized, _) if facts.decision_effective_date.is_some() => {
            Some(Established::Penalty)
        }
        _ => None,
    }
}

/// A stored record as disclosure sees it on `today` (sealed on its date, whether or not the
/// scheduler has run). An unopened sealed record has no content: it is hidden whatever it holds,
/// for no covering grant exists.
pub fn candidate(record: &PersonRecord, today: fengcun_domain::Date) -> Result<Candidate> {
    let facts = stored_record(record)?;
    let charges = facts.as_ref().map(charge_names).unwrap_or_default();
    let summary = match facts.as_ref().filter(|f| f.is_violation()) {
        // A violation record: its behaviours and penalty (处罚决定), never charges or a sentence.
        Some(f) => {
            let catalogue = fengcun_domain::ViolationCatalogue::builtin();
            json!({
                "case_code": record.case_code,
                "kind": f.kind.code(),
                "disposition": f.disposition.code(),
                "violations": f.violations.iter().map(|id| catalogue.get(*id).name.clone()).collect::<Vec<_>>(),
                "penalty": f.penalty.map(|p| p.chinese()),
                "decision_effective_date": f.decision_effective_date.map(|d| d.to_string()),
            })
        }
        None => json!({
            "case_code": record.case_code,
            "disposition": facts.as_ref().map(|f| f.disposition.code()),
            "charges": charges,
            "sentence": facts.as_ref().and_then(|f| f.sentence).map(|s| s.chinese()),
            "judgment_effective_date": facts.as_ref().and_then(|f| f.judgment_effective_date).map(|d| d.to_string()),
        }),
    };
    let full = json!({
        "case_code": record.case_code,
        "state": record.state,
        "state_date": record.state_date,
        "facts": record.facts,
    });
    let catalogue = fengcun_domain::ViolationCatalogue::builtin();
    let behaviours: Vec<&fengcun_domain::Behaviour> = facts
        .as_ref()
        .map(|f| f.violations.iter().map(|id| catalogue.get(*id)).collect())
        .unwrap_or_default();
    let mut violation_tags: Vec<String> = behaviours
        .iter()
        .flat_map(|b| b.tags.iter().cloned())
        .collect();
    violation_tags.sort();
    violation_tags.dedup();
    Ok(Candidate {
        person_key: record.person_key.clone(),
        case_code: record.case_code.clone(),
        // An unopened (sealed, hidden) record's kind is unknown and irrelevant: no rule shows it.
        kind: facts.as_ref().map_or_else(Default::default, |f| f.kind),
        violation_tags,
        violation_behaviours: behaviours.iter().map(|b| b.name.clone()).collect(),
        detention: facts
            .as_ref()
            .and_then(|f| f.penalty)
            .is_some_and(|p| p.detention_days > 0),
        sealed: record.sealed_on(today),
        established: facts.as_ref().and_then(established),
        tags: facts.as_ref().map_or(TagSet::EMPTY, Record::tags),
        charges,
        intentional: facts.as_ref().is_some_and(|f| {
            f.charges
                .iter()
                .any(|c| c.culpability == Culpability::Intentional)
        }),
        principal: facts
            .as_ref()
            .and_then(|f| f.sentence)
            .map(|s| s.principal.kind),
        // Death and life imprisonment carry deprivation of political rights for life (art. 57).
        political_rights: facts.as_ref().and_then(|f| f.sentence).is_some_and(|s| {
            s.political_rights_months > 0
                || matches!(
                    s.principal.kind,
                    PrincipalKind::Life | PrincipalKind::DeathSuspended | PrincipalKind::Death
                )
        }),
        summary,
        full,
    })
}
