//! Look-ups and penetration requests (docs/disclosure.md). The decision is the pure
//! `fengcun_access::answer`; this module reads the records and grants, writes the audit entries,
//! and answers with the bytes the decision made — so a sealed record without a covering grant is
//! answered exactly as a record that does not exist.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fengcun_access::{Answer, Candidate, Grant, Purpose};
use fengcun_domain::{
    Catalogue, Culpability, IdNumber, PrincipalKind, Record, TagSet, parse_record,
};
use fengcun_store::{
    AuditEvent, AuditKind, Decision, GrantRow, PersonRecord, RequestPerson, RequestRow,
    RequestStatus, StoreError,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::auth::{refuse, refuse_as};
use crate::config::Role;
use crate::error::ApiError;
use crate::limits;

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
    Json(mut request): Json<LookupRequest>,
) -> Result<Response, ApiError> {
    limits::check_optional(limits::POST, request.post.as_deref())?;
    request.basis =
        limits::check_optional(limits::LOOKUP_BASIS, request.basis.as_deref())?.map(str::to_owned);
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
        purpose: row.purpose,
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

/// A stored record as disclosure sees it on `today` (sealed on its date, whether or not the
/// scheduler has run). An unopened sealed record has no content: it is hidden whatever it holds,
/// for no covering grant exists.
pub fn candidate(
    record: &PersonRecord,
    today: fengcun_domain::Date,
) -> Result<Candidate, ApiError> {
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
        sealed: record.sealed_on(today),
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
    /// The person's name as the requester knows it (shown with the request, masked to the
    /// requester, in full to the approver).
    #[serde(default)]
    name: Option<String>,
    /// The legal basis: the document the request is made under.
    basis: String,
    reason: String,
}

/// Whom a request or grant is about, as `caller` may see it: in full for an approver, who must
/// judge; masked (`张某`, `1101**********0025`) for everyone else.
fn person_view(caller: &Caller, person: Option<&RequestPerson>) -> Value {
    let full = caller.holds(DECIDERS);
    person.map_or(Value::Null, |p| {
        let name = p.name.as_deref();
        if full {
            json!({"name": name, "id_number": p.id_number})
        } else {
            json!({"name": name.map(crate::mask::name), "id_number": crate::mask::id_number(&p.id_number)})
        }
    })
}

fn request_view(caller: &Caller, request: &RequestRow) -> Result<Value, ApiError> {
    let mut view = serde_json::to_value(request)
        .map_err(|e| ApiError::Store(StoreError::Corrupt(e.to_string())))?;
    view["person"] = person_view(caller, request.person.as_ref());
    Ok(view)
}

fn grant_view(caller: &Caller, grant: &GrantRow) -> Result<Value, ApiError> {
    let mut view = serde_json::to_value(grant)
        .map_err(|e| ApiError::Store(StoreError::Corrupt(e.to_string())))?;
    view["person"] = person_view(caller, grant.person.as_ref());
    Ok(view)
}

/// A list that shows identities in full (an approver's) is itself a read of them: one entry.
async fn audit_full_list(
    state: &AppState,
    caller: &Caller,
    what: &str,
    shown: usize,
) -> Result<(), ApiError> {
    if caller.holds(DECIDERS) && shown > 0 {
        // A list naming persons in full is a read like a notice list's (`read`, docs/audit.md).
        let entry = AuditEvent::new(AuditKind::Read, &caller.name, what)
            .detail(json!({"rows": shown, "persons": "full"}));
        state.store.audit(&[entry], state.clock.now()).await?;
    }
    Ok(())
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
    let id = IdNumber::parse(&new.id_number)
        .map_err(|e| ApiError::BadRequest(format!("id_number: {e}")))?;
    let person_key = state.store.person_key(&format!("id:{id}"));
    limits::check_optional(limits::POST, new.post.as_deref())?;
    let basis = limits::check(limits::REQUEST_BASIS, &new.basis)?.to_owned();
    let reason = limits::check(limits::REQUEST_REASON, &new.reason)?.to_owned();
    let name =
        limits::check_optional(limits::REQUEST_NAME, new.name.as_deref())?.map(str::to_owned);
    let now = state.clock.now();
    if let Err(reason) = fengcun_access::may_request(&state.disclosure, &query) {
        let entry = AuditEvent::new(AuditKind::Request, &caller.name, "refused")
            .purpose(purpose.code())
            .subject(person_key)
            .detail(json!({"requester_kind": kind.code(), "post": new.post, "basis": basis, "reason": reason}));
        return Err(refuse_as(&state, entry, reason).await?);
    }
    let request = RequestRow {
        request_id: format!("req-{}", fengcun_crypto::random_hex::<8>()),
        person_key,
        requester: caller.name.clone(),
        requester_kind: kind,
        purpose,
        post: new.post,
        basis,
        reason,
        status: RequestStatus::Pending,
        decided_by: None,
        decision_reason: None,
        grant_id: None,
        created_at: now.to_string(),
        decided_at: None,
        person: Some(RequestPerson {
            id_number: id.to_string(),
            name,
        }),
    };
    let event = AuditEvent::new(AuditKind::Request, &caller.name, "pending")
        .purpose(purpose.code())
        .subject(format!("request:{}", request.request_id))
        .detail(json!({"person": request.person_key, "requester_kind": request.requester_kind, "post": request.post, "basis": request.basis}));
    state.store.put_request(&request, &[event], now).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"request": request_view(&caller, &request)?})),
    ))
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
    let requests = state
        .store
        .requests(filter.status.as_deref(), own)
        .await?
        .iter()
        .map(|r| request_view(&caller, r))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    audit_full_list(&state, &caller, "requests", requests.len()).await?;
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
    let reason = limits::check(limits::DECISION_REASON, &body.reason)?.to_owned();
    let request = state.store.request(&id).await?.ok_or(ApiError::NotFound)?;
    // The same person may not ask and approve, whether as the same principal or through a key
    // they own and their login.
    let requester_owner = owner_of(&state, &request.requester).await?;
    if let Err(reason) = fengcun_access::may_approve(&request.requester, &caller.name)
        .and_then(|()| fengcun_access::may_approve(&requester_owner, &caller.owner))
    {
        return Err(refuse(&state, &caller, "self_approval", reason).await?);
    }
    let now = state.clock.now();
    let purpose = request.purpose;
    let kind = request.requester_kind;
    let table_days = state
        .disclosure
        .rule(kind, purpose)
        .map_or(0, |rule| rule.grant_days);
    let (decision, event) = if approve {
        if table_days == 0 {
            return Err(ApiError::BadRequest(format!(
                "days: the disclosure table allows no grant for {}, {}",
                kind.code(),
                purpose.code()
            )));
        }
        let days = match body.days {
            None => table_days,
            Some(days) if (1..=table_days).contains(&days) => days,
            Some(_) => {
                return Err(ApiError::BadRequest(format!(
                    "days: must be from 1 to {table_days} (the disclosure table's grant_days for {}, {})",
                    kind.code(),
                    purpose.code()
                )));
            }
        };
        let expires = now
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let grant = GrantRow {
            grant_id: format!("grant-{}", fengcun_crypto::random_hex::<8>()),
            request_id: request.request_id.clone(),
            person_key: request.person_key.clone(),
            requester: request.requester.clone(),
            purpose: request.purpose,
            post: request.post.clone(),
            not_before: now.to_string(),
            expires: expires.to_string(),
            revoked_at: None,
            revoked_by: None,
            person: request.person.clone(),
        };
        let event = AuditEvent::new(AuditKind::Approval, &caller.name, "approved")
            .purpose(purpose.code())
            .subject(format!("request:{}", request.request_id))
            .detail(json!({"grant": grant.grant_id, "requester": request.requester, "expires": grant.expires, "reason": reason}));
        (Decision::Approve(Box::new(grant)), event)
    } else {
        if body.days.is_some() {
            return Err(ApiError::BadRequest(
                "days: a refusal makes no grant and has no length".into(),
            ));
        }
        let event = AuditEvent::new(AuditKind::Refusal, &caller.name, "refused")
            .purpose(purpose.code())
            .subject(format!("request:{}", request.request_id))
            .detail(json!({"requester": request.requester, "reason": reason}));
        (Decision::Refuse, event)
    };
    if !state
        .store
        .decide_request(&id, &caller.name, &reason, &decision, &[event], now)
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "request {id} was decided already"
        )));
    }
    let request = state.store.request(&id).await?.ok_or(ApiError::NotFound)?;
    let grant = match decision {
        Decision::Approve(grant) => Some(grant_view(&caller, &grant)?),
        Decision::Refuse => None,
    };
    Ok(Json(
        json!({"request": request_view(&caller, &request)?, "grant": grant}),
    ))
}

/// Who is behind a request's requester: a stored key's owner, else the principal itself.
async fn owner_of(state: &AppState, principal: &str) -> Result<String, ApiError> {
    let Some(key_id) = principal.strip_prefix("key:") else {
        return Ok(principal.to_owned());
    };
    let owner = state
        .store
        .keys()
        .await?
        .into_iter()
        .find(|k| k.key_id == key_id)
        .and_then(|k| k.owner);
    Ok(owner.map_or_else(|| principal.to_owned(), |o| format!("user:{o}")))
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
    let grants = state
        .store
        .grants(own)
        .await?
        .iter()
        .map(|g| grant_view(&caller, g))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    audit_full_list(&state, &caller, "grants", grants.len()).await?;
    Ok(Json(json!({"grants": grants})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Why the grant ends before it expires (required; checked, not left to the deserialiser, so
    /// that its absence is answered naming the field).
    #[serde(default)]
    reason: Option<String>,
}

/// `DELETE /api/v1/grants/{id}`: an approver or administrator revokes a grant; it covers nothing
/// from now on.
pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<Revocation>>,
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
    let given = body.and_then(|Json(b)| b.reason);
    let Some(reason) = given.as_deref() else {
        return Err(ApiError::BadRequest(format!(
            "reason: required, {} to {} characters",
            limits::REVOCATION_REASON.min,
            limits::REVOCATION_REASON.max
        )));
    };
    let reason = limits::check(limits::REVOCATION_REASON, reason)?;
    let event = AuditEvent::new(AuditKind::GrantRevoked, &caller.name, "revoked")
        .subject(format!("grant:{id}"))
        .detail(json!({"reason": reason}));
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
