//! The HTTP API under `/api/v1`, plus `/healthz`, `/metrics` and `/api/openapi.json`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use fengcun_domain::{Event, ValidEvent};
use fengcun_lifecycle::Actor;
use fengcun_policy::{Policy, presets};
use fengcun_store::{AuditEvent, AuditKind, IdentityMask, LineOutcome, NoticeFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Caller, refuse};
use crate::config::Role;
use crate::error::ApiError;

/// A batch's body: 10,000 events of up to about 2.4 KB each (a realistic event is under 1 KB).
const BATCH_BODY_LIMIT: usize = 24 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(crate::metrics::render))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/events", post(ingest_one))
        .route(
            "/api/v1/events/batch",
            post(ingest_batch).layer(axum::extract::DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        )
        .route("/api/v1/notices", get(list_notices))
        .route("/api/v1/notices/{id}/ack", post(acknowledge))
        .route("/api/v1/notices/{id}/retry", post(retry_notice))
        .route("/api/v1/policy", get(policy_in_force).post(change_policy))
        .route("/api/v1/records", get(crate::records_api::list))
        .route(
            "/api/v1/records/{case_code}",
            get(crate::records_api::timeline),
        )
        .route("/api/v1/stats", get(crate::records_api::stats))
        .route("/api/v1/scheduler/run", post(run_scheduler))
        .route("/api/v1/outbox/run", post(run_outbox))
        .route("/api/v1/audit/entries", get(crate::audit::entries))
        .route(
            "/api/v1/audit/heads",
            get(crate::audit::heads).post(crate::audit::sign_now),
        )
        .route(
            "/api/v1/audit/proofs/inclusion",
            get(crate::audit::inclusion),
        )
        .route(
            "/api/v1/audit/proofs/consistency",
            get(crate::audit::consistency),
        )
        .route("/api/v1/public-key", get(crate::audit::public_key))
        .route(
            "/api/v1/session",
            post(crate::identity::login)
                .get(crate::identity::whoami)
                .delete(crate::identity::logout),
        )
        .route(
            "/api/v1/users",
            get(crate::identity::list_users).post(crate::identity::create_user),
        )
        .route(
            "/api/v1/users/{username}/disable",
            post(crate::identity::disable_user),
        )
        .route(
            "/api/v1/users/{username}/enable",
            post(crate::identity::enable_user),
        )
        .route(
            "/api/v1/session/password",
            post(crate::identity::change_password),
        )
        .route(
            "/api/v1/keys",
            get(crate::identity::list_keys).post(crate::identity::create_key),
        )
        .route("/api/v1/keys/{id}", delete(crate::identity::revoke_key))
        .route("/api/v1/lookups", post(crate::disclosure::lookup))
        .route(
            "/api/v1/requests",
            get(crate::disclosure::list_requests).post(crate::disclosure::create_request),
        )
        .route(
            "/api/v1/requests/{id}/approve",
            post(crate::disclosure::approve),
        )
        .route(
            "/api/v1/requests/{id}/refuse",
            post(crate::disclosure::refuse_request),
        )
        .route("/api/v1/grants", get(crate::disclosure::list_grants))
        .route(
            "/api/v1/grants/{id}",
            delete(crate::disclosure::revoke_grant),
        )
        .route("/api/v1/certificates", post(crate::certificates::apply))
        .route(
            "/api/v1/certificates/{number}",
            get(crate::certificates::file),
        )
        .route(
            "/api/v1/certificates/{number}/page",
            get(crate::certificates::page),
        )
        .route("/api/v1/verify", post(crate::certificates::verify))
        .route("/verify", get(crate::certificates::verify_page))
        .layer(axum::middleware::map_response(
            crate::error::rejections_as_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count,
        ))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    // Ready means the database answers; counting a national store's tables is for /metrics.
    state.store.ping().await?;
    Ok(Json(json!({"status": "ok"})))
}

async fn openapi(_caller: Caller) -> Json<Value> {
    Json(crate::openapi::document())
}

/// The kind an agency key's events speak as: the kind its agency is registered with (configured,
/// or by the agency's first event imported or sent by an operator), read once per request. Never
/// the kind an event declares: a police key could otherwise send a court's judgment.
async fn sender_kind(state: &AppState, caller: &Caller) -> Result<Option<String>, ApiError> {
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
    own_kind: Option<&str>,
    event: &ValidEvent,
) -> Result<(), ApiError> {
    let agency = &event.event.agency;
    let reason = match (caller.role, &caller.agency) {
        (Role::Operator, _) => return Ok(()),
        (Role::Agency, Some(own)) if &agency.code == own => match own_kind {
            Some(kind) if kind == agency.kind.code() => return Ok(()),
            Some(kind) => format!(
                "agency {own} is registered as {kind}; may not send events as {}",
                agency.kind.code()
            ),
            None => format!(
                "agency {own} is not registered with a kind: an operator configures it (`agencies`) before its key sends events"
            ),
        },
        _ => format!("may not send events for agency {}", agency.code),
    };
    Err(refuse(state, caller, "send events", reason).await?)
}

/// Whether the request says its body is JSON (`application/json`, or `application/…+json`), as
/// axum's `Json` extractor requires of every other JSON endpoint.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn outcome_status(outcome: LineOutcome) -> StatusCode {
    match outcome {
        LineOutcome::Stored => StatusCode::CREATED,
        LineOutcome::Duplicate => StatusCode::OK,
    }
}

async fn ingest_one(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    // The event is parsed from its own bytes (a field given twice is refused), with the answers
    // every JSON endpoint gives: 415 for another content type, 400 for a body that is not JSON.
    if !json_content_type(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&body)
        .map_err(|e| ApiError::Malformed(format!("the body is not JSON: {e}")))?;
    let event = Event::parse(&body).map_err(|error| invalid_lines(vec![(1, error)]))?;
    let own_kind = sender_kind(&state, &caller).await?;
    check_speaks_for(&state, &caller, own_kind.as_deref(), &event).await?;
    let ctx = state.context(Actor::Automatic).await;
    let outcome = state
        .store
        .ingest(std::slice::from_ref(&event), &ctx)
        .await?;
    let outcome = outcome.first().copied().unwrap_or(LineOutcome::Duplicate);
    state.metrics.events(outcome);
    Ok((outcome_status(outcome), Json(json!({"outcome": outcome}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    events: Vec<Value>,
}

/// A batch is atomic: every line is stored (or was already), or none is and the answer names the
/// lines that stopped it.
async fn ingest_batch(
    State(state): State<AppState>,
    caller: Caller,
    Json(batch): Json<Batch>,
) -> Result<impl IntoResponse, ApiError> {
    if batch.events.is_empty() || batch.events.len() > 10_000 {
        return Err(ApiError::BadRequest(
            "a batch holds 1 to 10,000 events".into(),
        ));
    }
    let own_kind = sender_kind(&state, &caller).await?;
    let mut events = Vec::with_capacity(batch.events.len());
    let mut errors = Vec::new();
    for (index, value) in batch.events.iter().enumerate() {
        let bytes = serde_json::to_vec(value).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        match Event::parse(&bytes) {
            Ok(event) => {
                check_speaks_for(&state, &caller, own_kind.as_deref(), &event).await?;
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
    Ok(Json(
        json!({"stored": stored, "duplicates": outcomes.len() - stored, "results": outcomes}),
    ))
}

fn invalid_lines(errors: Vec<(usize, fengcun_domain::FieldError)>) -> ApiError {
    let lines: Vec<String> = errors
        .iter()
        .map(|(line, e)| format!("line {line}: {e}"))
        .collect();
    ApiError::BadRequest(lines.join("; "))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeQuery {
    status: Option<String>,
    case_code: Option<String>,
    #[serde(default)]
    unacknowledged: bool,
}

/// `GET /api/v1/notices`: an operator watching deliveries sees every notice with the person
/// masked (张某, 1101**********0025); an agency sees the notices addressed to it in full, to act on
/// them. Every read is audited: who, with what filter, how many notices.
async fn list_notices(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<NoticeQuery>,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "list notices", &[Role::Operator, Role::Agency])
        .await?;
    let (recipient, mask) = match (caller.role, &caller.agency) {
        (Role::Agency, Some(own)) => (Some(own.clone()), None),
        (Role::Agency, None) => {
            let reason = "an agency key without an agency code has no notices".to_owned();
            return Err(refuse(&state, &caller, "list notices", reason).await?);
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
    let filter = json!({"status": query.status, "case_code": query.case_code, "unacknowledged": query.unacknowledged, "recipient": recipient});
    let notices = state
        .store
        .notices(NoticeFilter {
            status: query.status,
            case_code: query.case_code,
            unacknowledged: query.unacknowledged,
            recipient,
            mask,
        })
        .await?;
    let entry = AuditEvent::new(AuditKind::Read, &caller.name, "notices")
        .detail(json!({"filter": filter, "rows": notices.len(), "identities": identities}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(Json(json!({"notices": notices})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ack {
    token: String,
}

async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(ack): Json<Ack>,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "acknowledge notices", &[Role::Agency])
        .await?;
    let Some(agency) = &caller.agency else {
        let reason = "an agency key without an agency code has no notices".to_owned();
        return Err(refuse(&state, &caller, "acknowledge notices", reason).await?);
    };
    // Only the agency the notice is addressed to acknowledges it.
    if state
        .store
        .acknowledge(&id, agency, &ack.token, &caller.name, state.clock.now())
        .await?
    {
        Ok(Json(json!({"acknowledged": id})))
    } else {
        // The same answer for an unknown notice, a wrong token and another agency's notice.
        Err(ApiError::NotFound)
    }
}

/// Puts a notice that ran out of attempts back in the outbox for one more attempt (an operator,
/// once the agency's endpoint or the platform's keys are mended).
async fn retry_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require_operator(&state, "retry notices").await?;
    if state
        .store
        .retry_failed_notice(&id, &caller.name, state.clock.now())
        .await?
    {
        Ok(Json(json!({"retrying": id})))
    } else {
        Err(ApiError::NotFound)
    }
}

async fn policy_in_force(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_operator(&state, "read the policy").await?;
    let policy = state.policy.read().await.clone();
    Ok(Json(
        json!({"name": policy.name(), "version": policy.version(), "title": policy.meta.title, "document": policy.source_text}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyChangeRequest {
    /// A shipped policy by name …
    name: Option<String>,
    /// … or a policy document.
    document: Option<String>,
    #[serde(default)]
    apply: bool,
}

async fn change_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<PolicyChangeRequest>,
) -> Result<Json<Value>, ApiError> {
    caller.require_operator(&state, "change the policy").await?;
    let policy = match (request.name, request.document) {
        (Some(name), None) => presets::get(&name)
            .cloned()
            .ok_or_else(|| ApiError::BadRequest(format!("no shipped policy `{name}`")))?,
        (None, Some(document)) => Policy::from_toml("request", &document)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        _ => return Err(ApiError::BadRequest("give `name` or `document`".into())),
    };
    let ctx = state.context(Actor::Operator(caller.name.clone())).await;
    let report = state
        .store
        .change_policy(&policy, &ctx, request.apply)
        .await?;
    if request.apply {
        *state.policy.write().await = std::sync::Arc::new(policy);
        crate::scheduler::count_failures(&state, &report.failures);
        tracing::info!(operator = %caller.name, policy = %report.policy, version = %report.version, failures = report.failures.len(), "policy put in force");
    }
    Ok(Json(
        serde_json::to_value(report).map_err(|e| ApiError::BadRequest(e.to_string()))?,
    ))
}

async fn run_scheduler(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_operator(&state, "run the scheduler").await?;
    let report = crate::scheduler::run_once(&state).await?;
    Ok(Json(
        json!({"transitions": report.transitions.len(), "failures": report.failures}),
    ))
}

/// Delivers up to a hundred notices due now, without waiting for the outbox's next round (an
/// operator retrying after an agency's endpoint came back).
async fn run_outbox(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_operator(&state, "run the outbox").await?;
    // Five claims (a hundred notices) at most: an operator's request returns in bounded time;
    // the timer takes the rest.
    let delivered = crate::outbox::deliver_due(&state, &crate::outbox::client(), 5).await?;
    Ok(Json(json!({"delivered": delivered})))
}
