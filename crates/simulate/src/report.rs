//! The comparison a policy maker reads: shares sealed per policy, by sentence band, by charge, by
//! exclusion reason, and who is in one policy and not in another; rendered as a terminal table
//! (Chinese), CSV, JSON and an SVG chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use fengcun_domain::{Catalogue, Disposition, PrincipalKind, RecordKind};
use fengcun_policy::Policy;
use serde::Serialize;

use crate::Run;
use crate::engine::Class;

/// Sentence bands, lightest first, with their Chinese labels. 以上 and 以下 include the number
/// (Criminal Law art. 99), so "一年以上三年以下" would also hold exactly one year, which `band`
/// puts in the band before: the labels say 超过 where a band starts after its number, as the
/// tiered preset's words do (docs/law.md).
pub const BANDS: [&str; 10] = [
    "免予刑事处罚",
    "单处附加刑",
    "管制",
    "拘役",
    "有期徒刑一年以下",
    "超过一年不超过三年",
    "超过三年不超过五年",
    "超过五年不超过十年",
    "超过十年",
    "无期徒刑、死刑",
];

/// The same bands in English, in the same order (the console's English switch, the chart).
pub const BANDS_EN: [&str; 10] = [
    "Exempted from punishment",
    "Supplementary punishment alone",
    "Public surveillance",
    "Criminal detention",
    "Imprisonment up to 1 year",
    "Over 1 year, up to 3 years",
    "Over 3 years, up to 5 years",
    "Over 5 years, up to 10 years",
    "Over 10 years",
    "Life imprisonment, death",
];

/// A band's label in English (the label itself if it is no band's).
pub fn band_in_english(label: &str) -> &str {
    BANDS
        .iter()
        .position(|b| *b == label)
        .map_or(label, |i| BANDS_EN[i])
}

/// The language of the chart's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartLang {
    Zh,
    En,
}

pub(crate) fn band(kind: PrincipalKind, months: u32) -> usize {
    match kind {
        PrincipalKind::Exempt => 0,
        PrincipalKind::SupplementaryOnly => 1,
        PrincipalKind::PublicSurveillance => 2,
        PrincipalKind::CriminalDetention => 3,
        PrincipalKind::FixedTerm => match months {
            0..=12 => 4,
            13..=36 => 5,
            37..=60 => 6,
            61..=120 => 7,
            _ => 8,
        },
        PrincipalKind::Life | PrincipalKind::DeathSuspended | PrincipalKind::Death => 9,
    }
}

/// The shipped juvenile statute (CPL art. 286): in force beside every criminal policy, and
/// deciding every record it seals whatever the policy in force says
/// (`fengcun_lifecycle::deciding_policy`).
pub const JUVENILE_STATUTE: &str = "cn-juvenile";

/// A criminal policy as the platform would apply it: with the juvenile statute in force beside
/// it, a record the statute seals (now or later) decided by the statute
/// (`fengcun_lifecycle::deciding_policy`), every other by the policy. What a policy maker reads
/// as "sealed if this option were adopted"; the policy's own figures (`PolicySummary::sealed`)
/// leave out the records only the statute seals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WithStatute {
    /// The statute's name (`cn-juvenile`).
    pub statute: String,
    /// Convicted records sealed (now or later) by the policy or the statute.
    pub sealed: u64,
    /// `sealed / convicted`, in per cent.
    pub share: f64,
    /// Convicted records already sealed on the as-of date, by whichever decides them.
    pub sealed_now: u64,
    /// Convicted records the statute seals and the policy alone would not.
    pub by_statute_only: u64,
    /// Records closed without a conviction sealed by the policy or the statute.
    pub non_conviction_sealed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub name: String,
    pub title: String,
    /// Convicted records in the data.
    pub convicted: u64,
    /// Convicted records the policy would seal (now or later).
    pub sealed: u64,
    /// `sealed / convicted`, in per cent.
    pub share: f64,
    /// Convicted records already sealed on the as-of date.
    pub sealed_now: u64,
    /// Records that ended without a conviction (not prosecuted, withdrawn, acquitted), and how
    /// many of them the policy seals.
    pub non_conviction: u64,
    pub non_conviction_sealed: u64,
    /// Records the policy cannot decide for a missing fact.
    pub needs_facts: u64,
    /// With the juvenile statute beside it, as the platform decides: for a criminal policy
    /// other than the statute, when the statute is among the policies compared.
    pub with_statute: Option<WithStatute>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub label: String,
    pub convicted: u64,
    /// Per policy, in the order of `policies`.
    pub sealed: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReasonRow {
    pub policy: String,
    pub rule: String,
    pub title: String,
    /// What the rule says of a record it excludes (its `fails`): the title states what holds
    /// (系初犯), which read beside the count as its opposite.
    pub fails: String,
    /// Convicted records this rule excludes first.
    pub convicted: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub a: String,
    pub b: String,
    /// Convicted records sealed under `a` and not under `b`, and the reverse.
    pub only_a: u64,
    pub only_b: u64,
    pub both: u64,
    pub only_a_by_band: Vec<u64>,
    pub only_b_by_band: Vec<u64>,
}

/// Dispositions of violation records, with their Chinese labels.
pub const VIOLATION_DISPOSITIONS: [(Disposition, &str); 4] = [
    (Disposition::Penalized, "处罚决定"),
    (Disposition::NotPenalized, "不予处罚"),
    (Disposition::Withdrawn, "撤销案件"),
    (Disposition::Open, "尚未处理完毕"),
];

/// What one policy says of the violation records (治安违法记录, 治安管理处罚法), apart from the
/// criminal ones: a criminal policy decides none of them (they are out of its scope).
#[derive(Debug, Clone, Serialize)]
pub struct ViolationSummary {
    pub name: String,
    /// Whether the policy decides violation records (`records = "public_security_violation"`).
    pub in_scope: bool,
    /// Violation records the policy seals (now or later), already sealed on the as-of date, not
    /// eligible (e.g. decided before its `decided_from`), and undecidable for a missing fact.
    pub sealed: u64,
    pub sealed_now: u64,
    pub not_eligible: u64,
    pub needs_facts: u64,
    /// `sealed / violation_records`, in per cent (0 out of scope).
    pub share: f64,
}

/// Violation records by disposition, and how many each policy seals.
#[derive(Debug, Clone, Serialize)]
pub struct ViolationRow {
    pub label: String,
    pub records: u64,
    /// Per policy, in the order of `policies`.
    pub sealed: Vec<u64>,
}

/// The whole comparison. Criminal and violation records are counted apart: `convicted`,
/// `policies`, `by_band`, `by_charge`, `by_reason` and `differences` are of criminal records
/// (a violation policy decides none: its criminal counts are 0); `violation_records`,
/// `violations` and `violations_by_disposition` of violation records.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub as_of: String,
    pub records: u64,
    pub convicted: u64,
    pub errors: u64,
    pub policies: Vec<PolicySummary>,
    pub by_band: Vec<Row>,
    pub by_charge: Vec<Row>,
    pub by_reason: Vec<ReasonRow>,
    pub differences: Vec<Difference>,
    /// Criminal records read (any disposition).
    pub criminal_records: u64,
    pub violation_records: u64,
    /// Per policy, in the order of `policies`.
    pub violations: Vec<ViolationSummary>,
    pub violations_by_disposition: Vec<ViolationRow>,
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl Comparison {
    pub fn new(policies: &[Policy], as_of: fengcun_domain::Date, run: &Run) -> Self {
        let n = policies.len();
        let catalogue = Catalogue::builtin();
        let mut summaries: Vec<PolicySummary> = policies
            .iter()
            .map(|p| PolicySummary {
                name: p.meta.name.clone(),
                title: p.meta.title.clone(),
                convicted: 0,
                sealed: 0,
                share: 0.0,
                sealed_now: 0,
                non_conviction: 0,
                non_conviction_sealed: 0,
                needs_facts: 0,
                with_statute: None,
            })
            .collect();
        // The statute, when compared: every other criminal policy is also counted beside it.
        // The shipped statute itself, as the platform applies it: a policy file that only bears
        // its name is a draft like any other.
        let shipped = fengcun_policy::presets::get(JUVENILE_STATUTE);
        let statute = policies.iter().position(|p| Some(p) == shipped);
        if let Some(j) = statute {
            for (p, summary) in summaries.iter_mut().enumerate() {
                // `deciding_policy` applies no statute beside a policy of the statute's name.
                // Chinese law beside Chinese policies only: a foreign scheme is compared as it is.
                if p != j
                    && policies[p].meta.records == RecordKind::Criminal
                    && policies[p].meta.name != JUVENILE_STATUTE
                    && policies[p].meta.jurisdiction == "CN"
                {
                    summary.with_statute = Some(WithStatute {
                        statute: JUVENILE_STATUTE.to_owned(),
                        sealed: 0,
                        share: 0.0,
                        sealed_now: 0,
                        by_statute_only: 0,
                        non_conviction_sealed: 0,
                    });
                }
            }
        }
        let mut bands: Vec<Row> = BANDS
            .iter()
            .map(|b| Row {
                label: (*b).to_owned(),
                convicted: 0,
                sealed: vec![0; n],
            })
            .collect();
        let mut charges: BTreeMap<u16, Row> = BTreeMap::new();
        let mut reasons: BTreeMap<(usize, Option<u16>), u64> = BTreeMap::new();
        let mut pairs = vec![[0u64; 3]; n * n];
        let mut pair_bands = vec![[0u64; 10]; n * n];
        let mut records = 0;
        let mut convicted = 0;
        let criminal_policy: Vec<bool> = policies
            .iter()
            .map(|p| p.meta.records == RecordKind::Criminal)
            .collect();
        let mut violations: Vec<ViolationSummary> = policies
            .iter()
            .map(|p| ViolationSummary {
                name: p.meta.name.clone(),
                in_scope: p.meta.records == RecordKind::PublicSecurityViolation,
                sealed: 0,
                sealed_now: 0,
                not_eligible: 0,
                needs_facts: 0,
                share: 0.0,
            })
            .collect();
        let mut by_disposition: Vec<ViolationRow> = VIOLATION_DISPOSITIONS
            .iter()
            .map(|(_, label)| ViolationRow {
                label: (*label).to_owned(),
                records: 0,
                sealed: vec![0; n],
            })
            .collect();
        let mut violation_records = 0;
        let mut criminal_records = 0;
        for entry in &run.entries {
            records += entry.records;
            if entry.key.kind == RecordKind::PublicSecurityViolation {
                // Counted apart: only a violation policy decides them.
                violation_records += entry.records;
                let mut row = VIOLATION_DISPOSITIONS
                    .iter()
                    .position(|(d, _)| *d == entry.key.disposition)
                    .map(|i| &mut by_disposition[i]);
                if let Some(row) = row.as_deref_mut() {
                    row.records += entry.records;
                }
                for (p, v) in violations.iter_mut().enumerate() {
                    if !v.in_scope {
                        continue;
                    }
                    match &entry.classes[p] {
                        Class::Eligible(_) => {
                            v.sealed += entry.records;
                            v.sealed_now += entry.sealed_now[p];
                            if let Some(row) = row.as_deref_mut() {
                                row.sealed[p] += entry.records;
                            }
                        }
                        Class::NotEligible(_) => v.not_eligible += entry.records,
                        Class::NeedsFacts => v.needs_facts += entry.records,
                    }
                }
                continue;
            }
            criminal_records += entry.records;
            let eligible: Vec<bool> = entry
                .classes
                .iter()
                .map(|c| matches!(c, Class::Eligible(_)))
                .collect();
            for (p, class) in entry.classes.iter().enumerate() {
                if *class == Class::NeedsFacts && criminal_policy[p] {
                    summaries[p].needs_facts += entry.records;
                }
            }
            let key = &entry.key;
            if key.disposition != Disposition::Convicted {
                // Every disposition is named: a new one must say here whether it counts
                // among the records closed without a conviction.
                let closed = match key.disposition {
                    Disposition::NotProsecuted
                    | Disposition::CaseWithdrawn
                    | Disposition::Acquitted => true,
                    // Violation records are counted apart (`violations`), never among criminal
                    // records closed without a conviction.
                    Disposition::Open
                    | Disposition::Convicted
                    | Disposition::Penalized
                    | Disposition::NotPenalized
                    | Disposition::Withdrawn => false,
                };
                if closed {
                    for (p, s) in summaries.iter_mut().enumerate() {
                        if !criminal_policy[p] {
                            // A criminal record is out of a violation policy's scope.
                            continue;
                        }
                        s.non_conviction += entry.records;
                        if eligible[p] {
                            s.non_conviction_sealed += entry.records;
                        }
                        if let (Some(w), Some(j)) = (s.with_statute.as_mut(), statute)
                            && (eligible[j] || eligible[p])
                        {
                            w.non_conviction_sealed += entry.records;
                        }
                    }
                }
                continue;
            }
            convicted += entry.records;
            let b = entry.band;
            bands[b].convicted += entry.records;
            let charge_id = key.charges.first().map_or(u16::MAX, |(id, _)| id.0);
            let row = charges.entry(charge_id).or_insert_with(|| Row {
                label: key
                    .charges
                    .first()
                    .map_or_else(String::new, |(id, _)| catalogue.get(*id).name.clone()),
                convicted: 0,
                sealed: vec![0; n],
            });
            row.convicted += entry.records;
            for p in 0..n {
                if !criminal_policy[p] {
                    continue;
                }
                let s = &mut summaries[p];
                s.convicted += entry.records;
                match &entry.classes[p] {
                    Class::Eligible(_) => {
                        s.sealed += entry.records;
                        s.sealed_now += entry.sealed_now[p];
                        bands[b].sealed[p] += entry.records;
                        row.sealed[p] += entry.records;
                    }
                    Class::NotEligible(rule) => {
                        *reasons.entry((p, *rule)).or_default() += entry.records;
                    }
                    Class::NeedsFacts => {}
                }
                if let (Some(w), Some(j)) = (s.with_statute.as_mut(), statute) {
                    // Decided as `deciding_policy` does: by the statute when it seals.
                    let decider = if eligible[j] { j } else { p };
                    if eligible[decider] {
                        w.sealed += entry.records;
                        w.sealed_now += entry.sealed_now[decider];
                    }
                    if eligible[j] && !eligible[p] {
                        w.by_statute_only += entry.records;
                    }
                }
                for q in 0..n {
                    let cell = &mut pairs[p * n + q];
                    match (eligible[p], eligible[q]) {
                        (true, false) => {
                            cell[0] += entry.records;
                            pair_bands[p * n + q][b] += entry.records;
                        }
                        (false, true) => cell[1] += entry.records,
                        (true, true) => cell[2] += entry.records,
                        (false, false) => {}
                    }
                }
            }
        }
        for s in &mut summaries {
            s.share = share(s.sealed, s.convicted);
            if let Some(w) = s.with_statute.as_mut() {
                w.share = share(w.sealed, s.convicted);
            }
        }
        for v in &mut violations {
            v.share = share(v.sealed, violation_records);
        }
        let mut by_charge: Vec<Row> = charges.into_values().collect();
        by_charge.sort_by(|a, b| b.convicted.cmp(&a.convicted).then(a.label.cmp(&b.label)));
        let by_reason = reasons
            .into_iter()
            .map(|((p, rule), count)| {
                let policy = &policies[p];
                let (rule, title, fails) = match rule {
                    Some(i) => {
                        let r = &policy.rules[usize::from(i)];
                        (r.id.clone(), r.title.clone(), r.fails.clone())
                    }
                    None => {
                        let none = "没有适用的封存时间规则".to_owned();
                        ("timing".to_owned(), none.clone(), none)
                    }
                };
                ReasonRow {
                    policy: policy.meta.name.clone(),
                    rule,
                    title,
                    fails,
                    convicted: count,
                }
            })
            .collect();
        let mut differences = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                // Between criminal policies only: a violation policy decides no criminal record.
                if !(criminal_policy[a] && criminal_policy[b]) {
                    continue;
                }
                let cell = pairs[a * n + b];
                differences.push(Difference {
                    a: policies[a].meta.name.clone(),
                    b: policies[b].meta.name.clone(),
                    only_a: cell[0],
                    only_b: cell[1],
                    both: cell[2],
                    only_a_by_band: pair_bands[a * n + b].to_vec(),
                    only_b_by_band: pair_bands[b * n + a].to_vec(),
                });
            }
        }
        Comparison {
            as_of: as_of.to_string(),
            records,
            convicted,
            errors: run.errors.len() as u64,
            policies: summaries,
            by_band: bands,
            by_charge,
            by_reason,
            differences,
            criminal_records,
            violation_records,
            violations,
            violations_by_disposition: by_disposition,
        }
    }

    /// Whether some policy is also counted beside the juvenile statute.
    pub fn counts_beside_statute(&self) -> bool {
        self.policies.iter().any(|p| p.with_statute.is_some())
    }

    /// The terminal table, in Chinese.
    pub fn text(&self, top_charges: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "政策模拟（截至 {}）：记录 {} 条，其中有罪判决 {} 条",
            self.as_of, self.records, self.convicted
        );
        if self.violation_records > 0 {
            let _ = writeln!(
                out,
                "犯罪记录 {} 条，治安违法记录 {} 条（分别统计：一至五为犯罪记录，六为治安违法记录）",
                self.criminal_records, self.violation_records
            );
        }
        let _ = writeln!(
            out,
            "\n一、各政策封存覆盖面（占有罪判决记录数；将封存含今后到期封存的）"
        );
        let _ = writeln!(
            out,
            "{:<28} {:>10} {:>10} {:>8} {:>10} {:>18} {:>10}",
            "政策", "有罪判决", "将封存", "占比%", "已封存", "未定罪记录中将封存", "缺少事实"
        );
        for (s, v) in self.policies.iter().zip(&self.violations) {
            if v.in_scope {
                let _ = writeln!(
                    out,
                    "{:<28} 不适用：本政策只决定治安违法记录（见六）",
                    s.name
                );
                continue;
            }
            let _ = writeln!(
                out,
                "{:<28} {:>10} {:>10} {:>8.2} {:>10} {:>18} {:>10}",
                s.name,
                s.convicted,
                s.sealed,
                s.share,
                s.sealed_now,
                s.non_conviction_sealed,
                s.needs_facts
            );
        }
        let beside: Vec<(&PolicySummary, &WithStatute)> = self
            .policies
            .iter()
            .filter_map(|s| s.with_statute.as_ref().map(|w| (s, w)))
            .collect();
        if let Some((_, first)) = beside.first() {
            let _ = writeln!(
                out,
                "\n  与{}并行（平台实际决定：法定未成年人犯罪记录封存无论采用哪种方案均予封存；仅因法定封存：方案本身不封存、因该法定封存而封存的有罪判决记录）",
                first.statute
            );
            let _ = writeln!(
                out,
                "{:<28} {:>10} {:>10} {:>8} {:>10} {:>18} {:>14}",
                "政策",
                "有罪判决",
                "将封存",
                "占比%",
                "已封存",
                "未定罪记录中将封存",
                "仅因法定封存"
            );
            for (s, w) in &beside {
                let _ = writeln!(
                    out,
                    "{:<28} {:>10} {:>10} {:>8.2} {:>10} {:>18} {:>14}",
                    s.name,
                    s.convicted,
                    w.sealed,
                    w.share,
                    w.sealed_now,
                    w.non_conviction_sealed,
                    w.by_statute_only
                );
            }
        }
        let _ = writeln!(
            out,
            "\n二、按宣告刑分档（将封存记录数 / 该档有罪判决记录数）"
        );
        let mut header = format!("{:<18} {:>10}", "宣告刑", "有罪判决");
        for s in &self.policies {
            let _ = write!(header, " {:>22}", s.name);
        }
        let _ = writeln!(out, "{header}");
        for row in &self.by_band {
            let mut line = format!("{:<18} {:>10}", row.label, row.convicted);
            for (sealed, v) in row.sealed.iter().zip(&self.violations) {
                if v.in_scope {
                    // A violation policy decides no criminal record: not 0 %.
                    let _ = write!(line, " {:>22}", "不适用");
                    continue;
                }
                let _ = write!(
                    line,
                    " {:>12} ({:>6.2}%)",
                    sealed,
                    share(*sealed, row.convicted)
                );
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "\n三、按罪名（前 {top_charges} 个，按有罪判决记录数；各政策将封存的比例）"
        );
        // Each policy's column as wide as its name, so that the figures stand under it.
        let widths: Vec<usize> = self.policies.iter().map(|s| s.name.len().max(8)).collect();
        let mut header = format!("{:<24} {:>10}", "罪名", "有罪判决");
        for (s, width) in self.policies.iter().zip(&widths) {
            let _ = write!(header, " {:>width$}", s.name);
        }
        let _ = writeln!(out, "{header}");
        for row in self.by_charge.iter().take(top_charges) {
            let mut line = format!("{:<24} {:>10}", row.label, row.convicted);
            for ((sealed, width), v) in row.sealed.iter().zip(&widths).zip(&self.violations) {
                let percent = if v.in_scope {
                    "不适用".to_owned()
                } else {
                    format!("{:.2}%", share(*sealed, row.convicted))
                };
                let _ = write!(line, " {percent:>width$}");
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "\n四、不予封存的原因（有罪判决，按首个不满足的规则）");
        for r in &self.by_reason {
            let _ = writeln!(
                out,
                "{:<28} {:<18} {:>10}  {}",
                r.policy, r.rule, r.convicted, r.fails
            );
        }
        let _ = writeln!(out, "\n五、政策之间的差别（有罪判决记录数）");
        for d in &self.differences {
            let _ = writeln!(
                out,
                "{} 封存而 {} 不封存 {:>10}；{} 封存而 {} 不封存 {:>10}；两者均封存 {:>10}",
                d.a, d.b, d.only_a, d.b, d.a, d.only_b, d.both
            );
        }
        if self.violation_records > 0 || self.violations.iter().any(|v| v.in_scope) {
            self.violation_text(&mut out);
        }
        if self.errors > 0 {
            let _ = writeln!(out, "\n{} 行无法读取（见标准错误输出）", self.errors);
        }
        out
    }

    /// Section 6: the violation records, apart from the criminal ones.
    fn violation_text(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n六、治安违法记录（《中华人民共和国治安管理处罚法》第一百三十六条；占治安违法记录 {} 条）",
            self.violation_records
        );
        let _ = writeln!(
            out,
            "{:<28} {:>10} {:>8} {:>10} {:>10} {:>10}",
            "政策", "将封存", "占比%", "已封存", "不予封存", "缺少事实"
        );
        for v in &self.violations {
            if !v.in_scope {
                let _ = writeln!(
                    out,
                    "{:<28} 不适用：治安违法记录不在本政策范围内（本政策只决定犯罪记录）",
                    v.name
                );
                continue;
            }
            let _ = writeln!(
                out,
                "{:<28} {:>10} {:>8.2} {:>10} {:>10} {:>10}",
                v.name, v.sealed, v.share, v.sealed_now, v.not_eligible, v.needs_facts
            );
        }
        let mut header = format!("{:<18} {:>10}", "处理结果", "记录");
        for v in self.violations.iter().filter(|v| v.in_scope) {
            let _ = write!(header, " {:>22}", v.name);
        }
        let _ = writeln!(out, "{header}");
        for row in &self.violations_by_disposition {
            let mut line = format!("{:<18} {:>10}", row.label, row.records);
            for (sealed, v) in row.sealed.iter().zip(&self.violations) {
                if v.in_scope {
                    let _ = write!(line, " {:>22}", sealed);
                }
            }
            let _ = writeln!(out, "{line}");
        }
    }

    /// The CSV files: (file name, content).
    pub fn csv(&self) -> Vec<(&'static str, String)> {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let mut policies =
            "policy,title,convicted,sealed,share_percent,sealed_now,non_conviction,non_conviction_sealed,needs_facts,\
             with_statute,sealed_with_statute,share_with_statute_percent,sealed_now_with_statute,by_statute_only,non_conviction_sealed_with_statute\n"
                .to_owned();
        for s in &self.policies {
            let _ = write!(
                policies,
                "{},{},{},{},{:.4},{},{},{},{}",
                quote(&s.name),
                quote(&s.title),
                s.convicted,
                s.sealed,
                s.share,
                s.sealed_now,
                s.non_conviction,
                s.non_conviction_sealed,
                s.needs_facts
            );
            // Empty where the policy is not counted beside the statute.
            let _ = match &s.with_statute {
                Some(w) => writeln!(
                    policies,
                    ",{},{},{:.4},{},{},{}",
                    quote(&w.statute),
                    w.sealed,
                    w.share,
                    w.sealed_now,
                    w.by_statute_only,
                    w.non_conviction_sealed
                ),
                None => writeln!(policies, ",,,,,,"),
            };
        }
        let rows = |first: &str, rows: &[Row]| {
            let mut out = format!("{first},convicted");
            for s in &self.policies {
                let _ = write!(out, ",{}", quote(&s.name));
            }
            out.push('\n');
            for row in rows {
                let _ = write!(out, "{},{}", quote(&row.label), row.convicted);
                for v in &row.sealed {
                    let _ = write!(out, ",{v}");
                }
                out.push('\n');
            }
            out
        };
        let mut reasons = "policy,rule,title,convicted,fails\n".to_owned();
        for r in &self.by_reason {
            let _ = writeln!(
                reasons,
                "{},{},{},{},{}",
                quote(&r.policy),
                quote(&r.rule),
                quote(&r.title),
                r.convicted,
                quote(&r.fails)
            );
        }
        let mut diffs = "a,b,only_a,only_b,both".to_owned();
        for b in BANDS {
            let _ = write!(diffs, ",only_a:{b}");
        }
        for b in BANDS {
            let _ = write!(diffs, ",only_b:{b}");
        }
        diffs.push('\n');
        for d in &self.differences {
            let _ = write!(
                diffs,
                "{},{},{},{},{}",
                d.a, d.b, d.only_a, d.only_b, d.both
            );
            for v in d.only_a_by_band.iter().chain(&d.only_b_by_band) {
                let _ = write!(diffs, ",{v}");
            }
            diffs.push('\n');
        }
        let mut violations =
            "policy,in_scope,violation_records,sealed,share_percent,sealed_now,not_eligible,needs_facts\n"
                .to_owned();
        for v in &self.violations {
            let _ = writeln!(
                violations,
                "{},{},{},{},{:.4},{},{},{}",
                quote(&v.name),
                v.in_scope,
                self.violation_records,
                v.sealed,
                v.share,
                v.sealed_now,
                v.not_eligible,
                v.needs_facts
            );
        }
        let mut dispositions = "disposition,records".to_owned();
        for v in &self.violations {
            let _ = write!(dispositions, ",{}", quote(&v.name));
        }
        dispositions.push('\n');
        for row in &self.violations_by_disposition {
            let _ = write!(dispositions, "{},{}", quote(&row.label), row.records);
            for v in &row.sealed {
                let _ = write!(dispositions, ",{v}");
            }
            dispositions.push('\n');
        }
        vec![
            ("policies.csv", policies),
            ("by-band.csv", rows("band", &self.by_band)),
            ("by-charge.csv", rows("charge", &self.by_charge)),
            ("by-reason.csv", reasons),
            ("differences.csv", diffs),
            ("violations.csv", violations),
            ("violations-by-disposition.csv", dispositions),
        ]
    }

    /// Grouped bars: for each sentence band, the share of its convicted records each policy
    /// seals; plus the overall share per policy. Hand-written SVG, Chinese labels.
    pub fn svg(&self) -> String {
        self.svg_in(ChartLang::Zh)
    }

    /// [`Self::svg`] with its words in `lang` (policy titles stay as the policies write them).
    pub fn svg_in(&self, lang: ChartLang) -> String {
        let zh = lang == ChartLang::Zh;
        const COLOURS: [&str; 8] = [
            "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
        ];
        let n = self.policies.len().max(1);
        // A last group for the violation records when there are any (a share of them, not of
        // the convicted: its own label says so).
        let violation_group = self.violation_records > 0;
        let groups = self.by_band.len() + 1 + usize::from(violation_group);
        let bar = 14.0_f64.max(60.0 / n as f64).min(22.0);
        let group_w = bar * n as f64 + 24.0;
        let (left, top, plot_h) = (70.0, 70.0, 320.0);
        let width = left + group_w * groups as f64 + 40.0;
        let legend_h = 22.0 * n as f64;
        let height = top + plot_h + 120.0 + legend_h;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif">"#
        );
        let _ = writeln!(
            s,
            r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="30" font-size="20" font-weight="bold">{}</text>"#,
            if zh {
                format!(
                    "各方案封存覆盖面：按宣告刑分档的将封存比例（截至 {}）",
                    self.as_of
                )
            } else {
                format!(
                    "What each policy would seal, by sentence band (as of {})",
                    self.as_of
                )
            }
        );
        let _ = writeln!(
            s,
            r##"<text x="{left}" y="52" font-size="13" fill="#555">{}{}</text>"##,
            if zh {
                format!(
                    "有罪判决记录 {} 条；柱高为该档有罪判决记录中将封存的比例，最右一组为全部有罪判决记录",
                    self.convicted
                )
            } else {
                format!(
                    "{} conviction records; a bar is the share of the band's convictions to be sealed, the last group all convictions",
                    self.convicted
                )
            },
            match (violation_group, zh) {
                (false, _) => String::new(),
                (true, true) => format!(
                    "；治安违法记录 {} 条另计（柱高为其中将封存的比例）",
                    self.violation_records
                ),
                (true, false) => format!(
                    "; {} violation records apart (a bar is the share of them sealed)",
                    self.violation_records
                ),
            }
        );
        for tick in 0..=5 {
            let v = tick as f64 * 20.0;
            let y = top + plot_h - plot_h * v / 100.0;
            let _ = writeln!(
                s,
                r##"<line x1="{left}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{v:.0}%</text>"##,
                width - 30.0,
                left - 6.0,
                y + 4.0
            );
        }
        let colon = if zh { "：" } else { ": " };
        // A policy that does not decide a group's kind of record has no bar there (not a bar of
        // 0 %, which would say it seals none).
        let group = |g: usize, label: &str, values: Vec<Option<f64>>, s: &mut String| {
            let x0 = left + group_w * g as f64 + 12.0;
            for (p, v) in values.iter().enumerate() {
                let Some(v) = v else {
                    continue;
                };
                let h = plot_h * v / 100.0;
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}{colon}{v:.2}%</title></rect>"#,
                    x0 + bar * p as f64,
                    top + plot_h - h,
                    bar - 2.0,
                    COLOURS[p % COLOURS.len()],
                    self.policies[p].name
                );
            }
            let cx = x0 + bar * n as f64 / 2.0;
            let _ = writeln!(
                s,
                r#"<text x="{cx:.1}" y="{:.1}" font-size="12" text-anchor="end" transform="rotate(-35 {cx:.1} {:.1})">{label}</text>"#,
                top + plot_h + 18.0,
                top + plot_h + 18.0
            );
        };
        let criminal: Vec<bool> = self.violations.iter().map(|v| !v.in_scope).collect();
        for (g, row) in self.by_band.iter().enumerate() {
            let values = row
                .sealed
                .iter()
                .zip(&criminal)
                .map(|(v, decides)| decides.then(|| share(*v, row.convicted)))
                .collect();
            let label = if zh {
                row.label.as_str()
            } else {
                band_in_english(&row.label)
            };
            group(g, label, values, &mut s);
        }
        let overall = self
            .policies
            .iter()
            .zip(&criminal)
            .map(|(p, decides)| decides.then_some(p.share))
            .collect();
        let all = if zh {
            "全部有罪判决"
        } else {
            "All convictions"
        };
        group(self.by_band.len(), all, overall, &mut s);
        if violation_group {
            let shares = self
                .violations
                .iter()
                .map(|v| v.in_scope.then_some(v.share))
                .collect();
            let apart = if zh {
                "治安违法记录（另计）"
            } else {
                "Violation records (apart)"
            };
            group(self.by_band.len() + 1, apart, shares, &mut s);
        }
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##,
            width - 30.0,
            top + plot_h,
            top + plot_h
        );
        for (p, policy) in self.policies.iter().enumerate() {
            let y = top + plot_h + 100.0 + 22.0 * p as f64;
            let violation = &self.violations[p];
            let share = if violation.in_scope && zh {
                format!("治安违法记录 {:.2}%", violation.share)
            } else if violation.in_scope {
                format!("violation records {:.2}%", violation.share)
            } else {
                format!("{:.2}%", policy.share)
            };
            let _ = writeln!(
                s,
                r#"<rect x="{left}" y="{:.1}" width="14" height="14" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="13">{} {}{colon}{share}</text>"#,
                y - 12.0,
                COLOURS[p % COLOURS.len()],
                left + 20.0,
                y,
                policy.name,
                escape(&policy.title),
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod band_tests {
    use super::*;

    /// Each boundary month falls in the band whose label includes it, read as art. 99 reads
    /// 以上 and 以下 (the number included) and 超过 (the number excluded).
    #[test]
    fn a_boundary_month_is_in_the_band_whose_words_include_it() {
        let cases = [
            (12, "有期徒刑一年以下"),
            (13, "超过一年不超过三年"),
            (36, "超过一年不超过三年"),
            (37, "超过三年不超过五年"),
            (60, "超过三年不超过五年"),
            (61, "超过五年不超过十年"),
            (120, "超过五年不超过十年"),
            (121, "超过十年"),
        ];
        for (months, label) in cases {
            assert_eq!(
                BANDS[band(PrincipalKind::FixedTerm, months)],
                label,
                "{months} months"
            );
        }
        assert_eq!(
            band_in_english("超过一年不超过三年"),
            "Over 1 year, up to 3 years"
        );
        // No label reads a number as both a band's end and the next band's start.
        for label in BANDS {
            assert!(!label.contains("以上"), "{label}: 以上 includes the number");
        }
    }
}
