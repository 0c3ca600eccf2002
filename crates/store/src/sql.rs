//! The one SQL implementation of `Store`, for SQLite and PostgreSQL alike (sqlx `Any`).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use fengcun_crypto::DataKey;
use fengcun_domain::{Date, Disposition, Event, EventKind, Record, ValidEvent, parse_record};
use fengcun_lifecycle::{
    Cause, Derived, NoticeFacts, NoticeKind, Recipient, State, StateCode, Step, StoredEvent,
    derive_record, next_state, render_notice, trigger_for,
};
use fengcun_policy::{Policy, Trigger, evaluate};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

use crate::Store;
use crate::error::StoreError;
use crate::keys::{self, Keys};
use crate::schema;
use crate::types::*;

type Tx = Transaction<'static, Any>;

/// The SQL store. Cheap to clone (a pool and keys).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    keys: Keys,
}

/// Times are stored as RFC 3339 text rounded to the second, so that text order is time order.
fn ts(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

impl SqlStore {
    pub async fn connect(url: &str, keys: Keys) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let url = if path.contains('?') {
                format!("sqlite://{path}")
            } else {
                format!("sqlite://{path}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let sqlite = backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL survives a killed process with every committed transaction intact.
                        use sqlx::Executor;
                        conn.execute("PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let mut conn = pool.acquire().await?;
        if sqlite {
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&mut *conn)
                .await?;
        }
        schema::migrate(&mut conn, backend).await?;
        drop(conn);
        Ok(Self {
            pool,
            backend,
            keys,
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    async fn ingest_in(
        &self,
        tx: &mut Tx,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(events.len());
        let mut touched: Vec<(String, String)> = Vec::new();
        let mut causes: HashMap<(String, String), (bool, usize)> = HashMap::new();
        let received = ts(ctx.now);
        for (index, valid) in events.iter().enumerate() {
            let line = index + 1;
            let event = &valid.event;
            let case_code = self.resolve_case_code(tx, valid, line).await?;
            let person_key = self.keys.person_key(&valid.identity);
            let canonical =
                serde_json::to_vec(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let hash = self.keys.hash(&canonical);
            let existing: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT content_hash FROM events WHERE idempotency_key = $1")
                    .bind(event.idempotency_key.as_str())
                    .fetch_optional(&mut **tx)
                    .await?;
            match existing {
                Some((stored,)) if stored == hash => {
                    outcomes.push(LineOutcome::Duplicate);
                    continue;
                }
                Some(_) => {
                    return Err(StoreError::Conflict {
                        line,
                        key: event.idempotency_key.clone(),
                    });
                }
                None => {}
            }
            let key = self
                .record_key_or_create(tx, &person_key, &case_code, ctx)
                .await?;
            let body = keys::seal(
                &key,
                &canonical,
                &format!("event/{}", event.idempotency_key),
            );
            sqlx::query(
                "INSERT INTO events (person_key, case_code, idempotency_key, content_hash, kind, event_date, agency_code, received_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(person_key.as_str())
            .bind(case_code.as_str())
            .bind(event.idempotency_key.as_str())
            .bind(hash)
            .bind(event.kind.code())
            .bind(valid.date.to_string())
            .bind(event.agency.code.as_str())
            .bind(received.as_str())
            .bind(body)
            .execute(&mut **tx)
            .await?;
            self.upsert_agency(tx, &event.agency).await?;
            let record = (person_key, case_code);
            let entry = causes.entry(record.clone()).or_insert((false, line));
            entry.0 |= event.kind == EventKind::Correction;
            entry.1 = line;
            if !touched.contains(&record) {
                touched.push(record);
            }
            outcomes.push(LineOutcome::Stored);
        }
        for record in touched {
            let (correction, line) = causes.get(&record).copied().unwrap_or((false, 0));
            self.refresh(tx, &record.0, &record.1, Cause::Events { correction }, ctx)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid { error, .. } => StoreError::Invalid { line, error },
                    other => other,
                })?;
        }
        Ok(outcomes)
    }

    /// The case code an event names, or the one its agency's document number maps to; records new
    /// mappings (一案一码: every agency's number maps to the one nationwide code).
    async fn resolve_case_code(
        &self,
        tx: &mut Tx,
        valid: &ValidEvent,
        line: usize,
    ) -> Result<String, StoreError> {
        let event = &valid.event;
        let mapped: Option<(String,)> = match &event.document_number {
            Some(document) => {
                sqlx::query_as("SELECT case_code FROM case_numbers WHERE agency_code = $1 AND document_number = $2")
                    .bind(event.agency.code.as_str())
                    .bind(document.as_str())
                    .fetch_optional(&mut **tx)
                    .await?
            }
            None => None,
        };
        match (&valid.case_code, mapped, &event.document_number) {
            (Some(given), Some((existing,)), Some(document)) if given.as_str() != existing => {
                Err(StoreError::CaseNumberConflict {
                    line,
                    agency: event.agency.code.clone(),
                    document: document.clone(),
                    existing,
                    given: given.to_string(),
                })
            }
            (Some(given), None, Some(document)) => {
                sqlx::query("INSERT INTO case_numbers (agency_code, document_number, case_code) VALUES ($1, $2, $3)")
                    .bind(event.agency.code.as_str())
                    .bind(document.as_str())
                    .bind(given.as_str())
                    .execute(&mut **tx)
                    .await?;
                Ok(given.to_string())
            }
            (Some(given), _, _) => Ok(given.to_string()),
            (None, Some((existing,)), _) => Ok(existing),
            (None, None, document) => Err(StoreError::UnknownDocument {
                line,
                agency: event.agency.code.clone(),
                document: document.clone().unwrap_or_default(),
            }),
        }
    }

    async fn upsert_agency(
        &self,
        tx: &mut Tx,
        agency: &fengcun_domain::Agency,
    ) -> Result<(), StoreError> {
        let kind = serde_json::to_value(agency.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO agencies (agency_code, kind, name) VALUES ($1, $2, $3) \
             ON CONFLICT (agency_code) DO UPDATE SET kind = excluded.kind, name = COALESCE(excluded.name, agencies.name)",
        )
        .bind(agency.code.as_str())
        .bind(kind)
        .bind(agency.name.clone())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn record_key_or_create(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        ctx: &Context,
    ) -> Result<DataKey, StoreError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT data_key FROM records WHERE person_key = $1 AND case_code = $2")
                .bind(person_key)
                .bind(case_code)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some((wrapped,)) = row {
            return self.keys.record_key(&wrapped, person_key, case_code);
        }
        let (key, wrapped) = self.keys.new_record_key(person_key, case_code);
        sqlx::query(
            "INSERT INTO records (person_key, case_code, state, data_key, updated_at) VALUES ($1, $2, 'open', $3, $4)",
        )
        .bind(person_key)
        .bind(case_code)
        .bind(wrapped)
        .bind(ts(ctx.now))
        .execute(&mut **tx)
        .await?;
        Ok(key)
    }

    async fn record_key(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
    ) -> Result<DataKey, StoreError> {
        let (wrapped,): (Vec<u8>,) =
            sqlx::query_as("SELECT data_key FROM records WHERE person_key = $1 AND case_code = $2")
                .bind(person_key)
                .bind(case_code)
                .fetch_one(&mut **tx)
                .await?;
        self.keys.record_key(&wrapped, person_key, case_code)
    }

    async fn load_events(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        key: &DataKey,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, idempotency_key, body FROM events WHERE person_key = $1 AND case_code = $2 ORDER BY seq",
        )
        .bind(person_key)
        .bind(case_code)
        .fetch_all(&mut **tx)
        .await?;
        rows.into_iter()
            .map(|(seq, idempotency_key, body)| {
                let plain = keys::open(key, &body, &format!("event/{idempotency_key}"))?;
                let event = Event::parse(&plain)
                    .map_err(|e| StoreError::Corrupt(format!("event {idempotency_key}: {e}")))?;
                Ok(StoredEvent { seq, event })
            })
            .collect()
    }

    /// Re-derives one record from its events, decides under the policy in force, stores facts and
    /// decision, makes the transition if any, and applies unsealing triggers across the person's
    /// other records.
    async fn refresh(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        cause: Cause,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let key = self.record_key(tx, person_key, case_code).await?;
        let events = self.load_events(tx, person_key, case_code, &key).await?;
        let identity = events
            .first()
            .map(|e| e.event.identity.clone())
            .unwrap_or_default();
        let record_id = format!(
            "{case_code}:{}",
            identity.split(':').next_back().unwrap_or_default()
        );
        let derived = derive_record(&record_id, &events)
            .map_err(|error| StoreError::Invalid { line: 0, error })?;
        let policy = &ctx.policy;
        let today = ctx.today();
        let decision = evaluate(policy, &derived.record, today);
        let view = serde_json::to_value(decision.view(policy, &derived.record))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let facts = facts_json(&derived.record);
        let convicted = is_effective_conviction(&derived.record);
        sqlx::query(
            "UPDATE records SET facts = $1, decision = $2, convicted = $3, policy = $4, policy_version = $5, updated_at = $6 \
             WHERE person_key = $7 AND case_code = $8",
        )
        .bind(keys::seal(&key, facts.to_string().as_bytes(), &format!("facts/{case_code}")))
        .bind(keys::seal(&key, view.to_string().as_bytes(), &format!("decision/{case_code}")))
        .bind(i64::from(convicted))
        .bind(policy.name())
        .bind(policy.version())
        .bind(ts(ctx.now))
        .bind(person_key)
        .bind(case_code)
        .execute(&mut **tx)
        .await?;
        let current = self.current_state(tx, person_key, case_code).await?;
        let mut state = current;
        if let Some(step) = next_state(
            current.as_ref(),
            &decision,
            derived.retried,
            &derived.record,
            cause,
            policy,
            today,
        ) {
            self.transition(
                tx, person_key, case_code, current, &step, &view, ctx, &derived, &key,
            )
            .await?;
            state = Some(step.to);
        }
        // A conviction that has taken effect lifts the seals its trigger reaches; and a record that
        // is becoming sealed is checked against the person's later convictions that arrived first.
        if convicted {
            self.apply_triggers_from(tx, person_key, case_code, &derived, ctx)
                .await?;
        }
        if matches!(
            state,
            Some(State::Sealed { .. } | State::PendingSeal { .. })
        ) {
            self.apply_triggers_to(tx, person_key, case_code, &derived, ctx)
                .await?;
        }
        Ok(())
    }

    async fn current_state(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
    ) -> Result<Option<State>, StoreError> {
        let row: Option<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
            "SELECT state, state_date, state_trigger, (SELECT COUNT(*) FROM transitions t WHERE t.person_key = $1 AND t.case_code = $2) \
             FROM records WHERE person_key = $1 AND case_code = $2",
        )
        .bind(person_key)
        .bind(case_code)
        .fetch_optional(&mut **tx)
        .await?;
        // A record with no transition yet has no state: its first decision is its first transition.
        Ok(row.filter(|r| r.3 > 0).map(|(state, date, trigger, _)| {
            state_from_row(&state, date.as_deref(), trigger.as_deref())
        }))
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one transition needs all of these; a struct would only rename them"
    )]
    async fn transition(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        from: Option<State>,
        step: &Step,
        decision: &serde_json::Value,
        ctx: &Context,
        derived: &Derived,
        key: &DataKey,
    ) -> Result<(), StoreError> {
        let to = step.to;
        let date = to.date().map(|d| d.to_string());
        let trigger = to.trigger().map(Trigger::code);
        let policy = &ctx.policy;
        let unseal = step
            .unseal_rule
            .as_deref()
            .and_then(|id| policy.unseals.iter().find(|u| u.id == id));
        let reasons = serde_json::json!({
            "decision": decision,
            "unseal": unseal.map(|u| serde_json::json!({"rule": u.id, "trigger": u.trigger.code(), "text": u.text, "basis": u.basis})),
        });
        sqlx::query("UPDATE records SET state = $1, state_date = $2, state_trigger = $3 WHERE person_key = $4 AND case_code = $5")
            .bind(to.code().code())
            .bind(date.clone())
            .bind(trigger)
            .bind(person_key)
            .bind(case_code)
            .execute(&mut **tx)
            .await?;
        let at = ts(ctx.now);
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO transitions (person_key, case_code, from_state, to_state, state_date, state_trigger, rule, policy, policy_version, actor, at, reasons) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
        )
        .bind(person_key)
        .bind(case_code)
        .bind(from.map(|s| s.code().code()))
        .bind(to.code().code())
        .bind(date)
        .bind(trigger)
        .bind(step.unseal_rule.clone())
        .bind(policy.name())
        .bind(policy.version())
        .bind(ctx.actor.label())
        .bind(at.as_str())
        .bind(keys::seal(key, reasons.to_string().as_bytes(), &format!("transition/{case_code}/{at}")))
        .fetch_one(&mut **tx)
        .await?;
        let kind = match (from, to) {
            (_, State::Sealed { .. }) => NoticeKind::Seal,
            (Some(State::Sealed { .. }), State::Unsealed { .. } | State::Revoked { .. }) => {
                NoticeKind::Unseal
            }
            _ => return Ok(()),
        };
        let basis: Vec<String> = match unseal {
            Some(u) => vec![u.basis.clone()],
            None => decision["reasons"]
                .as_array()
                .map(|reasons| {
                    reasons
                        .iter()
                        .filter_map(|r| r["basis"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let mut basis_unique: Vec<String> = Vec::new();
        for b in basis {
            if !basis_unique.contains(&b) {
                basis_unique.push(b);
            }
        }
        let effective = to.date().unwrap_or_else(|| ctx.today());
        let mut recipients: Vec<(String, Recipient)> = derived
            .agencies
            .iter()
            .map(|agency| {
                let document_number = derived.documents.get(&agency.code).cloned();
                (
                    agency.code.clone(),
                    Recipient::Agency {
                        agency: agency.clone(),
                        document_number,
                    },
                )
            })
            .collect();
        recipients.push(("person".to_owned(), Recipient::Person));
        let id_number = derived
            .record
            .person
            .id_number
            .as_ref()
            .map(ToString::to_string);
        for (recipient_code, recipient) in recipients {
            let number = format!(
                "FC-{}-{seq:08}-{}",
                kind.code().to_uppercase(),
                short_hash(&self.keys, &recipient_code)
            );
            let notice = render_notice(
                kind,
                &recipient,
                &NoticeFacts {
                    number: &number,
                    case_code,
                    person_name: derived.record.person.name.as_deref(),
                    id_number: id_number.as_deref(),
                    effective,
                    issued: ctx.today(),
                    policy_title: &policy.meta.title,
                    basis: &basis_unique,
                    reason: unseal.map(|u| u.text.as_str()),
                },
            );
            let token = random_token();
            let content =
                serde_json::json!({"title": notice.title, "body": notice.body, "ack_token": token});
            let to_agency = recipient_code != "person";
            sqlx::query(
                "INSERT INTO notices (notice_id, person_key, case_code, kind, recipient, body, ack_token_hash, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
            )
            .bind(number.as_str())
            .bind(person_key)
            .bind(case_code)
            .bind(kind.code())
            .bind(recipient_code.as_str())
            .bind(keys::seal(key, content.to_string().as_bytes(), &format!("notice/{number}")))
            .bind(self.keys.hash(token.as_bytes()))
            .bind(if to_agency { "pending" } else { "available" })
            .bind(if to_agency { Some(at.clone()) } else { None })
            .bind(at.as_str())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// `derived` is a conviction that has taken effect: lift the seals it reaches on the person's
    /// other records judged before it.
    async fn apply_triggers_from(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        derived: &Derived,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let others = self
            .other_records(
                tx,
                person_key,
                case_code,
                "state IN ('sealed', 'pending_seal')",
            )
            .await?;
        let new_conviction = derived.combined.as_ref().unwrap_or(&derived.record);
        for (other_case, other_record) in others {
            if !judged_before(&other_record, &derived.record) {
                continue;
            }
            let trigger = trigger_for(&other_record, &derived.record);
            if ctx
                .policy
                .unseal_rule(trigger, Some(new_conviction))
                .is_some()
            {
                // Boxed: lifting a seal refreshes another record, which is this same function.
                Box::pin(self.refresh(tx, person_key, &other_case, Cause::Trigger(trigger), ctx))
                    .await?;
            }
        }
        Ok(())
    }

    /// `derived` is becoming sealed: a later conviction of the person that arrived first lifts it.
    async fn apply_triggers_to(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        derived: &Derived,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let others = self
            .other_records(tx, person_key, case_code, "convicted = 1")
            .await?;
        for (_, later) in others {
            if !judged_before(&derived.record, &later) {
                continue;
            }
            let trigger = trigger_for(&derived.record, &later);
            if ctx.policy.unseal_rule(trigger, Some(&later)).is_some() {
                let decision = evaluate(&ctx.policy, &derived.record, ctx.today());
                let view = serde_json::to_value(decision.view(&ctx.policy, &derived.record))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let current = self.current_state(tx, person_key, case_code).await?;
                if let Some(step) = next_state(
                    current.as_ref(),
                    &decision,
                    false,
                    &derived.record,
                    Cause::Trigger(trigger),
                    &ctx.policy,
                    ctx.today(),
                ) {
                    let key = self.record_key(tx, person_key, case_code).await?;
                    self.transition(
                        tx, person_key, case_code, current, &step, &view, ctx, derived, &key,
                    )
                    .await?;
                }
                return Ok(());
            }
        }
        Ok(())
    }

    async fn other_records(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
        filter: &str,
    ) -> Result<Vec<(String, Record)>, StoreError> {
        let rows: Vec<(String, Option<Vec<u8>>, Vec<u8>)> = sqlx::query_as(&format!(
            "SELECT case_code, facts, data_key FROM records WHERE person_key = $1 AND case_code <> $2 AND {filter} ORDER BY case_code"
        ))
        .bind(person_key)
        .bind(case_code)
        .fetch_all(&mut **tx)
        .await?;
        let mut out = Vec::new();
        for (other_case, facts, wrapped) in rows {
            let Some(facts) = facts else { continue };
            let key = self.keys.record_key(&wrapped, person_key, &other_case)?;
            let plain = keys::open(&key, &facts, &format!("facts/{other_case}"))?;
            let record = parse_record(&plain)
                .map_err(|e| StoreError::Corrupt(format!("facts of {other_case}: {e}")))?;
            out.push((other_case, record));
        }
        Ok(out)
    }

    async fn decrypt_view(
        &self,
        person_key: &str,
        case_code: &str,
        wrapped: &[u8],
        blob: Option<Vec<u8>>,
        aad: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(blob) = blob else { return Ok(None) };
        let key = self.keys.record_key(wrapped, person_key, case_code)?;
        let plain = keys::open(&key, &blob, aad)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// `earlier` was judged before `later` (so `later` is a later conviction, not a prior one).
fn judged_before(earlier: &Record, later: &Record) -> bool {
    match (earlier.disposition_date, later.disposition_date) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

fn is_effective_conviction(record: &Record) -> bool {
    record.disposition == Disposition::Convicted && record.judgment_effective_date.is_some()
}

fn state_from_row(state: &str, date: Option<&str>, trigger: Option<&str>) -> State {
    let date: Option<Date> = date.and_then(|d| d.parse().ok());
    let trigger = trigger.and_then(Trigger::parse);
    match StateCode::parse(state) {
        Some(StateCode::Open) | None => State::Open,
        Some(StateCode::NotEligible) => State::NotEligible,
        Some(StateCode::PendingSeal) => State::PendingSeal { on: date },
        Some(StateCode::Sealed) => State::Sealed {
            since: date.unwrap_or(Date::MIN),
        },
        Some(StateCode::Unsealed) => State::Unsealed {
            trigger: trigger.unwrap_or(Trigger::NewConviction),
            since: date.unwrap_or(Date::MIN),
        },
        Some(StateCode::Revoked) => State::Revoked {
            since: date.unwrap_or(Date::MIN),
        },
    }
}

/// The record facts as FORMATS.md writes them, to be stored (encrypted) with the record.
fn facts_json(record: &Record) -> serde_json::Value {
    let sentence = record.sentence.map(|s| {
        serde_json::json!({
            "principal": s.principal.kind.code(),
            "months": if s.principal.kind.has_term() { Some(s.principal.months) } else { None },
            "probation_months": s.probation_months,
            "fine_yuan": s.fine_yuan,
            "political_rights_months": s.political_rights_months,
            "combined": s.combined,
        })
    });
    let catalogue = fengcun_domain::Catalogue::builtin();
    let mut facts = serde_json::json!({
        "record_id": record.record_id,
        "disposition": record.disposition.code(),
        "charges": record.charges.iter().map(|c| serde_json::json!({"name": catalogue.get(c.id).name, "culpability": c.culpability.code()})).collect::<Vec<_>>(),
        "person": {
            "id_number": record.person.id_number.as_ref().map(ToString::to_string),
            "name": record.person.name,
            "birth_date": record.person.birth_date.map(|d| d.to_string()),
        },
    });
    let put = |facts: &mut serde_json::Value, field: &str, value: Option<String>| {
        if let Some(value) = value {
            facts[field] = value.into();
        }
    };
    put(
        &mut facts,
        "case_code",
        record.case_code.as_ref().map(ToString::to_string),
    );
    put(
        &mut facts,
        "offence_date",
        record.offence_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "disposition_date",
        record.disposition_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "judgment_effective_date",
        record.judgment_effective_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "execution_completed_date",
        record.execution_completed_date.map(|d| d.to_string()),
    );
    put(
        &mut facts,
        "non_prosecution_ground",
        record.non_prosecution_ground.map(|g| g.code().to_owned()),
    );
    if let Some(sentence) = sentence {
        facts["sentence"] = sentence;
    }
    if let Some(recidivist) = record.recidivist {
        facts["recidivist"] = recidivist.into();
    }
    if let Some(prior) = record.prior_convictions {
        facts["prior_convictions"] = prior.into();
    }
    facts["conditions"] = serde_json::json!({
        "civil_compensation_fulfilled": record.conditions.civil_compensation_fulfilled,
        "victim_forgiveness": record.conditions.victim_forgiveness,
        "plea": record.conditions.plea,
    });
    facts
}

fn short_hash(keys: &Keys, text: &str) -> String {
    keys.hash(text.as_bytes())
        .iter()
        .take(3)
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// A bearer capability for one acknowledgement: 16 random bytes, hex.
fn random_token() -> String {
    fengcun_crypto::random_hex::<16>()
}

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
        let mut tx = self.pool.begin().await?;
        let outcomes = self.ingest_in(&mut tx, events, ctx).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn check(
        &self,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let outcomes = self.ingest_in(&mut tx, events, ctx).await;
        tx.rollback().await?;
        outcomes
    }

    async fn tick(&self, ctx: &Context) -> Result<Vec<TransitionView>, StoreError> {
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT person_key, case_code FROM records WHERE state = 'pending_seal' AND state_date IS NOT NULL AND state_date <= $1 \
             ORDER BY person_key, case_code",
        )
        .bind(ctx.today().to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.pool.begin().await?;
        let mut done = Vec::new();
        for (person_key, case_code) in due {
            let before: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM transitions WHERE person_key = $1 AND case_code = $2",
            )
            .bind(person_key.as_str())
            .bind(case_code.as_str())
            .fetch_one(&mut *tx)
            .await?;
            self.refresh(&mut tx, &person_key, &case_code, Cause::Tick, ctx)
                .await?;
            let mut views = self
                .transitions_by_key(&mut tx, &person_key, &case_code)
                .await?;
            done.extend(views.drain(usize::try_from(before.0).unwrap_or(0)..));
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn change_policy(
        &self,
        policy: &Policy,
        ctx: &Context,
        apply: bool,
    ) -> Result<PolicyChange, StoreError> {
        let rows: Vec<(String, String, String, Option<String>, Option<String>, Option<Vec<u8>>, Vec<u8>)> = sqlx::query_as(
            "SELECT person_key, case_code, state, state_date, state_trigger, facts, data_key FROM records ORDER BY person_key, case_code",
        )
        .fetch_all(&self.pool)
        .await?;
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
        let today = ctx.today();
        let mut tx = self.pool.begin().await?;
        for (person_key, case_code, state, date, trigger, facts, wrapped) in rows {
            let Some(facts) = facts else { continue };
            let key = self.keys.record_key(&wrapped, &person_key, &case_code)?;
            let record = parse_record(&keys::open(&key, &facts, &format!("facts/{case_code}"))?)
                .map_err(|e| StoreError::Corrupt(format!("facts of {case_code}: {e}")))?;
            let current = state_from_row(&state, date.as_deref(), trigger.as_deref());
            let decision = evaluate(policy, &record, today);
            let label = format!("{case_code}/{}", &person_key[..12.min(person_key.len())]);
            if current.is_sealed() && !decision.outcome.is_eligible() {
                report.sealed_no_longer_eligible.push(label.clone());
            }
            match next_state(
                Some(&current),
                &decision,
                false,
                &record,
                Cause::PolicyChange,
                policy,
                today,
            )
            .map(|s| s.to)
            {
                Some(State::Sealed { .. }) => report.sealed.push(label),
                Some(State::PendingSeal { .. }) => report.pending.push(label),
                Some(State::NotEligible | State::Open)
                    if current.code() == StateCode::PendingSeal =>
                {
                    report.cancelled.push(label)
                }
                _ => {}
            }
            if apply {
                self.refresh(
                    &mut tx,
                    &person_key,
                    &case_code,
                    Cause::PolicyChange,
                    &new_ctx,
                )
                .await?;
            }
        }
        if apply {
            sqlx::query(
                "INSERT INTO policy_in_force (id, name, version, source_text, since) VALUES (1, $1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, source_text = excluded.source_text, since = excluded.since",
            )
            .bind(policy.name())
            .bind(policy.version())
            .bind(policy.source_text.as_str())
            .bind(ts(ctx.now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(report)
    }

    async fn policy_in_force(&self) -> Result<Option<(String, String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, version, source_text FROM policy_in_force WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn record(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Option<RecordView>, StoreError> {
        let person_key = self.keys.person_key(identity);
        let row: Option<(String, Option<String>, Option<String>, Option<String>, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>)> =
            sqlx::query_as(
                "SELECT state, state_date, state_trigger, policy, policy_version, facts, decision, data_key FROM records \
                 WHERE person_key = $1 AND case_code = $2",
            )
            .bind(person_key.as_str())
            .bind(case_code)
            .fetch_optional(&self.pool)
            .await?;
        let Some((state, state_date, trigger, policy, policy_version, facts, decision, wrapped)) =
            row
        else {
            return Ok(None);
        };
        Ok(Some(RecordView {
            case_code: case_code.to_owned(),
            state,
            state_date,
            trigger,
            policy,
            policy_version,
            facts: self
                .decrypt_view(
                    &person_key,
                    case_code,
                    &wrapped,
                    facts,
                    &format!("facts/{case_code}"),
                )
                .await?,
            decision: self
                .decrypt_view(
                    &person_key,
                    case_code,
                    &wrapped,
                    decision,
                    &format!("decision/{case_code}"),
                )
                .await?,
        }))
    }

    async fn states(&self) -> Result<Vec<StateRow>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT person_key, case_code, state, state_date, state_trigger, policy, policy_version FROM records ORDER BY person_key, case_code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(person_key, case_code, state, state_date, trigger, policy, policy_version)| {
                    StateRow {
                        person_key,
                        case_code,
                        state,
                        state_date,
                        trigger,
                        policy,
                        policy_version,
                    }
                },
            )
            .collect())
    }

    async fn events(&self) -> Result<Vec<(ValidEvent, jiff::Timestamp)>, StoreError> {
        let rows: Vec<(String, String, String, Vec<u8>, String, Vec<u8>)> = sqlx::query_as(
            "SELECT e.person_key, e.case_code, e.idempotency_key, e.body, e.received_at, r.data_key FROM events e \
             JOIN records r ON r.person_key = e.person_key AND r.case_code = e.case_code ORDER BY e.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut keys_by_record: HashMap<(String, String), DataKey> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (person_key, case_code, idempotency_key, body, received_at, wrapped) in rows {
            let record = (person_key, case_code);
            if !keys_by_record.contains_key(&record) {
                let key = self.keys.record_key(&wrapped, &record.0, &record.1)?;
                keys_by_record.insert(record.clone(), key);
            }
            let key = keys_by_record
                .get(&record)
                .ok_or_else(|| StoreError::Corrupt("record key".into()))?;
            let plain = keys::open(key, &body, &format!("event/{idempotency_key}"))?;
            let event = Event::parse(&plain)
                .map_err(|e| StoreError::Corrupt(format!("event {idempotency_key}: {e}")))?;
            let at: jiff::Timestamp = received_at
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("time {received_at}")))?;
            out.push((event, at));
        }
        Ok(out)
    }

    async fn transitions(
        &self,
        case_code: &str,
        identity: &str,
    ) -> Result<Vec<TransitionView>, StoreError> {
        let person_key = self.keys.person_key(identity);
        let mut tx = self.pool.begin().await?;
        let views = self
            .transitions_by_key(&mut tx, &person_key, case_code)
            .await?;
        tx.rollback().await?;
        Ok(views)
    }

    async fn notices(&self, filter: NoticeFilter) -> Result<Vec<NoticeView>, StoreError> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT n.notice_id, n.person_key, n.case_code, n.kind, n.recipient, n.status, n.attempts, n.last_error, n.created_at, \
             n.delivered_at, n.acknowledged_at, n.body, r.data_key FROM notices n \
             JOIN records r ON r.person_key = n.person_key AND r.case_code = n.case_code \
             WHERE ($1 IS NULL OR n.status = $1) AND ($2 IS NULL OR n.case_code = $2) \
             AND ($3 = 0 OR (n.recipient <> 'person' AND n.status <> 'acknowledged')) ORDER BY n.created_at, n.notice_id",
        )
        .bind(filter.status.clone())
        .bind(filter.case_code.clone())
        .bind(i64::from(filter.unacknowledged))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|row| self.notice_view(row)).collect()
    }

    async fn due_notices(
        &self,
        now: jiff::Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>, i64, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT n.notice_id, n.person_key, n.case_code, a.endpoint, n.attempts, n.kind, n.body, r.data_key FROM notices n \
             JOIN records r ON r.person_key = n.person_key AND r.case_code = n.case_code \
             LEFT JOIN agencies a ON a.agency_code = n.recipient \
             WHERE n.status IN ('pending', 'retrying') AND n.next_attempt_at <= $1 ORDER BY n.next_attempt_at, n.notice_id LIMIT $2",
        )
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for (notice_id, person_key, case_code, endpoint, attempts, kind, body, wrapped) in rows {
            let key = self.keys.record_key(&wrapped, &person_key, &case_code)?;
            let content: serde_json::Value =
                serde_json::from_slice(&keys::open(&key, &body, &format!("notice/{notice_id}"))?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let recipient: (String,) =
                sqlx::query_as("SELECT recipient FROM notices WHERE notice_id = $1")
                    .bind(notice_id.as_str())
                    .fetch_one(&self.pool)
                    .await?;
            items.push(OutboxItem {
                notice_id,
                recipient: recipient.0,
                endpoint,
                attempts,
                kind,
                title: content["title"].as_str().unwrap_or_default().to_owned(),
                body: content["body"].as_str().unwrap_or_default().to_owned(),
                ack_token: content["ack_token"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(items)
    }

    async fn record_delivery(
        &self,
        notice_id: &str,
        result: Delivery,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let query = match &result {
            Delivery::Delivered => sqlx::query(
                "UPDATE notices SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, last_error = NULL, next_attempt_at = NULL \
                 WHERE notice_id = $2 AND status IN ('pending', 'retrying')",
            )
            .bind(ts(now))
            .bind(notice_id),
            Delivery::Failed { error, retry_at: Some(at) } => sqlx::query(
                "UPDATE notices SET status = 'retrying', attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
                 WHERE notice_id = $3 AND status IN ('pending', 'retrying')",
            )
            .bind(error.clone())
            .bind(ts(*at))
            .bind(notice_id),
            Delivery::Failed { error, retry_at: None } => sqlx::query(
                "UPDATE notices SET status = 'failed', attempts = attempts + 1, last_error = $1, next_attempt_at = NULL \
                 WHERE notice_id = $2 AND status IN ('pending', 'retrying')",
            )
            .bind(error.clone())
            .bind(notice_id),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    async fn acknowledge(
        &self,
        notice_id: &str,
        token: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let row: Option<(Option<Vec<u8>>, String)> =
            sqlx::query_as("SELECT ack_token_hash, recipient FROM notices WHERE notice_id = $1")
                .bind(notice_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((Some(expected), recipient)) = row else {
            return Ok(false);
        };
        if recipient == "person" || expected != self.keys.hash(token.as_bytes()) {
            return Ok(false);
        }
        sqlx::query("UPDATE notices SET status = 'acknowledged', acknowledged_at = $1, next_attempt_at = NULL WHERE notice_id = $2")
            .bind(ts(now))
            .bind(notice_id)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    async fn set_agency(&self, agency: &AgencyEndpoint) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agencies (agency_code, kind, name, endpoint) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agency_code) DO UPDATE SET kind = excluded.kind, name = COALESCE(excluded.name, agencies.name), endpoint = excluded.endpoint",
        )
        .bind(agency.code.as_str())
        .bind(agency.kind.as_str())
        .bind(agency.name.clone())
        .bind(agency.endpoint.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
            .fetch_one(&self.pool)
            .await?;
        let records_by_state =
            sqlx::query_as("SELECT state, COUNT(*) FROM records GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        let notices_by_status =
            sqlx::query_as("SELECT status, COUNT(*) FROM notices GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        Ok(Counts {
            events,
            records_by_state,
            notices_by_status,
        })
    }
}

type NoticeRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Vec<u8>,
    Vec<u8>,
);

impl SqlStore {
    fn notice_view(&self, row: NoticeRow) -> Result<NoticeView, StoreError> {
        let (
            notice_id,
            person_key,
            case_code,
            kind,
            recipient,
            status,
            attempts,
            last_error,
            created_at,
            delivered_at,
            acknowledged_at,
            body,
            wrapped,
        ) = row;
        let key = self.keys.record_key(&wrapped, &person_key, &case_code)?;
        let content: serde_json::Value =
            serde_json::from_slice(&keys::open(&key, &body, &format!("notice/{notice_id}"))?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(NoticeView {
            notice_id,
            case_code,
            kind,
            recipient,
            status,
            attempts,
            last_error,
            created_at,
            delivered_at,
            acknowledged_at,
            title: content["title"].as_str().unwrap_or_default().to_owned(),
            body: content["body"].as_str().unwrap_or_default().to_owned(),
        })
    }

    async fn transitions_by_key(
        &self,
        tx: &mut Tx,
        person_key: &str,
        case_code: &str,
    ) -> Result<Vec<TransitionView>, StoreError> {
        type Row = (
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
            Vec<u8>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT case_code, from_state, to_state, state_date, state_trigger, rule, policy, policy_version, actor, at, reasons \
             FROM transitions WHERE person_key = $1 AND case_code = $2 ORDER BY seq",
        )
        .bind(person_key)
        .bind(case_code)
        .fetch_all(&mut **tx)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.record_key(tx, person_key, case_code).await?;
        rows.into_iter()
            .map(
                |(
                    case_code,
                    from,
                    to,
                    date,
                    trigger,
                    rule,
                    policy,
                    policy_version,
                    actor,
                    at,
                    reasons,
                )| {
                    let plain =
                        keys::open(&key, &reasons, &format!("transition/{case_code}/{at}"))?;
                    Ok(TransitionView {
                        case_code,
                        from,
                        to,
                        date,
                        trigger,
                        rule,
                        policy,
                        policy_version,
                        actor,
                        at,
                        reasons: serde_json::from_slice(&plain)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    })
                },
            )
            .collect()
    }
}
