//! Asking for a correction (docs/person.md): a person flags one of their records as wrong — which
//! fact, in their own words — and the request goes to the agency holding that fact; the clerks
//! of that agency (only) see it in their queue and answer it: accepted with the agency's
//! correction event (the `correction` kind the ingestion takes, docs/events.md), or refused with
//! a reason. The person sees the answer in the portal. Every step is audited (`correction`
//! entries; the lists as `read` entries).

use fengcun_domain::{Event, EventKind};
use fengcun_lifecycle::Actor;
use fengcun_store::{
    AuditEvent, AuditKind, CorrectionAnswer, CorrectionRow, CorrectionStatus, RecordTimeline,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{Caller, Result, ServiceError};
use crate::AppState;
use crate::config::Role;
use crate::limits::{self, Bound};

/// The person's account of what is wrong.
pub const CORRECTION_TEXT: Bound = Bound {
    field: "text",
    min: 4,
    max: 2000,
    lines: true,
};
/// The agency's reason for a refusal (or its note on an acceptance).
pub const CORRECTION_REASON: Bound = Bound {
    field: "reason",
    min: 4,
    max: 1000,
    lines: true,
};

/// The facts a person may flag, each with the kinds of event that state it: the request goes to
/// the agency that sent the latest such event of the record (the one that can correct it), or —
/// for `other`, or a fact no event of the record states — the agency of the record's latest event.
pub const FIELDS: &[(&str, &[EventKind])] = &[
    (
        "charges",
        &[
            EventKind::Judgment,
            EventKind::NotProsecuted,
            EventKind::Indicted,
            EventKind::Filed,
        ],
    ),
    ("sentence", &[EventKind::Judgment]),
    // A violation record's own facts (治安管理处罚法): its behaviours, its penalty and when the
    // decision took effect, answered by the public-security organ that decided it.
    (
        "violations",
        &[
            EventKind::ViolationDecisionChanged,
            EventKind::ViolationPenalized,
            EventKind::ViolationNotPenalized,
            EventKind::ViolationAccepted,
        ],
    ),
    (
        "penalty",
        &[
            EventKind::ViolationDecisionChanged,
            EventKind::ViolationPenalized,
        ],
    ),
    (
        "disposition",
        &[
            EventKind::Judgment,
            EventKind::NotProsecuted,
            EventKind::CaseWithdrawn,
            EventKind::ViolationPenalized,
            EventKind::ViolationNotPenalized,
            EventKind::ViolationWithdrawn,
            EventKind::ViolationDecisionRevoked,
        ],
    ),
    (
        "offence_date",
        &[
            EventKind::Judgment,
            EventKind::Filed,
            EventKind::ViolationAccepted,
        ],
    ),
    ("judgment_effective_date", &[EventKind::JudgmentEffective]),
    (
        "decision_effective_date",
        &[EventKind::ViolationDecisionEffective],
    ),
    (
        "execution",
        &[
            EventKind::ExecutionCompleted,
            EventKind::ProbationCompleted,
            EventKind::ViolationExecutionCompleted,
        ],
    ),
    (
        "identity",
        &[EventKind::Filed, EventKind::ViolationAccepted],
    ),
    ("other", &[]),
];

/// A new request, as the person sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// The record's case code (one of the person's own records).
    pub case_code: String,
    /// Which fact is wrong: `charges`, `sentence`, `violations`, `penalty`, `disposition`,
    /// `offence_date`, `judgment_effective_date`, `decision_effective_date`, `execution`,
    /// `identity` or `other` (the violation record's own: `violations`, `penalty`,
    /// `decision_effective_date`).
    pub field: String,
    /// What is wrong and what is right, in the person's words (4 to 2,000 characters).
    pub text: String,
}

/// An agency's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionDecision {
    /// `accept` (with `event`) or `refuse` (with `reason`).
    pub decision: String,
    /// Refused: why (4 to 1,000 characters); accepted: an optional note to the person.
    #[serde(default)]
    pub reason: Option<String>,
    /// Accepted: the agency's `correction` event (docs/events.md), for the request's person and
    /// case, from the clerk's own agency; it is ingested as the agency's systems would send it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
}

/// A correction request as its person or the agency sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Correction {
    pub request_id: String,
    pub case_code: String,
    pub field: String,
    /// The agency it is addressed to: its code …
    pub agency: String,
    /// … and its name as the platform is configured with it (its code where none is).
    pub agency_name: String,
    pub text: String,
    /// `open`, `accepted` or `refused`.
    pub status: String,
    pub answer: Option<String>,
    /// Accepted: the key of the agency's correction event.
    pub correction_key: Option<String>,
    pub created_at: String,
    pub answered_at: Option<String>,
    /// For the person: an answer they had not seen before this read.
    pub new_answer: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Corrections {
    pub corrections: Vec<Correction>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Only requests of this status (`open`, `accepted`, `refused`).
    pub status: Option<String>,
}

fn view(state: &AppState, row: CorrectionRow, new_answer: bool) -> Correction {
    Correction {
        agency_name: state.config.agency_name(&row.agency),
        request_id: row.request_id,
        case_code: row.case_code,
        field: row.field,
        agency: row.agency,
        text: row.text,
        status: row.status.as_str().to_owned(),
        answer: row.answer,
        correction_key: row.correction_key,
        created_at: row.created_at,
        answered_at: row.answered_at,
        new_answer,
    }
}

/// The agency a request about `field` of this record goes to.
fn addressed_agency(lives: &[RecordTimeline], field: &[EventKind]) -> Option<String> {
    let events: Vec<_> = lives.iter().flat_map(|l| l.events.iter()).collect();
    let latest_of = |kinds: &[EventKind]| {
        events
            .iter()
            .filter(|e| kinds.is_empty() || kinds.iter().any(|k| k.code() == e.kind))
            .filter(|e| e.kind != EventKind::Correction.code())
            .max_by(|a, b| (&a.date, &a.received_at).cmp(&(&b.date, &b.received_at)))
            .map(|e| e.agency_code.clone())
    };
    latest_of(field).or_else(|| latest_of(&[]))
}

/// A criminal record has charges, a sentence and a judgment that takes effect; a violation record
/// (治安违法记录) behaviours, a penalty and a decision that takes effect: a request about a fact
/// the record cannot have would reach an agency with nothing to correct. The others fit both.
fn check_field_of_kind(field: &str, lives: &[RecordTimeline]) -> Result<()> {
    let violation = lives
        .iter()
        .flat_map(|l| &l.events)
        .any(|e| EventKind::parse(&e.kind).is_some_and(EventKind::is_violation));
    let (foreign, record) = if violation {
        (
            ["charges", "sentence", "judgment_effective_date"],
            "a violation record",
        )
    } else {
        (
            ["violations", "penalty", "decision_effective_date"],
            "a criminal record",
        )
    };
    if foreign.contains(&field) {
        let choices = FIELDS
            .iter()
            .map(|(code, _)| *code)
            .filter(|code| !foreign.contains(code))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ServiceError::Invalid(format!(
            "field: `{field}` is no fact of {record}; choose one of {choices}"
        )));
    }
    Ok(())
}

/// `POST /api/v1/me/corrections`: a person asks the agency holding one of their records to
/// correct it. Another person's record, or none, is not found — the same answer.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: NewCorrection,
) -> Result<Correction> {
    let me = super::portal::own_person_key(state, caller).await?;
    let text = limits::check(CORRECTION_TEXT, &request.text)?.to_owned();
    let Some((field, kinds)) = FIELDS.iter().find(|(code, _)| *code == request.field) else {
        return Err(ServiceError::Invalid(format!(
            "field: `{}` is none of {}",
            request.field,
            FIELDS
                .iter()
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let case_code = fengcun_domain::CaseCode::parse(&request.case_code)
        .map_err(|e| ServiceError::Invalid(format!("case_code: {e}")))?
        .to_string();
    let lives: Vec<RecordTimeline> = state
        .store
        .timelines(&case_code, None)
        .await?
        .into_iter()
        .filter(|l| l.record.person_key == me)
        .collect();
    let agency = addressed_agency(&lives, kinds).ok_or(ServiceError::NotFound)?;
    check_field_of_kind(field, &lives)?;
    if let Some(open) = state
        .store
        .corrections_of_person(&me)
        .await?
        .into_iter()
        .find(|c| {
            c.status == CorrectionStatus::Open && c.case_code == case_code && c.field == *field
        })
    {
        return Err(ServiceError::Conflict(format!(
            "field: a request about this fact of the record is open already ({}); its answer comes first",
            open.request_id
        )));
    }
    let now = state.clock.now();
    let row = CorrectionRow {
        request_id: format!("cor-{}", fengcun_crypto::random_hex::<8>()),
        person_key: me,
        requested_by: caller.name.clone(),
        case_code,
        field: (*field).to_owned(),
        agency,
        text,
        status: CorrectionStatus::Open,
        answered_by: None,
        answer: None,
        correction_key: None,
        created_at: now.to_string(),
        answered_at: None,
        seen_at: None,
    };
    let entry = AuditEvent::new(AuditKind::Correction, &caller.name, "requested")
        .subject(format!("correction:{}", row.request_id))
        .detail(json!({"case_code": row.case_code, "field": row.field, "agency": row.agency}));
    state.store.put_correction(&row, &[entry], now).await?;
    let stored = state
        .store
        .correction(&row.request_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(view(state, stored, false))
}

/// `GET /api/v1/me/corrections`: the person's own requests, newest first, each answer marked new
/// until this read (the portal's notification). Audited.
pub async fn mine(state: &AppState, caller: &Caller) -> Result<Corrections> {
    let me = super::portal::own_person_key(state, caller).await?;
    let rows = state.store.corrections_of_person(&me).await?;
    let now = state.clock.now();
    let corrections: Vec<Correction> = rows
        .into_iter()
        .map(|row| {
            let new_answer = row.status != CorrectionStatus::Open && row.seen_at.is_none();
            view(state, row, new_answer)
        })
        .collect();
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "corrections")
        .subject(me.clone())
        .detail(json!({"rows": corrections.len()}));
    state.store.audit(&[read], now).await?;
    state.store.mark_corrections_seen(&me, now).await?;
    Ok(Corrections { corrections })
}

/// The clerk's agency, or the audited refusal.
async fn clerk_agency(state: &AppState, caller: &Caller, action: &str) -> Result<String> {
    caller.require(state, action, &[Role::Clerk]).await?;
    match &caller.agency {
        Some(agency) => Ok(agency.clone()),
        None => {
            let reason = format!("a clerk without an agency may not {action}");
            Err(super::refuse(state, caller, action, reason).await?)
        }
    }
}

/// `GET /api/v1/corrections`: the requests addressed to the clerk's own agency (clerks only),
/// oldest first. Audited.
pub async fn queue(state: &AppState, caller: &Caller, query: QueueQuery) -> Result<Corrections> {
    let agency = clerk_agency(state, caller, "read correction requests").await?;
    let status = super::parse_code(
        "status",
        query.status.as_deref(),
        &CorrectionStatus::ALL,
        CorrectionStatus::as_str,
    )?;
    let rows = state.store.corrections_for_agency(&agency, status).await?;
    let corrections: Vec<Correction> = rows.into_iter().map(|r| view(state, r, false)).collect();
    let read = AuditEvent::new(AuditKind::Read, &caller.name, "correction_queue").detail(json!({
        "agency": agency,
        "status": status.map(CorrectionStatus::as_str),
        "rows": corrections.len(),
    }));
    state.store.audit(&[read], state.clock.now()).await?;
    Ok(Corrections { corrections })
}

/// `POST /api/v1/corrections/{id}/answer`: a clerk of the agency the request is addressed to
/// accepts it with the agency's correction event (ingested here) or refuses it with a reason. A
/// request of another agency is not found, as one that does not exist.
pub async fn answer(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    decision: CorrectionDecision,
) -> Result<Correction> {
    let agency = clerk_agency(state, caller, "answer correction requests").await?;
    let row = state
        .store
        .correction(request_id)
        .await?
        .filter(|r| r.agency == agency)
        .ok_or(ServiceError::NotFound)?;
    if row.status != CorrectionStatus::Open {
        return Err(ServiceError::Conflict(format!(
            "request_id: {request_id} was answered already ({})",
            row.status.as_str()
        )));
    }
    let reason =
        limits::check_optional(CORRECTION_REASON, decision.reason.as_deref())?.map(str::to_owned);
    let (status, correction_key) = match decision.decision.as_str() {
        "refuse" => {
            if reason.is_none() {
                return Err(ServiceError::Invalid(
                    "reason: a refusal gives its reason".into(),
                ));
            }
            (CorrectionStatus::Refused, None)
        }
        "accept" => {
            let event = decision.event.ok_or_else(|| {
                ServiceError::Invalid(
                    "event: an acceptance gives the agency's correction event".into(),
                )
            })?;
            let key = ingest_correction(state, &row, &agency, &event).await?;
            (CorrectionStatus::Accepted, Some(key))
        }
        other => {
            return Err(ServiceError::Invalid(format!(
                "decision: `{other}` is none of accept, refuse"
            )));
        }
    };
    let now = state.clock.now();
    let entry = AuditEvent::new(AuditKind::Correction, &caller.name, status.as_str())
        .subject(format!("correction:{request_id}"))
        .detail(json!({
            "case_code": row.case_code,
            "agency": agency,
            "correction_event": correction_key,
        }));
    let answered = CorrectionAnswer {
        status,
        answered_by: caller.name.clone(),
        answer: reason,
        correction_key,
    };
    if !state
        .store
        .answer_correction(request_id, &answered, &[entry], now)
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "request_id: {request_id} was answered already"
        )));
    }
    let stored = state
        .store
        .correction(request_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(view(state, stored, false))
}

/// Checks the agency's correction event against the request and ingests it, as the agency's own
/// system would send it; its idempotency key.
async fn ingest_correction(
    state: &AppState,
    row: &CorrectionRow,
    agency: &str,
    event: &serde_json::Value,
) -> Result<String> {
    let bytes =
        serde_json::to_vec(event).map_err(|e| ServiceError::Invalid(format!("event: {e}")))?;
    let valid = Event::parse(&bytes).map_err(|e| ServiceError::Invalid(format!("event.{e}")))?;
    if valid.event.kind != EventKind::Correction {
        return Err(ServiceError::Invalid(format!(
            "event: kind must be correction, is {}",
            valid.event.kind.code()
        )));
    }
    if valid.event.agency.code != agency {
        return Err(ServiceError::Invalid(format!(
            "event: agency.code must be the clerk's agency {agency}"
        )));
    }
    if state.store.person_key(&valid.identity) != row.person_key {
        return Err(ServiceError::Invalid(
            "event: person is not the person of the request".into(),
        ));
    }
    if valid.case_code.as_ref().map(ToString::to_string).as_deref() != Some(row.case_code.as_str())
    {
        return Err(ServiceError::Invalid(format!(
            "event: case_code must be {}",
            row.case_code
        )));
    }
    let key = valid.event.idempotency_key.clone();
    let ctx = state.context(Actor::Automatic).await;
    let outcome = state
        .store
        .ingest(std::slice::from_ref(&valid), &ctx)
        .await?;
    if let Some(outcome) = outcome.first() {
        state.metrics.events(*outcome);
    }
    Ok(key)
}
