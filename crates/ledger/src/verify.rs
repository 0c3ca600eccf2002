//! Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency): only hashes,
//! sizes and the proof, so a verifier outside the platform needs nothing else.

use fengcun_crypto::Suite;

use crate::{Hash, Hasher, LedgerError};

/// Checks that `proof` proves that the leaf with hash `leaf_hash` is entry `index` of the tree of
/// `size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
///
/// The error says what failed: the index is not in the tree, the proof has the wrong number of
/// hashes for this index and size, or it leads to another root.
pub fn verify_inclusion(
    suite: Suite,
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    let computed = root_from_inclusion(suite, index, size, leaf_hash, proof)?;
    if computed != *root {
        return Err(LedgerError::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

/// The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–4), after checking that
/// `index < size` and that the proof has exactly the number of hashes a proof for `index` in a
/// tree of `size` has.
pub fn root_from_inclusion(
    suite: Suite,
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, LedgerError> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(LedgerError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let hasher = Hasher::new(suite);
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        // Step 4a (sn = 0 with hashes left) cannot happen: the length was checked above.
        if s == 0 {
            return Err(LedgerError::ProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            r = hasher.node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = hasher.node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(LedgerError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    Ok(r)
}

/// Checks that `proof` proves that the tree of `new_size` leaves with root `new_root` extends
/// the tree of `old_size` leaves with root `old_root`: same first `old_size` entries, in the same
/// order (RFC 9162 §2.1.4.2).
///
/// RFC 9162 defines proofs for `0 < old_size < new_size`. The two other cases are accepted with
/// an empty proof: `old_size == new_size` when the roots are equal, and `old_size == 0` when
/// `old_root` is the empty tree's root (every tree extends the empty one).
pub fn verify_consistency(
    suite: Suite,
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::SizesOutOfOrder { old_size, new_size });
    }
    let hasher = Hasher::new(suite);
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(LedgerError::ProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        let expected = if old_size == 0 {
            hasher.empty_root()
        } else {
            *new_root
        };
        if *old_root != expected {
            return Err(LedgerError::OldRootMismatch {
                expected: *old_root,
                computed: expected,
            });
        }
        return Ok(());
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(LedgerError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    // Step 2: when the old size is a power of two, the old root is the first hash of the path.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => {
                return Err(LedgerError::ProofLength {
                    expected,
                    actual: 0,
                });
            }
        }
    };
    // Steps 3–5.
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    // Step 6.
    for c in rest {
        if s == 0 {
            return Err(LedgerError::ProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            fr = hasher.node_hash(c, &fr);
            sr = hasher.node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = hasher.node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(LedgerError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if fr != *old_root {
        return Err(LedgerError::OldRootMismatch {
            expected: *old_root,
            computed: fr,
        });
    }
    if sr != *new_root {
        return Err(LedgerError::RootMismatch {
            expected: *new_root,
            computed: sr,
        });
    }
    Ok(())
}

/// The number of hashes in the inclusion proof of `index` in a tree of `size > index` leaves:
/// one per level below the node where the paths to `index` and to the last leaf part
/// (`inner`), plus one per complete left subtree on the right edge above it.
pub fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let last = size.saturating_sub(1);
    let inner = 64 - (index ^ last).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// The number of hashes in the consistency proof from `old_size` to `new_size`
/// (`0 < old_size < new_size`); 0 otherwise.
pub fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size >= new_size {
        return 0;
    }
    // The proof is the inclusion path of leaf old_size - 1 in the new tree, cut at the largest
    // complete subtree that ends at old_size (its root stands for the lower part), plus that root
    // unless it is the whole old tree.
    let shift = old_size.trailing_zeros();
    let index = old_size - 1;
    let inner = 64 - (index ^ (new_size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    let seed = usize::from(!old_size.is_power_of_two());
    seed + (inner - shift) as usize + border as usize
}
