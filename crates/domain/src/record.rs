//! A record: one person in one case, with the facts the sealing rules need.

use jiff::civil::Date;

use crate::age::age_in_full_years;
use crate::case_code::CaseCode;
use crate::charge::{ChargeId, Culpability, TagSet};
use crate::disposition::{Disposition, NonProsecutionGround};
use crate::id_number::IdNumber;
use crate::sentence::Sentence;
use crate::violation::{BehaviourId, Penalty, RecordKind};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    pub id_number: Option<IdNumber>,
    pub name: Option<String>,
    /// Given, or else read from the identity number.
    pub birth_date: Option<Date>,
}

/// A charge of the record, resolved against the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeRef {
    pub id: ChargeId,
    pub culpability: Culpability,
    pub tags: TagSet,
}

/// Optional conditions some policies add (report §二(二)); `None` means unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conditions {
    pub civil_compensation_fulfilled: Option<bool>,
    pub victim_forgiveness: Option<bool>,
    pub plea: Option<bool>,
}

/// The validated facts of one record. Every invariant of the Criminal Law that the facts can
/// break has been checked when one of these exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub record_id: String,
    /// A criminal record, or a public-security violation record (FORMATS.md, `kind`).
    pub kind: RecordKind,
    pub case_code: Option<CaseCode>,
    pub person: Person,
    pub offence_date: Option<Date>,
    pub charges: Vec<ChargeRef>,
    pub disposition: Disposition,
    pub disposition_date: Option<Date>,
    pub non_prosecution_ground: Option<NonProsecutionGround>,
    /// Present exactly when `disposition` is `Convicted`.
    pub sentence: Option<Sentence>,
    pub judgment_effective_date: Option<Date>,
    pub execution_completed_date: Option<Date>,
    /// The acts straddle the 18th birthday and the main conduct came before it (the 2022 juvenile
    /// sealing measures then seal the whole case); `None` when not stated.
    pub main_conduct_under_18: Option<bool>,
    pub recidivist: Option<bool>,
    /// Convictions before this case, sealed or not (sealed juvenile ones included).
    pub prior_convictions: Option<u32>,
    /// How many of `prior_convictions` are sealed juvenile records (Criminal Law art. 100(2));
    /// given only with `prior_convictions`, and never more.
    pub sealed_juvenile_priors: Option<u32>,
    pub conditions: Conditions,
    /// A violation record's behaviours (empty for a criminal record).
    pub violations: Vec<BehaviourId>,
    /// A violation record's penalty: present exactly when `disposition` is `Penalized`.
    pub penalty: Option<Penalty>,
    /// When a violation record's penalty decision took effect.
    pub decision_effective_date: Option<Date>,
}

impl Record {
    /// Intentional if any charge is: one intentional crime makes the whole record intentional.
    /// `None` when the record has no charges.
    pub fn culpability(&self) -> Option<Culpability> {
        if self.charges.is_empty() {
            None
        } else if self
            .charges
            .iter()
            .any(|c| c.culpability == Culpability::Intentional)
        {
            Some(Culpability::Intentional)
        } else {
            Some(Culpability::Negligent)
        }
    }

    pub fn tags(&self) -> TagSet {
        self.charges
            .iter()
            .fold(TagSet::EMPTY, |acc, c| acc.union(c.tags))
    }

    pub fn is_violation(&self) -> bool {
        self.kind == RecordKind::PublicSecurityViolation
    }

    /// 初犯: no earlier conviction and not a recidivist. `None` when either fact is unknown.
    pub fn first_offender(&self) -> Option<bool> {
        match (self.prior_convictions, self.recidivist) {
            (Some(0), Some(false)) => Some(true),
            (Some(n), _) if n > 0 => Some(false),
            (_, Some(true)) => Some(false),
            _ => None,
        }
    }

    /// Age in full years on `date`, if the birth date is known.
    pub fn age_on(&self, date: Date) -> Option<u32> {
        age_in_full_years(self.person.birth_date?, date)
    }
}
