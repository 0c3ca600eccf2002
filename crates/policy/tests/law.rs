//! The data read as a criminal lawyer reads it (issue 14): the juvenile unsealing threshold, the
//! charge tags the presets exclude by, and the wording of the tiered preset. Each row is worked out
//! by hand from the article it cites (docs/law.md), never computed by the engine.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Catalogue, Date, Tag, parse_record};
use fengcun_policy::{Outcome, Trigger, evaluate, presets};
use serde_json::{Value, json};

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

/// A conviction of a person born 2008-01-01 (under 18 at an offence in 2024, adult in 2026).
fn conviction(offence: &str, charge: &str, principal: &str, months: Option<u32>) -> Value {
    let mut sentence = json!({"principal": principal});
    if let Some(m) = months {
        sentence["months"] = json!(m);
    }
    json!({
        "record_id": "R-1",
        "person": {"birth_date": "2008-01-01"},
        "offence_date": offence,
        "charges": [{"name": charge}],
        "disposition": "convicted",
        "disposition_date": "2026-03-01",
        "sentence": sentence,
        "judgment_effective_date": "2026-03-12",
        "recidivist": false,
        "prior_convictions": 0
    })
}

fn record(facts: &Value) -> fengcun_domain::Record {
    parse_record(&serde_json::to_vec(facts).expect("json")).expect("valid facts")
}

/// 《关于未成年人犯罪记录封存的实施办法》第十八条 (and 《人民检察院刑事诉讼规则》第四百八十五条):
/// a combined sentence, or a retrial, of 五年有期徒刑以上 lifts a juvenile seal. 以上 includes five
/// years (Criminal Law art. 99): 60 months lifts, 59 does not. The new conviction's facts are those
/// of the combined sentence (数罪并罚后决定执行的刑罚).
#[test]
fn a_juvenile_seal_is_lifted_by_five_years_or_more() {
    let juvenile = presets::get("cn-juvenile").expect("preset");
    // (trigger, offence date of the new or discovered crime, months of the sentence, rule lifted)
    let rows: [(Trigger, &str, u32, Option<&str>); 12] = [
        (Trigger::NewConviction, "2025-06-01", 59, None),
        (
            Trigger::NewConviction,
            "2025-06-01",
            60,
            Some("unseal_new_crime_five_years_or_more"),
        ),
        (
            Trigger::NewConviction,
            "2025-06-01",
            61,
            Some("unseal_new_crime_five_years_or_more"),
        ),
        // Committed as an adult (after the eighteenth birthday): not a juvenile's new crime.
        (Trigger::NewConviction, "2026-02-01", 72, None),
        (Trigger::PriorCrimeDiscovered, "2024-03-01", 59, None),
        (
            Trigger::PriorCrimeDiscovered,
            "2024-03-01",
            60,
            Some("unseal_prior_crime_five_years_or_more"),
        ),
        (
            Trigger::PriorCrimeDiscovered,
            "2024-03-01",
            61,
            Some("unseal_prior_crime_five_years_or_more"),
        ),
        (Trigger::PriorCrimeDiscovered, "2024-03-01", 36, None),
        (Trigger::Retrial, "2024-03-01", 48, None),
        (Trigger::Retrial, "2024-03-01", 59, None),
        (Trigger::Retrial, "2024-03-01", 60, Some("unseal_retrial")),
        (Trigger::Retrial, "2024-03-01", 61, Some("unseal_retrial")),
    ];
    let mut failures = Vec::new();
    for (trigger, offence, months, expected) in rows {
        let facts = conviction(offence, "盗窃罪", "fixed_term", Some(months));
        let got = juvenile
            .unseal_rule(trigger, Some(&record(&facts)))
            .map(|u| u.id.as_str());
        if got != expected {
            failures.push(format!(
                "{} of {months} months (offence {offence}): {got:?}, expected {expected:?}",
                trigger.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sealing (以下, ≤ 60 months) and unsealing (以上, ≥ 60 months) meet at exactly five years: a
/// juvenile sentenced to five years is sealed, and five years as a combined sentence lifts a seal.
#[test]
fn five_years_is_both_sealed_and_lifting() {
    let juvenile = presets::get("cn-juvenile").expect("preset");
    let five = record(&conviction("2024-03-01", "盗窃罪", "fixed_term", Some(60)));
    assert_eq!(
        evaluate(juvenile, &five, d("2026-11-26")).outcome,
        Outcome::Seal
    );
    assert!(
        juvenile
            .unseal_rule(Trigger::PriorCrimeDiscovered, Some(&five))
            .is_some()
    );
}

/// Each juvenile rule cites the article that speaks of it: non-prosecution and other non-conviction
/// records are art. 3 of the measures (art. 2 defines a criminal record), unsealing is art. 18.
#[test]
fn the_juvenile_rules_cite_their_articles() {
    let juvenile = presets::get("cn-juvenile").expect("preset");
    let timing = juvenile
        .timings
        .iter()
        .find(|t| t.id == "on_disposition")
        .expect("timing");
    assert!(timing.basis.contains("第三条"), "{}", timing.basis);
    assert!(!timing.basis.contains("第二条"), "{}", timing.basis);
    for unseal in &juvenile.unseals {
        if unseal.trigger == Trigger::WrongFacts {
            continue;
        }
        assert!(unseal.basis.contains("第十八条"), "{}", unseal.basis);
        assert!(unseal.basis.contains("第九十九条"), "{}", unseal.basis);
        assert!(
            unseal.basis.contains("五年有期徒刑以上") && !unseal.basis.contains("超过五年"),
            "{}",
            unseal.basis
        );
        assert!(!unseal.text.contains("超过五年"), "{}", unseal.text);
    }
}

/// Charge tags (data/charges.tsv): crimes only an official can commit are duty crimes; 嫖宿幼女罪
/// is a sexual crime against a child; doping is not a drug crime; 行贿 stays a duty crime.
#[test]
fn charge_tags_read_as_a_criminal_lawyer_reads_them() {
    // (charge, tag, whether it carries the tag)
    let rows: [(&str, Tag, bool); 14] = [
        ("刑讯逼供罪", Tag::DutyCrime, true),
        ("暴力取证罪", Tag::DutyCrime, true),
        ("虐待被监管人罪", Tag::DutyCrime, true),
        ("报复陷害罪", Tag::DutyCrime, true),
        ("非法剥夺公民宗教信仰自由罪", Tag::DutyCrime, true),
        ("侵犯少数民族风俗习惯罪", Tag::DutyCrime, true),
        // Still violence against the person as well.
        ("刑讯逼供罪", Tag::Violence, true),
        ("行贿罪", Tag::DutyCrime, true),
        ("单位行贿罪", Tag::DutyCrime, true),
        ("嫖宿幼女罪", Tag::Sexual, true),
        ("嫖宿幼女罪", Tag::Prostitution, true),
        ("妨害兴奋剂管理罪", Tag::Drugs, false),
        ("走私、贩卖、运输、制造毒品罪", Tag::Drugs, true),
        // A general subject: anyone can detain unlawfully; an official's is aggravated (art. 238).
        ("非法拘禁罪", Tag::DutyCrime, false),
    ];
    let catalogue = Catalogue::builtin();
    let mut failures = Vec::new();
    for (name, tag, expected) in rows {
        let charge = catalogue.resolve(name).expect("charge in the catalogue");
        if charge.tags.contains(tag) != expected {
            failures.push(format!("{name}: {} should be {expected}", tag.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Worked examples under option 1 (it excludes 职务犯罪, 性侵犯罪 and 毒品犯罪): six months of
/// 有期徒刑 for a first offender is minor by the threshold, so only the exclusion decides.
#[test]
fn option_1_excludes_by_the_corrected_tags() {
    let opt1 = presets::get("cn-minor-opt1").expect("preset");
    let adult = |offence: &str, charge: &str| {
        let mut facts = conviction(offence, charge, "fixed_term", Some(6));
        facts["person"] = json!({"birth_date": "1980-05-05"});
        facts["disposition_date"] = json!("2014-09-01");
        facts["judgment_effective_date"] = json!("2014-09-12");
        record(&facts)
    };
    // (charge, offence date, outcome, first failed rule)
    let rows: [(&str, &str, Outcome, Option<&str>); 5] = [
        (
            "刑讯逼供罪",
            "2014-03-01",
            Outcome::NotEligible,
            Some("excluded_charges"),
        ),
        (
            "报复陷害罪",
            "2014-03-01",
            Outcome::NotEligible,
            Some("excluded_charges"),
        ),
        // Abolished in 2015 (Amendment IX); a conviction from before is a sexual crime.
        (
            "嫖宿幼女罪",
            "2014-03-01",
            Outcome::NotEligible,
            Some("excluded_charges"),
        ),
        ("妨害兴奋剂管理罪", "2014-03-01", Outcome::Seal, None),
        ("盗窃罪", "2014-03-01", Outcome::Seal, None),
    ];
    let mut failures = Vec::new();
    for (charge, offence, outcome, failed) in rows {
        let record = adult(offence, charge);
        let decision = evaluate(opt1, &record, d("2026-11-26"));
        let got = (decision.outcome, decision.first_failed_rule(opt1));
        if got != (outcome, failed) {
            failures.push(format!(
                "{charge}: {got:?}, expected {:?}",
                (outcome, failed)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// "以上" and "以下" include the number (Criminal Law art. 99), so "一年以上二年以下" and
/// "二年以上三年以下" both contain two years. The tiered preset's arithmetic puts exactly two years
/// in the first band; its words say so: 超过一年不超过二年, 超过二年不超过三年.
#[test]
fn the_tiered_bands_do_not_overlap_in_words() {
    let tiered = presets::get("cn-minor-tiered").expect("preset");
    for overlapping in ["一年以上二年以下", "二年以上三年以下"] {
        assert!(
            !tiered.source_text.contains(overlapping),
            "the tiered preset still says {overlapping}"
        );
    }
    let text = |id: &str| {
        tiered
            .timings
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.text.clone())
            .expect("timing")
    };
    assert!(text("two_years_after_execution").contains("超过一年不超过二年"));
    assert!(text("three_years_after_execution").contains("超过二年不超过三年"));
    // The words agree with the arithmetic at the boundaries: 24 months is in the first band, 25 in
    // the second.
    let timing_for = |months: u32| {
        let mut facts = conviction("2024-01-10", "盗窃罪", "fixed_term", Some(months));
        facts["person"] = json!({"birth_date": "1980-05-05"});
        facts["disposition_date"] = json!("2024-03-01");
        facts["judgment_effective_date"] = json!("2024-03-01");
        facts["execution_completed_date"] = json!("2024-06-01");
        let record = record(&facts);
        tiered
            .timings
            .iter()
            .filter(|t| t.id.ends_with("_after_execution"))
            .filter(|t| {
                t.applies
                    .as_ref()
                    .is_some_and(|c| c.eval(&record) == fengcun_policy::Truth::True)
            })
            .map(|t| t.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(timing_for(24), ["two_years_after_execution"]);
    assert_eq!(timing_for(25), ["three_years_after_execution"]);
    assert_eq!(timing_for(13), ["two_years_after_execution"]);
}
