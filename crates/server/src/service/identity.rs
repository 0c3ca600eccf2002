//! Who may call: console users (argon2id passwords, sessions with CSRF tokens) and the API keys an
//! administrator gives agency systems (stored as digests, shown once, revocable). Every change and
//! every login, successful or not, is an audit entry.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use fengcun_access::RequesterKind;
use fengcun_domain::IdNumber;
use fengcun_store::{AuditEvent, AuditKind, KeyRow, SessionRow, UserRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Caller, Result, ServiceError, refuse, refuse_as};
use crate::AppState;
use crate::config::{Role, key_digest};
use crate::throttle::Locked;

fn argon2() -> argon2::Argon2<'static> {
    // Argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
    argon2::Argon2::default()
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&fengcun_crypto::random_bytes::<16>())
        .map_err(|e| ServiceError::Invalid(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Invalid(format!("password: {e}")))
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
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
) -> Result<ServiceError> {
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
    Ok(ServiceError::Throttled(seconds_until(now, locked.until)))
}

/// Whole seconds from `now` to `until`, rounded up: a client that waits that long finds the lock gone.
fn seconds_until(now: jiff::Timestamp, until: jiff::Timestamp) -> i64 {
    let left = until.duration_since(now);
    left.as_secs() + i64::from(left.subsec_nanos() > 0)
}

/// A session opened: its token (for the cookie, never in the body) and what the body shows.
#[derive(Debug)]
pub struct Opened {
    pub token: String,
    /// The cookie's lifetime.
    pub max_age_seconds: i64,
    pub session: Session,
}

/// What a login answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Sent back in `X-CSRF-Token` with every change made in this session.
    pub csrf_token: String,
    pub expires_at: String,
    pub requester_kind: Option<String>,
    pub role: String,
    pub username: String,
}

/// Logs in: opens a session (its token goes in the cookie) with its CSRF token.
pub async fn login(state: &AppState, mut login: Login) -> Result<Opened> {
    let now = state.clock.now();
    // A person may log in with their identity number: it stands for their account's username,
    // so that the number itself reaches neither the throttle's table nor the log.
    login.username = super::portal::login_username(state, &login.username);
    // A name no user can have is refused at once: it reaches neither the throttle's table nor the
    // log (it is as likely a password typed into the wrong field).
    if check_username(&login.username).is_err() {
        return Err(ServiceError::Unauthenticated);
    }
    if let Err(locked) = state.logins.check(&login.username, now) {
        return Err(throttled(state, &login.username, now, locked).await?);
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
        .map_err(|_| ServiceError::Unauthenticated)?;
    // Counted with the turn to hash and before the password is checked: simultaneous guesses get
    // no more tries than a sequence, and a new name in the table costs its sender a hash.
    let turn = state.clock.now();
    if let Err(locked) = state.logins.attempt(&login.username, turn) {
        return Err(throttled(state, &login.username, turn, locked).await?);
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
        return Err(ServiceError::Unauthenticated);
    };
    state.logins.succeeded(&login.username);
    let entry = AuditEvent::new(AuditKind::Login, format!("user:{}", user.username), "ok");
    open_session(state, &user, entry, now).await
}

/// Opens a session for `user` (audited as `entry`).
async fn open_session(
    state: &AppState,
    user: &UserRow,
    entry: AuditEvent,
    now: jiff::Timestamp,
) -> Result<Opened> {
    let token = fengcun_crypto::random_hex::<32>();
    let csrf = fengcun_crypto::random_hex::<32>();
    let hours = i64::try_from(state.config.session_hours).unwrap_or(8);
    let expires_at = now
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
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
    Ok(Opened {
        token,
        max_age_seconds: hours * 3600,
        session: Session {
            csrf_token: csrf,
            expires_at: expires_at.to_string(),
            requester_kind: user.requester_kind.map(|k| k.code().to_owned()),
            role: user.role.to_string(),
            username: user.username.clone(),
        },
    })
}

/// Logs out: ends the session of `token` (a caller by key has none).
pub async fn logout(state: &AppState, caller: &Caller, token: Option<&str>) -> Result<()> {
    if let Some(token) = token {
        state
            .store
            .end_session(
                &key_digest(token),
                &[AuditEvent::new(AuditKind::Login, &caller.name, "logout")],
                state.clock.now(),
            )
            .await?;
    }
    Ok(())
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub agency: Option<String>,
    pub name: String,
    pub requester_kind: Option<&'static str>,
    pub role: &'static str,
}

pub fn whoami(caller: &Caller) -> WhoAmI {
    WhoAmI {
        agency: caller.agency.clone(),
        name: caller.name.clone(),
        requester_kind: caller.kind.map(RequesterKind::code),
        role: caller.role.code(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub requester_kind: Option<String>,
    #[serde(default)]
    pub agency: Option<String>,
    /// For a person: their identity number, so that they see their own records.
    #[serde(default)]
    pub id_number: Option<String>,
}

/// A user as lists and changes show them (never the password's hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub agency: Option<String>,
    pub disabled: bool,
    pub requester_kind: Option<String>,
    pub role: String,
    pub username: String,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        UserView {
            agency: u.agency.clone(),
            disabled: u.disabled,
            requester_kind: u.requester_kind.map(|k| k.code().to_owned()),
            role: u.role.to_string(),
            username: u.username.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OneUser {
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Users {
    pub users: Vec<UserView>,
}

pub(crate) fn check_username(username: &str) -> Result<()> {
    let ok = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid(
            "username: 3 to 64 of a-z, A-Z, 0-9, -, _, ., @".into(),
        ))
    }
}

fn parse_role_and_kind(role: &str, kind: Option<&str>) -> Result<(Role, Option<RequesterKind>)> {
    let role = Role::parse(role).ok_or_else(|| {
        ServiceError::Invalid(format!(
            "role: `{role}` is none of {}",
            Role::ALL.map(Role::code).join(", ")
        ))
    })?;
    let kind = kind
        .map(|k| {
            RequesterKind::parse(k).ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "requester_kind: `{k}` is none of {}",
                    RequesterKind::ALL.map(RequesterKind::code).join(", ")
                ))
            })
        })
        .transpose()?;
    if matches!(role, Role::Clerk | Role::Approver | Role::Requester) && kind.is_none() {
        return Err(ServiceError::Invalid(format!(
            "requester_kind: {} {} asks as someone and needs one",
            if role == Role::Approver { "an" } else { "a" },
            role.code()
        )));
    }
    if matches!(
        role,
        Role::Operator | Role::Auditor | Role::Administrator | Role::PolicyMaker
    ) && kind.is_some()
    {
        return Err(ServiceError::Invalid(format!(
            "requester_kind: {} {} does not ask and takes none",
            if role == Role::PolicyMaker { "a" } else { "an" },
            role.code()
        )));
    }
    Ok((role, kind))
}

/// An agency account or key speaks for one agency and needs its code; a clerk (办案人员) may
/// work for one (a record's timeline shows a clerk what that agency holds); no other role has one.
fn check_agency(role: Role, agency: Option<&str>) -> Result<()> {
    match (role, agency) {
        (Role::Clerk, Some(code)) if code.trim().is_empty() => Err(ServiceError::Invalid(
            "agency: a clerk's agency code, if given, may not be blank".into(),
        )),
        (Role::Clerk, Some(code)) if is_agency_code(code) => Ok(()),
        (Role::Agency, None) => Err(ServiceError::Invalid(
            "agency: an agency account speaks for one agency and needs its code".into(),
        )),
        (Role::Agency, Some(code)) if code.trim().is_empty() => Err(ServiceError::Invalid(
            "agency: an agency account speaks for one agency and needs its code".into(),
        )),
        (Role::Agency | Role::Clerk, Some(code)) if !is_agency_code(code) => {
            Err(ServiceError::Invalid(format!(
                "agency: `{code}` is not an agency code (as its events name it, e.g. 110105-ga: at least one letter or digit, no spaces, at most 64 characters)"
            )))
        }
        (Role::Agency, Some(_)) | (_, None) => Ok(()),
        (other, Some(_)) => Err(ServiceError::Invalid(format!(
            "agency: only an agency account or a clerk works for an agency; role `{}` takes none",
            other.code()
        ))),
    }
}

/// Whether a text can be an agency's code as its events name it (`110105-ga`): events take any
/// code that is not blank, so this refuses only what no event can mean — white space or control
/// characters, no letter or digit at all (`!!`), more than 64 characters.
fn is_agency_code(code: &str) -> bool {
    code.chars().count() <= 64
        && code.chars().any(char::is_alphanumeric)
        && !code.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(crate) fn check_password(field: &str, password: &str) -> Result<()> {
    if password.chars().count() < 12 {
        return Err(ServiceError::Invalid(format!(
            "{field}: at least 12 characters"
        )));
    }
    Ok(())
}

/// Creates a user (administrators); an existing username is a conflict (a user is never
/// replaced by creating another under their name).
pub async fn create_user(state: &AppState, caller: &Caller, new: NewUser) -> Result<OneUser> {
    caller
        .require(state, "change users", &[Role::Administrator])
        .await?;
    check_username(&new.username)?;
    check_password("password", &new.password)?;
    let (role, kind) = parse_role_and_kind(&new.role, new.requester_kind.as_deref())?;
    check_agency(role, new.agency.as_deref())?;
    if kind == Some(RequesterKind::Person) || role == Role::Person {
        // A person's account shows that person's sealed records: an administrator alone does not
        // make one (docs/disclosure.md, person accounts). The refusal names whom it was for by
        // the person key, never the identity number.
        let person_key = new
            .id_number
            .as_deref()
            .map(|id| {
                IdNumber::parse(id)
                    .map(|id| state.store.person_key(&format!("id:{id}")))
                    .map_err(|e| ServiceError::Invalid(format!("id_number: {e}")))
            })
            .transpose()?;
        let reason = "a person's account is enrolled (fengcun user enrol-person), not made by an administrator".to_owned();
        let mut entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, "person_account")
            .detail(json!({"reason": reason, "username": new.username}));
        if let Some(person_key) = person_key {
            entry = entry.subject(format!("person:{person_key}"));
        }
        return Err(refuse_as(state, entry, reason).await?);
    }
    if new.id_number.is_some() {
        return Err(ServiceError::Invalid(
            "id_number: only a person's account carries one".into(),
        ));
    }
    let taken = || ServiceError::Conflict(format!("username: `{}` exists", new.username));
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
    Ok(OneUser {
        user: UserView::from(&user),
    })
}

/// Hashes a password off the async threads, within the bound on hashes at once.
pub(crate) async fn hash_in_turn(password: String) -> Result<String> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ServiceError::Invalid(e.to_string()))?
}

/// The users (administrators, auditors).
pub async fn list_users(state: &AppState, caller: &Caller) -> Result<Users> {
    caller
        .require(state, "list users", &[Role::Administrator, Role::Auditor])
        .await?;
    let users = state.store.users().await?;
    // A person's account is the counter's (docs/person.md), never an administrator's to manage:
    // not listed, so not offered for a reset or a change.
    Ok(Users {
        users: users
            .iter()
            .filter(|u| u.role != Role::Person)
            .map(UserView::from)
            .collect(),
    })
}

/// Refuses (403, audited `forbidden` / `person_account`) what an administrator may not do to a
/// person's account: set its password or enable it — either would let someone other than the
/// person log in as them and read their sealed records. A lost password is set again with a new
/// activation code from a counter (docs/person.md).
async fn refuse_person_account(
    state: &AppState,
    caller: &Caller,
    user: &UserRow,
    action: &str,
) -> Result<()> {
    if user.role != Role::Person {
        return Ok(());
    }
    let reason = format!(
        "a person's account is the person's: an administrator may not {action}; the person gets a new activation code at a counter"
    );
    let mut entry = AuditEvent::new(AuditKind::Forbidden, &caller.name, "person_account")
        .detail(json!({"reason": reason, "username": user.username, "action": action}));
    if let Some(person_key) = &user.person_key {
        entry = entry.subject(format!("person:{person_key}"));
    }
    Err(refuse_as(state, entry, reason).await?)
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

/// Disables or enables a user (administrator), audited as `user_changed`; enabling a user who is
/// not disabled is a conflict.
/// (Disabling ends the user's sessions; enabling does not bring them back.)
pub async fn set_disabled(
    state: &AppState,
    caller: &Caller,
    username: &str,
    disabled: bool,
) -> Result<OneUser> {
    caller
        .require(state, "change users", &[Role::Administrator])
        .await?;
    let mut user = state
        .store
        .user(username)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !disabled && !user.disabled {
        return Err(ServiceError::Conflict(format!(
            "username: `{username}` is not disabled"
        )));
    }
    // Administrators' changes one at a time: two administrators disabling each other at once
    // would each count the other as the one left. (One server process; several processes share
    // no lock: then the audit log shows it, and an administrator key of the configuration file
    // enables an account again.)
    let _one_at_a_time = ADMINISTRATOR_CHANGES.lock().await;
    if disabled {
        keep_an_administrator(state, caller, &user).await?;
    }
    if !disabled {
        // Disabling a person's account takes access away and stays allowed; enabling one (an
        // account waiting for its activation code, too) is the person's, with the code.
        refuse_person_account(state, caller, &user, "enable it").await?;
    }
    user.disabled = disabled;
    let outcome = if disabled { "disabled" } else { "enabled" };
    let event = user_changed(&caller.name, outcome, &user);
    state
        .store
        .put_user(&user, &[event], state.clock.now())
        .await?;
    Ok(OneUser {
        user: UserView::from(&user),
    })
}

static ADMINISTRATOR_CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An administrator does not disable their own account, nor the last enabled administrator: the
/// platform would be left with nobody who can make users, rotate keys or enable an account again
/// (short of the command line on the server).
async fn keep_an_administrator(state: &AppState, caller: &Caller, user: &UserRow) -> Result<()> {
    // A session of the user, or a key the user owns.
    if caller.owner == format!("user:{}", user.username) {
        return Err(ServiceError::Conflict(
            "username: an administrator does not disable their own account; another administrator does"
                .into(),
        ));
    }
    if user.role != Role::Administrator || user.disabled {
        return Ok(());
    }
    let others = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Administrator && !u.disabled && u.username != user.username)
        .count();
    if others == 0 {
        return Err(ServiceError::Conflict(format!(
            "username: `{}` is the last enabled administrator",
            user.username
        )));
    }
    Ok(())
}

/// An administrator sets a new password for a user who lost theirs (audited as `user_changed`,
/// `password_reset`): every session of the user ends, as with a change of their own.
pub async fn reset_password(
    state: &AppState,
    caller: &Caller,
    username: &str,
    password: &str,
) -> Result<OneUser> {
    caller
        .require(state, "change users", &[Role::Administrator])
        .await?;
    check_password("password", password)?;
    let mut user = state
        .store
        .user(username)
        .await?
        .ok_or(ServiceError::NotFound)?;
    refuse_person_account(state, caller, &user, "set its password").await?;
    user.password_hash = hash_in_turn(password.to_owned()).await?;
    let event = user_changed(&caller.name, "password_reset", &user);
    state
        .store
        .put_user(&user, &[event], state.clock.now())
        .await?;
    Ok(OneUser {
        user: UserView::from(&user),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters, not the current one.
    pub new_password: String,
}

/// `POST /api/v1/session/password`: a console user changes their own password, giving the
/// current one (throttled with the logins of their username). Every session of theirs ends, this
/// one included; the answer opens a new one (cookie and CSRF token), as a login does.
///
/// `session_token` is the token of the session the request came with (`None` for a key, which has
/// no password).
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    session_token: Option<&str>,
    change: PasswordChange,
) -> Result<Opened> {
    let session = match session_token {
        Some(token) => state.store.session(&key_digest(token)).await?,
        None => None,
    };
    let Some(session) = session else {
        let reason = "only a console user, logged in, changes their password".to_owned();
        return Err(refuse(state, caller, "change password", reason).await?);
    };
    let username = session.username;
    check_password("new_password", &change.new_password)?;
    if change.new_password == change.current_password {
        return Err(ServiceError::Invalid(
            "new_password: the same as the current one".into(),
        ));
    }
    let now = state.clock.now();
    if let Err(locked) = state.logins.check(&username, now) {
        return Err(throttled(state, &username, now, locked).await?);
    }
    let mut user = state
        .store
        .user(&username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ServiceError::Unauthenticated)?;
    let matches = {
        let _permit = hashing_permits()
            .acquire()
            .await
            .map_err(|_| ServiceError::Unauthenticated)?;
        let turn = state.clock.now();
        if let Err(locked) = state.logins.attempt(&username, turn) {
            return Err(throttled(state, &username, turn, locked).await?);
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
        return Err(refuse_as(state, entry, reason).await?);
    }
    state.logins.succeeded(&username);
    user.password_hash = hash_in_turn(change.new_password.clone()).await?;
    let event = user_changed(&format!("user:{username}"), "password_changed", &user);
    // Ends every session of the user's, in the transaction of the change.
    state.store.put_user(&user, &[event], now).await?;
    let entry = AuditEvent::new(AuditKind::Login, format!("user:{username}"), "ok")
        .detail(json!({"via": "password_change"}));
    open_session(state, &user, entry, now).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub requester_kind: Option<String>,
    #[serde(default)]
    pub agency: Option<String>,
    /// The user who owns the key (answers for the system that uses it): approvals compare owners,
    /// so an official's key and their login are one person.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A stored key, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub agency: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub key_id: String,
    pub name: String,
    /// The user who owns the key (`null` only for keys stored before owners were recorded).
    pub owner: Option<String>,
    pub requester_kind: Option<String>,
    pub revoked_at: Option<String>,
    pub role: String,
}

impl From<&KeyRow> for KeyView {
    fn from(k: &KeyRow) -> Self {
        KeyView {
            agency: k.agency.clone(),
            created_at: k.created_at.clone(),
            created_by: k.created_by.clone(),
            key_id: k.key_id.clone(),
            name: k.name.clone(),
            owner: k.owner.clone(),
            requester_kind: k.requester_kind.map(|k| k.code().to_owned()),
            revoked_at: k.revoked_at.clone(),
            role: k.role.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyCreated {
    pub key: KeyView,
    /// The key itself, shown in this answer only.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Keys {
    pub keys: Vec<KeyView>,
}

/// Makes a key (administrators); the key is in this answer only.
pub async fn create_key(state: &AppState, caller: &Caller, new: NewKey) -> Result<KeyCreated> {
    caller
        .require(state, "change keys", &[Role::Administrator])
        .await?;
    let (role, kind) = parse_role_and_kind(&new.role, new.requester_kind.as_deref())?;
    check_agency(role, new.agency.as_deref())?;
    if matches!(role, Role::Administrator) {
        // Administrators are people: they log in, and their actions name them.
        return Err(ServiceError::Invalid(
            "role: an administrator logs in; no key is made for one".into(),
        ));
    }
    if role == Role::Person {
        // A person's portal is theirs through their own account (docs/person.md).
        return Err(ServiceError::Invalid(
            "role: a person logs in with the account enrolled at a counter; no key is made for one"
                .into(),
        ));
    }
    let Some(owner) = new.owner else {
        return Err(ServiceError::Invalid(
            "owner: a key names the user who owns it".into(),
        ));
    };
    if state.store.user(&owner).await?.is_none_or(|u| u.disabled) {
        return Err(ServiceError::Invalid(format!(
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
    Ok(KeyCreated {
        key: KeyView::from(&key),
        secret,
    })
}

/// The keys, never their secrets (administrators, auditors).
pub async fn list_keys(state: &AppState, caller: &Caller) -> Result<Keys> {
    caller
        .require(state, "list keys", &[Role::Administrator, Role::Auditor])
        .await?;
    let keys = state.store.keys().await?;
    Ok(Keys {
        keys: keys.iter().map(KeyView::from).collect(),
    })
}

/// Revokes a key (administrators): it stops working at once.
pub async fn revoke_key(
    state: &AppState,
    caller: &Caller,
    key_id: &str,
) -> Result<super::requests::Revoked> {
    caller
        .require(state, "change keys", &[Role::Administrator])
        .await?;
    let event = AuditEvent::new(AuditKind::KeyChanged, &caller.name, "revoked")
        .subject(format!("key:{key_id}"));
    if state
        .store
        .revoke_key(key_id, &caller.name, &[event], state.clock.now())
        .await?
    {
        Ok(super::requests::Revoked {
            revoked: key_id.to_owned(),
        })
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The user behind a session (`user:NAME`), if the caller is one.
fn session_user(caller: &Caller) -> Option<&str> {
    caller.name.strip_prefix("user:")
}

/// Keeps the console language a user chose (`zh` or `en`), for every later page and login; a
/// key (no user behind it) keeps none. Audited as a change of the user.
pub async fn set_language(state: &AppState, caller: &Caller, code: &str) -> Result<()> {
    let Some(username) = session_user(caller) else {
        return Err(ServiceError::Invalid(
            "language: only a user's session keeps a language".into(),
        ));
    };
    if !matches!(code, "zh" | "en") {
        return Err(ServiceError::Invalid(format!(
            "language: zh or en, not `{code}`"
        )));
    }
    state.store.set_user_language(username, code).await?;
    let entry = AuditEvent::new(AuditKind::UserChanged, &caller.name, "language")
        .subject(format!("user:{username}"))
        .detail(json!({"language": code}));
    state.store.audit(&[entry], state.clock.now()).await?;
    Ok(())
}

/// The console language the caller's user chose, if any.
pub async fn language(state: &AppState, caller: &Caller) -> Result<Option<String>> {
    match session_user(caller) {
        Some(username) => Ok(state.store.user_language(username).await?),
        None => Ok(None),
    }
}
