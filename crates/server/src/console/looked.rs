//! The person's pages "who looked at my record" and "my correction requests", and the clerks'
//! queue of correction requests addressed to their agency. Each calls the service function the
//! JSON API calls (`service::looked`, `service::corrections`): who may see what, the withholding
//! rule and the audit entries are the service's.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::identity::Choice;
use super::{Ctx, Lang, Notice, Page, optional, render};
use crate::AppState;
use crate::service::corrections::{
    self, Correction, CorrectionDecision, FIELDS, NewCorrection, QueueQuery,
};
use crate::service::looked::{self, Look};

pub const LOOKED_PATH: &str = "/console/looked";
pub const CORRECTIONS_PATH: &str = "/console/corrections";
pub const QUEUE_PATH: &str = "/console/correction-queue";

/// Whether a clerk's menu shows the correction queue: while requests addressed to their agency
/// wait for an answer, and on the queue page itself.
pub async fn queue_in_menu(state: &AppState, caller: &crate::service::Caller, path: &str) -> bool {
    if caller.role != crate::config::Role::Clerk {
        return false;
    }
    if path.starts_with(QUEUE_PATH) {
        return true;
    }
    let Some(agency) = &caller.agency else {
        return false;
    };
    state
        .store
        .corrections_for_agency(agency, Some(fengcun_store::CorrectionStatus::Open))
        .await
        .is_ok_and(|open| !open.is_empty())
}

#[derive(Template)]
#[template(path = "looked.html")]
struct LookedPage {
    ctx: Ctx,
    looks: Vec<Look>,
    withheld_notice: String,
    withholding_basis: String,
}

/// Who looked at my record.
pub async fn looked_page(State(state): State<AppState>, page: Page) -> Response {
    match looked::who_looked(&state, &page.caller).await {
        Ok(who) => render(&LookedPage {
            ctx: page.ctx,
            looks: who.looks,
            withheld_notice: match (page.lang, looked::withholding()) {
                (Lang::En, Ok(rules)) => format!(
                    "Look-ups by an investigating authority for a case are not shown to you while its authorisation lasts and for {} days after it ends; they appear here afterwards. Such look-ups may exist: this page does not show whether there are any, or how many.",
                    looked::withholding_days(rules)
                ),
                _ => who.withheld_notice,
            },
            withholding_basis: who.withholding_basis,
        }),
        Err(error) => page.service_error(&error),
    }
}

#[derive(Template)]
#[template(path = "corrections.html")]
struct CorrectionsPage {
    ctx: Ctx,
    notice: Option<Notice>,
    corrections: Vec<Correction>,
    fields: Vec<Choice>,
}

async fn corrections_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let corrections = match corrections::mine(state, &page.caller).await {
        Ok(list) => list.corrections,
        Err(error) => return page.service_error(&error),
    };
    let fields = FIELDS
        .iter()
        .map(|(code, _)| Choice {
            value: code,
            text: page.lang.code_text("correction_field", code),
        })
        .collect();
    let html = CorrectionsPage {
        ctx: page.ctx,
        notice,
        corrections,
        fields,
    };
    (status, render(&html)).into_response()
}

/// My correction requests, and the form to make one.
pub async fn corrections_page(State(state): State<AppState>, page: Page) -> Response {
    corrections_with(&state, page, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct CorrectionForm {
    #[serde(default)]
    case_code: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    text: String,
}

pub async fn create_correction(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<CorrectionForm>,
) -> Response {
    let request = NewCorrection {
        case_code: form.case_code.trim().to_owned(),
        field: form.field,
        text: form.text,
    };
    match corrections::create(&state, &page.caller, request).await {
        Ok(made) => {
            let message = format!("{}{}", page.lang.t("corrections.sent"), made.agency);
            corrections_with(
                &state,
                page,
                StatusCode::OK,
                Some(Notice { ok: true, message }),
            )
            .await
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            let message = page.lang.error(&error);
            corrections_with(&state, page, status, Some(Notice { ok: false, message })).await
        }
    }
}

#[derive(Template)]
#[template(path = "correction_queue.html")]
struct QueuePage {
    ctx: Ctx,
    notice: Option<Notice>,
    corrections: Vec<Correction>,
}

async fn queue_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let corrections = match corrections::queue(state, &page.caller, QueueQuery::default()).await {
        Ok(list) => list.corrections,
        Err(error) => return page.service_error(&error),
    };
    let html = QueuePage {
        ctx: page.ctx,
        notice,
        corrections,
    };
    (status, render(&html)).into_response()
}

/// The correction requests addressed to the clerk's agency.
pub async fn queue_page(State(state): State<AppState>, page: Page) -> Response {
    queue_with(&state, page, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// Accepted: the correction event, as JSON.
    #[serde(default)]
    event: String,
}

pub async fn answer(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let event = match optional(&form.event)
        .map(|text| serde_json::from_str::<serde_json::Value>(&text))
        .transpose()
    {
        Ok(event) => event,
        Err(e) => {
            let error = crate::service::ServiceError::Invalid(format!("event: {e}"));
            let message = page.lang.error(&error);
            return queue_with(
                &state,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Notice { ok: false, message }),
            )
            .await;
        }
    };
    let decision = CorrectionDecision {
        decision: form.decision,
        reason: optional(&form.reason),
        event,
    };
    match corrections::answer(&state, &page.caller, &id, decision).await {
        Ok(done) => {
            let message = format!(
                "{}{}",
                page.lang.t("queue.answered"),
                page.lang.code_text("correction_status", &done.status)
            );
            queue_with(
                &state,
                page,
                StatusCode::OK,
                Some(Notice { ok: true, message }),
            )
            .await
        }
        Err(crate::service::ServiceError::NotFound) => {
            page.error_page(StatusCode::NOT_FOUND, page.lang.t("error.not_found"))
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            let message = page.lang.error(&error);
            queue_with(&state, page, status, Some(Notice { ok: false, message })).await
        }
    }
}
