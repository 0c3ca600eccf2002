//! The console's simulation page (operators), over plain HTTP against a real server on port 0:
//! the comparison a synthetic data set gives equals what `fengcun_simulate` computes directly on
//! the same records; a clerk is refused (audited); a form without its CSRF token is refused; an
//! upload with a bad line is answered with the line and the field.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_domain::date::parse_date;
use fengcun_policy::presets;
use fengcun_server::config::key_digest;
use fengcun_server::service::simulation::SEED;
use fengcun_server::{ApiKey, Role};
use fengcun_simulate::Comparison;
use reqwest::StatusCode;
use serde_json::json;
use support::browser::{Browser, password};
use support::{Engine, Server};

mod support;

const ADMIN: &str = "administrator-key-for-console-simulation-tests";
const AUDITOR: &str = "auditor-key-for-console-simulation-tests";
const BOUNDARY: &str = "----fengcun-test-boundary-7MA4YWxkTrZu0gW";

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
        key("admin", Role::Administrator, ADMIN),
        key("audit", Role::Auditor, AUDITOR),
    ];
    let server = Server::start(config, "2026-06-01T02:00:00Z", Engine::Sqlite, label).await;
    for body in [
        json!({"username": "ops-sun", "password": password("ops-sun"), "role": "operator"}),
        json!({"username": "clerk-zhang", "password": password("clerk-zhang"), "role": "clerk", "requester_kind": "court"}),
        json!({"username": "policy-he", "password": password("policy-he"), "role": "policy_maker"}),
    ] {
        let (status, answer) = server.post("/api/v1/users", ADMIN, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    server
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A `multipart/form-data` body of text fields and, if given, a file.
fn multipart(fields: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(file) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"facts.ndjson\"\r\nContent-Type: application/x-ndjson\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts the simulation form: (status, `Location`, HTML).
async fn post_simulation(
    server: &Server,
    cookies: &str,
    fields: &[(&str, &str)],
    file: Option<&[u8]>,
) -> (StatusCode, String, String) {
    let response = client()
        .post(format!("{}/console/simulation", server.base))
        .header("cookie", cookies)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(fields, file))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

async fn get(server: &Server, cookies: &str, path: &str) -> (StatusCode, String) {
    let response = client()
        .get(format!("{}{path}", server.base))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The finished job's page: waited for server-side (`?wait=1`), no sleeping here.
async fn finished(server: &Server, cookies: &str, location: &str) -> String {
    for _ in 0..60 {
        let (status, html) = get(server, cookies, &format!("{location}?wait=1")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        if !html.contains("hx-trigger=\"every 1s\"") {
            return html;
        }
    }
    panic!("the simulation did not finish");
}

/// The number in the table cell with this id.
fn cell(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no cell {id} in {html}"));
    let rest = &html[start + id.len() + 6..];
    rest[..rest.find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn an_operator_simulates_a_synthetic_data_set_with_two_policies() {
    let server = start("sim-synthetic").await;
    let (cookies, csrf) = support::console::console_login(&server, "ops-sun").await;

    // The page and its menu entry.
    let (status, html) = get(&server, &cookies, "/console/simulation").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("href=\"/console/simulation\""), "{html}");
    assert!(html.contains("value=\"cn-minor-opt2\""), "{html}");

    let (status, location, html) = post_simulation(
        &server,
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("size", "10000"),
            ("policies", "cn-minor-opt1"),
            ("policies", "cn-minor-opt2"),
            ("as_of", "2025-06-30"),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(location.starts_with("/console/simulation/"), "{location}");
    let html = finished(&server, &cookies, &location).await;

    // The same records, simulated directly with the simulate crate.
    let mut facts = Vec::new();
    fengcun_synth::generate(
        fengcun_synth::Config::new(10_000, SEED),
        &mut facts,
        None,
        &mut |_| {},
    )
    .unwrap();
    let mut policies: Vec<_> = ["cn-minor-opt1", "cn-minor-opt2"]
        .iter()
        .map(|name| {
            presets::all()
                .iter()
                .find(|p| p.meta.name == *name)
                .unwrap()
                .clone()
        })
        .collect();
    // As the page does: the juvenile statute beside the options, compared too.
    assert!(fengcun_simulate::add_juvenile_statute(&mut policies));
    let as_of = parse_date("2025-06-30").unwrap();
    let run =
        fengcun_simulate::run(&policies, as_of, &mut facts.as_slice(), 1, &mut |_| {}).unwrap();
    assert!(run.errors.is_empty());
    let expected = Comparison::new(&policies, as_of, &run);

    assert_eq!(cell(&html, "sim-records"), expected.records.to_string());
    assert_eq!(cell(&html, "sim-convicted"), expected.convicted.to_string());
    assert_eq!(expected.policies.len(), 3);
    for p in &expected.policies[..2] {
        let beside = p.with_statute.as_ref().unwrap();
        let id = |field: &str| format!("sim-{}-{field}", p.name);
        assert_eq!(
            cell(&html, &id("with-statute-sealed")),
            beside.sealed.to_string()
        );
        assert_eq!(
            cell(&html, &id("with-statute-share")),
            format!("{:.1}%", beside.share)
        );
        assert_eq!(
            cell(&html, &id("by-statute-only")),
            beside.by_statute_only.to_string()
        );
        assert!(beside.sealed > p.sealed, "the statute adds minors' records");
    }
    for p in &expected.policies {
        assert!(p.sealed > 0, "{} seals nothing", p.name);
        let id = |field: &str| format!("sim-{}-{field}", p.name);
        assert_eq!(cell(&html, &id("convicted")), p.convicted.to_string());
        assert_eq!(cell(&html, &id("sealed")), p.sealed.to_string());
        assert_eq!(cell(&html, &id("share")), format!("{:.1}%", p.share));
        assert_eq!(cell(&html, &id("sealed_now")), p.sealed_now.to_string());
        assert_eq!(
            cell(&html, &id("non_conviction")),
            p.non_conviction.to_string()
        );
        assert_eq!(
            cell(&html, &id("non_conviction_sealed")),
            p.non_conviction_sealed.to_string()
        );
        assert_eq!(cell(&html, &id("needs_facts")), p.needs_facts.to_string());
    }
    // The two policies differ on these records (else the comparison proves little).
    assert_ne!(expected.policies[0].sealed, expected.policies[1].sealed);

    // The chart and the CSV files, as the CLI writes them.
    assert!(html.contains("id=\"sim-chart\""), "{html}");
    let (status, svg) = get(&server, &cookies, &format!("{location}/files/chart.svg")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(svg, expected.svg());
    for (name, content) in expected.csv() {
        assert!(html.contains(&format!("{location}/files/{name}")), "{name}");
        let (status, body) = get(&server, &cookies, &format!("{location}/files/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(body, content, "{name}");
    }

    // Audited: who simulated what.
    let log = server.audit_log(AUDITOR).await;
    let entry = log
        .iter()
        .find(|e| e["outcome"] == "simulate")
        .expect("a simulate entry");
    assert_eq!(entry["actor"], "user:ops-sun");
    let detail = entry["detail"].to_string();
    assert!(detail.contains("synthetic 10000"), "{detail}");
    assert!(detail.contains("cn-minor-opt2"), "{detail}");
    server.stop();
}

/// The national mix holds three violation records to one criminal record: the page shows them
/// apart, as the command line's section 六 does — how many each policy seals, and by disposition —
/// and a policy of one kind says "not applicable" for the other kind rather than zeros. (The page
/// once showed the violation policy as sealing nothing.)
#[tokio::test]
async fn violation_records_are_reported_apart() {
    let server = start("sim-violations").await;
    let (cookies, csrf) = support::console::console_login(&server, "ops-sun").await;
    let (status, location, html) = post_simulation(
        &server,
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("size", "10000"),
            ("policies", "cn-minor-opt1"),
            ("policies", "cn-public-security-violation"),
            ("as_of", "2026-06-30"),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let html = finished(&server, &cookies, &location).await;
    let violation_records: u64 = cell(&html, "sim-violation-records").parse().unwrap();
    let criminal_records: u64 = cell(&html, "sim-criminal-records").parse().unwrap();
    assert_eq!(violation_records + criminal_records, 10_000);
    // The synthetic mix: 750 violation records per mille, give or take the draw.
    assert!(
        (7_000..8_000).contains(&violation_records),
        "{violation_records}"
    );
    // Art. 136 seals every violation record; by the date all but the still open ones are sealed.
    let sealed: u64 = cell(&html, "sim-cn-public-security-violation-violations-sealed")
        .parse()
        .unwrap();
    assert_eq!(sealed, violation_records);
    assert_eq!(
        cell(&html, "sim-cn-public-security-violation-violations-share"),
        "100.0%"
    );
    let sealed_now: u64 = cell(
        &html,
        "sim-cn-public-security-violation-violations-sealed_now",
    )
    .parse()
    .unwrap();
    assert!(sealed_now > 0 && sealed_now <= sealed, "{sealed_now}");
    assert!(
        cell(&html, "sim-cn-minor-opt1-violations").starts_with("不适用"),
        "{html}"
    );
    assert!(
        cell(&html, "sim-cn-public-security-violation-criminal").starts_with("不适用"),
        "{html}"
    );
    assert!(
        html.contains("id=\"sim-violations-by-disposition\""),
        "{html}"
    );
    assert!(html.contains("给予治安管理处罚"), "{html}");
    server.stop();
}

#[tokio::test]
async fn a_clerk_is_refused_and_the_refusal_is_audited() {
    let server = start("sim-clerk").await;
    let (cookies, csrf) = support::console::console_login(&server, "clerk-zhang").await;
    let (status, html) = get(&server, &cookies, "/console/simulation").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(!html.contains("href=\"/console/simulation\""), "{html}");
    let (status, _, html) = post_simulation(
        &server,
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("size", "10000"),
            ("policies", "cn-minor-opt1"),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    let log = server.audit_log(AUDITOR).await;
    let refusals = log
        .iter()
        .filter(|e| {
            e["kind"] == "forbidden"
                && e["actor"] == "user:clerk-zhang"
                && e["outcome"] == "simulate policies"
        })
        .count();
    assert!(refusals >= 1, "{log:?}");
    assert!(!log.iter().any(|e| e["outcome"] == "simulate"));
    server.stop();
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let server = start("sim-csrf").await;
    let (cookies, _) = support::console::console_login(&server, "ops-sun").await;
    let (status, _, html) = post_simulation(
        &server,
        &cookies,
        &[("size", "10000"), ("policies", "cn-minor-opt1")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    let log = server.audit_log(AUDITOR).await;
    assert!(!log.iter().any(|e| e["outcome"] == "simulate"), "{log:?}");
    // No job was made.
    let (status, _) = get(&server, &cookies, "/console/simulation/1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop();
}

#[tokio::test]
async fn an_upload_with_a_bad_line_names_the_line_and_the_field() {
    let server = start("sim-upload").await;
    let (cookies, csrf) = support::console::console_login(&server, "ops-sun").await;
    let upload = concat!(
        r#"{"record_id":"X-1","disposition":"convicted","charges":[{"name":"盗窃罪"}],"sentence":{"principal":"fixed_term","months":7},"recidivist":false,"prior_convictions":0,"offence_date":"2023-01-01","disposition_date":"2023-05-01","judgment_effective_date":"2023-05-12"}"#,
        "\n",
        r#"{"record_id":"X-2","disposition":"not_prosecuted","ground":"discretionary","disposition_date":"2024-01-01","charges":[{"name":"诈骗罪"}]}"#,
        "\n",
        r#"{"record_id":"X-3","disposition":"convicted","charges":[{"name":"不存在罪"}],"sentence":{"principal":"exempt"}}"#,
        "\n",
    );
    let (status, location, html) = post_simulation(
        &server,
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("size", "upload"),
            ("policies", "cn-minor-opt1"),
        ],
        Some(upload.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let html = finished(&server, &cookies, &location).await;
    assert!(html.contains("id=\"sim-line-errors\""), "{html}");
    assert!(html.contains("第 3 行"), "{html}");
    assert!(html.contains("「charges[0].name」"), "{html}");
    assert!(!html.contains("id=\"sim-summary\""), "{html}");
    server.stop();
}

/// A policy maker's whole console: the simulation page (and nothing of the records, the policy
/// in force, notices or the audit log), driven in Chromium — the synthetic 10,000 records, two
/// policies ticked, the progress polled by htmx until the comparison, the chart and the CSV
/// links appear; its numbers are the simulate crate's on the same records.
#[tokio::test]
async fn a_policy_maker_compares_policies_in_a_browser() {
    let server = start("console-sim-browser").await;
    let Some(browser) = Browser::start(&server.base).await else {
        if std::env::var("FENGCUN_REQUIRE_BROWSER").is_ok() {
            panic!("FENGCUN_REQUIRE_BROWSER is set and no browser was found");
        }
        return;
    };
    browser.login("policy-he").await;
    let menu = browser.text("#menu").await;
    assert!(menu.contains("政策模拟"), "{menu}");
    for other in ["记录", "通知", "审计", "用户"] {
        assert!(
            !menu.contains(other),
            "{other} in a policy maker's menu: {menu}"
        );
    }
    // The pages of others answer as refused, not as pages.
    let (cookies, _) = support::console::console_login(&server, "policy-he").await;
    for path in [
        "/console/policy",
        "/console/notices",
        "/console/audit",
        "/console/users",
    ] {
        let (status, _) = get(&server, &cookies, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // The records page is a search form for everyone; it lists nothing for a policy maker.
    let (_, records) = get(&server, &cookies, "/console/records").await;
    assert!(!records.contains("<table"), "{records}");

    browser.go("/console/simulation").await;
    browser.click("input[name=size][value='10000']").await;
    browser
        .click("input[name=policies][value='cn-minor-opt1']")
        .await;
    browser
        .click("input[name=policies][value='cn-minor-opt3']")
        .await;
    // No date given: the decisions are taken on the server's today (its clock: 2026-06-01).
    browser.click("#sim-run").await;
    // Generating and simulating 10,000 records in a test build takes a while; the page polls.
    let summary = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        loop {
            if let Ok(table) = browser
                .client
                .find(fantoccini::Locator::Css("#sim-summary"))
                .await
            {
                return table.text().await.unwrap();
            }
        }
    })
    .await
    .expect("the comparison appears");
    browser
        .client
        .execute(
            "document.getElementById('sim-result').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("simulation").await;

    let mut facts = Vec::new();
    fengcun_synth::generate(
        fengcun_synth::Config::new(10_000, SEED),
        &mut facts,
        None,
        &mut |_| {},
    )
    .unwrap();
    let mut policies: Vec<_> = ["cn-minor-opt1", "cn-minor-opt3"]
        .iter()
        .map(|name| presets::get(name).unwrap().clone())
        .collect();
    assert!(fengcun_simulate::add_juvenile_statute(&mut policies));
    let as_of = parse_date("2026-06-01").unwrap();
    assert!(browser.text("#sim-job").await.contains("2026-06-01"));
    assert_eq!(
        browser.text("#sim-data").await,
        format!("合成数据集，记录数 10000（随机种子 {SEED}）")
    );
    let run =
        fengcun_simulate::run(&policies, as_of, &mut facts.as_slice(), 1, &mut |_| {}).unwrap();
    let expected = Comparison::new(&policies, as_of, &run);
    for p in &expected.policies {
        let sealed = browser.text(&format!("#sim-{}-sealed", p.name)).await;
        assert_eq!(sealed, p.sealed.to_string(), "{}: {summary}", p.name);
        let share = browser.text(&format!("#sim-{}-share", p.name)).await;
        assert_eq!(share, format!("{:.1}%", p.share), "{}", p.name);
    }
    assert_ne!(expected.policies[0].sealed, expected.policies[1].sealed);
    assert_eq!(
        browser.text("#sim-records").await,
        expected.records.to_string()
    );
    // The chart is drawn, and each CSV link downloads the file the CLI writes.
    browser.text("#sim-chart").await;
    let links = browser
        .client
        .find_all(fantoccini::Locator::Css("a[href*='/files/']"))
        .await
        .unwrap();
    let mut hrefs = Vec::new();
    for link in links {
        hrefs.push(link.attr("href").await.unwrap().unwrap());
    }
    let csv = expected.csv();
    assert!(!csv.is_empty());
    for (name, content) in csv {
        let href = hrefs
            .iter()
            .find(|h| h.ends_with(&format!("/files/{name}")))
            .unwrap_or_else(|| panic!("{name} not linked: {hrefs:?}"));
        let path = href.trim_start_matches(&server.base);
        let (status, body) = get(&server, &cookies, path).await;
        // Another session of the same user reads its own user's run.
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(body, content, "{name}");
    }
    browser.close().await;
    server.running.stop();
}
