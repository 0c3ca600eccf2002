//! Look-ups, penetration requests and grants (docs/disclosure.md).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Conflict, Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::disclosure::{self, LookupAnswer, LookupRequest};
use crate::service::requests::{
    self, Decided, DecisionRequest, Grants, NewRequest, RequestCreated, RequestFilter, Requests,
    Revocation, Revoked,
};

/// Records of a person or a case, as the caller may see them: a sealed record without a live covering grant is answered exactly as one that does not exist
#[utoipa::path(post, path = "/api/v1/lookups", tag = "disclosure", request_body = LookupRequest,
    responses((status = 200, description = "What the disclosure table lets this caller see (a hidden sealed record is answered as one that does not exist)", body = LookupAnswer), Errors))]
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<LookupRequest>,
) -> Result<Response, ApiError> {
    // The bytes the decision made, as they are.
    let body = disclosure::lookup(&state, &caller, request).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// Requests: every one for approvers and auditors, one's own otherwise
#[utoipa::path(get, path = "/api/v1/requests", tag = "disclosure", params(RequestFilter),
    responses((status = 200, description = "The requests the caller may see", body = Requests), Errors))]
pub async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<RequestFilter>,
) -> Result<Json<Requests>, ApiError> {
    super::json(requests::list(&state, &caller, filter).await)
}

/// Ask to see a person's sealed records, with the legal basis
#[utoipa::path(post, path = "/api/v1/requests", tag = "disclosure", request_body = NewRequest,
    responses((status = 201, description = "The request, pending an approver's decision", body = RequestCreated), Errors))]
pub async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewRequest>,
) -> Result<(StatusCode, Json<RequestCreated>), ApiError> {
    let created = requests::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Approve (approver, not the requester): makes a grant for that person, purpose and window
#[utoipa::path(post, path = "/api/v1/requests/{id}/approve", tag = "disclosure",
    params(("id" = String, Path)), request_body = DecisionRequest,
    responses((status = 200, description = "Approved, with the grant it made", body = Decided), NotFound, Conflict, Errors))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DecisionRequest>,
) -> Result<Json<Decided>, ApiError> {
    super::json(requests::decide(&state, &caller, &id, body, true).await)
}

/// Refuse (approver, not the requester)
#[utoipa::path(post, path = "/api/v1/requests/{id}/refuse", tag = "disclosure",
    params(("id" = String, Path)), request_body = DecisionRequest,
    responses((status = 200, description = "Refused", body = Decided), NotFound, Conflict, Errors))]
pub async fn refuse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DecisionRequest>,
) -> Result<Json<Decided>, ApiError> {
    super::json(requests::decide(&state, &caller, &id, body, false).await)
}

/// Grants: every one for approvers and auditors, one's own otherwise
#[utoipa::path(get, path = "/api/v1/grants", tag = "disclosure",
    responses((status = 200, description = "The grants the caller may see", body = Grants), Errors))]
pub async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Grants>, ApiError> {
    super::json(requests::list_grants(&state, &caller).await)
}

/// Revoke a grant (approver, administrator), with the reason (kept in the audit entry)
#[utoipa::path(delete, path = "/api/v1/grants/{id}", tag = "disclosure",
    params(("id" = String, Path)), request_body = Revocation,
    responses((status = 200, description = "Revoked", body = Revoked), NotFound, Errors))]
pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<Revocation>>,
) -> Result<Json<Revoked>, ApiError> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    super::json(requests::revoke_grant(&state, &caller, &id, body).await)
}
