//! Symmetric keys: the deployment's master key and the per-record data keys it wraps.

use std::fmt;

use aes_gcm::aead::{Key, KeyInit};
use hmac::{EagerHash, Mac};
use zeroize::Zeroizing;

use crate::envelope::{self, Aes256Gcm, Sm4Gcm};
use crate::{CryptoError, Suite, fill_random};

/// HKDF `info` of the key-wrapping key. Each purpose has its own label, so sub-keys for different
/// purposes are independent even though they come from one master key.
const KEY_WRAP_INFO: &[u8] = b"fengcun-crypto/v1/key-wrap";
/// HKDF `info` prefix of keyed-hash sub-keys; the domain follows it.
const KEYED_HASH_INFO: &[u8] = b"fengcun-crypto/v1/keyed-hash/";

/// The deployment's root secret: 32 random bytes, plus the suite it is used with (default SM).
///
/// It never encrypts data itself. Sub-keys are derived from it with HKDF (over SM3 or SHA-256),
/// one per purpose, so that wrapping keys and computing pseudonymous indexes never share a key,
/// and indexes in different domains cannot be linked to each other.
///
/// `Debug` prints `MasterKey(redacted)`; the material is zeroized on drop.
#[derive(Clone)]
pub struct MasterKey {
    material: Zeroizing<[u8; 32]>,
    suite: Suite,
}

impl MasterKey {
    /// A new key from the operating system's random number generator, for [`Suite::Sm`].
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide randomness.
    pub fn generate() -> MasterKey {
        let mut material = Zeroizing::new([0; 32]);
        fill_random(&mut *material);
        MasterKey {
            material,
            suite: Suite::Sm,
        }
    }

    /// Reads the key from 64 hexadecimal digits (either case; surrounding whitespace, such as a
    /// key file's final newline, is ignored). The suite is [`Suite::Sm`]; see [`Self::with_suite`].
    pub fn from_hex(text: &str) -> Result<MasterKey, CryptoError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(CryptoError::BadKeyEncoding(
                "a master key is 64 hexadecimal digits",
            ));
        }
        let mut material = Zeroizing::new([0; 32]);
        base16ct::mixed::decode(text, &mut *material)
            .map_err(|_| CryptoError::BadKeyEncoding("a master key is 64 hexadecimal digits"))?;
        Ok(MasterKey {
            material,
            suite: Suite::Sm,
        })
    }

    /// The key as 64 lowercase hexadecimal digits, for writing a key file once, at setup.
    /// The caller owns this copy of the secret: write it and drop it.
    pub fn to_hex(&self) -> String {
        base16ct::lower::encode_string(&*self.material)
    }

    /// The suite this key derives sub-keys and wraps data keys with.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The same key material used with another suite. Sub-keys, and so keyed hashes and wrapped
    /// keys, differ between suites.
    pub fn with_suite(mut self, suite: Suite) -> Self {
        self.suite = suite;
        self
    }

    /// Encrypts a data key for storage next to the record it protects. `context` (for example the
    /// record's identifier) is authenticated: the wrapped key only unwraps with the same context,
    /// so wrapped keys cannot be swapped between records.
    ///
    /// The result is an [envelope](DataKey::seal) sealed under a key-wrapping key derived with HKDF
    /// from this master key, whose plaintext is the data key's suite byte followed by its bytes.
    pub fn wrap(&self, key: &DataKey, context: &[u8]) -> WrappedKey {
        self.key_wrapper().wrap(key, context)
    }

    /// Recovers a data key wrapped by [`Self::wrap`] under this master key, suite and `context`.
    pub fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, CryptoError> {
        self.key_wrapper().unwrap(wrapped, context)
    }

    /// Encrypts another master key under this one (a rotation keeps the new key wrapped under the
    /// old, and the old under the new, until every record key is re-wrapped). `context` is
    /// authenticated, as for [`Self::wrap`]; the suite travels with the material.
    pub fn wrap_master(&self, other: &MasterKey, context: &[u8]) -> WrappedKey {
        let mut payload = Zeroizing::new(Vec::with_capacity(33));
        payload.push(other.suite.to_byte());
        payload.extend_from_slice(&*other.material);
        WrappedKey(self.key_wrapping_key().seal(&payload, context))
    }

    /// Recovers a master key wrapped by [`Self::wrap_master`] under this key and `context`.
    pub fn unwrap_master(
        &self,
        wrapped: &WrappedKey,
        context: &[u8],
    ) -> Result<MasterKey, CryptoError> {
        let payload = Zeroizing::new(self.key_wrapping_key().open(&wrapped.0, context)?);
        let (&suite, bytes) = payload
            .split_first()
            .ok_or(CryptoError::Malformed("empty wrapped master key"))?;
        let suite = Suite::from_byte(suite).ok_or(CryptoError::Malformed("unknown suite byte"))?;
        let mut material = Zeroizing::new([0; 32]);
        if bytes.len() != material.len() {
            return Err(CryptoError::Malformed(
                "wrapped master key of the wrong length",
            ));
        }
        material.copy_from_slice(bytes);
        Ok(MasterKey { material, suite })
    }

    /// A public name of this key (16 hex digits): a keyed hash of a fixed label under the key,
    /// which tells keys apart without revealing anything of them.
    pub fn key_id(&self) -> String {
        self.keyed_hash("fengcun/master-key-id", b"")
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A keyed hash of `data`: HMAC-SM3 (or HMAC-SHA-256) under a sub-key derived with HKDF from
    /// this master key and `domain`.
    ///
    /// Used as a pseudonymous index, e.g. of identity numbers: equal inputs give equal outputs, so
    /// records can be looked up, but without the master key the index cannot be reversed by
    /// hashing all 10^17 candidate identity numbers, as a plain hash could. Different domains
    /// (say `"id-number"` and `"phone"`) give unrelated values.
    pub fn keyed_hash(&self, domain: &str, data: &[u8]) -> [u8; 32] {
        let mut sub_key = Zeroizing::new([0; 32]);
        self.derive(&[KEYED_HASH_INFO, domain.as_bytes()], &mut *sub_key);
        match self.suite {
            Suite::Sm => hmac::<sm3::Sm3>(&*sub_key, data),
            Suite::International => hmac::<sha2::Sha256>(&*sub_key, data),
        }
    }

    /// A hasher with the sub-key for `domain` derived once: what a store hashing every identity of
    /// a batch should hold, rather than deriving the sub-key for each hash. Same results as
    /// [`Self::keyed_hash`].
    pub fn keyed_hasher(&self, domain: &str) -> KeyedHasher {
        let mut sub_key = Zeroizing::new([0; 32]);
        self.derive(&[KEYED_HASH_INFO, domain.as_bytes()], &mut *sub_key);
        KeyedHasher::new(self.suite, &sub_key)
    }

    /// A wrapper with the key-wrapping key derived once; same results as [`Self::wrap`] and
    /// [`Self::unwrap`].
    pub fn key_wrapper(&self) -> KeyWrapper {
        KeyWrapper {
            key: self.key_wrapping_key(),
        }
    }

    /// The data key of this key's suite that wraps other data keys.
    fn key_wrapping_key(&self) -> DataKey {
        let mut key = DataKey::zeroed(self.suite);
        self.derive(&[KEY_WRAP_INFO], key.bytes_mut());
        key
    }

    /// HKDF (RFC 5869) over the suite's hash. No salt: the master key is already uniformly random,
    /// which is the case where RFC 5869 §3.1 allows omitting it.
    fn derive(&self, info: &[&[u8]], out: &mut [u8]) {
        match self.suite {
            Suite::Sm => hkdf::<sm3::Sm3>(&*self.material, info, out),
            Suite::International => hkdf::<sha2::Sha256>(&*self.material, info, out),
        }
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

fn hkdf<D: EagerHash>(ikm: &[u8], info: &[&[u8]], out: &mut [u8]) {
    if hkdf::Hkdf::<D>::new(None, ikm)
        .expand_multi_info(info, out)
        .is_err()
    {
        unreachable!("HKDF expands to 255 hash lengths; sub-keys are at most 32 bytes");
    }
}

fn hmac<D: EagerHash>(key: &[u8], data: &[u8]) -> [u8; 32] {
    finish(keyed::<D>(key), data)
}

/// [`MasterKey::keyed_hash`] with its sub-key derived once, and HMAC keyed with it once: each
/// hash starts from a copy of the keyed state rather than hashing the key's two padded blocks
/// again — half the compressions of an identity's or an event id's MAC, which an import makes
/// for every event (docs/benchmarks.md, "The national import"). The keyed state stands for the
/// sub-key and lives as long as the hasher, as the sub-key did.
pub struct KeyedHasher {
    keyed: Keyed,
}

#[derive(Clone)]
enum Keyed {
    Sm(hmac::Hmac<sm3::Sm3>),
    International(hmac::Hmac<sha2::Sha256>),
}

impl KeyedHasher {
    fn new(suite: Suite, sub_key: &[u8; 32]) -> Self {
        let keyed = match suite {
            Suite::Sm => Keyed::Sm(keyed::<sm3::Sm3>(sub_key)),
            Suite::International => Keyed::International(keyed::<sha2::Sha256>(sub_key)),
        };
        KeyedHasher { keyed }
    }

    pub fn hash(&self, data: &[u8]) -> [u8; 32] {
        match &self.keyed {
            Keyed::Sm(mac) => finish(mac.clone(), data),
            Keyed::International(mac) => finish(mac.clone(), data),
        }
    }

    fn suite(&self) -> Suite {
        match self.keyed {
            Keyed::Sm(_) => Suite::Sm,
            Keyed::International(_) => Suite::International,
        }
    }
}

fn keyed<D: EagerHash>(key: &[u8]) -> hmac::Hmac<D> {
    let Ok(mac) = <hmac::Hmac<D> as KeyInit>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac
}

fn finish<D: EagerHash>(mut mac: hmac::Hmac<D>, data: &[u8]) -> [u8; 32] {
    mac.update(data);
    let mut out = [0; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedHasher({}, redacted)", self.suite())
    }
}

/// [`MasterKey::wrap`] and [`MasterKey::unwrap`] with the key-wrapping key derived once.
pub struct KeyWrapper {
    key: DataKey,
}

impl KeyWrapper {
    pub fn wrap(&self, key: &DataKey, context: &[u8]) -> WrappedKey {
        let bytes = key.bytes();
        let mut payload = Zeroizing::new(Vec::with_capacity(1 + bytes.len()));
        payload.push(key.suite().to_byte());
        payload.extend_from_slice(bytes);
        WrappedKey(self.key.seal(&payload, context))
    }

    pub fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, CryptoError> {
        let payload = Zeroizing::new(self.key.open(&wrapped.0, context)?);
        let (&suite, bytes) = payload
            .split_first()
            .ok_or(CryptoError::Malformed("empty wrapped key"))?;
        let suite = Suite::from_byte(suite).ok_or(CryptoError::Malformed("unknown suite byte"))?;
        let mut key = DataKey::zeroed(suite);
        if bytes.len() != key.bytes().len() {
            return Err(CryptoError::Malformed("wrapped key of the wrong length"));
        }
        key.bytes_mut().copy_from_slice(bytes);
        Ok(key)
    }
}

impl fmt::Debug for KeyWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyWrapper(redacted)")
    }
}

/// A per-record key: 16 bytes for SM4-GCM, 32 for AES-256-GCM.
///
/// One key per record keeps the number of messages per key tiny (see the [envelope](DataKey::seal)
/// format) and lets a record be destroyed by destroying its wrapped key.
///
/// `Debug` prints only the suite; the material is zeroized on drop.
#[derive(Clone)]
pub struct DataKey(Material);

#[derive(Clone)]
enum Material {
    Sm4(Zeroizing<Key<Sm4Gcm>>),
    Aes256(Zeroizing<Key<Aes256Gcm>>),
}

impl DataKey {
    /// A new key from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide randomness.
    pub fn generate(suite: Suite) -> DataKey {
        let mut key = DataKey::zeroed(suite);
        fill_random(key.bytes_mut());
        key
    }

    /// The suite this key encrypts with.
    pub fn suite(&self) -> Suite {
        match self.0 {
            Material::Sm4(_) => Suite::Sm,
            Material::Aes256(_) => Suite::International,
        }
    }

    /// Encrypts `plaintext` with a fresh random nonce; `aad` is authenticated but not encrypted
    /// (and not stored: `open` must be given it again). The result is a self-describing envelope:
    /// version byte, suite byte, 12-byte nonce, ciphertext and 16-byte tag.
    ///
    /// # Panics
    ///
    /// If the operating system cannot provide randomness, or `plaintext` exceeds 64 GiB.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        match &self.0 {
            Material::Sm4(key) => envelope::seal(&Sm4Gcm::new(key), Suite::Sm, plaintext, aad),
            Material::Aes256(key) => {
                envelope::seal(&Aes256Gcm::new(key), Suite::International, plaintext, aad)
            }
        }
    }

    /// Decrypts an envelope made by [`Self::seal`] with this key and the same `aad`.
    ///
    /// Fails if any byte of the envelope was changed, or the key or `aad` differ.
    pub fn open(&self, envelope: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let found = envelope::suite_of(envelope)?;
        if found != self.suite() {
            return Err(CryptoError::WrongSuite {
                expected: self.suite(),
                found,
            });
        }
        match &self.0 {
            Material::Sm4(key) => envelope::open(&Sm4Gcm::new(key), envelope, aad),
            Material::Aes256(key) => envelope::open(&Aes256Gcm::new(key), envelope, aad),
        }
    }

    fn zeroed(suite: Suite) -> DataKey {
        DataKey(match suite {
            Suite::Sm => Material::Sm4(Zeroizing::new(Key::<Sm4Gcm>::default())),
            Suite::International => Material::Aes256(Zeroizing::new(Key::<Aes256Gcm>::default())),
        })
    }

    fn bytes(&self) -> &[u8] {
        match &self.0 {
            Material::Sm4(key) => key.as_slice(),
            Material::Aes256(key) => key.as_slice(),
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Material::Sm4(key) => key.as_mut_slice(),
            Material::Aes256(key) => key.as_mut_slice(),
        }
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({}, redacted)", self.suite())
    }
}

/// A [`DataKey`] encrypted under a [`MasterKey`] ([`MasterKey::wrap`]), in the envelope format.
/// Safe to store and to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey(pub Vec<u8>);
