#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_domain::{Catalogue, Date, RecordParser};
use fengcun_policy::{evaluate, presets};
use fengcun_simulate::{Comparison, outcomes, run};
use fengcun_synth::{Config, generate};

fn synth(records: u64, seed: u64) -> Vec<u8> {
    let mut facts = Vec::new();
    generate(Config { records, seed }, &mut facts, None, &mut |_| {}).unwrap();
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

#[test]
fn the_simulator_decides_every_line_as_evaluate_does() {
    let mut input = synth(30_000, 11);
    input.extend_from_slice(ODD_LINES.as_bytes());
    let policies = presets::all();
    let parser = RecordParser::new(Catalogue::builtin());
    for as_of in [Date::constant(2023, 6, 30), Date::constant(2026, 11, 26)] {
        let decided = outcomes(policies, as_of, &input);
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
                (expected, got) => panic!("line {line_no}: parser {expected:?}, simulator {got:?}"),
            }
        }
        // The data must exercise every outcome, or the comparison proves little.
        assert_eq!(seen_outcomes.len(), 4, "{seen_outcomes:?}");
    }
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
            "{name}: simulated {:.2} %, report {figure} %",
            summary.share
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
