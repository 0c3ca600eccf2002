//! Random histories of one person's cases: convictions with random sentences (some combined with
//! another case's, 数罪并罚), acquittals, non-prosecutions and withdrawn cases, with random dates;
//! each case's events with the batch they arrive in, and an order in which all of a history's
//! events arrive one by one. The pure lifecycle's `tests/histories.rs` drives them through
//! `fengcun_lifecycle` event by event (in `History::order`); the store's through ingestion, batch by
//! batch (`Case::batches`). Both hold the same properties: no record that is not a conviction is
//! unsealed by a new crime or a discovered earlier crime, and every notice calls its record what it
//! is (a conviction a 犯罪记录, anything else a 涉罪记录; see [`designation`]).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a fixture fails loudly when it is broken"
)]

use fengcun_domain::{Date, Event, ValidEvent};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub enum Ending {
    Convicted {
        detention: bool,
        months: u32,
        /// Months added by combination with another case (数罪并罚), if the judgment gives it.
        combined: Option<u32>,
    },
    Acquitted {
        effective: bool,
    },
    NotProsecuted,
    Withdrawn,
}

impl Ending {
    pub fn convicted(&self) -> bool {
        matches!(self, Ending::Convicted { .. })
    }
}

#[derive(Debug, Clone)]
pub struct Case {
    pub ending: Ending,
    /// Days after 2021-01-01.
    pub offence: i64,
    /// Days from the offence to the disposition (judgment, non-prosecution, withdrawal).
    pub to_disposition: i64,
    /// Days from the judgment to its taking effect.
    pub to_effective: i64,
    /// In which batch each of the case's events arrives (filing, disposition, effect).
    pub batches: [u8; 3],
}

#[derive(Debug, Clone)]
pub struct History {
    pub juvenile: bool,
    pub cases: Vec<Case>,
    /// The order the events arrive in one by one: a permutation of all the cases' events, in the
    /// order [`events`] lists them case after case.
    pub order: Vec<usize>,
}

pub fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        3 => (any::<bool>(), 1u32..=84, prop::option::of(0u32..=60)).prop_map(|(detention, months, combined)| {
            if detention {
                Ending::Convicted { detention, months: 1 + months % 6, combined: None }
            } else {
                Ending::Convicted { detention, months: months.max(6), combined }
            }
        }),
        1 => any::<bool>().prop_map(|effective| Ending::Acquitted { effective }),
        1 => Just(Ending::NotProsecuted),
        1 => Just(Ending::Withdrawn),
    ]
}

/// A history of two to four cases, each arriving in up to three batches, with an order of
/// arrival of all its events.
pub fn history() -> impl Strategy<Value = History> {
    let case = (
        ending(),
        0i64..1200,
        20i64..400,
        0i64..20,
        [0u8..3, 0u8..3, 0u8..3],
    )
        .prop_map(
            |(ending, offence, to_disposition, to_effective, batches)| Case {
                ending,
                offence,
                to_disposition,
                to_effective,
                batches,
            },
        );
    (any::<bool>(), prop::collection::vec(case, 2..=4)).prop_flat_map(|(juvenile, cases)| {
        let events: usize = cases
            .iter()
            .map(|c| events(c, "110105-2024-000000", &id_number(0, false)).len())
            .sum();
        Just((0..events).collect::<Vec<_>>())
            .prop_shuffle()
            .prop_map(move |order| History {
                juvenile,
                cases: cases.clone(),
                order,
            })
    })
}

pub fn day(offset: i64) -> String {
    Date::constant(2021, 1, 1)
        .checked_add(jiff::Span::new().days(offset))
        .unwrap()
        .to_string()
}

/// A valid identity number for history `n`: born in 1990, or in mid-2005 (a juvenile at the
/// earliest offences).
pub fn id_number(n: u32, juvenile: bool) -> String {
    let birth = if juvenile {
        Date::constant(2005, 6, 1)
    } else {
        Date::constant(1990, 3, 7)
    }
    .checked_add(jiff::Span::new().days(i64::from(n / 1000)))
    .unwrap();
    let body = format!("110105{}{:03}", birth.strftime("%Y%m%d"), n % 1000);
    let first17: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!(
        "{body}{}",
        fengcun_domain::id_number::check_character(&first17)
    )
}

pub fn event(
    key: &str,
    kind: &str,
    date: &str,
    case: &str,
    agency: &str,
    id: &str,
    extra: Value,
) -> ValidEvent {
    let agency = json!({"kind": agency, "code": format!("{}-{agency}", &case[..6])});
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date, "case_code": case,
                       "agency": agency, "person": {"id_number": id, "name": "张三"}});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    Event::parse(&serde_json::to_vec(&e).unwrap()).unwrap_or_else(|err| panic!("{key}: {err}"))
}

/// The case's events, each with the batch it arrives in.
pub fn events(case: &Case, code: &str, id: &str) -> Vec<(u8, ValidEvent)> {
    let charge = "故意伤害罪";
    let offence = day(case.offence);
    let disposed = day(case.offence + case.to_disposition);
    let effective = day(case.offence + case.to_disposition + case.to_effective);
    let [b_filed, b_disposed, b_effective] = case.batches;
    let mut out = vec![(
        b_filed,
        event(
            &format!("{code}/f"),
            "filed",
            &offence,
            code,
            "public_security",
            id,
            json!({"charges": [{"name": charge}], "offence_date": offence}),
        ),
    )];
    match &case.ending {
        Ending::Convicted {
            detention,
            months,
            combined,
        } => {
            let sentence = if *detention {
                json!({"principal": "criminal_detention", "months": months})
            } else {
                json!({"principal": "fixed_term", "months": months})
            };
            let mut judgment = json!({"instance": "first", "verdict": "convicted", "charges": [{"name": charge}],
                "sentence": sentence, "offence_date": offence, "recidivist": false, "prior_convictions": 0});
            if let Some(extra) = combined {
                judgment["combined_sentence"] =
                    json!({"principal": "fixed_term", "months": months + extra});
            }
            out.push((
                b_disposed,
                event(
                    &format!("{code}/j"),
                    "judgment",
                    &disposed,
                    code,
                    "court",
                    id,
                    json!({"judgment": judgment}),
                ),
            ));
            out.push((
                b_effective,
                event(
                    &format!("{code}/e"),
                    "judgment_effective",
                    &effective,
                    code,
                    "court",
                    id,
                    json!({}),
                ),
            ));
        }
        Ending::Acquitted {
            effective: takes_effect,
        } => {
            out.push((b_disposed, event(&format!("{code}/j"), "judgment", &disposed, code, "court", id,
                json!({"judgment": {"instance": "first", "verdict": "acquitted", "charges": [{"name": charge}]}}))));
            if *takes_effect {
                out.push((
                    b_effective,
                    event(
                        &format!("{code}/e"),
                        "judgment_effective",
                        &effective,
                        code,
                        "court",
                        id,
                        json!({}),
                    ),
                ));
            }
        }
        Ending::NotProsecuted => out.push((
            b_disposed,
            event(
                &format!("{code}/n"),
                "not_prosecuted",
                &disposed,
                code,
                "procuratorate",
                id,
                json!({"ground": "discretionary"}),
            ),
        )),
        Ending::Withdrawn => out.push((
            b_disposed,
            event(
                &format!("{code}/w"),
                "case_withdrawn",
                &disposed,
                code,
                "public_security",
                id,
                json!({}),
            ),
        )),
    }
    out
}

/// The notice with the titles of the laws and policies it cites taken out (《关于未成年人犯罪记录
/// 封存的实施办法》 names a law, not the record) and its 依据 line (the policy's legal bases).
pub fn designation(body: &str) -> String {
    body.lines()
        .filter(|l| !l.trim_start().starts_with("依据："))
        .flat_map(|line| {
            line.split('《')
                .map(|part| part.split_once('》').map_or(part, |(_, rest)| rest))
                .chain(std::iter::once("\n"))
        })
        .collect()
}

/// What the histories reached, counted by the tests to show the cases that matter were exercised.
#[derive(Debug, Default)]
pub struct Seen {
    /// Convictions unsealed by a new crime, and by a discovered earlier crime.
    pub new_crime: u32,
    pub prior_crime: u32,
    /// Records that are not convictions, sealed, of a person with a later conviction.
    pub sealed_beside_a_later_conviction: u32,
    pub notices: u32,
}
