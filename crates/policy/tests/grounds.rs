//! Non-conviction records and the exclusions (issue 14, decision 1), worked out by hand from the
//! articles docs/law.md cites, never computed by the engine:
//!
//! - a statutory non-prosecution (法定不起诉, CPL art. 177(1) with art. 16), one for insufficient
//!   evidence (存疑不起诉, art. 175(4)), an acquittal and a withdrawn case are sealed whatever the
//!   charge: the law treats the person as innocent;
//! - a discretionary non-prosecution (酌定不起诉, art. 177(2): the crime is established but minor)
//!   meets the excluded charges and the first-offender rule as a conviction does;
//! - a conditional non-prosecution of a minor (附条件不起诉, arts. 282–284) follows the juvenile
//!   rules (art. 286): no charge excluded, no first-offender rule;
//! - a missing ground where it matters is `needs_facts`, naming `non_prosecution_ground`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Date, parse_record};
use fengcun_policy::{Outcome, evaluate, presets};
use serde_json::{Value, json};

const DRUGS: &str = "走私、贩卖、运输、制造毒品罪";
const THEFT: &str = "盗窃罪";
const ADULT: &str = "1990-03-07";
/// Sixteen at the offence of 2024-01-10.
const MINOR: &str = "2008-01-01";

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

/// A record that ended on 2024-06-01 without a conviction (offence 2024-01-10).
fn ended(
    disposition: &str,
    ground: Option<&str>,
    charge: &str,
    birth: Option<&str>,
    prior: Option<u32>,
) -> Value {
    let mut facts = json!({
        "record_id": "R-1",
        "offence_date": "2024-01-10",
        "charges": [{"name": charge}],
        "disposition": disposition,
        "disposition_date": "2024-06-01",
    });
    if let Some(g) = ground {
        facts["non_prosecution_ground"] = json!(g);
    }
    if let Some(b) = birth {
        facts["person"] = json!({"birth_date": b});
    }
    if let Some(p) = prior {
        facts["prior_convictions"] = json!(p);
    }
    if disposition == "acquitted" {
        facts["judgment_effective_date"] = json!("2024-06-12");
    }
    facts
}

struct Row {
    what: &'static str,
    facts: Value,
    outcome: Outcome,
    /// The first rule that failed, for `not_eligible`.
    failed: Option<&'static str>,
    /// The missing facts named, for `needs_facts`.
    missing: &'static [&'static str],
}

fn rows() -> Vec<Row> {
    let row = |what, facts, outcome, failed, missing| Row {
        what,
        facts,
        outcome,
        failed,
        missing,
    };
    vec![
        // Innocent in law: sealed whatever the charge, whatever the history.
        row(
            "statutory non-prosecution, drugs",
            ended(
                "not_prosecuted",
                Some("statutory"),
                DRUGS,
                Some(ADULT),
                Some(2),
            ),
            Outcome::Seal,
            None,
            &[],
        ),
        row(
            "non-prosecution for insufficient evidence, drugs",
            ended(
                "not_prosecuted",
                Some("insufficient_evidence"),
                DRUGS,
                Some(ADULT),
                Some(2),
            ),
            Outcome::Seal,
            None,
            &[],
        ),
        row(
            "acquittal, drugs",
            ended("acquitted", None, DRUGS, Some(ADULT), Some(2)),
            Outcome::Seal,
            None,
            &[],
        ),
        row(
            "withdrawn case, drugs",
            ended("case_withdrawn", None, DRUGS, Some(ADULT), Some(2)),
            Outcome::Seal,
            None,
            &[],
        ),
        // The crime is established: as a conviction.
        row(
            "discretionary non-prosecution, drugs",
            ended(
                "not_prosecuted",
                Some("discretionary"),
                DRUGS,
                Some(ADULT),
                Some(0),
            ),
            Outcome::NotEligible,
            Some("excluded_charges"),
            &[],
        ),
        row(
            "discretionary non-prosecution, theft, one prior conviction",
            ended(
                "not_prosecuted",
                Some("discretionary"),
                THEFT,
                Some(ADULT),
                Some(1),
            ),
            Outcome::NotEligible,
            Some("first_offender"),
            &[],
        ),
        row(
            "discretionary non-prosecution, theft, first offender",
            ended(
                "not_prosecuted",
                Some("discretionary"),
                THEFT,
                Some(ADULT),
                Some(0),
            ),
            Outcome::Seal,
            None,
            &[],
        ),
        row(
            "discretionary non-prosecution, theft, history unknown",
            ended(
                "not_prosecuted",
                Some("discretionary"),
                THEFT,
                Some(ADULT),
                None,
            ),
            Outcome::NeedsFacts,
            None,
            &["prior_convictions"],
        ),
        // A minor's conditional non-prosecution: the juvenile rules exclude no charge and have no
        // first-offender rule.
        row(
            "conditional non-prosecution of a minor, drugs, one prior conviction",
            ended(
                "not_prosecuted",
                Some("conditional"),
                DRUGS,
                Some(MINOR),
                Some(1),
            ),
            Outcome::Seal,
            None,
            &[],
        ),
        row(
            "conditional non-prosecution, drugs, age unknown",
            ended("not_prosecuted", Some("conditional"), DRUGS, None, Some(0)),
            Outcome::NeedsFacts,
            None,
            &["person.birth_date"],
        ),
        // The ground missing: needed where it decides, not where it does not.
        row(
            "non-prosecution without ground, drugs",
            ended("not_prosecuted", None, DRUGS, Some(ADULT), Some(0)),
            Outcome::NeedsFacts,
            None,
            &["non_prosecution_ground"],
        ),
        row(
            "non-prosecution without ground, theft, one prior conviction",
            ended("not_prosecuted", None, THEFT, Some(ADULT), Some(1)),
            Outcome::NeedsFacts,
            None,
            &["non_prosecution_ground"],
        ),
        row(
            "non-prosecution without ground, theft, first offender",
            ended("not_prosecuted", None, THEFT, Some(ADULT), Some(0)),
            Outcome::Seal,
            None,
            &[],
        ),
    ]
}

/// Every ground × an excluded charge × the report's three options (and the tiered preset, which
/// has the same exclusions and first-offender rule).
#[test]
fn non_conviction_records_meet_the_exclusions_by_their_ground() {
    let mut failures = Vec::new();
    for name in [
        "cn-minor-opt1",
        "cn-minor-opt2",
        "cn-minor-opt3",
        "cn-minor-tiered",
    ] {
        let policy = presets::get(name).expect("preset");
        for row in rows() {
            let record = parse_record(&serde_json::to_vec(&row.facts).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", row.what));
            let decision = evaluate(policy, &record, d("2026-11-26"));
            let view = decision.view(policy, &record);
            let mut missing: Vec<&str> = view
                .reasons
                .iter()
                .flat_map(|r| r.missing.iter().copied())
                .collect();
            missing.sort_unstable();
            missing.dedup();
            let got = (
                decision.outcome,
                decision.first_failed_rule(policy),
                missing,
            );
            let expected = (row.outcome, row.failed, row.missing.to_vec());
            if got != expected {
                failures.push(format!(
                    "{name}, {}: {got:?}, expected {expected:?}",
                    row.what
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A sealed non-prosecution on a ground the exclusions do not reach is not explained as "not an
/// excluded charge": the exclusion rule is not applied to it at all, and the notice cites the
/// articles by which the ground decides.
#[test]
fn an_innocent_record_is_not_said_to_escape_an_exclusion() {
    let policy = presets::get("cn-minor-opt1").expect("preset");
    let facts = ended(
        "not_prosecuted",
        Some("statutory"),
        DRUGS,
        Some(ADULT),
        Some(0),
    );
    let record = parse_record(&serde_json::to_vec(&facts).unwrap()).unwrap();
    let decision = evaluate(policy, &record, d("2026-11-26"));
    let view = decision.view(policy, &record);
    let rules: Vec<&str> = view.reasons.iter().map(|r| r.rule).collect();
    assert_eq!(rules, ["final_disposition", "on_disposition"]);

    let facts = ended(
        "not_prosecuted",
        Some("discretionary"),
        DRUGS,
        Some(ADULT),
        Some(0),
    );
    let record = parse_record(&serde_json::to_vec(&facts).unwrap()).unwrap();
    let decision = evaluate(policy, &record, d("2026-11-26"));
    let view = decision.view(policy, &record);
    let excluded = view
        .reasons
        .iter()
        .find(|r| r.rule == "excluded_charges")
        .expect("the exclusion is applied");
    assert!(!excluded.holds);
    assert!(
        excluded.basis.contains("第一百七十七条第二款"),
        "{}",
        excluded.basis
    );
    assert!(excluded.basis.contains("第一百七十五条第四款"));
    assert!(excluded.basis.contains("第二百八十二条"));
}

/// Convictions are decided as before: the exclusions and the first-offender rule apply.
#[test]
fn a_conviction_for_an_excluded_charge_stays_excluded() {
    for name in ["cn-minor-opt1", "cn-minor-opt2", "cn-minor-opt3"] {
        let policy = presets::get(name).expect("preset");
        let facts = json!({
            "record_id": "R-2",
            "person": {"birth_date": ADULT},
            "offence_date": "2024-01-10",
            "charges": [{"name": DRUGS}],
            "disposition": "convicted",
            "disposition_date": "2024-06-01",
            "sentence": {"principal": "criminal_detention", "months": 3},
            "judgment_effective_date": "2024-06-12",
            "recidivist": false,
            "prior_convictions": 0
        });
        let record = parse_record(&serde_json::to_vec(&facts).unwrap()).unwrap();
        let decision = evaluate(policy, &record, d("2026-11-26"));
        assert_eq!(
            (decision.outcome, decision.first_failed_rule(policy)),
            (Outcome::NotEligible, Some("excluded_charges")),
            "{name}"
        );
    }
}

/// A policy names grounds by their codes; a misspelt one is an error naming the field.
#[test]
fn an_unknown_ground_in_a_policy_is_an_error() {
    let text = r#"
[policy]
name = "x"
version = "1"
title = "x"
jurisdiction = "CN"
source = "x"

[[rule]]
id = "r"
title = "r"
basis = "b"
require = { non_prosecution_ground = ["discretional"] }
holds = "h"
fails = "f"

[[timing]]
id = "t"
basis = "b"
anchor = "disposition"
text = "t"
"#;
    let error = fengcun_policy::Policy::from_toml("x.toml", text).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("rule[0].require.non_prosecution_ground"),
        "{message}"
    );
    assert!(message.contains("discretional"), "{message}");
}
