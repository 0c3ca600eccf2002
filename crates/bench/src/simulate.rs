//! The policy simulator against DuckDB computing the same coverage table from the same NDJSON.
//!
//! The SQL is a transcription of the eligibility rules of cn-minor-opt1, cn-minor-opt2,
//! cn-minor-opt3 and cn-pilot-light-penalty (data/policies/*.toml): convicted; the sentence
//! threshold; none of the six excluded categories (the catalogue's charges with those tags, listed
//! in the query); first offender (`prior_convictions = 0 AND NOT recidivist`). It is checked
//! here: both must count the same records.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use fengcun_domain::{Catalogue, Date, Tag};
use fengcun_policy::presets;
use fengcun_simulate::Comparison;

use crate::Summary;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many records.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Worker threads for the simulator (DuckDB gets as many).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Timed runs of each side; the best counts (the machine is shared, so the others show
    /// the noise).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            records: 1_000_000,
            seed: 2024,
            threads: 2,
            runs: 3,
        }
    }
}

const POLICIES: [&str; 4] = [
    "cn-minor-opt1",
    "cn-minor-opt2",
    "cn-minor-opt3",
    "cn-pilot-light-penalty",
];

fn sql(file: &str) -> String {
    let excluded: Vec<String> = Catalogue::builtin()
        .charges()
        .iter()
        .filter(|c| {
            [
                Tag::NationalSecurity,
                Tag::Terrorism,
                Tag::Sexual,
                Tag::Drugs,
                Tag::OrganizedCrime,
                Tag::DutyCrime,
            ]
            .iter()
            .any(|t| c.tags.contains(*t))
        })
        .map(|c| format!("'{}'", c.name))
        .collect();
    format!(
        "WITH r AS (SELECT disposition, sentence.principal AS p, sentence.months AS m, \
           list_transform(charges, lambda c: c.name) AS names, \
           list_bool_or(list_transform(charges, lambda c: c.culpability = 'intentional')) AS intentional, \
           prior_convictions = 0 AND NOT recidivist AS first \
         FROM read_ndjson('{file}', columns = {{disposition: 'VARCHAR', \
           sentence: 'STRUCT(principal VARCHAR, months INTEGER)', \
           charges: 'STRUCT(name VARCHAR, culpability VARCHAR)[]', \
           recidivist: 'BOOLEAN', prior_convictions: 'INTEGER'}})), \
         c AS (SELECT *, first AND NOT list_has_any(names, [{}]) AS clean, \
           p IN ('exempt','supplementary_only','public_surveillance','criminal_detention') AS light, \
           p IN ('supplementary_only','public_surveillance','criminal_detention') AS pilot, \
           p = 'fixed_term' AS ft FROM r WHERE disposition = 'convicted') \
         SELECT count(*), \
           count(*) FILTER (WHERE clean AND (light OR (ft AND m <= CASE WHEN intentional THEN 12 ELSE 36 END))), \
           count(*) FILTER (WHERE clean AND (light OR (ft AND m <= 12))), \
           count(*) FILTER (WHERE clean AND light), \
           count(*) FILTER (WHERE clean AND pilot) FROM c",
        excluded.join(",")
    )
}

/// DuckDB in a Python process kept for the whole benchmark, so that its runs can alternate with
/// the simulator's and both see the same machine (other builds come and go).
struct DuckDb {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl DuckDb {
    /// Starts DuckDB with `threads` threads, ready to run the query over `file`.
    fn start(file: &str, threads: usize) -> anyhow::Result<DuckDb> {
        let script = format!(
            "import sys, time\n\
             try:\n    import duckdb\n\
             except ImportError:\n    print('NO_DUCKDB', flush=True); sys.exit(0)\n\
             con = duckdb.connect()\n\
             con.execute('SET threads TO {threads}')\n\
             con.execute('SET enable_progress_bar = false')\n\
             q = sys.stdin.readline()\n\
             for _ in sys.stdin:\n    \
                 t = time.perf_counter()\n    \
                 row = con.execute(q).fetchone()\n    \
                 print(time.perf_counter() - t, *row, flush=True)\n"
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run python3 (needed for the DuckDB baseline)")?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("no pipe to python3");
        };
        // The query is one line (no newline in `sql`); each further line asks for one run.
        writeln!(stdin, "{}", sql(file))?;
        Ok(DuckDb {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// Runs the query once: (seconds, [convicted, opt1, opt2, opt3, pilot]).
    fn run(&mut self) -> anyhow::Result<(f64, Vec<u64>)> {
        // A closed pipe means python has ended: the answer (or its absence) says why.
        let _ = writeln!(self.stdin, "run").and_then(|()| self.stdin.flush());
        let mut text = String::new();
        self.stdout.read_line(&mut text)?;
        if text.trim() == "NO_DUCKDB" {
            bail!(
                "DuckDB is not installed for python3: install it with `pip install duckdb` and run again"
            );
        }
        if text.trim().is_empty() {
            bail!("the DuckDB query failed");
        }
        let mut fields = text.split_whitespace();
        let seconds: f64 = fields
            .next()
            .context("no DuckDB timing")?
            .parse()
            .with_context(|| format!("DuckDB printed `{}`", text.trim()))?;
        let counts = fields.map(str::parse).collect::<Result<Vec<u64>, _>>()?;
        Ok((seconds, counts))
    }
}

impl Drop for DuckDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn run(args: &Args) -> anyhow::Result<Vec<Summary>> {
    let dir = std::env::temp_dir().join(format!("fengcun-bench-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("records.ndjson");
    {
        let mut out = BufWriter::with_capacity(8 << 20, std::fs::File::create(&path)?);
        fengcun_synth::generate(
            fengcun_synth::Config {
                records: args.records,
                seed: args.seed,
                // Criminal records only: the baseline transcribes the criminal presets, and the
                // measure stays the one of docs/benchmarks.md (violation lines are the parser's).
                violations_per_mille: 0,
            },
            &mut out,
            None,
            &mut |_| {},
        )?;
        out.flush()?;
    }
    let size = std::fs::metadata(&path)?.len();
    let file = path.display().to_string();
    eprintln!(
        "simulate: {} records ({:.0} MB of NDJSON), {} threads",
        args.records,
        size as f64 / 1e6,
        args.threads
    );
    let as_of = Date::constant(2025, 6, 30);
    let policies: Vec<_> = POLICIES
        .iter()
        .filter_map(|name| presets::get(name).cloned())
        .collect();
    let time_ours = |policies: &[fengcun_policy::Policy]| -> anyhow::Result<(f64, Comparison)> {
        let started = Instant::now();
        let mut input = std::fs::File::open(&path)?;
        let run = fengcun_simulate::run(policies, as_of, &mut input, args.threads, &mut |_| {})?;
        let comparison = Comparison::new(policies, as_of, &run);
        Ok((started.elapsed().as_secs_f64(), comparison))
    };
    let runs = args.runs.max(1);
    // Warm the page cache once, for both.
    let _ = time_ours(&policies)?;
    let mut duckdb = DuckDb::start(&file, args.threads)?;
    let mut ours = Vec::with_capacity(runs);
    let mut theirs = Vec::with_capacity(runs);
    let mut comparison = None;
    let mut counts = None;
    // Alternately, so that a build starting or ending on the machine weighs on both alike.
    for _ in 0..runs {
        let (seconds, c) = time_ours(&policies)?;
        ours.push(seconds);
        comparison = Some(c);
        let (seconds, c) = duckdb.run()?;
        theirs.push(seconds);
        counts = Some(c);
    }
    drop(duckdb);
    let comparison = comparison.context("no run")?;
    let counts = counts.context("no run")?;
    let best = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
    let list = |times: &[f64]| {
        times
            .iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut mine = vec![comparison.convicted];
    mine.extend(comparison.policies.iter().map(|p| p.sealed));
    eprintln!(
        "  fengcun simulate best {:.2} s ({}); DuckDB best {:.2} s ({})",
        best(&ours),
        list(&ours),
        best(&theirs),
        list(&theirs)
    );
    eprintln!("  convicted, sealed under {POLICIES:?}: fengcun {mine:?}, DuckDB {counts:?}");
    if mine != counts {
        bail!("the simulator and the SQL transcription disagree: {mine:?} vs {counts:?}");
    }
    let records = args.records as f64;
    let mut summaries = vec![Summary {
        name: "simulate",
        unit: "records",
        throughput: records / best(&ours),
        baseline_name: "DuckDB",
        baseline: records / best(&theirs),
        target: Some(1.0),
    }];
    if args.records >= 10_000_000 {
        let all = presets::all();
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(time_ours(all)?.0);
        }
        eprintln!(
            "  {} records × all {} presets: best {:.2} s ({}) (target < 10 s)",
            args.records,
            all.len(),
            best(&times),
            list(&times)
        );
        summaries.push(Summary {
            name: "sim-all",
            unit: "records",
            throughput: records / best(&times),
            baseline_name: "10 s budget",
            baseline: records / 10.0,
            target: Some(1.0),
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(summaries)
}
