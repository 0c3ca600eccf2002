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
    let mut interval = crate::rounds(state.config.outbox_interval_seconds);
    loop {
        interval.tick().await;
        if let Err(error) = deliver_due(&state, &client, usize::MAX).await {
            tracing::error!(%error, "outbox run failed");
        }
    }
}

/// How many notices one claim takes, and how long the claim holds: a claim's deliveries, each
/// bounded by the client's ten-second timeout, end well before it lapses, so no other run is
/// handed a notice that is still being delivered.
const CLAIM_SIZE: i64 = 20;
const CLAIM_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// Delivers what is due now, in at most `max_claims` claims; returns how many were delivered.
/// Runs may overlap (the timer's and an operator's, or two servers on one database): a claim hands
/// each notice to one run while it holds. Delivery is at least once all the same: a run that stops
/// between a receiver's answer and its record (a crash, an operator's request cut off) leaves the
/// claim to lapse and the notice to go out again, so receivers treat a repeated `notice_id` as one.
/// Only what was due when the run began is taken, so a notice that fails in this run waits for
/// its backoff even when the run is long.
pub async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
    max_claims: usize,
) -> Result<usize, fengcun_store::StoreError> {
    let due_by = state.clock.now();
    let mut delivered = 0;
    for _ in 0..max_claims {
        let now = state.clock.now();
        let lease_until = now.checked_add(CLAIM_LEASE).unwrap_or(now);
        let claimed = state
            .store
            .claim_due_notices(due_by, lease_until, CLAIM_SIZE)
            .await?;
        if claimed.is_empty() {
            break;
        }
        for item in claimed {
            if deliver_one(state, client, &item).await? {
                delivered += 1;
            }
        }
    }
    Ok(delivered)
}

/// Delivers one claimed notice and records the outcome; true when the receiver took it.
async fn deliver_one(
    state: &AppState,
    client: &reqwest::Client,
    item: &OutboxItem,
) -> Result<bool, fengcun_store::StoreError> {
    let outcome = match deliver(state, client, item).await {
        Ok(()) => {
            state
                .metrics
                .notices_delivered
                .fetch_add(1, Ordering::Relaxed);
            Delivery::Delivered
        }
        Err(error) => {
            state.metrics.notices_failed.fetch_add(1, Ordering::Relaxed);
            let attempts = item.attempts + 1;
            let retry_at = (attempts < state.config.outbox_max_attempts)
                .then(|| backoff(state.clock.now(), attempts));
            tracing::warn!(notice = %item.notice_id, recipient = %item.recipient, attempts, %error, "notice delivery failed");
            Delivery::Failed {
                error: error.to_string(),
                retry_at,
            }
        }
    };
    let taken = matches!(outcome, Delivery::Delivered);
    state
        .store
        .record_delivery(&item.notice_id, outcome, state.clock.now())
        .await?;
    Ok(taken)
}

/// Why a delivery failed. Kept with the notice as its English text (the API's `last_error`, the
/// log's), which [`DeliveryFailure::read`] turns back into the failure for a page that explains it
/// in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryFailure {
    /// The recipient agency has no endpoint configured (its agency code).
    #[error("no endpoint configured for agency {0}")]
    NoEndpoint(String),
    /// The notice's sealed content could not be opened.
    #[error("the notice could not be read back: {0}")]
    Unreadable(String),
    #[error("the notice could not be signed: {0}")]
    Unsigned(String),
    /// The endpoint could not be reached (the transport's error chain, without the URL).
    #[error("{0}")]
    Unreachable(String),
    /// The endpoint answered with a status other than success ("503 Service Unavailable").
    #[error("endpoint answered {0}")]
    Refused(String),
}

impl DeliveryFailure {
    /// The failure a kept `last_error` text says. Any text none of the others wrote is the
    /// transport's, as [`DeliveryFailure::Unreachable`] keeps it.
    pub fn read(text: &str) -> Self {
        let prefixed = |prefix: &str| text.strip_prefix(prefix).map(str::to_owned);
        if let Some(agency) = prefixed("no endpoint configured for agency ") {
            Self::NoEndpoint(agency)
        } else if let Some(error) = prefixed("the notice could not be read back: ") {
            Self::Unreadable(error)
        } else if let Some(error) = prefixed("the notice could not be signed: ") {
            Self::Unsigned(error)
        } else if let Some(status) = prefixed("endpoint answered ") {
            Self::Refused(status)
        } else {
            Self::Unreachable(text.to_owned())
        }
    }
}

/// 30 s, 1 min, 2 min … capped at 6 h.
fn backoff(now: jiff::Timestamp, attempts: i64) -> jiff::Timestamp {
    let seconds = (30i64 << attempts.clamp(0, 20) as u32 >> 1).min(6 * 3600);
    now.checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(now)
}

/// An error with its causes ("error sending request: connection refused"), which reqwest keeps
/// in its source chain.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// The notice as delivered: the notice's own fields, the acknowledgement, and the signature
/// fields (`document`, `algorithm`, `key_id`, `signature`, `verification_code`) with which the
/// receiver verifies it offline (`fengcun notice verify`, docs/notices.md).
fn delivery(state: &AppState, item: &OutboxItem) -> Result<serde_json::Value, DeliveryFailure> {
    let content = item.content.as_ref().map_err(|error| {
        tracing::error!(notice = %item.notice_id, %error, "a notice could not be read back");
        DeliveryFailure::Unreadable(error.to_string())
    })?;
    let signed = fengcun_certificate::sign_notice(
        fengcun_certificate::NoticeDraft {
            number: item.notice_id.clone(),
            kind: content.kind.code().to_owned(),
            title: content.title.clone(),
            recipient: item.recipient.clone(),
            body: content.body.clone(),
            // The authority the text names at its foot, sealed when the transition was made; a
            // notice sealed before it was kept is signed by today's configured one.
            authority: content
                .authority
                .clone()
                .or_else(|| state.config.notices.authority.clone())
                .unwrap_or_else(|| state.config.certificate_issuer.clone()),
            signed_on: fengcun_domain::date::china_date(state.clock.now()),
        },
        &state.signing,
    )
    .map_err(|error| DeliveryFailure::Unsigned(error.to_string()))?;
    let mut body = json!({
        "notice_id": item.notice_id,
        "kind": content.kind,
        "title": content.title,
        "body": content.body,
        "ack": {"path": format!("/api/v1/notices/{}/ack", item.notice_id), "token": item.ack_token},
    });
    if let (Some(body), serde_json::Value::Object(fields)) = (body.as_object_mut(), signed.fields())
    {
        body.extend(fields);
    }
    Ok(body)
}

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    item: &OutboxItem,
) -> Result<(), DeliveryFailure> {
    // The endpoint first: signing (SM2) a notice that has nowhere to go is wasted, and an
    // agency without an endpoint can have millions of notices at national scale.
    let endpoint = item
        .endpoint
        .as_deref()
        .ok_or_else(|| DeliveryFailure::NoEndpoint(item.recipient.clone()))?;
    let body = delivery(state, item)?;
    let response = client
        .post(endpoint)
        .json(&body)
        .send()
        .await
        // Without the URL: an endpoint may carry a token in its query, and this text is logged and
        // shown in the notice list.
        .map_err(|e| DeliveryFailure::Unreachable(error_chain(&e.without_url())))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(DeliveryFailure::Refused(response.status().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryFailure;

    #[test]
    fn a_kept_failure_reads_back_as_the_failure_it_was() {
        for failure in [
            DeliveryFailure::NoEndpoint("110105".into()),
            DeliveryFailure::Unreadable("wrong key for the document".into()),
            DeliveryFailure::Unsigned("number too long".into()),
            DeliveryFailure::Unreachable(
                "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)".into(),
            ),
            DeliveryFailure::Refused("503 Service Unavailable".into()),
        ] {
            assert_eq!(DeliveryFailure::read(&failure.to_string()), failure);
        }
        assert_eq!(
            DeliveryFailure::NoEndpoint("110105".into()).to_string(),
            "no endpoint configured for agency 110105"
        );
        assert_eq!(
            DeliveryFailure::Refused("404 Not Found".into()).to_string(),
            "endpoint answered 404 Not Found"
        );
    }
}
