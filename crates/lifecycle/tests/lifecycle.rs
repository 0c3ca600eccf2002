//! The pure lifecycle: facts from events in any order, and the state machine.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::{Date, Disposition, Event, PrincipalKind};
use fengcun_lifecycle::{
    Cause, NoticeFacts, NoticeKind, Recipient, State, StoredEvent, derive_record, next_state,
    render_notice, sealed_on, trigger_for,
};
use fengcun_policy::{Trigger, evaluate, presets};
use proptest::prelude::*;
use serde_json::{Value, json};

const ID: &str = "110105199003070025";

fn event(seq: i64, key: &str, kind: &str, date: &str, agency: &str, extra: Value) -> StoredEvent {
    let code = format!("110105-{agency}");
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date, "case_code": "110105-2024-000001",
                       "agency": {"kind": agency, "code": code}, "person": {"id_number": ID, "name": "张三"}});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    StoredEvent {
        seq,
        event: Event::parse(&serde_json::to_vec(&e).unwrap()).unwrap(),
    }
}

fn judgment(seq: i64, key: &str, date: &str, instance: &str, months: u32) -> StoredEvent {
    event(
        seq,
        key,
        "judgment",
        date,
        "court",
        json!({"judgment": {"instance": instance, "verdict": "convicted",
        "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "fixed_term", "months": months},
        "offence_date": "2024-01-01", "recidivist": false, "prior_convictions": 0}}),
    )
}

fn chain() -> Vec<StoredEvent> {
    vec![
        event(
            1,
            "f",
            "filed",
            "2024-01-05",
            "public_security",
            json!({"charges": [{"name": "盗窃罪"}], "offence_date": "2024-01-01"}),
        ),
        event(
            2,
            "i",
            "indicted",
            "2024-02-01",
            "procuratorate",
            json!({"charges": [{"name": "盗窃罪"}]}),
        ),
        judgment(3, "j", "2024-03-01", "first", 10),
        event(
            4,
            "e",
            "judgment_effective",
            "2024-03-12",
            "court",
            json!({}),
        ),
        event(
            5,
            "c",
            "execution_completed",
            "2025-01-01",
            "prison",
            json!({}),
        ),
    ]
}

#[test]
fn a_full_chain_gives_the_conviction_facts() {
    let derived = derive_record("R", &chain()).unwrap();
    let record = derived.record;
    assert_eq!(record.disposition, Disposition::Convicted);
    assert_eq!(record.disposition_date, Some(Date::constant(2024, 3, 1)));
    assert_eq!(
        record.judgment_effective_date,
        Some(Date::constant(2024, 3, 12))
    );
    assert_eq!(
        record.execution_completed_date,
        Some(Date::constant(2025, 1, 1))
    );
    assert_eq!(record.offence_date, Some(Date::constant(2024, 1, 1)));
    assert_eq!(record.sentence.unwrap().principal.months, 10);
    assert_eq!(derived.agencies.len(), 4);
}

/// A judgment's findings on acts straddling the 18th birthday and on sealed juvenile priors reach
/// the record's facts, and the juvenile preset reads the first (issue 14, decisions 3 and 4): a
/// person born 2006-01-01, the last act on 2024-03-05 (18 years and 2 months), the main conduct
/// before 18.
#[test]
fn a_judgments_findings_on_straddling_acts_and_juvenile_priors_reach_the_facts() {
    let person = json!({"document_type": "passport", "document_number": "E1234567", "birth_date": "2006-01-01"});
    let events = [
        event(
            1,
            "j",
            "judgment",
            "2024-09-01",
            "court",
            json!({"person": person, "judgment": {"instance": "first", "verdict": "convicted",
                   "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "fixed_term", "months": 48},
                   "offence_date": "2024-03-05", "recidivist": false, "prior_convictions": 1,
                   "sealed_juvenile_priors": 1, "main_conduct_under_18": true}}),
        ),
        event(
            2,
            "e",
            "judgment_effective",
            "2024-09-12",
            "court",
            json!({"person": person}),
        ),
    ];
    let record = derive_record("R", &events).unwrap().record;
    assert_eq!(record.main_conduct_under_18, Some(true));
    assert_eq!(
        (record.prior_convictions, record.sealed_juvenile_priors),
        (Some(1), Some(1))
    );
    let juvenile = presets::get("cn-juvenile").unwrap();
    let decision = evaluate(juvenile, &record, Date::constant(2026, 11, 26));
    assert_eq!(
        (decision.outcome, decision.effective_date),
        (
            fengcun_policy::Outcome::Seal,
            Some(Date::constant(2024, 9, 12))
        )
    );
}

#[test]
fn an_appeal_replaces_the_first_instance_and_a_retrial_both() {
    let mut events = chain();
    events.push(judgment(6, "a", "2024-04-20", "appeal", 8));
    let derived = derive_record("R", &events).unwrap();
    assert_eq!(derived.record.sentence.unwrap().principal.months, 8);
    // The first instance's effective date precedes the appeal judgment: it no longer counts.
    assert_eq!(derived.record.judgment_effective_date, None);
    events.push(event(
        7,
        "ae",
        "judgment_effective",
        "2024-04-20",
        "court",
        json!({}),
    ));
    events.push(judgment(8, "r", "2025-06-01", "retrial", 30));
    let derived = derive_record("R", &events).unwrap();
    assert!(derived.retried);
    assert_eq!(derived.record.sentence.unwrap().principal.months, 30);
    // A first-instance judgment arriving late does not displace the appeal or the retrial.
    events.push(judgment(9, "late", "2024-03-02", "first", 12));
    assert_eq!(
        derive_record("R", &events)
            .unwrap()
            .record
            .sentence
            .unwrap()
            .principal
            .months,
        30
    );
}

#[test]
fn a_withdrawn_case_reopened_by_a_new_filing_is_open_again() {
    let events = vec![
        event(
            1,
            "f",
            "filed",
            "2024-01-05",
            "public_security",
            json!({"offence_date": "2024-01-01"}),
        ),
        event(
            2,
            "w",
            "case_withdrawn",
            "2024-02-01",
            "public_security",
            json!({}),
        ),
    ];
    assert_eq!(
        derive_record("R", &events).unwrap().record.disposition,
        Disposition::CaseWithdrawn
    );
    let mut reopened = events.clone();
    reopened.push(event(
        3,
        "f2",
        "filed",
        "2024-05-01",
        "public_security",
        json!({}),
    ));
    assert_eq!(
        derive_record("R", &reopened).unwrap().record.disposition,
        Disposition::Open
    );
}

#[test]
fn corrections_replace_or_retract() {
    let mut events = chain();
    let mut replacement = events[2].event.event.clone();
    replacement.judgment.as_mut().unwrap().sentence =
        Some(json!({"principal": "criminal_detention", "months": 4}));
    events.push(event(
        6,
        "fix",
        "correction",
        "2024-06-01",
        "court",
        json!({"corrects": "j", "replacement": replacement}),
    ));
    let derived = derive_record("R", &events).unwrap();
    assert_eq!(
        derived.record.sentence.unwrap().principal.kind,
        PrincipalKind::CriminalDetention
    );
    events.push(event(
        7,
        "retract",
        "correction",
        "2024-06-02",
        "prison",
        json!({"corrects": "c"}),
    ));
    assert_eq!(
        derive_record("R", &events)
            .unwrap()
            .record
            .execution_completed_date,
        None
    );
}

#[test]
fn a_correction_that_arrives_before_its_target_still_applies() {
    let mut events = chain();
    let mut replacement = events[2].event.event.clone();
    replacement.judgment.as_mut().unwrap().sentence =
        Some(json!({"principal": "fixed_term", "months": 30}));
    let mut correction = event(
        0,
        "fix",
        "correction",
        "2024-06-01",
        "court",
        json!({"corrects": "j", "replacement": replacement}),
    );
    correction.seq = 0;
    events.insert(0, correction);
    assert_eq!(
        derive_record("R", &events)
            .unwrap()
            .record
            .sentence
            .unwrap()
            .principal
            .months,
        30
    );
}

#[test]
fn only_the_sending_agency_may_correct_an_event() {
    let mut events = chain();
    events.push(event(
        6,
        "meddle",
        "correction",
        "2024-06-01",
        "public_security",
        json!({"corrects": "j"}),
    ));
    let derived = derive_record("R", &events).unwrap();
    assert_eq!(
        derived.record.disposition,
        Disposition::Convicted,
        "the police cannot retract the court's judgment"
    );
    assert_eq!(derived.record.sentence.unwrap().principal.months, 10);
}

#[test]
fn contradictory_events_are_an_error_naming_the_field() {
    let mut events = chain();
    events.push(event(
        6,
        "early",
        "execution_completed",
        "2023-12-01",
        "prison",
        json!({}),
    ));
    // An execution "completed" before the judgment took effect is ignored for completion…
    let derived = derive_record("R", &events).unwrap();
    assert_eq!(
        derived.record.execution_completed_date,
        Some(Date::constant(2025, 1, 1))
    );
    // …but events each valid alone can contradict together: a judgment (giving no offence date)
    // dated before the offence the filing reports.
    let filed = event(
        1,
        "f",
        "filed",
        "2024-01-05",
        "public_security",
        json!({"offence_date": "2024-01-01"}),
    );
    let early = event(
        2,
        "j",
        "judgment",
        "2023-06-01",
        "court",
        json!({"judgment": {"instance": "first", "verdict": "convicted",
        "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "fixed_term", "months": 10}}}),
    );
    let error = derive_record("R", &[filed, early]).unwrap_err();
    assert_eq!(error.field, "disposition_date", "{error}");
}

/// A judgment takes effect on or after the day it is given. Dated before every judgment of the
/// case, a `judgment_effective` is an impossible fact and refused; dated before the judgment in
/// force but after an earlier one, it is an appeal's history and stays (uncounted).
#[test]
fn a_judgment_cannot_take_effect_before_it_is_given() {
    /// What the case is, its events (key: `j` first-instance judgment, `r` retrial judgment,
    /// `e` judgment effective) with their dates, and the field refused, if any.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>);
    let cases: [Case<'_>; 4] = [
        (
            "effective after the judgment",
            &[("j", "2024-03-01"), ("e", "2024-03-12")],
            None,
        ),
        (
            "effective on its day",
            &[("j", "2024-03-01"), ("e", "2024-03-01")],
            None,
        ),
        (
            "effective before the only judgment",
            &[("j", "2024-03-01"), ("e", "2024-02-20")],
            Some("date"),
        ),
        (
            "first instance effective, then a retrial",
            &[
                ("j", "2024-03-01"),
                ("e", "2024-03-12"),
                ("r", "2024-09-01"),
            ],
            None,
        ),
    ];
    for (what, dated, refused) in cases {
        let events: Vec<StoredEvent> = dated
            .iter()
            .enumerate()
            .map(|(seq, (key, date))| match *key {
                "j" => judgment(seq as i64, "j", date, "first", 10),
                "r" => judgment(seq as i64, "r", date, "retrial", 12),
                _ => event(
                    seq as i64,
                    key,
                    "judgment_effective",
                    date,
                    "court",
                    json!({}),
                ),
            })
            .collect();
        let error = derive_record("R", &events).err();
        assert_eq!(
            error.as_ref().map(|e| e.field.as_str()),
            refused,
            "{what}: {error:?}"
        );
    }
}

#[test]
fn unsealed_and_revoked_are_sticky_and_triggers_lift_seals() {
    let policy = presets::get("cn-minor-opt1").unwrap();
    let record = derive_record("R", &chain()).unwrap().record;
    let today = Date::constant(2026, 1, 1);
    let decision = evaluate(policy, &record, today);
    let sealed = State::Sealed {
        since: Date::constant(2024, 3, 12),
    };
    assert_eq!(
        next_state(
            None,
            &decision,
            false,
            &record,
            Cause::Events { correction: false },
            policy,
            today
        )
        .unwrap()
        .to,
        sealed
    );
    assert!(
        next_state(
            Some(&sealed),
            &decision,
            false,
            &record,
            Cause::Tick,
            policy,
            today
        )
        .is_none()
    );
    let lifted = next_state(
        Some(&sealed),
        &decision,
        false,
        &record,
        Cause::Trigger(Trigger::NewConviction),
        policy,
        today,
    )
    .unwrap();
    assert_eq!(
        lifted.to,
        State::Unsealed {
            trigger: Trigger::NewConviction,
            since: today
        }
    );
    assert_eq!(lifted.unseal_rule.as_deref(), Some("unseal_new_crime"));
    for sticky in [lifted.to, State::Revoked { since: today }] {
        for cause in [
            Cause::Tick,
            Cause::PolicyChange,
            Cause::Events { correction: false },
        ] {
            assert!(
                next_state(
                    Some(&sticky),
                    &decision,
                    false,
                    &record,
                    cause,
                    policy,
                    today
                )
                .is_none()
            );
        }
    }
}

/// The record of a case that ended on 2024-09-01 without a conviction (`how`), or with one.
fn ended(how: &str) -> fengcun_domain::Record {
    let filed = event(
        1,
        "f",
        "filed",
        "2024-05-01",
        "public_security",
        json!({"charges": [{"name": "盗窃罪"}], "offence_date": "2024-04-30"}),
    );
    let events = match how {
        "acquitted" => vec![
            filed,
            event(
                2,
                "j",
                "judgment",
                "2024-09-01",
                "court",
                json!({"judgment": {"instance": "first", "verdict": "acquitted", "charges": [{"name": "盗窃罪"}]}}),
            ),
            event(
                3,
                "e",
                "judgment_effective",
                "2024-09-12",
                "court",
                json!({}),
            ),
        ],
        "not_prosecuted" => vec![
            filed,
            event(
                2,
                "n",
                "not_prosecuted",
                "2024-09-01",
                "procuratorate",
                json!({"ground": "discretionary"}),
            ),
        ],
        "case_withdrawn" => vec![
            filed,
            event(
                2,
                "w",
                "case_withdrawn",
                "2024-09-01",
                "public_security",
                json!({}),
            ),
        ],
        _ => vec![
            filed,
            judgment(2, "j", "2024-09-01", "first", 8),
            event(
                3,
                "e",
                "judgment_effective",
                "2024-09-12",
                "court",
                json!({}),
            ),
        ],
    };
    let record = derive_record("A", &events).unwrap().record;
    assert_eq!(record.disposition.code(), how);
    record
}

/// A conviction for an offence committed on `offence`, judged on 2024-12-01.
fn later_conviction(offence: &str) -> fengcun_domain::Record {
    let events = vec![
        event(
            1,
            "j2",
            "judgment",
            "2024-12-01",
            "court",
            json!({"judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "抢劫罪"}],
                   "sentence": {"principal": "fixed_term", "months": 36}, "offence_date": offence,
                   "recidivist": false, "prior_convictions": 0}}),
        ),
        event(
            2,
            "e2",
            "judgment_effective",
            "2024-12-12",
            "court",
            json!({}),
        ),
    ];
    derive_record("B", &events).unwrap().record
}

/// A new crime or a discovered earlier crime lifts the seal of a conviction only: an acquittal, a
/// non-prosecution or a withdrawn case is never reached (the reported case: an acquittal unsealed
/// as 漏罪).
#[test]
fn conviction_triggers_reach_convictions_only() {
    let policy = presets::get("cn-minor-opt1").unwrap();
    let today = Date::constant(2025, 1, 1);
    #[rustfmt::skip]
    let table: &[(&str, &str, Option<Trigger>)] = &[
        ("acquitted", "2024-06-01", None),
        ("acquitted", "2024-10-01", None),
        ("not_prosecuted", "2024-06-01", None),
        ("not_prosecuted", "2024-10-01", None),
        ("case_withdrawn", "2024-06-01", None),
        ("case_withdrawn", "2024-10-01", None),
        ("convicted", "2024-06-01", Some(Trigger::PriorCrimeDiscovered)),
        ("convicted", "2024-10-01", Some(Trigger::NewConviction)),
    ];
    for &(how, offence, want) in table {
        let sealed = ended(how);
        let later = later_conviction(offence);
        assert_eq!(
            trigger_for(&sealed, &later),
            want,
            "{how}, offence {offence}"
        );
        // A conviction never triggers anything on an acquittal's behalf either.
        assert_eq!(trigger_for(&later, &ended("acquitted")), None);
        let decision = evaluate(policy, &sealed, today);
        for trigger in [Trigger::NewConviction, Trigger::PriorCrimeDiscovered] {
            for current in [
                State::Sealed {
                    since: Date::constant(2024, 9, 1),
                },
                State::PendingSeal {
                    on: Some(Date::constant(2025, 9, 1)),
                },
            ] {
                let step = next_state(
                    Some(&current),
                    &decision,
                    false,
                    &sealed,
                    Cause::Trigger(trigger),
                    policy,
                    today,
                );
                assert_eq!(
                    step.map(|s| s.to),
                    (how == "convicted").then_some(State::Unsealed {
                        trigger,
                        since: today
                    }),
                    "{how}, {trigger:?} from {current:?}"
                );
            }
        }
    }
}

/// An unseal by another record's conviction is recorded under the policy's rule for its trigger,
/// even where that rule's condition reads the new conviction (cn-juvenile: 五年有期徒刑以上), so
/// its notice cites that rule and names the judgment.
#[test]
fn an_unseal_by_another_conviction_names_its_rule() {
    let today = Date::constant(2025, 1, 1);
    let sealed = ended("convicted");
    let mut checked = 0;
    for policy in presets::all() {
        let decision = evaluate(policy, &sealed, today);
        for trigger in [Trigger::NewConviction, Trigger::PriorCrimeDiscovered] {
            let Some(rule) = policy.unseals.iter().find(|u| u.trigger == trigger) else {
                continue;
            };
            let step = next_state(
                Some(&State::Sealed {
                    since: Date::constant(2024, 9, 1),
                }),
                &decision,
                false,
                &sealed,
                Cause::Trigger(trigger),
                policy,
                today,
            )
            .expect("a sealed conviction is unsealed by its trigger");
            assert_eq!(
                step.unseal_rule.as_deref(),
                Some(rule.id.as_str()),
                "{} {trigger:?}",
                policy.name()
            );
            checked += 1;
        }
    }
    // cn-juvenile's two conditional rules are among those checked.
    assert!(checked >= 2 * 5, "{checked}");
}

/// A notice calls a conviction a 犯罪记录 and any other record a 涉罪记录 (相关记录), never a
/// 犯罪记录 — outside the titles of the laws it cites.
#[test]
fn notices_name_the_record_by_its_disposition() {
    let agency = Recipient::Agency {
        agency: serde_json::from_value(
            json!({"kind": "court", "code": "110105-fy", "name": "某区人民法院"}),
        )
        .unwrap(),
        document_number: Some("(2024)某刑初1号".into()),
    };
    let basis = vec!["《关于未成年人犯罪记录封存的实施办法》第二条".to_owned()];
    for disposition in Disposition::ALL {
        for kind in [NoticeKind::Seal, NoticeKind::Unseal] {
            for recipient in [&agency, &Recipient::Person] {
                let notice = render_notice(
                    kind,
                    recipient,
                    &NoticeFacts {
                        number: "N-1",
                        case_code: "110105-2024-000001",
                        person_name: Some("张三"),
                        id_number: Some(ID),
                        effective: Date::constant(2024, 9, 1),
                        issued: Date::constant(2024, 9, 1),
                        policy_title: "未成年人犯罪记录封存",
                        instrument: None,
                        basis: &basis,
                        authority: None,
                        judgment: None,
                        objection_body: None,
                        objection_days: None,
                        reason: Some("封存所依据的事实经更正后不符合封存条件，撤销封存"),
                        disposition,
                    },
                );
                let outside_titles: String = notice
                    .body
                    .split('《')
                    .map(|part| part.split_once('》').map_or(part, |(_, rest)| rest))
                    .collect();
                let what = format!("{disposition:?} {kind:?} {recipient:?}: {}", notice.body);
                if disposition == Disposition::Convicted {
                    assert!(outside_titles.contains("犯罪记录"), "{what}");
                    assert!(!outside_titles.contains("涉罪记录"), "{what}");
                } else {
                    assert!(outside_titles.contains("涉罪记录"), "{what}");
                    assert!(!outside_titles.contains("犯罪记录"), "{what}");
                }
            }
        }
    }
}

/// A seal takes effect on its date, whether or not the scheduler has made the record `sealed`.
#[test]
fn a_pending_seal_is_sealed_from_its_date() {
    let day = Date::constant(2026, 6, 5);
    let before = Date::constant(2026, 6, 4);
    let pending = State::PendingSeal { on: Some(day) };
    assert!(!pending.is_sealed_on(before));
    assert!(pending.is_sealed_on(day));
    assert!(State::Sealed { since: day }.is_sealed_on(before));
    assert!(!State::PendingSeal { on: None }.is_sealed_on(day));
    for lifted in [
        State::Unsealed {
            trigger: Trigger::Retrial,
            since: before,
        },
        State::Revoked { since: before },
        State::Open,
        State::NotEligible,
    ] {
        assert!(!lifted.is_sealed_on(day), "{lifted:?}");
    }
    // As stored: the state's code and date.
    assert!(!sealed_on("pending_seal", Some("2026-06-05"), before));
    assert!(sealed_on("pending_seal", Some("2026-06-05"), day));
    assert!(!sealed_on("pending_seal", None, day));
    assert!(sealed_on("sealed", Some("2026-06-05"), before));
    assert!(!sealed_on("unsealed", Some("2026-06-01"), day));
    assert!(!sealed_on("revoked", Some("2026-06-01"), day));
    assert!(!sealed_on("open", None, day));
}

proptest! {
    /// Whatever order the events arrive in, the facts are the same.
    #[test]
    fn arrival_order_does_not_change_the_facts(order in Just((0..5usize).collect::<Vec<_>>()).prop_shuffle()) {
        let events = chain();
        let shuffled: Vec<StoredEvent> = order.iter().enumerate().map(|(seq, &i)| StoredEvent { seq: seq as i64, event: events[i].event.clone() }).collect();
        let a = derive_record("R", &events).unwrap();
        let b = derive_record("R", &shuffled).unwrap();
        prop_assert_eq!(a.record, b.record);
    }
}

/// The ground (and the history) a not_prosecuted event states reach the record's facts, and with
/// them the exclusions (issue 14, decision 1): one drug case, not prosecuted on each ground, and a
/// theft not prosecuted at the discretion of a procuratorate for a person with a prior conviction.
#[test]
fn a_non_prosecutions_ground_reaches_the_facts_and_the_decision() {
    use fengcun_domain::NonProsecutionGround as G;
    use fengcun_policy::Outcome;
    let policy = presets::get("cn-minor-opt1").unwrap();
    let today = Date::constant(2025, 1, 1);
    let drugs = "走私、贩卖、运输、制造毒品罪";
    // (charge, fields of the not_prosecuted event, ground and history derived, outcome)
    type Row = (&'static str, Value, Option<G>, Option<u32>, Outcome);
    #[rustfmt::skip]
    let rows: [Row; 6] = [
        (drugs, json!({"ground": "statutory"}), Some(G::Statutory), None, Outcome::Seal),
        // The record-facts name is read on an event too.
        (drugs, json!({"non_prosecution_ground": "insufficient_evidence"}), Some(G::InsufficientEvidence), None, Outcome::Seal),
        (drugs, json!({"ground": "discretionary", "prior_convictions": 0}), Some(G::Discretionary), Some(0), Outcome::NotEligible),
        (drugs, json!({"prior_convictions": 0}), None, Some(0), Outcome::NeedsFacts),
        ("盗窃罪", json!({"ground": "discretionary", "prior_convictions": 1}), Some(G::Discretionary), Some(1), Outcome::NotEligible),
        ("盗窃罪", json!({"ground": "discretionary", "prior_convictions": 0}), Some(G::Discretionary), Some(0), Outcome::Seal),
    ];
    for (charge, extra, ground, prior, outcome) in rows {
        let events = vec![
            event(
                1,
                "f",
                "filed",
                "2024-05-01",
                "public_security",
                json!({"charges": [{"name": charge}], "offence_date": "2024-04-30"}),
            ),
            event(
                2,
                "n",
                "not_prosecuted",
                "2024-09-01",
                "procuratorate",
                extra.clone(),
            ),
        ];
        let record = derive_record("A", &events).unwrap().record;
        assert_eq!(record.disposition, Disposition::NotProsecuted, "{extra}");
        assert_eq!(record.non_prosecution_ground, ground, "{extra}");
        assert_eq!(record.prior_convictions, prior, "{extra}");
        assert_eq!(
            evaluate(policy, &record, today).outcome,
            outcome,
            "{charge} {extra}"
        );
    }
    // The history belongs to the non-prosecution decision; a judgment gives its own.
    let mut e = json!({"idempotency_key": "w", "kind": "case_withdrawn", "date": "2024-09-01",
                       "case_code": "110105-2024-000001", "agency": {"kind": "public_security", "code": "110105-public_security"},
                       "person": {"id_number": ID}, "prior_convictions": 0});
    let error = Event::parse(&serde_json::to_vec(&e).unwrap()).unwrap_err();
    assert_eq!(error.field, "prior_convictions", "{error}");
    e["kind"] = json!("not_prosecuted");
    e["agency"] = json!({"kind": "procuratorate", "code": "110105-jc"});
    assert!(Event::parse(&serde_json::to_vec(&e).unwrap()).is_ok());
}
