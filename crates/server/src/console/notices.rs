//! Notices (operators): the agency notices not acknowledged yet and those that ran out of
//! delivery attempts, a retry button on the failed ones, and each notice as the formal document
//! (封存通知书 / 解除封存通知书) laid out for printing. The lists, the retry and the document are
//! `service::notices`'s, as the API's; the person is masked for an operator there.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Ctx, Notice, Page, render};
use crate::AppState;
use crate::service::notices::{self, Notice as NoticeView, NoticeQuery};

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    ctx: Ctx,
    notice: Option<Notice>,
    unacknowledged: Vec<NoticeView>,
    failed: Vec<NoticeView>,
    /// Whether a list shows only its first page (the oldest): a national store's backlog is
    /// millions of notices.
    more_unacknowledged: bool,
    more_failed: bool,
}

#[derive(Template)]
#[template(path = "notice_document.html")]
struct DocumentPage {
    ctx: Ctx,
    n: NoticeView,
    /// The body's paragraphs.
    paragraphs: Vec<String>,
    /// The list the document was opened from.
    back: &'static str,
}

/// A notice as the formal document, laid out for printing, with a link `back` to its list.
pub(super) fn document_page(ctx: Ctx, n: NoticeView, back: &'static str) -> Response {
    let paragraphs = n
        .body
        .lines()
        .map(str::trim)
        // The title is the page's heading already.
        .filter(|line| !line.is_empty() && *line != n.title)
        .map(str::to_owned)
        .collect();
    render(&DocumentPage {
        ctx,
        n,
        paragraphs,
        back,
    })
}

async fn page_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let unacknowledged = NoticeQuery {
        unacknowledged: true,
        ..NoticeQuery::default()
    };
    let (unacknowledged, more_unacknowledged) =
        match notices::list(state, &page.caller, unacknowledged).await {
            Ok(list) => (
                list.notices
                    .into_iter()
                    .filter(|n| n.status != "failed")
                    .collect(),
                list.next.is_some(),
            ),
            Err(error) => return page.service_error(&error),
        };
    let failed = NoticeQuery {
        status: Some("failed".into()),
        ..NoticeQuery::default()
    };
    let (failed, more_failed) = match notices::list(state, &page.caller, failed).await {
        Ok(list) => (list.notices, list.next.is_some()),
        Err(error) => return page.service_error(&error),
    };
    let html = NoticesPage {
        ctx: page.ctx,
        notice,
        unacknowledged,
        failed,
        more_unacknowledged,
        more_failed,
    };
    (status, render(&html)).into_response()
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    page_with(&state, page, StatusCode::OK, None).await
}

pub async fn retry(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    match notices::retry(&state, &page.caller, &id).await {
        Ok(done) => {
            let message = format!("{}{}", page.lang.t("notices.retried"), done.retrying);
            page_with(
                &state,
                page,
                StatusCode::OK,
                Some(Notice { ok: true, message }),
            )
            .await
        }
        Err(error) => page.service_error(&error),
    }
}

pub async fn document(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    match notices::one(&state, &page.caller, &id).await {
        Ok(n) => document_page(page.ctx, n, "/console/notices"),
        Err(error) => page.service_error(&error),
    }
}
