//! `/api/v1/me/looks` (who looked at my record) and correction requests: `/api/v1/me/corrections`
//! for the person, `/api/v1/corrections` for the clerks of the agency addressed.

use axum::Json;
use axum::extract::{Path, Query, State};

use super::{Conflict, Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::corrections::{
    self, Correction, CorrectionDecision, Corrections, NewCorrection, QueueQuery,
};
use crate::service::looked::{self, WhoLooked};

/// Who looked at my record: every look-up that concerned the caller and every read under a grant — kind and agency of the requester (never the official), purpose, legal basis, whether a sealed record was shown; reads for an investigation that must stay secret appear after the withholding period (a person only; audited)
#[utoipa::path(get, path = "/api/v1/me/looks", tag = "person",
    responses((status = 200, description = "Who looked", body = WhoLooked), Errors))]
pub async fn who_looked(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WhoLooked>, ApiError> {
    super::json(looked::who_looked(&state, &caller).await)
}

/// My correction requests, newest first; an answer not seen before is marked new (a person only; audited)
#[utoipa::path(get, path = "/api/v1/me/corrections", tag = "person",
    responses((status = 200, description = "The caller's requests", body = Corrections), Errors))]
pub async fn mine(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Corrections>, ApiError> {
    super::json(corrections::mine(&state, &caller).await)
}

/// Ask the agency holding one of my records to correct a fact of it (a person only; audited). Another person's record is not found, as one that does not exist
#[utoipa::path(post, path = "/api/v1/me/corrections", tag = "person", request_body = NewCorrection,
    responses((status = 200, description = "The request, addressed to the holding agency", body = Correction), NotFound, Errors))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NewCorrection>,
) -> Result<Json<Correction>, ApiError> {
    super::json(corrections::create(&state, &caller, request).await)
}

/// The correction requests addressed to the clerk's own agency, oldest first (a clerk only; audited)
#[utoipa::path(get, path = "/api/v1/corrections", tag = "person", params(QueueQuery),
    responses((status = 200, description = "The agency's queue", body = Corrections), Errors))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueueQuery>,
) -> Result<Json<Corrections>, ApiError> {
    super::json(corrections::queue(&state, &caller, query).await)
}

/// Answer a correction request of the clerk's agency: accept with the agency's correction event (ingested), or refuse with a reason (audited)
#[utoipa::path(post, path = "/api/v1/corrections/{id}/answer", tag = "person", params(("id" = String, Path)),
    request_body = CorrectionDecision,
    responses((status = 200, description = "Answered", body = Correction), NotFound, Conflict, Errors))]
pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(decision): Json<CorrectionDecision>,
) -> Result<Json<Correction>, ApiError> {
    super::json(corrections::answer(&state, &caller, &id, decision).await)
}
