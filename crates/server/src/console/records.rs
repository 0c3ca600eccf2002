//! Records (记录): search a case by its case code or an agency's document number; the list by
//! state and due date with identities masked (`service::records::list`, for the roles it allows);
//! a case's timeline (`service::records::timeline`) — events, transitions with the policy version
//! and the reasons rule by rule with their legal basis, notices with delivery and acknowledgement —
//! drawn as a vertical timeline, the state as a coloured badge. Every view is the service's, with
//! its audit entry.
//!
//! A case the caller may not read answers exactly as a case that does not exist: the same page,
//! which repeats neither the case code nor the number asked about (nor does its language switch).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fengcun_access::Purpose;
use serde::{Deserialize, Serialize};

use super::dashboard::state_text;
use super::identity::Choice;
use super::{Ctx, Lang, Notice, Page, optional, render};
use crate::AppState;
use crate::config::Role;
use crate::service::ServiceError;
use crate::service::records::{
    self, ListQuery, OPERATIONS, RecordItem, RecordLife, SUPERVISORS, Timeline,
};

/// The page every not-found and every search comes back to: its language switch returns here.
const HOME: &str = "/console/records";

/// The list's filters as the page's query string gives them (an empty field is no filter).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListParams {
    #[serde(default)]
    state: String,
    #[serde(default)]
    due_before: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    cursor: String,
}

/// The search form: a case code or a document number (with the agency that numbered it), and
/// the purpose declared.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    purpose: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct TimelineParams {
    #[serde(default)]
    purpose: String,
}

/// The list as a page shows it.
pub struct Listing {
    records: Vec<RecordItem>,
    next: Option<String>,
    filters: ListParams,
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    ctx: Ctx,
    notice: Option<Notice>,
    purposes: Vec<Choice>,
    purpose: &'static str,
    /// The search form's agency field, filled with a clerk's own agency.
    own_agency: String,
    states: Vec<Choice>,
    listing: Option<Listing>,
}

impl RecordsPage {
    fn day(&self, text: &str) -> String {
        day(self.ctx.lang, text)
    }
}

impl TimelinePage {
    /// The document an event's number is of, where it names one (判决书, 处罚决定书, 不予处罚决定书).
    fn document(&self, kind: &str) -> &'static str {
        match kind {
            "judgment" => self.ctx.t("timeline.doc.judgment"),
            "violation_penalized" | "violation_decision_effective" => {
                self.ctx.t("timeline.doc.penalty")
            }
            "violation_not_penalized" => self.ctx.t("timeline.doc.not_penalized"),
            _ => "",
        }
    }
}

/// A stored date (`2026-12-05`) in the page's language; other text as it is.
fn day(lang: Lang, text: &str) -> String {
    match text.parse::<fengcun_domain::Date>() {
        Ok(date) => lang.date(date),
        Err(_) => text.to_owned(),
    }
}

/// The purpose a role reads a timeline for unless it says: an operator runs the platform, a
/// clerk handles cases.
fn default_purpose(role: Role) -> &'static str {
    if role == Role::Operator {
        OPERATIONS
    } else {
        Purpose::CaseHandling.code()
    }
}

fn purposes(lang: Lang) -> Vec<Choice> {
    let mut choices = vec![Choice {
        value: OPERATIONS,
        text: lang.code_text("purpose", OPERATIONS),
    }];
    choices.extend(super::requests::purpose_choices(lang));
    choices
}

fn state_choices(lang: Lang) -> Vec<Choice> {
    fengcun_lifecycle::StateCode::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.code(),
            text: state_text(lang, s.code()),
        })
        .collect()
}

/// The records page, with the list for a role the list's service allows, and `notice` on top.
fn records_page(
    mut page: Page,
    notice: Option<Notice>,
    listing: Option<Listing>,
    status: StatusCode,
) -> Response {
    page.ctx.path = HOME.to_owned();
    let lang = page.lang;
    let body = RecordsPage {
        purposes: purposes(lang),
        purpose: default_purpose(page.caller.role),
        own_agency: page.caller.agency.clone().unwrap_or_default(),
        states: state_choices(lang),
        ctx: page.ctx,
        notice,
        listing,
    };
    (status, render(&body)).into_response()
}

fn bad(message: String) -> Option<Notice> {
    Some(Notice { ok: false, message })
}

pub async fn page(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<ListParams>,
) -> Response {
    if !page.caller.holds(SUPERVISORS) {
        return records_page(page, None, None, StatusCode::OK);
    }
    let query = ListQuery {
        state: optional(&params.state),
        due_before: optional(&params.due_before),
        agency: optional(&params.agency),
        policy_version: None,
        cursor: optional(&params.cursor),
        limit: None,
    };
    match records::list(&state, &page.caller, query).await {
        Ok(list) => {
            let next = list.next_cursor.map(|cursor| {
                let params = ListParams {
                    cursor,
                    ..params_clone(&params)
                };
                format!(
                    "{HOME}?{}",
                    serde_urlencoded::to_string(&params).unwrap_or_default()
                )
            });
            let listing = Listing {
                records: list.records,
                next,
                filters: params,
            };
            records_page(page, None, Some(listing), StatusCode::OK)
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            let message = page.lang.error(&error);
            let listing = Listing {
                records: Vec::new(),
                next: None,
                filters: params,
            };
            records_page(page, bad(message), Some(listing), status)
        }
    }
}

fn params_clone(params: &ListParams) -> ListParams {
    ListParams {
        state: params.state.clone(),
        due_before: params.due_before.clone(),
        agency: params.agency.clone(),
        cursor: params.cursor.clone(),
    }
}

/// One thing that happened to a record, in the order the platform learnt of it.
pub enum Step {
    Event(records::EventItem),
    Transition(records::TransitionItem),
    Notice(records::NoticeItem),
}

/// A record of the case with its steps merged into one timeline.
pub struct Life {
    record: RecordLife,
    steps: Vec<Step>,
}

fn life(record: RecordLife) -> Life {
    // (time recorded, order among equal times, step): events before the transition they caused,
    // and that before its notices.
    let mut steps: Vec<(String, u8, usize, Step)> = Vec::new();
    for (i, e) in record.events.iter().enumerate() {
        steps.push((e.received_at.clone(), 0, i, Step::Event(e.clone())));
    }
    for (i, t) in record.transitions.iter().enumerate() {
        steps.push((t.at.clone(), 1, i, Step::Transition(t.clone())));
    }
    for (i, n) in record.notices.iter().enumerate() {
        steps.push((n.created_at.clone(), 2, i, Step::Notice(n.clone())));
    }
    steps.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    Life {
        steps: steps.into_iter().map(|(_, _, _, step)| step).collect(),
        record,
    }
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    ctx: Ctx,
    case_code: String,
    purpose: String,
    lives: Vec<Life>,
}

impl TimelinePage {
    fn state(&self, code: &str) -> String {
        state_text(self.ctx.lang, code)
    }
    fn event(&self, kind: &str) -> String {
        match (self.ctx.lang, fengcun_domain::event::EventKind::parse(kind)) {
            (Lang::Zh, Some(kind)) => kind.chinese().to_owned(),
            _ => kind.replace('_', " "),
        }
    }
    fn day(&self, text: &str) -> String {
        day(self.ctx.lang, text)
    }
}

/// A timeline, or — for a case the caller may not read, or none — the records page saying it
/// found nothing, the same bytes whichever it was.
fn timeline_answer(
    page: Page,
    answer: Result<Timeline, ServiceError>,
    purpose: String,
) -> Response {
    match answer {
        Ok(timeline) => {
            let lives = timeline.records.into_iter().map(life).collect();
            let mut ctx = page.ctx;
            ctx.path = HOME.to_owned();
            render(&TimelinePage {
                ctx,
                case_code: timeline.case_code,
                purpose,
                lives,
            })
        }
        Err(ServiceError::NotFound) => {
            let message = page.lang.t("records.not_found").to_owned();
            records_page(page, bad(message), None, StatusCode::NOT_FOUND)
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            let message = page.lang.error(&error);
            records_page(page, bad(message), None, status)
        }
    }
}

fn purpose_of(page: &Page, given: &str) -> String {
    optional(given).unwrap_or_else(|| default_purpose(page.caller.role).to_owned())
}

pub async fn timeline(
    State(state): State<AppState>,
    page: Page,
    Path(case_code): Path<String>,
    Query(params): Query<TimelineParams>,
) -> Response {
    let purpose = purpose_of(&page, &params.purpose);
    let answer = records::timeline(&state, &page.caller, &case_code, Some(&purpose)).await;
    timeline_answer(page, answer, purpose)
}

/// A search: a case code is read as such; anything else is an agency's document number, with
/// the agency given (a clerk's own by default).
pub async fn search(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<SearchParams>,
) -> Response {
    let purpose = purpose_of(&page, &params.purpose);
    let q = params.q.trim();
    if q.is_empty() {
        let message = page.lang.t("records.q_required").to_owned();
        return records_page(page, bad(message), None, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let answer = if fengcun_domain::CaseCode::parse(q).is_ok() {
        records::timeline(&state, &page.caller, q, Some(&purpose)).await
    } else {
        let agency = optional(&params.agency)
            .or_else(|| page.caller.agency.clone())
            .unwrap_or_default();
        if agency.is_empty() {
            let message = page.lang.t("records.agency_required").to_owned();
            return records_page(page, bad(message), None, StatusCode::UNPROCESSABLE_ENTITY);
        }
        records::timeline_by_document(&state, &page.caller, &agency, q, Some(&purpose)).await
    };
    timeline_answer(page, answer, purpose)
}
