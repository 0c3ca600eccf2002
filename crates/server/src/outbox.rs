//! Delivers agency notices to each agency's endpoint, with exponential backoff, until the receiver
//! takes them; the receiver then acknowledges with the token it was given.

use std::sync::atomic::Ordering;
use std::time::Duration;

use fengcun_store::{Delivery, OutboxItem};
use serde_json::json;

use crate::AppState;

/// The HTTP client notices are delivered with: ten seconds per attempt.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

pub async fn run(state: AppState) {
    let client = client();
    let mut interval = tokio::time::interval(Duration::from_secs(
        state.config.outbox_interval_seconds.max(1),
    ));
    loop {
        interval.tick().await;
        if let Err(error) = deliver_due(&state, &client).await {
            tracing::error!(%error, "outbox run failed");
        }
    }
}

/// Delivers what is due now; returns how many were delivered.
pub async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
) -> Result<usize, fengcun_store::StoreError> {
    let now = state.clock.now();
    let due = state.store.due_notices(now, 100).await?;
    let mut delivered = 0;
    for item in due {
        let result = deliver(client, &item).await;
        let outcome = match result {
            Ok(()) => {
                delivered += 1;
                state
                    .metrics
                    .notices_delivered
                    .fetch_add(1, Ordering::Relaxed);
                Delivery::Delivered
            }
            Err(error) => {
                state.metrics.notices_failed.fetch_add(1, Ordering::Relaxed);
                let attempts = item.attempts + 1;
                let retry_at =
                    (attempts < state.config.outbox_max_attempts).then(|| backoff(now, attempts));
                tracing::warn!(notice = %item.notice_id, recipient = %item.recipient, attempts, %error, "notice delivery failed");
                Delivery::Failed { error, retry_at }
            }
        };
        state
            .store
            .record_delivery(&item.notice_id, outcome, state.clock.now())
            .await?;
    }
    Ok(delivered)
}

/// 30 s, 1 min, 2 min … capped at 6 h.
fn backoff(now: jiff::Timestamp, attempts: i64) -> jiff::Timestamp {
    let seconds = (30i64 << attempts.clamp(0, 20) as u32 >> 1).min(6 * 3600);
    now.checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(now)
}

async fn deliver(client: &reqwest::Client, item: &OutboxItem) -> Result<(), String> {
    let endpoint = item
        .endpoint
        .as_deref()
        .ok_or_else(|| format!("no endpoint configured for agency {}", item.recipient))?;
    let response = client
        .post(endpoint)
        .json(&json!({
            "notice_id": item.notice_id,
            "kind": item.kind,
            "title": item.title,
            "body": item.body,
            "ack": {"path": format!("/api/v1/notices/{}/ack", item.notice_id), "token": item.ack_token},
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("endpoint answered {}", response.status()))
    }
}
