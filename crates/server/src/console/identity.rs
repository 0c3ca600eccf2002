//! Log in and out, the language switch, one's own password; the administrator's
//! users and keys. Each view calls the service function the JSON API's handler calls.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use fengcun_access::RequesterKind;
use serde::Deserialize;

use super::i18n::LANG_COOKIE;
use super::{CSRF_COOKIE, Ctx, LOGIN_FORM, Lang, Notice, Page, anonymous_ctx, optional, render};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, cookie};
use crate::config::Role;
use crate::service::identity::{self, KeyView, Login, NewKey, NewUser, Opened, UserView};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    error: Option<String>,
    username: String,
}

/// The login page with a fresh form token (and its cookie), `status` and `error`.
fn login_form(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
    username: String,
) -> Response {
    let (token, cookie) = LOGIN_FORM.issue(state);
    let mut ctx = anonymous_ctx(lang, "/console/login");
    ctx.csrf = token;
    (
        status,
        [(header::SET_COOKIE, cookie)],
        render(&LoginPage {
            ctx,
            error,
            username,
        }),
    )
        .into_response()
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = super::lang_of(&headers);
    login_form(&state, lang, StatusCode::OK, None, String::new())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The cookies of a session opened by the console: the session's (as the API sets it) and its
/// CSRF token's, for the pages to put in their forms.
fn session_cookies(
    state: &AppState,
    opened: &Opened,
) -> AppendHeaders<[(header::HeaderName, HeaderValue); 2]> {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = |name: &str, value: &str| {
        HeaderValue::from_str(&format!(
            "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
            opened.max_age_seconds
        ))
        .unwrap_or(HeaderValue::from_static(""))
    };
    // Appended: an array of headers would keep only the last of two `Set-Cookie`s.
    AppendHeaders([
        (header::SET_COOKIE, cookie(SESSION_COOKIE, &opened.token)),
        (
            header::SET_COOKIE,
            cookie(CSRF_COOKIE, &opened.session.csrf_token),
        ),
    ])
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = super::lang_of(&headers);
    if !LOGIN_FORM.accepts(&state, &headers).await {
        let error = Some(lang.t("error.csrf").to_owned());
        return login_form(&state, lang, StatusCode::FORBIDDEN, error, form.username);
    }
    let login = Login {
        username: form.username.trim().to_owned(),
        password: form.password,
    };
    match identity::login(&state, login).await {
        Ok(opened) => (session_cookies(&state, &opened), Redirect::to("/console/")).into_response(),
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            login_form(
                &state,
                lang,
                status,
                Some(lang.error(&error)),
                form.username,
            )
        }
    }
}

pub async fn logout(State(state): State<AppState>, page: Page, headers: HeaderMap) -> Response {
    let token = cookie(&headers, SESSION_COOKIE);
    if let Err(error) = identity::logout(&state, &page.caller, token.as_deref()).await {
        return page.service_error(&error);
    }
    let clear = |name: &str| {
        HeaderValue::from_str(&format!(
            "{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        ))
        .unwrap_or(HeaderValue::from_static(""))
    };
    (
        AppendHeaders([
            (header::SET_COOKIE, clear(SESSION_COOKIE)),
            (header::SET_COOKIE, clear(CSRF_COOKIE)),
        ]),
        Redirect::to("/console/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct Back {
    #[serde(default)]
    back: String,
}

/// Switches the language of a visitor who has not logged in (the login and activation pages) and
/// goes back to the page it was asked from (a console page only): the choice is kept in a cookie
/// for a year and nothing on the server changes, which is why a link may ask for it. A logged-in
/// user's switch is a form (`keep_language`), as every change of theirs is.
pub async fn switch_language(Path(code): Path<String>, Query(back): Query<Back>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    language_chosen(lang, &back.back)
}

/// Switches a logged-in user's language: kept with the user (every later login, any browser) and
/// audited, so asked for with the session's CSRF token like every other change.
pub async fn keep_language(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(back): Form<Back>,
) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    if let Err(error) = identity::set_language(&state, &page.caller, lang.code()).await {
        return page.service_error(&error);
    }
    language_chosen(lang, &back.back)
}

/// The cookie of the chosen language and the way back to the page it was chosen on.
fn language_chosen(lang: Lang, back: &str) -> Response {
    // Only a console page of this site (or the public activation page, which has the switch
    // too), and only characters a Location header may hold (a control character in it once made
    // the answer a 500).
    let back = if (back.starts_with("/console/") || back == "/activate")
        && !back.contains("//")
        && back.bytes().all(|b| b.is_ascii_graphic())
    {
        back
    } else {
        "/console/"
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; SameSite=Strict; Path=/; Max-Age=31536000",
        lang.code()
    );
    (
        [(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")),
        )],
        Redirect::to(back),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    ctx: Ctx,
    notice: Option<Notice>,
}

pub async fn password_page(page: Page) -> Response {
    render(&PasswordPage {
        ctx: page.ctx,
        notice: None,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let token = cookie(&headers, SESSION_COOKIE);
    let change = identity::PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match identity::change_password(&state, &page.caller, token.as_deref(), change).await {
        Ok(opened) => {
            let mut ctx = page.ctx;
            ctx.csrf = opened.session.csrf_token.clone();
            ctx.hx_headers = serde_json::json!({ "X-CSRF-Token": ctx.csrf }).to_string();
            let notice = Notice {
                ok: true,
                message: ctx.t("password.done").to_owned(),
            };
            let html = PasswordPage {
                ctx,
                notice: Some(notice),
            };
            (session_cookies(&state, &opened), render(&html)).into_response()
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            let notice = Notice {
                ok: false,
                message: page.lang.error(&error),
            };
            let html = PasswordPage {
                ctx: page.ctx,
                notice: Some(notice),
            };
            (status, render(&html)).into_response()
        }
    }
}

/// An option of a `<select>`: its value and its text.
pub struct Choice {
    pub value: &'static str,
    pub text: String,
}

fn role_choices(lang: Lang) -> Vec<Choice> {
    Role::ALL
        .into_iter()
        // A person's account is enrolled at a counter (docs/person.md), never made here.
        .filter(|r| *r != Role::Person)
        .map(|r| Choice {
            value: r.code(),
            text: lang.role(r.code()).to_owned(),
        })
        .collect()
}

pub fn kind_choices(lang: Lang) -> Vec<Choice> {
    RequesterKind::ALL
        .into_iter()
        .filter(|k| *k != RequesterKind::Person)
        .map(|k| Choice {
            value: k.code(),
            text: lang.code_text("kind", k.code()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    ctx: Ctx,
    users: Vec<UserView>,
    keys: Vec<KeyView>,
    notice: Option<Notice>,
    /// A key's secret, shown once, just after it was made.
    secret: Option<String>,
    roles: Vec<Choice>,
    kinds: Vec<Choice>,
}

/// The users-and-keys page with `notice` (and a new key's secret), answered with `status`.
async fn users_page_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
    secret: Option<String>,
) -> Response {
    let users = match identity::list_users(state, &page.caller).await {
        Ok(users) => users.users,
        Err(error) => return page.service_error(&error),
    };
    let keys = match identity::list_keys(state, &page.caller).await {
        Ok(keys) => keys.keys,
        Err(error) => return page.service_error(&error),
    };
    let lang = page.lang;
    let html = UsersPage {
        ctx: page.ctx,
        users,
        keys,
        notice,
        secret,
        roles: role_choices(lang),
        kinds: kind_choices(lang),
    };
    (status, render(&html)).into_response()
}

pub async fn users_page(State(state): State<AppState>, page: Page) -> Response {
    users_page_with(&state, page, StatusCode::OK, None, None).await
}

/// What a change answered: the page again, with the outcome on top.
async fn after_change<T>(
    state: &AppState,
    page: Page,
    result: crate::service::Result<T>,
    done: impl FnOnce(&T, Lang) -> String,
) -> Response {
    match result {
        Ok(value) => {
            let message = done(&value, page.lang);
            let notice = Notice { ok: true, message };
            users_page_with(state, page, StatusCode::OK, Some(notice), None).await
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            if status == StatusCode::FORBIDDEN {
                return page.service_error(&error);
            }
            let notice = Notice {
                ok: false,
                message: page.lang.error(&error),
            };
            users_page_with(state, page, status, Some(notice), None).await
        }
    }
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    requester_kind: String,
    #[serde(default)]
    agency: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<UserForm>,
) -> Response {
    let new = NewUser {
        username: form.username.trim().to_owned(),
        password: form.password,
        role: form.role,
        requester_kind: optional(&form.requester_kind),
        agency: optional(&form.agency),
        id_number: None,
    };
    let result = identity::create_user(&state, &page.caller, new).await;
    after_change(&state, page, result, |user, lang| {
        format!("{}{}", lang.t("users.created"), user.user.username)
    })
    .await
}

pub async fn disable_user(
    State(state): State<AppState>,
    page: Page,
    Path(username): Path<String>,
) -> Response {
    let result = identity::set_disabled(&state, &page.caller, &username, true).await;
    after_change(&state, page, result, |user, lang| {
        format!("{}{}", lang.t("users.changed"), user.user.username)
    })
    .await
}

pub async fn enable_user(
    State(state): State<AppState>,
    page: Page,
    Path(username): Path<String>,
) -> Response {
    let result = identity::set_disabled(&state, &page.caller, &username, false).await;
    after_change(&state, page, result, |user, lang| {
        format!("{}{}", lang.t("users.changed"), user.user.username)
    })
    .await
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    page: Page,
    Path(username): Path<String>,
    Form(form): Form<ResetForm>,
) -> Response {
    let result = identity::reset_password(&state, &page.caller, &username, &form.password).await;
    after_change(&state, page, result, |user, lang| {
        format!("{}{}", lang.t("users.reset_done"), user.user.username)
    })
    .await
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    requester_kind: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    owner: String,
}

pub async fn create_key(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<KeyForm>,
) -> Response {
    let new = NewKey {
        name: form.name.trim().to_owned(),
        role: form.role,
        requester_kind: optional(&form.requester_kind),
        agency: optional(&form.agency),
        owner: optional(&form.owner),
    };
    match identity::create_key(&state, &page.caller, new).await {
        // The secret has its own box on the page: no notice besides.
        Ok(created) => {
            users_page_with(
                &state,
                page,
                StatusCode::CREATED,
                None,
                Some(created.secret),
            )
            .await
        }
        Err(error) => after_change::<()>(&state, page, Err(error), |_, _| String::new()).await,
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    page: Page,
    Path(key_id): Path<String>,
) -> Response {
    let result = identity::revoke_key(&state, &page.caller, &key_id).await;
    after_change(&state, page, result, |revoked, lang| {
        format!("{}{}", lang.t("keys.revoked_done"), revoked.revoked)
    })
    .await
}
