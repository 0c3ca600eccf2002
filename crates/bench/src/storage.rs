//! Bytes on disk (docs/storage.md): `fengcun-synth` writes N synthetic records' case events as
//! `fengcun synth` does, they are imported into a fresh store through the pipeline `fengcun
//! import` uses, and the store's size is measured per table and per index — SQLite's `dbstat`
//! table (pages in use, so a file's free pages are not counted), PostgreSQL's relation sizes
//! (with their TOAST) — and printed per record, beside the input NDJSON's bytes per record and the
//! ratio. The target (issue 20): at most 1.0× the input at a million records on SQLite.

use std::sync::Arc;
use std::time::Instant;

use fengcun_domain::{Event, ValidEvent};
use fengcun_store::Context;
use sqlx::Row;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How many synthetic records (about five events each).
    #[arg(long, default_value_t = 20_000)]
    pub records: u64,
    /// Events per transaction, as `fengcun import` does.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// A PostgreSQL server to measure as well (`postgres://…`; a database is created and dropped).
    #[arg(long, value_name = "URL", env = "FENGCUN_TEST_DATABASE_URL")]
    pub postgres: Option<String>,
    #[arg(long, default_value_t = 20_261_206)]
    pub seed: u64,
    /// Public-security violation records per thousand (`fengcun synth`'s national estimate by
    /// default; 0 for criminal records only).
    #[arg(long, default_value_t = fengcun_synth::DEFAULT_VIOLATIONS_PER_MILLE)]
    pub violations_per_mille: u32,
}

/// The input: the events' NDJSON as `fengcun synth` writes it, and the events parsed.
struct Input {
    ndjson_bytes: u64,
    events: Vec<(usize, ValidEvent)>,
}

fn synthesize(args: &Args) -> anyhow::Result<Input> {
    let mut events = Vec::new();
    fengcun_synth::generate(
        fengcun_synth::Config {
            violations_per_mille: args.violations_per_mille,
            ..fengcun_synth::Config::new(args.records, args.seed)
        },
        &mut std::io::sink(),
        Some(&mut events),
        &mut |_| {},
    )?;
    let mut parsed = Vec::new();
    for (i, line) in events.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let event = Event::parse(line)
            .map_err(|e| anyhow::anyhow!("synthetic event line {}: {e}", i + 1))?;
        parsed.push((i + 1, event));
    }
    Ok(Input {
        ndjson_bytes: events.len() as u64,
        events: parsed,
    })
}

/// One table or index and its bytes.
struct Part {
    name: String,
    kind: &'static str,
    bytes: u64,
}

async fn import(database: &str, input: &Input, batch: usize) -> anyhow::Result<(f64, Vec<Part>)> {
    let keys = fengcun_store::Keys::new(fengcun_crypto::MasterKey::generate());
    let store = fengcun_store::open(database, keys).await?;
    let policy = fengcun_policy::presets::get("cn-minor-opt1")
        .ok_or_else(|| anyhow::anyhow!("the preset cn-minor-opt1"))?
        .clone();
    let ctx = Context::new(Arc::new(policy), "2026-12-01T00:00:00Z".parse()?);
    let started = Instant::now();
    let mut pipeline = store.pipeline(ctx, false).await?;
    for chunk in input.events.chunks(batch) {
        pipeline.push(chunk.to_vec()).await?;
    }
    pipeline.finish().await?;
    let seconds = started.elapsed().as_secs_f64();
    let parts = if database.starts_with("sqlite:") {
        sqlite_parts(store.pool()).await?
    } else {
        postgres_parts(store.pool()).await?
    };
    store.pool().close().await;
    Ok((seconds, parts))
}

async fn sqlite_parts(pool: &sqlx::AnyPool) -> anyhow::Result<Vec<Part>> {
    // Everything written out of the write-ahead log first, so that the pages are counted where
    // they stay.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    let rows = sqlx::query(
        "SELECT d.name AS name, COALESCE(m.type, 'table') AS kind, SUM(d.pgsize) AS bytes \
         FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY d.name",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(Part {
                name: row.try_get("name")?,
                kind: if kind == "index" { "index" } else { "table" },
                bytes: u64::try_from(row.try_get::<i64, _>("bytes")?)?,
            })
        })
        .collect()
}

async fn postgres_parts(pool: &sqlx::AnyPool) -> anyhow::Result<Vec<Part>> {
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    // A table with its TOAST (large values stored apart) and free-space map; each index apart.
    let rows = sqlx::query(
        "SELECT CAST(c.relname AS TEXT) AS name, CAST(CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END AS TEXT) AS kind, \
         CAST(CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid) \
              ELSE pg_table_size(c.oid) END AS BIGINT) AS bytes \
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(Part {
                name: row.try_get("name")?,
                kind: if kind == "index" { "index" } else { "table" },
                bytes: u64::try_from(row.try_get::<i64, _>("bytes")?)?,
            })
        })
        .collect()
}

fn print(engine: &str, records: u64, input: &Input, seconds: f64, mut parts: Vec<Part>) {
    parts.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    let total: u64 = parts.iter().map(|p| p.bytes).sum();
    let per = |bytes: u64| bytes as f64 / records as f64;
    println!(
        "storage ({engine}): {records} records, {} events imported in {seconds:.1} s; input NDJSON {:.1} MB = {:.0} bytes/record",
        input.events.len(),
        input.ndjson_bytes as f64 / 1e6,
        per(input.ndjson_bytes)
    );
    for part in parts.iter().filter(|p| p.bytes > 0) {
        println!(
            "  {:<6} {:<32} {:>10.1} MB {:>8.0} bytes/record {:>5.1} %",
            part.kind,
            part.name,
            part.bytes as f64 / 1e6,
            per(part.bytes),
            100.0 * part.bytes as f64 / total as f64
        );
    }
    let ratio = total as f64 / input.ndjson_bytes as f64;
    println!(
        "  total  {:<32} {:>10.1} MB {:>8.0} bytes/record   {ratio:.2}× the input (target ≤ 1.0× at a million records on SQLite)",
        "",
        total as f64 / 1e6,
        per(total)
    );
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let input = synthesize(args)?;
    eprintln!(
        "storage: {} records, {} events synthesized in {:.1} s",
        args.records,
        input.events.len(),
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = std::env::temp_dir().join(format!("fengcun-bench-storage-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = format!("sqlite://{}", dir.join("store.sqlite").display());
    let measured = runtime.block_on(import(&sqlite, &input, args.batch));
    let _ = std::fs::remove_dir_all(&dir);
    let (seconds, parts) = measured?;
    print("SQLite", args.records, &input, seconds, parts);
    if let Some(url) = &args.postgres {
        let name = format!("fengcun_bench_storage_{}", std::process::id());
        let database = runtime.block_on(postgres(url, &name, true))?;
        let measured = runtime.block_on(import(&database, &input, args.batch));
        runtime.block_on(postgres(url, &name, false))?;
        let (seconds, parts) = measured?;
        print("PostgreSQL", args.records, &input, seconds, parts);
    }
    Ok(())
}

/// Makes (`create`) or drops the benchmark's database on the PostgreSQL server at `url`.
async fn postgres(url: &str, name: &str, create: bool) -> anyhow::Result<String> {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(url).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    if create {
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
    }
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    Ok(format!("{base}/{name}"))
}
