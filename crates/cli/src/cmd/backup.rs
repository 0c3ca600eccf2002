//! `fengcun backup` and `fengcun restore` (docs/operations.md, "Backup and restore"): a copy of
//! the database taken while the server runs, and put back. SQLite: the online backup
//! (`VACUUM INTO`, one consistent snapshot); PostgreSQL: `pg_dump --format=custom` and
//! `pg_restore`. The master key and the signing keys are not in a backup: keep them apart.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::cmd::serve;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// `sqlite://PATH` (default `sqlite://fengcun.sqlite`) or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
    /// Where to write the backup; a file already there is refused.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The database to restore into: an SQLite file that does not exist yet, or an empty
    /// PostgreSQL database.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
    /// The backup `fengcun backup` wrote.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
}

fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|path| path.split('?').next().unwrap_or(path))
}

/// A PostgreSQL client program: `FENGCUN_PG_BIN/NAME` if set, else on the path.
fn pg_program(name: &str) -> PathBuf {
    match std::env::var_os("FENGCUN_PG_BIN") {
        Some(dir) => Path::new(&dir).join(name),
        None => PathBuf::from(name),
    }
}

fn run_program(program: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = std::process::Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {} (set FENGCUN_PG_BIN)", program.display()))?;
    if !status.success() {
        bail!("{} failed ({status})", program.display());
    }
    Ok(())
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = serve::config(args.config.as_deref(), None, args.database)?;
    if args.out.exists() {
        bail!("--out {}: a file is there already", args.out.display());
    }
    if sqlite_path(&config.database).is_some() {
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async {
            // No master key needed: the copy is of the encrypted rows as they are.
            let store =
                fengcun_store::open_without_master_key(&config.database, fengcun_crypto::Suite::Sm)
                    .await?;
            store.backup_to(&args.out).await?;
            anyhow::Ok(())
        })?;
    } else {
        let out = args.out.to_str().context("--out: not a UTF-8 path")?;
        // pg_dump writes into the file made for it, readable by its owner only.
        fengcun_store::create_private(&args.out)?;
        let dumped = run_program(
            &pg_program("pg_dump"),
            &[
                "--format=custom",
                "--file",
                out,
                "--dbname",
                &config.database,
            ],
        );
        if dumped.is_err() {
            // Nothing half-written is left to be taken for a backup.
            let _ = std::fs::remove_file(&args.out);
        }
        dumped?;
    }
    println!(
        "backed up to {}; keep the master key and the signing keys apart from it",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let config = serve::config(args.config.as_deref(), None, args.database)?;
    if !args.from.is_file() {
        bail!("--from {}: no such backup", args.from.display());
    }
    if let Some(path) = sqlite_path(&config.database) {
        let path = Path::new(path);
        if path.exists() {
            bail!(
                "--database {}: a database is there; restore into a new file (stop the server, move the old one aside)",
                path.display()
            );
        }
        std::fs::copy(&args.from, path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    } else {
        let from = args.from.to_str().context("--from: not a UTF-8 path")?;
        let runtime = tokio::runtime::Runtime::new()?;
        if runtime.block_on(fengcun_store::postgres_holds_tables(&config.database))? {
            bail!(
                "--database: the database holds tables already; restore into a new, empty one (createdb NAME, then --database postgres://…/NAME)"
            );
        }
        run_program(
            &pg_program("pg_restore"),
            &[
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                &config.database,
                from,
            ],
        )?;
    }
    println!(
        "restored from {}; start the server with the master key and signing key of the backup's time, then send again the events that came after it",
        args.from.display()
    );
    Ok(ExitCode::SUCCESS)
}
