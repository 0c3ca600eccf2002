//! Encryption at rest: a data key per record, wrapped by the master key; identities as keyed hashes.

use std::fmt;
use std::sync::Arc;

use fengcun_crypto::{DataKey, KeyWrapper, KeyedHasher, MasterKey, WrappedKey};

use crate::error::StoreError;

/// The master key and what is derived from it. Cheap to clone.
#[derive(Clone)]
pub struct Keys {
    master: Arc<MasterKey>,
    // Derived once: a batch hashes every identity and unwraps every record key it touches.
    person_hasher: Arc<KeyedHasher>,
    ack_hasher: Arc<KeyedHasher>,
    content_hasher: Arc<KeyedHasher>,
    wrapper: Arc<KeyWrapper>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(redacted)")
    }
}

impl Keys {
    pub fn new(master: MasterKey) -> Self {
        Self {
            person_hasher: Arc::new(master.keyed_hasher("fengcun/person")),
            ack_hasher: Arc::new(master.keyed_hasher("fengcun/notice-ack")),
            content_hasher: Arc::new(master.keyed_hasher("fengcun/event-content")),
            wrapper: Arc::new(master.key_wrapper()),
            master: Arc::new(master),
        }
    }

    /// The suite of the master key: the audit log's tree hash follows it.
    pub fn suite(&self) -> fengcun_crypto::Suite {
        self.master.suite()
    }

    /// The pseudonymous key of a person: a keyed hash of `id:<number>`, so that the identity
    /// number itself is never stored in an index and cannot be recovered without the master key.
    pub fn person_key(&self, identity: &str) -> String {
        let digest = self.person_hasher.hash(identity.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// What the database keeps to recognise this master key: a keyed hash of a label no identity
    /// number can be, so it reveals nothing of the key.
    pub fn check_value(&self) -> String {
        self.person_key("fengcun/master-key-check")
    }

    /// The token a receiver acknowledges a notice with: a keyed hash of the notice number, so it
    /// needs no storage and cannot be guessed without the master key.
    pub fn ack_token(&self, notice_id: &str) -> String {
        self.ack_hasher
            .hash(notice_id.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn new_record_key(&self, person_key: &str, case_code: &str) -> (DataKey, Vec<u8>) {
        let key = DataKey::generate(self.master.suite());
        let wrapped = self.wrapper.wrap(&key, &context(person_key, case_code));
        (key, wrapped.0)
    }

    pub fn record_key(
        &self,
        wrapped: &[u8],
        person_key: &str,
        case_code: &str,
    ) -> Result<DataKey, StoreError> {
        self.wrapper
            .unwrap(
                &WrappedKey(wrapped.to_vec()),
                &context(person_key, case_code),
            )
            .map_err(|e| StoreError::Crypto(format!("record key of case {case_code}: {e}")))
    }

    /// Seals a small detail kept outside any record (a person's enrolled name, whom a request is
    /// about) under a fresh data key wrapped by the master key; `context` (the row it belongs to)
    /// is authenticated, so a sealed detail cannot be moved to another row.
    pub fn seal_detail(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let key = DataKey::generate(self.master.suite());
        let wrapped = self
            .wrapper
            .wrap(&key, detail_context(context).as_bytes())
            .0;
        let length = u16::try_from(wrapped.len()).unwrap_or(u16::MAX);
        let mut sealed = length.to_be_bytes().to_vec();
        sealed.extend_from_slice(&wrapped);
        sealed.extend(key.seal(plaintext, context.as_bytes()));
        sealed
    }

    /// Opens what [`Self::seal_detail`] sealed with the same `context`.
    pub fn open_detail(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        let corrupt = || StoreError::Corrupt(format!("sealed detail of {context}"));
        let (length, rest) = sealed.split_at_checked(2).ok_or_else(corrupt)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let (wrapped, envelope) = rest.split_at_checked(length).ok_or_else(corrupt)?;
        let key = self
            .wrapper
            .unwrap(
                &WrappedKey(wrapped.to_vec()),
                detail_context(context).as_bytes(),
            )
            .map_err(|e| StoreError::Crypto(format!("key of {context}: {e}")))?;
        open(&key, envelope, context)
    }

    /// A hash for idempotency checks and tokens (not secret-keyed: collisions only matter).
    pub fn hash(&self, data: &[u8]) -> Vec<u8> {
        fengcun_crypto::hash(self.master.suite(), data).to_vec()
    }

    /// What `events.content_hash` holds for an event's canonical JSON, to tell a duplicate from a
    /// different event under a used key: a keyed MAC (HMAC-SM3, or HMAC-SHA-256, under a sub-key of
    /// the master key), never a plain hash — most of an event sits in clear columns and identity
    /// numbers have little entropy, so a plain hash beside the ciphertext would let a copy of the
    /// database confirm a guessed event. Prefixed with [`CONTENT_MAC_V1`], which tells it from the
    /// plain hashes of databases made before (32 bytes, rewritten when the store opens).
    pub fn content_mac(&self, canonical: &[u8]) -> Vec<u8> {
        let mut mac = Vec::with_capacity(33);
        mac.push(CONTENT_MAC_V1);
        mac.extend_from_slice(&self.content_hasher.hash(canonical));
        mac
    }

    /// Whether a stored `content_hash` is that of `canonical`, whose MAC is `mac`: compared as a
    /// MAC, or, for a row a server from before the MAC wrote (a plain hash of 32 bytes, until the
    /// next opening of the store rewrites it), as the plain hash it was.
    pub(crate) fn same_content(&self, stored: &[u8], mac: &[u8], canonical: &[u8]) -> bool {
        if stored.len() == LEGACY_HASH_BYTES {
            stored == fengcun_crypto::hash(self.master.suite(), canonical)
        } else {
            stored == mac
        }
    }
}

fn detail_context(context: &str) -> String {
    format!("fengcun/detail/{context}")
}

/// The first byte of a content MAC.
pub const CONTENT_MAC_V1: u8 = 1;

/// The length of a content hash from before the MAC: a plain SM3 (or SHA-256) digest.
pub(crate) const LEGACY_HASH_BYTES: usize = 32;

fn context(person_key: &str, case_code: &str) -> Vec<u8> {
    format!("fengcun/record/{person_key}/{case_code}").into_bytes()
}

pub(crate) fn seal(key: &DataKey, plaintext: &[u8], aad: &str) -> Vec<u8> {
    key.seal(plaintext, aad.as_bytes())
}

pub(crate) fn open(key: &DataKey, envelope: &[u8], aad: &str) -> Result<Vec<u8>, StoreError> {
    key.open(envelope, aad.as_bytes())
        .map_err(|e| StoreError::Corrupt(format!("{aad}: {e}")))
}
