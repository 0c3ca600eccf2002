//! `fengcun keys`: rotate the master key (re-wrap every record key under a new one, while the
//! server runs) and list the signing keys the platform has published (docs/operations.md,
//! "Rotating keys").

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use fengcun_crypto::MasterKey;
use fengcun_store::prelude::*;

use crate::cmd::serve;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Re-wrap every record key under a new master key, with the server running. Resumable: run
    /// it again with the same new key after a crash and it goes on where it stopped. The old
    /// key is refused from the end on: switch master_key_file to the new one and restart.
    RotateMaster(RotateArgs),
    /// The signing keys the platform has signed with, and when (as GET /api/v1/signing-keys shows them).
    Signing(Database),
}

#[derive(Debug, clap::Args)]
pub struct Database {
    /// `sqlite://PATH` (default `sqlite://fengcun.sqlite`) or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML), as for `serve`: its master key is the current one.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    database: Database,
    /// The new master key: a file of 64 hexadecimal digits, owner-only (0600). Made there, with a
    /// new random key, when it does not exist.
    #[arg(long, value_name = "FILE")]
    new_key_file: PathBuf,
    /// Who rotates (named in the audit entries).
    #[arg(long, value_name = "NAME", default_value = "operator")]
    by: String,
    /// Stop after this many record keys (the rest at the next run).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Seconds to wait, once the rotation is begun, for running servers to load the new key
    /// before the first record key is re-wrapped (they load it every 5 s); 0 when none runs.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    wait_seconds: u64,
}

pub fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::RotateMaster(args) => rotate_master(args),
        KeysCommand::Signing(args) => signing(args),
    }
}

/// Reads the new key, or makes it (0600, whole or not at all).
fn new_key(path: &Path) -> anyhow::Result<MasterKey> {
    if !path.exists() {
        let key = MasterKey::generate();
        let made = fengcun_server::keyfile::create(
            path,
            &format!("{}\n", key.to_hex()),
            fengcun_server::keyfile::Access::Owner,
        )
        .with_context(|| format!("cannot create {}", path.display()))?;
        if made {
            println!("made a new master key in {}", path.display());
            return Ok(key);
        }
    }
    let text = fengcun_server::keyfile::read_private(path)?;
    MasterKey::from_hex(&text).with_context(|| format!("--new-key-file {}", path.display()))
}

fn rotate_master(args: RotateArgs) -> anyhow::Result<ExitCode> {
    let config = serve::config(
        args.database.config.as_deref(),
        None,
        args.database.database,
    )?;
    serve::require_existing(&config.database)?;
    let current = config.master_key()?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let new = new_key(&args.new_key_file)?.with_suite(current.suite());
        let store =
            match fengcun_store::open(&config.database, fengcun_store::Keys::new(current)).await {
                Ok(store) => store,
                Err(error) => {
                    // The same command run again after the rotation finished: the configured key
                    // is retired, and the new one opens the database.
                    let keys = fengcun_store::Keys::new(new.clone());
                    if fengcun_store::open(&config.database, keys).await.is_ok() {
                        println!(
                            "the rotation to master key {} is finished already: set master_key_file to {} and restart every server",
                            new.key_id(),
                            args.new_key_file.display()
                        );
                        return anyhow::Ok(ExitCode::SUCCESS);
                    }
                    return Err(error.into());
                }
            };
        let begun = store
            .begin_master_rotation(&new, &args.by, jiff::Timestamp::now())
            .await?;
        if begun.finished {
            println!("the database is rotated to key {} already", begun.key_id);
            return anyhow::Ok(ExitCode::SUCCESS);
        }
        println!(
            "rotating to master key {} (generation {})",
            begun.key_id, begun.generation
        );
        // Every running server loads the ring at most RING_REFRESH apart: wait two of those (the
        // default), so that none meets a re-wrapped key it cannot open.
        tokio::time::sleep(std::time::Duration::from_secs(args.wait_seconds)).await;
        let mut total = 0;
        loop {
            let step = match args.limit {
                Some(limit) => (limit - total).min(10_000),
                None => 10_000,
            };
            let status = store
                .rewrap_record_keys(Some(step), &args.by, jiff::Timestamp::now())
                .await?;
            total += status.rewrapped;
            if status.finished {
                // A run that resumes after every key was re-wrapped re-wraps none itself.
                let done = if total == 0 {
                    "finished: every record key is re-wrapped".to_owned()
                } else {
                    format!("finished: {total} record keys re-wrapped by this run, every one now")
                };
                println!(
                    "{done} under {}. Set master_key_file to {} and restart every server; the old key opens nothing any more",
                    status.key_id,
                    args.new_key_file.display()
                );
                return anyhow::Ok(ExitCode::SUCCESS);
            }
            println!("{total} record keys re-wrapped");
            if args.limit.is_some_and(|limit| total >= limit) {
                println!("stopped at --limit; run the command again to go on");
                return anyhow::Ok(ExitCode::SUCCESS);
            }
        }
    })
}

fn signing(args: Database) -> anyhow::Result<ExitCode> {
    let config = serve::config(args.config.as_deref(), None, args.database)?;
    serve::require_existing(&config.database)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let store =
            fengcun_store::open_without_master_key(&config.database, fengcun_crypto::Suite::Sm)
                .await?;
        for key in store.signing_keys().await? {
            println!(
                "{} {} from {} until {}",
                key.key_id,
                key.algorithm,
                key.valid_from,
                key.valid_until.as_deref().unwrap_or("(in use)")
            );
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
