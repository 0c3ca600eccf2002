//! The comparison a policy maker reads: shares sealed per policy, by sentence band, by charge, by
//! exclusion reason, and who is in one policy and not in another; rendered as a terminal table
//! (Chinese), CSV, JSON and an SVG chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use fengcun_domain::{Catalogue, Disposition, PrincipalKind};
use fengcun_policy::Policy;
use serde::Serialize;

use crate::Run;
use crate::engine::Class;

/// Sentence bands, lightest first, with their Chinese labels.
pub const BANDS: [&str; 10] = [
    "免予刑事处罚",
    "单处附加刑",
    "管制",
    "拘役",
    "有期徒刑一年以下",
    "一年以上三年以下",
    "三年以上五年以下",
    "五年以上十年以下",
    "十年以上",
    "无期徒刑、死刑",
];

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

/// The whole comparison.
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
            })
            .collect();
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
        for entry in &run.entries {
            records += entry.records;
            let eligible: Vec<bool> = entry
                .classes
                .iter()
                .map(|c| matches!(c, Class::Eligible(_)))
                .collect();
            for (p, class) in entry.classes.iter().enumerate() {
                if *class == Class::NeedsFacts {
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
                        s.non_conviction += entry.records;
                        if eligible[p] {
                            s.non_conviction_sealed += entry.records;
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
        }
        let mut by_charge: Vec<Row> = charges.into_values().collect();
        by_charge.sort_by(|a, b| b.convicted.cmp(&a.convicted).then(a.label.cmp(&b.label)));
        let by_reason = reasons
            .into_iter()
            .map(|((p, rule), count)| {
                let policy = &policies[p];
                let (rule, title) = match rule {
                    Some(i) => {
                        let r = &policy.rules[usize::from(i)];
                        (r.id.clone(), r.title.clone())
                    }
                    None => ("timing".to_owned(), "没有适用的封存时间规则".to_owned()),
                };
                ReasonRow {
                    policy: policy.meta.name.clone(),
                    rule,
                    title,
                    convicted: count,
                }
            })
            .collect();
        let mut differences = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
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
        }
    }

    /// The terminal table, in Chinese.
    pub fn text(&self, top_charges: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "政策模拟（截至 {}）：记录 {} 条，其中有罪判决 {} 条",
            self.as_of, self.records, self.convicted
        );
        let _ = writeln!(out, "\n一、各政策封存覆盖面（占有罪判决人数）");
        let _ = writeln!(
            out,
            "{:<28} {:>10} {:>10} {:>8} {:>10} {:>12}",
            "政策", "有罪判决", "应封存", "占比%", "已封存", "涉罪记录封存"
        );
        for s in &self.policies {
            let _ = writeln!(
                out,
                "{:<28} {:>10} {:>10} {:>8.2} {:>10} {:>12}",
                s.name, s.convicted, s.sealed, s.share, s.sealed_now, s.non_conviction_sealed
            );
        }
        let _ = writeln!(out, "\n二、按宣告刑分档（应封存人数 / 该档有罪判决人数）");
        let mut header = format!("{:<18} {:>10}", "宣告刑", "有罪判决");
        for s in &self.policies {
            let _ = write!(header, " {:>22}", s.name);
        }
        let _ = writeln!(out, "{header}");
        for row in &self.by_band {
            let mut line = format!("{:<18} {:>10}", row.label, row.convicted);
            for sealed in &row.sealed {
                let _ = write!(
                    line,
                    " {:>12} ({:>6.2}%)",
                    sealed,
                    share(*sealed, row.convicted)
                );
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "\n三、按罪名（前 {top_charges} 个，按有罪判决人数）");
        for row in self.by_charge.iter().take(top_charges) {
            let mut line = format!("{:<24} {:>10}", row.label, row.convicted);
            for sealed in &row.sealed {
                let _ = write!(line, " {:>7.2}%", share(*sealed, row.convicted));
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "\n四、不予封存的原因（有罪判决，按首个不满足的规则）");
        for r in &self.by_reason {
            let _ = writeln!(
                out,
                "{:<28} {:<18} {:>10}  {}",
                r.policy, r.rule, r.convicted, r.title
            );
        }
        let _ = writeln!(out, "\n五、政策之间的差别（有罪判决人数）");
        for d in &self.differences {
            let _ = writeln!(
                out,
                "{} 封存而 {} 不封存 {:>10}；{} 封存而 {} 不封存 {:>10}；两者均封存 {:>10}",
                d.a, d.b, d.only_a, d.b, d.a, d.only_b, d.both
            );
        }
        if self.errors > 0 {
            let _ = writeln!(out, "\n{} 行无法读取（见标准错误输出）", self.errors);
        }
        out
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
            "policy,title,convicted,sealed,share_percent,sealed_now,non_conviction,non_conviction_sealed,needs_facts\n"
                .to_owned();
        for s in &self.policies {
            let _ = writeln!(
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
        let mut reasons = "policy,rule,title,convicted\n".to_owned();
        for r in &self.by_reason {
            let _ = writeln!(
                reasons,
                "{},{},{},{}",
                quote(&r.policy),
                quote(&r.rule),
                quote(&r.title),
                r.convicted
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
        vec![
            ("policies.csv", policies),
            ("by-band.csv", rows("band", &self.by_band)),
            ("by-charge.csv", rows("charge", &self.by_charge)),
            ("by-reason.csv", reasons),
            ("differences.csv", diffs),
        ]
    }

    /// Grouped bars: for each sentence band, the share of its convicted records each policy
    /// seals; plus the overall share per policy. Hand-written SVG, Chinese labels.
    pub fn svg(&self) -> String {
        const COLOURS: [&str; 8] = [
            "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
        ];
        let n = self.policies.len().max(1);
        let groups = self.by_band.len() + 1;
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
            r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="30" font-size="20" font-weight="bold">各方案封存覆盖面：按宣告刑分档的应封存比例（截至 {}）</text>"#,
            self.as_of
        );
        let _ = writeln!(
            s,
            r##"<text x="{left}" y="52" font-size="13" fill="#555">有罪判决 {} 人；柱高为该档有罪判决中应封存的比例，最右一组为全部有罪判决</text>"##,
            self.convicted
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
        let group = |g: usize, label: &str, values: Vec<f64>, s: &mut String| {
            let x0 = left + group_w * g as f64 + 12.0;
            for (p, v) in values.iter().enumerate() {
                let h = plot_h * v / 100.0;
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}：{v:.2}%</title></rect>"#,
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
        for (g, row) in self.by_band.iter().enumerate() {
            let values = row
                .sealed
                .iter()
                .map(|v| share(*v, row.convicted))
                .collect();
            group(g, &row.label, values, &mut s);
        }
        let overall = self.policies.iter().map(|p| p.share).collect();
        group(self.by_band.len(), "全部有罪判决", overall, &mut s);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##,
            width - 30.0,
            top + plot_h,
            top + plot_h
        );
        for (p, policy) in self.policies.iter().enumerate() {
            let y = top + plot_h + 100.0 + 22.0 * p as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{left}" y="{:.1}" width="14" height="14" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="13">{} {}：{:.2}%</text>"#,
                y - 12.0,
                COLOURS[p % COLOURS.len()],
                left + 20.0,
                y,
                policy.name,
                escape(&policy.title),
                policy.share
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
