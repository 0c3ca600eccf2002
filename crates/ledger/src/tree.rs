//! A whole tree in memory, for proofs: RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF, SUBPROOF).

use fengcun_crypto::Suite;

use crate::hash::split_point;
use crate::{Hash, Hasher, LedgerError};

/// Every leaf hash and every complete subtree hash of a log, so that inclusion and consistency
/// proofs, and the root at any earlier size, cost `O(log n)` hashes.
///
/// Level `h` holds the roots of the complete, aligned subtrees of `2^h` leaves: level 0 the leaf
/// hashes, level 1 the hashes of leaves `2i, 2i+1`, and so on. That is about `2n` hashes of
/// 32 bytes for `n` leaves (640 MB for ten million). A subtree of a tree of size `s` is either
/// complete and aligned, hence stored, or lies on the right edge of the tree of size `s`; a proof
/// needs at most one right-edge subtree, computed from stored hashes in at most `log2 s` node
/// hashes. Appending costs one leaf hash and, amortised, one node hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    hasher: Hasher,
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree hashed with `suite`'s hash.
    pub fn new(suite: Suite) -> Tree {
        Tree {
            hasher: Hasher::new(suite),
            levels: vec![Vec::new()],
        }
    }

    /// An empty tree with room for `leaves` leaves at every level, so that building a large tree
    /// does not move it in memory.
    pub fn with_capacity(suite: Suite, leaves: u64) -> Tree {
        let mut levels = Vec::new();
        let mut width = leaves;
        loop {
            levels.push(Vec::with_capacity(usize::try_from(width).unwrap_or(0)));
            if width <= 1 {
                break;
            }
            width /= 2;
        }
        Tree {
            hasher: Hasher::new(suite),
            levels,
        }
    }

    /// The hasher in use.
    pub fn hasher(&self) -> Hasher {
        self.hasher
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.leaves().len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.leaves().is_empty()
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.leaves().get(i))
            .copied()
    }

    /// Appends an entry (hashed as a leaf); returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(self.hasher.leaf_hash(data))
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.len();
        let mut node = leaf;
        let mut height = 0;
        loop {
            if self.levels.len() == height {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[height];
            level.push(node);
            let width = level.len();
            if width % 2 == 1 {
                break;
            }
            // The new node completes a pair: their parent is a complete subtree one level up.
            node = self.hasher.node_hash(&level[width - 2], &level[width - 1]);
            height += 1;
        }
        index
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.subtree(0, self.len())
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves: RFC 9162
    /// §2.1.3.1 `PATH(index, D[size])`, the sibling hashes from the leaf up to the root.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size)?;
        if index >= size {
            return Err(LedgerError::IndexOutOfRange { index, size });
        }
        // Walk down from the root, taking the sibling of each subtree that contains the leaf;
        // PATH lists them bottom-up.
        let mut path = Vec::with_capacity(64);
        let (mut start, mut end) = (0, size);
        while end - start > 1 {
            let mid = start + split_point(end - start);
            if index < mid {
                path.push(self.subtree(mid, end));
                end = mid;
            } else {
                path.push(self.subtree(start, mid));
                start = mid;
            }
        }
        path.reverse();
        Ok(path)
    }

    /// The consistency proof that the tree of the first `new_size` leaves extends the tree of the
    /// first `old_size`: RFC 9162 §2.1.4.1 `PROOF(old_size, D[new_size])`. Empty when
    /// `old_size` is 0 or equals `new_size` (RFC 9162 defines proofs for `0 < old < new`; those
    /// two cases need none).
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(LedgerError::SizesOutOfOrder { old_size, new_size });
        }
        if old_size == 0 || old_size == new_size {
            return Ok(Vec::new());
        }
        // SUBPROOF(m, D[start:end], whole) walked top-down; each step contributes one hash after
        // the sub-proof of the step below it, so the list is reversed at the end.
        let mut proof = Vec::with_capacity(64);
        let (mut start, mut end, mut m) = (0, new_size, old_size);
        let mut whole = true;
        loop {
            let n = end - start;
            if m == n {
                // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
                if !whole {
                    proof.push(self.subtree(start, end));
                }
                break;
            }
            let k = split_point(n);
            if m <= k {
                proof.push(self.subtree(start + k, end));
                end = start + k;
            } else {
                proof.push(self.subtree(start, start + k));
                start += k;
                m -= k;
                whole = false;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.len() {
            return Err(LedgerError::SizeOutOfRange {
                size,
                tree_size: self.len(),
            });
        }
        Ok(())
    }

    /// MTH(D[start:end]) for a subtree met in RFC 9162's recursion (so `start` is a multiple of
    /// the largest power of two not above `end - start`), with `end ≤ len`.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return self.hasher.empty_root();
        }
        if n.is_power_of_two() {
            let height = n.trailing_zeros() as usize;
            debug_assert_eq!(
                start % n,
                0,
                "complete subtrees met in the recursion are aligned"
            );
            // `start >> height < len >> height ≤ levels[height].len()` since `end ≤ len`.
            return self.levels[height][(start >> height) as usize];
        }
        let mid = start + split_point(n);
        let left = self.subtree(start, mid);
        let right = self.subtree(mid, end);
        self.hasher.node_hash(&left, &right)
    }
}
