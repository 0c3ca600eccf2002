//! One person's records decided, and the decision written: the records as a decision reads them
//! (`Persons`, with every event of theirs), `fengcun_lifecycle::decide` called on them, and what it
//! returns turned into rows — each record's sealed facts and state, its transitions with their
//! sealed evidence, their notices and audit entries (`Writes`) — and written (`flush`). Used by a
//! batch of events (`crate::ingest`) and by the services that decide one record again (the
//! scheduler, a policy change: `crate::services`). Nothing here decides: the rules are the
//! lifecycle's, the clock the context's.

use crate::HashMap;

use fengcun_crypto::DataKey;
use fengcun_domain::{Record, parse_record};
use fengcun_lifecycle::{
    Cause, Decided, DecidedRecord, PersonRecords, State, StoredEvent, Transition, Under, decide,
};
use sqlx::AnyConnection;

use crate::error::StoreError;
use crate::keys;
use crate::sql::SqlStore;
use crate::sql::events::{Prefetched, open_events};
use crate::sql::records::{Cached, IN_EVIDENCE, PersonRows, RecordRow, StoredFacts, evidence};
use crate::sql::rows::{Param, person_hex, person_ref, transition_id_bytes};
use crate::sql::tallies::{EVENTS, notices_in, records_in};
use crate::types::Context;

/// Hexadecimal digits of time at the start of a transition id; a count and a random part follow.
const TIME_DIGITS: usize = 12;

// A notice's number takes eight digits of a transition id's random part, after its time and its
// count (`crate::notices::notice_number`).
const _: () = assert!(crate::notices::TRANSITION_RANDOM_FROM == TIME_DIGITS + 8);

/// Transitions this process has made: the order of ids made at one context time.
static TRANSITIONS_MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Every record of the persons a batch touches, keyed by person, then case; with every event of
/// theirs, so that deriving a record never waits for the database.
#[derive(Debug, Default)]
pub(crate) struct Persons(
    pub(crate) PersonRows,
    pub(crate) Prefetched,
    /// The batch's events of each record, numbered by line.
    pub(crate) HashMap<(String, String), Vec<StoredEvent>>,
);

impl Persons {
    pub(crate) fn get(&self, person_key: &str, case_code: &str) -> Option<&Cached> {
        self.0.get(person_key)?.get(case_code)
    }

    pub(crate) fn get_mut(&mut self, person_key: &str, case_code: &str) -> Option<&mut Cached> {
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
            Some(stored) => open_events(stored, person_key, case_code, key)?,
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
    pub(crate) records: Vec<RecordRow>,
    /// Where each record's row is in `records`: a record decided again later in the batch (another
    /// record of its person changed) replaces its row there, found without a scan of the batch's
    /// thousands of rows for each record decided.
    record_at: HashMap<(String, String), usize>,
    transitions: Vec<[Param; 14]>,
    /// Each notice's transition id, and its values but the transition's sequence number (known
    /// once the transition is inserted).
    notices: Vec<(String, [Param; 6])>,
    /// The case and transition id of each transition with notices: their numbers are checked
    /// against the case's other transitions once written (`refuse_a_number_in_use`).
    numbered: Vec<(String, String)>,
    audit: Vec<crate::AuditEvent>,
    /// Whether a transition was decided under the violation policy (whose text is then recorded).
    violation_transitions: bool,
    /// Whether a transition was decided by the juvenile statute (its text is kept too).
    juvenile_transitions: bool,
    /// What the batch changes in the counts (`tallies`): events stored, records by state,
    /// notices by status — written together, one statement a flush.
    pub(crate) tallies: std::collections::BTreeMap<String, i64>,
}

impl Writes {
    /// Puts each list into its record's row to write, so that the row is written once with it;
    /// the lists of records the batch writes no row for (none as the lifecycle decides: a record
    /// that receives events is decided again) are given back, to be written into their rows.
    pub(crate) fn carry_lists(
        &mut self,
        lists: &[crate::sql::events::ListRow],
    ) -> Vec<crate::sql::events::ListRow> {
        let mut rest = Vec::new();
        for list in lists {
            let at = self
                .record_at
                .get(&(list.person_key.clone(), list.case_code.clone()))
                .copied();
            match at.and_then(|at| self.records.get_mut(at)) {
                Some(row) => row.events = Some(list.sealed.clone()),
                None => rest.push(list.clone()),
            }
        }
        rest
    }

    /// A record's row written with state `now`, over a row with state `before` (`None`: no row).
    /// Writes of one record in one batch add up to its first state's count less one and its
    /// last's plus one.
    fn count_state(&mut self, before: Option<&str>, now: &str) {
        if before == Some(now) {
            return;
        }
        if let Some(before) = before {
            *self.tallies.entry(records_in(before)).or_default() -= 1;
        }
        *self.tallies.entry(records_in(now)).or_default() += 1;
    }

    /// A record's row to write, over the row decided for it earlier in the batch if any.
    fn put_record(&mut self, row: RecordRow) {
        let key = (row.person_key.clone(), row.case_code.clone());
        match self.record_at.entry(key) {
            std::collections::hash_map::Entry::Occupied(at) => self.records[*at.get()] = row,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(self.records.len());
                self.records.push(row);
            }
        }
    }

    /// Events stored by the batch these rows belong to.
    pub(crate) fn count_events(&mut self, stored: usize) {
        *self.tallies.entry(EVENTS.to_owned()).or_default() += stored as i64;
    }

    /// Transitions of one record among the rows to write (person key and case code are their
    /// second and third values).
    fn transitions_of(&self, person_key: &str, case_code: &str) -> usize {
        let is =
            |param: &Param, value: &str| matches!(param, Param::Text(Some(text)) if text == value);
        let person = person_ref(person_key);
        self.transitions
            .iter()
            .filter(|row| matches!(&row[1], Param::Blob(bytes) if *bytes == person))
            .filter(|row| is(&row[2], case_code))
            .count()
    }
}

impl SqlStore {
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
        let rows = self.load_persons(tx, &[person_key.to_owned()]).await?;
        let prefetched = self
            .prefetch_events(tx, rows.keys().map(String::as_str))
            .await?;
        let mut persons = Persons(rows, prefetched, HashMap::default());
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
    pub(crate) fn refresh_cached(
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
            keys: HashMap::default(),
        };
        let under = Under {
            policy: &ctx.policy,
            juvenile: ctx.juvenile_policy.as_deref(),
            violation_policy: &ctx.violation_policy,
            issuing: &ctx.issuing,
            today: ctx.today(),
        };
        let decided = decide(&mut view, case_code, cause, arriving, under)?;
        let mut record_keys = std::mem::take(&mut view.keys);
        let mut facts: Vec<Vec<u8>> = Vec::with_capacity(decided.records.len());
        for (index, record) in decided.records.iter().enumerate() {
            let case_code = record.case_code.as_str();
            let key = self.key_of(persons, &mut record_keys, person_key, case_code)?;
            let plain = record.derived.record.to_json().to_string().into_bytes();
            // A record that gets a transition now has its facts kept once, in the evidence of
            // that transition (its latest: the transitions are written after it, in order).
            let in_evidence = decided
                .transitions
                .iter()
                .any(|t| t.record == index && t.case_code == record.case_code);
            let sealed_facts = if in_evidence {
                IN_EVIDENCE.to_vec()
            } else {
                keys::seal(&key, &plain, &format!("facts/{case_code}"))
            };
            let state = record.state;
            let policy = ctx.decided_by(record);
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
                    Param::text(state_code(state)),
                    Param::Text(state.and_then(|s| s.date()).map(|d| d.to_string())),
                    Param::Text(state.and_then(|s| s.trigger()).map(|t| t.code().to_owned())),
                ],
                wrapped: cached.wrapped.clone(),
                events: None,
            };
            let before = cached.stored.then(|| state_code(cached.state));
            writes.count_state(before, state_code(state));
            cached.state = state;
            cached.stored = true;
            cached.convicted = record.convicted;
            // The facts read from here on in this batch are the decrypted ones just decided.
            cached.facts = StoredFacts {
                sealed: Some(sealed_facts),
                evidence: None,
            };
            cached.record = Some(record.derived.record.clone());
            writes.put_record(row);
            facts.push(plain);
        }
        for transition in &decided.transitions {
            let key = self.key_of(persons, &mut record_keys, person_key, &transition.case_code)?;
            let facts = facts
                .get(transition.record)
                .ok_or_else(|| StoreError::Corrupt("transition without its record".into()))?;
            let record = &decided.records[transition.record];
            if record.derived.record.kind == fengcun_domain::RecordKind::PublicSecurityViolation {
                writes.violation_transitions = true;
            }
            if record.by_juvenile_statute {
                writes.juvenile_transitions = true;
            }
            let policy = ctx.decided_by(record);
            let evidence =
                self.write_transition(writes, person_key, transition, facts, ctx, policy, &key);
            // The record's facts kept in this transition's evidence, as the database will give
            // them to the next batch that reads the record from this cache.
            if let Some(cached) = persons.get_mut(person_key, &transition.case_code)
                && cached.facts.sealed.as_deref() == Some(IN_EVIDENCE)
            {
                cached.facts.evidence = Some(evidence);
            }
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

    /// The rows of one transition: the transition with its evidence (the facts and the date, and
    /// the notice facts when it has notices, sealed together), its notices, and its audit entry. Returns the transition's id and its
    /// sealed evidence.
    #[allow(
        clippy::too_many_arguments,
        reason = "the transition, its record's facts and key, and the policy it was decided under"
    )]
    fn write_transition(
        &self,
        writes: &mut Writes,
        person_key: &str,
        transition: &Transition,
        facts: &[u8],
        ctx: &Context,
        policy: &fengcun_policy::Policy,
        key: &DataKey,
    ) -> (String, Vec<u8>) {
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
        // The evidence, not the explanation: the facts and the date; with the policy version the
        // explained decision is derived again on reading (`fengcun_policy::explain_recorded`), identically.
        // The record's facts are kept here alone when the record's row refers to them (`IN_EVIDENCE`).
        let notice_facts = notice_facts.as_ref().map(|facts| facts.to_string());
        let reasons = evidence(
            ctx.today(),
            facts,
            notice_facts.as_deref().map(str::as_bytes),
        );
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
        let sealed_evidence = keys::seal(key, &reasons, &format!("transition/{transition_id}"));
        writes.transitions.push([
            Param::Blob(transition_id_bytes(&transition_id)),
            Param::Blob(person_ref(person_key)),
            Param::text(case_code.as_str()),
            Param::Text(from.map(|s| s.code().code().to_owned())),
            Param::text(to.code().code()),
            Param::Text(to.date().map(|d| d.to_string())),
            Param::Text(to.trigger().map(|t| t.code().to_owned())),
            Param::Text(rule.clone()),
            Param::text(policy.name()),
            Param::text(policy.version()),
            Param::text(ctx.actor.label()),
            Param::Int(crate::sql::rows::seconds(ctx.now)),
            Param::Blob(sealed_evidence.clone()),
            // Sealed with the evidence (`notices`); the column holds those of before.
            Param::MaybeBlob(None),
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
            return (transition_id, sealed_evidence);
        };
        let mut notices = Vec::new();
        let made_at = crate::sql::rows::seconds(ctx.now);
        writes
            .numbered
            .push((case_code.as_str().to_owned(), transition_id.clone()));
        for (position, recipient) in (1_i64..).zip(recipients.iter()) {
            // The id made above always holds the digits a number takes.
            let number = crate::notices::notice_number(
                kind.code(),
                case_code.as_str(),
                &transition_id,
                position,
            )
            .unwrap_or_default();
            let to_agency = recipient != "person";
            let status = if to_agency { "pending" } else { "available" };
            *writes.tallies.entry(notices_in(status)).or_default() += 1;
            notices.push(serde_json::json!({"notice_id": number, "recipient": recipient}));
            writes.notices.push((
                transition_id.clone(),
                [
                    Param::Int(position),
                    Param::text(kind.code()),
                    Param::text(recipient.as_str()),
                    Param::text(status),
                    Param::MaybeInt(to_agency.then_some(made_at)),
                    Param::Int(made_at),
                ],
            ));
        }
        detail["notices"] = serde_json::Value::Array(notices);
        writes.audit.push(audit.detail(detail));
        (transition_id, sealed_evidence)
    }

    /// Writes a decision's deferred rows: records as one upsert per hundred (only ever under their
    /// stored data key: `write_records`), then transitions and notices as multi-row inserts (each
    /// notice naming its transition by the sequence number the transitions' insert returned), and
    /// the audit entries.
    pub(crate) async fn flush(
        &self,
        tx: &mut AnyConnection,
        writes: Writes,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        self.write_records(tx, &writes.records, ctx.now).await?;
        self.add_tallies(tx, &writes.tallies).await?;
        if !writes.transitions.is_empty() {
            self.record_policy(tx, &ctx.policy).await?;
        }
        if writes.violation_transitions {
            self.record_policy(tx, &ctx.violation_policy).await?;
        }
        if let (true, Some(statute)) = (writes.juvenile_transitions, &ctx.juvenile_policy) {
            self.record_policy(tx, statute).await?;
        }
        let seqs = self.insert_transitions(tx, writes.transitions).await?;
        let notices = writes
            .notices
            .into_iter()
            .map(
                |(transition_id, [position, kind, recipient, status, next, created])| {
                    let seq = seqs.get(&transition_id).copied().ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "notice of transition {transition_id} not written"
                        ))
                    })?;
                    Ok([
                        Param::Int(seq),
                        position,
                        kind,
                        recipient,
                        status,
                        next,
                        created,
                    ])
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.insert_notices(tx, notices).await?;
        self.refuse_a_number_in_use(tx, &writes.numbered).await?;
        self.append_audit(tx, &writes.audit, ctx.now).await?;
        Ok(())
    }
}

impl SqlStore {
    /// Refuses the batch (nothing of it is written) when a transition it wrote shares the eight
    /// digits a notice number takes with another transition of its case: their notices would bear
    /// the same numbers (the one-in-four-billion draw a national store may meet). Sending the batch
    /// again draws new digits. Before migration 26 the numbers' unique key refused it the same way.
    async fn refuse_a_number_in_use(
        &self,
        tx: &mut AnyConnection,
        numbered: &[(String, String)],
    ) -> Result<(), StoreError> {
        let ids = self.transition_ids_of_cases(tx, numbered).await?;
        for (case_code, transition_id) in numbered {
            let case_ids = ids.get(case_code).map(Vec::as_slice).unwrap_or_default();
            if number_digits_repeated(transition_id, case_ids) {
                return Err(StoreError::NoticeNumberTaken {
                    case_code: case_code.clone(),
                });
            }
        }
        Ok(())
    }

    /// The transition ids of each of these cases, five hundred cases a statement: a batch of an
    /// import numbers thousands of transitions, and a statement each cost more than the reads.
    async fn transition_ids_of_cases(
        &self,
        tx: &mut AnyConnection,
        numbered: &[(String, String)],
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let mut cases: Vec<&str> = numbered.iter().map(|(case, _)| case.as_str()).collect();
        cases.sort_unstable();
        cases.dedup();
        let mut ids: HashMap<String, Vec<String>> = HashMap::default();
        for chunk in cases.chunks(500) {
            let sql = format!(
                "SELECT case_code, transition_id FROM transitions WHERE case_code IN ({})",
                crate::sql::rows::list(self.positional(), chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, Vec<u8>)>(&sql);
            for case in chunk {
                query = query.bind(*case);
            }
            for (case, id) in query.fetch_all(&mut *tx).await? {
                ids.entry(case).or_default().push(person_hex(&id));
            }
        }
        Ok(ids)
    }
}

/// Whether the transition `new` (among `case_ids`, its case's transition ids, itself included)
/// shares the digits a notice number takes with another of them.
fn number_digits_repeated(new: &str, case_ids: &[String]) -> bool {
    let digits = |id: &str| {
        id.get(crate::notices::TRANSITION_RANDOM_FROM..crate::notices::TRANSITION_RANDOM_FROM + 8)
            .map(str::to_owned)
    };
    let Some(mine) = digits(new) else {
        return false;
    };
    case_ids
        .iter()
        .filter(|id| digits(id).as_deref() == Some(mine.as_str()))
        .count()
        > 1
}

/// A record's state as its row's `state` column holds it.
fn state_code(state: Option<State>) -> &'static str {
    state.map_or("new", |s| s.code().code())
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
        let stored = entry.facts.clone();
        if stored.sealed.is_none() {
            return Ok(None);
        }
        let key = self.key(case_code)?;
        let Some(plain) = stored.open(&key, case_code)? else {
            return Ok(None);
        };
        let record = parse_record(&plain)
            .map_err(|e| StoreError::Corrupt(format!("facts of {case_code}: {e}")))?;
        if let Some(entry) = self.persons.get_mut(self.person_key, case_code) {
            entry.record = Some(record.clone());
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod number_tests {
    use super::number_digits_repeated;

    #[test]
    fn a_transition_whose_number_digits_another_of_its_case_has_is_found() {
        let new = "019a2b3c4d5e00000001aabbccdd11223344";
        let other_same = "019a2b3c4d5f00000007aabbccdd99887766";
        let other_differs = "019a2b3c4d5f00000007aabbccde11223344";
        let old_form = "019a2b3c4d5e0000aabbccdd";
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(!number_digits_repeated(new, &ids(&[new])));
        assert!(!number_digits_repeated(
            new,
            &ids(&[new, other_differs, old_form])
        ));
        assert!(number_digits_repeated(new, &ids(&[other_same, new])));
    }
}

#[cfg(test)]
mod list_tests {
    use super::Writes;
    use crate::sql::events::ListRow;
    use crate::sql::records::RecordRow;
    use crate::sql::rows::Param;

    fn row(case_code: &str) -> RecordRow {
        RecordRow {
            person_key: "ab".repeat(32),
            case_code: case_code.to_owned(),
            values: std::array::from_fn(|_| Param::Text(None)),
            wrapped: vec![1; 8],
            events: None,
        }
    }

    fn list(case_code: &str, sealed: u8) -> ListRow {
        ListRow {
            person_key: "ab".repeat(32),
            case_code: case_code.to_owned(),
            sealed: vec![sealed; 4],
        }
    }

    /// A list goes into its record's row, written once with it; a list whose record the batch
    /// writes no row for is given back, to be written into its stored row, never dropped.
    #[test]
    fn a_list_rides_with_its_records_row_or_is_given_back() {
        let mut writes = Writes::default();
        writes.put_record(row("110105-2024-000001"));
        // Decided again later in the batch: the later row is the one written.
        writes.put_record(row("110105-2024-000001"));
        writes.put_record(row("110105-2024-000002"));
        let rest =
            writes.carry_lists(&[list("110105-2024-000001", 7), list("110105-2024-000003", 9)]);
        assert_eq!(writes.records.len(), 2);
        assert_eq!(writes.records[0].events, Some(vec![7; 4]));
        assert_eq!(
            writes.records[1].events, None,
            "no list: the stored one is kept"
        );
        assert_eq!(rest.len(), 1);
        assert_eq!(
            (rest[0].case_code.as_str(), rest[0].sealed.as_slice()),
            ("110105-2024-000003", &[9u8; 4][..])
        );
    }
}
