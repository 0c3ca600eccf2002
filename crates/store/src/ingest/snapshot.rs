//! What a batch is decided on: a snapshot of the store read before anything of the batch is
//! written, and the same snapshot brought forward past a batch written since (`absorb`).

use std::collections::{HashMap, HashSet};

use fengcun_domain::ValidEvent;
use sqlx::AnyConnection;

use crate::decisions::Persons;
use crate::error::StoreError;
use crate::ingest::Effects;
use crate::sql::SqlStore;
use crate::sql::events::event_id;

/// What a batch is decided on, read before anything of it is written: the idempotency keys (of
/// their agencies) and document numbers it names that are known already, the kinds of its agencies
/// where registered, and every record of its persons with their events.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// (agency code, idempotency key) → content hash of the stored event.
    pub(crate) known: HashMap<(String, String), Vec<u8>>,
    pub(crate) mappings: HashMap<(String, String), String>,
    /// Agency code → kind, as configured or registered by the agency's first event.
    pub(crate) agencies: HashMap<String, String>,
    pub(crate) persons: Persons,
    /// The persons whose records were read (whether they had any or not).
    wanted: HashSet<String>,
}

/// Events of an earlier batch numbered after every stored event: they follow them in the order of
/// arrival, which is all that derivation reads from a sequence number.
const OVERLAY_SEQ: i64 = 1 << 52;

impl Snapshot {
    /// The snapshot as it will be once `earlier` — a batch read before this snapshot and written
    /// since, or being written — has committed. Applying it to a snapshot that already shows
    /// that batch changes nothing: events are matched by key, records replaced by the same state.
    pub(crate) fn absorb(&mut self, earlier: &Effects) {
        for event in earlier.events.iter() {
            let key = &event.idempotency_key;
            self.known
                .entry((event.agency.clone(), key.clone()))
                .or_insert_with(|| event.hash.clone());
            if !self.wanted.contains(&event.person_key) {
                continue;
            }
            let rows = self
                .persons
                .1
                .entry((event.person_key.clone(), event.case_code.clone()))
                .or_default();
            if !rows.iter().any(|(_, id, _)| *id == event.event_id) {
                rows.push((
                    OVERLAY_SEQ + event.line as i64,
                    event.event_id.clone(),
                    event.body.clone(),
                ));
            }
        }
        for (agency, document, case) in &earlier.mappings {
            self.mappings
                .entry((agency.clone(), document.clone()))
                .or_insert_with(|| case.clone());
        }
        for (agency, kind, _) in &earlier.agencies {
            self.agencies
                .entry(agency.clone())
                .or_insert_with(|| kind.clone());
        }
        for (person_key, case_code, cached) in &earlier.records {
            if self.wanted.contains(person_key) {
                self.persons
                    .0
                    .entry(person_key.clone())
                    .or_default()
                    .insert(case_code.clone(), cached.clone());
            }
        }
    }
}

impl SqlStore {
    /// Everything a batch is decided on, in as few statements as the batch allows. Read inside
    /// one transaction, so that it is one state of the store.
    pub(crate) async fn read_snapshot(
        &self,
        tx: &mut AnyConnection,
        events: &[ValidEvent],
        person_keys: &[String],
    ) -> Result<Snapshot, StoreError> {
        let known = self.known_hashes(tx, events).await?;
        let mappings = self.known_mappings(tx, events).await?;
        let agencies = self.known_agencies(tx, events).await?;
        // Only the persons of events not stored yet: a batch that is all duplicates (an import
        // run again) reads no records.
        let mut wanted: Vec<String> = events
            .iter()
            .zip(person_keys)
            .filter(|(valid, _)| {
                let (agency, key) = event_id(&valid.event);
                !known.contains_key(&(agency.to_owned(), key.to_owned()))
            })
            .map(|(_, key)| key.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        wanted.sort_unstable();
        let rows = self.load_persons(tx, &wanted).await?;
        let prefetched = self
            .prefetch_events(tx, rows.keys().map(String::as_str))
            .await?;
        let persons = Persons(rows, prefetched, HashMap::new());
        Ok(Snapshot {
            known,
            mappings,
            agencies,
            persons,
            wanted: wanted.into_iter().collect(),
        })
    }
}
