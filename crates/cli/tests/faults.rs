//! Database faults: a PostgreSQL cluster of the test's own, stopped and started again while
//! `fengcun import` runs and a load of look-ups and certificate requests goes through the server.
//! While it is down the server answers 503 (never a 500, never a wrong answer); it reconnects by
//! itself; the import goes on from its last committed batch; the end state equals a clean import.
//!
//! `FENGCUN_FAULT_ROUNDS` (default 1) repeats the stop and start on a fresh database that many
//! times. Needs PostgreSQL's server binaries (`initdb`, `pg_ctl`: `/usr/lib/postgresql/*/bin`);
//! without them the test says `SKIPPED` and passes. As root (CI), the cluster runs as the
//! `postgres` user (`runuser`), as initdb refuses root.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fengcun_crypto::MasterKey;
use fengcun_store::prelude::*;
use serde_json::{Value, json};

const CLERK: &str = "counter-clerk-key-for-the-fault-test";
/// From examples/events.ndjson: persons with records, one of whom a police clerk sees (the first
/// whose look-up answers with records); and a person never recorded.
const PERSONS: [&str; 4] = [
    "110105198802290935",
    "110105198511200135",
    "110105199207070713",
    "110105199501150554",
];
const NOBODY: &str = "110105198001010016";
const NOW: &str = "2026-12-01T00:00:00Z";

/// The newest PostgreSQL server binaries' directory, if any.
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A PostgreSQL cluster in a directory of the test's own, on a free port; stopped and removed
/// when dropped.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
}

impl Cluster {
    fn new(bin: PathBuf) -> Cluster {
        let dir = std::env::temp_dir().join(format!(
            "fengcun-faults-{}-{}",
            std::process::id(),
            fengcun_crypto::random_hex::<4>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let root = is_root();
        if root {
            // initdb refuses root: the cluster is the postgres user's.
            let chown = Command::new("chown")
                .args(["postgres:postgres", dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(chown.success(), "chown the cluster's directory to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            root,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if self.root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let out = command.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self, mode: &str) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", mode, "-w", "stop"]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    async fn create_database(&self, name: &str) -> String {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url("postgres"))
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        self.url(name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if self.root {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fengcun(args: &[&str], config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fengcun"));
    // The configuration file alone: an unknown FENGCUN_* variable (this test's own) is refused.
    for (name, _) in std::env::vars() {
        if name.starts_with("FENGCUN_") {
            command.env_remove(name);
        }
    }
    command.args(args).env("FENGCUN_CONFIG", config);
    command
}

/// Imports `file` into `database` to the end, with no fault; stderr on failure.
fn import(file: &Path, database: &str, config: &Path) {
    let out = fengcun(
        &[
            "import",
            file.to_str().unwrap(),
            "--database",
            database,
            "--batch",
            "200",
            "--now",
            NOW,
        ],
        config,
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `done` every 50 ms until it holds, failing after `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the load saw, by request kind: answers, 503s, and anything else (which fails the test).
#[derive(Default)]
struct Seen {
    ok: [AtomicUsize; 3],
    unavailable: [AtomicUsize; 3],
    wrong: std::sync::Mutex<Vec<String>>,
}

const LOOKUP: usize = 0;
const CERTIFICATE: usize = 1;
const HEALTH: usize = 2;

async fn request(http: &reqwest::Client, base: &str, kind: usize, recorded: &str) -> (u16, Value) {
    let builder = match kind {
        LOOKUP => http
            .post(format!("{base}/api/v1/lookups"))
            .bearer_auth(CLERK)
            .json(&json!({"purpose": "case_handling", "id_number": recorded})),
        CERTIFICATE => http
            .post(format!("{base}/api/v1/certificates"))
            .bearer_auth(CLERK)
            .json(&json!({"id_number": NOBODY, "name": "测试人", "purpose": "就业"})),
        _ => http.get(format!("{base}/healthz")),
    };
    match builder.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(error) => (0, json!(error.to_string())),
    }
}

/// What an answer must say, from the answers before any fault.
fn shape(kind: usize, body: &Value) -> Value {
    match kind {
        LOOKUP => json!({
            "answer": body["answer"],
            "cases": body["records"].as_array().map(|r| r.iter().map(|x| x["case_code"].clone()).collect::<Vec<_>>()),
        }),
        CERTIFICATE => json!({"result": body["result"], "title": body["title"]}),
        _ => body.clone(),
    }
}

async fn load(
    base: String,
    recorded: &'static str,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
    expected: Arc<Vec<Value>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut turn = 0;
    while !stop.load(Ordering::Relaxed) {
        let kind = turn % 3;
        turn += 1;
        let (status, body) = request(&http, &base, kind, recorded).await;
        let ok = if kind == CERTIFICATE { 201 } else { 200 };
        if status == ok && shape(kind, &body) == expected[kind] {
            seen.ok[kind].fetch_add(1, Ordering::Relaxed);
        } else if status == 503 && body["error"] == "unavailable" {
            seen.unavailable[kind].fetch_add(1, Ordering::Relaxed);
        } else {
            seen.wrong
                .lock()
                .unwrap()
                .push(format!("{kind}: {status} {body}"));
        }
    }
}

fn count(counters: &[AtomicUsize; 3], kind: usize) -> usize {
    counters[kind].load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_503_while_postgresql_restarts_and_the_import_goes_on_to_a_clean_state()
{
    let Some(bin) = pg_bin() else {
        eprintln!(
            "SKIPPED: no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin"
        );
        return;
    };
    let rounds: usize = std::env::var("FENGCUN_FAULT_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let cluster = Cluster::new(bin);
    let dir = cluster.dir.clone();
    let master = MasterKey::generate();
    let signing = fengcun_crypto::SigningKey::generate(fengcun_crypto::Suite::Sm);
    let write = |name: &str, text: &str| {
        fengcun_server::keyfile::create(
            &dir.join(name),
            text,
            fengcun_server::keyfile::Access::Owner,
        )
        .unwrap();
        dir.join(name)
    };
    let master_file = write("master.key", &format!("{}\n", master.to_hex()));
    let signing_file = write(
        "signing.pem",
        &format!("{}\n", signing.to_pkcs8_pem().unwrap().trim_end()),
    );
    let config_file = write(
        "fengcun.toml",
        &format!(
            "listen = \"127.0.0.1:0\"\npolicy = \"cn-minor-opt1\"\nmaster_key_file = \"{}\"\n\
             signing_key_file = \"{}\"\nscheduler_interval_seconds = 3600\noutbox_interval_seconds = 3600\n\
             [[api_keys]]\nname = \"counter\"\nrole = \"clerk\"\nagency = \"110105-ga\"\n\
             requester_kind = \"public_security\"\nkey_sha256 = \"{}\"\n",
            master_file.display(),
            signing_file.display(),
            fengcun_server::config::key_digest(CLERK)
        ),
    );
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.ndjson");
    let synth = fengcun(
        &[
            "synth",
            "--records",
            "1000",
            "--seed",
            "20",
            "--out",
            dir.to_str().unwrap(),
        ],
        &config_file,
    )
    .output()
    .unwrap();
    assert!(
        synth.status.success(),
        "{}",
        String::from_utf8_lossy(&synth.stderr)
    );
    let events = dir.join("events.ndjson");

    // The end state to reach: the same events imported without a fault.
    let clean_url = cluster.create_database("fengcun_clean").await;
    import(&seed, &clean_url, &config_file);
    let started = Instant::now();
    import(&events, &clean_url, &config_file);
    eprintln!("a clean import took {:?}", started.elapsed());
    let clean = fengcun_store::open(&clean_url, fengcun_store::Keys::new(master.clone()))
        .await
        .unwrap();
    let clean_states = clean.states().await.unwrap();
    let clean_events = clean.events().await.unwrap().len();
    drop(clean);

    for round in 0..rounds {
        let started = Instant::now();
        let url = cluster
            .create_database(&format!("fengcun_fault_{round}"))
            .await;
        import(&seed, &url, &config_file);
        let config = fengcun_server::Config::load(Some(&config_file), std::iter::empty()).unwrap();
        let mut config = config;
        config.database = url.clone();
        let store = Arc::new(
            fengcun_store::open(&url, fengcun_store::Keys::new(master.clone()))
                .await
                .unwrap(),
        );
        let clock = Arc::new(fengcun_server::FixedClock::new(NOW.parse().unwrap()));
        let running = fengcun_server::start_with_store(config, store.clone(), clock)
            .await
            .unwrap();
        let base = format!("http://{}", running.address);

        // What the answers say with the database up.
        let http = reqwest::Client::new();
        let mut recorded = None;
        for person in PERSONS {
            let (_, body) = request(&http, &base, LOOKUP, person).await;
            if body["answer"] == "records" {
                recorded = Some(person);
                break;
            }
        }
        let recorded = recorded.expect("a person of the examples a police clerk sees");
        let mut expected = Vec::new();
        for kind in [LOOKUP, CERTIFICATE, HEALTH] {
            let (status, body) = request(&http, &base, kind, recorded).await;
            assert!(status == 200 || status == 201, "{status} {body}");
            expected.push(shape(kind, &body));
        }
        assert_eq!(expected[LOOKUP]["answer"], "records", "{expected:?}");
        assert_eq!(expected[CERTIFICATE]["result"], "no_criminal_record");
        let expected = Arc::new(expected);

        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Seen::default());
        let loads: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn(load(
                    base.clone(),
                    recorded,
                    stop.clone(),
                    seen.clone(),
                    expected.clone(),
                ))
            })
            .collect();
        let stderr = dir.join(format!("import-{round}.log"));
        let mut child = fengcun(
            &[
                "import",
                events.to_str().unwrap(),
                "--database",
                &url,
                "--batch",
                "200",
                "--now",
                NOW,
            ],
            &config_file,
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();

        // Down once the import has committed a few batches.
        let watcher = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let seeded = clean_events; // an upper bound the import reaches only at its end
        until(
            "the import to commit batches",
            Duration::from_secs(120),
            || {
                let watcher = watcher.clone();
                async move {
                    sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM event_ids")
                        .fetch_one(&watcher)
                        .await
                        .is_ok_and(|(n,)| n >= 35 + 600)
                }
            },
        )
        .await;
        watcher.close().await;
        let (before_lookups, before_certificates) = (
            count(&seen.unavailable, LOOKUP),
            count(&seen.unavailable, CERTIFICATE),
        );
        let mode = if round % 2 == 0 { "fast" } else { "immediate" };
        cluster.stop(mode);
        let down = Instant::now();
        until(
            "503s while the database is down",
            Duration::from_secs(120),
            || {
                let seen = seen.clone();
                async move {
                    let wrong = seen.wrong.lock().unwrap().clone();
                    assert!(wrong.is_empty(), "answers neither right nor 503: {wrong:?}");
                    count(&seen.unavailable, LOOKUP) >= before_lookups + 2
                        && count(&seen.unavailable, CERTIFICATE) >= before_certificates + 2
                        && count(&seen.unavailable, HEALTH) >= 1
                }
            },
        )
        .await;
        let (ok_lookups, ok_certificates) = (count(&seen.ok, LOOKUP), count(&seen.ok, CERTIFICATE));
        cluster.start();
        let up = Instant::now();
        // The server connects again by itself.
        until(
            "answers after the restart",
            Duration::from_secs(120),
            || {
                let seen = seen.clone();
                async move {
                    count(&seen.ok, LOOKUP) > ok_lookups
                        && count(&seen.ok, CERTIFICATE) > ok_certificates
                }
            },
        )
        .await;
        let reconnected = up.elapsed();
        // The import goes on and finishes.
        let status = {
            let limit = Instant::now() + Duration::from_secs(600);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(Instant::now() < limit, "the import did not finish");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let log = std::fs::read_to_string(&stderr).unwrap();
        assert!(status.success(), "import: {log}");
        assert!(
            log.contains("the database answers again; going on"),
            "the import was not interrupted: {log}"
        );
        stop.store(true, Ordering::Relaxed);
        for task in loads {
            task.await.unwrap();
        }
        running.stop();
        let wrong = seen.wrong.lock().unwrap().clone();
        assert!(wrong.is_empty(), "answers neither right nor 503: {wrong:?}");

        // The same end state as the clean import.
        let faulted = fengcun_store::open(&url, fengcun_store::Keys::new(master.clone()))
            .await
            .unwrap();
        assert_eq!(faulted.events().await.unwrap().len(), seeded);
        assert_eq!(faulted.states().await.unwrap(), clean_states);
        eprintln!(
            "round {round} ({mode} stop): {:?} in all; down {:?}; answers again {:?} after the start; \
             lookups {} answered / {} 503, certificates {} / {}",
            started.elapsed(),
            up - down,
            reconnected,
            count(&seen.ok, LOOKUP),
            count(&seen.unavailable, LOOKUP),
            count(&seen.ok, CERTIFICATE),
            count(&seen.unavailable, CERTIFICATE),
        );
    }
}
