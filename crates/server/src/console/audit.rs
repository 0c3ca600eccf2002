//! The audit log (auditors): entries filtered by actor, kind, subject and day; the log verified
//! from the page (`service::audit::verify`, what `fengcun audit verify` runs); an entry's
//! inclusion proof, the signed tree heads and the public key downloaded for checking offline with
//! `fengcun audit check` (docs/audit.md).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fengcun_store::{AuditKind, AuditReport};
use serde::Deserialize;

use super::identity::Choice;
use super::{Ctx, Notice, Page, render};
use crate::AppState;
use crate::service::audit::{self, Entry, InclusionQuery, SearchQuery};

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    notice: Option<Notice>,
    query: SearchQuery,
    kinds: Vec<Choice>,
    entries: Vec<Entry>,
    /// The newest signed head's size: the proofs offered are in its tree.
    head_size: Option<u64>,
    heads: usize,
    /// The next page: entries before this one.
    next: Option<u64>,
}

#[derive(Template)]
#[template(path = "audit_verify.html")]
struct VerifyFragment {
    ctx: Ctx,
    report: AuditReport,
    problem: Option<String>,
}

fn kind_choices(page: &Page) -> Vec<Choice> {
    AuditKind::ALL
        .into_iter()
        .map(|k| Choice {
            value: k.code(),
            text: page.lang.code_text("audit_kind", k.code()),
        })
        .collect()
}

/// The head lines and the newest one's size.
async fn heads(
    state: &AppState,
    page: &Page,
) -> crate::service::Result<(Vec<String>, Option<u64>)> {
    let heads = audit::heads(state, &page.caller).await?;
    let size = heads.heads.iter().map(|h| h.size).max();
    Ok((heads.lines, size))
}

pub async fn page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<SearchQuery>,
) -> Response {
    let (status, notice, entries) = match audit::search(&state, &page.caller, &query).await {
        Ok(found) => (StatusCode::OK, None, found.entries),
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            if status == StatusCode::FORBIDDEN {
                return page.service_error(&error);
            }
            let message = page.lang.error(&error);
            (status, Some(Notice { ok: false, message }), Vec::new())
        }
    };
    let (lines, head_size) = match heads(&state, &page).await {
        Ok(heads) => heads,
        Err(error) => return page.service_error(&error),
    };
    let next = (entries.len() == usize::try_from(audit::SEARCH_LIMIT).unwrap_or(usize::MAX))
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let html = AuditPage {
        kinds: kind_choices(&page),
        ctx: page.ctx,
        notice,
        query,
        entries,
        head_size,
        heads: lines.len(),
        next,
    };
    (status, render(&html)).into_response()
}

#[derive(Deserialize)]
pub struct VerifyForm {
    /// Head lines kept outside the database (optional).
    #[serde(default)]
    heads: String,
}

pub async fn verify(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<VerifyForm>,
) -> Response {
    match audit::verify(&state, &page.caller, &form.heads).await {
        Ok(report) => {
            let problem = report.problem.as_ref().map(ToString::to_string);
            render(&VerifyFragment {
                ctx: page.ctx,
                report,
                problem,
            })
        }
        Err(error) => page.service_error(&error),
    }
}

/// Signs a head now, so that the newest entries have a head (and proofs) too.
pub async fn sign(State(state): State<AppState>, page: Page) -> Response {
    match audit::sign_now(&state, &page.caller).await {
        Ok(_) => axum::response::Redirect::to("/console/audit").into_response(),
        Err(error) => page.service_error(&error),
    }
}

fn download(name: &str, kind: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The entry's inclusion proof in the tree of the newest signed head (the API's, as a file).
pub async fn proof(State(state): State<AppState>, page: Page, Path(seq): Path<u64>) -> Response {
    let size = match heads(&state, &page).await {
        Ok((_, Some(size))) if size > seq => size,
        Ok(_) => {
            return page.error_page(StatusCode::CONFLICT, page.lang.t("audit.no_head"));
        }
        Err(error) => return page.service_error(&error),
    };
    let query = InclusionQuery { index: seq, size };
    match audit::inclusion(&state, &page.caller, &query).await {
        Ok(proof) => download(
            &format!("inclusion-{seq}-{size}.json"),
            "application/json",
            serde_json::to_string_pretty(&proof).unwrap_or_default() + "\n",
        ),
        Err(error) => page.service_error(&error),
    }
}

/// Every signed head, one line each (what `fengcun audit verify --against` and `check --head` read);
/// `?size=N` the head of that size alone.
#[derive(Deserialize)]
pub struct HeadsQuery {
    size: Option<u64>,
}

pub async fn heads_file(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<HeadsQuery>,
) -> Response {
    match audit::heads(&state, &page.caller).await {
        Ok(heads) => {
            let lines: Vec<&String> = heads
                .lines
                .iter()
                .zip(&heads.heads)
                .filter(|(_, head)| query.size.is_none_or(|s| head.size == s))
                .map(|(line, _)| line)
                .collect();
            if query.size.is_some() && lines.is_empty() {
                return page.error_page(StatusCode::NOT_FOUND, page.lang.t("error.not_found"));
            }
            let name = match query.size {
                Some(size) => format!("tree-head-{size}.txt"),
                None => "tree-heads.txt".to_owned(),
            };
            let mut body = String::new();
            for line in lines {
                body.push_str(line);
                body.push('\n');
            }
            download(&name, "text/plain; charset=utf-8", body)
        }
        Err(error) => page.service_error(&error),
    }
}

/// The platform's public key (public as the API's), for `--public-key`.
pub async fn public_key(State(state): State<AppState>, page: Page) -> Response {
    if let Err(error) = page
        .caller
        .require(
            &state,
            "read the audit log",
            &[crate::config::Role::Auditor],
        )
        .await
    {
        return page.service_error(&error);
    }
    download(
        "fengcun-public-key.pem",
        "application/x-pem-file",
        audit::public_key(&state),
    )
}
