//! A record's events kept together (migration 27, issue 20; docs/storage.md "Events on disk").
//!
//! Sealed one by one, an event cost its row (person, case code, arrival time, sequence number,
//! a 28-byte nonce and tag) and its own compression, which cannot use what the record's other
//! events say already: the person, the case code, the agency, the idempotency key's pattern. Kept
//! as one list per record, compressed once and sealed once, the record's events share all of that.
//! The list is kept in the record's own row (`records.events`, migration 29: a table of its own
//! under the same key made every batch write two random rows a record). It is what [`encode`] makes, sealed with the record's key under [`aad`]; the event's
//! identity, content MAC and place in the arrival order stay in a row of their own (`event_ids`),
//! for idempotency and rebuilds.
//!
//! ```text
//! list:   0x01 (version) | event*
//! event:  arrival, whole seconds since the epoch (i64, little-endian)
//!         | length of the body (u32, little-endian) | body (the event's canonical JSON)
//! ```
//!
//! An event's place in the list is its place in the record's arrival order. Its id is not kept:
//! it is the MAC of the agency code and idempotency key its body holds (`Keys::event_id`), 16
//! bytes that no compression shrinks, a fifth of a list.

use fengcun_crypto::DataKey;

use crate::error::StoreError;
use crate::keys;

/// The first byte of a list in the form above.
const VERSION: u8 = 1;

/// One event as its record's list keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeptEvent {
    /// When it arrived, in whole seconds since the Unix epoch (`rows::ts` rounds to the second).
    pub(crate) received_at: i64,
    /// The event's canonical JSON (docs/events.md), the bytes its content MAC is of.
    pub(crate) body: Vec<u8>,
}

/// What a record's list is bound to: the record (the first 16 bytes of its person key, as the
/// rows keep them, and its case code), so that a list moved to another record's row does not open.
pub(crate) fn aad(person: &[u8], case_code: &str) -> String {
    format!("events/{}/{case_code}", fengcun_crypto::hex(person))
}

/// The list's bytes, before compression and sealing.
pub(crate) fn encode(events: &[KeptEvent]) -> Vec<u8> {
    let size: usize = events.iter().map(|e| 12 + e.body.len()).sum();
    let mut out = Vec::with_capacity(1 + size);
    out.push(VERSION);
    for event in events {
        out.extend_from_slice(&event.received_at.to_le_bytes());
        // An event's JSON is bounded far below 4 GiB by the ingestion's line limit.
        let length = u32::try_from(event.body.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&event.body);
    }
    out
}

/// The events of a list's bytes, or what is wrong with them.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<KeptEvent>, String> {
    let (&version, mut rest) = bytes.split_first().ok_or("an empty list")?;
    if version != VERSION {
        return Err(format!(
            "list version {version}, which this build does not know"
        ));
    }
    let mut events = Vec::new();
    while !rest.is_empty() {
        let (at, after) = take(rest, 8)?;
        let (length, after) = take(after, 4)?;
        let length = u32::from_le_bytes(length.try_into().map_err(|_| "length")?) as usize;
        let (body, after) = take(after, length)?;
        events.push(KeptEvent {
            received_at: i64::from_le_bytes(at.try_into().map_err(|_| "arrival")?),
            body: body.to_vec(),
        });
        rest = after;
    }
    Ok(events)
}

fn take(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8]), String> {
    if bytes.len() < n {
        return Err(format!(
            "a list cut short: {n} bytes wanted, {} left",
            bytes.len()
        ));
    }
    Ok(bytes.split_at(n))
}

/// Seals a record's list with its key (compressed first with the lists' dictionary).
pub(crate) fn seal(key: &DataKey, person: &[u8], case_code: &str, events: &[KeptEvent]) -> Vec<u8> {
    keys::seal(key, &encode(events), &aad(person, case_code))
}

/// Opens what [`seal`] sealed.
pub(crate) fn open(
    key: &DataKey,
    person: &[u8],
    case_code: &str,
    sealed: &[u8],
) -> Result<Vec<KeptEvent>, StoreError> {
    let context = aad(person, case_code);
    let plain = keys::open(key, sealed, &context)?;
    decode(&plain).map_err(|e| StoreError::Corrupt(format!("{context}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengcun_crypto::Suite;

    fn event(n: u8, body: &str) -> KeptEvent {
        KeptEvent {
            received_at: 1_700_000_000 + i64::from(n),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_list_reads_back_as_written_in_its_order() {
        let events = vec![
            event(1, r#"{"kind":"filed"}"#),
            event(2, ""),
            event(
                3,
                r#"{"kind":"judgment_effective","person":{"name":"王芳"}}"#,
            ),
        ];
        assert_eq!(decode(&encode(&events)).unwrap(), events);
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::<KeptEvent>::new());
    }

    #[test]
    fn a_damaged_list_is_an_error_not_fewer_events() {
        // A list cut between two events cannot be told from a shorter list: the cipher's tag,
        // over the whole list, is what refuses that; a cut inside an event is refused here too.
        let bytes = encode(&[event(1, r#"{"kind":"filed"}"#)]);
        for cut in 2..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[]).is_err());
        let mut other = bytes.clone();
        other[0] = 2;
        assert_eq!(
            decode(&other).unwrap_err(),
            "list version 2, which this build does not know"
        );
    }

    #[test]
    fn a_list_opens_only_as_its_own_record() {
        let key = DataKey::generate(Suite::Sm);
        let person = [7u8; 16];
        let events = vec![event(1, r#"{"kind":"filed"}"#)];
        let sealed = seal(&key, &person, "110101-2024-00000001", &events);
        assert_eq!(
            open(&key, &person, "110101-2024-00000001", &sealed).unwrap(),
            events
        );
        assert!(open(&key, &person, "110101-2024-00000002", &sealed).is_err());
        assert!(open(&key, &[8u8; 16], "110101-2024-00000001", &sealed).is_err());
    }

    /// Lists sealed before the lists' dictionary name the events' one in their byte: they open.
    #[test]
    fn a_list_compressed_with_the_events_dictionary_still_opens() {
        let key = DataKey::generate(Suite::Sm);
        let person = [7u8; 16];
        let events = vec![
            event(1, r#"{"kind":"filed","agency":{"code":"110105-ga"}}"#),
            event(2, r#"{"kind":"judged","agency":{"code":"110105-fy"}}"#),
        ];
        let context = aad(&person, "110101-2024-00000001");
        let packed = crate::compress::pack(&encode(&events), crate::compress::Dictionary::Event1);
        assert_eq!(packed[1], crate::compress::Dictionary::Event1 as u8);
        let sealed = key.seal(&packed, context.as_bytes());
        assert_eq!(
            open(&key, &person, "110101-2024-00000001", &sealed).unwrap(),
            events
        );
    }

    #[test]
    fn a_list_is_compressed_with_the_lists_dictionary() {
        assert_eq!(
            crate::compress::Dictionary::for_context(&aad(&[0; 16], "110101-2024-00000001")),
            crate::compress::Dictionary::Lists1
        );
    }
}
