//! `fengcun simulate`: what each policy would seal, compared (docs/simulation.md).

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use fengcun_domain::date::parse_date;
use fengcun_policy::Policy;
use fengcun_simulate::Comparison;
use indicatif::{ProgressBar, ProgressStyle};

use crate::input;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A shipped policy name (see `fengcun policy list`) or a policy file; repeat to compare.
    #[arg(long = "policy", required = true, value_name = "NAME|FILE")]
    policies: Vec<String>,
    /// The date the decisions are taken on (YYYY-MM-DD); default: today in China (UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    /// Print the comparison as JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Directory for the CSV files and the SVG chart.
    #[arg(long, value_name = "DIR", default_value = "fengcun-simulation")]
    out: PathBuf,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Charges shown in the table (all are in the CSV).
    #[arg(long, default_value_t = 15)]
    top: usize,
    /// Do not add the juvenile statute: without this, the statute (`cn-juvenile`, CPL art. 286),
    /// in force beside every criminal policy, is compared too, and each criminal policy is also
    /// counted as the platform applies it, beside the statute. (Given with `--policy`, it is
    /// compared, and counted beside the others, all the same.)
    #[arg(long)]
    without_juvenile_statute: bool,
    /// Record-facts NDJSON; `-` for standard input.
    file: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let policies = args
        .policies
        .iter()
        .map(|p| input::policy(p))
        .collect::<anyhow::Result<Vec<Policy>>>()?;
    let mut policies = policies;
    // Two policies of one name could not be told apart in any table, column or file.
    for (i, policy) in policies.iter().enumerate() {
        if policies[..i]
            .iter()
            .any(|p| p.meta.name == policy.meta.name)
        {
            anyhow::bail!(
                "--policy: `{}` is given twice (two policies of one name cannot be told apart: give a draft its own name)",
                policy.meta.name
            );
        }
    }
    let statute = fengcun_simulate::JUVENILE_STATUTE;
    let shipped = fengcun_policy::presets::get(statute);
    if policies
        .iter()
        .any(|p| p.meta.name == statute && Some(p) != shipped)
    {
        eprintln!(
            "{statute}：所给政策文件与平台施行的未成年人犯罪记录封存（法定）不同，按草案比较，不计算与法定封存并行的结果"
        );
    }
    let added =
        !args.without_juvenile_statute && fengcun_simulate::add_juvenile_statute(&mut policies);
    let as_of = match &args.as_of {
        Some(text) => parse_date(text).with_context(|| format!("--as-of {text}"))?,
        None => {
            let offset = jiff::tz::Offset::constant(8);
            jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::fixed(offset))
                .date()
        }
    };
    let stdin = args.file.as_os_str() == "-";
    let name = if stdin {
        "<stdin>".to_owned()
    } else {
        args.file.display().to_string()
    };
    let (mut reader, size): (Box<dyn Read>, u64) = if stdin {
        (Box::new(io::stdin().lock()), 0)
    } else {
        let file = File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(file), size)
    };
    let progress = if size > 0 {
        ProgressBar::new(size)
    } else {
        ProgressBar::new_spinner()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result =
        fengcun_simulate::run(&policies, as_of, &mut reader, args.threads, &mut |bytes| {
            progress.set_position(bytes)
        })?;
    progress.finish_and_clear();
    for error in &result.errors {
        eprintln!("{name}:{}: {}", error.line, error.error);
    }
    if added {
        eprintln!(
            "{statute} 与各犯罪记录政策一并比较：平台对每条犯罪记录都同时适用该法定封存（--without-juvenile-statute 则不加）"
        );
    }
    let comparison = Comparison::new(&policies, as_of, &result);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    for (file, content) in comparison.csv() {
        let path = args.out.join(file);
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let chart = args.out.join("chart.svg");
    std::fs::write(&chart, comparison.svg())
        .with_context(|| format!("cannot write {}", chart.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", comparison.text(args.top));
        println!("\nCSV 与图表已写入 {}", args.out.display());
    }
    if !result.errors.is_empty() {
        eprintln!("{name}: {} line(s) could not be read", result.errors.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
