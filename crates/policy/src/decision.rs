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
    /// The record is of a kind the policy does not decide (a violation record under a criminal
    /// policy, or the other way round): out of its scope, never sealed under it.
    OutOfScope(fengcun_domain::RecordKind),
    /// The record was decided before the policy's `decided_from`: out of its scope.
    DecidedBefore(Date),
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

    /// The legal bases of the rules that decided the case, each citation once, in the order of the
    /// reasons: for a seal, the eligibility rules that held and the timing rules whose date is the
    /// effective date (with the policy's own date where that is the one); for any other outcome,
    /// the rules that failed or could not be decided. A rule outside its scope never decided
    /// anything and is not a reason at all.
    pub fn deciding_bases(&self, policy: &Policy) -> Vec<String> {
        let eligible = self.outcome.is_eligible();
        let bases = self
            .reasons
            .iter()
            .filter_map(|r| match (r.kind, r.verdict) {
                (ReasonKind::Rule(i), Verdict::Holds) if eligible => {
                    Some(policy.rules[usize::from(i)].basis.as_str())
                }
                (ReasonKind::Rule(i), Verdict::Fails | Verdict::Unknown(_)) if !eligible => {
                    Some(policy.rules[usize::from(i)].basis.as_str())
                }
                (ReasonKind::Timing(i, Candidate::On(date)), Verdict::Holds)
                    if eligible && Some(date) == self.effective_date =>
                {
                    Some(policy.timings[usize::from(i)].basis.as_str())
                }
                (ReasonKind::Timing(i, Candidate::WhenEventHappens(_)), Verdict::Holds)
                    if eligible && self.effective_date.is_none() =>
                {
                    Some(policy.timings[usize::from(i)].basis.as_str())
                }
                (ReasonKind::Timing(i, _), Verdict::Unknown(_)) if !eligible => {
                    Some(policy.timings[usize::from(i)].basis.as_str())
                }
                (ReasonKind::PolicyInForce(date), _)
                    if eligible && Some(date) == self.effective_date =>
                {
                    Some(policy.meta.source.as_str())
                }
                (ReasonKind::NoTiming | ReasonKind::OutOfScope(_), _) if !eligible => {
                    Some(policy.meta.source.as_str())
                }
                (ReasonKind::DecidedBefore(_), Verdict::Fails | Verdict::Unknown(_))
                    if !eligible =>
                {
                    Some(policy.meta.source.as_str())
                }
                _ => None,
            });
        cite_once(bases)
    }

    /// The first eligibility rule that failed, if any: what a simulation counts as the exclusion reason.
    pub fn first_failed_rule<'a>(&self, policy: &'a Policy) -> Option<&'a str> {
        self.reasons.iter().find_map(|r| match (r.kind, r.verdict) {
            (ReasonKind::Rule(i), Verdict::Fails) => Some(policy.rules[usize::from(i)].id.as_str()),
            _ => None,
        })
    }
}

/// Citations, each once: every basis is split at `；` into its citations; a citation given again
/// is left out, and so is a bare reference (`《刑事诉讼法》第二百八十六条`) where the same reference is
/// cited with a gloss (`《刑事诉讼法》第二百八十六条：应当对相关犯罪记录予以封存`) — the glossed one
/// takes the place of the first. Two different glosses of one reference say different things and
/// are both kept.
pub fn cite_once<'a>(bases: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    fn reference(citation: &str) -> &str {
        citation.split('：').next().unwrap_or(citation).trim()
    }
    let mut cited: Vec<String> = Vec::new();
    for citation in bases
        .into_iter()
        .flat_map(|b| b.split('；'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let this = reference(citation);
        let bare = this == citation;
        if cited.iter().any(|c| c == citation) {
            continue;
        }
        if bare && cited.iter().any(|c| reference(c) == this) {
            continue;
        }
        match cited.iter_mut().find(|c| c.as_str() == this) {
            Some(earlier) => *earlier = citation.to_owned(),
            None => cited.push(citation.to_owned()),
        }
    }
    cited
}
