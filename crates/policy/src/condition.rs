//! Conditions on a record's facts, evaluated in three-valued logic: a fact the policy needs but the
//! record lacks makes the answer `Unknown`, never a silent yes or no.

use fengcun_domain::{
    ChargeId, Culpability, Disposition, NonProsecutionGround, Principal, PrincipalKind, Record,
    TagSet,
};

/// Facts a condition may need and a record may lack, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Missing(u16);

impl Missing {
    pub const BIRTH_DATE: Missing = Missing(1);
    pub const OFFENCE_DATE: Missing = Missing(1 << 1);
    pub const DISPOSITION_DATE: Missing = Missing(1 << 2);
    pub const RECIDIVIST: Missing = Missing(1 << 3);
    pub const PRIOR_CONVICTIONS: Missing = Missing(1 << 4);
    pub const CHARGES: Missing = Missing(1 << 5);
    pub const CIVIL_COMPENSATION: Missing = Missing(1 << 6);
    pub const VICTIM_FORGIVENESS: Missing = Missing(1 << 7);
    pub const PLEA: Missing = Missing(1 << 8);
    pub const SEALED_JUVENILE_PRIORS: Missing = Missing(1 << 9);
    pub const NON_PROSECUTION_GROUND: Missing = Missing(1 << 10);

    const NAMES: [(Missing, &'static str, &'static str); 11] = [
        (Self::BIRTH_DATE, "person.birth_date", "出生日期"),
        (Self::OFFENCE_DATE, "offence_date", "犯罪日期"),
        (Self::DISPOSITION_DATE, "disposition_date", "处理日期"),
        (Self::RECIDIVIST, "recidivist", "是否累犯"),
        (Self::PRIOR_CONVICTIONS, "prior_convictions", "前科情况"),
        (Self::CHARGES, "charges", "罪名"),
        (
            Self::CIVIL_COMPENSATION,
            "conditions.civil_compensation_fulfilled",
            "附带民事赔偿履行情况",
        ),
        (
            Self::VICTIM_FORGIVENESS,
            "conditions.victim_forgiveness",
            "是否取得被害人谅解",
        ),
        (Self::PLEA, "conditions.plea", "是否认罪认罚"),
        (
            Self::SEALED_JUVENILE_PRIORS,
            "sealed_juvenile_priors",
            "前科中已封存的未成年人犯罪记录情况",
        ),
        (
            Self::NON_PROSECUTION_GROUND,
            "non_prosecution_ground",
            "不起诉的类型",
        ),
    ];

    pub fn union(self, other: Missing) -> Missing {
        Missing(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The field names, as FORMATS.md spells them.
    pub fn fields(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(m, _, _)| self.0 & m.0 != 0)
            .map(|(_, field, _)| field)
    }

    pub fn chinese(self) -> Vec<&'static str> {
        Self::NAMES
            .into_iter()
            .filter(|(m, _, _)| self.0 & m.0 != 0)
            .map(|(_, _, chinese)| chinese)
            .collect()
    }
}

/// Kleene's three-valued logic, with the missing facts carried along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown(Missing),
}

impl Truth {
    fn from_bool(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }

    fn from_option(value: Option<bool>, missing: Missing) -> Self {
        value.map_or(Truth::Unknown(missing), Truth::from_bool)
    }

    fn not(self) -> Self {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            unknown => unknown,
        }
    }
}

/// How full years are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeCounting {
    /// China: a year older from the day after the birthday (法释〔2006〕1号 art. 2).
    DayAfterBirthday,
    /// Common law: a year older on the birthday.
    Birthday,
}

/// Whose age: at the offence (juvenile rules) or at conviction (the UK's rehabilitation periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeAt {
    Offence,
    Conviction,
}

/// A leaf predicate on the facts of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// The disposition is one of these (a bit per `Disposition`).
    Disposition(u8),
    /// The record was not prosecuted on one of these grounds (a bit per `NonProsecutionGround`):
    /// false for any other disposition, unknown for a non-prosecution whose ground is missing.
    NonProsecutionGround(u8),
    /// The declared sentence is this or lighter ("N年有期徒刑以下刑罚", inclusive).
    SentenceAtMost(Principal),
    /// The declared sentence is heavier than this.
    SentenceAbove(Principal),
    /// The declared sentence is this or heavier ("N年有期徒刑以上刑罚", inclusive: Criminal Law
    /// art. 99).
    SentenceAtLeast(Principal),
    /// The principal punishment is of one of these kinds (a bit per `PrincipalKind`).
    Principal(u16),
    /// The record's culpability: intentional if any charge is.
    Culpability(Culpability),
    AnyChargeTagged(TagSet),
    AllChargesIn(Vec<ChargeId>),
    AnyChargeIn(Vec<ChargeId>),
    AgeUnder {
        years: u32,
        at: AgeAt,
        counting: AgeCounting,
        /// Also under 18 when the record's `main_conduct_under_18` is true: acts straddling the
        /// 18th birthday whose main conduct came before it (2022 juvenile sealing measures,
        /// art. 4(2)). Only with `years = 18` at the offence.
        main_conduct: bool,
    },
    /// 初犯: no prior conviction (every one counts, sealed or not) and not a recidivist.
    FirstOffender(bool),
    /// 初犯, not counting prior convictions that are sealed juvenile records (Criminal Law
    /// art. 100(2) frees the person from reporting them; art. 65 keeps crimes committed under 18
    /// out of recidivism).
    FirstOffenderIgnoringSealedJuvenilePriors(bool),
    Recidivist(bool),
    PriorConvictionsAtMost(u32),
    Probation(bool),
    CombinedSentence(bool),
    /// The sentence deprives of political rights (剥夺政治权利, Criminal Law arts. 54–58), as a
    /// supplementary punishment or alone: what tells 单处罚金 from another supplementary
    /// punishment alone.
    PoliticalRightsDeprived(bool),
    CivilCompensationFulfilled(bool),
    VictimForgiveness(bool),
    Plea(bool),
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Leaf(Leaf),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
}

pub(crate) fn disposition_bit(d: Disposition) -> u8 {
    1 << (d as u8)
}

pub(crate) fn ground_bit(g: NonProsecutionGround) -> u8 {
    1 << (g as u8)
}

pub(crate) fn principal_bit(k: PrincipalKind) -> u16 {
    1 << (k as u16)
}

impl Cond {
    #[inline]
    pub fn eval(&self, record: &Record) -> Truth {
        match self {
            Cond::Leaf(leaf) => leaf.eval(record),
            Cond::All(items) => {
                let mut missing = Missing::default();
                for item in items {
                    match item.eval(record) {
                        Truth::False => return Truth::False,
                        Truth::Unknown(m) => missing = missing.union(m),
                        Truth::True => {}
                    }
                }
                if missing.is_empty() {
                    Truth::True
                } else {
                    Truth::Unknown(missing)
                }
            }
            Cond::Any(items) => {
                let mut missing = Missing::default();
                for item in items {
                    match item.eval(record) {
                        Truth::True => return Truth::True,
                        Truth::Unknown(m) => missing = missing.union(m),
                        Truth::False => {}
                    }
                }
                if missing.is_empty() {
                    Truth::False
                } else {
                    Truth::Unknown(missing)
                }
            }
            Cond::Not(inner) => inner.eval(record).not(),
        }
    }

    /// Every leaf, depth first, for explanations.
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Leaf>) {
        match self {
            Cond::Leaf(leaf) => out.push(leaf),
            Cond::All(items) | Cond::Any(items) => items.iter().for_each(|c| c.collect_leaves(out)),
            Cond::Not(inner) => inner.collect_leaves(out),
        }
    }
}

impl Leaf {
    #[inline]
    pub fn eval(&self, record: &Record) -> Truth {
        // Predicates about a sentence are false for a record without one (no conviction):
        // policies scope such rules to convictions with `applies`.
        let principal = record.sentence.map(|s| s.principal);
        match self {
            Leaf::Disposition(mask) => {
                Truth::from_bool(mask & disposition_bit(record.disposition) != 0)
            }
            Leaf::NonProsecutionGround(mask) => match record.disposition {
                Disposition::NotProsecuted => Truth::from_option(
                    record
                        .non_prosecution_ground
                        .map(|g| mask & ground_bit(g) != 0),
                    Missing::NON_PROSECUTION_GROUND,
                ),
                _ => Truth::False,
            },
            Leaf::SentenceAtMost(limit) => {
                Truth::from_bool(principal.is_some_and(|p| p.at_most(limit)))
            }
            Leaf::SentenceAbove(limit) => {
                Truth::from_bool(principal.is_some_and(|p| !p.at_most(limit)))
            }
            Leaf::SentenceAtLeast(limit) => Truth::from_bool(
                principal.is_some_and(|p| p.severity_cmp(limit) != std::cmp::Ordering::Less),
            ),
            Leaf::Principal(mask) => {
                Truth::from_bool(principal.is_some_and(|p| mask & principal_bit(p.kind) != 0))
            }
            Leaf::Culpability(wanted) => {
                Truth::from_option(record.culpability().map(|c| c == *wanted), Missing::CHARGES)
            }
            Leaf::AnyChargeTagged(tags) => Truth::from_bool(record.tags().intersects(*tags)),
            Leaf::AllChargesIn(ids) => Truth::from_bool(
                !record.charges.is_empty() && record.charges.iter().all(|c| ids.contains(&c.id)),
            ),
            Leaf::AnyChargeIn(ids) => {
                Truth::from_bool(record.charges.iter().any(|c| ids.contains(&c.id)))
            }
            Leaf::AgeUnder {
                years,
                at,
                counting,
                main_conduct,
            } => {
                let age = age_under(record, *years, *at, *counting);
                // Only ever turns an adult (or unknown) age into a juvenile one: `false` or a
                // missing fact leaves the offence date to decide.
                if *main_conduct && record.main_conduct_under_18 == Some(true) {
                    Truth::True
                } else {
                    age
                }
            }
            Leaf::FirstOffender(wanted) => first_offender(record)
                .map_or_else(Truth::Unknown, |f| Truth::from_bool(f == *wanted)),
            Leaf::FirstOffenderIgnoringSealedJuvenilePriors(wanted) => {
                first_offender_ignoring_sealed_juvenile_priors(record)
                    .map_or_else(Truth::Unknown, |f| Truth::from_bool(f == *wanted))
            }
            Leaf::Recidivist(wanted) => {
                Truth::from_option(record.recidivist.map(|r| r == *wanted), Missing::RECIDIVIST)
            }
            Leaf::PriorConvictionsAtMost(n) => Truth::from_option(
                record.prior_convictions.map(|p| p <= *n),
                Missing::PRIOR_CONVICTIONS,
            ),
            Leaf::Probation(wanted) => Truth::from_bool(
                record
                    .sentence
                    .is_some_and(|s| s.probation_months.is_some() == *wanted),
            ),
            Leaf::CombinedSentence(wanted) => {
                Truth::from_bool(record.sentence.is_some_and(|s| s.combined == *wanted))
            }
            Leaf::PoliticalRightsDeprived(wanted) => Truth::from_bool(
                record
                    .sentence
                    .is_some_and(|s| (s.political_rights_months > 0) == *wanted),
            ),
            Leaf::CivilCompensationFulfilled(wanted) => Truth::from_option(
                record
                    .conditions
                    .civil_compensation_fulfilled
                    .map(|v| v == *wanted),
                Missing::CIVIL_COMPENSATION,
            ),
            Leaf::VictimForgiveness(wanted) => Truth::from_option(
                record.conditions.victim_forgiveness.map(|v| v == *wanted),
                Missing::VICTIM_FORGIVENESS,
            ),
            Leaf::Plea(wanted) => {
                Truth::from_option(record.conditions.plea.map(|v| v == *wanted), Missing::PLEA)
            }
        }
    }
}

/// 初犯: known as soon as either fact shows an earlier crime; unknown only when neither does and
/// one of them is missing. Recidivism (累犯) is a finding on a new punishment of fixed-term
/// imprisonment or more (Criminal Law art. 65): a record that ended without a conviction (a
/// discretionary non-prosecution, CPL art. 177(2)) is never a recidivist's, so for it the prior
/// convictions alone decide.
fn first_offender(record: &Record) -> Result<bool, Missing> {
    let convicted = record.disposition == Disposition::Convicted;
    let recidivist = match record.recidivist {
        None if !convicted => Some(false),
        found => found,
    };
    match (record.prior_convictions, recidivist) {
        (Some(0), Some(false)) => Ok(true),
        (Some(n), _) if n > 0 => Ok(false),
        (_, Some(true)) => Ok(false),
        _ => {
            let mut missing = Missing::default();
            if record.prior_convictions.is_none() {
                missing = missing.union(Missing::PRIOR_CONVICTIONS);
            }
            if recidivist.is_none() {
                missing = missing.union(Missing::RECIDIVIST);
            }
            Err(missing)
        }
    }
}

/// 初犯 with the sealed juvenile priors set aside: the other prior convictions are
/// `prior_convictions − sealed_juvenile_priors`. Known as soon as a fact shows an earlier crime
/// that counts (another prior, or a recidivist finding); with no prior conviction at all the
/// number of sealed ones is not needed.
fn first_offender_ignoring_sealed_juvenile_priors(record: &Record) -> Result<bool, Missing> {
    let other_priors = match (record.prior_convictions, record.sealed_juvenile_priors) {
        (Some(0), _) => Ok(0),
        (Some(prior), Some(sealed)) => Ok(prior.saturating_sub(sealed)),
        (Some(_), None) => Err(Missing::SEALED_JUVENILE_PRIORS),
        (None, _) => Err(Missing::PRIOR_CONVICTIONS),
    };
    // As for `first_offender`: a record without a conviction is never a recidivist's (art. 65).
    let recidivist = match record.recidivist {
        None if record.disposition != Disposition::Convicted => Some(false),
        found => found,
    };
    match (other_priors, recidivist) {
        (Ok(n), _) if n > 0 => Ok(false),
        (_, Some(true)) => Ok(false),
        (Ok(_), Some(false)) => Ok(true),
        (Ok(_), None) => Err(Missing::RECIDIVIST),
        (Err(missing), None) => Err(missing.union(Missing::RECIDIVIST)),
        (Err(missing), Some(false)) => Err(missing),
    }
}

fn age_under(record: &Record, years: u32, at: AgeAt, counting: AgeCounting) -> Truth {
    let (date, date_missing) = match at {
        AgeAt::Offence => (record.offence_date, Missing::OFFENCE_DATE),
        AgeAt::Conviction => (record.disposition_date, Missing::DISPOSITION_DATE),
    };
    let mut missing = Missing::default();
    if record.person.birth_date.is_none() {
        missing = missing.union(Missing::BIRTH_DATE);
    }
    if date.is_none() {
        missing = missing.union(date_missing);
    }
    match (date, missing.is_empty()) {
        (Some(date), true) => {
            let age = match counting {
                AgeCounting::DayAfterBirthday => record.age_on(date),
                AgeCounting::Birthday => record
                    .person
                    .birth_date
                    .and_then(|birth| fengcun_domain::age::age_on_birthday_rule(birth, date)),
            };
            Truth::from_bool(age.is_some_and(|age| age < years))
        }
        _ => Truth::Unknown(missing),
    }
}
