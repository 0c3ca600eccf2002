//! `fengcun audit verify` against someone with write access to the database: audit rows are
//! changed, deleted, reordered and truncated directly with SQL, on SQLite and (when
//! `FENGCUN_TEST_DATABASE_URL` is set, as `.ci/run` does) on PostgreSQL, and every change is
//! caught, naming the entry. Also: proofs from the CLI check with only the public key, and a
//! proof for a wrong entry or head fails.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::Executor;

const MASTER_KEY: &str = "8f3a1c5e7b9d0f2a4c6e8a0b2d4f6a8c0e2a4b6d8f0a2c4e6b8d0f2a4c6e8a0b";

fn events_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.ndjson")
}

fn fengcun(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(args)
        .current_dir(dir)
        .env("FENGCUN_MASTER_KEY", MASTER_KEY)
        .env("FENGCUN_SIGNING_KEY_FILE", dir.join("signing.pem"))
        .env_remove("FENGCUN_CONFIG")
        .output()
        .expect("run fengcun")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A database with an audit log of the demo events' transitions and one signed head over all of
/// it; the head is also kept outside, in `heads.txt`.
struct Log {
    dir: PathBuf,
    url: String,
    entries: u64,
}

impl Log {
    fn verify(&self, extra: &[&str]) -> Output {
        let mut args = vec!["audit", "verify", "--database", &self.url];
        args.extend_from_slice(extra);
        fengcun(&self.dir, &args)
    }

    async fn sql(&self, statements: &str) {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .unwrap();
        conn.execute(statements).await.unwrap();
    }

    async fn bind_sql(&self, statement: &str, value: &str) {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .unwrap();
        sqlx::query(statement)
            .bind(value)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

fn signing_key(dir: &Path, suite: fengcun_crypto::Suite) {
    // Written once per directory, in PKCS#8, as an operator would provide it: readable by its
    // owner only (a key file others may read is refused).
    let key = fengcun_crypto::SigningKey::generate(suite);
    std::fs::write(
        dir.join("signing.pem"),
        key.to_pkcs8_pem().unwrap().as_bytes(),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            dir.join("signing.pem"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    std::fs::write(dir.join("signing.pub.pem"), key.verifying_key().to_text()).unwrap();
}

async fn log(backend: &str, scenario: &str) -> Log {
    log_signed_with(backend, scenario, fengcun_crypto::Suite::Sm).await
}

/// A log written by the platform (SM3, its master key's suite), its head signed with a key of
/// `suite`.
async fn log_signed_with(backend: &str, scenario: &str, suite: fengcun_crypto::Suite) -> Log {
    let dir = std::env::temp_dir().join(format!(
        "fengcun-audit-{backend}-{scenario}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    signing_key(&dir, suite);
    let url = match backend {
        "sqlite" => format!("sqlite://{}", dir.join("log.sqlite").display()),
        _ => fresh_postgres(scenario).await,
    };
    let events = events_file();
    let imported = fengcun(
        &dir,
        &[
            "import",
            events.to_str().unwrap(),
            "--database",
            &url,
            "--now",
            "2026-12-01T00:00:00Z",
        ],
    );
    assert!(imported.status.success(), "{}", text(&imported));
    let signed = fengcun(&dir, &["audit", "sign", "--database", &url]);
    assert!(signed.status.success(), "{}", text(&signed));
    let heads = fengcun(&dir, &["audit", "heads", "--database", &url]);
    std::fs::write(dir.join("heads.txt"), &heads.stdout).unwrap();
    let entries =
        serde_json::from_str::<serde_json::Value>(String::from_utf8_lossy(&signed.stdout).trim())
            .unwrap()["size"]
            .as_u64()
            .unwrap();
    assert!(entries >= 10, "the demo gives {entries} audit entries");
    Log { dir, url, entries }
}

async fn fresh_postgres(scenario: &str) -> String {
    let url = std::env::var("FENGCUN_TEST_DATABASE_URL").unwrap();
    sqlx::any::install_default_drivers();
    let name = format!("fengcun_audit_{scenario}_{}", std::process::id());
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = url.rsplit_once('/').map(|(base, _)| base).unwrap();
    format!("{base}/{name}")
}

fn backends() -> Vec<&'static str> {
    let mut backends = vec!["sqlite"];
    if std::env::var("FENGCUN_TEST_DATABASE_URL").is_ok() {
        backends.push("postgres");
    } else {
        eprintln!("SKIPPED PostgreSQL: FENGCUN_TEST_DATABASE_URL is not set (.ci/run sets it)");
    }
    backends
}

/// Asserts that verification fails and that its message says `expected`.
fn caught(log: &Log, extra: &[&str], expected: &str, what: &str) {
    let output = log.verify(extra);
    let said = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{what}: verification passed:\n{said}"
    );
    assert!(
        said.contains(expected),
        "{what}: expected `{expected}` in:\n{said}"
    );
}

async fn scenarios(backend: &str) {
    // Untouched: verifies, signatures included.
    let untouched = log(backend, "untouched").await;
    let output = untouched.verify(&["--public-key", "signing.pub.pem", "--against", "heads.txt"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("signatures checked: 2"),
        "{}",
        text(&output)
    );

    // A mistyped path is an error, not an empty log that verifies.
    let missing = fengcun(
        &untouched.dir,
        &["audit", "verify", "--database", "sqlite://no-such.sqlite"],
    );
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(
        text(&missing).contains("no such database"),
        "{}",
        text(&missing)
    );

    // A changed column: the actor of entry 3.
    let changed = log(backend, "changed").await;
    changed
        .sql("UPDATE audit_entries SET actor = 'nobody' WHERE seq = 3")
        .await;
    caught(&changed, &[], "entry 3 was altered", "changed actor");

    // A changed detail, deep in the JSON: entry 5 was decided under another policy. Stored
    // compressed (migration 19), it is changed where it can be read and written in SQL: written
    // back in the clear column, as a row of before the migration holds it.
    let detail = log(backend, "detail").await;
    let altered = detail
        .audit_entry(5)
        .await
        .5
        .replace("cn-minor-opt1", "cn-minor-opt3");
    detail
        .bind_sql(
            "UPDATE audit_entries SET detail = $1, detail_packed = NULL WHERE seq = 5",
            &altered,
        )
        .await;
    caught(&detail, &[], "entry 5 was altered", "changed detail");

    // A changed detail in its compressed column: it does not read back, and the entry is named.
    let packed = log(backend, "packed").await;
    packed
        .sql(&format!(
            "UPDATE audit_entries SET detail_packed = {} WHERE seq = 5",
            blob_literal(backend, &[0, 4, 0xff, 0xff])
        ))
        .await;
    caught(&packed, &[], "entry 5 was altered", "changed packed detail");

    // A deleted row in the middle.
    let deleted = log(backend, "deleted").await;
    deleted.sql("DELETE FROM audit_entries WHERE seq = 4").await;
    caught(&deleted, &[], "entry 4 is missing", "deleted entry");

    // Two rows swapped (their sequence numbers exchanged, everything else kept).
    let reordered = log(backend, "reordered").await;
    reordered
        .sql(
            "UPDATE audit_entries SET seq = -1 WHERE seq = 2; \
             UPDATE audit_entries SET seq = 2 WHERE seq = 6; \
             UPDATE audit_entries SET seq = 6 WHERE seq = -1",
        )
        .await;
    caught(&reordered, &[], "entry 2 was altered", "reordered entries");

    // The last entries removed: the stored head says the log was longer.
    let truncated = log(backend, "truncated").await;
    let keep = truncated.entries - 3;
    truncated
        .sql(&format!("DELETE FROM audit_entries WHERE seq >= {keep}"))
        .await;
    caught(
        &truncated,
        &[],
        &format!(
            "it has {keep} entries but a signed tree head has {}",
            truncated.entries
        ),
        "truncated, stored head kept",
    );

    // Truncated, and the stored heads removed and the tip rewound too: only the head kept outside
    // the database sees it.
    let hidden = log(backend, "hidden").await;
    let keep = hidden.entries - 2;
    hidden
        .sql(&format!(
            "DELETE FROM audit_entries WHERE seq >= {keep}; DELETE FROM tree_heads"
        ))
        .await;
    let alone = hidden.verify(&[]);
    assert!(
        alone.status.success(),
        "without any head the truncation cannot be seen: {}",
        text(&alone)
    );
    caught(
        &hidden,
        &["--against", "heads.txt", "--public-key", "signing.pub.pem"],
        "the log was truncated",
        "truncated, heads deleted, outside head given",
    );

    // Someone who also recomputes the leaf hash of the row they change: the head's root still
    // catches it, and the entry is named as the first that no longer matches.
    let forged = log(backend, "forged").await;
    let entry = forged.audit_entry(7).await;
    let json = |v: &Option<String>| serde_json::to_string(v).unwrap();
    let forged_bytes = format!(
        "{{\"seq\":7,\"at\":{},\"kind\":{},\"actor\":\"forger\",\"purpose\":{},\"outcome\":{},\"subject\":{},\"detail\":{}}}",
        serde_json::to_string(&entry.0).unwrap(),
        serde_json::to_string(&entry.1).unwrap(),
        json(&entry.2),
        serde_json::to_string(&entry.3).unwrap(),
        json(&entry.4),
        serde_json::to_string(&entry.5).unwrap(),
    );
    let forged_leaf =
        fengcun_ledger::Hasher::new(fengcun_crypto::Suite::Sm).leaf_hash(forged_bytes.as_bytes());
    forged
        .sql(&format!(
            "UPDATE audit_entries SET actor = 'forger', leaf_hash = {} WHERE seq = 7",
            blob_literal(backend, forged_leaf.as_bytes())
        ))
        .await;
    caught(
        &forged,
        &[],
        "leaf hashes were rewritten too",
        "forged leaf hash",
    );

    // A forged head (signed with another key) is refused when the public key is given.
    let other = log(backend, "otherkey").await;
    let stranger = fengcun_crypto::SigningKey::generate(fengcun_crypto::Suite::Sm);
    std::fs::write(
        other.dir.join("stranger.pub.pem"),
        stranger.verifying_key().to_text(),
    )
    .unwrap();
    caught(
        &other,
        &["--public-key", "stranger.pub.pem"],
        "is not validly signed",
        "head checked with the wrong key",
    );
    // A head brought from another deployment fails as the head given, not as the log's own:
    // the auditor must not read it as the stored heads being forged.
    std::fs::copy(
        untouched.dir.join("heads.txt"),
        other.dir.join("theirs.txt"),
    )
    .unwrap();
    let output = other.verify(&["--public-key", "signing.pub.pem", "--against", "theirs.txt"]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("given to check against (--against) is not validly signed")
            && !said.contains("stored tree head")
            && said.contains("entries not read"),
        "{said}"
    );
}

impl Log {
    /// (at, kind, purpose, outcome, subject, detail) of an entry.
    async fn audit_entry(
        &self,
        seq: i64,
    ) -> (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
    ) {
        // Read through the store: subject and detail are stored packed (migration 19).
        use fengcun_store::AuditStore;
        let store = fengcun_store::open_without_master_key(&self.url, fengcun_crypto::Suite::Sm)
            .await
            .unwrap();
        let entry = store
            .audit_entries(u64::try_from(seq).unwrap(), 1)
            .await
            .unwrap()
            .pop()
            .unwrap();
        (
            entry.at,
            entry.kind.code().to_owned(),
            entry.purpose,
            entry.outcome,
            entry.subject,
            entry.detail,
        )
    }
}

fn blob_literal(backend: &str, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match backend {
        "sqlite" => format!("X'{hex}'"),
        _ => format!("'\\x{hex}'::bytea"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_catches_every_change_made_with_sql() {
    sqlx::any::install_default_drivers();
    for backend in backends() {
        scenarios(backend).await;
    }
}

/// An Ed25519 signing key over the platform's SM3 log: the head is of the log's hash (SM3), signed
/// with Ed25519, and verifies. (The head was once hashed with the key's suite, SHA-256, over SM3
/// nodes, and every later verification failed.)
#[tokio::test(flavor = "multi_thread")]
async fn an_ed25519_key_signs_heads_of_the_sm3_log_that_verify() {
    sqlx::any::install_default_drivers();
    for backend in backends() {
        let log = log_signed_with(backend, "ed25519", fengcun_crypto::Suite::International).await;
        let heads = std::fs::read_to_string(log.dir.join("heads.txt")).unwrap();
        let head: serde_json::Value = serde_json::from_str(heads.lines().next().unwrap()).unwrap();
        assert_eq!(
            (&head["hash"], &head["signature_algorithm"]),
            (&serde_json::json!("sm3"), &serde_json::json!("ed25519")),
            "{backend}: {heads}"
        );
        let output = log.verify(&["--public-key", "signing.pub.pem", "--against", "heads.txt"]);
        assert!(output.status.success(), "{backend}: {}", text(&output));
        assert!(
            text(&output).contains("signatures checked: 2"),
            "{backend}: {}",
            text(&output)
        );
    }
}

#[test]
fn proofs_check_with_only_the_public_key_and_fail_for_a_wrong_entry_or_head() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log = runtime.block_on(log("sqlite", "proofs"));
    let dir = &log.dir;
    let heads = std::fs::read_to_string(dir.join("heads.txt")).unwrap();
    let first = heads.lines().next().unwrap().to_owned();
    std::fs::write(dir.join("head1.txt"), &first).unwrap();
    let size = log.entries.to_string();

    for index in 0..log.entries {
        let proof = fengcun(
            dir,
            &[
                "audit",
                "prove",
                "--database",
                &log.url,
                "--index",
                &index.to_string(),
                "--size",
                &size,
            ],
        );
        assert!(proof.status.success(), "{}", text(&proof));
        std::fs::write(dir.join("proof.json"), &proof.stdout).unwrap();
        let checked = fengcun(
            dir,
            &[
                "audit",
                "check",
                "proof.json",
                "--head",
                "head1.txt",
                "--public-key",
                "signing.pub.pem",
            ],
        );
        assert!(
            checked.status.success(),
            "entry {index}: {}",
            text(&checked)
        );
    }

    // The proof of entry 1 presented for entry 2: fails.
    let proof = fengcun(
        dir,
        &[
            "audit",
            "prove",
            "--database",
            &log.url,
            "--index",
            "1",
            "--size",
            &size,
        ],
    );
    let mut value: serde_json::Value = serde_json::from_slice(&proof.stdout).unwrap();
    value["index"] = serde_json::json!(2);
    std::fs::write(dir.join("wrong.json"), value.to_string()).unwrap();
    let checked = fengcun(
        dir,
        &[
            "audit",
            "check",
            "wrong.json",
            "--head",
            "head1.txt",
            "--public-key",
            "signing.pub.pem",
        ],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));

    // A head with one byte of its root changed: its signature fails.
    let at = first.find("\"root\":\"").unwrap() + 8;
    let flipped = if &first[at..=at] == "0" { "1" } else { "0" };
    let altered = format!("{}{flipped}{}", &first[..at], &first[at + 1..]);
    std::fs::write(dir.join("bad-head.txt"), &altered).unwrap();
    std::fs::write(dir.join("proof.json"), &proof.stdout).unwrap();
    let checked = fengcun(
        dir,
        &[
            "audit",
            "check",
            "proof.json",
            "--head",
            "bad-head.txt",
            "--public-key",
            "signing.pub.pem",
        ],
    );
    assert_ne!(checked.status.code(), Some(0), "{}", text(&checked));
}
