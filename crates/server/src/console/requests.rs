//! Penetration requests and grants: a requester files one; an approver sees the queue, approves
//! with a window or refuses with a reason; grants with their expiry and a revoke button. The rule
//! that nobody approves their own request is the service's (the page only hides the buttons).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fengcun_access::Purpose;
use serde::Deserialize;

use super::identity::Choice;
use super::{Ctx, Lang, Notice, Page, optional, render};
use crate::AppState;
use crate::config::Role;
use crate::service::requests::{
    self, DecisionRequest, GrantView, NewRequest, RequestFilter, RequestView, Revocation,
};

const ASKERS: &[Role] = &[Role::Clerk, Role::Approver, Role::Requester, Role::Agency];

pub fn purpose_choices(lang: Lang) -> Vec<Choice> {
    Purpose::ALL
        .into_iter()
        .map(|p| Choice {
            value: p.code(),
            text: lang.code_text("purpose", p.code()),
        })
        .collect()
}

/// A vetting post as a form offers it: its code, and its title (the post's law names it).
pub struct PostChoice {
    pub value: String,
    pub text: String,
}

/// The listed vetting posts (data/disclosure/vetting-posts.toml): a form offers these, so that
/// nobody types a post's title where its code is wanted and is told 无权查询 for it.
pub fn post_choices(state: &AppState, lang: Lang) -> Vec<PostChoice> {
    state
        .disclosure
        .posts
        .iter()
        .map(|post| PostChoice {
            value: post.code.clone(),
            text: match lang {
                Lang::Zh => post.title.clone(),
                Lang::En => post.title_en.clone(),
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    ctx: Ctx,
    posts: Vec<PostChoice>,
    notice: Option<Notice>,
    /// The caller's name as requests name their requester.
    me: String,
    may_ask: bool,
    may_decide: bool,
    may_revoke: bool,
    pending: Vec<RequestView>,
    decided: Vec<RequestView>,
    grants: Vec<GrantView>,
    purposes: Vec<Choice>,
    now: String,
    /// What the clerk typed into the new-request form, given back after a refusal so that
    /// nothing is typed twice (empty otherwise).
    draft: RequestForm,
}

async fn page_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    page_with_draft(state, page, status, notice, RequestForm::default()).await
}

async fn page_with_draft(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
    draft: RequestForm,
) -> Response {
    let listed = requests::list(state, &page.caller, RequestFilter::default()).await;
    let all = match listed {
        Ok(list) => list.requests,
        Err(error) => return page.service_error(&error),
    };
    let grants = match requests::list_grants(state, &page.caller).await {
        Ok(grants) => grants.grants,
        Err(error) => return page.service_error(&error),
    };
    let (pending, decided) = all.into_iter().partition(|r| r.status == "pending");
    let caller = &page.caller;
    let html = RequestsPage {
        me: caller.name.clone(),
        may_ask: caller.holds(ASKERS),
        may_decide: caller.holds(&[Role::Approver]),
        may_revoke: caller.holds(&[Role::Approver, Role::Administrator]),
        pending,
        decided,
        grants,
        purposes: purpose_choices(page.lang),
        posts: post_choices(state, page.lang),
        now: state.clock.now().to_string(),
        notice,
        draft,
        ctx: page.ctx,
    };
    (status, render(&html)).into_response()
}

impl RequestsPage {
    /// A post as a list names it: its title (its code only where no listed post has it).
    fn post_title(&self, code: &str) -> String {
        self.posts
            .iter()
            .find(|p| p.value == code)
            .map_or_else(|| code.to_owned(), |p| p.text.clone())
    }
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    page_with(&state, page, StatusCode::OK, None).await
}

/// The page again after a change, the outcome on top; a refusal is the error page.
async fn after<T>(
    state: &AppState,
    page: Page,
    result: crate::service::Result<T>,
    done: impl FnOnce(&T, Lang) -> String,
) -> Response {
    match result {
        Ok(value) => {
            let message = done(&value, page.lang);
            page_with(
                state,
                page,
                StatusCode::OK,
                Some(Notice { ok: true, message }),
            )
            .await
        }
        Err(error) => {
            if ends_on_the_error_page(&error) {
                return page.service_error(&error);
            }
            let status = crate::error::ApiError::status_of(&error);
            let message = page.lang.error(&error);
            page_with(state, page, status, Some(Notice { ok: false, message })).await
        }
    }
}

#[derive(Clone, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    post: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    reason: String,
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<RequestForm>,
) -> Response {
    let new = NewRequest {
        purpose: form.purpose.clone(),
        post: optional(&form.post),
        id_number: form.id_number.trim().to_owned(),
        name: optional(&form.name),
        basis: form.basis.clone(),
        reason: form.reason.clone(),
    };
    match requests::create(&state, &page.caller, new).await {
        Err(error) if !ends_on_the_error_page(&error) => {
            let status = crate::error::ApiError::status_of(&error);
            let message = page.lang.error(&error);
            let notice = Some(Notice { ok: false, message });
            page_with_draft(&state, page, status, notice, form).await
        }
        result => {
            after(&state, page, result, |created, lang| {
                format!("{}{}", lang.t("requests.filed"), created.request.request_id)
            })
            .await
        }
    }
}

/// A refusal of the caller (403) or of what they named (404) is the error page; any other
/// error is shown above the form.
fn ends_on_the_error_page(error: &crate::service::ServiceError) -> bool {
    let status = crate::error::ApiError::status_of(error);
    status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    days: String,
}

pub async fn approve(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let days = match optional(&form.days).map(|d| d.parse::<i64>()).transpose() {
        Ok(days) => days,
        Err(_) => {
            let error = crate::service::ServiceError::Invalid("days: a whole number".into());
            let message = page.lang.error(&error);
            return page_with(
                &state,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Notice { ok: false, message }),
            )
            .await;
        }
    };
    let body = DecisionRequest {
        reason: form.reason,
        days,
    };
    let result = requests::decide(&state, &page.caller, &id, body, true).await;
    after(&state, page, result, |decided, lang| {
        let grant = decided
            .grant
            .as_ref()
            .map_or("", |g| g.grant_id.as_str())
            .to_owned();
        format!("{}{grant}", lang.t("requests.approved"))
    })
    .await
}

pub async fn refuse(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let body = DecisionRequest {
        reason: form.reason,
        days: None,
    };
    let result = requests::decide(&state, &page.caller, &id, body, false).await;
    after(&state, page, result, |decided, lang| {
        format!(
            "{}{}",
            lang.t("requests.refused"),
            decided.request.request_id
        )
    })
    .await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
}

pub async fn revoke_grant(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let body = Revocation {
        reason: optional(&form.reason),
    };
    let result = requests::revoke_grant(&state, &page.caller, &id, body).await;
    after(&state, page, result, |revoked, lang| {
        format!("{}{}", lang.t("grants.revoked_done"), revoked.revoked)
    })
    .await
}
