//! The HTTP API under `/api/v1`, plus `/healthz`, `/metrics` and `/api/openapi.json`: thin
//! handlers (extract → call a service → typed answer), one module per area. The router is an
//! `OpenApiRouter`: a handler is routed only through `routes!`, which puts it in the OpenAPI
//! document, so no route goes undocumented.

mod audit;
mod certificates;
mod disclosure;
mod events;
mod identity;
mod looked;
mod notices;
mod operations;
mod portal;
mod records;
mod supervision;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::service;

/// A batch's body: 10,000 events of up to about 2.4 KB each (a realistic event is under 1 KB).
const BATCH_BODY_LIMIT: usize = 24 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fengcun 封存 — minor-criminal-record sealing platform",
        description = "Agencies submit case events; records are sealed and unsealed automatically under the policy in force; every agency holding a record is notified; look-ups, penetration requests and certificates follow the disclosure table (docs/disclosure.md). Every endpoint except /healthz, login, activation and certificate verification needs `Authorization: Bearer <key>` or a console session (cookie, with X-CSRF-Token on changes)."
    ),
    components(schemas(ErrorBody)),
    security(("bearer" = [])),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route, each with its OpenAPI operation.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
        .routes(routes!(events::ingest_one))
        .routes(
            routes!(events::ingest_batch)
                .layer(axum::extract::DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        )
        .routes(routes!(notices::list))
        .routes(routes!(notices::acknowledge))
        .routes(routes!(notices::retry))
        .routes(routes!(
            operations::policy_in_force,
            operations::change_policy
        ))
        .routes(routes!(records::list))
        .routes(routes!(records::timeline))
        .routes(routes!(records::stats))
        .routes(routes!(operations::run_scheduler))
        .routes(routes!(operations::run_outbox))
        .routes(routes!(audit::entries))
        .routes(routes!(audit::heads, audit::sign_now))
        .routes(routes!(audit::inclusion))
        .routes(routes!(audit::consistency))
        .routes(routes!(audit::public_key))
        .routes(routes!(audit::signing_keys))
        .routes(routes!(supervision::list))
        .routes(routes!(supervision::show))
        .routes(routes!(supervision::review))
        .routes(routes!(identity::login, identity::whoami, identity::logout))
        .routes(routes!(identity::list_users, identity::create_user))
        .routes(routes!(identity::disable_user))
        .routes(routes!(identity::enable_user))
        .routes(routes!(identity::change_password))
        .routes(routes!(identity::list_keys, identity::create_key))
        .routes(routes!(identity::revoke_key))
        .routes(routes!(disclosure::lookup))
        .routes(routes!(
            disclosure::list_requests,
            disclosure::create_request
        ))
        .routes(routes!(disclosure::approve))
        .routes(routes!(disclosure::refuse))
        .routes(routes!(disclosure::list_grants))
        .routes(routes!(disclosure::revoke_grant))
        .routes(routes!(certificates::apply))
        .routes(routes!(certificates::file))
        .routes(routes!(certificates::page))
        .routes(routes!(certificates::verify))
        .routes(routes!(certificates::verify_page))
        // The person's portal: who looked, corrections (i17-looked).
        .routes(routes!(looked::who_looked))
        .routes(routes!(looked::mine, looked::create))
        .routes(routes!(looked::queue))
        .routes(routes!(looked::answer))
        .routes(routes!(portal::enrol, portal::waiting))
        .routes(routes!(portal::confirm))
        .routes(routes!(portal::activate))
        .routes(routes!(portal::records))
        .routes(routes!(portal::notices))
        .routes(routes!(portal::notice))
        .routes(routes!(portal::certificates, portal::apply))
}

/// The OpenAPI document, derived from the routes and the types they take and answer.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = routes().into_openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}

/// The API's answers carry personal data (records, look-ups, certificates): no browser or proxy
/// keeps them, no other site frames them, and what is HTML (a certificate's printable page, the
/// public verification page) runs no script. A handler that answers HTML sets its own policy.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: AppState) -> Router {
    use axum::http::HeaderValue;
    use tower_http::set_header::SetResponseHeaderLayer;
    let (router, _) = routes().split_for_parts();
    let router = router
        .layer(axum::middleware::map_response(
            crate::error::rejections_as_errors,
        ))
        // A handler that answers HTML sets its own policy.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        ));
    crate::headers::private_answers(router)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count,
        ))
        .with_state(state)
}

/// A service's answer as a JSON response.
fn json<T: Serialize>(result: service::Result<T>) -> Result<Json<T>, ApiError> {
    Ok(Json(result?))
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// `ok`
    status: &'static str,
}

/// Ready when the database answers
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, description = "The database answers", body = Health), (status = 503, description = "The database does not answer", body = ErrorBody)))]
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // Ready means the database answers; counting a national store's tables is for /metrics.
    service::ping(&state).await?;
    Ok(Json(Health { status: "ok" }))
}

/// Prometheus metrics (operator)
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "text/plain exposition format", body = String, content_type = "text/plain"),
        (status = 401, description = "No or unknown key", body = ErrorBody), (status = 403, description = "Not an operator (audited)", body = ErrorBody)))]
async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    let text = service::operations::metrics(&state, &caller).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

/// This document
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1", body = Object),
        (status = 401, description = "No or unknown key", body = ErrorBody)))]
async fn openapi(_caller: Caller) -> Json<utoipa::openapi::OpenApi> {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(document).clone())
}

/// The errors most endpoints may answer, each `{"error", "message", "line"}`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses; never built")]
enum Errors {
    /// A body that is not JSON, or a query string that does not parse
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// No or unknown key
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The caller's role may not do this (audited), or a session change without its CSRF token
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// A request body without `Content-Type: application/json`
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Invalid input: JSON that fails validation, a query value out of range; the message names the line and field
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// The answer to an unknown thing, or one the caller may not know of.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses; never built")]
enum NotFound {
    /// Not found (or not the caller's to see: the same answer)
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// The answer to a change that collides with the state.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses; never built")]
enum Conflict {
    /// Conflicts with what is stored
    #[response(status = 409)]
    Conflict(ErrorBody),
}
