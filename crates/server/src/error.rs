//! The API layer's one error enum and its single mapping to HTTP.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fengcun_store::StoreError;
use serde_json::json;

use crate::auth::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    /// A refusal with its reason (a requester approving their own request, …), already in the
    /// audit log: a [`Refusal`] is made only by [`crate::auth::refuse`].
    #[error("{0}")]
    Refused(Refusal),
    /// Too many wrong logins for this username: try again after the given seconds.
    #[error("too many failed logins; try again in {0} s")]
    Throttled(i64),
    #[error("missing or wrong CSRF token (X-CSRF-Token)")]
    Csrf,
    #[error("{0}")]
    Conflict(String),
    /// Valid JSON that fails validation (422); the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// A body that is not JSON at all (400).
    #[error("{0}")]
    Malformed(String),
    /// A body whose content type is not JSON (415).
    #[error("expected a request with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Refused(_) | ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Store(error) => match error {
                StoreError::Conflict { .. } | StoreError::CaseNumberConflict { .. } => {
                    StatusCode::CONFLICT
                }
                StoreError::Invalid { .. } | StoreError::UnknownDocument { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Refused(_) => "forbidden",
            ApiError::Csrf => "csrf",
            ApiError::Throttled(_) => "throttled",
            ApiError::Conflict(_) => "conflict",
            ApiError::BadRequest(_) | ApiError::Malformed(_) => "invalid",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::NotFound => "not_found",
            ApiError::Store(
                StoreError::Conflict { .. } | StoreError::CaseNumberConflict { .. },
            ) => "conflict",
            ApiError::Store(StoreError::Invalid { .. } | StoreError::UnknownDocument { .. }) => {
                "invalid"
            }
            ApiError::Store(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Internal errors are logged in full and answered without detail: a database message can
        // carry data that must not leave the server.
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let line = match &self {
            ApiError::Store(error) => error.line(),
            _ => None,
        };
        let mut response = (
            status,
            Json(json!({"error": self.code(), "message": message, "line": line})),
        )
            .into_response();
        if let ApiError::Throttled(seconds) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.max(1).into());
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The answers axum's extractors give on their own (a body that is not JSON, too large, of the
/// wrong content type; a malformed query or path) are plain text; every error this API gives is
/// `{"error", "message", "line"}`, so they are rewritten in that shape.
pub async fn rejections_as_errors(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid",
    };
    let message = String::from_utf8_lossy(&body).trim().to_owned();
    (
        status,
        Json(json!({"error": code, "message": message, "line": null})),
    )
        .into_response()
}
