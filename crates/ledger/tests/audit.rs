//! Auditing a log against its heads: what `fengcun audit verify` will report.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]

use fengcun_crypto::Suite;
use fengcun_ledger::{Auditor, Hash, Hasher, Mismatch, Tree, TreeHead, verify_log};
use jiff::Timestamp;

const SUITE: Suite = Suite::Sm;

fn entries(n: u64) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("event {i}").into_bytes()).collect()
}

/// The heads the log signed while it grew: at every `every` entries and at the end.
fn heads(entries: &[Vec<u8>], every: usize) -> Vec<TreeHead> {
    let mut tree = Tree::new(SUITE);
    let mut heads = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        tree.push(entry);
        if (i + 1) % every == 0 || i + 1 == entries.len() {
            heads.push(TreeHead::new(
                tree.len(),
                tree.root(),
                Timestamp::UNIX_EPOCH,
                SUITE,
            ));
        }
    }
    heads
}

/// The leaf hashes recorded at append time.
fn recorded(entries: &[Vec<u8>]) -> Vec<Hash> {
    let hasher = Hasher::new(SUITE);
    entries.iter().map(|e| hasher.leaf_hash(e)).collect()
}

fn audit(
    entries: &[Vec<u8>],
    recorded: Option<&[Hash]>,
    heads: &[TreeHead],
) -> Result<u64, Mismatch> {
    let mut auditor = Auditor::new(SUITE, heads.iter().copied())?;
    for (i, entry) in entries.iter().enumerate() {
        auditor.push(entry, recorded.map(|r| &r[i]))?;
    }
    auditor.finish().map(|summary| summary.entries)
}

#[test]
fn an_intact_log_passes_with_and_without_recorded_hashes() {
    let log = entries(1000);
    let heads = heads(&log, 64);
    let summary = verify_log(SUITE, &log, &heads).unwrap();
    assert_eq!(summary.entries, 1000);
    assert_eq!(summary.heads_checked, heads.len());
    assert_eq!(summary.root, heads.last().unwrap().root());
    assert_eq!(audit(&log, Some(&recorded(&log)), &heads), Ok(1000));
    // Heads in any order; a head of size 0 is the empty tree.
    let mut shuffled = heads.clone();
    shuffled.reverse();
    shuffled.push(TreeHead::new(
        0,
        Hasher::new(SUITE).empty_root(),
        Timestamp::UNIX_EPOCH,
        SUITE,
    ));
    assert!(verify_log(SUITE, &log, &shuffled).is_ok());
    // No heads at all: nothing to check against, the root is reported.
    assert_eq!(verify_log(SUITE, &log, &[]).unwrap().root, summary.root);
}

#[test]
fn an_altered_entry_is_named_when_its_recorded_hash_survives() {
    let log = entries(1000);
    let heads = heads(&log, 64);
    let recorded = recorded(&log);
    for index in [0usize, 1, 63, 64, 500, 999] {
        let mut altered = log.clone();
        altered[index] = b"rewritten".to_vec();
        let head_size = (index as u64 / 64 + 1) * 64;
        let head_size = head_size.min(1000);
        assert_eq!(
            audit(&altered, Some(&recorded), &heads),
            Err(Mismatch::AlteredEntry {
                index: index as u64,
                head_size
            }),
            "entry {index}"
        );
    }
}

#[test]
fn the_first_of_several_altered_entries_is_named() {
    let log = entries(300);
    let heads = heads(&log, 100);
    let mut altered = log.clone();
    altered[150] = b"x".to_vec();
    altered[120] = b"y".to_vec();
    altered[250] = b"z".to_vec();
    assert_eq!(
        audit(&altered, Some(&recorded(&log)), &heads),
        Err(Mismatch::AlteredEntry {
            index: 120,
            head_size: 200
        })
    );
    // Two entries swapped: the first of them.
    let mut swapped = log.clone();
    swapped.swap(10, 11);
    assert_eq!(
        audit(&swapped, Some(&recorded(&log)), &heads),
        Err(Mismatch::AlteredEntry {
            index: 10,
            head_size: 100
        })
    );
}

#[test]
fn when_the_recorded_hash_was_rewritten_too_the_range_is_reported() {
    let log = entries(300);
    let heads = heads(&log, 100);
    let mut altered = log.clone();
    altered[150] = b"rewritten".to_vec();
    let forged = recorded(&altered);
    let mismatch = Mismatch::Root {
        head_size: 200,
        verified_size: 100,
        expected: heads[1].root(),
        computed: {
            let mut tree = Tree::new(SUITE);
            altered[..200].iter().for_each(|e| {
                tree.push(e);
            });
            tree.root()
        },
    };
    let message = mismatch.to_string();
    let expected = Err(mismatch);
    assert_eq!(audit(&altered, Some(&forged), &heads), expected);
    // Without recorded hashes, the same.
    assert_eq!(audit(&altered, None, &heads), expected);
    assert_eq!(
        verify_log(SUITE, &altered, &heads).map(|s| s.entries),
        expected
    );
    assert!(message.contains("100..200"), "{message}");
}

#[test]
fn a_truncated_log_is_reported_against_an_outside_head() {
    let log = entries(500);
    let heads = heads(&log, 100);
    assert_eq!(
        verify_log(SUITE, &log[..420], &heads).map(|s| s.entries),
        Err(Mismatch::Truncated {
            entries: 420,
            head_size: 500
        })
    );
    assert_eq!(
        verify_log(SUITE, &log[..0], &heads).map(|s| s.entries),
        Err(Mismatch::Truncated {
            entries: 0,
            head_size: 500
        })
    );
    // Truncated and then appended to: the head no longer matches.
    let mut rewritten = log[..450].to_vec();
    rewritten.extend(entries(60).into_iter().map(|mut e| {
        e.push(b'!');
        e
    }));
    assert!(matches!(
        verify_log(SUITE, &rewritten, &heads),
        Err(Mismatch::Root {
            head_size: 500,
            verified_size: 400,
            ..
        })
    ));
}

#[test]
fn entries_that_disagree_with_their_recorded_hash_are_reported_when_heads_match() {
    let log = entries(300);
    let heads = heads(&log, 100);
    // A damaged recorded hash under a head: the content is what the head signed.
    let mut damaged = recorded(&log);
    damaged[42] = Hash([0; 32]);
    assert_eq!(
        audit(&log, Some(&damaged), &heads),
        Err(Mismatch::LeafHash { index: 42 })
    );
    // An entry altered after the last head: no head covers it.
    let mut longer = log.clone();
    longer.extend(entries(310).split_off(300));
    let mut recorded_longer = recorded(&longer);
    longer[305] = b"late rewrite".to_vec();
    recorded_longer.truncate(310);
    assert_eq!(
        audit(&longer, Some(&recorded_longer), &heads),
        Err(Mismatch::LeafHash { index: 305 })
    );
    // A damaged recorded hash before a later content alteration, inside one head interval:
    // the recorded hashes no longer give the head's root, so the range is reported.
    let mut altered = log.clone();
    altered[160] = b"rewritten".to_vec();
    let mut damaged = recorded(&log);
    damaged[120] = Hash([0; 32]);
    assert!(matches!(
        audit(&altered, Some(&damaged), &heads),
        Err(Mismatch::Root {
            head_size: 200,
            verified_size: 100,
            ..
        })
    ));
    // A damaged recorded hash in an earlier, matching interval does not hide a later alteration.
    let mut damaged = recorded(&log);
    damaged[42] = Hash([0; 32]);
    assert_eq!(
        audit(&altered, Some(&damaged), &heads),
        Err(Mismatch::AlteredEntry {
            index: 160,
            head_size: 200
        })
    );
}

#[test]
fn heads_of_another_hash_or_a_wrong_empty_root_are_refused() {
    let log = entries(10);
    let head = TreeHead::new(
        10,
        Hash([7; 32]),
        Timestamp::UNIX_EPOCH,
        Suite::International,
    );
    assert_eq!(
        verify_log(SUITE, &log, &[head]).map(|s| s.entries),
        Err(Mismatch::WrongSuite {
            head_size: 10,
            expected: Suite::Sm,
            found: Suite::International
        })
    );
    let empty = TreeHead::new(0, Hash([7; 32]), Timestamp::UNIX_EPOCH, SUITE);
    assert!(matches!(
        Auditor::new(SUITE, [empty]),
        Err(Mismatch::Root { head_size: 0, .. })
    ));
}

#[test]
fn the_auditor_stops_at_the_first_mismatch() {
    let log = entries(200);
    let heads = heads(&log, 50);
    let mut altered = log.clone();
    altered[70] = b"x".to_vec();
    let mut auditor = Auditor::new(SUITE, heads).unwrap();
    let mut first = None;
    for entry in &altered {
        if let Err(mismatch) = auditor.push(entry, None) {
            first.get_or_insert(mismatch.clone());
            assert_eq!(
                Some(&mismatch),
                first.as_ref(),
                "the same mismatch every time"
            );
        }
    }
    assert_eq!(
        auditor.entries(),
        100,
        "entries after the failure are not counted"
    );
    assert_eq!(auditor.finish().err(), first);
    assert!(matches!(
        first,
        Some(Mismatch::Root {
            head_size: 100,
            verified_size: 50,
            ..
        })
    ));
}
