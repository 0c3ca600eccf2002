//! Events in SQL, and what events bring with them: the events themselves (sealed with their
//! record's key), the case-number mappings of agencies' document numbers (一案一码), and the
//! agencies an event registers. Data access only: which line is a duplicate, which case a
//! document maps to and whether an agency may send an event are decided by the batch
//! (`crate::ingest`).

use std::collections::HashMap;

use fengcun_crypto::DataKey;
use fengcun_domain::{Event, ValidEvent};
use fengcun_lifecycle::StoredEvent;
use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::keys;
use crate::sql::SqlStore;
use crate::sql::rows::{Param, ROWS_PER_STATEMENT, list, list_from, param, placeholders, ts};
use crate::types::Context;

/// Stored events of the persons' records (encrypted), read in one statement per batch: one round
/// trip per record made a batch of repeat offenders slow, and deriving without the database lets
/// the batch's records be derived while its events are being written.
pub(crate) type Prefetched = HashMap<(String, String), Vec<PrefetchedEvent>>;

/// A stored event as prefetched: sequence number, agency code, idempotency key, sealed body.
pub(crate) type PrefetchedEvent = (i64, String, String, Vec<u8>);

/// An event's identity: its agency's code and its idempotency key. Keys are scoped to the agency
/// that chose them (docs/events.md): two agencies may use the same key for different events.
pub(crate) fn event_id(event: &Event) -> (&str, &str) {
    (event.agency.code.as_str(), event.idempotency_key.as_str())
}

/// An event row as written: its body sealed with its record's key.
#[derive(Debug)]
pub(crate) struct EventRow {
    pub(crate) line: usize,
    pub(crate) person_key: String,
    pub(crate) case_code: String,
    pub(crate) idempotency_key: String,
    pub(crate) hash: Vec<u8>,
    pub(crate) kind: &'static str,
    pub(crate) date: String,
    pub(crate) agency: String,
    pub(crate) body: Vec<u8>,
}

/// An agency as its first event names it: code, kind, name.
pub(crate) type AgencyRow = (String, String, Option<String>);

impl SqlStore {
    /// The content hashes of the batch's events already stored, by agency and key: a key is looked
    /// up among its own agency's events only (by the key (agency code, idempotency key)).
    pub(crate) async fn known_hashes(
        &self,
        tx: &mut AnyConnection,
        events: &[ValidEvent],
    ) -> Result<HashMap<(String, String), Vec<u8>>, StoreError> {
        let mut by_agency: HashMap<&str, Vec<&str>> = HashMap::new();
        for e in events {
            let (agency, key) = event_id(&e.event);
            by_agency.entry(agency).or_default().push(key);
        }
        let mut known = HashMap::new();
        for (agency, keys) in by_agency {
            for chunk in keys.chunks(500) {
                let positional = self.positional();
                let sql = format!(
                    "SELECT agency_code, idempotency_key, content_hash FROM events WHERE agency_code = {} AND idempotency_key IN ({})",
                    param(positional, 1),
                    list_from(positional, 2, chunk.len())
                );
                let mut query = sqlx::query_as::<_, (String, String, Vec<u8>)>(&sql).bind(agency);
                for key in chunk {
                    query = query.bind(*key);
                }
                for (agency, key, hash) in query.fetch_all(&mut *tx).await? {
                    known.insert((agency, key), hash);
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
        let mut known = HashMap::new();
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
        let mut known = HashMap::new();
        for chunk in pairs.chunks(250) {
            let mut agencies: Vec<&str> = chunk.iter().map(|(agency, _)| *agency).collect();
            agencies.dedup();
            let mut documents: Vec<&str> = chunk.iter().map(|(_, document)| *document).collect();
            documents.sort_unstable();
            documents.dedup();
            let positional = self.positional();
            let sql = format!(
                "SELECT agency_code, document_number, case_code FROM case_numbers WHERE agency_code IN ({}) AND document_number IN ({})",
                list(positional, agencies.len()),
                list_from(positional, agencies.len() + 1, documents.len())
            );
            let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
            for value in agencies.iter().chain(&documents) {
                query = query.bind(*value);
            }
            for (agency, document, case) in query.fetch_all(&mut *tx).await? {
                known.insert((agency, document), case);
            }
        }
        Ok(known)
    }

    /// Inserts event rows, a hundred to a statement, and the holdings they bring.
    pub(crate) async fn insert_event_rows(
        &self,
        tx: &mut AnyConnection,
        rows: &[EventRow],
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let received = ts(ctx.now);
        self.insert_holdings(tx, rows).await?;
        self.insert_rows_with(
            tx,
            "INSERT INTO events (person_key, case_code, idempotency_key, content_hash, kind, event_date, agency_code, received_at, body) VALUES",
            rows,
            9,
            |query, row| {
                query
                    .bind(row.person_key.as_str())
                    .bind(row.case_code.as_str())
                    .bind(row.idempotency_key.as_str())
                    .bind(row.hash.as_slice())
                    .bind(row.kind)
                    .bind(row.date.as_str())
                    .bind(row.agency.as_str())
                    .bind(received.clone())
                    .bind(row.body.as_slice())
            },
        )
        .await
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
        rows: &[EventRow],
    ) -> Result<(), StoreError> {
        let mut holdings: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.agency.as_str(),
                    r.case_code.as_str(),
                    r.person_key.as_str(),
                )
            })
            .collect();
        holdings.sort_unstable();
        holdings.dedup();
        let mut new_by_agency: std::collections::BTreeMap<String, i64> = Default::default();
        for chunk in holdings.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO holdings (agency_code, case_code, person_key) VALUES {} \
                 ON CONFLICT (agency_code, case_code, person_key) DO NOTHING RETURNING agency_code",
                placeholders(self.positional(), chunk.len(), 3)
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for (agency, case, person) in chunk {
                query = query.bind(*agency).bind(*case).bind(*person);
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
                    Param::text(document.as_str()),
                    Param::text(case.as_str()),
                ]
            })
            .collect();
        self.insert_rows(
            tx,
            "INSERT INTO case_numbers (agency_code, document_number, case_code) VALUES",
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
        let mut wanted: Vec<&str> = person_keys.collect();
        wanted.sort_unstable();
        let mut prefetched = Prefetched::new();
        for chunk in wanted.chunks(500) {
            let sql = format!(
                "SELECT seq, person_key, case_code, agency_code, idempotency_key, body FROM events WHERE person_key IN ({}) ORDER BY seq",
                list(self.positional(), chunk.len())
            );
            let mut query =
                sqlx::query_as::<_, (i64, String, String, String, String, Vec<u8>)>(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            for (seq, person_key, case_code, agency, idempotency_key, body) in
                query.fetch_all(&mut *tx).await?
            {
                prefetched
                    .entry((person_key, case_code))
                    .or_default()
                    .push((seq, agency, idempotency_key, body));
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
        let rows: Vec<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT seq, idempotency_key, body FROM events WHERE person_key = $1 AND case_code = $2 ORDER BY seq")
                .bind(person_key)
                .bind(case_code)
                .fetch_all(&mut *tx)
                .await?;
        rows.into_iter()
            .map(|(seq, idempotency_key, body)| {
                let plain = keys::open(key, &body, &format!("event/{idempotency_key}"))?;
                let event = Event::parse_stored(&plain)
                    .map_err(|e| StoreError::Corrupt(format!("event {idempotency_key}: {e}")))?;
                Ok(StoredEvent { seq, event })
            })
            .collect()
    }

    /// Every stored event in arrival order, decrypted, with its arrival time (for rebuilds).
    pub(crate) async fn stored_events(
        &self,
    ) -> Result<Vec<(ValidEvent, jiff::Timestamp)>, StoreError> {
        // Person key, case code, idempotency key, sealed body, arrival time, wrapped record key.
        type Row = (String, String, String, Vec<u8>, String, Vec<u8>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.person_key, e.case_code, e.idempotency_key, e.body, e.received_at, r.data_key FROM events e \
             JOIN records r ON r.person_key = e.person_key AND r.case_code = e.case_code ORDER BY e.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut keys_by_record: HashMap<(String, String), DataKey> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (person_key, case_code, idempotency_key, body, received_at, wrapped) in rows {
            let record = (person_key, case_code);
            if !keys_by_record.contains_key(&record) {
                let key = self.keys.record_key(&wrapped, &record.0, &record.1)?;
                keys_by_record.insert(record.clone(), key);
            }
            let key = keys_by_record
                .get(&record)
                .ok_or_else(|| StoreError::Corrupt("record key".into()))?;
            let plain = keys::open(key, &body, &format!("event/{idempotency_key}"))?;
            let event = Event::parse_stored(&plain)
                .map_err(|e| StoreError::Corrupt(format!("event {idempotency_key}: {e}")))?;
            let at: jiff::Timestamp = received_at
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("time {received_at}")))?;
            out.push((event, at));
        }
        Ok(out)
    }

    /// Replaces the plain content hashes of events stored before the keyed MAC (`Keys::content_mac`)
    /// by their MACs, computed over each event's decrypted body — exactly the bytes the plain hash
    /// was of, so a duplicate is still recognised. Done once, when the store is opened with its
    /// master key, a transaction per 500 events; an interrupted run resumes where it stopped (only
    /// 32-byte values are plain hashes), and two processes doing it together write the same values.
    /// An event whose body (or record key) does not open is left as it is and logged: one damaged row must not stop
    /// the platform, and its duplicate check still compares the plain hash (`Keys::same_content`).
    pub(crate) async fn rewrite_legacy_content_hashes(&self) -> Result<(), StoreError> {
        let mut after = 0i64;
        loop {
            let mut tx = self.begin_write().await?;
            // seq, person key, case code, idempotency key, sealed body, wrapped record key.
            type Row = (i64, String, String, String, Vec<u8>, Vec<u8>);
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT e.seq, e.person_key, e.case_code, e.idempotency_key, e.body, r.data_key FROM events e \
                 JOIN records r ON r.person_key = e.person_key AND r.case_code = e.case_code \
                 WHERE length(e.content_hash) = $1 AND e.seq > $2 ORDER BY e.seq LIMIT 500",
            )
            .bind(keys::LEGACY_HASH_BYTES as i64)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for (seq, person_key, case_code, idempotency_key, body, wrapped) in rows {
                after = seq;
                let opened = self
                    .keys
                    .record_key(&wrapped, &person_key, &case_code)
                    .and_then(|key| keys::open(&key, &body, &format!("event/{idempotency_key}")));
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
}

/// A record's prefetched events, opened with its key.
pub(crate) fn open_events(
    rows: &[PrefetchedEvent],
    key: &DataKey,
) -> Result<Vec<StoredEvent>, StoreError> {
    rows.iter()
        .map(|(seq, _, idempotency_key, body)| {
            let (seq, body) = (*seq, body.as_slice());
            let plain = keys::open(key, body, &format!("event/{idempotency_key}"))?;
            let event = Event::parse_stored(&plain)
                .map_err(|e| StoreError::Corrupt(format!("event {idempotency_key}: {e}")))?;
            Ok(StoredEvent { seq, event })
        })
        .collect()
}
