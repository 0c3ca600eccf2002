//! Supervision (supervisors, docs/supervision.md): the flags the rules raised, each with the audit
//! entries behind it, and its review (no issue / referred). The list, the flag and the review are
//! `service::supervision`'s, as the API's: the same role check, the same audit entries.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Ctx, Notice, Page, render};
use crate::AppState;
use crate::service::supervision::{self, FlagDetail, FlagFilter, FlagView, Review};

pub const PATH: &str = "/console/supervision";

#[derive(Template)]
#[template(path = "supervision.html")]
struct ListPage {
    ctx: Ctx,
    sections: Vec<Section>,
}

/// The open flags, or the reviewed ones.
struct Section {
    heading: &'static str,
    table: &'static str,
    flags: Vec<FlagView>,
}

#[derive(Template)]
#[template(path = "supervision_flag.html")]
struct FlagPage {
    ctx: Ctx,
    notice: Option<Notice>,
    d: FlagDetail,
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    match supervision::list(&state, &page.caller, FlagFilter::default()).await {
        Ok(list) => {
            let (reviewed, open): (Vec<FlagView>, Vec<FlagView>) =
                list.flags.into_iter().partition(|f| f.conclusion.is_some());
            let sections = vec![
                Section {
                    heading: "supervision.open",
                    table: "open-flags",
                    flags: open,
                },
                Section {
                    heading: "supervision.reviewed_list",
                    table: "reviewed-flags",
                    flags: reviewed,
                },
            ];
            render(&ListPage {
                ctx: page.ctx,
                sections,
            })
        }
        Err(error) => page.service_error(&error),
    }
}

async fn flag_with(
    state: &AppState,
    page: Page,
    id: &str,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    match supervision::show(state, &page.caller, id).await {
        Ok(d) => (
            status,
            render(&FlagPage {
                ctx: page.ctx,
                notice,
                d,
            }),
        )
            .into_response(),
        Err(error) => page.service_error(&error),
    }
}

pub async fn flag(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    flag_with(&state, page, &id, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    conclusion: String,
    note: String,
}

pub async fn review(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Response {
    let body = Review {
        conclusion: form.conclusion,
        note: form.note,
    };
    match supervision::review(&state, &page.caller, &id, body).await {
        Ok(_) => {
            let message = page.lang.t("supervision.reviewed").to_owned();
            flag_with(
                &state,
                page,
                &id,
                StatusCode::OK,
                Some(Notice { ok: true, message }),
            )
            .await
        }
        Err(crate::service::ServiceError::Invalid(reason)) => {
            let message = page
                .lang
                .error(&crate::service::ServiceError::Invalid(reason));
            flag_with(
                &state,
                page,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Notice { ok: false, message }),
            )
            .await
        }
        Err(error) => page.service_error(&error),
    }
}
