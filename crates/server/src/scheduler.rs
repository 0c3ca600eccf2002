//! Makes pending seals take effect when their date comes.

use fengcun_lifecycle::Actor;

use crate::AppState;

pub async fn run(state: AppState) {
    let mut interval = crate::rounds(state.config.scheduler_interval_seconds);
    loop {
        interval.tick().await;
        let ctx = state.context(Actor::Automatic).await;
        match state.store.tick(&ctx).await {
            Ok(done) if !done.is_empty() => {
                tracing::info!(transitions = done.len(), "scheduled seals took effect")
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "scheduler run failed"),
        }
    }
}
