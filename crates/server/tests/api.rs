//! End to end through the HTTP API: a real server on port 0, a fresh SQLite database per test, an
//! injected clock, and a local agency endpoint that receives notices. (The storage contract runs on
//! PostgreSQL too: `crates/store/tests/contract.rs`.)

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::StatusCode;
use fengcun_server::Role;
use fengcun_store::AgencyEndpoint;
use serde_json::{Value, json};
use support::{Engine, Server, api_key, conviction, event, registered_agency};

mod support;

/// The routes served before the OpenAPI document was derived (it was a hand-kept list then): each
/// must still be served and documented.
const ROUTES: &[(&str, &str)] = &[
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/api/openapi.json", "get"),
    ("/api/v1/events", "post"),
    ("/api/v1/events/batch", "post"),
    ("/api/v1/notices", "get"),
    ("/api/v1/notices/{id}/ack", "post"),
    ("/api/v1/policy", "get"),
    ("/api/v1/policy", "post"),
    ("/api/v1/records", "get"),
    ("/api/v1/records/{case_code}", "get"),
    ("/api/v1/stats", "get"),
    ("/api/v1/scheduler/run", "post"),
    ("/api/v1/outbox/run", "post"),
    ("/api/v1/notices/{id}/retry", "post"),
    ("/api/v1/audit/entries", "get"),
    ("/api/v1/audit/heads", "get"),
    ("/api/v1/audit/heads", "post"),
    ("/api/v1/audit/proofs/inclusion", "get"),
    ("/api/v1/audit/proofs/consistency", "get"),
    ("/api/v1/public-key", "get"),
    ("/api/v1/session", "post"),
    ("/api/v1/session", "get"),
    ("/api/v1/session", "delete"),
    ("/api/v1/users", "get"),
    ("/api/v1/users", "post"),
    ("/api/v1/users/{username}/disable", "post"),
    ("/api/v1/users/{username}/enable", "post"),
    ("/api/v1/session/password", "post"),
    ("/api/v1/keys", "get"),
    ("/api/v1/keys", "post"),
    ("/api/v1/keys/{id}", "delete"),
    ("/api/v1/lookups", "post"),
    ("/api/v1/requests", "get"),
    ("/api/v1/requests", "post"),
    ("/api/v1/requests/{id}/approve", "post"),
    ("/api/v1/requests/{id}/refuse", "post"),
    ("/api/v1/grants", "get"),
    ("/api/v1/grants/{id}", "delete"),
    ("/api/v1/certificates", "post"),
    ("/api/v1/certificates/{number}", "get"),
    ("/api/v1/certificates/{number}/page", "get"),
    ("/api/v1/verify", "post"),
    ("/verify", "get"),
];

const OPERATOR: &str = "operator-key-for-tests";
const COURT_KEY: &str = "court-key-for-tests";
const AUDITOR: &str = "auditor-key-for-tests";
/// The key of a configured police station (`110105-ga`, public security).
const POLICE_KEY: &str = "police-key-for-tests";
/// The key of a community-correction office no one configured (`110105-sq`).
const UNREGISTERED_KEY: &str = "unregistered-agency-key-for-tests";

/// A local agency system: records the notices it receives, fails the first `fail_first`; once
/// given the platform's address (`acknowledge_at`), acknowledges each notice while it handles the
/// delivery, before answering.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Value>>>,
    calls: Arc<AtomicUsize>,
    fail_first: Arc<AtomicUsize>,
    acknowledge_at: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (Self, String) {
        let receiver = Receiver::default();
        receiver.fail_first.store(fail_first, Ordering::SeqCst);
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/inbox",
            axum::routing::post(move |Json(notice): Json<Value>| {
                let state = state.clone();
                async move {
                    let call = state.calls.fetch_add(1, Ordering::SeqCst);
                    if call < state.fail_first.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let platform = state.acknowledge_at.lock().unwrap().clone();
                    if let Some(base) = platform {
                        let acknowledged = reqwest::Client::new()
                            .post(format!("{base}{}", notice["ack"]["path"].as_str().unwrap()))
                            .bearer_auth(COURT_KEY)
                            .json(&json!({"token": notice["ack"]["token"]}))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(acknowledged.status().as_u16(), 200);
                    }
                    state.received.lock().unwrap().push(notice);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/inbox", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }
}

/// The server these tests talk to: the harness's [`Server`], with this file's keys and agencies.
struct App(Server);

impl std::ops::Deref for App {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl App {
    async fn start(policy: &str, now: &str, court_endpoint: Option<String>) -> App {
        Self::start_on(Engine::Sqlite, policy, now, court_endpoint).await
    }

    /// The server of `start`, on `engine`.
    async fn start_on(
        engine: Engine,
        policy: &str,
        now: &str,
        court_endpoint: Option<String>,
    ) -> App {
        let mut config = support::config(policy);
        config.api_keys = vec![
            api_key("ops", Role::Operator, None, None, OPERATOR),
            api_key("audit", Role::Auditor, None, None, AUDITOR),
            api_key("court", Role::Agency, Some("110105-fy"), None, COURT_KEY),
            api_key("police", Role::Agency, Some("110105-ga"), None, POLICE_KEY),
            api_key(
                "correction-office",
                Role::Agency,
                Some("110105-sq"),
                None,
                UNREGISTERED_KEY,
            ),
        ];
        config.agencies = vec![
            AgencyEndpoint {
                endpoint: court_endpoint,
                ..registered_agency("110105-fy")
            },
            registered_agency("110105-ga"),
        ];
        App(Server::start(config, now, engine, "api").await)
    }

    /// The value of a counter at `/metrics`.
    async fn metric(&self, name: &str) -> u64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(OPERATOR)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} not in {text}"))
            .parse()
            .unwrap()
    }

    /// The audit entries of `kind`, read by the auditor.
    async fn audit_entries(&self, kind: &str) -> Vec<Value> {
        self.audit_log(AUDITOR)
            .await
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }

    async fn send(&self, events: &[Value]) {
        self.send_events(OPERATOR, events).await;
    }

    /// Person A's dangerous driving with one month of 拘役 in `case`: sealed under cn-minor-opt1,
    /// with a notice for the court (`110105-fy`).
    async fn send_sealed_conviction(&self, case: &str) {
        self.send(&conviction(
            case,
            A,
            "危险驾驶罪",
            json!({"principal": "criminal_detention", "months": 1}),
            ["2024-01-02", "2024-03-01", "2024-03-12"],
        ))
        .await;
    }

    /// The court's notice among those `query` lists.
    async fn court_notice(&self, query: &str) -> Value {
        self.notices(query)
            .await
            .into_iter()
            .find(|n| n["recipient"] == "110105-fy")
            .unwrap()
    }

    async fn notices(&self, query: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/v1/notices{query}"), Some(OPERATOR))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["notices"].as_array().unwrap().clone()
    }

    /// The state of a record, read back through the notices and transitions the platform made:
    /// the last notice kind for the case, if any.
    async fn last_notice(&self, case: &str) -> Option<String> {
        self.notices(&format!("?case_code={case}"))
            .await
            .last()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
    }
}

const A: &str = "110105199003070025";
const B: &str = "11010519491231002X";
const YOUNG: &str = "110105200801010014";
const YOUNG2: &str = "110105200802020011";

#[tokio::test]
async fn authentication_roles_health_openapi_and_metrics() {
    let app = App::start("cn-minor-opt1", "2025-01-01T00:00:00Z", None).await;
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
    for path in [
        "/api/v1/notices",
        "/api/openapi.json",
        "/metrics",
        "/api/v1/policy",
    ] {
        assert_eq!(
            app.get(path, None).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            app.get(path, Some("not-a-key")).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    // An agency lists its own notices (see the masking test), but not the policy.
    assert_eq!(
        app.get("/api/v1/notices", Some(COURT_KEY)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/policy", Some(COURT_KEY)).await.0,
        StatusCode::FORBIDDEN
    );
    // An agency key speaks for its own agency only.
    let police_event = event(
        "x-1",
        "filed",
        "2024-01-01",
        "110105-2024-009999",
        "public_security",
        A,
        json!({}),
    );
    let (status, body) = app.post("/api/v1/events", COURT_KEY, &police_event).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/events/batch",
            COURT_KEY,
            &json!({"events": [police_event]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Every refusal is in the audit log: who tried what, and why they were refused.
    let (_, log) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    let refused = |action: &str| {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "forbidden" && e["actor"] == "court" && e["outcome"] == action)
            .count()
    };
    assert_eq!(refused("read the policy"), 1, "{log}");
    assert_eq!(refused("send events"), 2, "{log}");
    let (status, document) = app.get("/api/openapi.json", Some(OPERATOR)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    // Every route, as the router serves it, is in the document (tests/openapi.rs).
    for (path, method) in ROUTES {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path}"
        );
    }
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("fengcun_http_requests_total")
            && metrics.contains("# TYPE fengcun_events gauge"),
        "{metrics}"
    );
}

/// The number of events stored, as `/metrics` reports it.
async fn stored_events(app: &App) -> u64 {
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("fengcun_events "))
        .unwrap()
        .parse()
        .unwrap()
}

/// A police key sending a court's judgment under its own code — an acquittal on retrial, which
/// would lift the seal of a sealed conviction if believed — is refused and audited, and stores
/// nothing: the sender's kind is the kind its agency is registered with, never what the event
/// declares. An agency with no registered kind cannot send at all (its first event would otherwise
/// choose its kind).
/// A mistyped address or method is answered in the API's error shape, naming what was asked —
/// not an empty 404 or 405; a reload of a console form's address goes to the console.
#[tokio::test]
async fn unknown_addresses_and_methods_are_named_in_the_error_shape() {
    let app = App::start("cn-minor-opt1", "2025-01-01T00:00:00Z", None).await;
    let (status, body) = app.get("/api/v1/event", Some(COURT_KEY)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("GET /api/v1/event"),
        "{body}"
    );
    let (status, body) = app.get("/api/v1/events", Some(COURT_KEY)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "method_not_allowed", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/events does not take GET"),
        "{body}"
    );
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/console/logout", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/console/");
    app.running.stop();
}

#[tokio::test]
async fn an_agency_key_sends_only_as_the_kind_its_agency_is_registered_with() {
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", None).await;
    let case = "110105-2024-000150";
    app.send_sealed_conviction(case).await;
    assert_eq!(app.last_notice(case).await.as_deref(), Some("seal"));
    let notices_before = app.notices(&format!("?case_code={case}")).await.len();
    let events_before = stored_events(&app).await;

    let mut forged = event(
        &format!("{case}/retrial"),
        "judgment",
        "2024-05-20",
        case,
        "court",
        A,
        json!({"judgment": {"instance": "retrial", "verdict": "acquitted"}}),
    );
    forged["agency"] = json!({"kind": "court", "code": "110105-ga"});
    let (status, body) = app.post("/api/v1/events", POLICE_KEY, &forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/events/batch",
            POLICE_KEY,
            &json!({"events": [
                event("110105-2024-000151/filed", "filed", "2024-05-01", "110105-2024-000151", "public_security", A, json!({})),
                forged.clone()
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // In a batch of thousands, the clerk is told which line.
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2: agency 110105-ga"),
        "{body}"
    );

    // An agency that nobody registered cannot choose its kind by sending.
    let mut unregistered = event(
        &format!("{case}/sq-completed"),
        "execution_completed",
        "2024-05-20",
        case,
        "community_correction",
        A,
        json!({}),
    );
    unregistered["agency"] = json!({"kind": "court", "code": "110105-sq"});
    let (status, body) = app
        .post("/api/v1/events", UNREGISTERED_KEY, &unregistered)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Nothing stored, the record still sealed, no notice made.
    assert_eq!(stored_events(&app).await, events_before);
    assert_eq!(app.last_notice(case).await.as_deref(), Some("seal"));
    assert_eq!(
        app.notices(&format!("?case_code={case}")).await.len(),
        notices_before
    );

    // Each refusal is a `forbidden` entry naming who tried and why.
    let (_, log) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    let reasons = |actor: &str| -> Vec<String> {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "forbidden" && e["actor"] == actor)
            .map(|e| {
                assert_eq!(e["outcome"], "send events", "{e}");
                let detail: Value = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap();
                detail["reason"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(
        reasons("police"),
        vec![
            "agency 110105-ga is registered as public_security; may not send events as court",
            "line 2: agency 110105-ga is registered as public_security; may not send events as court"
        ],
        "{log}"
    );
    let unregistered_reasons = reasons("correction-office");
    assert_eq!(unregistered_reasons.len(), 1, "{log}");
    assert!(
        unregistered_reasons[0].contains("110105-sq is not registered"),
        "{unregistered_reasons:?}"
    );

    // The police key still sends what is a police station's to send.
    let filed = event(
        "110105-2024-000151/filed",
        "filed",
        "2024-05-01",
        "110105-2024-000151",
        "public_security",
        B,
        json!({"charges": [{"name": "盗窃罪"}]}),
    );
    let (status, body) = app.post("/api/v1/events", POLICE_KEY, &filed).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Not even an operator's event turns the police station into a court: the configured kind
    // stands, and the event is refused naming the field.
    let (status, body) = app.post("/api/v1/events", OPERATOR, &forged).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("field `agency.kind`: agency `110105-ga` is registered as `public_security`, not `court`"),
        "{body}"
    );
    assert_eq!(stored_events(&app).await, events_before + 1);
    assert_eq!(app.last_notice(case).await.as_deref(), Some("seal"));
}

/// Idempotency keys are each agency's own: another agency posting a key the court used stores its
/// own event (201) — a 409 would tell it the court's event exists — and the court's event stays as
/// it was; the same agency reusing its key for different content is still refused.
#[tokio::test]
async fn idempotency_keys_are_the_sending_agencys_own() {
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", None).await;
    let case = "110105-2024-000160";
    let court_events = conviction(
        case,
        A,
        "危险驾驶罪",
        json!({"principal": "criminal_detention", "months": 1}),
        ["2024-01-02", "2024-03-01", "2024-03-12"],
    );
    for e in &court_events {
        let key = if e["agency"]["code"] == "110105-fy" {
            COURT_KEY
        } else {
            OPERATOR
        };
        let (status, body) = app.post("/api/v1/events", key, e).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let judgment = court_events
        .iter()
        .find(|e| e["kind"] == "judgment")
        .unwrap()
        .clone();
    assert_eq!(judgment["idempotency_key"], format!("{case}/judgment"));
    assert_eq!(app.last_notice(case).await.as_deref(), Some("seal"));
    let events = stored_events(&app).await;

    // The police station posts an event of another case under the court's key.
    let theirs = event(
        &format!("{case}/judgment"),
        "filed",
        "2024-05-01",
        "110105-2024-000161",
        "public_security",
        B,
        json!({"charges": [{"name": "盗窃罪"}]}),
    );
    let (status, body) = app.post("/api/v1/events", POLICE_KEY, &theirs).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::CREATED, Some("stored")),
        "{body}"
    );
    assert_eq!(stored_events(&app).await, events + 1);
    // The court's judgment is untouched: the same judgment again is its duplicate, and the record
    // is still sealed.
    let (status, body) = app.post("/api/v1/events", COURT_KEY, &judgment).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "{body}"
    );
    assert_eq!(app.last_notice(case).await.as_deref(), Some("seal"));
    // Each agency's reuse of its own key for something else is a conflict.
    let mut changed = theirs.clone();
    changed["date"] = json!("2024-05-02");
    let (status, body) = app.post("/api/v1/events", POLICE_KEY, &changed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let mut changed = judgment.clone();
    changed["date"] = json!("2024-03-02");
    let (status, body) = app.post("/api/v1/events", COURT_KEY, &changed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(stored_events(&app).await, events + 1);
}

#[tokio::test]
async fn out_of_order_duplicated_and_conflicting_events() {
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", None).await;
    let case = "110105-2024-000101";
    let mut events = conviction(
        case,
        A,
        "危险驾驶罪",
        json!({"principal": "criminal_detention", "months": 3}),
        ["2024-01-10", "2024-03-01", "2024-03-12"],
    );
    events.reverse();
    for e in &events {
        let (status, body) = app.post("/api/v1/events", OPERATOR, e).await;
        assert_eq!(
            (status, body["outcome"].as_str()),
            (StatusCode::CREATED, Some("stored"))
        );
    }
    for e in &events {
        let (status, body) = app.post("/api/v1/events", OPERATOR, e).await;
        assert_eq!(
            (status, body["outcome"].as_str()),
            (StatusCode::OK, Some("duplicate"))
        );
    }
    assert_eq!(
        app.last_notice(case).await.as_deref(),
        Some("seal"),
        "sealed although the events came last to first"
    );
    // A used key with different content: refused, and the batch around it stores nothing.
    let mut changed = events[0].clone();
    changed["date"] = json!("2024-03-13");
    let fresh = event(
        "y-1",
        "execution_started",
        "2024-03-15",
        case,
        "prison",
        A,
        json!({}),
    );
    let (status, body) = app
        .post(
            "/api/v1/events/batch",
            OPERATOR,
            &json!({"events": [fresh.clone(), changed]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["line"], 2);
    let (status, body) = app
        .post(
            "/api/v1/events/batch",
            OPERATOR,
            &json!({"events": [fresh]}),
        )
        .await;
    assert_eq!(
        (status, body["stored"].as_u64()),
        (StatusCode::OK, Some(1)),
        "the first line was not stored before"
    );
    // An invalid line names its line and field; nothing is stored.
    let bad = event(
        "z-1",
        "judgment",
        "2024-03-01",
        "110105-2024-000102",
        "court",
        B,
        json!({"judgment": {"instance": "first", "verdict": "convicted",
        "charges": [{"name": "盗窃罪"}], "sentence": {"principal": "criminal_detention", "months": 7}}}),
    );
    let good = event(
        "z-2",
        "filed",
        "2024-01-01",
        "110105-2024-000102",
        "public_security",
        B,
        json!({}),
    );
    let (status, body) = app
        .post(
            "/api/v1/events/batch",
            OPERATOR,
            &json!({"events": [good, bad]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("line 2: field `judgment.sentence.months`"),
        "{body}"
    );
}

#[tokio::test]
async fn a_future_seal_takes_effect_when_the_clock_reaches_it() {
    let app = App::start("cn-minor-tiered", "2025-04-01T00:00:00Z", None).await;
    let case = "110105-2023-000201";
    let mut events = conviction(
        case,
        A,
        "诈骗罪",
        json!({"principal": "fixed_term", "months": 18}),
        ["2023-05-02", "2023-09-01", "2023-09-12"],
    );
    events.push(event(
        "done-1",
        "execution_completed",
        "2025-03-11",
        case,
        "prison",
        A,
        json!({}),
    ));
    app.send(&events).await;
    assert_eq!(app.last_notice(case).await, None, "pending, not sealed yet");
    app.clock.set("2027-03-10T12:00:00+08:00".parse().unwrap());
    let (_, body) = app
        .post("/api/v1/scheduler/run", OPERATOR, &json!({}))
        .await;
    assert_eq!(body["transitions"], 0);
    app.clock.set("2027-03-11T00:30:00+08:00".parse().unwrap());
    let (_, body) = app
        .post("/api/v1/scheduler/run", OPERATOR, &json!({}))
        .await;
    assert_eq!(body["transitions"], 1);
    let notices = app.notices(&format!("?case_code={case}")).await;
    assert!(notices.iter().all(|n| n["kind"] == "seal"));
    assert!(
        notices[0]["body"]
            .as_str()
            .unwrap()
            .contains("2027年3月11日"),
        "{}",
        notices[0]["body"]
    );
}

#[tokio::test]
async fn a_policy_change_is_previewed_then_applied() {
    let app = App::start("cn-minor-opt3", "2024-06-01T00:00:00Z", None).await;
    app.send(&conviction(
        "110105-2024-000301",
        A,
        "盗窃罪",
        json!({"principal": "fixed_term", "months": 10}),
        ["2024-01-02", "2024-03-01", "2024-03-12"],
    ))
    .await;
    assert_eq!(app.last_notice("110105-2024-000301").await, None);
    let (status, preview) = app
        .post(
            "/api/v1/policy",
            OPERATOR,
            &json!({"name": "cn-minor-opt1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (
            preview["applied"].as_bool(),
            preview["sealed"].as_array().map(Vec::len)
        ),
        (Some(false), Some(1))
    );
    assert_eq!(app.last_notice("110105-2024-000301").await, None);
    let (_, applied) = app
        .post(
            "/api/v1/policy",
            OPERATOR,
            &json!({"name": "cn-minor-opt1", "apply": true}),
        )
        .await;
    assert_eq!(applied["applied"], true);
    assert_eq!(
        app.last_notice("110105-2024-000301").await.as_deref(),
        Some("seal")
    );
    let (_, in_force) = app.get("/api/v1/policy", Some(OPERATOR)).await;
    assert_eq!(in_force["name"], "cn-minor-opt1");
    // The same version with a changed rule is refused, previewed or applied, naming the field:
    // the records it decided are explained from the text recorded under that version.
    let changed = include_str!("../../../data/policies/cn-minor-opt1.toml").replacen(
        "sentence_at_most = { principal = \"fixed_term\", months = 12 }",
        "sentence_at_most = { principal = \"fixed_term\", months = 24 }",
        1,
    );
    assert!(changed.contains("months = 24"));
    let (_, before) = app.get("/api/v1/policy", Some(OPERATOR)).await;
    for apply in [false, true] {
        let (status, refused) = app
            .post(
                "/api/v1/policy",
                OPERATOR,
                &json!({"document": changed, "apply": apply}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let message = refused["message"].as_str().unwrap();
        assert!(
            message.starts_with("document: cn-minor-opt1 version")
                && message.contains("a changed policy needs a new `version`"),
            "{message}"
        );
    }
    let (_, after) = app.get("/api/v1/policy", Some(OPERATOR)).await;
    assert_eq!(after, before, "the policy in force is unchanged");
    // New events are decided under the policy now in force.
    app.send(&conviction(
        "110105-2024-000302",
        B,
        "盗窃罪",
        json!({"principal": "fixed_term", "months": 11}),
        ["2024-01-02", "2024-03-01", "2024-03-12"],
    ))
    .await;
    assert_eq!(
        app.last_notice("110105-2024-000302").await.as_deref(),
        Some("seal")
    );
}

#[tokio::test]
async fn every_unsealing_trigger() {
    let app = App::start("cn-minor-opt1", "2025-01-01T00:00:00Z", None).await;
    let sealed = |case: &str, id: &str| {
        conviction(
            case,
            id,
            "危险驾驶罪",
            json!({"principal": "criminal_detention", "months": 2}),
            ["2023-01-01", "2023-03-01", "2023-03-12"],
        )
    };
    // New crime: committed and judged after the sealed conviction.
    app.send(&sealed("110105-2023-000401", A)).await;
    app.send(&conviction(
        "110105-2024-000402",
        A,
        "盗窃罪",
        json!({"principal": "fixed_term", "months": 7}),
        ["2024-05-01", "2024-08-01", "2024-08-12"],
    ))
    .await;
    let unseal = app.notices("?case_code=110105-2023-000401").await;
    assert!(
        unseal
            .iter()
            .any(|n| n["kind"] == "unseal" && n["body"].as_str().unwrap().contains("再犯新罪"))
    );
    // An earlier crime discovered: committed before the sealed judgment, judged after it (漏罪).
    app.send(&sealed("110105-2023-000403", B)).await;
    app.send(&conviction(
        "110105-2024-000404",
        B,
        "诈骗罪",
        json!({"principal": "fixed_term", "months": 7}),
        ["2022-11-01", "2024-08-01", "2024-08-12"],
    ))
    .await;
    let unseal = app.notices("?case_code=110105-2023-000403").await;
    assert!(
        unseal
            .iter()
            .any(|n| n["kind"] == "unseal" && n["body"].as_str().unwrap().contains("漏罪")),
        "{unseal:?}"
    );
    // A retrial above the threshold.
    let retried = "110105-2023-000405";
    app.send(&sealed(retried, "110105198001010016")).await;
    app.send(&[event("retrial-405", "judgment", "2024-06-01", retried, "court", "110105198001010016", json!({"judgment": {"instance": "retrial", "verdict": "convicted",
        "charges": [{"name": "危险驾驶罪"}, {"name": "妨害公务罪"}], "sentence": {"principal": "fixed_term", "months": 14}, "recidivist": false, "prior_convictions": 0}}))]).await;
    assert!(
        app.notices(&format!("?case_code={retried}"))
            .await
            .iter()
            .any(|n| n["kind"] == "unseal" && n["body"].as_str().unwrap().contains("再审"))
    );
    // Wrong facts: a correction shows the seal should not have been granted.
    let corrected = "110105-2023-000406";
    let events = sealed(corrected, "110105198002020013");
    app.send(&events).await;
    let mut replacement = events[1].clone();
    replacement["judgment"]["prior_convictions"] = json!(2);
    app.send(&[event(
        "fix-406",
        "correction",
        "2024-06-01",
        corrected,
        "court",
        "110105198002020013",
        json!({"corrects": events[1]["idempotency_key"], "replacement": replacement}),
    )])
    .await;
    assert!(
        app.notices(&format!("?case_code={corrected}"))
            .await
            .iter()
            .any(|n| n["kind"] == "unseal" && n["body"].as_str().unwrap().contains("更正"))
    );
    // An acquittal in a new case unseals nothing.
    let kept = "110105-2023-000407";
    app.send(&sealed(kept, "110105198003030010")).await;
    app.send(&[event("acq-1", "judgment", "2024-06-01", "110105-2024-000408", "court", "110105198003030010", json!({"judgment": {"instance": "first", "verdict": "acquitted", "charges": [{"name": "盗窃罪"}]}})),
               event("acq-2", "judgment_effective", "2024-06-12", "110105-2024-000408", "court", "110105198003030010", json!({}))]).await;
    assert!(
        app.notices(&format!("?case_code={kept}"))
            .await
            .iter()
            .all(|n| n["kind"] == "seal")
    );
}

#[tokio::test]
async fn the_juvenile_five_year_boundary() {
    let app = App::start("cn-juvenile", "2025-06-01T00:00:00Z", None).await;
    for (sealed_case, new_case, id, combined) in [
        ("110105-2024-000501", "110105-2025-000502", YOUNG, 59),
        ("110105-2024-000503", "110105-2025-000504", YOUNG2, 60),
    ] {
        app.send(&conviction(
            sealed_case,
            id,
            "盗窃罪",
            json!({"principal": "fixed_term", "months": 24}),
            ["2024-02-01", "2024-05-01", "2024-05-12"],
        ))
        .await;
        let mut new = conviction(
            new_case,
            id,
            "抢劫罪",
            json!({"principal": "fixed_term", "months": 36}),
            ["2024-09-01", "2025-03-01", "2025-03-12"],
        );
        new[1]["judgment"]["combined_sentence"] =
            json!({"principal": "fixed_term", "months": combined});
        new[1]["judgment"]["combined_with"] = json!([sealed_case]);
        app.send(&new).await;
        let kinds: Vec<String> = app
            .notices(&format!("?case_code={sealed_case}"))
            .await
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect();
        let unsealed = kinds.iter().any(|k| k == "unseal");
        // 五年有期徒刑以上 includes five years (Criminal Law art. 99): 60 months lifts the seal.
        assert_eq!(
            unsealed,
            combined >= 60,
            "combined {combined} months: {kinds:?}"
        );
    }
}

/// The notices' list comes a page at a time (a national store holds tens of millions): `limit`
/// (1 to 1,000, 200 by default), `next` when the page is full, `after` for the next page; a
/// size out of bounds is refused (422) naming the field.
#[tokio::test]
async fn notices_are_listed_a_page_at_a_time() {
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", None).await;
    app.send_sealed_conviction("110105-2024-000601").await;
    app.send_sealed_conviction("110105-2024-000602").await;
    let all = app.notices("").await;
    assert!(all.len() >= 4, "{all:?}");
    let mut paged = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let (status, body) = app
            .get(&format!("/api/v1/notices{query}"), Some(OPERATOR))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["notices"].as_array().unwrap();
        assert!(page.len() <= 3, "{body}");
        paged.extend(page.iter().map(|n| n["notice_id"].clone()));
        match body["next"].as_str() {
            Some(next) => {
                assert_eq!(page.len(), 3, "{body}");
                query = format!("?limit=3&after={next}");
            }
            None => break,
        }
    }
    let ids: Vec<Value> = all.iter().map(|n| n["notice_id"].clone()).collect();
    assert_eq!(paged, ids);
    for limit in ["0", "1001"] {
        let (status, body) = app
            .get(&format!("/api/v1/notices?limit={limit}"), Some(OPERATOR))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}: {body}");
        assert!(body.to_string().contains("limit"), "{body}");
    }
}

/// A case code's serial may have ten digits (every public-security case of the synthetic national
/// data has), which makes its notice numbers 41 characters and more: signing once refused any
/// number over a certificate's 40, so such notices were never delivered, only retried to `failed`.
#[tokio::test]
async fn a_notice_of_a_case_with_a_ten_digit_serial_is_delivered_signed() {
    let (receiver, endpoint) = Receiver::start(0).await;
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", Some(endpoint)).await;
    let case = "110105-2024-9000000601";
    app.send_sealed_conviction(case).await;
    let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
    assert_eq!(run["delivered"], 1, "{run}");
    let delivered = app.court_notice(&format!("?case_code={case}")).await;
    assert_eq!(delivered["status"], "delivered", "{delivered}");
    let number = delivered["notice_id"].as_str().unwrap();
    assert!(number.len() > 40, "{number}");
    let received = receiver.received.lock().unwrap()[0].clone();
    let public = std::fs::read_to_string(app.dir.join("api.sqlite.signing.pub.pem")).unwrap();
    let public = fengcun_crypto::VerifyingKey::from_text(&public).unwrap();
    let verified =
        fengcun_certificate::verify_notice(&serde_json::to_vec(&received).unwrap(), &public)
            .unwrap();
    assert_eq!(verified.document.number, number);
}

#[tokio::test]
async fn notices_are_delivered_retried_and_acknowledged() {
    let (receiver, endpoint) = Receiver::start(1).await;
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", Some(endpoint)).await;
    let case = "110105-2024-000601";
    app.send_sealed_conviction(case).await;
    // The first delivery fails (the receiver answers 503): the notice waits for its retry.
    let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
    assert_eq!(run["delivered"], 0, "{run}");
    let failed = app.court_notice(&format!("?case_code={case}")).await;
    assert_eq!(failed["status"], "retrying");
    assert_eq!(failed["attempts"], 1);
    assert!(
        failed["last_error"].as_str().unwrap().contains("503"),
        "{failed}"
    );
    assert!(receiver.received.lock().unwrap().is_empty());
    // Before the backoff has passed, nothing is retried.
    let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
    assert_eq!(run["delivered"], 0);
    assert_eq!(
        app.court_notice(&format!("?case_code={case}")).await["attempts"],
        1
    );
    // Time passes beyond the backoff: it is delivered.
    app.clock.set("2024-06-01T01:00:00Z".parse().unwrap());
    let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
    assert_eq!(run["delivered"], 1, "{run}");
    let delivered = app.court_notice(&format!("?case_code={case}")).await;
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(delivered["attempts"], 2);
    let received = receiver.received.lock().unwrap()[0].clone();
    assert_eq!(received["notice_id"], delivered["notice_id"]);
    assert_eq!(received["title"], "封存通知书");
    // Signed like a certificate: the receiver verifies it offline with the platform's public
    // key; any change to what it states fails.
    let public = std::fs::read_to_string(app.dir.join("api.sqlite.signing.pub.pem")).unwrap();
    let public = fengcun_crypto::VerifyingKey::from_text(&public).unwrap();
    let bytes = serde_json::to_vec(&received).unwrap();
    let verified = fengcun_certificate::verify_notice(&bytes, &public).unwrap();
    assert_eq!(verified.document.number, received["notice_id"]);
    assert_eq!(verified.document.authority, "犯罪记录封存平台");
    assert_eq!(verified.verification_code, received["verification_code"]);
    assert_eq!(received["algorithm"], "SM2-SM3");
    assert_eq!(received["document"]["body"], received["body"]);
    let code = received["verification_code"].as_str().unwrap();
    assert_eq!(code.len(), 24, "{code}");
    for (field, value) in [
        (
            "body",
            json!(received["body"].as_str().unwrap().replace("封存", "解封")),
        ),
        ("document", {
            let mut d = received["document"].clone();
            d["recipient"] = json!("110105-ga");
            d
        }),
        ("signature", {
            let signature = received["signature"].as_str().unwrap();
            let first = if signature.starts_with('A') { "B" } else { "A" };
            json!(format!("{first}{}", &signature[1..]))
        }),
        ("verification_code", json!(code.replace('-', "_"))),
    ] {
        let mut altered = received.clone();
        altered[field] = value;
        assert!(
            fengcun_certificate::verify_notice(&serde_json::to_vec(&altered).unwrap(), &public)
                .is_err(),
            "{field} changed"
        );
    }
    // Notices to agencies without an endpoint are listed as not acknowledged.
    let unacknowledged = app.notices("?unacknowledged=true").await;
    assert!(unacknowledged.iter().any(|n| n["recipient"] == "110105-ga"));
    // The court acknowledges with the token it received; a wrong token is refused.
    let path = received["ack"]["path"].as_str().unwrap();
    let (status, _) = app.post(path, COURT_KEY, &json!({"token": "0000"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Only the agency the notice is for acknowledges it: not another agency, even with the
    // token (answered as an unknown notice), not an operator (refused and audited).
    let (status, _) = app
        .post(
            path,
            POLICE_KEY,
            &json!({"token": received["ack"]["token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(path, OPERATOR, &json!({"token": received["ack"]["token"]}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.court_notice(&format!("?case_code={case}")).await["status"],
        "delivered"
    );
    let (status, _) = app
        .post(path, COURT_KEY, &json!({"token": received["ack"]["token"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.court_notice(&format!("?case_code={case}")).await["status"],
        "acknowledged"
    );
    assert!(
        !app.notices("?unacknowledged=true")
            .await
            .iter()
            .any(|n| n["recipient"] == "110105-fy")
    );
    let (_, log) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    let entries = log["entries"].as_array().unwrap();
    let acknowledged: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "notice_acknowledged")
        .collect();
    assert_eq!(acknowledged.len(), 1, "{log}");
    assert_eq!(
        acknowledged[0]["actor"], "court",
        "the entry names who acknowledged"
    );
    assert!(entries.iter().any(|e| e["kind"] == "forbidden"
        && e["actor"] == "ops"
        && e["outcome"] == "acknowledge notices"));
}

/// The detail of an audit entry as listed (a JSON string), parsed.
fn detail(entry: &Value) -> Value {
    serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap()
}

/// An operator watching deliveries sees notices with the person masked; an agency sees its own
/// notices in full, and no other agency's; every list read is an audit entry with who, the filter
/// and how many notices.
#[tokio::test]
async fn operators_see_notices_masked_agencies_their_own_in_full_and_every_read_is_audited() {
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", None).await;
    let case = "110105-2024-000621";
    app.send_sealed_conviction(case).await;
    let query = format!("?case_code={case}");
    let listed = app.notices(&query).await;
    assert!(listed.len() >= 2, "{listed:?}");
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(A) && !text.contains("测试人"), "{text}");
    let court = listed
        .iter()
        .find(|n| n["recipient"] == "110105-fy")
        .unwrap();
    assert!(
        court["body"]
            .as_str()
            .unwrap()
            .contains("测某（公民身份号码1101**********0025）"),
        "{court}"
    );
    // Nor the court's own document number, which would find the person in published judgments.
    assert!(
        !text.contains("刑初") && !text.contains("文书编号"),
        "{text}"
    );

    let (status, own) = app
        .get(&format!("/api/v1/notices{query}"), Some(COURT_KEY))
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let own = own["notices"].as_array().unwrap();
    assert_eq!(own.len(), 1, "the court's notice only: {own:?}");
    assert_eq!(own[0]["recipient"], "110105-fy");
    assert!(
        own[0]["body"]
            .as_str()
            .unwrap()
            .contains("测试人（公民身份号码110105199003070025）"),
        "{}",
        own[0]
    );
    assert!(
        own[0]["body"].as_str().unwrap().contains("你单位文书编号"),
        "{}",
        own[0]
    );

    let (_, log) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    let reads: Vec<(String, Value)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "read" && e["outcome"] == "notices")
        .map(|e| (e["actor"].as_str().unwrap().to_owned(), detail(e)))
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(reads[0].0, "ops");
    assert_eq!(reads[0].1["filter"]["case_code"], case);
    assert_eq!(reads[0].1["rows"], listed.len());
    assert_eq!(reads[0].1["identities"], "masked");
    assert_eq!(reads[1].0, "court");
    assert_eq!(reads[1].1["filter"]["recipient"], "110105-fy");
    assert_eq!(reads[1].1["rows"], 1);
    assert_eq!(reads[1].1["identities"], "full");
}

/// A status filter that names no status is refused, naming the field and the statuses it may be,
/// rather than answered with an empty list (which reads as "none in that status"); a known one
/// still filters.
#[tokio::test]
async fn an_unknown_status_filter_is_named_not_answered_with_nothing() {
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", None).await;
    let case = "110105-2024-000622";
    app.send_sealed_conviction(case).await;
    for (path, key, field) in [
        (
            "/api/v1/notices?status=asleep",
            OPERATOR,
            "status: `asleep` is none of pending, retrying, delivered, failed, acknowledged, available",
        ),
        (
            "/api/v1/notices?status=Pending",
            COURT_KEY,
            "status: `Pending` is none of pending, retrying, delivered, failed, acknowledged, available",
        ),
        (
            "/api/v1/requests?status=asleep",
            AUDITOR,
            "status: `asleep` is none of pending, approved, refused, withdrawn",
        ),
    ] {
        let (status, body) = app.get(path, Some(key)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["message"], field, "{path}: {body}");
    }
    let (status, body) = app
        .get(
            &format!("/api/v1/notices?case_code={case}&status=available"),
            Some(OPERATOR),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body["notices"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "the person's notice: {body}");
    assert_eq!(listed[0]["recipient"], "person");
    assert_eq!(listed[0]["status"], "available");
    let (status, body) = app
        .get("/api/v1/requests?status=pending", Some(AUDITOR))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["requests"], serde_json::json!([]));
}

/// The audit log is for auditors: an operator may sign a head now (hashes only) but reads no
/// entry, head list or proof, and each refusal is audited; an auditor's read is itself an entry.
/// `limit` outside 1..=1000 (the OpenAPI document's range) is refused, naming it.
#[tokio::test]
async fn the_audit_log_is_for_auditors_and_reading_it_is_audited() {
    let app = App::start("cn-minor-opt1", "2026-01-01T00:00:00Z", None).await;
    app.send_sealed_conviction("110105-2024-000631").await;
    let (status, head) = app.post("/api/v1/audit/heads", OPERATOR, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{head}");
    let size = head_size(&head);
    for path in [
        "/api/v1/audit/entries".to_owned(),
        "/api/v1/audit/heads".to_owned(),
        format!("/api/v1/audit/proofs/inclusion?index=0&size={size}"),
        format!("/api/v1/audit/proofs/consistency?from=1&to={size}"),
    ] {
        assert_eq!(
            app.get(&path, Some(OPERATOR)).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(&path, Some(AUDITOR)).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    let (status, first) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = first["entries"].as_array().unwrap().clone();
    let (_, second) = app
        .get(
            &format!("/api/v1/audit/entries?from={}", first.len()),
            Some(AUDITOR),
        )
        .await;
    let second = second["entries"].as_array().unwrap().clone();
    // The read of `first` is the first entry after it.
    assert_eq!(second[0]["kind"], "read", "{second:?}");
    assert_eq!(second[0]["actor"], "audit");
    assert_eq!(second[0]["outcome"], "audit_entries");
    let read = detail(&second[0]);
    assert_eq!((&read["from"], &read["limit"]), (&json!(0), &json!(1000)));
    assert_eq!(read["rows"], first.len());
    let refused = first
        .iter()
        .filter(|e| e["kind"] == "forbidden" && e["actor"] == "ops")
        .count();
    assert_eq!(refused, 4, "{first:?}");

    for limit in ["5000", "1001", "0", "-1"] {
        let (status, body) = app
            .get(
                &format!("/api/v1/audit/entries?limit={limit}"),
                Some(AUDITOR),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}: {body}");
        assert!(
            body["message"].as_str().unwrap().starts_with("limit:"),
            "{body}"
        );
    }
}

/// The size of the tree a signed head's line covers.
fn head_size(answer: &Value) -> u64 {
    fengcun_ledger::SignedTreeHead::from_json(answer["line"].as_str().unwrap())
        .unwrap()
        .unverified_head()
        .size()
}

/// Every endpoint with a JSON body answers alike: 400 for a body that is not JSON, 415 for a body
/// not labelled JSON, 422 for JSON that fails validation (the single event endpoint included,
/// though it reads the event from its bytes).
#[tokio::test]
async fn malformed_and_mislabelled_bodies_are_answered_alike_everywhere() {
    let app = App::start("cn-minor-opt1", "2025-01-01T00:00:00Z", None).await;
    let raw = |path: &'static str, content_type: Option<&'static str>, body: &'static str| {
        let mut request = app
            .http
            .post(format!("{}{path}", app.base))
            .bearer_auth(OPERATOR)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (
                status,
                body["error"].as_str().unwrap_or("not JSON").to_owned(),
            )
        }
    };
    let json = Some("application/json");
    for path in [
        "/api/v1/events",
        "/api/v1/events/batch",
        "/api/v1/lookups",
        "/api/v1/session",
    ] {
        assert_eq!(
            raw(path, json, "{ not JSON").await,
            (StatusCode::BAD_REQUEST, "invalid".to_owned()),
            "{path}: not JSON"
        );
        for content_type in [Some("text/plain"), None] {
            assert_eq!(
                raw(path, content_type, "{}").await,
                (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type".to_owned()
                ),
                "{path}: {content_type:?}"
            );
        }
        assert_eq!(
            raw(path, json, "{}").await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid".to_owned()),
            "{path}: JSON that is no valid request"
        );
    }
    // A media type with parameters is JSON still.
    let (status, _) = raw(
        "/api/v1/events",
        Some("application/json; charset=utf-8"),
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A receiver that acknowledges while it handles the delivery (before the outbox records it):
/// every delivery is in the notice and in the audit log all the same, as many as the metric counts.
#[tokio::test]
async fn a_notice_acknowledged_during_its_delivery_keeps_its_delivery() {
    let (receiver, endpoint) = Receiver::start(0).await;
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", Some(endpoint)).await;
    *receiver.acknowledge_at.lock().unwrap() = Some(app.base.clone());
    let cases = [
        "110105-2024-000621",
        "110105-2024-000622",
        "110105-2024-000623",
    ];
    for case in cases {
        app.send_sealed_conviction(case).await;
    }
    let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
    assert_eq!(run["delivered"], 3, "{run}");
    assert_eq!(receiver.received.lock().unwrap().len(), 3);
    let mut delivered_ids = Vec::new();
    for case in cases {
        let notice = app.court_notice(&format!("?case_code={case}")).await;
        assert_eq!(
            (
                &notice["status"],
                &notice["attempts"],
                &notice["delivered_at"]
            ),
            (
                &json!("acknowledged"),
                &json!(1),
                &json!("2024-06-01T00:00:00Z")
            ),
            "{notice}"
        );
        delivered_ids.push(format!("notice:{}", notice["notice_id"].as_str().unwrap()));
    }
    let deliveries: Vec<String> = app
        .audit_entries("notice_delivery")
        .await
        .into_iter()
        .filter(|e| e["outcome"] == "delivered")
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    delivered_ids.sort();
    let mut audited = deliveries.clone();
    audited.sort();
    assert_eq!(audited, delivered_ids);
    assert_eq!(
        app.metric("fengcun_notices_delivered_total").await,
        deliveries.len() as u64
    );
}

/// One unreadable record among due pending seals: the scheduler seals the others, reports the
/// failure, audits it and counts it in `/metrics`; a policy change likewise.
#[tokio::test]
async fn an_unreadable_record_is_reported_audited_and_counted_by_the_scheduler() {
    let app = App::start("cn-minor-tiered", "2025-04-01T00:00:00Z", None).await;
    let cases = ["110105-2023-000211", "110105-2023-000212"];
    for (case, id) in cases.iter().zip([A, B]) {
        let mut events = conviction(
            case,
            id,
            "诈骗罪",
            json!({"principal": "fixed_term", "months": 18}),
            ["2023-05-02", "2023-09-01", "2023-09-12"],
        );
        events.push(event(
            &format!("{case}/done"),
            "execution_completed",
            "2025-03-11",
            case,
            "prison",
            id,
            json!({}),
        ));
        app.send(&events).await;
    }
    // The second record's data key is damaged: nothing of it can be opened.
    let damaged = sqlx::query("UPDATE records SET data_key = $1 WHERE case_code = $2")
        .bind(vec![7u8; 60])
        .bind(cases[1])
        .execute(app.store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(damaged, 1);
    app.clock.set("2027-03-11T00:30:00+08:00".parse().unwrap());
    let (status, body) = app
        .post("/api/v1/scheduler/run", OPERATOR, &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["transitions"], 1, "{body}");
    assert_eq!(
        body["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (
                f["case_code"].as_str().unwrap(),
                f["error"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [(cases[1], "crypto")]
    );
    assert_eq!(app.last_notice(cases[0]).await.as_deref(), Some("seal"));
    assert_eq!(app.metric("fengcun_scheduler_failures_total").await, 1);
    let failed = app.audit_entries("refresh_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let detail: Value = serde_json::from_str(failed[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&detail["case_code"], &detail["error"], &detail["during"]),
        (&json!(cases[1]), &json!("crypto"), &json!("scheduler"))
    );
    // A policy change applies to the readable records and counts the unreadable one.
    let (status, change) = app
        .post(
            "/api/v1/policy",
            OPERATOR,
            &json!({"name": "cn-minor-opt1", "apply": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change["failures"][0]["case_code"], cases[1], "{change}");
    assert_eq!(change["failures"].as_array().unwrap().len(), 1, "{change}");
    let (_, in_force) = app.get("/api/v1/policy", Some(OPERATOR)).await;
    assert_eq!(in_force["name"], "cn-minor-opt1");
    assert_eq!(app.metric("fengcun_scheduler_failures_total").await, 2);
    assert_eq!(app.audit_entries("refresh_failed").await.len(), 2);
}

/// A notice whose receiver never answers runs out of attempts, is listed as failed, and goes out
/// again when an operator puts it back; nobody else may.
#[tokio::test]
async fn a_notice_that_ran_out_of_attempts_is_listed_and_an_operator_retries_it() {
    let attempts = 12; // the default outbox_max_attempts
    let (receiver, endpoint) = Receiver::start(attempts).await;
    let app = App::start("cn-minor-opt1", "2024-06-01T00:00:00Z", Some(endpoint)).await;
    let case = "110105-2024-000611";
    app.send_sealed_conviction(case).await;
    let mut now: jiff::Timestamp = "2024-06-01T00:00:00Z".parse().unwrap();
    for _ in 0..attempts {
        let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
        assert_eq!(run["delivered"], 0, "{run}");
        now = now
            .checked_add(jiff::SignedDuration::from_hours(7))
            .unwrap();
        app.clock.set(now);
    }
    let failed = app
        .court_notice(&format!("?case_code={case}&status=failed"))
        .await;
    assert_eq!(failed["attempts"], attempts);
    let id = failed["notice_id"].as_str().unwrap().to_owned();
    let retry = format!("/api/v1/notices/{id}/retry");
    assert_eq!(
        app.post(&retry, COURT_KEY, &json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&retry, OPERATOR, &json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&retry, OPERATOR, &json!({})).await.0,
        StatusCode::NOT_FOUND,
        "only a failed notice is put back"
    );
    let (_, run) = app.post("/api/v1/outbox/run", OPERATOR, &json!({})).await;
    assert_eq!(run["delivered"], 1, "{run}");
    assert_eq!(
        app.court_notice(&format!("?case_code={case}")).await["status"],
        "delivered"
    );
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
    let (_, log) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    assert!(log["entries"].as_array().unwrap().iter().any(|e| {
        e["kind"] == "notice_delivery" && e["outcome"] == "requeued" && e["actor"] == "ops"
    }));
}

/// A full batch of realistic events fits the body limit; a body that is not JSON, of the wrong
/// type or too large is answered in the API's error shape, not as bare text.
#[tokio::test]
async fn full_batches_fit_and_malformed_bodies_get_the_error_shape() {
    let app = App::start("cn-minor-opt1", "2025-01-01T00:00:00Z", None).await;
    let events: Vec<Value> = (0..5_000)
        .map(|n| {
            let mut e = event(
                &format!("ga-bulk-{n}"),
                "filed",
                "2024-01-02",
                &format!("110105-2024-{:06}", 100_000 + n),
                "public_security",
                A,
                json!({"charges": [{"name": "盗窃罪"}]}),
            );
            e["document_number"] = json!(format!("京公(朝)立字〔2024〕第{n:06}号"));
            e["person"]["name"] = json!("测试人".repeat(20));
            e
        })
        .collect();
    let body = serde_json::to_vec(&json!({"events": events})).unwrap();
    assert!(body.len() > 2 * 1024 * 1024, "{} bytes", body.len());
    let (status, answer) = app
        .post("/api/v1/events/batch", OPERATOR, &json!({"events": events}))
        .await;
    assert_eq!((status, &answer["stored"]), (StatusCode::OK, &json!(5_000)));

    let raw = |content_type: &'static str, body: Vec<u8>| {
        let request = app
            .http
            .post(format!("{}/api/v1/events/batch", app.base))
            .bearer_auth(OPERATOR)
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (
                status,
                body["error"].as_str().unwrap_or("not JSON").to_owned(),
            )
        }
    };
    assert_eq!(
        raw("application/json", b"{\"events\": [".to_vec()).await,
        (StatusCode::BAD_REQUEST, "invalid".to_owned())
    );
    assert_eq!(
        raw("text/plain", b"{\"events\": []}".to_vec()).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type".to_owned()
        )
    );
    assert_eq!(
        raw("application/json", vec![b' '; 25 * 1024 * 1024]).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".to_owned())
    );
}

/// The audit log over HTTP: every transition, notice delivery and policy change is an entry;
/// heads signed on demand; inclusion and consistency proofs verified outside the server with only
/// the public key it publishes.
#[tokio::test]
async fn the_audit_log_proves_its_entries_to_an_outside_verifier() {
    use fengcun_ledger::{Hash, SignedTreeHead};
    let app = App::start("cn-minor-opt1", "2026-01-01T00:00:00Z", None).await;
    app.send(&conviction(
        "110105-2024-000001",
        A,
        "危险驾驶罪",
        json!({"principal": "criminal_detention", "months": 2}),
        ["2024-01-10", "2024-03-01", "2024-03-12"],
    ))
    .await;
    // Who may read the log: auditors and operators; not agencies; not strangers.
    assert_eq!(
        app.get("/api/v1/audit/entries", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/audit/entries", Some(COURT_KEY)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, first) = app.post("/api/v1/audit/heads", AUDITOR, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first = SignedTreeHead::from_json(first["line"].as_str().unwrap()).unwrap();

    // More entries: a second record, and a policy change put in force.
    app.send(&conviction(
        "110105-2024-000002",
        B,
        "盗窃罪",
        json!({"principal": "fixed_term", "months": 8}),
        ["2024-01-10", "2024-03-01", "2024-03-12"],
    ))
    .await;
    let (status, body) = app
        .post(
            "/api/v1/policy",
            OPERATOR,
            &json!({"name": "cn-minor-opt3", "apply": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, second) = app.post("/api/v1/audit/heads", AUDITOR, &json!({})).await;
    let second = SignedTreeHead::from_json(second["line"].as_str().unwrap()).unwrap();

    let (status, entries) = app
        .get("/api/v1/audit/entries?limit=1000", Some(AUDITOR))
        .await;
    assert_eq!(status, StatusCode::OK);
    let entries = entries["entries"].as_array().unwrap().clone();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"transition"), "{kinds:?}");
    assert!(kinds.contains(&"policy_changed"), "{kinds:?}");
    assert_eq!(entries.len() as u64, second.unverified_head().size());

    // Every head, parsed as its line says (the answer's typed heads are the lines' fields, in
    // the order of their names, as when they were answered as untyped JSON).
    let response = app
        .http
        .get(format!("{}/api/v1/audit/heads", app.base))
        .bearer_auth(AUDITOR)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let raw = response.text().await.unwrap();
    let heads: Value = serde_json::from_str(&raw).unwrap();
    let lines = heads["lines"].as_array().unwrap();
    // The head signed at start, and the two signed on demand.
    assert_eq!(lines.len(), 3, "{heads}");
    assert_eq!(heads["heads"].as_array().unwrap().len(), lines.len());
    for (head, line) in heads["heads"].as_array().unwrap().iter().zip(lines) {
        let parsed: Value = serde_json::from_str(line.as_str().unwrap()).unwrap();
        assert_eq!(head, &parsed);
        assert!(raw.contains(&parsed.to_string()), "{raw}");
        serde_json::from_value::<fengcun_server::service::audit::TreeHeadLine>(head.clone())
            .unwrap();
    }

    // The verifier outside: the public key (public endpoint), the heads, the proofs.
    let key = app
        .http
        .get(format!("{}/api/v1/public-key", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = fengcun_crypto::VerifyingKey::from_text(&key).unwrap();
    let old = *first.verify(&key).unwrap();
    let new = *second.verify(&key).unwrap();
    assert!(new.size() > old.size());
    let hashes = |body: &Value| -> Vec<Hash> {
        body["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect()
    };
    for index in 0..new.size() {
        let (status, proof) = app
            .get(
                &format!(
                    "/api/v1/audit/proofs/inclusion?index={index}&size={}",
                    new.size()
                ),
                Some(AUDITOR),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{proof}");
        // The leaf is recomputed from the entry as listed, not taken from the proof.
        let entry = &entries[index as usize];
        let leaf_bytes = leaf_bytes(entry);
        let leaf = fengcun_ledger::Hasher::new(new.suite()).leaf_hash(&leaf_bytes);
        new.verify_inclusion(index, &leaf, &hashes(&proof))
            .unwrap_or_else(|e| panic!("entry {index}: {e}"));
        // The same proof does not prove another entry.
        let other = (index + 1) % new.size();
        assert!(
            new.verify_inclusion(other, &leaf, &hashes(&proof)).is_err(),
            "the proof of entry {index} also proves entry {other}"
        );
    }
    let (status, proof) = app
        .get(
            &format!(
                "/api/v1/audit/proofs/consistency?from={}&to={}",
                old.size(),
                new.size()
            ),
            Some(AUDITOR),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    old.verify_consistency(&new, &hashes(&proof)).unwrap();
    // One hash of the proof changed: it fails.
    let mut forged = hashes(&proof);
    forged[0].0[0] ^= 1;
    assert!(old.verify_consistency(&new, &forged).is_err());
}

/// The bytes of an audit entry's leaf, as docs/audit.md specifies them: one JSON object with the
/// fields in this order.
fn leaf_bytes(entry: &Value) -> Vec<u8> {
    let fields = [
        "seq", "at", "kind", "actor", "purpose", "outcome", "subject", "detail",
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{f}\":{}", entry[*f]))
        .collect();
    format!("{{{}}}", body.join(",")).into_bytes()
}
