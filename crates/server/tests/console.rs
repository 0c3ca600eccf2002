//! The console, end to end: plain HTTP for what a browser does not show (redirects, headers, a
//! form without its CSRF token), and a real Chromium driven over WebDriver (fantoccini) for the
//! pages — a real server on port 0 on a fresh database, an injected clock. Screenshots of the
//! main pages go to `docs/console/` when `FENGCUN_UPDATE_SCREENSHOTS=1` (else into the target
//! directory; `tests/support/browser.rs`).
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `FENGCUN_CHROMIUM` and
//! `FENGCUN_CHROMEDRIVER`) the browser test prints `SKIPPED: …` and passes; `.ci/run` installs
//! both and sets `FENGCUN_REQUIRE_BROWSER`, so that in CI a missing browser fails instead.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fantoccini::Locator;
use fengcun_server::config::key_digest;
use fengcun_server::{ApiKey, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::browser::{Browser, password};
use support::{Engine, Server};

mod support;

const OPERATOR: &str = "operator-key-for-console-tests";
const ADMIN: &str = "administrator-key-for-console-tests";
const AUDITOR: &str = "auditor-key-for-console-tests";

/// Sealed under cn-minor-opt1 (dangerous driving, 拘役 two months): the person's only record.
const SEALED: &str = "110105199003070025";
const SEALED_NAME: &str = "李封存";
const SEALED_CASE: &str = "110105-2024-000001";
/// Never in the store.
const NOBODY: &str = "110105198001010016";
const NO_CASE: &str = "110105-2024-000999";

/// Every console user of the tests: (username, role, requester kind).
const USERS: &[(&str, &str, Option<&str>)] = &[
    ("clerk-zhang", "clerk", Some("court")),
    ("judge-liu", "approver", Some("court")),
    ("hr-wang", "requester", Some("employer")),
    ("audit-zhao", "auditor", None),
    ("ops-sun", "operator", None),
    ("admin-qian", "administrator", None),
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
        key("audit", Role::Auditor, AUDITOR),
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
    let response = server
        .http
        .post(format!("{}/api/v1/events/batch", server.base))
        .bearer_auth(OPERATOR)
        .json(&json!({"events": events}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for (username, role, kind) in USERS {
        let mut body = json!({"username": username, "password": password(username), "role": role});
        if let Some(kind) = kind {
            body["requester_kind"] = (*kind).into();
        }
        let response = server
            .http
            .post(format!("{}/api/v1/users", server.base))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    server
}

async fn audit(server: &Server) -> Vec<Value> {
    let body: Value = server
        .http
        .get(format!("{}/api/v1/audit/entries?limit=1000", server.base))
        .bearer_auth(AUDITOR)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["entries"].as_array().unwrap().clone()
}

/// A client that keeps what the server answers (no redirect followed).
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
        let value = value.to_str().unwrap();
        assert!(
            value.contains("HttpOnly") && value.contains("SameSite=Strict"),
            "{value}"
        );
        let pair = value.split(';').next().unwrap().to_owned();
        if let Some(token) = pair.strip_prefix("fengcun_csrf=") {
            csrf = token.to_owned();
        }
        cookies.push(pair);
    }
    assert!(!csrf.is_empty());
    (cookies.join("; "), csrf)
}

fn assert_security_headers(response: &reqwest::Response, cache: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {name} on {}", response.url()))
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert!(
        header("cache-control").contains(cache),
        "{}",
        response.url()
    );
}

#[tokio::test]
async fn anonymous_visitors_get_the_login_page_and_htmx_fragments_401() {
    let server = start("console-anonymous").await;
    let http = plain_client();
    let root = http.get(format!("{}/", server.base)).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/console/");
    for path in [
        "/console/",
        "/console/users",
        "/console/requests",
        "/console/lookup",
        "/console/password",
        "/console/no-such-page",
    ] {
        let response = http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
        assert_security_headers(&response, "no-store");
        let fragment = http
            .get(format!("{}{path}", server.base))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(fragment.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // A changing form of an anonymous visitor changes nothing and goes to the login page.
    let response = http
        .post(format!("{}/console/users", server.base))
        .form(&[
            ("username", "intruder"),
            ("password", "0123456789abc"),
            ("role", "operator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/login");
    let login = http
        .get(format!("{}/console/login", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_security_headers(&login, "no-store");
    let page = login.text().await.unwrap();
    assert!(page.contains("登录") && page.contains("用户名"), "{page}");
    assert!(!page.contains("<script>"), "no inline script");
    // The static files: versioned names, cached for good, the same security headers.
    let htmx = http
        .get(format!("{}/console/static/htmx-2.0.11.min.js", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(htmx.status(), StatusCode::OK);
    assert_security_headers(&htmx, "immutable");
    let stylesheet = page
        .split('"')
        .find(|part| part.starts_with("/console/static/console."))
        .unwrap()
        .to_owned();
    let css = http
        .get(format!("{}{stylesheet}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_security_headers(&css, "immutable");
    server.running.stop();
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_audited() {
    let server = start("console-csrf").await;
    let (cookies, csrf) = console_login(&server, "admin-qian").await;
    let http = plain_client();
    let form = |token: Option<&str>| {
        let mut fields = vec![
            ("username", "new-clerk".to_owned()),
            ("password", password("new-clerk")),
            ("role", "clerk".to_owned()),
            ("requester_kind", "court".to_owned()),
        ];
        if let Some(token) = token {
            fields.push(("csrf_token", token.to_owned()));
        }
        fields
    };
    for token in [None, Some("0000")] {
        let response = http
            .post(format!("{}/console/users", server.base))
            .header("cookie", &cookies)
            .form(&form(token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{token:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains("安全令牌"), "{page}");
    }
    let refused: Vec<Value> = audit(&server)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "authentication_refused" && e["outcome"] == "csrf")
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "the first refusal of the minute is logged"
    );
    assert_eq!(refused[0]["actor"], "user:admin-qian");
    // Nothing was made; with its token the same form makes the user.
    let users: Value = server
        .http
        .get(format!("{}/api/v1/users", server.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!users.to_string().contains("new-clerk"));
    let response = http
        .post(format!("{}/console/users", server.base))
        .header("cookie", &cookies)
        .form(&form(Some(&csrf)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("用户已创建：new-clerk")
    );
    // An htmx request carries the token in its header instead.
    let response = http
        .post(format!("{}/console/users/new-clerk/disable", server.base))
        .header("cookie", &cookies)
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.running.stop();
}

#[tokio::test]
async fn form_errors_name_the_field_in_chinese() {
    let server = start("console-errors").await;
    let (cookies, csrf) = console_login(&server, "admin-qian").await;
    let response = plain_client()
        .post(format!("{}/console/users", server.base))
        .header("cookie", &cookies)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "x"),
            ("password", &password("x")),
            ("role", "clerk"),
            ("requester_kind", "court"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("「用户名」有误：须为3至64个字母"), "{page}");
    server.running.stop();
}

// ---------------------------------------------------------------------------------------------
// In a real browser.

/// The menu's entries, in order.
async fn menu(browser: &Browser) -> Vec<String> {
    let mut entries = Vec::new();
    for link in browser
        .client
        .find_all(Locator::Css("#menu a"))
        .await
        .unwrap()
    {
        entries.push(link.text().await.unwrap());
    }
    entries
}

#[tokio::test]
async fn in_a_browser() {
    let server = start("console-browser").await;
    let Some(browser) = Browser::start(&server.base).await else {
        return;
    };
    each_role_sees_its_menu(&browser).await;
    request_approval_lookup_and_revocation(&browser).await;
    sealed_is_as_never_recorded(&browser).await;
    administrator_makes_users_and_keys(&browser).await;
    the_english_switch(&browser).await;
    browser.close().await;
    server.running.stop();
}

async fn each_role_sees_its_menu(browser: &Browser) {
    browser.go("/console/requests").await;
    assert!(browser.text("#login-form").await.contains("登录"));
    browser.screenshot("login").await;
    let expected: &[(&str, &[&str])] = &[
        (
            "clerk-zhang",
            &["首页", "查询", "申请与审批", "记录", "修改密码"],
        ),
        ("judge-liu", &["首页", "查询", "申请与审批", "修改密码"]),
        ("hr-wang", &["首页", "查询", "申请与审批", "修改密码"]),
        ("audit-zhao", &["首页", "申请与审批", "审计", "修改密码"]),
        (
            "ops-sun",
            &["首页", "记录", "通知", "封存政策", "政策模拟", "修改密码"],
        ),
        ("admin-qian", &["首页", "用户与密钥", "修改密码"]),
    ];
    for (username, entries) in expected {
        browser.login(username).await;
        assert_eq!(menu(browser).await, *entries, "{username}");
        let who = browser.text("#who").await;
        assert!(who.starts_with(username), "{who}");
        if *username == "judge-liu" {
            browser.screenshot("home").await;
        }
        browser.logout().await;
    }
}

async fn request_approval_lookup_and_revocation(browser: &Browser) {
    // The clerk files a request.
    browser.login("clerk-zhang").await;
    browser.go("/console/requests").await;
    browser.select("#request-purpose", "case_handling").await;
    browser.fill("#request-id", SEALED).await;
    browser.fill("#request-name", SEALED_NAME).await;
    browser
        .fill("#request-basis", "（2026）京0105刑初88号")
        .await;
    browser.fill("#request-reason", "审理需要查阅前科").await;
    browser.click("#file-request").await;
    let filed = browser.text(".notice.ok").await;
    assert!(filed.starts_with("申请已提交："), "{filed}");
    let request = filed.trim_start_matches("申请已提交：").to_owned();
    // The clerk sees the person masked and no decision buttons.
    let mine = browser.text(&format!("#request-{request}")).await;
    assert!(mine.contains("李某") && !mine.contains(SEALED), "{mine}");
    assert!(
        browser
            .client
            .find_all(Locator::Css(".approve"))
            .await
            .unwrap()
            .is_empty()
    );
    browser.logout().await;

    // Another user, the approver, approves for ten days.
    browser.login("judge-liu").await;
    browser.go("/console/requests").await;
    let queued = browser.text(&format!("#request-{request}")).await;
    assert!(
        queued.contains(SEALED_NAME) && queued.contains(SEALED),
        "{queued}"
    );
    browser.screenshot("requests-queue").await;
    let form = format!("#request-{request} form");
    browser
        .fill(&format!("{form} .decision-reason"), "依法准许查阅")
        .await;
    browser.fill(&format!("{form} .decision-days"), "10").await;
    browser.click(&format!("{form} .approve")).await;
    let approved = browser.text(".notice.ok").await;
    assert!(
        approved.starts_with("已批准，授权编号：grant-"),
        "{approved}"
    );
    let grant = approved.trim_start_matches("已批准，授权编号：").to_owned();
    let row = browser.text(&format!("#grant-{grant}")).await;
    assert!(
        row.contains("2026年6月11日"),
        "the window in Chinese dates: {row}"
    );
    browser.logout().await;

    // The clerk looks the person up under the grant.
    browser.login("clerk-zhang").await;
    let answer = lookup(browser, "case_handling", None, Some(SEALED), None).await;
    assert!(answer.contains("查询结果"), "{answer}");
    assert!(
        answer.contains(SEALED_CASE) && answer.contains(&grant),
        "{answer}"
    );
    browser.screenshot("lookup-granted").await;
    browser.logout().await;

    // The approver revokes the grant; the clerk sees no record again.
    browser.login("judge-liu").await;
    browser.go("/console/requests").await;
    browser
        .fill(&format!("#grant-{grant} .revoke-reason"), "案件已审结")
        .await;
    browser
        .click(&format!("#grant-{grant} .revoke button"))
        .await;
    let revoked = browser.text(".notice.ok").await;
    assert_eq!(revoked, format!("授权已撤销：{grant}"));
    browser
        .text_with(&format!("#grant-{grant}"), "已撤销")
        .await;
    browser.logout().await;
    browser.login("clerk-zhang").await;
    let answer = lookup(browser, "case_handling", None, Some(SEALED), None).await;
    assert!(answer.contains("查无记录"), "{answer}");
    browser.logout().await;

    // Nobody approves their own request: the approver's own shows no buttons, and the service
    // refuses it if asked all the same.
    browser.login("judge-liu").await;
    browser.go("/console/requests").await;
    browser.select("#request-purpose", "case_handling").await;
    browser.fill("#request-id", NOBODY).await;
    browser
        .fill("#request-basis", "（2026）京0105刑初89号")
        .await;
    browser.fill("#request-reason", "审理需要查阅前科").await;
    browser.click("#file-request").await;
    let own = browser
        .text(".notice.ok")
        .await
        .trim_start_matches("申请已提交：")
        .to_owned();
    assert!(
        browser
            .client
            .find_all(Locator::Css(&format!("#request-{own} .approve")))
            .await
            .unwrap()
            .is_empty()
    );
    browser.logout().await;
}

/// Looks up through the page (htmx); the answer's text.
async fn lookup(
    browser: &Browser,
    purpose: &str,
    post: Option<&str>,
    id: Option<&str>,
    case: Option<&str>,
) -> String {
    browser.go("/console/lookup").await;
    browser.select("#lookup-purpose", purpose).await;
    if let Some(post) = post {
        browser.fill("#lookup-post", post).await;
    }
    browser.fill("#lookup-basis", "测试查询依据").await;
    if let Some(id) = id {
        browser.fill("#lookup-id", id).await;
    }
    if let Some(case) = case {
        browser.fill("#lookup-case", case).await;
    }
    browser.click("#lookup-submit").await;
    browser.text("#lookup-answer").await;
    browser.text("#answer").await
}

/// A leak sweep's start: for a person whose only record is sealed, the look-up pages an employer
/// and a clerk without a grant reach read exactly as for a person never recorded, and their
/// source holds neither the name nor the identity number.
async fn sealed_is_as_never_recorded(browser: &Browser) {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("hr-wang", "special_post_vetting", Some("civil_servant")),
        ("clerk-zhang", "case_handling", None),
    ];
    for (username, purpose, post) in cases {
        browser.login(username).await;
        for (sealed, nobody) in [
            ((Some(SEALED), None), (Some(NOBODY), None)),
            ((None, Some(SEALED_CASE)), (None, Some(NO_CASE))),
        ] {
            let shown = lookup(browser, purpose, *post, sealed.0, sealed.1).await;
            let page = browser
                .client
                .find(Locator::Css("main"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let source = browser.client.source().await.unwrap();
            let never = lookup(browser, purpose, *post, nobody.0, nobody.1).await;
            let never_page = browser
                .client
                .find(Locator::Css("main"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(shown, never, "{username}");
            assert_eq!(page, never_page, "{username}");
            assert!(shown.contains("查无记录"), "{shown}");
            for secret in [SEALED, SEALED_NAME, SEALED_CASE, "危险驾驶"] {
                assert!(!source.contains(secret), "{username}: {secret} in the page");
            }
        }
        if *username == "hr-wang" {
            browser.screenshot("lookup-no-record").await;
        }
        browser.logout().await;
    }
}

async fn administrator_makes_users_and_keys(browser: &Browser) {
    browser.login("admin-qian").await;
    browser.go("/console/users").await;
    browser.fill("#new-username", "clerk-wu").await;
    browser.fill("#new-password", &password("clerk-wu")).await;
    browser.select("#new-role", "clerk").await;
    browser.select("#new-kind", "procuratorate").await;
    browser.click("#create-user").await;
    assert_eq!(browser.text(".notice.ok").await, "用户已创建：clerk-wu");
    assert!(browser.text("#user-clerk-wu").await.contains("人民检察院"));
    browser.click("#user-clerk-wu form button.danger").await;
    browser.text_with("#user-clerk-wu", "已停用").await;
    browser.click("#user-clerk-wu form button").await;
    browser.text_with("#user-clerk-wu", "正常").await;
    browser.fill("#key-name", "court-system").await;
    browser.select("#key-role", "agency").await;
    browser.fill("#key-agency", "110105-fy").await;
    browser.fill("#key-owner", "clerk-wu").await;
    browser.click("#create-key").await;
    let secret = browser.text("#secret").await;
    assert!(secret.starts_with("fck_"), "{secret}");
    browser.screenshot("users-and-keys").await;
    // Shown once: the page again shows the key, never its secret.
    browser.go("/console/users").await;
    let source = browser.client.source().await.unwrap();
    assert!(source.contains("court-system") && !source.contains(&secret));
    browser.click("#keys form.inline button").await;
    browser.text_with("#keys", "已吊销").await;
    browser.logout().await;
}

async fn the_english_switch(browser: &Browser) {
    browser.login("judge-liu").await;
    browser.click("#lang-switch").await;
    browser.text_with("#menu", "Home").await;
    assert_eq!(
        menu(browser).await,
        [
            "Home",
            "Look-up",
            "Requests and approvals",
            "Change password"
        ]
    );
    browser.screenshot("home-english").await;
    // Kept after logging out and in again.
    browser.logout().await;
    assert!(browser.text("#login-form").await.contains("Log in"));
    browser.login("judge-liu").await;
    assert_eq!(menu(browser).await[0], "Home");
    browser.click("#lang-switch").await;
    browser.text_with("#menu", "首页").await;
    assert_eq!(menu(browser).await[0], "首页");
    browser.logout().await;
}
