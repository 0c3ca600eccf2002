//! Tree heads: what a signature commits to, how it is signed, and the text an outside party keeps.

use fengcun_crypto::{Signature, SigningKey, Suite, VerifyingKey};
use jiff::Timestamp;

use crate::{Hash, LedgerError, verify_consistency, verify_inclusion};

/// The fixed prefix of a tree head's signed bytes and the `format` of its export.
pub const TREE_HEAD_FORMAT: &str = "fengcun-tree-head/v1";

/// The length of [`TreeHead::to_bytes`]: prefix (20) + suite (1) + size (8) + time (8) + root (32).
pub const TREE_HEAD_BYTES: usize = 69;

/// The state of the log at one moment: its size, its root, when, and which hash.
///
/// The time is a [`jiff::Timestamp`] kept to the millisecond: it is stored and signed as whole
/// milliseconds since 1970-01-01T00:00:00Z (Unix time, no leap seconds), and [`TreeHead::new`]
/// truncates anything finer, so a head read back equals the head written. The time is passed in:
/// this crate has no clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    size: u64,
    root: Hash,
    timestamp_ms: i64,
    suite: Suite,
}

impl TreeHead {
    /// A head for a tree of `size` leaves with root `root` under `suite`'s hash, at `time`
    /// (truncated to the millisecond).
    pub fn new(size: u64, root: Hash, time: Timestamp, suite: Suite) -> TreeHead {
        TreeHead {
            size,
            root,
            timestamp_ms: time.as_millisecond(),
            suite,
        }
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle tree hash of the first `size` entries.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// When the head was made.
    pub fn time(&self) -> Timestamp {
        // `timestamp_ms` always comes from a `Timestamp` (constructor) or was checked (decoders).
        Timestamp::from_millisecond(self.timestamp_ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// When the head was made, in milliseconds since the Unix epoch (the signed value).
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }

    /// The suite whose hash builds the tree (SM3 for `Sm`, SHA-256 for `International`).
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The bytes a signature commits to, 69 of them, fixed layout, integers big-endian:
    ///
    /// | offset | length | content                                                   |
    /// |--------|--------|-----------------------------------------------------------|
    /// | 0      | 20     | ASCII `fengcun-tree-head/v1` ([`TREE_HEAD_FORMAT`])       |
    /// | 20     | 1      | tree hash: `0x01` SM3, `0x02` SHA-256                     |
    /// | 21     | 8      | size, unsigned                                            |
    /// | 29     | 8      | time, milliseconds since 1970-01-01T00:00:00Z, signed      |
    /// | 37     | 32     | root                                                      |
    ///
    /// The prefix names the format and its version, so that a signature over a tree head can
    /// never be taken for a signature over anything else the same key signs.
    pub fn to_bytes(&self) -> [u8; TREE_HEAD_BYTES] {
        let mut out = [0u8; TREE_HEAD_BYTES];
        out[..20].copy_from_slice(TREE_HEAD_FORMAT.as_bytes());
        out[20] = suite_byte(self.suite);
        out[21..29].copy_from_slice(&self.size.to_be_bytes());
        out[29..37].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        out[37..].copy_from_slice(&self.root.0);
        out
    }

    /// The inverse of [`TreeHead::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<TreeHead, LedgerError> {
        let bytes: &[u8; TREE_HEAD_BYTES] = bytes
            .try_into()
            .map_err(|_| LedgerError::MalformedHead("a tree head is 69 bytes"))?;
        if &bytes[..20] != TREE_HEAD_FORMAT.as_bytes() {
            return Err(LedgerError::MalformedHead(
                "not a fengcun-tree-head/v1 tree head",
            ));
        }
        let suite =
            suite_from_byte(bytes[20]).ok_or(LedgerError::MalformedHead("unknown tree hash"))?;
        let mut size = [0u8; 8];
        size.copy_from_slice(&bytes[21..29]);
        let mut time = [0u8; 8];
        time.copy_from_slice(&bytes[29..37]);
        let mut root = [0u8; 32];
        root.copy_from_slice(&bytes[37..]);
        let timestamp_ms = i64::from_be_bytes(time);
        check_time(timestamp_ms)?;
        Ok(TreeHead {
            size: u64::from_be_bytes(size),
            root: Hash(root),
            timestamp_ms,
            suite,
        })
    }

    /// Signs this head with `key` (SM2 or Ed25519, independent of the tree hash).
    pub fn sign(self, key: &SigningKey) -> SignedTreeHead {
        SignedTreeHead {
            signature: key.sign(&self.to_bytes()),
            key_suite: key.suite(),
            head: self,
        }
    }

    /// Checks that entry `index`, whose leaf hash is `leaf_hash`, is in the tree of this head.
    pub fn verify_inclusion(
        &self,
        index: u64,
        leaf_hash: &Hash,
        proof: &[Hash],
    ) -> Result<(), LedgerError> {
        verify_inclusion(self.suite, index, self.size, leaf_hash, proof, &self.root)
    }

    /// Checks that `newer`'s tree extends this head's tree.
    pub fn verify_consistency(&self, newer: &TreeHead, proof: &[Hash]) -> Result<(), LedgerError> {
        if newer.suite != self.suite {
            return Err(LedgerError::SuiteMismatch {
                expected: self.suite,
                found: newer.suite,
            });
        }
        verify_consistency(
            self.suite,
            self.size,
            newer.size,
            &self.root,
            &newer.root,
            proof,
        )
    }
}

/// A tree head with the log's signature over [`TreeHead::to_bytes`].
///
/// # Export format
///
/// One line of JSON (no line break inside, none at the end), fields in this order:
///
/// ```text
/// {"format":"fengcun-tree-head/v1","hash":"sm3","size":8,"timestamp_ms":1717200000000,
///  "time":"2024-06-01T00:00:00.000Z","root":"<64 lower-case hex digits>",
///  "signature_algorithm":"sm2","signature":"<base64url, no padding>"}
/// ```
///
/// (shown here on three lines). `hash` is `sm3` or `sha256`; `signature_algorithm` is `sm2` (with
/// SM3 and the default distinguishing ID, signature `r ‖ s`) or `ed25519`; `time` repeats
/// `timestamp_ms` for people and must agree with it. A file of heads has one head per line.
///
/// Reading is strict: the text must be exactly what [`SignedTreeHead::to_json`] writes for the
/// head it describes, so that any altered byte is refused, either when reading or when verifying
/// the signature, even where JSON itself would not care (spacing, letter case of hex, field
/// order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    head: TreeHead,
    signature: Signature,
    key_suite: Suite,
}

impl SignedTreeHead {
    /// Checks the signature with `key` and returns the head it covers.
    pub fn verify(&self, key: &VerifyingKey) -> Result<&TreeHead, LedgerError> {
        if key.suite() != self.key_suite {
            return Err(LedgerError::SignatureSuiteMismatch {
                head: self.key_suite,
                key: key.suite(),
            });
        }
        key.verify(&self.head.to_bytes(), &self.signature)
            .map_err(|_| LedgerError::BadSignature)?;
        Ok(&self.head)
    }

    /// The head, whose signature has not been checked by this call: use [`SignedTreeHead::verify`]
    /// for anything received from elsewhere.
    pub fn unverified_head(&self) -> &TreeHead {
        &self.head
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The suite of the signing key: `Sm` for SM2, `International` for Ed25519.
    pub fn key_suite(&self) -> Suite {
        self.key_suite
    }

    /// Puts a stored head and its signature back together (from the store's columns).
    pub fn from_parts(head: TreeHead, signature: Signature, key_suite: Suite) -> SignedTreeHead {
        SignedTreeHead {
            head,
            signature,
            key_suite,
        }
    }

    /// The export line (see the type's documentation).
    pub fn to_json(&self) -> String {
        let head = &self.head;
        format!(
            concat!(
                r#"{{"format":"{format}","hash":"{hash}","size":{size},"timestamp_ms":{ms},"#,
                r#""time":"{time:.3}","root":"{root}","signature_algorithm":"{alg}","#,
                r#""signature":"{sig}"}}"#
            ),
            format = TREE_HEAD_FORMAT,
            hash = hash_name(head.suite),
            size = head.size,
            ms = head.timestamp_ms,
            time = head.time(),
            root = head.root,
            alg = signature_name(self.key_suite),
            sig = self.signature.to_base64url(),
        )
    }

    /// Reads an export line, strictly (see the type's documentation). Does not check the
    /// signature: call [`SignedTreeHead::verify`].
    pub fn from_json(line: &str) -> Result<SignedTreeHead, LedgerError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Export<'a> {
            format: &'a str,
            hash: &'a str,
            size: u64,
            timestamp_ms: i64,
            #[serde(rename = "time")]
            _time: &'a str,
            root: &'a str,
            signature_algorithm: &'a str,
            signature: &'a str,
        }
        let export: Export<'_> = serde_json::from_str(line)
            .map_err(|_| LedgerError::MalformedHead("not a tree head export line"))?;
        if export.format != TREE_HEAD_FORMAT {
            return Err(LedgerError::MalformedHead(
                "format is not fengcun-tree-head/v1",
            ));
        }
        let suite = match export.hash {
            "sm3" => Suite::Sm,
            "sha256" => Suite::International,
            _ => return Err(LedgerError::MalformedHead("hash is not sm3 or sha256")),
        };
        let key_suite = match export.signature_algorithm {
            "sm2" => Suite::Sm,
            "ed25519" => Suite::International,
            _ => {
                return Err(LedgerError::MalformedHead(
                    "signature_algorithm is not sm2 or ed25519",
                ));
            }
        };
        check_time(export.timestamp_ms)?;
        let head = TreeHead {
            size: export.size,
            root: Hash::from_hex(export.root)?,
            timestamp_ms: export.timestamp_ms,
            suite,
        };
        let signature = Signature::from_base64url(export.signature)
            .map_err(|_| LedgerError::MalformedHead("signature is not base64url"))?;
        let signed = SignedTreeHead {
            head,
            signature,
            key_suite,
        };
        if signed.to_json() != line {
            return Err(LedgerError::NonCanonicalHead);
        }
        Ok(signed)
    }

    /// Reads a file of export lines, one head per line; empty lines are refused except one at
    /// the end (the file's final line break). The error names the line (from 1).
    pub fn parse_lines(text: &str) -> Result<Vec<SignedTreeHead>, LedgerError> {
        let body = text.strip_suffix('\n').unwrap_or(text);
        if body.is_empty() {
            return Ok(Vec::new());
        }
        body.split('\n')
            .enumerate()
            .map(|(i, line)| {
                SignedTreeHead::from_json(line).map_err(|err| LedgerError::InHeadFile {
                    line: i + 1,
                    source: Box::new(err),
                })
            })
            .collect()
    }
}

fn check_time(ms: i64) -> Result<(), LedgerError> {
    Timestamp::from_millisecond(ms)
        .map(|_| ())
        .map_err(|_| LedgerError::MalformedHead("time out of range"))
}

/// The byte that names the tree hash in [`TreeHead::to_bytes`] (the values of
/// `fengcun_crypto`'s envelopes).
fn suite_byte(suite: Suite) -> u8 {
    match suite {
        Suite::Sm => 1,
        Suite::International => 2,
    }
}

fn suite_from_byte(byte: u8) -> Option<Suite> {
    match byte {
        1 => Some(Suite::Sm),
        2 => Some(Suite::International),
        _ => None,
    }
}

fn hash_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Sm => "sm3",
        Suite::International => "sha256",
    }
}

fn signature_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Sm => "sm2",
        Suite::International => "ed25519",
    }
}
