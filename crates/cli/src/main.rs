//! `fengcun`: the command line of the minor-criminal-record sealing platform.

mod cmd;
mod input;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Ingestion allocates many small rows and JSON values per event; glibc's allocator took a fifth of
// the deciding thread (docs/benchmarks.md, ingest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "fengcun",
    version,
    about = "封存 — the minor-criminal-record sealing platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide, for every record-facts line, whether and when it is sealed (FORMATS.md).
    Evaluate(cmd::evaluate::Args),
    /// Generate a synthetic national data set: record facts and case events (docs/synthetic-data.md).
    Synth(cmd::synth::Args),
    /// Compare what policies would seal over record facts (docs/simulation.md).
    Simulate(cmd::simulate::Args),
    /// List, show and check sealing policies.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// Run the platform's HTTP server.
    Serve(cmd::serve::Args),
    /// Run the server on the embedded default with a small demo data set loaded.
    Demo(cmd::demo::Args),
    /// Import case events from an NDJSON file (docs/events.md).
    Import(cmd::import::Args),
    /// Read criminal judgments: record facts, or redaction for publication (docs/judgments.md).
    #[command(subcommand)]
    Judgment(cmd::judgment::JudgmentCommand),
    /// Verify the tamper-evident audit log; export its signed heads; give and check proofs.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Verify certificates of no criminal record offline; make issuer key pairs.
    #[command(subcommand)]
    Cert(cmd::cert::CertCommand),
    /// Verify a delivered sealing or unsealing notice offline (docs/notices.md).
    #[command(subcommand)]
    Notice(cmd::notice::NoticeCommand),
    /// Rotate the master key; list the signing keys (docs/operations.md, "Rotating keys").
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// Back the database up while the server runs (SQLite online backup; pg_dump).
    Backup(cmd::backup::BackupArgs),
    /// Restore a backup into a new database (then send again the events that came after it).
    Restore(cmd::backup::RestoreArgs),
    /// Enrol a person's account (an administrator alone may not make one; docs/disclosure.md).
    #[command(subcommand)]
    User(cmd::user::UserCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Synth(args) => cmd::synth::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Policy(command) => cmd::policy::run(command),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Judgment(command) => cmd::judgment::run(command),
        Command::Audit(command) => cmd::audit::run(command),
        Command::Cert(command) => cmd::cert::run(command),
        Command::Notice(command) => cmd::notice::run(command),
        Command::User(command) => cmd::user::run(command),
        Command::Keys(command) => cmd::keys::run(command),
        Command::Backup(args) => cmd::backup::backup(args),
        Command::Restore(args) => cmd::backup::restore(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fengcun: {error:#}");
            ExitCode::FAILURE
        }
    }
}
