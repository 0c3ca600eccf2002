//! A compiled policy, and the checks that turn a policy file into one.

use std::collections::HashSet;

use fengcun_domain::date::parse_date;
use fengcun_domain::{
    Catalogue, ChargeId, Culpability, Date, Disposition, NonProsecutionGround, Principal,
    PrincipalKind, RecordKind, Tag, TagSet,
};
use toml::Spanned;

use crate::condition::{
    AgeAt, AgeCounting, Cond, Leaf, disposition_bit, ground_bit, principal_bit,
};
use crate::error::PolicyError;
use crate::format::{CondFile, PolicyFile, SentenceLit};

/// What the policy is and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub version: String,
    pub title: String,
    pub summary: String,
    pub jurisdiction: String,
    pub source: String,
    /// The legal instrument under which the policy is in force, cited by sealing and unsealing
    /// notices (`根据…`); for a research or pilot option, its standing stated truthfully. Policies
    /// written before the field existed have none: their notices cite `source` (see
    /// [`Meta::instrument`]).
    pub instrument: Option<String>,
    /// No record is sealed under this policy before this date.
    pub effective_from: Option<Date>,
    /// The kind of record the policy decides; a record of the other kind is out of its scope
    /// (`not_eligible`, reason `scope`).
    pub records: RecordKind,
    /// Records decided before this date are out of the policy's scope (reason `decided_from`).
    pub decided_from: Option<Date>,
}

impl Meta {
    /// What a notice cites as the instrument the policy is in force under: `instrument`, else
    /// `source`.
    pub fn instrument(&self) -> &str {
        self.instrument.as_deref().unwrap_or(&self.source)
    }
}

/// An eligibility rule: within its scope (`applies`), the record is eligible only if `require` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub basis: String,
    pub applies: Option<Cond>,
    pub require: Cond,
    pub holds: String,
    pub fails: String,
}

/// The event a waiting period runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    JudgmentEffective,
    ExecutionCompleted,
    Disposition,
    Offence,
    /// A violation record's penalty decision took effect (`decision_effective_date`).
    DecisionEffective,
    /// The judgment date plus the term of the principal punishment: the nominal end of the
    /// sentence, whether or not it was suspended (the UK's rehabilitation periods use it).
    SentenceEnd,
}

impl Anchor {
    pub const CODES: &'static str = "judgment_effective, execution_completed, disposition, offence, sentence_end, decision_effective";

    fn parse(code: &str) -> Option<Self> {
        match code {
            "judgment_effective" => Some(Self::JudgmentEffective),
            "execution_completed" => Some(Self::ExecutionCompleted),
            "disposition" => Some(Self::Disposition),
            "offence" => Some(Self::Offence),
            "sentence_end" => Some(Self::SentenceEnd),
            "decision_effective" => Some(Self::DecisionEffective),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::JudgmentEffective => "judgment_effective",
            Self::ExecutionCompleted => "execution_completed",
            Self::Disposition => "disposition",
            Self::Offence => "offence",
            Self::SentenceEnd => "sentence_end",
            Self::DecisionEffective => "decision_effective",
        }
    }
}

/// A waiting period after the anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wait {
    pub years: i16,
    pub months: i16,
    pub days: i32,
}

impl Wait {
    pub fn is_zero(self) -> bool {
        self.years == 0 && self.months == 0 && self.days == 0
    }
}

/// A timing rule: within its scope, the seal takes effect on the anchor date plus the wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub id: String,
    pub basis: String,
    pub applies: Option<Cond>,
    pub anchor: Anchor,
    pub wait: Wait,
    pub text: String,
}

/// What lifts a seal (report §二(五)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// A new crime, committed after the sealed conviction, is convicted (再犯新罪).
    NewConviction,
    /// An earlier crime comes to light and is convicted (发现漏罪).
    PriorCrimeDiscovered,
    /// A retrial changes the sealed conviction so that it no longer qualifies (审判监督程序改判).
    Retrial,
    /// The seal was granted on facts later corrected (封存错误，撤销封存).
    WrongFacts,
}

impl Trigger {
    pub const CODES: &'static str = "new_conviction, prior_crime_discovered, retrial, wrong_facts";

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "new_conviction" => Some(Self::NewConviction),
            "prior_crime_discovered" => Some(Self::PriorCrimeDiscovered),
            "retrial" => Some(Self::Retrial),
            "wrong_facts" => Some(Self::WrongFacts),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::NewConviction => "new_conviction",
            Self::PriorCrimeDiscovered => "prior_crime_discovered",
            Self::Retrial => "retrial",
            Self::WrongFacts => "wrong_facts",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::NewConviction => "再犯新罪",
            Self::PriorCrimeDiscovered => "发现漏罪",
            Self::Retrial => "再审改判",
            Self::WrongFacts => "封存所依据的事实有误",
        }
    }
}

/// An unsealing rule: the trigger, an optional condition on the new conviction, and its basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unseal {
    pub id: String,
    pub trigger: Trigger,
    pub basis: String,
    pub applies: Option<Cond>,
    pub text: String,
}

/// A loaded, checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub meta: Meta,
    pub rules: Vec<Rule>,
    pub timings: Vec<Timing>,
    /// What lifts a seal; a trigger the policy does not list lifts nothing.
    pub unseals: Vec<Unseal>,
    /// The document it was loaded from, for `policy show` and for diffing.
    pub source_text: String,
}

impl Policy {
    /// Loads and checks a policy document. `file` is only used to name the file in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, PolicyError> {
        Self::from_toml_with(file, text, Catalogue::builtin())
    }

    pub fn from_toml_with(
        file: &str,
        text: &str,
        catalogue: &Catalogue,
    ) -> Result<Self, PolicyError> {
        let parsed: PolicyFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            PolicyError::at(file, text, offset, "", e.message().trim().to_owned())
        })?;
        Compiler {
            file,
            text,
            catalogue,
        }
        .policy(parsed, text)
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn version(&self) -> &str {
        &self.meta.version
    }

    /// The rule that lifts a seal for `trigger`, given the new conviction's facts (for the two
    /// conviction triggers). A condition that cannot be decided for a missing fact does not fire:
    /// a seal is lifted on established facts only.
    /// The rule an unsealing by another record's conviction is recorded under. That conviction
    /// met the rule's condition when the trigger was chosen (`lifecycle::lifted_by`); the record
    /// being unsealed is not the one the condition reads, so only the trigger is matched here.
    pub fn unseal_rule_for_trigger(&self, trigger: Trigger) -> Option<&Unseal> {
        self.unseal_rule(trigger, None)
            .or_else(|| self.unseals.iter().find(|u| u.trigger == trigger))
    }

    pub fn unseal_rule(
        &self,
        trigger: Trigger,
        new_conviction: Option<&fengcun_domain::Record>,
    ) -> Option<&Unseal> {
        self.unseals.iter().find(|u| {
            u.trigger == trigger
                && match (&u.applies, new_conviction) {
                    (None, _) => true,
                    (Some(cond), Some(record)) => {
                        cond.eval(record) == crate::condition::Truth::True
                    }
                    (Some(_), None) => false,
                }
        })
    }
}

struct Compiler<'a> {
    file: &'a str,
    text: &'a str,
    catalogue: &'a Catalogue,
}

impl Compiler<'_> {
    fn error<T>(
        &self,
        offset: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<T, PolicyError> {
        Err(PolicyError::at(
            self.file, self.text, offset, field, message,
        ))
    }

    fn policy(&self, file: PolicyFile, text: &str) -> Result<Policy, PolicyError> {
        let meta = file.policy;
        let name_ok = !meta.name.get_ref().is_empty()
            && meta
                .name
                .get_ref()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return self.error(
                meta.name.span().start,
                "policy.name",
                "use lower-case letters, digits and `-`",
            );
        }
        if meta.version.get_ref().trim().is_empty() {
            return self.error(
                meta.version.span().start,
                "policy.version",
                "must not be empty",
            );
        }
        let effective_from = match &meta.effective_from {
            Some(date) => Some(parse_date(date.get_ref()).or_else(|e| {
                self.error(date.span().start, "policy.effective_from", e.to_string())
            })?),
            None => None,
        };
        let records = match &meta.records {
            Some(code) => match RecordKind::parse(code.get_ref()) {
                Some(kind) => kind,
                None => {
                    return self.unknown(code, "policy.records", "record kind", RecordKind::CODES);
                }
            },
            None => RecordKind::Criminal,
        };
        let decided_from = match &meta.decided_from {
            Some(date) => Some(parse_date(date.get_ref()).or_else(|e| {
                self.error(date.span().start, "policy.decided_from", e.to_string())
            })?),
            None => None,
        };
        if let Some(instrument) = &meta.instrument {
            if instrument.get_ref().trim().is_empty() {
                return self.error(
                    instrument.span().start,
                    "policy.instrument",
                    "must name the legal instrument the policy is in force under, or be left out",
                );
            }
        }
        let mut ids = HashSet::new();
        let mut rules = Vec::new();
        for (i, rule) in file.rules.into_iter().enumerate() {
            let path = format!("rule[{i}]");
            let span = rule.span();
            let rule = rule.into_inner();
            self.check_id(&rule.id, &mut ids, &path)?;
            self.check_basis(&rule.basis, &path)?;
            let applies = rule
                .applies
                .as_ref()
                .map(|c| self.cond(c, &format!("{path}.applies")))
                .transpose()?;
            let require = self.cond(&rule.require, &format!("{path}.require"))?;
            if rule.holds.trim().is_empty() || rule.fails.trim().is_empty() {
                return self.error(
                    span.start,
                    format!("{path}.holds"),
                    "`holds` and `fails` texts must not be empty",
                );
            }
            rules.push(Rule {
                id: rule.id.into_inner(),
                title: rule.title,
                basis: rule.basis.into_inner(),
                applies,
                require,
                holds: rule.holds,
                fails: rule.fails,
            });
        }
        if file.timings.is_empty() {
            return self.error(
                0,
                "timing",
                "a policy needs at least one [[timing]] rule saying when a seal takes effect",
            );
        }
        let mut timings = Vec::new();
        for (i, timing) in file.timings.into_iter().enumerate() {
            let path = format!("timing[{i}]");
            let timing = timing.into_inner();
            self.check_id(&timing.id, &mut ids, &path)?;
            self.check_basis(&timing.basis, &path)?;
            let applies = timing
                .applies
                .as_ref()
                .map(|c| self.cond(c, &format!("{path}.applies")))
                .transpose()?;
            let Some(anchor) = Anchor::parse(timing.anchor.get_ref()) else {
                return self.error(
                    timing.anchor.span().start,
                    format!("{path}.anchor"),
                    format!(
                        "unknown anchor `{}`; expected one of: {}",
                        timing.anchor.get_ref(),
                        Anchor::CODES
                    ),
                );
            };
            let wait = timing.wait.map_or_else(Wait::default, |w| Wait {
                years: w.years,
                months: w.months,
                days: w.days,
            });
            if wait.years < 0 || wait.months < 0 || wait.days < 0 {
                return self.error(
                    timing.anchor.span().start,
                    format!("{path}.wait"),
                    "a waiting period cannot be negative",
                );
            }
            timings.push(Timing {
                id: timing.id.into_inner(),
                basis: timing.basis.into_inner(),
                applies,
                anchor,
                wait,
                text: timing.text,
            });
        }
        let mut unseals = Vec::new();
        for (i, unseal) in file.unseals.into_iter().enumerate() {
            let path = format!("unseal[{i}]");
            let unseal = unseal.into_inner();
            self.check_id(&unseal.id, &mut ids, &path)?;
            self.check_basis(&unseal.basis, &path)?;
            let Some(trigger) = Trigger::parse(unseal.trigger.get_ref()) else {
                return self.unknown(
                    &unseal.trigger,
                    &format!("{path}.trigger"),
                    "trigger",
                    Trigger::CODES,
                );
            };
            let applies = unseal
                .applies
                .as_ref()
                .map(|c| self.cond(c, &format!("{path}.applies")))
                .transpose()?;
            unseals.push(Unseal {
                id: unseal.id.into_inner(),
                trigger,
                basis: unseal.basis.into_inner(),
                applies,
                text: unseal.text,
            });
        }
        Ok(Policy {
            meta: Meta {
                name: meta.name.into_inner(),
                version: meta.version.into_inner(),
                title: meta.title,
                summary: meta.summary,
                jurisdiction: meta.jurisdiction,
                source: meta.source,
                instrument: meta.instrument.map(Spanned::into_inner),
                effective_from,
                records,
                decided_from,
            },
            rules,
            timings,
            unseals,
            source_text: text.to_owned(),
        })
    }

    fn check_id(
        &self,
        id: &Spanned<String>,
        ids: &mut HashSet<String>,
        path: &str,
    ) -> Result<(), PolicyError> {
        let value = id.get_ref();
        let ok = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !ok {
            return self.error(
                id.span().start,
                format!("{path}.id"),
                "use lower-case letters, digits, `_` and `.`",
            );
        }
        if !ids.insert(value.clone()) {
            return self.error(
                id.span().start,
                format!("{path}.id"),
                format!("`{value}` is used by another rule"),
            );
        }
        Ok(())
    }

    /// Every rule must cite its legal basis: a decision a court clerk cannot trace to law is useless.
    fn check_basis(&self, basis: &Spanned<String>, path: &str) -> Result<(), PolicyError> {
        if basis.get_ref().trim().is_empty() {
            return self.error(
                basis.span().start,
                format!("{path}.basis"),
                "every rule must cite its legal basis",
            );
        }
        Ok(())
    }

    fn cond(&self, file: &Spanned<CondFile>, path: &str) -> Result<Cond, PolicyError> {
        let c = file.get_ref();
        let mut parts = Vec::new();
        if let Some(values) = &c.disposition {
            let mut mask = 0u8;
            for v in values {
                let Some(d) = Disposition::parse_any(v.get_ref()) else {
                    return self.unknown(
                        v,
                        &format!("{path}.disposition"),
                        "disposition",
                        Disposition::EVERY_CODES,
                    );
                };
                mask |= disposition_bit(d);
            }
            parts.push(Cond::Leaf(Leaf::Disposition(mask)));
        }
        if let Some(values) = &c.non_prosecution_ground {
            let mut mask = 0u8;
            for v in values {
                let Some(g) = NonProsecutionGround::parse(v.get_ref()) else {
                    return self.unknown(
                        v,
                        &format!("{path}.non_prosecution_ground"),
                        "non-prosecution ground",
                        NonProsecutionGround::CODES,
                    );
                };
                mask |= ground_bit(g);
            }
            parts.push(Cond::Leaf(Leaf::NonProsecutionGround(mask)));
        }
        if let Some(lit) = &c.sentence_at_most {
            parts.push(Cond::Leaf(Leaf::SentenceAtMost(
                self.sentence(lit, &format!("{path}.sentence_at_most"))?,
            )));
        }
        if let Some(lit) = &c.sentence_above {
            parts.push(Cond::Leaf(Leaf::SentenceAbove(
                self.sentence(lit, &format!("{path}.sentence_above"))?,
            )));
        }
        if let Some(lit) = &c.sentence_at_least {
            parts.push(Cond::Leaf(Leaf::SentenceAtLeast(
                self.sentence(lit, &format!("{path}.sentence_at_least"))?,
            )));
        }
        if let Some(values) = &c.principal {
            let mut mask = 0u16;
            for v in values {
                let Some(kind) = PrincipalKind::parse(v.get_ref()) else {
                    return self.unknown(
                        v,
                        &format!("{path}.principal"),
                        "principal punishment",
                        PrincipalKind::CODES,
                    );
                };
                mask |= principal_bit(kind);
            }
            parts.push(Cond::Leaf(Leaf::Principal(mask)));
        }
        if let Some(v) = &c.culpability {
            let Some(culpability) = Culpability::parse(v.get_ref()) else {
                return self.unknown(
                    v,
                    &format!("{path}.culpability"),
                    "culpability",
                    Culpability::CODES,
                );
            };
            parts.push(Cond::Leaf(Leaf::Culpability(culpability)));
        }
        if let Some(values) = &c.any_charge_tagged {
            let mut tags = TagSet::EMPTY;
            for v in values {
                let Some(tag) = Tag::parse(v.get_ref()) else {
                    return self.unknown(
                        v,
                        &format!("{path}.any_charge_tagged"),
                        "tag",
                        Tag::CODES,
                    );
                };
                tags = tags.with(tag);
            }
            parts.push(Cond::Leaf(Leaf::AnyChargeTagged(tags)));
        }
        if let Some(values) = &c.all_charges_in {
            parts.push(Cond::Leaf(Leaf::AllChargesIn(
                self.charges(values, &format!("{path}.all_charges_in"))?,
            )));
        }
        if let Some(values) = &c.any_charge_in {
            parts.push(Cond::Leaf(Leaf::AnyChargeIn(
                self.charges(values, &format!("{path}.any_charge_in"))?,
            )));
        }
        if let Some(age) = &c.age_under {
            let at = match age.get_ref().at.get_ref().as_str() {
                "offence" => AgeAt::Offence,
                "conviction" => AgeAt::Conviction,
                _ => {
                    return self.unknown(
                        &age.get_ref().at,
                        &format!("{path}.age_under.at"),
                        "age reference",
                        "offence, conviction",
                    );
                }
            };
            let counting = match age.get_ref().counting.as_ref() {
                None => AgeCounting::DayAfterBirthday,
                Some(c) if c.get_ref() == "day_after_birthday" => AgeCounting::DayAfterBirthday,
                Some(c) if c.get_ref() == "birthday" => AgeCounting::Birthday,
                Some(c) => {
                    return self.unknown(
                        c,
                        &format!("{path}.age_under.counting"),
                        "age counting",
                        "day_after_birthday, birthday",
                    );
                }
            };
            let main_conduct = age.get_ref().main_conduct.unwrap_or(false);
            if main_conduct && (age.get_ref().years != 18 || at != AgeAt::Offence) {
                return self.error(
                    age.span().start,
                    format!("{path}.age_under.main_conduct"),
                    "`main_conduct` speaks of the 18th birthday at the offence: only with `years = 18` and `at = \"offence\"`",
                );
            }
            parts.push(Cond::Leaf(Leaf::AgeUnder {
                years: age.get_ref().years,
                at,
                counting,
                main_conduct,
            }));
        }
        if let Some(first) = &c.first_offender {
            parts.push(Cond::Leaf(
                self.first_offender(first, &format!("{path}.first_offender"))?,
            ));
        }
        let flags = [
            (c.recidivist, Leaf::Recidivist as fn(bool) -> Leaf),
            (c.probation, Leaf::Probation),
            (c.combined_sentence, Leaf::CombinedSentence),
            (c.political_rights_deprived, Leaf::PoliticalRightsDeprived),
        ];
        parts.extend(
            flags
                .into_iter()
                .filter_map(|(v, leaf)| v.map(|v| Cond::Leaf(leaf(v)))),
        );
        if let Some(n) = c.prior_convictions_at_most {
            parts.push(Cond::Leaf(Leaf::PriorConvictionsAtMost(n)));
        }
        if let Some(conditions) = &c.conditions {
            let flags = [
                (
                    conditions.civil_compensation_fulfilled,
                    Leaf::CivilCompensationFulfilled as fn(bool) -> Leaf,
                ),
                (conditions.victim_forgiveness, Leaf::VictimForgiveness),
                (conditions.plea, Leaf::Plea),
            ];
            parts.extend(
                flags
                    .into_iter()
                    .filter_map(|(v, leaf)| v.map(|v| Cond::Leaf(leaf(v)))),
            );
        }
        if let Some(items) = &c.any {
            parts.push(Cond::Any(self.conds(items, &format!("{path}.any"))?));
        }
        if let Some(items) = &c.all {
            parts.push(Cond::All(self.conds(items, &format!("{path}.all"))?));
        }
        if let Some(inner) = &c.not {
            parts.push(Cond::Not(Box::new(
                self.cond(inner, &format!("{path}.not"))?,
            )));
        }
        match parts.len() {
            0 => self.error(
                file.span().start,
                path,
                "an empty condition says nothing; write at least one test",
            ),
            1 => Ok(parts.remove(0)),
            _ => Ok(Cond::All(parts)),
        }
    }

    /// `first_offender = true | false`, or `{ value = true, ignore_sealed_juvenile_priors = true }`
    /// (`value` defaults to true).
    fn first_offender(&self, lit: &Spanned<toml::Value>, path: &str) -> Result<Leaf, PolicyError> {
        const OPTIONS: &str = "value, ignore_sealed_juvenile_priors";
        let at = lit.span().start;
        let table = match lit.get_ref() {
            toml::Value::Boolean(wanted) => return Ok(Leaf::FirstOffender(*wanted)),
            toml::Value::Table(table) => table,
            _ => {
                return self.error(
                    at,
                    path,
                    format!("expected true, false or a table of options ({OPTIONS})"),
                );
            }
        };
        let mut wanted = true;
        let mut ignore = false;
        for (key, value) in table {
            let slot = match key.as_str() {
                "value" => &mut wanted,
                "ignore_sealed_juvenile_priors" => &mut ignore,
                _ => {
                    return self.error(
                        at,
                        format!("{path}.{key}"),
                        format!("unknown option `{key}`; expected one of: {OPTIONS}"),
                    );
                }
            };
            let Some(flag) = value.as_bool() else {
                return self.error(at, format!("{path}.{key}"), "expected true or false");
            };
            *slot = flag;
        }
        Ok(if ignore {
            Leaf::FirstOffenderIgnoringSealedJuvenilePriors(wanted)
        } else {
            Leaf::FirstOffender(wanted)
        })
    }

    fn conds(&self, items: &[Spanned<CondFile>], path: &str) -> Result<Vec<Cond>, PolicyError> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.cond(item, &format!("{path}[{i}]")))
            .collect()
    }

    fn sentence(&self, lit: &Spanned<SentenceLit>, path: &str) -> Result<Principal, PolicyError> {
        let s = lit.get_ref();
        let Some(kind) = PrincipalKind::parse(s.principal.get_ref()) else {
            return self.unknown(
                &s.principal,
                &format!("{path}.principal"),
                "principal punishment",
                PrincipalKind::CODES,
            );
        };
        match (kind.has_term(), s.months) {
            (true, None) => self.error(
                lit.span().start,
                format!("{path}.months"),
                format!("`months` is required for {}", kind.code()),
            ),
            (false, Some(_)) => self.error(
                lit.span().start,
                format!("{path}.months"),
                format!("{} has no term", kind.code()),
            ),
            (_, months) => Ok(Principal::new(kind, months.unwrap_or(0))),
        }
    }

    fn charges(
        &self,
        values: &[Spanned<String>],
        path: &str,
    ) -> Result<Vec<ChargeId>, PolicyError> {
        values
            .iter()
            .map(|v| match self.catalogue.resolve(v.get_ref()) {
                Some(charge) => Ok(charge.id),
                None => self.error(
                    v.span().start,
                    path,
                    format!("unknown charge `{}`: not in the catalogue", v.get_ref()),
                ),
            })
            .collect()
    }

    fn unknown<T>(
        &self,
        value: &Spanned<String>,
        path: &str,
        what: &str,
        expected: &str,
    ) -> Result<T, PolicyError> {
        self.error(
            value.span().start,
            path,
            format!(
                "unknown {what} `{}`; expected one of: {expected}",
                value.get_ref()
            ),
        )
    }
}
