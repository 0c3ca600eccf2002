//! The read side's queries (`RecordStore::record_page`, `timelines`, `recorded_policy`, `stats`) on
//! SQLite and, when `FENGCUN_TEST_DATABASE_URL` is set, on a fresh PostgreSQL database.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::sync::Arc;

use fengcun_crypto::MasterKey;
use fengcun_domain::{Event, ValidEvent};
use fengcun_policy::{Policy, presets};
use fengcun_store::prelude::*;
use fengcun_store::{Context, Keys, RecordFilter, SqlStore};
use serde_json::{Value, json};

async fn stores(test: &str) -> Vec<SqlStore> {
    let (keys, urls) = store_urls(test).await;
    let mut stores = Vec::new();
    for url in urls {
        stores.push(fengcun_store::open(&url, keys.clone()).await.unwrap());
    }
    stores
}

/// A fresh SQLite file and, when `FENGCUN_TEST_DATABASE_URL` is set, a fresh PostgreSQL database,
/// with the one master key their stores open with.
async fn store_urls(test: &str) -> (Keys, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("fengcun-reads-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = Keys::new(MasterKey::generate());
    let mut urls = vec![format!("sqlite://{}", dir.join("store.sqlite").display())];
    match std::env::var("FENGCUN_TEST_DATABASE_URL") {
        Ok(url) => {
            use sqlx::Executor;
            sqlx::any::install_default_drivers();
            let name = format!("fengcun_reads_{test}_{}", std::process::id());
            let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await
                .unwrap();
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let base = url.rsplit_once('/').map(|(base, _)| base).unwrap();
            urls.push(format!("{base}/{name}"));
        }
        Err(_) => {
            eprintln!("SKIPPED PostgreSQL: FENGCUN_TEST_DATABASE_URL is not set (.ci/run sets it)")
        }
    }
    (keys, urls)
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
    let kind_of = match &agency[7..] {
        "ga" => "public_security",
        _ => "court",
    };
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date, "case_code": case,
        "agency": {"kind": kind_of, "code": agency}, "person": {"id_number": id, "name": "李四"}});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    Event::parse(&serde_json::to_vec(&e).unwrap()).unwrap()
}

/// Dangerous driving, one month of 拘役, filed by the police and judged by the court.
fn sealed_conviction(case: &str, id: &str) -> Vec<ValidEvent> {
    vec![
        event(
            &format!("{case}-f"),
            "filed",
            "2024-01-02",
            case,
            "110105-ga",
            id,
            json!({"charges": [{"name": "危险驾驶罪"}], "offence_date": "2024-01-02"}),
        ),
        event(
            &format!("{case}-j"),
            "judgment",
            "2024-03-01",
            case,
            "110105-fy",
            id,
            json!({"document_number": format!("(2024)某刑初{}号", &case[12..]), "judgment": {"instance": "first", "verdict": "convicted",
                "charges": [{"name": "危险驾驶罪"}], "sentence": {"principal": "criminal_detention", "months": 1},
                "offence_date": "2024-01-02", "recidivist": false, "prior_convictions": 0}}),
        ),
        event(
            &format!("{case}-e"),
            "judgment_effective",
            "2024-03-12",
            case,
            "110105-fy",
            id,
            json!({}),
        ),
    ]
}

#[tokio::test]
async fn pages_timelines_policies_and_stats_on_every_engine() {
    let v2 = presets::get("cn-minor-opt1").unwrap().clone();
    let v3 = Policy::from_toml(
        "v3",
        &v2.source_text.replace("version = \"2\"", "version = \"3\""),
    )
    .unwrap();
    assert_eq!(v3.version(), "3");
    for store in stores("pages").await {
        let at = |policy: &Policy| {
            Context::new(
                Arc::new(policy.clone()),
                "2025-01-01T00:00:00Z".parse().unwrap(),
            )
        };
        store
            .ingest(
                &sealed_conviction("110105-2024-000001", "110105199003070025"),
                &at(&v2),
            )
            .await
            .unwrap();
        store
            .ingest(
                &sealed_conviction("110105-2024-000002", "11010519491231002X"),
                &at(&v3),
            )
            .await
            .unwrap();
        store
            .ingest(
                &[event(
                    "open-f",
                    "filed",
                    "2024-12-01",
                    "110105-2024-000003",
                    "110105-ga",
                    "110105198001010016",
                    json!({"charges": [{"name": "盗窃罪"}], "offence_date": "2024-12-01"}),
                )],
                &at(&v3),
            )
            .await
            .unwrap();
        let page = |filter: RecordFilter| {
            let store = &store;
            async move {
                let page = store.record_page(&filter).await.unwrap();
                (
                    page.records
                        .iter()
                        .map(|r| (r.case_code.clone(), r.state.clone()))
                        .collect::<Vec<_>>(),
                    page.next,
                )
            }
        };
        let all = RecordFilter {
            limit: 10,
            ..RecordFilter::default()
        };
        let (rows, next) = page(all.clone()).await;
        assert_eq!(
            rows,
            vec![
                ("110105-2024-000001".to_owned(), "sealed".to_owned()),
                ("110105-2024-000002".to_owned(), "sealed".to_owned()),
                ("110105-2024-000003".to_owned(), "open".to_owned()),
            ]
        );
        assert_eq!(next, None);
        let first = store.record_page(&all).await.unwrap().records.remove(0);
        assert_eq!(
            (
                first.person.name.as_deref(),
                first.person.id_number.as_deref()
            ),
            (Some("李四"), Some("110105199003070025"))
        );
        assert_eq!(first.policy_version.as_deref(), Some("2"));
        // policy_version, agency, state; a page of one and the next after it.
        let (rows, _) = page(RecordFilter {
            policy_version: Some("3".into()),
            ..all.clone()
        })
        .await;
        assert_eq!(
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["110105-2024-000002", "110105-2024-000003"]
        );
        let (rows, _) = page(RecordFilter {
            agency: Some("110105-fy".into()),
            ..all.clone()
        })
        .await;
        assert_eq!(
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["110105-2024-000001", "110105-2024-000002"]
        );
        let (rows, _) = page(RecordFilter {
            state: Some("open".into()),
            ..all.clone()
        })
        .await;
        assert_eq!(
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["110105-2024-000003"]
        );
        let (rows, next) = page(RecordFilter {
            limit: 1,
            ..all.clone()
        })
        .await;
        assert_eq!(rows.len(), 1);
        let (rows, next) = page(RecordFilter {
            limit: 1,
            after: next,
            ..all.clone()
        })
        .await;
        assert_eq!(
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["110105-2024-000002"]
        );
        assert!(next.is_some());
        // A timeline, whole for no holder, none for an agency that sent no event of it.
        let lives = store.timelines("110105-2024-000002", None).await.unwrap();
        assert_eq!(lives.len(), 1);
        let life = &lives[0];
        assert_eq!(
            life.events
                .iter()
                .map(|e| (
                    e.kind.as_str(),
                    e.agency_code.as_str(),
                    e.document_number.as_deref()
                ))
                .collect::<Vec<_>>(),
            [
                ("filed", "110105-ga", None),
                ("judgment", "110105-fy", Some("(2024)某刑初000002号")),
                ("judgment_effective", "110105-fy", None)
            ]
        );
        assert_eq!(life.transitions.len(), 1);
        let sealed = &life.transitions[0];
        assert_eq!(
            (
                sealed.to.as_str(),
                sealed.policy_version.as_str(),
                sealed.as_of.to_string()
            ),
            ("sealed", "3", "2025-01-01".to_owned())
        );
        assert_eq!(
            sealed.facts.judgment_effective_date,
            Some("2024-03-12".parse().unwrap())
        );
        assert_eq!(life.notices.len(), 3);
        assert_eq!(
            store
                .timelines("110105-2024-000002", Some("110105-fy"))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .timelines("110105-2024-000002", Some("110105-jc"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .timelines("110105-2024-000009", None)
                .await
                .unwrap()
                .is_empty()
        );
        // Both versions that decided a transition are recorded.
        assert_eq!(
            store
                .recorded_policy("cn-minor-opt1", "3")
                .await
                .unwrap()
                .as_deref(),
            Some(v3.source_text.as_str())
        );
        assert!(
            store
                .recorded_policy("cn-minor-opt1", "2")
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            store.recorded_policy("cn-minor-opt1", "9").await.unwrap(),
            None
        );
        // Stats four days on: two sealed records' agency notices (2 × 2) unacknowledged after 3 days.
        let stats = store
            .stats(
                "2025-01-05".parse().unwrap(),
                "2025-01-05T00:00:00Z".parse().unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            stats.records_by_state,
            vec![("open".to_owned(), 1), ("sealed".to_owned(), 2)]
        );
        assert_eq!(
            stats.records_by_agency,
            vec![("110105-fy".to_owned(), 2), ("110105-ga".to_owned(), 3)]
        );
        assert_eq!(
            (
                stats.unacknowledged_after_3_days,
                stats.unacknowledged_after_7_days
            ),
            (4, 0)
        );
        assert_eq!(
            (
                stats.seals_due_7_days,
                stats.seals_due_30_days,
                stats.failed_deliveries
            ),
            (0, 0, 0)
        );
        assert_eq!((stats.pending_requests, stats.live_grants), (0, 0));
    }
}

/// An agency's document number finds the case it was mapped to on arrival (一案一码), under that
/// agency only; a number never seen finds nothing.
#[tokio::test]
async fn a_document_number_finds_its_case_on_every_engine() {
    let policy = Arc::new(presets::get("cn-minor-opt1").unwrap().clone());
    for store in stores("documents").await {
        let ctx = Context::new(policy.clone(), "2025-01-01T00:00:00Z".parse().unwrap());
        store
            .ingest(
                &sealed_conviction("110105-2024-000007", "110105199003070025"),
                &ctx,
            )
            .await
            .unwrap();
        let found = |agency: &'static str, number: &'static str| {
            let store = &store;
            async move { store.case_code_of_document(agency, number).await.unwrap() }
        };
        assert_eq!(
            found("110105-fy", "(2024)某刑初000007号").await.as_deref(),
            Some("110105-2024-000007")
        );
        assert_eq!(found("110105-ga", "(2024)某刑初000007号").await, None);
        assert_eq!(found("110105-fy", "(2024)某刑初000008号").await, None);
    }
}

/// Records by agency count each record once per agency that sent any of its events, whichever
/// batch brought them and however often a batch is sent again; a database whose holdings were
/// never kept (made before migration 11) has them counted from its events when it is opened.
#[tokio::test]
async fn records_by_agency_count_each_holding_once_and_are_rebuilt_by_the_migration() {
    let policy = presets::get("cn-minor-opt1").unwrap().clone();
    let ctx = Context::new(Arc::new(policy), "2025-01-01T00:00:00Z".parse().unwrap());
    let by_agency = |pairs: &[(&str, i64)]| {
        pairs
            .iter()
            .map(|(agency, n)| ((*agency).to_owned(), *n))
            .collect::<Vec<_>>()
    };
    // The police file two cases of one person and a third of another; the court judges the first
    // case in a later batch, and that batch is sent twice.
    let first = sealed_conviction("110105-2024-000001", "110105199003070025");
    let second = sealed_conviction("110105-2024-000002", "110105199003070025");
    let third = sealed_conviction("110105-2024-000003", "11010519491231002X");
    let filings = vec![first[0].clone(), second[0].clone(), third[0].clone()];
    let judgments: Vec<ValidEvent> = first[1..].to_vec();
    let expected = by_agency(&[("110105-fy", 1), ("110105-ga", 3)]);
    let (keys, urls) = store_urls("holdings").await;
    for url in urls {
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        store.ingest(&filings, &ctx).await.unwrap();
        store.ingest(&judgments, &ctx).await.unwrap();
        store.ingest(&judgments, &ctx).await.unwrap();
        // A later event of a record the agency already holds adds nothing.
        store.ingest(&second[1..2], &ctx).await.unwrap();
        let stats = |store: SqlStore| async move {
            store
                .stats(
                    "2025-01-05".parse().unwrap(),
                    "2025-01-05T00:00:00Z".parse().unwrap(),
                )
                .await
                .unwrap()
                .records_by_agency
        };
        let expected_now = by_agency(&[("110105-fy", 2), ("110105-ga", 3)]);
        assert_eq!(stats(store.clone()).await, expected_now);
        assert_ne!(expected_now, expected);
        // Back to a database from before migration 11: no holdings kept, the events' index there.
        use sqlx::Executor;
        store
            .put_events_back_as_before_migration_17()
            .await
            .unwrap();
        store
            .pool()
            .execute(
                "DROP TABLE holdings; DROP TABLE agency_holdings; \
                 CREATE INDEX events_by_agency ON events (agency_code, case_code, person_key); \
                 DELETE FROM schema_version WHERE version >= 11;",
            )
            .await
            .unwrap();
        store.pool().close().await;
        let reopened = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(stats(reopened.clone()).await, expected_now);
        // And the holdings keep counting after the migration.
        reopened
            .ingest(
                &sealed_conviction("110105-2024-000004", "110105198001010016"),
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(
            stats(reopened).await,
            by_agency(&[("110105-fy", 3), ("110105-ga", 4)])
        );
    }
}
