//! Certificates through the HTTP API: a real server on a loopback port over a store of a million
//! people; each request authenticated (an API key of a public-security clerk), decided from the
//! person's records, signed (SM2-SM3), kept and audited in one committed transaction before the
//! answer. The baseline is the same client, same concurrency, against the server's most trivial
//! authenticated endpoint (`GET /api/v1/session`: who the caller is, no database).
//!
//! The store is built once (about 1.6 events per person through the real ingestion) and kept in
//! `target/bench-data/` for the next run: building it is not what is measured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fengcun_domain::{Event, ValidEvent};
use fengcun_server::config::key_digest;
use fengcun_server::{ApiKey, Config, Role, SystemClock};
use fengcun_store::{Context, Keys, Store};
use serde_json::json;

use crate::Summary;
use crate::records::Rng;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// People in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub people: u64,
    /// Certificates to issue (and trivial requests to make).
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Where the store is kept between runs.
    #[arg(long, default_value = "target/bench-data")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 20_261_126)]
    pub seed: u64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            people: 1_000_000,
            requests: 20_000,
            concurrency: 16,
            dir: PathBuf::from("target/bench-data"),
            seed: 20_261_126,
        }
    }
}

const CLERK_KEY: &str = "bench-counter-clerk-key";

/// Person `n`'s identity number: region 110105, a birth date and a sequence number that are a
/// bijection of `n` (below 16 million), and the GB 11643 check character.
pub(crate) fn id_number(n: u64) -> String {
    let birth = jiff::civil::Date::constant(1960, 1, 1)
        .checked_add(jiff::Span::new().days(i64::try_from(n % 16_000).unwrap_or(0)))
        .unwrap_or(jiff::civil::Date::constant(1960, 1, 1));
    let body = format!(
        "110105{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        n / 16_000 % 1000
    );
    fengcun_domain::id_number::with_check_character(&body).unwrap_or(body)
}

/// Person `n`'s case: 70 % an open filing only, 15 % dangerous driving with 拘役 (sealed under
/// cn-minor-opt1), 15 % theft with five years (listed on a certificate).
fn events_of(n: u64, rng: &mut Rng) -> Vec<ValidEvent> {
    let case = format!("110105-2024-{n:08}");
    let person = json!({"id_number": id_number(n), "name": "测试"});
    let agency = |kind: &str, code: &str| json!({"kind": kind, "code": code});
    let kind = rng.below(20);
    let (charge, sentence) = if kind < 3 {
        (
            "危险驾驶罪",
            json!({"principal": "criminal_detention", "months": 2}),
        )
    } else {
        ("盗窃罪", json!({"principal": "fixed_term", "months": 60}))
    };
    let mut events = vec![
        json!({"idempotency_key": format!("{case}/filed"), "kind": "filed", "date": "2024-01-10",
        "case_code": case, "agency": agency("public_security", "110105-ga"), "person": person,
        "charges": [{"name": charge}], "offence_date": "2024-01-10"}),
    ];
    if kind < 6 {
        events.push(json!({"idempotency_key": format!("{case}/judgment"), "kind": "judgment", "date": "2024-03-01",
            "case_code": case, "agency": agency("court", "110105-fy"), "person": person,
            "document_number": format!("(2024)京0105刑初{n}号"),
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": charge}],
                "sentence": sentence, "offence_date": "2024-01-10", "recidivist": false, "prior_convictions": 0}}));
        events.push(json!({"idempotency_key": format!("{case}/effective"), "kind": "judgment_effective",
            "date": "2024-03-12", "case_code": case, "agency": agency("court", "110105-fy"), "person": person}));
    }
    events
        .into_iter()
        .filter_map(|e| serde_json::to_vec(&e).ok())
        .filter_map(|bytes| Event::parse(&bytes).ok())
        .collect()
}

pub(crate) fn config(database: &str) -> Config {
    let mut config = Config::default();
    config.listen = "127.0.0.1:0".into();
    config.database = database.to_owned();
    // The benchmark's made-up store keeps its key beside it, in target/bench-data.
    config.master_key_file = database
        .strip_prefix("sqlite://")
        .map(|path| std::path::PathBuf::from(format!("{path}.key")));
    config.policy = "cn-minor-opt1".into();
    config.scheduler_interval_seconds = 3600;
    config.outbox_interval_seconds = 3600;
    config.tree_head_interval_seconds = 3600;
    config.api_keys = vec![ApiKey {
        name: "counter".into(),
        role: Role::Clerk,
        agency: Some("110105-ga".into()),
        requester_kind: Some(fengcun_access::RequesterKind::PublicSecurity),
        key_sha256: key_digest(CLERK_KEY),
    }];
    config
}

/// Builds the store of `args.people` people unless a complete one is kept from an earlier run.
pub(crate) async fn build_store(
    args: &Args,
    config: &Config,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let done = path.with_extension("complete");
    if done.exists() {
        eprintln!("certificates: reusing {}", path.display());
        return Ok(());
    }
    for stale in [path.to_path_buf(), path.with_extension("sqlite-wal")] {
        let _ = std::fs::remove_file(stale);
    }
    let keys = Keys::new(config.master_key()?);
    let store = fengcun_store::open(&config.database, keys).await?;
    let policy = Arc::new(config.load_policy()?);
    let ctx = Context::new(policy, "2026-06-01T00:00:00Z".parse()?);
    let started = Instant::now();
    let mut rng = Rng::new(args.seed);
    let mut batch = Vec::with_capacity(1100);
    for n in 0..args.people {
        batch.extend(events_of(n, &mut rng));
        if batch.len() >= 1000 || n + 1 == args.people {
            store.ingest(&batch, &ctx).await?;
            batch.clear();
        }
        if (n + 1) % 100_000 == 0 {
            eprintln!(
                "certificates: store {} / {} people ({:.0} s)",
                n + 1,
                args.people,
                started.elapsed().as_secs_f64()
            );
        }
    }
    std::fs::write(&done, format!("{} people\n", args.people))?;
    Ok(())
}

/// `requests` calls of `call` with `concurrency` in flight; the latencies, and the wall time.
pub(crate) async fn drive<F, Fut>(
    requests: usize,
    concurrency: usize,
    call: F,
) -> anyhow::Result<(Vec<Duration>, Duration)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (call, next) = (call.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let sent = Instant::now();
                call(i).await?;
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let wall = started.elapsed();
    latencies.sort();
    Ok((latencies, wall))
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

pub fn run(args: &Args) -> anyhow::Result<Vec<Summary>> {
    std::fs::create_dir_all(&args.dir)?;
    let path = args
        .dir
        .join(format!("certificates-{}.sqlite", args.people));
    let database = format!("sqlite://{}", path.display());
    let config = config(&database);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        build_store(args, &config, &path).await?;
        let running = fengcun_server::start(config, Arc::new(SystemClock)).await?;
        let base = format!("http://{}", running.address);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .build()?;

        let people = args.people;
        let seed = args.seed;
        let (client, url) = (http.clone(), format!("{base}/api/v1/certificates"));
        let issue = move |i: usize| {
            let (client, url) = (client.clone(), url.clone());
            let n = Rng::new(seed ^ i as u64).below(people);
            async move {
                let response = client
                    .post(&url)
                    .bearer_auth(CLERK_KEY)
                    .json(&json!({"id_number": id_number(n), "name": "测试", "purpose": "就业"}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == reqwest::StatusCode::CREATED,
                    "certificate: {}",
                    response.text().await?
                );
                response.bytes().await?;
                Ok(())
            }
        };
        let (client, url) = (http.clone(), format!("{base}/api/v1/session"));
        let trivial = move |_: usize| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let response = client.get(&url).bearer_auth(CLERK_KEY).send().await?;
                anyhow::ensure!(response.status() == reqwest::StatusCode::OK, "session");
                response.bytes().await?;
                Ok(())
            }
        };
        // Warm both paths (connections, caches) before measuring.
        drive(200, args.concurrency, trivial.clone()).await?;
        drive(200, args.concurrency, issue.clone()).await?;
        let (base_latencies, base_wall) = drive(args.requests, args.concurrency, trivial).await?;
        let log_size = || async {
            let head = running
                .state
                .store
                .sign_tree_head(&running.state.signing, jiff::Timestamp::now(), true)
                .await?;
            anyhow::Ok(head.map_or(0, |h| h.unverified_head().size()))
        };
        let before = log_size().await?;
        let (latencies, wall) = drive(args.requests, args.concurrency, issue).await?;
        // Every certificate left its audit entry, committed before its answer (the scheduler
        // may have appended transitions meanwhile, never fewer).
        let appended = log_size().await? - before;
        anyhow::ensure!(
            appended >= args.requests as u64,
            "{appended} audit entries for {} certificates",
            args.requests
        );
        running.stop();

        let rate = |n: usize, wall: Duration| n as f64 / wall.as_secs_f64();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "certificates: {} people, {} requests, {} in flight",
            args.people, args.requests, args.concurrency
        );
        eprintln!(
            "  POST /api/v1/certificates  {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            rate(args.requests, wall),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99))
        );
        eprintln!(
            "  GET /api/v1/session        {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            rate(args.requests, base_wall),
            ms(percentile(&base_latencies, 0.5)),
            ms(percentile(&base_latencies, 0.99))
        );
        Ok(vec![Summary {
            name: "certificates",
            unit: "req",
            throughput: rate(args.requests, wall),
            baseline_name: "trivial endpoint",
            baseline: rate(args.requests, base_wall),
            target: None,
        }])
    })
}
