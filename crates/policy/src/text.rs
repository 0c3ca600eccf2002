//! Chinese explanations of reasons: the facts a rule looked at, then the policy's own verdict text.

use fengcun_domain::date::chinese_date;
use fengcun_domain::numerals::chinese_number;
use fengcun_domain::{Catalogue, Disposition, Record};

use crate::condition::{AgeAt, Cond, Leaf};
use crate::decision::{Candidate, Reason, ReasonKind, ReasonView, Verdict};
use crate::policy::{Anchor, Policy, Timing, Wait};

pub(crate) fn reason<'a>(reason: &Reason, policy: &'a Policy, record: &Record) -> ReasonView<'a> {
    let (rule_id, basis, text) = match reason.kind {
        ReasonKind::Rule(i) => {
            let rule = &policy.rules[usize::from(i)];
            let facts = describe_facts(&rule.require, record);
            let verdict = match reason.verdict {
                Verdict::Holds => rule.holds.clone(),
                Verdict::Fails => rule.fails.clone(),
                Verdict::Unknown(m) => {
                    format!("缺少{}，无法判断是否{}", m.chinese().join("、"), rule.title)
                }
            };
            let text = if facts.is_empty() {
                verdict
            } else {
                format!("{facts}，{verdict}")
            };
            (rule.id.as_str(), rule.basis.as_str(), text)
        }
        ReasonKind::Timing(i, candidate) => {
            let timing = &policy.timings[usize::from(i)];
            let text = match reason.verdict {
                Verdict::Unknown(m) => format!("缺少{}，无法确定封存日期", m.chinese().join("、")),
                _ => timing_text(timing, candidate, record),
            };
            (timing.id.as_str(), timing.basis.as_str(), text)
        }
        ReasonKind::PolicyInForce(date) => (
            "policy_in_force",
            policy.meta.source.as_str(),
            format!("本规则自{}起施行，此前不发生封存效力", chinese_date(date)),
        ),
        ReasonKind::NoTiming => (
            "timing",
            policy.meta.source.as_str(),
            "本规则未规定此类记录的封存时间，不予封存".to_owned(),
        ),
        ReasonKind::OutOfScope(kind) => (
            "scope",
            policy.meta.source.as_str(),
            format!(
                "该记录为{}，不属于本规则调整的{}，本规则不予处理",
                kind.chinese(),
                policy.meta.records.chinese()
            ),
        ),
        ReasonKind::DecidedBefore(from) => (
            "decided_from",
            policy.meta.source.as_str(),
            match (reason.verdict, record.disposition_date) {
                (Verdict::Unknown(_), _) | (_, None) => format!(
                    "缺少处理日期，无法判断是否于{}以后作出决定",
                    chinese_date(from)
                ),
                (Verdict::Fails, Some(d)) => format!(
                    "该记录于{}作出决定，早于{}，不属于本规则的适用范围",
                    chinese_date(d),
                    chinese_date(from)
                ),
                (_, Some(d)) => format!(
                    "该记录于{}作出决定，不早于{}，属于本规则的适用范围",
                    chinese_date(d),
                    chinese_date(from)
                ),
            },
        ),
    };
    ReasonView {
        rule: rule_id,
        holds: reason.verdict == Verdict::Holds,
        text,
        basis,
        missing: match reason.verdict {
            Verdict::Unknown(m) => m.fields().collect(),
            _ => Vec::new(),
        },
    }
}

fn timing_text(timing: &Timing, candidate: Candidate, record: &Record) -> String {
    let anchor = anchor_phrase(timing.anchor, record);
    match candidate {
        Candidate::On(date) if timing.wait.is_zero() => {
            format!(
                "{anchor}，{}，封存日期为{}",
                timing.text,
                chinese_date(date)
            )
        }
        Candidate::On(date) => format!(
            "{anchor}，{}（{}），封存日期为{}",
            timing.text,
            wait_phrase(timing.wait),
            chinese_date(date)
        ),
        Candidate::WhenEventHappens(_) => format!("{anchor}，{}", timing.text),
    }
}

fn anchor_phrase(anchor: Anchor, record: &Record) -> String {
    let date = match anchor {
        Anchor::JudgmentEffective => record.judgment_effective_date,
        Anchor::ExecutionCompleted => record.execution_completed_date,
        Anchor::Disposition => record.disposition_date,
        Anchor::Offence => record.offence_date,
        Anchor::SentenceEnd => record.disposition_date,
        Anchor::DecisionEffective => record.decision_effective_date,
    };
    match (anchor, date) {
        (Anchor::JudgmentEffective, Some(d)) => format!("判决于{}生效", chinese_date(d)),
        (Anchor::JudgmentEffective, None) => "判决尚未生效".to_owned(),
        (Anchor::ExecutionCompleted, Some(d)) => format!("刑罚于{}执行完毕", chinese_date(d)),
        (Anchor::ExecutionCompleted, None) => "刑罚尚未执行完毕".to_owned(),
        (Anchor::Disposition, Some(d)) => {
            format!("{}于{}作出", record.disposition.chinese(), chinese_date(d))
        }
        (Anchor::Disposition, None) => "处理日期不明".to_owned(),
        (Anchor::Offence, Some(d)) => format!("犯罪日期为{}", chinese_date(d)),
        (Anchor::Offence, None) => "犯罪日期不明".to_owned(),
        (Anchor::SentenceEnd, Some(d)) => {
            let term = record
                .sentence
                .map(|s| fengcun_domain::numerals::chinese_term(s.principal.months))
                .unwrap_or_default();
            format!("{}判决，刑期{term}自判决之日起计算届满", chinese_date(d))
        }
        (Anchor::SentenceEnd, None) => "判决日期不明".to_owned(),
        (Anchor::DecisionEffective, Some(d)) => format!(
            "治安管理处罚决定（{}）于{}生效",
            record.penalty.map(|p| p.chinese()).unwrap_or_default(),
            chinese_date(d)
        ),
        (Anchor::DecisionEffective, None) => "治安管理处罚决定尚未生效".to_owned(),
    }
}

fn wait_phrase(wait: Wait) -> String {
    let mut text = String::from("经过");
    if wait.years > 0 {
        text.push_str(&format!(
            "{}年",
            chinese_number(wait.years.unsigned_abs().into())
        ));
    }
    if wait.months > 0 {
        text.push_str(&format!(
            "{}个月",
            chinese_number(wait.months.unsigned_abs().into())
        ));
    }
    if wait.days > 0 {
        text.push_str(&format!(
            "{}日",
            chinese_number(wait.days.unsigned_abs().into())
        ));
    }
    text
}

/// The facts the condition looks at, once each, in the order the condition names them.
fn describe_facts(cond: &Cond, record: &Record) -> String {
    let mut seen: Vec<std::mem::Discriminant<FactKind>> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for leaf in cond.leaves() {
        let kind = fact_kind(leaf);
        let key = std::mem::discriminant(&kind);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if let Some(text) = describe(kind, record) {
            parts.push(text);
        }
    }
    parts.join("，")
}

/// Which fact of the record a leaf looks at; leaves that look at the same fact are described once.
enum FactKind {
    Disposition,
    Ground,
    Sentence,
    Culpability,
    Charges,
    /// Whose age, and whether the rule reads `main_conduct_under_18`.
    Age(AgeAt, bool),
    History,
    Conditions,
}

fn fact_kind(leaf: &Leaf) -> FactKind {
    match leaf {
        Leaf::Disposition(_) => FactKind::Disposition,
        Leaf::NonProsecutionGround(_) => FactKind::Ground,
        Leaf::SentenceAtMost(_)
        | Leaf::SentenceAbove(_)
        | Leaf::SentenceAtLeast(_)
        | Leaf::Principal(_)
        | Leaf::Probation(_)
        | Leaf::CombinedSentence(_)
        | Leaf::PoliticalRightsDeprived(_) => FactKind::Sentence,
        Leaf::Culpability(_) => FactKind::Culpability,
        Leaf::AnyChargeTagged(_) | Leaf::AllChargesIn(_) | Leaf::AnyChargeIn(_) => {
            FactKind::Charges
        }
        Leaf::AgeUnder {
            at, main_conduct, ..
        } => FactKind::Age(*at, *main_conduct),
        Leaf::FirstOffender(_)
        | Leaf::FirstOffenderIgnoringSealedJuvenilePriors(_)
        | Leaf::Recidivist(_)
        | Leaf::PriorConvictionsAtMost(_) => FactKind::History,
        Leaf::CivilCompensationFulfilled(_) | Leaf::VictimForgiveness(_) | Leaf::Plea(_) => {
            FactKind::Conditions
        }
    }
}

fn describe(kind: FactKind, record: &Record) -> Option<String> {
    match kind {
        FactKind::Disposition => Some(format!("处理结果：{}", record.disposition.chinese())),
        // Only a non-prosecution has a ground; of any other record the leaf says nothing.
        FactKind::Ground => match (record.disposition, record.non_prosecution_ground) {
            (Disposition::NotProsecuted, Some(g)) => Some(g.chinese().to_owned()),
            (Disposition::NotProsecuted, None) => Some("不起诉的类型不明".to_owned()),
            _ => None,
        },
        FactKind::Sentence => Some(match &record.sentence {
            Some(s) => {
                let combined = if s.combined { "数罪并罚，" } else { "" };
                format!("{combined}宣告刑{}", s.chinese())
            }
            None => "未判处刑罚".to_owned(),
        }),
        FactKind::Culpability => record.culpability().map(|c| c.chinese().to_owned()),
        FactKind::Charges => Some(charges_phrase(record)),
        FactKind::Age(at, main_conduct) => {
            let (date, label) = match at {
                AgeAt::Offence => (record.offence_date, "犯罪时"),
                AgeAt::Conviction => (record.disposition_date, "判决时"),
            };
            let age = date
                .and_then(|d| record.age_on(d))
                .map(|age| format!("{label}{}周岁", chinese_number(u64::from(age))));
            let main = (main_conduct && record.main_conduct_under_18 == Some(true))
                .then_some("年满十八周岁前后实施数个行为，主要犯罪行为在年满十八周岁前实施");
            match (age, main) {
                (Some(age), Some(main)) => Some(format!("{age}，{main}")),
                (age, main) => age.or(main.map(str::to_owned)),
            }
        }
        FactKind::History => Some(history_phrase(record)),
        FactKind::Conditions => Some(conditions_phrase(record)),
    }
}

fn charges_phrase(record: &Record) -> String {
    let catalogue = Catalogue::builtin();
    if record.charges.is_empty() {
        return "未记载罪名".to_owned();
    }
    let names: Vec<String> = record
        .charges
        .iter()
        .map(|c| {
            let charge = catalogue.get(c.id);
            let tags: Vec<&str> = charge.tags.iter().take(1).map(|t| t.chinese()).collect();
            if tags.is_empty() {
                charge.name.clone()
            } else {
                format!("{}（{}）", charge.name, tags.join("、"))
            }
        })
        .collect();
    format!("罪名：{}", names.join("、"))
}

fn history_phrase(record: &Record) -> String {
    let recidivist = match record.recidivist {
        Some(true) => "系累犯",
        Some(false) => "不是累犯",
        None => "是否累犯不明",
    };
    let prior = match (record.prior_convictions, record.sealed_juvenile_priors) {
        (Some(0), _) => "此前无犯罪记录".to_owned(),
        (Some(n), Some(sealed)) if sealed > 0 => format!(
            "此前有{}次犯罪记录（其中{}次为已封存的未成年人犯罪记录）",
            chinese_number(u64::from(n)),
            chinese_number(u64::from(sealed))
        ),
        (Some(n), _) => format!("此前有{}次犯罪记录", chinese_number(u64::from(n))),
        (None, _) => "前科情况不明".to_owned(),
    };
    format!("{prior}，{recidivist}")
}

fn conditions_phrase(record: &Record) -> String {
    let c = record.conditions;
    let one = |value: Option<bool>, yes: &str, no: &str, unknown: &str| match value {
        Some(true) => yes.to_owned(),
        Some(false) => no.to_owned(),
        None => unknown.to_owned(),
    };
    [
        one(c.plea, "认罪认罚", "未认罪认罚", "是否认罪认罚不明"),
        one(
            c.victim_forgiveness,
            "取得被害人谅解",
            "未取得被害人谅解",
            "是否取得谅解不明",
        ),
        one(
            c.civil_compensation_fulfilled,
            "已履行附带民事赔偿",
            "未履行附带民事赔偿",
            "赔偿履行情况不明",
        ),
    ]
    .join("，")
}
