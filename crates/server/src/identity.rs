//! Who may call: console users (argon2id passwords, sessions with CSRF tokens) and the API keys an
//! administrator gives agency systems (stored as digests, shown once, revocable). Every change and
//! every login, successful or not, is an audit entry.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fengcun_access::RequesterKind;
use fengcun_domain::IdNumber;
use fengcun_store::{AuditEvent, AuditKind, KeyRow, SessionRow, UserRow};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE, cookie, refuse, refuse_as};
use crate::config::{Role, key_digest};
use crate::error::ApiError;
use crate::throttle::Locked;

fn argon2() -> argon2::Argon2<'static> {
    // Argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
    argon2::Argon2::default()
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&fengcun_crypto::random_bytes::<16>())
        .map_err(|e| ApiError::BadRequest(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::BadRequest(format!("password: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
    &PERMITS
}

/// A hash no password matches, verified against when the user does not exist, so that an
/// unknown username takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&fengcun_crypto::random_hex::<16>()).unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

/// A mistyped username is often a password: only a known username enters the log.
fn login_actor(known: bool, username: &str) -> String {
    if known {
        format!("user:{username}")
    } else {
        "unknown".to_owned()
    }
}

/// Refuses a login to a locked username without looking at the password. The first refusal of a
/// lock is audited, the rest counted in the metrics: a flood of refused logins must not grow the
/// log or keep its writer busy.
async fn throttled(
    state: &AppState,
    username: &str,
    now: jiff::Timestamp,
    locked: Locked,
) -> Result<ApiError, ApiError> {
    state
        .metrics
        .logins_throttled
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if locked.first {
        let known = state.store.user(username).await?.is_some();
        state
            .store
            .audit(
                &[AuditEvent::new(
                    AuditKind::AuthenticationRefused,
                    login_actor(known, username),
                    "throttled",
                )
                .detail(json!({"via": "password", "locked_until": locked.until.to_string()}))],
                now,
            )
            .await?;
    }
    Ok(ApiError::Throttled(seconds_until(now, locked.until)))
}

/// Whole seconds from `now` to `until`, rounded up: a client that waits that long finds the lock gone.
fn seconds_until(now: jiff::Timestamp, until: jiff::Timestamp) -> i64 {
    let left = until.duration_since(now);
    left.as_secs() + i64::from(left.subsec_nanos() > 0)
}

/// `POST /api/v1/session`: logs in; sets the session cookie and answers the CSRF token.
pub async fn login(
    State(state): State<AppState>,
    Json(login): Json<Login>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    // A name no user can have is refused at once: it reaches neither the throttle's table nor the
    // log (it is as likely a password typed into the wrong field).
    if check_username(&login.username).is_err() {
        return Err(ApiError::Unauthenticated);
    }
    if let Err(locked) = state.logins.check(&login.username, now) {
        return Err(throttled(&state, &login.username, now, locked).await?);
    }
    let user = state.store.user(&login.username).await?;
    let stored = user
        .as_ref()
        .map_or(decoy_hash(), |u| u.password_hash.as_str());
    let password = login.password.clone();
    let stored = stored.to_owned();
    // Argon2 costs 19 MiB and tens of milliseconds: a bounded number at once, so that a flood of
    // logins queues instead of exhausting memory.
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|_| ApiError::Unauthenticated)?;
    // Counted with the turn to hash and before the password is checked: simultaneous guesses get
    // no more tries than a sequence, and a new name in the table costs its sender a hash.
    let turn = state.clock.now();
    if let Err(locked) = state.logins.attempt(&login.username, turn) {
        return Err(throttled(&state, &login.username, turn, locked).await?);
    }
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &stored))
        .await
        .unwrap_or(false);
    let known = user.is_some();
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        let actor = login_actor(known, &login.username);
        state
            .store
            .audit(
                &[
                    AuditEvent::new(AuditKind::AuthenticationRefused, actor, "refused")
                        .detail(json!({"via": "password"})),
                ],
                state.clock.now(),
            )
            .await?;
        // One answer for an unknown user, a wrong password and a disabled account.
        return Err(ApiError::Unauthenticated);
    };
    state.logins.succeeded(&login.username);
    let entry = AuditEvent::new(AuditKind::Login, format!("user:{}", user.username), "ok");
    open_session(&state, &user, entry, now).await
}

/// Opens a session for `user` (audited as `entry`): sets the cookie and answers the CSRF token.
async fn open_session(
    state: &AppState,
    user: &UserRow,
    entry: AuditEvent,
    now: jiff::Timestamp,
) -> Result<Response, ApiError> {
    let token = fengcun_crypto::random_hex::<32>();
    let csrf = fengcun_crypto::random_hex::<32>();
    let hours = i64::try_from(state.config.session_hours).unwrap_or(8);
    let expires_at = now
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    state
        .store
        .put_session(
            &key_digest(&token),
            &SessionRow {
                username: user.username.clone(),
                csrf_hash: key_digest(&csrf),
                expires_at,
            },
            &[entry],
            now,
        )
        .await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        hours * 3600
    );
    let mut response = Json(json!({
        "username": user.username,
        "role": user.role,
        "requester_kind": user.requester_kind,
        "csrf_token": csrf,
        "expires_at": expires_at.to_string(),
    }))
    .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::BadRequest(e.to_string()))?,
    );
    Ok(response)
}

/// `DELETE /api/v1/session`: logs out.
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state
            .store
            .end_session(
                &key_digest(&token),
                &[AuditEvent::new(AuditKind::Login, &caller.name, "logout")],
                state.clock.now(),
            )
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("fengcun_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(response)
}

/// `GET /api/v1/session`: who the caller is.
pub async fn whoami(caller: Caller) -> Json<Value> {
    Json(json!({
        "name": caller.name,
        "role": caller.role.code(),
        "agency": caller.agency,
        "requester_kind": caller.kind.map(RequesterKind::code),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    role: String,
    #[serde(default)]
    requester_kind: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    /// For a person: their identity number, so that they see their own records.
    #[serde(default)]
    id_number: Option<String>,
}

pub(crate) fn check_username(username: &str) -> Result<(), ApiError> {
    let ok = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "username: 3 to 64 of a-z, A-Z, 0-9, -, _, ., @".into(),
        ))
    }
}

fn parse_role_and_kind(
    role: &str,
    kind: Option<&str>,
) -> Result<(Role, Option<RequesterKind>), ApiError> {
    let role = Role::parse(role).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role: `{role}` is none of {}",
            Role::ALL.map(Role::code).join(", ")
        ))
    })?;
    let kind = kind
        .map(|k| {
            RequesterKind::parse(k).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "requester_kind: `{k}` is none of {}",
                    RequesterKind::ALL.map(RequesterKind::code).join(", ")
                ))
            })
        })
        .transpose()?;
    if matches!(role, Role::Clerk | Role::Approver | Role::Requester) && kind.is_none() {
        return Err(ApiError::BadRequest(format!(
            "requester_kind: {} {} asks as someone and needs one",
            if role == Role::Approver { "an" } else { "a" },
            role.code()
        )));
    }
    if matches!(role, Role::Operator | Role::Auditor | Role::Administrator) && kind.is_some() {
        return Err(ApiError::BadRequest(format!(
            "requester_kind: an {} does not ask and takes none",
            role.code()
        )));
    }
    Ok((role, kind))
}

/// An agency account or key speaks for one agency and needs its code; no other role has one.
fn check_agency(role: Role, agency: Option<&str>) -> Result<(), ApiError> {
    match (role, agency) {
        (Role::Agency, None) => Err(ApiError::BadRequest(
            "agency: an agency account speaks for one agency and needs its code".into(),
        )),
        (Role::Agency, Some(code)) if code.trim().is_empty() => Err(ApiError::BadRequest(
            "agency: an agency account speaks for one agency and needs its code".into(),
        )),
        (Role::Agency, Some(_)) | (_, None) => Ok(()),
        (other, Some(_)) => Err(ApiError::BadRequest(format!(
            "agency: only an agency account speaks for an agency, not a {}",
            other.code()
        ))),
    }
}

pub(crate) fn check_password(field: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 12 {
        return Err(ApiError::BadRequest(format!(
            "{field}: at least 12 characters"
        )));
    }
    Ok(())
}

/// `POST /api/v1/users` (administrator): creates a user; an existing username is 409 (a user is
/// never replaced by creating another under their name).
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller
        .require(&state, "change users", &[Role::Administrator])
        .await?;
    check_username(&new.username)?;
    check_password("password", &new.password)?;
    let (role, kind) = parse_role_and_kind(&new.role, new.requester_kind.as_deref())?;
    check_agency(role, new.agency.as_deref())?;
    if kind == Some(RequesterKind::Person) {
        // A person's account shows that person's sealed records: an administrator alone does not
        // make one (docs/disclosure.md, person accounts). The refusal names whom it was for by
        // the person key, never the identity number.
        let person_key = new
            .id_number
            .as_deref()
            .map(|id| {
                IdNumber::parse(id)
                    .map(|id| state.store.person_key(&format!("id:{id}")))
                    .map_err(|e| ApiError::BadRequest(format!("id_number: {e}")))
            })
            .transpose()?;
        let reason = "a person's account is enrolled (fengcun user enrol-person), not made by an administrator".to_owned();
        let mut entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, "person_account")
            .detail(json!({"reason": reason, "username": new.username}));
        if let Some(person_key) = person_key {
            entry = entry.subject(format!("person:{person_key}"));
        }
        return Err(refuse_as(&state, entry, reason).await?);
    }
    if new.id_number.is_some() {
        return Err(ApiError::BadRequest(
            "id_number: only a person's account carries one".into(),
        ));
    }
    let taken = || ApiError::Conflict(format!("username: `{}` exists", new.username));
    // Checked before the password is hashed (cheap), and again by the insert (no race).
    if state.store.user(&new.username).await?.is_some() {
        return Err(taken());
    }
    let password_hash = hash_in_turn(new.password.clone()).await?;
    let user = UserRow {
        username: new.username.clone(),
        password_hash,
        role,
        requester_kind: kind,
        agency: new.agency.clone(),
        person_key: None,
        name: None,
        disabled: false,
    };
    let event = AuditEvent::new(AuditKind::UserChanged, &caller.name, "created")
        .subject(format!("user:{}", user.username))
        .detail(json!({"role": user.role, "requester_kind": user.requester_kind, "agency": user.agency}));
    if !state
        .store
        .add_user(&user, &[event], state.clock.now())
        .await?
    {
        return Err(taken());
    }
    Ok((StatusCode::CREATED, Json(json!({"user": user}))))
}

/// Hashes a password off the async threads, within the bound on hashes at once.
async fn hash_in_turn(password: String) -> Result<String, ApiError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
}

/// `GET /api/v1/users` (administrator).
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "list users", &[Role::Administrator, Role::Auditor])
        .await?;
    Ok(Json(json!({"users": state.store.users().await?})))
}

/// The `user_changed` entry of a change to `user`, naming whose account it is when it is a
/// person's (by the person key, never the identity number).
fn user_changed(actor: &str, outcome: &str, user: &UserRow) -> AuditEvent {
    let entry = AuditEvent::new(AuditKind::UserChanged, actor, outcome)
        .subject(format!("user:{}", user.username));
    match &user.person_key {
        Some(person) => entry.detail(json!({"person": person})),
        None => entry,
    }
}

/// `POST /api/v1/users/{username}/disable` (administrator): the user can no longer log in and
/// their sessions end.
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(&state, &caller, &username, true).await
}

/// `POST /api/v1/users/{username}/enable` (administrator): a disabled user may log in again.
/// Their old sessions ended when they were disabled and do not come back.
pub async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(&state, &caller, &username, false).await
}

/// Disables or enables a user (administrator), audited as `user_changed`; enabling a user who is
/// not disabled is a conflict.
async fn set_disabled(
    state: &AppState,
    caller: &Caller,
    username: &str,
    disabled: bool,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(state, "change users", &[Role::Administrator])
        .await?;
    let mut user = state
        .store
        .user(username)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !disabled && !user.disabled {
        return Err(ApiError::Conflict(format!(
            "username: `{username}` is not disabled"
        )));
    }
    user.disabled = disabled;
    let outcome = if disabled { "disabled" } else { "enabled" };
    let event = user_changed(&caller.name, outcome, &user);
    state
        .store
        .put_user(&user, &[event], state.clock.now())
        .await?;
    Ok(Json(json!({"user": user})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/session/password`: a console user changes their own password, giving the
/// current one (throttled with the logins of their username). Every session of theirs ends, this
/// one included; the answer opens a new one (cookie and CSRF token), as a login does.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(change): Json<PasswordChange>,
) -> Result<Response, ApiError> {
    // The user of the session the request came with; a key has no password.
    let session = match (
        headers.get(header::AUTHORIZATION),
        cookie(&headers, SESSION_COOKIE),
    ) {
        (None, Some(token)) => state.store.session(&key_digest(&token)).await?,
        _ => None,
    };
    let Some(session) = session else {
        let reason = "only a console user, logged in, changes their password".to_owned();
        return Err(refuse(&state, &caller, "change password", reason).await?);
    };
    let username = session.username;
    check_password("new_password", &change.new_password)?;
    if change.new_password == change.current_password {
        return Err(ApiError::BadRequest(
            "new_password: the same as the current one".into(),
        ));
    }
    let now = state.clock.now();
    if let Err(locked) = state.logins.check(&username, now) {
        return Err(throttled(&state, &username, now, locked).await?);
    }
    let mut user = state
        .store
        .user(&username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ApiError::Unauthenticated)?;
    let matches = {
        let _permit = hashing_permits()
            .acquire()
            .await
            .map_err(|_| ApiError::Unauthenticated)?;
        let turn = state.clock.now();
        if let Err(locked) = state.logins.attempt(&username, turn) {
            return Err(throttled(&state, &username, turn, locked).await?);
        }
        let (password, stored) = (change.current_password.clone(), user.password_hash.clone());
        tokio::task::spawn_blocking(move || password_matches(&password, &stored))
            .await
            .unwrap_or(false)
    };
    if !matches {
        let entry = AuditEvent::new(
            AuditKind::AuthenticationRefused,
            format!("user:{username}"),
            "refused",
        )
        .detail(json!({"via": "password_change"}));
        let reason = "current_password: wrong".to_owned();
        return Err(refuse_as(&state, entry, reason).await?);
    }
    state.logins.succeeded(&username);
    user.password_hash = hash_in_turn(change.new_password.clone()).await?;
    let event = user_changed(&format!("user:{username}"), "password_changed", &user);
    // Ends every session of the user's, in the transaction of the change.
    state.store.put_user(&user, &[event], now).await?;
    let entry = AuditEvent::new(AuditKind::Login, format!("user:{username}"), "ok")
        .detail(json!({"via": "password_change"}));
    open_session(&state, &user, entry, now).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    role: String,
    #[serde(default)]
    requester_kind: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    /// The user who owns the key (answers for the system that uses it): approvals compare owners,
    /// so an official's key and their login are one person.
    #[serde(default)]
    owner: Option<String>,
}

/// `POST /api/v1/keys` (administrator): makes a key; the key is in this answer only.
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller
        .require(&state, "change keys", &[Role::Administrator])
        .await?;
    let (role, kind) = parse_role_and_kind(&new.role, new.requester_kind.as_deref())?;
    check_agency(role, new.agency.as_deref())?;
    if matches!(role, Role::Administrator) {
        // Administrators are people: they log in, and their actions name them.
        return Err(ApiError::BadRequest(
            "role: an administrator logs in; no key is made for one".into(),
        ));
    }
    let Some(owner) = new.owner else {
        return Err(ApiError::BadRequest(
            "owner: a key names the user who owns it".into(),
        ));
    };
    if state.store.user(&owner).await?.is_none_or(|u| u.disabled) {
        return Err(ApiError::BadRequest(format!(
            "owner: `{owner}` is no enabled user"
        )));
    }
    let secret = format!("fck_{}", fengcun_crypto::random_hex::<32>());
    let now = state.clock.now();
    let key = KeyRow {
        key_id: fengcun_crypto::random_hex::<8>(),
        name: new.name,
        role,
        requester_kind: kind,
        agency: new.agency,
        owner: Some(owner),
        created_by: caller.name.clone(),
        created_at: now.to_string(),
        revoked_at: None,
    };
    let event = AuditEvent::new(AuditKind::KeyChanged, &caller.name, "created")
        .subject(format!("key:{}", key.key_id))
        .detail(json!({"name": key.name, "role": key.role, "requester_kind": key.requester_kind, "agency": key.agency, "owner": key.owner}));
    state
        .store
        .put_key(&key_digest(&secret), &key, &[event], now)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"key": key, "secret": secret})),
    ))
}

/// `GET /api/v1/keys` (administrator, auditor): the keys, never their secrets.
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "list keys", &[Role::Administrator, Role::Auditor])
        .await?;
    Ok(Json(json!({"keys": state.store.keys().await?})))
}

/// `DELETE /api/v1/keys/{id}` (administrator): the key stops working at once.
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(key_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, "change keys", &[Role::Administrator])
        .await?;
    let event = AuditEvent::new(AuditKind::KeyChanged, &caller.name, "revoked")
        .subject(format!("key:{key_id}"));
    if state
        .store
        .revoke_key(&key_id, &caller.name, &[event], state.clock.now())
        .await?
    {
        Ok(Json(json!({"revoked": key_id})))
    } else {
        Err(ApiError::NotFound)
    }
}
