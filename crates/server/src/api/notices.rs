//! `/api/v1/notices`.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::notices::{self, Acknowledged, NoticeQuery, Notices, Retrying};

/// Sealing and unsealing notices: an operator sees every one with the person masked (张某, 1101**********0025), an agency those addressed to it in full; every read is audited
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticeQuery),
    responses((status = 200, description = "The notices the caller may see", body = Notices), Errors))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<NoticeQuery>,
) -> Result<Json<Notices>, ApiError> {
    super::json(notices::list(&state, &caller, query).await)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// The token the notice was delivered with.
    token: String,
}

/// Acknowledge a delivered notice with its token (the agency it is addressed to)
#[utoipa::path(post, path = "/api/v1/notices/{id}/ack", tag = "notices", params(("id" = String, Path)),
    request_body = Ack,
    responses((status = 200, description = "Acknowledged", body = Acknowledged), NotFound, Errors))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(ack): Json<Ack>,
) -> Result<Json<Acknowledged>, ApiError> {
    super::json(notices::acknowledge(&state, &caller, &id, &ack.token).await)
}

/// Put a failed notice back in the outbox for one more attempt, due now (operator)
#[utoipa::path(post, path = "/api/v1/notices/{id}/retry", tag = "notices", params(("id" = String, Path)),
    responses((status = 200, description = "Due again now", body = Retrying), NotFound, Errors))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Retrying>, ApiError> {
    super::json(notices::retry(&state, &caller, &id).await)
}
