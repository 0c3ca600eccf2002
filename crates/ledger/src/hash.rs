//! Hashes and the RFC 9162 §2.1.1 hashing of leaves and interior nodes.

use std::fmt;
use std::str::FromStr;

use fengcun_crypto::Suite;
use sha2::Digest as _;

use crate::LedgerError;

/// A 32-byte hash: SM3 or SHA-256, both 256 bits. Printed as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Reads exactly 64 hex digits; lower case only, so that a hash has one spelling (an exported
    /// head must not survive an altered byte, not even a changed letter case).
    pub fn from_hex(text: &str) -> Result<Hash, LedgerError> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(LedgerError::BadHex("a hash is 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let (Some(high), Some(low)) = (hex_digit(pair[0]), hex_digit(pair[1])) else {
                return Err(LedgerError::BadHex("not a lower-case hex digit"));
            };
            *byte = (high << 4) | low;
        }
        Ok(Hash(out))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = LedgerError;

    fn from_str(text: &str) -> Result<Hash, LedgerError> {
        Hash::from_hex(text)
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Hash {
        Hash(bytes)
    }
}

/// The tree's hash function for a [`Suite`]: SM3 (`Suite::Sm`, the default) or SHA-256
/// (`Suite::International`), with the domain separation of RFC 9162 §2.1.1 so that no leaf can
/// pass for an interior node:
///
/// - leaf: `HASH(0x00 ‖ data)`;
/// - interior node: `HASH(0x01 ‖ left ‖ right)`;
/// - the empty tree: `HASH()` (the hash of no bytes).
///
/// Hashing allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hasher {
    suite: Suite,
}

impl Hasher {
    /// The hasher of `suite`.
    pub const fn new(suite: Suite) -> Hasher {
        Hasher { suite }
    }

    /// The suite whose hash function this is.
    pub const fn suite(self) -> Suite {
        self.suite
    }

    /// `HASH(0x00 ‖ data)`.
    #[inline]
    pub fn leaf_hash(self, data: &[u8]) -> Hash {
        match self.suite {
            Suite::Sm => {
                let mut h = sm3::Sm3::new();
                h.update([0x00]);
                h.update(data);
                Hash(h.finalize().into())
            }
            Suite::International => {
                let mut h = sha2::Sha256::new();
                h.update([0x00]);
                h.update(data);
                Hash(h.finalize().into())
            }
        }
    }

    /// `HASH(0x01 ‖ left ‖ right)`.
    #[inline]
    pub fn node_hash(self, left: &Hash, right: &Hash) -> Hash {
        let mut block = [0u8; 65];
        block[0] = 0x01;
        block[1..33].copy_from_slice(&left.0);
        block[33..].copy_from_slice(&right.0);
        self.raw(&block)
    }

    /// The root of the empty tree: `HASH()`.
    pub fn empty_root(self) -> Hash {
        self.raw(&[])
    }

    /// The plain hash of `data`, without domain separation (not a tree hash; for baselines).
    #[inline]
    pub fn raw(self, data: &[u8]) -> Hash {
        match self.suite {
            Suite::Sm => Hash(sm3::Sm3::digest(data).into()),
            Suite::International => Hash(sha2::Sha256::digest(data).into()),
        }
    }
}

/// The largest power of two strictly less than `n` (`n ≥ 2`): RFC 9162's split point `k`.
#[inline]
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}
