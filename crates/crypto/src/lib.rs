//! Cryptography for fengcun: encryption of sealed records, pseudonymous indexes, signatures.
//!
//! China's commercial cryptography (商用密码) is the default: SM4 in GCM mode for encryption,
//! SM3 for hashing and key derivation, SM2 (with SM3) for signatures. The same operations are
//! available over Ed25519 / SHA-256 / AES-256-GCM for deployments that need international
//! algorithms; the choice is a [`Suite`], carried by every key.
//!
//! Nothing here is written by hand: every primitive comes from a RustCrypto crate. This crate
//! only decides how they are combined:
//!
//! - **Envelope encryption.** Each record has its own [`DataKey`]; the data key is stored wrapped
//!   ([`WrappedKey`]) under the deployment's [`MasterKey`]. Erasing a record's wrapped key erases
//!   the record (crypto-shredding), and rotating the master key re-wraps keys, not records.
//! - **Self-describing ciphertexts**: `version (1) ‖ suite (1: SM4-GCM, 2: AES-256-GCM) ‖
//!   nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`, so old data stays readable when the format or
//!   the configured suite changes (the reasons are in `src/envelope.rs`).
//! - **Sub-keys by HKDF**: the master key is never used directly; each purpose (key wrapping, each
//!   keyed-hash domain) gets its own key, so a weakness or leak in one use does not spread.
//! - **Secrets stay quiet**: key types print `…(redacted)` in `Debug`, have no `Display`, and
//!   zeroize their material on drop (the SM2 signing key excepted, see [`SigningKey`]).
//!
//! Randomness comes from the operating system (`getrandom`). If it fails, key generation and
//! sealing panic: continuing without randomness would be worse than stopping.
//!
//! ```
//! use fengcun_crypto::{DataKey, MasterKey, SigningKey};
//!
//! let master = MasterKey::generate(); // Suite::Sm unless `.with_suite(…)`
//! let key = DataKey::generate(master.suite());
//! let sealed = key.seal("记录".as_bytes(), b"record-42");
//! let wrapped = master.wrap(&key, b"record-42"); // store `sealed` and `wrapped`, drop `key`
//!
//! let key = master.unwrap(&wrapped, b"record-42")?;
//! assert_eq!(key.open(&sealed, b"record-42")?, "记录".as_bytes());
//!
//! let signer = SigningKey::generate(master.suite());
//! let signature = signer.sign(b"certificate");
//! signer.verifying_key().verify(b"certificate", &signature)?;
//! # Ok::<(), fengcun_crypto::CryptoError>(())
//! ```

mod envelope;
mod error;
mod keys;
mod sign;
mod suite;

pub use error::CryptoError;
pub use keys::{DataKey, KeyWrapper, KeyedHasher, MasterKey, WrappedKey};
pub use sign::{SM2_DISTINGUISHING_ID, Signature, SigningKey, VerifyingKey};
pub use suite::Suite;

/// Hashes `data` with the suite's hash function: SM3 (GB/T 32905) or SHA-256 (FIPS 180-4).
///
/// Both have 256-bit outputs, so callers can store either in the same column.
pub fn hash(suite: Suite, data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    match suite {
        Suite::Sm => sm3::Sm3::digest(data).into(),
        Suite::International => sha2::Sha256::digest(data).into(),
    }
}

/// `N` bytes from the operating system's generator: for tokens and keys handed to people.
///
/// # Panics
/// If the operating system's generator fails, as key generation does.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

/// `N` random bytes as lower-case hex: an unguessable token or API key.
pub fn random_hex<const N: usize>() -> String {
    hex(&random_bytes::<N>())
}

/// Bytes as lower-case hex: a person key, an event id, a list's binding. One allocation, where
/// formatting each byte made one a byte (an import writes a person key for every event).
pub fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// Fills `buf` from the operating system's random number generator.
///
/// # Panics
///
/// If the operating system cannot provide randomness (see the crate documentation).
fn fill_random(buf: &mut [u8]) {
    if let Err(err) = getrandom::fill(buf) {
        panic!("the operating system's random number generator failed: {err}");
    }
}
