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
        match self.suite {
            Suite::Sm => {
                let mut block = [0u8; 65];
                block[0] = 0x01;
                block[1..33].copy_from_slice(&left.0);
                block[33..].copy_from_slice(&right.0);
                self.raw(&block)
            }
            Suite::International => sha256_node(left, right),
        }
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

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const SHA256_H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// `SHA-256(0x01 ‖ left ‖ right)` straight on the compression function: the 65-byte message is
/// always the same two padded blocks (FIPS 180-4 §5.1.1: a `0x80` byte, zeros, the bit length
/// 520 as a 64-bit big-endian integer), so the generic streaming buffer is skipped. With SHA
/// instructions the buffer's bookkeeping is a sizeable share of hashing 65 bytes.
#[inline]
fn sha256_node(left: &Hash, right: &Hash) -> Hash {
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = 0x01;
    blocks[0][1..33].copy_from_slice(&left.0);
    blocks[0][33..].copy_from_slice(&right.0[..31]);
    blocks[1][0] = right.0[31];
    blocks[1][1] = 0x80;
    blocks[1][56..].copy_from_slice(&(65u64 * 8).to_be_bytes());
    let mut state = SHA256_H0;
    sha2::block_api::compress256(&mut state, &blocks);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    Hash(out)
}

/// The largest power of two strictly less than `n` (`n ≥ 2`): RFC 9162's split point `k`.
#[inline]
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-256 node shortcut equals hashing the 65 bytes the ordinary way.
    #[test]
    fn sha256_node_shortcut_equals_the_plain_hash() {
        let hasher = Hasher::new(Suite::International);
        let mut left = Hash([0; 32]);
        let mut right = Hash([0xff; 32]);
        for i in 0..64u8 {
            let mut message = vec![0x01];
            message.extend_from_slice(&left.0);
            message.extend_from_slice(&right.0);
            assert_eq!(hasher.node_hash(&left, &right), hasher.raw(&message));
            left = hasher.raw(&[i]);
            right = hasher.raw(&left.0);
        }
    }

    #[test]
    fn hex_round_trips_and_is_strict() {
        let hash = Hasher::new(Suite::Sm).raw(b"abc");
        assert_eq!(
            hash.to_string(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(Hash::from_hex(&hash.to_hex()), Ok(hash));
        assert_eq!(format!("{hash:?}"), format!("Hash({hash})"));
        assert!(Hash::from_hex(&hash.to_hex().to_uppercase()).is_err());
        assert!(Hash::from_hex(&hash.to_hex()[..62]).is_err());
        assert!(Hash::from_hex(&format!("{}0", hash.to_hex())).is_err());
        assert!(Hash::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(split_point(n), k, "{n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }
}
