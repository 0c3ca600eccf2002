//! `fengcun audit`: verify the tamper-evident audit log, export its signed tree heads, give and
//! check proofs (docs/audit.md).
//!
//! Verification needs no master key — an auditor holds none: it reads the rows, rebuilds each
//! leaf from its columns and the tree from the leaves, and checks the heads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use fengcun_crypto::{Suite, VerifyingKey};
use fengcun_ledger::{Hash, SignedTreeHead};
use fengcun_store::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cmd::serve;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the tree from the stored entries and check it against the stored heads and,
    /// with --against, heads kept outside the database. Exit status 1 names the first problem.
    Verify(VerifyArgs),
    /// Print every stored signed tree head, one line each (keep them outside the database).
    Heads(HeadsArgs),
    /// Sign a tree head of the log as it stands now, with the configured signing key, and print it.
    Sign(HeadsArgs),
    /// Print an inclusion proof (--index) or a consistency proof (--from) as JSON.
    Prove(ProveArgs),
    /// Check a proof with only the public key and the signed head(s): no database.
    Check(CheckArgs),
    /// The supervision flags of the log (docs/supervision.md), computed now over the whole log up
    /// to --until: the same flags the server's round keeps.
    Flags(FlagsArgs),
}

#[derive(Debug, clap::Args)]
pub struct FlagsArgs {
    #[command(flatten)]
    database: Database,
    /// Only flags whose period ends after this day (YYYY-MM-DD, China time) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Flags certain by this day's start (YYYY-MM-DD, China time) or time (RFC 3339); default now.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Print the flags as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct Database {
    /// `sqlite://PATH` (default `sqlite://fengcun.sqlite`) or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Configuration file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE", env = "FENGCUN_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    database: Database,
    /// A file of signed tree heads kept outside the database (lines of `fengcun audit heads`).
    #[arg(long, value_name = "HEAD_FILE")]
    against: Option<PathBuf>,
    /// The log's public key (PEM): checks every head's signature. Give it once per key the log
    /// was signed with (a signing key rotated: `fengcun keys signing`); each head must verify
    /// under one of them.
    #[arg(long, value_name = "PEM")]
    public_key: Vec<PathBuf>,
    /// The log's tree hash when no head says it: sm3 (default) or sha256.
    #[arg(long, value_name = "HASH")]
    hash: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct HeadsArgs {
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, clap::Args)]
pub struct ProveArgs {
    #[command(flatten)]
    database: Database,
    /// Inclusion of this entry (from 0).
    #[arg(long, conflicts_with = "from")]
    index: Option<u64>,
    /// Consistency from this earlier tree size.
    #[arg(long)]
    from: Option<u64>,
    /// The tree size to prove against (a signed head's size).
    #[arg(long)]
    size: u64,
    /// The log's tree hash when no head says it: sm3 (default) or sha256.
    #[arg(long, value_name = "HASH")]
    hash: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The proof (JSON of `fengcun audit prove` or the API).
    proof: PathBuf,
    /// The signed head the proof is against (one line).
    #[arg(long, value_name = "FILE")]
    head: PathBuf,
    /// For a consistency proof: the earlier signed head.
    #[arg(long, value_name = "FILE")]
    old_head: Option<PathBuf>,
    /// For an inclusion proof: the entry itself (its leaf bytes), instead of trusting the proof's
    /// leaf hash.
    #[arg(long, value_name = "FILE")]
    entry: Option<PathBuf>,
    /// The log's public key (PEM).
    #[arg(long, value_name = "PEM")]
    public_key: PathBuf,
}

/// An inclusion or consistency proof, as the CLI and the API give it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "proof", rename_all = "snake_case", deny_unknown_fields)]
pub enum Proof {
    Inclusion {
        index: u64,
        size: u64,
        leaf_hash: String,
        path: Vec<String>,
    },
    Consistency {
        old_size: u64,
        new_size: u64,
        path: Vec<String>,
    },
}

pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify(args) => verify(args),
        AuditCommand::Heads(args) => heads(args),
        AuditCommand::Sign(args) => sign(args),
        AuditCommand::Prove(args) => prove(args),
        AuditCommand::Check(args) => check(&args),
        AuditCommand::Flags(args) => flags(args),
    }
}

/// A day (its start, China time) or a time.
fn moment(field: &str, text: &str) -> anyhow::Result<jiff::Timestamp> {
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    let day = text.parse::<jiff::civil::Date>().map_err(|_| {
        anyhow::anyhow!("--{field}: `{text}` is neither a date YYYY-MM-DD nor an RFC 3339 time")
    })?;
    Ok(day
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)))?
        .timestamp())
}

fn flags(args: FlagsArgs) -> anyhow::Result<ExitCode> {
    let since = args
        .since
        .as_deref()
        .map(|s| moment("since", s))
        .transpose()?;
    let until = match args.until.as_deref() {
        Some(u) => moment("until", u)?,
        None => jiff::Timestamp::now(),
    };
    let rules = fengcun_supervision::RuleSet::shipped()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let flags = runtime.block_on(async {
        let store = open_log(&args.database, None, &[]).await?;
        anyhow::Ok(fengcun_server::supervision::on_demand(&store, &rules, since, until).await?)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&flags)?);
    } else {
        println!("{} flags", flags.len());
        for f in &flags {
            println!(
                "{}  {:<12} {:<10} {:<24} {} .. {}  score {}  entries {:?}",
                f.id, f.rule, f.pattern, f.subject, f.from, f.until, f.score, f.entries
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_heads_file(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // Parsed here too, so that a bad line is named with its file and line.
    SignedTreeHead::parse_lines(&text).with_context(|| format!("{}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

fn read_public_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    VerifyingKey::from_text(&text).with_context(|| format!("{}", path.display()))
}

fn hash_suite(hash: Option<&str>) -> anyhow::Result<Option<Suite>> {
    match hash {
        None => Ok(None),
        Some("sm3") => Ok(Some(Suite::Sm)),
        Some("sha256") => Ok(Some(Suite::International)),
        Some(other) => anyhow::bail!("--hash {other}: use sm3 or sha256"),
    }
}

/// Opens the store for reading the log only: the keys are throwaway ones of the log's suite
/// (nothing is decrypted). The suite is the one its heads name, else `--hash`, else the one its
/// entries' leaf hashes were made with, else SM3.
async fn open_log(
    database: &Database,
    hash: Option<&str>,
    outside: &[String],
) -> anyhow::Result<fengcun_store::SqlStore> {
    let config = serve::config(database.config.as_deref(), None, database.database.clone())?;
    // An auditor's mistyped path must not verify an empty log as "OK".
    serve::require_existing(&config.database)?;
    let probe = fengcun_store::open_without_master_key(&config.database, Suite::Sm).await?;
    let stored = probe.tree_heads().await?;
    let named = stored
        .iter()
        .chain(outside)
        .find_map(|line| SignedTreeHead::from_json(line).ok())
        .map(|head| head.unverified_head().suite());
    let suite = match (hash_suite(hash)?, named) {
        (Some(given), Some(found)) if given != found => {
            anyhow::bail!("--hash says {given} but the log's heads use {found}")
        }
        (Some(given), _) => given,
        (None, Some(found)) => found,
        // No head: the entries' leaf hashes say it; an empty log is the platform's SM3.
        (None, None) => probe.audit_hash().await?.unwrap_or(Suite::Sm),
    };
    Ok(fengcun_store::open_without_master_key(&config.database, suite).await?)
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let outside = match &args.against {
        Some(path) => read_heads_file(path)?,
        None => Vec::new(),
    };
    let keys = args
        .public_key
        .iter()
        .map(|path| read_public_key(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async {
        let store = open_log(&args.database, args.hash.as_deref(), &outside).await?;
        anyhow::Ok(store.verify_audit_with_keys(&outside, &keys).await?)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if report.root.is_empty() && report.problem.is_some() {
            // A head failed before any entry was read: "0 entries" would describe the log wrongly.
            println!("audit log: entries not read (a tree head failed first)");
        } else {
            println!(
                "audit log: {} entries, root {}",
                report.entries,
                if report.root.is_empty() {
                    "-"
                } else {
                    &report.root
                }
            );
        }
        println!(
            "tree heads checked: {} stored, {} kept outside; signatures checked: {}",
            report.stored_heads, report.outside_heads, report.signatures_checked
        );
        if keys.is_empty() {
            println!("no --public-key: head signatures were not checked");
        }
    }
    match &report.problem {
        None => {
            if !args.json {
                println!("OK: every entry matches every head");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            eprintln!("fengcun: audit log verification FAILED: {problem}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn heads(args: HeadsArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let lines = runtime.block_on(async {
        let store = open_log(&args.database, None, &[]).await?;
        anyhow::Ok(store.tree_heads().await?)
    })?;
    for line in lines {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn sign(args: HeadsArgs) -> anyhow::Result<ExitCode> {
    let config = serve::config(
        args.database.config.as_deref(),
        None,
        args.database.database.clone(),
    )?;
    serve::init_logging(&config.log_format);
    // Signing reads no sealed detail: no master key is asked for (nor, on an embedded database
    // without one, made). The head is of the log's own hash, whatever the signing key's
    // algorithm: SM2 and Ed25519 each sign heads of either hash (the head names both).
    let key = config.signing_key(Suite::Sm)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let head = runtime.block_on(async {
        let probe = fengcun_store::open_without_master_key(&config.database, Suite::Sm).await?;
        // A log with no entry and no head is the platform's: SM3, its master key's suite.
        let hash = probe.audit_hash().await?.unwrap_or(Suite::Sm);
        let store = fengcun_store::open_without_master_key(&config.database, hash).await?;
        anyhow::Ok(
            store
                .sign_tree_head(&key, jiff::Timestamp::now(), true)
                .await?,
        )
    })?;
    if let Some(head) = head {
        println!("{}", head.to_json());
    }
    Ok(ExitCode::SUCCESS)
}

fn prove(args: ProveArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let proof = runtime.block_on(async {
        let store = open_log(&args.database, args.hash.as_deref(), &[]).await?;
        let hex = |path: Vec<Hash>| path.iter().map(Hash::to_hex).collect::<Vec<_>>();
        anyhow::Ok(match (args.index, args.from) {
            (Some(index), None) => {
                let entry = store
                    .audit_entries(index, 1)
                    .await?
                    .into_iter()
                    .find(|e| e.seq == index)
                    .with_context(|| format!("no audit entry {index}"))?;
                Proof::Inclusion {
                    index,
                    size: args.size,
                    leaf_hash: entry.leaf_hash,
                    path: hex(store.inclusion_proof(index, args.size).await?),
                }
            }
            (None, Some(from)) => Proof::Consistency {
                old_size: from,
                new_size: args.size,
                path: hex(store.consistency_proof(from, args.size).await?),
            },
            _ => anyhow::bail!("give --index N (inclusion) or --from SIZE (consistency)"),
        })
    })?;
    println!("{}", serde_json::to_string_pretty(&proof)?);
    Ok(ExitCode::SUCCESS)
}

fn read_head(path: &Path, key: &VerifyingKey) -> anyhow::Result<fengcun_ledger::TreeHead> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let signed = SignedTreeHead::from_json(text.trim())
        .with_context(|| format!("{}: not a signed tree head", path.display()))?;
    let head = signed
        .verify(key)
        .with_context(|| format!("{}: the head's signature does not verify", path.display()))?;
    Ok(*head)
}

fn hashes(path: &[String]) -> anyhow::Result<Vec<Hash>> {
    path.iter()
        .map(|h| Hash::from_hex(h).map_err(anyhow::Error::from))
        .collect()
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let key = read_public_key(&args.public_key)?;
    let head = read_head(&args.head, &key)?;
    let text = std::fs::read_to_string(&args.proof)
        .with_context(|| format!("reading {}", args.proof.display()))?;
    let proof: Proof = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a proof", args.proof.display()))?;
    let outcome = match proof {
        Proof::Inclusion {
            index,
            size,
            leaf_hash,
            path,
        } => {
            anyhow::ensure!(
                size == head.size(),
                "the proof is for a tree of {size} entries, the head has {}",
                head.size()
            );
            let leaf = match &args.entry {
                Some(entry) => {
                    let bytes = std::fs::read(entry)
                        .with_context(|| format!("reading {}", entry.display()))?;
                    let leaf = fengcun_ledger::Hasher::new(head.suite()).leaf_hash(&bytes);
                    anyhow::ensure!(
                        leaf.to_hex() == leaf_hash,
                        "the entry does not hash to the proof's leaf hash"
                    );
                    leaf
                }
                None => Hash::from_hex(&leaf_hash)?,
            };
            head.verify_inclusion(index, &leaf, &hashes(&path)?)
                .map(|()| format!("entry {index} is in the signed tree of {size} entries"))
        }
        Proof::Consistency {
            old_size,
            new_size,
            path,
        } => {
            let old_path = args
                .old_head
                .as_ref()
                .context("a consistency proof needs --old-head")?;
            let old = read_head(old_path, &key)?;
            anyhow::ensure!(
                old.size() == old_size && head.size() == new_size,
                "the proof is from {old_size} to {new_size}, the heads are {} and {}",
                old.size(),
                head.size()
            );
            old.verify_consistency(&head, &hashes(&path)?).map(|()| {
                format!("the signed tree of {new_size} entries extends the one of {old_size}")
            })
        }
    };
    match outcome {
        Ok(message) => {
            println!("OK: {message}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("fengcun: proof FAILED: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
