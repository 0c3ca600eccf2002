//! The person's portal, "who looked at my record" and corrections, through the JSON API of a real
//! server on port 0 (fresh SQLite database, injected clock): a person sees an employer's refused
//! look-up at once and an investigator's grant read only after the withholding period; never
//! another person's looks or corrections (the same answer as none); a correction goes to the
//! holding agency's clerks only and back; every view and step is audited.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_access::RequesterKind;
use fengcun_server::{Clock, Role};
use fengcun_store::UserRow;
use fengcun_store::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Server;
use support::browser::password;
use support::console::{
    Keys, SEALED, SEALED_CASE, User, console_login, create_users, plain_client,
};

mod support;

const OPERATOR: &str = "operator-key-for-looked-tests";
const ADMIN: &str = "administrator-key-for-looked-tests";
const AUDITOR: &str = "auditor-key-for-looked-tests";
const KEYS: Keys = Keys {
    operator: OPERATOR,
    admin: ADMIN,
    auditor: Some(AUDITOR),
};

/// Another person, with a case of their own.
const OTHER: &str = "110105198001010016";
const OTHER_CASE: &str = "110105-2024-000002";

pub const USERS: &[User] = &[
    (
        "police-li",
        "clerk",
        Some("public_security"),
        Some("110105-ga"),
    ),
    ("chief-wu", "approver", Some("public_security"), None),
    ("clerk-fy", "clerk", Some("court"), Some("110105-fy")),
    ("hr-wang", "requester", Some("employer"), None),
];

/// A person's account, as the counter enrolment makes it: role `person`, the key of their
/// identity number.
async fn person(server: &Server, username: &str, id_number: &str) {
    let pw = password(username);
    let hash = tokio::task::spawn_blocking(move || fengcun_server::hash_password(&pw).unwrap())
        .await
        .unwrap();
    let user = UserRow {
        username: username.into(),
        password_hash: hash,
        role: Role::Person,
        requester_kind: Some(RequesterKind::Person),
        agency: None,
        person_key: Some(server.store.person_key(&format!("id:{id_number}"))),
        name: Some("测试人".into()),
        disabled: false,
    };
    assert!(
        server
            .store
            .add_user(&user, &[], server.clock.now())
            .await
            .unwrap()
    );
}

/// The server: the sealed person's case, the other person's, the officials and both persons.
async fn start(label: &str) -> Server {
    // The court by its configured name; the police without one (its code is shown).
    let mut config = support::console::config(&KEYS);
    config.agencies = vec![support::registered_agency("110105-fy")];
    let server = Server::start(
        config,
        "2026-06-01T02:00:00Z",
        support::Engine::Sqlite,
        label,
    )
    .await;
    server
        .send_events(OPERATOR, &support::console::sealed_case_events())
        .await;
    server
        .send_events(
            OPERATOR,
            &support::conviction(
                OTHER_CASE,
                OTHER,
                "危险驾驶罪",
                json!({"principal": "criminal_detention", "months": 2}),
                ["2024-02-01", "2024-03-01", "2024-03-12"],
            ),
        )
        .await;
    create_users(&server, ADMIN, USERS).await;
    person(&server, "li-fengcun", SEALED).await;
    person(&server, "other-person", OTHER).await;
    server
}

/// A logged-in console session used for JSON calls: cookies and CSRF token.
struct Session {
    cookies: String,
    csrf: String,
}

impl Session {
    async fn of(server: &Server, username: &str) -> Session {
        let (cookies, csrf) = console_login(server, username).await;
        Session { cookies, csrf }
    }

    async fn get(&self, server: &Server, path: &str) -> (StatusCode, Value) {
        let response = plain_client()
            .get(format!("{}{path}", server.base))
            .header("cookie", &self.cookies)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, server: &Server, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = plain_client()
            .post(format!("{}{path}", server.base))
            .header("cookie", &self.cookies)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The police clerk asks to see the sealed person's records for a case, the police approver
/// approves, the clerk reads them under the grant; the grant's id.
async fn investigator_reads(server: &Server) -> String {
    let police = Session::of(server, "police-li").await;
    let (status, request) = police
        .post(
            server,
            "/api/v1/requests",
            &json!({"purpose": "case_handling", "id_number": SEALED, "basis": "（2026）京0105刑侦12号", "reason": "侦查需要"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let id = request["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let chief = Session::of(server, "chief-wu").await;
    let (status, approved) = chief
        .post(
            server,
            &format!("/api/v1/requests/{id}/approve"),
            &json!({"reason": "依法准许"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let (status, answer) = police
        .post(
            server,
            "/api/v1/lookups",
            &json!({"purpose": "case_handling", "id_number": SEALED}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["answer"], "records", "{answer}");
    answer["records"][0]["grant"].as_str().unwrap().to_owned()
}

async fn employer_refused(server: &Server) {
    let employer = Session::of(server, "hr-wang").await;
    let (status, answer) = employer
        .post(
            server,
            "/api/v1/lookups",
            &json!({"purpose": "case_handling", "id_number": SEALED}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["answer"], "no_right", "{answer}");
}

#[tokio::test]
async fn an_employers_refused_lookup_shows_at_once_an_investigators_grant_read_after_the_period() {
    let server = start("looked-withheld").await;
    employer_refused(&server).await;
    let grant = investigator_reads(&server).await;
    let me = Session::of(&server, "li-fengcun").await;
    let (status, looked) = me.get(&server, "/api/v1/me/looks").await;
    assert_eq!(status, StatusCode::OK, "{looked}");
    let looks = looked["looks"].as_array().unwrap();
    // Only the employer's, at once: kind, purpose, the refusal, the basis — never a name.
    assert_eq!(looks.len(), 1, "{looked}");
    assert_eq!(looks[0]["requester_kind"], "employer");
    assert_eq!(looks[0]["answer"], "no_right");
    assert_eq!(looks[0]["purpose"], "case_handling");
    assert_eq!(looks[0]["sealed_shown"], false);
    assert_eq!(looks[0]["kind"], "lookup");
    assert!(
        looks[0]["basis"]
            .as_str()
            .unwrap()
            .contains("公安机关办理犯罪记录查询工作规定"),
        "{looked}"
    );
    assert!(!looked.to_string().contains("hr-wang"), "{looked}");
    // The page always says withheld reads may exist — never how many.
    let notice = looked["withheld_notice"].as_str().unwrap();
    assert!(
        notice.contains("可能存在") && notice.contains("90日"),
        "{notice}"
    );
    assert!(
        looked["withholding_basis"]
            .as_str()
            .unwrap()
            .contains("个人信息保护法第四十五条")
    );

    // The grant lives 30 days (cn-default `grant_days`); its read appears 90 days after it ends.
    let police = Session::of(&server, "chief-wu").await;
    let (_, grants) = police.get(&server, "/api/v1/grants").await;
    let expires = grants["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["grant_id"] == grant.as_str())
        .map(|g| {
            g["expires"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        })
        .expect("the grant");
    let appears = expires
        .checked_add(jiff::SignedDuration::from_hours(90 * 24))
        .unwrap();
    server.clock.set(
        appears
            .checked_sub(jiff::SignedDuration::from_secs(1))
            .unwrap(),
    );
    let me = Session::of(&server, "li-fengcun").await;
    let (_, looked) = me.get(&server, "/api/v1/me/looks").await;
    assert_eq!(looked["looks"].as_array().unwrap().len(), 1, "{looked}");
    server.clock.set(appears);
    let me = Session::of(&server, "li-fengcun").await;
    let (_, looked) = me.get(&server, "/api/v1/me/looks").await;
    let looks = looked["looks"].as_array().unwrap();
    assert_eq!(looks.len(), 2, "{looked}");
    // Newest first: the investigator's read under the grant, with its agency, never the officer.
    assert_eq!(looks[0]["kind"], "grant_read");
    assert_eq!(looks[0]["requester_kind"], "public_security");
    assert_eq!(looks[0]["agency"], "110105-ga");
    assert_eq!(looks[0]["sealed_shown"], true);
    assert_eq!(looks[0]["answer"], "records");
    assert!(
        looks[0]["basis"]
            .as_str()
            .unwrap()
            .contains("刑事诉讼法第二百八十六条第二款")
    );
    assert!(!looked.to_string().contains("police-li"), "{looked}");
    server.stop();
}

/// A holding agency's clerk reading its own case's timeline for case handling is withheld as an
/// investigator's look-up is: the police clerk's read appears to the person 90 days after it, the
/// court clerk's (courts are not withheld) at once. Before, a timeline read was audited with the
/// clerk's role only, which names no kind of requester, so nothing was ever withheld.
#[tokio::test]
async fn a_police_clerks_timeline_read_for_case_handling_is_withheld_for_the_period() {
    let server = start("looked-timeline").await;
    let read_at = server.clock.now();
    for clerk in ["police-li", "clerk-fy"] {
        let session = Session::of(&server, clerk).await;
        let (status, timeline) = session
            .get(
                &server,
                &format!("/api/v1/records/{SEALED_CASE}?purpose=case_handling"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{clerk}: {timeline}");
    }
    let looks_at = |at: jiff::Timestamp| {
        let server = &server;
        async move {
            server.clock.set(at);
            let me = Session::of(server, "li-fengcun").await;
            let (status, looked) = me.get(server, "/api/v1/me/looks").await;
            assert_eq!(status, StatusCode::OK, "{looked}");
            looked["looks"].as_array().unwrap().clone()
        }
    };
    let looks = looks_at(read_at).await;
    assert_eq!(looks.len(), 1, "{looks:?}");
    assert_eq!(looks[0]["requester_kind"], "court");
    assert_eq!(looks[0]["agency"], "110105-fy");
    assert_eq!(looks[0]["agency_name"], "某区人民法院");
    // The record was sealed when the court's clerk read it: the list says a sealed record was
    // shown (it said so only of reads under a grant).
    assert_eq!(looks[0]["sealed_shown"], true, "{looks:?}");
    let appears = read_at
        .checked_add(jiff::SignedDuration::from_hours(90 * 24))
        .unwrap();
    let before = appears
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap();
    assert_eq!(looks_at(before).await.len(), 1);
    let looks = looks_at(appears).await;
    assert_eq!(looks.len(), 2, "{looks:?}");
    let police = looks
        .iter()
        .find(|look| look["agency"] == "110105-ga")
        .expect("the police clerk's read");
    assert_eq!(police["requester_kind"], "public_security");
    assert_eq!(police["purpose"], "case_handling");
    assert_eq!(police["sealed_shown"], true, "{looks:?}");
    assert!(!format!("{looks:?}").contains("police-li"), "{looks:?}");
    server.stop();
}

/// An administrator cannot set a person's password (and so log in as them and read their sealed
/// records): refused and audited; the person's own password still opens the account. A lost
/// password is set again with a new code from a counter.
#[tokio::test]
async fn an_administrator_cannot_set_a_persons_password() {
    let server = start("looked-reset").await;
    create_users(
        &server,
        ADMIN,
        &[("admin-zhou", "administrator", None, None)],
    )
    .await;
    let (cookies, csrf) = console_login(&server, "admin-zhou").await;
    let chosen = "chosen-by-the-administrator";
    let (status, page) = support::console::post_form(
        &server,
        &cookies,
        "/console/users/li-fengcun/password",
        &[("csrf_token", &csrf), ("password", chosen)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    let login = plain_client()
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({"username": "li-fengcun", "password": chosen}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    // The person's own password still opens it.
    let me = Session::of(&server, "li-fengcun").await;
    let (status, _) = me.get(&server, "/api/v1/me/records").await;
    assert_eq!(status, StatusCode::OK);
    let log = server.audit_log(AUDITOR).await;
    assert!(
        log.iter()
            .any(|e| e["kind"] == "forbidden" && e["outcome"] == "person_account"),
        "the refusal is audited"
    );
    // The users page offers nothing for a person's account.
    let (status, users) = support::console::get_page(&server, &cookies, "/console/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!users.contains("li-fengcun"), "{users}");
    server.stop();
}

#[tokio::test]
async fn a_person_sees_no_one_elses_looks_or_corrections() {
    let server = start("looked-own").await;
    employer_refused(&server).await;
    let other = Session::of(&server, "other-person").await;
    // The sealed person's looks are not the other's: their own view is empty, as anyone's with
    // no look-up.
    let (status, looked) = other.get(&server, "/api/v1/me/looks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(looked["looks"], json!([]), "{looked}");
    // A correction of the sealed person's case, asked by the other person, is answered as one of
    // a case that does not exist.
    let ask = |case: &str| json!({"case_code": case, "field": "sentence", "text": "刑期记载有误"});
    let (status, theirs) = other
        .post(&server, "/api/v1/me/corrections", &ask(SEALED_CASE))
        .await;
    let (status_none, none) = other
        .post(
            &server,
            "/api/v1/me/corrections",
            &ask("110105-2024-000999"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{theirs}");
    assert_eq!((status, &theirs), (status_none, &none));
    // The sealed person's own request is not in the other's list.
    let me = Session::of(&server, "li-fengcun").await;
    let (status, mine) = me
        .post(&server, "/api/v1/me/corrections", &ask(SEALED_CASE))
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let (_, list) = other.get(&server, "/api/v1/me/corrections").await;
    assert_eq!(list["corrections"], json!([]), "{list}");
    // An official may not use the person's endpoints (audited refusal).
    let clerk = Session::of(&server, "clerk-fy").await;
    let (status, _) = clerk.get(&server, "/api/v1/me/looks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop();
}

#[tokio::test]
async fn the_view_is_audited() {
    let server = start("looked-audited").await;
    let me = Session::of(&server, "li-fengcun").await;
    let (status, _) = me.get(&server, "/api/v1/me/looks").await;
    assert_eq!(status, StatusCode::OK);
    let log = server.audit_log(AUDITOR).await;
    let key = server.store.person_key(&format!("id:{SEALED}"));
    let views: Vec<&Value> = log
        .iter()
        .filter(|e| e["kind"] == "read" && e["outcome"] == "who_looked")
        .collect();
    assert_eq!(views.len(), 1, "{log:?}");
    assert_eq!(views[0]["actor"], "user:li-fengcun");
    assert_eq!(views[0]["subject"], key.as_str());
    server.stop();
}

#[tokio::test]
async fn a_correction_goes_to_the_holding_agencys_clerks_only_and_back() {
    let server = start("looked-correction").await;
    let me = Session::of(&server, "li-fengcun").await;
    // The sentence is the court's (its judgment): the request goes to the court.
    let (status, asked) = me
        .post(
            &server,
            "/api/v1/me/corrections",
            &json!({"case_code": SEALED_CASE, "field": "sentence", "text": "判决为拘役一个月，记录为两个月"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert_eq!(asked["agency"], "110105-fy");
    assert_eq!(asked["status"], "open");
    let id = asked["request_id"].as_str().unwrap().to_owned();
    // A field that is none of the list is refused naming the field.
    let (status, bad) = me
        .post(
            &server,
            "/api/v1/me/corrections",
            &json!({"case_code": SEALED_CASE, "field": "mood", "text": "心情不好"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad["message"].as_str().unwrap().starts_with("field:"),
        "{bad}"
    );
    // A fact a criminal record does not have (a violation record's penalty) is refused, and the
    // same fact asked again while its request is open is a conflict, naming the open one.
    let (status, bad) = me
        .post(
            &server,
            "/api/v1/me/corrections",
            &json!({"case_code": SEALED_CASE, "field": "penalty", "text": "罚款记载有误"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("is no fact of a criminal record"),
        "{bad}"
    );
    let (status, twice) = me
        .post(
            &server,
            "/api/v1/me/corrections",
            &json!({"case_code": SEALED_CASE, "field": "sentence", "text": "再问一次刑期"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    assert!(twice["message"].as_str().unwrap().contains(&id), "{twice}");

    // The police clerk's queue does not hold it, nor may they answer it (as for none).
    let police = Session::of(&server, "police-li").await;
    let (status, queue) = police.get(&server, "/api/v1/corrections").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!(queue["corrections"], json!([]), "{queue}");
    let refuse = json!({"decision": "refuse", "reason": "记录无误"});
    let (status, _) = police
        .post(
            &server,
            &format!("/api/v1/corrections/{id}/answer"),
            &refuse,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The court's clerk sees it, and accepts it with the court's correction event.
    let court = Session::of(&server, "clerk-fy").await;
    let (_, queue) = court.get(&server, "/api/v1/corrections").await;
    let listed = queue["corrections"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{queue}");
    assert_eq!(listed[0]["request_id"], id.as_str());
    assert_eq!(listed[0]["text"], "判决为拘役一个月，记录为两个月");
    let mut replacement = support::console::sealed_case_events()[1].clone();
    replacement["judgment"]["sentence"]["months"] = json!(1);
    let event = json!({
        "idempotency_key": format!("{SEALED_CASE}/judgment/correction-1"), "kind": "correction",
        "date": "2026-06-01", "case_code": SEALED_CASE,
        "agency": {"kind": "court", "code": "110105-fy"},
        "person": {"id_number": SEALED},
        "corrects": format!("{SEALED_CASE}/judgment"),
        "reason": "宣告刑应为拘役一个月", "replacement": replacement,
    });
    let (status, answered) = court
        .post(
            &server,
            &format!("/api/v1/corrections/{id}/answer"),
            &json!({"decision": "accept", "event": event}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "accepted");
    assert_eq!(
        answered["correction_key"],
        format!("{SEALED_CASE}/judgment/correction-1")
    );
    // Answered once only.
    let (status, _) = court
        .post(
            &server,
            &format!("/api/v1/corrections/{id}/answer"),
            &refuse,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The person sees the answer, marked new once.
    let (_, list) = me.get(&server, "/api/v1/me/corrections").await;
    assert_eq!(list["corrections"][0]["status"], "accepted", "{list}");
    assert_eq!(list["corrections"][0]["new_answer"], true);
    let (_, list) = me.get(&server, "/api/v1/me/corrections").await;
    assert_eq!(list["corrections"][0]["new_answer"], false);

    // Every step audited: asked, accepted; the correction event stored as the court's.
    let log = server.audit_log(AUDITOR).await;
    let steps: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e["kind"] == "correction")
        .map(|e| (e["actor"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("user:li-fengcun", "requested"),
            ("user:clerk-fy", "accepted")
        ]
    );
    assert!(log.iter().any(|e| e["kind"] == "read"
        && e["outcome"] == "correction_queue"
        && e["actor"] == "user:police-li"));
    server.stop();
}

/// In Chromium: the person's "who looked" page shows the employer's refused look-up at once and
/// the investigator's grant read only once the withholding period is over (the test clock moved),
/// saying all along that withheld reads may exist; a correction request goes from the person's
/// page to the court clerks' queue (not the police's), is refused there with a reason, and the
/// person sees the answer, marked new.
#[tokio::test]
async fn in_a_browser() {
    let server = start("looked-browser").await;
    let Some(browser) = support::browser::Browser::start(&server.base).await else {
        if std::env::var("FENGCUN_REQUIRE_BROWSER").is_ok() {
            panic!("FENGCUN_REQUIRE_BROWSER is set and no browser was found");
        }
        return;
    };
    employer_refused(&server).await;
    let grant = investigator_reads(&server).await;

    browser.login_person("li-fengcun").await;
    let menu = browser.text("#menu").await;
    assert!(
        menu.contains("谁查询了我的记录") && menu.contains("申请更正"),
        "{menu}"
    );
    browser.go("/console/looked").await;
    let looks = browser.text("#looks").await;
    assert!(
        looks.contains("用人单位") && looks.contains("无权查询"),
        "{looks}"
    );
    assert!(
        !looks.contains("110105-ga") && !looks.contains("hr-wang"),
        "{looks}"
    );
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#looks tr.look"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let notice = browser.text("#withheld-notice").await;
    assert!(notice.contains("可能存在"), "{notice}");
    browser.logout().await;

    // Past the grant's end and the 90 days after it.
    let grants = server.store.grants(None).await.unwrap();
    let expires: jiff::Timestamp = grants
        .iter()
        .find(|g| g.grant_id == grant)
        .unwrap()
        .expires
        .parse()
        .unwrap();
    server.clock.set(
        expires
            .checked_add(jiff::SignedDuration::from_hours(90 * 24))
            .unwrap(),
    );
    browser.login_person("li-fengcun").await;
    browser.go("/console/looked").await;
    let looks = browser.text("#looks").await;
    assert!(
        looks.contains("公安机关") && looks.contains("110105-ga") && looks.contains("已显示"),
        "{looks}"
    );
    assert!(!looks.contains("police-li"), "{looks}");
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#looks tr.look"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    browser.screenshot("person-looked").await;

    // A correction request: the sentence is the court's.
    browser.go("/console/corrections").await;
    browser.fill("#correction-case", SEALED_CASE).await;
    browser.select("#correction-field", "sentence").await;
    browser
        .fill("#correction-text", "判决为拘役一个月，记录为两个月")
        .await;
    browser.click("#send-correction").await;
    let mine = browser.text_with("#my-corrections", "待答复").await;
    // Addressed to the court by its name, as the person knows it, not by its code.
    assert!(
        mine.contains("某区人民法院") && !mine.contains("110105-fy") && mine.contains("刑罚"),
        "{mine}"
    );
    browser.logout().await;

    // The police's queue does not hold it.
    browser.login("police-li").await;
    let menu = browser.text("#menu").await;
    assert!(!menu.contains("更正申请"), "{menu}");
    browser.go("/console/correction-queue").await;
    browser.text("#queue-empty").await;
    browser.logout().await;

    // The court's does; its clerk refuses it with a reason.
    browser.login("clerk-fy").await;
    let menu = browser.text("#menu").await;
    assert!(menu.contains("更正申请"), "{menu}");
    browser.go("/console/correction-queue").await;
    let queue = browser.text("article.correction").await;
    assert!(queue.contains("判决为拘役一个月，记录为两个月"), "{queue}");
    browser
        .fill(".queue-reason", "经核对判决书，记录无误")
        .await;
    browser.click("button.refuse").await;
    // Waited for by the reason: the refuse button's own words are 不予更正 too, so the page
    // before the answer already holds them (a race seen once in CI). A typed field's value is
    // not in an element's text.
    let answered = browser
        .text_with("article.correction", "经核对判决书，记录无误")
        .await;
    assert!(answered.contains("不予更正"), "{answered}");
    assert!(!answered.contains("待答复"), "{answered}");
    browser.logout().await;

    // Back to the person, marked new.
    browser.login_person("li-fengcun").await;
    browser.go("/console/corrections").await;
    let mine = browser.text("#my-corrections").await;
    assert!(
        mine.contains("不予更正")
            && mine.contains("新答复")
            && mine.contains("经核对判决书，记录无误"),
        "{mine}"
    );
    browser.close().await;
    server.stop();
}
