//! Certificates: issued, kept, read, and verified by anyone.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{Errors, NotFound};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::certificates::{
    self, Application, CertificateFile, Issued, PageQuery, Verification, VerifyRequest,
};

/// Issue a signed certificate (the person for themself, or a public-security clerk)
#[utoipa::path(post, path = "/api/v1/certificates", tag = "certificates", request_body = Application,
    responses((status = 201, description = "Issued, signed and kept", body = Issued), Errors))]
pub async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Json(application): Json<Application>,
) -> Result<(StatusCode, Json<Issued>), ApiError> {
    let issued = certificates::apply(&state, &caller, application).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// A certificate file (its issuer, an auditor, the person)
#[utoipa::path(get, path = "/api/v1/certificates/{number}", tag = "certificates",
    params(("number" = String, Path)),
    responses((status = 200, description = "The signed certificate file, byte for byte as signed", body = CertificateFile), NotFound, Errors))]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let file = certificates::file(&state, &caller, &number).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], file).into_response())
}

/// The printable page with its QR code
#[utoipa::path(get, path = "/api/v1/certificates/{number}/page", tag = "certificates",
    params(("number" = String, Path), PageQuery),
    responses((status = 200, description = "HTML", body = String, content_type = "text/html"), NotFound, Errors))]
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    // The page is standalone: its style inline, its QR code an inline SVG; no script at all.
    Ok((
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )],
        Html(certificates::page(&state, &caller, &number, query).await?),
    ))
}

/// Verify a certificate file or QR token (public)
#[utoipa::path(post, path = "/api/v1/verify", tag = "certificates", security(()), request_body = VerifyRequest,
    responses((status = 200, description = "Whether the file or token is genuine, and valid today", body = Verification)))]
pub async fn verify(
    State(state): State<AppState>,
    Json(request): Json<VerifyRequest>,
) -> Json<Verification> {
    Json(certificates::verify(&state, &request))
}

/// The verification page a phone opens from the QR code (public)
#[utoipa::path(get, path = "/verify", tag = "certificates", security(()), params(VerifyRequest),
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub async fn verify_page(
    State(state): State<AppState>,
    query: Result<Query<ScannedLink>, QueryRejection>,
) -> impl IntoResponse {
    // A phone shows a page, never a machine's error: a link that cannot be read is answered as a
    // document that cannot be verified.
    let verification = match query {
        Ok(Query(link)) => certificates::verify(&state, &link.into_request()),
        Err(_) => certificates::unreadable_link(),
    };
    // The console's stylesheet, and nothing else.
    (
        [(header::CONTENT_SECURITY_POLICY, crate::console::CSP)],
        Html(crate::console::verify_page(&verification)),
    )
}

/// What the verification page reads from the link a phone opened. Unlike the JSON request it
/// ignores parameters it does not know: a messaging app adds its own (`from=singlemessage`) to a
/// link that is shared, and a reader may add `lang=en`; the certificate is the same.
#[derive(Debug, serde::Deserialize)]
pub struct ScannedLink {
    token: Option<String>,
    file: Option<String>,
}

impl ScannedLink {
    fn into_request(self) -> VerifyRequest {
        VerifyRequest {
            token: self.token,
            file: self.file,
        }
    }
}
