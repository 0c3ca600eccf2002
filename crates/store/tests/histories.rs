//! Random histories of one person's cases, through the store's ingestion and its cascade of
//! unsealing triggers (which exists only there, across a person's records): convictions with random
//! sentences (combined with another case's or not), acquittals, non-prosecutions and withdrawn
//! cases, with random dates, their events arriving in random batches. Whatever happens, no record
//! that is not a conviction is unsealed by a new crime or a discovered earlier crime (those
//! presuppose a sealed conviction), and every notice calls its record what it is: a conviction a
//! 犯罪记录, anything else a 涉罪记录, never a 犯罪记录.
//!
//! SQLite only (the contract suite runs the store on both engines; this is about the lifecycle's
//! rules): one database, one person per history. The pure lifecycle's `tests/histories.rs` drives
//! 10,000 histories through the same functions without a database.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::sync::Arc;

use fengcun_crypto::MasterKey;
use fengcun_domain::{Date, Event, ValidEvent};
use fengcun_policy::presets;
use fengcun_store::prelude::*;
use fengcun_store::{Context, Keys, NoticeFilter, SqlStore};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// Random histories checked here, each through the database (about 50 ms each in a debug
/// build); the pure lifecycle's `tests/histories.rs` runs 10,000 through the same functions.
const HISTORIES: u32 = 200;

#[derive(Debug, Clone)]
enum Ending {
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
    fn convicted(&self) -> bool {
        matches!(self, Ending::Convicted { .. })
    }
}

#[derive(Debug, Clone)]
struct Case {
    ending: Ending,
    /// Days after 2021-01-01.
    offence: i64,
    /// Days from the offence to the disposition (judgment, non-prosecution, withdrawal).
    to_disposition: i64,
    /// Days from the judgment to its taking effect.
    to_effective: i64,
    /// In which batch each of the case's events arrives (filing, disposition, effect).
    batches: [u8; 3],
}

#[derive(Debug, Clone)]
struct History {
    juvenile: bool,
    cases: Vec<Case>,
}

fn ending() -> impl Strategy<Value = Ending> {
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

fn history() -> impl Strategy<Value = History> {
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
    (any::<bool>(), prop::collection::vec(case, 2..=4))
        .prop_map(|(juvenile, cases)| History { juvenile, cases })
}

fn day(offset: i64) -> String {
    Date::constant(2021, 1, 1)
        .checked_add(jiff::Span::new().days(offset))
        .unwrap()
        .to_string()
}

/// A valid identity number for history `n`: born in 1990, or in mid-2005 (a juvenile at the
/// earliest offences).
fn id_number(n: u32, juvenile: bool) -> String {
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

fn event(
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
fn events(case: &Case, code: &str, id: &str) -> Vec<(u8, ValidEvent)> {
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
fn designation(body: &str) -> String {
    body.lines()
        .filter(|l| !l.trim_start().starts_with("依据："))
        .flat_map(|line| {
            line.split('《')
                .map(|part| part.split_once('》').map_or(part, |(_, rest)| rest))
                .chain(std::iter::once("\n"))
        })
        .collect()
}

#[derive(Default)]
struct Seen {
    /// Convictions unsealed by a new crime, and by a discovered earlier crime.
    new_crime: u32,
    prior_crime: u32,
    /// Records that are not convictions, sealed, of a person with a later conviction.
    sealed_beside_a_later_conviction: u32,
    notices: u32,
}

async fn check(
    store: &SqlStore,
    n: u32,
    history: &History,
    seen: &mut Seen,
) -> Result<(), TestCaseError> {
    let policy = if history.juvenile {
        "cn-juvenile"
    } else {
        "cn-minor-opt1"
    };
    let ctx = Context::new(
        Arc::new(presets::get(policy).unwrap().clone()),
        "2026-06-01T00:00:00Z".parse().unwrap(),
    );
    let id = id_number(n, history.juvenile);
    let codes: Vec<String> = (0..history.cases.len())
        .map(|i| format!("110105-2024-{:06}", n as usize * 4 + i))
        .collect();
    let mut all: Vec<(u8, ValidEvent)> = Vec::new();
    for (case, code) in history.cases.iter().zip(&codes) {
        all.extend(events(case, code, &id));
    }
    for batch in 0..3u8 {
        let events: Vec<ValidEvent> = all
            .iter()
            .filter(|(b, _)| *b == batch)
            .map(|(_, e)| e.clone())
            .collect();
        if !events.is_empty() {
            store
                .ingest(&events, &ctx)
                .await
                .map_err(|e| TestCaseError::fail(format!("batch {batch}: {e}")))?;
        }
    }
    let latest_conviction = history
        .cases
        .iter()
        .filter(|c| c.ending.convicted())
        .map(|c| c.offence + c.to_disposition)
        .max();
    for (case, code) in history.cases.iter().zip(&codes) {
        let record = store
            .record(code, &format!("id:{id}"))
            .await
            .unwrap()
            .expect("record exists");
        let trigger = record.trigger.as_deref();
        let convicted = case.ending.convicted();
        if !convicted {
            prop_assert!(
                !(record.state == "unsealed"
                    && matches!(trigger, Some("new_conviction" | "prior_crime_discovered"))),
                "{code} ({:?}) unsealed by {trigger:?}",
                case.ending
            );
            if record.state == "sealed"
                && latest_conviction.is_some_and(|d| d > case.offence + case.to_disposition)
            {
                seen.sealed_beside_a_later_conviction += 1;
            }
        } else if record.state == "unsealed" {
            match trigger {
                Some("new_conviction") => seen.new_crime += 1,
                Some("prior_crime_discovered") => seen.prior_crime += 1,
                _ => {}
            }
        }
        let notices = store
            .notices(NoticeFilter {
                case_code: Some(code.clone()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        for notice in notices {
            seen.notices += 1;
            let words = designation(&notice.body);
            if convicted {
                prop_assert!(
                    words.contains("犯罪记录") && !words.contains("涉罪记录"),
                    "{code}: {}",
                    notice.body
                );
            } else {
                prop_assert!(
                    words.contains("涉罪记录") && !words.contains("犯罪记录"),
                    "{code} ({:?}): {}",
                    case.ending,
                    notice.body
                );
            }
        }
    }
    Ok(())
}

#[test]
fn no_record_but_a_conviction_is_unsealed_by_another_conviction_and_notices_name_the_kind() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("fengcun-histories-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("store.sqlite").display());
    let store = runtime
        .block_on(fengcun_store::open(&url, Keys::new(MasterKey::generate())))
        .expect("sqlite store");
    let mut runner = TestRunner::new(Config {
        cases: HISTORIES,
        failure_persistence: None,
        ..Config::default()
    });
    // Each history (and each shrinking step) is a new person, so histories never meet.
    let next = std::cell::Cell::new(0u32);
    let seen = std::cell::RefCell::new(Seen::default());
    let result = runner.run(&history(), |history| {
        let n = next.get();
        next.set(n + 1);
        runtime.block_on(check(&store, n, &history, &mut seen.borrow_mut()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    result.unwrap();
    let seen = seen.into_inner();
    // The histories reached the cases that matter: both triggers did lift convictions, and records
    // that are not convictions stayed sealed beside later convictions.
    assert!(next.get() >= HISTORIES);
    for (what, count) in [
        ("convictions unsealed by a new crime", seen.new_crime),
        ("convictions unsealed by an earlier crime", seen.prior_crime),
        (
            "other records sealed beside a later conviction",
            seen.sealed_beside_a_later_conviction,
        ),
    ] {
        // At least one history in forty (the generator reaches an earlier crime about one in
        // twenty times; five is enough to show the case is exercised, not a rate to hold).
        assert!(count >= HISTORIES / 40, "{what}: {count}");
    }
    assert!(seen.notices > HISTORIES, "notices: {}", seen.notices);
}
