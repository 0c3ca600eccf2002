//! `fengcun synth`: a synthetic national data set (docs/synthetic-data.md).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use fengcun_synth::{Config, Generator};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many records (one person in one case each): a few hundred for a look, tens of millions
    /// for national scale.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Directory to write `records.ndjson` (record facts) and `events.ndjson` (case events) to.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write only the record facts, not the events.
    #[arg(long)]
    no_events: bool,
    /// Public-security violation records (治安违法记录) per mille of the records; 0 for criminal
    /// records only (docs/synthetic-data.md, "Violation records").
    #[arg(long, default_value_t = fengcun_synth::DEFAULT_VIOLATIONS_PER_MILLE)]
    violations_per_mille: u32,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let create = |name: &str| -> anyhow::Result<BufWriter<File>> {
        let path = args.out.join(name);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(BufWriter::with_capacity(8 << 20, file))
    };
    let mut facts = create("records.ndjson")?;
    let mut events = if args.no_events {
        None
    } else {
        Some(create("events.ndjson")?)
    };
    let progress = ProgressBar::new(args.records);
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} 条记录")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let generator = Generator::new(Config {
        records: args.records,
        seed: args.seed,
        violations_per_mille: args.violations_per_mille,
    })?;
    let stats = generator.run(
        &mut facts,
        events.as_mut().map(|e| e as &mut dyn Write),
        &mut |n| progress.set_position(n),
    )?;
    progress.finish_and_clear();
    facts.flush()?;
    if let Some(events) = events.as_mut() {
        events.flush()?;
    }
    let share = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "已生成 {} 条记录（{} 人，{} 件刑事案件，{} 个事件）于 {}",
        stats.records,
        stats.persons,
        stats.cases,
        stats.events,
        args.out.display()
    );
    println!(
        "  有罪判决 {}，不起诉 {}，撤销案件 {}，宣告无罪 {}，尚未终结 {}",
        stats.convicted, stats.not_prosecuted, stats.withdrawn, stats.acquitted, stats.open
    );
    println!(
        "  危险驾驶罪占一审审结案件 {:.2}%；三年以下刑罚 {:.2}%，一年以下 {:.2}%；严重暴力犯罪占起诉审判 {:.2}%",
        share(stats.dangerous_driving_judged_cases, stats.judged_cases),
        share(stats.convicted_at_most_three_years, stats.convicted),
        share(stats.convicted_at_most_one_year, stats.convicted),
        share(
            stats.serious_violent_judged,
            stats.convicted + stats.acquitted
        )
    );
    println!(
        "  未成年人 {}，有前科 {}，累犯 {}，缓刑 {}",
        stats.juvenile_records,
        stats.repeat_offender_records,
        stats.recidivist_records,
        stats.probation_records
    );
    println!(
        "  治安违法记录 {}（{} 件治安案件）：处罚决定 {}（行政拘留 {}），不予处罚 {}，撤销案件 {}（其中复议撤销处罚决定 {}），尚未处理完毕 {}",
        stats.violation_records,
        stats.violation_cases,
        stats.violation_penalized,
        stats.violation_detention,
        stats.violation_not_penalized,
        stats.violation_withdrawn,
        stats.violation_revoked,
        stats.violation_open
    );
    Ok(ExitCode::SUCCESS)
}
