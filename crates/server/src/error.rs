//! The API layer's one error enum and its single mapping to HTTP: a service's [`ServiceError`],
//! and the errors only HTTP has (a body that is not JSON, a missing CSRF token).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fengcun_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What a service answered: its [`ServiceError`], mapped below.
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("missing or wrong CSRF token (X-CSRF-Token)")]
    Csrf,
    /// A body that is not JSON at all (400).
    #[error("{0}")]
    Malformed(String),
    /// A body whose content type is not JSON (415).
    #[error("expected a request with `Content-Type: application/json`")]
    UnsupportedMediaType,
}

impl ApiError {
    pub const UNAUTHENTICATED: ApiError = ApiError::Service(ServiceError::Unauthenticated);
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Service(ServiceError::Store(error))
    }
}

/// Every error this API answers: `{"error", "message", "line"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// unauthenticated, forbidden, throttled, csrf, too_large, unsupported_media_type, invalid,
    /// not_found, method_not_allowed, conflict, unavailable (the database, with `Retry-After`),
    /// internal
    pub error: &'static str,
    pub message: String,
    /// The batch line the error is about.
    pub line: Option<usize>,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        let service = match self {
            ApiError::Csrf => return StatusCode::FORBIDDEN,
            ApiError::Malformed(_) => return StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => return StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Service(service) => service,
        };
        Self::status_of(service)
    }

    /// The status a service's error is answered with (the console's pages answer with it too).
    pub(crate) fn status_of(service: &ServiceError) -> StatusCode {
        match service {
            ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ServiceError::Refused(_) => StatusCode::FORBIDDEN,
            ServiceError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::NotFound => StatusCode::NOT_FOUND,
            ServiceError::Store(error) => match error {
                StoreError::Conflict { .. } | StoreError::CaseNumberConflict { .. } => {
                    StatusCode::CONFLICT
                }
                StoreError::Invalid { .. } | StoreError::UnknownDocument { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                // Sent again, the same request draws new digits: a retry, as when unavailable.
                StoreError::NoticeNumberTaken { .. } => StatusCode::SERVICE_UNAVAILABLE,
                error if error.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn code(&self) -> &'static str {
        let service = match self {
            ApiError::Csrf => return "csrf",
            ApiError::Malformed(_) => return "invalid",
            ApiError::UnsupportedMediaType => return "unsupported_media_type",
            ApiError::Service(service) => service,
        };
        match service {
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::Refused(_) => "forbidden",
            ServiceError::Throttled(_) => "throttled",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Invalid(_) => "invalid",
            ServiceError::NotFound => "not_found",
            ServiceError::Store(
                StoreError::Conflict { .. } | StoreError::CaseNumberConflict { .. },
            ) => "conflict",
            ServiceError::Store(
                StoreError::Invalid { .. } | StoreError::UnknownDocument { .. },
            ) => "invalid",
            ServiceError::Store(StoreError::NoticeNumberTaken { .. }) => "unavailable",
            ServiceError::Store(error) if error.is_unavailable() => "unavailable",
            ServiceError::Store(_) => "internal",
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
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            // The database is stopped or restarting: nothing was done; the caller tries again.
            tracing::warn!(error = %self, "the database is unavailable");
            "the database is unavailable; try again shortly".to_owned()
        } else {
            self.to_string()
        };
        let line = match &self {
            ApiError::Service(ServiceError::Store(error)) => error.line(),
            _ => None,
        };
        let body = ErrorBody {
            error: self.code(),
            message,
            line,
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Service(ServiceError::Throttled(seconds)) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.max(1).into());
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
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

/// An address nothing answers: the API's error shape, naming what was asked, where axum alone
/// answers an empty 404 — an agency's integrator should see a typing mistake, not a blank.
pub async fn unknown_address(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    addressing_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no such address: {method} {}; the API's addresses are listed in /api/openapi.json",
            uri.path()
        ),
    )
}

/// A method an address does not take: named, with the address, instead of an empty 405.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    // A console address that only takes a form's POST, reached by a reload or a bookmark: the
    // person is sent to the console's first page rather than shown JSON.
    if method == axum::http::Method::GET && uri.path().starts_with("/console/") {
        return axum::response::Redirect::to("/console/").into_response();
    }
    addressing_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}; /api/openapi.json lists what each address takes",
            uri.path()
        ),
    )
}

fn addressing_error(status: StatusCode, code: &'static str, message: String) -> Response {
    let body = ErrorBody {
        error: code,
        message,
        line: None,
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
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
    let body = ErrorBody {
        error: code,
        message,
        line: None,
    };
    (status, Json(body)).into_response()
}
