//! `fengcun demo`: the server on the embedded default, with a small demo data set loaded.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use fengcun_domain::Event;
use fengcun_server::{ApiKey, Config, Role, SystemClock};
use fengcun_store::{Context, Store};

const DEMO_EVENTS: &str = include_str!("../../../../examples/events.ndjson");

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: String,
    /// Directory for the demo database and key [default: a new temporary directory].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::cmd::serve::init_logging("text");
    let dir = args.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("fengcun-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let operator_key = random_key();
    let mut config = Config::load(None, std::iter::empty())?;
    config.listen = args.listen;
    config.database = format!("sqlite://{}", dir.join("demo.sqlite").display());
    config.api_keys.push(ApiKey {
        name: "demo-operator".into(),
        role: Role::Operator,
        agency: None,
        key_sha256: fengcun_server::config::key_digest(&operator_key),
    });
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let keys = fengcun_store::Keys::new(config.master_key()?);
        let store = Arc::new(fengcun_store::open(&config.database, keys).await?);
        let events = DEMO_EVENTS
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Event::parse(l.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = Context::new(Arc::new(config.load_policy()?), jiff::Timestamp::now());
        let outcomes = store.ingest(&events, &ctx).await?;
        let counts = store.counts().await?;
        let running = fengcun_server::start_with_store(config, store, Arc::new(SystemClock)).await?;
        let base = format!("http://{}", running.address);
        println!("fengcun demo: {} events loaded ({} new) into {}", counts.events, outcomes.len(), dir.display());
        for (state, n) in &counts.records_by_state {
            println!("  records {state}: {n}");
        }
        println!("\nserver: {base}   (Ctrl-C to stop)");
        println!("operator key (shown once): {operator_key}\n");
        println!("try:");
        println!("  curl {base}/healthz");
        println!("  curl -H 'Authorization: Bearer {operator_key}' '{base}/api/v1/notices?unacknowledged=true'");
        println!("  curl -H 'Authorization: Bearer {operator_key}' {base}/metrics");
        println!("  curl -H 'Authorization: Bearer {operator_key}' {base}/api/openapi.json");
        println!(
            "  curl -H 'Authorization: Bearer {operator_key}' -H 'content-type: application/json' -d '{{\"name\":\"cn-minor-opt3\"}}' {base}/api/v1/policy"
        );
        running.wait().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// 32 random bytes as hex, from the operating system's generator.
fn random_key() -> String {
    fengcun_crypto::random_hex::<32>()
}
