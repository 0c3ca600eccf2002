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

/// How often the engine's state is saved (docs/supervision.md, "After a restart"): after a round
/// that read this many entries since the last save, or that read any after this many seconds.
/// Saving writes the whole state; a restart reads at most this much of the log again.
pub const SAVE_EVERY_ENTRIES: u64 = 100_000;
pub const SAVE_EVERY_SECONDS: i64 = 600;

/// The rules and the engine the rounds feed.
#[derive(Debug)]
pub struct Supervision {
    pub rules: Arc<RuleSet>,
    engine: Mutex<Rounds>,
}

/// The engine, and where its saved state stands.
#[derive(Debug)]
struct Rounds {
    engine: Engine,
    /// Whether the saved state was looked for (once, at the first round).
    resumed: bool,
    /// What was saved last: read up to, and when.
    saved: Option<(u64, i64)>,
    /// Where the first round took the saved state up (how far it had read), if it did.
    resumed_from: Option<u64>,
}

impl Supervision {
    pub fn shipped() -> Result<Supervision, fengcun_supervision::RuleError> {
        let rules = RuleSet::shipped()?;
        Ok(Supervision {
            engine: Mutex::new(Rounds {
                engine: Engine::new(&rules),
                resumed: false,
                saved: None,
                resumed_from: None,
            }),
            rules: Arc::new(rules),
        })
    }
}

impl Supervision {
    /// Where the rounds took the saved state up after this start (how far into the log it had
    /// read), or `None`: not yet, or the log was read from its beginning.
    pub async fn resumed_from(&self) -> Option<u64> {
        self.engine.lock().await.resumed_from
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

/// One round: the new entries read, the flags certain by the clock less [`GRACE_SECONDS`] kept,
/// and now and then the engine's state saved. Returns how many flags were new. The first round
/// after a start takes up the saved state, when it was saved under the same rules, and reads on
/// from where it had read; otherwise it reads the log from the beginning (flags kept already are
/// kept once).
pub async fn round(state: &AppState) -> Result<usize, StoreError> {
    let mut rounds = state.supervision.engine.lock().await;
    if !rounds.resumed {
        rounds.resumed = true;
        if let Some((engine, next)) = saved_engine(state).await? {
            tracing::info!(next_seq = next, "supervision resumes from its saved state");
            rounds.engine = engine;
            rounds.saved = Some((next, state.clock.now().as_second()));
            rounds.resumed_from = Some(next);
        }
    }
    let from = rounds.engine.next_seq();
    read(&*state.store, &mut rounds.engine, from, None).await?;
    let now = state.clock.now();
    let flags = rounds.engine.close(now.as_second() - GRACE_SECONDS);
    let rows: Vec<FlagRow> = flags.iter().map(|f| row(f, now)).collect();
    let new = state.store.put_flags(&rows).await?;
    let next = rounds.engine.next_seq();
    let due = match rounds.saved {
        None => next > 0,
        Some((at_seq, at)) => {
            next >= at_seq + SAVE_EVERY_ENTRIES
                || (next > at_seq && now.as_second() - at >= SAVE_EVERY_SECONDS)
        }
    };
    if due {
        // Saved after the flags it closed: a restart between the two closes them again, and
        // they are kept once.
        match rounds.engine.snapshot() {
            Ok(bytes) => {
                state.store.put_supervision_state(next, &bytes, now).await?;
                rounds.saved = Some((next, now.as_second()));
            }
            Err(error) => tracing::warn!(%error, "supervision state not saved"),
        }
    }
    Ok(new)
}

/// The saved engine, if it was saved under these rules over this log: a state claiming to have
/// read past the log's end (a log restored from an older backup without its state, or rows
/// removed) is not taken up.
async fn saved_engine(state: &AppState) -> Result<Option<(Engine, u64)>, StoreError> {
    let Some((next, bytes)) = state.store.supervision_state().await? else {
        return Ok(None);
    };
    let Some(engine) = Engine::restore(&state.supervision.rules, &bytes) else {
        tracing::info!(
            "the saved supervision state was taken under other rules: the log is read again"
        );
        return Ok(None);
    };
    let within_log = next == 0
        || state
            .store
            .audit_entries(next - 1, 1)
            .await?
            .first()
            .is_some_and(|e| e.seq == next - 1);
    if engine.next_seq() != next || !within_log {
        tracing::warn!(
            next_seq = next,
            "the saved supervision state does not match the audit log: the log is read again"
        );
        return Ok(None);
    }
    Ok(Some((engine, next)))
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
