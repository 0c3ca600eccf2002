//! The one error type of this crate.

use fengcun_crypto::Suite;

/// Everything that can stop a certificate from being issued, read or verified.
///
/// An expired certificate is not an error: its signature is good, and [`crate::Validity`] says
/// that it is out of date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// A field does not hold what a certificate may hold (issuing or reading).
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// The field, as named in the file format (`person.name`, `result.convictions`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The file is not JSON of the certificate file's shape (syntax, unknown or duplicate field,
    /// wrong type).
    #[error("malformed certificate file: {0}")]
    Malformed(String),
    /// The file parses but is not byte for byte the canonical encoding of what it holds.
    #[error(
        "the certificate file is not in canonical form (whitespace, escapes, field order or \
         encodings differ from what was signed)"
    )]
    NotCanonical,
    /// The token is not one this format can read.
    #[error("malformed token: {0}")]
    MalformedToken(&'static str),
    /// The document (a certificate or a notice) names another algorithm suite than the public
    /// key's.
    #[error("the document is signed with suite {found}, the public key is of suite {expected}")]
    WrongSuite {
        /// The suite of the public key in hand.
        expected: Suite,
        /// The suite the certificate names.
        found: Suite,
    },
    /// The document (a certificate or a notice) names another key than the public key given.
    #[error("the document names signing key {found}, the public key given is {expected}")]
    WrongKey {
        /// The key id of the public key in hand.
        expected: String,
        /// The key id the certificate names.
        found: String,
    },
    /// The signature does not verify: the bytes were altered, or another key signed them.
    #[error("bad signature: the content was altered or was not signed by this key")]
    BadSignature,
    /// The token in the file was not issued with the certificate around it.
    #[error("the token does not belong to this certificate")]
    TokenMismatch,
    /// The token is too long for a QR code.
    #[error("cannot draw the QR code: {0}")]
    QrCode(String),
}
