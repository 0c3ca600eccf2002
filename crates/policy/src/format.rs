//! The serde shape of a policy file. Compiled into `Policy` by `policy.rs`, which checks meaning.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    pub policy: MetaFile,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Spanned<RuleFile>>,
    #[serde(default, rename = "timing")]
    pub timings: Vec<Spanned<TimingFile>>,
    #[serde(default, rename = "unseal")]
    pub unseals: Vec<Spanned<UnsealFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsealFile {
    pub id: Spanned<String>,
    pub trigger: Spanned<String>,
    pub basis: Spanned<String>,
    /// For `new_conviction` and `prior_crime_discovered`: a condition on the new conviction (its
    /// combined sentence where it was combined with the sealed one).
    #[serde(default)]
    pub applies: Option<Spanned<CondFile>>,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetaFile {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub jurisdiction: String,
    /// Where the policy as a whole comes from (a law, a report, a proposal).
    pub source: String,
    /// The legal instrument under which the policy is in force, as a notice cites it.
    #[serde(default)]
    pub instrument: Option<Spanned<String>>,
    #[serde(default)]
    pub effective_from: Option<Spanned<String>>,
    /// The kind of record the policy decides: `criminal` (the default) or
    /// `public_security_violation`. A record of the other kind is outside its scope.
    #[serde(default)]
    pub records: Option<Spanned<String>>,
    /// Records decided (`disposition_date`) before this date are outside the policy's scope.
    #[serde(default)]
    pub decided_from: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    pub id: Spanned<String>,
    pub title: String,
    pub basis: Spanned<String>,
    #[serde(default)]
    pub applies: Option<Spanned<CondFile>>,
    pub require: Spanned<CondFile>,
    pub holds: String,
    pub fails: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimingFile {
    pub id: Spanned<String>,
    pub basis: Spanned<String>,
    #[serde(default)]
    pub applies: Option<Spanned<CondFile>>,
    pub anchor: Spanned<String>,
    #[serde(default)]
    pub wait: Option<WaitFile>,
    pub text: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitFile {
    #[serde(default)]
    pub years: i16,
    #[serde(default)]
    pub months: i16,
    #[serde(default)]
    pub days: i32,
}

/// A condition: every key present must hold (an implicit "and").
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct CondFile {
    pub disposition: Option<Vec<Spanned<String>>>,
    pub non_prosecution_ground: Option<Vec<Spanned<String>>>,
    pub sentence_at_most: Option<Spanned<SentenceLit>>,
    pub sentence_above: Option<Spanned<SentenceLit>>,
    pub sentence_at_least: Option<Spanned<SentenceLit>>,
    pub principal: Option<Vec<Spanned<String>>>,
    pub culpability: Option<Spanned<String>>,
    pub any_charge_tagged: Option<Vec<Spanned<String>>>,
    pub all_charges_in: Option<Vec<Spanned<String>>>,
    pub any_charge_in: Option<Vec<Spanned<String>>>,
    pub age_under: Option<Spanned<AgeLit>>,
    /// `true` / `false`, or a table of options read by `policy.rs` (so that its errors name the
    /// option): `{ ignore_sealed_juvenile_priors = true }`.
    pub first_offender: Option<Spanned<toml::Value>>,
    pub recidivist: Option<bool>,
    pub prior_convictions_at_most: Option<u32>,
    pub probation: Option<bool>,
    pub combined_sentence: Option<bool>,
    pub political_rights_deprived: Option<bool>,
    pub conditions: Option<ConditionsLit>,
    pub any: Option<Vec<Spanned<CondFile>>>,
    pub all: Option<Vec<Spanned<CondFile>>>,
    pub not: Option<Box<Spanned<CondFile>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SentenceLit {
    pub principal: Spanned<String>,
    #[serde(default)]
    pub months: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgeLit {
    pub years: u32,
    pub at: Spanned<String>,
    /// `day_after_birthday` (China, the default) or `birthday` (common law).
    #[serde(default)]
    pub counting: Option<Spanned<String>>,
    /// Acts straddling the 18th birthday count as under 18 when their main conduct came before
    /// it (the record's `main_conduct_under_18`); only with `years = 18` at the offence.
    #[serde(default)]
    pub main_conduct: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionsLit {
    pub civil_compensation_fulfilled: Option<bool>,
    pub victim_forgiveness: Option<bool>,
    pub plea: Option<bool>,
}
