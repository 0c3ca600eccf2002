//! The streaming root: a compact frontier of at most 64 pending subtree roots.

use fengcun_crypto::Suite;

use crate::{Hash, Hasher, LedgerError};

/// The Merkle tree hash (MTH, RFC 9162 §2.1.1) of a log computed as entries stream past, without
/// keeping them: only the roots of the complete subtrees that the size decomposes into (one per
/// set bit of the size, largest first), so at most 64 hashes whatever the size.
///
/// Appending a leaf costs one leaf hash and, amortised, one node hash (a carry in binary
/// counting); [`Frontier::root`] costs one node hash per set bit of the size, less one.
///
/// ```
/// use fengcun_crypto::Suite;
/// use fengcun_ledger::{Frontier, Tree};
///
/// let mut frontier = Frontier::new(Suite::Sm);
/// let mut tree = Tree::new(Suite::Sm);
/// for entry in [&b"a"[..], b"b", b"c"] {
///     frontier.push(entry);
///     tree.push(entry);
/// }
/// assert_eq!(frontier.root(), tree.root());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    hasher: Hasher,
    size: u64,
    /// Roots of the complete subtrees, largest (leftmost) first.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// An empty frontier for `suite`'s hash.
    pub fn new(suite: Suite) -> Frontier {
        Frontier {
            hasher: Hasher::new(suite),
            size: 0,
            nodes: Vec::with_capacity(64),
        }
    }

    /// A frontier resumed from a size and the roots [`Frontier::nodes`] returned for it (the
    /// store keeps them so that appending never reads the log back).
    pub fn from_parts(suite: Suite, size: u64, nodes: Vec<Hash>) -> Result<Frontier, LedgerError> {
        if nodes.len() != size.count_ones() as usize {
            return Err(LedgerError::Malformed(format!(
                "a frontier of {size} leaves has {} subtree roots, not {}",
                size.count_ones(),
                nodes.len()
            )));
        }
        Ok(Frontier {
            hasher: Hasher::new(suite),
            size,
            nodes,
        })
    }

    /// The hasher in use.
    pub fn hasher(&self) -> Hasher {
        self.hasher
    }

    /// The number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the complete subtrees, largest (leftmost) first; subtree `i` has
    /// `2^h` leaves where `h` is the position of the `i`-th highest set bit of the size.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends an entry (hashed as a leaf); returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(self.hasher.leaf_hash(data))
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        let mut node = leaf;
        // Each trailing one bit of the size is a complete subtree of the same height as `node`.
        for _ in 0..index.trailing_ones() {
            if let Some(left) = self.nodes.pop() {
                node = self.hasher.node_hash(&left, &node);
            }
        }
        self.nodes.push(node);
        self.size += 1;
        index
    }

    /// The root of the tree of all appended leaves (the hash of no bytes when empty).
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&last) = nodes.next() else {
            return self.hasher.empty_root();
        };
        nodes.fold(last, |right, left| self.hasher.node_hash(left, &right))
    }
}
