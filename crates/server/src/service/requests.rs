//! Penetration requests and the grants made of them (docs/disclosure.md): who asks, who decides
//! (never the requester, nor anyone behind the same owner), how long a grant lasts (the disclosure
//! table's window, or shorter), revocation; requests and grants name the person masked for anyone
//! but an approver.

use fengcun_domain::IdNumber;
use fengcun_store::{AuditEvent, AuditKind, Decision, GrantRow, RequestPerson, RequestRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::disclosure::{ASKERS, asking};
use super::{Caller, Result, ServiceError, parse_code, refuse, refuse_about, refuse_as};
use crate::AppState;
use crate::config::Role;
use crate::limits;
use fengcun_store::RequestStatus;

const DECIDERS: &[Role] = &[Role::Approver];
const OVERSEERS: &[Role] = &[Role::Approver, Role::Auditor];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The purpose asked under (docs/disclosure.md).
    pub purpose: String,
    /// For vetting: the post vetted for (1 to 64 characters).
    #[serde(default)]
    pub post: Option<String>,
    pub id_number: String,
    /// The person's name as the requester knows it (shown with the request, masked to the
    /// requester, in full to the approver; 1 to 50 characters).
    #[serde(default)]
    pub name: Option<String>,
    /// The legal basis: the document the request is made under (4 to 200 characters).
    pub basis: String,
    /// Why (4 to 1000 characters).
    pub reason: String,
}

/// Whom a request or grant is about: in full for an approver, who must judge; masked (`张某`,
/// `1101**********0025`) for everyone else.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id_number: String,
    pub name: Option<String>,
}

fn person_view(caller: &Caller, person: Option<&RequestPerson>) -> Option<PersonView> {
    let full = caller.holds(DECIDERS);
    person.map(|p| {
        let name = p.name.as_deref();
        if full {
            PersonView {
                id_number: p.id_number.clone(),
                name: name.map(str::to_owned),
            }
        } else {
            PersonView {
                id_number: crate::mask::id_number(&p.id_number),
                name: name.map(crate::mask::name),
            }
        }
    })
}

/// A request to see a person's sealed records.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub basis: String,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub grant_id: Option<String>,
    /// Whom the request is about (`null` for requests stored before this was kept).
    pub person: Option<PersonView>,
    pub post: Option<String>,
    pub purpose: String,
    pub reason: String,
    pub request_id: String,
    pub requester: String,
    pub requester_kind: String,
    /// pending, approved or refused
    pub status: String,
}

fn request_view(caller: &Caller, r: &RequestRow) -> RequestView {
    RequestView {
        basis: r.basis.clone(),
        created_at: r.created_at.clone(),
        decided_at: r.decided_at.clone(),
        decided_by: r.decided_by.clone(),
        decision_reason: r.decision_reason.clone(),
        grant_id: r.grant_id.clone(),
        person: person_view(caller, r.person.as_ref()),
        post: r.post.clone(),
        purpose: r.purpose.code().to_owned(),
        reason: r.reason.clone(),
        request_id: r.request_id.clone(),
        requester: r.requester.clone(),
        requester_kind: r.requester_kind.code().to_owned(),
        status: r.status.to_string(),
    }
}

/// An approved request: one requester, purpose (and post), person, window.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub expires: String,
    pub grant_id: String,
    pub not_before: String,
    /// Whom the grant is about, as requests show it.
    pub person: Option<PersonView>,
    pub post: Option<String>,
    pub purpose: String,
    pub request_id: String,
    pub requester: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

fn grant_view(caller: &Caller, g: &GrantRow) -> GrantView {
    GrantView {
        expires: g.expires.clone(),
        grant_id: g.grant_id.clone(),
        not_before: g.not_before.clone(),
        person: person_view(caller, g.person.as_ref()),
        post: g.post.clone(),
        purpose: g.purpose.code().to_owned(),
        request_id: g.request_id.clone(),
        requester: g.requester.clone(),
        revoked_at: g.revoked_at.clone(),
        revoked_by: g.revoked_by.clone(),
    }
}

/// A list that shows identities in full (an approver's) is itself a read of them: one entry.
async fn audit_full_list(
    state: &AppState,
    caller: &Caller,
    what: &str,
    shown: usize,
) -> Result<()> {
    if caller.holds(DECIDERS) && shown > 0 {
        // A list naming persons in full is a read like a notice list's (`read`, docs/audit.md).
        let entry = AuditEvent::new(AuditKind::Read, &caller.name, what)
            .detail(json!({"rows": shown, "persons": "full"}));
        state.store.audit(&[entry], state.clock.now()).await?;
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestCreated {
    pub request: RequestView,
}

/// Asks to see a person's sealed records. Accepted or refused the same whether the person has a
/// sealed record or not.
pub async fn create(state: &AppState, caller: &Caller, new: NewRequest) -> Result<RequestCreated> {
    let query = asking(state, caller, "request", &new.purpose, &new.post).await?;
    let (kind, purpose) = (query.kind, query.purpose);
    let id = IdNumber::parse(&new.id_number)
        .map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))?;
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
            .detail(json!({"requester_kind": kind.code(), "post": new.post, "basis": basis, "reason": reason, "role": caller.role.code(), "agency": caller.agency}));
        return Err(refuse_as(state, entry, reason).await?);
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
        .detail(json!({"person": request.person_key, "requester_kind": request.requester_kind, "post": request.post, "basis": request.basis, "role": caller.role.code(), "agency": caller.agency}));
    state.store.put_request(&request, &[event], now).await?;
    Ok(RequestCreated {
        request: request_view(caller, &request),
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestFilter {
    /// pending, approved, refused or withdrawn
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Requests {
    pub requests: Vec<RequestView>,
}

/// Approvers and auditors see every request, others their own.
pub async fn list(state: &AppState, caller: &Caller, filter: RequestFilter) -> Result<Requests> {
    let own = if caller.holds(OVERSEERS) {
        None
    } else {
        caller.require(state, "list requests", ASKERS).await?;
        Some(caller.name.as_str())
    };
    let status = parse_code(
        "status",
        filter.status.as_deref(),
        &RequestStatus::ALL,
        RequestStatus::as_str,
    )?;
    let requests = state
        .store
        .requests(status, own)
        .await?
        .iter()
        .map(|r| request_view(caller, r))
        .collect::<Vec<RequestView>>();
    audit_full_list(state, caller, "requests", requests.len()).await?;
    Ok(Requests { requests })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why (4 to 1000 characters; kept with the decision).
    pub reason: String,
    /// A shorter window than the disclosure table's (days; approval only).
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    /// The grant made (`null` for a refusal).
    pub grant: Option<GrantView>,
    pub request: RequestView,
}

/// An approver (never the requester, nor anyone behind the same owner) approves a request —
/// making a grant for that person, purpose and window, at most the disclosure table's — or
/// refuses it.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: DecisionRequest,
    approve: bool,
) -> Result<Decided> {
    if !caller.holds(DECIDERS) {
        return Err(refuse(
            state,
            caller,
            "decision",
            "only an approver decides requests".into(),
        )
        .await?);
    }
    let reason = limits::check(limits::DECISION_REASON, &body.reason)?.to_owned();
    let request = state
        .store
        .request(id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    // The same person may not ask and approve, whether as the same principal or through a key
    // they own and their login.
    let requester_owner = owner_of(state, &request.requester).await?;
    if let Err(reason) = fengcun_access::may_approve(&request.requester, &caller.name)
        .and_then(|()| fengcun_access::may_approve(&requester_owner, &caller.owner))
    {
        let subject = format!("request:{id}");
        return Err(refuse_about(state, caller, "self_approval", subject, reason).await?);
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
            return Err(ServiceError::Invalid(format!(
                "days: the disclosure table allows no grant for {}, {}",
                kind.code(),
                purpose.code()
            )));
        }
        let days = match body.days {
            None => table_days,
            Some(days) if (1..=table_days).contains(&days) => days,
            Some(_) => {
                return Err(ServiceError::Invalid(format!(
                    "days: must be from 1 to {table_days} (the disclosure table's grant_days for {}, {})",
                    kind.code(),
                    purpose.code()
                )));
            }
        };
        let expires = now
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
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
            .detail(json!({"grant": grant.grant_id, "requester": request.requester, "expires": grant.expires, "reason": reason, "role": caller.role.code(), "agency": caller.agency}));
        (Decision::Approve(Box::new(grant)), event)
    } else {
        if body.days.is_some() {
            return Err(ServiceError::Invalid(
                "days: a refusal makes no grant and has no length".into(),
            ));
        }
        let event = AuditEvent::new(AuditKind::Refusal, &caller.name, "refused")
            .purpose(purpose.code())
            .subject(format!("request:{}", request.request_id))
            .detail(json!({"requester": request.requester, "reason": reason, "role": caller.role.code(), "agency": caller.agency}));
        (Decision::Refuse, event)
    };
    if !state
        .store
        .decide_request(id, &caller.name, &reason, &decision, &[event], now)
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "request {id} was decided already"
        )));
    }
    let request = state
        .store
        .request(id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let grant = match decision {
        Decision::Approve(grant) => Some(grant_view(caller, &grant)),
        Decision::Refuse => None,
    };
    Ok(Decided {
        grant,
        request: request_view(caller, &request),
    })
}

/// Who is behind a request's requester: a stored key's owner, else the principal itself.
async fn owner_of(state: &AppState, principal: &str) -> Result<String> {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct Grants {
    pub grants: Vec<GrantView>,
}

/// Approvers and auditors see every grant, others their own.
pub async fn list_grants(state: &AppState, caller: &Caller) -> Result<Grants> {
    let own = if caller.holds(OVERSEERS) {
        None
    } else {
        caller.require(state, "list grants", ASKERS).await?;
        Some(caller.name.as_str())
    };
    let grants = state
        .store
        .grants(own)
        .await?
        .iter()
        .map(|g| grant_view(caller, g))
        .collect::<Vec<GrantView>>();
    audit_full_list(state, caller, "grants", grants.len()).await?;
    Ok(Grants { grants })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Why the grant ends before it expires (required, 4 to 1000 characters; checked, not left
    /// to the deserialiser, so that its absence is answered naming the field).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// What was revoked.
    pub revoked: String,
}

/// An approver or administrator revokes a grant; it covers nothing from now on.
pub async fn revoke_grant(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: Revocation,
) -> Result<Revoked> {
    if !caller.holds(&[Role::Approver, Role::Administrator]) {
        return Err(refuse_about(
            state,
            caller,
            "grant_revocation",
            format!("grant:{id}"),
            "only an approver or administrator revokes grants".into(),
        )
        .await?);
    }
    let given = body.reason;
    let Some(reason) = given.as_deref() else {
        return Err(ServiceError::Invalid(format!(
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
        .revoke_grant(id, &caller.name, &[event], state.clock.now())
        .await?
    {
        Ok(Revoked {
            revoked: id.to_owned(),
        })
    } else {
        Err(ServiceError::NotFound)
    }
}
