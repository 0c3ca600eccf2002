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
        let dir = std::env::temp_dir().join(format!("fengcun-ops-{}-{test}", std::process::id()));
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
                &id_number(n, false),
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
            .record(&case, &format!("id:{}", id_number(n, false)))
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
        // A sealed detail outside the records: a person's enrolled name.
        let person = fengcun_store::UserRow {
            username: "person-a".into(),
            password_hash: "not-a-hash".into(),
            role: fengcun_store::Role::Requester,
            requester_kind: Some(fengcun_store::RequesterKind::Person),
            agency: None,
            person_key: Some(server.keys().person_key(&id_number(0, false))),
            name: Some("张三".into()),
            disabled: false,
        };
        assert!(server.add_user(&person, &[], c.now).await.unwrap());
        // And a kept certificate's file (migration 23).
        let certificate = fengcun_store::CertificateRow {
            number: "FC-2024-00000001".into(),
            person_key: server.keys().person_key(&id_number(0, false)),
            result: fengcun_store::CertificateOutcome::NoCriminalRecord,
            issued_by: "user:counter".into(),
            issued_at: "2024-06-01T00:00:00Z".into(),
            file: "{\"certificate\":{\"person\":{\"name\":\"张三\"}}}"
                .as_bytes()
                .to_vec(),
        };
        server
            .put_certificate(&certificate, &[], c.now)
            .await
            .unwrap();
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
        // The person key is kept as the bytes of its hex (migration 20).
        let rows: Vec<(Vec<u8>, String, Vec<u8>)> =
            sqlx::query_as("SELECT person, case_code, data_key FROM records")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(rows.len(), 45);
        for (person, case, wrapped) in rows {
            let person: String = person.iter().map(|b| format!("{b:02x}")).collect();
            let context = format!("fengcun/record/{person}/{case}");
            wrapper
                .unwrap(&fengcun_crypto::WrappedKey(wrapped), context.as_bytes())
                .unwrap_or_else(|e| panic!("{case}: {e}"));
        }

        // With the new key alone: every sealed record decrypts, identities are found by the same
        // keyed hash, new events are stored.
        let fresh = fengcun_store::open(&url, Keys::new(new.clone()))
            .await
            .unwrap();
        assert_eq!(read_all(&fresh, 45).await, expected);
        assert_eq!(
            fresh
                .user("person-a")
                .await
                .unwrap()
                .unwrap()
                .name
                .as_deref(),
            Some("张三")
        );
        assert_eq!(
            fresh.certificate("FC-2024-00000001").await.unwrap(),
            Some(certificate.clone())
        );
        assert_eq!(fresh.events().await.unwrap().len(), 45 * 3);
        assert_eq!(
            fresh.keys().person_key(&id_number(3, false)),
            server.keys().person_key(&id_number(3, false))
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
            [
                "master_key_rotation_started",
                "master_key_rotation_finished"
            ]
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
        let report = store.verify_audit_with_keys(&outside, &ring).await.unwrap();
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

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): on the path, or in the newest
/// `/usr/lib/postgresql/*/bin`.
fn pg_program(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("bin").join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn run(program: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Backs `store` (at `url`) up and restores the backup as a new database; its URL. SQLite: the
/// online backup (`VACUUM INTO`) copied into place; PostgreSQL: `pg_dump --format=custom`, then
/// `pg_restore` into an empty database — the commands docs/operations.md gives.
async fn backup(store: &SqlStore, url: &str, scratch: &Scratch) -> Box<dyn FnOnce() -> String> {
    if url.starts_with("sqlite:") {
        let file = scratch.0.join("backup.sqlite");
        store.backup_to(&file).await.unwrap();
        // A second backup to the same file is refused, never written over.
        assert!(matches!(
            store.backup_to(&file).await,
            Err(StoreError::Backup(_))
        ));
        let restored = scratch.0.join("restored.sqlite");
        Box::new(move || {
            std::fs::copy(&file, &restored).unwrap();
            format!("sqlite://{}", restored.display())
        })
    } else {
        let dump = scratch.0.join("backup.dump");
        run(
            &pg_program("pg_dump"),
            &[
                "--format=custom",
                "--file",
                dump.to_str().unwrap(),
                "--dbname",
                url,
            ],
        );
        let admin = std::env::var("FENGCUN_TEST_DATABASE_URL").unwrap();
        let target = fresh_postgres_url(&admin, "restored").await;
        // What `fengcun restore` checks first: it restores into an empty database only.
        assert!(fengcun_store::postgres_holds_tables(url).await.unwrap());
        assert!(!fengcun_store::postgres_holds_tables(&target).await.unwrap());
        Box::new(move || {
            run(
                &pg_program("pg_restore"),
                &[
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    &target,
                    dump.to_str().unwrap(),
                ],
            );
            target
        })
    }
}

#[tokio::test]
async fn a_restored_backup_replays_the_later_events_to_the_same_states_and_its_log_verifies() {
    let scratch = Scratch::new("restore");
    for url in fresh_urls(&scratch, "restore_drill").await {
        let master = MasterKey::generate();
        let signing = SigningKey::generate(Suite::Sm);
        let store = fengcun_store::open(&url, Keys::new(master.clone()))
            .await
            .unwrap();
        let early = ctx("2024-06-01T00:00:00Z");
        store.ingest(&convictions(0, 20), &early).await.unwrap();
        store
            .sign_tree_head(&signing, early.now, true)
            .await
            .unwrap();
        // The heads an auditor took away before the backup.
        let heads_before = store.tree_heads().await.unwrap();
        assert_eq!(heads_before.len(), 1);

        let restore = backup(&store, &url, &scratch).await;

        // After the backup: new persons, and later convictions of persons already stored, which
        // lift their seals.
        let later = ctx("2025-03-01T00:00:00Z");
        let mut after = convictions(20, 30);
        after.extend(second_convictions(&[1, 3, 5]));
        store.ingest(&after, &later).await.unwrap();
        let tick = ctx("2026-01-01T00:00:00Z");
        store.tick(&tick).await.unwrap();
        let states = store.states().await.unwrap();
        let records = read_all(&store, 30).await;
        assert!(records.iter().any(|(_, state, _)| state == "unsealed"));

        // The restore, and the later events sent again.
        let restored_url = restore();
        let restored = fengcun_store::open(&restored_url, Keys::new(master.clone()))
            .await
            .unwrap();
        assert_eq!(restored.states().await.unwrap().len(), 20);
        restored.ingest(&after, &later).await.unwrap();
        restored.tick(&tick).await.unwrap();
        assert_eq!(restored.states().await.unwrap(), states);
        assert_eq!(read_all(&restored, 30).await, records);

        // The restored log verifies against the heads signed before the backup, and grows on.
        let report = restored
            .verify_audit_with_keys(&heads_before, &[signing.verifying_key()])
            .await
            .unwrap();
        assert!(report.problem.is_none(), "{:?}", report.problem);
        assert_eq!(report.outside_heads, 1);
        assert_eq!(report.signatures_checked, 2);
        restored
            .sign_tree_head(&signing, tick.now, true)
            .await
            .unwrap();
        let report = restored
            .verify_audit_with_keys(&heads_before, &[signing.verifying_key()])
            .await
            .unwrap();
        assert!(report.problem.is_none(), "{:?}", report.problem);
    }
}

/// A later conviction (fixed term of three years, so that it lifts a juvenile's seal) of each of
/// `persons`, in a case of its own.
fn second_convictions(persons: &[u32]) -> Vec<ValidEvent> {
    persons
        .iter()
        .flat_map(|&n| {
            let case = Case {
                ending: Ending::Convicted {
                    detention: false,
                    months: 72,
                    combined: None,
                },
                offence: 1100 + i64::from(n),
                to_disposition: 60,
                to_effective: 11,
                batches: [0, 0, 0],
            };
            events(
                &case,
                &format!("110105-2024-{:06}", 900 + n),
                &id_number(n, false),
            )
            .into_iter()
            .map(|(_, e)| e)
        })
        .collect()
}
