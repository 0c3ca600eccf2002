//! Supervision of queries (docs/supervision.md): the server's incremental round — the audit
//! entries appended since the last round pushed into the rules' engine, the flags certain by now
//! kept — and the same flags on demand over any period (`fengcun audit flags`).

use std::sync::Arc;

use fengcun_store::prelude::*;
use fengcun_store::{FlagRow, StoreError};
use fengcun_supervision::{Engine, Entry, Flag, RuleSet};
use tokio::sync::Mutex;

use crate::AppState;

/// How far behind the clock a round closes: an entry is timed when its transaction begins and
/// numbered when it commits, so one that commits after a round may be a little older than the
/// round. Five minutes is far longer than any transaction.
pub const GRACE_SECONDS: i64 = 300;

/// The rules and the engine the rounds feed.
#[derive(Debug)]
pub struct Supervision {
    pub rules: Arc<RuleSet>,
    engine: Mutex<Engine>,
}

impl Supervision {
    pub fn shipped() -> Result<Supervision, fengcun_supervision::RuleError> {
        let rules = RuleSet::shipped()?;
        Ok(Supervision {
            engine: Mutex::new(Engine::new(&rules)),
            rules: Arc::new(rules),
        })
    }
}

/// Runs rounds with the scheduler's period.
pub async fn run(state: AppState) {
    let mut interval = crate::rounds(state.config.scheduler_interval_seconds);
    loop {
        interval.tick().await;
        if let Err(error) = round(&state).await {
            tracing::error!(%error, "supervision round failed");
        }
    }
}

/// One round: the new entries read, the flags certain by the clock less [`GRACE_SECONDS`] kept.
/// Returns how many flags were new. (After a restart the first round reads the log from the
/// beginning; flags kept already are kept once.)
pub async fn round(state: &AppState) -> Result<usize, StoreError> {
    let mut engine = state.supervision.engine.lock().await;
    let from = engine.next_seq();
    read(&*state.store, &mut engine, from, None).await?;
    let now = state.clock.now();
    let flags = engine.close(now.as_second() - GRACE_SECONDS);
    let rows: Vec<FlagRow> = flags.iter().map(|f| row(f, now)).collect();
    state.store.put_flags(&rows).await
}

/// Pushes the entries from `from` (at or before `until`, when given) into `engine`.
async fn read<S: AuditStore + ?Sized>(
    store: &S,
    engine: &mut Engine,
    mut from: u64,
    until: Option<i64>,
) -> Result<(), StoreError> {
    loop {
        let page = store.audit_entries(from, 10_000).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        from = last.seq + 1;
        for e in page {
            let entry = Entry::from_columns(
                e.seq,
                &e.at,
                e.kind.code(),
                &e.actor,
                e.purpose.as_deref(),
                &e.outcome,
                e.subject.as_deref(),
                &e.detail,
            )
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
            if until.is_none_or(|until| entry.at <= until) {
                engine.push(&entry);
            }
        }
    }
}

/// Every flag certain by `until` whose period ends after `since`: the whole log up to `until` is
/// read (own history counts), then closed once. Gives the flags the rounds give.
pub async fn on_demand<S: AuditStore + ?Sized>(
    store: &S,
    rules: &RuleSet,
    since: Option<jiff::Timestamp>,
    until: jiff::Timestamp,
) -> Result<Vec<Flag>, StoreError> {
    let mut engine = Engine::new(rules);
    read(store, &mut engine, 0, Some(until.as_second())).await?;
    let mut flags = engine.close(until.as_second());
    if let Some(since) = since {
        let since = since.to_string();
        flags.retain(|f| f.until > since);
    }
    Ok(flags)
}

/// A flag as kept.
pub fn row(flag: &Flag, now: jiff::Timestamp) -> FlagRow {
    FlagRow {
        id: flag.id.clone(),
        rule: flag.rule.clone(),
        pattern: flag.pattern.clone(),
        subject: flag.subject.clone(),
        other: flag.other.clone(),
        period_from: flag.from.clone(),
        period_until: flag.until.clone(),
        score: flag.score,
        entries: serde_json::to_string(&flag.entries).unwrap_or_default(),
        persons: serde_json::to_string(&flag.persons).unwrap_or_default(),
        found_at: now.to_string(),
        conclusion: None,
        reviewed_by: None,
        reviewed_at: None,
        note: None,
    }
}

/// A kept flag as the engine gave it (for comparing the two ways).
pub fn flag_of(row: &FlagRow) -> Flag {
    Flag {
        id: row.id.clone(),
        rule: row.rule.clone(),
        pattern: row.pattern.clone(),
        subject: row.subject.clone(),
        other: row.other.clone(),
        from: row.period_from.clone(),
        until: row.period_until.clone(),
        score: row.score,
        entries: serde_json::from_str(&row.entries).unwrap_or_default(),
        persons: serde_json::from_str(&row.persons).unwrap_or_default(),
    }
}
