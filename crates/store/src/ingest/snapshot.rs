//! What a batch is decided on: a snapshot of the store read before anything of the batch is
//! written, and the same snapshot brought forward past a batch written since (`absorb`).

use crate::{HashMap, HashSet};

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
    /// (agency code, case code, person key): which of the batch's agencies already hold the
    /// stored records the batch names (`prepare` lets an agency join a case only by a step that
    /// hands it the case: `EventKind::joins_a_case`).
    pub(crate) holdings: HashSet<(String, String, String)>,
    /// (agency kind, case code, person key): for the stored records a batch's agency reports on
    /// for the first time, whether an agency of its kind holds them (then it may not join by
    /// any step: the case is another bureau's).
    pub(crate) kinds: HashSet<(String, String, String)>,
    /// The persons whose records were read (whether they had any or not).
    wanted: HashSet<String>,
}

impl Snapshot {
    /// The snapshot as it will be once `earlier` — a batch read before this snapshot and written
    /// since, or being written — has committed. Applying it to a snapshot that already shows
    /// that batch changes nothing: events are matched by key, records replaced by the same state.
    pub(crate) fn absorb(&mut self, earlier: &Effects) {
        for event in earlier.events.iter() {
            if let Some(kind) = self.agencies.get(&event.agency) {
                self.kinds.insert((
                    kind.clone(),
                    event.case_code.clone(),
                    event.person_key.clone(),
                ));
            }
            self.holdings.insert((
                event.agency.clone(),
                event.case_code.clone(),
                event.person_key.clone(),
            ));
            let key = &event.idempotency_key;
            self.known
                .entry((event.agency.clone(), key.clone()))
                .or_insert_with(|| event.hash.clone());
        }
        // A record's list as the earlier batch wrote it holds every event of the list before it
        // and the batch's: it replaces the list read (the same list, if the snapshot shows that
        // batch already).
        for list in earlier.lists.iter() {
            if !self.wanted.contains(&list.person_key) {
                continue;
            }
            self.persons
                .1
                .entry((list.person_key.clone(), list.case_code.clone()))
                .or_default()
                .list = Some(list.sealed.clone());
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
        let asked = holdings_to_ask(events, person_keys, &known, &mappings, &rows);
        let holdings = self.known_holdings(tx, &asked).await?;
        // The kind each agency of the batch declares (a declared kind that is not its registered
        // one is refused line by line in `prepare`).
        let declared: HashMap<&str, &str> = events
            .iter()
            .map(|valid| {
                let agency = &valid.event.agency;
                (agency.code.as_str(), agency.kind.code())
            })
            .collect();
        let newcomers: HashSet<(String, String, String)> = asked
            .iter()
            .filter(|held| !holdings.contains(*held))
            .filter_map(|(agency, case, person)| {
                let kind = declared.get(agency.as_str())?;
                Some(((*kind).to_owned(), case.clone(), person.clone()))
            })
            .collect();
        let kinds = self.held_by_kind(tx, &newcomers).await?;
        let persons = Persons(rows, prefetched, HashMap::default());
        Ok(Snapshot {
            known,
            mappings,
            agencies,
            persons,
            holdings,
            kinds,
            wanted: wanted.into_iter().collect(),
        })
    }
}

/// The holdings a batch's check needs: for each event not stored yet whose record is stored, its
/// agency's (the case code as the event names it or its agency's document number maps it).
fn holdings_to_ask(
    events: &[ValidEvent],
    person_keys: &[String],
    known: &HashMap<(String, String), Vec<u8>>,
    mappings: &HashMap<(String, String), String>,
    rows: &crate::sql::records::PersonRows,
) -> HashSet<(String, String, String)> {
    events
        .iter()
        .zip(person_keys)
        .filter_map(|(valid, person_key)| {
            let event = &valid.event;
            let (agency, key) = event_id(event);
            if known.contains_key(&(agency.to_owned(), key.to_owned())) {
                return None;
            }
            let case_code = match &valid.case_code {
                Some(code) => code.to_string(),
                None => mappings
                    .get(&(agency.to_owned(), event.document_number.clone()?))?
                    .clone(),
            };
            rows.get(person_key)?.get(&case_code)?;
            Some((agency.to_owned(), case_code, person_key.clone()))
        })
        .collect()
}
