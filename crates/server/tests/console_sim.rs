//! The console pages of i16-demo: the look-up answer drawn as a table (Chinese and English),
//! over plain HTTP against a real server on port 0.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Server;
use support::console::{Keys, SEALED, SEALED_CASE, SEALED_NAME, User, plain_client, post_form};

mod support;

const KEYS: Keys = Keys {
    operator: "operator-key-for-console-sim-tests",
    admin: "administrator-key-for-console-sim-tests",
    auditor: None,
};

const USERS: &[User] = &[
    ("clerk-zhang", "clerk", Some("court"), None),
    ("judge-liu", "approver", Some("court"), None),
    ("ops-sun", "operator", None, None),
];

async fn start(label: &str) -> Server {
    support::console::start_with(label, &KEYS, USERS).await
}

/// The cookies of a console login, as one `Cookie` header, and the CSRF token.
async fn console_login(server: &Server, username: &str) -> (String, String) {
    support::console::console_login_unchecked(server, username).await
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
