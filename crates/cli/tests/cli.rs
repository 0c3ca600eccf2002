//! The `fengcun` binary, run as a user runs it.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fengcun(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fengcun");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

#[test]
fn the_readme_command_decides_every_example_record() {
    let output = fengcun(
        &[
            "evaluate",
            "--policy",
            "cn-minor-opt1",
            "--as-of",
            "2026-11-26",
            "examples/records.ndjson",
        ],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decisions = lines(&output);
    let examples = std::fs::read_to_string(workspace().join("examples/records.ndjson")).unwrap();
    assert_eq!(decisions.len(), examples.lines().count());
    let outcome = |id: &str| {
        decisions
            .iter()
            .find(|d| d["record_id"] == id)
            .map(|d| d["outcome"].as_str().unwrap().to_owned())
    };
    // Worked by hand: EX-01 drunk driving 拘役 (seal), EX-04 fraud 18 months (too long),
    // EX-05 drug sale (excluded), EX-07 recidivist, EX-08 not prosecuted, EX-11 history unknown.
    assert_eq!(outcome("EX-01").as_deref(), Some("seal"));
    assert_eq!(outcome("EX-04").as_deref(), Some("not_eligible"));
    assert_eq!(outcome("EX-05").as_deref(), Some("not_eligible"));
    assert_eq!(outcome("EX-07").as_deref(), Some("not_eligible"));
    assert_eq!(outcome("EX-08").as_deref(), Some("seal"));
    assert_eq!(outcome("EX-11").as_deref(), Some("needs_facts"));
    for d in &decisions {
        assert_eq!(d["policy"], "cn-minor-opt1");
        assert_eq!(d["policy_version"], "2");
        assert!(!d["reasons"].as_array().unwrap().is_empty());
    }
}

#[test]
fn output_is_byte_identical_across_runs_and_stdin_equals_file() {
    let args = [
        "evaluate",
        "--policy",
        "cn-minor-tiered",
        "--policy",
        "cn-juvenile",
        "--as-of",
        "2026-01-01",
        "examples/records.ndjson",
    ];
    let first = fengcun(&args, None);
    let second = fengcun(&args, None);
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
    let text = std::fs::read_to_string(workspace().join("examples/records.ndjson")).unwrap();
    let piped = fengcun(
        &[
            "evaluate",
            "--policy",
            "cn-minor-tiered",
            "--policy",
            "cn-juvenile",
            "--as-of",
            "2026-01-01",
            "-",
        ],
        Some(&text),
    );
    assert_eq!(first.stdout, piped.stdout);
}

#[test]
fn bad_lines_are_reported_with_line_and_field_and_the_rest_still_decided() {
    let input = [
        r#"{"record_id":"A","disposition":"not_prosecuted","disposition_date":"2024-01-02"}"#,
        r#"{"record_id":"B","disposition":"convicted","charges":[{"name":"盗窃罪"}],"sentence":{"principal":"criminal_detention","months":7}}"#,
        "",
        r#"{"record_id":"C","disposition":"convicted","charges":[{"name":"不存在罪"}],"sentence":{"principal":"fixed_term","months":7}}"#,
        r#"not json"#,
        r#"{"record_id":"D","disposition":"case_withdrawn","disposition_date":"2024-01-03"}"#,
    ]
    .join("\n");
    let output = fengcun(
        &[
            "evaluate",
            "--policy",
            "cn-minor-opt2",
            "--as-of",
            "2026-01-01",
        ],
        Some(&input),
    );
    assert_eq!(output.status.code(), Some(1));
    let ids: Vec<String> = lines(&output)
        .iter()
        .map(|d| d["record_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["A", "D"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("<stdin>:2: field `sentence.months`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("<stdin>:4: field `charges[0].name`: unknown charge `不存在罪`"),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:5:"), "{stderr}");
    assert!(
        stderr.contains("3 line(s) could not be evaluated"),
        "{stderr}"
    );
}

#[test]
fn policy_commands() {
    let list = fengcun(&["policy", "list"], None);
    let list = String::from_utf8(list.stdout).unwrap();
    for name in [
        "cn-juvenile",
        "cn-minor-opt1",
        "cn-minor-tiered",
        "cn-pilot-light-penalty",
        "uk-rehabilitation-2023",
    ] {
        assert!(list.contains(name), "{list}");
    }
    let show = fengcun(&["policy", "show", "cn-minor-opt3"], None);
    assert_eq!(
        String::from_utf8(show.stdout).unwrap(),
        std::fs::read_to_string(workspace().join("data/policies/cn-minor-opt3.toml")).unwrap()
    );
    let check = fengcun(
        &["policy", "check", "data/policies/cn-minor-opt1.toml"],
        None,
    );
    assert!(check.status.success());

    let dir = std::env::temp_dir().join(format!("fengcun-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.toml");
    let text =
        std::fs::read_to_string(workspace().join("data/policies/cn-minor-opt2.toml")).unwrap();
    std::fs::write(&broken, text.replace("months = 12 }", "month = 12 }")).unwrap();
    let check = fengcun(&["policy", "check", broken.to_str().unwrap()], None);
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8(check.stderr).unwrap();
    assert!(
        stderr.contains("broken.toml:") && stderr.contains("month"),
        "{stderr}"
    );
    // A policy file under review can be evaluated directly.
    let own = dir.join("own.toml");
    std::fs::write(&own, text.replace("cn-minor-opt2", "review-draft")).unwrap();
    let output = fengcun(
        &[
            "evaluate",
            "--policy",
            own.to_str().unwrap(),
            "--as-of",
            "2026-01-01",
            "examples/records.ndjson",
        ],
        None,
    );
    assert!(output.status.success());
    assert_eq!(lines(&output)[0]["policy"], "review-draft");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unknown_policy_is_a_clear_error() {
    let output = fengcun(
        &[
            "evaluate",
            "--policy",
            "cn-minor-opt9",
            "examples/records.ndjson",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no policy `cn-minor-opt9`") && stderr.contains("cn-minor-opt1"),
        "{stderr}"
    );
}

/// A missing or mistyped key file must not start a second, unreadable set of records beside the
/// first: the import is refused, naming the cause, and nothing is stored.
#[test]
fn an_import_with_another_master_key_is_refused() {
    let dir = scratch("key");
    let database = format!("sqlite://{}", dir.join("store.sqlite").display());
    let import = |key: &str| {
        import_with_key(
            &workspace(),
            key,
            &["examples/events.ndjson", "--database", &database],
        )
    };
    let ours = "11".repeat(32);
    let first = import(&ours);
    assert!(first.status.success(), "{first:?}");
    let other = import(&"22".repeat(32));
    assert_eq!(other.status.code(), Some(1), "{other:?}");
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(said.contains("master key"), "{said}");
    let again = import(&ours);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.status.success() && said.contains("0 stored"),
        "{said}"
    );
}

/// A file saved with a byte-order mark imports whole; a missing file or a directory is named, and
/// leaves no database or key behind.
#[test]
fn import_reads_a_byte_order_mark_and_names_a_bad_input_before_touching_the_store() {
    let dir = scratch("input");
    let examples = std::fs::read(workspace().join("examples/events.ndjson")).unwrap();
    let lines = examples
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let bom = dir.join("bom.ndjson");
    std::fs::write(&bom, [b"\xEF\xBB\xBF".as_slice(), &examples].concat()).unwrap();
    let import = |file: &std::path::Path, database: &str| {
        import_with_key(
            &dir,
            &"33".repeat(32),
            &[file.to_str().unwrap(), "--database", database],
        )
    };
    let stored = import(&bom, "sqlite://bom.sqlite");
    let said = String::from_utf8_lossy(&stored.stderr);
    assert!(
        stored.status.success()
            && said.contains(&format!("{lines} stored, 0 duplicates, 0 errors")),
        "{said}"
    );
    // A line far longer than any event is reported by its number, not parsed.
    let long = dir.join("long.ndjson");
    let first_line = examples.split(|b| *b == b'\n').next().unwrap();
    let mut content = first_line.to_vec();
    content.extend_from_slice(b"\n{\"idempotency_key\": \"");
    content.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    content.extend_from_slice(b"\"}\n");
    std::fs::write(&long, content).unwrap();
    let reported = import(&long, "sqlite://long.sqlite");
    let said = String::from_utf8_lossy(&reported.stderr);
    assert!(
        reported.status.code() == Some(1)
            && said.contains("long.ndjson:2: the line has")
            && said.contains("1 stored"),
        "{said}"
    );
    for (input, expected) in [
        (dir.join("no-such.ndjson"), "no-such.ndjson"),
        (dir.clone(), "is a directory"),
    ] {
        let refused = import(&input, "sqlite://fresh.sqlite");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && said.contains(expected),
            "{said}"
        );
        assert!(!dir.join("fresh.sqlite").exists(), "{said}");
    }
}

/// The file is read and parsed on a thread of its own, a thousand lines a message: a line that is
/// not an event is still reported by its own number, blank lines are skipped, and every event
/// after them is stored — across many messages, and across batches smaller than a message.
#[test]
fn import_names_each_bad_line_by_its_number_far_into_the_file() {
    let dir = scratch("far-lines");
    let examples = std::fs::read_to_string(workspace().join("examples/events.ndjson")).unwrap();
    let events: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut file = String::new();
    file.push_str(&events.join("\n"));
    file.push('\n');
    file.push_str(&"\n".repeat(1500));
    file.push_str("{not json\n");
    let not_json = events.len() + 1500 + 1;
    file.push_str(&"  \n".repeat(1000));
    file.push_str(&events.join("\n"));
    file.push('\n');
    file.push_str("{}\n");
    let empty_object = not_json + 1000 + events.len() + 1;
    std::fs::write(dir.join("far.ndjson"), &file).unwrap();
    for batch in ["7", "1000"] {
        let database = format!("sqlite://far-{batch}.sqlite");
        let output = import_with_key(
            &dir,
            &"44".repeat(32),
            &["far.ndjson", "--database", &database, "--batch", batch],
        );
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{said}");
        assert!(said.contains(&format!("far.ndjson:{not_json}: ")), "{said}");
        assert!(
            said.contains(&format!("far.ndjson:{empty_object}: ")),
            "{said}"
        );
        assert_eq!(said.matches("far.ndjson:").count(), 3, "{said}");
        let n = events.len();
        assert!(
            said.contains(&format!(
                "far.ndjson: {empty_object} lines: {n} stored, {n} duplicates, 2 errors"
            )),
            "{said}"
        );
    }
}

/// `fengcun import` registers the configured agencies before its first line, so that an event
/// declaring another kind than its agency's configured one is refused rather than making the agency
/// that kind; an agency not configured is registered by its first line and keeps that kind.
#[test]
fn import_holds_events_to_the_configured_agency_kinds() {
    let dir = scratch("agency-kinds");
    std::fs::write(
        dir.join("fengcun.toml"),
        "[[agencies]]\ncode = \"110105-ga\"\nkind = \"public_security\"\n",
    )
    .unwrap();
    let case = "110105-2024-000777";
    let person = serde_json::json!({"id_number": "110105199003070025", "name": "张三"});
    let judgment = |key: &str, agency: serde_json::Value| {
        serde_json::json!({"idempotency_key": key, "kind": "judgment", "date": "2024-03-01", "case_code": case,
            "agency": agency, "person": person,
            "judgment": {"instance": "first", "verdict": "convicted", "charges": [{"name": "危险驾驶罪"}],
                         "sentence": {"principal": "criminal_detention", "months": 1}, "offence_date": "2024-01-02"}})
    };
    let lines = [
        // The configured police station, declaring itself a court on its first line.
        judgment(
            "ga-1",
            serde_json::json!({"kind": "court", "code": "110105-ga"}),
        ),
        serde_json::json!({"idempotency_key": "ga-2", "kind": "filed", "date": "2024-01-02", "case_code": case,
            "agency": {"kind": "public_security", "code": "110105-ga"}, "person": person,
            "charges": [{"name": "危险驾驶罪"}]}),
        // A court nobody configured: its first line registers it.
        judgment(
            "fy-1",
            serde_json::json!({"kind": "court", "code": "110106-fy"}),
        ),
        serde_json::json!({"idempotency_key": "fy-2", "kind": "filed", "date": "2024-01-03", "case_code": case,
            "agency": {"kind": "public_security", "code": "110106-fy"}, "person": person}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("events.ndjson"), text).unwrap();
    let output = import_with_key(
        &dir,
        &"33".repeat(32),
        &[
            "events.ndjson",
            "--config",
            "fengcun.toml",
            "--database",
            "sqlite://kinds.sqlite",
        ],
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("events.ndjson:1: field `agency.kind`: agency `110105-ga` is registered as `public_security`, not `court`")
            && said.contains("events.ndjson:4: field `agency.kind`: agency `110106-fy` is registered as `court`, not `public_security`")
            && said.contains("4 lines: 2 stored, 0 duplicates, 2 errors"),
        "{said}"
    );
}

/// The import's page cache (`--cache-mib`) is the operator's to set: a size it can take stores as
/// any other; a size it cannot is refused by name before a database is made.
#[test]
fn import_takes_a_page_cache_size_and_refuses_one_it_cannot_use() {
    let dir = scratch("cache-mib");
    let line = serde_json::json!({"idempotency_key": "ga-1", "kind": "filed", "date": "2024-01-02",
        "case_code": "110105-2024-000778", "agency": {"kind": "public_security", "code": "110105-ga"},
        "person": {"id_number": "110105199003070025", "name": "张三"}, "charges": [{"name": "危险驾驶罪"}]});
    std::fs::write(dir.join("events.ndjson"), format!("{line}\n")).unwrap();
    let key = "44".repeat(32);
    let refused = import_with_key(
        &dir,
        &key,
        &[
            "events.ndjson",
            "--database",
            "sqlite://refused.sqlite",
            "--cache-mib",
            "0",
        ],
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(said.contains("--cache-mib"), "{said}");
    assert!(
        !dir.join("refused.sqlite").exists(),
        "no database for a refused command"
    );
    let stored = import_with_key(
        &dir,
        &key,
        &[
            "events.ndjson",
            "--database",
            "sqlite://cache.sqlite",
            "--cache-mib",
            "64",
        ],
    );
    let said = String::from_utf8_lossy(&stored.stderr);
    assert_eq!(stored.status.code(), Some(0), "{said}");
    assert!(
        said.contains("1 lines: 1 stored, 0 duplicates, 0 errors"),
        "{said}"
    );
}

/// A new, empty directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fengcun-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `fengcun import ARGS` in `dir` under the master key `key`, with no other settings of the caller.
fn import_with_key(dir: &std::path::Path, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .arg("import")
        .args(args)
        .current_dir(dir)
        .env("FENGCUN_MASTER_KEY", key)
        .env_remove("FENGCUN_MASTER_KEY_FILE")
        .env_remove("FENGCUN_CONFIG")
        .output()
        .expect("run fengcun")
}

/// `fengcun import ARGS` in `dir` with none of the caller's settings: no `FENGCUN_*`, and `HOME`
/// (where the default master key lives) and the other variables given.
fn import_with_env(
    dir: &std::path::Path,
    env: &[(&str, &std::path::Path)],
    args: &[&str],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fengcun"));
    command.arg("import").args(args).current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("FENGCUN_") || name == "HOME" || name == "XDG_CONFIG_HOME" {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run fengcun")
}

fn events() -> String {
    workspace()
        .join("examples/events.ndjson")
        .display()
        .to_string()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A master key file its group or others may read is refused before the database is touched,
/// naming the file and the fix; once mended, the same file is used.
#[cfg(unix)]
#[test]
fn a_key_file_others_may_read_is_refused_and_nothing_is_stored() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("exposed-key");
    let key = dir.join("master.key");
    std::fs::write(&key, format!("{}\n", "44".repeat(32))).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let database = format!("sqlite://{}", dir.join("store.sqlite").display());
    let import = || {
        import_with_env(
            &dir,
            &[
                ("HOME", &dir.join("home")),
                ("FENGCUN_MASTER_KEY_FILE", &key),
            ],
            &[&events(), "--database", &database],
        )
    };
    let refused = import();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("chmod 600 {}", key.display())),
        "{said}"
    );
    assert!(
        !dir.join("store.sqlite").exists(),
        "nothing written: {said}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let stored = import();
    assert!(stored.status.success(), "{stored:?}");
}

/// With nothing configured, the master key is made outside the data directory — in the user's
/// configuration directory, readable by its owner only — not beside the database.
#[cfg(unix)]
#[test]
fn a_new_master_key_is_made_outside_the_data_directory() {
    let dir = scratch("new-key");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let database = format!("sqlite://{}", dir.join("data/store.sqlite").display());
    let stored = import_with_env(
        &dir,
        &[("HOME", &dir.join("home"))],
        &[&events(), "--database", &database],
    );
    let said = String::from_utf8_lossy(&stored.stderr);
    assert!(stored.status.success(), "{said}");
    assert!(said.contains("created a new master key"), "{said}");
    let key = dir.join("home/.config/fengcun/master.key");
    assert_eq!(mode(&key), 0o600, "{}", key.display());
    assert_eq!(mode(key.parent().unwrap()), 0o700);
    let beside: Vec<_> = std::fs::read_dir(dir.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("key"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

/// A deployment whose master key an earlier version made beside the database keeps it: it is
/// read there, with a warning to move it, and no second key is made.
#[test]
fn a_master_key_kept_beside_the_database_is_still_read_with_a_warning() {
    let dir = scratch("legacy-key");
    let database = format!("sqlite://{}", dir.join("store.sqlite").display());
    let beside = dir.join("store.sqlite.key");
    let first = import_with_env(
        &dir,
        &[
            ("HOME", &dir.join("home")),
            ("FENGCUN_MASTER_KEY_FILE", &beside),
        ],
        &[&events(), "--database", &database],
    );
    assert!(first.status.success(), "{first:?}");
    assert!(beside.exists());
    let again = import_with_env(
        &dir,
        &[("HOME", &dir.join("home"))],
        &[&events(), "--database", &database],
    );
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.status.success() && said.contains("0 stored"),
        "{said}"
    );
    assert!(
        said.contains("sits beside the database") && said.contains(&beside.display().to_string()),
        "{said}"
    );
    assert!(!dir.join("home/.config/fengcun/master.key").exists());
}

/// `fengcun demo`: every notice for an agency is delivered to the demo inbox and acknowledged by
/// that agency with its own key (acknowledging is for the notice's agency only; an operator key
/// is refused).
#[test]
fn the_demo_agencies_acknowledge_their_own_notices() {
    use std::io::BufRead;
    use std::sync::mpsc;
    let dir = scratch("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&dir)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fengcun demo");
    // Both streams are read on threads; the test waits on their lines, never on the clock
    // (the timeout only bounds a failure).
    let (sender, lines) = mpsc::channel::<(bool, String)>();
    for (is_log, stream) in [
        (
            false,
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        ),
        (true, Box::new(child.stderr.take().unwrap())),
    ] {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if sender.send((is_log, line)).is_err() {
                    break;
                }
            }
        });
    }
    let mut expected = None;
    let mut acknowledged = std::collections::BTreeSet::new();
    let outcome = loop {
        if expected.is_some_and(|n| acknowledged.len() == n) {
            break Ok(());
        }
        let Ok((is_log, line)) = lines.recv_timeout(std::time::Duration::from_secs(120)) else {
            break Err(format!(
                "gave up: {} of {expected:?} notices acknowledged",
                acknowledged.len()
            ));
        };
        if !is_log {
            if let Some((count, _)) = line.split_once(" notices for the agencies") {
                expected = Some(count.trim().parse::<usize>().unwrap());
            }
            continue;
        }
        if line.contains("demo agency received a notice") {
            if !line.contains("acknowledged=true") {
                break Err(format!("not acknowledged: {line}"));
            }
            let notice = line
                .split("notice=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap()
                .to_owned();
            acknowledged.insert(notice);
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap();
    assert!(expected.unwrap() > 0);

    // Each notice, kept as delivered, verifies offline with the demo's public key and reads as an
    // official document; a changed byte fails (issue 14, decision 7).
    let public = dir.join("demo.sqlite.signing.pub.pem");
    let mut delivered: Vec<PathBuf> = std::fs::read_dir(dir.join("inbox"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    delivered.sort();
    assert_eq!(delivered.len(), acknowledged.len(), "{delivered:?}");
    let verify = |file: &std::path::Path| {
        fengcun(
            &[
                "notice",
                "verify",
                &file.display().to_string(),
                "--public-key",
                &public.display().to_string(),
            ],
            None,
        )
    };
    for file in &delivered {
        let output = verify(file);
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}: {said}", file.display());
        assert!(
            said.starts_with("验证通过：签名有效，通知书内容未被改动。"),
            "{said}"
        );
        assert!(said.contains("签发机关：北京市朝阳区人民法院"), "{said}");
        assert!(said.contains("签名算法：SM2-SM3"), "{said}");
        assert!(said.contains("验证码："), "{said}");
        assert!(
            said.contains("\n北京市朝阳区人民法院\n"),
            "the authority signs at the foot: {said}"
        );
        assert!(
            !said.contains("根据《轻微犯罪记录封存"),
            "a preset's name is no instrument: {said}"
        );
    }
    let bytes = std::fs::read(&delivered[0]).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let at = text
        .find("予以封存")
        .or_else(|| text.find("解除封存"))
        .unwrap();
    let mut changed = bytes;
    changed[at] ^= 0x01;
    let altered = dir.join("altered.json");
    std::fs::write(&altered, &changed).unwrap();
    let output = verify(&altered);
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.starts_with("验证未通过"), "{said}");
}

/// A person's account is enrolled by whoever runs the installation (the API refuses it to an
/// administrator): the account is a person's, carries their name sealed, and its entry names who
/// checked the card; an existing username, a person who has an account already or a malformed
/// identity number is refused, naming it.
#[test]
fn a_person_is_enrolled_on_the_command_line_and_never_over_an_existing_account() {
    let dir = scratch("enrol");
    let database = format!("sqlite://{}", dir.join("store.sqlite").display());
    let key = "44".repeat(32);
    let enrol = |username: &str, id: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fengcun"))
            .args([
                "user",
                "enrol-person",
                "--username",
                username,
                "--id-number",
                id,
            ])
            .args([
                "--name",
                "张三",
                "--by",
                "counter-li",
                "--database",
                &database,
            ])
            .current_dir(&dir)
            .env("FENGCUN_MASTER_KEY", &key)
            .env_remove("FENGCUN_MASTER_KEY_FILE")
            .env_remove("FENGCUN_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"zhang-san-long-password\n")
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let enrolled = enrol("zhang-san", "110105199003070025");
    assert!(enrolled.status.success(), "{enrolled:?}");
    for (username, id, field) in [
        ("zhang-san", "110105199003070025", "username"),
        ("li-si", "110105199003070026", "id_number"),
        // A second account for the same person (one identity, two ways into their records).
        (
            "zhang-san-2",
            "110105199003070025",
            "has an account already",
        ),
    ] {
        let refused = enrol(username, id);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            refused.status.code() == Some(1) && said.contains(field),
            "{said}"
        );
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use fengcun_store::prelude::*;
        let keys = fengcun_store::Keys::new(fengcun_crypto::MasterKey::from_hex(&key).unwrap());
        let store = fengcun_store::open(&database, keys).await.unwrap();
        let user = store.user("zhang-san").await.unwrap().unwrap();
        let person_key = store.person_key("id:110105199003070025");
        assert_eq!(
            (
                user.role.as_str(),
                user.requester_kind.map(|k| k.code()),
                user.person_key.as_deref(),
                user.name.as_deref()
            ),
            (
                // A person's account has the role `person` (issue 17; it was a requester of
                // kind person before the portal).
                "person",
                Some("person"),
                Some(person_key.as_str()),
                Some("张三")
            )
        );
        assert!(user.password_hash.starts_with("$argon2id$"));
        let entries = store.audit_entries(0, 100).await.unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(
            (entries[0].kind.as_str(), entries[0].actor.as_str()),
            ("user_changed", "enrolment:counter-li")
        );
        assert!(entries[0].detail.contains(&person_key));
        assert!(!entries[0].detail.contains("110105199003070025"));
    });
}

/// `fengcun demo` prints the console's address and one user per role with a password made for
/// this run: each logs in on the real server; the demo data hold a sealed, an unsealed, a pending
/// and a not-eligible record, and the clerk's request waits for the approver (issue 16, item 4).
#[test]
fn the_demo_prints_console_users_who_log_in() {
    use std::io::BufRead;
    let dir = scratch("demo-console");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run fengcun demo");
    // Stopped however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let _child = Stop(child);
    let mut console = None;
    let mut operator_key = None;
    let mut users: Vec<(String, String, String)> = Vec::new();
    let mut printed = String::new();
    // Read on a thread that drains the stream to its end: a pipe closed early would make the
    // demo's later lines fail (and the demo stop).
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = sender.send(line);
        }
    });
    while let Ok(line) = lines.recv_timeout(std::time::Duration::from_secs(120)) {
        printed.push_str(&line);
        printed.push('\n');
        if let Some(key) = line.strip_prefix("operator key (shown once): ") {
            operator_key = Some(key.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("console: ") {
            console = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if console.is_some() && words.len() >= 4 && words[2] == "password" {
            users.push((words[0].into(), words[1].into(), words[3].into()));
        }
        if line == "try:" {
            break;
        }
    }
    let console = console.unwrap_or_else(|| panic!("no console address in\n{printed}"));
    let base = console
        .strip_suffix("/console/")
        .unwrap_or_else(|| panic!("{console}"))
        .to_owned();
    let operator_key = operator_key.unwrap();
    let roles: Vec<&str> = users.iter().map(|(role, _, _)| role.as_str()).collect();
    assert_eq!(
        roles,
        [
            "clerk",
            "clerk",
            "approver",
            "auditor",
            "operator",
            "administrator",
            "requester",
            "policy_maker",
            "supervisor",
            "person"
        ],
        "{printed}"
    );
    for (_, _, password) in &users {
        assert!(password.len() >= 12, "{printed}");
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        // The console answers at the printed address.
        let page = http.get(&console).send().await.unwrap();
        assert_eq!(page.status(), reqwest::StatusCode::OK);
        assert!(page.text().await.unwrap().contains("登录"));
        // Each printed user logs in with the printed password, in the printed role.
        let mut approver = None;
        for (role, username, password) in &users {
            let response = http
                .post(format!("{base}/api/v1/session"))
                .json(&serde_json::json!({"username": username, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), reqwest::StatusCode::OK, "{username}");
            let cookie = response
                .headers()
                .get("set-cookie")
                .unwrap()
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let who: serde_json::Value = http
                .get(format!("{base}/api/v1/session"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(who["role"], role.as_str(), "{who}");
            if role == "approver" {
                approver = Some(cookie.clone());
            }
            if role == "person" {
                // The demo person (issue 17) owns a sealed and a pending record.
                let mine: serde_json::Value = http
                    .get(format!("{base}/api/v1/me/records"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let mut states: Vec<&str> = mine["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["state"].as_str().unwrap())
                    .collect();
                states.sort_unstable();
                assert_eq!(states, ["pending_seal", "sealed"], "{mine}");
            }
        }
        // A wrong password is refused (the printed ones are not any password).
        let refused = http
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "demo-clerk", "password": "not-the-printed-one"}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
        // The records are in each state the console shows.
        for state in ["sealed", "unsealed", "pending_seal", "not_eligible"] {
            let list: serde_json::Value = http
                .get(format!("{base}/api/v1/records?state={state}"))
                .bearer_auth(&operator_key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let records = list["records"].as_array().unwrap();
            assert!(!records.is_empty(), "no {state} record: {list}");
        }
        // One open request, filed by the demo clerk, waits for the approver.
        let pending: serde_json::Value = http
            .get(format!("{base}/api/v1/requests?status=pending"))
            .header("cookie", approver.unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pending = pending["requests"].as_array().unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0]["requester"], "user:demo-clerk");
        assert_eq!(pending[0]["person"]["id_number"], "110105199003070025");
    });
}

/// Issue 18: `fengcun evaluate --policy cn-public-security-violation` decides violation lines as
/// FORMATS.md says (seal on the decision's effect; not penalised and withdrawn on their
/// disposition; a decision not yet in effect waits for it), and a mixed file of criminal and
/// violation lines is decided under each policy with the kinds kept apart: a criminal preset says
/// a violation line is out of its scope (reason `scope`), and the violation preset a criminal line.
#[test]
fn evaluate_decides_violation_lines_and_keeps_the_kinds_apart() {
    let violation = |id: &str, disposition: &str, decided: &str, effective: Option<&str>| {
        let mut line = serde_json::json!({
            "record_id": id, "kind": "public_security_violation", "case_code": "110105-2026-900012",
            "person": {"id_number": "110105199003070025", "name": "张三", "birth_date": "1990-03-07"},
            "offence_date": "2026-02-10", "violations": [{"name": "殴打他人"}],
            "disposition": disposition, "disposition_date": decided,
        });
        if disposition == "penalized" {
            line["penalty"] = serde_json::json!({"fine_yuan": 500, "detention_days": 10});
            line["decision_effective_date"] = effective.into();
        }
        line.to_string()
    };
    let examples = std::fs::read_to_string(workspace().join("examples/records.ndjson")).unwrap();
    let criminal = examples.lines().next().unwrap();
    let criminal_id = serde_json::from_str::<serde_json::Value>(criminal).unwrap()["record_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mixed = [
        criminal.to_owned(),
        violation("W-1", "penalized", "2026-02-12", Some("2026-02-12")),
        violation("W-2", "not_penalized", "2026-03-01", None),
        violation("W-3", "withdrawn", "2026-03-05", None),
        violation("W-4", "penalized", "2026-05-30", None),
    ]
    .join("\n")
        + "\n";
    let run = |policy: &str| {
        let output = fengcun(
            &["evaluate", "--policy", policy, "--as-of", "2026-06-01", "-"],
            Some(&mixed),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        lines(&output)
    };
    let decided =
        |decisions: &[serde_json::Value], id: &str| -> (String, serde_json::Value, Vec<String>) {
            let d = decisions
                .iter()
                .find(|d| d["record_id"] == id)
                .unwrap_or_else(|| panic!("{id}"));
            let rules = d["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["rule"].as_str().unwrap().to_owned())
                .collect();
            (
                d["outcome"].as_str().unwrap().to_owned(),
                d["effective_date"].clone(),
                rules,
            )
        };
    let under_violation = run("cn-public-security-violation");
    assert_eq!(under_violation.len(), 5);
    #[rustfmt::skip]
    let table: [(&str, &str, serde_json::Value); 4] = [
        ("W-1", "seal", "2026-02-12".into()),
        ("W-2", "seal", "2026-03-01".into()),
        ("W-3", "seal", "2026-03-05".into()),
        // Penalised, the decision not yet in effect: waits for it.
        ("W-4", "seal_later", serde_json::Value::Null),
    ];
    for (id, outcome, date) in table {
        let (got, effective, _) = decided(&under_violation, id);
        assert_eq!((got.as_str(), &effective), (outcome, &date), "{id}");
    }
    let (outcome, effective, rules) = decided(&under_violation, &criminal_id);
    assert_eq!(
        (outcome.as_str(), effective),
        ("not_eligible", serde_json::Value::Null)
    );
    assert_eq!(
        rules,
        ["scope"],
        "a criminal line is out of the violation preset's scope"
    );
    for policy in ["cn-minor-opt1", "cn-juvenile"] {
        let under_criminal = run(policy);
        assert_eq!(under_criminal.len(), 5);
        for id in ["W-1", "W-2", "W-3", "W-4"] {
            let (outcome, effective, rules) = decided(&under_criminal, id);
            assert_eq!(
                (outcome.as_str(), effective, rules),
                (
                    "not_eligible",
                    serde_json::Value::Null,
                    vec!["scope".to_owned()]
                ),
                "{policy} {id}"
            );
        }
        let (outcome, _, rules) = decided(&under_criminal, &criminal_id);
        assert_ne!(rules, ["scope"], "{policy}: {outcome}");
    }
}
