//! Encryption at rest: a data key per record, wrapped by the master key; identities as keyed hashes.

use std::fmt;
use std::sync::{Arc, RwLock};

use fengcun_crypto::{DataKey, KeyWrapper, KeyedHasher, MasterKey, WrappedKey};

use crate::compress;
use crate::error::StoreError;

/// The master key and what is derived from it. Cheap to clone; clones share the key ring, which
/// the store completes when it opens (a rotated database's index key, the other generation's
/// master while a rotation runs: `sql/keyring.rs`).
#[derive(Clone)]
pub struct Keys {
    /// The master key this process was given.
    configured: Arc<MasterKey>,
    state: Arc<RwLock<Arc<KeyState>>>,
}

/// What the keys derive from: the index key (the first master key of the database, whose keyed
/// hashes index persons, contents and notices for good) and the masters that wrap record keys.
struct KeyState {
    index: Arc<MasterKey>,
    // Derived once: a batch hashes every identity and unwraps every record key it touches.
    person_hasher: KeyedHasher,
    ack_hasher: KeyedHasher,
    content_hasher: KeyedHasher,
    event_id_hasher: KeyedHasher,
    document_hasher: KeyedHasher,
    /// The first wraps new keys; every one is tried to unwrap (during a rotation, the old master's
    /// and the new one's).
    wrappers: Vec<KeyWrapper>,
    /// The master of the first wrapper.
    wrapping: Arc<MasterKey>,
}

impl KeyState {
    fn new(index: Arc<MasterKey>, wrapping: &[&MasterKey]) -> Self {
        Self {
            wrapping: Arc::new(wrapping[0].clone()),
            person_hasher: index.keyed_hasher("fengcun/person"),
            ack_hasher: index.keyed_hasher("fengcun/notice-ack"),
            content_hasher: index.keyed_hasher("fengcun/event-content"),
            event_id_hasher: index.keyed_hasher("fengcun/event-id"),
            document_hasher: index.keyed_hasher("fengcun/document-number"),
            wrappers: wrapping.iter().map(|m| m.key_wrapper()).collect(),
            index,
        }
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(redacted)")
    }
}

impl Keys {
    pub fn new(master: MasterKey) -> Self {
        let master = Arc::new(master);
        let state = KeyState::new(master.clone(), &[&master]);
        Self {
            configured: master,
            state: Arc::new(RwLock::new(Arc::new(state))),
        }
    }

    fn state(&self) -> Arc<KeyState> {
        match self.state.read() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The master key this process was given (its generation is found in the key ring).
    pub(crate) fn configured(&self) -> &MasterKey {
        &self.configured
    }

    /// Puts the ring the database holds in force: hashes under `index`, new record keys wrapped
    /// under `wrapping[0]`, and every one of `wrapping` tried to open a wrapped key.
    pub(crate) fn set_ring(&self, index: MasterKey, wrapping: &[&MasterKey]) {
        let state = Arc::new(KeyState::new(Arc::new(index), wrapping));
        match self.state.write() {
            Ok(mut current) => *current = state,
            Err(poisoned) => *poisoned.into_inner() = state,
        }
    }

    /// The index key (the database's first master key, which every keyed hash is made with).
    pub(crate) fn index_key(&self) -> MasterKey {
        (*self.state().index).clone()
    }

    /// The master new record keys are wrapped under.
    pub(crate) fn wrapping_key(&self) -> MasterKey {
        (*self.state().wrapping).clone()
    }

    /// The suite of the master key: the audit log's tree hash follows it.
    pub fn suite(&self) -> fengcun_crypto::Suite {
        self.state().index.suite()
    }

    /// The pseudonymous key of a person: a keyed hash of `id:<number>`, so that the identity
    /// number itself is never stored in an index and cannot be recovered without the master key.
    pub fn person_key(&self, identity: &str) -> String {
        let digest = self.state().person_hasher.hash(identity.as_bytes());
        fengcun_crypto::hex(&digest)
    }

    /// What the database keeps to recognise this master key: a keyed hash of a label no identity
    /// number can be, so it reveals nothing of the key.
    pub fn check_value(&self) -> String {
        self.person_key("fengcun/master-key-check")
    }

    /// The token a receiver acknowledges a notice with: a keyed hash of the notice number, so it
    /// needs no storage and cannot be guessed without the master key.
    pub fn ack_token(&self, notice_id: &str) -> String {
        self.state()
            .ack_hasher
            .hash(notice_id.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn new_record_key(&self, person_key: &str, case_code: &str) -> (DataKey, Vec<u8>) {
        let state = self.state();
        let key = DataKey::generate(state.index.suite());
        let wrapped = state.wrappers[0].wrap(&key, &context(person_key, case_code));
        (key, wrapped.0)
    }

    pub fn record_key(
        &self,
        wrapped: &[u8],
        person_key: &str,
        case_code: &str,
    ) -> Result<DataKey, StoreError> {
        unwrap_any(
            &self.state().wrappers,
            wrapped,
            &context(person_key, case_code),
        )
        .map_err(|e| StoreError::Crypto(format!("record key of case {case_code}: {e}")))
    }

    /// Seals a small detail kept outside any record (a person's enrolled name, whom a request is
    /// about) under a fresh data key wrapped by the master key; `context` (the row it belongs to)
    /// is authenticated, so a sealed detail cannot be moved to another row.
    pub fn seal_detail(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let state = self.state();
        let key = DataKey::generate(state.index.suite());
        let wrapped = state.wrappers[0]
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
        let key = unwrap_any(
            &self.state().wrappers,
            wrapped,
            detail_context(context).as_bytes(),
        )
        .map_err(|e| StoreError::Crypto(format!("key of {context}: {e}")))?;
        open(&key, envelope, context)
    }

    /// A hash for idempotency checks and tokens (not secret-keyed: collisions only matter).
    pub fn hash(&self, data: &[u8]) -> Vec<u8> {
        fengcun_crypto::hash(self.suite(), data).to_vec()
    }

    /// What `events.content_hash` holds for an event's canonical JSON, to tell a duplicate from a
    /// different event under a used key: a keyed MAC (HMAC-SM3, or HMAC-SHA-256, under a sub-key of
    /// the master key) cut to [`CONTENT_MAC_BYTES`], never a plain hash — identity numbers have
    /// little entropy, so a plain hash beside the ciphertext would let a copy of the database
    /// confirm a guessed event. Databases made before hold the plain hash (32 bytes) or the whole
    /// MAC after [`CONTENT_MAC_V1`] (33 bytes); both are still compared ([`Self::same_content`])
    /// and replaced when the store opens (migration 17's conversion). Events stored between
    /// migration 17 and this release keep the MAC cut to [`PREVIOUS_MAC_BYTES`], compared as such.
    pub fn content_mac(&self, canonical: &[u8]) -> Vec<u8> {
        self.state().content_hasher.hash(canonical)[..CONTENT_MAC_BYTES].to_vec()
    }

    /// Whether a stored `content_hash` is that of `canonical`, whose MAC is `mac`: compared as a
    /// MAC; for a row from before migration 17 as what it was: a plain hash of 32 bytes, or the
    /// whole MAC after [`CONTENT_MAC_V1`] (33 bytes).
    pub(crate) fn same_content(&self, stored: &[u8], mac: &[u8], canonical: &[u8]) -> bool {
        match stored.len() {
            LEGACY_HASH_BYTES => stored == fengcun_crypto::hash(self.suite(), canonical),
            V1_MAC_BYTES => stored == self.content_mac_v1(canonical),
            PREVIOUS_MAC_BYTES => stored == self.content_mac_previous(canonical),
            _ => stored == mac,
        }
    }

    /// The content MAC as stored from migration 17 to migration 27: [`PREVIOUS_MAC_BYTES`] of it.
    pub(crate) fn content_mac_previous(&self, canonical: &[u8]) -> Vec<u8> {
        self.state().content_hasher.hash(canonical)[..PREVIOUS_MAC_BYTES].to_vec()
    }

    /// The content MAC as stored before migration 17: [`CONTENT_MAC_V1`], then the whole MAC.
    pub(crate) fn content_mac_v1(&self, canonical: &[u8]) -> Vec<u8> {
        let mut mac = Vec::with_capacity(V1_MAC_BYTES);
        mac.push(CONTENT_MAC_V1);
        mac.extend_from_slice(&self.state().content_hasher.hash(canonical));
        mac
    }

    /// What `events.event_id` holds for an event sent by `agency` under `idempotency_key`: a keyed
    /// MAC of the two (the agency code length-prefixed, so no two pairs share an input), cut to
    /// [`EVENT_ID_BYTES`], under a sub-key of the index key — so it never changes with a key
    /// rotation. The idempotency key itself (which often holds an identity number) is kept only in
    /// the sealed body; a copy of the database cannot confirm a guessed key against this value.
    pub fn event_id(&self, agency: &str, idempotency_key: &str) -> Vec<u8> {
        let mut input = Vec::with_capacity(8 + agency.len() + idempotency_key.len());
        input.extend_from_slice(&(agency.len() as u64).to_be_bytes());
        input.extend_from_slice(agency.as_bytes());
        input.extend_from_slice(idempotency_key.as_bytes());
        self.state().event_id_hasher.hash(&input)[..EVENT_ID_BYTES].to_vec()
    }

    /// What `case_documents.document_mac` holds for the document number (案号) `agency` gave a
    /// case: a keyed MAC of the number under a sub-key of the index key (so the same for ever, as
    /// [`Self::event_id`]), cut to [`EVENT_ID_BYTES`]. A judgment's number is public; kept in
    /// plaintext, it would join a pseudonymous record to its published judgment.
    pub fn document_mac(&self, document_number: &str) -> Vec<u8> {
        self.state()
            .document_hasher
            .hash(document_number.as_bytes())[..EVENT_ID_BYTES]
            .to_vec()
    }

    /// A wrapped record key (or a sealed detail's) wrapped again under the master that wraps new
    /// keys; `None` when it is wrapped under that master already.
    pub(crate) fn rewrap(
        &self,
        wrapped: &[u8],
        context: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let state = self.state();
        let wrapped = WrappedKey(wrapped.to_vec());
        if state.wrappers[0].unwrap(&wrapped, context).is_ok() {
            return Ok(None);
        }
        let key = unwrap_any(&state.wrappers[1..], &wrapped.0, context)
            .map_err(|e| StoreError::Crypto(format!("a key to re-wrap: {e}")))?;
        Ok(Some(state.wrappers[0].wrap(&key, context).0))
    }
}

/// The data key a wrapped key holds, under the first of `wrappers` that opens it.
fn unwrap_any(
    wrappers: &[KeyWrapper],
    wrapped: &[u8],
    context: &[u8],
) -> Result<DataKey, fengcun_crypto::CryptoError> {
    let wrapped = WrappedKey(wrapped.to_vec());
    let mut last = fengcun_crypto::CryptoError::AuthenticationFailed;
    for wrapper in wrappers {
        match wrapper.unwrap(&wrapped, context) {
            Ok(key) => return Ok(key),
            Err(error) => last = error,
        }
    }
    Err(last)
}

pub(crate) fn record_context(person_key: &str, case_code: &str) -> Vec<u8> {
    context(person_key, case_code)
}

pub(crate) fn detail_context_bytes(context: &str) -> Vec<u8> {
    detail_context(context).into_bytes()
}

fn detail_context(context: &str) -> String {
    format!("fengcun/detail/{context}")
}

/// The first byte of a content MAC as stored before migration 17 (then the whole MAC).
pub const CONTENT_MAC_V1: u8 = 1;

/// The length of such a content MAC.
pub(crate) const V1_MAC_BYTES: usize = 33;

/// The length of a content MAC ([`Keys::content_mac`]): 64 bits. It only tells a re-sent event
/// from a different one under a used key, compared with the MAC of the event sent again: a changed
/// event is taken for its re-send one time in 2^64, and nobody without the key can make one that
/// is (it is a MAC, not a checksum). Its bytes are kept once an event (`event_ids`), so each byte
/// counts: 128 bits cost 33 bytes a record more (docs/storage.md, "Bytes per record").
pub const CONTENT_MAC_BYTES: usize = 8;

/// The length of a content MAC as stored from migration 17 to migration 27: 128 bits.
pub(crate) const PREVIOUS_MAC_BYTES: usize = 16;

/// The length of an event's identity MAC ([`Keys::event_id`]): 128 bits.
pub const EVENT_ID_BYTES: usize = 16;

/// The length of a content hash from before the MAC: a plain SM3 (or SHA-256) digest.
pub(crate) const LEGACY_HASH_BYTES: usize = 32;

fn context(person_key: &str, case_code: &str) -> Vec<u8> {
    format!("fengcun/record/{person_key}/{case_code}").into_bytes()
}

/// Seals a record's payload with its key, bound to `aad`; compressed first with the dictionary
/// for what `aad` names (`crate::compress`): the cipher and its strength are unchanged.
pub(crate) fn seal(key: &DataKey, plaintext: &[u8], aad: &str) -> Vec<u8> {
    let packed = compress::pack(plaintext, compress::Dictionary::for_context(aad));
    key.seal(&packed, aad.as_bytes())
}

/// Opens what [`seal`] sealed (or what was sealed before payloads were compressed).
pub(crate) fn open(key: &DataKey, envelope: &[u8], aad: &str) -> Result<Vec<u8>, StoreError> {
    let packed = key
        .open(envelope, aad.as_bytes())
        .map_err(|e| StoreError::Corrupt(format!("{aad}: {e}")))?;
    compress::unpack(packed).map_err(|e| StoreError::Corrupt(format!("{aad}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengcun_crypto::Suite;

    const FACTS_TEXT: &str = r#"{"disposition":"penalized","kind":"public_security_violation","offence_date":"2021-06-01","person":{"birth_date":"1983-03-19","id_number":"500103198303190032","name":"王芳"}}"#;
    const FACTS: &[u8] = FACTS_TEXT.as_bytes();

    #[test]
    fn payloads_sealed_before_compression_still_open() {
        let key = DataKey::generate(Suite::Sm);
        let legacy = key.seal(FACTS, b"facts/650102-2021-9000000001");
        let opened = open(&key, &legacy, "facts/650102-2021-9000000001").unwrap();
        assert_eq!(opened, FACTS);
    }

    #[test]
    fn sealed_payloads_are_compressed_and_still_bound_to_their_context() {
        let key = DataKey::generate(Suite::Sm);
        let sealed = seal(&key, FACTS, "facts/650102-2021-9000000001");
        let legacy = key.seal(FACTS, b"facts/650102-2021-9000000001");
        assert!(
            sealed.len() < legacy.len(),
            "{} vs {}",
            sealed.len(),
            legacy.len()
        );
        assert_eq!(
            open(&key, &sealed, "facts/650102-2021-9000000001").unwrap(),
            FACTS
        );
        assert!(open(&key, &sealed, "facts/650102-2021-9000000002").is_err());
    }
}
