//! The rules, as data: one TOML file per rule in data/supervision/ (compiled in), each with its
//! kind, title, reasoning and legal basis, and the parameters of its kind; calendar.toml for
//! working hours and holidays.

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// The shipped calendar (working hours, holidays).
pub const CALENDAR: &str = include_str!("../../../data/supervision/calendar.toml");

/// The shipped rules, by file name.
pub const SHIPPED: [(&str, &str); 9] = [
    (
        "volume-day.toml",
        include_str!("../../../data/supervision/volume-day.toml"),
    ),
    (
        "volume-week.toml",
        include_str!("../../../data/supervision/volume-week.toml"),
    ),
    (
        "hours.toml",
        include_str!("../../../data/supervision/hours.toml"),
    ),
    (
        "fishing.toml",
        include_str!("../../../data/supervision/fishing.toml"),
    ),
    (
        "refusals.toml",
        include_str!("../../../data/supervision/refusals.toml"),
    ),
    (
        "pairs.toml",
        include_str!("../../../data/supervision/pairs.toml"),
    ),
    (
        "grants.toml",
        include_str!("../../../data/supervision/grants.toml"),
    ),
    (
        "certificates.toml",
        include_str!("../../../data/supervision/certificates.toml"),
    ),
    (
        "accounts.toml",
        include_str!("../../../data/supervision/accounts.toml"),
    ),
];

/// A rules file that cannot be read: the file and what is wrong, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RuleError {
    pub file: String,
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(file: &str, message: impl Into<String>) -> RuleError {
        RuleError {
            file: file.to_owned(),
            message: message.into(),
        }
    }
}

/// A rule: what it is called, why it exists and on what basis, and what it looks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub reasoning: String,
    pub basis: Vec<String>,
    pub params: Params,
}

/// The kinds of rule and their parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    Volume(Volume),
    Hours(Hours),
    Fishing(Fishing),
    Refusals(Refusals),
    Pairs(Pairs),
    Grants(Grants),
    Certificates(Certificates),
    Accounts(Accounts),
}

impl Params {
    /// The kind's name, as in the files.
    pub fn kind(&self) -> &'static str {
        match self {
            Params::Volume(_) => "volume",
            Params::Hours(_) => "hours",
            Params::Fishing(_) => "fishing",
            Params::Refusals(_) => "refusals",
            Params::Pairs(_) => "pairs",
            Params::Grants(_) => "grants",
            Params::Certificates(_) => "certificates",
            Params::Accounts(_) => "accounts",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Day,
    Week,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    pub window: Window,
    pub min_count: u32,
    pub z: f64,
    pub ratio: f64,
    pub min_scale: f64,
    pub history: usize,
    pub min_history: usize,
    pub min_peers: usize,
    pub no_baseline_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    pub min_persons: u32,
    pub include_grant_reads: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fishing {
    pub max_gap_minutes: u32,
    pub min_run: u32,
    pub min_sealed_only: u32,
    #[serde(default)]
    pub excluded_purposes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusals {
    pub min_refused: u32,
    pub window_days: u32,
    pub follow_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pairs {
    pub min_decisions: u32,
    pub min_share: f64,
    pub min_approvers: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    pub stale_days: u32,
    pub burst_persons: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificates {
    pub min_persons: u32,
}

/// Persons' accounts given activation codes at a counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// Distinct persons' codes from one clerk in one clock hour from which the hour is flagged.
    pub min_persons: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    kind: String,
    title: String,
    reasoning: String,
    #[serde(default)]
    basis: Vec<String>,
    params: toml::Table,
}

impl Rule {
    /// Reads one rule file; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Rule, RuleError> {
        let raw: RuleFile =
            toml::from_str(text).map_err(|e| RuleError::new(file, e.to_string()))?;
        if raw.id.is_empty()
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(RuleError::new(
                file,
                format!(
                    "id: `{}` must be lower-case letters, digits and '-'",
                    raw.id
                ),
            ));
        }
        for (field, value) in [("title", &raw.title), ("reasoning", &raw.reasoning)] {
            if value.trim().is_empty() {
                return Err(RuleError::new(file, format!("{field}: must not be empty")));
            }
        }
        let table = toml::Value::Table(raw.params);
        fn params<T: for<'de> Deserialize<'de>>(
            file: &str,
            table: toml::Value,
        ) -> Result<T, RuleError> {
            serde_path_to_error::deserialize(table).map_err(|e| {
                let path = e.path().to_string();
                RuleError::new(file, format!("params.{path}: {}", e.into_inner().message()))
            })
        }
        let params = match raw.kind.as_str() {
            "volume" => Params::Volume(params(file, table)?),
            "hours" => Params::Hours(params(file, table)?),
            "fishing" => Params::Fishing(params(file, table)?),
            "refusals" => Params::Refusals(params(file, table)?),
            "pairs" => Params::Pairs(params(file, table)?),
            "grants" => Params::Grants(params(file, table)?),
            "certificates" => Params::Certificates(params(file, table)?),
            "accounts" => Params::Accounts(params(file, table)?),
            other => {
                return Err(RuleError::new(
                    file,
                    format!(
                        "kind: `{other}` is none of volume, hours, fishing, refusals, pairs, grants, certificates, accounts"
                    ),
                ));
            }
        };
        Ok(Rule {
            id: raw.id,
            title: raw.title.trim().to_owned(),
            reasoning: raw.reasoning.trim().to_owned(),
            basis: raw.basis,
            params,
        })
    }
}

/// Every rule and the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub calendar: Calendar,
}

impl RuleSet {
    /// The rules of data/supervision/.
    pub fn shipped() -> Result<RuleSet, RuleError> {
        RuleSet::from_sources(&SHIPPED, CALENDAR)
    }

    /// Rules from `(file name, text)` pairs and the calendar's text. Two rules with one id are
    /// refused.
    pub fn from_sources(files: &[(&str, &str)], calendar: &str) -> Result<RuleSet, RuleError> {
        let calendar = Calendar::from_toml("calendar.toml", calendar)?;
        let mut rules: Vec<Rule> = Vec::new();
        for (file, text) in files {
            let rule = Rule::from_toml(file, text)?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(RuleError::new(
                    file,
                    format!("id: `{}` is used by another rule", rule.id),
                ));
            }
            rules.push(rule);
        }
        Ok(RuleSet { rules, calendar })
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_reads_and_says_why() {
        let set = RuleSet::shipped().unwrap();
        let kinds: Vec<&str> = set.rules.iter().map(|r| r.params.kind()).collect();
        for kind in [
            "volume",
            "hours",
            "fishing",
            "refusals",
            "pairs",
            "grants",
            "certificates",
        ] {
            assert!(kinds.contains(&kind), "no {kind} rule");
        }
        for rule in &set.rules {
            assert!(
                rule.reasoning.len() > 100,
                "{}: reasoning too short",
                rule.id
            );
            assert!(!rule.basis.is_empty(), "{}: no basis", rule.id);
        }
    }

    #[test]
    fn a_bad_rule_names_file_and_field() {
        let text = SHIPPED[0]
            .1
            .replace("min_count = 15", "min_count = \"many\"");
        let err = Rule::from_toml("volume-day.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("volume-day.toml: params.min_count:"),
            "{err}"
        );
        let text = SHIPPED[0]
            .1
            .replace("min_scale = 2.0", "min_scale = 2.0\nmin_scal = 1.0");
        let err = Rule::from_toml("volume-day.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `min_scal`"), "{err}");
        let text = SHIPPED[0]
            .1
            .replace("kind = \"volume\"", "kind = \"volumes\"");
        let err = Rule::from_toml("x.toml", &text).unwrap_err().to_string();
        assert!(err.contains("kind: `volumes`"), "{err}");
        let twice = [SHIPPED[0], SHIPPED[0]];
        let err = RuleSet::from_sources(&twice, CALENDAR)
            .unwrap_err()
            .to_string();
        assert!(err.contains("used by another rule"), "{err}");
    }
}
