//! A retrial of a sealed juvenile record (《关于未成年人犯罪记录封存的实施办法》第十八条: 经审判监督
//! 程序改判五年有期徒刑以上刑罚的): five years or more lifts the seal, even though five years is
//! itself a sealable sentence (以上 and 以下 both include five years, Criminal Law art. 99); less
//! keeps it. A policy whose retrial rule has no condition lifts only a seal the retrial disqualifies.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Date, parse_record};
use fengcun_lifecycle::{Cause, State, next_state};
use fengcun_policy::{Trigger, evaluate, presets};
use serde_json::json;

/// A juvenile's conviction after a retrial: `months` of 有期徒刑, the retrial effective 2026-03-12.
fn retried(months: u32) -> fengcun_domain::Record {
    let facts = json!({
        "record_id": "R-1",
        "person": {"birth_date": "2008-01-01"},
        "offence_date": "2024-03-01",
        "charges": [{"name": "盗窃罪"}],
        "disposition": "convicted",
        "disposition_date": "2026-03-01",
        "sentence": {"principal": "fixed_term", "months": months},
        "judgment_effective_date": "2026-03-12",
        "recidivist": false,
        "prior_convictions": 0
    });
    parse_record(&serde_json::to_vec(&facts).unwrap()).unwrap()
}

#[test]
fn a_retrial_to_five_years_or_more_lifts_a_juvenile_seal() {
    let today = Date::constant(2026, 4, 1);
    let sealed = State::Sealed {
        since: Date::constant(2025, 1, 10),
    };
    // (policy, months after the retrial, the rule that lifts the seal, if any)
    let rows: [(&str, u32, Option<&str>); 7] = [
        ("cn-juvenile", 36, None),
        ("cn-juvenile", 59, None),
        ("cn-juvenile", 60, Some("unseal_retrial")),
        ("cn-juvenile", 61, Some("unseal_retrial")),
        ("cn-juvenile", 120, Some("unseal_retrial")),
        // Option 1's retrial rule has no condition: a retrial that keeps the record minor keeps
        // the seal (six months, first offender), one that makes it not minor lifts it.
        ("cn-minor-opt1", 6, None),
        ("cn-minor-opt1", 60, Some("unseal_retrial")),
    ];
    let mut failures = Vec::new();
    for (name, months, expected) in rows {
        let policy = presets::get(name).unwrap();
        let record = retried(months);
        let decision = evaluate(policy, &record, today);
        let step = next_state(
            Some(&sealed),
            &decision,
            true,
            &record,
            Cause::Events { correction: false },
            policy,
            today,
        );
        let got = step.as_ref().map(|s| (s.to, s.unseal_rule.as_deref()));
        let want = expected.map(|rule| {
            (
                State::Unsealed {
                    trigger: Trigger::Retrial,
                    since: today,
                },
                Some(rule),
            )
        });
        if got != want {
            failures.push(format!(
                "{name}, {months} months: {got:?}, expected {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
