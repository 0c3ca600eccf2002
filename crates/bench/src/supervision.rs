//! Supervision of queries (docs/supervision.md): every flag of the shipped rules over a generated
//! audit history (fengcun-testkit's `audit_history`, with planted misuse), against a plain
//! sequential read of the same entries in the same run.
//!
//! The entries are held as the log's own form — one leaf-bytes line each (docs/audit.md: seq, at,
//! kind, actor, purpose, outcome, subject, detail as a JSON string) — and both passes read every
//! line: the baseline decodes it into its columns and touches them; the flags pass decodes it the
//! same way, reads the detail's facts (`Entry::from_columns`) and pushes it through the engine,
//! closing once at the end. The history is generated in slices of agencies (each slice a full
//! history of its agencies over the period, with its own seed) so that it need not be held whole;
//! the rules never relate two agencies (peers, approvers and colleagues are within one agency,
//! persons are random keys), so one engine per slice gives the flags one engine over the whole
//! log would.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use fengcun_supervision::{Engine, Kind, RuleSet, day_of, day_start};
use fengcun_testkit::audit_history::{Config, generate};
use serde::Deserialize;

use crate::Summary;

/// The target: flags at least 0.3 of a plain read's entries per second.
pub const TARGET: f64 = 0.3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Entries (about; the history is generated in slices of about two million).
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: u64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            entries: 10_000_000,
        }
    }
}

#[derive(Deserialize)]
struct Row<'a> {
    seq: u64,
    at: &'a str,
    kind: &'a str,
    actor: &'a str,
    purpose: Option<&'a str>,
    outcome: &'a str,
    subject: Option<&'a str>,
    #[serde(borrow)]
    detail: Cow<'a, str>,
}

fn code(kind: Kind) -> &'static str {
    match kind {
        Kind::Lookup => "lookup",
        Kind::Request => "request",
        Kind::Approval => "approval",
        Kind::Refusal => "refusal",
        Kind::GrantUse => "grant_use",
        Kind::Certificate => "certificate",
        Kind::UserChanged => "user_changed",
        Kind::Other => "read",
    }
}

/// The slice's entries as leaf-bytes lines.
fn lines(config: &Config, rules: &RuleSet) -> Vec<String> {
    let history = generate(config, &rules.calendar);
    history
        .entries
        .iter()
        .map(|e| {
            let f = &e.facts;
            let mut detail = serde_json::Map::new();
            for (name, value) in [
                ("role", &f.role),
                ("agency", &f.agency),
                ("by", &f.by),
                ("person", &f.person),
                ("requester", &f.requester),
                ("grant", &f.grant),
            ] {
                if let Some(value) = value {
                    detail.insert(name.into(), value.clone().into());
                }
            }
            for (name, value) in [("shown", f.shown), ("withheld", f.withheld)] {
                if let Some(value) = value {
                    detail.insert(name.into(), value.into());
                }
            }
            let at = jiff::Timestamp::from_second(e.at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            serde_json::json!({
                "seq": e.seq,
                "at": at,
                "kind": code(e.kind),
                "actor": e.actor,
                "purpose": e.purpose,
                "outcome": e.outcome,
                "subject": e.subject,
                "detail": serde_json::Value::Object(detail).to_string(),
            })
            .to_string()
        })
        .collect()
}

pub fn run(args: &Args) -> anyhow::Result<Summary> {
    let rules = RuleSet::shipped()?;
    let base = Config::default();
    let (mut read_time, mut flag_time) = (Duration::ZERO, Duration::ZERO);
    let (mut entries, mut flags, mut checksum) = (0u64, 0usize, 0u64);
    let mut slice = 0u64;
    while entries < args.entries {
        slice += 1;
        let config = Config {
            seed: slice,
            ..base.clone()
        };
        let lines = lines(&config, &rules);
        entries += lines.len() as u64;

        let start = Instant::now();
        for line in &lines {
            let row: Row = serde_json::from_str(line)?;
            checksum = checksum.wrapping_add(
                row.seq
                    + (row.at.len()
                        + row.kind.len()
                        + row.actor.len()
                        + row.purpose.map_or(0, str::len)
                        + row.outcome.len()
                        + row.subject.map_or(0, str::len)
                        + row.detail.len()) as u64,
            );
        }
        read_time += start.elapsed();

        let start = Instant::now();
        let mut engine = Engine::new(&rules);
        // Closed as the days pass, as the server's round closes it: a window whose time is over
        // gives its flags and is dropped, so the engine holds the open windows only.
        let mut today = i64::MIN;
        for line in &lines {
            let row: Row = serde_json::from_str(line)?;
            let entry = fengcun_supervision::Entry::from_columns(
                row.seq,
                row.at,
                row.kind,
                row.actor,
                row.purpose,
                row.outcome,
                row.subject,
                &row.detail,
            )?;
            let day = day_of(entry.at);
            if day > today {
                if today != i64::MIN {
                    flags += engine.close(day_start(day)).len();
                }
                today = day;
            }
            engine.push(&entry);
        }
        flags += engine.close(day_start(20_089 + config.days + 31)).len();
        flag_time += start.elapsed();
        eprintln!(
            "slice {slice}: {} entries; so far {entries} entries, {flags} flags",
            lines.len()
        );
    }
    let read = entries as f64 / read_time.as_secs_f64();
    let flagged = entries as f64 / flag_time.as_secs_f64();
    eprintln!(
        "supervision: {entries} entries, {flags} flags; read {:.1} s, flags {:.1} s (checksum {checksum})",
        read_time.as_secs_f64(),
        flag_time.as_secs_f64()
    );
    Ok(Summary {
        name: "supervision",
        unit: "entries",
        throughput: flagged,
        baseline_name: "plain read",
        baseline: read,
        target: Some(TARGET),
    })
}
