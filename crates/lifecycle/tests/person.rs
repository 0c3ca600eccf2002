//! The person-level decision alone (`fengcun_lifecycle::decide`), with no store: worked examples
//! of the unsealing cascade, each a table of events arriving on a day and, written by hand, the
//! transitions each arrival makes and the states the records end in.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::collections::BTreeMap;

use fengcun_domain::{Date, Event, FieldError, Record};
use fengcun_lifecycle::{
    Cause, Issuing, PersonRecords, State, StoredEvent, Transition, Under, decide,
};
use fengcun_policy::presets;
use serde_json::{Value, json};

const ID: &str = "110105199003070025";
const COURT: &str = "110105-fy";

/// The case codes behind the tables' labels.
const CASES: [(&str, &str); 2] = [("A", "110105-2024-000001"), ("B", "110105-2025-000002")];

fn code(label: &str) -> &'static str {
    CASES.iter().find(|(l, _)| *l == label).unwrap().1
}

fn label(code: &str) -> &'static str {
    CASES.iter().find(|(_, c)| *c == code).unwrap().0
}

/// One person's records, as a store would hold them.
#[derive(Default)]
struct Person {
    records: BTreeMap<String, Held>,
    seq: i64,
}

#[derive(Default)]
struct Held {
    state: Option<State>,
    convicted: bool,
    facts: Option<Record>,
    events: Vec<StoredEvent>,
}

impl PersonRecords for Person {
    type Error = FieldError;

    fn invalid(error: FieldError) -> FieldError {
        error
    }

    fn cases(&self) -> Vec<String> {
        self.records.keys().cloned().collect()
    }

    fn state(&self, case_code: &str) -> Option<Option<State>> {
        self.records.get(case_code).map(|r| r.state)
    }

    fn convicted(&self, case_code: &str) -> bool {
        self.records.get(case_code).is_some_and(|r| r.convicted)
    }

    fn events(&mut self, case_code: &str) -> Result<Vec<StoredEvent>, FieldError> {
        Ok(self
            .records
            .get(case_code)
            .map(|r| r.events.clone())
            .unwrap_or_default())
    }

    fn facts(&mut self, case_code: &str) -> Result<Option<Record>, FieldError> {
        Ok(self.records.get(case_code).and_then(|r| r.facts.clone()))
    }
}

/// A judgment of `case` and its taking effect: `instance` (`first`, `retrial`), judged on
/// `judged` for an offence on `offence`, `months` of 有期徒刑, with `prior` earlier convictions.
fn conviction(
    case: &str,
    instance: &str,
    offence: &str,
    judged: &str,
    effective: &str,
    months: u32,
    prior: u32,
) -> Vec<Event> {
    let event = |key: &str, kind: &str, date: &str, extra: Value| {
        let mut e = json!({"idempotency_key": format!("{case}-{key}"), "kind": kind, "date": date,
            "case_code": code(case), "agency": {"kind": "court", "code": COURT},
            "person": {"id_number": ID, "name": "张三"}});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        Event::parse(&serde_json::to_vec(&e).unwrap())
            .unwrap()
            .event
    };
    vec![
        event(
            &format!("{instance}-judgment"),
            "judgment",
            judged,
            json!({"judgment": {"instance": instance, "verdict": "convicted",
                "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "fixed_term", "months": months},
                "offence_date": offence, "recidivist": false, "prior_convictions": prior}}),
        ),
        event(
            &format!("{instance}-effective"),
            "judgment_effective",
            effective,
            json!({}),
        ),
    ]
}

/// A state as the tables write it: `sealed 2024-03-12`, `unsealed new_conviction 2025-02-01`.
fn show(state: Option<State>) -> String {
    let Some(state) = state else {
        return "-".into();
    };
    let mut shown = state.code().code().to_owned();
    if let Some(trigger) = state
        .trigger()
        .filter(|_| matches!(state, State::Unsealed { .. }))
    {
        shown = format!("{shown} {}", trigger.code());
    }
    if let Some(date) = state.date() {
        shown = format!("{shown} {date}");
    }
    shown
}

/// A transition as the tables write it: `A: sealed 2024-03-12 -> unsealed … (rule) [notice: to
/// whom] judgment of <date>`.
fn show_transition(t: &Transition) -> String {
    let mut shown = format!(
        "{}: {} -> {}",
        label(&t.case_code),
        show(t.from),
        show(Some(t.to))
    );
    if let Some(rule) = &t.rule {
        shown = format!("{shown} ({rule})");
    }
    if let Some(kind) = t.notice {
        shown = format!("{shown} [{}: {}]", kind.code(), t.recipients.join(", "));
    }
    if let Some(judged) = t
        .notice_facts
        .as_ref()
        .and_then(|f| f["judgment"]["date"].as_str())
    {
        shown = format!("{shown} judgment of {judged}");
    }
    shown
}

/// Events of one case arriving on a day.
struct Arrival {
    today: &'static str,
    case: &'static str,
    events: Vec<Event>,
}

/// Stores an arrival's events and decides their record with `decide` alone, as a store would
/// (writing back what it returns); the transitions it made.
fn arrive(person: &mut Person, policy: &str, arrival: Arrival) -> Vec<String> {
    let policy = presets::get(policy).unwrap();
    let issuing = Issuing::default();
    let today: Date = arrival.today.parse().unwrap();
    let keys: Vec<(String, String)> = arrival
        .events
        .iter()
        .map(|e| (e.agency.code.clone(), e.idempotency_key.clone()))
        .collect();
    let case = code(arrival.case);
    let held = person.records.entry(case.to_owned()).or_default();
    for event in arrival.events {
        person.seq += 1;
        held.events.push(StoredEvent {
            seq: person.seq,
            event: event.validate_stored().unwrap(),
        });
    }
    let arriving: Vec<(&str, &str)> = keys.iter().map(|(a, k)| (a.as_str(), k.as_str())).collect();
    let decided = decide(
        person,
        case,
        Cause::Events { correction: false },
        &arriving,
        Under {
            policy,
            juvenile: fengcun_policy::presets::get("cn-juvenile"),
            violation_policy: fengcun_policy::presets::get("cn-public-security-violation").unwrap(),
            issuing: &issuing,
            today,
        },
    )
    .unwrap();
    for record in &decided.records {
        let held = person.records.get_mut(&record.case_code).unwrap();
        held.state = record.state;
        held.convicted = record.convicted;
        held.facts = Some(record.derived.record.clone());
    }
    decided.transitions.iter().map(show_transition).collect()
}

struct Example {
    name: &'static str,
    policy: &'static str,
    /// Each arrival, with the transitions it makes (in the order made).
    steps: Vec<(Arrival, Vec<&'static str>)>,
    /// How each record ends.
    end: Vec<(&'static str, &'static str)>,
}

/// Case A: 盗窃, ten months, judged 2024-03-01, in effect 2024-03-12 — a first offender's minor
/// conviction, sealed from the day it took effect.
fn first(today: &'static str) -> Arrival {
    Arrival {
        today,
        case: "A",
        events: conviction(
            "A",
            "first",
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
            10,
            0,
        ),
    }
}

fn examples() -> Vec<Example> {
    vec![
        Example {
            name: "a new crime after the seal (再犯新罪) lifts it",
            policy: "cn-minor-opt1",
            steps: vec![
                (
                    first("2024-06-01"),
                    vec!["A: - -> sealed 2024-03-12 [seal: 110105-fy, person]"],
                ),
                (
                    // Committed 2024-10-01, after A's judgment: a new crime; not a first offence.
                    Arrival {
                        today: "2025-02-01",
                        case: "B",
                        events: conviction(
                            "B",
                            "first",
                            "2024-10-01",
                            "2025-01-10",
                            "2025-01-21",
                            10,
                            1,
                        ),
                    },
                    vec![
                        "B: - -> not_eligible",
                        "A: sealed 2024-03-12 -> unsealed new_conviction 2025-02-01 (unseal_new_crime) [unseal: 110105-fy, person] judgment of 2025-01-10",
                    ],
                ),
            ],
            end: vec![
                ("A", "unsealed new_conviction 2025-02-01"),
                ("B", "not_eligible"),
            ],
        },
        Example {
            name: "an earlier crime discovered after the seal (发现漏罪) lifts it",
            policy: "cn-minor-opt1",
            steps: vec![
                (
                    first("2024-06-01"),
                    vec!["A: - -> sealed 2024-03-12 [seal: 110105-fy, person]"],
                ),
                (
                    // Committed 2024-01-20, before A's judgment, judged after it: 漏罪.
                    Arrival {
                        today: "2025-02-01",
                        case: "B",
                        events: conviction(
                            "B",
                            "first",
                            "2024-01-20",
                            "2025-01-10",
                            "2025-01-21",
                            10,
                            1,
                        ),
                    },
                    vec![
                        "B: - -> not_eligible",
                        "A: sealed 2024-03-12 -> unsealed prior_crime_discovered 2025-02-01 (unseal_prior_crime) [unseal: 110105-fy, person] judgment of 2025-01-10",
                    ],
                ),
            ],
            end: vec![
                ("A", "unsealed prior_crime_discovered 2025-02-01"),
                ("B", "not_eligible"),
            ],
        },
        Example {
            name: "a retrial to five years unseals the record it retried",
            policy: "cn-minor-opt1",
            steps: vec![
                (
                    first("2024-06-01"),
                    vec!["A: - -> sealed 2024-03-12 [seal: 110105-fy, person]"],
                ),
                (
                    Arrival {
                        today: "2025-02-01",
                        case: "A",
                        events: conviction(
                            "A",
                            "retrial",
                            "2024-01-02",
                            "2025-01-10",
                            "2025-01-21",
                            60,
                            0,
                        ),
                    },
                    vec![
                        "A: sealed 2024-03-12 -> unsealed retrial 2025-02-01 (unseal_retrial) [unseal: 110105-fy, person] judgment of 2025-01-10",
                    ],
                ),
            ],
            end: vec![("A", "unsealed retrial 2025-02-01")],
        },
        Example {
            name: "an earlier conviction arriving after a later one is sealed, then lifted by it",
            policy: "cn-minor-opt1",
            steps: vec![
                (
                    Arrival {
                        today: "2025-02-01",
                        case: "B",
                        events: conviction(
                            "B",
                            "first",
                            "2024-10-01",
                            "2025-01-10",
                            "2025-01-21",
                            10,
                            1,
                        ),
                    },
                    vec!["B: - -> not_eligible"],
                ),
                (
                    first("2025-02-05"),
                    vec![
                        "A: - -> sealed 2024-03-12 [seal: 110105-fy, person]",
                        "A: sealed 2024-03-12 -> unsealed new_conviction 2025-02-05 (unseal_new_crime) [unseal: 110105-fy, person] judgment of 2025-01-10",
                    ],
                ),
            ],
            end: vec![
                ("A", "unsealed new_conviction 2025-02-05"),
                ("B", "not_eligible"),
            ],
        },
        Example {
            name: "an earlier sealable conviction arriving after a later sealed one is lifted by it",
            policy: "cn-minor-opt1",
            steps: vec![
                (
                    first("2024-06-01"),
                    vec!["A: - -> sealed 2024-03-12 [seal: 110105-fy, person]"],
                ),
                (
                    // B, judged 2023-06-01, arrives after A, whose offence (2024-01-02) came
                    // after B's judgment: A is a new crime for B, sealed for a moment, then lifted.
                    Arrival {
                        today: "2024-07-01",
                        case: "B",
                        events: conviction(
                            "B",
                            "first",
                            "2023-01-10",
                            "2023-06-01",
                            "2023-06-12",
                            10,
                            0,
                        ),
                    },
                    vec![
                        "B: - -> sealed 2023-06-12 [seal: 110105-fy, person]",
                        "B: sealed 2023-06-12 -> unsealed new_conviction 2024-07-01 (unseal_new_crime) [unseal: 110105-fy, person] judgment of 2024-03-01",
                    ],
                ),
            ],
            end: vec![
                ("A", "sealed 2024-03-12"),
                ("B", "unsealed new_conviction 2024-07-01"),
            ],
        },
    ]
}

#[test]
fn worked_examples_of_the_unsealing_cascade() {
    let mut failures = Vec::new();
    for example in examples() {
        let mut person = Person::default();
        for (n, (arrival, expected)) in example.steps.into_iter().enumerate() {
            let made = arrive(&mut person, example.policy, arrival);
            if made != expected {
                failures.push(format!(
                    "{}, step {}:\n  made     {made:#?}\n  expected {expected:#?}",
                    example.name,
                    n + 1
                ));
            }
        }
        let end: Vec<(String, String)> = person
            .records
            .iter()
            .map(|(case, held)| (label(case).to_owned(), show(held.state)))
            .collect();
        let expected: Vec<(String, String)> = example
            .end
            .iter()
            .map(|(case, state)| ((*case).to_owned(), (*state).to_owned()))
            .collect();
        if end != expected {
            failures.push(format!(
                "{}, end: {end:?}, expected {expected:?}",
                example.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
