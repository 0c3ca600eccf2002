#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_domain::{Catalogue, Date, RecordParser};
use fengcun_policy::{evaluate, presets};
use fengcun_simulate::{Comparison, outcomes, run};
use fengcun_synth::{Config, generate};

fn synth(records: u64, seed: u64) -> Vec<u8> {
    let mut facts = Vec::new();
    let config = Config {
        records,
        seed,
        violations_per_mille: 0,
    };
    generate(config, &mut facts, None, &mut |_| {}).unwrap();
    facts
}

/// Lines the scanner must leave to the domain parser, good and bad.
const ODD_LINES: &str = r#"{"record_id":"X-1","disposition":"convicted","charges":[{"name":"盗窃"}],"sentence":{"principal":"fixed_term","months":7},"recidivist":false,"prior_convictions":0,"offence_date":"2023-01-01","disposition_date":"2023-05-01","judgment_effective_date":"2023-05-12"}
{ "record_id" : "X-2\u0041", "disposition" : "convicted", "charges" : [ {"name":"危险驾驶罪"} ], "sentence" : {"principal":"criminal_detention","months":2}, "recidivist" : null, "prior_convictions" : 0, "person": {"birth_date": "2000-02-29"}, "offence_date": "2018-03-01" }
{"record_id":"X-3","disposition":"convicted","charges":[{"name":"危险驾驶罪"}],"sentence":{"principal":"criminal_detention","months":7}}
{"record_id":"X-4","disposition":"not_prosecuted","ground":"discretionary","disposition_date":"2024-01-01","charges":[{"name":"诈骗罪"}]}
{"record_id":"X-5","disposition":"convicted","charges":[{"name":"不存在罪"}],"sentence":{"principal":"exempt"}}

{"record_id":"X-6","disposition":"convicted","charges":[{"name":"交通肇事罪"}],"sentence":{"principal":"fixed_term","months":30,"probation_months":36},"recidivist":false,"prior_convictions":0,"disposition_date":"2024-12-01","judgment_effective_date":"2024-12-12","execution_completed_date":"2027-12-12","flags":["x"]}
{"record_id":"X-7","disposition":"convicted","charges":[{"name":"盗窃罪"}],"sentence":{"principal":"fixed_term","months":20},"recidivist":false,"prior_convictions":0,"disposition_date":"2020-12-01","judgment_effective_date":"2020-12-12","execution_completed_date":"2022-06-01"}
{"record_id":"X-8","disposition":"open","extra":1}
not json
"#;

/// Checks, line by line, that the simulator's outcome under every policy is `fengcun evaluate`'s
/// (the domain parser, then `fengcun_policy::evaluate`), and that its errors are the parser's.
/// Returns the outcome codes seen.
fn assert_decides_as_evaluate(
    input: &[u8],
    as_of: Date,
) -> std::collections::BTreeSet<&'static str> {
    let policies = presets::all();
    let parser = RecordParser::new(Catalogue::builtin());
    let decided = outcomes(policies, as_of, input);
    let lines: Vec<&[u8]> = input.split_inclusive(|b| *b == b'\n').collect();
    let non_blank = lines
        .iter()
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(decided.len(), non_blank);
    let mut seen_outcomes = std::collections::BTreeSet::new();
    for (line_no, result) in &decided {
        let line = lines[(*line_no - 1) as usize];
        match (parser.parse(line), result) {
            (Ok(record), Ok(ours)) => {
                for (policy, ours) in policies.iter().zip(ours) {
                    let theirs = evaluate(policy, &record, as_of).outcome;
                    assert_eq!(
                        *ours,
                        theirs,
                        "line {line_no} {} as of {as_of}: {}",
                        policy.name(),
                        String::from_utf8_lossy(line)
                    );
                    seen_outcomes.insert(theirs.code());
                }
            }
            (Err(expected), Err(got)) => {
                assert_eq!(got.line, *line_no);
                assert_eq!(got.error.to_string(), expected.to_string());
            }
            (expected, got) => panic!(
                "line {line_no}: parser {expected:?}, simulator {got:?}: {}",
                String::from_utf8_lossy(line)
            ),
        }
    }
    seen_outcomes
}

/// Lines that differ only by `main_conduct_under_18` or `sealed_juvenile_priors` (issue 14), one
/// after the other so that a key missing either fact would give the second line the first one's
/// verdict: each is decided as `fengcun evaluate` decides it, under the presets and under option 1
/// with sealed juvenile priors set aside; a line whose sealed priors outnumber its priors is refused
/// as the parser refuses it.
#[test]
fn straddling_acts_and_sealed_juvenile_priors_are_decided_as_evaluate_does() {
    let opt1 = presets::get("cn-minor-opt1").unwrap();
    let aside = fengcun_policy::Policy::from_toml(
        "aside.toml",
        &opt1
            .source_text
            .replace("name = \"cn-minor-opt1\"", "name = \"aside\"")
            .replace(
                "require = { first_offender = true }",
                "require = { first_offender = { ignore_sealed_juvenile_priors = true } }",
            ),
    )
    .unwrap();
    let mut policies: Vec<fengcun_policy::Policy> = presets::all().to_vec();
    policies.push(aside);
    let line = |id: &str, extra: &str| {
        format!(
            r#"{{"record_id":"{id}","person":{{"birth_date":"2006-01-01"}},"offence_date":"2024-03-05","charges":[{{"name":"盗窃罪"}}],"disposition":"convicted","disposition_date":"2024-09-01","sentence":{{"principal":"fixed_term","months":10}},"judgment_effective_date":"2024-09-12","recidivist":false{extra}}}"#
        )
    };
    let lines = [
        line("S-1", r#","prior_convictions":0"#),
        line(
            "S-2",
            r#","prior_convictions":0,"main_conduct_under_18":true"#,
        ),
        line(
            "S-3",
            r#","prior_convictions":0,"main_conduct_under_18":false"#,
        ),
        line(
            "S-4",
            r#","prior_convictions":1,"sealed_juvenile_priors":0"#,
        ),
        line(
            "S-5",
            r#","prior_convictions":1,"sealed_juvenile_priors":1"#,
        ),
        line("S-6", r#","prior_convictions":1"#),
        line(
            "S-7",
            r#","prior_convictions":2,"sealed_juvenile_priors":1"#,
        ),
        line(
            "S-8",
            r#","prior_convictions":1,"sealed_juvenile_priors":2"#,
        ),
        line("S-9", r#","sealed_juvenile_priors":0"#),
    ];
    let input = lines.join("\n") + "\n";
    let as_of = Date::constant(2026, 11, 26);
    let parser = RecordParser::new(Catalogue::builtin());
    let decided = outcomes(&policies, as_of, input.as_bytes());
    assert_eq!(decided.len(), lines.len());
    let mut outcomes_seen = std::collections::BTreeSet::new();
    for ((line_no, result), line) in decided.iter().zip(&lines) {
        match (parser.parse(line.as_bytes()), result) {
            (Ok(record), Ok(ours)) => {
                for (policy, ours) in policies.iter().zip(ours) {
                    let theirs = evaluate(policy, &record, as_of).outcome;
                    assert_eq!(*ours, theirs, "line {line_no} {}: {line}", policy.name());
                    outcomes_seen.insert((policy.name().to_owned(), theirs.code()));
                }
            }
            (Err(expected), Err(got)) => {
                assert_eq!(got.error.to_string(), expected.to_string())
            }
            (expected, got) => panic!("line {line_no}: parser {expected:?}, simulator {got:?}"),
        }
    }
    // The facts made a difference: the juvenile preset both sealed and refused, the policy
    // setting juvenile priors aside both sealed and refused a line with priors.
    for (policy, outcome) in [
        ("cn-juvenile", "seal"),
        ("cn-juvenile", "not_eligible"),
        ("aside", "seal"),
        ("aside", "not_eligible"),
        ("aside", "needs_facts"),
    ] {
        assert!(
            outcomes_seen.contains(&(policy.to_owned(), outcome)),
            "{policy} {outcome}"
        );
    }
}

#[test]
fn the_simulator_decides_every_line_as_evaluate_does() {
    // 100,000 synthetic records × every shipped policy × two dates: the scanner, the memo (keys
    // bucketed and packed) and the per-record timing against the policy engine itself.
    let mut input = synth(100_000, 11);
    input.extend_from_slice(ODD_LINES.as_bytes());
    for as_of in [Date::constant(2023, 6, 30), Date::constant(2026, 11, 26)] {
        let seen_outcomes = assert_decides_as_evaluate(&input, as_of);
        // The data must exercise every outcome, or the comparison proves little.
        assert_eq!(seen_outcomes.len(), 4, "{seen_outcomes:?}");
    }
}

/// A small deterministic generator (xorshift64*), so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Changes a line the way another exporter or a careless one would: white space, escapes,
/// other spellings of a charge, values replaced (by null, other numbers, other strings), keys
/// repeated or unknown, a byte dropped, replaced (by JSON syntax, a digit, a control character,
/// half of a Chinese character), doubled or moved.
fn mutate(line: &[u8], rng: &mut Rng) -> Vec<u8> {
    const BYTES: &[u8] = b"\"\\{}[],: 0159-aXn\t\r\x01\x7f\xff\xe4\xb8";
    const VALUES: &[&str] = &[
        "null",
        "1.5",
        "-1",
        "007",
        "0",
        "12",
        "37",
        "99999999999",
        "1e3",
        "true",
        "false",
        "\"\"",
        "\" \"",
        "{}",
        "[]",
        "\"2024-02-30\"",
        "\"2024-2-3\"",
        "\"2019-06-30\"",
        "\"fixed_term\"",
        "\"criminal_detention\"",
        "\"exempt\"",
        "\"negligent\"",
        "\"statutory\"",
        "\"264\"",
        "\"A\\u0041\"",
        "\"盗窃\"",
        "\"盗窃罪\"",
        "\"危险驾驶罪\"",
        "\"帮助信息网络犯罪活动\"",
        "\"组织他人偷越国(边)境罪\"",
        "\"\u{3000}\"",
    ];
    const FIELDS: &[&str] = &[
        "\"name\":\"x\",",
        "\"record_id\":\"again\",",
        "\"ground\":\"statutory\",",
        "\"flags\":[],",
        "\"source\":null,",
        "\"extra\":1,",
        "\"conditions\":null,",
        "\"recidivist\":true,",
    ];
    let mut out = line.to_vec();
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    let at = rng.below(out.len().max(1));
    let after = |out: &[u8], set: &[u8]| (at..out.len()).find(|i| set.contains(&out[*i]));
    match rng.below(14) {
        // Unchanged, or valid JSON in another layout.
        9 | 10 => {}
        11 => {
            let key = b"\"record_id\":\"";
            if let Some(i) = out.windows(key.len()).position(|w| w == key) {
                let escape = [br"\u0041".as_slice(), br"\/", br"\u4e00"][rng.below(3)];
                out.splice(i + key.len()..i + key.len(), escape.iter().copied());
            }
        }
        12 => {
            let end = out.len().saturating_sub(1);
            let field = [br#","flags":["x"]"#.as_slice(), br#","source":{"a":1}"#][rng.below(2)];
            out.splice(end..end, field.iter().copied());
        }
        0 => {
            if let Some(i) = after(&out, b",:{[") {
                out.insert(i + 1, if rng.below(2) == 0 { b' ' } else { b'\t' });
            }
        }
        1 => {
            if let Some(i) = after(&out, b"{") {
                let field = FIELDS[rng.below(FIELDS.len())].as_bytes();
                out.splice(i + 1..i + 1, field.iter().copied());
            }
        }
        // A value replaced.
        2..=4 => {
            if let Some(i) = after(&out, b":") {
                let end = (i + 1..out.len())
                    .find(|j| matches!(out[*j], b',' | b'}' | b']'))
                    .unwrap_or(out.len());
                let value = VALUES[rng.below(VALUES.len())].as_bytes();
                out.splice(i + 1..end, value.iter().copied());
            }
        }
        // A digit changed: dates, identity numbers, months, counts.
        5 | 6 => {
            if let Some(i) = (at..out.len()).find(|i| out[*i].is_ascii_digit()) {
                out[i] = b'0' + rng.below(10) as u8;
            }
        }
        // Damage.
        7 if !out.is_empty() => {
            out.remove(at);
        }
        8 if !out.is_empty() => out[at] = BYTES[rng.below(BYTES.len())],
        _ if at + 1 < out.len() => out.swap(at, at + 1),
        _ => {}
    }
    out.push(b'\n');
    out
}

#[test]
fn damaged_lines_are_decided_or_refused_as_evaluate_does() {
    let clean = synth(10_000, 3);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut input = Vec::new();
    for line in clean.split_inclusive(|b| *b == b'\n') {
        for _ in 0..5 {
            input.extend_from_slice(&mutate(line, &mut rng));
        }
    }
    assert_decides_as_evaluate(&input, Date::constant(2025, 6, 30));
    // Both kinds must be common, or the test proves little: lines the simulator reads (most by
    // the scanner) and lines it refuses.
    let policies = presets::all();
    let run = run(
        policies,
        Date::constant(2025, 6, 30),
        &mut input.as_slice(),
        2,
        &mut |_| {},
    )
    .unwrap();
    let refused = run.errors.len() as u64;
    eprintln!(
        "{} lines: {refused} refused, {} read by the parser, the rest by the scanner",
        run.lines, run.slow_lines
    );
    assert!(
        refused > run.lines / 5 && refused < run.lines * 4 / 5,
        "{refused} of {}",
        run.lines
    );
    assert!(run.slow_lines > run.lines / 50, "{}", run.slow_lines);
    assert!(run.lines - refused - run.slow_lines > run.lines / 5);
}

#[test]
fn two_threads_and_small_reads_give_the_same_comparison_as_one() {
    let input = synth(20_000, 5);
    let policies = presets::all();
    let as_of = Date::constant(2025, 6, 30);
    let one = run(policies, as_of, &mut input.as_slice(), 1, &mut |_| {}).unwrap();
    let two = run(policies, as_of, &mut input.as_slice(), 2, &mut |_| {}).unwrap();
    let a = serde_json::to_string(&Comparison::new(policies, as_of, &one)).unwrap();
    let b = serde_json::to_string(&Comparison::new(policies, as_of, &two)).unwrap();
    assert_eq!(a, b);
    assert_eq!(one.lines, 20_000);
    // Per policy, the records sealed are those `outcomes` finds eligible.
    let decided = outcomes(policies, as_of, &input);
    let comparison = Comparison::new(policies, as_of, &two);
    for (p, summary) in comparison.policies.iter().enumerate() {
        let eligible = decided
            .iter()
            .filter(|(_, r)| r.as_ref().is_ok_and(|o| o[p].is_eligible()))
            .count() as u64;
        assert_eq!(
            summary.sealed + summary.non_conviction_sealed,
            eligible,
            "{}",
            summary.name
        );
    }
}

/// The report's figures (share of people sentenced whose record could be sealed).
const REPORT: [(&str, f64); 4] = [
    ("cn-minor-opt1", 60.0),
    ("cn-minor-opt2", 58.0),
    ("cn-minor-opt3", 16.1),
    ("cn-pilot-light-penalty", 15.61),
];

#[test]
fn a_synthetic_nation_reproduces_the_reports_figures() {
    let input = synth(200_000, 2024);
    let policies: Vec<_> = REPORT
        .iter()
        .map(|(name, _)| presets::get(name).unwrap().clone())
        .collect();
    let as_of = Date::constant(2025, 6, 30);
    let result = run(&policies, as_of, &mut input.as_slice(), 2, &mut |_| {}).unwrap();
    assert!(result.errors.is_empty());
    let comparison = Comparison::new(&policies, as_of, &result);
    for ((name, figure), summary) in REPORT.iter().zip(&comparison.policies) {
        eprintln!(
            "{name}: simulated {:.2} %, report {figure} %; non-conviction records sealed {} of {}, needs facts {}",
            summary.share,
            summary.non_conviction_sealed,
            summary.non_conviction,
            summary.needs_facts
        );
        assert!(
            (summary.share - figure).abs() <= 2.0,
            "{name}: simulated {:.2} %, report {figure} %",
            summary.share
        );
    }
    // Option 1 is "above 60 %" in the report.
    assert!(comparison.policies[0].share > 60.0);
}

fn contains(line: &[u8], what: &[u8]) -> bool {
    line.windows(what.len()).any(|w| w == what)
}

/// Issue 18: a synthetic nation with violation records in the documented share. Every line is
/// decided as `fengcun evaluate` decides it, and the comparison counts the two kinds apart: a
/// criminal preset decides no violation record (out of its scope), the violation preset no
/// criminal one, and the violation counts are those `outcomes` finds line by line.
#[test]
fn violation_records_are_decided_as_evaluate_does_and_reported_apart() {
    let mut input = Vec::new();
    generate(Config::new(8_000, 18), &mut input, None, &mut |_| {}).unwrap();
    let violation_lines = input
        .split(|b| *b == b'\n')
        .filter(|l| contains(l, b"\"kind\":\"public_security_violation\""))
        .count() as u64;
    assert!(violation_lines > 5_000, "{violation_lines}");
    let as_of = Date::constant(2026, 11, 26);
    assert_decides_as_evaluate(&input, as_of);
    let policies: Vec<_> = ["cn-minor-opt1", "cn-public-security-violation"]
        .iter()
        .map(|name| presets::get(name).unwrap().clone())
        .collect();
    let result = run(&policies, as_of, &mut input.as_slice(), 2, &mut |_| {}).unwrap();
    assert!(result.errors.is_empty());
    let comparison = Comparison::new(&policies, as_of, &result);
    assert_eq!(comparison.violation_records, violation_lines);
    assert_eq!(
        comparison.criminal_records + comparison.violation_records,
        8_000
    );
    // Line by line: the violation preset seals every violation record the simulator reads, the
    // criminal preset none (out of its scope), and the reverse for criminal records.
    let decided = outcomes(&policies, as_of, &input);
    let lines: Vec<&[u8]> = input.split_inclusive(|b| *b == b'\n').collect();
    let (mut sealed, mut sealed_criminal_by_violation_policy, mut convicted) = (0u64, 0u64, 0u64);
    for (line_no, result) in &decided {
        let line = lines[(*line_no - 1) as usize];
        let o = result.as_ref().unwrap();
        if contains(line, b"\"kind\":\"public_security_violation\"") {
            assert!(!o[0].is_eligible(), "criminal preset on a violation line");
            sealed += u64::from(o[1].is_eligible());
        } else {
            sealed_criminal_by_violation_policy += u64::from(o[1].is_eligible());
            convicted += u64::from(contains(line, b"\"disposition\":\"convicted\""));
        }
    }
    assert_eq!(sealed_criminal_by_violation_policy, 0);
    let [criminal, violation] = &comparison.violations[..] else {
        panic!("{:?}", comparison.violations)
    };
    assert!(!criminal.in_scope && criminal.sealed == 0);
    assert!(violation.in_scope);
    assert_eq!(violation.sealed, sealed);
    // Art. 136 seals every violation record (decided, or open and sealed when it takes effect).
    assert_eq!(violation.sealed, violation_lines);
    let by_disposition: u64 = comparison
        .violations_by_disposition
        .iter()
        .map(|r| r.records)
        .sum();
    assert_eq!(by_disposition, violation_lines);
    // The criminal side: the convicted are criminal records only, and the violation preset
    // decides none of them.
    assert_eq!(comparison.convicted, convicted);
    assert_eq!(comparison.policies[0].convicted, convicted);
    assert_eq!(comparison.policies[1].convicted, 0);
    assert!(comparison.differences.is_empty());
    let text = comparison.text(5);
    assert!(
        text.contains("六、治安违法记录")
            && text.contains(&format!("治安违法记录 {violation_lines} 条"))
            && text.contains("cn-minor-opt1                不适用：治安违法记录不在本政策范围内"),
        "{text}"
    );
    // The by-charge table names its columns: the policies whose shares stand under them.
    let by_charge = &text[text.find("三、按罪名").expect("section 三")..];
    let header = by_charge.lines().nth(1).expect("a header line");
    assert!(
        header.starts_with("罪名")
            && header.contains("有罪判决")
            && header.contains("cn-minor-opt1")
            && header.contains("cn-public-security-violation"),
        "{by_charge}"
    );
    let csv = comparison.csv();
    let (_, violations_csv) = csv.iter().find(|(f, _)| *f == "violations.csv").unwrap();
    assert!(
        violations_csv.contains(&format!(
            "cn-public-security-violation,true,{violation_lines},{violation_lines},100.0000,"
        )),
        "{violations_csv}"
    );
    assert!(comparison.svg().contains("治安违法记录（另计）"));
    // A policy has bars only where it decides: the violation policy in the violation group
    // alone, each criminal policy in every group but that one (not bars of 0 %); the table says
    // 不适用 where the violation policy meets criminal bands and charges.
    let svg = comparison.svg();
    let groups = comparison.by_band.len() + 1;
    for (p, v) in comparison.policies.iter().zip(&comparison.violations) {
        let bars = svg.matches(&format!("<title>{}：", p.name)).count();
        assert_eq!(bars, if v.in_scope { 1 } else { groups }, "{}", p.name);
    }
    let text = comparison.text(5);
    let band_lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("二、"))
        .skip(2)
        .take(comparison.by_band.len())
        .collect();
    assert!(band_lines.iter().all(|l| l.contains("不适用")), "{text}");
    // The console's English switch: the chart's own words in English, the bands too; only the
    // policies' titles (their own words) stay as written.
    let english = comparison.svg_in(fengcun_simulate::report::ChartLang::En);
    for words in [
        "What each policy would seal, by sentence band",
        "All convictions",
        "Violation records (apart)",
        "Over 1 year, up to 3 years",
    ] {
        assert!(english.contains(words), "{words}");
    }
    for chinese in [
        "全部有罪判决",
        "治安违法记录（另计）",
        "超过一年不超过三年",
        "有罪判决",
    ] {
        assert!(!english.contains(chinese), "{chinese}");
    }
}

/// Worked example: four convictions under option 1 (intentional crimes of one year or less,
/// first offenders) with the juvenile statute beside it (CPL art. 286: under 18 at the offence,
/// five years or less). Option 1 alone seals the adult's six months and the minor's six months;
/// the platform also seals the minor's three years, by the statute; nobody seals the minor's six
/// years. Expected figures worked out by hand from the two policies' rules.
#[test]
fn each_option_is_counted_beside_the_juvenile_statute_as_the_platform_decides() {
    let line = |id: &str, born: &str, months: u32| {
        format!(
            r#"{{"record_id":"{id}","disposition":"convicted","charges":[{{"name":"盗窃罪"}}],"sentence":{{"principal":"fixed_term","months":{months}}},"recidivist":false,"prior_convictions":0,"person":{{"birth_date":"{born}"}},"offence_date":"2023-03-01","disposition_date":"2023-07-20","judgment_effective_date":"2023-08-01"}}"#
        )
    };
    // (record, born, months): a minor at the offence (16) or an adult (33).
    let table = [
        ("minor-36", "2006-05-01", 36),
        ("adult-6", "1990-01-01", 6),
        ("minor-72", "2006-05-01", 72),
        ("minor-6", "2006-05-01", 6),
    ];
    let input: String = table
        .iter()
        .map(|(id, born, months)| line(id, born, *months) + "\n")
        .collect();
    let mut policies = vec![presets::get("cn-minor-opt1").unwrap().clone()];
    assert!(fengcun_simulate::add_juvenile_statute(&mut policies));
    assert_eq!(policies[1].name(), "cn-juvenile");
    let as_of = Date::constant(2025, 6, 30);
    let result = run(&policies, as_of, &mut input.as_bytes(), 1, &mut |_| {}).unwrap();
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let comparison = Comparison::new(&policies, as_of, &result);
    let (opt1, statute) = (&comparison.policies[0], &comparison.policies[1]);
    assert_eq!((opt1.convicted, opt1.sealed), (4, 2), "option 1 alone");
    assert_eq!(
        (statute.convicted, statute.sealed),
        (4, 2),
        "the statute alone"
    );
    assert_eq!(
        statute.with_statute, None,
        "the statute is not counted beside itself"
    );
    let beside = opt1
        .with_statute
        .as_ref()
        .expect("counted beside the statute");
    assert_eq!(beside.statute, "cn-juvenile");
    assert_eq!(beside.sealed, 3);
    assert_eq!(beside.sealed_now, 3);
    assert_eq!(beside.by_statute_only, 1);
    assert!((beside.share - 75.0).abs() < 1e-9, "{}", beside.share);
    // The table says so, and the CSV carries it.
    let text = comparison.text(5);
    assert!(text.contains("与cn-juvenile并行"), "{text}");
    let csv = comparison.csv();
    let policies_csv = &csv
        .iter()
        .find(|(name, _)| *name == "policies.csv")
        .unwrap()
        .1;
    let opt1_row = policies_csv
        .lines()
        .find(|l| l.starts_with("cn-minor-opt1,"))
        .unwrap();
    assert!(
        opt1_row.ends_with(",cn-juvenile,3,75.0000,3,1,0"),
        "{opt1_row}"
    );
    // A draft that only bears the statute's name is compared as a draft: nothing is added and
    // nothing counted beside it (the platform applies the shipped statute, not the draft).
    let mut draft = presets::get("cn-juvenile").unwrap().clone();
    draft.meta.version = "draft".into();
    let mut with_draft = vec![presets::get("cn-minor-opt1").unwrap().clone(), draft];
    assert!(!fengcun_simulate::add_juvenile_statute(&mut with_draft));
    assert_eq!(with_draft.len(), 2);
    let result = run(&with_draft, as_of, &mut input.as_bytes(), 1, &mut |_| {}).unwrap();
    let drafted = Comparison::new(&with_draft, as_of, &result);
    assert!(drafted.policies.iter().all(|p| p.with_statute.is_none()));
    // A foreign scheme is compared as it is: Chinese law is not applied beside it.
    let mut foreign = vec![presets::get("uk-rehabilitation-2023").unwrap().clone()];
    assert!(!fengcun_simulate::add_juvenile_statute(&mut foreign));
    foreign.push(presets::get("cn-juvenile").unwrap().clone());
    let result = run(&foreign, as_of, &mut input.as_bytes(), 1, &mut |_| {}).unwrap();
    assert_eq!(
        Comparison::new(&foreign, as_of, &result).policies[0].with_statute,
        None
    );
    // Compared alone (the statute not given), nothing is counted beside it.
    let alone = [presets::get("cn-minor-opt1").unwrap().clone()];
    let result = run(&alone, as_of, &mut input.as_bytes(), 1, &mut |_| {}).unwrap();
    assert_eq!(
        Comparison::new(&alone, as_of, &result).policies[0].with_statute,
        None
    );
}

/// On a synthetic nation, every criminal option beside the statute counts exactly what the
/// platform's own choice of deciding policy (`fengcun_lifecycle::deciding_policy`, then
/// `fengcun_policy::evaluate`) decides, record by record.
#[test]
fn counts_beside_the_statute_equal_the_platforms_deciding_policy() {
    use fengcun_domain::Disposition;
    use fengcun_policy::Outcome;
    let input = synth(30_000, 77);
    let mut policies: Vec<_> = [
        "cn-minor-opt1",
        "cn-minor-opt2",
        "cn-minor-opt3",
        "cn-pilot-light-penalty",
    ]
    .iter()
    .map(|name| presets::get(name).unwrap().clone())
    .collect();
    assert!(fengcun_simulate::add_juvenile_statute(&mut policies));
    let statute = policies.last().unwrap().clone();
    let violation = presets::get("cn-public-security-violation").unwrap();
    let as_of = Date::constant(2025, 6, 30);
    let result = run(&policies, as_of, &mut input.as_slice(), 2, &mut |_| {}).unwrap();
    assert!(result.errors.is_empty());
    let comparison = Comparison::new(&policies, as_of, &result);
    let parser = RecordParser::new(Catalogue::builtin());
    let records: Vec<_> = input
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| parser.parse(l).unwrap())
        .collect();
    let mut by_statute_somewhere = 0;
    for (policy, summary) in policies.iter().zip(&comparison.policies) {
        if policy.name() == statute.name() {
            continue;
        }
        let (mut sealed, mut sealed_now, mut only, mut non_conviction) = (0, 0, 0, 0);
        for record in &records {
            let decider = fengcun_lifecycle::deciding_policy(
                policy,
                Some(&statute),
                violation,
                record,
                as_of,
            );
            let outcome = evaluate(decider, record, as_of).outcome;
            let eligible = matches!(outcome, Outcome::Seal | Outcome::SealLater);
            match record.disposition {
                Disposition::Convicted => {
                    sealed += u64::from(eligible);
                    sealed_now += u64::from(outcome == Outcome::Seal);
                    let alone = evaluate(policy, record, as_of).outcome;
                    if eligible && !matches!(alone, Outcome::Seal | Outcome::SealLater) {
                        only += 1;
                    }
                }
                Disposition::NotProsecuted
                | Disposition::CaseWithdrawn
                | Disposition::Acquitted => non_conviction += u64::from(eligible),
                _ => {}
            }
        }
        let beside = summary.with_statute.as_ref().unwrap();
        assert_eq!(
            (
                beside.sealed,
                beside.sealed_now,
                beside.by_statute_only,
                beside.non_conviction_sealed
            ),
            (sealed, sealed_now, only, non_conviction),
            "{}",
            policy.name()
        );
        assert!(beside.sealed >= summary.sealed);
        by_statute_somewhere += only;
    }
    assert!(
        by_statute_somewhere > 0,
        "the data has minors only the statute seals"
    );
}
