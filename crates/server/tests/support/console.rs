//! The console tests' common setup: a server with API keys and console users (one of every
//! role), the sealed person they look up, and logging in over plain HTTP.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fengcun_server::{Config, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::browser::password;
use super::{Engine, Server, api_key};

pub const OPERATOR: &str = "operator-key-for-console-tests";
pub const ADMIN: &str = "administrator-key-for-console-tests";
pub const AUDITOR: &str = "auditor-key-for-console-tests";

/// Sealed under cn-minor-opt1 (dangerous driving, 拘役 two months): the person's only record.
pub const SEALED: &str = "110105199003070025";
pub const SEALED_NAME: &str = "李封存";
pub const SEALED_CASE: &str = "110105-2024-000001";

/// A console user of the tests: (username, role, requester kind, agency).
pub type User = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// Every console user of `tests/console.rs` and `tests/console_pages.rs`.
pub const USERS: &[User] = &[
    ("clerk-zhang", "clerk", Some("court"), None),
    ("judge-liu", "approver", Some("court"), None),
    ("hr-wang", "requester", Some("employer"), None),
    ("audit-zhao", "auditor", None, None),
    ("ops-sun", "operator", None, None),
    ("admin-qian", "administrator", None, None),
];

/// The API keys a console test server is configured with.
pub struct Keys {
    pub operator: &'static str,
    pub admin: &'static str,
    /// `None`: no auditor key.
    pub auditor: Option<&'static str>,
}

/// The keys of `tests/console.rs` and `tests/console_pages.rs`.
pub const KEYS: Keys = Keys {
    operator: OPERATOR,
    admin: ADMIN,
    auditor: Some(AUDITOR),
};

/// A console test server's configuration: cn-minor-opt1, cookies without `Secure`, and `keys`
/// (`ops`, `admin`, `audit`).
pub fn config(keys: &Keys) -> Config {
    let mut config = super::config("cn-minor-opt1");
    config.secure_cookies = false;
    config.api_keys = vec![
        api_key("ops", Role::Operator, None, None, keys.operator),
        api_key("admin", Role::Administrator, None, None, keys.admin),
    ];
    if let Some(auditor) = keys.auditor {
        config
            .api_keys
            .push(api_key("audit", Role::Auditor, None, None, auditor));
    }
    config
}

/// A console test server on SQLite, the clock at 2026-06-01T02:00:00Z, without events or users.
pub async fn start_empty(label: &str, keys: &Keys) -> Server {
    Server::start(config(keys), "2026-06-01T02:00:00Z", Engine::Sqlite, label).await
}

/// The three events of the sealed person's case.
pub fn sealed_case_events() -> Vec<Value> {
    let agency = |kind: &str, code: &str| json!({"kind": kind, "code": code});
    let person = json!({"id_number": SEALED, "name": SEALED_NAME});
    let case = SEALED_CASE;
    vec![
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
    ]
}

/// Creates `users` with the administrator key `admin`, each with its test password.
pub async fn create_users(server: &Server, admin: &str, users: &[User]) {
    for (username, role, kind, agency) in users {
        let mut body = json!({"username": username, "password": password(username), "role": role});
        if let Some(kind) = kind {
            body["requester_kind"] = (*kind).into();
        }
        if let Some(agency) = agency {
            body["agency"] = (*agency).into();
        }
        let (status, answer) = server.post("/api/v1/users", admin, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{username}: {answer}");
    }
}

/// A console test server ([`start_empty`]) holding the sealed person's case, with `users`.
pub async fn start_with(label: &str, keys: &Keys, users: &[User]) -> Server {
    let server = start_empty(label, keys).await;
    server
        .send_events(keys.operator, &sealed_case_events())
        .await;
    create_users(&server, keys.admin, users).await;
    server
}

/// [`start_with`] the [`KEYS`] and [`USERS`] of `tests/console.rs` and `tests/console_pages.rs`.
pub async fn start(label: &str) -> Server {
    start_with(label, &KEYS, USERS).await
}

/// Every audit entry (up to 1,000), read with the auditor key `auditor`.
pub async fn audit(server: &Server, auditor: &str) -> Vec<Value> {
    let body: Value = server
        .http
        .get(format!("{}/api/v1/audit/entries?limit=1000", server.base))
        .bearer_auth(auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["entries"].as_array().unwrap().clone()
}

/// A client that keeps what the server answers (no redirect followed).
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The cookies of a console login, as one `Cookie` header, and the CSRF token; every cookie
/// must be `HttpOnly` and `SameSite=Strict`.
pub async fn console_login(server: &Server, username: &str) -> (String, String) {
    login(server, username, true).await
}

/// [`console_login`] without looking at the cookies' attributes.
pub async fn console_login_unchecked(server: &Server, username: &str) -> (String, String) {
    login(server, username, false).await
}

/// The login page's form token and the cookie it came with (`name=value`), as a browser gets
/// them by opening the page.
pub async fn login_form_token(server: &Server) -> (String, String) {
    let response = plain_client()
        .get(format!("{}/console/login", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|pair| pair.starts_with("fengcun_login_csrf="))
        .expect("the login page sets its form token's cookie");
    let page = response.text().await.unwrap();
    let token = cookie.split_once('=').unwrap().1.to_owned();
    assert!(
        page.contains(&format!("name=\"csrf_token\" value=\"{token}\"")),
        "the login form carries the cookie's token"
    );
    (cookie, token)
}

async fn login(server: &Server, username: &str, check_attributes: bool) -> (String, String) {
    let (cookie, token) = login_form_token(server).await;
    let response = plain_client()
        .post(format!("{}/console/login", server.base))
        .header("cookie", cookie)
        .form(&[
            ("username", username),
            ("password", &password(username)),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut cookies = Vec::new();
    let mut csrf = String::new();
    for value in response.headers().get_all("set-cookie") {
        let value = value.to_str().unwrap();
        if check_attributes {
            assert!(
                value.contains("HttpOnly") && value.contains("SameSite=Strict"),
                "{value}"
            );
        }
        let pair = value.split(';').next().unwrap().to_owned();
        if let Some(token) = pair.strip_prefix("fengcun_csrf=") {
            csrf = token.to_owned();
        }
        cookies.push(pair);
    }
    assert!(!csrf.is_empty());
    (cookies.join("; "), csrf)
}

/// A console page as `username` sees it: (status, HTML).
pub async fn get_page(server: &Server, cookies: &str, path: &str) -> (StatusCode, String) {
    let response = plain_client()
        .get(format!("{}{path}", server.base))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A console form posted with the session's cookies: (status, HTML).
pub async fn post_form(
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
