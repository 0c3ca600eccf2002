//! The service layer: what the platform does for an authenticated principal, whatever asked —
//! the JSON API's handlers (`crate::api`) today, the console tomorrow. Each function takes the
//! application's state, the [`Caller`] and a typed request, checks the caller's role (a refusal
//! is audited before it is answered), applies the rules (grant windows, masking, who speaks for
//! which agency), writes the action's audit entry, and answers with a typed, `Serialize` value.
//! Nothing here knows HTTP: errors are [`ServiceError`], which `crate::error::ApiError` maps.

pub mod audit;
pub mod certificates;
pub mod corrections;
pub mod disclosure;
pub mod events;
pub mod identity;
pub mod looked;
pub mod notices;
pub mod operations;
pub mod portal;
pub mod records;
pub mod requests;
pub mod simulation;
pub mod supervision;

use fengcun_access::RequesterKind;
use fengcun_store::{AuditEvent, AuditKind, StoreError};

use crate::AppState;
use crate::config::Role;

/// The service layer's one error enum; `crate::error::ApiError` is its mapping to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No caller, or credentials that do not hold (a wrong password, a disabled account).
    #[error("authentication required")]
    Unauthenticated,
    /// A refusal with its reason (a requester approving their own request, …), already in the
    /// audit log: a [`Refusal`] is made only by [`refuse`].
    #[error("{0}")]
    Refused(Refusal),
    /// Too many wrong logins for this username, or wrong activation codes for this person: try
    /// again after the given seconds. Worded for both: a person activating an account has never
    /// logged in.
    #[error("too many failed attempts; try again in {0} s")]
    Throttled(i64),
    #[error("{0}")]
    Conflict(String),
    /// Input that fails validation; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Whom an agency asks as: a police clerk reading its own case asks as public security, so the
/// person's list of who looked withholds it as it withholds a public-security look-up (prisons and
/// community correction answer to justice administration).
pub(crate) fn requester_of_agency(kind: fengcun_domain::AgencyKind) -> RequesterKind {
    use fengcun_domain::AgencyKind;
    match kind {
        AgencyKind::PublicSecurity => RequesterKind::PublicSecurity,
        AgencyKind::Procuratorate => RequesterKind::Procuratorate,
        AgencyKind::Court => RequesterKind::Court,
        AgencyKind::StateSecurity => RequesterKind::StateSecurity,
        AgencyKind::Prison | AgencyKind::CommunityCorrection => {
            RequesterKind::JusticeAdministration
        }
    }
}

/// Whom `agency` (a registered agency's code) asks as; none for an agency not registered.
pub(crate) async fn requester_of_agency_code(
    state: &AppState,
    agency: &str,
) -> Result<Option<RequesterKind>, StoreError> {
    Ok(state
        .store
        .agency_kind(agency)
        .await?
        .map(requester_of_agency))
}

/// The authenticated caller: the principal every service function acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who acts, as audit entries and grants name them: a configured key's name, `key:<id>` for
    /// a stored key, `user:<username>` for a console user.
    pub name: String,
    pub role: Role,
    pub agency: Option<String>,
    /// Who the caller asks as, for look-ups, requests and certificates.
    pub kind: Option<RequesterKind>,
    /// For a person: the keyed hash of their identity (their own records are theirs to see).
    pub person_key: Option<String>,
    /// Who is behind the caller, as approvals compare them: `user:<username>` for a console user
    /// and for a stored key its owner names; a configured key (or a key stored before owners were
    /// recorded) is its own owner.
    pub owner: String,
}

impl Caller {
    /// Whether the caller acts in one of `roles`: for choosing what to show, never for refusing
    /// (a refusal goes through [`Caller::require`], which audits it).
    pub fn holds(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// Lets the caller `action` only in one of `roles`; a refusal is audited before it is answered.
    pub async fn require(&self, state: &AppState, action: &str, roles: &[Role]) -> Result<()> {
        if self.holds(roles) {
            return Ok(());
        }
        let reason = format!("the {} role may not {action}", self.role.code());
        Err(refuse(state, self, action, reason).await?)
    }

    pub async fn require_operator(&self, state: &AppState, action: &str) -> Result<()> {
        self.require(state, action, &[Role::Operator]).await
    }
}

/// A refusal that is in the audit log. Only this module makes one, so every 403 `forbidden` the
/// API answers has its entry: who tried what they may not do, and why they were refused.
#[derive(Debug)]
pub struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Refuses `caller` the `action`, audited as a `forbidden` entry with the reason.
pub async fn refuse(
    state: &AppState,
    caller: &Caller,
    action: &str,
    reason: String,
) -> Result<ServiceError> {
    let entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, action)
        .detail(serde_json::json!({"reason": reason}));
    refuse_as(state, entry, reason).await
}

/// [`refuse`] of an action aimed at one thing (`request:<id>`, `grant:<id>`): the entry names it,
/// so that an auditor sees what a refused attempt was aimed at.
pub async fn refuse_about(
    state: &AppState,
    caller: &Caller,
    action: &str,
    subject: String,
    reason: String,
) -> Result<ServiceError> {
    let entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, action)
        .subject(subject)
        .detail(serde_json::json!({"reason": reason}));
    refuse_as(state, entry, reason).await
}

/// Refuses, audited as `entry`: for a refusal that has its own kind of entry (a request refused
/// by the disclosure table is a `request` entry with outcome `refused`).
pub async fn refuse_as(
    state: &AppState,
    entry: AuditEvent,
    reason: String,
) -> Result<ServiceError> {
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(ServiceError::Refused(Refusal(reason)))
}

/// A query's code for one of `all` (a status, a kind), if given; an unknown one is
/// [`ServiceError::Invalid`] naming `field` and the codes it may be, rather than a filter that
/// matches nothing.
pub fn parse_code<T: Copy>(
    field: &str,
    given: Option<&str>,
    all: &[T],
    code: fn(T) -> &'static str,
) -> Result<Option<T>> {
    let Some(given) = given else { return Ok(None) };
    match all.iter().copied().find(|value| code(*value) == given) {
        Some(value) => Ok(Some(value)),
        None => Err(ServiceError::Invalid(format!(
            "{field}: `{given}` is none of {}",
            all.iter()
                .map(|value| code(*value))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The database answers (`/healthz`).
pub async fn ping(state: &AppState) -> Result<()> {
    Ok(state.store.ping().await?)
}
