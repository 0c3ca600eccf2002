//! The storage contract: one story, run against SQLite always and against PostgreSQL when
//! `FENGCUN_TEST_DATABASE_URL` is set (`.ci/run` sets it). Each run gets a fresh database.

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
use fengcun_store::{
    Context, Delivery, Keys, LineOutcome, NoticeFilter, Purpose, RequestStatus, RequesterKind,
    Role, SqlStore, StoreError,
};
use serde_json::{Value, json};

/// Fresh databases to run the contract on: a SQLite file, and a new PostgreSQL database if a
/// server is given.
async fn stores(test: &str) -> Vec<SqlStore> {
    stores_with(test, Keys::new(MasterKey::generate())).await
}

async fn stores_with(test: &str, keys: Keys) -> Vec<SqlStore> {
    fengcun_testkit::leftovers::sweep_scratch_dirs();
    let dir = std::env::temp_dir().join(format!("fengcun-contract-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}", dir.join("store.sqlite").display());
    let mut stores = vec![
        fengcun_store::open(&sqlite, keys.clone())
            .await
            .expect("sqlite store"),
    ];
    match std::env::var("FENGCUN_TEST_DATABASE_URL") {
        Ok(url) => stores.push(fresh_postgres(&url, test, keys).await),
        Err(_) => {
            eprintln!("SKIPPED PostgreSQL: FENGCUN_TEST_DATABASE_URL is not set (.ci/run sets it)")
        }
    }
    stores
}

async fn fresh_postgres(url: &str, test: &str, keys: Keys) -> SqlStore {
    fengcun_store::open(&fresh_postgres_url(url, test).await, keys)
        .await
        .expect("postgres store")
}

/// A new, empty PostgreSQL database for `test` beside the one `url` names; its URL.
async fn fresh_postgres_url(url: &str, test: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let name = format!("fengcun_{}_{}", test, std::process::id());
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect to PostgreSQL");
    fengcun_testkit::leftovers::sweep_databases(&mut admin).await;
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

/// A fresh database's URL on each backend, for tests that open it more than once.
async fn fresh_urls(test: &str) -> Vec<String> {
    fengcun_testkit::leftovers::sweep_scratch_dirs();
    let dir = std::env::temp_dir().join(format!("fengcun-contract-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.join("store.sqlite").display())];
    if let Ok(url) = std::env::var("FENGCUN_TEST_DATABASE_URL") {
        urls.push(fresh_postgres_url(&url, test).await);
    }
    urls
}

/// A transition explained as the callers explain it: its evidence under the policy version that
/// took it (`fengcun_policy::explain_recorded`).
fn explained(t: &fengcun_store::TransitionView) -> Value {
    fengcun_policy::explain_recorded(
        &t.policy,
        &t.policy_version,
        &t.policy_text,
        &t.evidence,
        t.rule.as_deref(),
    )
    .expect("an explainable transition")
}

fn ctx(policy: &str, now: &str) -> Context {
    Context::new(
        Arc::new(presets::get(policy).unwrap().clone()),
        now.parse().unwrap(),
    )
}

fn ctx_with(policy: &Policy, now: &str) -> Context {
    Context::new(Arc::new(policy.clone()), now.parse().unwrap())
}

const ZHANG: &str = "110105199003070025";

fn person(id: &str) -> Value {
    json!({"id_number": id, "name": "张三"})
}

fn police(case: &str) -> Value {
    json!({"kind": "public_security", "code": format!("{}-ga", &case[..6]), "name": "某市公安局某分局"})
}
fn procuratorate(case: &str) -> Value {
    json!({"kind": "procuratorate", "code": format!("{}-jc", &case[..6]), "name": "某区人民检察院"})
}
fn court(case: &str) -> Value {
    json!({"kind": "court", "code": format!("{}-fy", &case[..6]), "name": "某区人民法院"})
}

fn event(
    key: &str,
    kind: &str,
    date: &str,
    case: &str,
    agency: Value,
    id: &str,
    extra: Value,
) -> ValidEvent {
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date, "case_code": case, "agency": agency, "person": person(id)});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    Event::parse(&serde_json::to_vec(&e).unwrap()).unwrap_or_else(|err| panic!("{key}: {err}"))
}

fn sentence(kind: &str, months: Option<u32>) -> Value {
    match months {
        Some(m) => json!({"principal": kind, "months": m}),
        None => json!({"principal": kind}),
    }
}

/// A conviction's events: filing, indictment, judgment, judgment effective.
fn conviction(
    case: &str,
    id: &str,
    charge: &str,
    sentence: Value,
    offence: &str,
    judged: &str,
    effective: &str,
) -> Vec<ValidEvent> {
    vec![
        event(
            &format!("{case}-filed"),
            "filed",
            offence,
            case,
            police(case),
            id,
            json!({"charges": [{"name": charge}], "offence_date": offence}),
        ),
        event(
            &format!("{case}-indicted"),
            "indicted",
            judged,
            case,
            procuratorate(case),
            id,
            json!({"charges": [{"name": charge}]}),
        ),
        event(
            &format!("{case}-judgment"),
            "judgment",
            judged,
            case,
            court(case),
            id,
            json!({
            "document_number": format!("({})某刑初{}号", &judged[..4], &case[12..]),
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": charge}], "sentence": sentence,
                         "offence_date": offence, "recidivist": false, "prior_convictions": 0}}),
        ),
        event(
            &format!("{case}-effective"),
            "judgment_effective",
            effective,
            case,
            court(case),
            id,
            json!({}),
        ),
    ]
}

async fn state(store: &SqlStore, case: &str, id: &str) -> (String, Option<String>, Option<String>) {
    let record = store
        .record(case, &format!("id:{id}"))
        .await
        .unwrap()
        .expect("record exists");
    (
        record.state.code().to_owned(),
        record.state_date,
        record.trigger,
    )
}

#[tokio::test]
async fn sealing_on_judgment_effective_with_notices_duplicates_and_conflicts() {
    for store in stores("basic").await {
        let backend = format!("{:?}", store.backend());
        let case = "110105-2024-000123";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(3)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let c = ctx("cn-minor-opt1", "2024-03-12T10:00:00+08:00");
        let outcomes = store.ingest(&events, &c).await.unwrap();
        assert_eq!(outcomes, vec![LineOutcome::Stored; 4], "{backend}");
        assert_eq!(
            state(&store, case, ZHANG).await,
            ("sealed".into(), Some("2024-03-12".into()), None),
            "{backend}"
        );

        // The same batch again is stored once.
        assert_eq!(
            store.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Duplicate; 4],
            "{backend}"
        );
        assert_eq!(store.counts().await.unwrap().events, 4, "{backend}");

        // A different event under a used key is refused, and the batch it is in stores nothing.
        let fresh = event(
            "other-1",
            "execution_started",
            "2024-03-12",
            case,
            json!({"kind": "prison", "code": "110105-ks"}),
            ZHANG,
            json!({}),
        );
        let mut clash = events[1].clone();
        clash.event.date = "2024-02-02".into();
        let error = store.ingest(&[fresh.clone(), clash], &c).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict { line: 2, .. }),
            "{backend}: {error}"
        );
        assert_eq!(
            store.counts().await.unwrap().events,
            4,
            "{backend}: nothing of the failed batch is stored"
        );
        assert_eq!(
            store.ingest(&[fresh], &c).await.unwrap(),
            vec![LineOutcome::Stored],
            "{backend}"
        );

        // One notice for each agency that sent events (the detention centre, which reported after the
        // seal, is told then), and one for the person.
        let notices = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        let mut recipients: Vec<&str> = notices.iter().map(|n| n.recipient.as_str()).collect();
        recipients.sort_unstable();
        assert_eq!(
            recipients,
            ["110105-fy", "110105-ga", "110105-jc", "110105-ks", "person"],
            "{backend}"
        );
        let to_court = notices.iter().find(|n| n.recipient == "110105-fy").unwrap();
        assert_eq!(to_court.title, "封存通知书");
        assert!(
            to_court.body.contains("(2024)某刑初000123号"),
            "{backend}: the court is reminded of its own number\n{}",
            to_court.body
        );
        assert!(
            to_court.body.contains("2024年3月12日起予以封存"),
            "{}",
            to_court.body
        );
        let to_police = notices.iter().find(|n| n.recipient == "110105-ga").unwrap();
        assert!(
            !to_police.body.contains("刑初"),
            "{backend}: the police are not told the court's number"
        );
        let to_person = notices.iter().find(|n| n.recipient == "person").unwrap();
        assert!(
            to_person.body.contains("张三") && !to_person.body.contains(ZHANG),
            "{backend}: {}",
            to_person.body
        );

        // The transition records policy, version, reasons, time and actor.
        let transitions = store
            .transitions(case, &format!("id:{ZHANG}"))
            .await
            .unwrap();
        let sealed = transitions
            .iter()
            .find(|t| t.to == "sealed")
            .expect("sealed transition");
        assert_eq!(
            (
                sealed.policy.as_str(),
                sealed.policy_version.as_str(),
                sealed.actor.as_str()
            ),
            ("cn-minor-opt1", "2", "automatic")
        );
        assert_eq!(explained(sealed)["decision"]["outcome"], "seal");
        assert!(
            sealed.at.starts_with("2024-03-12T02:00:00"),
            "{}",
            sealed.at
        );
    }
}

#[tokio::test]
async fn out_of_order_events_give_the_same_state_as_in_order() {
    for store in stores("order").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let in_order = conviction(
            "110105-2024-000201",
            ZHANG,
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        let mut reversed = conviction(
            "110105-2024-000202",
            "11010519491231002X",
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        reversed.reverse();
        for e in &in_order {
            store.ingest(std::slice::from_ref(e), &c).await.unwrap();
        }
        for e in &reversed {
            store.ingest(std::slice::from_ref(e), &c).await.unwrap();
        }
        let a = store
            .record("110105-2024-000201", &format!("id:{ZHANG}"))
            .await
            .unwrap()
            .unwrap();
        let b = store
            .record("110105-2024-000202", "id:11010519491231002X")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.state.as_str(), a.state_date.as_deref()),
            ("sealed", Some("2024-03-12"))
        );
        assert_eq!((b.state, b.state_date), (a.state, a.state_date));
        assert_eq!(
            explained(&a.transition.unwrap())["decision"]["reasons"],
            explained(&b.transition.unwrap())["decision"]["reasons"]
        );
    }
}

#[tokio::test]
async fn a_future_seal_waits_for_its_date_and_the_scheduler_seals_it() {
    for store in stores("future").await {
        let case = "110105-2024-000301";
        let mut events = conviction(
            case,
            ZHANG,
            "诈骗罪",
            sentence("fixed_term", Some(18)),
            "2023-05-02",
            "2023-09-01",
            "2023-09-12",
        );
        events.push(event(
            "ks-done",
            "execution_completed",
            "2025-03-11",
            case,
            json!({"kind": "prison", "code": "110105-ks", "name": "某监狱"}),
            ZHANG,
            json!({}),
        ));
        let c = ctx("cn-minor-tiered", "2025-04-01T00:00:00Z");
        store.ingest(&events, &c).await.unwrap();
        assert_eq!(
            state(&store, case, ZHANG).await,
            ("pending_seal".into(), Some("2027-03-11".into()), None)
        );
        assert_eq!(
            store
                .tick(&ctx("cn-minor-tiered", "2027-03-10T10:00:00+08:00"))
                .await
                .unwrap(),
            fengcun_store::TickReport::default()
        );
        assert_eq!(state(&store, case, ZHANG).await.0, "pending_seal");
        let done = store
            .tick(&ctx("cn-minor-tiered", "2027-03-11T09:00:00+08:00"))
            .await
            .unwrap();
        assert_eq!((done.transitions.len(), done.failures.len()), (1, 0));
        assert_eq!(
            state(&store, case, ZHANG).await,
            ("sealed".into(), Some("2027-03-11".into()), None)
        );
        assert_eq!(
            store
                .notices(NoticeFilter {
                    case_code: Some(case.into()),
                    ..NoticeFilter::default()
                })
                .await
                .unwrap()
                .len(),
            5
        );
    }
}

#[tokio::test]
async fn a_new_conviction_unseals_and_an_acquittal_does_not() {
    for store in stores("trigger").await {
        let c = ctx("cn-minor-opt1", "2025-01-01T00:00:00Z");
        let old = "110105-2023-000401";
        store
            .ingest(
                &conviction(
                    old,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2023-01-01",
                    "2023-02-01",
                    "2023-02-12",
                ),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(state(&store, old, ZHANG).await.0, "sealed");

        // An open investigation or an acquittal in a new case changes nothing.
        let acquitted = "110105-2024-000402";
        store.ingest(&[
            event("a-filed", "filed", "2024-05-01", acquitted, police(acquitted), ZHANG, json!({"charges": [{"name": "盗窃罪"}], "offence_date": "2024-04-30"})),
            event("a-judgment", "judgment", "2024-09-01", acquitted, court(acquitted), ZHANG, json!({"judgment": {"instance": "first", "verdict": "acquitted", "charges": [{"name": "盗窃罪"}]}})),
            event("a-effective", "judgment_effective", "2024-09-12", acquitted, court(acquitted), ZHANG, json!({})),
        ], &c).await.unwrap();
        assert_eq!(state(&store, old, ZHANG).await.0, "sealed");

        // A new conviction lifts the seal and tells every agency.
        let new = "110105-2024-000403";
        let c2 = ctx("cn-minor-opt1", "2024-12-20T00:00:00Z");
        store
            .ingest(
                &conviction(
                    new,
                    ZHANG,
                    "盗窃罪",
                    sentence("fixed_term", Some(8)),
                    "2024-06-01",
                    "2024-12-01",
                    "2024-12-12",
                ),
                &c2,
            )
            .await
            .unwrap();
        assert_eq!(
            state(&store, old, ZHANG).await,
            (
                "unsealed".into(),
                Some("2024-12-20".into()),
                Some("new_conviction".into())
            )
        );
        let unseal = store
            .notices(NoticeFilter {
                case_code: Some(old.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(unseal.iter().filter(|n| n.kind == "unseal").count(), 4);
        assert!(
            unseal
                .iter()
                .any(|n| n.title == "解除封存通知书" && n.body.contains("再犯新罪"))
        );
        let lifted = store
            .transitions(old, &format!("id:{ZHANG}"))
            .await
            .unwrap();
        assert_eq!(
            lifted.last().unwrap().rule.as_deref(),
            Some("unseal_new_crime")
        );
    }
}

/// Notices read as official documents (issue 14, decision 7): sealed with the transition are the
/// issuing authority, the instrument the policy is in force under, and for an unsealing the
/// judgment that lifted the seal and the objection route; the deploying authority may cite
/// another instrument for a policy.
#[tokio::test]
async fn notices_name_the_authority_the_instrument_and_the_judgment_that_lifted_the_seal() {
    for store in stores("official_notices").await {
        let issuing = Arc::new(fengcun_lifecycle::Issuing {
            authority: Some("某区人民法院".into()),
            violation_authority: Some("北京市公安局朝阳分局".into()),
            objection_body: Some("某区人民检察院".into()),
            objection_days: Some(15),
            instruments: Default::default(),
            // The configuration names the police; its events call it otherwise.
            agency_names: [("110105-ga".to_owned(), "北京市公安局朝阳分局".to_owned())].into(),
        });
        let c = ctx("cn-minor-opt1", "2025-01-01T00:00:00Z").issued_by(issuing.clone());
        let old = "110105-2023-000601";
        store
            .ingest(
                &conviction(
                    old,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2023-01-01",
                    "2023-02-01",
                    "2023-02-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let notices = |kind: &'static str| {
            let store = &store;
            async move {
                store
                    .notices(NoticeFilter {
                        case_code: Some(old.into()),
                        recipient: Some("110105-ga".into()),
                        ..NoticeFilter::default()
                    })
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|n| n.kind == kind)
                    .unwrap()
                    .body
            }
        };
        let seal = notices("seal").await;
        // Addressed by the name the configuration gives, not the events' 某市公安局某分局.
        assert!(seal.contains("\n北京市公安局朝阳分局：\n"), "{seal}");
        assert!(!seal.contains("某市公安局某分局"), "{seal}");
        assert!(
            seal.contains("根据最高人民法院咨询委员会第六调研组《建立轻微犯罪记录封存制度的调研报告》第一种意见（研究方案，尚非有效法律文件），张三"),
            "{seal}"
        );
        assert!(
            !seal.contains("轻微犯罪记录封存（调研报告第一种意见）"),
            "{seal}"
        );
        assert!(
            seal.ends_with("请收到后回执确认。\n\n某区人民法院\n2025年1月1日"),
            "{seal}"
        );
        assert!(!seal.contains("异议"), "{seal}");
        // Each citation once: 调研报告二(四) is glossed twice in the preset, differently.
        assert_eq!(seal.matches("《刑法》第九十九条").count(), 1, "{seal}");

        let new = "110105-2024-000603";
        let c2 = ctx("cn-minor-opt1", "2024-12-20T00:00:00Z").issued_by(issuing.clone());
        store
            .ingest(
                &conviction(
                    new,
                    ZHANG,
                    "盗窃罪",
                    sentence("fixed_term", Some(8)),
                    "2024-06-01",
                    "2024-12-01",
                    "2024-12-12",
                ),
                &c2,
            )
            .await
            .unwrap();
        let unseal = notices("unseal").await;
        for wanted in [
            "中被封存的犯罪记录，因某区人民法院2024年12月1日作出的(2024)某刑初000603号刑事判决（2024年12月12日发生法律效力），再犯新罪被判处刑罚，自2024年12月20日起解除封存。",
            "依据：调研报告二(五)：再犯新罪的，应当解除封存。",
            "你单位对解除封存有异议的，可以自收到本通知书之日起15日内向某区人民检察院提出。",
            "\n\n某区人民法院\n2024年12月20日",
        ] {
            assert!(unseal.contains(wanted), "wants {wanted}\n{unseal}");
        }

        // A deploying authority cites its own instrument for a policy.
        let mut instruments = std::collections::BTreeMap::new();
        instruments.insert(
            "cn-minor-opt1".to_owned(),
            "《某省轻微犯罪记录封存试点办法》".to_owned(),
        );
        let own = Arc::new(fengcun_lifecycle::Issuing {
            instruments,
            ..(*issuing).clone()
        });
        let third = "110105-2025-000604";
        store
            .ingest(
                &conviction(
                    third,
                    "110105199203150038",
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2025-01-01",
                    "2025-02-01",
                    "2025-02-12",
                ),
                &ctx("cn-minor-opt1", "2025-03-01T00:00:00Z").issued_by(own),
            )
            .await
            .unwrap();
        let cited = store
            .notices(NoticeFilter {
                case_code: Some(third.into()),
                recipient: Some("person".into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert!(
            cited[0]
                .body
                .contains("已根据《某省轻微犯罪记录封存试点办法》自2025年2月12日起予以封存"),
            "{}",
            cited[0].body
        );
    }
}

#[tokio::test]
async fn juvenile_seals_are_lifted_by_five_years_combined_or_more() {
    for store in stores("juvenile").await {
        let young = "110105200801010014";
        let c = ctx("cn-juvenile", "2025-06-01T00:00:00Z");
        let sealed_a = "110105-2024-000501";
        let sealed_b = "110105-2024-000502";
        for case in [sealed_a, sealed_b] {
            let id = if case == sealed_a {
                young.to_owned()
            } else {
                "110105200802020011".to_owned()
            };
            store
                .ingest(
                    &conviction(
                        case,
                        &id,
                        "盗窃罪",
                        sentence("fixed_term", Some(24)),
                        "2024-02-01",
                        "2024-05-01",
                        "2024-05-12",
                    ),
                    &c,
                )
                .await
                .unwrap();
            assert_eq!(state(&store, case, &id).await.0, "sealed");
        }
        // A new crime at 16, combined to four years and eleven months: stays sealed.
        let combine = |case: &str, id: &str, months: u32| {
            let mut events = conviction(
                case,
                id,
                "抢劫罪",
                sentence("fixed_term", Some(36)),
                "2024-09-01",
                "2025-03-01",
                "2025-03-12",
            );
            events[2].event.judgment.as_mut().unwrap().combined_sentence =
                Some(json!({"principal": "fixed_term", "months": months}));
            events
        };
        store
            .ingest(&combine("110105-2025-000503", young, 59), &c)
            .await
            .unwrap();
        assert_eq!(
            state(&store, sealed_a, young).await.0,
            "sealed",
            "less than five years lifts no seal"
        );
        // Exactly five years lifts it: 五年有期徒刑以上 includes five years (Criminal Law art. 99).
        store
            .ingest(&combine("110105-2025-000504", "110105200802020011", 60), &c)
            .await
            .unwrap();
        assert_eq!(
            state(&store, sealed_b, "110105200802020011")
                .await
                .2
                .as_deref(),
            Some("new_conviction")
        );
    }
}

/// What a notice calls the record, with the policy's title and the legal bases taken out (they are
/// law titles, like 《关于未成年人犯罪记录封存的实施办法》, not a name for the record).
fn designation(body: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for line in body
        .lines()
        .filter(|l| !l.trim_start().starts_with("依据："))
    {
        for c in line.chars() {
            match c {
                '《' => depth += 1,
                '》' => depth = depth.saturating_sub(1),
                _ if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out.push('\n');
    }
    out
}

/// The events of a record A that ended on 2024-09-01, one way or another.
fn ended(how: &str, case: &str, id: &str, offence: &str, months: u32) -> Vec<ValidEvent> {
    let filed = event(
        &format!("{case}-filed"),
        "filed",
        "2024-05-01",
        case,
        police(case),
        id,
        json!({"charges": [{"name": "盗窃罪"}], "offence_date": offence}),
    );
    match how {
        "convicted" => conviction(
            case,
            id,
            "盗窃罪",
            sentence("fixed_term", Some(months)),
            offence,
            "2024-09-01",
            "2024-09-12",
        ),
        "acquitted" => vec![
            filed,
            event(
                &format!("{case}-judgment"),
                "judgment",
                "2024-09-01",
                case,
                court(case),
                id,
                json!({"judgment": {"instance": "first", "verdict": "acquitted", "charges": [{"name": "盗窃罪"}]}}),
            ),
            event(
                &format!("{case}-effective"),
                "judgment_effective",
                "2024-09-12",
                case,
                court(case),
                id,
                json!({}),
            ),
        ],
        "not_prosecuted" => vec![
            filed,
            event(
                &format!("{case}-np"),
                "not_prosecuted",
                "2024-09-01",
                case,
                procuratorate(case),
                id,
                json!({"ground": "insufficient_evidence"}),
            ),
        ],
        "case_withdrawn" => vec![
            filed,
            event(
                &format!("{case}-withdrawn"),
                "case_withdrawn",
                "2024-09-01",
                case,
                police(case),
                id,
                json!({}),
            ),
        ],
        other => panic!("no such ending {other}"),
    }
}

/// The reported case and its neighbours: record A ends (2024-09-01) and is sealed; record B, a
/// conviction judged later (2024-12-01) for an offence committed before A ended (漏罪) or after it
/// (新罪), arrives after A or before it. Only a conviction is unsealed by B, and every notice of A
/// calls A what it is: a conviction a 犯罪记录, anything else a 涉罪记录, never a 犯罪记录.
#[tokio::test]
async fn only_a_conviction_is_unsealed_by_a_later_conviction_and_notices_name_the_record_kind() {
    // Each row is its own person, born on one of these days.
    const ADULT: &str = "19900307";
    const YOUNG: &str = "20080101";
    // (policy, person's birth, how A ended, B's offence date, B's combined sentence, B first, A's state, trigger)
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<u32>,
        bool,
        &'static str,
        Option<&'static str>,
    );
    #[rustfmt::skip]
    let table: &[Row] = &[
        ("cn-minor-opt1", ADULT, "acquitted", "2024-06-01", None, false, "sealed", None),
        ("cn-minor-opt1", ADULT, "acquitted", "2024-06-01", None, true, "sealed", None),
        ("cn-minor-opt1", ADULT, "acquitted", "2024-10-01", None, false, "sealed", None),
        ("cn-minor-opt1", ADULT, "acquitted", "2024-10-01", None, true, "sealed", None),
        ("cn-minor-opt1", ADULT, "not_prosecuted", "2024-06-01", None, false, "sealed", None),
        ("cn-minor-opt1", ADULT, "not_prosecuted", "2024-10-01", None, true, "sealed", None),
        ("cn-minor-opt1", ADULT, "case_withdrawn", "2024-06-01", None, true, "sealed", None),
        ("cn-minor-opt1", ADULT, "case_withdrawn", "2024-10-01", None, false, "sealed", None),
        ("cn-minor-opt1", ADULT, "convicted", "2024-06-01", None, false, "unsealed", Some("prior_crime_discovered")),
        ("cn-minor-opt1", ADULT, "convicted", "2024-06-01", None, true, "unsealed", Some("prior_crime_discovered")),
        ("cn-minor-opt1", ADULT, "convicted", "2024-10-01", None, false, "unsealed", Some("new_conviction")),
        ("cn-juvenile", YOUNG, "acquitted", "2024-06-01", Some(61), false, "sealed", None),
        ("cn-juvenile", YOUNG, "acquitted", "2024-10-01", Some(61), true, "sealed", None),
        ("cn-juvenile", YOUNG, "not_prosecuted", "2024-10-01", Some(61), false, "sealed", None),
        ("cn-juvenile", YOUNG, "convicted", "2024-10-01", Some(61), false, "unsealed", Some("new_conviction")),
        // 五年有期徒刑以上 includes five years (Criminal Law art. 99; docs/law.md).
        ("cn-juvenile", YOUNG, "convicted", "2024-10-01", Some(60), false, "unsealed", Some("new_conviction")),
        ("cn-juvenile", YOUNG, "convicted", "2024-10-01", Some(59), false, "sealed", None),
    ];
    for store in stores("kinds").await {
        for (row, &(policy, born, how, offence, combined, b_first, want, trigger)) in
            table.iter().enumerate()
        {
            let body = format!("110105{born}{:03}", 100 + row);
            let first17: [u8; 17] = body.as_bytes().try_into().unwrap();
            let id = &format!(
                "{body}{}",
                fengcun_domain::id_number::check_character(&first17)
            );
            let c = ctx(policy, "2025-01-01T00:00:00Z");
            let a = format!("110105-2024-{:06}", 600 + 2 * row);
            let b = format!("110105-2024-{:06}", 601 + 2 * row);
            let mut later = conviction(
                &b,
                id,
                "抢劫罪",
                sentence("fixed_term", Some(36)),
                offence,
                "2024-12-01",
                "2024-12-12",
            );
            if let Some(months) = combined {
                later[2].event.judgment.as_mut().unwrap().combined_sentence =
                    Some(json!({"principal": "fixed_term", "months": months}));
            }
            let first = ended(how, &a, id, "2024-04-30", 8);
            let batches = if b_first {
                [later, first]
            } else {
                [first, later]
            };
            for batch in &batches {
                store.ingest(batch, &c).await.unwrap();
            }
            let what =
                format!("row {row}: {policy}, A {how}, B committed {offence}, B first {b_first}");
            let (state_a, _, trigger_a) = state(&store, &a, id).await;
            assert_eq!(
                (state_a.as_str(), trigger_a.as_deref()),
                (want, trigger),
                "{what}"
            );
            let notices = store
                .notices(NoticeFilter {
                    case_code: Some(a.clone()),
                    ..NoticeFilter::default()
                })
                .await
                .unwrap();
            assert!(
                notices.iter().any(|n| n.kind == "seal"),
                "{what}: A was sealed"
            );
            for notice in &notices {
                let words = designation(&notice.body);
                if how == "convicted" {
                    assert!(
                        words.contains("犯罪记录") && !words.contains("涉罪记录"),
                        "{what}: {}",
                        notice.body
                    );
                } else {
                    assert!(
                        words.contains("涉罪记录") && !words.contains("犯罪记录"),
                        "{what}: {}",
                        notice.body
                    );
                    assert_eq!(notice.kind, "seal", "{what}");
                }
            }
        }
    }
}

/// A public-security violation record (治安管理处罚法 art. 136), penalized and sealed: its
/// notices — the police's and the person's — read back in every list and go out through the
/// outbox, and call the record what it is: a 违法记录, never a 犯罪记录 or a 涉罪记录, with the
/// law's own exception for look-ups. Before, a violation's notice facts (`"disposition":
/// "penalized"`) were read with the criminal dispositions only: every such notice was refused as
/// damaged — the lists that held one failed, and the outbox failed its delivery.
#[tokio::test]
async fn a_violation_records_notices_read_back_and_go_out_in_its_own_words() {
    const CASE: &str = "110105-2026-000031";
    const DOC: &str = "京公（朝）行罚决字〔2026〕31号";
    for store in stores("violation_notices").await {
        // A court issues the criminal records' notices; the police bureau the violation's.
        let c = ctx("cn-minor-opt1", "2026-03-01T00:00:00Z").issued_by(Arc::new(
            fengcun_lifecycle::Issuing {
                authority: Some("某区人民法院".into()),
                violation_authority: Some("北京市公安局朝阳分局".into()),
                ..Default::default()
            },
        ));
        let events = vec![
            event(
                &format!("{CASE}/accepted"),
                "violation_accepted",
                "2026-02-10",
                CASE,
                police(CASE),
                ZHANG,
                json!({"offence_date": "2026-02-10", "violations": [{"name": "殴打他人"}]}),
            ),
            event(
                &format!("{CASE}/penalized"),
                "violation_penalized",
                "2026-02-12",
                CASE,
                police(CASE),
                ZHANG,
                json!({"document_number": DOC, "violations": [{"name": "殴打他人"}],
                       "penalty": {"detention_days": 10, "fine_yuan": 500}}),
            ),
            event(
                &format!("{CASE}/effective"),
                "violation_decision_effective",
                "2026-02-12",
                CASE,
                police(CASE),
                ZHANG,
                json!({"document_number": DOC}),
            ),
        ];
        store.ingest(&events, &c).await.unwrap();
        assert_eq!(state(&store, CASE, ZHANG).await.0, "sealed");
        let listed = store
            .notices(NoticeFilter {
                case_code: Some(CASE.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        let persons = store
            .person_notices(&store.keys().person_key(&format!("id:{ZHANG}")))
            .await
            .unwrap();
        let now: jiff::Timestamp = "2026-03-01T00:00:10Z".parse().unwrap();
        let claimed = store.claim_due_notices(now, now, 100).await.unwrap();
        let recipients = |notices: &[fengcun_store::NoticeView]| {
            let mut r: Vec<String> = notices.iter().map(|n| n.recipient.clone()).collect();
            r.sort();
            r
        };
        assert_eq!(recipients(&listed), ["110105-ga", "person"]);
        assert_eq!(recipients(&persons), ["person"]);
        assert_eq!(
            claimed
                .iter()
                .map(|n| n.recipient.as_str())
                .collect::<Vec<_>>(),
            ["110105-ga"]
        );
        // What the outbox signs names the authority the text names at its foot.
        let content = claimed[0].content.as_ref().expect("readable");
        assert_eq!(content.authority.as_deref(), Some("北京市公安局朝阳分局"));
        assert!(
            content.body.contains("北京市公安局朝阳分局") && !content.body.contains("某区人民法院"),
            "{}",
            content.body
        );
        let delivered = claimed[0]
            .content
            .as_ref()
            .map(|content| content.body.clone());
        let bodies = listed
            .iter()
            .chain(&persons)
            .map(|n| n.body.clone())
            .chain([delivered.expect("the police's notice is delivered, not refused")]);
        for body in bodies {
            let words = designation(&body).replace("无犯罪记录证明", "");
            assert!(words.contains("违法记录"), "{body}");
            assert!(
                !words.contains("犯罪记录") && !words.contains("涉罪记录"),
                "{body}"
            );
            assert!(body.contains("第一百三十六条"), "{body}");
        }
        let police_notice = listed.iter().find(|n| n.recipient == "110105-ga").unwrap();
        assert!(
            police_notice
                .body
                .contains("除有关国家机关为办案需要或者有关单位根据国家规定进行查询外"),
            "{}",
            police_notice.body
        );
        assert!(
            persons[0]
                .body
                .contains("违反治安管理的记录不影响你依法申请开具无犯罪记录证明"),
            "{}",
            persons[0].body
        );
    }
}

/// The notices' list comes in pages, oldest first: the pages after one another are the whole
/// list, each no longer than asked, whatever the filter; one notice is read by its id (and only
/// by whom it is addressed to, when asked so) without rendering any other.
#[tokio::test]
async fn notices_come_in_pages_and_one_by_its_id() {
    for store in stores("notice_pages").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        ingest_batch_by_batch(&store, &mixed_stream(), 7, &c).await;
        for (what, filter) in [
            ("all", NoticeFilter::default()),
            (
                "unacknowledged",
                NoticeFilter {
                    unacknowledged: true,
                    ..NoticeFilter::default()
                },
            ),
            (
                "the persons'",
                NoticeFilter {
                    recipient: Some("person".into()),
                    ..NoticeFilter::default()
                },
            ),
        ] {
            let whole = store.notices(filter.clone()).await.unwrap();
            assert!(whole.len() >= 5, "{what}: {}", whole.len());
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .notices(NoticeFilter {
                        after: after.clone(),
                        limit: Some(2),
                        ..filter.clone()
                    })
                    .await
                    .unwrap();
                assert!(page.len() <= 2, "{what}");
                let Some(last) = page.last() else { break };
                after = Some(last.notice_id.clone());
                paged.extend(page);
            }
            let ids = |list: &[fengcun_store::NoticeView]| {
                list.iter().map(|n| n.notice_id.clone()).collect::<Vec<_>>()
            };
            assert_eq!(ids(&paged), ids(&whole), "{what}");
            // Oldest first; notices made at one time in the order they were made: a transition's
            // together, by their place among its recipients (the last part of their numbers).
            assert!(
                whole.windows(2).all(|w| w[0].created_at <= w[1].created_at),
                "{what}: oldest first"
            );
            let place = |n: &fengcun_store::NoticeView| {
                let (transition, place) = n.notice_id.rsplit_once('-').unwrap();
                (transition.to_owned(), place.parse::<u32>().unwrap())
            };
            for pair in whole.windows(2) {
                let ((a, i), (b, j)) = (place(&pair[0]), place(&pair[1]));
                assert!(a != b || i < j, "{what}: {a} {i} before {b} {j}");
            }
            let mut transitions: Vec<String> = whole.iter().map(|n| place(n).0).collect();
            transitions.dedup();
            let mut distinct = transitions.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(
                transitions.len(),
                distinct.len(),
                "{what}: a transition's notices together"
            );
        }
        let whole = store.notices(NoticeFilter::default()).await.unwrap();
        let agency = whole.iter().find(|n| n.recipient != "person").unwrap();
        let one = store
            .notice(&agency.notice_id, None, None)
            .await
            .unwrap()
            .expect("the notice");
        assert_eq!(one.body, agency.body);
        assert_eq!(one.status, agency.status);
        let addressed = store
            .notice(&agency.notice_id, Some(&agency.recipient), None)
            .await
            .unwrap();
        assert_eq!(
            addressed.map(|n| n.notice_id),
            Some(agency.notice_id.clone())
        );
        assert!(
            store
                .notice(&agency.notice_id, Some("person"), None)
                .await
                .unwrap()
                .is_none(),
            "another recipient does not read it"
        );
        assert!(
            store
                .notice("FC-SEAL-NONE", None, None)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn corrections_revoke_and_retrials_unseal() {
    for store in stores("correct").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-000601";
        let events = conviction(
            case,
            ZHANG,
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        store.ingest(&events, &c).await.unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed");
        // The court corrects its judgment: the sentence was two years, the seal was wrong.
        let mut replacement = events[2].event.clone();
        replacement.judgment.as_mut().unwrap().sentence = Some(sentence("fixed_term", Some(24)));
        let correction = event(
            "fix-1",
            "correction",
            "2024-05-20",
            case,
            court(case),
            ZHANG,
            json!({
            "corrects": events[2].event.idempotency_key, "replacement": replacement, "reason": "判决书刑期笔误"}),
        );
        store.ingest(&[correction], &c).await.unwrap();
        assert_eq!(
            state(&store, case, ZHANG).await,
            (
                "revoked".into(),
                Some("2024-06-01".into()),
                Some("wrong_facts".into())
            )
        );

        let retried = "110105-2024-000602";
        let other = "11010519491231002X";
        store
            .ingest(
                &conviction(
                    retried,
                    other,
                    "盗窃罪",
                    sentence("fixed_term", Some(10)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        store.ingest(&[event("retrial-1", "judgment", "2024-05-15", retried, court(retried), other, json!({"judgment": {
            "instance": "retrial", "verdict": "convicted", "charges": [{"name": "盗窃罪"}], "sentence": sentence("fixed_term", Some(30)),
            "recidivist": false, "prior_convictions": 0}}))], &c).await.unwrap();
        assert_eq!(
            state(&store, retried, other).await.2.as_deref(),
            Some("retrial")
        );
    }
}

/// An event dated after the receiving clock's day (China time) is a legally impossible fact: the
/// batch is refused naming its line and field, and nothing of it is stored.
#[tokio::test]
async fn an_event_dated_after_today_is_refused_and_its_batch_stores_nothing() {
    for store in stores("future").await {
        let case = "110105-2024-000705";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(1)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        // 2024-03-11 16:30 UTC is 2024-03-12 00:30 in China: the effective date is today there.
        let c = ctx("cn-minor-opt1", "2024-03-11T16:30:00Z");
        assert_eq!(
            store.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Stored; 4]
        );
        let mut tomorrow = events[3].event.clone();
        tomorrow.idempotency_key = "sent-a-day-early".into();
        tomorrow.case_code = Some("110105-2024-000706".into());
        tomorrow.date = "2024-03-13".into();
        let error = store
            .ingest(&[events[0].clone(), tomorrow.validate().unwrap()], &c)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Invalid { line: 2, error } if error.field == "date"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("2024-03-13 is after today (2024-03-12"),
            "{error}"
        );
        assert_eq!(store.counts().await.unwrap().events, 4);
    }
}

#[tokio::test]
async fn document_numbers_map_to_one_case_code() {
    for store in stores("numbers").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-000701";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(1)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        store.ingest(&events[..3], &c).await.unwrap();
        // The court's later event names only its own document number.
        let mut later = events[3].event.clone();
        later.case_code = None;
        later.document_number = Some("(2024)某刑初000701号".into());
        let later = later.validate().unwrap();
        store.ingest(&[later], &c).await.unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed");
        // An unknown number is refused, naming the line.
        let mut unknown = events[3].event.clone();
        unknown.case_code = None;
        unknown.idempotency_key = "unknown-number".into();
        unknown.document_number = Some("(2024)某刑初999999号".into());
        let error = store
            .ingest(&[unknown.validate().unwrap()], &c)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::UnknownDocument { line: 1, .. }),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_policy_change_reports_and_applies_the_difference() {
    for store in stores("policy").await {
        let c = ctx("cn-minor-opt3", "2024-06-01T00:00:00Z");
        store
            .ingest(
                &conviction(
                    "110105-2024-000801",
                    ZHANG,
                    "盗窃罪",
                    sentence("fixed_term", Some(10)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        store
            .ingest(
                &conviction(
                    "110105-2024-000802",
                    "11010519491231002X",
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(
            state(&store, "110105-2024-000801", ZHANG).await.0,
            "not_eligible"
        );
        let opt1 = presets::get("cn-minor-opt1").unwrap();
        let preview = store.change_policy(opt1, &c, false).await.unwrap();
        assert_eq!(preview.sealed.len(), 1, "{preview:?}");
        assert!(preview.sealed[0].starts_with("110105-2024-000801"));
        assert_eq!(
            state(&store, "110105-2024-000801", ZHANG).await.0,
            "not_eligible",
            "a preview changes nothing"
        );
        let applied = store.change_policy(opt1, &c, true).await.unwrap();
        assert_eq!(applied.sealed, preview.sealed);
        assert_eq!(state(&store, "110105-2024-000801", ZHANG).await.0, "sealed");
        assert_eq!(
            store.policy_in_force().await.unwrap().unwrap().0,
            "cn-minor-opt1"
        );
        // Narrowing again reports the sealed record that would no longer qualify, and keeps it sealed.
        let pilot = presets::get("cn-pilot-dangerous-driving").unwrap();
        let narrow = store
            .change_policy(pilot, &ctx_with(pilot, "2024-06-02T00:00:00Z"), true)
            .await
            .unwrap();
        assert_eq!(narrow.sealed_no_longer_eligible.len(), 1, "{narrow:?}");
        assert_eq!(state(&store, "110105-2024-000801", ZHANG).await.0, "sealed");
    }
}

#[tokio::test]
async fn the_outbox_retries_and_receivers_acknowledge() {
    for store in stores("outbox").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        store
            .ingest(
                &conviction(
                    "110105-2024-000901",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let now: jiff::Timestamp = "2024-06-01T00:00:10Z".parse().unwrap();
        let lease: jiff::Timestamp = "2024-06-01T00:05:10Z".parse().unwrap();
        // Two runs claim at once (the timer's and an operator's): each notice goes to one of them.
        let (one, two) = tokio::join!(
            store.claim_due_notices(now, lease, 100),
            store.claim_due_notices(now, lease, 100)
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        let mut claimed: Vec<&str> = one
            .iter()
            .chain(&two)
            .map(|n| n.notice_id.as_str())
            .collect();
        claimed.sort_unstable();
        claimed.dedup();
        assert_eq!(
            (one.len() + two.len(), claimed.len()),
            (3, 3),
            "agency notices only, each claimed once; the person's is held for the person"
        );
        let due: Vec<_> = one.into_iter().chain(two).collect();
        assert!(
            store
                .claim_due_notices(now, lease, 100)
                .await
                .unwrap()
                .is_empty(),
            "claimed notices are not handed out again while the claim holds"
        );
        let first = &due[0];
        store
            .record_delivery(
                &first.notice_id,
                Delivery::Failed {
                    error: "connection refused".into(),
                    retry_at: Some("2024-06-01T00:01:00Z".parse().unwrap()),
                },
                now,
            )
            .await
            .unwrap();
        let later: jiff::Timestamp = "2024-06-01T00:01:00Z".parse().unwrap();
        let retry_lease: jiff::Timestamp = "2024-06-01T00:06:00Z".parse().unwrap();
        let retried = store
            .claim_due_notices(later, retry_lease, 100)
            .await
            .unwrap();
        assert_eq!(
            retried.iter().map(|n| &n.notice_id).collect::<Vec<_>>(),
            [&first.notice_id],
            "a failed delivery is due at its retry time; the others are still claimed"
        );
        assert_eq!(retried[0].attempts, 1);
        assert_eq!(
            store
                .claim_due_notices(lease, lease, 100)
                .await
                .unwrap()
                .len(),
            2,
            "a claim whose run never reported lapses, and its notices are delivered again"
        );
        store
            .record_delivery(&first.notice_id, Delivery::Delivered, later)
            .await
            .unwrap();
        assert!(
            !store
                .acknowledge(
                    &first.notice_id,
                    &first.recipient,
                    "wrong-token",
                    "fy",
                    later
                )
                .await
                .unwrap()
        );
        // Only the agency the notice is addressed to acknowledges it, even with its token.
        let other = due
            .iter()
            .map(|n| n.recipient.as_str())
            .find(|r| *r != first.recipient)
            .unwrap()
            .to_owned();
        assert!(
            !store
                .acknowledge(&first.notice_id, &other, &first.ack_token, "other", later)
                .await
                .unwrap()
        );
        assert!(
            store
                .acknowledge(
                    &first.notice_id,
                    &first.recipient,
                    &first.ack_token,
                    "fy",
                    later
                )
                .await
                .unwrap()
        );
        // A list for one recipient holds its notices only; a masked list shows the person masked,
        // an unmasked one in full.
        let read = |mask: Option<fengcun_store::IdentityMask>| {
            store.notices(NoticeFilter {
                recipient: Some(first.recipient.clone()),
                mask,
                ..NoticeFilter::default()
            })
        };
        let full = read(None).await.unwrap();
        assert_eq!(full.len(), 1);
        assert_eq!(full[0].notice_id, first.notice_id);
        assert!(
            full[0]
                .body
                .contains("张三（公民身份号码110105199003070025）"),
            "{}",
            full[0].body
        );
        let masked = read(Some(fengcun_store::IdentityMask {
            name: |_| "某甲".into(),
            id_number: |_| "遮蔽号码".into(),
        }))
        .await
        .unwrap();
        assert!(
            masked[0].body.contains("某甲（公民身份号码遮蔽号码）"),
            "{}",
            masked[0].body
        );
        assert!(!masked[0].body.contains(ZHANG) && !masked[0].body.contains("张三"));
        let pending = store
            .notices(NoticeFilter {
                unacknowledged: true,
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(pending.len(), 2);
        let done = store
            .notices(NoticeFilter {
                status: Some(fengcun_store::NoticeStatus::Acknowledged),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].attempts, 2);
        // A notice that cannot be read back is handed out with the reason, not failing the claim
        // (the outbox counts it as a failed attempt).
        sqlx::query("UPDATE transitions SET notice_facts = $1")
            .bind(b"damaged".to_vec())
            .execute(store.pool())
            .await
            .unwrap();
        let much_later: jiff::Timestamp = "2024-06-02T00:00:00Z".parse().unwrap();
        let damaged_lease: jiff::Timestamp = "2024-06-02T00:05:00Z".parse().unwrap();
        let damaged = store
            .claim_due_notices(much_later, damaged_lease, 100)
            .await
            .unwrap();
        assert_eq!(damaged.len(), 2);
        assert!(
            damaged.iter().all(|item| item.content.is_err()),
            "{damaged:?}"
        );
        // Out of attempts: failed; an operator puts it back once, due at once.
        let spent = &damaged[0].notice_id;
        store
            .record_delivery(
                spent,
                Delivery::Failed {
                    error: "the notice could not be read back".into(),
                    retry_at: None,
                },
                much_later,
            )
            .await
            .unwrap();
        assert!(
            !store
                .retry_failed_notice(&first.notice_id, "ops", much_later)
                .await
                .unwrap(),
            "an acknowledged notice is not put back"
        );
        assert!(
            store
                .retry_failed_notice(spent, "ops", much_later)
                .await
                .unwrap()
        );
        assert!(
            !store
                .retry_failed_notice(spent, "ops", much_later)
                .await
                .unwrap()
        );
        let again = store
            .claim_due_notices(much_later, much_later, 100)
            .await
            .unwrap();
        assert_eq!(
            again.iter().map(|n| &n.notice_id).collect::<Vec<_>>(),
            [spent]
        );
    }
}

#[tokio::test]
async fn rebuilding_from_the_events_gives_identical_states() {
    for store in stores("rebuild").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        store
            .ingest(
                &conviction(
                    "110105-2023-001001",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2023-01-01",
                    "2023-02-01",
                    "2023-02-12",
                ),
                &c,
            )
            .await
            .unwrap();
        store
            .ingest(
                &conviction(
                    "110105-2024-001002",
                    ZHANG,
                    "盗窃罪",
                    sentence("fixed_term", Some(8)),
                    "2024-01-01",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        store
            .ingest(
                &conviction(
                    "110105-2024-001003",
                    "11010519491231002X",
                    "诈骗罪",
                    sentence("fixed_term", Some(30)),
                    "2024-01-01",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        store
            .ingest(
                &[event(
                    "n-1",
                    "not_prosecuted",
                    "2024-04-01",
                    "110105-2024-001004",
                    procuratorate("110105-2024-001004"),
                    "11010519491231002X",
                    json!({"ground": "discretionary"}),
                )],
                &c,
            )
            .await
            .unwrap();
        let original = store.states().await.unwrap();
        assert!(original.iter().any(|s| s.state == "unsealed"));

        let all_fresh = stores_with("rebuild2", store.keys().clone()).await;
        let fresh = all_fresh
            .iter()
            .find(|f| f.backend() == store.backend())
            .unwrap();
        for (event, at) in store.events().await.unwrap() {
            let replay = Context::new(c.policy.clone(), at);
            fresh.ingest(&[event], &replay).await.unwrap();
        }
        let rebuilt = fresh.states().await.unwrap();
        assert_eq!(rebuilt, original);
    }
}

#[tokio::test]
async fn details_are_encrypted_at_rest_and_identities_pseudonymous() {
    use sqlx::Row;
    for store in stores("crypt").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        store
            .ingest(
                &conviction(
                    "110105-2024-001101",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let pool = store.pool();
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        for sql in [
            "SELECT events FROM records WHERE events IS NOT NULL",
            "SELECT facts FROM records",
            "SELECT reasons FROM transitions",
            "SELECT notice_facts FROM transitions WHERE notice_facts IS NOT NULL",
        ] {
            for row in sqlx::query(sql).fetch_all(pool).await.unwrap() {
                blobs.push(row.get::<Vec<u8>, _>(0));
            }
        }
        assert_eq!(
            blobs.len(),
            3,
            "the list of the 4 events, the facts, and the transition's evidence sealed with its \
             notice facts (the name and the identity number are in both)"
        );
        for needle in [
            "张三".as_bytes(),
            ZHANG.as_bytes(),
            "危险驾驶".as_bytes(),
            b"criminal_detention",
        ] {
            assert!(
                !blobs
                    .iter()
                    .any(|b| b.windows(needle.len()).any(|w| w == needle)),
                "plaintext found at rest"
            );
        }
        // The person key is kept as the 32 bytes of its hex (migration 20).
        let keys: Vec<Vec<u8>> = sqlx::query("SELECT person FROM records")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(
            keys.iter().all(|k| {
                !k.windows(ZHANG.len()).any(|w| w == ZHANG.as_bytes()) && k.len() == 32
            })
        );
    }
}

#[tokio::test]
async fn the_line_at_fault_is_named_and_corrections_come_from_the_sender() {
    for store in stores("fault").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001201";
        // Each valid alone; together the judgment predates the offence the filing reports.
        let filed = event(
            "f-1",
            "filed",
            "2024-01-05",
            case,
            police(case),
            ZHANG,
            json!({"offence_date": "2024-01-01"}),
        );
        let good = event(
            "f-2",
            "investigation",
            "2024-01-06",
            case,
            police(case),
            ZHANG,
            json!({}),
        );
        let early = event(
            "j-1",
            "judgment",
            "2023-06-01",
            case,
            court(case),
            ZHANG,
            json!({"judgment": {"instance": "first", "verdict": "convicted",
            "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "fixed_term", "months": 10}}}),
        );
        let error = store
            .ingest(&[filed.clone(), early, good.clone()], &c)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Invalid { line: 2, .. }),
            "{error}"
        );
        assert_eq!(
            store.ingest(&[filed, good], &c).await.unwrap(),
            vec![LineOutcome::Stored; 2]
        );

        // Only the court may correct the court's judgment: the police's correction names the police's
        // own key (keys are each agency's own), which is none of the court's events.
        let other = "110105-2024-001202";
        let events = conviction(
            other,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(1)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        store.ingest(&events, &c).await.unwrap();
        let meddling = event(
            "meddle",
            "correction",
            "2024-05-01",
            other,
            police(other),
            ZHANG,
            json!({"corrects": events[2].event.idempotency_key}),
        );
        assert_eq!(
            store.ingest(&[meddling], &c).await.unwrap(),
            vec![LineOutcome::Stored]
        );
        assert_eq!(state(&store, other, ZHANG).await.0, "sealed");
    }
}

/// Idempotency keys are each agency's own: another agency's event under the same key is its own
/// event (not a conflict that would tell it the first exists), a correction names its own agency's
/// event under that key, and the same agency reusing a key for different content is still refused.
#[tokio::test]
async fn idempotency_keys_are_scoped_to_the_sending_agency() {
    for store in stores("idempotency_scope").await {
        let backend = format!("{:?}", store.backend());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001260";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(1)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        store.ingest(&events, &c).await.unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{backend}");
        let judgment = &events[2];
        assert_eq!(judgment.event.kind, fengcun_domain::EventKind::Judgment);
        let key = judgment.event.idempotency_key.clone();

        // The police station uses the court's key for an event of its own, in the same record.
        let theirs = event(
            &key,
            "investigation",
            "2024-05-01",
            case,
            police(case),
            ZHANG,
            json!({}),
        );
        assert_eq!(
            store
                .ingest(std::slice::from_ref(&theirs), &c)
                .await
                .unwrap(),
            vec![LineOutcome::Stored],
            "{backend}"
        );
        assert_eq!(store.counts().await.unwrap().events, 5, "{backend}");
        assert_eq!(
            store
                .ingest(&[theirs.clone(), judgment.clone()], &c)
                .await
                .unwrap(),
            vec![LineOutcome::Duplicate; 2],
            "{backend}: each agency's event is its own, unchanged"
        );
        let mut changed = theirs.clone();
        changed.event.date = "2024-05-02".into();
        let error = store.ingest(&[changed], &c).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Conflict { line: 1, key: k } if *k == key),
            "{backend}: {error}"
        );

        // The court retracts its judgment by that key: its own event, not the police's.
        let retraction = event(
            "fix-1",
            "correction",
            "2024-05-10",
            case,
            court(case),
            ZHANG,
            json!({"corrects": key, "reason": "误录"}),
        );
        store.ingest(&[retraction], &c).await.unwrap();
        assert_eq!(
            state(&store, case, ZHANG).await.0,
            "revoked",
            "{backend}: the record has no judgment left"
        );
        assert_eq!(store.counts().await.unwrap().events, 6, "{backend}");
    }
}

/// An agency's kind is what it was configured as, or what its first event said: no later event
/// rewrites it (a police station declaring itself a court could send judgments), through either
/// way in (`ingest`, or the import pipeline deciding a batch ahead of the one that registers it).
#[tokio::test]
async fn a_registered_agency_kind_is_never_rewritten_by_events() {
    for store in stores("agency_kind").await {
        let backend = format!("{:?}", store.backend());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001250";
        store
            .set_agency(&fengcun_store::AgencyEndpoint {
                code: "110105-ga".into(),
                kind: fengcun_domain::AgencyKind::PublicSecurity,
                name: Some("某区公安分局".into()),
                endpoint: Some("http://127.0.0.1:9/inbox".into()),
            })
            .await
            .unwrap();
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{backend}");
        let events = store.counts().await.unwrap().events;

        // The configured police station declares itself a court and acquits on retrial.
        let forged = event(
            &format!("{case}/retrial"),
            "judgment",
            "2024-05-20",
            case,
            json!({"kind": "court", "code": "110105-ga"}),
            ZHANG,
            json!({"judgment": {"instance": "retrial", "verdict": "acquitted"}}),
        );
        let error = store.ingest(&[forged], &c).await.unwrap_err();
        match &error {
            StoreError::Invalid { line: 1, error } => {
                assert_eq!(error.field, "agency.kind", "{backend}: {error}");
            }
            other => panic!("{backend}: {other}"),
        }
        assert_eq!(
            store
                .agency_kind("110105-ga")
                .await
                .unwrap()
                .map(fengcun_store::AgencyKind::code),
            Some("public_security"),
            "{backend}"
        );
        assert_eq!(store.counts().await.unwrap().events, events, "{backend}");
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{backend}");
        // Its own kind of event is taken.
        let own = event(
            "ga-own-1",
            "investigation",
            "2024-05-21",
            case,
            json!({"kind": "public_security", "code": "110105-ga"}),
            ZHANG,
            json!({}),
        );
        assert_eq!(
            store.ingest(&[own], &c).await.unwrap(),
            vec![LineOutcome::Stored],
            "{backend}"
        );
        assert_eq!(
            store
                .agency_kind("110105-ga")
                .await
                .unwrap()
                .map(fengcun_store::AgencyKind::code),
            Some("public_security"),
            "{backend}"
        );

        // An agency nobody configured is registered by its first event, and keeps that kind: a
        // later batch — decided while the first is written — cannot change it.
        let first = event(
            "jc-1",
            "indicted",
            "2024-02-01",
            "110105-2024-001251",
            json!({"kind": "procuratorate", "code": "110106-jc"}),
            ZHANG,
            json!({"charges": [{"name": "盗窃罪"}]}),
        );
        let turned = event(
            "jc-2",
            "judgment_effective",
            "2024-04-01",
            "110105-2024-001251",
            json!({"kind": "court", "code": "110106-jc"}),
            ZHANG,
            json!({}),
        );
        let (lines, _) = ingest_through_pipeline(&store, &[first, turned.clone()], 1, &c).await;
        assert_eq!(lines[0], (1, Ok(LineOutcome::Stored)), "{backend}");
        assert!(
            matches!(&lines[1], (2, Err(message)) if message.contains("field `agency.kind`: agency `110106-jc` is registered as `procuratorate`, not `court`")),
            "{backend}: {lines:?}"
        );
        assert!(store.ingest(&[turned], &c).await.is_err(), "{backend}");
        assert_eq!(
            store
                .agency_kind("110106-jc")
                .await
                .unwrap()
                .map(fengcun_store::AgencyKind::code),
            Some("procuratorate"),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_agency_reporting_after_the_seal_is_told() {
    for store in stores("newcomer").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001301";
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let before = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap()
            .len();
        let prison = json!({"kind": "prison", "code": "110105-ks", "name": "某看守所"});
        store
            .ingest(
                &[event(
                    "ks-1",
                    "execution_completed",
                    "2024-05-11",
                    case,
                    prison.clone(),
                    ZHANG,
                    json!({}),
                )],
                &c,
            )
            .await
            .unwrap();
        let notices = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(notices.len(), before + 1, "only the newcomer is told");
        let told = notices
            .iter()
            .find(|n| n.recipient == "110105-ks")
            .expect("the detention centre is told");
        assert_eq!(told.kind, "seal");
        assert!(told.body.contains("某看守所"), "{}", told.body);
        // Telling it again is not needed.
        store
            .ingest(
                &[event(
                    "ks-2",
                    "execution_started",
                    "2024-03-15",
                    case,
                    prison,
                    ZHANG,
                    json!({}),
                )],
                &c,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .notices(NoticeFilter {
                    case_code: Some(case.into()),
                    ..NoticeFilter::default()
                })
                .await
                .unwrap()
                .len(),
            before + 1
        );
    }
}

/// A newcomer is told of the seal an earlier decision made. An appeal court's judgment that leaves
/// out the prior convictions makes the first-offender rule unknown today; the record stays sealed,
/// and the appeal court's notice must not give that unknown rule as the ground of the seal.
#[tokio::test]
async fn a_newcomers_notice_never_cites_a_rule_that_no_longer_holds() {
    for store in stores("newcomer_basis").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001302";
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed");
        let appeal = json!({"kind": "court", "code": "110000-fy", "name": "某市中级人民法院"});
        store
            .ingest(
                &[event(
                    "appeal-1",
                    "judgment",
                    "2024-05-20",
                    case,
                    appeal,
                    ZHANG,
                    json!({
                    "document_number": "(2024)某刑终9号",
                    "judgment": {"instance": "appeal", "verdict": "convicted", "charges": [{"name": "危险驾驶罪"}],
                                 "sentence": sentence("criminal_detention", Some(2)), "offence_date": "2024-01-02"}}),
                )],
                &c,
            )
            .await
            .unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "stays sealed");
        let notices = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        let told = notices
            .iter()
            .find(|n| n.recipient == "110000-fy")
            .expect("the appeal court is told");
        assert_eq!(told.kind, "seal");
        assert!(
            !told.body.contains("限于初犯"),
            "cites the unknown first-offender rule: {}",
            told.body
        );
        assert!(
            told.body.contains("建立轻微犯罪记录封存制度的调研报告"),
            "cites the policy's source: {}",
            told.body
        );
    }
}

/// CPL art. 286 beside the policy in force: a 16-year-old's robbery, three years — beyond every
/// minor-crime option — is sealed by the juvenile statute when the judgment takes effect, and the
/// record names it; an adult with the same facts is not sealed under `cn-minor-opt1`. The
/// juvenile seal is lifted only as the 2022 measures art. 18 say: an adult's later minor
/// conviction does not lift it (under `cn-minor-opt1` it would).
#[tokio::test]
async fn a_juvenile_record_is_sealed_by_the_statute_whatever_the_policy_in_force() {
    let id_born = |birth: &str, serial: &str| {
        let body = format!("110105{birth}{serial}");
        let first17: [u8; 17] = body.as_bytes().try_into().unwrap();
        format!(
            "{body}{}",
            fengcun_domain::id_number::check_character(&first17)
        )
    };
    for store in stores("juvenile_statute").await {
        let c = ctx("cn-minor-opt1", "2026-12-01T00:00:00Z");
        let juvenile = id_born("20070901", "001");
        let adult = id_born("19900307", "002");
        let robbery = |case: &str, id: &str| {
            conviction(
                case,
                id,
                "抢劫罪",
                sentence("fixed_term", Some(36)),
                "2024-05-20",
                "2024-09-01",
                "2024-09-12",
            )
        };
        store
            .ingest(&robbery("110105-2024-000401", &juvenile), &c)
            .await
            .unwrap();
        store
            .ingest(&robbery("110105-2024-000402", &adult), &c)
            .await
            .unwrap();
        let sealed = store
            .record("110105-2024-000401", &format!("id:{juvenile}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                sealed.state.code(),
                sealed.state_date.as_deref(),
                sealed.policy.as_deref()
            ),
            ("sealed", Some("2024-09-12"), Some("cn-juvenile"))
        );
        let refused = store
            .record("110105-2024-000402", &format!("id:{adult}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (refused.state.code(), refused.policy.as_deref()),
            ("not_eligible", Some("cn-minor-opt1"))
        );
        // The person's notice cites the statute, not the option.
        let notices = store
            .notices(NoticeFilter {
                case_code: Some("110105-2024-000401".into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert!(
            notices.iter().any(|n| n.body.contains("第二百八十六条")),
            "{notices:?}"
        );
        // At 19, a drunk-driving conviction: the juvenile seal stays.
        store
            .ingest(
                &conviction(
                    "110105-2026-000403",
                    &juvenile,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2026-09-20",
                    "2026-10-20",
                    "2026-11-01",
                ),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(
            state(&store, "110105-2024-000401", &juvenile).await.0,
            "sealed"
        );
    }
}

/// A case filed by one bureau is not another bureau's to withdraw (a withdrawal seals), nor to
/// report on to be told whose it is: an agency joins a case that an agency of its kind handles
/// only by a step that hands it the case (an appeal's court, the prison receiving the person).
/// The first agency of its kind may send any of its events (its history arriving late). A
/// refused line names its field and stores nothing of its batch.
#[tokio::test]
async fn an_agency_joins_another_bureaus_case_only_by_a_step_that_hands_it_the_case() {
    for store in stores("joining").await {
        let c = ctx("cn-minor-opt1", "2026-12-01T00:00:00Z");
        let case = "110105-2026-000021";
        let id = "11010519980808001X";
        let beijing = json!({"kind": "public_security", "code": "110105-ga"});
        let shanghai = json!({"kind": "public_security", "code": "310115-ga"});
        let charged = json!({"charges": [{"name": "盗窃罪"}], "offence_date": "2026-03-01"});
        store
            .ingest(
                &[event(
                    "bj/filed",
                    "filed",
                    "2026-03-02",
                    case,
                    beijing.clone(),
                    id,
                    charged.clone(),
                )],
                &c,
            )
            .await
            .unwrap();
        let events_before = store.events().await.unwrap().len();
        for (key, kind) in [
            ("sh/withdrawn", "case_withdrawn"),
            ("sh/investigation", "investigation"),
        ] {
            let refused = store
                .ingest(
                    &[
                        event(
                            "sh/own",
                            "filed",
                            "2026-03-05",
                            "310115-2026-000007",
                            shanghai.clone(),
                            id,
                            charged.clone(),
                        ),
                        event(
                            key,
                            kind,
                            "2026-11-30",
                            case,
                            shanghai.clone(),
                            id,
                            json!({}),
                        ),
                    ],
                    &c,
                )
                .await
                .unwrap_err();
            let StoreError::Invalid { line, error } = &refused else {
                panic!("{kind}: {refused}");
            };
            assert_eq!(*line, 2, "{kind}: {refused}");
            assert_eq!(error.field, "agency.code", "{kind}: {refused}");
            let message = refused.to_string();
            assert!(
                message.contains("310115-ga") && message.contains(case) && message.contains(kind),
                "{message}"
            );
            assert_eq!(
                store.events().await.unwrap().len(),
                events_before,
                "{kind}: nothing of the batch stored"
            );
        }
        assert_eq!(state(&store, case, id).await.0, "open");
        // The procuratorate and the court join by their steps; a second court joins by its
        // judgment (an appeal), not by making the first court's judgment effective.
        let procuratorate = json!({"kind": "procuratorate", "code": "110105-jc"});
        let first = json!({"kind": "court", "code": "110105-fy"});
        let appeal = json!({"kind": "court", "code": "110100-zy"});
        let judged = |instance: &str| {
            json!({"judgment": {"instance": instance, "verdict": "convicted", "charges": [{"name": "盗窃罪"}],
                "sentence": {"principal": "criminal_detention", "months": 3}, "offence_date": "2026-03-01",
                "recidivist": false, "prior_convictions": 0}})
        };
        store
            .ingest(
                &[
                    event(
                        "jc/indicted",
                        "indicted",
                        "2026-05-10",
                        case,
                        procuratorate,
                        id,
                        json!({"charges": [{"name": "盗窃罪"}]}),
                    ),
                    event(
                        "fy/judgment",
                        "judgment",
                        "2026-06-01",
                        case,
                        first,
                        id,
                        judged("first"),
                    ),
                ],
                &c,
            )
            .await
            .unwrap();
        let refused = store
            .ingest(
                &[event(
                    "zy/effective",
                    "judgment_effective",
                    "2026-06-20",
                    case,
                    appeal.clone(),
                    id,
                    json!({}),
                )],
                &c,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, StoreError::Invalid { line: 1, error } if error.field == "agency.code"),
            "{refused}"
        );
        store
            .ingest(
                &[
                    event(
                        "zy/judgment",
                        "judgment",
                        "2026-08-01",
                        case,
                        appeal.clone(),
                        id,
                        judged("appeal"),
                    ),
                    event(
                        "zy/effective",
                        "judgment_effective",
                        "2026-08-01",
                        case,
                        appeal,
                        id,
                        json!({}),
                    ),
                ],
                &c,
            )
            .await
            .unwrap();
        assert_eq!(state(&store, case, id).await.0, "sealed");
        // A case the court reported first: the police's filing arrives later, and is the first of
        // its kind there.
        let late = "110105-2026-000022";
        store
            .ingest(
                &[event(
                    "fy/late",
                    "judgment",
                    "2026-06-01",
                    late,
                    json!({"kind": "court", "code": "110105-fy"}),
                    id,
                    judged("first"),
                )],
                &c,
            )
            .await
            .unwrap();
        store
            .ingest(
                &[event(
                    "bj/late",
                    "filed",
                    "2026-03-02",
                    late,
                    beijing,
                    id,
                    charged,
                )],
                &c,
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn explanations_are_derived_from_evidence_and_policy_versions_are_immutable() {
    for store in stores("versions").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001401";
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let transitions = store
            .transitions(case, &format!("id:{ZHANG}"))
            .await
            .unwrap();
        let reasons = &explained(&transitions[0]);
        assert_eq!(reasons["as_of"], "2024-06-01");
        assert_eq!(reasons["decision"]["effective_date"], "2024-03-12");
        let threshold = reasons["decision"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == "threshold")
            .unwrap();
        assert!(
            threshold["text"].as_str().unwrap().contains("拘役二个月"),
            "{threshold}"
        );
        // The same name and version with another document would make old explanations wrong.
        let original = presets::get("cn-minor-opt1").unwrap();
        let doctored = Policy::from_toml(
            "doctored.toml",
            &original
                .source_text
                .replace("months = 12 }", "months = 24 }"),
        )
        .unwrap();
        let error = store
            .ingest(
                &conviction(
                    "110105-2024-001402",
                    "11010519491231002X",
                    "盗窃罪",
                    sentence("fixed_term", Some(20)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &ctx_with(&doctored, "2024-06-01T00:00:00Z"),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::PolicyVersion { .. }), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion_runs_while_other_writers_commit() {
    for store in stores("concurrent").await {
        let store = std::sync::Arc::new(store);
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..300 {
                    let agency = fengcun_store::AgencyEndpoint {
                        code: format!("x-{}", i % 7),
                        kind: fengcun_domain::AgencyKind::Court,
                        name: None,
                        endpoint: Some(format!("http://127.0.0.1:9/{i}")),
                    };
                    store
                        .set_agency(&agency)
                        .await
                        .expect("a concurrent write succeeds");
                }
            })
        };
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        for n in 0..40 {
            let case = format!("110105-2024-{:06}", 2000 + n);
            store
                .ingest(
                    &conviction(
                        &case,
                        ZHANG,
                        "危险驾驶罪",
                        sentence("criminal_detention", Some(1)),
                        "2024-01-02",
                        "2024-03-01",
                        "2024-03-12",
                    ),
                    &c,
                )
                .await
                .unwrap_or_else(|e| panic!("batch {n} failed while another writer committed: {e}"));
        }
        writer.await.unwrap();
        assert_eq!(store.counts().await.unwrap().events, 160);
    }
}

#[tokio::test]
async fn disclosure_rows_keep_their_audit_and_decide_once() {
    use fengcun_store::{
        AuditEvent, AuditKind, CertificateRow, Decision, GrantRow, KeyRow, RequestRow, SessionRow,
        UserRow,
    };
    for store in stores("disclosure").await {
        store.ping().await.unwrap();
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let audit = |kind, outcome: &str| [AuditEvent::new(kind, "admin", outcome)];
        let user = UserRow {
            username: "clerk".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Clerk,
            requester_kind: Some(RequesterKind::Court),
            agency: Some("110105-fy".into()),
            person_key: None,
            name: None,
            disabled: false,
        };
        store
            .put_user(&user, &audit(AuditKind::UserChanged, "created"), now)
            .await
            .unwrap();
        assert_eq!(store.user("clerk").await.unwrap(), Some(user.clone()));
        let session = SessionRow {
            username: "clerk".into(),
            csrf_hash: "c".into(),
            expires_at: "2026-06-01T08:00:00Z".parse().unwrap(),
        };
        store
            .put_session("t", &session, &audit(AuditKind::Login, "ok"), now)
            .await
            .unwrap();
        assert_eq!(store.session("t").await.unwrap(), Some(session));
        // Disabling a user ends their sessions in the same transaction.
        let disabled = UserRow {
            disabled: true,
            ..user
        };
        store
            .put_user(&disabled, &audit(AuditKind::UserChanged, "disabled"), now)
            .await
            .unwrap();
        assert_eq!(store.session("t").await.unwrap(), None);
        assert!(store.user("clerk").await.unwrap().unwrap().disabled);
        // Adding a user never replaces one: a taken username writes nothing, not even its entry.
        let logged = store.audit_entries(0, 1000).await.unwrap().len();
        let newcomer = UserRow {
            disabled: false,
            ..disabled
        };
        assert!(
            !store
                .add_user(&newcomer, &audit(AuditKind::UserChanged, "created"), now)
                .await
                .unwrap()
        );
        assert!(store.user("clerk").await.unwrap().unwrap().disabled);
        assert_eq!(store.audit_entries(0, 1000).await.unwrap().len(), logged);
        let other = UserRow {
            username: "clerk-2".into(),
            ..newcomer
        };
        assert!(
            store
                .add_user(&other, &audit(AuditKind::UserChanged, "created"), now)
                .await
                .unwrap()
        );
        assert_eq!(store.user("clerk-2").await.unwrap(), Some(other));
        assert_eq!(
            store.audit_entries(0, 1000).await.unwrap().len(),
            logged + 1
        );

        let key = KeyRow {
            key_id: "k1".into(),
            name: "court system".into(),
            role: Role::Clerk,
            requester_kind: Some(RequesterKind::Court),
            agency: None,
            owner: Some("clerk".into()),
            created_by: "admin".into(),
            created_at: now.to_string(),
            revoked_at: None,
        };
        store
            .put_key(
                "digest",
                &key,
                &audit(AuditKind::KeyChanged, "created"),
                now,
            )
            .await
            .unwrap();
        assert_eq!(store.key_by_hash("digest").await.unwrap(), Some(key));
        assert!(
            store
                .revoke_key("k1", "admin", &audit(AuditKind::KeyChanged, "revoked"), now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_key("k1", "admin", &audit(AuditKind::KeyChanged, "revoked"), now)
                .await
                .unwrap(),
            "a key is revoked once"
        );
        assert!(
            store
                .key_by_hash("digest")
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );

        let request = RequestRow {
            request_id: "r1".into(),
            person_key: store.person_key("id:110105199003070025"),
            requester: "user:clerk".into(),
            requester_kind: RequesterKind::Court,
            purpose: Purpose::CaseHandling,
            post: None,
            basis: "（2026）京0105刑初1号".into(),
            reason: "审理".into(),
            status: RequestStatus::Pending,
            decided_by: None,
            decision_reason: None,
            grant_id: None,
            created_at: now.to_string(),
            decided_at: None,
            person: None,
        };
        store
            .put_request(&request, &audit(AuditKind::Request, "pending"), now)
            .await
            .unwrap();
        assert_eq!(
            store
                .requests(Some(RequestStatus::Pending), None)
                .await
                .unwrap(),
            vec![request.clone()]
        );
        assert_eq!(
            store.requests(None, Some("user:other")).await.unwrap(),
            vec![]
        );
        let grant = GrantRow {
            grant_id: "g1".into(),
            request_id: "r1".into(),
            person_key: request.person_key.clone(),
            requester: "user:clerk".into(),
            purpose: Purpose::CaseHandling,
            post: None,
            not_before: now.to_string(),
            expires: "2026-07-01T00:00:00Z".into(),
            revoked_at: None,
            revoked_by: None,
            person: None,
        };
        let approve = Decision::Approve(Box::new(grant.clone()));
        assert!(
            store
                .decide_request(
                    "r1",
                    "user:judge",
                    "准许",
                    &approve,
                    &audit(AuditKind::Approval, "approved"),
                    now
                )
                .await
                .unwrap()
        );
        // Decided once: a second decision changes nothing and writes no grant or entry.
        let entries_before = store.audit_entries(0, 1000).await.unwrap().len();
        assert!(
            !store
                .decide_request(
                    "r1",
                    "user:judge",
                    "x",
                    &Decision::Refuse,
                    &audit(AuditKind::Refusal, "refused"),
                    now
                )
                .await
                .unwrap()
        );
        assert_eq!(
            store.audit_entries(0, 1000).await.unwrap().len(),
            entries_before
        );
        let decided = store.request("r1").await.unwrap().unwrap();
        assert_eq!(
            (decided.status.as_str(), decided.grant_id.as_deref()),
            ("approved", Some("g1"))
        );
        assert_eq!(store.grants(Some("user:clerk")).await.unwrap(), vec![grant]);
        assert!(
            store
                .revoke_grant(
                    "g1",
                    "user:judge",
                    &audit(AuditKind::GrantRevoked, "revoked"),
                    now
                )
                .await
                .unwrap()
        );
        assert!(
            store
                .grant("g1")
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );

        let certificate = CertificateRow {
            number: "FC-2026-ABC".into(),
            person_key: request.person_key.clone(),
            result: fengcun_store::CertificateOutcome::NoCriminalRecord,
            issued_by: "user:person".into(),
            issued_at: now.to_string(),
            file: b"{}\n".to_vec(),
        };
        store
            .put_certificate(
                &certificate,
                &audit(AuditKind::Certificate, "no_criminal_record"),
                now,
            )
            .await
            .unwrap();
        assert_eq!(
            store.certificate("FC-2026-ABC").await.unwrap(),
            Some(certificate)
        );
        // Every change left its entry, in order, and the log still verifies.
        let kinds: Vec<String> = store
            .audit_entries(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{}/{}", e.kind, e.outcome))
            .collect();
        assert_eq!(
            kinds,
            [
                "user_changed/created",
                "login/ok",
                "user_changed/disabled",
                "user_changed/created",
                "key_changed/created",
                "key_changed/revoked",
                "request/pending",
                "approval/approved",
                "grant_revoked/revoked",
                "certificate/no_criminal_record",
            ]
        );
        assert!(
            store
                .verify_audit(&[], None)
                .await
                .unwrap()
                .problem
                .is_none()
        );
    }
}

/// A valid identity number (GB 11643 check character) for person `n`.
fn id_number(n: u32) -> String {
    let body = format!(
        "1101051985{:02}{:02}{:03}",
        1 + n % 12,
        1 + n % 28,
        n % 1000
    );
    let first17: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!(
        "{body}{}",
        fengcun_domain::id_number::check_character(&first17)
    )
}

/// A stream that cuts across batches of seven: 24 cases of 9 persons (repeat offenders whose later
/// conviction lifts an earlier seal, sentences on both sides of the thresholds), one not
/// prosecuted, events in the wrong order within each window, a duplicate line, a reused key with
/// other content, a correction from the court that sent the judgment and one from an agency that
/// did not.
fn mixed_stream() -> Vec<ValidEvent> {
    let charges = ["危险驾驶罪", "盗窃罪", "诈骗罪", "故意伤害罪"];
    let mut events = Vec::new();
    for n in 0..24u32 {
        // Each person's later cases are judged in later years.
        let year = 2021 + n / 9;
        let case = format!("110105-{year}-{:06}", 700 + n);
        let id = id_number(n % 9);
        let month = 1 + n % 9;
        let offence = format!("{year}-{month:02}-03");
        let judged = format!("{year}-{:02}-10", month + 1);
        let effective = format!("{year}-{:02}-21", month + 1);
        if n == 5 {
            events.push(event(
                &format!("{case}-np"),
                "not_prosecuted",
                &judged,
                &case,
                procuratorate(&case),
                &id,
                json!({"ground": "discretionary"}),
            ));
            continue;
        }
        let sentence = match n % 4 {
            0 => sentence("criminal_detention", Some(1 + n % 6)),
            1 => sentence("fixed_term", Some(8 + n)),
            2 => sentence("fixed_term", Some(36 + n)),
            _ => sentence("public_surveillance", Some(6)),
        };
        let charge = charges[(n % 4) as usize];
        let mut case_events =
            conviction(&case, &id, charge, sentence, &offence, &judged, &effective);
        if n % 3 == 0 {
            case_events.reverse();
        }
        events.extend(case_events);
    }
    // A first offender's seal, which the court's correction revokes.
    let first_offence = conviction(
        "110105-2023-000799",
        &id_number(100),
        "危险驾驶罪",
        sentence("criminal_detention", Some(2)),
        "2023-05-01",
        "2023-06-01",
        "2023-06-12",
    );
    let judgment = first_offence[2].clone();
    events.splice(0..0, first_offence);
    let case = judgment.case_code.as_ref().unwrap().to_string();
    let id = judgment
        .identity
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut replacement = judgment.event.clone();
    replacement.judgment.as_mut().unwrap().sentence = Some(sentence("fixed_term", Some(40)));
    let correct = |key: &str, agency: Value, corrects: &ValidEvent, replacement: Value| {
        event(
            key,
            "correction",
            "2024-01-05",
            &case,
            agency,
            &id,
            json!({"corrects": corrects.event.idempotency_key, "replacement": replacement, "reason": "刑期笔误"}),
        )
    };
    // The police "correct" the procuratorate's indictment with a filing of their own: well formed
    // at the edge, and stored as the police's correction of their own key, which names no event of
    // theirs: it corrects nothing (keys are each agency's own; only the agency that sent an event
    // corrects it).
    let indictment = &events[1];
    let mut by_police = serde_json::to_value(&events[0].event).unwrap();
    by_police["idempotency_key"] = json!(indictment.event.idempotency_key);
    let fix_by_police = correct("fix-by-police", police(&case), indictment, by_police);
    let fix_by_court = correct(
        "fix-by-court",
        court(&case),
        &judgment,
        serde_json::to_value(&replacement).unwrap(),
    );
    events.insert(30, events[3].clone());
    let mut reused = events[10].clone();
    reused.event.agency.name = Some("另一个单位".into());
    events.insert(
        50,
        Event::parse(&serde_json::to_vec(&reused.event).unwrap()).unwrap(),
    );
    events.push(fix_by_police);
    events.push(fix_by_court);
    events
}

/// What a store holds, in a form two stores can be compared by: states, each record's
/// transitions and notices (without their ids and times), and the size of the audit log.
async fn holdings(store: &SqlStore, events: &[ValidEvent]) -> (Vec<String>, usize) {
    let mut lines: Vec<String> = store
        .states()
        .await
        .unwrap()
        .into_iter()
        // As JSON: the state reads as stored (`"unsealed"`).
        .map(|s| serde_json::to_string(&s).unwrap())
        .collect();
    let mut records: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e.case_code.as_ref().unwrap().to_string(),
                e.identity.clone(),
            )
        })
        .collect();
    records.sort();
    records.dedup();
    for (case, identity) in records {
        for t in store.transitions(&case, &identity).await.unwrap() {
            lines.push(format!(
                "{case} {:?} -> {} {:?} {:?} {:?} {}",
                t.from,
                t.to,
                t.date,
                t.trigger,
                t.rule,
                explained(&t)
            ));
        }
    }
    for n in store.notices(NoticeFilter::default()).await.unwrap() {
        // The notice number carries part of a random transition id.
        let body: Vec<&str> = n
            .body
            .lines()
            .filter(|line| !line.starts_with("编号："))
            .collect();
        lines.push(format!(
            "{} {} {} {} {}",
            n.case_code,
            n.kind,
            n.recipient,
            n.status,
            body.join("\n")
        ));
    }
    lines.sort();
    let audit = store.audit_entries(0, 1_000_000).await.unwrap().len();
    (lines, audit)
}

/// Batch by batch with `Store::ingest`, as `fengcun import` did before the pipeline: a refused
/// line is taken out and the rest of its batch stored.
async fn ingest_batch_by_batch(
    store: &SqlStore,
    events: &[ValidEvent],
    batch: usize,
    c: &Context,
) -> Vec<(usize, Result<LineOutcome, String>)> {
    let mut lines = Vec::new();
    for (start, chunk) in events
        .chunks(batch)
        .enumerate()
        .map(|(i, c)| (i * batch, c))
    {
        let mut labelled: Vec<(usize, ValidEvent)> = chunk
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, e)| (start + i + 1, e))
            .collect();
        loop {
            let batch: Vec<ValidEvent> = labelled.iter().map(|(_, e)| e.clone()).collect();
            match store.ingest(&batch, c).await {
                Ok(outcomes) => {
                    lines.extend(
                        labelled
                            .iter()
                            .map(|(l, _)| *l)
                            .zip(outcomes.into_iter().map(Ok)),
                    );
                    break;
                }
                Err(error) => {
                    let at = error.line().expect("a refusal names its line");
                    let (line, _) = labelled.remove(at - 1);
                    lines.push((line, Err(error.to_string())));
                }
            }
        }
    }
    lines.sort_by_key(|(line, _)| *line);
    lines
}

async fn ingest_through_pipeline(
    store: &SqlStore,
    events: &[ValidEvent],
    batch: usize,
    c: &Context,
) -> (
    Vec<(usize, Result<LineOutcome, String>)>,
    fengcun_store::Tally,
) {
    let mut pipeline = store.pipeline(c.clone(), false).await.unwrap();
    let mut lines = Vec::new();
    let mut take = |report: Option<fengcun_store::BatchReport>| {
        for (line, outcome) in report.map(|r| r.lines).unwrap_or_default() {
            lines.push((line, outcome.map_err(|e| e.to_string())));
        }
    };
    for (start, chunk) in events
        .chunks(batch)
        .enumerate()
        .map(|(i, c)| (i * batch, c))
    {
        let labelled = chunk
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, e)| (start + i + 1, e))
            .collect();
        take(pipeline.push(labelled).await.unwrap());
    }
    take(pipeline.finish().await.unwrap());
    lines.sort_by_key(|(line, _)| *line);
    (lines, pipeline.tally())
}

/// An import of hours decides each batch at the time it is given for that batch
/// (`Pipeline::set_now`): its transitions and notices carry when they were made, not when the
/// import began — every notice of a ten-million import once carried its start, one instant.
#[tokio::test]
async fn each_batch_of_a_pipeline_is_decided_at_its_own_time() {
    for store in stores("pipeline_now").await {
        let c = ctx("cn-minor-opt1", "2025-01-01T00:00:00Z");
        let first = conviction(
            "110105-2024-000701",
            ZHANG,
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        let second = conviction(
            "110105-2024-000702",
            "110105198001010016",
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        let mut pipeline = store.pipeline(c.clone(), false).await.unwrap();
        let labelled =
            |events: &[ValidEvent]| events.iter().cloned().enumerate().collect::<Vec<_>>();
        pipeline.push(labelled(&first)).await.unwrap();
        pipeline.set_now("2025-01-01T03:00:00Z".parse().unwrap());
        pipeline.push(labelled(&second)).await.unwrap();
        pipeline.finish().await.unwrap();
        for (case, at) in [
            ("110105-2024-000701", "2025-01-01T00:00:00Z"),
            ("110105-2024-000702", "2025-01-01T03:00:00Z"),
        ] {
            let notices = store
                .notices(NoticeFilter {
                    case_code: Some(case.into()),
                    ..NoticeFilter::default()
                })
                .await
                .unwrap();
            assert!(!notices.is_empty(), "{case}");
            for notice in notices {
                assert_eq!(notice.created_at, at, "{case}: {}", notice.notice_id);
            }
        }
    }
}

#[tokio::test]
async fn the_pipeline_stores_what_batch_by_batch_ingestion_stores() {
    let keys = Keys::new(MasterKey::generate());
    let events = mixed_stream();
    let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let references = stores_with("pipeline_reference", keys.clone()).await;
    for (store, reference) in stores_with("pipeline", keys).await.iter().zip(&references) {
        let expected = ingest_batch_by_batch(reference, &events, 7, &c).await;
        let (lines, tally) = ingest_through_pipeline(store, &events, 7, &c).await;
        assert_eq!(lines, expected, "{:?}", store.backend());
        let refused = refused_lines(&lines);
        assert_eq!(refused.len(), 1, "the reused key");
        assert!(lines.contains(&(31, Ok(LineOutcome::Duplicate))));
        let (held, audit) = holdings(store, &events).await;
        let (expected_held, expected_audit) = holdings(reference, &events).await;
        assert_eq!(held, expected_held);
        assert_eq!(audit, expected_audit);
        assert!(
            held.iter().any(|l| l.contains("\"unsealed\"")),
            "a seal was lifted"
        );
        assert!(
            held.iter().any(|l| l.contains("\"revoked\"")),
            "the court's correction"
        );
        let batches = events.len().div_ceil(7);
        assert_eq!(tally.ahead + tally.in_transaction, batches);
        if store.backend() == fengcun_store::Backend::Sqlite {
            // Every batch without a refused line was decided ahead; the two with one, and each
            // batch after those (read against a guess), in their transaction.
            assert!(tally.ahead >= batches - 4, "{tally:?} of {batches}");
        }
    }
}

/// A batch larger than a thousand events with a refused line is written in pieces once the line is
/// taken out (`fengcun import --batch 100000` of a file with refused lines must not decide a
/// hundred thousand events again for each): the pieces, in order, store what the whole batch
/// stores — here a refusal early in the batch, and another in a piece after it.
#[tokio::test]
async fn a_large_batch_with_refused_lines_stores_what_it_stores_whole() {
    let keys = Keys::new(MasterKey::generate());
    let mut events = mixed_stream();
    let refused_again = events[50].clone();
    for n in 200..650u32 {
        events.extend(conviction(
            &format!("110105-2022-{:06}", 100_000 + n),
            &id_number(n),
            "危险驾驶罪",
            sentence("criminal_detention", Some(1 + n % 6)),
            "2022-03-03",
            "2022-04-10",
            "2022-04-21",
        ));
        if n == 600 {
            events.push(refused_again.clone());
        }
    }
    let batch = events.len();
    assert!(
        batch - 50 > 1_000,
        "the rest of the batch is cut into pieces"
    );
    let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let references = stores_with("pieces_reference", keys.clone()).await;
    for (store, reference) in stores_with("pieces", keys).await.iter().zip(&references) {
        let expected = ingest_batch_by_batch(reference, &events, batch, &c).await;
        let (lines, _) = ingest_through_pipeline(store, &events, batch, &c).await;
        assert_eq!(lines.len(), batch);
        // A refusal names its line within what was sent in one transaction: within the piece
        // here, within the rest of the batch there; the import maps it to the file's line.
        assert_eq!(
            without_positions(&lines),
            without_positions(&expected),
            "{:?}",
            store.backend()
        );
        let refused = refused_lines(&lines);
        assert_eq!(refused.len(), 2, "the reused key, twice: {refused:?}");
        let (held, audit) = holdings(store, &events).await;
        assert!(
            held.len() > 450,
            "the pieces after the refusal were stored: {}",
            held.len()
        );
        assert_eq!((held, audit), holdings(reference, &events).await);
    }
}

/// The lines the store refused.
fn refused_lines(lines: &[(usize, Result<LineOutcome, String>)]) -> Vec<usize> {
    lines
        .iter()
        .filter(|(_, outcome)| outcome.is_err())
        .map(|(line, _)| *line)
        .collect()
}

/// The lines' outcomes with a refusal's message less its `line N: `.
fn without_positions(
    lines: &[(usize, Result<LineOutcome, String>)],
) -> Vec<(usize, Result<LineOutcome, String>)> {
    lines
        .iter()
        .map(|(line, outcome)| {
            let outcome = outcome
                .clone()
                .map_err(|message| match message.split_once(": ") {
                    Some((at, rest)) if at.starts_with("line ") => rest.to_owned(),
                    _ => message,
                });
            (*line, outcome)
        })
        .collect()
}

/// An import's connection checkpoints every 1 GiB of log and keeps the page cache it is given
/// while the pipeline writes; once the pipeline lets it go — finished or dropped — the one write
/// connection of the process goes back to the settings of every other write (64 MB of log, 256 MB
/// of cache), so that writes after an import are not left with a log a power cut could take a
/// gigabyte of. (That the bulk settings are in force meanwhile is `pipeline.rs`'s unit test.)
#[tokio::test]
async fn a_pipeline_gives_the_write_connection_back_with_its_usual_settings() {
    for store in stores("pipeline_settings").await {
        if store.backend() != fengcun_store::Backend::Sqlite {
            continue;
        }
        let c = ctx("cn-minor-opt1", "2025-01-01T00:00:00Z");
        let settings = |store: SqlStore| async move {
            let mut conn = store.write_pool().acquire().await.unwrap();
            let (pages,): (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let (cache,): (i64,) = sqlx::query_as("PRAGMA cache_size")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            (pages, cache)
        };
        assert_eq!(settings(store.clone()).await, (16_384, -262_144));
        let mut pipeline = store.pipeline(c.clone(), false).await.unwrap();
        let events = conviction(
            "110105-2024-000901",
            ZHANG,
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        let labelled: Vec<_> = events.iter().cloned().enumerate().collect();
        let (first, second) = labelled.split_at(1);
        let mut lines = Vec::new();
        pipeline.set_cache(512).await.unwrap();
        lines.extend(
            pipeline
                .push(first.to_vec())
                .await
                .unwrap()
                .into_iter()
                .flat_map(|r| r.lines),
        );
        // Asked for while the first batch holds the connection: it applies from the next, and
        // the first batch's report still comes back.
        pipeline.set_cache(768).await.unwrap();
        lines.extend(
            pipeline
                .push(second.to_vec())
                .await
                .unwrap()
                .into_iter()
                .flat_map(|r| r.lines),
        );
        lines.extend(
            pipeline
                .finish()
                .await
                .unwrap()
                .into_iter()
                .flat_map(|r| r.lines),
        );
        let numbers: Vec<usize> = lines.iter().map(|(line, _)| *line).collect();
        assert_eq!(numbers, (0..events.len()).collect::<Vec<_>>());
        assert!(
            lines
                .iter()
                .all(|(_, outcome)| matches!(outcome, Ok(LineOutcome::Stored)))
        );
        // The pipeline holds the one write connection until it is dropped.
        drop(pipeline);
        assert_eq!(settings(store.clone()).await, (16_384, -262_144));
        // A pipeline dropped without `finish` (a failed import) gives it back the same way.
        let mut pipeline = store.pipeline(c.clone(), false).await.unwrap();
        pipeline.set_cache(512).await.unwrap();
        drop(pipeline);
        assert_eq!(settings(store.clone()).await, (16_384, -262_144));
    }
}

/// An import's log is copied back into the database file beside its batches, by a connection of
/// its own: a batch committed and still in flight (no `finish`, far below the write connection's
/// own checkpoint) reaches the file within seconds; a dry run copies nothing.
#[tokio::test]
async fn an_import_copies_its_log_back_beside_its_batches() {
    for store in stores("pipeline_checkpointer").await {
        if store.backend() != fengcun_store::Backend::Sqlite {
            continue;
        }
        let (path,): (String,) =
            sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let c = ctx("cn-minor-opt1", "2025-01-01T00:00:00Z");
        let events = conviction(
            "110105-2024-000911",
            ZHANG,
            "盗窃罪",
            sentence("fixed_term", Some(10)),
            "2024-01-02",
            "2024-03-01",
            "2024-03-12",
        );
        let labelled: Vec<_> = events.iter().cloned().enumerate().collect();
        async fn grows_within(path: &str, seconds: u64, before: u64) -> bool {
            for _ in 0..seconds * 10 {
                if std::fs::metadata(path).unwrap().len() > before {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            false
        }
        let before = size();
        let mut dry = store.pipeline(c.clone(), true).await.unwrap();
        assert!(dry.push(labelled.clone()).await.unwrap().is_none());
        assert!(
            !grows_within(&path, 2, before).await,
            "a dry run wrote to the file"
        );
        dry.finish().await.unwrap();
        drop(dry);
        let mut pipeline = store.pipeline(c.clone(), false).await.unwrap();
        assert!(pipeline.push(labelled).await.unwrap().is_none());
        assert!(
            grows_within(&path, 10, before).await,
            "the batch is still only in the log: {} bytes",
            size()
        );
        let report = pipeline.finish().await.unwrap().unwrap();
        assert!(
            report
                .lines
                .iter()
                .all(|(_, outcome)| matches!(outcome, Ok(LineOutcome::Stored)))
        );
    }
}

#[tokio::test]
async fn the_pipeline_decides_again_when_another_connection_wrote() {
    let keys = Keys::new(MasterKey::generate());
    let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let earlier = conviction(
        "110105-2023-000801",
        ZHANG,
        "盗窃罪",
        sentence("fixed_term", Some(10)),
        "2023-01-02",
        "2023-03-01",
        "2023-03-12",
    );
    let later = conviction(
        "110105-2024-000802",
        ZHANG,
        "诈骗罪",
        sentence("fixed_term", Some(14)),
        "2024-01-02",
        "2024-03-01",
        "2024-03-12",
    );
    let references = stores_with("pipeline_other_reference", keys.clone()).await;
    for (store, reference) in stores_with("pipeline_other", keys.clone())
        .await
        .iter()
        .zip(&references)
    {
        // A second store on the same database: another process, or another server.
        let url = match store.backend() {
            fengcun_store::Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!(
                    "fengcun-contract-{}-pipeline_other",
                    std::process::id()
                ));
                format!("sqlite://{}", dir.join("store.sqlite").display())
            }
            // On PostgreSQL every batch is decided in its transaction: no plan can go stale.
            fengcun_store::Backend::Postgres => continue,
        };
        let other = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let mut pipeline = store.pipeline(c.clone(), false).await.unwrap();
        let first: Vec<_> = earlier[..2].iter().cloned().enumerate().collect();
        pipeline.push(first).await.unwrap();
        // While the pipeline holds its plan for the earlier case, the other writer completes it.
        other.ingest(&earlier[2..], &c).await.unwrap();
        let second: Vec<_> = later.iter().cloned().enumerate().collect();
        pipeline.push(second).await.unwrap();
        pipeline.finish().await.unwrap();
        let tally = pipeline.tally();
        assert!(tally.in_transaction >= 1, "{tally:?}");

        // The other writer's commit may land before the first batch's or after it (the
        // transitions differ: open then sealed, or sealed at once); the states may not.
        reference.ingest(&earlier[..2], &c).await.unwrap();
        reference.ingest(&earlier[2..], &c).await.unwrap();
        reference.ingest(&later, &c).await.unwrap();
        assert_eq!(
            store.states().await.unwrap(),
            reference.states().await.unwrap()
        );
        assert_eq!(
            state(store, "110105-2023-000801", ZHANG).await.0,
            "unsealed",
            "the later conviction lifted the seal the other writer made"
        );
    }
}

#[tokio::test]
async fn a_database_opens_only_with_the_master_key_it_was_made_with() {
    for url in fresh_urls("masterkey").await {
        let (ours, other) = (MasterKey::generate(), MasterKey::generate());
        let store = fengcun_store::open(&url, Keys::new(ours.clone()))
            .await
            .unwrap();
        store
            .ingest(
                &conviction(
                    "110105-2024-000951",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-10",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &ctx("cn-minor-opt1", "2024-06-01T00:00:00Z"),
            )
            .await
            .unwrap();
        let refused = fengcun_store::open(&url, Keys::new(other.clone()))
            .await
            .expect_err("another key");
        assert!(
            matches!(refused, StoreError::WrongMasterKey),
            "{url}: {refused}"
        );
        // A database from before the check was kept: the key is proved on a record's data key.
        sqlx::query("DELETE FROM key_check")
            .execute(store.pool())
            .await
            .unwrap();
        let refused = fengcun_store::open(&url, Keys::new(other.clone()))
            .await
            .expect_err("another key, no check kept");
        assert!(
            matches!(refused, StoreError::WrongMasterKey),
            "{url}: {refused}"
        );
        let reopened = fengcun_store::open(&url, Keys::new(ours.clone()))
            .await
            .unwrap();
        assert_eq!(reopened.counts().await.unwrap().events, 4);
        assert!(
            fengcun_store::open(&url, Keys::new(other)).await.is_err(),
            "the check is kept again"
        );
    }
}

/// Each stored event's `content_hash`, by (agency code, idempotency key): the row is found by its
/// id, the MAC of the two (`Keys::event_id`), among `event_ids`' and `events`' (a row of none of
/// them: "?").
async fn content_hashes(store: &SqlStore, events: &[ValidEvent]) -> Vec<(String, String, Vec<u8>)> {
    let stored: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, content_hash FROM event_ids UNION ALL SELECT event_id, content_hash FROM events",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut rows: Vec<(String, String, Vec<u8>)> = stored
        .into_iter()
        .map(|(id, hash)| {
            let event = events.iter().find(|e| {
                store
                    .keys()
                    .event_id(&e.event.agency.code, &e.event.idempotency_key)
                    == id
            });
            match event {
                Some(e) => (
                    e.event.agency.code.clone(),
                    e.event.idempotency_key.clone(),
                    hash,
                ),
                None => ("?".into(), "?".into(), hash),
            }
        })
        .collect();
    rows.sort();
    rows
}

/// What `content_hash` held before it was keyed: SM3 of the event's JSON as stored.
fn plain_sm3(event: &ValidEvent) -> Vec<u8> {
    fengcun_crypto::hash(
        fengcun_crypto::Suite::Sm,
        &serde_json::to_vec(&event.event).unwrap(),
    )
    .to_vec()
}

/// `events.content_hash` is a MAC under a key derived from the master key: not the plain SM3 of
/// the event (which a copy of the database could confirm a guessed event or identity number
/// against), and different under another master key; it still tells a duplicate from a different
/// event under a used key.
#[tokio::test]
async fn event_content_hashes_are_keyed_by_the_master_key() {
    let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let case = "110105-2024-000971";
    let events = conviction(
        case,
        ZHANG,
        "危险驾驶罪",
        sentence("criminal_detention", Some(2)),
        "2024-01-10",
        "2024-03-01",
        "2024-03-12",
    );
    let ones = stores("content_mac_one").await;
    let others = stores("content_mac_other").await;
    for (one, other) in ones.iter().zip(&others) {
        let backend = format!("{:?}", one.backend());
        one.ingest(&events, &c).await.unwrap();
        other.ingest(&events, &c).await.unwrap();
        let (mine, theirs) = (
            content_hashes(one, &events).await,
            content_hashes(other, &events).await,
        );
        assert_eq!(mine.len(), 4, "{backend}");
        for event in &events {
            let find = |rows: &[(String, String, Vec<u8>)]| {
                rows.iter()
                    .find(|(agency, key, _)| {
                        *agency == event.event.agency.code && *key == event.event.idempotency_key
                    })
                    .map(|(_, _, hash)| hash.clone())
                    .unwrap()
            };
            let (hash, other_hash) = (find(&mine), find(&theirs));
            let plain = plain_sm3(event);
            assert!(
                !hash.windows(plain.len()).any(|w| w == plain.as_slice()),
                "{backend}: the plain SM3 of the event is not stored"
            );
            assert_ne!(
                hash, other_hash,
                "{backend}: another master key, another value"
            );
        }
        assert_eq!(
            one.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Duplicate; 4],
            "{backend}"
        );
        let mut changed = events[2].clone();
        changed.event.date = "2024-03-02".into();
        let error = one.ingest(&[changed], &c).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict { line: 1, .. }),
            "{backend}: {error}"
        );
    }
}

/// The number the next event stored gets (`event_seq`: a counter on SQLite, a sequence on
/// PostgreSQL).
async fn next_event_number(store: &SqlStore) -> i64 {
    let sql = match store.backend() {
        fengcun_store::Backend::Sqlite => "SELECT last + 1 FROM event_seq",
        fengcun_store::Backend::Postgres => {
            "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM event_seq"
        }
    };
    let (next,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await.unwrap();
    next
}

/// The highest number of an event stored a row each (before migration 27).
async fn highest_old_number(store: &SqlStore) -> i64 {
    let (top,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    top.unwrap_or(0)
}

/// What a record list, its policy filter and the rebuild's states read: with `rows_read_back`, every
/// place a record's or a transition's policy and time are read.
async fn records_listed(store: &SqlStore) -> Vec<String> {
    let mut out = vec![format!("{:?}", store.states().await.unwrap())];
    for policy_version in [None, Some("2".to_owned()), Some("1".to_owned())] {
        let page = store
            .record_page(&fengcun_store::RecordFilter {
                policy_version: policy_version.clone(),
                limit: 1000,
                ..fengcun_store::RecordFilter::default()
            })
            .await
            .unwrap();
        out.push(format!("{policy_version:?}: {page:?}"));
    }
    out
}

/// The first `n` events of each case in `events`, in their order: what a store had before an
/// upgrade, the rest arriving after it (records with events on both sides).
fn first_events_of_each_case(events: &[ValidEvent], n: usize) -> Vec<ValidEvent> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let early: Vec<ValidEvent> = events
        .iter()
        .filter(|e| {
            let count = seen
                .entry(e.case_code.as_ref().unwrap().to_string())
                .or_default();
            *count += 1;
            *count <= n
        })
        .cloned()
        .collect();
    assert!(early.len() < events.len() && !early.is_empty());
    early
}

/// A store from before migration 29 — each record's list of events in `record_events` — reads
/// back exactly as before once upgraded, every list moved into its record's row and the table
/// gone; the rest of the records' events then arrive as in a store that had the column from the
/// start. A list with no record row to move to refuses the upgrade, and nothing is changed.
#[tokio::test]
async fn a_database_from_before_migration_29_reads_back_identically() {
    let events = mixed_stream();
    let early = first_events_of_each_case(&events, 2);
    let c1 = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let c2 = ctx("cn-minor-opt1", "2024-06-02T08:30:00Z");
    let count = |store: &SqlStore, sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    for (url, reference) in fresh_urls("lists_migration")
        .await
        .into_iter()
        .zip(fresh_urls("lists_reference").await)
    {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &early, 5, &c1).await;
        let records = count(&store, "SELECT COUNT(*) FROM records").await;
        let mut before = rows_read_back(&store, &events).await;
        before.push(format!("{:?}", store.events().await.unwrap()));

        store.put_lists_back_as_before_migration_29().await.unwrap();
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM record_events").await,
            records,
            "{url}: a list a record, in a table of its own"
        );
        // A list whose record row is missing (a store damaged by hand, say): the upgrade would
        // lose it, so it is refused, and the store stays as it was.
        sqlx::query("INSERT INTO record_events (person, case_code, body) VALUES ($1, $2, $3)")
            .bind(vec![7u8; 16])
            .bind("110105-2024-009999")
            .bind(vec![1u8; 40])
            .execute(store.pool())
            .await
            .unwrap();
        drop(store);
        let refused = fengcun_store::open(&url, keys.clone()).await.err().unwrap();
        assert!(
            refused.to_string().contains("migration 29"),
            "{url}: {refused}"
        );
        // Read as it is, without opening it as a store (which would migrate).
        sqlx::any::install_default_drivers();
        let raw = sqlx::AnyPool::connect(&url).await.unwrap();
        let (lists, orphan_records, version): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM record_events), \
             (SELECT COUNT(*) FROM records WHERE case_code = '110105-2024-009999'), \
             (SELECT MAX(version) FROM schema_version)",
        )
        .fetch_one(&raw)
        .await
        .unwrap();
        assert_eq!(
            (lists, orphan_records, version),
            (records + 1, 0, 28),
            "{url}: nothing moved, still at migration 28"
        );
        sqlx::query("DELETE FROM record_events WHERE case_code = '110105-2024-009999'")
            .execute(&raw)
            .await
            .unwrap();
        raw.close().await;

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM records WHERE events IS NOT NULL"
            )
            .await,
            records,
            "{url}: every list in its record's row"
        );
        let table_left = sqlx::query("SELECT COUNT(*) FROM record_events")
            .fetch_one(store.pool())
            .await;
        assert!(table_left.is_err(), "{url}: record_events is gone");
        let mut after = rows_read_back(&store, &events).await;
        after.push(format!("{:?}", store.events().await.unwrap()));
        assert_eq!(after, before, "{url}");

        let late = ingest_batch_by_batch(&store, &events, 5, &c2).await;
        let fresh = fengcun_store::open(&reference, Keys::new(MasterKey::generate()))
            .await
            .unwrap();
        ingest_batch_by_batch(&fresh, &early, 5, &c1).await;
        assert_eq!(
            late,
            ingest_batch_by_batch(&fresh, &events, 5, &c2).await,
            "{url}"
        );
        assert_eq!(
            format!("{:?}", store.events().await.unwrap()),
            format!("{:?}", fresh.events().await.unwrap()),
            "{url}: every event, in order, as the store that had the column from the start"
        );
    }
}

/// A store from before migration 28 — every record's and transition's policy and time in text —
/// reads back exactly as before once upgraded (records, lists and their policy filter, states,
/// transitions with their explanations, timelines, notices, stats, audit), without rewriting a
/// row; its later rows keep a number and seconds, and the store then reads as one that had them
/// from the start. A row an older build writes in text afterwards is read by its text.
#[tokio::test]
async fn a_database_from_before_migration_28_reads_back_identically() {
    let events = mixed_stream();
    // Each case's first two events before the upgrade, the rest after: records with both.
    let early = first_events_of_each_case(&events, 2);
    let c1 = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let c2 = ctx("cn-minor-opt1", "2024-06-02T08:30:00Z");
    let in_text = |store: &SqlStore| {
        let pool = store.pool().clone();
        async move {
            let (records,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM records WHERE policy IS NOT NULL AND policy <> '' AND updated_at <> ''",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            let (transitions,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM transitions WHERE policy <> '' AND at <> ''")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            (records, transitions)
        }
    };
    for (url, reference) in fresh_urls("policy_refs_migration")
        .await
        .into_iter()
        .zip(fresh_urls("policy_refs_reference").await)
    {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &early, 5, &c1).await;
        assert_eq!(in_text(&store).await, (0, 0), "{url}: numbers and seconds");
        let mut before = rows_read_back(&store, &events).await;
        before.extend(records_listed(&store).await);

        store.put_rows_back_as_before_migration_28().await.unwrap();
        let old = in_text(&store).await;
        assert!(old.0 > 0 && old.1 > 0, "{url}: every row in text: {old:?}");
        let widths = |lengths: Vec<(&'static str, Vec<i64>)>| {
            lengths
                .into_iter()
                .map(|(table, l)| (table, l.iter().min().copied(), l.iter().max().copied()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            widths(stored_person_keys(&store).await),
            [
                ("records", Some(32), Some(32)),
                ("transitions", Some(32), Some(32)),
                ("holdings", Some(32), Some(32))
            ],
            "{url}: person keys in full before"
        );
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(in_text(&store).await, old, "{url}: nothing rewritten");
        assert_eq!(
            widths(stored_person_keys(&store).await),
            [
                ("records", Some(32), Some(32)),
                ("transitions", Some(16), Some(16)),
                ("holdings", Some(16), Some(16))
            ],
            "{url}: a transition's and a holding's cut to 16 bytes by the upgrade"
        );
        let mut after = rows_read_back(&store, &events).await;
        after.extend(records_listed(&store).await);
        assert_eq!(after, before, "{url}");

        // The rest of every record arrives: its rows get numbers and seconds, and the store
        // reads as one that had them from the start.
        let late = ingest_batch_by_batch(&store, &events, 5, &c2).await;
        let fresh = fengcun_store::open(&reference, Keys::new(MasterKey::generate()))
            .await
            .unwrap();
        ingest_batch_by_batch(&fresh, &early, 5, &c1).await;
        assert_eq!(
            late,
            ingest_batch_by_batch(&fresh, &events, 5, &c2).await,
            "{url}"
        );
        let transitions_in_text = in_text(&store).await.1;
        assert_eq!(
            transitions_in_text, old.1,
            "{url}: later transitions in numbers"
        );
        // Person keys, transition ids and keys differ between the two stores: compare what
        // does not name them.
        let shown = |store: &SqlStore| {
            let store = store.clone();
            async move {
                let mut out = Vec::new();
                for row in store.states().await.unwrap() {
                    out.push(format!(
                        "{} {:?} {:?} {:?} {:?} {:?}",
                        row.case_code,
                        row.state,
                        row.state_date,
                        row.trigger,
                        row.policy,
                        row.policy_version
                    ));
                }
                out.sort();
                out
            }
        };
        assert_eq!(shown(&store).await, shown(&fresh).await, "{url}");

        // An older build updating a record writes its policy in text and leaves the number: the
        // text is what was decided, and what is read.
        sqlx::query(
            "UPDATE records SET policy = 'cn-minor-opt2', policy_version = '9', updated_at = '2024-06-03T00:00:00Z' \
             WHERE case_code = (SELECT MIN(case_code) FROM records WHERE policy_ref IS NOT NULL)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let rows = store.states().await.unwrap();
        assert!(
            rows.iter()
                .any(|r| r.policy.as_deref() == Some("cn-minor-opt2")
                    && r.policy_version.as_deref() == Some("9")),
            "{url}: {rows:?}"
        );
        let page = store
            .record_page(&fengcun_store::RecordFilter {
                policy_version: Some("9".into()),
                limit: 10,
                ..fengcun_store::RecordFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            page.records.len(),
            1,
            "{url}: listed by the version it names: {page:?}"
        );
        assert_eq!(
            (
                page.records[0].policy.as_deref(),
                page.records[0].updated_at.as_str()
            ),
            (Some("cn-minor-opt2"), "2024-06-03T00:00:00Z"),
            "{url}: its text, not its number and seconds"
        );

        // A build from before the migration, still running, writes the person's 32 bytes: refused.
        for (table, insert) in [
            (
                "transitions",
                "INSERT INTO transitions (transition_id, person, case_code, to_state, policy, policy_version, \
                 actor, at, reasons) VALUES ($1, $2, '110105-2024-000700', 'sealed', 'p', '1', 'automatic', \
                 '2024-06-03T00:00:00Z', $3)",
            ),
            (
                "holdings",
                "INSERT INTO holdings (agency_code, case_code, person) VALUES ('110105-fy', '110105-2024-000799', $1)",
            ),
        ] {
            let query = if table == "transitions" {
                sqlx::query(insert)
                    .bind(vec![1u8; 18])
                    .bind(vec![7u8; 32])
                    .bind(vec![2u8; 40])
            } else {
                sqlx::query(insert).bind(vec![7u8; 32])
            };
            let refused = query.execute(store.pool()).await.unwrap_err().to_string();
            assert!(
                refused.contains("older than the database")
                    || refused.contains("person_of_16_bytes"),
                "{url} {table}: {refused}"
            );
        }
    }
}

/// A store whose transitions sealed their notice facts apart (`transitions.notice_facts`, before
/// the evidence kept them, `Dictionary::Transition1`) reads back exactly as before: every notice
/// (listed, masked, by case, status and recipient, each person's, and as the outbox delivers it),
/// every timeline, transition with its explanation and record's facts. Its later transitions seal
/// the notice facts with their evidence; the old rows stay as they are.
#[tokio::test]
async fn notice_facts_sealed_apart_read_back_identically() {
    let events = mixed_stream();
    let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let now: jiff::Timestamp = "2024-06-02T00:00:00Z".parse().unwrap();
    let later = now + jiff::SignedDuration::from_hours(1);
    let sealed_apart = |store: &SqlStore| {
        let pool = store.pool().clone();
        async move {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM transitions WHERE notice_facts IS NOT NULL")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            n
        }
    };
    let delivered = |items: Vec<fengcun_store::OutboxItem>| {
        let mut documents: Vec<String> = items
            .into_iter()
            .map(|item| format!("{} {:?}", item.notice_id, item.content.unwrap()))
            .collect();
        documents.sort();
        documents
    };
    for url in fresh_urls("notice_facts_apart").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &events, 5, &c).await;
        assert_eq!(
            sealed_apart(&store).await,
            0,
            "{url}: sealed with the evidence"
        );
        let before = rows_read_back(&store, &events).await;
        let documents = delivered(store.claim_due_notices(now, now, 1000).await.unwrap());
        assert!(!documents.is_empty(), "{url}: notices to deliver");

        let apart = store.put_notice_facts_apart_as_before().await.unwrap();
        assert!(apart > 0, "{url}: transitions with notices");
        assert_eq!(sealed_apart(&store).await, apart as i64, "{url}");
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(rows_read_back(&store, &events).await, before, "{url}");
        assert_eq!(
            delivered(store.claim_due_notices(later, later, 1000).await.unwrap()),
            documents,
            "{url}: delivered as before"
        );

        // A later case's transitions keep their notice facts in the evidence, beside the old rows.
        let case = "110105-2024-000991";
        let more = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(2)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let (transitions_before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM transitions")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.ingest(&more, &c).await.unwrap();
        let (transitions_after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM transitions")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(
            transitions_after > transitions_before,
            "{url}: a new transition"
        );
        assert_eq!(
            sealed_apart(&store).await,
            apart as i64,
            "{url}: old rows as they were"
        );
        let notices = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert!(!notices.is_empty(), "{url}: the new case's notices");
        assert!(
            notices
                .iter()
                .all(|n| n.body.contains("110105-2024-000991")),
            "{url}: rendered from the facts sealed with the evidence: {notices:?}"
        );
    }
}

/// A store whose events were stored a row each (before migration 27) reads them back exactly as
/// before once upgraded — events with their arrival times in order, timelines, transitions,
/// notices, counts — without a pass over them; a re-send of one is a duplicate, a changed re-send a
/// conflict; and a record's later events, kept in its list, follow them: the store then reads as
/// one that received the same events with the lists from the start.
#[tokio::test]
async fn a_database_from_before_migration_27_reads_back_identically() {
    let events = mixed_stream();
    // Each case's first two events before the upgrade, the rest after: records with both.
    let early = first_events_of_each_case(&events, 2);
    let c1 = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    let c2 = ctx("cn-minor-opt1", "2024-06-02T08:30:00Z");
    for (url, reference) in fresh_urls("record_events_migration")
        .await
        .into_iter()
        .zip(fresh_urls("record_events_reference").await)
    {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &early, 5, &c1).await;
        let mut before = rows_read_back(&store, &events).await;
        before.push(format!("{:?}", store.events().await.unwrap()));

        store
            .put_events_back_as_before_migration_27()
            .await
            .unwrap();
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let rows = |table: &'static str| {
            let pool = store.pool().clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                n
            }
        };
        assert_eq!(
            (
                rows("events").await,
                rows("event_ids").await,
                rows("records WHERE events IS NOT NULL").await
            ),
            (early.len() as i64, 0, 0),
            "{url}: the events are read where they are, a row each"
        );
        let old_macs: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT content_hash FROM events")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            old_macs.iter().all(|(mac,)| mac.len() == 16),
            "{url}: content MACs of 16 bytes, as stores of then hold (re-sends compared below)"
        );
        let mut after = rows_read_back(&store, &events).await;
        after.push(format!("{:?}", store.events().await.unwrap()));
        assert_eq!(after, before, "{url}");
        assert!(
            next_event_number(&store).await > highest_old_number(&store).await,
            "{url}: new events are numbered after the old"
        );
        // A build from before migration 27, still running or started again, would add rows the
        // lists' readers place before every listed event, and decide without the lists: refused.
        let older_build = sqlx::query(
            "INSERT INTO events (person, case_code, event_id, content_hash, received_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(vec![1u8; 16])
        .bind("110105-2024-000700")
        .bind(vec![2u8; 16])
        .bind(vec![3u8; 16])
        .bind(1_717_200_000i64)
        .bind(vec![4u8; 40])
        .execute(store.pool())
        .await
        .unwrap_err();
        assert!(
            older_build
                .to_string()
                .contains("this build is older than the database"),
            "{url}: {older_build}"
        );
        assert_eq!(
            store.ingest(&early, &c2).await.unwrap(),
            vec![LineOutcome::Duplicate; early.len()],
            "{url}"
        );
        let mut changed = early[1].clone();
        changed.event.date = "2019-01-01".into();
        assert!(
            matches!(
                store.ingest(std::slice::from_ref(&changed), &c2).await,
                Err(StoreError::Conflict { .. })
            ),
            "{url}"
        );

        // The rest of every record arrives: into the records' lists, each line answered as in a
        // store that had the lists from the start.
        let late = ingest_batch_by_batch(&store, &events, 5, &c2).await;
        let fresh = fengcun_store::open(&reference, Keys::new(MasterKey::generate()))
            .await
            .unwrap();
        ingest_batch_by_batch(&fresh, &early, 5, &c1).await;
        assert_eq!(
            late,
            ingest_batch_by_batch(&fresh, &events, 5, &c2).await,
            "{url}"
        );
        let (stored_fresh,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM event_ids")
            .fetch_one(fresh.pool())
            .await
            .unwrap();
        assert_eq!(rows("events").await, early.len() as i64, "{url}");
        assert_eq!(
            rows("event_ids").await,
            stored_fresh - early.len() as i64,
            "{url}: the later events, in the new tables only"
        );
        assert_eq!(
            store.events().await.unwrap(),
            fresh.events().await.unwrap(),
            "{url}: every event with its arrival time, in arrival order"
        );
        let today: fengcun_domain::Date = "2024-06-03".parse().unwrap();
        let now: jiff::Timestamp = "2024-06-03T00:00:00Z".parse().unwrap();
        assert_eq!(
            store.stats(today, now).await.unwrap(),
            fresh.stats(today, now).await.unwrap(),
            "{url}"
        );
        assert_eq!(
            store.counts().await.unwrap(),
            fresh.counts().await.unwrap(),
            "{url}"
        );
        let mut cases: Vec<String> = events
            .iter()
            .map(|e| e.case_code.as_ref().unwrap().to_string())
            .collect();
        cases.dedup();
        for case in &cases {
            let timeline = |store: &SqlStore| {
                let store = store.clone();
                let case = case.clone();
                async move {
                    store
                        .timelines(&case, None)
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|t| (t.record.state, t.events))
                        .collect::<Vec<_>>()
                }
            };
            assert_eq!(
                timeline(&store).await,
                timeline(&fresh).await,
                "{url} {case}"
            );
        }
    }
}

/// A database a newer build has migrated is refused, not written: what this build would write
/// there the newer one might not read (as a build from before migration 27 would write events
/// where the lists' readers do not look).
#[tokio::test]
async fn a_database_of_a_newer_build_is_refused() {
    for url in fresh_urls("newer_schema").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES (9999, 'later')")
            .execute(store.pool())
            .await
            .unwrap();
        drop(store);
        let refused = fengcun_store::open(&url, keys.clone()).await.unwrap_err();
        assert!(
            matches!(refused, StoreError::NewerSchema { found: 9999, .. }),
            "{url}: {refused}"
        );
        assert!(refused.to_string().contains("newer build"), "{url}");
    }
}

/// A database whose events carry the plain hashes of before has them replaced by MACs when it is
/// opened with its master key — the very values the store gives the same events — and recognises
/// duplicates and conflicts before (a row an older server wrote) and after.
#[tokio::test]
async fn plain_content_hashes_of_an_older_database_become_macs_at_open() {
    for url in fresh_urls("content_mac_upgrade").await {
        let keys = Keys::new(MasterKey::generate());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-000981";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(2)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        store.ingest(&events, &c).await.unwrap();
        let macs = content_hashes(&store, &events).await;
        // Plain hashes are in rows of events stored a row each, before migration 27.
        store
            .put_events_back_as_before_migration_27()
            .await
            .unwrap();
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        for event in &events {
            sqlx::query("UPDATE events SET content_hash = $1 WHERE event_id = $2")
                .bind(plain_sm3(event))
                .bind(keys.event_id(&event.event.agency.code, &event.event.idempotency_key))
                .execute(store.pool())
                .await
                .unwrap();
        }
        assert!(
            content_hashes(&store, &events)
                .await
                .iter()
                .all(|(_, _, h)| h.len() == 32)
        );
        assert_eq!(
            store.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Duplicate; 4],
            "{url}: a plain hash still recognises its event"
        );
        let mut changed = events[2].clone();
        changed.event.date = "2024-03-02".into();
        assert!(matches!(
            store.ingest(std::slice::from_ref(&changed), &c).await,
            Err(StoreError::Conflict { .. })
        ));
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let rewritten = content_hashes(&store, &events).await;
        assert_eq!(rewritten, macs, "{url}");
        for event in &events {
            assert!(
                rewritten
                    .iter()
                    .all(|(_, _, hash)| *hash != plain_sm3(event)),
                "{url}: no plain hash is left"
            );
        }
        assert_eq!(
            store.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Duplicate; 4],
            "{url}"
        );
        assert!(matches!(
            store.ingest(&[changed], &c).await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{url}");
    }
}

/// A database from before migration 22 kept each agency's document number (案号) in plaintext
/// (`case_numbers`): the next opening with the key moves it to `case_documents` as a MAC, and the
/// number still finds its case (一案一码) and still refuses another case under it.
#[tokio::test]
async fn document_numbers_of_an_older_database_become_macs_at_open() {
    for url in fresh_urls("document_mac").await {
        let keys = Keys::new(MasterKey::generate());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-000991";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(2)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        store.ingest(&events[..3], &c).await.unwrap();
        let judgment = events
            .iter()
            .find(|e| e.event.document_number.is_some())
            .unwrap();
        let (agency, document) = (
            judgment.event.agency.code.clone(),
            judgment.event.document_number.clone().unwrap(),
        );
        let kept: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT document_mac FROM case_documents")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(kept, vec![(keys.document_mac(&document),)], "{url}");
        assert_ne!(kept[0].0, document.as_bytes(), "{url}");
        // Back as before migration 22: the number in plaintext.
        sqlx::raw_sql("DELETE FROM case_documents; DELETE FROM schema_version WHERE version >= 22")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO case_numbers (agency_code, document_number, case_code) VALUES ($1, $2, $3)",
        )
        .bind(&agency)
        .bind(&document)
        .bind(case)
        .execute(store.pool())
        .await
        .unwrap();
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let plain: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM case_numbers")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(plain.0, 0, "{url}: no number is left in plaintext");
        // Nor in the file: the deleted rows were overwritten, not left in free pages.
        assert_not_in_the_sqlite_file(&store, &url, &document).await;
        let kept: Vec<(String, Vec<u8>, String)> =
            sqlx::query_as("SELECT agency_code, document_mac, case_code FROM case_documents")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(
            kept,
            vec![(
                agency.clone(),
                keys.document_mac(&document),
                case.to_owned()
            )],
            "{url}"
        );
        assert_eq!(
            store
                .case_code_of_document(&agency, &document)
                .await
                .unwrap(),
            Some(case.to_owned()),
            "{url}"
        );
        // The court's later event names only its number: it finds the case.
        let mut later = events[3].event.clone();
        later.case_code = None;
        later.document_number = Some(document.clone());
        store
            .ingest(&[later.validate().unwrap()], &c)
            .await
            .unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{url}");
        // Another case under the same number is refused.
        let mut other = judgment.event.clone();
        other.idempotency_key = "another-case-same-number".into();
        other.case_code = Some("110105-2024-000992".into());
        let error = store
            .ingest(&[other.validate().unwrap()], &c)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::CaseNumberConflict { .. }),
            "{url}: {error}"
        );
    }
}

/// A certificate file kept in clear (before migration 23) is sealed at the next opening with the
/// key: it reads back the same, and the name on it is no longer in the database file.
#[tokio::test]
async fn certificate_files_kept_in_clear_are_sealed_at_open() {
    for url in fresh_urls("certificate_seal").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let now: jiff::Timestamp = "2024-06-01T00:00:00Z".parse().unwrap();
        let certificate = fengcun_store::CertificateRow {
            number: "FC-2024-0000000A".into(),
            person_key: keys.person_key("id:110105199003070025"),
            result: fengcun_store::CertificateOutcome::NoCriminalRecord,
            issued_by: "user:counter".into(),
            issued_at: "2024-06-01T00:00:00Z".into(),
            file: "{\"name\":\"欧阳明月\",\"id_hash\":\"00\"}"
                .as_bytes()
                .to_vec(),
        };
        store.put_certificate(&certificate, &[], now).await.unwrap();
        let (kept,): (Vec<u8>,) = sqlx::query_as("SELECT file FROM certificates")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_ne!(kept, certificate.file, "{url}: sealed when written");
        // Back as before migration 23: the file in clear.
        sqlx::query("UPDATE certificates SET file = $1, sealed = 0")
            .bind(certificate.file.clone())
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(
            store.certificate(&certificate.number).await.unwrap(),
            Some(certificate.clone()),
            "{url}: a file in clear reads as it is"
        );
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let (kept, sealed): (Vec<u8>, i64) =
            sqlx::query_as("SELECT file, sealed FROM certificates")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(sealed, 1, "{url}");
        assert!(
            !kept.windows(12).any(|w| w == "欧阳明月".as_bytes()),
            "{url}"
        );
        assert_eq!(
            store.certificate(&certificate.number).await.unwrap(),
            Some(certificate.clone()),
            "{url}"
        );
        assert_eq!(
            store
                .person_certificates(&certificate.person_key)
                .await
                .unwrap(),
            vec![certificate.clone()],
            "{url}"
        );
        assert_not_in_the_sqlite_file(&store, &url, "欧阳明月").await;
    }
}

/// On SQLite, that `text` is nowhere in the database file once the write-ahead log is copied back
/// into it (nothing to check on PostgreSQL, whose dead rows stay until VACUUM).
async fn assert_not_in_the_sqlite_file(store: &SqlStore, url: &str, text: &str) {
    let Some(path) = url.strip_prefix("sqlite://") else {
        return;
    };
    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await
        .unwrap();
    let file = std::fs::read(path).unwrap();
    assert!(
        !file.windows(text.len()).any(|w| w == text.as_bytes()),
        "{url}: `{text}` is still in the file"
    );
}

/// Puts a database's `events` back as migrations 1–5 left them: idempotency keys unique across
/// the platform (from the layout of migrations 1–16, to which the store puts them back first).
async fn events_before_migration_8(store: &SqlStore) {
    store
        .put_events_back_as_before_migration_17()
        .await
        .unwrap();
    let sql = match store.backend() {
        fengcun_store::Backend::Sqlite => {
            "CREATE TABLE events_v5 (seq INTEGER PRIMARY KEY AUTOINCREMENT, person_key TEXT NOT NULL, \
             case_code TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, content_hash BLOB NOT NULL, \
             kind TEXT NOT NULL, event_date TEXT NOT NULL, agency_code TEXT NOT NULL, received_at TEXT NOT NULL, \
             body BLOB NOT NULL);
             INSERT INTO events_v5 SELECT seq, person_key, case_code, idempotency_key, content_hash, kind, \
             event_date, agency_code, received_at, body FROM events;
             DROP TABLE events;
             ALTER TABLE events_v5 RENAME TO events;
             CREATE INDEX events_by_record ON events (person_key, case_code, seq);
             DELETE FROM schema_version WHERE version >= 8;"
        }
        fengcun_store::Backend::Postgres => {
            "ALTER TABLE events DROP CONSTRAINT events_agency_idempotency_key;
             ALTER TABLE events ADD CONSTRAINT events_idempotency_key_key UNIQUE (idempotency_key);
             DELETE FROM schema_version WHERE version >= 8;"
        }
    };
    sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
}

/// A database made before idempotency keys were scoped to their agency opens with its events (in
/// their order) and its records as they were, and from then on takes another agency's event under
/// a used key.
#[tokio::test]
async fn a_database_from_before_agency_scoped_keys_is_migrated() {
    for url in fresh_urls("scope_migration").await {
        let keys = Keys::new(MasterKey::generate());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let case = "110105-2024-000961";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(2)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        store.ingest(&events, &c).await.unwrap();
        let before = store.events().await.unwrap();
        events_before_migration_8(&store).await;
        let clash = event(
            &events[2].event.idempotency_key,
            "investigation",
            "2024-05-01",
            case,
            police(case),
            ZHANG,
            json!({}),
        );
        assert!(
            store
                .ingest(std::slice::from_ref(&clash), &c)
                .await
                .is_err(),
            "{url}: before migration 8, a key is the platform's"
        );
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(store.events().await.unwrap(), before, "{url}");
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{url}");
        assert_eq!(
            store.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Duplicate; 4],
            "{url}"
        );
        assert_eq!(
            store.ingest(&[clash], &c).await.unwrap(),
            vec![LineOutcome::Stored],
            "{url}"
        );
        assert_eq!(store.counts().await.unwrap().events, 5, "{url}");
    }
}

/// The columns of `notices` since migration 26: keyed by its transition and place, its number
/// made from the transition unless kept as issued.
const NOTICE_COLUMNS: [&str; 12] = [
    "transition_seq",
    "position",
    "number",
    "kind",
    "recipient",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "delivered_at",
    "acknowledged_at",
];

/// The indexes of `notices` since migration 26: SQLite's table is its own primary key.
fn notice_indexes(backend: fengcun_store::Backend) -> Vec<String> {
    match backend {
        fengcun_store::Backend::Sqlite => {
            vec![
                "notices_by_number",
                "notices_by_status",
                "notices_to_deliver",
            ]
        }
        fengcun_store::Backend::Postgres => vec![
            "notices_by_number",
            "notices_by_status",
            "notices_pkey",
            "notices_to_deliver",
        ],
    }
    .into_iter()
    .map(String::from)
    .collect()
}

/// Puts a database's notices, transitions and case numbers back as migrations 1–17 left them:
/// each notice with its record's person key and case code and its transition's id, every index of
/// theirs as it was, transitions unique by id, SQLite's case numbers a table with a rowid.
async fn rows_before_migration_18(store: &SqlStore) {
    // Their numbers stored in full and their person keys in hex first, as migrations 1–25 and
    // 1–19 kept them.
    store
        .put_notices_back_as_before_migration_26()
        .await
        .unwrap();
    store.put_keys_back_as_before_migration_20().await.unwrap();
    let sql = match store.backend() {
        fengcun_store::Backend::Sqlite => {
            "CREATE TABLE notices_v17 (notice_id TEXT PRIMARY KEY, person_key TEXT NOT NULL, case_code TEXT NOT NULL, \
             kind TEXT NOT NULL, recipient TEXT NOT NULL, transition_id TEXT NOT NULL, status TEXT NOT NULL, \
             attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, last_error TEXT, created_at TEXT NOT NULL, \
             delivered_at TEXT, acknowledged_at TEXT);
             INSERT INTO notices_v17 SELECT n.notice_id, t.person_key, t.case_code, n.kind, n.recipient, t.transition_id, \
             n.status, n.attempts, n.next_attempt_at, n.last_error, n.created_at, n.delivered_at, n.acknowledged_at \
             FROM notices n JOIN transitions t ON t.seq = n.transition_seq;
             DROP TABLE notices;
             ALTER TABLE notices_v17 RENAME TO notices;
             CREATE INDEX notices_due ON notices (status, next_attempt_at);
             CREATE INDEX notices_by_case ON notices (case_code);
             CREATE INDEX notices_by_age ON notices (status, created_at, recipient);
             CREATE INDEX notices_by_person ON notices (person_key, recipient);
             CREATE TABLE transitions_v17 (seq INTEGER PRIMARY KEY AUTOINCREMENT, transition_id TEXT NOT NULL UNIQUE, \
             person_key TEXT NOT NULL, case_code TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, state_date TEXT, \
             state_trigger TEXT, rule TEXT, policy TEXT NOT NULL, policy_version TEXT NOT NULL, actor TEXT NOT NULL, \
             at TEXT NOT NULL, reasons BLOB NOT NULL, notice_facts BLOB);
             INSERT INTO transitions_v17 SELECT * FROM transitions;
             DROP TABLE transitions;
             ALTER TABLE transitions_v17 RENAME TO transitions;
             CREATE INDEX transitions_by_record ON transitions (case_code, person_key, seq);
             CREATE TABLE case_numbers_v17 (agency_code TEXT NOT NULL, document_number TEXT NOT NULL, \
             case_code TEXT NOT NULL, PRIMARY KEY (agency_code, document_number));
             INSERT INTO case_numbers_v17 SELECT * FROM case_numbers;
             DROP TABLE case_numbers;
             ALTER TABLE case_numbers_v17 RENAME TO case_numbers;
             DELETE FROM schema_version WHERE version >= 18;"
        }
        fengcun_store::Backend::Postgres => {
            "ALTER TABLE notices ADD COLUMN person_key TEXT, ADD COLUMN case_code TEXT, ADD COLUMN transition_id TEXT;
             UPDATE notices n SET person_key = t.person_key, case_code = t.case_code, transition_id = t.transition_id \
             FROM transitions t WHERE t.seq = n.transition_seq;
             ALTER TABLE notices DROP COLUMN transition_seq;
             ALTER TABLE notices ALTER COLUMN person_key SET NOT NULL, ALTER COLUMN case_code SET NOT NULL, \
             ALTER COLUMN transition_id SET NOT NULL;
             CREATE INDEX notices_due ON notices (status, next_attempt_at);
             CREATE INDEX notices_by_case ON notices (case_code);
             CREATE INDEX notices_by_age ON notices (status, created_at, recipient);
             CREATE INDEX notices_by_person ON notices (person_key, recipient);
             ALTER TABLE transitions ADD CONSTRAINT transitions_transition_id_key UNIQUE (transition_id);
             DELETE FROM schema_version WHERE version >= 18;"
        }
    };
    sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
}

/// The columns of a table, in order, and the names of its indexes, sorted.
async fn table_shape(store: &SqlStore, table: &str) -> (Vec<String>, Vec<String>) {
    let (columns, indexes) = match store.backend() {
        fengcun_store::Backend::Sqlite => (
            "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = $1 ORDER BY name",
        ),
        fengcun_store::Backend::Postgres => (
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 \
             ORDER BY indexname",
        ),
    };
    let read = |sql: &'static str| async move {
        sqlx::query_as::<_, (String,)>(sql)
            .bind(table)
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|(name,)| name)
            .collect::<Vec<_>>()
    };
    (read(columns).await, read(indexes).await)
}

/// Everything migration 18 touches, as every read path returns it: the notices listed (in full,
/// masked, by case, by status, unacknowledged, by recipient), each person's notices, each case's
/// timelines (transitions with their evidence, notices with their delivery), each record's
/// transitions, the stats, the counts, each document number's case code and the audit log.
async fn rows_read_back(store: &SqlStore, events: &[ValidEvent]) -> Vec<String> {
    fn mask_name(name: &str) -> String {
        format!("{}*", name.chars().next().unwrap_or('*'))
    }
    fn mask_id(id: &str) -> String {
        format!("{}…", &id[..6.min(id.len())])
    }
    let mut out = Vec::new();
    let mut cases: Vec<String> = events
        .iter()
        .map(|e| e.case_code.as_ref().unwrap().to_string())
        .collect();
    cases.sort();
    cases.dedup();
    let mut filters = vec![
        NoticeFilter::default(),
        NoticeFilter {
            mask: Some(fengcun_store::IdentityMask {
                name: mask_name,
                id_number: mask_id,
            }),
            ..NoticeFilter::default()
        },
        NoticeFilter {
            unacknowledged: true,
            ..NoticeFilter::default()
        },
        NoticeFilter {
            recipient: Some("person".into()),
            ..NoticeFilter::default()
        },
    ];
    for status in [
        fengcun_store::NoticeStatus::Pending,
        fengcun_store::NoticeStatus::Delivered,
        fengcun_store::NoticeStatus::Failed,
        fengcun_store::NoticeStatus::Acknowledged,
    ] {
        filters.push(NoticeFilter {
            status: Some(status),
            ..NoticeFilter::default()
        });
    }
    for case in &cases {
        filters.push(NoticeFilter {
            case_code: Some(case.clone()),
            ..NoticeFilter::default()
        });
    }
    for filter in filters {
        out.push(format!(
            "{filter:?}: {:?}",
            store.notices(filter.clone()).await.unwrap()
        ));
    }
    let mut identities: Vec<&str> = events.iter().map(|e| e.identity.as_str()).collect();
    identities.sort_unstable();
    identities.dedup();
    for identity in &identities {
        let key = store.person_key(identity);
        out.push(format!(
            "{identity}: {:?}",
            store.person_notices(&key).await.unwrap()
        ));
        for case in &cases {
            out.push(format!(
                "{identity} {case}: {:?}",
                store
                    .transitions(case, identity)
                    .await
                    .unwrap()
                    .iter()
                    .map(|t| (t, explained(t)))
                    .collect::<Vec<_>>()
            ));
        }
    }
    for case in &cases {
        out.push(format!(
            "{case}: {:?}",
            store.timelines(case, None).await.unwrap()
        ));
    }
    let today: fengcun_domain::Date = "2024-06-01".parse().unwrap();
    let now: jiff::Timestamp = "2024-06-20T00:00:00Z".parse().unwrap();
    out.push(format!("{:?}", store.stats(today, now).await.unwrap()));
    out.push(format!("{:?}", store.counts().await.unwrap()));
    for e in events {
        if let Some(document) = &e.event.document_number {
            out.push(format!(
                "{} {document}: {:?}",
                e.event.agency.code,
                store
                    .case_code_of_document(&e.event.agency.code, document)
                    .await
                    .unwrap()
            ));
        }
    }
    out.push(format!(
        "{:?}",
        store.audit_entries(0, 1_000_000).await.unwrap()
    ));
    out
}

/// A database from before migration 18 — notices holding their record's person key and case code
/// and their transition's id — opens converted, and every notice, transition, timeline, count and
/// case number reads back as it did; the outbox hands out the same notices, and new decisions
/// write notices that read back too.
#[tokio::test]
async fn a_database_from_before_migration_18_reads_back_identically() {
    for url in fresh_urls("rows_migration").await {
        let keys = Keys::new(MasterKey::generate());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let events = mixed_stream();
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &events, 7, &c).await;
        // Notices in every status: one delivered, one acknowledged, one failed, the rest pending.
        let now: jiff::Timestamp = "2024-06-01T00:00:10Z".parse().unwrap();
        let lease: jiff::Timestamp = "2024-06-01T00:05:10Z".parse().unwrap();
        let claimed = store.claim_due_notices(now, lease, 3).await.unwrap();
        assert_eq!(claimed.len(), 3, "{url}");
        store
            .record_delivery(&claimed[0].notice_id, Delivery::Delivered, now)
            .await
            .unwrap();
        store
            .record_delivery(&claimed[1].notice_id, Delivery::Delivered, now)
            .await
            .unwrap();
        assert!(
            store
                .acknowledge(
                    &claimed[1].notice_id,
                    &claimed[1].recipient,
                    &claimed[1].ack_token,
                    "agency",
                    now
                )
                .await
                .unwrap(),
            "{url}"
        );
        store
            .record_delivery(
                &claimed[2].notice_id,
                Delivery::Failed {
                    error: "connection refused".into(),
                    retry_at: None,
                },
                now,
            )
            .await
            .unwrap();
        let before = rows_read_back(&store, &events).await;
        let shape = (
            table_shape(&store, "notices").await,
            table_shape(&store, "transitions").await,
            table_shape(&store, "case_numbers").await,
        );
        assert_eq!(
            shape.0,
            (
                NOTICE_COLUMNS.map(String::from).to_vec(),
                notice_indexes(store.backend())
            ),
            "{url}: a notice names its transition by sequence number, and has its record through it"
        );
        assert!(
            !shape.1.1.iter().any(
                |index| index.contains("autoindex") || index == "transitions_transition_id_key"
            ),
            "{url}: no index looks transitions up by id: {:?}",
            shape.1.1
        );
        rows_before_migration_18(&store).await;
        assert!(
            table_shape(&store, "notices")
                .await
                .0
                .contains(&"transition_id".to_owned()),
            "{url}: the notices as before migration 18"
        );
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(rows_read_back(&store, &events).await, before, "{url}");
        assert_eq!(
            (
                table_shape(&store, "notices").await,
                table_shape(&store, "transitions").await,
                table_shape(&store, "case_numbers").await,
            ),
            shape,
            "{url}: converted as a new database is made"
        );
        // The outbox hands out the pending notices as it would have, with their text.
        let later: jiff::Timestamp = "2024-06-01T00:10:00Z".parse().unwrap();
        let due = store.claim_due_notices(later, later, 1000).await.unwrap();
        let pending: Vec<String> = store
            .notices(NoticeFilter {
                status: Some(fengcun_store::NoticeStatus::Pending),
                ..NoticeFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.notice_id)
            .collect();
        let mut handed: Vec<String> = due.iter().map(|n| n.notice_id.clone()).collect();
        let mut expected = pending.clone();
        handed.sort();
        expected.sort();
        assert!(!expected.is_empty(), "{url}");
        assert_eq!(handed, expected, "{url}");
        assert!(due.iter().all(|n| n.content.is_ok()), "{url}");
        // New decisions after the conversion: their transitions follow the old ones, their notices
        // read back with them.
        let transitions_before: i64 =
            sqlx::query_as::<_, (i64,)>("SELECT MAX(seq) FROM transitions")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .0;
        let case = "110105-2024-000981";
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let (first_new,): (i64,) =
            sqlx::query_as("SELECT MIN(seq) FROM transitions WHERE case_code = $1")
                .bind(case)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(first_new > transitions_before, "{url}");
        let new_notices = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        let mut recipients: Vec<(&str, &str)> = new_notices
            .iter()
            .map(|n| (n.kind.code(), n.recipient.as_str()))
            .collect();
        recipients.sort_unstable();
        assert_eq!(
            recipients,
            [
                ("seal", "110105-fy"),
                ("seal", "110105-ga"),
                ("seal", "110105-jc"),
                ("seal", "person")
            ],
            "{url}: the three agencies that sent its events and the person"
        );
        assert!(new_notices.iter().all(|n| n.body.contains(case)), "{url}");
    }
    let dir = std::env::temp_dir().join(format!(
        "fengcun-contract-{}-rows_migration",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(dir);
}

/// Everything migration 20 touches, as the read paths return it: what migration 18's test reads
/// (notices, transitions with their evidence, timelines, stats by agency, counts, case numbers,
/// audit log), and every record's state in key order, each record by case and identity, each
/// person's and each case's records, the events, and the record list page by page, in full and as
/// each agency holds it.
async fn keys_read_back(store: &SqlStore, events: &[ValidEvent]) -> Vec<String> {
    let mut out = rows_read_back(store, events).await;
    out.push(format!("{:?}", store.states().await.unwrap()));
    out.push(format!("{:?}", store.events().await.unwrap()));
    let mut cases: Vec<String> = events
        .iter()
        .map(|e| e.case_code.as_ref().unwrap().to_string())
        .collect();
    cases.sort();
    cases.dedup();
    let mut identities: Vec<&str> = events.iter().map(|e| e.identity.as_str()).collect();
    identities.sort_unstable();
    identities.dedup();
    for identity in &identities {
        let key = store.person_key(identity);
        out.push(format!(
            "{identity}: {:?}",
            store
                .records_of(Some(&key), None, &|_, _, _| true)
                .await
                .unwrap()
        ));
        for case in &cases {
            out.push(format!(
                "{identity} {case}: {:?}",
                store.record(case, identity).await.unwrap()
            ));
        }
    }
    for case in &cases {
        out.push(format!(
            "{case}: {:?}",
            store
                .records_of(None, Some(case), &|_, _, _| true)
                .await
                .unwrap()
        ));
    }
    let mut agencies: Vec<Option<String>> = events
        .iter()
        .map(|e| Some(e.event.agency.code.clone()))
        .collect();
    agencies.sort();
    agencies.dedup();
    agencies.push(None);
    for agency in agencies {
        let mut filter = fengcun_store::RecordFilter {
            agency: agency.clone(),
            limit: 5,
            ..Default::default()
        };
        loop {
            let page = store.record_page(&filter).await.unwrap();
            out.push(format!("{agency:?}: {page:?}"));
            match page.next {
                Some(next) => filter.after = Some(next),
                None => break,
            }
        }
    }
    out
}

/// What migration 26 changes besides the rows: every notice read by its own number (in full, and
/// only by its recipient), and the whole list read three at a time from each page's cursor, which
/// must give the same notices in the same order as the list in one piece.
async fn notices_by_number(store: &SqlStore, url: &str) -> Vec<String> {
    let all = store.notices(NoticeFilter::default()).await.unwrap();
    let mut out = Vec::new();
    for notice in &all {
        let one = store.notice(&notice.notice_id, None, None).await.unwrap();
        assert_eq!(
            one.as_ref().map(|n| &n.notice_id),
            Some(&notice.notice_id),
            "{url}"
        );
        out.push(format!("{one:?}"));
        let theirs = store
            .notice(&notice.notice_id, Some(&notice.recipient), None)
            .await
            .unwrap();
        let others = store
            .notice(&notice.notice_id, Some("nobody"), None)
            .await
            .unwrap();
        assert!(theirs.is_some() && others.is_none(), "{url}");
    }
    let mut filter = NoticeFilter {
        limit: Some(3),
        ..NoticeFilter::default()
    };
    let mut paged = Vec::new();
    loop {
        let page = store.notices(filter.clone()).await.unwrap();
        let Some(last) = page.last() else { break };
        filter.after = Some(last.notice_id.clone());
        paged.extend(page.into_iter().map(|n| n.notice_id));
    }
    let listed: Vec<String> = all.iter().map(|n| n.notice_id.clone()).collect();
    assert_eq!(paged, listed, "{url}: pages of three, one after another");
    out.push(format!("{paged:?}"));
    out
}

/// Whether the agency `item` went to acknowledges it with its token.
async fn acknowledged(
    store: &SqlStore,
    item: &fengcun_store::OutboxItem,
    now: jiff::Timestamp,
) -> bool {
    store
        .acknowledge(
            &item.notice_id,
            &item.recipient,
            &item.ack_token,
            "agency",
            now,
        )
        .await
        .unwrap()
}

/// The status of the notice numbered `number`, read by that number.
async fn notice_status(store: &SqlStore, number: &str) -> Option<fengcun_store::NoticeStatus> {
    store
        .notice(number, None, None)
        .await
        .unwrap()
        .map(|n| n.status)
}

/// A database from before migration 26 — each notice's number stored in full as its primary key
/// — opens with its notices keyed by transition and place, and every notice, list, page, timeline
/// and count reads back as it did, each notice found by the number it was issued with; a number
/// the transition does not make is kept as issued and found by it; delivery, acknowledgement and
/// new decisions work after it.
#[tokio::test]
async fn a_database_from_before_migration_26_reads_back_identically() {
    for url in fresh_urls("notice_numbers_migration").await {
        let keys = Keys::new(MasterKey::generate());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let events = mixed_stream();
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &events, 7, &c).await;
        // Notices in every status: one delivered, one acknowledged, one failed, the rest pending.
        let now: jiff::Timestamp = "2024-06-01T00:00:10Z".parse().unwrap();
        let lease: jiff::Timestamp = "2024-06-01T00:05:10Z".parse().unwrap();
        let claimed = store.claim_due_notices(now, lease, 4).await.unwrap();
        assert_eq!(claimed.len(), 4, "{url}");
        for item in &claimed[..2] {
            store
                .record_delivery(&item.notice_id, Delivery::Delivered, now)
                .await
                .unwrap();
        }
        assert!(acknowledged(&store, &claimed[1], now).await, "{url}");
        store
            .record_delivery(
                &claimed[2].notice_id,
                Delivery::Failed {
                    error: "connection refused".into(),
                    retry_at: None,
                },
                now,
            )
            .await
            .unwrap();
        let mut before = rows_read_back(&store, &events).await;
        before.extend(notices_by_number(&store, &url).await);
        let shape = table_shape(&store, "notices").await;
        assert_eq!(
            shape,
            (
                NOTICE_COLUMNS.map(String::from).to_vec(),
                notice_indexes(store.backend())
            ),
            "{url}: a notice keyed by its transition and place"
        );
        let (kept,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM notices WHERE number IS NOT NULL")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(kept, 0, "{url}: every number is made from its transition");
        // A number of the right form but another kind, or another place, names no notice.
        let number = &claimed[3].notice_id;
        let other_kind = number.replacen("FC-SEAL-", "FC-UNSEAL-", 1);
        let other_place = format!("{}9", number);
        for wrong in [other_kind, other_place, number.to_lowercase()] {
            assert!(
                store.notice(&wrong, None, None).await.unwrap().is_none(),
                "{url}: {wrong}"
            );
        }

        store
            .put_notices_back_as_before_migration_26()
            .await
            .unwrap();
        assert!(
            table_shape(&store, "notices")
                .await
                .0
                .contains(&"notice_id".to_owned()),
            "{url}: the notices as before migration 26"
        );
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let mut after = rows_read_back(&store, &events).await;
        after.extend(notices_by_number(&store, &url).await);
        assert_eq!(after, before, "{url}");
        assert_eq!(table_shape(&store, "notices").await, shape, "{url}");
        // The pending notice is delivered and acknowledged by the number it was handed out with.
        store
            .record_delivery(&claimed[3].notice_id, Delivery::Delivered, now)
            .await
            .unwrap();
        assert!(acknowledged(&store, &claimed[3], now).await, "{url}");
        assert_eq!(
            notice_status(&store, &claimed[3].notice_id).await,
            Some(fengcun_store::NoticeStatus::Acknowledged),
            "{url}"
        );

        // A notice issued with a number its transition does not make (another form of number, as
        // an older release or a repair may have left): kept as issued, found by it, and by it only.
        let legacy = store
            .notice(&claimed[0].notice_id, None, None)
            .await
            .unwrap()
            .unwrap();
        store
            .put_notices_back_as_before_migration_26()
            .await
            .unwrap();
        sqlx::query("UPDATE notices SET notice_id = 'FC-SEAL-LEGACY-0001' WHERE notice_id = $1")
            .bind(&claimed[0].notice_id)
            .execute(store.pool())
            .await
            .unwrap();
        drop(store);
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let (kept,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM notices WHERE number IS NOT NULL")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(kept, 1, "{url}");
        let found = store
            .notice("FC-SEAL-LEGACY-0001", None, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            format!("{found:?}"),
            format!("{legacy:?}").replace(&claimed[0].notice_id, "FC-SEAL-LEGACY-0001"),
            "{url}"
        );
        assert!(
            store
                .notice(&claimed[0].notice_id, None, None)
                .await
                .unwrap()
                .is_none(),
            "{url}: the number it did not keep finds nothing"
        );
        assert_eq!(
            notices_by_number(&store, &url).await.len(),
            after.len() - rows_read_back(&store, &events).await.len(),
            "{url}"
        );

        // The times are kept in whole seconds, and read back as the text they were stored as.
        let (texts,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notices WHERE created_at < 1717200000 OR created_at > 1717200600",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            texts, 0,
            "{url}: made between 00:00 and 00:10 on 2024-06-01"
        );
        // A time in a form the store never wrote would not come back as it was: the conversion
        // stops on it and changes nothing; put right, the store opens converted.
        store
            .put_notices_back_as_before_migration_26()
            .await
            .unwrap();
        let (odd,): (String,) = sqlx::query_as(
            "SELECT notice_id FROM notices WHERE notice_id <> 'FC-SEAL-LEGACY-0001' ORDER BY notice_id LIMIT 1",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        let (created,): (String,) =
            sqlx::query_as("SELECT created_at FROM notices WHERE notice_id = $1")
                .bind(&odd)
                .fetch_one(store.pool())
                .await
                .unwrap();
        sqlx::query("UPDATE notices SET created_at = $1 WHERE notice_id = $2")
            .bind(created.replace('Z', ".250Z"))
            .bind(&odd)
            .execute(store.pool())
            .await
            .unwrap();
        drop(store);
        let refused = fengcun_store::open(&url, keys.clone()).await;
        let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error.contains("notice_time_not_in_the_stored_form"),
            "{url}: a time not in the stored form: {error}"
        );
        // Read without the store (which would migrate): the notices as they were.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let (unchanged,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notices WHERE notice_id = $1 AND created_at <> $2",
        )
        .bind(&odd)
        .bind(&created)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(unchanged, 1, "{url}: nothing converted");
        sqlx::query("UPDATE notices SET created_at = $1 WHERE notice_id = $2")
            .bind(&created)
            .bind(&odd)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(table_shape(&store, "notices").await, shape, "{url}");

        // New decisions after the conversion: their notices read back by their numbers.
        let case = "110105-2024-000981";
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let new_notices = store
            .notices(NoticeFilter {
                case_code: Some(case.into()),
                ..NoticeFilter::default()
            })
            .await
            .unwrap();
        assert!(!new_notices.is_empty(), "{url}");
        for notice in &new_notices {
            assert!(
                notice.notice_id.starts_with("FC-SEAL-110105-2024-000981-")
                    && notice.body.contains(&notice.notice_id),
                "{url}: {notice:?}"
            );
            assert_eq!(
                notice_status(&store, &notice.notice_id).await,
                Some(notice.status),
                "{url}"
            );
        }
    }
}

/// The person key column of each table migration 20 converts, and the length of each stored key.
async fn stored_person_keys(store: &SqlStore) -> Vec<(&'static str, Vec<i64>)> {
    let mut out = Vec::new();
    for table in ["records", "transitions", "holdings"] {
        let lengths: Vec<(i64,)> = sqlx::query_as(&format!(
            "SELECT CAST(length(person) AS BIGINT) FROM {table} ORDER BY 1"
        ))
        .fetch_all(store.pool())
        .await
        .unwrap();
        out.push((table, lengths.into_iter().map(|(n,)| n).collect()));
    }
    out
}

/// A database from before migration 20 — the person key as 64 hex characters in `records`,
/// `transitions` and `holdings`, the transition id as 36 — opens with the key as its 32 bytes in
/// each and the id as its 18, and every record,
/// state, transition, notice, timeline, page of the record list (in full and by agency), count
/// and audit entry reads back as it did; new decisions are written and read back after it.
#[tokio::test]
async fn a_database_from_before_migration_20_reads_back_identically() {
    for url in fresh_urls("keys_migration").await {
        let keys = Keys::new(MasterKey::generate());
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        let events = mixed_stream();
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        ingest_batch_by_batch(&store, &events, 7, &c).await;
        let before = keys_read_back(&store, &events).await;
        let shape = (
            table_shape(&store, "records").await,
            table_shape(&store, "transitions").await,
            table_shape(&store, "holdings").await,
        );
        for (table, (columns, indexes)) in [
            ("records", &shape.0),
            ("transitions", &shape.1),
            ("holdings", &shape.2),
        ] {
            assert!(
                columns.contains(&"person".to_owned())
                    && !columns.contains(&"person_key".to_owned()),
                "{url}: {table} keeps the person key as bytes: {columns:?}"
            );
            assert!(
                !indexes.iter().any(|i| i.starts_with("sqlite_autoindex")),
                "{url}: {table} has no separate index of its primary key: {indexes:?}"
            );
        }
        let ids: Vec<(i64,)> =
            sqlx::query_as("SELECT CAST(length(transition_id) AS BIGINT) FROM transitions")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert!(
            !ids.is_empty() && ids.iter().all(|(n,)| *n == 18),
            "{url}: a transition id is kept as the 18 bytes of its 36 hex digits: {ids:?}"
        );
        let lengths = stored_person_keys(&store).await;
        // Records keep the 32 bytes; transitions and holdings their first 16 since migration 28,
        // which runs after this conversion.
        assert!(
            lengths.iter().all(|(table, l)| {
                let width = if *table == "records" { 32 } else { 16 };
                !l.is_empty() && l.iter().all(|n| *n == width)
            }),
            "{url}: 32 bytes a record's key, 16 a transition's and a holding's: {lengths:?}"
        );

        store.put_keys_back_as_before_migration_20().await.unwrap();
        assert!(
            table_shape(&store, "records")
                .await
                .0
                .contains(&"person_key".to_owned()),
            "{url}: the records as before migration 20"
        );
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(keys_read_back(&store, &events).await, before, "{url}");
        assert_eq!(
            (
                table_shape(&store, "records").await,
                table_shape(&store, "transitions").await,
                table_shape(&store, "holdings").await,
            ),
            shape,
            "{url}: converted as a new database is made"
        );
        assert_eq!(stored_person_keys(&store).await, lengths, "{url}");

        // New decisions after the conversion: their transitions follow the old ones, and the
        // record, its holdings and its transitions are found by the person's key.
        let transitions_before: i64 =
            sqlx::query_as::<_, (i64,)>("SELECT MAX(seq) FROM transitions")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .0;
        let case = "110105-2024-000982";
        store
            .ingest(
                &conviction(
                    case,
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let (first_new,): (i64,) =
            sqlx::query_as("SELECT MIN(seq) FROM transitions WHERE case_code = $1")
                .bind(case)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(first_new > transitions_before, "{url}");
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{url}");
        let mine = store
            .records_of(
                Some(&store.person_key(&format!("id:{ZHANG}"))),
                Some(case),
                &|_, _, _| true,
            )
            .await
            .unwrap();
        assert_eq!(mine.len(), 1, "{url}");
        let held = store
            .record_page(&fengcun_store::RecordFilter {
                agency: Some("110105-fy".into()),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            held.records.iter().any(|r| r.case_code == case),
            "{url}: the court holds the new record"
        );
    }
    let dir = std::env::temp_dir().join(format!(
        "fengcun-contract-{}-keys_migration",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(dir);
}

/// A record's facts are kept once: a decision that takes a transition on them keeps them in the
/// transition's evidence, and the record's row refers to it (its `facts` empty); a decision
/// without a transition keeps them in the row. Every reader gets them as before.
#[tokio::test]
async fn a_records_facts_are_kept_once_with_the_transition_taken_on_them() {
    async fn stored_facts_bytes(store: &SqlStore, case: &str) -> i64 {
        sqlx::query_as::<_, (i64,)>("SELECT length(facts) FROM records WHERE case_code = $1")
            .bind(case)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .0
    }
    let identity = format!("id:{ZHANG}");
    for store in stores("facts_once").await {
        let backend = format!("{:?}", store.backend());
        let case = "110105-2024-000991";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(3)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let c = ctx("cn-minor-opt1", "2024-03-12T10:00:00+08:00");
        store.ingest(&events[..1], &c).await.unwrap();
        // The indictment changes the facts, not the state: no transition, the facts in the row.
        store.ingest(&events[1..2], &c).await.unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "open", "{backend}");
        assert!(stored_facts_bytes(&store, case).await > 0, "{backend}");
        let open = store.record(case, &identity).await.unwrap().unwrap();
        let open_facts = open.facts.clone().unwrap();
        assert_eq!(open_facts["person"]["name"], "张三", "{backend}");

        store.ingest(&events[2..], &c).await.unwrap();
        assert_eq!(state(&store, case, ZHANG).await.0, "sealed", "{backend}");
        assert_eq!(
            stored_facts_bytes(&store, case).await,
            0,
            "{backend}: the facts are kept in the sealing transition's evidence alone"
        );
        let sealed = store.record(case, &identity).await.unwrap().unwrap();
        let facts = sealed.facts.clone().unwrap();
        let transition = sealed.transition.clone().unwrap();
        assert_eq!(facts, transition.evidence["facts"], "{backend}");
        assert_eq!(facts["person"]["name"], "张三", "{backend}");
        assert_ne!(
            facts, open_facts,
            "{backend}: the judgment's facts, not the indictment's"
        );
        let timelines = store.timelines(case, None).await.unwrap();
        assert_eq!(
            timelines[0].record.person.name.as_deref(),
            Some("张三"),
            "{backend}"
        );
        let page = store
            .record_page(&fengcun_store::RecordFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            page.records[0].person.name.as_deref(),
            Some("张三"),
            "{backend}"
        );
        // The scheduler, a policy change and the next batch read them back from there.
        let preview = store
            .change_policy(presets::get("cn-minor-opt2").unwrap(), &c, false)
            .await
            .unwrap();
        assert!(preview.failures.is_empty(), "{backend}: {preview:?}");
        assert_eq!(preview.records, 1, "{backend}");
        assert_eq!(
            store.ingest(&events, &c).await.unwrap(),
            vec![LineOutcome::Duplicate; 4],
            "{backend}"
        );
        assert_eq!(
            store.record(case, &identity).await.unwrap().unwrap(),
            sealed,
            "{backend}"
        );
    }
}

/// The import decides a batch ahead on the store as the batch before will leave it: a record
/// whose facts that batch keeps in a transition's evidence is read from there, as from the
/// database (SQLite decides ahead; PostgreSQL in each batch's transaction).
#[tokio::test]
async fn a_batch_decided_ahead_reads_facts_kept_in_the_evidence_of_the_batch_before() {
    let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
    for store in stores("facts_ahead").await {
        let backend = format!("{:?}", store.backend());
        let first = "110105-2022-000971";
        let second = "110105-2024-000972";
        let mut events = conviction(
            first,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(2)),
            "2022-01-10",
            "2022-03-01",
            "2022-03-12",
        );
        events.extend(conviction(
            second,
            ZHANG,
            "盗窃罪",
            sentence("fixed_term", Some(8)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        ));
        let (lines, tally) = ingest_through_pipeline(&store, &events, 4, &c).await;
        assert!(
            lines
                .iter()
                .all(|(_, outcome)| outcome == &Ok(LineOutcome::Stored)),
            "{backend}: {lines:?}"
        );
        if store.backend() == fengcun_store::Backend::Sqlite {
            assert_eq!((tally.ahead, tally.in_transaction), (2, 0), "{tally:?}");
        }
        // The later conviction lifts the earlier seal (再犯新罪), read from its evidence.
        assert_eq!(state(&store, first, ZHANG).await.0, "unsealed", "{backend}");
        assert_eq!(state(&store, second, ZHANG).await.0, "sealed", "{backend}");
    }
}

/// Servers started together on a new database (an upgrade) migrate it once, none failing.
#[tokio::test]
async fn stores_opened_together_on_a_new_database_all_open() {
    let dir =
        std::env::temp_dir().join(format!("fengcun-contract-{}-together", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.join("store.sqlite").display())];
    if let Ok(url) = std::env::var("FENGCUN_TEST_DATABASE_URL") {
        urls.push(fresh_postgres_url(&url, "together").await);
    }
    for url in urls {
        let keys = Keys::new(MasterKey::generate());
        // Four at once, polled together: each waits on its own connection.
        let open = || fengcun_store::open(&url, keys.clone());
        let (a, b, c, d) = tokio::join!(open(), open(), open(), open());
        for opened in [a, b, c, d] {
            assert!(opened.is_ok(), "{url}: {:?}", opened.err());
        }
    }
}

/// A tree head is of the log's own hash, whichever key signs it: the log says its hash (its heads,
/// else its entries' leaf hashes), and a store opened for another hash signs nothing.
#[tokio::test]
async fn tree_heads_are_of_the_logs_hash_whatever_the_signing_key() {
    use fengcun_crypto::{SigningKey, Suite};
    for url in fresh_urls("headhash").await {
        let store = fengcun_store::open(&url, Keys::new(MasterKey::generate()))
            .await
            .unwrap();
        store
            .ingest(
                &conviction(
                    "110105-2024-000952",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-10",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &ctx("cn-minor-opt1", "2024-06-01T00:00:00Z"),
            )
            .await
            .unwrap();
        let now: jiff::Timestamp = "2024-06-02T00:00:00Z".parse().unwrap();
        let ed25519 = SigningKey::generate(Suite::International);
        // Opened for SHA-256 over the platform's SM3 log: refused, nothing kept.
        let wrong = fengcun_store::open_without_master_key(&url, Suite::International)
            .await
            .unwrap();
        assert_eq!(wrong.audit_hash().await.unwrap(), Some(Suite::Sm), "{url}");
        let refused = wrong
            .sign_tree_head(&ed25519, now, true)
            .await
            .expect_err("a head of another hash than the log's");
        assert!(
            matches!(
                refused,
                StoreError::AuditHash {
                    log: Suite::Sm,
                    given: Suite::International
                }
            ),
            "{url}: {refused}"
        );
        assert!(wrong.tree_heads().await.unwrap().is_empty(), "{url}");
        // Opened for the log's hash: an Ed25519 head of the SM3 tree, which verifies.
        let right = fengcun_store::open_without_master_key(&url, Suite::Sm)
            .await
            .unwrap();
        let head = right
            .sign_tree_head(&ed25519, now, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (head.unverified_head().suite(), head.key_suite()),
            (Suite::Sm, Suite::International),
            "{url}"
        );
        let report = right
            .verify_audit(&[], Some(&ed25519.verifying_key()))
            .await
            .unwrap();
        assert_eq!(
            (report.problem, report.signatures_checked),
            (None, 1),
            "{url}"
        );
        assert_eq!(right.audit_hash().await.unwrap(), Some(Suite::Sm), "{url}");
    }
    // A log built with SHA-256 says so, with no head yet.
    for url in fresh_urls("headhash256").await {
        let keys = Keys::new(MasterKey::generate().with_suite(Suite::International));
        let store = fengcun_store::open(&url, keys).await.unwrap();
        assert_eq!(store.audit_hash().await.unwrap(), None, "{url}: empty log");
        store
            .ingest(
                &conviction(
                    "110105-2024-000953",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(2)),
                    "2024-01-10",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &ctx("cn-minor-opt1", "2024-06-01T00:00:00Z"),
            )
            .await
            .unwrap();
        assert_eq!(
            store.audit_hash().await.unwrap(),
            Some(Suite::International),
            "{url}"
        );
    }
}

/// Each record whose state differs from the expected one (or that is missing on either side).
fn differing_states(
    states: &[fengcun_store::StateRow],
    expected: &[fengcun_store::StateRow],
) -> Vec<String> {
    let keyed =
        |rows: &[fengcun_store::StateRow]| -> std::collections::BTreeMap<(String, String), String> {
            rows.iter()
                .map(|s| {
                    let shown = format!("{} {:?} {:?}", s.state, s.state_date, s.trigger);
                    ((s.case_code.clone(), s.person_key.clone()), shown)
                })
                .collect()
        };
    let (got, want) = (keyed(states), keyed(expected));
    let mut records: Vec<&(String, String)> = got.keys().chain(want.keys()).collect();
    records.sort();
    records.dedup();
    records
        .into_iter()
        .filter(|record| got.get(*record) != want.get(*record))
        .map(|record| {
            format!(
                "{}: {:?}, one after the other {:?}",
                record.0,
                got.get(record),
                want.get(record)
            )
        })
        .collect()
}

/// One person's events in sixteen batches sent at once: a sealed record that a prison reports on
/// (twice) while a new conviction lifts the seal, an existing record whose judgment takes effect
/// (sealed, then unsealed by the new conviction), and two new records — the later conviction
/// lifts the earlier's seal — whose events arrive one to a batch, some of them twice.
struct Race {
    id: String,
    setup: Vec<ValidEvent>,
    batches: Vec<Vec<ValidEvent>>,
    records: Vec<String>,
}

fn race(p: u32) -> Race {
    let id = id_number(300 + p);
    let case = |year: u32, k: u32| format!("110105-{year}-{:06}", 5000 + p * 10 + k);
    let (sealed, open, new, later) = (case(2022, 0), case(2023, 1), case(2024, 2), case(2025, 3));
    let convict = |case: &str, charge: &str, year: u32| {
        conviction(
            case,
            &id,
            charge,
            sentence("fixed_term", Some(8)),
            &format!("{year}-01-03"),
            &format!("{year}-03-01"),
            &format!("{year}-03-12"),
        )
    };
    let sealed_events = convict(&sealed, "危险驾驶罪", 2022);
    let open_events = convict(&open, "盗窃罪", 2023);
    let new_events = convict(&new, "诈骗罪", 2024);
    let later_events = convict(&later, "故意伤害罪", 2025);
    let prison = event(
        &format!("{sealed}-prison"),
        "execution_started",
        "2022-03-15",
        &sealed,
        json!({"kind": "prison", "code": "110105-ks"}),
        &id,
        json!({}),
    );
    let mut setup = sealed_events;
    setup.extend_from_slice(&open_events[..3]);
    let mut batches = vec![vec![open_events[3].clone()], vec![prison.clone()]];
    batches.extend(new_events.iter().map(|e| vec![e.clone()]));
    batches.extend(later_events.iter().map(|e| vec![e.clone()]));
    // Sent again, as a client does when its first attempt timed out.
    for again in [
        &open_events[3],
        &new_events[0],
        &later_events[2],
        &prison,
        &new_events[3],
        &later_events[3],
    ] {
        batches.push(vec![again.clone()]);
    }
    Race {
        id,
        setup,
        batches,
        records: vec![sealed, open, new, later],
    }
}

/// Issue 13, item 2: on PostgreSQL two transactions about one person each read the person's
/// records, decided without the other's events, and wrote; the later commit won, and a new
/// record's second writer sealed its facts and events under a data key that was never stored.
/// Here every person's batches are sent at once from two stores on one database (two servers),
/// through `ingest` and through an import pipeline; every record must read back, and end in the
/// state a serial import of the same events gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_about_one_person_sent_at_once_end_as_a_serial_import() {
    const PERSONS: u32 = 10;
    let keys = Keys::new(MasterKey::generate());
    let c = ctx("cn-minor-opt1", "2025-06-01T00:00:00Z");
    let races: Vec<Race> = (0..PERSONS).map(race).collect();
    let references = stores_with("race_reference", keys.clone()).await;
    for (url, reference) in fresh_urls("race").await.into_iter().zip(&references) {
        let first = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let second = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let backend = format!("{:?}", first.backend());
        for r in &races {
            first.ingest(&r.setup, &c).await.unwrap();
            reference.ingest(&r.setup, &c).await.unwrap();
            for batch in &r.batches {
                reference.ingest(batch, &c).await.unwrap();
            }
        }

        // The last three batches of every person go through one import pipeline; the others
        // are sent each on its own, alternately to the two stores.
        let mut tasks = tokio::task::JoinSet::new();
        let mut piped: Vec<(usize, ValidEvent)> = Vec::new();
        for r in &races {
            let (sent, imported) = r.batches.split_at(r.batches.len() - 3);
            for (i, batch) in sent.iter().enumerate() {
                let store = if i % 2 == 0 { &first } else { &second }.clone();
                let (batch, c) = (batch.clone(), c.clone());
                tasks.spawn(async move {
                    store
                        .ingest(&batch, &c)
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{}: {e}", batch[0].event.idempotency_key))
                });
            }
            for event in imported.iter().flatten() {
                piped.push((piped.len() + 1, event.clone()));
            }
        }
        {
            let (store, c) = (second.clone(), c.clone());
            tasks.spawn(async move {
                let mut pipeline = store.pipeline(c, false).await.map_err(|e| e.to_string())?;
                let mut reports = Vec::new();
                for chunk in piped.chunks(3) {
                    reports.extend(
                        pipeline
                            .push(chunk.to_vec())
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                reports.extend(pipeline.finish().await.map_err(|e| e.to_string())?);
                let refused: Vec<String> = reports
                    .into_iter()
                    .flat_map(|r| r.lines)
                    .filter_map(|(line, outcome)| {
                        outcome.err().map(|e| format!("import line {line}: {e}"))
                    })
                    .collect();
                if refused.is_empty() {
                    Ok(())
                } else {
                    Err(refused.join("; "))
                }
            });
        }
        let mut failed = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Err(error) = done.unwrap() {
                failed.push(error);
            }
        }

        let mut unreadable = Vec::new();
        for r in &races {
            let identity = format!("id:{}", r.id);
            for case in &r.records {
                match first.record(case, &identity).await {
                    Ok(Some(record)) if record.facts.is_some() => {}
                    other => unreadable.push(format!("record {case}: {other:?}")),
                }
                if let Err(error) = first.transitions(case, &identity).await {
                    unreadable.push(format!("transitions of {case}: {error}"));
                }
            }
        }
        match first.events().await {
            Ok(events) => assert_eq!(
                events.len(),
                PERSONS as usize * 17,
                "{backend}: every event stored once"
            ),
            Err(error) => unreadable.push(format!("events: {error}")),
        }
        if let Err(error) = first.notices(NoticeFilter::default()).await {
            unreadable.push(format!("notices: {error}"));
        }
        let states = first.states().await.unwrap();
        let expected = reference.states().await.unwrap();
        let differing = differing_states(&states, &expected);
        assert!(
            failed.is_empty() && unreadable.is_empty() && differing.is_empty(),
            "{backend}: {} batches failed: {failed:#?}\n{} unreadable: {unreadable:#?}\n{} records differ from a serial import: {differing:#?}",
            failed.len(),
            unreadable.len(),
            differing.len()
        );
        assert_eq!(states.len(), expected.len(), "{backend}");
        assert_eq!(states.len(), PERSONS as usize * 4, "{backend}");
        let held: Vec<&str> = expected.iter().map(|s| s.state.as_str()).collect();
        assert!(
            held.contains(&"unsealed") && held.contains(&"sealed"),
            "{backend}: the serial import seals and unseals: {held:?}"
        );
    }
}

/// The scheduler's round, on two servers at once, while each person's new conviction arrives: a
/// seal due today is made once, and the conviction lifts it whichever commits first (before the
/// person locks, a round that read the record before the conviction committed sealed it again,
/// and the two rounds each sealed it, each telling every agency).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduler_and_ingestion_at_once_end_as_one_after_the_other() {
    const PERSONS: u32 = 10;
    let keys = Keys::new(MasterKey::generate());
    let before = ctx("cn-minor-tiered", "2025-04-01T00:00:00Z");
    let due = ctx("cn-minor-tiered", "2027-03-11T09:00:00+08:00");
    let persons: Vec<(String, String, Vec<ValidEvent>, Vec<ValidEvent>)> = (0..PERSONS)
        .map(|p| {
            let id = id_number(500 + p);
            let pending = format!("110105-2023-{:06}", 6000 + p * 10);
            let mut events = conviction(
                &pending,
                &id,
                "诈骗罪",
                sentence("fixed_term", Some(18)),
                "2023-05-02",
                "2023-09-01",
                "2023-09-12",
            );
            events.push(event(
                &format!("{pending}-done"),
                "execution_completed",
                "2025-03-11",
                &pending,
                json!({"kind": "prison", "code": "110105-ks", "name": "某监狱"}),
                &id,
                json!({}),
            ));
            let later = conviction(
                &format!("110105-2026-{:06}", 6001 + p * 10),
                &id,
                "盗窃罪",
                sentence("fixed_term", Some(8)),
                "2026-01-02",
                "2026-03-01",
                "2026-03-12",
            );
            (id, pending, events, later)
        })
        .collect();
    let references = stores_with("tick_race_reference", keys.clone()).await;
    for (url, reference) in fresh_urls("tick_race").await.into_iter().zip(&references) {
        let first = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let second = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let backend = format!("{:?}", first.backend());
        for (_, _, events, later) in &persons {
            first.ingest(events, &before).await.unwrap();
            reference.ingest(events, &before).await.unwrap();
            reference.ingest(later, &due).await.unwrap();
        }
        reference.tick(&due).await.unwrap();

        let mut tasks = tokio::task::JoinSet::new();
        for store in [&first, &second] {
            let (store, c) = (store.clone(), due.clone());
            tasks.spawn(async move {
                // A record the round could not decide is a failure here too, not only an error.
                match store.tick(&c).await {
                    Ok(report) if report.failures.is_empty() => Ok(()),
                    Ok(report) => Err(format!("{:?}", report.failures)),
                    Err(e) => Err(e.to_string()),
                }
            });
        }
        for (n, (_, _, _, later)) in persons.iter().enumerate() {
            let store = if n % 2 == 0 { &first } else { &second }.clone();
            let (later, c) = (later.clone(), due.clone());
            tasks.spawn(async move {
                store
                    .ingest(&later, &c)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
        }
        let mut failed = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Err(error) = done.unwrap() {
                failed.push(error);
            }
        }

        let mut sealed_twice = Vec::new();
        for (id, pending, _, _) in &persons {
            let made = first
                .transitions(pending, &format!("id:{id}"))
                .await
                .unwrap();
            if made.iter().filter(|t| t.to == "sealed").count() > 1 {
                sealed_twice.push(pending.clone());
            }
        }
        let states = first.states().await.unwrap();
        let expected = reference.states().await.unwrap();
        let differing = differing_states(&states, &expected);
        assert!(
            failed.is_empty() && sealed_twice.is_empty() && differing.is_empty(),
            "{backend}: failed: {failed:#?}\nsealed twice: {sealed_twice:#?}\ndiffering: {differing:#?}"
        );
        assert_eq!(states.len(), PERSONS as usize * 2, "{backend}");
        assert!(
            expected.iter().filter(|s| s.state == "unsealed").count() == PERSONS as usize,
            "{backend}: every due seal is lifted by the later conviction: {expected:#?}"
        );
    }
}

/// A record whose 18 months of prison end on 2025-03-11: pending seal until 2027-03-11 under
/// cn-minor-tiered.
fn pending_until_2027(case: &str, id: &str) -> Vec<ValidEvent> {
    let mut events = conviction(
        case,
        id,
        "诈骗罪",
        sentence("fixed_term", Some(18)),
        "2023-05-02",
        "2023-09-01",
        "2023-09-12",
    );
    events.push(event(
        &format!("{case}-done"),
        "execution_completed",
        "2025-03-11",
        case,
        json!({"kind": "prison", "code": "110105-ks", "name": "某监狱"}),
        id,
        json!({}),
    ));
    events
}

/// Makes a record unreadable as a damaged row would be: its wrapped data key no longer opens.
async fn damage_data_key(store: &SqlStore, case: &str) {
    let damaged = sqlx::query("UPDATE records SET data_key = $1 WHERE case_code = $2")
        .bind(vec![7u8; 60])
        .bind(case)
        .execute(store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(damaged, 1);
}

/// The state column of a record, read without decrypting anything (a damaged record cannot be).
async fn state_of(store: &SqlStore, case: &str) -> String {
    store
        .states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.case_code == case)
        .unwrap()
        .state
        .code()
        .to_owned()
}

/// The audit entries of `kind`, in log order.
async fn entries_of(store: &SqlStore, kind: &str) -> Vec<fengcun_store::AuditEntry> {
    store
        .audit_entries(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .collect()
}

#[tokio::test]
async fn an_unreadable_record_does_not_stop_the_scheduler() {
    for store in stores("tickfail").await {
        let c = ctx("cn-minor-tiered", "2025-04-01T00:00:00Z");
        let cases = [
            "110105-2024-001501",
            "110105-2024-001502",
            "110105-2024-001503",
        ];
        for (n, case) in cases.iter().enumerate() {
            store
                .ingest(&pending_until_2027(case, &id_number(n as u32 + 1)), &c)
                .await
                .unwrap();
        }
        damage_data_key(&store, cases[1]).await;
        let due = ctx("cn-minor-tiered", "2027-03-11T09:00:00+08:00");
        let report = store.tick(&due).await.unwrap();
        let mut sealed: Vec<(&str, &str)> = report
            .transitions
            .iter()
            .map(|t| (t.case_code.as_str(), t.to.as_str()))
            .collect();
        sealed.sort_unstable();
        assert_eq!(
            sealed,
            [(cases[0], "sealed"), (cases[2], "sealed")],
            "the readable records are sealed"
        );
        let bad_person = store.person_key(&format!("id:{}", id_number(2)));
        assert_eq!(
            report.failures,
            [fengcun_store::RecordFailure {
                case_code: cases[1].into(),
                person_key: bad_person.clone(),
                error: "crypto".into(),
            }]
        );
        assert_eq!(state_of(&store, cases[0]).await, "sealed");
        assert_eq!(state_of(&store, cases[1]).await, "pending_seal");
        assert_eq!(state_of(&store, cases[2]).await, "sealed");
        let failed = entries_of(&store, "refresh_failed").await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(
            failed[0].subject.as_deref(),
            Some(format!("record:{bad_person}/{}", cases[1]).as_str())
        );
        assert_eq!(failed[0].actor, "automatic");
        let detail: Value = serde_json::from_str(&failed[0].detail).unwrap();
        assert_eq!(
            (
                &detail["case_code"],
                &detail["error"],
                &detail["during"],
                &detail["policy"]
            ),
            (
                &json!(cases[1]),
                &json!("crypto"),
                &json!("scheduler"),
                &json!("cn-minor-tiered")
            )
        );
        assert!(
            !failed[0].detail.contains("envelope"),
            "the kind of error, not its message: {}",
            failed[0].detail
        );
        // Still due, it is tried again at the next round (and fails again, audited again); the
        // sealed ones are not touched again.
        let again = store.tick(&due).await.unwrap();
        assert!(again.transitions.is_empty(), "{again:?}");
        assert_eq!(again.failures.len(), 1);
        assert_eq!(entries_of(&store, "refresh_failed").await.len(), 2);
    }
}

#[tokio::test]
async fn an_unreadable_record_does_not_stop_a_policy_change() {
    for store in stores("policyfail").await {
        let c = ctx("cn-minor-opt3", "2024-06-01T00:00:00Z");
        let cases = ["110105-2024-001601", "110105-2024-001602"];
        for (n, case) in cases.iter().enumerate() {
            store
                .ingest(
                    &conviction(
                        case,
                        &id_number(n as u32 + 1),
                        "盗窃罪",
                        sentence("fixed_term", Some(10)),
                        "2024-01-02",
                        "2024-03-01",
                        "2024-03-12",
                    ),
                    &c,
                )
                .await
                .unwrap();
        }
        // The second record's stored facts are damaged (its events are intact).
        sqlx::query("UPDATE records SET facts = $1 WHERE case_code = $2")
            .bind(b"damaged".to_vec())
            .bind(cases[1])
            .execute(store.pool())
            .await
            .unwrap();
        let bad = fengcun_store::RecordFailure {
            case_code: cases[1].into(),
            person_key: store.person_key(&format!("id:{}", id_number(2))),
            error: "corrupt".into(),
        };
        let opt1 = presets::get("cn-minor-opt1").unwrap();
        let preview = store.change_policy(opt1, &c, false).await.unwrap();
        assert_eq!(preview.sealed.len(), 1, "{preview:?}");
        assert!(preview.sealed[0].starts_with(cases[0]));
        assert_eq!(preview.failures, std::slice::from_ref(&bad));
        assert!(
            entries_of(&store, "refresh_failed").await.is_empty(),
            "a preview writes nothing"
        );
        let applied = store
            .change_policy(
                opt1,
                &Context {
                    actor: fengcun_lifecycle::Actor::Operator("ops".into()),
                    ..c.clone()
                },
                true,
            )
            .await
            .unwrap();
        assert_eq!(applied.sealed, preview.sealed);
        assert_eq!(applied.failures, [bad]);
        assert_eq!(state_of(&store, cases[0]).await, "sealed");
        assert_eq!(state_of(&store, cases[1]).await, "not_eligible");
        assert_eq!(
            store.policy_in_force().await.unwrap().unwrap().0,
            "cn-minor-opt1",
            "the policy is in force although a record failed"
        );
        let failed = entries_of(&store, "refresh_failed").await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].actor, "ops");
        let detail: Value = serde_json::from_str(&failed[0].detail).unwrap();
        assert_eq!(
            (
                &detail["case_code"],
                &detail["error"],
                &detail["during"],
                &detail["policy"]
            ),
            (
                &json!(cases[1]),
                &json!("corrupt"),
                &json!("policy_change"),
                &json!("cn-minor-opt1")
            )
        );
        let changed = entries_of(&store, "policy_changed").await;
        let detail: Value = serde_json::from_str(&changed[0].detail).unwrap();
        assert_eq!(
            (&detail["sealed"], &detail["failed"]),
            (&json!(1), &json!(1))
        );
        // The scheduler's next round under the policy in force decides the failed record again
        // (from its events, which are readable): it is sealed, and not tried again after.
        let opt1_ctx = ctx_with(opt1, "2024-06-01T00:01:00Z");
        let tick = store.tick(&opt1_ctx).await.unwrap();
        assert!(tick.failures.is_empty(), "{tick:?}");
        assert_eq!(
            tick.transitions
                .iter()
                .map(|t| (t.case_code.as_str(), t.to.as_str(), t.policy.as_str()))
                .collect::<Vec<_>>(),
            [(cases[1], "sealed", "cn-minor-opt1")]
        );
        assert_eq!(state_of(&store, cases[1]).await, "sealed");
        assert_eq!(store.tick(&opt1_ctx).await.unwrap(), Default::default());
    }
}

#[tokio::test]
async fn a_delivery_recorded_after_its_acknowledgement_keeps_its_trail() {
    for store in stores("ackfirst").await {
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        store
            .ingest(
                &conviction(
                    "110105-2024-001701",
                    ZHANG,
                    "危险驾驶罪",
                    sentence("criminal_detention", Some(1)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let now: jiff::Timestamp = "2024-06-01T00:00:10Z".parse().unwrap();
        let lease: jiff::Timestamp = "2024-06-01T00:05:10Z".parse().unwrap();
        let claimed = store.claim_due_notices(now, lease, 100).await.unwrap();
        let item = &claimed[0];
        // The receiver acknowledges while it handles the delivery, before the outbox records it.
        assert!(
            store
                .acknowledge(&item.notice_id, &item.recipient, &item.ack_token, "fy", now)
                .await
                .unwrap()
        );
        store
            .record_delivery(&item.notice_id, Delivery::Delivered, now)
            .await
            .unwrap();
        let notice = |store: &SqlStore| {
            let store = store.clone();
            let id = item.notice_id.clone();
            async move {
                store
                    .notices(NoticeFilter::default())
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|n| n.notice_id == id)
                    .unwrap()
            }
        };
        let delivered = notice(&store).await;
        assert_eq!(
            (
                delivered.status.as_str(),
                delivered.attempts,
                delivered.delivered_at.as_deref()
            ),
            ("acknowledged", 1, Some("2024-06-01T00:00:10Z"))
        );
        let subject = format!("notice:{}", item.notice_id);
        let trail = |entries: Vec<fengcun_store::AuditEntry>| {
            entries
                .into_iter()
                .filter(|e| e.subject.as_deref() == Some(subject.as_str()))
                .map(|e| e.outcome)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            trail(entries_of(&store, "notice_delivery").await),
            ["delivered"]
        );
        // A repeated delivery (a claim that lapsed) that fails is recorded too, and moves no status
        // back: still acknowledged, not due again.
        let later: jiff::Timestamp = "2024-06-01T00:06:00Z".parse().unwrap();
        store
            .record_delivery(
                &item.notice_id,
                Delivery::Failed {
                    error: "connection refused".into(),
                    retry_at: Some("2024-06-01T00:07:00Z".parse().unwrap()),
                },
                later,
            )
            .await
            .unwrap();
        let repeated = notice(&store).await;
        assert_eq!(
            (
                repeated.status.as_str(),
                repeated.attempts,
                repeated.delivered_at.as_deref(),
                repeated.last_error.as_deref()
            ),
            ("acknowledged", 2, Some("2024-06-01T00:00:10Z"), None)
        );
        assert_eq!(
            trail(entries_of(&store, "notice_delivery").await),
            ["delivered", "not_delivered"]
        );
        let much_later: jiff::Timestamp = "2024-06-02T00:00:00Z".parse().unwrap();
        assert!(
            !store
                .claim_due_notices(much_later, much_later, 100)
                .await
                .unwrap()
                .iter()
                .any(|n| n.notice_id == item.notice_id)
        );
    }
}

/// A user changed (replaced, disabled) loses their grants and pending requests in the same
/// transaction, each audited; a person's enrolled name and whom a request is about are kept sealed
/// and read back as written.
#[tokio::test]
async fn a_changed_user_keeps_no_grant_and_sealed_details_read_back() {
    use fengcun_store::{
        AuditEvent, AuditKind, Decision, GrantRow, RequestPerson, RequestRow, UserRow,
    };
    const ID: &str = "110105199003070025";
    for store in stores("user_grants").await {
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let audit = |kind, outcome: &str| [AuditEvent::new(kind, "admin", outcome)];
        let person = UserRow {
            username: "person-a".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Requester,
            requester_kind: Some(RequesterKind::Person),
            agency: None,
            person_key: Some(store.person_key(&format!("id:{ID}"))),
            name: Some("张三".into()),
            disabled: false,
        };
        store
            .put_user(&person, &audit(AuditKind::UserChanged, "created"), now)
            .await
            .unwrap();
        assert_eq!(store.user("person-a").await.unwrap(), Some(person.clone()));
        assert_eq!(
            store
                .person_name(person.person_key.as_deref().unwrap())
                .await
                .unwrap()
                .as_deref(),
            Some("张三")
        );
        assert_eq!(store.person_name("no-such-key").await.unwrap(), None);
        let clerk = UserRow {
            username: "clerk".into(),
            role: Role::Clerk,
            requester_kind: Some(RequesterKind::Court),
            person_key: None,
            name: None,
            ..person.clone()
        };
        store
            .put_user(&clerk, &audit(AuditKind::UserChanged, "created"), now)
            .await
            .unwrap();
        let about = RequestPerson {
            id_number: ID.into(),
            name: Some("张三丰".into()),
        };
        let request = |id: &str| RequestRow {
            request_id: id.into(),
            person_key: person.person_key.clone().unwrap(),
            requester: "user:clerk".into(),
            requester_kind: RequesterKind::Court,
            purpose: Purpose::CaseHandling,
            post: None,
            basis: "（2026）京0105刑初1号".into(),
            reason: "审理需要".into(),
            status: RequestStatus::Pending,
            decided_by: None,
            decision_reason: None,
            grant_id: None,
            created_at: now.to_string(),
            decided_at: None,
            person: Some(about.clone()),
        };
        for id in ["r1", "r2"] {
            store
                .put_request(&request(id), &audit(AuditKind::Request, "pending"), now)
                .await
                .unwrap();
        }
        assert_eq!(store.request("r1").await.unwrap(), Some(request("r1")));
        let grant = GrantRow {
            grant_id: "g1".into(),
            request_id: "r1".into(),
            person_key: person.person_key.clone().unwrap(),
            requester: "user:clerk".into(),
            purpose: Purpose::CaseHandling,
            post: None,
            not_before: now.to_string(),
            expires: "2026-07-01T00:00:00Z".into(),
            revoked_at: None,
            revoked_by: None,
            person: None,
        };
        assert!(
            store
                .decide_request(
                    "r1",
                    "user:judge",
                    "依法准许",
                    &Decision::Approve(Box::new(grant)),
                    &audit(AuditKind::Approval, "approved"),
                    now
                )
                .await
                .unwrap()
        );
        // The grant reads back with whom it is about (its request's person).
        let live = store.grant("g1").await.unwrap().unwrap();
        assert_eq!(live.person, Some(about.clone()));
        assert!(live.revoked_at.is_none());
        // Neither the identity number nor the names are stored in the clear.
        for (table, column) in [
            ("penetration_requests", "person_sealed"),
            ("users", "name_sealed"),
        ] {
            let rows: Vec<(Vec<u8>,)> = sqlx::query_as(&format!(
                "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
            ))
            .fetch_all(store.pool())
            .await
            .unwrap();
            assert!(!rows.is_empty(), "{table}");
            for (bytes,) in rows {
                for clear in [ID.as_bytes(), "张三".as_bytes()] {
                    assert!(!bytes.windows(clear.len()).any(|w| w == clear), "{table}");
                }
            }
        }
        // A new password is the same official: the grant and the request stay.
        let new_password = UserRow {
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3LXBhc3N3b3Jk".into(),
            ..clerk.clone()
        };
        store
            .put_user(
                &new_password,
                &audit(AuditKind::UserChanged, "password_changed"),
                now,
            )
            .await
            .unwrap();
        assert!(
            store
                .grant("g1")
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert_eq!(
            store.request("r2").await.unwrap().unwrap().status,
            "pending"
        );
        // The username is given to someone else (another requester kind): the grant ends, the
        // pending request is withdrawn, each in the log after the change, by the change's actor.
        let later: jiff::Timestamp = "2026-06-02T00:00:00Z".parse().unwrap();
        let someone_else = UserRow {
            requester_kind: Some(RequesterKind::Procuratorate),
            ..clerk.clone()
        };
        store
            .put_user(
                &someone_else,
                &audit(AuditKind::UserChanged, "replaced"),
                later,
            )
            .await
            .unwrap();
        let ended = store.grant("g1").await.unwrap().unwrap();
        assert_eq!(
            (ended.revoked_at.is_some(), ended.revoked_by.as_deref()),
            (true, Some("admin"))
        );
        let withdrawn = store.request("r2").await.unwrap().unwrap();
        assert_eq!(withdrawn.status, "withdrawn");
        assert!(
            !store
                .decide_request(
                    "r2",
                    "user:judge",
                    "依法准许",
                    &Decision::Refuse,
                    &audit(AuditKind::Refusal, "refused"),
                    later
                )
                .await
                .unwrap(),
            "a withdrawn request is decided no more"
        );
        let entries = store.audit_entries(0, 1000).await.unwrap();
        let tail: Vec<String> = entries[entries.len() - 3..]
            .iter()
            .map(|e| format!("{}/{}/{}", e.kind, e.outcome, e.actor))
            .collect();
        assert_eq!(
            tail,
            [
                "user_changed/replaced/admin",
                "grant_revoked/revoked/admin",
                "request/withdrawn/admin"
            ]
        );
        assert!(entries[entries.len() - 2].subject.as_deref() == Some("grant:g1"));
        assert!(
            store
                .verify_audit(&[], None)
                .await
                .unwrap()
                .problem
                .is_none()
        );
    }
}

/// Sets one column of every row of `table` to a code no enum has, as a row written by another
/// version (or altered) would read.
async fn store_unknown_code(store: &SqlStore, table: &str, column: &str) {
    let changed = sqlx::query(&format!("UPDATE {table} SET {column} = 'bogus'"))
        .execute(store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert!(changed > 0, "no row of {table} to alter");
}

/// The error a read gives for the code `store_unknown_code` wrote: the column, named.
fn unknown_column(error: StoreError) -> &'static str {
    match error {
        StoreError::UnknownValue { column, value } => {
            assert_eq!(value, "bogus");
            column
        }
        other => panic!("expected an unknown stored code, got {other:?}"),
    }
}

/// Typed rows: a state, status, kind or role read from the database that none of its enum's values
/// has is a `StoreError::UnknownValue` naming the column, on every read that meets it — never a
/// panic, never a row passed on with a string nobody checked.
#[tokio::test]
async fn an_unknown_stored_code_is_an_error_naming_its_column() {
    use fengcun_store::{AuditEvent, AuditKind, RequestRow, UserRow};
    for store in stores("unknowncode").await {
        let backend = format!("{:?}", store.backend());
        let case = "110105-2024-000923";
        let events = conviction(
            case,
            ZHANG,
            "危险驾驶罪",
            sentence("criminal_detention", Some(3)),
            "2024-01-10",
            "2024-03-01",
            "2024-03-12",
        );
        let c = ctx("cn-minor-opt1", "2024-03-12T10:00:00+08:00");
        store.ingest(&events, &c).await.unwrap();
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let audit = |kind, outcome: &str| [AuditEvent::new(kind, "admin", outcome)];
        let user = UserRow {
            username: "clerk".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Clerk,
            requester_kind: Some(RequesterKind::Court),
            agency: Some("110105-fy".into()),
            person_key: None,
            name: None,
            disabled: false,
        };
        store
            .put_user(&user, &audit(AuditKind::UserChanged, "created"), now)
            .await
            .unwrap();
        let request = RequestRow {
            request_id: "r1".into(),
            person_key: store.person_key(&format!("id:{ZHANG}")),
            requester: "user:clerk".into(),
            requester_kind: RequesterKind::Court,
            purpose: Purpose::CaseHandling,
            post: None,
            basis: "（2026）京0105刑初1号".into(),
            reason: "审理".into(),
            status: RequestStatus::Pending,
            decided_by: None,
            decision_reason: None,
            grant_id: None,
            created_at: now.to_string(),
            decided_at: None,
            person: None,
        };
        store
            .put_request(&request, &audit(AuditKind::Request, "pending"), now)
            .await
            .unwrap();

        // Notices: the list refuses the row; a claimed delivery carries the error as its
        // content, so that the outbox records a failed attempt and the others go on.
        store_unknown_code(&store, "notices", "status").await;
        let error = store.notices(NoticeFilter::default()).await.unwrap_err();
        assert_eq!(unknown_column(error), "notices.status", "{backend}");
        // The counts by status keep the status in the count's name (migration 21).
        sqlx::query("INSERT INTO tallies (name, n) VALUES ('notices:bogus', 1)")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(
            unknown_column(store.counts().await.unwrap_err()),
            "notices.status",
            "{backend}"
        );
        sqlx::query("DELETE FROM tallies WHERE name = 'notices:bogus'")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE notices SET status = 'pending'")
            .execute(store.pool())
            .await
            .unwrap();
        store_unknown_code(&store, "notices", "kind").await;
        let error = store.notices(NoticeFilter::default()).await.unwrap_err();
        assert_eq!(unknown_column(error), "notices.kind", "{backend}");
        let claimed = store
            .claim_due_notices(now, now, 100)
            .await
            .expect("a claim is not failed by one notice");
        assert!(!claimed.is_empty(), "{backend}");
        for item in &claimed {
            let error = item.content.as_ref().unwrap_err();
            assert!(error.contains("notices.kind"), "{backend}: {error}");
        }

        // Records: every read of the state.
        store_unknown_code(&store, "records", "state").await;
        let error = store.states().await.unwrap_err();
        assert_eq!(unknown_column(error), "records.state", "{backend}");
        let error = store
            .record(case, &format!("id:{ZHANG}"))
            .await
            .unwrap_err();
        assert_eq!(unknown_column(error), "records.state", "{backend}");
        let error = store
            .records_of(None, Some(case), &|_, _, _| true)
            .await
            .unwrap_err();
        assert_eq!(unknown_column(error), "records.state", "{backend}");
        store_unknown_code(&store, "transitions", "to_state").await;
        let error = store
            .transitions(case, &format!("id:{ZHANG}"))
            .await
            .unwrap_err();
        assert_eq!(unknown_column(error), "transitions.to_state", "{backend}");

        // Access: a user's role, a request's status.
        store_unknown_code(&store, "users", "role").await;
        let error = store.user("clerk").await.unwrap_err();
        assert_eq!(unknown_column(error), "users.role", "{backend}");
        store_unknown_code(&store, "penetration_requests", "status").await;
        let error = store.request("r1").await.unwrap_err();
        assert_eq!(
            unknown_column(error),
            "penetration_requests.status",
            "{backend}"
        );

        // An agency's registered kind, a certificate's result.
        assert_eq!(
            store.agency_kind("110105-fy").await.unwrap(),
            Some(fengcun_store::AgencyKind::Court),
            "{backend}"
        );
        store_unknown_code(&store, "agencies", "kind").await;
        let error = store.agency_kind("110105-fy").await.unwrap_err();
        assert_eq!(unknown_column(error), "agencies.kind", "{backend}");
        let certificate = fengcun_store::CertificateRow {
            number: "FC-2026-UNK".into(),
            person_key: request.person_key.clone(),
            result: fengcun_store::CertificateOutcome::HasCriminalRecord,
            issued_by: "user:clerk".into(),
            issued_at: now.to_string(),
            file: b"{}\n".to_vec(),
        };
        store
            .put_certificate(&certificate, &audit(AuditKind::Certificate, "issued"), now)
            .await
            .unwrap();
        assert_eq!(
            store.certificate("FC-2026-UNK").await.unwrap(),
            Some(certificate),
            "{backend}"
        );
        store_unknown_code(&store, "certificates", "result").await;
        let error = store.certificate("FC-2026-UNK").await.unwrap_err();
        assert_eq!(unknown_column(error), "certificates.result", "{backend}");

        // The audit log: reading entries refuses the row; the audit of the log names the entry
        // as altered, as it does any other altered column.
        sqlx::query("UPDATE audit_entries SET kind = 'bogus' WHERE seq = 1")
            .execute(store.pool())
            .await
            .unwrap();
        let error = store.audit_entries(0, 100).await.unwrap_err();
        assert_eq!(unknown_column(error), "audit_entries.kind", "{backend}");
        let report = store.verify_audit(&[], None).await.unwrap();
        assert_eq!(
            report.problem,
            Some(fengcun_store::AuditProblem::Altered {
                entry: 1,
                detail: "its kind `bogus` is none an entry can have".into(),
            }),
            "{backend}"
        );
    }
}

/// The audit page's search: each filter narrows, newest first, the next page before a sequence
/// number; and a user's console language is kept (and changed) per user.
#[tokio::test]
async fn audit_search_filters_and_the_console_language_per_user() {
    use fengcun_store::{AuditEvent, AuditFilter, AuditKind, UserRow};
    for store in stores("audit_search").await {
        let day1: jiff::Timestamp = "2026-06-01T02:00:00Z".parse().unwrap();
        let day2: jiff::Timestamp = "2026-06-02T02:00:00Z".parse().unwrap();
        store
            .audit(
                &[
                    AuditEvent::new(AuditKind::Read, "user:a", "records").subject("c-1"),
                    AuditEvent::new(AuditKind::Lookup, "user:b", "no_record").subject("c-1"),
                ],
                day1,
            )
            .await
            .unwrap();
        store
            .audit(
                &[
                    AuditEvent::new(AuditKind::Read, "user:b", "notices"),
                    AuditEvent::new(AuditKind::Read, "user:a", "records").subject("c-2"),
                ],
                day2,
            )
            .await
            .unwrap();
        let seqs = |entries: Vec<fengcun_store::AuditEntry>| {
            entries.into_iter().map(|e| e.seq).collect::<Vec<_>>()
        };
        let search = |filter: AuditFilter| {
            let store = &store;
            async move { seqs(store.audit_search(&filter).await.unwrap()) }
        };
        let all = AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        };
        assert_eq!(search(all.clone()).await, [3, 2, 1, 0]);
        let by_actor = AuditFilter {
            actor: Some("user:a".into()),
            ..all.clone()
        };
        assert_eq!(search(by_actor.clone()).await, [3, 0]);
        let by_kind = AuditFilter {
            kind: Some(AuditKind::Lookup),
            ..all.clone()
        };
        assert_eq!(search(by_kind).await, [1]);
        let by_subject = AuditFilter {
            subject: Some("c-1".into()),
            ..all.clone()
        };
        assert_eq!(search(by_subject).await, [1, 0]);
        let on_day2 = AuditFilter {
            since: Some("2026-06-02T00:00:00Z".parse().unwrap()),
            until: Some("2026-06-03T00:00:00Z".parse().unwrap()),
            ..all.clone()
        };
        assert_eq!(search(on_day2).await, [3, 2]);
        let combined = AuditFilter {
            until: Some("2026-06-02T00:00:00Z".parse().unwrap()),
            ..by_actor
        };
        assert_eq!(search(combined).await, [0]);
        let next_page = AuditFilter {
            before: Some(2),
            limit: 1,
            ..all
        };
        assert_eq!(search(next_page).await, [1]);

        let user = UserRow {
            username: "clerk".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Clerk,
            requester_kind: Some(RequesterKind::Court),
            agency: None,
            person_key: None,
            name: None,
            disabled: false,
        };
        store
            .put_user(
                &user,
                &[AuditEvent::new(AuditKind::UserChanged, "admin", "created")],
                day1,
            )
            .await
            .unwrap();
        assert_eq!(store.user_language("clerk").await.unwrap(), None);
        store.set_user_language("clerk", "en").await.unwrap();
        assert_eq!(
            store.user_language("clerk").await.unwrap().as_deref(),
            Some("en")
        );
        store.set_user_language("clerk", "zh").await.unwrap();
        assert_eq!(
            store.user_language("clerk").await.unwrap().as_deref(),
            Some("zh")
        );
    }
}

#[tokio::test]
async fn audit_entries_are_found_by_the_persons_they_concern_and_the_log_still_verifies() {
    use fengcun_store::{AuditEvent, AuditKind};
    for store in stores("concerns").await {
        let now: jiff::Timestamp = "2026-06-01T02:00:00Z".parse().unwrap();
        let a = store.person_key("id:110105199003070025");
        let b = store.person_key("id:110105198001010016");
        let events = [
            AuditEvent::new(AuditKind::Lookup, "user:hr", "no_right").concerning(a.clone()),
            AuditEvent::new(AuditKind::Read, "user:x", "records"),
            AuditEvent::new(AuditKind::Lookup, "user:police", "records")
                .concerning(a.clone())
                .concerning(b.clone()),
            AuditEvent::new(AuditKind::GrantUse, "user:police", "read").concerning(b.clone()),
        ];
        store.audit(&events, now).await.unwrap();
        let of_a = store.audit_concerning(&a, None, 10).await.unwrap();
        let seqs: Vec<u64> = of_a.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![2, 0], "newest first");
        let of_b = store.audit_concerning(&b, None, 10).await.unwrap();
        let kinds: Vec<AuditKind> = of_b.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![AuditKind::GrantUse, AuditKind::Lookup]);
        assert_eq!(
            store.audit_concerning(&b, Some(3), 10).await.unwrap().len(),
            1
        );
        assert!(
            store
                .audit_concerning("nobody", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // The index is beside the log, not in it: the log verifies as before.
        let report = store.verify_audit(&[], None).await.unwrap();
        assert_eq!((report.entries, report.problem), (4, None));
    }
}

#[tokio::test]
async fn correction_requests_are_kept_sealed_answered_once_and_listed_per_agency() {
    use fengcun_store::{AuditEvent, AuditKind, CorrectionAnswer, CorrectionRow, CorrectionStatus};
    for store in stores("correction_requests").await {
        let now: jiff::Timestamp = "2026-06-01T02:00:00Z".parse().unwrap();
        let me = store.person_key("id:110105199003070025");
        let row = CorrectionRow {
            request_id: "cor-1".into(),
            person_key: me.clone(),
            requested_by: "user:li".into(),
            case_code: "110105-2024-000001".into(),
            field: "sentence".into(),
            agency: "110105-fy".into(),
            text: "刑期记载有误".into(),
            status: CorrectionStatus::Open,
            answered_by: None,
            answer: None,
            correction_key: None,
            created_at: String::new(),
            answered_at: None,
            seen_at: None,
        };
        let asked = AuditEvent::new(AuditKind::Correction, "user:li", "requested");
        store.put_correction(&row, &[asked], now).await.unwrap();
        let stored = store.correction("cor-1").await.unwrap().unwrap();
        assert_eq!(stored.text, "刑期记载有误");
        assert_eq!(stored.status, CorrectionStatus::Open);
        // The words are sealed in the row.
        let (sealed,): (Vec<u8>,) = sqlx::query_as(
            "SELECT text_sealed FROM correction_requests WHERE request_id = 'cor-1'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("刑期"));
        assert_eq!(
            store
                .corrections_for_agency("110105-fy", Some(CorrectionStatus::Open))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .corrections_for_agency("110105-ga", None)
                .await
                .unwrap()
                .is_empty()
        );
        let answer = CorrectionAnswer {
            status: CorrectionStatus::Refused,
            answered_by: "user:clerk".into(),
            answer: Some("记录无误".into()),
            correction_key: None,
        };
        let refused = AuditEvent::new(AuditKind::Correction, "user:clerk", "refused");
        assert!(
            store
                .answer_correction("cor-1", &answer, std::slice::from_ref(&refused), now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .answer_correction("cor-1", &answer, &[refused], now)
                .await
                .unwrap()
        );
        let mine = store.corrections_of_person(&me).await.unwrap();
        assert_eq!(mine[0].answer.as_deref(), Some("记录无误"));
        assert_eq!(mine[0].seen_at, None);
        assert_eq!(store.mark_corrections_seen(&me, now).await.unwrap(), 1);
        assert_eq!(store.mark_corrections_seen(&me, now).await.unwrap(), 0);
        // Requested and refused, once each: the refused second answer wrote nothing.
        let log = store.audit_entries(0, 10).await.unwrap();
        let outcomes: Vec<&str> = log.iter().map(|e| e.outcome.as_str()).collect();
        assert_eq!(outcomes, vec!["requested", "refused"]);
    }
}

/// A person's account is activated once with its code, before the code expires; a newer code ends
/// the older; a code opens only the account of the person it was made for. Nothing is written by a
/// refused code; the activation's audit entry is written with it.
#[tokio::test]
async fn activation_codes_open_their_account_once_before_they_expire() {
    use fengcun_store::{Activation, ActivationRow, AuditEvent, AuditKind, UserRow};
    const ID: &str = "110105199003070025";
    for store in stores("activation").await {
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let later = |hours: i64| {
            now.checked_add(jiff::SignedDuration::from_hours(hours))
                .unwrap()
        };
        let key = store.person_key(&format!("id:{ID}"));
        let other = store.person_key("id:11010519491231002X");
        let user = UserRow {
            username: "p-person".into(),
            password_hash: "!".into(),
            role: Role::Person,
            requester_kind: Some(RequesterKind::Person),
            agency: None,
            person_key: Some(key.clone()),
            name: Some("张三".into()),
            disabled: true,
        };
        assert!(store.add_user(&user, &[], now).await.unwrap());
        let code = |hash: &str, hours: i64| ActivationRow {
            code_hash: hash.into(),
            username: "p-person".into(),
            person_key: key.clone(),
            created_by: "user:clerk".into(),
            expires_at: later(hours),
        };
        let entry = |outcome: &str| [AuditEvent::new(AuditKind::UserChanged, "counter", outcome)];
        store
            .put_activation(&code("first", 72), &entry("activation_code"), now)
            .await
            .unwrap();
        // Expired at 72 hours.
        assert_eq!(
            store
                .activate("first", &key, "hash-1", &entry("activated"), later(72))
                .await
                .unwrap(),
            Activation::Expired
        );
        store
            .put_activation(&code("second", 144), &entry("activation_code"), later(72))
            .await
            .unwrap();
        // The first is replaced by the second; another person's number opens nothing.
        assert_eq!(
            store
                .activate("first", &key, "hash-1", &entry("activated"), later(73))
                .await
                .unwrap(),
            Activation::Used
        );
        assert_eq!(
            store
                .activate("second", &other, "hash-1", &entry("activated"), later(73))
                .await
                .unwrap(),
            Activation::Unknown
        );
        assert_eq!(
            store
                .activate("never", &key, "hash-1", &entry("activated"), later(73))
                .await
                .unwrap(),
            Activation::Unknown
        );
        assert_eq!(
            store.user("p-person").await.unwrap(),
            Some(user.clone()),
            "nothing written"
        );
        assert_eq!(
            store
                .activate("second", &key, "hash-2", &entry("activated"), later(74))
                .await
                .unwrap(),
            Activation::Activated {
                username: "p-person".into()
            }
        );
        let active = store.user("p-person").await.unwrap().unwrap();
        assert_eq!(
            (active.password_hash.as_str(), active.disabled),
            ("hash-2", false)
        );
        assert_eq!(
            store
                .activate("second", &key, "hash-3", &entry("activated"), later(75))
                .await
                .unwrap(),
            Activation::Used
        );
        assert_eq!(
            store.user("p-person").await.unwrap().unwrap().password_hash,
            "hash-2"
        );
        let log = store.audit_entries(0, 1000).await.unwrap();
        let outcomes: Vec<&str> = log.iter().map(|e| e.outcome.as_str()).collect();
        assert_eq!(
            outcomes.iter().filter(|o| **o == "activated").count(),
            1,
            "{outcomes:?}"
        );
        assert_eq!(
            outcomes.iter().filter(|o| **o == "activation_code").count(),
            2
        );
    }
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!(
        "fengcun-contract-{}-activation",
        std::process::id()
    )));
}

/// The supervision engine's saved state: none at first, then the last one saved, whole.
#[tokio::test]
async fn the_supervision_state_is_kept_as_the_last_round_saved_it() {
    use fengcun_store::prelude::AuditStore;
    for store in stores("supervision_state").await {
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(store.supervision_state().await.unwrap(), None);
        let first: Vec<u8> = (0..=255u8).collect();
        store.put_supervision_state(10, &first, now).await.unwrap();
        assert_eq!(
            store.supervision_state().await.unwrap(),
            Some((10, first.clone()))
        );
        let second = b"{\"next\":5000000000}".repeat(1000);
        store
            .put_supervision_state(5_000_000_000, &second, now)
            .await
            .unwrap();
        assert_eq!(
            store.supervision_state().await.unwrap(),
            Some((5_000_000_000, second))
        );
    }
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!(
        "fengcun-contract-{}-supervision_state",
        std::process::id()
    )));
}

/// An enrolment opened by one clerk is confirmed by another of its counter, once, before it
/// expires, for the person it was opened for; only the confirmation stores a code. A refused
/// confirmation writes nothing: no code, no audit entry, the enrolment still waiting.
#[tokio::test]
async fn an_enrolment_is_confirmed_once_by_a_second_clerk_of_its_counter() {
    use fengcun_store::{
        Activation, ActivationRow, AuditEvent, AuditKind, Confirmation, EnrolmentRow,
    };
    for store in stores("enrolment").await {
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let later = |hours: i64| {
            now.checked_add(jiff::SignedDuration::from_hours(hours))
                .unwrap()
        };
        let key = store.person_key("id:110105199003070025");
        let other = store.person_key("id:11010519491231002X");
        let enrolment = |id: &str, agency: &str, at: jiff::Timestamp| EnrolmentRow {
            enrolment_id: id.into(),
            username: "p-person".into(),
            person_key: key.clone(),
            name_digest: "digest-of-the-name".into(),
            agency: agency.into(),
            created_by: "user:li".into(),
            created_at: at,
            expires_at: at
                .checked_add(jiff::SignedDuration::from_hours(24))
                .unwrap(),
        };
        let code = |hash: &str, person: &str| ActivationRow {
            code_hash: hash.into(),
            username: "p-person".into(),
            person_key: person.into(),
            created_by: "user:wang".into(),
            expires_at: later(72),
        };
        let entry = |outcome: &str| [AuditEvent::new(AuditKind::UserChanged, "counter", outcome)];
        let open = |e: EnrolmentRow, at: jiff::Timestamp| {
            let store = &store;
            async move {
                store
                    .put_enrolment(&e, 2, &entry("enrolment_opened"), at)
                    .await
                    .unwrap()
            }
        };
        let first = enrolment("EN-FIRST", "110105-ga", now);
        assert!(open(first.clone(), now).await);
        // Another person's, at the court's counter.
        let court = EnrolmentRow {
            username: "p-other".into(),
            person_key: other.clone(),
            ..enrolment("EN-COURT", "110105-fy", later(1))
        };
        assert!(open(court, later(1)).await);
        // At most two waiting for this clerk at this counter: a third is refused, writing nothing.
        assert!(open(enrolment("EN-SECOND", "110105-ga", now), now).await);
        assert!(!open(enrolment("EN-THIRD", "110105-ga", now), now).await);
        let waiting = |agency: &'static str, at: jiff::Timestamp| {
            let store = &store;
            async move {
                store
                    .waiting_enrolments(agency, at)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.enrolment_id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            waiting("110105-ga", later(2)).await,
            ["EN-FIRST", "EN-SECOND"]
        );
        assert_eq!(
            store
                .waiting_enrolments("110105-ga", later(2))
                .await
                .unwrap()[0],
            first
        );
        let confirm = |id: &'static str,
                       agency: &'static str,
                       who: &'static str,
                       hash: &'static str,
                       person: String,
                       at: jiff::Timestamp| {
            let store = &store;
            let code = code(hash, &person);
            async move {
                store
                    .confirm_enrolment(id, agency, who, &code, &entry("activation_code"), at)
                    .await
                    .unwrap()
            }
        };
        // Refused, each writing nothing.
        assert_eq!(
            confirm(
                "EN-FIRST",
                "110105-fy",
                "user:wang",
                "c1",
                key.clone(),
                later(2)
            )
            .await,
            Confirmation::Unknown,
            "another counter's clerk"
        );
        assert_eq!(
            confirm(
                "EN-FIRST",
                "110105-ga",
                "user:li",
                "c2",
                key.clone(),
                later(2)
            )
            .await,
            Confirmation::SameClerk
        );
        assert_eq!(
            confirm(
                "EN-FIRST",
                "110105-ga",
                "user:wang",
                "c3",
                other.clone(),
                later(2)
            )
            .await,
            Confirmation::OtherPerson
        );
        assert_eq!(
            confirm(
                "EN-NEVER",
                "110105-ga",
                "user:wang",
                "c4",
                key.clone(),
                later(2)
            )
            .await,
            Confirmation::Unknown
        );
        for hash in ["c1", "c2", "c3", "c4"] {
            assert_eq!(
                store
                    .activate(hash, &key, "h", &entry("activated"), later(3))
                    .await
                    .unwrap(),
                Activation::Unknown,
                "no code {hash} was stored"
            );
        }
        assert_eq!(
            waiting("110105-ga", later(2)).await,
            ["EN-FIRST", "EN-SECOND"]
        );
        // Confirmed by the second clerk: the code is stored, once; the enrolment leaves the list,
        // and so does the same person's other one (it would set the password again).
        assert_eq!(
            confirm(
                "EN-FIRST",
                "110105-ga",
                "user:wang",
                "good",
                key.clone(),
                later(2)
            )
            .await,
            Confirmation::Confirmed
        );
        assert_eq!(
            confirm(
                "EN-FIRST",
                "110105-ga",
                "user:zhao",
                "again",
                key.clone(),
                later(2)
            )
            .await,
            Confirmation::Done
        );
        assert!(waiting("110105-ga", later(2)).await.is_empty());
        // Refusals for another number or name are counted; the third closes the enrolment.
        let refuse = |hours: i64| {
            let store = &store;
            async move {
                store
                    .refuse_enrolment("EN-COURT", "110105-fy", 3, &entry("refused"), later(hours))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(refuse(2).await, 1);
        assert_eq!(refuse(3).await, 2);
        assert_eq!(waiting("110105-fy", later(4)).await, ["EN-COURT"]);
        assert_eq!(refuse(4).await, 3);
        // Closed at once — the same second, not from the next one — and never confirmed.
        assert!(
            waiting("110105-fy", later(4)).await.is_empty(),
            "closed at the third refusal"
        );
        assert_eq!(
            confirm(
                "EN-COURT",
                "110105-fy",
                "user:zhao",
                "late",
                other.clone(),
                later(4)
            )
            .await,
            Confirmation::Closed
        );
        // The same person's other enrolment, closed by EN-FIRST's confirmation, likewise.
        assert_eq!(
            confirm(
                "EN-SECOND",
                "110105-ga",
                "user:wang",
                "second",
                key.clone(),
                later(2)
            )
            .await,
            Confirmation::Closed
        );
        // Expired: a waiting one past its 24 hours.
        let stale = EnrolmentRow {
            username: "p-third".into(),
            created_by: "user:zhou".into(),
            ..enrolment("EN-STALE", "110105-ga", now)
        };
        assert!(open(stale, now).await);
        assert_eq!(
            confirm(
                "EN-STALE",
                "110105-ga",
                "user:wang",
                "stale",
                key.clone(),
                later(25)
            )
            .await,
            Confirmation::Expired
        );
        let log = store.audit_entries(0, 1000).await.unwrap();
        let outcomes: Vec<&str> = log.iter().map(|e| e.outcome.as_str()).collect();
        assert_eq!(
            outcomes,
            [
                "enrolment_opened",
                "enrolment_opened",
                "enrolment_opened",
                "activation_code",
                "refused",
                "refused",
                "refused",
                "enrolment_opened"
            ]
        );
    }
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("fengcun-contract-{}-enrolment", std::process::id())),
    );
}

/// Migration 0012: the person accounts enrolled before the role `person` existed (requesters of
/// kind `person`) become persons; other requesters stay as they were.
#[tokio::test]
async fn person_accounts_from_before_the_portal_get_the_role_person() {
    use fengcun_store::UserRow;
    for url in fresh_urls("person_role_migration").await {
        let keys = Keys::new(MasterKey::generate());
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let person = UserRow {
            username: "person-a".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Requester,
            requester_kind: Some(RequesterKind::Person),
            agency: None,
            person_key: Some(store.person_key("id:110105199003070025")),
            name: Some("张三".into()),
            disabled: false,
        };
        let employer = UserRow {
            username: "hr-wang".into(),
            requester_kind: Some(RequesterKind::Employer),
            person_key: None,
            name: None,
            ..person.clone()
        };
        store.put_user(&person, &[], now).await.unwrap();
        store.put_user(&employer, &[], now).await.unwrap();
        sqlx::raw_sql("DELETE FROM schema_version WHERE version >= 12")
            .execute(store.pool())
            .await
            .unwrap();
        drop(store);
        let store = fengcun_store::open(&url, keys).await.unwrap();
        let migrated = store.user("person-a").await.unwrap().unwrap();
        assert_eq!(migrated.role, Role::Person, "{url}");
        assert_eq!(migrated.name.as_deref(), Some("张三"));
        assert_eq!(
            store.user("hr-wang").await.unwrap().unwrap().role,
            Role::Requester
        );
    }
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!(
        "fengcun-contract-{}-person_role_migration",
        std::process::id()
    )));
}

/// Supervision flags (migration 0015): kept once by id, listed in period order, reviewed once
/// with the review's audit entry in the same transaction, counted open by rule.
#[tokio::test]
async fn supervision_flags_are_kept_once_and_reviewed_once() {
    for store in stores("supervision_flags").await {
        let now: jiff::Timestamp = "2025-03-10T02:00:00Z".parse().unwrap();
        let flag = |id: &str, rule: &str, from: &str| fengcun_store::FlagRow {
            id: id.into(),
            rule: rule.into(),
            pattern: "run".into(),
            subject: "key:abc".into(),
            other: None,
            period_from: from.into(),
            period_until: "2025-03-09T02:31:00Z".into(),
            score: 14.0,
            entries: "[3,4,5]".into(),
            persons: "[\"p1\"]".into(),
            found_at: now.to_string(),
            conclusion: None,
            reviewed_by: None,
            reviewed_at: None,
            note: None,
        };
        let b = flag("00000000000000b2", "hours", "2025-03-08T16:00:00Z");
        let a = flag("00000000000000a1", "fishing", "2025-03-09T02:00:00Z");
        assert_eq!(store.put_flags(&[a.clone(), b.clone()]).await.unwrap(), 2);
        assert_eq!(
            store.put_flags(std::slice::from_ref(&a)).await.unwrap(),
            0,
            "kept once"
        );
        assert_eq!(store.flags(false).await.unwrap(), [b.clone(), a.clone()]);
        assert_eq!(
            store.open_flags_by_rule().await.unwrap(),
            [("fishing".to_owned(), 1), ("hours".to_owned(), 1)]
        );
        let size = store.audit_entries(0, 100).await.unwrap().len();
        let entry = fengcun_store::AuditEvent::new(
            fengcun_store::AuditKind::FlagReviewed,
            "user:wang",
            "referred",
        )
        .subject("flag:00000000000000a1");
        assert!(
            store
                .review_flag(
                    &a.id,
                    "user:wang",
                    "referred",
                    "移送核查",
                    std::slice::from_ref(&entry),
                    now
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .review_flag(
                    &a.id,
                    "user:li",
                    "no_issue",
                    "再审",
                    std::slice::from_ref(&entry),
                    now
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .review_flag("none", "user:li", "no_issue", "再审", &[entry], now)
                .await
                .unwrap()
        );
        let reviewed = store.flag(&a.id).await.unwrap().unwrap();
        assert_eq!(reviewed.conclusion.as_deref(), Some("referred"));
        assert_eq!(reviewed.reviewed_by.as_deref(), Some("user:wang"));
        assert_eq!(reviewed.note.as_deref(), Some("移送核查"));
        let log = store.audit_entries(0, 100).await.unwrap();
        assert_eq!(log.len(), size + 1, "one entry: the review that happened");
        assert_eq!(log[size].kind, fengcun_store::AuditKind::FlagReviewed);
        assert_eq!(store.flags(true).await.unwrap(), [b]);
        assert_eq!(
            store.open_flags_by_rule().await.unwrap(),
            [("hours".to_owned(), 1)]
        );
    }
}

/// Every value of every row of the tables of events (`event_ids`, the records' lists in
/// `records.events` with their keys and, from before migration 27, `events`), as text where it is
/// text and as bytes otherwise.
async fn event_row_values(store: &SqlStore) -> Vec<(String, Vec<u8>)> {
    use sqlx::{Column, Row};
    let mut rows = Vec::new();
    for select in [
        "SELECT * FROM event_ids",
        "SELECT person, case_code, events FROM records WHERE events IS NOT NULL",
        "SELECT * FROM events",
    ] {
        rows.extend(sqlx::query(select).fetch_all(store.pool()).await.unwrap());
    }
    let mut values = Vec::new();
    for row in &rows {
        for (i, column) in row.columns().iter().enumerate() {
            let value = if let Ok(text) = row.try_get::<String, _>(i) {
                text.into_bytes()
            } else if let Ok(bytes) = row.try_get::<Vec<u8>, _>(i) {
                bytes
            } else {
                row.try_get::<i64, _>(i).unwrap().to_string().into_bytes()
            };
            values.push((column.name().to_owned(), value));
        }
    }
    values
}

/// Two records' events, the second's idempotency keys holding the identity number (as agencies'
/// keys often do), received at two times.
fn two_records() -> (Vec<ValidEvent>, Vec<ValidEvent>) {
    let first = conviction(
        "110105-2024-001701",
        ZHANG,
        "危险驾驶罪",
        sentence("criminal_detention", Some(2)),
        "2024-01-10",
        "2024-03-01",
        "2024-03-12",
    );
    let mut second = conviction(
        "110105-2024-001702",
        "110105199507070029",
        "盗窃罪",
        sentence("fixed_term", Some(6)),
        "2024-02-10",
        "2024-04-01",
        "2024-04-12",
    );
    for (i, e) in second.iter_mut().enumerate() {
        e.event.idempotency_key = format!("110105199507070029-{i}");
    }
    (first, second)
}

/// An event row keeps neither the idempotency key nor the identity number in clear (nor the
/// person key's hex): the key, which agencies often make of the identity number, is only in the
/// sealed body; the row holds its keyed MAC.
#[tokio::test]
async fn event_rows_keep_no_idempotency_key_in_clear() {
    let (first, second) = two_records();
    for store in stores("events_no_plain_key").await {
        let backend = format!("{:?}", store.backend());
        store
            .ingest(&first, &ctx("cn-minor-opt1", "2024-06-01T00:00:00Z"))
            .await
            .unwrap();
        store
            .ingest(&second, &ctx("cn-minor-opt1", "2024-06-02T08:30:00Z"))
            .await
            .unwrap();
        let values = event_row_values(&store).await;
        assert!(!values.is_empty(), "{backend}");
        let person_key = store.keys().person_key("110105199507070029");
        for needle in [
            "110105199507070029",
            "110105-2024-001701-filed",
            person_key.as_str(),
        ] {
            for (column, value) in &values {
                assert!(
                    !value.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{backend}: column {column} holds {needle}"
                );
            }
        }
    }
}

/// A store whose events are as migrations 1–16 left them (plain idempotency keys, bodies sealed
/// under them, text times) is converted when it is opened with its key, and reads back exactly
/// as before: every event with its arrival time, in order, the timelines (kind, agency, date,
/// document number, arrival), the states; re-sends are duplicates, a changed re-send a conflict,
/// another agency may use a used key, and new events are numbered after the old ones. Opened
/// without the key first, it is migrated and its rows wait for the key. Setting schema_version
/// back once converted changes nothing.
#[tokio::test]
async fn events_stored_before_migration_17_are_converted_without_loss() {
    let (first, second) = two_records();
    for url in fresh_urls("compact_events").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let (c1, c2) = (
            ctx("cn-minor-opt1", "2024-06-01T00:00:00Z"),
            ctx("cn-minor-opt1", "2024-06-02T08:30:00Z"),
        );
        store.ingest(&first, &c1).await.unwrap();
        store.ingest(&second, &c2).await.unwrap();
        let events = store.events().await.unwrap();
        let received: Vec<String> = events.iter().map(|(_, at)| at.to_string()).collect();
        assert_eq!(
            received,
            [
                vec!["2024-06-01T00:00:00Z"; 4],
                vec!["2024-06-02T08:30:00Z"; 4]
            ]
            .concat(),
            "{url}"
        );
        let stored: Vec<ValidEvent> = events.iter().map(|(e, _)| e.clone()).collect();
        assert_eq!(stored, [first.clone(), second.clone()].concat(), "{url}");
        let timelines_a = store.timelines("110105-2024-001701", None).await.unwrap();
        let timelines_b = store.timelines("110105-2024-001702", None).await.unwrap();
        assert_eq!(timelines_b[0].events.len(), 4, "{url}");
        assert_eq!(timelines_b[0].events[2].kind, "judgment", "{url}");
        assert_eq!(timelines_b[0].events[2].agency_code, "110105-fy", "{url}");
        assert_eq!(timelines_b[0].events[2].date, "2024-04-01", "{url}");
        assert_eq!(
            timelines_b[0].events[2].received_at, "2024-06-02T08:30:00Z",
            "{url}"
        );
        let states = (
            state(&store, "110105-2024-001701", ZHANG).await,
            state(&store, "110105-2024-001702", "110105199507070029").await,
        );

        store
            .put_events_back_as_before_migration_17()
            .await
            .unwrap();
        let old: Vec<(String,)> = sqlx::query_as("SELECT idempotency_key FROM events ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(old.len(), 8, "{url}: the old layout, with its plain keys");
        let old_hashes: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT content_hash FROM events")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            old_hashes.iter().all(|(h,)| h.len() == 33 && h[0] == 1),
            "{url}: the content MACs of before, 0x01 and 32 bytes"
        );
        assert_eq!(old[4].0, "110105199507070029-0", "{url}");
        drop(store);
        // Opened without the key first (the audit commands): migrated, not converted yet.
        let unkeyed = fengcun_store::open_without_master_key(&url, keys.suite())
            .await
            .unwrap();
        let waiting: (i64, i64) = (
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM events_v16")
                .fetch_one(unkeyed.pool())
                .await
                .unwrap()
                .0,
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM events")
                .fetch_one(unkeyed.pool())
                .await
                .unwrap()
                .0,
        );
        assert_eq!(waiting, (8, 0), "{url}: the old rows wait for the key");
        drop(unkeyed);

        for round in ["converted", "schema_version set back"] {
            let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
            assert_eq!(store.events().await.unwrap(), events, "{url} {round}");
            assert_eq!(
                store.timelines("110105-2024-001701", None).await.unwrap(),
                timelines_a,
                "{url} {round}"
            );
            assert_eq!(
                store.timelines("110105-2024-001702", None).await.unwrap(),
                timelines_b,
                "{url} {round}"
            );
            assert_eq!(
                (
                    state(&store, "110105-2024-001701", ZHANG).await,
                    state(&store, "110105-2024-001702", "110105199507070029").await,
                ),
                states,
                "{url} {round}"
            );
            let left: Result<Vec<(i64,)>, _> = sqlx::query_as("SELECT seq FROM events_v16")
                .fetch_all(store.pool())
                .await;
            assert!(left.is_err(), "{url} {round}: the old table is dropped");
            assert!(
                next_event_number(&store).await > highest_old_number(&store).await,
                "{url} {round}: new events are numbered after the converted ones"
            );
            let hashes: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT content_hash FROM events")
                .fetch_all(store.pool())
                .await
                .unwrap();
            assert!(
                hashes.iter().all(|(h,)| h.len() == 8),
                "{url} {round}: 8-byte content MACs, as the store writes them now"
            );
            sqlx::raw_sql("DELETE FROM schema_version WHERE version >= 17")
                .execute(store.pool())
                .await
                .unwrap();
        }

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(
            store
                .ingest(&[first.clone(), second.clone()].concat(), &c2)
                .await
                .unwrap(),
            vec![LineOutcome::Duplicate; 8],
            "{url}"
        );
        let mut changed = second[2].clone();
        changed.event.date = "2024-04-02".into();
        assert!(
            matches!(
                store.ingest(&[changed], &c2).await,
                Err(StoreError::Conflict { line: 1, .. })
            ),
            "{url}"
        );
        // Another agency's event under a key the court used: its own.
        let other_agency = event(
            &second[2].event.idempotency_key,
            "investigation",
            "2024-05-01",
            "110105-2024-001702",
            police("110105-2024-001702"),
            "110105199507070029",
            json!({}),
        );
        assert_eq!(
            store
                .ingest(std::slice::from_ref(&other_agency), &c2)
                .await
                .unwrap(),
            vec![LineOutcome::Stored],
            "{url}"
        );
        let after = store.events().await.unwrap();
        assert_eq!(after.len(), 9, "{url}");
        assert_eq!(after[..8], events[..], "{url}");
        assert_eq!(
            after[8].0, other_agency,
            "{url}: numbered after the old events"
        );
    }
}

/// An old event whose body does not open stops neither the opening nor the conversion of the
/// others: it is copied with its content MAC of before (so a re-send of it is still a duplicate and
/// a changed one a conflict) and kept in `events_v16` with its plain key; the other records read
/// back as before.
#[tokio::test]
async fn an_old_event_that_does_not_open_is_kept_and_still_recognised() {
    let (first, second) = two_records();
    for url in fresh_urls("compact_events_damaged").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        store.ingest(&first, &c).await.unwrap();
        store.ingest(&second, &c).await.unwrap();
        let timelines_a = store.timelines("110105-2024-001701", None).await.unwrap();
        store
            .put_events_back_as_before_migration_17()
            .await
            .unwrap();
        sqlx::query("UPDATE events SET body = $1 WHERE idempotency_key = $2")
            .bind(vec![0u8; 40])
            .bind(second[1].event.idempotency_key.as_str())
            .execute(store.pool())
            .await
            .unwrap();
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let kept: Vec<(String,)> = sqlx::query_as("SELECT idempotency_key FROM events_v16")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(
            kept,
            vec![(second[1].event.idempotency_key.clone(),)],
            "{url}"
        );
        assert_eq!(store.counts().await.unwrap().events, 8, "{url}");
        assert_eq!(
            store.timelines("110105-2024-001701", None).await.unwrap(),
            timelines_a,
            "{url}"
        );
        assert_eq!(
            store
                .ingest(std::slice::from_ref(&second[1]), &c)
                .await
                .unwrap(),
            vec![LineOutcome::Duplicate],
            "{url}"
        );
        let mut changed = second[1].clone();
        changed.event.date = "2024-04-02".into();
        assert!(
            matches!(
                store.ingest(&[changed], &c).await,
                Err(StoreError::Conflict { line: 1, .. })
            ),
            "{url}"
        );
        drop(store);
        // Opened again: nothing more to convert, the kept row stays.
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(store.counts().await.unwrap().events, 8, "{url}");
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events_v16")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(left, 1, "{url}");
    }
}

/// Puts a database's audit entries back as migrations 1–18 left them: time, subject and detail in
/// clear, no packed columns, the index of times over the text, migration 19 not applied.
async fn audit_before_migration_19(store: &SqlStore) {
    let entries = store.audit_entries(0, 1_000_000).await.unwrap();
    for entry in &entries {
        sqlx::query("UPDATE audit_entries SET at = $1, subject = $2, detail = $3 WHERE seq = $4")
            .bind(entry.at.clone())
            .bind(entry.subject.clone())
            .bind(entry.detail.clone())
            .bind(entry.seq as i64)
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::raw_sql(
        "DROP INDEX audit_by_second;
         DROP INDEX IF EXISTS audit_unpacked;
         ALTER TABLE audit_entries DROP COLUMN detail_packed;
         ALTER TABLE audit_entries DROP COLUMN subject_packed;
         ALTER TABLE audit_entries DROP COLUMN at_s;
         CREATE INDEX audit_by_time ON audit_entries (at, seq);
         DELETE FROM schema_version WHERE version >= 19;",
    )
    .execute(store.pool())
    .await
    .unwrap();
}

/// Migration 19: an audit log stored before it (subject and detail in clear) is converted when
/// the store opens — even without the master key, as the audit commands open it — into packed
/// rows, and every entry reads back as it did (page, search by subject, "who looked"), the log
/// verifies against the head signed before the conversion, and the proofs of before are the same.
/// A packed column altered afterwards is reported as an altered entry.
#[tokio::test]
async fn audit_rows_of_before_migration_19_are_packed_and_read_back_identical() {
    use fengcun_crypto::{SigningKey, Suite};
    use fengcun_store::{AuditEvent, AuditKind};
    for url in fresh_urls("auditrows").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        // Transitions' entries, as the import writes them.
        let mut events = ended("convicted", "110105-2024-000953", ZHANG, "2024-03-01", 6);
        events.extend(ended(
            "acquitted",
            "110105-2024-000954",
            ZHANG,
            "2024-04-01",
            8,
        ));
        store
            .ingest(&events, &ctx("cn-minor-opt1", "2026-06-01T00:00:00Z"))
            .await
            .unwrap();
        let person = "ab".repeat(32);
        let record = format!("record:{person}/110105-2024-000955");
        let now: jiff::Timestamp = "2026-06-02T00:00:00Z".parse().unwrap();
        store
            .audit(
                &[
                    AuditEvent::new(AuditKind::Lookup, "user:police", "records")
                        .subject(record.clone())
                        .concerning(person.clone())
                        .detail(json!({"purpose": "侦查", "records": 2})),
                    AuditEvent::new(AuditKind::Read, "user:a", "request")
                        .subject("request:7")
                        .purpose("审查"),
                    AuditEvent::new(AuditKind::Read, "user:a", "notices"),
                    // Upper-case hex is no person key this platform writes: kept as it is.
                    AuditEvent::new(AuditKind::Read, "user:a", "records")
                        .subject(format!("record:{}/x", "AB".repeat(32))),
                    AuditEvent::new(AuditKind::Read, "user:a", "records").subject("record:short/x"),
                ],
                now,
            )
            .await
            .unwrap();
        let signer = SigningKey::generate(Suite::Sm);
        let head = store
            .sign_tree_head(&signer, now, true)
            .await
            .unwrap()
            .unwrap();
        let before = store.audit_entries(0, 1000).await.unwrap();
        let size = before.len() as u64;
        assert!(size >= 7, "{url}: {size} entries");
        let transition = before
            .iter()
            .find(|e| e.kind == AuditKind::Transition)
            .expect("a transition's entry");
        assert!(
            transition
                .subject
                .as_deref()
                .unwrap()
                .starts_with("record:"),
            "{url}"
        );
        let by_subject = |store: &SqlStore, subject: String| {
            let filter = fengcun_store::AuditFilter {
                subject: Some(subject),
                limit: 100,
                ..Default::default()
            };
            let store = store.clone();
            async move { store.audit_search(&filter).await.unwrap() }
        };
        let proofs = |store: &SqlStore| {
            let store = store.clone();
            async move {
                let mut proofs = Vec::new();
                for index in 0..size {
                    proofs.push(store.inclusion_proof(index, size).await.unwrap());
                }
                proofs.push(store.consistency_proof(2, size).await.unwrap());
                proofs
            }
        };
        // By time: the entries of `now` alone, and those before it alone.
        let by_time = |store: &SqlStore, since: Option<&str>, until: Option<&str>| {
            let filter = fengcun_store::AuditFilter {
                since: since.map(|t| t.parse().unwrap()),
                until: until.map(|t| t.parse().unwrap()),
                limit: 100,
                ..Default::default()
            };
            let store = store.clone();
            async move { store.audit_search(&filter).await.unwrap() }
        };
        let times = [
            (Some("2026-06-02T00:00:00Z"), Some("2026-06-02T00:00:01Z")),
            (None, Some("2026-06-02T00:00:00Z")),
            (Some("2026-06-01T23:59:59.6Z"), None),
        ];
        let mut by_times = Vec::new();
        for (since, until) in times {
            by_times.push(by_time(&store, since, until).await);
        }
        assert_eq!(by_times[0].len(), 5, "{url}");
        assert_eq!(by_times[0], by_times[2], "{url}");
        assert_eq!(by_times[1].len() + 5, before.len(), "{url}");
        let searched = by_subject(&store, record.clone()).await;
        assert_eq!(searched.len(), 1, "{url}");
        let transition_subject = transition.subject.clone().unwrap();
        let searched_transition = by_subject(&store, transition_subject.clone()).await;
        assert!(!searched_transition.is_empty(), "{url}");
        let looked = store.audit_concerning(&person, None, 10).await.unwrap();
        assert_eq!(looked.len(), 1, "{url}");
        let proofs_before = proofs(&store).await;
        audit_before_migration_19(&store).await;
        assert!(
            !table_shape(&store, "audit_entries")
                .await
                .0
                .contains(&"detail_packed".to_owned()),
            "{url}"
        );
        drop(store);

        for round in ["converted", "converted again", "schema_version set back"] {
            // Without the master key, as `fengcun audit verify` opens the store.
            let store = fengcun_store::open_without_master_key(&url, Suite::Sm)
                .await
                .unwrap();
            assert_eq!(
                store.audit_entries(0, 1000).await.unwrap(),
                before,
                "{url} {round}"
            );
            let indexes = table_shape(&store, "audit_entries").await.1;
            assert!(
                indexes.contains(&"audit_by_second".to_owned())
                    && !indexes.contains(&"audit_by_time".to_owned()),
                "{url} {round}: {indexes:?}"
            );
            // Every row packed: the detail's text column empty, a record's subject only packed.
            // The time only in seconds. seq, subject, detail, subject_packed, detail_packed, at,
            // at_s.
            type Row = (
                i64,
                Option<String>,
                String,
                Option<Vec<u8>>,
                Option<Vec<u8>>,
                String,
                Option<i64>,
            );
            let rows: Vec<Row> =
                sqlx::query_as(
                    "SELECT seq, subject, detail, subject_packed, detail_packed, at, at_s FROM audit_entries ORDER BY seq",
                )
                .fetch_all(store.pool())
                .await
                .unwrap();
            for ((seq, subject, detail, subject_packed, detail_packed, at, at_s), entry) in
                rows.iter().zip(&before)
            {
                assert_eq!(detail, "", "{url} {round} entry {seq}");
                assert_eq!(at, "", "{url} {round} entry {seq}");
                let time: jiff::Timestamp = entry.at.parse().unwrap();
                assert_eq!(*at_s, Some(time.as_second()), "{url} {round} entry {seq}");
                let packed = detail_packed.as_ref().expect("a packed detail");
                // Never longer; a transition's detail (a few hundred bytes) well under half.
                assert!(
                    packed.len() <= entry.detail.len()
                        && (entry.detail.len() < 200 || packed.len() * 2 < entry.detail.len()),
                    "{url} {round} entry {seq}: {} bytes of {}",
                    packed.len(),
                    entry.detail.len()
                );
                let record_key = entry.subject.as_deref().is_some_and(|s| {
                    s.starts_with("record:")
                        && s.len() > 72
                        && s[7..71]
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                });
                if record_key {
                    assert_eq!(subject, &None, "{url} {round} entry {seq}");
                    assert_eq!(
                        subject_packed.as_ref().map(Vec::len),
                        Some(entry.subject.as_ref().unwrap().len() - 39),
                        "{url} {round} entry {seq}"
                    );
                } else {
                    assert_eq!(subject, &entry.subject, "{url} {round} entry {seq}");
                    assert_eq!(subject_packed, &None, "{url} {round} entry {seq}");
                }
            }
            assert_eq!(by_subject(&store, record.clone()).await, searched, "{url}");
            for ((since, until), found) in times.iter().zip(&by_times) {
                assert_eq!(
                    &by_time(&store, *since, *until).await,
                    found,
                    "{url} {round} {since:?}..{until:?}"
                );
            }
            assert_eq!(
                by_subject(&store, transition_subject.clone()).await,
                searched_transition,
                "{url} {round}"
            );
            assert_eq!(
                store.audit_concerning(&person, None, 10).await.unwrap(),
                looked,
                "{url} {round}"
            );
            // The head signed before the conversion: the log verifies against it, and the proofs
            // are those of before and verify against it.
            let report = store
                .verify_audit(&[head.to_json()], Some(&signer.verifying_key()))
                .await
                .unwrap();
            assert_eq!(
                (report.problem, report.entries, report.signatures_checked),
                (None, size, 2),
                "{url} {round}"
            );
            let proofs_after = proofs(&store).await;
            assert_eq!(proofs_after, proofs_before, "{url} {round}");
            let signed = head.verify(&signer.verifying_key()).unwrap();
            for (index, entry) in before.iter().enumerate() {
                let leaf = fengcun_ledger::Hasher::new(Suite::Sm).leaf_hash(&entry.leaf_bytes());
                signed
                    .verify_inclusion(index as u64, &leaf, &proofs_after[index])
                    .unwrap();
            }
            if round == "converted again" {
                sqlx::raw_sql("DELETE FROM schema_version WHERE version >= 19")
                    .execute(store.pool())
                    .await
                    .unwrap();
            }
        }

        // A packed detail altered: the entry is named, the audit does not fail.
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let blob = match store.backend() {
            fengcun_store::Backend::Sqlite => "X'0004ffff'",
            fengcun_store::Backend::Postgres => "'\\x0004ffff'::bytea",
        };
        sqlx::raw_sql(&format!(
            "UPDATE audit_entries SET detail_packed = {blob} WHERE seq = 3"
        ))
        .execute(store.pool())
        .await
        .unwrap();
        let report = store.verify_audit(&[], None).await.unwrap();
        assert!(
            matches!(
                report.problem,
                Some(fengcun_store::AuditProblem::Altered { entry: 3, .. })
            ),
            "{url}: {:?}",
            report.problem
        );
    }
}

/// Events; records by state code; notices by status.
type Counted = (i64, Vec<(String, i64)>, Vec<(String, i64)>);

/// The counts as the tables hold them.
async fn counted_from_tables(store: &SqlStore) -> Counted {
    // Events stored since migration 27 (`event_ids`) and before it (`events`).
    let (events,): (i64,) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM event_ids) + (SELECT COUNT(*) FROM events)")
            .fetch_one(store.pool())
            .await
            .unwrap();
    let by_state: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM records GROUP BY state ORDER BY state")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM notices GROUP BY status ORDER BY status")
            .fetch_all(store.pool())
            .await
            .unwrap();
    (events, by_state, by_status)
}

/// The counts as `counts` reads them (`tallies`, migration 21).
async fn counted_as_kept(store: &SqlStore) -> Counted {
    let counts = store.counts().await.unwrap();
    let by_state = counts
        .records_by_state
        .iter()
        .map(|(state, n)| (state.code().to_owned(), *n))
        .collect();
    let by_status = counts
        .notices_by_status
        .iter()
        .map(|(status, n)| (status.as_str().to_owned(), *n))
        .collect();
    (counts.events, by_state, by_status)
}

/// Counts kept as rows are written (migration 21) equal the tables' own counts after every kind
/// of write: events one at a time and as a batch, records created, decided again, sealed by the
/// scheduler, and re-decided under another policy; and the rows of changes are folded as they
/// accumulate, so a read sums few of them.
#[tokio::test]
async fn kept_counts_equal_the_tables_after_every_kind_of_write() {
    for store in stores("kept_counts").await {
        let backend = format!("{:?}", store.backend());
        let c = ctx("cn-minor-opt1", "2025-01-01T00:00:00Z");
        // 300 records, each filed in its own batch (300 writes of changes, one a batch: more
        // than a fold's interval of 256), then judged as one batch.
        let mut judged = Vec::new();
        for n in 0..300u32 {
            let case = format!("110105-2024-{:06}", 3000 + n);
            let id = format!("110105199001{:02}{:03}", 1 + n % 28, 100 + n);
            let first17: [u8; 17] = id.as_bytes().try_into().unwrap();
            let id = format!(
                "{id}{}",
                fengcun_domain::id_number::check_character(&first17)
            );
            let mut events = conviction(
                &case,
                &id,
                if n % 3 == 0 {
                    "盗窃罪"
                } else {
                    "危险驾驶罪"
                },
                if n % 3 == 0 {
                    sentence("fixed_term", Some(96))
                } else {
                    sentence("criminal_detention", Some(3))
                },
                "2024-01-10",
                "2024-03-01",
                "2024-03-12",
            );
            store.ingest(&events[..1], &c).await.unwrap();
            judged.extend(events.drain(1..));
        }
        assert_eq!(
            counted_as_kept(&store).await,
            counted_from_tables(&store).await,
            "{backend}: after the filings"
        );
        store.ingest(&judged, &c).await.unwrap();
        assert_eq!(
            counted_as_kept(&store).await,
            counted_from_tables(&store).await,
            "{backend}: after the judgments"
        );
        store
            .tick(&ctx("cn-minor-opt1", "2030-01-01T00:00:00Z"))
            .await
            .unwrap();
        store
            .change_policy(
                presets::get("cn-minor-tiered").unwrap(),
                &ctx("cn-minor-tiered", "2030-01-02T00:00:00Z"),
                true,
            )
            .await
            .unwrap();
        let (events, by_state, by_status) = counted_from_tables(&store).await;
        assert_eq!(events, 1_200, "{backend}");
        assert!(by_state.len() >= 2, "{backend}: {by_state:?}");
        assert_eq!(
            counted_as_kept(&store).await,
            (events, by_state, by_status),
            "{backend}: after the scheduler and a change of policy"
        );
        // Notices through every move: failed, queued again, delivered, acknowledged; and a
        // delivery repeated after the acknowledgement (no move).
        let now: jiff::Timestamp = "2030-01-03T00:00:00Z".parse().unwrap();
        let lease: jiff::Timestamp = "2030-01-03T00:05:00Z".parse().unwrap();
        let due = store.claim_due_notices(now, lease, 4).await.unwrap();
        assert_eq!(due.len(), 4, "{backend}");
        let failed = Delivery::Failed {
            error: "connection refused".into(),
            retry_at: None,
        };
        let retrying = Delivery::Failed {
            error: "timeout".into(),
            retry_at: Some(lease),
        };
        store
            .record_delivery(&due[0].notice_id, failed.clone(), now)
            .await
            .unwrap();
        store
            .record_delivery(&due[1].notice_id, failed, now)
            .await
            .unwrap();
        assert!(
            store
                .retry_failed_notice(&due[1].notice_id, "ops", now)
                .await
                .unwrap()
        );
        store
            .record_delivery(&due[2].notice_id, retrying, now)
            .await
            .unwrap();
        store
            .record_delivery(&due[3].notice_id, Delivery::Delivered, now)
            .await
            .unwrap();
        assert!(
            store
                .acknowledge(
                    &due[3].notice_id,
                    &due[3].recipient,
                    &due[3].ack_token,
                    "fy",
                    now
                )
                .await
                .unwrap()
        );
        store
            .record_delivery(&due[3].notice_id, Delivery::Delivered, now)
            .await
            .unwrap();
        let counted = counted_from_tables(&store).await;
        let statuses: Vec<&str> = counted.2.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            statuses,
            ["acknowledged", "available", "failed", "pending", "retrying"],
            "{backend}"
        );
        assert_eq!(
            counted_as_kept(&store).await,
            counted,
            "{backend}: after deliveries and an acknowledgement"
        );
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tallies")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(
            rows < 300,
            "{backend}: {rows} rows of changes, never folded"
        );
    }
}

/// A database from before migration 21 (no kept counts, records indexed by state) gets its
/// counts made from its tables when opened, and loses the index.
#[tokio::test]
async fn a_database_from_before_kept_counts_gets_them_from_its_tables() {
    let (first, second) = two_records();
    for url in fresh_urls("kept_counts_migration").await {
        let keys = Keys::new(MasterKey::generate());
        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        let c = ctx("cn-minor-opt1", "2024-06-01T00:00:00Z");
        store.ingest(&first, &c).await.unwrap();
        store.ingest(&second, &c).await.unwrap();
        sqlx::raw_sql(
            "DROP TABLE tallies; CREATE INDEX records_by_state ON records (state); \
             DELETE FROM schema_version WHERE version >= 21;",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let expected = counted_from_tables(&store).await;
        drop(store);

        let store = fengcun_store::open(&url, keys.clone()).await.unwrap();
        assert_eq!(expected.0, 8, "{url}");
        assert!(!expected.2.is_empty(), "{url}: notices counted");
        assert_eq!(counted_as_kept(&store).await, expected, "{url}");
        let index: Vec<(String,)> = sqlx::query_as(if url.starts_with("sqlite") {
            "SELECT name FROM sqlite_master WHERE name = 'records_by_state'"
        } else {
            "SELECT indexname FROM pg_indexes WHERE indexname = 'records_by_state'"
        })
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(index.is_empty(), "{url}: records_by_state kept");
    }
}

/// A transition an operator's policy change made reads back with the operator as its actor: only
/// the platform's own (`automatic`) is kept as the empty text (migration 28).
#[tokio::test]
async fn an_operators_transition_keeps_its_actor() {
    for store in stores("operator_actor").await {
        let c = ctx("cn-minor-opt3", "2024-06-01T00:00:00Z");
        let case = "110105-2024-001801";
        let identity = id_number(1);
        store
            .ingest(
                &conviction(
                    case,
                    &identity,
                    "盗窃罪",
                    sentence("fixed_term", Some(10)),
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-12",
                ),
                &c,
            )
            .await
            .unwrap();
        let opt1 = presets::get("cn-minor-opt1").unwrap();
        let by_operator = Context {
            actor: fengcun_lifecycle::Actor::Operator("ops-li".into()),
            ..c.clone()
        };
        store.change_policy(opt1, &by_operator, true).await.unwrap();
        let transitions = store
            .transitions(case, &format!("id:{identity}"))
            .await
            .unwrap();
        let actors: Vec<&str> = transitions.iter().map(|t| t.actor.as_str()).collect();
        assert_eq!(
            actors,
            ["automatic", "ops-li"],
            "{:?}: the import's, then the operator's",
            store.backend()
        );
    }
}
