//! The read side of a record's life, end to end through a real server on port 0: the list of
//! records, a record's timeline and the supervisor's numbers. Every test runs on a fresh SQLite
//! database and, when `FENGCUN_TEST_DATABASE_URL` is set, on a fresh PostgreSQL database too.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::sync::Arc;

use axum::http::StatusCode;
use fengcun_access::RequesterKind;
use fengcun_crypto::MasterKey;
use fengcun_server::config::key_digest;
use fengcun_server::{ApiKey, Config, FixedClock, Role};
use fengcun_store::{AgencyEndpoint, Keys};
use serde_json::{Value, json};

const OPERATOR: &str = "operator-key-for-records-tests";
const AUDITOR: &str = "auditor-key-for-records-tests";
/// A clerk of the court `110105-fy`, which sends the judgments of the tests' cases.
const COURT_CLERK: &str = "court-clerk-key-for-records-tests";
/// A clerk of the procuratorate `110105-jc`, which sends none of their events.
const PROCURATORATE_CLERK: &str = "procuratorate-clerk-key-for-records-tests";
const EMPLOYER: &str = "employer-key-for-records-tests";
const APPROVER: &str = "approver-key-for-records-tests";
/// The court's own system (an agency key, not a clerk).
const COURT_SYSTEM: &str = "court-system-key-for-records-tests";

const A: &str = "110105199003070025";
const B: &str = "11010519491231002X";
const C: &str = "110105198001010016";
const D: &str = "110105198002020013";
const E: &str = "110105198003030010";

/// Fresh databases to run a test on: a SQLite file, and a new PostgreSQL database if a server is
/// given (`FENGCUN_TEST_DATABASE_URL`).
async fn databases(test: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!(
        "fengcun-records-{}-{test}-{}",
        std::process::id(),
        fengcun_crypto::random_hex::<4>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.join("records.sqlite").display())];
    match std::env::var("FENGCUN_TEST_DATABASE_URL") {
        Ok(url) => urls.push(fresh_postgres_url(&url, test).await),
        Err(_) => {
            eprintln!("SKIPPED PostgreSQL: FENGCUN_TEST_DATABASE_URL is not set (.ci/run sets it)")
        }
    }
    urls
}

/// A new, empty PostgreSQL database for `test` beside the one `url` names; its URL.
async fn fresh_postgres_url(url: &str, test: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let name = format!("fengcun_records_{}_{}", test, std::process::id());
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

struct App {
    base: String,
    http: reqwest::Client,
    clock: Arc<FixedClock>,
    running: Option<fengcun_server::Running>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

fn key(
    name: &str,
    role: Role,
    agency: Option<&str>,
    kind: Option<RequesterKind>,
    key: &str,
) -> ApiKey {
    ApiKey {
        name: name.into(),
        role,
        agency: agency.map(str::to_owned),
        requester_kind: kind,
        key_sha256: key_digest(key),
    }
}

impl App {
    async fn start(database: &str, policy: &str, now: &str) -> App {
        let mut config = Config::load(None, std::iter::empty()).unwrap();
        config.listen = "127.0.0.1:0".into();
        config.database = database.to_owned();
        // The platform's signing key, beside the test's other files (a PostgreSQL database has
        // no directory of its own to keep it in).
        let dir = std::env::temp_dir().join(format!(
            "fengcun-records-keys-{}-{}",
            std::process::id(),
            fengcun_crypto::random_hex::<4>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let master = MasterKey::generate();
        let signing = fengcun_crypto::SigningKey::generate(master.suite())
            .to_pkcs8_pem()
            .unwrap();
        let path = dir.join("signing.pem");
        fengcun_server::keyfile::create(&path, &signing, fengcun_server::keyfile::Access::Owner)
            .unwrap();
        config.signing_key_file = Some(path);
        config.policy = policy.into();
        config.scheduler_interval_seconds = 3600;
        config.outbox_interval_seconds = 3600;
        config.api_keys = vec![
            key("ops", Role::Operator, None, None, OPERATOR),
            key("audit", Role::Auditor, None, None, AUDITOR),
            key(
                "fy-clerk",
                Role::Clerk,
                Some("110105-fy"),
                Some(RequesterKind::Court),
                COURT_CLERK,
            ),
            key(
                "jc-clerk",
                Role::Clerk,
                Some("110105-jc"),
                Some(RequesterKind::Procuratorate),
                PROCURATORATE_CLERK,
            ),
            key(
                "employer",
                Role::Requester,
                None,
                Some(RequesterKind::Employer),
                EMPLOYER,
            ),
            key(
                "approver",
                Role::Approver,
                None,
                Some(RequesterKind::Court),
                APPROVER,
            ),
            key(
                "fy-system",
                Role::Agency,
                Some("110105-fy"),
                None,
                COURT_SYSTEM,
            ),
        ];
        config.agencies = vec![
            AgencyEndpoint {
                code: "110105-fy".into(),
                kind: fengcun_domain::AgencyKind::Court,
                name: Some("某区人民法院".into()),
                endpoint: None,
            },
            AgencyEndpoint {
                code: "110105-ga".into(),
                kind: fengcun_domain::AgencyKind::PublicSecurity,
                name: Some("某区公安分局".into()),
                endpoint: None,
            },
            AgencyEndpoint {
                code: "110105-jc".into(),
                kind: fengcun_domain::AgencyKind::Procuratorate,
                name: Some("某区人民检察院".into()),
                endpoint: None,
            },
        ];
        let clock = Arc::new(FixedClock::new(now.parse().unwrap()));
        let store = Arc::new(
            fengcun_store::open(&config.database, Keys::new(master))
                .await
                .unwrap(),
        );
        let running = fengcun_server::start_with_store(config, store, clock.clone())
            .await
            .unwrap();
        App {
            base: format!("http://{}", running.address),
            http: reqwest::Client::new(),
            clock,
            running: Some(running),
        }
    }

    async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Status and raw body bytes, to compare two answers byte for byte.
    async fn get_raw(&self, path: &str, key: &str) -> (StatusCode, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.bytes().await.unwrap().to_vec())
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, events: &[Value]) {
        let (status, body) = self
            .post("/api/v1/events/batch", OPERATOR, &json!({"events": events}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Every audit entry, read by the auditor.
    async fn audit(&self) -> Vec<Value> {
        let (status, log) = self.get("/api/v1/audit/entries?limit=1000", AUDITOR).await;
        assert_eq!(status, StatusCode::OK, "{log}");
        log["entries"].as_array().unwrap().clone()
    }
}

fn agency(kind: &str) -> Value {
    let code = match kind {
        "public_security" => "110105-ga",
        "procuratorate" => "110105-jc",
        "court" => "110105-fy",
        _ => "110105-jy",
    };
    json!({"kind": kind, "code": code})
}

fn event(
    key: &str,
    kind: &str,
    date: &str,
    case: &str,
    from: &str,
    id: &str,
    extra: Value,
) -> Value {
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date, "case_code": case, "agency": agency(from),
        "person": {"id_number": id, "name": "张三丰"}});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

/// A case filed by the police and judged by the court (document `(<year>)某刑初<n>号`).
fn conviction(case: &str, id: &str, charge: &str, sentence: Value, dates: [&str; 3]) -> Vec<Value> {
    let [offence, judged, effective] = dates;
    vec![
        event(
            &format!("{case}/filed"),
            "filed",
            offence,
            case,
            "public_security",
            id,
            json!({"charges": [{"name": charge}], "offence_date": offence}),
        ),
        event(
            &format!("{case}/judgment"),
            "judgment",
            judged,
            case,
            "court",
            id,
            json!({"document_number": format!("({})某刑初{}号", &judged[..4], &case[12..]),
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": charge}], "sentence": sentence,
                "offence_date": offence, "recidivist": false, "prior_convictions": 0}}),
        ),
        event(
            &format!("{case}/effective"),
            "judgment_effective",
            effective,
            case,
            "court",
            id,
            json!({}),
        ),
    ]
}

fn timeline_path(case: &str, purpose: &str) -> String {
    format!("/api/v1/records/{case}?purpose={purpose}")
}

const SEALED: &str = "110105-2023-000401";
const NEW_CRIME: &str = "110105-2024-000402";

/// The reasons of cn-minor-opt1 (version 2) for a first offender's 危险驾驶罪 with two months of
/// 拘役: every eligibility rule holds, and the seal dates from the judgment's effect — rule ids and
/// bases as data/policies/cn-minor-opt1.toml writes them.
fn sealed_reasons() -> Vec<(&'static str, bool, &'static str)> {
    vec![
        (
            "final_disposition",
            true,
            "调研报告二(四)：以刑事程序终结为节点启动封存",
        ),
        (
            "threshold",
            true,
            "调研报告二(一)第一种意见；《刑法》第九十九条（以下包括本数）",
        ),
        (
            "excluded_charges",
            true,
            "调研报告二(二)：危害国家安全犯罪、恐怖活动犯罪、性侵犯罪、毒品犯罪、黑社会性质的组织犯罪、职务犯罪排除在封存之外；不起诉的，依其类型：酌定不起诉（《刑事诉讼法》第一百七十七条第二款：犯罪情节轻微，依照刑法规定不需要判处刑罚或者免除刑罚）同判决有罪；法定不起诉（第一百七十七条第一款、第十六条）、存疑不起诉（第一百七十五条第四款）、撤销案件和宣告无罪，依法不认定有罪，不适用本条；未成年人附条件不起诉（第二百八十二条至第二百八十四条）依照未成年人犯罪记录封存的规定（第二百八十六条），不适用本条",
        ),
        (
            "first_offender",
            true,
            "调研报告二(二)：限于初犯，排除累犯和再犯；《刑法》第六十五条、第六十六条；不起诉的，依其类型：酌定不起诉（《刑事诉讼法》第一百七十七条第二款：犯罪情节轻微，依照刑法规定不需要判处刑罚或者免除刑罚）同判决有罪；法定不起诉（第一百七十七条第一款、第十六条）、存疑不起诉（第一百七十五条第四款）、撤销案件和宣告无罪，依法不认定有罪，不适用本条；未成年人附条件不起诉（第二百八十二条至第二百八十四条）依照未成年人犯罪记录封存的规定（第二百八十六条），不适用本条",
        ),
        (
            "on_judgment_effective",
            true,
            "调研报告二(四)：自动封存，以刑事程序终结为节点",
        ),
    ]
}

fn assert_reasons(transition: &Value, expected: &[(&str, bool, &str)]) {
    let reasons = transition["reasons"].as_array().unwrap();
    let got: Vec<(&str, bool, &str)> = reasons
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap(),
                r["holds"].as_bool().unwrap(),
                r["basis"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{transition}");
    for reason in reasons {
        let text = reason["text"].as_str().unwrap();
        assert!(
            text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "not in Chinese: {text}"
        );
    }
}

/// A record sealed, then unsealed by a new crime: its timeline shows every event, both
/// transitions with the policy version and the reasons rule by rule (legal basis in Chinese), and
/// every notice of both; the read is a `lookup` entry with its purpose.
#[tokio::test]
async fn the_timeline_of_a_record_sealed_then_unsealed_by_a_new_crime() {
    for database in databases("timeline").await {
        let app = App::start(&database, "cn-minor-opt1", "2025-01-01T00:00:00Z").await;
        app.send(&conviction(
            SEALED,
            A,
            "危险驾驶罪",
            json!({"principal": "criminal_detention", "months": 2}),
            ["2023-01-01", "2023-03-01", "2023-03-12"],
        ))
        .await;
        app.clock.set("2025-02-01T00:00:00Z".parse().unwrap());
        app.send(&conviction(
            NEW_CRIME,
            A,
            "盗窃罪",
            json!({"principal": "fixed_term", "months": 7}),
            ["2024-05-01", "2024-08-01", "2024-08-12"],
        ))
        .await;
        let (status, timeline) = app
            .get(&timeline_path(SEALED, "operations"), OPERATOR)
            .await;
        assert_eq!(status, StatusCode::OK, "{timeline}");
        assert_eq!(timeline["case_code"], SEALED);
        let records = timeline["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{timeline}");
        let record = &records[0];
        assert_eq!(record["state"], "unsealed");
        assert_eq!(record["trigger"], "new_conviction");
        assert_eq!(
            record["person"],
            json!({"name": "张某", "id_number": "1101**********0025"})
        );
        // Every event: kind, sender, document number, date, arrival.
        let events: Vec<(&str, &str, Option<&str>, &str, &str)> = record["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap(),
                    e["agency"].as_str().unwrap(),
                    e["document_number"].as_str(),
                    e["date"].as_str().unwrap(),
                    e["received_at"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            events,
            vec![
                (
                    "filed",
                    "110105-ga",
                    None,
                    "2023-01-01",
                    "2025-01-01T00:00:00Z"
                ),
                (
                    "judgment",
                    "110105-fy",
                    Some("(2023)某刑初000401号"),
                    "2023-03-01",
                    "2025-01-01T00:00:00Z"
                ),
                (
                    "judgment_effective",
                    "110105-fy",
                    None,
                    "2023-03-12",
                    "2025-01-01T00:00:00Z"
                ),
            ]
        );
        // Both transitions, by the policy, with its version and every rule's reason.
        let transitions = record["transitions"].as_array().unwrap();
        assert_eq!(transitions.len(), 2, "{record}");
        let seal = &transitions[0];
        assert_eq!(
            (seal["from"].as_str(), seal["to"].as_str()),
            (None, Some("sealed")),
            "{seal}"
        );
        assert_eq!(seal["date"], "2023-03-12");
        assert_eq!(seal["at"], "2025-01-01T00:00:00Z");
        assert_eq!(
            (seal["policy"].as_str(), seal["policy_version"].as_str()),
            (Some("cn-minor-opt1"), Some("2"))
        );
        assert_eq!(seal["actor"], "automatic");
        assert_eq!(seal["outcome"], "seal");
        assert_eq!(seal["effective_date"], "2023-03-12");
        assert_eq!(seal["unseal"], Value::Null);
        assert_reasons(seal, &sealed_reasons());
        let unseal = &transitions[1];
        assert_eq!(
            (unseal["from"].as_str(), unseal["to"].as_str()),
            (Some("sealed"), Some("unsealed")),
            "{unseal}"
        );
        // Lifted on the day the platform learns of the new conviction.
        assert_eq!(unseal["date"], "2025-02-01");
        assert_eq!(unseal["at"], "2025-02-01T00:00:00Z");
        assert_eq!(
            (unseal["policy"].as_str(), unseal["policy_version"].as_str()),
            (Some("cn-minor-opt1"), Some("2"))
        );
        assert_eq!(unseal["trigger"], "new_conviction");
        assert_eq!(unseal["trigger_text"], "再犯新罪");
        assert_eq!(
            unseal["unseal"],
            json!({"rule": "unseal_new_crime", "trigger": "new_conviction",
            "text": "再犯新罪被判处刑罚，解除封存", "basis": "调研报告二(五)：再犯新罪的，应当解除封存"})
        );
        assert_eq!(unseal["as_of"], "2025-02-01");
        // The sealed record's own facts still meet every rule: what lifted it is the new crime.
        assert_reasons(unseal, &sealed_reasons());
        // Every notice: a seal and an unseal to each agency that sent events, and to the person.
        let notices: Vec<(&str, &str, &str, i64, bool, bool)> = record["notices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["kind"].as_str().unwrap(),
                    n["recipient"].as_str().unwrap(),
                    n["status"].as_str().unwrap(),
                    n["attempts"].as_i64().unwrap(),
                    n["delivered"].as_bool().unwrap(),
                    n["acknowledged"].as_bool().unwrap(),
                )
            })
            .collect();
        let mut sorted = notices.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            vec![
                ("seal", "110105-fy", "pending", 0, false, false),
                ("seal", "110105-ga", "pending", 0, false, false),
                ("seal", "person", "available", 0, false, false),
                ("unseal", "110105-fy", "pending", 0, false, false),
                ("unseal", "110105-ga", "pending", 0, false, false),
                ("unseal", "person", "available", 0, false, false),
            ]
        );
        // The read is in the log: a look-up of the case, for its purpose.
        let lookups: Vec<Value> = app
            .audit()
            .await
            .into_iter()
            .filter(|e| e["kind"] == "lookup")
            .collect();
        assert_eq!(lookups.len(), 1, "{lookups:?}");
        assert_eq!(lookups[0]["actor"], "ops");
        assert_eq!(lookups[0]["purpose"], "operations");
        assert_eq!(lookups[0]["outcome"], "timeline");
        assert_eq!(lookups[0]["subject"], format!("case:{SEALED}"));
    }
}

/// A sealed record's timeline: an operator and a clerk of the court that judged it read it; a
/// clerk of another agency, an employer and the court's own system get exactly the answer a case
/// code that does not exist gets. Every read, answered or not, is a `lookup` entry.
#[tokio::test]
async fn a_sealed_record_is_not_found_by_anyone_who_may_not_read_it() {
    for database in databases("not_found").await {
        let app = App::start(&database, "cn-minor-opt1", "2025-01-01T00:00:00Z").await;
        app.send(&conviction(
            SEALED,
            A,
            "危险驾驶罪",
            json!({"principal": "criminal_detention", "months": 2}),
            ["2023-01-01", "2023-03-01", "2023-03-12"],
        ))
        .await;
        let unknown = "110105-2023-009999";
        let (status, body) = app
            .get(&timeline_path(SEALED, "case_handling"), COURT_CLERK)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["records"][0]["state"], "sealed");
        assert_eq!(
            app.get(&timeline_path(SEALED, "operations"), OPERATOR)
                .await
                .0,
            StatusCode::OK
        );
        let (status, nothing) = app
            .get_raw(
                &timeline_path(unknown, "case_handling"),
                PROCURATORATE_CLERK,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            serde_json::from_slice::<Value>(&nothing).unwrap(),
            json!({"error": "not_found", "message": "not found", "line": null})
        );
        for (who, purpose) in [
            (PROCURATORATE_CLERK, "case_handling"),
            (EMPLOYER, "special_post_vetting"),
            (COURT_SYSTEM, "case_handling"),
        ] {
            let sealed = app.get_raw(&timeline_path(SEALED, purpose), who).await;
            let absent = app.get_raw(&timeline_path(unknown, purpose), who).await;
            assert_eq!(sealed, absent, "{who}");
            assert_eq!(sealed, (StatusCode::NOT_FOUND, nothing.clone()), "{who}");
        }
        // A purpose is required and named.
        let (status, body) = app
            .get(&format!("/api/v1/records/{SEALED}"), OPERATOR)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"].as_str().unwrap().starts_with("purpose:"),
            "{body}"
        );
        let (status, body) = app.get(&timeline_path(SEALED, "curiosity"), OPERATOR).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"].as_str().unwrap().starts_with("purpose:"),
            "{body}"
        );
        // Every read is in the log with its purpose and what it was answered.
        let lookups: Vec<(String, String, String, String)> = app
            .audit()
            .await
            .into_iter()
            .filter(|e| e["kind"] == "lookup")
            .map(|e| {
                (
                    e["actor"].as_str().unwrap().to_owned(),
                    e["purpose"].as_str().unwrap().to_owned(),
                    e["outcome"].as_str().unwrap().to_owned(),
                    e["subject"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let entry = |actor: &str, purpose: &str, outcome: &str, case: &str| {
            (
                actor.to_owned(),
                purpose.to_owned(),
                outcome.to_owned(),
                format!("case:{case}"),
            )
        };
        assert_eq!(
            lookups,
            vec![
                entry("fy-clerk", "case_handling", "timeline", SEALED),
                entry("ops", "operations", "timeline", SEALED),
                entry("jc-clerk", "case_handling", "no_record", unknown),
                entry("jc-clerk", "case_handling", "no_record", SEALED),
                entry("jc-clerk", "case_handling", "no_record", unknown),
                entry("employer", "special_post_vetting", "no_record", SEALED),
                entry("employer", "special_post_vetting", "no_record", unknown),
                entry("fy-system", "case_handling", "no_record", SEALED),
                entry("fy-system", "case_handling", "no_record", unknown),
            ]
        );
    }
}

/// Five records under cn-minor-tiered on 2025-06-01 (China): three pending seals due on
/// 2025-06-05, 2025-06-20 and 2025-09-01 (18 months of 有期徒刑: two years after execution is
/// completed), one sealed (拘役: at once), one only filed (open).
async fn five_records(app: &App) {
    let fraud = |case: &str, id: &str, completed: &str| {
        let mut events = conviction(
            case,
            id,
            "诈骗罪",
            json!({"principal": "fixed_term", "months": 18}),
            ["2021-01-01", "2021-11-01", "2021-11-12"],
        );
        events.push(event(
            &format!("{case}/done"),
            "execution_completed",
            completed,
            case,
            "prison",
            id,
            json!({}),
        ));
        events
    };
    app.send(&fraud("110105-2021-000101", A, "2023-06-05"))
        .await;
    app.send(&fraud("110105-2021-000102", B, "2023-06-20"))
        .await;
    app.send(&fraud("110105-2021-000103", C, "2023-09-01"))
        .await;
    app.send(&conviction(
        "110105-2024-000104",
        D,
        "危险驾驶罪",
        json!({"principal": "criminal_detention", "months": 1}),
        ["2024-01-02", "2024-03-01", "2024-03-12"],
    ))
    .await;
    app.send(&[event(
        "110105-2025-000105/filed",
        "filed",
        "2025-05-01",
        "110105-2025-000105",
        "public_security",
        E,
        json!({"charges": [{"name": "盗窃罪"}], "offence_date": "2025-05-01"}),
    )])
    .await;
}

fn cases(list: &Value) -> Vec<(String, String, Option<String>)> {
    list["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["case_code"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
                r["state_date"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn row(case: &str, state: &str, date: Option<&str>) -> (String, String, Option<String>) {
    (case.to_owned(), state.to_owned(), date.map(str::to_owned))
}

/// The list filters by state, due date, agency and policy version, pages by cursor, masks every
/// identity, refuses bad filters by name and others than operators and auditors; each read is a
/// `read` entry.
#[tokio::test]
async fn records_are_listed_by_filter_and_page_with_identities_masked() {
    for database in databases("list").await {
        let app = App::start(&database, "cn-minor-tiered", "2025-06-01T00:00:00Z").await;
        five_records(&app).await;
        let all = vec![
            row("110105-2021-000101", "pending_seal", Some("2025-06-05")),
            row("110105-2021-000102", "pending_seal", Some("2025-06-20")),
            row("110105-2021-000103", "pending_seal", Some("2025-09-01")),
            row("110105-2024-000104", "sealed", Some("2024-03-12")),
            row("110105-2025-000105", "open", None),
        ];
        let (status, list) = app.get("/api/v1/records", OPERATOR).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(cases(&list), all);
        assert_eq!(list["next_cursor"], Value::Null);
        let people: Vec<&Value> = list["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["person"])
            .collect();
        assert_eq!(people, [A, B, C, D, E].map(|id| json!({"name": "张某", "id_number": format!("{}**********{}", &id[..4], &id[14..])})).iter().collect::<Vec<_>>());
        assert_eq!(
            list["records"][0]["person"]["id_number"],
            "1101**********0025"
        );
        assert!(!list.to_string().contains(A) && !list.to_string().contains("张三丰"));
        // Filters.
        let listed = |query: &'static str| {
            let app = &app;
            async move {
                let (status, list) = app.get(&format!("/api/v1/records?{query}"), AUDITOR).await;
                assert_eq!(status, StatusCode::OK, "{query}: {list}");
                cases(&list)
            }
        };
        assert_eq!(listed("state=sealed").await, vec![all[3].clone()]);
        assert_eq!(
            listed("state=pending_seal&due_before=2025-06-20").await,
            vec![all[0].clone()]
        );
        assert_eq!(listed("due_before=2025-06-21").await, all[..2].to_vec());
        assert_eq!(listed("agency=110105-jy").await, all[..3].to_vec());
        assert_eq!(
            listed("agency=110105-fy&state=sealed").await,
            vec![all[3].clone()]
        );
        assert_eq!(listed("agency=110105-jc").await, vec![]);
        // Every record was decided under cn-minor-tiered version 2, the open one too.
        assert_eq!(listed("policy_version=2").await, all);
        assert_eq!(listed("policy_version=1").await, vec![]);
        // Pages of two: the cursor carries on where the last page stopped, to the end.
        let mut pages = Vec::new();
        let mut path = "/api/v1/records?limit=2".to_owned();
        loop {
            let (status, page) = app.get(&path, OPERATOR).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            pages.push(cases(&page));
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/records?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(
            pages,
            vec![all[..2].to_vec(), all[2..4].to_vec(), all[4..].to_vec()]
        );
        // Bad filters are named; other roles are refused.
        for (query, field) in [
            ("state=asleep", "state:"),
            ("due_before=2025-13-01", "due_before:"),
            ("limit=0", "limit:"),
            ("limit=201", "limit:"),
            ("cursor=zz", "cursor:"),
            ("agency=a%20b", "agency:"),
        ] {
            let (status, body) = app.get(&format!("/api/v1/records?{query}"), OPERATOR).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
            assert!(
                body["message"].as_str().unwrap().starts_with(field),
                "{query}: {body}"
            );
        }
        for who in [COURT_CLERK, EMPLOYER, COURT_SYSTEM] {
            assert_eq!(
                app.get("/api/v1/records", who).await.0,
                StatusCode::FORBIDDEN
            );
        }
        // Each list read is in the log: who, the filter, how many rows.
        let reads: Vec<Value> = app
            .audit()
            .await
            .into_iter()
            .filter(|e| e["kind"] == "read" && e["outcome"] == "records")
            .collect();
        // One unfiltered list, eight filtered, three pages.
        assert_eq!(reads.len(), 12, "{reads:?}");
        let first: Value = serde_json::from_str(reads[0]["detail"].as_str().unwrap()).unwrap();
        assert_eq!(
            (reads[0]["actor"].as_str(), first["rows"].as_i64()),
            (Some("ops"), Some(5))
        );
        let by_agency: Value = serde_json::from_str(reads[4]["detail"].as_str().unwrap()).unwrap();
        assert_eq!(
            (
                reads[4]["actor"].as_str(),
                by_agency["agency"].as_str(),
                by_agency["rows"].as_i64()
            ),
            (Some("audit"), Some("110105-jy"), Some(3))
        );
    }
}

/// The supervisor's numbers on a small known dataset, counted by hand.
#[tokio::test]
async fn stats_count_a_small_known_dataset() {
    for database in databases("stats").await {
        let app = App::start(&database, "cn-minor-tiered", "2025-06-01T00:00:00Z").await;
        five_records(&app).await;
        // Two requests by the court's clerk; the approver grants one.
        let mut requests = Vec::new();
        for id in [D, A] {
            let (status, body) = app.post("/api/v1/requests", COURT_CLERK,
                &json!({"purpose": "case_handling", "id_number": id, "basis": "（2025）京0105刑初88号", "reason": "审理需要"})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            requests.push(body["request"]["request_id"].as_str().unwrap().to_owned());
        }
        let (status, body) = app
            .post(
                &format!("/api/v1/requests/{}/approve", requests[0]),
                APPROVER,
                &json!({"reason": "依法准许"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Four days on (2025-06-05): the sealed record's notices to the police and the court,
        // made on 2025-06-01, are unacknowledged after 3 days, not yet after 7.
        app.clock.set("2025-06-05T00:00:00Z".parse().unwrap());
        let (status, stats) = app.get("/api/v1/stats", AUDITOR).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        assert_eq!(stats["today"], "2025-06-05");
        assert_eq!(
            stats["records_by_state"],
            json!({"open": 1, "pending_seal": 3, "sealed": 1})
        );
        // The police filed all five cases, the court judged four, the prison completed three.
        assert_eq!(
            stats["records_by_agency"],
            json!({"110105-fy": 4, "110105-ga": 5, "110105-jy": 3})
        );
        // Due by 2025-06-12: the one due 2025-06-05; by 2025-07-05: and the one due 2025-06-20.
        assert_eq!(stats["seals_due_7_days"], 1);
        assert_eq!(stats["seals_due_30_days"], 2);
        assert_eq!(stats["notices_unacknowledged_after_3_days"], 2);
        assert_eq!(stats["notices_unacknowledged_after_7_days"], 0);
        assert_eq!(stats["failed_deliveries"], 0);
        assert_eq!(stats["pending_requests"], 1);
        assert_eq!(stats["live_grants"], 1);
        // Thirteen days on (2025-06-14): after 7 days too; the seal due on 2025-06-05 is still
        // pending (the scheduler has not run), and the one due on 2025-06-20 is within 7 days now
        // (by 2025-06-21).
        app.clock.set("2025-06-14T00:00:00Z".parse().unwrap());
        let (_, stats) = app.get("/api/v1/stats", OPERATOR).await;
        assert_eq!(stats["notices_unacknowledged_after_7_days"], 2);
        assert_eq!(stats["seals_due_7_days"], 2);
        assert_eq!(stats["seals_due_30_days"], 2);
        for who in [COURT_CLERK, EMPLOYER, APPROVER] {
            assert_eq!(app.get("/api/v1/stats", who).await.0, StatusCode::FORBIDDEN);
        }
        let reads: Vec<String> = app
            .audit()
            .await
            .into_iter()
            .filter(|e| e["kind"] == "read" && e["outcome"] == "stats")
            .map(|e| e["actor"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(reads, ["audit", "ops"]);
    }
}

/// The three paths are in the served OpenAPI document, with the schemas their answers refer to.
#[tokio::test]
async fn the_read_paths_are_in_the_openapi_document() {
    let database = databases("openapi").await.remove(0);
    let app = App::start(&database, "cn-minor-opt1", "2025-01-01T00:00:00Z").await;
    let (status, document) = app.get("/api/openapi.json", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/records",
        "/api/v1/records/{case_code}",
        "/api/v1/stats",
    ] {
        assert!(document["paths"][path]["get"].is_object(), "{path}");
    }
    for schema in [
        "RecordList",
        "RecordItem",
        "MaskedPerson",
        "Timeline",
        "RecordLife",
        "TransitionItem",
        "ReasonItem",
        "StatsView",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}
