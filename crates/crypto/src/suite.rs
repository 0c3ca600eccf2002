//! The algorithm suite.

use std::fmt;

/// Which family of algorithms a key belongs to.
///
/// | suite           | encryption  | hash / HKDF / HMAC | signature        |
/// |-----------------|-------------|--------------------|------------------|
/// | `Sm` (default)  | SM4-GCM     | SM3                | SM2 with SM3     |
/// | `International` | AES-256-GCM | SHA-256            | Ed25519          |
///
/// The suite is part of a key's identity: the same master key gives different sub-keys, and so
/// different keyed hashes, under each suite.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    /// China's commercial cryptography (GB/T 32905 SM3, GB/T 32907 SM4, GB/T 32918 SM2).
    #[default]
    Sm,
    /// AES-256-GCM, SHA-256, Ed25519.
    International,
}

impl Suite {
    /// Parses the configuration spelling: `"sm"` or `"international"`.
    pub fn parse(text: &str) -> Option<Suite> {
        match text {
            "sm" => Some(Suite::Sm),
            "international" => Some(Suite::International),
            _ => None,
        }
    }

    /// The configuration spelling, the inverse of [`Suite::parse`].
    pub fn code(self) -> &'static str {
        match self {
            Suite::Sm => "sm",
            Suite::International => "international",
        }
    }

    /// The byte that names the suite inside an envelope.
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Suite::Sm => 1,
            Suite::International => 2,
        }
    }

    /// The inverse of [`Suite::to_byte`].
    pub(crate) fn from_byte(byte: u8) -> Option<Suite> {
        match byte {
            1 => Some(Suite::Sm),
            2 => Some(Suite::International),
            _ => None,
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
