//! Every proof of every small tree, for both suites, and a 100,000-entry log.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]

use fengcun_crypto::Suite;
use fengcun_ledger::{
    Frontier, Hash, Hasher, LedgerError, Tree, consistency_proof_len, inclusion_proof_len,
    verify_consistency, verify_inclusion,
};

const SUITES: [Suite; 2] = [Suite::Sm, Suite::International];
const MAX: u64 = 64;

fn entry(i: u64) -> Vec<u8> {
    format!("audit event {i}").into_bytes()
}

fn tree(suite: Suite, size: u64) -> Tree {
    let mut tree = Tree::new(suite);
    (0..size).for_each(|i| {
        tree.push(&entry(i));
    });
    tree
}

/// MTH straight from RFC 9162 §2.1.1's recursive definition, over leaf hashes.
fn reference_root(hasher: Hasher, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => hasher.empty_root(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            hasher.node_hash(
                &reference_root(hasher, &leaves[..k]),
                &reference_root(hasher, &leaves[k..]),
            )
        }
    }
}

#[test]
fn tree_frontier_and_reference_roots_agree_for_every_size() {
    for suite in SUITES {
        let hasher = Hasher::new(suite);
        let mut tree = Tree::new(suite);
        let mut frontier = Frontier::new(suite);
        let mut leaves = Vec::new();
        for size in 0..=300u64 {
            assert_eq!(tree.root(), frontier.root(), "{suite} size {size}");
            assert_eq!(
                tree.root(),
                reference_root(hasher, &leaves),
                "{suite} size {size}"
            );
            assert!(frontier.nodes().len() == size.count_ones() as usize);
            let data = entry(size);
            assert_eq!(tree.push(&data), size);
            assert_eq!(frontier.push(&data), size);
            leaves.push(hasher.leaf_hash(&data));
        }
        // Roots of earlier sizes from the grown tree.
        for size in 0..=300u64 {
            assert_eq!(
                tree.root_at(size).unwrap(),
                reference_root(hasher, &leaves[..size as usize])
            );
        }
        assert_eq!(tree.leaves(), leaves.as_slice());
    }
}

#[test]
fn suites_give_different_roots() {
    assert_ne!(
        tree(Suite::Sm, 5).root(),
        tree(Suite::International, 5).root()
    );
}

/// Every inclusion proof in every tree up to 64 leaves verifies; the proof fails with any byte
/// flipped, the wrong leaf, any other index, a wrong size or a wrong root.
#[test]
fn every_inclusion_proof_up_to_64_leaves() {
    for suite in SUITES {
        let hasher = Hasher::new(suite);
        let full = tree(suite, MAX);
        let roots: Vec<Hash> = (0..=MAX).map(|s| full.root_at(s).unwrap()).collect();
        for size in 1..=MAX {
            let root = roots[size as usize];
            for index in 0..size {
                let leaf = full.leaf_hash(index).unwrap();
                let proof = full.inclusion_proof(index, size).unwrap();
                assert_eq!(proof.len(), inclusion_proof_len(index, size));
                // The same proof from a tree of exactly `size` leaves.
                if index == 0 {
                    assert_eq!(
                        tree(suite, size).inclusion_proof(index, size).unwrap(),
                        proof
                    );
                }
                verify_inclusion(suite, index, size, &leaf, &proof, &root)
                    .unwrap_or_else(|err| panic!("{suite} {index}/{size}: {err}"));

                // Any flipped byte of the proof (every byte for small trees, three per hash
                // beyond, to keep the debug build quick).
                let positions: &[usize] = if size <= 16 { &ALL_BYTES } else { &[0, 17, 31] };
                for i in 0..proof.len() {
                    for &at in positions {
                        let mut bad = proof.clone();
                        bad[i].0[at] ^= 0x01;
                        assert!(
                            verify_inclusion(suite, index, size, &leaf, &bad, &root).is_err(),
                            "{suite} {index}/{size}: byte {at} of hash {i} flipped"
                        );
                    }
                }
                // The wrong leaf: another entry's, or this entry's content hashed as a node.
                let other = hasher.leaf_hash(b"not an entry");
                assert!(verify_inclusion(suite, index, size, &other, &proof, &root).is_err());
                // Any other index.
                for wrong in others(index, 0, size - 1) {
                    assert!(
                        verify_inclusion(suite, wrong, size, &leaf, &proof, &root).is_err(),
                        "{suite} {index}/{size} accepted as index {wrong}"
                    );
                }
                // Another size, with that size's root (a head is a size and its root).
                for wrong in others(size, index + 1, MAX) {
                    let wrong_root = roots[wrong as usize];
                    assert!(
                        verify_inclusion(suite, index, wrong, &leaf, &proof, &wrong_root).is_err(),
                        "{suite} {index}/{size} accepted at size {wrong}"
                    );
                }
                // Another size with the same root: refused when the proof cannot have that
                // shape, as for double and half the size (transparency-dev's probes). A size with
                // the same shape is not refused by RFC 9162's algorithm (the proof's hashes do
                // not say how many leaves are under them); a signed head binds size and root.
                for wrong in [size * 2, size / 2] {
                    assert!(
                        verify_inclusion(suite, index, wrong, &leaf, &proof, &root).is_err(),
                        "{suite} {index}/{size} accepted at size {wrong}"
                    );
                }
                for other in others(size, 0, MAX) {
                    let other_root = &roots[other as usize];
                    assert!(
                        verify_inclusion(suite, index, size, &leaf, &proof, other_root).is_err()
                    );
                }
                // Longer or shorter proofs.
                let mut longer = proof.clone();
                longer.push(root);
                assert!(matches!(
                    verify_inclusion(suite, index, size, &leaf, &longer, &root),
                    Err(LedgerError::ProofLength { .. })
                ));
                if let Some((_, shorter)) = proof.split_last() {
                    assert!(verify_inclusion(suite, index, size, &leaf, shorter, &root).is_err());
                }
            }
        }
    }
}

/// The values in `lo..=hi` other than `actual`: all of them when the range is small (up to 24),
/// otherwise the neighbours, halves, doubles and ends, to keep the debug build quick.
fn others(actual: u64, lo: u64, hi: u64) -> Vec<u64> {
    let candidates: Vec<u64> = if hi.saturating_sub(lo) <= 24 {
        (lo..=hi).collect()
    } else {
        let a = actual;
        vec![
            lo,
            lo + 1,
            a.saturating_sub(2),
            a.saturating_sub(1),
            a + 1,
            a + 2,
            a / 2,
            a * 2,
            hi,
        ]
    };
    let mut values: Vec<u64> = candidates
        .into_iter()
        .filter(|&v| v != actual && (lo..=hi).contains(&v))
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

const ALL_BYTES: [usize; 32] = {
    let mut all = [0; 32];
    let mut i = 0;
    while i < 32 {
        all[i] = i;
        i += 1;
    }
    all
};

/// Every consistency proof between sizes up to 64 verifies; any flipped byte, a wrong size or a
/// wrong root fails.
#[test]
fn every_consistency_proof_up_to_64_leaves() {
    for suite in SUITES {
        let full = tree(suite, MAX);
        let roots: Vec<Hash> = (0..=MAX).map(|s| full.root_at(s).unwrap()).collect();
        for new in 0..=MAX {
            for old in 0..=new {
                let (r1, r2) = (roots[old as usize], roots[new as usize]);
                let proof = full.consistency_proof(old, new).unwrap();
                assert_eq!(proof.len(), consistency_proof_len(old, new), "{old}->{new}");
                verify_consistency(suite, old, new, &r1, &r2, &proof)
                    .unwrap_or_else(|err| panic!("{suite} {old}->{new}: {err}"));
                if old == 0 || old == new {
                    assert!(proof.is_empty());
                    continue;
                }
                let positions: &[usize] = if new <= 16 { &ALL_BYTES } else { &[0, 17, 31] };
                for i in 0..proof.len() {
                    for &at in positions {
                        let mut bad = proof.clone();
                        bad[i].0[at] ^= 0x80;
                        assert!(
                            verify_consistency(suite, old, new, &r1, &r2, &bad).is_err(),
                            "{suite} {old}->{new}: byte {at} of hash {i} flipped"
                        );
                    }
                }
                // Other sizes, with their roots: every other old size, every other new size.
                for wrong in others(old, 0, new - 1) {
                    let wrong_root = roots[wrong as usize];
                    assert!(
                        verify_consistency(suite, wrong, new, &wrong_root, &r2, &proof).is_err(),
                        "{suite} {old}->{new} accepted as {wrong}->{new}"
                    );
                }
                for wrong in others(new, old, MAX) {
                    let wrong_root = roots[wrong as usize];
                    assert!(
                        verify_consistency(suite, old, wrong, &r1, &wrong_root, &proof).is_err(),
                        "{suite} {old}->{new} accepted as {old}->{wrong}"
                    );
                }
                // Other sizes with the same roots, transparency-dev's probes.
                for (o, n) in [
                    (old - 1, new),
                    (old + 1, new),
                    (old ^ 2, new),
                    (old, new * 2),
                    (old, new / 2),
                ] {
                    if (o, n) != (old, new) {
                        assert!(
                            verify_consistency(suite, o, n, &r1, &r2, &proof).is_err(),
                            "{suite} {old}->{new} accepted as {o}->{n}"
                        );
                    }
                }
                // Wrong roots: the roots of every other size, and swapped.
                for other in others(old, 0, MAX) {
                    let root = &roots[other as usize];
                    assert!(verify_consistency(suite, old, new, root, &r2, &proof).is_err());
                }
                for other in others(new, 0, MAX) {
                    let root = &roots[other as usize];
                    assert!(verify_consistency(suite, old, new, &r1, root, &proof).is_err());
                }
                assert!(verify_consistency(suite, old, new, &r2, &r1, &proof).is_err());
                // Wrong length.
                assert!(verify_consistency(suite, old, new, &r1, &r2, &[]).is_err());
                let mut longer = proof.clone();
                longer.push(r2);
                assert!(verify_consistency(suite, old, new, &r1, &r2, &longer).is_err());
            }
        }
    }
}

/// A history that was rewritten is not consistent with its earlier head.
#[test]
fn a_rewritten_history_fails_consistency() {
    for suite in SUITES {
        let honest = tree(suite, 40);
        for altered in [0, 7, 19, 39] {
            let mut forged = Tree::new(suite);
            for i in 0..40 {
                let data = if i == altered {
                    b"forged".to_vec()
                } else {
                    entry(i)
                };
                forged.push(&data);
            }
            for old in (altered + 1)..=40 {
                let proof = forged.consistency_proof(old, 40).unwrap();
                let result = verify_consistency(
                    suite,
                    old,
                    40,
                    &honest.root_at(old).unwrap(),
                    &forged.root(),
                    &proof,
                );
                assert!(result.is_err(), "{suite} altered {altered}, old {old}");
            }
        }
    }
}

/// A 100,000-entry log (SHA-256): an inclusion proof for every entry verifies against the head,
/// and fails for a wrong entry or a wrong head (checked for every 97th entry). Runs in about 15 s in a
/// debug build on two cores (a few tenths of a second in release); see also the SM3 sample below.
#[test]
fn every_entry_of_a_100_000_entry_log_is_proven() {
    check_large_log(Suite::International, 100_000, 1);
}

/// The same over SM3, proving every 7th entry (unoptimised SM3 is slow in a debug build; run
/// `cargo test --release -p fengcun-ledger --test proofs -- --ignored` for every entry).
#[test]
fn a_100_000_entry_sm3_log_is_proven() {
    check_large_log(Suite::Sm, 100_000, 7);
}

fn check_large_log(suite: Suite, size: u64, step: usize) {
    let hasher = Hasher::new(suite);
    let log = tree(suite, size);
    let root = log.root();
    let mut frontier = Frontier::new(suite);
    (0..size).for_each(|i| {
        frontier.push(&entry(i));
    });
    assert_eq!(frontier.root(), root);
    let earlier = log.root_at(size - 1).unwrap();
    for index in (0..size).step_by(step) {
        let leaf = hasher.leaf_hash(&entry(index));
        let proof = log.inclusion_proof(index, size).unwrap();
        verify_inclusion(suite, index, size, &leaf, &proof, &root)
            .unwrap_or_else(|err| panic!("entry {index}: {err}"));
        if index % 97 == 0 {
            let wrong = hasher.leaf_hash(&entry(index + 1));
            assert!(verify_inclusion(suite, index, size, &wrong, &proof, &root).is_err());
            assert!(verify_inclusion(suite, index, size, &leaf, &proof, &earlier).is_err());
        }
    }
    for old in (1..=size).step_by(9_973) {
        let proof = log.consistency_proof(old, size).unwrap();
        verify_consistency(suite, old, size, &log.root_at(old).unwrap(), &root, &proof).unwrap();
    }
}

#[test]
fn a_frontier_resumed_from_its_parts_continues_the_same_tree() {
    for split in [0u64, 1, 2, 3, 7, 8, 13, 64] {
        let mut whole = Frontier::new(Suite::Sm);
        let mut first = Frontier::new(Suite::Sm);
        for i in 0..split {
            whole.push(&entry(i));
            first.push(&entry(i));
        }
        let mut resumed =
            Frontier::from_parts(Suite::Sm, first.size(), first.nodes().to_vec()).unwrap();
        for i in split..split + 20 {
            whole.push(&entry(i));
            resumed.push(&entry(i));
        }
        assert_eq!(resumed.root(), whole.root(), "resumed after {split}");
    }
    // A frontier whose roots do not fit its size is refused, not trusted.
    let mut three = Frontier::new(Suite::Sm);
    for i in 0..3 {
        three.push(&entry(i));
    }
    assert!(Frontier::from_parts(Suite::Sm, 4, three.nodes().to_vec()).is_err());
}
