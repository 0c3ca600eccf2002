//! The policy (operators): the one in force as a lawyer reads it, the history of policies put in
//! force, another chosen (a shipped one, or a document pasted in), its impact previewed — the
//! store's `change_policy` without applying — and applied only after a confirmation.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fengcun_policy::presets;
use serde::Deserialize;

use super::{Ctx, Notice, Page, optional, render};
use crate::AppState;
use crate::service::operations::{
    self, ChargeImpact, PolicyChange, PolicyChangeRequest, PolicyInForceSince, PolicyReading,
};

/// A shipped policy to choose.
pub struct Preset {
    name: String,
    title: String,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    ctx: Ctx,
    notice: Option<Notice>,
    in_force: PolicyReading,
    history: Vec<PolicyInForceSince>,
    presets: Vec<Preset>,
}

#[derive(Template)]
#[template(path = "policy_preview.html")]
struct PreviewPage {
    ctx: Ctx,
    notice: Option<Notice>,
    candidate: PolicyReading,
    change: PolicyChange,
    /// The change by main charge.
    by_charge: Vec<ChargeImpact>,
    /// What the confirmation posts back.
    name: String,
    document: String,
}

async fn page_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let in_force = match operations::policy_reading(state, &page.caller).await {
        Ok(reading) => reading,
        Err(error) => return page.service_error(&error),
    };
    let history = match operations::policy_history(state, &page.caller).await {
        Ok(history) => history,
        Err(error) => return page.service_error(&error),
    };
    // Only the policies that can be put in force here: they decide criminal records (violation
    // records are decided by the art. 136 preset, in force beside them, which would be refused).
    let presets = presets::all()
        .iter()
        .filter(|p| p.meta.records == fengcun_domain::RecordKind::Criminal)
        .map(|p| Preset {
            name: p.meta.name.clone(),
            title: p.meta.title.clone(),
        })
        .collect();
    let html = PolicyPage {
        ctx: page.ctx,
        notice,
        in_force,
        history,
        presets,
    };
    (status, render(&html)).into_response()
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    page_with(&state, page, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    confirm: String,
}

impl PolicyForm {
    /// A pasted document wins over the list's choice.
    fn request(&self, apply: bool) -> PolicyChangeRequest {
        let document = optional(&self.document);
        PolicyChangeRequest {
            name: if document.is_some() {
                None
            } else {
                optional(&self.name)
            },
            document,
            apply,
        }
    }
}

/// A form error or a refusal: the policy page again with the message, or the error page.
async fn failed(state: &AppState, page: Page, error: crate::service::ServiceError) -> Response {
    let status = crate::error::ApiError::status_of(&error);
    if status == StatusCode::FORBIDDEN {
        return page.service_error(&error);
    }
    // On this page `name` is the policy chosen in the list, not a person's name.
    let error = match error {
        crate::service::ServiceError::Invalid(message) if message.starts_with("name:") => {
            crate::service::ServiceError::Invalid(format!("policy:{}", &message["name:".len()..]))
        }
        error => error,
    };
    let message = page.lang.error(&error);
    page_with(state, page, status, Some(Notice { ok: false, message })).await
}

pub async fn preview(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<PolicyForm>,
) -> Response {
    let request = form.request(false);
    let candidate = match operations::read_candidate(
        &state,
        &page.caller,
        request.name.as_deref(),
        request.document.as_deref(),
    )
    .await
    {
        Ok(reading) => reading,
        Err(error) => return failed(&state, page, error).await,
    };
    let (name, document) = (
        request.name.clone().unwrap_or_default(),
        request.document.clone().unwrap_or_default(),
    );
    match operations::change_policy(&state, &page.caller, request).await {
        Ok(change) => {
            let by_charge = match operations::change_by_charge(&state, &page.caller, &change).await
            {
                Ok(rows) => rows,
                Err(error) => return failed(&state, page, error).await,
            };
            render(&PreviewPage {
                ctx: page.ctx,
                notice: None,
                candidate,
                change,
                by_charge,
                name,
                document,
            })
        }
        Err(error) => failed(&state, page, error).await,
    }
}

pub async fn apply(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<PolicyForm>,
) -> Response {
    if form.confirm != "yes" {
        let error = crate::service::ServiceError::Invalid(
            "confirm: tick the box to put the policy in force".into(),
        );
        return failed(&state, page, error).await;
    }
    match operations::change_policy(&state, &page.caller, form.request(true)).await {
        Ok(change) => {
            let message = format!(
                "{}{} {}",
                page.lang.t("policy.applied"),
                change.policy,
                change.version
            );
            page_with(
                &state,
                page,
                StatusCode::OK,
                Some(Notice { ok: true, message }),
            )
            .await
        }
        Err(error) => failed(&state, page, error).await,
    }
}
