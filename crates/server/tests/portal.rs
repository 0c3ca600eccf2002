//! The person's own portal (docs/person.md) through the real server: counter enrolment and
//! activation codes (expired, reused, guessed — refused, throttled, audited), the person's own
//! records, notices and certificates, and that a person's session finds nothing of anyone else,
//! whatever ids it sends (a property test over many persons).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_access::RequesterKind;
use fengcun_server::Role;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::console::{AUDITOR, KEYS, OPERATOR, SEALED, SEALED_CASE, SEALED_NAME};
use support::{Engine, Server, api_key};

mod support;

/// A public-security counter's clerk (enrols persons), as a configured key.
const COUNTER: &str = "counter-key-for-portal-tests";
/// Clerks of the police counter (110105-ga), logged in as themselves: one opens an enrolment,
/// the other confirms it.
const DESK_LI: &str = "desk-li";
const DESK_WANG: &str = "desk-wang";
/// A clerk of the court's counter (110105-fy): the police counter's enrolments are not theirs.
const DESK_COURT: &str = "desk-court";
/// A procuratorate clerk: not a counter that enrols.
const PROSECUTOR: &str = "prosecutor-key-for-portal-tests";

async fn start(label: &str, now: &str) -> Server {
    let mut config = support::console::config(&KEYS);
    config.api_keys.push(api_key(
        "counter",
        Role::Clerk,
        None,
        Some(RequesterKind::PublicSecurity),
        COUNTER,
    ));
    config.api_keys.push(api_key(
        "prosecutor",
        Role::Clerk,
        None,
        Some(RequesterKind::Procuratorate),
        PROSECUTOR,
    ));
    // The court by its name; the procuratorate left without one.
    config.agencies = vec![support::registered_agency("110105-fy")];
    let server = Server::start(config, now, Engine::Sqlite, label).await;
    support::console::create_users(
        &server,
        support::console::ADMIN,
        &[
            (DESK_LI, "clerk", Some("public_security"), Some("110105-ga")),
            (
                DESK_WANG,
                "clerk",
                Some("public_security"),
                Some("110105-ga"),
            ),
            (DESK_COURT, "clerk", Some("court"), Some("110105-fy")),
        ],
    )
    .await;
    server
}

/// A session of a console user of the tests (cookie, CSRF token).
async fn desk(server: &Server, username: &str) -> (String, String) {
    login(server, username, &support::browser::password(username)).await
}

fn at(server: &Server, now: &str) {
    server.clock.set(now.parse().unwrap());
}

/// The events of one conviction of `id` (named `name`) in `case`: dangerous driving, 拘役 two
/// months; effective on `effective` when given (else pronounced only).
fn case_events(
    case: &str,
    id: &str,
    name: &str,
    judged: &str,
    effective: Option<&str>,
) -> Vec<Value> {
    let agency = |kind: &str, code: &str| json!({"kind": kind, "code": code});
    let person = json!({"id_number": id, "name": name});
    let mut events = vec![
        json!({"idempotency_key": format!("{case}/filed"), "kind": "filed", "date": "2024-01-10", "case_code": case,
            "agency": agency("public_security", "110105-ga"), "person": person,
            "charges": [{"name": "危险驾驶罪"}], "offence_date": "2024-01-10"}),
        json!({"idempotency_key": format!("{case}/judgment"), "kind": "judgment", "date": judged, "case_code": case,
            "agency": agency("court", "110105-fy"), "person": person,
            "document_number": format!("({})某刑初{}号", &judged[..4], &case[12..]),
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "危险驾驶罪"}],
                "sentence": {"principal": "criminal_detention", "months": 2},
                "offence_date": "2024-01-10", "recidivist": false, "prior_convictions": 0}}),
    ];
    if let Some(effective) = effective {
        events.push(json!({"idempotency_key": format!("{case}/effective"), "kind": "judgment_effective", "date": effective,
            "case_code": case, "agency": agency("court", "110105-fy"), "person": person}));
    }
    events
}

/// The first person's second case: filed, then not prosecuted (discretionary) on 2026-05-20 —
/// sealed that day, a 涉罪记录 (it was pending a seal on a decision dated after the clock, which
/// an event can no longer be: an event dated after its arrival is refused).
fn pending_case_events() -> Vec<Value> {
    let case = PENDING_CASE;
    let person = json!({"id_number": SEALED, "name": SEALED_NAME});
    vec![
        json!({"idempotency_key": format!("{case}/filed"), "kind": "filed", "date": "2026-05-02", "case_code": case,
            "agency": {"kind": "public_security", "code": "110105-ga"}, "person": person,
            "charges": [{"name": "危险驾驶罪"}], "offence_date": "2026-05-01"}),
        json!({"idempotency_key": format!("{case}/np"), "kind": "not_prosecuted", "date": "2026-05-20", "case_code": case,
            "agency": {"kind": "procuratorate", "code": "110105-jc"}, "person": person,
            "charges": [{"name": "危险驾驶罪"}], "ground": "discretionary", "prior_convictions": 0}),
    ]
}

const PENDING_CASE: &str = "110105-2026-000009";

/// A person enrolled by the counter's two clerks: the first opens the enrolment, the second
/// confirms it from the same card; the confirmation's answer (with the code).
async fn enrol(server: &Server, id: &str, name: &str) -> Value {
    let (first, second) = (desk(server, DESK_LI).await, desk(server, DESK_WANG).await);
    let opened = open_enrolment(server, &first, id, name).await;
    let (status, body) = confirm(server, &second, &opened, id, name).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The number of an enrolment the clerk of `session` opens.
async fn open_enrolment(
    server: &Server,
    session: &(String, String),
    id: &str,
    name: &str,
) -> String {
    let (status, body) = as_session(
        server,
        session,
        reqwest::Method::POST,
        "/api/v1/enrolments",
        Some(&json!({"id_number": id, "name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(
        body.get("code").is_none(),
        "no code before a second clerk: {body}"
    );
    body["enrolment"].as_str().unwrap().to_owned()
}

async fn confirm(
    server: &Server,
    session: &(String, String),
    enrolment: &str,
    id: &str,
    name: &str,
) -> (StatusCode, Value) {
    let (status, body) = as_session(
        server,
        session,
        reqwest::Method::POST,
        &format!("/api/v1/enrolments/{enrolment}/confirmation"),
        Some(&json!({"id_number": id, "name": name})),
    )
    .await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The counter's list as the clerk of `session` sees it.
async fn waiting(server: &Server, session: &(String, String)) -> Value {
    let (status, body) = as_session(
        server,
        session,
        reqwest::Method::GET,
        "/api/v1/enrolments",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn activate(server: &Server, code: &str, id: &str, password: &str) -> (StatusCode, Value) {
    let response = server
        .http
        .post(format!("{}/api/v1/activation", server.base))
        .json(&json!({"code": code, "id_number": id, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A session of the API: cookie header and CSRF token, after logging in with the identity number.
async fn login(server: &Server, id: &str, password: &str) -> (String, String) {
    let response = server
        .http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({"username": id, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

async fn as_session(
    server: &Server,
    session: &(String, String),
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, String) {
    let mut request = server
        .http
        .request(method, format!("{}{path}", server.base))
        .header("cookie", &session.0)
        .header("x-csrf-token", &session.1);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn entries<'a>(log: &'a [Value], kind: &str, outcome: &str) -> Vec<&'a Value> {
    log.iter()
        .filter(|e| e["kind"] == kind && e["outcome"] == outcome)
        .collect()
}

/// An entry's detail (the log answers it as JSON text).
fn detail(entry: &Value) -> Value {
    serde_json::from_str(entry["detail"].as_str().unwrap_or("null")).unwrap()
}

const PASSWORD: &str = "a-long-enough-password";

#[tokio::test]
async fn activation_codes_expire_are_used_once_and_guesses_are_throttled() {
    let server = start("portal-activation", "2026-06-01T02:00:00Z").await;
    // Only a counter (public security or court) enrols; the refusal is audited.
    let (status, _) = server
        .post(
            "/api/v1/enrolments",
            PROSECUTOR,
            &json!({"id_number": SEALED, "name": SEALED_NAME}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Expired: 72 hours and a minute later.
    let first = enrol(&server, SEALED, SEALED_NAME).await;
    let code = first["code"].as_str().unwrap().to_owned();
    assert_eq!(first["expires_at"], "2026-06-04T02:00:00Z");
    at(&server, "2026-06-04T02:01:00Z");
    let (status, body) = activate(&server, &code, SEALED, PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    // A new code replaces it; the old one is refused as used.
    let second = enrol(&server, SEALED, SEALED_NAME).await;
    let fresh = second["code"].as_str().unwrap().to_owned();
    assert_ne!(fresh, code);
    assert_eq!(second["username"], first["username"], "the same account");
    // Someone else's identity number with the right code: not a code for it.
    let (status, body) = activate(&server, &fresh, "11010519491231002X", PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("not a valid"),
        "{body}"
    );
    let (status, body) = activate(&server, &fresh, SEALED, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], first["username"]);
    // Used once: a second use is refused, the password stays.
    let (status, body) = activate(&server, &fresh, SEALED, "another-password-1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("used"), "{body}");
    let session = login(&server, SEALED, PASSWORD).await;
    let (status, _) = as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/records",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Guessed: the identity number's attempts are counted as logins are (the refused reuse above
    // is the first in a row); the fifth in a row locks it, and then even the right code waits.
    let third = enrol(&server, SEALED, SEALED_NAME).await;
    let right = third["code"].as_str().unwrap().to_owned();
    for n in 0..4 {
        let (status, body) = activate(&server, &format!("WRONGCODE{n:03}"), SEALED, PASSWORD).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{n}: {body}");
    }
    let (status, body) = activate(&server, &right, SEALED, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Said as what it is: a person activating an account has never logged in.
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many failed attempts") && !m.contains("login")),
        "{body}"
    );
    // After the lock, the right code works.
    at(&server, "2026-06-04T02:10:00Z");
    let (status, body) = activate(&server, &right, SEALED, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let log = server.audit_log(AUDITOR).await;
    let refused: Vec<String> = entries(&log, "authentication_refused", "activation_refused")
        .iter()
        .map(|e| detail(e)["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        refused,
        [
            "expired", "unknown", "used", "unknown", "unknown", "unknown", "unknown"
        ]
    );
    assert_eq!(
        entries(&log, "authentication_refused", "throttled").len(),
        1
    );
    assert_eq!(entries(&log, "user_changed", "activation_code").len(), 3);
    assert_eq!(entries(&log, "user_changed", "activated").len(), 2);
    assert_eq!(entries(&log, "forbidden", "enrol person").len(), 1);
    // No entry names the identity number.
    assert!(log.iter().all(|e| !e.to_string().contains(SEALED)));
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// Two clerks open a person's account, never one: the clerk who opened an enrolment cannot
/// confirm it, a second clerk must type the same card's number, another counter does not see it,
/// it expires, it is confirmed once — and only a confirmation makes a code. Each refusal audited.
#[tokio::test]
async fn an_account_is_opened_by_two_clerks_never_by_one() {
    use fengcun_store::prelude::AccessStore;
    let server = start("portal-two-clerks", "2026-06-01T02:00:00Z").await;
    let (li, wang, court) = (
        desk(&server, DESK_LI).await,
        desk(&server, DESK_WANG).await,
        desk(&server, DESK_COURT).await,
    );
    // A key names nobody at the counter: it can neither open nor confirm.
    let (status, body) = server
        .post(
            "/api/v1/enrolments",
            COUNTER,
            &json!({"id_number": SEALED, "name": SEALED_NAME}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let opened = open_enrolment(&server, &li, SEALED, SEALED_NAME).await;
    assert!(opened.starts_with("EN-") && opened.len() == 13, "{opened}");
    // No account yet: the first clerk alone makes nothing a second could be refused over.
    assert!(
        server
            .store
            .user(&fengcun_server::service::portal::person_username(
                &server.store.person_key(&format!("id:{SEALED}"))
            ))
            .await
            .unwrap()
            .is_none()
    );
    // The counter's list shows it to both clerks, naming no person; the court's counter has none.
    let list = waiting(&server, &wang).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["enrolment"], opened.as_str());
    assert_eq!(list[0]["opened_by"], "user:desk-li");
    assert_eq!(list[0]["own"], false);
    assert_eq!(list[0]["expires_at"], "2026-06-02T02:00:00Z");
    assert!(!list.to_string().contains(SEALED));
    assert_eq!(waiting(&server, &li).await[0]["own"], true);
    assert_eq!(waiting(&server, &court).await, json!([]));
    let (status, _) = server.get("/api/v1/enrolments", PROSECUTOR).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The clerk who opened it cannot confirm it; nor can a key.
    let (status, body) = confirm(&server, &li, &opened, SEALED, SEALED_NAME).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("second clerk"),
        "{body}"
    );
    let (status, _) = server
        .post(
            &format!("/api/v1/enrolments/{opened}/confirmation"),
            COUNTER,
            &json!({"id_number": SEALED, "name": SEALED_NAME}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another counter does not find it, whatever number it types.
    let (status, body) = confirm(&server, &court, &opened, SEALED, "别的名字").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // The second clerk must read the same card: another person's number is refused.
    let (status, body) = confirm(&server, &wang, &opened, "11010519491231002X", "王其他").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("card:"),
        "{body}"
    );
    // Until it is confirmed, nothing opens the account: no code was ever made.
    let (status, _) = activate(&server, "ABCDEFGHJKMN", SEALED, PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The second clerk, with the same card: the account and the code, once.
    let (status, enrolled) = confirm(&server, &wang, &opened, SEALED, SEALED_NAME).await;
    assert_eq!(status, StatusCode::CREATED, "{enrolled}");
    let code = enrolled["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 12);
    assert_eq!(enrolled["expires_at"], "2026-06-04T02:00:00Z");
    let (status, body) = confirm(&server, &wang, &opened, SEALED, SEALED_NAME).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        waiting(&server, &wang).await,
        json!([]),
        "a confirmed enrolment leaves the list"
    );
    let (status, body) = activate(&server, &code, SEALED, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Enrolled now. Opening says nothing of the account (an opening with another name is
    // taken); the second clerk's name must be the first clerk's, and the account's.
    let renamed = open_enrolment(&server, &li, SEALED, "别的名字").await;
    let (status, body) = confirm(&server, &wang, &renamed, SEALED, "别的名字").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("card: the name differs"),
        "{body}"
    );
    let late = open_enrolment(&server, &wang, SEALED, SEALED_NAME).await;
    let (status, body) = confirm(&server, &li, &late, SEALED, "别的名字").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("card:"),
        "{body}"
    );
    // Guessing is not checking: the third confirmation that does not match closes the enrolment.
    let guessed = open_enrolment(&server, &wang, "110105200801010014", "赵另外").await;
    for n in 1..=3 {
        let (status, body) = confirm(
            &server,
            &li,
            &guessed,
            "110105200801010014",
            &format!("赵{n}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{n}: {body}");
    }
    let (status, body) = confirm(&server, &li, &guessed, "110105200801010014", "赵另外").await;
    assert_eq!(status, StatusCode::CONFLICT, "closed: {body}");
    // Not confirmed within 24 hours: expired; the account keeps its password.
    at(&server, "2026-06-02T02:00:01Z");
    // (A console session lasts less than a day: the clerk logs in again.)
    let li = desk(&server, DESK_LI).await;
    assert_eq!(
        waiting(&server, &li).await,
        json!([]),
        "an expired enrolment leaves the list"
    );
    let (status, body) = confirm(&server, &li, &late, SEALED, SEALED_NAME).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    login(&server, SEALED, PASSWORD).await;

    // Two enrolments of one person: confirming one closes the other at once (the same instant),
    // which would otherwise set the new password again.
    let wang = desk(&server, DESK_WANG).await;
    let (one, two) = (
        open_enrolment(&server, &li, "110105200802020011", "钱别人").await,
        open_enrolment(&server, &li, "110105200802020011", "钱别人").await,
    );
    let (status, body) = confirm(&server, &wang, &one, "110105200802020011", "钱别人").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = confirm(&server, &wang, &two, "110105200802020011", "钱别人").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("closed"),
        "{body}"
    );
    // An enrolment whose opener has since been disabled is no longer vouched for: closed.
    let orphan = open_enrolment(&server, &wang, "11010519491231002X", "王其他").await;
    let (status, body) = server
        .post(
            &format!("/api/v1/users/{DESK_WANG}/disable"),
            support::console::ADMIN,
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = confirm(&server, &li, &orphan, "11010519491231002X", "王其他").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("disabled"),
        "{body}"
    );
    // The activation page's language switch comes back to it.
    let switched = server
        .http
        .get(format!("{}/console/lang/en?back=/activate", server.base))
        .send()
        .await
        .unwrap();
    // (This client keeps no cookies: the page it lands on is the activation page itself.)
    assert_eq!(switched.url().path(), "/activate");
    // One clerk cannot flood the counter's list, not even with requests sent all at once.
    let max = fengcun_server::service::portal::MAX_WAITING_PER_CLERK;
    let card = json!({"id_number": SEALED, "name": SEALED_NAME});
    let sent = (0..max + 5).map(|_| {
        as_session(
            &server,
            &li,
            reqwest::Method::POST,
            "/api/v1/enrolments",
            Some(&card),
        )
    });
    let answers = futures_util::future::join_all(sent).await;
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, max, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, _)| [StatusCode::CREATED, StatusCode::CONFLICT].contains(status)),
        "{answers:?}"
    );

    let log = server.audit_log(AUDITOR).await;
    assert_eq!(
        entries(&log, "user_changed", "enrolment_opened").len(),
        7 + fengcun_server::service::portal::MAX_WAITING_PER_CLERK
    );
    let accounts = entries(&log, "user_changed", "created")
        .into_iter()
        .filter(|e| detail(e)["role"] == "person")
        .count();
    assert_eq!(
        accounts, 2,
        "each person's account made once, by a confirmation"
    );
    let codes = entries(&log, "user_changed", "activation_code");
    assert_eq!(codes.len(), 2);
    assert_eq!(codes[0]["actor"], "user:desk-wang");
    assert_eq!(detail(codes[0])["enrolment"], opened.as_str());
    assert_eq!(detail(codes[0])["opened_by"], "user:desk-li");
    let refusals: Vec<String> = entries(&log, "forbidden", "confirm enrolment")
        .iter()
        .map(|e| detail(e)["reason"].as_str().unwrap().to_owned())
        .collect();
    let key = "a counter's enrolment is opened and confirmed by clerks logged in as themselves, not with a key";
    assert_eq!(
        refusals,
        [
            "same_clerk",
            key,
            "other_person",
            "account_differs",
            "other_person",
            "other_person",
            "other_person",
            "other_person"
        ]
    );
    assert_eq!(
        entries(&log, "forbidden", "enrol person").len(),
        2,
        "the key that tried to open one, the procuratorate clerk who asked for the list"
    );
    assert!(log.iter().all(|e| !e.to_string().contains(SEALED)));
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// Persons of the isolation tests: identity number, name, case code.
const PERSONS: &[(&str, &str, &str)] = &[
    (SEALED, SEALED_NAME, SEALED_CASE),
    ("11010519491231002X", "王其他", "110105-2024-000002"),
    ("110105200801010014", "赵另外", "110105-2024-000003"),
    ("110105200802020011", "钱别人", "110105-2024-000004"),
];

#[test]
fn a_persons_session_finds_nothing_of_anyone_else() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, session, others) = runtime.block_on(async {
        let server = start("portal-isolation", "2026-06-01T02:00:00Z").await;
        let mut events = Vec::new();
        for (id, name, case) in PERSONS {
            events.extend(case_events(
                case,
                id,
                name,
                "2024-03-01",
                Some("2024-03-12"),
            ));
        }
        // The first person's second case: not prosecuted (酌定不起诉), the decision dated
        // 2026-05-20 (the clock stands at 2026-06-01) — sealed on that date; being no conviction,
        // it lifts no seal.
        events.extend(pending_case_events());
        server.send_events(OPERATOR, &events).await;
        // Every person enrolled and activated, each with a certificate.
        let mut others = Vec::new();
        for (n, (id, name, case)) in PERSONS.iter().enumerate() {
            let code = enrol(&server, id, name).await["code"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                activate(&server, &code, id, PASSWORD).await.0,
                StatusCode::OK
            );
            let session = login(&server, id, PASSWORD).await;
            let (status, issued) = as_session(
                &server,
                &session,
                reqwest::Method::POST,
                "/api/v1/me/certificates",
                Some(&json!({"id_number": id, "purpose": "就业"})),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{issued}");
            let issued: Value = serde_json::from_str(&issued).unwrap();
            let (_, notices) = as_session(
                &server,
                &session,
                reqwest::Method::GET,
                "/api/v1/me/notices",
                None,
            )
            .await;
            let notices: Value = serde_json::from_str(&notices).unwrap();
            let notice = notices["notices"][0]["notice_id"]
                .as_str()
                .unwrap_or("none")
                .to_owned();
            if n > 0 {
                others.push((
                    *id,
                    *name,
                    *case,
                    issued["number"].as_str().unwrap().to_owned(),
                    notice,
                ));
            }
        }
        let session = login(&server, SEALED, PASSWORD).await;
        (server, session, others)
    });

    // The person's own records: the sealed one with its date and basis, the pending one.
    let (status, mine) = runtime.block_on(as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/records",
        None,
    ));
    assert_eq!(status, StatusCode::OK, "{mine}");
    let mine: Value = serde_json::from_str(&mine).unwrap();
    let records = mine["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{mine}");
    let sealed = records
        .iter()
        .find(|r| r["case_code"] == SEALED_CASE)
        .unwrap();
    assert_eq!(sealed["state"], "sealed", "{sealed}");
    assert!(
        sealed["explanation"]
            .as_str()
            .unwrap()
            .starts_with("您的这条记录已于"),
        "{sealed}"
    );
    assert!(
        sealed["explanation"]
            .as_str()
            .unwrap()
            .contains("封存，依据"),
        "{sealed}"
    );
    assert!(!sealed["basis"].as_array().unwrap().is_empty(), "{sealed}");
    assert_eq!(sealed["charges"], json!(["危险驾驶罪"]));
    assert_eq!(sealed["court"], "110105-fy");
    assert_eq!(sealed["court_name"], "某区人民法院");
    // The dates and the bases as the policy (data/policies/cn-minor-opt1.toml) writes them.
    assert_eq!(
        sealed["explanation"],
        "您的这条记录已于2024年3月12日封存，依据最高人民法院咨询委员会第六调研组《建立轻微犯罪记录封存制度的调研报告》第一种意见（研究方案，尚非有效法律文件）：自判决生效之日起自动封存（调研报告二(四)：自动封存，以刑事程序终结为节点）。"
    );
    assert_eq!(sealed["state_date"], "2024-03-12");
    let pending = records
        .iter()
        .find(|r| r["case_code"] == PENDING_CASE)
        .unwrap();
    assert_eq!(pending["state"], "sealed", "{pending}");
    assert_eq!(
        pending["court"], "110105-jc",
        "the procuratorate decided it"
    );
    assert_eq!(
        pending["court_name"], "110105-jc",
        "no name configured: its code"
    );
    assert_eq!(pending["state_date"], "2026-05-20");
    assert_eq!(
        pending["explanation"],
        "您的这条记录已于2026年5月20日封存，依据最高人民法院咨询委员会第六调研组《建立轻微犯罪记录封存制度的调研报告》第一种意见（研究方案，尚非有效法律文件）：涉罪记录自作出处理决定之日起封存（调研报告二(三)：侦查、起诉阶段的涉罪记录亦应予以封存）。"
    );
    let (status, notices) = runtime.block_on(as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/notices",
        None,
    ));
    assert_eq!(status, StatusCode::OK);
    assert!(notices.contains("封存通知书"), "{notices}");

    // Another's ids answer exactly as ids that do not exist.
    let absent = runtime.block_on(as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/notices/no-such-notice",
        None,
    ));
    let absent_certificate = runtime.block_on(as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/certificates/FC-2026-000000000000",
        None,
    ));
    let nobody = runtime.block_on(as_session(
        &server,
        &session,
        reqwest::Method::POST,
        "/api/v1/me/certificates",
        Some(&json!({"id_number": "110105199001010010", "purpose": "就业"})),
    ));
    for (id, _, _, certificate, notice) in &others {
        let theirs = runtime.block_on(as_session(
            &server,
            &session,
            reqwest::Method::GET,
            &format!("/api/v1/me/notices/{notice}"),
            None,
        ));
        assert_eq!(theirs.0, absent.0);
        assert_eq!(
            theirs.1.replace(notice.as_str(), ""),
            absent.1.replace("no-such-notice", "")
        );
        let theirs = runtime.block_on(as_session(
            &server,
            &session,
            reqwest::Method::GET,
            &format!("/api/v1/certificates/{certificate}"),
            None,
        ));
        assert_eq!(theirs, absent_certificate);
        let theirs = runtime.block_on(as_session(
            &server,
            &session,
            reqwest::Method::POST,
            "/api/v1/me/certificates",
            Some(&json!({"id_number": id, "purpose": "就业"})),
        ));
        assert_eq!(theirs, nobody);
    }
    // Another role has no portal (refused and audited).
    let (status, _) = runtime.block_on(server.get("/api/v1/me/records", COUNTER));
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Random requests of this person's session, with the others' ids put in paths and bodies:
    // no answer holds anything of theirs.
    let secrets: Vec<String> = others
        .iter()
        .flat_map(|(id, name, case, certificate, _)| {
            [
                id.to_string(),
                name.to_string(),
                case.to_string(),
                certificate.clone(),
            ]
        })
        .collect();
    let paths = prop::sample::select(vec![
        "/api/v1/me/records",
        "/api/v1/me/notices",
        "/api/v1/me/notices/{notice}",
        "/api/v1/me/certificates",
        "/api/v1/certificates/{certificate}",
        "/api/v1/certificates/{certificate}/page",
        "/api/v1/records/{case}?purpose=self_inspection",
        "/console/me",
        "/console/me/notices",
        "/console/me/notices/{notice}",
        "/console/me/certificates",
        "/api/v1/lookups",
        "/api/v1/me/certificates#post",
    ]);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    runner
        .run(&(paths, 0..others.len()), |(path, who)| {
            let (id, _, case, certificate, notice) = &others[who];
            let path = path
                .replace("{notice}", notice)
                .replace("{certificate}", certificate)
                .replace("{case}", case);
            let (method, path, body) = if let Some(path) = path.strip_suffix("#post") {
                (
                    reqwest::Method::POST,
                    path.to_owned(),
                    Some(json!({"id_number": id, "purpose": "就业"})),
                )
            } else if path == "/api/v1/lookups" {
                (
                    reqwest::Method::POST,
                    path,
                    Some(json!({"purpose": "self_inspection", "id_number": id})),
                )
            } else {
                (reqwest::Method::GET, path, None)
            };
            let (_, answer) =
                runtime.block_on(as_session(&server, &session, method, &path, body.as_ref()));
            // The page may repeat the address asked for (the notice id names its case): what
            // was sent is no leak; anything else of theirs is.
            let answer = answer.replace(path.as_str(), "");
            for secret in &secrets {
                prop_assert!(
                    !answer.contains(secret.as_str()),
                    "{path} shows {secret}: {answer}"
                );
            }
            Ok(())
        })
        .unwrap();
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// The portal in Chromium: a clerk at a police counter enrols a person; the person activates the
/// account, logs in with the identity number, sees the sealed record with its date and basis and
/// the pending one with its date to come, their notices, and applies for a certificate.
#[tokio::test]
async fn the_portal_in_a_browser() {
    let server = start("portal-browser", "2026-06-01T02:00:00Z").await;
    let mut events = support::console::sealed_case_events();
    events.extend(pending_case_events());
    server.send_events(OPERATOR, &events).await;
    support::console::create_users(
        &server,
        support::console::ADMIN,
        &[
            (
                "counter-li",
                "clerk",
                Some("public_security"),
                Some("110105-ga"),
            ),
            (
                "counter-wang",
                "clerk",
                Some("public_security"),
                Some("110105-ga"),
            ),
        ],
    )
    .await;
    let Some(browser) = support::browser::Browser::start(&server.base).await else {
        if std::env::var("FENGCUN_REQUIRE_BROWSER").is_ok() {
            panic!("FENGCUN_REQUIRE_BROWSER is set and no browser was found");
        }
        return;
    };
    // The counter: one clerk checks the identity card and opens the enrolment — no code yet,
    // and it is not theirs to confirm.
    browser.login("counter-li").await;
    let menu = browser.text("#menu").await;
    assert!(menu.contains("本人账户开通"), "{menu}");
    browser.go("/console/enrol").await;
    browser.fill("#id_number", SEALED).await;
    browser.fill("#name", SEALED_NAME).await;
    browser.click("#enrol").await;
    let enrolment = browser.text("#opened-enrolment").await;
    assert!(enrolment.starts_with("EN-"), "{enrolment}");
    let row = browser.text(&format!("#waiting-{enrolment}")).await;
    assert!(row.contains("由您登记，须由另一位窗口人员核对"), "{row}");
    let page = browser.text("main").await;
    assert!(!page.contains(SEALED), "the list names no person: {page}");
    browser.screenshot("portal-enrol-opened").await;
    browser.logout().await;
    // The second clerk checks the same card and confirms: the code, printed for the person.
    browser.login("counter-wang").await;
    browser.go("/console/enrol").await;
    browser.scroll_to("#waiting").await;
    browser.screenshot("portal-enrol-waiting").await;
    let form = format!("#waiting-{enrolment} form");
    browser
        .fill(&format!("{form} input[name=id_number]"), SEALED)
        .await;
    browser
        .fill(&format!("{form} input[name=name]"), SEALED_NAME)
        .await;
    browser.click(&format!("{form} button")).await;
    let code = browser.text("#activation-code").await;
    assert_eq!(code.len(), 12, "{code}");
    browser.text_with("#waiting", "没有待核对的登记").await;
    browser.screenshot("portal-enrol").await;
    browser.logout().await;

    // At home: the activation page, then the login with the identity number.
    browser.go("/activate").await;
    browser.fill("#code", &code).await;
    browser.fill("#id_number", SEALED).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#activate").await;
    browser.text_with("main", "账户已开通").await;
    browser.click("#to-login").await;
    browser.fill("#username", SEALED).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#login").await;
    browser.wait_for_url("/console/me").await;
    let menu = browser.text("#menu").await;
    assert!(
        menu.contains("我的记录") && menu.contains("我的通知书") && menu.contains("我的证明"),
        "{menu}"
    );
    assert!(
        menu.contains("谁查询了我的记录") && menu.contains("更正"),
        "{menu}"
    );
    assert!(
        !menu.contains("首页")
            && !menu.contains("申请与审批")
            && !menu.lines().any(|l| l.trim() == "查询"),
        "{menu}"
    );
    let sealed = browser
        .text(&format!("#record-{SEALED_CASE} .explanation"))
        .await;
    assert_eq!(
        sealed,
        "您的这条记录已于2024年3月12日封存，依据最高人民法院咨询委员会第六调研组《建立轻微犯罪记录封存制度的调研报告》第一种意见（研究方案，尚非有效法律文件）：自判决生效之日起自动封存（调研报告二(四)：自动封存，以刑事程序终结为节点）。"
    );
    // The English switch says it in English, with the basis in the law's own words.
    browser.go("/console/lang/en?back=/console/me").await;
    let english = browser
        .text(&format!("#record-{SEALED_CASE} .explanation"))
        .await;
    assert!(
        english.starts_with("This record of yours was sealed on 12 March 2024, on the basis of: ")
            && english.contains("第一种意见（研究方案，尚非有效法律文件）"),
        "{english}"
    );
    browser.go("/console/lang/zh?back=/console/me").await;
    // Who decided it, by the name a person knows the court by.
    let card = browser.text(&format!("#record-{SEALED_CASE}")).await;
    assert!(
        card.contains("某区人民法院") && !card.contains("110105-fy"),
        "{card}"
    );
    let pending = browser
        .text(&format!("#record-{PENDING_CASE} .explanation"))
        .await;
    assert!(pending.contains("已于2026年5月20日封存"), "{pending}");
    let badge = browser
        .text(&format!("#record-{PENDING_CASE} .badge"))
        .await;
    assert_eq!(badge, "已封存");
    browser.screenshot("portal-records").await;

    // The notices, each the formal document.
    browser.go("/console/me/notices").await;
    let notices = browser.text("#my-notices").await;
    assert!(
        notices.contains("封存通知书") && notices.contains(SEALED_CASE),
        "{notices}"
    );
    browser.click("#my-notices a").await;
    let document = browser.text("#notice-document").await;
    assert!(
        document.contains("封存通知书") && document.contains(SEALED_NAME),
        "{document}"
    );

    // A certificate applied for, listed with its verification status.
    browser.go("/console/me/certificates").await;
    browser.text("#no-certificates").await;
    browser.fill("#id_number", SEALED).await;
    browser.select("#purpose", "就业").await;
    browser.click("#apply").await;
    let listed = browser.text_with("#my-certificates", "就业").await;
    assert!(
        listed.contains("无犯罪记录证明") && listed.contains("有效"),
        "{listed}"
    );
    browser.screenshot("portal-certificates").await;
    // The QR code's page, as an employer's phone opens it.
    browser.click("#my-certificates .verification a").await;
    let verdict = browser.text("#verdict").await;
    assert_eq!(verdict, "有效");
    let page = browser.text("main").await;
    assert!(
        page.contains("110105********0025") && !page.contains(SEALED),
        "{page}"
    );
    assert!(
        !page.contains("就业"),
        "the purpose is not the employer's: {page}"
    );
    browser.screenshot("portal-verify").await;
    browser.close().await;
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// A record the policy does not seal names the rule that failed and its basis; a record that
/// cannot be decided names the fact missing and who must supply it.
#[tokio::test]
async fn not_eligible_and_undecided_records_say_why() {
    let server = start("portal-why", "2026-06-01T02:00:00Z").await;
    let id = "11010519491231002X";
    let person = json!({"id_number": id, "name": "王其他"});
    let theft = "110105-2024-000021";
    let not_prosecuted = "110105-2025-000022";
    let events = vec![
        json!({"idempotency_key": "t/filed", "kind": "filed", "date": "2024-01-10", "case_code": theft,
            "agency": {"kind": "public_security", "code": "110105-ga"}, "person": person,
            "charges": [{"name": "盗窃罪"}], "offence_date": "2024-01-10"}),
        json!({"idempotency_key": "t/judgment", "kind": "judgment", "date": "2024-03-01", "case_code": theft,
            "agency": {"kind": "court", "code": "110105-fy"}, "person": person,
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "盗窃罪"}],
                "sentence": {"principal": "fixed_term", "months": 36},
                "offence_date": "2024-01-10", "recidivist": false, "prior_convictions": 0}}),
        json!({"idempotency_key": "t/effective", "kind": "judgment_effective", "date": "2024-03-12",
            "case_code": theft, "agency": {"kind": "court", "code": "110105-fy"}, "person": person}),
        json!({"idempotency_key": "n/filed", "kind": "filed", "date": "2025-02-01", "case_code": not_prosecuted,
            "agency": {"kind": "public_security", "code": "110105-ga"}, "person": person,
            "charges": [{"name": "危险驾驶罪"}], "offence_date": "2025-02-01"}),
        json!({"idempotency_key": "n/np", "kind": "not_prosecuted", "date": "2025-05-01", "case_code": not_prosecuted,
            "agency": {"kind": "procuratorate", "code": "110105-jc"}, "person": person,
            "charges": [{"name": "危险驾驶罪"}], "ground": "discretionary"}),
    ];
    server.send_events(OPERATOR, &events).await;
    let code = enrol(&server, id, "王其他").await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        activate(&server, &code, id, PASSWORD).await.0,
        StatusCode::OK
    );
    let session = login(&server, id, PASSWORD).await;
    let (status, body) = as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/records",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let record = |case: &str| {
        body["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_code"] == case)
            .unwrap()
            .clone()
    };
    let theft_case = theft;
    let theft = record(theft);
    assert_eq!(theft["state"], "not_eligible", "{theft}");
    let failed: Vec<&str> = theft["failed_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["threshold"], "{theft}");
    let explanation = theft["explanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("您的这条记录不符合封存条件：")
            && explanation
                .contains("（依据调研报告二(一)第一种意见；《刑法》第九十九条（以下包括本数））"),
        "{explanation}"
    );
    // Only the conviction is a 犯罪记录; the non-prosecution is a 涉罪记录 (it was called a
    // criminal record too), in the portal and on the officials' timeline alike.
    assert_eq!(theft["kind_text"], "犯罪记录", "{theft}");
    assert_eq!(record(not_prosecuted)["kind_text"], "涉罪记录");
    for (case, designation) in [(theft_case, "criminal"), (not_prosecuted, "non_conviction")] {
        let (status, timeline) = server
            .get(
                &format!("/api/v1/records/{case}?purpose=operations"),
                OPERATOR,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{timeline}");
        assert_eq!(timeline["records"][0]["designation"], designation, "{case}");
    }
    let undecided = record(not_prosecuted);
    // Stored as not eligible until the fact comes, and said as undecided.
    assert_eq!(undecided["state"], "not_eligible", "{undecided}");
    assert_eq!(undecided["state_text"], "暂无法决定（待补充事实）");
    assert_eq!(
        undecided["missing"],
        json!([{"fact": "prior_convictions", "name": "前科情况", "supplier": "作出不起诉决定的人民检察院"}]),
        "{undecided}"
    );
    assert_eq!(
        undecided["explanation"],
        "暂时无法决定您的这条记录是否封存：尚缺少前科情况（应由作出不起诉决定的人民检察院提供）。"
    );
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// A person's violation record (治安管理处罚法) shows, in the portal, what was done — the behaviour
/// (殴打他人) in place of a charge — and its penalty decision; it once showed an empty list, as
/// only a criminal record's charges were read.
#[tokio::test]
async fn a_violation_record_shows_its_behaviour_and_penalty() {
    let server = start("portal-violation", "2026-06-01T02:00:00Z").await;
    let id = "110105199203070011";
    let case = "110105-2026-9000000031";
    const EARLIER: &str = "110105-2025-9000000044";
    let person = json!({"id_number": id, "name": "赵违法"});
    let police = json!({"kind": "public_security", "code": "110105-ga"});
    let events = vec![
        json!({"idempotency_key": "v/accepted", "kind": "violation_accepted", "date": "2026-02-10", "case_code": case,
            "agency": police, "person": person, "offence_date": "2026-02-10", "violations": [{"name": "殴打他人"}]}),
        json!({"idempotency_key": "v/penalized", "kind": "violation_penalized", "date": "2026-02-12", "case_code": case,
            "agency": police, "person": person, "violations": [{"name": "殴打他人"}],
            "penalty": {"detention_days": 10, "fine_yuan": 500}}),
        json!({"idempotency_key": "v/effective", "kind": "violation_decision_effective", "date": "2026-02-12",
            "case_code": case, "agency": police, "person": person}),
        // An earlier one, decided in 2025: sealed on the day art. 136 came into force.
        json!({"idempotency_key": "w/accepted", "kind": "violation_accepted", "date": "2025-03-01", "case_code": EARLIER,
            "agency": police, "person": person, "offence_date": "2025-03-01", "violations": [{"name": "殴打他人"}]}),
        json!({"idempotency_key": "w/penalized", "kind": "violation_penalized", "date": "2025-03-05", "case_code": EARLIER,
            "agency": police, "person": person, "violations": [{"name": "殴打他人"}],
            "penalty": {"fine_yuan": 200}}),
        json!({"idempotency_key": "w/effective", "kind": "violation_decision_effective", "date": "2025-03-05",
            "case_code": EARLIER, "agency": police, "person": person}),
    ];
    server.send_events(OPERATOR, &events).await;
    let code = enrol(&server, id, "赵违法").await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        activate(&server, &code, id, PASSWORD).await.0,
        StatusCode::OK
    );
    let session = login(&server, id, PASSWORD).await;
    let (status, body) = as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/records",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let of = |code: &str| {
        body["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {body}"))
            .clone()
    };
    // The earlier record's date is the day the law came into force, and the sentence says so; the
    // later one's is its decision's, and the sentence says nothing of it.
    let earlier = of(EARLIER);
    assert_eq!(earlier["state_date"], "2026-01-01", "{earlier}");
    let explained = earlier["explanation"].as_str().unwrap();
    assert!(
        explained.starts_with("您的这条违法记录已于2026年1月1日封存")
            && explained.contains("本规则自2026年1月1日起施行"),
        "{explained}"
    );
    let record = of(case);
    assert!(
        !record["explanation"]
            .as_str()
            .unwrap()
            .contains("本规则自2026年1月1日起施行"),
        "{record}"
    );
    assert_eq!(record["kind_text"], "违法记录", "{record}");
    assert_eq!(record["charges"], json!(["殴打他人"]), "{record}");
    assert_eq!(record["state"], "sealed", "{record}");
    assert!(
        record["sentence"]
            .as_str()
            .unwrap()
            .contains("行政拘留十日"),
        "{record}"
    );
    let (status, page) =
        as_session(&server, &session, reqwest::Method::GET, "/console/me", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("殴打他人"), "{page}");
    // With the English switch, the record's kind and state in English too.
    let english = (format!("{}; fengcun_lang=en", session.0), session.1.clone());
    let (status, page) =
        as_session(&server, &english, reqwest::Method::GET, "/console/me", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // (The explanation stays the legal text in Chinese.)
    assert!(page.contains("<h2>Violation record <code>"), "{page}");
    assert!(
        page.contains("<span class=\"badge state state-sealed\">sealed</span>"),
        "{page}"
    );
    // A wrong penalty is a field of its own to correct, addressed to the police that decided it.
    let (status, body) = as_session(
        &server,
        &session,
        reqwest::Method::POST,
        "/api/v1/me/corrections",
        Some(
            &json!({"case_code": case, "field": "penalty", "text": "罚款应为二百元，不是五百元。"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["agency"], "110105-ga", "{body}");
    let (status, page) = as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/console/corrections",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for field in ["违法行为", "治安管理处罚", "处罚决定生效日期"] {
        assert!(page.contains(field), "`{field}` not offered: {page}");
    }
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// `/verify`, as an employer's phone opens it from the QR code: the verdict in large type (有效,
/// 已过期, 无效), the holder masked as on the paper, and nothing else of the certificate.
#[tokio::test]
async fn the_verification_page_says_valid_expired_or_invalid_and_little_else() {
    let server = start("portal-verify", "2026-06-01T02:00:00Z").await;
    server
        .send_events(OPERATOR, &support::console::sealed_case_events())
        .await;
    let code = enrol(&server, SEALED, SEALED_NAME).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        activate(&server, &code, SEALED, PASSWORD).await.0,
        StatusCode::OK
    );
    let session = login(&server, SEALED, PASSWORD).await;
    let (status, issued) = as_session(
        &server,
        &session,
        reqwest::Method::POST,
        "/api/v1/me/certificates",
        Some(&json!({"id_number": SEALED, "purpose": "就业"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let issued: Value = serde_json::from_str(&issued).unwrap();
    let token = issued["token"].as_str().unwrap();
    let page = |token: String| {
        let server = &server;
        async move {
            server
                .http
                .get(format!("{}/verify?token={token}", server.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let valid = page(token.to_owned()).await;
    assert!(
        valid.contains(r#"<p class="verdict verdict-valid" id="verdict">有效</p>"#),
        "{valid}"
    );
    assert!(valid.contains("width=device-width"), "{valid}");
    assert!(
        valid.contains("110105********0025") && !valid.contains(SEALED),
        "{valid}"
    );
    // Nothing else: not the purpose, not the issuing agency, not the certificate number.
    let number = issued["number"].as_str().unwrap();
    assert!(
        !valid.contains("就业") && !valid.contains(number),
        "{valid}"
    );
    // Listed for the person with the same status.
    let (_, mine) = as_session(
        &server,
        &session,
        reqwest::Method::GET,
        "/api/v1/me/certificates",
        None,
    )
    .await;
    let mine: Value = serde_json::from_str(&mine).unwrap();
    assert_eq!(mine["certificates"][0]["verification"], "有效", "{mine}");
    assert_eq!(mine["certificates"][0]["number"], number);
    // Two years on: expired.
    at(&server, "2028-06-02T02:00:00Z");
    let expired = page(token.to_owned()).await;
    assert!(
        expired.contains(r#"<p class="verdict verdict-expired" id="verdict">已过期</p>"#),
        "{expired}"
    );
    // An altered token: invalid, and nothing of the certificate.
    let mut altered = token.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let invalid = page(altered).await;
    assert!(
        invalid.contains(r#"<p class="verdict verdict-invalid" id="verdict">无效</p>"#),
        "{invalid}"
    );
    assert!(!invalid.contains(SEALED_NAME), "{invalid}");
    let dir = server.dir.clone();
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}

/// A new code for an account already activated sets its password again — a lost password's
/// remedy at a counter, and a takeover in the wrong hands: the supervision's next round flags it
/// for review, naming the counter, the account and the person.
#[tokio::test]
async fn a_code_for_an_activated_account_is_flagged_for_supervision() {
    use fengcun_server::Clock;
    use fengcun_store::prelude::{AccessStore, AuditStore};
    let server = start("portal-reset", "2026-06-01T02:00:00Z").await;
    let first = enrol(&server, SEALED, SEALED_NAME).await;
    let code = first["code"].as_str().unwrap().to_owned();
    assert_eq!(
        activate(&server, &code, SEALED, PASSWORD).await.0,
        StatusCode::OK
    );
    let state = &server.running.state;
    server
        .clock
        .set(server.clock.now() + jiff::SignedDuration::from_hours(1));
    assert_eq!(
        fengcun_server::supervision::round(state).await.unwrap(),
        0,
        "a first enrolment is no reset"
    );
    let again = enrol(&server, SEALED, SEALED_NAME).await;
    assert_eq!(again["username"], first["username"]);
    server
        .clock
        .set(server.clock.now() + jiff::SignedDuration::from_hours(1));
    assert_eq!(fengcun_server::supervision::round(state).await.unwrap(), 1);
    let flags = server.store.flags(true).await.unwrap();
    let reset = flags
        .iter()
        .find(|f| f.rule == "accounts" && f.pattern == "reset")
        .unwrap_or_else(|| panic!("{flags:?}"));
    assert_eq!(
        reset.subject, "user:desk-wang",
        "the second clerk, who confirmed the enrolment and was shown the code"
    );
    assert_eq!(
        reset.other.as_deref(),
        Some(format!("user:{}", first["username"].as_str().unwrap()).as_str())
    );
    assert!(
        reset
            .persons
            .contains(&server.store.person_key(&format!("id:{SEALED}"))),
        "{reset:?}"
    );
}
