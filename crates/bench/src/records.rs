//! Deterministic record-facts lines for benchmarks: every disposition, lawful sentences, charges
//! drawn from the catalogue with a heavy head (dangerous driving, theft, fraud …) as in practice.

use fengcun_domain::Catalogue;

/// A small, fast, seeded generator (SplitMix64) so the same seed always gives the same bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COMMON: [&str; 10] = [
    "危险驾驶罪",
    "盗窃罪",
    "帮助信息网络犯罪活动罪",
    "诈骗罪",
    "故意伤害罪",
    "走私、贩卖、运输、制造毒品罪",
    "寻衅滋事罪",
    "开设赌场罪",
    "交通肇事罪",
    "掩饰、隐瞒犯罪所得、犯罪所得收益罪",
];

fn date(days_since_2000: u64) -> String {
    let date = jiff::civil::Date::constant(2000, 1, 1)
        .checked_add(jiff::Span::new().days(i64::try_from(days_since_2000).unwrap_or(0)))
        .unwrap_or(jiff::civil::Date::constant(2000, 1, 1));
    date.to_string()
}

/// `n` NDJSON lines of the FORMATS.md shape.
pub fn generate(n: usize, seed: u64) -> Vec<u8> {
    let catalogue = Catalogue::builtin();
    let all: Vec<&str> = catalogue
        .charges()
        .iter()
        .filter(|c| c.current)
        .map(|c| c.name.as_str())
        .collect();
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n * 520);
    for i in 0..n {
        let charge = if rng.below(10) < 8 {
            COMMON[rng.below(10) as usize]
        } else {
            all[rng.below(all.len() as u64) as usize]
        };
        let offence = 7000 + rng.below(2500);
        let birth = offence - (5840 + rng.below(18000));
        let judged = offence + 30 + rng.below(300);
        let effective = judged + rng.below(15);
        let kind = rng.below(100);
        let sentence = match kind {
            0..=2 => r#"{"principal":"exempt"}"#.to_owned(),
            3..=7 => format!(
                r#"{{"principal":"supplementary_only","fine_yuan":{}}}"#,
                1000 + rng.below(20) * 500
            ),
            8..=10 => format!(
                r#"{{"principal":"public_surveillance","months":{}}}"#,
                3 + rng.below(22)
            ),
            11..=45 => {
                let months = 1 + rng.below(6);
                if rng.below(3) == 0 {
                    format!(
                        r#"{{"principal":"criminal_detention","months":{months},"probation_months":{},"fine_yuan":2000}}"#,
                        months.max(2)
                    )
                } else {
                    format!(
                        r#"{{"principal":"criminal_detention","months":{months},"fine_yuan":2000}}"#
                    )
                }
            }
            _ => {
                let months = 6 + rng.below(if kind > 95 { 174 } else { 42 });
                if months <= 36 && rng.below(3) == 0 {
                    format!(
                        r#"{{"principal":"fixed_term","months":{months},"probation_months":{}}}"#,
                        months.max(12)
                    )
                } else {
                    format!(
                        r#"{{"principal":"fixed_term","months":{months},"fine_yuan":{}}}"#,
                        rng.below(50) * 1000
                    )
                }
            }
        };
        let prior = if rng.below(10) < 8 {
            0
        } else {
            1 + rng.below(3)
        };
        let completed = effective + 30 + rng.below(900);
        let disposition = rng.below(100);
        let line = if disposition < 85 {
            format!(
                r#"{{"record_id":"B-{i:08}","case_code":"110105-2024-{i:08}","person":{{"name":"测试","birth_date":"{}"}},"offence_date":"{}","charges":[{{"name":"{charge}"}}],"disposition":"convicted","disposition_date":"{}","sentence":{sentence},"judgment_effective_date":"{}","execution_completed_date":"{}","recidivist":false,"prior_convictions":{prior},"conditions":{{"civil_compensation_fulfilled":null,"victim_forgiveness":null,"plea":true}}}}"#,
                date(birth),
                date(offence),
                date(judged),
                date(effective),
                date(completed)
            )
        } else {
            let what =
                ["not_prosecuted", "case_withdrawn", "acquitted", "open"][rng.below(4) as usize];
            let when = if what == "open" {
                String::new()
            } else {
                format!(r#","disposition_date":"{}""#, date(judged))
            };
            format!(
                r#"{{"record_id":"B-{i:08}","person":{{"birth_date":"{}"}},"offence_date":"{}","charges":[{{"name":"{charge}"}}],"disposition":"{what}"{when}}}"#,
                date(birth),
                date(offence)
            )
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}
