//! `fengcun-bench`: benchmarks that print throughput next to a baseline measured in the same run,
//! and the ratio. Machines are noisy; ratios are what we compare.

mod audit;
mod certificates;
mod console;
mod evaluate;
mod ingest;
mod judgment;
mod records;
mod simulate;
mod storage;
mod supervision;

use clap::{Parser, Subcommand};

// The same allocator as the `fengcun` binary, so that the figures are the ones it runs at.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "fengcun-bench",
    about = "fengcun benchmarks: throughput, same-run baseline, ratio"
)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Evaluate record facts against every shipped policy, against parsing the same input alone.
    Evaluate(evaluate::Args),
    /// Ingest events into the store (decisions, states, notices) against a plain insert.
    Ingest(ingest::Args),
    /// Append, verify and prove the audit log's Merkle tree, against raw hashing of the entries.
    Audit(audit::Args),
    /// Extract record facts from and redact real judgments, against one plain regex pass.
    Judgment(judgment::Args),
    /// Certificates issued through the HTTP API over a million people, against a trivial endpoint.
    Certificates(certificates::Args),
    /// The policy simulator against DuckDB computing the same coverage table.
    Simulate(simulate::Args),
    /// The console's dashboard, records list and a record's timeline over a million people,
    /// against its login page: p50 and p99 of each.
    Console(console::Args),
    /// Bytes on disk per record by table and index after importing synthetic records, against
    /// the input event NDJSON.
    Storage(storage::Args),
    /// Every supervision flag over a generated audit history (10,000,000 entries), against a plain
    /// sequential read of the same entries.
    Supervision(supervision::Args),
    /// Every benchmark, one summary line each.
    All,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().bench {
        Bench::Storage(args) => storage::run(&args),
        Bench::Evaluate(args) => evaluate::run(&args).map(|summary| println!("{summary}")),
        Bench::Ingest(args) => {
            ingest::run(&args).map(|summaries| summaries.iter().for_each(|s| println!("{s}")))
        }
        Bench::Audit(args) => {
            audit::run(&args).map(|summaries| summaries.iter().for_each(|s| println!("{s}")))
        }
        Bench::Judgment(args) => {
            judgment::run(&args).map(|summaries| summaries.iter().for_each(|s| println!("{s}")))
        }
        Bench::Certificates(args) => {
            certificates::run(&args).map(|summaries| summaries.iter().for_each(|s| println!("{s}")))
        }
        Bench::Console(args) => {
            console::run(&args).map(|summaries| summaries.iter().for_each(|s| println!("{s}")))
        }
        Bench::Supervision(args) => supervision::run(&args).map(|summary| println!("{summary}")),
        Bench::Simulate(args) => {
            simulate::run(&args).map(|summaries| summaries.iter().for_each(|s| println!("{s}")))
        }
        Bench::All => {
            let mut summaries = vec![evaluate::run(&evaluate::Args::default())?];
            summaries.extend(ingest::run(&ingest::Args::default())?);
            summaries.extend(certificates::run(&certificates::Args::default())?);
            summaries.extend(simulate::run(&simulate::Args::default())?);
            // The judgments are shared data, not part of the repository: skip when absent.
            match judgment::run(&judgment::Args::default()) {
                Ok(judgment) => summaries.extend(judgment),
                Err(error) => eprintln!("judgment: skipped ({error:#})"),
            }
            summaries.extend(audit::run(&audit::Args::default())?);
            summaries.push(supervision::run(&supervision::Args::default())?);
            println!("\nsummary");
            for summary in summaries {
                println!("{summary}");
            }
            Ok(())
        }
    }
}

/// One benchmark's result line: throughput, baseline, ratio.
#[derive(Debug)]
pub struct Summary {
    pub name: &'static str,
    pub unit: &'static str,
    pub throughput: f64,
    pub baseline_name: &'static str,
    pub baseline: f64,
    pub target: Option<f64>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ratio = self.throughput / self.baseline;
        write!(
            f,
            "{:<12} {:>14.0} {}/s   baseline ({}) {:>14.0} {}/s   ratio {:.2}",
            self.name,
            self.throughput,
            self.unit,
            self.baseline_name,
            self.baseline,
            self.unit,
            ratio
        )?;
        if let Some(target) = self.target {
            let verdict = if ratio >= target { "meets" } else { "BELOW" };
            write!(f, " ({verdict} target ≥ {target})")?;
        }
        Ok(())
    }
}
