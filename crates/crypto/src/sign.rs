//! Signatures: SM2 with SM3 (GB/T 32918.2, GM/T 0009) or Ed25519 (RFC 8032).
//!
//! Keys travel as standard PEM so that other tools can read them and an offline verifier can be
//! handed a public key file:
//!
//! - signing keys: PKCS#8 v1 (`-----BEGIN PRIVATE KEY-----`). SM2 keys use the `id-ecPublicKey`
//!   algorithm with the SM2 curve `1.2.156.10197.1.301` as parameter. Both are written byte for
//!   byte as OpenSSL 3 writes them (tested), and OpenSSL's files are read;
//! - verifying keys: SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`);
//! - signatures: 64 raw bytes (SM2 `r ‖ s`, big-endian; Ed25519 `R ‖ S`), base64url for tokens.
//!   SM2's ASN.1 DER form is not used: fixed-length bytes are simpler to carry in compact tokens.
//!
//! SM2 signatures bind the signer's identity through `Z = SM3(ENTL ‖ ID ‖ curve ‖ public key)`.
//! PEM files do not carry the distinguishing ID, so every key here uses the default
//! [`SM2_DISTINGUISHING_ID`] (GM/T 0009), which is what other SM2 tools assume unless told
//! otherwise.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, Verifier as _};
use getrandom::SysRng;
use sm2::elliptic_curve::Generate as _;
use zeroize::Zeroizing;

use crate::{CryptoError, Suite, fill_random};

/// The SM2 distinguishing ID used for every key (the GM/T 0009 default).
pub const SM2_DISTINGUISHING_ID: &str = "1234567812345678";

/// A private signing key: SM2 (with SM3) or Ed25519.
///
/// `Debug` prints only the suite. Ed25519 keys are zeroized on drop; the `sm2` crate's signing key
/// does not zeroize its scalar on drop (its `Drop` is not implemented in sm2 0.14), so an SM2 key
/// may remain in freed memory. Keep signing keys in long-lived processes and load them once.
#[derive(Clone)]
pub struct SigningKey(SigningInner);

#[derive(Clone)]
enum SigningInner {
    Sm2(sm2::dsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl SigningKey {
    /// A new key from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide randomness.
    pub fn generate(suite: Suite) -> SigningKey {
        match suite {
            Suite::Sm => {
                let secret = match sm2::SecretKey::try_generate_from_rng(&mut SysRng) {
                    Ok(secret) => secret,
                    Err(err) => {
                        panic!("the operating system's random number generator failed: {err}")
                    }
                };
                let Ok(key) = sm2_signing_key(&secret) else {
                    unreachable!("a random non-zero scalar is a valid SM2 key");
                };
                key
            }
            Suite::International => {
                let mut seed = Zeroizing::new([0; 32]);
                fill_random(&mut *seed);
                SigningKey(SigningInner::Ed25519(
                    ed25519_dalek::SigningKey::from_bytes(&seed),
                ))
            }
        }
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`); the suite follows from the
    /// key's algorithm (SM2 or Ed25519). Encrypted PKCS#8 is not supported.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, CryptoError> {
        if let Ok(secret) = sm2::SecretKey::from_pkcs8_pem(pem) {
            return sm2_signing_key(&secret);
        }
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey(SigningInner::Ed25519(key)));
        }
        Err(CryptoError::BadKeyEncoding(
            "not a PKCS#8 PEM private key for SM2 or Ed25519",
        ))
    }

    /// Writes the key as PKCS#8 PEM with `\n` line endings. The text is a secret, zeroized when
    /// the returned value is dropped.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        let pem = match &self.0 {
            SigningInner::Sm2(key) => {
                sm2::SecretKey::from(key.as_nonzero_scalar()).to_pkcs8_pem(LineEnding::LF)
            }
            // PKCS#8 v1, without the optional public key that ed25519-dalek would add (v2):
            // OpenSSL 3.0 cannot read v2 Ed25519 keys.
            SigningInner::Ed25519(key) => ed25519::pkcs8::KeypairBytes {
                secret_key: key.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF),
        };
        pem.map_err(|_| CryptoError::BadKeyEncoding("cannot encode the key as PKCS#8"))
    }

    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        match self.0 {
            SigningInner::Sm2(_) => Suite::Sm,
            SigningInner::Ed25519(_) => Suite::International,
        }
    }

    /// Signs `message`. Both algorithms derive their per-signature nonce deterministically from the
    /// key and message (RFC 6979 with HMAC-SM3 for SM2, RFC 8032 for Ed25519), so signing needs no
    /// randomness and a weak random number generator cannot leak the key.
    pub fn sign(&self, message: &[u8]) -> Signature {
        match &self.0 {
            SigningInner::Sm2(key) => {
                let signature: sm2::dsa::Signature = key.sign(message);
                Signature(signature.to_vec())
            }
            SigningInner::Ed25519(key) => Signature(key.sign(message).to_vec()),
        }
    }

    /// The public half, to hand to verifiers.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(match &self.0 {
            SigningInner::Sm2(key) => VerifyingInner::Sm2(key.verifying_key().clone()),
            SigningInner::Ed25519(key) => VerifyingInner::Ed25519(key.verifying_key()),
        })
    }
}

fn sm2_signing_key(secret: &sm2::SecretKey) -> Result<SigningKey, CryptoError> {
    sm2::dsa::SigningKey::new(SM2_DISTINGUISHING_ID, secret)
        .map(|key| SigningKey(SigningInner::Sm2(key)))
        .map_err(|_| CryptoError::BadKeyEncoding("not a valid SM2 private key"))
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, redacted)", self.suite())
    }
}

/// A public verifying key: SM2 (with SM3 and the default distinguishing ID) or Ed25519.
#[derive(Clone)]
pub struct VerifyingKey(VerifyingInner);

#[derive(Clone)]
enum VerifyingInner {
    Sm2(sm2::dsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl VerifyingKey {
    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        match self.0 {
            VerifyingInner::Sm2(_) => Suite::Sm,
            VerifyingInner::Ed25519(_) => Suite::International,
        }
    }

    /// Checks that `signature` is this key's signature of `message`.
    ///
    /// Ed25519 uses strict verification (RFC 8032 §5.1.7 plus rejection of small-order keys and
    /// non-canonical encodings), so a signature has exactly one valid encoding.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let verified = match &self.0 {
            VerifyingInner::Sm2(key) => sm2::dsa::Signature::from_slice(&signature.0)
                .and_then(|signature| key.verify(message, &signature)),
            VerifyingInner::Ed25519(key) => ed25519_dalek::Signature::from_slice(&signature.0)
                .and_then(|signature| key.verify_strict(message, &signature)),
        };
        verified.map_err(|_| CryptoError::BadSignature)
    }

    /// The key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`, `\n` line endings).
    pub fn to_text(&self) -> String {
        let pem = match &self.0 {
            VerifyingInner::Sm2(key) => key.to_public_key_pem(LineEnding::LF),
            VerifyingInner::Ed25519(key) => key.to_public_key_pem(LineEnding::LF),
        };
        match pem {
            Ok(pem) => pem,
            Err(err) => unreachable!("a valid public key always encodes as SPKI: {err}"),
        }
    }

    /// The key as SubjectPublicKeyInfo DER: the bytes inside [`Self::to_text`]'s PEM, what
    /// fingerprints (key ids) are computed over.
    pub fn to_der(&self) -> Vec<u8> {
        let der = match &self.0 {
            VerifyingInner::Sm2(key) => key.to_public_key_der(),
            VerifyingInner::Ed25519(key) => key.to_public_key_der(),
        };
        match der {
            Ok(der) => der.into_vec(),
            Err(err) => unreachable!("a valid public key always encodes as SPKI: {err}"),
        }
    }

    /// Reads SubjectPublicKeyInfo PEM; the suite follows from the key's algorithm.
    pub fn from_text(text: &str) -> Result<VerifyingKey, CryptoError> {
        if let Ok(public) = sm2::PublicKey::from_public_key_pem(text) {
            return sm2::dsa::VerifyingKey::new(SM2_DISTINGUISHING_ID, public)
                .map(|key| VerifyingKey(VerifyingInner::Sm2(key)))
                .map_err(|_| CryptoError::BadKeyEncoding("not a valid SM2 public key"));
        }
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(text) {
            return Ok(VerifyingKey(VerifyingInner::Ed25519(key)));
        }
        Err(CryptoError::BadKeyEncoding(
            "not a SubjectPublicKeyInfo PEM public key for SM2 or Ed25519",
        ))
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (VerifyingInner::Sm2(a), VerifyingInner::Sm2(b)) => {
                a.to_sec1_bytes() == b.to_sec1_bytes() && a.distid() == b.distid()
            }
            (VerifyingInner::Ed25519(a), VerifyingInner::Ed25519(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let public = match &self.0 {
            VerifyingInner::Sm2(key) => base16ct::lower::encode_string(&key.to_sec1_bytes()),
            VerifyingInner::Ed25519(key) => base16ct::lower::encode_string(key.as_bytes()),
        };
        write!(f, "VerifyingKey({}, {public})", self.suite())
    }
}

/// A signature: 64 bytes for both suites (SM2 `r ‖ s`, Ed25519 `R ‖ S`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub Vec<u8>);

impl Signature {
    /// URL-safe base64 without padding (RFC 4648 §5), for compact tokens.
    pub fn to_base64url(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.0)
    }

    /// The inverse of [`Self::to_base64url`]. Whether the bytes are a valid signature is only
    /// known at [`VerifyingKey::verify`].
    pub fn from_base64url(text: &str) -> Result<Signature, CryptoError> {
        Base64UrlUnpadded::decode_vec(text)
            .map(Signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use base64ct::{Base64, Encoding as _};

    use super::*;

    #[test]
    fn der_is_the_body_of_the_pem() {
        for suite in [Suite::Sm, Suite::International] {
            let key = SigningKey::generate(suite).verifying_key();
            let body: String = key
                .to_text()
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect();
            assert_eq!(Base64::decode_vec(&body).ok(), Some(key.to_der()));
            let other = SigningKey::generate(suite).verifying_key();
            assert_ne!(key.to_der(), other.to_der());
        }
    }
}
