//! Look-ups: the requester declares purpose, post and legal basis; the answer is the API's
//! (`service::disclosure::lookup`'s bytes, parsed and laid out), so a sealed record without a
//! covering grant shows exactly as no record. The page never repeats the identity number asked
//! about: the answer alone is shown.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::identity::Choice;
use super::requests::purpose_choices;
use super::{Ctx, Notice, Page, optional, render};
use crate::AppState;
use crate::service::disclosure::{self, LookupRequest};

/// One record of the answer.
pub struct Shown {
    case_code: String,
    grant: Option<String>,
    /// The record as the API shows it, laid out.
    record: String,
}

/// The answer, as the API gives it.
pub struct Answer {
    /// `records`, `no_record` or `no_right`.
    code: String,
    message: String,
    basis: Option<String>,
    records: Vec<Shown>,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    ctx: Ctx,
    purposes: Vec<Choice>,
    notice: Option<Notice>,
    answer: Option<Answer>,
}

#[derive(Template)]
#[template(path = "lookup_answer.html")]
struct AnswerFragment {
    ctx: Ctx,
    notice: Option<Notice>,
    answer: Option<Answer>,
}

pub async fn page(page: Page) -> Response {
    let purposes = purpose_choices(page.lang);
    render(&LookupPage {
        ctx: page.ctx,
        purposes,
        notice: None,
        answer: None,
    })
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    post: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    case_code: String,
}

fn answer_of(body: &str) -> Option<Answer> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let records = value["records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| Shown {
                    case_code: r["case_code"].as_str().unwrap_or_default().to_owned(),
                    grant: r["grant"].as_str().map(str::to_owned),
                    record: serde_json::to_string_pretty(&r["record"]).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Answer {
        code: value["answer"].as_str()?.to_owned(),
        message: value["message"].as_str()?.to_owned(),
        basis: value["basis"].as_str().map(str::to_owned),
        records,
    })
}

pub async fn lookup(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<LookupForm>,
) -> Response {
    let request = LookupRequest {
        purpose: form.purpose,
        post: optional(&form.post),
        id_number: optional(&form.id_number),
        case_code: optional(&form.case_code),
        basis: optional(&form.basis),
    };
    let (status, notice, answer) = if request.id_number.is_none() && request.case_code.is_none() {
        let message = page.ctx.t("lookup.either").to_owned();
        let notice = Notice { ok: false, message };
        (StatusCode::UNPROCESSABLE_ENTITY, Some(notice), None)
    } else {
        match disclosure::lookup(&state, &page.caller, request).await {
            Ok(body) => (StatusCode::OK, None, answer_of(&body)),
            Err(error) => {
                let status = crate::error::ApiError::status_of(&error);
                if status == StatusCode::FORBIDDEN {
                    return page.service_error(&error);
                }
                let notice = Notice {
                    ok: false,
                    message: page.lang.error(&error),
                };
                (status, Some(notice), None)
            }
        }
    };
    if page.htmx {
        let fragment = AnswerFragment {
            ctx: page.ctx,
            notice,
            answer,
        };
        return (status, render(&fragment)).into_response();
    }
    let purposes = purpose_choices(page.lang);
    let html = LookupPage {
        ctx: page.ctx,
        purposes,
        notice,
        answer,
    };
    (status, render(&html)).into_response()
}
