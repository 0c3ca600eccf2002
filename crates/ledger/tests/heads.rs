//! Signed tree heads: the signed bytes, signing and verifying with SM2 and Ed25519, the export
//! line, and that any altered byte of an export is refused.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]

use fengcun_crypto::{Signature, SigningKey, Suite};
use fengcun_ledger::{Hash, LedgerError, SignedTreeHead, TREE_HEAD_BYTES, Tree, TreeHead};
use jiff::Timestamp;

/// Test-only keys, made with `openssl genpkey -algorithm ed25519` and `-algorithm SM2`.
const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICLyPoOYpuo3HgIGa11E7PIyHTM/u/6nlG64U71O59V9
-----END PRIVATE KEY-----
";
const SM2_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgFElwxQX61Zxys8FB
28Z2NA8HOhId0yYJ5udyodY9KAWhRANCAATaODbnB2wyaymF/ExY7NDYz7STNqJl
LW659/pebmPUaVVkiRaevQZe+c1X0tt1mByGYNpmAn6VFc/IBDY8CVT+
-----END PRIVATE KEY-----
";

fn key(suite: Suite) -> SigningKey {
    let pem = match suite {
        Suite::Sm => SM2_PEM,
        Suite::International => ED25519_PEM,
    };
    let key = SigningKey::from_pkcs8_pem(pem).unwrap();
    assert_eq!(key.suite(), suite);
    key
}

fn time() -> Timestamp {
    Timestamp::from_millisecond(1_717_200_000_123).unwrap()
}

fn head(suite: Suite) -> TreeHead {
    let mut tree = Tree::new(suite);
    for i in 0..1000u32 {
        tree.push(&i.to_be_bytes());
    }
    TreeHead::new(tree.len(), tree.root(), time(), suite)
}

#[test]
fn signed_bytes_have_the_documented_layout() {
    let root = Hash([0xab; 32]);
    let head = TreeHead::new(0x0102_0304_0506_0708, root, time(), Suite::International);
    let bytes = head.to_bytes();
    assert_eq!(bytes.len(), TREE_HEAD_BYTES);
    assert_eq!(&bytes[..20], b"fengcun-tree-head/v1");
    assert_eq!(bytes[20], 2);
    assert_eq!(&bytes[21..29], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&bytes[29..37], &1_717_200_000_123i64.to_be_bytes());
    assert_eq!(&bytes[37..], &[0xab; 32]);
    assert_eq!(TreeHead::from_bytes(&bytes).unwrap(), head);
    assert_eq!(TreeHead::new(1, root, time(), Suite::Sm).to_bytes()[20], 1);

    // Times before 1970 are negative, two's complement.
    let early = Timestamp::from_millisecond(-1).unwrap();
    let bytes = TreeHead::new(1, root, early, Suite::Sm).to_bytes();
    assert_eq!(&bytes[29..37], &[0xff; 8]);

    // Refused: wrong length, prefix, suite byte.
    assert!(TreeHead::from_bytes(&bytes[..68]).is_err());
    let mut bad = bytes;
    bad[0] = b'F';
    assert!(TreeHead::from_bytes(&bad).is_err());
    let mut bad = bytes;
    bad[20] = 3;
    assert!(TreeHead::from_bytes(&bad).is_err());
}

#[test]
fn time_is_kept_to_the_millisecond() {
    let precise = Timestamp::new(1_717_200_000, 123_456_789).unwrap();
    let head = TreeHead::new(1, Hash::default(), precise, Suite::Sm);
    assert_eq!(head.timestamp_ms(), 1_717_200_000_123);
    assert_eq!(
        head.time(),
        Timestamp::from_millisecond(1_717_200_000_123).unwrap()
    );
}

#[test]
fn sign_and_verify_with_every_key_and_hash() {
    for hash in [Suite::Sm, Suite::International] {
        for key_suite in [Suite::Sm, Suite::International] {
            let key = key(key_suite);
            let head = head(hash);
            let signed = head.sign(&key);
            assert_eq!(signed.key_suite(), key_suite);
            assert_eq!(signed.signature().0.len(), 64);
            assert_eq!(signed.verify(&key.verifying_key()).unwrap(), &head);

            // Another key of the same algorithm, a key of the other algorithm.
            let stranger = SigningKey::generate(key_suite);
            assert_eq!(
                signed.verify(&stranger.verifying_key()),
                Err(LedgerError::BadSignature)
            );
            let other = match key_suite {
                Suite::Sm => Suite::International,
                Suite::International => Suite::Sm,
            };
            assert!(matches!(
                signed.verify(&SigningKey::generate(other).verifying_key()),
                Err(LedgerError::SignatureSuiteMismatch { .. })
            ));

            // A head with anything changed does not carry the signature.
            let changed = [
                TreeHead::new(head.size() + 1, head.root(), head.time(), hash),
                TreeHead::new(head.size(), Hash([1; 32]), head.time(), hash),
                TreeHead::new(
                    head.size(),
                    head.root(),
                    Timestamp::from_millisecond(head.timestamp_ms() + 1).unwrap(),
                    hash,
                ),
                TreeHead::new(
                    head.size(),
                    head.root(),
                    head.time(),
                    if hash == Suite::Sm {
                        Suite::International
                    } else {
                        Suite::Sm
                    },
                ),
            ];
            for changed in changed {
                let forged =
                    SignedTreeHead::from_parts(changed, signed.signature().clone(), key_suite);
                assert_eq!(
                    forged.verify(&key.verifying_key()),
                    Err(LedgerError::BadSignature)
                );
            }
        }
    }
}

#[test]
fn export_is_one_exact_line_and_round_trips() {
    let signed =
        TreeHead::new(8, Hash([0x5d; 32]), time(), Suite::Sm).sign(&key(Suite::International));
    let line = signed.to_json();
    // Ed25519 signatures are deterministic (RFC 8032), so the whole line is.
    let expected = format!(
        concat!(
            r#"{{"format":"fengcun-tree-head/v1","hash":"sm3","size":8,"#,
            r#""timestamp_ms":1717200000123,"time":"2024-06-01T00:00:00.123Z","#,
            r#""root":"{}","signature_algorithm":"ed25519","signature":"{}"}}"#
        ),
        "5d".repeat(32),
        signed.signature().to_base64url()
    );
    assert_eq!(line, expected);
    assert!(!line.contains('\n'));
    assert_eq!(SignedTreeHead::from_json(&line).unwrap(), signed);

    for hash in [Suite::Sm, Suite::International] {
        for key_suite in [Suite::Sm, Suite::International] {
            let key = key(key_suite);
            let signed = head(hash).sign(&key);
            let back = SignedTreeHead::from_json(&signed.to_json()).unwrap();
            assert_eq!(back, signed);
            assert_eq!(back.verify(&key.verifying_key()).unwrap(), &head(hash));
        }
    }
}

/// Every single-byte change of an export line (each byte replaced by several others, removed,
/// or preceded by an extra byte) is refused when reading the line or verifying the signature.
#[test]
fn any_altered_byte_of_an_sm2_export_is_refused() {
    any_altered_byte_is_refused(Suite::Sm, Suite::Sm);
}

#[test]
fn any_altered_byte_of_an_ed25519_export_is_refused() {
    any_altered_byte_is_refused(Suite::International, Suite::International);
}

fn any_altered_byte_is_refused(hash: Suite, key_suite: Suite) {
    {
        let key = key(key_suite);
        let public = key.verifying_key();
        let line = head(hash).sign(&key).to_json();
        let accepts = |text: &[u8]| {
            std::str::from_utf8(text)
                .ok()
                .and_then(|text| SignedTreeHead::from_json(text).ok())
                .is_some_and(|signed| signed.verify(&public).is_ok())
        };
        assert!(accepts(line.as_bytes()));
        let bytes = line.as_bytes();
        let mut tried = 0;
        for at in 0..bytes.len() {
            let original = bytes[at];
            let replacements = [
                original ^ 0x01,
                original ^ 0x20,
                original.wrapping_add(1),
                b'0',
                b'a',
                b'A',
                b' ',
                b'"',
                b'\n',
                b'-',
                b'_',
            ];
            for replacement in replacements.into_iter().filter(|&r| r != original) {
                let mut altered = bytes.to_vec();
                altered[at] = replacement;
                assert!(
                    !accepts(&altered),
                    "accepted with byte {at} ({:?}) replaced by {:?}",
                    original as char,
                    replacement as char
                );
                tried += 1;
            }
            let mut removed = bytes.to_vec();
            removed.remove(at);
            assert!(!accepts(&removed), "accepted with byte {at} removed");
            for extra in [b' ', b'0'] {
                let mut inserted = bytes.to_vec();
                inserted.insert(at, extra);
                assert!(
                    !accepts(&inserted),
                    "accepted with {:?} inserted at {at}",
                    extra as char
                );
            }
        }
        assert!(tried > 2000);
        // And appended bytes.
        assert!(!accepts(format!("{line} ").as_bytes()));
        assert!(!accepts(format!("{line}\n").as_bytes()));
    }
}

#[test]
fn non_canonical_exports_are_refused_even_when_they_mean_the_same() {
    let key = key(Suite::Sm);
    let line = head(Suite::Sm).sign(&key).to_json();
    let spaced = line.replacen(r#""size":"#, r#""size": "#, 1);
    assert_eq!(
        SignedTreeHead::from_json(&spaced),
        Err(LedgerError::NonCanonicalHead)
    );
    let signed = SignedTreeHead::from_json(&line).unwrap();
    let upper = line.replace(
        &signed.unverified_head().root().to_hex(),
        &signed.unverified_head().root().to_hex().to_uppercase(),
    );
    assert!(SignedTreeHead::from_json(&upper).is_err());
    let extra = line.replacen('{', r#"{"note":"x","#, 1);
    assert!(matches!(
        SignedTreeHead::from_json(&extra),
        Err(LedgerError::MalformedHead(_))
    ));
    // The human-readable time must agree with the signed milliseconds.
    let wrong_time = line.replace("2024-06-01T00:00:00.123Z", "2024-06-01T00:00:00.124Z");
    assert_eq!(
        SignedTreeHead::from_json(&wrong_time),
        Err(LedgerError::NonCanonicalHead)
    );
    // A signature of the wrong length is refused at verification.
    let short =
        SignedTreeHead::from_parts(*signed.unverified_head(), Signature(vec![0; 63]), Suite::Sm);
    let short_line = short.to_json();
    assert_eq!(
        SignedTreeHead::from_json(&short_line)
            .unwrap()
            .verify(&key.verifying_key()),
        Err(LedgerError::BadSignature)
    );
}

#[test]
fn a_file_of_heads_is_read_line_by_line() {
    let key = key(Suite::Sm);
    let heads: Vec<SignedTreeHead> = [1u64, 10, 100]
        .into_iter()
        .map(|size| TreeHead::new(size, Hash([size as u8; 32]), time(), Suite::Sm).sign(&key))
        .collect();
    let text: String = heads.iter().map(|h| h.to_json() + "\n").collect();
    assert_eq!(SignedTreeHead::parse_lines(&text).unwrap(), heads);
    assert_eq!(
        SignedTreeHead::parse_lines(text.trim_end()).unwrap(),
        heads,
        "no final line break"
    );
    assert_eq!(SignedTreeHead::parse_lines("").unwrap(), Vec::new());
    let broken = text.replacen("\n", "\n\n", 2).replacen("\n\n", "\n", 1);
    match SignedTreeHead::parse_lines(&broken) {
        Err(LedgerError::InHeadFile { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn heads_check_proofs_against_themselves() {
    let suite = Suite::Sm;
    let mut tree = Tree::new(suite);
    for i in 0..100u32 {
        tree.push(&i.to_be_bytes());
    }
    let old = TreeHead::new(37, tree.root_at(37).unwrap(), time(), suite);
    let new = TreeHead::new(100, tree.root(), time(), suite);
    let leaf = tree.leaf_hash(20).unwrap();
    old.verify_inclusion(20, &leaf, &tree.inclusion_proof(20, 37).unwrap())
        .unwrap();
    new.verify_inclusion(20, &leaf, &tree.inclusion_proof(20, 100).unwrap())
        .unwrap();
    assert!(
        new.verify_inclusion(20, &leaf, &tree.inclusion_proof(20, 37).unwrap())
            .is_err()
    );
    old.verify_consistency(&new, &tree.consistency_proof(37, 100).unwrap())
        .unwrap();
    assert!(
        new.verify_consistency(&old, &tree.consistency_proof(37, 100).unwrap())
            .is_err()
    );
    let other_hash = TreeHead::new(100, tree.root(), time(), Suite::International);
    assert!(matches!(
        old.verify_consistency(&other_hash, &tree.consistency_proof(37, 100).unwrap()),
        Err(LedgerError::SuiteMismatch { .. })
    ));
}
