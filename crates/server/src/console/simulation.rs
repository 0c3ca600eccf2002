//! Policy simulation (operators): a shipped synthetic data set or an uploaded record-facts
//! NDJSON, the policies to compare, then the comparison table, the SVG chart and the CSV files
//! that `fengcun simulate` makes (`fengcun_simulate::Comparison`). A run is a job in memory
//! (`service::simulation`); its page polls it with htmx (`hx-trigger="every 1s"`) until done.
//!
//! The form is multipart (a file): it carries its own body bound ([`MAX_BODY`]) on its route and
//! in `form_token`, which reads its `csrf_token` part as it reads a urlencoded form's field.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Ctx, Lang, Notice, Page, render};
use crate::AppState;
use crate::service::ServiceError;
use crate::service::simulation::{
    self, Data, Job, JobStatus, MAX_UPLOAD, PolicyChoice, SimulationRequest,
};

/// The form's address.
pub const PATH: &str = "/console/simulation";
/// The form's body bound: the upload and the few other fields.
pub const MAX_BODY: usize = MAX_UPLOAD + 64 * 1024;
/// Charges shown in the page's table (all are in the CSV).
const TOP_CHARGES: usize = 15;

/// A part of a `multipart/form-data` body.
pub struct Part {
    pub name: String,
    pub data: Vec<u8>,
}

/// The parts of a `multipart/form-data` body (RFC 7578, read by `multer`, the parser axum's own
/// multipart extractor uses); `None` when it is not one or is malformed.
pub async fn multipart(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let body = bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut reader = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = reader.next_field().await.ok()? {
        let name = field.name()?.to_owned();
        let data = field.bytes().await.ok()?.to_vec();
        parts.push(Part { name, data });
    }
    Some(parts)
}

#[derive(Template)]
#[template(path = "simulation.html")]
struct SimulationPage {
    ctx: Ctx,
    notice: Option<Notice>,
    policies: Vec<PolicyChoice>,
    /// The job's fragment, when the page shows one.
    job: Option<String>,
}

/// A row of the page's tables: a label and one count per policy.
struct TableRow {
    label: String,
    convicted: u64,
    sealed: Vec<u64>,
}

#[derive(Template)]
#[template(path = "simulation_job.html")]
struct JobFragment<'a> {
    ctx: &'a Ctx,
    job: &'a Job,
    /// What the run read, in the page's language.
    source: String,
    status: JobStatus,
    percent: u64,
    /// A finished comparison's rows.
    bands: Vec<TableRow>,
    charges: Vec<TableRow>,
    /// Per policy (in the comparison's order): whether it decides criminal records — a violation
    /// policy's criminal counts are not zeros but not applicable.
    decides_criminal: Vec<bool>,
    /// The violation records' rows, apart from the criminal ones, and by disposition (the
    /// `convicted` column holding the records of that disposition).
    violations: Vec<ViolationPolicyRow>,
    violation_dispositions: Vec<TableRow>,
    files: Vec<&'static str>,
}

/// What one policy says of the violation records.
struct ViolationPolicyRow {
    name: String,
    title: String,
    in_scope: bool,
    sealed: u64,
    share: f64,
    sealed_now: u64,
    not_eligible: u64,
    needs_facts: u64,
}

fn fragment(ctx: &Ctx, job: &Job) -> String {
    let status = job.status();
    let (mut bands, mut charges, mut files) = (Vec::new(), Vec::new(), Vec::new());
    let (mut decides_criminal, mut violations, mut violation_dispositions) =
        (Vec::new(), Vec::new(), Vec::new());
    if let JobStatus::Done(comparison) = &status {
        let rows = |rows: &[fengcun_simulate::report::Row], take: usize| {
            rows.iter()
                .take(take)
                .map(|r| TableRow {
                    label: r.label.clone(),
                    convicted: r.convicted,
                    sealed: r.sealed.clone(),
                })
                .collect::<Vec<_>>()
        };
        bands = rows(&comparison.by_band, usize::MAX);
        if ctx.lang == Lang::En {
            for band in &mut bands {
                band.label = fengcun_simulate::report::band_in_english(&band.label).to_owned();
            }
        }
        charges = rows(&comparison.by_charge, TOP_CHARGES);
        files = comparison.csv().into_iter().map(|(name, _)| name).collect();
        decides_criminal = comparison.violations.iter().map(|v| !v.in_scope).collect();
        violations = comparison
            .policies
            .iter()
            .zip(&comparison.violations)
            .map(|(p, v)| ViolationPolicyRow {
                name: v.name.clone(),
                title: p.title.clone(),
                in_scope: v.in_scope,
                sealed: v.sealed,
                share: v.share,
                sealed_now: v.sealed_now,
                not_eligible: v.not_eligible,
                needs_facts: v.needs_facts,
            })
            .collect();
        // The rows come in the order of `VIOLATION_DISPOSITIONS`: its codes name them in the
        // page's language.
        violation_dispositions = fengcun_simulate::report::VIOLATION_DISPOSITIONS
            .iter()
            .zip(&comparison.violations_by_disposition)
            .map(|((disposition, _), row)| TableRow {
                label: ctx.lang.code_text("answer.disposition", disposition.code()),
                convicted: row.records,
                sealed: row.sealed.clone(),
            })
            .collect();
    }
    let source = match job.source {
        crate::service::simulation::Source::Synthetic { records, seed } => format!(
            "{} {records}{}{}{seed}{}",
            ctx.t("sim.synthetic"),
            ctx.lp(),
            ctx.t("sim.seed"),
            ctx.rp()
        ),
        crate::service::simulation::Source::Upload { bytes } => format!(
            "{}{}{bytes} {}{}",
            ctx.t("sim.upload"),
            ctx.lp(),
            ctx.t("sim.bytes"),
            ctx.rp()
        ),
    };
    JobFragment {
        source,
        ctx,
        job,
        percent: job.percent(),
        status,
        bands,
        charges,
        decides_criminal,
        violations,
        violation_dispositions,
        files,
    }
    .render()
    .unwrap_or_default()
}

async fn page_with(
    state: &AppState,
    page: Page,
    status: StatusCode,
    notice: Option<Notice>,
    job: Option<&Job>,
) -> Response {
    let policies = match simulation::choices(state, &page.caller).await {
        Ok(policies) => policies,
        Err(error) => return page.service_error(&error),
    };
    let job = job.map(|job| fragment(&page.ctx, job));
    let html = SimulationPage {
        ctx: page.ctx,
        notice,
        policies,
        job,
    };
    (status, render(&html)).into_response()
}

pub async fn page(State(state): State<AppState>, page: Page) -> Response {
    page_with(&state, page, StatusCode::OK, None, None).await
}

/// The form read from its parts.
async fn request(headers: &HeaderMap, body: &[u8]) -> Result<SimulationRequest, ServiceError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let parts = multipart(content_type, body).await.ok_or_else(|| {
        ServiceError::Invalid("file: the form must be sent as multipart/form-data".into())
    })?;
    let text = |part: &Part| String::from_utf8_lossy(&part.data).trim().to_owned();
    let field = |name: &str| parts.iter().find(|p| p.name == name).map(text);
    let policies = parts
        .iter()
        .filter(|p| p.name == "policies")
        .map(text)
        .filter(|p| !p.is_empty())
        .collect();
    let size = field("size").unwrap_or_default();
    let data = if size == "upload" {
        let file = parts
            .iter()
            .find(|p| p.name == "file")
            .map(|p| p.data.clone())
            .unwrap_or_default();
        Data::Upload(file)
    } else {
        let records = size
            .parse::<u64>()
            .map_err(|_| ServiceError::Invalid(format!("size: `{size}` is not a data set size")))?;
        Data::Synthetic(records)
    };
    Ok(SimulationRequest {
        data,
        policies,
        as_of: field("as_of"),
    })
}

pub async fn start(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = match request(&headers, &body).await {
        Ok(request) => simulation::start(&state, &page.caller, request).await,
        Err(error) => Err(error),
    };
    match started {
        Ok(id) => {
            let address = format!("{PATH}/{id}");
            if page.htmx {
                // The job's fragment in place, the address bar on the job's page.
                match simulation::job(&state, &page.caller, id, false).await {
                    Ok(job) => (
                        [("hx-push-url", address.as_str())],
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        fragment(&page.ctx, &job),
                    )
                        .into_response(),
                    Err(error) => page.service_error(&error),
                }
            } else {
                Redirect::to(&address).into_response()
            }
        }
        Err(error) => {
            let status = crate::error::ApiError::status_of(&error);
            if status == StatusCode::FORBIDDEN || page.htmx {
                return page.service_error(&error);
            }
            let message = page.lang.error(&error);
            page_with(
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

#[derive(Deserialize)]
pub struct JobQuery {
    /// Wait (a few seconds at most) for the run to finish before answering.
    #[serde(default)]
    wait: Option<String>,
}

/// A job's page (for htmx, its fragment alone: what the polling swaps in).
pub async fn job(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<u64>,
    Query(query): Query<JobQuery>,
) -> Response {
    let job = match simulation::job(&state, &page.caller, id, query.wait.is_some()).await {
        Ok(job) => job,
        Err(error) => return page.service_error(&error),
    };
    if page.htmx {
        return (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            fragment(&page.ctx, &job),
        )
            .into_response();
    }
    page_with(&state, page, StatusCode::OK, None, Some(&job)).await
}

/// A finished job's CSV file or its chart, to download.
pub async fn file(
    State(state): State<AppState>,
    page: Page,
    Path((id, file)): Path<(u64, String)>,
) -> Response {
    let job = match simulation::job(&state, &page.caller, id, false).await {
        Ok(job) => job,
        Err(error) => return page.service_error(&error),
    };
    let JobStatus::Done(comparison) = job.status() else {
        return page.error_page(StatusCode::NOT_FOUND, page.lang.t("error.not_found"));
    };
    if file == "chart.svg" {
        return (
            [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
            comparison.svg_in(match page.lang {
                Lang::Zh => fengcun_simulate::report::ChartLang::Zh,
                Lang::En => fengcun_simulate::report::ChartLang::En,
            }),
        )
            .into_response();
    }
    match comparison.csv().into_iter().find(|(name, _)| *name == file) {
        Some((name, content)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            content,
        )
            .into_response(),
        None => page.error_page(StatusCode::NOT_FOUND, page.lang.t("error.not_found")),
    }
}
