//! The person's own portal (docs/person.md): counter enrolment (a clerk), activation (public, like
//! login), and the person's own records, notices and certificates under `/api/v1/me/`. Whose data
//! is always the session's own (`service::portal::own_person_key`), never a parameter.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::{Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::certificates::Issued;
use crate::service::notices::{Notice, Notices};
use crate::service::portal::{
    self, ActivateRequest, Activated, EnrolRequest, Enrolled, EnrolmentOpened, MyApplication,
    MyCertificates, MyRecords, WaitingEnrolment,
};

/// Open a person's enrolment at a counter (a public-security or court clerk, the identity card in hand): no account and no activation code yet — a second clerk of the counter confirms it
#[utoipa::path(post, path = "/api/v1/enrolments", tag = "portal", request_body = EnrolRequest,
    responses((status = 201, description = "The enrolment, waiting for a second clerk", body = EnrolmentOpened), Errors))]
pub async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<EnrolRequest>,
) -> Result<(StatusCode, Json<EnrolmentOpened>), ApiError> {
    let opened = portal::enrol(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

/// The counter's enrolments waiting for a second clerk, oldest first (they name no person: the second clerk reads the identity card)
#[utoipa::path(get, path = "/api/v1/enrolments", tag = "portal",
    responses((status = 200, description = "Enrolments waiting", body = [WaitingEnrolment]), Errors))]
pub async fn waiting(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WaitingEnrolment>>, ApiError> {
    super::json(portal::waiting_enrolments(&state, &caller).await)
}

/// Confirm an enrolment as the second clerk, typing the identity number and name from the card: the one-time activation code, valid 72 hours, shown only in this answer
#[utoipa::path(post, path = "/api/v1/enrolments/{enrolment}/confirmation", tag = "portal", request_body = EnrolRequest,
    params(("enrolment" = String, Path, description = "The enrolment's number (`EN-…`)")),
    responses((status = 201, description = "The activation code, shown once", body = Enrolled), NotFound, Errors))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(enrolment): Path<String>,
    Json(request): Json<EnrolRequest>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let enrolled = portal::confirm_enrolment(&state, &caller, &enrolment, request).await?;
    Ok((StatusCode::CREATED, Json(enrolled)))
}

/// Activate a person's account with the code from the counter, the identity number and a new password (public; guesses are throttled per identity number)
#[utoipa::path(post, path = "/api/v1/activation", tag = "portal", security(()), request_body = ActivateRequest,
    responses((status = 200, description = "The account may log in now", body = Activated), Errors))]
pub async fn activate(
    State(state): State<AppState>,
    Json(request): Json<ActivateRequest>,
) -> Result<Json<Activated>, ApiError> {
    super::json(portal::activate(&state, request).await)
}

/// The person's own records, sealed ones included, each with its state in plain Chinese
#[utoipa::path(get, path = "/api/v1/me/records", tag = "portal",
    responses((status = 200, description = "Every record of the person", body = MyRecords), Errors))]
pub async fn records(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MyRecords>, ApiError> {
    super::json(portal::my_records(&state, &caller).await)
}

/// The notices addressed to the person (封存通知书, 解除封存通知书)
#[utoipa::path(get, path = "/api/v1/me/notices", tag = "portal",
    responses((status = 200, description = "The person's notices", body = Notices), Errors))]
pub async fn notices(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Notices>, ApiError> {
    super::json(portal::my_notices(&state, &caller).await)
}

/// One of the person's notices (another's is not found, as one that does not exist)
#[utoipa::path(get, path = "/api/v1/me/notices/{id}", tag = "portal",
    params(("id" = String, Path)),
    responses((status = 200, description = "The notice", body = Notice), NotFound, Errors))]
pub async fn notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Notice>, ApiError> {
    super::json(portal::my_notice(&state, &caller, &id).await)
}

/// The person's certificates, each with its verification status today
#[utoipa::path(get, path = "/api/v1/me/certificates", tag = "portal",
    responses((status = 200, description = "The person's certificates", body = MyCertificates), Errors))]
pub async fn certificates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MyCertificates>, ApiError> {
    super::json(portal::my_certificates(&state, &caller).await)
}

/// Apply for one's own certificate of no criminal record (purpose chosen)
#[utoipa::path(post, path = "/api/v1/me/certificates", tag = "portal", request_body = MyApplication,
    responses((status = 201, description = "Issued, signed and kept", body = Issued), Errors))]
pub async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Json(application): Json<MyApplication>,
) -> Result<(StatusCode, Json<Issued>), ApiError> {
    let issued = portal::apply_certificate(&state, &caller, application).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}
