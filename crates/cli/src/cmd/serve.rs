//! `fengcun serve`: the platform's HTTP server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use fengcun_server::{Config, SystemClock};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// `sqlite://PATH` (default `sqlite://fengcun.sqlite`) or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML); `FENGCUN_*` environment variables override it.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
}

/// Configuration from the file, the environment, then the command line.
pub fn config(
    file: Option<&std::path::Path>,
    listen: Option<String>,
    database: Option<String>,
) -> anyhow::Result<Config> {
    let mut config = Config::load(file, std::env::vars())?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    if let Some(database) = database {
        config.database = database;
    }
    Ok(config)
}

/// For a command that looks after an existing database (`backup`, `keys`, `audit`): an embedded
/// database that is not there is refused. Opening one creates it, and a mistyped path would
/// otherwise back up, rotate or verify an empty database and report success.
pub fn require_existing(database: &str) -> anyhow::Result<()> {
    if let Some(path) = sqlite_path(database) {
        anyhow::ensure!(
            std::path::Path::new(path).exists(),
            "{path}: no such database"
        );
    }
    Ok(())
}

/// The file of an embedded database's URL (`sqlite://PATH?…`); `None` for PostgreSQL.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|path| path.split('?').next().unwrap_or(path))
}

pub fn init_logging(format: &str) {
    // PostgreSQL's NOTICE messages (`relation … already exists, skipping` from the migrations'
    // `IF NOT EXISTS`, at every start) say nothing an operator acts on.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx::postgres::notice=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = config(args.config.as_deref(), args.listen, args.database)?;
    init_logging(&config.log_format);
    if config.api_keys.is_empty() {
        tracing::warn!(
            "no api_keys configured: every endpoint but /healthz will refuse all callers"
        );
    }
    for (key, agency) in config.keys_of_unconfigured_agencies() {
        tracing::warn!(
            key,
            agency,
            "an agency key's agency is not in [[agencies]]: its events are refused (403) unless an imported event registered the agency"
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let running = fengcun_server::start(config, Arc::new(SystemClock)).await?;
        running.wait().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
