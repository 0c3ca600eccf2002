//! Look-ups and penetration requests (docs/disclosure.md). The decision is the pure
//! `fengcun_access::answer`; this module reads the records and grants, writes the audit entries,
//! and answers with the bytes the decision made — so a sealed record without a covering grant is
//! answered exactly as a record that does not exist.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fengcun_access::{Answer, Candidate, Grant, Purpose, RequesterKind};
use fengcun_domain::{
    Catalogue, Culpability, IdNumber, PrincipalKind, Record, TagSet, parse_record,
};
use fengcun_store::{
    AuditEvent, AuditKind, Decision, GrantRow, PersonRecord, RequestRow, StoreError,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::auth::{refuse, refuse_as};
use crate::config::Role;
use crate::error::ApiError;

/// Roles that ask on behalf of a requester kind.
const ASKERS: &[Role] = &[Role::Clerk, Role::Approver, Role::Requester, Role::Agency];
const DECIDERS: &[Role] = &[Role::Approver];
const OVERSEERS: &[Role] = &[Role::Approver, Role::Auditor];

fn purpose(code: &str) -> Result<Purpose, ApiError> {
    Purpose::parse(code).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "purpose: `{code}` is none of {}",
            Purpose::ALL.map(Purpose::code).join(", ")
        ))
    })
}

fn identity(id_number: &str) -> Result<String, ApiError> {
    let id =
        IdNumber::parse(id_number).map_err(|e| ApiError::BadRequest(format!("id_number: {e}")))?;
    Ok(format!("id:{id}"))
}

/// Who asks, as what, for what: a look-up's or a request's query. A role that does not ask is
/// refused, and the refusal audited, as `action`.
async fn asking(
    state: &AppState,
    caller: &Caller,
    action: &str,
    purpose_code: &str,
    post: &Option<String>,
) -> Result<fengcun_access::Query, ApiError> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    purpose: String,
    #[serde(default)]
    post: Option<String>,
    #[serde(default)]
    id_number: Option<String>,
    #[serde(default)]
    case_code: Option<String>,
    /// The document the look-up is made under (案号, 函号), kept in the audit entry.
    #[serde(default)]
    basis: Option<String>,
}

/// `POST /api/v1/lookups`: records of a person or a case, as the caller may see them.
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<LookupRequest>,
) -> Result<Response, ApiError> {
    let query = asking(&state, &caller, "lookup", &request.purpose, &request.post).await?;
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
                .map_err(|e| ApiError::BadRequest(format!("case_code: {e}")))
        })
        .transpose()?;
    if person_key.is_none() && case_code.is_none() {
        return Err(ApiError::BadRequest(
            "give id_number or case_code (or both)".into(),
        ));
    }
    let now = state.clock.now();
    let grants = grants_of(&state, &caller.name).await?;
    // A sealed record is decrypted only if it might be shown: the caller's own, or one of a
    // person a live grant of the caller's is for. Any other is hidden whatever its content.
    let granted: std::collections::BTreeSet<String> = grants
        .iter()
        .filter(|g| !g.revoked && g.not_before <= now && now < g.expires)
        .map(|g| g.person_key.clone())
        .collect();
    let own = caller.person_key.clone();
    let open = move |person: &str, record_state: &str| {
        record_state != "sealed" || own.as_deref() == Some(person) || granted.contains(person)
    };
    let records = state
        .store
        .records_of(person_key.as_deref(), case_code.as_deref(), &open)
        .await?;
    let candidates = records
        .iter()
        .map(candidate)
        .collect::<Result<Vec<Candidate>, ApiError>>()?;
    let answer = fengcun_access::answer(&state.disclosure, &query, &candidates, &grants, now);
    let subject = person_key
        .clone()
        .or_else(|| case_code.as_ref().map(|c| format!("case:{c}")));
    state
        .store
        .audit(
            &lookup_audit(&caller, &query, &request, subject, &answer),
            now,
        )
        .await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_json(),
    )
        .into_response())
}

/// The look-up's entry, and one `grant_use` entry per grant a sealed record was read under.
fn lookup_audit(
    caller: &Caller,
    query: &fengcun_access::Query,
    request: &LookupRequest,
    subject: Option<String>,
    answer: &Answer,
) -> Vec<AuditEvent> {
    let (outcome, shown) = match answer {
        Answer::NoRight { .. } => ("no_right", 0),
        Answer::Records(records) if records.is_empty() => ("no_record", 0),
        Answer::Records(records) => ("records", records.len()),
    };
    let mut lookup = AuditEvent::new(AuditKind::Lookup, &caller.name, outcome)
        .purpose(query.purpose.code())
        .detail(json!({
            "requester_kind": query.kind.code(),
            "post": query.post,
            "basis": request.basis,
            "by": if request.id_number.is_some() { "id_number" } else { "case_code" },
            "shown": shown,
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
                    .detail(json!({"cases": cases})),
            );
        }
    }
    events
}

async fn grants_of(state: &AppState, requester: &str) -> Result<Vec<Grant>, ApiError> {
    state
        .store
        .grants(Some(requester))
        .await?
        .into_iter()
        .map(|g| grant(&g))
        .collect()
}

fn grant(row: &GrantRow) -> Result<Grant, ApiError> {
    let time = |text: &str| {
        text.parse::<jiff::Timestamp>()
            .map_err(|e| ApiError::Store(fengcun_store::StoreError::Corrupt(e.to_string())))
    };
    Ok(Grant {
        id: row.grant_id.clone(),
        requester: row.requester.clone(),
        person_key: row.person_key.clone(),
        purpose: purpose(&row.purpose)?,
        post: row.post.clone(),
        not_before: time(&row.not_before)?,
        expires: time(&row.expires)?,
        revoked: row.revoked_at.is_some(),
    })
}

/// The domain record of stored facts — read back with the same parser as every record-facts
/// line — or `None` where the facts were not opened (a sealed record the caller may not see).
pub fn stored_record(record: &PersonRecord) -> Result<Option<Record>, ApiError> {
    record
        .facts
        .as_ref()
        .map(|facts| {
            let bytes = serde_json::to_vec(facts)
                .map_err(|e| ApiError::Store(StoreError::Corrupt(e.to_string())))?;
            parse_record(&bytes)
                .map_err(|e| ApiError::Store(StoreError::Corrupt(format!("record facts: {e}"))))
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

/// A stored record as disclosure sees it. An unopened sealed record has no content: it is hidden
/// whatever it holds, for no covering grant exists.
pub fn candidate(record: &PersonRecord) -> Result<Candidate, ApiError> {
    let facts = stored_record(record)?;
    let charges = facts.as_ref().map(charge_names).unwrap_or_default();
    let summary = json!({
        "case_code": record.case_code,
        "disposition": facts.as_ref().map(|f| f.disposition.code()),
        "charges": charges,
        "sentence": facts.as_ref().and_then(|f| f.sentence).map(|s| s.chinese()),
        "judgment_effective_date": facts.as_ref().and_then(|f| f.judgment_effective_date).map(|d| d.to_string()),
    });
    let full = json!({
        "case_code": record.case_code,
        "state": record.state,
        "state_date": record.state_date,
        "facts": record.facts,
    });
    Ok(Candidate {
        person_key: record.person_key.clone(),
        case_code: record.case_code.clone(),
        sealed: record.state == "sealed",
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    purpose: String,
    #[serde(default)]
    post: Option<String>,
    id_number: String,
    /// The legal basis: the document the request is made under.
    basis: String,
    reason: String,
}

/// `POST /api/v1/requests`: asks to see a person's sealed records. Accepted or refused the same
/// whether the person has a sealed record or not.
pub async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let query = asking(&state, &caller, "request", &new.purpose, &new.post).await?;
    let (kind, purpose) = (query.kind, query.purpose);
    let person_key = state.store.person_key(&identity(&new.id_number)?);
    for (field, value) in [("basis", &new.basis), ("reason", &new.reason)] {
        if value.trim().is_empty() {
            return Err(ApiError::BadRequest(format!("{field}: required")));
        }
    }
    let now = state.clock.now();
    if let Err(reason) = fengcun_access::may_request(&state.disclosure, &query) {
        let entry = AuditEvent::new(AuditKind::Request, &caller.name, "refused")
            .purpose(purpose.code())
            .subject(person_key)
            .detail(json!({"requester_kind": kind.code(), "post": new.post, "basis": new.basis, "reason": reason}));
        return Err(refuse_as(&state, entry, reason).await?);
    }
    let request = RequestRow {
        request_id: format!("req-{}", fengcun_crypto::random_hex::<8>()),
        person_key,
        requester: caller.name.clone(),
        requester_kind: kind.code().to_owned(),
        purpose: purpose.code().to_owned(),
        post: new.post,
        basis: new.basis,
        reason: new.reason,
        status: "pending".to_owned(),
        decided_by: None,
        decision_reason: None,
        grant_id: None,
        created_at: now.to_string(),
        decided_at: None,
    };
    let event = AuditEvent::new(AuditKind::Request, &caller.name, "pending")
        .purpose(purpose.code())
        .subject(format!("request:{}", request.request_id))
        .detail(json!({"person": request.person_key, "requester_kind": request.requester_kind, "post": request.post, "basis": request.basis}));
    state.store.put_request(&request, &[event], now).await?;
    Ok((StatusCode::CREATED, Json(json!({"request": request}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFilter {
    #[serde(default)]
    status: Option<String>,
}

/// `GET /api/v1/requests`: approvers and auditors see every request, others their own.
pub async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<RequestFilter>,
) -> Result<Json<Value>, ApiError> {
    let own = if caller.holds(OVERSEERS) {
        None
    } else {
        caller.require(&state, "list requests", ASKERS).await?;
        Some(caller.name.as_str())
    };
    let requests = state.store.requests(filter.status.as_deref(), own).await?;
    Ok(Json(json!({"requests": requests})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    reason: String,
    /// A shorter window than the disclosure table's (days).
    #[serde(default)]
    days: Option<i64>,
}

/// `POST /api/v1/requests/{id}/approve`: makes the grant.
pub async fn approve(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Json<DecisionRequest>,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, body, true).await
}

/// `POST /api/v1/requests/{id}/refuse`.
pub async fn refuse_request(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
    body: Json<DecisionRequest>,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, body, false).await
}

async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DecisionRequest>,
    approve: bool,
) -> Result<Json<Value>, ApiError> {
    if !caller.holds(DECIDERS) {
        return Err(refuse(
            &state,
            &caller,
            "decision",
            "only an approver decides requests".into(),
        )
        .await?);
    }
    if body.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("reason: required".into()));
    }
    let request = state.store.request(&id).await?.ok_or(ApiError::NotFound)?;
    if let Err(reason) = fengcun_access::may_approve(&request.requester, &caller.name) {
        return Err(refuse(&state, &caller, "self_approval", reason).await?);
    }
    let now = state.clock.now();
    let purpose = purpose(&request.purpose)?;
    let kind = RequesterKind::parse(&request.requester_kind)
        .ok_or_else(|| ApiError::BadRequest("stored request has an unknown kind".into()))?;
    let table_days = state
        .disclosure
        .rule(kind, purpose)
        .map_or(0, |rule| rule.grant_days);
    let days = body.days.unwrap_or(table_days).clamp(0, table_days);
    let (decision, event) = if approve {
        if days == 0 {
            return Err(ApiError::BadRequest(
                "days: the disclosure table allows no grant for this kind and purpose".into(),
            ));
        }
        let expires = now
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let grant = GrantRow {
            grant_id: format!("grant-{}", fengcun_crypto::random_hex::<8>()),
            request_id: request.request_id.clone(),
            person_key: request.person_key.clone(),
            requester: request.requester.clone(),
            purpose: request.purpose.clone(),
            post: request.post.clone(),
            not_before: now.to_string(),
            expires: expires.to_string(),
            revoked_at: None,
            revoked_by: None,
        };
        let event = AuditEvent::new(AuditKind::Approval, &caller.name, "approved")
            .purpose(purpose.code())
            .subject(format!("request:{}", request.request_id))
            .detail(json!({"grant": grant.grant_id, "requester": request.requester, "expires": grant.expires, "reason": body.reason}));
        (Decision::Approve(Box::new(grant)), event)
    } else {
        let event = AuditEvent::new(AuditKind::Refusal, &caller.name, "refused")
            .purpose(purpose.code())
            .subject(format!("request:{}", request.request_id))
            .detail(json!({"requester": request.requester, "reason": body.reason}));
        (Decision::Refuse, event)
    };
    if !state
        .store
        .decide_request(&id, &caller.name, &body.reason, &decision, &[event], now)
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "request {id} was decided already"
        )));
    }
    let request = state.store.request(&id).await?.ok_or(ApiError::NotFound)?;
    let grant = match decision {
        Decision::Approve(grant) => Some(*grant),
        Decision::Refuse => None,
    };
    Ok(Json(json!({"request": request, "grant": grant})))
}

/// `GET /api/v1/grants`: approvers and auditors see every grant, others their own.
pub async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let own = if caller.holds(OVERSEERS) {
        None
    } else {
        caller.require(&state, "list grants", ASKERS).await?;
        Some(caller.name.as_str())
    };
    Ok(Json(json!({"grants": state.store.grants(own).await?})))
}

/// `DELETE /api/v1/grants/{id}`: an approver or administrator revokes a grant; it covers nothing
/// from now on.
pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !caller.holds(&[Role::Approver, Role::Administrator]) {
        return Err(refuse(
            &state,
            &caller,
            "grant_revocation",
            "only an approver or administrator revokes grants".into(),
        )
        .await?);
    }
    let event = AuditEvent::new(AuditKind::GrantRevoked, &caller.name, "revoked")
        .subject(format!("grant:{id}"));
    if state
        .store
        .revoke_grant(&id, &caller.name, &[event], state.clock.now())
        .await?
    {
        Ok(Json(json!({"revoked": id})))
    } else {
        Err(ApiError::NotFound)
    }
}
