//! Random histories of one person's cases, through the store's ingestion and its cascade of
//! unsealing triggers (which exists only there, across a person's records): convictions with random
//! sentences (combined with another case's or not), acquittals, non-prosecutions and withdrawn
//! cases, with random dates, their events arriving in random batches. Whatever happens, no record
//! that is not a conviction is unsealed by a new crime or a discovered earlier crime (those
//! presuppose a sealed conviction), and every notice calls its record what it is: a conviction a
//! 犯罪记录, anything else a 涉罪记录, never a 犯罪记录.
//!
//! SQLite only (the contract suite runs the store on both engines; this is about the lifecycle's
//! rules): one database, one person per history. The histories are `fengcun-testkit`'s
//! (`histories`), each case's events arriving in the batches `Case::batches` names; the pure
//! lifecycle's `tests/histories.rs` drives 10,000 of the same histories through the same functions
//! without a database.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::sync::Arc;

use fengcun_crypto::MasterKey;
use fengcun_domain::ValidEvent;
use fengcun_policy::presets;
use fengcun_store::prelude::*;
use fengcun_store::{Context, Keys, NoticeFilter, SqlStore};
use fengcun_testkit::histories::{History, Seen, designation, events, history, id_number};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Random histories checked here, each through the database (about 50 ms each in a debug
/// build); the pure lifecycle's `tests/histories.rs` runs 10,000 through the same functions.
const HISTORIES: u32 = 200;

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
