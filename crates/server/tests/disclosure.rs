//! Controlled disclosure end to end through a real server on port 0: identities (keys, users,
//! sessions, CSRF), every requester kind × purpose, penetration requests and their grants
//! (approval by the requester refused, expiry, revocation), vetting scopes, certificates verified
//! offline, and the audit entries all of it leaves.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::sync::Arc;

use fengcun_crypto::VerifyingKey;
use fengcun_server::config::key_digest;
use fengcun_server::service::certificates::CertificateFile;
use fengcun_server::service::disclosure::LookupAnswer;
use fengcun_server::{ApiKey, FixedClock, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Engine, Server, conviction, event};

mod support;

const OPERATOR: &str = "operator-key-for-disclosure-tests";
const ADMIN: &str = "administrator-key-for-disclosure-tests";
const AUDITOR: &str = "auditor-key-for-disclosure-tests";

/// Sealed under cn-minor-opt1: dangerous driving, 拘役 two months, effective 2024-03-12.
const SEALED: &str = "110105199003070025";
const SEALED_CASE: &str = "110105-2024-000001";
/// Not sealable: theft, five years.
const CONVICTED: &str = "11010519491231002X";
const CONVICTED_CASE: &str = "110105-2024-000002";
/// Never in the store.
const NOBODY: &str = "110105198001010016";

struct App {
    base: String,
    http: reqwest::Client,
    clock: Arc<FixedClock>,
    /// The server (its directory and database go when the test ends).
    server: Server,
}

/// How a test speaks to the server: with a key, or with a session cookie and its CSRF token.
#[derive(Clone)]
enum As {
    Key(String),
    Session { cookie: String, csrf: String },
    Nobody,
}

impl App {
    async fn start() -> App {
        Self::start_under("cn-minor-opt1").await
    }

    /// A server whose policy in force is `policy`.
    async fn start_under(policy: &str) -> App {
        let mut config = support::config(policy);
        config.secure_cookies = false;
        config.public_url = Some("https://fengcun.example.gov.cn".into());
        let key = |name: &str, role: Role, secret: &str| ApiKey {
            name: name.into(),
            role,
            agency: None,
            requester_kind: None,
            key_sha256: key_digest(secret),
        };
        config.api_keys = vec![
            key("ops", Role::Operator, OPERATOR),
            key("admin", Role::Administrator, ADMIN),
            key("audit", Role::Auditor, AUDITOR),
        ];
        let server =
            Server::start(config, "2026-06-01T02:00:00Z", Engine::Sqlite, "disclosure").await;
        let app = App {
            base: server.base.clone(),
            http: server.http.clone(),
            clock: server.clock.clone(),
            server,
        };
        app.load_records().await;
        app
    }

    fn clock_now(&self) -> jiff::Timestamp {
        use fengcun_server::Clock;
        self.clock.now()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        who: &As,
        body: Option<&Value>,
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        match who {
            As::Key(key) => request = request.bearer_auth(key),
            As::Session { cookie, csrf } => {
                request = request.header("cookie", format!("fengcun_session={cookie}"));
                if method != reqwest::Method::GET {
                    request = request.header("x-csrf-token", csrf);
                }
            }
            As::Nobody => {}
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The headers of a GET: what a browser is told to keep, frame and run.
    async fn headers_of(&self, path: &str, who: &As) -> reqwest::header::HeaderMap {
        let mut request = self.http.get(format!("{}{path}", self.base));
        match who {
            As::Key(key) => request = request.bearer_auth(key),
            As::Session { cookie, .. } => {
                request = request.header("cookie", format!("fengcun_session={cookie}"));
            }
            As::Nobody => {}
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.headers().clone()
    }

    async fn post(&self, path: &str, who: &As, body: &Value) -> (StatusCode, Value) {
        let (status, text) = self
            .call(reqwest::Method::POST, path, who, Some(body))
            .await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, who: &As) -> (StatusCode, Value) {
        let (status, text) = self.call(reqwest::Method::GET, path, who, None).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The raw answer to a look-up: status and body bytes.
    async fn lookup(&self, who: &As, body: Value) -> (StatusCode, String) {
        let (status, text) = self
            .call(reqwest::Method::POST, "/api/v1/lookups", who, Some(&body))
            .await;
        if status == StatusCode::OK {
            // Every answer is what the OpenAPI document describes (`LookupAnswer`).
            serde_json::from_str::<LookupAnswer>(&text)
                .unwrap_or_else(|e| panic!("not a LookupAnswer ({e}): {text}"));
        }
        (status, text)
    }

    async fn load_records(&self) {
        let mut events = conviction(
            SEALED_CASE,
            SEALED,
            "危险驾驶罪",
            json!({"principal": "criminal_detention", "months": 2}),
            ["2024-01-10", "2024-03-01", "2024-03-12"],
        );
        events.extend(conviction(
            CONVICTED_CASE,
            CONVICTED,
            "盗窃罪",
            json!({"principal": "fixed_term", "months": 60}),
            ["2024-01-05", "2024-04-01", "2024-04-12"],
        ));
        self.send(&events).await;
    }

    /// Sends `events` as one batch, as the operator; every one must be stored.
    async fn send(&self, events: &[Value]) {
        let (status, body) = self
            .post(
                "/api/v1/events/batch",
                &As::Key(OPERATOR.into()),
                &json!({"events": events}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn user(&self, username: &str, role: &str, kind: Option<&str>, id: Option<&str>) {
        let mut body = json!({"username": username, "password": password(username), "role": role});
        if let Some(kind) = kind {
            body["requester_kind"] = kind.into();
        }
        if let Some(id) = id {
            body["id_number"] = id.into();
        }
        let (status, answer) = self
            .post("/api/v1/users", &As::Key(ADMIN.into()), &body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    /// A person's account, enrolled as the installation enrols one (an administrator alone may
    /// not make it).
    async fn person(&self, username: &str, id: &str, name: &str) {
        let enrolment = fengcun_server::enrol::Enrolment {
            username: username.into(),
            password: password(username),
            id_number: id.into(),
            name: name.into(),
        };
        fengcun_server::enrol::enrol_person(
            &*self.server.running.state.store,
            &enrolment,
            "enrolment",
            self.clock_now(),
        )
        .await
        .unwrap();
    }

    async fn login(&self, username: &str) -> As {
        let response = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .json(&json!({"username": username, "password": password(username)}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let token = cookie
            .strip_prefix("fengcun_session=")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        As::Session {
            cookie: token,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// An API key made by the administrator, speaking as `kind`, owned by a user of its own.
    async fn key(&self, name: &str, role: &str, kind: &str) -> (String, As) {
        let owner = format!("{name}-owner");
        self.user(&owner, "clerk", Some("court"), None).await;
        let (status, body) = self
            .post(
                "/api/v1/keys",
                &As::Key(ADMIN.into()),
                &json!({"name": name, "role": role, "requester_kind": kind, "owner": owner}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["key"]["key_id"].as_str().unwrap().to_owned(),
            As::Key(body["secret"].as_str().unwrap().to_owned()),
        )
    }

    async fn audit(&self) -> Vec<Value> {
        let (status, body) = self
            .get("/api/v1/audit/entries?limit=1000", &As::Key(AUDITOR.into()))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["entries"].as_array().unwrap().clone()
    }

    async fn request(&self, who: &As, purpose: &str, post: Option<&str>, id: &str) -> String {
        let mut body = json!({"purpose": purpose, "id_number": id, "basis": "（2026）京0105刑初88号", "reason": "审理需要"});
        if let Some(post) = post {
            body["post"] = post.into();
        }
        let (status, answer) = self.post("/api/v1/requests", who, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer["request"]["request_id"].as_str().unwrap().to_owned()
    }

    async fn approve(&self, who: &As, request: &str, days: Option<i64>) -> (StatusCode, Value) {
        let mut body = json!({"reason": "依法准许"});
        if let Some(days) = days {
            body["days"] = days.into();
        }
        self.post(&format!("/api/v1/requests/{request}/approve"), who, &body)
            .await
    }
}

fn password(username: &str) -> String {
    format!("{username}-correct-horse-battery")
}

fn lookup_body(purpose: &str, id: &str) -> Value {
    let mut body = json!({"purpose": purpose, "id_number": id, "basis": "测试查询依据"});
    if purpose == "special_post_vetting" {
        // A post whose restriction covers every record, so that what is hidden is hidden by the
        // seal alone.
        body["post"] = "civil_servant".into();
    }
    body
}

fn answer_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["answer"]
        .as_str()
        .unwrap_or_else(|| panic!("not an answer: {body}"))
        .to_owned()
}

/// The disclosure table as the law gives it (data/disclosure/cn-default.toml), written out here
/// by hand: which kinds may query for which purpose.
fn may_query(kind: &str, purpose: &str) -> bool {
    match purpose {
        "case_handling" => matches!(
            kind,
            "court"
                | "procuratorate"
                | "public_security"
                | "state_security"
                | "supervision_commission"
                | "justice_administration"
        ),
        "national_security_review" => matches!(kind, "state_security" | "public_security"),
        // 未成年人保护法 art. 62 names the procuratorate with public security, and the employer
        // queries its staff and recruits for a restricted post (2021 MPS rules art. 4(2)).
        "special_post_vetting" => matches!(
            kind,
            "public_security" | "procuratorate" | "justice_administration" | "employer"
        ),
        "self_inspection" | "certificate" => kind == "person",
        _ => false,
    }
}

const KINDS: [&str; 9] = [
    "court",
    "procuratorate",
    "public_security",
    "state_security",
    "justice_administration",
    "supervision_commission",
    "employer",
    "person",
    "lawyer",
];
const PURPOSES: [&str; 5] = [
    "case_handling",
    "national_security_review",
    "special_post_vetting",
    "certificate",
    "self_inspection",
];

#[tokio::test]
async fn every_requester_kind_and_purpose_sees_what_the_table_allows_and_no_seal() {
    let app = App::start().await;
    // The justice organs as agency systems (stored keys), the others as console users.
    let mut callers = Vec::new();
    for kind in &KINDS[..6] {
        let (_, key) = app.key(&format!("{kind}-system"), "clerk", kind).await;
        callers.push((*kind, key));
    }
    app.user("hr-wang", "requester", Some("employer"), None)
        .await;
    app.person("person-a", SEALED, "测试人").await;
    app.user("lawyer-li", "requester", Some("lawyer"), None)
        .await;
    callers.push(("employer", app.login("hr-wang").await));
    callers.push(("person", app.login("person-a").await));
    callers.push(("lawyer", app.login("lawyer-li").await));

    for (kind, who) in &callers {
        for purpose in PURPOSES {
            let sealed = app.lookup(who, lookup_body(purpose, SEALED)).await;
            let nobody = app.lookup(who, lookup_body(purpose, NOBODY)).await;
            let convicted = app.lookup(who, lookup_body(purpose, CONVICTED)).await;
            let allowed = may_query(kind, purpose);
            let own_sealed = *kind == "person" && purpose == "self_inspection";
            if own_sealed {
                // A person sees their own sealed record (PIPL art. 45) …
                assert_eq!(answer_of(&sealed.1), "records", "{kind} {purpose}");
                assert!(sealed.1.contains(SEALED_CASE));
            } else {
                // … and nobody else tells a sealed record from no record: same status, same bytes.
                assert_eq!(sealed, nobody, "{kind} {purpose}");
                assert!(!sealed.1.contains(SEALED_CASE), "{kind} {purpose}");
            }
            assert_eq!(sealed.0, StatusCode::OK);
            let expected = match (allowed, *kind) {
                (false, _) => "no_right",
                // A person sees their own records only.
                (true, "person") => "no_record",
                (true, _) => "records",
            };
            assert_eq!(answer_of(&convicted.1), expected, "{kind} {purpose}");
            if expected == "no_right" {
                assert!(convicted.1.contains("无权查询"));
            }
            if expected == "records" {
                assert!(convicted.1.contains(CONVICTED_CASE), "{kind} {purpose}");
            }
        }
    }
    // A look-up by case code hides the sealed case the same way.
    let (_, court) = &callers[0];
    let by_case = app
        .lookup(
            court,
            json!({"purpose": "case_handling", "case_code": SEALED_CASE}),
        )
        .await;
    let no_case = app
        .lookup(
            court,
            json!({"purpose": "case_handling", "case_code": "110105-2024-009999"}),
        )
        .await;
    assert_eq!(by_case, no_case);
    // Every look-up left its entry, with actor, purpose and what was answered.
    let lookups: Vec<Value> = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "lookup")
        .collect();
    assert_eq!(lookups.len(), callers.len() * PURPOSES.len() * 3 + 2);
    assert!(lookups.iter().all(|e| e["purpose"].is_string()
        && ["no_right", "no_record", "records"].contains(&e["outcome"].as_str().unwrap())));
    assert!(
        lookups
            .iter()
            .any(|e| e["actor"] == "user:hr-wang" && e["outcome"] == "no_right")
    );
}

/// A post's vetting sees only what a record establishes against the person: a rape case still
/// under investigation (立案, not judged) is no 违法犯罪记录 a school's vetting may be shown
/// (入职查询意见 art. 4: a conviction, a discretionary non-prosecution, an administrative penalty),
/// while the police handling a case see it; nor is a conviction before it takes effect.
#[tokio::test]
async fn vetting_for_a_post_sees_no_case_still_open_nor_a_judgment_not_in_effect() {
    let app = App::start().await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    let approver = app.login("judge-liu").await;
    let open_case = "110105-2026-000077";
    app.send(&[event(
        &format!("{open_case}/filed"),
        "filed",
        "2026-05-01",
        open_case,
        "public_security",
        NOBODY,
        json!({"charges": [{"name": "强奸罪"}], "offence_date": "2026-04-20"}),
    )])
    .await;
    let (_, police) = app.key("ga-vetting", "clerk", "public_security").await;
    let request = app
        .request(
            &police,
            "special_post_vetting",
            Some("minors_contact"),
            NOBODY,
        )
        .await;
    let (status, body) = app.approve(&approver, &request, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let vetting =
        json!({"purpose": "special_post_vetting", "post": "minors_contact", "id_number": NOBODY});
    let (status, answer) = app.lookup(&police, vetting).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer_of(&answer), "no_record", "{answer}");
    let (_, answer) = app
        .lookup(&police, lookup_body("case_handling", NOBODY))
        .await;
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["answer"], "records", "{answer}");
    assert_eq!(answer["records"][0]["case_code"], open_case, "{answer}");
    // A first-instance conviction not yet in effect (appealed) is no criminal record either;
    // once it takes effect, it is within the post's scope.
    let appealed = "110105199806120030";
    let case = "110105-2026-000078";
    let events = conviction(
        case,
        appealed,
        "强奸罪",
        json!({"principal": "fixed_term", "months": 36}),
        ["2026-01-10", "2026-05-20", "2026-06-01"],
    );
    app.send(&events[..2]).await;
    let request = app
        .request(
            &police,
            "special_post_vetting",
            Some("minors_contact"),
            appealed,
        )
        .await;
    let (status, body) = app.approve(&approver, &request, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let vetting =
        json!({"purpose": "special_post_vetting", "post": "minors_contact", "id_number": appealed});
    let (_, answer) = app.lookup(&police, vetting.clone()).await;
    assert_eq!(answer_of(&answer), "no_record", "{answer}");
    app.send(&events[2..]).await;
    let (_, answer) = app.lookup(&police, vetting).await;
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["answer"], "records", "{answer}");
    assert_eq!(answer["records"][0]["case_code"], case, "{answer}");
}

#[tokio::test]
async fn penetration_requests_grants_expiry_revocation_and_vetting_scopes() {
    let app = App::start().await;
    app.user("clerk-zhang", "clerk", Some("court"), None).await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    app.user("hr-wang", "requester", Some("employer"), None)
        .await;
    let clerk = app.login("clerk-zhang").await;
    let approver = app.login("judge-liu").await;
    let (_, procuratorate) = app.key("jc-system", "clerk", "procuratorate").await;
    let sealed_lookup = || lookup_body("case_handling", SEALED);

    // Without a grant the clerk sees no record.
    assert_eq!(
        answer_of(&app.lookup(&clerk, sealed_lookup()).await.1),
        "no_record"
    );
    let request = app.request(&clerk, "case_handling", None, SEALED).await;
    // The clerk may not decide; the approver may not approve a request of their own.
    let (status, _) = app.approve(&clerk, &request, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let own = app.request(&approver, "case_handling", None, SEALED).await;
    let (status, body) = app.approve(&approver, &own, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("may not approve their own"),
        "{body}"
    );
    // Approved for ten days: a grant for that person, purpose and requester.
    let (status, body) = app.approve(&approver, &request, Some(10)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant = body["grant"]["grant_id"].as_str().unwrap().to_owned();
    let (status, _) = app.approve(&approver, &request, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "decided already");
    let (status, seen) = app.lookup(&clerk, sealed_lookup()).await;
    assert_eq!(status, StatusCode::OK);
    let seen: Value = serde_json::from_str(&seen).unwrap();
    assert_eq!(seen["answer"], "records");
    assert_eq!(seen["records"][0]["case_code"], SEALED_CASE);
    assert_eq!(seen["records"][0]["grant"], grant.as_str());
    assert_eq!(seen["records"][0]["record"]["state"], "sealed");
    // The grant is personal and purpose-bound.
    assert_eq!(
        answer_of(&app.lookup(&procuratorate, sealed_lookup()).await.1),
        "no_record"
    );
    assert_eq!(
        answer_of(
            &app.lookup(&clerk, lookup_body("national_security_review", SEALED))
                .await
                .1
        ),
        "no_right"
    );
    // It expires.
    app.clock.set("2026-06-11T03:00:00Z".parse().unwrap());
    // Sessions last hours, not days: both log in again.
    assert_eq!(
        app.lookup(&clerk, sealed_lookup()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let clerk = app.login("clerk-zhang").await;
    let approver = app.login("judge-liu").await;
    assert_eq!(
        answer_of(&app.lookup(&clerk, sealed_lookup()).await.1),
        "no_record"
    );
    // A new grant, revoked: covers nothing from then on.
    let again = app.request(&clerk, "case_handling", None, SEALED).await;
    let (_, body) = app.approve(&approver, &again, None).await;
    let second = body["grant"]["grant_id"].as_str().unwrap().to_owned();
    assert_eq!(
        answer_of(&app.lookup(&clerk, sealed_lookup()).await.1),
        "records"
    );
    // The clerk may not revoke it; the refusal names the grant it was aimed at.
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/grants/{second}"),
            &clerk,
            Some(&json!({"reason": "不再需要"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let refused_revocation: Vec<Value> = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "forbidden" && e["outcome"] == "grant_revocation")
        .collect();
    assert_eq!(refused_revocation.len(), 1, "{refused_revocation:?}");
    assert_eq!(refused_revocation[0]["subject"], format!("grant:{second}"));
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/grants/{second}"),
            &approver,
            Some(&json!({"reason": "案件已审结"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer_of(&app.lookup(&clerk, sealed_lookup()).await.1),
        "no_record"
    );
    // Refused: no grant.
    let refused = app.request(&clerk, "case_handling", None, SEALED).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/requests/{refused}/refuse"),
            &approver,
            &json!({"reason": "依据不足"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "refused");
    assert_eq!(
        answer_of(&app.lookup(&clerk, sealed_lookup()).await.1),
        "no_record"
    );
    let employer = app.login("hr-wang").await;
    // An employer may ask for nothing but the vetting of a restricted post — the same refusal
    // whether the person has a seal or not.
    let ask = |purpose: &str, id: &str| json!({"purpose": purpose, "post": "minors_contact", "id_number": id, "basis": "招聘岗位入职审查", "reason": "入职审查"});
    let on_sealed = app
        .post("/api/v1/requests", &employer, &ask("case_handling", SEALED))
        .await;
    let on_nobody = app
        .post("/api/v1/requests", &employer, &ask("case_handling", NOBODY))
        .await;
    assert_eq!(on_sealed.0, StatusCode::FORBIDDEN);
    assert_eq!(on_sealed, on_nobody);
    // For a post in close contact with minors it asks, at hiring and every year (未成年人保护法
    // art. 62), and is accepted the same whether the person has a seal or not.
    let on_sealed = app
        .post(
            "/api/v1/requests",
            &employer,
            &ask("special_post_vetting", SEALED),
        )
        .await;
    let on_nobody = app
        .post(
            "/api/v1/requests",
            &employer,
            &ask("special_post_vetting", NOBODY),
        )
        .await;
    assert_eq!(on_sealed.0, StatusCode::CREATED, "{}", on_sealed.1);
    assert_eq!(on_nobody.0, StatusCode::CREATED, "{}", on_nobody.1);

    // Vetting scopes: a grant for a post shows only what the post's restriction covers.
    let (_, police) = app.key("ga-vetting", "clerk", "public_security").await;
    for (post, shown) in [("minors_contact", false), ("passenger_driver", true)] {
        let request = app
            .request(&police, "special_post_vetting", Some(post), SEALED)
            .await;
        let (status, _) = app.approve(&approver, &request, None).await;
        assert_eq!(status, StatusCode::OK);
        let body = json!({"purpose": "special_post_vetting", "post": post, "id_number": SEALED});
        let (_, answer) = app.lookup(&police, body).await;
        let answer: Value = serde_json::from_str(&answer).unwrap();
        if shown {
            // 危险驾驶罪 is within a passenger driver's restriction; the view is a summary.
            assert_eq!(answer["answer"], "records", "{post}");
            assert_eq!(answer["records"][0]["record"]["charges"][0], "危险驾驶罪");
            assert!(answer["records"][0]["record"].get("facts").is_none());
        } else {
            assert_eq!(answer["answer"], "no_record", "{post}: {answer}");
        }
    }

    // The trace: every request, decision, refusal, use and revocation, typed, with its actor.
    let entries = app.audit().await;
    let count = |kind: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["kind"] == kind && e["outcome"] == outcome)
            .count()
    };
    // Six, and the employer's two vetting requests.
    assert_eq!(count("request", "pending"), 8);
    assert_eq!(count("request", "refused"), 2);
    assert_eq!(count("approval", "approved"), 4);
    assert_eq!(count("refusal", "refused"), 1);
    assert_eq!(count("grant_revoked", "revoked"), 1);
    assert_eq!(count("forbidden", "self_approval"), 1);
    assert_eq!(count("forbidden", "decision"), 1);
    let uses: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "grant_use")
        .collect();
    assert_eq!(
        uses.len(),
        3,
        "two case-handling reads and one vetting read"
    );
    assert_eq!(uses[0]["subject"], format!("grant:{grant}"));
    assert_eq!(uses[0]["actor"], "user:clerk-zhang");
    // The person read and who read it (their role and agency) are in the entry for the
    // supervision rules (docs/supervision.md).
    let person = app
        .server
        .running
        .state
        .store
        .person_key(&format!("id:{SEALED}"));
    assert_eq!(
        uses[0]["detail"],
        json!({"cases": [SEALED_CASE], "person": person, "role": "clerk", "agency": null})
            .to_string()
    );
}

#[tokio::test]
async fn identities_keys_sessions_and_csrf() {
    let app = App::start().await;
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/lookups"),
        (reqwest::Method::GET, "/api/v1/requests"),
        (reqwest::Method::POST, "/api/v1/requests"),
        (reqwest::Method::GET, "/api/v1/grants"),
        (reqwest::Method::POST, "/api/v1/certificates"),
        (reqwest::Method::GET, "/api/v1/certificates/FC-2026-000000"),
        (reqwest::Method::GET, "/api/v1/users"),
        (reqwest::Method::POST, "/api/v1/keys"),
        (reqwest::Method::GET, "/api/v1/session"),
    ] {
        let (status, _) = app
            .call(method.clone(), path, &As::Nobody, Some(&json!({})))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // Only an administrator manages users and keys.
    app.user("clerk-zhang", "clerk", Some("court"), None).await;
    let clerk = app.login("clerk-zhang").await;
    let (status, _) = app
        .post(
            "/api/v1/keys",
            &clerk,
            &json!({"name": "x", "role": "clerk", "requester_kind": "court"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An administrator sees no record.
    let (status, _) = app
        .lookup(
            &As::Key(ADMIN.into()),
            lookup_body("case_handling", CONVICTED),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A weak password or an unknown role is refused, naming the field.
    let (status, body) = app
        .post(
            "/api/v1/users",
            &As::Key(ADMIN.into()),
            &json!({"username": "short", "password": "123", "role": "clerk", "requester_kind": "court"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().starts_with("password"));

    // Sessions: a change without the CSRF token is refused; with it, accepted.
    let As::Session { cookie, .. } = clerk.clone() else {
        unreachable!()
    };
    let forged = As::Session {
        cookie: cookie.clone(),
        csrf: "guessed".into(),
    };
    let (status, body) = app
        .lookup(&forged, lookup_body("case_handling", CONVICTED))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("csrf"));
    let (status, body) = app
        .lookup(&clerk, lookup_body("case_handling", CONVICTED))
        .await;
    assert_eq!(
        (status, answer_of(&body).as_str()),
        (StatusCode::OK, "records")
    );
    let (status, me) = app.get("/api/v1/session", &clerk).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "user:clerk-zhang");
    // A wrong password, an unknown user: the same refusal, audited.
    for (username, password) in [("clerk-zhang", "wrong-password-123"), ("nobody-here", "x")] {
        let (status, _) = app
            .post(
                "/api/v1/session",
                &As::Nobody,
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Logging out ends the session.
    let (status, _) = app
        .call(reqwest::Method::DELETE, "/api/v1/session", &clerk, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/session", &clerk).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A disabled user can no longer log in, and their sessions end.
    let again = app.login("clerk-zhang").await;
    let (status, _) = app
        .post(
            "/api/v1/users/clerk-zhang/disable",
            &As::Key(ADMIN.into()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/session", &again).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app
        .post(
            "/api/v1/session",
            &As::Nobody,
            &json!({"username": "clerk-zhang", "password": password("clerk-zhang")}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Stored keys: listed without secrets, revoked at once.
    let (key_id, key) = app.key("fy-system", "clerk", "court").await;
    assert_eq!(
        answer_of(
            &app.lookup(&key, lookup_body("case_handling", CONVICTED))
                .await
                .1
        ),
        "records"
    );
    let (_, keys) = app.get("/api/v1/keys", &As::Key(ADMIN.into())).await;
    let As::Key(secret) = &key else {
        unreachable!()
    };
    assert!(!keys.to_string().contains(secret.as_str()));
    assert!(!keys.to_string().contains(&key_digest(secret)));
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/keys/{key_id}"),
            &As::Key(ADMIN.into()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.lookup(&key, lookup_body("case_handling", CONVICTED))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (_, users) = app.get("/api/v1/users", &As::Key(ADMIN.into())).await;
    assert!(!users.to_string().contains("argon2"), "{users}");

    let entries = app.audit().await;
    let has = |kind: &str, outcome: &str| {
        entries
            .iter()
            .any(|e| e["kind"] == kind && e["outcome"] == outcome)
    };
    for (kind, outcome) in [
        ("user_changed", "created"),
        ("user_changed", "disabled"),
        ("key_changed", "created"),
        ("key_changed", "revoked"),
        ("login", "ok"),
        ("login", "logout"),
        ("authentication_refused", "refused"),
        ("authentication_refused", "revoked_key"),
        ("authentication_refused", "csrf"),
        ("forbidden", "lookup"),
    ] {
        assert!(has(kind, outcome), "no {kind}/{outcome} entry");
    }
    // Secrets never reach the log.
    let log = serde_json::to_string(&entries).unwrap();
    assert!(!log.contains(&password("clerk-zhang")) && !log.contains(secret.as_str()));
}

/// Password guessing: five wrong logins lock the username for 30 s (then longer), whether the user
/// exists or not; a locked username is refused even with the right password, with 429 and
/// Retry-After; the lock passes with time; every refusal is audited.
#[tokio::test]
async fn password_guessing_is_slowed_per_username_known_or_not() {
    let app = App::start().await;
    app.user("clerk-wang", "clerk", Some("court"), None).await;
    let try_login = |username: &'static str, password: String| {
        let app = &app;
        async move {
            let response = app
                .http
                .post(format!("{}/api/v1/session", app.base))
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (response.status(), retry_after)
        }
    };
    for username in ["clerk-wang", "nobody-at-all"] {
        for _ in 0..5 {
            let (status, _) = try_login(username, "guess-123456".into()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{username}");
        }
        let (status, retry_after) = try_login(username, password(username)).await;
        assert_eq!(
            (status, retry_after.as_deref()),
            (StatusCode::TOO_MANY_REQUESTS, Some("30")),
            "{username}: locked, even with the right password"
        );
    }
    // Twenty guesses sent at once get no more tries than five in a row.
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (http, url) = (app.http.clone(), format!("{}/api/v1/session", app.base));
        burst.spawn(async move {
            http.post(url)
                .json(&json!({"username": "clerk-sun", "password": "guess-123456"}))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses = burst.join_all().await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        5,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s))
    );
    // Another username is not affected; the lock passes with time.
    app.user("clerk-zhao", "clerk", Some("court"), None).await;
    app.login("clerk-zhao").await;
    app.clock.set(
        app.clock_now()
            .checked_add(jiff::SignedDuration::from_secs(31))
            .unwrap(),
    );
    app.login("clerk-wang").await;
    // A success forgets the failures: four more wrong ones lock nothing.
    for _ in 0..4 {
        assert_eq!(
            try_login("clerk-wang", "guess-123456".into()).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    app.login("clerk-wang").await;
    let entries = app.audit().await;
    let throttled = entries
        .iter()
        .filter(|e| e["kind"] == "authentication_refused" && e["outcome"] == "throttled")
        .map(|e| e["actor"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        throttled,
        ["user:clerk-wang", "unknown", "unknown"],
        "one entry per lock, however many refusals"
    );
}

#[tokio::test]
async fn certificates_issued_by_the_server_verify_offline_and_any_altered_byte_fails() {
    let app = App::start().await;
    app.person("person-a", SEALED, "测试人").await;
    app.user("counter-li", "clerk", Some("public_security"), None)
        .await;
    let person = app.login("person-a").await;
    let counter = app.login("counter-li").await;
    let apply = |id: &str| json!({"id_number": id, "name": "测试人", "purpose": "就业"});

    // A session change needs the CSRF token.
    let As::Session { cookie, .. } = person.clone() else {
        unreachable!()
    };
    let (status, _) = app
        .post(
            "/api/v1/certificates",
            &As::Session {
                cookie,
                csrf: String::new(),
            },
            &apply(SEALED),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The person, for themself: their only record is sealed, so no criminal record.
    let (status, own) = app
        .post("/api/v1/certificates", &person, &apply(SEALED))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert_eq!(own["result"], "no_criminal_record");
    assert_eq!(own["title"], "无犯罪记录证明");
    // … and not for someone else.
    let (status, _) = app
        .post("/api/v1/certificates", &person, &apply(CONVICTED))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // At the counter: an effective, unsealed conviction is listed; a person never recorded has
    // the same result as the sealed one.
    let (_, convicted) = app
        .post("/api/v1/certificates", &counter, &apply(CONVICTED))
        .await;
    assert_eq!(convicted["result"], "has_criminal_record");
    assert!(convicted["file"].as_str().unwrap().contains("盗窃罪"));
    // The listed conviction names its court and the judgment's case number (案号), as the
    // record's judgment event gives them (it once named neither: court empty, the case code).
    let file: Value = serde_json::from_str(convicted["file"].as_str().unwrap()).unwrap();
    let listed = &file["certificate"]["result"]["convictions"][0];
    assert_eq!(listed["case_number"], "(2024)某刑初000002号", "{file}");
    assert!(
        listed["court"].as_str().is_some_and(|c| !c.is_empty()),
        "{file}"
    );
    let (_, nobody) = app
        .post("/api/v1/certificates", &counter, &apply(NOBODY))
        .await;
    assert_eq!(nobody["result"], own["result"]);
    assert!(!own["file"].as_str().unwrap().contains("危险驾驶"));

    // Offline: the public key is all a verifier needs.
    let (_, pem) = app
        .call(
            reqwest::Method::GET,
            "/api/v1/public-key",
            &As::Nobody,
            None,
        )
        .await;
    let key = VerifyingKey::from_text(&pem).unwrap();
    let today = fengcun_domain::Date::constant(2026, 6, 1);
    for certificate in [&own, &convicted] {
        let file = certificate["file"].as_str().unwrap().as_bytes().to_vec();
        let token = certificate["token"].as_str().unwrap().to_owned();
        let verified = fengcun_certificate::verify_file(&file, &key, today).unwrap();
        assert!(verified.validity.is_valid());
        assert!(
            verified
                .certificate
                .is_about(&fengcun_domain::IdNumber::parse(SEALED).unwrap())
                == (certificate == &own)
        );
        fengcun_certificate::verify_token(&token, &key, today).unwrap();
        for i in 0..file.len() {
            let mut altered = file.clone();
            altered[i] ^= 0x01;
            assert!(
                fengcun_certificate::verify_file(&altered, &key, today).is_err(),
                "file byte {i}"
            );
        }
        let token = token.into_bytes();
        for i in 0..token.len() {
            let mut altered = token.clone();
            altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).unwrap();
            assert!(
                fengcun_certificate::verify_token(&altered, &key, today).is_err(),
                "token byte {i}"
            );
        }
    }
    // Online, without an account: the endpoint and the page a phone opens.
    let token = own["token"].as_str().unwrap();
    let (status, verdict) = app
        .post("/api/v1/verify", &As::Nobody, &json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["result"], "no_criminal_record");
    let mut forged = own["file"].as_str().unwrap().to_owned();
    forged = forged.replacen("测试人", "李四", 1);
    let (_, verdict) = app
        .post("/api/v1/verify", &As::Nobody, &json!({"file": forged}))
        .await;
    assert_eq!(verdict["valid"], false);
    let (status, page) = app
        .call(
            reqwest::Method::GET,
            &format!("/verify?token={token}"),
            &As::Nobody,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("证明真实有效") && page.contains("未发现有犯罪记录"),
        "{page}"
    );
    assert!(
        page.contains("<p class=\"verdict verdict-valid\" id=\"verdict\">有效</p>"),
        "{page}"
    );
    // A link shared through a messaging app carries the app's own parameters (and a reader may
    // add one): the page still verifies the token. A link that cannot be read is a page saying
    // so, never a machine's error.
    let (status, page) = app
        .call(
            reqwest::Method::GET,
            &format!("/verify?token={token}&from=singlemessage&isappinstalled=0&lang=en"),
            &As::Nobody,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("verdict-valid") && page.contains("未发现有犯罪记录"),
        "{page}"
    );
    let (status, page) = app
        .call(
            reqwest::Method::GET,
            &format!("/verify?token={token}&token={token}"),
            &As::Nobody,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("verdict-invalid") && page.contains("核验链接无法识别"),
        "{page}"
    );
    // A genuine notice of refusal reads as what it is, not in a clean certificate's green.
    let refusal = convicted["token"].as_str().unwrap();
    let (status, page) = app
        .call(
            reqwest::Method::GET,
            &format!("/verify?token={refusal}"),
            &As::Nobody,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<p class=\"doc-title\" id=\"doc-title\">不予出具无犯罪记录证明通知书</p>")
            && page.contains("verdict-refusal")
            && page.contains("有效 · 不予出具无犯罪记录证明")
            && !page.contains("verdict-valid"),
        "{page}"
    );
    // The printable page, for the person it is about.
    let number = own["number"].as_str().unwrap();
    let (status, printable) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/certificates/{number}/page"),
            &person,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(printable.contains("<svg") && printable.contains("无犯罪记录证明"));
    // The printable page, the public verification page and a JSON answer with personal data are
    // kept by no browser or proxy, framed by no site, and run no script.
    for (path, who) in [
        (format!("/api/v1/certificates/{number}/page"), &person),
        (format!("/verify?token={token}"), &As::Nobody),
        ("/api/v1/me/records".to_owned(), &person),
    ] {
        let headers = app.headers_of(&path, who).await;
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("script-src 'unsafe")
                && !csp.contains("*"),
            "{path}: {csp}"
        );
    }
    // The address to check it online is the platform's public one, with its host: a phone that
    // scans the code must reach it.
    assert!(
        printable.contains("在线核验：<code>https://fengcun.example.gov.cn/verify?token=</code>"),
        "{printable}"
    );
    // Every certificate is an audit entry naming who issued it, the result and the number; so is
    // every reading of a kept one.
    let (issued, read): (Vec<Value>, Vec<Value>) = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "certificate")
        .partition(|e| e["outcome"] != "read");
    assert_eq!(issued.len(), 3);
    assert_eq!(issued[0]["actor"], "user:person-a");
    assert_eq!(issued[0]["subject"], format!("certificate:{number}"));
    assert_eq!(issued[1]["outcome"], "has_criminal_record");
    // Two readings of the kept page: the printable page, and the headers' check above.
    assert_eq!(read.len(), 2);
    assert_eq!(read[0]["subject"], format!("certificate:{number}"));
    // The refused application (a person asking for someone else's) names whom it was for, by the
    // pseudonymous person key, never the identity number.
    let refused: Vec<Value> = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "forbidden" && e["outcome"] == "certificate")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["actor"], "user:person-a");
    let subject = refused[0]["subject"].as_str().unwrap_or_default();
    assert!(
        subject.len() >= 32 && !subject.contains(CONVICTED),
        "{subject}"
    );
    // (Last, as it reads them: audited.) The kept file, as issued, is what the OpenAPI document describes (`CertificateFile`).
    for issued in [&convicted, &nobody] {
        let number = issued["number"].as_str().unwrap();
        let (status, file) = app
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/certificates/{number}"),
                &counter,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(file, issued["file"].as_str().unwrap());
        let parsed: CertificateFile =
            serde_json::from_str(&file).unwrap_or_else(|e| panic!("{e}: {file}"));
        assert_eq!(parsed.certificate.number, number);
        assert_eq!(
            parsed.certificate.result.kind,
            issued["result"].as_str().unwrap()
        );
    }
}

/// A small deterministic generator (SplitMix64): the test's cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Person `n`'s identity number (region 110105, born 1970 + n days, GB 11643 check character).
fn generated_id(n: u64) -> String {
    let birth = jiff::civil::Date::constant(1970, 1, 1)
        .checked_add(jiff::Span::new().days(i64::try_from(n * 37).unwrap()))
        .unwrap();
    let body = format!(
        "110105{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        n % 1000
    );
    fengcun_domain::id_number::with_check_character(&body).unwrap()
}

/// A random history for one case of one person: how far it went, the charge, the sentence.
fn random_case(rng: &mut Rng, case: &str, id: &str) -> Vec<Value> {
    const CHARGES: [&str; 6] = [
        "危险驾驶罪",
        "盗窃罪",
        "故意伤害罪",
        "诈骗罪",
        "交通肇事罪",
        "强制猥亵、侮辱罪",
    ];
    let charge = CHARGES[rng.below(6) as usize];
    let sentence = match rng.below(3) {
        0 => json!({"principal": "criminal_detention", "months": 1 + rng.below(6)}),
        1 => json!({"principal": "fixed_term", "months": 6 + rng.below(30)}),
        _ => json!({"principal": "fixed_term", "months": 37 + rng.below(80)}),
    };
    let year = 2019 + rng.below(6);
    let dates = [
        format!("{year}-01-10"),
        format!("{year}-04-01"),
        format!("{year}-04-12"),
    ];
    let mut events = conviction(
        case,
        id,
        charge,
        sentence,
        [&dates[0], &dates[1], &dates[2]],
    );
    // Some cases stop early: filed only, or judged but not yet effective.
    let stage = rng.below(4);
    events.truncate(match stage {
        0 => 1,
        1 => 2,
        _ => 3,
    });
    events
}

#[tokio::test]
async fn random_histories_never_show_a_sealed_record_without_a_live_covering_grant() {
    let app = App::start().await;
    let mut rng = Rng(20_261_126);
    let people: Vec<String> = (0..40).map(generated_id).collect();
    let mut events = Vec::new();
    for (p, id) in people.iter().enumerate() {
        for c in 0..1 + rng.below(3) {
            let case = format!("110105-2019-{:06}", p * 10 + c as usize + 100);
            events.extend(random_case(&mut rng, &case, id));
        }
    }
    app.send(&events).await;
    let store = app.server.running.state.store.clone();
    let states = store.states().await.unwrap();
    let sealed: std::collections::BTreeSet<String> = states
        .iter()
        .filter(|s| s.state == "sealed")
        .map(|s| s.case_code.clone())
        .collect();
    assert!(
        sealed.len() >= 10,
        "the histories seal enough records to test: {}",
        sealed.len()
    );

    // One key per kind; grants approved at random for the kinds that may ask, some for one day,
    // some revoked.
    app.user("judge-liu", "approver", Some("court"), None).await;
    let approver = app.login("judge-liu").await;
    let mut callers = Vec::new();
    for kind in KINDS {
        let role = if ["employer", "person", "lawyer"].contains(&kind) {
            "requester"
        } else {
            "clerk"
        };
        let (id, key) = app.key(&format!("{kind}-key"), role, kind).await;
        callers.push((kind, format!("key:{id}"), key));
    }
    let asks: [(&str, Option<&str>); 4] = [
        ("case_handling", None),
        ("national_security_review", None),
        ("special_post_vetting", Some("minors_contact")),
        ("special_post_vetting", Some("passenger_driver")),
    ];
    let mut granted = 0;
    for (_, _, key) in &callers {
        for (purpose, post) in asks {
            for id in &people {
                if rng.below(4) != 0 {
                    continue;
                }
                let mut body = json!({"purpose": purpose, "id_number": id, "basis": "测试依据", "reason": "测试理由"});
                if let Some(post) = post {
                    body["post"] = post.into();
                }
                let (status, request) = app.post("/api/v1/requests", key, &body).await;
                if status != StatusCode::CREATED {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{request}");
                    continue;
                }
                let request = request["request"]["request_id"].as_str().unwrap();
                // At most the table's grant_days: 15 for vetting, 30 otherwise.
                let longest = if purpose == "special_post_vetting" {
                    15
                } else {
                    30
                };
                let days = if rng.below(3) == 0 { 1 } else { longest };
                let (status, decided) = app.approve(&approver, request, Some(days)).await;
                assert_eq!(status, StatusCode::OK, "{decided}");
                granted += 1;
                if rng.below(4) == 0 {
                    let grant = decided["grant"]["grant_id"].as_str().unwrap();
                    let (status, _) = app
                        .call(
                            reqwest::Method::DELETE,
                            &format!("/api/v1/grants/{grant}"),
                            &approver,
                            Some(&json!({"reason": "测试撤销"})),
                        )
                        .await;
                    assert_eq!(status, StatusCode::OK);
                }
            }
        }
    }
    assert!(granted > 50, "{granted} grants");
    // Two days on: the one-day grants have expired.
    app.clock.set("2026-06-03T03:00:00Z".parse().unwrap());
    let now = app.clock_now();
    let grants = store.grants(None).await.unwrap();

    let mut looked = 0;
    let mut shown_sealed = 0;
    for (kind, requester, key) in &callers {
        for (purpose, post) in asks
            .iter()
            .copied()
            .chain([("certificate", None), ("self_inspection", None)])
        {
            let nobody = {
                let mut body = json!({"purpose": purpose, "id_number": NOBODY});
                if let Some(post) = post {
                    body["post"] = post.into();
                }
                app.lookup(key, body).await
            };
            for id in &people {
                let mut body = json!({"purpose": purpose, "id_number": id});
                if let Some(post) = post {
                    body["post"] = post.into();
                }
                let (status, text) = app.lookup(key, body).await;
                looked += 1;
                assert_eq!(status, StatusCode::OK);
                let answer: Value = serde_json::from_str(&text).unwrap();
                let person_key = store.person_key(&format!("id:{id}"));
                let mut any_shown = false;
                for shown in answer["records"].as_array().unwrap() {
                    any_shown = true;
                    let case = shown["case_code"].as_str().unwrap();
                    if !sealed.contains(case) {
                        assert!(shown.get("grant").is_none(), "{kind} {purpose}: {shown}");
                        continue;
                    }
                    shown_sealed += 1;
                    // A sealed record is shown only under a grant that is live now and covers
                    // this requester, person, purpose and post.
                    let grant = shown["grant"].as_str().unwrap_or_else(|| {
                        panic!("{kind} {purpose}: sealed {case} shown without a grant")
                    });
                    let row = grants.iter().find(|g| g.grant_id == grant).unwrap();
                    assert_eq!(&row.requester, requester);
                    assert_eq!(row.person_key, person_key);
                    assert_eq!(row.purpose.code(), purpose);
                    assert_eq!(row.post.as_deref(), post);
                    assert!(row.revoked_at.is_none(), "revoked {grant} used");
                    let expires: jiff::Timestamp = row.expires.parse().unwrap();
                    assert!(now < expires, "expired {grant} used");
                }
                // Nothing shown: byte for byte the answer about a person never recorded,
                // whatever is sealed.
                if !any_shown {
                    assert_eq!((status, text), nobody, "{kind} {purpose} {id}");
                }
            }
        }
    }
    assert_eq!(looked, KINDS.len() * 6 * people.len());
    assert!(shown_sealed > 0, "some grants are used");
}

#[tokio::test]
async fn only_agency_systems_and_operators_send_events() {
    let app = App::start().await;
    app.person("person-a", SEALED, "测试人").await;
    let person = app.login("person-a").await;
    let (_, clerk) = app.key("fy-system", "clerk", "court").await;
    let withdraw = json!({"idempotency_key": "forged-1", "kind": "case_withdrawn", "date": "2026-05-01",
        "case_code": CONVICTED_CASE, "agency": {"kind": "public_security", "code": "110105-ga"},
        "person": {"id_number": CONVICTED, "name": "测试人"}});
    for who in [
        &person,
        &clerk,
        &As::Key(AUDITOR.into()),
        &As::Key(ADMIN.into()),
    ] {
        let (status, body) = app.post("/api/v1/events", who, &withdraw).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = app
            .post("/api/v1/events/batch", who, &json!({"events": [withdraw]}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app
            .post("/api/v1/notices/n-1/ack", who, &json!({"token": "x"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // The record's course is unchanged: still a listed conviction.
    let (status, body) = app
        .lookup(&clerk, lookup_body("case_handling", CONVICTED))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("盗窃罪"), "{body}");
}

/// Users: a role's fields are checked (an agency needs its code, an auditor asks as no one); a
/// taken username is 409 and the user untouched; a disabled user is enabled again by an
/// administrator without their old sessions; users change their own password, which ends their
/// other sessions; each change is audited.
#[tokio::test]
async fn users_are_created_once_re_enabled_and_change_their_own_password() {
    let app = App::start().await;
    let admin = As::Key(ADMIN.into());
    for (body, field) in [
        (
            json!({"username": "fy-user", "password": password("fy-user"), "role": "agency"}),
            "agency:",
        ),
        (
            json!({"username": "audit-li", "password": password("audit-li"), "role": "auditor", "requester_kind": "court"}),
            "requester_kind:",
        ),
        (
            json!({"username": "ops-li", "password": password("ops-li"), "role": "operator", "agency": "110105-fy"}),
            "agency:",
        ),
        (
            json!({"username": "fy-bang", "password": password("fy-bang"), "role": "agency", "agency": "!!"}),
            "agency: `!!` is not an agency code",
        ),
    ] {
        let (status, answer) = app.post("/api/v1/users", &admin, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().starts_with(field),
            "{answer}"
        );
    }
    // Creating a user that exists is a conflict; the user keeps their password and role.
    app.user("clerk-li", "clerk", Some("court"), None).await;
    let (status, answer) = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "clerk-li", "password": "another-password-entirely", "role": "approver", "requester_kind": "court"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let first = app.login("clerk-li").await;
    assert_eq!(app.get("/api/v1/session", &first).await.1["role"], "clerk");

    // An administrator does not disable their own account, nor the last enabled administrator.
    app.user("admin-li", "administrator", None, None).await;
    let admin_li = app.login("admin-li").await;
    let (status, answer) = app
        .post("/api/v1/users/admin-li/disable", &admin_li, &json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("their own account"),
        "{answer}"
    );
    let (status, answer) = app
        .post("/api/v1/users/admin-li/disable", &admin, &json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("the last enabled administrator"),
        "{answer}"
    );
    app.user("admin-wu", "administrator", None, None).await;
    let (status, answer) = app
        .post("/api/v1/users/admin-li/disable", &admin, &json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another administrator is left: {answer}"
    );

    // Disabled, then enabled: the user logs in again; the session they had is gone for good.
    let enable = "/api/v1/users/clerk-li/enable";
    assert_eq!(
        app.post(enable, &admin, &json!({})).await.0,
        StatusCode::CONFLICT,
        "not disabled"
    );
    let (status, _) = app
        .post("/api/v1/users/clerk-li/disable", &admin, &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.post(enable, &first, &json!({})).await.0,
        StatusCode::UNAUTHORIZED,
        "a disabled user's session is gone"
    );
    let (_, clerk_key) = app.key("fy-clerk-system", "clerk", "court").await;
    assert_eq!(
        app.post(enable, &clerk_key, &json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/users/nobody-here/enable", &admin, &json!({}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, answer) = app.post(enable, &admin, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["user"]["disabled"], false);
    assert_eq!(
        app.get("/api/v1/session", &first).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Changing one's own password: the current one is required, the new one checked; the
    // other sessions end and the answer opens a new one.
    let one = app.login("clerk-li").await;
    let other = app.login("clerk-li").await;
    let change = "/api/v1/session/password";
    let new_password = "a-new-and-long-password";
    let (status, answer) = app
        .post(
            change,
            &one,
            &json!({"current_password": "not-the-password", "new_password": new_password}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, answer) = app
        .post(
            change,
            &one,
            &json!({"current_password": password("clerk-li"), "new_password": "short"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("new_password:")
    );
    // A key has no password to change.
    assert_eq!(
        app.post(
            change,
            &admin,
            &json!({"current_password": "x", "new_password": new_password})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let As::Session { cookie, csrf } = one.clone() else {
        unreachable!()
    };
    let response = app
        .http
        .post(format!("{}{change}", app.base))
        .header("cookie", format!("fengcun_session={cookie}"))
        .header("x-csrf-token", csrf)
        .json(&json!({"current_password": password("clerk-li"), "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    let renewed = As::Session {
        cookie: cookie
            .strip_prefix("fengcun_session=")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned(),
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    };
    for (session, status) in [
        (&one, StatusCode::UNAUTHORIZED),
        (&other, StatusCode::UNAUTHORIZED),
        (&renewed, StatusCode::OK),
    ] {
        assert_eq!(app.get("/api/v1/session", session).await.0, status);
    }
    for (password, status) in [
        (password("clerk-li"), StatusCode::UNAUTHORIZED),
        (new_password.to_owned(), StatusCode::OK),
    ] {
        let (got, _) = app
            .post(
                "/api/v1/session",
                &As::Nobody,
                &json!({"username": "clerk-li", "password": password}),
            )
            .await;
        assert_eq!(got, status);
    }

    let entries = app.audit().await;
    let has = |kind: &str, actor: &str, outcome: &str| {
        entries
            .iter()
            .any(|e| e["kind"] == kind && e["actor"] == actor && e["outcome"] == outcome)
    };
    assert!(has("user_changed", "admin", "enabled"));
    assert!(has("user_changed", "user:clerk-li", "password_changed"));
    assert!(has("authentication_refused", "user:clerk-li", "refused"));
    assert!(has("forbidden", "admin", "change password"));
    assert!(
        !entries
            .iter()
            .any(|e| e["kind"] == "user_changed" && e["outcome"] == "replaced")
    );
    let log = serde_json::to_string(&entries).unwrap();
    assert!(!log.contains(new_password));
}

/// The entries of one kind and outcome, with their detail parsed.
async fn entries_of(app: &App, kind: &str, outcome: &str) -> Vec<Value> {
    app.audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == kind && e["outcome"] == outcome)
        .map(|mut e| {
            e["detail"] = serde_json::from_str(e["detail"].as_str().unwrap_or("{}")).unwrap();
            e
        })
        .collect()
}

fn message(body: &Value) -> String {
    body["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_certificate_names_the_person_the_platform_knows_never_the_name_given() {
    let app = App::start().await;
    app.person("person-a", SEALED, "测试人").await;
    app.user("counter-li", "clerk", Some("public_security"), None)
        .await;
    let person = app.login("person-a").await;
    let counter = app.login("counter-li").await;
    let apply = |id: &str, name: Option<&str>, purpose: &str| {
        let mut body = json!({"id_number": id, "purpose": purpose});
        if let Some(name) = name {
            body["name"] = name.into();
        }
        body
    };
    // Logged in as the person of …0025, whose records the agencies sent under the name 测试人:
    // a certificate naming 李四 is refused, naming the field.
    let (status, body) = app
        .post(
            "/api/v1/certificates",
            &person,
            &apply(SEALED, Some("李四"), "就业"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).starts_with("name"), "{body}");
    // The name the platform knows is the certificate's, given or not.
    for name in [Some("测试人"), None] {
        let (status, issued) = app
            .post(
                "/api/v1/certificates",
                &person,
                &apply(SEALED, name, "就业"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let (_, verdict) = app
            .post(
                "/api/v1/verify",
                &As::Nobody,
                &json!({"token": issued["token"]}),
            )
            .await;
        assert_eq!(
            (verdict["valid"].clone(), verdict["name"].clone()),
            (json!(true), json!("测试人"))
        );
    }
    // Control and bidirectional characters are refused in the name and the purpose.
    for (name, purpose, field) in [
        (Some("测试\u{202e}人"), "就业", "name"),
        (Some("测试人\u{0}"), "就业", "name"),
        (None, "就业\u{202e}", "purpose"),
        (None, "就\u{2066}业", "purpose"),
        (None, "就\n业", "purpose"),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/certificates",
                &person,
                &apply(SEALED, name, purpose),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert!(message(&body).starts_with(field), "{body}");
    }
    // At the counter: a known person gets the known name, a wrong one is refused …
    let (status, body) = app
        .post(
            "/api/v1/certificates",
            &counter,
            &apply(CONVICTED, Some("李四"), "就业"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).starts_with("name"), "{body}");
    let (status, known) = app
        .post(
            "/api/v1/certificates",
            &counter,
            &apply(CONVICTED, None, "就业"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{known}");
    assert!(
        known["file"]
            .as_str()
            .unwrap()
            .contains("\"name\":\"测试人\"")
    );
    // … and for a person the platform knows nothing of, the clerk enters the name from the
    // identity card — required, and audited with who entered it.
    let (status, body) = app
        .post(
            "/api/v1/certificates",
            &counter,
            &apply(NOBODY, None, "就业"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).starts_with("name"), "{body}");
    let (status, entered) = app
        .post(
            "/api/v1/certificates",
            &counter,
            &apply(NOBODY, Some("王五"), "就业"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entered}");
    assert!(
        entered["file"]
            .as_str()
            .unwrap()
            .contains("\"name\":\"王五\"")
    );
    let issued = entries_of(&app, "certificate", "no_criminal_record").await;
    let by_counter: Vec<&Value> = issued
        .iter()
        .filter(|e| e["actor"] == "user:counter-li")
        .collect();
    assert_eq!(by_counter.len(), 1, "{issued:?}");
    assert_eq!(
        by_counter[0]["detail"]["name_entered_by"],
        "user:counter-li"
    );
    assert!(
        issued
            .iter()
            .filter(|e| e["actor"] == "user:person-a")
            .all(|e| e["detail"]["name_entered_by"].is_null()),
        "{issued:?}"
    );
}

#[tokio::test]
async fn an_administrator_alone_makes_no_person_account() {
    let app = App::start().await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            &As::Key(ADMIN.into()),
            &json!({"username": "someone", "password": password("someone"), "role": "requester",
                "requester_kind": "person", "id_number": SEALED}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Nobody can log in as that person …
    let (status, _) = app
        .post(
            "/api/v1/session",
            &As::Nobody,
            &json!({"username": "someone", "password": password("someone")}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // … and the refusal is audited with whose account it would have been: the person key, never
    // the identity number.
    let refused = entries_of(&app, "forbidden", "person_account").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["actor"], "admin");
    let person_key = app
        .server
        .running
        .state
        .store
        .person_key(&format!("id:{SEALED}"));
    assert_eq!(refused[0]["subject"], format!("person:{person_key}"));
    assert!(
        !app.audit()
            .await
            .iter()
            .any(|e| e.to_string().contains(SEALED))
    );
    // The enrolment path makes the account; its entry names the person by key.
    app.person("person-a", SEALED, "测试人").await;
    let created = entries_of(&app, "user_changed", "created").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["detail"]["person"], person_key.as_str());
    // An administrator does not see it among the users …
    let (status, users) = app.get("/api/v1/users", &As::Key(ADMIN.into())).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    assert!(!users.to_string().contains("person-a"), "{users}");
    // … may disable it (access taken away), named by the person key …
    let (status, body) = app
        .post(
            "/api/v1/users/person-a/disable",
            &As::Key(ADMIN.into()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed = entries_of(&app, "user_changed", "disabled").await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["detail"]["person"], person_key.as_str());
    // … but not enable it: that is the person's, with a code from a counter (refused, audited).
    let (status, body) = app
        .post(
            "/api/v1/users/person-a/enable",
            &As::Key(ADMIN.into()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let refused = entries_of(&app, "forbidden", "person_account").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[1]["subject"], format!("person:{person_key}"));
}

#[tokio::test]
async fn grants_die_with_the_user_they_were_for() {
    let app = App::start().await;
    app.user("clerk-zhang", "clerk", Some("court"), None).await;
    app.user("clerk-zhao", "clerk", Some("court"), None).await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    let approver = app.login("judge-liu").await;
    let mut grants = Vec::new();
    for clerk in ["clerk-zhang", "clerk-zhao"] {
        let session = app.login(clerk).await;
        let request = app.request(&session, "case_handling", None, SEALED).await;
        let (status, body) = app.approve(&approver, &request, Some(10)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        grants.push(body["grant"]["grant_id"].as_str().unwrap().to_owned());
        assert_eq!(
            answer_of(
                &app.lookup(&session, lookup_body("case_handling", SEALED))
                    .await
                    .1
            ),
            "records"
        );
    }
    // A pending request of the user to be disabled must not become a grant later.
    let zhang = app.login("clerk-zhang").await;
    let pending = app.request(&zhang, "case_handling", None, SEALED).await;
    // A username is never given to someone else by creating it again (409, nothing changes) …
    let (status, body) = app
        .post(
            "/api/v1/users",
            &As::Key(ADMIN.into()),
            &json!({"username": "clerk-zhang", "password": password("someone-else"), "role": "clerk", "requester_kind": "court"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // … and a disabled user's grants and pending requests end with the account, and stay ended
    // when it is enabled again.
    for clerk in ["clerk-zhang", "clerk-zhao"] {
        let (status, _) = app
            .post(
                &format!("/api/v1/users/{clerk}/disable"),
                &As::Key(ADMIN.into()),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = app
        .post(
            "/api/v1/users/clerk-zhang/enable",
            &As::Key(ADMIN.into()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let successor = app.login("clerk-zhang").await;
    assert_eq!(
        answer_of(
            &app.lookup(&successor, lookup_body("case_handling", SEALED))
                .await
                .1
        ),
        "no_record",
        "a grant revoked with its disabled user does not come back"
    );
    let (_, listed) = app.get("/api/v1/grants", &As::Key(AUDITOR.into())).await;
    for grant in &grants {
        let row = listed["grants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["grant_id"] == grant.as_str())
            .unwrap();
        assert!(row["revoked_at"].is_string(), "{row}");
    }
    let (status, body) = app.approve(&approver, &pending, Some(10)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let revoked = entries_of(&app, "grant_revoked", "revoked").await;
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    assert!(revoked.iter().all(|e| e["actor"] == "admin"));
}

#[tokio::test]
async fn keys_name_their_owner_and_an_owner_approves_none_of_their_own_requests() {
    let app = App::start().await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    let approver = app.login("judge-liu").await;
    // A key without an owner, or with an owner who is no user, is refused naming the field.
    for body in [
        json!({"name": "x", "role": "clerk", "requester_kind": "court"}),
        json!({"name": "x", "role": "clerk", "requester_kind": "court", "owner": "nobody-here"}),
    ] {
        let (status, answer) = app
            .post("/api/v1/keys", &As::Key(ADMIN.into()), &body)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(message(&answer).starts_with("owner"), "{answer}");
    }
    // The judge's own key asks; the judge, logged in, may not approve it.
    let (status, made) = app
        .post(
            "/api/v1/keys",
            &As::Key(ADMIN.into()),
            &json!({"name": "judge-liu-desk", "role": "clerk", "requester_kind": "court", "owner": "judge-liu"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["key"]["owner"], "judge-liu");
    let own_key = As::Key(made["secret"].as_str().unwrap().to_owned());
    let request = app.request(&own_key, "case_handling", None, SEALED).await;
    let (status, body) = app.approve(&approver, &request, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(message(&body).contains("their own"), "{body}");
    let refused = entries_of(&app, "forbidden", "self_approval").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["actor"], "user:judge-liu");
    // The refused attempt names what it was aimed at.
    assert_eq!(refused[0]["subject"], format!("request:{request}"));
    // Another approver may.
    app.user("judge-wu", "approver", Some("court"), None).await;
    let other = app.login("judge-wu").await;
    let (status, body) = app.approve(&other, &request, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The key reads under its grant while its owner is enabled; once the owner is disabled the
    // key is refused (and the refusal audited), so the grant it held opens nothing.
    assert_eq!(
        answer_of(
            &app.lookup(&own_key, lookup_body("case_handling", SEALED))
                .await
                .1
        ),
        "records"
    );
    let (status, _) = app
        .post(
            "/api/v1/users/judge-liu/disable",
            &As::Key(ADMIN.into()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .lookup(&own_key, lookup_body("case_handling", SEALED))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let refused = entries_of(&app, "authentication_refused", "owner_disabled").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
}

/// A counter clerk learns nothing of a sealed record from the name check: for a person whose only
/// record is sealed and who has no account, the platform "holds no name", exactly as for a person
/// never recorded; every refused name is audited.
#[tokio::test]
async fn the_name_check_reveals_no_sealed_record() {
    let app = App::start().await;
    app.user("counter-li", "clerk", Some("public_security"), None)
        .await;
    let counter = app.login("counter-li").await;
    let apply = |id: &str, name: Option<&str>| {
        let mut body = json!({"id_number": id, "purpose": "就业"});
        if let Some(name) = name {
            body["name"] = name.into();
        }
        body
    };
    let mut answers = Vec::new();
    for id in [SEALED, NOBODY] {
        let (without, refused) = app
            .post("/api/v1/certificates", &counter, &apply(id, None))
            .await;
        let (with, issued) = app
            .post("/api/v1/certificates", &counter, &apply(id, Some("某某某")))
            .await;
        answers.push((without, refused["message"].clone(), with));
        assert_eq!(with, StatusCode::CREATED, "{issued}");
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = entries_of(&app, "certificate", "refused").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused.iter().all(|e| !e.to_string().contains(SEALED)));
}

#[tokio::test]
async fn free_text_is_bounded_and_a_reason_is_a_reason() {
    let app = App::start().await;
    app.user("clerk-zhang", "clerk", Some("court"), None).await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    let clerk = app.login("clerk-zhang").await;
    let approver = app.login("judge-liu").await;
    let before = app.audit().await.len();
    let ask = |basis: String, reason: String| json!({"purpose": "case_handling", "id_number": SEALED, "basis": basis, "reason": reason});
    let basis = "（2026）京0105刑初88号".to_owned();
    let reason = "审理需要".to_owned();
    for (body, field) in [
        (ask("案".repeat(1_500_000 / 3), reason.clone()), "basis"),
        (ask(basis.clone(), "由".repeat(400_000 / 3)), "reason"),
        (ask("x".into(), reason.clone()), "basis"),
        (ask(basis.clone(), "x".into()), "reason"),
        (ask(basis.clone(), "  x  ".into()), "reason"),
        (ask(basis.clone(), "审理\u{202e}需要".into()), "reason"),
    ] {
        let (status, answer) = app.post("/api/v1/requests", &clerk, &body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {answer}"
        );
        assert!(message(&answer).starts_with(field), "{answer}");
    }
    // A look-up's basis: none, or a real one.
    for basis in ["x".to_owned(), "案".repeat(100_000)] {
        let (status, answer) = app
            .lookup(
                &clerk,
                json!({"purpose": "case_handling", "id_number": SEALED, "basis": basis}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer.contains("\"message\":\"basis"), "{answer}");
    }
    // Decisions and revocations give a reason within bounds.
    let request = app.request(&clerk, "case_handling", None, SEALED).await;
    for (path, reason) in [("approve", "x".to_owned()), ("refuse", "由".repeat(5000))] {
        let (status, answer) = app
            .post(
                &format!("/api/v1/requests/{request}/{path}"),
                &approver,
                &json!({"reason": reason}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert!(message(&answer).starts_with("reason"), "{answer}");
    }
    let (status, body) = app.approve(&approver, &request, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant = body["grant"]["grant_id"].as_str().unwrap().to_owned();
    for reason in [json!("x"), json!("由".repeat(5000)), Value::Null] {
        let body = if reason.is_null() {
            json!({})
        } else {
            json!({"reason": reason})
        };
        let (status, answer) = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/grants/{grant}"),
                &approver,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(answer.contains("\"message\":\"reason"), "{answer}");
    }
    // A certificate's purpose, too.
    app.user("counter-li", "clerk", Some("public_security"), None)
        .await;
    let counter = app.login("counter-li").await;
    let (status, answer) = app
        .post(
            "/api/v1/certificates",
            &counter,
            &json!({"id_number": NOBODY, "name": "王五", "purpose": "就".repeat(51)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(message(&answer).starts_with("purpose"), "{answer}");
    // None of the refused text reached the log: only the two requests' and the approval's
    // entries (and the logins') were added, each small.
    let added: Vec<Value> = app.audit().await.into_iter().skip(before).collect();
    assert!(
        added.iter().all(|e| e.to_string().len() < 2000),
        "{added:?}"
    );
}

#[tokio::test]
async fn a_grant_is_as_long_as_the_table_allows_and_its_revocation_keeps_its_reason() {
    let app = App::start().await;
    app.user("clerk-zhang", "clerk", Some("court"), None).await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    let clerk = app.login("clerk-zhang").await;
    let approver = app.login("judge-liu").await;
    let request = app.request(&clerk, "case_handling", None, SEALED).await;
    for days in [0, -1, 31, 10_000] {
        let (status, body) = app.approve(&approver, &request, Some(days)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{days}: {body}");
        assert_eq!(
            message(&body),
            "days: must be from 1 to 30 (the disclosure table's grant_days for court, case_handling)",
            "{days}"
        );
    }
    let (status, body) = app.approve(&approver, &request, Some(30)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant = body["grant"]["grant_id"].as_str().unwrap().to_owned();
    let expires: jiff::Timestamp = body["grant"]["expires"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        expires,
        "2026-07-01T02:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/grants/{grant}"),
            &approver,
            Some(&json!({"reason": "案件已审结，无需继续查阅"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let revoked = entries_of(&app, "grant_revoked", "revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        revoked[0]["detail"]["reason"], "案件已审结，无需继续查阅",
        "{revoked:?}"
    );
}

#[tokio::test]
async fn requests_and_grants_say_whom_they_concern_masked_for_the_requester() {
    let app = App::start().await;
    app.user("clerk-zhang", "clerk", Some("court"), None).await;
    app.user("judge-liu", "approver", Some("court"), None).await;
    let clerk = app.login("clerk-zhang").await;
    let approver = app.login("judge-liu").await;
    let (status, made) = app
        .post(
            "/api/v1/requests",
            &clerk,
            &json!({"purpose": "case_handling", "id_number": SEALED, "name": "张三丰",
                "basis": "（2026）京0105刑初88号", "reason": "审理需要"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let masked = json!({"name": "张某", "id_number": "1101**********0025"});
    let full = json!({"name": "张三丰", "id_number": SEALED});
    assert_eq!(made["request"]["person"], masked, "{made}");
    let request = made["request"]["request_id"].as_str().unwrap().to_owned();
    let (_, mine) = app.get("/api/v1/requests", &clerk).await;
    assert_eq!(mine["requests"][0]["person"], masked, "{mine}");
    let (_, all) = app.get("/api/v1/requests", &approver).await;
    assert_eq!(all["requests"][0]["person"], full, "{all}");
    let (status, decided) = app.approve(&approver, &request, None).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["grant"]["person"], full, "{decided}");
    let (_, mine) = app.get("/api/v1/grants", &clerk).await;
    assert_eq!(mine["grants"][0]["person"], masked, "{mine}");
    let (_, all) = app.get("/api/v1/grants", &approver).await;
    assert_eq!(all["grants"][0]["person"], full, "{all}");
    // Nothing of the identity number reaches the log.
    assert!(
        !app.audit()
            .await
            .iter()
            .any(|e| e.to_string().contains(SEALED))
    );
}

/// A seal takes effect on its date whatever the scheduler did: once a pending seal's date has come,
/// every look-up answers about its person exactly as about a person never recorded — same status,
/// same bytes — though the scheduler has not yet made it `sealed` (certificates already counted it
/// as sealed; look-ups showed it).
#[tokio::test]
async fn an_overdue_pending_seal_is_hidden_though_the_scheduler_has_not_run() {
    // The clock reads 2026-06-01; the scheduler's first round is an hour of real time away.
    // Under the tiered waiting periods (cn-minor-tiered, report §二(四)), theft punished with
    // eighteen months' imprisonment is sealed two years after the sentence was served: served on
    // 2024-06-05, sealed from 2026-06-05, pending until then. (Every event is dated in the past:
    // an event dated after its arrival is refused.)
    let app = App::start_under("cn-minor-tiered").await;
    let pending = generated_id(7);
    let pending_case = "110105-2022-000007";
    let mut events = conviction(
        pending_case,
        &pending,
        "盗窃罪",
        json!({"principal": "fixed_term", "months": 18}),
        ["2022-09-10", "2022-11-20", "2022-12-05"],
    );
    events.push(support::event(
        &format!("{pending_case}/completed"),
        "execution_completed",
        "2024-06-05",
        pending_case,
        "prison",
        &pending,
        json!({}),
    ));
    app.send(&events).await;
    let mut callers = Vec::new();
    for kind in &KINDS[..6] {
        let (_, key) = app.key(&format!("{kind}-system"), "clerk", kind).await;
        callers.push((*kind, key));
    }
    let court = callers[0].1.clone();
    let by_case = |case: &str| json!({"purpose": "case_handling", "case_code": case});

    // Before its date the record is not sealed: a court handling a case sees it.
    let before = app
        .lookup(&court, lookup_body("case_handling", &pending))
        .await;
    assert_eq!(answer_of(&before.1), "records");
    assert!(before.1.contains(pending_case), "{}", before.1);

    // The seal's day (09:00 in China), the scheduler not run.
    app.clock.set("2026-06-05T01:00:00Z".parse().unwrap());
    app.user("hr-wang", "requester", Some("employer"), None)
        .await;
    app.person("person-a", SEALED, "测试人").await;
    app.user("lawyer-li", "requester", Some("lawyer"), None)
        .await;
    callers.push(("employer", app.login("hr-wang").await));
    callers.push(("person", app.login("person-a").await));
    callers.push(("lawyer", app.login("lawyer-li").await));
    for (kind, who) in &callers {
        for purpose in PURPOSES {
            let overdue = app.lookup(who, lookup_body(purpose, &pending)).await;
            let nobody = app.lookup(who, lookup_body(purpose, NOBODY)).await;
            assert_eq!(overdue.0, StatusCode::OK, "{kind} {purpose}");
            assert_eq!(overdue, nobody, "{kind} {purpose}");
        }
    }
    assert_eq!(
        app.lookup(&court, by_case(pending_case)).await,
        app.lookup(&court, by_case("110105-2026-009999")).await
    );
    // The record was still pending all along: the scheduler's round now seals it.
    let (status, round) = app
        .post(
            "/api/v1/scheduler/run",
            &As::Key(OPERATOR.into()),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{round}");
    assert_eq!(round["transitions"], 1, "{round}");
}

/// Issue 18, end to end: a public-security violation case's events through the API (accepted,
/// penalty decision, decision effective, executed) are sealed under the art. 136 preset in force
/// beside the criminal policy; a police investigator's look-up for case handling, under a grant,
/// shows the record with the duty of confidentiality; an employer's look-ups and the certificate
/// show nothing, byte for byte as for a person never recorded.
#[tokio::test]
async fn a_violation_case_is_sealed_and_shown_only_to_case_handling_with_the_duty_of_confidentiality()
 {
    const VIOLATOR: &str = "110105199203070011";
    const CASE: &str = "110105-2026-000031";
    let app = App::start().await;
    let police = |key: &str, kind: &str, date: &str, extra: Value| {
        support::event(
            &format!("{CASE}/{key}"),
            kind,
            date,
            CASE,
            "public_security",
            VIOLATOR,
            extra,
        )
    };
    app.send(&[
        police(
            "accepted",
            "violation_accepted",
            "2026-02-10",
            json!({"offence_date": "2026-02-10", "violations": [{"name": "殴打他人"}]}),
        ),
        police(
            "penalized",
            "violation_penalized",
            "2026-02-12",
            json!({"document_number": "京公（朝）行罚决字〔2026〕31号", "violations": [{"name": "殴打他人"}], "penalty": {"detention_days": 10, "fine_yuan": 500}}),
        ),
        police(
            "effective",
            "violation_decision_effective",
            "2026-02-12",
            json!({}),
        ),
        police(
            "executed",
            "violation_execution_completed",
            "2026-02-22",
            json!({}),
        ),
    ])
    .await;
    // Sealed (not "not eligible" under the criminal policy in force): the operator's record view.
    let (status, record) = app
        .get(
            &format!("/api/v1/records/{CASE}?purpose=operations"),
            &As::Key(OPERATOR.into()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let text = record.to_string();
    assert!(text.contains("\"sealed\""), "{text}");
    assert!(text.contains("cn-public-security-violation"), "{text}");

    app.user("police-zhao", "clerk", Some("public_security"), None)
        .await;
    app.user("chief-sun", "approver", Some("public_security"), None)
        .await;
    app.user("hr-li", "requester", Some("employer"), None).await;
    let investigator = app.login("police-zhao").await;
    let chief = app.login("chief-sun").await;
    let employer = app.login("hr-li").await;
    let case_handling = || lookup_body("case_handling", VIOLATOR);
    // Without a grant: as for a person never recorded.
    let (_, hidden) = app.lookup(&investigator, case_handling()).await;
    let (_, nobody) = app
        .lookup(&investigator, lookup_body("case_handling", NOBODY))
        .await;
    assert_eq!(hidden, nobody);
    // For case handling, under a grant: shown with the duty of confidentiality (art. 136).
    let request = app
        .request(&investigator, "case_handling", None, VIOLATOR)
        .await;
    let (status, body) = app.approve(&chief, &request, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, seen) = app.lookup(&investigator, case_handling()).await;
    assert_eq!(status, StatusCode::OK);
    let seen: Value = serde_json::from_str(&seen).unwrap();
    assert_eq!(seen["answer"], "records", "{seen}");
    assert_eq!(seen["records"][0]["case_code"], CASE);
    assert_eq!(seen["records"][0]["record"]["state"], "sealed");
    assert_eq!(
        seen["records"][0]["confidentiality"],
        "本记录系依法查询的被封存的违反治安管理记录，查询单位应当对被封存的违法记录的情况予以保密（《中华人民共和国治安管理处罚法》第一百三十六条）。"
    );

    // The employer: every look-up it may make, byte for byte as for a person never recorded.
    for purpose in PURPOSES {
        let (status, about) = app.lookup(&employer, lookup_body(purpose, VIOLATOR)).await;
        let (never_status, never) = app.lookup(&employer, lookup_body(purpose, NOBODY)).await;
        assert_eq!((status, &about), (never_status, &never), "{purpose}");
    }
    // The certificate (issued at the counter, handed to the employer): no criminal record, the
    // same result and wording as for a person never recorded; nothing of the violation on it.
    app.user("counter-li", "clerk", Some("public_security"), None)
        .await;
    let counter = app.login("counter-li").await;
    let apply = |id: &str| json!({"id_number": id, "name": "测试人", "purpose": "就业"});
    let (status, violator) = app
        .post("/api/v1/certificates", &counter, &apply(VIOLATOR))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{violator}");
    let (_, never) = app
        .post("/api/v1/certificates", &counter, &apply(NOBODY))
        .await;
    assert_eq!(violator["result"], "no_criminal_record");
    assert_eq!(violator["result"], never["result"]);
    assert_eq!(violator["title"], never["title"]);
    // Byte for byte once who it is about (their number, its hash) is taken out: the signed
    // certificate's content — issuer, purpose, result, dates — is the never-recorded person's.
    let file = violator["file"].as_str().unwrap();
    assert!(
        !file.contains("殴打") && !file.contains(CASE) && !file.contains("行罚"),
        "{file}"
    );
    let strip = |text: &str| {
        let mut v: Value = serde_json::from_str(text).unwrap();
        for field in ["person", "signature", "number", "token"] {
            strip_field(&mut v, field);
        }
        v.to_string()
    };
    assert_eq!(strip(file), strip(never["file"].as_str().unwrap()));
}

fn strip_field(value: &mut Value, field: &str) {
    match value {
        Value::Object(map) => {
            map.remove(field);
            for v in map.values_mut() {
                strip_field(v, field);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_field(v, field)),
        _ => {}
    }
}

/// Supervision end to end (docs/supervision.md): a clerk's run of look-ups that find only a
/// sealed record is flagged by the server's round — the same flags `fengcun audit flags` computes
/// on demand — a supervisor sees it with its entries (person keys, never the record's facts),
/// may not review a flag about themself, reviews this one, and the review is in the audit log;
/// `/metrics` counts open flags by rule.
#[tokio::test]
async fn supervision_flag_is_found_reviewed_and_audited() {
    let app = App::start().await;
    let sealed_lookup = || lookup_body("case_handling", SEALED);
    let (_, clerk) = app.key("court-system", "clerk", "court").await;
    for _ in 0..3 {
        let (status, _) = app.lookup(&clerk, sealed_lookup()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let state = &app.server.running.state;
    // Before the run's gap (30 minutes) has passed nothing is certain.
    assert_eq!(fengcun_server::supervision::round(state).await.unwrap(), 0);
    app.clock
        .set(app.clock_now() + jiff::SignedDuration::from_hours(1));
    assert_eq!(fengcun_server::supervision::round(state).await.unwrap(), 1);
    assert_eq!(
        fengcun_server::supervision::round(state).await.unwrap(),
        0,
        "kept once"
    );

    // The same flags on demand, up to where the round closed.
    let until = app.clock_now()
        - jiff::SignedDuration::from_secs(fengcun_server::supervision::GRACE_SECONDS);
    let on_demand = fengcun_server::supervision::on_demand(
        &*state.store,
        &state.supervision.rules,
        None,
        until,
    )
    .await
    .unwrap();
    let kept: Vec<_> = state
        .store
        .flags(false)
        .await
        .unwrap()
        .iter()
        .map(fengcun_server::supervision::flag_of)
        .collect();
    assert_eq!(kept, on_demand);
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].rule.as_str(), kept[0].pattern.as_str()),
        ("fishing", "run")
    );

    let (status, metrics) = app
        .call(
            reqwest::Method::GET,
            "/metrics",
            &As::Key(OPERATOR.into()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains("fengcun_supervision_open_flags{rule=\"fishing\"} 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("fengcun_supervision_open_flags{rule=\"volume-day\"} 0\n"));

    app.user("jiandu-wang", "supervisor", None, None).await;
    let supervisor = app.login("jiandu-wang").await;
    // A clerk sees no flags.
    assert_eq!(
        app.get("/api/v1/supervision/flags", &clerk).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, flags) = app
        .get("/api/v1/supervision/flags?open=true", &supervisor)
        .await;
    assert_eq!(status, StatusCode::OK, "{flags}");
    let flag = &flags["flags"][0];
    assert_eq!(flag["rule"], "fishing");
    assert_eq!(flag["entries"].as_array().unwrap().len(), 3);
    let id = flag["id"].as_str().unwrap().to_owned();
    let (status, text) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/supervision/flags/{id}"),
            &supervisor,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let detail: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(detail["entries"].as_array().unwrap().len(), 3);
    assert_eq!(detail["entries"][0]["kind"], "lookup");
    assert_eq!(flag["subject"], detail["entries"][0]["actor"]);
    // Person keys only: the sealed record's facts are nowhere in what the supervisor sees.
    for secret in ["危险驾驶罪", "criminal_detention", SEALED, SEALED_CASE] {
        assert!(
            !text.contains(secret),
            "{secret} shown through a flag: {text}"
        );
        assert!(!flags.to_string().contains(secret));
    }
    // And a supervisor cannot look the record up.
    assert_eq!(
        app.lookup(&supervisor, sealed_lookup()).await.0,
        StatusCode::FORBIDDEN
    );

    // A flag about the supervisor themself: refused, and the refusal audited.
    let own = fengcun_store::FlagRow {
        id: "00000000000000aa".into(),
        subject: "user:jiandu-wang".into(),
        ..fengcun_server::supervision::row(&kept[0], app.clock_now())
    };
    state.store.put_flags(&[own]).await.unwrap();
    let review = json!({"conclusion": "no_issue", "note": "核查无异常"});
    let (status, body) = app
        .post(
            "/api/v1/supervision/flags/00000000000000aa/review",
            &supervisor,
            &review,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/supervision/flags/{id}/review"),
            &supervisor,
            &json!({"conclusion": "maybe", "note": "核查无异常"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("conclusion"), "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/supervision/flags/{id}/review"),
            &supervisor,
            &json!({"conclusion": "referred", "note": "移送纪检监察部门核查"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conclusion"], "referred");
    assert_eq!(body["reviewed_by"], "user:jiandu-wang");
    let (status, _) = app
        .post(
            &format!("/api/v1/supervision/flags/{id}/review"),
            &supervisor,
            &json!({"conclusion": "no_issue", "note": "再次审查"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (_, log) = app
        .get("/api/v1/audit/entries?limit=1000", &As::Key(AUDITOR.into()))
        .await;
    let entries = log["entries"].as_array().unwrap();
    let reviewed: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "flag_reviewed")
        .collect();
    assert_eq!(reviewed.len(), 1, "{log}");
    assert_eq!(reviewed[0]["actor"], "user:jiandu-wang");
    assert_eq!(reviewed[0]["outcome"], "referred");
    assert_eq!(reviewed[0]["subject"], format!("flag:{id}"));
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "lookup" && e["subject"] == format!("flag:{id}")),
        "the supervisor's look-up of the flag is an entry"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "forbidden" && e["outcome"] == "review flag")
    );
    let (_, metrics) = app
        .call(
            reqwest::Method::GET,
            "/metrics",
            &As::Key(OPERATOR.into()),
            None,
        )
        .await;
    assert!(
        metrics.contains("fengcun_supervision_open_flags{rule=\"fishing\"} 1\n"),
        "only the supervisor's own flag is open: {metrics}"
    );
    app.server.running.stop();
}
