//! The person's own portal in the console (docs/person.md): my records, my notices (the formal
//! documents), my certificates; the clerk's counter enrolment; the public activation page. Each
//! view calls the `service::portal` function the JSON API calls.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Ctx, Lang, Notice, Page, anonymous_ctx, render};
use crate::AppState;
use crate::service::certificates::Issued;
use crate::service::notices::Notice as NoticeView;
use crate::service::portal::{
    self, ActivateRequest, EnrolRequest, Enrolled, EnrolmentOpened, MyApplication, MyCertificate,
    MyRecord, WaitingEnrolment,
};

#[derive(Template)]
#[template(path = "portal_records.html")]
struct RecordsPage {
    ctx: Ctx,
    records: Vec<MyRecord>,
}

pub async fn records(State(state): State<AppState>, page: Page) -> Response {
    match portal::my_records(&state, &page.caller).await {
        Ok(mut mine) => {
            if page.ctx.lang != super::i18n::Lang::Zh {
                // The service words the record and its state in Chinese (an undecided record's
                // state says what is missing); the switch gives the console's own words.
                for record in &mut mine.records {
                    record.kind_text = page.ctx.code_text("timeline.kind", &record.designation);
                    record.state_text = page.ctx.code_text("state", &record.state);
                    record.explanation = explanation_in_english(record, page.lang);
                }
            }
            render(&RecordsPage {
                ctx: page.ctx,
                records: mine.records,
            })
        }
        Err(error) => page.service_error(&error),
    }
}

/// The person's sentence about a record, in English, from the same facts the service's Chinese
/// sentence is made of: the state and its date in English, the legal bases, rules and facts as
/// the policy and the law word them (in Chinese: they are the law's own words).
fn explanation_in_english(record: &MyRecord, lang: Lang) -> String {
    let noun = if record.designation == "violation" {
        "violation record"
    } else {
        "record"
    };
    let date = record
        .state_date
        .as_deref()
        .and_then(|d| fengcun_domain::date::parse_date(d).ok())
        .map(|d| lang.date(d));
    // What the Chinese sentence cites (the instrument with its standing, the timing rule and
    // its basis), else the legal bases.
    let basis = if !record.grounds.is_empty() {
        format!(", on the basis of: {}", record.grounds)
    } else if record.basis.is_empty() {
        String::new()
    } else {
        format!(", on the basis of: {}", record.basis.join("; "))
    };
    match (record.state.as_str(), date) {
        ("sealed", Some(date)) => format!("This {noun} of yours was sealed on {date}{basis}."),
        ("pending_seal", Some(date)) => {
            format!(
                "This {noun} of yours qualifies for sealing and will be sealed on {date}{basis}."
            )
        }
        ("pending_seal", None) => format!(
            "This {noun} of yours qualifies for sealing; the date follows once the decision takes effect{basis}."
        ),
        ("not_eligible", _) if record.missing.is_empty() => {
            let rules: Vec<String> = record
                .failed_rules
                .iter()
                .map(|r| format!("{} ({})", r.text, r.basis))
                .collect();
            if rules.is_empty() {
                format!("This {noun} of yours does not meet the sealing policy's conditions.")
            } else {
                format!(
                    "This {noun} of yours does not qualify for sealing: {}.",
                    rules.join("; ")
                )
            }
        }
        ("unsealed" | "revoked", Some(date)) => {
            format!("The seal on this {noun} of yours was lifted on {date}{basis}.")
        }
        _ if !record.missing.is_empty() => {
            let missing: Vec<String> = record
                .missing
                .iter()
                .map(|m| format!("{} (to be supplied by {})", m.name, m.supplier))
                .collect();
            format!(
                "Whether this {noun} of yours is sealed cannot be decided yet: missing {}.",
                missing.join(", ")
            )
        }
        _ => format!(
            "The case of this {noun} is not closed yet; once its outcome takes effect, the platform decides under the sealing policy whether to seal it."
        ),
    }
}

#[derive(Template)]
#[template(path = "portal_notices.html")]
struct NoticesPage {
    ctx: Ctx,
    notices: Vec<NoticeView>,
}

pub async fn notices(State(state): State<AppState>, page: Page) -> Response {
    match portal::my_notices(&state, &page.caller).await {
        Ok(mine) => render(&NoticesPage {
            ctx: page.ctx,
            notices: mine.notices,
        }),
        Err(error) => page.service_error(&error),
    }
}

pub async fn notice(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    match portal::my_notice(&state, &page.caller, &id).await {
        Ok(n) => super::notices::document_page(page.ctx, n, "/console/me/notices"),
        Err(error) => page.service_error(&error),
    }
}

#[derive(Template)]
#[template(path = "portal_certificates.html")]
struct CertificatesPage {
    ctx: Ctx,
    notice: Option<Notice>,
    issued: Option<Issued>,
    certificates: Vec<MyCertificate>,
    purposes: &'static [(&'static str, &'static str)],
}

/// The purposes offered (the form also takes another typed in): the value, which the Chinese
/// certificate prints, and its English label.
const PURPOSES: &[(&str, &str)] = &[
    ("就业", "Employment"),
    ("入学", "School or university admission"),
    ("出国（境）", "Going abroad"),
    ("资格考试", "Qualification examination"),
    ("其他", "Other"),
];

impl CertificatesPage {
    fn purpose_label(&self, value: &'static str, english: &'static str) -> &'static str {
        match self.ctx.lang {
            Lang::Zh => value,
            Lang::En => english,
        }
    }

    /// A document's title in the reader's language (the document itself stays Chinese): its
    /// result code, and the title it was issued with.
    fn title_in(&self, result: &str, title: &str) -> String {
        match self.ctx.lang {
            Lang::Zh => title.to_owned(),
            Lang::En => fengcun_certificate::CertificateResult::english_title(result)
                .unwrap_or(title)
                .to_owned(),
        }
    }

    /// What `/verify` says of it today, in the reader's language.
    fn verification_of(&self, word: &str) -> String {
        let english = match word {
            "有效" => "Valid",
            "有效 · 不予出具无犯罪记录证明" => "Valid · a notice of refusal",
            "已过期" => "Expired",
            "尚未生效" => "Not yet valid",
            "无效" => "Invalid",
            _ => return word.to_owned(),
        };
        match self.ctx.lang {
            Lang::Zh => word.to_owned(),
            Lang::En => english.to_owned(),
        }
    }
}

async fn certificates_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
    issued: Option<Issued>,
) -> Response {
    match portal::my_certificates(state, &page.caller).await {
        Ok(mine) => (
            status,
            render(&CertificatesPage {
                ctx: page.ctx,
                notice,
                issued,
                certificates: mine.certificates,
                purposes: PURPOSES,
            }),
        )
            .into_response(),
        Err(error) => page.service_error(&error),
    }
}

pub async fn certificates(State(state): State<AppState>, page: Page) -> Response {
    certificates_with(&state, page, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    purpose: String,
}

pub async fn apply(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<ApplyForm>,
) -> Response {
    let application = MyApplication {
        id_number: form.id_number.trim().to_owned(),
        purpose: form.purpose.trim().to_owned(),
    };
    match portal::apply_certificate(&state, &page.caller, application).await {
        Ok(issued) => {
            let message = format!("{}{}", page.lang.t("portal.issued"), issued.number);
            certificates_with(
                &state,
                page,
                StatusCode::CREATED,
                Some(Notice { ok: true, message }),
                Some(issued),
            )
            .await
        }
        Err(error) => {
            let message = page.lang.error(&error);
            let status = crate::error::ApiError::status_of(&error);
            certificates_with(
                &state,
                page,
                status,
                Some(Notice { ok: false, message }),
                None,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "portal_enrol.html")]
struct EnrolPage {
    ctx: Ctx,
    notice: Option<Notice>,
    /// An enrolment this clerk just opened.
    opened: Option<EnrolmentOpened>,
    /// The code a confirmation just made.
    enrolled: Option<Enrolled>,
    /// The counter's enrolments waiting for a second clerk.
    waiting: Vec<WaitingEnrolment>,
    /// The form's input, kept when the counter refused it.
    form: EnrolForm,
}

/// The counter's page, for a counter's clerk only: anyone else gets the refusal the submission
/// would get (it once showed them a usable form, refused only when sent).
pub async fn enrol_page(State(state): State<AppState>, page: Page) -> Response {
    if let Err(error) = crate::service::portal::counter_only(&state, &page.caller).await {
        return page.service_error(&error);
    }
    enrol_answer(
        &state,
        page,
        StatusCode::OK,
        EnrolOutcome::default(),
        EnrolForm::default(),
    )
    .await
}

/// What a submission of the counter's page did, to show above its forms.
#[derive(Default)]
struct EnrolOutcome {
    notice: Option<Notice>,
    opened: Option<EnrolmentOpened>,
    enrolled: Option<Enrolled>,
}

/// The counter's page with the waiting enrolments read afresh.
async fn enrol_answer(
    state: &AppState,
    page: Page,
    status: StatusCode,
    outcome: EnrolOutcome,
    form: EnrolForm,
) -> Response {
    let waiting = match portal::waiting_enrolments(state, &page.caller).await {
        Ok(waiting) => waiting,
        Err(error) => return page.service_error(&error),
    };
    (
        status,
        render(&EnrolPage {
            ctx: page.ctx,
            notice: outcome.notice,
            opened: outcome.opened,
            enrolled: outcome.enrolled,
            waiting,
            form,
        }),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct EnrolForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
}

impl EnrolForm {
    fn request(&self) -> EnrolRequest {
        EnrolRequest {
            id_number: self.id_number.clone(),
            name: self.name.clone(),
        }
    }
}

/// The first clerk opens an enrolment.
pub async fn enrol(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<EnrolForm>,
) -> Response {
    match portal::enrol(&state, &page.caller, form.request()).await {
        Ok(opened) => {
            let outcome = EnrolOutcome {
                opened: Some(opened),
                ..EnrolOutcome::default()
            };
            enrol_done(&state, page, outcome).await
        }
        Err(error) => enrol_refused(&state, page, error, form).await,
    }
}

/// The second clerk confirms an enrolment of the counter: the code is shown, once.
pub async fn confirm_enrolment(
    State(state): State<AppState>,
    Path(enrolment): Path<String>,
    page: Page,
    Form(form): Form<EnrolForm>,
) -> Response {
    match portal::confirm_enrolment(&state, &page.caller, &enrolment, form.request()).await {
        Ok(enrolled) => {
            let outcome = EnrolOutcome {
                enrolled: Some(enrolled),
                ..EnrolOutcome::default()
            };
            enrol_done(&state, page, outcome).await
        }
        // The typed number stays out of the first form: it was typed for this enrolment.
        Err(error) => enrol_refused(&state, page, error, EnrolForm::default()).await,
    }
}

/// The counter's page after a step that was taken: its outcome above empty forms.
async fn enrol_done(state: &AppState, page: Page, outcome: EnrolOutcome) -> Response {
    enrol_answer(
        state,
        page,
        StatusCode::CREATED,
        outcome,
        EnrolForm::default(),
    )
    .await
}

async fn enrol_refused(
    state: &AppState,
    page: Page,
    error: crate::service::ServiceError,
    form: EnrolForm,
) -> Response {
    // Anyone but a counter's clerk gets the page's refusal; a clerk sees why above the forms.
    if let crate::service::ServiceError::Refused(_) = &error
        && !portal::may_enrol(&page.caller)
    {
        return page.service_error(&error);
    }
    let message = match &error {
        crate::service::ServiceError::NotFound => page.lang.t("enrol.not_found").to_owned(),
        // A counter's clerk refused: the one refusal they meet is confirming their own enrolment.
        crate::service::ServiceError::Refused(_) => page.lang.t("enrol.same_clerk").to_owned(),
        other => page.lang.error(other),
    };
    let status = crate::error::ApiError::status_of(&error);
    let outcome = EnrolOutcome {
        notice: Some(Notice { ok: false, message }),
        ..EnrolOutcome::default()
    };
    enrol_answer(state, page, status, outcome, form).await
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    ctx: Ctx,
    notice: Option<Notice>,
    done: bool,
}

/// `/activate`: public, like the login page.
/// The activation page with a fresh form token (and its cookie).
fn activation_form(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    notice: Option<Notice>,
    done: bool,
) -> Response {
    let (token, cookie) = super::ACTIVATE_FORM.issue(state);
    let mut ctx = anonymous_ctx(lang, "/activate");
    ctx.csrf = token;
    (
        status,
        [(axum::http::header::SET_COOKIE, cookie)],
        render(&ActivatePage { ctx, notice, done }),
    )
        .into_response()
}

pub async fn activate_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = super::lang_of(&headers);
    activation_form(&state, lang, StatusCode::OK, None, false)
}

#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
}

pub async fn activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ActivateForm>,
) -> Response {
    let lang = super::lang_of(&headers);
    if !super::ACTIVATE_FORM.accepts(&state, &headers).await {
        let notice = Notice {
            ok: false,
            message: lang.t("error.csrf").to_owned(),
        };
        return activation_form(&state, lang, StatusCode::FORBIDDEN, Some(notice), false);
    }
    let request = ActivateRequest {
        code: form.code,
        id_number: form.id_number,
        password: form.password,
    };
    let (status, notice, done) = match portal::activate(&state, request).await {
        Ok(_) => (
            StatusCode::OK,
            Notice {
                ok: true,
                message: lang.t("activate.done").to_owned(),
            },
            true,
        ),
        Err(error) => (
            crate::error::ApiError::status_of(&error),
            Notice {
                ok: false,
                message: lang.error(&error),
            },
            false,
        ),
    };
    activation_form(&state, lang, status, Some(notice), done)
}
