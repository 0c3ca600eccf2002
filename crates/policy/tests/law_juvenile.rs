//! Issue 14, decisions 3 and 4, read as a criminal lawyer reads them: acts that straddle the 18th
//! birthday, and a sealed juvenile prior against "first offender". Each row is worked out by hand
//! from the article it cites (docs/law.md), never computed by the engine.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Date, parse_record};
use fengcun_policy::{Outcome, Policy, evaluate, presets};
use serde_json::{Value, json};

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

fn record(facts: &Value) -> fengcun_domain::Record {
    parse_record(&serde_json::to_vec(facts).expect("json")).expect("valid facts")
}

/// 《关于未成年人犯罪记录封存的实施办法》(2022) art. 4(2): acts committed before and after the 18th
/// birthday, judged as one crime or together, whose main conduct came before it, are sealed as a
/// whole case. The person was born 2006-01-01; the offence date (the last act) is 2024-03-05, at
/// 18 years and 2 months: by the offence date alone an adult. Four years of 有期徒刑 for theft is
/// within the juvenile threshold (five years or less, CPL art. 286), so only the age decides.
#[test]
fn acts_straddling_the_18th_birthday_follow_the_main_conduct() {
    let juvenile = presets::get("cn-juvenile").expect("preset");
    let facts = |main: Option<bool>| {
        let mut facts = json!({
            "record_id": "R-1",
            "person": {"birth_date": "2006-01-01"},
            "offence_date": "2024-03-05",
            "charges": [{"name": "盗窃罪"}],
            "disposition": "convicted",
            "disposition_date": "2024-09-01",
            "sentence": {"principal": "fixed_term", "months": 48},
            "judgment_effective_date": "2024-09-12",
            "recidivist": false,
            "prior_convictions": 0
        });
        if let Some(main) = main {
            facts["main_conduct_under_18"] = json!(main);
        }
        record(&facts)
    };
    // (main_conduct_under_18, outcome, first failed rule, sealed from)
    type Row = (
        Option<bool>,
        Outcome,
        Option<&'static str>,
        Option<&'static str>,
    );
    let rows: [Row; 3] = [
        // The main conduct before 18: the juvenile rules apply, sealed when the judgment took effect.
        (Some(true), Outcome::Seal, None, Some("2024-09-12")),
        // Nothing said of the main conduct: the offence date decides, an adult.
        (
            None,
            Outcome::NotEligible,
            Some("juvenile_at_offence"),
            None,
        ),
        // Said not to be before 18: an adult.
        (
            Some(false),
            Outcome::NotEligible,
            Some("juvenile_at_offence"),
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (main, outcome, failed, date) in rows {
        let decision = evaluate(juvenile, &facts(main), d("2026-11-26"));
        let got = (
            decision.outcome,
            decision.first_failed_rule(juvenile),
            decision.effective_date,
        );
        let expected = (outcome, failed, date.map(d));
        if got != expected {
            failures.push(format!(
                "main_conduct_under_18 {main:?}: {got:?}, expected {expected:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Under 18 at the offence date, the fact changes nothing; and the juvenile rule cites the article.
#[test]
fn the_main_conduct_rule_cites_the_measures_and_leaves_juveniles_juvenile() {
    let juvenile = presets::get("cn-juvenile").expect("preset");
    let rule = juvenile
        .rules
        .iter()
        .find(|r| r.id == "juvenile_at_offence")
        .expect("rule");
    assert!(
        rule.basis.contains("第四条第二款") && rule.basis.contains("主要犯罪行为"),
        "{}",
        rule.basis
    );
    for main in [json!(true), json!(false), Value::Null] {
        let facts = json!({
            "record_id": "R-2",
            "person": {"birth_date": "2006-01-01"},
            "offence_date": "2023-11-05",
            "charges": [{"name": "盗窃罪"}],
            "disposition": "convicted",
            "disposition_date": "2024-09-01",
            "sentence": {"principal": "fixed_term", "months": 48},
            "judgment_effective_date": "2024-09-12",
            "main_conduct_under_18": main,
        });
        let decision = evaluate(juvenile, &record(&facts), d("2026-11-26"));
        assert_eq!(decision.outcome, Outcome::Seal, "main conduct {main}");
    }
}

/// The report's option 1 with its first-offender rule setting sealed juvenile priors aside: the
/// alternative docs/law.md describes (Criminal Law art. 100(2) and art. 65), not a shipped preset.
fn option_1_setting_sealed_juvenile_priors_aside() -> Policy {
    let opt1 = presets::get("cn-minor-opt1").expect("preset");
    let original = "require = { first_offender = true }";
    assert!(opt1.source_text.contains(original));
    let text = opt1
        .source_text
        .replace(
            "name = \"cn-minor-opt1\"",
            "name = \"cn-minor-opt1-juvenile-priors-aside\"",
        )
        .replace(
            original,
            "require = { first_offender = { ignore_sealed_juvenile_priors = true } }",
        );
    Policy::from_toml("cn-minor-opt1-juvenile-priors-aside.toml", &text).expect("policy")
}

/// Art. 100(2): a person sentenced to five years or less for a crime committed under 18 need not
/// report it; art. 65: a crime committed under 18 makes no recidivist. The report's presets keep
/// counting every prior (限于初犯); a policy may set sealed juvenile priors aside. An adult theft
/// of six months, otherwise minor under option 1; only the first-offender rule decides.
#[test]
fn a_sealed_juvenile_prior_and_the_first_offender_rule() {
    let opt1 = presets::get("cn-minor-opt1").expect("preset");
    let aside = option_1_setting_sealed_juvenile_priors_aside();
    let facts = |prior: u32, sealed: u32| {
        record(&json!({
            "record_id": "R-3",
            "person": {"birth_date": "1998-04-01"},
            "offence_date": "2024-03-05",
            "charges": [{"name": "盗窃罪"}],
            "disposition": "convicted",
            "disposition_date": "2024-09-01",
            "sentence": {"principal": "fixed_term", "months": 6},
            "judgment_effective_date": "2024-09-12",
            "recidivist": false,
            "prior_convictions": prior,
            "sealed_juvenile_priors": sealed
        }))
    };
    // (policy, prior convictions, of which sealed juvenile ones, outcome, first failed rule)
    let rows: [(&Policy, u32, u32, Outcome, Option<&str>); 6] = [
        // One prior, a sealed juvenile record: not a first offender as the report counts.
        (opt1, 1, 1, Outcome::NotEligible, Some("first_offender")),
        // … a first offender when sealed juvenile priors are set aside.
        (&aside, 1, 1, Outcome::Seal, None),
        // One adult prior: not a first offender under either.
        (opt1, 1, 0, Outcome::NotEligible, Some("first_offender")),
        (&aside, 1, 0, Outcome::NotEligible, Some("first_offender")),
        // A sealed juvenile prior and an adult one: the adult one counts under either.
        (&aside, 2, 1, Outcome::NotEligible, Some("first_offender")),
        // No prior at all: a first offender under either.
        (&aside, 0, 0, Outcome::Seal, None),
    ];
    let mut failures = Vec::new();
    for (policy, prior, sealed, outcome, failed) in rows {
        let decision = evaluate(policy, &facts(prior, sealed), d("2026-11-26"));
        let got = (decision.outcome, decision.first_failed_rule(policy));
        if got != (outcome, failed) {
            failures.push(format!(
                "{} with {prior} prior(s), {sealed} sealed juvenile: {got:?}, expected {:?}",
                policy.name(),
                (outcome, failed)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A discretionary non-prosecution with no prior conviction is a first offender under the option
/// as under the report's count: a record without a conviction is never a recidivist's (art. 65),
/// so it needs no recidivism finding.
#[test]
fn a_non_prosecution_is_a_first_offender_under_the_option_too() {
    let opt1 = presets::get("cn-minor-opt1").expect("preset");
    let aside = option_1_setting_sealed_juvenile_priors_aside();
    let record = record(&json!({
        "record_id": "R-5",
        "person": {"birth_date": "1998-04-01"},
        "offence_date": "2024-03-05",
        "charges": [{"name": "盗窃罪"}],
        "disposition": "not_prosecuted",
        "non_prosecution_ground": "discretionary",
        "disposition_date": "2024-09-01",
        "prior_convictions": 0
    }));
    for policy in [opt1, &aside] {
        let decision = evaluate(policy, &record, d("2026-11-26"));
        assert_eq!(decision.outcome, Outcome::Seal, "{}", policy.name());
    }
}

/// Setting sealed juvenile priors aside needs to know how many there are: with priors and the
/// number unknown, the decision waits for the fact, named.
#[test]
fn setting_juvenile_priors_aside_needs_their_number() {
    let aside = option_1_setting_sealed_juvenile_priors_aside();
    let facts = json!({
        "record_id": "R-4",
        "offence_date": "2024-03-05",
        "charges": [{"name": "盗窃罪"}],
        "disposition": "convicted",
        "disposition_date": "2024-09-01",
        "sentence": {"principal": "fixed_term", "months": 6},
        "judgment_effective_date": "2024-09-12",
        "recidivist": false,
        "prior_convictions": 1
    });
    let record = record(&facts);
    let decision = evaluate(&aside, &record, d("2026-11-26"));
    assert_eq!(decision.outcome, Outcome::NeedsFacts);
    let view = decision.view(&aside, &record);
    let reason = view
        .reasons
        .iter()
        .find(|r| r.rule == "first_offender")
        .expect("reason");
    assert_eq!(reason.missing, vec!["sealed_juvenile_priors"]);
}

/// The two options are checked when a policy loads, with the field named: `main_conduct` speaks of
/// the 18th birthday at the offence only; `first_offender` takes true, false or its known options.
#[test]
fn the_options_are_checked_when_a_policy_loads() {
    let policy = |require: &str| {
        format!(
            r#"[policy]
name = "test"
version = "1"
title = "测试"
jurisdiction = "CN"
source = "test"

[[rule]]
id = "check"
title = "测试"
basis = "test basis"
require = {require}
holds = "符合"
fails = "不符合"

[[timing]]
id = "on_effective"
basis = "test basis"
anchor = "judgment_effective"
text = "生效即封存"
"#
        )
    };
    let load = |require: &str| Policy::from_toml("test.toml", &policy(require));
    for good in [
        r#"{ age_under = { years = 18, at = "offence", main_conduct = true } }"#,
        r#"{ first_offender = false }"#,
        r#"{ first_offender = { ignore_sealed_juvenile_priors = true } }"#,
        r#"{ first_offender = { value = false, ignore_sealed_juvenile_priors = true } }"#,
    ] {
        load(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    let refused = [
        (
            r#"{ age_under = { years = 16, at = "offence", main_conduct = true } }"#,
            "rule[0].require.age_under.main_conduct",
        ),
        (
            r#"{ age_under = { years = 18, at = "conviction", main_conduct = true } }"#,
            "rule[0].require.age_under.main_conduct",
        ),
        (
            r#"{ first_offender = { ignore_juvenile = true } }"#,
            "rule[0].require.first_offender.ignore_juvenile",
        ),
        (
            r#"{ first_offender = { ignore_sealed_juvenile_priors = "yes" } }"#,
            "rule[0].require.first_offender.ignore_sealed_juvenile_priors",
        ),
        (
            r#"{ first_offender = 1 }"#,
            "rule[0].require.first_offender",
        ),
    ];
    for (require, field) in refused {
        let error = load(require).expect_err(require);
        assert_eq!(error.field, field, "{require}: {error}");
    }
}
