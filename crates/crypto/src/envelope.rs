//! The envelope: how a ciphertext is laid out in bytes.
//!
//! ```text
//! version (1 byte, = 1) | suite (1 byte: 1 = SM4-GCM, 2 = AES-256-GCM)
//!   | nonce (12 bytes) | ciphertext ‖ tag (16 bytes)
//! ```
//!
//! - **Why GCM.** It is an AEAD: one pass gives confidentiality *and* integrity, so a stored record
//!   cannot be altered or swapped for another without `open` noticing. GCM is specified for both
//!   SM4 (RFC 8998, TLS 1.3's ShangMi suites) and AES (NIST SP 800-38D), so both suites share one
//!   construction.
//! - **Why a version byte.** Sealed records outlive the code that sealed them. A reader refuses a
//!   version it does not know instead of misreading it, and a future format (another nonce size, a
//!   key-committing mode) can be added while version 1 stays readable.
//! - **Why a suite byte.** Switching the configured suite must not strand old records, and a key of
//!   the wrong suite should be reported as such rather than as a generic authentication failure.
//! - **Why random 96-bit nonces.** A counter would need state that survives restarts and replicas;
//!   random nonces need none. NIST SP 800-38D allows 2³² messages per key with random nonces.
//!   A data key seals a handful of messages; the key-wrapping key seals one message per wrapped
//!   data key, so one master key should wrap fewer than ~4 billion data keys before rotation.
//! - The header is authenticated too: the bytes given to GCM as associated data are
//!   `header ‖ aad` (the header has a fixed length, so the concatenation is unambiguous).

use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, AeadCore, Payload};

use crate::{CryptoError, Suite, fill_random};

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag.
pub(crate) type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, U12>;
pub(crate) use aes_gcm::Aes256Gcm;

/// The only format version this build writes and reads.
const VERSION: u8 = 1;
const HEADER_LEN: usize = 2;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Encrypts `plaintext` under `cipher` (a key of `suite`) into a fresh envelope.
///
/// # Panics
///
/// If the OS random number generator fails, or the plaintext exceeds GCM's limit (64 GiB).
pub(crate) fn seal<C>(cipher: &C, suite: Suite, plaintext: &[u8], aad: &[u8]) -> Vec<u8>
where
    C: Aead + AeadCore<NonceSize = U12>,
{
    let header = [VERSION, suite.to_byte()];
    let mut nonce = Array::<u8, U12>::default();
    fill_random(&mut nonce);
    let aad = [&header[..], aad].concat();
    let Ok(ciphertext) = cipher.encrypt(
        &nonce,
        Payload {
            msg: plaintext,
            aad: &aad,
        },
    ) else {
        panic!("plaintext exceeds the 64 GiB that GCM can encrypt under one nonce");
    };
    let mut envelope = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ciphertext.len());
    envelope.extend_from_slice(&header);
    envelope.extend_from_slice(&nonce);
    envelope.extend_from_slice(&ciphertext);
    envelope
}

/// Reads the header and returns the suite the envelope was sealed with.
pub(crate) fn suite_of(envelope: &[u8]) -> Result<Suite, CryptoError> {
    let [version, suite, ..] = envelope else {
        return Err(CryptoError::Malformed("shorter than its header"));
    };
    if *version != VERSION {
        return Err(CryptoError::UnsupportedVersion(*version));
    }
    Suite::from_byte(*suite).ok_or(CryptoError::Malformed("unknown suite byte"))
}

/// Decrypts and authenticates an envelope whose suite the caller has already checked with
/// [`suite_of`].
pub(crate) fn open<C>(cipher: &C, envelope: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    C: Aead + AeadCore<NonceSize = U12>,
{
    if envelope.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Malformed("shorter than header, nonce and tag"));
    }
    let (header, rest) = envelope.split_at(HEADER_LEN);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce = Array::<u8, U12>::try_from(nonce)
        .map_err(|_| CryptoError::Malformed("nonce of the wrong length"))?;
    let aad = [header, aad].concat();
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::AuthenticationFailed)
}
