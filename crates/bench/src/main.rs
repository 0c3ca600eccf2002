//! `fengcun-bench`: benchmarks that print throughput next to a baseline measured in the same run,
//! and the ratio. Machines are noisy; ratios are what we compare.

mod evaluate;
mod records;

use clap::{Parser, Subcommand};

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
    /// Every benchmark, one summary line each.
    All,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().bench {
        Bench::Evaluate(args) => evaluate::run(&args).map(|summary| println!("{summary}")),
        Bench::All => {
            let summary = evaluate::run(&evaluate::Args::default())?;
            println!("\nsummary");
            println!("{summary}");
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
