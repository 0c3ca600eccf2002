//! `cn-public-security-violation` (治安管理处罚法 art. 136) and the criminal presets, on violation and
//! criminal lines: worked examples with the outcomes written by hand.
#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly")]

use fengcun_domain::{Date, Record, parse_record};
use fengcun_policy::{Outcome, Policy, evaluate, presets};
use serde_json::{Value, json};

const AS_OF: Date = Date::constant(2026, 6, 1);

fn record(v: &Value) -> Record {
    parse_record(v.to_string().as_bytes()).expect("valid facts")
}

fn violation(disposition: &str, decided: &str, effective: Option<&str>, penalty: Value) -> Value {
    let mut v = json!({
        "record_id": "W-1", "kind": "public_security_violation",
        "person": {"birth_date": "1990-03-07"},
        "offence_date": "2025-06-01", "violations": [{"name": "殴打他人"}],
        "disposition": disposition, "disposition_date": decided,
    });
    if !penalty.is_null() {
        v["penalty"] = penalty;
    }
    if let Some(e) = effective {
        v["decision_effective_date"] = e.into();
    }
    v
}

fn preset() -> &'static Policy {
    presets::get("cn-public-security-violation").expect("shipped")
}

fn with_decided_from() -> Policy {
    let text = preset().source_text.replace(
        "effective_from = \"2026-01-01\"",
        "effective_from = \"2026-01-01\"\ndecided_from = \"2026-01-01\"",
    );
    assert_ne!(text, preset().source_text);
    Policy::from_toml("test", &text).expect("loads")
}

/// (what, facts, outcome, effective date) under the shipped preset.
#[test]
fn every_violation_record_is_sealed_as_art_136_says() {
    #[rustfmt::skip]
    let table: Vec<(&str, Value, Outcome, Option<Date>)> = vec![
        ("warning, effective 2026-02-12", violation("penalized", "2026-02-12", Some("2026-02-12"), json!({"warning": true})), Outcome::Seal, Some(Date::constant(2026, 2, 12))),
        ("fine", violation("penalized", "2026-02-12", Some("2026-03-01"), json!({"fine_yuan": 500})), Outcome::Seal, Some(Date::constant(2026, 3, 1))),
        ("detention 15 days", violation("penalized", "2026-02-12", Some("2026-02-12"), json!({"detention_days": 15})), Outcome::Seal, Some(Date::constant(2026, 2, 12))),
        ("not yet effective", violation("penalized", "2026-05-20", None, json!({"fine_yuan": 200})), Outcome::SealLater, None),
        ("effective after the as-of date", violation("penalized", "2026-05-20", Some("2026-06-15"), json!({"fine_yuan": 200})), Outcome::SealLater, Some(Date::constant(2026, 6, 15))),
        ("not penalized", violation("not_penalized", "2026-02-12", None, Value::Null), Outcome::Seal, Some(Date::constant(2026, 2, 12))),
        ("withdrawn (revoked on reconsideration)", violation("withdrawn", "2026-04-01", None, Value::Null), Outcome::Seal, Some(Date::constant(2026, 4, 1))),
        ("open", violation("open", "2026-02-12", None, Value::Null), Outcome::SealLater, None),
        // Decided in 2025: sealed from the law's entry into force, not before.
        ("decided 2025-07-01", violation("penalized", "2025-07-01", Some("2025-07-01"), json!({"detention_days": 5})), Outcome::Seal, Some(Date::constant(2026, 1, 1))),
    ];
    for (what, facts, outcome, date) in table {
        let mut facts = facts;
        if what == "open" {
            facts
                .as_object_mut()
                .expect("object")
                .remove("disposition_date");
        }
        let facts = record(&facts);
        let decision = evaluate(preset(), &facts, AS_OF);
        assert_eq!(
            (decision.outcome, decision.effective_date),
            (outcome, date),
            "{what}"
        );
        let view = decision.view(preset(), &facts);
        for reason in view.reasons.iter().filter(|r| r.rule != "policy_in_force") {
            assert!(
                reason.basis.contains("第一百三十六条"),
                "{what}: {} cites {}",
                reason.rule,
                reason.basis
            );
        }
    }
}

/// The scope parameter: a record decided before 2026-01-01 is sealed from 2026-01-01 under the
/// shipped setting, and out of scope with `decided_from = "2026-01-01"`.
#[test]
fn a_record_decided_before_2026_under_both_settings() {
    let facts = record(&violation(
        "penalized",
        "2025-12-31",
        Some("2025-12-31"),
        json!({"fine_yuan": 200}),
    ));
    let shipped = evaluate(preset(), &facts, AS_OF);
    assert_eq!(
        (shipped.outcome, shipped.effective_date),
        (Outcome::Seal, Some(Date::constant(2026, 1, 1)))
    );
    let narrowed = with_decided_from();
    let decision = evaluate(&narrowed, &facts, AS_OF);
    assert_eq!(
        (decision.outcome, decision.effective_date),
        (Outcome::NotEligible, None)
    );
    let view = decision.view(&narrowed, &facts);
    assert_eq!(view.reasons[0].rule, "decided_from");
    assert_eq!(
        view.reasons[0].text,
        "该记录于2025年12月31日作出决定，早于2026年1月1日，不属于本规则的适用范围"
    );
    // Decided on 2026-01-01: in scope under both.
    let on_the_day = record(&violation(
        "penalized",
        "2026-01-01",
        Some("2026-01-01"),
        json!({"fine_yuan": 200}),
    ));
    for policy in [preset(), &narrowed] {
        let d = evaluate(policy, &on_the_day, AS_OF);
        assert_eq!(
            (d.outcome, d.effective_date),
            (Outcome::Seal, Some(Date::constant(2026, 1, 1)))
        );
    }
}

/// A mixed stream: each preset decides its own kind and says the other is out of its scope.
#[test]
fn criminal_presets_and_the_violation_preset_keep_the_kinds_apart() {
    let criminal = record(&json!({
        "record_id": "R-1", "person": {"birth_date": "1990-03-07"}, "offence_date": "2025-01-10",
        "charges": [{"name": "危险驾驶罪"}], "disposition": "convicted", "disposition_date": "2025-03-01",
        "sentence": {"principal": "criminal_detention", "months": 2},
        "judgment_effective_date": "2025-03-01", "recidivist": false, "prior_convictions": 0
    }));
    let violation = record(&violation(
        "penalized",
        "2026-02-12",
        Some("2026-02-12"),
        json!({"fine_yuan": 500}),
    ));
    for policy in presets::all() {
        let (mine, other) = if policy.meta.name == "cn-public-security-violation" {
            (&violation, &criminal)
        } else {
            (&criminal, &violation)
        };
        let out = evaluate(policy, other, AS_OF);
        assert_eq!(out.outcome, Outcome::NotEligible, "{}", policy.meta.name);
        let view = out.view(policy, other);
        assert_eq!(view.reasons.len(), 1, "{}", policy.meta.name);
        assert_eq!(view.reasons[0].rule, "scope", "{}", policy.meta.name);
        let in_scope = evaluate(policy, mine, AS_OF);
        assert!(
            in_scope
                .reasons
                .iter()
                .all(|r| !matches!(r.kind, fengcun_policy::ReasonKind::OutOfScope(_))),
            "{}",
            policy.meta.name
        );
    }
    let view = evaluate(
        presets::get("cn-minor-opt1").expect("shipped"),
        &violation,
        AS_OF,
    )
    .view(presets::get("cn-minor-opt1").expect("shipped"), &violation);
    assert_eq!(
        view.reasons[0].text,
        "该记录为治安违法记录，不属于本规则调整的犯罪记录，本规则不予处理"
    );
    let view = evaluate(preset(), &criminal, AS_OF).view(preset(), &criminal);
    assert_eq!(
        view.reasons[0].text,
        "该记录为犯罪记录，不属于本规则调整的治安违法记录，本规则不予处理"
    );
}

/// A violation followed by a crime: the person is still a first offender (a violation is not a
/// conviction: `prior_convictions` counts convictions only), so the crime is sealed under option 1.
#[test]
fn a_violation_then_a_crime_first_offender_still() {
    let crime = record(&json!({
        "record_id": "R-2", "person": {"birth_date": "1990-03-07"}, "offence_date": "2026-03-10",
        "charges": [{"name": "危险驾驶罪"}], "disposition": "convicted", "disposition_date": "2026-04-01",
        "sentence": {"principal": "criminal_detention", "months": 2},
        "judgment_effective_date": "2026-04-01", "recidivist": false, "prior_convictions": 0
    }));
    let opt1 = presets::get("cn-minor-opt1").expect("shipped");
    let decision = evaluate(opt1, &crime, AS_OF);
    assert!(decision.outcome.is_eligible(), "{:?}", decision.outcome);
    let first = decision.view(opt1, &crime);
    assert!(
        first
            .reasons
            .iter()
            .any(|r| r.rule == "first_offender" && r.holds)
    );
}
