//! The declared sentence (宣告刑) and the limits the Criminal Law puts on it.

use std::cmp::Ordering;
use std::fmt;

use crate::numerals::{chinese_number, chinese_term};

/// Kinds of principal punishment, from the lightest to the heaviest.
///
/// Exemption (art. 37) and a supplementary punishment alone (单处附加刑) are lighter than every
/// principal punishment, so "N years of fixed-term imprisonment or less" includes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    Exempt,
    SupplementaryOnly,
    PublicSurveillance,
    CriminalDetention,
    FixedTerm,
    Life,
    DeathSuspended,
    Death,
}

impl PrincipalKind {
    pub const ALL: [PrincipalKind; 8] = [
        Self::Exempt,
        Self::SupplementaryOnly,
        Self::PublicSurveillance,
        Self::CriminalDetention,
        Self::FixedTerm,
        Self::Life,
        Self::DeathSuspended,
        Self::Death,
    ];

    pub const CODES: &'static str = "exempt, supplementary_only, public_surveillance, \
        criminal_detention, fixed_term, life, death_suspended, death";

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Exempt => "exempt",
            Self::SupplementaryOnly => "supplementary_only",
            Self::PublicSurveillance => "public_surveillance",
            Self::CriminalDetention => "criminal_detention",
            Self::FixedTerm => "fixed_term",
            Self::Life => "life",
            Self::DeathSuspended => "death_suspended",
            Self::Death => "death",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::Exempt => "免予刑事处罚",
            Self::SupplementaryOnly => "单处附加刑",
            Self::PublicSurveillance => "管制",
            Self::CriminalDetention => "拘役",
            Self::FixedTerm => "有期徒刑",
            Self::Life => "无期徒刑",
            Self::DeathSuspended => "死刑缓期二年执行",
            Self::Death => "死刑",
        }
    }

    /// Whether the kind is measured in months.
    pub fn has_term(self) -> bool {
        matches!(
            self,
            Self::PublicSurveillance | Self::CriminalDetention | Self::FixedTerm
        )
    }

    /// The lawful term in months: for one crime, and combined for several (数罪并罚, art. 69).
    fn term_bounds(self, combined: bool) -> Option<(u32, u32, &'static str)> {
        match (self, combined) {
            (Self::PublicSurveillance, false) => Some((3, 24, "art. 38: 3 months to 2 years")),
            (Self::PublicSurveillance, true) => Some((3, 36, "art. 69: combined at most 3 years")),
            (Self::CriminalDetention, false) => Some((1, 6, "art. 42: 1 to 6 months")),
            (Self::CriminalDetention, true) => Some((1, 12, "art. 69: combined at most 1 year")),
            (Self::FixedTerm, false) => Some((6, 180, "art. 45: 6 months to 15 years")),
            (Self::FixedTerm, true) => Some((6, 300, "art. 69: combined at most 25 years")),
            _ => None,
        }
    }
}

/// A principal punishment with its term where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// Months for 管制, 拘役 and 有期徒刑; 0 for the others.
    pub months: u32,
}

impl Principal {
    pub fn new(kind: PrincipalKind, months: u32) -> Self {
        Self {
            kind,
            months: if kind.has_term() { months } else { 0 },
        }
    }

    /// Severity order: first the kind, then the term within a kind. 管制 of two years is
    /// lighter than 有期徒刑 of one year.
    pub fn severity_cmp(&self, other: &Principal) -> Ordering {
        self.kind
            .cmp(&other.kind)
            .then(self.months.cmp(&other.months))
    }

    /// "`other` or lighter" (……以下刑罚, inclusive).
    pub fn at_most(&self, other: &Principal) -> bool {
        self.severity_cmp(other) != Ordering::Greater
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind.has_term() {
            write!(f, "{}{}", self.kind.chinese(), chinese_term(self.months))
        } else {
            f.write_str(self.kind.chinese())
        }
    }
}

/// Why a sentence is not one a court may pronounce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentenceError {
    #[error("`months` is required for {0}")]
    MissingTerm(&'static str),
    #[error("{kind} has no term; `months` must be absent")]
    UnexpectedTerm { kind: &'static str },
    #[error("{kind} of {months} months is not allowed (Criminal Law {rule})")]
    TermOutOfBounds {
        kind: &'static str,
        months: u32,
        rule: &'static str,
    },
    #[error("probation (缓刑) is only for 拘役 or 有期徒刑 of at most 3 years (art. 72), not {0}")]
    ProbationNotAllowed(String),
    #[error("probation (缓刑) is not allowed for a recidivist (art. 74)")]
    ProbationForRecidivist,
    #[error(
        "probation period of {probation} months for {sentence} is not allowed \
         (art. 73: {rule}, and not shorter than the sentence)"
    )]
    ProbationPeriod {
        probation: u32,
        sentence: String,
        rule: &'static str,
    },
    #[error("exemption from punishment (免予刑事处罚, art. 37) carries no fine or deprivation")]
    ExemptWithPunishment,
    #[error("a supplementary punishment alone needs a fine or a deprivation of political rights")]
    SupplementaryMissing,
    #[error("deprivation of political rights of {0} months is outside 1–5 years (art. 55)")]
    PoliticalRights(u32),
}

/// The declared sentence of a record: the combined one where there were several crimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sentence {
    pub principal: Principal,
    /// Probation period (缓刑考验期) in months; probation does not change the declared sentence.
    pub probation_months: Option<u32>,
    pub fine_yuan: u64,
    pub political_rights_months: u32,
    /// Combined for several crimes (数罪并罚), which widens the lawful terms.
    pub combined: bool,
}

/// The raw parts of a sentence, as they come from outside, before validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct SentenceInput {
    pub months: Option<u32>,
    pub probation_months: Option<u32>,
    pub fine_yuan: Option<u64>,
    pub political_rights_months: Option<u32>,
    pub combined: bool,
    pub recidivist: bool,
}

impl Sentence {
    /// Validates a sentence against the Criminal Law. The error says which article forbids it.
    pub fn new(kind: PrincipalKind, input: SentenceInput) -> Result<Self, SentenceError> {
        let months = match (kind.has_term(), input.months) {
            (true, None) => return Err(SentenceError::MissingTerm(kind.chinese())),
            (true, Some(m)) => m,
            (false, None | Some(0)) => 0,
            (false, Some(_)) => {
                return Err(SentenceError::UnexpectedTerm {
                    kind: kind.chinese(),
                });
            }
        };
        if let Some((min, max, rule)) = kind.term_bounds(input.combined) {
            if !(min..=max).contains(&months) {
                return Err(SentenceError::TermOutOfBounds {
                    kind: kind.chinese(),
                    months,
                    rule,
                });
            }
        }
        let principal = Principal::new(kind, months);
        let probation_months = input.probation_months.filter(|m| *m > 0);
        if let Some(probation) = probation_months {
            check_probation(principal, probation, input.recidivist)?;
        }
        let fine_yuan = input.fine_yuan.unwrap_or(0);
        let political_rights_months = input.political_rights_months.unwrap_or(0);
        if political_rights_months > 60 {
            return Err(SentenceError::PoliticalRights(political_rights_months));
        }
        match kind {
            PrincipalKind::Exempt if fine_yuan > 0 || political_rights_months > 0 => {
                return Err(SentenceError::ExemptWithPunishment);
            }
            PrincipalKind::SupplementaryOnly if fine_yuan == 0 && political_rights_months == 0 => {
                return Err(SentenceError::SupplementaryMissing);
            }
            _ => {}
        }
        Ok(Self {
            principal,
            probation_months,
            fine_yuan,
            political_rights_months,
            combined: input.combined,
        })
    }

    pub fn kind(&self) -> PrincipalKind {
        self.principal.kind
    }

    /// `拘役三个月，缓刑六个月，并处罚金三千元` — the way a judgment states it.
    pub fn chinese(&self) -> String {
        let mut text = self.principal.to_string();
        if self.principal.kind == PrincipalKind::SupplementaryOnly {
            text = match (self.fine_yuan > 0, self.political_rights_months > 0) {
                (true, false) => "单处罚金".to_owned(),
                (false, true) => "单处剥夺政治权利".to_owned(),
                _ => "单处罚金、剥夺政治权利".to_owned(),
            };
        }
        if let Some(probation) = self.probation_months {
            text.push_str(&format!("，缓刑{}", chinese_term(probation)));
        }
        if self.fine_yuan > 0 {
            let prefix = if self.principal.kind == PrincipalKind::SupplementaryOnly {
                "罚金"
            } else {
                "并处罚金"
            };
            text.push_str(&format!("，{prefix}{}元", chinese_number(self.fine_yuan)));
        }
        if self.political_rights_months > 0
            && self.principal.kind != PrincipalKind::SupplementaryOnly
        {
            text.push_str(&format!(
                "，剥夺政治权利{}",
                chinese_term(self.political_rights_months)
            ));
        }
        text
    }
}

fn check_probation(
    principal: Principal,
    probation: u32,
    recidivist: bool,
) -> Result<(), SentenceError> {
    let (min, max, rule) = match principal.kind {
        PrincipalKind::CriminalDetention => (2, 12, "拘役: 2 months to 1 year"),
        PrincipalKind::FixedTerm if principal.months <= 36 => (12, 60, "有期徒刑: 1 to 5 years"),
        _ => return Err(SentenceError::ProbationNotAllowed(principal.to_string())),
    };
    if recidivist {
        return Err(SentenceError::ProbationForRecidivist);
    }
    if !(min..=max).contains(&probation) || probation < principal.months {
        return Err(SentenceError::ProbationPeriod {
            probation,
            sentence: principal.to_string(),
            rule,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrincipalKind::*;

    fn input(months: Option<u32>) -> SentenceInput {
        SentenceInput {
            months,
            ..SentenceInput::default()
        }
    }

    fn with_probation(months: u32, probation: u32) -> SentenceInput {
        SentenceInput {
            months: Some(months),
            probation_months: Some(probation),
            ..SentenceInput::default()
        }
    }

    fn combined(months: u32) -> SentenceInput {
        SentenceInput {
            months: Some(months),
            combined: true,
            ..SentenceInput::default()
        }
    }

    /// Every rule of the issue, each with the first value inside and outside the bound.
    #[test]
    fn terms_outside_the_criminal_law_are_rejected() {
        let cases: &[(PrincipalKind, SentenceInput, bool)] = &[
            (CriminalDetention, input(Some(1)), true),
            (CriminalDetention, input(Some(6)), true),
            (CriminalDetention, input(Some(0)), false),
            (CriminalDetention, input(Some(7)), false),
            (CriminalDetention, combined(12), true),
            (CriminalDetention, combined(13), false),
            (PublicSurveillance, input(Some(3)), true),
            (PublicSurveillance, input(Some(2)), false),
            (PublicSurveillance, input(Some(24)), true),
            (PublicSurveillance, input(Some(25)), false),
            (PublicSurveillance, combined(36), true),
            (PublicSurveillance, combined(37), false),
            (FixedTerm, input(Some(6)), true),
            (FixedTerm, input(Some(5)), false),
            (FixedTerm, input(Some(180)), true),
            (FixedTerm, input(Some(181)), false),
            (FixedTerm, combined(300), true),
            (FixedTerm, combined(301), false),
            (FixedTerm, input(None), false),
            (Life, input(Some(12)), false),
            (Life, input(None), true),
        ];
        for (kind, input, ok) in cases {
            assert_eq!(
                Sentence::new(*kind, *input).is_ok(),
                *ok,
                "{kind:?} {input:?}"
            );
        }
    }

    #[test]
    fn probation_rules_of_articles_72_to_74() {
        let cases: &[(PrincipalKind, SentenceInput, bool)] = &[
            (CriminalDetention, with_probation(3, 6), true),
            (CriminalDetention, with_probation(1, 2), true),
            (CriminalDetention, with_probation(1, 1), false),
            (CriminalDetention, with_probation(3, 2), false),
            (CriminalDetention, with_probation(6, 12), true),
            (CriminalDetention, with_probation(6, 13), false),
            (CriminalDetention, with_probation(6, 5), false),
            (FixedTerm, with_probation(36, 36), true),
            (FixedTerm, with_probation(36, 35), false),
            (FixedTerm, with_probation(37, 60), false),
            (FixedTerm, with_probation(6, 11), false),
            (FixedTerm, with_probation(6, 12), true),
            (FixedTerm, with_probation(12, 60), true),
            (FixedTerm, with_probation(12, 61), false),
            (PublicSurveillance, with_probation(6, 12), false),
        ];
        for (kind, input, ok) in cases {
            assert_eq!(
                Sentence::new(*kind, *input).is_ok(),
                *ok,
                "{kind:?} {input:?}"
            );
        }
        let recidivist = SentenceInput {
            recidivist: true,
            ..with_probation(12, 24)
        };
        assert_eq!(
            Sentence::new(FixedTerm, recidivist),
            Err(SentenceError::ProbationForRecidivist)
        );
    }

    #[test]
    fn supplementary_and_exemption_rules() {
        let fine = SentenceInput {
            fine_yuan: Some(3000),
            ..SentenceInput::default()
        };
        assert!(Sentence::new(SupplementaryOnly, fine).is_ok());
        assert_eq!(
            Sentence::new(SupplementaryOnly, SentenceInput::default()),
            Err(SentenceError::SupplementaryMissing)
        );
        assert_eq!(
            Sentence::new(Exempt, fine),
            Err(SentenceError::ExemptWithPunishment)
        );
        assert!(Sentence::new(Exempt, SentenceInput::default()).is_ok());
    }

    #[test]
    fn severity_puts_every_lighter_kind_below_whatever_its_length() {
        let one_year = Principal::new(FixedTerm, 12);
        assert!(Principal::new(PublicSurveillance, 24).at_most(&one_year));
        assert!(Principal::new(CriminalDetention, 6).at_most(&one_year));
        assert!(Principal::new(FixedTerm, 12).at_most(&one_year));
        assert!(!Principal::new(FixedTerm, 13).at_most(&one_year));
        assert!(Principal::new(Exempt, 0).at_most(&Principal::new(CriminalDetention, 1)));
        assert!(!Principal::new(Life, 0).at_most(&Principal::new(FixedTerm, 300)));
    }

    #[test]
    fn chinese_rendering() {
        let s = Sentence::new(
            CriminalDetention,
            SentenceInput {
                months: Some(3),
                probation_months: Some(6),
                fine_yuan: Some(3000),
                ..SentenceInput::default()
            },
        )
        .unwrap();
        assert_eq!(s.chinese(), "拘役三个月，缓刑六个月，并处罚金三千元");
        let s = Sentence::new(FixedTerm, input(Some(18))).unwrap();
        assert_eq!(s.chinese(), "有期徒刑一年六个月");
    }
}
