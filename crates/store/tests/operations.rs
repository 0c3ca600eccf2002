//! Operations on a live store: rotating the master key and the signing key, backing up and
//! restoring (docs/operations.md). Each test runs on SQLite and, when `FENGCUN_TEST_DATABASE_URL`
//! is set, on a fresh PostgreSQL database beside it.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::path::PathBuf;
use std::sync::Arc;

use fengcun_crypto::{MasterKey, SigningKey, Suite};
use fengcun_domain::ValidEvent;
use fengcun_policy::presets;
use fengcun_store::prelude::*;
use fengcun_store::{AuditKind, Context, Keys, SqlStore, StoreError};
use fengcun_testkit::histories::{Case, Ending, events, id_number};

/// A directory of the test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("fengcun-ops-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, empty PostgreSQL database beside the one `url` names; its URL.
async fn fresh_postgres_url(url: &str, name: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let name = format!("fengcun_{}_{}", name, std::process::id());
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = url.rsplit_once('/').map(|(base, _)| base).unwrap();
    format!("{base}/{name}")
}

/// A fresh database's URL on each backend.
async fn fresh_urls(scratch: &Scratch, test: &str) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite://{}",
        scratch.0.join("store.sqlite").display()
    )];
    match std::env::var("FENGCUN_TEST_DATABASE_URL") {
        Ok(url) => urls.push(fresh_postgres_url(&url, test).await),
        Err(_) => {
            eprintln!("SKIPPED PostgreSQL: FENGCUN_TEST_DATABASE_URL is not set (.ci/run sets it)")
        }
    }
    urls
}

fn ctx(now: &str) -> Context {
    Context::new(
        Arc::new(presets::get("cn-minor-opt1").unwrap().clone()),
        now.parse().unwrap(),
    )
}

/// One conviction each for persons `from..to` (juveniles, so most are sealed), each its own case.
fn convictions(from: u32, to: u32) -> Vec<ValidEvent> {
    (from..to)
        .flat_map(|n| {
            let case = Case {
                ending: Ending::Convicted {
                    detention: n % 2 == 0,
                    months: if n % 2 == 0 { 1 + n % 6 } else { 6 + n % 30 },
                    combined: None,
                },
                offence: 700 + i64::from(n),
                to_disposition: 60,
                to_effective: 11,
                batches: [0, 0, 0],
            };
            events(
                &case,
                &format!("110105-2023-{:06}", 500 + n),
                &id_number(n, true),
            )
            .into_iter()
            .map(|(_, e)| e)
        })
        .collect()
}

/// What every record of persons `0..to` reads as: its state and its facts, decrypted.
async fn read_all(store: &SqlStore, to: u32) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for n in 0..to {
        let case = format!("110105-2023-{:06}", 500 + n);
        let record = store
            .record(&case, &format!("id:{}", id_number(n, true)))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("record {case}"));
        out.push((
            case,
            record.state.as_str().to_owned(),
            record.facts.expect("facts decrypted"),
        ));
    }
    out
}

#[tokio::test]
async fn the_master_key_rotates_online_resumes_after_a_crash_and_the_old_key_is_retired() {
    let scratch = Scratch::new("rotate-master");
    for url in fresh_urls(&scratch, "rotate_master").await {
        let old = MasterKey::generate();
        let new = MasterKey::generate();
        let c = ctx("2024-06-01T00:00:00Z");
        // The server, running throughout; a second writer that loads the ring only at open.
        let server = fengcun_store::open(&url, Keys::new(old.clone()))
            .await
            .unwrap();
        server.ingest(&convictions(0, 30), &c).await.unwrap();
        let straggler = fengcun_store::open(&url, Keys::new(old.clone()))
            .await
            .unwrap();
        let before = read_all(&server, 30).await;
        assert!(before.iter().any(|(_, state, _)| state == "sealed"));

        let rotator = fengcun_store::open(&url, Keys::new(old.clone()))
            .await
            .unwrap();
        let begun = rotator
            .begin_master_rotation(&new, "operator", c.now)
            .await
            .unwrap();
        assert_eq!((begun.generation, begun.finished), (1, false));
        assert_eq!(begun.key_id, new.key_id());
        // Another key while this rotation is unfinished: refused.
        let other = rotator
            .begin_master_rotation(&MasterKey::generate(), "operator", c.now)
            .await
            .unwrap_err();
        assert!(matches!(other, StoreError::KeyRotation(_)), "{other}");
        // The server loads the ring (it does every few seconds) and goes on.
        server.refresh_keys().await.unwrap();
        // A crash after seven record keys.
        let partial = rotator
            .rewrap_record_keys(Some(7), "operator", c.now)
            .await
            .unwrap();
        assert_eq!((partial.rewrapped, partial.finished), (7, false));
        drop(rotator);

        // Meanwhile: the server reads old and new keys alike, and stores more records (under the
        // new key); the straggler, which has not loaded the ring, stores some under the old one.
        assert_eq!(read_all(&server, 30).await, before);
        server.ingest(&convictions(30, 40), &c).await.unwrap();
        straggler.ingest(&convictions(40, 45), &c).await.unwrap();
        let expected = read_all(&server, 45).await;

        // A second run with the same new key goes on from where the first stopped, and finishes.
        let resumed = fengcun_store::open(&url, Keys::new(old.clone()))
            .await
            .unwrap();
        let again = resumed
            .begin_master_rotation(&new, "operator", c.now)
            .await
            .unwrap();
        assert_eq!((again.generation, again.finished), (1, false));
        let done = resumed
            .rewrap_record_keys(None, "operator", c.now)
            .await
            .unwrap();
        assert!(done.finished);
        // 45 records, 7 re-wrapped before the crash, 10 stored under the new key already.
        assert_eq!(done.rewrapped, 45 - 7 - 10);
        // The server that ran through it all still reads everything.
        assert_eq!(read_all(&server, 45).await, expected);

        // The old key opens nothing any more, and is refused at open.
        let refused = fengcun_store::open(&url, Keys::new(old.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, StoreError::KeyRotation(m) if m.contains("retired")),
            "{refused}"
        );
        let pool = server.pool();
        let (links,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM master_keys WHERE next_key IS NOT NULL OR previous IS NOT NULL",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(links, 0);
        // Every data key opens under the new key's key-wrapping key alone.
        let wrapper = new.key_wrapper();
        let rows: Vec<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT person_key, case_code, data_key FROM records")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(rows.len(), 45);
        for (person, case, wrapped) in rows {
            let context = format!("fengcun/record/{person}/{case}");
            wrapper
                .unwrap(
                    &fengcun_crypto::WrappedKey(wrapped),
                    context.as_bytes(),
                )
                .unwrap_or_else(|e| panic!("{case}: {e}"));
        }

        // With the new key alone: every sealed record decrypts, identities are found by the same
        // keyed hash, new events are stored.
        let fresh = fengcun_store::open(&url, Keys::new(new.clone()))
            .await
            .unwrap();
        assert_eq!(read_all(&fresh, 45).await, expected);
        assert_eq!(fresh.events().await.unwrap().len(), 45 * 3);
        assert_eq!(
            fresh.keys().person_key(&id_number(3, true)),
            server.keys().person_key(&id_number(3, true))
        );
        fresh.ingest(&convictions(45, 47), &c).await.unwrap();
        assert_eq!(read_all(&fresh, 47).await.len(), 47);

        // Audited, and the log still verifies.
        let entries = fresh.audit_entries(0, 10_000).await.unwrap();
        let rotation: Vec<&str> = entries
            .iter()
            .filter(|e| e.kind == AuditKind::KeyChanged)
            .map(|e| e.outcome.as_str())
            .collect();
        assert_eq!(
            rotation,
            ["master_key_rotation_started", "master_key_rotation_finished"]
        );
        let report = fresh.verify_audit(&[], None).await.unwrap();
        assert!(report.problem.is_none(), "{:?}", report.problem);

        // A second rotation, from the new key to a third.
        let third = MasterKey::generate();
        let next = fresh
            .begin_master_rotation(&third, "operator", c.now)
            .await
            .unwrap();
        assert_eq!(next.generation, 2);
        assert!(
            fresh
                .rewrap_record_keys(None, "operator", c.now)
                .await
                .unwrap()
                .finished
        );
        let last = fengcun_store::open(&url, Keys::new(third)).await.unwrap();
        assert_eq!(read_all(&last, 47).await.len(), 47);
    }
}

#[tokio::test]
async fn after_a_signing_key_rotation_old_heads_verify_with_the_old_key_still_published() {
    let scratch = Scratch::new("rotate-signing");
    for url in fresh_urls(&scratch, "rotate_signing").await {
        let store = fengcun_store::open(&url, Keys::new(MasterKey::generate()))
            .await
            .unwrap();
        let c = ctx("2024-06-01T00:00:00Z");
        let first = SigningKey::generate(Suite::Sm);
        let second = SigningKey::generate(Suite::Sm);
        let t1: jiff::Timestamp = "2024-06-01T00:00:00Z".parse().unwrap();
        let t2: jiff::Timestamp = "2024-07-01T00:00:00Z".parse().unwrap();

        assert!(
            store
                .register_signing_key(&first.verifying_key(), "1111111111111111", t1)
                .await
                .unwrap()
        );
        // Registered again at the next start: nothing changes.
        assert!(
            !store
                .register_signing_key(&first.verifying_key(), "1111111111111111", t1)
                .await
                .unwrap()
        );
        store.ingest(&convictions(0, 5), &c).await.unwrap();
        let old_head = store
            .sign_tree_head(&first, t1, true)
            .await
            .unwrap()
            .unwrap()
            .to_json();

        assert!(
            store
                .register_signing_key(&second.verifying_key(), "2222222222222222", t2)
                .await
                .unwrap()
        );
        store.ingest(&convictions(5, 9), &c).await.unwrap();
        let new_head = store
            .sign_tree_head(&second, t2, true)
            .await
            .unwrap()
            .unwrap()
            .to_json();

        let published = store.signing_keys().await.unwrap();
        let shown: Vec<(&str, Option<&str>, &str)> = published
            .iter()
            .map(|k| {
                (
                    k.key_id.as_str(),
                    k.valid_until.as_deref(),
                    k.valid_from.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "1111111111111111",
                    Some("2024-07-01T00:00:00Z"),
                    "2024-06-01T00:00:00Z"
                ),
                ("2222222222222222", None, "2024-07-01T00:00:00Z"),
            ]
        );
        assert_eq!(published[0].public_key, first.verifying_key().to_text());
        assert_eq!(published[0].algorithm, "sm2");

        // Every head, stored and kept outside, verifies with the published keys.
        let ring: Vec<_> = published
            .iter()
            .map(|k| fengcun_crypto::VerifyingKey::from_text(&k.public_key).unwrap())
            .collect();
        let outside = [old_head.clone(), new_head.clone()];
        let report = store
            .verify_audit_with_keys(&outside, &ring)
            .await
            .unwrap();
        assert!(report.problem.is_none(), "{:?}", report.problem);
        assert_eq!(report.signatures_checked, 4);
        // The new key alone does not verify the old head; the old alone not the new.
        for key in [second.verifying_key(), first.verifying_key()] {
            let report = store
                .verify_audit_with_keys(&[], std::slice::from_ref(&key))
                .await
                .unwrap();
            assert!(
                matches!(
                    report.problem,
                    Some(fengcun_store::AuditProblem::BadHeadSignature { .. })
                ),
                "{:?}",
                report.problem
            );
        }
        let registered: Vec<String> = store
            .audit_entries(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == AuditKind::KeyChanged)
            .map(|e| e.outcome)
            .collect();
        assert_eq!(registered, ["signing_key_registered"; 2]);
    }
}
