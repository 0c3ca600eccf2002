//! The one error type of this crate.

use crate::Suite;

/// Everything that can go wrong when decoding keys, opening envelopes or verifying signatures.
///
/// Messages never contain key material, plaintext or associated data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key could not be decoded (wrong length, bad hex, not a PKCS#8/SPKI key of a known suite).
    #[error("bad key encoding: {0}")]
    BadKeyEncoding(&'static str),
    /// The envelope or key belongs to another suite than the key used with it.
    #[error("wrong suite: the key is {expected}, the data is {found}")]
    WrongSuite {
        /// The suite of the key in hand.
        expected: Suite,
        /// The suite the envelope (or wrapped key) names.
        found: Suite,
    },
    /// The envelope is too short or names no known suite.
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),
    /// The envelope's format version is not one this build can read.
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),
    /// Decryption failed: the envelope was altered, or the key or associated data is wrong.
    /// GCM cannot tell these apart, by design.
    #[error("authentication failed: the data was altered, or the key or associated data is wrong")]
    AuthenticationFailed,
    /// The signature does not verify, or is not a well-formed signature of the key's suite.
    #[error("bad signature")]
    BadSignature,
}
