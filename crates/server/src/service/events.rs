//! Ingestion: an agency system (for its own agency, as the kind it is registered as) or an
//! operator sends events; the store decides what follows.

use fengcun_domain::{AgencyKind, Event, ValidEvent};
use fengcun_lifecycle::Actor;
use fengcun_store::LineOutcome;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{Caller, Result, ServiceError, refuse};
use crate::AppState;
use crate::config::Role;

/// The most events one batch holds.
pub const BATCH_MAX: usize = 10_000;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored now.
    Stored,
    /// The same event was stored before under this idempotency key.
    Duplicate,
}

impl From<LineOutcome> for Outcome {
    fn from(outcome: LineOutcome) -> Self {
        match outcome {
            LineOutcome::Stored => Outcome::Stored,
            LineOutcome::Duplicate => Outcome::Duplicate,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ingested {
    pub outcome: Outcome,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchIngested {
    pub duplicates: usize,
    /// One outcome per line, in order.
    pub results: Vec<Outcome>,
    pub stored: usize,
}

/// The kind an agency key's events speak as: the kind its agency is registered with (configured,
/// or by the agency's first event imported or sent by an operator), read once per request. Never
/// the kind an event declares: a police key could otherwise send a court's judgment.
async fn sender_kind(state: &AppState, caller: &Caller) -> Result<Option<AgencyKind>> {
    match (caller.role, &caller.agency) {
        (Role::Agency, Some(own)) => Ok(state.store.agency_kind(own).await?),
        _ => Ok(None),
    }
}

/// An agency speaks for itself only, as the kind of agency it is registered as.
/// Only agency systems (for their own agency) and operators send events: a console user or a
/// requester could otherwise change a record's course, or probe for records by the answers.
/// (An operator may send for any agency; the store holds each event to its agency's registered
/// kind.)
async fn check_speaks_for(
    state: &AppState,
    caller: &Caller,
    own_kind: Option<AgencyKind>,
    event: &ValidEvent,
    line: Option<usize>,
) -> Result<()> {
    let agency = &event.event.agency;
    let reason = match (caller.role, &caller.agency) {
        (Role::Operator, _) => return Ok(()),
        (Role::Agency, Some(own)) if &agency.code == own => match own_kind {
            Some(kind) if kind == agency.kind => return Ok(()),
            Some(kind) => format!(
                "agency {own} is registered as {}; may not send events as {}",
                kind.code(),
                agency.kind.code()
            ),
            None => format!(
                "agency {own} is not registered with a kind: an operator configures it (`agencies`) before its key sends events"
            ),
        },
        _ => format!("may not send events for agency {}", agency.code),
    };
    // In a batch, the line the clerk must look at among thousands.
    let reason = match line {
        Some(line) => format!("line {line}: {reason}"),
        None => reason,
    };
    Err(refuse(state, caller, "send events", reason).await?)
}

fn invalid_lines(errors: Vec<(usize, fengcun_domain::FieldError)>) -> ServiceError {
    let lines: Vec<String> = errors
        .iter()
        .map(|(line, e)| format!("line {line}: {e}"))
        .collect();
    ServiceError::Invalid(lines.join("; "))
}

/// One event, parsed from its own bytes (a field given twice is refused).
pub async fn ingest_one(state: &AppState, caller: &Caller, body: &[u8]) -> Result<Ingested> {
    let event = Event::parse(body).map_err(|error| invalid_lines(vec![(1, error)]))?;
    let own_kind = sender_kind(state, caller).await?;
    check_speaks_for(state, caller, own_kind, &event, None).await?;
    let ctx = state.context(Actor::Automatic).await;
    let outcome = state
        .store
        .ingest(std::slice::from_ref(&event), &ctx)
        .await?;
    let outcome = outcome.first().copied().unwrap_or(LineOutcome::Duplicate);
    state.metrics.events(outcome);
    Ok(Ingested {
        outcome: outcome.into(),
    })
}

/// A batch is atomic: every line is stored (or was already), or none is and the error names the
/// lines that stopped it.
pub async fn ingest_batch(
    state: &AppState,
    caller: &Caller,
    batch: &[Value],
) -> Result<BatchIngested> {
    if batch.is_empty() || batch.len() > BATCH_MAX {
        return Err(ServiceError::Invalid(
            "a batch holds 1 to 10,000 events".into(),
        ));
    }
    let own_kind = sender_kind(state, caller).await?;
    let mut events = Vec::with_capacity(batch.len());
    let mut errors = Vec::new();
    for (index, value) in batch.iter().enumerate() {
        let bytes = serde_json::to_vec(value).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        match Event::parse(&bytes) {
            Ok(event) => {
                check_speaks_for(state, caller, own_kind, &event, Some(index + 1)).await?;
                events.push(event);
            }
            Err(error) => errors.push((index + 1, error)),
        }
    }
    if !errors.is_empty() {
        return Err(invalid_lines(errors));
    }
    let ctx = state.context(Actor::Automatic).await;
    let outcomes = state.store.ingest(&events, &ctx).await?;
    for outcome in &outcomes {
        state.metrics.events(*outcome);
    }
    let stored = outcomes
        .iter()
        .filter(|o| **o == LineOutcome::Stored)
        .count();
    Ok(BatchIngested {
        duplicates: outcomes.len() - stored,
        results: outcomes.into_iter().map(Outcome::from).collect(),
        stored,
    })
}

/// An event as agencies send it (docs/events.md lists every kind and its fields): the shape
/// `fengcun_domain::event::Event` reads, which the tests hold this description to, field by field.
/// Describes the body; events are parsed by the domain.
#[derive(Debug, ToSchema)]
#[schema(as = Event)]
#[allow(dead_code, reason = "describes the body; never built")]
pub struct EventBody {
    /// Chosen by the sender; the same event sent twice is stored once.
    idempotency_key: String,
    kind: EventKindCode,
    /// When it happened (YYYY-MM-DD), not when it was sent.
    date: String,
    /// The nationwide case code; may be omitted when `document_number` is already mapped to one.
    case_code: Option<String>,
    agency: EventAgency,
    /// The agency's own document number (e.g. `(2024)京0105刑初123号`).
    document_number: Option<String>,
    person: EventPerson,
    /// `filed`, `indicted`, `not_prosecuted`: the charges as known at that stage.
    charges: Option<Vec<EventCharge>>,
    /// YYYY-MM-DD
    offence_date: Option<String>,
    /// `not_prosecuted`: statutory | discretionary | insufficient_evidence | conditional (also
    /// read as `non_prosecution_ground`).
    ground: Option<String>,
    /// `not_prosecuted`: the person's convictions before this case.
    prior_convictions: Option<u32>,
    judgment: Option<EventJudgment>,
    /// `correction`: the idempotency key of the event it corrects …
    corrects: Option<String>,
    /// … and the corrected event, or none to retract it.
    #[schema(no_recursion, value_type = Option<Object>)]
    replacement: Option<Box<EventBody>>,
    /// Why the correction was made.
    reason: Option<String>,
    /// `violation_accepted`, `violation_penalized`, `violation_not_penalized`,
    /// `violation_decision_changed`: the behaviours (catalogue names, data/violations.tsv).
    violations: Option<Vec<EventViolation>>,
    /// `violation_penalized`, `violation_decision_changed`: the penalty, in the record-facts shape
    /// (docs/formats.md, "Violation record facts").
    #[schema(value_type = Option<Object>)]
    penalty: Option<serde_json::Value>,
    /// `violation_decision_revoked`, `violation_decision_changed`: `reconsideration` (行政复议) or
    /// `litigation` (行政诉讼).
    review: Option<String>,
}

/// A behaviour of a public-security violation case (违反治安管理行为).
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub struct EventViolation {
    /// The behaviour's name in the catalogue (e.g. 殴打他人).
    name: String,
    /// The article of the 治安管理处罚法 it falls under.
    article: Option<String>,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code, reason = "describes the body; never built")]
pub enum EventKindCode {
    Filed,
    Investigation,
    ArrestApproved,
    ArrestRefused,
    CaseWithdrawn,
    Indicted,
    NotProsecuted,
    Judgment,
    JudgmentEffective,
    ExecutionStarted,
    ExecutionCompleted,
    ProbationCompleted,
    Correction,
    ViolationAccepted,
    ViolationPenalized,
    ViolationNotPenalized,
    ViolationWithdrawn,
    ViolationDecisionEffective,
    ViolationExecutionCompleted,
    ViolationDecisionRevoked,
    ViolationDecisionChanged,
}

/// The sending agency.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub struct EventAgency {
    /// public_security, procuratorate, court, prison, community_correction, state_security
    kind: String,
    /// The agency's code, as the installation registers it.
    code: String,
    name: Option<String>,
}

/// Whom the event is about: an identity number, or a document type and number.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub struct EventPerson {
    id_number: Option<String>,
    document_type: Option<String>,
    document_number: Option<String>,
    name: Option<String>,
    /// YYYY-MM-DD
    birth_date: Option<String>,
}

/// A charge.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub struct EventCharge {
    /// The charge's name (罪名), e.g. 盗窃罪.
    name: String,
    article: Option<String>,
    /// intentional or negligent
    culpability: Option<String>,
}

/// `judgment`: the court's judgment.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "describes the body; never built")]
pub struct EventJudgment {
    /// first, appeal or retrial
    instance: String,
    /// convicted or acquitted
    verdict: String,
    charges: Option<Vec<EventCharge>>,
    /// The sentence (docs/events.md).
    #[schema(value_type = Option<Object>)]
    sentence: Option<()>,
    offence_date: Option<String>,
    recidivist: Option<bool>,
    prior_convictions: Option<u32>,
    sealed_juvenile_priors: Option<u32>,
    main_conduct_under_18: Option<bool>,
    #[schema(value_type = Option<Object>)]
    combined_sentence: Option<()>,
    combined_with: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    conditions: Option<()>,
}
