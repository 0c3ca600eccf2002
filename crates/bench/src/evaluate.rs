//! Evaluation against every shipped policy, measured against parsing the same lines alone.

use std::hint::black_box;
use std::time::Instant;

use fengcun_domain::{Catalogue, Date, RecordParser};
use fengcun_policy::{Outcome, evaluate, presets};

use crate::Summary;
use crate::records::generate;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many records.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 20_261_126)]
    pub seed: u64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            records: 1_000_000,
            seed: 20_261_126,
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<Summary> {
    let input = generate(args.records, args.seed);
    let policies = presets::all();
    let parser = RecordParser::new(Catalogue::builtin());
    let as_of = Date::constant(2026, 11, 26);
    eprintln!(
        "evaluate: {} records ({:.0} MB of NDJSON) × {} policies",
        args.records,
        input.len() as f64 / 1e6,
        policies.len()
    );

    // Warm up caches and the catalogue once, outside both timings.
    let _ = parser.parse(input.split(|b| *b == b'\n').next().unwrap_or_default());

    let started = Instant::now();
    let mut parsed = 0usize;
    for line in input.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        parsed += usize::from(black_box(parser.parse(line)).is_ok());
    }
    let parse_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut sealed = vec![0usize; policies.len()];
    for line in input.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(record) = parser.parse(line) else {
            continue;
        };
        for (i, policy) in policies.iter().enumerate() {
            let decision = black_box(evaluate(policy, &record, as_of));
            sealed[i] += usize::from(decision.outcome == Outcome::Seal);
        }
    }
    let evaluate_seconds = started.elapsed().as_secs_f64();

    // For information: also rendering every decision as the CLI writes it.
    let started = Instant::now();
    let mut bytes = 0usize;
    let mut buffer = Vec::with_capacity(1 << 16);
    for line in input.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(record) = parser.parse(line) else {
            continue;
        };
        for policy in policies {
            buffer.clear();
            serde_json::to_writer(
                &mut buffer,
                &evaluate(policy, &record, as_of).view(policy, &record),
            )?;
            bytes += buffer.len();
        }
    }
    let render_seconds = started.elapsed().as_secs_f64();

    anyhow::ensure!(
        parsed == args.records,
        "only {parsed} of {} lines parsed",
        args.records
    );
    for (policy, count) in policies.iter().zip(&sealed) {
        eprintln!(
            "  {:<28} sealed {:>6.2} %",
            policy.name(),
            100.0 * *count as f64 / parsed as f64
        );
    }
    let records = args.records as f64;
    eprintln!(
        "  parse only {:.2} s; parse + evaluate {:.2} s; parse + evaluate + render JSON {:.2} s ({:.0} MB out, ratio {:.2})",
        parse_seconds,
        evaluate_seconds,
        render_seconds,
        bytes as f64 / 1e6,
        parse_seconds / render_seconds
    );
    Ok(Summary {
        name: "evaluate",
        unit: "records",
        throughput: records / evaluate_seconds,
        baseline_name: "parse only",
        baseline: records / parse_seconds,
        target: Some(0.7),
    })
}
