//! The error type of this crate (the audit's findings are [`crate::Mismatch`]).

use fengcun_crypto::Suite;

use crate::Hash;

/// Why a proof, a tree head or a request for one was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The entry index is not below the tree size.
    #[error("entry {index} is not in a tree of {size} entries")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size larger than the tree in hand.
    #[error("tree size {size} is larger than the log ({tree_size} entries)")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// Entries in the tree.
        tree_size: u64,
    },
    /// A consistency proof from a larger tree to a smaller one.
    #[error("consistency from size {old_size} to the smaller size {new_size}")]
    SizesOutOfOrder {
        /// The earlier size.
        old_size: u64,
        /// The later size.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for these sizes (and index).
    #[error("the proof has {actual} hashes, a proof for these sizes has {expected}")]
    ProofLength {
        /// What a proof for these sizes has.
        expected: usize,
        /// What this one has.
        actual: usize,
    },
    /// The proof leads to another root than the (newer) head's.
    #[error("the proof leads to root {computed}, not to the head's root {expected}")]
    RootMismatch {
        /// The root given.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// A consistency proof leads to another root for the earlier tree than the earlier head's.
    #[error(
        "the proof leads to earlier root {computed}, not to the earlier head's root {expected}"
    )]
    OldRootMismatch {
        /// The earlier root given.
        expected: Hash,
        /// The earlier root the proof leads to.
        computed: Hash,
    },
    /// Two heads of different tree hashes.
    #[error("tree heads of different hashes: {expected} and {found}")]
    SuiteMismatch {
        /// The first head's suite.
        expected: Suite,
        /// The other's.
        found: Suite,
    },
    /// A stored frontier whose roots do not fit its size.
    #[error("malformed frontier: {0}")]
    Malformed(String),
    /// Not 64 lower-case hex digits.
    #[error("bad hex: {0}")]
    BadHex(&'static str),
    /// A tree head (bytes or export line) that cannot be read.
    #[error("malformed tree head: {0}")]
    MalformedHead(&'static str),
    /// An export line that reads as a tree head but is not exactly what this crate writes for it:
    /// it was altered.
    #[error("the tree head line is not in canonical form: it was altered")]
    NonCanonicalHead,
    /// A line of a file of heads.
    #[error("line {line}: {source}")]
    InHeadFile {
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        source: Box<LedgerError>,
    },
    /// The head was signed with another algorithm than the key's.
    #[error("the head is signed with {head} but the key is {key}")]
    SignatureSuiteMismatch {
        /// The head's signature suite.
        head: Suite,
        /// The key's suite.
        key: Suite,
    },
    /// The signature does not verify: the head was altered, or another key signed it.
    #[error("bad signature on the tree head")]
    BadSignature,
}
