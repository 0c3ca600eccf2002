//! A batch sorted before anything is decided: duplicates and refusals (a reused key, a case number
//! mapped to another case, an agency speaking as a kind it is not registered with), each event's
//! case code, and a data key for each new record. Pure: everything it needs is in the snapshot.

use crate::{HashMap, HashSet};

use fengcun_crypto::DataKey;
use fengcun_domain::ValidEvent;
use fengcun_lifecycle::StoredEvent;

use crate::error::StoreError;
use crate::ingest::snapshot::Snapshot;
use crate::sql::SqlStore;
use crate::sql::events::{AgencyRow, event_id};
use crate::sql::records::Cached;
use crate::types::LineOutcome;

/// An event of the batch ready to be written.
pub(super) struct Pending<'a> {
    pub(super) line: usize,
    pub(super) person_key: String,
    pub(super) case_code: String,
    pub(super) canonical: Vec<u8>,
    pub(super) hash: Vec<u8>,
    pub(super) event: &'a ValidEvent,
}

/// A batch sorted into outcomes and events to store, before its records are derived.
pub(super) struct Prepared<'a> {
    pub(super) outcomes: Vec<LineOutcome>,
    pub(super) pending: Vec<Pending<'a>>,
    pub(super) new_mappings: Vec<(String, String, String)>,
    /// Records the batch's events belong to, in order of first appearance.
    pub(super) touched: Vec<(String, String)>,
    /// Each record's events, as indexes into `pending`.
    pub(super) lines: HashMap<(String, String), Vec<usize>>,
    pub(super) record_keys: HashMap<(String, String), DataKey>,
}

impl<'a> Prepared<'a> {
    pub(super) fn mine(
        &self,
        record: &(String, String),
    ) -> impl Iterator<Item = &Pending<'a>> + Clone {
        self.lines
            .get(record)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&index| &self.pending[index])
    }
}

/// The agencies of a batch's events, once each (stored only where not registered yet).
pub(super) fn agency_rows(pending: &[Pending<'_>]) -> Vec<AgencyRow> {
    let mut done: HashSet<&str> = HashSet::default();
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

/// An agency that has sent nothing about a case that an agency of its own kind handles joins it
/// only by a step that hands the case to it (`EventKind::joins_a_case`): a bureau does not
/// withdraw (and so seal) another bureau's case, nor report on it to be told whose it is. (The
/// first agency of its kind in a case may send any of its events: its history can arrive after
/// a court's judgment, when its systems are connected late.)
fn refuse_a_newcomer(valid: &ValidEvent, line: usize, case_code: &str) -> Result<(), StoreError> {
    let event = &valid.event;
    let agency = &event.agency;
    if event.kind.joins_a_case(agency.kind) {
        return Ok(());
    }
    let joining: Vec<&str> = fengcun_domain::EventKind::joining(agency.kind)
        .into_iter()
        .map(fengcun_domain::EventKind::code)
        .collect();
    let how = if joining.is_empty() {
        "it sends events only about its own cases".to_owned()
    } else {
        format!("it joins a case only by {}", joining.join(", "))
    };
    Err(StoreError::Invalid {
        line,
        error: fengcun_domain::FieldError::new(
            "agency.code",
            fengcun_domain::FactError::Shape(format!(
                "agency `{}` has sent nothing about case {case_code} of this person, which another {} handles: \
                 {how}, not by {}",
                agency.code,
                agency.kind.chinese(),
                event.kind.code()
            )),
        ),
    })
}

impl SqlStore {
    /// Sorts a batch's lines into duplicates, refusals and events to store; assigns case codes
    /// and new records' keys. Pure: everything it needs is in the snapshot.
    pub(super) fn prepare<'a>(
        &self,
        snapshot: &mut Snapshot,
        events: &'a [ValidEvent],
        person_keys: Vec<String>,
        today: fengcun_domain::Date,
    ) -> Result<Prepared<'a>, StoreError> {
        let mut new_mappings: Vec<(String, String, String)> = Vec::new();
        let mut seen: HashMap<(&str, &str), Vec<u8>> = HashMap::default();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut pending: Vec<Pending<'a>> = Vec::with_capacity(events.len());
        // Records the batch's lines so far name: a later line about one of them continues it.
        let mut begun: HashSet<(String, String)> = HashSet::default();
        for ((index, valid), person_key) in events.iter().enumerate().zip(person_keys) {
            let line = index + 1;
            let event = &valid.event;
            valid
                .check_not_future(today)
                .map_err(|error| StoreError::Invalid { line, error })?;
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
            let record = (person_key.clone(), case_code.clone());
            let exists =
                begun.contains(&record) || snapshot.persons.get(&person_key, &case_code).is_some();
            let holding = (
                event.agency.code.clone(),
                case_code.clone(),
                person_key.clone(),
            );
            let of_its_kind = (
                event.agency.kind.code().to_owned(),
                case_code.clone(),
                person_key.clone(),
            );
            if exists
                && !snapshot.holdings.contains(&holding)
                && snapshot.kinds.contains(&of_its_kind)
            {
                refuse_a_newcomer(valid, line, &case_code)?;
            }
            snapshot.holdings.insert(holding);
            snapshot.kinds.insert(of_its_kind);
            begun.insert(record);
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
        let mut lines: HashMap<(String, String), Vec<usize>> = HashMap::default();
        for (index, p) in pending.iter().enumerate() {
            let record = (p.person_key.clone(), p.case_code.clone());
            if persons.get(&p.person_key, &p.case_code).is_none() {
                let (_, wrapped) = self.keys().new_record_key(&p.person_key, &p.case_code);
                persons.0.entry(p.person_key.clone()).or_default().insert(
                    p.case_code.clone(),
                    Cached {
                        state: None,
                        stored: false,
                        convicted: false,
                        facts: Default::default(),
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
        let mut record_keys: HashMap<(String, String), DataKey> = HashMap::default();
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
