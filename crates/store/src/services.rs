//! The services of [`Store`] over records: ingestion (`crate::ingest`), the scheduler's round and
//! policy changes. Each reads what it decides on, has it decided (`crate::decisions`, which calls
//! `fengcun_lifecycle::decide`) and writes what was decided through the data access of
//! `sql/records.rs`, `sql/events.rs`, `sql/notices.rs` and `sql/audit.rs`.

use std::sync::Arc;

use async_trait::async_trait;
use fengcun_domain::{ValidEvent, parse_record};
use fengcun_lifecycle::{Cause, DecidedRecord, State, StateCode};
use fengcun_policy::Policy;

use crate::error::StoreError;
use crate::sql::{SqlStore, Tx};
use crate::types::*;
use crate::{AuditEvent, Store};

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ingest(
        &self,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcomes = self.ingest_in(&mut tx, events, ctx).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn check(
        &self,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcomes = self.ingest_in(&mut tx, events, ctx).await;
        tx.rollback().await?;
        outcomes
    }

    async fn tick(&self, ctx: &Context) -> Result<TickReport, StoreError> {
        let due = self.records_due(ctx.today()).await?;
        // Records a change to this policy could not decide: decided again until they can be.
        let left = self.records_left_for(&ctx.policy).await?;
        let mut work: std::collections::BTreeMap<(String, String), Cause> = due
            .into_iter()
            .map(|record| (record, Cause::Tick))
            .collect();
        work.extend(left.into_iter().map(|record| (record, Cause::PolicyChange)));
        let mut report = TickReport::default();
        for ((person_key, case_code), cause) in work {
            let left_over = cause == Cause::PolicyChange;
            match self
                .refresh_alone(&person_key, &case_code, cause, ctx, left_over)
                .await
            {
                Ok((views, _)) => report.transitions.extend(views),
                Err(error) => {
                    let queue = left_over.then_some(ctx.policy.as_ref());
                    report.failures.push(
                        self.refresh_failed(
                            &person_key,
                            &case_code,
                            &error,
                            "scheduler",
                            queue,
                            ctx,
                        )
                        .await?,
                    );
                }
            }
        }
        Ok(report)
    }

    async fn change_policy(
        &self,
        policy: &Policy,
        ctx: &Context,
        apply: bool,
    ) -> Result<PolicyChange, StoreError> {
        let rows = self.sealed_facts().await?;
        let mut report = PolicyChange {
            policy: policy.name().to_owned(),
            version: policy.version().to_owned(),
            applied: apply,
            records: rows.len(),
            ..PolicyChange::default()
        };
        let new_ctx = Context {
            policy: Arc::new(policy.clone()),
            ..ctx.clone()
        };
        // Each record on its own: read, and decided once under the new policy — applied, in a
        // transaction of its own that writes what was decided; previewed, in one that writes
        // nothing. One that fails is reported and the others go on.
        for (person_key, case_code, facts, wrapped) in rows {
            if facts.sealed.is_none() {
                continue;
            }
            let label = format!("{case_code}/{}", &person_key[..12.min(person_key.len())]);
            // A record whose stored facts cannot be read is not decided: it is reported (and,
            // applied, left for the scheduler to decide again from its events).
            let readable = self
                .keys()
                .record_key(&wrapped, &person_key, &case_code)
                .and_then(|key| facts.open(&key, &case_code))
                .and_then(|plain| {
                    let plain = plain.unwrap_or_default();
                    parse_record(&plain)
                        .map(|_| ())
                        .map_err(|e| StoreError::Corrupt(format!("facts of {case_code}: {e}")))
                });
            let decided = match readable {
                Err(error) => Err(error),
                Ok(()) if apply => self
                    .refresh_alone(&person_key, &case_code, Cause::PolicyChange, &new_ctx, true)
                    .await
                    .map(|(_, decided)| decided),
                Ok(()) => self.preview(&person_key, &case_code, &new_ctx).await,
            }
            .and_then(|decided| {
                decided
                    .ok_or_else(|| StoreError::Corrupt(format!("record {case_code} not decided")))
            });
            let decided = match decided {
                Ok(decided) => decided,
                Err(error) => {
                    let failure = if apply {
                        self.refresh_failed(
                            &person_key,
                            &case_code,
                            &error,
                            "policy_change",
                            Some(policy),
                            ctx,
                        )
                        .await?
                    } else {
                        tracing::warn!(case_code = %case_code, error = error.kind(), "a record could not be read for a policy preview");
                        RecordFailure {
                            case_code,
                            person_key,
                            error: error.kind().to_owned(),
                        }
                    };
                    report.failures.push(failure);
                    continue;
                }
            };
            let current = decided.from.unwrap_or(State::Open);
            let no_longer_eligible = current.is_sealed() && !decided.decision.outcome.is_eligible();
            let to = decided.step.map(|step| step.to);
            if no_longer_eligible {
                report.sealed_no_longer_eligible.push(label.clone());
            }
            match to {
                Some(State::Sealed { .. }) => report.sealed.push(label),
                Some(State::PendingSeal { .. }) => report.pending.push(label),
                Some(State::NotEligible | State::Open)
                    if current.code() == StateCode::PendingSeal =>
                {
                    report.cancelled.push(label)
                }
                _ => {}
            }
        }
        if apply {
            // In force even if some records failed: they are listed in `records_to_refresh` for
            // the scheduler, never left under the old decision unseen.
            let mut tx = self.begin_write().await?;
            self.put_in_force(&mut tx, policy, ctx.now).await?;
            let change = AuditEvent::new(
                crate::AuditKind::PolicyChanged,
                ctx.actor.label(),
                "in_force",
            )
            .detail(serde_json::json!({
                "policy": policy.name(),
                "version": policy.version(),
                "document_sha": fengcun_crypto::hash(self.keys().suite(), policy.source_text.as_bytes())
                    .iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "records": report.records,
                "sealed": report.sealed.len(),
                "pending": report.pending.len(),
                "cancelled": report.cancelled.len(),
                "sealed_no_longer_eligible": report.sealed_no_longer_eligible.len(),
                "failed": report.failures.len(),
            }));
            self.append_audit(&mut tx, &[change], ctx.now).await?;
            tx.commit().await?;
        }
        Ok(report)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.round_trip().await
    }
}

impl SqlStore {
    /// Refreshes one record in a transaction of its own (with its transitions, notices and audit
    /// entries), taking it off `records_to_refresh` when `left_over`; the transitions it made, and
    /// what was decided of the record.
    async fn refresh_alone(
        &self,
        person_key: &str,
        case_code: &str,
        cause: Cause,
        ctx: &Context,
        left_over: bool,
    ) -> Result<(Vec<TransitionView>, Option<DecidedRecord>), StoreError> {
        let mut tx = self.begin_write().await?;
        match self
            .refresh_in(&mut tx, person_key, case_code, cause, ctx, left_over)
            .await
        {
            Ok(views) => {
                tx.commit().await?;
                Ok(views)
            }
            Err(error) => {
                // The error is the one to report; a rollback that fails too only loses the
                // connection, which the pool replaces.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    async fn refresh_in(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        cause: Cause,
        ctx: &Context,
        left_over: bool,
    ) -> Result<(Vec<TransitionView>, Option<DecidedRecord>), StoreError> {
        // The list's row before the record (which takes the audit tip when it makes a
        // transition): every transaction takes person lock, then this list, then the tip, so a
        // round and a policy change cannot deadlock on PostgreSQL.
        self.lock_persons(tx, &[person_key.to_owned()]).await?;
        if left_over {
            self.forget_left_over(tx, person_key, case_code).await?;
        }
        let (made, decided) = self.refresh(tx, person_key, case_code, cause, ctx).await?;
        if made == 0 {
            return Ok((Vec::new(), decided));
        }
        let views = self.transitions_by_key(tx, person_key, case_code).await?;
        let first_new = views.len().saturating_sub(made);
        Ok((views.into_iter().skip(first_new).collect(), decided))
    }

    /// What a policy change would decide of one record, in a transaction that writes nothing.
    async fn preview(
        &self,
        person_key: &str,
        case_code: &str,
        ctx: &Context,
    ) -> Result<Option<DecidedRecord>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let decided = self
            .decide_alone(&mut tx, person_key, case_code, Cause::PolicyChange, ctx)
            .await;
        tx.rollback().await?;
        Ok(decided?.1.records.into_iter().next())
    }

    /// A record that could not be refreshed: logged and audited (`refresh_failed`, naming the
    /// case and the kind of error, never its message), and with `left_for` listed for the
    /// scheduler to decide again under that policy.
    async fn refresh_failed(
        &self,
        person_key: &str,
        case_code: &str,
        error: &StoreError,
        during: &str,
        left_for: Option<&Policy>,
        ctx: &Context,
    ) -> Result<RecordFailure, StoreError> {
        tracing::error!(case_code = %case_code, error = error.kind(), during, "a record could not be decided; the others go on");
        let event = AuditEvent::new(crate::AuditKind::RefreshFailed, ctx.actor.label(), "failed")
            .subject(format!("record:{person_key}/{case_code}"))
            .detail(serde_json::json!({
                "case_code": case_code,
                "error": error.kind(),
                "during": during,
                "policy": left_for.unwrap_or(&ctx.policy).name(),
                "policy_version": left_for.unwrap_or(&ctx.policy).version(),
            }));
        let mut tx = self.begin_write().await?;
        if let Some(policy) = left_for {
            self.leave_for_refresh(&mut tx, person_key, case_code, policy, ctx.now)
                .await?;
        }
        self.append_audit(&mut tx, &[event], ctx.now).await?;
        tx.commit().await?;
        Ok(RecordFailure {
            case_code: case_code.to_owned(),
            person_key: person_key.to_owned(),
            error: error.kind().to_owned(),
        })
    }
}
