//! The tamper-evident audit log of fengcun: a Merkle tree over the log's entries in the manner of
//! RFC 6962 / RFC 9162, signed tree heads, inclusion and consistency proofs. Pure: no database,
//! no file, no clock (times are passed in); the store and the CLI build on it.
//!
//! - **Hashing** ([`Hasher`]): SM3 by default, SHA-256 with `Suite::International`; leaves are
//!   `HASH(0x00 ‖ entry)` and interior nodes `HASH(0x01 ‖ left ‖ right)` (RFC 9162 §2.1.1), so
//!   no leaf can pass for a node.
//! - **Roots**: [`Frontier`] computes the root as entries stream past, keeping at most 64 hashes;
//!   [`Tree`] keeps every complete subtree hash to answer proofs in `O(log n)` hashes.
//! - **Proofs**: [`Tree::inclusion_proof`] and [`Tree::consistency_proof`] generate RFC 9162
//!   §2.1.3.1 / §2.1.4.1 proofs; [`verify_inclusion`] and [`verify_consistency`] check them
//!   (§2.1.3.2 / §2.1.4.2) from hashes and sizes alone, so a verifier outside the platform needs
//!   only the log's public key and a head.
//! - **Heads** ([`TreeHead`], [`SignedTreeHead`]): size, root, time and hash, signed with SM2 or
//!   Ed25519 over a fixed 69-byte encoding, exported as one line of JSON that an outside party
//!   can keep and that refuses any altered byte.
//! - **Audit** ([`Auditor`], [`verify_log`]): recompute the tree from the stored entries, check
//!   every head, name the first altered entry, report truncation.
//!
//! The Merkle code is written here rather than taken from a crate: RustCrypto has none, and the
//! crates that implement RFC 6962 either fix SHA-256 or do not produce consistency proofs. It is
//! small and tested against the published RFC 6962 test vectors (`tests/rfc6962.rs`).
//!
//! ```
//! use fengcun_crypto::{SigningKey, Suite};
//! use fengcun_ledger::{SignedTreeHead, Tree, TreeHead};
//!
//! let mut tree = Tree::new(Suite::Sm);
//! for entry in ["login", "seal record 42", "export"] {
//!     tree.push(entry.as_bytes());
//! }
//! let key = SigningKey::generate(Suite::Sm);
//! let now = jiff::Timestamp::from_second(1_750_000_000)?;
//! let head = TreeHead::new(tree.len(), tree.root(), now, Suite::Sm).sign(&key);
//! let line = head.to_json(); // kept by an outside party
//!
//! // An outside verifier with the public key, the line, an entry and its proof:
//! let head = SignedTreeHead::from_json(&line)?;
//! let head = head.verify(&key.verifying_key())?;
//! let proof = tree.inclusion_proof(1, head.size())?;
//! let leaf = tree.hasher().leaf_hash(b"seal record 42");
//! head.verify_inclusion(1, &leaf, &proof)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audit;
pub mod bench;
mod error;
mod frontier;
mod hash;
mod head;
mod tree;
mod verify;

pub use audit::{AuditSummary, Auditor, Mismatch, verify_log};
pub use error::LedgerError;
pub use frontier::Frontier;
pub use hash::{Hash, Hasher};
pub use head::{SignedTreeHead, TREE_HEAD_BYTES, TREE_HEAD_FORMAT, TreeHead};
pub use tree::Tree;
pub use verify::{
    consistency_proof_len, inclusion_proof_len, root_from_inclusion, verify_consistency,
    verify_inclusion,
};
