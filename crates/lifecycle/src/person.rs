//! Everything that follows, for one person, from a reason to look at one of their records again:
//! the record derived and decided, its transition, the unsealing cascade across the person's other
//! records (a new crime, 漏罪, a retrial, wrong facts) and who each transition's notice goes to.
//!
//! The store reads the person's records and events ([`PersonRecords`]), calls [`decide`], and
//! writes what it returns; nothing here reads a database or the clock (`today` is passed in).

use std::collections::{HashMap, HashSet};

use fengcun_domain::{Date, Disposition, FieldError, Record, RecordKind};
use fengcun_policy::{Decision, Policy, Trigger, evaluate};
use serde_json::{Value, json};

use crate::{
    Cause, Derived, Issuing, NoticeKind, State, Step, StoredEvent, TriggeringJudgment,
    derive_record, lifted_by, next_state,
};

/// The person's records as the store read them. Reading may fail (a key that does not open a
/// row): the store's error passes through [`decide`] unchanged.
pub trait PersonRecords {
    type Error;

    /// The error for a record whose events contradict the record-facts rules.
    fn invalid(error: FieldError) -> Self::Error;

    /// The case codes of the person's records, in order.
    fn cases(&self) -> Vec<String>;

    /// A record's state: `None` for a case the person has no record of, `Some(None)` for a record
    /// not decided yet.
    fn state(&self, case_code: &str) -> Option<Option<State>>;

    /// Whether the record's stored facts are a conviction that took effect.
    fn convicted(&self, case_code: &str) -> bool;

    /// Every event of the record, stored and arriving, each with its arrival number.
    fn events(&mut self, case_code: &str) -> Result<Vec<StoredEvent>, Self::Error>;

    /// The record's stored facts, where it has any.
    fn facts(&mut self, case_code: &str) -> Result<Option<Record>, Self::Error>;
}

/// What a decision is taken under: the policies in force — one per kind of record — who issues
/// the notices, and today.
#[derive(Debug, Clone, Copy)]
pub struct Under<'a> {
    /// The policy deciding criminal records.
    pub policy: &'a Policy,
    /// The juvenile statute in force beside it (CPL art. 286, the shipped `cn-juvenile`): a
    /// record it seals is decided by it, whatever the policy in force says ([`deciding_policy`]).
    pub juvenile: Option<&'a Policy>,
    /// The policy deciding public-security violation records (治安管理处罚法 art. 136).
    pub violation_policy: &'a Policy,
    pub issuing: &'a Issuing,
    pub today: Date,
}

impl<'a> Under<'a> {
    /// The policy that decides, seals and unseals `record` ([`deciding_policy`]).
    pub fn policy_for(&self, record: &Record) -> &'a Policy {
        deciding_policy(
            self.policy,
            self.juvenile,
            self.violation_policy,
            record,
            self.today,
        )
    }
}

/// The policy that decides `record` on `today`. Each record is decided only by a policy of its
/// own kind: a violation record by `violation_policy`. A criminal record by `policy`, the one in
/// force — except a record the juvenile statute seals: CPL art. 286 (犯罪的时候不满十八周岁，被判处
/// 五年有期徒刑以下刑罚的，应当对相关犯罪记录予以封存) is law whatever option for minor crimes is in
/// force, and the report builds on the juvenile system it leaves as it is (现行未成年人犯罪记录封存
/// 制度). Such a record is then sealed, explained and unsealed (2022 measures art. 18: only by a
/// crime committed as a minor, five years combined) by the statute. A pure function of the
/// record and the date, so that a decision and its transition name the same policy.
pub fn deciding_policy<'a>(
    policy: &'a Policy,
    juvenile: Option<&'a Policy>,
    violation_policy: &'a Policy,
    record: &Record,
    today: Date,
) -> &'a Policy {
    match record.kind {
        RecordKind::PublicSecurityViolation => violation_policy,
        RecordKind::Criminal => match juvenile {
            Some(statute)
                if statute.name() != policy.name()
                    && evaluate(statute, record, today).outcome.is_eligible() =>
            {
                statute
            }
            _ => policy,
        },
    }
}

/// One record derived and decided; a record decided twice (a cascade that comes back to it)
/// appears twice, and ends as the last says.
#[derive(Debug, Clone)]
pub struct DecidedRecord {
    pub case_code: String,
    pub derived: Derived,
    pub decision: Decision,
    /// The state before, `None` for a record not decided before.
    pub from: Option<State>,
    /// The transition the decision makes, if any.
    pub step: Option<Step>,
    /// The state after.
    pub state: Option<State>,
    /// Whether the record is a conviction that took effect.
    pub convicted: bool,
    /// Whether the juvenile statute decided it ([`deciding_policy`]) rather than the policy in
    /// force for its kind: its row and transitions name the statute.
    pub by_juvenile_statute: bool,
}

/// A transition with what its notices say and who they go to.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub case_code: String,
    /// The decided record it belongs to (an index into [`Decided::records`]): its facts and the
    /// date are the transition's evidence.
    pub record: usize,
    pub from: Option<State>,
    pub to: State,
    /// The policy rule that made it: the unsealing rule that lifted a seal, or
    /// `notify_new_agencies` for a sealed record's notice to agencies that first report on it.
    pub rule: Option<String>,
    /// The notice it sends, if any.
    pub notice: Option<NoticeKind>,
    /// Who is told: agency codes, then `person` (the newcomers only, for `notify_new_agencies`).
    pub recipients: Vec<String>,
    /// Everything the notices say ([`notice_facts`]), sealed once with the transition.
    pub notice_facts: Option<Value>,
}

/// What [`decide`] returns.
#[derive(Debug, Clone, Default)]
pub struct Decided {
    pub records: Vec<DecidedRecord>,
    pub transitions: Vec<Transition>,
}

/// The rule name of a notice telling agencies that first report on a sealed record.
pub const NOTIFY_NEW_AGENCIES: &str = "notify_new_agencies";

/// Derives `case_code` from its events, decides it under the policy and gives its transition;
/// then the cascade: a conviction that took effect lifts the seals (and pending seals) it reaches
/// among the person's records judged before it, and a record becoming sealed is lifted by a later
/// conviction of the person that arrived first. `arriving` names the events (agency code,
/// idempotency key) that made the record be looked at: an agency among them that had not reported
/// on a sealed record before is told of the seal.
pub fn decide<P: PersonRecords>(
    person: &mut P,
    case_code: &str,
    cause: Cause,
    arriving: &[(&str, &str)],
    under: Under<'_>,
) -> Result<Decided, P::Error> {
    let mut run = Run {
        person,
        under,
        decided: Decided::default(),
        overlay: HashMap::new(),
    };
    run.refresh(case_code, cause, arriving, None)?;
    Ok(run.decided)
}

struct Run<'p, 'u, P> {
    person: &'p mut P,
    under: Under<'u>,
    decided: Decided,
    /// What this run decided of each record, read before what the store read.
    overlay: HashMap<String, (Option<State>, bool, Record)>,
}

impl<P: PersonRecords> Run<'_, '_, P> {
    fn state(&self, case_code: &str) -> Option<Option<State>> {
        match self.overlay.get(case_code) {
            Some((state, _, _)) => Some(*state),
            None => self.person.state(case_code),
        }
    }

    fn convicted(&self, case_code: &str) -> bool {
        match self.overlay.get(case_code) {
            Some((_, convicted, _)) => *convicted,
            None => self.person.convicted(case_code),
        }
    }

    fn facts(&mut self, case_code: &str) -> Result<Option<Record>, P::Error> {
        match self.overlay.get(case_code) {
            Some((_, _, record)) => Ok(Some(record.clone())),
            None => self.person.facts(case_code),
        }
    }

    fn refresh(
        &mut self,
        case_code: &str,
        cause: Cause,
        arriving: &[(&str, &str)],
        by: Option<&TriggeringJudgment>,
    ) -> Result<(), P::Error> {
        let today = self.under.today;
        let current = self.state(case_code).flatten();
        let events = self.person.events(case_code)?;
        let identity = events
            .first()
            .map(|e| e.event.identity.as_str())
            .unwrap_or_default();
        let record_id = format!(
            "{case_code}:{}",
            identity.split(':').next_back().unwrap_or_default()
        );
        let derived = derive_record(&record_id, &events).map_err(P::invalid)?;
        let policy = self.under.policy_for(&derived.record);
        let decision = evaluate(policy, &derived.record, today);
        let convicted = is_effective_conviction(&derived.record);
        let step = next_state(
            current.as_ref(),
            &decision,
            derived.retried,
            &derived.record,
            cause,
            policy,
            today,
        );
        let state = step.as_ref().map(|s| s.to).or(current);
        let index = self.decided.records.len();
        if let Some(step) = &step {
            self.transition(
                index, case_code, current, step, &decision, &derived, None, by, policy,
            );
        } else if let Some(sealed @ State::Sealed { .. }) = current {
            // An agency that first reports on a record after it was sealed holds it too: it is told.
            let earlier: HashSet<&str> = events
                .iter()
                .filter(|e| {
                    let event = &e.event.event;
                    !arriving
                        .contains(&(event.agency.code.as_str(), event.idempotency_key.as_str()))
                })
                .map(|e| e.event.event.agency.code.as_str())
                .collect();
            let newcomers: Vec<String> = derived
                .agencies
                .iter()
                .filter(|a| !earlier.contains(a.code.as_str()))
                .map(|a| a.code.clone())
                .collect();
            if !arriving.is_empty() && !newcomers.is_empty() {
                let step = Step {
                    to: sealed,
                    unseal_rule: None,
                };
                self.transition(
                    index,
                    case_code,
                    current,
                    &step,
                    &decision,
                    &derived,
                    Some(newcomers),
                    None,
                    policy,
                );
            }
        }
        self.overlay.insert(
            case_code.to_owned(),
            (state, convicted, derived.record.clone()),
        );
        let by_juvenile_statute = self
            .under
            .juvenile
            .is_some_and(|statute| std::ptr::eq(statute, policy));
        self.decided.records.push(DecidedRecord {
            by_juvenile_statute,
            case_code: case_code.to_owned(),
            derived,
            decision,
            from: current,
            step,
            state,
            convicted,
        });
        if convicted {
            self.triggers_from(case_code, index)?;
        }
        if matches!(
            state,
            Some(State::Sealed { .. } | State::PendingSeal { .. })
        ) {
            self.triggers_to(case_code, index)?;
        }
        Ok(())
    }

    /// The record decided at `index` is a conviction that has taken effect: lift the seals (and
    /// pending seals) it reaches among the person's records judged before it.
    fn triggers_from(&mut self, case_code: &str, index: usize) -> Result<(), P::Error> {
        for other in self.person.cases() {
            if other == case_code {
                continue;
            }
            let reachable = matches!(
                self.state(&other).flatten(),
                Some(State::Sealed { .. } | State::PendingSeal { .. })
            );
            if !reachable {
                continue;
            }
            let Some(sealed) = self.facts(&other)? else {
                continue;
            };
            let derived = &self.decided.records[index].derived;
            let lifted = lifted_by(
                &sealed,
                &derived.record,
                derived.combined.as_ref(),
                self.under.policy_for(&sealed),
            );
            if let Some(trigger) = lifted {
                let by = derived.judgment();
                self.refresh(&other, Cause::Trigger(trigger), &[], by.as_ref())?;
            }
        }
        Ok(())
    }

    /// The record decided at `index` is becoming sealed: a later conviction of the person that
    /// arrived first lifts it.
    fn triggers_to(&mut self, case_code: &str, index: usize) -> Result<(), P::Error> {
        for other in self.person.cases() {
            if other == case_code || !self.convicted(&other) {
                continue;
            }
            let Some(later) = self.facts(&other)? else {
                continue;
            };
            let sealed = &self.decided.records[index].derived.record;
            if let Some(trigger) = lifted_by(sealed, &later, None, self.under.policy_for(sealed)) {
                let by = self.judgment_of(&other)?;
                self.refresh(case_code, Cause::Trigger(trigger), &[], by.as_ref())?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// The judgment in force of one of the person's records, for a notice that names it.
    fn judgment_of(&mut self, case_code: &str) -> Result<Option<TriggeringJudgment>, P::Error> {
        if self.person.state(case_code).is_none() {
            return Ok(None);
        }
        let events = self.person.events(case_code)?;
        Ok(derive_record(case_code, &events)
            .ok()
            .and_then(|d| d.judgment()))
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one transition needs all of these; a struct would only rename them"
    )]
    fn transition(
        &mut self,
        record: usize,
        case_code: &str,
        from: Option<State>,
        step: &Step,
        decision: &Decision,
        derived: &Derived,
        only: Option<Vec<String>>,
        by: Option<&TriggeringJudgment>,
        policy: &Policy,
    ) {
        let Under { issuing, today, .. } = self.under;
        let to = step.to;
        let unseal = step
            .unseal_rule
            .as_deref()
            .and_then(|id| policy.unseals.iter().find(|u| u.id == id));
        let notice = notice_kind(from, to);
        // The judgment that lifted the seal: another case's conviction (a new or a discovered
        // crime), or this case's own retried judgment.
        let judgment = match unseal.map(|u| u.trigger) {
            Some(Trigger::NewConviction | Trigger::PriorCrimeDiscovered) => by.cloned(),
            Some(Trigger::Retrial) => derived.judgment(),
            _ => None,
        };
        // A newcomer is told of a seal an earlier decision made. If the facts as they stand now
        // no longer decide it (a later event left one unknown, say), their bases would cite a
        // failed rule as the ground of the seal: the notice cites the policy's source instead.
        let deciding = match (&only, decision.outcome.is_eligible()) {
            (Some(_), false) => vec![policy.meta.source.clone()],
            _ => decision.deciding_bases(policy),
        };
        let notice_facts = notice.map(|kind| {
            notice_facts(&NoticeInputs {
                kind,
                to,
                unseal,
                deciding: &deciding,
                policy,
                issuing,
                today,
                derived,
                case_code,
                judgment: judgment.as_ref(),
            })
        });
        let recipients = match (notice, &only) {
            (None, _) => Vec::new(),
            // Telling newcomers only: the others and the person know already.
            (Some(_), Some(only)) => only.clone(),
            (Some(_), None) => derived
                .agencies
                .iter()
                .map(|a| a.code.clone())
                .chain(["person".to_owned()])
                .collect(),
        };
        self.decided.transitions.push(Transition {
            case_code: case_code.to_owned(),
            record,
            from,
            to,
            rule: match only {
                Some(_) => Some(NOTIFY_NEW_AGENCIES.to_owned()),
                None => step.unseal_rule.clone(),
            },
            notice,
            recipients,
            notice_facts,
        });
    }
}

/// Whether a record's facts are a conviction that took effect: what can lift another record's
/// seal (再犯新罪, 漏罪), and what a record becoming sealed is checked against.
pub fn is_effective_conviction(record: &Record) -> bool {
    record.disposition == Disposition::Convicted && record.judgment_effective_date.is_some()
}

/// The notice a transition sends: a seal, and the lifting of a seal (unsealed or revoked).
pub fn notice_kind(from: Option<State>, to: State) -> Option<NoticeKind> {
    match (from, to) {
        (_, State::Sealed { .. }) => Some(NoticeKind::Seal),
        (Some(State::Sealed { .. }), State::Unsealed { .. } | State::Revoked { .. }) => {
            Some(NoticeKind::Unseal)
        }
        _ => None,
    }
}

/// What one transition's notices are made from.
struct NoticeInputs<'a> {
    kind: NoticeKind,
    to: State,
    unseal: Option<&'a fengcun_policy::Unseal>,
    deciding: &'a [String],
    policy: &'a Policy,
    issuing: &'a Issuing,
    today: Date,
    derived: &'a Derived,
    case_code: &'a str,
    judgment: Option<&'a TriggeringJudgment>,
}

/// Everything the notices of one transition say, sealed once with the transition; each notice is
/// rendered from it when it is read or delivered, the same text every time.
fn notice_facts(n: &NoticeInputs<'_>) -> Value {
    let basis: Vec<String> = match n.unseal {
        Some(u) => fengcun_policy::cite_once([u.basis.as_str()]),
        None => n.deciding.to_vec(),
    };
    let derived = n.derived;
    let agencies: serde_json::Map<String, Value> = derived
        .agencies
        .iter()
        .map(|a| {
            let mut agency = a.clone();
            if let Some(name) = n.issuing.agency_names.get(&a.code) {
                agency.name = Some(name.clone());
            }
            (
                a.code.clone(),
                json!({"agency": agency, "document_number": derived.documents.get(&a.code)}),
            )
        })
        .collect();
    let unsealing = n.kind == NoticeKind::Unseal;
    json!({
        "kind": n.kind.code(),
        "case_code": n.case_code,
        "person_name": derived.record.person.name,
        "id_number": derived.record.person.id_number.as_ref().map(ToString::to_string),
        "effective": n.to.date().unwrap_or(n.today).to_string(),
        "issued": n.today.to_string(),
        "policy_title": n.policy.meta.title,
        "instrument": n.issuing.instrument(&n.policy.meta),
        "basis": basis,
        "reason": n.unseal.map(|u| u.text.clone()),
        "disposition": derived.record.disposition.code(),
        "agencies": agencies,
        "authority": n.issuing.authority_for(derived.record.kind),
        "judgment": n.judgment.map(|j| json!({
            "court": j.court,
            "court_code": j.court_code,
            "case_number": j.case_number,
            "date": j.date.to_string(),
            "effective": j.effective.map(|d| d.to_string()),
        })),
        "objection_body": unsealing.then_some(n.issuing.objection_body.as_ref()).flatten(),
        "objection_days": unsealing.then_some(n.issuing.objection_days).flatten(),
    })
}
