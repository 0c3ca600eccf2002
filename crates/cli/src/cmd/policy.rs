//! `fengcun policy list|show|check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use fengcun_policy::{Policy, presets};

use crate::input;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// The shipped policies: name, version, jurisdiction, title.
    List,
    /// Print a policy document (a shipped name or a file).
    Show {
        #[arg(value_name = "NAME|FILE")]
        policy: String,
    },
    /// Load and check policy files; errors name the line and the field.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::List => {
            for policy in presets::all() {
                println!(
                    "{}\tversion {}\t{}\t{}",
                    policy.meta.name,
                    policy.meta.version,
                    policy.meta.jurisdiction,
                    policy.meta.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Show { policy } => {
            print!("{}", input::policy(&policy)?.source_text);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Check { files } => {
            let mut failed = false;
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                match Policy::from_toml(&file.display().to_string(), &text) {
                    Ok(policy) => println!(
                        "{}: ok ({} version {}, {} rules, {} timing rules)",
                        file.display(),
                        policy.meta.name,
                        policy.meta.version,
                        policy.rules.len(),
                        policy.timings.len()
                    ),
                    Err(error) => {
                        failed = true;
                        eprintln!("{error}");
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
