//! Thin JSON handlers over `service::records`: the list of records, a record's timeline and the
//! supervisor's numbers (docs/operations.md).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::service::records::{self, ListQuery, RecordList, StatsView, Timeline};

/// The list's filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A state: open, not_eligible, pending_seal, sealed, unsealed, revoked.
    state: Option<String>,
    /// Pending seals due strictly before this date (YYYY-MM-DD).
    due_before: Option<String>,
    /// Records this agency (its code) sent an event of.
    agency: Option<String>,
    /// Records whose state was decided under this policy version.
    policy_version: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Records per page, 1 to 200 (50 if not given).
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/records",
    tag = "records",
    params(ListParams),
    responses(
        (status = 200, description = "A page of records, identities masked", body = RecordList),
        (status = 401, description = "No or unknown key", body = ErrorBody),
        (status = 403, description = "Not an operator or auditor", body = ErrorBody),
        (status = 422, description = "A filter is invalid (the message names it)", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<RecordList>, ApiError> {
    let query = ListQuery {
        state: params.state,
        due_before: params.due_before,
        agency: params.agency,
        policy_version: params.policy_version,
        cursor: params.cursor,
        limit: params.limit,
    };
    Ok(Json(records::list(&state, &caller, query).await?))
}

/// Why the timeline is read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// operations (an operator), or a disclosure purpose: case_handling, national_security_review,
    /// special_post_vetting, certificate, self_inspection.
    purpose: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/records/{case_code}",
    tag = "records",
    params(("case_code" = String, Path, description = "The nationwide case code"), TimelineParams),
    responses(
        (status = 200, description = "The case's records the caller may read, each with its timeline", body = Timeline),
        (status = 401, description = "No or unknown key", body = ErrorBody),
        (status = 404, description = "No such case, or none the caller may read (the same answer)", body = ErrorBody),
        (status = 422, description = "A missing or unknown purpose, or a malformed case code", body = ErrorBody),
    )
)]
pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_code): Path<String>,
    Query(params): Query<TimelineParams>,
) -> Result<Json<Timeline>, ApiError> {
    Ok(Json(
        records::timeline(&state, &caller, &case_code, params.purpose.as_deref()).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/stats",
    tag = "records",
    responses(
        (status = 200, description = "The supervisor's numbers", body = StatsView),
        (status = 401, description = "No or unknown key", body = ErrorBody),
        (status = 403, description = "Not an operator or auditor", body = ErrorBody),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<StatsView>, ApiError> {
    Ok(Json(records::stats(&state, &caller).await?))
}
