//! `fengcun import`: bulk NDJSON events into the store, in atomic chunks, resumable.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// Events per transaction (up to 500,000). A national import goes faster in large batches —
    /// fewer commits rewrite the same index pages — at the cost of memory: about 4 GB resident
    /// besides the page cache at 250,000 events (docs/benchmarks.md).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=500_000))]
    batch: u32,
    /// On SQLite, the page cache of the connection that writes, in MiB: the indexes keyed by
    /// pseudonymous person keys grow to gigabytes at tens of millions of records, and every page
    /// found in the cache is one not read from the file again. Memory is taken only as pages are
    /// read; give up to a quarter of the machine's memory to a national import.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(2..=1_048_576))]
    cache_mib: u32,
    /// When the database stops answering (stopped, restarting, unreachable), wait this long for
    /// it to answer again and go on from the last batch it committed; 0 to fail at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    wait_for_database: u64,
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
    /// Every line up to this one is committed, refused and reported, or not an event: where a
    /// pass after the database came back starts.
    committed: usize,
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
    input: input::Input,
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
    let mut lines = ProgressLines::new();
    let mut tally = Tally::default();
    let mut input = Some(input);
    let resumable = args.file.as_os_str() != "-" && args.wait_for_database > 0;
    loop {
        let reader = match input.take() {
            Some(input) => input,
            None => input::open(Some(&args.file))?,
        };
        let outcome = pass(store, reader, args, ctx, &mut tally, &progress, &mut lines).await;
        let Err(error) = outcome else { break };
        let unavailable = error
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unavailable);
        if !(unavailable && resumable) {
            return Err(error);
        }
        progress.suspend(|| {
            eprintln!(
                "the database is unavailable; going on after line {} once it answers (waiting up to {} s)",
                tally.committed, args.wait_for_database
            )
        });
        wait_for_database(store, args.wait_for_database).await?;
        progress.suspend(|| eprintln!("the database answers again; going on"));
        progress.set_position(0);
    }
    progress.finish_and_clear();
    let verb = if args.dry_run {
        "would be stored"
    } else {
        "stored"
    };
    let name = if args.file.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        args.file.display().to_string()
    };
    eprintln!(
        "{name}: {} lines: {} {verb}, {} duplicates, {} errors",
        tally.lines, tally.stored, tally.duplicates, tally.errors
    );
    Ok(if tally.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Waits until the database answers, at most `seconds`.
async fn wait_for_database(store: &fengcun_store::SqlStore, seconds: u64) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if store.ping().await.is_ok() {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            anyhow::bail!("the database did not answer again within {seconds} s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// One pass over the file, from the line after `tally.committed`: lines before it were stored
/// (or refused, or reported) by an earlier pass, which the database cut short.
async fn pass(
    store: &fengcun_store::SqlStore,
    input: input::Input,
    args: &Args,
    ctx: &Context,
    tally: &mut Tally,
    progress: &ProgressBar,
    lines: &mut ProgressLines,
) -> anyhow::Result<()> {
    // Lines an earlier pass read and judged: a line that is not an event was reported already.
    let judged = tally.lines;
    let start = tally.committed;
    let mut pipeline = store.pipeline(ctx.clone(), args.dry_run).await?;
    pipeline.set_cache(args.cache_mib).await?;
    let mut chunk: Vec<(usize, ValidEvent)> = Vec::with_capacity(args.batch as usize);
    let name = input.name.clone();
    let mut reading = read_on_a_thread(input, start, args.batch);
    let mut number = 0;
    while let Some(message) = reading.recv().await {
        for ReadLine {
            number: read_number,
            bytes,
            read,
        } in message?
        {
            number = read_number;
            progress.inc(bytes);
            if number <= start {
                continue;
            }
            let fresh = number > judged;
            tally.lines = tally.lines.max(number);
            match read {
                Read::Blank => continue,
                Read::Event(event) => chunk.push((number, *event)),
                Read::Refused(error) => {
                    if fresh {
                        tally.errors += 1;
                        progress.suspend(|| eprintln!("{name}:{number}: {error}"));
                    }
                }
            }
            if chunk.len() >= args.batch as usize {
                let batch = std::mem::replace(&mut chunk, Vec::with_capacity(args.batch as usize));
                pipeline.set_now(args.now.unwrap_or_else(jiff::Timestamp::now));
                let report = pipeline.push(batch).await?;
                count(report, &name, tally, progress);
                progress.set_message(format!(
                    "{} stored, {} duplicates, {} errors",
                    tally.stored, tally.duplicates, tally.errors
                ));
                lines.tick(&name, tally, progress);
            }
        }
    }
    if !chunk.is_empty() {
        pipeline.set_now(args.now.unwrap_or_else(jiff::Timestamp::now));
        let report = pipeline.push(chunk).await?;
        count(report, &name, tally, progress);
    }
    let report = pipeline.finish().await?;
    count(report, &name, tally, progress);
    tally.committed = number;
    Ok(())
}

/// Lines a message from the reading thread carries: a batch's worth arrives in a few messages.
const LINES_A_MESSAGE: usize = 1024;

/// Batches the reading thread may have parsed ahead (in messages of `LINES_A_MESSAGE` lines, at
/// least `MESSAGES_AHEAD`): the next batch is ready when the one before it has been pushed, so
/// that deciding it does not wait for its lines to be parsed.
const BATCHES_AHEAD: usize = 2;

/// The fewest messages the reading thread may have sent ahead.
const MESSAGES_AHEAD: usize = 24;

fn messages_ahead(batch: u32) -> usize {
    (BATCHES_AHEAD * batch as usize)
        .div_ceil(LINES_A_MESSAGE)
        .max(MESSAGES_AHEAD)
}

/// A line of the file as the reading thread leaves it.
struct ReadLine {
    number: usize,
    /// Its bytes with the newline, for the progress bar.
    bytes: u64,
    read: Read,
}

enum Read {
    /// Only white space, or a line an earlier pass judged (not parsed again).
    Blank,
    Event(Box<ValidEvent>),
    /// Why the line is not an event: the error to report after its file and line.
    Refused(String),
}

/// Reads and parses the input on a thread of its own, so that parsing the next lines (a sixth
/// of the processor an import spends on the caller's side, `perf` at 200,000 records) runs
/// beside deciding the batch before rather than between batches. Lines up to `start` are only
/// counted: an earlier pass judged them. A read error ends the lines with that error.
fn read_on_a_thread(
    mut input: input::Input,
    start: usize,
    batch: u32,
) -> tokio::sync::mpsc::Receiver<std::io::Result<Vec<ReadLine>>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(messages_ahead(batch));
    std::thread::spawn(move || {
        let mut number = 0;
        let mut lines = Vec::with_capacity(LINES_A_MESSAGE);
        let mut line = Vec::new();
        loop {
            line.clear();
            let bytes = match input.reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(bytes) => bytes,
                Err(error) => {
                    // The receiver may have gone (an import that failed): nothing to tell.
                    let _ = sender.blocking_send(Err(error));
                    return;
                }
            };
            number += 1;
            let read = if number <= start {
                Read::Blank
            } else {
                read_line(number, &mut line)
            };
            lines.push(ReadLine {
                number,
                bytes: bytes as u64,
                read,
            });
            if lines.len() == LINES_A_MESSAGE {
                let full = std::mem::replace(&mut lines, Vec::with_capacity(LINES_A_MESSAGE));
                if sender.blocking_send(Ok(full)).is_err() {
                    return;
                }
            }
        }
        if !lines.is_empty() {
            let _ = sender.blocking_send(Ok(lines));
        }
    });
    receiver
}

/// What line `number` of the file is.
fn read_line(number: usize, line: &mut Vec<u8>) -> Read {
    if number == 1 {
        // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the JSON.
        if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
            *line = rest.to_vec();
        }
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return Read::Blank;
    }
    if line.len() > MAX_LINE_BYTES {
        return Read::Refused(format!(
            "the line has {} bytes; an event is at most {MAX_LINE_BYTES} (is the file NDJSON, one event per line?)",
            line.len()
        ));
    }
    match Event::parse(line) {
        Ok(event) => Read::Event(Box::new(event)),
        Err(error) => Read::Refused(error.to_string()),
    }
}

/// Adds a stored batch's lines to the tally; a line the store refused (a reused key, a fact that
/// contradicts the record) is reported with its line in the file. The store took it out and stored
/// the rest of its batch, so that exactly the good lines are stored.
fn count(report: Option<BatchReport>, name: &str, tally: &mut Tally, progress: &ProgressBar) {
    for (line, outcome) in report.map(|r| r.lines).unwrap_or_default() {
        // Batches commit in order: every line up to this one is done with.
        tally.committed = tally.committed.max(line);
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

/// Where the progress bar is not drawn — standard error is not a terminal: a service, `nohup`, a
/// log file — a line now and then instead, so that an import of hours shows how far it is.
struct ProgressLines {
    enabled: bool,
    last: Instant,
}

impl ProgressLines {
    const EVERY: Duration = Duration::from_secs(60);

    fn new() -> Self {
        Self {
            enabled: !std::io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    fn tick(&mut self, name: &str, tally: &Tally, progress: &ProgressBar) {
        if !self.enabled || self.last.elapsed() < Self::EVERY {
            return;
        }
        self.last = Instant::now();
        eprintln!(
            "{}",
            progress_line(
                name,
                tally,
                progress.position(),
                progress.length(),
                progress.elapsed()
            )
        );
    }
}

/// How far an import is: lines read, the share of the file's bytes, the rate, the outcomes.
fn progress_line(
    name: &str,
    tally: &Tally,
    read: u64,
    total: Option<u64>,
    elapsed: Duration,
) -> String {
    let seconds = elapsed.as_secs_f64().max(0.001);
    let share = match total {
        Some(total) if total > 0 => {
            format!(" ({:.1} % of the file)", read as f64 * 100.0 / total as f64)
        }
        _ => String::new(),
    };
    format!(
        "{name}: {} lines read{share} in {:.0} s, {:.0} lines/s; {} stored, {} duplicates, {} errors",
        tally.lines,
        seconds,
        tally.lines as f64 / seconds,
        tally.stored,
        tally.duplicates,
        tally.errors
    )
}

/// The store numbers lines within the chunk; the file's line number replaces it.
fn without_line(error: &StoreError) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_line_says_how_far_and_how_fast() {
        let tally = Tally {
            lines: 1_200_000,
            stored: 1_199_990,
            duplicates: 7,
            errors: 3,
            committed: 1_190_000,
        };
        let line = progress_line(
            "events.ndjson",
            &tally,
            400_000_000,
            Some(1_600_000_000),
            Duration::from_secs(120),
        );
        assert_eq!(
            line,
            "events.ndjson: 1200000 lines read (25.0 % of the file) in 120 s, 10000 lines/s; \
             1199990 stored, 7 duplicates, 3 errors"
        );
    }

    #[test]
    fn standard_input_has_no_share_of_a_file() {
        let tally = Tally {
            lines: 10,
            ..Tally::default()
        };
        let line = progress_line("<stdin>", &tally, 0, None, Duration::from_secs(5));
        assert_eq!(
            line,
            "<stdin>: 10 lines read in 5 s, 2 lines/s; 0 stored, 0 duplicates, 0 errors"
        );
    }
}
