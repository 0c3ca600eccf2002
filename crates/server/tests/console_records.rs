//! The console's dashboard, records list and a record's timeline, end to end: a real server on
//! port 0 on a fresh database, an injected clock, and a real Chromium (tests/support/browser.rs).
//! What each page shows is held to what the JSON API answers the same caller; the leak sweep
//! holds every records, timeline and dashboard page an employer, a clerk of another agency and a
//! requester without a grant can reach to the page a never-recorded person gives.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Server;
use support::browser::Browser;
use support::console::{Keys, SEALED, SEALED_CASE, SEALED_NAME, User, plain_client};

mod support;

const OPERATOR: &str = "operator-key-for-console-records-tests";
const ADMIN: &str = "administrator-key-for-console-records-tests";
const AUDITOR: &str = "auditor-key-for-console-records-tests";
const KEYS: Keys = Keys {
    operator: OPERATOR,
    admin: ADMIN,
    auditor: Some(AUDITOR),
};

/// The court's document number of the sealed case's judgment.
const SEALED_DOC: &str = "(2024)某刑初1号";
/// Sealed the same way, then unsealed by a new crime judged later.
const UNSEALED: &str = "110105198002020013";
const UNSEALED_NAME: &str = "王解封";
const UNSEALED_CASE: &str = "110105-2024-000002";
const NEW_CRIME_CASE: &str = "110105-2025-000003";
/// Never in the store.
const NO_CASE: &str = "110105-2024-000999";
const NO_DOC: &str = "(2024)某刑初999号";

const COURT: &str = "110105-fy";
const POLICE: &str = "110105-ga";

/// Every console user of the tests: (username, role, requester kind, agency).
const USERS: &[User] = &[
    ("clerk-fy", "clerk", Some("court"), Some(COURT)),
    (
        "clerk-jc",
        "clerk",
        Some("procuratorate"),
        Some("110105-jc"),
    ),
    ("judge-liu", "approver", Some("court"), None),
    ("hr-wang", "requester", Some("employer"), None),
    ("lawyer-li", "requester", Some("lawyer"), None),
    ("audit-zhao", "auditor", None, None),
    ("ops-sun", "operator", None, None),
];

fn conviction(
    case: &str,
    id: &str,
    name: &str,
    document: &str,
    charge: &str,
    sentence: Value,
    dates: [&str; 3],
) -> Vec<Value> {
    let agency = |kind: &str, code: &str| json!({"kind": kind, "code": code});
    let person = json!({"id_number": id, "name": name});
    vec![
        json!({"idempotency_key": format!("{case}/filed"), "kind": "filed", "date": dates[0], "case_code": case,
            "agency": agency("public_security", POLICE), "person": person,
            "charges": [{"name": charge}], "offence_date": dates[0]}),
        json!({"idempotency_key": format!("{case}/judgment"), "kind": "judgment", "date": dates[1], "case_code": case,
            "agency": agency("court", COURT), "person": person, "document_number": document,
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": charge}],
                "sentence": sentence, "offence_date": dates[0], "recidivist": false, "prior_convictions": 0}}),
        json!({"idempotency_key": format!("{case}/effective"), "kind": "judgment_effective", "date": dates[2],
            "case_code": case, "agency": agency("court", COURT), "person": person}),
    ]
}

async fn send(server: &Server, events: Vec<Value>) {
    let response = server
        .http
        .post(format!("{}/api/v1/events/batch", server.base))
        .bearer_auth(OPERATOR)
        .json(&json!({"events": events}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn get(server: &Server, path: &str, key: &str) -> (StatusCode, Value) {
    let response = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Two people sealed in 2026; one of them unsealed a month later by a new crime. Users for every
/// role; the clerks work for an agency (the court, which judged both cases, and the
/// procuratorate, which sent none of their events).
async fn start(label: &str) -> Server {
    let server = support::console::start_empty(label, &KEYS).await;
    let detention = json!({"principal": "criminal_detention", "months": 2});
    let dates = ["2024-01-10", "2024-03-01", "2024-03-12"];
    let mut events = conviction(
        SEALED_CASE,
        SEALED,
        SEALED_NAME,
        SEALED_DOC,
        "危险驾驶罪",
        detention.clone(),
        dates,
    );
    events.extend(conviction(
        UNSEALED_CASE,
        UNSEALED,
        UNSEALED_NAME,
        "(2024)某刑初2号",
        "危险驾驶罪",
        detention,
        dates,
    ));
    send(&server, events).await;
    server.clock.set("2026-07-01T02:00:00Z".parse().unwrap());
    send(
        &server,
        conviction(
            NEW_CRIME_CASE,
            UNSEALED,
            UNSEALED_NAME,
            "(2025)某刑初3号",
            "盗窃罪",
            json!({"principal": "fixed_term", "months": 7}),
            ["2025-05-01", "2025-08-01", "2025-08-12"],
        ),
    )
    .await;
    support::console::create_users(&server, ADMIN, USERS).await;
    server
}

#[tokio::test]
async fn records_pages_answer_an_anonymous_visitor_with_the_login_page() {
    let server = start("console-records-anonymous").await;
    let http = plain_client();
    for path in [
        "/console/records".to_owned(),
        format!("/console/records/{SEALED_CASE}"),
        format!("/console/records/search?q={SEALED_CASE}"),
    ] {
        let response = http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
        let fragment = http
            .get(format!("{}{path}", server.base))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(fragment.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    server.running.stop();
}

#[tokio::test]
async fn in_a_browser() {
    let server = start("console-records-browser").await;
    let Some(browser) = Browser::start(&server.base).await else {
        return;
    };
    // First: the dashboard's numbers are counted at the first operator's or auditor's view and
    // kept for half a minute, so they are compared with the API's before any other view.
    the_dashboard_per_role(&server, &browser).await;
    timeline_after_seal_and_unseal(&server, &browser).await;
    the_records_list(&browser).await;
    sealed_is_as_never_recorded(&browser).await;
    browser.close().await;
    server.running.stop();
}

async fn main_text(browser: &Browser) -> String {
    browser.text("main").await
}

/// The timeline page shows what the API's timeline holds: every transition with its policy
/// version, every reason's text and legal basis, the state as a badge; the view is a `lookup`
/// entry as the API's read is.
async fn timeline_after_seal_and_unseal(server: &Server, browser: &Browser) {
    let (status, api) = get(
        server,
        &format!("/api/v1/records/{UNSEALED_CASE}?purpose=operations"),
        OPERATOR,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{api}");
    let record = &api["records"][0];
    assert_eq!(record["state"], "unsealed");
    let transitions = record["transitions"].as_array().unwrap();
    assert_eq!(
        transitions
            .iter()
            .map(|t| t["to"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["sealed", "unsealed"]
    );

    browser.login("ops-sun").await;
    browser
        .go(&format!("/console/records/{UNSEALED_CASE}"))
        .await;
    assert_eq!(browser.text("#state-1").await, "已解封");
    assert_eq!(browser.text("#case-code").await, UNSEALED_CASE);
    browser.screenshot("timeline").await;
    let steps = browser
        .client
        .find_all(Locator::Css("li.transition"))
        .await
        .unwrap();
    assert_eq!(steps.len(), 2);
    for (step, transition) in steps.iter().zip(transitions) {
        // Open every reason list, so that its text is shown.
        if let Ok(summary) = step.find(Locator::Css("summary")).await {
            if step.find(Locator::Css("details[open]")).await.is_err() {
                summary.click().await.unwrap();
            }
        }
        let text = step.text().await.unwrap();
        let version = transition["policy_version"].as_str().unwrap();
        assert!(
            text.contains(version) && text.contains("cn-minor-opt1"),
            "{text}"
        );
        let reasons = transition["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty());
        for reason in reasons {
            for field in ["text", "basis"] {
                let expected = reason[field].as_str().unwrap();
                assert!(text.contains(expected), "{expected} not in {text}");
            }
        }
    }
    let unseal = steps[1].text().await.unwrap();
    assert!(unseal.contains("再犯新罪"), "{unseal}");
    assert!(
        unseal.contains(transitions[1]["unseal"]["basis"].as_str().unwrap()),
        "{unseal}"
    );
    // Every notice, with its delivery state.
    let notices = browser
        .client
        .find_all(Locator::Css("li.notice-step"))
        .await
        .unwrap();
    assert_eq!(notices.len(), record["notices"].as_array().unwrap().len());
    // The person masked, as the API masks them.
    let page = main_text(browser).await;
    assert!(
        page.contains("王某") && !page.contains(UNSEALED_NAME),
        "{page}"
    );
    browser.logout().await;

    // The court's clerk finds the case by the court's own document number.
    browser.login("clerk-fy").await;
    browser.go("/console/records").await;
    browser.fill("#search-q", "(2024)某刑初2号").await;
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#search-agency"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(COURT),
        "the clerk's own agency by default"
    );
    browser.click("#search-submit").await;
    assert_eq!(browser.text("#case-code").await, UNSEALED_CASE);
    assert_eq!(browser.text("#state-1").await, "已解封");
    browser.logout().await;

    // Each view is audited as the API's read is.
    let (_, log) = get(server, "/api/v1/audit/entries?limit=1000", AUDITOR).await;
    let views: Vec<(String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"] == "lookup" && e["subject"] == format!("case:{UNSEALED_CASE}").as_str()
        })
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["purpose"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        views,
        [
            ("ops".to_owned(), "operations".to_owned()),
            ("user:ops-sun".to_owned(), "operations".to_owned()),
            ("user:clerk-fy".to_owned(), "case_handling".to_owned()),
        ]
    );
}

async fn card(browser: &Browser, id: &str) -> i64 {
    let text = browser.text(&format!("#{id} strong")).await;
    text.parse().unwrap_or_else(|_| panic!("{id}: {text}"))
}

/// The dashboard by role: the numbers and charts for operators and auditors (as the API's stats
/// give them), the requests waiting for an approver, neither for the others.
async fn the_dashboard_per_role(server: &Server, browser: &Browser) {
    // A request for the approver to decide, filed by the court's clerk.
    browser.login("clerk-fy").await;
    browser.go("/console/requests").await;
    browser.select("#request-purpose", "case_handling").await;
    browser.fill("#request-id", SEALED).await;
    browser
        .fill("#request-basis", "（2026）京0105刑初88号")
        .await;
    browser.fill("#request-reason", "审理需要查阅前科").await;
    browser.click("#file-request").await;
    let request = browser
        .text(".notice.ok")
        .await
        .trim_start_matches("申请已提交：")
        .to_owned();
    browser.logout().await;

    let (status, stats) = get(server, "/api/v1/stats", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    let by_state = &stats["records_by_state"];
    let count = |state: &str| by_state[state].as_i64().unwrap_or(0);
    // The first case and the new crime sealed, the case it lifted unsealed.
    assert_eq!((count("sealed"), count("unsealed")), (2, 1), "{stats}");
    for username in ["ops-sun", "audit-zhao"] {
        browser.login(username).await;
        assert_eq!(card(browser, "card-sealed").await, count("sealed"));
        assert_eq!(card(browser, "card-pending").await, count("pending_seal"));
        let total: i64 = by_state
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(card(browser, "card-records").await, total);
        assert_eq!(
            card(browser, "card-due-7").await,
            stats["seals_due_7_days"].as_i64().unwrap()
        );
        assert_eq!(card(browser, "card-requests").await, 1);
        assert_eq!(
            card(browser, "card-unack-3").await,
            stats["notices_unacknowledged_after_3_days"]
                .as_i64()
                .unwrap()
        );
        // The charts: a bar per state, a bar per agency, each labelled with its count.
        let states = browser.text("#chart-states").await;
        for label in ["已封存 2", "已解封 1", "待封存 0", "不予封存 0"] {
            assert!(
                states.replace('\n', " ").contains(label),
                "{label}: {states}"
            );
        }
        let bars = browser
            .client
            .find_all(Locator::Css("#chart-agencies rect"))
            .await
            .unwrap();
        assert_eq!(
            bars.len(),
            stats["records_by_agency"].as_object().unwrap().len()
        );
        assert!(
            browser
                .client
                .find_all(Locator::Css("#waiting"))
                .await
                .unwrap()
                .is_empty()
        );
        if username == "ops-sun" {
            browser.screenshot("dashboard").await;
        }
        browser.logout().await;
    }
    // The approver: the request waiting, no numbers.
    browser.login("judge-liu").await;
    let waiting = browser.text("#waiting").await;
    assert!(waiting.contains(&request), "{waiting}");
    assert!(waiting.contains("clerk-fy"), "{waiting}");
    assert!(
        !waiting.contains(SEALED) && !waiting.contains("李"),
        "{waiting}"
    );
    assert!(
        browser
            .client
            .find_all(Locator::Css("#stats"))
            .await
            .unwrap()
            .is_empty()
    );
    browser.screenshot("dashboard-approver").await;
    browser.logout().await;
    // A clerk and a requester: their tasks only.
    for username in ["clerk-fy", "hr-wang"] {
        browser.login(username).await;
        for part in ["#stats", "#waiting", "#dashboard"] {
            assert!(
                browser
                    .client
                    .find_all(Locator::Css(part))
                    .await
                    .unwrap()
                    .is_empty(),
                "{username}: {part}"
            );
        }
        browser.logout().await;
    }
}

/// The operator's list: identities masked, filtered by state.
async fn the_records_list(browser: &Browser) {
    browser.login("ops-sun").await;
    browser.go("/console/records").await;
    let table = browser.text("#records").await;
    for case in [SEALED_CASE, UNSEALED_CASE, NEW_CRIME_CASE] {
        assert!(table.contains(case), "{case}: {table}");
    }
    assert!(table.contains("李某") && table.contains("1101**********0025"));
    let source = browser.client.source().await.unwrap();
    for secret in [SEALED, SEALED_NAME, UNSEALED, UNSEALED_NAME] {
        assert!(!source.contains(secret), "{secret} in the list");
    }
    browser.screenshot("records").await;
    browser.select("#filter-state", "sealed").await;
    browser.click("#filter-submit").await;
    // The filter is a GET form: read the table of the page it leads to, not the one it left.
    browser.wait_for_url("state=sealed").await;
    let sealed = browser.text_with("#records", SEALED_CASE).await;
    // The new crime is sealed too; the case it lifted is not.
    assert!(
        !sealed.contains(UNSEALED_CASE) && sealed.contains(NEW_CRIME_CASE),
        "{sealed}"
    );
    // The case code links to its timeline.
    browser
        .click(&format!(
            "#records a[href='/console/records/{SEALED_CASE}']"
        ))
        .await;
    assert_eq!(browser.text_with("#state-1", "已封存").await, "已封存");
    browser.logout().await;
}

/// The whole page's text and its source.
async fn seen(browser: &Browser, path: &str) -> (String, String) {
    browser.go(path).await;
    let text = browser.text("body").await;
    let source = browser.client.source().await.unwrap();
    (text, source)
}

/// For a person whose only record is sealed, every records, timeline and dashboard page an
/// employer, a clerk of another agency and a requester without a grant can reach reads exactly
/// as for a case never recorded, and no page's source holds the name or the identity number.
async fn sealed_is_as_never_recorded(browser: &Browser) {
    let court_doc = |doc: &str| {
        format!(
            "/console/records/search?q={}&agency={COURT}",
            urlencode(doc)
        )
    };
    let pairs: Vec<(String, String)> = vec![
        (
            format!("/console/records/{SEALED_CASE}"),
            format!("/console/records/{NO_CASE}"),
        ),
        (
            format!("/console/records/{SEALED_CASE}?purpose=special_post_vetting"),
            format!("/console/records/{NO_CASE}?purpose=special_post_vetting"),
        ),
        (
            format!("/console/records/search?q={SEALED_CASE}"),
            format!("/console/records/search?q={NO_CASE}"),
        ),
        (court_doc(SEALED_DOC), court_doc(NO_DOC)),
        ("/console/records".to_owned(), "/console/records".to_owned()),
        ("/console/".to_owned(), "/console/".to_owned()),
    ];
    for username in ["hr-wang", "clerk-jc", "lawyer-li"] {
        browser.login(username).await;
        for (sealed, never) in &pairs {
            let (shown, source) = seen(browser, sealed).await;
            let (expected, _) = seen(browser, never).await;
            assert_eq!(shown, expected, "{username}: {sealed} against {never}");
            for secret in [SEALED, SEALED_NAME, SEALED_CASE, "危险驾驶", SEALED_DOC] {
                assert!(
                    !source.contains(secret),
                    "{username}: {secret} in the source of {sealed}: {source}"
                );
            }
        }
        // The timeline's answer is the not-found one.
        let (shown, _) = seen(browser, &format!("/console/records/{SEALED_CASE}")).await;
        assert!(shown.contains("未找到该案件，或您无权查看。"), "{shown}");
        if username == "clerk-jc" {
            browser.screenshot("records-not-found").await;
        }
        browser.logout().await;
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Issue 18: a violation record's timeline in its own words — 违法记录, the events of the
/// 治安管理处罚法, the penalty decision's number as a 处罚决定书 — never a criminal record's.
#[tokio::test]
async fn a_violation_records_timeline_has_its_own_wording() {
    const VIOLATOR: &str = "110105199203070011";
    const CASE: &str = "110105-2026-000031";
    const DOC: &str = "京公（朝）行罚决字〔2026〕31号";
    let server = support::console::start_empty("violation-timeline", &KEYS).await;
    let police = |key: &str, kind: &str, date: &str, extra: Value| {
        let mut event = json!({
            "idempotency_key": format!("{CASE}/{key}"), "kind": kind, "date": date,
            "case_code": CASE, "agency": {"kind": "public_security", "code": POLICE},
            "person": {"id_number": VIOLATOR, "name": "赵违法"},
        });
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        event
    };
    send(
        &server,
        vec![
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
                json!({"document_number": DOC, "violations": [{"name": "殴打他人"}], "penalty": {"detention_days": 10, "fine_yuan": 500}}),
            ),
            police(
                "effective",
                "violation_decision_effective",
                "2026-02-12",
                json!({"document_number": DOC}),
            ),
        ],
    )
    .await;
    support::console::create_users(&server, ADMIN, USERS).await;
    let (cookies, _) = support::console::console_login(&server, "ops-sun").await;
    let (status, html) =
        support::console::get_page(&server, &cookies, &format!("/console/records/{CASE}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for words in [
        "<span class=\"badge kind\" id=\"kind-1\">违法记录</span>",
        "治安案件受案",
        "治安管理处罚决定",
        &format!("<span class=\"doc\">处罚决定书 {DOC}</span>"),
        "cn-public-security-violation",
        "治安管理处罚法",
    ] {
        assert!(html.contains(words), "`{words}` not in {html}");
    }
    for criminal in ["犯罪记录</span>", "判决书", "刑事诉讼法"] {
        assert!(!html.contains(criminal), "`{criminal}` in {html}");
    }
    // The police's seal notice is listed (not acknowledged yet) and opens as its document, a
    // 违法记录 in the words of 治安管理处罚法 art. 136: a violation's notice once failed to read
    // back, and the notices page with it.
    let (status, list) = support::console::get_page(&server, &cookies, "/console/notices").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let link = list
        .split("href=\"")
        .filter_map(|part| part.split('"').next())
        .find(|href| href.starts_with("/console/notices/FC-SEAL-110105-2026-000031"))
        .unwrap_or_else(|| panic!("no link to the seal notice in {list}"));
    let (status, document) = support::console::get_page(&server, &cookies, link).await;
    assert_eq!(status, StatusCode::OK, "{document}");
    for words in [
        "违法记录",
        "第一百三十六条",
        "除有关国家机关为办案需要或者有关单位根据国家规定进行查询外",
    ] {
        assert!(document.contains(words), "`{words}` not in {document}");
    }
    // Issued by the violation record's own authority (the configured one, by default the
    // platform's name for violation records), never the criminal-record platform.
    assert!(document.contains("违法记录封存平台"), "{document}");
    for criminal in ["涉罪记录", "中的犯罪记录", "犯罪记录封存平台"] {
        assert!(!document.contains(criminal), "`{criminal}` in {document}");
    }
}
