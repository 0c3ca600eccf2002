//! `fengcun import`: bulk NDJSON events into the store, in atomic chunks, resumable.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use fengcun_domain::{Event, ValidEvent};
use fengcun_store::prelude::*;
use fengcun_store::{BatchReport, Context, LineOutcome, StoreError};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::serve;
use crate::input;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Event NDJSON (docs/events.md); `-` for standard input.
    file: PathBuf,
    /// `sqlite://PATH` (default `sqlite://fengcun.sqlite`) or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
    /// Check every line against the store and report, storing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Events per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// The time to act at, instead of the clock (RFC 3339): for replays and tests.
    #[arg(long, value_name = "TIMESTAMP", hide = true)]
    now: Option<jiff::Timestamp>,
}

/// An event line's most bytes: a realistic event is under 1 KB; a longer line is a file that is not
/// NDJSON, and parsing it would take memory many times its size.
const MAX_LINE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default)]
struct Tally {
    lines: usize,
    stored: usize,
    duplicates: usize,
    errors: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = serve::config(args.config.as_deref(), None, args.database.clone())?;
    // Warnings about keys (one made, one kept beside the database) reach the operator.
    serve::init_logging(&config.log_format);
    // The input first: a mistyped file name must not leave a new database and key behind.
    let input = input::open(Some(&args.file))?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let keys = fengcun_store::Keys::new(config.master_key()?);
        let store = fengcun_store::open(&config.database, keys).await?;
        // The configured agencies first, as `serve` does: an event for one of them must declare
        // its configured kind. An agency not configured is registered by its first event, and
        // keeps that kind (docs/events.md, "Who may send what").
        if !args.dry_run {
            for agency in &config.agencies {
                store.set_agency(agency).await?;
            }
        }
        let policy = match store.policy_in_force().await? {
            Some((name, _, text)) => fengcun_policy::Policy::from_toml(&name, &text)?,
            None => config.load_policy()?,
        };
        let ctx = Context::new(
            Arc::new(policy),
            args.now.unwrap_or_else(jiff::Timestamp::now),
        )
        .issued_by(Arc::new(config.notices.clone()));
        import(&store, input, &args, &ctx).await
    })
}

async fn import(
    store: &fengcun_store::SqlStore,
    mut input: input::Input,
    args: &Args,
    ctx: &Context,
) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let progress = if size > 0 {
        ProgressBar::new(size)
    } else {
        ProgressBar::new_spinner()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut tally = Tally::default();
    let mut pipeline = store.pipeline(ctx.clone(), args.dry_run).await?;
    let mut chunk: Vec<(usize, ValidEvent)> = Vec::with_capacity(args.batch as usize);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input.reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        progress.inc(read as u64);
        tally.lines += 1;
        if tally.lines == 1 {
            // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the JSON.
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest.to_vec();
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > MAX_LINE_BYTES {
            tally.errors += 1;
            progress.suspend(|| {
                eprintln!(
                    "{}:{}: the line has {} bytes; an event is at most {MAX_LINE_BYTES} (is the file NDJSON, one event per line?)",
                    input.name,
                    tally.lines,
                    line.len()
                )
            });
            continue;
        }
        match Event::parse(&line) {
            Ok(event) => chunk.push((tally.lines, event)),
            Err(error) => {
                tally.errors += 1;
                progress.suspend(|| eprintln!("{}:{}: {error}", input.name, tally.lines));
            }
        }
        if chunk.len() >= args.batch as usize {
            let batch = std::mem::replace(&mut chunk, Vec::with_capacity(args.batch as usize));
            let report = pipeline.push(batch).await?;
            count(report, &input.name, &mut tally, &progress);
            progress.set_message(format!(
                "{} stored, {} duplicates, {} errors",
                tally.stored, tally.duplicates, tally.errors
            ));
        }
    }
    if !chunk.is_empty() {
        let report = pipeline.push(chunk).await?;
        count(report, &input.name, &mut tally, &progress);
    }
    let report = pipeline.finish().await?;
    count(report, &input.name, &mut tally, &progress);
    progress.finish_and_clear();
    let verb = if args.dry_run {
        "would be stored"
    } else {
        "stored"
    };
    eprintln!(
        "{}: {} lines: {} {verb}, {} duplicates, {} errors",
        input.name, tally.lines, tally.stored, tally.duplicates, tally.errors
    );
    Ok(if tally.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Adds a stored batch's lines to the tally; a line the store refused (a reused key, a fact that
/// contradicts the record) is reported with its line in the file. The store took it out and stored
/// the rest of its batch, so that exactly the good lines are stored.
fn count(report: Option<BatchReport>, name: &str, tally: &mut Tally, progress: &ProgressBar) {
    for (line, outcome) in report.map(|r| r.lines).unwrap_or_default() {
        match outcome {
            Ok(LineOutcome::Stored) => tally.stored += 1,
            Ok(LineOutcome::Duplicate) => tally.duplicates += 1,
            Err(error) => {
                tally.errors += 1;
                progress.suspend(|| eprintln!("{name}:{line}: {}", without_line(&error)));
            }
        }
    }
}

/// The store numbers lines within the chunk; the file's line number replaces it.
fn without_line(error: &StoreError) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest.to_owned(),
        _ => text,
    }
}
