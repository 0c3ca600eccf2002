//! Compression of what the store seals, before it is sealed (issue 20: bytes on disk).
//!
//! Every sealed payload of a record — an event's canonical JSON, the record's facts, a transition's
//! evidence, a transition's notice facts — is a few hundred bytes of JSON whose keys and much of
//! whose vocabulary (charge names, document-number patterns, the policies' legal bases) repeat from
//! one record to the next. Compressed alone, so small a payload barely shrinks (398 → ~280 bytes for
//! an event); compressed with a zstd dictionary of what such payloads have in common it shrinks
//! about four times (398 → ~95 bytes for an event, 1,035 → ~85 for notice facts; docs/storage.md).
//!
//! The plaintext given to the cipher is then one of:
//!
//! ```text
//! legacy:      the JSON itself (first byte `{`): payloads sealed before compression, read as they are
//! compressed:  0x00 | dictionary (1 byte) | zstd frame (no checksum, no dictionary id: the AEAD
//!              authenticates every byte and the byte before names the dictionary)
//! ```
//!
//! JSON never begins with a NUL byte, so the two cannot be confused. Compression happens before
//! encryption, so the cipher, its keys and its strength are unchanged; only the length of a
//! ciphertext says a little more about the payload's content than before, which matters where an
//! attacker can both choose part of a plaintext and watch the ciphertext's length (CRIME, BREACH) —
//! not the case for records at rest.
//!
//! **Dictionaries are part of the format.** A payload names its dictionary by number, and a
//! dictionary, once shipped, never changes (a test pins each one's digest): a better dictionary is
//! shipped under a new number and the old one stays to read old payloads. The shipped ones
//! (`crates/store/dictionaries/`) were trained with `zstd --train` on payloads of the synthetic
//! generator (`fengcun synth --seed 1`): their content is the formats' keys and code lists' words
//! with synthetic people, no real person's data.

use std::cell::RefCell;
use std::sync::OnceLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::CParameter;

/// The first byte of a compressed payload.
const COMPRESSED: u8 = 0x00;

/// zstd's level: 3 (its default) compresses these payloads within about 10 % of level 19 at a
/// fraction of the time (measured in docs/storage.md).
const LEVEL: i32 = 3;

/// A record's list of events and a transition's evidence with its notice facts are compressed
/// harder: level 5 keeps a list about a sixth smaller than level 3 (its matches reach back across
/// the list's events), an evidence about a fifteenth, at about a third of level 3's speed — still
/// a few microseconds a payload (docs/storage.md).
const HARDER: i32 = 5;

/// The largest payload a frame may declare: far beyond any record's payload, and a bound on what a
/// damaged (or hostile) frame can make the reader allocate.
const MAX_PAYLOAD: u64 = 64 * 1024 * 1024;

/// What a payload is, which picks the dictionary it is compressed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dictionary {
    /// No dictionary: a payload of a kind none was trained for.
    None = 0,
    /// Events' canonical JSON (docs/events.md), version 1.
    Event1 = 1,
    /// A record's facts, and a transition's evidence (the facts and the date), version 1.
    Facts1 = 2,
    /// A transition's notice facts, version 1.
    Notices1 = 3,
    /// An audit entry's detail (JSON, as hashed into its leaf), version 1: compressed, not sealed.
    Audit1 = 4,
    /// A transition's evidence with its notice facts (`sql::records::evidence`, sealed together
    /// since this dictionary): the facts' and the notices' vocabulary in one dictionary (64 KiB).
    Transition1 = 5,
    /// A record's list of events (`crate::record_events`): trained on whole lists, whose later
    /// events repeat much of the first (64 KiB: the lists' vocabulary is wider than one event's).
    Lists1 = 6,
}

const DICTIONARIES: [Dictionary; 7] = [
    Dictionary::None,
    Dictionary::Event1,
    Dictionary::Facts1,
    Dictionary::Notices1,
    Dictionary::Audit1,
    Dictionary::Transition1,
    Dictionary::Lists1,
];

impl Dictionary {
    /// The dictionary for what a sealing context (the associated data `keys::seal` binds a
    /// payload to) seals: the context's first segment names the kind of payload.
    pub(crate) fn for_context(aad: &str) -> Dictionary {
        match aad.split_once('/').map_or(aad, |(kind, _)| kind) {
            // A record's list of events (`crate::record_events`): events too.
            "event" => Dictionary::Event1,
            // Lists sealed before name `Event1` in their byte and are read with it.
            "events" => Dictionary::Lists1,
            "facts" => Dictionary::Facts1,
            // Evidences sealed before name `Facts1` in their byte and are read with it.
            "transition" => Dictionary::Transition1,
            "notices" => Dictionary::Notices1,
            _ => Dictionary::None,
        }
    }

    /// The level payloads of this kind are compressed at.
    fn level(self) -> i32 {
        match self {
            Dictionary::Lists1 | Dictionary::Transition1 => HARDER,
            _ => LEVEL,
        }
    }

    fn from_byte(byte: u8) -> Option<Dictionary> {
        DICTIONARIES.get(usize::from(byte)).copied()
    }

    fn content(self) -> &'static [u8] {
        match self {
            Dictionary::None => &[],
            Dictionary::Event1 => include_bytes!("../dictionaries/event-1.zdict"),
            Dictionary::Facts1 => include_bytes!("../dictionaries/facts-1.zdict"),
            Dictionary::Notices1 => include_bytes!("../dictionaries/notices-1.zdict"),
            Dictionary::Audit1 => include_bytes!("../dictionaries/audit-1.zdict"),
            Dictionary::Transition1 => include_bytes!("../dictionaries/transition-1.zdict"),
            Dictionary::Lists1 => include_bytes!("../dictionaries/lists-1.zdict"),
        }
    }

    /// Prepared once per process: preparing a dictionary costs far more than a payload.
    fn encoder(self) -> &'static EncoderDictionary<'static> {
        static PREPARED: [OnceLock<EncoderDictionary<'static>>; DICTIONARIES.len()] =
            [const { OnceLock::new() }; DICTIONARIES.len()];
        PREPARED[self as usize]
            .get_or_init(|| EncoderDictionary::copy(self.content(), self.level()))
    }

    fn decoder(self) -> &'static DecoderDictionary<'static> {
        static PREPARED: [OnceLock<DecoderDictionary<'static>>; DICTIONARIES.len()] =
            [const { OnceLock::new() }; DICTIONARIES.len()];
        PREPARED[self as usize].get_or_init(|| DecoderDictionary::copy(self.content()))
    }
}

/// Why a payload cannot be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CompressError {
    #[error("compressed with dictionary {0}, which this build does not know")]
    UnknownDictionary(u8),
    #[error("a compressed payload without its frame")]
    Truncated,
    #[error("a frame that does not declare its size, or declares more than {MAX_PAYLOAD} bytes")]
    Size,
    #[error("zstd: {0}")]
    Zstd(String),
}

thread_local! {
    // One compression and one decompression context per thread and dictionary: a context holds a
    // few hundred kilobytes of tables that are costly to set up for every payload.
    static COMPRESSORS: RefCell<Vec<Option<Compressor<'static>>>> =
        RefCell::new((0..DICTIONARIES.len()).map(|_| None).collect());
    static DECOMPRESSORS: RefCell<Vec<Option<Decompressor<'static>>>> =
        RefCell::new((0..DICTIONARIES.len()).map(|_| None).collect());
}

/// The plaintext to seal for `payload`: compressed with `dictionary` when that makes it smaller,
/// the payload as it is otherwise.
pub(crate) fn pack(payload: &[u8], dictionary: Dictionary) -> Vec<u8> {
    let compressed = COMPRESSORS.with(|cell| {
        let mut slots = cell.borrow_mut();
        let slot = &mut slots[dictionary as usize];
        if slot.is_none() {
            *slot = compressor(dictionary).ok();
        }
        let compressor = slot.as_mut()?;
        compressor.compress(payload).ok()
    });
    match compressed {
        // A payload that begins with the marker byte must be stored compressed to stay unambiguous.
        Some(frame) if frame.len() + 2 < payload.len() || payload.first() == Some(&COMPRESSED) => {
            let mut packed = Vec::with_capacity(frame.len() + 2);
            packed.push(COMPRESSED);
            packed.push(dictionary as u8);
            packed.extend_from_slice(&frame);
            packed
        }
        _ => payload.to_vec(),
    }
}

/// The payload `pack` made `packed` from (a legacy payload, never compressed, as it is).
pub(crate) fn unpack(packed: Vec<u8>) -> Result<Vec<u8>, CompressError> {
    if packed.first() != Some(&COMPRESSED) {
        return Ok(packed);
    }
    let (&byte, frame) = packed[1..].split_first().ok_or(CompressError::Truncated)?;
    let dictionary = Dictionary::from_byte(byte).ok_or(CompressError::UnknownDictionary(byte))?;
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= MAX_PAYLOAD => size,
        _ => return Err(CompressError::Size),
    };
    let capacity = usize::try_from(size).map_err(|_| CompressError::Size)?;
    DECOMPRESSORS.with(|cell| {
        let mut slots = cell.borrow_mut();
        let slot = &mut slots[dictionary as usize];
        if slot.is_none() {
            *slot = Some(decompressor(dictionary)?);
        }
        let Some(decompressor) = slot.as_mut() else {
            return Err(CompressError::Truncated);
        };
        decompressor
            .decompress(frame, capacity)
            .map_err(|e| CompressError::Zstd(e.to_string()))
    })
}

fn compressor(dictionary: Dictionary) -> std::io::Result<Compressor<'static>> {
    let mut compressor = match dictionary {
        Dictionary::None => Compressor::new(LEVEL)?,
        _ => Compressor::with_prepared_dictionary(dictionary.encoder())?,
    };
    // The AEAD authenticates the frame, and the byte before it names the dictionary; the frame
    // keeps its content size, which the reader needs to size its buffer.
    compressor.set_parameter(CParameter::ChecksumFlag(false))?;
    compressor.set_parameter(CParameter::DictIdFlag(false))?;
    compressor.set_parameter(CParameter::ContentSizeFlag(true))?;
    Ok(compressor)
}

fn decompressor(dictionary: Dictionary) -> Result<Decompressor<'static>, CompressError> {
    match dictionary {
        Dictionary::None => Decompressor::new(),
        _ => Decompressor::with_prepared_dictionary(dictionary.decoder()),
    }
    .map_err(|e| CompressError::Zstd(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"idempotency_key":"650102-ga/650102-2021-9000000001/500103198303190032/violation_penalized","kind":"violation_penalized","date":"2021-06-09","case_code":"650102-2021-9000000001","agency":{"kind":"public_security","code":"650102-ga"},"document_number":"乌鲁木齐市天山区公（治）行罚决字〔2021〕1号","person":{"id_number":"500103198303190032","name":"王芳"},"violations":[{"name":"殴打他人"}],"penalty":{"warning":false,"fine_yuan":750,"detention_days":1,"licence_revoked":false}}"#;

    #[test]
    fn payloads_read_back_byte_for_byte_with_every_dictionary() {
        for dictionary in DICTIONARIES {
            let packed = pack(EVENT.as_bytes(), dictionary);
            assert_eq!(packed[0], COMPRESSED, "{dictionary:?}");
            assert_eq!(packed[1], dictionary as u8);
            assert_eq!(unpack(packed).unwrap(), EVENT.as_bytes(), "{dictionary:?}");
        }
    }

    #[test]
    fn an_event_shrinks_to_under_a_third_with_its_dictionary() {
        let plain = EVENT.len();
        let packed = pack(EVENT.as_bytes(), Dictionary::Event1).len();
        let alone = pack(EVENT.as_bytes(), Dictionary::None).len();
        assert!(packed * 3 < plain, "{packed} bytes of {plain}");
        assert!(
            packed < alone,
            "with the dictionary {packed}, without {alone}"
        );
    }

    /// An audit entry's detail as a transition writes it (an import of `fengcun synth --seed 1`,
    /// what the dictionary was trained on): 366 bytes, to under a fifth with the audit dictionary.
    #[test]
    fn an_audit_detail_shrinks_to_under_a_fifth_with_its_dictionary() {
        const DETAIL: &str = r#"{"from":null,"notices":[{"notice_id":"FC-SEAL-350102-2022-9000000064-7E9C4AA1-1","recipient":"350102-ga"},{"notice_id":"FC-SEAL-350102-2022-9000000064-7E9C4AA1-2","recipient":"person"}],"policy":"cn-public-security-violation","policy_version":"1","state_date":"2026-01-01","to":"sealed","transition_id":"01a24a908234000000647e9c4aa1fdb62fef","trigger":null}"#;
        let packed = pack(DETAIL.as_bytes(), Dictionary::Audit1);
        assert!(
            packed.len() * 5 < DETAIL.len(),
            "{} bytes of {}",
            packed.len(),
            DETAIL.len()
        );
        assert_eq!(unpack(packed).unwrap(), DETAIL.as_bytes());
    }

    #[test]
    fn a_payload_sealed_before_compression_reads_as_it_is() {
        assert_eq!(unpack(EVENT.as_bytes().to_vec()).unwrap(), EVENT.as_bytes());
        assert_eq!(unpack(Vec::new()).unwrap(), b"");
    }

    #[test]
    fn a_payload_too_small_to_gain_is_kept_as_it_is() {
        assert_eq!(pack(b"{}", Dictionary::Facts1), b"{}");
    }

    #[test]
    fn a_payload_beginning_with_the_marker_is_always_compressed() {
        let odd = [COMPRESSED, 1];
        let packed = pack(&odd, Dictionary::None);
        assert_eq!(packed[0], COMPRESSED);
        assert_eq!(unpack(packed).unwrap(), odd);
    }

    #[test]
    fn unknown_dictionaries_and_damaged_frames_are_errors_not_guesses() {
        let mut packed = pack(EVENT.as_bytes(), Dictionary::Event1);
        packed[1] = 9;
        assert!(matches!(
            unpack(packed),
            Err(CompressError::UnknownDictionary(9))
        ));
        assert!(matches!(
            unpack(vec![COMPRESSED]),
            Err(CompressError::Truncated)
        ));
        assert!(unpack(vec![COMPRESSED, 1, 0x28, 0xb5]).is_err());
        let packed = pack(EVENT.as_bytes(), Dictionary::Event1);
        let wrong = [&packed[..1], &[Dictionary::Notices1 as u8], &packed[2..]].concat();
        assert!(
            unpack(wrong).map_or(true, |plain| plain != EVENT.as_bytes()),
            "a frame read with another dictionary must not give the payload"
        );
    }

    #[test]
    fn contexts_pick_their_dictionaries() {
        let cases = [
            ("event/210102-ga/x/filed", Dictionary::Event1),
            ("facts/210102-2025-00000001", Dictionary::Facts1),
            ("transition/01a24a55ff88", Dictionary::Transition1),
            ("notices/01a24a55ff88", Dictionary::Notices1),
            ("request/7", Dictionary::None),
            ("event", Dictionary::Event1),
            ("events/0a1b/110105-2024-000700", Dictionary::Lists1),
        ];
        for (aad, expected) in cases {
            assert_eq!(Dictionary::for_context(aad), expected, "{aad}");
        }
    }

    /// A shipped dictionary never changes: payloads name it by number, and a changed dictionary
    /// would make every payload compressed with it unreadable. The digests are `sha256sum`'s.
    #[test]
    fn shipped_dictionaries_are_never_changed() {
        use sha2::Digest;
        let pinned = [
            (
                Dictionary::Event1,
                "13e838c80984791716d9b32bddc234b577d126ecef0ef53b33e7600bffdbe71e",
            ),
            (
                Dictionary::Facts1,
                "aefe22464f47f03236d4c918a41a553b2ffd4b6ad1858b91f2a9211b29c44a79",
            ),
            (
                Dictionary::Notices1,
                "f8152e497b84faba9b1e7227c92b1695be1f5c41280a7963716291ccb069cf63",
            ),
            (
                Dictionary::Audit1,
                "8a0012ca8bfd73b2c2e67afaa02c84292d493f67d29b9139086b927e86fbb48d",
            ),
            (
                Dictionary::Lists1,
                "e3f368e20fe6f147a2188fa56cd8638211ef2db6edf98f13d1df8e22c595e152",
            ),
            (
                Dictionary::Transition1,
                "798422fe8a279adc12dd69434a3a3a2bc075ec8a7901fdd381933ef35d752eb1",
            ),
        ];
        for (dictionary, digest) in pinned {
            let found: String = sha2::Sha256::digest(dictionary.content())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(found, digest, "{dictionary:?}");
        }
    }
}
