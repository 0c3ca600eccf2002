//! Makes pending seals take effect when their date comes.

use std::sync::atomic::Ordering;

use fengcun_lifecycle::Actor;
use fengcun_store::{RecordFailure, TickReport};

use crate::AppState;

pub async fn run(state: AppState) {
    let mut interval = crate::rounds(state.config.scheduler_interval_seconds);
    loop {
        interval.tick().await;
        if let Err(error) = run_once(&state).await {
            tracing::error!(%error, "scheduler run failed");
        }
    }
}

/// One round, under the policy in force: each record commits on its own, and the records that
/// could not be decided are counted (the store has logged and audited each).
pub async fn run_once(state: &AppState) -> Result<TickReport, fengcun_store::StoreError> {
    let ctx = state.context(Actor::Automatic).await;
    let report = state.store.tick(&ctx).await?;
    if !report.transitions.is_empty() {
        tracing::info!(
            transitions = report.transitions.len(),
            "scheduled seals took effect"
        );
    }
    count_failures(state, &report.failures);
    Ok(report)
}

/// Counts records the scheduler or a policy change could not decide
/// (`fengcun_scheduler_failures_total`).
pub fn count_failures(state: &AppState, failures: &[RecordFailure]) {
    if !failures.is_empty() {
        tracing::warn!(
            failures = failures.len(),
            "records could not be decided; they are tried again at the next round"
        );
        state
            .metrics
            .scheduler_failures
            .fetch_add(failures.len() as u64, Ordering::Relaxed);
    }
}
