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

/// A PostgreSQL client program: `FENGCUN_PG_BIN/NAME` if set, else on the path.
fn pg_program(name: &str) -> PathBuf {
    match std::env::var_os("FENGCUN_PG_BIN") {
        Some(dir) => Path::new(&dir).join(name),
        None => PathBuf::from(name),
    }
}

/// A PostgreSQL URL for a client program's `--dbname`, without its password, and the password
/// for `PGPASSWORD`: a command line is readable by every user of the machine (`ps`), the
/// environment of a process only by its owner.
fn split_password(database: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut url = url::Url::parse(database).context("--database: not a URL")?;
    let password = url.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    if password.is_some() {
        url.set_password(None)
            .map_err(|()| anyhow::anyhow!("--database: a URL without a host"))?;
    }
    Ok((url.to_string(), password))
}

fn run_program(program: &Path, args: &[&str], password: Option<&str>) -> anyhow::Result<()> {
    let mut command = std::process::Command::new(program);
    command.args(args);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let status = command
        .status()
        .with_context(|| format!("cannot run {} (set FENGCUN_PG_BIN)", program.display()))?;
    if !status.success() {
        bail!("{} failed ({status})", program.display());
    }
    Ok(())
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = serve::config(args.config.as_deref(), None, args.database)?;
    serve::require_existing(&config.database)?;
    if args.out.exists() {
        bail!("--out {}: a file is there already", args.out.display());
    }
    if serve::sqlite_path(&config.database).is_some() {
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
        let (database, password) = split_password(&config.database)?;
        let dumped = run_program(
            &pg_program("pg_dump"),
            &["--format=custom", "--file", out, "--dbname", &database],
            password.as_deref(),
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
    if let Some(path) = serve::sqlite_path(&config.database) {
        let path = Path::new(path);
        if path.exists() {
            bail!(
                "--database {}: a database is there; restore into a new file (stop the server, move the old one aside)",
                path.display()
            );
        }
        // Only a backup of a fengcun database is put in place (an empty file a failed backup
        // left would start as an empty platform and report healthy).
        tokio::runtime::Runtime::new()?.block_on(fengcun_store::check_sqlite_backup(&args.from))?;
        // Readable by its owner only, whatever the copy's permissions were.
        fengcun_store::create_private(path)?;
        let copied = std::fs::File::open(&args.from)
            .and_then(|mut from| {
                let mut to = std::fs::OpenOptions::new().write(true).open(path)?;
                std::io::copy(&mut from, &mut to)?;
                to.sync_all()
            })
            .with_context(|| format!("cannot write {}", path.display()));
        if copied.is_err() {
            let _ = std::fs::remove_file(path);
        }
        copied?;
    } else {
        let from = args.from.to_str().context("--from: not a UTF-8 path")?;
        let runtime = tokio::runtime::Runtime::new()?;
        if runtime.block_on(fengcun_store::postgres_holds_tables(&config.database))? {
            bail!(
                "--database: the database holds tables already; restore into a new, empty one (createdb NAME, then --database postgres://…/NAME)"
            );
        }
        let (database, password) = split_password(&config.database)?;
        run_program(
            &pg_program("pg_restore"),
            &["--no-owner", "--exit-on-error", "--dbname", &database, from],
            password.as_deref(),
        )?;
    }
    println!(
        "restored from {}; start the server with the master key and signing key of the backup's time, then send again the events that came after it",
        args.from.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    /// The password goes to the environment, never the command line; a percent-encoded one is
    /// given as the server expects it.
    #[test]
    fn a_password_is_taken_out_of_the_url() {
        let (url, password) =
            super::split_password("postgres://fengcun:s%40c+ret@db.example:5433/fengcun").unwrap();
        assert_eq!(url, "postgres://fengcun@db.example:5433/fengcun");
        assert_eq!(password.as_deref(), Some("s@c+ret"));
        let (url, password) = super::split_password("postgres://fengcun@db/fengcun").unwrap();
        assert_eq!(url, "postgres://fengcun@db/fengcun");
        assert_eq!(password, None);
    }
}
