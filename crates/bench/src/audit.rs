//! The audit log: append, full verification and proof generation over the Merkle tree, against
//! the raw hash of the same entries measured in the same run (fengcun-ledger's bench module).

use fengcun_crypto::Suite;
use fengcun_ledger::bench::{VERIFY_TARGET, bench};

use crate::Summary;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Entries in the log.
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: u64,
    /// Tree hash: sm3 (default) or sha256.
    #[arg(long, default_value = "sm3")]
    pub hash: String,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            entries: 10_000_000,
            hash: "sm3".to_owned(),
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<Vec<Summary>> {
    let suite = match args.hash.as_str() {
        "sm3" => Suite::Sm,
        "sha256" => Suite::International,
        other => anyhow::bail!("--hash {other}: use sm3 or sha256"),
    };
    let report = bench(args.entries, suite);
    eprintln!("{report}");
    let raw = report.raw_each_per_sec();
    Ok(vec![
        Summary {
            name: "audit-append",
            unit: "entries",
            throughput: report.append_per_sec(),
            baseline_name: "raw hash",
            baseline: raw,
            target: None,
        },
        Summary {
            name: "audit-verify",
            unit: "entries",
            throughput: report.verify_per_sec(),
            baseline_name: "raw hash",
            baseline: raw,
            target: Some(VERIFY_TARGET),
        },
        Summary {
            name: "audit-proofs",
            unit: "proofs",
            throughput: report.proofs_per_sec(),
            baseline_name: "raw hash",
            baseline: raw,
            target: None,
        },
    ])
}
