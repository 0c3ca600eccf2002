//! Decisions: what the engine returns, and its rendering in the format of FORMATS.md.
//!
//! A `Decision` is compact (indexes into the policy, dates, missing-fact sets) so that evaluating
//! millions of records costs little; `Decision::view` renders the Chinese reasons on demand.

use fengcun_domain::{Date, Record};
use serde::Serialize;

use crate::condition::Missing;
use crate::policy::{Anchor, Policy};
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Seal,
    SealLater,
    NotEligible,
    NeedsFacts,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Seal => "seal",
            Outcome::SealLater => "seal_later",
            Outcome::NotEligible => "not_eligible",
            Outcome::NeedsFacts => "needs_facts",
        }
    }

    pub fn is_eligible(self) -> bool {
        matches!(self, Outcome::Seal | Outcome::SealLater)
    }
}

/// Whether a rule held for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails,
    Unknown(Missing),
}

/// A candidate sealing date (STYLE.md: dates as candidates, never magic values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    On(Date),
    WhenEventHappens(Anchor),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    /// Eligibility rule, by index into `Policy::rules`.
    Rule(u16),
    /// Timing rule, by index into `Policy::timings`, with the date it gives.
    Timing(u16, Candidate),
    /// The policy's own `effective_from`: nothing is sealed under it before that date.
    PolicyInForce(Date),
    /// The record is eligible but no timing rule covers it: the policy is silent, so no seal.
    NoTiming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub kind: ReasonKind,
    pub verdict: Verdict,
}

/// The reasons of one decision. Held inline: evaluating millions of records must not cost an
/// allocation per decision (no shipped policy gives more than seven reasons).
pub type Reasons = smallvec::SmallVec<[Reason; 8]>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub effective_date: Option<Date>,
    pub reasons: Reasons,
}

/// The rendered decision, field for field as FORMATS.md specifies.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DecisionView<'a> {
    pub record_id: &'a str,
    pub policy: &'a str,
    pub policy_version: &'a str,
    pub outcome: &'static str,
    pub effective_date: Option<String>,
    pub reasons: Vec<ReasonView<'a>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReasonView<'a> {
    pub rule: &'a str,
    pub holds: bool,
    pub text: String,
    pub basis: &'a str,
    /// The facts that were missing, where the rule could not be decided.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'static str>,
}

impl Decision {
    pub fn view<'a>(&self, policy: &'a Policy, record: &'a Record) -> DecisionView<'a> {
        DecisionView {
            record_id: &record.record_id,
            policy: &policy.meta.name,
            policy_version: &policy.meta.version,
            outcome: self.outcome.code(),
            effective_date: self.effective_date.map(|d| d.to_string()),
            reasons: self
                .reasons
                .iter()
                .map(|r| text::reason(r, policy, record))
                .collect(),
        }
    }

    /// The first eligibility rule that failed, if any: what a simulation counts as the exclusion reason.
    pub fn first_failed_rule<'a>(&self, policy: &'a Policy) -> Option<&'a str> {
        self.reasons.iter().find_map(|r| match (r.kind, r.verdict) {
            (ReasonKind::Rule(i), Verdict::Fails) => Some(policy.rules[usize::from(i)].id.as_str()),
            _ => None,
        })
    }
}
