//! The console's notices, audit, policy and simulation pages, the language remembered per user,
//! the look-up answer as a table: plain HTTP for headers, refusals and CSRF, and a real Chromium
//! (fantoccini over WebDriver, the harness of `tests/console.rs`) for the pages. Screenshots go to
//! `docs/console/` with `FENGCUN_UPDATE_SCREENSHOTS=1`, else to the target directory.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `FENGCUN_CHROMIUM` and
//! `FENGCUN_CHROMEDRIVER`) the browser test prints `SKIPPED: …` and passes, unless
//! `FENGCUN_REQUIRE_BROWSER` is set.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Server;
use support::browser::Browser;
use support::console::{
    AUDITOR, OPERATOR, SEALED, SEALED_CASE, SEALED_NAME, USERS, console_login, get_page,
    plain_client, post_form, start,
};

mod support;

async fn audit(server: &Server) -> Vec<Value> {
    support::console::audit(server, AUDITOR).await
}

#[tokio::test]
async fn an_operator_sees_the_unacknowledged_notices_and_prints_one() {
    let server = start("pages-notices").await;
    let (cookies, _) = console_login(&server, "ops-sun").await;
    let (status, page) = get_page(&server, &cookies, "/console/notices").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("尚未签收的通知书"), "{page}");
    let link = page
        .split('"')
        .find(|part| part.starts_with("/console/notices/") && !part.ends_with("/retry"))
        .expect("a notice's link")
        .to_owned();
    let (status, document) = get_page(&server, &cookies, &link).await;
    assert_eq!(status, StatusCode::OK, "{document}");
    assert!(
        document.contains("<h1 class=\"document-title\">封存通知书</h1>"),
        "{document}"
    );
    // The operator's copy masks the person, as the API's list does.
    assert!(!document.contains(SEALED_NAME), "{document}");
    assert!(!document.contains(SEALED), "{document}");
    assert!(document.contains("李某"), "{document}");
    // A delivery that failed (no agency here has an endpoint) is said in the reader's language,
    // not in the transport's English.
    let run = server
        .http
        .post(format!("{}/api/v1/outbox/run", server.base))
        .bearer_auth(OPERATOR)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), StatusCode::OK);
    // (Retried later, so on the record's timeline rather than among the failed.)
    let (_, page) = get_page(
        &server,
        &cookies,
        &format!("/console/records/{SEALED_CASE}"),
    )
    .await;
    assert!(
        page.contains("机关 110105-fy 未配置接收地址，无法投递"),
        "{page}"
    );
    assert!(!page.contains("no endpoint configured"), "{page}");
    // Retrying a notice that did not fail: the service's not-found, as the API answers.
    let id = link.rsplit('/').next().unwrap();
    let (ops, csrf) = console_login(&server, "ops-sun").await;
    let retry = format!("/console/notices/{id}/retry");
    let (status, page) = post_form(&server, &ops, &retry, &[("csrf_token", &csrf)]).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only a failed notice goes back: {page}"
    );
    // Without its token the retry is refused.
    let (status, page) = post_form(&server, &ops, &retry, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("安全令牌"), "{page}");
    // A clerk may not see notices: the API's refusal, audited.
    let (clerk, _) = console_login(&server, "clerk-zhang").await;
    let (status, _) = get_page(&server, &clerk, "/console/notices").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_page(&server, &clerk, &format!("/console/notices/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let forbidden = audit(&server)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "forbidden" && e["actor"] == "user:clerk-zhang")
        .count();
    assert_eq!(forbidden, 2);
    let reads = audit(&server)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "read" && e["outcome"] == "notice")
        .count();
    assert_eq!(reads, 1, "the document's read is audited");
    server.running.stop();
}

#[tokio::test]
async fn an_auditor_filters_the_log_verifies_it_and_downloads_a_proof() {
    let server = start("pages-audit").await;
    let (cookies, csrf) = console_login(&server, "audit-zhao").await;
    // Filtered by actor and kind: the administrator's user creations only, newest first.
    let (status, page) = get_page(
        &server,
        &cookies,
        "/console/audit?actor=admin&kind=user_changed&subject=&since=2026-06-01&until=2026-06-01",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let rows = page.matches("<tr id=\"entry-").count();
    assert_eq!(rows, USERS.len(), "{page}");
    assert!(!page.contains("<td>查阅</td>"), "no other kind: {page}");
    assert_eq!(
        page.matches("<td>用户变更</td>").count(),
        USERS.len(),
        "{page}"
    );
    // A day with nothing; a bad date names its field.
    let (_, page) = get_page(&server, &cookies, "/console/audit?since=2026-06-02").await;
    assert_eq!(page.matches("<tr id=\"entry-").count(), 0, "{page}");
    let (status, page) = get_page(&server, &cookies, "/console/audit?since=June").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("「起始日期」有误"), "{page}");
    // Verified from the page: intact.
    let (status, report) = post_form(
        &server,
        &cookies,
        "/console/audit/verify",
        &[("csrf_token", &csrf), ("heads", "")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(report.contains("校验通过"), "{report}");
    // Without its token: refused.
    let (status, _) = post_form(&server, &cookies, "/console/audit/verify", &[("heads", "")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A head, then the proof of entry 0 in its tree and the head itself, as files.
    let (status, _) = post_form(
        &server,
        &cookies,
        "/console/audit/sign",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let response = plain_client()
        .get(format!("{}/console/audit/proof/0", server.base))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let proof: Value = response.json().await.unwrap();
    assert_eq!(
        (&proof["proof"], &proof["index"]),
        (&json!("inclusion"), &json!(0))
    );
    let size = proof["size"].as_u64().unwrap();
    let (status, head) = get_page(
        &server,
        &cookies,
        &format!("/console/audit/heads?size={size}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let head: Value = serde_json::from_str(head.trim()).unwrap();
    assert_eq!(head["size"], size);
    // The log altered underneath: the page says so, naming the entry.
    sqlx::query("UPDATE audit_entries SET outcome = 'altered' WHERE seq = 1")
        .execute(server.store.pool())
        .await
        .unwrap();
    let (_, report) = post_form(
        &server,
        &cookies,
        "/console/audit/verify",
        &[("csrf_token", &csrf), ("heads", "")],
    )
    .await;
    assert!(
        report.contains("校验未通过") && report.contains("entry 1"),
        "{report}"
    );
    let verified: Vec<String> = audit(&server)
        .await
        .into_iter()
        .filter(|e| e["outcome"] == "audit_verified")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(verified.len(), 2, "{verified:?}");
    assert!(
        verified[0].contains("\"intact\"") && verified[1].contains("\"problem\""),
        "{verified:?}"
    );
    // Nobody else reads the log.
    let (ops, _) = console_login(&server, "ops-sun").await;
    let (status, _) = get_page(&server, &ops, "/console/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.running.stop();
}

#[tokio::test]
async fn an_operator_previews_a_policy_and_applies_it_only_when_confirmed() {
    let server = start("pages-policy").await;
    let (cookies, csrf) = console_login(&server, "ops-sun").await;
    let (status, page) = get_page(&server, &cookies, "/console/policy").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // The policy in force as a lawyer reads it: its rules with their legal basis.
    assert!(
        page.contains("cn-minor-opt1") && page.contains("法律依据："),
        "{page}"
    );
    // The juvenile statute decides beside it, and the page says so.
    assert!(
        page.contains("id=\"juvenile-statute\"")
            && page.contains("第二百八十六条封存（cn-juvenile）"),
        "{page}"
    );
    // The juvenile policy would not seal the adult's record: it stays sealed, and is listed.
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
    let figure = |id: &str| {
        let at = preview.find(&format!("id=\"{id}\"")).unwrap();
        let rest = &preview[at..];
        let start = rest.find("<strong>").unwrap() + 8;
        rest[start..start + rest[start..].find('<').unwrap()].to_owned()
    };
    assert_eq!(figure("impact-no-longer"), "1", "{preview}");
    assert_eq!(figure("impact-sealed"), "0", "{preview}");
    assert!(preview.contains(SEALED_CASE), "{preview}");
    // Previewed only: the policy in force is the same.
    let in_force: Value = server
        .http
        .get(format!("{}/api/v1/policy", server.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(in_force["name"], "cn-minor-opt1");
    // Applying without the confirmation names the field and changes nothing.
    let (status, page) = post_form(
        &server,
        &cookies,
        "/console/policy/apply",
        &[
            ("csrf_token", &csrf),
            ("name", "cn-juvenile"),
            ("document", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("「确认」有误"), "{page}");
    // A pasted document that is no policy names the field.
    let (status, page) = post_form(
        &server,
        &cookies,
        "/console/policy/preview",
        &[
            ("csrf_token", &csrf),
            ("name", "cn-juvenile"),
            ("document", "not = [toml"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("「政策文件」有误"), "{page}");
    // The list offers only policies that decide criminal records; one that does not is refused
    // naming the policy, not a person's name.
    let (_, listed) = get_page(&server, &cookies, "/console/policy").await;
    assert!(
        listed.contains("cn-minor-opt2")
            && !listed.contains("value=\"cn-public-security-violation\""),
        "{listed}"
    );
    let (status, page) = post_form(
        &server,
        &cookies,
        "/console/policy/preview",
        &[
            ("csrf_token", &csrf),
            ("name", "cn-public-security-violation"),
            ("document", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("「政策」有误") && !page.contains("姓名"),
        "{page}"
    );
    // Confirmed: in force, and in the history.
    let (status, page) = post_form(
        &server,
        &cookies,
        "/console/policy/apply",
        &[
            ("csrf_token", &csrf),
            ("name", "cn-juvenile"),
            ("document", ""),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("已施行：cn-juvenile"), "{page}");
    let history = &page[page.find("id=\"policy-history\"").expect("a history")..];
    assert!(
        history.contains("<td>cn-juvenile</td>") && history.contains("<td>user:ops-sun</td>"),
        "{history}"
    );
    // Without its token, nothing is applied.
    let (status, _) = post_form(
        &server,
        &cookies,
        "/console/policy/apply",
        &[("name", "cn-minor-opt1"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An auditor may not change it.
    let (auditor, token) = console_login(&server, "audit-zhao").await;
    let (status, _) = post_form(
        &server,
        &auditor,
        "/console/policy/preview",
        &[("csrf_token", &token), ("name", "cn-minor-opt1")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.running.stop();
}

#[tokio::test]
async fn the_language_is_remembered_per_user_across_logins() {
    let server = start("pages-language").await;
    let (cookies, token) = console_login(&server, "clerk-zhang").await;
    // A link (another site's too) changes nothing kept: only a visitor's cookie.
    let response = plain_client()
        .get(format!(
            "{}/console/lang/en?back=/console/lookup",
            server.base
        ))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/lookup");
    // A way back with a control character (a header split) goes to the console's home, not to a
    // failure.
    for back in [
        "/console/%0aX:y",
        "/console/%00",
        "/console/%7F",
        "//evil.example/",
    ] {
        let response = plain_client()
            .get(format!("{}/console/lang/en?back={back}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{back}");
        assert_eq!(response.headers()["location"], "/console/", "{back}");
    }
    let (linked, _) = console_login(&server, "clerk-zhang").await;
    let (_, page) = get_page(&server, &linked, "/console/").await;
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
    // The form without the session's token is refused, and changes nothing either.
    let (status, _) = post_form(
        &server,
        &cookies,
        "/console/lang/en",
        &[("back", "/console/lookup")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = plain_client()
        .post(format!("{}/console/lang/en", server.base))
        .header("cookie", &cookies)
        .form(&[("csrf_token", token.as_str()), ("back", "/console/lookup")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/lookup");
    // A new session, in a browser without the cookie: English all the same.
    let (fresh, fresh_token) = console_login(&server, "clerk-zhang").await;
    assert!(!fresh.contains("fengcun_lang"));
    let (_, page) = get_page(&server, &fresh, "/console/").await;
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Log out"),
        "{page}"
    );
    // Another user is not affected.
    let (other, _) = console_login(&server, "judge-liu").await;
    let (_, page) = get_page(&server, &other, "/console/").await;
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
    // Back to Chinese, kept too; the changes are audited.
    let (status, _) = post_form(
        &server,
        &fresh,
        "/console/lang/zh",
        &[("csrf_token", &fresh_token)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (again, _) = console_login(&server, "clerk-zhang").await;
    let (_, page) = get_page(&server, &again, "/console/").await;
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
    let changes = audit(&server)
        .await
        .into_iter()
        .filter(|e| e["outcome"] == "language" && e["subject"] == "user:clerk-zhang")
        .count();
    assert_eq!(changes, 2);
    server.running.stop();
}

#[tokio::test]
async fn the_pages_in_a_browser() {
    let server = start("pages-browser").await;
    let Some(browser) = Browser::start(&server.base).await else {
        if std::env::var("FENGCUN_REQUIRE_BROWSER").is_ok() {
            panic!("FENGCUN_REQUIRE_BROWSER is set and no browser was found");
        }
        return;
    };
    // An operator: the menu, a notice printed, a policy previewed.
    browser.login("ops-sun").await;
    let menu = browser.text("#menu").await;
    assert!(menu.contains("通知") && menu.contains("封存政策"), "{menu}");
    browser.go("/console/notices").await;
    browser.text_with("main", "尚未签收的通知书").await;
    browser.screenshot("notices").await;
    browser.click("#unacknowledged-notices a").await;
    let document = browser.text_with("#notice-document", "封存通知书").await;
    assert!(!document.contains(SEALED_NAME), "{document}");
    browser.screenshot("notice-document").await;
    browser.go("/console/policy").await;
    browser.text_with("#policy-in-force", "法律依据").await;
    browser.screenshot("policy").await;
    browser.select("#policy-name", "cn-juvenile").await;
    browser.click("#policy-preview").await;
    let impact = browser
        .text_with("#policy-impact", "已封存但新政策不再符合")
        .await;
    assert!(impact.contains(SEALED_CASE), "{impact}");
    browser.screenshot("policy-preview").await;
    browser.logout().await;
    // An auditor: the log verified from the page, by htmx.
    browser.login("audit-zhao").await;
    browser.go("/console/audit").await;
    browser.click("#verify").await;
    let report = browser.text_with("#verify-result", "校验通过").await;
    assert!(report.contains("条目数"), "{report}");
    browser.screenshot("audit").await;
    browser.logout().await;
    // The English switch, remembered for the user at the next login.
    browser.login("clerk-zhang").await;
    browser.click("#lang-switch").await;
    browser.text_with("#menu", "Look-up").await;
    browser.logout().await;
    browser.client.delete_all_cookies().await.unwrap();
    browser.login("clerk-zhang").await;
    let menu = browser.text("#menu").await;
    assert!(menu.contains("Look-up") && !menu.contains("查询"), "{menu}");
    browser.close().await;
    server.running.stop();
}

/// A vetting post is chosen from the listed posts, by title, on the look-up and request forms (a
/// title typed where the code was wanted was answered 无权查询); a request's post reads by its
/// title in the list.
#[tokio::test]
async fn vetting_posts_are_chosen_by_title_and_listed_by_title() {
    let server = start("pages-posts").await;
    let (cookies, token) = console_login(&server, "hr-wang").await;
    for path in ["/console/lookup", "/console/requests"] {
        let (status, page) = get_page(&server, &cookies, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert!(
            page.contains("<option value=\"minors_contact\">密切接触未成年人的工作岗位"),
            "{path}: {page}"
        );
        assert!(
            !page.contains("<input name=\"post\""),
            "{path}: a free text field"
        );
    }
    let (status, page) = post_form(
        &server,
        &cookies,
        "/console/requests",
        &[
            ("csrf_token", &token),
            ("purpose", "special_post_vetting"),
            ("post", "teacher"),
            ("id_number", SEALED),
            ("basis", "招聘岗位入职审查"),
            ("reason", "入职审查需要"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("（教师资格）"), "{page}");
    assert!(!page.contains("（teacher）"), "{page}");
    // The counter's enrolment form is not shown to an employer (only refused when sent, before).
    let (status, page) = get_page(&server, &cookies, "/console/enrol").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(!page.contains("name=\"id_number\""), "{page}");
    server.running.stop();
}
