//! A benchmark of the log against the raw hash of the same bytes, measured in the same run.
//!
//! This is the crate's one use of a clock: a monotonic timer ([`std::time::Instant`]) to measure
//! durations, never to decide anything. Run it in release (`cargo run --release -p
//! fengcun-ledger --example ledger-bench -- 10000000 sm`).
//!
//! # What "the same bytes" means
//!
//! Entries are `ENTRY_BYTES` (200) bytes of JSON-like text, generated deterministically from the
//! index (generation is part of every timed loop, baselines included). Two baselines:
//!
//! - **raw (each entry)**: `HASH(entry)` for every entry, what a log without a tree would do
//!   to fingerprint each entry. The ratio to it is the honest one.
//! - **raw (one stream)**: one `HASH` over all entries concatenated: the bytes alone, with no
//!   per-entry padding or finalisation. It is the floor no per-entry scheme reaches.
//!
//! Both SM3 and SHA-256 work on 64-byte blocks, with at least 9 bytes of padding. A 200-byte
//! entry is 4 blocks alone (209 bytes padded), and 4 as a leaf (`0x00 ‖ entry`, 210); each of the
//! `n − 1` interior nodes of a tree of `n` leaves is `0x01 ‖ left ‖ right`, 65 bytes, 2 blocks.
//! So a tree needs about 6 compression calls per entry where the per-entry hash needs 4 and the
//! stream 3.125: the best full verification can do is about 0.67 of the first baseline and 0.52
//! of the second. [`BenchReport`] prints that bound next to the measured ratios.

use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use fengcun_crypto::Suite;
use sha2::Digest as _;

use crate::{Auditor, Hash, Hasher, Tree, TreeHead, verify_inclusion};

/// The size of each generated entry, in bytes.
pub const ENTRY_BYTES: usize = 200;

/// The number of inclusion proofs generated and verified by [`bench()`].
pub const BENCH_PROOFS: u64 = 100_000;

/// The target: full verification at least this fraction of the raw per-entry hash throughput.
pub const VERIFY_TARGET: f64 = 0.5;

/// Timings of one run of [`bench()`].
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// The tree hash.
    pub suite: Suite,
    /// Entries appended and verified.
    pub entries: u64,
    /// Bytes per entry.
    pub entry_bytes: usize,
    /// `HASH(entry)` of every entry.
    pub raw_each: Duration,
    /// One `HASH` over every entry concatenated.
    pub raw_stream: Duration,
    /// Appending every entry to a [`Tree`] (leaf hash and the subtree hashes it completes, kept
    /// for proofs; the [`crate::Frontier`] alone does the same hashing).
    pub append: Duration,
    /// Full verification: [`Auditor`] over every entry, with the recorded leaf hashes, against
    /// ten heads (every tenth of the log, and the end).
    pub verify: Duration,
    /// Inclusion proofs generated at pseudo-random indices, against the full tree.
    pub proofs: u64,
    /// Time to generate them.
    pub proof_generation: Duration,
    /// Time to verify them (regenerating each entry and its leaf hash).
    pub proof_verification: Duration,
    /// The root of the whole log (to compare runs).
    pub root: Hash,
}

impl BenchReport {
    /// Entries per second hashed one by one, no tree.
    pub fn raw_each_per_sec(&self) -> f64 {
        per_sec(self.entries, self.raw_each)
    }

    /// Entries per second, hashed as one stream.
    pub fn raw_stream_per_sec(&self) -> f64 {
        per_sec(self.entries, self.raw_stream)
    }

    /// Entries appended per second.
    pub fn append_per_sec(&self) -> f64 {
        per_sec(self.entries, self.append)
    }

    /// Entries verified per second.
    pub fn verify_per_sec(&self) -> f64 {
        per_sec(self.entries, self.verify)
    }

    /// Inclusion proofs generated per second.
    pub fn proofs_per_sec(&self) -> f64 {
        per_sec(self.proofs, self.proof_generation)
    }

    /// Inclusion proofs verified per second.
    pub fn proof_verifications_per_sec(&self) -> f64 {
        per_sec(self.proofs, self.proof_verification)
    }

    /// Full verification over raw per-entry hashing: the figure the target applies to.
    pub fn verify_ratio(&self) -> f64 {
        self.verify_per_sec() / self.raw_each_per_sec()
    }

    /// The best [`BenchReport::verify_ratio`] possible when hashing dominates: compression calls
    /// of the raw per-entry hash over those of a leaf plus an interior node.
    pub fn block_bound(&self) -> f64 {
        let raw = blocks(self.entry_bytes);
        let tree = blocks(self.entry_bytes + 1) + blocks(65);
        raw as f64 / tree as f64
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hash = match self.suite {
            Suite::Sm => "SM3",
            Suite::International => "SHA-256",
        };
        let raw = self.raw_each_per_sec();
        let stream = self.raw_stream_per_sec();
        let mb = |per_sec: f64| per_sec * self.entry_bytes as f64 / 1e6;
        writeln!(
            f,
            "ledger, {hash}, {} entries of {} bytes",
            self.entries, self.entry_bytes
        )?;
        writeln!(
            f,
            "  raw hash, each entry   {raw:>12.0} entries/s  {:>7.1} MB/s  (baseline)",
            mb(raw)
        )?;
        writeln!(
            f,
            "  raw hash, one stream   {stream:>12.0} entries/s  {:>7.1} MB/s  ratio to baseline {:.2}",
            mb(stream),
            stream / raw
        )?;
        writeln!(
            f,
            "  append                 {:>12.0} entries/s  {:>7.1} MB/s  ratio {:.2} (to stream {:.2})",
            self.append_per_sec(),
            mb(self.append_per_sec()),
            self.append_per_sec() / raw,
            self.append_per_sec() / stream
        )?;
        let verdict = if self.verify_ratio() >= VERIFY_TARGET {
            "meets"
        } else {
            "BELOW"
        };
        writeln!(
            f,
            "  full verification      {:>12.0} entries/s  {:>7.1} MB/s  ratio {:.2} (to stream {:.2}; \
             {verdict} target ≥ {VERIFY_TARGET}; block bound {:.2})",
            self.verify_per_sec(),
            mb(self.verify_per_sec()),
            self.verify_ratio(),
            self.verify_per_sec() / stream,
            self.block_bound()
        )?;
        writeln!(
            f,
            "  inclusion proofs       {:>12.0} generated/s, {:.0} verified/s ({} proofs)",
            self.proofs_per_sec(),
            self.proof_verifications_per_sec(),
            self.proofs
        )?;
        write!(f, "  root {}", self.root)
    }
}

/// Appends `entries` generated entries to a tree hashed with `suite`, verifies them in full, and
/// generates and verifies [`BENCH_PROOFS`] inclusion proofs (fewer if the log is smaller), timing
/// each against the raw hash of the same entries.
///
/// Memory: the tree keeps about `2 × entries` hashes (640 MB for ten million).
///
/// # Panics
///
/// If a proof or the verification fails: that is a bug, not a measurement.
pub fn bench(entries: u64, suite: Suite) -> BenchReport {
    let hasher = Hasher::new(suite);
    let mut source = EntryGenerator::new();

    let started = Instant::now();
    let mut sink = 0u8;
    for i in 0..entries {
        sink ^= hasher.raw(source.entry(i)).0[0];
    }
    black_box(sink);
    let raw_each = started.elapsed();

    let started = Instant::now();
    let stream = match suite {
        Suite::Sm => {
            let mut h = sm3::Sm3::new();
            (0..entries).for_each(|i| h.update(source.entry(i)));
            Hash(h.finalize().into())
        }
        Suite::International => {
            let mut h = sha2::Sha256::new();
            (0..entries).for_each(|i| h.update(source.entry(i)));
            Hash(h.finalize().into())
        }
    };
    black_box(stream);
    let raw_stream = started.elapsed();

    let started = Instant::now();
    let mut tree = Tree::with_capacity(suite, entries);
    for i in 0..entries {
        tree.push(source.entry(i));
    }
    let root = tree.root();
    let append = started.elapsed();

    // Heads at every tenth of the log and at its end, as a log signing periodically would have.
    let heads: Vec<TreeHead> = (1..=10)
        .map(|tenth| entries * tenth / 10)
        .filter_map(|size| tree.root_at(size).ok().map(|root| (size, root)))
        .map(|(size, root)| TreeHead::new(size, root, jiff::Timestamp::UNIX_EPOCH, suite))
        .collect();
    let leaves = tree.leaves();
    let started = Instant::now();
    let verified = Auditor::new(suite, heads).and_then(|mut auditor| {
        for (i, recorded) in (0..entries).zip(leaves) {
            auditor.push(source.entry(i), Some(recorded))?;
        }
        auditor.finish()
    });
    let verify = started.elapsed();
    match verified {
        Ok(summary) => assert_eq!(summary.root, root, "verification recomputed another root"),
        Err(mismatch) => panic!("full verification failed on an unaltered log: {mismatch}"),
    }

    let proofs = BENCH_PROOFS.min(entries);
    let indices: Vec<u64> = (0..proofs)
        .map(|i| splitmix64(i) % entries.max(1))
        .collect();
    let started = Instant::now();
    let paths: Vec<Vec<Hash>> = indices
        .iter()
        .filter_map(|&index| tree.inclusion_proof(index, entries).ok())
        .collect();
    let proof_generation = started.elapsed();
    assert_eq!(paths.len(), indices.len(), "an inclusion proof failed");

    let started = Instant::now();
    for (&index, path) in indices.iter().zip(&paths) {
        let leaf = hasher.leaf_hash(source.entry(index));
        if let Err(err) = verify_inclusion(suite, index, entries, &leaf, path, &root) {
            panic!("inclusion proof of entry {index} failed: {err}");
        }
    }
    let proof_verification = started.elapsed();

    BenchReport {
        suite,
        entries,
        entry_bytes: ENTRY_BYTES,
        raw_each,
        raw_stream,
        append,
        verify,
        proofs,
        proof_generation,
        proof_verification,
        root,
    }
}

/// Deterministic 200-byte entries shaped like audit events, rewritten in place per index
/// (about 20 ns: negligible next to hashing, and part of every timed loop alike).
struct EntryGenerator {
    buf: [u8; ENTRY_BYTES],
    /// Where the 16 hex digits of the index and of the pseudo-random record number start.
    seq_at: usize,
    record_at: usize,
}

impl EntryGenerator {
    const SEQ: &str = r#"{"seq":""#;
    const MIDDLE: &str =
        r#"","at":"2025-01-01T00:00:00Z","kind":"record.sealed","actor":"court-110105","record":""#;
    const END: &str = r#"","detail":"sealed by policy cn-2012-juvenile, notices sent""#;

    fn new() -> EntryGenerator {
        let seq_at = Self::SEQ.len();
        let record_at = seq_at + 16 + Self::MIDDLE.len();
        let text = [
            Self::SEQ,
            &"0".repeat(16),
            Self::MIDDLE,
            &"0".repeat(16),
            Self::END,
        ]
        .concat();
        let mut buf = [b' '; ENTRY_BYTES];
        buf[..text.len()].copy_from_slice(text.as_bytes());
        buf[ENTRY_BYTES - 1] = b'}';
        EntryGenerator {
            buf,
            seq_at,
            record_at,
        }
    }

    fn entry(&mut self, index: u64) -> &[u8] {
        write_hex(&mut self.buf[self.seq_at..self.seq_at + 16], index);
        write_hex(
            &mut self.buf[self.record_at..self.record_at + 16],
            splitmix64(index),
        );
        &self.buf
    }
}

fn write_hex(out: &mut [u8], value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// SplitMix64: a deterministic, well-mixed sequence for indices and contents.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Compression calls to hash `len` bytes (64-byte blocks, at least 9 bytes of padding).
fn blocks(len: usize) -> usize {
    (len + 9).div_ceil(64)
}

fn per_sec(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_200_bytes_and_distinct() {
        let mut source = EntryGenerator::new();
        let a = source.entry(1).to_vec();
        let b = source.entry(2).to_vec();
        assert_eq!(a.len(), ENTRY_BYTES);
        assert_ne!(a, b);
        let text = String::from_utf8(a).unwrap_or_default();
        assert!(
            text.starts_with(r#"{"seq":"0000000000000001","at""#),
            "{text}"
        );
        assert!(text.contains(r#""record":""#), "{text}");
        assert_eq!(
            &text[source.record_at - 10..source.record_at],
            r#""record":""#
        );
        assert_eq!(&text[source.seq_at - 7..source.seq_at], r#""seq":""#);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed["seq"], "0000000000000001", "{text}");
    }

    #[test]
    fn small_bench_runs_and_reports() {
        for suite in [Suite::Sm, Suite::International] {
            let report = bench(3_000, suite);
            assert_eq!(report.entries, 3_000);
            assert_eq!(report.proofs, 3_000);
            assert!(report.verify_per_sec() > 0.0);
            assert!((report.block_bound() - 4.0 / 6.0).abs() < 1e-9);
            let text = report.to_string();
            assert!(text.contains("full verification"), "{text}");
        }
    }
}
