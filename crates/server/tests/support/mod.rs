//! The integration tests' one harness: a real server on port 0, on a fresh database — SQLite by
//! default, or a fresh PostgreSQL database of `FENGCUN_TEST_DATABASE_URL` for a test that runs on
//! both engines ([`engines`]) — with an injected clock.

#![allow(
    dead_code,
    reason = "each test file uses the part of the harness it needs"
)]

pub mod browser;

use std::sync::Arc;

use fengcun_crypto::MasterKey;
use fengcun_server::{Config, FixedClock};
use fengcun_store::Keys;

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

/// A fresh, empty PostgreSQL database on the server of `url`; its URL.
async fn fresh_postgres_url(url: &str, name: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect to PostgreSQL");
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
        let suffix = fengcun_crypto::random_hex::<4>();
        let dir =
            std::env::temp_dir().join(format!("fengcun-{label}-{}-{suffix}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a test directory");
        config.database = match engine {
            Engine::Sqlite => format!("sqlite://{}", dir.join(format!("{label}.sqlite")).display()),
            Engine::Postgres => {
                let url = std::env::var("FENGCUN_TEST_DATABASE_URL")
                    .expect("FENGCUN_TEST_DATABASE_URL for a PostgreSQL test");
                let name =
                    format!("fengcun_{label}_{}_{suffix}", std::process::id()).replace('-', "_");
                fresh_postgres_url(&url, &name).await
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
        }
    }
}
