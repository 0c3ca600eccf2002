//! Who looked at my record: which reads are not shown to the person yet (data:
//! `data/disclosure/withholding.toml`, docs/person.md). A read by an investigating organ for its
//! case is withheld while the grant it was made under lives and for a number of days after it
//! ends, then it appears. Pure: the times are passed in.

use serde::Deserialize;

use crate::table::DisclosureError;
use crate::{Purpose, RequesterKind};

const CN_DEFAULT: &str = include_str!("../../../data/disclosure/withholding.toml");
const FILE: &str = "data/disclosure/withholding.toml";

/// One rule: reads by these kinds for these purposes wait `days_after_end` days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithholdingRule {
    pub kinds: Vec<RequesterKind>,
    pub purposes: Vec<Purpose>,
    pub days_after_end: i64,
    pub basis: String,
}

/// The withholding rules in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withholding {
    pub name: String,
    pub version: String,
    pub title: String,
    pub rules: Vec<WithholdingRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    withholding: Meta,
    #[serde(default)]
    rule: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    version: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    kinds: Vec<String>,
    purposes: Vec<String>,
    days_after_end: i64,
    basis: String,
}

impl Withholding {
    /// The shipped rules.
    pub fn cn_default() -> Result<Withholding, DisclosureError> {
        Withholding::from_toml(FILE, CN_DEFAULT)
    }

    pub fn from_toml(file: &str, text: &str) -> Result<Withholding, DisclosureError> {
        let parsed: File = toml::from_str(text).map_err(|e| DisclosureError::Parse {
            file: file.to_owned(),
            message: e.message().trim().to_owned(),
        })?;
        let mut rules = Vec::with_capacity(parsed.rule.len());
        for (index, rule) in parsed.rule.into_iter().enumerate() {
            let bad = |message: String| DisclosureError::Rule {
                file: file.to_owned(),
                index: index + 1,
                message,
            };
            let kinds = rule
                .kinds
                .iter()
                .map(|k| {
                    RequesterKind::parse(k)
                        .ok_or_else(|| bad(format!("kinds: unknown requester kind `{k}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let purposes = rule
                .purposes
                .iter()
                .map(|p| {
                    Purpose::parse(p).ok_or_else(|| bad(format!("purposes: unknown purpose `{p}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if rule.basis.trim().is_empty() {
                return Err(bad("basis: every rule cites its legal basis".into()));
            }
            if rule.days_after_end < 0 {
                return Err(bad("days_after_end: may not be negative".into()));
            }
            rules.push(WithholdingRule {
                kinds,
                purposes,
                days_after_end: rule.days_after_end,
                basis: rule.basis,
            });
        }
        Ok(Withholding {
            name: parsed.withholding.name,
            version: parsed.withholding.version,
            title: parsed.withholding.title,
            rules,
        })
    }

    /// The rule that withholds reads by `kind` for `purpose`, if any.
    pub fn rule(&self, kind: RequesterKind, purpose: Purpose) -> Option<&WithholdingRule> {
        self.rules
            .iter()
            .find(|r| r.kinds.contains(&kind) && r.purposes.contains(&purpose))
    }

    /// Until when a read made `at` by `kind` for `purpose` is withheld: `days_after_end` days
    /// after the end of the grant it was made under (`grant_end`, revoked or expired), or after
    /// the read itself when there was no grant or the grant ended before it. `None`: shown at
    /// once.
    pub fn withheld_until(
        &self,
        kind: RequesterKind,
        purpose: Purpose,
        at: jiff::Timestamp,
        grant_end: Option<jiff::Timestamp>,
    ) -> Option<jiff::Timestamp> {
        let rule = self.rule(kind, purpose)?;
        let end = grant_end.map_or(at, |end| end.max(at));
        end.checked_add(jiff::SignedDuration::from_hours(rule.days_after_end * 24))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> jiff::Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_shipped_rules_load_and_cite_their_basis() {
        let w = Withholding::cn_default().expect("the shipped withholding rules");
        assert_eq!(w.rules.len(), 1);
        assert_eq!(w.rules[0].days_after_end, 90);
        assert!(w.rules[0].basis.contains("个人信息保护法第四十五条"));
        assert!(w.rules[0].basis.contains("刑事诉讼法第八十五条第二款"));
    }

    #[test]
    fn an_investigators_read_waits_until_ninety_days_after_the_grant_ends() {
        let w = Withholding::cn_default().expect("rules");
        let until = w.withheld_until(
            RequesterKind::PublicSecurity,
            Purpose::CaseHandling,
            t("2026-06-01T02:00:00Z"),
            Some(t("2026-07-01T02:00:00Z")),
        );
        assert_eq!(until, Some(t("2026-09-29T02:00:00Z")));
        // Without a grant, from the read itself.
        let until = w.withheld_until(
            RequesterKind::Procuratorate,
            Purpose::CaseHandling,
            t("2026-06-01T02:00:00Z"),
            None,
        );
        assert_eq!(until, Some(t("2026-08-30T02:00:00Z")));
    }

    #[test]
    fn other_reads_are_not_withheld() {
        let w = Withholding::cn_default().expect("rules");
        let at = t("2026-06-01T02:00:00Z");
        assert_eq!(
            w.withheld_until(
                RequesterKind::Employer,
                Purpose::SpecialPostVetting,
                at,
                None
            ),
            None
        );
        assert_eq!(
            w.withheld_until(RequesterKind::Court, Purpose::CaseHandling, at, None),
            None
        );
        assert_eq!(
            w.withheld_until(
                RequesterKind::PublicSecurity,
                Purpose::SpecialPostVetting,
                at,
                None
            ),
            None
        );
    }

    #[test]
    fn a_rule_without_basis_or_with_an_unknown_kind_is_refused_naming_the_field() {
        let text = "[withholding]\nname='x'\nversion='1'\ntitle='t'\n[[rule]]\nkinds=['police']\npurposes=['case_handling']\ndays_after_end=1\nbasis='b'\n";
        let error = Withholding::from_toml("w.toml", text).expect_err("unknown kind");
        assert!(
            error
                .to_string()
                .contains("kinds: unknown requester kind `police`"),
            "{error}"
        );
        let text = "[withholding]\nname='x'\nversion='1'\ntitle='t'\n[[rule]]\nkinds=['court']\npurposes=['case_handling']\ndays_after_end=1\nbasis=' '\n";
        let error = Withholding::from_toml("w.toml", text).expect_err("no basis");
        assert!(error.to_string().contains("basis:"), "{error}");
    }
}
