//! Sealing and unsealing notices: an operator watches deliveries (the person masked), an agency
//! reads and acknowledges those addressed to it; an operator retries a failed one.

use fengcun_store::{AuditEvent, AuditKind, IdentityMask, NoticeFilter, NoticeStatus, NoticeView};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{Caller, Result, ServiceError, parse_code, refuse};
use crate::AppState;
use crate::config::Role;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// pending, retrying, delivered, failed, acknowledged or available
    pub status: Option<String>,
    pub case_code: Option<String>,
    /// Only agency notices not acknowledged yet.
    #[serde(default)]
    pub unacknowledged: bool,
    /// The next page: the notices after this one (the `next` of the page before).
    pub after: Option<String>,
    /// At most this many, 1 to 1,000 (default 200), oldest first.
    pub limit: Option<u32>,
}

/// A page of notices unless the caller asks for another size.
pub const PAGE: u32 = 200;
/// The largest page: a national store holds tens of millions of notices, each rendered (and
/// decrypted) to be shown.
pub const MAX_PAGE: u32 = 1000;

/// A notice as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    pub acknowledged_at: Option<String>,
    pub attempts: i64,
    pub body: String,
    pub case_code: String,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub kind: String,
    pub last_error: Option<String>,
    pub notice_id: String,
    /// An agency code, or `person`.
    pub recipient: String,
    pub status: String,
    pub title: String,
}

impl From<NoticeView> for Notice {
    fn from(n: NoticeView) -> Self {
        Notice {
            acknowledged_at: n.acknowledged_at,
            attempts: n.attempts,
            body: n.body,
            case_code: n.case_code,
            created_at: n.created_at,
            delivered_at: n.delivered_at,
            kind: n.kind.to_string(),
            last_error: n.last_error,
            notice_id: n.notice_id,
            recipient: n.recipient,
            status: n.status.to_string(),
            title: n.title,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notices {
    pub notices: Vec<Notice>,
    /// When the page is full: the `after` of the next page (there may be more).
    pub next: Option<String>,
}

/// An operator watching deliveries sees every notice with the person masked (张某,
/// 1101**********0025); an agency sees the notices addressed to it in full, to act on them. Every
/// read is audited: who, with what filter, how many notices.
pub async fn list(state: &AppState, caller: &Caller, query: NoticeQuery) -> Result<Notices> {
    caller
        .require(state, "list notices", &[Role::Operator, Role::Agency])
        .await?;
    let (recipient, mask) = match (caller.role, &caller.agency) {
        (Role::Agency, Some(own)) => (Some(own.clone()), None),
        (Role::Agency, None) => {
            let reason = "an agency key without an agency code has no notices".to_owned();
            return Err(refuse(state, caller, "list notices", reason).await?);
        }
        _ => (
            None,
            Some(IdentityMask {
                name: crate::mask::name,
                id_number: crate::mask::id_number,
            }),
        ),
    };
    let status = parse_code(
        "status",
        query.status.as_deref(),
        &NoticeStatus::ALL,
        NoticeStatus::as_str,
    )?;
    let limit = match query.limit {
        None => PAGE,
        Some(limit @ 1..=MAX_PAGE) => limit,
        Some(other) => {
            return Err(ServiceError::Invalid(format!(
                "limit: {other} is not from 1 to {MAX_PAGE}"
            )));
        }
    };
    let identities = if mask.is_some() { "masked" } else { "full" };
    let filter = json!({"status": query.status, "case_code": query.case_code, "unacknowledged": query.unacknowledged, "recipient": recipient, "after": query.after, "limit": limit});
    let notices = state
        .store
        .notices(NoticeFilter {
            status,
            case_code: query.case_code,
            unacknowledged: query.unacknowledged,
            recipient,
            after: query.after,
            limit: Some(i64::from(limit)),
            mask,
        })
        .await?;
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "notices")
        .detail(json!({"filter": filter, "rows": notices.len(), "identities": identities}));
    state.store.audit(&[entry], state.clock.now()).await?;
    let next = (notices.len() == limit as usize)
        .then(|| notices.last().map(|n| n.notice_id.clone()))
        .flatten();
    Ok(Notices {
        notices: notices.into_iter().map(Notice::from).collect(),
        next,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    /// The notice acknowledged.
    pub acknowledged: String,
}

/// The agency a notice is addressed to acknowledges it with the notice's token.
pub async fn acknowledge(
    state: &AppState,
    caller: &Caller,
    id: &str,
    token: &str,
) -> Result<Acknowledged> {
    caller
        .require(state, "acknowledge notices", &[Role::Agency])
        .await?;
    let Some(agency) = &caller.agency else {
        let reason = "an agency key without an agency code has no notices".to_owned();
        return Err(refuse(state, caller, "acknowledge notices", reason).await?);
    };
    // Only the agency the notice is addressed to acknowledges it.
    if state
        .store
        .acknowledge(id, agency, token, &caller.name, state.clock.now())
        .await?
    {
        Ok(Acknowledged {
            acknowledged: id.to_owned(),
        })
    } else {
        // The same answer for an unknown notice, a wrong token and another agency's notice.
        Err(ServiceError::NotFound)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Retrying {
    /// The notice put back in the outbox.
    pub retrying: String,
}

/// Puts a notice that ran out of attempts back in the outbox for one more attempt (an operator,
/// once the agency's endpoint or the platform's keys are mended).
pub async fn retry(state: &AppState, caller: &Caller, id: &str) -> Result<Retrying> {
    caller.require_operator(state, "retry notices").await?;
    if state
        .store
        .retry_failed_notice(id, &caller.name, state.clock.now())
        .await?
    {
        Ok(Retrying {
            retrying: id.to_owned(),
        })
    } else {
        Err(ServiceError::NotFound)
    }
}

/// One notice, as [`list`] shows it to this caller (an operator: the person masked; an agency:
/// its own notices only), for the document to be printed. The read is audited with the notice.
pub async fn one(state: &AppState, caller: &Caller, id: &str) -> Result<Notice> {
    caller
        .require(state, "read notices", &[Role::Operator, Role::Agency])
        .await?;
    let (recipient, mask) = match (caller.role, &caller.agency) {
        (Role::Agency, Some(own)) => (Some(own.clone()), None),
        (Role::Agency, None) => {
            let reason = "an agency key without an agency code has no notices".to_owned();
            return Err(refuse(state, caller, "read notices", reason).await?);
        }
        _ => (
            None,
            Some(IdentityMask {
                name: crate::mask::name,
                id_number: crate::mask::id_number,
            }),
        ),
    };
    let identities = if mask.is_some() { "masked" } else { "full" };
    let notice = state
        .store
        .notice(id, recipient.as_deref(), mask)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "notice")
        .subject(notice.case_code.clone())
        .detail(json!({"notice": id, "identities": identities}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(Notice::from(notice))
}
