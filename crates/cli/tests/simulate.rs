//! `fengcun synth` and `fengcun simulate`, run as a user runs them.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MASTER_KEY: &str = "8f3a1c5e7b9d0f2a4c6e8a0b2d4f6a8c0e2a4b6d8f0a2c4e6b8d0f2a4c6e8a0b";

fn fengcun(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fengcun"));
    command.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("FENGCUN_") {
            command.env_remove(name);
        }
    }
    command.env("FENGCUN_MASTER_KEY", MASTER_KEY);
    command.output().expect("run fengcun")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fengcun-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn synth(dir: &Path, records: &str, seed: &str) {
    let out = fengcun(&[
        "synth",
        "--records",
        records,
        "--seed",
        seed,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("已生成 {records} 条记录")),
        "{stdout}"
    );
}

#[test]
fn synthetic_events_import_without_a_single_error() {
    let dir = temp_dir("import");
    synth(&dir, "1000", "3");
    let events = dir.join("events.ndjson");
    let lines = std::fs::read_to_string(&events).unwrap().lines().count();
    assert!(lines > 3000, "{lines} events for 1000 records");
    let db = format!("sqlite://{}", dir.join("db.sqlite").display());
    let out = fengcun(&[
        "import",
        events.to_str().unwrap(),
        "--database",
        &db,
        "--batch",
        "5000",
        "--now",
        "2025-07-01T00:00:00Z",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{lines} lines: {lines} stored, 0 duplicates, 0 errors"
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn simulate_compares_policies_writes_csv_and_svg_and_equals_evaluate() {
    let dir = temp_dir("compare");
    synth(&dir, "5000", "9");
    let records = dir.join("records.ndjson");
    let out_dir = dir.join("report");
    let out = fengcun(&[
        "simulate",
        "--policy",
        "cn-minor-opt2",
        "--policy",
        "cn-minor-opt3",
        "--as-of",
        "2025-06-30",
        "--json",
        "--out",
        out_dir.to_str().unwrap(),
        records.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policies = json["policies"].as_array().unwrap();
    // The juvenile statute, in force beside every criminal policy, is compared too (and said so).
    assert_eq!(policies.len(), 3);
    assert_eq!(policies[0]["name"], "cn-minor-opt2");
    assert_eq!(policies[2]["name"], "cn-juvenile");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cn-juvenile 与各犯罪记录政策一并比较"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(policies[2]["with_statute"], serde_json::Value::Null);
    for p in &policies[..2] {
        let beside = &p["with_statute"];
        assert_eq!(beside["statute"], "cn-juvenile");
        let (alone, with) = (
            p["sealed"].as_u64().unwrap(),
            beside["sealed"].as_u64().unwrap(),
        );
        let only = beside["by_statute_only"].as_u64().unwrap();
        assert_eq!(with, alone + only, "{p}");
    }
    let opt2 = policies[0]["sealed"].as_u64().unwrap();
    let opt3 = policies[1]["sealed"].as_u64().unwrap();
    let convicted = policies[0]["convicted"].as_u64().unwrap();
    assert!(opt3 < opt2 && opt2 < convicted, "{opt3} {opt2} {convicted}");
    let share = policies[0]["share"].as_f64().unwrap();
    assert!((share - 100.0 * opt2 as f64 / convicted as f64).abs() < 1e-9);
    // Option 3 seals nobody that option 2 does not.
    let diff = &json["differences"][0];
    assert_eq!(diff["only_b"], 0);
    assert_eq!(diff["only_a"].as_u64().unwrap(), opt2 - opt3);
    for file in [
        "policies.csv",
        "by-band.csv",
        "by-charge.csv",
        "by-reason.csv",
        "differences.csv",
    ] {
        let text = std::fs::read_to_string(out_dir.join(file)).unwrap();
        assert!(text.lines().count() >= 2, "{file}: {text}");
    }
    // Why not sealed: what the failing rule says of the records it excludes, not its title
    // (which states what holds).
    let reasons = std::fs::read_to_string(out_dir.join("by-reason.csv")).unwrap();
    assert!(
        reasons.starts_with("policy,rule,title,convicted,fails\n"),
        "{reasons}"
    );
    let first_offender = json["by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "first_offender")
        .expect("some excluded as not first offenders");
    assert_ne!(
        first_offender["fails"], first_offender["title"],
        "{first_offender}"
    );
    let svg = std::fs::read_to_string(out_dir.join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("拘役") && svg.contains("cn-minor-opt3"));

    // The same counts as `fengcun evaluate`, decision by decision.
    let evaluated = fengcun(&[
        "evaluate",
        "--policy",
        "cn-minor-opt2",
        "--as-of",
        "2025-06-30",
        records.to_str().unwrap(),
    ]);
    assert!(evaluated.status.success());
    let facts = std::fs::read_to_string(&records).unwrap();
    let mut sealed = 0;
    for (decision, line) in String::from_utf8_lossy(&evaluated.stdout)
        .lines()
        .zip(facts.lines())
    {
        let decision: serde_json::Value = serde_json::from_str(decision).unwrap();
        let fact: serde_json::Value = serde_json::from_str(line).unwrap();
        if fact["disposition"] == "convicted"
            && matches!(decision["outcome"].as_str(), Some("seal" | "seal_later"))
        {
            sealed += 1;
        }
    }
    assert_eq!(sealed, opt2);

    // The table is in Chinese.
    let out = fengcun(&[
        "simulate",
        "--policy",
        "cn-minor-opt1",
        "--as-of",
        "2025-06-30",
        "--out",
        out_dir.to_str().unwrap(),
        records.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("各政策封存覆盖面") && text.contains("按宣告刑分档"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_line_is_named_with_its_field_and_fails_the_run() {
    let dir = temp_dir("bad");
    let file = dir.join("bad.ndjson");
    std::fs::write(
        &file,
        "{\"record_id\":\"A\",\"disposition\":\"convicted\",\"charges\":[{\"name\":\"危险驾驶罪\"}],\"sentence\":{\"principal\":\"criminal_detention\",\"months\":2},\"recidivist\":false,\"prior_convictions\":0}\n\
         {\"record_id\":\"B\",\"disposition\":\"convicted\",\"charges\":[{\"name\":\"危险驾驶罪\"}],\"sentence\":{\"principal\":\"criminal_detention\",\"months\":7}}\n",
    )
    .unwrap();
    let out = fengcun(&[
        "simulate",
        "--policy",
        "cn-minor-opt1",
        "--as-of",
        "2025-06-30",
        "--json",
        "--out",
        dir.join("r").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.ndjson:2:") && stderr.contains("sentence.months"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["policies"][0]["convicted"], 1);
    assert_eq!(json["policies"][0]["sealed"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two policies of one name cannot be told apart in any table or file: refused, naming it.
#[test]
fn the_same_policy_twice_is_refused() {
    let dir = temp_dir("twice");
    synth(&dir, "1000", "3");
    let out = fengcun(&[
        "simulate",
        "--policy",
        "cn-minor-opt1",
        "--policy",
        "cn-minor-opt1",
        "--out",
        dir.join("report").to_str().unwrap(),
        dir.join("records.ndjson").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--policy: `cn-minor-opt1` is given twice"),
        "{stderr}"
    );
}
