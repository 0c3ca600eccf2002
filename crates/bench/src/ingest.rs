//! Ingestion into the store — events stored, facts derived, decided, states and transitions and
//! notices written — against a plain insert of the same event rows into the same engine.

use std::sync::Arc;
use std::time::Instant;

use fengcun_crypto::MasterKey;
use fengcun_domain::{Event, ValidEvent};
use fengcun_store::prelude::*;
use fengcun_store::{Context, Keys};
use serde_json::json;

use crate::Summary;
use crate::records::Rng;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many events (about five per case).
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Events per transaction, as `fengcun import` does.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// A PostgreSQL server to measure as well (`postgres://…`; a database is created and dropped).
    #[arg(long, value_name = "URL", env = "FENGCUN_TEST_DATABASE_URL")]
    pub postgres: Option<String>,
    #[arg(long, default_value_t = 20_261_126)]
    pub seed: u64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            events: 1_000_000,
            batch: 1000,
            postgres: std::env::var("FENGCUN_TEST_DATABASE_URL").ok(),
            seed: 20_261_126,
        }
    }
}

const CHARGES: [&str; 6] = [
    "危险驾驶罪",
    "盗窃罪",
    "帮助信息网络犯罪活动罪",
    "诈骗罪",
    "故意伤害罪",
    "交通肇事罪",
];

fn id_number(n: u64) -> String {
    let body = format!(
        "110105{}{:02}{:02}{:03}",
        1960 + n % 45,
        1 + n % 12,
        1 + n % 28,
        n / 1000 % 1000
    );
    fengcun_domain::id_number::with_check_character(&body).unwrap_or(body)
}

fn date(days: u64) -> String {
    jiff::civil::Date::constant(2018, 1, 1)
        .checked_add(jiff::Span::new().days(i64::try_from(days).unwrap_or(0)))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// About five events per case: filing, indictment, judgment, judgment effective, execution
/// completed; one case in ten ends in non-prosecution.
pub fn generate(events: usize, seed: u64) -> Vec<ValidEvent> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(events + 5);
    let mut case = 0u64;
    while out.len() < events {
        case += 1;
        let code = format!("110105-{}-{case:08}", 2018 + case % 7);
        let person = id_number(case * 7 + rng.below(3));
        let charge = CHARGES[rng.below(6) as usize];
        // Every date before today: an event dated after the day it arrives is refused (the
        // latest, an execution completed, is at most 1,500 + 260 + 11 + 35 × 30 days after 2018).
        let offence = rng.below(1500);
        let judged = offence + 60 + rng.below(200);
        let effective = judged + 11;
        let agency = |kind: &str, code: &str| json!({"kind": kind, "code": code});
        let mut push = |suffix: &str,
                        kind: &str,
                        day: u64,
                        from: serde_json::Value,
                        extra: serde_json::Value| {
            let mut e = json!({"idempotency_key": format!("{code}/{suffix}"), "kind": kind, "date": date(day), "case_code": code,
                               "agency": from, "person": {"id_number": person, "name": "测试"}});
            if let (Some(target), Some(extra)) = (e.as_object_mut(), extra.as_object()) {
                target.extend(extra.clone());
            }
            if let Ok(bytes) = serde_json::to_vec(&e) {
                if let Ok(valid) = Event::parse(&bytes) {
                    out.push(valid);
                }
            }
        };
        push(
            "filed",
            "filed",
            offence,
            agency("public_security", "110105-ga"),
            json!({"charges": [{"name": charge}], "offence_date": date(offence)}),
        );
        if rng.below(10) == 0 {
            push(
                "np",
                "not_prosecuted",
                judged,
                agency("procuratorate", "110105-jc"),
                json!({"ground": "discretionary"}),
            );
            continue;
        }
        push(
            "indicted",
            "indicted",
            judged - 30,
            agency("procuratorate", "110105-jc"),
            json!({"charges": [{"name": charge}]}),
        );
        let months = if rng.below(2) == 0 {
            1 + rng.below(6)
        } else {
            6 + rng.below(30)
        };
        let principal = if months <= 6 && rng.below(2) == 0 {
            "criminal_detention"
        } else {
            "fixed_term"
        };
        let months = if principal == "fixed_term" {
            months.max(6)
        } else {
            months
        };
        push(
            "judgment",
            "judgment",
            judged,
            agency("court", "110105-fy"),
            json!({"document_number": format!("({})京0105刑初{case}号", 2018 + case % 7),
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": charge}],
                         "sentence": {"principal": principal, "months": months}, "offence_date": date(offence), "recidivist": false, "prior_convictions": 0}}),
        );
        push(
            "effective",
            "judgment_effective",
            effective,
            agency("court", "110105-fy"),
            json!({}),
        );
        push(
            "completed",
            "execution_completed",
            effective + months * 30,
            agency("prison", "110105-jy"),
            json!({}),
        );
    }
    out.truncate(events);
    out
}

pub fn run(args: &Args) -> anyhow::Result<Vec<Summary>> {
    let started = Instant::now();
    let events = generate(args.events, args.seed);
    eprintln!(
        "ingest: {} events generated in {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let mut summaries = Vec::new();
    let dir = std::env::temp_dir().join(format!("fengcun-bench-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = |name: &str| format!("sqlite://{}", dir.join(name).display());
    summaries.push(runtime.block_on(measure(
        "ingest",
        &sqlite("store.sqlite"),
        &sqlite("plain.sqlite"),
        &events,
        args.batch,
    ))?);
    if let Some(url) = &args.postgres {
        let (store_url, plain_url) = runtime.block_on(postgres_databases(url))?;
        summaries.push(runtime.block_on(measure(
            "ingest-pg",
            &store_url,
            &plain_url,
            &events,
            args.batch,
        ))?);
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(summaries)
}

async fn postgres_databases(url: &str) -> anyhow::Result<(String, String)> {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(url).await?;
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    let mut urls = Vec::new();
    for name in ["fengcun_bench_store", "fengcun_bench_plain"] {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
            .await?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        urls.push(format!("{base}/{name}"));
    }
    Ok((urls[0].clone(), urls[1].clone()))
}

async fn measure(
    name: &'static str,
    store_url: &str,
    plain_url: &str,
    events: &[ValidEvent],
    batch: usize,
) -> anyhow::Result<Summary> {
    let suite = match std::env::var("FENGCUN_BENCH_SUITE").as_deref() {
        Ok("international") => fengcun_crypto::Suite::International,
        _ => fengcun_crypto::Suite::Sm,
    };
    let keys = Keys::new(MasterKey::generate().with_suite(suite));
    let store = fengcun_store::open(store_url, keys.clone()).await?;
    let policy = Arc::new(
        fengcun_policy::presets::get("cn-minor-opt1")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("preset"))?,
    );
    let ctx = Context::new(policy, "2026-11-26T00:00:00Z".parse()?);

    // The baseline: the same event rows (same columns, the same bytes of JSON) into the same
    // table of a fresh database of the same engine, in the same transactions — no derivation,
    // no decision, no encryption — through the same write connection and settings as the store's
    // own writes (on SQLite: one connection, kept warm).
    let plain = fengcun_store::open(plain_url, keys.clone()).await?;
    // A row an event, as the store kept events from migration 17 to 26, with the same two
    // indexes. (Since migration 27 the store keeps a record's events as one sealed list; the
    // baseline stays the plain insert of one row an event it was, so ratios compare across
    // sessions. `events` itself now refuses new rows: builds from before 27 must not add any.)
    let table = if plain_url.starts_with("postgres") {
        "CREATE TABLE baseline_events (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
         person BYTEA NOT NULL, case_code TEXT NOT NULL, event_id BYTEA NOT NULL, \
         content_hash BYTEA NOT NULL, received_at BIGINT NOT NULL, body BYTEA NOT NULL);"
    } else {
        "CREATE TABLE baseline_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
         person BLOB NOT NULL, case_code TEXT NOT NULL, event_id BLOB NOT NULL, \
         content_hash BLOB NOT NULL, received_at INTEGER NOT NULL, body BLOB NOT NULL);"
    };
    sqlx::raw_sql(&format!(
        "{table} CREATE UNIQUE INDEX baseline_events_by_id ON baseline_events (event_id); \
         CREATE INDEX baseline_events_by_person ON baseline_events (person);"
    ))
    .execute(plain.write_pool())
    .await?;
    let rows: Vec<_> = events
        .iter()
        .map(|e| {
            let body = serde_json::to_vec(&e.event).unwrap_or_default();
            // The event row as the store writes it (migration 17): the person key's first 16
            // bytes, the event's id (a MAC of agency and idempotency key), the arrival time in
            // seconds.
            let person_key = keys.person_key(&e.identity);
            let person: Vec<u8> = (0..32)
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&person_key[i..i + 2], 16).ok())
                .collect();
            (
                person,
                keys.event_id(&e.event.agency.code, &e.event.idempotency_key),
                e.case_code
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                keys.content_mac(&body),
                body,
            )
        })
        .collect();
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    for chunk_rows in rows.chunks(batch) {
        let mut tx = plain.write_pool().begin().await?;
        for (person, event_id, case_code, hash, body) in chunk_rows {
            sqlx::query(
                "INSERT INTO baseline_events (person, case_code, event_id, content_hash, received_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(person.clone())
            .bind(case_code.as_str())
            .bind(event_id.clone())
            .bind(hash.clone())
            .bind(1_795_651_200_i64) // 2026-11-26T00:00:00Z
            .bind(body.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    let plain_seconds = started.elapsed().as_secs_f64();
    let plain_cpu = cpu_seconds() - cpu_started;

    // The ingestion second: measured first, its writes (and the engine's background work after
    // them, such as a checkpoint) would slow the baseline and flatter the ratio.
    // As `fengcun import` stores a file: batches through the store's pipeline, each its own
    // transaction, the next decided while the one before is written.
    let batches: Vec<Vec<(usize, ValidEvent)>> = events
        .chunks(batch)
        .map(|chunk| chunk.iter().cloned().enumerate().collect())
        .collect();
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let mut pipeline = store.pipeline(ctx.clone(), false).await?;
    let mut refused = 0;
    for batch in batches {
        refused += refusals(pipeline.push(batch).await?);
    }
    refused += refusals(pipeline.finish().await?);
    let ingest_seconds = started.elapsed().as_secs_f64();
    let ingest_cpu = cpu_seconds() - cpu_started;
    anyhow::ensure!(refused == 0, "{refused} events refused");
    let tally = pipeline.tally();
    let counts = store.counts().await?;
    eprintln!(
        "  {name}: {} events, records {:?}, notices {:?}",
        counts.events, counts.records_by_state, counts.notices_by_status
    );
    eprintln!(
        "  {name}: full ingestion {ingest_seconds:.1} s ({} batches decided ahead, {} in their transaction; \
         reading {:.1} s, deciding {:.1} s, waiting for the writer {:.1} s); plain insert {plain_seconds:.1} s",
        tally.ahead,
        tally.in_transaction,
        tally.reading.as_secs_f64(),
        tally.deciding.as_secs_f64(),
        tally.waiting.as_secs_f64(),
    );
    let n = events.len() as f64;
    // Processor time is the steadier figure on a virtual machine: the plain insert hands every
    // row to the database thread and back, and how long a sleeping processor takes to wake for it
    // moves its wall-clock rate by 2-4x with the rest of the machine's load.
    eprintln!(
        "  {name}: processor time, all threads: ingestion {ingest_cpu:.1} s ({:.1} µs/event), plain insert {plain_cpu:.1} s ({:.1} µs/event), ratio {:.2}",
        1e6 * ingest_cpu / n,
        1e6 * plain_cpu / n,
        plain_cpu / ingest_cpu
    );
    Ok(Summary {
        name,
        unit: "events",
        throughput: n / ingest_seconds,
        baseline_name: "plain insert",
        baseline: n / plain_seconds,
        target: Some(0.5),
    })
}

fn refusals(report: Option<fengcun_store::BatchReport>) -> usize {
    report.map_or(0, |r| r.lines.iter().filter(|(_, o)| o.is_err()).count())
}

/// User and system time of this process, all threads (Linux: `/proc/self/stat`, in the kernel's
/// clock ticks of 1/100 s); 0 where that cannot be read.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(test)]
mod tests {
    /// The benchmark's events are ones the platform stores: once a tenth of a percent of them were
    /// dated after today (refused since future dates are), and the benchmark failed before
    /// measuring anything.
    #[test]
    fn every_generated_event_is_dated_before_today() {
        let today = fengcun_domain::date::china_date(jiff::Timestamp::now());
        let events = super::generate(50_000, 7);
        assert_eq!(events.len(), 50_000);
        let latest = events.iter().map(|e| e.date).max().expect("events");
        assert!(latest <= today, "an event dated {latest}, after {today}");
    }
}
