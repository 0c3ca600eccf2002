//! The one SQL implementation of `Store`, for SQLite and PostgreSQL alike (sqlx `Any`).

pub(crate) mod reads;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use fengcun_crypto::DataKey;
use fengcun_domain::{Date, Event, ValidEvent, parse_record};
use fengcun_lifecycle::{Cause, DecidedRecord, State, StateCode};
use fengcun_policy::{Policy, Trigger};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

use crate::error::StoreError;
use crate::keys::{self, Keys};
use crate::schema;
use crate::types::*;
use crate::{AuditEvent, NoticeStatus, Store};
use crate::{RecordFilter, RecordPage, RecordTimeline, Stats};

mod access;
mod audit;
mod notices;
pub(crate) mod rows;

pub(crate) type Tx = Transaction<'static, Any>;

/// The SQL store. Cheap to clone (a pool and keys).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// Where write transactions run. On SQLite one connection, kept: its page cache stays warm
    /// from one batch to the next, where alternating between the pool's connections made each
    /// batch start cold (a connection drops its cache whenever another one wrote).
    writer: AnyPool,
    pub(crate) backend: Backend,
    keys: Keys,
}

pub(crate) use rows::ts;
use rows::{decode, decode_opt};

/// Page cache of each reading connection.
const READ_CACHE_KIB: i64 = 64 * 1024;

/// Page cache of the one connection that writes: it walks every index a batch touches, several of
/// them keyed by pseudonymous (random) person keys, and a larger cache keeps their upper levels and
/// recent leaves in memory as the store grows past what 64 MB holds.
const WRITE_CACHE_KIB: i64 = 256 * 1024;

/// Every connection's settings; on SQLite, with a page cache of `cache_kib`.
fn pool_options(sqlite: bool, cache_kib: i64) -> AnyPoolOptions {
    AnyPoolOptions::new().after_connect(move |conn, _| {
        Box::pin(async move {
            if sqlite {
                // WAL survives a killed process with every committed transaction intact.
                use sqlx::Executor;
                // The committing connection copies the log back into the database once it holds
                // 16,384 pages (64 MB) rather than SQLite's 1,000: a batch of events writes about
                // 1,600 pages, so the default checkpointed after every batch — two fsyncs each,
                // and the pages every batch touches (the tables' last pages, the indexes' upper
                // levels) copied back every time. Ingestion: -20 % time, -10 % processor
                // (docs/benchmarks.md); the log stays under 64 MB and a batch (docs/storage.md).
                conn.execute(
                    format!(
                        "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                         PRAGMA cache_size = -{cache_kib}; PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY; \
                         PRAGMA wal_autocheckpoint = 16384;"
                    )
                    .as_str(),
                )
                .await?;
            }
            Ok(())
        })
    })
}

/// A database URL fit to show: whatever stands between the scheme and the last `@` (a user and
/// password, even one holding `/` or `@`) reduced to the user, the password as `***`.
pub fn without_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_owned(),
    };
    let scheme = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    format!("{scheme}{shown}@{host}")
}

/// Refuses a master key the database was not made with. A database from before the check was
/// kept proves the key by opening one record's data key, then keeps the check.
async fn check_master_key(conn: &mut sqlx::AnyConnection, keys: &Keys) -> Result<(), StoreError> {
    let ours = keys.check_value();
    if let Some(kept) = kept_key_check(conn).await? {
        return same_key(&kept, &ours);
    }
    let sample: Option<(String, String, Vec<u8>)> =
        sqlx::query_as("SELECT person_key, case_code, data_key FROM records LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((person_key, case_code, wrapped)) = sample {
        keys.record_key(&wrapped, &person_key, &case_code)
            .map_err(|_| StoreError::WrongMasterKey)?;
    }
    // Two processes opening a new database at once: the first check kept wins, the other is
    // compared with it.
    sqlx::query(
        "INSERT INTO key_check (name, check_value) VALUES ('master', $1) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&ours)
    .execute(&mut *conn)
    .await?;
    let kept = kept_key_check(conn).await?.unwrap_or_default();
    same_key(&kept, &ours)
}

async fn kept_key_check(conn: &mut sqlx::AnyConnection) -> Result<Option<String>, StoreError> {
    let kept: Option<(String,)> =
        sqlx::query_as("SELECT check_value FROM key_check WHERE name = 'master'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(kept.map(|(value,)| value))
}

fn same_key(kept: &str, ours: &str) -> Result<(), StoreError> {
    if kept == ours {
        Ok(())
    } else {
        Err(StoreError::WrongMasterKey)
    }
}

impl SqlStore {
    /// Opens (creating and migrating) the store; with `check_key`, refuses a master key the
    /// database was not made with.
    pub async fn connect(url: &str, keys: Keys, check_key: bool) -> Result<Self, StoreError> {
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
            return Err(StoreError::UnsupportedUrl(without_password(url)));
        };
        let sqlite = backend == Backend::Sqlite;
        let pool = pool_options(sqlite, READ_CACHE_KIB)
            .max_connections(if sqlite { 4 } else { 8 })
            .connect(&url)
            .await?;
        let mut conn = pool.acquire().await?;
        if sqlite {
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&mut *conn)
                .await?;
        }
        schema::migrate(&mut conn, backend).await?;
        if check_key {
            check_master_key(&mut conn, &keys).await?;
        }
        drop(conn);
        let writer = if sqlite {
            pool_options(sqlite, WRITE_CACHE_KIB)
                .max_connections(1)
                .connect(&url)
                .await?
        } else {
            pool.clone()
        };
        let store = Self {
            pool,
            writer,
            backend,
            keys,
        };
        if check_key {
            store.rewrite_legacy_content_hashes().await?;
        }
        Ok(store)
    }

    /// Replaces the plain content hashes of events stored before the keyed MAC (`Keys::content_mac`)
    /// by their MACs, computed over each event's decrypted body — exactly the bytes the plain hash
    /// was of, so a duplicate is still recognised. Done once, when the store is opened with its
    /// master key, a transaction per 500 events; an interrupted run resumes where it stopped (only
    /// 32-byte values are plain hashes), and two processes doing it together write the same values.
    /// An event whose body (or record key) does not open is left as it is and logged: one damaged row must not stop
    /// the platform, and its duplicate check still compares the plain hash (`Keys::same_content`).
    async fn rewrite_legacy_content_hashes(&self) -> Result<(), StoreError> {
        let mut after = 0i64;
        loop {
            let mut tx = self.begin_write().await?;
            // seq, person key, case code, idempotency key, sealed body, wrapped record key.
            type Row = (i64, String, String, String, Vec<u8>, Vec<u8>);
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT e.seq, e.person_key, e.case_code, e.idempotency_key, e.body, r.data_key FROM events e \
                 JOIN records r ON r.person_key = e.person_key AND r.case_code = e.case_code \
                 WHERE length(e.content_hash) = $1 AND e.seq > $2 ORDER BY e.seq LIMIT 500",
            )
            .bind(keys::LEGACY_HASH_BYTES as i64)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for (seq, person_key, case_code, idempotency_key, body, wrapped) in rows {
                after = seq;
                let opened = self
                    .keys
                    .record_key(&wrapped, &person_key, &case_code)
                    .and_then(|key| keys::open(&key, &body, &format!("event/{idempotency_key}")));
                let plain = match opened {
                    Ok(plain) => plain,
                    Err(error) => {
                        tracing::warn!(seq, %error, "an event's body does not open; its plain content hash is kept");
                        continue;
                    }
                };
                sqlx::query(
                    "UPDATE events SET content_hash = $1 WHERE seq = $2 AND length(content_hash) = $3",
                )
                .bind(self.keys.content_mac(&plain))
                .bind(seq)
                .bind(keys::LEGACY_HASH_BYTES as i64)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first cannot become a writer after another
    /// connection commits, and would fail at once, whatever the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

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
            sqlx::query("DELETE FROM records_to_refresh WHERE person_key = $1 AND case_code = $2")
                .bind(person_key)
                .bind(case_code)
                .execute(&mut **tx)
                .await?;
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
        let mut tx = self.pool.begin().await?;
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
            sqlx::query(
                "INSERT INTO records_to_refresh (person_key, case_code, policy, policy_version, since) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (person_key, case_code) DO UPDATE SET policy = excluded.policy, policy_version = excluded.policy_version",
            )
            .bind(person_key)
            .bind(case_code)
            .bind(policy.name())
            .bind(policy.version())
            .bind(ts(ctx.now))
            .execute(&mut *tx)
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

    /// The connections write transactions use (on SQLite one, kept warm), for a caller that
    /// writes with its own SQL — the ingestion benchmark's baseline.
    pub fn write_pool(&self) -> &AnyPool {
        &self.writer
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub(crate) async fn decrypt_view(
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

pub(crate) fn state_from_row(state: &str, date: Option<&str>, trigger: Option<&str>) -> State {
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
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT person_key, case_code FROM records WHERE state = 'pending_seal' AND state_date IS NOT NULL AND state_date <= $1 \
             ORDER BY person_key, case_code",
        )
        .bind(ctx.today().to_string())
        .fetch_all(&self.pool)
        .await?;
        // Records a change to this policy could not decide: decided again until they can be.
        let left: Vec<(String, String)> = sqlx::query_as(
            "SELECT person_key, case_code FROM records_to_refresh WHERE policy = $1 AND policy_version = $2",
        )
        .bind(ctx.policy.name())
        .bind(ctx.policy.version())
        .fetch_all(&self.pool)
        .await?;
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
        let rows: Vec<(String, String, Option<Vec<u8>>, Vec<u8>)> = sqlx::query_as(
            "SELECT person_key, case_code, facts, data_key FROM records ORDER BY person_key, case_code",
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
        // Each record on its own: read, and decided once under the new policy — applied, in a
        // transaction of its own that writes what was decided; previewed, in one that writes
        // nothing. One that fails is reported and the others go on.
        for (person_key, case_code, facts, wrapped) in rows {
            let Some(facts) = facts else { continue };
            let label = format!("{case_code}/{}", &person_key[..12.min(person_key.len())]);
            // A record whose stored facts cannot be read is not decided: it is reported (and,
            // applied, left for the scheduler to decide again from its events).
            let readable = self
                .keys
                .record_key(&wrapped, &person_key, &case_code)
                .and_then(|key| keys::open(&key, &facts, &format!("facts/{case_code}")))
                .and_then(|plain| {
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
            // This change tried every record: what an earlier one left is decided or listed again.
            sqlx::query(
                "DELETE FROM records_to_refresh WHERE NOT (policy = $1 AND policy_version = $2)",
            )
            .bind(policy.name())
            .bind(policy.version())
            .execute(&mut *tx)
            .await?;
            let change = AuditEvent::new(
                crate::AuditKind::PolicyChanged,
                ctx.actor.label(),
                "in_force",
            )
            .detail(serde_json::json!({
                "policy": policy.name(),
                "version": policy.version(),
                "document_sha": fengcun_crypto::hash(self.keys.suite(), policy.source_text.as_bytes())
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
        let row: Option<(String, Option<String>, Option<String>, Option<String>, Option<String>, Option<Vec<u8>>, Vec<u8>)> =
            sqlx::query_as(
                "SELECT state, state_date, state_trigger, policy, policy_version, facts, data_key FROM records \
                 WHERE person_key = $1 AND case_code = $2",
            )
            .bind(person_key.as_str())
            .bind(case_code)
            .fetch_optional(&self.pool)
            .await?;
        let Some((state, state_date, trigger, policy, policy_version, facts, wrapped)) = row else {
            return Ok(None);
        };
        Ok(Some(RecordView {
            case_code: case_code.to_owned(),
            state: decode("records.state", &state, StateCode::parse)?,
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
            // The transition that made the current state, with its evidence and policy text.
            transition: {
                let mut tx = self.pool.begin().await?;
                let transitions = self
                    .transitions_by_key(&mut tx, &person_key, case_code)
                    .await?;
                tx.rollback().await?;
                transitions.into_iter().last()
            },
        }))
    }

    async fn states(&self) -> Result<Vec<StateRow>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT person_key, case_code, state, state_date, state_trigger, policy, policy_version FROM records ORDER BY person_key, case_code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(person_key, case_code, state, state_date, trigger, policy, policy_version)| {
                    Ok(StateRow {
                        state: decode("records.state", &state, StateCode::parse)?,
                        person_key,
                        case_code,
                        state_date,
                        trigger,
                        policy,
                        policy_version,
                    })
                },
            )
            .collect()
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
            let event = Event::parse_stored(&plain)
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

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
            .fetch_one(&self.pool)
            .await?;
        let records_by_state: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM records GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        let notices_by_status: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM notices GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        let records_by_state = records_by_state
            .into_iter()
            .map(|(state, n)| Ok((decode("records.state", &state, StateCode::parse)?, n)))
            .collect::<Result<_, StoreError>>()?;
        let notices_by_status = notices_by_status
            .into_iter()
            .map(|(status, n)| Ok((decode("notices.status", &status, NoticeStatus::parse)?, n)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Counts {
            events,
            records_by_state,
            notices_by_status,
        })
    }

    async fn record_page(&self, filter: &RecordFilter) -> Result<RecordPage, StoreError> {
        self.read_record_page(filter).await
    }

    async fn timelines(
        &self,
        case_code: &str,
        held_by: Option<&str>,
    ) -> Result<Vec<RecordTimeline>, StoreError> {
        self.read_timelines(case_code, held_by).await
    }

    async fn recorded_policy(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read_recorded_policy(name, version).await
    }

    async fn case_code_of_document(
        &self,
        agency: &str,
        document_number: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read_case_code_of_document(agency, document_number)
            .await
    }

    async fn stats(&self, today: Date, now: jiff::Timestamp) -> Result<Stats, StoreError> {
        self.read_stats(today, now).await
    }
}

impl SqlStore {
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
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT case_code, from_state, to_state, state_date, state_trigger, rule, policy, policy_version, actor, at, reasons, transition_id \
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
        // Each policy version's text, read once: the callers explain each transition under it
        // (`fengcun_policy::explain_recorded`).
        let mut policies: HashMap<(String, String), Arc<str>> = HashMap::new();
        let mut views = Vec::with_capacity(rows.len());
        for (
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
            evidence,
            transition_id,
        ) in rows
        {
            let evidence = keys::open(&key, &evidence, &format!("transition/{transition_id}"))?;
            let evidence: serde_json::Value = serde_json::from_slice(&evidence)
                .map_err(|e| StoreError::Corrupt(format!("transition evidence: {e}")))?;
            let version = (policy.clone(), policy_version.clone());
            let policy_text = match policies.get(&version) {
                Some(text) => Arc::clone(text),
                None => {
                    let (text,): (String,) = sqlx::query_as(
                        "SELECT source_text FROM policies WHERE name = $1 AND version = $2",
                    )
                    .bind(policy.as_str())
                    .bind(policy_version.as_str())
                    .fetch_one(&mut **tx)
                    .await?;
                    let text: Arc<str> = text.into();
                    policies.insert(version, Arc::clone(&text));
                    text
                }
            };
            views.push(TransitionView {
                case_code,
                from: decode_opt("transitions.from_state", from.as_deref(), StateCode::parse)?,
                to: decode("transitions.to_state", &to, StateCode::parse)?,
                date,
                trigger,
                rule,
                policy,
                policy_version,
                actor,
                at,
                evidence,
                policy_text,
            });
        }
        Ok(views)
    }
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        for (url, shown) in [
            ("mysql://fengcun:hunter2@h/db", "mysql://fengcun:***@h/db"),
            (
                "postgres://a:b:c@h:5432/db?x=1",
                "postgres://a:***@h:5432/db?x=1",
            ),
            ("postgres://fengcun@h/db", "postgres://fengcun@h/db"),
            ("sqlite://fengcun.sqlite", "sqlite://fengcun.sqlite"),
            ("fengcun.sqlite", "fengcun.sqlite"),
            ("postgres://u:p/w@rd@h/db", "postgres://u:***@h/db"),
            ("u:pw@h/db", "u:***@h/db"),
        ] {
            assert_eq!(super::without_password(url), shown);
        }
    }
}
