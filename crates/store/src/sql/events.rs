//! Events in SQL, and what events bring with them: the events themselves (sealed with their
//! record's key), the case-number mappings of agencies' document numbers (一案一码), and the
//! agencies an event registers. Data access only: which line is a duplicate, which case a
//! document maps to and whether an agency may send an event are decided by the batch
//! (`crate::ingest`).

use crate::{HashMap, HashSet};

use fengcun_crypto::DataKey;
use fengcun_domain::{Event, ValidEvent};
use fengcun_lifecycle::StoredEvent;
use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::keys;
use crate::record_events::{self, KeptEvent};
use crate::sql::SqlStore;
use crate::sql::rows::{
    Param, ROWS_PER_STATEMENT, list, list_from, param, person_bytes, person_hex, person_ref,
    placeholders,
};
use crate::types::Backend;

/// Stored events of the persons' records (encrypted), read in one statement per batch: one round
/// trip per record made a batch of repeat offenders slow, and deriving without the database lets
/// the batch's records be derived while its events are being written.
pub(crate) type Prefetched = HashMap<(String, String), PrefetchedEvents>;

/// A record's stored events as prefetched: those stored a row each before migration 27, then its
/// list (`crate::record_events`, sealed), if it has one — the rows' events arrived first.
#[derive(Clone, Debug, Default)]
pub(crate) struct PrefetchedEvents {
    pub(crate) rows: Vec<PrefetchedEvent>,
    pub(crate) list: Option<Vec<u8>>,
}

/// An event stored in a row of its own (before migration 27) as prefetched: sequence number,
/// event id (`Keys::event_id`), sealed body.
pub(crate) type PrefetchedEvent = (i64, Vec<u8>, Vec<u8>);

/// An event's identity: its agency's code and its idempotency key. Keys are scoped to the agency
/// that chose them (docs/events.md): two agencies may use the same key for different events.
pub(crate) fn event_id(event: &Event) -> (&str, &str) {
    (event.agency.code.as_str(), event.idempotency_key.as_str())
}

/// An event as written: its row in `event_ids`, and what its holding and the next batch's
/// snapshot need (its body goes into its record's list, `ListRow`).
#[derive(Debug)]
pub(crate) struct EventRow {
    pub(crate) person_key: String,
    pub(crate) case_code: String,
    /// The idempotency key (not stored in the event's row: in its record's sealed list).
    pub(crate) idempotency_key: String,
    /// `Keys::event_id` of (agency, idempotency key).
    pub(crate) event_id: Vec<u8>,
    pub(crate) hash: Vec<u8>,
    /// The agency's code, for its holdings (not stored in the event's row).
    pub(crate) agency: String,
}

/// A record's list of events as written (`records.events` since migration 29, `record_events`
/// from 27 to 28): every event of the record stored since migration 27, the batch's included,
/// sealed with the record's key (bound to the first 16 bytes of its person key, as then).
#[derive(Clone, Debug)]
pub(crate) struct ListRow {
    pub(crate) person_key: String,
    pub(crate) case_code: String,
    pub(crate) sealed: Vec<u8>,
}

/// What an event's sealed body is bound to: its identity (`Keys::event_id`), so that a body moved
/// to another row does not open.
pub(crate) fn event_aad(event_id: &[u8]) -> String {
    format!("event/{}", hex(event_id))
}

/// What an event's body was bound to before migration 17: its idempotency key.
fn legacy_event_aad(idempotency_key: &str) -> String {
    format!("event/{idempotency_key}")
}

fn hex(bytes: &[u8]) -> String {
    fengcun_crypto::hex(bytes)
}

/// The bytes of a person key an event row keeps (`events.person`): 128 bits, as many as an
/// event's id — two persons sharing them in one case is as unlikely as two events sharing an id.
pub(crate) const PERSON_REF_BYTES: usize = 16;

/// The `events.person` column of a person key: the first [`PERSON_REF_BYTES`] of its bytes, the
/// key being their lowercase hex (`Keys::person_key`); `None` for a string that is not such a key
/// (no event can be its).
pub(crate) fn person_column(person_key: &str) -> Option<Vec<u8>> {
    let digits = person_key.as_bytes();
    if digits.len() < 2 * PERSON_REF_BYTES || !digits.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let bytes: Option<Vec<u8>> = digits
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect();
    bytes.map(|mut bytes| {
        bytes.truncate(PERSON_REF_BYTES);
        bytes
    })
}

/// Every stored record's person key and wrapped key, by the (person, case code) its events keep.
type RecordsByRef = HashMap<(Vec<u8>, String), (String, Vec<u8>)>;

/// `events.received_at` (whole seconds since the epoch) of a time as the store keeps times
/// (`rows::ts`: rounded to the second).
pub(crate) fn received_column(at: jiff::Timestamp) -> i64 {
    at.round(jiff::Unit::Second).unwrap_or(at).as_second()
}

/// A stored arrival time (whole seconds since the epoch).
fn arrival(seconds: i64) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_second(seconds)
        .map_err(|_| StoreError::Corrupt(format!("time {seconds}")))
}

/// The stored arrival time, as text in the form every other stored time has (`rows::ts`).
pub(crate) fn received_text(seconds: i64) -> Result<String, StoreError> {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .map_err(|_| StoreError::Corrupt(format!("events.received_at {seconds}")))
}

/// Opens a stored event's body.
pub(crate) fn open_event(
    key: &DataKey,
    event_id: &[u8],
    body: &[u8],
) -> Result<ValidEvent, StoreError> {
    let plain = keys::open(key, body, &event_aad(event_id))?;
    Event::parse_stored(&plain)
        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", hex(event_id))))
}

/// The lists of `n` persons' records (`records.events`, migration 29), by their person keys: a
/// range of the table's key each.
fn lists_of_persons(positional: bool, n: usize) -> String {
    format!(
        "SELECT person, case_code, events FROM records WHERE person IN ({}) AND events IS NOT NULL",
        list(positional, n)
    )
}

/// Records' lists into their rows, a row of `VALUES` (person, case code, list) each, between the
/// two halves: by the records' key, one row each (both engines name `VALUES` columns so).
const LISTS_INTO_RECORDS: (&str, &str) = (
    "UPDATE records SET events = v.column3 FROM (VALUES",
    ") AS v WHERE records.person = v.column1 AND records.case_code = v.column2",
);

/// The content MACs of `n` events by their ids, in `table` (`event_ids`, by its key, or `events`
/// for those stored before migration 27, by its unique index of ids).
fn hashes_of_ids(table: &str, positional: bool, n: usize) -> String {
    format!(
        "SELECT event_id, content_hash FROM {table} WHERE event_id IN ({})",
        list(positional, n)
    )
}

/// An agency as its first event names it: code, kind, name.
pub(crate) type AgencyRow = (String, String, Option<String>);

impl SqlStore {
    /// The content hashes of the batch's events already stored, by agency and key: looked up by
    /// the events' ids (`Keys::event_id` of agency and key, unique), so that a key is found among
    /// its own agency's events only.
    pub(crate) async fn known_hashes(
        &self,
        tx: &mut AnyConnection,
        events: &[ValidEvent],
    ) -> Result<HashMap<(String, String), Vec<u8>>, StoreError> {
        let mut by_id: HashMap<Vec<u8>, (&str, &str)> = HashMap::default();
        for e in events {
            let (agency, key) = event_id(&e.event);
            by_id.insert(self.keys.event_id(agency, key), (agency, key));
        }
        let mut ids: Vec<&Vec<u8>> = by_id.keys().collect();
        ids.sort_unstable();
        let mut known = HashMap::default();
        // Events stored since migration 27 (`event_ids`), and before it (`events`).
        for table in ["event_ids", "events"] {
            for chunk in ids.chunks(500) {
                let sql = hashes_of_ids(table, self.positional(), chunk.len());
                let mut query = sqlx::query_as::<_, (Vec<u8>, Vec<u8>)>(&sql);
                for id in chunk {
                    query = query.bind(id.as_slice());
                }
                for (id, hash) in query.fetch_all(&mut *tx).await? {
                    if let Some((agency, key)) = by_id.get(&id) {
                        known.insert(((*agency).to_owned(), (*key).to_owned()), hash);
                    }
                }
            }
        }
        Ok(known)
    }

    /// The registered kinds of the batch's agencies.
    pub(crate) async fn known_agencies(
        &self,
        tx: &mut AnyConnection,
        events: &[ValidEvent],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut codes: Vec<&str> = events
            .iter()
            .map(|e| e.event.agency.code.as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let mut known = HashMap::default();
        for chunk in codes.chunks(500) {
            let sql = format!(
                "SELECT agency_code, kind FROM agencies WHERE agency_code IN ({})",
                list(self.positional(), chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, String)>(&sql);
            for code in chunk {
                query = query.bind(*code);
            }
            known.extend(query.fetch_all(&mut *tx).await?);
        }
        Ok(known)
    }

    pub(crate) async fn known_mappings(
        &self,
        tx: &mut AnyConnection,
        events: &[ValidEvent],
    ) -> Result<HashMap<(String, String), String>, StoreError> {
        // By agency and number together, so that the look-up uses the key (agency code, document
        // number): by number alone it read the whole table, once per batch.
        let mut pairs: Vec<(&str, &str)> = events
            .iter()
            .filter_map(|e| {
                Some((
                    e.event.agency.code.as_str(),
                    e.event.document_number.as_deref()?,
                ))
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        // Kept by MAC (migration 22): each pair's MAC, back to the number the batch names.
        let macs: HashMap<(&str, Vec<u8>), &str> = pairs
            .iter()
            .map(|(agency, document)| ((*agency, self.keys.document_mac(document)), *document))
            .collect();
        let mut known = HashMap::default();
        for chunk in pairs.chunks(250) {
            let mut agencies: Vec<&str> = chunk.iter().map(|(agency, _)| *agency).collect();
            agencies.dedup();
            let mut documents: Vec<Vec<u8>> = chunk
                .iter()
                .map(|(_, document)| self.keys.document_mac(document))
                .collect();
            documents.sort_unstable();
            documents.dedup();
            let positional = self.positional();
            let sql = format!(
                "SELECT agency_code, document_mac, case_code FROM case_documents WHERE agency_code IN ({}) AND document_mac IN ({})",
                list(positional, agencies.len()),
                list_from(positional, agencies.len() + 1, documents.len())
            );
            let mut query = sqlx::query_as::<_, (String, Vec<u8>, String)>(&sql);
            for agency in &agencies {
                query = query.bind(*agency);
            }
            for mac in &documents {
                query = query.bind(mac.clone());
            }
            for (agency, mac, case) in query.fetch_all(&mut *tx).await? {
                // A pair of another agency's number with this agency is not one the batch names.
                let document = macs
                    .get(&(agency.as_str(), mac))
                    .map(|document| (*document).to_owned());
                if let Some(document) = document {
                    known.insert((agency, document), case);
                }
            }
        }
        Ok(known)
    }

    /// Inserts the events' rows (`event_ids`, a hundred to a statement, in line order: their
    /// sequence numbers are the arrival order) and the holdings they bring. (Their count is the
    /// caller's to keep: `Writes::count_events`, written with the batch's other counts.) Their
    /// records' lists are written after the records' rows ([`SqlStore::write_lists`]).
    pub(crate) async fn insert_event_rows(
        &self,
        tx: &mut AnyConnection,
        rows: &[EventRow],
    ) -> Result<(), StoreError> {
        self.insert_holdings(tx, rows.iter()).await?;
        self.insert_event_ids(tx, rows).await
    }

    /// Writes each record's list into its row (`records.events`, migration 29), replacing the
    /// list before (it holds that list's events and the batch's). The rows are the batch's
    /// records, written before this; a list whose row is missing would be a list lost, so the
    /// batch is refused instead (and rolled back with everything else it wrote).
    pub(crate) async fn write_lists(
        &self,
        tx: &mut AnyConnection,
        lists: &[ListRow],
    ) -> Result<(), StoreError> {
        let lists = lists
            .iter()
            .map(|list| {
                let person = person_bytes(&list.person_key);
                if person.len() != 32 {
                    return Err(StoreError::Corrupt(format!(
                        "person key {}",
                        list.person_key
                    )));
                }
                Ok((list, person))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for chunk in lists.chunks(ROWS_PER_STATEMENT) {
            let written = self
                .insert_chunk_with(
                    tx,
                    LISTS_INTO_RECORDS.0,
                    LISTS_INTO_RECORDS.1,
                    chunk,
                    3,
                    |query, (list, person)| {
                        query
                            .bind(person.as_slice())
                            .bind(list.case_code.as_str())
                            .bind(list.sealed.as_slice())
                    },
                )
                .await?;
            if written != chunk.len() as u64 {
                return Err(StoreError::Corrupt(format!(
                    "{} of {} records' lists of events have no record row",
                    chunk.len() as u64 - written.min(chunk.len() as u64),
                    chunk.len()
                )));
            }
        }
        Ok(())
    }

    /// The events' rows in `event_ids`, numbered in line order after every number given: on
    /// PostgreSQL by the sequence `event_seq` in each row (no lock held to commit, as a
    /// counter row's would be); on SQLite, which has one writer, by taking the batch's numbers
    /// from the counter `event_seq` in one statement.
    async fn insert_event_ids(
        &self,
        tx: &mut AnyConnection,
        rows: &[EventRow],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        match self.backend {
            Backend::Postgres => {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| format!("(${}, ${}, nextval('event_seq'))", 2 * i + 1, 2 * i + 2))
                        .collect();
                    let sql = format!(
                        "INSERT INTO event_ids (event_id, content_hash, seq) VALUES {}",
                        values.join(", ")
                    );
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(row.event_id.as_slice())
                            .bind(row.hash.as_slice());
                    }
                    query.execute(&mut *tx).await?;
                }
                Ok(())
            }
            Backend::Sqlite => {
                let count = rows.len() as i64;
                let (last,): (i64,) = sqlx::query_as(
                    "UPDATE event_seq SET last = last + $1 WHERE id = 1 RETURNING last",
                )
                .bind(count)
                .fetch_one(&mut *tx)
                .await?;
                let numbered: Vec<(i64, &EventRow)> = (last - count + 1..).zip(rows).collect();
                self.insert_rows_with(
                    tx,
                    "INSERT INTO event_ids (event_id, content_hash, seq) VALUES",
                    &numbered,
                    3,
                    |query, (seq, row)| {
                        query
                            .bind(row.event_id.as_slice())
                            .bind(row.hash.as_slice())
                            .bind(*seq)
                    },
                )
                .await
            }
        }
    }

    /// Which of `asked` — (agency code, case code, person key) — are holdings: the agency sent
    /// one of the record's events. Looked up by the table's key, agencies and cases together, the
    /// persons filtered after.
    pub(crate) async fn known_holdings(
        &self,
        tx: &mut AnyConnection,
        asked: &HashSet<(String, String, String)>,
    ) -> Result<HashSet<(String, String, String)>, StoreError> {
        let mut sorted: Vec<&(String, String, String)> = asked.iter().collect();
        sorted.sort_unstable();
        // Each asked holding by what the table keeps of it: agency, case, the person's first bytes.
        type Kept = (String, String, Vec<u8>);
        let by_prefix: HashMap<Kept, &(String, String, String)> = asked
            .iter()
            .map(|held| {
                let (agency, case, person) = held;
                ((agency.clone(), case.clone(), person_ref(person)), held)
            })
            .collect();
        let mut known = HashSet::default();
        for chunk in sorted.chunks(250) {
            let mut agencies: Vec<&str> = chunk.iter().map(|(a, _, _)| a.as_str()).collect();
            agencies.sort_unstable();
            agencies.dedup();
            let mut cases: Vec<&str> = chunk.iter().map(|(_, c, _)| c.as_str()).collect();
            cases.sort_unstable();
            cases.dedup();
            let positional = self.positional();
            let sql = format!(
                "SELECT agency_code, case_code, person FROM holdings WHERE agency_code IN ({}) AND case_code IN ({})",
                list(positional, agencies.len()),
                list_from(positional, agencies.len() + 1, cases.len())
            );
            let mut query = sqlx::query_as::<_, (String, String, Vec<u8>)>(&sql);
            for agency in &agencies {
                query = query.bind(*agency);
            }
            for case in &cases {
                query = query.bind(*case);
            }
            for (agency, case, person) in query.fetch_all(&mut *tx).await? {
                // The query's rows are every holding of those agencies in those cases: only the
                // ones asked about are kept, found by the person's first bytes (migration 28).
                if let Some(holding) = by_prefix.get(&(agency, case, person)) {
                    known.insert((*holding).clone());
                }
            }
        }
        Ok(known)
    }

    /// Which of `asked` — (agency kind, case code, person key) — some agency of that kind holds.
    /// Asked only of records an agency of the batch reports on for the first time (rare: an
    /// agency's history arriving late), one statement each, by the table's key for every agency
    /// of the kind.
    pub(crate) async fn held_by_kind(
        &self,
        tx: &mut AnyConnection,
        asked: &HashSet<(String, String, String)>,
    ) -> Result<HashSet<(String, String, String)>, StoreError> {
        let (kind, case, person) = (
            param(self.positional(), 1),
            param(self.positional(), 2),
            param(self.positional(), 3),
        );
        let sql = format!(
            "SELECT agency_code FROM holdings WHERE agency_code IN (SELECT agency_code FROM agencies WHERE kind = {kind}) \
             AND case_code = {case} AND person = {person} LIMIT 1"
        );
        let mut held = HashSet::default();
        for triple in asked {
            let (kind, case, person) = triple;
            let found: Option<(String,)> = sqlx::query_as(&sql)
                .bind(kind.as_str())
                .bind(case.as_str())
                .bind(person_ref(person))
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_some() {
                held.insert(triple.clone());
            }
        }
        Ok(held)
    }

    /// Keeps which records each agency holds (sent one of their events) and how many, as the
    /// events arrive: counting them from the events read a million rows for every dashboard
    /// (docs/operations.md, `/api/v1/stats`). A holding already kept is left alone (`RETURNING`
    /// names only the new ones, also when another transaction wrote the same holding first), and
    /// each agency's count grows by its new holdings in one statement, agencies in code order so
    /// that two transactions lock the counts in the same order.
    async fn insert_holdings(
        &self,
        tx: &mut AnyConnection,
        rows: impl Iterator<Item = &EventRow>,
    ) -> Result<(), StoreError> {
        let mut holdings: Vec<(&str, &str, Vec<u8>)> = rows
            .map(|r| {
                (
                    r.agency.as_str(),
                    r.case_code.as_str(),
                    person_ref(&r.person_key),
                )
            })
            .collect();
        holdings.sort_unstable();
        holdings.dedup();
        let mut new_by_agency: std::collections::BTreeMap<String, i64> = Default::default();
        for chunk in holdings.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO holdings (agency_code, case_code, person) VALUES {} \
                 ON CONFLICT (agency_code, case_code, person) DO NOTHING RETURNING agency_code",
                placeholders(self.positional(), chunk.len(), 3)
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for (agency, case, person) in chunk {
                query = query.bind(*agency).bind(*case).bind(person.as_slice());
            }
            for (agency,) in query.fetch_all(&mut *tx).await? {
                *new_by_agency.entry(agency).or_default() += 1;
            }
        }
        let counts: Vec<(String, i64)> = new_by_agency.into_iter().collect();
        for chunk in counts.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO agency_holdings (agency_code, records) VALUES {} \
                 ON CONFLICT (agency_code) DO UPDATE SET records = agency_holdings.records + excluded.records",
                placeholders(self.positional(), chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (agency, records) in chunk {
                query = query.bind(agency.as_str()).bind(*records);
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }

    pub(crate) async fn insert_mappings(
        &self,
        tx: &mut AnyConnection,
        rows: &[(String, String, String)],
    ) -> Result<(), StoreError> {
        let rows = rows
            .iter()
            .map(|(agency, document, case)| {
                [
                    Param::text(agency.as_str()),
                    Param::Blob(self.keys.document_mac(document)),
                    Param::text(case.as_str()),
                ]
            })
            .collect();
        self.insert_rows(
            tx,
            "INSERT INTO case_documents (agency_code, document_mac, case_code) VALUES",
            rows,
        )
        .await
    }

    /// Registers the agencies not registered yet; a registered agency (configured, or registered by
    /// an earlier event) is never rewritten by an event: not its kind, name or endpoint.
    pub(crate) async fn upsert_agencies(
        &self,
        tx: &mut AnyConnection,
        agencies: &[AgencyRow],
    ) -> Result<(), StoreError> {
        for (code, kind, name) in agencies {
            sqlx::query(
                "INSERT INTO agencies (agency_code, kind, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (agency_code) DO NOTHING",
            )
            .bind(code.as_str())
            .bind(kind.as_str())
            .bind(name.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    /// Every stored event of these persons' stored records, in one statement per 500 persons.
    pub(crate) async fn prefetch_events(
        &self,
        tx: &mut AnyConnection,
        person_keys: impl Iterator<Item = &str>,
    ) -> Result<Prefetched, StoreError> {
        // A person key that is not one (no event can be its) is left out.
        let by_ref: HashMap<Vec<u8>, &str> = person_keys
            .filter_map(|key| Some((person_column(key)?, key)))
            .collect();
        let mut wanted: Vec<&Vec<u8>> = by_ref.keys().collect();
        wanted.sort_unstable();
        let mut prefetched = Prefetched::default();
        for chunk in wanted.chunks(500) {
            // Events stored a row each, before migration 27 (none in a store made since).
            let sql = format!(
                "SELECT seq, person, case_code, event_id, body FROM events WHERE person IN ({}) ORDER BY seq",
                list(self.positional(), chunk.len())
            );
            let mut query = sqlx::query_as::<_, (i64, Vec<u8>, String, Vec<u8>, Vec<u8>)>(&sql);
            for key in chunk {
                query = query.bind(key.as_slice());
            }
            for (seq, person, case_code, event_id, body) in query.fetch_all(&mut *tx).await? {
                let Some(person_key) = by_ref.get(&person) else {
                    continue;
                };
                prefetched
                    .entry(((*person_key).to_owned(), case_code))
                    .or_default()
                    .rows
                    .push((seq, event_id, body));
            }
            let sql = lists_of_persons(self.positional(), chunk.len());
            let mut query = sqlx::query_as::<_, (Vec<u8>, String, Vec<u8>)>(&sql);
            for key in chunk {
                // The record's row keeps the whole key.
                query = query.bind(person_bytes(by_ref[*key]));
            }
            for (person, case_code, body) in query.fetch_all(&mut *tx).await? {
                let Some(person_key) = person.get(..PERSON_REF_BYTES).and_then(|r| by_ref.get(r))
                else {
                    continue;
                };
                prefetched
                    .entry(((*person_key).to_owned(), case_code))
                    .or_default()
                    .list = Some(body);
            }
        }
        Ok(prefetched)
    }

    pub(crate) async fn load_events(
        &self,
        tx: &mut AnyConnection,
        person_key: &str,
        case_code: &str,
        key: &DataKey,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let Some(person) = person_column(person_key) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, event_id, body FROM events WHERE person = $1 AND case_code = $2 ORDER BY seq",
        )
        .bind(person.as_slice())
        .bind(case_code)
        .fetch_all(&mut *tx)
        .await?;
        let list: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT events FROM records WHERE person = $1 AND case_code = $2")
                .bind(person_bytes(person_key))
                .bind(case_code)
                .fetch_optional(&mut *tx)
                .await?;
        let prefetched = PrefetchedEvents {
            rows,
            list: list.and_then(|(body,)| body),
        };
        open_events(&prefetched, person_key, case_code, key)
    }

    /// An event of a record's list, read, with its id (`Keys::event_id` of the agency code and
    /// idempotency key its JSON holds: the list does not keep it).
    fn read_kept(&self, kept: &KeptEvent) -> Result<(ValidEvent, Vec<u8>), StoreError> {
        let event = parse_kept(kept)?;
        let (agency, idempotency_key) = event_id(&event.event);
        let id = self.keys.event_id(agency, idempotency_key);
        Ok((event, id))
    }

    /// Every stored event in arrival order, decrypted, with its arrival time (for rebuilds):
    /// those stored a row each before migration 27 and those of the records' lists, merged by
    /// their sequence numbers (`event_ids` numbers the lists' events after the rows').
    pub(crate) async fn stored_events(
        &self,
    ) -> Result<Vec<(ValidEvent, jiff::Timestamp)>, StoreError> {
        // The record keys first, by record: a join on the person key would compare its hex with
        // the event's bytes, row by row.
        let records = self.records_by_ref().await?;
        let mut keys_by_record: HashMap<(Vec<u8>, String), DataKey> = HashMap::default();
        let mut record_key =
            |person: &Vec<u8>, case_code: &String| -> Result<Option<DataKey>, StoreError> {
                // An event of no stored record is left out, as the join with the records left it.
                let Some((person_key, wrapped)) = records.get(&(person.clone(), case_code.clone()))
                else {
                    return Ok(None);
                };
                let record = (person.clone(), case_code.clone());
                if let Some(key) = keys_by_record.get(&record) {
                    return Ok(Some(key.clone()));
                }
                let key = self.keys.record_key(wrapped, person_key, case_code)?;
                keys_by_record.insert(record, key.clone());
                Ok(Some(key))
            };
        let mut out: Vec<(i64, ValidEvent, jiff::Timestamp)> = Vec::new();
        // Person, case code, event id, sealed body, arrival time, sequence number.
        type Row = (Vec<u8>, String, Vec<u8>, Vec<u8>, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT person, case_code, event_id, body, received_at, seq FROM events ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        for (person, case_code, event_id, body, received_at, seq) in rows {
            let Some(key) = record_key(&person, &case_code)? else {
                continue;
            };
            let event = open_event(&key, &event_id, &body)?;
            out.push((seq, event, arrival(received_at)?));
        }
        // The lists before the ids: a batch committing between the two reads adds ids no list
        // read holds, never a listed event without its id.
        let lists: Vec<(Vec<u8>, String, Vec<u8>)> = sqlx::query_as(
            "SELECT person, case_code, events FROM records WHERE events IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let numbers: HashMap<Vec<u8>, i64> =
            sqlx::query_as::<_, (Vec<u8>, i64)>("SELECT event_id, seq FROM event_ids")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        for (person, case_code, sealed) in lists {
            // Lists are bound to the first 16 bytes of the key, as the other rows name a person.
            let person = person.get(..PERSON_REF_BYTES).unwrap_or_default().to_vec();
            let Some(key) = record_key(&person, &case_code)? else {
                continue;
            };
            for kept in record_events::open(&key, &person, &case_code, &sealed)? {
                let (event, id) = self.read_kept(&kept)?;
                let seq = numbers
                    .get(&id)
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("event {} has no row", hex(&id))))?;
                out.push((seq, event, arrival(kept.received_at)?));
            }
        }
        out.sort_by_key(|(seq, _, _)| *seq);
        Ok(out.into_iter().map(|(_, event, at)| (event, at)).collect())
    }

    /// Moves the document numbers of a database from before migration 22 (`case_numbers`, in
    /// plaintext) into `case_documents` as MACs, a thousand rows a transaction; each row leaves
    /// `case_numbers` in the transaction that keeps its MAC, so a conversion stopped half-way
    /// resumes where it stopped. An empty `case_numbers` (every database since) costs one read.
    pub(crate) async fn convert_case_numbers(&self) -> Result<(), StoreError> {
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT agency_code, document_number, case_code FROM case_numbers \
                 ORDER BY agency_code, document_number LIMIT 1000",
            )
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            // The rows deleted are overwritten with zeros in the file, not left in its free pages
            // (PostgreSQL's dead rows go at its next VACUUM: docs/storage.md).
            self.secure_delete(&mut tx, true).await?;
            for (agency, document, case) in &rows {
                let insert = match self.backend {
                    Backend::Sqlite => {
                        "INSERT OR IGNORE INTO case_documents (agency_code, document_mac, case_code) VALUES ($1, $2, $3)"
                    }
                    Backend::Postgres => {
                        "INSERT INTO case_documents (agency_code, document_mac, case_code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                    }
                };
                sqlx::query(insert)
                    .bind(agency.as_str())
                    .bind(self.keys.document_mac(document))
                    .bind(case.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM case_numbers WHERE agency_code = $1 AND document_number = $2",
                )
                .bind(agency.as_str())
                .bind(document.as_str())
                .execute(&mut *tx)
                .await?;
            }
            self.secure_delete(&mut tx, false).await?;
            tx.commit().await?;
        }
    }

    /// Replaces the plain content hashes of events stored before the keyed MAC (`Keys::content_mac`)
    /// by their MACs, computed over each event's decrypted body — exactly the bytes the plain hash
    /// was of, so a duplicate is still recognised. Done once, when the store is opened with its
    /// master key, a transaction per 500 events; an interrupted run resumes where it stopped (only
    /// 32-byte values are plain hashes), and two processes doing it together write the same values.
    /// An event whose body (or record key) does not open is left as it is and logged: one damaged row must not stop
    /// the platform, and its duplicate check still compares the plain hash (`Keys::same_content`).
    /// (The conversion of migration 17 gives the rows it moves their MACs already; this finds the
    /// plain hashes left in the compact table.)
    pub(crate) async fn rewrite_legacy_content_hashes(&self) -> Result<(), StoreError> {
        let mut after = 0i64;
        loop {
            let mut tx = self.begin_write().await?;
            // seq, person, case code, event id, sealed body.
            type Row = (i64, Vec<u8>, String, Vec<u8>, Vec<u8>);
            // The length as a literal, as the partial index `events_plain_hash` (migration 21) has
            // it: a converted database answers from that empty index, not a read of every event.
            const _: () = assert!(keys::LEGACY_HASH_BYTES == 32);
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT seq, person, case_code, event_id, body FROM events \
                 WHERE length(content_hash) = 32 AND seq > $1 ORDER BY seq LIMIT 500",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for (seq, person, case_code, event_id, body) in rows {
                after = seq;
                // The case's records (by `records_by_case`), the event's among them by its person.
                let records: Vec<(Vec<u8>, Vec<u8>)> =
                    sqlx::query_as("SELECT person, data_key FROM records WHERE case_code = $1")
                        .bind(case_code.as_str())
                        .fetch_all(&mut *tx)
                        .await?;
                let record = records
                    .into_iter()
                    .map(|(key, wrapped)| (person_hex(&key), wrapped))
                    .find(|(key, _)| person_column(key).as_ref() == Some(&person));
                let opened = record
                    .ok_or_else(|| StoreError::Corrupt(format!("no record for event {seq}")))
                    .and_then(|(person_key, wrapped)| {
                        self.keys.record_key(&wrapped, &person_key, &case_code)
                    })
                    .and_then(|key| keys::open(&key, &body, &event_aad(&event_id)));
                let plain = match opened {
                    Ok(plain) => plain,
                    Err(error) => {
                        tracing::warn!(seq, %error, "an event's body does not open; its plain content hash is kept");
                        continue;
                    }
                };
                sqlx::query(
                    "UPDATE events SET content_hash = $1 WHERE seq = $2 AND length(content_hash) = $3",
                )
                .bind(self.keys.content_mac(&plain))
                .bind(seq)
                .bind(keys::LEGACY_HASH_BYTES as i64)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
    }

    /// Every stored record's person key and wrapped key, by the (person, case code) its events
    /// keep.
    async fn records_by_ref(&self) -> Result<RecordsByRef, StoreError> {
        let records: Vec<(Vec<u8>, String, Vec<u8>)> =
            sqlx::query_as("SELECT person, case_code, data_key FROM records")
                .fetch_all(&self.pool)
                .await?;
        Ok(records
            .into_iter()
            .filter_map(|(person, case, wrapped)| {
                let person_key = person_hex(&person);
                Some(((person_column(&person_key)?, case), (person_key, wrapped)))
            })
            .collect())
    }

    /// Whether the table of events as they were before migration 17 is still there.
    async fn v16_events_left(&self, conn: &mut AnyConnection) -> Result<bool, StoreError> {
        let sql = match self.backend {
            crate::types::Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events_v16'"
            }
            crate::types::Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'events_v16'"
            }
        };
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(&mut *conn).await?;
        Ok(count > 0)
    }

    /// Moves the events stored before migration 17 (table `events_v16`) into the compact table,
    /// when the store is opened with its master key: each row's id is the MAC of its agency code
    /// and idempotency key (`Keys::event_id`), its body is opened under its old context (the
    /// idempotency key) and sealed again under the new one (the id), its content hash becomes the
    /// content MAC (from a plain hash, as `rewrite_legacy_content_hashes` does, or from the longer
    /// MAC of before, `0x01 ‖ HMAC`), its arrival time
    /// becomes seconds; it keeps its sequence number. 500 rows to a transaction, each inserting
    /// them and deleting them from the old table: an interrupted run resumes where it stopped, and
    /// a second process doing the same writes nothing twice (`ON CONFLICT DO NOTHING`). An event
    /// whose body (or record key) does not open is logged and copied with its body and hash as
    /// they were — its id still recognises a re-send, as a damaged row's hash does in
    /// `rewrite_legacy_content_hashes` — and also kept in `events_v16`, where its idempotency key
    /// (its body's old context) is not lost. The old table is dropped once empty.
    pub(crate) async fn convert_v16_events(&self) -> Result<(), StoreError> {
        let mut after = 0i64;
        loop {
            let mut tx = self.begin_write().await?;
            // Processes opening the store together convert one batch at a time, and see the old
            // table gone once another dropped it (SQLite: `BEGIN IMMEDIATE` serialises them).
            if self.backend == crate::types::Backend::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(CONVERSION_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            if !self.v16_events_left(&mut tx).await? {
                tx.commit().await?;
                return Ok(());
            }
            // seq, person key, case code, agency code, idempotency key, content hash, arrival
            // time, sealed body, wrapped record key.
            type Row = (
                i64,
                String,
                String,
                String,
                String,
                Vec<u8>,
                String,
                Vec<u8>,
                Option<Vec<u8>>,
            );
            // The records keep the person key's bytes (migration 20), the old events its hex.
            let person = match self.backend {
                crate::types::Backend::Sqlite => "unhex(e.person_key)",
                crate::types::Backend::Postgres => "decode(e.person_key, 'hex')",
            };
            let rows: Vec<Row> = sqlx::query_as(&format!(
                "SELECT e.seq, e.person_key, e.case_code, e.agency_code, e.idempotency_key, e.content_hash, \
                 e.received_at, e.body, r.data_key FROM events_v16 e \
                 LEFT JOIN records r ON r.person = {person} AND r.case_code = e.case_code \
                 WHERE e.seq > $1 ORDER BY e.seq LIMIT 500"
            ))
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last().map(|row| row.0) else {
                let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events_v16")
                    .fetch_one(&mut *tx)
                    .await?;
                if left == 0 {
                    sqlx::raw_sql("DROP TABLE IF EXISTS events_v16")
                        .execute(&mut *tx)
                        .await?;
                } else {
                    tracing::warn!(
                        left,
                        "events whose bodies do not open are kept in events_v16"
                    );
                }
                tx.commit().await?;
                return Ok(());
            };
            after = last;
            let mut moved = Vec::with_capacity(rows.len());
            let mut converted = Vec::with_capacity(rows.len());
            for (
                seq,
                person_key,
                case_code,
                agency,
                idempotency_key,
                hash,
                received,
                body,
                wrapped,
            ) in rows
            {
                let person = person_column(&person_key)
                    .ok_or_else(|| StoreError::Corrupt(format!("person key of event {seq}")))?;
                let received_at: jiff::Timestamp = received
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("time {received} of event {seq}")))?;
                let event_id = self.keys.event_id(&agency, &idempotency_key);
                let opened = wrapped
                    .ok_or_else(|| StoreError::Corrupt(format!("no record for event {seq}")))
                    .and_then(|wrapped| self.keys.record_key(&wrapped, &person_key, &case_code))
                    .and_then(|key| {
                        let plain = keys::open(&key, &body, &legacy_event_aad(&idempotency_key))?;
                        Ok((key, plain))
                    });
                let (body, hash) = match opened {
                    Ok((key, plain)) => {
                        converted.push(seq);
                        // A plain hash, or a MAC in its longer form of before: the MAC now.
                        let hash = if hash.len() != keys::CONTENT_MAC_BYTES {
                            self.keys.content_mac(&plain)
                        } else {
                            hash
                        };
                        (keys::seal(&key, &plain, &event_aad(&event_id)), hash)
                    }
                    Err(error) => {
                        tracing::warn!(seq, %error, "an event's body does not open; it is kept in events_v16 too");
                        (body, hash)
                    }
                };
                moved.push((
                    seq,
                    person,
                    case_code,
                    event_id,
                    hash,
                    received_column(received_at),
                    body,
                ));
            }
            // Counted as they are copied (migration 21 counted the table before this conversion);
            // a row another process copied first is not counted twice.
            let mut copied = 0u64;
            for chunk in moved.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO events (seq, person, case_code, event_id, content_hash, received_at, body) \
                     VALUES {} ON CONFLICT DO NOTHING",
                    placeholders(self.positional(), chunk.len(), 7)
                );
                let mut query = sqlx::query(&sql);
                for (seq, person, case_code, event_id, hash, received, body) in chunk {
                    query = query
                        .bind(*seq)
                        .bind(person.as_slice())
                        .bind(case_code.as_str())
                        .bind(event_id.as_slice())
                        .bind(hash.as_slice())
                        .bind(*received)
                        .bind(body.as_slice());
                }
                copied += query.execute(&mut *tx).await?.rows_affected();
            }
            let count = std::collections::BTreeMap::from([(
                crate::sql::tallies::EVENTS.to_owned(),
                copied as i64,
            )]);
            self.add_tallies(&mut tx, &count).await?;
            for chunk in converted.chunks(500) {
                let sql = format!(
                    "DELETE FROM events_v16 WHERE seq IN ({})",
                    list(self.positional(), chunk.len())
                );
                let mut query = sqlx::query(&sql);
                for seq in chunk {
                    query = query.bind(*seq);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }
}

impl SqlStore {
    /// For tests of the upgrade: puts the events of the records' lists back into `events`, a row
    /// each sealed alone under `event/<hex of its id>`, as the code before migration 27 wrote
    /// them, with their sequence numbers, content MACs (16 bytes, as then) and arrival times; drops `event_ids` and
    /// `record_events` and sets `schema_version` back to 26.
    #[doc(hidden)]
    pub async fn put_events_back_as_before_migration_27(&self) -> Result<(), StoreError> {
        self.put_rows_back_as_before_migration_28().await?;
        let records = self.records_by_ref().await?;
        let numbers: HashMap<Vec<u8>, (i64, Vec<u8>)> =
            sqlx::query_as::<_, (Vec<u8>, i64, Vec<u8>)>(
                "SELECT event_id, seq, content_hash FROM event_ids",
            )
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, seq, hash)| (id, (seq, hash)))
            .collect();
        let lists: Vec<(Vec<u8>, String, Vec<u8>)> =
            sqlx::query_as("SELECT person, case_code, body FROM record_events")
                .fetch_all(&self.pool)
                .await?;
        let mut tx = self.begin_write().await?;
        // Rows numbered above the mark are what the trigger refuses from older builds.
        let unclose = if self.backend == Backend::Postgres {
            "DROP TRIGGER IF EXISTS events_closed_to_older_builds ON events; DROP TABLE IF EXISTS events_closed;"
        } else {
            "DROP TRIGGER IF EXISTS events_closed_to_older_builds; DROP TABLE IF EXISTS events_closed;"
        };
        sqlx::raw_sql(unclose).execute(&mut *tx).await?;
        for (person, case_code, sealed) in lists {
            let (person_key, wrapped) = records
                .get(&(person.clone(), case_code.clone()))
                .ok_or_else(|| StoreError::Corrupt(format!("no record for list {case_code}")))?;
            let key = self.keys.record_key(wrapped, person_key, &case_code)?;
            for kept in record_events::open(&key, &person, &case_code, &sealed)? {
                let (_, id) = self.read_kept(&kept)?;
                let (seq, hash) = numbers
                    .get(&id)
                    .ok_or_else(|| StoreError::Corrupt("event without its row".into()))?;
                // The MAC in the length of before (16 bytes), which stores of then hold.
                let hash = if hash.len() == keys::CONTENT_MAC_BYTES {
                    self.keys.content_mac_previous(&kept.body)
                } else {
                    hash.clone()
                };
                sqlx::query(
                    "INSERT INTO events (seq, person, case_code, event_id, content_hash, received_at, body) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(*seq)
                .bind(person.as_slice())
                .bind(case_code.as_str())
                .bind(id.as_slice())
                .bind(hash.as_slice())
                .bind(kept.received_at)
                .bind(keys::seal(&key, &kept.body, &event_aad(&id)))
                .execute(&mut *tx)
                .await?;
            }
        }
        let drop = if self.backend == Backend::Postgres {
            "DROP TABLE record_events; DROP TABLE event_ids; DROP SEQUENCE event_seq; \
             DELETE FROM schema_version WHERE version >= 27;"
        } else {
            "DROP TABLE record_events; DROP TABLE event_ids; DROP TABLE event_seq; \
             DELETE FROM schema_version WHERE version >= 27;"
        };
        sqlx::raw_sql(drop).execute(&mut *tx).await?;
        if self.backend == crate::types::Backend::Postgres {
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('events', 'seq'), COALESCE((SELECT MAX(seq) FROM events), 0) + 1, false)",
            )
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "UPDATE sqlite_sequence SET seq = max(seq, COALESCE((SELECT MAX(seq) FROM events), 0)) WHERE name = 'events'",
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// For tests of the upgrade: puts `events` back as migrations 1–16 left it (the table
    /// `events` with the person key in hex, the plain idempotency key, kind, date, agency code,
    /// the arrival time as text and the body sealed under `event/<idempotency key>`, without
    /// compression, as the code before wrote it), with the same sequence numbers and content
    /// hashes (a MAC in its form of before, `0x01 ‖ HMAC`), and sets `schema_version` back to 16, so that the next opening converts it again.
    #[doc(hidden)]
    pub async fn put_events_back_as_before_migration_17(&self) -> Result<(), StoreError> {
        self.put_events_back_as_before_migration_27().await?;
        let records = self.records_by_ref().await?;
        type Row = (i64, Vec<u8>, String, Vec<u8>, Vec<u8>, i64, Vec<u8>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, person, case_code, event_id, content_hash, received_at, body FROM events ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let postgres = self.backend == crate::types::Backend::Postgres;
        let mut tx = self.begin_write().await?;
        let create = if postgres {
            "DROP TABLE events;
             CREATE TABLE events (
                 seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, person_key TEXT NOT NULL,
                 case_code TEXT NOT NULL, idempotency_key TEXT NOT NULL, content_hash BYTEA NOT NULL,
                 kind TEXT NOT NULL, event_date TEXT NOT NULL, agency_code TEXT NOT NULL,
                 received_at TEXT NOT NULL, body BYTEA NOT NULL,
                 CONSTRAINT events_agency_idempotency_key UNIQUE (agency_code, idempotency_key));
             CREATE INDEX events_by_record ON events (person_key, case_code, seq);"
        } else {
            "DROP TABLE events;
             CREATE TABLE events (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT, person_key TEXT NOT NULL,
                 case_code TEXT NOT NULL, idempotency_key TEXT NOT NULL, content_hash BLOB NOT NULL,
                 kind TEXT NOT NULL, event_date TEXT NOT NULL, agency_code TEXT NOT NULL,
                 received_at TEXT NOT NULL, body BLOB NOT NULL,
                 UNIQUE (agency_code, idempotency_key));
             CREATE INDEX events_by_record ON events (person_key, case_code, seq);"
        };
        sqlx::raw_sql(create).execute(&mut *tx).await?;
        let insert = if postgres {
            "INSERT INTO events (seq, person_key, case_code, idempotency_key, content_hash, kind, event_date, \
             agency_code, received_at, body) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        } else {
            "INSERT INTO events (seq, person_key, case_code, idempotency_key, content_hash, kind, event_date, \
             agency_code, received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        };
        for (seq, person, case_code, event_id, hash, received_at, body) in rows {
            let (person_key, wrapped) = records
                .get(&(person, case_code.clone()))
                .ok_or_else(|| StoreError::Corrupt(format!("no record for event {seq}")))?;
            let record = (person_key.clone(), case_code);
            let key = self.keys.record_key(wrapped, &record.0, &record.1)?;
            let plain = keys::open(&key, &body, &event_aad(&event_id))?;
            let event = Event::parse_stored(&plain)
                .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
            let body = key.seal(
                &plain,
                legacy_event_aad(&event.event.idempotency_key).as_bytes(),
            );
            // The MAC in the form of before (a plain hash a test put there is kept).
            let hash = if [keys::CONTENT_MAC_BYTES, keys::PREVIOUS_MAC_BYTES].contains(&hash.len())
            {
                self.keys.content_mac_v1(&plain)
            } else {
                hash
            };
            sqlx::query(insert)
                .bind(seq)
                .bind(record.0.as_str())
                .bind(record.1.as_str())
                .bind(event.event.idempotency_key.as_str())
                .bind(hash)
                .bind(event.event.kind.code())
                .bind(event.date.to_string())
                .bind(event.event.agency.code.as_str())
                .bind(received_text(received_at)?)
                .bind(body)
                .execute(&mut *tx)
                .await?;
        }
        if postgres {
            sqlx::raw_sql(
                "SELECT setval(pg_get_serial_sequence('events', 'seq'), COALESCE((SELECT MAX(seq) FROM events), 0) + 1, false)",
            )
            .execute(&mut *tx)
            .await?;
        }
        // The person keys of records, transitions and holdings in hex too, as migrations 1–16 left
        // them.
        super::records::keys_as_before_migration_20(&mut tx, self.backend).await?;
        sqlx::raw_sql("DELETE FROM schema_version WHERE version >= 17")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Held (per transaction) on PostgreSQL while a batch of old events is converted.
const CONVERSION_LOCK: i64 = 0x0066_656e_6763_7517;

/// A record's prefetched events, opened with its key, in arrival order: those of its rows, then
/// those of its list, numbered after them (derivation reads only their order from the numbers).
pub(crate) fn open_events(
    prefetched: &PrefetchedEvents,
    person_key: &str,
    case_code: &str,
    key: &DataKey,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = prefetched
        .rows
        .iter()
        .map(|(seq, event_id, body)| {
            let event = open_event(key, event_id, body)?;
            Ok(StoredEvent { seq: *seq, event })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let after = events.last().map_or(0, |e| e.seq);
    for (n, kept) in (1..).zip(kept_events(prefetched, person_key, case_code, key)?) {
        events.push(StoredEvent {
            seq: after + n,
            event: parse_kept(&kept)?,
        });
    }
    Ok(events)
}

/// The events of a record's prefetched list, opened (none without a list).
pub(crate) fn kept_events(
    prefetched: &PrefetchedEvents,
    person_key: &str,
    case_code: &str,
    key: &DataKey,
) -> Result<Vec<KeptEvent>, StoreError> {
    let Some(sealed) = &prefetched.list else {
        return Ok(Vec::new());
    };
    let person = person_column(person_key)
        .ok_or_else(|| StoreError::Corrupt(format!("person key {person_key}")))?;
    record_events::open(key, &person, case_code, sealed)
}

/// An event of a record's list, read.
pub(crate) fn parse_kept(kept: &KeptEvent) -> Result<ValidEvent, StoreError> {
    Event::parse_stored(&kept.body).map_err(|e| {
        StoreError::Corrupt(format!(
            "an event of a list, received at {}: {e}",
            kept.received_at
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::expect_used,
        clippy::unwrap_used,
        reason = "a test fails loudly on a broken fixture"
    )]

    use super::{LISTS_INTO_RECORDS, hashes_of_ids, lists_of_persons};
    use crate::sql::SqlStore;
    use crate::sql::rows::{Param, placeholders};
    use crate::testing::{fresh_urls, plan};
    use crate::{Backend, Keys, Store};

    /// A batch reads its persons' lists by the key of `records` and its known events by
    /// the key of `event_ids` (and, for those stored before migration 27, `events_by_id`): a scan of
    /// either would read every event of the country for each batch.
    #[tokio::test]
    async fn a_batch_reads_lists_and_ids_by_their_keys() {
        for url in fresh_urls("events_plan").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let two = || vec![Param::Blob(vec![1; 16]), Param::Blob(vec![2; 16])];
            let positional = store.positional();
            let cases = [
                (lists_of_persons(positional, 2), "records"),
                (hashes_of_ids("event_ids", positional, 2), "event_ids"),
                (hashes_of_ids("events", positional, 2), "events_by_id"),
            ];
            for (sql, index) in cases {
                let plan = plan(&store, &sql, two()).await;
                let uses = |wanted: &str| plan.iter().any(|step| step.contains(wanted));
                let keyed = match (store.backend(), index) {
                    (Backend::Sqlite, "records") => {
                        uses("SEARCH records USING PRIMARY KEY (person=?)")
                    }
                    (Backend::Sqlite, "event_ids") => {
                        uses("SEARCH event_ids USING PRIMARY KEY (event_id=?)")
                    }
                    (Backend::Sqlite, index) => uses(&format!("USING INDEX {index} (event_id=?)")),
                    (Backend::Postgres, "events_by_id") => uses("events_by_id"),
                    (Backend::Postgres, table) => uses(&format!("{table}_pkey")),
                };
                assert!(keyed, "{url}: {sql}: {plan:#?}");
                assert!(
                    !plan
                        .iter()
                        .any(|step| step.trim_start().starts_with("SCAN ")
                            || step.contains("Seq Scan")),
                    "{url}: {plan:#?}"
                );
            }
        }
    }

    /// A batch writes its records' lists into their rows by the records' key: a scan would read
    /// every record of the country for each hundred lists.
    #[tokio::test]
    async fn a_batch_writes_lists_by_the_records_key() {
        for url in fresh_urls("lists_plan").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let (head, tail) = LISTS_INTO_RECORDS;
            let sql = format!("{head} {} {tail}", placeholders(store.positional(), 2, 3));
            let row = |n: u8| {
                [
                    Param::Blob(vec![n; 32]),
                    Param::Text(Some(format!("110105-2024-00000{n}"))),
                    Param::Blob(vec![n; 8]),
                ]
            };
            let params = row(1).into_iter().chain(row(2)).collect();
            let plan = plan(&store, &sql, params).await;
            let keyed = plan.iter().any(|step| match store.backend() {
                Backend::Sqlite => {
                    step.contains("SEARCH records USING PRIMARY KEY (person=? AND case_code=?)")
                }
                // The key, or `records_by_case` (case code, person), which names one row as well.
                Backend::Postgres => {
                    step.contains("Index Cond")
                        && step.contains("case_code = ")
                        && step.contains("person = ")
                }
            });
            assert!(keyed, "{url}: {sql}: {plan:#?}");
            assert!(
                !plan
                    .iter()
                    .any(|step| step.contains("SCAN records")
                        || step.contains("Seq Scan on records")),
                "{url}: {plan:#?}"
            );
        }
    }

    /// A list written into its stored record's row replaces the list there; a list whose record
    /// has no row refuses the write (the caller's batch rolls back) instead of vanishing.
    #[tokio::test]
    async fn a_list_goes_into_its_records_row_or_the_write_is_refused() {
        for url in fresh_urls("lists_write").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let person = "ab".repeat(32);
            sqlx::query(
                "INSERT INTO records (person, case_code, state, data_key, updated_at, events) \
                 VALUES ($1, $2, 'open', $3, '', $4)",
            )
            .bind(crate::sql::rows::person_bytes(&person))
            .bind("110105-2024-000001")
            .bind(vec![1u8; 8])
            .bind(vec![2u8; 4])
            .execute(store.pool())
            .await
            .unwrap();
            let list = |case_code: &str, sealed: u8| super::ListRow {
                person_key: person.clone(),
                case_code: case_code.to_owned(),
                sealed: vec![sealed; 4],
            };
            let stored = || async {
                let (events,): (Vec<u8>,) = sqlx::query_as("SELECT events FROM records")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                events
            };

            let mut tx = store.begin_write().await.unwrap();
            let refused = store
                .write_lists(
                    &mut tx,
                    &[list("110105-2024-000001", 3), list("110105-2024-000002", 4)],
                )
                .await;
            assert!(
                matches!(&refused, Err(crate::StoreError::Corrupt(m)) if m.contains("no record row")),
                "{url}: {refused:?}"
            );
            tx.rollback().await.unwrap();
            assert_eq!(stored().await, vec![2u8; 4], "{url}: rolled back");

            let mut tx = store.begin_write().await.unwrap();
            store
                .write_lists(&mut tx, &[list("110105-2024-000001", 5)])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(stored().await, vec![5u8; 4], "{url}");
        }
    }
}
