//! The punishment stated for one count, or for the combined sentence (决定执行 …), read from a
//! stretch of the operative part.

use std::sync::LazyLock;

use fengcun_domain::PrincipalKind;
use regex::Regex;

use crate::numerals::{NUMBER_CHARS, parse_number, parse_term_prefix};

fn regex(pattern: &str) -> Regex {
    #[expect(clippy::unwrap_used, reason = "constant patterns, covered by tests")]
    Regex::new(pattern).unwrap()
}

static PRINCIPAL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        "免予刑事处罚|免于刑事处罚|免除刑事处罚|免予刑事处分|死刑[，,]?\\s*缓期二年执行|死刑|无期徒刑|有期徒刑|拘役|管制",
    )
});
static PROBATION: LazyLock<Regex> = LazyLock::new(|| regex("缓刑"));
static FINE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        "罚金\\s*(?:人民币|币)?\\s*(?P<a>[{NUMBER_CHARS}.,，]+)\\s*(?:元|圆)"
    ))
});
static RIGHTS: LazyLock<Regex> = LazyLock::new(|| regex("剥夺政治权利"));
static CONFISCATION: LazyLock<Regex> =
    LazyLock::new(|| regex("没收(?:个人)?(?:全部)?财产|没收个人部分财产"));
static TRUNCATED_MONTHS: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!("^(?P<m>[{NUMBER_CHARS}]+)个(?:[；;。，,\\s]|$)")));

/// What one stretch of text says about the punishment. Absent parts are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Punishment {
    pub principal: Option<PrincipalKind>,
    pub months: Option<u32>,
    pub probation_months: Option<u32>,
    pub fine_yuan: Option<u64>,
    pub political_rights_months: Option<u32>,
    /// 剥夺政治权利终身, which the record-facts format cannot hold in months.
    pub political_rights_life: bool,
    /// 没收财产: not a fine; reported as a flag.
    pub confiscation: bool,
    /// Things read with doubt, as (field, reason in Chinese).
    pub doubts: Vec<(&'static str, String)>,
}

impl Punishment {
    pub fn is_empty(&self) -> bool {
        self.principal.is_none()
            && self.fine_yuan.is_none()
            && self.political_rights_months.is_none()
            && !self.political_rights_life
            && !self.confiscation
    }

    /// Reads the first principal punishment, probation, fine and deprivation in `text`.
    pub fn read(text: &str) -> Self {
        let mut out = Self::default();
        out.read_principal(text);
        out.read_probation(text);
        out.fine_yuan = FINE.captures(text).and_then(|c| {
            let amount = c.name("a")?.as_str();
            let value = parse_number(amount);
            if value.is_none() {
                out.doubts
                    .push(("sentence.fine_yuan", format!("罚金数额“{amount}”无法识别")));
            }
            value
        });
        out.read_rights(text);
        out.confiscation = CONFISCATION.is_match(text);
        if out.principal.is_none() && (out.fine_yuan.is_some() || out.political_rights()) {
            // 单处罚金 / 单处剥夺政治权利 (art. 52, 56): a supplementary punishment alone.
            out.principal = Some(PrincipalKind::SupplementaryOnly);
        }
        out
    }

    fn political_rights(&self) -> bool {
        self.political_rights_months.is_some() || self.political_rights_life
    }

    fn read_principal(&mut self, text: &str) {
        let Some(found) = PRINCIPAL.find(text) else {
            return;
        };
        let word = found.as_str();
        let kind = if word.starts_with('免') {
            PrincipalKind::Exempt
        } else if word.contains("缓期") {
            PrincipalKind::DeathSuspended
        } else {
            match word {
                "死刑" => PrincipalKind::Death,
                "无期徒刑" => PrincipalKind::Life,
                "有期徒刑" => PrincipalKind::FixedTerm,
                "拘役" => PrincipalKind::CriminalDetention,
                _ => PrincipalKind::PublicSurveillance,
            }
        };
        self.principal = Some(kind);
        if !kind.has_term() {
            return;
        }
        let rest = &text[found.end()..];
        if let Some(term) = parse_term_prefix(rest) {
            self.months = Some(term.months);
            if term.days_dropped {
                self.doubts.push((
                    "sentence.months",
                    format!("刑期含天数，按整月计为{}个月", term.months),
                ));
            }
        } else if let Some(m) = TRUNCATED_MONTHS
            .captures(rest)
            .and_then(|c| parse_number(c.name("m")?.as_str()))
        {
            // "有期徒刑六个；": the 月 is missing in the judgment itself.
            self.months = u32::try_from(m).ok();
            self.doubts.push((
                "sentence.months",
                format!("刑期“{m}个”缺“月”字，按{m}个月读取"),
            ));
        } else {
            self.doubts
                .push(("sentence.months", format!("{word}后未见可识别的刑期")));
        }
    }

    fn read_probation(&mut self, text: &str) {
        for found in PROBATION.find_iter(text) {
            let rest = text[found.end()..].trim_start();
            if let Some(term) = parse_term_prefix(rest) {
                self.probation_months = Some(term.months);
                return;
            }
        }
    }

    fn read_rights(&mut self, text: &str) {
        for found in RIGHTS.find_iter(text) {
            let rest = &text[found.end()..];
            if rest.starts_with("终身") {
                self.political_rights_life = true;
                return;
            }
            if let Some(term) = parse_term_prefix(rest) {
                self.political_rights_months = Some(term.months);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(
        principal: PrincipalKind,
        months: Option<u32>,
        probation: Option<u32>,
        fine: Option<u64>,
    ) -> (Option<PrincipalKind>, Option<u32>, Option<u32>, Option<u64>) {
        (Some(principal), months, probation, fine)
    }

    #[test]
    fn each_sentence_shape() {
        use PrincipalKind::*;
        let table = [
            ("判处有期徒刑一年六个月", p(FixedTerm, Some(18), None, None)),
            (
                "判处有期徒刑一年又六个月",
                p(FixedTerm, Some(18), None, None),
            ),
            (
                "判处有期徒刑一年零六个月",
                p(FixedTerm, Some(18), None, None),
            ),
            (
                "判处拘役三个月，缓刑六个月，并处罚金人民币五千元",
                p(CriminalDetention, Some(3), Some(6), Some(5000)),
            ),
            ("判处管制一年", p(PublicSurveillance, Some(12), None, None)),
            (
                "判处有期徒刑三年，缓刑四年，并处罚金5000元",
                p(FixedTerm, Some(36), Some(48), Some(5000)),
            ),
            (
                "判处有期徒刑八个月，宣告缓刑一年，并处罚金人民币二千元",
                p(FixedTerm, Some(8), Some(12), Some(2000)),
            ),
            (
                "判处有期徒刑三年缓刑四年，并处罚金20000元",
                p(FixedTerm, Some(36), Some(48), Some(20000)),
            ),
            (
                "判处罚金人民币五千元",
                p(SupplementaryOnly, None, None, Some(5000)),
            ),
            (
                "单处罚金人民币1.5万元",
                p(SupplementaryOnly, None, None, Some(15000)),
            ),
            ("免予刑事处罚", p(Exempt, None, None, None)),
            ("判处无期徒刑，剥夺政治权利终身", p(Life, None, None, None)),
            (
                "判处死刑，缓期二年执行",
                p(DeathSuspended, None, None, None),
            ),
            ("判处死刑，剥夺政治权利终身", p(Death, None, None, None)),
            (
                "判处拘役一个月，缓刑二个月，并处罚金九万元人民币",
                p(CriminalDetention, Some(1), Some(2), Some(90000)),
            ),
            (
                "判处有期徒刑三年，并处罚金人民币壹仟元",
                p(FixedTerm, Some(36), None, Some(1000)),
            ),
            (
                "判处拘役六个月缓刑一年，并处罚金人民币六千元",
                p(CriminalDetention, Some(6), Some(12), Some(6000)),
            ),
        ];
        for (text, expected) in table {
            let read = Punishment::read(text);
            assert_eq!(
                (
                    read.principal,
                    read.months,
                    read.probation_months,
                    read.fine_yuan
                ),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn supplementary_parts() {
        let read =
            Punishment::read("判处有期徒刑十五年，剥夺政治权利四年，并处没收财产人民币二万元");
        assert_eq!(read.political_rights_months, Some(48));
        assert!(read.confiscation);
        assert_eq!(read.fine_yuan, None, "confiscation is not a fine");
        let read = Punishment::read("判处无期徒刑，剥夺政治权利终身");
        assert!(read.political_rights_life);
    }

    #[test]
    fn doubtful_terms_are_flagged() {
        let read = Punishment::read("决定执行有期徒刑六个；");
        assert_eq!(read.months, Some(6));
        assert_eq!(read.doubts.len(), 1);
        let read = Punishment::read("判处拘役一个月十天");
        assert_eq!(read.months, Some(1));
        assert_eq!(read.doubts[0].0, "sentence.months");
    }
}
