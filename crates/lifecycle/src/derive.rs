//! A record's facts, derived from its events whatever order they arrived in.

use std::collections::HashMap;

use fengcun_domain::event::judgment_facts;
use fengcun_domain::{
    Date, Event, EventKind, FieldError, Instance, JudgmentVerdict, Record, RecordParser, ValidEvent,
};
use serde_json::{Value, json};

/// An event as stored: arrival sequence number and the validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: ValidEvent,
}

/// What the events of one record establish.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub record: Record,
    /// The same conviction seen with the sentence to be executed after combination with another
    /// case (数罪并罚), where the judgment in force gives one: what juvenile unsealing looks at.
    pub combined: Option<Record>,
    /// Whether the judgment in force came from a retrial.
    pub retried: bool,
    /// The agencies that sent events for this record (each is told of a seal or an unseal).
    pub agencies: Vec<fengcun_domain::Agency>,
    /// Each agency's own document number for the case, where it gave one.
    pub documents: HashMap<String, String>,
    /// The court that gave the judgment in force, and that judgment's case number (案号) where
    /// the event carried one: what an unsealing notice names when this judgment lifted a seal.
    pub judgment_by: Option<(fengcun_domain::Agency, Option<String>)>,
}

impl Derived {
    /// The judgment in force, as an unsealing notice identifies it: court, case number, date and
    /// the date it took effect.
    pub fn judgment(&self) -> Option<crate::TriggeringJudgment> {
        let (court, number) = self.judgment_by.as_ref()?;
        Some(crate::TriggeringJudgment {
            court: court
                .name
                .clone()
                .unwrap_or_else(|| format!("{}（{}）", court.kind.chinese(), court.code)),
            court_code: court.code.clone(),
            case_number: number.clone(),
            date: self.record.disposition_date?,
            effective: self.record.judgment_effective_date,
        })
    }
}

/// Folds the events of one record (one person in one case) into its facts.
///
/// Corrections replace or retract the event they name; the rest are ordered by date, then by the
/// usual order of proceedings, then by arrival, so that events arriving out of order give the same
/// facts as events arriving in order. The result is checked by the record-facts rules: events that
/// together contradict the Criminal Law (execution completed before the judgment took effect) are an
/// error naming the field.
pub fn derive_record(record_id: &str, events: &[StoredEvent]) -> Result<Derived, FieldError> {
    let events = apply_corrections(events);
    let violation = events
        .iter()
        .filter(|e| e.event.event.kind.is_violation())
        .count();
    if violation > 0 {
        if violation < events.len() {
            return Err(FieldError::new(
                "kind",
                fengcun_domain::FactError::Shape(
                    "a case's events are either of criminal proceedings or of a public-security (治安) case, never both: a case moved to criminal proceedings (移送) takes a criminal case code".into(),
                ),
            ));
        }
        return derive_violation(record_id, &events);
    }
    let mut person = json!({});
    let mut stage_charges: Option<&[fengcun_domain::event::EventCharge]> = None;
    let mut offence_date: Option<&str> = None;
    let mut terminal: Option<(&Event, Date)> = None;
    let mut judgment: Option<(&Event, Date, i64)> = None;
    let mut effective: Option<Date> = None;
    let mut earliest_effective: Option<Date> = None;
    let mut earliest_judgment: Option<Date> = None;
    let mut completed: Option<Date> = None;
    let mut agencies: Vec<fengcun_domain::Agency> = Vec::new();
    let mut documents: HashMap<String, String> = HashMap::new();
    for stored in &events {
        let event = &stored.event.event;
        let date = stored.event.date;
        if !agencies.iter().any(|a| a.code == event.agency.code) {
            agencies.push(event.agency.clone());
        }
        if let Some(document) = &event.document_number {
            documents
                .entry(event.agency.code.clone())
                .or_insert_with(|| document.clone());
        }
        merge_person(&mut person, &event.person);
        if event.offence_date.is_some() {
            offence_date = event.offence_date.as_deref();
        }
        match event.kind {
            EventKind::Filed | EventKind::Indicted | EventKind::Investigation => {
                if !event.charges.is_empty() {
                    stage_charges = Some(&event.charges);
                }
                // Proceedings that go on after a withdrawal or non-prosecution reopen the case.
                if terminal.is_some_and(|(_, d)| d <= date)
                    && event.kind != EventKind::Investigation
                {
                    terminal = None;
                }
            }
            EventKind::CaseWithdrawn | EventKind::NotProsecuted => {
                if !event.charges.is_empty() {
                    stage_charges = Some(&event.charges);
                }
                terminal = Some((event, date));
            }
            EventKind::Judgment => {
                let rank = |e: &Event| e.judgment.as_ref().map_or(Instance::First, |j| j.instance);
                let newer = judgment.is_none_or(|(current, current_date, current_seq)| {
                    (rank(event), date, stored.seq) > (rank(current), current_date, current_seq)
                });
                if newer {
                    judgment = Some((event, date, stored.seq));
                }
                earliest_judgment = Some(earliest_judgment.map_or(date, |d| d.min(date)));
            }
            EventKind::JudgmentEffective => {
                effective = effective.max(Some(date));
                earliest_effective = Some(earliest_effective.map_or(date, |d| d.min(date)));
            }
            EventKind::ExecutionCompleted | EventKind::ProbationCompleted => {
                completed = completed.max(Some(date))
            }
            EventKind::ArrestApproved
            | EventKind::ArrestRefused
            | EventKind::ExecutionStarted
            | EventKind::Correction => {}
            EventKind::ViolationAccepted
            | EventKind::ViolationPenalized
            | EventKind::ViolationNotPenalized
            | EventKind::ViolationWithdrawn
            | EventKind::ViolationDecisionEffective
            | EventKind::ViolationExecutionCompleted
            | EventKind::ViolationDecisionRevoked
            | EventKind::ViolationDecisionChanged => {}
        }
    }
    check_effective_after_a_judgment(earliest_effective, earliest_judgment)?;
    let mut facts = match judgment {
        Some((event, date, _)) => {
            let judgment = event.judgment.as_ref().ok_or_else(missing_judgment)?;
            let mut facts = judgment_facts(judgment, &date.to_string(), record_id);
            if facts.get("offence_date").is_none() {
                if let Some(offence) = offence_date {
                    facts["offence_date"] = offence.into();
                }
            }
            // Effectiveness and execution only count once they follow the judgment in force.
            if let Some(effective) = effective.filter(|e| *e >= date) {
                facts["judgment_effective_date"] = effective.to_string().into();
                if judgment.verdict == JudgmentVerdict::Convicted {
                    if let Some(completed) = completed.filter(|c| *c >= effective) {
                        facts["execution_completed_date"] = completed.to_string().into();
                    }
                }
            }
            facts
        }
        None => {
            let (disposition, date, not_prosecuted) = match terminal {
                Some((event, date)) if event.kind == EventKind::NotProsecuted => {
                    ("not_prosecuted", Some(date), Some(event))
                }
                Some((_, date)) => ("case_withdrawn", Some(date), None),
                None => ("open", None, None),
            };
            let mut facts = json!({"record_id": record_id, "disposition": disposition});
            if let Some(date) = date {
                facts["disposition_date"] = date.to_string().into();
            }
            // The ground decides which rules a non-prosecution meets (docs/law.md); the prior
            // convictions, whether a discretionary one is a first offender's.
            if let Some(event) = not_prosecuted {
                if let Some(ground) = &event.ground {
                    facts["non_prosecution_ground"] = ground.clone().into();
                }
                if let Some(prior) = event.prior_convictions {
                    facts["prior_convictions"] = prior.into();
                }
            }
            if let Some(charges) = stage_charges {
                facts["charges"] = serde_json::to_value(charges).unwrap_or(Value::Null);
            }
            if let Some(offence) = offence_date {
                facts["offence_date"] = offence.into();
            }
            facts
        }
    };
    if person.as_object().is_some_and(|p| !p.is_empty()) {
        facts["person"] = person;
    }
    let record = parse(&facts)?;
    let combined =
        match judgment.and_then(|(e, _, _)| e.judgment.as_ref()?.combined_sentence.clone()) {
            Some(mut sentence) => {
                if let Some(object) = sentence.as_object_mut() {
                    object.insert("combined".into(), Value::Bool(true));
                }
                facts["sentence"] = sentence;
                Some(parse(&facts)?)
            }
            None => None,
        };
    let retried = judgment
        .and_then(|(e, _, _)| e.judgment.as_ref())
        .is_some_and(|j| j.instance == Instance::Retrial);
    let judgment_by = judgment.map(|(e, _, _)| (e.agency.clone(), e.document_number.clone()));
    Ok(Derived {
        record,
        combined,
        retried,
        agencies,
        documents,
        judgment_by,
    })
}

/// The facts of a public-security violation case (FORMATS.md, "Violation record facts") from its
/// events, in the order of proceedings: the last decision stands (a penalty, a decision not to
/// penalise, a withdrawal); a revocation on reconsideration or litigation makes the case a withdrawn
/// one from the revocation's date (its record stays, and is sealed as such: docs/law.md); a change
/// replaces the penalty. Effect and execution count only after the decision in force.
fn derive_violation(record_id: &str, events: &[StoredEvent]) -> Result<Derived, FieldError> {
    let mut person = json!({});
    let mut offence_date: Option<&str> = None;
    let mut violations: Option<&[fengcun_domain::EventViolation]> = None;
    // (disposition, date, penalty)
    let mut decision: Option<(&str, Date, Option<&Value>)> = None;
    let mut effective: Option<Date> = None;
    let mut completed: Option<Date> = None;
    // The earliest of each, for the order of the case's dates (`check_violation_dates`).
    let mut first = [None::<Date>; 3];
    let mut agencies: Vec<fengcun_domain::Agency> = Vec::new();
    let mut documents: HashMap<String, String> = HashMap::new();
    for stored in events {
        let event = &stored.event.event;
        let date = stored.event.date;
        if !agencies.iter().any(|a| a.code == event.agency.code) {
            agencies.push(event.agency.clone());
        }
        if let Some(document) = &event.document_number {
            documents
                .entry(event.agency.code.clone())
                .or_insert_with(|| document.clone());
        }
        merge_person(&mut person, &event.person);
        if event.offence_date.is_some() {
            offence_date = event.offence_date.as_deref();
        }
        if !event.violations.is_empty() {
            violations = Some(&event.violations);
        }
        let earliest = |slot: &mut Option<Date>| *slot = Some(slot.map_or(date, |d| d.min(date)));
        match event.kind {
            EventKind::ViolationPenalized => earliest(&mut first[0]),
            EventKind::ViolationDecisionEffective => earliest(&mut first[1]),
            EventKind::ViolationExecutionCompleted => earliest(&mut first[2]),
            _ => {}
        }
        match event.kind {
            EventKind::ViolationPenalized => {
                decision = Some(("penalized", date, event.penalty.as_ref()));
                effective = None;
                completed = None;
            }
            EventKind::ViolationNotPenalized => decision = Some(("not_penalized", date, None)),
            EventKind::ViolationWithdrawn | EventKind::ViolationDecisionRevoked => {
                decision = Some(("withdrawn", date, None));
                effective = None;
                completed = None;
            }
            EventKind::ViolationDecisionChanged => {
                if let Some((_, decided, _)) = decision {
                    decision = Some(("penalized", decided, event.penalty.as_ref()));
                }
            }
            EventKind::ViolationDecisionEffective => effective = effective.max(Some(date)),
            EventKind::ViolationExecutionCompleted => completed = completed.max(Some(date)),
            _ => {}
        }
    }
    check_violation_dates(first)?;
    let mut facts = json!({
        "record_id": record_id,
        "kind": "public_security_violation",
        "disposition": decision.map_or("open", |(d, _, _)| d),
    });
    if let Some((disposition, date, penalty)) = decision {
        facts["disposition_date"] = date.to_string().into();
        if disposition == "penalized" {
            if let Some(penalty) = penalty {
                facts["penalty"] = penalty.clone();
            }
            if let Some(effective) = effective.filter(|e| *e >= date) {
                facts["decision_effective_date"] = effective.to_string().into();
                if let Some(completed) = completed.filter(|c| *c >= effective) {
                    facts["execution_completed_date"] = completed.to_string().into();
                }
            }
        }
    }
    if let Some(violations) = violations {
        facts["violations"] = serde_json::to_value(violations).unwrap_or(Value::Null);
    }
    if let Some(offence) = offence_date {
        facts["offence_date"] = offence.into();
    }
    if person.as_object().is_some_and(|p| !p.is_empty()) {
        facts["person"] = person;
    }
    Ok(Derived {
        record: parse(&facts)?,
        combined: None,
        retried: false,
        agencies,
        documents,
        judgment_by: None,
    })
}

/// A penalty decision takes effect on or after the day it is made, and is executed after it takes
/// effect: a `violation_decision_effective` dated before the case's first penalty decision, or a
/// `violation_execution_completed` before its first effect, is an impossible fact (docs/law.md:
/// decision ≤ effect ≤ execution), refused rather than silently left uncounted — which left the
/// record waiting for an effect it would never see. `first`: the earliest penalty decision, effect
/// and execution of the case.
fn check_violation_dates(
    [decided, effective, executed]: [Option<Date>; 3],
) -> Result<(), FieldError> {
    let refuse = |text: String| {
        Err(FieldError::new(
            "date",
            fengcun_domain::FactError::Shape(text),
        ))
    };
    match (decided, effective, executed) {
        (Some(decided), Some(effective), _) if effective < decided => refuse(format!(
            "violation_decision_effective on {effective} is before the case's first penalty decision ({decided}): a decision takes effect on or after the day it is made"
        )),
        (_, Some(effective), Some(executed)) if executed < effective => refuse(format!(
            "violation_execution_completed on {executed} is before the decision took effect ({effective})"
        )),
        _ => Ok(()),
    }
}

/// A judgment takes effect on or after the day it is given: a `judgment_effective` dated before
/// every judgment of the case is an impossible fact, refused rather than silently left uncounted
/// (which left the record waiting for an effect it would never see). One before the judgment in
/// force but after an earlier one is an appeal's or a retrial's history, and stays.
fn check_effective_after_a_judgment(
    earliest_effective: Option<Date>,
    earliest_judgment: Option<Date>,
) -> Result<(), FieldError> {
    match (earliest_effective, earliest_judgment) {
        (Some(effective), Some(judgment)) if effective < judgment => Err(FieldError::new(
            "date",
            fengcun_domain::FactError::Shape(format!(
                "judgment_effective on {effective} is before the case's first judgment ({judgment}): a judgment takes effect on or after the day it is given"
            )),
        )),
        _ => Ok(()),
    }
}

fn missing_judgment() -> FieldError {
    FieldError::new(
        "judgment",
        fengcun_domain::FactError::Required("for kind judgment"),
    )
}

/// The facts validated as record facts, read from the JSON built above: never written out to
/// bytes and read again.
fn parse(facts: &Value) -> Result<Record, FieldError> {
    RecordParser::new(fengcun_domain::Catalogue::builtin()).parse_value(facts)
}

/// Only what the record-facts format needs of the person; the identity number is kept apart.
fn merge_person(person: &mut Value, from: &fengcun_domain::EventPerson) {
    if let Some(object) = person.as_object_mut() {
        if let Some(id) = &from.id_number {
            object.insert("id_number".into(), id.clone().into());
        }
        if let Some(name) = &from.name {
            object.insert("name".into(), name.clone().into());
        }
        if let Some(birth) = &from.birth_date {
            object.insert("birth_date".into(), birth.clone().into());
        }
    }
}

/// Applies corrections in arrival order and sorts the result into the order of proceedings.
///
/// Every ordinary event is indexed first, so a correction that arrived before the event it corrects
/// still applies. A correction names an event of its own agency (idempotency keys are each agency's
/// own, so two agencies may use the same key): no agency rewrites another's record.
fn apply_corrections(events: &[StoredEvent]) -> Vec<StoredEvent> {
    let mut ordered: Vec<&StoredEvent> = events.iter().collect();
    ordered.sort_by_key(|e| e.seq);
    let mut live: Vec<Option<StoredEvent>> = Vec::new();
    let mut by_key: HashMap<(&str, &str), usize> = HashMap::new();
    for stored in ordered
        .iter()
        .filter(|e| e.event.event.kind != EventKind::Correction)
    {
        let event = &stored.event.event;
        by_key.insert(
            (event.agency.code.as_str(), event.idempotency_key.as_str()),
            live.len(),
        );
        live.push(Some((*stored).clone()));
    }
    for correction in ordered
        .iter()
        .filter(|e| e.event.event.kind == EventKind::Correction)
    {
        let event = &correction.event.event;
        let Some(target) = event
            .corrects
            .as_deref()
            .and_then(|k| by_key.get(&(event.agency.code.as_str(), k)).copied())
        else {
            continue;
        };
        let same_agency = live[target]
            .as_ref()
            .is_some_and(|t| t.event.event.agency.code == event.agency.code);
        if !same_agency {
            continue;
        }
        live[target] = event.replacement.as_ref().and_then(|replacement| {
            let mut replaced = live[target].clone()?;
            let valid = replacement.as_ref().clone().validate_stored().ok()?;
            replaced.event = ValidEvent {
                event: Event {
                    idempotency_key: replaced.event.event.idempotency_key.clone(),
                    ..valid.event
                },
                ..valid
            };
            Some(replaced)
        });
    }
    let mut result: Vec<StoredEvent> = live.into_iter().flatten().collect();
    result.sort_by(|a, b| {
        (a.event.date, a.event.event.kind, a.seq).cmp(&(b.event.date, b.event.event.kind, b.seq))
    });
    result
}

/// Which of `arriving` makes a record contradictory: the record is derived with its `stored`
/// events and the arriving ones added one at a time (numbered after the stored ones, in order),
/// and the index of the first after which it no longer derives is the one at fault; `None` when
/// every prefix derives.
pub fn first_contradicting(stored: Vec<StoredEvent>, arriving: &[&ValidEvent]) -> Option<usize> {
    let mut events = stored;
    let base = events.iter().map(|e| e.seq).max().unwrap_or(0);
    for (offset, event) in arriving.iter().enumerate() {
        events.push(StoredEvent {
            seq: base + 1 + offset as i64,
            event: (*event).clone(),
        });
        if derive_record("blame", &events).is_err() {
            return Some(offset);
        }
    }
    None
}
