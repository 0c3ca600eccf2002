//! `POST /api/v1/events[/batch]`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{Conflict, Errors};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::events::{self, BatchIngested, EventBody, Ingested, Outcome};

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

/// Submit one event
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    request_body(content = EventBody, description = "An event (docs/events.md)"),
    responses((status = 201, description = "stored", body = Ingested),
        (status = 200, description = "the same event was stored before", body = Ingested),
        Conflict, Errors))]
pub async fn ingest_one(
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
    let ingested = events::ingest_one(&state, &caller, &body).await?;
    let status = match ingested.outcome {
        Outcome::Stored => StatusCode::CREATED,
        Outcome::Duplicate => StatusCode::OK,
    };
    Ok((status, Json(ingested)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// 1 to 10,000 events.
    #[schema(value_type = Vec<EventBody>)]
    events: Vec<Value>,
}

/// Submit up to 10,000 events atomically: all are stored or none is
#[utoipa::path(post, path = "/api/v1/events/batch", tag = "events", request_body = Batch,
    responses((status = 200, description = "every line stored or a duplicate; `results` per line", body = BatchIngested),
        Conflict, Errors))]
pub async fn ingest_batch(
    State(state): State<AppState>,
    caller: Caller,
    Json(batch): Json<Batch>,
) -> Result<Json<BatchIngested>, ApiError> {
    super::json(events::ingest_batch(&state, &caller, &batch.events).await)
}
