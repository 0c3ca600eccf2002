//! `fengcun evaluate`: record facts in, decisions out (FORMATS.md).

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use fengcun_domain::date::parse_date;
use fengcun_domain::{Catalogue, Date, RecordParser};
use fengcun_policy::{Policy, evaluate};

use crate::input;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A shipped policy name (see `fengcun policy list`) or a policy file; repeat for several.
    #[arg(long = "policy", required = true, value_name = "NAME|FILE")]
    policies: Vec<String>,
    /// The date the decisions are taken on (YYYY-MM-DD); default: today in China (UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    /// Record-facts NDJSON; `-` or nothing for standard input.
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let policies = args
        .policies
        .iter()
        .map(|p| input::policy(p))
        .collect::<anyhow::Result<Vec<Policy>>>()?;
    let as_of = match &args.as_of {
        Some(text) => parse_date(text).with_context(|| format!("--as-of {text}"))?,
        None => today_in_china(),
    };
    let mut input = input::open(args.file.as_deref())?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let failed = evaluate_lines(&mut input, &policies, as_of, &mut out)?;
    out.flush()?;
    if failed > 0 {
        eprintln!("{}: {failed} line(s) could not be evaluated", input.name);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Evaluates every line; a bad line is reported on stderr and the others still go through.
/// Returns how many lines failed.
fn evaluate_lines(
    input: &mut input::Input,
    policies: &[Policy],
    as_of: Date,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let parser = RecordParser::new(Catalogue::builtin());
    let mut line = Vec::new();
    let mut line_no = 0usize;
    let mut failed = 0usize;
    loop {
        line.clear();
        if input.reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parser.parse(&line) {
            Ok(record) => {
                for policy in policies {
                    let decision = evaluate(policy, &record, as_of);
                    serde_json::to_writer(&mut *out, &decision.view(policy, &record))?;
                    out.write_all(b"\n")?;
                }
            }
            Err(error) => {
                failed += 1;
                eprintln!("{}:{line_no}: {error}", input.name);
            }
        }
    }
    Ok(failed)
}

/// Legal dates in China are calendar dates at UTC+8, whatever the server's time zone.
fn today_in_china() -> Date {
    let offset = jiff::tz::Offset::constant(8);
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(offset))
        .date()
}
