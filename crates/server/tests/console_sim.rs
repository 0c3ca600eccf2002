//! The console pages of i16-demo: the look-up answer drawn as a table (Chinese and English),
//! over plain HTTP against a real server on port 0.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_server::config::key_digest;
use fengcun_server::{ApiKey, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Engine, Server};

mod support;

const OPERATOR: &str = "operator-key-for-console-sim-tests";
const ADMIN: &str = "administrator-key-for-console-sim-tests";

/// Sealed under cn-minor-opt1 (dangerous driving, 拘役 two months): the person's only record.
const SEALED: &str = "110105199003070025";
const SEALED_NAME: &str = "李封存";
const SEALED_CASE: &str = "110105-2024-000001";

fn password(username: &str) -> String {
    format!("{username}-correct-horse-battery")
}

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("clerk-zhang", "clerk", Some("court")),
    ("judge-liu", "approver", Some("court")),
    ("ops-sun", "operator", None),
];

async fn start(label: &str) -> Server {
    let mut config = support::config("cn-minor-opt1");
    config.secure_cookies = false;
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
    ];
    let server = Server::start(config, "2026-06-01T02:00:00Z", Engine::Sqlite, label).await;
    let agency = |kind: &str, code: &str| json!({"kind": kind, "code": code});
    let person = json!({"id_number": SEALED, "name": SEALED_NAME});
    let case = SEALED_CASE;
    let events = vec![
        json!({"idempotency_key": format!("{case}/filed"), "kind": "filed", "date": "2024-01-10", "case_code": case,
            "agency": agency("public_security", "110105-ga"), "person": person,
            "charges": [{"name": "危险驾驶罪"}], "offence_date": "2024-01-10"}),
        json!({"idempotency_key": format!("{case}/judgment"), "kind": "judgment", "date": "2024-03-01", "case_code": case,
            "agency": agency("court", "110105-fy"), "person": person,
            "document_number": "(2024)某刑初1号",
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "危险驾驶罪"}],
                "sentence": {"principal": "criminal_detention", "months": 2},
                "offence_date": "2024-01-10", "recidivist": false, "prior_convictions": 0}}),
        json!({"idempotency_key": format!("{case}/effective"), "kind": "judgment_effective", "date": "2024-03-12",
            "case_code": case, "agency": agency("court", "110105-fy"), "person": person}),
    ];
    let (status, body) = server
        .post("/api/v1/events/batch", OPERATOR, &json!({"events": events}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (username, role, kind) in USERS {
        let mut body = json!({"username": username, "password": password(username), "role": role});
        if let Some(kind) = kind {
            body["requester_kind"] = (*kind).into();
        }
        let (status, answer) = server.post("/api/v1/users", ADMIN, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    server
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The cookies of a console login, as one `Cookie` header, and the CSRF token.
async fn console_login(server: &Server, username: &str) -> (String, String) {
    let response = plain_client()
        .post(format!("{}/console/login", server.base))
        .form(&[("username", username), ("password", &password(username))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut cookies = Vec::new();
    let mut csrf = String::new();
    for value in response.headers().get_all("set-cookie") {
        let pair = value
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        if let Some(token) = pair.strip_prefix("fengcun_csrf=") {
            csrf = token.to_owned();
        }
        cookies.push(pair);
    }
    assert!(!csrf.is_empty());
    (cookies.join("; "), csrf)
}

/// A console form posted with the session's cookies: (status, HTML).
async fn post_form(
    server: &Server,
    cookies: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = plain_client()
        .post(format!("{}{path}", server.base))
        .header("cookie", cookies)
        .form(fields)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A JSON call with a console session (cookie and CSRF header).
async fn post_json(
    server: &Server,
    (cookies, csrf): &(String, String),
    path: &str,
    body: &Value,
) -> Value {
    let response = plain_client()
        .post(format!("{}{path}", server.base))
        .header("cookie", cookies)
        .header("x-csrf-token", csrf)
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}");
    response.json().await.unwrap()
}

/// The text of the answer card, tags stripped, whitespace collapsed.
fn answer_text(page: &str) -> String {
    let at = page.find("id=\"lookup-answer\"").expect("an answer");
    let mut text = String::new();
    let mut in_tag = false;
    for c in page[at..].chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Under a grant, the clerk's look-up answer reads as a table — case code, charges, sentence,
/// dates, state, the grant and the duty of confidentiality — in Chinese, and in English with
/// the switch; no JSON is shown.
#[tokio::test]
async fn the_lookup_answer_is_a_table_in_chinese_and_english() {
    let server = start("sim-lookup-table").await;
    let clerk = console_login(&server, "clerk-zhang").await;
    let approver = console_login(&server, "judge-liu").await;
    let request = post_json(
        &server,
        &clerk,
        "/api/v1/requests",
        &json!({"purpose": "case_handling", "id_number": SEALED, "basis": "（2026）京0105刑初88号", "reason": "审理需要"}),
    )
    .await;
    let request = request["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approved = post_json(
        &server,
        &approver,
        &format!("/api/v1/requests/{request}/approve"),
        &json!({"reason": "依法准许"}),
    )
    .await;
    let grant = approved["grant"]["grant_id"].as_str().unwrap().to_owned();
    let form = [
        ("csrf_token", clerk.1.as_str()),
        ("purpose", "case_handling"),
        ("basis", "测试查询依据"),
        ("id_number", SEALED),
    ];
    let (status, page) = post_form(&server, &clerk.0, "/console/lookup", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let text = answer_text(&page);
    for row in [
        format!("案件编号 {SEALED_CASE}"),
        "状态 已封存".to_owned(),
        format!("当事人 {SEALED_NAME} {SEALED}"),
        "罪名 危险驾驶罪".to_owned(),
        "处理结果 判决有罪".to_owned(),
        "刑罚 拘役二个月".to_owned(),
        "犯罪日期 2024年1月10日".to_owned(),
        "判决生效日期 2024年3月12日".to_owned(),
        format!("依据授权 {grant}"),
        "查询单位应当予以保密".to_owned(),
    ] {
        assert!(text.contains(&row), "`{row}` not in: {text}");
    }
    assert!(page.contains("class=\"record-table\""), "{page}");
    let answer = &page[page.find("id=\"lookup-answer\"").unwrap()..];
    assert!(
        !answer.contains("<pre>") && !answer.contains("&#34;case_code&#34;"),
        "no JSON: {answer}"
    );
    // In English.
    let english = format!("{}; fengcun_lang=en", clerk.0);
    let (status, page) = post_form(&server, &english, "/console/lookup", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let text = answer_text(&page);
    for row in [
        format!("Case code {SEALED_CASE}"),
        "State sealed".to_owned(),
        "Charges 危险驾驶罪".to_owned(),
        "Disposition convicted".to_owned(),
        "Sentence criminal detention, 2 months".to_owned(),
        "Judgment in effect 12 March 2024".to_owned(),
        "keeps it confidential".to_owned(),
    ] {
        assert!(text.contains(&row), "`{row}` not in: {text}");
    }
    server.running.stop();
}

/// The policy preview counts the records that would change by main charge: under the juvenile
/// policy the adult's sealed dangerous-driving record would no longer be eligible (it stays
/// sealed); under the policy in force nothing changes.
#[tokio::test]
async fn the_policy_preview_counts_the_changes_by_charge() {
    let server = start("sim-preview-by-charge").await;
    let (cookies, csrf) = console_login(&server, "ops-sun").await;
    let (status, preview) = post_form(
        &server,
        &cookies,
        "/console/policy/preview",
        &[
            ("csrf_token", &csrf),
            ("name", "cn-juvenile"),
            ("document", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let table = &preview[preview.find("id=\"impact-by-charge\"").expect("a table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("<th>主罪名</th>"), "{table}");
    // Sealed now, pending, cancelled, no longer eligible.
    assert!(
        table.contains("<tr><td>危险驾驶罪</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>"),
        "{table}"
    );
    assert_eq!(table.matches("<tr><td>").count(), 1, "{table}");
    let (status, preview) = post_form(
        &server,
        &cookies,
        "/console/policy/preview",
        &[
            ("csrf_token", &csrf),
            ("name", "cn-minor-opt1"),
            ("document", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let table = &preview[preview.find("id=\"impact-by-charge\"").expect("a table")..];
    assert!(table.contains("没有记录会改变状态。"), "{table}");
    server.running.stop();
}
