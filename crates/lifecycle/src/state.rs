//! Record states and the transitions between them (DESIGN.md §5).

use fengcun_domain::{Date, Disposition, Record};
use fengcun_policy::{Decision, Outcome, Policy, Trigger};

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No final disposition yet.
    Open,
    /// 不予封存 — some rule excludes it, or a fact it needs is missing (the reasons say which).
    NotEligible,
    /// 待封存 — eligible; the seal takes effect on the date, or when an awaited event happens.
    PendingSeal { on: Option<Date> },
    /// 已封存.
    Sealed { since: Date },
    /// 已解封 — lifted by a trigger. Nothing re-seals it automatically.
    Unsealed { trigger: Trigger, since: Date },
    /// 撤销封存 — granted on facts later corrected. Nothing re-seals it automatically.
    Revoked { since: Date },
}

/// A state's code, as stored and as the API writes it (`open`, `not_eligible`, `pending_seal`,
/// `sealed`, `unsealed`, `revoked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateCode {
    Open,
    NotEligible,
    PendingSeal,
    Sealed,
    Unsealed,
    Revoked,
}

impl StateCode {
    pub const ALL: [StateCode; 6] = [
        Self::Open,
        Self::NotEligible,
        Self::PendingSeal,
        Self::Sealed,
        Self::Unsealed,
        Self::Revoked,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::NotEligible => "not_eligible",
            Self::PendingSeal => "pending_seal",
            Self::Sealed => "sealed",
            Self::Unsealed => "unsealed",
            Self::Revoked => "revoked",
        }
    }

    /// The same as [`Self::code`].
    pub fn as_str(self) -> &'static str {
        self.code()
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Open => "案件未终结",
            Self::NotEligible => "不予封存",
            Self::PendingSeal => "待封存",
            Self::Sealed => "已封存",
            Self::Unsealed => "已解封",
            Self::Revoked => "撤销封存",
        }
    }
}

/// A code that names no state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a state")]
pub struct UnknownState(pub String);

impl std::str::FromStr for StateCode {
    type Err = UnknownState;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code).ok_or_else(|| UnknownState(code.to_owned()))
    }
}

impl std::fmt::Display for StateCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Compares with a code, as stored: `state == "sealed"`.
impl PartialEq<str> for StateCode {
    fn eq(&self, code: &str) -> bool {
        self.code() == code
    }
}

impl PartialEq<&str> for StateCode {
    fn eq(&self, code: &&str) -> bool {
        self.code() == *code
    }
}

impl State {
    pub fn code(&self) -> StateCode {
        match self {
            State::Open => StateCode::Open,
            State::NotEligible => StateCode::NotEligible,
            State::PendingSeal { .. } => StateCode::PendingSeal,
            State::Sealed { .. } => StateCode::Sealed,
            State::Unsealed { .. } => StateCode::Unsealed,
            State::Revoked { .. } => StateCode::Revoked,
        }
    }

    /// The date the state took or takes effect, where it has one.
    pub fn date(&self) -> Option<Date> {
        match self {
            State::PendingSeal { on } => *on,
            State::Sealed { since } | State::Unsealed { since, .. } | State::Revoked { since } => {
                Some(*since)
            }
            State::Open | State::NotEligible => None,
        }
    }

    /// Whether the record is behind the seal now: its details are shown to nobody without a grant.
    pub fn is_sealed(&self) -> bool {
        matches!(self, State::Sealed { .. })
    }

    /// Whether the record is behind the seal on `today`: sealed, or a pending seal whose date has
    /// come. A seal takes effect on its date whether or not the scheduler has yet made it `sealed`
    /// (it does at its next round): whatever answers on sealing — look-ups, certificates — decides
    /// on the date with this, never on the stored state alone.
    pub fn is_sealed_on(&self, today: Date) -> bool {
        match self {
            State::Sealed { .. } => true,
            State::PendingSeal { on } => on.is_some_and(|on| on <= today),
            State::Open | State::NotEligible | State::Unsealed { .. } | State::Revoked { .. } => {
                false
            }
        }
    }

    pub fn trigger(&self) -> Option<Trigger> {
        match self {
            State::Unsealed { trigger, .. } => Some(*trigger),
            State::Revoked { .. } => Some(Trigger::WrongFacts),
            _ => None,
        }
    }
}

/// [`State::is_sealed_on`] for a state as stored: its code (`sealed`, `pending_seal`, …) and its
/// date (`YYYY-MM-DD`). A pending seal with no date (it waits for an event) is not sealed.
pub fn sealed_on(state: &str, date: Option<&str>, today: Date) -> bool {
    let date: Option<Date> = date.and_then(|d| d.parse().ok());
    match StateCode::parse(state) {
        Some(StateCode::Sealed) => true,
        Some(StateCode::PendingSeal) => State::PendingSeal { on: date }.is_sealed_on(today),
        _ => false,
    }
}

/// Who made a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Automatic,
    Operator(String),
}

impl Actor {
    pub fn label(&self) -> &str {
        match self {
            Actor::Automatic => "automatic",
            Actor::Operator(name) => name,
        }
    }
}

/// Why the record is being looked at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// New events for the record; `correction` when one of them corrects an earlier event.
    Events { correction: bool },
    /// The scheduler: a pending seal's date may have come.
    Tick,
    /// A different policy was put in force.
    PolicyChange,
    /// Another record of the person triggered an unsealing rule of the policy.
    Trigger(Trigger),
}

/// A transition to make: the new state and, for an unseal, the policy rule that lifted the seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub to: State,
    pub unseal_rule: Option<String>,
}

/// The next state of a record, or `None` when it stays where it is.
///
/// - Unsealed and revoked records stay so: only a person decides to seal them again.
/// - A trigger (a new conviction, a discovered earlier crime) lifts a seal, and a pending one —
///   of a conviction only: an acquittal, a non-prosecution or a withdrawn case is never lifted by
///   another case's conviction ([`trigger_reaches`]).
/// - A sealed record that no longer qualifies after a retrial is unsealed, after a correction the
///   seal is revoked — each only if the policy lists that trigger. A retrial rule with a condition
///   on the retried judgment lifts the seal when the judgment meets it, and only then.
/// - A policy change never lifts an existing seal (a new rule does not reach back); the change
///   report lists such records.
pub fn next_state(
    current: Option<&State>,
    decision: &Decision,
    derived_retrial: bool,
    record: &Record,
    cause: Cause,
    policy: &Policy,
    today: Date,
) -> Option<Step> {
    let step = |to: State| {
        Some(Step {
            to,
            unseal_rule: None,
        })
    };
    if matches!(
        current,
        Some(State::Unsealed { .. } | State::Revoked { .. })
    ) {
        return None;
    }
    if let Cause::Trigger(trigger) = cause {
        if !trigger_reaches(trigger, record) {
            return None;
        }
        return match current {
            Some(State::Sealed { .. } | State::PendingSeal { .. }) => Some(Step {
                to: State::Unsealed {
                    trigger,
                    since: today,
                },
                unseal_rule: policy
                    .unseal_rule_for_trigger(trigger)
                    .map(|u| u.id.clone()),
            }),
            _ => None,
        };
    }
    // A retrial rule with a condition on the new sentence (the juvenile measures: 改判五年有期徒刑
    // 以上刑罚) lifts the seal when the retried judgment meets it, even where that sentence is
    // still sealable (五年 is both 以下 and 以上, Criminal Law art. 99).
    if derived_retrial
        && cause == (Cause::Events { correction: false })
        && matches!(current, Some(State::Sealed { .. }))
        && let Some(rule) = policy
            .unseal_rule(Trigger::Retrial, Some(record))
            .filter(|rule| rule.applies.is_some())
    {
        return Some(Step {
            to: State::Unsealed {
                trigger: Trigger::Retrial,
                since: today,
            },
            unseal_rule: Some(rule.id.clone()),
        });
    }
    let next = match decision.outcome {
        Outcome::Seal => match current {
            Some(State::Sealed { .. }) => return None,
            _ => State::Sealed {
                since: decision.effective_date.unwrap_or(today),
            },
        },
        // A case still being handled that will be sealed once it ends (every violation case: art.
        // 136 seals them all) has no seal date yet: it is open, as a criminal case is, not a seal
        // pending on no date.
        Outcome::SealLater
            if decision.effective_date.is_none()
                && record.disposition == fengcun_domain::Disposition::Open =>
        {
            // A sealed violation record whose decision is retracted (entered in error) is still
            // the record of a violation case, which art. 136 seals: it stays sealed. Opened again
            // it would be readable with no notice to the agencies told to seal it.
            if let Some(State::Sealed { .. }) = current {
                return None;
            }
            State::Open
        }
        Outcome::SealLater => State::PendingSeal {
            on: decision.effective_date,
        },
        Outcome::NotEligible | Outcome::NeedsFacts => {
            if let Some(State::Sealed { .. }) = current {
                let trigger = match cause {
                    Cause::Events { correction: true } => Trigger::WrongFacts,
                    Cause::Events { correction: false } if derived_retrial => Trigger::Retrial,
                    _ => return None,
                };
                let rule = policy.unseal_rule(trigger, Some(record))?;
                let to = match trigger {
                    Trigger::WrongFacts => State::Revoked { since: today },
                    other => State::Unsealed {
                        trigger: other,
                        since: today,
                    },
                };
                return Some(Step {
                    to,
                    unseal_rule: Some(rule.id.clone()),
                });
            }
            if record.disposition == fengcun_domain::Disposition::Open {
                State::Open
            } else {
                State::NotEligible
            }
        }
    };
    if current == Some(&next) {
        return None;
    }
    step(next)
}

/// Whether `trigger` can lift the seal of `record`.
///
/// A new crime (再犯新罪) and a discovered earlier crime (发现漏罪) are defined against a sealed
/// *conviction*: the new crime is committed after it, the earlier one is sentenced together with it
/// (数罪并罚 — what the juvenile rules' combined-sentence condition measures). A record that never
/// became a conviction (an acquittal, a non-prosecution, a withdrawn case: a 涉罪记录) has no crime
/// to be new after or combined with, so neither trigger reaches it. A retrial or a correction of
/// the record's own facts may reach any record.
pub fn trigger_reaches(trigger: Trigger, record: &Record) -> bool {
    match trigger {
        Trigger::NewConviction | Trigger::PriorCrimeDiscovered => {
            record.disposition == Disposition::Convicted
        }
        Trigger::Retrial | Trigger::WrongFacts => true,
    }
}

/// Which trigger a new conviction is for a sealed record, if any: a crime committed after the
/// sealed judgment is a new crime (再犯新罪); one committed before it came to light later (漏罪).
/// `None` when the sealed record is not a conviction ([`trigger_reaches`]), the new one is not a
/// conviction, or was not judged after the sealed record (then it is the earlier conviction).
pub fn trigger_for(sealed: &Record, new_conviction: &Record) -> Option<Trigger> {
    if new_conviction.disposition != Disposition::Convicted {
        return None;
    }
    match (sealed.disposition_date, new_conviction.disposition_date) {
        (Some(sealed_on), Some(judged)) if sealed_on < judged => {}
        _ => return None,
    }
    let trigger = match (new_conviction.offence_date, sealed.disposition_date) {
        (Some(offence), Some(judged)) if offence < judged => Trigger::PriorCrimeDiscovered,
        _ => Trigger::NewConviction,
    };
    trigger_reaches(trigger, sealed).then_some(trigger)
}

/// Whether an effective conviction of the person lifts the seal (or pending seal) of another of
/// their records, and by which trigger: the one [`trigger_for`] gives, if the policy has an
/// unsealing rule for it whose condition the conviction meets — as executed, with the sentence
/// combined with other cases' (数罪并罚) where the judgment gives one (`combined`).
pub fn lifted_by(
    sealed: &Record,
    conviction: &Record,
    combined: Option<&Record>,
    policy: &Policy,
) -> Option<Trigger> {
    let trigger = trigger_for(sealed, conviction)?;
    policy
        .unseal_rule(trigger, Some(combined.unwrap_or(conviction)))
        .map(|_| trigger)
}
