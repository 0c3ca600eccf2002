//! A batch of events stored: its snapshot read (`snapshot`), its lines sorted (`prepare`), every
//! record it touches decided (`crate::decisions`, which calls `fengcun_lifecycle::decide`) and
//! what was decided written, in one transaction — or, for the pipeline, decided ahead on a
//! snapshot (`plan`) and written later (`write_plan`).
//!
//! Cost is counted in statements (each is a round trip): a batch reads what it needs up front —
//! known idempotency keys, case-number mappings, every record of the batch's persons — writes
//! events, new records and mappings with multi-row inserts, and keeps the persons' records in a
//! cache that the unsealing triggers consult without asking the database again.

mod prepare;
mod snapshot;

use crate::{HashMap, HashSet};
use std::sync::Arc;

use fengcun_crypto::DataKey;
use fengcun_domain::{EventKind, ValidEvent};
use fengcun_lifecycle::{Cause, StoredEvent, first_contradicting};
use sqlx::AnyConnection;

use crate::decisions::{Persons, Writes};
use crate::error::StoreError;
use crate::record_events::{self, KeptEvent};
use crate::sql::SqlStore;
use crate::sql::events::{
    AgencyRow, EventRow, ListRow, event_id, kept_events, person_column, received_column,
};
use crate::sql::records::Cached;
use crate::types::{Context, LineOutcome};
use prepare::{Pending, Prepared, agency_rows};
pub(crate) use snapshot::Snapshot;

/// A batch decided, every row it writes ready.
#[derive(Debug)]
pub(crate) struct Plan {
    outcomes: Vec<LineOutcome>,
    /// Shared with the batch's `Effects`: the sealed lists are not copied.
    events: Arc<[EventRow]>,
    lists: Arc<[ListRow]>,
    mappings: Vec<(String, String, String)>,
    agencies: Vec<AgencyRow>,
    writes: Writes,
}

/// What a planned batch changes, for the snapshot of the batch after it (`Snapshot::absorb`).
#[derive(Debug)]
pub(crate) struct Effects {
    events: Arc<[EventRow]>,
    lists: Arc<[ListRow]>,
    mappings: Vec<(String, String, String)>,
    agencies: Vec<AgencyRow>,
    records: Vec<(String, String, Cached)>,
}

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
        let prepared = self.prepare(
            &mut snapshot,
            events,
            person_keys,
            fengcun_domain::date::china_date(ctx.now),
        )?;
        if prepared.pending.is_empty() {
            return Ok(prepared.outcomes);
        }
        let rows = event_rows(self.keys(), &prepared.pending);
        let unsealed = unsealed_lists(&snapshot.persons, &prepared, ctx)?;
        let writing = async {
            let lists = seal_lists(unsealed)?;
            self.insert_event_rows(tx, &rows).await?;
            self.insert_mappings(tx, &prepared.new_mappings).await?;
            self.upsert_agencies(tx, &agency_rows(&prepared.pending))
                .await?;
            Ok::<_, StoreError>(lists)
        };
        let deriving = self.derive_batch(&mut snapshot.persons, &prepared, ctx);
        let (written, derived) = tokio::join!(writing, deriving);
        let lists = written?;
        let writes = match derived {
            Ok(writes) => writes,
            Err(failure) => return Err(self.blamed(tx, &snapshot, &prepared, failure).await?),
        };
        self.write_decided(tx, writes, prepared.pending.len(), &lists, ctx)
            .await?;
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
        let prepared = self.prepare(
            &mut snapshot,
            events,
            person_keys,
            fengcun_domain::date::china_date(ctx.now),
        )?;
        if prepared.pending.is_empty() {
            // As `ingest_in`: a batch of duplicates writes nothing.
            let plan = Plan {
                outcomes: prepared.outcomes,
                events: Arc::from([]),
                lists: Arc::from([]),
                mappings: Vec::new(),
                agencies: Vec::new(),
                writes: Writes::default(),
            };
            let effects = Effects {
                events: Arc::from([]),
                lists: Arc::from([]),
                mappings: Vec::new(),
                agencies: Vec::new(),
                records: Vec::new(),
            };
            return Ok((plan, effects));
        }
        // The records' lists need only their records' keys: they are sealed on another thread while
        // this one derives the records (SM4 in software is a third of deciding a batch).
        let rows: Arc<[EventRow]> = event_rows(self.keys(), &prepared.pending).into();
        let unsealed = unsealed_lists(&snapshot.persons, &prepared, ctx)?;
        let sealing = tokio::task::spawn_blocking(move || seal_lists(unsealed));
        let writes = self
            .derive_batch(&mut snapshot.persons, &prepared, ctx)
            .await
            .map_err(|(_, error)| error)?;
        let lists: Arc<[ListRow]> = sealing
            .await
            .map_err(|e| StoreError::Corrupt(format!("sealing events: {e}")))??
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
            lists: Arc::clone(&lists),
            mappings: prepared.new_mappings.clone(),
            agencies: agency_rows(&prepared.pending),
            records,
        };
        let plan = Plan {
            agencies: agency_rows(&prepared.pending),
            outcomes: prepared.outcomes,
            events: rows,
            lists,
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
        self.insert_event_rows(tx, &plan.events).await?;
        self.insert_mappings(tx, &plan.mappings).await?;
        self.upsert_agencies(tx, &plan.agencies).await?;
        self.write_decided(tx, plan.writes, plan.events.len(), &plan.lists, ctx)
            .await?;
        Ok(plan.outcomes)
    }

    /// Writes a batch's decisions with its `stored` events' count, each record's list of events
    /// in the record's row written with it, and any list whose record the batch writes no row for
    /// into its stored row after them.
    async fn write_decided(
        &self,
        tx: &mut AnyConnection,
        mut writes: Writes,
        stored: usize,
        lists: &[ListRow],
        ctx: &Context,
    ) -> Result<(), StoreError> {
        writes.count_events(stored);
        let rest = writes.carry_lists(lists);
        self.flush(tx, writes, ctx).await?;
        self.write_lists(tx, &rest).await
    }

    /// The pseudonymous key of each event's person, in line order; a keyed hash once per person
    /// (a case's events come together).
    pub(crate) fn person_keys(&self, events: &[ValidEvent]) -> Vec<String> {
        let mut hashed: HashMap<&str, String> = HashMap::default();
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
}

/// The batch's events' rows (`event_ids`), in line order.
fn event_rows(keys: &crate::Keys, pending: &[Pending<'_>]) -> Vec<EventRow> {
    pending
        .iter()
        .map(|p| EventRow {
            person_key: p.person_key.clone(),
            case_code: p.case_code.clone(),
            idempotency_key: p.event.event.idempotency_key.clone(),
            event_id: keys.event_id(&p.event.event.agency.code, &p.event.event.idempotency_key),
            hash: p.hash.clone(),
            agency: p.event.event.agency.code.clone(),
        })
        .collect()
}

/// A record's list as it will be written, before it is sealed: the list stored (or brought by a
/// batch planned before this one), still sealed, and the batch's events of the record.
struct UnsealedList {
    /// The batch's first line with an event of the record.
    line: usize,
    person_key: String,
    case_code: String,
    key: DataKey,
    before: crate::sql::events::PrefetchedEvents,
    arriving: Vec<KeptEvent>,
}

/// The lists the batch writes: one per record it adds events to, its events in line order.
fn unsealed_lists(
    persons: &Persons,
    prepared: &Prepared<'_>,
    ctx: &Context,
) -> Result<Vec<UnsealedList>, StoreError> {
    let received_at = received_column(ctx.now);
    let mut lists: Vec<UnsealedList> = Vec::new();
    let mut place: HashMap<(&str, &str), usize> = HashMap::default();
    for p in &prepared.pending {
        let record = (p.person_key.as_str(), p.case_code.as_str());
        let index = match place.get(&record) {
            Some(&index) => index,
            None => {
                let key = prepared
                    .record_keys
                    .get(&(p.person_key.clone(), p.case_code.clone()))
                    .ok_or_else(|| StoreError::Corrupt("record key".into()))?;
                let before = persons
                    .1
                    .get(&(p.person_key.clone(), p.case_code.clone()))
                    .map(|stored| crate::sql::events::PrefetchedEvents {
                        // Only the list is written again: the rows stay as they are.
                        rows: Vec::new(),
                        list: stored.list.clone(),
                    })
                    .unwrap_or_default();
                lists.push(UnsealedList {
                    line: p.line,
                    person_key: p.person_key.clone(),
                    case_code: p.case_code.clone(),
                    key: key.clone(),
                    before,
                    arriving: Vec::new(),
                });
                place.insert(record, lists.len() - 1);
                lists.len() - 1
            }
        };
        lists[index].arriving.push(KeptEvent {
            received_at,
            body: p.canonical.clone(),
        });
    }
    Ok(lists)
}

/// A record's list is written whole with each batch that adds to it, and read whole: one so long
/// that reading it back would be refused (`compress::MAX_PAYLOAD`), or that makes every batch
/// about the person slow, is refused at the line that would make it so. Far above any record's
/// events (a few, a few hundred bytes each).
const LIST_LIMIT: usize = 8 * 1024 * 1024;

fn refuse_an_overlong_list(line: usize, events: &[KeptEvent]) -> Result<(), StoreError> {
    let size: usize = events.iter().map(|e| 12 + e.body.len()).sum();
    if size <= LIST_LIMIT {
        return Ok(());
    }
    Err(StoreError::Invalid {
        line,
        error: fengcun_domain::FieldError::new(
            "case_code",
            fengcun_domain::FactError::Shape(format!(
                "the record's events would come to {size} bytes, more than the {LIST_LIMIT} a record keeps"
            )),
        ),
    })
}

/// Seals each record's list: its events before, then the batch's.
fn seal_lists(lists: Vec<UnsealedList>) -> Result<Vec<ListRow>, StoreError> {
    lists
        .into_iter()
        .map(|list| {
            let mut events =
                kept_events(&list.before, &list.person_key, &list.case_code, &list.key)?;
            events.extend(list.arriving);
            refuse_an_overlong_list(list.line, &events)?;
            let person = person_column(&list.person_key)
                .ok_or_else(|| StoreError::Corrupt(format!("person key {}", list.person_key)))?;
            let sealed = record_events::seal(&list.key, &person, &list.case_code, &events);
            Ok(ListRow {
                person_key: list.person_key,
                case_code: list.case_code,
                sealed,
            })
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

    use crate::testing::fresh_urls;

    /// A record's list that reading back would refuse is refused at the line that would make it,
    /// naming the field and the sizes; one at the limit is kept.
    #[test]
    fn an_overlong_list_is_refused_at_its_line() {
        let event = |len: usize| super::KeptEvent {
            received_at: 1_717_200_000,
            body: vec![b'x'; len],
        };
        let at_limit = [
            event(super::LIST_LIMIT / 2 - 12),
            event(super::LIST_LIMIT / 2 - 12),
        ];
        assert!(super::refuse_an_overlong_list(3, &at_limit).is_ok());
        let over = [
            event(super::LIST_LIMIT / 2 - 12),
            event(super::LIST_LIMIT / 2 - 11),
        ];
        match super::refuse_an_overlong_list(3, &over) {
            Err(crate::StoreError::Invalid { line, error }) => {
                assert_eq!(line, 3);
                assert_eq!(error.field, "case_code");
                assert!(
                    error
                        .to_string()
                        .contains(&format!("{}", super::LIST_LIMIT + 1))
                );
            }
            other => panic!("{other:?}"),
        }
    }
    use crate::{Context, Keys, RecordStore, SqlStore, Store, StoreError};

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
