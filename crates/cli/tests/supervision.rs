//! `fengcun audit flags` (docs/supervision.md) on a log with a clerk's run of look-ups that found
//! only a sealed record: the flag named with its rule, subject, period and entries, in text and
//! JSON; `--until` before the run's gap ran out finds nothing yet; `--since` after it leaves it out.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use std::path::Path;
use std::process::{Command, Output};

use fengcun_store::prelude::*;
use fengcun_store::{AuditEvent, AuditKind, Keys};
use serde_json::{Value, json};

fn fengcun(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fengcun"))
        .args(args)
        .current_dir(dir)
        .env_remove("FENGCUN_CONFIG")
        .output()
        .expect("run fengcun")
}

#[tokio::test]
async fn audit_flags_names_the_run_on_demand() {
    let dir = std::env::temp_dir().join(format!("fengcun-cli-flags-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("log.sqlite").display());
    let store = fengcun_store::open(&url, Keys::new(fengcun_crypto::MasterKey::generate()))
        .await
        .unwrap();
    // 2025-03-03 10:00, 10:02, 10:04 in Beijing; one unrelated entry before.
    store
        .audit(
            &[AuditEvent::new(AuditKind::Login, "user:x", "ok")],
            "2025-03-03T01:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap();
    for minute in ["00", "02", "04"] {
        let entry = AuditEvent::new(AuditKind::Lookup, "key:court-1", "no_record")
            .purpose("case_handling")
            .subject("a1b2c3")
            .detail(json!({"by": "id_number", "shown": 0, "withheld": 1, "role": "clerk", "agency": "110105-fy"}));
        store
            .audit(
                &[entry],
                format!("2025-03-03T02:{minute}:00Z").parse().unwrap(),
            )
            .await
            .unwrap();
    }
    drop(store);

    let out = fengcun(
        &dir,
        &[
            "audit",
            "flags",
            "--database",
            &url,
            "--until",
            "2025-03-04",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flags: Value = serde_json::from_slice(&out.stdout).unwrap();
    let flags = flags.as_array().unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    let f = &flags[0];
    assert_eq!(f["rule"], "fishing");
    assert_eq!(f["pattern"], "run");
    assert_eq!(f["subject"], "key:court-1");
    assert_eq!(f["from"], "2025-03-03T02:00:00Z");
    assert_eq!(f["until"], "2025-03-03T02:04:01Z");
    assert_eq!(f["entries"], json!([1, 2, 3]));
    assert_eq!(f["persons"], json!(["a1b2c3"]));
    // Three look-ups, each finding only a sealed record: 3 + 2 × 3.
    assert_eq!(f["score"], 9.0);

    // Before the run's 30 minutes ran out (10:34:01) the run may go on: no flag yet.
    let out = fengcun(
        &dir,
        &[
            "audit",
            "flags",
            "--database",
            &url,
            "--until",
            "2025-03-03T02:30:00Z",
            "--json",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([])
    );
    // Since after the run: left out. The text form names the flag.
    let out = fengcun(
        &dir,
        &[
            "audit",
            "flags",
            "--database",
            &url,
            "--until",
            "2025-03-04",
            "--since",
            "2025-03-04",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0 flags");
    let out = fengcun(
        &dir,
        &[
            "audit",
            "flags",
            "--database",
            &url,
            "--until",
            "2025-03-04",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("1 flags\n") && text.contains("fishing") && text.contains("key:court-1"),
        "{text}"
    );
    // A bad date names the option.
    let out = fengcun(
        &dir,
        &[
            "audit",
            "flags",
            "--database",
            &url,
            "--until",
            "2025-13-01",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--until"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
