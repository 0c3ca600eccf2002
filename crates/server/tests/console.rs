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
use reqwest::StatusCode;
use serde_json::Value;
use support::browser::{Browser, password};
use support::console::{
    ADMIN, AUDITOR, SEALED, SEALED_CASE, SEALED_NAME, console_login, get_page, plain_client,
    post_form, start,
};

mod support;

/// Never in the store.
const NOBODY: &str = "110105198001010016";
const NO_CASE: &str = "110105-2024-000999";

async fn audit(server: &support::Server) -> Vec<Value> {
    support::console::audit(server, AUDITOR).await
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

/// A refused request gives back what the clerk typed: the error above the form, every field as
/// it was, so that a mistake in one field does not cost retyping the others.
#[tokio::test]
async fn a_refused_request_keeps_what_was_typed() {
    let server = start("console-request-draft").await;
    let (cookies, csrf) = console_login(&server, "clerk-zhang").await;
    let basis = "（2026）京0105刑初88号 <b>";
    let (status, page) = post_form(
        &server,
        &cookies,
        "/console/requests",
        &[
            ("csrf_token", csrf.as_str()),
            ("purpose", "case_handling"),
            ("post", ""),
            ("id_number", "110105199003070025"),
            ("name", "张三"),
            ("basis", basis),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("class=\"notice"),
        "the error is shown: {page}"
    );
    assert!(page.contains("value=\"110105199003070025\""), "{page}");
    assert!(page.contains("value=\"张三\""), "{page}");
    assert!(
        page.contains("value=\"（2026）京0105刑初88号 &#60;b&#62;\"")
            || page.contains("value=\"（2026）京0105刑初88号 &lt;b&gt;\""),
        "kept, and escaped: {page}"
    );
    assert!(
        page.contains("<option value=\"case_handling\" selected>"),
        "{page}"
    );
    // Nothing was filed.
    let (_, list) = get_page(&server, &cookies, "/console/requests").await;
    assert!(!list.contains("京0105刑初88号"), "{list}");
    assert!(
        !list.contains("value=\"110105199003070025\""),
        "a fresh form is empty"
    );
    server.running.stop();
}

/// In English, the look-up and request forms name the vetting posts in English, with Latin
/// punctuation; in Chinese, as the disclosure table writes them.
#[tokio::test]
async fn the_english_console_names_posts_in_english() {
    let server = start("console-english-posts").await;
    let (cookies, _) = console_login(&server, "clerk-zhang").await;
    let english = format!("{cookies}; fengcun_lang=en");
    for path in ["/console/lookup", "/console/requests"] {
        let (status, page) = get_page(&server, &english, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            page.contains(">Teacher qualification</option>"),
            "{path}: {page}"
        );
        assert!(!page.contains("教师资格"), "{path}: a Chinese post title");
        assert!(page.contains(" (optional)"), "{path}");
        let (_, chinese) = get_page(&server, &cookies, path).await;
        assert!(chinese.contains(">教师资格</option>"), "{path}");
    }
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
            &[
                "首页",
                "查询",
                "申请与审批",
                "记录",
                "本人账户开通",
                "修改密码",
            ],
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
        browser.select("#lookup-post", post).await;
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
    // Read the page the navigation led to, not the one that showed the secret: the page that
    // lists the keys again has no `#secret` (if it showed it again, this never ends and fails).
    browser.wait_gone("#secret").await;
    let source = browser.client.source().await.unwrap();
    assert!(source.contains("court-system"), "the key is not listed");
    assert!(!source.contains(&secret), "the secret is shown again");
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

/// An audit entry's detail (stored as JSON text).
fn detail_of(entry: &Value) -> Value {
    serde_json::from_str(entry["detail"].as_str().unwrap_or("null")).unwrap()
}

/// Every address of the console that changes something, read from its router (so that a form
/// added later is checked without being listed here): each `.route(…)` with a `post(` handler,
/// its path parameters filled with a value of no row.
fn changing_routes() -> Vec<String> {
    routes("post(")
}

/// Every address of the router (`console/mod.rs`) with a handler of `method` (`"get("`,
/// `"post("`), its parameters filled with a value of no row; the unknown addresses' 404 left out.
fn routes(method: &str) -> Vec<String> {
    let source = include_str!("../src/console/mod.rs");
    let mut paths = Vec::new();
    for chunk in source.split(".route(").skip(1) {
        let chunk = chunk.split(".layer(").next().unwrap();
        if !chunk.contains(method) {
            continue;
        }
        let first = chunk.trim_start();
        let path = if first.starts_with('"') {
            let start = chunk.find('"').unwrap() + 1;
            let end = start + chunk[start..].find('"').unwrap();
            chunk[start..end].to_owned()
        } else {
            let name: String = first
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            constant(&name)
        };
        if path.contains("{*") {
            continue; // the unknown addresses' 404
        }
        let filled: Vec<String> = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "no-such-row".to_owned()
                } else {
                    part.to_owned()
                }
            })
            .collect();
        paths.push(filled.join("/"));
    }
    paths
}

/// The value of a path constant the router names (`module::NAME`), read from its module's source;
/// a module not listed here fails the test with its name, to be added.
fn constant(name: &str) -> String {
    let sources = [
        ("simulation", include_str!("../src/console/simulation.rs")),
        ("looked", include_str!("../src/console/looked.rs")),
        ("supervision", include_str!("../src/console/supervision.rs")),
    ];
    let (module, constant) = name
        .split_once("::")
        .unwrap_or_else(|| panic!("a route path the test cannot read: {name}"));
    let source = sources
        .iter()
        .find(|(m, _)| *m == module)
        .unwrap_or_else(|| panic!("add console/{module}.rs to the test's sources ({name})"))
        .1;
    let declaration = format!("const {constant}: &str = \"");
    let start = source
        .find(&declaration)
        .unwrap_or_else(|| panic!("{name} is not a string constant of {module}.rs"))
        + declaration.len();
    let end = start + source[start..].find('"').unwrap();
    source[start..end].to_owned()
}

/// Every page of the router, not only those a menu links: an anonymous visitor is sent to the
/// login page, an htmx request answered 401 — but for the login page itself, the language
/// switch, the static files and the two redirects to the console.
#[tokio::test]
async fn every_console_page_sends_an_anonymous_visitor_to_the_login_page() {
    let server = start("console-anonymous-all").await;
    let http = plain_client();
    let public = [
        "/",
        "/console",
        "/console/login",
        "/activate",
        "/console/lang/no-such-row",
        "/console/static/no-such-row",
    ];
    let pages: Vec<String> = routes("get(")
        .into_iter()
        .filter(|p| !public.contains(&p.as_str()))
        .collect();
    for expected in [
        "/console/",
        "/console/records/no-such-row",
        "/console/audit/proof/no-such-row",
        "/console/simulation",
    ] {
        assert!(
            pages.iter().any(|p| p == expected),
            "{expected} in {pages:?}"
        );
    }
    for path in &pages {
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
    // And every changing address but the two forms made before a session (the login's and a
    // person's activation, refused without their own token): to the login page, nothing done.
    for path in changing_routes()
        .iter()
        .filter(|p| !["/console/login", "/activate"].contains(&p.as_str()))
    {
        let response = http
            .post(format!("{}{path}", server.base))
            .form(&[("csrf_token", "0000")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
    }
    server.running.stop();
}

#[tokio::test]
async fn every_changing_form_without_its_token_is_refused_and_audited() {
    let server = start("console-csrf-all").await;
    let routes = changing_routes();
    // The router's forms as they stand; a shorter list means the reading of the router broke.
    for expected in [
        "/console/login",
        "/console/logout",
        "/console/users",
        "/console/users/no-such-row/disable",
        "/console/keys/no-such-row/revoke",
        "/console/requests/no-such-row/approve",
        "/console/grants/no-such-row/revoke",
        "/console/lookup",
        "/console/notices/no-such-row/retry",
        "/console/audit/verify",
        "/console/policy/apply",
        "/console/simulation",
    ] {
        assert!(
            routes.iter().any(|r| r == expected),
            "{expected} in {routes:?}"
        );
    }
    let (cookies, csrf) = console_login(&server, "admin-qian").await;
    let http = plain_client();
    let mut at: jiff::Timestamp = "2026-06-01T02:00:00Z".parse().unwrap();
    for path in &routes {
        for token in [None, Some("0000"), Some(&csrf[..csrf.len() - 1])] {
            // A minute apart, so that each address's refusal is audited (repeats within a minute
            // are counted into the next entry).
            at += jiff::SignedDuration::from_secs(61);
            server.clock.set(at);
            let mut form = vec![("username", "x".to_owned()), ("password", "y".to_owned())];
            if let Some(token) = token {
                form.push(("csrf_token", token.to_owned()));
            }
            let response = http
                .post(format!("{}{path}", server.base))
                .header("cookie", &cookies)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
            let page = response.text().await.unwrap();
            assert!(page.contains("安全令牌"), "{path}: {page}");
        }
    }
    let refused: Vec<Value> = audit(&server)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "authentication_refused" && e["outcome"] == "csrf")
        .collect();
    for path in &routes {
        let entries = refused
            .iter()
            .filter(|e| detail_of(e)["path"] == path.as_str())
            .count();
        assert_eq!(entries, 3, "{path}: {refused:?}");
    }
    // The session still works, and its own token still changes things.
    let response = http
        .post(format!("{}/console/logout", server.base))
        .header("cookie", &cookies)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.running.stop();
}

#[tokio::test]
async fn a_login_form_from_another_page_is_refused_and_audited() {
    let server = start("console-login-csrf").await;
    let http = plain_client();
    let login = |cookie: Option<String>, token: Option<String>| {
        let http = http.clone();
        let base = server.base.clone();
        async move {
            let mut form = vec![
                ("username", "admin-qian".to_owned()),
                ("password", password("admin-qian")),
            ];
            if let Some(token) = token {
                form.push(("csrf_token", token));
            }
            let mut request = http.post(format!("{base}/console/login")).form(&form);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            request.send().await.unwrap()
        }
    };
    let (cookie, token) = support::console::login_form_token(&server).await;
    let (_, other_token) = support::console::login_form_token(&server).await;
    // A right password posted from another site (no cookie of ours, or its own token) opens no
    // session.
    for (cookie, token) in [
        (None, None),
        (None, Some(token.clone())),
        (Some(cookie.clone()), None),
        (Some(cookie.clone()), Some(other_token)),
    ] {
        let response = login(cookie.clone(), token.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{cookie:?} {token:?}"
        );
        assert!(
            !response
                .headers()
                .get_all("set-cookie")
                .iter()
                .any(|v| v.to_str().unwrap().starts_with("fengcun_session=")),
            "no session for {cookie:?} {token:?}"
        );
        assert!(response.text().await.unwrap().contains("安全令牌"));
    }
    let refused: Vec<Value> = audit(&server)
        .await
        .into_iter()
        .filter(|e| {
            e["kind"] == "authentication_refused"
                && e["outcome"] == "csrf"
                && e["actor"] == "anonymous"
                && detail_of(e)["path"] == "/console/login"
        })
        .collect();
    assert_eq!(refused.len(), 1, "the first of the minute: {refused:?}");
    // The page's own cookie and token open the session.
    let response = login(Some(cookie), Some(token)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.running.stop();
}
