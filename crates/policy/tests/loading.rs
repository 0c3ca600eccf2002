//! Loading a policy: every shipped one loads, and a broken one is refused with line and field.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Date, parse_record};
use fengcun_policy::{Outcome, Policy, presets};

const MINIMAL: &str = r#"[policy]
name = "test"
version = "1"
title = "测试"
jurisdiction = "CN"
source = "test"

[[rule]]
id = "threshold"
title = "一年以下"
basis = "test basis"
require = { sentence_at_most = { principal = "fixed_term", months = 12 } }
holds = "符合"
fails = "不符合"

[[timing]]
id = "on_effective"
basis = "test basis"
anchor = "judgment_effective"
text = "生效即封存"
"#;

fn load(text: &str) -> Result<Policy, fengcun_policy::PolicyError> {
    Policy::from_toml("test.toml", text)
}

#[test]
fn every_shipped_policy_loads_and_cites_a_basis_for_every_rule() {
    let all = presets::load_all().expect("shipped policies load");
    assert_eq!(all.len(), presets::SOURCES.len());
    for policy in &all {
        assert!(
            policy.rules.iter().all(|r| !r.basis.trim().is_empty()),
            "{}",
            policy.name()
        );
        assert!(
            policy.timings.iter().all(|t| !t.basis.trim().is_empty()),
            "{}",
            policy.name()
        );
        assert!(!policy.timings.is_empty(), "{}", policy.name());
    }
    for name in [
        "cn-juvenile",
        "cn-minor-opt1",
        "cn-minor-opt2",
        "cn-minor-opt3",
        "cn-minor-tiered",
        "cn-pilot-dangerous-driving",
        "cn-pilot-light-penalty",
        "uk-rehabilitation-2023",
    ] {
        assert!(presets::get(name).is_some(), "missing preset {name}");
    }
}

#[test]
fn the_minimal_policy_loads() {
    let policy = load(MINIMAL).expect("loads");
    assert_eq!(policy.rules.len(), 1);
}

/// (what is broken, the edit, expected line, expected field, a word the message must contain)
#[test]
fn errors_name_the_line_and_the_field() {
    let cases: &[(&str, &str, &str, usize, &str, &str)] = &[
        ("syntax", "holds = \"符合\"", "holds = \"符合", 13, "", ""),
        (
            "unknown key",
            "holds = \"符合\"",
            "holds = \"符合\"\nhold = \"x\"",
            14,
            "",
            "hold",
        ),
        (
            "unknown kind",
            "principal = \"fixed_term\", months = 12",
            "principal = \"prison\", months = 12",
            12,
            "rule[0].require.sentence_at_most.principal",
            "prison",
        ),
        (
            "term missing",
            "principal = \"fixed_term\", months = 12",
            "principal = \"fixed_term\"",
            12,
            "rule[0].require.sentence_at_most.months",
            "months",
        ),
        (
            "no basis",
            "basis = \"test basis\"\nrequire",
            "basis = \"  \"\nrequire",
            11,
            "rule[0].basis",
            "legal basis",
        ),
        (
            "unknown anchor",
            "anchor = \"judgment_effective\"",
            "anchor = \"verdict\"",
            19,
            "timing[0].anchor",
            "verdict",
        ),
        (
            "unknown charge",
            "require = { sentence_at_most = { principal = \"fixed_term\", months = 12 } }",
            "require = { all_charges_in = [\"醉酒驾驶罪\"] }",
            12,
            "rule[0].require.all_charges_in",
            "醉酒驾驶罪",
        ),
        (
            "unknown tag",
            "require = { sentence_at_most = { principal = \"fixed_term\", months = 12 } }",
            "require = { any_charge_tagged = [\"drug\"] }",
            12,
            "rule[0].require.any_charge_tagged",
            "drug",
        ),
        (
            "empty condition",
            "require = { sentence_at_most = { principal = \"fixed_term\", months = 12 } }",
            "require = {}",
            12,
            "rule[0].require",
            "empty",
        ),
        (
            "duplicate id",
            "id = \"on_effective\"",
            "id = \"threshold\"",
            17,
            "timing[0].id",
            "threshold",
        ),
        (
            "bad date",
            "source = \"test\"",
            "source = \"test\"\neffective_from = \"2024-02-30\"",
            7,
            "policy.effective_from",
            "2024-02-30",
        ),
        (
            "empty instrument",
            "source = \"test\"",
            "source = \"test\"\ninstrument = \" \"",
            7,
            "policy.instrument",
            "legal instrument",
        ),
    ];
    for (what, from, to, line, field, word) in cases {
        assert!(MINIMAL.contains(from), "{what}: edit does not apply");
        let error = load(&MINIMAL.replacen(from, to, 1)).expect_err(what);
        assert_eq!(error.line, *line, "{what}: {error}");
        assert_eq!(error.field, *field, "{what}: {error}");
        assert!(error.to_string().contains(word), "{what}: {error}");
        assert!(
            error.to_string().starts_with(&format!("test.toml:{line}:")),
            "{what}: {error}"
        );
    }
    let no_timing = MINIMAL.split("[[timing]]").next().expect("text");
    assert_eq!(load(no_timing).expect_err("no timing").field, "timing");
}

#[test]
fn effective_from_is_a_candidate_date() {
    let policy = load(&MINIMAL.replacen(
        "source = \"test\"",
        "source = \"test\"\neffective_from = \"2027-01-01\"",
        1,
    ))
    .expect("loads");
    let record = parse_record(r#"{"record_id":"x","disposition":"convicted","charges":[{"name":"盗窃罪"}],
        "sentence":{"principal":"fixed_term","months":6},"disposition_date":"2024-03-01","judgment_effective_date":"2024-03-01"}"#.as_bytes())
        .expect("facts");
    let decision = fengcun_policy::evaluate(&policy, &record, Date::constant(2026, 1, 1));
    assert_eq!(decision.outcome, Outcome::SealLater);
    assert_eq!(decision.effective_date, Some(Date::constant(2027, 1, 1)));
    let later = fengcun_policy::evaluate(&policy, &record, Date::constant(2027, 1, 1));
    assert_eq!(later.outcome, Outcome::Seal);
}

/// A notice cites the instrument a policy is in force under, never the policy's own name: the
/// report's options say they are research or pilot options and not yet law; the juvenile preset
/// cites CPL art. 286 and the 2022 measures; a policy without the field cites its source (issue
/// 14, decision 7).
#[test]
fn presets_name_the_instrument_they_are_in_force_under() {
    for policy in presets::all() {
        let instrument = policy.meta.instrument.as_deref().unwrap_or_else(|| {
            panic!(
                "{}: every shipped policy names its instrument",
                policy.name()
            )
        });
        assert_ne!(instrument, policy.meta.title, "{}", policy.name());
        if policy.name().starts_with("cn-minor-") || policy.name().starts_with("cn-pilot-") {
            assert!(
                instrument.contains("《建立轻微犯罪记录封存制度的调研报告》")
                    && instrument.ends_with("方案，尚非有效法律文件）"),
                "{}: {instrument}",
                policy.name()
            );
        }
    }
    let juvenile = presets::get("cn-juvenile").expect("shipped");
    assert_eq!(
        juvenile.meta.instrument(),
        "《中华人民共和国刑事诉讼法》第二百八十六条、最高人民法院 最高人民检察院 公安部 司法部《关于未成年人犯罪记录封存的实施办法》（2022年）"
    );
    let without = load(MINIMAL).expect("loads");
    assert_eq!(
        (
            without.meta.instrument.as_deref(),
            without.meta.instrument()
        ),
        (None, "test")
    );
}
