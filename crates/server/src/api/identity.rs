//! Sessions, users and keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Conflict, Errors, NotFound};
use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::service::identity::{
    self, KeyCreated, Keys, Login, NewKey, NewUser, OneUser, Opened, PasswordChange, Session,
    Users, WhoAmI,
};
use crate::service::requests::Revoked;

/// The answer that opens a session: the cookie, and the CSRF token in the body.
fn session_response(state: &AppState, opened: Opened) -> Result<Response, ApiError> {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        opened.token, opened.max_age_seconds
    );
    let mut response = Json(opened.session).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Malformed(e.to_string()))?,
    );
    Ok(response)
}

/// Log in: sets the session cookie (HttpOnly, SameSite=Strict) and answers the CSRF token
#[utoipa::path(post, path = "/api/v1/session", tag = "identity", security(()), request_body = Login,
    responses((status = 200, description = "Logged in: the session cookie is set", body = Session), (status = 429, description = "too many failed logins for this username", body = crate::error::ErrorBody), Errors))]
pub async fn login(
    State(state): State<AppState>,
    Json(login): Json<Login>,
) -> Result<Response, ApiError> {
    let opened = identity::login(&state, login).await?;
    session_response(&state, opened)
}

/// Who the caller is
#[utoipa::path(get, path = "/api/v1/session", tag = "identity",
    responses((status = 200, description = "The caller", body = WhoAmI), Errors))]
pub async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(identity::whoami(&caller))
}

/// Log out
#[utoipa::path(delete, path = "/api/v1/session", tag = "identity",
    responses((status = 204, description = "logged out; the cookie is cleared"), Errors))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = cookie(&headers, SESSION_COOKIE);
    identity::logout(&state, &caller, token.as_deref()).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("fengcun_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(response)
}

/// A console user changes their own password, giving the current one: every session of theirs ends and a new one opens
#[utoipa::path(post, path = "/api/v1/session/password", tag = "identity", request_body = PasswordChange,
    responses((status = 200, description = "Changed: the new session's cookie is set", body = Session), Errors))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(change): Json<PasswordChange>,
) -> Result<Response, ApiError> {
    // The session the request came with; a key has no password.
    let token = match (
        headers.get(header::AUTHORIZATION),
        cookie(&headers, SESSION_COOKIE),
    ) {
        (None, Some(token)) => Some(token),
        _ => None,
    };
    let opened = identity::change_password(&state, &caller, token.as_deref(), change).await?;
    session_response(&state, opened)
}

/// Users (administrator, auditor)
#[utoipa::path(get, path = "/api/v1/users", tag = "identity",
    responses((status = 200, description = "Every user", body = Users), Errors))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Users>, ApiError> {
    super::json(identity::list_users(&state, &caller).await)
}

/// Create a user (administrator); a person's account is enrolled, not created here
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", request_body = NewUser,
    responses((status = 201, description = "Created", body = OneUser), Conflict, Errors))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<OneUser>), ApiError> {
    let created = identity::create_user(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Disable a user (administrator): their sessions end
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "identity",
    params(("username" = String, Path)),
    responses((status = 200, description = "Disabled", body = OneUser), NotFound, Errors))]
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<OneUser>, ApiError> {
    super::json(identity::set_disabled(&state, &caller, &username, true).await)
}

/// Enable a disabled user again (administrator); their old sessions do not come back
#[utoipa::path(post, path = "/api/v1/users/{username}/enable", tag = "identity",
    params(("username" = String, Path)),
    responses((status = 200, description = "Enabled", body = OneUser), NotFound, Conflict, Errors))]
pub async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<OneUser>, ApiError> {
    super::json(identity::set_disabled(&state, &caller, &username, false).await)
}

/// Keys, never their secrets (administrator, auditor)
#[utoipa::path(get, path = "/api/v1/keys", tag = "identity",
    responses((status = 200, description = "Every key", body = Keys), Errors))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Keys>, ApiError> {
    super::json(identity::list_keys(&state, &caller).await)
}

/// Make a key (administrator); its secret is in this answer only
#[utoipa::path(post, path = "/api/v1/keys", tag = "identity", request_body = NewKey,
    responses((status = 201, description = "Made; the secret is shown this once", body = KeyCreated), Errors))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewKey>,
) -> Result<(StatusCode, Json<KeyCreated>), ApiError> {
    let created = identity::create_key(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke a key (administrator): it stops working at once
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 200, description = "Revoked", body = Revoked), NotFound, Errors))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(key_id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    super::json(identity::revoke_key(&state, &caller, &key_id).await)
}
