//! Prometheus metrics at `/metrics`, written by hand: a few counters and the store's gauges.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use fengcun_store::{Counts, LineOutcome};

use crate::AppState;

#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    events_stored: AtomicU64,
    events_duplicate: AtomicU64,
    pub(crate) notices_delivered: AtomicU64,
    pub(crate) notices_failed: AtomicU64,
    pub(crate) logins_throttled: AtomicU64,
    pub(crate) scheduler_failures: AtomicU64,
}

impl Metrics {
    pub fn events(&self, outcome: LineOutcome) {
        match outcome {
            LineOutcome::Stored => self.events_stored.fetch_add(1, Ordering::Relaxed),
            LineOutcome::Duplicate => self.events_duplicate.fetch_add(1, Ordering::Relaxed),
        };
    }
}

pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics.requests.fetch_add(1, Ordering::Relaxed);
    if response.status().is_client_error() {
        metrics.client_errors.fetch_add(1, Ordering::Relaxed);
    } else if response.status().is_server_error() {
        metrics.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    response
}

impl Metrics {
    /// The Prometheus text exposition of the counters and of the store's `counts`.
    pub fn render(&self, counts: &Counts) -> String {
        let m = self;
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        };
        counter(
            "fengcun_http_requests_total",
            "HTTP requests answered.",
            m.requests.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_http_client_errors_total",
            "HTTP 4xx answers.",
            m.client_errors.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_http_server_errors_total",
            "HTTP 5xx answers.",
            m.server_errors.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_events_stored_total",
            "Events stored since start.",
            m.events_stored.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_events_duplicate_total",
            "Events received again since start.",
            m.events_duplicate.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_notices_delivered_total",
            "Notices delivered since start.",
            m.notices_delivered.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_notice_delivery_failures_total",
            "Failed notice deliveries since start.",
            m.notices_failed.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_logins_throttled_total",
            "Logins refused because their username was locked after too many attempts.",
            m.logins_throttled.load(Ordering::Relaxed),
        );
        counter(
            "fengcun_scheduler_failures_total",
            "Records the scheduler or a policy change could not decide since start (audited as refresh_failed).",
            m.scheduler_failures.load(Ordering::Relaxed),
        );
        out.push_str("# HELP fengcun_events Events stored.\n# TYPE fengcun_events gauge\n");
        out.push_str(&format!("fengcun_events {}\n", counts.events));
        out.push_str("# HELP fengcun_records Records by state.\n# TYPE fengcun_records gauge\n");
        for (state, n) in &counts.records_by_state {
            out.push_str(&format!("fengcun_records{{state=\"{state}\"}} {n}\n"));
        }
        out.push_str("# HELP fengcun_notices Notices by status.\n# TYPE fengcun_notices gauge\n");
        for (status, n) in &counts.notices_by_status {
            out.push_str(&format!("fengcun_notices{{status=\"{status}\"}} {n}\n"));
        }
        out
    }
}
