//! Ingestion and the lifecycle, applied in the database: the part of `SqlStore` that turns events
//! into stored facts, decisions, transitions and notices.
//!
//! Cost is counted in statements (each is a round trip): a batch reads what it needs up front —
//! known idempotency keys, case-number mappings, every record of the batch's persons — writes
//! events, new records and mappings with multi-row inserts, and keeps the persons' records in a
//! cache that the unsealing triggers consult without asking the database again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use fengcun_crypto::DataKey;
use fengcun_domain::{Event, EventKind, Record, ValidEvent, parse_record};
use fengcun_lifecycle::{
    Cause, Decided, DecidedRecord, PersonRecords, State, StoredEvent, Transition, Under, decide,
    first_contradicting,
};

use crate::error::StoreError;
use crate::keys;
use sqlx::AnyConnection;

use crate::sql::rows::{Param, ROWS_PER_STATEMENT, list, param, placeholders};
use crate::sql::{SqlStore, state_from_row, ts};
use crate::types::{Context, LineOutcome};

/// Hexadecimal digits of time at the start of a transition id; a count and a random part follow.
const TIME_DIGITS: usize = 12;

/// Where a transition id's random part starts, after its time and its count: notice numbers take
/// eight of its digits.
const RANDOM_FROM: usize = TIME_DIGITS + 8;

/// Transitions this process has made: the order of ids made at one context time.
static TRANSITIONS_MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The first of PostgreSQL's advisory lock numbers for persons (`lock_persons`): "fengp" and a
/// bucket number in the last two bytes, apart from the migrations' lock ("fengcun").
const PERSON_LOCKS: i64 = 0x0066_656e_6770_0000;

/// Bits of a person key that name its lock's bucket.
const PERSON_LOCK_BITS: u32 = 10;

/// The advisory lock number of a person key's bucket: its first ten bits, so that locks in
/// ascending order are persons in key order. A key that is not hexadecimal (none is) falls in
/// bucket 0.
fn person_lock(person_key: &str) -> i64 {
    let head = person_key
        .get(..4)
        .and_then(|digits| u16::from_str_radix(digits, 16).ok())
        .unwrap_or(0);
    PERSON_LOCKS + i64::from(head >> (16 - PERSON_LOCK_BITS))
}

/// One record of a person, as the batch knows it.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    /// `None` until the record's first decision.
    pub state: Option<State>,
    pub convicted: bool,
    pub facts: Option<Vec<u8>>,
    pub wrapped: Vec<u8>,
    /// Decrypted facts, filled on first use.
    pub record: Option<Record>,
}

/// Every record of the persons a batch touches, keyed by person, then case; with every event of
/// theirs, so that deriving a record never waits for the database.
#[derive(Debug, Default)]
pub(crate) struct Persons(
    HashMap<String, HashMap<String, Cached>>,
    Prefetched,
    HashMap<(String, String), Vec<StoredEvent>>,
);

/// Stored events of the persons' records (encrypted), read in one statement per batch: one round
/// trip per record made a batch of repeat offenders slow, and deriving without the database lets
/// the batch's records be derived while its events are being written.
type Prefetched = HashMap<(String, String), Vec<PrefetchedEvent>>;

/// A stored event as prefetched: sequence number, agency code, idempotency key, sealed body.
type PrefetchedEvent = (i64, String, String, Vec<u8>);

/// An event's identity: its agency's code and its idempotency key. Keys are scoped to the agency
/// that chose them (docs/events.md): two agencies may use the same key for different events.
fn event_id(event: &Event) -> (&str, &str) {
    (event.agency.code.as_str(), event.idempotency_key.as_str())
}

impl Persons {
    fn get(&self, person_key: &str, case_code: &str) -> Option<&Cached> {
        self.0.get(person_key)?.get(case_code)
    }

    fn get_mut(&mut self, person_key: &str, case_code: &str) -> Option<&mut Cached> {
        self.0.get_mut(person_key)?.get_mut(case_code)
    }

    /// A record's events: stored ones, then the batch's (numbered after them, in line order).
    fn events(
        &self,
        person_key: &str,
        case_code: &str,
        key: &DataKey,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let record = (person_key.to_owned(), case_code.to_owned());
        let mut events = match self.1.get(&record) {
            Some(rows) => decrypt_events(rows, key)?,
            None => Vec::new(),
        };
        let base = events.last().map_or(0, |e| e.seq);
        if let Some(arriving) = self.2.get(&record) {
            events.extend(arriving.iter().map(|e| StoredEvent {
                seq: base + e.seq,
                event: e.event.clone(),
            }));
        }
        Ok(events)
    }

    fn cases(&self, person_key: &str) -> Vec<String> {
        let mut cases: Vec<String> = self
            .0
            .get(person_key)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        cases.sort();
        cases
    }
}

/// Record, transition and notice rows a batch writes, flushed in multi-row statements at its end.
/// A record refreshed twice in one batch is written once, as it ended.
#[derive(Debug, Default)]
pub(crate) struct Writes {
    records: Vec<RecordRow>,
    transitions: Vec<[Param; 14]>,
    notices: Vec<[Param; 9]>,
    audit: Vec<crate::AuditEvent>,
}

#[derive(Debug)]
struct RecordRow {
    person_key: String,
    case_code: String,
    values: [Param; 7],
    /// The record's data key, wrapped: written with a new record, kept by an existing one.
    wrapped: Vec<u8>,
}

impl Writes {
    /// Transitions of one record among the rows to write (person key and case code are their
    /// second and third values).
    fn transitions_of(&self, person_key: &str, case_code: &str) -> usize {
        let is =
            |param: &Param, value: &str| matches!(param, Param::Text(Some(text)) if text == value);
        self.transitions
            .iter()
            .filter(|row| is(&row[1], person_key) && is(&row[2], case_code))
            .count()
    }
}

/// An event of the batch ready to be written.
struct Pending<'a> {
    line: usize,
    person_key: String,
    case_code: String,
    canonical: Vec<u8>,
    hash: Vec<u8>,
    event: &'a ValidEvent,
}

/// What a batch is decided on, read before anything of it is written: the idempotency keys (of
/// their agencies) and document numbers it names that are known already, the kinds of its agencies
/// where registered, and every record of its persons with their events.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// (agency code, idempotency key) → content hash of the stored event.
    known: HashMap<(String, String), Vec<u8>>,
    mappings: HashMap<(String, String), String>,
    /// Agency code → kind, as configured or registered by the agency's first event.
    agencies: HashMap<String, String>,
    persons: Persons,
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
            if !rows
                .iter()
                .any(|(_, agency, stored, _)| *agency == event.agency && stored == key)
            {
                rows.push((
                    OVERLAY_SEQ + event.line as i64,
                    event.agency.clone(),
                    key.clone(),
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

/// A batch sorted into outcomes and events to store, before its records are derived.
struct Prepared<'a> {
    outcomes: Vec<LineOutcome>,
    pending: Vec<Pending<'a>>,
    new_mappings: Vec<(String, String, String)>,
    /// Records the batch's events belong to, in order of first appearance.
    touched: Vec<(String, String)>,
    /// Each record's events, as indexes into `pending`.
    lines: HashMap<(String, String), Vec<usize>>,
    record_keys: HashMap<(String, String), DataKey>,
}

impl<'a> Prepared<'a> {
    fn mine(&self, record: &(String, String)) -> impl Iterator<Item = &Pending<'a>> + Clone {
        self.lines
            .get(record)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&index| &self.pending[index])
    }
}

/// An event row as written: its body sealed with its record's key.
#[derive(Debug)]
pub(crate) struct EventRow {
    line: usize,
    person_key: String,
    case_code: String,
    idempotency_key: String,
    hash: Vec<u8>,
    kind: &'static str,
    date: String,
    agency: String,
    body: Vec<u8>,
}

/// An agency as its first event names it: code, kind, name.
type AgencyRow = (String, String, Option<String>);

/// A batch decided, every row it writes ready.
#[derive(Debug)]
pub(crate) struct Plan {
    outcomes: Vec<LineOutcome>,
    /// Shared with the batch's `Effects`: the sealed bodies are not copied.
    events: Arc<[EventRow]>,
    mappings: Vec<(String, String, String)>,
    agencies: Vec<AgencyRow>,
    writes: Writes,
}

/// What a planned batch changes, for the snapshot of the batch after it (`Snapshot::absorb`).
#[derive(Debug)]
pub(crate) struct Effects {
    events: Arc<[EventRow]>,
    mappings: Vec<(String, String, String)>,
    agencies: Vec<AgencyRow>,
    records: Vec<(String, String, Cached)>,
}

/// The agencies of a batch's events, once each (stored only where not registered yet).
fn agency_rows(pending: &[Pending<'_>]) -> Vec<AgencyRow> {
    let mut done: HashSet<&str> = HashSet::new();
    let mut rows = Vec::new();
    for p in pending {
        let agency = &p.event.event.agency;
        if done.insert(agency.code.as_str()) {
            rows.push((
                agency.code.clone(),
                agency.kind.code().to_owned(),
                agency.name.clone(),
            ));
        }
    }
    rows
}

/// An event speaks as the kind its agency is registered with (configured, or established by the
/// agency's first event); the first event of an agency not registered yet registers it. What an
/// event declares never changes a registered kind: otherwise any agency could declare itself a
/// court and send judgments.
fn check_agency_kind(
    valid: &ValidEvent,
    line: usize,
    agencies: &mut HashMap<String, String>,
) -> Result<(), StoreError> {
    let agency = &valid.event.agency;
    let declared = agency.kind.code();
    match agencies.get(&agency.code) {
        Some(registered) if registered != declared => Err(StoreError::Invalid {
            line,
            error: fengcun_domain::FieldError::new(
                "agency.kind",
                fengcun_domain::FactError::Shape(format!(
                    "agency `{}` is registered as `{registered}`, not `{declared}`",
                    agency.code
                )),
            ),
        }),
        Some(_) => Ok(()),
        None => {
            agencies.insert(agency.code.clone(), declared.to_owned());
            Ok(())
        }
    }
}

/// `($1, $2), ($3, $4)` for PostgreSQL; `(?, ?), (?, ?)` for SQLite, whose driver looks every
/// named parameter up by a linear scan (quadratic on a statement of a thousand parameters).
impl SqlStore {
    /// Stores a batch inside `tx`: reads what it needs, decides, writes. The events are written
    /// while the records are derived: the database works on one core while the derivation
    /// (decisions, encryption) runs on the other.
    pub(crate) async fn ingest_in(
        &self,
        tx: &mut AnyConnection,
        events: &[ValidEvent],
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError> {
        let person_keys = self.person_keys(events);
        // Before anything is read: what is read below then includes every batch about these
        // persons that committed before this one, and none commits until this one has.
        self.lock_persons(tx, &person_keys).await?;
        let mut snapshot = self.read_snapshot(tx, events, &person_keys).await?;
        let prepared = self.prepare(&mut snapshot, events, person_keys)?;
        if prepared.pending.is_empty() {
            return Ok(prepared.outcomes);
        }
        let writing = async {
            // Sealed a statement at a time, so that sealing alternates with the derivation.
            for chunk in prepared.pending.chunks(ROWS_PER_STATEMENT) {
                let rows = seal_rows(unsealed_rows(chunk, &prepared.record_keys)?);
                self.insert_event_rows(tx, &rows, ctx).await?;
            }
            self.insert_mappings(tx, &prepared.new_mappings).await?;
            self.upsert_agencies(tx, &agency_rows(&prepared.pending))
                .await
        };
        let deriving = self.derive_batch(&mut snapshot.persons, &prepared, ctx);
        let (written, derived) = tokio::join!(writing, deriving);
        written?;
        let writes = match derived {
            Ok(writes) => writes,
            Err(failure) => return Err(self.blamed(tx, &snapshot, &prepared, failure).await?),
        };
        self.flush(tx, writes, ctx).await?;
        Ok(prepared.outcomes)
    }

    /// Decides a batch on a snapshot, writing nothing: what `ingest_in` would write, ready to be
    /// written by `write_plan`, and what it changes, for the snapshot of the batch after it. Any
    /// refusal (a reused key, a contradictory record) is returned as an error without the line
    /// being blamed: the caller stores such a batch with `ingest_in`, which names the line.
    pub(crate) async fn plan(
        &self,
        mut snapshot: Snapshot,
        events: &[ValidEvent],
        person_keys: Vec<String>,
        ctx: &Context,
    ) -> Result<(Plan, Effects), StoreError> {
        let prepared = self.prepare(&mut snapshot, events, person_keys)?;
        if prepared.pending.is_empty() {
            // As `ingest_in`: a batch of duplicates writes nothing.
            let plan = Plan {
                outcomes: prepared.outcomes,
                events: Arc::from([]),
                mappings: Vec::new(),
                agencies: Vec::new(),
                writes: Writes::default(),
            };
            let effects = Effects {
                events: Arc::from([]),
                mappings: Vec::new(),
                agencies: Vec::new(),
                records: Vec::new(),
            };
            return Ok((plan, effects));
        }
        // The event bodies need only their records' keys: they are sealed on another thread while
        // this one derives the records (SM4 in software is a third of deciding a batch).
        let unsealed = unsealed_rows(&prepared.pending, &prepared.record_keys)?;
        let sealing = tokio::task::spawn_blocking(move || seal_rows(unsealed));
        let writes = self
            .derive_batch(&mut snapshot.persons, &prepared, ctx)
            .await
            .map_err(|(_, error)| error)?;
        let rows: Arc<[EventRow]> = sealing
            .await
            .map_err(|e| StoreError::Corrupt(format!("sealing events: {e}")))?
            .into();
        let records = writes
            .records
            .iter()
            .filter_map(|row| {
                let cached = snapshot.persons.get(&row.person_key, &row.case_code)?;
                // Without the record as derived: the next batch reads the facts back from their
                // sealed form, as it would from the database.
                let cached = Cached {
                    record: None,
                    ..cached.clone()
                };
                Some((row.person_key.clone(), row.case_code.clone(), cached))
            })
            .collect();
        let effects = Effects {
            events: Arc::clone(&rows),
            mappings: prepared.new_mappings.clone(),
            agencies: agency_rows(&prepared.pending),
            records,
        };
        let plan = Plan {
            agencies: agency_rows(&prepared.pending),
            outcomes: prepared.outcomes,
            events: rows,
            mappings: prepared.new_mappings,
            writes,
        };
        Ok((plan, effects))
    }

    /// Writes what `plan` decided.
    pub(crate) async fn write_plan(
        &self,
        tx: &mut AnyConnection,
        plan: Plan,
        ctx: &Context,
    ) -> Result<Vec<LineOutcome>, StoreError> {
        self.insert_event_rows(tx, &plan.events, ctx).await?;
        self.insert_mappings(tx, &plan.mappings).await?;
        self.upsert_agencies(tx, &plan.agencies).await?;
        self.flush(tx, plan.writes, ctx).await?;
        Ok(plan.outcomes)
    }

    /// The pseudonymous key of each event's person, in line order; a keyed hash once per person
    /// (a case's events come together).
    pub(crate) fn person_keys(&self, events: &[ValidEvent]) -> Vec<String> {
        let mut hashed: HashMap<&str, String> = HashMap::new();
        events
            .iter()
            .map(|valid| {
                hashed
                    .entry(valid.identity.as_str())
                    .or_insert_with(|| self.keys().person_key(&valid.identity))
                    .clone()
            })
            .collect()
    }

    /// Serialises the write transactions about these persons: on PostgreSQL, takes the
    /// transaction-scoped advisory lock of each person's bucket, in ascending order, waiting for
    /// any transaction that holds one; they are released when `tx` commits or rolls back. Every
    /// transaction that reads a person's records to decide what to write about them calls this
    /// first, before reading them (`ingest_in`, `refresh`): a read made under READ COMMITTED after
    /// the lock sees everything the lock's previous holder committed, so two batches about one
    /// person are decided one after the other, as SQLite, whose write transactions are serial,
    /// decides them. Taking a person's lock again in the same transaction waits for nothing.
    ///
    /// A person's bucket is the first ten bits of their key (1,024 buckets): the locks one
    /// transaction takes, and all transactions together hold, stay well inside PostgreSQL's
    /// shared lock table (room for 64 locks per connection by default) even for a batch of 10,000
    /// persons, where a lock per person would exhaust it; the price is that two persons share a
    /// lock one time in 1,024. Buckets follow person key order, so a transaction that takes them
    /// person by person in key order takes them in ascending order too. A transaction takes all
    /// its locks before its first write: one that holds the audit log's tip (every transition
    /// appends to the log) while waiting for a person's lock would deadlock with the holder of
    /// that lock, which waits for the tip. A no-op on SQLite (`BEGIN IMMEDIATE` holds the
    /// database's write lock).
    pub(crate) async fn lock_persons(
        &self,
        tx: &mut AnyConnection,
        person_keys: &[String],
    ) -> Result<(), StoreError> {
        if self.backend != crate::types::Backend::Postgres || person_keys.is_empty() {
            return Ok(());
        }
        let mut locks: Vec<i64> = person_keys.iter().map(|key| person_lock(key)).collect();
        locks.sort_unstable();
        locks.dedup();
        // One round trip: the statements of a simple query run in order.
        let sql: String = locks
            .iter()
            .map(|lock| format!("SELECT pg_advisory_xact_lock({lock});"))
            .collect();
        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(&sql)).await?;
        Ok(())
    }

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
        let mut persons = self.load_persons(tx, &wanted).await?;
        persons.1 = self.prefetch_events(tx, &persons).await?;
        Ok(Snapshot {
            known,
            mappings,
            agencies,
            persons,
            wanted: wanted.into_iter().collect(),
        })
    }

    /// Sorts a batch's lines into duplicates, refusals and events to store; assigns case codes
    /// and new records' keys. Pure: everything it needs is in the snapshot.
    fn prepare<'a>(
        &self,
        snapshot: &mut Snapshot,
        events: &'a [ValidEvent],
        person_keys: Vec<String>,
    ) -> Result<Prepared<'a>, StoreError> {
        let mut new_mappings: Vec<(String, String, String)> = Vec::new();
        let mut seen: HashMap<(&str, &str), Vec<u8>> = HashMap::new();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut pending: Vec<Pending<'a>> = Vec::with_capacity(events.len());
        for ((index, valid), person_key) in events.iter().enumerate().zip(person_keys) {
            let line = index + 1;
            let event = &valid.event;
            let case_code =
                resolve_case_code(valid, line, &mut snapshot.mappings, &mut new_mappings)?;
            let canonical =
                serde_json::to_vec(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let hash = self.keys().content_mac(&canonical);
            let id = event_id(event);
            let key = id.1;
            let stored = snapshot
                .known
                .get(&(id.0.to_owned(), key.to_owned()))
                .or_else(|| seen.get(&id));
            match stored {
                Some(stored) if self.keys().same_content(stored, &hash, &canonical) => {
                    outcomes.push(LineOutcome::Duplicate);
                    continue;
                }
                Some(_) => {
                    return Err(StoreError::Conflict {
                        line,
                        key: key.to_owned(),
                    });
                }
                None => {}
            }
            check_agency_kind(valid, line, &mut snapshot.agencies)?;
            seen.insert(id, hash.clone());
            pending.push(Pending {
                line,
                person_key,
                case_code,
                canonical,
                hash,
                event: valid,
            });
            outcomes.push(LineOutcome::Stored);
        }
        let persons = &mut snapshot.persons;
        // The batch's lines by record, in order of first appearance.
        let mut touched: Vec<(String, String)> = Vec::new();
        let mut lines: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (index, p) in pending.iter().enumerate() {
            let record = (p.person_key.clone(), p.case_code.clone());
            if persons.get(&p.person_key, &p.case_code).is_none() {
                let (_, wrapped) = self.keys().new_record_key(&p.person_key, &p.case_code);
                persons.0.entry(p.person_key.clone()).or_default().insert(
                    p.case_code.clone(),
                    Cached {
                        state: None,
                        convicted: false,
                        facts: None,
                        wrapped,
                        record: None,
                    },
                );
            }
            persons
                .2
                .entry(record.clone())
                .or_default()
                .push(StoredEvent {
                    seq: p.line as i64,
                    event: p.event.clone(),
                });
            match lines.entry(record) {
                std::collections::hash_map::Entry::Occupied(mut mine) => mine.get_mut().push(index),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    touched.push(slot.key().clone());
                    slot.insert(vec![index]);
                }
            }
        }
        let mut record_keys: HashMap<(String, String), DataKey> = HashMap::new();
        for (person_key, case_code) in &touched {
            let wrapped = &persons
                .get(person_key, case_code)
                .ok_or_else(|| StoreError::Corrupt("record cache".into()))?
                .wrapped;
            record_keys.insert(
                (person_key.clone(), case_code.clone()),
                self.keys().record_key(wrapped, person_key, case_code)?,
            );
        }
        Ok(Prepared {
            outcomes,
            pending,
            new_mappings,
            touched,
            lines,
            record_keys,
        })
    }

    /// Derives and decides every record the batch touches, with the unsealing triggers they pull;
    /// yields now and then so that a statement running alongside is followed by the next at once.
    async fn derive_batch(
        &self,
        persons: &mut Persons,
        prepared: &Prepared<'_>,
        ctx: &Context,
    ) -> Result<Writes, ((String, String), StoreError)> {
        let mut writes = Writes::default();
        for (index, record) in prepared.touched.iter().enumerate() {
            let (person_key, case_code) = record;
            let mine = prepared.mine(record);
            let correction = mine
                .clone()
                .any(|p| p.event.event.kind == EventKind::Correction);
            let arriving: Vec<(&str, &str)> = mine.map(|p| event_id(&p.event.event)).collect();
            if let Err(error) = self.refresh_cached(
                persons,
                &mut writes,
                person_key,
                case_code,
                Cause::Events { correction },
                ctx,
                &arriving,
            ) {
                return Err((record.clone(), error));
            }
            if index % 8 == 7 {
                tokio::task::yield_now().await;
            }
        }
        Ok(writes)
    }

    /// The error a failed derivation is reported with: a contradictory record names the line of
    /// the batch after which it no longer derives.
    async fn blamed(
        &self,
        tx: &mut AnyConnection,
        snapshot: &Snapshot,
        prepared: &Prepared<'_>,
        ((person_key, case_code), error): ((String, String), StoreError),
    ) -> Result<StoreError, StoreError> {
        let StoreError::Invalid { error, .. } = error else {
            return Ok(error);
        };
        let record = (person_key, case_code);
        let mine: Vec<&Pending<'_>> = prepared.mine(&record).collect();
        let line = mine.last().map_or(0, |p| p.line);
        let line = self
            .blame(tx, &snapshot.persons, &record.0, &record.1, &mine)
            .await?
            .unwrap_or(line);
        Ok(StoreError::Invalid { line, error })
    }

    /// Writes a batch's deferred rows: records as one upsert per hundred, then transitions and
    /// notices as multi-row inserts. A record is only ever written under its stored data key: a
    /// row stored meanwhile under another key (a writer that decided without the person's lock)
    /// is left as it is and the batch refused, rather than its facts sealed under a key that is
    /// never stored.
    pub(crate) async fn flush(
        &self,
        tx: &mut AnyConnection,
        writes: Writes,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let positional = self.positional();
        let now = ts(ctx.now);
        for chunk in writes.records.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO records (person_key, case_code, facts, convicted, policy, policy_version, state, state_date, state_trigger, \
                 data_key, updated_at) VALUES {} ON CONFLICT (person_key, case_code) DO UPDATE SET facts = excluded.facts, \
                 convicted = excluded.convicted, policy = excluded.policy, policy_version = excluded.policy_version, \
                 state = excluded.state, state_date = excluded.state_date, state_trigger = excluded.state_trigger, updated_at = excluded.updated_at \
                 WHERE records.data_key = excluded.data_key",
                placeholders(positional, chunk.len(), 11)
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(row.person_key.clone())
                    .bind(row.case_code.clone());
                for value in row.values.iter().cloned() {
                    query = value.bind(query);
                }
                query = query.bind(row.wrapped.clone()).bind(now.clone());
            }
            let written = query.execute(&mut *tx).await?.rows_affected();
            let rows = chunk.len() as u64;
            if written != rows {
                return Err(StoreError::DataKeyChanged {
                    records: rows - written,
                });
            }
        }
        if !writes.transitions.is_empty() {
            self.record_policy(tx, &ctx.policy).await?;
        }
        self.insert_rows(
            tx,
            "INSERT INTO transitions (transition_id, person_key, case_code, from_state, to_state, state_date, state_trigger, rule, policy, \
             policy_version, actor, at, reasons, notice_facts) VALUES",
            writes.transitions,
        )
        .await?;
        self.insert_rows(
            tx,
            "INSERT INTO notices (notice_id, person_key, case_code, kind, recipient, transition_id, status, next_attempt_at, created_at) VALUES",
            writes.notices,
        )
        .await?;
        self.append_audit(tx, &writes.audit, ctx.now).await?;
        Ok(())
    }

    /// Keeps the policy that decided transitions, once per version; refuses a different document
    /// under a version already recorded (a changed policy needs a new version).
    async fn record_policy(
        &self,
        tx: &mut AnyConnection,
        policy: &fengcun_policy::Policy,
    ) -> Result<(), StoreError> {
        let stored: Option<(String,)> =
            sqlx::query_as("SELECT source_text FROM policies WHERE name = $1 AND version = $2")
                .bind(policy.name())
                .bind(policy.version())
                .fetch_optional(&mut *tx)
                .await?;
        match stored {
            Some((text,)) if text == policy.source_text => Ok(()),
            Some(_) => Err(StoreError::PolicyVersion {
                name: policy.name().to_owned(),
                version: policy.version().to_owned(),
            }),
            None => {
                sqlx::query(
                    "INSERT INTO policies (name, version, source_text) VALUES ($1, $2, $3)",
                )
                .bind(policy.name())
                .bind(policy.version())
                .bind(policy.source_text.as_str())
                .execute(&mut *tx)
                .await?;
                Ok(())
            }
        }
    }

    /// The line of the batch that makes a record contradictory: the record is derived again with
    /// its stored events and this batch's lines added one at a time, and the first line after which
    /// it no longer derives is the one at fault.
    async fn blame(
        &self,
        tx: &mut AnyConnection,
        persons: &Persons,
        person_key: &str,
        case_code: &str,
        mine: &[&Pending<'_>],
    ) -> Result<Option<usize>, StoreError> {
        let Some(cached) = persons.get(person_key, case_code) else {
            return Ok(None);
        };
        let key = self
            .keys()
            .record_key(&cached.wrapped, person_key, case_code)?;
        let arriving: HashSet<(&str, &str)> =
            mine.iter().map(|p| event_id(&p.event.event)).collect();
        let events: Vec<StoredEvent> = self
            .load_events(tx, person_key, case_code, &key)
            .await?
            .into_iter()
            .filter(|e| !arriving.contains(&event_id(&e.event.event)))
            .collect();
        let lines: Vec<&ValidEvent> = mine.iter().map(|p| p.event).collect();
        Ok(first_contradicting(events, &lines).map(|index| mine[index].line))
    }

    /// The content hashes of the batch's events already stored, by agency and key: a key is looked
    /// up among its own agency's events only (by the key (agency code, idempotency key)).
    async fn known_hashes(
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
                    (2..=chunk.len() + 1)
                        .map(|i| param(positional, i))
                        .collect::<Vec<_>>()
                        .join(", ")
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
    async fn known_agencies(
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

    async fn known_mappings(
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
                (agencies.len() + 1..=agencies.len() + documents.len())
                    .map(|i| param(positional, i))
                    .collect::<Vec<_>>()
                    .join(", ")
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

    /// Every record of these persons, in one statement per 500 persons.
    pub(crate) async fn load_persons(
        &self,
        tx: &mut AnyConnection,
        person_keys: &[String],
    ) -> Result<Persons, StoreError> {
        let mut persons = Persons::default();
        for chunk in person_keys.chunks(500) {
            let sql = format!(
                "SELECT person_key, case_code, state, state_date, state_trigger, convicted, facts, data_key FROM records WHERE person_key IN ({})",
                list(self.positional(), chunk.len())
            );
            type Row = (
                String,
                String,
                String,
                Option<String>,
                Option<String>,
                i64,
                Option<Vec<u8>>,
                Vec<u8>,
            );
            let mut query = sqlx::query_as::<_, Row>(&sql);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            for (person_key, case_code, state, date, trigger, convicted, facts, wrapped) in
                query.fetch_all(&mut *tx).await?
            {
                let state = (state != "new")
                    .then(|| state_from_row(&state, date.as_deref(), trigger.as_deref()));
                persons.0.entry(person_key).or_default().insert(
                    case_code,
                    Cached {
                        state,
                        convicted: convicted != 0,
                        facts,
                        wrapped,
                        record: None,
                    },
                );
            }
        }
        Ok(persons)
    }

    /// Inserts event rows, a hundred to a statement.
    async fn insert_event_rows(
        &self,
        tx: &mut AnyConnection,
        rows: &[EventRow],
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let received = ts(ctx.now);
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO events (person_key, case_code, idempotency_key, content_hash, kind, event_date, agency_code, received_at, body) VALUES {}",
                placeholders(self.positional(), chunk.len(), 9)
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(row.person_key.as_str())
                    .bind(row.case_code.as_str())
                    .bind(row.idempotency_key.as_str())
                    .bind(row.hash.as_slice())
                    .bind(row.kind)
                    .bind(row.date.as_str())
                    .bind(row.agency.as_str())
                    .bind(received.as_str())
                    .bind(row.body.as_slice());
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }

    async fn insert_mappings(
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
    async fn upsert_agencies(
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

    pub(crate) async fn record_key(
        &self,
        tx: &mut AnyConnection,
        person_key: &str,
        case_code: &str,
    ) -> Result<DataKey, StoreError> {
        let (wrapped,): (Vec<u8>,) =
            sqlx::query_as("SELECT data_key FROM records WHERE person_key = $1 AND case_code = $2")
                .bind(person_key)
                .bind(case_code)
                .fetch_one(&mut *tx)
                .await?;
        self.keys().record_key(&wrapped, person_key, case_code)
    }

    /// Every stored event of these persons' stored records, in one statement per 500 persons.
    async fn prefetch_events(
        &self,
        tx: &mut AnyConnection,
        persons: &Persons,
    ) -> Result<Prefetched, StoreError> {
        let mut wanted: Vec<&str> = persons.0.keys().map(String::as_str).collect();
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

    async fn load_events(
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

    /// Refreshes one record outside an ingestion batch (the scheduler, a policy change): decides
    /// it on the person's records (`decide_alone`) and writes what was decided; returns how many
    /// transitions it made on that record, and what was decided of it.
    pub(crate) async fn refresh(
        &self,
        tx: &mut AnyConnection,
        person_key: &str,
        case_code: &str,
        cause: Cause,
        ctx: &Context,
    ) -> Result<(usize, Option<DecidedRecord>), StoreError> {
        let (writes, decided) = self
            .decide_alone(tx, person_key, case_code, cause, ctx)
            .await?;
        let mine = writes.transitions_of(person_key, case_code);
        self.flush(tx, writes, ctx).await?;
        Ok((mine, decided.records.into_iter().next()))
    }

    /// Decides one record outside an ingestion batch, on its person's records read inside `tx`
    /// after the person's lock: the rows to write, and what was decided (the record first).
    pub(crate) async fn decide_alone(
        &self,
        tx: &mut AnyConnection,
        person_key: &str,
        case_code: &str,
        cause: Cause,
        ctx: &Context,
    ) -> Result<(Writes, Decided), StoreError> {
        self.lock_persons(tx, &[person_key.to_owned()]).await?;
        let mut persons = self.load_persons(tx, &[person_key.to_owned()]).await?;
        persons.1 = self.prefetch_events(tx, &persons).await?;
        let mut writes = Writes::default();
        let decided = self.refresh_cached(
            &mut persons,
            &mut writes,
            person_key,
            case_code,
            cause,
            ctx,
            &[],
        )?;
        Ok((writes, decided))
    }

    /// Decides one record on the person's records as the batch knows them
    /// (`fengcun_lifecycle::decide`: the record, its transition, the unsealing cascade), then
    /// turns what it decided into rows: facts, state and transitions with their notices, and
    /// brings the batch's cache up to date.
    #[allow(
        clippy::too_many_arguments,
        reason = "the batch's cache and the arriving keys travel together"
    )]
    fn refresh_cached(
        &self,
        persons: &mut Persons,
        writes: &mut Writes,
        person_key: &str,
        case_code: &str,
        cause: Cause,
        ctx: &Context,
        arriving: &[(&str, &str)],
    ) -> Result<Decided, StoreError> {
        let mut view = PersonView {
            store: self,
            persons,
            person_key,
            keys: HashMap::new(),
        };
        let under = Under {
            policy: &ctx.policy,
            issuing: &ctx.issuing,
            today: ctx.today(),
        };
        let decided = decide(&mut view, case_code, cause, arriving, under)?;
        let mut record_keys = std::mem::take(&mut view.keys);
        let policy = &ctx.policy;
        let mut facts: Vec<Vec<u8>> = Vec::with_capacity(decided.records.len());
        for record in &decided.records {
            let case_code = record.case_code.as_str();
            let key = self.key_of(persons, &mut record_keys, person_key, case_code)?;
            let plain = record.derived.record.to_json().to_string().into_bytes();
            let sealed_facts = keys::seal(&key, &plain, &format!("facts/{case_code}"));
            let state = record.state;
            let cached = persons
                .get_mut(person_key, case_code)
                .ok_or_else(|| StoreError::Corrupt(format!("record {case_code} not loaded")))?;
            let row = RecordRow {
                person_key: person_key.to_owned(),
                case_code: case_code.to_owned(),
                values: [
                    Param::Blob(sealed_facts.clone()),
                    Param::Int(i64::from(record.convicted)),
                    Param::text(policy.name()),
                    Param::text(policy.version()),
                    Param::text(state.map_or("new", |s| s.code().code())),
                    Param::Text(state.and_then(|s| s.date()).map(|d| d.to_string())),
                    Param::Text(state.and_then(|s| s.trigger()).map(|t| t.code().to_owned())),
                ],
                wrapped: cached.wrapped.clone(),
            };
            cached.state = state;
            cached.convicted = record.convicted;
            cached.facts = Some(sealed_facts);
            cached.record = Some(record.derived.record.clone());
            writes
                .records
                .retain(|r| !(r.person_key == person_key && r.case_code == case_code));
            writes.records.push(row);
            facts.push(plain);
        }
        for transition in &decided.transitions {
            let key = self.key_of(persons, &mut record_keys, person_key, &transition.case_code)?;
            let facts = facts
                .get(transition.record)
                .ok_or_else(|| StoreError::Corrupt("transition without its record".into()))?;
            self.write_transition(writes, person_key, transition, facts, ctx, &key);
        }
        Ok(decided)
    }

    /// A record's data key, unwrapped once per decision.
    fn key_of(
        &self,
        persons: &Persons,
        record_keys: &mut HashMap<String, DataKey>,
        person_key: &str,
        case_code: &str,
    ) -> Result<DataKey, StoreError> {
        if let Some(key) = record_keys.get(case_code) {
            return Ok(key.clone());
        }
        let cached = persons
            .get(person_key, case_code)
            .ok_or_else(|| StoreError::Corrupt(format!("record {case_code} not loaded")))?;
        let key = self
            .keys()
            .record_key(&cached.wrapped, person_key, case_code)?;
        record_keys.insert(case_code.to_owned(), key.clone());
        Ok(key)
    }

    /// The rows of one transition: the transition with its evidence (the facts and the date) and
    /// sealed notice facts, its notices, and its audit entry.
    fn write_transition(
        &self,
        writes: &mut Writes,
        person_key: &str,
        transition: &Transition,
        facts: &[u8],
        ctx: &Context,
        key: &DataKey,
    ) {
        let Transition {
            case_code,
            from,
            to,
            rule,
            notice,
            recipients,
            notice_facts,
            ..
        } = transition;
        let (from, to) = (*from, *to);
        let policy = &ctx.policy;
        // The evidence, not the explanation: the facts and the date; with the policy version the
        // explained decision is derived again on reading (`fengcun_policy::explain_recorded`), identically.
        let mut reasons = Vec::with_capacity(facts.len() + 32);
        reasons.extend_from_slice(format!("{{\"as_of\":\"{}\",\"facts\":", ctx.today()).as_bytes());
        reasons.extend_from_slice(facts);
        reasons.push(b'}');
        let at = ts(ctx.now);
        // The time of the context in milliseconds, a count of the transitions this process made,
        // then 64 random bits: ids made later sort later even when every batch of an import is
        // decided at one context time, so the unique index grows at its end instead of taking a
        // random page per transition.
        let transition_id = format!(
            "{:0width$x}{:08x}{}",
            ctx.now.as_millisecond(),
            TRANSITIONS_MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            fengcun_crypto::random_hex::<8>(),
            width = TIME_DIGITS
        );
        writes.transitions.push([
            Param::text(transition_id.clone()),
            Param::text(person_key),
            Param::text(case_code.as_str()),
            Param::Text(from.map(|s| s.code().code().to_owned())),
            Param::text(to.code().code()),
            Param::Text(to.date().map(|d| d.to_string())),
            Param::Text(to.trigger().map(|t| t.code().to_owned())),
            Param::Text(rule.clone()),
            Param::text(policy.name()),
            Param::text(policy.version()),
            Param::text(ctx.actor.label()),
            Param::text(at.clone()),
            Param::Blob(keys::seal(
                key,
                &reasons,
                &format!("transition/{transition_id}"),
            )),
            Param::MaybeBlob(notice_facts.as_ref().map(|facts| {
                keys::seal(
                    key,
                    facts.to_string().as_bytes(),
                    &format!("notices/{transition_id}"),
                )
            })),
        ]);
        let audit = crate::AuditEvent::new(
            crate::AuditKind::Transition,
            ctx.actor.label(),
            to.code().code(),
        )
        .subject(format!("record:{person_key}/{case_code}"));
        let mut detail = serde_json::json!({
            "transition_id": transition_id,
            "from": from.map(|s| s.code().code()),
            "to": to.code().code(),
            "state_date": to.date().map(|d| d.to_string()),
            "trigger": to.trigger().map(|t| t.code()),
            "policy": policy.name(),
            "policy_version": policy.version(),
        });
        let Some(kind) = notice else {
            writes.audit.push(audit.detail(detail));
            return;
        };
        let mut notices = Vec::new();
        for (index, recipient) in recipients.iter().enumerate() {
            let number = format!(
                "FC-{}-{case_code}-{}-{}",
                kind.code().to_uppercase(),
                &transition_id[RANDOM_FROM..RANDOM_FROM + 8].to_uppercase(),
                index + 1
            );
            let to_agency = recipient != "person";
            notices.push(serde_json::json!({"notice_id": number, "recipient": recipient}));
            writes.notices.push([
                Param::text(number),
                Param::text(person_key),
                Param::text(case_code.as_str()),
                Param::text(kind.code()),
                Param::text(recipient.as_str()),
                Param::text(transition_id.clone()),
                Param::text(if to_agency { "pending" } else { "available" }),
                Param::Text(to_agency.then(|| at.clone())),
                Param::text(at.clone()),
            ]);
        }
        detail["notices"] = serde_json::Value::Array(notices);
        writes.audit.push(audit.detail(detail));
    }
}

/// A person's records as a batch holds them, read by `fengcun_lifecycle::decide`: events and
/// facts decrypted when it asks for them, each record's key unwrapped once.
struct PersonView<'a> {
    store: &'a SqlStore,
    persons: &'a mut Persons,
    person_key: &'a str,
    keys: HashMap<String, DataKey>,
}

impl PersonView<'_> {
    fn key(&mut self, case_code: &str) -> Result<DataKey, StoreError> {
        self.store
            .key_of(self.persons, &mut self.keys, self.person_key, case_code)
    }
}

impl PersonRecords for PersonView<'_> {
    type Error = StoreError;

    fn invalid(error: fengcun_domain::FieldError) -> StoreError {
        StoreError::Invalid { line: 0, error }
    }

    fn cases(&self) -> Vec<String> {
        self.persons.cases(self.person_key)
    }

    fn state(&self, case_code: &str) -> Option<Option<State>> {
        self.persons
            .get(self.person_key, case_code)
            .map(|cached| cached.state)
    }

    fn convicted(&self, case_code: &str) -> bool {
        self.persons
            .get(self.person_key, case_code)
            .is_some_and(|cached| cached.convicted)
    }

    fn events(&mut self, case_code: &str) -> Result<Vec<StoredEvent>, StoreError> {
        if self.persons.get(self.person_key, case_code).is_none() {
            return Err(StoreError::Corrupt(format!(
                "record {case_code} not loaded"
            )));
        }
        let key = self.key(case_code)?;
        self.persons.events(self.person_key, case_code, &key)
    }

    /// The decrypted facts of a cached record, decrypted on first use.
    fn facts(&mut self, case_code: &str) -> Result<Option<Record>, StoreError> {
        let Some(entry) = self.persons.get(self.person_key, case_code) else {
            return Ok(None);
        };
        if let Some(record) = &entry.record {
            return Ok(Some(record.clone()));
        }
        let Some(blob) = entry.facts.clone() else {
            return Ok(None);
        };
        let key = self.key(case_code)?;
        let plain = keys::open(&key, &blob, &format!("facts/{case_code}"))?;
        let record = parse_record(&plain)
            .map_err(|e| StoreError::Corrupt(format!("facts of {case_code}: {e}")))?;
        if let Some(entry) = self.persons.get_mut(self.person_key, case_code) {
            entry.record = Some(record.clone());
        }
        Ok(Some(record))
    }
}

fn decrypt_events(rows: &[PrefetchedEvent], key: &DataKey) -> Result<Vec<StoredEvent>, StoreError> {
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

/// The case code an event names, or the one its agency's document number maps to; new mappings
/// are collected to be written with the batch (一案一码).
fn resolve_case_code(
    valid: &ValidEvent,
    line: usize,
    mappings: &mut HashMap<(String, String), String>,
    new_mappings: &mut Vec<(String, String, String)>,
) -> Result<String, StoreError> {
    let event = &valid.event;
    let agency = event.agency.code.clone();
    let mapped = event
        .document_number
        .as_ref()
        .and_then(|d| mappings.get(&(agency.clone(), d.clone())).cloned());
    match (&valid.case_code, mapped, &event.document_number) {
        (Some(given), Some(existing), Some(document)) if given.as_str() != existing => {
            Err(StoreError::CaseNumberConflict {
                line,
                agency,
                document: document.clone(),
                existing,
                given: given.to_string(),
            })
        }
        (Some(given), None, Some(document)) => {
            mappings.insert((agency.clone(), document.clone()), given.to_string());
            new_mappings.push((agency, document.clone(), given.to_string()));
            Ok(given.to_string())
        }
        (Some(given), _, _) => Ok(given.to_string()),
        (None, Some(existing), _) => Ok(existing),
        (None, None, document) => Err(StoreError::UnknownDocument {
            line,
            agency,
            document: document.clone().unwrap_or_default(),
        }),
    }
}

/// Event rows with their plain bodies, each with the key to seal it with.
fn unsealed_rows(
    pending: &[Pending<'_>],
    record_keys: &HashMap<(String, String), DataKey>,
) -> Result<Vec<(EventRow, DataKey)>, StoreError> {
    pending
        .iter()
        .map(|p| {
            let key = record_keys
                .get(&(p.person_key.clone(), p.case_code.clone()))
                .ok_or_else(|| StoreError::Corrupt("record key".into()))?;
            let row = EventRow {
                line: p.line,
                body: p.canonical.clone(),
                person_key: p.person_key.clone(),
                case_code: p.case_code.clone(),
                idempotency_key: p.event.event.idempotency_key.clone(),
                hash: p.hash.clone(),
                kind: p.event.event.kind.code(),
                date: p.event.date.to_string(),
                agency: p.event.event.agency.code.clone(),
            };
            Ok((row, key.clone()))
        })
        .collect()
}

/// Seals each row's body with its key, bound to the event's idempotency key.
fn seal_rows(rows: Vec<(EventRow, DataKey)>) -> Vec<EventRow> {
    rows.into_iter()
        .map(|(mut row, key)| {
            row.body = keys::seal(&key, &row.body, &format!("event/{}", row.idempotency_key));
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::expect_used,
        clippy::unwrap_used,
        reason = "a test fails loudly on a broken fixture"
    )]

    use std::sync::Arc;

    use fengcun_domain::{Event, ValidEvent};

    use crate::{Context, Keys, SqlStore, Store, StoreError};

    fn event(key: &str, kind: &str, date: &str, extra: serde_json::Value) -> ValidEvent {
        let mut e = serde_json::json!({
            "idempotency_key": key, "kind": kind, "date": date, "case_code": "110105-2024-009001",
            "agency": {"kind": "court", "code": "110105-fy"},
            "person": {"id_number": "110105199003070025", "name": "张三"}});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        Event::parse(&serde_json::to_vec(&e).unwrap()).unwrap()
    }

    /// A fresh SQLite file, and a fresh PostgreSQL database when `FENGCUN_TEST_DATABASE_URL` is set.
    async fn fresh_urls(test: &str) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("fengcun-unit-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut urls = vec![format!("sqlite://{}", dir.join("store.sqlite").display())];
        if let Ok(url) = std::env::var("FENGCUN_TEST_DATABASE_URL") {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            let name = format!("fengcun_unit_{test}_{}", std::process::id());
            let mut admin = sqlx::AnyConnection::connect(&url).await.unwrap();
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await
                .unwrap();
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let base = url.rsplit_once('/').map(|(base, _)| base).unwrap();
            urls.push(format!("{base}/{name}"));
        }
        urls
    }

    /// Defence behind the person locks: a batch decided while its record did not exist yet (so
    /// with a data key of its own) and written after another writer stored the record is refused
    /// as a whole, and the record stays readable under the key it was stored with.
    #[tokio::test]
    async fn a_record_is_never_written_under_another_data_key() {
        for url in fresh_urls("datakey").await {
            let keys = Keys::new(fengcun_crypto::MasterKey::generate());
            let store = SqlStore::connect(&url, keys, true).await.unwrap();
            let c = Context::new(
                Arc::new(
                    fengcun_policy::presets::get("cn-minor-opt1")
                        .unwrap()
                        .clone(),
                ),
                "2024-06-01T00:00:00Z".parse().unwrap(),
            );
            let judged = json_judgment();
            let late = vec![
                event("late-judgment", "judgment", "2024-03-01", judged),
                event(
                    "late-effective",
                    "judgment_effective",
                    "2024-03-12",
                    serde_json::json!({}),
                ),
            ];
            let early = vec![event(
                "early-filed",
                "filed",
                "2024-01-02",
                serde_json::json!({"agency": {"kind": "public_security", "code": "110105-ga"},
                    "charges": [{"name": "盗窃罪"}], "offence_date": "2024-01-02"}),
            )];
            // Decided on a snapshot without the record, as a writer without the lock decided.
            let person_keys = store.person_keys(&early);
            let mut reading = store.pool().begin().await.unwrap();
            let snapshot = store
                .read_snapshot(&mut reading, &early, &person_keys)
                .await
                .unwrap();
            reading.rollback().await.unwrap();
            let (plan, _) = store.plan(snapshot, &early, person_keys, &c).await.unwrap();
            // Meanwhile the other writer stores the record, under its own key.
            store.ingest(&late, &c).await.unwrap();
            let mut tx = store.begin_write().await.unwrap();
            let refused = store.write_plan(&mut tx, plan, &c).await.unwrap_err();
            assert!(
                matches!(refused, StoreError::DataKeyChanged { records: 1 }),
                "{url}: {refused}"
            );
            tx.rollback().await.unwrap();
            let record = store
                .record("110105-2024-009001", "id:110105199003070025")
                .await
                .unwrap()
                .expect("the record");
            assert_eq!(record.state.code(), "sealed", "{url}");
            assert!(record.facts.is_some(), "{url}");
            assert_eq!(store.events().await.unwrap().len(), 2, "{url}");
            // Decided again, with the stored key, it is stored.
            store.ingest(&early, &c).await.unwrap();
            assert_eq!(store.events().await.unwrap().len(), 3, "{url}");
        }
    }

    fn json_judgment() -> serde_json::Value {
        serde_json::json!({"judgment": {"instance": "first", "verdict": "convicted",
            "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "fixed_term", "months": 10},
            "offence_date": "2024-01-02", "recidivist": false, "prior_convictions": 0}})
    }
}
