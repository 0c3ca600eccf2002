//! Invariants of the engine over generated records (proptest).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Catalogue, Date, Disposition, Record, parse_record};
use fengcun_policy::{Outcome, Policy, ReasonKind, Verdict, evaluate, presets};
use proptest::prelude::*;
use serde_json::{Value, json};

fn date_from(days: i32) -> Date {
    Date::constant(2000, 1, 1)
        .checked_add(jiff::Span::new().days(days))
        .expect("in range")
}

/// A lawful sentence for `charges` charges: kind, then a term inside the Criminal Law's bounds.
fn sentence(charges: usize) -> impl Strategy<Value = Value> {
    let combined = charges > 1;
    prop_oneof![
        1 => Just(json!({"principal": "exempt"})),
        1 => (100u64..50_000).prop_map(|fine| json!({"principal": "supplementary_only", "fine_yuan": fine})),
        2 => (3u32..=if combined { 36 } else { 24 }).prop_map(|m| json!({"principal": "public_surveillance", "months": m})),
        4 => (1u32..=if combined { 12 } else { 6 }, any::<bool>()).prop_map(|(m, probation)| {
            if probation {
                json!({"principal": "criminal_detention", "months": m, "probation_months": m.max(2)})
            } else {
                json!({"principal": "criminal_detention", "months": m, "fine_yuan": 2000})
            }
        }),
        6 => (6u32..=if combined { 300 } else { 180 }, any::<bool>()).prop_map(|(m, probation)| {
            if probation && m <= 36 {
                json!({"principal": "fixed_term", "months": m, "probation_months": m.max(12)})
            } else {
                json!({"principal": "fixed_term", "months": m})
            }
        }),
        1 => Just(json!({"principal": "life"})),
    ]
}

fn charges() -> impl Strategy<Value = Vec<String>> {
    let names: Vec<String> = Catalogue::builtin()
        .charges()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    prop::collection::vec(prop::sample::select(names), 1..=3)
}

/// Records as an agency would send them: any disposition, lawful sentences, ordered dates, facts
/// sometimes missing.
fn record() -> impl Strategy<Value = Record> {
    let disposition = prop::sample::select(vec![
        "convicted",
        "convicted",
        "convicted",
        "convicted",
        "not_prosecuted",
        "case_withdrawn",
        "acquitted",
        "open",
    ]);
    (
        disposition,
        charges(),
        0i32..9000,
        prop::option::weighted(0.9, 12u32..70),
        (0i32..400, 0i32..60, prop::option::weighted(0.7, 0i32..2000)),
        prop::option::weighted(0.9, 0u32..3),
        prop::option::weighted(0.9, any::<bool>()),
    )
        .prop_flat_map(
            |(disposition, charges, offence, age, gaps, prior, recidivist)| {
                let count = charges.len();
                (
                    Just((disposition, charges, offence, age, gaps, prior, recidivist)),
                    sentence(count),
                )
            },
        )
        .prop_filter_map(
            "facts the law does not allow",
            |((disposition, charges, offence, age, gaps, prior, recidivist), sentence)| {
                let offence_date = date_from(offence);
                let judged = date_from(offence + gaps.0);
                let effective = date_from(offence + gaps.0 + gaps.1);
                let mut record = json!({
                    "record_id": "P-1",
                    "offence_date": offence_date.to_string(),
                    "charges": charges.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
                    "disposition": disposition,
                });
                let object = record.as_object_mut()?;
                if let Some(age) = age {
                    let birth = offence_date
                        .checked_sub(jiff::Span::new().years(age).days(40))
                        .ok()?;
                    object.insert("person".into(), json!({"birth_date": birth.to_string()}));
                }
                if disposition != "open" {
                    object.insert("disposition_date".into(), json!(judged.to_string()));
                }
                if disposition == "convicted" {
                    object.insert("sentence".into(), sentence);
                    object.insert(
                        "judgment_effective_date".into(),
                        json!(effective.to_string()),
                    );
                    if let Some(served) = gaps.2 {
                        object.insert(
                            "execution_completed_date".into(),
                            json!(date_from(offence + gaps.0 + gaps.1 + served).to_string()),
                        );
                    }
                }
                if let Some(prior) = prior {
                    object.insert("prior_convictions".into(), json!(prior));
                }
                if let Some(recidivist) = recidivist {
                    object.insert(
                        "recidivist".into(),
                        json!(recidivist && prior.unwrap_or(1) > 0),
                    );
                }
                parse_record(&serde_json::to_vec(&record).ok()?).ok()
            },
        )
}

fn as_of() -> impl Strategy<Value = Date> {
    (0i32..12000).prop_map(date_from)
}

/// Option 2's shape with the threshold as a parameter, to tighten and loosen it.
fn threshold_policy(months: u32) -> Policy {
    let text = presets::get("cn-minor-opt2")
        .expect("preset")
        .source_text
        .replace(
            "sentence_at_most = { principal = \"fixed_term\", months = 12 }",
            &format!("sentence_at_most = {{ principal = \"fixed_term\", months = {months} }}"),
        );
    assert!(text.contains(&format!("months = {months} }}")));
    Policy::from_toml("threshold.toml", &text).expect("policy")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_decision_has_a_reason_and_a_consistent_outcome(record in record(), as_of in as_of()) {
        for policy in presets::all() {
            let decision = evaluate(policy, &record, as_of);
            prop_assert!(!decision.reasons.is_empty(), "{}: no reason", policy.name());
            let fails = decision.reasons.iter().any(|r| r.verdict == Verdict::Fails);
            let unknown = decision.reasons.iter().any(|r| matches!(r.verdict, Verdict::Unknown(_)));
            match decision.outcome {
                Outcome::Seal => {
                    prop_assert!(!fails && !unknown);
                    prop_assert!(decision.effective_date.is_some_and(|d| d <= as_of));
                }
                Outcome::SealLater => {
                    prop_assert!(!fails && !unknown);
                    prop_assert!(decision.effective_date.is_none_or(|d| d > as_of));
                }
                Outcome::NotEligible => {
                    prop_assert!(fails);
                    prop_assert!(decision.effective_date.is_none());
                }
                Outcome::NeedsFacts => {
                    prop_assert!(unknown && !fails);
                    prop_assert!(decision.effective_date.is_none());
                }
            }
        }
    }

    #[test]
    fn a_conviction_is_never_sealed_before_its_judgment_takes_effect(record in record(), as_of in as_of()) {
        if record.disposition != Disposition::Convicted {
            return Ok(());
        }
        for policy in presets::all().iter().filter(|p| p.meta.jurisdiction == "CN") {
            if let Some(date) = evaluate(policy, &record, as_of).effective_date {
                prop_assert!(Some(date) >= record.judgment_effective_date, "{}", policy.name());
            }
        }
    }

    #[test]
    fn tightening_the_threshold_never_makes_a_record_eligible(record in record(), tight in 1u32..=60, extra in 0u32..=60) {
        let as_of = Date::constant(2060, 1, 1);
        let tight_policy = threshold_policy(tight.max(6));
        let loose_policy = threshold_policy(tight.max(6) + extra);
        if evaluate(&tight_policy, &record, as_of).outcome.is_eligible() {
            prop_assert!(evaluate(&loose_policy, &record, as_of).outcome.is_eligible());
        }
    }

    #[test]
    fn the_report_options_are_nested(record in record()) {
        // 拘役 or lighter ⊂ one year or less ⊂ option 1; the light-penalty pilot ⊂ option 3.
        let as_of = Date::constant(2060, 1, 1);
        let eligible = |name: &str| evaluate(presets::get(name).expect("preset"), &record, as_of).outcome.is_eligible();
        if eligible("cn-minor-opt3") { prop_assert!(eligible("cn-minor-opt2")); }
        if eligible("cn-minor-opt2") { prop_assert!(eligible("cn-minor-opt1")); }
        if eligible("cn-pilot-light-penalty") { prop_assert!(eligible("cn-minor-opt3")); }
    }

    #[test]
    fn a_seal_once_in_effect_stays_in_effect(record in record(), as_of in as_of(), later in 0i32..5000) {
        let later_date = as_of.checked_add(jiff::Span::new().days(later)).expect("date");
        for policy in presets::all() {
            let now = evaluate(policy, &record, as_of);
            if now.outcome == Outcome::Seal {
                let then = evaluate(policy, &record, later_date);
                prop_assert_eq!(then.outcome, Outcome::Seal);
                prop_assert_eq!(then.effective_date, now.effective_date);
            }
        }
    }

    #[test]
    fn output_is_byte_identical_across_runs(record in record(), as_of in as_of()) {
        for policy in presets::all() {
            let first = serde_json::to_string(&evaluate(policy, &record, as_of).view(policy, &record)).expect("json");
            let again = serde_json::to_string(&evaluate(policy, &record.clone(), as_of).view(policy, &record)).expect("json");
            prop_assert_eq!(first, again);
        }
    }

    #[test]
    fn timing_reasons_follow_rule_reasons(record in record(), as_of in as_of()) {
        for policy in presets::all() {
            let kinds: Vec<bool> = evaluate(policy, &record, as_of)
                .reasons
                .iter()
                .map(|r| matches!(r.kind, ReasonKind::Rule(_)))
                .collect();
            prop_assert!(kinds.windows(2).all(|w| w[0] || !w[1]), "{}: reasons out of order", policy.name());
        }
    }
}
