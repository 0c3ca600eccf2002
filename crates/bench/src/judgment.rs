//! Judgment extraction and redaction throughput, against one pass of a plain regex over the same
//! bytes (`regex` crate, `判决如下`): how many times slower than merely finding the operative part.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use fengcun_domain::Catalogue;
use fengcun_judgment::{extract_lines, redact};
use regex::Regex;

use crate::Summary;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// JuDGE judgments (JSON lines with the full judgment in `fd`).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Repeat the judgments in memory until the input is at least this many megabytes.
    #[arg(long, default_value_t = 50)]
    pub megabytes: usize,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            file: None,
            megabytes: 50,
        }
    }
}

fn default_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/external/judge-test/judgments.jsonl")
}

/// The judgment texts, repeated to at least `megabytes` MB.
fn load(args: &Args) -> anyhow::Result<(Vec<String>, usize)> {
    let path = args.file.clone().unwrap_or_else(default_file);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (the shared JuDGE judgments)",
            path.display()
        )
    })?;
    let mut documents = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)?;
        if let Some(fd) = value["fd"].as_str() {
            documents.push(fd.to_owned());
        }
    }
    if documents.is_empty() {
        bail!("{} holds no judgments", path.display());
    }
    let one_pass: usize = documents.iter().map(String::len).sum();
    let copies = (args.megabytes * 1_000_000).div_ceil(one_pass).max(1);
    let mut all = Vec::with_capacity(documents.len() * copies);
    for _ in 0..copies {
        all.extend(documents.iter().cloned());
    }
    Ok((all, one_pass * copies))
}

fn megabytes_per_second(bytes: usize, started: Instant) -> f64 {
    bytes as f64 / 1e6 / started.elapsed().as_secs_f64()
}

pub fn run(args: &Args) -> anyhow::Result<Vec<Summary>> {
    let (documents, bytes) = load(args)?;
    let catalogue = Catalogue::builtin();
    eprintln!(
        "judgment: {} judgments, {:.0} MB in memory",
        documents.len(),
        bytes as f64 / 1e6
    );
    let operative = Regex::new("判决如下")?;
    // Warm up the catalogue and the lazily compiled patterns outside the timings.
    let _ = extract_lines("warm-up", &documents[0], catalogue);
    let _ = redact(&documents[0], catalogue);

    let started = Instant::now();
    let mut found = 0usize;
    for document in &documents {
        found += black_box(operative.find_iter(document).count());
    }
    let baseline = megabytes_per_second(bytes, started);

    let started = Instant::now();
    let mut records = 0usize;
    for (i, document) in documents.iter().enumerate() {
        records += black_box(extract_lines(&i.to_string(), document, catalogue))
            .records
            .len();
    }
    let extraction = megabytes_per_second(bytes, started);

    let started = Instant::now();
    let mut replacements = 0usize;
    for document in &documents {
        replacements += black_box(redact(document, catalogue)).replacements.len();
    }
    let redaction = megabytes_per_second(bytes, started);
    eprintln!(
        "judgment: {found} operative parts found, {records} record-facts lines, {replacements} replacements"
    );
    Ok(vec![
        Summary {
            name: "judgment-extract",
            unit: "MB",
            throughput: extraction,
            baseline_name: "regex 判决如下",
            baseline,
            target: None,
        },
        Summary {
            name: "judgment-redact",
            unit: "MB",
            throughput: redaction,
            baseline_name: "regex 判决如下",
            baseline,
            target: None,
        },
    ])
}
