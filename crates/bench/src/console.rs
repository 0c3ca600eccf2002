//! The console's pages over real HTTP, logged in as an operator, on the certificate benchmark's
//! store of a million people (built once, kept in `target/bench-data/`): the dashboard (every
//! stats count, audited), the records list's first page (50 records, identities decrypted and
//! masked, audited) and a record's timeline (events decrypted, each transition explained again
//! by the policy engine, a `lookup` entry committed) — each against the same server's login page
//! (a template rendered, no database). Prints p50 and p99 of each page and the ratio of p99s;
//! the target is a p99 under 50 ms for each page.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fengcun_server::config::key_digest;
use fengcun_server::{ApiKey, Role, SystemClock};
use serde_json::json;

use crate::Summary;
use crate::certificates::{self, drive, percentile};
use crate::records::Rng;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// People in the store (the certificate benchmark's store of that size is reused).
    #[arg(long, default_value_t = 1_000_000)]
    pub people: u64,
    /// Requests per page.
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    /// Requests in flight at once (officials at their desks, not a load test).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Where the store is kept between runs.
    #[arg(long, default_value = "target/bench-data")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 20_261_126)]
    pub seed: u64,
    /// How long the dashboard is asked (paced, each official every 20 ms): longer than the
    /// dashboard's snapshot lives, so that counting again in the background is measured too.
    #[arg(long, default_value_t = 45)]
    pub dashboard_seconds: u64,
}

const ADMIN_KEY: &str = "bench-console-administrator-key";
const USER: &str = "bench-operator";
const PASSWORD: &str = "bench-operator-correct-horse";
/// The target: p99 of each page.
const TARGET_MS: f64 = 50.0;

/// The address of the `i`-th request of a page.
type PathOf = Arc<dyn Fn(usize) -> String + Send + Sync>;

/// Logs in through the console's form; the session's cookies as one `Cookie` header.
async fn login(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    // The login form's token and its cookie, as a browser gets them from the page.
    let page = http.get(format!("{base}/console/login")).send().await?;
    let form_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .find(|pair| pair.starts_with("fengcun_login_csrf="))
        .ok_or_else(|| anyhow::anyhow!("the login page set no form token"))?;
    let token = form_cookie
        .split_once('=')
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default();
    let response = http
        .post(format!("{base}/console/login"))
        .header("cookie", form_cookie)
        .form(&[
            ("username", USER),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == reqwest::StatusCode::SEE_OTHER,
        "login: {}",
        response.status()
    );
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    Ok(cookies.join("; "))
}

/// `call` by `concurrency` workers for `length`, each waiting 20 ms between its calls; the
/// latencies, and the time taken.
async fn paced<F, Fut>(
    length: Duration,
    concurrency: usize,
    call: F,
) -> anyhow::Result<(Vec<Duration>, Duration)>
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < length {
                let sent = std::time::Instant::now();
                call(latencies.len()).await?;
                latencies.push(sent.elapsed());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    latencies.sort();
    Ok((latencies, started.elapsed()))
}

pub fn run(args: &Args) -> anyhow::Result<Vec<Summary>> {
    std::fs::create_dir_all(&args.dir)?;
    let store_args = certificates::Args {
        people: args.people,
        dir: args.dir.clone(),
        seed: args.seed,
        ..certificates::Args::default()
    };
    let path = args
        .dir
        .join(format!("certificates-{}.sqlite", args.people));
    let database = format!("sqlite://{}", path.display());
    let mut config = certificates::config(&database);
    config.secure_cookies = false;
    config.api_keys.push(ApiKey {
        name: "bench-admin".into(),
        role: Role::Administrator,
        agency: None,
        requester_kind: None,
        key_sha256: key_digest(ADMIN_KEY),
    });
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        certificates::build_store(&store_args, &config, &path).await?;
        let running = fengcun_server::start(config, Arc::new(SystemClock)).await?;
        let base = format!("http://{}", running.address);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(args.concurrency)
            .build()?;
        // The operator (kept in the store from an earlier run, or made now).
        let made = http
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"username": USER, "password": PASSWORD, "role": "operator"}))
            .send()
            .await?;
        anyhow::ensure!(
            made.status() == reqwest::StatusCode::CREATED
                || made.status() == reqwest::StatusCode::CONFLICT,
            "operator: {}",
            made.text().await?
        );
        let cookie = Arc::new(login(&http, &base).await?);

        let page = |path_of: PathOf, needle: &'static str| {
            let (http, base, cookie) = (http.clone(), base.clone(), cookie.clone());
            move |i: usize| {
                let (http, cookie) = (http.clone(), cookie.clone());
                let url = format!("{base}{}", path_of(i));
                async move {
                    let response = http
                        .get(&url)
                        .header("cookie", cookie.as_str())
                        .send()
                        .await?;
                    anyhow::ensure!(
                        response.status() == reqwest::StatusCode::OK,
                        "{url}: {}",
                        response.status()
                    );
                    let body = response.text().await?;
                    anyhow::ensure!(body.contains(needle), "{url}: no {needle}");
                    Ok(())
                }
            }
        };
        let people = args.people;
        let seed = args.seed;
        let pages: Vec<(&str, PathOf, &'static str)> = vec![
            (
                "GET /console/login (baseline)",
                Arc::new(|_| "/console/login".to_owned()),
                "login-form",
            ),
            (
                "GET /console/ (dashboard)",
                Arc::new(|_| "/console/".to_owned()),
                "chart-agencies",
            ),
            (
                "GET /console/records",
                Arc::new(|_| "/console/records".to_owned()),
                "next-page",
            ),
            (
                "GET /console/records/{case}",
                Arc::new(move |i| {
                    let n = Rng::new(seed ^ i as u64).below(people);
                    format!("/console/records/110105-2024-{n:08}")
                }),
                "case-code",
            ),
        ];
        let mut results = Vec::new();
        for (name, path_of, needle) in pages {
            let dashboard = path_of(0) == "/console/";
            let call = page(path_of, needle);
            // Warm the path (connections, caches; the dashboard's first count) before measuring.
            drive(100, args.concurrency, call.clone()).await?;
            let (latencies, wall) = if dashboard {
                paced(
                    Duration::from_secs(args.dashboard_seconds),
                    args.concurrency,
                    call,
                )
                .await?
            } else {
                drive(args.requests, args.concurrency, call).await?
            };
            results.push((name, latencies, wall));
        }
        running.stop();

        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "console: {} people, {} requests per page ({} s of the dashboard, paced), {} in flight, logged in as an operator",
            args.people, args.requests, args.dashboard_seconds, args.concurrency
        );
        let base_p99 = ms(percentile(&results[0].1, 0.99));
        let mut summaries = Vec::new();
        for (name, latencies, wall) in &results {
            let p99 = ms(percentile(latencies, 0.99));
            let verdict = if p99 < TARGET_MS { "meets" } else { "ABOVE" };
            eprintln!(
                "  {name:<32} {:>6} requests   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   p99 ratio to baseline {:>6.1}   ({verdict} target p99 < {TARGET_MS} ms)",
                latencies.len(),
                ms(percentile(latencies, 0.5)),
                p99,
                ms(latencies.last().copied().unwrap_or_default()),
                p99 / base_p99,
            );
            summaries.push((name, latencies.len() as f64 / wall.as_secs_f64()));
        }
        let baseline = summaries[0].1;
        Ok(summaries
            .into_iter()
            .skip(1)
            .map(|(name, rate)| Summary {
                name: match *name {
                    "GET /console/ (dashboard)" => "dashboard",
                    "GET /console/records" => "records",
                    _ => "timeline",
                },
                unit: "req",
                throughput: rate,
                baseline_name: "login page",
                baseline,
                target: None,
            })
            .collect())
    })
}
