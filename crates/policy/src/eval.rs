//! The evaluation: a pure function of (policy, record, as-of date).

use fengcun_domain::date::add_period;
use fengcun_domain::{Date, Record};

use crate::condition::{Missing, Truth};
use crate::decision::{Candidate, Decision, Outcome, Reason, ReasonKind, Reasons, Verdict};
use crate::policy::{Anchor, Policy, Timing};

/// Decides whether and when `record` is sealed under `policy`, as seen on `as_of`.
///
/// 1. Every eligibility rule whose scope covers the record is evaluated, in order. One that fails
///    makes the record `not_eligible`; one that cannot be decided for a missing fact makes it
///    `needs_facts` (a failure elsewhere still wins: a missing fact cannot make it eligible). A
///    rule whose scope cannot be decided holds if its requirement holds (it holds either way) and
///    is undecided otherwise.
/// 2. For an eligible record, every timing rule in scope gives a candidate date; the seal takes
///    effect on the latest. A candidate waiting for an event that has not happened makes it
///    `seal_later` with no date.
pub fn evaluate(policy: &Policy, record: &Record, as_of: Date) -> Decision {
    let mut reasons = Reasons::new();
    // A policy decides one kind of record: a violation record is never sealed (nor refused) by a
    // criminal rule, nor a criminal record by art. 136 of the 治安管理处罚法.
    if record.kind != policy.meta.records {
        reasons.push(Reason {
            kind: ReasonKind::OutOfScope(record.kind),
            verdict: Verdict::Fails,
        });
        return decided(Outcome::NotEligible, None, reasons);
    }
    if let Some(from) = policy.meta.decided_from {
        if record.disposition != fengcun_domain::Disposition::Open {
            match record.disposition_date {
                Some(date) if date < from => {
                    reasons.push(Reason {
                        kind: ReasonKind::DecidedBefore(from),
                        verdict: Verdict::Fails,
                    });
                    return decided(Outcome::NotEligible, None, reasons);
                }
                Some(_) => reasons.push(Reason {
                    kind: ReasonKind::DecidedBefore(from),
                    verdict: Verdict::Holds,
                }),
                None => {
                    reasons.push(Reason {
                        kind: ReasonKind::DecidedBefore(from),
                        verdict: Verdict::Unknown(Missing::DISPOSITION_DATE),
                    });
                    return decided(Outcome::NeedsFacts, None, reasons);
                }
            }
        }
    }
    let mut failed = false;
    let mut missing = Missing::default();
    for (index, rule) in policy.rules.iter().enumerate() {
        let in_scope = rule
            .applies
            .as_ref()
            .map_or(Truth::True, |c| c.eval(record));
        // A rule reads "within its scope, require": out of scope it says nothing, and a scope
        // that cannot be decided matters only if the requirement fails (Kleene's implication).
        if in_scope == Truth::False {
            continue;
        }
        let verdict = match (in_scope, rule.require.eval(record)) {
            (_, Truth::True) => Verdict::Holds,
            (Truth::Unknown(m), Truth::False) => Verdict::Unknown(m),
            (_, Truth::False) => Verdict::Fails,
            (Truth::Unknown(s), Truth::Unknown(m)) => Verdict::Unknown(s.union(m)),
            (_, Truth::Unknown(m)) => Verdict::Unknown(m),
        };
        match verdict {
            Verdict::Fails => failed = true,
            Verdict::Unknown(m) => missing = missing.union(m),
            Verdict::Holds => {}
        }
        reasons.push(Reason {
            kind: ReasonKind::Rule(index as u16),
            verdict,
        });
    }
    if failed {
        return decided(Outcome::NotEligible, None, reasons);
    }
    if !missing.is_empty() {
        return decided(Outcome::NeedsFacts, None, reasons);
    }
    timing(policy, record, as_of, reasons)
}

fn decided(outcome: Outcome, effective_date: Option<Date>, reasons: Reasons) -> Decision {
    Decision {
        outcome,
        effective_date,
        reasons,
    }
}

fn timing(policy: &Policy, record: &Record, as_of: Date, mut reasons: Reasons) -> Decision {
    let mut latest: Option<Date> = None;
    let mut waiting = false;
    let mut any = false;
    let mut missing = Missing::default();
    for (index, rule) in policy.timings.iter().enumerate() {
        match rule
            .applies
            .as_ref()
            .map_or(Truth::True, |c| c.eval(record))
        {
            Truth::False => continue,
            Truth::Unknown(m) => {
                missing = missing.union(m);
                reasons.push(Reason {
                    kind: ReasonKind::Timing(
                        index as u16,
                        Candidate::WhenEventHappens(rule.anchor),
                    ),
                    verdict: Verdict::Unknown(m),
                });
                continue;
            }
            Truth::True => {}
        }
        let candidate = match candidate(rule, record) {
            Ok(candidate) => candidate,
            Err(m) => {
                missing = missing.union(m);
                reasons.push(Reason {
                    kind: ReasonKind::Timing(
                        index as u16,
                        Candidate::WhenEventHappens(rule.anchor),
                    ),
                    verdict: Verdict::Unknown(m),
                });
                continue;
            }
        };
        any = true;
        match candidate {
            Candidate::On(date) => latest = latest.max(Some(date)),
            Candidate::WhenEventHappens(_) => waiting = true,
        }
        reasons.push(Reason {
            kind: ReasonKind::Timing(index as u16, candidate),
            verdict: Verdict::Holds,
        });
    }
    if !missing.is_empty() {
        return decided(Outcome::NeedsFacts, None, reasons);
    }
    if !any {
        reasons.push(Reason {
            kind: ReasonKind::NoTiming,
            verdict: Verdict::Fails,
        });
        return decided(Outcome::NotEligible, None, reasons);
    }
    if let Some(from) = policy.meta.effective_from {
        latest = latest.max(Some(from));
        reasons.push(Reason {
            kind: ReasonKind::PolicyInForce(from),
            verdict: Verdict::Holds,
        });
    }
    match (waiting, latest) {
        (false, Some(date)) if date <= as_of => decided(Outcome::Seal, Some(date), reasons),
        (false, Some(date)) => decided(Outcome::SealLater, Some(date), reasons),
        _ => decided(Outcome::SealLater, None, reasons),
    }
}

/// The anchor date plus the wait. A judgment not yet effective or a sentence still being served
/// is an event still to come; a disposition or offence without its date is a missing fact.
fn candidate(rule: &Timing, record: &Record) -> Result<Candidate, Missing> {
    let anchor_date = match rule.anchor {
        Anchor::JudgmentEffective => record.judgment_effective_date,
        Anchor::ExecutionCompleted => record.execution_completed_date,
        Anchor::Disposition => Some(record.disposition_date.ok_or(Missing::DISPOSITION_DATE)?),
        Anchor::Offence => Some(record.offence_date.ok_or(Missing::OFFENCE_DATE)?),
        Anchor::DecisionEffective => record.decision_effective_date,
        Anchor::SentenceEnd => {
            let judged = record.disposition_date.ok_or(Missing::DISPOSITION_DATE)?;
            let months = record.sentence.map_or(0, |s| s.principal.months);
            add_period(judged, 0, i16::try_from(months).unwrap_or(i16::MAX), 0)
        }
    };
    let date =
        anchor_date.and_then(|d| add_period(d, rule.wait.years, rule.wait.months, rule.wait.days));
    Ok(date.map_or(Candidate::WhenEventHappens(rule.anchor), Candidate::On))
}
