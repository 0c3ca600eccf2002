//! Authentication. Every endpoint but health and public certificate verification needs a caller:
//!
//! - an API key, `Authorization: Bearer <key>`: a configured key (compared by digest in constant
//!   time) or a key stored by an administrator (found by its digest; a revoked key is refused);
//! - or a console session: the `fengcun_session` cookie set at login. A session request that
//!   changes something (any method but GET/HEAD/OPTIONS) must also carry the session's CSRF token in
//!   `X-CSRF-Token`: a cookie is sent by the browser on its own, the header only by our console.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use fengcun_store::{AuditEvent, AuditKind};

use crate::AppState;
use crate::config::key_digest;
use crate::error::ApiError;
pub use crate::service::Caller;

pub const SESSION_COOKIE: &str = "fengcun_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let key = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or(ApiError::UNAUTHENTICATED)?;
            return caller_by_key(state, key).await;
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::UNAUTHENTICATED)?;
        caller_by_session(
            state,
            &token,
            &parts.method,
            parts.uri.path(),
            &parts.headers,
        )
        .await
    }
}

async fn caller_by_key(state: &AppState, key: &str) -> Result<Caller, ApiError> {
    let digest = key_digest(key);
    if let Some(found) = state.config.api_keys.iter().find(|k| {
        constant_time_eq(
            k.key_sha256.to_ascii_lowercase().as_bytes(),
            digest.as_bytes(),
        )
    }) {
        return Ok(Caller {
            owner: found.name.clone(),
            name: found.name.clone(),
            role: found.role,
            agency: found.agency.clone(),
            kind: found.requester_kind,
            person_key: None,
        });
    }
    // A stored key is found by the digest of a random 256-bit key: the look-up itself reveals
    // nothing an attacker could use, so no constant-time comparison is needed here.
    let Some(stored) = state.store.key_by_hash(&digest).await? else {
        return Err(ApiError::UNAUTHENTICATED);
    };
    if stored.revoked_at.is_some() {
        let actor = format!("key:{}", stored.key_id);
        let entry = AuditEvent::new(AuditKind::AuthenticationRefused, &actor, "revoked_key");
        log_repeated_refusal(state, &actor, entry).await?;
        return Err(ApiError::UNAUTHENTICATED);
    }
    let name = format!("key:{}", stored.key_id);
    // A key answers for its owner: once the owner is disabled (or gone), so is the key, and with
    // it whatever grants it held.
    if let Some(owner) = &stored.owner {
        let live = state
            .store
            .user(owner)
            .await?
            .is_some_and(|user| !user.disabled);
        if !live {
            let entry = AuditEvent::new(AuditKind::AuthenticationRefused, &name, "owner_disabled")
                .detail(serde_json::json!({"owner": owner}));
            log_repeated_refusal(state, &name, entry).await?;
            return Err(ApiError::UNAUTHENTICATED);
        }
    }
    Ok(Caller {
        owner: stored
            .owner
            .as_ref()
            .map_or_else(|| name.clone(), |owner| format!("user:{owner}")),
        name,
        role: stored.role,
        agency: stored.agency,
        kind: stored.requester_kind,
        person_key: None,
    })
}

/// Writes `entry` unless the same subject was refused within the minute (then only counted); the
/// entry says how many went unlogged before it.
async fn log_repeated_refusal(
    state: &AppState,
    subject: &str,
    mut entry: AuditEvent,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let Some(unlogged) = state.repeated_refusals.to_log(subject, now) else {
        return Ok(());
    };
    if unlogged > 0 {
        let mut detail = entry.detail.as_object().cloned().unwrap_or_default();
        detail.insert("refused_since_last_entry".into(), unlogged.into());
        entry.detail = detail.into();
    }
    state.store.audit(&[entry], now).await?;
    Ok(())
}

/// Audits a form refused before any session exists (the login form without its token), at most
/// once a minute per address as the other repeated refusals are.
pub async fn refuse_anonymous_form(state: &AppState, path: &str) -> Result<(), ApiError> {
    let entry = AuditEvent::new(AuditKind::AuthenticationRefused, "anonymous", "csrf")
        .detail(serde_json::json!({"via": "form", "method": "POST", "path": path}));
    log_repeated_refusal(state, &format!("csrf:anonymous:{path}"), entry).await
}

async fn caller_by_session(
    state: &AppState,
    token: &str,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let session = state
        .store
        .session(&key_digest(token))
        .await?
        .filter(|s| s.expires_at > state.clock.now())
        .ok_or(ApiError::UNAUTHENTICATED)?;
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let given = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(key_digest)
            .unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), session.csrf_hash.as_bytes()) {
            // The cookie is SameSite=Strict, so this is a faulty client or a cookie taken elsewhere:
            // worth a trace either way.
            let actor = format!("user:{}", session.username);
            let entry = AuditEvent::new(AuditKind::AuthenticationRefused, &actor, "csrf").detail(
                serde_json::json!({"via": "session", "method": method.as_str(), "path": path}),
            );
            log_repeated_refusal(state, &format!("csrf:{actor}"), entry).await?;
            return Err(ApiError::Csrf);
        }
    }
    let user = state
        .store
        .user(&session.username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ApiError::UNAUTHENTICATED)?;
    Ok(Caller {
        owner: format!("user:{}", user.username),
        name: format!("user:{}", user.username),
        role: user.role,
        agency: user.agency,
        kind: user.requester_kind,
        person_key: user.person_key,
    })
}

/// The value of one cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}
