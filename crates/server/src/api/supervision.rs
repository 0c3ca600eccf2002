//! Supervision flags over HTTP (docs/supervision.md): supervisors only.

use axum::Json;
use axum::extract::{Path, Query, State};

use super::{Conflict, Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::supervision::{self, FlagDetail, FlagFilter, FlagView, Flags, Review};

/// The supervision flags (supervisor); the read is itself an entry
#[utoipa::path(get, path = "/api/v1/supervision/flags", tag = "supervision", params(FlagFilter),
    responses((status = 200, description = "Flags, oldest period first", body = Flags), Errors))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<FlagFilter>,
) -> Result<Json<Flags>, ApiError> {
    super::json(supervision::list(&state, &caller, filter).await)
}

/// One flag with the audit entries behind it (supervisor); a `lookup` entry of its own
#[utoipa::path(get, path = "/api/v1/supervision/flags/{id}", tag = "supervision",
    params(("id" = String, Path, description = "The flag's id")),
    responses((status = 200, description = "The flag and its entries", body = FlagDetail), NotFound, Errors))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<FlagDetail>, ApiError> {
    super::json(supervision::show(&state, &caller, &id).await)
}

/// Mark a flag reviewed: no_issue or referred (supervisor, never about themself); audited
#[utoipa::path(post, path = "/api/v1/supervision/flags/{id}/review", tag = "supervision",
    params(("id" = String, Path, description = "The flag's id")), request_body = Review,
    responses((status = 200, description = "The flag, reviewed", body = FlagView), NotFound, Conflict, Errors))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Review>,
) -> Result<Json<FlagView>, ApiError> {
    super::json(supervision::review(&state, &caller, &id, body).await)
}
