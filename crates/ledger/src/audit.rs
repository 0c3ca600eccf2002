//! Recomputing a log from its entries and checking it against tree heads, for
//! `fengcun audit verify`.
//!
//! # Naming the first altered entry
//!
//! A head's root commits to every entry but cannot be inverted: from the root alone one can tell
//! that the first `size` entries changed, not which one. Two designs can name it:
//!
//! 1. bisecting with consistency proofs against a known-good head, which needs the interior
//!    hashes of the original tree, i.e. a second copy of the tree that the same attacker could
//!    rewrite, and many passes;
//! 2. the leaf hash recorded with each entry when it was appended (32 bytes per entry, computed
//!    at append anyway), checked in the same single pass.
//!
//! This module does (2). The auditor recomputes each entry's leaf hash from its content and
//! compares it with the recorded one. At a head that the content fails, it asks whether the
//! recorded leaf hashes (after the last head the content passed) give the head's root. If they
//! do, the recorded hashes are authenticated by the signed head, so the first entry whose content
//! differs from its recorded hash is exactly the first altered entry:
//! [`Mismatch::AlteredEntry`]. If they do not (the recorded hashes were rewritten too, or none
//! were supplied), no method can name the entry from that head, and the auditor reports the
//! narrowest claim it can prove: [`Mismatch::Root`], the first altered entry lies between the
//! last head that matched and this one. More frequent heads narrow it further.
//!
//! The extra cost when nothing is wrong is one 32-byte comparison per entry; the second frontier
//! is only built from the first entry that disagrees with its recorded hash.

use fengcun_crypto::Suite;

use crate::{Frontier, Hash, Hasher, TreeHead};

/// What an audit found wrong: the first problem in log order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// Entry `index` does not hash to the leaf hash recorded when it was appended, and the
    /// recorded leaf hashes give the root of the head of size `head_size`: the entry was altered
    /// after the head was made, and it is the first altered entry before `head_size`.
    #[error("entry {index} was altered: it no longer matches the tree head of size {head_size}")]
    AlteredEntry {
        /// The first altered entry (from 0).
        index: u64,
        /// The head that proves it.
        head_size: u64,
    },
    /// The first `head_size` entries do not give the head's root, and the recorded leaf hashes
    /// cannot say which entry changed. The first `verified_size` entries matched an earlier head,
    /// so the first altered entry is in `verified_size..head_size`. (`verified_size ==
    /// head_size` means another head of the same size matched: two heads disagree, so the log
    /// signed two different trees of one size or one head is forged.)
    #[error(
        "the first {head_size} entries do not match the tree head of that size \
         (root {expected}, recomputed {computed}); entries before {verified_size} match an \
         earlier head, so the first altered entry is in {verified_size}..{head_size}"
    )]
    Root {
        /// The size of the head that fails.
        head_size: u64,
        /// The size of the largest head that matched before it (0 if none).
        verified_size: u64,
        /// The head's root.
        expected: Hash,
        /// The root recomputed from the entries.
        computed: Hash,
    },
    /// A head is larger than the log: entries were removed from its end (or the head belongs
    /// to another log).
    #[error("the log has {entries} entries but a tree head has {head_size}: the log was truncated")]
    Truncated {
        /// Entries in the log.
        entries: u64,
        /// The largest head size.
        head_size: u64,
    },
    /// Every head matched, but entry `index` does not hash to its recorded leaf hash: either the
    /// recorded hash is damaged (if a head covers the entry, the content is the one it signed)
    /// or the entry was altered after the last head (if none does).
    #[error("entry {index} does not match the leaf hash recorded when it was appended")]
    LeafHash {
        /// The first such entry.
        index: u64,
    },
    /// A head was made with another tree hash than the log's.
    #[error("a tree head of size {head_size} uses the {found} hash, the log uses {expected}")]
    WrongSuite {
        /// The head's size.
        head_size: u64,
        /// The log's suite.
        expected: Suite,
        /// The head's suite.
        found: Suite,
    },
}

/// What a successful audit saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSummary {
    /// Entries read.
    pub entries: u64,
    /// The root of all of them.
    pub root: Hash,
    /// Heads checked (all of those given).
    pub heads_checked: usize,
}

/// Streaming audit: feed entries in log order with [`Auditor::push`], then [`Auditor::finish`].
///
/// For a store that reads rows asynchronously; [`verify_log`] wraps it for an iterator.
/// Heads are checked as the log reaches their size, smallest first; the first mismatch ends the
/// audit (the auditor keeps returning it).
#[derive(Debug, Clone)]
pub struct Auditor {
    hasher: Hasher,
    /// Heads by size, ascending.
    heads: Vec<TreeHead>,
    /// The next head to check.
    next: usize,
    frontier: Frontier,
    /// The size of the last head the content matched.
    verified_size: u64,
    /// Since `verified_size`: the first entry whose content differs from its recorded hash, and
    /// the frontier of the content's leaf hashes before it followed by the recorded ones.
    divergence: Option<Divergence>,
    /// The first entry anywhere whose content differs from its recorded hash.
    first_leaf_mismatch: Option<u64>,
    failed: Option<Mismatch>,
}

#[derive(Debug, Clone)]
struct Divergence {
    index: u64,
    /// `None` once an entry came without a recorded hash.
    recorded: Option<Frontier>,
}

impl Auditor {
    /// An auditor for a log hashed with `suite`, against `heads` (any order; signatures are the
    /// caller's business: verify them first).
    pub fn new(
        suite: Suite,
        heads: impl IntoIterator<Item = TreeHead>,
    ) -> Result<Auditor, Mismatch> {
        let mut heads: Vec<TreeHead> = heads.into_iter().collect();
        heads.sort_by_key(TreeHead::size);
        if let Some(head) = heads.iter().find(|head| head.suite() != suite) {
            return Err(Mismatch::WrongSuite {
                head_size: head.size(),
                expected: suite,
                found: head.suite(),
            });
        }
        let mut auditor = Auditor {
            hasher: Hasher::new(suite),
            heads,
            next: 0,
            frontier: Frontier::new(suite),
            verified_size: 0,
            divergence: None,
            first_leaf_mismatch: None,
            failed: None,
        };
        auditor.check_heads()?;
        Ok(auditor)
    }

    /// The number of entries pushed.
    pub fn entries(&self) -> u64 {
        self.frontier.size()
    }

    /// Adds the next entry: its content and, when the store kept it, the leaf hash recorded at
    /// append time.
    pub fn push(&mut self, entry: &[u8], recorded: Option<&Hash>) -> Result<(), Mismatch> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let leaf = self.hasher.leaf_hash(entry);
        let index = self.frontier.size();
        match (&mut self.divergence, recorded) {
            (Some(divergence), recorded) => {
                divergence.recorded = match (divergence.recorded.take(), recorded) {
                    (Some(mut frontier), Some(recorded)) => {
                        frontier.push_leaf_hash(*recorded);
                        Some(frontier)
                    }
                    _ => None,
                };
            }
            (None, Some(recorded)) if *recorded != leaf => {
                let mut frontier = self.frontier.clone();
                frontier.push_leaf_hash(*recorded);
                self.divergence = Some(Divergence {
                    index,
                    recorded: Some(frontier),
                });
            }
            (None, _) => {}
        }
        if recorded.is_some_and(|recorded| *recorded != leaf) {
            self.first_leaf_mismatch.get_or_insert(index);
        }
        self.frontier.push_leaf_hash(leaf);
        self.check_heads()
    }

    /// Ends the audit: reports heads larger than the log, then entries that differ from their
    /// recorded hash although every head matched.
    pub fn finish(self) -> Result<AuditSummary, Mismatch> {
        if let Some(failed) = self.failed {
            return Err(failed);
        }
        let entries = self.frontier.size();
        if let Some(largest) = self.heads.last().filter(|head| head.size() > entries) {
            return Err(Mismatch::Truncated {
                entries,
                head_size: largest.size(),
            });
        }
        if let Some(index) = self.first_leaf_mismatch {
            return Err(Mismatch::LeafHash { index });
        }
        Ok(AuditSummary {
            entries: self.frontier.size(),
            root: self.frontier.root(),
            heads_checked: self.heads.len(),
        })
    }

    /// Checks every head of the current size.
    fn check_heads(&mut self) -> Result<(), Mismatch> {
        let size = self.frontier.size();
        while let Some(head) = self.heads.get(self.next).filter(|head| head.size() == size) {
            let head = *head;
            self.next += 1;
            let computed = self.frontier.root();
            if computed == head.root() {
                self.verified_size = size;
                self.divergence = None;
                continue;
            }
            let altered = self.divergence.as_ref().and_then(|divergence| {
                let recorded = divergence.recorded.as_ref()?;
                (recorded.root() == head.root()).then_some(divergence.index)
            });
            let mismatch = match altered {
                Some(index) => Mismatch::AlteredEntry {
                    index,
                    head_size: size,
                },
                None => Mismatch::Root {
                    head_size: size,
                    verified_size: self.verified_size,
                    expected: head.root(),
                    computed,
                },
            };
            self.failed = Some(mismatch.clone());
            return Err(mismatch);
        }
        Ok(())
    }
}

/// Recomputes the tree of `entries` (in log order) and checks it against every head: a head of
/// size `s ≤` the number of entries must have the root of the first `s` entries; a larger head
/// means the log was truncated. Without recorded leaf hashes, a mismatch is reported as a range
/// ([`Mismatch::Root`]); see [`Auditor`] to name the entry.
pub fn verify_log<I>(suite: Suite, entries: I, heads: &[TreeHead]) -> Result<AuditSummary, Mismatch>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut auditor = Auditor::new(suite, heads.iter().copied())?;
    for entry in entries {
        auditor.push(entry.as_ref(), None)?;
    }
    auditor.finish()
}
