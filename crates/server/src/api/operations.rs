//! `/api/v1/policy`, `/api/v1/scheduler/run`, `/api/v1/outbox/run`.

use axum::Json;
use axum::extract::State;

use super::Errors;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::operations::{
    self, OutboxRun, PolicyChange, PolicyChangeRequest, PolicyInForce, SchedulerRun,
};

/// The policy in force (operator)
#[utoipa::path(get, path = "/api/v1/policy", tag = "operations",
    responses((status = 200, description = "The policy in force", body = PolicyInForce), Errors))]
pub async fn policy_in_force(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PolicyInForce>, ApiError> {
    super::json(operations::policy_in_force(&state, &caller).await)
}

/// Preview or apply another policy (operator): every record is re-evaluated and the difference reported
#[utoipa::path(post, path = "/api/v1/policy", tag = "operations", request_body = PolicyChangeRequest,
    responses((status = 200, description = "The difference, previewed or applied", body = PolicyChange), Errors))]
pub async fn change_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<PolicyChangeRequest>,
) -> Result<Json<PolicyChange>, ApiError> {
    super::json(operations::change_policy(&state, &caller, request).await)
}

/// Make due pending seals take effect now (operator)
#[utoipa::path(post, path = "/api/v1/scheduler/run", tag = "operations",
    responses((status = 200, description = "What the run sealed", body = SchedulerRun), Errors))]
pub async fn run_scheduler(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SchedulerRun>, ApiError> {
    super::json(operations::run_scheduler(&state, &caller).await)
}

/// Deliver up to 100 notices due now, without waiting for the outbox's next round (operator)
#[utoipa::path(post, path = "/api/v1/outbox/run", tag = "operations",
    responses((status = 200, description = "What the run delivered", body = OutboxRun), Errors))]
pub async fn run_outbox(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OutboxRun>, ApiError> {
    super::json(operations::run_outbox(&state, &caller).await)
}
