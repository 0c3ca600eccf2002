//! The integration tests' one harness: a real server on port 0, on a fresh database — SQLite by
//! default, or a fresh PostgreSQL database of `FENGCUN_TEST_DATABASE_URL` for a test that runs on
//! both engines ([`engines`]) — with an injected clock.

#![allow(
    dead_code,
    reason = "each test file uses the part of the harness it needs"
)]

pub mod browser;
pub mod console;

use std::sync::Arc;

use axum::http::StatusCode;
use fengcun_access::RequesterKind;
use fengcun_crypto::MasterKey;
use fengcun_server::config::key_digest;
use fengcun_server::{ApiKey, Config, FixedClock, Role};
use fengcun_store::{AgencyEndpoint, Keys};
use serde_json::{Value, json};

/// The database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// SQLite, and PostgreSQL too when `FENGCUN_TEST_DATABASE_URL` is set: for a test that runs on
/// both engines (`for engine in engines() { … }`).
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if std::env::var("FENGCUN_TEST_DATABASE_URL").is_ok() {
        engines.push(Engine::Postgres);
    }
    engines
}

/// A server under test.
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<FixedClock>,
    /// The server's store, for tests that damage a row as a disk or an operator might.
    pub store: Arc<fengcun_store::SqlStore>,
    /// A directory of the test's own (its SQLite database, the signing key's public key).
    pub dir: std::path::PathBuf,
    pub engine: Engine,
    pub running: fengcun_server::Running,
    /// The PostgreSQL server's URL and the test's own database on it, dropped with the server.
    postgres: Option<(String, String)>,
}

/// A test leaves nothing behind: its directory (the SQLite database, the signing key) and its
/// PostgreSQL database go when the server does — thousands of runs filled a developer's disk.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((url, name)) = self.postgres.take() {
            // Its own thread and runtime: `drop` cannot wait on the test's runtime.
            let dropping = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async move {
                    use sqlx::Executor;
                    if let Ok(mut admin) =
                        <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await
                    {
                        let _ = admin
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                });
            });
            let _ = dropping.join();
        }
    }
}

/// The configuration every test server starts from: listening on port 0, with the scheduler and
/// the outbox left to the test (their timers an hour apart), console cookies without `Secure`.
pub fn config(policy: &str) -> Config {
    let mut config = Config::load(None, std::iter::empty()).expect("default configuration");
    config.listen = "127.0.0.1:0".into();
    config.policy = policy.into();
    config.scheduler_interval_seconds = 3600;
    // The tests run the outbox themselves (POST /api/v1/outbox/run), at the clock they set.
    config.outbox_interval_seconds = 3600;
    config
}

/// A configured API key: its name, role, agency and requester kind, and the secret it is sent as.
pub fn api_key(
    name: &str,
    role: Role,
    agency: Option<&str>,
    kind: Option<RequesterKind>,
    secret: &str,
) -> ApiKey {
    ApiKey {
        name: name.into(),
        role,
        agency: agency.map(str::to_owned),
        requester_kind: kind,
        key_sha256: key_digest(secret),
    }
}

/// A test agency as the configuration registers it (no notice endpoint): the court
/// `110105-fy`, the police `110105-ga` or the procuratorate `110105-jc`.
pub fn registered_agency(code: &str) -> AgencyEndpoint {
    let (kind, name) = match code {
        "110105-fy" => (fengcun_domain::AgencyKind::Court, "某区人民法院"),
        "110105-ga" => (fengcun_domain::AgencyKind::PublicSecurity, "某区公安分局"),
        "110105-jc" => (fengcun_domain::AgencyKind::Procuratorate, "某区人民检察院"),
        _ => panic!("no test agency {code}"),
    };
    AgencyEndpoint {
        code: code.into(),
        kind,
        name: Some(name.into()),
        endpoint: None,
    }
}

/// A fresh, empty PostgreSQL database on the server of `url`; its URL.
async fn fresh_postgres_url(url: &str, name: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect to PostgreSQL");
    fengcun_testkit::leftovers::sweep_databases(&mut admin).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .expect("drop the test database");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create the test database");
    let base = url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("a database URL");
    format!("{base}/{name}")
}

impl Server {
    /// Starts a server with `config` (its database is set here), the clock at `now`, on `engine`.
    pub async fn start(mut config: Config, now: &str, engine: Engine, label: &str) -> Server {
        fengcun_testkit::leftovers::sweep_scratch_dirs();
        let suffix = fengcun_crypto::random_hex::<4>();
        let dir =
            std::env::temp_dir().join(format!("fengcun-{label}-{}-{suffix}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a test directory");
        let mut postgres = None;
        config.database = match engine {
            Engine::Sqlite => format!("sqlite://{}", dir.join(format!("{label}.sqlite")).display()),
            Engine::Postgres => {
                let url = std::env::var("FENGCUN_TEST_DATABASE_URL")
                    .expect("FENGCUN_TEST_DATABASE_URL for a PostgreSQL test");
                let name =
                    format!("fengcun_{label}_{}_{suffix}", std::process::id()).replace('-', "_");
                let database = fresh_postgres_url(&url, &name).await;
                postgres = Some((url, name));
                database
            }
        };
        let clock = Arc::new(FixedClock::new(now.parse().expect("a timestamp")));
        let store = Arc::new(
            fengcun_store::open(&config.database, Keys::new(MasterKey::generate()))
                .await
                .expect("open the store"),
        );
        if engine == Engine::Postgres && config.signing_key_file.is_none() {
            // Made beside a SQLite database on its own; a PostgreSQL server is given its key.
            let path = dir.join("signing.pem");
            let pem = fengcun_crypto::SigningKey::generate(store.keys().suite())
                .to_pkcs8_pem()
                .expect("a signing key");
            fengcun_server::keyfile::create(
                &path,
                &format!("{}\n", pem.trim_end()),
                fengcun_server::keyfile::Access::Owner,
            )
            .expect("write the signing key");
            config.signing_key_file = Some(path);
        }
        let running = fengcun_server::start_with_store(config, store.clone(), clock.clone())
            .await
            .expect("start the server");
        Server {
            base: format!("http://{}", running.address),
            http: reqwest::Client::new(),
            clock,
            store,
            dir,
            engine,
            running,
            postgres,
        }
    }
}

/// Talking to a server under test: status and JSON body (`null` for a body that is not JSON).
impl Server {
    /// `GET path`, with a key (`KEY` or `Some(KEY)`) or without one (`None`).
    pub async fn get<'a>(
        &self,
        path: &str,
        key: impl Into<Option<&'a str>>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(key) = key.into() {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("a response");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("a status");
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Status and raw body bytes, to compare two answers byte for byte.
    pub async fn get_raw(&self, path: &str, key: &str) -> (StatusCode, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("a response");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("a status");
        (status, response.bytes().await.expect("a body").to_vec())
    }

    /// `POST path` with a JSON body and a key.
    pub async fn post(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("a response");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("a status");
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sends `events` as one batch with `key`; every one must be stored (or a duplicate).
    pub async fn send_events(&self, key: &str, events: &[Value]) {
        let (status, body) = self
            .post("/api/v1/events/batch", key, &json!({"events": events}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Every audit entry (up to 1,000), read with `key` (an auditor's).
    pub async fn audit_log(&self, key: &str) -> Vec<Value> {
        let (status, log) = self.get("/api/v1/audit/entries?limit=1000", key).await;
        assert_eq!(status, StatusCode::OK, "{log}");
        log["entries"].as_array().expect("entries").clone()
    }

    /// The server stopped and started again on the same store and directory, with `config`
    /// and `clock` (a restart after an operator's change).
    pub async fn restarted(mut self, config: Config, clock: Arc<FixedClock>) -> Server {
        self.running.stop();
        let running = fengcun_server::start_with_store(config, self.store.clone(), clock.clone())
            .await
            .expect("start the server again");
        self.base = format!("http://{}", running.address);
        self.http = reqwest::Client::new();
        self.clock = clock;
        self.running = running;
        self
    }

    /// Stops the server (its port and workers).
    pub fn stop(self) {
        self.running.stop();
    }
}

/// The test agencies' codes by kind: `{"kind", "code"}` of an event.
pub fn agency(kind: &str) -> Value {
    let code = match kind {
        "public_security" => "110105-ga",
        "procuratorate" => "110105-jc",
        "court" => "110105-fy",
        _ => "110105-jy",
    };
    json!({"kind": kind, "code": code})
}

/// An event of `kind` on `date` in `case`, sent by the test agency of kind `from`, about the
/// person `id` (named 测试人), with the fields of `extra`.
pub fn event(
    key: &str,
    kind: &str,
    date: &str,
    case: &str,
    from: &str,
    id: &str,
    extra: Value,
) -> Value {
    let mut e = json!({"idempotency_key": key, "kind": kind, "date": date, "case_code": case, "agency": agency(from), "person": {"id_number": id, "name": "测试人"}});
    for (k, v) in extra.as_object().expect("extra fields") {
        e[k] = v.clone();
    }
    e
}

/// A case filed by the police on the offence's date and judged by the court (document
/// `(<year judged>)某刑初<n>号`), a first offender convicted of `charge` with `sentence`: its
/// three events (`<case>/filed`, `<case>/judgment`, `<case>/effective`).
pub fn conviction(
    case: &str,
    id: &str,
    charge: &str,
    sentence: Value,
    [offence, judged, effective]: [&str; 3],
) -> Vec<Value> {
    vec![
        event(
            &format!("{case}/filed"),
            "filed",
            offence,
            case,
            "public_security",
            id,
            json!({"charges": [{"name": charge}], "offence_date": offence}),
        ),
        event(
            &format!("{case}/judgment"),
            "judgment",
            judged,
            case,
            "court",
            id,
            json!({"document_number": format!("({})某刑初{}号", &judged[..4], &case[12..]),
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": charge}], "sentence": sentence,
                "offence_date": offence, "recidivist": false, "prior_convictions": 0}}),
        ),
        event(
            &format!("{case}/effective"),
            "judgment_effective",
            effective,
            case,
            "court",
            id,
            json!({}),
        ),
    ]
}
