//! The officials' console under `/console/`: server-rendered pages (askama templates in
//! `crates/server/templates/`, htmx for partial updates) over the same service layer as the JSON
//! API. A view parses the form, calls the service function the API's handler calls, and renders
//! its answer; role checks, audit entries and disclosure rules stay in `crate::service`.
//!
//! - Sessions are the API's cookie sessions (`crate::auth`); a page's [`Page`] extractor is the
//!   API's `Caller` extractor, answering an anonymous visitor with the login page (or 401 for an
//!   htmx fragment).
//! - Every changing form carries the session's CSRF token: a hidden `csrf_token` field (moved
//!   into the `X-CSRF-Token` header by [`form_token`] before the `Caller` extractor checks it, so
//!   the check and its audit entry are the API's) and, for htmx, `hx-headers` on the body.
//! - Security headers on every console response ([`security_headers`]); pages are `no-store`,
//!   the static files immutable under versioned names.

mod answer_text;
mod dashboard;
pub mod i18n;
mod identity;
mod lookup;
// The person's who looked and corrections, the clerks' correction queue (i17-looked).
mod looked;
mod looked_text;
mod records;
mod requests;
// The pages of notices, audit, policy and simulation.
mod audit;
mod notices;
mod pages_text;
mod policy;
mod simulation;
// The person's own portal.
mod portal;
mod portal_text;
mod supervision;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::auth::{CSRF_HEADER, cookie};
use crate::config::Role;
use crate::error::ApiError;
use crate::service::{Caller, ServiceError};
pub use i18n::Lang;

/// The cookie holding the session's CSRF token for the console to put in its forms (HttpOnly,
/// SameSite=Strict: the browser sends it back, no script and no other site reads it). The
/// session stores only its digest.
pub const CSRF_COOKIE: &str = "fengcun_csrf";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// htmx 2.0.11, `dist/htmx.min.js` of the npm package `htmx.org@2.0.11` (BSD-2-Clause, its
/// licence in `static/htmx-LICENSE`), vendored unchanged:
/// SHA-256 d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
/// (npm dist.integrity sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==).
/// The file name carries the version, so the answer may be cached for good.
const HTMX: &str = include_str!("../../static/htmx-2.0.11.min.js");
pub const HTMX_PATH: &str = "/console/static/htmx-2.0.11.min.js";
const STYLESHEET: &str = include_str!("../../static/console.css");

/// The stylesheet's address, named by its content's digest (so that it may be cached for good).
pub fn stylesheet_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let digest = crate::config::key_digest(STYLESHEET);
        format!("/console/static/console.{}.css", &digest[..12])
    })
}

/// No script but our own files, no inline script or style, no framing, forms only to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(dashboard::home))
        .route(
            "/console/login",
            get(identity::login_page).post(identity::login),
        )
        .route("/console/logout", post(identity::logout))
        .route(
            "/console/lang/{code}",
            get(identity::switch_language).post(identity::keep_language),
        )
        .route(
            "/console/password",
            get(identity::password_page).post(identity::change_password),
        )
        .route(
            "/console/users",
            get(identity::users_page).post(identity::create_user),
        )
        .route(
            "/console/users/{username}/disable",
            post(identity::disable_user),
        )
        .route(
            "/console/users/{username}/enable",
            post(identity::enable_user),
        )
        .route(
            "/console/users/{username}/password",
            post(identity::reset_password),
        )
        .route("/console/keys", post(identity::create_key))
        .route("/console/keys/{id}/revoke", post(identity::revoke_key))
        .route(
            "/console/requests",
            get(requests::page).post(requests::create),
        )
        .route("/console/requests/{id}/approve", post(requests::approve))
        .route("/console/requests/{id}/refuse", post(requests::refuse))
        .route("/console/grants/{id}/revoke", post(requests::revoke_grant))
        .route("/console/lookup", get(lookup::page).post(lookup::lookup))
        // The person's own portal, the counter's enrolment, the public activation page.
        .route("/console/me", get(portal::records))
        .route("/console/me/notices", get(portal::notices))
        .route("/console/me/notices/{id}", get(portal::notice))
        .route(
            "/console/me/certificates",
            get(portal::certificates).post(portal::apply),
        )
        .route(
            "/console/enrol",
            get(portal::enrol_page).post(portal::enrol),
        )
        .route(
            "/console/enrol/{enrolment}/confirm",
            post(portal::confirm_enrolment),
        )
        .route(
            "/activate",
            get(portal::activate_page).post(portal::activate),
        )
        // Notices, audit, policy, simulation.
        .route("/console/notices", get(notices::page))
        .route("/console/notices/{id}", get(notices::document))
        .route("/console/notices/{id}/retry", post(notices::retry))
        .route("/console/audit", get(audit::page))
        .route("/console/audit/verify", post(audit::verify))
        .route("/console/audit/sign", post(audit::sign))
        .route("/console/audit/proof/{seq}", get(audit::proof))
        .route("/console/audit/heads", get(audit::heads_file))
        .route("/console/audit/public-key", get(audit::public_key))
        .route("/console/policy", get(policy::page))
        .route("/console/policy/preview", post(policy::preview))
        .route("/console/policy/apply", post(policy::apply))
        .route(
            simulation::PATH,
            get(simulation::page)
                .post(simulation::start)
                .layer(axum::extract::DefaultBodyLimit::max(simulation::MAX_BODY)),
        )
        .route("/console/simulation/{id}", get(simulation::job))
        .route(
            "/console/simulation/{id}/files/{file}",
            get(simulation::file),
        )
        // Records and a record's timeline (i16-dash).
        .route(supervision::PATH, get(supervision::page))
        .route("/console/supervision/{id}", get(supervision::flag))
        .route(
            "/console/supervision/{id}/review",
            post(supervision::review),
        )
        .route("/console/records", get(records::page))
        .route("/console/records/search", get(records::search))
        .route("/console/records/{case_code}", get(records::timeline))
        // Who looked, corrections (i17-looked).
        .route(looked::LOOKED_PATH, get(looked::looked_page))
        .route(
            looked::CORRECTIONS_PATH,
            get(looked::corrections_page).post(looked::create_correction),
        )
        .route(looked::QUEUE_PATH, get(looked::queue_page))
        .route(
            "/console/correction-queue/{id}/answer",
            post(looked::answer),
        )
        .route("/console/static/{file}", get(static_file))
        // Only the console's own unknown addresses: a fallback would answer the API's too.
        .route("/console/{*rest}", get(not_found).post(not_found))
        .layer(axum::middleware::from_fn(form_token))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ));
    // Every page may show personal data: none is kept by the browser or a proxy (the static files
    // set their own, immutable), none framed.
    crate::headers::private_answers(router).with_state(state)
}

/// An unknown console address: the page says so (after the session check, so that an anonymous
/// visitor learns nothing of what exists).
async fn not_found(page: Page) -> Response {
    page.error_page(StatusCode::NOT_FOUND, page.lang.t("error.not_found"))
}

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind) = if file == HTMX_PATH.rsplit('/').next().unwrap_or_default() {
        (HTMX, "text/javascript; charset=utf-8")
    } else if Some(file.as_str()) == stylesheet_path().rsplit('/').next() {
        (STYLESHEET, "text/css; charset=utf-8")
    } else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

/// A console form posts its CSRF token as the `csrf_token` field; the API's `Caller` extractor
/// reads it from the `X-CSRF-Token` header. This moves the field into the header (a request
/// that already has the header, as htmx's do, is left alone), so that one check — with its audit
/// entry — guards both faces.
async fn form_token(request: Request, next: Next) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    // The simulation's form is multipart (a file), with its own bound.
    let is_multipart =
        content_type.starts_with("multipart/form-data") && request.uri().path() == simulation::PATH;
    if request.method() != axum::http::Method::POST
        || !(is_form || is_multipart)
        || request.headers().contains_key(CSRF_HEADER)
    {
        return next.run(request).await;
    }
    let limit = if is_multipart {
        simulation::MAX_BODY
    } else {
        64 * 1024
    };
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
    };
    let token = if is_multipart {
        simulation::multipart(&content_type, &bytes)
            .await
            .and_then(|fields| fields.into_iter().find(|p| p.name == CSRF_FIELD))
            .and_then(|p| String::from_utf8(p.data).ok())
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(key, _)| key == CSRF_FIELD)
                    .map(|(_, value)| value)
            })
    };
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        parts
            .headers
            .insert(HeaderName::from_static(CSRF_HEADER), value);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A menu entry.
#[derive(Debug, Clone)]
pub struct Nav {
    pub href: &'static str,
    /// The text key of its label.
    pub key: &'static str,
    pub current: bool,
}

/// What every page shows around its content: the language, who is logged in, the menu their
/// role allows, the CSRF token for its forms.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub username: String,
    pub role: String,
    pub csrf: String,
    pub nav: Vec<Nav>,
    /// The page's path, for the language switch to come back to.
    pub path: String,
    pub css: &'static str,
    pub js: &'static str,
    /// `{"X-CSRF-Token": "…"}` for `hx-headers`.
    pub hx_headers: String,
}

impl Ctx {
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
    /// The punctuation around a label and a parenthesis: full-width in Chinese (`状态：`,
    /// `（5）`), Latin in English (`State: `, ` (5)`).
    pub fn colon(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "：",
            Lang::En => ": ",
        }
    }
    pub fn lp(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "（",
            Lang::En => " (",
        }
    }
    pub fn rp(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "）",
            Lang::En => ")",
        }
    }
    pub fn comma(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "，",
            Lang::En => ", ",
        }
    }
    pub fn time(&self, text: &str) -> String {
        self.lang.time(text)
    }
    pub fn role_text(&self, role: &str) -> &'static str {
        self.lang.role(role)
    }
    pub fn code_text(&self, group: &str, code: &str) -> String {
        self.lang.code_text(group, code)
    }
    /// A notice's last delivery failure, kept in English, said in the reader's language; the
    /// transport's own words stay as the technical detail an operator needs.
    pub fn delivery_error(&self, kept: &str) -> String {
        use crate::outbox::DeliveryFailure as F;
        let failure = F::read(kept);
        match (self.lang, failure) {
            (Lang::Zh, F::NoEndpoint(agency)) => {
                format!("机关 {agency} 未配置接收地址，无法投递")
            }
            (Lang::Zh, F::Unreadable(detail)) => {
                format!("通知书内容无法读取（技术信息：{detail}）")
            }
            (Lang::Zh, F::Unsigned(detail)) => format!("通知书无法签名（技术信息：{detail}）"),
            (Lang::Zh, F::Unreachable(detail)) => {
                format!("无法连接接收地址（技术信息：{detail}）")
            }
            (Lang::Zh, F::Refused(status)) => format!("接收方未接收，返回 HTTP {status}"),
            (Lang::En, F::NoEndpoint(agency)) => {
                format!("No endpoint is configured for agency {agency}")
            }
            (Lang::En, F::Unreachable(detail)) => {
                format!("The endpoint could not be reached ({detail})")
            }
            (Lang::En, failure) => failure.to_string(),
        }
    }
    /// The language the switch offers.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }
    pub fn logged_in(&self) -> bool {
        !self.username.is_empty()
    }
}

/// Which menu entries a role has: what its role may do, as the service layer decides it. A
/// public-security clerk (the counter where persons are enrolled) has 本人账户开通 too; a court's
/// counter opens `/console/enrol` by its address (docs/person.md).
pub fn menu(role: Role, kind: Option<fengcun_access::RequesterKind>, here: &str) -> Vec<Nav> {
    let askers = [Role::Clerk, Role::Approver, Role::Requester, Role::Agency];
    if role == Role::Person {
        // The person's own pages, and nothing else (docs/person.md).
        return [
            ("/console/me", "nav.my_records"),
            ("/console/me/notices", "nav.my_notices"),
            ("/console/me/certificates", "nav.my_certificates"),
            (looked::LOOKED_PATH, "nav.looked"),
            (looked::CORRECTIONS_PATH, "nav.corrections"),
            ("/console/password", "nav.password"),
        ]
        .into_iter()
        .map(|(href, key)| Nav {
            href,
            key,
            current: href == here,
        })
        .collect();
    }
    let mut entries = vec![("/console/", "nav.home")];
    if askers.contains(&role) {
        entries.push(("/console/lookup", "nav.lookup"));
    }
    if askers.contains(&role) || role == Role::Auditor {
        entries.push(("/console/requests", "nav.requests"));
    }
    // Records (i16-dash): clerks find cases and read timelines, operators list every record.
    if dashboard::RECORD_READERS.contains(&role) {
        entries.push(("/console/records", "nav.records"));
    }
    // As the enrolment service allows (`portal::may_enrol`): a public-security or court clerk.
    if role == Role::Clerk
        && matches!(
            kind,
            Some(
                fengcun_access::RequesterKind::PublicSecurity
                    | fengcun_access::RequesterKind::Court
            )
        )
    {
        entries.push(("/console/enrol", "nav.enrol"));
    }
    if role == Role::Administrator {
        entries.push(("/console/users", "nav.users"));
    }
    // Notices, audit, policy, simulation.
    if role == Role::Operator {
        entries.push(("/console/notices", "nav.notices"));
        entries.push(("/console/policy", "nav.policy"));
    }
    if crate::service::simulation::SIMULATORS.contains(&role) {
        entries.push((simulation::PATH, "nav.simulation"));
    }
    if role == Role::Auditor {
        entries.push(("/console/audit", "nav.audit"));
    }
    if role == Role::Supervisor {
        entries.push((supervision::PATH, "nav.supervision"));
    }
    entries.push(("/console/password", "nav.password"));
    entries
        .into_iter()
        .map(|(href, key)| Nav {
            href,
            key,
            current: href == here,
        })
        .collect()
}

fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    cookie(headers, i18n::LANG_COOKIE)
        .and_then(|c| Lang::from_code(&c))
        .unwrap_or_default()
}

fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// A page's caller and context. An anonymous visitor is sent to the login page (401 for an
/// htmx fragment); a change without its CSRF token is refused (and audited by the extractor).
#[derive(Debug)]
pub struct Page {
    pub caller: Caller,
    pub ctx: Ctx,
    pub lang: Lang,
    pub htmx: bool,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = lang_of(&parts.headers);
        let htmx = is_htmx(&parts.headers);
        let caller = match Caller::from_request_parts(parts, state).await {
            Ok(caller) => caller,
            Err(ApiError::Service(ServiceError::Unauthenticated)) => {
                return Err(if htmx {
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        lang.t("error.unauthenticated"),
                    )
                        .into_response()
                } else {
                    Redirect::to("/console/login").into_response()
                });
            }
            Err(ApiError::Csrf) => {
                let ctx = anonymous_ctx(lang, parts.uri.path());
                return Err(error_response(
                    &ctx,
                    StatusCode::FORBIDDEN,
                    lang.t("error.csrf"),
                ));
            }
            Err(other) => {
                let ctx = anonymous_ctx(lang, parts.uri.path());
                return Err(error_response(
                    &ctx,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &match other {
                        ApiError::Service(service) => lang.error(&service),
                        _ => lang.t("error.internal").to_owned(),
                    },
                ));
            }
        };
        // The language the user chose, kept with the user, wins over the browser's cookie.
        let lang = match crate::service::identity::language(state, &caller).await {
            Ok(Some(code)) => Lang::from_code(&code).unwrap_or(lang),
            _ => lang,
        };
        let csrf = cookie(&parts.headers, CSRF_COOKIE).unwrap_or_default();
        let path = parts.uri.path().to_owned();
        let username = caller
            .name
            .strip_prefix("user:")
            .unwrap_or(&caller.name)
            .to_owned();
        let mut nav = menu(caller.role, caller.kind, &path);
        // A clerk's queue of correction requests (i17-looked) is in the menu while requests
        // addressed to their agency wait for an answer, and on the queue itself.
        if looked::queue_in_menu(state, &caller, &path).await {
            let at = nav.len().saturating_sub(1);
            nav.insert(
                at,
                Nav {
                    href: looked::QUEUE_PATH,
                    key: "nav.correction_queue",
                    current: path == looked::QUEUE_PATH,
                },
            );
        }
        let ctx = Ctx {
            lang,
            username,
            role: caller.role.code().to_owned(),
            hx_headers: serde_json::json!({ "X-CSRF-Token": csrf }).to_string(),
            csrf,
            nav,
            path,
            css: stylesheet_path(),
            js: HTMX_PATH,
        };
        Ok(Page {
            caller,
            ctx,
            lang,
            htmx,
        })
    }
}

/// A form shown before any session exists — the login, a person's activation — carries a token
/// of its own: its page sets it in a cookie (`HttpOnly; SameSite=Strict`, only for the form's
/// address) and in the form, and the form is taken only when both agree (a double-submit token).
/// Without it another site could post its own account's password into an official's browser,
/// who would then work — and be audited — as that account.
#[derive(Debug)]
pub struct AnonymousForm {
    pub cookie: &'static str,
    pub path: &'static str,
}

pub const LOGIN_FORM: AnonymousForm = AnonymousForm {
    cookie: "fengcun_login_csrf",
    path: "/console/login",
};

pub const ACTIVATE_FORM: AnonymousForm = AnonymousForm {
    cookie: "fengcun_activate_csrf",
    path: "/activate",
};

/// How long an anonymous form's token serves (seconds).
const ANONYMOUS_FORM_SECONDS: u32 = 3600;

impl AnonymousForm {
    /// A fresh token, and the `Set-Cookie` value that goes with it.
    pub fn issue(&self, state: &AppState) -> (String, HeaderValue) {
        let token = fengcun_crypto::random_hex::<16>();
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = HeaderValue::from_str(&format!(
            "{}={token}; HttpOnly; SameSite=Strict; Path={}; Max-Age={ANONYMOUS_FORM_SECONDS}{secure}",
            self.cookie, self.path
        ))
        .unwrap_or(HeaderValue::from_static(""));
        (token, cookie)
    }

    /// Whether the posted token (moved into `X-CSRF-Token` by [`form_token`]) is the cookie's; a
    /// refusal is audited.
    pub async fn accepts(&self, state: &AppState, headers: &axum::http::HeaderMap) -> bool {
        let given = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let expected = cookie(headers, self.cookie);
        let agree = match (given, expected.as_deref()) {
            (Some(given), Some(expected)) => {
                !expected.is_empty()
                    && crate::auth::constant_time_eq(given.as_bytes(), expected.as_bytes())
            }
            _ => false,
        };
        if !agree {
            if let Err(error) = crate::auth::refuse_anonymous_form(state, self.path).await {
                tracing::warn!(%error, "a refused form could not be audited");
            }
        }
        agree
    }
}

/// The public page a phone opens from a certificate's QR code (`/verify`): the verdict in large
/// type, the certificate's kind and its holder as the paper shows them (the identity number
/// masked) — nothing else. Rendered here, with the console's stylesheet, so that the service layer
/// answers data only.
#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage<'a> {
    css: &'static str,
    class: &'static str,
    word: &'static str,
    outcome: &'static str,
    message: &'a str,
    /// The document's kind (证明 or 通知书), above the verdict.
    title: Option<&'a str>,
    rows: Vec<(&'static str, &'a str)>,
}

pub fn verify_page(result: &crate::service::certificates::Verification) -> String {
    let (class, word) = crate::service::certificates::verdict(result);
    let rows = result
        .verified
        .as_ref()
        .map(|v| {
            vec![
                ("证明名称", v.title.as_str()),
                ("查询结果", v.result_chinese.as_str()),
                ("持证人", v.name.as_str()),
                ("身份证号", v.id_masked.as_str()),
                ("状态", v.validity.as_str()),
            ]
        })
        .unwrap_or_default();
    VerifyPage {
        css: stylesheet_path(),
        class,
        word,
        outcome: if result.valid { "valid" } else { "invalid" },
        message: &result.message,
        title: result.verified.as_ref().map(|v| v.title.as_str()),
        rows,
    }
    .render()
    .unwrap_or_default()
}

pub fn anonymous_ctx(lang: Lang, path: &str) -> Ctx {
    Ctx {
        lang,
        username: String::new(),
        role: String::new(),
        csrf: String::new(),
        nav: Vec::new(),
        path: path.to_owned(),
        css: stylesheet_path(),
        js: HTMX_PATH,
        hx_headers: "{}".to_owned(),
    }
}

impl Page {
    /// The error page (or, for htmx, the message alone) with `status`.
    pub fn error_page(&self, status: StatusCode, message: &str) -> Response {
        if self.htmx {
            return (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                Notice {
                    ok: false,
                    message: message.to_owned(),
                }
                .render()
                .unwrap_or_default(),
            )
                .into_response();
        }
        error_response(&self.ctx, status, message)
    }

    /// A service error as a page: 403 for a refusal, 404, 409, 422; the message in the page's
    /// language naming the field.
    pub fn service_error(&self, error: &ServiceError) -> Response {
        let status = ApiError::status_of(error);
        self.error_page(status, &self.lang.error(error))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: &'a Ctx,
    message: &'a str,
}

/// A one-line answer to an htmx request (and the flash message of a page).
#[derive(Debug, Template)]
#[template(path = "notice.html")]
pub struct Notice {
    pub ok: bool,
    pub message: String,
}

pub fn error_response(ctx: &Ctx, status: StatusCode, message: &str) -> Response {
    let page = ErrorPage { ctx, message };
    (status, render(&page)).into_response()
}

/// A template rendered as an HTML response (a template that fails to render is a 500).
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(error) => {
            tracing::error!(%error, "console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The form field `value`, trimmed; `None` when empty (an optional field left blank).
pub fn optional(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A state is what the handler's `State` extractor needs; the alias keeps signatures short.
pub type St = State<AppState>;
