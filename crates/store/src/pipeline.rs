//! Bulk ingestion with one batch in flight: the next batch is read and decided while the one before
//! it is written and committed.
//!
//! A batch's work is mostly of two kinds that used to take turns: deciding it (deriving records,
//! evaluating the policy, sealing rows — this process's CPU) and writing it (the database's).
//! Here batch N+1 is decided on a snapshot of the store read while batch N is being written, with
//! N's effects applied to it (`Snapshot::absorb`): the store as it will be once N has committed.
//! Each batch is still one transaction, committed in order, and the outcome of every line is the
//! one `Store::ingest` would give.
//!
//! A decision made ahead is only used when nobody else wrote in between. The pipeline holds the
//! store's write connection for its lifetime and reads SQLite's `PRAGMA data_version` (which
//! changes when another connection commits) right after each batch's `BEGIN IMMEDIATE`. Batch N+1's
//! plan is written only if (a) batch N was written as planned and (b) the version at N+1's begin is
//! the version at N's begin: no other connection committed between N's begin and N+1's (none can
//! while N holds the write lock). A commit by another connection before N's begin — possibly after
//! N+1's snapshot was read — fails N's own check, so N is decided again, and by (a) N+1 is decided
//! again too. With nothing in flight, the version is read before the snapshot. Otherwise — and for
//! a batch with a refused line, in a dry run, and on PostgreSQL, which has no such counter — the
//! batch is decided again inside its own transaction, exactly as `Store::ingest` does — on
//! PostgreSQL after taking its persons' locks (`SqlStore::lock_persons`), so that a batch about
//! the same persons sent meanwhile through the API is decided before it or after it, never on
//! the same snapshot. No plan is made ahead on PostgreSQL: it would be decided without them.

use std::time::Instant;

use fengcun_domain::ValidEvent;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, ConnectOptions, Connection};
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::ingest::{Effects, Plan};
use crate::sql::SqlStore;
use crate::types::{Backend, Context, LineOutcome};

/// What became of each line of a batch, by the caller's line numbers. A refused line is taken out
/// and the rest of its batch stored without it, so that exactly the good lines are stored.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub lines: Vec<(usize, Result<LineOutcome, StoreError>)>,
}

/// Batches in, reports out one batch behind. Dropping a pipeline with a batch in flight lets that
/// batch finish or roll back on its own; call `finish` to learn which.
#[derive(Debug)]
pub struct Pipeline {
    store: SqlStore,
    ctx: Context,
    dry_run: bool,
    /// The write connection while no batch is in flight.
    conn: Option<PoolConnection<Any>>,
    in_flight: Option<InFlight>,
    tally: Tally,
    /// A page cache asked for while a batch held the connection, set before the next one.
    cache_kib: Option<i64>,
    /// On SQLite (not a dry run), copying the log back beside the batches.
    checkpointer: Option<Checkpointer>,
}

/// How the batches written so far were decided, and where the caller's time went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Written as decided ahead, while the batch before was being written.
    pub ahead: usize,
    /// Decided inside their own transaction.
    pub in_transaction: usize,
    /// Reading snapshots.
    pub reading: std::time::Duration,
    /// Deciding batches ahead on them.
    pub deciding: std::time::Duration,
    /// Waiting for the batch in flight to commit.
    pub waiting: std::time::Duration,
}

#[derive(Debug)]
struct InFlight {
    task: JoinHandle<Result<Written, StoreError>>,
    /// What its plan changes, if it was decided ahead.
    effects: Option<Effects>,
}

#[derive(Debug)]
struct Written {
    report: BatchReport,
    conn: PoolConnection<Any>,
    /// `PRAGMA data_version` when its transaction began, if the plan made ahead was written;
    /// `None` if the batch was decided in its transaction.
    planned_at: Option<i64>,
}

/// A batch decided ahead, with the data version it is valid for.
struct Ahead {
    plan: Plan,
    effects: Effects,
    version: Option<i64>,
}

/// While a pipeline writes to SQLite, its own connection copies the log back only once the log
/// holds this many pages (4 GiB) rather than the 16,384 (64 MB) of every other write: the copying
/// is the `Checkpointer`'s, on a connection of its own, beside the batches. This one is the
/// bound should that one fall behind or fail, and the moment the log starts again from its
/// beginning (SQLite restarts the log only when a write transaction begins on a log copied back
/// whole, which the writer, beginning each batch as the one before commits, finds only after a
/// checkpoint of its own — cheap by then: the frames are copied already). A million records:
/// 292 s with the writer copying back every 1 GiB itself, 265 s with the checkpointer beside it
/// and this bound at 1 GiB, 242 s at 4 GiB; at 256 MB the writer's own checkpoints came every
/// two or three batches and it was slower than without the checkpointer (docs/benchmarks.md,
/// "The national import"). The log file reaches 4.5 GB (a million records) to 5.3 GB (ten million).
const BULK_CHECKPOINT_PAGES: i64 = 1_048_576;

impl SqlStore {
    /// A pipeline for storing many batches in order (`fengcun import`); with `dry_run`, every batch
    /// is checked against the store as it is and rolled back. On SQLite its connection checkpoints
    /// less often while it writes (`BULK_CHECKPOINT_PAGES`), until the pipeline lets the
    /// connection go — finished, failed or dropped — and the pool puts the usual setting back.
    pub async fn pipeline(&self, ctx: Context, dry_run: bool) -> Result<Pipeline, StoreError> {
        let mut conn = self.write_pool().acquire().await?;
        if self.backend == Backend::Sqlite {
            // Marked first: should the statement fail, the released connection is reset anyway.
            self.bulk_settings
                .store(true, std::sync::atomic::Ordering::SeqCst);
            set_checkpoint_pages(&mut conn, BULK_CHECKPOINT_PAGES).await?;
        }
        let checkpointer =
            (self.backend == Backend::Sqlite && !dry_run).then(|| Checkpointer::start(self.pool()));
        Ok(Pipeline {
            store: self.clone(),
            ctx,
            dry_run,
            conn: Some(conn),
            in_flight: None,
            tally: Tally::default(),
            cache_kib: None,
            checkpointer,
        })
    }
}

impl Pipeline {
    /// The time the next batches are decided at. An import of hours sets it before each batch, so
    /// that each transition, notice and audit entry carries when it was made, not when the
    /// import began (a replay keeps one time it is given).
    pub fn set_now(&mut self, now: jiff::Timestamp) {
        self.ctx.now = now;
    }

    /// Takes the next batch (line number, event) and starts writing it; returns the report of the
    /// batch before it, once that one has committed.
    pub async fn push(
        &mut self,
        batch: Vec<(usize, ValidEvent)>,
    ) -> Result<Option<BatchReport>, StoreError> {
        let mut finished = None;
        // A batch in flight that was not decided ahead has no effects to read this one against.
        if self
            .in_flight
            .as_ref()
            .is_some_and(|flight| flight.effects.is_none())
        {
            finished = self.wait().await?;
        }
        let (labels, events): (Vec<usize>, Vec<ValidEvent>) = batch.into_iter().unzip();
        let mut ahead = self.decide_ahead(&events).await;
        if let Some(flight) = self.in_flight.take() {
            let (report, planned_at) = self.land(flight).await?;
            finished = Some(report);
            match (&mut ahead, planned_at) {
                (Some(ahead), Some(version)) => ahead.version = Some(version),
                // It was decided again in its transaction: this one was read against a guess
                // (condition (a) of the module's rule).
                (Some(_), None) => ahead = self.decide_ahead(&events).await,
                (None, _) => {}
            }
        }
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.store.write_pool().acquire().await?,
        };
        if let Some(kib) = self.cache_kib.take() {
            set_cache_kib(&mut conn, kib).await?;
        }
        let (plan, effects, version) = match ahead {
            Some(Ahead {
                plan,
                effects,
                version,
            }) => (Some(plan), Some(effects), version),
            None => (None, None, None),
        };
        let task = tokio::spawn(write_batch(
            self.store.clone(),
            conn,
            labels,
            events,
            plan.map(|plan| (plan, version)),
            self.ctx.clone(),
            self.dry_run,
        ));
        self.in_flight = Some(InFlight { task, effects });
        Ok(finished)
    }

    /// On SQLite, the page cache of the pipeline's connection, in MiB, while it holds the
    /// connection (the writer's 256 MB otherwise): a store of tens of millions of records has
    /// indexes keyed by random person keys of gigabytes, and every page a batch finds in the
    /// cache is one not read again from the file. An upper bound: the cache grows only as pages
    /// are read. Set while a batch is in flight (its connection is the batch's), it applies from
    /// the next.
    pub async fn set_cache(&mut self, mib: u32) -> Result<(), StoreError> {
        if self.store.backend != Backend::Sqlite {
            return Ok(());
        }
        let kib = i64::from(mib) * 1024;
        match self.conn.as_mut() {
            Some(conn) => set_cache_kib(conn, kib).await?,
            None => self.cache_kib = Some(kib),
        }
        Ok(())
    }

    /// Waits for the batch in flight; its report. On SQLite the checkpointer is stopped and the
    /// log copied back into the database (a passive checkpoint, which waits for no reader), so
    /// that the last batches, committed and reported stored, are synced now rather than at the
    /// next write's checkpoint. The connection takes back the usual settings when the pipeline
    /// lets it go (the write pool's `after_release`).
    pub async fn finish(&mut self) -> Result<Option<BatchReport>, StoreError> {
        let report = self.wait().await?;
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.stop().await;
        }
        if self.store.backend == Backend::Sqlite && !self.dry_run {
            if let Some(conn) = self.conn.as_mut() {
                if let Err(error) = checkpoint(conn).await {
                    // The batches are committed; a later checkpoint copies them.
                    tracing::warn!(%error, "the checkpoint after an import failed");
                }
            }
        }
        Ok(report)
    }

    /// How the batches written so far were decided.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Waits for a batch in flight to commit and takes its connection back: its report, and the
    /// data version its plan was written at (`None` if it was decided in its transaction).
    async fn land(&mut self, flight: InFlight) -> Result<(BatchReport, Option<i64>), StoreError> {
        let started = Instant::now();
        let written = flight
            .task
            .await
            .map_err(|e| StoreError::Corrupt(format!("ingestion task: {e}")))??;
        self.tally.waiting += started.elapsed();
        self.conn = Some(written.conn);
        match written.planned_at {
            Some(_) => self.tally.ahead += 1,
            None => self.tally.in_transaction += 1,
        }
        Ok((written.report, written.planned_at))
    }

    async fn wait(&mut self) -> Result<Option<BatchReport>, StoreError> {
        match self.in_flight.take() {
            Some(flight) => Ok(Some(self.land(flight).await?.0)),
            None => Ok(None),
        }
    }

    /// Reads a snapshot of the store, applies the effects of the batch in flight, and decides
    /// `events` on it. `None` where deciding ahead does not apply, the batch has a refused line
    /// (its transaction will find and name the line), or anything failed: deciding ahead is only
    /// a head start, and the batch's transaction decides it in any case.
    async fn decide_ahead(&mut self, events: &[ValidEvent]) -> Option<Ahead> {
        if self.dry_run || self.store.backend != Backend::Sqlite || events.is_empty() {
            return None;
        }
        match self.try_decide_ahead(events).await {
            Ok(ahead) => ahead,
            Err(error) => {
                tracing::debug!(%error, "deciding a batch ahead failed; its transaction decides it");
                None
            }
        }
    }

    async fn try_decide_ahead(
        &mut self,
        events: &[ValidEvent],
    ) -> Result<Option<Ahead>, StoreError> {
        // With nothing in flight, the store the snapshot shows is the one as of this version.
        let version = match &mut self.conn {
            Some(conn) if self.in_flight.is_none() => Some(data_version(conn).await?),
            _ => None,
        };
        let started = Instant::now();
        let person_keys = self.store.person_keys(events);
        let mut reading = self.store.pool().begin().await?;
        let mut snapshot = self
            .store
            .read_snapshot(&mut reading, events, &person_keys)
            .await?;
        reading.rollback().await?;
        self.tally.reading += started.elapsed();
        let started = Instant::now();
        if let Some(effects) = self
            .in_flight
            .as_ref()
            .and_then(|flight| flight.effects.as_ref())
        {
            snapshot.absorb(effects);
        }
        let planned = self
            .store
            .plan(snapshot, events, person_keys, &self.ctx)
            .await;
        self.tally.deciding += started.elapsed();
        Ok(match planned {
            Ok((plan, effects)) => Some(Ahead {
                plan,
                effects,
                version,
            }),
            Err(error) => {
                tracing::debug!(%error, "a batch with a refusal is decided in its transaction");
                None
            }
        })
    }
}

/// While an import writes, another connection copies the log back into the database, so that
/// the write connection's commits do not wait for it. A checkpoint made by the committing
/// connection (`wal_autocheckpoint`) copies up to a gigabyte of log and syncs the log and the
/// database file before that commit returns: at a million records, 119 of the import's 292
/// seconds were spent committing, most of them waiting for those syncs with the processor half
/// idle; with this checkpointer, 53 of 242 (docs/benchmarks.md, "The national import"). A
/// passive checkpoint runs beside the writer (SQLite takes no lock the writer needs). Each one
/// syncs the log first, so a power cut loses at most what was committed since the last one
/// began — a batch or a few — rather than everything since the writer's last checkpoint.
#[derive(Debug)]
struct Checkpointer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// How long the checkpointer rests after copying every frame there was: about one batch.
const CAUGHT_UP_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// And after a checkpoint that left frames behind (committed while it copied).
const BEHIND_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

impl Checkpointer {
    fn start(pool: &sqlx::AnyPool) -> Self {
        // A connection of its own, not one of the pool's: a checkpoint of a second is its
        // normal work, not a slow statement to warn about.
        let options = pool
            .connect_options()
            .as_ref()
            .clone()
            .disable_statement_logging();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut conn = match connect_checkpointer(&options).await {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::warn!(%error, "no connection to checkpoint beside the import");
                    return;
                }
            };
            loop {
                let pause = match checkpoint_beside(&mut conn).await {
                    Ok(true) => CAUGHT_UP_PAUSE,
                    Ok(false) => BEHIND_PAUSE,
                    Err(error) => {
                        // The write connection's own checkpoint still bounds the log.
                        tracing::warn!(%error, "a checkpoint beside the import failed");
                        CAUGHT_UP_PAUSE
                    }
                };
                // Stopped, or the pipeline dropped (the sender with it).
                if tokio::time::timeout(pause, &mut stopped).await.is_ok() {
                    break;
                }
            }
            let _ = conn.close().await;
        });
        Checkpointer { stop, task }
    }

    /// Stops after the checkpoint under way, if any.
    async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "the checkpointer beside the import ended badly");
        }
    }
}

async fn connect_checkpointer(
    options: &sqlx::any::AnyConnectOptions,
) -> Result<AnyConnection, StoreError> {
    let mut conn = AnyConnection::connect_with(options).await?;
    sqlx::Executor::execute(&mut conn, sqlx::raw_sql("PRAGMA synchronous = NORMAL")).await?;
    Ok(conn)
}

/// One passive checkpoint; whether it copied every frame of the log.
async fn checkpoint_beside(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let (_busy, log, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(copied >= log)
}

/// Writes one batch in its own transaction: the plan made ahead if the store is still the one it
/// was made for, else the batch decided in the transaction, refused lines taken out one by one.
async fn write_batch(
    store: SqlStore,
    mut conn: PoolConnection<Any>,
    labels: Vec<usize>,
    events: Vec<ValidEvent>,
    ahead: Option<(Plan, Option<i64>)>,
    ctx: Context,
    dry_run: bool,
) -> Result<Written, StoreError> {
    let sqlite = store.backend == Backend::Sqlite;
    if let Some((plan, expected)) = ahead {
        let mut tx = begin(&mut conn, sqlite).await?;
        let version = data_version(&mut tx).await?;
        if expected == Some(version) {
            let outcomes = store.write_plan(&mut tx, plan, &ctx).await?;
            tx.commit().await?;
            let lines = labels.into_iter().zip(outcomes.into_iter().map(Ok));
            return Ok(Written {
                report: BatchReport {
                    lines: lines.collect(),
                },
                conn,
                planned_at: Some(version),
            });
        }
        tx.rollback().await?;
        tracing::debug!("the store changed since the batch was read; deciding it again");
    }
    let report = write_deciding(&store, &mut conn, labels, events, &ctx, sqlite, dry_run).await?;
    Ok(Written {
        report,
        conn,
        planned_at: None,
    })
}

/// The batch decided inside its transaction (`Store::ingest`); a line the store refuses is
/// reported and taken out, and the rest tried again. A refusal costs deciding again what is left
/// of the batch: once a batch of more than `PIECE_AFTER_REFUSAL` events has had one, the rest is
/// written in pieces of that many (in order, each its own transaction), so that a file with many
/// refused lines does not cost a large batch's decision per line. A dry run keeps its batch whole:
/// each transaction is rolled back, and a piece would be checked without the pieces before it.
async fn write_deciding(
    store: &SqlStore,
    conn: &mut AnyConnection,
    labels: Vec<usize>,
    events: Vec<ValidEvent>,
    ctx: &Context,
    sqlite: bool,
    dry_run: bool,
) -> Result<BatchReport, StoreError> {
    let mut lines: Vec<(usize, Result<LineOutcome, StoreError>)> = Vec::new();
    // In reverse order: the next piece to write is the last.
    let mut pieces = vec![(labels, events)];
    while let Some((mut labels, mut events)) = pieces.pop() {
        while !events.is_empty() {
            let mut tx = begin(conn, sqlite).await?;
            match store.ingest_in(&mut tx, &events, ctx).await {
                Ok(outcomes) => {
                    if dry_run {
                        tx.rollback().await?;
                    } else {
                        tx.commit().await?;
                    }
                    lines.extend(labels.drain(..).zip(outcomes.into_iter().map(Ok)));
                    events.clear();
                }
                Err(error) => {
                    tx.rollback().await?;
                    match error.line() {
                        Some(line) if (1..=events.len()).contains(&line) => {
                            events.remove(line - 1);
                            lines.push((labels.remove(line - 1), Err(error)));
                        }
                        _ => return Err(error),
                    }
                    if !dry_run && events.len() > PIECE_AFTER_REFUSAL {
                        pieces.extend(in_pieces(
                            std::mem::take(&mut labels),
                            std::mem::take(&mut events),
                        ));
                    }
                }
            }
        }
    }
    lines.sort_by_key(|(label, _)| *label);
    Ok(BatchReport { lines })
}

/// Events a piece of a batch holds once a line of the batch was refused.
const PIECE_AFTER_REFUSAL: usize = 1_000;

/// `labels` and `events` cut into pieces of `PIECE_AFTER_REFUSAL`, the last piece first.
fn in_pieces(labels: Vec<usize>, events: Vec<ValidEvent>) -> Vec<(Vec<usize>, Vec<ValidEvent>)> {
    let mut pieces = Vec::new();
    let mut labels = labels.into_iter();
    let mut events = events.into_iter();
    loop {
        let piece_labels: Vec<usize> = labels.by_ref().take(PIECE_AFTER_REFUSAL).collect();
        if piece_labels.is_empty() {
            break;
        }
        let piece_events: Vec<ValidEvent> = events.by_ref().take(piece_labels.len()).collect();
        pieces.push((piece_labels, piece_events));
    }
    pieces.reverse();
    pieces
}

async fn begin(
    conn: &mut AnyConnection,
    sqlite: bool,
) -> Result<sqlx::Transaction<'_, Any>, StoreError> {
    Ok(if sqlite {
        conn.begin_with("BEGIN IMMEDIATE").await?
    } else {
        conn.begin().await?
    })
}

/// SQLite's count of commits by other connections, as this connection sees it.
async fn data_version(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    let (version,): (i64,) = sqlx::query_as("PRAGMA data_version")
        .fetch_one(&mut *conn)
        .await?;
    Ok(version)
}

async fn set_checkpoint_pages(conn: &mut AnyConnection, pages: i64) -> Result<(), StoreError> {
    let sql = format!("PRAGMA wal_autocheckpoint = {pages}");
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(&sql)).await?;
    Ok(())
}

async fn checkpoint(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")).await?;
    Ok(())
}

async fn set_cache_kib(conn: &mut AnyConnection, kib: i64) -> Result<(), StoreError> {
    let sql = format!("PRAGMA cache_size = -{kib}");
    sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(&sql)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::Keys;
    use crate::sql::SqlStore;
    use crate::testing::fresh_urls;
    use crate::types::{Backend, Context};

    async fn setting(conn: &mut sqlx::AnyConnection, pragma: &str) -> i64 {
        let (value,): (i64,) = sqlx::query_as(&format!("PRAGMA {pragma}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        value
    }

    /// While a pipeline holds SQLite's write connection, the connection checkpoints only at 4 GiB
    /// of log (the checkpointer copies it back before) and keeps the page cache the import asked
    /// for (the contract test sees both go back).
    #[tokio::test]
    async fn a_pipelines_connection_checkpoints_seldom_and_keeps_the_cache_asked_for() {
        for url in fresh_urls("pipeline_bulk").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            if store.backend != Backend::Sqlite {
                continue;
            }
            let policy = fengcun_policy::presets::get("cn-minor-opt1").unwrap();
            let c = Context::new(Arc::new(policy.clone()), jiff::Timestamp::UNIX_EPOCH);
            let mut pipeline = store.pipeline(c, false).await.unwrap();
            pipeline.set_cache(512).await.unwrap();
            let conn = pipeline.conn.as_mut().expect("no batch in flight");
            assert_eq!(setting(conn, "wal_autocheckpoint").await, 1_048_576);
            assert_eq!(setting(conn, "cache_size").await, -512 * 1024);
        }
    }
}
