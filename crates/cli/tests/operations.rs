//! `fengcun backup`, `fengcun restore` and `fengcun keys rotate-master` on an SQLite database, as
//! an operator runs them (docs/operations.md). Both engines are drilled in the store's
//! tests/operations.rs and the fault test.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory of the test's own, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("fengcun-ops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn fengcun(config: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fengcun"));
    for (name, _) in std::env::vars() {
        if name.starts_with("FENGCUN_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("FENGCUN_CONFIG", config)
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

fn config(dir: &Path, name: &str, database: &Path, master: &Path) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "database = \"sqlite://{}\"\nmaster_key_file = \"{}\"\n",
            database.display(),
            master.display()
        ),
    )
    .unwrap();
    path
}

fn events() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.ndjson")
}

fn import(config: &Path) -> Output {
    fengcun(
        config,
        &[
            "import",
            events().to_str().unwrap(),
            "--now",
            "2026-12-01T00:00:00Z",
        ],
    )
}

#[test]
fn a_backup_restores_and_a_master_key_rotation_resumes_and_retires_the_old_key() {
    let scratch = scratch("rotate");
    let dir = &scratch.0;
    let database = dir.join("fengcun.sqlite");
    let old = config(dir, "old.toml", &database, &dir.join("old.key"));
    let stored = import(&old);
    assert!(stored.status.success(), "{}", text(&stored));
    assert!(text(&stored).contains("35 stored"), "{}", text(&stored));

    // A backup, while nothing else runs; never over a file that is there.
    let backup = dir.join("backup.sqlite");
    let out = fengcun(&old, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // It holds every wrapped key and password hash: its owner's only, from the first byte.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let again = fengcun(&old, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("is there already"),
        "{}",
        text(&again)
    );

    // The rotation, stopped after three keys, then run again to the end.
    let new_key = dir.join("new.key");
    let rotate = |limit: Option<&str>| {
        let mut args = vec![
            "keys",
            "rotate-master",
            "--new-key-file",
            new_key.to_str().unwrap(),
            "--wait-seconds",
            "0",
        ];
        if let Some(limit) = limit {
            args.extend(["--limit", limit]);
        }
        fengcun(&old, &args)
    };
    let first = rotate(Some("3"));
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("made a new master key"),
        "{}",
        text(&first)
    );
    assert!(
        text(&first).contains("stopped at --limit"),
        "{}",
        text(&first)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let second = rotate(None);
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("finished"), "{}", text(&second));
    // The same command once more, as an operator unsure it ended: it says the rotation is done
    // and what to do, rather than that the configured key is retired.
    let third = rotate(None);
    assert!(third.status.success(), "{}", text(&third));
    assert!(
        text(&third).contains("is finished already: set master_key_file to"),
        "{}",
        text(&third)
    );

    // The old key is refused; the new one reads every event again (all duplicates).
    let refused = import(&old);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("retired"), "{}", text(&refused));
    let new = config(dir, "new.toml", &database, &new_key);
    let duplicates = import(&new);
    assert!(duplicates.status.success(), "{}", text(&duplicates));
    assert!(
        text(&duplicates).contains("0 stored, 35 duplicates"),
        "{}",
        text(&duplicates)
    );
    let verified = fengcun(&new, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));

    // The backup, from before the rotation, restores with the key it was made with.
    let restored = dir.join("restored.sqlite");
    let at = config(dir, "restored.toml", &restored, &dir.join("old.key"));
    let out = fengcun(&at, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let over = fengcun(&at, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(!over.status.success());
    assert!(
        text(&over).contains("a database is there"),
        "{}",
        text(&over)
    );
    let replayed = import(&at);
    assert!(replayed.status.success(), "{}", text(&replayed));
    assert!(
        text(&replayed).contains("0 stored, 35 duplicates"),
        "{}",
        text(&replayed)
    );
}

/// An operator's slips fail and leave nothing behind: a mistyped database path is not made into
/// an empty database that is backed up, rotated or listed with success; a file that is no backup
/// (the empty one a failed backup once left, a key file) is not restored as a platform that
/// starts healthy and empty. A new database is its owner's only, as its backups are.
#[test]
fn a_mistyped_database_or_a_file_that_is_no_backup_is_refused() {
    let scratch = scratch("slips");
    let dir = &scratch.0;
    let database = dir.join("fengcun.sqlite");
    let real = config(dir, "real.toml", &database, &dir.join("master.key"));
    let stored = import(&real);
    assert!(stored.status.success(), "{}", text(&stored));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&database).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the live database: {mode:o}");
    }

    let typo = dir.join("fengcun.sqllite");
    let mistyped = config(dir, "typo.toml", &typo, &dir.join("master.key"));
    let backup = dir.join("nightly.sqlite");
    let new_key = dir.join("new.key");
    for args in [
        vec!["backup", "--out", backup.to_str().unwrap()],
        vec!["keys", "signing"],
        vec![
            "keys",
            "rotate-master",
            "--new-key-file",
            new_key.to_str().unwrap(),
            "--wait-seconds",
            "0",
        ],
    ] {
        let out = fengcun(&mistyped, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("no such database"),
            "{args:?}: {}",
            text(&out)
        );
        assert!(!typo.exists(), "{args:?} made {}", typo.display());
        assert!(!backup.exists() && !new_key.exists(), "{args:?}");
    }

    let empty = dir.join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    let key_file = dir.join("master.key");
    for not_a_backup in [&empty, &key_file] {
        let target = dir.join("restored.sqlite");
        let at = config(dir, "restored.toml", &target, &dir.join("master.key"));
        let out = fengcun(&at, &["restore", "--from", not_a_backup.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            text(&out).contains("not a fengcun backup"),
            "{}",
            text(&out)
        );
        assert!(!target.exists(), "{} was restored", not_a_backup.display());
    }
}

/// `serve` on a port that is taken stops before it writes anything: no database, no master key
/// (the address is bound first).
#[test]
fn serve_on_a_port_in_use_writes_nothing() {
    let dir = scratch("port-in-use");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let database = dir.0.join("new.sqlite");
    let master = dir.0.join("keys/master.key");
    let config = config(&dir.0, "fengcun.toml", &database, &master);
    let listen = format!("127.0.0.1:{port}");
    let output = fengcun(&config, &["serve", "--listen", &listen]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains(&format!("cannot listen on {listen}")),
        "{}",
        text(&output)
    );
    assert!(!database.exists(), "no database made");
    assert!(!master.exists(), "no master key made");
    drop(taken);
}
